// Token-semantics regressions found in a review of the execution core. Each test names the
// scenario it pins down.
#include "runtime/harness.h"

namespace ordo::testing {
namespace {

// ---- multi-instance ----

// Every test runs on each store (harness.h).
ORDO_ON_EACH_STORE(ReviewMultiInstance);
ORDO_ON_EACH_STORE(ReviewIncident);
ORDO_ON_EACH_STORE(ReviewCallActivity);
ORDO_ON_EACH_STORE(ReviewError);
ORDO_ON_EACH_STORE(ReviewMessage);

// A parallel multi-instance activity whose inner instances complete at once (a plain task):
// every item must run, not only the first.
TEST_P(ReviewMultiInstance, ParallelInnerInstancesThatCompleteAtOnceAllRun) {
  Harness h;
  h.deploy(process(straight(
      "<task id=\"t\"><multiInstanceLoopCharacteristics isSequential=\"false\">"
      "<extensionElements><zeebe:loopCharacteristics inputCollection=\"=items\" "
      "inputElement=\"item\" outputCollection=\"results\" outputElement=\"=item * 10\"/>"
      "</extensionElements></multiInstanceLoopCharacteristics></task>")));
  InstanceId id = h.start("p", {{"items", {1, 2, 3}}});
  InstanceInfo info = h.info(id);
  EXPECT_EQ(info.state, InstanceState::kCompleted);
  EXPECT_EQ(info.variables["results"], nlohmann::json({10, 20, 30}));
  int inner_completions = 0;
  for (const HistoryEvent& e : must(h.engine().history(id))) {
    if (e.kind == HistoryKind::kElementCompleted && e.element_id == "t" && e.value > 0) {
      ++inner_completions;
    }
  }
  EXPECT_EQ(inner_completions, 3);
}

// ---- incidents ----

// A service task with a non-interrupting timer boundary event whose job type cannot be
// evaluated: resolving the incident must not open the boundary timer a second time.
TEST_P(ReviewIncident, ResolvingAnActivationIncidentDoesNotOpenBoundaryWaitsTwice) {
  Harness h;
  h.deploy(bpmn(
      "<process id=\"p\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n" +
      svc("work", {}, "=jobType") +
      "<boundaryEvent id=\"b\" attachedToRef=\"work\" cancelActivity=\"false\">"
      "<timerEventDefinition><timeDuration>PT10M</timeDuration></timerEventDefinition>"
      "</boundaryEvent>\n" +
      svc("handle") + "<endEvent id=\"e\"/><endEvent id=\"e2\"/>\n" + flow("s", "work") +
      flow("work", "e") + flow("b", "handle") + flow("handle", "e2") + "</process>"));
  InstanceId id = h.start();
  InstanceInfo info = h.info(id);
  ASSERT_EQ(info.incidents.size(), 1u);
  ASSERT_OK(h.engine().set_variables(id, {{"jobType", "work"}}));
  ASSERT_OK(h.engine().resolve_incident(info.incidents[0].key, 1));
  EXPECT_EQ(h.open_job_elements(), Ids({"work"}));
  ASSERT_OK(h.engine().advance_clock(10 * 60'000));
  EXPECT_EQ(h.open_job_elements(), Ids({"work", "handle"}))
      << "one boundary timer, so one boundary token";
}

// A multi-instance body whose boundary timer cannot be scheduled: resolving the incident
// enters the body again, which must not be refused as a second activation.
TEST_P(ReviewIncident, ResolvingAnActivationIncidentOnAMultiInstanceBodyStartsTheItems) {
  Harness h;
  h.deploy(bpmn(
      "<process id=\"p\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n"
      "<serviceTask id=\"work\"><extensionElements><zeebe:taskDefinition type=\"work\"/>"
      "</extensionElements><multiInstanceLoopCharacteristics><extensionElements>"
      "<zeebe:loopCharacteristics inputCollection=\"=items\" inputElement=\"item\"/>"
      "</extensionElements></multiInstanceLoopCharacteristics></serviceTask>\n"
      "<boundaryEvent id=\"b\" attachedToRef=\"work\"><timerEventDefinition>"
      "<timeDuration>=limit</timeDuration></timerEventDefinition></boundaryEvent>\n"
      "<endEvent id=\"e\"/><endEvent id=\"e2\"/>\n" + flow("s", "work") + flow("work", "e") +
      flow("b", "e2") + "</process>"));
  InstanceId id = h.start("p", {{"items", {1, 2}}});
  InstanceInfo info = h.info(id);
  ASSERT_EQ(info.incidents.size(), 1u);
  EXPECT_EQ(to_string(info.incidents[0].kind), "timer");
  ASSERT_OK(h.engine().set_variables(id, {{"limit", "PT1H"}}));
  ASSERT_OK(h.engine().resolve_incident(info.incidents[0].key, 1));
  info = h.info(id);
  EXPECT_TRUE(info.incidents.empty())
      << to_string(info.incidents[0].kind) << ": " << info.incidents[0].message;
  EXPECT_EQ(h.open_job_elements(), Ids({"work", "work"}));
}

// A task whose boundary timer cannot be scheduled stops at the incident: no job yet, and
// resolving it creates exactly one job.
TEST_P(ReviewIncident, ActivityWhoseBoundaryWaitFailsGetsOneJobAfterResolving) {
  Harness h;
  h.deploy(bpmn(
      "<process id=\"p\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n" + svc("work") +
      "<boundaryEvent id=\"b\" attachedToRef=\"work\"><timerEventDefinition>"
      "<timeDuration>=limit</timeDuration></timerEventDefinition></boundaryEvent>\n"
      "<endEvent id=\"e\"/><endEvent id=\"e2\"/>\n" + flow("s", "work") + flow("work", "e") +
      flow("b", "e2") + "</process>"));
  InstanceId id = h.start();
  InstanceInfo info = h.info(id);
  ASSERT_EQ(info.incidents.size(), 1u);
  EXPECT_TRUE(h.open_job_elements().empty()) << "the task waits for the incident";
  ASSERT_OK(h.engine().set_variables(id, {{"limit", "PT1H"}}));
  ASSERT_OK(h.engine().resolve_incident(info.incidents[0].key, 1));
  EXPECT_EQ(h.open_job_elements(), Ids({"work"}));
  ASSERT_OK(h.engine().complete_job(h.job_of("work")));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
  EXPECT_FALSE(must(h.engine().next_timer_due()).has_value());
}

// ---- errors and call activities ----

// An error thrown in a called process that nothing catches: the incident must be one that
// can be resolved to retry, as for an error thrown at the top level.
TEST_P(ReviewCallActivity, UncaughtErrorInTheCalledProcessCanBeRetried) {
  Harness h;
  h.deploy_call_child();
  InstanceId id = h.start();
  ASSERT_OK(h.engine().throw_error(h.job_of("t"), "BOOM"));
  std::vector<IncidentInfo> incidents = must(h.engine().incidents());
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(to_string(incidents[0].kind), "unhandled-error");
  ASSERT_OK(h.engine().resolve_incident(incidents[0].key, 1));
  EXPECT_EQ(h.open_job_elements(), Ids({"t"})) << "resolving retries the task that threw";
  ASSERT_OK(h.engine().complete_job(h.job_of("t")));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

// An error end event that nothing catches: resolving the incident throws the error again
// (here: into the new incident), instead of leaving a token that never moves.
TEST_P(ReviewError, ResolvingAnUncaughtErrorEndEventThrowsAgain) {
  Harness h;
  h.deploy(bpmn("<error id=\"err\" errorCode=\"X\"/>\n<process id=\"p\" isExecutable=\"true\">"
                "<startEvent id=\"s\"/><endEvent id=\"boom\"><errorEventDefinition "
                "errorRef=\"err\"/></endEvent>" + flow("s", "boom") + "</process>"));
  InstanceId id = h.start();
  InstanceInfo info = h.info(id);
  ASSERT_EQ(info.incidents.size(), 1u);
  ASSERT_OK(h.engine().resolve_incident(info.incidents[0].key, 1));
  info = h.info(id);
  EXPECT_EQ(info.state, InstanceState::kIncident);
  ASSERT_EQ(info.incidents.size(), 1u);
  EXPECT_EQ(to_string(info.incidents[0].kind), "unhandled-error");
}

// An error thrown inside an error event subprocess, with the same code: the event
// subprocess that is handling it must not catch its own error again (and again).
TEST_P(ReviewError, ErrorThrownInsideAnErrorEventSubprocessIsNotCaughtByItAgain) {
  Harness h;
  h.deploy(bpmn(
      "<error id=\"err\" errorCode=\"X\"/>\n<process id=\"p\" isExecutable=\"true\">\n"
      "<startEvent id=\"s\"/>\n" + svc("work") + "<endEvent id=\"e\"/>\n" + flow("s", "work") +
      flow("work", "e") +
      "<subProcess id=\"on-error\" triggeredByEvent=\"true\"><startEvent id=\"es\">"
      "<errorEventDefinition errorRef=\"err\"/></startEvent>\n"
      "<endEvent id=\"rethrow\"><errorEventDefinition errorRef=\"err\"/></endEvent>\n" +
      flow("es", "rethrow") + "</subProcess>\n</process>"));
  InstanceId id = h.start();
  ASSERT_OK(h.engine().throw_error(h.job_of("work"), "X"));
  InstanceInfo info = h.info(id);
  ASSERT_EQ(info.incidents.size(), 1u);
  EXPECT_EQ(to_string(info.incidents[0].kind), "unhandled-error") << info.incidents[0].message;
  EXPECT_EQ(h.history(id, HistoryKind::kElementActivated).size(), 5u)
      << "s, work, on-error, es, rethrow: the event subprocess ran once";
}

// Not fixed (a decision: refuse the cancel, or end the call activity): cancelling a called
// instance directly leaves the parent's call activity waiting for ever.
// As in Zeebe, a called instance is cancelled through its root instance, never on its own.
TEST_P(ReviewCallActivity, CancellingTheCalledInstanceIsRefused) {
  Harness h;
  h.deploy_call_child();
  InstanceId id = h.start();
  const Status s = h.engine().cancel(id + 1);
  EXPECT_EQ(s.code(), StatusCode::kConflict);
  EXPECT_NE(s.message().find("cancel instance " + std::to_string(id)), std::string::npos)
      << s.message();
  EXPECT_EQ(h.info(id + 1).state, InstanceState::kActive);
  ASSERT_OK(h.engine().cancel(id));
  EXPECT_EQ(h.info(id + 1).state, InstanceState::kTerminated);
}

// ---- messages ----

// A message that both meets a subscription and starts a process by its message start event:
// the started instance gets the message's variables too.
TEST_P(ReviewMessage, MessageStartGetsTheVariablesWhenASubscriptionAlsoMatched) {
  Harness h;
  h.deploy(bpmn(message_def("m", "paid") +
                "<process id=\"p\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n"
                "<intermediateCatchEvent id=\"wait\"><messageEventDefinition messageRef=\"m\"/>"
                "</intermediateCatchEvent>\n" + svc("t") + "\n" + flow("s", "wait") +
                flow("wait", "t") + "</process>\n"
                "<process id=\"q\" isExecutable=\"true\">\n<startEvent id=\"ms\">"
                "<messageEventDefinition messageRef=\"m\"/></startEvent>\n" + svc("u") +
                flow("ms", "u") + "</process>"));
  InstanceId a = h.start("p", {{"orderId", "o-1"}});
  auto n = h.engine().publish_message("paid", "o-1", {{"amount", 5}});
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(n->instances.size(), 2u);
  EXPECT_EQ(h.info(a).variables["amount"], 5);
  const InstanceId started = a + 1;
  EXPECT_EQ(h.info(started).process_id, "q");
  EXPECT_EQ(h.info(started).variables["amount"], 5);
}

// Two buffered messages meet the two message catch events after an event-based gateway: the
// first one wins, and the second must stay buffered for another instance, not be lost.
TEST_P(ReviewMessage, BufferedMessageNotUsedByAnEventGatewayStaysBuffered) {
  Harness h;
  h.deploy(bpmn(message_def("ma", "a") + message_def("mb", "b") +
                "<process id=\"p\" isExecutable=\"true\">\n"
                "<startEvent id=\"s\"/>\n<eventBasedGateway id=\"g\"/>\n"
                "<intermediateCatchEvent id=\"ca\"><messageEventDefinition messageRef=\"ma\"/>"
                "</intermediateCatchEvent>\n"
                "<intermediateCatchEvent id=\"cb\"><messageEventDefinition messageRef=\"mb\"/>"
                "</intermediateCatchEvent>\n<endEvent id=\"e1\"/><endEvent id=\"e2\"/>\n" +
                flow("s", "g") + flow("g", "ca") + flow("g", "cb") + flow("ca", "e1") +
                flow("cb", "e2") + "</process>"));
  ASSERT_TRUE(h.engine().publish_message("a", "o-1", {}, 60'000).is_ok());
  ASSERT_TRUE(h.engine().publish_message("b", "o-1", {}, 60'000).is_ok());
  InstanceId first = h.start("p", {{"orderId", "o-1"}});
  EXPECT_EQ(h.info(first).state, InstanceState::kCompleted);
  InstanceId second = h.start("p", {{"orderId", "o-1"}});
  EXPECT_EQ(h.info(second).state, InstanceState::kCompleted)
      << "message 'b' was not used by the first instance";
}

}  // namespace
}  // namespace ordo::testing
