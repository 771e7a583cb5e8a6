// MemoryStore: the state kept in this process. Its objects are the state itself: nothing is
// copied or encoded, a transaction is nothing to open or commit, and nothing fails. For
// tests, simulation and replay, where millions of short instances come and go.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/instance_counts.h"
#include "store/store.h"
#include "util/string_hash.h"

namespace ordo::store {

class MemoryStore final : public Store {
 public:
  struct Options {
    // Keep history events, so history() returns them.
    bool keep_history = true;
    // Keep completed and terminated instances (and their business keys); off, they are
    // forgotten when their command ends.
    bool keep_finished_instances = true;
  };
  explicit MemoryStore(Options options) : options_(options) {}

  Status begin() override;
  Status commit() override { return Status::ok(); }
  void rollback() noexcept override;
  bool changed_by_others() const noexcept override { return false; }
  bool shared() const noexcept override { return false; }
  void set_attach(Attach) override {}  // instances never leave memory: they keep their plan
  Result<std::uint64_t> allocate(std::string_view counter, std::uint64_t count) override;

  Result<state::Instance*> instance(InstanceId id) override;
  const state::Instance* cached_instance(InstanceId id) const noexcept override;
  state::Instance& add_instance(std::unique_ptr<state::Instance> instance) override;
  Result<std::optional<InstanceId>> find_business_key(std::string_view process_id,
                                                      std::string_view key) override;
  Result<std::optional<InstanceId>> incident_instance(IncidentKey key) override;
  Result<bool> hold_damaged(InstanceId, IncidentKey, std::string_view, std::int64_t) override {
    return false;
  }
  Result<std::optional<InstanceId>> damaged_instance(IncidentKey) override {
    return std::optional<InstanceId>();
  }
  Result<std::vector<TreeMember>> call_tree(InstanceId id) override {
    return std::vector<TreeMember>{{id, {}, 0}};
  }
  Status release_damaged(InstanceId, IncidentKey, bool) override { return Status::ok(); }

  Result<state::JobRecord*> job(JobKey key) override;
  state::JobRecord& put_job(state::JobRecord job) override;
  void remove_job(JobKey key) override { jobs_.erase(key); }
  void forget_jobs() noexcept override {}  // nothing is read: the records are the state

  Result<std::vector<state::JobRecord>> acquire_jobs(std::string_view type, std::string_view owner,
                                                     std::int64_t now_ms,
                                                     std::int64_t lock_until_ms, int limit,
                                                     const std::vector<std::string>& except) override;
  Result<std::vector<std::string>> lock_owners() override;
  Result<int> release_locks(std::string_view owner) override;
  Status release_job(JobKey key, std::string_view owner) override;
    Status backup(const std::string& dest) override;
  Result<std::size_t> discard_buffered() override;

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

  Result<std::vector<DeploymentRow>> deployments(std::string_view process_id = {}) override;
  Result<int> latest_version(std::string_view process_id) override;
  Result<std::int64_t> deployment_count() override {
    return static_cast<std::int64_t>(deployments_.size());
  }
  Status add_deployment(const DeploymentRow& row) override;

  Result<std::vector<InstanceRow>> list_instances(const InstanceQuery& query) override;
  Result<std::vector<state::JobRecord>> list_jobs(std::string_view type) override;
  Result<std::vector<IncidentRow>> list_incidents() override;
  Result<std::vector<InstanceCountRow>> count_instances() override;
  Result<std::vector<ElementStatistics>> element_stats(std::string_view process_id,
                                                      int version) override;
  Result<std::vector<MinuteCount>> minute_counts(std::int64_t from_ms) override;
  Result<std::vector<CycleBucketRow>> cycle_buckets(std::int64_t from_ms) override;
  Result<std::vector<HistoryEvent>> history(InstanceId id) override;

  
  

 private:
  static std::string business_key_of(std::string_view process_id, std::string_view key);
    // Looked up by std::string_view, without making a std::string of each key.
  template <class T>
  using ByString = std::unordered_map<std::string, T, util::StringHash, std::equal_to<>>;

  Options options_;
  std::unordered_map<InstanceId, std::unique_ptr<state::Instance>> instances_;
  std::unordered_map<JobKey, state::JobRecord> jobs_;
  std::map<std::pair<std::int64_t, std::uint64_t>, state::TimerRecord> timers_;
  ByString<std::vector<state::Subscription>> subscriptions_;
  std::map<std::uint64_t, state::BufferedMessage> buffered_;  // by id: their place in line
  std::size_t buffered_sweep_at_ = 64;
  ByString<InstanceId> business_keys_;  // "process\x1fkey"
  ByString<std::string> published_;     // message id -> outcome
  std::unordered_map<InstanceId, std::vector<HistoryEvent>> history_;
  // Element statistics, kept with the history: the totals so far.
  ElementDeltas element_deltas_;
  std::map<ElementDeltas::Key, ElementDeltas::Delta> element_totals_;
  // Instances per minute and the cycle-time histogram, kept with the history too.
  std::map<CountDeltas::MinuteKey, CountDeltas::MinuteDelta> minute_totals_;
  std::map<CountDeltas::CycleKey, std::int64_t> cycle_totals_;
  std::vector<DeploymentRow> deployments_;  // in the order deployed
  ByString<int> latest_;                    // process id -> its latest version
    // Instances by id and open jobs by key, in order (the listings).
  std::vector<const state::Instance*> sorted_instances() const;
  std::vector<const state::JobRecord*> jobs() const;

  // Counters, and what they were when the transaction began (a rollback restores them).
  struct Counters {
    std::uint64_t key = 1;
    std::uint64_t instance = 1;
    std::uint64_t buffered = 1;
  };
  Counters next_;
  Counters at_begin_;
  std::uint64_t next_sequence_ = 1;
};

}  // namespace ordo::store
