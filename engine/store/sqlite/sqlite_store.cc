#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <type_traits>

#include "runtime/plan.h"  // element ids and versions of the processes instances run
#include "store/sqlite/codec.h"

namespace ordo::store::sqlite {
namespace {

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

std::int64_t i64(std::uint64_t v) {
  return static_cast<std::int64_t>(v);
}

state::JobRecord job_from(const Statement& st) {
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

constexpr std::string_view kJobColumns =
    "key, instance_id, element_key, element_index, type, state, retries, attempt, "
    "idempotency_key, last_error, lock_owner, lock_expires_at";

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

#define ORDO_STATEMENT(var, id, sql)                   \
  Result<Statement*> var##_found = statement(id, sql); \
  if (!var##_found) return var##_found.status();       \
  Statement& var = **var##_found;                      \
  Using var##_using(var)

Status SqliteStore::begin() {
  history_read_ = false;
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
  if (changed_by_others_) {
    ++txn_;
    jobs_.clear();
  }
  return Status::ok();
}

Status SqliteStore::commit() {
  if (history_read_ && history_next_ != history_first_) {
    ORDO_STATEMENT(st, kAllocateWrite, "UPDATE meta SET value = ?2 WHERE name = ?1");
    st.bind(1, std::string_view("history")).bind(2, i64(history_next_));
    if (Status s = st.run(); !s) return s;
  }
  history_read_ = false;
  if (Status s = db_->commit(); !s) return s;
  in_txn_ = false;
  if (cache_.size() > cache_limit_) cache_.clear();
  return Status::ok();
}

void SqliteStore::rollback() noexcept {
  history_read_ = false;
  db_->rollback();
  in_txn_ = false;
  // The cache may be ahead of the file now: forget it.
  cache_.clear();
  jobs_.clear();
  ++txn_;
}

// ---- instances and jobs, through the cache ----

Result<state::Instance*> SqliteStore::instance(InstanceId id) {
  auto it = cache_.find(id);
  state::Instance* cached = it == cache_.end() ? nullptr : it->second.get();
  // Checked in this transaction already. Reads between transactions are always checked:
  // another process may have committed since.
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

const state::Instance* SqliteStore::cached_instance(InstanceId id) const noexcept {
  auto it = cache_.find(id);
  return it == cache_.end() ? nullptr : it->second.get();
}

state::Instance& SqliteStore::add_instance(std::unique_ptr<state::Instance> instance) {
  instance->checked_in = txn_;
  state::Instance& inst = *instance;
  cache_.insert_or_assign(inst.id, std::move(instance));
  return inst;
}

Result<state::JobRecord*> SqliteStore::job(JobKey key) {
  if (!in_txn_) jobs_.erase(key);  // between transactions: read it fresh
  if (auto it = jobs_.find(key); it != jobs_.end()) return &it->second;
  Result<std::optional<state::JobRecord>> loaded = load_job(key);
  if (!loaded) return loaded.status();
  if (!*loaded) return nullptr;
  return &jobs_.insert_or_assign(key, std::move(**loaded)).first->second;
}

state::JobRecord& SqliteStore::put_job(state::JobRecord job) {
  const JobKey key = job.key;
  return jobs_.insert_or_assign(key, std::move(job)).first->second;
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

Result<SqliteStore::Loaded> SqliteStore::load_instance(InstanceId id, std::uint64_t known_rev,
                                                   state::Instance& out) {
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
                 "SELECT rev, process_id, version, business_key, state, parent_id, "
                 "parent_element, started_at, ended_at, variables, runtime "
                 "FROM instances WHERE id = ?1");
  st.bind(1, i64(id));
  Result<bool> row = st.step();
  if (!row) return row.status();
  Loaded loaded;
  if (!*row) return loaded;
  const auto rev = static_cast<std::uint64_t>(st.int64(0));
  if (rev == known_rev) {
    loaded.load = Load::kUnchanged;
    return loaded;
  }
  loaded.load = Load::kLoaded;
  loaded.process_id = st.text(1);
  loaded.version = static_cast<int>(st.int64(2));
  out.id = id;
  out.rev = rev;
  out.business_key = st.text(3);
  auto state = enum_from<InstanceState, InstanceState::kIncident>(st.text(4));
  if (!state) {
    return Status(StatusCode::kCorruption, "instance " + std::to_string(id) + " in " + db_->path() +
                                               " has an unknown state '" + st.text(4) +
                                               "'; restore it from a backup");
  }
  out.state = *state;
  out.parent = static_cast<InstanceId>(st.int64(5));
  out.parent_element = static_cast<state::ElemKey>(st.int64(6));
  out.started_ms = st.int64(7);
  out.ended_ms = st.int64(8);
  out.vars = nlohmann::json::parse(st.text(9), nullptr, false);
  out.vars_changed = false;
  if (!out.vars.is_object()) {
    return Status(StatusCode::kCorruption, "the variables of instance " + std::to_string(id) +
                                               " in " + db_->path() +
                                               " are damaged; restore it from a backup");
  }
  if (Status s = decode_runtime(st.text(10), out); !s) return s;
  return loaded;
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
  Rows rows;
  rows.instances.reserve(changes.instances.size());
  for (InstanceId id : changes.instances) {
    auto it = cache_.find(id);
    if (it != cache_.end()) rows.instances.push_back(it->second.get());
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
  // Finished instances are read again if anyone asks: the cache keeps the running ones.
  for (InstanceId id : changes.finished) cache_.erase(id);
  return Status::ok();
}

Status SqliteStore::write_rows(const Rows& changes) {
  for (state::Instance* inst : changes.instances) {
    // Invalid UTF-8 in a string (from a handler, say) is stored as U+FFFD, not thrown.
    const std::string vars =
        inst->rev == 0 || inst->vars_changed
            ? inst->vars.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
            : std::string();
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
      // The variables are written only when a command may have changed them.
      Result<Statement*> found =
          inst->vars_changed
              ? statement(kUpdateInstance,
                          "UPDATE instances SET state = ?2, rev = rev + 1, ended_at = ?3, "
                          "end_event = ?4, runtime = ?6, variables = ?5 WHERE id = ?1 AND rev = ?7")
              : statement(kUpdateInstanceKeepVars,
                          "UPDATE instances SET state = ?2, rev = rev + 1, ended_at = ?3, "
                          "end_event = ?4, runtime = ?6 WHERE id = ?1 AND rev = ?7");
      if (!found) return found.status();
      Statement& st = **found;
      Using using_st(st);
      st.bind(1, i64(inst->id)).bind(2, to_string(inst->state));
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
    inst->vars_changed = false;
    ++inst->rev;
    if (inst->incidents_changed) {
      {
        ORDO_STATEMENT(st, kDeleteIncidents, "DELETE FROM incidents WHERE instance_id = ?1");
        st.bind(1, i64(inst->id));
        if (Status s = st.run(); !s) return s;
      }
      for (const state::Incident& i : inst->incidents) {
        ORDO_STATEMENT(st, kInsertIncident,
                       "INSERT INTO incidents (key, instance_id, element_id, job_key, type, "
                       "message, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
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
    // One row per run of events of one instance.
    std::size_t begin = 0;
    while (begin < events.size()) {
      std::size_t end = begin;
      while (end < events.size() && events[end].instance == events[begin].instance) {
        events[end].sequence = first + end;
        ++end;
      }
      const std::string rows = encode_history(events.data() + begin, events.data() + end);
      ORDO_STATEMENT(st, kInsertHistory,
                     "INSERT INTO history (sequence, instance_id, events) VALUES (?1, ?2, ?3)");
      st.bind(1, i64(events[begin].sequence)).bind(2, i64(events[begin].instance));
      st.bind(3, rows);
      if (Status s = st.run(); !s) return s;
      begin = end;
    }
  }
  return Status::ok();
}

Result<std::optional<state::JobRecord>> SqliteStore::load_job(JobKey key) {
  static const std::string sql = "SELECT " + std::string(kJobColumns) + " FROM jobs WHERE key = ?1";
  ORDO_STATEMENT(st, kLoadJob, sql);
  st.bind(1, i64(key));
  Result<bool> row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<state::JobRecord>();
  return std::optional<state::JobRecord>(job_from(st));
}

Result<std::optional<InstanceId>> SqliteStore::incident_instance(IncidentKey key) {
  ORDO_STATEMENT(st, kIncidentInstance, "SELECT instance_id FROM incidents WHERE key = ?1");
  st.bind(1, i64(key));
  Result<bool> row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<InstanceId>();
  return std::optional<InstanceId>(static_cast<InstanceId>(st.int64(0)));
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
                 "process_id, version, start_event FROM timers ORDER BY due_at, id LIMIT 1");
  Result<bool> row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<TimerRow>();
  TimerRow t;
  t.id = static_cast<std::uint64_t>(st.int64(0));
  t.record.instance = static_cast<InstanceId>(st.int64(1));
  t.record.wait = static_cast<std::uint64_t>(st.int64(2));
  t.due_ms = st.int64(3);
  t.record.repetitions_left = static_cast<std::int32_t>(st.int64(4));
  t.record.interval_ms = st.int64(5);
  if (!st.is_null(8)) {
    t.record.process_id = st.text(6);
    t.record.version = static_cast<int>(st.int64(7));
    t.record.start_event = static_cast<ElementIndex>(st.int64(8));
  }
  return std::optional<TimerRow>(std::move(t));
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
                 "SELECT instance_id, wait_id FROM subscriptions WHERE sub_key = ?1 "
                 "ORDER BY wait_id");
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
    st.bind(4, m.variables.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    st.bind(5, m.expires_ms);
    return st.run();
  }
  ORDO_STATEMENT(st, kAddBuffered,
                 "INSERT INTO buffered_messages (message_name, correlation_key, variables, "
                 "expires_at) VALUES (?1, ?2, ?3, ?4)");
  st.bind(1, m.name).bind(2, m.correlation_key);
  st.bind(3, m.variables.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  st.bind(4, m.expires_ms);
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
    m.id = static_cast<std::uint64_t>(st.int64(0));
    m.name = std::string(name);
    m.correlation_key = std::string(key);
    m.variables = nlohmann::json::parse(st.text(1), nullptr, false);
    if (m.variables.is_discarded()) m.variables = nlohmann::json::object();
    m.expires_ms = st.int64(2);
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

// ---- deployments ----

Result<std::vector<DeploymentRow>> SqliteStore::deployments(std::string_view process_id) {
  Result<Statement> st = db_->prepare(
      "SELECT process_id, version, content_hash, file, xml, load_flags, deployed_at "
      "FROM deployments WHERE ?1 = '' OR process_id = ?1 ORDER BY process_id, version");
  if (!st) return st.status();
  st->bind(1, process_id);
  std::vector<DeploymentRow> out;
  Status read = each_row(*st, [&] {
    out.push_back({st->text(0), static_cast<int>(st->int64(1)), st->text(2), st->text(3),
                   st->text(4), static_cast<int>(st->int64(5)), st->int64(6)});
  });
  if (!read) return read;
  return out;
}

Result<int> SqliteStore::latest_version(std::string_view process_id) {
  ORDO_STATEMENT(st, kLatestDeployment,
                 "SELECT version FROM deployments WHERE process_id = ?1 "
                 "ORDER BY version DESC LIMIT 1");
  st.bind(1, process_id);
  Result<bool> row = st.step();
  if (!row) return row.status();
  if (!*row) return 0;
  return static_cast<int>(st.int64(0));
}

Status SqliteStore::add_deployment(const DeploymentRow& d) {
  ORDO_STATEMENT(st, kAddDeployment,
                 "INSERT INTO deployments (process_id, version, content_hash, file, xml, "
                 "load_flags, deployed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  st.bind(1, d.process_id).bind(2, static_cast<std::int64_t>(d.version)).bind(3, d.content_hash);
  st.bind(4, d.file).bind(5, d.xml).bind(6, static_cast<std::int64_t>(d.load_flags));
  st.bind(7, d.deployed_ms);
  return st.run();
}

// ---- jobs for workers ----

Result<std::vector<state::JobRecord>> SqliteStore::acquire_jobs(
    std::string_view type, std::string_view owner, std::int64_t now_ms, std::int64_t lock_until_ms,
    int limit, const std::vector<std::string>& except) {
  const std::string except_json = nlohmann::json(except).dump();
  // Created jobs by key, then locked ones whose lock has expired: each half has its index.
  static constexpr std::string_view kAny =
      "UPDATE jobs SET state = 'locked', lock_owner = ?1, lock_expires_at = ?2 "
      "WHERE key IN (SELECT key FROM (SELECT key FROM jobs WHERE state = 'created' "
      "AND type NOT IN (SELECT value FROM json_each(?5)) ORDER BY key LIMIT ?4) "
      "UNION ALL SELECT key FROM (SELECT key FROM jobs WHERE state = 'locked' "
      "AND lock_expires_at < ?3 AND type NOT IN (SELECT value FROM json_each(?5)) "
      "ORDER BY lock_expires_at LIMIT ?4) LIMIT ?4) RETURNING key, instance_id, element_key, "
      "element_index, type, state, retries, "
      "attempt, idempotency_key, last_error, lock_owner, lock_expires_at";
  static constexpr std::string_view kTyped =
      "UPDATE jobs SET state = 'locked', lock_owner = ?1, lock_expires_at = ?2 "
      "WHERE key IN (SELECT key FROM (SELECT key FROM jobs WHERE state = 'created' "
      "AND type = ?5 ORDER BY key LIMIT ?4) UNION ALL SELECT key FROM (SELECT key FROM jobs "
      "WHERE state = 'locked' AND lock_expires_at < ?3 AND type = ?5 "
      "ORDER BY lock_expires_at LIMIT ?4) LIMIT ?4) RETURNING key, instance_id, element_key, "
      "element_index, type, state, retries, attempt, idempotency_key, last_error, lock_owner, "
      "lock_expires_at";
  Result<Statement*> found =
      type.empty() ? statement(kAcquireAny, kAny) : statement(kAcquireTyped, kTyped);
  if (!found) return found.status();
  Statement* st = *found;
  Using using_st(*st);
  st->bind(1, owner)
      .bind(2, lock_until_ms)
      .bind(3, now_ms)
      .bind(4, static_cast<std::int64_t>(limit));
  st->bind(5, type.empty() ? except_json : type);
  std::vector<state::JobRecord> out;
  Status read = each_row(*st, [&] { out.push_back(job_from(*st)); });
  if (!read) return read;
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return out;
}

Result<std::vector<std::string>> SqliteStore::lock_owners() {
  Result<Statement> st = db_->prepare(
      "SELECT DISTINCT lock_owner FROM jobs WHERE state = 'locked' AND lock_owner IS NOT NULL");
  if (!st) return st.status();
  std::vector<std::string> out;
  Status read = each_row(*st, [&] { out.push_back(st->text(0)); });
  if (!read) return read;
  return out;
}

Result<int> SqliteStore::release_locks(std::string_view owner) {
  Result<Statement> st = db_->prepare(
      "UPDATE jobs SET state = 'created', lock_owner = NULL, lock_expires_at = 0 "
      "WHERE state = 'locked' AND lock_owner = ?1");
  if (!st) return st.status();
  st->bind(1, owner);
  if (Status s = st->run(); !s) return s;
  return sqlite3_changes(db_->handle());
}

Status SqliteStore::release_job(JobKey key, std::string_view owner) {
  Result<Statement> st = db_->prepare(
      "UPDATE jobs SET state = 'created', lock_owner = NULL, lock_expires_at = 0 "
      "WHERE key = ?1 AND state = 'locked' AND lock_owner = ?2");
  if (!st) return st.status();
  st->bind(1, i64(key)).bind(2, owner);
  return st->run();
}

// ---- listings ----

Result<std::vector<InstanceCountRow>> SqliteStore::count_instances() {
  Result<Statement> st = db_->prepare(
      "SELECT process_id, state, coalesce(end_event, ''), count(*) FROM instances "
      "GROUP BY process_id, state, end_event");
  if (!st) return st.status();
  std::vector<InstanceCountRow> out;
  Status read = each_row(*st, [&] {
    out.push_back({st->text(0),
                   enum_from<InstanceState, InstanceState::kIncident>(st->text(1))
                       .value_or(InstanceState::kActive),
                   st->text(2), st->int64(3)});
  });
  if (!read) return read;
  return out;
}

Result<std::vector<InstanceRow>> SqliteStore::list_instances(const InstanceQuery& query) {
  const std::string_view state = query.state ? to_string(*query.state) : std::string_view();
  Result<Statement> st = db_->prepare(
      "SELECT id, process_id, version, business_key, state, parent_id, started_at, ended_at, "
      "end_event FROM instances WHERE (?1 = '' OR state = ?1) AND (?2 = '' OR process_id = ?2) "
      "AND (?4 = '' OR business_key = ?4) ORDER BY id LIMIT ?3");
  if (!st) return st.status();
  st->bind(1, state)
      .bind(2, query.process_id)
      .bind(3, static_cast<std::int64_t>(query.limit))
      .bind(4, query.business_key);
  std::vector<InstanceRow> out;
  Status read = each_row(*st, [&] {
    InstanceRow r;
    r.id = static_cast<InstanceId>(st->int64(0));
    r.process_id = st->text(1);
    r.version = static_cast<int>(st->int64(2));
    r.business_key = st->text(3);
    r.state = enum_from<InstanceState, InstanceState::kIncident>(st->text(4))
                  .value_or(InstanceState::kActive);
    r.parent = static_cast<InstanceId>(st->int64(5));
    r.started_ms = st->int64(6);
    r.ended_ms = st->int64(7);
    r.end_event = st->text(8);
    out.push_back(std::move(r));
  });
  if (!read) return read;
  return out;
}

Result<std::vector<state::JobRecord>> SqliteStore::list_jobs(std::string_view type) {
  Result<Statement> st = db_->prepare("SELECT " + std::string(kJobColumns) +
                                      " FROM jobs WHERE ?1 = '' OR type = ?1 ORDER BY key");
  if (!st) return st.status();
  st->bind(1, type);
  std::vector<state::JobRecord> out;
  Status read = each_row(*st, [&] { out.push_back(job_from(*st)); });
  if (!read) return read;
  return out;
}

Result<std::vector<IncidentRow>> SqliteStore::list_incidents() {
  Result<Statement> st = db_->prepare(
      "SELECT key, instance_id, element_id, job_key, type, message, created_at FROM incidents "
      "ORDER BY key");
  if (!st) return st.status();
    std::vector<IncidentRow> out;
  Status read = each_row(*st, [&]() -> Status {
    const std::optional<IncidentKind> kind = incident_kind_from(st->text(4));
    if (!kind) {
      return Status(StatusCode::kCorruption, "incident " + std::to_string(st->int64(0)) + " in " +
                                                 db_->path() + " has an unknown kind '" +
                                                 st->text(4) + "'; restore it from a backup");
    }
    out.push_back({static_cast<IncidentKey>(st->int64(0)), static_cast<InstanceId>(st->int64(1)),
                   st->text(2), static_cast<JobKey>(st->int64(3)), *kind, st->text(5),
                   st->int64(6)});
    return Status::ok();
  });
  if (!read) return read;
  return out;
}

Result<std::vector<HistoryEvent>> SqliteStore::history(InstanceId id) {
  std::vector<HistoryEvent> out;
  // The instance's definition names what the rows refer to.
  Result<state::Instance*> inst = instance(id);
  if (!inst) return inst.status();
  if (*inst == nullptr) return out;
  const ProcessDefinition& def = *(*inst)->plan->def;
  Result<Statement> st =
      db_->prepare("SELECT sequence, events FROM history WHERE instance_id = ?1 ORDER BY sequence");
  if (!st) return st.status();
  st->bind(1, i64(id));
  Status read = each_row(*st, [&]() -> Status {
    const auto first = static_cast<std::uint64_t>(st->int64(0));
    nlohmann::json rows = nlohmann::json::parse(st->text(1), nullptr, false);
    if (!rows.is_array()) {
      return Status(StatusCode::kCorruption, "the history of instance " + std::to_string(id) +
                                                 " in " + db_->path() +
                                                 " is damaged; restore it from a backup");
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const nlohmann::json& r = rows[i];
      if (!r.is_array() || r.size() != 6) continue;
      HistoryEvent& e = out.emplace_back();
      e.sequence = first + i;
      e.instance = id;
      e.process_id = def.id;
      e.time_ms = r[0].is_number() ? r[0].get<std::int64_t>() : 0;
      e.kind = enum_from<HistoryKind, HistoryKind::kJobDeferred>(
                   r[1].is_string() ? r[1].get<std::string>() : std::string())
                   .value_or(HistoryKind::kInstanceStarted);
      const std::string element_id = r[2].is_string() ? r[2].get<std::string>() : std::string();
      if (const Element* el = element_id.empty() ? nullptr : def.find_element(element_id)) {
        e.element_id = el->id;
        e.element_kind = el->kind;
      } else if (e.kind == HistoryKind::kFlowTaken) {
        // Flow events name a sequence flow, which is not an element.
        if (const FlowIndex f = def.flow_index(element_id); f != kNoIndex) {
          e.element_id = def.flows[f].id;
        }
      }
      e.key = r[3].is_number() ? r[3].get<std::uint64_t>() : 0;
      e.value = r[4].is_number() ? r[4].get<std::int64_t>() : 0;
      if (r[5].is_string()) e.detail = r[5].get<std::string>();
    }
    return Status::ok();
  });
  if (!read) return read;
  return out;
}

Status SqliteStore::backup(const std::string& dest) {
  sqlite3* target = nullptr;
  int rc =
      sqlite3_open_v2(dest.c_str(), &target, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  auto fail = [&](std::string_view doing, int code) {
    std::string message = "cannot back up " + db_->path() + " to " + dest + ": " +
                          std::string(doing) + ": " +
                          (target ? sqlite3_errmsg(target) : sqlite3_errstr(code));
    sqlite3_close(target);
    return Status::io_error(std::move(message));
  };
  if (rc != SQLITE_OK) return fail("open", rc);
  sqlite3_backup* b = sqlite3_backup_init(target, "main", db_->handle(), "main");
  if (b == nullptr) return fail("start", sqlite3_errcode(target));
  do {
    // All at once: stepping in parts restarts the copy whenever another process writes,
    // and in WAL mode the read it holds does not stop writers anyway.
    rc = sqlite3_backup_step(b, -1);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(5);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return fail("copy", rc);
  if (sqlite3_close(target) != SQLITE_OK) return Status::io_error("cannot close " + dest);
  return Status::ok();
}

}  // namespace ordo::store::sqlite
