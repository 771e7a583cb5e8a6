#include "store/sql_db.h"

#include <sqlite3.h>

#include <charconv>
#include <filesystem>
#include <unordered_map>

#include "store/postgres/pq.h"
#include "store/postgres/schema.h"
#include "store/sqlite/database.h"

namespace ordo::store {

const std::string& SqlRows::text(int row, int column) const noexcept {
  static const std::string kEmpty;
  const auto& c = cell(row, column);
  return c ? *c : kEmpty;
}

std::int64_t SqlRows::integer(int row, int column) const noexcept {
  const std::string& t = text(row, column);
  std::int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

namespace {

class SqliteDb final : public SqlDb {
 public:
  using SqlDb::exec;
  using SqlDb::query;
  explicit SqliteDb(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}

  bool postgres() const noexcept override { return false; }
  // WAL: a read transaction keeps the snapshot of its first read.
  Status begin_snapshot() override { return db_->exec("BEGIN"); }
  Status begin() override { return db_->begin(); }
  Status commit() override { return db_->commit(); }
  void rollback() noexcept override { db_->rollback(); }
  Status lock(std::string_view) override { return Status::ok(); }

  Result<SqlRows> query(const std::string& sql, std::span<const SqlValue> params) override {
    Result<sqlite::Statement*> bound_st = bound(sql, params);
    if (!bound_st) return bound_st.status();
    sqlite::Statement& st = **bound_st;
    SqlRows rows(st.columns());
    Status s = sqlite::each_row(st, [&] {
      for (int c = 0; c < st.columns(); ++c) {
        rows.add(st.is_null(c) ? std::nullopt : std::optional<std::string>(st.text(c)));
      }
    });
    st.reset();
    if (!s) return s;
    return rows;
  }

  Result<std::int64_t> exec(const std::string& sql,
                            std::span<const SqlValue> params) override {
    Result<sqlite::Statement*> st = bound(sql, params);
    if (!st) return st.status();
    Status s = (*st)->run();
    (*st)->reset();
    if (!s) return s;
    return static_cast<std::int64_t>(sqlite3_changes(db_->handle()));
  }

  std::string_view arrival_column() const noexcept override { return "rowid"; }

 private:
  // Statements are prepared once per SQL text and kept (the callers' SQL is a small fixed
  // set): a delivery's reservation runs a handful of them, and parsing each anew cost more
  // than running it.
  Result<sqlite::Statement*> bound(const std::string& sql, std::span<const SqlValue> params) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      Result<sqlite::Statement> prepared = db_->prepare(sql);
      if (!prepared) return prepared.status();
      it = statements_.emplace(sql, std::move(*prepared)).first;
    }
    sqlite::Statement* st = &it->second;
    int i = 0;
    for (const SqlValue& v : params) {
      ++i;
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        st->bind(i, *n);
      } else if (const auto* t = std::get_if<std::string_view>(&v)) {
        st->bind(i, *t);
      } else {
        st->bind_null(i);
      }
    }
    return st;
  }

  // Declared after the database: statements are finalized before it closes.
  std::unique_ptr<sqlite::Database> db_;
  std::unordered_map<std::string, sqlite::Statement> statements_;
};

class PgDb final : public SqlDb {
 public:
  using SqlDb::exec;
  using SqlDb::query;
  PgDb(std::string url, std::string schema, bool create)
      : url_(std::move(url)), schema_(std::move(schema)), create_(create) {}

  Status connect() {
    statements_.clear();
    conn_.reset();
    Result<pg::Connection> c = pg::Connection::open(url_);
    if (!c) return c.status();
    if (!create_) {
      // A schema that is not there is a mistake (a typo in schema=), not a new database.
      Result<pg::Rows> found = c->run_once(
          "SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", {schema_.c_str()});
      if (!found) return found.status();
      if (found->empty()) {
        return Status::not_found("no schema " + schema_ + " in PostgreSQL at " + c->where());
      }
    }
    if (Result<int> m = pg::migrate(*c, schema_); !m) return m.status();
    // The schema name was checked by migrate(): it can be written into SQL.
    if (Status s = c->exec("SET search_path TO " + schema_); !s) return s;
    conn_.emplace(std::move(*c));
    return Status::ok();
  }

  bool postgres() const noexcept override { return true; }
  Status begin_snapshot() override {
    return start("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  }
  Status begin() override { return start("BEGIN"); }
  Status commit() override {
    in_txn_ = false;
    return conn_->exec("COMMIT");
  }
  void rollback() noexcept override {
    if (in_txn_ && conn_ && conn_->ok()) (void)conn_->exec("ROLLBACK");
    in_txn_ = false;
  }
  Status lock(std::string_view name) override {
    Result<SqlRows> r =
        query("SELECT pg_advisory_xact_lock(hashtextextended(?1, 0))", {name});
    return r.status();
  }

  Result<SqlRows> query(const std::string& sql, std::span<const SqlValue> params) override {
    Result<pg::Rows> r = run(sql, params);
    if (!r) return r.status();
    const int columns = r->columns();
    SqlRows rows(columns);
    for (int i = 0; i < r->size(); ++i) {
      for (int c = 0; c < columns; ++c) {
        rows.add(r->is_null(i, c) ? std::nullopt : std::optional<std::string>(r->text(i, c)));
      }
    }
    return rows;
  }

  Result<std::int64_t> exec(const std::string& sql,
                            std::span<const SqlValue> params) override {
    Result<pg::Rows> r = run(sql, params);
    if (!r) return r.status();
    return r->affected();
  }

  std::string_view arrival_column() const noexcept override { return "seq"; }

 private:
  Status start(std::string_view begin) {
    // Between transactions a broken connection is made again (the server restarted).
    if (!conn_ || !conn_->ok()) {
      if (Status s = connect(); !s) return s;
    }
    in_txn_ = true;
    Status s = conn_->exec(begin);
    if (!s) in_txn_ = false;
    return s;
  }

  Result<pg::Rows> run(const std::string& sql, std::span<const SqlValue> params) {
    if (!conn_ || !conn_->ok()) {
      if (in_txn_) {
        return Status::io_error("the connection to PostgreSQL broke during a delivery log "
                                "transaction, which is lost with it; try again");
      }
      if (Status s = connect(); !s) return s;
    }
    auto [it, fresh] = statements_.try_emplace(sql);
    if (fresh) {
      it->second = "ordo_log_" + std::to_string(statements_.size());
      std::string text = sql;
      for (char& ch : text) {
        if (ch == '?') ch = '$';
      }
      if (Status s = conn_->prepare(it->second, text); !s) {
        statements_.erase(it);
        return s;
      }
    }
    std::vector<std::string> numbers;
    numbers.reserve(params.size());
    std::vector<pg::Param> bound;
    bound.reserve(params.size());
    for (const SqlValue& v : params) {
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        numbers.push_back(std::to_string(*n));
      } else if (const auto* t = std::get_if<std::string_view>(&v)) {
        numbers.emplace_back(*t);  // NUL-terminated for libpq
      } else {
        numbers.emplace_back();
      }
    }
    std::size_t i = 0;
    for (const SqlValue& v : params) {
      bound.push_back(std::holds_alternative<std::monostate>(v) ? nullptr : numbers[i].c_str());
      ++i;
    }
    return conn_->run(it->second, bound);
  }

  std::string url_;
  std::string schema_;
  bool create_;
  std::optional<pg::Connection> conn_;
  std::unordered_map<std::string, std::string> statements_;  // SQL -> prepared name
  bool in_txn_ = false;
};

}  // namespace

Result<std::unique_ptr<SqlDb>> SqlDb::open(const std::string& location, bool create) {
  if (pg::is_url(location)) {
    pg::SchemaInUrl in = pg::take_schema(location);
    auto db = std::make_unique<PgDb>(in.url, in.schema.value_or("ordo"), create);
    if (Status s = db->connect(); !s) return s;
    return std::unique_ptr<SqlDb>(std::move(db));
  }
  // NORMAL in WAL mode: a commit survives the process being killed (the crashes that matter
  // here); only a power cut may lose the last ones. A FULL fsync per record would widen
  // the window in which an email is sent but not yet recorded as sent.
  std::error_code ec;
  if (!create && location != ":memory:" && !std::filesystem::exists(location, ec)) {
    return Status::not_found("no Ordo database at " + location);
  }
  sqlite::OpenOptions options;
  options.synchronous_full = false;
  Result<std::unique_ptr<sqlite::Database>> db =
      sqlite::Database::open(location, options);
  if (!db) return db.status();
  return std::unique_ptr<SqlDb>(new SqliteDb(std::move(*db)));
}

}  // namespace ordo::store
