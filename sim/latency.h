// How long a simulated adapter takes (the replay config's "latency", docs/simulation.md): a
// fixed duration, a field of the history record, or a seeded distribution.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/status.h"
#include "sim/random.h"

namespace ordo::sim {

struct Latency {
  enum class Kind : std::uint8_t {
    kFixed,        // {"fixed": "PT2S"}
    kField,        // {"field": "paymentConfirmSeconds", "unit": "s"}: seconds (or ms, or an
                   // ISO duration string) recorded in the record
    kExponential,  // {"distribution": "exponential", "mean": "PT30S"}
    kNormal,       // {"distribution": "normal", "mean": "PT5S", "sd": "PT1S"} (at least 0)
    kLognormal,    // {"distribution": "lognormal", "median": "PT20S", "sigma": 1.1}
    kUniform,      // {"distribution": "uniform", "min": "PT1S", "max": "PT3S"}
    kEmpirical,    // {"distribution": "empirical", "values": ["PT1S", ...], "weights": [...]}
    kUntil,        // {"until": "shippedAt"}: until the ISO 8601 date-time recorded in a field
                   // (0 when that time has already passed)
  };
  Kind kind = Kind::kFixed;
  std::int64_t a_ms = 0;  // fixed, mean, median, min
  std::int64_t b_ms = 0;  // sd, max
  double sigma = 0;
  std::string field;
  std::int64_t unit_ms = 1000;  // kField: what a plain number counts
  std::vector<std::int64_t> values_ms;
  std::vector<double> cumulative;  // kEmpirical: normalised cumulative weights
};

// Reads a latency spec; errors name `where` and the key ("replay.json: tasks.erp.ship.latency.
// mean: ...").
Result<Latency> read_latency(const nlohmann::json& spec, const std::string& where);

// A duration in milliseconds (never negative), from `now_ms` (for kUntil). kField and kUntil:
// kInvalidArgument when the record lacks the field or it is not a duration or date-time
// ("the record has no 'shippedAt'").
Result<std::int64_t> sample(const Latency& latency, Random& random, const nlohmann::json& record,
                            std::int64_t now_ms = 0);

}  // namespace ordo::sim
