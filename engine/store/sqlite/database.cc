#include "store/sqlite/database.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "util/private_file.h"

namespace ordo::store::sqlite {
namespace {

// The first 16 bytes of every SQLite 3 database file.
constexpr char kSqliteHeader[] = "SQLite format 3";

// Whether `path` holds something that is not an SQLite database (an empty file is fine).
bool foreign_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  char header[16] = {};
  in.read(header, sizeof header);
  if (in.gcount() == 0) return false;
  return in.gcount() < 16 || std::string_view(header, 15) != kSqliteHeader || header[15] != 0;
}

StatusCode code_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return StatusCode::kCorruption;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kBusy;
    case SQLITE_CONSTRAINT:
      return StatusCode::kConflict;
    default:
      return StatusCode::kIoError;
  }
}

std::string advice_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return "; the disk (or the database's size limit) is full: free space and retry";
    case SQLITE_READONLY:
      return "; the file or its directory is read-only: Ordo must be able to write both";
    case SQLITE_CANTOPEN:
      return "; check that the directory exists and is writable";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return "; the file is damaged: restore it from a backup (ordo backup)";
    case SQLITE_BUSY:
      return "; another process holds the database lock for longer than the busy timeout";
    default:
      return "";
  }
}

}  // namespace

// ---- Statement ----

Statement::Statement(Statement&& other) noexcept
    : stmt_(other.stmt_), path_(other.path_), bind_status_(std::move(other.bind_status_)) {
  other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    path_ = other.path_;
    bind_status_ = std::move(other.bind_status_);
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

namespace {
Status bind_result(int rc, const std::string* path, int index) {
  if (rc == SQLITE_OK) return Status::ok();
  return Status::internal("binding parameter " + std::to_string(index) + " for " +
                          (path ? *path : std::string("?")) + ": " + sqlite3_errstr(rc));
}
}  // namespace

Statement& Statement::bind(int index, std::int64_t value) {
  if (bind_status_) bind_status_ = bind_result(sqlite3_bind_int64(stmt_, index, value), path_, index);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  if (bind_status_) bind_status_ = bind_result(sqlite3_bind_double(stmt_, index, value), path_, index);
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  if (bind_status_) {
    // An empty view may have no data pointer, which SQLite would bind as NULL.
    bind_status_ = bind_result(sqlite3_bind_text64(stmt_, index, text.empty() ? "" : text.data(),
                                                   text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
                               path_, index);
  }
  return *this;
}

Statement& Statement::bind_null(int index) {
  if (bind_status_) bind_status_ = bind_result(sqlite3_bind_null(stmt_, index), path_, index);
  return *this;
}

Result<bool> Statement::step() {
  if (!bind_status_) return bind_status_;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* db = sqlite3_db_handle(stmt_);
  return Status(code_for(rc), (path_ ? *path_ : std::string("?")) + ": " + sqlite3_errmsg(db) +
                                  advice_for(rc));
}

Status Statement::run() {
  while (true) {
    Result<bool> r = step();
    if (!r) return r.status();
    if (!*r) return Status::ok();
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_status_ = Status::ok();
}

std::int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }
int Statement::columns() const { return sqlite3_column_count(stmt_); }
bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}
std::string Statement::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

// ---- Database ----

Result<std::unique_ptr<Database>> Database::open(const std::string& path,
                                                 const OpenOptions& options) {
  // SQLite counts every allocation under one process-wide mutex unless told not to: with
  // connections on several threads (a replay's delivery logs, a lane each), they would take
  // turns on it. Nothing here reads the counts. (Only possible before SQLite starts; when
  // something else started it first, it stays as it was.)
  static const bool configured = [] {
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  // A database in memory (a replay's delivery log): nothing on disk to check or protect.
  const bool in_memory = path == ":memory:";
  std::error_code ec;
  const bool exists = !in_memory && std::filesystem::exists(path, ec);
  if (in_memory && !options.create) return Status::not_found("no database in memory to open");
  if (exists && std::filesystem::is_directory(path, ec)) {
    return Status::io_error(path + " is a directory, not a database file");
  }
  if (!exists && !options.create) return Status::not_found("no database at " + path);
  if (exists && foreign_file(path)) {
    return Status(StatusCode::kCorruption,
                  path + " is not an Ordo database (it is not an SQLite file); the file was "
                         "left untouched: give a new file name or the right file");
  }
  // The database holds personal data (customers, addresses, what they ordered): a new file
  // is created 0600 first, whatever the umask. SQLite gives its -wal and -shm files the
  // mode of the database file.
  if (!exists && !in_memory) {
    if (Status s = create_private_file(path); !s) return s;
  }
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (exists ? 0 : SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Database> db(new Database(raw, path));
  if (rc != SQLITE_OK) return db->error("cannot open", rc);
  if (sqlite3_db_readonly(raw, "main") == 1) {
    return Status::io_error(path + " is read-only; Ordo must be able to write its database "
                                   "(and the directory, for the WAL file)");
  }
  sqlite3_extended_result_codes(raw, 1);
  db->busy_timeout_ms_ = options.busy_timeout_ms;
  sqlite3_busy_handler(raw, &Database::wait_for_lock, db.get());
  if (Status s = db->check_and_migrate(); !s) return s;
  // WAL after the checks, so a refused file is never switched to WAL. Switching needs the
  // file to itself for a moment: when several processes open a new file at once, wait.
  for (int waited_ms = 0; !in_memory; waited_ms += 10) {
    Status s = db->exec("PRAGMA journal_mode=WAL");
    if (s) break;
    if (s.code() != StatusCode::kBusy || waited_ms >= options.busy_timeout_ms) return s;
    sqlite3_sleep(10);
  }
  if (Status s = db->exec(options.synchronous_full ? "PRAGMA synchronous=FULL"
                                                   : "PRAGMA synchronous=NORMAL");
      !s) {
    return s;
  }
  if (Status s = db->exec("PRAGMA foreign_keys=ON"); !s) return s;
  // 64 MiB of page cache (the default is 2 MiB): the hot pages of a busy engine stay in
  // memory between transactions.
  if (Status s = db->exec("PRAGMA cache_size=-65536"); !s) return s;
  return db;
}

Database::~Database() { sqlite3_close_v2(db_); }

Status create_private_file(const std::string& path) {
  const int fd = util::open_private(path, O_RDWR);
  if (fd < 0) {
    return Status::io_error("cannot create " + path + ": " + std::strerror(errno) +
                            " (check that the directory exists and is writable)");
  }
  ::close(fd);
  return Status::ok();
}

int Database::wait_for_lock(void* self, int count) {
  auto& db = *static_cast<Database*>(self);
  const auto now = std::chrono::steady_clock::now();
  if (count == 0) db.busy_since_ = now;
  if (now - db.busy_since_ >= std::chrono::milliseconds(db.busy_timeout_ms_)) return 0;
  // A commit holds the lock for about a millisecond: look again soon, then less often.
  const int micros = count < 50 ? 100 : count < 250 ? 1000 : 5000;
  std::this_thread::sleep_for(std::chrono::microseconds(micros));
  return 1;
}

Status Database::error(std::string_view doing, int code) const {
  std::string message = std::string(doing) + " " + path_ + ": ";
  message += db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
  return Status(code_for(code), message + advice_for(code));
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return error("cannot prepare a statement on", rc);
  return Statement(stmt, &path_);
}

Status Database::exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Status::ok();
  std::string why = message ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return Status(code_for(rc), path_ + ": " + why + advice_for(rc));
}

Status Database::begin() { return exec("BEGIN IMMEDIATE"); }
Status Database::commit() { return exec("COMMIT"); }
void Database::rollback() noexcept {
  if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

}  // namespace ordo::store::sqlite
