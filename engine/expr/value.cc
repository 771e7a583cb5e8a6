#include "expr/value.h"

#include "expr/functions.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace ordo::expr {
namespace {

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

bool is_range_json(const Json& j) noexcept {
  if (!j.is_object() || j.size() != 5) return false;
  auto t = j.find("@type");
  if (t == j.end() || !t->is_string() || t->get_ref<const std::string&>() != "range") return false;
  auto si = j.find("start included"), ei = j.find("end included");
  return j.contains("start") && j.contains("end") && si != j.end() && si->is_boolean() &&
         ei != j.end() && ei->is_boolean();
}

// A typed value as process variables keep it: a date, time or duration as its text, a
// decimal as the nearest JSON number.
static void untype_one(Json& j, std::string_view kind) {
  Json text = std::move(j["value"]);
  if (kind == "number") {
    const std::optional<Decimal> d = Decimal::parse(text.get_ref<const std::string&>());
    j = d ? Json(d->to_double()) : Json(nullptr);
    return;
  }
  j = std::move(text);
}

void untype(Json& j, bool deep) {
  if (const std::string_view kind = typed_kind(j); !kind.empty()) {
    untype_one(j, kind);
    return;
  }
  if (!j.is_object() && !j.is_array()) return;
  for (Json& m : j) {
    if (deep) {
      untype(m, true);
    } else if (const std::string_view kind = typed_kind(m); !kind.empty()) {
      untype_one(m, kind);
    }
  }
}

// {"@type": "date" | "time" | "dateTime" | "duration" | "number", "value": TEXT} as the value
// it names; nullopt for any other object (a context that happens to have such keys stays a
// context).
static std::optional<Value> typed(const Json& j) {
  const std::string_view kind = typed_kind(j);
  if (kind.empty()) return std::nullopt;
  const Json& v = j["value"];
  if (kind == "number") {
    std::optional<Decimal> d = Decimal::parse(v.get_ref<const std::string&>());
    if (!d) return std::nullopt;
    return Value::decimal(*d);
  }
  if (kind == "function") {
    const std::string& ref = v.get_ref<const std::string&>();
    std::int64_t id = -1;
    if (ref.size() < 2 || ref[0] != '#') return std::nullopt;
    auto [p, ec] = std::from_chars(ref.data() + 1, ref.data() + ref.size(), id);
    if (ec != std::errc() || p != ref.data() + ref.size()) return std::nullopt;
    return Value::function(id);
  }
  Builtin fn = kind == "date"       ? Builtin::kDate
               : kind == "dateTime" ? Builtin::kDateAndTime
               : kind == "duration" ? Builtin::kDuration
               : kind == "time"     ? Builtin::kTime
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
    case Type::kDate:
      return "date";
    case Type::kTime:
      return "time";
    case Type::kDateTime:
      return "date and time";
    case Type::kYearsMonths:
      return "years and months duration";
    case Type::kDaysTime:
      return "days and time duration";
    case Type::kList:
      return "list";
    case Type::kContext:
      return "context";
    case Type::kRange:
      return "range";
    case Type::kFunction:
      return "function";
  }
  return "value";
}

Value Value::number(double d) {
  if (!std::isfinite(d)) return Value();
  if (std::trunc(d) == d && std::fabs(d) < kMaxExactInteger) {
    return integer(static_cast<std::int64_t>(d));
  }
  if (std::trunc(d) == d) return decimal(Decimal::from_double(d));  // whole; int64 may hold it
  Value v(Type::kNumber);
  v.n_ = std::bit_cast<std::int64_t>(d);
  v.has_double_ = true;
  return v;
}

Value Value::decimal(const Decimal& d) {
  if (!d.is_finite()) return Value();
  if (std::optional<std::int64_t> i = d.to_int()) return integer(*i);
  Value v(Type::kNumber);
  v.dec_ = d;
  return v;
}

// A decimal as JSON: a JSON number when the double it becomes prints back as the same
// decimal, else (typed) its full text or (untyped) the nearest double.
static Json decimal_json(const Decimal& d, bool typed) {
  const double x = d.to_double();
  if (!typed && !std::isfinite(x)) return Json(nullptr);  // beyond what JSON numbers hold
  if (!typed || Decimal::from_double(x) == d) return Json(x);
  return Json{{"@type", "number"}, {"value", d.text()}};
}

Value Value::owned(Json j) {
  Value v(j.is_array() ? Type::kList : is_range_json(j) ? Type::kRange : Type::kContext);
  v.owned_ = std::move(j);
  return v;
}

Value Value::range(const Value& low, const Value& high, bool low_included, bool high_included) {
  Value v(Type::kRange);
  v.owned_ = Json{{"@type", "range"},
                  {"start", low.to_typed_json()},
                  {"end", high.to_typed_json()},
                  {"start included", low_included},
                  {"end included", high_included}};
  return v;
}

std::optional<bool> in_range(const Value& v, const Value& r) {
  const Json& j = r.json();
  const Value low = Value::borrow(j["start"]), high = Value::borrow(j["end"]);
  if (!low.is_null()) {
    const std::optional<int> c = compare(v, low);
    if (!c) return std::nullopt;
    if (*c < 0 || (*c == 0 && !j["start included"].get<bool>())) return false;
  }
  if (!high.is_null()) {
    const std::optional<int> c = compare(v, high);
    if (!c) return std::nullopt;
    if (*c > 0 || (*c == 0 && !j["end included"].get<bool>())) return false;
  }
  return !low.is_null() || !high.is_null();
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
      return decimal(*Decimal::parse(std::to_string(u)));
    }
    case Json::value_t::number_float:
      return number(j.get<double>());
    case Json::value_t::string:
      return borrowed_string(j.get_ref<const std::string&>());
    case Json::value_t::object:
      if (std::optional<Value> t = typed(j)) return *std::move(t);
      [[fallthrough]];
    case Json::value_t::array: {
      Value v(j.is_array() ? Type::kList : is_range_json(j) ? Type::kRange : Type::kContext);
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
    case Type::kTime:
      kind = "time";
      break;
    case Type::kYearsMonths:
    case Type::kDaysTime:
      kind = "duration";
      break;
    case Type::kNumber:
      return int_ ? Json(i_) : has_double_ ? Json(source_double()) : decimal_json(dec_, true);
    case Type::kFunction:
      return Json{{"@type", "function"}, {"value", "#" + std::to_string(i_)}};
    default:
      return to_json();
  }
  return Json{{"@type", kind}, {"value", to_text(*this)}};
}

Json Value::to_json() && {
  if (type_ == Type::kString && owns_str_) return Json(std::move(owned_str_));
  if ((type_ == Type::kList || type_ == Type::kContext || type_ == Type::kRange) &&
      ref_ == nullptr) {
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
      return has_double_ ? Json(source_double()) : decimal_json(dec_, false);
    case Type::kString:
      return std::string(str());
    case Type::kDate:
    case Type::kTime:
    case Type::kDateTime:
    case Type::kYearsMonths:
    case Type::kDaysTime:
      return to_text(*this);
    case Type::kList:
    case Type::kContext:
    case Type::kRange:
      return json();
    case Type::kFunction:
      return to_typed_json();
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
      return v.is_int() ? std::to_string(v.as_int()) : v.as_decimal().text();
    case Type::kString:
      return std::string(v.str());
    case Type::kDate:
      return format_date(v.days());
    case Type::kTime:
      return format_time(v.nanos(), v.zone());
    case Type::kDateTime:
      return format_date_time(v.days(), v.nanos(), v.zone());
    case Type::kYearsMonths:
      return format_years_months(v.months());
    case Type::kDaysTime:
      return format_days_time(v.nanos());
    case Type::kList:
    case Type::kContext:
      return v.json().dump();
    case Type::kRange: {
      const Json& j = v.json();
      return (j["start included"].get<bool>() ? "[" : "(") + to_text(Value::borrow(j["start"])) +
             ".." + to_text(Value::borrow(j["end"])) + (j["end included"].get<bool>() ? "]" : ")");
    }
    case Type::kFunction:
      return "function";
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
  if (std::optional<Decimal> d = Decimal::parse(s)) return Value::decimal(*d);
  return std::nullopt;
}

std::optional<bool> equals(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return a.is_null() && b.is_null();
  if (a.type() != b.type()) return std::nullopt;
  switch (a.type()) {
    case Type::kBool:
      return a.as_bool() == b.as_bool();
    case Type::kList:
    case Type::kContext:
    case Type::kRange:
      return a.json() == b.json();
    case Type::kFunction:
      return a.as_int() == b.as_int();
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
    {
      // Doubles decide when they differ: rounding to the nearest double keeps order, so if
      // the doubles of two numbers differ, the numbers differ the same way.
      constexpr std::int64_t kExact = std::int64_t{1} << 53;  // ints a double holds exactly
      const auto exact = [](const Value& v) {
        return v.has_double() || (v.is_int() && v.as_int() > -kExact && v.as_int() < kExact);
      };
      const bool da = exact(a), db = exact(b);
      if (da && db) {
        const double x = a.is_int() ? static_cast<double>(a.as_int()) : a.source_double();
        const double y = b.is_int() ? static_cast<double>(b.as_int()) : b.source_double();
        if (x != y) return x < y ? -1 : 1;
      }
      return a.as_decimal().compare(b.as_decimal());
    }
    case Type::kString:
      return three_way(a.str(), b.str());
    case Type::kDate:
    case Type::kYearsMonths:
      return three_way(a.days(), b.days());
    case Type::kDaysTime:
      return three_way(a.nanos(), b.nanos());
    case Type::kTime: {
      // Zoned times compare as UTC times of day (a zone by name at its offset on 1970-01-01).
      if ((a.zone().kind == ZoneKind::kLocal) != (b.zone().kind == ZoneKind::kLocal)) {
        return std::nullopt;
      }
      const auto utc = [](const Value& v) {
        return floor_mod(v.nanos() - std::int64_t{offset_at_local(v.zone(), 0, v.nanos())} *
                                         kNanosPerSecond,
                         kNanosPerDay);
      };
      return three_way(utc(a), utc(b));
    }
    case Type::kDateTime: {
      if ((a.zone().kind == ZoneKind::kLocal) != (b.zone().kind == ZoneKind::kLocal)) {
        return std::nullopt;  // a local date and time is no instant
      }
      const DateTime x = to_utc(a.date_time_parts()), y = to_utc(b.date_time_parts());
      const int days = three_way(x.days, y.days);
      return days != 0 ? days : three_way(x.nanos, y.nanos);
    }
    default:
      return std::nullopt;
  }
}

}  // namespace ordo::expr
