// Where the library reports what no call returns: a warning about a customer's unknown time
// zone, a rejected webhook. The program that embeds Ordo hands in a LogFunction and routes
// it to its own logging; without one, nothing is written anywhere (the library never uses a
// global logger or standard error).
#pragma once

#include <functional>
#include <string_view>

namespace ordo {

enum class LogLevel : unsigned char { kDebug, kInfo, kWarning, kError };

// Called from whatever thread reported it; must be thread-safe.
using LogFunction = std::function<void(LogLevel level, std::string_view message)>;

constexpr std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

}  // namespace ordo
