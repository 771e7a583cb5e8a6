// A small RAII layer over libpq, the PostgreSQL client library, for the PostgreSQL store.
//
// Only what the store needs, and only the safe way: statements are prepared once per
// connection and run with bound parameters (never SQL built from values); text results are
// read as views into the result, which owns them. Errors come back as Status with the
// server's message and SQLSTATE, and never with the connection's password.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ordo/status.h"

struct pg_conn;
struct pg_result;

namespace ordo::store::pg {

// Whether `location` is a PostgreSQL connection URI ("postgresql://" or "postgres://");
// anything else given as a database is a SQLite file.
bool is_url(std::string_view location);

// The URI with its password (and any `password=` parameter) replaced by "***": for
// messages and logs.
std::string redacted(std::string_view url);

// Ordo's own parameter of a URI, `schema=NAME` (libpq refuses parameters it does not know):
// the URI without it, and the schema it names, if any. So that one --db value says where,
// for every command: postgresql://shop@db1/orders?schema=eu.
struct SchemaInUrl {
  std::string url;
  std::optional<std::string> schema;
};
SchemaInUrl take_schema(std::string_view url);

// The rows a statement returned; empty for a command.
class Rows {
 public:
  Rows() = default;
  explicit Rows(pg_result* r) noexcept : r_(r) {}
  Rows(Rows&&) noexcept = default;
  Rows& operator=(Rows&&) noexcept = default;

  int size() const noexcept;
  int columns() const noexcept;
  bool empty() const noexcept { return size() == 0; }
  bool is_null(int row, int column) const noexcept;
  // The value's text (a view into the result: valid while the Rows live); "" when null.
  std::string_view text(int row, int column) const noexcept;
  // The value as a whole number; nullopt when null or not one.
  std::optional<std::int64_t> integer(int row, int column) const noexcept;
  // Rows a command changed (INSERT, UPDATE, DELETE).
  std::int64_t affected() const noexcept;

 private:
  struct Clear {
    void operator()(pg_result* r) const noexcept;
  };
  std::unique_ptr<pg_result, Clear> r_;
};

// A parameter: its text as a C string (libpq reads text parameters so), or nullptr for
// SQL NULL. The caller keeps the text alive for the call: nothing is copied.
using Param = const char*;

// One connection to the server. Not for two threads at once.
class Connection {
 public:
  // Connects to `url` (any libpq URI; a password from the URI, PGPASSWORD or ~/.pgpass),
  // waiting at most `timeout` (unless the URI sets connect_timeout). Errors name the server
  // (without the password) and say what to check.
  static Result<Connection> open(const std::string& url,
                                 std::chrono::seconds timeout = std::chrono::seconds(10));

  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  ~Connection();

  // Runs SQL without parameters (schema changes, BEGIN and COMMIT); several statements may
  // be separated by semicolons.
  Status exec(std::string_view sql);
  // Prepares `sql` ($1, $2, ... for parameters) as `name` on this connection.
  Status prepare(const std::string& name, const std::string& sql);
  // Runs the prepared statement `name` with `params`.
  Result<Rows> run(const std::string& name, std::initializer_list<Param> params = {});
  Result<Rows> run(const std::string& name, const std::vector<Param>& params);
  // Runs `sql` once with `params` (not prepared: for statements run rarely).
  Result<Rows> run_once(const std::string& sql, std::initializer_list<Param> params = {});
  Result<Rows> run_once(const std::string& sql, const std::vector<Param>& params);

  // Pipeline mode: between begin_pipeline() and end_pipeline(), send() queues a prepared
  // statement without waiting for its answer (its parameters are copied at once);
  // end_pipeline() waits once for all of them and returns their results in order, or the
  // first failure (PostgreSQL skips what follows a failed statement). One round trip for
  // many statements, where none needs the answer of another.
  Status begin_pipeline();
  Status send(const std::string& name, std::initializer_list<Param> params);
  Status send(const std::string& name, const std::vector<Param>& params);
  // The same for SQL that is not prepared: planned for these parameters (run_once()).
  Status send_once(const std::string& sql, std::initializer_list<Param> params = {});
  Status send_once(const std::string& sql, const std::vector<Param>& params);
  Result<std::vector<Rows>> end_pipeline();

  // Whether the connection is still up (false after the server went away).
  bool ok() const noexcept;
  // The server's version as a number (150018 for 15.18).
  int server_version() const noexcept;
  // Where it is connected, for messages: "127.0.0.1:5432/ordo".
  const std::string& where() const noexcept { return where_; }

 private:
  struct Finish {
    void operator()(pg_conn* c) const noexcept;
  };
  Connection(pg_conn* c, std::string where) noexcept : c_(c), where_(std::move(where)) {}
  Result<Rows> check(pg_result* r, std::string_view what);

  std::unique_ptr<pg_conn, Finish> c_;
  std::string where_;
  std::size_t sent_ = 0;  // statements queued in the open pipeline
};

}  // namespace ordo::store::pg
