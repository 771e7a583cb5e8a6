// Store: where the runtime commits what each command did.
//
// The runtime keeps live state in memory and hands every command's result to the store as
// one Batch: the instances it touched and the history it produced. A store must make the
// whole batch durable, or none of it, before commit() returns. MemoryStore keeps history in
// memory (tests, simulation); the SQLite store persists instances and history in one
// transaction.
#pragma once

#include <unordered_map>
#include <vector>

#include "ordo/history.h"
#include "ordo/status.h"

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

}  // namespace ordo::store
