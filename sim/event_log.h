// The replay's event log (docs/simulation.md#the-event-log): one case per order, as CSV or
// as XES (IEEE 1849-2016) with the concept, time and lifecycle extensions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ordo/definition.h"

namespace ordo::sim {

enum class EventLogFormat : std::uint8_t { kCsv, kXes };

// One element instance of a case: a flow node other than a gateway.
struct LogRow {
  std::uint32_t element = 0;
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
  bool ended = false;       // false: still active when the replay stopped following the case
  bool terminated = false;  // ended without completing (an interrupting event, a cancel)
};

// Appends "2026-09-01T10:00:00.000Z".
void append_timestamp(std::string& out, std::int64_t epoch_ms);

// What starts and ends the file. `name` names the log (the variant).
std::string event_log_header(EventLogFormat format, std::string_view name);
std::string event_log_footer(EventLogFormat format);

// Writes the cases of one process's log. What a row says of its element (activity name, id,
// adapter, escaped) is worked out once, when the writer is made.
class CaseWriter {
 public:
  CaseWriter(EventLogFormat format, const ProcessDefinition& definition);

  // Appends one case: CSV rows (case_id, activity, activity_id, start_time, end_time,
  // lifecycle, adapter) in activation order, or one XES <trace> with a start and an end
  // event per activity (one event for an event that took no time), in time order.
  void append(std::string& out, std::string_view case_id, std::span<const LogRow> rows) const;

 private:
  EventLogFormat format_;
  const ProcessDefinition& def_;
  std::vector<std::string> csv_element_;  // per element: "activity,activity_id,"
  std::vector<std::string> csv_adapter_;  // per element: "adapter\n"
};

}  // namespace ordo::sim
