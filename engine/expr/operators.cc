// The evaluator's operators: arithmetic and comparison for FEEL (null when the types do not
// fit) and JUEL (EL coercions; an error when they fail).
#include <cmath>

#include "expr/evaluator.h"

namespace ordo::expr {
namespace {

std::string_view verb(Op op) {
  switch (op) {
    case Op::kAdd:
      return "add";
    case Op::kSub:
      return "subtract";
    case Op::kMul:
      return "multiply";
    case Op::kDiv:
      return "divide";
    case Op::kMod:
      return "take the remainder of";
    default:
      return "raise";
  }
}

bool is_temporal(Type t) {
  return t == Type::kDateTime || t == Type::kDate || t == Type::kTime;
}

// The days of -999999999-01-01 and 999999999-12-31.
const std::int64_t kMinDays = days_from_civil(-kMaxYear, 1, 1);
const std::int64_t kMaxDays = days_from_civil(kMaxYear, 12, 31);

}  // namespace

Value Evaluator::binary(const Node& n) {
  Value l = eval(n.a);
  if (failed_) return {};
  Value r = eval(n.b);
  if (failed_) return {};
  const bool strict = (n.flags & kStrict) != 0;
  switch (n.op) {
    case Op::kEq:
    case Op::kNe: {
      std::optional<bool> e = strict ? juel_equals(l, r) : equals(l, r);
      if (failed_) return {};
      if (!e) {
        note("cannot compare " + describe(l) + " with " + describe(r));
        return {};
      }
      return Value::boolean(n.op == Op::kEq ? *e : !*e);
    }
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: {
      if (strict) return juel_order(n, l, r);
      if (l.is_null() || r.is_null()) {
        note("cannot compare " + describe(l) + " with " + describe(r) + " using '" +
             (n.op == Op::kLt   ? "<"
              : n.op == Op::kLe ? "<="
              : n.op == Op::kGt ? ">"
                                : ">=") +
             "'");
        return {};
      }
      std::optional<int> c = compare(l, r);
      if (!c) {
        note("cannot compare " + describe(l) + " with " + describe(r));
        return {};
      }
      return Value::boolean(holds(n.op, *c));
    }
    default:
      return strict ? juel_arith(n, l, r) : feel_arith(n, l, r);
  }
}

Value Evaluator::numeric(const Node& n, const Value& l, const Value& r) {
  if (l.is_int() && r.is_int()) {
    const std::int64_t a = l.as_int(), b = r.as_int();
    std::int64_t out = 0;
    switch (n.op) {
      case Op::kAdd:
        if (!__builtin_add_overflow(a, b, &out)) return Value::integer(out);
        break;
      case Op::kSub:
        if (!__builtin_sub_overflow(a, b, &out)) return Value::integer(out);
        break;
      case Op::kMul:
        if (!__builtin_mul_overflow(a, b, &out)) return Value::integer(out);
        break;
      case Op::kDiv:
        if (b != 0 && b != -1 && a % b == 0) return Value::integer(a / b);
        break;
      case Op::kMod:
        if (b != 0 && b != -1) return Value::integer(a % b);
        if (b == -1) return Value::integer(0);
        break;
      default:
        break;
    }
  }
  const Decimal x = l.as_decimal(), y = r.as_decimal();
  if ((n.op == Op::kDiv || n.op == Op::kMod) && y.is_zero()) {
    if ((n.flags & kStrict) != 0) return error("division by zero");
    note("division by zero");
    return {};
  }
  switch (n.op) {
    case Op::kAdd:
      return Value::decimal(x + y);
    case Op::kSub:
      return Value::decimal(x - y);
    case Op::kMul:
      return Value::decimal(x * y);
    case Op::kDiv:
      return Value::decimal(x / y);
    case Op::kMod:  // JUEL's %: the sign of the dividend, as Java's
      return Value::decimal(x - y * (x / y).round(0, Rounding::kDown));
    default: {
      // A whole exponent: exact, as far as 34 digits go; otherwise through binary floating
      // point (FEEL leaves the precision of such powers to the implementation).
      if (r.is_int() && r.as_int() >= -10'000 && r.as_int() <= 10'000) {
        std::optional<Decimal> p = x.pow(r.as_int());
        if (!p) {
          note("the power is too large");
          return {};
        }
        return Value::decimal(*p);
      }
      return Value::number(std::pow(l.as_double(), r.as_double()));
    }
  }
}

Value Evaluator::feel_arith(const Node& n, const Value& l, const Value& r) {
  if (l.is_null() || r.is_null()) return {};
  const Type lt = l.type(), rt = r.type();
  if (lt == Type::kNumber && rt == Type::kNumber) return numeric(n, l, r);
  switch (n.op) {
    case Op::kAdd:
      if (lt == Type::kString && rt == Type::kString) {
        std::string s;
        s.reserve(l.str().size() + r.str().size());
        s.append(l.str()).append(r.str());
        return Value::owned_string(std::move(s));
      }
      if (is_temporal(lt) && r.is_duration()) return shift(l, r, false);
      if (l.is_duration() && is_temporal(rt)) return shift(r, l, false);
      if (l.is_duration() && r.is_duration()) return combine(l, r, 1);
      break;
    case Op::kSub:
      if (is_temporal(lt) && r.is_duration()) return shift(l, r, true);
      if (is_temporal(lt) && is_temporal(rt)) return between_times(l, r);
      if (l.is_duration() && r.is_duration()) return combine(l, r, -1);
      break;
    case Op::kMul:
      if (l.is_duration() && rt == Type::kNumber) return scale(l, r.as_double());
      if (lt == Type::kNumber && r.is_duration()) return scale(r, l.as_double());
      break;
    case Op::kDiv:
      if (l.is_duration() && rt == Type::kNumber) {
        if (r.as_double() == 0) {
          note("division by zero");
          return {};
        }
        return scale(l, 1 / r.as_double());
      }
      if (lt == rt && lt == Type::kDaysTime && r.nanos() != 0) {
        return Value::number(static_cast<double>(l.nanos()) / static_cast<double>(r.nanos()));
      }
      if (lt == rt && lt == Type::kYearsMonths && r.months() != 0) {
        return Value::number(static_cast<double>(l.months()) / static_cast<double>(r.months()));
      }
      break;
    default:
      break;
  }
  note("cannot " + std::string(verb(n.op)) + " " + describe(l) + " and " + describe(r));
  return {};
}

Value Evaluator::shift(const Value& at, const Value& d, bool minus) {
  if (at.type() == Type::kTime) {
    if (d.type() != Type::kDaysTime) {
      note("cannot move a time of day by " + describe(d));
      return {};
    }
    const std::int64_t by = floor_mod(d.nanos(), kNanosPerDay);
    return Value::time_of_day(floor_mod(at.nanos() + (minus ? -by : by), kNanosPerDay),
                              at.zone());
  }
  if ((d.type() == Type::kYearsMonths ? d.months() : d.nanos()) == INT64_MIN) {
    note("the duration is too long");
    return {};
  }
  if (d.type() == Type::kYearsMonths) {  // by the calendar, in local time
    const std::optional<std::int64_t> days =
        add_months(at.days(), minus ? -d.months() : d.months());
    if (!days) {
      note("the date lies beyond the year 999,999,999");
      return {};
    }
    if (at.type() == Type::kDate) return Value::date(*days);
    return Value::date_time(DateTime{*days, at.nanos(), at.zone()});
  }
  // Days and time: on the time line (an instant in a zone by name moves in UTC).
  const std::int64_t by = minus ? -d.nanos() : d.nanos();
  const DateTime start = at.date_time_parts();
  DateTime moved;
  if (start.zone.kind == ZoneKind::kId) {
    const DateTime utc = to_utc(start);
    // Whole days and the rest apart, so no sum overflows.
    moved = from_utc(utc.days + floor_div(by, kNanosPerDay),
                     utc.nanos + floor_mod(by, kNanosPerDay), start.zone);
  } else {
    moved = normalized(start.days + floor_div(by, kNanosPerDay),
                       start.nanos + floor_mod(by, kNanosPerDay), start.zone);
  }
  if (moved.days < kMinDays || moved.days > kMaxDays) {
    note("the date lies beyond the year 999,999,999");
    return {};
  }
  if (at.type() == Type::kDate) return Value::date(moved.days);
  return Value::date_time(moved);
}

Value Evaluator::between_times(const Value& l, const Value& r) {
  const Type lt = l.type(), rt = r.type();
  if (lt == Type::kTime || rt == Type::kTime) {
    if (lt != rt || (l.zone().kind == ZoneKind::kLocal) != (r.zone().kind == ZoneKind::kLocal)) {
      note("cannot subtract " + describe(r) + " from " + describe(l));
      return {};
    }
    const auto utc = [](const Value& v) {
      return v.nanos() - std::int64_t{offset_at_local(v.zone(), 0, v.nanos())} * kNanosPerSecond;
    };
    return Value::days_time(utc(l) - utc(r));
  }
  const DateTime a = l.date_time_parts(), b = r.date_time_parts();
  if (lt == Type::kDate && rt == Type::kDate) {
    const std::optional<std::int64_t> d = nanos_between(a, b);
    if (!d) {
      note("the time between " + describe(l) + " and " + describe(r) + " is too long");
      return {};
    }
    return Value::days_time(*d);
  }
  if ((a.zone.kind == ZoneKind::kLocal) != (b.zone.kind == ZoneKind::kLocal)) {
    note("cannot subtract " + describe(r) + " from " + describe(l) +
         ": one has a time zone, the other not");
    return {};
  }
  const std::optional<std::int64_t> d = nanos_between(to_utc(a), to_utc(b));
  if (!d) {
    note("the time between " + describe(l) + " and " + describe(r) + " is too long");
    return {};
  }
  return Value::days_time(*d);
}

Value Evaluator::combine(const Value& l, const Value& r, int sign) {
  if (l.type() != r.type()) {
    note("cannot combine a years and months duration with a days and time duration");
    return {};
  }
  const bool months = l.type() == Type::kYearsMonths;
  const std::int64_t a = months ? l.months() : l.nanos(), b = months ? r.months() : r.nanos();
  std::int64_t out = 0;
  if (sign > 0 ? __builtin_add_overflow(a, b, &out) : __builtin_sub_overflow(a, b, &out)) {
    note("the duration is too long");
    return {};
  }
  return months ? Value::years_months(out) : Value::days_time(out);
}

Value Evaluator::scale(const Value& d, double f) {
  const bool months = d.type() == Type::kYearsMonths;
  const double v = static_cast<double>(months ? d.months() : d.nanos()) * f;
  if (!(std::fabs(v) < 9.2e18)) {
    note("the scaled duration is too long");
    return {};
  }
  const std::int64_t out = months ? static_cast<std::int64_t>(std::trunc(v)) : std::llround(v);
  return months ? Value::years_months(out) : Value::days_time(out);
}

bool Evaluator::juel_bool(const Value& v) {
  switch (v.type()) {
    case Type::kNull:
      return false;
    case Type::kBool:
      return v.as_bool();
    case Type::kString:
      if (v.str().size() == 4 && (v.str() == "true" || v.str() == "True" || v.str() == "TRUE")) {
        return true;
      }
      if (v.str() == "false" || v.str() == "False" || v.str() == "FALSE" || v.str().empty()) {
        return false;
      }
      break;
    default:
      break;
  }
  error("cannot use " + describe(v) + " as a boolean");
  return false;
}

std::optional<Value> Evaluator::juel_number(const Value& v) {
  switch (v.type()) {
    case Type::kNull:
      return Value::integer(0);
    case Type::kNumber:
      return v;
    case Type::kString:
      if (auto x = parse_number(v.str())) return x;
      break;
    default:
      break;
  }
  error("cannot convert " + describe(v) + " to a number");
  return std::nullopt;
}

Value Evaluator::juel_arith(const Node& n, const Value& l, const Value& r) {
  std::optional<Value> a = juel_number(l);
  if (!a) return {};
  std::optional<Value> b = juel_number(r);
  if (!b) return {};
  return numeric(n, *a, *b);
}

std::optional<bool> Evaluator::juel_equals(const Value& l, const Value& r) {
  if (l.is_null() || r.is_null()) return l.is_null() && r.is_null();
  if (l.type() == Type::kNumber || r.type() == Type::kNumber) {
    std::optional<Value> a = juel_number(l);
    if (!a) return std::nullopt;
    std::optional<Value> b = juel_number(r);
    if (!b) return std::nullopt;
    return compare(*a, *b) == 0;
  }
  if (l.type() == Type::kBool || r.type() == Type::kBool) {
    const bool a = juel_bool(l), b = juel_bool(r);
    if (failed_) return std::nullopt;
    return a == b;
  }
  if (l.type() == Type::kString || r.type() == Type::kString) return to_text(l) == to_text(r);
  return equals(l, r).value_or(false);
}

Value Evaluator::juel_order(const Node& n, const Value& l, const Value& r) {
  if (l.is_null() || r.is_null()) return Value::boolean(false);
  std::optional<int> c;
  if (l.type() == Type::kNumber || r.type() == Type::kNumber) {
    std::optional<Value> a = juel_number(l);
    if (!a) return {};
    std::optional<Value> b = juel_number(r);
    if (!b) return {};
    c = compare(*a, *b);
  } else {
    c = compare(l, r);
  }
  if (!c) return error("cannot compare " + describe(l) + " with " + describe(r));
  return Value::boolean(holds(n.op, *c));
}

}  // namespace ordo::expr
