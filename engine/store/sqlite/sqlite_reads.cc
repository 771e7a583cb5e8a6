// The SQLite store: deployments, job locks, the listings, history and backups (the rest of
// SqliteStore is in sqlite_store.cc).
#include <sqlite3.h>

#include <algorithm>

#include "state/plan.h"  // the process definitions of the history it reads
#include "store/instance_query.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/statements.h"

namespace ordo::store::sqlite {

// ---- deployments ----

Result<std::vector<DeploymentRow>> SqliteStore::deployments(std::string_view process_id) {
  Result<Statement> st = db_->prepare(
      "SELECT process_id, version, content_hash, file, xml, load_flags, deployed_at "
      "FROM deployments WHERE ?1 = '' OR process_id = ?1 ORDER BY process_id, version");
  if (!st) return st.status();
  st->bind(1, process_id);
  std::vector<DeploymentRow> out;
  Status read = each_row(*st, [&] { out.push_back(deployment_from(StatementRow(*st))); });
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

Result<std::int64_t> SqliteStore::deployment_count() {
  ORDO_STATEMENT(st, kDeploymentCount, "SELECT count(*) FROM deployments");
  Result<bool> row = st.step();
  if (!row) return row.status();
  return *row ? st.int64(0) : 0;
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
      "ORDER BY lock_expires_at LIMIT ?4) LIMIT ?4) RETURNING " ORDO_JOB_COLUMNS;
  static constexpr std::string_view kTyped =
      "UPDATE jobs SET state = 'locked', lock_owner = ?1, lock_expires_at = ?2 "
      "WHERE key IN (SELECT key FROM (SELECT key FROM jobs WHERE state = 'created' "
      "AND type = ?5 ORDER BY key LIMIT ?4) UNION ALL SELECT key FROM (SELECT key FROM jobs "
      "WHERE state = 'locked' AND lock_expires_at < ?3 AND type = ?5 "
      "ORDER BY lock_expires_at LIMIT ?4) LIMIT ?4) RETURNING " ORDO_JOB_COLUMNS;
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
  Status read = each_row(*st, [&] { out.push_back(job_from(StatementRow(*st))); });
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
      "SELECT process_id, state, end_event, sum(n) FROM instance_counts "
      "GROUP BY process_id, state, end_event HAVING sum(n) <> 0 "
      "ORDER BY process_id, state, end_event");
  if (!st) return st.status();
  std::vector<InstanceCountRow> out;
  Status read = each_row(*st, [&] { out.push_back(count_row_from(StatementRow(*st))); });
  if (!read) return read;
  return out;
}

Result<std::vector<MinuteCount>> SqliteStore::minute_counts(std::int64_t from_ms) {
  Result<Statement> st = db_->prepare(
      "SELECT process_id, minute, sum(started), sum(completed), sum(terminated) FROM "
      "instance_minutes WHERE minute >= ?1 GROUP BY process_id, minute "
      "ORDER BY process_id, minute");
  if (!st) return st.status();
  st->bind(1, from_ms);
  std::vector<MinuteCount> out;
  Status read = each_row(*st, [&] {
    out.push_back({.process_id = st->text(0), .minute_ms = st->int64(1),
                   .started = st->int64(2), .completed = st->int64(3),
                   .terminated = st->int64(4)});
  });
  if (!read) return read;
  return out;
}

Result<std::vector<CycleBucketRow>> SqliteStore::cycle_buckets(std::int64_t from_ms) {
  Result<Statement> st = db_->prepare(
      "SELECT process_id, end_event, bucket, sum(n) FROM cycle_times WHERE minute >= ?1 "
      "GROUP BY process_id, end_event, bucket ORDER BY process_id, end_event, bucket");
  if (!st) return st.status();
  st->bind(1, from_ms);
  std::vector<CycleBucketRow> out;
  Status read = each_row(*st, [&] {
    out.push_back({.process_id = st->text(0), .end_event = st->text(1),
                   .bucket = static_cast<int>(st->int64(2)), .count = st->int64(3)});
  });
  if (!read) return read;
  return out;
}

Result<std::vector<ElementStatistics>> SqliteStore::element_stats(std::string_view process_id,
                                                                 int version) {
  std::vector<ElementStatistics> out;
  Result<Statement> st = db_->prepare(
      "SELECT element_id, sum(active), sum(completed), sum(terminated), sum(time_ms), "
      "sum(timed) FROM element_stats WHERE process_id = ?1 AND version = ?2 "
      "GROUP BY element_id ORDER BY element_id");
  if (!st) return st.status();
  st->bind(1, process_id).bind(2, static_cast<std::int64_t>(version));
  Status read = each_row(*st, [&] {
    out.push_back({.element_id = st->text(0), .active = st->int64(1),
                   .completed = st->int64(2), .terminated = st->int64(3),
                   .time_ms = st->int64(4), .timed = st->int64(5)});
  });
  if (!read) return read;
  Result<Statement> inc = db_->prepare(
      // From the (few) open incidents to their instances, never the other way round: CROSS
      // JOIN keeps SQLite from walking every instance of the process.
      "SELECT d.element_id, count(*) FROM incidents d CROSS JOIN instances n "
      "ON n.id = d.instance_id WHERE n.process_id = ?1 AND n.version = ?2 AND d.element_id IS NOT NULL "
      "GROUP BY d.element_id");
  if (!inc) return inc.status();
  inc->bind(1, process_id).bind(2, static_cast<std::int64_t>(version));
  read = each_row(*inc, [&] { add_incidents(out, inc->text(0), inc->int64(1)); });
  if (!read) return read;
  return out;
}

namespace {

void bind_all(Statement& st, const InstanceSql& sql) {
  for (std::size_t i = 0; i < sql.params.size(); ++i) {
    const int at = static_cast<int>(i + 1);
    if (sql.integers[i]) {
      st.bind(at, static_cast<std::int64_t>(std::stoll(sql.params[i])));
    } else {
      st.bind(at, std::string_view(sql.params[i]));
    }
  }
}

}  // namespace

Result<std::vector<InstanceRow>> SqliteStore::list_instances(const InstanceQuery& query) {
  const auto search = [&](int recent) -> Result<std::vector<InstanceRow>> {
    const InstanceSql sql = instance_query_sql(query, SqlDialect::kSqlite, recent);
    Result<Statement> st = db_->prepare(sql.text);
    if (!st) return st.status();
    bind_all(*st, sql);
    std::vector<InstanceRow> out;
    Status read = each_row(*st, [&] { out.push_back(instance_row_from(StatementRow(*st))); });
    if (!read) return read;
    return out;
  };
  if (query.business_key_prefix && !query.business_key.empty()) {
    // The next instances in line first: a full page there is the page (instance_query.h).
    Result<std::vector<InstanceRow>> recent = search(kRecentWindow);
    if (!recent || static_cast<int>(recent->size()) >= query.limit) return recent;
  }
  return search(0);
}

Result<std::vector<state::JobRecord>> SqliteStore::list_jobs(std::string_view type) {
  Result<Statement> st =
      db_->prepare("SELECT " ORDO_JOB_COLUMNS " FROM jobs WHERE ?1 = '' OR type = ?1 ORDER BY key");
  if (!st) return st.status();
  st->bind(1, type);
  std::vector<state::JobRecord> out;
  Status read = each_row(*st, [&] { out.push_back(job_from(StatementRow(*st))); });
  if (!read) return read;
  return out;
}

Result<std::vector<IncidentRow>> SqliteStore::list_incidents() {
  Result<Statement> st = db_->prepare(
      "SELECT d.key, d.instance_id, d.element_id, d.job_key, d.type, d.message, d.created_at, "
      "n.process_id, n.version, n.business_key FROM incidents d "
      "JOIN instances n ON n.id = d.instance_id ORDER BY d.key");
  if (!st) return st.status();
  std::vector<IncidentRow> out;
  Status read = each_row(*st, [&]() -> Status {
    Result<IncidentRow> row = incident_row_from(StatementRow(*st), db_->path());
    if (!row) return row.status();
    out.push_back(std::move(*row));
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
  const std::string process_id = def.id;
  Result<Statement> st =
      db_->prepare("SELECT sequence, events FROM history WHERE instance_id = ?1 ORDER BY sequence");
  if (!st) return st.status();
  st->bind(1, i64(id));
  std::vector<std::pair<std::uint64_t, std::string>> rows;
  Status read = each_row(*st, [&] {
    rows.emplace_back(static_cast<std::uint64_t>(st->int64(0)), st->text(1));
    return Status::ok();
  });
  if (!read) return read;
  read = decode_history_rows(rows, id, def, version_definitions(attach_, process_id), db_->path(), out);
  if (!read) return read;
  return out;
}

Result<std::vector<Store::LogRow>> SqliteStore::history_log(std::uint64_t after,
                                                             std::size_t limit) {
  Result<Statement> st = db_->prepare(
      "SELECT h.sequence, h.instance_id, n.process_id, n.version, n.business_key, h.events "
      "FROM history h JOIN instances n ON n.id = h.instance_id WHERE h.sequence >= "
      "COALESCE((SELECT max(sequence) FROM history WHERE sequence <= ?1), 0) "
      "ORDER BY h.sequence LIMIT ?2");
  if (!st) return st.status();
  st->bind(1, i64(after)).bind(2, static_cast<std::int64_t>(limit));
  std::vector<LogRow> out;
  Status read = each_row(*st, [&] {
    LogRow l;
    l.sequence = static_cast<std::uint64_t>(st->int64(0));
    l.instance = static_cast<InstanceId>(st->int64(1));
    l.process_id = st->text(2);
    l.version = static_cast<int>(st->int64(3));
    l.business_key = st->text(4);
    l.events = st->text(5);
    out.push_back(std::move(l));
    return Status::ok();
  });
  if (!read) return read;
  return out;
}

Result<std::uint64_t> SqliteStore::log_position(std::string_view reader) {
  Result<Statement> st = db_->prepare("SELECT value FROM meta WHERE name = 'log:' || ?1");
  if (!st) return st.status();
  st->bind(1, reader);
  Result<bool> row = st->step();
  if (!row) return row.status();
  return *row ? static_cast<std::uint64_t>(st->int64(0)) : std::uint64_t{0};
}

Result<bool> SqliteStore::claim_log(std::string_view reader, std::int64_t owner,
                                    std::int64_t now_ms, std::int64_t lease_ms) {
  // value: the lease's end (ms) shifted up 20 bits, its owner in the low 20.
  Result<Statement> st = db_->prepare(
      "INSERT INTO meta (name, value) VALUES ('log-lease:' || ?1, ?2) ON CONFLICT (name) DO "
      "UPDATE SET value = excluded.value WHERE (meta.value >> 20) < ?3 OR "
      "(meta.value & 1048575) = ?4 RETURNING value");
  if (!st) return st.status();
  const std::int64_t mine = owner & 0xFFFFF;
  st->bind(1, reader).bind(2, ((now_ms + lease_ms) << 20) | mine).bind(3, now_ms).bind(4, mine);
  Result<bool> row = st->step();
  if (!row) return row.status();
  const bool held = *row;
  if (held) {
    // Step to the end, so that the statement finishes its write.
    Result<bool> more = st->step();
    if (!more) return more.status();
  }
  return held;
}

Status SqliteStore::set_log_position(std::string_view reader, std::uint64_t position) {
  Result<Statement> st = db_->prepare(
      "INSERT INTO meta (name, value) VALUES ('log:' || ?1, ?2) ON CONFLICT (name) DO UPDATE "
      "SET value = max(value, excluded.value)");
  if (!st) return st.status();
  st->bind(1, reader).bind(2, i64(position));
  return st->run();
}

Status SqliteStore::backup(const std::string& dest) {
  // The copy is as private as the database (and stays so when it is put back in its place).
  if (Status s = create_private_file(dest); !s) return s;
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
