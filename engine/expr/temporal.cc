#include "expr/temporal.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>

#include <date/tz.h>

namespace ordo::expr {
namespace {

constexpr std::int64_t kSecondsPerDay = 86'400;
// date::year holds ±32,767; offsets of zones by name are looked up within that, beyond it the
// zone's offset at the edge applies (it has long been its local mean time by then).
constexpr std::int64_t kZoneEdgeSeconds = 32'000LL * 366 * kSecondsPerDay;

// Reads exactly `count` digits at `s[i]`; -1 when they are not there.
std::int64_t fixed_digits(std::string_view s, std::size_t& i, std::size_t count) noexcept {
  if (i + count > s.size()) return -1;
  std::int64_t v = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const char c = s[i + k];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  i += count;
  return v;
}

// Reads one or more digits (at most 18, so the value fits); -1 when there are none.
std::int64_t digits(std::string_view s, std::size_t& i) noexcept {
  const std::size_t start = i;
  std::int64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (i - start == 18) return -1;
    v = v * 10 + (s[i] - '0');
    ++i;
  }
  return i == start ? -1 : v;
}

// ".123" after the seconds: nanoseconds (digits beyond the ninth are dropped).
bool fraction(std::string_view s, std::size_t& i, std::int64_t& nanos, bool allow_empty) noexcept {
  nanos = 0;
  if (i >= s.size() || (s[i] != '.' && s[i] != ',')) return true;
  ++i;
  std::int64_t scale = 100'000'000;
  const std::size_t start = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    nanos += (s[i] - '0') * scale;
    scale /= 10;
    ++i;
  }
  return allow_empty || i > start;
}

const date::time_zone* tz_of(const Zone& zone) noexcept {
  return static_cast<const date::time_zone*>(zone.tz);
}

void append_two(std::string& out, std::int64_t v) {
  out += static_cast<char>('0' + v / 10);
  out += static_cast<char>('0' + v % 10);
}

// ".25" for 250,000,000 nanoseconds: the fraction of a second without trailing zeros; nothing
// for none.
void append_fraction(std::string& out, std::int64_t frac) {
  if (frac == 0) return;
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%09lld", static_cast<long long>(frac));
  std::string_view f(buf);
  while (f.back() == '0') f.remove_suffix(1);
  out += f;
}

// "HH:MM:SS" and a fraction without trailing zeros.
void append_clock(std::string& out, std::int64_t nanos) {
  const std::int64_t seconds = nanos / kNanosPerSecond;
  append_two(out, seconds / 3600);
  out += ':';
  append_two(out, seconds / 60 % 60);
  out += ':';
  append_two(out, seconds % 60);
  append_fraction(out, nanos % kNanosPerSecond);
}

void append_zone(std::string& out, const Zone& zone) {
  if (zone.kind == ZoneKind::kId) {
    out += '@';
    out += zone_id(zone);
  } else if (zone.kind == ZoneKind::kOffset) {
    out += zone_text(zone);
  }
}

}  // namespace

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

std::int64_t floor_mod(std::int64_t a, std::int64_t b) noexcept { return a - floor_div(a, b) * b; }

// H. Hinnant's algorithms (days from civil and back), for any int64 year in range.
std::int64_t days_from_civil(std::int64_t year, int month, int day) noexcept {
  const std::int64_t y = year - (month <= 2 ? 1 : 0);
  const std::int64_t era = floor_div(y, 400);
  const std::int64_t yoe = y - era * 400;
  const std::int64_t mp = month > 2 ? month - 3 : month + 9;
  const std::int64_t doy = (153 * mp + 2) / 5 + day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Civil civil_from_days(std::int64_t days) noexcept {
  const std::int64_t z = days + 719468;
  const std::int64_t era = floor_div(z, 146097);
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return Civil{yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

int days_in_month(std::int64_t year, int month) noexcept {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = floor_mod(year, 4) == 0 && (floor_mod(year, 100) != 0 || floor_mod(year, 400) == 0);
  return month == 2 && leap ? 29 : kDays[month - 1];
}

bool valid_civil(std::int64_t year, std::int64_t month, std::int64_t day) noexcept {
  return year >= -kMaxYear && year <= kMaxYear && month >= 1 && month <= 12 && day >= 1 &&
         day <= days_in_month(year, static_cast<int>(month));
}

int iso_weekday(std::int64_t days) noexcept {
  return static_cast<int>(floor_mod(days + 3, 7)) + 1;  // 1970-01-01 was a Thursday
}

std::optional<std::int64_t> parse_date(std::string_view s) noexcept {
  std::size_t i = 0;
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) ++i;
  const std::size_t year_start = i;
  const std::int64_t year = digits(s, i);
  const std::size_t year_digits = i - year_start;
  if (year < 0 || year_digits < 4 || year_digits > 9) return std::nullopt;
  if (year_digits > 4 && s[year_start] == '0') return std::nullopt;
  if (i >= s.size() || s[i++] != '-') return std::nullopt;
  const std::int64_t month = fixed_digits(s, i, 2);
  if (month < 0 || i >= s.size() || s[i++] != '-') return std::nullopt;
  const std::int64_t day = fixed_digits(s, i, 2);
  if (day < 0 || i != s.size()) return std::nullopt;
  const std::int64_t y = negative ? -year : year;
  if (!valid_civil(y, month, day)) return std::nullopt;
  return days_from_civil(y, static_cast<int>(month), static_cast<int>(day));
}

std::optional<Zone> zone_named(std::string_view name) noexcept {
  if (name.empty()) return std::nullopt;
  try {
    const date::time_zone* tz = date::locate_zone(name);
    return Zone{ZoneKind::kId, 0, tz};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<TimeOfDay> parse_time(std::string_view s) noexcept {
  std::size_t i = 0;
  const std::int64_t h = fixed_digits(s, i, 2);
  if (h < 0 || i >= s.size() || s[i++] != ':') return std::nullopt;
  const std::int64_t m = fixed_digits(s, i, 2);
  if (m < 0 || i >= s.size() || s[i++] != ':') return std::nullopt;
  const std::int64_t sec = fixed_digits(s, i, 2);
  if (sec < 0 || h > 23 || m > 59 || sec > 59) return std::nullopt;
  std::int64_t frac = 0;
  if (!fraction(s, i, frac, false)) return std::nullopt;
  TimeOfDay t;
  t.nanos = ((h * 60 + m) * 60 + sec) * kNanosPerSecond + frac;
  if (i == s.size()) return t;
  const char c = s[i];
  if (c == 'Z' && i + 1 == s.size()) {
    t.zone = Zone::utc();
    return t;
  }
  if (c == '@') {
    std::optional<Zone> z = zone_named(s.substr(i + 1));
    if (!z) return std::nullopt;
    t.zone = *z;
    return t;
  }
  if (c != '+' && c != '-') return std::nullopt;
  ++i;
  const std::int64_t oh = fixed_digits(s, i, 2);
  if (oh < 0 || i >= s.size() || s[i++] != ':') return std::nullopt;
  const std::int64_t om = fixed_digits(s, i, 2);
  if (om < 0) return std::nullopt;
  std::int64_t os = 0;
  if (i < s.size() && s[i] == ':') {
    ++i;
    os = fixed_digits(s, i, 2);
    if (os < 0) return std::nullopt;
  }
  if (i != s.size() || om > 59 || os > 59) return std::nullopt;
  const std::int64_t offset = (oh * 60 + om) * 60 + os;
  if (offset > 18 * 3600) return std::nullopt;
  t.zone = Zone{ZoneKind::kOffset, static_cast<std::int32_t>(c == '-' ? -offset : offset), nullptr};
  return t;
}

std::optional<DateTime> parse_date_time(std::string_view s) noexcept {
  const std::size_t t = s.find('T');
  if (t == std::string_view::npos) {
    std::optional<std::int64_t> d = parse_date(s);
    if (!d) return std::nullopt;
    return DateTime{*d, 0, Zone{}};
  }
  std::optional<std::int64_t> d = parse_date(s.substr(0, t));
  std::string_view clock = s.substr(t + 1);
  // "24:00:00" is the midnight that ends the day (XML Schema), the next day's 00:00:00.
  const bool end_of_day = clock.starts_with("24:00:00") &&
                          (clock.size() == 8 || (clock[8] != '.' && clock[8] != ','));
  std::string next_day;
  if (end_of_day) next_day = "00" + std::string(clock.substr(2));
  std::optional<TimeOfDay> tod = parse_time(end_of_day ? std::string_view(next_day) : clock);
  if (!d || !tod) return std::nullopt;
  return DateTime{*d + (end_of_day ? 1 : 0), tod->nanos, tod->zone};
}

std::optional<FeelDuration> parse_duration(std::string_view s) noexcept {
  std::size_t i = 0;
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) ++i;
  if (i >= s.size() || s[i++] != 'P' || i == s.size()) return std::nullopt;
  std::int64_t months = 0, nanos = 0;
  bool ym = false, dt = false, in_time = false;
  // Designators in the order they must come: Y M W D, then after T: H M S.
  int last = -1;
  while (i < s.size()) {
    if (s[i] == 'T') {
      if (in_time || i + 1 == s.size()) return std::nullopt;
      in_time = true;
      last = 3;
      ++i;
      continue;
    }
    const std::int64_t n = digits(s, i);
    if (n < 0 || i >= s.size()) return std::nullopt;
    std::int64_t frac = 0;
    const bool has_fraction = s[i] == '.' || s[i] == ',';
    if (has_fraction && !fraction(s, i, frac, true)) return std::nullopt;
    if (i >= s.size()) return std::nullopt;
    const char unit = s[i++];
    int order = -1;
    std::int64_t add_months = 0, unit_nanos = 0;
    if (!in_time) {
      switch (unit) {
        case 'Y': order = 0, add_months = 12; break;
        case 'M': order = 1, add_months = 1; break;
        case 'W': order = 2, unit_nanos = 7 * kNanosPerDay; break;
        case 'D': order = 3, unit_nanos = kNanosPerDay; break;
        default: return std::nullopt;
      }
    } else {
      switch (unit) {
        case 'H': order = 4, unit_nanos = 3600 * kNanosPerSecond; break;
        case 'M': order = 5, unit_nanos = 60 * kNanosPerSecond; break;
        case 'S': order = 6, unit_nanos = kNanosPerSecond; break;
        default: return std::nullopt;
      }
    }
    if (order <= last || (has_fraction && unit != 'S')) return std::nullopt;
    last = order;
    if (add_months != 0) {
      ym = true;
      std::int64_t m = 0;
      if (__builtin_mul_overflow(n, add_months, &m) || __builtin_add_overflow(months, m, &months)) {
        return std::nullopt;
      }
    } else {
      dt = true;
      std::int64_t part = 0;
      if (__builtin_mul_overflow(n, unit_nanos, &part) || __builtin_add_overflow(part, frac, &part) ||
          __builtin_add_overflow(nanos, part, &nanos)) {
        return std::nullopt;
      }
    }
  }
  if (ym == dt) return std::nullopt;  // nothing, or both kinds
  const std::int64_t v = ym ? months : nanos;
  if (v == INT64_MIN) return std::nullopt;
  return FeelDuration{ym, negative ? -v : v};
}

std::string zone_text(const Zone& zone) {
  if (zone.kind == ZoneKind::kId) return std::string(zone_id(zone));
  if (zone.kind == ZoneKind::kLocal) return {};
  if (zone.offset_s == 0) return "Z";
  std::string out(1, zone.offset_s < 0 ? '-' : '+');
  const std::int64_t off = zone.offset_s < 0 ? -std::int64_t{zone.offset_s} : zone.offset_s;
  append_two(out, off / 3600);
  out += ':';
  append_two(out, off / 60 % 60);
  if (off % 60 != 0) {
    out += ':';
    append_two(out, off % 60);
  }
  return out;
}

std::string_view zone_id(const Zone& zone) {
  return zone.kind == ZoneKind::kId ? std::string_view(tz_of(zone)->name()) : std::string_view();
}

std::string format_date(std::int64_t days) {
  const Civil c = civil_from_days(days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%04lld-%02d-%02d", c.year < 0 ? "-" : "",
                static_cast<long long>(c.year < 0 ? -c.year : c.year), c.month, c.day);
  return buf;
}

std::string format_time(std::int64_t nanos, const Zone& zone) {
  std::string out;
  append_clock(out, nanos);
  append_zone(out, zone);
  return out;
}

std::string format_date_time(std::int64_t days, std::int64_t nanos, const Zone& zone) {
  std::string out = format_date(days);
  out += 'T';
  append_clock(out, nanos);
  append_zone(out, zone);
  return out;
}

std::string format_years_months(std::int64_t months) {
  if (months == 0) return "P0M";
  std::string out = months < 0 ? "-P" : "P";
  const std::int64_t m = months < 0 ? -months : months;
  if (m / 12 != 0) out += std::to_string(m / 12) + "Y";
  if (m % 12 != 0) out += std::to_string(m % 12) + "M";
  return out;
}

std::string format_days_time(std::int64_t nanos) {
  if (nanos == 0) return "PT0S";
  std::string out = nanos < 0 ? "-P" : "P";
  // Magnitude without overflow at INT64_MIN: work on the negative side.
  const std::int64_t neg = nanos < 0 ? nanos : -nanos;
  const std::int64_t days = -(neg / kNanosPerDay);
  const std::int64_t rest = -(neg % kNanosPerDay);
  if (days != 0) out += std::to_string(days) + "D";
  if (rest == 0) return out;
  out += 'T';
  const std::int64_t seconds = rest / kNanosPerSecond, frac = rest % kNanosPerSecond;
  if (seconds / 3600 != 0) out += std::to_string(seconds / 3600) + "H";
  if (seconds / 60 % 60 != 0) out += std::to_string(seconds / 60 % 60) + "M";
  if (seconds % 60 != 0 || frac != 0) {
    out += std::to_string(seconds % 60);
    append_fraction(out, frac);
    out += 'S';
  }
  return out;
}

std::int32_t offset_at_utc(const Zone& zone, std::int64_t utc_seconds) noexcept {
  if (zone.kind != ZoneKind::kId) return zone.kind == ZoneKind::kOffset ? zone.offset_s : 0;
  const std::int64_t s = std::clamp(utc_seconds, -kZoneEdgeSeconds, kZoneEdgeSeconds);
  try {
    const date::sys_info info = tz_of(zone)->get_info(date::sys_seconds{std::chrono::seconds{s}});
    return static_cast<std::int32_t>(info.offset.count());
  } catch (const std::exception&) {
    return 0;
  }
}

std::int32_t offset_at_local(const Zone& zone, std::int64_t days, std::int64_t nanos) noexcept {
  if (zone.kind != ZoneKind::kId) return zone.kind == ZoneKind::kOffset ? zone.offset_s : 0;
  const std::int64_t local = std::clamp(days, -kZoneEdgeSeconds / kSecondsPerDay,
                                        kZoneEdgeSeconds / kSecondsPerDay) *
                                 kSecondsPerDay +
                             nanos / kNanosPerSecond;
  try {
    const date::local_info info =
        tz_of(zone)->get_info(date::local_seconds{std::chrono::seconds{local}});
    return static_cast<std::int32_t>(info.first.offset.count());
  } catch (const std::exception&) {
    return 0;
  }
}

DateTime normalized(std::int64_t days, std::int64_t nanos, const Zone& zone) noexcept {
  return DateTime{days + floor_div(nanos, kNanosPerDay), floor_mod(nanos, kNanosPerDay), zone};
}

DateTime to_utc(const DateTime& t) noexcept {
  if (t.zone.kind == ZoneKind::kLocal) return t;
  const std::int64_t offset = offset_at_local(t.zone, t.days, t.nanos);
  return normalized(t.days, t.nanos - offset * kNanosPerSecond, Zone::utc());
}

DateTime from_utc(std::int64_t days, std::int64_t nanos, const Zone& zone) noexcept {
  const DateTime u = normalized(days, nanos, zone);
  const std::int64_t offset = offset_at_utc(zone, u.days * kSecondsPerDay + u.nanos / kNanosPerSecond);
  return normalized(u.days, u.nanos + offset * kNanosPerSecond, zone);
}

std::optional<std::int64_t> add_months(std::int64_t days, std::int64_t months) noexcept {
  const Civil c = civil_from_days(days);
  std::int64_t total = 0;
  if (__builtin_add_overflow(c.year * 12 + (c.month - 1), months, &total)) return std::nullopt;
  const std::int64_t year = floor_div(total, 12);
  const int month = static_cast<int>(floor_mod(total, 12)) + 1;
  if (year < -kMaxYear || year > kMaxYear) return std::nullopt;
  return days_from_civil(year, month, std::min(c.day, days_in_month(year, month)));
}

std::optional<std::int64_t> nanos_between(const DateTime& a, const DateTime& b) noexcept {
  std::int64_t day_part = 0, out = 0;
  if (__builtin_mul_overflow(a.days - b.days, kNanosPerDay, &day_part) ||
      __builtin_add_overflow(day_part, a.nanos - b.nanos, &out)) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::int64_t> instant_ms(std::string_view text) noexcept {
  const std::optional<DateTime> t = parse_date_time(text);
  if (!t || t->days < days_from_civil(0, 1, 1) || t->days > days_from_civil(9999, 12, 31)) {
    return std::nullopt;
  }
  const DateTime u = to_utc(*t);
  return u.days * kSecondsPerDay * 1000 + u.nanos / 1'000'000;
}

std::int64_t months_between(const DateTime& from, const DateTime& to) noexcept {
  const Civil f = civil_from_days(from.days), t = civil_from_days(to.days);
  std::int64_t months = (t.year - f.year) * 12 + (t.month - f.month);
  const auto rest = [](const Civil& c, const DateTime& d) {
    return std::int64_t{c.day} * kNanosPerDay + d.nanos;
  };
  if (months > 0 && rest(t, to) < rest(f, from)) --months;
  if (months < 0 && rest(t, to) > rest(f, from)) ++months;
  return months;
}

}  // namespace ordo::expr
