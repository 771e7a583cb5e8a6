// The values the evaluator works with. A Value either borrows (a string, list or context that
// lives in the variables or in the compiled constants) or owns what it computed, so reading
// and comparing variables copies nothing; only the final result is turned into JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "time/iso8601.h"

namespace ordo::expr {

using Json = nlohmann::json;

enum class Type : std::uint8_t {
  kNull,
  kBool,
  kNumber,
  kString,
  kDateTime,  // an instant, epoch milliseconds (UTC)
  kDate,      // a calendar date, as epoch milliseconds of its midnight UTC
  kDuration,
  kList,
  kContext,
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
  // A computed number: integral results within 2^53 become integers, so 6 / 3 is 2, not 2.0.
  static Value number(double d);
  // A number exactly as given (a double stays a double).
  static Value real(double d) {
    Value v(Type::kNumber);
    v.d_ = d;
    return v;
  }
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
  static Value date_time(std::int64_t ms) {
    Value v(Type::kDateTime);
    v.i_ = ms;
    return v;
  }
  static Value date(std::int64_t ms) {
    Value v(Type::kDate);
    v.i_ = ms;
    return v;
  }
  static Value duration(const time::Duration& d) {
    Value v(Type::kDuration);
    v.dur_ = d;
    return v;
  }
  // An owned list (a JSON array) or context (a JSON object).
  static Value owned(Json j);
  // Borrows `j` (a variable or a constant); `j` must outlive the value. An object
  // {"@type": "date" | "dateTime" | "duration", "value": TEXT} is that date or duration.
  static Value borrow(const Json& j);
  // A value that owns what `j` holds (a function's result).
  static Value adopt(Json j);

  Type type() const noexcept { return type_; }
  bool is_null() const noexcept { return type_ == Type::kNull; }
  bool as_bool() const noexcept { return b_; }
  bool is_int() const noexcept { return int_; }
  std::int64_t as_int() const noexcept { return i_; }
  double as_double() const noexcept { return int_ ? static_cast<double>(i_) : d_; }
  std::int64_t ms() const noexcept { return i_; }
  const time::Duration& dur() const noexcept { return dur_; }
  std::string_view str() const noexcept { return owns_str_ ? owned_str_ : sv_; }
  // The JSON array or object of a list or context.
  const Json& json() const noexcept { return ref_ != nullptr ? *ref_ : owned_; }
  // The JSON a borrowed value came from, when it did (lets member access keep borrowing).
  const Json* borrowed() const noexcept { return ref_; }

  // The result as JSON: dates and durations become ISO 8601 strings.
  Json to_json() &&;
  Json to_json() const&;
  // The result as JSON that keeps dates and durations typed: {"@type": "date", "value":
  // "2026-12-01"} (DMN's form, read back by borrow()).
  Json to_typed_json() const;

 private:
  explicit Value(Type t) : type_(t) {}

  Type type_ = Type::kNull;
  bool b_ = false;
  bool int_ = false;
  bool owns_str_ = false;
  std::int64_t i_ = 0;
  double d_ = 0;
  time::Duration dur_;
  std::string_view sv_;
  std::string owned_str_;
  const Json* ref_ = nullptr;
  Json owned_;
};

// The kind of a typed value {"@type": KIND, "value": "TEXT"} ("date", "dateTime",
// "duration"; DMN's JSON form), or empty when `j` is not one.
std::string_view typed_kind(const Json& j) noexcept;
// Replaces each typed value in `j` (itself, its members and elements; deeper ones when
// `deep`) by its text, the form process variables keep.
void untype(Json& j, bool deep);

// For messages: `number 3`, `string "a"`, `null`, `list [1,2]` (long values shortened).
std::string describe(const Value& v);
// The FEEL string() of a value: "3", "2026-12-01T10:00:00Z", "true"; the JSON for lists.
std::string to_text(const Value& v);

// A number written as text ("42", "-3.5", "1e3"), or nullopt when `s` is not one.
std::optional<Value> parse_number(std::string_view s) noexcept;

// Signed totals of a duration: months (years-months part) and milliseconds (days count 24h).
struct DurationTotals {
  std::int64_t months = 0;
  std::int64_t ms = 0;
};
DurationTotals totals(const time::Duration& d) noexcept;
// A normalised duration from totals: days and time for `ms`, years and months for `months`.
time::Duration from_totals(DurationTotals t) noexcept;

// Equality as FEEL `=`: null equals only null; values of different types are not comparable
// (nullopt); numbers compare across integer and decimal; lists and contexts deeply.
std::optional<bool> equals(const Value& a, const Value& b);
// Ordering for < <= > >=: -1, 0 or 1; nullopt when the values cannot be ordered (a null,
// different types, booleans, lists, years-months against days-time durations).
std::optional<int> compare(const Value& a, const Value& b);

}  // namespace ordo::expr
