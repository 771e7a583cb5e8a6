// ISO 8601 timer values as BPMN timers use them: durations (PT30M, P1DT2H), date-times
// (2026-12-01T10:00:00Z) and repeating intervals (R3/PT10M, R/2026-12-01T10:00:00Z/P1D).
// The loader uses these to check static timer values; the scheduler will use them to compute
// due times.
#pragma once

#include <string_view>

namespace ordo::time {

bool is_iso_duration(std::string_view s) noexcept;
// A date and time with an offset or 'Z'. A time without an offset is ambiguous and rejected.
bool is_iso_date_time(std::string_view s) noexcept;
bool is_iso_cycle(std::string_view s) noexcept;

}  // namespace ordo::time

#include <cstdint>
#include <optional>
#include <string>

namespace ordo::time {

// A parsed ISO 8601 duration: a calendar part (years, months, days — added by the calendar,
// in UTC) and an exact part in milliseconds (hours, minutes, seconds with fractions).
// Weeks count as 7 days.
struct Duration {
  std::int32_t years = 0;
  std::int32_t months = 0;
  std::int32_t days = 0;
  std::int64_t millis = 0;
  bool negative = false;  // "-PT5M" (FEEL durations may be negative)

  bool operator==(const Duration&) const = default;
};

std::optional<Duration> parse_duration(std::string_view s) noexcept;
// A duration of a fixed length (days, hours, minutes, seconds; no years or months, not
// negative) of at most ten years (3660 days), in milliseconds: lock times, time-outs,
// windows, latencies. nullopt for anything else.
std::optional<std::int64_t> parse_fixed_duration_ms(std::string_view s) noexcept;
// "PT30M", "P1DT2H", "PT0S"; "-PT5M" when negative.
std::string format_duration(const Duration& d);

// Milliseconds since the epoch, UTC. Accepts 'Z' or a ±hh:mm offset, optional fractions.
std::optional<std::int64_t> parse_date_time(std::string_view s) noexcept;
// "2026-12-01T10:00:00Z"; milliseconds printed only when not zero ("...:00.250Z").
std::string format_date_time(std::int64_t epoch_ms);

// `epoch_ms` plus (or minus, when negative) `d`: calendar fields first, then the exact part.
// Only for values known to be within the horizon (below); add_within() checks.
std::int64_t add(std::int64_t epoch_ms, const Duration& d) noexcept;

// The horizon: times Ordo computes with are within the years 0000 to 9999, as ISO 8601's
// four-digit years are (0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z).
inline constexpr std::int64_t kEarliestMs = -62167219200000;
inline constexpr std::int64_t kLatestMs = 253402300799999;
// Whether each field of `d` spans less than 10,000 years (so adding it cannot overflow).
bool within_horizon(const Duration& d) noexcept;
// `epoch_ms` plus `d`, or nullopt when `d` or the result lies beyond the horizon.
std::optional<std::int64_t> add_within(std::int64_t epoch_ms, const Duration& d) noexcept;

// A repeating interval: "R3/PT10M", "R/PT1H", "R5/2026-12-01T10:00:00Z/P1D".
struct Cycle {
  std::int32_t repetitions = -1;         // -1: unbounded ("R/...")
  std::optional<std::int64_t> start_ms;  // when given, the first firing is at start
  Duration interval;
};
std::optional<Cycle> parse_cycle(std::string_view s) noexcept;

}  // namespace ordo::time
