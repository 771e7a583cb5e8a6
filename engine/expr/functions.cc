#include "expr/functions.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <optional>
#include <limits>
#include <vector>

#include "expr/value.h"

namespace ordo::expr {
namespace {

constexpr BuiltinInfo kBuiltins[] = {
    {"not", Builtin::kNot, 1, 1, "negand"},
    {"is defined", Builtin::kIsDefined, 1, 1, "value"},
    {"now", Builtin::kNow, 0, 0, ""},
    {"today", Builtin::kToday, 0, 0, ""},
    {"sort", Builtin::kSort, 1, 2, "list,precedes"},
    {"string", Builtin::kString, 1, 1, "from"},
    {"number", Builtin::kNumber, 1, 1, "from"},
    {"decimal", Builtin::kDecimal, 2, 2, "n,scale"},
    {"floor", Builtin::kFloor, 1, 2, "n,scale"},
    {"ceiling", Builtin::kCeiling, 1, 2, "n,scale"},
    {"round up", Builtin::kRoundUp, 2, 2, "n,scale"},
    {"round down", Builtin::kRoundDown, 2, 2, "n,scale"},
    {"round half up", Builtin::kRoundHalfUp, 2, 2, "n,scale"},
    {"round half down", Builtin::kRoundHalfDown, 2, 2, "n,scale"},
    {"abs", Builtin::kAbs, 1, 1, "n"},
    {"modulo", Builtin::kModulo, 2, 2, "dividend,divisor"},
    {"sqrt", Builtin::kSqrt, 1, 1, "number"},
    {"log", Builtin::kLog, 1, 1, "number"},
    {"exp", Builtin::kExp, 1, 1, "number"},
    {"odd", Builtin::kOdd, 1, 1, "number"},
    {"even", Builtin::kEven, 1, 1, "number"},
    {"string length", Builtin::kStringLength, 1, 1, "string"},
    {"substring", Builtin::kSubstring, 2, 3, "string,start position,length"},
    {"substring before", Builtin::kSubstringBefore, 2, 2, "string,match"},
    {"substring after", Builtin::kSubstringAfter, 2, 2, "string,match"},
    {"upper case", Builtin::kUpperCase, 1, 1, "string"},
    {"lower case", Builtin::kLowerCase, 1, 1, "string"},
    {"contains", Builtin::kContains, 2, 2, "string,match"},
    {"starts with", Builtin::kStartsWith, 2, 2, "string,match"},
    {"ends with", Builtin::kEndsWith, 2, 2, "string,match"},
    {"string join", Builtin::kStringJoin, 1, 2, "list,delimiter"},
    {"matches", Builtin::kMatches, 2, 3, "input,pattern,flags"},
    {"replace", Builtin::kReplace, 3, 4, "input,pattern,replacement,flags"},
    {"split", Builtin::kSplit, 2, 2, "string,delimiter"},
    {"count", Builtin::kCount, 1, 1, "list"},
    {"sum", Builtin::kSum, 1, kVariadic, "list"},
    {"min", Builtin::kMin, 1, kVariadic, "list"},
    {"max", Builtin::kMax, 1, kVariadic, "list"},
    {"mean", Builtin::kMean, 1, kVariadic, "list"},
    {"product", Builtin::kProduct, 1, kVariadic, "list"},
    {"median", Builtin::kMedian, 1, kVariadic, "list"},
    {"stddev", Builtin::kStddev, 1, kVariadic, "list"},
    {"mode", Builtin::kMode, 1, kVariadic, "list"},
    {"all", Builtin::kAll, 1, kVariadic, "list"},
    {"any", Builtin::kAny, 1, kVariadic, "list"},
    {"list contains", Builtin::kListContains, 2, 2, "list,element"},
    {"append", Builtin::kAppend, 1, kVariadic, "list,item"},
    {"concatenate", Builtin::kConcatenate, 1, kVariadic, "list"},
    {"distinct values", Builtin::kDistinctValues, 1, 1, "list"},
    {"flatten", Builtin::kFlatten, 1, 1, "list"},
    {"index of", Builtin::kIndexOf, 2, 2, "list,match"},
    {"reverse", Builtin::kReverse, 1, 1, "list"},
    {"remove", Builtin::kRemove, 2, 2, "list,position"},
    {"insert before", Builtin::kInsertBefore, 3, 3, "list,position,newItem"},
    {"list replace", Builtin::kListReplace, 3, 3, "list,position,newItem"},
    {"sublist", Builtin::kSublist, 2, 3, "list,start position,length"},
    {"union", Builtin::kUnion, 1, kVariadic, "lists"},
    {"get value", Builtin::kGetValue, 2, 2, "m,key"},
    {"get entries", Builtin::kGetEntries, 1, 1, "m"},
    {"context", Builtin::kContext, 1, 1, "entries"},
    {"context put", Builtin::kContextPut, 3, 3, "context,key,value"},
    {"context merge", Builtin::kContextMerge, 1, 1, "contexts"},
    {"day of week", Builtin::kDayOfWeek, 1, 1, "date"},
    {"day of year", Builtin::kDayOfYear, 1, 1, "date"},
    {"week of year", Builtin::kWeekOfYear, 1, 1, "date"},
    {"month of year", Builtin::kMonthOfYear, 1, 1, "date"},
    {"date and time", Builtin::kDateAndTime, 1, 2, "from"},
    {"date", Builtin::kDate, 1, 3, "from"},
    {"time", Builtin::kTime, 1, 4, "from"},
    {"duration", Builtin::kDuration, 1, 1, "from"},
    {"years and months duration", Builtin::kYearsAndMonthsDuration, 2, 2, "from,to"},
    {"before", Builtin::kBefore, 2, 2, "point1,point2"},
    {"after", Builtin::kAfter, 2, 2, "point1,point2"},
    {"meets", Builtin::kMeets, 2, 2, "range1,range2"},
    {"met by", Builtin::kMetBy, 2, 2, "range1,range2"},
    {"overlaps", Builtin::kOverlaps, 2, 2, "range1,range2"},
    {"overlaps before", Builtin::kOverlapsBefore, 2, 2, "range1,range2"},
    {"overlaps after", Builtin::kOverlapsAfter, 2, 2, "range1,range2"},
    {"finishes", Builtin::kFinishes, 2, 2, "point,range"},
    {"finished by", Builtin::kFinishedBy, 2, 2, "range,point"},
    {"includes", Builtin::kIncludes, 2, 2, "range,point"},
    {"during", Builtin::kDuring, 2, 2, "point,range"},
    {"starts", Builtin::kStarts, 2, 2, "point,range"},
    {"started by", Builtin::kStartedBy, 2, 2, "range,point"},
    {"coincides", Builtin::kCoincides, 2, 2, "point1,point2"},
};

// A number with its fraction cut off (a scale of 2.5 is 2, as the TCK expects); nullopt for
// what is no finite number of a sane size.
std::optional<std::int64_t> truncated(const Value& v) {
  if (v.type() != Type::kNumber) return std::nullopt;
  if (v.is_int()) return v.as_int();
  const double d = v.as_double();
  if (!std::isfinite(d) || std::fabs(d) > 9007199254740992.0) return std::nullopt;
  return static_cast<std::int64_t>(std::trunc(d));
}

}  // namespace

Value null_because(const CallSite& site, const std::string& what) {
  if (site.why != nullptr && site.why->empty()) *site.why = what;
  return Value();
}

Value wrong_type(const CallSite& site, std::string_view expected, const Value& got) {
  return null_because(site, std::string(site.name) + "() expects " + std::string(expected) +
                                ", got " + describe(got));
}

std::optional<std::int64_t> whole(const Value& v) {
  if (v.type() != Type::kNumber) return std::nullopt;
  if (v.is_int()) return v.as_int();
  const double d = v.as_double();
  if (std::trunc(d) != d || std::fabs(d) > 9007199254740992.0) return std::nullopt;
  return static_cast<std::int64_t>(d);
}

namespace {

// string join(list, delimiter?): the strings of the list, nulls left out, joined by the
// delimiter (none when absent or null); an element that is not a string makes it null.
Value string_join(std::span<Value> args, const CallSite& site) {
  if (args[0].type() != Type::kList) return wrong_type(site, "a list of strings", args[0]);
  std::string_view delimiter;
  if (args.size() == 2 && !args[1].is_null()) {
    if (args[1].type() != Type::kString) return wrong_type(site, "a string delimiter", args[1]);
    delimiter = args[1].str();
  }
  std::string out;
  bool first = true;
  for (const Json& j : args[0].json()) {
    if (j.is_null()) continue;
    if (!j.is_string()) {
      return null_because(site, std::string(site.name) + "() joins strings only; the list holds " +
                                    describe(Value::borrow(j)));
    }
    if (!first) out.append(delimiter);
    first = false;
    out.append(j.get_ref<const std::string&>());
  }
  return Value::owned_string(std::move(out));
}

// Calls `f` for each item: the elements of a single list argument, or the arguments.
template <typename F>
void for_items(std::span<Value> args, F&& f) {
  if (args.size() == 1 && args[0].type() == Type::kList) {
    for (const Json& j : args[0].json()) f(Value::borrow(j));
  } else {
    for (const Value& v : args) f(v);
  }
}

// A position or length argument as an integer, clamped so huge values cannot overflow.
std::int64_t whole(double d) {
  constexpr double kLimit = 9007199254740992.0;  // 2^53
  if (!(d > -kLimit)) return -static_cast<std::int64_t>(kLimit);
  if (!(d < kLimit)) return static_cast<std::int64_t>(kLimit);
  return static_cast<std::int64_t>(std::floor(d));
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// Byte offset of code point `cp` (clamped to the end).
std::size_t byte_offset(std::string_view s, std::size_t cp) {
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (cp == 0) return i;
      --cp;
    }
  }
  return s.size();
}

Value substring(std::span<Value> args, const CallSite& site) {
  if (args[0].type() != Type::kString) return wrong_type(site, "a string", args[0]);
  if (args[1].type() != Type::kNumber) return wrong_type(site, "a start position", args[1]);
  std::string_view s = args[0].str();
  const auto n = static_cast<std::int64_t>(code_points(s));
  const auto start = whole(args[1].as_double());
  std::int64_t from = start > 0 ? start - 1 : n + start;
  if (start == 0 || from < 0 || from > n)
    return null_because(site, "substring() start out of range");
  std::int64_t count = n - from;
  if (args.size() == 3) {
    if (args[2].type() != Type::kNumber) return wrong_type(site, "a length", args[2]);
    count = std::min(count, whole(args[2].as_double()));
    if (count < 0) return null_because(site, "substring() length is negative");
  }
  std::size_t b = byte_offset(s, static_cast<std::size_t>(from));
  std::size_t e = byte_offset(s, static_cast<std::size_t>(from + count));
  return Value::owned_string(std::string(s.substr(b, e - b)));
}

Value two_strings(Builtin fn, std::span<Value> args, const CallSite& site) {
  if (args[0].type() != Type::kString) return wrong_type(site, "a string", args[0]);
  if (args[1].type() != Type::kString) return wrong_type(site, "a string", args[1]);
  std::string_view s = args[0].str(), m = args[1].str();
  switch (fn) {
    case Builtin::kContains:
      return Value::boolean(s.find(m) != std::string_view::npos);
    case Builtin::kStartsWith:
      return Value::boolean(s.starts_with(m));
    case Builtin::kEndsWith:
      return Value::boolean(s.ends_with(m));
    case Builtin::kSubstringBefore: {
      std::size_t at = s.find(m);
      return Value::owned_string(at == std::string_view::npos ? "" : std::string(s.substr(0, at)));
    }
    default: {  // kSubstringAfter
      std::size_t at = s.find(m);
      return Value::owned_string(
          at == std::string_view::npos ? "" : std::string(s.substr(at + m.size())));
    }
  }
}

Value change_case(std::span<Value> args, bool upper, const CallSite& site) {
  if (args[0].type() != Type::kString) return wrong_type(site, "a string", args[0]);
  std::string s(args[0].str());
  for (char& c : s) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return Value::owned_string(std::move(s));
}

Value sum_or_mean(std::span<Value> args, bool mean, const CallSite& site) {
  std::int64_t isum = 0, count = 0;
  Decimal dsum;
  bool exact = true;
  std::string bad;
  for_items(args, [&](const Value& v) {
    if (!bad.empty()) return;
    if (v.type() != Type::kNumber) {
      bad = describe(v);
      return;
    }
    ++count;
    std::int64_t next = 0;
    if (exact && v.is_int() && !__builtin_add_overflow(isum, v.as_int(), &next)) {
      isum = next;
      return;
    }
    if (exact) dsum = Decimal::from_int(isum);
    exact = false;
    dsum = dsum + v.as_decimal();
  });
  if (!bad.empty()) {
    return null_because(site, std::string(site.name) + "() takes numbers only, got " + bad);
  }
  if (count == 0) return Value();
  const Decimal total = exact ? Decimal::from_int(isum) : dsum;
  if (mean) return Value::decimal(total / Decimal::from_int(count));
  return exact ? Value::integer(isum) : Value::decimal(total);
}

// remove, insert before, list replace (by position), sublist and union.
Value list_edit(Builtin fn, std::span<Value> args, const CallSite& site) {
  if (fn == Builtin::kUnion) {
    Json out = Json::array();
    for (const Value& a : args) {
      if (a.type() != Type::kList) return wrong_type(site, "lists", a);
      for (const Json& item : a.json()) {
        if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
      }
    }
    return Value::owned(std::move(out));
  }
  if (args[0].type() != Type::kList) return wrong_type(site, "a list", args[0]);
  if (args[1].type() != Type::kNumber || !std::isfinite(args[1].as_double()) ||
      std::fabs(args[1].as_double()) > 1e15) {
    return wrong_type(site, "a position", args[1]);
  }
  const Json& list = args[0].json();
  const auto size = static_cast<std::int64_t>(list.size());
  // From 1, negative from the end; a fraction is cut off, as the TCK expects.
  std::int64_t at = args[1].is_int() ? args[1].as_int()
                                     : static_cast<std::int64_t>(std::trunc(args[1].as_double()));
  if (at < 0) at = size + at + 1;
  const bool inserting = fn == Builtin::kInsertBefore;
  if (at < 1 || at > size + (inserting ? 1 : 0)) {
    return null_because(site, "position " + std::to_string(args[1].as_int()) +
                                  " is outside the list of " + std::to_string(size));
  }
  const auto index = static_cast<std::size_t>(at - 1);
  Json out = list;
  switch (fn) {
    case Builtin::kRemove:
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(index));
      break;
    case Builtin::kInsertBefore:
      out.insert(out.begin() + static_cast<std::ptrdiff_t>(index), args[2].to_typed_json());
      break;
    case Builtin::kListReplace:
      out[index] = args[2].to_typed_json();
      break;
    default: {  // kSublist
      std::int64_t length = size - at + 1;
      if (args.size() == 3) {
        const std::optional<std::int64_t> l = whole(args[2]);
        if (!l || *l < 0) return wrong_type(site, "a length", args[2]);
        length = *l;
      }
      if (length > size - (at - 1)) return null_because(site, "sublist() past the list's end");
      out = Json::array();
      for (std::int64_t k = 0; k < length; ++k) out.push_back(list[index + static_cast<std::size_t>(k)]);
      break;
    }
  }
  return Value::owned(std::move(out));
}

// get value, get entries, context, context put and context merge.
Value context_function(Builtin fn, std::span<Value> args, const CallSite& site) {
  switch (fn) {
    case Builtin::kGetValue: {
      if (args[0].type() != Type::kContext) return wrong_type(site, "a context", args[0]);
      if (args[1].type() != Type::kString) return wrong_type(site, "a string key", args[1]);
      auto it = args[0].json().find(std::string(args[1].str()));
      return it == args[0].json().end() ? Value() : Value::adopt(*it);
    }
    case Builtin::kGetEntries: {
      if (args[0].type() != Type::kContext) return wrong_type(site, "a context", args[0]);
      Json out = Json::array();
      for (const auto& [k, v] : args[0].json().items()) out.push_back({{"key", k}, {"value", v}});
      return Value::owned(std::move(out));
    }
    case Builtin::kContext: {
      if (args[0].type() != Type::kList) return wrong_type(site, "a list of entries", args[0]);
      Json out = Json::object();
      for (const Json& e : args[0].json()) {
        if (!e.is_object() || !e.contains("key") || !e["key"].is_string() || !e.contains("value")) {
          return null_because(site, "context() takes entries {key: \"...\", value: ...}");
        }
        const std::string& key = e["key"].get_ref<const std::string&>();
        if (out.contains(key)) return null_because(site, "context() got key '" + key + "' twice");
        out[key] = e["value"];
      }
      return Value::owned(std::move(out));
    }
    case Builtin::kContextPut: {
      if (args[0].type() != Type::kContext) return wrong_type(site, "a context", args[0]);
      std::vector<std::string> path;  // a key, or a list of keys into nested contexts
      if (args[1].type() == Type::kString) {
        path.emplace_back(args[1].str());
      } else if (args[1].type() == Type::kList && !args[1].json().empty()) {
        for (const Json& k : args[1].json()) {
          if (!k.is_string()) return wrong_type(site, "string keys", args[1]);
          path.push_back(k.get<std::string>());
        }
      } else {
        return wrong_type(site, "a key or a list of keys", args[1]);
      }
      Json out = args[0].json();
      Json* at = &out;
      for (std::size_t k = 0; k + 1 < path.size(); ++k) {
        Json& next = (*at)[path[k]];
        if (!next.is_object()) return null_because(site, "'" + path[k] + "' is not a context");
        at = &next;
      }
      (*at)[path.back()] = args[2].to_typed_json();
      return Value::owned(std::move(out));
    }
    default: {  // kContextMerge
      if (args[0].type() != Type::kList) return wrong_type(site, "a list of contexts", args[0]);
      Json out = Json::object();
      for (const Json& c : args[0].json()) {
        if (!c.is_object()) return null_because(site, "context merge() takes contexts only");
        for (const auto& [k, v] : c.items()) out[k] = v;
      }
      return Value::owned(std::move(out));
    }
  }
}

// day of week ("Monday"), day of year (1-366), week of year (ISO 8601) and month of year
// ("January") of a date or date and time (in UTC).
Value calendar(Builtin fn, std::span<Value> args, const CallSite& site) {
  const Value& d = args[0];
  if (d.type() != Type::kDate && d.type() != Type::kDateTime) {
    return wrong_type(site, "a date", d);
  }
  const std::int64_t days = d.days();
  const Civil civil = civil_from_days(days);
  const std::int64_t month = civil.month;
  const std::int64_t weekday = iso_weekday(days) - 1;  // 0 = Monday
  static constexpr const char* kDays[] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                          "Friday", "Saturday", "Sunday"};
  static constexpr const char* kMonths[] = {"January", "February", "March",     "April",
                                            "May",     "June",     "July",      "August",
                                            "September", "October", "November", "December"};
  const std::int64_t yday = days - days_from_civil(civil.year, 1, 1) + 1;
  switch (fn) {
    case Builtin::kDayOfWeek:
      return Value::borrowed_string(kDays[weekday]);
    case Builtin::kMonthOfYear:
      return Value::borrowed_string(kMonths[month - 1]);
    case Builtin::kDayOfYear:
      return Value::integer(yday);
    default: {  // kWeekOfYear, ISO 8601: the week with the year's first Thursday is week 1
      const std::int64_t thursday = days - weekday + 3;  // the Thursday of this week
      const Value th = Value::date(thursday);
      std::array<Value, 1> a{th};
      const Value yd = calendar(Builtin::kDayOfYear, a, site);
      return Value::integer((yd.as_int() - 1) / 7 + 1);
    }
  }
}

// product, median, stddev (of a sample) and mode (the most frequent values, ascending) of
// numbers given as a list or as arguments.
Value statistics(Builtin fn, std::span<Value> args, const CallSite& site) {
  std::vector<Decimal> xs;
  std::string bad;
  for_items(args, [&](const Value& v) {
    if (v.type() != Type::kNumber) {
      if (bad.empty()) bad = describe(v);
      return;
    }
    xs.push_back(v.as_decimal());
  });
  if (!bad.empty()) {
    return null_because(site, std::string(site.name) + "() takes numbers only, got " + bad);
  }
  const auto less = [](const Decimal& a, const Decimal& b) { return a.compare(b) < 0; };
  if (fn == Builtin::kMode) {
    std::sort(xs.begin(), xs.end(), less);
    std::size_t best = 0;
    Json out = Json::array();
    for (std::size_t i = 0; i < xs.size();) {
      std::size_t j = i;
      while (j < xs.size() && xs[j] == xs[i]) ++j;
      if (j - i > best) {
        best = j - i;
        out = Json::array();
      }
      if (j - i == best) out.push_back(Value::decimal(xs[i]).to_typed_json());
      i = j;
    }
    return Value::owned(std::move(out));
  }
  if (xs.empty() || (fn == Builtin::kStddev && xs.size() < 2)) return Value();
  if (fn == Builtin::kProduct) {
    Decimal p = Decimal::from_int(1);
    for (const Decimal& x : xs) p = p * x;
    return Value::decimal(p);
  }
  if (fn == Builtin::kMedian) {
    std::sort(xs.begin(), xs.end(), less);
    const std::size_t mid = xs.size() / 2;
    return Value::decimal(xs.size() % 2 == 1 ? xs[mid]
                                             : (xs[mid - 1] + xs[mid]) / Decimal::from_int(2));
  }
  Decimal mean;
  for (const Decimal& x : xs) mean = mean + x;
  mean = mean / Decimal::from_int(static_cast<std::int64_t>(xs.size()));
  Decimal sq;
  for (const Decimal& x : xs) sq = sq + (x - mean) * (x - mean);
  const Decimal variance = sq / Decimal::from_int(static_cast<std::int64_t>(xs.size() - 1));
  return Value::number(std::sqrt(variance.to_double()));
}

// Items borrow from `args`, which outlive the call, so `best` may borrow too until returned.
Value min_or_max(std::span<Value> args, bool max, const CallSite& site) {
  Value best;
  bool found = false, ok = true;
  for_items(args, [&](const Value& v) {
    if (!ok) return;
    if (!found) {
      best = v;
      found = true;
      return;
    }
    std::optional<int> c = compare(v, best);
    if (!c) {
      ok = false;
      null_because(site, std::string(site.name) + "() cannot order " + describe(v) + " and " +
                             describe(best));
    } else if ((max && *c > 0) || (!max && *c < 0)) {
      best = v;
    }
  });
  if (!ok || !found) return Value();
  if (best.type() == Type::kString) return Value::owned_string(std::string(best.str()));
  if (best.type() == Type::kList || best.type() == Type::kContext ||
      best.type() == Type::kRange) {
    return Value::owned(best.json());
  }
  return best;
}

Value all_or_any(std::span<Value> args, bool all) {
  bool saw_null = false;
  bool decided = false;
  for_items(args, [&](const Value& v) {
    if (decided) return;
    if (v.type() != Type::kBool) {
      saw_null = true;
    } else if (v.as_bool() != all) {
      decided = true;
    }
  });
  if (decided) return Value::boolean(!all);
  if (saw_null) return Value();
  return Value::boolean(all);
}

Value list_function(Builtin fn, std::span<Value> args, const CallSite& site) {
  if (args[0].type() != Type::kList) return wrong_type(site, "a list", args[0]);
  const Json& list = args[0].json();
  switch (fn) {
    case Builtin::kCount:
      return Value::integer(static_cast<std::int64_t>(list.size()));
    case Builtin::kListContains:
      for (const Json& j : list) {
        if (equals(Value::borrow(j), args[1]) == true) return Value::boolean(true);
      }
      return Value::boolean(false);
    case Builtin::kIndexOf: {
      Json out = Json::array();
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (equals(Value::borrow(list[i]), args[1]) == true) out.push_back(i + 1);
      }
      return Value::owned(std::move(out));
    }
    case Builtin::kAppend: {
      Json out = list;
      for (std::size_t i = 1; i < args.size(); ++i) out.push_back(args[i].to_json());
      return Value::owned(std::move(out));
    }
    case Builtin::kConcatenate: {
      Json out = Json::array();
      for (const Value& v : args) {
        if (v.type() != Type::kList) return wrong_type(site, "lists", v);
        for (const Json& j : v.json()) out.push_back(j);
      }
      return Value::owned(std::move(out));
    }
    case Builtin::kDistinctValues: {
      Json out = Json::array();
      for (const Json& j : list) {
        bool seen = false;
        for (const Json& k : out) seen = seen || k == j;
        if (!seen) out.push_back(j);
      }
      return Value::owned(std::move(out));
    }
    case Builtin::kFlatten: {
      // Iterative, so a deeply nested variable cannot exhaust the stack.
      Json out = Json::array();
      std::vector<std::pair<const Json*, std::size_t>> stack{{&list, 0}};
      while (!stack.empty()) {
        auto& [arr, i] = stack.back();
        if (i == arr->size()) {
          stack.pop_back();
          continue;
        }
        const Json& item = (*arr)[i++];
        if (item.is_array()) {
          stack.emplace_back(&item, 0);
        } else {
          out.push_back(item);
        }
      }
      return Value::owned(std::move(out));
    }
    default: {  // kReverse
      Json out = Json::array();
      for (auto it = list.rbegin(); it != list.rend(); ++it) out.push_back(*it);
      return Value::owned(std::move(out));
    }
  }
}

Value number_function(Builtin fn, std::span<Value> args, const CallSite& site) {
  for (const Value& v : args) {
    if (v.type() != Type::kNumber) return wrong_type(site, "a number", v);
  }
  const Value& n = args[0];
  switch (fn) {
    case Builtin::kFloor:
    case Builtin::kCeiling:
    case Builtin::kRoundUp:
    case Builtin::kRoundDown:
    case Builtin::kRoundHalfUp:
    case Builtin::kRoundHalfDown:
    case Builtin::kDecimal: {
      std::int64_t scale = 0;
      if (args.size() == 2) {
        const std::optional<std::int64_t> s = truncated(args[1]);
        if (!s || *s < -6111 || *s > 6176) {
          return null_because(site, std::string(site.name) +
                                        "() needs a whole scale from -6111 to 6176");
        }
        scale = *s;
      }
      if (n.is_int() && scale >= 0) return n;  // a whole number: nothing to round
      const Rounding mode = fn == Builtin::kFloor         ? Rounding::kFloor
                            : fn == Builtin::kCeiling     ? Rounding::kCeiling
                            : fn == Builtin::kRoundUp     ? Rounding::kUp
                            : fn == Builtin::kRoundDown   ? Rounding::kDown
                            : fn == Builtin::kRoundHalfUp ? Rounding::kHalfUp
                            : fn == Builtin::kRoundHalfDown ? Rounding::kHalfDown
                                                            : Rounding::kHalfEven;
      return Value::decimal(n.as_decimal().round(scale, mode));
    }
    case Builtin::kAbs:
      if (n.is_int() && n.as_int() != INT64_MIN) return Value::integer(std::llabs(n.as_int()));
      return Value::decimal(n.as_decimal().abs());
    case Builtin::kSqrt:
      if (n.as_double() < 0) return null_because(site, "sqrt() of a negative number");
      return Value::number(std::sqrt(n.as_double()));
    case Builtin::kLog:
      if (n.as_double() <= 0) return null_because(site, "log() of a number that is not positive");
      return Value::number(std::log(n.as_double()));
    case Builtin::kExp:
      return Value::number(std::exp(n.as_double()));
    case Builtin::kOdd:
    case Builtin::kEven: {
      const std::optional<std::int64_t> w = whole(n);
      if (!w) return null_because(site, std::string(site.name) + "() of a number that is not whole");
      const bool even = *w % 2 == 0;
      return Value::boolean(fn == Builtin::kEven ? even : !even);
    }
    default: {  // kModulo: the result has the sign of the divisor
      const Value& d = args[1];
      if (d.as_decimal().is_zero()) return null_because(site, "modulo() by zero");
      if (n.is_int() && d.is_int() && d.as_int() != -1) {
        std::int64_t r = n.as_int() % d.as_int();
        if (r != 0 && (r < 0) != (d.as_int() < 0)) r += d.as_int();
        return Value::integer(r);
      }
      const Decimal a = n.as_decimal(), b = d.as_decimal();
      return Value::decimal(a - b * (a / b).round(0, Rounding::kFloor));
    }
  }
}

}  // namespace

const BuiltinInfo* find_builtin(std::string_view name) noexcept {
  for (const BuiltinInfo& b : kBuiltins) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

std::string_view builtin_name(Builtin fn) noexcept {
  for (const BuiltinInfo& b : kBuiltins) {
    if (b.id == fn) return b.name;
  }
  return "function";
}

std::span<const BuiltinInfo> builtins() noexcept {
  return kBuiltins;
}

Value call_builtin(Builtin fn, std::span<Value> args, const CallSite& site) {
  switch (fn) {
    case Builtin::kString:
      return args[0].is_null() ? Value() : Value::owned_string(to_text(args[0]));
    case Builtin::kNumber:
      if (args[0].type() == Type::kNumber) return args[0];
      if (args[0].type() != Type::kString) return wrong_type(site, "a string", args[0]);
      if (auto n = parse_number(args[0].str())) return *n;
      return null_because(
          site, "number(" + Json(std::string(args[0].str())).dump() + ") is not a number");
    case Builtin::kAbs:  // of a duration too
      if (args[0].type() == Type::kYearsMonths && args[0].months() != INT64_MIN) {
        return Value::years_months(args[0].months() < 0 ? -args[0].months() : args[0].months());
      }
      if (args[0].type() == Type::kDaysTime && args[0].nanos() != INT64_MIN) {
        return Value::days_time(args[0].nanos() < 0 ? -args[0].nanos() : args[0].nanos());
      }
      return number_function(fn, args, site);
    case Builtin::kDecimal:
    case Builtin::kFloor:
    case Builtin::kCeiling:
    case Builtin::kRoundUp:
    case Builtin::kRoundDown:
    case Builtin::kRoundHalfUp:
    case Builtin::kRoundHalfDown:
    case Builtin::kModulo:
    case Builtin::kSqrt:
    case Builtin::kLog:
    case Builtin::kExp:
    case Builtin::kOdd:
    case Builtin::kEven:
      return number_function(fn, args, site);
    case Builtin::kProduct:
    case Builtin::kMedian:
    case Builtin::kStddev:
    case Builtin::kMode:
      return statistics(fn, args, site);
    case Builtin::kRemove:
    case Builtin::kInsertBefore:
    case Builtin::kListReplace:
    case Builtin::kSublist:
    case Builtin::kUnion:
      return list_edit(fn, args, site);
    case Builtin::kGetValue:
    case Builtin::kGetEntries:
    case Builtin::kContextPut:
    case Builtin::kContextMerge:
      return context_function(fn, args, site);
    case Builtin::kDayOfWeek:
    case Builtin::kDayOfYear:
    case Builtin::kWeekOfYear:
    case Builtin::kMonthOfYear:
      return calendar(fn, args, site);
    case Builtin::kStringLength:
      if (args[0].type() != Type::kString) return wrong_type(site, "a string", args[0]);
      return Value::integer(static_cast<std::int64_t>(code_points(args[0].str())));
    case Builtin::kSubstring:
      return substring(args, site);
    case Builtin::kUpperCase:
    case Builtin::kLowerCase:
      return change_case(args, fn == Builtin::kUpperCase, site);
    case Builtin::kContains:
    case Builtin::kStartsWith:
    case Builtin::kEndsWith:
    case Builtin::kSubstringBefore:
    case Builtin::kSubstringAfter:
      return two_strings(fn, args, site);
    case Builtin::kStringJoin:
    case Builtin::kContext:
      // A single value where a list is expected is a list of one (DMN 10.3.2.9.4).
      if (!args[0].is_null() && args[0].type() != Type::kList) {
        Value one = Value::owned(Json::array({args[0].to_typed_json()}));
        args[0] = std::move(one);
      }
      return fn == Builtin::kStringJoin ? string_join(args, site)
                                        : context_function(fn, args, site);
    case Builtin::kMatches:
    case Builtin::kReplace:
    case Builtin::kSplit:
      return regex_function(fn, args, site);
    case Builtin::kBefore:
    case Builtin::kAfter:
    case Builtin::kMeets:
    case Builtin::kMetBy:
    case Builtin::kOverlaps:
    case Builtin::kOverlapsBefore:
    case Builtin::kOverlapsAfter:
    case Builtin::kFinishes:
    case Builtin::kFinishedBy:
    case Builtin::kIncludes:
    case Builtin::kDuring:
    case Builtin::kStarts:
    case Builtin::kStartedBy:
    case Builtin::kCoincides:
      return range_function(fn, args, site);
    case Builtin::kSum:
    case Builtin::kMean:
      return sum_or_mean(args, fn == Builtin::kMean, site);
    case Builtin::kMin:
    case Builtin::kMax:
      return min_or_max(args, fn == Builtin::kMax, site);
    case Builtin::kAll:
    case Builtin::kAny:
      return all_or_any(args, fn == Builtin::kAll);
    case Builtin::kCount:
    case Builtin::kListContains:
    case Builtin::kIndexOf:
    case Builtin::kAppend:
    case Builtin::kConcatenate:
    case Builtin::kDistinctValues:
    case Builtin::kFlatten:
    case Builtin::kReverse:
      return list_function(fn, args, site);
    case Builtin::kDateAndTime:
    case Builtin::kDate:
    case Builtin::kTime:
    case Builtin::kDuration:
    case Builtin::kYearsAndMonthsDuration:
      return temporal_function(fn, args, site);
    default:
      return null_because(site, std::string(site.name) + "() is not available here");
  }
}

}  // namespace ordo::expr
