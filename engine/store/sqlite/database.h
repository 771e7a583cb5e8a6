// A small RAII layer over SQLite: one connection, prepared statements with bound parameters,
// transactions, and the Ordo schema checked and migrated on open.
//
// Every error is a Status naming the file and what to do; nothing throws. A file that is not
// an Ordo database, or was written by a newer schema, is refused before anything is written
// to it.
//
// Thread safety: a Database (and its statements) is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "ordo/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ordo::store::sqlite {

// The schema this build writes; older files are migrated on open.
inline constexpr int kSchemaVersion = 8;
// PRAGMA application_id of every Ordo database: "ORDO".
inline constexpr std::int32_t kApplicationId = 0x4F52444F;

struct OpenOptions {
  // synchronous=FULL (every commit reaches the disk before it returns) or NORMAL (WAL
  // commits are durable at the next checkpoint; a power cut may lose the last ones).
  bool synchronous_full = true;
  // How long to wait for another process's write lock before giving up.
  int busy_timeout_ms = 5000;
  // Create the file when it does not exist.
  bool create = true;
};

class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite. Text and blobs are copied.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view text);
  Statement& bind_null(int index);
  // NULL for an empty text or a zero: columns that store "none" as NULL.
  Statement& bind_text_or_null(int index, std::string_view text) {
    return text.empty() ? bind_null(index) : bind(index, text);
  }
  Statement& bind_int_or_null(int index, std::int64_t value) {
    return value == 0 ? bind_null(index) : bind(index, value);
  }

  // Runs one step: true when a row is ready, false when done.
  Result<bool> step();
  // Steps to the end (for statements that return no rows).
  Status run();
  // Makes the statement ready to bind and run again.
  void reset();

  std::int64_t int64(int column) const;
  double real(int column) const;
  std::string text(int column) const;
  bool is_null(int column) const;
  // How many columns its rows have.
  int columns() const;

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, std::string* path) : stmt_(stmt), path_(path) {}
  sqlite3_stmt* stmt_ = nullptr;
  const std::string* path_ = nullptr;
  Status bind_status_;
};

// Creates `path`, empty, readable and writable by its owner only (0600, whatever the umask),
// unless it exists (then its mode is kept): an Ordo database, its backups and its logs hold
// personal data. Errors: kIoError naming the path.
Status create_private_file(const std::string& path);

class Database {
 public:
  // Opens (or creates) an Ordo database, checks what it is, and migrates it. Failures:
  // kIoError (cannot open or write: missing directory, read-only file, full disk),
  // kCorruption (not an SQLite file, another application's database, a damaged file),
  // kConflict (written by a newer schema). The file is left as it was on every failure.
  static Result<std::unique_ptr<Database>> open(const std::string& path,
                                                const OpenOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Result<Statement> prepare(std::string_view sql);
  // Runs SQL without parameters (schema, pragmas, BEGIN/COMMIT).
  Status exec(std::string_view sql);

  // BEGIN IMMEDIATE: takes the write lock now, so a transaction never fails half-way for
  // want of it. commit() makes everything durable (per OpenOptions) or nothing.
  Status begin();
  Status commit();
  void rollback() noexcept;

  const std::string& path() const noexcept { return path_; }
  int schema_version() const noexcept { return schema_version_; }
  sqlite3* handle() const noexcept { return db_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status error(std::string_view doing, int code) const;
  Status check_and_migrate();
  // SQLite's busy handler: waits for another connection's write lock in short steps (its
  // own sleeps grow to 100 ms, far longer than a commit holds the lock) until the timeout.
  static int wait_for_lock(void* self, int count);

  sqlite3* db_ = nullptr;
  std::string path_;
  int schema_version_ = 0;
  int busy_timeout_ms_ = 5000;
  std::chrono::steady_clock::time_point busy_since_;
};

// Runs `body` inside begin()/commit(); rolls back if it (or the commit) fails.
template <class F>
Status in_transaction(Database& db, F&& body) {
  if (Status s = db.begin(); !s) return s;
  Status s = body();
  if (!s) {
    db.rollback();
    return s;
  }
  if (Status c = db.commit(); !c) {
    db.rollback();
    return c;
  }
  return Status::ok();
}

// Steps through the result rows, calling `on_row` (which reads the statement's columns) for
// each; stops at the first error, or the first non-ok Status `on_row` returns.
template <class F>
Status each_row(Statement& st, F&& on_row) {
  while (true) {
    Result<bool> row = st.step();
    if (!row) return row.status();
    if (!*row) return Status::ok();
    if constexpr (std::is_same_v<std::invoke_result_t<F&>, Status>) {
      if (Status s = on_row(); !s) return s;
    } else {
      on_row();
    }
  }
}

}  // namespace ordo::store::sqlite
