// `ordo replay` (cli/replay_command.cc) as a user runs it: what it says about its input.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "durability/durability_util.h"

namespace ordo::replay_command_test {
namespace {

using testing::ProcessRun;
using testing::run_ordo;
using testing::TempDir;

bool mentions(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ReplayCommand, WarnsOfEachRepeatedOrderIdWithBothLinesAndCountsThem) {
  TempDir dir("replay-cmd");
  // The shipped sample's first order, saved by a spreadsheet (a byte order mark), twice.
  std::ifstream sample(ORDO_SOURCE_DIR "/examples/order-log/orders.csv", std::ios::binary);
  std::string header, first;
  std::getline(sample, header);
  std::getline(sample, first);
  const std::string log = dir.path("orders.csv");
  std::ofstream(log, std::ios::binary) << "\xEF\xBB\xBF" << header << '\n'
                                       << first << '\n'
                                       << first << '\n';
  const std::vector<std::string> args = {
      "replay",   ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn", "--order-log", log,
      "--config", ORDO_SOURCE_DIR "/examples/order-log/replay.json"};
  const ProcessRun r = run_ordo(args);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  const std::string id = first.substr(0, first.find(','));
  EXPECT_TRUE(mentions(r.out, "ordo replay: warning: " + log + ":3: order id \"" + id +
                                  "\" repeats the order of line 2; this record was left out"))
      << r.out;
  EXPECT_TRUE(mentions(r.out, "2 records read, 1 replayed, 0 skipped, 1 duplicate left out"))
      << r.out;
  std::vector<std::string> quiet = args;
  quiet.insert(quiet.end(), {"-q", "--json", "-"});
  const ProcessRun json = run_ordo(quiet);
  EXPECT_FALSE(mentions(json.out, "warning")) << "-q: nothing but the report";
  EXPECT_EQ(nlohmann::json::parse(json.out)["records"]["duplicates"], 1);
}

TEST(ReplayCommand, NotificationRulesOncePerFlagAnywhereOnTheLine) {
  // --notifications before the processes takes one file; the summary names the rules and
  // what they did; a rules file with a mistake stops the run naming it.
  const std::string rules = ORDO_SOURCE_DIR "/examples/notification-rules/ordo.json";
  const std::string process =
      ORDO_SOURCE_DIR "/examples/notification-rules/order-notifications.bpmn";
  const ProcessRun r = run_ordo(
      {"replay", "--notifications", rules, process, "--order-log",
       ORDO_SOURCE_DIR "/examples/order-log/orders.csv", "--config",
       ORDO_SOURCE_DIR "/examples/notification-rules/replay.json"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(mentions(r.out, "  notification rules: " + rules)) << r.out;
  EXPECT_TRUE(mentions(r.out, "    by segment: active ")) << r.out;
  EXPECT_TRUE(mentions(r.out, "    experiment shipped-copy: control ")) << r.out;

  TempDir dir("replay-rules-cmd");
  const std::string bad = dir.path("ordo.json");
  std::ofstream(bad) << R"({"adapters": {"notify.send": {"adapter": 7}}, "notifications": {}})";
  const ProcessRun refused = run_ordo(
      {"replay", process, "--order-log", ORDO_SOURCE_DIR "/examples/order-log/orders.csv",
       "--config", ORDO_SOURCE_DIR "/examples/notification-rules/replay.json",
       "--notifications", bad});
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  EXPECT_TRUE(mentions(refused.out, "ordo replay: --notifications: " + bad)) << refused.out;
}

}  // namespace
}  // namespace ordo::replay_command_test
