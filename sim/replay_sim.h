// One variant's replay on one lane: an Engine on a virtual clock whose jobs are answered by
// the config's simulated adapters after their latency, an agenda of what happens next, and
// an observer that follows an order from start to end and hands it to the statistics (and
// the event log) when it ends. The lane thread drives it; nothing here is shared.
//
// Orders do not share anything in the simulated world (no stock levels, no queues for
// resources), so each is followed on its own: the clock is set to its recorded start, and
// runs through its timers, latencies and messages until it ends or its horizon passes; then
// the next order starts at its own time. The engine holds one order at a time, which keeps
// it small and fast, and the result of an order cannot depend on which others share the
// lane.
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/clock.h"
#include "ordo/engine.h"
#include "ordo/sim/order_log.h"
#include "ordo/observer.h"
#include "ordo/sim/replay.h"
#include "sim/event_log.h"
#include "sim/replay_config.h"
#include "sim/replay_stats.h"

namespace ordo::sim {

class Random;  // sim/random.h

// One order record, replayed by each variant of its lane in turn. `line` (where it starts
// in the order log) is also its random stream.
struct ReplayRecord : OrderRecord {
  std::int64_t start_ms = 0;
  std::string order_id;
  std::uint64_t partition = 0;  // stable_hash of its partition field (or id): picks its lane
  // From CSV, the record travels to its lane as cells, one block, and `fields` is filled on
  // the lane, in an object of the lane's own: the map's nodes are not passed between cores.
  OrderLogCells cells;
};

// Records go back to the reader once their lane is done with them, to be read into again:
// their fields keep their map nodes and buffers, and no record is freed on a thread other
// than the one that made it. A record handed out again has the fields of an earlier one.
class RecordPool {
 public:
  std::unique_ptr<ReplayRecord> take();
  void give(std::vector<std::unique_ptr<ReplayRecord>>& records);  // empties `records`

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<ReplayRecord>> shared_;  // given back, under mu_
  std::vector<std::unique_ptr<ReplayRecord>> local_;   // the reader's own, no lock
};

// The variables an order starts with: the config's start.variables over the record, or the
// record itself. Errors name the key.
Result<nlohmann::json> start_variables(const ReplayConfig& config, const ReplayRecord& record);

// Bad records found while replaying: all counted, the first 100 by line kept.
class BadRecords {
 public:
  void add(std::int64_t line, std::string message);
  std::int64_t count() const;
  std::vector<std::pair<std::int64_t, std::string>> first() const;  // by line
  // The smallest line found bad so far (INT64_MAX: none). A run that stops at bad records
  // still replays every record before that line, so the one it names is the first bad one
  // in the file, whatever the threads.
  std::int64_t smallest() const noexcept { return smallest_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::int64_t> smallest_{INT64_MAX};
  mutable std::mutex mu_;
  std::int64_t count_ = 0;
  std::vector<std::pair<std::int64_t, std::string>> kept_;
};

// Order ids the reader has seen, to find a record that repeats one (an order exported twice):
// replayed again, the order would count twice in every KPI. Keeps a 64-bit hash of each id
// and the line of its first record, about 40 bytes an order, not the ids themselves; two
// different ids share a hash with a chance of about n^2 / 2^65 (one in 300,000 for ten
// million orders). Used by the reading thread only.
class DuplicateOrders {
 public:
  struct Repeat {
    std::int64_t line;
    std::string order_id;
    std::int64_t first_line;  // of the first record with this id
  };
  // Whether a record with `order_id` came before (then this one at `line` is counted, and
  // kept among the first 100); otherwise this one is remembered as the first.
  bool repeats(std::string_view order_id, std::int64_t line);
  std::int64_t count() const noexcept { return count_; }
  const std::vector<Repeat>& first() const noexcept { return kept_; }  // by line

 private:
  std::unordered_map<std::uint64_t, std::int64_t> first_line_;
  std::int64_t count_ = 0;
  std::vector<Repeat> kept_;
};

// A variant, loaded once and shared (read-only) by every lane.
struct ReplayVariant {
  std::string name;  // the file's stem
  std::string file;
  std::shared_ptr<const BpmnDocument> document;
  const ProcessDefinition* def = nullptr;
  // Element ids as the engine's jobs point at them -> index (history events carry theirs).
  std::unordered_map<const char*, std::uint32_t> element_at;
  std::vector<int> milestone_of;     // per element: the milestone it marks, or -1
  std::vector<std::uint8_t> logged;  // per element: goes into the event log / path
  const ReplayNotifications* notifications = nullptr;  // the real rules, when given
};

// A clock the lane sets to each order's time, forwards and (between orders) backwards.
class ReplayClock final : public Clock {
 public:
  std::int64_t now_ms() const noexcept override { return now_; }
  void set(std::int64_t ms) noexcept { now_ = ms; }

 private:
  std::int64_t now_ = 0;
};

struct ReplayShared {
  const ReplayConfig* config = nullptr;
  // DMN models deployed beside each variant, each loaded once.
  std::vector<std::shared_ptr<const DecisionModel>> decisions;
  std::uint64_t seed = 1;
  std::string order_log_name;
  bool log_events = false;
  EventLogFormat log_format = EventLogFormat::kCsv;
};

class ReplaySim final : public Observer {
 public:
  ReplaySim(const ReplayVariant& variant, const ReplayShared& shared);
  ~ReplaySim() override;
  ReplaySim(const ReplaySim&) = delete;
  ReplaySim& operator=(const ReplaySim&) = delete;

  Status init();
  // Replays an order with these variables, from its start to its end or its horizon. False
  // when its record turned out bad (error() says why). Its outcome counts only once the lane
  // commits it (every variant replayed the record): commit() or discard() follows.
  bool replay(const ReplayRecord& record, nlohmann::json variables);
  const std::string& error() const noexcept { return error_; }
  void commit();
  void discard();
  // After the last order: the event log is complete.
  void drain();

  const VariantStats& stats() const { return stats_; }
  // The event log so far, cases in the order they started: [start][line][length][bytes],
  // sorted by (start, line). Rewound for reading once drained.
  std::FILE* spill() { return spill_; }

  void on_event(const HistoryEvent& event) override;

 private:
  struct Track;
  struct Action;
  // The agenda: a heap of small entries pointing at actions kept in slots (so the heap moves
  // 24 bytes, not a message).
  struct Due {
    std::int64_t time;
    std::uint64_t seq;
    std::uint32_t slot;
  };
  struct ElementCache;
  // Answering jobs (sim/replay_answer.cc).
  JobOutcome handle(const Job& job);
  JobOutcome respond(const Job& job, Track& track);
  ElementCache* element_cache(const Job& job);
  // Schedules the messages `chosen` publishes some time after now.
  Status publish_later(const OutcomeSpec& chosen, Track& track, const expr::Variables& vars,
                       Random& random, std::int64_t now);
  void apply(Action& action);
  void deadline(std::uint64_t track);
  // Actions are built in their slot, which keeps the buffers of the last action there.
  // (A deque: taking a slot leaves references to the others valid.)
  std::uint32_t take_slot();
  void release_slot(std::uint32_t slot) { free_slots_.push_back(slot); }
  void schedule(std::int64_t time, std::uint32_t slot);
  Track* track_of(InstanceId instance) const;
  void bind(InstanceId instance, Track* track);
  // The order ended (outcome.completed says whether at an end event) or reached its horizon.
  void finalize(Track& track, std::string bucket);
  void fail_record(Track& track, const std::string& message);
  void sweep();

  const ReplayVariant& variant_;
  const ReplayShared& shared_;
  std::shared_ptr<ReplayClock> clock_;
  std::unique_ptr<Engine> engine_;
  VariantStats stats_;
  std::vector<Due> agenda_;  // a heap: earliest first
  std::deque<Action> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::uint64_t seq_ = 0;
  // An order at a time (two while one is swept): small vectors beat hash maps here.
  std::vector<std::unique_ptr<Track>> tracks_;
  std::vector<std::pair<InstanceId, Track*>> by_instance_;
  Track* find_track(std::uint64_t id) const;
  std::vector<Track*> done_;
  Track* starting_ = nullptr;
  std::uint64_t next_track_ = 1;
  std::unique_ptr<CaseWriter> case_writer_;  // with an event log
  std::FILE* spill_ = nullptr;
  std::vector<char> spill_buffer_;  // declared after spill_: the file is closed first
  // The last order, until the lane commits or discards it.
  // (Swapped with the order's track, so both keep their vectors' capacity: the hot path
  // allocates little once the first orders have run.)
  OrderOutcome outcome_;
  bool has_outcome_ = false;
  std::int64_t outcome_line_ = 0;
  std::unique_ptr<Track> spare_;  // the last order's track, to reuse
  std::string chunk_;
  std::string error_;
  ReplayNotificationHandlers rules_;  // with ReplayVariant::notifications
  std::string last_order_;            // the order replay() last started (with the rules)
  struct ElementCache {
    bool ready = false;
    const TaskSpec* spec = nullptr;
    std::uint64_t stream = 0;
    nlohmann::json job;  // what `job` says, but for the attempt
  };
  std::vector<ElementCache> element_cache_;  // by element index
};

// An order being replayed: its instances, what is open, what it has done so far.
struct ReplaySim::Track {
  std::uint64_t id = 0;
  const ReplayRecord* record = nullptr;  // the lane's, while the order is replayed
  InstanceId root = 0;
  std::vector<InstanceId> instances;
  bool finished = false;
  bool failed = false;  // a bad record: dropped, not counted
  OrderOutcome outcome;
  struct Open {
    std::uint64_t key;
    std::uint32_t element;
    std::int64_t start_ms;
    std::int64_t processing_ms;
    std::uint32_t row;  // in `rows`, or UINT32_MAX
    bool body;          // a multi-instance activity as a whole (its instances are entries too)
  };
  std::vector<Open> open;
  std::vector<std::pair<JobKey, std::uint64_t>> jobs;  // job -> its element instance's key
  std::vector<LogRow> rows;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> occurrences;  // task stream -> jobs

  // Empties it for the next order, keeping what its vectors have allocated.
  void reset() {
    record = nullptr;
    root = 0;
    instances.clear();
    finished = failed = false;
    outcome.bucket.clear();
    outcome.started_ms = outcome.ended_ms = outcome.finalized_ms = 0;
    outcome.completed = false;
    outcome.milestone_ms.clear();
    outcome.elements.clear();
    outcome.flows.clear();
    outcome.path.clear();
    outcome.activities.clear();
    outcome.notifications.clear();
    outcome.incidents.clear();
    open.clear();
    jobs.clear();
    rows.clear();
    occurrences.clear();
  }

  std::uint32_t occurrence(std::uint64_t stream) {
    for (auto& [s, n] : occurrences) {
      if (s == stream) return n++;
    }
    occurrences.emplace_back(stream, 1);
    return 0;
  }
};

// Something the replay does at a time of its own: answer a job, publish a message, give up
// on an order.
struct ReplaySim::Action {
  enum class Kind : std::uint8_t { kAnswer, kPublish, kAbandon };
  Kind kind = Kind::kAnswer;
  std::uint64_t track = 0;
  JobKey job = 0;
  std::int64_t latency_ms = 0;
  std::optional<JobOutcome> outcome;
  std::optional<OrderOutcome::Note> note;  // a notification, sent when the job completes
  Message message;
};

}  // namespace ordo::sim
