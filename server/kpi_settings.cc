// server.alerts in ordo.json: the KPI rules and where alerts go.
#include <algorithm>

#include "kpi.h"
#include "time/iso8601.h"

namespace ordo::server {
namespace {

using nlohmann::json;

Status error(const std::string& at, const std::string& why) {
  return Status::invalid_argument(at + ": " + why);
}

// A duration in days, hours, minutes and seconds, longer than zero, as milliseconds.
Result<std::int64_t> duration_ms(const json& value, const std::string& at) {
  const std::optional<std::int64_t> ms =
      value.is_string() ? time::parse_fixed_duration_ms(value.get_ref<const std::string&>())
                        : std::nullopt;
  if (!ms || *ms <= 0) {
    return error(at,
                 "must be a duration longer than zero such as PT30S or PT24H (days, hours, "
                 "minutes, seconds)");
  }
  return *ms;
}

Result<std::string> text(const json& value, const std::string& at) {
  if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
    return error(at, "must be a text that is not empty");
  }
  return value.get<std::string>();
}

Result<std::int64_t> whole(const json& value, std::int64_t least, const std::string& at) {
  if (!value.is_number_integer() || value.get<std::int64_t>() < least) {
    return error(at, "must be a whole number from " + std::to_string(least));
  }
  return value.get<std::int64_t>();
}

constexpr std::string_view kKindNames[] = {"cycle-time", "delivery-rate", "incidents",
                                           "open-rate", "click-rate"};
constexpr std::string_view kStatisticNames[] = {"p50", "p90", "p95", "p99", "max", "mean"};

// The enumerator whose name is `name` (the enumerators in the order of `names`).
template <class E, std::size_t N>
std::optional<E> named(const std::string_view (&names)[N], const json& name) {
  if (!name.is_string()) return std::nullopt;
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name.get_ref<const std::string&>()) return static_cast<E>(i);
  }
  return std::nullopt;
}

// The settings a rule of `kind` has, besides name and kind; the required ones first.
std::vector<std::string_view> settings_of(KpiKind kind) {
  switch (kind) {
    case KpiKind::kCycleTime:
      return {"process", "to", "above", "statistic", "window"};
    case KpiKind::kDeliveryRate:
      return {"below", "window", "minimum", "channel"};
    case KpiKind::kIncidents:
      return {"above"};
    case KpiKind::kOpenRate:
    case KpiKind::kClickRate:
      return {"below", "window", "minimum", "channel", "segment", "experiment", "variant"};
  }
  return {};
}
std::size_t required_of(KpiKind kind) {
  return kind == KpiKind::kCycleTime ? 3 : 1;
}

// The first `n` names, comma-separated.
std::string listed(const std::vector<std::string_view>& names, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n && i < names.size(); ++i) {
    out.append(i == 0 ? "" : ", ").append(names[i]);
  }
  return out;
}

// One setting of a rule (known to be one of its kind's).
Status read_setting(KpiRule& rule, const std::string& key, const json& v, const std::string& at) {
  if (key == "process" || key == "to" || key == "channel" || key == "segment" ||
      key == "experiment" || key == "variant") {
    Result<std::string> t = text(v, at);
    if (!t) return t.status();
    (key == "process"      ? rule.process
     : key == "to"         ? rule.to
     : key == "channel"    ? rule.channel
     : key == "segment"    ? rule.segment
     : key == "experiment" ? rule.experiment
                           : rule.variant) = std::move(*t);
  } else if (key == "statistic") {
    const auto s = named<KpiStatistic>(kStatisticNames, v);
    if (!s) return error(at, "must be one of p50, p90, p95, p99, max, mean");
    rule.statistic = *s;
  } else if (key == "window") {
    Result<std::int64_t> ms = duration_ms(v, at);
    if (!ms) return ms.status();
    rule.window_ms = *ms;
  } else if (key == "above" && rule.kind == KpiKind::kCycleTime) {
    Result<std::int64_t> ms = duration_ms(v, at);
    if (!ms) return ms.status();
    rule.threshold = static_cast<double>(*ms) / 1000.0;
  } else if (key == "above") {
    Result<std::int64_t> n = whole(v, 0, at);
    if (!n) return n.status();
    rule.threshold = static_cast<double>(*n);
  } else if (key == "below") {
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1) {
      return error(at, rule.kind == KpiKind::kDeliveryRate
                           ? "must be a number from 0 to 1 (0.95: 95% of attempts sent)"
                           : "must be a number from 0 to 1 (0.2: 20% of messages sent)");
    }
    rule.threshold = v.get<double>();
  } else if (key == "minimum") {
    Result<std::int64_t> n = whole(v, 1, at);
    if (!n) return n.status();
    rule.minimum = *n;
  }
  return Status::ok();
}

Result<KpiRule> read_rule(const json& r, const std::string& at,
                          const std::vector<KpiRule>& before) {
  if (!r.is_object()) return error(at, "must be an object with name, kind and its settings");
  KpiRule rule;
  if (!r.contains("name")) return error(at + ".name", "is missing: name the rule");
  Result<std::string> name = text(r["name"], at + ".name");
  if (!name) return name.status();
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (before[i].name == *name) {
      return error(at + ".name", "'" + *name + "' is the name of rules[" + std::to_string(i) +
                                     "] too; names must differ");
    }
  }
  rule.name = std::move(*name);
  const std::optional<KpiKind> k = named<KpiKind>(kKindNames, r.value("kind", json()));
  if (!k) {
    return error(at + ".kind",
                 "must be one of cycle-time, delivery-rate, incidents, open-rate, click-rate");
  }
  rule.kind = *k;
  const std::vector<std::string_view> known = settings_of(rule.kind);
  for (const auto& [key, v] : r.items()) {
    if (key == "name" || key == "kind") continue;
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return error(at + "." + key, "is not a setting of a rule of kind " +
                                       std::string(to_string(rule.kind)) + " (known: name, kind, " +
                                       listed(known, known.size()) + ")");
    }
    if (Status s = read_setting(rule, key, v, at + "." + key); !s) return s;
  }
  for (std::size_t i = 0; i < required_of(rule.kind); ++i) {
    if (!r.contains(known[i])) {
      return error(at + "." + std::string(known[i]),
                   "is missing: a rule of kind " + std::string(to_string(rule.kind)) + " needs " +
                       listed(known, required_of(rule.kind)));
    }
  }
  return rule;
}

Result<AlertWebhook> read_webhook(const json& w, const std::string& at) {
  if (!w.is_object()) return error(at, "must be an object: {url, secret, timeout}");
  AlertWebhook out;
  for (const auto& [key, v] : w.items()) {
    if (key == "url") {
      const std::string url = v.is_string() ? v.get<std::string>() : std::string();
      if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
        return error(at + ".url", "must be an http:// or https:// URL");
      }
      out.url = url;
    } else if (key == "secret") {
      Result<std::string> t = text(v, at + ".secret");
      if (!t) return t.status();
      out.secret = std::move(*t);
    } else if (key == "timeout") {
      Result<std::int64_t> ms = duration_ms(v, at + ".timeout");
      if (!ms) return ms.status();
      if (*ms > 60'000) return error(at + ".timeout", "must be at most PT1M");
      out.timeout_ms = *ms;
    } else {
      return error(at + "." + key, "is not a setting (known: url, secret, timeout)");
    }
  }
  if (out.url.empty()) return error(at + ".url", "is missing: where alerts are posted");
  return out;
}

}  // namespace

std::string_view to_string(KpiKind kind) noexcept {
  const auto i = static_cast<std::size_t>(kind);
  return i < std::size(kKindNames) ? kKindNames[i] : "?";
}

std::string_view to_string(KpiStatistic statistic) noexcept {
  const auto i = static_cast<std::size_t>(statistic);
  return i < std::size(kStatisticNames) ? kStatisticNames[i] : "?";
}

Result<AlertSettings> read_alert_settings(const json& section, const std::string& where) {
  AlertSettings out;
  if (section.is_null()) return out;
  if (!section.is_object()) return error(where, "must be an object: {interval, webhook, rules}");
  for (const auto& [key, value] : section.items()) {
    const std::string at = where + "." + key;
    if (key == "interval") {
      Result<std::int64_t> ms = duration_ms(value, at);
      if (!ms) return ms.status();
      if (*ms < 1000) return error(at, "must be at least PT1S");
      out.interval_ms = *ms;
    } else if (key == "webhook") {
      Result<AlertWebhook> w = read_webhook(value, at);
      if (!w) return w.status();
      out.webhook = std::move(*w);
    } else if (key == "rules") {
      if (!value.is_array()) return error(at, "must be a list of rules");
      for (std::size_t i = 0; i < value.size(); ++i) {
        Result<KpiRule> rule = read_rule(value[i], at + "[" + std::to_string(i) + "]", out.rules);
        if (!rule) return rule.status();
        out.rules.push_back(std::move(*rule));
      }
    } else {
      return error(at, "is not a setting (known: interval, webhook, rules)");
    }
  }
  if (!section.contains("rules")) return error(where + ".rules", "is missing: the KPI rules");
  return out;
}

std::vector<CycleTimeSpan> cycle_time_spans(const AlertSettings& settings) {
  std::vector<CycleTimeSpan> out;
  for (const KpiRule& r : settings.rules) {
    if (r.kind == KpiKind::kCycleTime) out.push_back({r.process, r.to, r.window_ms});
  }
  return out;
}

}  // namespace ordo::server
