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
INSERT INTO meta (name, value) VALUES ('key', 1), ('instance', 1), ('history', 1);
CREATE TABLE deployments (
  process_id   TEXT NOT NULL,
  version      INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  file         TEXT NOT NULL,
  xml          TEXT NOT NULL,
  load_flags   INTEGER NOT NULL,
  deployed_at  INTEGER NOT NULL,
  PRIMARY KEY (process_id, version)
) STRICT;
-- One row per process instance. `variables` holds the process-level variables (a JSON
-- object); `runtime` the element instances with their tokens and local variables, the waits
-- and the open incidents (JSON, layout in codec.cc). `rev` counts the writes, so a process
-- sharing the database knows when its cached copy is stale.
CREATE TABLE instances (
  id             INTEGER PRIMARY KEY,
  process_id     TEXT NOT NULL,
  version        INTEGER NOT NULL,
  business_key   TEXT,
  state          TEXT NOT NULL,
  parent_id      INTEGER,
  parent_element INTEGER,
  rev            INTEGER NOT NULL,
  started_at     INTEGER NOT NULL,
  ended_at       INTEGER,
  end_event      TEXT,
  variables      TEXT NOT NULL,
  runtime        TEXT NOT NULL,
  FOREIGN KEY (process_id, version) REFERENCES deployments (process_id, version)
) STRICT;
CREATE UNIQUE INDEX instances_business_key ON instances (process_id, business_key)
  WHERE business_key IS NOT NULL AND parent_id IS NULL;
CREATE INDEX instances_state ON instances (state, id);
CREATE TABLE jobs (
  key             INTEGER PRIMARY KEY,
  instance_id     INTEGER NOT NULL,  -- no foreign key: see subscriptions
  element_key     INTEGER NOT NULL,
  element_index   INTEGER NOT NULL,
  type            TEXT NOT NULL,
  state           TEXT NOT NULL,
  retries         INTEGER NOT NULL,
  attempt         INTEGER NOT NULL,
  idempotency_key TEXT NOT NULL,  -- unique by construction: process:instance:element key
  last_error      TEXT NOT NULL,
  lock_owner      TEXT,
  lock_expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX jobs_ready ON jobs (state, key);
CREATE INDEX jobs_expiring ON jobs (state, lock_expires_at);
-- Timers of instances, job retry backoffs (instance_id 0, wait_id the job key) and timer
-- start events (instance_id 0, process_id, version and the start event's index).
CREATE TABLE timers (
  id               INTEGER PRIMARY KEY,
  instance_id      INTEGER NOT NULL,
  wait_id          INTEGER NOT NULL,
  due_at           INTEGER NOT NULL,
  repetitions_left INTEGER NOT NULL,
  interval_ms      INTEGER NOT NULL,
  process_id       TEXT,
  version          INTEGER,
  start_event      INTEGER
) STRICT;
CREATE INDEX timers_due ON timers (due_at, id);
CREATE TABLE subscriptions (
  wait_id         INTEGER PRIMARY KEY,
  -- No foreign key: a command writes its waits before its instance row, and a deferred
  -- check would search this table for every new instance. The runtime keeps them in step.
  instance_id     INTEGER NOT NULL,
  sub_key         TEXT NOT NULL,
  message_name    TEXT NOT NULL,
  correlation_key TEXT NOT NULL
) STRICT;
CREATE INDEX subscriptions_message ON subscriptions (sub_key, wait_id);
CREATE TABLE buffered_messages (
  id              INTEGER PRIMARY KEY,
  message_name    TEXT NOT NULL,
  correlation_key TEXT NOT NULL,
  variables       TEXT NOT NULL,
  expires_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX buffered_messages_message
  ON buffered_messages (message_name, correlation_key, id);
-- Message ids already published, with what their publication did (JSON).
CREATE TABLE messages (
  message_id      TEXT PRIMARY KEY,
  message_name    TEXT NOT NULL,
  correlation_key TEXT NOT NULL,
  outcome         TEXT NOT NULL,
  published_at    INTEGER NOT NULL
) STRICT;
-- Open incidents (also kept in instances.runtime): for listing them across instances.
CREATE TABLE incidents (
  key         INTEGER PRIMARY KEY,
  instance_id INTEGER NOT NULL
              REFERENCES instances (id) DEFERRABLE INITIALLY DEFERRED,
  element_id  TEXT,
  job_key     INTEGER NOT NULL,
  type        TEXT NOT NULL,
  message     TEXT NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX incidents_instance ON incidents (instance_id);
-- The append-only history. One row per instance per command: `events` is a JSON array of
-- [time, kind, element id or null, key, value, detail or null], and the events are
-- numbered from `sequence` on (the engine-wide counter 'history' in meta). Read it as rows
-- with: SELECT h.sequence + e.key, e.value FROM history h, json_each(h.events) e.
CREATE TABLE history (
  sequence    INTEGER PRIMARY KEY,
  instance_id INTEGER NOT NULL,
  events      TEXT NOT NULL
) STRICT;
CREATE INDEX history_instance ON history (instance_id, sequence);
)sql",
    // 2: the notifications' delivery log (adapters/notify): one row per attempt, and the
    // providers' status callbacks. A delivery log may live in the engine's own file or in
    // one of its own.
    R"sql(
CREATE TABLE deliveries (
  id              INTEGER PRIMARY KEY,
  dedupe_key      TEXT NOT NULL,
  message         TEXT NOT NULL,
  order_id        TEXT,
  customer        TEXT,
  channel         TEXT NOT NULL,
  locale          TEXT,
  recipient       TEXT,
  status          TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'rejected',
                                                  'skipped', 'deferred', 'duplicate')),
  provider_id     TEXT,
  error           TEXT,
  provider_status TEXT,
  job_key         TEXT,
  attempt         INTEGER NOT NULL,
  created_ms      INTEGER NOT NULL,
  updated_ms      INTEGER NOT NULL
) STRICT;
CREATE INDEX deliveries_dedupe ON deliveries (dedupe_key, status);
CREATE INDEX deliveries_order ON deliveries (order_id, id);
CREATE INDEX deliveries_customer ON deliveries (customer, created_ms)
  WHERE status IN ('sending', 'sent');
CREATE INDEX deliveries_provider ON deliveries (channel, provider_id)
  WHERE provider_id IS NOT NULL;
CREATE TABLE delivery_events (
  delivery     INTEGER NOT NULL REFERENCES deliveries (id),
  status       TEXT NOT NULL,
  at_ms        INTEGER NOT NULL,
  detail       TEXT,
  forwarded_ms INTEGER,  -- when the CRM took it; NULL: not (yet) forwarded
  PRIMARY KEY (delivery, status)
) STRICT;
)sql",
    // 3: the jobs' indexes hold only the jobs they find: the ready ones by key, the locked
    // ones by when their lock runs out. A job is written to one index instead of two, and
    // a job of the other state costs neither a write nor a skip.
    R"sql(
DROP INDEX jobs_ready;
DROP INDEX jobs_expiring;
CREATE INDEX jobs_ready ON jobs (key) WHERE state = 'created';
CREATE INDEX jobs_expiring ON jobs (lock_expires_at) WHERE state = 'locked';
)sql",
    // 4: searching instances (the console, GET /v1/process-instances) by business key, or
    // its start, and by process, in id order, without reading every instance.
    R"sql(
CREATE INDEX instances_key ON instances (business_key, id) WHERE business_key IS NOT NULL;
CREATE INDEX instances_process ON instances (process_id, id);
)sql",
    // 5: instances counted by process, version, state and end event, kept as they are
    // written (store/instance_counts.h), so that counting them reads a few rows.
    R"sql(
CREATE TABLE instance_counts (
  process_id TEXT NOT NULL,
  version    INTEGER NOT NULL,
  state      TEXT NOT NULL,
  end_event  TEXT NOT NULL,  -- '' when none
  slot       INTEGER NOT NULL,
  n          INTEGER NOT NULL,
  PRIMARY KEY (process_id, version, state, end_event, slot)
) STRICT;
INSERT INTO instance_counts
  SELECT process_id, version, state, coalesce(end_event, ''), 0, count(*) FROM instances
  GROUP BY process_id, version, state, coalesce(end_event, '');
)sql",
    // 6: what happened at each element of a process version (store/instance_counts.h),
    // kept as the history is written: the console's badges and heatmap. Counted from the
    // history already stored; the time spent is known only for what starts from now on.
    R"sql(
CREATE TABLE element_stats (
  process_id TEXT NOT NULL,
  version    INTEGER NOT NULL,
  element_id TEXT NOT NULL,
  slot       INTEGER NOT NULL,
  active     INTEGER NOT NULL,
  completed  INTEGER NOT NULL,
  terminated INTEGER NOT NULL,
  time_ms    INTEGER NOT NULL,
  timed      INTEGER NOT NULL,
  PRIMARY KEY (process_id, version, element_id, slot)
) STRICT;
INSERT INTO element_stats
  SELECT i.process_id, i.version, json_extract(e.value, '$[2]'), 0,
         sum(json_extract(e.value, '$[1]') = 'element-activated') -
           sum(json_extract(e.value, '$[1]') <> 'element-activated'),
         sum(json_extract(e.value, '$[1]') = 'element-completed'),
         sum(json_extract(e.value, '$[1]') = 'element-terminated'), 0, 0
  FROM history h JOIN instances i ON i.id = h.instance_id, json_each(h.events) e
  WHERE json_extract(e.value, '$[1]') IN
        ('element-activated', 'element-completed', 'element-terminated')
    AND json_extract(e.value, '$[2]') IS NOT NULL
  GROUP BY 1, 2, 3;
)sql",
    // 7: instances started and ended per minute, and the histogram of their cycle times
    // per end event (store/instance_counts.h), kept as they are written for the console's
    // dashboard; a day of minutes is kept. They start empty: the dashboard's half hour
    // fills as instances start and end.
    R"sql(
CREATE TABLE instance_minutes (
  minute     INTEGER NOT NULL,
  process_id TEXT NOT NULL,
  slot       INTEGER NOT NULL,
  started    INTEGER NOT NULL,
  completed  INTEGER NOT NULL,
  terminated INTEGER NOT NULL,
  PRIMARY KEY (minute, process_id, slot)
) STRICT;
CREATE TABLE cycle_times (
  minute     INTEGER NOT NULL,
  process_id TEXT NOT NULL,
  end_event  TEXT NOT NULL,
  bucket     INTEGER NOT NULL,
  slot       INTEGER NOT NULL,
  n          INTEGER NOT NULL,
  PRIMARY KEY (minute, process_id, end_event, bucket, slot)
) STRICT;
)sql",
    // 8: customer segments and A/B variants (docs/engagement.md): each delivery records the
    // customer's segment and the experiment variant it was sent in (a customer's first
    // delivery in an experiment is their variant for the rest of it); the orders each
    // customer placed (the history segments are computed from).
    R"sql(
ALTER TABLE deliveries ADD COLUMN segment TEXT;
ALTER TABLE deliveries ADD COLUMN experiment TEXT;
ALTER TABLE deliveries ADD COLUMN variant TEXT;
-- A customer's first delivery in an experiment (their variant), found without a scan.
CREATE INDEX deliveries_experiment ON deliveries (customer, experiment, id)
  WHERE experiment IS NOT NULL;
CREATE TABLE customer_orders (
  customer   TEXT NOT NULL,
  order_id   TEXT NOT NULL,
  ordered_ms INTEGER NOT NULL,
  segment    TEXT NOT NULL,
  PRIMARY KEY (customer, order_id)
) STRICT;
CREATE INDEX customer_orders_time ON customer_orders (customer, ordered_ms);
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

namespace {

struct Header {
  std::int64_t app = 0;
  std::int64_t version = 0;
  bool empty = false;
};

Result<Header> read_header(Database& db) {
  Header h;
  Result<std::int64_t> app = pragma(db, "application_id");
  if (!app) return app.status();
  Result<std::int64_t> version = pragma(db, "user_version");
  if (!version) return version.status();
  Result<Statement> count = db.prepare("SELECT count(*) FROM sqlite_schema");
  if (!count) return count.status();
  Result<bool> row = count->step();
  if (!row) return row.status();
  h.app = *app;
  h.version = *version;
  h.empty = count->int64(0) == 0;
  return h;
}

// Refuses a file Ordo must not touch; true when it needs migrating.
Result<bool> judge(const Header& h, const std::string& path) {
  if (h.app != kApplicationId && !(h.empty && h.app == 0)) {
    return Status(StatusCode::kCorruption,
                  path + " is an SQLite database, but not an Ordo database (application_id " +
                      std::to_string(h.app) +
                      "); the file was left untouched: give a new file name or the right file");
  }
  if (h.version > kSchemaVersion) {
    return Status(StatusCode::kConflict,
                  path + " was written by a newer Ordo (schema " + std::to_string(h.version) +
                      "; this build knows schema " + std::to_string(kSchemaVersion) +
                      " and older); upgrade Ordo to open it. The file was left untouched");
  }
  return h.version < kSchemaVersion;
}

}  // namespace

Status Database::check_and_migrate() {
  // Reading the header pages is the first real I/O: a damaged file fails here.
  Result<Header> header = read_header(*this);
  if (!header) return header.status();
  Result<bool> migrate = judge(*header, path_);
  // Anything but a current Ordo file is judged again under the write lock: the three reads
  // above are separate, and another process may be creating the file between them.
  if (!migrate || *migrate) {
    Status s = in_transaction(*this, [&]() -> Status {
      // Again under the write lock: another process may have created or migrated the
      // file since it was read above (several processes opening a new file at once).
      Result<Header> now = read_header(*this);
      if (!now) return now.status();
      Result<bool> still = judge(*now, path_);
      if (!still) return still.status();
      if (!*still) return Status::ok();
      for (auto v = now->version; v < kSchemaVersion; ++v) {
        if (Status m = exec(kMigrations[static_cast<std::size_t>(v)]); !m) return m;
      }
      if (Status m = exec("PRAGMA application_id=" + std::to_string(kApplicationId)); !m) {
        return m;
      }
      return exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
    });
    if (!s) return s;
  }
  schema_version_ = kSchemaVersion;
  return Status::ok();
}

}  // namespace ordo::store::sqlite
