// A test harness for the runtime: an Engine on a virtual clock, a small vocabulary for
// writing BPMN in tests, and a handler that records which tasks ran.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ordo/engine.h"
#include "ordo/loader.h"
#include "store/pg_server.h"
#include "store/postgres/pq.h"
#include "test_util.h"

namespace ordo::testing {

// 2026-12-01T10:00:00Z
inline constexpr std::int64_t kEpoch = 1'796'119'200'000;

inline std::string flow(std::string_view from, std::string_view to,
                        std::string_view condition = {}) {
  std::string out = "<sequenceFlow id=\"" + std::string(from) + "-" + std::string(to) +
                    "\" sourceRef=\"" + std::string(from) + "\" targetRef=\"" + std::string(to) +
                    "\"";
  if (condition.empty()) return out + "/>\n";
  return out + "><conditionExpression>" + std::string(condition) +
         "</conditionExpression></sequenceFlow>\n";
}

// A service task whose job type is its id (unless `type` is given).
inline std::string svc(std::string_view id, std::string_view extra = {},
                       std::string_view type = {}) {
  return "<serviceTask id=\"" + std::string(id) +
         "\"><extensionElements><zeebe:taskDefinition type=\"" +
         std::string(type.empty() ? id : type) + "\"/>" + std::string(extra) +
         "</extensionElements></serviceTask>\n";
}

inline std::string message_def(std::string_view id, std::string_view name,
                               std::string_view key = "=orderId") {
  return "<message id=\"" + std::string(id) + "\" name=\"" + std::string(name) +
         "\"><extensionElements><zeebe:subscription correlationKey=\"" + std::string(key) +
         "\"/></extensionElements></message>\n";
}

// Options under which a failed job runs again at once (no backoff).
inline EngineOptions immediate_retries() {
  EngineOptions o;
  o.retry_backoff_ms = 0;
  return o;
}

// The stores an engine can keep its state in. The runtime suites run every test on each
// (ORDO_ON_EACH_STORE): an engine must behave the same, command for command, wherever its
// state lives.
enum class StoreKind { kMemory, kSqlite, kPostgres };

// The store the Harnesses of the running test use (memory unless the test says otherwise).
inline StoreKind& current_store() {
  static StoreKind kind = StoreKind::kMemory;
  return kind;
}

// A fixture mixin: the test's parameter is the store its Harnesses use. Set in the
// constructor, so a Harness that is a member of the fixture gets it too.
class StoreParam : public ::testing::WithParamInterface<StoreKind> {
 public:
  StoreParam() { current_store() = GetParam(); }
  ~StoreParam() { current_store() = StoreKind::kMemory; }
  StoreParam(const StoreParam&) = delete;
  StoreParam& operator=(const StoreParam&) = delete;
};

class OnEachStore : public ::testing::Test, public StoreParam {};

inline std::string store_name(const ::testing::TestParamInfo<StoreKind>& info) {
  switch (info.param) {
    case StoreKind::kMemory:
      return "Memory";
    case StoreKind::kSqlite:
      return "Sqlite";
    case StoreKind::kPostgres:
      return "Postgres";
  }
  return "Unknown";
}

#define ORDO_STORES_OF(Suite)                                                              \
  INSTANTIATE_TEST_SUITE_P(Stores, Suite,                                                   \
                           ::testing::Values(::ordo::testing::StoreKind::kMemory,           \
                                             ::ordo::testing::StoreKind::kSqlite,           \
                                             ::ordo::testing::StoreKind::kPostgres),        \
                           ::ordo::testing::store_name)

// Declares the suite `Suite` of TEST_P tests that run on each store.
#define ORDO_ON_EACH_STORE(Suite)                   \
  class Suite : public ::ordo::testing::OnEachStore {}; \
  ORDO_STORES_OF(Suite)

// An Engine on a virtual clock, in the store of the running test: on SQLite, a fresh
// database file, on PostgreSQL a fresh schema in the test server's database, both removed
// afterwards.
class Harness {
 public:
  explicit Harness(EngineOptions options = {}) : clock_(std::make_shared<VirtualClock>(kEpoch)) {
    options.clock = clock_;
    static int counter = 0;
    ++counter;
    std::string location;
    switch (current_store()) {
      case StoreKind::kMemory:
        engine_ = std::make_unique<Engine>(std::move(options));
        return;
      case StoreKind::kSqlite:
        db_path_ = (std::filesystem::temp_directory_path() /
                    ("ordo-harness-" + std::to_string(::getpid()) + "-" +
                     std::to_string(counter) + ".db"))
                       .string();
        options.synchronous_full = false;
        location = db_path_;
        break;
      case StoreKind::kPostgres: {
        std::string why;
        pg_url_ = PgTestServer::url(why);
        if (pg_url_.empty()) ADD_FAILURE() << why;
        pg_schema_ = "harness_" + std::to_string(::getpid()) + "_" + std::to_string(counter);
        options.database_schema = pg_schema_;
        location = pg_url_;
        break;
      }
    }
    location_ = location;
    options_ = options;
    auto opened = Engine::open(location, std::move(options));
    if (!opened) {
      ADD_FAILURE() << opened.status().to_string();
      engine_ = std::make_unique<Engine>();
      return;
    }
    engine_ = std::move(*opened);
  }
  ~Harness() {
    engine_.reset();
    if (!pg_url_.empty()) {
      if (auto c = store::pg::Connection::open(pg_url_)) {
        (void)c->exec("DROP SCHEMA IF EXISTS " + pg_schema_ + " CASCADE");
      }
    }
    if (!db_path_.empty()) {
      for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db_path_ + suffix).c_str());
    }
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  Engine& engine() { return *engine_; }
  VirtualClock& clock() { return *clock_; }
  // Whether the engine keeps its state in a database (not in memory).
  bool durable() const { return !location_.empty(); }
  // Closes the engine and opens its database again, as a restart does.
  void reopen() {
    engine_.reset();
    auto opened = Engine::open(location_, options_);
    if (!opened) {
      ADD_FAILURE() << opened.status().to_string();
      engine_ = std::make_unique<Engine>();
      return;
    }
    engine_ = std::move(*opened);
  }

  // Deploys XML; the test fails with the diagnostics if it does not load.
  void deploy(const std::string& xml) {
    LoadResult r = load_bpmn(xml, "test.bpmn");
    ASSERT_TRUE(r.ok()) << dump(r);
    auto d = engine_->deploy(r.document);
    ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  }

  // Process "child": start -> service task "t" -> end; process "p": start -> call activity
  // "call" (calling "child") -> end.
  void deploy_call_child() {
    deploy(bpmn("<process id=\"child\" isExecutable=\"true\">" + straight(svc("t")) +
                "</process>"));
    deploy(process(straight(
        "<callActivity id=\"call\"><extensionElements><zeebe:calledElement "
        "processId=\"child\"/></extensionElements></callActivity>",
        "call")));
  }

  InstanceId start(std::string_view process_id = "p",
                   nlohmann::json vars = nlohmann::json::object()) {
    auto id = engine_->start(process_id, std::move(vars));
    EXPECT_TRUE(id.is_ok()) << id.status().to_string();
    return id.is_ok() ? id->id : 0;
  }

  // Every job is completed by a fallback handler that records its element id.
  void complete_all_jobs(nlohmann::json result = nlohmann::json::object()) {
    engine_->set_fallback_handler([this, result](const Job& job) {
      calls.emplace_back(job.element_id());
      return JobOutcome::complete(result);
    });
  }

  InstanceInfo info(InstanceId id) {
    auto r = engine_->instance(id);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : InstanceInfo{};
  }

  // Element ids alive in the instance, in activation order.
  std::vector<std::string> active(InstanceId id) {
    std::vector<std::string> out;
    for (const ElementInfo& e : info(id).elements) out.push_back(e.element_id);
    return out;
  }

  std::vector<std::string> open_job_elements() {
    std::vector<std::string> out;
    for (const JobInfo& j : must(engine_->open_jobs())) out.push_back(j.element_id);
    return out;
  }

  JobKey job_of(std::string_view element_id) {
    for (const JobInfo& j : must(engine_->open_jobs())) {
      if (j.element_id == element_id) return j.key;
    }
    ADD_FAILURE() << "no open job for " << element_id;
    return 0;
  }
  // The open job of instance `instance` at `element_id`.
  JobKey job_of(std::string_view element_id, InstanceId instance) {
    for (const JobInfo& j : must(engine_->open_jobs())) {
      if (j.element_id == element_id && j.instance == instance) return j.key;
    }
    ADD_FAILURE() << "no open job for " << element_id << " of instance " << instance;
    return 0;
  }

  // Element ids of the history events of `kind`.
  std::vector<std::string> history(InstanceId id, HistoryKind kind) {
    std::vector<std::string> out;
    for (const HistoryEvent& e : must(engine_->history(id))) {
      if (e.kind == kind) out.emplace_back(e.element_id);
    }
    return out;
  }

  std::vector<std::string> calls;

 private:
  std::shared_ptr<VirtualClock> clock_;
  std::unique_ptr<Engine> engine_;
  std::string db_path_;
  std::string location_;  // the database Engine::open was given; empty in memory
  EngineOptions options_;
  std::string pg_url_;     // PostgreSQL: the server, and the schema of this Harness
  std::string pg_schema_;
};

using Ids = std::vector<std::string>;

}  // namespace ordo::testing
