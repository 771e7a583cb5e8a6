// FEEL's range functions (DMN 1.4, 10.3.4.9): before, after, meets, met by, overlaps,
// overlaps before, overlaps after, finishes, finished by, includes, during, starts, started by
// and coincides, over points (any comparable value) and ranges. A range's missing end is
// unbounded ((< 10) starts at minus infinity).
#include <optional>

#include "expr/functions.h"
#include "expr/value.h"

namespace ordo::expr {
namespace {

// One end of a range, or a point: a value, or an infinity for an unbounded end.
struct End {
  Value v;
  int infinity = 0;  // -1: minus infinity, +1: plus infinity
  bool included = true;
};

struct Span {
  End start, end;
};

// a <=> b; nullopt when the values cannot be compared.
std::optional<int> cmp(const End& a, const End& b) {
  if (a.infinity != 0 || b.infinity != 0) {
    if (a.infinity == b.infinity) return 0;
    return a.infinity < b.infinity ? -1 : 1;
  }
  return compare(a.v, b.v);
}

Span span_of(const Value& r) {
  const Json& j = r.json();
  Span s;
  s.start.v = Value::borrow(j["start"]);
  s.end.v = Value::borrow(j["end"]);
  s.start.included = j["start included"].get<bool>();
  s.end.included = j["end included"].get<bool>();
  if (s.start.v.is_null()) s.start.infinity = -1;
  if (s.end.v.is_null()) s.end.infinity = 1;
  return s;
}

Span point_span(const Value& p) {
  Span s;
  s.start.v = p;
  s.end.v = p;
  return s;
}

// The relations, written with comparisons that may be unknown (nullopt): a three-valued
// logic where an unknown comparison makes the answer null unless the rest decides it.
class Logic {
 public:
  // x < y, x = y, x > y as booleans; unknown when not comparable.
  std::optional<bool> lt(const End& x, const End& y) { return map(cmp(x, y), [](int c) { return c < 0; }); }
  std::optional<bool> eq(const End& x, const End& y) { return map(cmp(x, y), [](int c) { return c == 0; }); }
  std::optional<bool> gt(const End& x, const End& y) { return map(cmp(x, y), [](int c) { return c > 0; }); }

  static std::optional<bool> all(std::initializer_list<std::optional<bool>> xs) {
    bool unknown = false;
    for (const auto& x : xs) {
      if (x == false) return false;
      unknown = unknown || !x;
    }
    return unknown ? std::nullopt : std::optional<bool>(true);
  }
  static std::optional<bool> any(std::initializer_list<std::optional<bool>> xs) {
    bool unknown = false;
    for (const auto& x : xs) {
      if (x == true) return true;
      unknown = unknown || !x;
    }
    return unknown ? std::nullopt : std::optional<bool>(false);
  }
  static std::optional<bool> is(bool b) { return b; }

 private:
  template <typename F>
  static std::optional<bool> map(std::optional<int> c, F f) {
    if (!c) return std::nullopt;
    return f(*c);
  }
};

using B = std::optional<bool>;

// r1 before r2 (points are ranges of one value, both ends included).
B before(const Span& a, const Span& b) {
  Logic l;
  return Logic::any({l.lt(a.end, b.start),
                     Logic::all({Logic::is(!a.end.included || !b.start.included),
                                 l.eq(a.end, b.start)})});
}

B meets(const Span& a, const Span& b) {
  Logic l;
  return Logic::all({Logic::is(a.end.included && b.start.included), l.eq(a.end, b.start)});
}

B overlaps(const Span& a, const Span& b) {
  Logic l;
  return Logic::all(
      {Logic::any({l.gt(a.end, b.start),
                   Logic::all({l.eq(a.end, b.start), Logic::is(a.end.included && b.start.included)})}),
       Logic::any({l.lt(a.start, b.end),
                   Logic::all({l.eq(a.start, b.end), Logic::is(a.start.included && b.end.included)})})});
}

B overlaps_before(const Span& a, const Span& b) {
  Logic l;
  return Logic::all(
      {Logic::any({l.lt(a.start, b.start),
                   Logic::all({l.eq(a.start, b.start),
                               Logic::is(a.start.included && !b.start.included)})}),
       Logic::any({l.gt(a.end, b.start),
                   Logic::all({l.eq(a.end, b.start), Logic::is(a.end.included && b.start.included)})}),
       Logic::any({l.lt(a.end, b.end),
                   Logic::all({l.eq(a.end, b.end), Logic::is(!a.end.included || b.end.included)})})});
}

// a includes b.
B includes(const Span& a, const Span& b) {
  Logic l;
  return Logic::all(
      {Logic::any({l.lt(a.start, b.start),
                   Logic::all({l.eq(a.start, b.start),
                               Logic::is(a.start.included || !b.start.included)})}),
       Logic::any({l.gt(a.end, b.end),
                   Logic::all({l.eq(a.end, b.end), Logic::is(a.end.included || !b.end.included)})})});
}

// a finishes b.
B finishes(const Span& a, const Span& b) {
  Logic l;
  return Logic::all(
      {Logic::is(a.end.included == b.end.included), l.eq(a.end, b.end),
       Logic::any({l.gt(a.start, b.start),
                   Logic::all({l.eq(a.start, b.start),
                               Logic::is(!a.start.included || b.start.included)})})});
}

// a starts b.
B starts(const Span& a, const Span& b) {
  Logic l;
  return Logic::all(
      {Logic::is(a.start.included == b.start.included), l.eq(a.start, b.start),
       Logic::any({l.lt(a.end, b.end),
                   Logic::all({l.eq(a.end, b.end), Logic::is(!a.end.included || b.end.included)})})});
}

}  // namespace

Value range_function(Builtin fn, std::span<Value> args, const CallSite& site) {
  for (const Value& a : args) {
    if (a.is_null()) return null_because(site, std::string(site.name) + "() of null");
  }
  const bool r1 = args[0].type() == Type::kRange, r2 = args[1].type() == Type::kRange;
  const Span a = r1 ? span_of(args[0]) : point_span(args[0]);
  const Span b = r2 ? span_of(args[1]) : point_span(args[1]);
  Logic l;
  B r;
  switch (fn) {
    case Builtin::kBefore:
      r = before(a, b);
      break;
    case Builtin::kAfter:
      r = before(b, a);
      break;
    case Builtin::kMeets:
    case Builtin::kMetBy:
      if (!r1 || !r2) return wrong_type(site, "two ranges", r1 ? args[1] : args[0]);
      r = fn == Builtin::kMeets ? meets(a, b) : meets(b, a);
      break;
    case Builtin::kOverlaps:
    case Builtin::kOverlapsBefore:
    case Builtin::kOverlapsAfter:
      if (!r1 || !r2) return wrong_type(site, "two ranges", r1 ? args[1] : args[0]);
      r = fn == Builtin::kOverlaps         ? overlaps(a, b)
          : fn == Builtin::kOverlapsBefore ? overlaps_before(a, b)
                                           : overlaps_before(b, a);
      break;
    case Builtin::kFinishes:  // point or range finishes a range
      if (!r2) return wrong_type(site, "a range second", args[1]);
      r = r1 ? finishes(a, b) : Logic::all({Logic::is(b.end.included), l.eq(b.end, a.end)});
      break;
    case Builtin::kFinishedBy:  // a range finished by a point or range
      if (!r1) return wrong_type(site, "a range first", args[0]);
      r = r2 ? finishes(b, a) : Logic::all({Logic::is(a.end.included), l.eq(a.end, b.end)});
      break;
    case Builtin::kIncludes:
      if (!r1) return wrong_type(site, "a range first", args[0]);
      r = includes(a, b);
      break;
    case Builtin::kDuring:
      if (!r2) return wrong_type(site, "a range second", args[1]);
      r = includes(b, a);
      break;
    case Builtin::kStarts:
      if (!r2) return wrong_type(site, "a range second", args[1]);
      r = r1 ? starts(a, b) : Logic::all({Logic::is(b.start.included), l.eq(b.start, a.start)});
      break;
    case Builtin::kStartedBy:
      if (!r1) return wrong_type(site, "a range first", args[0]);
      r = r2 ? starts(b, a) : Logic::all({Logic::is(a.start.included), l.eq(a.start, b.start)});
      break;
    default:  // kCoincides
      if (r1 != r2) return wrong_type(site, "two points or two ranges", args[1]);
      r = Logic::all({l.eq(a.start, b.start), l.eq(a.end, b.end),
                      Logic::is(a.start.included == b.start.included &&
                                a.end.included == b.end.included)});
      break;
  }
  if (!r) return null_because(site, std::string(site.name) + "(): the values cannot be compared");
  return Value::boolean(*r);
}

}  // namespace ordo::expr
