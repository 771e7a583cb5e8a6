// The ordo binary as a user runs it: output, JSON, exit codes.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace ordo {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// Runs a shell command line, stdout and stderr together.
CliRun capture(const std::string& cmd) {
  CliRun run;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return run;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) run.out.append(buf, n);
  int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

CliRun ordo_cli(const std::string& args) {
  return capture(std::string(ORDO_CLI) + " " + args + " 2>&1");
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ordo-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  fs::path dir_;
};

const std::string kShipped = ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn";

TEST_F(CliTest, ValidateShippedProcessExitsZero) {
  CliRun r = ordo_cli("validate " + kShipped);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("1 file, 1 process: 0 errors, 0 warnings"), std::string::npos) << r.out;
}

TEST_F(CliTest, ValidatePrintsCompilerStyleDiagnosticsAndExitsOne) {
  std::string bad =
      write("bad.bpmn", testing::process("<task id=\"t\"/>\n<complexGateway id=\"c\"/>"));
  CliRun r = ordo_cli("validate " + kShipped + " " + bad);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find(bad + ":5:1: error: complexGateway at line 5 is not supported"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("[unsupported-element]"), std::string::npos);
  EXPECT_NE(r.out.find("2 files, 2 processes:"), std::string::npos) << r.out;
}

TEST_F(CliTest, ValidateJsonIsAnArrayOfDiagnostics) {
  std::string bad = write("bad.bpmn", "<definitions");
  CliRun r = ordo_cli("validate --json " + bad);
  EXPECT_EQ(r.exit_code, 1);
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["file"], bad);
  EXPECT_EQ(j[0]["severity"], "error");
  EXPECT_EQ(j[0]["rule"], "xml-syntax");
  EXPECT_TRUE(j[0]["line"].is_number());
  EXPECT_TRUE(j[0]["column"].is_number());
  EXPECT_TRUE(j[0]["message"].is_string());
}

TEST_F(CliTest, WarningsAloneExitZero) {
  std::string warn =
      write("warn.bpmn", testing::process("<startEvent id=\"s\"/><task id=\"t\"/><sequenceFlow "
                                          "id=\"f\" sourceRef=\"s\" targetRef=\"t\"/>"));
  CliRun r = ordo_cli("validate " + warn);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("warning:"), std::string::npos);
  CliRun quiet = ordo_cli("validate -q " + warn);
  EXPECT_EQ(quiet.out, "");
}

TEST_F(CliTest, MissingFileIsOneLineAndExitOne) {
  CliRun r = ordo_cli("validate " + (dir_ / "absent.bpmn").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("absent.bpmn: error: cannot read"), std::string::npos) << r.out;
}

TEST_F(CliTest, BadUsageExitsTwo) {
  EXPECT_EQ(ordo_cli("").exit_code, 2);
  EXPECT_EQ(ordo_cli("validate").exit_code, 2);
  EXPECT_EQ(ordo_cli("frobnicate").exit_code, 2);
  EXPECT_EQ(ordo_cli("inspect --json --dot " + kShipped).exit_code, 2);
}

TEST_F(CliTest, EveryCommandHasHelp) {
  for (const char* cmd :
       {"--help", "validate --help", "inspect --help", "run --help", "deploy --help",
        "start --help", "correlate --help", "instances --help", "show --help", "incidents --help",
        "retry --help", "cancel --help", "worker --help", "backup --help",
        "deliveries --help", "serve --help"}) {
    CliRun r = ordo_cli(cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << cmd << r.out;
  }
}

TEST_F(CliTest, InspectPrintsOutlineJsonAndDot) {
  CliRun text = ordo_cli("inspect " + kShipped);
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("task types:"), std::string::npos);
  CliRun json = ordo_cli("inspect --json " + kShipped);
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(json.out)["processes"][0]["id"], "order-acceptance");
  CliRun dot = ordo_cli("inspect --dot " + kShipped);
  EXPECT_EQ(dot.exit_code, 0);
  EXPECT_EQ(dot.out.rfind("digraph", 0), 0u);
}

TEST_F(CliTest, InspectOfABrokenFileExitsOne) {
  std::string bad = write("bad.bpmn", "not xml");
  CliRun r = ordo_cli("inspect " + bad);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("[xml-syntax]"), std::string::npos) << r.out;
}

TEST_F(CliTest, RunTakesEachOrderDownItsOwnPath) {
  std::string orders = write(
      "orders.jsonl",
      "{\"orderId\": \"O-1\", \"customer\": {\"email\": \"a@example.de\", \"locale\": "
      "\"de\"}}\n"
      "\n"
      "{\"orderId\": \"O-2\", \"available\": false}\n"
      "{\"orderId\": \"O-3\", \"paymentOutcome\": \"declined\"}\n"
      "{\"orderId\": \"O-4\", \"paymentOutcome\": \"timeout\"}\n"
      "{\"orderId\": \"O-5\", \"failTask\": \"erp.ship\"}\n");
  CliRun r = ordo_cli("run " + kShipped + " --orders " + orders + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  nlohmann::json out = nlohmann::json::parse(r.out);
  const nlohmann::json& o = out["orders"];
  ASSERT_EQ(o.size(), 5u);
  EXPECT_EQ(o[0]["endEvent"], "end-delivered");
  EXPECT_EQ(o[1]["endEvent"], "end-unavailable");
  EXPECT_EQ(o[2]["endEvent"], "end-payment-failed");
  EXPECT_EQ(o[3]["endEvent"], "end-payment-failed");
  EXPECT_EQ(o[4]["state"], "incident");
  EXPECT_EQ(out["summary"]["byIncident"]["job-no-retries"], 1);
  // O-1: confirmation, shipped, delivered; O-2: unavailable; O-3, O-4: payment failed; O-5:
  // confirmation only (shipping fails).
  EXPECT_EQ(out["summary"]["notificationsByTemplate"]["order-confirmation"], 2);
  EXPECT_EQ(out["summary"]["notificationsByTemplate"]["payment-failed"], 2);
  int to_o1 = 0;
  for (const nlohmann::json& n : out["notifications"]) {
    if (n["orderId"] != "O-1") continue;
    ++to_o1;
    EXPECT_EQ(n["locale"], "de");
    EXPECT_EQ(n["recipient"], n["channel"] == "email" ? "a@example.de" : "") << n.dump();
  }
  EXPECT_EQ(to_o1, 3);
}

TEST_F(CliTest, RunReportsTheLineOfABadOrderAndExitsOne) {
  std::string orders = write("orders.jsonl", "{\"orderId\": \"O-1\"}\n[1, 2]\n");
  CliRun r = ordo_cli("run " + kShipped + " --orders " + orders);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("orders.jsonl:2: expected a JSON object"), std::string::npos) << r.out;
}

// ---- the database commands ----

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A line of `text` that has each of `parts`, in this order.
bool has_line(const std::string& text, const std::vector<std::string>& parts) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    std::size_t at = 0;
    bool all = true;
    for (const std::string& part : parts) {
      at = line.find(part, at);
      if (at == std::string::npos) {
        all = false;
        break;
      }
      at += part.size();
    }
    if (all) return true;
    start = end + 1;
  }
  return false;
}

bool is_iso_utc(const nlohmann::json& j) {
  if (!j.is_string()) return false;
  const std::string s = j.get<std::string>();
  return s.size() >= 20 && s[4] == '-' && s[10] == 'T' && s.back() == 'Z';
}

// A database in the test's directory with the order process deployed; orders are started
// with the variables the simulated handlers read (docs/running-orders.md).
class CliDbTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    db_ = (dir_ / "ordo.db").string();
    CliRun r = ordo_cli("deploy --db " + db_ + " " + kShipped);
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  CliRun db(const std::string& args) { return ordo_cli(args + " --db " + db_); }
  nlohmann::json db_json(const std::string& args) {
    CliRun r = db(args + " --json");
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.out;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << args << "\n" << r.out;
    return j;
  }
  // Starts an order and returns its instance id. `vars` is a JSON object without braces.
  std::uint64_t start_order(const std::string& id, const std::string& vars = "") {
    std::string object = "{\"orderId\": \"" + id + "\"" + (vars.empty() ? "" : ", " + vars) + "}";
    nlohmann::json j = db_json("start order-acceptance --key " + id + " --vars '" + object + "'");
    return j.value("instance", std::uint64_t{0});
  }
  // Payment confirmed and the order delivered at once, so one worker run ends it.
  std::uint64_t start_quick_order(const std::string& id) {
    return start_order(id, "\"paymentDelayMinutes\": 0, \"deliveryDays\": 0");
  }
  std::string db_;
};

TEST_F(CliDbTest, DeploySaysWhetherAVersionIsNew) {
  CliRun again = db("deploy " + kShipped);
  EXPECT_EQ(again.exit_code, 0) << again.out;
  EXPECT_EQ(again.out,
            "order-acceptance: version 1, unchanged (same content as the latest version) (" +
                kShipped + ")\n");
  // Different content: a new version.
  std::string changed = write("changed.bpmn", [] {
    std::ifstream in(kShipped);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text + "\n<!-- changed -->\n";
  }());
  nlohmann::json j = db_json("deploy " + changed);
  ASSERT_EQ(j.size(), 1u) << j.dump();
  EXPECT_EQ(j[0]["processId"], "order-acceptance");
  EXPECT_EQ(j[0]["version"], 2);
  EXPECT_EQ(j[0]["new"], true);
  EXPECT_EQ(j[0]["file"], changed);

  // A file with errors is not deployed; the others are.
  std::string bad = write("bad.bpmn", "<definitions");
  std::string other =
      write("other.bpmn", testing::process(testing::straight("<task id=\"t\"/>"), "other"));
  CliRun mixed = db("deploy " + bad + " " + other);
  EXPECT_EQ(mixed.exit_code, 1) << mixed.out;
  EXPECT_TRUE(contains(mixed.out, "ordo deploy: cannot deploy " + bad)) << mixed.out;
  EXPECT_TRUE(contains(mixed.out, "other: version 1, new")) << mixed.out;
}

TEST_F(CliDbTest, StartWithTheSameBusinessKeyReturnsTheExistingInstance) {
  CliRun first = db("start order-acceptance --key A-1 --vars '{\"orderId\": \"A-1\"}'");
  EXPECT_EQ(first.exit_code, 0) << first.out;
  EXPECT_TRUE(contains(first.out, "started instance ")) << first.out;
  EXPECT_TRUE(contains(first.out, " of order-acceptance:1 (business key A-1): active"))
      << first.out;
  CliRun second = db("start order-acceptance --key A-1");
  EXPECT_EQ(second.exit_code, 0) << second.out;
  EXPECT_TRUE(contains(second.out, "already exists for business key A-1")) << second.out;
  EXPECT_TRUE(contains(second.out, "not started again")) << second.out;

  nlohmann::json j = db_json("start order-acceptance --key A-1");
  EXPECT_EQ(j["created"], false);
  EXPECT_EQ(j["version"], 1);
  nlohmann::json listed = db_json("instances");
  ASSERT_EQ(listed.size(), 1u) << listed.dump();
  EXPECT_EQ(listed[0]["id"], j["instance"]);
  EXPECT_EQ(listed[0]["businessKey"], "A-1");

  nlohmann::json other = db_json("start order-acceptance --key A-2 --version 1");
  EXPECT_EQ(other["created"], true);
  EXPECT_NE(other["instance"], j["instance"]);

  CliRun unknown = db("start no-such-process");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(contains(unknown.out, "ordo start: no process 'no-such-process' is deployed"))
      << unknown.out;
  EXPECT_EQ(db("start order-acceptance --vars '[1, 2]'").exit_code, 2);
  EXPECT_EQ(db("start order-acceptance --vars '{oops'").exit_code, 2);
  EXPECT_EQ(db("start order-acceptance --version 0").exit_code, 2);
}

TEST_F(CliDbTest, CorrelateReportsReceiversBufferingAndDuplicates) {
  // Payment never confirmed by the simulated world: the instance waits for the message.
  const std::uint64_t id = start_order("A-2", "\"paymentOutcome\": \"timeout\"");
  ASSERT_NE(id, 0u);
  ASSERT_EQ(db("worker --until-idle --simulate").exit_code, 0);

  CliRun first =
      db("correlate payment-confirmed --key A-2 --vars '{\"paymentStatus\": \"approved\"}' "
         "--message-id pay-A-2");
  EXPECT_EQ(first.exit_code, 0) << first.out;
  EXPECT_EQ(first.out,
            "payment-confirmed / A-2: received by instance " + std::to_string(id) + "\n");
  CliRun again = db("correlate payment-confirmed --key A-2 --message-id pay-A-2");
  EXPECT_EQ(again.exit_code, 0) << again.out;
  EXPECT_TRUE(contains(again.out,
                       "duplicate: message id pay-A-2 was published before; nothing "
                       "done"))
      << again.out;
  nlohmann::json dup = db_json("correlate payment-confirmed --key A-2 --message-id pay-A-2");
  EXPECT_EQ(dup["duplicate"], true);
  EXPECT_EQ(dup["instances"], nlohmann::json::array({id}));
  // The variables arrived with the first publication only.
  EXPECT_EQ(db_json("show " + std::to_string(id))["variables"]["paymentStatus"], "approved");

  nlohmann::json buffered = db_json("correlate payment-confirmed --key A-9 --ttl PT1H");
  EXPECT_EQ(buffered["buffered"], true);
  EXPECT_EQ(buffered["instances"], nlohmann::json::array());
  CliRun dropped = db("correlate payment-confirmed --key A-10");
  EXPECT_EQ(dropped.exit_code, 0);
  EXPECT_TRUE(contains(dropped.out, "nobody was waiting for it: dropped")) << dropped.out;

  // A buffered message reaches the instance that subscribes later.
  const std::uint64_t late = start_order("A-9", "\"paymentOutcome\": \"timeout\"");
  ASSERT_EQ(db("worker --until-idle --simulate").exit_code, 0);
  nlohmann::json shown = db_json("show " + std::to_string(late));
  bool correlated = false;
  for (const auto& e : shown["history"]) correlated |= e["kind"] == "message-correlated";
  EXPECT_TRUE(correlated) << shown.dump(2);

  CliRun bad_ttl = db("correlate payment-confirmed --ttl 1h");
  EXPECT_EQ(bad_ttl.exit_code, 2);
  EXPECT_TRUE(contains(bad_ttl.out, "not an ISO 8601 duration")) << bad_ttl.out;
}

// ordo run --config: the configured adapter answers instead of the simulation.
TEST_F(CliTest, RunUsesTheConfiguredAdapters) {
  httplib::Server erp;
  erp.Get(R"(/stock/(.*))", [&](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.matches[1] == "B-2" ? R"({"inStock": false})" : R"({"inStock": true})",
                    "application/json");
  });
  const int port = erp.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { erp.listen_after_bind(); });
  while (!erp.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string config = write(
      "ordo.json", R"({"adapters": {"erp.check-availability": {"adapter": "http", "method": "GET",
          "url": "=\"http://127.0.0.1:)" + std::to_string(port) + R"(/stock/\" + orderId",
          "output": {"available": "=response.body.inStock"}}}})");
  const std::string orders = write("orders.jsonl",
                                   "{\"orderId\": \"B-1\", \"deliveryDays\": 1}\n"
                                   "{\"orderId\": \"B-2\"}\n");
  CliRun run = ordo_cli("run " + kShipped + " --orders " + orders + " --config " + config +
                        " --json");
  erp.stop();
  serving.join();
  ASSERT_EQ(run.exit_code, 0) << run.out;
  nlohmann::json j = nlohmann::json::parse(run.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << run.out;
  EXPECT_EQ(j["orders"][0]["endEvent"], "end-delivered") << run.out;
  EXPECT_EQ(j["orders"][1]["endEvent"], "end-unavailable") << run.out;
}

// ordo worker --config: the ERP's availability answer comes from an HTTP peer on loopback.
// Nothing else is answered (the order waits at its notification, whose type has no
// adapter) until --simulate says the simulation may answer the rest.
TEST_F(CliDbTest, WorkerUsesTheConfiguredAdaptersAndSimulatesOnlyWhenAsked) {
  httplib::Server erp;
  std::mutex mu;
  std::vector<std::string> keys;
  erp.Post("/availability", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    keys.push_back(req.get_header_value("Idempotency-Key"));
    res.set_content(R"({"inStock": false})", "application/json");
  });
  const int port = erp.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { erp.listen_after_bind(); });
  while (!erp.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string config = write(
      "ordo.json", R"({"adapters": {"erp.check-availability": {"adapter": "http",
          "url": "http://127.0.0.1:)" + std::to_string(port) + R"(/availability",
          "output": {"available": "=response.body.inStock"}}}})");
  const std::uint64_t id = start_quick_order("A-1");
  CliRun worker = db("worker --until-idle --config " + config);
  EXPECT_EQ(worker.exit_code, 0) << worker.out;
  // The types nothing answers are named once each, with where they are used.
  EXPECT_TRUE(contains(worker.out,
                       "ordo worker: job type 'notify.send' (process 'order-acceptance' version "
                       "1, element 'notify-unavailable' at "))
      << worker.out;
  EXPECT_TRUE(contains(worker.out, "has no adapter in " + config +
                                       ": its jobs wait for an external worker"))
      << worker.out;
  EXPECT_FALSE(contains(worker.out, "job type 'erp.check-availability'")) << worker.out;
  nlohmann::json waiting = db_json("show " + std::to_string(id));
  EXPECT_EQ(waiting["state"], "active") << waiting.dump(2);
  ASSERT_EQ(waiting["elements"].size(), 1u) << waiting.dump(2);
  EXPECT_EQ(waiting["elements"][0]["elementId"], "notify-unavailable");
  EXPECT_FALSE(fs::exists(db_ + ".effects.jsonl")) << "nothing was simulated";

  CliRun simulated = db("worker --until-idle --simulate --config " + config);
  erp.stop();
  serving.join();
  EXPECT_EQ(simulated.exit_code, 0) << simulated.out;
  EXPECT_FALSE(contains(simulated.out, "has no adapter")) << simulated.out;
  nlohmann::json shown = db_json("show " + std::to_string(id));
  EXPECT_EQ(shown["state"], "completed") << shown.dump(2);
  EXPECT_EQ(shown["endEvent"], "end-unavailable") << shown.dump(2);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_TRUE(contains(keys[0], "order-acceptance:")) << keys[0];

  const std::string bad = write("bad.json", R"({"adapters": {"erp.check-availability":
      {"adapter": "http", "url": "http://x", "headers": {"X-Key": "${env:ORDO_TEST_UNSET_VAR}"}}}})");
  CliRun refused = db("worker --until-idle --config " + bad);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(contains(refused.out, "ORDO_TEST_UNSET_VAR is not set")) << refused.out;
}

// A misspelt type in ordo.json: its adapter never runs, the real type waits, and both are
// named, the misspelt one with the type it most likely meant.
TEST_F(CliDbTest, WorkerNamesAMisspeltAdapterTypeAndTheTypeItMeant) {
  const std::string config =
      write("typo.json", R"({"adapters": {"erp.check-availabilty": {"adapter": "simulated"}}})");
  const std::uint64_t id = start_quick_order("A-1");
  CliRun worker = db("worker --until-idle --config " + config);
  EXPECT_EQ(worker.exit_code, 0) << worker.out;
  EXPECT_TRUE(contains(worker.out, "ordo worker: " + config +
                                       ": adapters.erp.check-availabilty: no deployed process "
                                       "has a job of this type; did you mean "
                                       "'erp.check-availability'?"))
      << worker.out;
  EXPECT_TRUE(contains(worker.out, "job type 'erp.check-availability' (process "
                                   "'order-acceptance' version 1, element 'check-availability'"))
      << worker.out;
  EXPECT_TRUE(contains(worker.out, "0 jobs and timers handled")) << worker.out;
  nlohmann::json jobs = db_json("show " + std::to_string(id));
  ASSERT_EQ(jobs["elements"].size(), 1u) << jobs.dump(2);
  EXPECT_EQ(jobs["elements"][0]["elementId"], "check-availability");
  EXPECT_EQ(jobs["variables"].count("available"), 0u) << "nothing made up: " << jobs.dump(2);
}

TEST_F(CliDbTest, WorkerSendsNotificationsAndDeliveriesListsThem) {
  // An SMS gateway and a push service; email is configured but this customer has no address.
  httplib::Server gateway;
  std::mutex mu;
  std::vector<nlohmann::json> sent;
  gateway.Post(R"(/(sms|push))", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    sent.push_back(nlohmann::json::parse(req.body));
    sent.back()["path"] = req.path;
    res.set_content(R"({"id": "p-)" + std::to_string(sent.size()) + R"("})", "application/json");
  });
  const int port = gateway.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { gateway.listen_after_bind(); });
  while (!gateway.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const std::string config = write("ordo.json", R"({
    "adapters": {"notify.send": {"adapter": "notify"}},
    "notifications": {
      "templates": ")" ORDO_SOURCE_DIR R"(/processes/templates",
      "deliveryLog": "deliveries.db",
      "channels": {"sms": {"url": ")" + base + R"(/sms"}, "push": {"url": ")" + base + R"(/push"},
                   "email": {"url": "smtp://127.0.0.1:1", "from": "shop@example.com"}},
      "rules": {"order-confirmation": ["push", "email"], "order-shipped": ["sms"],
                "order-delivered": ["sms"]}}})");
  const std::uint64_t id = start_order(
      "A-7", R"("paymentDelayMinutes": 0, "deliveryDays": 0, "customer": {"name": "Jan Kowalski",
      "phone": "+48 601 234 567", "pushToken": "dev-1", "locale": "pl"})");
  CliRun worker = db("worker --until-idle --simulate --config " + config);
  gateway.stop();
  serving.join();
  EXPECT_EQ(worker.exit_code, 0) << worker.out;
  EXPECT_EQ(db_json("show " + std::to_string(id))["endEvent"], "end-delivered");
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0]["path"], "/push");
  EXPECT_EQ(sent[1]["to"], "+48601234567");
  const std::string log = (fs::path(config).parent_path() / "deliveries.db").string();
  CliRun listed = ordo_cli("deliveries --log " + log + " --order A-7");
  EXPECT_EQ(listed.exit_code, 0) << listed.out;
  EXPECT_TRUE(contains(listed.out, "order-shipped  sms  sent  to +48601234567 (pl)")) << listed.out;
  nlohmann::json rows = nlohmann::json::parse(ordo_cli("deliveries --json --log " + log).out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["message"], "order-confirmation");
  EXPECT_EQ(rows[0]["channel"], "push");
  EXPECT_EQ(rows[2]["message"], "order-delivered");
  CliRun missing = ordo_cli("deliveries --log " + log + ".nowhere");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(contains(missing.out, "no delivery log at")) << missing.out;
}

TEST_F(CliDbTest, WorkerRunsOrdersToTheirEndAndShowHasTheTimeline) {
  const std::uint64_t quick = start_quick_order("A-1");
  const std::uint64_t waiting = start_order("A-2", "\"paymentOutcome\": \"timeout\"");
  CliRun worker = db("worker --until-idle --simulate");
  EXPECT_EQ(worker.exit_code, 0) << worker.out;
  // Payment confirmed and delivered: the two messages the simulated world publishes.
  EXPECT_TRUE(contains(worker.out, "worker idle: ")) << worker.out;
  EXPECT_TRUE(contains(worker.out, " jobs and timers handled, 2 messages published")) << worker.out;
  EXPECT_TRUE(fs::exists(db_ + ".effects.jsonl"));

  nlohmann::json completed = db_json("instances --state completed");
  ASSERT_EQ(completed.size(), 1u) << completed.dump(2);
  EXPECT_EQ(completed[0]["id"], quick);
  EXPECT_EQ(completed[0]["endEvent"], "end-delivered");
  EXPECT_TRUE(is_iso_utc(completed[0]["startedAt"])) << completed.dump(2);
  EXPECT_TRUE(is_iso_utc(completed[0]["endedAt"])) << completed.dump(2);
  nlohmann::json active = db_json("instances --state active --process order-acceptance");
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0]["id"], waiting);
  EXPECT_EQ(db_json("instances --process other").size(), 0u);
  EXPECT_EQ(db_json("instances --limit 1").size(), 1u);

  CliRun table = db("instances");
  EXPECT_EQ(table.out.rfind("ID", 0), 0u) << table.out;
  EXPECT_TRUE(contains(table.out, "END EVENT")) << table.out;
  EXPECT_TRUE(contains(table.out, "order-acceptance:1  A-1  completed")) << table.out;
  EXPECT_TRUE(contains(table.out, "end-delivered")) << table.out;
  EXPECT_EQ(db("instances --state sleeping").exit_code, 2);

  CliRun show = db("show " + std::to_string(quick));
  EXPECT_EQ(show.exit_code, 0) << show.out;
  EXPECT_TRUE(contains(show.out, "order-acceptance:1  key A-1\n")) << show.out;
  EXPECT_TRUE(contains(show.out, "state    completed (end-delivered)")) << show.out;
  EXPECT_TRUE(contains(show.out, "  trackingNumber = \"TRK-A-1\"")) << show.out;
  EXPECT_TRUE(contains(show.out, "\nhistory\n  TIME ")) << show.out;
  // Timeline rows: time, element (flows named too), event, detail.
  EXPECT_TRUE(has_line(show.out, {"  20", "Z  order-received", "element-activated"})) << show.out;
  EXPECT_TRUE(has_line(show.out, {"Z  f-pay-start", "flow-taken"})) << show.out;
  EXPECT_TRUE(has_line(show.out, {"check-availability", "job-created", "job ",
                                  " erp.check-availability, 3 retries"}))
      << show.out;
  EXPECT_TRUE(has_line(show.out, {"charge-payment", "variables-updated", "set paymentId"}))
      << show.out;
  EXPECT_TRUE(contains(show.out, "message-correlated")) << show.out;
  EXPECT_TRUE(contains(show.out, "instance-completed")) << show.out;

  nlohmann::json shown = db_json("show " + std::to_string(waiting));
  EXPECT_EQ(shown["state"], "active");
  EXPECT_EQ(shown["businessKey"], "A-2");
  bool waits_for_payment = false;
  for (const auto& e : shown["elements"]) {
    waits_for_payment |= e["elementId"] == "await-payment-confirmation";
  }
  EXPECT_TRUE(waits_for_payment) << shown.dump(2);
  ASSERT_FALSE(shown["history"].empty());
  EXPECT_EQ(shown["history"][0]["kind"], "instance-started");
  EXPECT_TRUE(is_iso_utc(shown["history"][0]["time"]));

  CliRun unknown = db("show 999999");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(contains(unknown.out, "ordo show: no instance 999999")) << unknown.out;

  // Running again finds nothing new to do: the effects are not repeated.
  CliRun again = db("worker --until-idle --simulate");
  EXPECT_TRUE(contains(again.out, "worker idle: 0 jobs and timers handled, 0 messages published"))
      << again.out;
}

TEST_F(CliDbTest, WorkerStopsOnSigterm) {
  const std::uint64_t id = start_order("A-1", "\"paymentOutcome\": \"timeout\"");
  // Without --until-idle the worker runs until a signal: sent once it has charged the payment.
  const std::string ordo = ORDO_CLI, id_text = std::to_string(id),
                    log = (dir_ / "worker.log").string();
  CliRun r = capture(ordo + " worker --simulate --db " + db_ + " > " + log + " 2>&1 & pid=$!; i=0; " +
                     "while [ $i -lt 200 ] && ! " + ordo + " show --db " + db_ + " " + id_text +
                     " | grep -q charge-payment.*job-completed; do sleep 0.05; i=$((i+1)); done; " +
                     "kill -TERM $pid; wait $pid; echo exit=$?; cat " + log);
  EXPECT_TRUE(contains(r.out, "exit=0\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "worker stopped: ")) << r.out;
  CliRun show = db("show " + id_text);
  EXPECT_TRUE(has_line(show.out, {"charge-payment", "job-completed"})) << show.out;
  EXPECT_TRUE(
      has_line(show.out, {"await-payment-confirmation", "intermediateCatchEvent", "active"}))
      << show.out;
}

TEST_F(CliDbTest, IncidentsCanBeListedAndRetried) {
  // A job with one retry whose simulated handler fails while failTask names it.
  std::string flaky = write(
      "flaky.bpmn",
      testing::process(testing::straight("<serviceTask id=\"flaky\"><extensionElements>"
                                         "<zeebe:taskDefinition type=\"flaky\" retries=\"1\"/>"
                                         "</extensionElements></serviceTask>",
                                         "flaky"),
                       "flaky-process"));
  ASSERT_EQ(db("deploy " + flaky).exit_code, 0);
  nlohmann::json started = db_json("start flaky-process --vars '{\"failTask\": \"flaky\"}'");
  const std::uint64_t id = started["instance"];
  CliRun worker = db("worker --until-idle --simulate");
  EXPECT_TRUE(contains(worker.out, ", 1 open incident")) << worker.out;

  nlohmann::json incidents = db_json("incidents");
  ASSERT_EQ(incidents.size(), 1u) << incidents.dump(2);
  EXPECT_EQ(incidents[0]["instance"], id);
  EXPECT_EQ(incidents[0]["elementId"], "flaky");
  EXPECT_EQ(incidents[0]["type"], "job-no-retries");
  EXPECT_TRUE(is_iso_utc(incidents[0]["createdAt"]));
  const std::string key = std::to_string(incidents[0]["key"].get<std::uint64_t>());
  CliRun table = db("incidents");
  EXPECT_TRUE(contains(table.out, "KEY")) << table.out;
  EXPECT_TRUE(contains(table.out, "simulated failure of flaky")) << table.out;
  CliRun show = db("show " + std::to_string(id));
  EXPECT_TRUE(contains(show.out, "state    incident")) << show.out;
  EXPECT_TRUE(
      has_line(show.out, {"flaky", "incident-raised",
                          "incident " + key + ": job 'flaky' failed and has no retries left"}))
      << show.out;

  // Retrying without fixing the cause: the job runs and fails again, a new incident.
  CliRun retry = db("retry " + key);
  EXPECT_EQ(retry.exit_code, 0) << retry.out;
  EXPECT_TRUE(contains(retry.out, "resolved incident " + key + " (job-no-retries at flaky)"))
      << retry.out;
  EXPECT_TRUE(contains(retry.out, "has 1 retry for the next ordo worker")) << retry.out;
  EXPECT_EQ(db("incidents").out, "no open incidents\n");
  EXPECT_TRUE(contains(db("worker --until-idle --simulate").out, ", 1 open incident"));
  nlohmann::json again = db_json("incidents");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_NE(again[0]["key"], incidents[0]["key"]);

  // Fixing the variable that makes it fail: the instance completes.
  const std::string key2 = std::to_string(again[0]["key"].get<std::uint64_t>());
  CliRun fixed = db("retry " + key2 + " --retries 2 --vars '{\"failTask\": null}'");
  EXPECT_EQ(fixed.exit_code, 0) << fixed.out;
  EXPECT_TRUE(contains(fixed.out, "has 2 retries")) << fixed.out;
  EXPECT_EQ(db("worker --until-idle --simulate").exit_code, 0);
  EXPECT_EQ(db_json("show " + std::to_string(id))["state"], "completed");
  EXPECT_EQ(db_json("incidents"), nlohmann::json::array());

  CliRun unknown = db("retry " + key2);
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(contains(unknown.out, "ordo retry: no open incident " + key2)) << unknown.out;
}

TEST_F(CliDbTest, CancelTerminatesAnInstance) {
  const std::uint64_t id = start_order("A-1");
  CliRun r = db("cancel " + std::to_string(id));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "cancelled instance " + std::to_string(id) + "\n");
  nlohmann::json terminated = db_json("instances --state terminated");
  ASSERT_EQ(terminated.size(), 1u);
  EXPECT_EQ(terminated[0]["id"], id);
  nlohmann::json shown = db_json("show " + std::to_string(id));
  EXPECT_EQ(shown["elements"], nlohmann::json::array());
  EXPECT_EQ(shown["history"].back()["kind"], "instance-terminated");
  // Nothing is left for a worker.
  EXPECT_TRUE(contains(db("worker --until-idle --simulate").out, "0 jobs and timers handled"));
  // Without --simulate nothing is answered either: the worker only names what it cannot do.
  CliRun plain = db("worker --until-idle");
  EXPECT_TRUE(contains(plain.out, "0 jobs and timers handled")) << plain.out;

  CliRun unknown = db("cancel 999999");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(has_line(unknown.out, {"ordo cancel: ", " 999999"})) << unknown.out;
  EXPECT_EQ(db("cancel not-a-number").exit_code, 2);
}

TEST_F(CliDbTest, BackupIsADatabaseWithTheSameInstances) {
  start_quick_order("A-1");
  start_order("A-2", "\"paymentOutcome\": \"timeout\"");
  ASSERT_EQ(db("worker --until-idle --simulate").exit_code, 0);
  const std::string copy = (dir_ / "copy.db").string();
  CliRun r = db("backup " + copy);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "backed up " + db_ + " to " + copy + "\n");
  nlohmann::json original = db_json("instances");
  ASSERT_EQ(original.size(), 2u);
  CliRun listed = ordo_cli("instances --json --db " + copy);
  EXPECT_EQ(listed.exit_code, 0) << listed.out;
  EXPECT_EQ(nlohmann::json::parse(listed.out, nullptr, false), original);
  // No leftovers of the temporary file.
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_FALSE(contains(entry.path().filename().string(), ".partial-")) << entry.path();
  }

  // An existing DEST is replaced only with --force, and never by the database itself.
  start_order("A-3");
  CliRun refused = db("backup " + copy);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(contains(refused.out, "ordo backup: " + copy + " exists; give --force"))
      << refused.out;
  EXPECT_EQ(nlohmann::json::parse(ordo_cli("instances --json --db " + copy).out).size(), 2u);
  EXPECT_EQ(db("backup --force " + copy).exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(ordo_cli("instances --json --db " + copy).out).size(), 3u);
  CliRun itself = db("backup --force " + db_);
  EXPECT_EQ(itself.exit_code, 1);
  EXPECT_TRUE(contains(itself.out, "is the database itself")) << itself.out;
  EXPECT_EQ(db_json("instances").size(), 3u);
}

TEST_F(CliTest, ARefusedDatabaseIsNamedAndExitsOne) {
  const std::string text = write("notes.txt", "not a database\n");
  for (const std::string& cmd :
       std::vector<std::string>{"instances", "incidents", "show 1", "worker --until-idle",
                                "deploy " + kShipped, "backup " + (dir_ / "b.db").string()}) {
    CliRun r = ordo_cli(cmd + " --db " + text);
    EXPECT_EQ(r.exit_code, 1) << cmd << "\n" << r.out;
    const std::string verb = cmd.substr(0, cmd.find(' '));
    EXPECT_TRUE(contains(r.out, "ordo " + verb + ": " + text + " is not an Ordo database"))
        << cmd << "\n"
        << r.out;
  }
  std::ifstream in(text);
  std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, "not a database\n");
  EXPECT_FALSE(fs::exists(dir_ / "b.db"));

  // Only deploy creates a database; elsewhere a missing file is a mistake.
  const std::string missing = (dir_ / "missing.db").string();
  CliRun r = ordo_cli("instances --db " + missing);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.out, "ordo instances: no database at " + missing)) << r.out;
  EXPECT_FALSE(fs::exists(missing));
  EXPECT_EQ(ordo_cli("instances").exit_code, 2);  // --db is required
}

TEST_F(CliTest, ReplayWritesJsonReportAndEventsAndSummarises) {
  const std::string history = ORDO_SOURCE_DIR "/examples/order-log/orders.csv";
  const std::string config = ORDO_SOURCE_DIR "/examples/order-log/replay.json";
  const std::string json_out = (dir_ / "kpis.json").string();
  const std::string html = (dir_ / "report.html").string();
  const std::string events = (dir_ / "events.xes").string();
  CliRun r = ordo_cli("replay " + kShipped + " --order-log " + history + " --config " + config +
                      " --threads 2 --json " + json_out + " --report " + html + " --events " +
                      events);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("200 records read, 200 replayed, 0 skipped"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("end-delivered"), std::string::npos);
  EXPECT_EQ(r.out.find("\r["), std::string::npos) << "no progress bar when stderr is no terminal";
  std::ifstream in(json_out);
  const nlohmann::json kpis = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(kpis.is_object());
  EXPECT_EQ(kpis["variants"][0]["orders"], 200);
  EXPECT_GT(fs::file_size(html), 10000u);
  EXPECT_GT(fs::file_size(events), 100000u);

  CliRun to_stdout = ordo_cli("replay " + kShipped + " --order-log " + history + " --config " +
                              config + " --json -");
  ASSERT_EQ(to_stdout.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(to_stdout.out, nullptr, false), kpis)
      << "--json - prints the same document, and nothing else";
}

TEST_F(CliTest, ReplayWritesCompressedXesThatConformanceReadsBack) {
  const std::string history = ORDO_SOURCE_DIR "/examples/order-log/orders.csv";
  const std::string config = ORDO_SOURCE_DIR "/examples/order-log/replay.json";
  const std::string gz = (dir_ / "events.xes.gz").string();
  const std::string plain = (dir_ / "events.xes").string();
  const std::string csv = (dir_ / "events.csv").string();
  for (const std::string& out : {gz, plain, csv}) {
    CliRun r = ordo_cli("replay " + kShipped + " --order-log " + history + " --config " + config +
                        " --events " + out + " -q");
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  // gzip: the magic bytes, and much smaller than the XML.
  std::ifstream in(gz, std::ios::binary);
  char magic[2] = {};
  in.read(magic, 2);
  EXPECT_EQ(static_cast<unsigned char>(magic[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(magic[1]), 0x8b);
  EXPECT_LT(fs::file_size(gz) * 5, fs::file_size(plain));
  // Both read back as event logs, with the conformance the CSV event log of the same replay
  // has (its few orders still waiting at the log's end deviate alike).
  std::vector<nlohmann::json> summaries;
  for (const std::string& log : {csv, gz, plain}) {
    CliRun r = ordo_cli("conformance " + kShipped + " --log " + log + " --json");
    const nlohmann::json report = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_TRUE(report.is_object()) << r.out;
    EXPECT_EQ(report["cases"], 200) << r.out.substr(0, 400);
    EXPECT_GT(report["fittingCases"].get<int>(), 190);
    std::vector<std::string> deviating;
    for (const auto& c : report["caseResults"]) {
      if (!c["fits"].get<bool>()) deviating.push_back(c["case"]);
    }
    summaries.push_back({{"exit", r.exit_code}, {"fitting", report["fittingCases"]},
                         {"fitness", report["fitness"]}, {"tokens", report["tokens"]},
                         {"deviating", deviating}});
  }
  EXPECT_EQ(summaries[1], summaries[0]) << "the .xes.gz reads as the CSV";
  EXPECT_EQ(summaries[2], summaries[0]) << "the .xes reads as the CSV";
  // A file that is not XES says so.
  const std::string broken = write("broken.xes", "<log><trace><event></trace></log>");
  CliRun r = ordo_cli("conformance " + kShipped + " --log " + broken);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("broken.xes:1: not well-formed XML"), std::string::npos) << r.out;
}

TEST_F(CliTest, ReplayBadRecordExitsOneNamingTheLine) {
  const std::string history =
      write("h.csv", "orderId,createdAt,inStock\nA,2026-09-01T10:00:00Z,false\nB,soon,true\n");
  const std::string config = ORDO_SOURCE_DIR "/examples/order-log/replay.json";
  CliRun r = ordo_cli("replay " + kShipped + " --order-log " + history + " --config " + config);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("h.csv:3: 'createdAt' is \"soon\""), std::string::npos) << r.out;
  // --history, the option's name before 0.2, is still understood.
  CliRun skipped = ordo_cli("replay " + kShipped + " --history " + history + " --config " +
                            config + " --skip-bad-records");
  EXPECT_EQ(skipped.exit_code, 0) << skipped.out;
  EXPECT_NE(skipped.out.find("2 records read, 1 replayed, 1 skipped"), std::string::npos)
      << skipped.out;
  CliRun usage = ordo_cli("replay " + kShipped + " --config " + config);
  EXPECT_EQ(usage.exit_code, 2) << usage.out;
}

}  // namespace

}  // namespace ordo
