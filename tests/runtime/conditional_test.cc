// Conditional events, on each store: an intermediate catch, a boundary event and an event
// subprocess start fire when their condition holds, checked when they open and whenever
// the instance's variables change.
#include "runtime/harness.h"

namespace ordo::testing {
namespace {

ORDO_ON_EACH_STORE(ConditionalEvents);

std::string condition(const std::string& expr) {
  return "<conditionalEventDefinition><condition>" + expr +
         "</condition></conditionalEventDefinition>";
}

TEST_P(ConditionalEvents, ACatchWaitsUntilTheVariablesMakeItTrue) {
  Harness h;
  h.deploy(process("<startEvent id=\"s\"/><intermediateCatchEvent id=\"ready\">" +
                   condition("=stock &gt;= 2") + "</intermediateCatchEvent>" + svc("ship") +
                   "<endEvent id=\"e\"/>" + flow("s", "ready") + flow("ready", "ship") +
                   flow("ship", "e")));
  const InstanceId waiting = h.start("p", {{"stock", 0}});
  EXPECT_EQ(h.active(waiting), Ids({"ready"}));
  ASSERT_OK(h.engine().set_variables(waiting, {{"stock", 1}}));
  EXPECT_EQ(h.active(waiting), Ids({"ready"}));
  ASSERT_OK(h.engine().set_variables(waiting, {{"stock", 5}}));
  EXPECT_EQ(h.active(waiting), Ids({"ship"}));
  // True when reached: it passes at once. Not yet set: it waits (no incident).
  EXPECT_EQ(h.active(h.start("p", {{"stock", 3}})), Ids({"ship"}));
  const InstanceId unset = h.start("p");
  EXPECT_EQ(h.active(unset), Ids({"ready"}));
  EXPECT_TRUE(h.info(unset).incidents.empty());
}

TEST_P(ConditionalEvents, ABoundaryAndAnEventSubprocessFireOnAJobsVariables) {
  Harness h;
  h.deploy(process(
      "<startEvent id=\"s\"/>" + svc("pack") + svc("ship") +
      "<boundaryEvent id=\"too-heavy\" attachedToRef=\"ship\">" + condition("=weight &gt; 30") +
      "</boundaryEvent>" + svc("freight") + "<endEvent id=\"e\"/><endEvent id=\"by-freight\"/>" +
      flow("s", "pack") + flow("pack", "ship") + flow("ship", "e") + flow("too-heavy", "freight") +
      flow("freight", "by-freight") +
      "<subProcess id=\"watch\" triggeredByEvent=\"true\">"
      "<startEvent id=\"vip-start\" isInterrupting=\"false\">" +
      condition("=vip = true") + "</startEvent>" + svc("greet") + "<endEvent id=\"greeted\"/>" +
      flow("vip-start", "greet") + flow("greet", "greeted") + "</subProcess>"));
  const InstanceId id = h.start("p", {{"weight", 10}});
  // A worker's answer sets the variables: the boundary (on ship) is not open yet.
  ASSERT_OK(h.engine().complete_job(h.job_of("pack", id), {{"weight", 40}, {"vip", true}}));
  // ship's boundary opened with weight already 40: it fired at once; the VIP
  // subprocess started beside, once.
  EXPECT_EQ(h.active(id), Ids({"watch", "greet", "freight"}));
  // It fires when its condition becomes true, not at each change while it stays true.
  ASSERT_OK(h.engine().set_variables(id, {{"note", "x"}}));
  EXPECT_EQ(must(h.engine().open_jobs("greet")).size(), 1u);
  ASSERT_OK(h.engine().set_variables(id, {{"vip", false}}));
  ASSERT_OK(h.engine().set_variables(id, {{"vip", true}}));
  EXPECT_EQ(must(h.engine().open_jobs("greet")).size(), 2u) << "false, then true again";
}

// A process-level conditional start event: evaluated on request against the variables
// given (Camunda 7's evaluateStartConditions); each process whose condition holds starts.
TEST_P(ConditionalEvents, AProcessStartsWhenItsStartConditionHoldsForTheVariablesGiven) {
  Harness h;
  h.deploy(process("<startEvent id=\"big-order\">" + condition("=total &gt; 100") +
                   "</startEvent>" + svc("review") + "<endEvent id=\"e\"/>" +
                   flow("big-order", "review") + flow("review", "e"),
               "review-big"));
  h.deploy(process("<startEvent id=\"any-order\">" + condition("=total &gt; 0") +
                   "</startEvent><endEvent id=\"any-e\"/>" + flow("any-order", "any-e"),
               "count-all"));
  MessageResult started = must(h.engine().start_by_conditions({{"total", 150}}));
  ASSERT_EQ(started.instances.size(), 2u);
  EXPECT_EQ(h.info(started.instances[1]).process_id, "review-big");
  EXPECT_EQ(h.info(started.instances[1]).variables["total"], 150);
  EXPECT_EQ(h.active(started.instances[1]), Ids({"review"}));
  EXPECT_EQ(must(h.engine().start_by_conditions({{"total", 50}})).instances.size(), 1u);
  EXPECT_EQ(must(h.engine().start_by_conditions({{"total", 150}}, "count-all")).instances.size(),
            1u);
  EXPECT_TRUE(must(h.engine().start_by_conditions(nlohmann::json::object())).instances.empty())
      << "without the variable, no condition holds";
  EXPECT_EQ(h.engine().start_by_conditions({{"total", 1}}, "no-such-process").status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace ordo::testing
