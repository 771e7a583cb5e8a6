// SQL on an Ordo database, SQLite file or PostgreSQL schema alike, for the code that works on
// its tables rather than through a Store: the notifications' delivery log
// (adapters/notify/delivery_log.cc) and `ordo db copy` (store/copy.cc). They say what they
// do once, in SQL both understand; this is the little that differs: how a statement runs, how
// a transaction starts, and how writers on several machines take turns. (The stores
// themselves talk to their database directly: their statements are the hot path.)
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ordo/status.h"

namespace ordo::store {

// A bound parameter: SQL NULL, a whole number or text (kept alive by the caller).
using SqlValue = std::variant<std::monostate, std::int64_t, std::string_view>;

// The rows a query returned, as text (NULL kept apart from "").
class SqlRows {
 public:
  explicit SqlRows(int columns) : columns_(columns) {}
  int size() const noexcept {
    return columns_ == 0 ? 0 : static_cast<int>(cells_.size()) / columns_;
  }
  bool is_null(int row, int column) const noexcept { return !cell(row, column).has_value(); }
  // "" when NULL.
  const std::string& text(int row, int column) const noexcept;
  // 0 when NULL or not a number.
  std::int64_t integer(int row, int column) const noexcept;
  void add(std::optional<std::string> cell) { cells_.push_back(std::move(cell)); }

 private:
  const std::optional<std::string>& cell(int row, int column) const noexcept {
    return cells_[static_cast<std::size_t>(row * columns_ + column)];
  }
  int columns_;
  std::vector<std::optional<std::string>> cells_;
};

class SqlDb {
 public:
  // A PostgreSQL URL (postgresql://..., its `schema=` parameter naming Ordo's schema, default
  // "ordo"), or an SQLite file, created when missing. Either is an Ordo database, migrated
  // on open like the engine's.
  // `create` false: a missing SQLite file, or PostgreSQL schema, is an error rather than a
  // new database.
  static Result<std::unique_ptr<SqlDb>> open(const std::string& location, bool create = true);
  virtual ~SqlDb() = default;

  virtual bool postgres() const noexcept = 0;
  // A read-only transaction that sees one moment of the database throughout, whatever other
  // processes commit meanwhile.
  virtual Status begin_snapshot() = 0;

  // A write transaction. SQLite's holds the file's write lock from the start; PostgreSQL's
  // takes turns with other machines only where lock() says.
  virtual Status begin() = 0;
  virtual Status commit() = 0;
  virtual void rollback() noexcept = 0;
  // Inside a transaction: waits for any other transaction holding `name`, and holds it until
  // this one ends (PostgreSQL's advisory locks; SQLite's write lock holds everything).
  virtual Status lock(std::string_view name) = 0;
  // `sql` numbers its parameters ?1, ?2, ... (each may appear more than once); it has no
  // other '?' (PostgreSQL's are written $1, $2, ...: every '?' becomes a '$').
  virtual Result<SqlRows> query(const std::string& sql, std::span<const SqlValue> params) = 0;
  // A statement that returns no rows: how many rows it changed.
  virtual Result<std::int64_t> exec(const std::string& sql, std::span<const SqlValue> params) = 0;
  Result<SqlRows> query(const std::string& sql, std::initializer_list<SqlValue> params) {
    return query(sql, std::span<const SqlValue>(params.begin(), params.size()));
  }
  Result<std::int64_t> exec(const std::string& sql, std::initializer_list<SqlValue> params) {
    return exec(sql, std::span<const SqlValue>(params.begin(), params.size()));
  }
  // The column that orders delivery_events as they were added.
  virtual std::string_view arrival_column() const noexcept = 0;
};

}  // namespace ordo::store
