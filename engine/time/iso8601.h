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
