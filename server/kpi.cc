// The KPI monitor: evaluating rules, alerting once per crossing, delivering alerts.
#include "kpi.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "http/http_client.h"
#include "ordo/adapters/adapters.h"
#include "prometheus.h"
#include "time/iso8601.h"
#include "views.h"

namespace ordo::server {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxQueuedAlerts = 100;
// A delivery-rate rule keeps about this many snapshots of the counts per window.
constexpr std::int64_t kSnapshotsPerWindow = 1024;

std::string duration_text(std::int64_t ms) {
  time::Duration d;
  d.millis = ms;
  return time::format_duration(d);
}

// The value as a person reads it: a duration for cycle times, else the number.
std::string shown(const KpiRule& rule, double value) {
  return rule.kind == KpiKind::kCycleTime ? duration_text(std::llround(value * 1000.0))
                                          : prometheus::number(value);
}

std::string described(const KpiRule& rule) {
  switch (rule.kind) {
    case KpiKind::kCycleTime:
      return std::string(to_string(rule.statistic)) + " cycle time of " + rule.process + " to " +
             rule.to + " over the last " + duration_text(rule.window_ms);
    case KpiKind::kDeliveryRate:
      return "notification delivery rate" + (rule.channel.empty() ? "" : " on " + rule.channel) +
             " over the last " + duration_text(rule.window_ms);
    case KpiKind::kIncidents:
      return "the number of open incidents";
    case KpiKind::kOpenRate:
    case KpiKind::kClickRate: {
      std::string of = rule.channel.empty() ? "" : " on " + rule.channel;
      if (!rule.segment.empty()) of += " to segment " + rule.segment;
      if (!rule.experiment.empty()) of += " in experiment " + rule.experiment;
      if (!rule.variant.empty()) of += " in variant " + rule.variant;
      return std::string(rule.kind == KpiKind::kOpenRate ? "open" : "click") +
             " rate of notifications" + of + " over the last " + duration_text(rule.window_ms);
    }
  }
  return {};
}

std::string_view bound(const KpiRule& rule) {
  switch (rule.kind) {
    case KpiKind::kCycleTime:
      return "the target";
    case KpiKind::kDeliveryRate:
    case KpiKind::kOpenRate:
    case KpiKind::kClickRate:
      return "the floor";
    case KpiKind::kIncidents:
      return "the limit";
  }
  return {};
}

// Nearest-rank percentiles, the maximum or the mean of `ms`, in seconds.
double statistic(KpiStatistic s, std::vector<std::int64_t>& ms) {
  if (s == KpiStatistic::kMean) {
    const double sum = std::accumulate(ms.begin(), ms.end(), 0.0, [](double a, std::int64_t b) {
      return a + static_cast<double>(b);
    });
    return sum / static_cast<double>(ms.size()) / 1000.0;
  }
  std::sort(ms.begin(), ms.end());
  const std::size_t percent = s == KpiStatistic::kP50   ? 50
                              : s == KpiStatistic::kP90 ? 90
                              : s == KpiStatistic::kP95 ? 95
                              : s == KpiStatistic::kP99 ? 99
                                                        : 100;
  const std::size_t rank = (percent * ms.size() + 99) / 100;  // ceil(percent% of n)
  return static_cast<double>(ms[std::max<std::size_t>(rank, 1) - 1]) / 1000.0;
}

}  // namespace

KpiMonitor::KpiMonitor(AlertSettings settings, const Telemetry& telemetry, KpiSources sources,
                       std::shared_ptr<spdlog::logger> logger)
    : settings_(std::move(settings)),
      telemetry_(telemetry),
      sources_(std::move(sources)),
      logger_(logger ? std::move(logger) : spdlog::default_logger()),
      snapshots_(settings_.rules.size()) {
  for (const KpiRule& r : settings_.rules) {
    states_.push_back(KpiState{r.name, r.kind, std::nullopt, r.threshold, false, 0});
    const bool engagement = r.kind == KpiKind::kOpenRate || r.kind == KpiKind::kClickRate;
    const bool blind = (r.kind == KpiKind::kIncidents && !sources_.open_incidents) ||
                       (r.kind == KpiKind::kDeliveryRate && !sources_.delivery_counts) ||
                       (engagement && !sources_.engagement);
    if (blind) {
      logger_->warn("KPI rule '{}': nothing to read {} from; it never fires", r.name,
                    r.kind == KpiKind::kIncidents ? "incidents"
                    : engagement                  ? "opens and clicks"
                                                  : "notification deliveries");
    }
  }
}

KpiMonitor::~KpiMonitor() {
  stop();
}

KpiMonitor::Measure KpiMonitor::measure(std::size_t i, std::int64_t now_ms) {
  const KpiRule& rule = settings_.rules[i];
  Measure m;
  switch (rule.kind) {
    case KpiKind::kCycleTime: {
      std::vector<std::int64_t> ms =
          telemetry_.cycle_times(rule.process, rule.to, now_ms - rule.window_ms);
      if (ms.empty()) {
        m.detail = "no instance reached " + rule.to + " in the window";
      } else {
        m.detail = std::to_string(ms.size()) + (ms.size() == 1 ? " instance" : " instances");
        m.value = statistic(rule.statistic, ms);
      }
      return m;
    }
    case KpiKind::kDeliveryRate:
      return delivery_rate(i, now_ms);
    case KpiKind::kOpenRate:
    case KpiKind::kClickRate:
      return engagement_rate(rule, now_ms);
    case KpiKind::kIncidents: {
      if (!sources_.open_incidents) {
        m.detail = "no source of incidents";
        return m;
      }
      Result<std::int64_t> n = sources_.open_incidents();
      if (!n) {
        m.ok = false;
        m.detail = n.status().message();
        return m;
      }
      m.value = static_cast<double>(*n);
      return m;
    }
  }
  return m;
}

KpiMonitor::Measure KpiMonitor::delivery_rate(std::size_t i, std::int64_t now_ms) {
  const KpiRule& rule = settings_.rules[i];
  Measure m;
  if (!sources_.delivery_counts) {
    m.detail = "no source of notification deliveries";
    return m;
  }
  Result<std::vector<Notifier::Count>> counts = sources_.delivery_counts();
  if (!counts) {
    m.ok = false;
    m.detail = counts.status().message();
    return m;
  }
  Snapshot now{now_ms, 0, 0};
  for (const Notifier::Count& c : *counts) {
    if (!rule.channel.empty() && c.channel != rule.channel) continue;
    if (c.status == "sent") now.sent += c.count;
    if (c.status == "sent" || c.status == "failed" || c.status == "rejected") {
      now.attempts += c.count;
    }
  }
  std::deque<Snapshot>& seen = snapshots_[i];
  if (!seen.empty() && (now.sent < seen.back().sent || now.attempts < seen.back().attempts)) {
    seen.clear();  // the counts started again
  }
  // Keep one snapshot at or before the window's start: it is the base.
  const std::int64_t start = now_ms - rule.window_ms;
  while (seen.size() >= 2 && seen[1].at_ms <= start) seen.pop_front();
  if (!seen.empty()) {
    const Snapshot& base = seen.front();
    const std::int64_t attempts = now.attempts - base.attempts;
    const std::int64_t sent = now.sent - base.sent;
    m.detail = std::to_string(sent) + " of " + std::to_string(attempts) + " attempts sent";
    if (attempts >= rule.minimum && attempts > 0) {
      m.value = static_cast<double>(sent) / static_cast<double>(attempts);
    } else {
      m.detail += ", fewer than " + std::to_string(rule.minimum);
    }
  } else {
    m.detail = "first look at the delivery counts";
  }
  const std::int64_t spacing = std::max<std::int64_t>(1, rule.window_ms / kSnapshotsPerWindow);
  if (seen.empty() || now_ms - seen.back().at_ms >= spacing) seen.push_back(now);
  return m;
}

KpiMonitor::Measure KpiMonitor::engagement_rate(const KpiRule& rule, std::int64_t now_ms) {
  Measure m;
  if (!sources_.engagement) {
    m.detail = "no source of opens and clicks";
    return m;
  }
  // The cohort of the window: what was sent in it, and how much of that was opened
  // (clicked) by now. Opens of older messages do not count.
  Result<std::vector<EngagementCount>> counts = sources_.engagement(now_ms - rule.window_ms);
  if (!counts) {
    m.ok = false;
    m.detail = counts.status().message();
    return m;
  }
  const bool opens = rule.kind == KpiKind::kOpenRate;
  std::int64_t sent = 0, engaged = 0;
  for (const EngagementCount& c : *counts) {
    if ((!rule.channel.empty() && c.channel != rule.channel) ||
        (!rule.segment.empty() && c.segment != rule.segment) ||
        (!rule.experiment.empty() && c.experiment != rule.experiment) ||
        (!rule.variant.empty() && c.variant != rule.variant)) {
      continue;
    }
    engaged += opens ? c.opened : c.clicked;
    sent += c.sent;
  }
  m.detail = std::to_string(engaged) + " of " + std::to_string(sent) + " sent messages " +
             (opens ? "opened" : "clicked");
  if (sent >= rule.minimum && sent > 0) {
    m.value = static_cast<double>(engaged) / static_cast<double>(sent);
  } else {
    m.detail += ", fewer than " + std::to_string(rule.minimum) + " sent";
  }
  return m;
}

void KpiMonitor::evaluate(std::int64_t now_ms) {
  std::lock_guard lock(eval_mu_);
  for (std::size_t i = 0; i < settings_.rules.size(); ++i) {
    const KpiRule& rule = settings_.rules[i];
    Measure m;
    try {
      m = measure(i, now_ms);
    } catch (const std::exception& e) {
      m.ok = false;
      m.detail = e.what();
    }
    if (!m.ok) {
      logger_->warn("KPI rule '{}': cannot be evaluated: {}", rule.name, m.detail);
      continue;
    }
    const bool breached =
        m.value && (is_rate(rule.kind) ? *m.value < rule.threshold : *m.value > rule.threshold);
    bool was_firing = false;
    {
      std::lock_guard state(state_mu_);
      states_[i].value = m.value;
      was_firing = states_[i].firing;
    }
    if (breached != was_firing) transition(i, m, breached, now_ms);
  }
  deliver();
}

void KpiMonitor::transition(std::size_t i, const Measure& m, bool firing, std::int64_t now_ms) {
  const KpiRule& rule = settings_.rules[i];
  std::string message = described(rule);
  if (m.value) {
    message +=
        " is " + shown(rule, *m.value) + (m.detail.empty() ? "" : " (" + m.detail + ")") + ", " +
        (firing ? (is_rate(rule.kind) ? "below " : "above ") : "back within ") +
        std::string(bound(rule)) + " " + shown(rule, rule.threshold);
  } else {
    message += ": no data (" + m.detail + ")";
  }
  const std::string state = firing ? "firing" : "resolved";
  if (firing) {
    logger_->warn("KPI alert '{}' firing: value {}, threshold {}: {}", rule.name,
                  shown(rule, *m.value), shown(rule, rule.threshold), message);
  } else {
    logger_->info("KPI alert '{}' resolved: {}", rule.name, message);
  }
  const json body = {{"rule", rule.name},
                     {"kind", to_string(rule.kind)},
                     {"state", state},
                     {"value", m.value ? json(*m.value) : json()},
                     {"threshold", rule.threshold},
                     {"since", when_view(now_ms)},
                     {"message", message}};
  {
    std::lock_guard lock(state_mu_);
    states_[i].firing = firing;
    states_[i].since_ms = now_ms;
  }
  if (settings_.webhook.url.empty()) return;
  if (queue_.size() >= kMaxQueuedAlerts) {
    logger_->error("KPI alerts: {} alerts wait for {}; dropping the oldest", queue_.size(),
                   settings_.webhook.url);
    queue_.pop_front();
  }
  queue_.push_back(Alert{rule.name + "/" + state + "/" + std::to_string(now_ms),
                         body.dump(-1, ' ', false, json::error_handler_t::replace)});
}

void KpiMonitor::deliver() {
  while (!queue_.empty()) {
    const Alert& alert = queue_.front();
    adapters::HttpRequest request;
    request.url = settings_.webhook.url;
    request.body = alert.body;
    request.timeout_ms = settings_.webhook.timeout_ms;
    request.connect_timeout_ms =
        std::min<std::int64_t>(request.connect_timeout_ms, settings_.webhook.timeout_ms);
    request.headers = {{"Content-Type", "application/json"}, {"Idempotency-Key", alert.key}};
    if (!settings_.webhook.secret.empty()) {
      request.headers.emplace_back("X-Ordo-Signature",
                                   webhook_signature(alert.body, settings_.webhook.secret));
    }
    Result<adapters::HttpAnswer> answer = adapters::http_exchange(request);
    if (!answer || answer->status < 200 || answer->status >= 300) {
      logger_->warn(
          "KPI alert {} not delivered ({}); trying again at the next evaluation", alert.key,
          answer ? "status " + std::to_string(answer->status) : answer.status().message());
      break;
    }
    queue_.pop_front();
  }
  std::lock_guard lock(state_mu_);
  queued_ = queue_.size();
}

void KpiMonitor::start(const Clock& clock) {
  std::lock_guard lock(thread_mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this, &clock] {
    std::unique_lock wait(thread_mu_);
    while (!stopping_) {
      wait.unlock();
      try {
        evaluate(clock.now_ms());
      } catch (const std::exception& e) {
        logger_->error("KPI alerts: evaluation failed: {}", e.what());
      }
      wait.lock();
      wake_.wait_for(wait, std::chrono::milliseconds(settings_.interval_ms),
                     [this] { return stopping_; });
    }
  });
}

void KpiMonitor::stop() {
  std::thread running;
  {
    std::lock_guard lock(thread_mu_);
    stopping_ = true;
    running = std::move(thread_);
  }
  wake_.notify_all();
  if (running.joinable()) running.join();
}

std::vector<KpiState> KpiMonitor::states() const {
  std::lock_guard lock(state_mu_);
  return states_;
}

std::size_t KpiMonitor::queued_alerts() const {
  std::lock_guard lock(state_mu_);
  return queued_;
}

void KpiMonitor::write_prometheus(std::string& out) const {
  std::lock_guard lock(state_mu_);
  prometheus::family(out, "ordo_kpi_value", "gauge",
                     "The value of each KPI rule at its last evaluation (cycle times in "
                     "seconds; NaN: no data).");
  for (const KpiState& s : states_) {
    out += "ordo_kpi_value{rule=\"" + prometheus::label(s.name) + "\"} " +
           prometheus::number(s.value ? *s.value : std::nan("")) + "\n";
  }
  prometheus::family(out, "ordo_kpi_firing", "gauge",
                     "1 while a KPI rule is beyond its threshold (an alert fired), else 0.");
  for (const KpiState& s : states_) {
    out += "ordo_kpi_firing{rule=\"" + prometheus::label(s.name) + "\"} " + (s.firing ? "1" : "0") +
           "\n";
  }
}

}  // namespace ordo::server
