// Store: where the runtime commits what each command did.
//
// Two kinds. A MemoryStore only keeps history: the runtime's own maps are the state (tests,
// simulation). A Durable store (SQLite) is the state: the runtime's maps become a cache that
// is filled from the store on demand and checked against it once per transaction, and every
// command's changes are written inside a transaction, so several processes can share one
// database and a restart loses nothing that was committed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ordo/history.h"
#include "ordo/status.h"
#include "runtime/state.h"

namespace ordo::store {

struct Batch {
  std::vector<HistoryEvent>& events;
  const std::vector<InstanceId>& touched;
};

class Store {
 public:
  virtual ~Store() = default;
  virtual Status commit(const Batch& batch) = 0;
  virtual std::vector<HistoryEvent> history(InstanceId id) const = 0;
};

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(bool keep_history) : keep_history_(keep_history) {}
  Status commit(const Batch& batch) override;
  std::vector<HistoryEvent> history(InstanceId id) const override;

 private:
  bool keep_history_;
  std::unordered_map<InstanceId, std::vector<HistoryEvent>> history_;
};

// A timer as stored: instance 0 marks a job's retry backoff (`wait` is the job key).
struct TimerRow {
  std::int64_t due_ms = 0;
  std::uint64_t id = 0;
  runtime::TimerRecord record;
};

// What the runtime needs from a store that holds the state. Every call but the reads made
// between commands runs inside begin()/commit(); any error means the transaction must be
// rolled back.
class Durable {
 public:
  virtual ~Durable() = default;

  // Transactions. begin() takes the write lock (waiting for other processes up to the busy
  // timeout); commit() returns once the transaction is durable.
  virtual Status begin() = 0;
  virtual Status commit() = 0;
  virtual void rollback() noexcept = 0;
  // After begin(): whether another connection has committed since this one's previous
  // begin() (always true the first time).
  virtual bool changed_by_others() const noexcept = 0;

  // `count` fresh numbers from a named counter ("key", "instance"), the first returned.
  virtual Result<std::uint64_t> allocate(std::string_view counter, std::uint64_t count) = 0;

  // Instances. Loads `id` into `out` unless the stored revision equals `known_rev` (then
  // returns kUnchanged and leaves `out` alone). `out.plan` is left for the caller to resolve
  // from the process id and version returned.
  enum class Load : std::uint8_t { kMissing, kUnchanged, kLoaded };
  struct Loaded {
    Load load = Load::kMissing;
    std::string process_id;
    int version = 0;
  };
  virtual Result<Loaded> load_instance(InstanceId id, std::uint64_t known_rev,
                                       runtime::Instance& out) = 0;
  virtual Result<std::optional<InstanceId>> find_business_key(std::string_view process_id,
                                                              std::string_view key) = 0;
  // Writes the command's changes: instances (the whole of each; bumps `rev`), jobs (a null
  // record deletes the job), and history (assigns each event its sequence).
  struct Changes {
    std::vector<runtime::Instance*> instances;
    std::vector<std::pair<JobKey, const runtime::JobRecord*>> jobs;
    std::vector<HistoryEvent>* events = nullptr;
  };
  virtual Status write(const Changes& changes) = 0;

  // Jobs.
  virtual Result<std::optional<runtime::JobRecord>> load_job(JobKey key) = 0;
  // The incident `key`'s instance, if the incident is open.
  virtual Result<std::optional<InstanceId>> incident_instance(IncidentKey key) = 0;

  // Timers.
  virtual Status add_timer(const TimerRow& row) = 0;
  virtual Status remove_timer(std::uint64_t id) = 0;
  // Removes the timer start events of every version of `process_id`.
  virtual Status remove_start_timers(std::string_view process_id) = 0;
  // The earliest timer, if any (due or not).
  virtual Result<std::optional<TimerRow>> next_timer() = 0;

  // Message subscriptions by subscription key ("name\x1fcorrelation key"), in opening order.
  virtual Status add_subscription(std::string_view sub_key, const runtime::Subscription& s) = 0;
  virtual Status remove_subscription(std::uint64_t wait) = 0;
  virtual Result<std::vector<runtime::Subscription>> subscriptions(std::string_view sub_key) = 0;

  // Buffered messages. take_buffered removes and returns the oldest unexpired match.
  virtual Status add_buffered(runtime::BufferedMessage& message) = 0;
  virtual Result<std::optional<runtime::BufferedMessage>> take_buffered(std::string_view name,
                                                                         std::string_view key,
                                                                         std::int64_t now_ms) = 0;

  // Published message ids, with what their first publication did (JSON text).
  virtual Result<std::optional<std::string>> published(std::string_view message_id) = 0;
  virtual Status record_published(std::string_view message_id, std::string_view name,
                                  std::string_view key, std::string_view outcome,
                                  std::int64_t now_ms) = 0;
};

}  // namespace ordo::store
