// Instances started and ended per minute, and the time they took to each end event, as the
// engine keeps them in its database while it writes the instances (in the same
// transaction, each node in its own rows): what the console's dashboard shows, the same
// whichever node is asked (Engine::instances_per_minute(), Engine::cycle_times()).
#pragma once

#include <cstdint>
#include <string>

namespace ordo {

struct MinuteCount {
  std::string process_id;
  std::int64_t minute_ms = 0;  // the minute's start, ms since 1970 (engine clock)
  std::int64_t started = 0;
  std::int64_t completed = 0;
  std::int64_t terminated = 0;
};

// The cycle times of the instances of a process that completed at one end event: start to
// end, from a histogram with buckets 25% apart (each figure is its bucket's upper bound,
// so at most 25% above the true value).
struct CycleTime {
  std::string process_id;
  std::string end_event;
  std::int64_t count = 0;
  std::int64_t p50_ms = 0;
  std::int64_t p95_ms = 0;
};

// The start of the minute that holds `ms` (ms since 1970, also before it): what the
// per-minute counts are keyed by.
std::int64_t minute_start(std::int64_t ms) noexcept;

// The histogram's bucket of a duration, and the longest duration a bucket holds.
int cycle_bucket(std::int64_t ms) noexcept;
std::int64_t cycle_bucket_upper_ms(int bucket) noexcept;

}  // namespace ordo
