// The experiments' report: what each A/B variant's messages did, and what the orders did
// after them, with 95% intervals (notifications.h, engagement_report).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <unordered_map>

#include "delivery_log.h"
#include "ordo/adapters/notifications.h"
#include "ordo/engine.h"
#include "store/postgres/pq.h"
#include "util/proportions.h"

namespace ordo {

using nlohmann::json;

namespace {

json proportion_json(const Proportion& p) {
  return {{"count", p.count}, {"rate", p.rate}, {"low", p.low}, {"high", p.high}};
}

// The KPIs of a group of messages, as counts of the sent.
struct Tally {
  std::int64_t sent = 0, delivered = 0, opened = 0, clicked = 0, converted = 0;
};

struct Kpi {
  const char* name;
  std::int64_t Tally::*count;
};
constexpr Kpi kKpis[] = {{"delivered", &Tally::delivered},
                         {"opened", &Tally::opened},
                         {"clicked", &Tally::clicked},
                         {"converted", &Tally::converted}};

json tally_json(const Tally& t, bool outcome) {
  json out = {{"sent", t.sent}};
  for (const Kpi& k : kKpis) {
    if (!outcome && std::string_view(k.name) == "converted") continue;
    out[k.name] = proportion_json(wilson_interval(t.*k.count, t.sent));
  }
  return out;
}

// Whether the order `order_id` completed `element` at or after `after_ms`: the order's
// instance is the newest one with that business key that no call activity started (a
// called process's instance carries its caller's key).
class Outcomes {
 public:
  explicit Outcomes(const Engine& engine) : engine_(engine) {}

  Result<bool> reached(const std::string& order_id, const std::string& element,
                       std::int64_t after_ms) {
    auto [it, fresh] = orders_.try_emplace(order_id);
    if (fresh) {
      InstanceFilter filter;
      filter.business_key = order_id;
      filter.newest_first = true;
      filter.limit = 100;
      Result<std::vector<InstanceInfo>> found = engine_.instances(filter);
      if (!found) return found.status();
      auto root = std::find_if(found->begin(), found->end(),
                               [](const InstanceInfo& i) { return i.parent == 0; });
      if (root != found->end()) {
        Result<std::vector<HistoryEvent>> history = engine_.history(root->id);
        if (!history) return history.status();
        for (const HistoryEvent& e : *history) {
          if (e.kind != HistoryKind::kElementCompleted || e.element_id.empty()) continue;
          it->second.emplace_back(std::string(e.element_id), e.time_ms);
        }
      }
    }
    for (const auto& [id, at] : it->second) {
      if (id == element && at >= after_ms) return true;
    }
    return false;
  }

 private:
  const Engine& engine_;
  // order -> (element, completed at) of its instance
  std::unordered_map<std::string, std::vector<std::pair<std::string, std::int64_t>>> orders_;
};

Result<json> report_of(notify::DeliveryLog& log, const EngagementReportOptions& options) {
  Result<std::vector<notify::DeliveryLog::ExperimentDelivery>> rows = log.experiment_deliveries();
  if (!rows) return rows.status();
  std::optional<Outcomes> outcomes;
  if (options.engine != nullptr) outcomes.emplace(*options.engine);
  // experiment -> variant -> segment ("" for all) -> tally
  std::map<std::string, std::map<std::string, std::map<std::string, Tally>>> tallies;
  for (const auto& d : *rows) {
    bool converted = false;
    auto outcome = options.outcomes.find(d.experiment);
    if (outcomes && outcome != options.outcomes.end() && !outcome->second.empty() &&
        !d.order_id.empty()) {
      Result<bool> r = outcomes->reached(d.order_id, outcome->second, d.sent_ms);
      if (!r) return r.status();
      converted = *r;
    }
    auto& by_segment = tallies[d.experiment][d.variant];
    for (Tally* t : {&by_segment[""], &by_segment[d.segment]}) {
      ++t->sent;
      t->delivered += d.delivered;
      t->opened += d.opened;
      t->clicked += d.clicked;
      t->converted += converted;
      if (d.segment.empty()) break;  // "" is the total already
    }
  }
  json experiments = json::array();
  for (const auto& [experiment, variants] : tallies) {
    auto outcome = options.outcomes.find(experiment);
    const bool has_outcome =
        outcomes && outcome != options.outcomes.end() && !outcome->second.empty();
    json one = {{"experiment", experiment}, {"variants", json::array()}};
    if (has_outcome) one["outcome"] = outcome->second;
    for (const auto& [variant, segments] : variants) {
      json v = {{"variant", variant}, {"all", tally_json(segments.at(""), has_outcome)},
                {"segments", json::object()}};
      for (const auto& [segment, t] : segments) {
        if (!segment.empty()) v["segments"][segment] = tally_json(t, has_outcome);
      }
      one["variants"].push_back(std::move(v));
    }
    // The headline: each variant against the control, on each KPI.
    const std::string control = variants.count("control") ? "control" : variants.begin()->first;
    const Tally& base = variants.at(control).at("");
    json headline = json::array();
    for (const auto& [variant, segments] : variants) {
      if (variant == control) continue;
      const Tally& t = segments.at("");
      for (const Kpi& k : kKpis) {
        if (!has_outcome && std::string_view(k.name) == "converted") continue;
        const Proportion a = wilson_interval(t.*k.count, t.sent);
        const Proportion b = wilson_interval(base.*k.count, base.sent);
        const Difference diff = difference_interval(a, b);
        const bool clear = t.sent > 0 && base.sent > 0 && (diff.low > 0 || diff.high < 0);
        headline.push_back({{"kpi", k.name},
                            {"variant", variant},
                            {"against", control},
                            {"difference", diff.value},
                            {"low", diff.low},
                            {"high", diff.high},
                            {"verdict", !clear         ? "no clear difference"
                                        : diff.value > 0 ? "better"
                                                         : "worse"}});
      }
    }
    one["control"] = control;
    one["headline"] = std::move(headline);
    experiments.push_back(std::move(one));
  }
  return json{{"experiments", std::move(experiments)}};
}

}  // namespace

Proportion wilson_interval(std::int64_t count, std::int64_t of) {
  const util::Share s = util::wilson(count, of);
  return {count, of, s.rate, s.low, s.high};
}

Difference difference_interval(const Proportion& a, const Proportion& b) {
  const util::Interval d = util::newcombe({a.rate, a.low, a.high}, {b.rate, b.low, b.high});
  return {d.value, d.low, d.high};
}

Result<json> engagement_report(const std::string& location, const EngagementReportOptions& options) {
  std::error_code ec;
  if (!store::pg::is_url(location) && !std::filesystem::exists(location, ec)) {
    return Status::not_found("no delivery log at " + location);
  }
  Result<std::unique_ptr<notify::DeliveryLog>> log = notify::DeliveryLog::open(location);
  if (!log) return log.status();
  return report_of(**log, options);
}

namespace notify {
Result<json> experiments_report(DeliveryLog& log, const EngagementReportOptions& options) {
  return report_of(log, options);
}
}  // namespace notify

}  // namespace ordo
