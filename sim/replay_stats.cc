// The replay's aggregates: see sim/replay_stats.h.
#include "sim/replay_stats.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ordo::sim {
namespace {

using nlohmann::json;

constexpr std::size_t kExact = 256;
constexpr std::size_t kSub = 128;
constexpr std::size_t kBuckets = kExact + (63 - 8) * kSub;

double ratio(std::int64_t a, std::int64_t b) {
  if (b == 0) return 0;
  // Rounded to 6 places, so the figure reads the same on every machine.
  return std::round(static_cast<double>(a) / static_cast<double>(b) * 1e6) / 1e6;
}

bool test(const std::vector<std::uint64_t>& bits, std::size_t i) {
  return i / 64 < bits.size() && (bits[i / 64] >> (i % 64) & 1) != 0;
}

}  // namespace

double seconds(std::int64_t ms) noexcept {
  return static_cast<double>(ms) / 1000.0;
}

const std::array<std::int64_t, 17>& Histogram::chart_edges() {
  static constexpr std::int64_t m = 60'000, h = 60 * m, d = 24 * h;
  static const std::array<std::int64_t, 17> edges = {m,     5 * m, 15 * m, 30 * m, h,     2 * h,
                                                     4 * h, 8 * h, 12 * h, d,      2 * d, 3 * d,
                                                     4 * d, 5 * d, 7 * d,  14 * d, 30 * d};
  return edges;
}

std::size_t Histogram::bucket(std::int64_t ms) noexcept {
  const auto v = static_cast<std::uint64_t>(std::max<std::int64_t>(0, ms));
  if (v < kExact) return v;
  const int e = 63 - std::countl_zero(v);  // 8 or more
  const std::uint64_t sub = (v >> (e - 7)) & (kSub - 1);
  return kExact + static_cast<std::size_t>(e - 8) * kSub + sub;
}

Histogram::Block& Histogram::block(std::size_t b) {
  if (blocks_.empty()) blocks_.resize(kBuckets / kSub);
  std::unique_ptr<Block>& block = blocks_[b / kSub];
  if (!block) {
    block = std::make_unique<Block>();
    block->fill({0, INT64_MAX});
  }
  return *block;
}

void Histogram::add(std::int64_t ms) {
  ms = std::max<std::int64_t>(0, ms);
  const std::size_t b = bucket(ms);
  Bucket& bucket = block(b)[b % kSub];
  ++bucket.count;
  bucket.min = std::min(bucket.min, ms);
  if (charted_) {
    const auto& edges = chart_edges();
    const auto bin =
        static_cast<std::size_t>(std::lower_bound(edges.begin(), edges.end(), ms) - edges.begin());
    ++chart_[bin];
  }
  ++count_;
  sum_ += ms;
  sum_squares_ += static_cast<Wide>(ms) * ms;
  max_ = std::max(max_, ms);
}

void Histogram::merge(const Histogram& o) {
  if (o.count_ == 0) return;
  for (std::size_t k = 0; k < o.blocks_.size(); ++k) {
    if (!o.blocks_[k]) continue;
    Block& mine = block(k * kSub);
    const Block& theirs = *o.blocks_[k];
    for (std::size_t i = 0; i < kSub; ++i) {
      mine[i].count += theirs[i].count;
      mine[i].min = std::min(mine[i].min, theirs[i].min);
    }
  }
  for (std::size_t i = 0; i < chart_.size(); ++i) chart_[i] += o.chart_[i];
  count_ += o.count_;
  sum_ += o.sum_;
  sum_squares_ += o.sum_squares_;
  max_ = std::max(max_, o.max_);
}

std::int64_t Histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  const auto rank = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(std::ceil(p / 100.0 * static_cast<double>(count_) - 1e-9)));
  std::int64_t seen = 0;
  for (const std::unique_ptr<Block>& block : blocks_) {
    if (!block) continue;
    for (const Bucket& b : *block) {
      seen += b.count;
      if (seen >= rank) return std::min(b.min, max_);
    }
  }
  return max_;
}

double Histogram::mean_seconds() const {
  if (count_ == 0) return 0.0;
  return std::round(static_cast<double>(sum_) / static_cast<double>(count_)) / 1000.0;
}

json Histogram::to_json() const {
  double sd = 0;
  if (count_ > 1) {
    // n·Σx² − (Σx)², exact, then the sample variance in ms².
    const Wide n = count_;
    const Wide spread = n * sum_squares_ - static_cast<Wide>(sum_) * sum_;
    const long double variance = static_cast<long double>(spread) /
                                 (static_cast<long double>(count_) * static_cast<long double>(count_ - 1));
    sd = std::round(static_cast<double>(std::sqrt(std::max(0.0L, variance)))) / 1000.0;
  }
  json out = {{"count", count_},
              {"mean", mean_seconds()},
              {"sd", sd},
              {"p50", seconds(percentile(50))},
              {"p90", seconds(percentile(90))},
              {"p95", seconds(percentile(95))},
              {"p99", seconds(percentile(99))},
              {"max", seconds(max_)}};
  if (charted_) {
    json bins = json::array();
    const auto& edges = chart_edges();
    for (std::size_t i = 0; i < chart_.size(); ++i) {
      bins.push_back(
          {{"upTo", i < edges.size() ? json(seconds(edges[i])) : json()}, {"count", chart_[i]}});
    }
    out["histogram"] = std::move(bins);
  }
  return out;
}

json Histogram::brief_json() const {
  return {{"mean", mean_seconds()},
          {"p50", seconds(percentile(50))},
          {"p90", seconds(percentile(90))},
          {"max", seconds(max_)}};
}

bool is_reported_activity(ElementKind kind) noexcept {
  return is_activity(kind) || kind == ElementKind::kIntermediateCatchEvent;
}

VariantStats::VariantStats(const ProcessDefinition& definition, const ReplayConfig& config)
    : def_(definition), config_(config) {
  cycle_.resize(1 + config.milestones.size());
  for (Histogram& h : cycle_) h.set_charted();
  element_orders_.assign(def_.elements.size(), 0);
  flow_orders_.assign(def_.flows.size(), 0);
  activity_count_.assign(def_.elements.size(), 0);
  waiting_.resize(def_.elements.size());
  processing_.resize(def_.elements.size());
  sla_applicable_.assign(config.sla.size(), 0);
  sla_breached_.assign(config.sla.size(), 0);
  for (const SlaSpec& s : config.sla) {
    std::size_t at = 0;
    for (std::size_t m = 0; m < config.milestones.size(); ++m) {
      if (config.milestones[m].first == s.milestone) at = m + 1;
    }
    sla_milestone_.push_back(at);
  }
}

void VariantStats::add(const OrderOutcome& o) {
  ++orders_;
  ++end_events_[o.bucket];
  const bool completed = o.completed;
  const bool open = o.bucket == "(waiting)" || o.bucket == "(incident)";
  if (completed) cycle_[0].add(o.ended_ms - o.started_ms);
  for (std::size_t m = 0; m < o.milestone_ms.size() && m + 1 < cycle_.size(); ++m) {
    if (o.milestone_ms[m] >= 0) cycle_[m + 1].add(o.milestone_ms[m]);
  }
  for (std::size_t s = 0; s < config_.sla.size(); ++s) {
    const std::size_t m = sla_milestone_[s];
    const std::int64_t reached =
        m == 0 ? (completed ? o.ended_ms - o.started_ms : -1) : o.milestone_ms[m - 1];
    if (reached >= 0) {
      ++sla_applicable_[s];
      if (reached > config_.sla[s].within_ms) ++sla_breached_[s];
    } else if (open && o.finalized_ms - o.started_ms > config_.sla[s].within_ms) {
      // Still not there when the replay stopped following it, and already late.
      ++sla_applicable_[s];
      ++sla_breached_[s];
    }
  }
  for (std::size_t i = 0; i < element_orders_.size(); ++i) {
    if (test(o.elements, i)) ++element_orders_[i];
  }
  for (std::size_t i = 0; i < flow_orders_.size(); ++i) {
    if (test(o.flows, i)) ++flow_orders_[i];
  }
  for (const OrderOutcome::Activity& a : o.activities) {
    ++activity_count_[a.element];
    waiting_[a.element].add(a.waiting_ms);
    processing_[a.element].add(a.processing_ms);
  }
  ++traces_[o.path];
  std::int64_t sent = 0;
  for (const OrderOutcome::Note& n : o.notifications) {
    using Kind = OrderOutcome::Note::Kind;
    if (n.kind == Kind::kSkipped) {
      ++skipped_;
      ++skipped_by_segment_[n.segment];
      ++skipped_by_template_[n.template_id];
      continue;
    }
    if (n.kind == Kind::kDeferred) {
      ++deferred_;
      continue;
    }
    ++sent;
    if (n.bounced) ++bounced_;
    ++by_channel_template_[n.channel][n.template_id];
    if (!n.segment.empty()) ++by_segment_[n.segment];
    if (!n.experiment.empty()) {
      VariantCount& v = experiments_[n.experiment][n.variant];
      ++v.sent;
      ++v.by_segment[n.segment];
    }
  }
  notifications_ += sent;
  ++per_order_[sent];
  for (const OrderOutcome::Incident& i : o.incidents) {
    ++incidents_;
    ++incidents_by_type_[i.type];
    ++incidents_by_element_[i.element];
  }
}

void VariantStats::merge(const VariantStats& o) {
  orders_ += o.orders_;
  for (const auto& [k, v] : o.end_events_) end_events_[k] += v;
  for (std::size_t i = 0; i < cycle_.size(); ++i) cycle_[i].merge(o.cycle_[i]);
  for (std::size_t i = 0; i < element_orders_.size(); ++i) {
    element_orders_[i] += o.element_orders_[i];
    activity_count_[i] += o.activity_count_[i];
    waiting_[i].merge(o.waiting_[i]);
    processing_[i].merge(o.processing_[i]);
  }
  for (std::size_t i = 0; i < flow_orders_.size(); ++i) flow_orders_[i] += o.flow_orders_[i];
  for (const auto& [k, v] : o.traces_) traces_[k] += v;
  notifications_ += o.notifications_;
  bounced_ += o.bounced_;
  for (const auto& [k, v] : o.by_segment_) by_segment_[k] += v;
  for (const auto& [e, variants] : o.experiments_) {
    for (const auto& [name, count] : variants) {
      VariantCount& into = experiments_[e][name];
      into.sent += count.sent;
      for (const auto& [k, v] : count.by_segment) into.by_segment[k] += v;
    }
  }
  skipped_ += o.skipped_;
  deferred_ += o.deferred_;
  for (const auto& [k, v] : o.skipped_by_segment_) skipped_by_segment_[k] += v;
  for (const auto& [k, v] : o.skipped_by_template_) skipped_by_template_[k] += v;
  for (const auto& [c, m] : o.by_channel_template_) {
    for (const auto& [t, v] : m) by_channel_template_[c][t] += v;
  }
  for (const auto& [k, v] : o.per_order_) per_order_[k] += v;
  for (std::size_t i = 0; i < sla_applicable_.size(); ++i) {
    sla_applicable_[i] += o.sla_applicable_[i];
    sla_breached_[i] += o.sla_breached_[i];
  }
  incidents_ += o.incidents_;
  for (const auto& [k, v] : o.incidents_by_type_) incidents_by_type_[k] += v;
  for (const auto& [k, v] : o.incidents_by_element_) incidents_by_element_[k] += v;
}

json VariantStats::to_json() const {
  json out;
  out["orders"] = orders_;
  out["endEvents"] = end_events_;
  json cycle = json::object();
  cycle["end"] = cycle_[0].to_json();
  for (std::size_t m = 0; m < config_.milestones.size(); ++m) {
    cycle[config_.milestones[m].first] = cycle_[m + 1].to_json();
  }
  out["cycleTimes"] = std::move(cycle);

  json activities = json::array();
  json elements = json::object();
  for (std::size_t i = 0; i < def_.elements.size(); ++i) {
    const Element& e = def_.elements[i];
    elements[e.id] = element_orders_[i];
    if (!is_reported_activity(e.kind)) continue;
    json a = {{"id", e.id},
              {"name", e.name},
              {"kind", std::string(to_string(e.kind))},
              {"adapter", runs_as_job(e) && e.task.type.dialect == ExpressionDialect::kStatic
                              ? json(e.task.type.text)
                              : json()},
              {"count", activity_count_[i]},
              {"orders", element_orders_[i]},
              {"waiting", waiting_[i].brief_json()},
              {"processing", processing_[i].brief_json()}};
    activities.push_back(std::move(a));
  }
  out["activities"] = std::move(activities);
  out["elements"] = std::move(elements);
  json flows = json::object();
  for (std::size_t i = 0; i < def_.flows.size(); ++i) flows[def_.flows[i].id] = flow_orders_[i];
  out["flows"] = std::move(flows);

  std::vector<std::pair<const std::vector<std::uint32_t>*, std::int64_t>> traces;
  for (const auto& [path, n] : traces_) traces.emplace_back(&path, n);
  std::vector<std::vector<std::string>> names(traces.size());
  for (std::size_t t = 0; t < traces.size(); ++t) {
    for (std::uint32_t e : *traces[t].first) names[t].push_back(def_.elements[e].id);
  }
  std::vector<std::size_t> order(traces.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (traces[a].second != traces[b].second) return traces[a].second > traces[b].second;
    return names[a] < names[b];
  });
  json trace_list = json::array();
  for (std::size_t i : order) {
    trace_list.push_back({{"path", names[i]},
                          {"count", traces[i].second},
                          {"share", ratio(traces[i].second, orders_)}});
  }
  out["traces"] = std::move(trace_list);

  json rates = json::object();
  for (const RateSpec& r : config_.rates) {
    const ElementIndex reached = def_.element_index(r.reached);
    const ElementIndex of = r.of.empty() ? kNoIndex : def_.element_index(r.of);
    const std::int64_t num = reached == kNoIndex ? 0 : element_orders_[reached];
    const std::int64_t den = r.of.empty() ? orders_ : (of == kNoIndex ? 0 : element_orders_[of]);
    rates[r.name] = {{"numerator", num},
                     {"denominator", den},
                     {"rate", den == 0 ? json() : json(ratio(num, den))}};
  }
  out["rates"] = std::move(rates);

  json by_channel = json::object(), by_template = json::object();
  for (const auto& [channel, templates] : by_channel_template_) {
    std::int64_t n = 0;
    for (const auto& [t, v] : templates) {
      n += v;
      by_template[t] = by_template.value(t, std::int64_t{0}) + v;
    }
    by_channel[channel] = n;
  }
  json per_order = json::object();
  std::int64_t max_per_order = 0;
  for (const auto& [k, v] : per_order_) {
    per_order[std::to_string(k)] = v;
    max_per_order = std::max(max_per_order, k);
  }
  out["notifications"] = {{"total", notifications_},
                          {"byChannel", by_channel},
                          {"byTemplate", by_template},
                          {"byChannelAndTemplate", by_channel_template_},
                          {"bounced", bounced_},
                          {"perOrder",
                           {{"mean", ratio(notifications_, orders_)},
                            {"max", max_per_order},
                            {"histogram", per_order}}}};
  json experiments = json::object();
  for (const auto& [e, variants] : experiments_) {
    json& into = experiments[e] = json::object();
    for (const auto& [name, count] : variants) {
      into[name] = {{"sent", count.sent}, {"bySegment", count.by_segment}};
    }
  }
  json& n = out["notifications"];
  n["bySegment"] = by_segment_;
  n["experiments"] = std::move(experiments);
  n["skipped"] = {{"total", skipped_},
                  {"bySegment", skipped_by_segment_},
                  {"byTemplate", skipped_by_template_}};
  n["deferred"] = deferred_;

  json sla = json::array();
  for (std::size_t s = 0; s < config_.sla.size(); ++s) {
    sla.push_back(
        {{"name", config_.sla[s].name},
         {"milestone", config_.sla[s].milestone},
         {"target", seconds(config_.sla[s].within_ms)},
         {"applicable", sla_applicable_[s]},
         {"met", sla_applicable_[s] - sla_breached_[s]},
         {"breached", sla_breached_[s]},
         {"breachRate",
          sla_applicable_[s] == 0 ? json() : json(ratio(sla_breached_[s], sla_applicable_[s]))}});
  }
  out["sla"] = std::move(sla);
  out["incidents"] = {
      {"total", incidents_}, {"byType", incidents_by_type_}, {"byElement", incidents_by_element_}};
  return out;
}

}  // namespace ordo::sim
