// The replay's HTML report: see render_replay_html in include/ordo/sim/replay.h, and
// docs/replay-report.md for how to read it. This file lays out the page (header, KPI
// comparison, activities, traces); sim/replay_report_svg.cc draws the charts and diagrams.
//
// The page is XHTML-style HTML5 (every tag closed, all text escaped) so it is well-formed XML
// as well, with no script and no external resource. It depends only on its inputs: JSON
// objects are iterated in their sorted key order, and nothing reads the clock.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ordo/sim/replay.h"
#include "sim/replay_report_svg.h"
#include "util/proportions.h"

namespace ordo {
namespace {

using nlohmann::json;
using sim::report::escape;
using sim::report::fixed;
using sim::report::human_duration;
using sim::report::trimmed;

constexpr std::string_view kDash = "\u2014";
constexpr std::string_view kMinus = "\u2212";
constexpr std::size_t kTopTraces = 10;

const json& at(const json& object, std::string_view key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  const auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::optional<double> number(const json& value) {
  if (!value.is_number()) return std::nullopt;
  return value.get<double>();
}

std::string text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return {};
  return value.dump();
}

// ---------------------------------------------------------------------------------------
// The KPI table: one row per figure, one column per variant.

enum class Unit { kCount, kNumber, kDuration, kFraction };
// Which direction of a difference is good news; kNeutral: a change worth seeing, no verdict.
enum class Better { kNeutral, kLower, kHigher };

struct Row {
  std::string key;    // data-kpi, e.g. "cycleTimes.end.p50"
  std::string label;  // unescaped
  Unit unit = Unit::kCount;
  Better better = Better::kNeutral;
  std::vector<std::optional<double>> values;  // per variant
  std::vector<std::string> notes;             // per variant, after the value (unescaped)
  bool section = false;                       // a heading row
};

std::string format(double v, Unit unit) {
  switch (unit) {
    case Unit::kCount:
      return std::abs(v - std::round(v)) < 1e-9 ? trimmed(v, 0) : trimmed(v, 2);
    case Unit::kNumber:
      return trimmed(v, 2);
    case Unit::kDuration:
      return human_duration(v);
    case Unit::kFraction:
      return fixed(v * 100, 1) + "%";
  }
  return {};
}

// The difference of `value` to the baseline's, as a highlighted span.
std::string delta(std::optional<double> base, std::optional<double> value, Unit unit,
                  Better better) {
  if (!value) return {};
  if (!base) return "<span class=\"delta changed\">new</span>";
  const double d = *value - *base;
  if (std::abs(d) < 1e-9) return "<span class=\"delta same\">\u00b10</span>";
  const std::string sign = d > 0 ? "+" : std::string(kMinus);
  std::string out = sign;
  switch (unit) {
    case Unit::kCount:
    case Unit::kNumber:
      out += format(std::abs(d), unit);
      break;
    case Unit::kDuration:
      out += human_duration(std::abs(d));
      break;
    case Unit::kFraction:
      out += fixed(std::abs(d) * 100, 1) + " pp";
      break;
  }
  if (unit != Unit::kFraction && *base != 0) {
    out += " (" + sign + fixed(std::abs(d) / std::abs(*base) * 100, 1) + "%)";
  }
  std::string_view cls = "changed";
  if (better == Better::kLower) cls = d < 0 ? "better" : "worse";
  if (better == Better::kHigher) cls = d > 0 ? "better" : "worse";
  return "<span class=\"delta " + std::string(cls) + "\">" + out + "</span>";
}

// A rate's name says which way is good: failures down, successes up, others no verdict. A
// success negated ("unpaid", "not-shipped", "incomplete") is a failure.
Better rate_direction(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  for (std::string_view negated : {"un", "in", "not", "non", "no"}) {
    for (std::string_view good : {"paid", "deliver", "ship", "confirm", "approv", "complete",
                                  "success", "met"}) {
      for (std::string_view sep : {"", "-", "_", " "}) {
        const std::string both = std::string(negated) + std::string(sep) + std::string(good);
        const std::size_t at = lower.find(both);
        // "in" and "no" only as a word's start ("incomplete", not "pinpaid").
        if (at != std::string::npos &&
            (at == 0 || !std::isalpha(static_cast<unsigned char>(lower[at - 1])))) {
          return Better::kLower;
        }
      }
    }
  }
  for (std::string_view bad :
       {"fail", "declin", "error", "incident", "breach", "bounce", "cancel", "timeout", "timed",
        "late", "reject", "unavail", "lost", "return", "abandon"}) {
    if (lower.find(bad) != std::string::npos) return Better::kLower;
  }
  for (std::string_view good : {"avail", "success", "deliver", "ontime", "on-time", "confirm",
                                "paid", "approv", "met", "complete", "ship"}) {
    if (lower.find(good) != std::string::npos) return Better::kHigher;
  }
  return Better::kNeutral;
}

class KpiTable {
 public:
  explicit KpiTable(const json& variants) : variants_(variants) {}

  void section(std::string label) {
    Row r;
    r.label = std::move(label);
    r.section = true;
    rows_.push_back(std::move(r));
  }

  // A row whose value in each variant is `get(variant)` (a number or absent).
  template <typename Get>
  void row(std::string key, std::string label, Unit unit, Better better, Get get) {
    Row r{std::move(key), std::move(label), unit, better, {}, {}, false};
    for (const json& v : variants_) {
      r.values.push_back(number(get(v)));
      r.notes.emplace_back();
    }
    rows_.push_back(std::move(r));
  }

  // Adds a note after each variant's value in the last row.
  template <typename Note>
  void notes(Note note) {
    for (std::size_t i = 0; i < variants_.size(); ++i) rows_.back().notes[i] = note(variants_[i]);
  }

  std::string html() const {
    std::string out = "<table class=\"kpi\"><thead><tr><th scope=\"col\">KPI</th>";
    for (std::size_t i = 0; i < variants_.size(); ++i) {
      const json& v = variants_[i];
      out += "<th scope=\"col\" data-variant=\"" + std::to_string(i) +
             "\"><span class=\"swatch\" style=\"background:" +
             std::string(sim::report::variant_colour(i)) + "\"></span>" +
             escape(text(at(v, "name"))) + "<br/><span class=\"sub\">" +
             escape(text(at(v, "processName"))) + " (" + escape(text(at(v, "process"))) + ")" +
             (i == 0 && variants_.size() > 1 ? ", baseline" : "") + "</span></th>";
    }
    out += "</tr></thead><tbody>";
    for (const Row& r : rows_) {
      if (r.section) {
        out += "<tr class=\"section\"><th colspan=\"" + std::to_string(variants_.size() + 1) +
               "\">" + escape(r.label) + "</th></tr>";
        continue;
      }
      out +=
          "<tr data-kpi=\"" + escape(r.key) + "\"><th scope=\"row\">" + escape(r.label) + "</th>";
      for (std::size_t i = 0; i < r.values.size(); ++i) {
        out += "<td class=\"num\" data-variant=\"" + std::to_string(i) + "\">" +
               (r.values[i] ? escape(format(*r.values[i], r.unit)) : std::string(kDash));
        if (!r.notes[i].empty()) out += " <span class=\"note\">" + escape(r.notes[i]) + "</span>";
        if (i > 0) {
          const std::string d = delta(r.values[0], r.values[i], r.unit, r.better);
          if (!d.empty()) out += " " + d;
        }
        out += "</td>";
      }
      out += "</tr>";
    }
    return out + "</tbody></table>";
  }

 private:
  const json& variants_;
  std::vector<Row> rows_;
};

// The keys of an object in any variant, sorted.
template <typename Get>
std::vector<std::string> union_keys(const json& variants, Get get) {
  std::set<std::string> keys;
  for (const json& v : variants) {
    const json& o = get(v);
    if (o.is_object()) {
      for (const auto& [k, unused] : o.items()) keys.insert(k);
    }
  }
  return {keys.begin(), keys.end()};
}

// "end" first, then the milestones in sorted order.
std::vector<std::string> cycle_keys(const json& variants) {
  auto keys =
      union_keys(variants, [](const json& v) -> const json& { return at(v, "cycleTimes"); });
  const auto end = std::find(keys.begin(), keys.end(), "end");
  if (end != keys.end()) std::rotate(keys.begin(), end, end + 1);
  return keys;
}

// Element names, looked up in the variants' processes (the first that has the id).
class Names {
 public:
  Names(const json& variants, const std::vector<std::shared_ptr<const BpmnDocument>>& documents) {
    for (std::size_t i = 0; i < documents.size(); ++i) {
      if (!documents[i]) {
        per_variant_.push_back(nullptr);
        continue;
      }
      const std::string id = i < variants.size() ? text(at(variants[i], "process")) : "";
      const ProcessDefinition* p = documents[i]->find_process(id);
      if (!p && !documents[i]->processes.empty()) p = documents[i]->processes.front().get();
      per_variant_.push_back(p);
    }
  }
  const ProcessDefinition* process(std::size_t variant) const {
    return variant < per_variant_.size() ? per_variant_[variant] : nullptr;
  }
  // An element a reader of a path does not need: an unnamed gateway, or an unnamed start or
  // end event of a subprocess (its activity is in the path already).
  bool unnamed_internal(std::string_view id, std::size_t variant) const {
    const ProcessDefinition* p = process(variant);
    const Element* e = p ? p->find_element(id) : nullptr;
    if (!e || !e->name.empty()) return false;
    if (is_gateway(e->kind)) return true;
    return (e->kind == ElementKind::kStartEvent || e->kind == ElementKind::kEndEvent) &&
           e->scope != kNoIndex;
  }
  std::string name(std::string_view id, std::size_t variant) const {
    if (const ProcessDefinition* p = process(variant)) {
      if (const Element* e = p->find_element(id); e && !e->name.empty()) return e->name;
    }
    for (const ProcessDefinition* p : per_variant_) {
      if (const Element* e = p ? p->find_element(id) : nullptr; e && !e->name.empty())
        return e->name;
    }
    return std::string(id);
  }

 private:
  std::vector<const ProcessDefinition*> per_variant_;
};

std::string kpi_section(const json& variants, const Names& names) {
  KpiTable t(variants);
  t.row("orders", "Orders replayed", Unit::kCount, Better::kNeutral,
        [](const json& v) -> const json& { return at(v, "orders"); });

  t.section("End events (orders, share of orders)");
  // The process's end events first, then "(waiting)" and "(incident)".
  auto ends = union_keys(variants, [](const json& v) -> const json& { return at(v, "endEvents"); });
  std::stable_partition(ends.begin(), ends.end(),
                        [](const std::string& k) { return !k.starts_with('('); });
  for (const std::string& k : ends) {
    const std::string name = names.name(k, 0);
    t.row("endEvents." + k, name == k ? k : name + " (" + k + ")", Unit::kCount,
          k == "(incident)" ? Better::kLower : Better::kNeutral,
          [&](const json& v) -> const json& { return at(at(v, "endEvents"), k); });
    t.notes([&](const json& v) -> std::string {
      const auto n = number(at(at(v, "endEvents"), k));
      const auto orders = number(at(v, "orders"));
      if (!n || !orders || *orders <= 0) return {};
      return fixed(*n / *orders * 100, 1) + "%";
    });
  }

  for (const std::string& k : cycle_keys(variants)) {
    t.section(k == "end" ? "Cycle time: order to any end event" : "Cycle time: order to " + k);
    auto field = [&](const char* f) {
      return [&k, f](const json& v) -> const json& { return at(at(at(v, "cycleTimes"), k), f); };
    };
    t.row("cycleTimes." + k + ".count", "orders measured", Unit::kCount, Better::kNeutral,
          field("count"));
    for (const char* f : {"p50", "p90", "p95", "p99", "max", "mean"}) {
      t.row("cycleTimes." + k + "." + f, f, Unit::kDuration, Better::kLower, field(f));
    }
  }

  const auto rates =
      union_keys(variants, [](const json& v) -> const json& { return at(v, "rates"); });
  if (!rates.empty()) t.section("Rates");
  for (const std::string& k : rates) {
    t.row("rates." + k, k, Unit::kFraction, rate_direction(k),
          [&](const json& v) -> const json& { return at(at(at(v, "rates"), k), "rate"); });
    t.notes([&](const json& v) -> std::string {
      const json& r = at(at(v, "rates"), k);
      const auto n = number(at(r, "numerator")), d = number(at(r, "denominator"));
      return n && d ? trimmed(*n, 0) + " of " + trimmed(*d, 0) : std::string();
    });
  }

  t.section("Notifications");
  auto notification = [](const char* a, const std::string& b = {}) {
    return [a, b](const json& v) -> const json& {
      const json& n = at(at(v, "notifications"), a);
      return b.empty() ? n : at(n, b);
    };
  };
  t.row("notifications.total", "sent", Unit::kCount, Better::kNeutral, notification("total"));
  t.row("notifications.perOrder.mean", "per order (mean)", Unit::kNumber, Better::kNeutral,
        notification("perOrder", "mean"));
  t.row("notifications.perOrder.max", "per order (most)", Unit::kCount, Better::kNeutral,
        notification("perOrder", "max"));
  for (const char* group : {"byChannel", "byTemplate"}) {
    for (const std::string& k : union_keys(variants, notification(group))) {
      t.row(std::string("notifications.") + group + "." + k,
            std::string(group == std::string_view("byChannel") ? "channel " : "template ") + k,
            Unit::kCount, Better::kNeutral, notification(group, k));
    }
  }
  t.row("notifications.bounced", "bounced", Unit::kCount, Better::kLower, notification("bounced"));
  // With the notification rules: sent per segment and per experiment variant, and what the
  // rules skipped or held back.
  for (const std::string& k : union_keys(variants, notification("bySegment"))) {
    t.row("notifications.bySegment." + k, "segment " + k, Unit::kCount, Better::kNeutral,
          notification("bySegment", k));
  }
  for (const std::string& e : union_keys(variants, notification("experiments"))) {
    const auto of_experiment = [e](const json& v) -> const json& {
      return at(at(at(v, "notifications"), "experiments"), e);
    };
    for (const std::string& name : union_keys(variants, of_experiment)) {
      t.row("notifications.experiments." + e + "." + name, e + ": " + name, Unit::kCount,
            Better::kNeutral,
            [of_experiment, name](const json& v) -> const json& {
              return at(at(of_experiment(v), name), "sent");
            });
    }
  }
  const auto has = [&](const char* a, const char* b) {
    return std::any_of(variants.begin(), variants.end(), [&](const json& v) {
      const json& n = b == nullptr ? notification(a)(v) : notification(a, b)(v);
      return n.is_number() && n.get<double>() != 0;
    });
  };
  if (has("skipped", "total")) {
    t.row("notifications.skipped.total", "not sent (skipped by the rules)", Unit::kCount,
          Better::kNeutral, notification("skipped", "total"));
  }
  if (has("deferred", nullptr)) {
    t.row("notifications.deferred", "held back (quiet hours, cap)", Unit::kCount,
          Better::kNeutral, notification("deferred"));
  }

  // SLAs by name, in the order they first appear.
  std::vector<std::string> slas;
  for (const json& v : variants) {
    const json& list = at(v, "sla");
    if (!list.is_array()) continue;
    for (const json& s : list) {
      const std::string n = text(at(s, "name"));
      if (std::find(slas.begin(), slas.end(), n) == slas.end()) slas.push_back(n);
    }
  }
  if (!slas.empty()) t.section("Service levels");
  for (const std::string& name : slas) {
    auto sla = [&name](const json& v) -> const json& {
      static const json kNull;
      const json& list = at(v, "sla");
      if (list.is_array()) {
        for (const json& s : list) {
          if (text(at(s, "name")) == name) return s;
        }
      }
      return kNull;
    };
    t.row("sla." + name + ".breached", name + ": breached", Unit::kCount, Better::kLower,
          [&](const json& v) -> const json& { return at(sla(v), "breached"); });
    t.notes([&](const json& v) -> std::string {
      const auto applicable = number(at(sla(v), "applicable"));
      const auto target = number(at(sla(v), "target"));
      std::string note = applicable ? "of " + trimmed(*applicable, 0) : std::string();
      if (target)
        note += (note.empty() ? "" : ", ") + std::string("target ") + human_duration(*target);
      return note;
    });
    t.row("sla." + name + ".breachRate", name + ": breach rate", Unit::kFraction, Better::kLower,
          [&](const json& v) -> const json& { return at(sla(v), "breachRate"); });
  }

  t.section("Incidents");
  t.row("incidents.total", "total", Unit::kCount, Better::kLower,
        [](const json& v) -> const json& { return at(at(v, "incidents"), "total"); });
  for (const std::string& k : union_keys(variants, [](const json& v) -> const json& {
         return at(at(v, "incidents"), "byType");
       })) {
    t.row("incidents.byType." + k, k, Unit::kCount, Better::kLower,
          [&](const json& v) -> const json& { return at(at(at(v, "incidents"), "byType"), k); });
  }
  return "<section id=\"kpis\"><h2>KPIs</h2>" + t.html() + "</section>";
}

// ---- the headline: which variant is better than the baseline on which KPI ----

struct Finding {
  std::string key;    // the KPI row's key
  std::string label;  // unescaped
  bool duration = false;
  Better better = Better::kNeutral;
  util::Interval difference;  // variant - baseline: a fraction, or seconds
};

// "+3.2 pp" / "−2h 10m"
std::string signed_amount(double v, bool duration) {
  const std::string sign = v > 0 ? "+" : v < 0 ? std::string(kMinus) : "\u00b1";
  return sign + (duration ? human_duration(std::abs(v)) : fixed(std::abs(v) * 100, 1) + " pp");
}

// Every KPI with a direction, compared between variant `i` and the baseline: shares (end
// events, rates, SLA breaches) by Newcombe's interval, mean cycle times by Welch's.
std::vector<Finding> findings(const json& base, const json& v, const Names& names) {
  std::vector<Finding> out;
  const auto share = [&](std::string key, std::string label, Better better, std::optional<double> n_a,
                         std::optional<double> d_a, std::optional<double> n_b,
                         std::optional<double> d_b) {
    if (better == Better::kNeutral || !n_a || !d_a || !n_b || !d_b || *d_a <= 0 || *d_b <= 0) return;
    const auto whole = [](double x) { return static_cast<std::int64_t>(std::llround(x)); };
    out.push_back({std::move(key), std::move(label), false, better,
                   util::newcombe(util::wilson(whole(*n_a), whole(*d_a)),
                                  util::wilson(whole(*n_b), whole(*d_b)))});
  };
  // End events either side reached (one the other never reached counts 0 there).
  std::set<std::string> ends;
  for (const json* side : {&v, &base}) {
    const json& e = at(*side, "endEvents");
    if (!e.is_object()) continue;
    for (const auto& [k, n] : e.items()) ends.insert(k);
  }
  for (const std::string& k : ends) {
    const std::string name = names.name(k, 0);
    const Better better = k == "(incident)" ? Better::kLower : rate_direction(name + " " + k);
    share("endEvents." + k, "orders ending at " + (name == k ? k : name), better,
          number(at(at(v, "endEvents"), k)).value_or(0), number(at(v, "orders")),
          number(at(at(base, "endEvents"), k)).value_or(0), number(at(base, "orders")));
  }
  const json& rates = at(v, "rates");
  if (rates.is_object()) {
    for (const auto& [k, r] : rates.items()) {
      const json& b = at(at(base, "rates"), k);
      share("rates." + k, k, rate_direction(k), number(at(r, "numerator")),
            number(at(r, "denominator")), number(at(b, "numerator")), number(at(b, "denominator")));
    }
  }
  if (at(v, "sla").is_array() && at(base, "sla").is_array()) {
    for (const json& s : at(v, "sla")) {
      for (const json& b : at(base, "sla")) {
        if (text(at(b, "name")) != text(at(s, "name"))) continue;
        share("sla." + text(at(s, "name")), "SLA " + text(at(s, "name")) + " breached",
              Better::kLower, number(at(s, "breached")), number(at(s, "applicable")),
              number(at(b, "breached")), number(at(b, "applicable")));
      }
    }
  }
  const json& cycles = at(v, "cycleTimes");
  if (cycles.is_object()) {
    for (const auto& [k, c] : cycles.items()) {
      const json& b = at(at(base, "cycleTimes"), k);
      const auto m_a = number(at(c, "mean")), s_a = number(at(c, "sd")), n_a = number(at(c, "count"));
      const auto m_b = number(at(b, "mean")), s_b = number(at(b, "sd")), n_b = number(at(b, "count"));
      // The normal approximation of the difference of means wants enough orders per side.
      if (!m_a || !s_a || !n_a || !m_b || !s_b || !n_b || *n_a < 30 || *n_b < 30) continue;
      out.push_back({"cycleTimes." + k + ".mean",
                     k == "end" ? "mean cycle time" : "mean cycle time to " + names.name(k, 0),
                     true, Better::kLower,
                     util::mean_difference(*m_a, *s_a, std::llround(*n_a), *m_b, *s_b,
                                           std::llround(*n_b))});
    }
  }
  return out;
}

std::string headline_section(const json& variants, const Names& names) {
  if (variants.size() < 2) return {};
  const std::string base_name = text(at(variants[0], "name"));
  std::string out =
      "<section id=\"headline\"><h2>Headline</h2><p class=\"sub\">Each variant against the "
      "baseline, " + escape(base_name) +
      ", on the KPIs with a direction; the difference with its 95% interval (Newcombe's for "
      "shares, Welch's for means). Only differences whose interval excludes zero are "
      "named.</p>";
  for (std::size_t i = 1; i < variants.size(); ++i) {
    std::vector<Finding> all = findings(variants[0], variants[i], names);
    std::vector<const Finding*> clear;
    for (const Finding& f : all) {
      if (f.difference.low > 0 || f.difference.high < 0) clear.push_back(&f);
    }
    // Shares first, the largest difference first; then durations, the largest first.
    std::stable_sort(clear.begin(), clear.end(), [](const Finding* a, const Finding* b) {
      return a->duration != b->duration ? !a->duration
                                        : std::abs(a->difference.value) > std::abs(b->difference.value);
    });
    const std::string name = text(at(variants[i], "name"));
    out += "<ul class=\"headline\" data-variant=\"" + std::to_string(i) + "\">";
    for (const Finding* f : clear) {
      const bool up = f->difference.value > 0;
      const bool better = (f->better == Better::kHigher) == up;
      out += "<li class=\"" + std::string(better ? "better" : "worse") + "\" data-kpi=\"" +
             escape(f->key) + "\"><b>" + escape(name) + "</b> is " +
             (better ? "better" : "worse") + " on " + escape(f->label) + ": " +
             escape(signed_amount(f->difference.value, f->duration)) + " (95%: " +
             escape(signed_amount(f->difference.low, f->duration)) + " to " +
             escape(signed_amount(f->difference.high, f->duration)) + ")</li>";
    }
    const std::size_t unclear = all.size() - clear.size();
    if (clear.empty()) {
      out += "<li class=\"same\"><b>" + escape(name) + "</b>: no clear difference from " +
             escape(base_name) + " on any of " + std::to_string(all.size()) + " KPIs.</li>";
    } else if (unclear > 0) {
      out += "<li class=\"same\">No clear difference on " + std::to_string(unclear) +
             " other KPI" + (unclear == 1 ? "" : "s") + ".</li>";
    }
    out += "</ul>";
  }
  return out + "</section>";
}

std::string charts_section(const json& variants, sim::report::ChartScale scale) {
  const auto keys = cycle_keys(variants);
  if (keys.empty()) return {};
  std::vector<std::string> names;
  for (const json& v : variants) names.push_back(text(at(v, "name")));
  std::string out = "<section id=\"cycle-times\"><h2>Cycle-time distributions</h2>";
  for (const std::string& k : keys) {
    std::vector<const json*> histograms;
    for (const json& v : variants) {
      const json& h = at(at(at(v, "cycleTimes"), k), "histogram");
      histograms.push_back(h.is_array() ? &h : nullptr);
    }
    const std::string title = k == "end" ? "Order to any end event" : "Order to " + k;
    out += "<figure class=\"chart\" data-cycle=\"" + escape(k) + "\"><figcaption>" + escape(title) +
           " (orders per cycle-time bin)</figcaption>" +
           sim::report::histogram_svg(title, histograms, names, scale);
    if (variants.size() > 1) {
      out += "<p class=\"legend\">";
      for (std::size_t i = 0; i < names.size(); ++i) {
        out += "<span class=\"swatch\" style=\"background:" +
               std::string(sim::report::variant_colour(i)) + "\"></span>" + escape(names[i]) + " ";
      }
      out += "</p>";
    }
    out += "</figure>";
  }
  return out + "</section>";
}

std::string stat_cells(const json& stats) {
  std::string out;
  for (const char* f : {"mean", "p50", "p90", "max"}) {
    const auto v = number(at(stats, f));
    out += "<td class=\"num\">" + (v ? escape(human_duration(*v)) : std::string(kDash)) + "</td>";
  }
  return out;
}

std::string activities_table(const json& variant) {
  const json& list = at(variant, "activities");
  if (!list.is_array() || list.empty())
    return "<p class=\"empty\">No activities in the report.</p>";
  std::string out =
      "<table class=\"activities\"><thead><tr><th rowspan=\"2\">id</th><th "
      "rowspan=\"2\">name</th><th rowspan=\"2\">kind</th><th rowspan=\"2\">runs</th><th "
      "rowspan=\"2\">orders</th><th colspan=\"4\">waiting</th><th "
      "colspan=\"4\">processing</th></tr><tr>";
  for (int i = 0; i < 2; ++i) out += "<th>mean</th><th>p50</th><th>p90</th><th>max</th>";
  out += "</tr></thead><tbody>";
  for (const json& a : list) {
    const auto count = number(at(a, "count")), orders = number(at(a, "orders"));
    out += "<tr data-activity=\"" + escape(text(at(a, "id"))) + "\"><td><code>" +
           escape(text(at(a, "id"))) + "</code></td><td>" + escape(text(at(a, "name"))) +
           "</td><td>" + escape(text(at(a, "kind"))) + "</td><td class=\"num\">" +
           (count ? trimmed(*count, 0) : std::string(kDash)) + "</td><td class=\"num\">" +
           (orders ? trimmed(*orders, 0) : std::string(kDash)) + "</td>" +
           stat_cells(at(a, "waiting")) + stat_cells(at(a, "processing")) + "</tr>";
  }
  return out + "</tbody></table>";
}

std::string traces_table(const json& variant, const Names& names, std::size_t index) {
  const json& list = at(variant, "traces");
  if (!list.is_array() || list.empty()) return "<p class=\"empty\">No traces in the report.</p>";
  std::string out =
      "<table class=\"traces\"><thead><tr><th>#</th><th>orders</th><th>share</th><th>path</th>"
      "</tr></thead><tbody>";
  bool hidden = false;
  for (std::size_t i = 0; i < list.size() && i < kTopTraces; ++i) {
    const json& t = list[i];
    std::string path;
    if (at(t, "path").is_array()) {
      for (const json& id : at(t, "path")) {
        if (names.unnamed_internal(text(id), index)) {
          hidden = true;
          continue;
        }
        if (!path.empty()) path += " \u2192 ";
        path += escape(names.name(text(id), index));
      }
    }
    const auto count = number(at(t, "count")), share = number(at(t, "share"));
    out += "<tr><td class=\"num\">" + std::to_string(i + 1) + "</td><td class=\"num\">" +
           (count ? trimmed(*count, 0) : std::string(kDash)) + "</td><td class=\"num\">" +
           (share ? fixed(*share * 100, 1) + "%" : std::string(kDash)) +
           "</td><td class=\"path\">" + path + "</td></tr>";
  }
  out += "</tbody></table>";
  if (hidden) {
    out += "<p class=\"note\">Unnamed gateways and a subprocess's own unnamed start and end "
           "events are left out of the paths.</p>";
  }
  if (list.size() > kTopTraces) {
    out += "<p class=\"note\">The " + std::to_string(kTopTraces) + " most frequent of " +
           std::to_string(list.size()) + " paths.</p>";
  }
  return out;
}

std::string heat_legend(const sim::report::HeatScale& heat) {
  std::string out = "<p class=\"legend\">Orders that passed each element: ";
  if (heat.max_element < 1) return out + "none.</p>";
  for (double f : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    // The palest colour stands for one order: no order at all is grey (the last swatch).
    const double n = f == 0 ? 1 : std::round(heat.max_element * f);
    out += "<span class=\"heat\" style=\"background:" + sim::report::heat_colour(f) +
           (f > 0.6 ? ";color:#fff" : "") + "\">" + trimmed(n, 0) + "</span> ";
  }
  return out +
         "<span class=\"heat none\">0 (not reached)</span>; arrows are wider the more orders "
         "took them.</p>";
}

std::string header(const json& report) {
  const json& records = at(report, "records");
  auto n = [&](const char* key) {
    const auto v = number(at(records, key));
    return v ? trimmed(*v, 0) : std::string(kDash);
  };
  std::string out = "<header><h1>Replay report</h1><dl class=\"run\"><dt>Order log</dt><dd>" +
                    escape(text(at(report, "orderLog"))) + "</dd><dt>Seed</dt><dd>" +
                    escape(text(at(report, "seed"))) + "</dd><dt>Records</dt><dd>" + n("read") +
                    " read, " + n("replayed") + " replayed, " + n("skipped") + " skipped</dd></dl>";
  const json& skipped = at(records, "skippedRecords");
  if (skipped.is_array() && !skipped.empty()) {
    out += "<details class=\"skipped\"><summary>Skipped records";
    const auto total = number(at(records, "skipped"));
    if (total && *total > static_cast<double>(skipped.size())) {
      out += " (the first " + std::to_string(skipped.size()) + ")";
    }
    out += "</summary><table><thead><tr><th>line</th><th>message</th></tr></thead><tbody>";
    for (const json& s : skipped) {
      out += "<tr><td class=\"num\">" + escape(text(at(s, "line"))) + "</td><td>" +
             escape(text(at(s, "message"))) + "</td></tr>";
    }
    out += "</tbody></table></details>";
  }
  return out + "</header>";
}

constexpr std::string_view kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:1.5rem;color:#222;background:#fff;line-height:1.35}
h1{font-size:1.6rem;margin:0 0 .5rem}h2{font-size:1.25rem;margin:2rem 0 .6rem;border-bottom:1px solid #ddd}h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
dl.run{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem;margin:.5rem 0}dl.run dt{font-weight:600}dl.run dd{margin:0}
table{border-collapse:collapse;margin:.4rem 0;font-size:.9rem}th,td{border:1px solid #ddd;padding:.25rem .5rem;vertical-align:top;text-align:left}
thead th{background:#f5f5f5}td.num{text-align:right;white-space:nowrap}tr.section th{background:#fafafa;font-weight:600;padding-top:.5rem}
tbody th{font-weight:normal}.sub,.note{color:#666;font-size:.85em}td.path{font-size:.85em}
.delta{display:inline-block;margin-left:.3rem;padding:0 .3rem;border-radius:3px;font-size:.85em}
.delta.better{background:#e3f4e1;color:#1e6b1a}.delta.worse{background:#fbe3e1;color:#a3221a}
ul.headline li.better{color:#1e6b1a}ul.headline li.worse{color:#a3221a}ul.headline li.same{color:#666}
.delta.changed{background:#fdf0d0;color:#7a5400}.delta.same{color:#888}
.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.3em;border-radius:2px;vertical-align:baseline}
figure.chart{display:inline-block;margin:.5rem 1.5rem .5rem 0;vertical-align:top}figcaption{font-size:.9rem;font-weight:600}
svg{max-width:100%;height:auto}svg text{font-family:system-ui,Helvetica,Arial,sans-serif}
svg.chart .grid{stroke:#eee}svg.chart .axis{stroke:#888}svg.chart .tick{font-size:10px;fill:#555}svg.chart .count{font-size:9px;fill:#333}svg.chart .axis-title{font-size:10px;fill:#555}
svg.diagram{border:1px solid #eee;background:#fff}
svg.diagram .shape{stroke:#444;stroke-width:1.5}svg.diagram .shape.end{stroke-width:4}svg.diagram .shape.call{stroke-width:3.5}
svg.diagram .shape.expanded{fill-opacity:.28}svg.diagram .shape.event-sub,svg.diagram .shape.non-interrupting{stroke-dasharray:5 3}
svg.diagram .unvisited .shape{stroke:#9e9e9e;stroke-dasharray:4 3}svg.diagram .unvisited .name,svg.diagram .unvisited .label{fill:#888}
svg.diagram .marker{stroke:#333;stroke-width:3;fill:none;stroke-linecap:round}svg.diagram .marker.thin{stroke-width:1.2}
svg.diagram .name{font-size:12px;fill:#222}svg.diagram .name.dark{fill:#fff}svg.diagram .label{font-size:11px;fill:#333}
svg.diagram .badge rect{fill:#333}svg.diagram .badge text{font-size:10px;fill:#fff;font-weight:600}svg.diagram .badge.zero rect{fill:#ddd}svg.diagram .badge.zero text{fill:#666}
svg.diagram .flow polyline{fill:none;stroke:#555}svg.diagram .flow.untaken polyline{stroke:#aaa;stroke-dasharray:4 3}
svg.diagram .flow.more polyline{stroke:#2166ac}svg.diagram .flow.fewer polyline{stroke:#b2182b}svg.diagram .flow.same polyline{stroke:#bbb}
svg.diagram .flow-count{font-size:10px;fill:#333;paint-order:stroke;stroke:#fff;stroke-width:3px}
svg.diagram .arrow{fill:#555}svg.diagram .arrow-off{fill:#aaa}svg.diagram .other rect{fill:none;stroke:#bbb}svg.diagram .other-edge{fill:none;stroke:#999;stroke-dasharray:6 4}
.heat{display:inline-block;padding:0 .4rem;border:1px solid #999;border-radius:3px;font-size:.85em}
.heat.none{background:#f2f2f2;border-style:dashed;color:#666}
p.no-diagram{padding:1rem;background:#f7f7f7;border:1px dashed #bbb;color:#555}
)";

}  // namespace

std::string render_replay_html(const nlohmann::json& report,
                               const std::vector<std::shared_ptr<const BpmnDocument>>& documents,
                               const ReplayReportOptions& options) {
  static const json kEmpty = json::array();
  const json& variants = at(report, "variants").is_array() ? at(report, "variants") : kEmpty;
  const Names names(variants, documents);

  sim::report::HeatScale heat;
  for (const json& v : variants) {
    for (const auto& [map, max] :
         {std::pair{"elements", &heat.max_element}, std::pair{"flows", &heat.max_flow}}) {
      const json& counts = at(v, map);
      if (!counts.is_object()) continue;
      for (const auto& [k, n] : counts.items()) *max = std::max(*max, number(n).value_or(0));
    }
  }

  const std::string order_log = text(at(report, "orderLog"));
  std::string out =
      "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta "
      "charset=\"utf-8\"/><meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\"/><title>Replay report" +
      (order_log.empty() ? std::string() : ": " + escape(order_log)) + "</title><style>" +
      std::string(kStyle) + "</style></head>\n<body>";
  out += header(report);
  if (variants.empty()) {
    out += "<p class=\"empty\">The report has no variants.</p>";
  } else {
    out += headline_section(variants, names);
    out += kpi_section(variants, names);
    out += charts_section(variants, static_cast<sim::report::ChartScale>(options.chart_scale));
  }
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const json& v = variants[i];
    const BpmnDocument* document = i < documents.size() ? documents[i].get() : nullptr;
    out += "\n<section class=\"variant\" id=\"variant-" + std::to_string(i) + "\"><h2>" +
           (variants.size() > 1 ? "Variant " + std::to_string(i + 1) + ": " : std::string()) +
           escape(text(at(v, "name"))) + "</h2><p class=\"sub\">" +
           escape(text(at(v, "processName"))) + " (<code>" + escape(text(at(v, "process"))) +
           "</code>) from <code>" + escape(text(at(v, "file"))) + "</code>" +
           (v.contains("notificationRules")
                ? ", notification rules from <code>" + escape(text(at(v, "notificationRules"))) +
                      "</code>"
                : std::string()) +
           "</p><h3>Diagram</h3>" +
           heat_legend(heat) + sim::report::diagram_svg(v, document, heat, i) +
           "<h3>Activities</h3>" + activities_table(v) + "<h3>Most frequent paths</h3>" +
           traces_table(v, names, i) + "</section>";
  }
  // Each variant's difference to the baseline, on the variant's diagram.
  for (std::size_t i = 1; i < variants.size(); ++i) {
    const json& v = variants[i];
    const json& base = variants[0];
    const BpmnDocument* document = i < documents.size() ? documents[i].get() : nullptr;
    sim::report::HeatScale difference = heat;
    difference.baseline = &base;
    for (const auto& [map, max] : {std::pair{"elements", &difference.max_element_difference},
                                   std::pair{"flows", &difference.max_flow_difference}}) {
      const json& counts = at(v, map);
      if (!counts.is_object()) continue;
      for (const auto& [k, n] : counts.items()) {
        *max = std::max(*max, std::abs(number(n).value_or(0) - number(at(at(base, map), k)).value_or(0)));
      }
    }
    out += "\n<section class=\"difference\" id=\"difference-" + std::to_string(i) + "\"><h2>" +
           escape(text(at(v, "name"))) + " against " + escape(text(at(base, "name"))) +
           "</h2><p class=\"legend\">Orders through each element and flow of " +
           escape(text(at(v, "name"))) + " minus those through the element or flow of the same "
           "id in " + escape(text(at(base, "name"))) +
           ": <span class=\"heat\" style=\"background:" + sim::report::difference_colour(1) +
           ";color:#fff\">more</span> <span class=\"heat\" style=\"background:" +
           sim::report::difference_colour(0) + "\">the same</span> <span class=\"heat\" "
           "style=\"background:" + sim::report::difference_colour(-1) +
           ";color:#fff\">fewer</span> (the strongest colour: " +
           trimmed(difference.max_element_difference, 0) +
           " orders); arrows are wider the larger the change.</p>" +
           sim::report::diagram_svg(v, document, difference, variants.size() + i) + "</section>";
  }
  return out + "\n</body></html>\n";
}

}  // namespace ordo
