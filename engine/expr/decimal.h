// FEEL numbers that are not whole: IEEE 754 decimal128 (34 significant digits, rounded half to
// even), as the DMN specification asks, so 0.1 + 0.2 is 0.3. The arithmetic is GCC's
// (libgcc's BID implementation); parsing, printing and rounding to a scale work on the
// coefficient and exponent directly. Whole numbers that fit stay int64 in Value (the fast
// path); a Decimal is what does not.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ordo::expr {

enum class Rounding : std::uint8_t {
  kFloor,
  kCeiling,
  kUp,        // away from zero
  kDown,      // toward zero
  kHalfUp,    // half away from zero
  kHalfDown,  // half toward zero
  kHalfEven,
};

class Decimal {
 public:
  Decimal() = default;  // 0

  static Decimal from_int(std::int64_t v) noexcept;
  // The decimal a double was written as: its shortest round-trip text (0.1 is 0.1).
  static Decimal from_double(double v) noexcept;
  // "0.1", "-3.5", "1e3", "1.5E-7", "+2"; more than 34 significant digits are rounded half to
  // even. nullopt when `s` is no number or its exponent is beyond decimal128's.
  static std::optional<Decimal> parse(std::string_view s) noexcept;

  // Plain decimal text without trailing zeros ("0.3", "-12.5", "1000"); scientific
  // ("1.5E+40") only when plain text would need more than 40 zeros.
  std::string text() const;
  double to_double() const noexcept;
  // The value as an int64 when it is whole and fits.
  std::optional<std::int64_t> to_int() const noexcept;
  bool is_finite() const noexcept;
  bool is_zero() const noexcept;
  bool is_negative() const noexcept;
  bool is_whole() const noexcept;

  Decimal operator+(const Decimal& o) const noexcept;
  Decimal operator-(const Decimal& o) const noexcept;
  Decimal operator*(const Decimal& o) const noexcept;
  Decimal operator/(const Decimal& o) const noexcept;  // `o` must not be zero
  Decimal operator-() const noexcept;
  Decimal abs() const noexcept;
  // -1, 0 or 1 (both finite).
  int compare(const Decimal& o) const noexcept;
  bool operator==(const Decimal& o) const noexcept { return compare(o) == 0; }

  // Rounded to `scale` digits after the point (a negative scale rounds to tens, hundreds...).
  Decimal round(std::int64_t scale, Rounding mode) const noexcept;
  // x ** n for a whole n, exactly as far as 34 digits go; nullopt when it overflows.
  std::optional<Decimal> pow(std::int64_t n) const noexcept;

 private:
  friend struct DecimalAccess;  // decimal.cc: the bits

  std::uint64_t lo_ = 0;
  std::uint64_t hi_ = 0x3040000000000000ULL;  // +0E0
};

}  // namespace ordo::expr
