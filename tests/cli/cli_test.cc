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

}  // namespace
}  // namespace ordo
