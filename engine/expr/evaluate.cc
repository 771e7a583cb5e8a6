// The evaluator: walks the compiled nodes. Nodes flagged kStrict (JUEL) follow EL rules and
// turn type errors into an evaluation error; the others follow FEEL, where such a value is
// null and the first reason is remembered for the message of a failed condition.
#include <array>
#include <cmath>
#include <vector>

#include "expr/ast.h"
#include "expr/expr.h"
#include "expr/functions.h"
#include "expr/value.h"

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

bool holds(Op op, int c) {
  switch (op) {
    case Op::kLt:
    case Op::kTestLt:
      return c < 0;
    case Op::kLe:
    case Op::kTestLe:
      return c <= 0;
    case Op::kGt:
    case Op::kTestGt:
      return c > 0;
    default:
      return c >= 0;
  }
}

bool is_temporal(Type t) {
  return t == Type::kDateTime || t == Type::kDate;
}

// A copy that owns its data, for values taken out of something about to go away.
Value detach(const Json& j) {
  Value v = Value::borrow(j);
  if (v.type() == Type::kString) return Value::owned_string(std::string(v.str()));
  if (v.type() == Type::kList || v.type() == Type::kContext) return Value::owned(j);
  return v;
}

// Member or element `j` of `base`: borrowed when `base` borrows, copied when it owns.
Value part_of(const Value& base, const Json& j) {
  return base.borrowed() != nullptr ? Value::borrow(j) : detach(j);
}

class Evaluator {
 public:
  Evaluator(const CompiledExpression& p, const Context& ctx) : p_(p), ctx_(ctx) {}

  bool failed() const noexcept { return failed_; }
  const Status& status() const noexcept { return status_; }

  // Why a FEEL result is null, when something went wrong on the way ("" when unknown).
  std::string explain_null() const {
    if (missing_ != kNoNode) {
      return "is variable '" + p_.names[p_.nodes[missing_].a] + "' set?";
    }
    return why_;
  }

  Value eval(NodeIndex i) {
    const Node& n = p_.nodes[i];
    switch (n.op) {
      case Op::kConst:
        return Value::borrow(p_.constants[n.a]);
      case Op::kDateTime:
        return Value::date_time(n.number);
      case Op::kDate:
        return Value::date(n.number);
      case Op::kDuration:
        return Value::duration(p_.durations[n.a]);
      case Op::kVar:
        return var(i, n);
      case Op::kMember:
        return member(n);
      case Op::kIndex:
        return (n.flags & kStrict) != 0 ? juel_index(n) : feel_index(n);
      case Op::kList:
      case Op::kContext:
      case Op::kConcat:
        return build(n);
      case Op::kNeg:
      case Op::kNot:
      case Op::kEmpty:
        return unary(n);
      case Op::kAdd:
      case Op::kSub:
      case Op::kMul:
      case Op::kDiv:
      case Op::kMod:
      case Op::kPow:
      case Op::kEq:
      case Op::kNe:
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe:
        return binary(n);
      case Op::kAnd:
      case Op::kOr:
        return logic(n);
      case Op::kIf: {
        Value c = eval(n.a);
        if (failed_) return {};
        bool yes =
            (n.flags & kStrict) != 0 ? juel_bool(n, c) : c.type() == Type::kBool && c.as_bool();
        if (failed_) return {};
        return eval(yes ? n.b : n.c);
      }
      case Op::kBetween:
        return between(n);
      case Op::kIn:
        return in(n);
      case Op::kCall:
        return call(n);
      default:
        return {};  // tests are evaluated by in()
    }
  }

 private:
  Value error(const Node& n, std::string message) {
    (void)n;
    if (!failed_) {
      failed_ = true;
      status_ = Status::invalid_argument(message + " in `" + p_.text + "`");
    }
    return {};
  }
  void note(std::string why) {
    if (why_.empty() && missing_ == kNoNode) why_ = std::move(why);
  }
  std::string* why_slot() { return why_.empty() && missing_ == kNoNode ? &why_ : nullptr; }
  NodeIndex arg(const Node& n, std::uint32_t k) const { return p_.args[n.first_arg + k]; }

  const Json* lookup(std::string_view name) const {
    if (item_ != nullptr) {
      if (name == "item") return item_;
      if (item_->is_object()) {
        auto it = item_->find(name);
        if (it != item_->end()) return &*it;
      }
    }
    return ctx_.variables != nullptr ? ctx_.variables->find(name) : nullptr;
  }

  Value var(NodeIndex i, const Node& n) {
    const std::string& name = p_.names[n.a];
    if (const Json* j = lookup(name)) return Value::borrow(*j);
    if ((n.flags & kStrict) != 0) return error(n, "Cannot resolve identifier '" + name + "'");
    if (why_.empty() && missing_ == kNoNode) missing_ = i;
    return {};
  }

  Value member(const Node& n) {
    Value base = eval(n.a);
    if (failed_) return {};
    const std::string& name = p_.names[n.b];
    const bool strict = (n.flags & kStrict) != 0;
    switch (base.type()) {
      case Type::kNull:
        return {};
      case Type::kContext: {
        auto it = base.json().find(name);
        if (it == base.json().end()) {
          if (!strict) note("'" + std::string(p_.span(p_.nodes[n.a])) + "' has no '" + name + "'");
          return {};
        }
        return part_of(base, *it);
      }
      case Type::kList:
        if (!strict) {  // FEEL: the member of each element
          Json out = Json::array();
          for (const Json& e : base.json()) {
            auto it = e.is_object() ? e.find(name) : e.end();
            out.push_back(e.is_object() && it != e.end() ? *it : Json(nullptr));
          }
          return Value::owned(std::move(out));
        }
        break;
      default:
        break;
    }
    std::string msg = "cannot read '" + name + "' of " + describe(base);
    if (strict) return error(n, std::move(msg));
    note(std::move(msg));
    return {};
  }

  // FEEL list[n] (1-based, negative from the end) or list[condition] (a filter).
  Value feel_index(const Node& n) {
    Value base = eval(n.a);
    if (failed_ || base.is_null()) return {};
    if (base.type() != Type::kList) {
      note("cannot index " + describe(base) + "; only lists have elements");
      return {};
    }
    const Json& list = base.json();
    Json out = Json::array();
    const Json* saved = item_;
    for (std::size_t k = 0; k < list.size(); ++k) {
      item_ = &list[k];
      Value r = eval(n.b);
      item_ = saved;
      if (failed_) return {};
      if (k == 0 && r.type() == Type::kNumber) {  // an index, not a filter
        const double d = r.as_double();
        const auto size = static_cast<double>(list.size());
        if (d != std::floor(d) || d == 0 || d > size || d < -size) {
          note("index " + to_text(r) + " is outside the list of " + std::to_string(list.size()) +
               " (FEEL counts from 1)");
          return {};
        }
        const auto at = static_cast<std::size_t>(d > 0 ? d - 1 : size + d);
        return part_of(base, list[at]);
      }
      if (r.type() == Type::kBool && r.as_bool()) out.push_back(list[k]);
    }
    return Value::owned(std::move(out));
  }

  // JUEL list[i] (0-based) or map["key"].
  Value juel_index(const Node& n) {
    Value base = eval(n.a);
    if (failed_) return {};
    Value key = eval(n.b);
    if (failed_ || base.is_null()) return {};
    if (base.type() == Type::kList) {
      std::optional<Value> i = key.type() == Type::kNumber   ? std::optional<Value>(key)
                               : key.type() == Type::kString ? parse_number(key.str())
                                                             : std::nullopt;
      if (!i || !i->is_int())
        return error(n, "a list index must be an integer, got " + describe(key));
      if (i->as_int() < 0 || static_cast<std::size_t>(i->as_int()) >= base.json().size()) return {};
      return part_of(base, base.json()[static_cast<std::size_t>(i->as_int())]);
    }
    if (base.type() == Type::kContext) {
      auto it = base.json().find(to_text(key));
      return it == base.json().end() ? Value() : part_of(base, *it);
    }
    return error(n, "cannot index " + describe(base) + " with [" + to_text(key) + "]");
  }

  Value build(const Node& n) {
    if (n.op == Op::kConcat) {
      std::string out;
      for (std::uint32_t k = 0; k < n.arg_count; ++k) {
        Value v = eval(arg(n, k));
        if (failed_) return {};
        if (!v.is_null()) out += to_text(v);
      }
      return Value::owned_string(std::move(out));
    }
    Json out = n.op == Op::kList ? Json::array() : Json::object();
    for (std::uint32_t k = 0; k < n.arg_count; ++k) {
      if (n.op == Op::kContext) {
        const std::string& key = p_.constants[p_.nodes[arg(n, k)].a].get_ref<const std::string&>();
        Value v = eval(arg(n, ++k));
        if (failed_) return {};
        out[key] = std::move(v).to_json();
      } else {
        Value v = eval(arg(n, k));
        if (failed_) return {};
        out.push_back(std::move(v).to_json());
      }
    }
    return Value::owned(std::move(out));
  }

  Value unary(const Node& n) {
    Value v = eval(n.a);
    if (failed_) return {};
    const bool strict = (n.flags & kStrict) != 0;
    if (n.op == Op::kNot) return Value::boolean(!juel_bool(n, v));
    if (n.op == Op::kEmpty) {
      switch (v.type()) {
        case Type::kNull:
          return Value::boolean(true);
        case Type::kString:
          return Value::boolean(v.str().empty());
        case Type::kList:
        case Type::kContext:
          return Value::boolean(v.json().empty());
        default:
          return Value::boolean(false);
      }
    }
    if (strict) {
      std::optional<Value> x = juel_number(n, v);
      if (!x) return {};
      v = *x;
    }
    if (v.type() == Type::kNumber) {
      if (v.is_int() && v.as_int() != INT64_MIN) return Value::integer(-v.as_int());
      return Value::number(-v.as_double());
    }
    if (v.type() == Type::kDuration) {
      time::Duration d = v.dur();
      d.negative = !d.negative;
      return Value::duration(d);
    }
    if (!v.is_null()) note("cannot negate " + describe(v));
    return {};
  }

  Value binary(const Node& n) {
    Value l = eval(n.a);
    if (failed_) return {};
    Value r = eval(n.b);
    if (failed_) return {};
    const bool strict = (n.flags & kStrict) != 0;
    switch (n.op) {
      case Op::kEq:
      case Op::kNe: {
        std::optional<bool> e = strict ? juel_equals(n, l, r) : equals(l, r);
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

  Value numeric(const Node& n, const Value& l, const Value& r) {
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
      if ((n.flags & kStrict) != 0) return error(n, "division by zero");
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

  Value feel_arith(const Node& n, const Value& l, const Value& r) {
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

  static Value shift(const Value& at, time::Duration d, bool minus) {
    if (minus) d.negative = !d.negative;
    const std::int64_t ms = time::add(at.ms(), d);
    if (at.type() == Type::kDate) {
      constexpr std::int64_t kDay = 24 * 60 * 60 * 1000;
      return Value::date((ms >= 0 ? ms / kDay : (ms - kDay + 1) / kDay) * kDay);
    }
    return Value::date_time(ms);
  }

  Value combine(const Value& l, const Value& r, int sign) {
    DurationTotals a = totals(l.dur()), b = totals(r.dur());
    DurationTotals sum{a.months + sign * b.months, a.ms + sign * b.ms};
    if (sum.months != 0 && sum.ms != 0) {
      note("cannot combine a years-and-months duration with a days-and-time duration");
      return {};
    }
    return Value::duration(from_totals(sum));
  }

  Value scale(const time::Duration& d, double f) {
    DurationTotals t = totals(d);
    if (t.months != 0 && t.ms != 0) {
      note("cannot scale a duration with both months and days");
      return {};
    }
    return Value::duration(from_totals({std::llround(static_cast<double>(t.months) * f),
                                        std::llround(static_cast<double>(t.ms) * f)}));
  }

  Value logic(const Node& n) {
    const bool is_and = n.op == Op::kAnd;
    Value l = eval(n.a);
    if (failed_) return {};
    if ((n.flags & kStrict) != 0) {
      const bool lb = juel_bool(n, l);
      if (failed_ || lb != is_and) return Value::boolean(lb);
      Value r = eval(n.b);
      if (failed_) return {};
      const bool rb = juel_bool(n, r);
      return failed_ ? Value() : Value::boolean(rb);
    }
    // FEEL: false decides 'and', true decides 'or', whatever the other side; else null.
    auto decides = [&](const Value& v) { return v.type() == Type::kBool && v.as_bool() != is_and; };
    if (decides(l)) return Value::boolean(!is_and);
    Value r = eval(n.b);
    if (failed_) return {};
    if (decides(r)) return Value::boolean(!is_and);
    if (l.type() == Type::kBool && r.type() == Type::kBool) return Value::boolean(is_and);
    for (const Value* v : {&l, &r}) {
      if (!v->is_null() && v->type() != Type::kBool) {
        note(std::string(is_and ? "'and'" : "'or'") + " needs booleans, got " + describe(*v));
      }
    }
    return {};
  }

  Value between(const Node& n) {
    Value v = eval(n.a);
    if (failed_) return {};
    Value low = eval(n.b);
    if (failed_) return {};
    Value high = eval(n.c);
    if (failed_) return {};
    std::optional<int> a = compare(low, v), b = compare(v, high);
    if ((a && *a > 0) || (b && *b > 0)) return Value::boolean(false);
    if (a && b) return Value::boolean(true);
    note("cannot compare " + describe(v) + " with " + describe(low) + " and " + describe(high));
    return {};
  }

  Value in(const Node& n) {
    Value v = eval(arg(n, 0));
    if (failed_) return {};
    bool unknown = false;
    for (std::uint32_t k = 1; k < n.arg_count; ++k) {
      std::optional<bool> r = test(p_.nodes[arg(n, k)], v);
      if (failed_) return {};
      if (r == true) return Value::boolean(true);
      unknown = unknown || !r;
    }
    return unknown ? Value() : Value::boolean(false);
  }

  std::optional<bool> test(const Node& t, const Value& v) {
    Value e = eval(t.a);
    if (failed_) return false;
    switch (t.op) {
      case Op::kTestEq:
        if (e.type() == Type::kList && v.type() != Type::kList) {
          for (const Json& j : e.json()) {
            if (equals(Value::borrow(j), v) == true) return true;
          }
          return false;
        }
        return equals(v, e);
      case Op::kTestRange: {
        Value high = eval(t.b);
        if (failed_) return false;
        std::optional<int> a = compare(v, e), b = compare(v, high);
        if (!a || !b) {
          note("cannot compare " + describe(v) + " with the range " + std::string(p_.span(t)));
          return std::nullopt;
        }
        const bool after_start = (t.flags & kOpenStart) != 0 ? *a > 0 : *a >= 0;
        const bool before_end = (t.flags & kOpenEnd) != 0 ? *b < 0 : *b <= 0;
        return after_start && before_end;
      }
      default: {
        std::optional<int> c = compare(v, e);
        if (!c) {
          note("cannot compare " + describe(v) + " with " + describe(e));
          return std::nullopt;
        }
        return holds(t.op, *c);
      }
    }
  }

  [[gnu::noinline]] Value call(const Node& n) {
    switch (n.fn) {
      case Builtin::kNow:
        return Value::date_time(ctx_.now_ms);
      case Builtin::kIsDefined: {
        const Node& a = p_.nodes[arg(n, 0)];
        if (a.op == Op::kVar) return Value::boolean(lookup(p_.names[a.a]) != nullptr);
        if (a.op == Op::kMember) {
          Value base = eval(a.a);
          if (failed_) return {};
          return Value::boolean(base.type() == Type::kContext &&
                                base.json().contains(p_.names[a.b]));
        }
        Value v = eval(arg(n, 0));
        return failed_ ? Value() : Value::boolean(!v.is_null());
      }
      case Builtin::kNot: {
        Value v = eval(arg(n, 0));
        if (failed_) return {};
        if (v.type() == Type::kBool) return Value::boolean(!v.as_bool());
        if (!v.is_null()) note("not() needs a boolean, got " + describe(v));
        return {};
      }
      default:
        break;
    }
    constexpr std::uint32_t kInline = 4;
    std::array<Value, kInline> small;
    std::vector<Value> large;
    Value* args = small.data();
    if (n.arg_count > kInline) {
      large.resize(n.arg_count);
      args = large.data();
    }
    for (std::uint32_t k = 0; k < n.arg_count; ++k) {
      args[k] = eval(arg(n, k));
      if (failed_) return {};
    }
    return call_builtin(n.fn, std::span<Value>(args, n.arg_count),
                        CallSite{builtin_name(n.fn), why_slot()});
  }

  // --- JUEL (EL) coercions: a value that does not fit is an error.

  bool juel_bool(const Node& n, const Value& v) {
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
    error(n, "cannot use " + describe(v) + " as a boolean");
    return false;
  }

  std::optional<Value> juel_number(const Node& n, const Value& v) {
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
    error(n, "cannot convert " + describe(v) + " to a number");
    return std::nullopt;
  }

  Value juel_arith(const Node& n, const Value& l, const Value& r) {
    std::optional<Value> a = juel_number(n, l);
    if (!a) return {};
    std::optional<Value> b = juel_number(n, r);
    if (!b) return {};
    return numeric(n, *a, *b);
  }

  std::optional<bool> juel_equals(const Node& n, const Value& l, const Value& r) {
    if (l.is_null() || r.is_null()) return l.is_null() && r.is_null();
    if (l.type() == Type::kNumber || r.type() == Type::kNumber) {
      std::optional<Value> a = juel_number(n, l);
      if (!a) return std::nullopt;
      std::optional<Value> b = juel_number(n, r);
      if (!b) return std::nullopt;
      return compare(*a, *b) == 0;
    }
    if (l.type() == Type::kBool || r.type() == Type::kBool) {
      const bool a = juel_bool(n, l), b = juel_bool(n, r);
      if (failed_) return std::nullopt;
      return a == b;
    }
    if (l.type() == Type::kString || r.type() == Type::kString) return to_text(l) == to_text(r);
    return equals(l, r).value_or(false);
  }

  Value juel_order(const Node& n, const Value& l, const Value& r) {
    if (l.is_null() || r.is_null()) return Value::boolean(false);
    std::optional<int> c;
    if (l.type() == Type::kNumber || r.type() == Type::kNumber) {
      std::optional<Value> a = juel_number(n, l);
      if (!a) return {};
      std::optional<Value> b = juel_number(n, r);
      if (!b) return {};
      c = compare(*a, *b);
    } else {
      c = compare(l, r);
    }
    if (!c) return error(n, "cannot compare " + describe(l) + " with " + describe(r));
    return Value::boolean(holds(n.op, *c));
  }

  const CompiledExpression& p_;
  const Context& ctx_;
  const Json* item_ = nullptr;  // FEEL filter: the element being tested
  bool failed_ = false;
  Status status_;
  std::string why_;
  NodeIndex missing_ = kNoNode;  // the first unset variable (FEEL)
};

}  // namespace

Result<nlohmann::json> evaluate(const CompiledExpression& e, const Context& ctx) {
  try {
    Evaluator ev(e, ctx);
    Value v = ev.eval(e.root);
    if (ev.failed()) return ev.status();
    return std::move(v).to_json();
  } catch (const std::exception& ex) {  // nlohmann (e.g. invalid UTF-8), allocation
    return Status::invalid_argument("cannot evaluate `" + e.text + "`: " + ex.what());
  }
}

Result<bool> evaluate_condition(const CompiledExpression& e, const Context& ctx) {
  try {
    Evaluator ev(e, ctx);
    Value v = ev.eval(e.root);
    if (ev.failed()) return ev.status();
    if (v.type() == Type::kBool) return v.as_bool();
    std::string msg = "condition `" + e.text + "` evaluated to " + describe(v) + ", not a boolean";
    if (v.is_null()) {
      std::string why = ev.explain_null();
      if (!why.empty()) msg += " (" + why + ")";
    }
    return Status::invalid_argument(std::move(msg));
  } catch (const std::exception& ex) {
    return Status::invalid_argument("cannot evaluate condition `" + e.text + "`: " + ex.what());
  }
}

}  // namespace ordo::expr
