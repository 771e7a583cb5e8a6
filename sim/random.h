// Seeded randomness for simulations and synthetic data: the same seed gives the same numbers
// on every machine (std's distributions differ between standard libraries).
#pragma once

#include <cmath>
#include <cstdint>

namespace ordo::sim {

// SplitMix64: small, fast, and the same everywhere (std's distributions are not).
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  std::int64_t below(std::int64_t n) {
    return static_cast<std::int64_t>(uniform() * static_cast<double>(n));
  }
  bool chance(double p) { return uniform() < p; }
  double normal() {  // Box-Muller
    const double u = 1.0 - uniform(), v = uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * 3.14159265358979323846 * v);
  }
  double lognormal(double median, double sigma) { return median * std::exp(sigma * normal()); }

 private:
  std::uint64_t state_;
};

// A seed of its own for item `n` of a `kind` of thing: items drawn from their own streams do
// not depend on how many came before them (or on threads).
inline std::uint64_t stream(std::uint64_t seed, std::uint64_t kind, std::uint64_t n) {
  Random r(seed ^ (kind * 0xD1B54A32D192ED03ULL));
  for (std::uint64_t i = 0; i < 2; ++i) r.next();
  return r.next() ^ (n * 0x9E3779B97F4A7C15ULL);
}

}  // namespace ordo::sim
