// Gateways: exclusive, parallel, inclusive, event-based.
#include "runtime/harness.h"

namespace ordo::testing {
namespace {

std::string exclusive_xml(bool with_default) {
  return process(
      "<startEvent id=\"s\"/>\n"
      "<exclusiveGateway id=\"g\"" +
      std::string(with_default ? " default=\"g-c\"" : "") +
      "/>\n" + svc("a") + svc("b") + svc("c") + "<endEvent id=\"e\"/>\n" + flow("s", "g") +
      flow("g", "a", "=x &gt; 10") + flow("g", "b", "=x &gt; 5") +
      (with_default ? flow("g", "c") : "") + flow("a", "e") + flow("b", "e") +
      (with_default ? flow("c", "e") : ""));
}

// Every test runs on each store (harness.h).
ORDO_ON_EACH_STORE(ExclusiveGateway);
ORDO_ON_EACH_STORE(ParallelGateway);
ORDO_ON_EACH_STORE(InclusiveGateway);
ORDO_ON_EACH_STORE(EventBasedGateway);

TEST_P(ExclusiveGateway, TakesFirstTrueFlowInDocumentOrder) {
  Harness h;
  h.deploy(exclusive_xml(true));
  InstanceId id = h.start("p", {{"x", 20}});
  EXPECT_EQ(h.open_job_elements(), Ids({"a"}));
  EXPECT_EQ(h.info(id).state, InstanceState::kActive);
}

TEST_P(ExclusiveGateway, TakesDefaultFlowWhenNoConditionIsTrue) {
  Harness h;
  h.deploy(exclusive_xml(true));
  h.start("p", {{"x", 1}});
  EXPECT_EQ(h.open_job_elements(), Ids({"c"}));
}

// BPMN 2.0: a default flow's condition is ignored (the loader warns): the flow is taken
// when no other condition holds, whatever its own says, and only then.
TEST_P(ExclusiveGateway, ADefaultFlowsConditionIsIgnored) {
  for (const char* condition : {"=false", "=true"}) {
    Harness h;
    h.deploy(process("<startEvent id=\"s\"/>\n<exclusiveGateway id=\"g\" default=\"g-c\"/>\n" +
                     svc("a") + svc("c") + "<endEvent id=\"e\"/>\n" + flow("s", "g") +
                     flow("g", "a", "=x &gt; 10") + flow("g", "c", condition) + flow("a", "e") +
                     flow("c", "e")));
    h.start("p", {{"x", 1}});
    EXPECT_EQ(h.open_job_elements(), Ids({"c"})) << condition;
    h.start("p", {{"x", 20}});
    EXPECT_EQ(h.open_job_elements(), Ids({"c", "a"})) << condition;
  }
}

TEST_P(ExclusiveGateway, NoTrueConditionAndNoDefaultRaisesIncident) {
  Harness h;
  h.deploy(exclusive_xml(false));
  InstanceId id = h.start("p", {{"x", 1}});
  InstanceInfo info = h.info(id);
  EXPECT_EQ(info.state, InstanceState::kIncident);
  ASSERT_EQ(info.incidents.size(), 1u);
  EXPECT_EQ(to_string(info.incidents[0].kind), "no-outgoing-flow");
  EXPECT_EQ(info.incidents[0].element_id, "g");
  EXPECT_TRUE(h.open_job_elements().empty());
}

TEST_P(ExclusiveGateway, ResolvingTheIncidentAfterFixingVariablesContinues) {
  Harness h;
  h.deploy(exclusive_xml(false));
  InstanceId id = h.start("p", {{"x", 1}});
  ASSERT_OK(h.engine().set_variables(id, {{"x", 7}}));
  ASSERT_OK(h.engine().resolve_incident(h.info(id).incidents.at(0).key));
  EXPECT_EQ(h.info(id).state, InstanceState::kActive);
  EXPECT_EQ(h.open_job_elements(), Ids({"b"}));
}

TEST_P(ExclusiveGateway, ConditionOnMissingVariableRaisesIncidentNamingTheExpression) {
  Harness h;
  h.deploy(exclusive_xml(true));
  InstanceId id = h.start("p");
  InstanceInfo info = h.info(id);
  ASSERT_EQ(info.incidents.size(), 1u);
  EXPECT_EQ(to_string(info.incidents[0].kind), "expression");
  EXPECT_NE(info.incidents[0].message.find("x > 10"), std::string::npos)
      << info.incidents[0].message;
}

std::string parallel_xml() {
  return process("<startEvent id=\"s\"/>\n<parallelGateway id=\"fork\"/>\n" + svc("a") +
                 svc("b") + "<parallelGateway id=\"join\"/>\n" + svc("after") +
                 "<endEvent id=\"e\"/>\n" + flow("s", "fork") + flow("fork", "a") +
                 flow("fork", "b") + flow("a", "join") + flow("b", "join") +
                 flow("join", "after") + flow("after", "e"));
}

TEST_P(ParallelGateway, ForksToEveryOutgoingFlow) {
  Harness h;
  h.deploy(parallel_xml());
  h.start();
  EXPECT_EQ(h.open_job_elements(), Ids({"a", "b"}));
}

TEST_P(ParallelGateway, JoinWaitsForEveryIncomingFlow) {
  Harness h;
  h.deploy(parallel_xml());
  InstanceId id = h.start();
  ASSERT_OK(h.engine().complete_job(h.job_of("a")));
  EXPECT_EQ(h.open_job_elements(), Ids({"b"}));
  EXPECT_EQ(h.active(id), Ids({"b", "join"}));
  ASSERT_OK(h.engine().complete_job(h.job_of("b")));
  EXPECT_EQ(h.open_job_elements(), Ids({"after"}));
  ASSERT_OK(h.engine().complete_job(h.job_of("after")));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
  EXPECT_EQ(h.history(id, HistoryKind::kElementCompleted),
            Ids({"s", "fork", "a", "b", "join", "after", "e"}));
  // Flow events name the flow, in memory and read back from a database alike.
  EXPECT_EQ(h.history(id, HistoryKind::kFlowTaken),
            Ids({"s-fork", "fork-a", "fork-b", "a-join", "b-join", "join-after", "after-e"}));
}

std::string inclusive_xml() {
  return process("<startEvent id=\"s\"/>\n<inclusiveGateway id=\"fork\" default=\"fork-c\"/>\n" +
                 svc("a") + svc("b") + svc("c") + "<inclusiveGateway id=\"join\"/>\n" +
                 svc("after") + "<endEvent id=\"e\"/>\n" + flow("s", "fork") +
                 flow("fork", "a", "=x &gt; 1") + flow("fork", "b", "=x &gt; 2") +
                 flow("fork", "c") + flow("a", "join") + flow("b", "join") + flow("c", "join") +
                 flow("join", "after") + flow("after", "e"));
}

TEST_P(InclusiveGateway, ForksToEveryTrueFlow) {
  Harness h;
  h.deploy(inclusive_xml());
  h.start("p", {{"x", 5}});
  EXPECT_EQ(h.open_job_elements(), Ids({"a", "b"}));
}

TEST_P(InclusiveGateway, TakesDefaultOnlyWhenNoConditionIsTrue) {
  Harness h;
  h.deploy(inclusive_xml());
  h.start("p", {{"x", 0}});
  EXPECT_EQ(h.open_job_elements(), Ids({"c"}));
}

TEST_P(InclusiveGateway, JoinWaitsOnlyForFlowsThatCanStillReceiveAToken) {
  Harness h;
  h.deploy(inclusive_xml());
  InstanceId id = h.start("p", {{"x", 5}});
  ASSERT_OK(h.engine().complete_job(h.job_of("b")));
  EXPECT_EQ(h.open_job_elements(), Ids({"a"})) << "the join must wait for a";
  ASSERT_OK(h.engine().complete_job(h.job_of("a")));
  EXPECT_EQ(h.open_job_elements(), Ids({"after"}));
  (void)id;
}

TEST_P(InclusiveGateway, JoinFiresAtOnceForASingleToken) {
  Harness h;
  h.deploy(inclusive_xml());
  h.start("p", {{"x", 0}});
  ASSERT_OK(h.engine().complete_job(h.job_of("c")));
  EXPECT_EQ(h.open_job_elements(), Ids({"after"}));
}

std::string event_gateway_xml() {
  return bpmn(message_def("m", "paid") +
              "<process id=\"p\" isExecutable=\"true\">\n"
              "<startEvent id=\"s\"/>\n<eventBasedGateway id=\"g\"/>\n"
              "<intermediateCatchEvent id=\"msg\"><messageEventDefinition messageRef=\"m\"/>"
              "</intermediateCatchEvent>\n"
              "<intermediateCatchEvent id=\"timeout\"><timerEventDefinition>"
              "<timeDuration>PT1H</timeDuration></timerEventDefinition>"
              "</intermediateCatchEvent>\n" +
              svc("on-paid") + svc("on-timeout") + "<endEvent id=\"e1\"/><endEvent id=\"e2\"/>\n" +
              flow("s", "g") + flow("g", "msg") + flow("g", "timeout") + flow("msg", "on-paid") +
              flow("timeout", "on-timeout") + flow("on-paid", "e1") + flow("on-timeout", "e2") +
              "</process>");
}

TEST_P(EventBasedGateway, MessageFirstWinsAndWithdrawsTheTimer) {
  Harness h;
  h.deploy(event_gateway_xml());
  InstanceId id = h.start("p", {{"orderId", "o-1"}});
  EXPECT_EQ(h.active(id), Ids({"g"}));
  auto n = h.engine().publish_message("paid", "o-1", {{"amount", 10}});
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(n->instances.size(), 1u);
  EXPECT_EQ(h.open_job_elements(), Ids({"on-paid"}));
  EXPECT_FALSE(must(h.engine().next_timer_due()).has_value()) << "the timer must be withdrawn";
  EXPECT_EQ(h.info(id).variables["amount"], 10);
}

TEST_P(EventBasedGateway, TimerFirstWinsAndWithdrawsTheSubscription) {
  Harness h;
  h.deploy(event_gateway_xml());
  h.start("p", {{"orderId", "o-1"}});
  EXPECT_EQ(must(h.engine().next_timer_due()), kEpoch + 3'600'000);
  ASSERT_OK(h.engine().advance_clock(3'600'000));
  EXPECT_EQ(h.open_job_elements(), Ids({"on-timeout"}));
  auto n = h.engine().publish_message("paid", "o-1");
  ASSERT_TRUE(n.is_ok());
  EXPECT_TRUE(n->instances.empty()) << "the subscription must be withdrawn";
}

}  // namespace
}  // namespace ordo::testing
