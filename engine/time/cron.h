// Cron expressions in a timer's timeCycle, as Zeebe (Spring: "second minute hour day month
// weekday", e.g. "0 0 9 * * MON-FRI") and Camunda 7 (Quartz: the same with "?" and an
// optional year) write them; five fields are read as Unix cron (no seconds). Times are UTC,
// unless the expression starts with a time zone: "CRON_TZ=Europe/Berlin 0 0 9 * * MON-FRI"
// (as cronie writes it; "TZ=" too) is 09:00 in Berlin, summer and winter. A local time that
// a clock change skips is skipped; one it repeats fires once, the first time.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ordo/status.h"

namespace ordo::time {

struct Cron {
  std::bitset<60> seconds, minutes;
  std::bitset<24> hours;
  std::bitset<32> days;     // of the month, 1-31
  std::bitset<13> months;   // 1-12
  std::bitset<7> weekdays;  // 0 = Sunday
  bool any_day = true;      // the day-of-month field is * or ?
  bool any_weekday = true;  // the day-of-week field is * or ?
  std::bitset<200> years;   // 1970 + i; all set unless a Quartz year field says otherwise
  const void* zone = nullptr;  // the IANA time zone (a date::time_zone), or null: UTC
};

// Whether `text` looks like a cron expression (5 to 7 fields, after an optional CRON_TZ=),
// not an ISO 8601 cycle.
bool looks_like_cron(std::string_view text) noexcept;

// kInvalidArgument naming the field and what it allows.
Result<Cron> parse_cron(std::string_view text);

// The first time after `after_ms` (ms since 1970, UTC) the expression matches, to the
// second; nullopt when none comes before the year 2169.
std::optional<std::int64_t> next_cron_time(const Cron& cron, std::int64_t after_ms);

}  // namespace ordo::time
