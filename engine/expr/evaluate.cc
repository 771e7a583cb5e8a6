// The evaluator's walk over the nodes: variables, paths, lists, logic, tests and calls; and
// the public evaluate() and evaluate_condition().
#include <array>
#include <atomic>
#include <cmath>
#include <map>
#include <type_traits>
#include <vector>

#include "expr/evaluator.h"
#include "expr/functions.h"

namespace ordo::expr {
namespace {

// Names bound to a context's entries point into the object being built: std::map nodes stay
// put as members are added (an ordered_json's vector would not).
template <typename T>
struct IsStdMap : std::false_type {};
template <typename K, typename V, typename C, typename A>
struct IsStdMap<std::map<K, V, C, A>> : std::true_type {};
static_assert(IsStdMap<Json::object_t>::value, "context entries are bound by pointer");

// A copy that owns its data, for values taken out of something about to go away.
Value detach(const Json& j) {
  Value v = Value::borrow(j);
  if (v.type() == Type::kString) return Value::owned_string(std::string(v.str()));
  if (v.type() == Type::kList || v.type() == Type::kContext || v.type() == Type::kRange) {
    return Value::owned(j);
  }
  return v;
}

// Member or element `j` of `base`: borrowed when `base` borrows, copied when it owns.
Value part_of(const Value& base, const Json& j) {
  return base.borrowed() != nullptr ? Value::borrow(j) : detach(j);
}

}  // namespace

Value Evaluator::eval(NodeIndex i) {
  const Node& n = p_.nodes[i];
  switch (n.op) {
    case Op::kConst:
      return Value::borrow(p_.constants[n.a]);
    case Op::kTemporal:
      return p_.temporals[n.a];
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
    case Op::kFor:
    case Op::kSome:
    case Op::kEvery:
      return iterate(n);
    case Op::kSpan: {
      Value holder;
      const Json* list = iterable(i, holder);
      return list == nullptr ? Value() : Value::owned(*list);
    }
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
      bool yes = (n.flags & kStrict) != 0 ? juel_bool(c) : c.type() == Type::kBool && c.as_bool();
      if (failed_) return {};
      return eval(yes ? n.b : n.c);
    }
    case Op::kBetween:
      return between(n);
    case Op::kInstanceOf:
      return instance_of(n);
    case Op::kLambda:
      return make_function(i);
    case Op::kCallValue:
      return call_value(n);
    case Op::kRange:
      return range(n);
    case Op::kIn:
      return in(n);
    case Op::kCall:
      return call(n);
    case Op::kCallUser:
      return call_user(n);
    case Op::kInput:
      return ctx_.input != nullptr ? Value::borrow(*ctx_.input) : Value();
    case Op::kNull:
      note(p_.constants[n.a].get<std::string>());
      return {};
    default:
      return {};  // tests are evaluated by in()
  }
}

Value Evaluator::var(NodeIndex i, const Node& n) {
  const std::string& name = p_.names[n.a];
  if (const Json* j = lookup(name)) return Value::borrow(*j);
  if ((n.flags & kStrict) != 0) return error("Cannot resolve identifier '" + name + "'");
  if (why_.empty() && missing_ == kNoNode) missing_ = i;
  return {};
}

Value Evaluator::member(const Node& n) {
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
    case Type::kRange:
      if (!strict && (name == "start" || name == "end")) return part_of(base, base.json()[name]);
      if (!strict && (name == "start included" || name == "end included")) {
        return Value::boolean(base.json()[name].get<bool>());
      }
      break;
    default:
      if (!strict) {
        bool found = false;
        Value v = temporal_property(base, name, found);
        if (found) return v;
      }
      break;
  }
  std::string msg = "cannot read '" + name + "' of " + describe(base);
  if (strict) return error(std::move(msg));
  note(std::move(msg));
  return {};
}

Value Evaluator::feel_index(const Node& n) {
  Value base = eval(n.a);
  if (failed_ || base.is_null()) return {};
  Json singleton;  // a value that is not a list is a list of one (DMN 10.3.2.9.4)
  if (base.type() != Type::kList) singleton = Json::array({typed(std::move(base))});
  const Json& list = singleton.is_array() ? singleton : base.json();
  Json out = Json::array();
  const Json* saved = item_;
  const std::size_t saved_mark = item_mark_;
  for (std::size_t k = 0; k < list.size(); ++k) {
    item_ = &list[k];
    item_mark_ = bound_.size();
    Value r = eval(n.b);
    item_ = saved;
    item_mark_ = saved_mark;
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
      return singleton.is_array() ? Value::adopt(std::move(singleton[at]))
                                  : part_of(base, list[at]);
    }
    if (r.type() == Type::kBool && r.as_bool()) out.push_back(list[k]);
  }
  return Value::owned(std::move(out));
}

Value Evaluator::juel_index(const Node& n) {
  Value base = eval(n.a);
  if (failed_) return {};
  Value key = eval(n.b);
  if (failed_ || base.is_null()) return {};
  if (base.type() == Type::kList) {
    std::optional<Value> i = key.type() == Type::kNumber   ? std::optional<Value>(key)
                             : key.type() == Type::kString ? parse_number(key.str())
                                                           : std::nullopt;
    if (!i || !i->is_int()) return error("a list index must be an integer, got " + describe(key));
    if (i->as_int() < 0 || static_cast<std::size_t>(i->as_int()) >= base.json().size()) return {};
    return part_of(base, base.json()[static_cast<std::size_t>(i->as_int())]);
  }
  if (base.type() == Type::kContext) {
    auto it = base.json().find(to_text(key));
    return it == base.json().end() ? Value() : part_of(base, *it);
  }
  return error("cannot index " + describe(base) + " with [" + to_text(key) + "]");
}

const Json* Evaluator::iterable(NodeIndex source, Value& holder) {
  const Node& s = p_.nodes[source];
  if (s.op == Op::kSpan) {
    Value from = eval(s.a);
    Value to = eval(s.b);
    if (failed_) return nullptr;
    const bool dates = from.type() == Type::kDate && to.type() == Type::kDate;  // day by day
    if (!dates && (from.type() != Type::kNumber || to.type() != Type::kNumber ||
                   !from.is_int() || !to.is_int())) {
      note("a range to iterate needs whole numbers (or dates) at both ends, got " +
           describe(from) + " and " + describe(to));
      return nullptr;
    }
    const std::int64_t a = dates ? from.days() : from.as_int();
    const std::int64_t b = dates ? to.days() : to.as_int();
    constexpr std::int64_t kMost = 1'000'000;  // a hostile range cannot exhaust memory
    std::int64_t span = 0;
    if (__builtin_sub_overflow(b, a, &span) || span >= kMost || span <= -kMost) {
      note("a range to iterate may hold at most " + std::to_string(kMost) + " values");
      return nullptr;
    }
    Json list = Json::array();
    for (std::int64_t k = a;; k += b >= a ? 1 : -1) {
      list.push_back(dates ? Value::date(k).to_typed_json() : Json(k));
      if (k == b) break;
    }
    holder = Value::owned(std::move(list));
    return &holder.json();
  }
  holder = eval(source);
  if (failed_) return nullptr;
  if (holder.type() != Type::kList) {
    if (holder.is_null()) return nullptr;
    note("'" + std::string(p_.span(s)) + "' is " + describe(holder) + ", not a list to iterate");
    return nullptr;
  }
  return &holder.json();
}

Value Evaluator::iterate(const Node& n) {
  const std::uint32_t names = n.arg_count / 2;
  // One list per name, evaluated when its turn comes (a later one may use an earlier name).
  std::vector<Value> holders(names);
  std::vector<const Json*> lists(names, nullptr);
  std::vector<std::size_t> at(names, 0);
  const std::size_t base = bound_.size();
  Json results = Json::array();
  bool any_true = false, any_false = false, any_other = false;
  std::uint32_t depth = 0;
  bool done = false;
  while (!done) {
    // Descend: bind the next name to the first element of its list.
    while (depth < names) {
      if (lists[depth] == nullptr) {
        lists[depth] = iterable(arg(n, 2 * depth + 1), holders[depth]);
        at[depth] = 0;
        if (failed_ || lists[depth] == nullptr) {
          bound_.resize(base);
          return {};
        }
      }
      if (at[depth] >= lists[depth]->size()) break;  // empty: nothing at this level
      bound_.resize(base + depth);
      bound_.emplace_back(p_.names[p_.nodes[arg(n, 2 * depth)].a], &(*lists[depth])[at[depth]]);
      ++depth;
    }
    if (depth == names) {
      // FEEL: `partial` in a for's body is the list of the results so far.
      if (n.op == Op::kFor) bound_.emplace_back("partial", &results);
      Value v = eval(n.a);
      if (n.op == Op::kFor) bound_.pop_back();
      if (failed_) {
        bound_.resize(base);
        return {};
      }
      if (n.op == Op::kFor) {
        results.push_back(typed(std::move(v)));  // partial reads them back as dates
      } else if (v.type() == Type::kBool) {
        (v.as_bool() ? any_true : any_false) = true;
      } else {
        any_other = true;
      }
      // some stops at the first true, every at the first false.
      if ((n.op == Op::kSome && any_true) || (n.op == Op::kEvery && any_false)) break;
    }
    // Ascend: the next element at the deepest level that has one. The levels below it are
    // evaluated again for it (a later list may use an earlier name).
    for (std::uint32_t k = depth; k < names; ++k) lists[k] = nullptr;
    for (;;) {
      if (depth == 0) {
        done = true;
        break;
      }
      --depth;
      if (++at[depth] < lists[depth]->size()) break;
      lists[depth] = nullptr;
    }
  }
  bound_.resize(base);
  switch (n.op) {
    case Op::kFor:
      untype_members(results);
      return Value::owned(std::move(results));
    case Op::kSome:
      return any_true ? Value::boolean(true) : any_other ? Value() : Value::boolean(false);
    default:  // kEvery
      return any_false ? Value::boolean(false) : any_other ? Value() : Value::boolean(true);
  }
}

Value Evaluator::build(const Node& n) {
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
  // FEEL: a context's entries see the entries before them by name ({a: 1, b: a + 1}); an
  // object's members stay put as others are added, so they can be bound while it grows.
  const std::size_t outer = bound_.size();
  for (std::uint32_t k = 0; k < n.arg_count; ++k) {
    if (n.op == Op::kContext) {
      const std::string& key = p_.constants[p_.nodes[arg(n, k)].a].get_ref<const std::string&>();
      Value v = eval(arg(n, ++k));
      if (failed_) {
        bound_.resize(outer);
        return {};
      }
      // Bound typed (a later entry reads a date as a date), made text at the end.
      Json& entry = out[key];
      entry = typed(std::move(v));
      if ((n.flags & kStrict) == 0) bound_.emplace_back(key, &entry);
    } else {
      Value v = eval(arg(n, k));
      if (failed_) return {};
      out.push_back(element(std::move(v)));
    }
  }
  bound_.resize(outer);
  if (n.op == Op::kContext) untype_members(out);
  return Value::owned(std::move(out));
}

Value Evaluator::unary(const Node& n) {
  Value v = eval(n.a);
  if (failed_) return {};
  const bool strict = (n.flags & kStrict) != 0;
  if (n.op == Op::kNot) return Value::boolean(!juel_bool(v));
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
    std::optional<Value> x = juel_number(v);
    if (!x) return {};
    v = *x;
  }
  if (v.type() == Type::kNumber) {
    if (v.is_int() && v.as_int() != INT64_MIN) return Value::integer(-v.as_int());
    return Value::decimal(-v.as_decimal());
  }
  if (v.type() == Type::kYearsMonths && v.months() != INT64_MIN) {
    return Value::years_months(-v.months());
  }
  if (v.type() == Type::kDaysTime && v.nanos() != INT64_MIN) return Value::days_time(-v.nanos());
  if (!v.is_null()) note("cannot negate " + describe(v));
  return {};
}

Value Evaluator::logic(const Node& n) {
  const bool is_and = n.op == Op::kAnd;
  Value l = eval(n.a);
  if (failed_) return {};
  if ((n.flags & kStrict) != 0) {
    const bool lb = juel_bool(l);
    if (failed_ || lb != is_and) return Value::boolean(lb);
    Value r = eval(n.b);
    if (failed_) return {};
    const bool rb = juel_bool(r);
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

Value Evaluator::between(const Node& n) {
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

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Whether `v` is an instance of the FEEL type written `type` ("number", "list<string>",
// "context<name: string, age: number>"); nullopt for a type FEEL does not know.
std::optional<bool> instance(const Value& v, std::string_view type) {
  type = trim(type);
  if (type == "Any") return !v.is_null();
  if (type == "Null") return v.is_null();
  const std::size_t lt = type.find('<');
  const std::string_view base = trim(type.substr(0, lt));
  if (lt != std::string_view::npos) {
    const std::size_t gt = type.rfind('>');
    if (gt == std::string_view::npos || gt < lt) return std::nullopt;
    const std::string_view inner = type.substr(lt + 1, gt - lt - 1);
    if (base == "function") return false;  // FEEL text has no function values here
    if (v.is_null()) return false;
    if (base == "list") {
      if (v.type() != Type::kList) return false;
      for (const Json& e : v.json()) {
        const Value element = Value::borrow(e);
        if (!element.is_null() && instance(element, inner) != true) return false;
      }
      return true;
    }
    if (base == "range") {
      if (v.type() != Type::kRange) return false;
      for (const char* end : {"start", "end"}) {
        const Value e = Value::borrow(v.json()[end]);
        if (!e.is_null() && instance(e, inner) != true) return false;
      }
      return true;
    }
    if (base == "context") {  // each "name: type" entry present and of its type
      if (v.type() != Type::kContext) return false;
      int depth = 0;
      std::size_t from = 0;
      for (std::size_t i = 0; i <= inner.size(); ++i) {
        const char c = i < inner.size() ? inner[i] : ',';
        if (c == '<') ++depth;
        if (c == '>') --depth;
        if (c != ',' || depth != 0) continue;
        const std::string_view entry = inner.substr(from, i - from);
        from = i + 1;
        const std::size_t colon = entry.find(':');
        if (colon == std::string_view::npos) return std::nullopt;
        auto it = v.json().find(std::string(trim(entry.substr(0, colon))));
        if (it == v.json().end()) return false;
        const Value member = Value::borrow(*it);
        if (!member.is_null() && instance(member, entry.substr(colon + 1)) != true) return false;
      }
      return true;
    }
    return std::nullopt;
  }
  for (std::string_view known : {"number", "string", "boolean", "date", "time", "date and time",
                                 "days and time duration", "years and months duration", "list",
                                 "context", "range"}) {
    if (type == known) return !v.is_null() && type_name(v.type()) == known;
  }
  if (type == "function") return false;
  return std::nullopt;
}

}  // namespace

Value Evaluator::range(const Node& n) {
  Value low = eval(n.a);
  if (failed_) return {};
  Value high = eval(n.b);
  if (failed_) return {};
  if ((n.flags & kUnaryRange) == 0 && (low.is_null() || high.is_null())) {
    note("a range needs both ends: write (< 10) for everything below 10");
    return {};
  }
  if (!low.is_null() && !high.is_null() && !compare(low, high)) {
    note("a range from " + describe(low) + " to " + describe(high) +
         ": its ends cannot be compared");
    return {};
  }
  return Value::range(low, high, (n.flags & kOpenStart) == 0, (n.flags & kOpenEnd) == 0);
}

Value Evaluator::instance_of(const Node& n) {
  Value v = eval(n.a);
  if (failed_) return {};
  const std::string& type = p_.constants[p_.nodes[n.b].a].get_ref<const std::string&>();
  const std::optional<bool> r = instance(v, type);
  if (!r) {
    note("'" + type + "' is no FEEL type (number, string, boolean, date, time, date and time, "
         "days and time duration, years and months duration, list<T>, context, range<T>, Any)");
    return {};
  }
  return Value::boolean(*r);
}

Value Evaluator::in(const Node& n) {
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

std::optional<bool> Evaluator::test(const Node& t, const Value& v) {
  Value e = eval(t.a);
  if (failed_) return false;
  switch (t.op) {
    case Op::kTestEq:
      if ((t.flags & kUsesInput) != 0 && e.type() == Type::kBool) return e.as_bool();
      if (e.type() == Type::kList && v.type() != Type::kList) {  // an element, or in one
        for (const Json& j : e.json()) {
          const Value element = Value::borrow(j);
          if (element.type() == Type::kRange ? in_range(v, element) == true
                                             : equals(element, v) == true) {
            return true;
          }
        }
        return false;
      }
      if (e.type() == Type::kRange && v.type() != Type::kRange) return in_range(v, e);
      // A value of another type is not equal: `true in [false, 2]` is false, not null.
      return equals(v, e).value_or(false);
    case Op::kTestNe: {
      const std::optional<bool> same = equals(v, e);
      if (!same) return std::nullopt;
      return !*same;
    }
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

Value Evaluator::call(const Node& n) {
  switch (n.fn) {
    case Builtin::kNow:
      return Value::instant_ms(ctx_.now_ms);
    case Builtin::kToday:  // the date now, in UTC
      return Value::date(floor_div(ctx_.now_ms, 86'400'000));
    case Builtin::kIsDefined: {
      const Node& a = p_.nodes[arg(n, 0)];
      if (a.op == Op::kVar) return Value::boolean(lookup(p_.names[a.a]) != nullptr);
      if (a.op == Op::kMember) {
        Value base = eval(a.a);
        if (failed_) return {};
        return Value::boolean(base.type() == Type::kContext && base.json().contains(p_.names[a.b]));
      }
      Value v = eval(arg(n, 0));
      return failed_ ? Value() : Value::boolean(!v.is_null());
    }
    case Builtin::kSort:
      return sort(n);
    case Builtin::kListReplace: {  // list replace(list, match function, new item)
      Value list = eval(arg(n, 0));
      if (failed_) return {};
      Value match = eval(arg(n, 1));
      if (failed_) return {};
      Value item = eval(arg(n, 2));
      if (failed_) return {};
      if (!list.is_null() && list.type() != Type::kList) {  // one value: a list of one
        Value one = Value::owned(Json::array({element(std::move(list))}));
        list = std::move(one);
      }
      if (match.type() == Type::kFunction) return replace_matching(list, match, item);
      std::array<Value, 3> a{std::move(list), std::move(match), std::move(item)};
      return call_builtin(n.fn, a, CallSite{builtin_name(n.fn), why_slot()});
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

Value Evaluator::make_function(NodeIndex i) {
  constexpr std::size_t kMostFunctions = 10'000;
  if (closures_.size() >= kMostFunctions) {
    return error("more than " + std::to_string(kMostFunctions) + " functions made in `" +
                 p_.text + "`");
  }
  if (closures_.empty()) {  // ids of this evaluation's functions: none from elsewhere match
    static std::atomic<std::int64_t> evaluations{0};
    function_base_ = ((evaluations.fetch_add(1, std::memory_order_relaxed) & 0xFFFFFFFF) + 1)
                     << 16;
  }
  Closure c;
  c.node = i;
  c.captured.reserve(bound_.size());
  for (const auto& [name, value] : bound_) {
    if (name != "partial") c.captured.emplace_back(std::string(name), *value);
  }
  closures_.push_back(std::make_unique<Closure>(std::move(c)));
  return Value::function(function_base_ + static_cast<std::int64_t>(closures_.size() - 1));
}

Value Evaluator::invoke(const Value& fn, std::vector<Value>& args,
                        const std::vector<std::string>& names) {
  // Each call may nest the body's own depth (kMaxTreeDepth) of evaluation: 32 keep the
  // stack well within a server thread's.
  constexpr int kMaxCallDepth = 32;
  const std::int64_t index = fn.as_int() - function_base_;
  if (fn.type() != Type::kFunction || closures_.empty() || index < 0 ||
      static_cast<std::size_t>(index) >= closures_.size()) {
    note("cannot call " + describe(fn) + ": it is not a function of this expression");
    return {};
  }
  if (call_depth_ >= kMaxCallDepth) {
    return error("functions call each other more than " + std::to_string(kMaxCallDepth) +
                 " deep in `" + p_.text + "`");
  }
  const Closure& c = *closures_[static_cast<std::size_t>(index)];
  const Node& lambda = p_.nodes[c.node];
  // The parameters' values, by position or by name; missing ones are null.
  std::deque<Json> values;
  std::vector<std::pair<std::string_view, const Json*>> params;
  for (std::uint32_t k = 0; k < lambda.arg_count; ++k) {
    const std::string& param = p_.constants[p_.nodes[arg(lambda, k)].a].get_ref<const std::string&>();
    std::size_t from = k;
    if (!names.empty()) {
      from = static_cast<std::size_t>(std::find(names.begin(), names.end(), param) - names.begin());
    }
    values.push_back(from < args.size() ? typed(std::move(args[from])) : Json(nullptr));
    params.emplace_back(param, &values.back());
  }
  if (names.empty() && args.size() > lambda.arg_count) {
    note("the function takes " + std::to_string(lambda.arg_count) + " arguments, got " +
         std::to_string(args.size()));
    return {};
  }
  const std::size_t mark = bound_.size();
  const Json* saved_item = item_;
  const std::size_t saved_mark = item_mark_;
  for (const auto& [name, value] : c.captured) bound_.emplace_back(name, &value);
  for (const auto& p : params) bound_.push_back(p);
  item_ = nullptr;
  ++call_depth_;
  Value r = eval(lambda.a);
  --call_depth_;
  bound_.resize(mark);
  item_ = saved_item;
  item_mark_ = saved_mark;
  if (failed_) return {};
  // The result may borrow from `values` or the closure: a copy that owns what it holds.
  if (r.type() == Type::kString) return Value::owned_string(std::string(r.str()));
  if (r.borrowed() != nullptr) return Value::owned(*r.borrowed());
  return r;
}

Value Evaluator::invoke_with(const Value& fn, const Node& n) {
  const bool named = (n.flags & kNamedArgs) != 0;
  std::vector<Value> args;
  std::vector<std::string> names;
  for (std::uint32_t k = 0; k < n.arg_count; ++k) {
    if (named) names.push_back(p_.constants[p_.nodes[arg(n, k++)].a].get<std::string>());
    args.push_back(eval(arg(n, k)));
    if (failed_) return {};
  }
  if (fn.is_null()) return {};
  // A function value from outside this expression (a DMN context's function entry): the
  // caller's functions call it.
  if (fn.type() == Type::kContext && typed_kind(fn.json()) == "function" &&
      ctx_.functions != nullptr) {
    std::vector<Json> values;
    for (Value& a : args) values.push_back(element(std::move(a)));
    std::optional<Result<Json>> r = ctx_.functions->call_value(fn.json(), values, names, ctx_);
    if (!r) {
      note("cannot call " + describe(fn) + ": it is no function this evaluation knows");
      return {};
    }
    if (!r->is_ok()) return error(r->status().message());
    return Value::adopt(std::move(**r));
  }
  return invoke(fn, args, names);
}

Value Evaluator::call_value(const Node& n) {
  Value fn = eval(n.a);
  if (failed_) return {};
  return invoke_with(fn, n);
}

Value Evaluator::sort(const Node& n) {
  Value list = eval(arg(n, 0));
  if (failed_) return {};
  Value precedes;
  if (n.arg_count > 1) {
    precedes = eval(arg(n, 1));
    if (failed_) return {};
    if (precedes.type() != Type::kFunction) {
      note("sort() takes a function as its second argument, e.g. function(x, y) x < y");
      return {};
    }
  }
  if (list.type() != Type::kList) {
    if (!list.is_null()) note("sort() takes a list, got " + describe(list));
    return {};
  }
  const Json& items = list.json();
  // A merge sort that asks the function only about pairs: correct for any answers (a
  // function that is no ordering gives some order, never undefined behaviour).
  std::vector<std::size_t> order(items.size()), scratch(items.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  bool ok = true;
  const auto before = [&](std::size_t a, std::size_t b) {
    if (!ok) return false;
    if (precedes.is_null()) {
      const std::optional<int> c = compare(Value::borrow(items[b]), Value::borrow(items[a]));
      if (!c) ok = false;
      return c.value_or(0) > 0;
    }
    std::vector<Value> args{Value::borrow(items[a]), Value::borrow(items[b])};
    const Value r = invoke(precedes, args, {});
    if (failed_ || r.type() != Type::kBool) ok = false;
    return ok && r.as_bool();
  };
  for (std::size_t width = 1; width < order.size() && ok; width *= 2) {
    for (std::size_t lo = 0; lo < order.size(); lo += 2 * width) {
      const std::size_t mid = std::min(lo + width, order.size());
      const std::size_t hi = std::min(lo + 2 * width, order.size());
      std::size_t i = lo, j = mid, out = lo;
      while (i < mid && j < hi) scratch[out++] = before(order[j], order[i]) ? order[j++] : order[i++];
      while (i < mid) scratch[out++] = order[i++];
      while (j < hi) scratch[out++] = order[j++];
    }
    order.swap(scratch);
  }
  if (failed_) return {};
  if (!ok) {
    note("sort(): the elements cannot be compared, or the function did not answer true or false");
    return {};
  }
  Json out = Json::array();
  for (std::size_t k : order) out.push_back(items[k]);
  return Value::owned(std::move(out));
}

Value Evaluator::replace_matching(const Value& list, const Value& match, const Value& item) {
  if (list.type() != Type::kList) {
    note("list replace() takes a list, got " + describe(list));
    return {};
  }
  Json out = Json::array();
  const Json replacement = typed(Value(item));
  for (const Json& e : list.json()) {
    std::vector<Value> args{Value::borrow(e), item};
    const Value hit = invoke(match, args, {});
    if (failed_) return {};
    if (hit.type() != Type::kBool) {
      note("list replace(): the match function must answer true or false, got " + describe(hit));
      return {};
    }
    out.push_back(hit.as_bool() ? replacement : e);
  }
  untype_members(out);
  return Value::owned(std::move(out));
}

Value Evaluator::call_user(const Node& n) {
  const std::string& name = p_.names[n.a];
  const bool named = (n.flags & kNamedArgs) != 0;
  // A function value bound to the name ({f: function(x) ..., r: f(2)}) comes first.
  if (const Json* bound = lookup(name); bound != nullptr && typed_kind(*bound) == "function") {
    return invoke_with(Value::borrow(*bound), n);
  }
  std::vector<Json> args;
  std::vector<std::string> names;
  args.reserve(named ? n.arg_count / 2 : n.arg_count);
  for (std::uint32_t k = 0; k < n.arg_count; ++k) {
    if (named) names.push_back(p_.constants[p_.nodes[arg(n, k++)].a].get<std::string>());
    Value v = eval(arg(n, k));
    if (failed_) return {};
    args.push_back(element(std::move(v)));
  }
  std::optional<Result<Json>> r;
  if (ctx_.functions != nullptr) r = ctx_.functions->call(name, args, names, ctx_);
  if (!r) {  // a misspelt name is an error, not a silent null
    if (!failed_) {
      failed_ = true;
      status_ = Status::invalid_argument("there is no function '" + name +
                                         "': no built-in, business knowledge model or decision "
                                         "service has that name, in `" + p_.text + "`");
    }
    return {};
  }
  if (!r->is_ok()) {  // an error inside the function is the caller's error
    if (!failed_) {
      failed_ = true;
      status_ = r->status();
    }
    return {};
  }
  return Value::adopt(std::move(**r));
}

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

Result<nlohmann::json> evaluate_typed(const CompiledExpression& e, const Context& ctx) {
  try {
    Evaluator ev(e, ctx, true);
    Value v = ev.eval(e.root);
    if (ev.failed()) return ev.status();
    return ev.element(std::move(v));
  } catch (const std::exception& ex) {
    return Status::invalid_argument("cannot evaluate `" + e.text + "`: " + ex.what());
  }
}

Result<bool> evaluate_tests(const CompiledExpression& e, const Context& ctx) {
  try {
    Evaluator ev(e, ctx, true);
    Value v = ev.eval(e.root);
    if (ev.failed()) return ev.status();
    return v.type() == Type::kBool && v.as_bool();
  } catch (const std::exception& ex) {
    return Status::invalid_argument("cannot evaluate the test `" + e.text + "`: " + ex.what());
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
