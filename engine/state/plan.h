// Plan: a deployed process as the runtime runs it, precomputed once per version so that moving a
// token never searches the definition.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ordo/definition.h"

namespace ordo::state {

struct Plan {
  std::shared_ptr<const BpmnDocument> document;  // keeps the definition alive
  std::shared_ptr<const ProcessDefinition> definition;
  const ProcessDefinition* def = nullptr;  // == definition.get()
  int version = 0;
  std::string content_hash;

  // Per scope (an element index, or scope_slot(kNoIndex) for the process): its none start
  // event, its event subprocesses, its link catch events.
  std::vector<ElementIndex> none_start;
  std::vector<std::vector<ElementIndex>> event_subprocesses;
  std::vector<std::vector<ElementIndex>> link_catches;
  // Per event subprocess: its start event.
  std::vector<ElementIndex> event_sub_start;
  // Per element: processes-level message start event? (for correlation)
  std::vector<ElementIndex> message_starts;  // process-level message start events
  std::vector<ElementIndex> signal_starts;   // process-level signal start events
  std::vector<ElementIndex> timer_starts;    // process-level timer start events
  std::vector<ElementIndex> conditional_starts;  // process-level conditional start events
  // Per flow: its position in the target's incoming list (join bookkeeping).
  std::vector<std::uint16_t> incoming_slot;
  // Per inclusive gateway with several incoming flows: which elements of its scope can reach
  // it without passing through it (indexed by element). Empty for other elements.
  std::vector<std::vector<bool>> reaches_join;
  bool has_inclusive_joins = false;
  // Compensation. Per element: whether a completion of it is remembered for compensation (it
  // has a compensation handler, or is a subprocess with a compensation event subprocess or
  // with such activities inside); per subprocess: its compensation event subprocess.
  std::vector<bool> keeps_compensation;
  std::vector<ElementIndex> compensation_sub;
  bool has_compensation = false;

  std::size_t scope_slot(ElementIndex scope) const noexcept {
    return scope == kNoIndex ? def->elements.size() : scope;
  }
  const Element& element(ElementIndex i) const noexcept { return def->elements[i]; }
  const SequenceFlow& flow(FlowIndex i) const noexcept { return def->flows[i]; }
};

std::shared_ptr<const Plan> make_plan(std::shared_ptr<const BpmnDocument> document,
                                      std::shared_ptr<const ProcessDefinition> definition,
                                      int version, std::string content_hash);

}  // namespace ordo::state
