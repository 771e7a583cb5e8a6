// Engine::Impl: what the files of the facade share (engine.cc and facade/). Internal to the
// engine: the public API is include/ordo/engine.h.
//
//   engine.cc                construction, commands (start, messages, cancel, ...), observers
//   facade/executor.cc       handing jobs to handlers: run_until_idle(), work(), group commit
//   facade/deployments.cc    deploying, and finding the version a command names
//   facade/workers.cc        external workers (fetch and lock, answers) and worker identity
//   facade/reads.cc          reading state: instances, jobs, incidents, history, counts
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "ordo/engine.h"
#include "ordo/loader.h"
#include "state/plan.h"
#include "runtime/runtime.h"
#include "store/store.h"
#include "util/string_hash.h"

namespace ordo {
namespace facade {

class JobSnapshot;  // a job as a handler thread sees it (executor.cc)

// This process's name in job locks: "host:pid:random@pid-namespace" (workers.cc).
std::string default_worker_id();



// Rolls an open group back unless it was ended: an exception inside a group must not leave
// the runtime in group mode (every later command would then go uncommitted).
class GroupGuard {
 public:
  explicit GroupGuard(runtime::Runtime& rt) : rt_(rt) {}
  ~GroupGuard() {
    if (!ended_) rt_.abort_group();
  }
  GroupGuard(const GroupGuard&) = delete;
  GroupGuard& operator=(const GroupGuard&) = delete;
  Status end() {
    ended_ = true;
    return rt_.end_group();
  }

 private:
  runtime::Runtime& rt_;
  bool ended_ = false;
};

}  // namespace facade

using facade::default_worker_id;
using facade::GroupGuard;
using facade::JobSnapshot;
using util::StringHash;


class Engine::Impl {
 public:
  // `stored`: where the state lives (a MemoryStore, or a database from Engine::open).
  Impl(EngineOptions o, std::unique_ptr<store::Store> stored)
      : options(std::move(o)),
        clock(options.clock ? options.clock : std::make_shared<SystemClock>()),
        store(std::move(stored)),
        rt(runtime_options(options, store->shared()), *clock, *store) {
    // A shared store keeps every event with its detail (others read them); otherwise only
    // when asked.
    rt.set_recording(options.keep_history || store->shared());
    // Where nobody else takes jobs, run_until_idle() hands out the jobs commands made ready
    // as they come; on a shared store, workers acquire (lock) them first.
    rt.track_ready(!store->shared());
    if (options.worker_id.empty()) options.worker_id = default_worker_id();
        // A lock this engine's own handlers take (JobOutcome::pending) runs out only where
    // another process could take the job over; otherwise it lasts until the job is answered.
    constexpr std::int64_t kUntilAnswered = std::int64_t{1} << 62;
    rt.set_lock(options.worker_id, store->shared() ? options.job_lock_ms : kUntilAnswered);
    rt.set_plan_source([this](std::string_view process_id, int version) {
      return load_plan(process_id, version);
    });
    rt.set_decision_lookup([this](std::string_view id) { return decision(id); });
  }

  static runtime::RuntimeOptions runtime_options(const EngineOptions& o, bool shared) {
    runtime::RuntimeOptions r;
    r.default_job_retries = o.default_job_retries;
    r.max_steps_per_command = o.max_steps_per_command;
    r.max_call_depth = o.max_call_depth;
    r.max_multi_instance = o.max_multi_instance;
    r.multi_instance_batch = std::max<std::uint32_t>(1, o.multi_instance_batch);
    r.retry_backoff_ms = o.retry_backoff_ms;
    r.retry_backoff_max_ms = o.retry_backoff_max_ms;
    r.history_details = o.history_details || shared;
    return r;
  }

  EngineOptions options;
  std::shared_ptr<Clock> clock;
  std::unique_ptr<store::Store> store;
  runtime::Runtime rt;
  std::unordered_map<std::string, TaskHandler, StringHash, std::equal_to<>> handlers;
  TaskHandler fallback;

  // ---- one call at a time (engine.cc) ----
  //
  // The engine lock: every public call holds it (Call), so one command or read runs
  // at a time whichever thread calls. work() and run_until_idle() on a shared store let go
  // of it while handlers run. Observers are called outside it, one thread at a time, in
  // sequence order, so an observer may read the engine.
  std::mutex engine_mu;
  // Events committed and not yet handed to the observers.
  std::mutex events_mu;
  std::vector<HistoryEvent> undelivered;
  bool delivering_now = false;  // a thread is calling observers (under events_mu)
  // Held while observers are called; guards `observers`.
  std::mutex deliver_mu;
  std::vector<Observer*> observers;
  std::vector<HistoryEvent> delivering;
  std::atomic<std::size_t> observer_count{0};

  // Under the engine lock: takes the events the runtime committed, for deliver().
  void take_committed();
  // Not under the engine lock: hands what is undelivered to the observers, unless another
  // thread is doing so already (it takes these too).
  void deliver();

  // The thread running a handler from run_until_idle (in memory), which holds the engine
  // lock meanwhile: what the handler may call back (evaluate_decision) must not lock again.
  std::atomic<std::thread::id> dispatching{};
  bool dispatching_here() const noexcept {
    return dispatching.load(std::memory_order_relaxed) == std::this_thread::get_id();
  }

  // The engine lock for one public call (engine_mu). On leaving, the events the call
  // committed go to the observers, outside the lock.
  class Call {
   public:
    explicit Call(Impl& impl) : impl_(impl), lock_(lock_for(impl)) {}
    ~Call() {
      if (lock_.owns_lock()) leave();
    }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

    // Lets go of the lock (while handlers run, say), telling observers what was committed.
    void leave() {
      impl_.take_committed();
      lock_.unlock();
      impl_.deliver();
    }
    void enter() { lock_.lock(); }

   private:
    // A handler that the in-memory run_until_idle runs holds the lock on this thread:
    // calling its engine (but for evaluate_decision) would wait for itself forever.
    static std::unique_lock<std::mutex> lock_for(Impl& impl) {
      if (impl.dispatching_here()) {
        throw std::logic_error(
            "a handler run by the in-memory Engine::run_until_idle called its engine, which "
            "is busy running it: return the outcome instead (only evaluate_decision may be "
            "called from such a handler)");
      }
      return std::unique_lock<std::mutex>(impl.engine_mu);
    }
    Impl& impl_;
    std::unique_lock<std::mutex> lock_;
  };
  // The deployed documents, by content hash (loaded back from a shared store when another
  // process deployed them).
  std::unordered_map<std::string, std::shared_ptr<const BpmnDocument>> documents;
  // Job types left to external workers (a set to look up, a list for the store).
  std::set<std::string, std::less<>> external;
  std::vector<std::string> external_list;

  // Runs `body` in a transaction of its own (for work outside the runtime's commands).
  template <typename Body>
  Status in_transaction(Body body) {
    if (Status s = store->begin(); !s) return s;
    Status s = body();
    if (s) s = store->commit();
    if (!s) store->rollback();
    return s;
  }

  const TaskHandler* handler_for(std::string_view type) const {
    if (!external.empty() && external.count(type) != 0) return nullptr;
    if (auto it = handlers.find(type); it != handlers.end() && it->second) return &it->second;
    return fallback ? &fallback : nullptr;
  }

  // Publishes one message (engine.cc).
  Result<MessageResult> publish(Message message);
  // Engine::fetch_and_lock, once (facade/workers.cc).
  Result<std::vector<LockedJob>> fetch_once(const FetchRequest& request);

  // ---- damaged instances (facade/executor.cc) ----
  // One instance whose stored state cannot be read must not stop every other order: after
  // `failure`, when its transaction met such an instance, holds it (Runtime::hold_damaged,
  // a `damaged` incident) and returns true, so the caller does its work again without it.
  // False for any other failure, and for an instance held already.
  bool hold_damaged(const Status& failure);
  // A shared store's command that lost a race with another engine (Runtime::lost_race) is
  // done again, a few times: it then sees what the other did (the instance it started for a
  // business key, the message id it published), and the caller never sees the race.
  template <typename Work>
  auto retrying_races(Work work) -> decltype(work()) {
    for (int attempt = 1;; ++attempt) {
      auto r = work();
      if (r.is_ok() || attempt == kRaceAttempts) return r;
      // A shared store may report another engine's win at any later statement of the
      // transaction (its writes wait for the next round trip): a conflict however it came.
      StatusCode code;
      if constexpr (std::is_same_v<decltype(r), Status>) {
        code = r.code();
      } else {
        code = r.status().code();
      }
      if (!rt.lost_race() && code != StatusCode::kConflict) return r;
    }
  }
  static constexpr int kRaceAttempts = 5;
  // A command on one instance, `run(keep)`: in memory once, moving its inputs (keep false);
  // on a shared store with copies of them (keep true), done again when it lost a race, and
  // its instance held if it is damaged.
  template <typename Command>
  Status command(Command run) {
    if (!store->shared()) return run(false);
    return held_if_damaged(retrying_races([&] { return run(true); }));
  }
  // A command on one instance: `failure` as it is, its instance held if it is damaged (the
  // command would fail the same way again; other work then passes it by).
  Status held_if_damaged(Status failure) {
    (void)hold_damaged(failure);
    return failure;
  }
  // Runs `work` (a command, or a group of them) again after each damaged instance it met
  // is held; each round holds a new one, so this ends.
  template <typename Work>
  auto holding_damaged(Work work) -> decltype(work()) {
    while (true) {
      auto r = work();
      if (r.is_ok()) return r;
      if constexpr (std::is_same_v<decltype(r), Status>) {
        if (!hold_damaged(r)) return r;
      } else {
        if (!hold_damaged(r.status())) return r;
      }
    }
  }

  // ---- handing jobs to handlers (facade/executor.cc) ----

  Status apply(JobKey key, JobOutcome& outcome);

  // In memory: hands one ready job to its handler.
  bool dispatch(JobKey key);

  struct Acquired {
    JobKey key = 0;
    std::int64_t lock_expires_ms = 0;
    const TaskHandler* handler = nullptr;
    std::unique_ptr<JobSnapshot> job;
  };

  // Locks up to `limit` jobs that have handlers here and takes what their handlers need,
  // in one transaction.
  Result<std::vector<Acquired>> acquire(int limit);

  // What a handler needs of a job locked here, read in the current transaction; nothing
  // when the job is gone (cancelled) or has no handler here.
  std::optional<Acquired> snapshot(JobKey key);

  // Locks up to `limit` jobs with handlers here, inside an open group (its transaction).
  Result<std::vector<state::JobRecord>> acquire_records(int limit);

  // The same, with their snapshots.
  Result<std::vector<Acquired>> acquire_in_group(int limit);

  // Applies outcomes (and fires due timers) in groups of options.group_commit.
  struct Outcome {
    JobKey key;
    JobOutcome outcome;
    bool expired = false;  // its lock ran out before the handler started: not run
  };

  // Inside an open group: applies outcomes. Only a store failure (the group's) stops it; a
  // job another worker finished or cancelled meanwhile concerns that job alone.
  Status apply_in_group(std::vector<Outcome>& outcomes, std::size_t from, std::size_t to);

  // Inside an open group: fires up to `limit` due timers; how many it fired.
  Result<std::size_t> fire_in_group(std::size_t limit);

  std::size_t group_size() const {
    return static_cast<std::size_t>(std::max(1, options.group_commit));
  }

  // Applies outcomes in groups of options.group_commit, a transaction each. On a failure
  // `outcomes` keeps those not applied.
  Result<std::size_t> apply_all(std::vector<Outcome>& outcomes);

  // What a worker loop left when its store failed (the database went away): outcomes of
  // handlers that ran, and jobs locked here whose handlers never started. The next work()
  // or run_until_idle() settles them first, so that the jobs wait neither for their locks
  // to run out nor for their side effects to be asked for again.
  std::vector<Outcome> unapplied;
  std::vector<JobKey> unreleased;
  Status settle_unfinished();

  // Fires up to group_commit due timers in one transaction.
  Result<std::size_t> fire_due_group();

  // Rounds of one transaction each: the outcomes of the last round's jobs, the timers due
  // now (up to the group size), and the locks on the next round's jobs; the handlers run
  // between transactions.
  // Called under the engine lock (`call`), which it lets go of while handlers run.
  Result<std::size_t> run_durable_until_idle(Call& call);

  // The executor: this thread locks jobs and applies outcomes; handler threads run them.
  Result<std::size_t> work(const WorkOptions& wo);

  // ---- deployments (facade/deployments.cc) ----

  // The plan of a stored version (0: the latest), loading its document when needed (a
  // version another process deployed to a shared store).
  std::shared_ptr<const state::Plan> load_plan(std::string_view process_id, int version);
  // On a shared store: loads what other engines deployed since the last look (at most once
  // a second), so that their message start events are seen here too. A start needs no
  // look: it asks the store for the latest version anyway.
  void notice_deployments();
  std::int64_t known_deployments = -1;
  std::chrono::steady_clock::time_point deployments_seen{};
  // Why the last load_plan() found nothing, when the store could not be read (so that a
  // database gone away is not reported as a process that is not deployed).
  Status plan_error;

  std::shared_ptr<const BpmnDocument> document_of(const store::DeploymentRow& row);

  // Deployed decisions (facade/deployments.cc). Stored as deployment rows named
  // kDecisionRow + the decision's id, flagged kDecisionFlag, each holding its DMN file.
  static constexpr std::string_view kDecisionRow = "dmn:";
  static constexpr int kDecisionFlag = 2;
  struct DeployedDecision {
    int version = 0;
    std::shared_ptr<const DecisionModel> model;
  };
  std::map<std::string, DeployedDecision, std::less<>> decisions;  // by decision id: the latest
  std::unordered_map<std::string, std::shared_ptr<const DecisionModel>> decision_models;  // by hash
  // The latest deployed model defining decision `id` (read from the store when not known
  // here: another engine deployed it), or null.
  std::shared_ptr<const DecisionModel> decision(std::string_view id);
  // Takes note of a stored decision version.
  void note_decision(const store::DeploymentRow& row);

  Status load_deployments();

  // The version a start request names (the latest when 0), with a none start event.
  Result<std::shared_ptr<const state::Plan>> plan_for(const StartRequest& request);

  // ---- workers (facade/workers.cc) ----

  // Frees the jobs of workers of this host that died holding them.
  Status release_dead_locks();
};

}  // namespace ordo
