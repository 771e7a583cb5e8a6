// The Ordo database schema, its version, and migrations.
//
// PRAGMA application_id marks the file as Ordo's; PRAGMA user_version is the schema version.
// Opening checks both before writing anything, then applies the migrations from the file's
// version up to kSchemaVersion in one transaction.
#include <array>

#include "store/sqlite/database.h"

namespace ordo::store::sqlite {
namespace {

// Migration N takes a database from schema N-1 to N. Never edit a released one: add another.
constexpr std::array<std::string_view, kSchemaVersion> kMigrations = {
    // 1: the first schema.
    R"sql(
CREATE TABLE meta (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;
CREATE TABLE deployments (
  process_id   TEXT NOT NULL,
  version      INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  file         TEXT NOT NULL,
  xml          TEXT NOT NULL,
  deployed_at  INTEGER NOT NULL,
  PRIMARY KEY (process_id, version)
) STRICT;
CREATE TABLE instances (
  id             INTEGER PRIMARY KEY,
  process_id     TEXT NOT NULL,
  version        INTEGER NOT NULL,
  business_key   TEXT,
  state          INTEGER NOT NULL,
  parent_id      INTEGER,
  parent_element INTEGER,
  next_key       INTEGER NOT NULL,
  tokens         INTEGER NOT NULL,
  end_event      TEXT,
  started_at     INTEGER NOT NULL,
  ended_at       INTEGER,
  FOREIGN KEY (process_id, version) REFERENCES deployments (process_id, version)
) STRICT;
CREATE UNIQUE INDEX instances_business_key ON instances (process_id, business_key)
  WHERE business_key IS NOT NULL AND parent_id IS NULL;
CREATE INDEX instances_state ON instances (state);
CREATE TABLE element_instances (
  instance_id INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
  key         INTEGER NOT NULL,
  parent_key  INTEGER NOT NULL,
  element_id  TEXT NOT NULL,
  state       INTEGER NOT NULL,
  role        INTEGER NOT NULL,
  tokens      INTEGER NOT NULL,
  loop_index  INTEGER NOT NULL,
  loop_total  INTEGER NOT NULL,
  loop_done   INTEGER NOT NULL,
  job_key     INTEGER,
  child_id    INTEGER,
  arrivals    TEXT,
  items       TEXT,
  PRIMARY KEY (instance_id, key)
) STRICT;
CREATE TABLE variables (
  instance_id INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
  scope_key   INTEGER NOT NULL,
  name        TEXT NOT NULL,
  value       TEXT NOT NULL,
  PRIMARY KEY (instance_id, scope_key, name)
) STRICT;
CREATE TABLE jobs (
  key             INTEGER PRIMARY KEY,
  instance_id     INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
  element_key     INTEGER NOT NULL,
  element_id      TEXT NOT NULL,
  type            TEXT NOT NULL,
  state           INTEGER NOT NULL,
  retries         INTEGER NOT NULL,
  attempt         INTEGER NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  last_error      TEXT,
  due_at          INTEGER,
  lock_owner      TEXT,
  lock_expires_at INTEGER
) STRICT;
CREATE INDEX jobs_ready ON jobs (state, type, due_at);
CREATE TABLE timers (
  id               INTEGER PRIMARY KEY,
  instance_id      INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
  owner_key        INTEGER NOT NULL,
  event_id         TEXT NOT NULL,
  due_at           INTEGER NOT NULL,
  repetitions_left INTEGER NOT NULL,
  interval_ms      INTEGER NOT NULL
) STRICT;
CREATE INDEX timers_due ON timers (due_at, id);
CREATE TABLE subscriptions (
  id              INTEGER PRIMARY KEY,
  instance_id     INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
  owner_key       INTEGER NOT NULL,
  event_id        TEXT NOT NULL,
  message_name    TEXT NOT NULL,
  correlation_key TEXT NOT NULL,
  opened          INTEGER NOT NULL
) STRICT;
CREATE INDEX subscriptions_message ON subscriptions (message_name, correlation_key, opened);
CREATE TABLE buffered_messages (
  id              INTEGER PRIMARY KEY,
  message_name    TEXT NOT NULL,
  correlation_key TEXT NOT NULL,
  message_id      TEXT UNIQUE,
  variables       TEXT NOT NULL,
  expires_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX buffered_messages_message ON buffered_messages (message_name, correlation_key);
CREATE TABLE incidents (
  key         INTEGER PRIMARY KEY,
  instance_id INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
  element_key INTEGER NOT NULL,
  element_id  TEXT,
  job_key     INTEGER,
  type        TEXT NOT NULL,
  retry       INTEGER NOT NULL,
  message     TEXT NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;
CREATE TABLE history (
  sequence    INTEGER PRIMARY KEY,
  instance_id INTEGER NOT NULL,
  time        INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  element_id  TEXT,
  key         INTEGER NOT NULL,
  value       INTEGER NOT NULL,
  detail      TEXT
) STRICT;
CREATE INDEX history_instance ON history (instance_id, sequence);
)sql",
};

Result<std::int64_t> pragma(Database& db, std::string_view name) {
  Result<Statement> st = db.prepare("PRAGMA " + std::string(name));
  if (!st) return st.status();
  Result<bool> row = st->step();
  if (!row) return row.status();
  return *row ? st->int64(0) : 0;
}

}  // namespace

Status Database::check_and_migrate() {
  // Reading the header pages is the first real I/O: a damaged file fails here.
  Result<std::int64_t> app = pragma(*this, "application_id");
  if (!app) return app.status();
  Result<std::int64_t> version = pragma(*this, "user_version");
  if (!version) return version.status();
  Result<Statement> count = prepare("SELECT count(*) FROM sqlite_schema");
  if (!count) return count.status();
  Result<bool> row = count->step();
  if (!row) return row.status();
  const bool empty = count->int64(0) == 0;

  if (*app != kApplicationId && !(empty && *app == 0)) {
    return Status(StatusCode::kCorruption,
                  path_ + " is an SQLite database, but not an Ordo database (application_id " +
                      std::to_string(*app) +
                      "); the file was left untouched: give a new file name or the right file");
  }
  if (*version > kSchemaVersion) {
    return Status(StatusCode::kConflict,
                  path_ + " was written by a newer Ordo (schema " + std::to_string(*version) +
                      "; this build knows schema " + std::to_string(kSchemaVersion) +
                      " and older); upgrade Ordo to open it. The file was left untouched");
  }
  if (*version == kSchemaVersion) {
    schema_version_ = kSchemaVersion;
    return Status::ok();
  }
  const int from = static_cast<int>(*version);
  Status s = in_transaction(*this, [&]() -> Status {
    for (int v = from; v < kSchemaVersion; ++v) {
      if (Status m = exec(kMigrations[static_cast<std::size_t>(v)]); !m) return m;
    }
    if (Status m = exec("PRAGMA application_id=" + std::to_string(kApplicationId)); !m) return m;
    return exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
  });
  if (!s) return s;
  schema_version_ = kSchemaVersion;
  return Status::ok();
}

}  // namespace ordo::store::sqlite
