// KPI alerts: rules read from ordo.json (server.alerts), evaluated again and again; a rule
// that crosses its threshold logs an alert and posts it to a webhook once per crossing, and
// once more when it comes back within bounds (docs/operations.md, "Metrics and alerts").
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/clock.h"
#include "ordo/adapters/notifications.h"
#include "ordo/status.h"
#include "telemetry.h"

namespace spdlog {
class logger;
}

namespace ordo::server {

enum class KpiKind : std::uint8_t {
  kCycleTime,     // a statistic of cycle times (Telemetry) over a window, above a target
  kDeliveryRate,  // notifications sent / attempts over a window, below a floor
  kIncidents,     // open incidents, above a limit
  kOpenRate,      // sent notifications opened (or clicked) over a window, below a floor
  kClickRate,     // sent notifications clicked over a window, below a floor
};
std::string_view to_string(KpiKind kind) noexcept;  // "cycle-time", ...

enum class KpiStatistic : std::uint8_t { kP50, kP90, kP95, kP99, kMax, kMean };
std::string_view to_string(KpiStatistic statistic) noexcept;  // "p50", ..., "max", "mean"

struct KpiRule {
  std::string name;  // unique; the alert's and the metric's label
  KpiKind kind = KpiKind::kIncidents;
  // cycle-time: from the start of an instance of `process` to the first completion of
  // element `to`; `statistic` (percentiles by nearest rank) of the samples in the window.
  std::string process;
  std::string to;
  KpiStatistic statistic = KpiStatistic::kP90;
  // cycle-time and delivery-rate: how far back the rule looks.
  std::int64_t window_ms = 60 * 60 * 1000;
  // In the unit of the rule's value: seconds (cycle-time, "above"), a fraction from 0 to 1
  // (delivery-rate, "below"), a count (incidents, "above"). Breached when the value is above
  // it (cycle-time, incidents) or below it (delivery-rate); equal is within bounds.
  double threshold = 0;
  // delivery-rate, open-rate, click-rate: no judgement on fewer attempts (sent messages)
  // than this in the window; only those on `channel` (and, for open-rate and click-rate, in
  // `segment`, of A/B `experiment` and `variant`) when not empty.
  std::int64_t minimum = 1;
  std::string channel;
  std::string segment;
  std::string experiment;
  std::string variant;
};
// Whether a rule of `kind` measures a rate with a floor (delivery-, open-, click-rate).
inline bool is_rate(KpiKind kind) {
  return kind == KpiKind::kDeliveryRate || kind == KpiKind::kOpenRate ||
         kind == KpiKind::kClickRate;
}

struct AlertWebhook {
  std::string url;     // empty: alerts are only logged
  std::string secret;  // not empty: the body is signed (X-Ordo-Signature: sha256=<hex>)
  std::int64_t timeout_ms = 5000;
};

struct AlertSettings {
  std::int64_t interval_ms = 30 * 1000;  // between evaluations (start())
  AlertWebhook webhook;
  std::vector<KpiRule> rules;
};

// Reads the alerts section (`where`: its name in errors), e.g.
//   {"interval": "PT30S",
//    "webhook": {"url": "https://ops.example/alerts", "secret": "${env:ALERT_SECRET}",
//                "timeout": "PT5S"},
//    "rules": [{"name": "shipping-late", "kind": "cycle-time", "process": "order-acceptance",
//               "to": "ship", "statistic": "p90", "window": "PT1H", "above": "PT24H"},
//              {"name": "notifications-failing", "kind": "delivery-rate", "window": "PT1H",
//               "below": 0.95, "minimum": 20},
//              {"name": "incidents", "kind": "incidents", "above": 10},
//              {"name": "opens-dropping", "kind": "open-rate", "channel": "email",
//               "segment": "new", "experiment": "shipped-copy", "variant": "short",
//               "window": "P1D", "below": 0.2, "minimum": 100}]}
// Durations are ISO 8601 (days, hours, minutes, seconds). Null gives no rules. Errors name
// the key ("server.alerts.rules[1].below: must be a number from 0 to 1"); unknown keys are
// errors.
Result<AlertSettings> read_alert_settings(const nlohmann::json& section,
                                          const std::string& where = "server.alerts");

// The cycle times the rules need measured (TelemetryOptions::cycle_times).
std::vector<CycleTimeSpan> cycle_time_spans(const AlertSettings& settings);

// Where the monitor reads what Telemetry does not count. Either may be null: its rules then
// have no data and never fire. Called on the monitor's thread; they must be thread-safe
// with respect to the rest of the program (guard a shared Engine).
struct KpiSources {
  std::function<Result<std::int64_t>()> open_incidents;
  // Cumulative attempts by channel and status (Notifier::delivery_counts).
  std::function<Result<std::vector<Notifier::Count>>()> delivery_counts;
  // The messages sent since a time (the engine's clock, ms) and their engagement so far
  // (Notifier::engagement).
  std::function<Result<std::vector<EngagementCount>>(std::int64_t since_ms)> engagement;
};

// The current state of one rule.
struct KpiState {
  std::string name;
  KpiKind kind = KpiKind::kIncidents;
  std::optional<double> value;  // none: no data (no samples, too few attempts, no source)
  double threshold = 0;
  bool firing = false;
  std::int64_t since_ms = 0;  // when it started firing, or was last resolved (0: never)
};

// Evaluates the rules. A rule fires when its value crosses the threshold and resolves when
// it is back within bounds; no data counts as within bounds, so it never fires (and resolves
// one that was firing). Each change is logged (a warning when firing) and posted to the
// webhook as {"rule", "kind", "state": "firing" | "resolved", "value", "threshold", "since",
// "message"} with an Idempotency-Key header naming the change. A post that fails stays
// queued (in order, at most 100) and is tried again at the next evaluation; the rule does
// not fire again meanwhile. A source that fails leaves the rule's state as it was (logged).
//
// delivery-rate: sent / (sent + failed + rejected) of the attempts made in the window, from
// the growth of the cumulative counts between the evaluation at (or just before) the start
// of the window and now; until the monitor has watched a whole window, since its first
// evaluation. A count that goes down (a new delivery log) starts the measurement again.
// open-rate and click-rate: of the messages sent within the window, the share opened
// (clicked) by now, read from the delivery log each time.
//
// Thread-safe. `telemetry` and the sources must outlive the monitor.
class KpiMonitor {
 public:
  // `logger`: where alerts are logged; null: spdlog's default logger.
  KpiMonitor(AlertSettings settings, const Telemetry& telemetry, KpiSources sources,
             std::shared_ptr<spdlog::logger> logger = nullptr);
  ~KpiMonitor();  // stop()s
  KpiMonitor(const KpiMonitor&) = delete;
  KpiMonitor& operator=(const KpiMonitor&) = delete;

  // Evaluates every rule at `now_ms` (the engine clock that the samples are in), then posts
  // the queued alerts; blocks for at most the webhook's timeout per post. Calls are
  // serialised.
  void evaluate(std::int64_t now_ms);

  // Evaluates at once and then every interval on a background thread, reading `clock`
  // (which must outlive the monitor). Starting twice does nothing. stop() wakes the thread
  // at once and waits for an evaluation in flight (a post: its timeout at most).
  void start(const Clock& clock);
  void stop();

  std::vector<KpiState> states() const;
  std::size_t queued_alerts() const;  // not yet delivered to the webhook

  // ordo_kpi_value{rule} (NaN when no data; cycle-time in seconds) and
  // ordo_kpi_firing{rule} (1 or 0) gauges, in the Prometheus text format.
  void write_prometheus(std::string& out) const;

 private:
  struct Snapshot {
    std::int64_t at_ms;
    std::int64_t sent;
    std::int64_t attempts;
  };
  struct Measure {
    bool ok = true;  // false: the source failed; keep the state
    std::optional<double> value;
    std::string detail;  // what the value is made of, for the message
  };
  struct Alert {
    std::string key;  // Idempotency-Key
    std::string body;
  };

  Measure measure(std::size_t rule, std::int64_t now_ms);
  Measure delivery_rate(std::size_t rule, std::int64_t now_ms);
  Measure engagement_rate(const KpiRule& rule, std::int64_t now_ms);
  void transition(std::size_t rule, const Measure& m, bool firing, std::int64_t now_ms);
  void deliver();

  const AlertSettings settings_;
  const Telemetry& telemetry_;
  const KpiSources sources_;
  std::shared_ptr<spdlog::logger> logger_;

  std::mutex eval_mu_;  // evaluate(): serialises evaluations; guards what follows
  std::vector<std::deque<Snapshot>> snapshots_;  // by rule (delivery-rate)
  std::deque<Alert> queue_;

  mutable std::mutex state_mu_;  // guards states_ and the queue's size
  std::vector<KpiState> states_;
  std::size_t queued_ = 0;

  std::mutex thread_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ordo::server
