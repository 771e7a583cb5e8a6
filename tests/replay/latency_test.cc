// Simulated latencies for the replay: fixed, from the record, or seeded distributions.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "sim/latency.h"
#include "time/iso8601.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;
using sim::Latency;

Latency latency(const json& spec) {
  auto l = sim::read_latency(spec, "replay.json: tasks.t.latency");
  EXPECT_TRUE(l.is_ok()) << l.status().to_string();
  return l.is_ok() ? *l : Latency{};
}

std::vector<std::int64_t> draw(const Latency& l, int n, std::uint64_t seed = 1) {
  sim::Random r(seed);
  std::vector<std::int64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(*sim::sample(l, r, json::object()));
  return out;
}

double mean(const std::vector<std::int64_t>& v) {
  double s = 0;
  for (auto x : v) s += static_cast<double>(x);
  return s / static_cast<double>(v.size());
}

TEST(Latency, FixedAndFromTheRecord) {
  sim::Random r(1);
  EXPECT_EQ(*sim::sample(latency({{"fixed", "PT2.5S"}}), r, {}), 2500);
  const Latency seconds = latency({{"field", "paymentConfirmSeconds"}});
  EXPECT_EQ(*sim::sample(seconds, r, {{"paymentConfirmSeconds", "25"}}), 25000) << "CSV: strings";
  EXPECT_EQ(*sim::sample(seconds, r, {{"paymentConfirmSeconds", 1.5}}), 1500);
  EXPECT_EQ(*sim::sample(seconds, r, {{"paymentConfirmSeconds", "PT1M"}}), 60000);
  const Latency ms = latency({{"field", "took"}, {"unit", "ms"}});
  EXPECT_EQ(*sim::sample(ms, r, {{"took", 40}}), 40);
  EXPECT_EQ(sim::sample(seconds, r, json::object()).status().message(),
            "the record has no 'paymentConfirmSeconds'");
  EXPECT_EQ(sim::sample(seconds, r, {{"paymentConfirmSeconds", "soon"}}).status().message(),
            "'paymentConfirmSeconds' is \"soon\", not a duration (a number of seconds or PT30S)");
}

TEST(Latency, DistributionsHaveTheirShapeAndRepeatForASeed) {
  const auto exp = draw(latency({{"distribution", "exponential"}, {"mean", "PT10S"}}), 20000);
  EXPECT_NEAR(mean(exp), 10000, 300);
  const auto normal =
      draw(latency({{"distribution", "normal"}, {"mean", "PT5S"}, {"sd", "PT1S"}}), 20000);
  EXPECT_NEAR(mean(normal), 5000, 50);
  auto logn =
      draw(latency({{"distribution", "lognormal"}, {"median", "PT20S"}, {"sigma", 1.0}}), 20001);
  std::nth_element(logn.begin(), logn.begin() + 10000, logn.end());
  EXPECT_NEAR(static_cast<double>(logn[10000]), 20000, 800) << "the median";
  const auto uni =
      draw(latency({{"distribution", "uniform"}, {"min", "PT1S"}, {"max", "PT3S"}}), 20000);
  EXPECT_EQ(*std::min_element(uni.begin(), uni.end()) >= 1000, true);
  EXPECT_EQ(*std::max_element(uni.begin(), uni.end()) <= 3000, true);
  EXPECT_NEAR(mean(uni), 2000, 30);
  const auto emp = draw(
      latency({{"distribution", "empirical"}, {"values", {"PT1S", "PT5S"}}, {"weights", {3, 1}}}),
      20000);
  std::map<std::int64_t, int> counts;
  for (auto v : emp) ++counts[v];
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_NEAR(counts[1000] / 20000.0, 0.75, 0.02);
  const Latency l = latency({{"distribution", "exponential"}, {"mean", "PT1S"}});
  EXPECT_EQ(draw(l, 100, 9), draw(l, 100, 9));
  EXPECT_NE(draw(l, 100, 9), draw(l, 100, 10));
  for (auto v :
       draw(latency({{"distribution", "normal"}, {"mean", "PT0S"}, {"sd", "PT1S"}}), 1000)) {
    ASSERT_GE(v, 0) << "never negative";
  }
}

TEST(Latency, MistakesNameTheKey) {
  const auto error = [](const json& spec) {
    return sim::read_latency(spec, "replay.json: tasks.t.latency").status().message();
  };
  EXPECT_EQ(error({{"fixed", "2s"}}),
            "replay.json: tasks.t.latency.fixed: must be a duration such as PT30S");
  EXPECT_EQ(error({{"distribution", "gamma"}}),
            "replay.json: tasks.t.latency.distribution: must be exponential, normal, lognormal, "
            "uniform or empirical");
  EXPECT_EQ(error({{"distribution", "normal"}, {"mean", "PT1S"}}),
            "replay.json: tasks.t.latency.sd: is missing");
  EXPECT_EQ(error({{"distribution", "uniform"}, {"min", "PT3S"}, {"max", "PT1S"}}),
            "replay.json: tasks.t.latency.max: must not be less than min");
  EXPECT_EQ(error({{"distribution", "lognormal"}, {"median", "PT1S"}, {"sigma", "big"}}),
            "replay.json: tasks.t.latency.sigma: must be a number from 0 to 10 (the spread, in "
            "log space)");
  EXPECT_EQ(error({{"distribution", "empirical"}, {"values", {"PT1S"}}, {"weights", {0}}}),
            "replay.json: tasks.t.latency.weights: must not all be 0");
  EXPECT_EQ(error({{"fixed", "PT1S"}, {"jitter", "PT1S"}}),
            "replay.json: tasks.t.latency.jitter: is not a setting of this latency");
  EXPECT_EQ(error(json::object()),
            "replay.json: tasks.t.latency: say how long it takes: \"fixed\", \"field\", "
            "\"until\" or \"distribution\"");
}

TEST(Latency, UntilATimeRecordedInTheRecord) {
  sim::Random r(1);
  const Latency until = latency({{"until", "shippedAt"}});
  const std::int64_t now = *time::parse_date_time("2026-09-01T10:00:00Z");
  EXPECT_EQ(*sim::sample(until, r, {{"shippedAt", "2026-09-01T10:00:10Z"}}, now), 10000);
  EXPECT_EQ(*sim::sample(until, r, {{"shippedAt", "2026-09-01T09:00:00Z"}}, now), 0)
      << "a time already past takes no time";
  auto missing = sim::sample(until, r, json::object(), now);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().message(), "the record has no 'shippedAt'");
  auto malformed = sim::sample(until, r, {{"shippedAt", "tomorrow"}}, now);
  ASSERT_FALSE(malformed.is_ok());
  EXPECT_NE(malformed.status().message().find("not an ISO 8601 date-time"), std::string::npos);
}

}  // namespace
}  // namespace ordo::testing
