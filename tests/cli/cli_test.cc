// The ordo binary as a user runs it: output, JSON, exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace ordo {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

CliRun ordo_cli(const std::string& args) {
  std::string cmd = std::string(ORDO_CLI) + " " + args + " 2>&1";
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
  for (const char* cmd : {"--help", "validate --help", "inspect --help"}) {
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

}  // namespace
}  // namespace ordo
