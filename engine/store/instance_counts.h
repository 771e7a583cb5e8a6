// Instances counted by process, version, state and end event, kept as the instances are
// written (table instance_counts, in the same transaction), so that counting them
// (Store::count_instances: the console's Processes page, /metrics) reads a few rows rather
// than every instance. Written once for both SQL stores.
#pragma once

#include <cstdint>
#include <functional>
#include <deque>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "ordo/element_statistics.h"
#include "ordo/history.h"
#include "ordo/status.h"
#include "ordo/throughput.h"
#include "state/records.h"

namespace ordo::store {

class CountDeltas {
 public:
  // Instance `inst` is about to be written (inserted when its rev is 0, else updated): what
  // it changes in the counts, from what was stored (Instance::stored_state and
  // stored_end_event) to what it is now.
  void writing(const state::Instance& inst);
  // Applies the transaction's changes with `add(process, version, state, end_event, delta)`
  // (changes that cancel out are left out), then forgets them.
  using Add = std::function<Status(const std::string& process, int version,
                                   std::string_view state, const std::string& end_event,
                                   std::int64_t delta)>;
  Status flush(const Add& add);
  void clear() noexcept {
    deltas_.clear();
    minutes_.clear();
    cycles_.clear();
  }

  // From the same writes: instances started and ended per minute (table instance_minutes)
  // and the histogram of their cycle times per end event (cycle_times), for the dashboard.
  struct MinuteDelta {
    std::int64_t started = 0, completed = 0, terminated = 0;
  };
  using MinuteKey = std::pair<std::string, std::int64_t>;  // process, minute start (ms)
  using CycleKey = std::tuple<std::string, std::string, std::int64_t, int>;  // + end event, bucket
  struct MinuteChanges {
    const std::map<MinuteKey, MinuteDelta>& minutes;
    const std::map<CycleKey, std::int64_t>& cycles;
    // Rows of minutes before this are dropped (0: not this time). Once an hour of the
    // engine's clock, what is older than kKeptMinutesMs goes.
    std::int64_t prune_before = 0;
  };
  static constexpr std::int64_t kKeptMinutesMs = 24 * 60 * 60 * 1000LL;
  using AddMinutes = std::function<Status(const MinuteChanges& changes)>;
  Status flush_minutes(const AddMinutes& add);

 private:
  using Key = std::tuple<std::string, int, InstanceState, std::string>;
  std::map<Key, std::int64_t> deltas_;
  std::map<MinuteKey, MinuteDelta> minutes_;
  std::map<CycleKey, std::int64_t> cycles_;
  std::int64_t pruned_at_ = 0;  // the minute of the last prune
};

// What a transaction changes in the element statistics (table element_stats, kept like
// instance_counts): counted from its history events, so a store without them (recording
// off) keeps none.
class ElementDeltas {
 public:
  struct Delta {
    std::int64_t active = 0, completed = 0, terminated = 0, time_ms = 0, timed = 0;
  };
  // A transaction writes `events`, of (some of) `instances`.
  void events(const std::vector<HistoryEvent>& events,
              const std::vector<state::Instance*>& instances);
  // Applies the transaction's changes with `add` (an element whose changes cancel out is left
  // out), in key order, then forgets them.
  // Process and element id point into the deployed plan (alive as long as the engine): no
  // copy per event.
  using Key = std::tuple<std::string_view, int, std::string_view>;
  using Add = std::function<Status(const std::map<Key, Delta>& deltas)>;
  Status flush(const Add& add);
  void clear() noexcept {
    deltas_.clear();
    moved_from_.clear();
  }

 private:
  void event(const HistoryEvent& e, std::string_view process, int version);

  std::map<Key, Delta> deltas_;
  // The source element ids of migrated tokens (an event's detail, not the plan's): kept here
  // for the keys that point into them until the flush.
  std::deque<std::string> moved_from_;
};

// Adds `n` open incidents at `element_id` to `stats`, sorted by element id (a row of its own
// when the element has no statistics yet: a start event's incident, say).
void add_incidents(std::vector<ElementStatistics>& stats, std::string_view element_id,
                   std::int64_t n);

// The end event id an instance has stored ("" when none): what the counts are keyed by.
std::string end_event_id(const state::Instance& inst, ElementIndex end_event);

}  // namespace ordo::store
