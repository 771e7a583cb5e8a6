// Telemetry fed by real engines on a virtual clock: counters, the job latency histogram and
// cycle-time samples, exactly.
#include "telemetry.h"

#include <unistd.h>

#include <filesystem>

#include "prometheus.h"
#include "runtime/harness.h"

namespace ordo::testing {
namespace {

using server::Telemetry;
using server::TelemetryOptions;

// The sample lines of `text` whose metric name is `name` (histogram series included).
std::string series(const std::string& text, std::string_view name) {
  std::string out;
  for (const std::string& line : split(text, '\n')) {
    if (line.rfind(name, 0) == 0 && line.size() > name.size() &&
        (line[name.size()] == '{' || line[name.size()] == ' ' || line[name.size()] == '_')) {
      out += line + "\n";
    }
  }
  return out;
}

std::string prometheus_text(const Telemetry& t) {
  std::string out;
  t.write_prometheus(out);
  return out;
}

// order: check (erp.check) -> pay (payment.charge; PAYMENT_DECLINED -> rejected) -> ship
// (erp.ship) -> shipped.
std::string order_xml() {
  return bpmn(
      "<error id=\"declined\" errorCode=\"PAYMENT_DECLINED\"/>\n"
      "<process id=\"order\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n" +
      svc("check", {}, "erp.check") + svc("pay", {}, "payment.charge") +
      "<boundaryEvent id=\"pay-declined\" attachedToRef=\"pay\"><errorEventDefinition "
      "errorRef=\"declined\"/></boundaryEvent>\n" +
      svc("ship", {}, "erp.ship") + "<endEvent id=\"shipped\"/>\n<endEvent id=\"rejected\"/>\n" +
      flow("s", "check") + flow("check", "pay") + flow("pay", "ship") + flow("ship", "shipped") +
      flow("pay-declined", "rejected") + "</process>");
}

// The order process on a Harness, watched by a Telemetry, with handlers that take a known
// (virtual) time: check 200 ms; pay 3 s, or a decline after 1.5 s, or (variable flaky) a
// failure after 100 ms with 1 s backoff first; ship 40 ms.
struct Orders {
  explicit Orders(TelemetryOptions options = {}) : telemetry(std::move(options)) {
    h.engine().add_observer(&telemetry);
    h.deploy(order_xml());
    VirtualClock& clock = h.clock();
    h.engine().register_handler("erp.check", [&clock](const Job&) {
      clock.advance(200);
      return JobOutcome::complete();
    });
    h.engine().register_handler("payment.charge", [&clock](const Job& job) {
      if (const nlohmann::json* d = job.variable("declined"); d != nullptr && *d == true) {
        clock.advance(1500);
        return JobOutcome::error("PAYMENT_DECLINED", "card declined");
      }
      if (job.variable("flaky") != nullptr && job.attempt() == 1) {
        clock.advance(100);
        return JobOutcome::fail("gateway timeout", 1000);
      }
      clock.advance(3000);
      return JobOutcome::complete();
    });
    h.engine().register_handler("erp.ship", [&clock](const Job&) {
      clock.advance(40);
      return JobOutcome::complete();
    });
  }
  ~Orders() { h.engine().remove_observer(&telemetry); }

  // Four orders: shipped; declined; cancelled while checking; shipped after a failed
  // payment attempt and its backoff.
  void run() {
    h.start("order");
    must(h.engine().run_until_idle());
    h.start("order", {{"declined", true}});
    must(h.engine().run_until_idle());
    ASSERT_OK(h.engine().cancel(h.start("order")));
    h.start("order", {{"flaky", true}});
    must(h.engine().run_until_idle());  // the payment fails and waits for its backoff
    ASSERT_OK(h.engine().advance_clock(1000));
  }

  Harness h;
  Telemetry telemetry;
};

// Every test runs on each store (harness.h).
ORDO_ON_EACH_STORE(TelemetryTest);

TEST_P(TelemetryTest, CountsInstancesByEndEventAndJobsByTypeAndOutcome) {
  Orders orders;
  orders.run();
  const std::string text = prometheus_text(orders.telemetry);
  EXPECT_EQ(series(text, "ordo_instances_started_total"),
            "ordo_instances_started_total{process=\"order\"} 4\n");
  EXPECT_EQ(series(text, "ordo_instances_ended_total"),
            "ordo_instances_ended_total{process=\"order\",end_event=\"(terminated)\"} 1\n"
            "ordo_instances_ended_total{process=\"order\",end_event=\"rejected\"} 1\n"
            "ordo_instances_ended_total{process=\"order\",end_event=\"shipped\"} 2\n");
  EXPECT_EQ(series(text, "ordo_jobs_total"),
            "ordo_jobs_total{type=\"erp.check\",outcome=\"created\"} 4\n"
            "ordo_jobs_total{type=\"erp.check\",outcome=\"completed\"} 3\n"
            "ordo_jobs_total{type=\"erp.check\",outcome=\"failed\"} 0\n"
            "ordo_jobs_total{type=\"erp.check\",outcome=\"error\"} 0\n"
            "ordo_jobs_total{type=\"erp.check\",outcome=\"deferred\"} 0\n"
            "ordo_jobs_total{type=\"erp.check\",outcome=\"cancelled\"} 1\n"
            "ordo_jobs_total{type=\"erp.ship\",outcome=\"created\"} 2\n"
            "ordo_jobs_total{type=\"erp.ship\",outcome=\"completed\"} 2\n"
            "ordo_jobs_total{type=\"erp.ship\",outcome=\"failed\"} 0\n"
            "ordo_jobs_total{type=\"erp.ship\",outcome=\"error\"} 0\n"
            "ordo_jobs_total{type=\"erp.ship\",outcome=\"deferred\"} 0\n"
            "ordo_jobs_total{type=\"erp.ship\",outcome=\"cancelled\"} 0\n"
            "ordo_jobs_total{type=\"payment.charge\",outcome=\"created\"} 3\n"
            "ordo_jobs_total{type=\"payment.charge\",outcome=\"completed\"} 2\n"
            "ordo_jobs_total{type=\"payment.charge\",outcome=\"failed\"} 1\n"
            "ordo_jobs_total{type=\"payment.charge\",outcome=\"error\"} 1\n"
            "ordo_jobs_total{type=\"payment.charge\",outcome=\"deferred\"} 0\n"
            "ordo_jobs_total{type=\"payment.charge\",outcome=\"cancelled\"} 0\n");
  EXPECT_NE(text.find("# HELP ordo_jobs_total "), std::string::npos);
  EXPECT_NE(text.find("# TYPE ordo_jobs_total counter\n"), std::string::npos);
}

TEST_P(TelemetryTest, JobLatencyHistogramFromCreationToCompletionOrError) {
  Orders orders;
  orders.run();
  const std::string text = prometheus_text(orders.telemetry);
  EXPECT_NE(text.find("# TYPE ordo_job_duration_seconds histogram\n"), std::string::npos);
  // Payments: 3 s; declined after 1.5 s; 100 ms + 1 s backoff + 3 s = 4.1 s.
  const std::string buckets[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                 "0.5",   "1",    "2.5",   "5",    "10",  "30",
                                 "60",    "300",  "900",   "3600", "+Inf"};
  const int payments[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 3, 3, 3, 3, 3, 3};
  std::string expected;
  for (std::size_t i = 0; i < std::size(buckets); ++i) {
    expected += "ordo_job_duration_seconds_bucket{type=\"payment.charge\",le=\"" + buckets[i] +
                "\"} " + std::to_string(payments[i]) + "\n";
  }
  expected +=
      "ordo_job_duration_seconds_sum{type=\"payment.charge\"} 8.6\n"
      "ordo_job_duration_seconds_count{type=\"payment.charge\"} 3\n";
  const std::string all = series(text, "ordo_job_duration_seconds");
  EXPECT_NE(all.find(expected), std::string::npos) << all;
  // Checks: 200 ms each, the cancelled one not observed; shipping 40 ms each.
  EXPECT_NE(all.find("{type=\"erp.check\",le=\"0.1\"} 0\n"
                     "ordo_job_duration_seconds_bucket{type=\"erp.check\",le=\"0.25\"} 3\n"),
            std::string::npos);
  EXPECT_NE(all.find("ordo_job_duration_seconds_sum{type=\"erp.check\"} 0.6\n"
                     "ordo_job_duration_seconds_count{type=\"erp.check\"} 3\n"),
            std::string::npos);
  EXPECT_NE(all.find("{type=\"erp.ship\",le=\"0.025\"} 0\n"
                     "ordo_job_duration_seconds_bucket{type=\"erp.ship\",le=\"0.05\"} 2\n"),
            std::string::npos);
  EXPECT_NE(all.find("ordo_job_duration_seconds_sum{type=\"erp.ship\"} 0.08\n"), std::string::npos);
}

TEST_P(TelemetryTest, CycleTimesFromStartToTheFirstCompletionOfAnElement) {
  TelemetryOptions options;
  options.cycle_times = {{"order", "ship", 60 * 60 * 1000}, {"order", "rejected", 60'000}};
  Orders orders(options);
  orders.run();
  Harness& h = orders.h;
  const Telemetry& telemetry = orders.telemetry;
  // Shipped: 200 + 3000 + 40 ms; flaky: 200 + 100 + 1000 + 3000 + 40 ms.
  EXPECT_EQ(telemetry.cycle_times("order", "ship", 0), std::vector<std::int64_t>({3240, 4340}));
  EXPECT_EQ(telemetry.cycle_times("order", "rejected", 0), std::vector<std::int64_t>({1700}));
  // Only samples that ended at or after `since`.
  EXPECT_EQ(telemetry.cycle_times("order", "ship", h.clock().now_ms()),
            std::vector<std::int64_t>({4340}));
  EXPECT_TRUE(telemetry.cycle_times("order", "check", 0).empty()) << "not measured";

  // Two hours later a new sample pushes the ones outside the window out.
  h.clock().advance(2 * 60 * 60 * 1000);
  h.start("order");
  must(h.engine().run_until_idle());
  EXPECT_EQ(telemetry.cycle_times("order", "ship", 0), std::vector<std::int64_t>({3240}));
}

// The dashboard's orders per minute and cycle times, as the engine keeps them in its store
// (the same for every node): shipped in 3,240 ms and 4,340 ms (a failed payment, its 1 s
// backoff), rejected in 1,700 ms; the cancelled order gives no cycle time. Each figure is
// its histogram bucket's upper bound: at most 25% above, never below.
TEST_P(TelemetryTest, TheEngineKeepsOrdersPerMinuteAndCycleTimesToEachEndEvent) {
  Orders orders;
  const std::int64_t start = orders.h.clock().now_ms();
  orders.run();
  const std::int64_t now = orders.h.clock().now_ms();
  std::int64_t started = 0, completed = 0, terminated = 0;
  for (const MinuteCount& m : must(orders.h.engine().instances_per_minute(start))) {
    EXPECT_EQ(m.process_id, "order");
    EXPECT_EQ(m.minute_ms % 60'000, 0);
    EXPECT_GE(m.minute_ms, start - 60'000);
    EXPECT_LE(m.minute_ms, now);
    started += m.started;
    completed += m.completed;
    terminated += m.terminated;
  }
  EXPECT_EQ(started, 4);
  EXPECT_EQ(completed, 3);
  EXPECT_EQ(terminated, 1);
  const auto bound = [](std::int64_t ms) { return cycle_bucket_upper_ms(cycle_bucket(ms)); };
  const std::vector<CycleTime> cycles = must(orders.h.engine().cycle_times(start));
  ASSERT_EQ(cycles.size(), 2u);
  EXPECT_EQ(cycles[0].end_event, "rejected");
  EXPECT_EQ(cycles[0].count, 1);
  EXPECT_EQ(cycles[0].p50_ms, bound(1700));
  EXPECT_EQ(cycles[1].end_event, "shipped");
  EXPECT_EQ(cycles[1].count, 2);
  EXPECT_EQ(cycles[1].p50_ms, bound(3240));
  EXPECT_EQ(cycles[1].p95_ms, bound(4340));
  for (std::int64_t ms : {1700, 3240, 4340}) {
    EXPECT_GE(bound(ms), ms);
    EXPECT_LE(bound(ms), ms * 5 / 4);
  }
  // Later windows hold none of them.
  EXPECT_TRUE(must(orders.h.engine().instances_per_minute(now + 60'000)).empty());
  EXPECT_TRUE(must(orders.h.engine().cycle_times(now + 60'000)).empty());

  // Jobs by type: what this node's Telemetry saw.
  const nlohmann::json d = orders.telemetry.dashboard();
  ASSERT_EQ(d["jobs"].size(), 3u);
  EXPECT_EQ(d["jobs"][0]["type"], "erp.check");
  EXPECT_EQ(d["jobs"][0]["created"], 4);
  EXPECT_EQ(d["jobs"][0]["meanMs"], 200);
}

TEST_P(TelemetryTest, IncidentsRaisedAndResolvedByProcess) {
  Harness h;
  Telemetry telemetry;
  h.engine().add_observer(&telemetry);
  h.deploy(process(straight(svc("t")), "fragile"));
  h.engine().register_handler("t", [](const Job&) { return JobOutcome::incident("no stock"); });
  InstanceId id = h.start("fragile");
  must(h.engine().run_until_idle());
  ASSERT_EQ(h.info(id).incidents.size(), 1u);
  h.engine().register_handler("t", [](const Job&) { return JobOutcome::complete(); });
  ASSERT_OK(h.engine().resolve_incident(h.info(id).incidents[0].key, 1));
  must(h.engine().run_until_idle());
  h.engine().remove_observer(&telemetry);

  const std::string text = prometheus_text(telemetry);
  EXPECT_EQ(series(text, "ordo_incidents_raised_total"),
            "ordo_incidents_raised_total{process=\"fragile\"} 1\n");
  EXPECT_EQ(series(text, "ordo_incidents_resolved_total"),
            "ordo_incidents_resolved_total{process=\"fragile\"} 1\n");
  // The job failed into the incident, and completed once resolved.
  EXPECT_NE(text.find("ordo_jobs_total{type=\"t\",outcome=\"failed\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ordo_jobs_total{type=\"t\",outcome=\"completed\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("ordo_instances_ended_total{process=\"fragile\",end_event=\"e\"} 1\n"),
            std::string::npos);
}

TEST_P(TelemetryTest, JobsCreatedBeforeItWasAttachedCountAsUnknownType) {
  Harness h;
  h.deploy(process(straight(svc("t"))));
  h.start();  // its job is open before telemetry watches
  Telemetry telemetry;
  h.engine().add_observer(&telemetry);
  ASSERT_OK(h.engine().complete_job(h.job_of("t")));
  h.engine().remove_observer(&telemetry);

  const std::string text = prometheus_text(telemetry);
  EXPECT_NE(text.find("ordo_jobs_total{type=\"(unknown)\",outcome=\"completed\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(series(text, "ordo_job_duration_seconds"), "") << "no latency without a creation";
  EXPECT_EQ(series(text, "ordo_instances_started_total"), "");
  EXPECT_EQ(series(text, "ordo_instances_ended_total"),
            "ordo_instances_ended_total{process=\"p\",end_event=\"e\"} 1\n");
}

TEST_P(TelemetryTest, LabelValuesAreEscaped) {
  Harness h;
  Telemetry telemetry;
  h.engine().add_observer(&telemetry);
  h.deploy(process(straight(svc("t", {}, "say &quot;hi&quot; C:\\ok"))));
  h.start();
  h.engine().remove_observer(&telemetry);
  EXPECT_NE(prometheus_text(telemetry).find(
                "ordo_jobs_total{type=\"say \\\"hi\\\" C:\\\\ok\",outcome=\"created\"} 1\n"),
            std::string::npos)
      << prometheus_text(telemetry);
  EXPECT_EQ(server::prometheus::label("a\nb"), "a\\nb");
  EXPECT_EQ(server::prometheus::seconds(3'600'000), "3600");
  EXPECT_EQ(server::prometheus::seconds(1'005), "1.005");
  EXPECT_EQ(server::prometheus::seconds(120), "0.12");
}

// ordo serve: the API's engine creates a job, the worker's engine completes it; one
// Telemetry sees both and attributes the completion to the job's type.
TEST_P(TelemetryTest, OneTelemetryAcrossTwoEnginesOnOneDatabase) {
  const std::string db = (std::filesystem::temp_directory_path() /
                          ("ordo-telemetry-" + std::to_string(::getpid()) + ".db"))
                             .string();
  {
    auto clock = std::make_shared<VirtualClock>(kEpoch);
    EngineOptions options;
    options.clock = clock;
    options.synchronous_full = false;
    auto api = Engine::open(db, options);
    ASSERT_OK(api);
    auto worker = Engine::open(db, options);
    ASSERT_OK(worker);
    Telemetry telemetry;
    (*api)->add_observer(&telemetry);
    (*worker)->add_observer(&telemetry);
    LoadResult loaded = load_bpmn(process(straight(svc("t", {}, "erp.reserve"))), "t.bpmn");
    ASSERT_TRUE(loaded.ok());
    ASSERT_OK((*api)->deploy(loaded.document));
    ASSERT_OK((*api)->start("p"));
    (*worker)->register_handler("erp.reserve", [&clock](const Job&) {
      clock->advance(75);
      return JobOutcome::complete();
    });
    ASSERT_OK((*worker)->work());
    (*api)->remove_observer(&telemetry);
    (*worker)->remove_observer(&telemetry);

    const std::string text = prometheus_text(telemetry);
    EXPECT_NE(text.find("ordo_jobs_total{type=\"erp.reserve\",outcome=\"completed\"} 1\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("ordo_job_duration_seconds_sum{type=\"erp.reserve\"} 0.075\n"),
              std::string::npos);
    EXPECT_NE(text.find("ordo_instances_ended_total{process=\"p\",end_event=\"e\"} 1\n"),
              std::string::npos);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
}

}  // namespace
}  // namespace ordo::testing
