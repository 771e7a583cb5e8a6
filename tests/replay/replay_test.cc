// ordo::replay: hand-made history whose KPIs are worked out by hand, determinism across lanes,
// bad records, the event log (CSV and XES), what-if probabilities and variants.
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "ordo/sim/order_log.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kProcess = ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn";
const std::string kExpress = ORDO_SOURCE_DIR "/processes/order-acceptance-express.bpmn";
const std::string kSampleHistory = ORDO_SOURCE_DIR "/examples/order-log/orders.csv";
const std::string kSampleConfig = ORDO_SOURCE_DIR "/examples/order-log/replay.json";

// The running test's own directory: a TempDir kept for the rest of the test program (the
// tests hand its path around), removed at the program's end.
std::string temp_dir() {
  static std::vector<std::pair<std::string, std::unique_ptr<TempDir>>> made;
  const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  if (made.empty() || made.back().first != test) {
    made.emplace_back(test, std::make_unique<TempDir>("replay"));
  }
  return made.back().second->dir();
}

std::string write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Fixed latencies, so every time in the KPIs can be worked out by hand.
json fixed_config() {
  return json::parse(R"({
    "start": {"variables": {"orderId": "=orderId"}},
    "horizon": "P10D",
    "milestones": {"confirmation": "send-confirmation", "shipping": "ship-order"},
    "rates": {"availability": {"reached": "reserve-stock", "of": "check-availability"}},
    "sla": [{"name": "confirmed within a minute", "milestone": "confirmation", "within": "PT1M"},
            {"name": "done within a day", "milestone": "end", "within": "P1D"}],
    "tasks": {
      "erp.check-availability": {"latency": {"fixed": "PT1S"}, "requires": ["inStock"],
                                 "outputs": {"available": "=inStock = \"true\""}},
      "erp.reserve": {"latency": {"fixed": "PT1S"}},
      "payment.charge": {"latency": {"fixed": "PT2S"}, "outcomes": [
        {"when": "=paymentOutcome = \"declined\"", "error": {"code": "PAYMENT_DECLINED"}},
        {"publish": [{"message": "payment-confirmed", "correlationKey": "=orderId",
                      "variables": {"paymentStatus": "approved"},
                      "after": {"field": "paymentConfirmSeconds"}}]}]},
      "payment.cancel": {"latency": {"fixed": "PT1S"}},
      "erp.release": {"latency": {"fixed": "PT1S"}},
      "erp.handover": {"latency": {"fixed": "PT10S"}},
      "erp.ship": {"latency": {"until": "shippedAt"},
                   "publish": [{"message": "order-delivered", "correlationKey": "=orderId",
                                "when": "=deliveredAt != null", "after": {"until": "deliveredAt"}}]},
      "notify.send": {"latency": {"fixed": "PT1S"}, "notification": {}}
    }})");
}

// Six orders, an hour apart from 2026-09-01T08:00Z (t0 of each is its createdAt):
//  A, B: delivered; C: out of stock; D: declined; E: confirmed after the 30-minute timeout;
//  F: shipped, never delivered (still waiting at the horizon).
const char* kHandMade =
    "orderId,createdAt,customerId,inStock,paymentOutcome,paymentConfirmSeconds,shippedAt,deliveredAt\n"
    "A,2026-09-01T08:00:00Z,C1,true,approved,60,2026-09-01T09:00:00Z,2026-09-03T08:00:00Z\n"
    "B,2026-09-01T09:00:00Z,C2,true,approved,120,2026-09-01T11:00:00Z,2026-09-04T09:00:00Z\n"
    "C,2026-09-01T10:00:00Z,C3,false,,,,\n"
    "D,2026-09-01T11:00:00Z,C1,true,declined,,,\n"
    "E,2026-09-01T12:00:00Z,C4,true,approved,3600,,\n"
    "F,2026-09-01T13:00:00Z,C5,true,approved,30,2026-09-01T14:00:00Z,\n";

Result<ReplayResult> run(const std::string& history, json config, int threads = 1,
                         std::string events = {}, std::vector<std::string> processes = {kProcess},
                         bool skip = false) {
  ReplayOptions o;
  o.processes = std::move(processes);
  o.order_log = history;
  o.config = std::move(config);
  o.threads = threads;
  o.events_path = std::move(events);
  o.skip_bad_records = skip;
  return replay(o);
}

TEST(Replay, HandMadeHistoryGivesTheKpisWorkedOutByHand) {
  const std::string dir = temp_dir();
  auto r = run(write(dir + "/h.csv", kHandMade), fixed_config());
  ASSERT_OK(r);
  const json& rep = r->report;
  EXPECT_EQ(rep["records"]["read"], 6);
  EXPECT_EQ(rep["records"]["replayed"], 6);
  const json& v = rep["variants"][0];
  EXPECT_EQ(v["orders"], 6);
  EXPECT_EQ(v["endEvents"], json({{"end-delivered", 2}, {"end-unavailable", 1},
                                  {"end-payment-failed", 2}, {"(waiting)", 1}}));
  // A: check 1 s, reserve 1 s, charge 2 s (t0+4s); confirmed at t0+2s+60s; confirmation mail
  // done at 63 s; hand-over (10 s) joins at 72 s; shipped at 1 h; delivered after 2 days;
  // the last mail 1 s later: 172,801 s. B: 259,201 s. C: 2 s. D: declined at 4 s, then
  // cancel, release, mail: 7 s. E: the 30-minute timer on the payment subprocess (entered
  // at 2 s) fires at 1,802 s, then three 1-second tasks: 1,805 s.
  const json& end = v["cycleTimes"]["end"];
  EXPECT_EQ(end["count"], 5);
  EXPECT_DOUBLE_EQ(end["p50"].get<double>(), 1805);
  EXPECT_DOUBLE_EQ(end["p90"].get<double>(), 259201);
  EXPECT_DOUBLE_EQ(end["max"].get<double>(), 259201);
  EXPECT_DOUBLE_EQ(end["mean"].get<double>(), (2 + 7 + 1805 + 172801 + 259201) / 5.0);
  const json& confirmation = v["cycleTimes"]["confirmation"];
  EXPECT_EQ(confirmation["count"], 3);  // A 63 s, B 123 s, F 33 s
  EXPECT_DOUBLE_EQ(confirmation["p50"].get<double>(), 63);
  EXPECT_DOUBLE_EQ(confirmation["max"].get<double>(), 123);
  const json& shipping = v["cycleTimes"]["shipping"];
  EXPECT_EQ(shipping["count"], 3);  // A 1 h, B 2 h, F 1 h
  EXPECT_DOUBLE_EQ(shipping["p50"].get<double>(), 3600);
  EXPECT_DOUBLE_EQ(shipping["max"].get<double>(), 7200);
  // Histogram: 2 s and 7 s under a minute, 1,805 s under an hour, the rest under 3 and 4 days.
  std::int64_t binned = 0;
  for (const json& bin : end["histogram"]) binned += bin["count"].get<std::int64_t>();
  EXPECT_EQ(binned, 5);
  EXPECT_EQ(end["histogram"][0]["count"], 2);

  EXPECT_EQ(v["rates"]["availability"], json({{"numerator", 5}, {"denominator", 6}, {"rate", 0.833333}}));
  EXPECT_EQ(v["elements"]["check-availability"], 6);
  EXPECT_EQ(v["elements"]["payment-timeout"], 1);
  EXPECT_EQ(v["elements"]["await-delivery"], 3);
  EXPECT_EQ(v["flows"]["available-no"], 1);

  // Mails: A and B three each, C, D and E one, F two (confirmation and shipped).
  const json& n = v["notifications"];
  EXPECT_EQ(n["total"], 11);
  EXPECT_EQ(n["byChannel"], json({{"email", 8}, {"sms", 3}}));
  EXPECT_EQ(n["byTemplate"]["order-confirmation"], 3);
  EXPECT_EQ(n["perOrder"]["histogram"], json({{"1", 3}, {"2", 1}, {"3", 2}}));
  EXPECT_EQ(n["perOrder"]["max"], 3);

  // Confirmed within a minute: A (63 s) and B (123 s) late, F (33 s) in time. Done within a
  // day: C, D, E in time, A and B late, F still open after 10 days: late.
  EXPECT_EQ(v["sla"][0]["applicable"], 3);
  EXPECT_EQ(v["sla"][0]["breached"], 2);
  EXPECT_EQ(v["sla"][1]["applicable"], 6);
  EXPECT_EQ(v["sla"][1]["breached"], 3);

  // The payment confirmation waits 58 s for A, 118 s for B, 28 s for F (E's was terminated).
  json await;
  for (const json& a : v["activities"]) {
    if (a["id"] == "await-payment-confirmation") await = a;
    if (a["id"] == "check-availability") {
      EXPECT_EQ(a["count"], 6);
      EXPECT_DOUBLE_EQ(a["processing"]["max"].get<double>(), 1);
      EXPECT_DOUBLE_EQ(a["waiting"]["max"].get<double>(), 0);
      EXPECT_EQ(a["adapter"], "erp.check-availability");
    }
  }
  ASSERT_TRUE(await.is_object());
  EXPECT_EQ(await["count"], 3);
  EXPECT_DOUBLE_EQ(await["waiting"]["p50"].get<double>(), 58);
  EXPECT_DOUBLE_EQ(await["waiting"]["max"].get<double>(), 118);

  // A and B took the same path, so it is the most frequent.
  EXPECT_EQ(v["traces"][0]["count"], 2);
  EXPECT_EQ(v["traces"][0]["path"].back(), "end-delivered");
  EXPECT_EQ(v["traces"].size(), 5u);
  EXPECT_EQ(v["incidents"]["total"], 0);
}

// The message a run stops with ("" and a test failure when it does not stop).
std::string refusal(const Result<ReplayResult>& r) {
  EXPECT_FALSE(r.is_ok()) << "the run was expected to stop";
  return r.is_ok() ? std::string() : r.status().message();
}

TEST(Replay, SameInputGivesTheSameBytesWhateverTheThreads) {
  const std::string dir = temp_dir();
  std::string first_json, first_csv, first_xes;
  for (int threads : {1, 2, 3}) {
    auto csv = run(kSampleHistory, json::parse(read(kSampleConfig)), threads,
                   dir + "/e" + std::to_string(threads) + ".csv");
    ASSERT_OK(csv);
    auto xes = run(kSampleHistory, json::parse(read(kSampleConfig)), threads,
                   dir + "/e" + std::to_string(threads) + ".xes");
    ASSERT_OK(xes);
    const std::string j = csv->report.dump();
    EXPECT_EQ(j, xes->report.dump());
    if (threads == 1) {
      first_json = j;
      first_csv = read(dir + "/e1.csv");
      first_xes = read(dir + "/e1.xes");
      EXPECT_EQ(csv->report["variants"][0]["orders"], 200);
      continue;
    }
    EXPECT_EQ(j, first_json) << threads << " threads";
    EXPECT_EQ(read(dir + "/e" + std::to_string(threads) + ".csv"), first_csv) << threads;
    EXPECT_EQ(read(dir + "/e" + std::to_string(threads) + ".xes"), first_xes) << threads;
  }
  EXPECT_GT(first_csv.size(), 10000u);
}

// A CSV record reaches its lane as cells and becomes an object there; a JSON Lines record is
// an object from the start. The same orders either way give the same report, and the same
// bad record is named. (A record's line is also its random stream: the JSON Lines file starts
// with a blank line where the CSV has its header, so the lines match.)
TEST(Replay, JsonLinesHistoryGivesWhatTheSameCsvGives) {
  const std::string dir = temp_dir();
  auto csv_reader = OrderLogReader::open(kSampleHistory);
  ASSERT_OK(csv_reader);
  std::string jsonl = "\n";
  while (true) {
    auto r = (*csv_reader)->next();
    ASSERT_OK(r);
    if (!*r) break;
    jsonl += (*r)->fields.dump() + "\n";
  }
  const std::string history = write(dir + "/orders.jsonl", jsonl);
  for (int threads : {1, 2}) {
    auto from_csv = run(kSampleHistory, json::parse(read(kSampleConfig)), threads);
    auto from_jsonl = run(history, json::parse(read(kSampleConfig)), threads);
    ASSERT_OK(from_csv);
    ASSERT_OK(from_jsonl);
    json a = from_csv->report, b = from_jsonl->report;
    a.erase("orderLog");
    b.erase("orderLog");
    EXPECT_EQ(a, b) << threads << " threads";
    EXPECT_EQ(b["variants"][0]["orders"], 200);
  }
  // Line 3 loses its createdAt: named as such, from either format.
  std::string broken_csv = read(kSampleHistory);
  std::string broken_jsonl = jsonl;
  {
    std::vector<std::string> lines;
    std::istringstream in(broken_csv);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    const std::size_t comma = lines[2].find(','), next = lines[2].find(',', comma + 1);
    lines[2].erase(comma + 1, next - comma - 1);
    broken_csv.clear();
    for (const std::string& l : lines) broken_csv += l + "\n";
    // Line 3: after the blank line and the first record.
    const std::size_t a = jsonl.find('\n', 1) + 1, b = jsonl.find('\n', a);
    json second = json::parse(jsonl.substr(a, b - a));
    second.erase("createdAt");
    broken_jsonl = jsonl.substr(0, a) + second.dump() + jsonl.substr(b);
  }
  for (const auto& [name, text] :
       {std::pair{"broken.csv", broken_csv}, {"broken.jsonl", broken_jsonl}}) {
    const std::string m =
        refusal(run(write(dir + "/" + name, text), json::parse(read(kSampleConfig)), 2));
    EXPECT_NE(m.find(std::string(name) + ":3: the record has no 'createdAt'"), std::string::npos)
        << m;
  }
}

TEST(Replay, AnotherSeedChangesDrawnLatenciesOnly) {
  ReplayOptions o;
  o.processes = {kProcess};
  o.order_log = kSampleHistory;
  o.config_path = kSampleConfig;
  o.seed = 1;
  auto a = replay(o);
  o.seed = 2;
  auto b = replay(o);
  ASSERT_OK(a);
  ASSERT_OK(b);
  const json& va = a->report["variants"][0];
  const json& vb = b->report["variants"][0];
  EXPECT_EQ(va["endEvents"], vb["endEvents"]) << "recorded outcomes do not depend on the seed";
  EXPECT_NE(va["cycleTimes"]["confirmation"]["p50"], vb["cycleTimes"]["confirmation"]["p50"]);
}

TEST(Replay, BadRecordsStopTheRunNamingTheLineOrAreSkipped) {
  const std::string dir = temp_dir();
  const std::string history = write(
      dir + "/h.csv",
      std::string(kHandMade) +
          "G,yesterday,C6,true,approved,30,2026-09-01T15:00:00Z,2026-09-02T15:00:00Z\n"  // line 8
          "H,2026-09-01T15:00:00Z,C7,,approved,30,,\n"                                  // line 9
          "I,2026-09-01T16:00:00Z,C8\n"                                                   // line 10
          "J,2026-09-01T17:00:00Z,C9,true,approved,30,,\n");  // line 11: shipped, no shippedAt
  const std::string stopped = refusal(run(history, fixed_config()));
  EXPECT_NE(stopped.find("h.csv:8: 'createdAt' is \"yesterday\""), std::string::npos) << stopped;
  EXPECT_NE(stopped.find("--skip-bad-records"), std::string::npos);

  auto skipped = run(history, fixed_config(), 2, {}, {kProcess}, true);
  ASSERT_OK(skipped);
  const json& rec = skipped->report["records"];
  EXPECT_EQ(rec["read"], 10);
  EXPECT_EQ(rec["skipped"], 4);
  EXPECT_EQ(rec["replayed"], 6);
  ASSERT_EQ(rec["skippedRecords"].size(), 4u);
  EXPECT_EQ(rec["skippedRecords"][0]["line"], 8);
  EXPECT_EQ(rec["skippedRecords"][1]["line"], 9);
  EXPECT_NE(rec["skippedRecords"][1]["message"].get<std::string>().find("no 'inStock'"), std::string::npos);
  EXPECT_EQ(rec["skippedRecords"][2]["line"], 10);
  EXPECT_NE(rec["skippedRecords"][2]["message"].get<std::string>().find("fields"), std::string::npos);
  EXPECT_EQ(rec["skippedRecords"][3]["line"], 11);
  EXPECT_NE(rec["skippedRecords"][3]["message"].get<std::string>().find("no 'shippedAt'"), std::string::npos)
      << rec["skippedRecords"][3];
  // The skipped orders are in no KPI.
  EXPECT_EQ(skipped->report["variants"][0]["orders"], 6);
  EXPECT_EQ(skipped->report["variants"][0]["elements"]["check-availability"], 6);
}

// An order exported twice would count twice in every KPI: the first record of an order is
// replayed, a later one left out and reported with both lines, whatever the threads.
TEST(Replay, ARepeatedOrderIdIsLeftOutAndReportedWithBothLines) {
  const std::string dir = temp_dir();
  const std::string history =
      write(dir + "/h.csv",
            "\xEF\xBB\xBF" + std::string(kHandMade) +  // saved by a spreadsheet: a byte order mark
                "B,2026-09-01T14:00:00Z,C2,true,approved,120,2026-09-01T15:00:00Z,\n"   // line 8
                "G,2026-09-01T15:00:00Z,C6,false,,,,\n"                                 // line 9
                "A,2026-09-01T16:00:00Z,C1,true,approved,60,2026-09-01T17:00:00Z,\n");  // line 10
  for (int threads : {1, 3}) {
    auto r = run(history, fixed_config(), threads);
    ASSERT_OK(r);
    const json& rec = r->report["records"];
    EXPECT_EQ(rec["read"], 9);
    EXPECT_EQ(rec["replayed"], 7);
    EXPECT_EQ(rec["skipped"], 0);
    EXPECT_EQ(rec["duplicates"], 2);
    EXPECT_EQ(rec["duplicateRecords"], json::parse(R"([{"line": 8, "orderId": "B", "firstLine": 3},
                              {"line": 10, "orderId": "A", "firstLine": 2}])"));
    const json& v = r->report["variants"][0];
    EXPECT_EQ(v["orders"], 7);
    EXPECT_EQ(v["endEvents"]["end-delivered"], 2) << "A and B once each";
    EXPECT_EQ(v["endEvents"]["end-unavailable"], 2) << "C and G";
  }
}

TEST(Replay, AStoppedRunNamesTheFirstBadRecordWhateverTheThreads) {
  const std::string dir = temp_dir();
  // Line 3 lacks shippedAt, which only the ship task finds out, an hour into the order;
  // line 9 has a malformed time, which reading finds at once.
  std::string history = std::string(kHandMade);
  history.replace(history.find("2026-09-01T11:00:00Z,2026-09-04"), 20, "");
  history += "G,yesterday,C6,true,approved,30,2026-09-01T15:00:00Z,2026-09-02T15:00:00Z\n";
  const std::string file = write(dir + "/h.csv", history);
  for (int threads : {1, 2, 3}) {
    auto r = run(file, fixed_config(), threads);
    ASSERT_FALSE(r.is_ok());
    EXPECT_TRUE(r.status().message().starts_with(dir + "/h.csv:3: the record has no 'shippedAt'"))
        << threads << ": " << r.status().message();
  }
}

TEST(Replay, ConfigMistakesNameTheirKey) {
  const std::string dir = temp_dir();
  const std::string history = write(dir + "/h.csv", kHandMade);
  json c = fixed_config();
  c["tasks"].erase("erp.ship");
  const std::string missing = refusal(run(history, c));
  EXPECT_NE(missing.find("no entry for job type 'erp.ship' (service task 'ship-order' at "),
            std::string::npos)
      << missing;
  c = fixed_config();
  c["tasks"]["erp.reserve"]["latncy"] = {{"fixed", "PT1S"}};
  const std::string typo = refusal(run(history, c));
  EXPECT_NE(typo.find("tasks.erp.reserve.latncy: is not a setting here"), std::string::npos) << typo;
  c = fixed_config();
  c["tasks"]["erp.reserve"]["outputs"] = {{"x", "=1 +"}};
  const std::string syntax = refusal(run(history, c));
  EXPECT_NE(syntax.find("tasks.erp.reserve.outputs.x: column"), std::string::npos) << syntax;
  c = fixed_config();
  c["milestones"]["confirmation"] = "no-such-element";
  const std::string unknown = refusal(run(history, c));
  EXPECT_NE(unknown.find("no process has an element 'no-such-element'"), std::string::npos);
}

TEST(Replay, EventLogCsvHasOneRowPerElementInstance) {
  const std::string dir = temp_dir();
  auto r = run(write(dir + "/h.csv", kHandMade), fixed_config(), 1, dir + "/events.csv");
  ASSERT_OK(r);
  ASSERT_EQ(r->event_files, std::vector<std::string>{dir + "/events.csv"});
  const std::string csv = read(dir + "/events.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "case_id,activity,activity_id,start_time,end_time,lifecycle,adapter");
  // C, out of stock: start event, check, mail, end event; gateways are not in the log.
  EXPECT_NE(csv.find("C,Order received,order-received,2026-09-01T10:00:00.000Z,2026-09-01T10:00:00.000Z,complete,\n"
                     "C,Check availability,check-availability,2026-09-01T10:00:00.000Z,2026-09-01T10:00:01.000Z,complete,erp.check-availability\n"
                     "C,Offer alternatives,notify-unavailable,2026-09-01T10:00:01.000Z,2026-09-01T10:00:02.000Z,complete,notify.send\n"
                     "C,Order unavailable,end-unavailable,2026-09-01T10:00:02.000Z,2026-09-01T10:00:02.000Z,complete,\n"),
            std::string::npos)
      << csv;
  EXPECT_EQ(csv.find("gw-available"), std::string::npos);
  // E's payment subprocess was interrupted by its timer; F is still waiting for delivery.
  EXPECT_NE(csv.find("E,Take payment,take-payment,2026-09-01T12:00:02.000Z,2026-09-01T12:30:02.000Z,terminated,"),
            std::string::npos);
  EXPECT_NE(csv.find("F,Delivered,await-delivery,2026-09-01T14:00:01.000Z,,active,"), std::string::npos);
  // Cases in the order they started: A (08:00) before C (10:00), though C ended first.
  EXPECT_LT(csv.find("\nA,"), csv.find("\nC,"));
  EXPECT_LT(csv.find("\nE,"), csv.find("\nF,"));
}

TEST(Replay, EventLogXesFollowsTheStandardsStructure) {
  const std::string dir = temp_dir();
  auto r = run(kSampleHistory, json::parse(read(kSampleConfig)), 2, dir + "/events.xes");
  ASSERT_OK(r);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_file((dir + "/events.xes").c_str()));
  pugi::xml_node log = doc.child("log");
  ASSERT_TRUE(log);
  EXPECT_STREQ(log.attribute("xes.version").value(), "1849-2016");
  EXPECT_STREQ(log.attribute("xmlns").value(), "http://www.xes-standard.org/");
  std::set<std::string> prefixes;
  for (pugi::xml_node e : log.children("extension")) {
    prefixes.insert(e.attribute("prefix").value());
    EXPECT_TRUE(std::string(e.attribute("uri").value()).starts_with("http://www.xes-standard.org/"));
  }
  EXPECT_EQ(prefixes, (std::set<std::string>{"concept", "time", "lifecycle"}));
  // The standard's order: extensions, globals, classifiers, log attributes, then traces.
  std::vector<std::string> order;
  for (pugi::xml_node c : log.children()) {
    if (order.empty() || order.back() != c.name()) order.push_back(c.name());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"extension", "global", "classifier", "string", "trace"}));
  const std::regex timestamp(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  const std::set<std::string> transitions = {"start", "complete", "ate_abort"};
  std::set<std::string> cases;
  std::size_t events = 0;
  for (pugi::xml_node trace : log.children("trace")) {
    pugi::xml_node name = trace.find_child_by_attribute("string", "key", "concept:name");
    ASSERT_TRUE(name);
    EXPECT_TRUE(cases.insert(name.attribute("value").value()).second) << "one trace per case";
    std::string last;
    for (pugi::xml_node event : trace.children("event")) {
      ++events;
      EXPECT_TRUE(event.find_child_by_attribute("string", "key", "concept:name"));
      pugi::xml_node t = event.find_child_by_attribute("date", "key", "time:timestamp");
      ASSERT_TRUE(t);
      const std::string when = t.attribute("value").value();
      EXPECT_TRUE(std::regex_match(when, timestamp)) << when;
      EXPECT_LE(last, when) << "events of a trace in time order";
      last = when;
      pugi::xml_node lc = event.find_child_by_attribute("string", "key", "lifecycle:transition");
      ASSERT_TRUE(lc);
      EXPECT_TRUE(transitions.count(lc.attribute("value").value())) << lc.attribute("value").value();
    }
  }
  EXPECT_EQ(cases.size(), 200u);
  EXPECT_GT(events, 200u * 10);
}

TEST(Replay, WhatIfProbabilitiesReplaceRecordedOutcomes) {
  const std::string dir = temp_dir();
  std::string history = "orderId,createdAt,customerId\n";
  for (int i = 0; i < 2000; ++i) {
    history += "O" + std::to_string(i) + ",2026-09-01T" + (i / 100 < 10 ? "0" : "") +
               std::to_string(i / 100) + ":" + (i % 60 < 10 ? "0" : "") + std::to_string(i % 60) +
               ":00Z,C" + std::to_string(i) + "\n";
  }
  // Each hour's records are in order within the hour only when sorted by minute: sort.
  std::vector<std::string> lines = split(history, '\n');
  std::sort(lines.begin() + 1, lines.end() - 1, [](const std::string& a, const std::string& b) {
    return a.substr(a.find(',')) < b.substr(b.find(','));
  });
  history.clear();
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) history += lines[i] + "\n";
  json c = json::parse(R"({
    "start": {"variables": {"orderId": "=orderId"}},
    "horizon": "P10D",
    "rates": {"availability": {"reached": "reserve-stock", "of": "check-availability"},
              "declined": {"reached": "payment-declined", "of": "reserve-stock"}},
    "tasks": {
      "erp.check-availability": {"outcomes": [{"probability": 0.9, "outputs": {"available": true}},
                                              {"outputs": {"available": false}}]},
      "payment.charge": {"latency": {"distribution": "exponential", "mean": "PT2S"}, "outcomes": [
        {"probability": 0.1, "error": "PAYMENT_DECLINED"},
        {"publish": [{"message": "payment-confirmed", "correlationKey": "=orderId",
                      "variables": {"paymentStatus": "approved"},
                      "after": {"distribution": "exponential", "mean": "PT1M"}}]}]},
      "erp.ship": {"latency": {"fixed": "PT1H"},
                   "publish": [{"message": "order-delivered", "correlationKey": "=orderId", "after": {"fixed": "P1D"}}]}
    },
    "default": {"latency": {"fixed": "PT1S"}}})");
  const std::string file = write(dir + "/h.csv", history);
  auto a = run(file, c, 2);
  ASSERT_OK(a);
  const json& rates = a->report["variants"][0]["rates"];
  EXPECT_NEAR(rates["availability"]["rate"].get<double>(), 0.9, 0.03);
  EXPECT_NEAR(rates["declined"]["rate"].get<double>(), 0.1, 0.03);
  auto b = run(file, c, 1);
  ASSERT_OK(b);
  EXPECT_EQ(a->report.dump(), b->report.dump());
}

TEST(Replay, VariantsSideBySideShowTheLongerPaymentWait) {
  ReplayOptions o;
  o.processes = {kProcess, kExpress};
  o.order_log = kSampleHistory;
  o.config_path = kSampleConfig;
  o.threads = 2;
  const std::string dir = temp_dir();
  o.events_path = dir + "/events.csv";
  auto r = replay(o);
  ASSERT_OK(r);
  const json& base = r->report["variants"][0];
  const json& express = r->report["variants"][1];
  EXPECT_EQ(base["name"], "order-acceptance");
  EXPECT_EQ(express["name"], "order-acceptance-express");
  EXPECT_EQ(base["orders"], express["orders"]);
  // Late confirmations fail orders only with the 30-minute wait.
  EXPECT_GT(base["rates"]["paymentTimeout"]["numerator"].get<int>(), 0);
  EXPECT_LT(express["rates"]["paymentTimeout"]["numerator"].get<int>(),
            base["rates"]["paymentTimeout"]["numerator"].get<int>());
  EXPECT_GT(express["endEvents"]["end-delivered"].get<int>(), base["endEvents"]["end-delivered"].get<int>());
  EXPECT_FALSE(express["notifications"]["byChannel"].contains("sms"));
  EXPECT_TRUE(express["notifications"]["byChannel"].contains("push"));
  EXPECT_EQ(r->event_files, (std::vector<std::string>{dir + "/events.order-acceptance.csv",
                                                       dir + "/events.order-acceptance-express.csv"}));
  for (const std::string& f : r->event_files) EXPECT_TRUE(fs::exists(f)) << f;
}

// The saga calls the shipping decision: deployed from the DMN file given beside the
// processes, it runs for every order (no incident), and is no variant of its own.
TEST(Replay, TheSagaChoosesItsCarrierWithTheDecisionGivenBesideIt) {
  ReplayOptions o;
  o.processes = {ORDO_SOURCE_DIR "/processes/order-acceptance-saga.bpmn",
                 ORDO_SOURCE_DIR "/processes/shipping.dmn"};
  o.order_log = kSampleHistory;
  o.config_path = kSampleConfig;
  auto r = replay(o);
  ASSERT_OK(r);
  ASSERT_EQ(r->report["variants"].size(), 1u);
  const json& saga = r->report["variants"][0];
  EXPECT_FALSE(saga["endEvents"].contains("(incident)")) << saga["endEvents"];
  EXPECT_GT(saga["endEvents"]["end-delivered"].get<int>(), 0);
  // Without the decision every order that gets that far waits on a decision incident.
  o.processes.pop_back();
  auto without = replay(o);
  ASSERT_OK(without);
  EXPECT_GT(without->report["variants"][0]["endEvents"]["(incident)"].get<int>(), 0);
  // A DMN file with errors stops the replay, naming it.
  const std::string broken = write(temp_dir() + "/broken.dmn", "<definitions");
  o.processes.push_back(broken);
  auto refused = replay(o);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.status().message().find("broken.dmn"), std::string::npos)
      << refused.status().message();
}

TEST(Replay, ItsOwnEventLogConformsToTheProcess) {
  const std::string dir = temp_dir();
  auto r = run(kSampleHistory, json::parse(read(kSampleConfig)), 2, dir + "/events.csv");
  ASSERT_OK(r);
  LoadResult loaded = load_bpmn_file(kProcess);
  ASSERT_TRUE(loaded.document);
  auto log = OrderLogReader::open(dir + "/events.csv");
  ASSERT_OK(log);
  auto report = check_conformance(*loaded.document->processes.front(), **log);
  ASSERT_OK(report);
  EXPECT_EQ(report->cases.size(), 200u);
  // Every order fits, but those the carrier refused: their error stops them at an incident
  // in "Ship order" (the shipped process does not catch it), so their trace is unfinished.
  std::set<std::string> refused;
  auto orders = OrderLogReader::open(kSampleHistory);
  ASSERT_OK(orders);
  while (auto record = must((*orders)->next())) {
    if (record->fields.contains("shipmentFailedAt")) {
      refused.insert(record->fields["orderId"].get<std::string>());
    }
  }
  ASSERT_FALSE(refused.empty());
  for (const CaseConformance& c : report->cases) {
    EXPECT_EQ(c.fits(), refused.count(c.case_id) == 0) << c.case_id;
  }
  EXPECT_EQ(report->fitting_cases, 200u - refused.size());
}

TEST(Replay, OneOrdersLateMessageNeverReachesTheNextOrder) {
  const std::string dir = temp_dir();
  // Two orders (records R1 and R2) correlated by the same key, one lane: the first is out of
  // stock, and (a config quirk) its availability check publishes a delivery nobody waits for.
  // The second must wait for its own delivery, two days after it was placed.
  json c = fixed_config();
  c["start"]["orderId"] = "record";
  c["tasks"]["erp.check-availability"]["publish"] = {
      {{"message", "order-delivered"}, {"correlationKey", "=orderId"},
       {"when", "=inStock = \"false\""}, {"after", {{"fixed", "PT1S"}}}}};
  const std::string history = write(
      dir + "/h.csv",
      "record,orderId,createdAt,customerId,inStock,paymentOutcome,paymentConfirmSeconds,shippedAt,"
      "deliveredAt\n"
      "R1,X,2026-09-01T08:00:00Z,C1,false,,,,\n"
      "R2,X,2026-09-01T09:00:00Z,C1,true,approved,60,2026-09-01T10:00:00Z,2026-09-03T09:00:00Z\n");
  auto r = run(history, c, 1);
  ASSERT_OK(r);
  const json& end = r->report["variants"][0]["cycleTimes"]["end"];
  EXPECT_EQ(end["count"], 2);
  EXPECT_DOUBLE_EQ(end["max"].get<double>(), 2 * 86400 + 1) << end;
}

TEST(Replay, MultiInstanceActivitiesCountTheirInstances) {
  const std::string dir = temp_dir();
  const std::string bpmn = write(dir + "/mi.bpmn", process(R"(
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <serviceTask id="t" name="Pick item">
      <extensionElements><zeebe:taskDefinition type="pick"/></extensionElements>
      <multiInstanceLoopCharacteristics>
        <extensionElements><zeebe:loopCharacteristics inputCollection="=items" inputElement="item"/></extensionElements>
      </multiInstanceLoopCharacteristics>
    </serviceTask>
    <sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
    <endEvent id="e"/>)", "mi"));
  const std::string history =
      write(dir + "/h.csv", "orderId,createdAt\nA,2026-09-01T08:00:00Z\n");
  json c = json::parse(R"({"start": {"variables": {"items": "=[1, 2, 3]"}},
                            "milestones": {"picked": "t"},
                            "tasks": {"pick": {"latency": {"fixed": "PT10S"}}}})");
  auto r = run(history, c, 1, dir + "/events.csv", {bpmn});
  ASSERT_OK(r);
  const json& v = r->report["variants"][0];
  ASSERT_EQ(v["activities"].size(), 1u);
  const json& pick = v["activities"][0];
  EXPECT_EQ(pick["count"], 3);
  EXPECT_EQ(pick["orders"], 1);
  EXPECT_DOUBLE_EQ(pick["processing"]["p50"].get<double>(), 10);
  EXPECT_DOUBLE_EQ(pick["waiting"]["max"].get<double>(), 0);
  EXPECT_EQ(v["traces"][0]["path"], json({"s", "t", "t", "t", "e"}));
  EXPECT_DOUBLE_EQ(v["cycleTimes"]["picked"]["p50"].get<double>(), 10) << "in parallel";
  const std::string csv = read(dir + "/events.csv");
  std::size_t rows = 0;
  for (std::size_t at = csv.find(",Pick item,"); at != std::string::npos; at = csv.find(",Pick item,", at + 1)) ++rows;
  EXPECT_EQ(rows, 3u);
}

TEST(Replay, ANotificationCountsOnceItsJobCompletes) {
  const std::string dir = temp_dir();
  json c = fixed_config();
  // Every first attempt of a notification fails and is retried (after the engine's backoff).
  c["tasks"]["notify.send"]["outcomes"] = {
      {{"when", "=job.attempt = 1"}, {"fail", "gateway timeout"}}, json::object()};
  auto r = run(write(dir + "/h.csv", kHandMade), c);
  ASSERT_OK(r);
  const json& n = r->report["variants"][0]["notifications"];
  EXPECT_EQ(n["total"], 11) << "the same as without failures: " << n;
  EXPECT_EQ(n["perOrder"]["max"], 3);
}

TEST(Replay, MoreConfigMistakes) {
  const std::string dir = temp_dir();
  const std::string history = write(dir + "/h.csv", kHandMade);
  json c = fixed_config();
  c["tasks"]["erp.shipp"] = {{"latency", {{"fixed", "PT1S"}}}};
  const std::string typo = refusal(run(history, c));
  EXPECT_NE(typo.find("tasks.erp.shipp: no process has a job of this type; did you mean 'erp.ship'?"),
            std::string::npos)
      << typo;
  c = fixed_config();
  c["milestones"]["again"] = "send-confirmation";
  const std::string twice = refusal(run(history, c));
  EXPECT_NE(twice.find("milestones.confirmation: 'send-confirmation' is already milestone 'again'"),
            std::string::npos)
      << twice;
  // No outcome applies: the record cannot be replayed as configured; nothing is made up.
  c = fixed_config();
  c["tasks"]["erp.reserve"]["outcomes"] = {{{"when", "=orderId = \"A\""}}};
  c["tasks"]["erp.reserve"].erase("latency");
  auto none = run(history, c, 1, {}, {kProcess}, true);
  ASSERT_OK(none);
  EXPECT_EQ(none->report["records"]["replayed"], 2) << "A, and C which never reserves";
  EXPECT_NE(none->report["records"]["skippedRecords"][0]["message"].get<std::string>().find(
                "no outcome of tasks.erp.reserve applies to this record"),
            std::string::npos);
}

TEST(Replay, ARecordBadInOneVariantIsLeftOutOfAllAndReportedOnce) {
  ReplayOptions o;
  o.processes = {kProcess, kExpress};
  o.order_log = kSampleHistory;
  json c = json::parse(read(kSampleConfig));
  // Without its fallback outcome (the last), erp.ship needs shippedAt: the express variant
  // ships orders whose confirmation came late, which history never shipped.
  c["tasks"]["erp.ship"]["outcomes"].erase(c["tasks"]["erp.ship"]["outcomes"].size() - 1);
  o.config = c;
  o.skip_bad_records = true;
  auto r = replay(o);
  ASSERT_OK(r);
  const json& rec = r->report["records"];
  EXPECT_GT(rec["skipped"].get<int>(), 0);
  EXPECT_EQ(rec["replayed"].get<int>() + rec["skipped"].get<int>(), 200);
  EXPECT_EQ(r->report["variants"][0]["orders"], rec["replayed"]);
  EXPECT_EQ(r->report["variants"][1]["orders"], rec["replayed"]);
  // The orders their customers cancelled never shipped either, and neither variant stops
  // them: bad in both. The rest are bad in the express variant only, which names it.
  std::set<std::int64_t> cancelled;
  auto orders = OrderLogReader::open(kSampleHistory);
  ASSERT_OK(orders);
  while (auto record = must((*orders)->next())) {
    if (record->fields.contains("cancelledAt")) cancelled.insert(record->line);
  }
  std::set<std::int64_t> lines;
  std::size_t express_only = 0;
  for (const json& s : rec["skippedRecords"]) {
    const std::int64_t line = s["line"].get<std::int64_t>();
    EXPECT_TRUE(lines.insert(line).second) << "once: " << s;
    if (cancelled.count(line) != 0) continue;
    ++express_only;
    EXPECT_NE(s["message"].get<std::string>().find("(in order-acceptance-express)"), std::string::npos);
  }
  EXPECT_GT(express_only, 0u);
}

}  // namespace
}  // namespace ordo::testing
