// The replay config's values: a bare name (`=orderId`) is read without the evaluator, and
// must give exactly what the evaluator gives.
#include <gtest/gtest.h>

#include "sim/replay_sim.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;

TEST(ReplayConfigValue, ABareNameGivesWhatTheEvaluatorGives) {
  // `b` goes through the evaluator (an if is no bare name); `a` may not.
  Result<sim::ReplayConfig> config = sim::read_replay_config(
      {{"start", {{"variables", {{"a", "=x"}, {"b", "=if true then x else null"}}}}},
       {"tasks", {{"default", {{"latency", {{"fixed", "PT1S"}}}}}}}},
      "replay.json");
  ASSERT_OK(config);
  for (const json& x :
       {json("ORD-1"), json(""), json(42), json(-7), json(18446744073709551615ULL), json(2.5),
        json(true), json(nullptr), json::array({1, "a"}), json({{"k", "v"}})}) {
    sim::ReplayRecord record;
    record.fields = {{"x", x}, {"other", 1}};
    Result<json> vars = sim::start_variables(*config, record);
    ASSERT_OK(vars);
    EXPECT_EQ((*vars)["a"], (*vars)["b"]) << "x = " << x.dump();
    EXPECT_EQ((*vars)["a"].type(), (*vars)["b"].type()) << "x = " << x.dump();
  }
  sim::ReplayRecord without;
  without.fields = {{"other", 1}};
  Result<json> vars = sim::start_variables(*config, without);
  ASSERT_OK(vars);
  EXPECT_TRUE((*vars)["a"].is_null()) << "a name the record lacks is null, as in FEEL";
  EXPECT_TRUE((*vars)["b"].is_null());
}

}  // namespace
}  // namespace ordo::testing
