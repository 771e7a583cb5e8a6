// FEEL's temporal values (DMN 1.5, 10.3.2.3): dates, times of day, dates and times, and the two
// kinds of duration, as text and as numbers.
//
// A date is a count of days since 1970-01-01 in the proleptic Gregorian calendar, years from
// -999,999,999 to 999,999,999. A time of day is nanoseconds since midnight. A time or date and
// time has a Zone: none (a local value, "10:00:00"), a fixed offset ("+02:00", "Z"), or an IANA
// zone ("@Europe/Paris", whose offset depends on the date). A years-and-months duration is a
// count of months; a days-and-time duration a count of nanoseconds (about ±292 years).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ordo::expr {

inline constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
inline constexpr std::int64_t kNanosPerDay = 86'400 * kNanosPerSecond;
inline constexpr std::int64_t kMaxYear = 999'999'999;

enum class ZoneKind : std::uint8_t { kLocal, kOffset, kId };

struct Zone {
  ZoneKind kind = ZoneKind::kLocal;
  std::int32_t offset_s = 0;  // kOffset: seconds east of UTC
  const void* tz = nullptr;   // kId: a date::time_zone, alive as long as the process

  bool operator==(const Zone&) const = default;
  static Zone utc() { return Zone{ZoneKind::kOffset, 0, nullptr}; }
};

struct Civil {
  std::int64_t year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

std::int64_t days_from_civil(std::int64_t year, int month, int day) noexcept;
Civil civil_from_days(std::int64_t days) noexcept;
int days_in_month(std::int64_t year, int month) noexcept;
// Whether year, month and day name a day of the calendar (and the year is within ±kMaxYear).
bool valid_civil(std::int64_t year, std::int64_t month, std::int64_t day) noexcept;
// 1 (Monday) to 7 (Sunday).
int iso_weekday(std::int64_t days) noexcept;

// Floor division and its remainder (the remainder has the divisor's sign).
std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept;
std::int64_t floor_mod(std::int64_t a, std::int64_t b) noexcept;

struct TimeOfDay {
  std::int64_t nanos = 0;
  Zone zone;
};
struct DateTime {
  std::int64_t days = 0;
  std::int64_t nanos = 0;  // of the day, local to the zone
  Zone zone;
};
struct FeelDuration {
  bool years_months = false;
  std::int64_t value = 0;  // months, or nanoseconds
};

// The text forms of date(), time(), date and time() and duration(); nullopt when `s` is not
// one. A date and time may be a date alone (midnight, local).
std::optional<std::int64_t> parse_date(std::string_view s) noexcept;
std::optional<TimeOfDay> parse_time(std::string_view s) noexcept;
std::optional<DateTime> parse_date_time(std::string_view s) noexcept;
// "P1Y2M" (years and months) or "P1DT2H3M4.5S" (days and time), either with a leading '-'.
// Both kinds at once ("P1Y2D") are nullopt: FEEL keeps them apart.
std::optional<FeelDuration> parse_duration(std::string_view s) noexcept;
// The zone of an IANA name ("Europe/Paris"); nullopt when the time zone database has none.
std::optional<Zone> zone_named(std::string_view name) noexcept;

// The FEEL string() forms: "2017-01-01", "-2017-12-31", "10:30:00.25+02:00",
// "10:30:00@Europe/Paris", "2017-01-01T10:30:00Z", "P1Y2M", "-P1DT2H", "P0M", "PT0S".
std::string format_date(std::int64_t days);
std::string format_time(std::int64_t nanos, const Zone& zone);
std::string format_date_time(std::int64_t days, std::int64_t nanos, const Zone& zone);
std::string format_years_months(std::int64_t months);
std::string format_days_time(std::int64_t nanos);
// "+02:00", "Z", "Europe/Paris"; "" for a local value.
std::string zone_text(const Zone& zone);
std::string_view zone_id(const Zone& zone);

// The offset from UTC, in seconds, of a zone at the local time `days`/`nanos` (for a zone by
// name: its offset then; the earlier one when the local time happens twice, the one before a
// gap when it does not happen). 0 for a local value.
std::int32_t offset_at_local(const Zone& zone, std::int64_t days, std::int64_t nanos) noexcept;
// The offset of a zone at the UTC instant `utc_seconds`.
std::int32_t offset_at_utc(const Zone& zone, std::int64_t utc_seconds) noexcept;

// A zoned date and time as UTC days and nanoseconds of the day (a local one as it is).
DateTime to_utc(const DateTime& t) noexcept;
// The UTC instant `utc` (days, nanos) seen in `zone`.
DateTime from_utc(std::int64_t days, std::int64_t nanos, const Zone& zone) noexcept;
// `days` and `nanos` with nanos brought into one day.
DateTime normalized(std::int64_t days, std::int64_t nanos, const Zone& zone) noexcept;

// `t` plus `months` by the calendar: the day of the month kept, or the month's last day when
// it has fewer. nullopt beyond ±kMaxYear.
std::optional<std::int64_t> add_months(std::int64_t days, std::int64_t months) noexcept;
// a - b in nanoseconds (both UTC or both local); nullopt when it does not fit.
std::optional<std::int64_t> nanos_between(const DateTime& a, const DateTime& b) noexcept;
// The instant a FEEL date and time text names, in epoch milliseconds: what a timer's
// expression may give ("2026-12-01T10:00:00@Europe/Paris"; a local one is taken as UTC).
// nullopt when `text` is none or lies outside the years 0000 to 9999.
std::optional<std::int64_t> instant_ms(std::string_view text) noexcept;
// Whole months from `from` to `to` (negative when `to` is earlier), as years and months
// duration() counts them.
std::int64_t months_between(const DateTime& from, const DateTime& to) noexcept;

}  // namespace ordo::expr
