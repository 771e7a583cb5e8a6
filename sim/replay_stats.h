// What a replay measures, per variant: aggregates that take one order at a time in bounded
// memory and merge exactly (each lane keeps its own, merged at the end), so the result does
// not depend on how the orders were spread over lanes.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/definition.h"
#include "sim/replay_config.h"

namespace ordo::sim {

// Durations in ms. Buckets are exact below 256 ms and 1/128 of their value wide above, and
// each remembers the smallest value it holds: a percentile is that smallest value of the
// bucket holding its rank, so it is exact whenever a bucket holds one distinct value (small
// or hand-made histories) and within 0.8% otherwise. Buckets are kept in blocks of 128, one
// per power of two, made when a value first falls there: a few KB for most durations, 117
// KB at the very most, whatever the number of values.
class Histogram {
 public:
  // The chart's bins (upper edges, in ms); a last bin is open.
  static const std::array<std::int64_t, 17>& chart_edges();

  // Histograms that are charted (cycle times) also count their values into the chart's bins.
  void set_charted() noexcept { charted_ = true; }
  void add(std::int64_t ms);
  void merge(const Histogram& other);
  std::int64_t count() const noexcept { return count_; }
  std::int64_t sum() const noexcept { return sum_; }
  std::int64_t max() const noexcept { return max_; }
  // The nearest-rank percentile (p in (0, 100]): the smallest value with at least p% of the
  // values at or below it. 0 when empty.
  std::int64_t percentile(double p) const;
  // {"count", "mean", "sd", "p50", "p90", "p95", "p99", "max"} in seconds ("sd": the sample
  // standard deviation, 0 for fewer than two values), with the chart bins ("histogram")
  // when charted.
  nlohmann::json to_json() const;
  // {"mean", "p50", "p90", "max"} in seconds.
  nlohmann::json brief_json() const;

 private:
  struct Bucket {
    std::int64_t count;
    std::int64_t min;
  };
  using Block = std::array<Bucket, 128>;
  static std::size_t bucket(std::int64_t ms) noexcept;
  double mean_seconds() const;
  Block& block(std::size_t bucket);
  std::vector<std::unique_ptr<Block>> blocks_;
  std::array<std::int64_t, 18> chart_{};
  bool charted_ = false;
  std::int64_t count_ = 0, sum_ = 0, max_ = 0;
  // The sum of the squares (ms²), exact whatever the order values and lanes are merged in,
  // so the standard deviation is the same bytes on every run.
  __extension__ using Wide = __int128;
  Wide sum_squares_ = 0;
};

// Seconds with millisecond precision, as the report writes every duration.
double seconds(std::int64_t ms) noexcept;

// What one order contributed, handed over when it ends.
struct OrderOutcome {
  std::string bucket;  // its end event, or "(waiting)", "(incident)", "(terminated)"
  std::int64_t started_ms = 0;
  bool completed = false;
  std::int64_t ended_ms = 0;               // completed orders
  std::int64_t finalized_ms = 0;           // when the replay stopped following it
  std::vector<std::int64_t> milestone_ms;  // per config milestone: from start, or -1
  std::vector<std::uint64_t> elements;     // bitset of element indices passed
  std::vector<std::uint64_t> flows;        // bitset of flow indices taken
  std::vector<std::uint32_t> path;         // element indices in activation order
  struct Activity {
    std::uint32_t element;
    std::int64_t waiting_ms;
    std::int64_t processing_ms;
  };
  std::vector<Activity> activities;
  struct Note {
    std::string channel;
    std::string template_id;
    bool bounced = false;
    // With the notification rules: sent, not sent at all, or held back for a while (quiet
    // hours, the cap: once each time).
    enum class Kind : std::uint8_t { kSent, kSkipped, kDeferred, kOther } kind = Kind::kSent;
    std::string segment, experiment, variant;
  };
  std::vector<Note> notifications;
  struct Incident {
    std::string type;
    std::string element;
  };
  std::vector<Incident> incidents;
};

class VariantStats {
 public:
  VariantStats(const ProcessDefinition& definition, const ReplayConfig& config);
  void add(const OrderOutcome& order);
  void merge(const VariantStats& other);
  // The variant's object in the report (ordo/sim/replay.h), without its name and file.
  nlohmann::json to_json() const;

 private:
  const ProcessDefinition& def_;
  const ReplayConfig& config_;
  std::int64_t orders_ = 0;
  std::map<std::string, std::int64_t> end_events_;
  std::vector<Histogram> cycle_;  // [0]: to the end, then one per milestone
  std::vector<std::int64_t> element_orders_;
  std::vector<std::int64_t> flow_orders_;
  std::vector<std::int64_t> activity_count_;
  std::vector<Histogram> waiting_, processing_;  // per element index (activities only)
  std::map<std::vector<std::uint32_t>, std::int64_t> traces_;
  std::int64_t notifications_ = 0, bounced_ = 0;
  std::map<std::string, std::map<std::string, std::int64_t>> by_channel_template_;
  std::map<std::int64_t, std::int64_t> per_order_;  // notifications an order got -> orders
  // With the notification rules (sent ones by segment and experiment variant).
  std::map<std::string, std::int64_t> by_segment_;
  struct VariantCount {
    std::int64_t sent = 0;
    std::map<std::string, std::int64_t> by_segment;
  };
  std::map<std::string, std::map<std::string, VariantCount>> experiments_;
  std::int64_t skipped_ = 0, deferred_ = 0;
  std::map<std::string, std::int64_t> skipped_by_segment_, skipped_by_template_;
  std::vector<std::int64_t> sla_applicable_, sla_breached_;
  std::vector<std::size_t> sla_milestone_;  // index into cycle_
  std::map<std::string, std::int64_t> incidents_by_type_, incidents_by_element_;
  std::int64_t incidents_ = 0;
};

// Elements the report lists as activities (tasks, subprocesses, call activities, catch
// events that wait).
bool is_reported_activity(ElementKind kind) noexcept;

}  // namespace ordo::sim
