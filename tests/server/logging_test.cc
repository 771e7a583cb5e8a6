// Logs: the JSON and text formats, structured lines (log_event), and InstanceLog on a real
// engine.
#include "logging.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <regex>
#include <sstream>

#include "runtime/harness.h"

namespace ordo::testing {
namespace {

using nlohmann::json;
using server::InstanceLog;
using server::InstanceLogOptions;
using server::LogFormat;

// Everything logged through spdlog's default logger goes to `out` while a test runs; the
// default logger and spdlog's formatter are put back afterwards.
class CapturedLog : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(
        "", std::make_shared<spdlog::sinks::ostream_sink_mt>(out)));
  }
  void TearDown() override {
    spdlog::drop("orders");
    spdlog::drop("instances");
    spdlog::set_default_logger(saved_);
    spdlog::set_formatter(std::make_unique<spdlog::pattern_formatter>());
  }

  std::vector<std::string> lines() const {
    std::vector<std::string> out_lines;
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);) out_lines.push_back(line);
    return out_lines;
  }
  // Every line, parsed; a line that is not a JSON object fails the test.
  std::vector<json> objects() const {
    std::vector<json> parsed;
    for (const std::string& line : lines()) {
      json j = json::parse(line, nullptr, false);
      EXPECT_TRUE(j.is_object()) << line;
      if (j.is_object()) parsed.push_back(std::move(j));
    }
    return parsed;
  }

  std::ostringstream out;

 private:
  std::shared_ptr<spdlog::logger> saved_;
};

using LogFormatTest = CapturedLog;

TEST_F(LogFormatTest, JsonLineHasTimeLevelAndMessage) {
  server::set_log_format(LogFormat::kJson);
  spdlog::warn("disk {}% full", 91);
  const std::vector<std::string> text = lines();
  ASSERT_EQ(text.size(), 1u);
  EXPECT_EQ(text[0].rfind("{\"time\":", 0), 0u) << text[0];  // the time comes first
  const json line = json::parse(text[0]);
  EXPECT_EQ(line.size(), 3u) << line;  // a plain line: nothing else
  EXPECT_TRUE(std::regex_match(line["time"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << line;
  EXPECT_EQ(line["level"], "warning");
  EXPECT_EQ(line["message"], "disk 91% full");
}

TEST_F(LogFormatTest, JsonKeepsQuotesNewlinesAndNonAscii) {
  server::set_log_format(LogFormat::kJson);
  const std::string tricky = "say \"hi\"\\ \tthen\nnext line: Müller, 日本, \x01 end";
  spdlog::info("{}", tricky);
  server::log_event(spdlog::level::info, tricky, {{"customer", tricky}});
  const std::vector<json> parsed = objects();
  ASSERT_EQ(parsed.size(), 2u) << out.str();  // one line each, the newline escaped
  EXPECT_EQ(parsed[0]["message"], tricky);
  EXPECT_EQ(parsed[1]["message"], tricky);
  EXPECT_EQ(parsed[1]["customer"], tricky);
}

TEST_F(LogFormatTest, JsonReplacesInvalidUtf8) {
  server::set_log_format(LogFormat::kJson);
  spdlog::info("bad \xff byte");
  const std::vector<json> parsed = objects();
  ASSERT_EQ(parsed.size(), 1u) << out.str();
  EXPECT_EQ(parsed[0]["message"], "bad \xEF\xBF\xBD byte");
}

TEST_F(LogFormatTest, LogEventMergesItsFieldsIntoTheLine) {
  server::set_log_format(LogFormat::kJson);
  server::log_event(spdlog::level::err, "payment failed",
                    {{"instance", 7}, {"businessKey", "A-1"}, {"message", "not this one"}});
  const std::vector<json> parsed = objects();
  ASSERT_EQ(parsed.size(), 1u) << out.str();
  // The line's own keys first, then the fields by name.
  EXPECT_TRUE(out.str().ends_with(
      R"(,"level":"error","message":"payment failed","businessKey":"A-1","instance":7})"
      "\n"))
      << out.str();
  EXPECT_EQ(parsed[0]["level"], "error");
  EXPECT_EQ(parsed[0]["message"], "payment failed");  // the line's own keys win
  EXPECT_EQ(parsed[0]["instance"], 7);
  EXPECT_EQ(parsed[0]["businessKey"], "A-1");
  EXPECT_FALSE(parsed[0].contains("logger"));  // the default logger has no name
}

TEST_F(LogFormatTest, OrdinaryMessagesThatLookFramedStayOrdinary) {
  server::set_log_format(LogFormat::kJson);
  const std::string no_fields =
      "\x1e"
      "starts like a structured line\x1e"
      "but {is not";
  const std::string not_object =
      "\x1e"
      "nor\x1e"
      "[1]";
  spdlog::info("{}", no_fields);
  spdlog::info("{}", not_object);
  const std::vector<json> parsed = objects();
  ASSERT_EQ(parsed.size(), 2u) << out.str();
  EXPECT_EQ(parsed[0]["message"], no_fields);
  EXPECT_EQ(parsed[1]["message"], not_object);
}

TEST_F(LogFormatTest, NamedLoggerNamesItselfAndFollowsTheFormat) {
  auto orders = server::named_logger("orders");
  EXPECT_EQ(server::named_logger("orders"), orders);
  server::set_log_format(LogFormat::kJson);  // after the logger was made
  orders->info("taken");
  server::log_event(*orders, spdlog::level::info, "confirmed", {{"instance", 3}});
  const std::vector<json> parsed = objects();
  ASSERT_EQ(parsed.size(), 2u) << out.str();
  EXPECT_EQ(parsed[0]["logger"], "orders");
  EXPECT_EQ(parsed[0]["message"], "taken");
  EXPECT_EQ(parsed[1]["logger"], "orders");
  EXPECT_EQ(parsed[1]["instance"], 3);
}

TEST_F(LogFormatTest, TextShowsFieldsAsKeyValuePairs) {
  server::set_log_format(LogFormat::kText);
  spdlog::info("plain");
  server::log_event(spdlog::level::warn, "job failed",
                    {{"instance", 7},
                     {"businessKey", "A-1"},
                     {"error", "timed out"},
                     {"quote", "a\"b"},
                     {"empty", ""},
                     {"ok", true}});
  const std::vector<std::string> text = lines();
  ASSERT_EQ(text.size(), 2u) << out.str();
  EXPECT_TRUE(text[0].ends_with("[info] plain")) << text[0];
  EXPECT_TRUE(
      text[1].ends_with("[warning] job failed businessKey=A-1 empty=\"\" "
                        "error=\"timed out\" instance=7 ok=true quote=\"a\\\"b\""))
      << text[1];
}

// A message may carry a client's text (an incident's error, a business key in a warning).
TEST_F(LogFormatTest, TextEscapesControlCharactersOfTheMessage) {
  server::set_log_format(LogFormat::kText);
  spdlog::warn("order A-1\n[2026-12-01 11:00:00.000] [info] forged\x1b[2J");
  server::log_event(spdlog::level::info, "key A-2\x1b]0;t\x07", {{"instance", 7}});
  const std::vector<std::string> text = lines();
  ASSERT_EQ(text.size(), 2u) << out.str();
  EXPECT_TRUE(
      text[0].ends_with("[warning] order A-1\\n[2026-12-01 11:00:00.000] [info] "
                        "forged\\x1b[2J"))
      << text[0];
  EXPECT_TRUE(text[1].ends_with("[info] key A-2\\x1b]0;t\\x07 instance=7")) << text[1];
}

TEST_F(LogFormatTest, LevelsBelowTheLoggersAreNotFormatted) {
  server::set_log_format(LogFormat::kJson);
  server::log_event(spdlog::level::debug, "element activated", {{"instance", 1}});
  EXPECT_EQ(out.str(), "");
}

// ---- InstanceLog on an engine ----

// On each store (harness.h).
class InstanceLogTest : public CapturedLog, public StoreParam {
 protected:
  void SetUp() override {
    CapturedLog::SetUp();
    server::set_log_format(LogFormat::kJson);
  }

  // The lines with `message`.
  std::vector<json> with_message(std::string_view message) const {
    std::vector<json> found;
    for (json& line : objects()) {
      if (line["message"] == message) found.push_back(std::move(line));
    }
    return found;
  }

  // Every line is about instance `id` of process "p" and carries `business_key`.
  void expect_every_line_about(InstanceId id, std::string_view business_key) const {
    const std::vector<json> parsed = objects();
    EXPECT_FALSE(parsed.empty());
    for (const json& line : parsed) {
      EXPECT_EQ(line["instance"], id) << line;
      EXPECT_EQ(line["businessKey"], business_key) << line;
      EXPECT_EQ(line["process"], "p") << line;
    }
  }
};

ORDO_STORES_OF(InstanceLogTest);

TEST_P(InstanceLogTest, LogsStartAndEndWithTheBusinessKeyAndNoElementsAtInfo) {
  Harness h;
  h.deploy(process(straight(svc("t"))));
  InstanceLog log;
  h.engine().add_observer(&log);
  h.complete_all_jobs();
  auto id = h.engine().start("p", json::object(), "A-1");
  ASSERT_TRUE(id.is_ok()) << id.status().to_string();
  must(h.engine().run_until_idle());
  h.engine().remove_observer(&log);

  std::vector<std::string> messages;
  for (const json& line : objects()) messages.push_back(line["message"]);
  EXPECT_EQ(messages, (Ids{"instance started", "instance completed"}));
  expect_every_line_about(id->id, "A-1");
  const std::vector<json> completed = with_message("instance completed");
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0]["element"], "e");  // the end event
  EXPECT_EQ(completed[0]["level"], "info");
}

TEST_P(InstanceLogTest, FailedJobIsAWarningAndTheIncidentAnError) {
  Harness h(immediate_retries());
  h.deploy(process(straight(svc("t", "", "charge"))));
  InstanceLog log;
  h.engine().add_observer(&log);
  h.engine().set_fallback_handler(
      [](const Job&) { return JobOutcome::fail("card \"declined\"\nby the bank"); });
  auto id = h.engine().start("p", json::object(), "A-2");
  ASSERT_TRUE(id.is_ok()) << id.status().to_string();
  must(h.engine().run_until_idle());
  h.engine().remove_observer(&log);

  expect_every_line_about(id->id, "A-2");
  const std::vector<json> failed = with_message("job failed");
  ASSERT_EQ(failed.size(), 3u) << out.str();  // the default 3 retries
  std::vector<int> retries_left;
  for (const json& line : failed) {
    EXPECT_EQ(line["level"], "warning");
    EXPECT_EQ(line["element"], "t");
    EXPECT_EQ(line["error"], "card \"declined\"\nby the bank");
    EXPECT_TRUE(line["job"].is_number()) << line;
    retries_left.push_back(line["retriesLeft"]);
  }
  EXPECT_EQ(retries_left, (std::vector<int>{2, 1, 0}));
  const std::vector<json> incidents = with_message("incident raised");
  ASSERT_EQ(incidents.size(), 1u) << out.str();
  EXPECT_EQ(incidents[0]["level"], "error");
  EXPECT_EQ(incidents[0]["element"], "t");
  EXPECT_TRUE(incidents[0]["incident"].is_number());
  EXPECT_NE(incidents[0]["error"].get<std::string>().find("card \"declined\""), std::string::npos);
}

TEST_P(InstanceLogTest, InstanceStartedBeforeItWasAttachedGetsItsKeyFromTheLookup) {
  Harness h(immediate_retries());
  h.deploy(process(straight(svc("t"))));
  auto id = h.engine().start("p", json::object(), "A-3");
  ASSERT_TRUE(id.is_ok()) << id.status().to_string();
  int asked = 0;
  InstanceLogOptions options;
  options.lookup = [&](InstanceId instance) {
    ++asked;
    return instance == id->id ? std::string("A-3") : std::string();
  };
  InstanceLog log(options);
  h.engine().add_observer(&log);
  bool failed_once = false;
  h.engine().set_fallback_handler([&](const Job&) {
    if (std::exchange(failed_once, true)) return JobOutcome::complete();
    return JobOutcome::fail("busy");
  });
  must(h.engine().run_until_idle());
  h.engine().remove_observer(&log);

  EXPECT_EQ(with_message("job failed").size(), 1u) << out.str();
  EXPECT_EQ(with_message("instance completed").size(), 1u) << out.str();
  expect_every_line_about(id->id, "A-3");
  EXPECT_EQ(asked, 1);  // then remembered
}

TEST_P(InstanceLogTest, DeferredJobThrownErrorResolvedIncidentAndCancelAreInfoLines) {
  Harness h;
  h.deploy(process(straight(svc("t"))));
  InstanceLog log;
  h.engine().add_observer(&log);
  int calls = 0;
  h.engine().set_fallback_handler([&](const Job&) {
    return ++calls == 1 ? JobOutcome::defer(60'000, "rate limited")
                        : JobOutcome::error("DECLINED");  // caught nowhere: an incident
  });
  auto id = h.engine().start("p", json::object(), "A-5");
  ASSERT_TRUE(id.is_ok()) << id.status().to_string();
  must(h.engine().run_until_idle());
  ASSERT_OK(h.engine().advance_clock(60'000));
  ASSERT_EQ(must(h.engine().incidents()).size(), 1u);
  const IncidentKey incident = must(h.engine().incidents())[0].key;
  ASSERT_OK(h.engine().resolve_incident(incident));
  ASSERT_OK(h.engine().cancel(id->id));
  h.engine().remove_observer(&log);

  expect_every_line_about(id->id, "A-5");
  std::vector<std::string> messages;
  for (const json& line : objects()) messages.push_back(line["message"]);
  EXPECT_EQ(messages, (Ids{"instance started", "job deferred", "job threw an error",
                           "incident raised", "incident resolved", "instance terminated"}));
  const std::vector<json> deferred = with_message("job deferred");
  ASSERT_EQ(deferred.size(), 1u);
  EXPECT_EQ(deferred[0]["level"], "info");
  EXPECT_EQ(deferred[0]["reason"], "rate limited");
  EXPECT_EQ(deferred[0]["until"], "2026-12-01T10:01:00Z");
  EXPECT_TRUE(deferred[0]["job"].is_number());
  const std::vector<json> thrown = with_message("job threw an error");
  ASSERT_EQ(thrown.size(), 1u);
  EXPECT_EQ(thrown[0]["code"], "DECLINED");
  EXPECT_EQ(thrown[0]["element"], "t");
  const std::vector<json> resolved = with_message("incident resolved");
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0]["incident"], incident);
}

TEST_P(InstanceLogTest, CorrelatedMessageNamesTheMessageAndKey) {
  Harness h;
  h.deploy(bpmn(message_def("m", "payment-confirmed") + "<process id=\"p\" isExecutable=\"true\">" +
                straight("<intermediateCatchEvent id=\"wait\"><messageEventDefinition "
                         "messageRef=\"m\"/></intermediateCatchEvent>",
                         "wait") +
                "</process>"));
  InstanceLog log;
  h.engine().add_observer(&log);
  auto id = h.engine().start("p", {{"orderId", "A-4"}}, "A-4");
  ASSERT_TRUE(id.is_ok()) << id.status().to_string();
  ASSERT_TRUE(h.engine().publish_message("payment-confirmed", "A-4").is_ok());
  h.engine().remove_observer(&log);

  expect_every_line_about(id->id, "A-4");
  const std::vector<json> correlated = with_message("message correlated");
  ASSERT_EQ(correlated.size(), 1u) << out.str();
  EXPECT_EQ(correlated[0]["element"], "wait");
  EXPECT_EQ(correlated[0]["messageName"], "payment-confirmed");
  EXPECT_EQ(correlated[0]["correlationKey"], "A-4");
}

TEST_P(InstanceLogTest, ElementEventsAreDebugLines) {
  Harness h;
  h.deploy(process(straight(svc("t"))));
  InstanceLogOptions options;
  options.logger = server::named_logger("instances");
  options.logger->set_level(spdlog::level::debug);
  InstanceLog log(options);
  h.engine().add_observer(&log);
  const InstanceId id = h.start();
  h.engine().remove_observer(&log);

  const std::vector<json> activated = with_message("element-activated");
  ASSERT_FALSE(activated.empty()) << out.str();
  EXPECT_EQ(activated[0]["level"], "debug");
  EXPECT_EQ(activated[0]["logger"], "instances");
  EXPECT_EQ(activated[0]["instance"], id);
  EXPECT_EQ(activated[0]["element"], "s");
  const std::vector<json> created = with_message("job-created");
  ASSERT_EQ(created.size(), 1u) << out.str();
  EXPECT_EQ(created[0]["detail"], "t");  // the job type
  EXPECT_TRUE(created[0]["job"].is_number());
}

}  // namespace
}  // namespace ordo::testing
