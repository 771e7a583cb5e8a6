// PgStore: the durable store on a PostgreSQL server, which several engine nodes may share.
//
// Behaves as sqlite::SqliteStore does, method for method (the same tables, the same JSON in
// them: codec.h; the same cache rules: RowCache), and adds what sharing one database between
// nodes needs:
//  - a transaction is READ COMMITTED; reading an instance in it locks the instance's row
//    (FOR UPDATE) until commit, so commands on one instance run one after another across
//    nodes, and the revision check on write still refuses (kConflict) a stale copy;
//  - counters (keys, instance ids, history sequence numbers) are taken with one UPDATE ...
//    RETURNING, whose row lock lasts until commit: numbers are unique, and given back when
//    the transaction rolls back (history is numbered at commit, so that lock is brief);
//  - jobs, due timers and buffered messages are taken with FOR UPDATE SKIP LOCKED, so two
//    nodes never take the same one; a subscription and a message for the same key take
//    turns on an advisory lock;
//  - round trips are saved: a command's rows go in one pipeline, writes no answer waits for
//    go with the next statement (run_later), a group's jobs and instances are read at once.
// Every statement is prepared once per connection and run with bound parameters; the
// PostgreSQL schema (options.schema) is the only name written into SQL, after
// check_schema_name().
//
// A connection that breaks fails the call that finds it (kIoError), and the transaction
// with it; the next call outside a transaction connects again (begin() at once, when the
// server closed an idle connection). A deadlock between nodes, or a unique key another node
// took, is kConflict: the command lost a race and may be run again (Runtime::lost_race).
//
// Thread safety: one thread at a time (the engine serialises its calls).
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/instance_counts.h"
#include "store/postgres/pq.h"
#include "store/row_cache.h"
#include "store/store.h"

namespace ordo::store::pg {

struct PgOptions {
  // The PostgreSQL schema holding Ordo's tables, created on first open: lower-case letters,
  // digits and '_'. Engines that share it share their state; give unrelated engines (or
  // tests) schemas of their own.
  std::string schema = "ordo";
  // How long to wait for the server to answer a connection (unless the URL says).
  std::chrono::seconds connect_timeout{10};
};

class PgStore final : public Store {
 public:
  // Connects to `url` (a libpq URI), creates or upgrades the schema (schema.h) and prepares
  // the statements. Errors name the server without its password.
  static Result<std::unique_ptr<PgStore>> open(const std::string& url,
                                               const PgOptions& options = {});
  ~PgStore() override;

  // The connection (for tests and tools; null while it cannot be had).
  Connection* connection() noexcept { return conn_ ? &*conn_ : nullptr; }
  // How many instances to keep cached between transactions (the server holds them all).
  void set_cache_limit(std::size_t instances) noexcept { cache_.set_limit(instances); }

  // ---- Store ----
  Status begin() override;
  Status commit() override;
  Status prefetch_jobs(const std::vector<JobKey>& keys) override;
  std::int64_t history_shift() const noexcept override { return history_shift_; }
  void rollback() noexcept override;
  bool commit_unknown() const noexcept override { return commit_unknown_; }
  // No cheap way to ask PostgreSQL whether another node committed: always true, and the
  // revision check once per transaction keeps the cached instances right.
  bool changed_by_others() const noexcept override { return true; }
  bool shared() const noexcept override { return true; }
  void set_attach(Attach attach) override { attach_ = std::move(attach); }
  Result<std::uint64_t> allocate(std::string_view counter, std::uint64_t count) override;
  Result<state::Instance*> instance(InstanceId id) override;
  const state::Instance* cached_instance(InstanceId id) const noexcept override {
    return cache_.cached_instance(id);
  }
  state::Instance& add_instance(std::unique_ptr<state::Instance> instance) override;
  Status prefetch_business_keys(const std::vector<BusinessKey>& keys) override;
  Status prefetch_subscriptions(const std::vector<MessageKey>& messages) override;
  Result<std::optional<InstanceId>> find_business_key(std::string_view process_id,
                                                      std::string_view key) override;
  Result<std::optional<InstanceId>> incident_instance(IncidentKey key) override;
  Result<bool> hold_damaged(InstanceId id, IncidentKey key, std::string_view message,
                            std::int64_t now_ms) override;
  Result<std::optional<InstanceId>> damaged_instance(IncidentKey key) override;
  Result<std::vector<TreeMember>> call_tree(InstanceId id) override;
  Status release_damaged(InstanceId id, IncidentKey key, bool ended) override;
  Result<state::JobRecord*> job(JobKey key) override;
  state::JobRecord& put_job(state::JobRecord job) override {
    return cache_.put_job(std::move(job));
  }
  void remove_job(JobKey key) override { cache_.remove_job(key); }
  void forget_jobs() noexcept override { cache_.forget_jobs(); }
  Status write(Changes& changes) override;
  Status add_timer(const TimerRow& row) override;
  Status remove_timer(std::int64_t due_ms, std::uint64_t id) override;
  Status remove_start_timers(std::string_view process_id) override;
  Result<std::optional<TimerRow>> next_timer() override;
  Status add_subscription(std::string_view sub_key, const state::Subscription& s) override;
  Status remove_subscription(std::string_view sub_key, std::uint64_t wait) override;
  Status subscriptions(std::string_view sub_key, std::vector<state::Subscription>& out) override;
  Status add_buffered(state::BufferedMessage& message, std::int64_t now_ms) override;
  bool takes_buffered_later() const noexcept override { return true; }
  Status take_buffered_later(std::string_view name, std::string_view key, std::int64_t now_ms,
                             std::uint64_t ticket) override;
  Result<std::vector<Taken>> taken_buffered() override;
  Result<std::optional<state::BufferedMessage>> take_buffered(std::string_view name,
                                                              std::string_view key,
                                                              std::int64_t now_ms) override;
  Result<std::optional<std::string>> published(std::string_view message_id) override;
  Status record_published(std::string_view message_id, std::string_view name, std::string_view key,
                          std::string_view outcome, std::int64_t now_ms) override;

  // ---- job locks ----
  Result<std::vector<state::JobRecord>> acquire_jobs(
      std::string_view type, std::string_view owner, std::int64_t now_ms,
      std::int64_t lock_until_ms, int limit, const std::vector<std::string>& except) override;
  Result<std::vector<std::string>> lock_owners() override;
  Result<int> release_locks(std::string_view owner) override;
  Status release_job(JobKey key, std::string_view owner) override;

  // ---- reading ----
  Result<std::vector<InstanceRow>> list_instances(const InstanceQuery& query) override;
  Result<std::vector<state::JobRecord>> list_jobs(std::string_view type) override;
  Result<std::vector<IncidentRow>> list_incidents() override;
  Result<std::vector<InstanceCountRow>> count_instances() override;
  Result<std::vector<ElementStatistics>> element_stats(std::string_view process_id,
                                                      int version) override;
  Result<std::vector<MinuteCount>> minute_counts(std::int64_t from_ms) override;
  Result<std::vector<CycleBucketRow>> cycle_buckets(std::int64_t from_ms) override;
  Result<std::vector<HistoryEvent>> history(InstanceId id) override;
  Result<std::vector<LogRow>> history_log(std::uint64_t after, std::size_t limit) override;
  Result<std::uint64_t> log_position(std::string_view reader) override;
  Status set_log_position(std::string_view reader, std::uint64_t position) override;
  Result<bool> claim_log(std::string_view reader, std::int64_t owner, std::int64_t now_ms,
                         std::int64_t lease_ms) override;
  Result<std::vector<DeploymentRow>> deployments(std::string_view process_id = {}) override;
  Result<int> latest_version(std::string_view process_id) override;
  Result<std::int64_t> deployment_count() override;
  Status add_deployment(const DeploymentRow& row) override;

  // Refused (kInvalidArgument): a PostgreSQL schema is backed up with pg_dump --schema.
  Status backup(const std::string& dest) override;
  Result<std::size_t> discard_buffered() override {
    return Status::invalid_argument(
        "discard_buffered_messages() is for engines in memory; a durable engine's buffered "
        "messages expire by their TTL");
  }

 private:
  // The prepared statements, by slot (pg_store.cc writes them).
  enum class Sql : std::uint8_t;
  static std::string_view sql_text(Sql id) noexcept;
  // Statements planned for their parameters each time, never prepared: those that look up
  // a group's rows at once by a list of keys. A prepared statement's generic plan is made
  // once, when the tables may still be empty, and a sequential scan chosen then stays
  // while they grow (1 ms for 64 instances among 2,000, growing with the table); each
  // runs once per group, so planning it anew costs little.
  static bool planned_each_time(Sql id) noexcept;
  // Sends statement `id` in the open pipeline / runs it, prepared or planned each time.
  Status send_statement(Sql id, const std::vector<Param>& params);
  Result<Rows> run_statement(Sql id, const std::vector<Param>& params);

  PgStore(std::string url, PgOptions options) noexcept
      : url_(std::move(url)),
        options_(std::move(options)),
        slot_(static_cast<int>(std::chrono::steady_clock::now().time_since_epoch().count() % 8)) {}
  // Connects again (after the connection broke).
  Status connect();
  // Readies the new connection conn_: the search path, the prepared statements.
  Status prepare_session();
  // The connection, ready for a statement: connects again between transactions when it
  // broke; inside one, a broken connection is the transaction lost.
  Status connected();
  Result<Rows> run(Sql id, std::initializer_list<Param> params = {});
  // A statement whose answer nothing waits for (a timer or subscription written, a lock
  // taken): inside a transaction it goes with the next statement that is sent, in one
  // round trip, in order; a failure shows there (and fails the transaction, as it would).
  Status run_later(Sql id, std::initializer_list<Param> params);
  // Sends what run_later() kept into the open pipeline.
  Status send_later();
  // Runs `queue` (which sends statements: run() queues while queuing_) in one pipeline, a
  // single round trip, and returns the answers in order. The pipeline is always ended, also
  // when `queue` fails or throws (a connection left in pipeline mode could not even roll
  // back); any failure fails the transaction.
  template <typename Queue>
  Result<std::vector<Rows>> in_pipeline(Queue queue);
  // Where the state is, for messages: "schema ordo of PostgreSQL at host:port/db".
  std::string where() const;

  // Reads instance `id` into `out` unless the stored revision is `known_rev` (locking its
  // row inside a transaction).
  Result<RowCache::Loaded> load_instance(InstanceId id, std::uint64_t known_rev,
                                         state::Instance& out);
  Result<std::optional<state::JobRecord>> load_job(JobKey key);
  Status write_rows(const RowCache::Rows& rows);
  Status write_instance(state::Instance& inst);
  Status write_job(JobKey key, const state::JobRecord* job);
  // At commit: numbers the transaction's history rows from the counter and inserts them.
  Status insert_history();

  std::string url_;
  PgOptions options_;
  std::optional<Connection> conn_;
  std::vector<std::string> names_;  // the prepared statements' names, by slot

  // What was read: a cache of the server, checked against it once per transaction (an
  // instance by its revision; the jobs dropped at each begin()) and dropped when a
  // transaction rolls back.
  Attach attach_;
  RowCache cache_;
  bool in_txn_ = false;
  // A statement of the open transaction failed: PostgreSQL has aborted it, so it must not
  // be reported as committed.
  bool txn_failed_ = false;
  // In a pipeline (in_pipeline()), run() queues statements rather than waiting for each.
  bool queuing_ = false;
  std::size_t queued_ = 0;
  struct Later {
    Sql id;
    std::vector<std::optional<std::string>> params;  // nullopt: NULL
    InstanceId must_change_one = 0;  // an instance update: it must change exactly one row
    std::size_t take = kNoTake;      // a take of a buffered message: its place in takes_
  };
  static constexpr std::size_t kNoTake = static_cast<std::size_t>(-1);
  // The takes of buffered messages asked for in this transaction and not yet handed back
  // by taken_buffered(); the answers of those sent in the open pipeline, as (answer, take);
  // what those found.
  struct Take {
    std::uint64_t ticket = 0;
    std::string name, key;
    bool answered = false;
  };
  std::vector<Take> takes_;
  std::vector<std::pair<std::size_t, std::size_t>> take_answers_;
  std::vector<Taken> taken_;
  // The transaction's changes to instance_counts, written at commit into rows of this
  // store's slot (chosen at random, 0 to 7), so that nodes rarely share a row.
  CountDeltas counts_;
  ElementDeltas elements_;  // and to element_stats, likewise
  int slot_ = 0;
  std::vector<Later> later_;
  // Business keys looked up in this transaction (prefetch_business_keys()), by process id
  // and key joined by '\x1f': the root instance that has it, or none.
  std::unordered_map<std::string, std::optional<InstanceId>> business_keys_;
  // Subscriptions read in this transaction (prefetch_subscriptions()), by subscription key,
  // in the order they were opened, kept up to date by the transaction's own changes.
  std::unordered_map<std::string, std::vector<state::Subscription>> subscribers_;
  // write_rows(): run() keeps the command's statements in later_ rather than sending them.
  bool deferring_ = false;
  bool commit_unknown_ = false;  // commit_unknown()
  // The instance updates of the open pipeline: (answer, instance), checked when answered.
  std::vector<std::pair<std::size_t, InstanceId>> checks_;
  // The message keys whose advisory lock this transaction holds (lock_message_key()).
  std::unordered_set<std::string> locked_keys_;
  Status lock_message_key(std::string_view sub_key);
  // History is numbered when the transaction commits: write() gives numbers from 1 and keeps
  // the rows; commit() takes the run from the counter (whose row is then locked only until
  // the COMMIT right after), inserts the rows moved by history_shift(), and commits. So
  // nodes take turns on the counter only for their commits, in commit order.
  struct HistoryRow {
    std::uint64_t sequence = 0;  // as write() numbered it
    InstanceId instance = 0;
    std::string events;
  };
  std::vector<HistoryRow> history_rows_;
  std::uint64_t history_next_ = 1;  // the next number write() gives
  std::int64_t history_shift_ = 0;
};

}  // namespace ordo::store::pg
