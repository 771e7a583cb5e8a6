// Clock: where the engine reads the time. Nothing in Ordo reads the wall clock or sleeps
// directly; production uses SystemClock, tests and simulation a VirtualClock they advance by
// hand, so the same commands with the same clock always give the same history.
#pragma once

#include <atomic>
#include <cstdint>

namespace ordo {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch, UTC. Thread-safe.
  virtual std::int64_t now_ms() const noexcept = 0;
};

// The operating system's real-time clock.
class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const noexcept override;
};

// A clock that moves only when told to. Thread-safe; it never goes backwards.
class VirtualClock final : public Clock {
 public:
  explicit VirtualClock(std::int64_t start_ms = 0) noexcept : now_(start_ms) {}
  std::int64_t now_ms() const noexcept override { return now_.load(std::memory_order_acquire); }
  // Moves the clock forward by `ms` (negative values are ignored).
  void advance(std::int64_t ms) noexcept;
  // Sets the clock to `ms` if that is not in the past.
  void set(std::int64_t ms) noexcept;

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace ordo
