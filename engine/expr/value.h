// The values the evaluator works with. A Value either borrows (a string, list or context that
// lives in the variables or in the compiled constants) or owns what it computed, so reading
// and comparing variables copies nothing; only the final result is turned into JSON.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "expr/decimal.h"
#include "expr/temporal.h"

namespace ordo::expr {

using Json = nlohmann::json;

enum class Type : std::uint8_t {
  kNull,
  kBool,
  kNumber,
  kString,
  kDate,         // days since 1970-01-01
  kTime,         // a time of day: nanoseconds since midnight, and a zone
  kDateTime,     // days, nanoseconds of the day (local to the zone), and a zone
  kYearsMonths,  // a years and months duration: months
  kDaysTime,     // a days and time duration: nanoseconds
  kList,
  kContext,
  kRange,  // {"@type": "range", "start", "end", "start included", "end included"} (json())
  kFunction,  // a FEEL function defined in the expression being evaluated: its number there
};

// "number", "string", "date and time", ... as FEEL names the types.
std::string_view type_name(Type t) noexcept;

class Value {
 public:
  Value() = default;

  static Value boolean(bool b) {
    Value v(Type::kBool);
    v.b_ = b;
    return v;
  }
  static Value integer(std::int64_t i) {
    Value v(Type::kNumber);
    v.int_ = true;
    v.i_ = i;
    return v;
  }
  // A number computed as a double (sqrt, log, ...): the decimal its shortest text writes; a
  // whole one that fits is an integer. Null when not finite.
  static Value number(double d);
  // A decimal number: a whole one that fits int64 is an integer (so 2.5 * 2 is 5, and 6 / 3
  // is 2). Null when not finite (an overflow).
  static Value decimal(const Decimal& d);
  static Value borrowed_string(std::string_view s) {  // borrowed: `s` must outlive the value
    Value v(Type::kString);
    v.sv_ = s;
    return v;
  }
  static Value owned_string(std::string s) {
    Value v(Type::kString);
    v.owned_str_ = std::move(s);
    v.owns_str_ = true;
    return v;
  }
  static Value date(std::int64_t days) {
    Value v(Type::kDate);
    v.i_ = days;
    return v;
  }
  static Value time_of_day(std::int64_t nanos, const Zone& zone) {
    Value v(Type::kTime);
    v.n_ = nanos;
    v.zone_ = zone;
    return v;
  }
  static Value date_time(const DateTime& t) {
    Value v(Type::kDateTime);
    v.i_ = t.days;
    v.n_ = t.nanos;
    v.zone_ = t.zone;
    return v;
  }
  // The instant `epoch_ms` as a date and time in UTC ("...Z").
  static Value instant_ms(std::int64_t epoch_ms) {
    return date_time(normalized(0, epoch_ms * 1'000'000, Zone::utc()));
  }
  static Value years_months(std::int64_t months) {
    Value v(Type::kYearsMonths);
    v.i_ = months;
    return v;
  }
  // The function `id` of the evaluation that made it ({"@type": "function", "value": "#id"}
  // in lists and contexts; meaningless outside that evaluation).
  static Value function(std::int64_t id) {
    Value v(Type::kFunction);
    v.i_ = id;
    return v;
  }
  static Value days_time(std::int64_t nanos) {
    Value v(Type::kDaysTime);
    v.n_ = nanos;
    return v;
  }
  // An owned list (a JSON array) or context (a JSON object).
  static Value owned(Json j);
  // A range: `low` to `high`, each end included or not; a null end is unbounded.
  static Value range(const Value& low, const Value& high, bool low_included, bool high_included);
  // Borrows `j` (a variable or a constant); `j` must outlive the value. An object
  // {"@type": "date" | "time" | "dateTime" | "duration", "value": TEXT} is that value.
  static Value borrow(const Json& j);
  // A value that owns what `j` holds (a function's result).
  static Value adopt(Json j);

  Type type() const noexcept { return type_; }
  bool is_null() const noexcept { return type_ == Type::kNull; }
  bool as_bool() const noexcept { return b_; }
  bool is_int() const noexcept { return int_; }
  std::int64_t as_int() const noexcept { return i_; }
  double as_double() const noexcept {
    return int_ ? static_cast<double>(i_) : has_double_ ? source_double() : dec_.to_double();
  }
  // A number read from a JSON double becomes its decimal (its shortest text) only here, when
  // decimal arithmetic needs it.
  Decimal as_decimal() const noexcept {
    return int_ ? Decimal::from_int(i_) : has_double_ ? Decimal::from_double(source_double()) : dec_;
  }
  // The double a decimal was read from (a JSON number), when it was: comparisons with it
  // answer without decimal arithmetic unless the doubles are equal.
  bool has_double() const noexcept { return has_double_; }
  double source_double() const noexcept { return std::bit_cast<double>(n_); }
  bool is_duration() const noexcept {
    return type_ == Type::kYearsMonths || type_ == Type::kDaysTime;
  }
  // A date's or a date and time's days; a years and months duration's months.
  std::int64_t days() const noexcept { return i_; }
  std::int64_t months() const noexcept { return i_; }
  // A time's or a date and time's nanoseconds of the day; a days and time duration's.
  std::int64_t nanos() const noexcept { return n_; }
  const Zone& zone() const noexcept { return zone_; }
  // A date and time's parts (a date: its midnight in UTC, as FEEL compares it with one).
  DateTime date_time_parts() const noexcept {
    return type_ == Type::kDate ? DateTime{i_, 0, Zone::utc()} : DateTime{i_, n_, zone_};
  }
  std::string_view str() const noexcept { return owns_str_ ? owned_str_ : sv_; }
  // The JSON array or object of a list, context or range.
  const Json& json() const noexcept { return ref_ != nullptr ? *ref_ : owned_; }
  // The JSON a borrowed value came from, when it did (lets member access keep borrowing).
  const Json* borrowed() const noexcept { return ref_; }

  // The result as JSON: dates and durations become ISO 8601 strings.
  Json to_json() &&;
  Json to_json() const&;
  // The result as JSON that keeps dates and durations typed: {"@type": "date", "value":
  // "2026-12-01"} (DMN's form, read back by borrow()); a decimal that a JSON number (a
  // double) would not hold exactly too: {"@type": "number", "value": "0.3333333333333333333"}.
  Json to_typed_json() const;

 private:
  explicit Value(Type t) : type_(t) {}

  Type type_ = Type::kNull;
  bool b_ = false;
  bool int_ = false;
  bool owns_str_ = false;
  bool has_double_ = false;
  std::int64_t i_ = 0;
  std::int64_t n_ = 0;  // nanoseconds; a number's source double (has_double_), its bits
  Decimal dec_;
  Zone zone_;
  std::string_view sv_;
  std::string owned_str_;
  const Json* ref_ = nullptr;
  Json owned_;
};

// The kind of a typed value {"@type": KIND, "value": "TEXT"} ("date", "time", "dateTime",
// "duration"; DMN's JSON form), or empty when `j` is not one.
std::string_view typed_kind(const Json& j) noexcept;
// Whether `j` is a range as Value::range() writes it into lists and contexts.
bool is_range_json(const Json& j) noexcept;
// Whether `v` lies in the range `r`: nullopt when an end cannot be compared with it.
std::optional<bool> in_range(const Value& v, const Value& r);
// Replaces each typed value in `j` (itself, its members and elements; deeper ones when
// `deep`) by its text, the form process variables keep.
void untype(Json& j, bool deep);

// For messages: `number 3`, `string "a"`, `null`, `list [1,2]` (long values shortened).
std::string describe(const Value& v);
// The FEEL string() of a value: "3", "2026-12-01T10:00:00Z", "true"; the JSON for lists.
std::string to_text(const Value& v);

// A number written as text ("42", "-3.5", "1e3"), or nullopt when `s` is not one.
std::optional<Value> parse_number(std::string_view s) noexcept;


// Equality as FEEL `=`: null equals only null; values of different types are not comparable
// (nullopt); numbers compare across integer and decimal; lists and contexts deeply.
std::optional<bool> equals(const Value& a, const Value& b);
// Ordering for < <= > >=: -1, 0 or 1; nullopt when the values cannot be ordered (a null,
// different types, booleans, lists, a local date and time against a zoned one).
std::optional<int> compare(const Value& a, const Value& b);

}  // namespace ordo::expr
