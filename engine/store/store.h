// Store: where the state of every instance lives, and where each command commits what it did.
//
// One interface, several implementations: MemoryStore keeps the state in this process
// (tests, simulation, replay), sqlite::SqliteStore in a database file that several
// processes may share. The runtime works the same on each: it opens a transaction per
// command (or group of commands), reads and changes instances and jobs through the store,
// and hands the store what the command changed. A store that others share (a database) keeps
// what it has read as a cache and checks it against what is stored once per transaction; the
// memory store's objects are the state itself.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ordo/element_statistics.h"
#include "ordo/throughput.h"
#include "ordo/history.h"
#include "ordo/instance_filter.h"
#include "ordo/status.h"
#include "state/records.h"

namespace ordo::store {

// A timer as stored: instance 0 marks a job's retry backoff (`wait` is the job key) or a
// process's timer start event.
struct TimerRow {
  std::int64_t due_ms = 0;
  std::uint64_t id = 0;
  state::TimerRecord record;
};

// A deployed version of a process, with the file it came from (to load it again).
struct DeploymentRow {
  std::string process_id;
  int version = 0;
  std::string content_hash;
  std::string file;
  std::string xml;
  int load_flags = 0;  // 1: task types default to the element id
  std::int64_t deployed_ms = 0;
};

// An instance as listed: what it is and where it stands, not its state.
struct InstanceRow {
  InstanceId id = 0;
  std::string process_id;
  int version = 0;
  std::string business_key;
  InstanceState state = InstanceState::kActive;
  InstanceId parent = 0;
  std::int64_t started_ms = 0;
  std::int64_t ended_ms = 0;
  std::string end_event;  // the last process-level end event reached; empty: none
};

// The stores search instances as the engine's callers ask for them.
using InstanceQuery = InstanceFilter;

struct IncidentRow {
  IncidentKey key = 0;
  InstanceId instance = 0;
  std::string element_id;
  JobKey job = 0;
  IncidentKind kind = IncidentKind::kExpression;
  std::string message;
  std::int64_t created_ms = 0;
  std::string process_id;  // of the instance it holds
  int version = 0;
  std::string business_key;
};

// How many instances of a process are in a state (completed ones: at an end event).
struct InstanceCountRow {
  std::string process_id;
  InstanceState state = InstanceState::kActive;
  std::string end_event;
  std::int64_t count = 0;
};

// Completions of a process at an end event with a cycle time in one histogram bucket
// (ordo/throughput.h).
struct CycleBucketRow {
  std::string process_id;
  std::string end_event;
  int bucket = 0;
  std::int64_t count = 0;
};

// What a command changed, handed to write() before its transaction commits.
struct Changes {
  const std::vector<InstanceId>& instances;  // new or changed, in the order first touched
  const std::vector<JobKey>& jobs;           // created, changed or removed (may repeat)
  const std::vector<InstanceId>& finished;   // completed or terminated by the command
  std::vector<HistoryEvent>& events;         // numbered by write(), in order
};

// Gives an instance read from the store the process version it runs (`plan`), checking that
// the stored state fits that version. The runtime provides it; an error stops the command.
using Attach =
    std::function<Status(state::Instance& instance, std::string_view process_id, int version)>;

class Store {
 public:
  virtual ~Store() = default;

  // ---- transactions ----
  // begin() takes the write lock (a shared store waits for other processes up to its busy
  // timeout); commit() returns once the transaction is durable; rollback() undoes it, and
  // the instances and jobs read in it must be read again.
  virtual Status begin() = 0;
  virtual Status commit() = 0;
  virtual void rollback() noexcept = 0;
  // After a commit() that failed: whether the transaction may have committed all the same
  // (the connection to a database server broke at COMMIT). What it did must then not be
  // done again as if it had not.
  virtual bool commit_unknown() const noexcept { return false; }
  // After commit(): how far the history numbers write() gave in that transaction moved. A
  // store shared by several engines numbers history when it commits, so that the counter is
  // held only for that moment (PgStore); write() gives numbers from 1 meanwhile.
  virtual std::int64_t history_shift() const noexcept { return 0; }
  // After begin(): whether another process committed since this store's previous begin()
  // (always true the first time for a shared store; never for one only this process uses).
  virtual bool changed_by_others() const noexcept = 0;
  // Whether other processes may change the state between this store's transactions (a
  // database that others open too). Then a job is locked before a handler gets it, since
  // another worker could take it meanwhile; a store only this process uses needs no such
  // lock for a handler that answers at once.
  virtual bool shared() const noexcept = 0;

  // How instances read from the store get their process version (set once, by the runtime).
  virtual void set_attach(Attach attach) = 0;

  // `count` fresh numbers from a named counter ("key", "instance"); the first is returned.
  virtual Result<std::uint64_t> allocate(std::string_view counter, std::uint64_t count) = 0;

  // ---- instances: owned by the store; a pointer stays valid until the transaction ends ----
  // The instance `id` as stored (null: none). Between transactions, what is stored now.
  virtual Result<state::Instance*> instance(InstanceId id) = 0;
  // The instance as this store last read or wrote it, without reading: for views of a job
  // between the command that read its instance and the next.
  virtual const state::Instance* cached_instance(InstanceId id) const noexcept = 0;
  // A new instance, stored by the write() of the command that made it.
  virtual state::Instance& add_instance(std::unique_ptr<state::Instance> instance) = 0;
  // The root instance of `process_id` with business key `key`, if any (whatever its state).
  virtual Result<std::optional<InstanceId>> find_business_key(std::string_view process_id,
                                                              std::string_view key) = 0;
  // Before starts with these business keys (process id, key) in the open transaction: a
  // store whose every read is a round trip looks them all up at once, and answers
  // find_business_key() for them from what it found (and what the transaction adds).
  // Nothing is required of it.
  using BusinessKey = std::pair<std::string_view, std::string_view>;
  virtual Status prefetch_business_keys(const std::vector<BusinessKey>& keys) {
    (void)keys;
    return Status::ok();
  }
  // The instance of the open incident `key`, if it is open.
  virtual Result<std::optional<InstanceId>> incident_instance(IncidentKey key) = 0;

  // ---- damaged instances (a shared store's: state in memory cannot be damaged) ----
  // Puts aside instance `id`, whose stored state cannot be read, so that the rest of the
  // work goes on: a `damaged` incident `key` saying `message`, its jobs waiting for a worker
  // or for a retry taken off the queue (state incident), and its timers and subscriptions
  // skipped while the incident is open. Its row is not touched. False when it is held
  // already.
  virtual Result<bool> hold_damaged(InstanceId id, IncidentKey key, std::string_view message,
                                    std::int64_t now_ms) = 0;
  // The running instances of `id`'s call tree (from its root down, `id` always among them),
  // with the process version each runs: read from the rows' plain columns, which a damaged
  // row still has. What is held with a damaged instance, since a command on any of them may
  // need it (a child completing into its parent, a parent cancelling its children).
  struct TreeMember {
    InstanceId id = 0;
    std::string process_id;
    int version = 0;
  };
  virtual Result<std::vector<TreeMember>> call_tree(InstanceId id) = 0;
  // The instance held by incident `key`, if `key` is an open `damaged` incident.
  virtual Result<std::optional<InstanceId>> damaged_instance(IncidentKey key) = 0;
  // Ends the hold of incident `key` on `id`: the incident removed, the jobs held for it
  // back in the queue (its other incidents' jobs stay as they are), or removed when the
  // instance has `ended` meanwhile (restored as such).
  virtual Status release_damaged(InstanceId id, IncidentKey key, bool ended) = 0;

  // ---- jobs (open ones; a completed or cancelled job is removed) ----
  // Between transactions, what is stored now.
  virtual Result<state::JobRecord*> job(JobKey key) = 0;
  // Before commands on these jobs in the open transaction: a store whose every read is a
  // round trip (PostgreSQL) reads the jobs, and the instances they belong to, at once (and
  // locks them, as reading them one by one would). Nothing is required of it.
  virtual Status prefetch_jobs(const std::vector<JobKey>& keys) {
    (void)keys;
    return Status::ok();
  }
  // Holds `job` as the job's current record: a new job, or one just acquired. Stored by the
  // write() of a command that lists it.
  virtual state::JobRecord& put_job(state::JobRecord job) = 0;
  // The job is gone; stored by the write() of a command that lists it.
  virtual void remove_job(JobKey key) = 0;
  // Forgets the jobs read, so the next read asks the store (after lock changes below).
  virtual void forget_jobs() noexcept = 0;

  // ---- job locks (workers) ----
  // Inside a transaction: locks up to `limit` jobs of `type` (of any type but those in
  // `except` when `type` is empty) that are created, or locked with a lock that ran out
  // before `now_ms`, for `owner` until `lock_until_ms`. Returns them as now stored, by key.
  virtual Result<std::vector<state::JobRecord>> acquire_jobs(
      std::string_view type, std::string_view owner, std::int64_t now_ms,
      std::int64_t lock_until_ms, int limit, const std::vector<std::string>& except) = 0;
  // The owners of locks held now.
  virtual Result<std::vector<std::string>> lock_owners() = 0;
  // Inside a transaction: the jobs `owner` holds are created again (it is known dead); how
  // many.
  virtual Result<int> release_locks(std::string_view owner) = 0;
  // Inside a transaction: job `key`, if `owner` holds it, is created again (its handler never
  // ran).
  virtual Status release_job(JobKey key, std::string_view owner) = 0;

    // A consistent copy of everything stored, written to `dest` while the engine runs.
  virtual Status backup(const std::string& dest) = 0;
  // Drops every buffered message nobody received yet; how many there were. For simulations
  // that run unrelated orders one after another (a shared store refuses: its messages are
  // others' too, and expire by their time to live).
  virtual Result<std::size_t> discard_buffered() = 0;

  // Stores what a command changed (instances whole; each event gets its sequence).
  virtual Status write(Changes& changes) = 0;

  // ---- timers ----
  virtual Status add_timer(const TimerRow& row) = 0;
  virtual Status remove_timer(std::int64_t due_ms, std::uint64_t id) = 0;
  // Removes the timer start events of every version of `process_id`.
  virtual Status remove_start_timers(std::string_view process_id) = 0;
  // The earliest timer, if any (due or not).
  virtual Result<std::optional<TimerRow>> next_timer() = 0;

  // ---- message subscriptions, by subscription key ("name\x1fcorrelation key") ----
  virtual Status add_subscription(std::string_view sub_key, const state::Subscription& s) = 0;
  virtual Status remove_subscription(std::string_view sub_key, std::uint64_t wait) = 0;
  // Into `out` (replacing what it held), in the order they were opened.
  virtual Status subscriptions(std::string_view sub_key,
                               std::vector<state::Subscription>& out) = 0;
  // Before messages (name, correlation key) are published in the open transaction: a store
  // whose every read is a round trip reads the subscriptions of them all at once (and takes
  // what subscriptions() would take for each), and answers subscriptions() for them from
  // that and from what the transaction changes. Nothing is required of it.
  using MessageKey = std::pair<std::string_view, std::string_view>;
  virtual Status prefetch_subscriptions(const std::vector<MessageKey>& messages) {
    (void)messages;
    return Status::ok();
  }

  // ---- buffered messages ----
  // Stores `message`; a new one (id 0) gets its id, which is its place in line; one put
  // back keeps its id. A store may drop messages expired before `now_ms` meanwhile.
  virtual Status add_buffered(state::BufferedMessage& message, std::int64_t now_ms) = 0;
  // Removes and returns the oldest unexpired message with this name and key.
  virtual Result<std::optional<state::BufferedMessage>> take_buffered(std::string_view name,
                                                                        std::string_view key,
                                                                        std::int64_t now_ms) = 0;
  // A store to which every statement is a round trip may take buffered messages later in
  // the transaction: take_buffered_later() sends the take with the next statement sent, and
  // taken_buffered() returns what the takes found (sending any not sent yet), each with
  // the `ticket` it was given. A transaction must not commit with takes unanswered. Stores
  // answering false take at once, with take_buffered().
  virtual bool takes_buffered_later() const noexcept { return false; }
  virtual Status take_buffered_later(std::string_view name, std::string_view key,
                                     std::int64_t now_ms, std::uint64_t ticket) {
    (void)name, (void)key, (void)now_ms, (void)ticket;
    return Status::internal("this store takes buffered messages at once");
  }
  using Taken = std::pair<std::uint64_t, state::BufferedMessage>;  // ticket, message
  virtual Result<std::vector<Taken>> taken_buffered() { return std::vector<Taken>(); }

  // ---- published message ids, with what their first publication did (JSON text) ----
  virtual Result<std::optional<std::string>> published(std::string_view message_id) = 0;
  virtual Status record_published(std::string_view message_id, std::string_view name,
                                  std::string_view key, std::string_view outcome,
                                  std::int64_t now_ms) = 0;

  // ---- deployments ----
  // Every stored version (of `process_id` only, unless empty), by process and version.
  virtual Result<std::vector<DeploymentRow>> deployments(std::string_view process_id = {}) = 0;
  // The latest version of `process_id` (0 when none).
  virtual Result<int> latest_version(std::string_view process_id) = 0;
  // How many versions are stored, of every process: a cheap sign that another engine on a
  // shared store deployed something.
  virtual Result<std::int64_t> deployment_count() = 0;
  // Inside a transaction.
  virtual Status add_deployment(const DeploymentRow& row) = 0;

  // ---- reading, between transactions (listings for the API and the tools) ----
  // Root and called instances by id.
  virtual Result<std::vector<InstanceRow>> list_instances(const InstanceQuery& query) = 0;
  // Open jobs (of `type` only, unless empty), by key.
  virtual Result<std::vector<state::JobRecord>> list_jobs(std::string_view type) = 0;
  // Open incidents of every instance, by key.
  virtual Result<std::vector<IncidentRow>> list_incidents() = 0;
  virtual Result<std::vector<InstanceCountRow>> count_instances() = 0;
  // Instances started and ended per minute from `from_ms` on, by process and minute; and
  // the cycle-time histogram of those that completed since, by process, end event and
  // bucket (store/instance_counts.h).
  virtual Result<std::vector<MinuteCount>> minute_counts(std::int64_t from_ms) = 0;
  virtual Result<std::vector<CycleBucketRow>> cycle_buckets(std::int64_t from_ms) = 0;
  // What happened at each element of a process version (store/instance_counts.h), with the
  // open incidents there, by element id.
  virtual Result<std::vector<ElementStatistics>> element_stats(std::string_view process_id,
                                                               int version) = 0;
  // The history of instance `id`, in order (empty when none is kept).
  virtual Result<std::vector<HistoryEvent>> history(InstanceId id) = 0;

  // ---- the history of all instances as one log (Engine::history_log) ----
  // History rows are numbered in the order their transactions commit, without gaps (a
  // shared store numbers them at commit, holding the counter until then), so a reader that
  // has seen number N has seen everything before it.
  struct LogRow {
    std::uint64_t sequence = 0;  // the row's first event
    InstanceId instance = 0;
    std::string process_id;
    int version = 0;
    std::string business_key;
    std::string events;  // encode_history()
  };
  // The rows that hold events numbered after `after`, in order, at most `limit` (the first
  // may begin before it). Only durable stores keep such a log.
  virtual Result<std::vector<LogRow>> history_log(std::uint64_t after, std::size_t limit) {
    (void)after;
    (void)limit;
    return Status::invalid_argument("the history log needs a durable engine (Engine::open)");
  }
  // Where reader `reader` got to in the log (0: nowhere yet), kept in the database.
  virtual Result<std::uint64_t> log_position(std::string_view reader) {
    (void)reader;
    return Status::invalid_argument("the history log needs a durable engine (Engine::open)");
  }
  // Moves it forward to `position` (never back).
  virtual Status set_log_position(std::string_view reader, std::uint64_t position) {
    (void)reader;
    (void)position;
    return Status::invalid_argument("the history log needs a durable engine (Engine::open)");
  }
  // Takes or keeps the lease of reader `reader` for `owner` (20 bits) until now_ms +
  // lease_ms, when it is free, run out or `owner`'s already: whether `owner` holds it now.
  // One statement, so two engines claiming at once cannot both win.
  virtual Result<bool> claim_log(std::string_view reader, std::int64_t owner,
                                 std::int64_t now_ms, std::int64_t lease_ms) {
    (void)reader;
    (void)owner;
    (void)now_ms;
    (void)lease_ms;
    return Status::invalid_argument("the history log needs a durable engine (Engine::open)");
  }
};

}  // namespace ordo::store
