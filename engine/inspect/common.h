// Helpers shared by the outline views.
#pragma once

#include <string>
#include <vector>

#include "ordo/definition.h"

namespace ordo::inspect {

// The elements directly in `scope`, in the order a reader follows them: breadth-first from the
// start events along sequence flows, boundary events right after their activity, event
// subprocesses after the rest, anything unreachable last in document order.
std::vector<ElementIndex> reading_order(const ProcessDefinition& p, ElementIndex scope);

// One line about what an event waits for or throws, e.g. "message order-delivered, key =orderId";
// empty for none events.
std::string event_summary(const Element& e);

// Every task type, message name, error code and timer of `p`, deduplicated, in reading order.
struct ProcessSummary {
  std::vector<std::string> task_types;
  std::vector<std::string> messages;
  std::vector<std::string> errors;
  std::vector<std::string> timers;
};
ProcessSummary summarize(const ProcessDefinition& p);

}  // namespace ordo::inspect
