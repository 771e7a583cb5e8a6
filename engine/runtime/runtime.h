// Runtime: turns commands into state changes and history events.
//
// One Runtime holds the live state of every instance (instances, element instances, jobs,
// timers, message subscriptions, buffered messages) and applies commands to it. Each command
// runs its tokens to their next wait states through a FIFO work queue, then hands the
// history it produced to the Store in one commit. Deterministic: keys are counters, the
// queue is FIFO, time comes from the Clock.
//
// The member functions are spread over files by concern: transactions.cc (command framing,
// transactions and groups, reading and changing state through the store), runtime.cc
// (commands), activate.cc
// (entering elements), leave.cc (leaving elements, flows, gateways, scopes), events.cc
// (waits, triggers, errors and escalations, termination), variables.cc (scopes, mappings,
// expressions), jobs.cc (jobs).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/clock.h"
#include "ordo/decision.h"
#include "ordo/history.h"
#include "ordo/migration.h"
#include "ordo/status.h"
#include "runtime/lifecycle.h"
#include "state/plan.h"
#include "state/records.h"
#include "store/store.h"

namespace ordo::runtime {

// The records the runtime changes (state/records.h), by their short names.
using state::BufferedMessage;
using state::ElemKey;
using state::ElementInstance;
using state::Incident;
using state::IncidentRetry;
using state::Instance;
using state::JobRecord;
using state::kProcessScope;
using state::make_plan;
using state::Plan;
using state::Role;
using state::Subscription;
using state::TimerRecord;
using state::Wait;

struct RuntimeOptions {
  int default_job_retries = 3;
  std::uint32_t max_steps_per_command = 100000;
  std::uint32_t max_call_depth = 100;  // EngineOptions::max_call_depth
  std::uint64_t max_multi_instance = 10000;  // EngineOptions::max_multi_instance
  std::uint32_t multi_instance_batch = 1000;  // EngineOptions::multi_instance_batch (>= 1)
  // Retry backoff when neither the worker nor the task says: doubling from the first, capped.
  std::int64_t retry_backoff_ms = 1000;
  std::int64_t retry_backoff_max_ms = 10 * 60 * 1000;
  // History events carry their detail text (EngineOptions::history_details).
  bool history_details = true;
};

// Finds a deployed plan the runtime does not have yet (deployed by another process sharing
// the database): version 0 means the latest.
using PlanSource = std::function<std::shared_ptr<const Plan>(std::string_view process_id,
                                                             int version)>;
// Finds the latest deployed DMN model that defines the decision `decision_id`, or null.
using DecisionLookup =
    std::function<std::shared_ptr<const DecisionModel>(std::string_view decision_id)>;

struct StartOutcome {
  InstanceId id = 0;
  bool created = true;  // false: an instance with this business key already existed
  int version = 0;      // the version the instance runs
};

struct Correlation {
  std::vector<InstanceId> instances;  // received it (or were started by it), in order
  bool buffered = false;              // nobody received it; kept for its time to live
  bool duplicate = false;             // its message id was published before: nothing done
};

// When a timer fires: its first due time, and for cycles the interval and how many more.
struct TimerSchedule {
  std::int64_t due = 0;
  std::int32_t repetitions = 0;  // further firings after the first (-1: unbounded)
  std::int64_t interval = 0;     // kCronInterval: a cron cycle
};
// The interval stored for a cron cycle: each next time is computed from the expression.
inline constexpr std::int64_t kCronInterval = -1;
Result<TimerSchedule> plan_timer(TimerType type, const std::string& text, std::int64_t now_ms);

// A migration plan checked against its two versions: per source element, the target's.
struct MigrationMap {
  std::shared_ptr<const Plan> source;
  std::shared_ptr<const Plan> target;
  std::vector<ElementIndex> to;  // kNoIndex: not mapped
  bool reschedule_timers = false;
};
// Checks `plan` as a whole (each pair names elements of the same kind that exist; scopes
// keep their parent); kInvalidArgument listing every problem.
Result<MigrationMap> resolve_migration(std::shared_ptr<const Plan> source,
                                       std::shared_ptr<const Plan> target,
                                       const MigrationPlan& plan);
// Replays an instance's history (as read back) on the map's target: what it did since its
// last migration that the target would not do the same way, in words, each once.
std::vector<std::string> history_misfits(const MigrationMap& map,
                                         const std::vector<HistoryEvent>& history);

class Runtime {
 public:
  // `store` holds the state: the runtime reads and changes it one transaction per command.
  Runtime(RuntimeOptions options, const Clock& clock, store::Store& store);
  ~Runtime();

  // Whether history events are built at all (someone keeps or observes them).
  void set_recording(bool on) noexcept { recording_ = on; }
  // Events are recorded with their detail text.
  bool detailed() const noexcept { return recording_ && options_.history_details; }
  // The events of committed transactions, in sequence order, while recording: the caller
  // takes them (to hand them to observers) and leaves the vector empty.
  std::vector<HistoryEvent>& committed() noexcept { return committed_; }
  void set_plan_source(PlanSource source) { plan_source_ = std::move(source); }
  void set_decision_lookup(DecisionLookup lookup) { decision_lookup_ = std::move(lookup); }
  // The worker name written into job locks taken by lock_job() (none: such jobs are locked
  // without an owner or expiry).
  void set_lock(std::string owner, std::int64_t duration_ms) {
    lock_owner_ = std::move(owner);
    lock_ms_ = duration_ms;
  }
  // While set, jobs whose type it accepts are created locked by this worker (as if
  // acquired at once) and listed in claimed(), so a worker loop hands them to handlers
  // without acquiring them in a separate write.
  void set_claim(std::function<bool(std::string_view type)> claim) { claim_ = std::move(claim); }
  std::vector<JobKey>& claimed() noexcept { return claimed_; }
  // Whether a worker here must ask the store for jobs to acquire: another process committed
  // before the current transaction, or jobs were created without being claimed, since the
  // last call. (Jobs whose locks expire are found only when asking: ask now and then.)
  bool jobs_to_acquire() noexcept { return others_changed_ || std::exchange(unclaimed_jobs_, false); }
  // Between transactions: the store error the last read met (get(), job()), if any.
  Status take_read_error() noexcept {
    return in_txn_ ? Status::ok() : std::exchange(store_failure_, Status::ok());
  }

  // Deployments.
  void add_plan(std::shared_ptr<const Plan> plan);
  // Schedules the process-level timer start events of `plan` (a newly deployed latest
  // version), replacing those of earlier versions. One command.
  Status arm_start_timers(const Plan& plan);
  // Whether arm_start_timers(plan) would succeed (checked before a version is stored).
  Status check_start_timers(const Plan& plan) const;
  std::shared_ptr<const Plan> latest(std::string_view process_id) const;
  // A version, asking the plan source when it is not known here.
  std::shared_ptr<const Plan> plan(std::string_view process_id, int version) const;
  // A version known here, or null.
  std::shared_ptr<const Plan> known_plan(std::string_view process_id, int version) const;

  // Commands. Each commits before returning (unless a group is open); a store failure rolls
  // the command back and is returned.
  // A `request_id` seen before returns what that start did (an inbox: the id is recorded
  // in the start's transaction).
  Result<StartOutcome> start(std::shared_ptr<const Plan> plan, nlohmann::json variables,
                             std::string business_key, std::string_view request_id = {});
  Status complete_job(JobKey job, nlohmann::json variables);
  // `retries`: what the job has left from now on; negative: one less than before.
  Status fail_job(JobKey job, std::string message, std::int64_t backoff_ms, int retries = -1);
  // The job waits until `delay_ms` from now and is handed out again, its retries and attempt
  // untouched (quiet hours, a rate cap).
  Status defer_job(JobKey job, std::int64_t delay_ms, std::string reason);
  Status throw_job_error(JobKey job, std::string code, std::string message,
                         nlohmann::json variables);
  Status throw_job_escalation(JobKey job, std::string code, nlohmann::json variables);
  Result<Correlation> correlate(std::string_view name, std::string_view key,
                                nlohmann::json variables, std::int64_t ttl_ms,
                                std::string_view message_id = {});
  // Broadcasts signal `name`: every subscription waiting for it, in every instance, fires
  // (a suspended instance misses it: signals are not kept), and the latest version of each
  // process with a signal start event of that name starts. `instances`: those reached, then
  // those started.
  Result<Correlation> signal(std::string_view name, nlohmann::json variables);
  // Evaluates the process-level conditional start events of the latest version of each
  // process (of `process_id` only, unless empty) against `variables`: each process with
  // one that holds starts, once, with those variables. `instances`: those started.
  Result<Correlation> start_by_conditions(nlohmann::json variables, std::string_view process_id);
  Status cancel(InstanceId id);
  // Pauses a running instance: its jobs are taken from their workers and handed to nobody,
  // its timers do not fire and messages pass it by (buffered, when they may be), until
  // resume(). A worker's answer meanwhile is refused; the job goes out again after resume.
  Status suspend(InstanceId id);
  Status resume(InstanceId id);
  // The lock owner of the jobs of a suspended instance (their lock never runs out).
  static constexpr std::string_view kSuspendedOwner = "ordo:suspended";
  Status set_variables(InstanceId id, nlohmann::json variables);
  // Moves instance `id` to the target version of `map`, in one command; with `apply` false,
  // only says what would happen. An instance that cannot move is no error: the outcome
  // names the problem.
  Result<InstanceMigration> migrate(InstanceId id, const MigrationMap& map, bool apply);
  Status resolve_incident(IncidentKey key, int job_retries);
  // Fires the earliest timer due at or before now; false when none is due.
  Result<bool> fire_next_due_timer();
  // Locks a job for a handler that answers later (JobOutcome::pending()).
  Status lock_job(JobKey key);
  
  // The acting worker (set_acting_worker) holds `key`: its lock now runs until `until_ms`.
  Status extend_lock(JobKey key, std::int64_t until_ms);
  // While set, commands on a job (complete, fail, error, defer, extend) act for this
  // external worker: only a job it has locked may be answered. Empty: the engine itself.
  void set_acting_worker(std::string_view worker) { acting_.assign(worker); }

  // Group commit: the commands between begin_group() and end_group() share
  // one transaction, made durable by end_group(); observers hear of their events only then.
  // A failure inside the group rolls all of it back and end_group() returns it.
  Status begin_group();
  Status end_group();
  // Rolls the group back: none of its commands happened.
  void abort_group() noexcept;
  // Inside a group: delivers the buffered messages that the group's new subscriptions took
  // (on a store that takes them later), in commands of their own, as end_group() does
  // anyway. A worker calls it before it hands out the jobs the group created: a message
  // may interrupt the task of one of them. The group's failure, if any.
  Status settle_takes();
  bool in_group() const noexcept { return group_; }
  // Whether the open group has failed (it will roll back whatever else it is given).
  bool group_failed() const noexcept { return group_ && !store_failure_.is_ok(); }

  // Whether the last transaction failed on a write another engine made conflict (a
  // business key or message id it took meanwhile, an instance it changed, a deadlock):
  // done again, the command sees what the other did.
  bool lost_race() const noexcept { return lost_race_; }

  // Damaged instances. The instance whose stored state could not be read in the last
  // transaction, if any (a kCorruption failure of that transaction names it).
  std::optional<InstanceId> take_damaged() noexcept { return std::exchange(damaged_, {}); }
  // In a transaction of its own, puts instance `id` aside with a `damaged` incident saying
  // `why` (Store::hold_damaged), so that work failed by it can be done again without it.
  // False when it was held already. Resolving the incident ends the hold once the instance
  // reads again.
  Result<bool> hold_damaged(InstanceId id, std::string_view why);

  // Jobs that commands here made ready for a handler (created, or due again after a
  // failure), oldest first. The runtime only appends; the driver pops or clears.
  std::deque<JobKey>& ready_jobs() noexcept { return ready_; }
  // Whether ready_jobs() is kept at all (a driver that hands out jobs from it turns it on).
  void track_ready(bool on) noexcept { track_ready_ = on; }
  // Reading state between commands: what is stored now.
  const JobRecord* job(JobKey key);
  // Inside a transaction: a job just read from the store (acquired), so reading it again in
  // this transaction needs no query.
  const JobRecord* remember_job(JobRecord job);
  const Instance* instance(InstanceId id);
  const Element& element_of(const JobRecord& job);
  // The variable `name` as the job's element sees it, or null.
  // Read the instance as last read: call instance() for it first.
  const nlohmann::json* job_variable(const JobRecord& job, std::string_view name) const;
  nlohmann::json job_variables(const JobRecord& job) const;

  // The due time of the earliest timer, if any.
    Result<std::optional<std::int64_t>> next_timer_due();

  // ---- internal (used across the runtime's files) ----
  struct Scope;  // variable lookup chain (variables.cc)

  std::int64_t now() const noexcept { return clock_.now_ms(); }
  const Clock& clock() const noexcept { return clock_; }

 private:
  friend class Driver;
  struct Work {
    InstanceId instance;
    ElementIndex element;
    ElemKey parent;
    FlowIndex via;
    // kNoIndex: activate `element` in `parent`; else start this inner instance of the
    // sequential multi-instance body `parent` (queued, so long loops do not recurse), or
    // with `compensate`, run the compensation of this Compensable in `parent`.
    std::uint32_t inner = kNoIndex;
    bool compensate = false;
  };

  // Command framing. begin() opens the command (and, outside a group, its transaction); commit() writes and commits what it did and returns the store's verdict;
  // abandon() ends a command that changed nothing.
  Status begin();
  Status commit();
  void abandon();
  // Ends the transaction: commits, then passes its events on (committed()); rolls back on failure.
  Status finish_transaction();
  void start_transaction();
  void roll_back() noexcept;
  // Records a store failure inside a command: the command (and its group) will roll back.
  void failed(Status s);
  void run_queue();
  // The instance `id` (read and checked by the store once per transaction), or null.
  Instance* get(InstanceId id);
  // get(), for a running instance the command will change: marks it touched.
  Instance* live(InstanceId id);
  void touch(Instance& inst);
  // resolve_incident() of the `damaged` incident `key`, inside its transaction.
  Status release_damaged(IncidentKey key, InstanceId id);
  JobRecord* find_job(JobKey key);
  // Begins a command on the running instance `id` (kNotFound, the transaction abandoned,
  // when there is none).
  Result<Instance*> begin_on_instance(InstanceId id);
  // kConflict naming the root instance to `verb` instead of the called instance `inst`
  // (the transaction abandoned).
  Status refuse_called(const Instance& inst, std::string_view verb);
  // `root` and every running instance its call activities called, and so on down.
  std::vector<InstanceId> call_tree(const Instance& root);
  void resume_one(Instance& inst);
  // Parks an open job of a suspended instance (suspend()).
  void park(JobRecord& job);
  void touch_job(JobKey key);
  // A job can be handed out now: to a driver here (ready_jobs()) or a worker anywhere.
  void made_ready(JobKey key) {
    if (track_ready_) ready_.push_back(key);
    unclaimed_jobs_ = true;
  }
  // Gives an instance read from the store its plan (store::Attach).
  Status attach(Instance& inst, std::string_view process_id, int version);
  std::uint64_t new_key();
  InstanceId new_instance_id();
  // A new instance of `plan`, registered and announced (kInstanceStarted); nothing runs yet.
  Instance& new_instance(std::shared_ptr<const Plan> plan, std::string business_key,
                         nlohmann::json vars, InstanceId parent = 0, ElemKey parent_element = 0);
  std::optional<InstanceId> find_business_key(const Plan& plan, const std::string& key);
  void add_timer(std::int64_t due, std::uint64_t id, TimerRecord rec);
  void buffer(BufferedMessage message);

  // activate.cc
  void enqueue(Instance& inst, ElementIndex element, ElemKey parent, FlowIndex via);
  void activate(Instance& inst, ElementIndex element, ElemKey parent, FlowIndex via);
  ElementInstance& create(Instance& inst, ElementIndex element, ElemKey parent, Role role);
  void enter(Instance& inst, ElemKey key);
  void enter_scope(Instance& inst, ElemKey key, ElementIndex scope_element);
  void enter_multi_instance(Instance& inst, ElemKey body);
  // `reserved`: the body already counts the inner instance's token.
  void start_inner(Instance& inst, ElemKey body, std::uint32_t index, bool reserved = false);
  // A parallel body: starts its next multi_instance_batch inner instances and, while more
  // are left, a wait (a timer due now) that starts the batch after in a command of its own.
  void start_inner_batch(Instance& inst, ElemKey body);
  // Whether `w` is such a wait: its owner is a multi-instance body, its event the body's
  // own element.
  static bool is_batch_wait(const Instance& inst, const Wait& w);
  void arrive_at_join(Instance& inst, ElementIndex element, ElemKey parent, FlowIndex via);
  void check_inclusive_joins(Instance& inst, ElemKey scope);
  void start_call(Instance& inst, ElemKey key);

  // leave.cc
  // Output mappings (with `result` as local variables), then leave.
  void finish(Instance& inst, ElemKey key, nlohmann::json result);
  void leave(Instance& inst, ElemKey key);
  bool take_flows(Instance& inst, ElementInstance& el);
  void remove(Instance& inst, ElemKey key);
  void token_consumed(Instance& inst, ElemKey scope);
  void complete_scope(Instance& inst, ElemKey scope);
  void inner_completed(Instance& inst, ElemKey body, ElemKey inner);
  void complete_instance(Instance& inst);

  // compensation.cc
  // At the completion of `key`: keeps it for compensation, or drops what it kept inside.
  void keep_compensation(Instance& inst, ElemKey key);
  // Forgets the compensations kept in `scope`, and in the scopes kept there.
  void drop_compensations(Instance& inst, ElemKey scope);
  // The compensation throw event or cancel end event `key` compensates its scope: one
  // handler after another, then it leaves (`wait`); or all handlers at once, and it leaves.
  void throw_compensation(Instance& inst, ElemKey key, bool wait);
  // The thrower `key` starts its next compensation, or, with none left, leaves (a cancel end
  // event cancels its transaction).
  void compensate_next(Instance& inst, ElemKey key);
  void run_compensation(Instance& inst, ElemKey parent, ElemKey record);
  void cancel_transaction(Instance& inst, ElemKey end);
  // A cancel end event: ends the rest of its transaction, then compensates it.
  void cancel_end(Instance& inst, ElemKey key);
  // The compensations claimed by `thrower` and not started yet are free again.
  void release_claims(Instance& inst, ElemKey thrower);

  // events.cc
  // These return false after raising an incident on the owner (an expression failed): the
  // owner must stop there, and resolving the incident enters it again.
  bool open_wait(Instance& inst, ElemKey owner, ElementIndex event);
  bool open_boundary_waits(Instance& inst, ElemKey activity);
  bool open_event_subprocess_waits(Instance& inst, ElemKey scope, ElementIndex scope_element);
  // Closes what `owner` waits for (only its event-subprocess starts, if asked).
  void close_waits(Instance& inst, ElemKey owner, bool start_events_only = false);
  void drop_wait(const Wait& w);
  void trigger(Instance& inst, const Wait& wait, nlohmann::json payload);
  // Activates an event that has already happened (boundary, catch after an event-based
  // gateway, event subprocess start) and leaves it. `reserved`: the scope already counts its
  // token.
  void activate_triggered(Instance& inst, ElementIndex event, ElemKey parent,
                          nlohmann::json payload, bool reserved);
  void reserve_token(Instance& inst, ElemKey scope);
  void release_token(Instance& inst, ElemKey scope);
  void interrupt_scope_for(Instance& inst, ElemKey scope, ElementIndex event_sub,
                           nlohmann::json payload, bool interrupting);
  // Throws a BPMN error or escalation from `from`. Returns true when `from` was terminated.
  bool throw_event(Instance& inst, ElemKey from, EventType type, const std::string& code,
                   const std::string& message, nlohmann::json payload);
  enum class Caught : std::uint8_t { kNo, kYes, kInterrupting };
  // Finds the catch of an error or escalation thrown by `from`, outward and into the calling
  // instances, and triggers it.
  Caught propagate(Instance& inst, ElemKey from, EventType type, const std::string& code,
                   nlohmann::json payload);
  // The catch within one instance, outward from `from`: triggered, or nothing when the
  // thrown event leaves the instance (`payload` is left to the caller then).
  std::optional<Caught> catch_in(Instance& inst, ElemKey from, EventType type,
                                 const std::string& code, nlohmann::json& payload);
  void terminate(Instance& inst, ElemKey key);
  // When a cycle that fired at `due` fires next: one interval later, or, when that time has
  // passed, its first tick after now (missed ticks are caught up once, not one by one).
  std::int64_t next_tick(std::int64_t due, std::int64_t interval) const;
  // The next time of a cycle that fired at `due`: next_tick(), or for a cron cycle
  // (kCronInterval) the expression `text`'s next time; 0 when there is none.
  std::int64_t next_cycle(std::int64_t due, std::int64_t interval, const std::string& text) const;
  // How many call activities up its root is (0: a root instance); counted up to one past
  // max_call_depth.
  std::uint32_t call_depth(Instance& inst);
  // The multi-instance incident for a collection beyond max_multi_instance.
  void too_many_instances(Instance& inst, ElemKey body, std::uint64_t n);
  void terminate_children(Instance& inst, ElemKey scope);
  // Terminates everything else in the scope of `key` (a terminate or cancel end event).
  void terminate_siblings(Instance& inst, ElemKey key);
  // Terminates a called instance and all it called in turn, without recursing.
  void terminate_called(InstanceId child);
  // Drops the tokens queued for `scope` (its activations that have not run yet).
  void drop_queued(Instance& inst, ElemKey scope);
  void terminate_instance(Instance& inst, HistoryKind kind);

  // variables.cc
  Result<nlohmann::json> eval(Instance& inst, ElemKey scope, const Expression& e);
  Result<bool> eval_condition(Instance& inst, ElemKey scope, const Expression& e);
  Result<std::string> eval_string(Instance& inst, ElemKey scope, const Expression& e);
  bool apply_inputs(Instance& inst, ElemKey key);
  // A business rule task that calls a decision: evaluates it and completes with its result,
  // or raises a `decision` incident (engine/runtime/decisions.cc).
  void decide(Instance& inst, ElemKey key);
  // Decision `id` of `model` with the variables visible from `scope` as its inputs, read in
  // place (variables.cc).
  Result<nlohmann::json> evaluate_decision(const Instance& inst, ElemKey scope,
                                           const DecisionModel& model, std::string_view id,
                                           const DecisionOptions& options) const;
  // Output mappings of the element (or, without any, every variable of `result`) into the
  // scopes around it. False (after raising an incident) when a mapping fails.
  bool apply_outputs(Instance& inst, ElemKey key, nlohmann::json result);
  void set_variable(Instance& inst, ElemKey from_scope, const std::string& name,
                    nlohmann::json value);
  nlohmann::json* find_variable(Instance& inst, ElemKey scope, std::string_view name);
  nlohmann::json visible_variables(const Instance& inst, ElemKey scope) const;

  // jobs.cc
  void create_job(Instance& inst, ElemKey key);
  void cancel_job(Instance& inst, ElementInstance& el);
  Result<JobRecord*> open_job(JobKey key);
  // Opens a command on job `key`, whatever its state (kNotFound: none).
  Result<JobRecord*> begin_with_job(JobKey key);
  // begin() and open_job(), ending the command when the job is not open.
  Result<JobRecord*> begin_on_job(JobKey key);
  // How long a failed job waits before its next attempt when the worker did not say.
  std::int64_t retry_backoff(Instance& inst, const JobRecord& job);

  // Timers.
  bool schedule_timer(Instance& inst, ElemKey owner, ElementIndex event);
  void cancel_timer(std::int64_t due, std::uint64_t id);

  // Incidents and history.
    void incident(Instance& inst, ElemKey key, IncidentRetry retry, IncidentKind kind,
                std::string message, JobKey job = 0);
  // A new history event with its sequence, time, instance and process filled in; the
  // caller checks recording_ first.
  HistoryEvent& record(const Instance& inst, HistoryKind kind);
  // fail_job / defer_job: the job opened for a command and unlocked, with its instance.
  struct JobInInstance {
    JobRecord* job;
    Instance* instance;
  };
  Result<JobInInstance> release_job(JobKey key);
  void hand_back(JobRecord& job, std::int64_t wait_ms);
  void emit(const Instance& inst, HistoryKind kind, ElementIndex element = kNoIndex,
            std::uint64_t key = 0, std::int64_t value = 0, std::string detail = {});
  bool transition(Instance& inst, ElementInstance& el, ElementEvent event);
  bool transition(Instance& inst, InstanceEvent event);

  RuntimeOptions options_;
  const Clock& clock_;
  store::Store& store_;
  PlanSource plan_source_;
  DecisionLookup decision_lookup_;
  bool recording_ = true;
  std::string lock_owner_;
  std::string acting_;  // an external worker answering (set_acting_worker)
  std::int64_t lock_ms_ = 300000;
  std::function<bool(std::string_view)> claim_;
  std::vector<JobKey> claimed_;

  std::unordered_map<std::string, std::vector<std::shared_ptr<const Plan>>> plans_;
  std::vector<std::shared_ptr<const Plan>> message_start_plans_;
  std::vector<std::shared_ptr<const Plan>> signal_start_plans_;
  // Conditional events: instances whose variables changed while they wait on a condition
  // (checked when the command's queue is empty), and the waits fired in this command (each
  // at most once, so a non-interrupting one whose path sets variables does not loop).
  std::vector<InstanceId> conditions_due_;
  std::vector<std::uint64_t> conditions_fired_;
  void conditions_may_hold(const Instance& inst);
  void check_conditions();
  void run_work();  // run_queue() without the conditions
  // Inside a command: fires every wait for signal `name` and starts the processes it
  // starts (the queued work runs with the command's); the instances reached or started.
  std::vector<InstanceId> broadcast(std::string_view name, const nlohmann::json& variables);
  std::deque<JobKey> ready_;
  bool track_ready_ = false;

  // Numbers allocated from the store in blocks, [next, end): jobs, waits and incidents share
  // the keys. A block allocated in a transaction that rolls back is given up.
  std::uint64_t next_key_ = 0;
  std::uint64_t key_end_ = 0;
  InstanceId next_instance_ = 0;
  InstanceId instance_end_ = 0;
  bool allocated_in_txn_ = false;
  // Timers of multi-instance batches made in this transaction (a group's too): not fired in
  // it, so a group of commands starts one batch of a body, not all of them in a row.
  std::vector<std::uint64_t> fresh_batches_;
  std::optional<InstanceId> damaged_;  // take_damaged()
  bool lost_race_ = false;             // lost_race()

  // Transactions and commands.
  bool in_txn_ = false;
  bool group_ = false;
  bool others_changed_ = true;  // another process committed before this transaction
  bool unclaimed_jobs_ = true;  // jobs were created that no worker here has locked
  std::uint64_t command_ = 0;  // the command in progress (or the last one)
  Status store_failure_;
  std::vector<JobKey> dirty_jobs_;
  std::vector<HistoryEvent> pending_;  // written, waiting for the group to commit
  std::vector<HistoryEvent> committed_;  // committed, not taken yet (committed())

  // The command in progress.
  std::deque<Work> queue_;
  struct Delivery {
    InstanceId instance;
    std::uint64_t wait;
    BufferedMessage message;  // its variables are the payload
  };
  std::deque<Delivery> deliveries_;  // buffered messages meeting a new subscription
  // In a group, on a store that takes buffered messages later (store::Store::
  // takes_buffered_later): the subscriptions opened whose buffered message is still to be
  // looked for, as (instance, wait); settle_takes() delivers what the takes found, in
  // commands of their own, before the group commits.
  struct PendingTake {
    InstanceId instance;
    std::uint64_t wait;
    std::string sub_key;
  };
  std::vector<PendingTake> takes_;
  std::vector<HistoryEvent> batch_;
  std::vector<InstanceId> touched_;
  std::vector<InstanceId> finished_;  // to drop at the end of the command
  std::vector<Subscription> subscribers_;  // of the message being correlated
  std::uint32_t steps_ = 0;
};

std::string subscription_key(std::string_view name, std::string_view key);
// A signal's subscriptions share the messages' table under a name no message has (it
// starts with the control character 0x02).
std::string signal_key(std::string_view name);
// A conditional event's wait: no subscription, only this marker.
inline constexpr std::string_view kConditionWait = "\x03";

}  // namespace ordo::runtime
