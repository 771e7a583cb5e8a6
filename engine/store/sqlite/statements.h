// What the files of the SQLite store share: the prepared statements' slots and the helpers
// that bind and read rows. Internal to sqlite_store*.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "state/records.h"
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

template <class E, E Last>
std::optional<E> enum_from(std::string_view text) {
  for (int i = 0; i <= static_cast<int>(Last); ++i) {
    if (to_string(static_cast<E>(i)) == text) return static_cast<E>(i);
  }
  return std::nullopt;
}

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

inline state::JobRecord job_from(const Statement& st) {
  state::JobRecord j;
  j.key = static_cast<JobKey>(st.int64(0));
  j.instance = static_cast<InstanceId>(st.int64(1));
  j.element = static_cast<state::ElemKey>(st.int64(2));
  j.element_index = static_cast<ElementIndex>(st.int64(3));
  j.type = st.text(4);
  j.state = enum_from<JobState, JobState::kCancelled>(st.text(5)).value_or(JobState::kCreated);
  j.retries = static_cast<int>(st.int64(6));
  j.attempt = static_cast<int>(st.int64(7));
  j.idempotency_key = st.text(8);
  j.last_error = st.text(9);
  j.lock_owner = st.text(10);
  j.lock_expires_ms = st.int64(11);
  return j;
}

inline constexpr std::string_view kJobColumns =
    "key, instance_id, element_key, element_index, type, state, retries, attempt, "
    "idempotency_key, last_error, lock_owner, lock_expires_at";


// A prepared statement of this store, by slot (prepared on first use), reset when the scope
// ends. For use inside SqliteStore's member functions.
#define ORDO_STATEMENT(var, id, sql)                   \
  Result<Statement*> var##_found = statement(id, sql); \
  if (!var##_found) return var##_found.status();       \
  Statement& var = **var##_found;                      \
  Using var##_using(var)

}  // namespace ordo::store::sqlite
