// What the files of the SQLite store share: the prepared statements' slots and the helpers
// that bind and read rows. Internal to sqlite_store*.cc.
#pragma once

#include <cstdint>
#include <string>

#include "state/records.h"
#include "store/codec.h"
#include "store/sqlite/database.h"

namespace ordo::store::sqlite {

// Prepared statements, by slot.
enum Sql : int {
  kAllocateRead,
  kAllocateWrite,
  kLoadInstance,
  kInstanceRev,
  kFindBusinessKey,
  kInsertInstance,
  kUpdateInstance,
  kUpdateInstanceKeepVars,
  kUpdateInstanceKeepState,
  kUpdateInstanceKeepStateAndVars,
  kUpdateInstanceVersion,
  kCountInstances,
  kAddElementStats,
  kAddMinute,
  kAddCycle,
  kPruneMinutes,
  kPruneCycles,
  kDeleteIncidents,
  kInsertIncident,
  kUpsertJob,
  kDeleteJob,
  kInsertHistory,
  kLoadJob,
  kIncidentInstance,
  kIsHeld,
  kHoldJobs,
  kDamagedInstance,
  kReleaseJobs,
  kDeleteIncident,
  kCallTree,
  kDeploymentCount,
  kDeleteHeldJobs,
  kAddTimer,
  kRemoveTimer,
  kRemoveStartTimers,
  kNextTimer,
  kAddSubscription,
  kRemoveSubscription,
  kSubscriptions,
  kAddBuffered,
  kAddBufferedWithId,
  kTakeBuffered,
  kDeleteBuffered,
  kPublished,
  kRecordPublished,
  kLatestDeployment,
  kAddDeployment,
  kDataVersion,
  kAcquireAny,
  kAcquireTyped,
  kSqlCount
};

// Resets a statement when the scope ends, whatever happened.
class Using {
 public:
  explicit Using(Statement& s) : s_(s) {}
  ~Using() { s_.reset(); }
  Using(const Using&) = delete;
  Using& operator=(const Using&) = delete;

 private:
  Statement& s_;
};

inline std::int64_t i64(std::uint64_t v) {
  return static_cast<std::int64_t>(v);
}

// A row of `st` for the decoders (codec.h), while `st` stands on it.
class StatementRow final : public Columns {
 public:
  explicit StatementRow(const Statement& st) : st_(st) {}
  std::int64_t integer(int column) const override { return st_.int64(column); }
  std::string text(int column) const override { return st_.text(column); }
  bool is_null(int column) const override { return st_.is_null(column); }

 private:
  const Statement& st_;
};

// A prepared statement of this store, by slot (prepared on first use), reset when the scope
// ends. For use inside SqliteStore's member functions.
#define ORDO_STATEMENT(var, id, sql)                   \
  Result<Statement*> var##_found = statement(id, sql); \
  if (!var##_found) return var##_found.status();       \
  Statement& var = **var##_found;                      \
  Using var##_using(var)

}  // namespace ordo::store::sqlite
