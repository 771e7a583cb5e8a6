#include "store/instance_counts.h"

#include "state/plan.h"

namespace ordo::store {

std::string end_event_id(const state::Instance& inst, ElementIndex end_event) {
  return end_event == kNoIndex ? std::string() : inst.plan->element(end_event).id;
}

void CountDeltas::writing(const state::Instance& inst) {
  const bool is_new = inst.rev == 0;
  if (!is_new && inst.state == inst.stored_state && inst.end_event == inst.stored_end_event) {
    return;
  }
  const std::string& process = inst.plan->def->id;
  const int version = inst.plan->version;
  if (!is_new) {
    --deltas_[Key{process, version, inst.stored_state, end_event_id(inst, inst.stored_end_event)}];
  }
  ++deltas_[Key{process, version, inst.state, end_event_id(inst, inst.end_event)}];
}

Status CountDeltas::flush(const Add& add) {
  for (const auto& [key, delta] : deltas_) {
    if (delta == 0) continue;
    const auto& [process, version, state, end_event] = key;
    if (Status s = add(process, version, to_string(state), end_event, delta); !s) return s;
  }
  deltas_.clear();
  return Status::ok();
}

}  // namespace ordo::store
