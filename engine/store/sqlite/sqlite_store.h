// SqliteStore: the durable store, one SQLite database file (WAL).
//
// Implements store::Store for the runtime (instances, jobs, timers, subscriptions, buffered
// messages, history, inside one transaction per command or group) and adds what the engine
// and the tools need around it: deployments, job acquisition with locks, listings, backup.
// Every statement is prepared once and bound; nothing is built from values.
//
// Thread safety: one thread at a time (the engine serialises its calls).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ordo/history.h"
#include "ordo/lifecycle.h"
#include "store/instance_counts.h"
#include "store/row_cache.h"
#include "store/sqlite/database.h"
#include "store/store.h"

namespace ordo::store::sqlite {

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                   const OpenOptions& options = {});
  ~SqliteStore() override;

  Database& database() noexcept { return *db_; }
  // How many instances to keep cached between transactions (the file holds them all).
  void set_cache_limit(std::size_t instances) noexcept { cache_.set_limit(instances); }

  // ---- Store ----
  Status begin() override;
  Status commit() override;
  void rollback() noexcept override;
  bool changed_by_others() const noexcept override { return changed_by_others_; }
  bool shared() const noexcept override { return true; }
  void set_attach(Attach attach) override { attach_ = std::move(attach); }
  Result<std::uint64_t> allocate(std::string_view counter, std::uint64_t count) override;
  Result<state::Instance*> instance(InstanceId id) override;
  const state::Instance* cached_instance(InstanceId id) const noexcept override {
    return cache_.cached_instance(id);
  }
  state::Instance& add_instance(std::unique_ptr<state::Instance> instance) override {
    return cache_.add_instance(std::move(instance));
  }
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
  Result<std::optional<state::BufferedMessage>> take_buffered(std::string_view name,
                                                                std::string_view key,
                                                                std::int64_t now_ms) override;
  Result<std::optional<std::string>> published(std::string_view message_id) override;
  Status record_published(std::string_view message_id, std::string_view name,
                          std::string_view key, std::string_view outcome,
                          std::int64_t now_ms) override;

  // ---- job locks ----
  Result<std::vector<state::JobRecord>> acquire_jobs(std::string_view type, std::string_view owner,
                                                     std::int64_t now_ms,
                                                     std::int64_t lock_until_ms, int limit,
                                                     const std::vector<std::string>& except) override;
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

  // Writes a consistent copy of the database to `dest` (SQLite online backup).
  Status backup(const std::string& dest) override;
  Result<std::size_t> discard_buffered() override {
    return Status::invalid_argument(
        "discard_buffered_messages() is for engines in memory; a durable engine's buffered "
        "messages expire by their TTL");
  }

 private:
  explicit SqliteStore(std::unique_ptr<Database> db);
  Result<Statement*> statement(int id, std::string_view sql);
  Status write_rows(const RowCache::Rows& rows);
  // Reads instance `id` into `out` unless the stored revision is `known_rev`.
  Result<RowCache::Loaded> load_instance(InstanceId id, std::uint64_t known_rev,
                                         state::Instance& out);
  Result<std::optional<state::JobRecord>> load_job(JobKey key);

  std::unique_ptr<Database> db_;
  std::vector<std::unique_ptr<Statement>> statements_;
  // The history counter, read once per transaction and written back at its commit.
  bool history_read_ = false;
  // PRAGMA data_version at the last begin(): it changes when another connection commits.
  std::int64_t data_version_ = -1;
  bool changed_by_others_ = true;
  std::uint64_t history_first_ = 0;
  std::uint64_t history_next_ = 0;

  // What was read: a cache of the file, checked against it once per transaction (an
  // instance by its revision) and dropped when another connection has committed (jobs) or a
  // transaction rolls back (both). When no other connection has committed since the last
  // transaction, nothing is checked again (begin()).
  Attach attach_;
  RowCache cache_;
  CountDeltas counts_;  // the transaction's changes to instance_counts, written at commit
  ElementDeltas elements_;  // and to element_stats
  bool in_txn_ = false;
};

}  // namespace ordo::store::sqlite
