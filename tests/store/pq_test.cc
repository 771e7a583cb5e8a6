// The libpq layer of the PostgreSQL store (engine/store/postgres/pq.h) against a real
// server: bound parameters, errors by kind, and connections that fail clearly.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ordo/engine.h"
#include "ordo/loader.h"
#include "store/pg_server.h"
#include "store/postgres/pq.h"
#include "store/postgres/schema.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

namespace pg = store::pg;

// The test server's URL; the test fails (not skips) without one.
#define ORDO_PG_URL(var)                                          \
  std::string var##_why;                                          \
  const std::string var = PgTestServer::url(var##_why);           \
  ASSERT_FALSE(var.empty()) << var##_why

// The URL with another password.
std::string with_password(const std::string& url, const std::string& password) {
  const std::size_t colon = url.find(':', url.find("://") + 3);
  const std::size_t at = url.find('@');
  return url.substr(0, colon + 1) + password + url.substr(at);
}

TEST(PgConnection, RunsPreparedStatementsWithBoundParameters) {
  ORDO_PG_URL(url);
  Result<pg::Connection> c = pg::Connection::open(url);
  ASSERT_OK(c.status());
  EXPECT_GE(c->server_version(), 150000);
  ASSERT_OK(c->prepare("sum", "SELECT $1::bigint + $2::bigint, $3::text IS NULL, $4::text"));
  // A value that looks like SQL is only ever a value.
  const std::string sneaky = "x'); DROP TABLE pg_class; --";
  Result<pg::Rows> r = c->run("sum", {"2", "40", nullptr, sneaky.c_str()});
  ASSERT_OK(r.status());
  ASSERT_EQ(r->size(), 1);
  EXPECT_EQ(r->integer(0, 0), 42);
  EXPECT_EQ(r->text(0, 1), "t");
  EXPECT_EQ(r->text(0, 2), sneaky);
  EXPECT_FALSE(r->is_null(0, 2));
  Result<pg::Rows> again = c->run("sum", {"1", "1", "a", "b"});
  ASSERT_OK(again.status());
  EXPECT_EQ(again->integer(0, 0), 2);
  EXPECT_EQ(again->text(0, 1), "f");
}

TEST(PgConnection, ErrorsSayWhatKindTheyAre) {
  ORDO_PG_URL(url);
  Result<pg::Connection> c = pg::Connection::open(url);
  ASSERT_OK(c.status());
  ASSERT_OK(c->exec("CREATE TEMPORARY TABLE taken (k text PRIMARY KEY)"));
  ASSERT_OK(c->run_once("INSERT INTO taken VALUES ($1)", {"A-1"}).status());
  Result<pg::Rows> twice = c->run_once("INSERT INTO taken VALUES ($1)", {"A-1"});
  EXPECT_EQ(twice.status().code(), StatusCode::kConflict) << twice.status().to_string();
  EXPECT_NE(twice.status().message().find("SQLSTATE 23505"), std::string::npos);
  Result<pg::Rows> inserted = c->run_once("INSERT INTO taken VALUES ($1), ($2)", {"A-2", "A-3"});
  ASSERT_OK(inserted.status());
  EXPECT_EQ(inserted->affected(), 2);
  const Status bad = c->exec("SELEC 1");
  EXPECT_EQ(bad.code(), StatusCode::kInternal) << bad.to_string();
  EXPECT_NE(bad.message().find("syntax error"), std::string::npos) << bad.message();
  EXPECT_NE(bad.message().find(c->where()), std::string::npos) << bad.message();
  EXPECT_TRUE(c->ok()) << "a refused statement leaves the connection usable";
  ASSERT_OK(c->run_once("SELECT 1").status());
}

// A pipeline: many statements, one round trip, answers in order; a failing statement is
// reported (the first one), what follows it is not run, and the connection goes on.
TEST(PgConnection, APipelineAnswersInOrderAndReportsItsFirstFailure) {
  ORDO_PG_URL(url);
  Result<pg::Connection> c = pg::Connection::open(url);
  ASSERT_OK(c.status());
  ASSERT_OK(c->exec("CREATE TEMPORARY TABLE piped (k text PRIMARY KEY, n int)"));
  ASSERT_OK(c->prepare("put", "INSERT INTO piped VALUES ($1, $2)"));
  ASSERT_OK(c->prepare("bump", "UPDATE piped SET n = n + 1 WHERE k = $1"));
  ASSERT_OK(c->begin_pipeline());
  ASSERT_OK(c->send("put", {"a", "1"}));
  ASSERT_OK(c->send("put", {"b", "2"}));
  ASSERT_OK(c->send("bump", {"a"}));
  ASSERT_OK(c->send("bump", {"zzz"}));
  Result<std::vector<pg::Rows>> answered = c->end_pipeline();
  ASSERT_OK(answered.status());
  ASSERT_EQ(answered->size(), 4u);
  EXPECT_EQ((*answered)[2].affected(), 1);
  EXPECT_EQ((*answered)[3].affected(), 0);
  ASSERT_OK(c->begin_pipeline());
  ASSERT_OK(c->send("put", {"c", "3"}));
  ASSERT_OK(c->send("put", {"a", "9"}));  // taken
  ASSERT_OK(c->send("put", {"d", "4"}));  // not run: the pipeline stops at the failure
  Result<std::vector<pg::Rows>> failed = c->end_pipeline();
  EXPECT_EQ(failed.status().code(), StatusCode::kConflict) << failed.status().to_string();
  ASSERT_TRUE(c->ok());
  Result<pg::Rows> rows = c->run_once("SELECT k FROM piped ORDER BY k");
  ASSERT_OK(rows.status());
  // Outside BEGIN a pipeline is one transaction: c went with the failure.
  ASSERT_EQ(rows->size(), 2);
  EXPECT_EQ(rows->text(1, 0), "b");
}

TEST(PgConnection, AWrongPasswordIsAClearErrorThatDoesNotRepeatIt) {
  ORDO_PG_URL(url);
  Result<pg::Connection> c = pg::Connection::open(with_password(url, "not-the-password-42"));
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), StatusCode::kIoError);
  EXPECT_NE(c.status().message().find("password authentication failed"), std::string::npos)
      << c.status().message();
  EXPECT_EQ(c.status().message().find("not-the-password-42"), std::string::npos)
      << c.status().message();
}

TEST(PgConnection, AServerThatNeverAnswersTimesOut) {
  // A listening socket nobody serves: the connection is accepted by the kernel and then
  // nothing comes back, as with a host behind a dropping firewall.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url =
      "postgresql://ordo:secret@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/ordo";
  Result<pg::Connection> c = pg::Connection::open(url, std::chrono::seconds(2));
  ::close(listener);
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), StatusCode::kIoError);
  EXPECT_NE(c.status().message().find("timeout"), std::string::npos) << c.status().message();
  EXPECT_EQ(c.status().message().find("secret"), std::string::npos) << c.status().message();
}

TEST(PgConnection, AMalformedUrlOrAMissingDatabaseIsNamed) {
  ORDO_PG_URL(url);
  Result<pg::Connection> bad = pg::Connection::open("postgresql://ordo@127.0.0.1:notaport/x");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("cannot connect to PostgreSQL"), std::string::npos)
      << bad.status().message();
  const std::string other = url.substr(0, url.rfind('/')) + "/no_such_database";
  Result<pg::Connection> missing = pg::Connection::open(other);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("no_such_database"), std::string::npos)
      << missing.status().message();
}

// A PostgreSQL schema of the running test's own, dropped when it ends.
class PgScratchSchema {
 public:
  explicit PgScratchSchema(std::string url)
      : url_(std::move(url)),
        name_("ordo_test_" + std::to_string(::getpid()) + "_" + std::to_string(++made_)) {}
  ~PgScratchSchema() {
    if (Result<pg::Connection> c = pg::Connection::open(url_)) {
      (void)c->exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    }
  }
  PgScratchSchema(const PgScratchSchema&) = delete;
  PgScratchSchema& operator=(const PgScratchSchema&) = delete;
  const std::string& name() const { return name_; }

 private:
  static inline int made_ = 0;
  std::string url_;
  std::string name_;
};

// Four nodes opening a new database at once: one creates the schema, the others find it
// made (each migration creates its tables without IF NOT EXISTS, so applying one twice fails).
TEST(PgSchema, NodesStartingTogetherMigrateOnce) {
  ORDO_PG_URL(url);
  PgScratchSchema schema(url);
  std::vector<std::thread> nodes;
  std::vector<Status> results(4);
  std::vector<int> found(4, -1);
  for (std::size_t i = 0; i < 4; ++i) {
    nodes.emplace_back([&, i] {
      Result<pg::Connection> c = pg::Connection::open(url);
      if (!c) {
        results[i] = c.status();
        return;
      }
      Result<int> v = pg::migrate(*c, schema.name());
      results[i] = v.status();
      if (v) found[i] = *v;
    });
  }
  for (std::thread& t : nodes) t.join();
  int created = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(results[i].is_ok()) << results[i].to_string();
    created += found[i] == 0 ? 1 : 0;
  }
  EXPECT_EQ(created, 1) << "one node found the schema new";
  Result<pg::Connection> c = pg::Connection::open(url);
  ASSERT_OK(c.status());
  Result<pg::Rows> version =
      c->run_once("SELECT value FROM " + schema.name() + ".meta WHERE name = 'schema'");
  ASSERT_OK(version.status());
  EXPECT_EQ(version->integer(0, 0), pg::kSchemaVersion);
  Result<int> again = pg::migrate(*c, schema.name());
  ASSERT_OK(again.status());
  EXPECT_EQ(*again, pg::kSchemaVersion);
}

// A schema written by the previous release (3: the jobs indexed by state whatever it is)
// is migrated in place, its jobs kept and found through the new indexes.
TEST(PgSchema, ASchemaThreeIsMigratedKeepingItsJobs) {
  ORDO_PG_URL(url);
  PgScratchSchema old(url);
  Result<pg::Connection> c = pg::Connection::open(url);
  ASSERT_OK(c.status());
  ASSERT_OK(pg::migrate(*c, old.name()).status());
  const std::string s = old.name() + ".";
  ASSERT_OK(c->exec("DROP INDEX " + s + "jobs_ready; DROP INDEX " + s + "jobs_expiring; " +
                    "CREATE INDEX jobs_ready ON " + s + "jobs (state, key); " +
                    "CREATE INDEX jobs_expiring ON " + s + "jobs (state, lock_expires_at); " +
                    "ALTER TABLE " + s + "instances RESET (fillfactor); " +
                    "DROP INDEX " + s + "instances_key; DROP INDEX " + s + "instances_process; " +
                    "DROP TABLE " + s + "instance_counts; DROP TABLE " + s + "element_stats; " +
                    "DROP TABLE " + s + "instance_minutes; DROP TABLE " + s + "cycle_times; " +
                    "DROP TABLE " + s + "customer_orders; ALTER TABLE " + s +
                    "deliveries DROP COLUMN segment, " +
                    "DROP COLUMN experiment, DROP COLUMN variant; " +
                    "UPDATE " + s + "meta SET value = 3 WHERE name = 'schema'; " +
                    "INSERT INTO " + s + "jobs VALUES (7, 1, 1, 1, 'erp', 'created', 3, 0, 'k', " +
                    "'', NULL, 0)"));
  Result<int> from = pg::migrate(*c, old.name());
  ASSERT_OK(from.status());
  EXPECT_EQ(*from, 3);
  Result<pg::Rows> index = c->run_once(
      "SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'jobs_ready'",
      {old.name().c_str()});
  ASSERT_OK(index.status());
  ASSERT_EQ(index->size(), 1);
  EXPECT_NE(std::string(index->text(0, 0)).find("WHERE (state = 'created'::text)"),
            std::string::npos)
      << index->text(0, 0);
  Result<pg::Rows> ready =
      c->run_once("SELECT key FROM " + s + "jobs WHERE state = 'created' ORDER BY key");
  ASSERT_OK(ready.status());
  ASSERT_EQ(ready->size(), 1);
  EXPECT_EQ(ready->integer(0, 0), 7);
  Result<pg::Rows> options = c->run_once(
      "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = $1::regclass",
      {(s + "instances").c_str()});
  ASSERT_OK(options.status());
  EXPECT_EQ(std::string(options->text(0, 0)), "fillfactor=75");
}

// Another application's tables, or a schema of a newer Ordo: refused, nothing changed.
TEST(PgSchema, ForeignOrNewerSchemasAreRefusedUntouched) {
  ORDO_PG_URL(url);
  PgScratchSchema foreign(url);
  Result<pg::Connection> c = pg::Connection::open(url);
  ASSERT_OK(c.status());
  ASSERT_OK(c->exec("CREATE SCHEMA " + foreign.name() + "; CREATE TABLE " + foreign.name() +
                    ".orders (id int); INSERT INTO " + foreign.name() + ".orders VALUES (7)"));
  Result<int> refused = pg::migrate(*c, foreign.name());
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("not Ordo's"), std::string::npos)
      << refused.status().message();
  Result<pg::Rows> tables = c->run_once(
      "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1",
      {foreign.name().c_str()});
  ASSERT_OK(tables.status());
  EXPECT_EQ(tables->integer(0, 0), 1) << "nothing was created beside it";
  ASSERT_TRUE(c->ok());

  PgScratchSchema newer(url);
  ASSERT_OK(pg::migrate(*c, newer.name()).status());
  ASSERT_OK(c->exec("UPDATE " + newer.name() + ".meta SET value = 99 WHERE name = 'schema'"));
  Result<int> too_new = pg::migrate(*c, newer.name());
  ASSERT_FALSE(too_new.is_ok());
  EXPECT_EQ(too_new.status().code(), StatusCode::kConflict);
  EXPECT_NE(too_new.status().message().find("newer Ordo (schema 99"), std::string::npos)
      << too_new.status().message();

  EXPECT_EQ(pg::migrate(*c, "Robert'); DROP TABLE x; --").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(pg::check_schema_name("9lives").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(pg::check_schema_name("ordo_eu_1").is_ok());
}

TEST(PgUrl, PasswordsAreRedactedAndUrlsRecognised) {
  EXPECT_EQ(pg::redacted("postgresql://ordo:s3cret@db.example:5432/orders"),
            "postgresql://ordo:***@db.example:5432/orders");
  EXPECT_EQ(pg::redacted("postgres://db/orders?sslmode=require&password=s3cret&x=1"),
            "postgres://db/orders?sslmode=require&password=***&x=1");
  EXPECT_EQ(pg::redacted("postgresql://ordo@db/orders"), "postgresql://ordo@db/orders");
  EXPECT_EQ(pg::redacted("postgresql://db/a?mypassword=x"), "postgresql://db/a?mypassword=x");
  EXPECT_TRUE(pg::is_url("postgresql://db/orders"));
  EXPECT_TRUE(pg::is_url("postgres://db/orders"));
  EXPECT_FALSE(pg::is_url("orders.db"));
  EXPECT_FALSE(pg::is_url("/var/lib/postgresql/orders.db"));
}

// libpq quotes what it cannot parse of a URI, a password with a bare '%' for one: the
// message says what is wrong without it.
TEST(PgUrl, AnUnparsableUrlIsReportedWithoutItsPassword) {
  Result<pg::Connection> c = pg::Connection::open("postgresql://shop:50%off@127.0.0.1:1/orders");
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().message().find("50%off"), std::string::npos) << c.status().message();
  EXPECT_EQ(c.status().message().find("%off"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("***"), std::string::npos) << c.status().message();
}

// `schema=` is Ordo's parameter: taken out of the URL before libpq (which refuses it) sees
// it, wherever it stands among the others.
TEST(PgUrl, TheSchemaParameterIsTakenOutOfTheUrl) {
  auto check = [](std::string_view url, std::string_view rest,
                  std::optional<std::string> schema) {
    pg::SchemaInUrl got = pg::take_schema(url);
    EXPECT_EQ(got.url, rest) << url;
    EXPECT_EQ(got.schema, schema) << url;
  };
  check("postgresql://db/orders", "postgresql://db/orders", std::nullopt);
  check("postgresql://db/orders?schema=eu", "postgresql://db/orders", "eu");
  check("postgresql://db/orders?sslmode=require&schema=eu", "postgresql://db/orders?sslmode=require",
        "eu");
  check("postgresql://db/orders?schema=eu&sslmode=require", "postgresql://db/orders?sslmode=require",
        "eu");
  check("postgresql://db/o?a=1&schema=eu&b=2", "postgresql://db/o?a=1&b=2", "eu");
  check("postgresql://db/o?myschema=x", "postgresql://db/o?myschema=x", std::nullopt);
}

// A URL's schema is where Engine::open keeps the state: two schemas, two separate engines.
TEST(PgUrl, EngineOpenUsesTheSchemaTheUrlNames) {
  std::string why;
  const std::string& url = PgTestServer::url(why);
  ASSERT_FALSE(url.empty()) << why;
  const std::string sep = url.find('?') == std::string::npos ? "?" : "&";
  const std::string a = "pgurl_a_" + std::to_string(::getpid());
  const std::string b = "pgurl_b_" + std::to_string(::getpid());
  {
    auto first = Engine::open(url + sep + "schema=" + a);
    ASSERT_TRUE(first.is_ok()) << first.status().to_string();
    LoadResult r = load_bpmn(process("<startEvent id=\"s\"/><endEvent id=\"e\"/>"
                                     "<sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"e\"/>"),
                             "p.bpmn");
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE((*first)->deploy(r.document).is_ok());
    ASSERT_TRUE((*first)->start("p", {}, "K-1").is_ok());
    auto second = Engine::open(url + sep + "schema=" + b);
    ASSERT_TRUE(second.is_ok()) << second.status().to_string();
    EXPECT_TRUE(must((*second)->instances({})).empty());
    auto again = Engine::open(url + sep + "schema=" + a);
    ASSERT_TRUE(again.is_ok());
    EXPECT_EQ(must((*again)->instances({})).size(), 1u);
  }
  auto c = pg::Connection::open(url);
  ASSERT_TRUE(c.is_ok());
  EXPECT_TRUE(c->exec("DROP SCHEMA " + a + " CASCADE; DROP SCHEMA " + b + " CASCADE").is_ok());
}

}  // namespace
}  // namespace ordo::testing
