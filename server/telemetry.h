// Telemetry: what the engines do, counted from their history events, for GET /metrics
// (Prometheus counters and histograms) and for the cycle-time KPI rules (kpi.h).
//
// One Telemetry is added as an observer to every engine of the process (ordo serve: the
// API's and the worker's), so a job created by one engine and completed by the other is
// attributed to its type. It counts from the moment it is attached: after a restart, the
// counters start at zero (Prometheus handles counter resets) and jobs or instances that were
// already open are attributed as far as the events themselves allow (see below).
//
// Thread-safe: on_event() may be called from several engines' threads at once, and
// write_prometheus() and cycle_times() from any other thread.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/observer.h"

namespace ordo::server {

// A cycle time to measure: from the start of an instance of `process` to the first
// completion of its element `to` (a task, an end event, any element id of that process).
struct CycleTimeSpan {
  std::string process;
  std::string to;
  // Samples are kept this long (the rule's window), counted back from the newest event.
  std::int64_t window_ms = 60 * 60 * 1000;
};

struct TelemetryOptions {
  // The cycle times to measure; none by default (kpi.h: cycle_time_spans() lists those of
  // the alert rules). At most 64 distinct `to` elements per process are measured.
  std::vector<CycleTimeSpan> cycle_times;
  // Bounds on memory. Jobs are remembered from creation to their end (type and creation
  // time); beyond this many open jobs, later ones count as type "(unknown)" when they end.
  std::size_t max_tracked_jobs = 100'000;
  // Instances of measured processes are remembered from start to end (start time); beyond
  // this many, later ones give no cycle-time sample.
  std::size_t max_tracked_instances = 100'000;
  // Cycle-time samples kept per span, however short the window.
  std::size_t max_samples = 100'000;
};

// The metric families written (all counters, except the histogram):
//   ordo_instances_started_total{process}
//   ordo_instances_ended_total{process, end_event}  end_event: the end event of a completed
//       instance, "(none)" for one completed without an end event, "(terminated)"
//   ordo_jobs_total{type, outcome}  outcome: created, completed, failed, error, deferred,
//       cancelled. A job created before Telemetry was attached has type "(unknown)".
//   ordo_job_duration_seconds{type}  histogram: from creation to completion or BPMN error,
//       retries and backoff included; buckets 5 ms to 1 h
//   ordo_incidents_raised_total{process}, ordo_incidents_resolved_total{process}
class Telemetry final : public Observer {
 public:
  explicit Telemetry(TelemetryOptions options = {});
  ~Telemetry() override;
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  void on_event(const HistoryEvent& event) override;

  // Appends the metric families above in the Prometheus text format (HELP and TYPE lines
  // included), series sorted by their labels.
  void write_prometheus(std::string& out) const;

  // The cycle times (ms) of `process` up to `to` whose measurement ended at or after
  // `since_ms` (engine clock), in the order they were observed. Only instances started
  // while Telemetry was attached give a sample; empty for a span not in the options.
  std::vector<std::int64_t> cycle_times(std::string_view process, std::string_view to,
                                        std::int64_t since_ms) const;

  // The histogram's upper bounds, in milliseconds (the +Inf bucket not included).
  static const std::vector<std::int64_t>& duration_buckets_ms();

  // What the console's dashboard shows of this server's jobs, counted since Telemetry was
  // attached to its engines (the orders per minute and cycle times come from the database:
  // Engine::instances_per_minute, cycle_times):
  //   {"jobs": [{"type", "created", "completed", "failed", "errors", "meanMs", "p95Ms" (the
  //    histogram bucket it falls in: an upper bound)}]}
  nlohmann::json dashboard() const;

 private:
  enum Outcome : std::uint8_t { kCreated, kCompleted, kFailed, kError, kDeferred, kCancelled };
  static constexpr std::size_t kOutcomes = 6;
  struct JobStats {
    std::array<std::uint64_t, kOutcomes> outcomes{};
    std::vector<std::uint64_t> buckets;  // per bucket (not cumulative), +Inf last
    std::uint64_t observed = 0;
    std::int64_t sum_ms = 0;
  };
  struct Sample {
    std::int64_t ended_ms;
    std::int64_t duration_ms;
  };
  struct ProcessStats {
    std::uint64_t started = 0;
    std::map<std::string, std::uint64_t, std::less<>> ended;  // by end event
    std::uint64_t incidents_raised = 0;
    std::uint64_t incidents_resolved = 0;
  };
  struct Span {
    std::string to;
    std::int64_t window_ms;
    std::deque<Sample> samples;
  };
  struct OpenJob {
    JobStats* stats;
    std::int64_t created_ms;
  };
  struct OpenInstance {
    std::vector<Span>* spans;
    std::int64_t started_ms;
    std::uint64_t reached;  // bit i: spans[i] has its sample
  };

  JobStats& job_stats(std::string_view type);
  ProcessStats& process_stats(std::string_view process);
  void job_event(const HistoryEvent& event);
  void element_completed(const HistoryEvent& event);

  const TelemetryOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, JobStats, std::less<>> jobs_;
  std::map<std::string, ProcessStats, std::less<>> processes_;
  std::map<std::string, std::vector<Span>, std::less<>> spans_;  // by process
  std::unordered_map<JobKey, OpenJob> open_jobs_;
  std::unordered_map<InstanceId, OpenInstance> open_instances_;
};

}  // namespace ordo::server
