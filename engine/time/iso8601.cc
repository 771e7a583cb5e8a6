#include "time/iso8601.h"

#include <cstdint>
#include <cstdio>

namespace ordo::time {
namespace {

constexpr std::int64_t kMsPerSecond = 1000;
constexpr std::int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr std::int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr std::int64_t kMsPerDay = 24 * kMsPerHour;
// Durations fields are read into 32 bits; nine digits always fit.
constexpr std::size_t kMaxFieldDigits = 9;

bool digit(char c) {
  return c >= '0' && c <= '9';
}

bool expect(std::string_view s, std::size_t& i, char c) {
  if (i < s.size() && s[i] == c) {
    ++i;
    return true;
  }
  return false;
}

// Reads exactly `n` digits into `out`.
bool fixed(std::string_view s, std::size_t& i, std::size_t n, int& out) {
  out = 0;
  for (std::size_t k = 0; k < n; ++k, ++i) {
    if (i >= s.size() || !digit(s[i])) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Reads a fraction after '.' or ',' as milliseconds (digits past the third are dropped).
bool fraction_ms(std::string_view s, std::size_t& i, std::int64_t& ms) {
  std::size_t start = i;
  std::int64_t scale = 100;
  ms = 0;
  while (i < s.size() && digit(s[i])) {
    ms += (s[i] - '0') * scale;
    scale /= 10;
    ++i;
  }
  return i > start;
}

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
std::int64_t days_from_civil(std::int64_t y, std::int64_t m, std::int64_t d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  std::int64_t year;
  std::int64_t month;  // 1..12
  std::int64_t day;    // 1..31
};

// The inverse of days_from_civil.
Civil civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

bool leap_year(std::int64_t y) noexcept {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

std::int64_t days_in_month(std::int64_t y, std::int64_t m) noexcept {
  static constexpr std::int64_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap_year(y) ? 29 : kDays[m - 1];
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

std::optional<std::int64_t> parse_fixed_duration_ms(std::string_view s) noexcept {
  constexpr std::int64_t kDay = 86'400'000;
  if (s.size() > 32) return std::nullopt;
  const std::optional<Duration> d = parse_duration(s);
  // Bounded, so the sum cannot overflow.
  if (!d || d->negative || d->years != 0 || d->months != 0 || d->days > 3660 ||
      d->millis > 3660 * kDay) {
    return std::nullopt;
  }
  return d->days * kDay + d->millis;
}

std::optional<Duration> parse_duration(std::string_view s) noexcept {
  Duration d;
  std::size_t i = 0;
  if (expect(s, i, '-')) d.negative = true;
  if (!expect(s, i, 'P')) return std::nullopt;
  bool in_time = false, any = false;
  std::string_view date_units = "YMWD", time_units = "HMS";
  std::size_t last_unit = 0;  // units must appear in order, each at most once
  while (i < s.size()) {
    if (s[i] == 'T') {
      if (in_time) return std::nullopt;
      in_time = true;
      last_unit = 0;
      ++i;
      if (i == s.size()) return std::nullopt;  // "P1DT" has no time part
      continue;
    }
    std::size_t start = i;
    std::int64_t value = 0;
    while (i < s.size() && digit(s[i])) value = value * 10 + (s[i++] - '0');
    if (i == start || i - start > kMaxFieldDigits) return std::nullopt;
    std::int64_t frac = 0;
    bool has_fraction = false;
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
      ++i;
      if (!fraction_ms(s, i, frac)) return std::nullopt;
      has_fraction = true;
    }
    if (i >= s.size()) return std::nullopt;
    std::string_view units = in_time ? time_units : date_units;
    std::size_t u = units.find(s[i]);
    if (u == std::string_view::npos || u + 1 <= last_unit) return std::nullopt;
    if (has_fraction && !(in_time && s[i] == 'S')) return std::nullopt;
    last_unit = u + 1;
    any = true;
    const auto v32 = static_cast<std::int32_t>(value);
    if (!in_time) {
      switch (s[i]) {
        case 'Y':
          d.years = v32;
          break;
        case 'M':
          d.months = v32;
          break;
        case 'W':
          // In 64 bits: 7 times the largest field still fits; days is checked below.
          if (7LL * v32 + d.days > INT32_MAX) return std::nullopt;
          d.days += 7 * v32;
          break;
        default:
          d.days += v32;
          break;
      }
    } else {
      switch (s[i]) {
        case 'H':
          d.millis += value * kMsPerHour;
          break;
        case 'M':
          d.millis += value * kMsPerMinute;
          break;
        default:
          d.millis += value * kMsPerSecond + frac;
          break;
      }
    }
    ++i;
  }
  if (!any) return std::nullopt;
  return d;
}

std::string format_duration(const Duration& d) {
  std::string out = d.negative ? "-P" : "P";
  std::int64_t months = std::int64_t{d.years} * 12 + d.months;
  if (months / 12 != 0) out += std::to_string(months / 12) + "Y";
  if (months % 12 != 0) out += std::to_string(months % 12) + "M";
  if (d.days != 0) out += std::to_string(d.days) + "D";
  std::int64_t ms = d.millis;
  if (ms != 0) {
    out += 'T';
    if (ms / kMsPerHour != 0) out += std::to_string(ms / kMsPerHour) + "H";
    ms %= kMsPerHour;
    if (ms / kMsPerMinute != 0) out += std::to_string(ms / kMsPerMinute) + "M";
    ms %= kMsPerMinute;
    if (ms != 0) {
      out += std::to_string(ms / kMsPerSecond);
      if (ms % kMsPerSecond != 0) {
        char frac[8];
        std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms % kMsPerSecond));
        std::string_view f = frac;
        while (f.back() == '0') f.remove_suffix(1);
        out += f;
      }
      out += 'S';
    }
  }
  if (out.size() == (d.negative ? 2u : 1u)) out += "T0S";
  return out;
}

std::optional<std::int64_t> parse_date_time(std::string_view s) noexcept {
  std::size_t i = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!fixed(s, i, 4, year) || !expect(s, i, '-') || !fixed(s, i, 2, month) || !expect(s, i, '-') ||
      !fixed(s, i, 2, day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  if (!expect(s, i, 'T')) return std::nullopt;
  if (!fixed(s, i, 2, hour) || !expect(s, i, ':') || !fixed(s, i, 2, minute)) return std::nullopt;
  if (hour > 23 || minute > 59) return std::nullopt;
  std::int64_t ms = 0;
  if (expect(s, i, ':')) {
    if (!fixed(s, i, 2, second) || second > 60) return std::nullopt;  // 60: a leap second
    if (expect(s, i, '.') && !fraction_ms(s, i, ms)) return std::nullopt;
  }
  std::int64_t offset_minutes = 0;
  if (!expect(s, i, 'Z')) {
    if (i >= s.size() || (s[i] != '+' && s[i] != '-')) return std::nullopt;
    const bool minus = s[i++] == '-';
    int oh = 0, om = 0;
    if (!fixed(s, i, 2, oh) || !expect(s, i, ':') || !fixed(s, i, 2, om)) return std::nullopt;
    if (oh > 23 || om > 59) return std::nullopt;
    offset_minutes = (minus ? -1 : 1) * (oh * 60 + om);
  }
  if (i != s.size()) return std::nullopt;
  const std::int64_t days = days_from_civil(year, month, day);
  return days * kMsPerDay + hour * kMsPerHour + (minute - offset_minutes) * kMsPerMinute +
         second * kMsPerSecond + ms;
}

std::string format_date_time(std::int64_t epoch_ms) {
  const std::int64_t days = floor_div(epoch_ms, kMsPerDay);
  std::int64_t ms = epoch_ms - days * kMsPerDay;
  const Civil c = civil_from_days(days);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
                        static_cast<long long>(c.year), static_cast<long long>(c.month),
                        static_cast<long long>(c.day), static_cast<long long>(ms / kMsPerHour),
                        static_cast<long long>(ms / kMsPerMinute % 60),
                        static_cast<long long>(ms / kMsPerSecond % 60));
  std::string out(buf, static_cast<std::size_t>(n));
  if (ms % kMsPerSecond != 0) {
    std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(ms % kMsPerSecond));
    out += buf;
  }
  out += 'Z';
  return out;
}

std::int64_t add(std::int64_t epoch_ms, const Duration& d) noexcept {
  const std::int64_t sign = d.negative ? -1 : 1;
  std::int64_t days = floor_div(epoch_ms, kMsPerDay);
  const std::int64_t time_of_day = epoch_ms - days * kMsPerDay;
  if (d.years != 0 || d.months != 0) {
    const Civil c = civil_from_days(days);
    const std::int64_t months =
        c.year * 12 + (c.month - 1) + sign * (std::int64_t{d.years} * 12 + d.months);
    const std::int64_t year = floor_div(months, 12);
    const std::int64_t month = months - year * 12 + 1;
    // Like java.time: the 31st plus one month is the last day of a shorter month.
    const std::int64_t day =
        c.day < days_in_month(year, month) ? c.day : days_in_month(year, month);
    days = days_from_civil(year, month, day);
  }
  days += sign * d.days;
  return days * kMsPerDay + time_of_day + sign * d.millis;
}

bool within_horizon(const Duration& d) noexcept {
  constexpr std::int64_t kYears = 10000;
  constexpr std::int64_t kDays = kYears * 366;
  return d.years <= kYears && d.months <= 12 * kYears && d.days <= kDays &&
         d.millis <= kDays * kMsPerDay;
}

std::optional<std::int64_t> add_within(std::int64_t epoch_ms, const Duration& d) noexcept {
  if (!within_horizon(d) || epoch_ms < kEarliestMs || epoch_ms > kLatestMs) return std::nullopt;
  const std::int64_t out = add(epoch_ms, d);
  if (out < kEarliestMs || out > kLatestMs) return std::nullopt;
  return out;
}

std::optional<Cycle> parse_cycle(std::string_view s) noexcept {
  Cycle c;
  std::size_t i = 0;
  if (!expect(s, i, 'R')) return std::nullopt;
  std::size_t start = i;
  std::int64_t n = 0;
  while (i < s.size() && digit(s[i])) n = n * 10 + (s[i++] - '0');
  if (i - start > kMaxFieldDigits) return std::nullopt;
  if (i > start) c.repetitions = static_cast<std::int32_t>(n);
  if (!expect(s, i, '/')) return std::nullopt;
  std::string_view rest = s.substr(i);
  std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    auto d = parse_duration(rest);
    if (!d || d->negative) return std::nullopt;
    c.interval = *d;
    return c;
  }
  std::string_view first = rest.substr(0, slash), second = rest.substr(slash + 1);
  if (auto begin = parse_date_time(first)) {  // R/start/duration
    auto d = parse_duration(second);
    if (!d || d->negative) return std::nullopt;
    c.start_ms = begin;
    c.interval = *d;
    return c;
  }
  // R<n>/duration/end: n intervals that finish at `end`, so the first starts n intervals
  // earlier. With no count there is no first interval, so "R/duration/end" is rejected.
  auto d = parse_duration(first);
  auto end = parse_date_time(second);
  if (!d || d->negative || !end || c.repetitions < 0) return std::nullopt;
  const std::int64_t reps = c.repetitions;
  const std::int64_t back_years = reps * d->years, back_months = reps * d->months,
                     back_days = reps * d->days;
  constexpr std::int64_t kMax32 = 0x7fffffff;
  if (back_years > kMax32 || back_months > kMax32 || back_days > kMax32 ||
      (d->millis != 0 && reps > (std::int64_t{1} << 62) / d->millis)) {
    return std::nullopt;
  }
  Duration back{static_cast<std::int32_t>(back_years), static_cast<std::int32_t>(back_months),
                static_cast<std::int32_t>(back_days), reps * d->millis, true};
  // The first firing, that many intervals before the end: within the years 0000 to 9999.
  c.start_ms = add_within(*end, back);
  if (!c.start_ms) return std::nullopt;
  c.interval = *d;
  return c;
}

bool is_iso_duration(std::string_view s) noexcept {
  auto d = parse_duration(s);
  return d && !d->negative;
}

bool is_iso_date_time(std::string_view s) noexcept {
  return parse_date_time(s).has_value();
}

bool is_iso_cycle(std::string_view s) noexcept {
  return parse_cycle(s).has_value();
}

}  // namespace ordo::time
