// KPI rules: reading server.alerts, and the monitor's once-per-crossing alerts, posted to a
// real HTTP receiver on loopback.
#include "kpi.h"

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <atomic>
#include <map>
#include <sstream>
#include <tuple>

#include "peers/http_peer.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;
using server::AlertSettings;
using server::KpiMonitor;
using server::KpiSources;
using server::KpiState;
using server::Telemetry;

constexpr std::int64_t kT0 = 1'796'119'200'000;  // 2026-12-01T10:00:00Z

// Receives alerts at /alerts, answering with `status` (changeable); records each request.
class AlertReceiver {
 public:
  struct Received {
    json body;
    std::string raw, signature, idempotency_key;
  };
  AlertReceiver() {
    peer_.server().Post("/alerts", [this](const httplib::Request& r, httplib::Response& res) {
      std::lock_guard lock(mu_);
      received_.push_back({json::parse(r.body, nullptr, false), r.body,
                           r.get_header_value("X-Ordo-Signature"),
                           r.get_header_value("Idempotency-Key")});
      res.status = status.load();
    });
  }
  std::string url() const { return peer_.url("/alerts"); }
  std::vector<Received> received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  std::atomic<int> status{200};

 private:
  HttpPeer peer_;
  std::mutex mu_;
  std::vector<Received> received_;
};

AlertSettings settings_for(const json& section) {
  Result<AlertSettings> s = server::read_alert_settings(section);
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  return s.is_ok() ? *s : AlertSettings{};
}

// An incidents rule ("incidents", above 10) posting to `receiver`.
AlertSettings incident_rule(const AlertReceiver& receiver) {
  return settings_for({{"webhook", {{"url", receiver.url()}}},
                       {"rules", {{{"name", "incidents"}, {"kind", "incidents"}, {"above", 10}}}}});
}

std::vector<std::string> states_of(const std::vector<AlertReceiver::Received>& posts) {
  std::vector<std::string> out;
  for (const auto& p : posts) out.push_back(p.body.value("state", "?"));
  return out;
}

// Feeds `telemetry` an instance of `process` that reaches `to` after `took_ms`, at `end_ms`.
void cycle(Telemetry& telemetry, InstanceId id, std::string_view process, std::string_view to,
           std::int64_t took_ms, std::int64_t end_ms) {
  HistoryEvent e;
  e.instance = id;
  e.process_id = process;
  e.kind = HistoryKind::kInstanceStarted;
  e.time_ms = end_ms - took_ms;
  telemetry.on_event(e);
  e.kind = HistoryKind::kElementCompleted;
  e.element_id = to;
  e.time_ms = end_ms;
  telemetry.on_event(e);
}

TEST(KpiMonitor, FiresOncePerCrossingResolvesOnceAndFiresAgainOnANewCrossing) {
  AlertReceiver receiver;
  Telemetry telemetry;
  std::int64_t open = 3;
  KpiMonitor monitor(incident_rule(receiver), telemetry,
                     KpiSources{[&]() -> Result<std::int64_t> { return open; }, nullptr, nullptr});
  std::int64_t now = kT0;
  monitor.evaluate(now);
  EXPECT_TRUE(receiver.received().empty());

  open = 11;
  for (int i = 0; i < 5; ++i) monitor.evaluate(now += 30'000);
  auto posts = receiver.received();
  ASSERT_EQ(posts.size(), 1u) << "one alert for one crossing, however often evaluated";
  EXPECT_EQ(posts[0].body,
            json({{"rule", "incidents"},
                  {"kind", "incidents"},
                  {"state", "firing"},
                  {"value", 11.0},
                  {"threshold", 10.0},
                  {"since", "2026-12-01T10:00:30Z"},
                  {"message", "the number of open incidents is 11, above the limit 10"}}));
  EXPECT_TRUE(monitor.states()[0].firing);

  open = 10;  // equal is within bounds
  monitor.evaluate(now += 30'000);
  monitor.evaluate(now += 30'000);
  open = 12;
  monitor.evaluate(now += 30'000);
  monitor.evaluate(now += 30'000);
  posts = receiver.received();
  EXPECT_EQ(states_of(posts), std::vector<std::string>({"firing", "resolved", "firing"}));
  EXPECT_EQ(posts[1].body["value"], 10.0);
  EXPECT_EQ(posts[1].body["message"],
            "the number of open incidents is 10, back within the limit 10");
  EXPECT_NE(posts[0].idempotency_key, posts[2].idempotency_key);
  EXPECT_EQ(monitor.queued_alerts(), 0u);
}

TEST(KpiMonitor, CycleTimeStatisticOverTheWindow) {
  AlertReceiver receiver;
  AlertSettings settings = settings_for({{"webhook", {{"url", receiver.url()}}},
                                         {"rules",
                                          {{{"name", "shipping-late"},
                                            {"kind", "cycle-time"},
                                            {"process", "order-acceptance"},
                                            {"to", "ship"},
                                            {"statistic", "p90"},
                                            {"window", "PT1H"},
                                            {"above", "PT24H"}}}}});
  server::TelemetryOptions options;
  options.cycle_times = server::cycle_time_spans(settings);
  Telemetry telemetry(options);
  KpiMonitor monitor(settings, telemetry, {});

  // Nine orders took 20 h, one 30 h: the p90 (nearest rank) is 20 h.
  InstanceId id = 0;
  for (int i = 0; i < 9; ++i) cycle(telemetry, ++id, "order-acceptance", "ship", 20 * kHour, kT0);
  cycle(telemetry, ++id, "order-acceptance", "ship", 30 * kHour, kT0);
  monitor.evaluate(kT0 + 60'000);
  EXPECT_EQ(monitor.states()[0].value, 20.0 * 3600);
  EXPECT_FALSE(monitor.states()[0].firing);

  // Two more slow ones: 3 of 12 above 24 h, so the p90 is 30 h.
  cycle(telemetry, ++id, "order-acceptance", "ship", 30 * kHour, kT0 + 120'000);
  cycle(telemetry, ++id, "order-acceptance", "ship", 30 * kHour, kT0 + 120'000);
  monitor.evaluate(kT0 + 180'000);
  EXPECT_TRUE(monitor.states()[0].firing);
  auto posts = receiver.received();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].body["value"], 108000.0);
  EXPECT_EQ(posts[0].body["threshold"], 86400.0);
  EXPECT_EQ(posts[0].body["message"],
            "p90 cycle time of order-acceptance to ship over the last PT1H is PT30H (12 "
            "instances), above the target PT24H");

  // An hour and more later, nothing reached ship in the window: no data resolves it.
  monitor.evaluate(kT0 + 2 * kHour);
  EXPECT_FALSE(monitor.states()[0].value.has_value());
  posts = receiver.received();
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[1].body["state"], "resolved");
  EXPECT_TRUE(posts[1].body["value"].is_null());
}

TEST(KpiMonitor, DeliveryRateNeedsTheMinimumOfAttemptsInTheWindow) {
  AlertReceiver receiver;
  Telemetry telemetry;
  AlertSettings settings = settings_for({{"webhook", {{"url", receiver.url()}}},
                                         {"rules",
                                          {{{"name", "sms-failing"},
                                            {"kind", "delivery-rate"},
                                            {"channel", "sms"},
                                            {"window", "PT1H"},
                                            {"below", 0.95},
                                            {"minimum", 20}}}}});
  std::int64_t sent = 100, failed = 0, rejected = 0;
  KpiSources sources;
  sources.delivery_counts = [&]() -> Result<std::vector<Notifier::Count>> {
    return std::vector<Notifier::Count>{{"sms", "sent", sent},
                                        {"sms", "failed", failed},
                                        {"sms", "rejected", rejected},
                                        {"sms", "skipped", 40},
                                        {"email", "failed", 500 + sent}};
  };
  KpiMonitor monitor(settings, telemetry, sources);
  std::int64_t now = kT0;
  monitor.evaluate(now);  // the base
  EXPECT_FALSE(monitor.states()[0].value.has_value());

  sent += 10;
  failed += 5;  // 10 of 15: a bad rate, but fewer than 20 attempts
  monitor.evaluate(now += 60'000);
  EXPECT_FALSE(monitor.states()[0].value.has_value());
  EXPECT_FALSE(monitor.states()[0].firing);

  rejected += 5;  // 10 of 20
  monitor.evaluate(now += 60'000);
  EXPECT_EQ(monitor.states()[0].value, 0.5);
  EXPECT_TRUE(monitor.states()[0].firing);

  // An hour on, the window holds only what came since: 95 of 100 sent is not below 0.95.
  now += kHour;
  sent += 95;
  failed += 5;
  monitor.evaluate(now);
  EXPECT_EQ(monitor.states()[0].value, 0.95);
  EXPECT_FALSE(monitor.states()[0].firing);
  const auto posts = receiver.received();
  EXPECT_EQ(states_of(posts), std::vector<std::string>({"firing", "resolved"}));
  EXPECT_EQ(posts[0].body["message"],
            "notification delivery rate on sms over the last PT1H is 0.5 (10 of 20 attempts "
            "sent), below the floor 0.95");
}

TEST(KpiMonitor, OpenRateIsTheShareOfTheWindowsMessagesOpenedSoFar) {
  AlertReceiver receiver;
  Telemetry telemetry;
  AlertSettings settings = settings_for({{"webhook", {{"url", receiver.url()}}},
                                         {"rules",
                                          {{{"name", "short-opens"},
                                            {"kind", "open-rate"},
                                            {"channel", "email"},
                                            {"segment", "new"},
                                            {"experiment", "x"},
                                            {"variant", "short"},
                                            {"window", "PT1H"},
                                            {"below", 0.3},
                                            {"minimum", 10}},
                                           {{"name", "clicks"},
                                            {"kind", "click-rate"},
                                            {"below", 0.05},
                                            {"minimum", 40}}}}});
  // The messages: when each was sent, to whom, and whether it was opened / clicked by now.
  struct Sent {
    std::int64_t at;
    std::string channel, segment, experiment, variant;
    bool opened, clicked;
  };
  std::vector<Sent> sent;
  const auto send = [&](std::int64_t at, int n, int opened, const char* segment = "new",
                        const char* experiment = "x", const char* variant = "short",
                        const char* channel = "email") {
    for (int i = 0; i < n; ++i) sent.push_back({at, channel, segment, experiment, variant, i < opened, false});
  };
  std::vector<std::int64_t> asked;
  KpiSources sources;
  sources.engagement = [&](std::int64_t since) -> Result<std::vector<EngagementCount>> {
    asked.push_back(since);
    std::map<std::tuple<std::string, std::string, std::string, std::string>, EngagementCount> by;
    for (const Sent& m : sent) {
      if (m.at < since) continue;
      EngagementCount& c = by[{m.channel, m.segment, m.experiment, m.variant}];
      c = {m.channel, m.segment, m.experiment, m.variant, c.sent + 1, c.sent + 1,
           c.opened + m.opened, c.clicked + m.clicked};
    }
    std::vector<EngagementCount> out;
    for (auto& [_, c] : by) out.push_back(c);
    return out;
  };
  KpiMonitor monitor(settings, telemetry, sources);
  std::int64_t now = kT0;
  // Long ago, 100 messages all opened: outside the window, they do not count.
  send(now - 3 * kHour, 100, 100);
  // In the window: 20 sent, 10 opened; other segments, experiments, variants and channels
  // are not the rule's business.
  send(now - 10 * 60'000, 20, 10);
  send(now - 10 * 60'000, 50, 0, "active");
  send(now - 10 * 60'000, 50, 0, "new", "y");
  send(now - 10 * 60'000, 50, 0, "new", "x", "control");
  send(now - 10 * 60'000, 50, 0, "new", "x", "short", "sms");
  monitor.evaluate(now);
  EXPECT_EQ(asked.front(), now - kHour) << "the window's cohort";
  EXPECT_EQ(monitor.states()[0].value, 0.5);
  EXPECT_FALSE(monitor.states()[0].firing);
  // Half an hour on: 30 more sent, 2 of them opened: 12 of 50.
  now += 30 * 60'000;
  send(now - 60'000, 30, 2);
  monitor.evaluate(now);
  EXPECT_EQ(monitor.states()[0].value, 0.24);
  EXPECT_TRUE(monitor.states()[0].firing);
  // The click rule counts every message of its window: none clicked.
  EXPECT_EQ(monitor.states()[1].value, 0.0);
  EXPECT_TRUE(monitor.states()[1].firing);
  std::vector<json> opens;
  for (const auto& p : receiver.received()) {
    if (p.body["kind"] == "open-rate") opens.push_back(p.body);
  }
  ASSERT_EQ(opens.size(), 1u);
  EXPECT_EQ(opens[0]["message"],
            "open rate of notifications on email to segment new in experiment x in variant "
            "short over the last PT1H is 0.24 (12 of 50 sent messages opened), below the floor "
            "0.3");
  // Opens of the window's messages that come in later raise it again.
  for (Sent& m : sent) {
    if (m.at >= now - kHour && m.segment == "new" && m.variant == "short") m.opened = true;
  }
  monitor.evaluate(now += 60'000);
  EXPECT_EQ(monitor.states()[0].value, 1.0);
  EXPECT_FALSE(monitor.states()[0].firing);
}

TEST(KpiMonitor, NoDataNeverFires) {
  AlertReceiver receiver;
  Telemetry telemetry;
  AlertSettings settings =
      settings_for({{"webhook", {{"url", receiver.url()}}},
                    {"rules",
                     {{{"name", "late"},
                       {"kind", "cycle-time"},
                       {"process", "p"},
                       {"to", "done"},
                       {"statistic", "max"},
                       {"above", "PT1S"}},
                      {{"name", "failing"}, {"kind", "delivery-rate"}, {"below", 1}},
                      {{"name", "incidents"}, {"kind", "incidents"}, {"above", 0}}}}});
  std::ostringstream logged;
  auto logger = std::make_shared<spdlog::logger>(
      "kpi", std::make_shared<spdlog::sinks::ostream_sink_mt>(logged));
  KpiMonitor monitor(settings, telemetry, {}, logger);
  for (int i = 0; i < 3; ++i) monitor.evaluate(kT0 + i * 30'000);
  for (const KpiState& s : monitor.states()) {
    EXPECT_FALSE(s.firing) << s.name;
    EXPECT_FALSE(s.value.has_value()) << s.name;
  }
  EXPECT_TRUE(receiver.received().empty());
  EXPECT_NE(logged.str().find("KPI rule 'incidents': nothing to read incidents from"),
            std::string::npos)
      << logged.str();
  std::string text;
  monitor.write_prometheus(text);
  EXPECT_NE(text.find("ordo_kpi_value{rule=\"late\"} NaN\n"), std::string::npos) << text;
}

TEST(KpiMonitor, AFailedPostIsRetriedAtTheNextEvaluationWithoutFiringTwice) {
  AlertReceiver receiver;
  Telemetry telemetry;
  std::int64_t open = 50;
  KpiMonitor monitor(incident_rule(receiver), telemetry,
                     KpiSources{[&]() -> Result<std::int64_t> { return open; }, nullptr, nullptr});
  receiver.status = 503;
  monitor.evaluate(kT0);
  EXPECT_EQ(receiver.received().size(), 1u);
  EXPECT_EQ(monitor.queued_alerts(), 1u);
  EXPECT_TRUE(monitor.states()[0].firing);

  receiver.status = 200;
  monitor.evaluate(kT0 + 30'000);
  monitor.evaluate(kT0 + 60'000);
  const auto posts = receiver.received();
  ASSERT_EQ(posts.size(), 2u) << "the failed post again, and nothing more";
  EXPECT_EQ(posts[1].raw, posts[0].raw);
  EXPECT_EQ(posts[1].idempotency_key, posts[0].idempotency_key);
  EXPECT_EQ(posts[1].body["since"], "2026-12-01T10:00:00Z");
  EXPECT_EQ(monitor.queued_alerts(), 0u);
}

TEST(KpiMonitor, AlertsAreSignedWithTheSecret) {
  AlertReceiver receiver;
  Telemetry telemetry;
  AlertSettings settings = incident_rule(receiver);
  settings.webhook.secret = "correct horse battery staple";
  KpiMonitor monitor(settings, telemetry,
                     KpiSources{[]() -> Result<std::int64_t> { return 11; }, nullptr, nullptr});
  monitor.evaluate(kT0);
  const auto posts = receiver.received();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_TRUE(verify_webhook_signature(posts[0].raw, settings.webhook.secret, posts[0].signature))
      << posts[0].signature;
  EXPECT_FALSE(verify_webhook_signature(posts[0].raw, "another secret", posts[0].signature));
}

TEST(KpiMonitor, LogsAWarningWithRuleValueAndThreshold) {
  Telemetry telemetry;
  AlertSettings settings =
      settings_for({{"rules", {{{"name", "incidents"}, {"kind", "incidents"}, {"above", 10}}}}});
  std::ostringstream logged;
  auto logger = std::make_shared<spdlog::logger>(
      "kpi", std::make_shared<spdlog::sinks::ostream_sink_mt>(logged));
  std::int64_t open = 11;
  KpiMonitor monitor(settings, telemetry,
                     KpiSources{[&]() -> Result<std::int64_t> { return open; }, nullptr, nullptr}, logger);
  monitor.evaluate(kT0);
  monitor.evaluate(kT0 + 1);
  open = 0;
  monitor.evaluate(kT0 + 2);
  const std::string log = logged.str();
  EXPECT_NE(log.find("[warning] KPI alert 'incidents' firing: value 11, threshold 10: the "
                     "number of open incidents is 11, above the limit 10\n"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("firing"), log.rfind("firing")) << "logged once";
  EXPECT_NE(log.find("KPI alert 'incidents' resolved: the number of open incidents is 0"),
            std::string::npos);
  EXPECT_EQ(monitor.queued_alerts(), 0u) << "without a webhook nothing waits";
}

TEST(KpiMonitor, ASourceThatFailsKeepsTheState) {
  AlertReceiver receiver;
  Telemetry telemetry;
  bool broken = false;
  KpiMonitor monitor(incident_rule(receiver), telemetry,
                     KpiSources{[&]() -> Result<std::int64_t> {
                                  if (broken) return Status::io_error("database is locked");
                                  return 11;
                                },
                                nullptr, nullptr});
  monitor.evaluate(kT0);
  broken = true;
  monitor.evaluate(kT0 + 30'000);
  EXPECT_TRUE(monitor.states()[0].firing);
  EXPECT_EQ(receiver.received().size(), 1u);
}

TEST(KpiMonitor, WritesValueAndFiringGauges) {
  Telemetry telemetry;
  KpiMonitor monitor(
      settings_for({{"rules",
                     {{{"name", "incidents"}, {"kind", "incidents"}, {"above", 10}},
                      {{"name", "few \"incidents\""}, {"kind", "incidents"}, {"above", 100}}}}}),
      telemetry, KpiSources{[]() -> Result<std::int64_t> { return 12; }, nullptr, nullptr},
      std::make_shared<spdlog::logger>("quiet"));
  monitor.evaluate(kT0);
  std::string text;
  monitor.write_prometheus(text);
  EXPECT_EQ(text,
            "# HELP ordo_kpi_value The value of each KPI rule at its last evaluation (cycle "
            "times in seconds; NaN: no data).\n"
            "# TYPE ordo_kpi_value gauge\n"
            "ordo_kpi_value{rule=\"incidents\"} 12\n"
            "ordo_kpi_value{rule=\"few \\\"incidents\\\"\"} 12\n"
            "# HELP ordo_kpi_firing 1 while a KPI rule is beyond its threshold (an alert "
            "fired), else 0.\n"
            "# TYPE ordo_kpi_firing gauge\n"
            "ordo_kpi_firing{rule=\"incidents\"} 1\n"
            "ordo_kpi_firing{rule=\"few \\\"incidents\\\"\"} 0\n");
}

TEST(KpiMonitor, StartEvaluatesInTheBackgroundAndStopIsPrompt) {
  AlertReceiver receiver;
  Telemetry telemetry;
  AlertSettings settings = incident_rule(receiver);
  settings.interval_ms = 60 * 60 * 1000;  // stop() must not wait for the next evaluation
  KpiMonitor monitor(settings, telemetry,
                     KpiSources{[]() -> Result<std::int64_t> { return 11; }, nullptr, nullptr});
  VirtualClock clock(kT0);
  monitor.start(clock);
  monitor.start(clock);  // a second start does nothing
  while (receiver.received().empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  monitor.stop();
  monitor.stop();
  EXPECT_EQ(receiver.received().size(), 1u);
  EXPECT_EQ(receiver.received()[0].body["since"], "2026-12-01T10:00:00Z");
}

TEST(AlertSettings, ReadsTheExample) {
  Result<AlertSettings> s = server::read_alert_settings(json::parse(R"({
    "interval": "PT1M",
    "webhook": {"url": "https://ops.example/alerts", "secret": "s3cret", "timeout": "PT2S"},
    "rules": [
      {"name": "shipping-late", "kind": "cycle-time", "process": "order-acceptance",
       "to": "ship", "statistic": "p95", "window": "PT2H", "above": "P1D"},
      {"name": "notifications-failing", "kind": "delivery-rate", "window": "PT1H",
       "below": 0.95, "minimum": 20},
      {"name": "incidents", "kind": "incidents", "above": 10}]})"));
  ASSERT_OK(s);
  EXPECT_EQ(s->interval_ms, 60'000);
  EXPECT_EQ(s->webhook.url, "https://ops.example/alerts");
  EXPECT_EQ(s->webhook.secret, "s3cret");
  EXPECT_EQ(s->webhook.timeout_ms, 2'000);
  ASSERT_EQ(s->rules.size(), 3u);
  EXPECT_EQ(s->rules[0].kind, server::KpiKind::kCycleTime);
  EXPECT_EQ(s->rules[0].statistic, server::KpiStatistic::kP95);
  EXPECT_EQ(s->rules[0].window_ms, 2 * kHour);
  EXPECT_EQ(s->rules[0].threshold, 86400.0);
  EXPECT_EQ(s->rules[1].threshold, 0.95);
  EXPECT_EQ(s->rules[1].minimum, 20);
  EXPECT_EQ(s->rules[2].threshold, 10.0);
  const auto spans = server::cycle_time_spans(*s);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].process, "order-acceptance");
  EXPECT_EQ(spans[0].to, "ship");
  EXPECT_EQ(spans[0].window_ms, 2 * kHour);

  Result<AlertSettings> none = server::read_alert_settings(json());
  ASSERT_OK(none);
  EXPECT_TRUE(none->rules.empty());
}

TEST(AlertSettings, ErrorsNameTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"rules": [{"name": "a", "kind": "incidents", "above": 1},
                     {"name": "b", "kind": "delivery-rate", "below": 1.5}]})",
       "server.alerts.rules[1].below: must be a number from 0 to 1"},
      {R"({"rules": [{"name": "a", "kind": "incidents", "above": 1, "window": "PT1H"}]})",
       "server.alerts.rules[0].window: is not a setting of a rule of kind incidents (known: "
       "name, kind, above)"},
      {R"({"rules": [{"name": "a", "kind": "cycle-time", "process": "p", "above": "PT1H"}]})",
       "server.alerts.rules[0].to: is missing: a rule of kind cycle-time needs process, to, "
       "above"},
      {R"({"rules": [{"name": "a", "kind": "cycle-time", "process": "p", "to": "t",
                      "above": "24h"}]})",
       "server.alerts.rules[0].above: must be a duration"},
      {R"({"rules": [{"name": "a", "kind": "cycle-time", "process": "p", "to": "t",
                      "above": "PT1H", "statistic": "p42"}]})",
       "server.alerts.rules[0].statistic: must be one of p50, p90, p95, p99, max, mean"},
      {R"({"rules": [{"name": "a", "kind": "delivery-rate", "below": 0.9, "minimum": 0}]})",
       "server.alerts.rules[0].minimum: must be a whole number from 1"},
      {R"({"rules": [{"name": "a", "kind": "incidents", "above": -1}]})",
       "server.alerts.rules[0].above: must be a whole number from 0"},
      {R"({"rules": [{"name": "a", "kind": "latency"}]})",
       "server.alerts.rules[0].kind: must be one of cycle-time, delivery-rate, incidents, "
       "open-rate, click-rate"},
      {R"({"rules": [{"kind": "incidents", "above": 1}]})",
       "server.alerts.rules[0].name: is missing"},
      {R"({"rules": [{"name": "a", "kind": "incidents", "above": 1},
                     {"name": "a", "kind": "incidents", "above": 2}]})",
       "server.alerts.rules[1].name: 'a' is the name of rules[0] too"},
      {R"({"rules": [], "intervall": "PT1M"})",
       "server.alerts.intervall: is not a setting (known: interval, webhook, rules)"},
      {R"({"rules": [], "interval": "PT0.5S"})", "server.alerts.interval: must be at least PT1S"},
      {R"({"rules": [], "webhook": {"url": "ftp://x"}})",
       "server.alerts.webhook.url: must be an http:// or https:// URL"},
      {R"({"rules": [], "webhook": {"secret": "x"}})", "server.alerts.webhook.url: is missing"},
      {R"({"rules": [], "webhook": {"url": "http://x", "retries": 3}})",
       "server.alerts.webhook.retries: is not a setting (known: url, secret, timeout)"},
      {R"({"interval": "PT1M"})", "server.alerts.rules: is missing"},
      {R"([1])", "server.alerts: must be an object"},
  };
  for (const auto& [text, expected] : cases) {
    Result<AlertSettings> s = server::read_alert_settings(json::parse(text));
    ASSERT_FALSE(s.is_ok()) << text;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.status().message().rfind(expected, 0), 0u)
        << "got: " << s.status().message() << "\nwanted: " << expected;
  }
}

}  // namespace
}  // namespace ordo::testing
