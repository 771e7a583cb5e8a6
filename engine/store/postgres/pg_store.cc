#include "store/postgres/pg_store.h"

#include <algorithm>
#include <charconv>
#include <concepts>
#include <functional>
#include <utility>

#include "state/plan.h"  // element ids and versions of the processes instances run
#include "store/codec.h"  // the rows are the same in both stores
#include "store/instance_query.h"
#include "store/postgres/schema.h"

namespace ordo::store::pg {

enum class PgStore::Sql : std::uint8_t {
  kAllocate,
  kInstanceRev,
  kInstanceRevLocked,
  kLoadInstance,
  kLoadInstanceLocked,
  kFindBusinessKey,
  kFindBusinessKeys,
  kSubscriptionsOf,
  kInsertInstance,
  kUpdateInstance,
  kUpdateInstanceKeepVars,
  kUpdateInstanceVersion,
  kDeleteIncidents,
  kInsertIncident,
  kUpsertJob,
  kDeleteJob,
  kInsertHistory,
  kLoadJob,
  kLoadJobLocked,
  kPrefetchJobs,
  kPrefetchInstances,
  kDeploymentCount,
  kLockMessageKey,
  kIncidentInstance,
  kIsHeld,
  kHoldJobs,
  kDamagedInstance,
  kDeleteIncident,
  kCallTree,
  kReleaseJobs,
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
  kPublished,
  kRecordPublished,
  kDeployments,
  kLatestVersion,
  kAddDeployment,
  kAcquireAny,
  kAcquireTyped,
  kLockOwners,
  kReleaseLocks,
  kReleaseJob,
  kCountInstances,
  kAddCount,
  kAddElementStats,
  kAddMinute,
  kAddCycle,
  kPruneMinutes,
  kPruneCycles,
  kMinuteCounts,
  kCycleBuckets,
  kElementStats,
  kElementIncidents,
  kListJobs,
  kListIncidents,
  kHistory,
  kHistoryLog,
  kLogPosition,
  kSetLogPosition,
  kClaimLog,
  kCount  // not a statement: how many there are
};

// The statements, written for PostgreSQL after the SQLite store's (sqlite_store.cc says why
// each is as it is); where they differ, the comment says why. A switch, so that a statement
// added to Sql without its text does not compile.
std::string_view PgStore::sql_text(Sql id) noexcept {
  switch (id) {
    case Sql::kAllocate:
      // The row stays locked until commit: numbers are unique across nodes, and given back
      // with a transaction that rolls back.
      return "UPDATE meta SET value = value + $2 WHERE name = $1 RETURNING value - $2";
    case Sql::kInstanceRev:
      return "SELECT rev FROM instances WHERE id = $1";
    case Sql::kInstanceRevLocked:
      // Inside a transaction: commands on one instance take turns across nodes.
      return "SELECT rev FROM instances WHERE id = $1 FOR UPDATE";
    case Sql::kLoadInstance:
      return "SELECT " ORDO_INSTANCE_COLUMNS " FROM instances WHERE id = $1";
    case Sql::kLoadInstanceLocked:
      return "SELECT " ORDO_INSTANCE_COLUMNS " FROM instances WHERE id = $1 FOR UPDATE";
    case Sql::kFindBusinessKey:
      return "SELECT id FROM instances WHERE process_id = $1 AND business_key = $2 "
             "AND parent_id IS NULL";
    case Sql::kSubscriptionsOf:
      // kSubscriptions for the keys in $1 (a JSON array), with each row's key.
      return "SELECT sub_key, instance_id, wait_id, (SELECT rev FROM instances i WHERE i.id = "
             "s.instance_id FOR UPDATE) FROM subscriptions s WHERE sub_key IN (SELECT "
             "json_array_elements_text($1::json)) AND NOT EXISTS (SELECT 1 FROM incidents d "
             "WHERE d.instance_id = s.instance_id AND d.type = 'damaged') ORDER BY wait_id";
    case Sql::kFindBusinessKeys:
      // $1: [[process id, business key], ...]
      return "SELECT process_id, business_key, id FROM instances WHERE parent_id IS NULL AND "
             "(process_id, business_key) IN (SELECT k->>0, k->>1 FROM "
             "json_array_elements($1::json) k)";
    case Sql::kInsertInstance:
      return "INSERT INTO instances (id, process_id, version, business_key, state, parent_id, "
             "parent_element, rev, started_at, ended_at, end_event, variables, runtime) "
             "VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10, $11, $12)";
    case Sql::kUpdateInstance:
      return "UPDATE instances SET state = $2, rev = rev + 1, ended_at = $3, end_event = $4, "
             "runtime = $5, variables = $7 WHERE id = $1 AND rev = $6";
    case Sql::kUpdateInstanceKeepVars:
      return "UPDATE instances SET state = $2, rev = rev + 1, ended_at = $3, end_event = $4, "
             "runtime = $5 WHERE id = $1 AND rev = $6";
    case Sql::kUpdateInstanceVersion:
      return "UPDATE instances SET version = $2 WHERE id = $1";
    case Sql::kDeleteIncidents:
      // The instance's own incidents; a `damaged` one is the hold's (release_damaged).
      return "DELETE FROM incidents WHERE instance_id = $1 AND type <> 'damaged'";
    case Sql::kInsertIncident:
      return "INSERT INTO incidents (key, instance_id, element_id, job_key, type, message, "
             "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    case Sql::kUpsertJob:
      return "INSERT INTO jobs (" ORDO_JOB_COLUMNS
             ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
             "ON CONFLICT (key) DO UPDATE SET instance_id = EXCLUDED.instance_id, "
             "element_key = EXCLUDED.element_key, element_index = EXCLUDED.element_index, "
             "type = EXCLUDED.type, state = EXCLUDED.state, retries = EXCLUDED.retries, "
             "attempt = EXCLUDED.attempt, idempotency_key = EXCLUDED.idempotency_key, "
             "last_error = EXCLUDED.last_error, lock_owner = EXCLUDED.lock_owner, "
             "lock_expires_at = EXCLUDED.lock_expires_at";
    case Sql::kDeleteJob:
      return "DELETE FROM jobs WHERE key = $1";
    case Sql::kInsertHistory:
      // A transaction's rows at once: three arrays of the same length (insert_history()).
      return "INSERT INTO history (sequence, instance_id, events) SELECT * FROM "
             "unnest($1::bigint[], $2::bigint[], $3::text[])";
    case Sql::kLoadJob:
      return "SELECT " ORDO_JOB_COLUMNS " FROM jobs WHERE key = $1";
    case Sql::kLockMessageKey:
      // Until commit: a subscription being made and a message being published for the same
      // name and key take turns (class 0x4F52444F, "ORDO"; a hash collision only serialises).
      return "SELECT pg_advisory_xact_lock(1330791503, hashtext($1))";
    case Sql::kPrefetchJobs:
      // Locked in key order, as acquiring them locked them.
      return "SELECT " ORDO_JOB_COLUMNS " FROM jobs WHERE key = ANY($1::bigint[]) "
             "ORDER BY key FOR UPDATE";
    case Sql::kPrefetchInstances:
      // The id last: instance_from() reads the columns before it.
      return "SELECT " ORDO_INSTANCE_COLUMNS ", id FROM instances WHERE id = ANY($1::bigint[]) "
             "ORDER BY id FOR UPDATE";
    case Sql::kLoadJobLocked:
      // In a transaction: the job stays as read until commit (another node re-acquiring it
      // meanwhile waits), so its write never overwrites a lock taken in between.
      return "SELECT " ORDO_JOB_COLUMNS " FROM jobs WHERE key = $1 FOR UPDATE";
    case Sql::kIncidentInstance:
      return "SELECT instance_id FROM incidents WHERE key = $1";
    case Sql::kIsHeld:
      return "SELECT 1 FROM incidents WHERE instance_id = $1 AND type = 'damaged'";
    case Sql::kHoldJobs:
      return "UPDATE jobs SET state = 'incident', lock_owner = NULL, lock_expires_at = 0 "
             "WHERE instance_id = $1 AND state IN ('created', 'locked', 'failed')";
    case Sql::kDamagedInstance:
      return "SELECT instance_id FROM incidents WHERE key = $1 AND type = 'damaged'";
    case Sql::kDeleteIncident:
      return "DELETE FROM incidents WHERE key = $1";
    case Sql::kCallTree:
      // Up to the root, then down from it (no index on parent_id: this runs once per hold).
      return "WITH RECURSIVE up(id, parent_id) AS (SELECT id, parent_id FROM instances "
             "WHERE id = $1 UNION SELECT i.id, i.parent_id FROM instances i JOIN up ON "
             "i.id = up.parent_id), down(id) AS (SELECT id FROM up WHERE parent_id IS NULL "
             "UNION SELECT i.id FROM instances i JOIN down ON i.parent_id = down.id) "
             "SELECT id, process_id, version FROM instances WHERE id = $1 OR (id IN "
             "(SELECT id FROM down) AND state NOT IN ('completed', 'terminated')) ORDER BY id";
    case Sql::kDeleteHeldJobs:
      return "DELETE FROM jobs WHERE instance_id = $1 AND state = 'incident' AND key NOT IN "
             "(SELECT job_key FROM incidents WHERE instance_id = $1)";
    case Sql::kReleaseJobs:
      return "UPDATE jobs SET state = 'created' WHERE instance_id = $1 AND state = 'incident' "
             "AND key NOT IN (SELECT job_key FROM incidents WHERE instance_id = $1)";
    case Sql::kAddTimer:
      return "INSERT INTO timers (id, instance_id, wait_id, due_at, repetitions_left, "
             "interval_ms, process_id, version, start_event) "
             "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
             "ON CONFLICT (id) DO UPDATE SET instance_id = EXCLUDED.instance_id, "
             "wait_id = EXCLUDED.wait_id, due_at = EXCLUDED.due_at, "
             "repetitions_left = EXCLUDED.repetitions_left, interval_ms = EXCLUDED.interval_ms, "
             "process_id = EXCLUDED.process_id, version = EXCLUDED.version, "
             "start_event = EXCLUDED.start_event";
    case Sql::kRemoveTimer:
      return "DELETE FROM timers WHERE id = $1";
    case Sql::kRemoveStartTimers:
      return "DELETE FROM timers WHERE process_id = $1 AND start_event IS NOT NULL";
    case Sql::kNextTimer:
      return "SELECT id, instance_id, wait_id, due_at, repetitions_left, interval_ms, "
             "process_id, version, start_event FROM timers t WHERE NOT EXISTS (SELECT 1 FROM "
             "incidents i WHERE i.instance_id = t.instance_id AND i.type = 'damaged') "
             // A suspended instance's timers wait for its resume.
             "AND NOT EXISTS (SELECT 1 FROM instances n WHERE n.id = t.instance_id AND "
             "n.state = 'suspended') "
             // Locked until the firing commits; another node takes the next one meanwhile,
             // so a timer fires once (a start or cycle timer has no wait to check it by).
             "ORDER BY due_at, id LIMIT 1 FOR UPDATE OF t SKIP LOCKED";
    case Sql::kAddSubscription:
      return "INSERT INTO subscriptions (wait_id, instance_id, sub_key, message_name, "
             "correlation_key) VALUES ($1, $2, $3, $4, $5)";
    case Sql::kRemoveSubscription:
      return "DELETE FROM subscriptions WHERE wait_id = $1";
    case Sql::kSubscriptions:
      // With each subscriber's revision, its row locked: what reading it would take next.
      // (NULL for a subscription whose instance is gone, which the runtime passes by).
      return "SELECT instance_id, wait_id, (SELECT rev FROM instances i WHERE i.id = "
             "s.instance_id FOR UPDATE) FROM subscriptions s WHERE sub_key = $1 AND NOT "
             "EXISTS (SELECT 1 FROM incidents d WHERE d.instance_id = s.instance_id AND "
             "d.type = 'damaged') ORDER BY wait_id";
    case Sql::kAddBuffered:
      // Ids from a sequence: increasing, as SQLite numbers rows, and never waited for.
      return "INSERT INTO buffered_messages (id, message_name, correlation_key, variables, "
             "expires_at) VALUES (nextval('buffered_message_ids'), $1, $2, $3, $4) "
             "RETURNING id";
    case Sql::kAddBufferedWithId:
      return "INSERT INTO buffered_messages (id, message_name, correlation_key, variables, "
             "expires_at) VALUES ($1, $2, $3, $4, $5)";
    case Sql::kTakeBuffered:
      // One statement, skipping rows another node is taking: a message is taken once.
      return "DELETE FROM buffered_messages WHERE id = (SELECT id FROM buffered_messages "
             "WHERE message_name = $1 AND correlation_key = $2 AND expires_at >= $3 "
             "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, variables, expires_at";
    case Sql::kPublished:
      return "SELECT outcome FROM messages WHERE message_id = $1";
    case Sql::kRecordPublished:
      return "INSERT INTO messages (message_id, message_name, correlation_key, outcome, "
             "published_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id) DO NOTHING";
    case Sql::kDeployments:
      return "SELECT process_id, version, content_hash, file, xml, load_flags, deployed_at "
             "FROM deployments WHERE $1 = '' OR process_id = $1 "
             "ORDER BY process_id COLLATE \"C\", version";
    case Sql::kDeploymentCount:
      return "SELECT count(*) FROM deployments";
    case Sql::kLatestVersion:
      return "SELECT max(version) FROM deployments WHERE process_id = $1";
    case Sql::kAddDeployment:
      return "INSERT INTO deployments (process_id, version, content_hash, file, xml, "
             "load_flags, deployed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    case Sql::kAcquireAny:
      // Created jobs by key, then locks run out by expiry, as SQLite's; rows another node is
      // locking are skipped, so no job goes to two workers. (The second half runs only for
      // what the first left of the limit.)
      return "UPDATE jobs SET state = 'locked', lock_owner = $1, lock_expires_at = $2 "
             "WHERE key IN (SELECT key FROM (SELECT key FROM jobs WHERE state = 'created' AND "
             "type NOT IN (SELECT json_array_elements_text($5::json)) ORDER BY key LIMIT $4 "
             "FOR UPDATE SKIP LOCKED) fresh UNION ALL SELECT key FROM (SELECT key FROM jobs "
             "WHERE state = 'locked' AND lock_expires_at < $3 AND type NOT IN (SELECT "
             "json_array_elements_text($5::json)) ORDER BY lock_expires_at LIMIT $4 FOR UPDATE "
             "SKIP LOCKED) expired LIMIT $4) RETURNING " ORDO_JOB_COLUMNS;
    case Sql::kAcquireTyped:
      return "UPDATE jobs SET state = 'locked', lock_owner = $1, lock_expires_at = $2 "
             "WHERE key IN (SELECT key FROM (SELECT key FROM jobs WHERE state = 'created' AND "
             "type = $5 ORDER BY key LIMIT $4 FOR UPDATE SKIP LOCKED) fresh UNION ALL "
             "SELECT key FROM (SELECT key FROM jobs WHERE state = 'locked' AND "
             "lock_expires_at < $3 AND type = $5 ORDER BY lock_expires_at LIMIT $4 FOR UPDATE "
             "SKIP LOCKED) expired LIMIT $4) RETURNING " ORDO_JOB_COLUMNS;
    case Sql::kLockOwners:
      return "SELECT DISTINCT lock_owner FROM jobs WHERE state = 'locked' "
             "AND lock_owner IS NOT NULL";
    case Sql::kReleaseLocks:
      return "UPDATE jobs SET state = 'created', lock_owner = NULL, lock_expires_at = 0 "
             "WHERE state = 'locked' AND lock_owner = $1";
    case Sql::kReleaseJob:
      return "UPDATE jobs SET state = 'created', lock_owner = NULL, lock_expires_at = 0 "
             "WHERE key = $1 AND state = 'locked' AND lock_owner = $2";
    case Sql::kCountInstances:
      // Ordered as SQLite's grouping gives them: by byte, no end event first.
      return "SELECT process_id, state, end_event, sum(n) FROM instance_counts "
             "GROUP BY 1, 2, 3 HAVING sum(n) <> 0 ORDER BY process_id COLLATE \"C\", "
             "state COLLATE \"C\", end_event COLLATE \"C\"";
    case Sql::kAddCount:
      // Each node adds to rows of its own slot: nodes do not wait for each other's.
      return "INSERT INTO instance_counts (process_id, version, state, end_event, slot, n) "
             "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (process_id, version, state, "
             "end_event, slot) DO UPDATE SET n = instance_counts.n + EXCLUDED.n";
    case Sql::kAddElementStats:
      // A transaction's changes at once, as arrays, in key order (as every node locks them).
      return "INSERT INTO element_stats (process_id, version, element_id, slot, active, "
             "completed, terminated, time_ms, timed) SELECT p, v, e, $4, a, c, t, ms, n FROM "
             "unnest($1::text[], $2::int[], $3::text[], $5::bigint[], $6::bigint[], "
             "$7::bigint[], $8::bigint[], $9::bigint[]) AS d(p, v, e, a, c, t, ms, n) "
             "ON CONFLICT (process_id, version, element_id, slot) DO UPDATE SET "
             "active = element_stats.active + EXCLUDED.active, "
             "completed = element_stats.completed + EXCLUDED.completed, "
             "terminated = element_stats.terminated + EXCLUDED.terminated, "
             "time_ms = element_stats.time_ms + EXCLUDED.time_ms, "
             "timed = element_stats.timed + EXCLUDED.timed";
    case Sql::kAddMinute:
      return "INSERT INTO instance_minutes (minute, process_id, slot, started, completed, "
             "terminated) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (minute, process_id, slot) "
             "DO UPDATE SET started = instance_minutes.started + EXCLUDED.started, "
             "completed = instance_minutes.completed + EXCLUDED.completed, "
             "terminated = instance_minutes.terminated + EXCLUDED.terminated";
    case Sql::kAddCycle:
      return "INSERT INTO cycle_times (minute, process_id, end_event, bucket, slot, n) VALUES "
             "($1, $2, $3, $4, $5, $6) ON CONFLICT (minute, process_id, end_event, bucket, slot) "
             "DO UPDATE SET n = cycle_times.n + EXCLUDED.n";
    case Sql::kPruneMinutes:
      // Each node its own slot's rows: nodes do not wait on each other's.
      return "DELETE FROM instance_minutes WHERE minute < $1 AND slot = $2";
    case Sql::kPruneCycles:
      return "DELETE FROM cycle_times WHERE minute < $1 AND slot = $2";
    case Sql::kMinuteCounts:
      return "SELECT process_id, minute, sum(started), sum(completed), sum(terminated) FROM "
             "instance_minutes WHERE minute >= $1 GROUP BY process_id, minute "
             "ORDER BY process_id COLLATE \"C\", minute";
    case Sql::kCycleBuckets:
      return "SELECT process_id, end_event, bucket, sum(n) FROM cycle_times WHERE minute >= $1 "
             "GROUP BY process_id, end_event, bucket ORDER BY process_id COLLATE \"C\", "
             "end_event COLLATE \"C\", bucket";
    case Sql::kElementStats:
      return "SELECT element_id, sum(active), sum(completed), sum(terminated), sum(time_ms), "
             "sum(timed) FROM element_stats WHERE process_id = $1 AND version = $2 "
             "GROUP BY element_id ORDER BY element_id COLLATE \"C\"";
    case Sql::kElementIncidents:
      return "SELECT d.element_id, count(*) FROM incidents d JOIN instances n ON "
             "n.id = d.instance_id WHERE n.process_id = $1 AND n.version = $2 AND "
             "d.element_id IS NOT NULL GROUP BY d.element_id";
    case Sql::kListJobs:
      return "SELECT " ORDO_JOB_COLUMNS " FROM jobs WHERE $1 = '' OR type = $1 ORDER BY key";
    case Sql::kListIncidents:
      return "SELECT d.key, d.instance_id, d.element_id, d.job_key, d.type, d.message, "
             "d.created_at, n.process_id, n.version, n.business_key FROM incidents d "
             "JOIN instances n ON n.id = d.instance_id ORDER BY d.key";
    case Sql::kHistory:
      return "SELECT sequence, events FROM history WHERE instance_id = $1 ORDER BY sequence";
    case Sql::kHistoryLog:
      return "SELECT h.sequence, h.instance_id, n.process_id, n.version, n.business_key, h.events "
             "FROM history h JOIN instances n ON n.id = h.instance_id WHERE h.sequence >= "
             "COALESCE((SELECT max(sequence) FROM history WHERE sequence <= $1), 0) "
             "ORDER BY h.sequence LIMIT $2";
    case Sql::kLogPosition:
      return "SELECT value FROM meta WHERE name = $1";
    case Sql::kClaimLog:
      // value: the lease's end (ms) shifted up 20 bits, its owner in the low 20.
      return "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET "
             "value = EXCLUDED.value WHERE (meta.value >> 20) < $3 OR (meta.value & 1048575) = $4 "
             "RETURNING value";
    case Sql::kSetLogPosition:
      return "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET "
             "value = GREATEST(meta.value, EXCLUDED.value)";
    case Sql::kCount:
      break;
  }
  return {};
}

namespace {

// A number as a statement parameter (libpq takes text), kept in the object for the call:
// `run(id, {Num(key).c_str()})`. Unsigned values are stored as BIGINT, as SQLite's store
// stores them (a cast, not a check).
class Num {
 public:
  template <std::integral T>
  explicit Num(T value) noexcept {
    const auto v = static_cast<std::int64_t>(value);
    *std::to_chars(buf_, buf_ + sizeof buf_ - 1, v).ptr = '\0';
  }
  // NULL for 0: columns that store "none" as NULL.
  template <std::integral T>
  static Num or_null(T value) noexcept {
    Num n(value);
    n.null_ = value == 0;
    return n;
  }
  const char* c_str() const noexcept { return null_ ? nullptr : buf_; }

 private:
  char buf_[24];
  bool null_ = false;
};

// Appends an item to an array literal being built ("{" so far, or "{...,..."): a number as
// it is, a text quoted with its quotes and backslashes escaped. The caller closes it.
void array_number(std::string& to, std::int64_t v) {
  if (to.size() > 1) to += ',';
  to += Num(v).c_str();
}
void array_text(std::string& to, std::string_view v) {
  to += to.size() > 1 ? ",\"" : "\"";
  for (const char ch : v) {
    if (ch == '"' || ch == '\\') to += '\\';
    to += ch;
  }
  to += '"';
}

// NULL for an empty text.
const char* text_or_null(const std::string& text) noexcept {
  return text.empty() ? nullptr : text.c_str();
}

std::int64_t int64_at(const Rows& r, int row, int column) noexcept {
  return r.integer(row, column).value_or(0);
}

// Row `row` of `r` for the decoders (codec.h).
class ResultRow final : public Columns {
 public:
  ResultRow(const Rows& r, int row) noexcept : r_(r), row_(row) {}
  std::int64_t integer(int column) const override { return int64_at(r_, row_, column); }
  std::string text(int column) const override { return std::string(r_.text(row_, column)); }
  bool is_null(int column) const override { return r_.is_null(row_, column); }

 private:
  const Rows& r_;
  int row_;
};

// Each row of `r`, decoded with `from`.
template <class From>
auto decode_rows(const Rows& r, From from) {
  std::vector<decltype(from(ResultRow(r, 0)))> out;
  out.reserve(static_cast<std::size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back(from(ResultRow(r, i)));
  return out;
}

}  // namespace

// ---- connecting ----

Result<std::unique_ptr<PgStore>> PgStore::open(const std::string& url, const PgOptions& options) {
  if (Status s = check_schema_name(options.schema); !s) return s;
  Result<Connection> c = Connection::open(url, options.connect_timeout);
  if (!c) return c.status();
  if (Result<int> migrated = migrate(*c, options.schema); !migrated) return migrated.status();
  std::unique_ptr<PgStore> store(new PgStore(url, options));
  store->conn_.emplace(std::move(*c));
  if (Status s = store->prepare_session(); !s) return s;
  return store;
}

PgStore::~PgStore() = default;

Status PgStore::connect() {
  conn_.reset();
  Result<Connection> c = Connection::open(url_, options_.connect_timeout);
  if (!c) return c.status();
  conn_.emplace(std::move(*c));
  return prepare_session();
}

Status PgStore::prepare_session() {
  const auto fail = [this](Status s) {
    conn_.reset();
    return s;
  };
  // The schema name was checked (check_schema_name): it can be written into SQL.
  if (Status s = conn_->exec("SET search_path TO " + options_.schema); !s) return fail(s);
  const auto count = static_cast<std::size_t>(Sql::kCount);
  names_.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    names_[i] = "ordo_" + std::to_string(i);
    if (Status s = conn_->prepare(names_[i], std::string(sql_text(static_cast<Sql>(i)))); !s) {
      return fail(s);
    }
  }
  return Status::ok();
}

Status PgStore::connected() {
  if (conn_ && conn_->ok()) return Status::ok();
  if (in_txn_) {
    return Status::io_error(
        "the connection to PostgreSQL broke during a transaction, which is "
        "lost with it; run the command again");
  }
  return connect();
}

std::string PgStore::where() const {
  return "schema " + options_.schema + " of PostgreSQL at " +
         (conn_ ? conn_->where() : redacted(url_));
}

bool PgStore::planned_each_time(Sql id) noexcept {
  switch (id) {
    case Sql::kSubscriptionsOf:
    case Sql::kFindBusinessKeys:
    case Sql::kPrefetchJobs:
    case Sql::kPrefetchInstances:
      return true;
    default:
      return false;
  }
}

Status PgStore::send_statement(Sql id, const std::vector<Param>& params) {
  return planned_each_time(id) ? conn_->send_once(std::string(sql_text(id)), params)
                               : conn_->send(names_[static_cast<std::size_t>(id)], params);
}

Result<Rows> PgStore::run_statement(Sql id, const std::vector<Param>& params) {
  return planned_each_time(id) ? conn_->run_once(std::string(sql_text(id)), params)
                               : conn_->run(names_[static_cast<std::size_t>(id)], params);
}

Status PgStore::run_later(Sql id, std::initializer_list<Param> params) {
  if (!in_txn_ || queuing_) return run(id, params).status();
  Later& l = later_.emplace_back();
  l.id = id;
  l.params.reserve(params.size());
  for (Param p : params) {
    l.params.push_back(p == nullptr ? std::nullopt : std::optional<std::string>(p));
  }
  return Status::ok();
}

Status PgStore::send_later() {
  std::vector<Param> params;
  Status sent;
  for (const Later& l : later_) {
    params.clear();
    for (const auto& p : l.params) params.push_back(p ? p->c_str() : nullptr);
    sent = send_statement(l.id, params);
    if (!sent) break;
    if (l.must_change_one != 0) checks_.emplace_back(queued_, l.must_change_one);
    if (l.take != kNoTake) take_answers_.emplace_back(queued_, l.take);
    ++queued_;
  }
  later_.clear();  // sent, or lost with the transaction: never sent twice
  if (!sent) txn_failed_ = true;
  return sent;
}

template <typename Queue>
Result<std::vector<Rows>> PgStore::in_pipeline(Queue queue) {
  if (Status s = conn_->begin_pipeline(); !s) {
    txn_failed_ = true;
    return s;
  }
  queued_ = 0;
  checks_.clear();
  take_answers_.clear();
  Status sent;
  try {
    sent = queue();
  } catch (...) {
    queuing_ = false;
    txn_failed_ = true;
    (void)conn_->end_pipeline();
    throw;
  }
  queuing_ = false;
  Result<std::vector<Rows>> answered = conn_->end_pipeline();
  if (!sent || !answered) {
    txn_failed_ = true;
    return !sent ? sent : answered.status();
  }
  // The instance updates sent: each must have found the revision this transaction read.
  for (const auto& [answer, id] : checks_) {
    if (answer < answered->size() && (*answered)[answer].affected() != 1) {
      txn_failed_ = true;
      return Status(StatusCode::kConflict,
                    "instance " + std::to_string(id) +
                        " was changed by another process during this transaction; run it again");
    }
  }
  checks_.clear();
  // The takes of buffered messages sent: what they found waits for taken_buffered().
  for (const auto& [answer, index] : take_answers_) {
    Take& t = takes_[index];
    t.answered = true;
    if (answer < answered->size() && !(*answered)[answer].empty()) {
      taken_.emplace_back(t.ticket, buffered_from(ResultRow((*answered)[answer], 0), t.name, t.key));
    }
  }
  take_answers_.clear();
  return answered;
}

Result<Rows> PgStore::run(Sql id, std::initializer_list<Param> params) {
  if (deferring_ && in_txn_ && !queuing_) {
    if (Status s = run_later(id, params); !s) return s;
    return Rows();
  }
  if (Status s = connected(); !s) return s;
  if (!queuing_ && !later_.empty()) {
    // What waited goes first, in the same round trip; this statement's answer is the last.
    Result<std::vector<Rows>> answered = in_pipeline([&] {
      Status sent = send_later();
      return sent ? send_statement(id, std::vector<Param>(params)) : sent;
    });
    if (!answered) return answered.status();
    return std::move(answered->back());
  }
  if (queuing_) {
    if (Status s = send_statement(id, std::vector<Param>(params)); !s) {
      txn_failed_ = true;
      return s;
    }
    ++queued_;
    return Rows();
  }
  Result<Rows> rows = run_statement(id, std::vector<Param>(params));
  if (rows) return rows;
  // PostgreSQL aborts a transaction at its first error: nothing more of it may commit.
  if (in_txn_) txn_failed_ = true;
  if (!conn_->ok()) {
    return Status(StatusCode::kIoError, rows.status().message() + "; the connection is lost" +
                                            (in_txn_ ? " and the transaction with it" : "") +
                                            " (the next transaction connects again)");
  }
  return rows;
}

// ---- transactions ----

Status PgStore::begin() {
  in_txn_ = false;
  business_keys_.clear();
  subscribers_.clear();
  deferring_ = false;
  checks_.clear();
  commit_unknown_ = false;
  txn_failed_ = false;
  history_rows_.clear();
  history_next_ = 1;
  history_shift_ = 0;
  locked_keys_.clear();
  later_.clear();
  takes_.clear();
  taken_.clear();
  counts_.clear();
  elements_.clear();
  if (Status s = connected(); !s) return s;
  Status s = conn_->exec("BEGIN");
  if (!s && !conn_->ok()) {
    // The server closed the connection while it was idle (a restart, an idle timeout).
    // Nothing was done in it yet: connect again, once.
    if (Status c = connect(); !c) return c;
    s = conn_->exec("BEGIN");
  }
  if (!s) return s;
  in_txn_ = true;
  // Another node may have committed anything since, and PostgreSQL has no cheap way to tell:
  // cached instances are checked again (once, by revision) and jobs read again.
  cache_.check_again();
  return Status::ok();
}

Status PgStore::commit() {
  if (Status s = connected(); !s) {
    rollback();
    return s;
  }
  if (txn_failed_) {
    rollback();
    return Status::internal(
        "a statement of this transaction failed, so PostgreSQL rolled it "
        "back; it cannot be committed");
  }
  if (!takes_.empty()) {
    // A buffered message taken and handed to nobody would be lost with the commit.
    rollback();
    return Status::internal(
        "a transaction was about to commit with buffered messages taken and not delivered; "
        "this is a bug in Ordo, please report it");
  }
  // The counts go with what waits (run_later), in this node's slot.
  const Num slot(slot_);
  Status counted = counts_.flush([&](const std::string& process, int version,
                                     std::string_view state, const std::string& end_event,
                                     std::int64_t delta) {
    return run_later(Sql::kAddCount, {process.c_str(), Num(version).c_str(),
                                      std::string(state).c_str(), end_event.c_str(),
                                      slot.c_str(), Num(delta).c_str()});
  });
  if (!counted) {
    rollback();
    return counted;
  }
  Status minutes = counts_.flush_minutes([&](const CountDeltas::MinuteChanges& c) -> Status {
    for (const auto& [key, d] : c.minutes) {
      if (Status s = run_later(Sql::kAddMinute,
                               {Num(key.second).c_str(), key.first.c_str(), slot.c_str(),
                                Num(d.started).c_str(), Num(d.completed).c_str(),
                                Num(d.terminated).c_str()});
          !s) {
        return s;
      }
    }
    for (const auto& [key, n] : c.cycles) {
      const auto& [process, end_event, minute, bucket] = key;
      if (Status s = run_later(Sql::kAddCycle, {Num(minute).c_str(), process.c_str(),
                                                end_event.c_str(), Num(bucket).c_str(),
                                                slot.c_str(), Num(n).c_str()});
          !s) {
        return s;
      }
    }
    if (c.prune_before != 0) {
      const Num before(c.prune_before);
      if (Status s = run_later(Sql::kPruneMinutes, {before.c_str(), slot.c_str()}); !s) return s;
      if (Status s = run_later(Sql::kPruneCycles, {before.c_str(), slot.c_str()}); !s) return s;
    }
    return Status::ok();
  });
  if (!minutes) {
    rollback();
    return minutes;
  }
  Status stats = elements_.flush([&](const auto& deltas) {
    // As array literals: {"a","b"}, {1,2}.
    std::string process = "{", version = "{", element = "{", active = "{", completed = "{",
                terminated = "{", time_ms = "{", timed = "{";
    for (const auto& [key, d] : deltas) {
      const auto& [p, v, e] = key;
      array_text(process, p);
      array_number(version, v);
      array_text(element, e);
      array_number(active, d.active);
      array_number(completed, d.completed);
      array_number(terminated, d.terminated);
      array_number(time_ms, d.time_ms);
      array_number(timed, d.timed);
    }
    for (std::string* a : {&process, &version, &element, &active, &completed, &terminated,
                           &time_ms, &timed}) {
      *a += '}';
    }
    return run_later(Sql::kAddElementStats,
                     {process.c_str(), version.c_str(), element.c_str(), slot.c_str(),
                      active.c_str(), completed.c_str(), terminated.c_str(), time_ms.c_str(),
                      timed.c_str()});
  });
  if (!stats) {
    rollback();
    return stats;
  }
  // The history last: the counter's row is locked from here to the COMMIT below. (Taking
  // the counter sends what waited first; without history, it is sent on its own.)
  Status flushed;
  if (!history_rows_.empty()) {
    flushed = insert_history();
  } else if (!later_.empty()) {
    flushed = in_pipeline([this] { return send_later(); }).status();
  }
  if (!flushed) {
    rollback();
    return flushed;
  }
  history_rows_.clear();
  history_next_ = 1;
  if (Status s = conn_->exec("COMMIT"); !s) {
    const bool broke = !conn_->ok();
    rollback();
    commit_unknown_ = broke;
    if (broke) {
      return Status(StatusCode::kIoError,
                    s.message() +
                        "; the connection broke at commit: whether the transaction "
                        "was committed is not known");
    }
    return s;
  }
  in_txn_ = false;
  cache_.committed();
  return Status::ok();
}

void PgStore::rollback() noexcept {
  if (conn_ && conn_->ok()) {
    try {
      // Harmless when the server has ended the transaction already (a failed COMMIT). If
      // even that fails the connection is in no state to go on: the next call connects anew.
      if (!conn_->exec("ROLLBACK")) conn_.reset();
    } catch (...) {  // std::bad_alloc building the statement: the server rolls back anyway
    }                // when the connection closes
  }
  in_txn_ = false;
  txn_failed_ = false;
  history_rows_.clear();
  history_next_ = 1;
  history_shift_ = 0;
  later_.clear();
  checks_.clear();
  takes_.clear();
  take_answers_.clear();
  taken_.clear();
  counts_.clear();
  elements_.clear();
  deferring_ = false;
  business_keys_.clear();
  subscribers_.clear();
  cache_.forget();
}

Result<std::uint64_t> PgStore::allocate(std::string_view counter, std::uint64_t count) {
  Result<Rows> r = run(Sql::kAllocate, {std::string(counter).c_str(), Num(count).c_str()});
  if (!r) return r.status();
  if (r->empty()) {
    return Status(StatusCode::kCorruption, where() + " has no '" + std::string(counter) +
                                               "' counter; restore it from a backup");
  }
  return static_cast<std::uint64_t>(int64_at(*r, 0, 0));
}

// ---- instances and jobs, through the cache (as SqliteStore's) ----

Result<state::Instance*> PgStore::instance(InstanceId id) {
  // An instance checked in this transaction is locked too: load_instance() took its row.
  return cache_.instance(id, in_txn_, [this](InstanceId i, std::uint64_t rev, state::Instance& out) {
                           return load_instance(i, rev, out);
                         }, attach_);
}

Result<state::JobRecord*> PgStore::job(JobKey key) {
  return cache_.job(key, in_txn_, [this](JobKey k) { return load_job(k); });
}

Result<RowCache::Loaded> PgStore::load_instance(InstanceId id, std::uint64_t known_rev,
                                                state::Instance& out) {
  using Load = RowCache::Load;
  using Loaded = RowCache::Loaded;
  const Num id_param(id);
  if (known_rev != 0) {
    // Usually the cached copy is current: check the revision alone first.
    Result<Rows> r = run(in_txn_ ? Sql::kInstanceRevLocked : Sql::kInstanceRev, {id_param.c_str()});
    if (!r) return r.status();
    if (r->empty()) return Loaded{};
    if (static_cast<std::uint64_t>(int64_at(*r, 0, 0)) == known_rev) {
      return Loaded{Load::kUnchanged, {}, 0};
    }
  }
  Result<Rows> r = run(in_txn_ ? Sql::kLoadInstanceLocked : Sql::kLoadInstance, {id_param.c_str()});
  if (!r) return r.status();
  if (r->empty()) return Loaded{};
  return instance_from(ResultRow(*r, 0), id, known_rev, where(), out);
}

namespace {

// A PostgreSQL array of numbers, as a parameter's text: {1,2,3}.
template <typename Numbers>
std::string array_of(const Numbers& numbers) {
  std::string out = "{";
  for (auto n : numbers) {
    if (out.size() > 1) out += ',';
    out += std::to_string(n);
  }
  out += '}';
  return out;
}

}  // namespace

// Two queries for a group's jobs and their instances, instead of two round trips per
// command. What cannot be read here (a damaged instance) is left for the command to meet.
Status PgStore::prefetch_jobs(const std::vector<JobKey>& keys) {
  if (!in_txn_ || keys.size() < 2) return Status::ok();
  std::vector<JobKey> missing;
  std::vector<InstanceId> ids;
  for (JobKey k : keys) {
    if (const state::JobRecord* known = cache_.cached_job(k)) {
      ids.push_back(known->instance);
    } else {
      missing.push_back(k);
    }
  }
  if (!missing.empty()) {
    std::sort(missing.begin(), missing.end());
    Result<Rows> r = run(Sql::kPrefetchJobs, {array_of(missing).c_str()});
    if (!r) return r.status();
    for (int i = 0; i < r->size(); ++i) {
      state::JobRecord job = job_from(ResultRow(*r, i));
      ids.push_back(job.instance);
      cache_.put_job(std::move(job));
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  // Those this transaction has read (and locked) already are current.
  std::erase_if(ids, [this](InstanceId id) { return cache_.checked(id); });
  if (ids.empty()) return Status::ok();
  Result<Rows> r = run(Sql::kPrefetchInstances, {array_of(ids).c_str()});
  if (!r) return r.status();
  constexpr int kIdColumn = 11;  // after ORDO_INSTANCE_COLUMNS
  for (int i = 0; i < r->size(); ++i) {
    const auto id = static_cast<InstanceId>(int64_at(*r, i, kIdColumn));
    const ResultRow row(*r, i);
    (void)cache_.instance(
        id, true,
        [&](InstanceId, std::uint64_t known_rev, state::Instance& out) {
          return instance_from(row, id, known_rev, where(), out);
        },
        attach_);
  }
  return Status::ok();
}

Result<std::optional<state::JobRecord>> PgStore::load_job(JobKey key) {
  Result<Rows> r = run(in_txn_ ? Sql::kLoadJobLocked : Sql::kLoadJob, {Num(key).c_str()});
  if (!r) return r.status();
  if (r->empty()) return std::optional<state::JobRecord>();
  return std::optional<state::JobRecord>(job_from(ResultRow(*r, 0)));
}

namespace {
// "first\x1fsecond": a business key by process (business_keys_), and a subscription key (a
// message name and correlation key, as the runtime's subscription_key() makes it).
std::string joined(std::string_view first, std::string_view second) {
  std::string out;
  out.reserve(first.size() + 1 + second.size());
  out.append(first).append(1, '\x1f').append(second);
  return out;
}
}  // namespace

state::Instance& PgStore::add_instance(std::unique_ptr<state::Instance> instance) {
  // A root instance with a business key: a later start in this transaction finds it.
  if (in_txn_ && !business_keys_.empty() && instance->parent == 0 &&
      !instance->business_key.empty()) {
    business_keys_[joined(instance->plan->def->id, instance->business_key)] =
        instance->id;
  }
  return cache_.add_instance(std::move(instance));
}

Status PgStore::prefetch_business_keys(const std::vector<BusinessKey>& keys) {
  if (!in_txn_ || keys.size() < 2) return Status::ok();
  nlohmann::json pairs = nlohmann::json::array();
  for (const auto& [process_id, key] : keys) {
    if (key.empty()) continue;
    pairs.push_back({process_id, key});
    business_keys_.emplace(joined(process_id, key), std::nullopt);
  }
  if (pairs.empty()) return Status::ok();
  Result<Rows> r = run(Sql::kFindBusinessKeys, {encode_json(pairs).c_str()});
  if (!r) {
    business_keys_.clear();
    return r.status();
  }
  for (int i = 0; i < r->size(); ++i) {
    business_keys_[joined(r->text(i, 0), r->text(i, 1))] =
        static_cast<InstanceId>(int64_at(*r, i, 2));
  }
  return Status::ok();
}

Result<std::optional<InstanceId>> PgStore::find_business_key(std::string_view process_id,
                                                             std::string_view key) {
  if (in_txn_ && !business_keys_.empty()) {
    // Looked up with the others of this transaction. (Another node starting the same key
    // meanwhile is caught by the unique index at commit: a race lost, done again.)
    if (auto it = business_keys_.find(joined(process_id, key));
        it != business_keys_.end()) {
      return it->second;
    }
  }
  Result<Rows> r =
      run(Sql::kFindBusinessKey, {std::string(process_id).c_str(), std::string(key).c_str()});
  if (!r) return r.status();
  if (r->empty()) return std::optional<InstanceId>();
  return std::optional<InstanceId>(static_cast<InstanceId>(int64_at(*r, 0, 0)));
}

Result<std::optional<InstanceId>> PgStore::incident_instance(IncidentKey key) {
  Result<Rows> r = run(Sql::kIncidentInstance, {Num(key).c_str()});
  if (!r) return r.status();
  if (r->empty()) return std::optional<InstanceId>();
  return std::optional<InstanceId>(static_cast<InstanceId>(int64_at(*r, 0, 0)));
}

// ---- writing a command's changes ----

Status PgStore::write(Changes& changes) {
  return cache_.write(changes, [this](const RowCache::Rows& rows) { return write_rows(rows); });
}

Status PgStore::write_rows(const RowCache::Rows& rows) {
  // The history is kept for commit().
  if (rows.events != nullptr && !rows.events->empty()) {
    // Numbered from 1 in this transaction and kept: commit() numbers and inserts them.
    elements_.events(*rows.events, rows.instances);
    const std::uint64_t first = history_next_;
    history_next_ += rows.events->size();
    Status kept = store::write_history(
        *rows.events, first,
        [this](std::uint64_t sequence, InstanceId instance, const std::string& events) {
          history_rows_.push_back({sequence, instance, events});
          return Status::ok();
        });
    if (!kept) return kept;
  }
  // The rows wait (run_later) for the next statement whose answer is needed, or for the
  // commit: a group of commands sends all its writes in one round trip. What fails then (an
  // instance changed meanwhile, a business key taken) fails the transaction.
  deferring_ = true;
  Status written = [&]() -> Status {
    for (state::Instance* inst : rows.instances) {
      if (Status s = write_instance(*inst); !s) return s;
    }
    for (const auto& [key, job] : rows.jobs) {
      if (Status s = write_job(key, job); !s) return s;
    }
    return Status::ok();
  }();
  deferring_ = false;
  return written;
}

Status PgStore::write_instance(state::Instance& inst) {
  counts_.writing(inst);
  const std::string vars =
      inst.rev == 0 || inst.vars_changed ? encode_json(inst.vars) : std::string();
  const std::string rt = encode_runtime(inst);
  const char* end_event =
      inst.end_event == kNoIndex ? nullptr : inst.plan->element(inst.end_event).id.c_str();
  const std::string state(to_string(inst.state));
  const Num id(inst.id);
  const Num ended = Num::or_null(inst.ended_ms);
  if (inst.rev == 0) {
    const bool root = inst.parent == 0;
    Result<Rows> r = run(
        Sql::kInsertInstance,
        {id.c_str(), inst.plan->def->id.c_str(), Num(inst.plan->version).c_str(),
         text_or_null(inst.business_key), state.c_str(), root ? nullptr : Num(inst.parent).c_str(),
         root ? nullptr : Num(inst.parent_element).c_str(), Num(inst.started_ms).c_str(),
         ended.c_str(), end_event, vars.c_str(), rt.c_str()});
    if (!r) return r.status();
  } else {
    // The variables are written only when a command may have changed them.
    const Num rev(inst.rev);
    Result<Rows> r =
        inst.vars_changed
            ? run(Sql::kUpdateInstance, {id.c_str(), state.c_str(), ended.c_str(), end_event,
                                         rt.c_str(), rev.c_str(), vars.c_str()})
            : run(Sql::kUpdateInstanceKeepVars,
                  {id.c_str(), state.c_str(), ended.c_str(), end_event, rt.c_str(), rev.c_str()});
    if (!r) return r.status();
    if (!later_.empty()) later_.back().must_change_one = inst.id;  // checked once answered
    if (inst.plan->version != inst.stored_version) {  // migrated
      Result<Rows> v = run(Sql::kUpdateInstanceVersion, {id.c_str(), Num(inst.plan->version).c_str()});
      if (!v) return v.status();
    }
  }
  inst.vars_changed = false;
  inst.stored_state = inst.state;
  inst.stored_end_event = inst.end_event;
  inst.stored_version = inst.plan->version;
  ++inst.rev;
  if (!inst.incidents_changed) return Status::ok();
  if (Result<Rows> r = run(Sql::kDeleteIncidents, {id.c_str()}); !r) return r.status();
  for (const state::Incident& i : inst.incidents) {
    const char* element =
        i.element_index == kNoIndex ? nullptr : inst.plan->element(i.element_index).id.c_str();
    Result<Rows> r =
        run(Sql::kInsertIncident,
            {Num(i.key).c_str(), id.c_str(), element, Num(i.job).c_str(),
             std::string(to_string(i.kind)).c_str(), i.message.c_str(), Num(i.created_ms).c_str()});
    if (!r) return r.status();
  }
  inst.incidents_changed = false;
  return Status::ok();
}

Status PgStore::write_job(JobKey key, const state::JobRecord* job) {
  if (job == nullptr) return run(Sql::kDeleteJob, {Num(key).c_str()}).status();
  return run(Sql::kUpsertJob,
             {Num(job->key).c_str(), Num(job->instance).c_str(), Num(job->element).c_str(),
              Num(job->element_index).c_str(), job->type.c_str(),
              std::string(to_string(job->state)).c_str(), Num(job->retries).c_str(),
              Num(job->attempt).c_str(), job->idempotency_key.c_str(), job->last_error.c_str(),
              text_or_null(job->lock_owner), Num(job->lock_expires_ms).c_str()})
      .status();
}

Status PgStore::insert_history() {
  history_shift_ = 0;
  if (history_rows_.empty()) return Status::ok();
  Result<std::uint64_t> first = allocate("history", history_next_ - 1);
  if (!first) return first.status();
  const std::uint64_t shift = *first - 1;
  // One statement for all the rows, as array literals: {1,2} and {"[...]","[...]"}, each
  // text quoted with its quotes and backslashes escaped.
  std::string sequences = "{", instances = "{", events = "{";
  std::size_t size = 2;
  for (const HistoryRow& row : history_rows_) size += row.events.size() + 8;
  events.reserve(size + size / 4);
  for (const HistoryRow& row : history_rows_) {
    array_number(sequences, static_cast<std::int64_t>(row.sequence + shift));
    array_number(instances, static_cast<std::int64_t>(row.instance));
    array_text(events, row.events);
  }
  sequences += '}';
  instances += '}';
  events += '}';
  Result<std::vector<Rows>> inserted = in_pipeline([&]() -> Status {
    return conn_->send(names_[static_cast<std::size_t>(Sql::kInsertHistory)],
                       {sequences.c_str(), instances.c_str(), events.c_str()});
  });
  if (!inserted) return inserted.status();
  history_shift_ = static_cast<std::int64_t>(shift);
  return Status::ok();
}

// ---- damaged instances ----
// As SqliteStore's: a held instance is one with an open `damaged` incident, whose timers and
// subscriptions the queries skip and whose jobs are set aside here.

Result<bool> PgStore::hold_damaged(InstanceId id, IncidentKey key, std::string_view message,
                                   std::int64_t now_ms) {
  const Num id_param(id);
  // Two nodes finding the instance damaged at once take turns on its row: the second sees
  // the first's hold. (Its row is read for the lock only; it is not changed.)
  if (Result<Rows> r = run(Sql::kInstanceRevLocked, {id_param.c_str()}); !r) return r.status();
  {
    Result<Rows> held = run(Sql::kIsHeld, {id_param.c_str()});
    if (!held) return held.status();
    if (!held->empty()) return false;
  }
  if (Result<Rows> r =
          run(Sql::kInsertIncident, {Num(key).c_str(), id_param.c_str(), nullptr, "0",
                                     std::string(to_string(IncidentKind::kDamaged)).c_str(),
                                     std::string(message).c_str(), Num(now_ms).c_str()});
      !r) {
    return r.status();
  }
  if (Result<Rows> r = run(Sql::kHoldJobs, {id_param.c_str()}); !r) return r.status();
  cache_.forget_jobs_of(id);
  return true;
}

Result<std::optional<InstanceId>> PgStore::damaged_instance(IncidentKey key) {
  Result<Rows> r = run(Sql::kDamagedInstance, {Num(key).c_str()});
  if (!r) return r.status();
  if (r->empty()) return std::optional<InstanceId>();
  return std::optional<InstanceId>(static_cast<InstanceId>(int64_at(*r, 0, 0)));
}

Result<std::vector<Store::TreeMember>> PgStore::call_tree(InstanceId id) {
  Result<Rows> r = run(Sql::kCallTree, {Num(id).c_str()});
  if (!r) return r.status();
  std::vector<TreeMember> out;
  out.reserve(static_cast<std::size_t>(r->size()));
  for (int i = 0; i < r->size(); ++i) {
    out.push_back({static_cast<InstanceId>(int64_at(*r, i, 0)), std::string(r->text(i, 1)),
                   static_cast<int>(int64_at(*r, i, 2))});
  }
  if (out.empty()) out.push_back({id, {}, 0});
  return out;
}

Status PgStore::release_damaged(InstanceId id, IncidentKey key, bool ended) {
  if (Result<Rows> r = run(Sql::kDeleteIncident, {Num(key).c_str()}); !r) return r.status();
  // The jobs held for it back in the queue, or gone with an instance that has ended.
  if (Result<Rows> r = run(ended ? Sql::kDeleteHeldJobs : Sql::kReleaseJobs, {Num(id).c_str()});
      !r) {
    return r.status();
  }
  cache_.forget_jobs_of(id);
  return Status::ok();
}

// ---- timers ----

Status PgStore::add_timer(const TimerRow& row) {
  const state::TimerRecord& t = row.record;
  const bool start = t.start_event != kNoIndex;
  return run_later(Sql::kAddTimer,
                   {Num(row.id).c_str(), Num(t.instance).c_str(), Num(t.wait).c_str(),
                    Num(row.due_ms).c_str(), Num(t.repetitions_left).c_str(),
                    Num(t.interval_ms).c_str(), start ? t.process_id.c_str() : nullptr,
                    start ? Num(t.version).c_str() : nullptr,
                    start ? Num(t.start_event).c_str() : nullptr});
}

Status PgStore::remove_timer(std::int64_t, std::uint64_t id) {
  return run_later(Sql::kRemoveTimer, {Num(id).c_str()});
}

Status PgStore::remove_start_timers(std::string_view process_id) {
  return run_later(Sql::kRemoveStartTimers, {std::string(process_id).c_str()});
}

Result<std::optional<TimerRow>> PgStore::next_timer() {
  Result<Rows> r = run(Sql::kNextTimer);
  if (!r) return r.status();
  if (r->empty()) return std::optional<TimerRow>();
  return std::optional<TimerRow>(timer_from(ResultRow(*r, 0)));
}

// ---- message subscriptions ----

// A subscriber adds its subscription, then looks in the buffer; a publisher reads the
// subscriptions, then buffers. Under READ COMMITTED neither would see the other's
// uncommitted row, and the message would wait in the buffer beside its subscriber: both
// take the key's lock first, so one sees what the other committed.
Status PgStore::lock_message_key(std::string_view sub_key) {
  if (!in_txn_) return Status::ok();
  std::string key(sub_key);
  if (locked_keys_.count(key) != 0) return Status::ok();
  if (Status s = run_later(Sql::kLockMessageKey, {key.c_str()}); !s) return s;
  locked_keys_.insert(std::move(key));
  return Status::ok();
}

Status PgStore::prefetch_subscriptions(const std::vector<MessageKey>& messages) {
  if (!in_txn_ || messages.size() < 2) return Status::ok();
  std::vector<std::string> sub_keys;
  sub_keys.reserve(messages.size());
  for (const auto& [name, key] : messages) sub_keys.push_back(joined(name, key));
  // The keys' locks in one order, whoever takes them, so two nodes never wait for each other.
  std::sort(sub_keys.begin(), sub_keys.end());
  sub_keys.erase(std::unique(sub_keys.begin(), sub_keys.end()), sub_keys.end());
  std::erase_if(sub_keys, [this](const std::string& k) { return subscribers_.count(k) != 0; });
  if (sub_keys.size() < 2) return Status::ok();
  for (const std::string& key : sub_keys) {
    if (Status locked = lock_message_key(key); !locked) return locked;
  }
  Result<Rows> r = run(Sql::kSubscriptionsOf, {encode_json(nlohmann::json(sub_keys)).c_str()});
  if (!r) return r.status();
  for (std::string& key : sub_keys) subscribers_.emplace(std::move(key), std::vector<state::Subscription>());
  for (int i = 0; i < r->size(); ++i) {
    const auto id = static_cast<InstanceId>(int64_at(*r, i, 1));
    subscribers_[std::string(r->text(i, 0))].push_back(
        {id, static_cast<std::uint64_t>(int64_at(*r, i, 2))});
    if (!r->is_null(i, 3)) cache_.confirm(id, static_cast<std::uint64_t>(int64_at(*r, i, 3)));
  }
  return Status::ok();
}

Status PgStore::add_subscription(std::string_view sub_key, const state::Subscription& s) {
  if (Status locked = lock_message_key(sub_key); !locked) return locked;
  if (auto it = subscribers_.find(std::string(sub_key)); it != subscribers_.end()) {
    auto& subs = it->second;
    subs.insert(std::upper_bound(subs.begin(), subs.end(), s,
                                 [](const state::Subscription& a, const state::Subscription& b) {
                                   return a.wait < b.wait;
                                 }),
                s);
  }
  const std::size_t cut = sub_key.find('\x1f');
  const std::string name(sub_key.substr(0, cut));
  const std::string correlation(cut == std::string_view::npos ? std::string_view()
                                                              : sub_key.substr(cut + 1));
  return run_later(Sql::kAddSubscription,
                   {Num(s.wait).c_str(), Num(s.instance).c_str(), std::string(sub_key).c_str(),
                    name.c_str(), correlation.c_str()});
}

Status PgStore::remove_subscription(std::string_view sub_key, std::uint64_t wait) {
  if (auto it = subscribers_.find(std::string(sub_key)); it != subscribers_.end()) {
    std::erase_if(it->second, [wait](const state::Subscription& s) { return s.wait == wait; });
  }
  return run_later(Sql::kRemoveSubscription, {Num(wait).c_str()});
}

Status PgStore::subscriptions(std::string_view sub_key, std::vector<state::Subscription>& out) {
  out.clear();
  if (in_txn_) {
    if (auto it = subscribers_.find(std::string(sub_key)); it != subscribers_.end()) {
      out = it->second;  // read with the others of this transaction (and their locks taken)
      return Status::ok();
    }
  }
  if (Status locked = lock_message_key(sub_key); !locked) return locked;
  Result<Rows> r = run(Sql::kSubscriptions, {std::string(sub_key).c_str()});
  if (!r) return r.status();
  out.reserve(static_cast<std::size_t>(r->size()));
  for (int i = 0; i < r->size(); ++i) {
    const auto id = static_cast<InstanceId>(int64_at(*r, i, 0));
    out.push_back({id, static_cast<std::uint64_t>(int64_at(*r, i, 1))});
    // The subscriber's row is locked now: a cached copy of its revision needs no check.
    if (in_txn_ && !r->is_null(i, 2)) {
      cache_.confirm(id, static_cast<std::uint64_t>(int64_at(*r, i, 2)));
    }
  }
  return Status::ok();
}

// ---- buffered messages ----

Status PgStore::add_buffered(state::BufferedMessage& m, std::int64_t) {
  const std::string vars = encode_json(m.variables);
  const Num expires(m.expires_ms);
  if (m.id != 0) {
    return run(Sql::kAddBufferedWithId, {Num(m.id).c_str(), m.name.c_str(),
                                         m.correlation_key.c_str(), vars.c_str(), expires.c_str()})
        .status();
  }
  Result<Rows> r = run(Sql::kAddBuffered,
                       {m.name.c_str(), m.correlation_key.c_str(), vars.c_str(), expires.c_str()});
  if (!r) return r.status();
  m.id = static_cast<std::uint64_t>(int64_at(*r, 0, 0));
  return Status::ok();
}

Status PgStore::take_buffered_later(std::string_view name, std::string_view key,
                                    std::int64_t now_ms, std::uint64_t ticket) {
  if (!in_txn_ || queuing_) {
    return Status::internal("a buffered message can be taken later only inside a transaction");
  }
  Take& t = takes_.emplace_back();
  t.ticket = ticket;
  t.name = name;
  t.key = key;
  Later& l = later_.emplace_back();
  l.id = Sql::kTakeBuffered;
  l.params = {t.name, t.key, std::string(Num(now_ms).c_str())};
  l.take = takes_.size() - 1;
  return Status::ok();
}

Result<std::vector<Store::Taken>> PgStore::taken_buffered() {
  const bool unsent =
      std::any_of(takes_.begin(), takes_.end(), [](const Take& t) { return !t.answered; });
  if (unsent) {
    if (Status s = connected(); !s) return s;
    Result<std::vector<Rows>> answered = in_pipeline([this] { return send_later(); });
    if (!answered) return answered.status();
    if (std::any_of(takes_.begin(), takes_.end(), [](const Take& t) { return !t.answered; })) {
      txn_failed_ = true;
      return Status::internal("a take of a buffered message went unanswered");
    }
  }
  takes_.clear();
  return std::exchange(taken_, {});
}

Result<std::optional<state::BufferedMessage>> PgStore::take_buffered(std::string_view name,
                                                                     std::string_view key,
                                                                     std::int64_t now_ms) {
  Result<Rows> r = run(Sql::kTakeBuffered,
                       {std::string(name).c_str(), std::string(key).c_str(), Num(now_ms).c_str()});
  if (!r) return r.status();
  if (r->empty()) return std::optional<state::BufferedMessage>();
  return std::optional<state::BufferedMessage>(buffered_from(ResultRow(*r, 0), name, key));
}

// ---- published message ids ----

Result<std::optional<std::string>> PgStore::published(std::string_view message_id) {
  Result<Rows> r = run(Sql::kPublished, {std::string(message_id).c_str()});
  if (!r) return r.status();
  if (r->empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r->text(0, 0)));
}

Status PgStore::record_published(std::string_view message_id, std::string_view name,
                                 std::string_view key, std::string_view outcome,
                                 std::int64_t now_ms) {
  const std::string id(message_id);
  Result<Rows> r =
      run(Sql::kRecordPublished, {id.c_str(), std::string(name).c_str(), std::string(key).c_str(),
                                  std::string(outcome).c_str(), Num(now_ms).c_str()});
  if (!r) return r.status();
  // As SQLite's store (whose INSERT fails on the taken key): kConflict, and the command is
  // rolled back, so a message is acted on once; published() then says what the first did.
  // Doing nothing instead of failing keeps PostgreSQL's transaction usable for the rollback.
  if (r->affected() == 0) {
    return Status(StatusCode::kConflict, "message id '" + id +
                                             "' was published by another node meanwhile; "
                                             "publish it again to learn what it did");
  }
  return Status::ok();
}

// ---- deployments ----

Result<std::vector<DeploymentRow>> PgStore::deployments(std::string_view process_id) {
  Result<Rows> r = run(Sql::kDeployments, {std::string(process_id).c_str()});
  if (!r) return r.status();
  return decode_rows(*r, deployment_from);
}

Result<int> PgStore::latest_version(std::string_view process_id) {
  Result<Rows> r = run(Sql::kLatestVersion, {std::string(process_id).c_str()});
  if (!r) return r.status();
  return static_cast<int>(int64_at(*r, 0, 0));  // max() of no rows is NULL: 0
}

Result<std::int64_t> PgStore::deployment_count() {
  Result<Rows> r = run(Sql::kDeploymentCount);
  if (!r) return r.status();
  return int64_at(*r, 0, 0);
}

Status PgStore::add_deployment(const DeploymentRow& d) {
  return run(Sql::kAddDeployment,
             {d.process_id.c_str(), Num(d.version).c_str(), d.content_hash.c_str(), d.file.c_str(),
              d.xml.c_str(), Num(d.load_flags).c_str(), Num(d.deployed_ms).c_str()})
      .status();
}

// ---- jobs for workers ----

Result<std::vector<state::JobRecord>> PgStore::acquire_jobs(
    std::string_view type, std::string_view owner, std::int64_t now_ms, std::int64_t lock_until_ms,
    int limit, const std::vector<std::string>& except) {
  // The types to skip go as one JSON array: a parameter, never SQL.
  const std::string filter = type.empty() ? nlohmann::json(except).dump() : std::string(type);
  // Planned for these parameters each time, not prepared: a prepared statement's generic
  // plan, made before the table's statistics know of a burst of new jobs, sorted every open
  // job of the type (tens of milliseconds at 100,000) where an index finds the first few.
  // And with plain index scans only. The jobs table is a queue: its rows die as fast as
  // they come, so its statistics are always out of date, and while it looks small the
  // planner prefers a sequential or a bitmap scan, which visit every dead row again at
  // every fetch-and-lock until a vacuum (1 to 2.5 ms after a few thousand jobs). A plain
  // index scan marks each dead entry it meets, and the next search skips it (0.03 ms).
  // What waited goes first, all in one round trip.
  if (Status s = connected(); !s) return s;
  const std::string owner_text(owner);
  const Num until(lock_until_ms), now(now_ms), count(limit);
  const std::string sql(sql_text(type.empty() ? Sql::kAcquireAny : Sql::kAcquireTyped));
  Result<std::vector<Rows>> answered = in_pipeline([&] {
    Status sent = send_later();
    if (sent) sent = conn_->send_once("SET LOCAL enable_bitmapscan = off");
    if (sent) sent = conn_->send_once("SET LOCAL enable_seqscan = off");
    if (sent) {
      sent = conn_->send_once(
          sql, {owner_text.c_str(), until.c_str(), now.c_str(), count.c_str(), filter.c_str()});
    }
    if (sent) sent = conn_->send_once("SET LOCAL enable_bitmapscan TO DEFAULT");
    if (sent) sent = conn_->send_once("SET LOCAL enable_seqscan TO DEFAULT");
    return sent;
  });
  if (!answered) return answered.status();
  if (answered->size() < 3) return Status::internal("a fetch-and-lock went unanswered");
  const Rows& r = (*answered)[answered->size() - 3];
  std::vector<state::JobRecord> out = decode_rows(r, job_from);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return out;
}

Result<std::vector<std::string>> PgStore::lock_owners() {
  Result<Rows> r = run(Sql::kLockOwners);
  if (!r) return r.status();
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(r->size()));
  for (int i = 0; i < r->size(); ++i) out.emplace_back(r->text(i, 0));
  return out;
}

Result<int> PgStore::release_locks(std::string_view owner) {
  Result<Rows> r = run(Sql::kReleaseLocks, {std::string(owner).c_str()});
  if (!r) return r.status();
  return static_cast<int>(r->affected());
}

Status PgStore::release_job(JobKey key, std::string_view owner) {
  return run(Sql::kReleaseJob, {Num(key).c_str(), std::string(owner).c_str()}).status();
}

// ---- listings ----

Result<std::vector<InstanceCountRow>> PgStore::count_instances() {
  Result<Rows> r = run(Sql::kCountInstances);
  if (!r) return r.status();
  return decode_rows(*r, count_row_from);
}

Result<std::vector<MinuteCount>> PgStore::minute_counts(std::int64_t from_ms) {
  Result<Rows> r = run(Sql::kMinuteCounts, {Num(from_ms).c_str()});
  if (!r) return r.status();
  std::vector<MinuteCount> out;
  for (int i = 0; i < r->size(); ++i) {
    out.push_back({.process_id = std::string(r->text(i, 0)),
                   .minute_ms = r->integer(i, 1).value_or(0),
                   .started = r->integer(i, 2).value_or(0),
                   .completed = r->integer(i, 3).value_or(0),
                   .terminated = r->integer(i, 4).value_or(0)});
  }
  return out;
}

Result<std::vector<CycleBucketRow>> PgStore::cycle_buckets(std::int64_t from_ms) {
  Result<Rows> r = run(Sql::kCycleBuckets, {Num(from_ms).c_str()});
  if (!r) return r.status();
  std::vector<CycleBucketRow> out;
  for (int i = 0; i < r->size(); ++i) {
    out.push_back({.process_id = std::string(r->text(i, 0)),
                   .end_event = std::string(r->text(i, 1)),
                   .bucket = static_cast<int>(r->integer(i, 2).value_or(0)),
                   .count = r->integer(i, 3).value_or(0)});
  }
  return out;
}

Result<std::vector<ElementStatistics>> PgStore::element_stats(std::string_view process_id,
                                                             int version) {
  const std::string process(process_id);
  const Num v(version);
  Result<Rows> r = run(Sql::kElementStats, {process.c_str(), v.c_str()});
  if (!r) return r.status();
  std::vector<ElementStatistics> out;
  out.reserve(static_cast<std::size_t>(r->size()));
  for (int i = 0; i < r->size(); ++i) {
    out.push_back({.element_id = std::string(r->text(i, 0)), .active = r->integer(i, 1).value_or(0),
                   .completed = r->integer(i, 2).value_or(0),
                   .terminated = r->integer(i, 3).value_or(0),
                   .time_ms = r->integer(i, 4).value_or(0),
                   .timed = r->integer(i, 5).value_or(0)});
  }
  Result<Rows> inc = run(Sql::kElementIncidents, {process.c_str(), v.c_str()});
  if (!inc) return inc.status();
  for (int i = 0; i < inc->size(); ++i) {
    add_incidents(out, inc->text(i, 0), inc->integer(i, 1).value_or(0));
  }
  return out;
}

Result<std::vector<InstanceRow>> PgStore::list_instances(const InstanceQuery& query) {
  // Planned for its parameters each time: a prefix (LIKE) uses its index only then.
  if (Status s = connected(); !s) return s;
  const auto search = [&](int recent) -> Result<std::vector<InstanceRow>> {
    const InstanceSql sql = instance_query_sql(query, SqlDialect::kPostgres, recent);
    std::vector<Param> params;
    for (const std::string& p : sql.params) params.push_back(p.c_str());
    Result<Rows> r = conn_->run_once(sql.text, params);
    if (!r) {
      if (in_txn_) txn_failed_ = true;
      return r.status();
    }
    return decode_rows(*r, instance_row_from);
  };
  if (query.business_key_prefix && !query.business_key.empty()) {
    // The next instances in line first: a full page there is the page (instance_query.h).
    Result<std::vector<InstanceRow>> recent = search(kRecentWindow);
    if (!recent || static_cast<int>(recent->size()) >= query.limit) return recent;
  }
  return search(0);
}

Result<std::vector<state::JobRecord>> PgStore::list_jobs(std::string_view type) {
  Result<Rows> r = run(Sql::kListJobs, {std::string(type).c_str()});
  if (!r) return r.status();
  return decode_rows(*r, job_from);
}

Result<std::vector<IncidentRow>> PgStore::list_incidents() {
  Result<Rows> r = run(Sql::kListIncidents);
  if (!r) return r.status();
  std::vector<IncidentRow> out;
  out.reserve(static_cast<std::size_t>(r->size()));
  const std::string in = where();
  for (int i = 0; i < r->size(); ++i) {
    Result<IncidentRow> row = incident_row_from(ResultRow(*r, i), in);
    if (!row) return row.status();
    out.push_back(std::move(*row));
  }
  return out;
}

Result<std::vector<HistoryEvent>> PgStore::history(InstanceId id) {
  std::vector<HistoryEvent> out;
  // The instance's definition names what the rows refer to.
  Result<state::Instance*> inst = instance(id);
  if (!inst) return inst.status();
  if (*inst == nullptr) return out;
  const ProcessDefinition& def = *(*inst)->plan->def;
  Result<Rows> r = run(Sql::kHistory, {Num(id).c_str()});
  if (!r) return r.status();
  std::vector<std::pair<std::uint64_t, std::string>> rows;
  rows.reserve(static_cast<std::size_t>(r->size()));
  for (int row = 0; row < r->size(); ++row) {
    rows.emplace_back(static_cast<std::uint64_t>(int64_at(*r, row, 0)), r->text(row, 1));
  }
  if (Status s = decode_history_rows(rows, id, def, version_definitions(attach_, def.id), where(), out); !s) {
    return s;
  }
  return out;
}

Result<std::vector<Store::LogRow>> PgStore::history_log(std::uint64_t after, std::size_t limit) {
  Result<Rows> r = run(Sql::kHistoryLog, {Num(static_cast<std::int64_t>(after)).c_str(),
                                          Num(static_cast<std::int64_t>(limit)).c_str()});
  if (!r) return r.status();
  std::vector<LogRow> out;
  out.reserve(static_cast<std::size_t>(r->size()));
  for (int row = 0; row < r->size(); ++row) {
    LogRow l;
    l.sequence = static_cast<std::uint64_t>(int64_at(*r, row, 0));
    l.instance = static_cast<InstanceId>(int64_at(*r, row, 1));
    l.process_id = std::string(r->text(row, 2));
    l.version = static_cast<int>(int64_at(*r, row, 3));
    l.business_key = std::string(r->text(row, 4));
    l.events = std::string(r->text(row, 5));
    out.push_back(std::move(l));
  }
  return out;
}

namespace {
std::string log_position_name(std::string_view reader) {
  std::string name = "log:";
  name += reader;
  return name;
}
}  // namespace

Result<std::uint64_t> PgStore::log_position(std::string_view reader) {
  Result<Rows> r = run(Sql::kLogPosition, {log_position_name(reader).c_str()});
  if (!r) return r.status();
  if (r->empty()) return std::uint64_t{0};
  return static_cast<std::uint64_t>(int64_at(*r, 0, 0));
}

Result<bool> PgStore::claim_log(std::string_view reader, std::int64_t owner, std::int64_t now_ms,
                                std::int64_t lease_ms) {
  const std::string name = "log-lease:" + std::string(reader);
  const std::int64_t mine = owner & 0xFFFFF;
  const std::int64_t value = ((now_ms + lease_ms) << 20) | mine;
  Result<Rows> r = run(Sql::kClaimLog, {name.c_str(), Num(value).c_str(), Num(now_ms).c_str(),
                                        Num(mine).c_str()});
  if (!r) return r.status();
  return !r->empty();
}

Status PgStore::set_log_position(std::string_view reader, std::uint64_t position) {
  Result<Rows> r = run(Sql::kSetLogPosition, {log_position_name(reader).c_str(),
                                              Num(static_cast<std::int64_t>(position)).c_str()});
  return r ? Status::ok() : r.status();
}

Status PgStore::backup(const std::string&) {
  return Status::invalid_argument(
      "a PostgreSQL store is backed up with PostgreSQL's own tools: pg_dump --schema=" +
      options_.schema + " (and pg_restore to put it back), or the server's base backups");
}

}  // namespace ordo::store::pg
