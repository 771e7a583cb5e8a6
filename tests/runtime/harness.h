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

// With ORDO_TEST_DURABLE set, every Harness runs on a fresh SQLite database (removed
// afterwards): the whole runtime suite then checks that the durable engine behaves as the
// in-memory one, command for command (ctest runs the suite both ways).
class Harness {
 public:
  explicit Harness(EngineOptions options = {}) : clock_(std::make_shared<VirtualClock>(kEpoch)) {
    options.clock = clock_;
    if (const char* d = std::getenv("ORDO_TEST_DURABLE"); d != nullptr && *d != 0) {
      static int counter = 0;
      db_path_ = (std::filesystem::temp_directory_path() /
                  ("ordo-harness-" + std::to_string(::getpid()) + "-" +
                   std::to_string(++counter) + ".db"))
                     .string();
      options.synchronous_full = false;
      auto opened = Engine::open(db_path_, std::move(options));
      if (!opened) {
        ADD_FAILURE() << opened.status().to_string();
        engine_ = std::make_unique<Engine>();
        return;
      }
      engine_ = std::move(*opened);
      return;
    }
    engine_ = std::make_unique<Engine>(std::move(options));
  }
  ~Harness() {
    engine_.reset();
    if (!db_path_.empty()) {
      for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db_path_ + suffix).c_str());
    }
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  Engine& engine() { return *engine_; }
  VirtualClock& clock() { return *clock_; }

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
    return id.is_ok() ? *id : 0;
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
    for (const JobInfo& j : engine_->open_jobs()) out.push_back(j.element_id);
    return out;
  }

  JobKey job_of(std::string_view element_id) {
    for (const JobInfo& j : engine_->open_jobs()) {
      if (j.element_id == element_id) return j.key;
    }
    ADD_FAILURE() << "no open job for " << element_id;
    return 0;
  }

  // Element ids of the history events of `kind`.
  std::vector<std::string> history(InstanceId id, HistoryKind kind) {
    std::vector<std::string> out;
    for (const HistoryEvent& e : engine_->history(id)) {
      if (e.kind == kind) out.emplace_back(e.element_id);
    }
    return out;
  }

  std::vector<std::string> calls;

 private:
  std::shared_ptr<VirtualClock> clock_;
  std::unique_ptr<Engine> engine_;
  std::string db_path_;
};

using Ids = std::vector<std::string>;

}  // namespace ordo::testing
