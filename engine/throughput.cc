#include "ordo/throughput.h"

#include <cmath>

namespace ordo {

namespace {
constexpr double kRatio = 1.25;  // each bucket's upper bound is 25% above the one before
constexpr int kLastBucket = 120;  // 1.25^120 ms is about 140,000 years
}  // namespace

std::int64_t minute_start(std::int64_t ms) noexcept {
  return ms - ((ms % 60'000) + 60'000) % 60'000;
}

// Bucket 0 holds up to 1 ms; bucket b up to 1.25^b ms.
int cycle_bucket(std::int64_t ms) noexcept {
  if (ms <= 1) return 0;
  const int b = static_cast<int>(std::ceil(std::log(static_cast<double>(ms)) / std::log(kRatio) - 1e-9));
  return b < kLastBucket ? b : kLastBucket;
}

std::int64_t cycle_bucket_upper_ms(int bucket) noexcept {
  if (bucket <= 0) return 1;
  return static_cast<std::int64_t>(std::floor(std::pow(kRatio, std::min(bucket, kLastBucket))));
}

}  // namespace ordo
