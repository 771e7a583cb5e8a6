#include "ordo/clock.h"

#include <chrono>

namespace ordo {

std::int64_t SystemClock::now_ms() const noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void VirtualClock::advance(std::int64_t ms) noexcept {
  if (ms > 0) now_.fetch_add(ms, std::memory_order_acq_rel);
}

void VirtualClock::set(std::int64_t ms) noexcept {
  std::int64_t cur = now_.load(std::memory_order_acquire);
  while (ms > cur && !now_.compare_exchange_weak(cur, ms, std::memory_order_acq_rel)) {
  }
}

}  // namespace ordo
