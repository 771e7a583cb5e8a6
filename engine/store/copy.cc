#include "store/copy.h"

#include <array>
#include <charconv>
#include <filesystem>
#include <string_view>

#include "store/postgres/pq.h"
#include "store/sql_db.h"

namespace ordo::store {
namespace {

struct Column {
  std::string_view name;
  bool integer;
};
constexpr bool I = true;   // a whole number
constexpr bool T = false;  // text

// The tables in an order that keeps their references valid as rows arrive, each with its
// columns as both stores define them (store/sqlite/schema.cc, store/postgres/schema.cc) and
// the columns that order its rows (empty: the order they arrived in, SqlDb::arrival_column).
struct Table {
  std::string_view name;
  std::vector<Column> columns;
  std::vector<std::string_view> key;
};

const std::vector<Table>& tables() {
  static const std::vector<Table> kTables = {
      {"deployments",
       {{"process_id", T}, {"version", I}, {"content_hash", T}, {"file", T}, {"xml", T},
        {"load_flags", I}, {"deployed_at", I}},
       {"process_id", "version"}},
      {"instances",
       {{"id", I}, {"process_id", T}, {"version", I}, {"business_key", T}, {"state", T},
        {"parent_id", I}, {"parent_element", I}, {"rev", I}, {"started_at", I},
        {"ended_at", I}, {"end_event", T}, {"variables", T}, {"runtime", T}},
       {"id"}},
      {"instance_counts",
       {{"process_id", T}, {"version", I}, {"state", T}, {"end_event", T}, {"slot", I},
        {"n", I}},
       {"process_id", "version", "state", "end_event", "slot"}},
      {"instance_minutes",
       {{"minute", I}, {"process_id", T}, {"slot", I}, {"started", I}, {"completed", I},
        {"terminated", I}},
       {"minute", "process_id", "slot"}},
      {"cycle_times",
       {{"minute", I}, {"process_id", T}, {"end_event", T}, {"bucket", I}, {"slot", I},
        {"n", I}},
       {"minute", "process_id", "end_event", "bucket", "slot"}},
      {"element_stats",
       {{"process_id", T}, {"version", I}, {"element_id", T}, {"slot", I}, {"active", I},
        {"completed", I}, {"terminated", I}, {"time_ms", I}, {"timed", I}},
       {"process_id", "version", "element_id", "slot"}},
      {"jobs",
       {{"key", I}, {"instance_id", I}, {"element_key", I}, {"element_index", I}, {"type", T},
        {"state", T}, {"retries", I}, {"attempt", I}, {"idempotency_key", T},
        {"last_error", T}, {"lock_owner", T}, {"lock_expires_at", I}},
       {"key"}},
      {"timers",
       {{"id", I}, {"instance_id", I}, {"wait_id", I}, {"due_at", I}, {"repetitions_left", I},
        {"interval_ms", I}, {"process_id", T}, {"version", I}, {"start_event", I}},
       {"id"}},
      {"subscriptions",
       {{"wait_id", I}, {"instance_id", I}, {"sub_key", T}, {"message_name", T},
        {"correlation_key", T}},
       {"wait_id"}},
      {"buffered_messages",
       {{"id", I}, {"message_name", T}, {"correlation_key", T}, {"variables", T},
        {"expires_at", I}},
       {"id"}},
      {"messages",
       {{"message_id", T}, {"message_name", T}, {"correlation_key", T}, {"outcome", T},
        {"published_at", I}},
       {"message_id"}},
      {"incidents",
       {{"key", I}, {"instance_id", I}, {"element_id", T}, {"job_key", I}, {"type", T},
        {"message", T}, {"created_at", I}},
       {"key"}},
      {"history", {{"sequence", I}, {"instance_id", I}, {"events", T}}, {"sequence"}},
      {"deliveries",
       {{"id", I}, {"dedupe_key", T}, {"message", T}, {"order_id", T}, {"customer", T},
        {"channel", T}, {"locale", T}, {"recipient", T}, {"status", T}, {"provider_id", T},
        {"error", T}, {"provider_status", T}, {"job_key", T}, {"attempt", I},
        {"created_ms", I}, {"updated_ms", I}, {"segment", T}, {"experiment", T},
        {"variant", T}},
       {"id"}},
      {"delivery_events",
       {{"delivery", I}, {"status", T}, {"at_ms", I}, {"detail", T}, {"forwarded_ms", I}},
       {}},
      {"customer_orders",
       {{"customer", T}, {"order_id", T}, {"ordered_ms", I}, {"segment", T}},
       {"customer", "order_id"}},
  };
  return kTables;
}

// The counters in meta that number what is made next.
constexpr std::array<std::string_view, 3> kCounters = {"key", "instance", "history"};

constexpr int kPage = 500;

// FNV-1a, 64 bits: a row's fingerprint. Rows are summed, so the order they are read in (which
// differs between the databases' collations) does not matter.
struct Fnv {
  std::uint64_t h = 14695981039346656037ULL;
  void add(std::string_view bytes) {
    for (char c : bytes) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
  }
  // Length first, so that ("ab", "c") and ("a", "bc") differ.
  void field(std::string_view bytes) {
    add(std::to_string(bytes.size()));
    add(":");
    add(bytes);
  }
};

std::string where_is(const std::string& location) {
  return pg::is_url(location) ? pg::redacted(location) : location;
}

std::string join(const std::vector<std::string_view>& names, std::string_view sep) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += sep;
    out += n;
  }
  return out;
}

// Reads every row of `t` from `db`, in pages ordered by its key, handing each row's values
// (bound as `t.columns` says) to `on_row`; returns its count and checksum.
template <class F>
Result<CopyReport::Table> each_row(SqlDb& db, const Table& t, F&& on_row) {
  std::vector<std::string_view> key = t.key;
  if (key.empty()) key.push_back(db.arrival_column());
  std::vector<std::string_view> names;
  for (const Column& c : t.columns) names.push_back(c.name);
  const std::string select = "SELECT " + join(names, ", ") + ", " + join(key, ", ") + " FROM " +
                             std::string(t.name);
  std::string order = " ORDER BY " + join(key, ", ") + " LIMIT " + std::to_string(kPage);
  std::string after;
  for (std::size_t i = 0; i < key.size(); ++i) {
    after += (i == 0 ? "" : ", ") + ("?" + std::to_string(i + 1));
  }
  const std::string next = select + " WHERE (" + join(key, ", ") + ") > (" + after + ")" + order;
  const std::string first = select + order;

  CopyReport::Table out;
  out.name = t.name;
  const int width = static_cast<int>(t.columns.size());
  std::vector<std::string> last;  // the key of the last row read
  std::vector<SqlValue> values(t.columns.size());
  std::vector<SqlValue> last_values;
  while (true) {
    last_values.assign(last.begin(), last.end());
    Result<SqlRows> page = last.empty() ? db.query(first, std::span<const SqlValue>())
                                        : db.query(next, last_values);
    if (!page) return page.status();
    for (int r = 0; r < page->size(); ++r) {
      Fnv row;
      for (int c = 0; c < width; ++c) {
        const Column& col = t.columns[static_cast<std::size_t>(c)];
        if (page->is_null(r, c)) {
          values[static_cast<std::size_t>(c)] = SqlValue();
          row.add("N");
        } else if (col.integer) {
          const std::int64_t v = page->integer(r, c);
          values[static_cast<std::size_t>(c)] = v;
          row.field(std::to_string(v));
        } else {
          values[static_cast<std::size_t>(c)] = std::string_view(page->text(r, c));
          row.field(page->text(r, c));
        }
      }
      out.checksum += row.h;
      ++out.rows;
      if (Status s = on_row(values); !s) return s;
    }
    if (page->size() < kPage) break;
    last.clear();
    for (std::size_t k = 0; k < key.size(); ++k) {
      last.push_back(page->text(page->size() - 1, width + static_cast<int>(k)));
    }
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::int64_t>>> counters(SqlDb& db) {
  Result<SqlRows> rows = db.query(
      "SELECT name, value FROM meta WHERE name IN ('key', 'instance', 'history') ORDER BY name",
      {});
  if (!rows) return rows.status();
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (int i = 0; i < rows->size(); ++i) out.emplace_back(rows->text(i, 0), rows->integer(i, 1));
  return out;
}

std::uint64_t checksum_of(const std::vector<CopyReport::Table>& tables,
                          const std::vector<std::pair<std::string, std::int64_t>>& meta) {
  Fnv all;
  for (const auto& t : tables) {
    all.field(t.name);
    all.field(std::to_string(t.rows));
    all.field(std::to_string(t.checksum));
  }
  for (const auto& [name, value] : meta) {
    all.field(name);
    all.field(std::to_string(value));
  }
  return all.h;
}

// Fills `to`, in its open transaction, from `from`'s snapshot; checks what `to` now holds.
Result<CopyReport> fill(SqlDb& from, SqlDb& to, const std::string& to_name) {
  for (const Table& t : tables()) {
    Result<SqlRows> any = to.query("SELECT 1 FROM " + std::string(t.name) + " LIMIT 1", {});
    if (!any) return any.status();
    if (any->size() > 0) {
      return Status(StatusCode::kConflict,
                    to_name + " is not empty (its table " + std::string(t.name) +
                        " has rows): ordo db copy only fills an empty database, so that "
                        "nothing is merged or overwritten; give a new file or schema. Nothing "
                        "was changed");
    }
  }
  CopyReport report;
  for (const Table& t : tables()) {
    std::vector<std::string_view> names;
    std::string params;
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
      names.push_back(t.columns[i].name);
      params += (i == 0 ? "?" : ", ?") + std::to_string(i + 1);
    }
    const std::string insert = "INSERT INTO " + std::string(t.name) + " (" + join(names, ", ") +
                               ") VALUES (" + params + ")";
    Result<CopyReport::Table> copied =
        each_row(from, t, [&](const std::vector<SqlValue>& values) -> Status {
          return to.exec(insert, values).status();
        });
    if (!copied) return copied.status();
    report.tables.push_back(*copied);
  }
  Result<std::vector<std::pair<std::string, std::int64_t>>> meta = counters(from);
  if (!meta) return meta.status();
  for (const auto& [name, value] : *meta) {
    if (Result<std::int64_t> r = to.exec("UPDATE meta SET value = ?2 WHERE name = ?1",
                                         {std::string_view(name), value});
        !r) {
      return r.status();
    }
  }
  if (to.postgres()) {
    // New buffered messages and deliveries get ids after the copied ones.
    for (std::string_view seq_table : {"buffered_message_ids:buffered_messages",
                                       "delivery_ids:deliveries"}) {
      const std::size_t colon = seq_table.find(':');
      const std::string sql = "SELECT setval('" + std::string(seq_table.substr(0, colon)) +
                              "', (SELECT coalesce(max(id), 0) + 1 FROM " +
                              std::string(seq_table.substr(colon + 1)) + "), false)";
      if (Result<SqlRows> r = to.query(sql, {}); !r) return r.status();
    }
  }
  report.checksum = checksum_of(report.tables, *meta);

  // What the target holds now, read back the same way.
  std::vector<CopyReport::Table> check;
  for (const Table& t : tables()) {
    Result<CopyReport::Table> read =
        each_row(to, t, [](const std::vector<SqlValue>&) { return Status::ok(); });
    if (!read) return read.status();
    check.push_back(*read);
  }
  Result<std::vector<std::pair<std::string, std::int64_t>>> to_meta = counters(to);
  if (!to_meta) return to_meta.status();
  for (std::size_t i = 0; i < check.size(); ++i) {
    if (check[i].rows != report.tables[i].rows || check[i].checksum != report.tables[i].checksum) {
      return Status(StatusCode::kCorruption,
                    "the copy's table " + check[i].name + " does not match the source (" +
                        std::to_string(check[i].rows) + " rows against " +
                        std::to_string(report.tables[i].rows) +
                        ", or their content differs); nothing was written to " + to_name);
    }
  }
  if (checksum_of(check, *to_meta) != report.checksum) {
    return Status(StatusCode::kCorruption, "the copy's counters do not match the source's; "
                                           "nothing was written to " + to_name);
  }
  return report;
}

}  // namespace

Result<CopyReport> copy_database(const std::string& from, const std::string& to) {
  const std::string from_name = where_is(from);
  const std::string to_name = where_is(to);
  std::error_code ec;
  const bool to_is_file = !pg::is_url(to);
  if (to_is_file && !pg::is_url(from) && std::filesystem::exists(to, ec) &&
      std::filesystem::equivalent(from, to, ec)) {
    return Status::invalid_argument(from_name + " is both the source and the target");
  }
  const bool made = to_is_file && !std::filesystem::exists(to, ec);
  const auto forget_made = [&] {
    if (!made) return;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(to + suffix, ec);
    }
  };

  Result<std::unique_ptr<SqlDb>> source = SqlDb::open(from, false);
  if (!source) {
    return Status(source.status().code(), "cannot read " + from_name + ": " +
                                              source.status().message());
  }
  Result<std::unique_ptr<SqlDb>> target = SqlDb::open(to, true);
  if (!target) {
    forget_made();
    return Status(target.status().code(), "cannot write " + to_name + ": " +
                                              target.status().message());
  }
  if (Status s = (*source)->begin_snapshot(); !s) {
    target->reset();
    forget_made();
    return s;
  }
  if (Status s = (*target)->begin(); !s) {
    (*source)->rollback();
    forget_made();
    return s;
  }
  Result<CopyReport> report = fill(**source, **target, to_name);
  (*source)->rollback();  // it only read
  if (report) {
    if (Status s = (*target)->commit(); !s) report = s;
  }
  if (!report) {
    (*target)->rollback();
    target->reset();
    forget_made();
  }
  return report;
}

}  // namespace ordo::store
