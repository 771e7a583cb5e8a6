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
  return t == Type::kDateTime || t == Type::kDate;
}

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
  const double x = l.as_double(), y = r.as_double();
  if ((n.op == Op::kDiv || n.op == Op::kMod) && y == 0) {
    if ((n.flags & kStrict) != 0) return error("division by zero");
    note("division by zero");
    return {};
  }
  switch (n.op) {
    case Op::kAdd:
      return Value::number(x + y);
    case Op::kSub:
      return Value::number(x - y);
    case Op::kMul:
      return Value::number(x * y);
    case Op::kDiv:
      return Value::number(x / y);
    case Op::kMod:
      return Value::number(std::fmod(x, y));
    default:
      return Value::number(std::pow(x, y));
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
      if (is_temporal(lt) && rt == Type::kDuration) return shift(l, r.dur(), false);
      if (lt == Type::kDuration && is_temporal(rt)) return shift(r, l.dur(), false);
      if (lt == Type::kDuration && rt == Type::kDuration) return combine(l, r, 1);
      break;
    case Op::kSub:
      if (is_temporal(lt) && rt == Type::kDuration) return shift(l, r.dur(), true);
      if (is_temporal(lt) && lt == rt) return Value::duration(from_totals({0, l.ms() - r.ms()}));
      if (lt == Type::kDuration && rt == Type::kDuration) return combine(l, r, -1);
      break;
    case Op::kMul:
      if (lt == Type::kDuration && rt == Type::kNumber) return scale(l.dur(), r.as_double());
      if (lt == Type::kNumber && rt == Type::kDuration) return scale(r.dur(), l.as_double());
      break;
    case Op::kDiv:
      if (lt == Type::kDuration && rt == Type::kNumber && r.as_double() != 0) {
        return scale(l.dur(), 1 / r.as_double());
      }
      if (lt == Type::kDuration && rt == Type::kDuration) {
        DurationTotals a = totals(l.dur()), b = totals(r.dur());
        if (a.months == 0 && b.months == 0 && b.ms != 0) {
          return Value::number(static_cast<double>(a.ms) / static_cast<double>(b.ms));
        }
        if (a.ms == 0 && b.ms == 0 && b.months != 0) {
          return Value::number(static_cast<double>(a.months) / static_cast<double>(b.months));
        }
      }
      break;
    default:
      break;
  }
  note("cannot " + std::string(verb(n.op)) + " " + describe(l) + " and " + describe(r));
  return {};
}

Value Evaluator::shift(const Value& at, time::Duration d, bool minus) {
  if (minus) d.negative = !d.negative;
  const std::optional<std::int64_t> shifted = time::add_within(at.ms(), d);
  if (!shifted) return {};  // null: beyond the years 0000 to 9999
  const std::int64_t ms = *shifted;
  if (at.type() == Type::kDate) {
    constexpr std::int64_t kDay = 24 * 60 * 60 * 1000;
    return Value::date((ms >= 0 ? ms / kDay : (ms - kDay + 1) / kDay) * kDay);
  }
  return Value::date_time(ms);
}

Value Evaluator::combine(const Value& l, const Value& r, int sign) {
  DurationTotals a = totals(l.dur()), b = totals(r.dur());
  DurationTotals sum{a.months + sign * b.months, a.ms + sign * b.ms};
  if (sum.months != 0 && sum.ms != 0) {
    note("cannot combine a years-and-months duration with a days-and-time duration");
    return {};
  }
  return Value::duration(from_totals(sum));
}

Value Evaluator::scale(const time::Duration& d, double f) {
  DurationTotals t = totals(d);
  if (t.months != 0 && t.ms != 0) {
    note("cannot scale a duration with both months and days");
    return {};
  }
  const double months = static_cast<double>(t.months) * f, ms = static_cast<double>(t.ms) * f;
  // About 100,000 years either way: beyond that date arithmetic would overflow.
  if (!(std::fabs(months) < 1.2e6) || !(std::fabs(ms) < 3.2e15)) {
    note("the scaled duration is too large");
    return {};
  }
  return Value::duration(from_totals({std::llround(months), std::llround(ms)}));
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
