#include "store/row_cache.h"

#include <algorithm>
#include <exception>

namespace ordo::store {

Result<state::Instance*> RowCache::instance(InstanceId id, bool in_txn, const LoadInstance& load,
                                            const Attach& attach) {
  auto it = instances_.find(id);
  state::Instance* cached = it == instances_.end() ? nullptr : it->second.get();
  // Checked in this transaction already. Reads between transactions are always checked:
  // another process may have committed since.
  if (cached != nullptr && in_txn && cached->checked_in == txn_) return cached;
  auto fresh = std::make_unique<state::Instance>();
  Result<Loaded> loaded = load(id, cached != nullptr ? cached->rev : 0, *fresh);
  if (!loaded) return loaded.status();
  switch (loaded->load) {
    case Load::kMissing:
      if (cached != nullptr) instances_.erase(it);
      return nullptr;
    case Load::kUnchanged:
      cached->checked_in = txn_;
      return cached;
    case Load::kLoaded:
      break;
  }
  if (!attach) return Status::internal("an instance was read before the runtime could attach it");
  if (Status s = attach(*fresh, loaded->process_id, loaded->version); !s) return s;
  fresh->checked_in = txn_;
  if (cached != nullptr) {
    *cached = std::move(*fresh);  // those who hold the pointer see the fresh state
    return cached;
  }
  state::Instance* out = fresh.get();
  instances_.emplace(id, std::move(fresh));
  return out;
}

const state::Instance* RowCache::cached_instance(InstanceId id) const noexcept {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : it->second.get();
}

state::Instance& RowCache::add_instance(std::unique_ptr<state::Instance> instance) {
  instance->checked_in = txn_;
  state::Instance& inst = *instance;
  instances_.insert_or_assign(inst.id, std::move(instance));
  return inst;
}

Result<state::JobRecord*> RowCache::job(JobKey key, bool in_txn, const LoadJob& load) {
  if (!in_txn) jobs_.erase(key);  // between transactions: read it fresh
  if (auto it = jobs_.find(key); it != jobs_.end()) return &it->second;
  Result<std::optional<state::JobRecord>> loaded = load(key);
  if (!loaded) return loaded.status();
  if (!*loaded) return nullptr;
  return &jobs_.insert_or_assign(key, std::move(**loaded)).first->second;
}

state::JobRecord& RowCache::put_job(state::JobRecord job) {
  const JobKey key = job.key;
  return jobs_.insert_or_assign(key, std::move(job)).first->second;
}

void RowCache::forget_jobs_of(InstanceId id) {
  std::erase_if(jobs_, [id](const auto& j) { return j.second.instance == id; });
}

Status RowCache::write(Changes& changes, const WriteRows& write_rows) {
  Rows rows;
  rows.instances.reserve(changes.instances.size());
  for (InstanceId id : changes.instances) {
    auto it = instances_.find(id);
    if (it != instances_.end()) rows.instances.push_back(it->second.get());
  }
  std::vector<JobKey> keys = changes.jobs;
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  rows.jobs.reserve(keys.size());
  for (JobKey k : keys) {
    auto it = jobs_.find(k);
    rows.jobs.emplace_back(k, it == jobs_.end() ? nullptr : &it->second);
  }
  rows.events = &changes.events;
  Status written;
  try {
    written = write_rows(rows);
  } catch (const std::exception& e) {
    return Status::internal(std::string("cannot encode a command's changes: ") + e.what() +
                            "; this is a bug in Ordo, please report it");
  }
  if (!written) return written;
  for (InstanceId id : changes.finished) instances_.erase(id);
  return Status::ok();
}

}  // namespace ordo::store
