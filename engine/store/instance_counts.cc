#include "store/instance_counts.h"

#include <algorithm>

#include "state/plan.h"

namespace ordo::store {

std::string end_event_id(const state::Instance& inst, ElementIndex end_event) {
  return end_event == kNoIndex ? std::string() : inst.plan->element(end_event).id;
}

void CountDeltas::writing(const state::Instance& inst) {
  const bool is_new = inst.rev == 0;
  const int version = inst.plan->version;
  if (!is_new && inst.state == inst.stored_state && inst.end_event == inst.stored_end_event &&
      version == inst.stored_version) {
    return;
  }
  const std::string& process = inst.plan->def->id;
  if (is_new) ++minutes_[MinuteKey{process, minute_start(inst.started_ms)}].started;
  const bool was_finished = !is_new && (inst.stored_state == InstanceState::kCompleted ||
                                        inst.stored_state == InstanceState::kTerminated);
  if (!was_finished && inst.finished()) {
    MinuteDelta& m = minutes_[MinuteKey{process, minute_start(inst.ended_ms)}];
    if (inst.state == InstanceState::kCompleted) {
      ++m.completed;
      ++cycles_[CycleKey{process, end_event_id(inst, inst.end_event), minute_start(inst.ended_ms),
                         cycle_bucket(inst.ended_ms - inst.started_ms)}];
    } else {
      ++m.terminated;
    }
  }
  if (!is_new) {
    // (A migrated instance's stored end event is none: it runs.)
    --deltas_[Key{process, inst.stored_version, inst.stored_state,
                  end_event_id(inst, inst.stored_end_event)}];
  }
  ++deltas_[Key{process, version, inst.state, end_event_id(inst, inst.end_event)}];
}

Status CountDeltas::flush_minutes(const AddMinutes& add) {
  if (minutes_.empty() && cycles_.empty()) return Status::ok();
  std::int64_t newest = 0;
  for (const auto& [key, d] : minutes_) newest = std::max(newest, key.second);
  std::int64_t prune_before = 0;
  if (newest - pruned_at_ >= 60 * 60 * 1000LL) {
    prune_before = newest - kKeptMinutesMs;
    pruned_at_ = newest;
  }
  Status s = add(MinuteChanges{minutes_, cycles_, prune_before});
  minutes_.clear();
  cycles_.clear();
  if (!s) pruned_at_ = 0;  // the prune was rolled back with the rest
  return s;
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

void ElementDeltas::events(const std::vector<HistoryEvent>& events,
                           const std::vector<state::Instance*>& instances) {
  const state::Instance* of = nullptr;
  for (const HistoryEvent& e : events) {
    if (e.element_id.empty()) continue;
    if (of == nullptr || of->id != e.instance) {
      // A command's events come instance by instance, mostly: a short search each time.
      auto it = std::find_if(instances.begin(), instances.end(),
                             [&](const state::Instance* i) { return i->id == e.instance; });
      if (it == instances.end()) continue;
      of = *it;
    }
    event(e, of->plan->def->id, of->plan->version);
  }
}

void ElementDeltas::event(const HistoryEvent& e, std::string_view process, int version) {
  if (e.element_id.empty()) return;
  switch (e.kind) {
    case HistoryKind::kElementActivated:
      ++deltas_[Key{process, version, e.element_id}].active;
      break;
    case HistoryKind::kElementCompleted: {
      Delta& d = deltas_[Key{process, version, e.element_id}];
      --d.active;
      ++d.completed;
      if (e.active_ms >= 0) {
        d.time_ms += e.active_ms;
        ++d.timed;
      }
      break;
    }
    case HistoryKind::kElementTerminated: {
      Delta& d = deltas_[Key{process, version, e.element_id}];
      --d.active;
      ++d.terminated;
      break;
    }
    case HistoryKind::kElementMigrated:
      // The token waits at the target's element now, no longer at the source's.
      moved_from_.push_back(e.detail);
      --deltas_[Key{process, static_cast<int>(e.value), moved_from_.back()}].active;
      ++deltas_[Key{process, version, e.element_id}].active;
      break;
    default:
      break;
  }
}

Status ElementDeltas::flush(const Add& add) {
  std::erase_if(deltas_, [](const auto& kv) {
    const Delta& d = kv.second;
    return d.active == 0 && d.completed == 0 && d.terminated == 0 && d.timed == 0;
  });
  if (deltas_.empty()) {
    moved_from_.clear();
    return Status::ok();
  }
  Status s = add(deltas_);
  clear();
  return s;
}

void add_incidents(std::vector<ElementStatistics>& stats, std::string_view element_id,
                   std::int64_t n) {
  auto it = std::lower_bound(stats.begin(), stats.end(), element_id,
                             [](const ElementStatistics& s, std::string_view id) {
                               return s.element_id < id;
                             });
  if (it == stats.end() || it->element_id != element_id) {
    it = stats.insert(it, ElementStatistics{.element_id = std::string(element_id)});
  }
  it->incidents += n;
}

}  // namespace ordo::store
