#include "store/postgres/pg_store.h"

#include <algorithm>
#include <charconv>
#include <concepts>

#include "state/plan.h"  // element ids and versions of the processes instances run
#include "store/postgres/schema.h"
#include "store/sqlite/codec.h"  // the stored JSON is the same in both stores

namespace ordo::store::pg {

using sqlite::decode_runtime;
using sqlite::encode_history;
using sqlite::encode_runtime;

// The columns of a job, in the order job_from() reads them.
#define ORDO_PG_JOB_COLUMNS                                                       \
  "key, instance_id, element_key, element_index, type, state, retries, attempt, " \
  "idempotency_key, last_error, lock_owner, lock_expires_at"

enum class PgStore::Sql : std::uint8_t {
  kAllocate,
  kInstanceRev,
  kInstanceRevLocked,
  kLoadInstance,
  kLoadInstanceLocked,
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
  kListInstances,
  kListJobs,
  kListIncidents,
  kHistory,
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
      return "SELECT rev, process_id, version, business_key, state, parent_id, parent_element, "
             "started_at, ended_at, variables, runtime FROM instances WHERE id = $1";
    case Sql::kLoadInstanceLocked:
      return "SELECT rev, process_id, version, business_key, state, parent_id, parent_element, "
             "started_at, ended_at, variables, runtime FROM instances WHERE id = $1 FOR UPDATE";
    case Sql::kFindBusinessKey:
      return "SELECT id FROM instances WHERE process_id = $1 AND business_key = $2 "
             "AND parent_id IS NULL";
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
    case Sql::kDeleteIncidents:
      // The instance's own incidents; a `damaged` one is the hold's (release_damaged).
      return "DELETE FROM incidents WHERE instance_id = $1 AND type <> 'damaged'";
    case Sql::kInsertIncident:
      return "INSERT INTO incidents (key, instance_id, element_id, job_key, type, message, "
             "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    case Sql::kUpsertJob:
      return "INSERT INTO jobs (" ORDO_PG_JOB_COLUMNS
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
      return "INSERT INTO history (sequence, instance_id, events) VALUES ($1, $2, $3)";
    case Sql::kLoadJob:
      return "SELECT " ORDO_PG_JOB_COLUMNS " FROM jobs WHERE key = $1";
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
             "ORDER BY due_at, id LIMIT 1";
    case Sql::kAddSubscription:
      return "INSERT INTO subscriptions (wait_id, instance_id, sub_key, message_name, "
             "correlation_key) VALUES ($1, $2, $3, $4, $5)";
    case Sql::kRemoveSubscription:
      return "DELETE FROM subscriptions WHERE wait_id = $1";
    case Sql::kSubscriptions:
      return "SELECT instance_id, wait_id FROM subscriptions s WHERE sub_key = $1 AND NOT "
             "EXISTS (SELECT 1 FROM incidents i WHERE i.instance_id = s.instance_id AND "
             "i.type = 'damaged') ORDER BY wait_id";
    case Sql::kAddBuffered:
      // The next id after the last, as SQLite numbers rows. Two nodes may count the same one:
      // the second waits for the first to commit and then inserts nothing (add_buffered()
      // counts again) rather than failing its transaction.
      return "INSERT INTO buffered_messages (id, message_name, correlation_key, variables, "
             "expires_at) SELECT coalesce(max(id), 0) + 1, $1::text, $2::text, $3::text, "
             "$4::bigint FROM buffered_messages ON CONFLICT (id) DO NOTHING RETURNING id";
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
             "SKIP LOCKED) expired LIMIT $4) RETURNING " ORDO_PG_JOB_COLUMNS;
    case Sql::kAcquireTyped:
      return "UPDATE jobs SET state = 'locked', lock_owner = $1, lock_expires_at = $2 "
             "WHERE key IN (SELECT key FROM (SELECT key FROM jobs WHERE state = 'created' AND "
             "type = $5 ORDER BY key LIMIT $4 FOR UPDATE SKIP LOCKED) fresh UNION ALL "
             "SELECT key FROM (SELECT key FROM jobs WHERE state = 'locked' AND "
             "lock_expires_at < $3 AND type = $5 ORDER BY lock_expires_at LIMIT $4 FOR UPDATE "
             "SKIP LOCKED) expired LIMIT $4) RETURNING " ORDO_PG_JOB_COLUMNS;
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
      return "SELECT process_id, state, coalesce(end_event, ''), count(*) FROM instances "
             "GROUP BY 1, 2, 3 ORDER BY process_id COLLATE \"C\", state COLLATE \"C\", "
             "coalesce(end_event, '') COLLATE \"C\"";
    case Sql::kListInstances:
      return "SELECT id, process_id, version, business_key, state, parent_id, started_at, "
             "ended_at, end_event FROM instances WHERE ($1 = '' OR state = $1) "
             "AND ($2 = '' OR process_id = $2) AND ($4 = '' OR business_key = $4) "
             "ORDER BY id LIMIT $3";
    case Sql::kListJobs:
      return "SELECT " ORDO_PG_JOB_COLUMNS " FROM jobs WHERE $1 = '' OR type = $1 ORDER BY key";
    case Sql::kListIncidents:
      return "SELECT key, instance_id, element_id, job_key, type, message, created_at "
             "FROM incidents ORDER BY key";
    case Sql::kHistory:
      return "SELECT sequence, events FROM history WHERE instance_id = $1 ORDER BY sequence";
    case Sql::kCount:
      break;
  }
  return {};
}

#undef ORDO_PG_JOB_COLUMNS

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

// NULL for an empty text.
const char* text_or_null(const std::string& text) noexcept {
  return text.empty() ? nullptr : text.c_str();
}

std::int64_t int64_at(const Rows& r, int row, int column) noexcept {
  return r.integer(row, column).value_or(0);
}

template <class E, E Last>
std::optional<E> enum_from(std::string_view text) {
  for (int i = 0; i <= static_cast<int>(Last); ++i) {
    if (to_string(static_cast<E>(i)) == text) return static_cast<E>(i);
  }
  return std::nullopt;
}

nlohmann::json parse_json(std::string_view text) {
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
}

state::JobRecord job_from(const Rows& r, int row) {
  state::JobRecord j;
  j.key = static_cast<JobKey>(int64_at(r, row, 0));
  j.instance = static_cast<InstanceId>(int64_at(r, row, 1));
  j.element = static_cast<state::ElemKey>(int64_at(r, row, 2));
  j.element_index = static_cast<ElementIndex>(int64_at(r, row, 3));
  j.type = r.text(row, 4);
  j.state = enum_from<JobState, JobState::kCancelled>(r.text(row, 5)).value_or(JobState::kCreated);
  j.retries = static_cast<int>(int64_at(r, row, 6));
  j.attempt = static_cast<int>(int64_at(r, row, 7));
  j.idempotency_key = r.text(row, 8);
  j.last_error = r.text(row, 9);
  j.lock_owner = r.text(row, 10);
  j.lock_expires_ms = int64_at(r, row, 11);
  return j;
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

Result<Rows> PgStore::run(Sql id, std::initializer_list<Param> params) {
  if (Status s = connected(); !s) return s;
  Result<Rows> rows = conn_->run(names_[static_cast<std::size_t>(id)], params);
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
  txn_failed_ = false;
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
  // Another node may have committed anything since: cached instances are checked again
  // (once, by revision) and jobs read again.
  ++txn_;
  jobs_.clear();
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
  if (Status s = conn_->exec("COMMIT"); !s) {
    const bool broke = !conn_->ok();
    rollback();
    if (broke) {
      return Status(StatusCode::kIoError,
                    s.message() +
                        "; the connection broke at commit: whether the transaction "
                        "was committed is not known");
    }
    return s;
  }
  in_txn_ = false;
  if (cache_.size() > cache_limit_) cache_.clear();
  return Status::ok();
}

void PgStore::rollback() noexcept {
  if (conn_ && conn_->ok()) {
    try {
      // Harmless when the server has ended the transaction already (a failed COMMIT).
      (void)conn_->exec("ROLLBACK");
    } catch (...) {  // std::bad_alloc building the statement: the server rolls back anyway
    }                // when the connection closes
  }
  in_txn_ = false;
  txn_failed_ = false;
  forget_transaction();
}

void PgStore::forget_transaction() noexcept {
  // The cache may be ahead of the server now: forget it.
  cache_.clear();
  jobs_.clear();
  ++txn_;
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
  auto it = cache_.find(id);
  state::Instance* cached = it == cache_.end() ? nullptr : it->second.get();
  // Checked (and locked) in this transaction already. Reads between transactions are
  // always checked: another node may have committed since.
  if (cached != nullptr && in_txn_ && cached->checked_in == txn_) return cached;
  auto fresh = std::make_unique<state::Instance>();
  Result<Loaded> loaded = load_instance(id, cached != nullptr ? cached->rev : 0, *fresh);
  if (!loaded) return loaded.status();
  switch (loaded->load) {
    case Load::kMissing:
      if (cached != nullptr) cache_.erase(it);
      return nullptr;
    case Load::kUnchanged:
      cached->checked_in = txn_;
      return cached;
    case Load::kLoaded:
      break;
  }
  if (!attach_) return Status::internal("an instance was read before the runtime could attach it");
  if (Status s = attach_(*fresh, loaded->process_id, loaded->version); !s) return s;
  fresh->checked_in = txn_;
  if (cached != nullptr) {
    *cached = std::move(*fresh);  // those who hold the pointer see the fresh state
    return cached;
  }
  state::Instance* out = fresh.get();
  cache_.emplace(id, std::move(fresh));
  return out;
}

const state::Instance* PgStore::cached_instance(InstanceId id) const noexcept {
  auto it = cache_.find(id);
  return it == cache_.end() ? nullptr : it->second.get();
}

state::Instance& PgStore::add_instance(std::unique_ptr<state::Instance> instance) {
  instance->checked_in = txn_;
  state::Instance& inst = *instance;
  cache_.insert_or_assign(inst.id, std::move(instance));
  return inst;
}

Result<state::JobRecord*> PgStore::job(JobKey key) {
  if (!in_txn_) jobs_.erase(key);  // between transactions: read it fresh
  if (auto it = jobs_.find(key); it != jobs_.end()) return &it->second;
  Result<std::optional<state::JobRecord>> loaded = load_job(key);
  if (!loaded) return loaded.status();
  if (!*loaded) return nullptr;
  return &jobs_.insert_or_assign(key, std::move(**loaded)).first->second;
}

state::JobRecord& PgStore::put_job(state::JobRecord job) {
  const JobKey key = job.key;
  return jobs_.insert_or_assign(key, std::move(job)).first->second;
}

Result<PgStore::Loaded> PgStore::load_instance(InstanceId id, std::uint64_t known_rev,
                                               state::Instance& out) {
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
  Loaded loaded;
  if (r->empty()) return loaded;
  const auto rev = static_cast<std::uint64_t>(int64_at(*r, 0, 0));
  if (rev == known_rev) {
    loaded.load = Load::kUnchanged;
    return loaded;
  }
  loaded.load = Load::kLoaded;
  loaded.process_id = r->text(0, 1);
  loaded.version = static_cast<int>(int64_at(*r, 0, 2));
  out.id = id;
  out.rev = rev;
  out.business_key = r->text(0, 3);
  auto state = enum_from<InstanceState, InstanceState::kIncident>(r->text(0, 4));
  if (!state) {
    return Status(StatusCode::kCorruption,
                  "instance " + std::to_string(id) + " in " + where() + " has an unknown state '" +
                      std::string(r->text(0, 4)) + "'; restore it from a backup");
  }
  out.state = *state;
  out.parent = static_cast<InstanceId>(int64_at(*r, 0, 5));
  out.parent_element = static_cast<state::ElemKey>(int64_at(*r, 0, 6));
  out.started_ms = int64_at(*r, 0, 7);
  out.ended_ms = int64_at(*r, 0, 8);
  out.vars = parse_json(r->text(0, 9));
  out.vars_changed = false;
  if (!out.vars.is_object()) {
    return Status(StatusCode::kCorruption, "the variables of instance " + std::to_string(id) +
                                               " in " + where() +
                                               " are damaged; restore it from a backup");
  }
  if (Status s = decode_runtime(r->text(0, 10), out); !s) return s;
  return loaded;
}

Result<std::optional<state::JobRecord>> PgStore::load_job(JobKey key) {
  Result<Rows> r = run(Sql::kLoadJob, {Num(key).c_str()});
  if (!r) return r.status();
  if (r->empty()) return std::optional<state::JobRecord>();
  return std::optional<state::JobRecord>(job_from(*r, 0));
}

Result<std::optional<InstanceId>> PgStore::find_business_key(std::string_view process_id,
                                                             std::string_view key) {
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
  // The instances and job records themselves, found before anything is written.
  std::vector<state::Instance*> instances;
  instances.reserve(changes.instances.size());
  for (InstanceId id : changes.instances) {
    auto it = cache_.find(id);
    if (it != cache_.end()) instances.push_back(it->second.get());
  }
  std::vector<JobKey> keys = changes.jobs;
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  try {
    for (state::Instance* inst : instances) {
      if (Status s = write_instance(*inst); !s) return s;
    }
    for (JobKey k : keys) {
      auto it = jobs_.find(k);
      if (Status s = write_job(k, it == jobs_.end() ? nullptr : &it->second); !s) return s;
    }
    if (!changes.events.empty()) {
      if (Status s = write_history(changes.events); !s) return s;
    }
  } catch (const std::exception& e) {
    return Status::internal(std::string("cannot encode a command's changes: ") + e.what() +
                            "; this is a bug in Ordo, please report it");
  }
  // Finished instances are read again if anyone asks: the cache keeps the running ones.
  for (InstanceId id : changes.finished) cache_.erase(id);
  return Status::ok();
}

Status PgStore::write_instance(state::Instance& inst) {
  // Invalid UTF-8 in a string (from a handler, say) is stored as U+FFFD, not thrown.
  const std::string vars =
      inst.rev == 0 || inst.vars_changed
          ? inst.vars.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
          : std::string();
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
    if (r->affected() != 1) {
      return Status(StatusCode::kConflict,
                    "instance " + std::to_string(inst.id) +
                        " was changed by another process during this command; run it again");
    }
  }
  inst.vars_changed = false;
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

Status PgStore::write_history(std::vector<HistoryEvent>& events) {
  // The counter's row stays locked until commit, so writers of history on every node take
  // turns from here to their commit: the price of numbers without gaps in commit order.
  // (The place to improve if history writing becomes the bottleneck: number at commit, or
  // per node, and give up "gap-free".) Each write() of a transaction takes its own run of
  // numbers; the lock makes them follow on from the previous one's.
  Result<std::uint64_t> first = allocate("history", events.size());
  if (!first) return first.status();
  // One row per run of events of one instance.
  std::size_t begin = 0;
  while (begin < events.size()) {
    std::size_t end = begin;
    while (end < events.size() && events[end].instance == events[begin].instance) {
      events[end].sequence = *first + end;
      ++end;
    }
    const std::string rows = encode_history(events.data() + begin, events.data() + end);
    Result<Rows> r = run(Sql::kInsertHistory, {Num(events[begin].sequence).c_str(),
                                               Num(events[begin].instance).c_str(), rows.c_str()});
    if (!r) return r.status();
    begin = end;
  }
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
  std::erase_if(jobs_, [id](const auto& j) { return j.second.instance == id; });
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
  std::erase_if(jobs_, [id](const auto& j) { return j.second.instance == id; });
  return Status::ok();
}

// ---- timers ----

Status PgStore::add_timer(const TimerRow& row) {
  const state::TimerRecord& t = row.record;
  const bool start = t.start_event != kNoIndex;
  return run(Sql::kAddTimer,
             {Num(row.id).c_str(), Num(t.instance).c_str(), Num(t.wait).c_str(),
              Num(row.due_ms).c_str(), Num(t.repetitions_left).c_str(), Num(t.interval_ms).c_str(),
              start ? t.process_id.c_str() : nullptr, start ? Num(t.version).c_str() : nullptr,
              start ? Num(t.start_event).c_str() : nullptr})
      .status();
}

Status PgStore::remove_timer(std::int64_t, std::uint64_t id) {
  return run(Sql::kRemoveTimer, {Num(id).c_str()}).status();
}

Status PgStore::remove_start_timers(std::string_view process_id) {
  return run(Sql::kRemoveStartTimers, {std::string(process_id).c_str()}).status();
}

Result<std::optional<TimerRow>> PgStore::next_timer() {
  Result<Rows> r = run(Sql::kNextTimer);
  if (!r) return r.status();
  if (r->empty()) return std::optional<TimerRow>();
  TimerRow t;
  t.id = static_cast<std::uint64_t>(int64_at(*r, 0, 0));
  t.record.instance = static_cast<InstanceId>(int64_at(*r, 0, 1));
  t.record.wait = static_cast<std::uint64_t>(int64_at(*r, 0, 2));
  t.due_ms = int64_at(*r, 0, 3);
  t.record.repetitions_left = static_cast<std::int32_t>(int64_at(*r, 0, 4));
  t.record.interval_ms = int64_at(*r, 0, 5);
  if (!r->is_null(0, 8)) {
    t.record.process_id = r->text(0, 6);
    t.record.version = static_cast<int>(int64_at(*r, 0, 7));
    t.record.start_event = static_cast<ElementIndex>(int64_at(*r, 0, 8));
  }
  return std::optional<TimerRow>(std::move(t));
}

// ---- message subscriptions ----

Status PgStore::add_subscription(std::string_view sub_key, const state::Subscription& s) {
  const std::size_t cut = sub_key.find('\x1f');
  const std::string name(sub_key.substr(0, cut));
  const std::string correlation(cut == std::string_view::npos ? std::string_view()
                                                              : sub_key.substr(cut + 1));
  return run(Sql::kAddSubscription,
             {Num(s.wait).c_str(), Num(s.instance).c_str(), std::string(sub_key).c_str(),
              name.c_str(), correlation.c_str()})
      .status();
}

Status PgStore::remove_subscription(std::string_view, std::uint64_t wait) {
  return run(Sql::kRemoveSubscription, {Num(wait).c_str()}).status();
}

Status PgStore::subscriptions(std::string_view sub_key, std::vector<state::Subscription>& out) {
  out.clear();
  Result<Rows> r = run(Sql::kSubscriptions, {std::string(sub_key).c_str()});
  if (!r) return r.status();
  out.reserve(static_cast<std::size_t>(r->size()));
  for (int i = 0; i < r->size(); ++i) {
    out.push_back({static_cast<InstanceId>(int64_at(*r, i, 0)),
                   static_cast<std::uint64_t>(int64_at(*r, i, 1))});
  }
  return Status::ok();
}

// ---- buffered messages ----

Status PgStore::add_buffered(state::BufferedMessage& m, std::int64_t) {
  const std::string vars =
      m.variables.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const Num expires(m.expires_ms);
  if (m.id != 0) {
    return run(Sql::kAddBufferedWithId, {Num(m.id).c_str(), m.name.c_str(),
                                         m.correlation_key.c_str(), vars.c_str(), expires.c_str()})
        .status();
  }
  // Each try that inserts nothing lost its id to a node that committed meanwhile, so a few
  // tries are enough unless many nodes buffer at once.
  constexpr int kTries = 16;
  for (int i = 0; i < kTries; ++i) {
    Result<Rows> r = run(Sql::kAddBuffered, {m.name.c_str(), m.correlation_key.c_str(),
                                             vars.c_str(), expires.c_str()});
    if (!r) return r.status();
    if (!r->empty()) {
      m.id = static_cast<std::uint64_t>(int64_at(*r, 0, 0));
      return Status::ok();
    }
  }
  return Status(StatusCode::kBusy, "other nodes buffered messages at the same time " +
                                       std::to_string(kTries) +
                                       " times over; publish the message again");
}

Result<std::optional<state::BufferedMessage>> PgStore::take_buffered(std::string_view name,
                                                                     std::string_view key,
                                                                     std::int64_t now_ms) {
  Result<Rows> r = run(Sql::kTakeBuffered,
                       {std::string(name).c_str(), std::string(key).c_str(), Num(now_ms).c_str()});
  if (!r) return r.status();
  if (r->empty()) return std::optional<state::BufferedMessage>();
  state::BufferedMessage m;
  m.id = static_cast<std::uint64_t>(int64_at(*r, 0, 0));
  m.name = std::string(name);
  m.correlation_key = std::string(key);
  m.variables = parse_json(r->text(0, 1));
  if (m.variables.is_discarded()) m.variables = nlohmann::json::object();
  m.expires_ms = int64_at(*r, 0, 2);
  return std::optional<state::BufferedMessage>(std::move(m));
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
  std::vector<DeploymentRow> out;
  out.reserve(static_cast<std::size_t>(r->size()));
  for (int i = 0; i < r->size(); ++i) {
    out.push_back({std::string(r->text(i, 0)), static_cast<int>(int64_at(*r, i, 1)),
                   std::string(r->text(i, 2)), std::string(r->text(i, 3)),
                   std::string(r->text(i, 4)), static_cast<int>(int64_at(*r, i, 5)),
                   int64_at(*r, i, 6)});
  }
  return out;
}

Result<int> PgStore::latest_version(std::string_view process_id) {
  Result<Rows> r = run(Sql::kLatestVersion, {std::string(process_id).c_str()});
  if (!r) return r.status();
  return static_cast<int>(int64_at(*r, 0, 0));  // max() of no rows is NULL: 0
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
  Result<Rows> r = run(type.empty() ? Sql::kAcquireAny : Sql::kAcquireTyped,
                       {std::string(owner).c_str(), Num(lock_until_ms).c_str(), Num(now_ms).c_str(),
                        Num(limit).c_str(), filter.c_str()});
  if (!r) return r.status();
  std::vector<state::JobRecord> out;
  out.reserve(static_cast<std::size_t>(r->size()));
  for (int i = 0; i < r->size(); ++i) out.push_back(job_from(*r, i));
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
  std::vector<InstanceCountRow> out;
  out.reserve(static_cast<std::size_t>(r->size()));
  for (int i = 0; i < r->size(); ++i) {
    out.push_back({std::string(r->text(i, 0)),
                   enum_from<InstanceState, InstanceState::kIncident>(r->text(i, 1))
                       .value_or(InstanceState::kActive),
                   std::string(r->text(i, 2)), int64_at(*r, i, 3)});
  }
  return out;
}

Result<std::vector<InstanceRow>> PgStore::list_instances(const InstanceQuery& query) {
  const std::string state(query.state ? to_string(*query.state) : std::string_view());
  Result<Rows> r = run(Sql::kListInstances, {state.c_str(), query.process_id.c_str(),
                                             Num(query.limit).c_str(), query.business_key.c_str()});
  if (!r) return r.status();
  std::vector<InstanceRow> out;
  out.reserve(static_cast<std::size_t>(r->size()));
  for (int i = 0; i < r->size(); ++i) {
    InstanceRow& row = out.emplace_back();
    row.id = static_cast<InstanceId>(int64_at(*r, i, 0));
    row.process_id = r->text(i, 1);
    row.version = static_cast<int>(int64_at(*r, i, 2));
    row.business_key = r->text(i, 3);
    row.state = enum_from<InstanceState, InstanceState::kIncident>(r->text(i, 4))
                    .value_or(InstanceState::kActive);
    row.parent = static_cast<InstanceId>(int64_at(*r, i, 5));
    row.started_ms = int64_at(*r, i, 6);
    row.ended_ms = int64_at(*r, i, 7);
    row.end_event = r->text(i, 8);
  }
  return out;
}

Result<std::vector<state::JobRecord>> PgStore::list_jobs(std::string_view type) {
  Result<Rows> r = run(Sql::kListJobs, {std::string(type).c_str()});
  if (!r) return r.status();
  std::vector<state::JobRecord> out;
  out.reserve(static_cast<std::size_t>(r->size()));
  for (int i = 0; i < r->size(); ++i) out.push_back(job_from(*r, i));
  return out;
}

Result<std::vector<IncidentRow>> PgStore::list_incidents() {
  Result<Rows> r = run(Sql::kListIncidents);
  if (!r) return r.status();
  std::vector<IncidentRow> out;
  out.reserve(static_cast<std::size_t>(r->size()));
  for (int i = 0; i < r->size(); ++i) {
    const std::optional<IncidentKind> kind = incident_kind_from(r->text(i, 4));
    if (!kind) {
      return Status(StatusCode::kCorruption, "incident " + std::string(r->text(i, 0)) + " in " +
                                                 where() + " has an unknown kind '" +
                                                 std::string(r->text(i, 4)) +
                                                 "'; restore it from a backup");
    }
    out.push_back({static_cast<IncidentKey>(int64_at(*r, i, 0)),
                   static_cast<InstanceId>(int64_at(*r, i, 1)), std::string(r->text(i, 2)),
                   static_cast<JobKey>(int64_at(*r, i, 3)), *kind, std::string(r->text(i, 5)),
                   int64_at(*r, i, 6)});
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
  // The rows as SqliteStore::history() reads them (codec.h: encode_history()).
  for (int row = 0; row < r->size(); ++row) {
    const auto first = static_cast<std::uint64_t>(int64_at(*r, row, 0));
    const nlohmann::json events = parse_json(r->text(row, 1));
    if (!events.is_array()) {
      return Status(StatusCode::kCorruption, "the history of instance " + std::to_string(id) +
                                                 " in " + where() +
                                                 " is damaged; restore it from a backup");
    }
    for (std::size_t i = 0; i < events.size(); ++i) {
      const nlohmann::json& e_json = events[i];
      if (!e_json.is_array() || e_json.size() != 6) continue;
      HistoryEvent& e = out.emplace_back();
      e.sequence = first + i;
      e.instance = id;
      e.process_id = def.id;
      e.time_ms = e_json[0].is_number() ? e_json[0].get<std::int64_t>() : 0;
      e.kind = enum_from<HistoryKind, HistoryKind::kJobDeferred>(
                   e_json[1].is_string() ? e_json[1].get<std::string>() : std::string())
                   .value_or(HistoryKind::kInstanceStarted);
      const std::string element_id =
          e_json[2].is_string() ? e_json[2].get<std::string>() : std::string();
      if (const Element* el = element_id.empty() ? nullptr : def.find_element(element_id)) {
        e.element_id = el->id;
        e.element_kind = el->kind;
      } else if (e.kind == HistoryKind::kFlowTaken) {
        // Flow events name a sequence flow, which is not an element.
        if (const FlowIndex f = def.flow_index(element_id); f != kNoIndex) {
          e.element_id = def.flows[f].id;
        }
      }
      e.key = e_json[3].is_number() ? e_json[3].get<std::uint64_t>() : 0;
      e.value = e_json[4].is_number() ? e_json[4].get<std::int64_t>() : 0;
      if (e_json[5].is_string()) e.detail = e_json[5].get<std::string>();
    }
  }
  return out;
}

Status PgStore::backup(const std::string&) {
  return Status::invalid_argument(
      "a PostgreSQL store is backed up with PostgreSQL's own tools: pg_dump --schema=" +
      options_.schema + " (and pg_restore to put it back), or the server's base backups");
}

}  // namespace ordo::store::pg
