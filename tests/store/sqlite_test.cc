// The SQLite layer on real files: creating, reopening, and refusing what is not ours.
#include "store/sqlite/database.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_util.h"

namespace ordo::store::sqlite {
namespace {

namespace fs = std::filesystem;

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ordo-sqlite-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string bytes(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Runs SQL with the plain SQLite API, as another program would.
  static void raw(const std::string& p, const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(p.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  fs::path dir_;
};

TEST_F(SqliteTest, ASchemaOneFileIsMigratedKeepingItsData) {
  const std::string p = path("v1.db");
  { ASSERT_TRUE(Database::open(p).is_ok()); }
  // What a file written by the first release looks like: no delivery log yet, and the
  // jobs indexed by state whatever it is.
  raw(p,
      "DROP TABLE delivery_events; DROP TABLE deliveries; DROP INDEX jobs_ready; "
      "DROP INDEX instances_key; DROP INDEX instances_process; DROP TABLE instance_counts; "
      "DROP TABLE element_stats; DROP TABLE instance_minutes; DROP TABLE cycle_times; "
      "DROP INDEX jobs_expiring; CREATE INDEX jobs_ready ON jobs (state, key); "
      "DROP TABLE customer_orders; "
      "CREATE INDEX jobs_expiring ON jobs (state, lock_expires_at); PRAGMA user_version=1; "
      "INSERT INTO meta (name, value) VALUES ('probe', 42)");
  raw(p, "INSERT INTO jobs VALUES (7, 1, 1, 1, 'erp', 'created', 3, 0, 'k', '', NULL, 0)");
  // An instance that passed its start event and waits at t, as its history tells.
  raw(p,
      "INSERT INTO instances VALUES (1, 'p', 1, 'A-1', 'active', NULL, NULL, 1, 0, NULL, NULL, "
      "'{}', '{}'); INSERT INTO history VALUES (1, 1, '[[0,\"instance-started\",null,0,0,null],"
      "[0,\"element-activated\",\"s\",1,0,null],[0,\"element-completed\",\"s\",1,0,null],"
      "[0,\"element-activated\",\"t\",2,0,null]]')");
  auto db = Database::open(p);
  ASSERT_TRUE(db.is_ok()) << db.status().to_string();
  EXPECT_EQ((*db)->schema_version(), kSchemaVersion);
  auto kept = (*db)->prepare("SELECT value FROM meta WHERE name = 'probe'");
  ASSERT_TRUE(*kept->step());
  EXPECT_EQ(kept->int64(0), 42);
  auto log = (*db)->prepare("SELECT count(*) FROM deliveries");
  ASSERT_TRUE(log.is_ok()) << log.status().to_string();
  auto version = (*db)->prepare("PRAGMA user_version");
  ASSERT_TRUE(*version->step());
  EXPECT_EQ(version->int64(0), kSchemaVersion);
  // Schema 3: the ready jobs' index holds only them, and the job written before is in it.
  auto index = (*db)->prepare("SELECT sql FROM sqlite_schema WHERE name = 'jobs_ready'");
  ASSERT_TRUE(*index->step());
  EXPECT_NE(index->text(0).find("WHERE state = 'created'"), std::string::npos) << index->text(0);
  auto ready = (*db)->prepare("SELECT key FROM jobs INDEXED BY jobs_ready WHERE state = 'created'");
  ASSERT_TRUE(ready.is_ok()) << ready.status().to_string();
  ASSERT_TRUE(*ready->step());
  EXPECT_EQ(ready->int64(0), 7);
  // Schema 6: the element statistics, counted from the history stored.
  auto stats = (*db)->prepare(
      "SELECT element_id, active, completed, terminated FROM element_stats ORDER BY 1");
  ASSERT_TRUE(stats.is_ok()) << stats.status().to_string();
  std::vector<std::string> rows;
  while (*stats->step()) {
    rows.push_back(stats->text(0) + " " + std::to_string(stats->int64(1)) + " " +
                   std::to_string(stats->int64(2)) + " " + std::to_string(stats->int64(3)));
  }
  EXPECT_EQ(rows, (std::vector<std::string>{"s 0 1 0", "t 1 0 0"}));
}

TEST_F(SqliteTest, NewFileGetsTheCurrentSchemaInWalMode) {
  auto db = Database::open(path("ordo.db"));
  ASSERT_TRUE(db.is_ok()) << db.status().to_string();
  EXPECT_EQ((*db)->schema_version(), kSchemaVersion);
  auto st = (*db)->prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'");
  ASSERT_TRUE(st.is_ok());
  ASSERT_TRUE(*st->step());
  EXPECT_GE(st->int64(0), 10);
  auto mode = (*db)->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(*mode->step());
  EXPECT_EQ(mode->text(0), "wal");
}

TEST_F(SqliteTest, ReopeningKeepsWhatWasCommitted) {
  {
    auto db = Database::open(path("ordo.db"));
    ASSERT_TRUE(db.is_ok());
    Status s = in_transaction(**db, [&] {
      auto st = (*db)->prepare("INSERT INTO meta (name, value) VALUES (?1, ?2)");
      if (!st) return st.status();
      return st->bind(1, std::string_view("next_instance")).bind(2, std::int64_t{42}).run();
    });
    ASSERT_OK(s);
  }
  auto db = Database::open(path("ordo.db"));
  ASSERT_TRUE(db.is_ok()) << db.status().to_string();
  auto st = (*db)->prepare("SELECT value FROM meta WHERE name = ?1");
  st->bind(1, std::string_view("next_instance"));
  ASSERT_TRUE(*st->step());
  EXPECT_EQ(st->int64(0), 42);
}

TEST_F(SqliteTest, FailedTransactionLeavesNothingBehind) {
  auto db = Database::open(path("ordo.db"));
  ASSERT_TRUE(db.is_ok());
  Status s = in_transaction(**db, [&]() -> Status {
    auto st = (*db)->prepare("INSERT INTO meta (name, value) VALUES ('a', 1)");
    if (Status r = st->run(); !r) return r;
    auto dup = (*db)->prepare("INSERT INTO meta (name, value) VALUES ('a', 2)");
    return dup->run();  // violates the primary key
  });
  EXPECT_EQ(s.code(), StatusCode::kConflict) << s.to_string();
  auto st = (*db)->prepare("SELECT count(*) FROM meta WHERE name = 'a'");
  ASSERT_TRUE(*st->step());
  EXPECT_EQ(st->int64(0), 0);
}

TEST_F(SqliteTest, TextFileIsRefusedAndLeftUntouched) {
  const std::string p = path("orders.csv");
  std::ofstream(p) << "orderId,total\nA-1,10\n";
  const std::string before = bytes(p);
  auto db = Database::open(p);
  ASSERT_FALSE(db.is_ok());
  EXPECT_EQ(db.status().code(), StatusCode::kCorruption);
  EXPECT_NE(db.status().message().find("not an Ordo database"), std::string::npos);
  EXPECT_EQ(bytes(p), before);
  EXPECT_FALSE(fs::exists(p + "-wal"));
}

TEST_F(SqliteTest, AnotherApplicationsDatabaseIsRefusedAndLeftUntouched) {
  const std::string p = path("other.db");
  raw(p, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
  const std::string before = bytes(p);
  auto db = Database::open(p);
  ASSERT_FALSE(db.is_ok());
  EXPECT_NE(db.status().message().find("not an Ordo database"), std::string::npos)
      << db.status().message();
  EXPECT_EQ(bytes(p), before);
}

TEST_F(SqliteTest, NewerSchemaIsRefusedAndLeftUntouched) {
  const std::string p = path("ordo.db");
  { ASSERT_TRUE(Database::open(p).is_ok()); }
  raw(p, "PRAGMA user_version=99");
  const std::string before = bytes(p);
  auto db = Database::open(p);
  ASSERT_FALSE(db.is_ok());
  EXPECT_EQ(db.status().code(), StatusCode::kConflict);
  EXPECT_NE(db.status().message().find("newer Ordo (schema 99"), std::string::npos)
      << db.status().message();
  EXPECT_EQ(bytes(p), before);
}

TEST_F(SqliteTest, TruncatedDatabaseIsReportedAsDamaged) {
  const std::string p = path("ordo.db");
  {
    auto db = Database::open(p);
    ASSERT_TRUE(db.is_ok());
    ASSERT_OK((*db)->exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  }
  fs::remove(p + "-wal");
  fs::remove(p + "-shm");
  fs::resize_file(p, 2000);  // part of the first page only
  auto db = Database::open(p);
  ASSERT_FALSE(db.is_ok());
  EXPECT_EQ(db.status().code(), StatusCode::kCorruption) << db.status().to_string();
}

TEST_F(SqliteTest, ReadOnlyFileIsRefusedWithAClearMessage) {
  const std::string p = path("ordo.db");
  { ASSERT_TRUE(Database::open(p).is_ok()); }
  fs::permissions(p, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  const std::string before = bytes(p);
  // Root may write any file: check as an unprivileged user in a child process.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    auto db = Database::open(p);
    if (db.is_ok()) ::_exit(1);
    const bool clear = db.status().code() == StatusCode::kIoError &&
                       db.status().message().find("read-only") != std::string::npos;
    ::_exit(clear ? 0 : 2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: opened anyway; 2: unclear error; 3: setuid failed";
  EXPECT_EQ(bytes(p), before);
}

TEST_F(SqliteTest, FullDiskFailsTheTransactionAndKeepsEarlierCommits) {
  const std::string p = path("ordo.db");
  auto db = Database::open(p);
  ASSERT_TRUE(db.is_ok());
  ASSERT_OK((*db)->exec("INSERT INTO meta (name, value) VALUES ('kept', 1)"));
  auto pages = (*db)->prepare("PRAGMA page_count");
  ASSERT_TRUE(*pages->step());
  const std::int64_t limit = pages->int64(0) + 2;
  ASSERT_OK((*db)->exec("PRAGMA max_page_count=" + std::to_string(limit)));
  Status s = in_transaction(**db, [&]() -> Status {
    auto st = (*db)->prepare("INSERT INTO history (sequence, instance_id, events) "
                             "VALUES (?1, 1, ?2)");
    if (!st) return st.status();
    const std::string big(4000, 'x');
    for (std::int64_t i = 1; i <= 100; ++i) {
      st->reset();
      if (Status r = st->bind(1, i).bind(2, std::string_view(big)).run(); !r) return r;
    }
    return Status::ok();
  });
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("full"), std::string::npos) << s.message();
  auto count = (*db)->prepare(
      "SELECT (SELECT count(*) FROM history), (SELECT value FROM meta WHERE name = 'kept')");
  ASSERT_TRUE(*count->step());
  EXPECT_EQ(count->int64(0), 0);
  EXPECT_EQ(count->int64(1), 1);
}

TEST_F(SqliteTest, MissingDirectoryIsAnIoError) {
  auto db = Database::open(path("no/such/dir/ordo.db"));
  ASSERT_FALSE(db.is_ok());
  EXPECT_EQ(db.status().code(), StatusCode::kIoError) << db.status().to_string();
}

}  // namespace
}  // namespace ordo::store::sqlite
