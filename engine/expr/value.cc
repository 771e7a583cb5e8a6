#include "expr/value.h"

#include "expr/functions.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace ordo::expr {
namespace {

constexpr std::int64_t kMsPerDay = 24 * 60 * 60 * 1000;
constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53
constexpr std::size_t kDescribeLimit = 60;

template <typename T>
int three_way(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

std::string shorten(std::string s) {
  if (s.size() > kDescribeLimit) {
    s.resize(kDescribeLimit);
    s += "...";
  }
  return s;
}

}  // namespace

std::string_view typed_kind(const Json& j) noexcept {
  if (!j.is_object() || j.size() != 2) return {};
  auto t = j.find("@type");
  auto v = j.find("value");
  if (t == j.end() || v == j.end() || !t->is_string() || !v->is_string()) return {};
  return t->get_ref<const std::string&>();
}

void untype(Json& j, bool deep) {
  if (!typed_kind(j).empty()) {
    Json text = std::move(j["value"]);
    j = std::move(text);
    return;
  }
  if (!j.is_object() && !j.is_array()) return;
  for (Json& m : j) {
    if (deep) {
      untype(m, true);
    } else if (!typed_kind(m).empty()) {
      Json text = std::move(m["value"]);
      m = std::move(text);
    }
  }
}

// {"@type": "date" | "dateTime" | "duration", "value": TEXT} as the value it names; nullopt
// for any other object (a context that happens to have such keys stays a context).
static std::optional<Value> typed(const Json& j) {
  const std::string_view kind = typed_kind(j);
  if (kind.empty()) return std::nullopt;
  const Json& v = j["value"];
  Builtin fn = kind == "date"       ? Builtin::kDate
               : kind == "dateTime" ? Builtin::kDateAndTime
               : kind == "duration" ? Builtin::kDuration
                                    : Builtin::kNone;
  if (fn == Builtin::kNone) return std::nullopt;
  Value text = Value::borrowed_string(v.get_ref<const std::string&>());
  Value r = call_builtin(fn, std::span<Value>(&text, 1), CallSite{kind, nullptr});
  if (r.is_null()) return std::nullopt;
  return r;
}

std::string_view type_name(Type t) noexcept {
  switch (t) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "boolean";
    case Type::kNumber:
      return "number";
    case Type::kString:
      return "string";
    case Type::kDateTime:
      return "date and time";
    case Type::kDate:
      return "date";
    case Type::kDuration:
      return "duration";
    case Type::kList:
      return "list";
    case Type::kContext:
      return "context";
  }
  return "value";
}

Value Value::number(double d) {
  if (!std::isfinite(d)) return Value();
  if (std::trunc(d) == d && std::fabs(d) < kMaxExactInteger) {
    return integer(static_cast<std::int64_t>(d));
  }
  return real(d);
}

Value Value::owned(Json j) {
  Value v(j.is_array() ? Type::kList : Type::kContext);
  v.owned_ = std::move(j);
  return v;
}

Value Value::borrow(const Json& j) {
  switch (j.type()) {
    case Json::value_t::boolean:
      return boolean(j.get<bool>());
    case Json::value_t::number_integer:
      return integer(j.get<std::int64_t>());
    case Json::value_t::number_unsigned: {
      auto u = j.get<std::uint64_t>();
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return integer(static_cast<std::int64_t>(u));
      }
      return real(static_cast<double>(u));
    }
    case Json::value_t::number_float:
      return real(j.get<double>());
    case Json::value_t::string:
      return borrowed_string(j.get_ref<const std::string&>());
    case Json::value_t::object:
      if (std::optional<Value> t = typed(j)) return *std::move(t);
      [[fallthrough]];
    case Json::value_t::array: {
      Value v(j.is_array() ? Type::kList : Type::kContext);
      v.ref_ = &j;
      return v;
    }
    default:
      return Value();
  }
}

Value Value::adopt(Json j) {
  switch (j.type()) {
    case Json::value_t::string:
      return owned_string(std::move(j.get_ref<std::string&>()));
    case Json::value_t::array:
      return owned(std::move(j));
    case Json::value_t::object:
      if (std::optional<Value> t = typed(j)) return *std::move(t);
      return owned(std::move(j));
    default:
      return borrow(j);  // scalars hold no reference
  }
}

Json Value::to_typed_json() const {
  std::string_view kind;
  switch (type_) {
    case Type::kDateTime:
      kind = "dateTime";
      break;
    case Type::kDate:
      kind = "date";
      break;
    case Type::kDuration:
      kind = "duration";
      break;
    default:
      return to_json();
  }
  return Json{{"@type", kind}, {"value", to_text(*this)}};
}

Json Value::to_json() && {
  if (type_ == Type::kString && owns_str_) return Json(std::move(owned_str_));
  if ((type_ == Type::kList || type_ == Type::kContext) && ref_ == nullptr) {
    return std::move(owned_);
  }
  return static_cast<const Value&>(*this).to_json();
}

Json Value::to_json() const& {
  switch (type_) {
    case Type::kNull:
      return nullptr;
    case Type::kBool:
      return b_;
    case Type::kNumber:
      if (int_) return i_;
      return std::isfinite(d_) ? Json(d_) : Json(nullptr);
    case Type::kString:
      return std::string(str());
    case Type::kDateTime:
    case Type::kDate:
    case Type::kDuration:
      return to_text(*this);
    case Type::kList:
    case Type::kContext:
      return json();
  }
  return nullptr;
}

std::string to_text(const Value& v) {
  switch (v.type()) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return v.as_bool() ? "true" : "false";
    case Type::kNumber:
      return v.is_int() ? std::to_string(v.as_int()) : Json(v.as_double()).dump();
    case Type::kString:
      return std::string(v.str());
    case Type::kDateTime:
      return time::format_date_time(v.ms());
    case Type::kDate:
      return time::format_date_time(v.ms()).substr(0, 10);
    case Type::kDuration:
      return time::format_duration(v.dur());
    case Type::kList:
    case Type::kContext:
      return v.json().dump();
  }
  return "null";
}

std::string describe(const Value& v) {
  switch (v.type()) {
    case Type::kNull:
      return "null";
    case Type::kString:
      return "string " + shorten(Json(std::string(v.str())).dump());
    default:
      return std::string(type_name(v.type())) + " " + shorten(to_text(v));
  }
}

std::optional<Value> parse_number(std::string_view s) noexcept {
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (!s.empty() && s.front() == '+') ++begin;
  std::int64_t i = 0;
  auto [p, ec] = std::from_chars(begin, end, i);
  if (ec == std::errc() && p == end && begin != end) return Value::integer(i);
  double d = 0;
  auto [q, ec2] = std::from_chars(begin, end, d);
  if (ec2 == std::errc() && q == end && begin != end && std::isfinite(d)) return Value::real(d);
  return std::nullopt;
}

DurationTotals totals(const time::Duration& d) noexcept {
  const std::int64_t sign = d.negative ? -1 : 1;
  return {sign * (std::int64_t{d.years} * 12 + d.months),
          sign * (std::int64_t{d.days} * kMsPerDay + d.millis)};
}

time::Duration from_totals(DurationTotals t) noexcept {
  time::Duration d;
  d.negative = t.months < 0 || (t.months == 0 && t.ms < 0);
  const std::int64_t months = t.months < 0 ? -t.months : t.months;
  const std::int64_t ms = t.ms < 0 ? -t.ms : t.ms;
  d.years = static_cast<std::int32_t>(months / 12);
  d.months = static_cast<std::int32_t>(months % 12);
  d.days = static_cast<std::int32_t>(ms / kMsPerDay);
  d.millis = ms % kMsPerDay;
  return d;
}

std::optional<bool> equals(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return a.is_null() && b.is_null();
  if (a.type() != b.type()) return std::nullopt;
  switch (a.type()) {
    case Type::kBool:
      return a.as_bool() == b.as_bool();
    case Type::kList:
    case Type::kContext:
      return a.json() == b.json();
    default: {
      std::optional<int> c = compare(a, b);
      if (c) return *c == 0;
      return std::nullopt;
    }
  }
}

std::optional<int> compare(const Value& a, const Value& b) {
  if (a.type() != b.type()) return std::nullopt;
  switch (a.type()) {
    case Type::kNumber:
      if (a.is_int() && b.is_int()) return three_way(a.as_int(), b.as_int());
      if (std::isnan(a.as_double()) || std::isnan(b.as_double())) return std::nullopt;
      return three_way(a.as_double(), b.as_double());
    case Type::kString:
      return three_way(a.str(), b.str());
    case Type::kDateTime:
    case Type::kDate:
      return three_way(a.ms(), b.ms());
    case Type::kDuration: {
      DurationTotals x = totals(a.dur()), y = totals(b.dur());
      if (x.months == 0 && y.months == 0) return three_way(x.ms, y.ms);
      if (x.ms == 0 && y.ms == 0) return three_way(x.months, y.months);
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace ordo::expr
