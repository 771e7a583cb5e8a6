#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <functional>
#include <type_traits>

#include "state/plan.h"  // element ids and versions of the processes instances run
#include "store/codec.h"
#include "store/sqlite/statements.h"

namespace ordo::store::sqlite {
namespace {

constexpr std::string_view kInsertIncidentSql =
    "INSERT INTO incidents (key, instance_id, element_id, job_key, type, message, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

}  // namespace

SqliteStore::SqliteStore(std::unique_ptr<Database> db) : db_(std::move(db)) {
  statements_.resize(kSqlCount);
}

SqliteStore::~SqliteStore() {
  statements_.clear();  // finalized before the connection closes
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       const OpenOptions& options) {
  Result<std::unique_ptr<Database>> db = Database::open(path, options);
  if (!db) return db.status();
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(*db)));
}

Result<Statement*> SqliteStore::statement(int id, std::string_view sql) {
  auto& slot = statements_[static_cast<std::size_t>(id)];
  if (!slot) {
    Result<Statement> st = db_->prepare(sql);
    if (!st) return st.status();
    slot = std::make_unique<Statement>(std::move(*st));
  }
  return slot.get();
}


Status SqliteStore::begin() {
  history_read_ = false;
  counts_.clear();
  elements_.clear();
  if (Status s = db_->begin(); !s) return s;
  ORDO_STATEMENT(st, kDataVersion, "PRAGMA data_version");
  Result<bool> row = st.step();
  if (!row) {
    db_->rollback();
    return row.status();
  }
  const std::int64_t version = st.int64(0);
  changed_by_others_ = version != data_version_;
  data_version_ = version;
  in_txn_ = true;
  // When no other connection has committed since this one's last transaction, what is
  // cached is what is stored: nothing needs checking again.
  if (changed_by_others_) cache_.check_again();
  return Status::ok();
}

Status SqliteStore::commit() {
  if (history_read_ && history_next_ != history_first_) {
    ORDO_STATEMENT(st, kAllocateWrite, "UPDATE meta SET value = ?2 WHERE name = ?1");
    st.bind(1, std::string_view("history")).bind(2, i64(history_next_));
    if (Status s = st.run(); !s) return s;
  }
  history_read_ = false;
  Status counted = counts_.flush([this](const std::string& process, int version,
                                        std::string_view state, const std::string& end_event,
                                        std::int64_t delta) -> Status {
    ORDO_STATEMENT(st, kCountInstances,
                   "INSERT INTO instance_counts (process_id, version, state, end_event, slot, n) "
                   "VALUES (?1, ?2, ?3, ?4, 0, ?5) ON CONFLICT DO UPDATE SET n = n + excluded.n");
    st.bind(1, process).bind(2, static_cast<std::int64_t>(version)).bind(3, state);
    st.bind(4, end_event).bind(5, delta);
    return st.run();
  });
  if (!counted) return counted;
  Status stats = elements_.flush([this](const std::map<ElementDeltas::Key, ElementDeltas::Delta>& deltas) {
    for (const auto& [key, d] : deltas) {
      ORDO_STATEMENT(st, kAddElementStats,
                     "INSERT INTO element_stats (process_id, version, element_id, slot, active, "
                     "completed, terminated, time_ms, timed) VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, "
                     "?7, ?8) ON CONFLICT DO UPDATE SET active = active + excluded.active, "
                     "completed = completed + excluded.completed, terminated = terminated + "
                     "excluded.terminated, time_ms = time_ms + excluded.time_ms, "
                     "timed = timed + excluded.timed");
      const auto& [process, version, element] = key;
      st.bind(1, process).bind(2, static_cast<std::int64_t>(version)).bind(3, element);
      st.bind(4, d.active).bind(5, d.completed).bind(6, d.terminated).bind(7, d.time_ms);
      st.bind(8, d.timed);
      if (Status s = st.run(); !s) return s;
    }
    return Status::ok();
  });
  if (!stats) return stats;
  Status minutes = counts_.flush_minutes([this](const CountDeltas::MinuteChanges& c) -> Status {
    for (const auto& [key, d] : c.minutes) {
      ORDO_STATEMENT(st, kAddMinute,
                     "INSERT INTO instance_minutes (minute, process_id, slot, started, completed, "
                     "terminated) VALUES (?1, ?2, 0, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET "
                     "started = started + excluded.started, completed = completed + "
                     "excluded.completed, terminated = terminated + excluded.terminated");
      st.bind(1, key.second).bind(2, key.first).bind(3, d.started).bind(4, d.completed);
      st.bind(5, d.terminated);
      if (Status s = st.run(); !s) return s;
    }
    for (const auto& [key, n] : c.cycles) {
      ORDO_STATEMENT(st, kAddCycle,
                     "INSERT INTO cycle_times (minute, process_id, end_event, bucket, slot, n) "
                     "VALUES (?1, ?2, ?3, ?4, 0, ?5) ON CONFLICT DO UPDATE SET n = n + excluded.n");
      const auto& [process, end_event, minute, bucket] = key;
      st.bind(1, minute).bind(2, process).bind(3, end_event);
      st.bind(4, static_cast<std::int64_t>(bucket)).bind(5, n);
      if (Status s = st.run(); !s) return s;
    }
    if (c.prune_before != 0) {
      {
        ORDO_STATEMENT(st, kPruneMinutes, "DELETE FROM instance_minutes WHERE minute < ?1");
        st.bind(1, c.prune_before);
        if (Status s = st.run(); !s) return s;
      }
      ORDO_STATEMENT(st, kPruneCycles, "DELETE FROM cycle_times WHERE minute < ?1");
      st.bind(1, c.prune_before);
      if (Status s = st.run(); !s) return s;
    }
    return Status::ok();
  });
  if (!minutes) return minutes;
  if (Status s = db_->commit(); !s) return s;
  in_txn_ = false;
  cache_.committed();
  return Status::ok();
}

void SqliteStore::rollback() noexcept {
  history_read_ = false;
  counts_.clear();
  elements_.clear();
  db_->rollback();
  in_txn_ = false;
  cache_.forget();
}

// ---- instances and jobs, through the cache ----

Result<state::Instance*> SqliteStore::instance(InstanceId id) {
  return cache_.instance(id, in_txn_, [this](InstanceId i, std::uint64_t rev, state::Instance& out) {
                           return load_instance(i, rev, out);
                         }, attach_);
}

Result<state::JobRecord*> SqliteStore::job(JobKey key) {
  return cache_.job(key, in_txn_, [this](JobKey k) { return load_job(k); });
}

Result<std::uint64_t> SqliteStore::allocate(std::string_view counter, std::uint64_t count) {
  std::uint64_t first = 0;
  {
    ORDO_STATEMENT(st, kAllocateRead, "SELECT value FROM meta WHERE name = ?1");
    st.bind(1, counter);
    Result<bool> row = st.step();
    if (!row) return row.status();
    if (!*row) {
      return Status(StatusCode::kCorruption, db_->path() + " has no '" + std::string(counter) +
                                                 "' counter; restore it from a backup");
    }
    first = static_cast<std::uint64_t>(st.int64(0));
  }
  ORDO_STATEMENT(st, kAllocateWrite, "UPDATE meta SET value = ?2 WHERE name = ?1");
  st.bind(1, counter).bind(2, i64(first + count));
  if (Status s = st.run(); !s) return s;
  return first;
}

Result<RowCache::Loaded> SqliteStore::load_instance(InstanceId id, std::uint64_t known_rev,
                                                    state::Instance& out) {
  using Load = RowCache::Load;
  using Loaded = RowCache::Loaded;
  if (known_rev != 0) {
    // Usually the cached copy is current: check the revision alone first.
    ORDO_STATEMENT(st, kInstanceRev, "SELECT rev FROM instances WHERE id = ?1");
    st.bind(1, i64(id));
    Result<bool> row = st.step();
    if (!row) return row.status();
    if (!*row) return Loaded{};
    if (static_cast<std::uint64_t>(st.int64(0)) == known_rev)
      return Loaded{Load::kUnchanged, {}, 0};
  }
  ORDO_STATEMENT(st, kLoadInstance,
                 "SELECT " ORDO_INSTANCE_COLUMNS " FROM instances WHERE id = ?1");
  st.bind(1, i64(id));
  Result<bool> row = st.step();
  if (!row) return row.status();
  if (!*row) return Loaded{};
  return instance_from(StatementRow(st), id, known_rev, db_->path(), out);
}

Result<std::optional<InstanceId>> SqliteStore::find_business_key(std::string_view process_id,
                                                                 std::string_view key) {
  ORDO_STATEMENT(st, kFindBusinessKey,
                 "SELECT id FROM instances WHERE process_id = ?1 AND business_key = ?2 "
                 "AND parent_id IS NULL");
  st.bind(1, process_id).bind(2, key);
  Result<bool> row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<InstanceId>();
  return std::optional<InstanceId>(static_cast<InstanceId>(st.int64(0)));
}

Status SqliteStore::write(Changes& changes) {
  return cache_.write(changes, [this](const RowCache::Rows& rows) { return write_rows(rows); });
}

Status SqliteStore::write_rows(const RowCache::Rows& changes) {
  for (state::Instance* inst : changes.instances) {
    counts_.writing(*inst);
    const std::string vars =
        inst->rev == 0 || inst->vars_changed ? encode_json(inst->vars) : std::string();
    const std::string rt = encode_runtime(*inst);
    const std::string_view end_event =
        inst->end_event == kNoIndex ? std::string_view() : inst->plan->element(inst->end_event).id;
    if (inst->rev == 0) {
      ORDO_STATEMENT(st, kInsertInstance,
                     "INSERT INTO instances (id, process_id, version, business_key, state, "
                     "parent_id, parent_element, rev, started_at, ended_at, end_event, "
                     "variables, runtime) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?10, "
                     "?11, ?12)");
      st.bind(1, i64(inst->id))
          .bind(2, inst->plan->def->id)
          .bind(3, static_cast<std::int64_t>(inst->plan->version));
      st.bind_text_or_null(4, inst->business_key);
      st.bind(5, to_string(inst->state));
      if (inst->parent == 0) {
        st.bind_null(6).bind_null(7);
      } else {
        st.bind(6, i64(inst->parent)).bind(7, static_cast<std::int64_t>(inst->parent_element));
      }
      st.bind(8, inst->started_ms).bind_int_or_null(9, inst->ended_ms);
      st.bind_text_or_null(10, end_event);
      st.bind(11, vars).bind(12, rt);
      if (Status s = st.run(); !s) return s;
    } else {
      // The variables are written only when a command may have changed them, and the state
      // only when it changed: SQLite rewrites the entries of every index on a column an
      // UPDATE sets, even to the same value, and most commands leave the state as it was.
      const bool new_state = inst->state != inst->stored_state;
      Result<Statement*> found =
          new_state
              ? (inst->vars_changed
                     ? statement(kUpdateInstance,
                                 "UPDATE instances SET state = ?2, rev = rev + 1, ended_at = ?3, "
                                 "end_event = ?4, runtime = ?6, variables = ?5 "
                                 "WHERE id = ?1 AND rev = ?7")
                     : statement(kUpdateInstanceKeepVars,
                                 "UPDATE instances SET state = ?2, rev = rev + 1, ended_at = ?3, "
                                 "end_event = ?4, runtime = ?6 WHERE id = ?1 AND rev = ?7"))
              : (inst->vars_changed
                     ? statement(kUpdateInstanceKeepState,
                                 "UPDATE instances SET rev = rev + 1, ended_at = ?3, "
                                 "end_event = ?4, runtime = ?6, variables = ?5 "
                                 "WHERE id = ?1 AND rev = ?7")
                     : statement(kUpdateInstanceKeepStateAndVars,
                                 "UPDATE instances SET rev = rev + 1, ended_at = ?3, "
                                 "end_event = ?4, runtime = ?6 WHERE id = ?1 AND rev = ?7"));
      if (!found) return found.status();
      Statement& st = **found;
      Using using_st(st);
      st.bind(1, i64(inst->id));
      if (new_state) st.bind(2, to_string(inst->state));
      st.bind_int_or_null(3, inst->ended_ms).bind_text_or_null(4, end_event);
      if (inst->vars_changed) st.bind(5, vars);
      st.bind(6, rt).bind(7, i64(inst->rev));
      if (Status s = st.run(); !s) return s;
      if (sqlite3_changes(db_->handle()) != 1) {
        return Status(StatusCode::kConflict,
                      "instance " + std::to_string(inst->id) +
                          " was changed by another process during this command; run it again");
      }
    }
    if (inst->rev != 0 && inst->plan->version != inst->stored_version) {
      // Migrated to another version of its process (rare: a statement of its own).
      ORDO_STATEMENT(st, kUpdateInstanceVersion,
                     "UPDATE instances SET version = ?2 WHERE id = ?1");
      st.bind(1, i64(inst->id)).bind(2, static_cast<std::int64_t>(inst->plan->version));
      if (Status s = st.run(); !s) return s;
    }
    inst->vars_changed = false;
    inst->stored_state = inst->state;
    inst->stored_end_event = inst->end_event;
    inst->stored_version = inst->plan->version;
    ++inst->rev;
    if (inst->incidents_changed) {
      {
        // The instance's own incidents; a `damaged` one is the hold's (release_damaged).
        ORDO_STATEMENT(st, kDeleteIncidents,
                       "DELETE FROM incidents WHERE instance_id = ?1 AND type <> 'damaged'");
        st.bind(1, i64(inst->id));
        if (Status s = st.run(); !s) return s;
      }
      for (const state::Incident& i : inst->incidents) {
        ORDO_STATEMENT(st, kInsertIncident, kInsertIncidentSql);
        st.bind(1, i64(i.key)).bind(2, i64(inst->id));
        if (i.element_index == kNoIndex) {
          st.bind_null(3);
        } else {
          st.bind(3, inst->plan->element(i.element_index).id);
        }
        st.bind(4, i64(i.job)).bind(5, to_string(i.kind)).bind(6, i.message).bind(7, i.created_ms);
        if (Status s = st.run(); !s) return s;
      }
      inst->incidents_changed = false;
    }
  }
  for (const auto& [key, job] : changes.jobs) {
    if (job == nullptr) {
      ORDO_STATEMENT(st, kDeleteJob, "DELETE FROM jobs WHERE key = ?1");
      st.bind(1, i64(key));
      if (Status s = st.run(); !s) return s;
      continue;
    }
    ORDO_STATEMENT(st, kUpsertJob,
                   "INSERT OR REPLACE INTO jobs (key, instance_id, element_key, element_index, "
                   "type, state, retries, attempt, idempotency_key, last_error, lock_owner, "
                   "lock_expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    st.bind(1, i64(job->key)).bind(2, i64(job->instance));
    st.bind(3, static_cast<std::int64_t>(job->element));
    st.bind(4, static_cast<std::int64_t>(job->element_index));
    st.bind(5, job->type).bind(6, to_string(job->state));
    st.bind(7, static_cast<std::int64_t>(job->retries));
    st.bind(8, static_cast<std::int64_t>(job->attempt));
    st.bind(9, job->idempotency_key).bind(10, job->last_error);
    st.bind_text_or_null(11, job->lock_owner);
    st.bind(12, job->lock_expires_ms);
    if (Status s = st.run(); !s) return s;
  }
  if (changes.events != nullptr && !changes.events->empty()) {
    std::vector<HistoryEvent>& events = *changes.events;
    elements_.events(events, changes.instances);
    if (!history_read_) {
      ORDO_STATEMENT(st, kAllocateRead, "SELECT value FROM meta WHERE name = ?1");
      st.bind(1, std::string_view("history"));
      Result<bool> row = st.step();
      if (!row) return row.status();
      if (!*row) {
        return Status(StatusCode::kCorruption,
                      db_->path() + " has no 'history' counter; restore it from a backup");
      }
      history_first_ = history_next_ = static_cast<std::uint64_t>(st.int64(0));
      history_read_ = true;
    }
    const std::uint64_t first = history_next_;
    history_next_ += events.size();
    const auto insert = [this](std::uint64_t sequence, InstanceId instance,
                               const std::string& rows) -> Status {
      ORDO_STATEMENT(st, kInsertHistory,
                     "INSERT INTO history (sequence, instance_id, events) VALUES (?1, ?2, ?3)");
      st.bind(1, i64(sequence)).bind(2, i64(instance)).bind(3, rows);
      return st.run();
    };
    return write_history(events, first, insert);
  }
  return Status::ok();
}

Result<std::optional<state::JobRecord>> SqliteStore::load_job(JobKey key) {
  ORDO_STATEMENT(st, kLoadJob, "SELECT " ORDO_JOB_COLUMNS " FROM jobs WHERE key = ?1");
  st.bind(1, i64(key));
  Result<bool> row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<state::JobRecord>();
  return std::optional<state::JobRecord>(job_from(StatementRow(st)));
}

Result<std::optional<InstanceId>> SqliteStore::incident_instance(IncidentKey key) {
  ORDO_STATEMENT(st, kIncidentInstance, "SELECT instance_id FROM incidents WHERE key = ?1");
  st.bind(1, i64(key));
  Result<bool> row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<InstanceId>();
  return std::optional<InstanceId>(static_cast<InstanceId>(st.int64(0)));
}

// ---- damaged instances ----
// A held instance is one with an open `damaged` incident: the queries for the next timer
// and for subscriptions skip its rows (kHeld below), its jobs are set aside here.

Result<bool> SqliteStore::hold_damaged(InstanceId id, IncidentKey key, std::string_view message,
                                       std::int64_t now_ms) {
  {
    ORDO_STATEMENT(st, kIsHeld,
                   "SELECT 1 FROM incidents WHERE instance_id = ?1 AND type = 'damaged'");
    st.bind(1, i64(id));
    Result<bool> row = st.step();
    if (!row) return row.status();
    if (*row) return false;
  }
  {
    ORDO_STATEMENT(st, kInsertIncident, kInsertIncidentSql);
    st.bind(1, i64(key)).bind(2, i64(id)).bind_null(3).bind(4, std::int64_t{0});
    st.bind(5, to_string(IncidentKind::kDamaged)).bind(6, message).bind(7, now_ms);
    if (Status s = st.run(); !s) return s;
  }
  ORDO_STATEMENT(st, kHoldJobs,
                 "UPDATE jobs SET state = 'incident', lock_owner = NULL, lock_expires_at = 0 "
                 "WHERE instance_id = ?1 AND state IN ('created', 'locked', 'failed')");
  st.bind(1, i64(id));
  if (Status s = st.run(); !s) return s;
  cache_.forget_jobs_of(id);
  return true;
}

Result<std::optional<InstanceId>> SqliteStore::damaged_instance(IncidentKey key) {
  ORDO_STATEMENT(st, kDamagedInstance,
                 "SELECT instance_id FROM incidents WHERE key = ?1 AND type = 'damaged'");
  st.bind(1, i64(key));
  Result<bool> row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<InstanceId>();
  return std::optional<InstanceId>(static_cast<InstanceId>(st.int64(0)));
}

Result<std::vector<Store::TreeMember>> SqliteStore::call_tree(InstanceId id) {
  // Up to the root, then down from it (no index on parent_id: this runs once per hold).
  ORDO_STATEMENT(st, kCallTree,
                 "WITH RECURSIVE up(id, parent_id) AS (SELECT id, parent_id FROM instances "
                 "WHERE id = ?1 UNION SELECT i.id, i.parent_id FROM instances i JOIN up ON "
                 "i.id = up.parent_id), down(id) AS (SELECT id FROM up WHERE parent_id IS NULL "
                 "UNION SELECT i.id FROM instances i JOIN down ON i.parent_id = down.id) "
                 "SELECT id, process_id, version FROM instances WHERE id = ?1 OR (id IN "
                 "(SELECT id FROM down) AND state NOT IN ('completed', 'terminated')) ORDER BY id");
  st.bind(1, i64(id));
  std::vector<TreeMember> out;
  Status read = each_row(st, [&] {
    out.push_back({static_cast<InstanceId>(st.int64(0)), st.text(1), static_cast<int>(st.int64(2))});
  });
  if (!read) return read;
  if (out.empty()) out.push_back({id, {}, 0});
  return out;
}

Status SqliteStore::release_damaged(InstanceId id, IncidentKey key, bool ended) {
  {
    ORDO_STATEMENT(st, kDeleteIncident, "DELETE FROM incidents WHERE key = ?1");
    st.bind(1, i64(key));
    if (Status s = st.run(); !s) return s;
  }
  Result<Statement*> found =
      ended ? statement(kDeleteHeldJobs,
                        "DELETE FROM jobs WHERE instance_id = ?1 AND state = 'incident' AND key "
                        "NOT IN (SELECT job_key FROM incidents WHERE instance_id = ?1)")
            : statement(kReleaseJobs,
                        "UPDATE jobs SET state = 'created' WHERE instance_id = ?1 AND state = "
                        "'incident' AND key NOT IN (SELECT job_key FROM incidents WHERE "
                        "instance_id = ?1)");
  if (!found) return found.status();
  Statement& st = **found;
  Using using_st(st);
  st.bind(1, i64(id));
  if (Status s = st.run(); !s) return s;
  cache_.forget_jobs_of(id);
  return Status::ok();
}

Status SqliteStore::add_timer(const TimerRow& row) {
  ORDO_STATEMENT(st, kAddTimer,
                 "INSERT OR REPLACE INTO timers (id, instance_id, wait_id, due_at, "
                 "repetitions_left, interval_ms, process_id, version, start_event) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  st.bind(1, i64(row.id)).bind(2, i64(row.record.instance)).bind(3, i64(row.record.wait));
  st.bind(4, row.due_ms).bind(5, static_cast<std::int64_t>(row.record.repetitions_left));
  st.bind(6, row.record.interval_ms);
  if (row.record.start_event == kNoIndex) {
    st.bind_null(7).bind_null(8).bind_null(9);
  } else {
    st.bind(7, row.record.process_id).bind(8, static_cast<std::int64_t>(row.record.version));
    st.bind(9, static_cast<std::int64_t>(row.record.start_event));
  }
  return st.run();
}

Status SqliteStore::remove_start_timers(std::string_view process_id) {
  ORDO_STATEMENT(st, kRemoveStartTimers,
                 "DELETE FROM timers WHERE process_id = ?1 AND start_event IS NOT NULL");
  st.bind(1, process_id);
  return st.run();
}

Status SqliteStore::remove_timer(std::int64_t, std::uint64_t id) {
  ORDO_STATEMENT(st, kRemoveTimer, "DELETE FROM timers WHERE id = ?1");
  st.bind(1, i64(id));
  return st.run();
}

Result<std::optional<TimerRow>> SqliteStore::next_timer() {
  ORDO_STATEMENT(st, kNextTimer,
                 "SELECT id, instance_id, wait_id, due_at, repetitions_left, interval_ms, "
                 "process_id, version, start_event FROM timers t WHERE NOT EXISTS (SELECT 1 FROM "
                 "incidents i WHERE i.instance_id = t.instance_id AND i.type = 'damaged') "
                 "AND NOT EXISTS (SELECT 1 FROM instances n WHERE n.id = t.instance_id AND "
                 "n.state = 'suspended') ORDER BY due_at, id LIMIT 1");
  Result<bool> row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<TimerRow>();
  return std::optional<TimerRow>(timer_from(StatementRow(st)));
}

Status SqliteStore::add_subscription(std::string_view sub_key, const state::Subscription& s) {
  ORDO_STATEMENT(st, kAddSubscription,
                 "INSERT INTO subscriptions (wait_id, instance_id, sub_key, message_name, "
                 "correlation_key) VALUES (?1, ?2, ?3, ?4, ?5)");
  const std::size_t cut = sub_key.find('\x1f');
  st.bind(1, i64(s.wait)).bind(2, i64(s.instance)).bind(3, sub_key);
  st.bind(4, sub_key.substr(0, cut));
  st.bind(5, cut == std::string_view::npos ? std::string_view() : sub_key.substr(cut + 1));
  return st.run();
}

Status SqliteStore::remove_subscription(std::string_view, std::uint64_t wait) {
  ORDO_STATEMENT(st, kRemoveSubscription, "DELETE FROM subscriptions WHERE wait_id = ?1");
  st.bind(1, i64(wait));
  return st.run();
}

Status SqliteStore::subscriptions(std::string_view sub_key,
                                  std::vector<state::Subscription>& out) {
  out.clear();
  ORDO_STATEMENT(st, kSubscriptions,
                 "SELECT instance_id, wait_id FROM subscriptions s WHERE sub_key = ?1 AND NOT "
                 "EXISTS (SELECT 1 FROM incidents i WHERE i.instance_id = s.instance_id AND "
                 "i.type = 'damaged') ORDER BY wait_id");
  st.bind(1, sub_key);
  return each_row(st, [&] {
    out.push_back({static_cast<InstanceId>(st.int64(0)), static_cast<std::uint64_t>(st.int64(1))});
  });
}

Status SqliteStore::add_buffered(state::BufferedMessage& m, std::int64_t) {
  if (m.id != 0) {
    ORDO_STATEMENT(st, kAddBufferedWithId,
                   "INSERT INTO buffered_messages (id, message_name, correlation_key, variables, "
                   "expires_at) VALUES (?1, ?2, ?3, ?4, ?5)");
    st.bind(1, i64(m.id)).bind(2, m.name).bind(3, m.correlation_key);
    st.bind(4, encode_json(m.variables)).bind(5, m.expires_ms);
    return st.run();
  }
  ORDO_STATEMENT(st, kAddBuffered,
                 "INSERT INTO buffered_messages (message_name, correlation_key, variables, "
                 "expires_at) VALUES (?1, ?2, ?3, ?4)");
  st.bind(1, m.name).bind(2, m.correlation_key);
  st.bind(3, encode_json(m.variables)).bind(4, m.expires_ms);
  if (Status s = st.run(); !s) return s;
  m.id = static_cast<std::uint64_t>(sqlite3_last_insert_rowid(db_->handle()));
  return Status::ok();
}

Result<std::optional<state::BufferedMessage>> SqliteStore::take_buffered(std::string_view name,
                                                                           std::string_view key,
                                                                           std::int64_t now_ms) {
  state::BufferedMessage m;
  {
    ORDO_STATEMENT(st, kTakeBuffered,
                   "SELECT id, variables, expires_at FROM buffered_messages "
                   "WHERE message_name = ?1 AND correlation_key = ?2 AND expires_at >= ?3 "
                   "ORDER BY id LIMIT 1");
    st.bind(1, name).bind(2, key).bind(3, now_ms);
    Result<bool> row = st.step();
    if (!row) return row.status();
    if (!*row) return std::optional<state::BufferedMessage>();
    m = buffered_from(StatementRow(st), name, key);
  }
  ORDO_STATEMENT(st, kDeleteBuffered, "DELETE FROM buffered_messages WHERE id = ?1");
  st.bind(1, i64(m.id));
  if (Status s = st.run(); !s) return s;
  return std::optional<state::BufferedMessage>(std::move(m));
}

Result<std::optional<std::string>> SqliteStore::published(std::string_view message_id) {
  ORDO_STATEMENT(st, kPublished, "SELECT outcome FROM messages WHERE message_id = ?1");
  st.bind(1, message_id);
  Result<bool> row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(st.text(0));
}

Status SqliteStore::record_published(std::string_view message_id, std::string_view name,
                                     std::string_view key, std::string_view outcome,
                                     std::int64_t now_ms) {
  ORDO_STATEMENT(st, kRecordPublished,
                 "INSERT INTO messages (message_id, message_name, correlation_key, outcome, "
                 "published_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  st.bind(1, message_id).bind(2, name).bind(3, key).bind(4, outcome).bind(5, now_ms);
  return st.run();
}

}  // namespace ordo::store::sqlite
