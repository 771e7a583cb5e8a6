// Conformance checking by token-based replay: token counts worked out by hand on the shipped
// order process and on small processes, log errors, and the `ordo conformance` command.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "ordo/mining/conformance.h"
#include "test_util.h"
#include "time/iso8601.h"

namespace ordo::testing {
namespace {

const std::string kShipped = ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn";

// The delivered path of the shipped process as its tasks appear in a log. Replayed, it makes
// (and takes) 23 tokens: the source, 1 per step, 2 for entering take-payment (its inner start
// and its "running" place, as it has boundary events), 2 from the fork; the join and the
// subprocess's completion take 2 each, and the end takes the sink's.
const std::vector<std::string> kDelivered = {
    "check-availability", "reserve-stock", "charge-payment", "send-confirmation",
    "handover-warehouse", "ship-order",    "notify-shipped", "notify-delivered"};

std::shared_ptr<const BpmnDocument> load(const std::string& xml_or_path, bool file) {
  LoadResult r = file ? load_bpmn_file(xml_or_path) : load_bpmn(xml_or_path);
  EXPECT_TRUE(r.ok()) << dump(r);
  return r.document;
}

const ProcessDefinition& shipped() {
  static const std::shared_ptr<const BpmnDocument> doc = load(kShipped, true);
  return *doc->processes.front();
}

const std::string kHeader = "case_id,activity,timestamp\n";

// One row per activity of case `id`, a minute apart from `minute` on.
std::string rows(const std::string& id, const std::vector<std::string>& activities,
                 int minute = 0) {
  std::string out;
  for (const std::string& a : activities) {
    const std::int64_t at = *time::parse_date_time("2026-09-01T10:00:00Z") + minute++ * 60'000;
    out += id + ",\"" + a + "\"," + time::format_date_time(at) + "\n";
  }
  return out;
}

Result<ConformanceReport> check(const ProcessDefinition& p, const std::string& csv) {
  auto log = OrderLogReader::from_text(csv, "events.csv", true);
  if (!log) return log.status();
  ConformanceOptions options;
  options.log_name = "events.csv";
  return check_conformance(p, **log, options);
}

// The single case of a log that must check.
CaseConformance one_case(const ProcessDefinition& p, const std::vector<std::string>& trace) {
  Result<ConformanceReport> r = check(p, kHeader + rows("C-1", trace));
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  if (!r || r->cases.size() != 1) return {};
  return r->cases.front();
}

void expect_tokens(const CaseConformance& c, std::int64_t produced, std::int64_t consumed,
                   std::int64_t missing, std::int64_t remaining) {
  EXPECT_EQ(c.tokens.produced, produced) << c.case_id;
  EXPECT_EQ(c.tokens.consumed, consumed) << c.case_id;
  EXPECT_EQ(c.tokens.missing, missing) << c.case_id;
  EXPECT_EQ(c.tokens.remaining, remaining) << c.case_id;
  const auto d = [](std::int64_t n) { return static_cast<double>(n); };
  EXPECT_DOUBLE_EQ(
      c.fitness, 0.5 * (1.0 - d(missing) / d(consumed)) + 0.5 * (1.0 - d(remaining) / d(produced)));
}

std::map<std::string, std::int64_t> remaining_by_place(const CaseConformance& c) {
  std::map<std::string, std::int64_t> out;
  for (const RemainingToken& r : c.remaining) out[r.place] += r.count;
  return out;
}

std::vector<std::string> without(std::vector<std::string> v, const std::string& drop) {
  std::erase(v, drop);
  return v;
}

TEST(ConformanceReplay, DeliveredPathThroughForkJoinAndSubprocessFits) {
  CaseConformance c = one_case(shipped(), kDelivered);
  EXPECT_TRUE(c.fits());
  EXPECT_EQ(c.events, 8u);
  expect_tokens(c, 23, 23, 0, 0);
  EXPECT_DOUBLE_EQ(c.fitness, 1.0);
}

TEST(ConformanceReplay, ParallelBranchesInEitherOrderAndElementNamesFit) {
  std::vector<std::string> trace = kDelivered;
  std::swap(trace[3], trace[4]);    // hand-over before the confirmation
  trace[0] = "Check availability";  // a name instead of the id
  CaseConformance c = one_case(shipped(), trace);
  EXPECT_TRUE(c.fits()) << c.missing.size() << " missing, " << c.remaining.size() << " remaining";
  expect_tokens(c, 23, 23, 0, 0);
}

TEST(ConformanceReplay, SkippedActivityMissesATokenWhereTheJoinNeededIt) {
  // Without send-confirmation the join cannot fire: ship-order (event 5) lacks f-joined, and
  // the fork's token for the confirmation plus the hand-over's token stay behind.
  CaseConformance c = one_case(shipped(), without(kDelivered, "send-confirmation"));
  EXPECT_FALSE(c.fits());
  expect_tokens(c, 21, 20, 1, 2);
  ASSERT_EQ(c.missing.size(), 1u);
  EXPECT_EQ(c.missing[0].flow, "f-joined");
  EXPECT_EQ(c.missing[0].before, "ship-order");
  EXPECT_EQ(c.missing[0].event, 5u);
  EXPECT_EQ(c.missing[0].line, 6);
  EXPECT_EQ(remaining_by_place(c),
            (std::map<std::string, std::int64_t>{{"f-fork-confirm", 1}, {"f-handed-over", 1}}));
}

TEST(ConformanceReplay, ExtraActivityMissesItsInputAndLeavesItsOutput) {
  // charge-payment twice: the second lacks f-pay-start; its f-charged is never taken.
  std::vector<std::string> trace = kDelivered;
  trace.insert(trace.begin() + 3, "charge-payment");
  CaseConformance c = one_case(shipped(), trace);
  expect_tokens(c, 24, 24, 1, 1);
  ASSERT_EQ(c.missing.size(), 1u);
  EXPECT_EQ(c.missing[0].flow, "f-pay-start");
  EXPECT_EQ(c.missing[0].before, "charge-payment");
  EXPECT_EQ(c.missing[0].event, 4u);
  EXPECT_EQ(remaining_by_place(c), (std::map<std::string, std::int64_t>{{"f-charged", 1}}));
}

TEST(ConformanceReplay, CaseThatStopsEarlyLeavesTokensAndMissesTheEnd) {
  // 1 source + start + check + gateway + reserve + 2 entering + inner start + charge = 9
  // produced; 7 consumed by those steps and 1 (missing) for the end.
  CaseConformance c =
      one_case(shipped(), {"check-availability", "reserve-stock", "charge-payment"});
  expect_tokens(c, 9, 8, 1, 2);
  ASSERT_EQ(c.missing.size(), 1u);
  EXPECT_EQ(c.missing[0].place, "sink");
  EXPECT_EQ(c.missing[0].event, 0u);
  EXPECT_EQ(remaining_by_place(c),
            (std::map<std::string, std::int64_t>{{"f-charged", 1}, {"running:take-payment", 1}}));
}

TEST(ConformanceReplay, SwappedOrderMissesAndLeavesOneToken) {
  std::vector<std::string> trace = kDelivered;
  std::swap(trace[0], trace[1]);  // reserve-stock before check-availability
  CaseConformance c = one_case(shipped(), trace);
  expect_tokens(c, 22, 22, 1, 1);
  ASSERT_EQ(c.missing.size(), 1u);
  EXPECT_EQ(c.missing[0].flow, "available-yes");
  EXPECT_EQ(c.missing[0].before, "reserve-stock");
  EXPECT_EQ(c.missing[0].event, 1u);
  EXPECT_EQ(remaining_by_place(c), (std::map<std::string, std::int64_t>{{"f-checked", 1}}));
}

TEST(ConformanceReplay, UnknownActivityCountsOneMissingToken) {
  std::vector<std::string> trace = kDelivered;
  trace.insert(trace.begin() + 6, "Call the customer");
  CaseConformance c = one_case(shipped(), trace);
  expect_tokens(c, 23, 24, 1, 0);
  ASSERT_EQ(c.unknown_activities.size(), 1u);
  EXPECT_EQ(c.unknown_activities[0].activity, "Call the customer");
  EXPECT_EQ(c.unknown_activities[0].event, 7u);
  EXPECT_EQ(c.unknown_activities[0].line, 8);
  ASSERT_EQ(c.missing.size(), 1u);
  EXPECT_TRUE(c.missing[0].unknown_activity);
}

TEST(ConformanceReplay, InterruptingBoundaryEventsEndTheSubprocess) {
  // Declined: the boundary event takes take-payment's running token and cancels the token
  // waiting inside (f-charged): 15 produced, 15 consumed, nothing left.
  const std::vector<std::string> head = {"check-availability", "reserve-stock", "charge-payment"};
  const std::vector<std::string> tail = {"cancel-payment", "release-stock",
                                         "notify-payment-failed"};
  std::vector<std::string> declined = head, timed_out = head;
  declined.push_back("payment-declined");
  timed_out.push_back("No confirmation in 30 min");  // by name
  declined.insert(declined.end(), tail.begin(), tail.end());
  timed_out.insert(timed_out.end(), tail.begin(), tail.end());
  Result<ConformanceReport> r =
      check(shipped(), kHeader + rows("declined", declined) + rows("timed-out", timed_out, 20) +
                           rows("delivered", kDelivered, 40));
  ASSERT_OK(r);
  ASSERT_EQ(r->cases.size(), 3u);
  expect_tokens(r->cases[0], 15, 15, 0, 0);
  expect_tokens(r->cases[1], 15, 15, 0, 0);
  expect_tokens(r->cases[2], 23, 23, 0, 0);
  EXPECT_EQ(r->fitting_cases, 3u);

  // The boundary event ends the payment: confirming the order after it deviates.
  std::vector<std::string> confirmed_anyway = head;
  confirmed_anyway.push_back("payment-declined");
  confirmed_anyway.push_back("send-confirmation");
  CaseConformance c = one_case(shipped(), confirmed_anyway);
  EXPECT_FALSE(c.fits());
  ASSERT_FALSE(c.missing.empty());
  EXPECT_EQ(c.missing[0].flow, "f-fork-confirm");
}

const char* const kLoop = R"(<startEvent id="s"/>
<exclusiveGateway id="join"/>
<task id="a" name="Try"/>
<exclusiveGateway id="again" default="f5"/>
<task id="b" name="Finish"/>
<endEvent id="e"/>
<sequenceFlow id="f1" sourceRef="s" targetRef="join"/>
<sequenceFlow id="f2" sourceRef="join" targetRef="a"/>
<sequenceFlow id="f3" sourceRef="a" targetRef="again"/>
<sequenceFlow id="f4" sourceRef="again" targetRef="join"><conditionExpression>=retry</conditionExpression></sequenceFlow>
<sequenceFlow id="f5" sourceRef="again" targetRef="b"/>
<sequenceFlow id="f6" sourceRef="b" targetRef="e"/>)";

TEST(ConformanceReplay, RepeatedActivityInALoopFits) {
  auto doc = load(process(kLoop), false);
  ASSERT_NE(doc, nullptr);
  const ProcessDefinition& p = *doc->processes.front();
  // source, s, 3 x (join + a), 2 loops back, forward, b, e: 13 made and 13 taken.
  CaseConformance fits = one_case(p, {"a", "a", "a", "b"});
  EXPECT_TRUE(fits.fits());
  expect_tokens(fits, 13, 13, 0, 0);

  CaseConformance late = one_case(p, {"Try", "Finish", "Try"});
  expect_tokens(late, 8, 8, 1, 1);
  ASSERT_EQ(late.missing.size(), 1u);
  EXPECT_EQ(late.missing[0].flow, "f2");
  EXPECT_EQ(late.missing[0].before, "a");
  EXPECT_EQ(late.missing[0].event, 3u);
  EXPECT_EQ(remaining_by_place(late), (std::map<std::string, std::int64_t>{{"f3", 1}}));
}

TEST(ConformanceReplay, InclusiveSplitTakesTheBranchesTheCaseNeeds) {
  auto doc = load(process(R"(<startEvent id="s"/>
<inclusiveGateway id="split"/>
<task id="a"/>
<task id="b"/>
<inclusiveGateway id="merge"/>
<task id="c"/>
<endEvent id="e"/>
<sequenceFlow id="f1" sourceRef="s" targetRef="split"/>
<sequenceFlow id="f2" sourceRef="split" targetRef="a"><conditionExpression>=x</conditionExpression></sequenceFlow>
<sequenceFlow id="f3" sourceRef="split" targetRef="b"><conditionExpression>=y</conditionExpression></sequenceFlow>
<sequenceFlow id="f4" sourceRef="a" targetRef="merge"/>
<sequenceFlow id="f5" sourceRef="b" targetRef="merge"/>
<sequenceFlow id="f6" sourceRef="merge" targetRef="c"/>
<sequenceFlow id="f7" sourceRef="c" targetRef="e"/>)"),
                  false);
  ASSERT_NE(doc, nullptr);
  const ProcessDefinition& p = *doc->processes.front();
  for (const auto& trace : std::vector<std::vector<std::string>>{
           {"a", "b", "c"}, {"b", "a", "c"}, {"a", "c"}, {"b", "c"}}) {
    CaseConformance c = one_case(p, trace);
    EXPECT_TRUE(c.fits()) << trace.size() << " events, first " << trace.front();
  }
}

TEST(ConformanceReplay, LinkEventsConnectAndTerminateEndEventsTakeEveryToken) {
  auto doc = load(process(R"(<startEvent id="s"/>
<parallelGateway id="fork"/>
<task id="a"/>
<intermediateThrowEvent id="go"><linkEventDefinition name="L"/></intermediateThrowEvent>
<intermediateCatchEvent id="land"><linkEventDefinition name="L"/></intermediateCatchEvent>
<task id="b"/>
<endEvent id="stop"><terminateEventDefinition/></endEvent>
<task id="c"/>
<endEvent id="e"/>
<sequenceFlow id="f1" sourceRef="s" targetRef="fork"/>
<sequenceFlow id="f2" sourceRef="fork" targetRef="a"/>
<sequenceFlow id="f3" sourceRef="fork" targetRef="c"/>
<sequenceFlow id="f4" sourceRef="a" targetRef="go"/>
<sequenceFlow id="f5" sourceRef="land" targetRef="b"/>
<sequenceFlow id="f6" sourceRef="b" targetRef="stop"/>
<sequenceFlow id="f7" sourceRef="c" targetRef="e"/>)"),
                  false);
  ASSERT_NE(doc, nullptr);
  const ProcessDefinition& p = *doc->processes.front();
  // c never happens: the terminate end event takes the token waiting on f3.
  CaseConformance c = one_case(p, {"a", "b"});
  EXPECT_TRUE(c.fits()) << c.missing.size() << " missing, " << c.remaining.size() << " remaining";
  // source, s, fork 2, a, go, land, b, stop = 9; the terminate takes f3's token too.
  expect_tokens(c, 9, 9, 0, 0);
}

TEST(ConformanceReplay, InterleavedCasesAreGroupedAndOrderedByTime) {
  // Case B appears first; A's rows are written out of order (and interleaved with B's).
  std::string a = rows("A", kDelivered), b = rows("B", kDelivered, 100);
  std::vector<std::string> la = split(a, '\n'), lb = split(b, '\n');
  std::string csv = kHeader;
  for (std::size_t i = 8; i-- > 0;) csv += lb[7 - i] + "\n" + la[i] + "\n";
  Result<ConformanceReport> r = check(shipped(), csv);
  ASSERT_OK(r);
  ASSERT_EQ(r->cases.size(), 2u);
  EXPECT_EQ(r->cases[0].case_id, "B");
  EXPECT_EQ(r->cases[1].case_id, "A");
  EXPECT_TRUE(r->cases[0].fits());
  EXPECT_TRUE(r->cases[1].fits());
  EXPECT_EQ(r->tokens.produced, 46);
  EXPECT_DOUBLE_EQ(r->fitness, 1.0);
}

TEST(ConformanceReplay, LogFitnessSumsTheTokensOfAllCases) {
  Result<ConformanceReport> r =
      check(shipped(), kHeader + rows("ok", kDelivered) +
                           rows("skipped", without(kDelivered, "send-confirmation"), 20));
  ASSERT_OK(r);
  EXPECT_EQ(r->fitting_cases, 1u);
  EXPECT_EQ(r->tokens.produced, 44);
  EXPECT_EQ(r->tokens.consumed, 43);
  EXPECT_EQ(r->tokens.missing, 1);
  EXPECT_EQ(r->tokens.remaining, 2);
  EXPECT_DOUBLE_EQ(r->fitness, 0.5 * (1.0 - 1.0 / 43) + 0.5 * (1.0 - 2.0 / 44));
  const nlohmann::json j = to_json(*r);
  EXPECT_EQ(j["cases"], 2);
  EXPECT_EQ(j["fittingCases"], 1);
  EXPECT_EQ(j["tokens"]["missing"], 1);
  EXPECT_EQ(j["caseResults"][1]["case"], "skipped");
  EXPECT_EQ(j["caseResults"][1]["fits"], false);
  EXPECT_EQ(j["caseResults"][1]["missing"][0]["flow"], "f-joined");
  EXPECT_EQ(j["caseResults"][1]["missing"][0]["before"], "ship-order");
  EXPECT_EQ(j["caseResults"][1]["missing"][0]["event"], 5);
  EXPECT_EQ(j["caseResults"][1]["remaining"][0]["count"], 1);
}

TEST(ConformanceLog, MalformedRowsAreErrorsNamingTheirLines) {
  Result<ConformanceReport> r = check(shipped(), kHeader +
                                                     "C-1,check-availability,2026-09-01T10:00:00Z\n"
                                                     "C-1,reserve-stock,yesterday\n"
                                                     ",ship-order,2026-09-01T10:05:00Z\n"
                                                     "C-1,,2026-09-01T10:05:00Z\n"
                                                     "C-1,ship-order,2026-09-01T10:05:00\n");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("events.csv:3: timestamp 'yesterday' is not an ISO 8601 date-time"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("events.csv:4: no case"), std::string::npos) << m;
  EXPECT_NE(m.find("events.csv:5: no activity"), std::string::npos) << m;
  EXPECT_NE(m.find("events.csv:6: timestamp '2026-09-01T10:05:00'"), std::string::npos) << m;
}

TEST(ConformanceLog, ReplayEventLogColumnsPreferActivityIdAndReplayCompletedRowsOnly) {
  // As `ordo replay --events` writes it: no `timestamp`, so end_time (start_time when a row
  // has no end); rows not "complete" did not happen.
  std::string csv = "case_id,activity,activity_id,start_time,end_time,lifecycle\n";
  int minute = 0;
  const auto at = [&minute] {
    return time::format_date_time(*time::parse_date_time("2026-09-01T10:00:00Z") +
                                  60'000 * minute++);
  };
  for (const std::string& a : kDelivered) {
    csv += "C-1,Some label," + a + ",," + at() + ",complete\n";
    if (a == "charge-payment") {
      csv += "C-1,Cancel,cancel-payment," + at() + ",,active\n";
      csv += "C-1,Declined,payment-declined," + at() + "," + at() + ",terminated\n";
    }
  }
  Result<ConformanceReport> r = check(shipped(), csv);
  ASSERT_OK(r);
  ASSERT_EQ(r->cases.size(), 1u);
  EXPECT_TRUE(r->cases[0].fits());
  EXPECT_EQ(r->cases[0].events, 10u);
  EXPECT_EQ(r->cases[0].ignored, 2u);
}

// --- the command ---------------------------------------------------------------------------

struct CliRun {
  int exit_code = -1;
  std::string out;
};

CliRun run_cli(const std::string& args) {
  CliRun run;
  FILE* pipe = popen((std::string(ORDO_CLI) + " " + args).c_str(), "r");
  if (!pipe) return run;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) run.out.append(buf, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class ConformanceCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ordo-conformance-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::filesystem::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::filesystem::path dir_;
};

TEST_F(ConformanceCli, JsonReportAndExitCodes) {
  const std::string good = write("good.csv", kHeader + rows("C-1", kDelivered));
  CliRun ok = run_cli("conformance " + kShipped + " --log " + good + " --json 2>&1");
  ASSERT_EQ(ok.exit_code, 0) << ok.out;
  const nlohmann::json j = nlohmann::json::parse(ok.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << ok.out;
  EXPECT_EQ(j["process"], "order-acceptance");
  EXPECT_EQ(j["cases"], 1);
  EXPECT_EQ(j["fittingCases"], 1);
  EXPECT_EQ(j["fitness"], 1.0);
  EXPECT_EQ(j["tokens"]["produced"], 23);

  const std::string bad =
      write("bad.csv", kHeader + rows("C-1", kDelivered) +
                           rows("C-2", without(kDelivered, "send-confirmation"), 30));
  CliRun deviates = run_cli("conformance " + kShipped + " --log " + bad + " --json 2>&1");
  EXPECT_EQ(deviates.exit_code, 1) << deviates.out;
  const nlohmann::json d = nlohmann::json::parse(deviates.out, nullptr, false);
  ASSERT_FALSE(d.is_discarded()) << deviates.out;
  EXPECT_EQ(d["fittingCases"], 1);
  EXPECT_EQ(d["caseResults"][1]["case"], "C-2");
  EXPECT_EQ(d["caseResults"][1]["fits"], false);

  CliRun text = run_cli("conformance " + kShipped + " --log " + bad + " 2>&1");
  EXPECT_EQ(text.exit_code, 1) << text.out;
  EXPECT_NE(text.out.find("C-2"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("missing: ship-order (flow f-joined, event 5)"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("2 cases, 1 fitting (50.0%)"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("C-1 "), std::string::npos) << "fitting cases are not listed";
}

TEST_F(ConformanceCli, UnreadableInputsAndBadUsage) {
  CliRun missing =
      run_cli("conformance " + kShipped + " --log " + (dir_ / "nope.csv").string() + " 2>&1");
  EXPECT_EQ(missing.exit_code, 1) << missing.out;
  EXPECT_NE(missing.out.find("nope.csv"), std::string::npos) << missing.out;

  const std::string malformed = write("m.csv", kHeader + "C-1,ship-order,soon\n");
  CliRun bad_row = run_cli("conformance " + kShipped + " --log " + malformed + " 2>&1");
  EXPECT_EQ(bad_row.exit_code, 1) << bad_row.out;
  EXPECT_NE(bad_row.out.find(malformed + ":2:"), std::string::npos) << bad_row.out;

  CliRun usage = run_cli("conformance " + kShipped + " 2>&1");
  EXPECT_EQ(usage.exit_code, 2) << usage.out;
  CliRun help = run_cli("conformance --help 2>&1");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--case-column"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace ordo::testing
