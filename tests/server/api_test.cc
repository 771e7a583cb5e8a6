// The HTTP API's request handling, without the transport (server/api.cc).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "adapters/fake_job.h"
#include "api.h"
#include "http_server.h"
#include "ordo/adapters/adapters.h"
#include "peers/http_peer.h"
#include "runtime/harness.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;
using server::Api;
using server::Request;
using server::Response;

std::string shipped_process() {
  std::ifstream in(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A request as the server reads it: "?name=value" in `path` goes to the query.
Request req(std::string method, std::string path, std::string body = {}) {
  Request r;
  r.method = std::move(method);
  if (const std::size_t q = path.find('?'); q != std::string::npos) {
    const std::string query = path.substr(q + 1);
    path.resize(q);
    const std::size_t eq = query.find('=');
    r.query[query.substr(0, eq)] = eq == std::string::npos ? std::string() : query.substr(eq + 1);
  }
  r.path = std::move(path);
  r.body = std::move(body);
  return r;
}

json body_of(const Response& r) {
  return json::parse(r.body);
}

class ApiTest : public ::testing::Test {
 protected:
  ApiTest() : engine_(std::make_unique<Engine>()), api_(*engine_, {}) {}
  Response call(std::string method, std::string path, std::string body = {}) {
    return api_.handle(req(std::move(method), std::move(path), std::move(body)));
  }
  void deploy() { ASSERT_EQ(call("POST", "/v1/deployments", shipped_process()).status, 201); }
  std::unique_ptr<Engine> engine_;
  Api api_;
};

TEST_F(ApiTest, DeployStartAndReadAnInstanceByIdAndByBusinessKey) {
  deploy();
  Response again = call("POST", "/v1/deployments", shipped_process());
  EXPECT_EQ(again.status, 200) << "the same content is not a new version";
  EXPECT_FALSE(body_of(again)["new"].get<bool>());
  Response started = call("POST", "/v1/process-instances",
                          R"({"processId": "order-acceptance", "businessKey": "A-1",
                              "variables": {"orderId": "A-1", "postalCode": "01067"}})");
  ASSERT_EQ(started.status, 201) << started.body;
  const auto id = body_of(started)["id"].get<std::uint64_t>();
  Response repeat = call("POST", "/v1/process-instances",
                         R"({"processId": "order-acceptance", "businessKey": "A-1"})");
  EXPECT_EQ(repeat.status, 200);
  EXPECT_EQ(body_of(repeat)["id"], id);
  EXPECT_FALSE(body_of(repeat)["created"].get<bool>());

  Response one = call("GET", "/v1/process-instances/" + std::to_string(id));
  ASSERT_EQ(one.status, 200);
  const json view = body_of(one);
  EXPECT_EQ(view["state"], "active");
  EXPECT_EQ(view["variables"]["postalCode"], "01067");
  ASSERT_FALSE(view["elements"].empty());
  EXPECT_EQ(view["elements"][0]["elementId"], "check-availability");

  Request by_key = req("GET", "/v1/process-instances");
  by_key.query["businessKey"] = "A-1";
  const json found = body_of(api_.handle(by_key));
  ASSERT_EQ(found["instances"].size(), 1u);
  EXPECT_EQ(found["instances"][0]["id"], id);
  by_key.query["businessKey"] = "A-2";
  EXPECT_TRUE(body_of(api_.handle(by_key))["instances"].empty());

  Request with_history = req("GET", "/v1/process-instances/" + std::to_string(id));
  with_history.query["history"] = "";
  EXPECT_FALSE(body_of(api_.handle(with_history))["history"].empty());

  Response cancelled = call("POST", "/v1/process-instances/" + std::to_string(id) + "/cancel");
  EXPECT_EQ(cancelled.status, 200);
  EXPECT_EQ(body_of(call("GET", "/v1/process-instances/" + std::to_string(id)))["state"],
            "terminated");
}

TEST_F(ApiTest, AStartWithAnIdempotencyKeyStartsOnce) {
  deploy();
  Request first = req("POST", "/v1/process-instances",
                      R"({"processId": "order-acceptance", "variables": {"orderId": "B-1"}})");
  first.headers["idempotency-key"] = "start-B-1";
  Response made = api_.handle(first);
  ASSERT_EQ(made.status, 201) << made.body;
  Response retried = api_.handle(first);
  EXPECT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(body_of(retried)["id"], body_of(made)["id"]);
  EXPECT_FALSE(body_of(retried)["created"].get<bool>());
  Request other = first;
  other.headers["idempotency-key"] = "start-B-2";
  EXPECT_EQ(api_.handle(other).status, 201);
  // The same key for another process is the client's mistake, not a repeat.
  ASSERT_EQ(call("POST", "/v1/deployments",
                 process("<startEvent id=\"s\"/><endEvent id=\"e\"/>"
                         "<sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"e\"/>",
                         "other"))
                .status,
            201);
  Request elsewhere = req("POST", "/v1/process-instances", R"({"processId": "other"})");
  elsewhere.headers["idempotency-key"] = "start-B-1";
  Response mistaken = api_.handle(elsewhere);
  EXPECT_EQ(mistaken.status, 400) << mistaken.body;
  EXPECT_NE(mistaken.body.find("started process 'order-acceptance'"), std::string::npos)
      << mistaken.body;
  other.headers["idempotency-key"] = std::string(256, 'k');
  Response refused = api_.handle(other);
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("Idempotency-Key"), std::string::npos) << refused.body;
}

TEST_F(ApiTest, AMessageIdIsCorrelatedOnceAndAnEarlyMessageIsBuffered) {
  deploy();
  const std::string msg = R"({"name": "payment-confirmed", "correlationKey": "A-9",
      "messageId": "payment:evt_1", "timeToLive": "PT1H",
      "variables": {"paymentStatus": "approved"}})";
  Response early = call("POST", "/v1/messages", msg);
  ASSERT_EQ(early.status, 200) << early.body;
  EXPECT_TRUE(body_of(early)["buffered"].get<bool>());
  Response again = call("POST", "/v1/messages", msg);
  EXPECT_TRUE(body_of(again)["duplicate"].get<bool>());
}

TEST_F(ApiTest, BadRequestsGetAMessageNamingTheField) {
  deploy();
  const auto message_of = [&](const std::string& method, const std::string& path,
                              const std::string& body) {
    Response r = call(method, path, body);
    return std::to_string(r.status) + " " + body_of(r)["error"]["message"].get<std::string>();
  };
  EXPECT_EQ(message_of("POST", "/v1/process-instances", "{not json"),
            "400 the body is not valid JSON");
  EXPECT_EQ(message_of("POST", "/v1/process-instances", "[1]"),
            "400 the body must be a JSON object");
  EXPECT_EQ(message_of("POST", "/v1/process-instances", R"({"processId": 7})"),
            "400 field 'processId' must be a string");
  EXPECT_EQ(message_of("POST", "/v1/process-instances", R"({"processid": "x"})")
                .rfind("400 unknown field 'processid'", 0),
            0u);
  EXPECT_EQ(message_of("POST", "/v1/process-instances", R"({"variables": {}})"),
            "400 field 'processId' is required");
  EXPECT_EQ(message_of("POST", "/v1/process-instances", R"({"processId": "nope"})").substr(0, 3),
            "404");
  EXPECT_EQ(message_of("POST", "/v1/messages", R"({"name": "m", "timeToLive": "1h"})"),
            "400 field 'timeToLive' must be an ISO 8601 duration such as PT1H");
  EXPECT_EQ(message_of("GET", "/v1/process-instances/abc", "").substr(0, 3), "404");
  EXPECT_EQ(message_of("GET", "/v1/process-instances/12345", "").substr(0, 3), "404");
  EXPECT_EQ(message_of("GET", "/v2/things", "").substr(0, 3), "404");
  EXPECT_EQ(message_of("POST", "/v1/incidents/7/resolve", R"({"retries": 0})"),
            "400 field 'retries' must be 1 or more (at most 1000)");
  EXPECT_EQ(message_of("POST", "/v1/process-instances",
                       R"({"processId": "order-acceptance", "version": 99999999999})"),
            "400 field 'version' must be a deployed version: 1 or more");
  EXPECT_EQ(message_of("POST", "/v1/process-instances",
                       R"({"processId": "order-acceptance", "version": 0})"),
            "400 field 'version' must be a deployed version: 1 or more")
      << "0 parses as an unsigned number and must still be refused";
  EXPECT_EQ(message_of("POST", "/v1/process-instances",
                       R"({"processId": "order-acceptance", "version": 1e30})"),
            "400 field 'version' must be a whole number");
  Response bpmn = call("POST", "/v1/deployments", "<definitions>");
  EXPECT_EQ(bpmn.status, 400);
  EXPECT_FALSE(body_of(bpmn)["error"]["diagnostics"].empty());
  // Nothing was started by any of it.
  auto all = engine_->instances();
  ASSERT_OK(all.status());
  EXPECT_TRUE(all->empty());
}

TEST_F(ApiTest, HostileBodiesAndWebPagesAreRefusedAndChangeNothing) {
  deploy();
  std::string deep = R"({"name": "m", "variables": {"a": )";
  for (int i = 0; i < 100'000; ++i) deep += '[';
  Response nested = call("POST", "/v1/messages", deep);
  EXPECT_EQ(nested.status, 400);
  EXPECT_NE(body_of(nested)["error"]["message"].get<std::string>().find("64 deep"),
            std::string::npos);
  EXPECT_EQ(call("POST", "/v1/messages", R"({"name": "m", "timeToLive": "P999999999W"})").status,
            400);
  EXPECT_EQ(call("POST", "/v1/messages", R"({"name": "m", "timeToLive": "P20Y"})").status, 400);
  // Without tokens: a cross-site request from a web page, or a rebound DNS name.
  Request page = req("POST", "/v1/process-instances",
                     R"({"processId": "order-acceptance", "businessKey": "X"})");
  page.headers["origin"] = "https://evil.example";
  EXPECT_EQ(api_.handle(page).status, 403);
  Request rebound = page;
  rebound.headers.erase("origin");
  rebound.headers["host"] = "evil.example:8080";
  EXPECT_EQ(api_.handle(rebound).status, 403);
  Request local = rebound;
  local.headers["host"] = "127.0.0.1:8080";
  EXPECT_EQ(api_.handle(local).status, 201);
  auto all = engine_->instances();
  ASSERT_OK(all.status());
  EXPECT_EQ(all->size(), 1u) << "only the loopback request started one";
}

// DNS rebinding: a page on evil.example makes its name resolve to 127.0.0.1; the browser then
// sends "Host: <that name>". Names that merely begin like a loopback address are such names.
TEST_F(ApiTest, WithoutTokensOnlyRequestsAddressedToALoopbackAddressAreAnswered) {
  deploy();
  ASSERT_EQ(call("POST", "/v1/process-instances",
                 R"({"processId": "order-acceptance", "businessKey": "A-1"})")
                .status,
            201);
  for (const char* rebound :
       {"127.evil.com", "127.0.0.1.nip.io", "127.0.0.1.nip.io:8080", "localhost.evil.example",
        "[::1].evil.example", "[::1]x:80", "::1", "[localhost]:8080", "evil.example", ""}) {
    Request r = req("GET", "/v1/process-instances");
    r.headers["host"] = rebound;
    const Response out = api_.handle(r);
    EXPECT_EQ(out.status, 403) << rebound;
    EXPECT_NE(out.body.find("is not a loopback address"), std::string::npos) << out.body;
    EXPECT_EQ(out.body.find("A-1"), std::string::npos) << "no instance is read for " << rebound;
  }
  for (const char* local : {"127.0.0.1", "127.0.0.1:8080", "localhost:8080", "LOCALHOST",
                            "[::1]:8080", "[::1]", "127.0.0.2:80"}) {
    Request r = req("GET", "/v1/process-instances");
    r.headers["host"] = local;
    EXPECT_EQ(api_.handle(r).status, 200) << local;
  }
}

// What the console's Processes page reads: each process with its versions and its instances
// by state, and the BPMN XML of a version exactly as it was deployed.
TEST_F(ApiTest, ProcessesAreListedWithTheirVersionsCountsAndXml) {
  deploy();
  for (const char* key : {"P-1", "P-2"}) {
    ASSERT_EQ(call("POST", "/v1/process-instances",
                   json{{"processId", "order-acceptance"}, {"businessKey", key}}.dump())
                  .status,
              201);
  }
  Response listed = call("GET", "/v1/processes");
  ASSERT_EQ(listed.status, 200) << listed.body;
  const json processes = body_of(listed)["processes"];
  ASSERT_EQ(processes.size(), 1u) << listed.body;
  EXPECT_EQ(processes[0]["processId"], "order-acceptance");
  ASSERT_EQ(processes[0]["versions"].size(), 1u);
  EXPECT_EQ(processes[0]["versions"][0]["version"], 1);
  EXPECT_GT(processes[0]["versions"][0]["deployedAt"].get<std::int64_t>(), 0);
  EXPECT_EQ(processes[0]["instances"]["active"], 2);
  EXPECT_EQ(processes[0]["instances"]["completed"], 0);
  Response xml = call("GET", "/v1/processes/order-acceptance/versions/1/xml");
  ASSERT_EQ(xml.status, 200) << xml.body;
  EXPECT_EQ(xml.content_type, "application/xml; charset=utf-8");
  EXPECT_EQ(xml.body, shipped_process());
  Response missing = call("GET", "/v1/processes/order-acceptance/versions/2/xml");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(body_of(missing)["error"]["message"],
            "no version 2 of process 'order-acceptance' is deployed");
  EXPECT_EQ(call("GET", "/v1/processes/order-acceptance/versions/x/xml").status, 404);

  // What happened at each element: both orders passed the start event, and their tokens
  // wait somewhere after it.
  Response elements = call("GET", "/v1/processes/order-acceptance/versions/1/elements");
  ASSERT_EQ(elements.status, 200) << elements.body;
  std::int64_t waiting = 0;
  json start;
  const json stats = body_of(elements);
  for (const json& e : stats["elements"]) {
    waiting += e["active"].get<std::int64_t>();
    if (e["elementId"] == "order-received") start = e;
  }
  EXPECT_EQ(start["completed"], 2) << elements.body;
  EXPECT_EQ(start["active"], 0);
  EXPECT_EQ(start["averageMs"], 0);
  EXPECT_GE(waiting, 2) << elements.body;
  EXPECT_EQ(call("GET", "/v1/processes/order-acceptance/versions/2/elements").status, 404);
}

// Retrying a group of incidents: those that match every field given, each resolved on its
// own; the others stay.
TEST_F(ApiTest, IncidentsThatMatchAFilterAreResolvedTogether) {
  deploy();
  std::vector<std::uint64_t> jobs;
  for (const char* key : {"G-1", "G-2", "G-3"}) {
    ASSERT_EQ(call("POST", "/v1/process-instances",
                   json{{"processId", "order-acceptance"}, {"businessKey", key}}.dump())
                  .status,
              201);
  }
  for (const JobInfo& j : must(engine_->open_jobs())) jobs.push_back(j.key);
  ASSERT_EQ(jobs.size(), 3u);
  ASSERT_OK(engine_->fail_job(jobs[0], "ERP down", 0, 0));
  ASSERT_OK(engine_->fail_job(jobs[1], "ERP down", 0, 0));
  ASSERT_OK(engine_->fail_job(jobs[2], "ERP refused", 0, 0));
  Response listed = call("GET", "/v1/incidents");
  ASSERT_EQ(body_of(listed)["incidents"].size(), 3u);
  EXPECT_EQ(body_of(listed)["incidents"][0]["processId"], "order-acceptance");
  EXPECT_EQ(body_of(listed)["incidents"][0]["businessKey"], "G-1");
  EXPECT_EQ(call("POST", "/v1/incidents/resolve", R"({"message": 7})").status, 400);
  EXPECT_EQ(call("POST", "/v1/incidents/resolve", R"({"message": null})").status, 400);
  EXPECT_EQ(call("POST", "/v1/incidents/resolve", "{}").status, 400) << "not every incident";
  Response none = call("POST", "/v1/incidents/resolve", R"({"elementId": "nowhere"})");
  EXPECT_EQ(body_of(none)["resolved"], 0);
  Response done = call("POST", "/v1/incidents/resolve",
                       R"({"processId": "order-acceptance", "message": "job 'erp.check-availability' failed and has no retries left: ERP down"})");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(body_of(done)["resolved"], 2) << done.body;
  EXPECT_TRUE(body_of(done)["failed"].empty());
  const json left = body_of(call("GET", "/v1/incidents"))["incidents"];
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0]["businessKey"], "G-3");
}

// Variables set from outside: on a running instance (the others stay), and with a retry, on
// the incident's instance before the job runs again.
TEST_F(ApiTest, VariablesAreSetDirectlyOrWithARetry) {
  deploy();
  Response started = call("POST", "/v1/process-instances",
                          json{{"processId", "order-acceptance"}, {"businessKey", "V-1"},
                               {"variables", {{"orderId", "V-1"}}}}
                              .dump());
  const auto id = body_of(started)["id"].get<std::uint64_t>();
  const std::string at = "/v1/process-instances/" + std::to_string(id) + "/variables";
  EXPECT_EQ(call("POST", at, "{}").status, 400);
  EXPECT_EQ(call("POST", at, R"({"variables": [1]})").status, 400);
  Response set = call("POST", at, R"({"variables": {"warehouse": "A"}})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(body_of(set)["variables"], json({{"orderId", "V-1"}, {"warehouse", "A"}}));
  EXPECT_EQ(call("POST", "/v1/process-instances/999/variables", R"({"variables": {}})").status,
            404);
  const JobKey job = must(engine_->open_jobs())[0].key;
  ASSERT_OK(engine_->fail_job(job, "no stock in A", 0, 0));
  const auto key = body_of(call("GET", "/v1/incidents"))["incidents"][0]["key"].get<std::uint64_t>();
  Response retried = call("POST", "/v1/incidents/" + std::to_string(key) + "/resolve",
                          R"({"variables": {"warehouse": "B"}})");
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_TRUE(body_of(call("GET", "/v1/incidents"))["incidents"].empty());
  Response read = call("GET", "/v1/process-instances/" + std::to_string(id));
  EXPECT_EQ(body_of(read)["variables"]["warehouse"], "B");
  EXPECT_EQ(body_of(read)["state"], "active");
  EXPECT_EQ(call("POST", "/v1/incidents/" + std::to_string(key) + "/resolve",
                 R"({"variables": {"warehouse": "C"}})")
                .status,
            404)
      << "resolved already";
  EXPECT_EQ(body_of(call("GET", "/v1/process-instances/" + std::to_string(id)))["variables"]
                                                                               ["warehouse"],
            "B")
      << "a retry that cannot be done sets no variable either";
}

// The instance search's query: each bad value named, and pages joined by `next`.
TEST_F(ApiTest, InstancesArePagedByKeysetAndBadFiltersAreNamed) {
  deploy();
  // GET with a query string, as the transport hands it over: the path and its parameters.
  const auto call = [this](const std::string& method, const std::string& target) {
    Request r = req(method, target.substr(0, target.find('?')));
    if (auto q = target.find('?'); q != std::string::npos) {
      std::istringstream pairs(target.substr(q + 1));
      for (std::string pair; std::getline(pairs, pair, '&');) {
        const auto eq = pair.find('=');
        r.query[pair.substr(0, eq)] = eq == std::string::npos ? "" : pair.substr(eq + 1);
      }
    }
    return api_.handle(r);
  };
  for (const char* key : {"K-1", "K-2", "L-1"}) {
    ASSERT_EQ(ApiTest::call("POST", "/v1/process-instances",
                            json{{"processId", "order-acceptance"}, {"businessKey", key}}.dump())
                  .status,
              201);
  }
  for (const auto& [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"businessKey=K-1&businessKeyPrefix=K", "businessKeyPrefix"},
           {"version=0", "version"},
           {"startedFrom=yesterday", "startedFrom"},
           {"order=sideways", "order"},
           {"after=x", "after"},
           {"variable=total", "variable"},
           {"variable=total!100", "!="},
           {"variable=to tal>1", "variable name"},
           {"variable=total>true", "only with = or !="},
           {"variable=total={}", "not with an object"},
           {"state=asleep", "suspended"}}) {
    Response r = call("GET", "/v1/process-instances?" + query);
    EXPECT_EQ(r.status, 400) << query;
    EXPECT_NE(body_of(r)["error"]["message"].get<std::string>().find(field), std::string::npos)
        << r.body;
  }
  ASSERT_EQ(ApiTest::call("POST", "/v1/process-instances",
                          json{{"processId", "order-acceptance"},
                               {"businessKey", "M-1"},
                               {"variables", {{"total", 120}, {"status", "paid"}}}}
                              .dump())
                .status,
            201);
  for (const char* query : {"variable=total>=100", "variable= total > 100 ",
                            "variable=status=paid", "variable=status=\"paid\""}) {
    Response found = call("GET", std::string("/v1/process-instances?") + query);
    ASSERT_EQ(found.status, 200) << query << found.body;
    ASSERT_EQ(body_of(found)["instances"].size(), 1u) << query << found.body;
    EXPECT_EQ(body_of(found)["instances"][0]["businessKey"], "M-1");
  }
  Response first = call("GET", "/v1/process-instances?businessKeyPrefix=K-&order=newest&limit=1");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(body_of(first)["instances"][0]["businessKey"], "K-2");
  const auto next = body_of(first)["next"].get<std::uint64_t>();
  Response second = call("GET", "/v1/process-instances?businessKeyPrefix=K-&order=newest&limit=1"
                                "&after=" + std::to_string(next));
  EXPECT_EQ(body_of(second)["instances"][0]["businessKey"], "K-1");
  Response last = call("GET", "/v1/process-instances?businessKeyPrefix=K-&order=newest&limit=2"
                              "&after=" + std::to_string(next));
  EXPECT_EQ(body_of(last)["instances"].size(), 1u);
  EXPECT_TRUE(body_of(last)["next"].is_null()) << "not a full page: nothing after it";
}

// Suspending an instance and resuming it: each answer says the state it is in now; the
// same action twice is a conflict, an unknown instance is not found.
TEST_F(ApiTest, AnInstanceIsSuspendedAndResumed) {
  deploy();
  Response started = call("POST", "/v1/process-instances",
                          json{{"processId", "order-acceptance"}, {"businessKey", "S-1"}}.dump());
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string at =
      "/v1/process-instances/" + std::to_string(body_of(started)["id"].get<std::uint64_t>());
  Response suspended = call("POST", at + "/suspend");
  ASSERT_EQ(suspended.status, 200) << suspended.body;
  EXPECT_EQ(body_of(suspended)["state"], "suspended");
  EXPECT_EQ(body_of(call("GET", at))["state"], "suspended");
  Response twice = call("POST", at + "/suspend");
  EXPECT_EQ(twice.status, 409);
  EXPECT_NE(twice.body.find("suspended already"), std::string::npos) << twice.body;
  Response resumed = call("POST", at + "/resume");
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_EQ(body_of(resumed)["state"], "active");
  EXPECT_EQ(call("POST", at + "/resume").status, 409);
  EXPECT_EQ(call("POST", "/v1/process-instances/999999/suspend").status, 404);
}

// A signal broadcast over HTTP reaches the instances waiting for it; a bad body is named.
TEST_F(ApiTest, ASignalIsBroadcastToTheWaitingInstances) {
  const std::string xml = testing::bpmn(
      "<signal id=\"sig\" name=\"recall\"/>\n<process id=\"p\" isExecutable=\"true\">"
      "<startEvent id=\"s\"/><intermediateCatchEvent id=\"w\"><signalEventDefinition "
      "signalRef=\"sig\"/></intermediateCatchEvent><endEvent id=\"e\"/>"
      "<sequenceFlow id=\"a\" sourceRef=\"s\" targetRef=\"w\"/>"
      "<sequenceFlow id=\"b\" sourceRef=\"w\" targetRef=\"e\"/></process>");
  ASSERT_EQ(call("POST", "/v1/deployments", xml).status, 201);
  Response started = call("POST", "/v1/process-instances", json{{"processId", "p"}}.dump());
  ASSERT_EQ(started.status, 201) << started.body;
  Response sent = call("POST", "/v1/signals",
                       json{{"name", "recall"}, {"variables", {{"why", "batch 7"}}}}.dump());
  ASSERT_EQ(sent.status, 200) << sent.body;
  EXPECT_EQ(body_of(sent)["instances"], json::array({body_of(started)["id"]}));
  Response now = call("GET", "/v1/process-instances/" +
                                 std::to_string(body_of(started)["id"].get<std::uint64_t>()));
  EXPECT_EQ(body_of(now)["state"], "completed");
  EXPECT_EQ(body_of(now)["variables"]["why"], "batch 7");
  EXPECT_EQ(call("POST", "/v1/signals", json{{"variables", json::object()}}.dump()).status, 400);
  EXPECT_EQ(call("POST", "/v1/signals", json{{"name", 7}}.dump()).status, 400);
}

// Migrating over HTTP: a dry run first, then the move; a plan that cannot work is a 400
// naming what is wrong, and a bad field is named.
TEST_F(ApiTest, InstancesAreMigratedToANewVersionAfterADryRun) {
  auto version = [](std::string_view second) {
    return testing::bpmn("<process id=\"p\" isExecutable=\"true\"><startEvent id=\"s\"/>" +
                         testing::svc("a") + std::string(second) + "<endEvent id=\"e\"/>" +
                         "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"a\"/>"
                         "<sequenceFlow id=\"f2\" sourceRef=\"a\" targetRef=\"e\"/></process>");
  };
  ASSERT_EQ(call("POST", "/v1/deployments", version("")).status, 201);
  Response started = call("POST", "/v1/process-instances",
                          json{{"processId", "p"}, {"businessKey", "M-1"}}.dump());
  ASSERT_EQ(started.status, 201) << started.body;
  const json id = body_of(started)["id"];
  ASSERT_EQ(call("POST", "/v1/deployments",
                 version("<boundaryEvent id=\"late\" attachedToRef=\"a\"><timerEventDefinition>"
                         "<timeDuration>PT1H</timeDuration></timerEventDefinition>"
                         "</boundaryEvent><endEvent id=\"late-e\"/><sequenceFlow id=\"f3\" "
                         "sourceRef=\"late\" targetRef=\"late-e\"/>"))
                .status,
            201);
  Response dry = call("POST", "/v1/migrations",
                      json{{"processId", "p"}, {"sourceVersion", 1}, {"dryRun", true},
                           {"businessKeyPrefix", "M-"}}
                          .dump());
  ASSERT_EQ(dry.status, 200) << dry.body;
  EXPECT_EQ(body_of(dry)["targetVersion"], 2);
  EXPECT_EQ(body_of(dry)["migrated"], 1);
  EXPECT_EQ(body_of(dry)["instances"][0]["id"], id);
  EXPECT_EQ(body_of(dry)["instances"][0]["notes"].size(), 1u);
  const std::string at = "/v1/process-instances/" + std::to_string(id.get<std::uint64_t>());
  EXPECT_EQ(body_of(call("GET", at))["version"], 1);
  Response moved = call("POST", "/v1/migrations",
                        json{{"processId", "p"}, {"sourceVersion", 1}, {"instances", {id}}}.dump());
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(body_of(moved)["migrated"], 1);
  EXPECT_EQ(body_of(call("GET", at))["version"], 2);
  Response bad = call("POST", "/v1/migrations",
                      json{{"processId", "p"}, {"sourceVersion", 1},
                           {"mappings", {{{"source", "aa"}, {"target", "a"}}}}}
                          .dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("did you mean 'a'?"), std::string::npos) << bad.body;
  EXPECT_EQ(call("POST", "/v1/migrations", json{{"processId", "p"}}.dump()).status, 400);
  EXPECT_EQ(call("POST", "/v1/migrations",
                 json{{"processId", "p"}, {"sourceVersion", 1}, {"mappings", {"a"}}}.dump())
                .status,
            400);
  EXPECT_EQ(call("POST", "/v1/migrations",
                 json{{"processId", "p"}, {"sourceVersion", 9}}.dump())
                .status,
            404);
  EXPECT_EQ(call("POST", "/v1/migrations",
                 json{{"processId", "p"}, {"sourceVersion", 1}, {"instances", json::array()}}.dump())
                .status,
            400);
  Response nulls = call("POST", "/v1/migrations",
                        json{{"processId", "p"}, {"sourceVersion", 1}, {"mapById", nullptr},
                             {"dryRun", nullptr}}
                            .dump());
  EXPECT_EQ(nulls.status, 200) << nulls.body;
  // A null filter is no filter: the bulk cancel refuses it rather than cancel everything.
  EXPECT_EQ(call("POST", "/v1/process-instances/cancel",
                 json{{"businessKeyPrefix", nullptr}}.dump())
                .status,
            400);
}

// Cancelling what matches a filter: counted first (nothing changes), then cancelled; only
// running instances, and never without a filter.
TEST_F(ApiTest, InstancesMatchingAFilterAreCountedThenCancelled) {
  deploy();
  for (const char* key : {"X-1", "X-2", "X-3", "Y-1"}) {
    ASSERT_EQ(call("POST", "/v1/process-instances",
                   json{{"processId", "order-acceptance"}, {"businessKey", key}}.dump())
                  .status,
              201);
  }
  EXPECT_EQ(call("POST", "/v1/process-instances/cancel", "{}").status, 400);
  EXPECT_EQ(call("POST", "/v1/process-instances/cancel",
                 R"({"businessKeyPrefix": "X-", "state": "completed"})")
                .status,
            400);
  Response dry = call("POST", "/v1/process-instances/cancel",
                      R"({"businessKeyPrefix": "X-", "dryRun": true, "max": 2})");
  ASSERT_EQ(dry.status, 200) << dry.body;
  EXPECT_EQ(body_of(dry)["count"], 2);
  EXPECT_TRUE(body_of(dry)["more"].get<bool>());
  Response counted = call("POST", "/v1/process-instances/cancel",
                          R"({"businessKeyPrefix": "X-", "dryRun": true})");
  EXPECT_EQ(body_of(counted)["count"], 3);
  EXPECT_EQ(body_of(call("POST", "/v1/process-instances/cancel",
                         R"({"businessKeyPrefix": "X-", "dryRun": true})"))["count"],
            3)
      << "a dry run cancels nothing";
  Response done = call("POST", "/v1/process-instances/cancel", R"({"businessKeyPrefix": "X-"})");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(body_of(done)["cancelled"], 3);
  EXPECT_FALSE(body_of(done)["more"].get<bool>());
  InstanceFilter left;
  left.state = InstanceState::kActive;
  const std::vector<InstanceInfo> active = must(engine_->instances(left));
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].business_key, "Y-1");
}

// docs/openapi.json describes routes that exist: none of them answers "no such resource".
TEST_F(ApiTest, EveryRouteOfTheOpenApiFileExists) {
  std::ifstream in(ORDO_SOURCE_DIR "/docs/openapi.json");
  const json spec = json::parse(in);
  int routes = 0;
  for (const auto& [path, methods] : spec["paths"].items()) {
    std::string concrete = path;
    for (const auto& [from, to] :
         {std::pair<std::string, std::string>{"{id}", "1"}, {"{key}", "1"}, {"{channel}", "sms"},
          {"{processId}", "p"}, {"{version}", "1"}, {"{decisionId}", "d"}, {"{token}", "x.y"}}) {
      if (auto at = concrete.find(from); at != std::string::npos)
        concrete.replace(at, from.size(), to);
    }
    for (const auto& [method, _] : methods.items()) {
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      Response r = call(upper, concrete, "{}");
      const std::string message =
          r.status == 404 ? body_of(r)["error"]["message"].get<std::string>() : std::string();
      EXPECT_EQ(message.find("no such resource"), std::string::npos) << upper << " " << path;
      ++routes;
    }
  }
  EXPECT_EQ(routes, 40);
}

// A DMN file deploys through the same route as BPMN; its decisions are listed, evaluated on
// request, and called by business rule tasks.
TEST_F(ApiTest, DecisionsDeployListEvaluateAndRunInAProcess) {
  const std::string dmn = R"(<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"
      id="d" name="d" namespace="https://ordo.test/api">
    <decision id="insure" name="Insure"><decisionTable hitPolicy="FIRST">
      <input><inputExpression typeRef="number"><text>total</text></inputExpression></input>
      <output name="insured" typeRef="boolean"/>
      <rule id="big"><inputEntry><text>&gt;= 100</text></inputEntry><outputEntry><text>true</text></outputEntry></rule>
      <rule id="small"><inputEntry><text>-</text></inputEntry><outputEntry><text>false</text></outputEntry></rule>
    </decisionTable></decision></definitions>)";
  Response deployed = call("POST", "/v1/deployments?name=insure.dmn", dmn);
  ASSERT_EQ(deployed.status, 201) << deployed.body;
  EXPECT_EQ(body_of(deployed)["deployments"][0]["decisionId"], "insure");
  EXPECT_EQ(call("POST", "/v1/deployments?name=insure.dmn", dmn).status, 200) << "same content";
  const json listed = body_of(call("GET", "/v1/decisions"));
  ASSERT_EQ(listed["decisions"].size(), 1u) << listed;
  EXPECT_EQ(listed["decisions"][0]["version"], 1);
  Response evaluated =
      call("POST", "/v1/decisions/insure/evaluate", json{{"variables", {{"total", 150}}}}.dump());
  ASSERT_EQ(evaluated.status, 200) << evaluated.body;
  EXPECT_EQ(body_of(evaluated)["result"], true);
  EXPECT_EQ(body_of(evaluated)["matchedRules"][0]["ruleIds"], json::array({"big"}))
      << "FIRST: the rule that gave the result";
  EXPECT_EQ(call("POST", "/v1/decisions/nope/evaluate", "{}").status, 404);
  EXPECT_EQ(call("POST", "/v1/decisions/insure/evaluate", R"({"variables": 3})").status, 400);
  // A file with errors says where.
  std::string broken = dmn;
  broken.replace(broken.find("&gt;= 100"), 9, "&gt;= (100");
  Response refused = call("POST", "/v1/deployments?name=broken.dmn", broken);
  ASSERT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(body_of(refused)["error"]["diagnostics"][0]["rule"], "feel-syntax");
  EXPECT_EQ(body_of(refused)["error"]["diagnostics"][0]["file"], "broken.dmn");
  // A process calls it.
  ASSERT_EQ(call("POST", "/v1/deployments",
                 process("<startEvent id=\"s\"/><businessRuleTask id=\"b\"><extensionElements>"
                         "<zeebe:calledDecision decisionId=\"insure\" resultVariable=\"insured\"/>"
                         "</extensionElements></businessRuleTask><endEvent id=\"e\"/>" +
                         flow("s", "b") + flow("b", "e")))
                .status,
            201);
  Response started = call("POST", "/v1/process-instances",
                          json{{"processId", "p"}, {"variables", {{"total", 20}}}}.dump());
  ASSERT_EQ(started.status, 201) << started.body;
  Response read = call("GET", "/v1/process-instances/" +
                                  std::to_string(body_of(started)["id"].get<std::uint64_t>()));
  EXPECT_EQ(body_of(read)["variables"]["insured"], false) << read.body;
}

// Request metrics are labelled by route template: every documented route has its own label,
// and whatever else clients send (random paths, ids that are not numbers, made-up methods)
// shares one, so no series is added per path.
// A deployment's body is XML: brackets in its expressions are not JSON nesting (a process
// whose expression had more than 64 '[' was refused as "nested too deep").
TEST_F(ApiTest, AProcessWithManyBracketsInAnExpressionDeploysAndRuns) {
  // Forty half-open ranges: eighty '[' that no ']' closes, in a condition's text.
  std::string ranges = "=";
  for (int i = 0; i < 40; ++i) {
    ranges += (i ? " or x in [" : "x in [") + std::to_string(i * 10) + ".." +
              std::to_string(i * 10 + 5) + "[";
  }
  const std::string xml = process(
      "<startEvent id=\"s\"/><exclusiveGateway id=\"g\" default=\"g-out\"/>"
      "<endEvent id=\"in\"/><endEvent id=\"out\"/>" +
      flow("s", "g") + flow("g", "in", ranges) + flow("g", "out"));
  Response deployed = call("POST", "/v1/deployments", xml);
  ASSERT_EQ(deployed.status, 201) << deployed.body;
  for (const auto& [x, end] : {std::pair<int, const char*>{392, "in"}, {397, "out"}}) {
    Response started =
        call("POST", "/v1/process-instances", json{{"processId", "p"}, {"variables", {{"x", x}}}}.dump());
    ASSERT_EQ(started.status, 201) << started.body;
    Response read = call("GET", "/v1/process-instances/" +
                                    std::to_string(body_of(started)["id"].get<std::uint64_t>()));
    EXPECT_EQ(body_of(read)["endEvent"], end) << read.body;
  }
  // A JSON body is still measured.
  EXPECT_EQ(call("POST", "/v1/messages", std::string(100, '[') + std::string(100, ']')).status, 400);
}

TEST_F(ApiTest, RequestMetricsHaveOneLabelPerRouteWhateverPathsArrive) {
  std::ifstream in(ORDO_SOURCE_DIR "/docs/openapi.json");
  const json spec = json::parse(in);
  std::set<std::string> documented;
  for (const auto& [path, methods] : spec["paths"].items()) {
    std::string concrete = path, label = path;
    for (const auto& [from, to] :
         {std::pair<std::string, std::string>{"{id}", "7"}, {"{key}", "7"}, {"{channel}", "sms"},
          {"{processId}", "p"}, {"{version}", "1"}, {"{decisionId}", "d"}, {"{token}", "x.y"}}) {
      if (auto at = concrete.find(from); at != std::string::npos) concrete.replace(at, from.size(), to);
    }
    if (auto at = label.find("{key}"); at != std::string::npos) label.replace(at, 5, "{id}");
    documented.insert(label);
    for (const auto& [method, _] : methods.items()) {
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      call(upper, concrete, "{}");
    }
  }
  for (int i = 0; i < 50; ++i) {
    const std::string n = std::to_string(i);
    call("GET", "/random-" + n);
    call("GET", "/v1/process-instances/random-" + n);
    call("POST", "/v1/jobs/" + n + "/random-" + n, "{}");
    call("POST", "/v1/webhooks/random-" + n, "{}");
    call("RANDOM" + n, "/v1/deployments");
  }
  const std::string body = call("GET", "/metrics").body;
  std::set<std::string> labels;
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("ordo_http_requests_total{")) continue;
    EXPECT_EQ(line.find("random"), std::string::npos) << line;
    EXPECT_EQ(line.find("RANDOM"), std::string::npos) << line;
    const std::size_t from = line.find("route=\"") + 7;
    labels.insert(line.substr(from, line.find('"', from) - from));
  }
  for (const std::string& route : documented) {
    EXPECT_EQ(labels.count(route), 1u) << route << " has no label of its own";
  }
  EXPECT_EQ(labels.count("(other)"), 1u);
  EXPECT_LE(labels.size(), documented.size() + 1);
}

TEST_F(ApiTest, MetricsCountInstancesJobsAndRequestsInThePrometheusFormat) {
  deploy();
  ASSERT_EQ(call("POST", "/v1/process-instances",
                 R"({"processId": "order-acceptance", "businessKey": "M-1"})")
                .status,
            201);
  ASSERT_EQ(call("POST", "/v1/process-instances", R"({"processId": 1})").status, 400);
  ASSERT_EQ(call("GET", "/v1/process-instances/1").status, 200);
  Response m = call("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.content_type, "text/plain; version=0.0.4");
  for (const char* line :
       {"# TYPE ordo_instances gauge\n",
        "ordo_instances{process=\"order-acceptance\",state=\"active\",end_event=\"\"} 1\n",
        "ordo_incidents_open 0\n",
        "ordo_jobs_open{type=\"erp.check-availability\",state=\"created\"} 1\n",
        "ordo_http_requests_total{route=\"/v1/process-instances\",method=\"POST\",status=\"201\"} "
        "1\n",
        "ordo_http_requests_total{route=\"/v1/process-instances\",method=\"POST\",status=\"400\"} "
        "1\n",
        "ordo_http_requests_total{route=\"/v1/process-instances/"
        "{id}\",method=\"GET\",status=\"200\"} 1\n"}) {
    EXPECT_NE(m.body.find(line), std::string::npos) << line << "\nin:\n" << m.body;
  }
}

// start -> charge (payment.charge) -> end "paid"; a DECLINED error on charge ends at "declined".
std::string charge_process() {
  return bpmn(
      "<error id=\"err\" errorCode=\"DECLINED\"/>\n"
      "<process id=\"charge\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n" +
      svc("pay", "", "payment.charge") +
      "<boundaryEvent id=\"b\" attachedToRef=\"pay\"><errorEventDefinition errorRef=\"err\"/>"
      "</boundaryEvent>\n<endEvent id=\"paid\"/>\n<endEvent id=\"declined\"/>\n" +
      flow("s", "pay") + flow("pay", "paid") + flow("b", "declined") + "</process>");
}

// A worker escalates from its job over HTTP: the boundary event takes the order on; a bad
// body is named.
TEST_F(ApiTest, AWorkerEscalatesFromItsJob) {
  const std::string xml = testing::bpmn(
      "<escalation id=\"late\" escalationCode=\"LATE\"/>\n"
      "<process id=\"p\" isExecutable=\"true\"><startEvent id=\"s\"/>"
      "<serviceTask id=\"ship\"><extensionElements><zeebe:taskDefinition type=\"ship\"/>"
      "</extensionElements></serviceTask><boundaryEvent id=\"b\" attachedToRef=\"ship\">"
      "<escalationEventDefinition escalationRef=\"late\"/></boundaryEvent>"
      "<endEvent id=\"shipped\"/><endEvent id=\"escalated\"/>"
      "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"ship\"/>"
      "<sequenceFlow id=\"f2\" sourceRef=\"ship\" targetRef=\"shipped\"/>"
      "<sequenceFlow id=\"f3\" sourceRef=\"b\" targetRef=\"escalated\"/></process>");
  ASSERT_EQ(call("POST", "/v1/deployments", xml).status, 201);
  Response started = call("POST", "/v1/process-instances", json{{"processId", "p"}}.dump());
  ASSERT_EQ(started.status, 201) << started.body;
  Response fetched = call("POST", "/v1/jobs/fetch-and-lock",
                          R"({"workerId": "w1", "types": ["ship"], "maxJobs": 1})");
  ASSERT_EQ(fetched.status, 200) << fetched.body;
  const std::string job =
      "/v1/jobs/" + std::to_string(body_of(fetched)["jobs"][0]["key"].get<std::uint64_t>());
  EXPECT_EQ(call("POST", job + "/escalation", R"({"workerId": "w1"})").status, 400);
  Response escalated = call("POST", job + "/escalation",
                            R"({"workerId": "w1", "escalationCode": "LATE",
                                "variables": {"delay": 2}})");
  ASSERT_EQ(escalated.status, 200) << escalated.body;
  const std::uint64_t id = body_of(started)["id"].get<std::uint64_t>();
  const json now = body_of(call("GET", "/v1/process-instances/" + std::to_string(id)));
  EXPECT_EQ(now["state"], "completed");
  EXPECT_EQ(now["endEvent"], "escalated");
  EXPECT_EQ(now["variables"]["delay"], 2);
}

TEST_F(ApiTest, ExternalWorkersFetchLockAndAnswerJobs) {
  ASSERT_EQ(call("POST", "/v1/deployments", charge_process()).status, 201);
  for (const char* key : {"C-1", "C-2", "C-3"}) {
    ASSERT_EQ(call("POST", "/v1/process-instances",
                   std::string(R"({"processId": "charge", "businessKey": ")") + key +
                       R"(", "variables": {"amount": 10, "orderId": ")" + key + "\"}}")
                  .status,
              201);
  }
  Response fetched = call("POST", "/v1/jobs/fetch-and-lock",
                          R"({"workerId": "pay-1", "types": ["payment.charge"], "maxJobs": 2,
                              "lockDuration": "PT1M", "variables": ["orderId"]})");
  ASSERT_EQ(fetched.status, 200) << fetched.body;
  const json jobs = body_of(fetched)["jobs"];
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0]["businessKey"], "C-1");
  EXPECT_EQ(jobs[0]["variables"], json({{"orderId", "C-1"}}));
  EXPECT_EQ(jobs[0]["elementId"], "pay");
  EXPECT_TRUE(jobs[0]["lockExpiresAt"].is_string());
  const std::string first = "/v1/jobs/" + std::to_string(jobs[0]["key"].get<std::uint64_t>());
  const std::string second = "/v1/jobs/" + std::to_string(jobs[1]["key"].get<std::uint64_t>());

  // Someone else's job: 409 naming the holder; nothing changes.
  Response stolen = call("POST", first + "/complete", R"({"workerId": "pay-2"})");
  EXPECT_EQ(stolen.status, 409) << stolen.body;
  EXPECT_NE(stolen.body.find("pay-1"), std::string::npos);

  Response done = call("POST", first + "/complete",
                       R"({"workerId": "pay-1", "variables": {"chargeId": "ch_1"}})");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(body_of(done)["answered"], "complete");
  EXPECT_EQ(call("POST", first + "/complete", R"({"workerId": "pay-1"})").status, 404)
      << "answered already";
  Request by_key = req("GET", "/v1/process-instances");
  by_key.query["businessKey"] = "C-1";
  const json c1 = body_of(api_.handle(by_key))["instances"][0];
  EXPECT_EQ(c1["endEvent"], "paid");

  Response declined =
      call("POST", second + "/bpmn-error",
           R"({"workerId": "pay-1", "errorCode": "DECLINED", "errorMessage": "card expired"})");
  ASSERT_EQ(declined.status, 200) << declined.body;
  by_key.query["businessKey"] = "C-2";
  EXPECT_EQ(body_of(api_.handle(by_key))["instances"][0]["endEvent"], "declined");

  // The third: fail with no retries left -> an incident with the worker's message.
  const json third = body_of(call("POST", "/v1/jobs/fetch-and-lock",
                                  R"({"workerId": "pay-2", "types": ["payment.charge"]})"))["jobs"];
  ASSERT_EQ(third.size(), 1u);
  const std::string path = "/v1/jobs/" + std::to_string(third[0]["key"].get<std::uint64_t>());
  ASSERT_EQ(call("POST", path + "/extend-lock", R"({"workerId": "pay-2", "lockDuration": "PT5M"})")
                .status,
            200);
  ASSERT_EQ(call("POST", path + "/fail",
                 R"({"workerId": "pay-2", "errorMessage": "provider down", "retries": 0})")
                .status,
            200);
  const json incidents = body_of(call("GET", "/v1/incidents"))["incidents"];
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_NE(incidents[0]["message"].get<std::string>().find("provider down"), std::string::npos);
  EXPECT_TRUE(body_of(call("POST", "/v1/jobs/fetch-and-lock",
                           R"({"workerId": "pay-2", "types": ["payment.charge"]})"))["jobs"]
                  .empty());
}

TEST_F(ApiTest, ExternalWorkerRequestsAreCheckedFieldByField) {
  const auto status_and = [&](const std::string& path, const std::string& body,
                              const std::string& says) {
    Response r = call("POST", path, body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find(says), std::string::npos) << r.body;
  };
  status_and("/v1/jobs/fetch-and-lock", R"({"types": ["a"]})", "workerId");
  status_and("/v1/jobs/fetch-and-lock", R"({"workerId": "a:b", "types": ["a"]})", "workerId");
  status_and("/v1/jobs/fetch-and-lock", R"({"workerId": "w"})", "'types' is required");
  status_and("/v1/jobs/fetch-and-lock", R"({"workerId": "w", "types": [1]})", "types");
  status_and("/v1/jobs/fetch-and-lock", R"({"workerId": "w", "types": ["a"], "maxJobs": 0})",
             "maxJobs");
  status_and("/v1/jobs/fetch-and-lock",
             R"({"workerId": "w", "types": ["a"], "lockDuration": "60000"})", "lockDuration");
  status_and("/v1/jobs/fetch-and-lock",
             R"({"workerId": "w", "types": ["a"], "requestTimeout": "PT5M"})", "requestTimeout");
  status_and("/v1/jobs/fetch-and-lock", R"({"workerId": "w", "types": ["a"], "lock": "PT1M"})",
             "unknown field 'lock'");
  status_and("/v1/jobs/1/fail", R"({"workerId": "w", "retries": -1})", "retries");
  status_and("/v1/jobs/1/bpmn-error", R"({"workerId": "w"})", "errorCode");
  EXPECT_EQ(call("POST", "/v1/jobs/1/finish", R"({"workerId": "w"})").status, 404);
  EXPECT_EQ(call("POST", "/v1/jobs/x/complete", R"({"workerId": "w"})").status, 404);
  EXPECT_EQ(call("POST", "/v1/jobs/77/complete", R"({"workerId": "w"})").status, 404);
}

TEST_F(ApiTest, ALongPollAnswersAsSoonAsAStartCreatesAJob) {
  ASSERT_EQ(call("POST", "/v1/deployments", charge_process()).status, 201);
  Response polled;
  std::thread worker([&] {
    polled = call("POST", "/v1/jobs/fetch-and-lock",
                  R"({"workerId": "w", "types": ["payment.charge"], "requestTimeout": "PT50S"})");
  });
  // Whenever the poll began, the start wakes it (or it finds the job on its first look).
  ASSERT_EQ(call("POST", "/v1/process-instances", R"({"processId": "charge"})").status, 201);
  worker.join();
  ASSERT_EQ(polled.status, 200) << polled.body;
  EXPECT_EQ(body_of(polled)["jobs"].size(), 1u);
}

TEST(ApiHealth, ReadinessAsksTheDatabaseAndTheService) {
  Engine engine;
  server::ApiOptions options;
  bool worker_runs = true;
  options.ready = [&]() -> Status {
    return worker_runs ? Status::ok() : Status(StatusCode::kBusy, "the worker has stopped");
  };
  options.tokens = {{"reader-token-0123456789", {"read"}, {}}};
  Api api(engine, options);
  Response ready = api.handle(req("GET", "/health/ready"));
  EXPECT_EQ(ready.status, 200) << "probes need no token";
  EXPECT_EQ(body_of(ready)["status"], "ready");
  worker_runs = false;
  Response not_ready = api.handle(req("GET", "/health/ready"));
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_EQ(body_of(not_ready)["error"]["message"], "not ready: the worker has stopped");
  EXPECT_EQ(api.handle(req("GET", "/health")).status, 200) << "alive all the same";
}

TEST_F(ApiTest, MetricsIncludeTheTelemetryOfTheEngines) {
  server::Telemetry telemetry;
  engine_->add_observer(&telemetry);
  server::ApiOptions options;
  options.telemetry = &telemetry;
  Api api(*engine_, options);
  ASSERT_EQ(api.handle(req("POST", "/v1/deployments", shipped_process())).status, 201);
  ASSERT_EQ(api.handle(req("POST", "/v1/process-instances",
                           R"({"processId": "order-acceptance", "businessKey": "T-1"})"))
                .status,
            201);
  const std::string text = api.handle(req("GET", "/metrics")).body;
  engine_->remove_observer(&telemetry);
  EXPECT_NE(text.find("ordo_instances_started_total{process=\"order-acceptance\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ordo_jobs_total{type=\"erp.check-availability\",outcome=\"created\"} 1\n"),
            std::string::npos)
      << text;
}

// Concurrent starts and messages share transactions; each request still gets its own answer:
// a bad one fails alone, a business key started twice at once gives one instance.
TEST(ApiGroupCommit, ConcurrentRequestsShareTransactionsAndKeepTheirOwnAnswers) {
  const std::string db =
      ::testing::TempDir() + "ordo-api-group-" + std::to_string(::getpid()) + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
  auto engine = Engine::open(db);
  ASSERT_OK(engine);
  Api api(**engine, {});
  ASSERT_EQ(api.handle(req("POST", "/v1/deployments", shipped_process())).status, 201);
  constexpr int kThreads = 16, kEach = 20;
  std::vector<std::vector<Response>> answers(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string body;
        if (i % 10 == 9) {
          body = R"({"processId": "no-such-process"})";
        } else if (i % 5 == 4) {
          // Every thread starts the same shared key at about the same time.
          body = R"({"processId": "order-acceptance", "businessKey": "SHARED-)" +
                 std::to_string(i) + "\"}";
        } else if (i % 2 == 1) {
          body = R"({"name": "payment-confirmed", "correlationKey": "nobody", "messageId": "m-)" +
                 std::to_string(i) + R"(", "timeToLive": "PT1M"})";
          answers[static_cast<std::size_t>(t)].push_back(
              api.handle(req("POST", "/v1/messages", body)));
          continue;
        } else {
          body = R"({"processId": "order-acceptance", "businessKey": "K-)" + std::to_string(t) +
                 "-" + std::to_string(i) + "\"}";
        }
        answers[static_cast<std::size_t>(t)].push_back(
            api.handle(req("POST", "/v1/process-instances", body)));
      }
    });
  }
  for (std::thread& th : threads) th.join();
  std::map<int, int> created_shared;  // shared key index -> 201s
  std::map<int, std::set<std::uint64_t>> shared_ids;
  std::map<int, int> message_firsts;  // message index -> non-duplicate answers
  std::set<std::uint64_t> unique_ids;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(answers[static_cast<std::size_t>(t)].size(), static_cast<std::size_t>(kEach));
    for (int i = 0; i < kEach; ++i) {
      const Response& r = answers[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)];
      if (i % 10 == 9) {
        EXPECT_EQ(r.status, 404) << r.body;
      } else if (i % 5 == 4) {
        ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
        created_shared[i] += r.status == 201;
        shared_ids[i].insert(body_of(r)["id"].get<std::uint64_t>());
      } else if (i % 2 == 1) {
        ASSERT_EQ(r.status, 200) << r.body;
        message_firsts[i] += !body_of(r)["duplicate"].get<bool>();
      } else {
        ASSERT_EQ(r.status, 201) << r.body;
        unique_ids.insert(body_of(r)["id"].get<std::uint64_t>());
      }
    }
  }
  for (const auto& [i, n] : created_shared) {
    EXPECT_EQ(n, 1) << "SHARED-" << i << " was created " << n << " times";
    EXPECT_EQ(shared_ids[i].size(), 1u) << "SHARED-" << i << " answered with several ids";
  }
  for (const auto& [i, n] : message_firsts) EXPECT_EQ(n, 1) << "m-" << i;
  EXPECT_EQ(unique_ids.size(), static_cast<std::size_t>(kThreads * 8));
  InstanceFilter every;
  every.limit = 10000;
  auto all = (*engine)->instances(every);
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), unique_ids.size() + created_shared.size()) << "nothing else started";
  engine->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
}

TEST(ApiLimits, BeyondMaxInFlightRequestsGet503AtOnceButProbesGetThrough) {
  const std::string db =
      ::testing::TempDir() + "ordo-api-limits-" + std::to_string(::getpid()) + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
  EngineOptions eo;
  eo.busy_timeout_ms = 30000;
  auto engine = Engine::open(db, eo);
  ASSERT_OK(engine);
  server::ApiOptions options;
  options.max_in_flight = 1;
  Api api(**engine, options);
  ASSERT_EQ(api.handle(req("POST", "/v1/deployments", shipped_process())).status, 201);
  // Another connection holds the write lock: a start waits for it, in flight.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  Response started;
  std::atomic<bool> start_done{false};
  auto launch = [&] {
    return std::thread([&] {
      started = api.handle(req("POST", "/v1/process-instances",
                               R"({"processId": "order-acceptance", "businessKey": "L-1"})"));
      start_done = true;
    });
  };
  std::thread start = launch();
  Response refused;
  for (int i = 0; i < 500 && refused.status != 503; ++i) {
    if (start_done && started.status == 503) {
      // A probe took the one slot before the start did: start again.
      start.join();
      start_done = false;
      start = launch();
    }
    refused = api.handle(req("GET", "/v1/incidents"));
    if (refused.status != 503) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.retry_after_s, 1);
  EXPECT_NE(refused.body.find("maxInFlight"), std::string::npos);
  EXPECT_EQ(api.handle(req("GET", "/health")).status, 200) << "probes get through";
  sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  start.join();
  EXPECT_EQ(started.status, 201) << started.body << " (the waiting request was not refused)";
  EXPECT_EQ(api.handle(req("GET", "/v1/incidents")).status, 200) << "the slot is free again";
  EXPECT_EQ(api.handle(req("GET", "/health/ready")).status, 200);
  engine->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
}

TEST(ApiAuth, TokensAndScopesAreChecked) {
  Engine engine;
  server::ApiOptions options;
  options.tokens = {{"reader-token-0123456789", {"read"}, {}},
                    {"writer-token-0123456789", {"read", "write"}, {}},
                    {"worker-token-0123456789", {"worker"}, {}}};
  Api api(engine, options);
  const auto status = [&](const std::string& token, const std::string& method,
                          const std::string& path) {
    Request r = req(method, path, "{}");
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    return api.handle(r).status;
  };
  EXPECT_EQ(status("", "GET", "/health"), 200) << "liveness needs no token";
  EXPECT_EQ(status("", "GET", "/v1/incidents"), 401);
  EXPECT_EQ(status("reader-token-012345678X", "GET", "/v1/incidents"), 401);
  EXPECT_EQ(status("reader-token-0123456789", "GET", "/v1/incidents"), 200);
  EXPECT_EQ(status("reader-token-0123456789", "POST", "/v1/messages"), 403);
  EXPECT_EQ(status("writer-token-0123456789", "POST", "/v1/incidents/1/resolve"), 403);
  EXPECT_EQ(status("writer-token-0123456789", "POST", "/v1/process-instances"), 400);
  EXPECT_EQ(status("reader-token-0123456789", "HEAD", "/v1/incidents"), 404) << "HEAD reads";
  EXPECT_EQ(status("writer-token-0123456789", "POST", "/v1/jobs/fetch-and-lock"), 403)
      << "external workers need the worker scope";
  EXPECT_EQ(status("worker-token-0123456789", "POST", "/v1/jobs/fetch-and-lock"), 400);
  EXPECT_EQ(status("worker-token-0123456789", "POST", "/v1/messages"), 403);
  Request lower = req("GET", "/v1/incidents");
  lower.headers["authorization"] = "bearer reader-token-0123456789";
  EXPECT_EQ(api.handle(lower).status, 200) << "the scheme is case-insensitive";
}

// GET /v1/token tells a client what its token may do; without tokens, a web page may only
// read (the API refuses its actions), whatever else asks may do anything.
TEST(ApiAuth, ATokenSaysWhatItMayDo) {
  Engine engine;
  server::ApiOptions options;
  options.tokens = {{"reader-token-0123456789", {"read"}, {}},
                    {"admin-token-0123456789", {"read", "admin"}, {}}};
  Api api(engine, options);
  const auto scopes = [&](Api& a, const std::string& token, const std::string& header = {}) {
    Request r = req("GET", "/v1/token");
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    if (!header.empty()) r.headers[header] = "same-origin";
    Response out = a.handle(r);
    return out.status == 200 ? body_of(out)["scopes"] : json(out.status);
  };
  EXPECT_EQ(scopes(api, "reader-token-0123456789"), json({"read"}));
  EXPECT_EQ(scopes(api, "admin-token-0123456789"), json({"read", "admin"}));
  EXPECT_EQ(scopes(api, ""), json(401));
  Api open(engine, {});
  EXPECT_EQ(scopes(open, ""), json({"read", "write", "admin", "worker"}));
  EXPECT_EQ(scopes(open, "", "sec-fetch-site"), json({"read"}));
  EXPECT_EQ(scopes(open, "", "origin"), json(403)) << "refused as every request of a page that "
                                                      "says where it comes from";
}

// A worker token takes the job types it is meant for: without jobTypes, only types no
// adapter here handles (notify.send, done by the built-in worker, is refused); with them,
// the types they name.
TEST(ApiAuth, WorkerTokensFetchOnlyTheJobTypesTheyMayTake) {
  Engine engine;
  server::ApiOptions options;
  options.tokens = {{"worker-token-0123456789", {"worker"}, {}},
                    {"payments-token-01234567", {"worker"}, {"payment.*"}}};
  options.handled_here = [](std::string_view type) { return type == "notify.send"; };
  Api api(engine, options);
  const auto fetch = [&](const std::string& token, const std::string& type) {
    Request r = req("POST", "/v1/jobs/fetch-and-lock",
                    json{{"workerId", "w-1"}, {"types", {type}}}.dump());
    r.headers["authorization"] = "Bearer " + token;
    return api.handle(r);
  };
  EXPECT_EQ(fetch("worker-token-0123456789", "erp.reserve").status, 200);
  Response internal = fetch("worker-token-0123456789", "notify.send");
  EXPECT_EQ(internal.status, 403);
  EXPECT_NE(internal.body.find("jobTypes"), std::string::npos) << internal.body;
  EXPECT_EQ(fetch("payments-token-01234567", "payment.charge").status, 200);
  EXPECT_EQ(fetch("payments-token-01234567", "erp.reserve").status, 403);
  EXPECT_EQ(fetch("payments-token-01234567", "notify.send").status, 403);
  // Read from ordo.json's server section.
  auto settings = server::read_server_settings(
      json{{"tokens", {{{"token", "payments-token-01234567"}, {"scopes", {"worker"}},
                        {"jobTypes", {"payment.*", "notify.send"}}}}}});
  ASSERT_TRUE(settings.is_ok()) << settings.status().to_string();
  EXPECT_EQ(settings->api.tokens[0].job_types, (std::vector<std::string>{"payment.*", "notify.send"}));
  auto limits = server::read_server_settings(
      json{{"maxCallDepth", 20}, {"maxMultiInstance", 500}, {"multiInstanceBatch", 50}});
  ASSERT_TRUE(limits.is_ok()) << limits.status().to_string();
  EXPECT_EQ(limits->max_call_depth, 20u);
  EXPECT_EQ(limits->max_multi_instance, 500u);
  EXPECT_EQ(limits->multi_instance_batch, 50u);
  EXPECT_FALSE(server::read_server_settings(json{{"multiInstanceBatch", 0}}).is_ok());
  EXPECT_FALSE(server::read_server_settings(json{{"maxCallDepth", 0}}).is_ok());
  // A misspelt key of a token is an error, not a token without its restriction.
  auto misspelt = server::read_server_settings(
      json{{"tokens", {{{"token", "payments-token-01234567"}, {"scopes", {"worker"}},
                        {"jobtypes", {"payment.*"}}}}}});
  ASSERT_FALSE(misspelt.is_ok());
  EXPECT_NE(misspelt.status().message().find("server.tokens[0].jobtypes"), std::string::npos)
      << misspelt.status().to_string();
  EXPECT_FALSE(server::read_server_settings(
                   json{{"tokens", {{{"token", "payments-token-01234567"},
                                     {"scopes", {"worker"}}, {"jobTypes", "payment.*"}}}}})
                   .is_ok());
}

TEST_F(ApiTest, PaymentWebhooksAreCheckedCorrelatedOnceAndBufferedWhenEarly) {
  deploy();
  server::ApiOptions options;
  options.tokens = {{"backend-token-0123456789", {"read", "write"}, {}}};
  options.payment.secret = "whsec_test";
  Api api(*engine_, options);
  const std::string event =
      R"({"id": "evt_1", "type": "payment.succeeded", "data": {"paymentId": "P-1", "orderId": "A-5"}})";
  Request hook = req("POST", "/v1/webhooks/payment", event);
  EXPECT_EQ(api.handle(hook).status, 401) << "no signature";
  hook.headers["x-signature"] = webhook_signature(event + " ", "whsec_test");
  EXPECT_EQ(api.handle(hook).status, 401) << "the signature of another body";
  hook.headers["x-signature"] = webhook_signature(event, "whsec_test");
  Response early = api.handle(hook);  // no bearer token: the signature is the proof
  ASSERT_EQ(early.status, 200) << early.body;
  EXPECT_TRUE(body_of(early)["buffered"].get<bool>()) << "before the order waits";
  EXPECT_TRUE(body_of(api.handle(hook))["duplicate"].get<bool>()) << "delivered twice";
  Request garbled = hook;
  garbled.body = R"({"id": "evt_2", "type": "payment.refunded"})";
  garbled.headers["x-signature"] = webhook_signature(garbled.body, "whsec_test");
  EXPECT_EQ(api.handle(garbled).status, 400);
  EXPECT_EQ(api_.handle(hook).status, 404) << "not configured: no route";
  EXPECT_EQ(api.handle(req("POST", "/v1/webhooks/notifications/sms", "{}")).status, 404);
}

TEST(ApiWebhooks, DeliveryStatusCallbacksReachTheDeliveryLogOnce) {
  HttpPeer gateway;
  gateway.server().Post("/sms", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"id": "sms-1"})", "application/json");
  });
  const TempDir scratch("api-webhooks");
  const std::string log_file = scratch.path("deliveries.db");
  auto notifier = Notifier::create({{"templates", ORDO_SOURCE_DIR "/processes/templates"},
                                    {"deliveryLog", log_file},
                                    {"channels", {{"sms", {{"url", gateway.url("/sms")}}}}}},
                                   "");
  ASSERT_OK(notifier.status());
  FakeJob job(json{{"customer", {{"phone", "+4915123456789"}}}});
  job.with_header("template", "order-shipped").with_header("channel", "sms").business("A-77");
  ASSERT_EQ((*notifier)->handle(job).kind(), JobOutcome::Kind::kComplete);
  Engine engine;
  server::ApiOptions options;
  options.notifications.secret = "cb-secret";
  options.notifier = *notifier;
  Api api(engine, options);
  Request cb =
      req("POST", "/v1/webhooks/notifications/sms",
          R"({"providerId": "sms-1", "status": "delivered", "at": "2026-12-01T10:00:05Z"})");
  EXPECT_EQ(api.handle(cb).status, 401);
  cb.headers["x-signature"] = webhook_signature(cb.body, "cb-secret");
  Response first = api.handle(cb);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_TRUE(body_of(first)["recorded"].get<bool>());
  EXPECT_FALSE(body_of(api.handle(cb))["recorded"].get<bool>()) << "a repeated callback";
  auto log = (*notifier)->deliveries(job.business_key());
  ASSERT_OK(log.status());
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].provider_status, "delivered");
  Request unknown = cb;
  unknown.body = R"({"providerId": "sms-404", "status": "delivered"})";
  unknown.headers["x-signature"] = webhook_signature(unknown.body, "cb-secret");
  EXPECT_EQ(api.handle(unknown).status, 404);
}

TEST(ApiTracking, ThePixelAndTheRedirectAreServedToAnyoneWithASignedUrlOnly) {
  HttpPeer gateway;
  std::string sms_text;
  gateway.server().Post("/sms", [&](const httplib::Request& r, httplib::Response& res) {
    sms_text = json::parse(r.body)["text"];
    res.set_content(R"({"id": "sms-9"})", "application/json");
  });
  const TempDir scratch("api-tracking");
  auto notifier = Notifier::create(
      {{"templates", ORDO_SOURCE_DIR "/processes/templates"},
       {"deliveryLog", scratch.path("deliveries.db")},
       {"channels", {{"sms", {{"url", gateway.url("/sms")}}}}},
       {"tracking",
        {{"baseUrl", "https://shop.example/ordo"},
         {"secret", "tracking-secret-for-the-api-test"},
         {"clickChannels", {"sms"}},
         {"linkHosts", {"track.example"}}}}},
      "");
  ASSERT_OK(notifier.status());
  FakeJob job(json{{"customer", {{"phone", "+4915123456789"}}},
                   {"trackingUrl", "https://track.example/T-1"}});
  job.with_header("template", "order-shipped").with_header("channel", "sms").business("A-78");
  ASSERT_EQ((*notifier)->handle(job).kind(), JobOutcome::Kind::kComplete);
  const std::string prefix = "https://shop.example/ordo";
  const std::size_t at = sms_text.find(prefix + "/t/c/");
  ASSERT_NE(at, std::string::npos) << sms_text;
  const std::string path = sms_text.substr(at + prefix.size(), sms_text.find(' ', at) - at - prefix.size());
  Engine engine;
  server::ApiOptions options;
  options.tokens = {{"read-token", {"read"}, {}}};  // the API needs tokens; tracking does not
  options.notifier = *notifier;
  Api api(engine, options);
  Request click = req("GET", path);
  click.headers["host"] = "shop.example";  // from the customer's phone, not loopback
  // Admitted before its body is read (the HTTP server asks first), without a token.
  EXPECT_FALSE(api.refuse_before_body(click).has_value());
  Request head = click;
  head.method = "HEAD";
  EXPECT_EQ(api.handle(head).status, 302);
  auto unrecorded = (*notifier)->deliveries("A-78");
  ASSERT_OK(unrecorded.status());
  EXPECT_EQ((*unrecorded)[0].provider_status, "") << "a HEAD is not a click";
  const Response redirected = api.handle(click);
  ASSERT_EQ(redirected.status, 302) << redirected.body;
  const auto header = [](const Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return std::string();
  };
  EXPECT_EQ(header(redirected, "Location"), "https://track.example/T-1");
  EXPECT_EQ(header(redirected, "Cache-Control"), "no-store, private");
  auto log = (*notifier)->deliveries("A-78");
  ASSERT_OK(log.status());
  EXPECT_EQ((*log)[0].provider_status, "clicked");
  // An edited path: no redirect anywhere.
  Request edited = click;
  edited.path = path.substr(0, path.size() - 2) + (path.back() == 'A' ? "BB" : "AA");
  const Response refused = api.handle(edited);
  EXPECT_EQ(refused.status, 404);
  EXPECT_EQ(header(refused, "Location"), "");
  // The click's token as an open pixel: refused too.
  Request pixel = click;
  pixel.path = "/t/o/" + path.substr(5);
  EXPECT_EQ(api.handle(pixel).status, 404);
  // Without tracking configured there is no such route.
  Api plain(engine, server::ApiOptions{});
  EXPECT_EQ(plain.handle(click).status, 404);
}

TEST(ServerSettings, OnlyLiteralLoopbackAddressesCountAsLoopback) {
  for (const char* yes : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"}) {
    EXPECT_TRUE(server::is_loopback(yes)) << yes;
  }
  for (const char* no :
       {"0.0.0.0", "10.0.0.1", "127.0.0.1.evil.example", "::", "example.com", "128.0.0.1", ""}) {
    EXPECT_FALSE(server::is_loopback(no)) << no;
  }
}

TEST(ServerSettings, MistakesNameTheKey) {
  ASSERT_OK(server::read_server_settings(json()).status());
  const auto error = [](const json& j) {
    return server::read_server_settings(j).status().message();
  };
  EXPECT_NE(error({{"tokens", {{{"token", "short"}, {"scopes", {"read"}}}}}})
                .find("server.tokens[0].token"),
            std::string::npos);
  EXPECT_NE(error({{"tokens", {{{"token", "0123456789abcdef"}, {"scopes", {"root"}}}}}})
                .find("unknown scope 'root'"),
            std::string::npos);
  EXPECT_NE(error({{"port", 8080}}).find("server.port"), std::string::npos);
  EXPECT_NE(error({{"maxInFlight", 4294967296LL}})
                .find("server.maxInFlight: must be a whole "
                      "number from 1 to 1024"),
            std::string::npos);
  EXPECT_NE(error({{"webhooks", {{"payment", {{"signatureHeader", "X-Sig"}}}}}})
                .find("server.webhooks.payment.secret: is missing"),
            std::string::npos);
  EXPECT_NE(error({{"webhooks", {{"paypal", {{"secret", "x"}}}}}})
                .find("server.webhooks.paypal: unknown webhook (known: payment, notifications, "
                      "stripe, twilio)"),
            std::string::npos);
  EXPECT_EQ(error({{"webhooks", {{"stripe", {{"secret", "whsec_x"}, {"tolerance", "PT2M"}}}}}}), "");
  EXPECT_NE(error({{"webhooks", {{"twilio", {{"secret", "token"}}}}}})
                .find("server.webhooks.twilio.url: is missing"),
            std::string::npos);
  EXPECT_NE(error({{"webhooks", {{"stripe", {{"secret", "x"}, {"tolerance", "PT2H"}}}}}})
                .find("server.webhooks.stripe.tolerance: must be a duration from PT1S to PT1H"),
            std::string::npos);
  auto good = server::read_server_settings(
      {{"webhooks",
        {{"payment",
          {{"secret", "s"}, {"signatureHeader", "X-PSP-Signature"}, {"timeToLive", "PT2H"}}}}}});
  ASSERT_OK(good.status());
  EXPECT_EQ(good->api.payment.signature_header, "x-psp-signature");
  EXPECT_EQ(good->api.payment_options.ttl_ms, 7'200'000);
}

}  // namespace
}  // namespace ordo::testing
