// RowCache: what a database store (sqlite::SqliteStore, pg::PgStore) has read of its
// instances and jobs, kept as the objects the runtime works on.
//
// The database holds the state; a command changes these objects in place and the store's
// write() stores them. An instance is checked against the database once per transaction
// (by its revision, through the store's loader) and read again only when it changed; jobs
// are read again in each transaction that check_again() starts, and on every read between
// transactions. A rollback drops everything: the objects may be ahead of the database then.
// What the loaders read, and when a store calls check_again(), is each store's (its header
// says why).
//
// Thread safety: as the store's, one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ordo/status.h"
#include "state/records.h"
#include "store/store.h"

namespace ordo::store {

class RowCache {
 public:
  // What a store's instance loader found.
  enum class Load : std::uint8_t { kMissing, kUnchanged, kLoaded };
  struct Loaded {
    Load load = Load::kMissing;
    std::string process_id;  // kLoaded: the process version the instance runs
    int version = 0;
  };
  // Reads instance `id` into `out` unless its stored revision is `known_rev` (0: nothing
  // cached, read it whatever it is).
  using LoadInstance =
      std::function<Result<Loaded>(InstanceId id, std::uint64_t known_rev, state::Instance& out)>;
  // Reads job `key` (nullopt: there is none).
  using LoadJob = std::function<Result<std::optional<state::JobRecord>>(JobKey key)>;

  // How many instances to keep between transactions (the database holds them all).
  void set_limit(std::size_t instances) noexcept { limit_ = instances; }

  // ---- transactions ----
  // A transaction begins in which others may have committed since the last: cached
  // instances are checked again (once, by revision) and jobs read again.
  void check_again() noexcept {
    ++txn_;
    jobs_.clear();
  }
  // The transaction committed: what is cached is what is stored. Too many instances are
  // dropped, all at once.
  void committed() noexcept {
    if (instances_.size() > limit_) instances_.clear();
  }
  // The transaction did not commit: what is cached may be ahead of the database, forget it.
  void forget() noexcept {
    instances_.clear();
    jobs_.clear();
    ++txn_;
  }

  // ---- instances ----
  // Instance `id` (null: none), from the cache when it was checked in this transaction
  // (`in_txn`), otherwise checked or read with `load` and, when read, given its process
  // version with `attach`. A pointer handed out stays valid, and sees what is read later.
  Result<state::Instance*> instance(InstanceId id, bool in_txn, const LoadInstance& load,
                                    const Attach& attach);
  const state::Instance* cached_instance(InstanceId id) const noexcept;
  // A new instance, current in this transaction.
  state::Instance& add_instance(std::unique_ptr<state::Instance> instance);

  // ---- jobs ----
  // Job `key` (null: none), read with `load` unless read in this transaction (`in_txn`).
  Result<state::JobRecord*> job(JobKey key, bool in_txn, const LoadJob& load);
  state::JobRecord& put_job(state::JobRecord job);
  // Instance `id` is stored at revision `rev` and this transaction holds its row (a store
  // read the revision along with something else): a cached copy of that revision is current.
  void confirm(InstanceId id, std::uint64_t rev) noexcept {
    auto it = instances_.find(id);
    if (it != instances_.end() && it->second->rev == rev) it->second->checked_in = txn_;
  }
  // Whether instance `id` was read or checked in this transaction (it is current).
  bool checked(InstanceId id) const noexcept {
    auto it = instances_.find(id);
    return it != instances_.end() && it->second->checked_in == txn_;
  }
  // The job as read in this transaction, if it was.
  const state::JobRecord* cached_job(JobKey key) const noexcept {
    auto it = jobs_.find(key);
    return it == jobs_.end() ? nullptr : &it->second;
  }
  void remove_job(JobKey key) { jobs_.erase(key); }
  void forget_jobs() noexcept { jobs_.clear(); }
  // Forgets the jobs of instance `id`, whose rows the store changed itself.
  void forget_jobs_of(InstanceId id);

  // ---- writing a command's changes ----
  // A command's changes as rows to write: the instances and job records themselves.
  struct Rows {
    std::vector<state::Instance*> instances;
    std::vector<std::pair<JobKey, const state::JobRecord*>> jobs;  // by key; null: delete
    std::vector<HistoryEvent>* events = nullptr;
  };
  using WriteRows = std::function<Status(const Rows& rows)>;
  // Finds the rows of `changes` and writes them with `write_rows` (a value that cannot be
  // encoded is kInternal, a bug); then the finished instances are dropped: they are read
  // again if anyone asks, the cache keeps the running ones.
  Status write(Changes& changes, const WriteRows& write_rows);

 private:
  std::unordered_map<InstanceId, std::unique_ptr<state::Instance>> instances_;
  std::unordered_map<JobKey, state::JobRecord> jobs_;
  std::size_t limit_ = 10000;
  std::uint64_t txn_ = 1;  // counts transactions: a cached instance checked in this one is current
};

}  // namespace ordo::store
