// Business rule tasks that call a DMN decision, on each store: the decision is evaluated
// when the task is reached, its result stored, the matched rules in the history; a decision
// that is missing or fails is an incident that a deployment and a retry resolve.
#include "runtime/harness.h"

namespace ordo::testing {
namespace {

ORDO_ON_EACH_STORE(DecisionTask);

// A decision table "shipping": carrier and insurance by total and country (hit policy
// `hit`), and "cost", which requires it.
std::string shipping_dmn(std::string_view hit = "FIRST", std::string_view small_carrier = "Hermes") {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs" name="Shipping" namespace="https://ordo.test/shipping">
  <decision id="shipping" name="Shipping">
    <informationRequirement id="r1"><requiredInput href="#total"/></informationRequirement>
    <informationRequirement id="r2"><requiredInput href="#country"/></informationRequirement>
    <decisionTable id="t" hitPolicy=")" + std::string(hit) + R"(">
      <input id="i1"><inputExpression typeRef="number"><text>total</text></inputExpression></input>
      <input id="i2"><inputExpression typeRef="string"><text>country</text></inputExpression></input>
      <output id="o1" name="carrier" typeRef="string"/>
      <output id="o2" name="insured" typeRef="boolean"/>
      <rule id="insured-eu"><inputEntry><text>&gt;= 100</text></inputEntry><inputEntry><text>"DE","FR"</text></inputEntry>
        <outputEntry><text>"DHL"</text></outputEntry><outputEntry><text>true</text></outputEntry></rule>
      <rule id="small"><inputEntry><text>-</text></inputEntry><inputEntry><text>-</text></inputEntry>
        <outputEntry><text>")" + std::string(small_carrier) + R"("</text></outputEntry><outputEntry><text>false</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <decision id="cost" name="Cost">
    <informationRequirement id="r3"><requiredDecision href="#shipping"/></informationRequirement>
    <literalExpression><text>if Shipping.insured then 9 else 5</text></literalExpression>
  </decision>
  <inputData id="total" name="total"><variable name="total" typeRef="number"/></inputData>
  <inputData id="country" name="country"><variable name="country" typeRef="string"/></inputData>
</definitions>)";
}

std::string decide(std::string_view id, std::string_view decision, std::string_view result) {
  return "<businessRuleTask id=\"" + std::string(id) + "\"><extensionElements>"
         "<zeebe:calledDecision decisionId=\"" + std::string(decision) + "\" resultVariable=\"" +
         std::string(result) + "\"/></extensionElements></businessRuleTask>";
}

// start -> choose (the decision) -> ship (a job) -> end
std::string order_flow(std::string_view decision = "shipping") {
  return process("<startEvent id=\"s\"/>" + decide("choose", decision, "shipping") +
                 svc("ship") + "<endEvent id=\"e\"/>" + flow("s", "choose") +
                 flow("choose", "ship") + flow("ship", "e"));
}

TEST_P(DecisionTask, TheResultIsStoredAndTheMatchedRulesAreInTheHistory) {
  Harness h;
  ASSERT_OK(h.engine().deploy_decisions("shipping.dmn", shipping_dmn()).status());
  h.deploy(order_flow());
  const InstanceId id = h.start("p", {{"total", 120}, {"country", "DE"}});
  EXPECT_EQ(h.active(id), Ids({"ship"}));
  EXPECT_EQ(h.info(id).variables["shipping"],
            nlohmann::json::parse(R"({"carrier":"DHL","insured":true})"));
  std::string detail;
  for (const HistoryEvent& e : must(h.engine().history(id))) {
    if (e.kind == HistoryKind::kDecisionEvaluated) detail = e.detail;
  }
  EXPECT_EQ(detail, "shipping: shipping [insured-eu]") << "FIRST: the rule that gave the result";
  // The job sees the result like any variable.
  const InstanceId small = h.start("p", {{"total", 20}, {"country", "US"}});
  EXPECT_EQ(h.info(small).variables["shipping"]["carrier"], "Hermes");
}

TEST_P(DecisionTask, ARequiredDecisionIsEvaluatedFirst) {
  Harness h;
  ASSERT_OK(h.engine().deploy_decisions("shipping.dmn", shipping_dmn()).status());
  h.deploy(order_flow("cost"));
  const InstanceId id = h.start("p", {{"total", 500}, {"country", "FR"}});
  EXPECT_EQ(h.info(id).variables["shipping"], 9);
}

TEST_P(DecisionTask, AMissingDecisionWaitsAsAnIncidentUntilDeployedAndRetried) {
  Harness h;
  h.deploy(order_flow());
  const InstanceId id = h.start("p", {{"total", 120}, {"country", "DE"}});
  std::vector<IncidentInfo> incidents = must(h.engine().incidents());
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].kind, IncidentKind::kDecision);
  EXPECT_EQ(incidents[0].element_id, "choose");
  EXPECT_NE(incidents[0].message.find("no deployed DMN file defines decision 'shipping'"),
            std::string::npos)
      << incidents[0].message;
  ASSERT_OK(h.engine().deploy_decisions("shipping.dmn", shipping_dmn()).status());
  ASSERT_OK(h.engine().resolve_incident(incidents[0].key));
  EXPECT_EQ(h.active(id), Ids({"ship"}));
  EXPECT_EQ(h.info(id).variables["shipping"]["carrier"], "DHL");
}

TEST_P(DecisionTask, AFailingDecisionIsAnIncidentNamingWhy) {
  Harness h;
  // Under UNIQUE both rules match a large German order.
  ASSERT_OK(h.engine().deploy_decisions("shipping.dmn", shipping_dmn("UNIQUE")).status());
  h.deploy(order_flow());
  h.start("p", {{"total", 120}, {"country", "DE"}});
  std::vector<IncidentInfo> incidents = must(h.engine().incidents());
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].kind, IncidentKind::kDecision);
  EXPECT_NE(incidents[0].message.find("rules insured-eu, small all match"), std::string::npos)
      << incidents[0].message;
}

TEST_P(DecisionTask, ANewVersionOfTheDecisionIsCalledFromThen) {
  Harness h;
  std::vector<Deployment> v1 = must(h.engine().deploy_decisions("a.dmn", shipping_dmn()));
  ASSERT_EQ(v1.size(), 2u);  // shipping and cost
  EXPECT_EQ(v1[0].process_id, "shipping");
  EXPECT_EQ(v1[0].version, 1);
  EXPECT_TRUE(v1[0].decision);
  // The same content again keeps the version.
  EXPECT_EQ(must(h.engine().deploy_decisions("a.dmn", shipping_dmn()))[0].version, 1);
  h.deploy(order_flow());
  const InstanceId before = h.start("p", {{"total", 5}, {"country", "US"}});
  EXPECT_EQ(must(h.engine().deploy_decisions("b.dmn", shipping_dmn("FIRST", "GLS")))[0].version,
            2);
  const InstanceId after = h.start("p", {{"total", 5}, {"country", "US"}});
  EXPECT_EQ(h.info(before).variables["shipping"]["carrier"], "Hermes");
  EXPECT_EQ(h.info(after).variables["shipping"]["carrier"], "GLS");
  // Decisions are listed apart from processes.
  EXPECT_EQ(must(h.engine().decision_deployments()).size(), 4u);
  for (const Deployment& d : must(h.engine().deployments())) EXPECT_FALSE(d.decision);
  // And can be evaluated on their own.
  EXPECT_EQ(must(h.engine().evaluate_decision("cost", {{"total", 500}, {"country", "DE"}})), 9);
  EXPECT_EQ(h.engine().evaluate_decision("nope", {}).status().code(), StatusCode::kNotFound);
}

TEST_P(DecisionTask, CamundaDecisionRefMapsTheResultAsCamunda7Does) {
  Harness h;
  ASSERT_OK(h.engine().deploy_decisions("shipping.dmn", shipping_dmn()).status());
  auto task = [](std::string_view id, std::string_view decision, std::string_view mapping) {
    return "<businessRuleTask id=\"" + std::string(id) + "\" camunda:decisionRef=\"" +
           std::string(decision) + "\" camunda:resultVariable=\"" + std::string(id) +
           "\" camunda:mapDecisionResult=\"" + std::string(mapping) + "\"/>";
  };
  h.deploy(process("<startEvent id=\"s\"/>" + task("one", "shipping", "singleResult") +
                   task("list", "shipping", "resultList") + task("entries", "cost", "collectEntries") +
                   task("entry", "cost", "singleEntry") + "<endEvent id=\"e\"/>" + flow("s", "one") +
                   flow("one", "list") + flow("list", "entries") + flow("entries", "entry") +
                   flow("entry", "e")));
  const InstanceId id = h.start("p", {{"total", 10}, {"country", "DE"}});
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
  const nlohmann::json vars = h.info(id).variables;
  EXPECT_EQ(vars["one"], nlohmann::json::parse(R"({"carrier":"Hermes","insured":false})"));
  EXPECT_EQ(vars["list"], nlohmann::json::parse(R"([{"carrier":"Hermes","insured":false}])"));
  // A literal expression's result is one entry: the value, or a list of values.
  EXPECT_EQ(vars["entries"], nlohmann::json::parse("[5]"));
  EXPECT_EQ(vars["entry"], 5);
  // Entries of a table with two outputs do not fit: an incident says what to use instead.
  h.deploy(process("<startEvent id=\"s\"/>" + task("bad", "shipping", "singleEntry") +
                       "<endEvent id=\"e\"/>" + flow("s", "bad") + flow("bad", "e"),
                   "q"));
  h.start("q", {{"total", 10}, {"country", "DE"}});
  std::vector<IncidentInfo> incidents = must(h.engine().incidents());
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_NE(incidents[0].message.find("use singleResult"), std::string::npos)
      << incidents[0].message;
}

// A one-output table's rule results are contexts keyed by the output's name, as Camunda 7
// gives them (${result[0].dish}).
TEST_P(DecisionTask, AOneOutputTableGivesContextsKeyedByItsOutput) {
  Harness h;
  ASSERT_OK(h.engine()
                .deploy_decisions("dish.dmn", R"(<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="https://ordo.test/dish">
  <decision id="dish" name="Dish"><decisionTable hitPolicy="COLLECT">
    <input><inputExpression typeRef="string"><text>season</text></inputExpression></input>
    <output name="dish" typeRef="string"/>
    <rule id="a"><inputEntry><text>"Winter"</text></inputEntry><outputEntry><text>"Roastbeef"</text></outputEntry></rule>
    <rule id="b"><inputEntry><text>-</text></inputEntry><outputEntry><text>"Salad"</text></outputEntry></rule>
  </decisionTable></decision></definitions>)")
                .status());
  h.deploy(process("<startEvent id=\"s\"/><businessRuleTask id=\"t\" camunda:decisionRef=\"dish\" "
                   "camunda:resultVariable=\"result\"/><endEvent id=\"e\"/>" +
                   flow("s", "t") + flow("t", "e")));
  const InstanceId id = h.start("p", {{"season", "Winter"}});
  EXPECT_EQ(h.info(id).variables["result"],
            nlohmann::json::parse(R"([{"dish":"Roastbeef"},{"dish":"Salad"}])"));
}

// On the database stores only: in memory nothing outlives the engine.
class DurableDecisionTask : public ::testing::Test, public StoreParam {};
INSTANTIATE_TEST_SUITE_P(Stores, DurableDecisionTask,
                         ::testing::Values(StoreKind::kSqlite, StoreKind::kPostgres), store_name);

TEST_P(DurableDecisionTask, DeployedDecisionsSurviveAReopen) {
  Harness h;
  ASSERT_TRUE(h.durable());
  ASSERT_OK(h.engine().deploy_decisions("shipping.dmn", shipping_dmn()).status());
  h.deploy(order_flow());
  h.reopen();
  const InstanceId id = h.start("p", {{"total", 120}, {"country", "DE"}});
  EXPECT_EQ(h.info(id).variables["shipping"]["carrier"], "DHL");
}

}  // namespace
}  // namespace ordo::testing
