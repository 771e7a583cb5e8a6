// `ordo serve` as a user runs it: a real process, real HTTP on loopback, SIGTERM to stop.
#include <gtest/gtest.h>
#include <httplib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include "durability/durability_util.h"
#include "e2e/served.h"
#include "peers/http_peer.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// --simulate: the simulated order world answers every job (asked for explicitly).
TEST(Serve, OrdersStartedOverHttpRunToTheirEndAndMessagesAreIdempotent) {
  TempDir dir("serve");
  Served served(dir, {"--db", dir.path("orders.db"), "--simulate"});
  ASSERT_GT(served.port(), 0) << served.output();
  httplib::Client http("127.0.0.1", served.port());
  auto health = http.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto deployed =
      http.Post("/v1/deployments", read_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn"),
                "application/xml");
  ASSERT_TRUE(deployed);
  ASSERT_EQ(deployed->status, 201) << deployed->body;
  constexpr int kOrders = 40;
  for (int i = 0; i < kOrders; ++i) {
    const std::string id = "H-" + std::to_string(i);
    json start = {
        {"processId", "order-acceptance"},
        {"businessKey", id},
        {"variables", {{"orderId", id}, {"paymentDelayMinutes", 0}, {"deliveryDays", 0}}}};
    auto r = http.Post("/v1/process-instances", start.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
  }
  // The worker inside `ordo serve` takes them to their end.
  int completed = 0;
  for (int i = 0; i < 300 && completed < kOrders; ++i) {
    std::this_thread::sleep_for(50ms);
    auto list = http.Get("/v1/process-instances?state=completed&limit=1000");
    ASSERT_TRUE(list);
    completed = static_cast<int>(json::parse(list->body)["instances"].size());
  }
  EXPECT_EQ(completed, kOrders);
  auto one = http.Get("/v1/process-instances?businessKey=H-7");
  ASSERT_TRUE(one);
  const json found = json::parse(one->body)["instances"];
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]["endEvent"], "end-delivered");

  const std::string msg = json{
      {"name", "order-delivered"},
      {"correlationKey", "nobody"},
      {"messageId", "m-1"},
      {"timeToLive", "PT1M"}}.dump();
  auto first = http.Post("/v1/messages", msg, "application/json");
  auto second = http.Post("/v1/messages", msg, "application/json");
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(json::parse(first->body)["buffered"].get<bool>());
  EXPECT_TRUE(json::parse(second->body)["duplicate"].get<bool>());
  auto bad = http.Post("/v1/process-instances", "{\"processId\": 1}", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  EXPECT_EQ(served.stop(), 0);
  EXPECT_NE(served.output().find("ordo serve: stopped"), std::string::npos) << served.output();
}

// An external worker over real HTTP does the availability checks (left to it in ordo.json);
// the worker inside `ordo serve` does the rest with the simulated handlers (--simulate).
TEST(Serve, AnExternalWorkerFetchesLocksAndAnswersOverHttp) {
  TempDir dir("serve-external");
  std::ofstream(dir.path("ordo.json"))
      << R"({"adapters": {"erp.check-availability": {"adapter": "external"}}})";
  Served served(dir, {"--db", dir.path("orders.db"), "--config", dir.path("ordo.json"),
                      "--simulate"});
  ASSERT_GT(served.port(), 0) << served.output();
  httplib::Client http("127.0.0.1", served.port());
  http.set_read_timeout(30, 0);
  auto deployed =
      http.Post("/v1/deployments", read_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn"),
                "application/xml");
  ASSERT_TRUE(deployed && deployed->status == 201);
  constexpr int kOrders = 6;
  for (int i = 0; i < kOrders; ++i) {
    const std::string id = "X-" + std::to_string(i);
    json start = {
        {"processId", "order-acceptance"},
        {"businessKey", id},
        {"variables", {{"orderId", id}, {"paymentDelayMinutes", 0}, {"deliveryDays", 0}}}};
    auto r = http.Post("/v1/process-instances", start.dump(), "application/json");
    ASSERT_TRUE(r && r->status == 201);
  }
  // The built-in worker leaves them alone: they wait, unlocked, for an external worker.
  std::this_thread::sleep_for(300ms);
  auto open = http.Get("/v1/jobs?type=erp.check-availability");
  ASSERT_TRUE(open);
  const json waiting = json::parse(open->body)["jobs"];
  ASSERT_EQ(waiting.size(), static_cast<std::size_t>(kOrders)) << open->body;
  for (const json& j : waiting) EXPECT_EQ(j["state"], "created") << j.dump();

  // The worker: long polls, fails the first job once (retried after its backoff), completes
  // everything else.
  bool failed_once = false;
  int answered = 0;
  for (int round = 0; round < 50 && answered < kOrders; ++round) {
    const json ask = {{"workerId", "erp-bridge"},
                      {"types", json::array({"erp.check-availability"})},
                      {"maxJobs", 4},
                      {"lockDuration", "PT30S"},
                      {"requestTimeout", "PT2S"}};
    auto got = http.Post("/v1/jobs/fetch-and-lock", ask.dump(), "application/json");
    ASSERT_TRUE(got);
    ASSERT_EQ(got->status, 200) << got->body;
    const json fetched = json::parse(got->body);
    for (const json& job : fetched["jobs"]) {
      EXPECT_EQ(job["variables"]["orderId"], job["businessKey"]);
      const std::string path = "/v1/jobs/" + std::to_string(job["key"].get<std::uint64_t>());
      if (!failed_once) {
        failed_once = true;
        const json fail = {
            {"workerId", "erp-bridge"}, {"errorMessage", "ERP busy"}, {"retryBackoff", "PT0.2S"}};
        auto r = http.Post(path + "/fail", fail.dump(), "application/json");
        ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
        continue;
      }
      const json done = {{"workerId", "erp-bridge"}, {"variables", {{"available", true}}}};
      auto r = http.Post(path + "/complete", done.dump(), "application/json");
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << r->body;
      ++answered;
    }
  }
  ASSERT_EQ(answered, kOrders) << "every order's check, the failed one after its retry";

  int delivered = 0;
  for (int i = 0; i < 300 && delivered < kOrders; ++i) {
    std::this_thread::sleep_for(50ms);
    auto list = http.Get("/v1/process-instances?state=completed&limit=1000");
    ASSERT_TRUE(list);
    delivered = 0;
    const json listed = json::parse(list->body);
    for (const json& inst : listed["instances"]) {
      delivered += inst["endEvent"] == "end-delivered";
    }
  }
  EXPECT_EQ(delivered, kOrders);
  EXPECT_EQ(served.stop(), 0);
}

// A KPI rule over open incidents: an incident fires the alert webhook once, resolving it
// posts "resolved" once; /metrics shows the rule, /health/ready the running worker.
TEST(Serve, AnIncidentCrossingAKpiThresholdAlertsOnceAndResolvesOnce) {
  HttpPeer ops;
  std::mutex mu;
  std::vector<json> alerts;
  ops.server().Post("/alerts", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    alerts.push_back(json::parse(req.body));
    res.set_content("{}", "application/json");
  });
  const auto received = [&] {
    std::lock_guard lock(mu);
    return alerts;
  };
  TempDir dir("serve-kpi");
  const json config = {
      {"adapters", {{"erp.check-availability", {{"adapter", "external"}}}}},
      {"server",
       {{"alerts",
         {{"interval", "PT1S"},
          {"webhook", {{"url", ops.url("/alerts")}}},
          {"rules",
           json::array({{{"name", "incidents"}, {"kind", "incidents"}, {"above", 0}}})}}}}}};
  std::ofstream(dir.path("ordo.json")) << config.dump();
  Served served(dir, {"--db", dir.path("orders.db"), "--config", dir.path("ordo.json")});
  ASSERT_GT(served.port(), 0) << served.output();
  httplib::Client http("127.0.0.1", served.port());
  auto ready = http.Get("/health/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  auto deployed =
      http.Post("/v1/deployments", read_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn"),
                "application/xml");
  ASSERT_TRUE(deployed && deployed->status == 201);
  const json start = {{"processId", "order-acceptance"},
                      {"businessKey", "K-1"},
                      {"variables", {{"orderId", "K-1"}}}};
  ASSERT_EQ(http.Post("/v1/process-instances", start.dump(), "application/json")->status, 201);
  const json ask = {{"workerId", "erp-bridge"},
                    {"types", json::array({"erp.check-availability"})},
                    {"requestTimeout", "PT5S"}};
  auto got = http.Post("/v1/jobs/fetch-and-lock", ask.dump(), "application/json");
  ASSERT_TRUE(got && got->status == 200);
  const json jobs = json::parse(got->body)["jobs"];
  ASSERT_EQ(jobs.size(), 1u) << got->body;
  const std::string job = std::to_string(jobs[0]["key"].get<std::uint64_t>());
  const json fail = {{"workerId", "erp-bridge"}, {"errorMessage", "ERP gone"}, {"retries", 0}};
  ASSERT_EQ(http.Post("/v1/jobs/" + job + "/fail", fail.dump(), "application/json")->status, 200);

  for (int i = 0; i < 200 && received().empty(); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_EQ(received().size(), 1u) << "the crossing is posted";
  EXPECT_EQ(received()[0]["rule"], "incidents");
  EXPECT_EQ(received()[0]["state"], "firing");
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("ordo_kpi_firing{rule=\"incidents\"} 1"), std::string::npos)
      << metrics->body;
  EXPECT_NE(
      metrics->body.find("ordo_jobs_total{type=\"erp.check-availability\",outcome=\"failed\"} 1"),
      std::string::npos)
      << metrics->body;
  std::this_thread::sleep_for(2500ms);  // two more evaluations, still breached
  EXPECT_EQ(received().size(), 1u) << "once per crossing, not once per evaluation";

  auto incidents = http.Get("/v1/incidents");
  ASSERT_TRUE(incidents);
  const std::string key =
      std::to_string(json::parse(incidents->body)["incidents"][0]["key"].get<std::uint64_t>());
  ASSERT_EQ(http.Post("/v1/incidents/" + key + "/resolve", "{}", "application/json")->status, 200);
  for (int i = 0; i < 200 && received().size() < 2; ++i) std::this_thread::sleep_for(50ms);
  ASSERT_EQ(received().size(), 2u);
  EXPECT_EQ(received()[1]["state"], "resolved");
  EXPECT_EQ(served.stop(), 0);
}

// --log-format json: every line of the output is one JSON object, and the lines about an
// instance carry its id and business key.
TEST(Serve, JsonLogsAreOneObjectPerLineWithTheBusinessKey) {
  TempDir dir("serve-logs");
  Served served(dir, {"--db", dir.path("orders.db"), "--log-format", "json", "--simulate"});
  ASSERT_GT(served.port(), 0) << served.output();
  httplib::Client http("127.0.0.1", served.port());
  auto deployed =
      http.Post("/v1/deployments", read_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn"),
                "application/xml");
  ASSERT_TRUE(deployed && deployed->status == 201);
  const json start = {
      {"processId", "order-acceptance"},
      {"businessKey", "shop-7:L-1"},  // not the order id: messages still find the order
      {"variables", {{"orderId", "L-1"}, {"paymentDelayMinutes", 0}, {"deliveryDays", 0}}}};
  ASSERT_EQ(http.Post("/v1/process-instances", start.dump(), "application/json")->status, 201);
  for (int i = 0; i < 200; ++i) {
    auto list = http.Get("/v1/process-instances?state=completed");
    ASSERT_TRUE(list);
    if (!json::parse(list->body)["instances"].empty()) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(served.stop(), 0);
  const std::string text = served.output();
  std::size_t lines = 0, completed = 0;
  for (const std::string& line : split(text, '\n')) {
    if (line.empty()) continue;
    const json entry = json::parse(line, nullptr, false);
    ASSERT_FALSE(entry.is_discarded()) << "not JSON: " << line;
    EXPECT_TRUE(entry.contains("time") && entry.contains("level") && entry.contains("message"))
        << line;
    ++lines;
    if (entry["message"] == "instance completed") {
      ++completed;
      EXPECT_EQ(entry["businessKey"], "shop-7:L-1");
      EXPECT_EQ(entry["instance"], 1);
      EXPECT_EQ(entry["element"], "end-delivered");
    }
  }
  EXPECT_GE(lines, 3u) << text;  // listening, the instance's lines, stopped
  EXPECT_EQ(completed, 1u) << text;
}

// The shipped examples/ordo.json, every adapter and the server section, with its secrets
// in the environment: `ordo serve` starts on it, every job type of the order process has its
// adapter (or is left to external workers), and the tokens it names are enforced.
TEST(Serve, StartsOnTheShippedExampleConfig) {
  TempDir dir("serve-example-config");
  ::setenv("ORDO_DATA", dir.path("").c_str(), 1);
  for (const char* name : {"ERP_TOKEN", "PSP_TOKEN", "SMTP_PASSWORD", "SMS_TOKEN", "PUSH_TOKEN",
                           "ORDO_WAREHOUSE_TOKEN", "ORDO_OPS_TOKEN", "PSP_WEBHOOK_SECRET",
                           "SMS_WEBHOOK_SECRET", "ALERT_SECRET"}) {
    ::setenv(name, (std::string(name) + "-0123456789abcdef").c_str(), 1);
  }
  const std::string token = "backend-0123456789abcdef";
  ::setenv("ORDO_BACKEND_TOKEN", token.c_str(), 1);
  Served served(dir, {"--db", dir.path("orders.db"), "--config",
                      ORDO_SOURCE_DIR "/examples/ordo.json"});
  ASSERT_GT(served.port(), 0) << served.output();
  httplib::Client http("127.0.0.1", served.port());
  auto anonymous = http.Post("/v1/deployments", "<x/>", "application/xml");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  http.set_bearer_token_auth(token);
  auto deployed =
      http.Post("/v1/deployments", read_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn"),
                "application/xml");
  ASSERT_TRUE(deployed);
  ASSERT_EQ(deployed->status, 201) << deployed->body;
  auto ready = http.Get("/health/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  EXPECT_EQ(json::parse(ready->body)["unhandledJobTypes"], json::array()) << ready->body;
  EXPECT_EQ(served.stop(), 0);
  // Nothing was reported as unused or unhandled.
  EXPECT_EQ(served.output().find("warn"), std::string::npos) << served.output();
  for (const char* name : {"ORDO_DATA", "ERP_TOKEN", "PSP_TOKEN", "SMTP_PASSWORD", "SMS_TOKEN",
                           "PUSH_TOKEN", "ORDO_BACKEND_TOKEN", "ORDO_WAREHOUSE_TOKEN",
                           "ORDO_OPS_TOKEN", "PSP_WEBHOOK_SECRET", "SMS_WEBHOOK_SECRET",
                           "ALERT_SECRET"}) {
    ::unsetenv(name);
  }
}

// Without --simulate nothing is made up: a job whose type has no adapter (here a misspelt
// one) waits, visible to external workers, and both types are named in the log once, in
// /health/ready and in /metrics; a later deployment's new types are reported as it lands.
TEST(Serve, AJobWithoutAnAdapterWaitsAndItsTypeIsReported) {
  TempDir dir("serve-unhandled");
  json adapters = json::object();
  for (const char* type : {"erp.check-availability", "erp.reserve", "erp.release",
                           "erp.handover", "erp.ship", "notify.send", "payment.cancel",
                           "payment.charges"}) {
    adapters[type] = {{"adapter", "simulated"}};
  }
  std::ofstream(dir.path("ordo.json")) << json{{"adapters", adapters}}.dump();
  Served served(dir, {"--db", dir.path("orders.db"), "--config", dir.path("ordo.json")});
  ASSERT_GT(served.port(), 0) << served.output();
  httplib::Client http("127.0.0.1", served.port());
  auto deployed =
      http.Post("/v1/deployments", read_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn"),
                "application/xml");
  ASSERT_TRUE(deployed && deployed->status == 201);
  const json start = {{"processId", "order-acceptance"},
                      {"businessKey", "U-1"},
                      {"variables", {{"orderId", "U-1"}, {"paymentDelayMinutes", 0}}}};
  auto started = http.Post("/v1/process-instances", start.dump(), "application/json");
  ASSERT_TRUE(started && started->status == 201);
  const std::uint64_t id = json::parse(started->body)["id"];

  // The charge waits, unlocked, for an external worker; no payment id is made up.
  json jobs;
  for (int i = 0; i < 200 && jobs.empty(); ++i) {
    std::this_thread::sleep_for(50ms);
    auto open = http.Get("/v1/jobs?type=payment.charge");
    ASSERT_TRUE(open);
    jobs = json::parse(open->body)["jobs"];
  }
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["state"], "created") << jobs.dump();
  std::this_thread::sleep_for(500ms);
  auto shown = http.Get("/v1/process-instances/" + std::to_string(id));
  ASSERT_TRUE(shown);
  const json instance = json::parse(shown->body);
  EXPECT_EQ(instance["state"], "active") << shown->body;
  EXPECT_FALSE(instance["variables"].contains("paymentId")) << shown->body;
  auto still = http.Get("/v1/jobs?type=payment.charge");
  ASSERT_TRUE(still);
  EXPECT_EQ(json::parse(still->body)["jobs"].size(), 1u) << still->body;

  auto ready = http.Get("/health/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(json::parse(ready->body)["unhandledJobTypes"], json::array({"payment.charge"}))
      << ready->body;
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("\nordo_job_types_unhandled 1\n"), std::string::npos)
      << metrics->body;

  // A new process with a type nobody handles: reported on its deployment.
  const std::string other = process(
      straight("<serviceTask id=\"label\"><extensionElements><zeebe:taskDefinition "
               "type=\"warehouse.print-label\"/></extensionElements></serviceTask>",
               "label"),
      "labels");
  auto second = http.Post("/v1/deployments", other, "application/xml");
  ASSERT_TRUE(second && second->status == 201) << (second ? second->body : "");
  auto ready_again = http.Get("/health/ready");
  ASSERT_TRUE(ready_again);
  EXPECT_EQ(json::parse(ready_again->body)["unhandledJobTypes"],
            json::array({"payment.charge", "warehouse.print-label"}))
      << ready_again->body;

  EXPECT_EQ(served.stop(), 0);
  const std::string log = served.output();
  const auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("job type 'payment.charge' (process 'order-acceptance' version 1, element "
                  "'charge-payment' at "),
            1u)
      << log;
  EXPECT_EQ(count("adapters.payment.charges: no deployed process has a job of this type; did "
                  "you mean 'payment.charge'?"),
            1u)
      << log;
  EXPECT_EQ(count("job type 'warehouse.print-label'"), 1u) << log;
}

TEST(Serve, WithoutTokensItListensOnLoopbackOnlyAndTokensAreRequiredWhenConfigured) {
  TempDir dir("serve-auth");
  ProcessRun refused = run_ordo({"serve", "--db", dir.path("a.db"), "--listen", "0.0.0.0:0"});
  EXPECT_EQ(refused.exit_code, 1);
  {
    std::ofstream(dir.path("ordo.json"))
        << R"({"server": {"tokens": [{"token": "t0k3n-for-the-serve-test", "scopes": ["read"]}]}})";
  }
  Served served(dir, {"--db", dir.path("a.db"), "--config", dir.path("ordo.json")});
  ASSERT_GT(served.port(), 0) << served.output();
  httplib::Client http("127.0.0.1", served.port());
  auto anonymous = http.Get("/v1/incidents");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  auto reader = http.Get("/v1/incidents", {{"Authorization", "Bearer t0k3n-for-the-serve-test"}});
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->status, 200);
  auto write = http.Post("/v1/messages", {{"Authorization", "Bearer t0k3n-for-the-serve-test"}},
                         "{}", "application/json");
  ASSERT_TRUE(write);
  EXPECT_EQ(write->status, 403);
}

}  // namespace
}  // namespace ordo::testing

namespace ordo::testing {
namespace {

// Another process holds the database's write lock longer than the busy timeout: the
// built-in worker backs off and tries again instead of ending the server (it exited 1).
// /health/ready says what is wrong meanwhile, and all is well again once the lock is gone.
TEST(Serve, TheWorkerOutlastsADatabaseLockedByAnotherProcess) {
  TempDir dir("serve-locked");
  const std::string db = dir.path("orders.db");
  Served served(dir, {"--db", db, "--simulate"});
  ASSERT_GT(served.port(), 0) << served.output();
  httplib::Client http("127.0.0.1", served.port());
  http.set_read_timeout(30, 0);

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &other), SQLITE_OK);
  sqlite3_busy_timeout(other, 10'000);  // the worker may be in a transaction of its own
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::string seen;  // the readiness answer while locked
  const auto until = std::chrono::steady_clock::now() + 12s;
  while (seen.empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(200ms);
    auto ready = http.Get("/health/ready");
    if (ready && ready->status == 503 &&
        ready->body.find("cannot use the database") != std::string::npos) {
      seen = ready->body;
    }
  }
  sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_FALSE(seen.empty()) << "readiness never reported the locked database\n"
                             << served.output();
  EXPECT_NE(seen.find("locked"), std::string::npos) << seen;

  int status = 0;
  for (int i = 0; i < 150 && status != 200; ++i) {
    std::this_thread::sleep_for(100ms);
    auto ready = http.Get("/health/ready");
    ASSERT_TRUE(ready) << "the server is gone\n" << served.output();
    status = ready->status;
  }
  EXPECT_EQ(status, 200) << served.output();
  EXPECT_NE(served.output().find("retrying"), std::string::npos) << served.output();
  EXPECT_EQ(served.stop(), 0) << served.output();
}

// ordo serve on PostgreSQL whose server goes away mid-run: /health/ready and the requests
// that need the database answer 503 (the server stays up, nothing is half done), and once
// the database is back the node goes on by itself: the order started before finishes, and
// new ones are taken.
TEST(Serve, ANodeThatLosesItsPostgresqlAnswers503AndRecoversByItself) {
  TempDir dir("serve-pg-lost");
  OwnPgServer pg(dir.path("pg"));
  const std::string& url = pg.url();
  ASSERT_FALSE(url.empty()) << pg.why();
  std::string why;
  Served served(dir, {"--db", url + "?schema=shop", "--simulate"});
  ASSERT_GT(served.port(), 0) << served.output();
  httplib::Client http("127.0.0.1", served.port());
  http.set_read_timeout(30, 0);
  auto deployed =
      http.Post("/v1/deployments", read_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn"),
                "application/xml");
  ASSERT_TRUE(deployed);
  ASSERT_EQ(deployed->status, 201) << deployed->body;
  auto start = [&](const std::string& key) {
    json body = {{"processId", "order-acceptance"},
                 {"businessKey", key},
                 {"variables", {{"orderId", key}, {"paymentDelayMinutes", 0}, {"deliveryDays", 0}}}};
    return http.Post("/v1/process-instances", body.dump(), "application/json");
  };
  auto completed = [&]() -> int {
    auto list = http.Get("/v1/process-instances?state=completed&limit=100");
    if (!list || list->status != 200) return -1;
    return static_cast<int>(json::parse(list->body)["instances"].size());
  };
  auto first = start("L-1");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 201) << first->body;
  int done = 0;
  for (int i = 0; i < 300 && done < 1; ++i) {
    std::this_thread::sleep_for(50ms);
    done = completed();
  }
  ASSERT_EQ(done, 1) << served.output();

  ASSERT_TRUE(pg.pause(why)) << why;
  std::string ready_body;
  for (int i = 0; i < 200 && ready_body.empty(); ++i) {
    std::this_thread::sleep_for(100ms);
    auto ready = http.Get("/health/ready");
    ASSERT_TRUE(ready) << "the server is gone\n" << served.output();
    if (ready->status == 503) ready_body = ready->body;
  }
  EXPECT_NE(ready_body.find("PostgreSQL"), std::string::npos)
      << ready_body << "\n" << served.output();
  auto refused = start("L-2");
  ASSERT_TRUE(refused) << "the server is gone\n" << served.output();
  EXPECT_EQ(refused->status, 503) << refused->body;
  EXPECT_EQ(refused->body.find(url.substr(url.find(':', 13) + 1, 10)), std::string::npos)
      << "the password is in the answer: " << refused->body;
  auto health = http.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  ASSERT_TRUE(pg.resume(why)) << why;
  int ready_status = 0;
  for (int i = 0; i < 300 && ready_status != 200; ++i) {
    std::this_thread::sleep_for(100ms);
    auto ready = http.Get("/health/ready");
    ASSERT_TRUE(ready);
    ready_status = ready->status;
  }
  EXPECT_EQ(ready_status, 200) << served.output();
  auto again = start("L-2");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 201) << again->body;
  for (int i = 0; i < 300 && done < 2; ++i) {
    std::this_thread::sleep_for(50ms);
    done = completed();
  }
  EXPECT_EQ(done, 2) << served.output();
  EXPECT_EQ(served.stop(), 0) << served.output();
}

// A worker whose database goes away while a handler runs: the handler's outcome cannot be
// committed, and the call fails. Once the database is back, the next call applies it first:
// the job is not run again (its side effect is not asked for twice) and does not wait for
// its lock to run out. Before, the outcome was dropped and the job waited five minutes.
TEST(Serve, AWorkerCutOffFromPostgresqlAppliesWhatItsHandlerDidOnceTheDatabaseIsBack) {
  TempDir dir("worker-pg-cut");
  OwnPgServer pg(dir.path("pg"));
  const std::string& url = pg.url();
  ASSERT_FALSE(url.empty()) << pg.why();
  std::string why;
  auto opened = Engine::open(url + "?schema=cut");
  ASSERT_OK(opened.status());
  Engine& engine = **opened;
  auto loaded = load_bpmn(R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" targetNamespace="t">
  <process id="charge" isExecutable="true">
    <startEvent id="s"/>
    <serviceTask id="take-payment"><extensionElements>
      <zeebe:taskDefinition type="charge"/></extensionElements></serviceTask>
    <endEvent id="charged"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="take-payment"/>
    <sequenceFlow id="f2" sourceRef="take-payment" targetRef="charged"/>
  </process>
</definitions>)");
  ASSERT_TRUE(loaded.ok());
  ASSERT_OK(engine.deploy(loaded.document).status());
  auto started = engine.start("charge", {{"orderId", "P-1"}}, "P-1");
  ASSERT_OK(started.status());
  std::atomic<int> charges{0};
  engine.register_handler("charge", [&](const Job&) {
    // The database goes away while the payment is taken.
    if (++charges == 1) {
      std::string ignored;
      (void)pg.pause(ignored);
    }
    return JobOutcome::complete({{"charged", true}});
  });
  WorkOptions once;
  once.threads = 1;
  auto cut = engine.work(once);
  EXPECT_FALSE(cut.is_ok()) << "the outcome could not have been committed";
  ASSERT_TRUE(pg.resume(why)) << why;
  Result<std::size_t> worked = Status::io_error("not yet");
  for (int i = 0; i < 100 && !worked.is_ok(); ++i) {
    worked = engine.work(once);
    if (!worked.is_ok()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_OK(worked.status());
  auto instance = engine.instance(started->id);
  ASSERT_OK(instance.status());
  EXPECT_EQ(instance->state, InstanceState::kCompleted);
  EXPECT_EQ(instance->end_event, "charged");
  EXPECT_EQ(instance->variables["charged"], true);
  EXPECT_EQ(charges.load(), 1) << "the payment was taken again";
}

// An order whose stored row is damaged: the server's worker holds it with a `damaged`
// incident (logged like any incident) and takes every other order to its end; the next
// start does not fail on it again. Before, the worker's error ended the server, at every
// start.
TEST(Serve, ADamagedOrderIsHeldAsAnIncidentAndTheOthersGoOn) {
  TempDir dir("serve-damaged");
  const std::string db = dir.path("orders.db");
  std::vector<std::string> ids;
  {
    // Without --simulate the jobs wait for adapters that are not there.
    Served waiting(dir, {"--db", db});
    ASSERT_GT(waiting.port(), 0) << waiting.output();
    httplib::Client http("127.0.0.1", waiting.port());
    auto deployed =
        http.Post("/v1/deployments", read_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn"),
                  "application/xml");
    ASSERT_TRUE(deployed);
    ASSERT_EQ(deployed->status, 201) << deployed->body;
    for (const char* key : {"D-1", "D-2", "D-3"}) {
      json start = {{"processId", "order-acceptance"},
                    {"businessKey", key},
                    {"variables", {{"orderId", key}, {"paymentDelayMinutes", 0}, {"deliveryDays", 0}}}};
      auto r = http.Post("/v1/process-instances", start.dump(), "application/json");
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 201) << r->body;
      ids.push_back(json::parse(r->body)["id"].dump());
    }
    ASSERT_EQ(waiting.stop(), 0) << waiting.output();
  }
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
    const std::string sql = "UPDATE instances SET runtime = '{\"elements\": 3}' WHERE id = " + ids[1];
    ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
  }
  for (int start = 0; start < 2; ++start) {
    Served served(dir, {"--db", db, "--simulate"});
    ASSERT_GT(served.port(), 0) << served.output();
    httplib::Client http("127.0.0.1", served.port());
    int completed = 0;
    for (int i = 0; i < 300 && completed < 2; ++i) {
      std::this_thread::sleep_for(50ms);
      auto list = http.Get("/v1/process-instances?state=completed&limit=1000");
      ASSERT_TRUE(list) << "the server is gone\n" << served.output();
      completed = static_cast<int>(json::parse(list->body)["instances"].size());
    }
    EXPECT_EQ(completed, 2) << served.output();
    auto incidents = http.Get("/v1/incidents");
    ASSERT_TRUE(incidents);
    const json list = json::parse(incidents->body)["incidents"];
    ASSERT_EQ(list.size(), 1u) << incidents->body;
    EXPECT_EQ(list[0]["type"], "damaged");
    EXPECT_EQ(list[0]["instance"].dump(), ids[1]);
    auto ready = http.Get("/health/ready");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 200) << ready->body;
    EXPECT_EQ(served.stop(), 0) << served.output();
    if (start == 0) {
      EXPECT_NE(served.output().find("incident raised"), std::string::npos) << served.output();
    }
  }
}

}  // namespace
}  // namespace ordo::testing

namespace ordo::testing {
namespace {

// Sends `bytes` on a fresh connection to 127.0.0.1:port; -1 when it cannot connect. Reads
// on it wait at most `seconds` for a byte.
int send_on_loopback(int port, const std::string& bytes, int seconds) {
  const int fd = connect_on_loopback(port, "127.0.0.1", seconds);
  if (fd < 0) return -1;
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  return fd;
}

// Sends `head` (a request's line and headers, and whatever else) and returns the status of
// the answer (0 when none came within 20 s).
int raw_status(int port, const std::string& head) {
  const int fd = send_on_loopback(port, head, 20);
  if (fd < 0) return 0;
  char buf[256] = {};
  const ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
  ::close(fd);
  if (n < 12 || std::string_view(buf, 9) != "HTTP/1.1 ") return 0;
  return std::atoi(buf + 9);
}

// Sends `bytes` and returns everything the server answers until it closes the connection
// (or 3 s pass without a byte).
std::string raw_exchange(int port, const std::string& bytes) {
  const int fd = send_on_loopback(port, bytes, 3);
  if (fd < 0) return {};
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

// A request without a valid token is refused from its headers: the server does not wait for
// (or read) the body it announces. Before, it read the body first: 4 x 50 MB reached 500 MB.
TEST(Serve, AnUnauthenticatedRequestIsRefusedBeforeItsBodyIsRead) {
  TempDir dir("serve-auth-first");
  std::ofstream(dir.path("ordo.json"))
      << json{{"server", {{"tokens", {{{"token", "s3cret-token-123456"}, {"scopes", {"read"}}}}}}}}
             .dump();
  Served served(dir, {"--db", dir.path("orders.db"), "--config", dir.path("ordo.json")});
  ASSERT_GT(served.port(), 0) << served.output();
  // Half a megabyte announced (under maxBodyBytes), not one byte of it sent.
  EXPECT_EQ(raw_status(served.port(),
                       "POST /v1/process-instances HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Content-Type: application/json\r\nContent-Length: 524288\r\n\r\n"),
            401);
  EXPECT_EQ(raw_status(served.port(),
                       "POST /v1/deployments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Authorization: Bearer wrong\r\nContent-Length: 524288\r\n\r\n"),
            401);
  // The unread body of a refused request is never taken for a request of its own: the
  // connection ends with the refusal (no request smuggling behind a proxy).
  const std::string inner = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const std::string answered = raw_exchange(
      served.port(), "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                         std::to_string(inner.size()) + "\r\n\r\n" + inner);
  EXPECT_EQ(answered.rfind("HTTP/1.1 401", 0), 0u) << answered;
  EXPECT_EQ(answered.find("HTTP/1.1 ", 1), std::string::npos) << "a second answer:\n" << answered;
  EXPECT_EQ(served.stop(), 0) << served.output();
}

// A chunked body is held to maxBodyBytes as it arrives: 8 MiB sent in chunks to a server
// that takes 1 MiB gets 413 long before it is all sent, and the server goes on. Before,
// chunked bodies were read whatever maxBodyBytes said (200 MB took the server to 1.8 GB and
// down).
TEST(Serve, AChunkedBodyIsHeldToMaxBodyBytesAsItArrives) {
  TempDir dir("serve-chunked");
  Served served(dir, {"--db", dir.path("orders.db")});
  ASSERT_GT(served.port(), 0) << served.output();
  const int fd = send_on_loopback(served.port(),
                                  "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Content-Type: application/json\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n",
                                  20);
  ASSERT_GE(fd, 0);
  const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
  int sent = 0;
  while (sent < 128 && ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) > 0) ++sent;
  char buf[256] = {};
  const ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
  ::close(fd);
  ASSERT_GT(n, 12) << "no answer after " << sent << " chunks of 64 KiB";
  EXPECT_EQ(std::string_view(buf, 12), "HTTP/1.1 413") << buf;
  httplib::Client http("127.0.0.1", served.port());
  auto health = http.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(served.stop(), 0) << served.output();
}

}  // namespace
}  // namespace ordo::testing
