// ordo replay with the real notification rules (ReplayOptions::notifications, as
// `ordo replay --notifications` builds them from an ordo.json): segments from the replayed
// history, one variant per customer, segment skips, quiet hours and caps in virtual time,
// the same bytes whatever the threads, and a configuration's mistakes named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "notify/engagement.h"
#include "ordo/adapters/adapters.h"
#include "ordo/sim/order_log_gen.h"
#include "ordo/sim/replay.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kNotifyProcess =
    ORDO_SOURCE_DIR "/examples/notification-rules/order-notifications.bpmn";
const std::string kRulesExample = ORDO_SOURCE_DIR "/examples/notification-rules/ordo.json";
const std::string kRulesReplayConfig = ORDO_SOURCE_DIR "/examples/notification-rules/replay.json";

std::string put(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// The rules' file: ${env:...} that no test sets (a rehearsal never opens the log, nor needs
// the secrets), no segment weights but the default, active customers not told of delivery.
json rules_file(json extra = json::object()) {
  json n = {
      {"templates", ORDO_SOURCE_DIR "/processes/templates"},
      {"deliveryLog", "${env:ORDO_TEST_NEVER_SET}/deliveries.db"},
      {"timeZone", "Europe/Berlin"},
      {"shop", {{"name", "Ordo Shop"}, {"url", "https://shop.example"}}},
      {"channels",
       {{"email",
         {{"url", "smtp://127.0.0.1:1"},
          {"from", "shop@shop.example"},
          {"password", "${env:ORDO_TEST_NEVER_SET}"}}},
        {"sms",
         {{"url", "http://127.0.0.1:1/sms"},
          {"quietHours", {{"from", "21:00"}, {"to", "08:00"}}}}}}},
      {"rules",
       {{"order-confirmation", {"email"}},
        {"order-shipped", {"sms", "email"}},
        {"order-delivered", {"email"}}}},
      {"segments",
       {{"windowDays", 90},
        {"newWithinDays", 0},
        {"activeMinOrders", 2},
        {"bySegment", {{"active", {{"skip", {"order-delivered"}}}}}}}},
      {"experiments",
       {{"shipped-copy",
         {{"message", "order-shipped"},
          {"variants", {{"control", "order-shipped"}, {"short", "order-shipped-short"}}},
          {"weights", {{"default", {{"control", 1}, {"short", 1}}}}}}}}}};
  n.update(extra);
  return {{"adapters",
           {{"customer.segment", {{"adapter", "segments"}}},
            {"notify.send", {{"adapter", "notify"}}},
            {"erp.ship", {{"adapter", "external"}}}}},
          {"notifications", n}};
}

// Fixed times: shipping and delivery as recorded.
json fixed_rules_config() {
  return json::parse(R"({
    "start": {"variables": {
      "orderId": "=orderId",
      "customer": "={id: customerId, email: email, phone: phone, locale: locale, timeZone: timeZone}"}},
    "horizon": "P10D",
    "tasks": {
      "erp.ship": {"latency": {"until": "shippedAt"},
                   "publish": [{"message": "order-delivered", "correlationKey": "=orderId",
                                "after": {"until": "deliveredAt"}}]}
    }})");
}

const char* kColumns = "orderId,createdAt,customerId,email,phone,locale,timeZone,shippedAt,deliveredAt\n";

// C1 orders three times (new, then occasional with one earlier order, then active with two),
// C2 once (new); all by day in Berlin.
const char* kCustomers =
    "A1,2026-09-01T08:00:00Z,C1,c1@example.com,+4915111111111,de,Europe/Berlin,"
    "2026-09-01T10:00:00Z,2026-09-02T10:00:00Z\n"
    "B1,2026-09-02T08:00:00Z,C2,c2@example.com,+4915122222222,en,Europe/Berlin,"
    "2026-09-02T10:00:00Z,2026-09-03T10:00:00Z\n"
    "A2,2026-09-05T08:00:00Z,C1,c1@example.com,+4915111111111,de,Europe/Berlin,"
    "2026-09-05T10:00:00Z,2026-09-06T10:00:00Z\n"
    "A3,2026-09-10T08:00:00Z,C1,c1@example.com,+4915111111111,de,Europe/Berlin,"
    "2026-09-10T10:00:00Z,2026-09-11T10:00:00Z\n";

class ReplayRules : public ::testing::Test {
 protected:
  Result<ReplayResult> run(const std::string& orders, const json& rules, json config,
                           int threads = 1) {
    Result<NotificationRehearsal> loaded =
        load_notification_rehearsal(put(dir_.path("ordo.json"), rules.dump()));
    if (!loaded) return loaded.status();
    ReplayOptions o;
    o.processes = {kNotifyProcess};
    o.order_log = put(dir_.path("orders.csv"), orders);
    o.config = std::move(config);
    o.threads = threads;
    o.notifications = {loaded->for_replay()};
    return replay(o);
  }

  TempDir dir_{"replay-rules"};
};

TEST_F(ReplayRules, SegmentsComeFromTheReplayedHistoryAndShapeWhatIsSent) {
  auto r = run(std::string(kColumns) + kCustomers, rules_file(), fixed_rules_config());
  ASSERT_OK(r);
  ASSERT_EQ(r->report["records"]["replayed"], 4);
  const json& n = r->report["variants"][0]["notifications"];
  // Each order is confirmed and told of shipping; A3 (active) is not told of delivery.
  EXPECT_EQ(n["byTemplate"], (json{{"order-confirmation", 4},
                                   {"order-shipped", 4},
                                   {"order-delivered", 3}}));
  EXPECT_EQ(n["byChannel"], (json{{"email", 7}, {"sms", 4}}));
  EXPECT_EQ(n["total"], 11);
  // A1 and B1 new (3 each), A2 occasional (3), A3 active (2).
  EXPECT_EQ(n["bySegment"], (json{{"new", 6}, {"occasional", 3}, {"active", 2}}));
  EXPECT_EQ(n["skipped"], (json{{"total", 1},
                                {"bySegment", {{"active", 1}}},
                                {"byTemplate", {{"order-delivered", 1}}}}));
  EXPECT_EQ(n["deferred"], 0);
  EXPECT_EQ(n["perOrder"]["histogram"], (json{{"2", 1}, {"3", 3}}));

  // One variant per customer, the one the hash gives in production.
  notify::Experiment e;
  e.id = "shipped-copy";
  e.message = "order-shipped";
  e.variants = {{"control", "order-shipped"}, {"short", "order-shipped-short"}};
  const std::string c1 = notify::pick_variant(e, {1, 1}, "C1").name;
  const std::string c2 = notify::pick_variant(e, {1, 1}, "C2").name;
  json expected = json::object();
  expected[c1]["sent"] = 3;
  expected[c1]["bySegment"] = {{"new", 1}, {"occasional", 1}, {"active", 1}};
  if (c2 == c1) {
    expected[c1]["sent"] = 4;
    expected[c1]["bySegment"]["new"] = 2;
  } else {
    expected[c2] = {{"sent", 1}, {"bySegment", {{"new", 1}}}};
  }
  EXPECT_EQ(n["experiments"]["shipped-copy"], expected);

  // Nothing was written beside the rules' file or here: the log was in memory.
  for (const auto& entry : fs::directory_iterator(dir_.dir())) {
    const std::string name = entry.path().filename().string();
    EXPECT_TRUE(name == "ordo.json" || name == "orders.csv") << name;
  }
  EXPECT_FALSE(fs::exists(":memory:"));
}

TEST_F(ReplayRules, QuietHoursAndTheCapHoldMessagesBackInVirtualTime) {
  // 22:30 in Berlin: the confirmation goes by email at once, the SMS that it shipped (at
  // 22:40) waits for 08:00.
  const std::string late = std::string(kColumns) +
                           "Q1,2026-09-01T20:30:00Z,C3,c3@example.com,+4915133333333,en,"
                           "Europe/Berlin,2026-09-01T20:40:00Z,2026-09-03T12:00:00Z\n";
  json config = fixed_rules_config();
  config["milestones"] = {{"told", "send-shipped"}};
  auto quiet = run(late, rules_file(), config);
  ASSERT_OK(quiet);
  const json& v = quiet->report["variants"][0];
  EXPECT_EQ(v["notifications"]["deferred"], 1);
  EXPECT_EQ(v["notifications"]["byChannel"]["sms"], 1);
  // Told at 06:00Z, 9.5 hours after the order.
  EXPECT_EQ(v["cycleTimes"]["told"]["max"], 9.5 * 3600);

  // By day, a cap of one message an hour: the SMS ten minutes after the confirmation waits
  // until the confirmation's hour is over.
  const std::string day = std::string(kColumns) +
                          "D1,2026-09-01T08:00:00Z,C4,c4@example.com,+4915144444444,en,"
                          "Europe/Berlin,2026-09-01T08:10:00Z,2026-09-03T12:00:00Z\n";
  auto capped = run(day, rules_file({{"capPerHour", 1}}), config);
  ASSERT_OK(capped);
  const json& c = capped->report["variants"][0];
  EXPECT_EQ(c["notifications"]["deferred"], 1);
  EXPECT_EQ(c["notifications"]["total"], 3);
  EXPECT_EQ(c["cycleTimes"]["told"]["max"], 3600);
}

TEST_F(ReplayRules, GeneratedHistoryShowsEverySegmentTheSameWhateverTheThreads) {
  std::ostringstream orders;
  OrderLogGenOptions gen;
  gen.orders = 3000;
  gen.seed = 7;
  ASSERT_OK(write_synthetic_order_log(orders, gen));
  Result<NotificationRehearsal> rules = load_notification_rehearsal(kRulesExample);
  ASSERT_OK(rules);
  std::ifstream config_file(kRulesReplayConfig);
  const json config = json::parse(config_file);
  json first;
  for (int threads : {1, 3}) {
    ReplayOptions o;
    o.processes = {kNotifyProcess};
    o.order_log = put(dir_.path("generated.csv"), orders.str());
    o.config = config;
    o.threads = threads;
    o.notifications = {rules->for_replay()};
    Result<ReplayResult> r = replay(o);
    ASSERT_OK(r);
    if (threads == 1) {
      first = r->report;
      continue;
    }
    EXPECT_EQ(r->report, first) << "with " << threads << " threads";
  }
  const json& n = first["variants"][0]["notifications"];
  for (const char* segment : {"new", "occasional", "active"}) {
    EXPECT_GT(n["bySegment"].value(segment, 0), 0) << segment;
  }
  const json& copy = n["experiments"]["shipped-copy"];
  EXPECT_GT(copy["control"]["sent"].get<int>(), 0);
  EXPECT_GT(copy["short"]["sent"].get<int>(), 0);
  // Weights give active customers the control, but customers who were sent the short one
  // before they became active keep it.
  EXPECT_EQ(copy["short"]["bySegment"].value("new", 0) > 0, true);
  EXPECT_GT(n["skipped"]["bySegment"].value("active", 0), 0);
}

TEST_F(ReplayRules, ADecisionGivenBesideTheProcessGivesTheSegments) {
  const std::string dmn = put(dir_.path("segments.dmn"), R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="replay-segments" name="Segments" namespace="https://ordo.test/replay-segments">
  <decision id="customer-segment" name="Customer segment">
    <decisionTable id="table" hitPolicy="FIRST">
      <input id="orders"><inputExpression typeRef="number"><text>orders</text></inputExpression></input>
      <output id="segment" name="segment" typeRef="string"/>
      <rule id="loyal"><inputEntry><text>&gt;= 2</text></inputEntry><outputEntry><text>"loyal"</text></outputEntry></rule>
      <rule id="rest"><inputEntry><text>-</text></inputEntry><outputEntry><text>"first-timer"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>)");
  json rules = rules_file();
  rules["notifications"]["segments"] = {{"decision", "customer-segment"}};
  Result<NotificationRehearsal> loaded =
      load_notification_rehearsal(put(dir_.path("ordo.json"), rules.dump()));
  ASSERT_OK(loaded);
  ReplayOptions o;
  o.processes = {kNotifyProcess, dmn};
  o.order_log = put(dir_.path("orders.csv"), std::string(kColumns) + kCustomers);
  o.config = fixed_rules_config();
  o.notifications = {loaded->for_replay()};
  Result<ReplayResult> r = replay(o);
  ASSERT_OK(r);
  // A1, A2 (one earlier order) and B1 first-timers; A3 (two earlier) loyal.
  EXPECT_EQ(r->report["variants"][0]["notifications"]["bySegment"],
            (json{{"first-timer", 9}, {"loyal", 3}}));
}

TEST_F(ReplayRules, AnOrderLeftOutIsNotInItsCustomersHistory) {
  // A1 has no shipping time: a bad record, left out; A2 is then C1's first order.
  const std::string orders =
      std::string(kColumns) +
      "A1,2026-09-01T08:00:00Z,C1,c1@example.com,+4915111111111,de,Europe/Berlin,,\n"
      "A2,2026-09-05T08:00:00Z,C1,c1@example.com,+4915111111111,de,Europe/Berlin,"
      "2026-09-05T10:00:00Z,2026-09-06T10:00:00Z\n";
  Result<NotificationRehearsal> loaded =
      load_notification_rehearsal(put(dir_.path("ordo.json"), rules_file().dump()));
  ASSERT_OK(loaded);
  ReplayOptions o;
  o.processes = {kNotifyProcess};
  o.order_log = put(dir_.path("orders.csv"), orders);
  o.config = fixed_rules_config();
  o.notifications = {loaded->for_replay()};
  o.skip_bad_records = true;
  Result<ReplayResult> r = replay(o);
  ASSERT_OK(r);
  EXPECT_EQ(r->report["records"]["skipped"], 1);
  const json& n = r->report["variants"][0]["notifications"];
  EXPECT_EQ(n["bySegment"], (json{{"new", 3}})) << n.dump();
  EXPECT_EQ(n["byTemplate"]["order-confirmation"], 1);
}

TEST_F(ReplayRules, ACustomerTheLanesDoNotFollowIsABadRecord) {
  // C5's orders name no customerId: the lanes would go by order id while the rules know
  // the customer by email, and their history would be split over lanes.
  const std::string orders =
      std::string(kColumns) +
      "E1,2026-09-01T08:00:00Z,,c5@example.com,+4915155555555,en,Europe/Berlin,"
      "2026-09-01T10:00:00Z,2026-09-02T10:00:00Z\n" +
      kCustomers;
  json config = fixed_rules_config();
  config["start"]["variables"]["customer"] =
      "={id: if customerId = \"\" then null else customerId, email: email, phone: phone}";
  auto r = run(orders, rules_file(), config);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("orders.csv:2: the notification rules know this order's "
                                      "customer as 'c5@example.com'"),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("'customerId'"), std::string::npos);
}

TEST_F(ReplayRules, EachVariantMayHaveRulesOfItsOwnToCompareThem) {
  // Today's rules against a change: new customers are not told that their order shipped.
  json change = rules_file();
  change["notifications"]["segments"]["bySegment"]["new"] = {{"skip", {"order-shipped"}}};
  Result<NotificationRehearsal> today =
      load_notification_rehearsal(put(dir_.path("today.json"), rules_file().dump()));
  Result<NotificationRehearsal> proposed =
      load_notification_rehearsal(put(dir_.path("proposed.json"), change.dump()));
  ASSERT_OK(today);
  ASSERT_OK(proposed);
  ReplayOptions o;
  o.processes = {kNotifyProcess, kNotifyProcess};
  o.order_log = put(dir_.path("orders.csv"), std::string(kColumns) + kCustomers);
  o.config = fixed_rules_config();
  o.notifications = {today->for_replay(), proposed->for_replay()};
  Result<ReplayResult> r = replay(o);
  ASSERT_OK(r);
  const json& a = r->report["variants"][0];
  const json& b = r->report["variants"][1];
  EXPECT_EQ(a["name"], "order-notifications");
  EXPECT_EQ(b["name"], "order-notifications-2");
  EXPECT_EQ(a["notificationRules"], dir_.path("today.json"));
  EXPECT_EQ(b["notificationRules"], dir_.path("proposed.json"));
  EXPECT_EQ(a["notifications"]["byTemplate"]["order-shipped"], 4);
  // A1 and B1 were new.
  EXPECT_EQ(b["notifications"]["byTemplate"]["order-shipped"], 2);
  EXPECT_EQ(b["notifications"]["skipped"]["byTemplate"],
            (json{{"order-delivered", 1}, {"order-shipped", 2}}));

  // The report shows both rule sets and the volumes side by side.
  const std::string html = render_replay_html(r->report, r->documents);
  EXPECT_NE(html.find("notification rules from <code>" + dir_.path("proposed.json")),
            std::string::npos);
  for (const char* row : {">segment new<", ">segment active<", ">shipped-copy: control<",
                          ">not sent (skipped by the rules)<"}) {
    EXPECT_NE(html.find(row), std::string::npos) << row;
  }

  o.processes.push_back(kNotifyProcess);
  Result<ReplayResult> mismatch = replay(o);
  ASSERT_FALSE(mismatch.is_ok());
  EXPECT_NE(mismatch.status().message().find("2 sets for 3 variants"), std::string::npos)
      << mismatch.status().message();
}

TEST_F(ReplayRules, TheRulesFilesMistakesAreNamedBeforeAnythingRuns) {
  const auto refusal = [&](const json& file) {
    Result<NotificationRehearsal> r =
        load_notification_rehearsal(put(dir_.path("bad.json"), file.dump()));
    EXPECT_FALSE(r.is_ok());
    return r.is_ok() ? std::string() : r.status().message();
  };
  json no_section = rules_file();
  no_section.erase("notifications");
  EXPECT_NE(refusal(no_section).find("notifications: is missing"), std::string::npos);

  json no_notify = rules_file();
  no_notify["adapters"].erase("notify.send");
  EXPECT_NE(refusal(no_notify).find("\"notify\" adapter"), std::string::npos)
      << refusal(no_notify);

  json unknown = rules_file();
  unknown["notifications"]["capPerHours"] = 2;
  EXPECT_NE(refusal(unknown).find("capPerHours"), std::string::npos) << refusal(unknown);

  json bad_channel = rules_file();
  bad_channel["notifications"]["rules"]["order-shipped"] = {"fax"};
  EXPECT_NE(refusal(bad_channel).find("notifications.rules.order-shipped"), std::string::npos)
      << refusal(bad_channel);

  EXPECT_NE(refusal(json::array()).find("must be a JSON object"), std::string::npos);
  put(dir_.path("broken.json"), "{\"notifications\": ");
  Result<NotificationRehearsal> broken = load_notification_rehearsal(dir_.path("broken.json"));
  ASSERT_FALSE(broken.is_ok());
  EXPECT_NE(broken.status().message().find("broken.json:1:"), std::string::npos)
      << broken.status().message();

  // The replay config still needs entries for the job types the rules do not answer.
  json config = fixed_rules_config();
  config["tasks"].erase("erp.ship");
  auto r = run(std::string(kColumns) + kCustomers, rules_file(), config);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("no entry for job type 'erp.ship'"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace ordo::testing
