#include "store/postgres/schema.h"

#include <array>

namespace ordo::store::pg {
namespace {

// Migration N takes a schema from version N-1 to N, run with the search path set to it.
// Never edit a released one: add another. The tables follow the SQLite store's
// (store/sqlite/schema.cc), which says what each holds.
constexpr std::array<std::string_view, kSchemaVersion> kMigrations = {
    // 1: the first schema.
    R"sql(
CREATE TABLE meta (
  name  TEXT PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO meta (name, value) VALUES ('key', 1), ('instance', 1), ('history', 1);
CREATE TABLE deployments (
  process_id   TEXT NOT NULL,
  version      INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  file         TEXT NOT NULL,
  xml          TEXT NOT NULL,
  load_flags   INTEGER NOT NULL,
  deployed_at  BIGINT NOT NULL,
  PRIMARY KEY (process_id, version)
);
CREATE TABLE instances (
  id             BIGINT PRIMARY KEY,
  process_id     TEXT NOT NULL,
  version        INTEGER NOT NULL,
  business_key   TEXT,
  state          TEXT NOT NULL,
  parent_id      BIGINT,
  parent_element BIGINT,
  rev            BIGINT NOT NULL,
  started_at     BIGINT NOT NULL,
  ended_at       BIGINT,
  end_event      TEXT,
  variables      TEXT NOT NULL,
  runtime        TEXT NOT NULL,
  FOREIGN KEY (process_id, version) REFERENCES deployments (process_id, version)
);
CREATE UNIQUE INDEX instances_business_key ON instances (process_id, business_key)
  WHERE business_key IS NOT NULL AND parent_id IS NULL;
CREATE INDEX instances_state ON instances (state, id);
CREATE TABLE jobs (
  key             BIGINT PRIMARY KEY,
  instance_id     BIGINT NOT NULL,
  element_key     BIGINT NOT NULL,
  element_index   INTEGER NOT NULL,
  type            TEXT NOT NULL,
  state           TEXT NOT NULL,
  retries         INTEGER NOT NULL,
  attempt         INTEGER NOT NULL,
  idempotency_key TEXT NOT NULL,
  last_error      TEXT NOT NULL,
  lock_owner      TEXT,
  lock_expires_at BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, key);
CREATE INDEX jobs_expiring ON jobs (state, lock_expires_at);
CREATE TABLE timers (
  id               BIGINT PRIMARY KEY,
  instance_id      BIGINT NOT NULL,
  wait_id          BIGINT NOT NULL,
  due_at           BIGINT NOT NULL,
  repetitions_left INTEGER NOT NULL,
  interval_ms      BIGINT NOT NULL,
  process_id       TEXT,
  version          INTEGER,
  start_event      INTEGER
);
CREATE INDEX timers_due ON timers (due_at, id);
CREATE TABLE subscriptions (
  wait_id         BIGINT PRIMARY KEY,
  instance_id     BIGINT NOT NULL,
  sub_key         TEXT NOT NULL,
  message_name    TEXT NOT NULL,
  correlation_key TEXT NOT NULL
);
CREATE INDEX subscriptions_message ON subscriptions (sub_key, wait_id);
CREATE TABLE buffered_messages (
  id              BIGINT PRIMARY KEY,
  message_name    TEXT NOT NULL,
  correlation_key TEXT NOT NULL,
  variables       TEXT NOT NULL,
  expires_at      BIGINT NOT NULL
);
CREATE INDEX buffered_messages_message
  ON buffered_messages (message_name, correlation_key, id);
-- Ids of buffered messages, increasing: a sequence, so that nodes buffering at once never
-- wait for each other (gaps do not matter; the order does).
CREATE SEQUENCE buffered_message_ids;
CREATE TABLE messages (
  message_id      TEXT PRIMARY KEY,
  message_name    TEXT NOT NULL,
  correlation_key TEXT NOT NULL,
  outcome         TEXT NOT NULL,
  published_at    BIGINT NOT NULL
);
CREATE TABLE incidents (
  key         BIGINT PRIMARY KEY,
  instance_id BIGINT NOT NULL
              REFERENCES instances (id) DEFERRABLE INITIALLY DEFERRED,
  element_id  TEXT,
  job_key     BIGINT NOT NULL,
  type        TEXT NOT NULL,
  message     TEXT NOT NULL,
  created_at  BIGINT NOT NULL
);
CREATE INDEX incidents_instance ON incidents (instance_id);
CREATE TABLE history (
  sequence    BIGINT PRIMARY KEY,
  instance_id BIGINT NOT NULL,
  events      TEXT NOT NULL
);
CREATE INDEX history_instance ON history (instance_id, sequence);
CREATE TABLE deliveries (
  id              BIGINT PRIMARY KEY,
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
  created_ms      BIGINT NOT NULL,
  updated_ms      BIGINT NOT NULL
);
CREATE INDEX deliveries_dedupe ON deliveries (dedupe_key, status);
CREATE INDEX deliveries_order ON deliveries (order_id, id);
CREATE INDEX deliveries_customer ON deliveries (customer, created_ms)
  WHERE status IN ('sending', 'sent');
CREATE INDEX deliveries_provider ON deliveries (channel, provider_id)
  WHERE provider_id IS NOT NULL;
CREATE TABLE delivery_events (
  delivery     BIGINT NOT NULL REFERENCES deliveries (id),
  status       TEXT NOT NULL,
  at_ms        BIGINT NOT NULL,
  detail       TEXT,
  forwarded_ms BIGINT,
  PRIMARY KEY (delivery, status)
);
)sql",
    // 2: the delivery log written by several nodes (adapters/notify): ids for new deliveries
    // from a sequence, and the order status callbacks arrived in (SQLite's rowid).
    R"sql(
CREATE SEQUENCE delivery_ids OWNED BY deliveries.id;
SELECT setval('delivery_ids', (SELECT coalesce(max(id), 0) + 1 FROM deliveries), false);
ALTER TABLE deliveries ALTER COLUMN id SET DEFAULT nextval('delivery_ids');
ALTER TABLE delivery_events ADD COLUMN seq BIGINT GENERATED BY DEFAULT AS IDENTITY;
)sql",
    // 3: fetch-and-lock of one type among many open jobs of others: the ready and the
    // expired jobs of a type, in the order they are taken.
    R"sql(
CREATE INDEX jobs_ready_by_type ON jobs (type, key) WHERE state = 'created';
CREATE INDEX jobs_expiring_by_type ON jobs (type, lock_expires_at) WHERE state = 'locked';
)sql",
    // 4: what each write costs. The jobs' indexes of any type hold only the jobs they find
    // (ready ones by key, locked ones by expiry), so a job is written to three indexes,
    // not four. Instance pages keep a quarter free, so that a command's update of its
    // instance fits on the same page and leaves the indexes alone (a HOT update). The
    // tables whose rows come and go with every order are vacuumed after a thousand dead
    // rows rather than after a fifth of the table: their searches skip dead rows until then.
    R"sql(
DROP INDEX jobs_ready;
DROP INDEX jobs_expiring;
CREATE INDEX jobs_ready ON jobs (key) WHERE state = 'created';
CREATE INDEX jobs_expiring ON jobs (lock_expires_at) WHERE state = 'locked';
ALTER TABLE instances SET (fillfactor = 75);
ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
                      autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 1000);
ALTER TABLE subscriptions SET (autovacuum_vacuum_scale_factor = 0,
                               autovacuum_vacuum_threshold = 1000);
ALTER TABLE timers SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);
ALTER TABLE buffered_messages SET (autovacuum_vacuum_scale_factor = 0,
                                   autovacuum_vacuum_threshold = 1000);
)sql",
    // 5: searching instances (the console, GET /v1/process-instances) by business key or
    // its start (LIKE 'A-10%': text_pattern_ops, whatever the database's collation), and by
    // process, in id order, without reading every instance.
    R"sql(
CREATE INDEX instances_key ON instances (business_key text_pattern_ops, id)
  WHERE business_key IS NOT NULL;
CREATE INDEX instances_process ON instances (process_id, id);
)sql",
    // 6: instances counted by process, version, state and end event, kept as they are
    // written (store/instance_counts.h): counting them reads a few rows. Each node adds to
    // rows of its own slot.
    R"sql(
CREATE TABLE instance_counts (
  process_id TEXT NOT NULL,
  version    INTEGER NOT NULL,
  state      TEXT NOT NULL,
  end_event  TEXT NOT NULL,
  slot       INTEGER NOT NULL,
  n          BIGINT NOT NULL,
  PRIMARY KEY (process_id, version, state, end_event, slot)
);
INSERT INTO instance_counts
  SELECT process_id, version, state, coalesce(end_event, ''), 0, count(*) FROM instances
  GROUP BY process_id, version, state, coalesce(end_event, '');
)sql",
    // 7: what happened at each element of a process version (store/instance_counts.h),
    // kept as the history is written, in each node's slot: the console's badges and
    // heatmap. Counted from the history already stored; the time spent is known only for
    // what starts from now on.
    R"sql(
CREATE TABLE element_stats (
  process_id TEXT NOT NULL,
  version    INTEGER NOT NULL,
  element_id TEXT NOT NULL,
  slot       INTEGER NOT NULL,
  active     BIGINT NOT NULL,
  completed  BIGINT NOT NULL,
  terminated BIGINT NOT NULL,
  time_ms    BIGINT NOT NULL,
  timed      BIGINT NOT NULL,
  PRIMARY KEY (process_id, version, element_id, slot)
);
INSERT INTO element_stats
  SELECT i.process_id, i.version, e.value->>2, 0,
         count(*) FILTER (WHERE e.value->>1 = 'element-activated') -
           count(*) FILTER (WHERE e.value->>1 <> 'element-activated'),
         count(*) FILTER (WHERE e.value->>1 = 'element-completed'),
         count(*) FILTER (WHERE e.value->>1 = 'element-terminated'), 0, 0
  FROM history h JOIN instances i ON i.id = h.instance_id,
       jsonb_array_elements(h.events::jsonb) e
  WHERE e.value->>1 IN ('element-activated', 'element-completed', 'element-terminated')
    AND e.value->>2 IS NOT NULL
  GROUP BY 1, 2, 3;
)sql",
    // 8: instances started and ended per minute, and the histogram of their cycle times
    // per end event (store/instance_counts.h), kept as they are written, each node in its
    // slot, for the console's dashboard (the same on every node); a day of minutes is kept.
    R"sql(
CREATE TABLE instance_minutes (
  minute     BIGINT NOT NULL,
  process_id TEXT NOT NULL,
  slot       INTEGER NOT NULL,
  started    BIGINT NOT NULL,
  completed  BIGINT NOT NULL,
  terminated BIGINT NOT NULL,
  PRIMARY KEY (minute, process_id, slot)
);
CREATE TABLE cycle_times (
  minute     BIGINT NOT NULL,
  process_id TEXT NOT NULL,
  end_event  TEXT NOT NULL,
  bucket     INTEGER NOT NULL,
  slot       INTEGER NOT NULL,
  n          BIGINT NOT NULL,
  PRIMARY KEY (minute, process_id, end_event, bucket, slot)
);
)sql",
    // 9: customer segments and A/B variants (docs/engagement.md), as SQLite's schema 8.
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
  ordered_ms BIGINT NOT NULL,
  segment    TEXT NOT NULL,
  PRIMARY KEY (customer, order_id)
);
CREATE INDEX customer_orders_time ON customer_orders (customer, ordered_ms);
)sql",
};

// What the schema holds before anything is changed.
struct Found {
  bool ordo = false;     // a meta table with Ordo's mark
  bool tables = false;   // any table at all
  std::int64_t version = 0;
};

Result<Found> look(Connection& c, const std::string& schema) {
  Found f;
  Result<Rows> tables = c.run_once(
      "SELECT count(*), bool_or(table_name = 'meta') FROM information_schema.tables "
      "WHERE table_schema = $1",
      {schema.c_str()});
  if (!tables) return tables.status();
  f.tables = tables->integer(0, 0).value_or(0) > 0;
  if (!f.tables || tables->text(0, 1) != "t") return f;
  Result<Rows> meta = c.run_once("SELECT name, value FROM " + schema +
                                     ".meta WHERE name IN ('application', 'schema')",
                                 {});
  if (!meta) return f;  // a "meta" table of another application's
  std::int64_t mark = 0;
  for (int i = 0; i < meta->size(); ++i) {
    if (meta->text(i, 0) == "application") mark = meta->integer(i, 1).value_or(0);
    if (meta->text(i, 0) == "schema") f.version = meta->integer(i, 1).value_or(0);
  }
  f.ordo = mark == kApplicationMark;
  return f;
}

}  // namespace

Status check_schema_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 63 && !(name[0] >= '0' && name[0] <= '9');
  for (char ch : name) {
    ok &= (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
  }
  if (ok) return Status::ok();
  return Status::invalid_argument("'" + std::string(name) +
                                  "' cannot be Ordo's PostgreSQL schema: use lower-case letters, "
                                  "digits and '_' (not first), at most 63 of them");
}

Result<int> migrate(Connection& c, const std::string& schema) {
  if (Status s = check_schema_name(schema); !s) return s;
  if (Status s = c.exec("BEGIN"); !s) return s;
  // Every change below in this one transaction: a failure leaves the schema as it was.
  const auto fail = [&](Status s) -> Result<int> {
    (void)c.exec("ROLLBACK");
    return s;
  };
  // Nodes starting together take turns here; the later ones find the work done.
  const std::string lock_name = "ordo schema " + schema;
  if (Result<Rows> locked =
          c.run_once("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", {lock_name.c_str()});
      !locked) {
    return fail(locked.status());
  }
  Result<Found> found = look(c, schema);
  if (!found) return fail(found.status());
  const std::string where = "schema " + schema + " of PostgreSQL at " + c.where();
  if (found->tables && !found->ordo) {
    return fail(Status(StatusCode::kCorruption,
                       where + " holds tables that are not Ordo's; they were left untouched: "
                               "give Ordo a schema of its own"));
  }
  if (found->version > kSchemaVersion) {
    return fail(Status(StatusCode::kConflict,
                       where + " was written by a newer Ordo (schema " +
                           std::to_string(found->version) + "; this build knows schema " +
                           std::to_string(kSchemaVersion) +
                           " and older); upgrade Ordo to open it. Nothing was changed"));
  }
  if (found->version < kSchemaVersion) {
    if (Status s = c.exec("CREATE SCHEMA IF NOT EXISTS " + schema + "; SET LOCAL search_path TO " +
                          schema);
        !s) {
      return fail(s);
    }
    for (auto v = found->version; v < kSchemaVersion; ++v) {
      if (Status s = c.exec(kMigrations[static_cast<std::size_t>(v)]); !s) return fail(s);
    }
    const std::string version = std::to_string(kSchemaVersion);
    const std::string mark = std::to_string(kApplicationMark);
    if (Result<Rows> r = c.run_once(
            "INSERT INTO meta (name, value) VALUES ('application', $1), ('schema', $2) "
            "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
            {mark.c_str(), version.c_str()});
        !r) {
      return fail(r.status());
    }
  }
  if (Status s = c.exec("COMMIT"); !s) return fail(s);
  return static_cast<int>(found->version);
}

}  // namespace ordo::store::pg
