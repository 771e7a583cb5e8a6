// FEEL built-in functions: the table the parser resolves names against (so an unknown
// function or a wrong argument count is a compile error) and their implementations.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ordo::expr {

class Value;

enum class Builtin : std::uint8_t {
  kNone,
  // Handled by the evaluator itself (they look at the expression, not only at values).
  kNot,
  kIsDefined,
  kNow,
  kToday,
  kSort,  // sort(list, precedes): calls a FEEL function
  // Conversion and numbers.
  kString,
  kNumber,
  kDecimal,
  kFloor,
  kCeiling,
  kAbs,
  kModulo,
  kSqrt,
  kLog,
  kExp,
  kOdd,
  kEven,
  kRoundUp,
  kRoundDown,
  kRoundHalfUp,
  kRoundHalfDown,
  // Strings.
  kStringLength,
  kSubstring,
  kSubstringBefore,
  kSubstringAfter,
  kUpperCase,
  kLowerCase,
  kContains,
  kStartsWith,
  kEndsWith,
  kStringJoin,
  kMatches,
  kReplace,
  kSplit,
  // Lists.
  kCount,
  kSum,
  kMin,
  kMax,
  kMean,
  kProduct,
  kMedian,
  kStddev,
  kMode,
  kAll,
  kAny,
  kListContains,
  kAppend,
  kConcatenate,
  kDistinctValues,
  kFlatten,
  kIndexOf,
  kReverse,
  kRemove,
  kInsertBefore,
  kListReplace,
  kSublist,
  kUnion,
  // Contexts.
  kGetValue,
  kGetEntries,
  kContext,
  kContextPut,
  kContextMerge,
  // Calendar names and numbers of a date.
  kDayOfWeek,
  kDayOfYear,
  kWeekOfYear,
  kMonthOfYear,
  // Dates and durations.
  kDateAndTime,
  kDate,
  kTime,
  kDuration,
  kYearsAndMonthsDuration,
  // Ranges and points.
  kBefore,
  kAfter,
  kMeets,
  kMetBy,
  kOverlaps,
  kOverlapsBefore,
  kOverlapsAfter,
  kFinishes,
  kFinishedBy,
  kIncludes,
  kDuring,
  kStarts,
  kStartedBy,
  kCoincides,
};

inline constexpr std::uint8_t kVariadic = 255;

struct BuiltinInfo {
  std::string_view name;  // as written in FEEL, e.g. "string length"
  Builtin id;
  std::uint8_t min_args;
  std::uint8_t max_args;  // kVariadic: any number
  // The parameters' names, comma-separated, as the FEEL specification names them, for
  // calls with named arguments (substring(string: s, start position: 2)).
  std::string_view params = {};
};

// The function called `name`, or null.
const BuiltinInfo* find_builtin(std::string_view name) noexcept;
// The FEEL name of `fn`, e.g. "string length".
std::string_view builtin_name(Builtin fn) noexcept;
// Every function, for the lexer (names with spaces) and for messages.
std::span<const BuiltinInfo> builtins() noexcept;

struct CallSite {
  std::string_view name;  // for messages
  std::string* why;       // where to explain a null result; set only when empty
};

// Calls `fn` (not one of the evaluator's own). FEEL semantics: an argument of the wrong type
// gives null, and `why` says what was wrong.
Value call_builtin(Builtin fn, std::span<Value> args, const CallSite& site);

// For the implementations: null, with `what` as the reason (when none is set yet).
Value null_because(const CallSite& site, const std::string& what);
// Null because an argument is not what the function takes.
Value wrong_type(const CallSite& site, std::string_view expected, const Value& got);
// A number with no fraction (2, 2.0) as an integer; nullopt otherwise.
std::optional<std::int64_t> whole(const Value& v);
// date(), time(), date and time(), duration(), years and months duration()
// (temporal_functions.cc).
Value temporal_function(Builtin fn, std::span<Value> args, const CallSite& site);
// before(), after(), meets(), ... coincides() (range_functions.cc).
Value range_function(Builtin fn, std::span<Value> args, const CallSite& site);
// matches(), replace(), split() (regex_functions.cc).
Value regex_function(Builtin fn, std::span<Value> args, const CallSite& site);
// A property of a temporal value (`d.year`, `t.time offset`, `p.months`); `found` is false
// when the value has no property of that name.
Value temporal_property(const Value& v, std::string_view name, bool& found);

}  // namespace ordo::expr
