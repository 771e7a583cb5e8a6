#include "store/store.h"

namespace ordo::store {

Status MemoryStore::commit(const Batch& batch) {
  if (!keep_history_) return Status::ok();
  for (const HistoryEvent& e : batch.events) history_[e.instance].push_back(e);
  return Status::ok();
}

std::vector<HistoryEvent> MemoryStore::history(InstanceId id) const {
  auto it = history_.find(id);
  return it == history_.end() ? std::vector<HistoryEvent>{} : it->second;
}

}  // namespace ordo::store
