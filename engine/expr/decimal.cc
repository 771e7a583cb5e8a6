#include "expr/decimal.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <decimal/decimal>

namespace ordo::expr {
namespace {

__extension__ typedef unsigned __int128 u128;

using D128 = std::decimal::decimal128;

// The binary integer decimal (BID) layout of a finite decimal128: the sign in bit 127, a
// biased exponent in bits 126..113 and the coefficient in bits 112..0.
constexpr int kBias = 6176;
constexpr int kMinExponent = -6176;
constexpr int kMaxExponent = 6111;
constexpr int kDigits = 34;
constexpr int kPlainZeros = 40;  // text(): plain up to this many zeros, then scientific
constexpr std::uint64_t kCoefficientHighMask = (std::uint64_t{1} << 49) - 1;

struct Powers {
  u128 of[39];
  constexpr Powers() : of() {
    of[0] = 1;
    for (int i = 1; i < 39; ++i) of[i] = of[i - 1] * 10;
  }
};
constexpr Powers kPowers;

// 10^n for n in 0..38 (what u128 holds).
constexpr u128 pow10(int n) { return kPowers.of[n]; }
constexpr u128 kMaxCoefficient = pow10(kDigits);  // exclusive

struct Parts {
  bool negative = false;
  bool special = false;  // infinity or NaN
  u128 coefficient = 0;
  int exponent = 0;
};

// Drops the last `n` digits of `c`, rounding half to even.
u128 drop_digits(u128 c, int n) {
  if (n <= 0) return c;
  if (n > 38) return 0;
  const u128 p = pow10(n);
  const u128 q = c / p, r = c % p, half = p / 2;
  return (r > half || (r == half && (q & 1) != 0)) ? q + 1 : q;
}

std::string digits_of(u128 c) {
  if (c == 0) return "0";
  char buf[40];
  int i = 40;
  while (c != 0) {
    buf[--i] = static_cast<char>('0' + static_cast<int>(c % 10));
    c /= 10;
  }
  return std::string(buf + i, buf + 40);
}

// Decimal digits of `c` (1 for 0), from its bit length: no division.
int digit_count(u128 c) {
  if (c == 0) return 1;
  const auto high = static_cast<std::uint64_t>(c >> 64);
  const int bits = high != 0 ? 128 - __builtin_clzll(high)
                             : 64 - __builtin_clzll(static_cast<std::uint64_t>(c));
  const int guess = (bits * 1233) >> 12;  // about bits * log10(2): the digits, or one fewer
  return guess + (guess < 39 && c >= pow10(guess) ? 1 : 0);
}

}  // namespace

struct DecimalAccess {
  static Parts decode(const Decimal& d) {
    Parts p;
    p.negative = (d.hi_ >> 63) != 0;
    if (((d.hi_ >> 61) & 3) == 3) {
      p.special = ((d.hi_ >> 59) & 0xF) == 0xF;  // else a non-canonical coefficient: zero
      return p;
    }
    p.exponent = static_cast<int>((d.hi_ >> 49) & 0x3FFF) - kBias;
    p.coefficient = (static_cast<u128>(d.hi_ & kCoefficientHighMask) << 64) | d.lo_;
    if (p.coefficient >= kMaxCoefficient) p.coefficient = 0;
    return p;
  }

  static Decimal encode(bool negative, u128 coefficient, int exponent) {
    while (coefficient >= kMaxCoefficient) {
      coefficient = drop_digits(coefficient, 1);
      ++exponent;
    }
    if (exponent < kMinExponent) {
      coefficient = drop_digits(coefficient, kMinExponent - exponent);
      exponent = kMinExponent;
    }
    while (exponent > kMaxExponent && coefficient != 0 && coefficient * 10 < kMaxCoefficient) {
      coefficient *= 10;
      --exponent;
    }
    Decimal d;
    if (coefficient == 0 && exponent > kMaxExponent) exponent = kMaxExponent;
    if (exponent > kMaxExponent) {  // infinity
      d.hi_ = (negative ? std::uint64_t{1} << 63 : 0) | (std::uint64_t{0xF} << 59);
      d.lo_ = 0;
      return d;
    }
    d.hi_ = (negative ? std::uint64_t{1} << 63 : 0) |
            (static_cast<std::uint64_t>(exponent + kBias) << 49) |
            static_cast<std::uint64_t>(coefficient >> 64);
    d.lo_ = static_cast<std::uint64_t>(coefficient);
    return d;
  }

  static D128 native(const Decimal& d) {
    D128 n;
    const std::uint64_t words[2] = {d.lo_, d.hi_};
    static_assert(sizeof(D128) == sizeof(words));
    std::memcpy(&n, words, sizeof n);
    return n;
  }

  static Decimal of(const D128& n) {
    std::uint64_t words[2];
    std::memcpy(words, &n, sizeof words);
    Decimal d;
    d.lo_ = words[0];
    d.hi_ = words[1];
    return d;
  }
};

using A = DecimalAccess;

Decimal Decimal::from_int(std::int64_t v) noexcept {
  const bool negative = v < 0;
  const u128 magnitude = negative ? static_cast<u128>(-(v + 1)) + 1 : static_cast<u128>(v);
  return A::encode(negative, magnitude, 0);
}

Decimal Decimal::from_double(double v) noexcept {
  // Most doubles in orders are short decimals (19.99, 0.5): the fewest fraction digits k for
  // which round(v * 10^k) / 10^k gives v back is the shortest round-trip text's, found
  // without printing. Division by an exact power of ten is correctly rounded, so the check
  // is exact; anything else goes through the text.
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  if (std::fabs(v) < 1e15) {
    for (int k = 0; k < 16; ++k) {
      const double scaled = std::nearbyint(v * kPow10[k]);
      if (std::fabs(scaled) >= 9007199254740992.0) break;  // 2^53: no longer exact
      if (scaled / kPow10[k] == v) {
        const auto c = static_cast<std::int64_t>(scaled);
        const bool negative = c < 0;
        return A::encode(negative, static_cast<u128>(negative ? -c : c), -k);
      }
    }
  }
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return Decimal();
  return parse(std::string_view(buf, static_cast<std::size_t>(end - buf))).value_or(Decimal());
}

std::optional<Decimal> Decimal::parse(std::string_view s) noexcept {
  std::size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  u128 coefficient = 0;
  int exponent = 0, kept = 0;
  bool any = false, point = false, dropped_nonzero = false;
  int dropped = 0;          // digits beyond 34 before the point
  char first_dropped = 0;   // for rounding
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '.') {
      if (point) return std::nullopt;
      point = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    any = true;
    if (coefficient == 0 && c == '0') {  // leading zeros carry no digits
      if (point) --exponent;
      continue;
    }
    if (kept < kDigits) {
      coefficient = coefficient * 10 + static_cast<unsigned>(c - '0');
      ++kept;
      if (point) --exponent;
    } else {
      if (dropped == 0) first_dropped = c;
      else if (c != '0') dropped_nonzero = true;
      ++dropped;
      if (!point) ++exponent;
    }
  }
  if (!any) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    int e = 0;
    const char* begin = s.data() + i;
    if (i < s.size() && s[i] == '+') ++begin;
    const auto [end, ec] = std::from_chars(begin, s.data() + s.size(), e);
    if (ec != std::errc() || end == begin) return std::nullopt;
    i = static_cast<std::size_t>(end - s.data());
    if (e > 100000 || e < -100000) return std::nullopt;
    exponent += e;
  }
  if (i != s.size()) return std::nullopt;
  if (dropped > 0) {  // round half to even on the digits beyond 34
    const bool above = first_dropped > '5' || (first_dropped == '5' && dropped_nonzero);
    const bool half = first_dropped == '5' && !dropped_nonzero;
    if (above || (half && (coefficient & 1) != 0)) ++coefficient;
  }
  if (exponent > kMaxExponent + kDigits) return std::nullopt;
  Decimal d = A::encode(negative, coefficient, exponent);
  if (!d.is_finite()) return std::nullopt;
  return d;
}

std::string Decimal::text() const {
  Parts p = A::decode(*this);
  if (p.special) return "null";
  if (p.coefficient == 0) return "0";
  while (p.coefficient % 10 == 0) {
    p.coefficient /= 10;
    ++p.exponent;
  }
  const std::string digits = digits_of(p.coefficient);
  const int n = static_cast<int>(digits.size());
  std::string out = p.negative ? "-" : "";
  const int point = n + p.exponent;  // digits before the point
  if (p.exponent >= 0 && p.exponent <= kPlainZeros) {
    out += digits;
    out.append(static_cast<std::size_t>(p.exponent), '0');
  } else if (p.exponent < 0 && point > 0) {
    out += digits.substr(0, static_cast<std::size_t>(point));
    out += '.';
    out += digits.substr(static_cast<std::size_t>(point));
  } else if (p.exponent < 0 && -point <= kPlainZeros) {
    out += "0.";
    out.append(static_cast<std::size_t>(-point), '0');
    out += digits;
  } else {
    out += digits.substr(0, 1);
    if (n > 1) out += "." + digits.substr(1);
    out += "E" + std::string(point - 1 >= 0 ? "+" : "") + std::to_string(point - 1);
  }
  return out;
}

double Decimal::to_double() const noexcept {
  return std::decimal::decimal128_to_double(A::native(*this));
}

std::optional<std::int64_t> Decimal::to_int() const noexcept {
  Parts p = A::decode(*this);
  if (p.special) return std::nullopt;
  u128 c = p.coefficient;
  if (p.exponent < 0) {
    if (-p.exponent > 38) return c == 0 ? std::optional<std::int64_t>(0) : std::nullopt;
    const u128 scale = pow10(-p.exponent);
    if (c % scale != 0) return std::nullopt;
    c /= scale;
  } else if (c != 0) {
    if (p.exponent + digit_count(c) > 19) return std::nullopt;
    c *= pow10(p.exponent);
  }
  const u128 limit = p.negative ? u128{1} << 63 : (u128{1} << 63) - 1;
  if (c > limit) return std::nullopt;
  if (p.negative) return c == (u128{1} << 63) ? INT64_MIN : -static_cast<std::int64_t>(c);
  return static_cast<std::int64_t>(c);
}

bool Decimal::is_finite() const noexcept { return !A::decode(*this).special; }

bool Decimal::is_zero() const noexcept {
  const Parts p = A::decode(*this);
  return !p.special && p.coefficient == 0;
}

bool Decimal::is_negative() const noexcept {
  const Parts p = A::decode(*this);
  return p.negative && (p.special || p.coefficient != 0);
}

bool Decimal::is_whole() const noexcept {
  const Parts p = A::decode(*this);
  if (p.special) return false;
  if (p.exponent >= 0 || p.coefficient == 0) return true;
  if (-p.exponent > 38) return false;
  return p.coefficient % pow10(-p.exponent) == 0;
}

Decimal Decimal::operator+(const Decimal& o) const noexcept {
  return A::of(A::native(*this) + A::native(o));
}
Decimal Decimal::operator-(const Decimal& o) const noexcept {
  return A::of(A::native(*this) - A::native(o));
}
Decimal Decimal::operator*(const Decimal& o) const noexcept {
  return A::of(A::native(*this) * A::native(o));
}
Decimal Decimal::operator/(const Decimal& o) const noexcept {
  return A::of(A::native(*this) / A::native(o));
}
Decimal Decimal::operator-() const noexcept {
  Decimal d = *this;
  d.hi_ ^= std::uint64_t{1} << 63;
  return d;
}
Decimal Decimal::abs() const noexcept {
  Decimal d = *this;
  d.hi_ &= ~(std::uint64_t{1} << 63);
  return d;
}

int Decimal::compare(const Decimal& o) const noexcept {
  // On the coefficients: a few integer operations instead of a call into libgcc.
  const Parts a = A::decode(*this), b = A::decode(o);
  if (a.special || b.special) {
    const D128 x = A::native(*this), y = A::native(o);
    return x < y ? -1 : (y < x ? 1 : 0);
  }
  const int sa = a.coefficient == 0 ? 0 : (a.negative ? -1 : 1);
  const int sb = b.coefficient == 0 ? 0 : (b.negative ? -1 : 1);
  if (sa != sb || sa == 0) return sa < sb ? -1 : (sa > sb ? 1 : 0);
  // Same sign: compare magnitudes by their leading digit's power of ten, then digit by digit.
  const int ea = a.exponent + digit_count(a.coefficient);
  const int eb = b.exponent + digit_count(b.coefficient);
  int magnitude = 0;
  if (ea != eb) {
    magnitude = ea < eb ? -1 : 1;
  } else {
    // Equal leading powers: the exponents differ by fewer than 34, so scaling fits.
    u128 ca = a.coefficient, cb = b.coefficient;
    if (a.exponent > b.exponent) ca *= pow10(a.exponent - b.exponent);
    if (b.exponent > a.exponent) cb *= pow10(b.exponent - a.exponent);
    magnitude = ca < cb ? -1 : (ca > cb ? 1 : 0);
  }
  return sa > 0 ? magnitude : -magnitude;
}

Decimal Decimal::round(std::int64_t scale, Rounding mode) const noexcept {
  const Parts p = A::decode(*this);
  if (p.special || p.coefficient == 0) return *this;
  if (p.exponent >= -scale) return *this;  // no digits beyond the scale
  const std::int64_t drop = -scale - p.exponent;
  u128 q = 0, r = 0, half = 0;
  bool r_is_half = false, r_above_half = false;
  if (drop > 38) {  // every digit dropped; the rest is below half
    q = 0;
    r = p.coefficient;
  } else {
    const u128 unit = pow10(static_cast<int>(drop));
    q = p.coefficient / unit;
    r = p.coefficient % unit;
    half = unit / 2;
    r_is_half = r == half;
    r_above_half = r > half;
  }
  const bool inexact = r != 0;
  bool up = false;  // increase the magnitude
  switch (mode) {
    case Rounding::kFloor:
      up = inexact && p.negative;
      break;
    case Rounding::kCeiling:
      up = inexact && !p.negative;
      break;
    case Rounding::kUp:
      up = inexact;
      break;
    case Rounding::kDown:
      up = false;
      break;
    case Rounding::kHalfUp:
      up = r_above_half || r_is_half;
      break;
    case Rounding::kHalfDown:
      up = r_above_half;
      break;
    case Rounding::kHalfEven:
      up = r_above_half || (r_is_half && (q & 1) != 0);
      break;
  }
  if (up) ++q;
  const std::int64_t exponent = -scale;
  if (exponent > kMaxExponent || exponent < kMinExponent) return *this;
  return A::encode(p.negative && q != 0, q, static_cast<int>(exponent));
}

std::optional<Decimal> Decimal::pow(std::int64_t n) const noexcept {
  D128 base = A::native(*this), result(1);
  std::uint64_t e = n < 0 ? static_cast<std::uint64_t>(-(n + 1)) + 1 : static_cast<std::uint64_t>(n);
  while (e != 0) {
    if ((e & 1) != 0) result *= base;
    e >>= 1;
    if (e != 0) base *= base;
  }
  Decimal out = A::of(result);
  if (n < 0) {
    if (out.is_zero()) return std::nullopt;
    out = Decimal::from_int(1) / out;
  }
  if (!out.is_finite()) return std::nullopt;
  return out;
}

}  // namespace ordo::expr
