#include "telemetry.h"

#include <algorithm>

#include "prometheus.h"

namespace ordo::server {
namespace {

constexpr std::string_view kUnknownType = "(unknown)";
constexpr std::size_t kMaxSpansPerProcess = 64;  // OpenInstance::reached has 64 bits

constexpr std::string_view kOutcomeNames[] = {"created", "completed", "failed",
                                              "error",   "deferred",  "cancelled"};

// Finds `key` or inserts it, allocating the key only when it is new.
template <class Map>
typename Map::mapped_type& entry(Map& map, std::string_view key) {
  auto it = map.find(key);
  if (it == map.end()) it = map.try_emplace(std::string(key)).first;
  return it->second;
}

}  // namespace

const std::vector<std::int64_t>& Telemetry::duration_buckets_ms() {
  static const std::vector<std::int64_t> buckets = {
      5,     10,    25,     50,     100,    250,     500,     1'000,
      2'500, 5'000, 10'000, 30'000, 60'000, 300'000, 900'000, 3'600'000};
  return buckets;
}

Telemetry::Telemetry(TelemetryOptions options) : options_(std::move(options)) {
  for (const CycleTimeSpan& c : options_.cycle_times) {
    std::vector<Span>& spans = spans_[c.process];
    auto same =
        std::find_if(spans.begin(), spans.end(), [&](const Span& s) { return s.to == c.to; });
    if (same != spans.end()) {
      same->window_ms = std::max(same->window_ms, c.window_ms);
    } else if (spans.size() < kMaxSpansPerProcess) {
      spans.push_back(Span{c.to, c.window_ms, {}});
    }
  }
}

Telemetry::~Telemetry() = default;

Telemetry::JobStats& Telemetry::job_stats(std::string_view type) {
  JobStats& stats = entry(jobs_, type);
  if (stats.buckets.empty()) stats.buckets.resize(duration_buckets_ms().size() + 1);
  return stats;
}

Telemetry::ProcessStats& Telemetry::process_stats(std::string_view process) {
  return entry(processes_, process);
}

void Telemetry::on_event(const HistoryEvent& e) {
  std::lock_guard lock(mu_);
  switch (e.kind) {
    case HistoryKind::kInstanceStarted: {
      ProcessStats& stats = process_stats(e.process_id);
      ++stats.started;
      auto spans = spans_.find(e.process_id);
      if (spans != spans_.end() && open_instances_.size() < options_.max_tracked_instances) {
        open_instances_.emplace(e.instance, OpenInstance{&spans->second, e.time_ms, 0});
      }
      return;
    }
    case HistoryKind::kInstanceCompleted:
    case HistoryKind::kInstanceTerminated: {
      const std::string_view end = e.kind == HistoryKind::kInstanceTerminated ? "(terminated)"
                                   : e.element_id.empty()                     ? "(none)"
                                                                              : e.element_id;
      ProcessStats& stats = process_stats(e.process_id);
      ++entry(stats.ended, end);
      open_instances_.erase(e.instance);
      return;
    }
    case HistoryKind::kElementCompleted:
      element_completed(e);
      return;
    case HistoryKind::kJobCreated:
    case HistoryKind::kJobCompleted:
    case HistoryKind::kJobFailed:
    case HistoryKind::kJobErrorThrown:
    case HistoryKind::kJobDeferred:
    case HistoryKind::kJobCancelled:
      job_event(e);
      return;
    case HistoryKind::kIncidentRaised:
      ++process_stats(e.process_id).incidents_raised;
      return;
    case HistoryKind::kIncidentResolved:
      ++process_stats(e.process_id).incidents_resolved;
      return;
    default:
      return;
  }
}

nlohmann::json Telemetry::dashboard() const {
  using nlohmann::json;
  std::lock_guard lock(mu_);
  json jobs = json::array();
  for (const auto& [type, stats] : jobs_) {
    json p95 = nullptr;
    if (stats.observed > 0) {
      std::uint64_t seen = 0;
      const auto want = static_cast<std::uint64_t>(0.95 * static_cast<double>(stats.observed) + 0.999999);
      const auto& bounds = duration_buckets_ms();
      for (std::size_t b = 0; b < stats.buckets.size(); ++b) {
        seen += stats.buckets[b];
        if (seen >= want) {
          p95 = b < bounds.size() ? json(bounds[b]) : json(nullptr);
          break;
        }
      }
    }
    jobs.push_back({{"type", type},
                    {"created", stats.outcomes[kCreated]},
                    {"completed", stats.outcomes[kCompleted]},
                    {"failed", stats.outcomes[kFailed]},
                    {"errors", stats.outcomes[kError]},
                    {"meanMs", stats.observed ? json(stats.sum_ms / static_cast<std::int64_t>(stats.observed))
                                              : json(nullptr)},
                    {"p95Ms", p95}});
  }
  return {{"jobs", jobs}};
}

void Telemetry::element_completed(const HistoryEvent& e) {
  if (open_instances_.empty()) return;
  auto it = open_instances_.find(e.instance);
  if (it == open_instances_.end()) return;
  OpenInstance& inst = it->second;
  for (std::size_t i = 0; i < inst.spans->size(); ++i) {
    Span& span = (*inst.spans)[i];
    const std::uint64_t bit = std::uint64_t{1} << i;
    if ((inst.reached & bit) != 0 || span.to != e.element_id) continue;
    // The first completion counts: a loop or a multi-instance body passes it again.
    inst.reached |= bit;
    span.samples.push_back(Sample{e.time_ms, e.time_ms - inst.started_ms});
    while (!span.samples.empty() && (span.samples.size() > options_.max_samples ||
                                     span.samples.front().ended_ms < e.time_ms - span.window_ms)) {
      span.samples.pop_front();
    }
  }
}

void Telemetry::job_event(const HistoryEvent& e) {
  if (e.kind == HistoryKind::kJobCreated) {
    JobStats& stats = job_stats(e.detail.empty() ? kUnknownType : std::string_view(e.detail));
    ++stats.outcomes[kCreated];
    if (open_jobs_.size() < options_.max_tracked_jobs) {
      open_jobs_.emplace(e.key, OpenJob{&stats, e.time_ms});
    }
    return;
  }
  auto open = open_jobs_.find(e.key);
  JobStats& stats = open != open_jobs_.end() ? *open->second.stats : job_stats(kUnknownType);
  const Outcome outcome = e.kind == HistoryKind::kJobCompleted     ? kCompleted
                          : e.kind == HistoryKind::kJobFailed      ? kFailed
                          : e.kind == HistoryKind::kJobErrorThrown ? kError
                          : e.kind == HistoryKind::kJobDeferred    ? kDeferred
                                                                   : kCancelled;
  ++stats.outcomes[outcome];
  // A failed job stays open (a retry, or an incident that may be resolved); so does a
  // deferred one. The others end it.
  if (outcome == kFailed || outcome == kDeferred || open == open_jobs_.end()) return;
  if (outcome != kCancelled) {
    const std::int64_t took = std::max<std::int64_t>(0, e.time_ms - open->second.created_ms);
    const std::vector<std::int64_t>& bounds = duration_buckets_ms();
    const auto bucket = std::lower_bound(bounds.begin(), bounds.end(), took) - bounds.begin();
    ++stats.buckets[static_cast<std::size_t>(bucket)];
    ++stats.observed;
    stats.sum_ms += took;
  }
  open_jobs_.erase(open);
}

void Telemetry::write_prometheus(std::string& out) const {
  using prometheus::family;
  using prometheus::label;
  std::lock_guard lock(mu_);
  const auto by_process = [&](std::string_view name, std::string_view help,
                              std::uint64_t ProcessStats::*field) {
    family(out, name, "counter", help);
    for (const auto& [process, stats] : processes_) {
      if (stats.*field == 0) continue;
      out.append(name).append("{process=\"").append(label(process)).append("\"} ");
      out.append(std::to_string(stats.*field)).append("\n");
    }
  };
  by_process("ordo_instances_started_total",
             "Process instances started, by process (called instances included).",
             &ProcessStats::started);
  family(out, "ordo_instances_ended_total", "counter",
         "Process instances ended, by process and end event ((terminated) when cancelled or "
         "terminated).");
  for (const auto& [process, stats] : processes_) {
    for (const auto& [end, n] : stats.ended) {
      out += "ordo_instances_ended_total{process=\"" + label(process) + "\",end_event=\"" +
             label(end) + "\"} " + std::to_string(n) + "\n";
    }
  }
  family(out, "ordo_jobs_total", "counter",
         "Job events by job type and outcome (created, completed, failed, error, deferred, "
         "cancelled).");
  for (const auto& [type, stats] : jobs_) {
    for (std::size_t i = 0; i < kOutcomes; ++i) {
      out += "ordo_jobs_total{type=\"" + label(type) + "\",outcome=\"" +
             std::string(kOutcomeNames[i]) + "\"} " + std::to_string(stats.outcomes[i]) + "\n";
    }
  }
  family(out, "ordo_job_duration_seconds", "histogram",
         "Time from a job's creation to its completion or BPMN error, retries included, by "
         "job type.");
  const std::vector<std::int64_t>& bounds = duration_buckets_ms();
  for (const auto& [type, stats] : jobs_) {
    if (stats.observed == 0) continue;
    const std::string t = label(type);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
      cumulative += stats.buckets[i];
      out += "ordo_job_duration_seconds_bucket{type=\"" + t + "\",le=\"" +
             (i < bounds.size() ? prometheus::seconds(bounds[i]) : std::string("+Inf")) + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += "ordo_job_duration_seconds_sum{type=\"" + t + "\"} " +
           prometheus::seconds(stats.sum_ms) + "\n";
    out += "ordo_job_duration_seconds_count{type=\"" + t + "\"} " + std::to_string(stats.observed) +
           "\n";
  }
  by_process("ordo_incidents_raised_total", "Incidents raised, by process.",
             &ProcessStats::incidents_raised);
  by_process("ordo_incidents_resolved_total", "Incidents resolved, by process.",
             &ProcessStats::incidents_resolved);
}

std::vector<std::int64_t> Telemetry::cycle_times(std::string_view process, std::string_view to,
                                                 std::int64_t since_ms) const {
  std::vector<std::int64_t> out;
  std::lock_guard lock(mu_);
  auto spans = spans_.find(process);
  if (spans == spans_.end()) return out;
  for (const Span& span : spans->second) {
    if (span.to != to) continue;
    for (const Sample& s : span.samples) {
      if (s.ended_ms >= since_ms) out.push_back(s.duration_ms);
    }
  }
  return out;
}

}  // namespace ordo::server
