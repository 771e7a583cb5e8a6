#include "sim/latency.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "time/iso8601.h"

namespace ordo::sim {
namespace {

using nlohmann::json;

// An ISO 8601 duration of days, hours, minutes and seconds, in ms.
std::optional<std::int64_t> duration_ms(const json& v) {
  if (!v.is_string()) return std::nullopt;
  return time::parse_fixed_duration_ms(v.get_ref<const std::string&>());
}

Status bad(const std::string& where, const std::string& key, const std::string& why) {
  return Status::invalid_argument(where + "." + key + ": " + why);
}

}  // namespace

Result<Latency> read_latency(const json& spec, const std::string& where) {
  if (!spec.is_object()) {
    return Status::invalid_argument(
        where +
        ": must be an object: {\"fixed\": \"PT2S\"}, {\"field\": NAME}, {\"until\": NAME} or "
        "{\"distribution\": ...}");
  }
  Latency out;
  std::vector<std::string> known;
  const auto duration = [&](const char* key, std::int64_t& into) -> Status {
    known.emplace_back(key);
    auto it = spec.find(key);
    if (it == spec.end()) return bad(where, key, "is missing");
    auto ms = duration_ms(*it);
    if (!ms) return bad(where, key, "must be a duration such as PT30S");
    into = *ms;
    return Status::ok();
  };
  Status s;
  if (spec.contains("fixed")) {
    out.kind = Latency::Kind::kFixed;
    s = duration("fixed", out.a_ms);
  } else if (spec.contains("field")) {
    out.kind = Latency::Kind::kField;
    known = {"field", "unit"};
    if (!spec["field"].is_string() || spec["field"].get<std::string>().empty()) {
      return bad(where, "field", "must name a field of the history records");
    }
    out.field = spec["field"].get<std::string>();
    const std::string unit = spec.value("unit", std::string("s"));
    if (unit != "s" && unit != "ms") return bad(where, "unit", "must be s or ms");
    out.unit_ms = unit == "s" ? 1000 : 1;
  } else if (spec.contains("until")) {
    out.kind = Latency::Kind::kUntil;
    known = {"until"};
    if (!spec["until"].is_string() || spec["until"].get<std::string>().empty()) {
      return bad(where, "until", "must name a field of the history records holding a date-time");
    }
    out.field = spec["until"].get<std::string>();
  } else if (spec.contains("distribution")) {
    known = {"distribution"};
    const std::string d =
        spec["distribution"].is_string() ? spec["distribution"].get<std::string>() : "";
    if (d == "exponential") {
      out.kind = Latency::Kind::kExponential;
      s = duration("mean", out.a_ms);
    } else if (d == "normal") {
      out.kind = Latency::Kind::kNormal;
      s = duration("mean", out.a_ms);
      if (s) s = duration("sd", out.b_ms);
    } else if (d == "lognormal") {
      out.kind = Latency::Kind::kLognormal;
      s = duration("median", out.a_ms);
      known.emplace_back("sigma");
      if (s && (!spec.contains("sigma") || !spec["sigma"].is_number() ||
                spec["sigma"].get<double>() < 0 || spec["sigma"].get<double>() > 10)) {
        return bad(where, "sigma", "must be a number from 0 to 10 (the spread, in log space)");
      }
      if (s) out.sigma = spec["sigma"].get<double>();
    } else if (d == "uniform") {
      out.kind = Latency::Kind::kUniform;
      s = duration("min", out.a_ms);
      if (s) s = duration("max", out.b_ms);
      if (s && out.b_ms < out.a_ms) return bad(where, "max", "must not be less than min");
    } else if (d == "empirical") {
      out.kind = Latency::Kind::kEmpirical;
      known.insert(known.end(), {"values", "weights"});
      const json* values = spec.contains("values") ? &spec["values"] : nullptr;
      if (values == nullptr || !values->is_array() || values->empty()) {
        return bad(where, "values", "must be a list of durations");
      }
      for (std::size_t i = 0; i < values->size(); ++i) {
        auto ms = duration_ms((*values)[i]);
        if (!ms)
          return bad(where, "values[" + std::to_string(i) + "]",
                     "must be a duration such as PT30S");
        out.values_ms.push_back(*ms);
      }
      std::vector<double> weights(values->size(), 1.0);
      if (spec.contains("weights")) {
        const json& w = spec["weights"];
        if (!w.is_array() || w.size() != values->size()) {
          return bad(where, "weights", "must be a list of as many numbers as values");
        }
        for (std::size_t i = 0; i < w.size(); ++i) {
          if (!w[i].is_number() || w[i].get<double>() < 0) {
            return bad(where, "weights[" + std::to_string(i) + "]", "must be a number, 0 or more");
          }
          weights[i] = w[i].get<double>();
        }
      }
      double total = 0;
      for (double w : weights) total += w;
      if (total <= 0) return bad(where, "weights", "must not all be 0");
      double run = 0;
      for (double w : weights) out.cumulative.push_back((run += w) / total);
    } else {
      return bad(where, "distribution",
                 "must be exponential, normal, lognormal, uniform or empirical");
    }
  } else {
    return Status::invalid_argument(where +
                                    ": say how long it takes: \"fixed\", \"field\", \"until\" or "
                                    "\"distribution\"");
  }
  if (!s) return s;
  for (const auto& [key, value] : spec.items()) {
    if (key.starts_with("$")) continue;  // "$comment": a note for people
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return bad(where, key, "is not a setting of this latency");
    }
  }
  return out;
}

Result<std::int64_t> sample(const Latency& l, Random& r, const json& record, std::int64_t now_ms) {
  const auto ms = [](double v) {
    return static_cast<std::int64_t>(std::llround(std::max(0.0, v)));
  };
  switch (l.kind) {
    case Latency::Kind::kFixed:
      return l.a_ms;
    case Latency::Kind::kField: {
      auto it = record.find(l.field);
      if (it == record.end() || it->is_null()) {
        return Status::invalid_argument("the record has no '" + l.field + "'");
      }
      if (it->is_number()) return ms(it->get<double>() * static_cast<double>(l.unit_ms));
      if (it->is_string()) {
        const std::string& text = it->get_ref<const std::string&>();
        double v = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec == std::errc() && end == text.data() + text.size()) {
          return ms(v * static_cast<double>(l.unit_ms));
        }
        if (auto d = duration_ms(*it)) return *d;
      }
      return Status::invalid_argument(
          "'" + l.field + "' is " + it->dump() + ", not a duration (a number of " +
          (l.unit_ms == 1000 ? "seconds" : "milliseconds") + " or PT30S)");
    }
    case Latency::Kind::kUntil: {
      auto it = record.find(l.field);
      if (it == record.end() || it->is_null()) {
        return Status::invalid_argument("the record has no '" + l.field + "'");
      }
      std::optional<std::int64_t> at;
      if (it->is_string()) at = time::parse_date_time(it->get_ref<const std::string&>());
      if (!at) {
        return Status::invalid_argument("'" + l.field + "' is " + it->dump() +
                                        ", not an ISO 8601 date-time such as "
                                        "2026-09-01T10:00:00Z");
      }
      return std::max<std::int64_t>(0, *at - now_ms);
    }
    case Latency::Kind::kExponential:
      return ms(-std::log(1.0 - r.uniform()) * static_cast<double>(l.a_ms));
    case Latency::Kind::kNormal:
      return ms(static_cast<double>(l.a_ms) + r.normal() * static_cast<double>(l.b_ms));
    case Latency::Kind::kLognormal:
      return ms(r.lognormal(static_cast<double>(l.a_ms), l.sigma));
    case Latency::Kind::kUniform:
      return l.a_ms + r.below(l.b_ms - l.a_ms + 1);
    case Latency::Kind::kEmpirical: {
      const double u = r.uniform();
      for (std::size_t i = 0; i < l.cumulative.size(); ++i) {
        if (u < l.cumulative[i]) return l.values_ms[i];
      }
      return l.values_ms.back();
    }
  }
  return std::int64_t{0};
}

}  // namespace ordo::sim
