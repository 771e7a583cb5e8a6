// Engine: deploy process definitions, start instances, drive them, look at them.
//
// An Engine owns deployed definitions and the state of every instance. Each public call that
// changes state is one command: it runs to the next wait state of every token it touches,
// commits the changes and history in one step, and only then notifies observers. Given the
// same commands in the same order and the same clock, the history is identical.
//
// Work that belongs to task handlers is not done inside commands: run_until_idle() hands open
// jobs to registered handlers and fires due timers until nothing more can happen now.
//
// Failures inside an instance (an expression that cannot be evaluated, no outgoing flow to
// take, an uncaught BPMN error, a job out of retries) become incidents on that instance; the
// call still returns OK and every other instance carries on. Calls return a non-OK Status
// only for what the caller got wrong: an unknown instance or job, a job already finished.
//
// State lives in memory (the default: tests, simulation) or, opened with Engine::open(), in an
// SQLite database file: then every command is one transaction (or shares one with a group,
// see EngineOptions::group_commit), instances survive crashes and restarts, and several
// processes can work on one database file together (docs/operations.md).
//
// Thread safety: an Engine may be called from several threads at once (commands, reads,
// work(), fetch_and_lock ...): its calls take turns, one at a time. work() and a durable
// run_until_idle() let other calls in while their handlers run; the in-memory
// run_until_idle() runs handlers in the call, so such a handler may call only
// evaluate_decision() of its engine: any other call throws std::logic_error (the job fails
// saying so) instead of waiting for itself. Register handlers before work() starts. Two engines share
// nothing but, when durable, the database file: one engine per process is enough.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/clock.h"
#include "ordo/decision.h"
#include "ordo/definition.h"
#include "ordo/history.h"
#include "ordo/element_statistics.h"
#include "ordo/throughput.h"
#include "ordo/instance_filter.h"
#include "ordo/lifecycle.h"
#include "ordo/migration.h"
#include "ordo/observer.h"
#include "ordo/status.h"
#include "ordo/task_handler.h"

namespace ordo {

struct EngineOptions {
  // Where time comes from. Null: a SystemClock.
  std::shared_ptr<Clock> clock;
  // Retries of a job whose task does not say (zeebe:taskDefinition retries).
  int default_job_retries = 3;
  // Backoff before a failed job runs again, when neither the worker (JobOutcome::fail) nor
  // the task (camunda:failedJobRetryTimeCycle, e.g. R3/PT10S) says: exponential, starting
  // here and doubling per attempt up to the maximum. 0: retry at once.
  std::int64_t retry_backoff_ms = 1000;
  std::int64_t retry_backoff_max_ms = 10 * 60 * 1000;
  // Keep history events in memory so history() can return them. Observers see every event
  // either way; turn this off for long simulations that aggregate through an observer.
  // Durable engines always store the history in the database (history() reads it there).
  bool keep_history = true;
  // Keep completed and terminated instances so instance() can report them.
  bool keep_finished_instances = true;
  // History events carry their `detail` text (message names and keys, job types, variable
  // names, business keys). Off, observers get them without it, and nothing is built for it:
  // for simulations that only count. Durable engines always store it.
  bool history_details = true;
  // A command that moves tokens more than this many steps without reaching a wait state
  // (a loop without a wait) raises an incident instead of running forever.
  std::uint32_t max_steps_per_command = 100000;
  // How deep call activities may nest instances (a root instance is at depth 0). A call
  // activity that would start an instance deeper raises a "call-depth" incident on itself:
  // a process that calls itself without end stops there, and can be cancelled.
  std::uint32_t max_call_depth = 100;
  // How many instances one multi-instance activity may run (items of its input collection,
  // or its loop cardinality). More raise a "multi-instance" incident on the activity before
  // anything is created.
  std::uint64_t max_multi_instance = 10000;
  // How many instances a parallel multi-instance activity starts in one command. The rest
  // follow in later commands, this many at a time (a timer due at once, so they survive a
  // crash), and other orders' work goes in between: a long collection does not hold the
  // engine, nor make every other order wait behind its jobs.
  std::uint32_t multi_instance_batch = 1000;

  // ---- durable engines (Engine::open) ----
  // synchronous=FULL: a commit is on the disk before the call returns. NORMAL: WAL commits
  // reach the disk at the next checkpoint; a power cut (not a crash) may lose the last ones.
  bool synchronous_full = true;
  // How long to wait for another process's write lock before a command fails.
  int busy_timeout_ms = 5000;
  // Group commit: run_until_idle() and work() let up to this many job outcomes and timers
  // share one transaction (1: a transaction each). Nothing is reported done (observers,
  // returned counts) before its transaction is durable.
  int group_commit = 1;
  // How long a worker holds a job before another worker may take it (its handler is
  // presumed dead). Handlers that answer later (JobOutcome::pending()) must answer in time.
  std::int64_t job_lock_ms = 5 * 60 * 1000;
  // This engine's name in job locks; default "host:pid:random@pid-namespace". Locks held by
  // a process of this host and PID namespace that no longer runs are released when an
  // engine opens the database; any other lock only when it expires.
  std::string worker_id;
  // Instances kept in memory between transactions (the database holds them all).
  std::size_t cached_instances = 10000;
  // Caps the database file at this many pages (SQLite's max_page_count; 0: no cap). A
  // command that would grow it further fails as if the disk were full, and changes nothing.
  std::int64_t max_database_pages = 0;
  // PostgreSQL (a postgresql:// URL given to Engine::open): the schema that holds Ordo's
  // tables, created when missing. Engines that share a database share a schema. A
  // `schema=NAME` parameter of the URL takes precedence.
  std::string database_schema = "ordo";
};

// An event of the history log (Engine::history_log) with what a reader outside the engine
// needs of its instance. event.process_id and element_id point into the deployed
// definition, which the engine keeps alive.
struct LogEvent {
  HistoryEvent event;
  std::string business_key;
  int version = 0;
};

struct StartRequest {
  std::string process_id;
  nlohmann::json variables = nlohmann::json::object();
  // Unique per process among instances started here: starting again with the same key
  // returns the existing instance (created = false) instead of starting another.
  std::string business_key;
  int version = 0;  // 0: the latest
  // An inbox for at-least-once senders (a queue redelivering a message): starting again
  // with an id already used returns what that start did (created = false) and starts
  // nothing. The id is recorded in the start's own transaction.
  std::string request_id;
};

struct StartResult {
  InstanceId id = 0;
  bool created = true;  // false: the business key already had this instance
  int version = 0;
};

struct Message {
  std::string name;
  std::string correlation_key;
  nlohmann::json variables = nlohmann::json::object();
  // Kept this long for a subscription that opens later, when nobody receives it now.
  std::int64_t ttl_ms = 0;
  // Publishing the same id again does nothing and returns what the first publication did.
  std::string message_id;
};

struct MessageResult {
  std::vector<InstanceId> instances;  // received it, or were started by it
  bool buffered = false;              // nobody received it yet; kept for ttl_ms
  bool duplicate = false;             // its message id was published before
};

// A worker loop over a durable engine (work()).
struct WorkOptions {
  int threads = 2;            // handler threads
  int max_jobs_per_poll = 64;
  // Return once nothing is left to do now (no open job with a handler, no due timer).
  // Otherwise run until `stop` becomes true, polling every poll_interval_ms when idle.
  bool until_idle = true;
  const std::atomic<bool>* stop = nullptr;
  std::int64_t poll_interval_ms = 50;
};

struct Deployment {
  std::string process_id;    // for a decision: the decision's id
  int version = 0;           // 1, 2, ... per process id; redeploying the same content keeps it
  std::string content_hash;  // of the BPMN (or DMN) file the process came from
  std::int64_t deployed_ms = 0;
  bool decision = false;     // a DMN decision (deploy_decisions), not a process
};

struct IncidentInfo {
  IncidentKey key = 0;
  InstanceId instance = 0;
  std::string element_id;
  JobKey job = 0;  // 0 unless the incident is a job out of retries
  IncidentKind kind = IncidentKind::kExpression;  // to_string(kind): "expression", ...
  std::string message;
  std::int64_t created_ms = 0;
  std::string process_id;  // of the instance it holds
  int version = 0;
  std::string business_key;
};

struct ElementInfo {
  std::string element_id;
  ElementKind kind = ElementKind::kTask;
  ElementState state = ElementState::kActive;
  JobKey job = 0;         // job tasks: the open job (InstanceInfo::jobs)
  InstanceId called = 0;  // call activities: the instance it called, running now
};

struct JobInfo {
  JobKey key = 0;
  InstanceId instance = 0;
  std::string type;
  std::string element_id;
  JobState state = JobState::kCreated;
  int retries = 0;
  int attempt = 1;
  std::string idempotency_key;
  std::string last_error;
  // Locked: by which worker, until when (ms since 1970). A suspended instance's jobs are
  // locked by "ordo:suspended" with no end.
  std::string lock_owner;
  std::int64_t lock_expires_ms = 0;
};

struct InstanceInfo {
  InstanceId id = 0;
  std::string process_id;
  int version = 0;
  std::string business_key;
  InstanceState state = InstanceState::kActive;
  nlohmann::json variables;           // the process-level variables
  std::vector<ElementInfo> elements;  // element instances alive now, in activation order
  std::vector<IncidentInfo> incidents;  // open incidents
  std::string end_event;  // the last end event reached at process level, if any
  std::int64_t started_ms = 0;
  std::int64_t ended_ms = 0;  // 0 while running
  InstanceId parent = 0;      // the calling instance, for instances started by a call activity
  std::vector<JobInfo> jobs;  // its open jobs (Engine::instance() only)
};

// How many root and child instances are in a state (and, completed, at which end event).
struct InstanceCount {
  std::string process_id;
  InstanceState state = InstanceState::kActive;
  std::string end_event;  // completed instances only
  std::int64_t count = 0;
};

// External workers (fetch_and_lock): a service elsewhere does the work of a job type.
struct FetchRequest {
  // The worker's name, written into the locks; answers must come with it. Distinct workers
  // need distinct names.
  std::string worker;
  std::vector<std::string> types;  // job types it does
  int max_jobs = 10;
  // How long the jobs are the worker's: once the lock runs out, another fetch may take them.
  std::int64_t lock_ms = 60000;
  // The variables to hand out; empty: every variable the task sees.
  std::vector<std::string> variables;
};

struct LockedJob {
  JobKey key = 0;
  InstanceId instance = 0;
  std::string type;
  std::string process_id;
  std::string element_id;
  std::string business_key;
  std::string idempotency_key;  // as Job::idempotency_key: stable across retries
  int attempt = 1;
  int retries = 0;  // left, counting this attempt
  std::vector<TaskHeader> headers;
  nlohmann::json variables;  // an object
  std::int64_t lock_expires_ms = 0;
};

class Engine {
 public:
  // An engine whose state is in memory.
  explicit Engine(EngineOptions options = {});
  // An engine whose state is in the SQLite database at `path` (created when missing, its
  // schema migrated when older). Fails with a message naming the file for a file that is
  // not an Ordo database, one from a newer Ordo, a read-only or damaged file; the file is
  // left untouched then. Deployed processes are loaded back from the database.
  // `path` may instead be a PostgreSQL URL ("postgresql://user@host:port/db", or
  // "postgres://", with `?schema=NAME` if not options.database_schema): the state is then in
  // that database, which several engines (on several hosts) may share.
  static Result<std::unique_ptr<Engine>> open(const std::string& path,
                                              EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Deploys every process of a loaded document (LoadResult::document). Check
  // LoadResult::ok() first: a document with errors must not be deployed (deploy_file does
  // this check). Content identical to a process's latest version returns that version;
  // anything else becomes the new latest version.
  Result<std::vector<Deployment>> deploy(std::shared_ptr<const BpmnDocument> document);
  // Loads, validates and deploys a file; diagnostics are in the error message. A file whose
  // name ends in .dmn is deployed with deploy_decisions().
  Result<std::vector<Deployment>> deploy_file(const std::string& path);
  // Deploys the decisions of a DMN model loaded without errors (load_decisions; the file it
  // came from is stored): each decision of its main model becomes a version of its id, as
  // a process does (the same content as the latest version keeps that version). Business
  // rule tasks that call a decision (zeebe:calledDecision, camunda:decisionRef) evaluate its
  // latest version.
  Result<std::vector<Deployment>> deploy_decisions(std::shared_ptr<const DecisionModel> model);
  // Loads DMN XML (`xml`, named `file` in messages) and deploys it as above. A file with
  // errors is refused (kInvalidDefinition, its diagnostics in the message).
  Result<std::vector<Deployment>> deploy_decisions(const std::string& file, std::string xml);
  // Every deployed version of every decision.
  Result<std::vector<Deployment>> decision_deployments() const;
  // Evaluates the latest deployed version of decision `decision_id` with `inputs` (as
  // ordo/decision.h describes the JSON). kNotFound when no such decision is deployed.
  Result<nlohmann::json> evaluate_decision(std::string_view decision_id,
                                           const nlohmann::json& inputs,
                                           DecisionTrace* trace = nullptr) const;

    // Starts an instance of a process (its latest version unless the request names one) at
  // its none start event, and runs it to its first wait states. `variables` must be a JSON
  // object (or null). A business key the process already has returns that instance
  // (StartResult::created false) and starts nothing.
  Result<StartResult> start(StartRequest request);
  // The same, for the latest version:
  //   auto started = engine.start("order-acceptance", order, "A-1001");  // started->id
  Result<StartResult> start(std::string_view process_id,
                            nlohmann::json variables = nlohmann::json::object(),
                            std::string business_key = {});
  // Starts many instances in one transaction (group commit): all of them or, on a store
  // failure, none; returns once they are durable. A request that is wrong by itself (no
  // such process, variables not an object) fails the whole batch before anything starts.
  Result<std::vector<StartResult>> start_many(const std::vector<StartRequest>& requests);

  // Handlers, by job type. Registering a type again replaces its handler.
  void register_handler(std::string type, TaskHandler handler);
  // Called for job types with no handler of their own (none by default).
  void set_fallback_handler(TaskHandler handler);

    // Hands open jobs to their handlers and fires due timers until nothing more can happen at
  // the current time. Returns the number of jobs handled and timers fired, or the store
  // error that stopped it.
  Result<std::size_t> run_until_idle();

  // Answers for jobs, from external workers or pending handlers. kNotFound for an unknown
  // job, kConflict for one that is no longer open.
  Status complete_job(JobKey job, nlohmann::json variables = nlohmann::json::object());
  // `retries`: how many the job has left from now on (0: an incident at once); negative: one
  // less than before.
  Status fail_job(JobKey job, std::string message, std::int64_t backoff_ms = 0,
                  int retries = -1);
  Status throw_error(JobKey job, std::string code, std::string message = {},
                     nlohmann::json variables = nlohmann::json::object());
  // A BPMN escalation from the job's task (an operator, a pending handler): an interrupting
  // catch ends the task and cancels the job; otherwise the job stays open. (escalate() is
  // the same for an external worker holding the job.)
  Status throw_escalation(JobKey job, std::string code,
                          nlohmann::json variables = nlohmann::json::object());

  // External workers. Locks up to request.max_jobs jobs of the given types that are open, or
  // whose lock has run out, for request.worker (one transaction when durable), oldest first,
  // and returns what the worker needs to do them.
  Result<std::vector<LockedJob>> fetch_and_lock(const FetchRequest& request);
  // Answers a job as `worker`, which must hold its lock (kConflict otherwise; a lock that ran
  // out still counts until another worker fetches the job). `outcome` is what a handler
  // would answer: complete, fail (with retries and backoff), error or defer.
  Status answer_job(JobKey job, std::string_view worker, JobOutcome outcome);
  // Throws a BPMN escalation from the task of a job `worker` holds, as an escalation end
  // event would: an interrupting catch (a boundary event, an event subprocess, in this
  // instance or a calling one) ends the task and cancels the job; a non-interrupting catch,
  // or none, leaves the job with the worker, who answers it as usual. `variables` are set
  // where it is caught. kConflict as answer_job().
  Status escalate(JobKey job, std::string_view worker, std::string code,
                  nlohmann::json variables = nlohmann::json::object());
  // `worker` keeps its job for `lock_ms` from now.
  Status extend_lock(JobKey job, std::string_view worker, std::int64_t lock_ms);
  // Job types left to external workers: no handler here takes them, not the fallback
  // handler either.
  void leave_to_external_workers(std::vector<std::string> types);

    // Publishes a message: it goes to every instance waiting for `name` with its correlation
  // key (one subscription per instance: the one opened first), and starts instances of
  // processes with a matching message start event. With no receiver and ttl_ms > 0 it is
  // buffered until a subscription opens or the ttl passes. A message id makes publishing
  // idempotent. The result says who received it.
    Result<MessageResult> publish_message(Message message);
  // The same for a message without an id:
  //   engine.publish_message("payment-confirmed", "A-1001", {{"paymentStatus", "approved"}});
  Result<MessageResult> publish_message(std::string_view name, std::string_view correlation_key,
                                        nlohmann::json variables = nlohmann::json::object(),
                                        std::int64_t ttl_ms = 0);
  // Publishes many messages in one transaction (group commit); returns once it is durable.
  Result<std::vector<MessageResult>> publish_many(std::vector<Message> messages);

  // Terminates an instance and everything it waits for (jobs, timers, called instances).
  // An instance started by a call activity is cancelled through its root instance
  // (kConflict names it).
  Status cancel(InstanceId instance);
  // Broadcasts signal `name` (BPMN signals: no correlation key, nothing kept): every signal
  // catch, boundary and event-subprocess start waiting for it, in every running instance,
  // fires; each deployed process with a signal start event of that name starts once (its
  // latest version). The result lists the instances reached, then those started.
  // A suspended instance misses it.
  Result<MessageResult> broadcast_signal(std::string_view name,
                                         nlohmann::json variables = nlohmann::json::object());
  // Process-level conditional start events: each deployed process (only `process_id`, unless
  // empty) whose latest version has one whose condition holds for `variables` starts an
  // instance with them, once (Camunda 7's evaluateStartConditions). The instances started.
  Result<MessageResult> start_by_conditions(nlohmann::json variables,
                                            std::string_view process_id = {});
  // Pauses a running instance (state suspended) until resume(): none of its jobs is handed
  // out (a worker holding one loses it, and its answer is refused with kConflict), its
  // timers do not fire (one due meanwhile fires at the resume), and messages pass it by
  // (buffered, when their time to live allows, and delivered at the resume). Setting its
  // variables and cancelling it still work; retrying its incidents waits for the resume.
  // kConflict when it is suspended already (suspend) or not suspended (resume).
  Status suspend(InstanceId instance);
  Status resume(InstanceId instance);
  // Moves running instances to another version of their process (ordo/migration.h): the
  // plan is checked first (kInvalidArgument naming every problem, kNotFound for a version
  // not deployed), then each instance moves in a transaction of its own, or, when it cannot,
  // stays as it was and the report says why (a store failure stops the batch at that
  // instance: those before it moved). A dry run says what would happen.
  Result<MigrationReport> migrate(const MigrationRequest& request);
  // Sets process-level variables (e.g. to fix what caused an incident).
  Status set_variables(InstanceId instance, nlohmann::json variables);
  // Retries what the incident stopped: a job gets `job_retries` more retries; an element
  // re-runs the step that failed.
  Status resolve_incident(IncidentKey incident, int job_retries = 1);
  // The same after setting `variables` on the incident's instance (what fixes the cause),
  // in one transaction: both happen, or neither. kNotFound when the incident is not open.
  Status resolve_incident(IncidentKey incident, int job_retries, nlohmann::json variables);

  // Runs the job executor. Handler threads run the handlers outside any transaction and
  // outside the engine's turn; this thread locks jobs, fires timers and applies outcomes
  // (grouped per EngineOptions::group_commit), while other threads' calls go on between
  // its steps. Returns the jobs handled and timers fired, or the store error that stopped it.
  Result<std::size_t> work(const WorkOptions& options = {});

  // With a VirtualClock: moves it forward and runs until idle. kInvalidArgument otherwise.
  Status advance_clock(std::int64_t ms);
  const Clock& clock() const noexcept;

  // Reading state.
  Result<InstanceInfo> instance(InstanceId id) const;
    // Every read below reports a store error (an unreadable or damaged database) as such,
  // never as an empty answer.
  Result<std::vector<JobInfo>> open_jobs(std::string_view type = {}) const;  // all types: ""
  Result<std::vector<IncidentInfo>> incidents() const;                         // all open ones
  // In memory: empty unless keep_history. Durable: from the database.
  Result<std::vector<HistoryEvent>> history(InstanceId id) const;
  // The history of every instance as one log, for publishing it elsewhere (the outbox of
  // queues.h's event publisher): the events numbered after `after`, in order, at most
  // `limit`. An event is in the log once the command that made it has committed, in the
  // same transaction; events are numbered in commit order without gaps, so a reader that
  // goes on from the last number it handled misses nothing, also with several engines on
  // one database. Durable engines only (kInvalidArgument in memory: use an Observer).
  Result<std::vector<LogEvent>> history_log(std::uint64_t after, std::size_t limit) const;
  // A reader's position in the log, kept in the database (0 for a reader never seen), and
  // moving it forward (a position before the kept one changes nothing).
  Result<std::uint64_t> log_position(std::string_view reader) const;
  Status set_log_position(std::string_view reader, std::uint64_t position);
  // One reader among several engines on one database: takes or keeps the lease of
  // `reader` for `owner` for `lease_ms` when it is free, has run out or is `owner`'s
  // already; whether `owner` holds it now. Owners are told apart by 20 bits of a hash of
  // `owner`: give each engine's reader a random or unique one.
  Result<bool> claim_log(std::string_view reader, std::string_view owner, std::int64_t lease_ms);
  // Root and called instances, by id, without variables or elements.
  Result<std::vector<InstanceInfo>> instances(const InstanceFilter& filter = {}) const;
  // Instances counted by process, state and end event (for metrics): one query, however
  // many instances the database holds.
  Result<std::vector<InstanceCount>> count_instances() const;
  // What happened at each element of a process version, over every instance stored: tokens
  // there now, open incidents, completions with the time they took, terminations (by
  // element id; an element nothing reached is absent). Kept as the history is written: an
  // in-memory engine with keep_history off keeps none.
  Result<std::vector<ElementStatistics>> element_statistics(std::string_view process_id,
                                                            int version) const;
  // Instances started and ended per minute, from the minute of `from_ms` on, by process and
  // minute (minutes with none are absent), and the cycle times of those that completed
  // since, by process and end event: kept in the database as instances are written, so
  // every node of several sees all of them (ordo/throughput.h). A day of minutes is kept.
  // An in-memory engine with keep_history off keeps none.
  Result<std::vector<MinuteCount>> instances_per_minute(std::int64_t from_ms) const;
  Result<std::vector<CycleTime>> cycle_times(std::int64_t from_ms) const;
  // Every deployed version of every process.
  Result<std::vector<Deployment>> deployments() const;
  // The BPMN XML a deployed version came from, as it was deployed (for diagrams).
  // kNotFound when no such version is deployed.
  Result<std::string> deployment_xml(std::string_view process_id, int version) const;
  // The definition of a deployed version (0: the latest), for tools that look at what is
  // deployed (job types, diagrams). kNotFound when no such version is deployed.
  Result<std::shared_ptr<const ProcessDefinition>> definition(std::string_view process_id,
                                                              int version = 0) const;
  bool durable() const noexcept;
  // Durable engines: writes a consistent copy of the database to `dest` while it runs.
  Status backup(const std::string& dest) const;
    // The due time of the earliest timer (including job retry backoffs), if any.
  Result<std::optional<std::int64_t>> next_timer_due() const;
  // In memory: drops every buffered message nobody received yet and returns how many. For
  // simulations that run unrelated orders one after another on one engine (ordo replay),
  // where one order's late message must never reach the next. Durable engines:
  // kInvalidArgument.
  Result<std::size_t> discard_buffered_messages();

  // Observers are not owned; remove them before destroying them (once remove_observer()
  // returns, the observer is not called again).
  void add_observer(Observer* observer);
  void remove_observer(Observer* observer);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ordo
