// What the queue consumers and the event publisher share (internal): reading settings, and
// a stop signal that wakes a backoff.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ordo/status.h"

namespace ordo::adapters::queue {

inline constexpr std::int64_t kFirstBackoffMs = 200;
inline constexpr std::int64_t kMaxBackoffMs = 10'000;
inline constexpr std::int64_t kConfirmMs = 10'000;

inline Status bad(const std::string& where, const std::string& why) {
  return Status::invalid_argument(where + ": " + why);
}

// Reads the keys of `object` with `read`, refusing any key not in `known`.
template <typename Read>
Status read_keys(const nlohmann::json& object, const std::string& where,
                 std::initializer_list<std::string_view> known, Read read) {
  if (!object.is_object()) return bad(where, "must be an object");
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return bad(where + "." + key, "is not a setting here (known: " + list + ")");
    }
    if (Status s = read(key, value, where + "." + key); !s) return s;
  }
  return Status::ok();
}

// "url": an amqp:// URL.
inline Status read_url(const nlohmann::json& v, const std::string& at, std::string& out) {
  if (!v.is_string() || !v.get<std::string>().starts_with("amqp://")) {
    return bad(at, "must be an amqp:// URL (amqp://user:password@host:5672/%2f)");
  }
  out = v.get<std::string>();
  return Status::ok();
}

// A stop flag whose pause() wakes as soon as it is raised.
class Stopper {
 public:
  bool stopping() const noexcept { return stopping_.load(); }
  void reset() { stopping_.store(false); }
  void raise() {
    {
      std::lock_guard lock(mu_);
      stopping_.store(true);
    }
    cv_.notify_all();
  }
  // Sleeps up to `ms`; false when stopping.
  bool pause(std::int64_t ms) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_.load(); });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stopping_{false};
};

}  // namespace ordo::adapters::queue
