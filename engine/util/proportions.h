// Shares with their 95% intervals: the Wilson score interval of one share, and Newcombe's
// hybrid score interval of the difference of two (Newcombe 1998, method 10). What the
// experiments' report (adapters/notify/report.cc) and the replay report's headline
// (sim/replay_report.cc) say "better" with.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace ordo::util {

inline constexpr double kZ95 = 1.959963984540054;  // the 97.5th percentile of the normal

struct Share {
  double rate = 0, low = 0, high = 0;  // all 0 when `of` is 0
};

inline Share wilson(std::int64_t count, std::int64_t of) {
  Share p;
  if (of <= 0) return p;
  const double n = static_cast<double>(of);
  const double phat = static_cast<double>(count) / n;
  const double z2 = kZ95 * kZ95;
  const double denominator = 1 + z2 / n;
  const double centre = (phat + z2 / (2 * n)) / denominator;
  const double half = kZ95 * std::sqrt(phat * (1 - phat) / n + z2 / (4 * n * n)) / denominator;
  p.rate = phat;
  p.low = std::max(0.0, centre - half);
  p.high = std::min(1.0, centre + half);
  return p;
}

struct Interval {
  double value = 0, low = 0, high = 0;
};

// a.rate - b.rate with its interval.
inline Interval newcombe(const Share& a, const Share& b) {
  Interval d;
  d.value = a.rate - b.rate;
  d.low = d.value - std::sqrt((a.rate - a.low) * (a.rate - a.low) + (b.high - b.rate) * (b.high - b.rate));
  d.high = d.value + std::sqrt((a.high - a.rate) * (a.high - a.rate) + (b.rate - b.low) * (b.rate - b.low));
  return d;
}

// mean_a - mean_b with Welch's normal interval, from each side's mean, sample standard
// deviation and count.
inline Interval mean_difference(double mean_a, double sd_a, std::int64_t n_a, double mean_b,
                                double sd_b, std::int64_t n_b) {
  Interval d;
  d.value = mean_a - mean_b;
  if (n_a <= 0 || n_b <= 0) return d;
  const double se = std::sqrt(sd_a * sd_a / static_cast<double>(n_a) +
                              sd_b * sd_b / static_cast<double>(n_b));
  d.low = d.value - kZ95 * se;
  d.high = d.value + kZ95 * se;
  return d;
}

}  // namespace ordo::util
