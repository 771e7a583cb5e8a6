// Events: messages, timers, boundary events, errors, escalations, event subprocesses,
// terminate and link events.
#include "runtime/harness.h"

namespace ordo::testing {
namespace {

std::string catch_xml() {
  return bpmn(message_def("m", "delivered") +
              "<process id=\"p\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n"
              "<intermediateCatchEvent id=\"wait\"><messageEventDefinition messageRef=\"m\"/>"
              "</intermediateCatchEvent>\n<endEvent id=\"e\"/>\n" +
              flow("s", "wait") + flow("wait", "e") + "</process>");
}

// Every test runs on each store (harness.h).
ORDO_ON_EACH_STORE(MessageCatchEvent);
ORDO_ON_EACH_STORE(TimerBoundaryEvent);
ORDO_ON_EACH_STORE(MessageBoundaryEvent);
ORDO_ON_EACH_STORE(ErrorBoundaryEvent);
ORDO_ON_EACH_STORE(ErrorEndEvent);
ORDO_ON_EACH_STORE(EventSubprocess);
ORDO_ON_EACH_STORE(EscalationBoundaryEvent);
ORDO_ON_EACH_STORE(TerminateEndEvent);
ORDO_ON_EACH_STORE(LinkEvents);
ORDO_ON_EACH_STORE(TimerCatchEvent);
ORDO_ON_EACH_STORE(TimerStartEvent);

TEST_P(MessageCatchEvent, CorrelatesOnlyTheMatchingKey) {
  Harness h;
  h.deploy(catch_xml());
  InstanceId a = h.start("p", {{"orderId", "A"}});
  InstanceId b = h.start("p", {{"orderId", "B"}});
  auto n = h.engine().publish_message("delivered", "B", {{"trackingId", "T-9"}});
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(n->instances.size(), 1u);
  EXPECT_EQ(h.info(a).state, InstanceState::kActive);
  EXPECT_EQ(h.info(b).state, InstanceState::kCompleted);
  EXPECT_EQ(h.info(b).variables["trackingId"], "T-9");
}

TEST_P(MessageCatchEvent, BufferedMessageIsDeliveredWhenTheSubscriptionOpens) {
  Harness h;
  h.deploy(catch_xml());
  auto n = h.engine().publish_message("delivered", "A", {}, 60'000);
  ASSERT_TRUE(n.is_ok());
  EXPECT_TRUE(n->instances.empty());
  InstanceId a = h.start("p", {{"orderId", "A"}});
  EXPECT_EQ(h.info(a).state, InstanceState::kCompleted);
  // Its history names the message as for one received at once (history.h).
  std::vector<std::string> correlated;
  for (const HistoryEvent& e : must(h.engine().history(a))) {
    if (e.kind == HistoryKind::kMessageCorrelated) correlated.push_back(e.detail);
  }
  EXPECT_EQ(correlated, Ids{"delivered / A"});
}

// A key with quotes, a backslash and a non-ASCII letter comes back out of the history as
// it went in (each store writes the history as JSON text in its own way).
TEST_P(MessageCatchEvent, HistoryKeepsKeysWithQuotesAndBackslashes) {
  Harness h;
  h.deploy(catch_xml());
  const std::string key = "A\"1\\b\u00e9";
  InstanceId a = h.start("p", {{"orderId", key}});
  ASSERT_OK(h.engine().publish_message("delivered", key).status());
  EXPECT_EQ(h.info(a).state, InstanceState::kCompleted);
  std::vector<std::string> correlated;
  for (const HistoryEvent& e : must(h.engine().history(a))) {
    if (e.kind == HistoryKind::kMessageCorrelated) correlated.push_back(e.detail);
  }
  EXPECT_EQ(correlated, Ids{"delivered / " + key});
}

// Subscriptions opened by the commands of a group (start_many, a worker round of
// run_until_idle) meet the messages buffered before: each instance gets its own, and goes
// on in the same call, through the jobs the message leads to.
TEST_P(MessageCatchEvent, BufferedMessagesMeetSubscriptionsOpenedInAGroup) {
  EngineOptions grouped;
  grouped.group_commit = 16;  // the three payments' outcomes in one round
  Harness h(grouped);
  h.deploy(bpmn(message_def("m", "delivered") +
                "<process id=\"p\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n" +
                svc("pay") +
                "<intermediateCatchEvent id=\"wait\"><messageEventDefinition messageRef=\"m\"/>"
                "</intermediateCatchEvent>\n" +
                svc("ship") + "<endEvent id=\"e\"/>\n" + flow("s", "pay") + flow("pay", "wait") +
                flow("wait", "ship") + flow("ship", "e") + "</process>"));
  for (const char* key : {"A", "B"}) {
    ASSERT_OK(h.engine().publish_message("delivered", key, {{"by", key}}, 60'000).status());
  }
  std::vector<StartRequest> starts(3);
  const char* keys[] = {"A", "B", "C"};
  for (std::size_t i = 0; i < starts.size(); ++i) {
    starts[i].process_id = "p";
    starts[i].variables = {{"orderId", keys[i]}};
  }
  auto started = h.engine().start_many(starts);
  ASSERT_OK(started.status());
  h.complete_all_jobs();
  ASSERT_OK(h.engine().run_until_idle().status());
  for (std::size_t i = 0; i < 2; ++i) {
    const InstanceInfo done = h.info((*started)[i].id);
    EXPECT_EQ(done.state, InstanceState::kCompleted) << keys[i];
    EXPECT_EQ(done.variables["by"], keys[i]);
  }
  EXPECT_EQ(h.active((*started)[2].id), Ids{"wait"}) << "C has no message";
  EXPECT_EQ(h.calls, (Ids{"pay", "pay", "pay", "ship", "ship"}));
}

// A task whose interrupting message boundary meets a buffered message is interrupted before
// its job is handed to a handler: the handler of the cancelled task never runs (a card
// charged for an order already cancelled).
TEST_P(MessageCatchEvent, ABufferedMessageInterruptsATaskBeforeItsJobIsHandedOut) {
  EngineOptions grouped;
  grouped.group_commit = 16;
  Harness h(grouped);
  h.deploy(bpmn(message_def("m", "cancel-order") +
                "<process id=\"p\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n" +
                svc("reserve") + svc("charge") +
                "<boundaryEvent id=\"cancelled\" attachedToRef=\"charge\">"
                "<messageEventDefinition messageRef=\"m\"/></boundaryEvent>\n"
                "<endEvent id=\"charged\"/><endEvent id=\"stopped\"/>\n" +
                flow("s", "reserve") + flow("reserve", "charge") + flow("charge", "charged") +
                flow("cancelled", "stopped") + "</process>"));
  const InstanceId id = h.start("p", {{"orderId", "A"}});
  ASSERT_OK(h.engine().publish_message("cancel-order", "A", {}, 60'000).status());
  h.complete_all_jobs();
  ASSERT_OK(h.engine().run_until_idle().status());
  EXPECT_EQ(h.calls, Ids{"reserve"}) << "charge was interrupted before its handler ran";
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
  EXPECT_EQ(h.info(id).end_event, "stopped");
}

// A buffered message taken for a subscription that closes before it gets there (its
// instance ended) goes to another subscription to it that opened in the meantime, rather
// than back into the buffer where nobody would look for it again.
TEST_P(MessageCatchEvent, AMessageWhoseSubscriptionClosedGoesToTheNextOne) {
  Harness h;
  h.deploy(bpmn(message_def("m", "paid") +
                "<process id=\"race\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n"
                "<parallelGateway id=\"fork\"/>\n"
                "<intermediateCatchEvent id=\"wait\"><messageEventDefinition messageRef=\"m\"/>"
                "</intermediateCatchEvent>\n<endEvent id=\"got\"/>\n"
                "<endEvent id=\"stop\"><terminateEventDefinition/></endEvent>\n" +
                flow("s", "fork") + flow("fork", "wait") + flow("wait", "got") +
                flow("fork", "stop") + "</process>\n"
                "<process id=\"waiter\" isExecutable=\"true\">\n<startEvent id=\"s2\"/>\n"
                "<intermediateCatchEvent id=\"wait2\"><messageEventDefinition messageRef=\"m\"/>"
                "</intermediateCatchEvent>\n<endEvent id=\"got2\"/>\n" +
                flow("s2", "wait2") + flow("wait2", "got2") + "</process>"));
  ASSERT_OK(h.engine().publish_message("paid", "K", {{"amount", 5}}, 60'000).status());
  std::vector<StartRequest> starts(2);
  starts[0].process_id = "race";
  starts[0].variables = {{"orderId", "K"}};
  starts[1].process_id = "waiter";
  starts[1].variables = {{"orderId", "K"}};
  auto started = h.engine().start_many(starts);
  ASSERT_OK(started.status());
  EXPECT_EQ(h.info((*started)[0].id).end_event, "stop") << "it ended before the message came";
  const InstanceInfo waiter = h.info((*started)[1].id);
  EXPECT_EQ(waiter.state, InstanceState::kCompleted) << "the waiter got the message";
  EXPECT_EQ(waiter.variables["amount"], 5);
}

// In one group, a subscription opens where an older message is buffered, and then the same
// message is published again: the older one is delivered, as messages arrive in order, and
// the newer one is buffered in its turn.
TEST_P(MessageCatchEvent, AnOlderBufferedMessageGoesFirstInAGroup) {
  Harness h;
  h.deploy(bpmn(message_def("m1", "paid") + message_def("m2", "delivered") +
                "<process id=\"p\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n"
                "<intermediateCatchEvent id=\"paid\"><messageEventDefinition messageRef=\"m1\"/>"
                "</intermediateCatchEvent>\n"
                "<intermediateCatchEvent id=\"wait\"><messageEventDefinition messageRef=\"m2\"/>"
                "</intermediateCatchEvent>\n<endEvent id=\"e\"/>\n" +
                flow("s", "paid") + flow("paid", "wait") + flow("wait", "e") + "</process>"));
  InstanceId a = h.start("p", {{"orderId", "A"}});
  ASSERT_OK(h.engine().publish_message("delivered", "A", {{"n", 1}}, 60'000).status());
  std::vector<Message> messages(2);
  messages[0].name = "paid";
  messages[0].correlation_key = "A";
  messages[1].name = "delivered";
  messages[1].correlation_key = "A";
  messages[1].variables = {{"n", 2}};
  messages[1].ttl_ms = 60'000;
  auto published = h.engine().publish_many(std::move(messages));
  ASSERT_OK(published.status());
  ASSERT_EQ(published->size(), 2u);
  EXPECT_EQ((*published)[0].instances, std::vector<InstanceId>{a});
  EXPECT_TRUE((*published)[1].instances.empty()) << "A took the older message";
  EXPECT_TRUE((*published)[1].buffered);
  EXPECT_EQ(h.info(a).state, InstanceState::kCompleted);
  EXPECT_EQ(h.info(a).variables["n"], 1);
  // The newer one waits for the next order that asks.
  InstanceId b = h.start("p", {{"orderId", "A"}});
  ASSERT_OK(h.engine().publish_message("paid", "A").status());
  EXPECT_EQ(h.info(b).state, InstanceState::kCompleted);
  EXPECT_EQ(h.info(b).variables["n"], 2);
}

TEST_P(MessageCatchEvent, WithoutHistoryDetailsObserversSeeTheSameEventsWithoutTheirText) {
  struct Recorder final : Observer {
    std::vector<std::pair<HistoryKind, std::string>> events;
    void on_event(const HistoryEvent& e) override { events.emplace_back(e.kind, e.detail); }
  };
  std::vector<std::pair<HistoryKind, std::string>> seen[2];
  for (bool details : {true, false}) {
    EngineOptions o;
    o.keep_history = false;
    o.history_details = details;
    Engine engine(o);
    Recorder r;
    engine.add_observer(&r);
    auto loaded = load_bpmn(catch_xml());
    ASSERT_TRUE(loaded.ok());
    ASSERT_OK(engine.deploy(loaded.document));
    ASSERT_OK(engine.start("p", {{"orderId", "A"}}, "key-1"));
    ASSERT_OK(engine.publish_message("delivered", "A"));
    engine.remove_observer(&r);
    seen[details ? 0 : 1] = r.events;
  }
  ASSERT_EQ(seen[0].size(), seen[1].size());
  std::size_t with_text = 0;
  for (std::size_t i = 0; i < seen[0].size(); ++i) {
    EXPECT_EQ(seen[0][i].first, seen[1][i].first);
    EXPECT_EQ(seen[1][i].second, "") << to_string(seen[1][i].first);
    if (!seen[0][i].second.empty()) ++with_text;
  }
  EXPECT_GE(with_text, 3u) << "business key, subscription and correlation carry text by default";
}

TEST_P(MessageCatchEvent, ExpiredBufferedMessageIsNotDelivered) {
  Harness h;
  h.deploy(catch_xml());
  ASSERT_TRUE(h.engine().publish_message("delivered", "A", {}, 1'000).is_ok());
  h.clock().advance(2'000);
  InstanceId a = h.start("p", {{"orderId", "A"}});
  EXPECT_EQ(h.info(a).state, InstanceState::kActive);
}

TEST_P(MessageCatchEvent, MessageWithoutReceiverAndTtlIsDropped) {
  Harness h;
  h.deploy(catch_xml());
  ASSERT_TRUE(h.engine().publish_message("delivered", "A").is_ok());
  InstanceId a = h.start("p", {{"orderId", "A"}});
  EXPECT_EQ(h.info(a).state, InstanceState::kActive);
}

std::string boundary_xml(std::string_view boundary) {
  return bpmn(message_def("m", "cancel-order") + "<error id=\"err\" errorCode=\"DECLINED\"/>\n" +
              "<process id=\"p\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n" + svc("work") +
              std::string(boundary) + svc("handle") + svc("next") +
              "<endEvent id=\"e\"/><endEvent id=\"e2\"/>\n" + flow("s", "work") +
              flow("work", "next") + flow("next", "e") + flow("b", "handle") +
              flow("handle", "e2") + "</process>");
}

TEST_P(TimerBoundaryEvent, InterruptingTimerCancelsTheTaskAndItsJob) {
  Harness h;
  h.deploy(boundary_xml(
      "<boundaryEvent id=\"b\" attachedToRef=\"work\"><timerEventDefinition>"
      "<timeDuration>PT30M</timeDuration></timerEventDefinition></boundaryEvent>\n"));
  InstanceId id = h.start();
  JobKey job = h.job_of("work");
  ASSERT_OK(h.engine().advance_clock(30 * 60'000));
  EXPECT_EQ(h.open_job_elements(), Ids({"handle"}));
  EXPECT_EQ(h.engine().complete_job(job).code(), StatusCode::kNotFound);
  EXPECT_EQ(h.history(id, HistoryKind::kElementTerminated), Ids({"work"}));
}

TEST_P(TimerBoundaryEvent, CompletingTheTaskFirstCancelsTheTimer) {
  Harness h;
  h.deploy(boundary_xml(
      "<boundaryEvent id=\"b\" attachedToRef=\"work\"><timerEventDefinition>"
      "<timeDuration>PT30M</timeDuration></timerEventDefinition></boundaryEvent>\n"));
  h.start();
  ASSERT_OK(h.engine().complete_job(h.job_of("work")));
  EXPECT_FALSE(must(h.engine().next_timer_due()).has_value());
}

TEST_P(TimerBoundaryEvent, NonInterruptingCycleFiresEachRepetitionAndKeepsTheTask) {
  Harness h;
  h.deploy(boundary_xml(
      "<boundaryEvent id=\"b\" attachedToRef=\"work\" cancelActivity=\"false\">"
      "<timerEventDefinition><timeCycle>R2/PT10M</timeCycle></timerEventDefinition>"
      "</boundaryEvent>\n"));
  h.start();
  ASSERT_OK(h.engine().advance_clock(10 * 60'000));
  ASSERT_OK(h.engine().advance_clock(10 * 60'000));
  ASSERT_OK(h.engine().advance_clock(10 * 60'000));
  EXPECT_EQ(h.open_job_elements(), Ids({"work", "handle", "handle"}));
  EXPECT_FALSE(must(h.engine().next_timer_due()).has_value()) << "R2 fires twice";
}

TEST_P(MessageBoundaryEvent, InterruptingMessageLeavesThroughTheBoundary) {
  Harness h;
  h.deploy(boundary_xml(
      "<boundaryEvent id=\"b\" attachedToRef=\"work\"><messageEventDefinition "
      "messageRef=\"m\"/></boundaryEvent>\n"));
  h.start("p", {{"orderId", "o-7"}});
  ASSERT_TRUE(h.engine().publish_message("cancel-order", "o-7").is_ok());
  EXPECT_EQ(h.open_job_elements(), Ids({"handle"}));
}

TEST_P(ErrorBoundaryEvent, CatchesTheErrorAJobThrows) {
  Harness h;
  h.deploy(boundary_xml(
      "<boundaryEvent id=\"b\" attachedToRef=\"work\"><errorEventDefinition "
      "errorRef=\"err\"/></boundaryEvent>\n"));
  InstanceId id = h.start();
  ASSERT_OK(h.engine().throw_error(h.job_of("work"), "DECLINED", "card declined",
                                   {{"reason", "insufficient funds"}}));
  EXPECT_EQ(h.open_job_elements(), Ids({"handle"}));
  EXPECT_EQ(h.info(id).variables["reason"], "insufficient funds");
}

TEST_P(ErrorBoundaryEvent, ErrorWithOtherCodeIsAnIncident) {
  Harness h;
  h.deploy(boundary_xml(
      "<boundaryEvent id=\"b\" attachedToRef=\"work\"><errorEventDefinition "
      "errorRef=\"err\"/></boundaryEvent>\n"));
  InstanceId id = h.start();
  ASSERT_OK(h.engine().throw_error(h.job_of("work"), "OTHER"));
  InstanceInfo info = h.info(id);
  ASSERT_EQ(info.incidents.size(), 1u);
  EXPECT_EQ(to_string(info.incidents[0].kind), "unhandled-error");
  EXPECT_NE(info.incidents[0].message.find("OTHER"), std::string::npos);
}

std::string subprocess_error_xml() {
  return bpmn(
      "<error id=\"err\" errorCode=\"BOOM\"/>\n<process id=\"p\" isExecutable=\"true\">\n"
      "<startEvent id=\"s\"/>\n<subProcess id=\"sub\">\n<startEvent id=\"ss\"/>\n" +
      svc("inner") + svc("inner2") + "<parallelGateway id=\"f\"/>\n" +
      "<endEvent id=\"boom\"><errorEventDefinition errorRef=\"err\"/></endEvent>\n" +
      flow("ss", "f") + flow("f", "inner") + flow("f", "inner2") + flow("inner", "boom") +
      "</subProcess>\n<boundaryEvent id=\"caught\" attachedToRef=\"sub\">"
      "<errorEventDefinition errorRef=\"err\"/></boundaryEvent>\n" +
      svc("recover") + "<endEvent id=\"e\"/><endEvent id=\"e2\"/>\n" + flow("s", "sub") +
      flow("sub", "e") + flow("caught", "recover") + flow("recover", "e2") + "</process>");
}

TEST_P(ErrorEndEvent, PropagatesToTheSubprocessBoundaryAndTerminatesSiblings) {
  Harness h;
  h.deploy(subprocess_error_xml());
  InstanceId id = h.start();
  EXPECT_EQ(h.open_job_elements(), Ids({"inner", "inner2"}));
  ASSERT_OK(h.engine().complete_job(h.job_of("inner")));
  EXPECT_EQ(h.open_job_elements(), Ids({"recover"}));
  EXPECT_EQ(h.history(id, HistoryKind::kElementTerminated), Ids({"boom", "inner2", "sub"}));
}

std::string event_subprocess_xml(bool interrupting) {
  return bpmn(message_def("m", "address-changed") +
              "<process id=\"p\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n" + svc("work") +
              "<endEvent id=\"e\"/>\n" + flow("s", "work") + flow("work", "e") +
              "<subProcess id=\"on-change\" triggeredByEvent=\"true\">\n"
              "<startEvent id=\"es\" isInterrupting=\"" +
              (interrupting ? "true" : "false") +
              "\"><messageEventDefinition messageRef=\"m\"/></startEvent>\n" + svc("update") +
              "<endEvent id=\"ee\"/>\n" + flow("es", "update") + flow("update", "ee") +
              "</subProcess>\n</process>");
}

TEST_P(EventSubprocess, InterruptingMessageStartCancelsTheScope) {
  Harness h;
  h.deploy(event_subprocess_xml(true));
  InstanceId id = h.start("p", {{"orderId", "o-1"}});
  ASSERT_TRUE(h.engine().publish_message("address-changed", "o-1").is_ok());
  EXPECT_EQ(h.open_job_elements(), Ids({"update"}));
  ASSERT_OK(h.engine().complete_job(h.job_of("update")));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

TEST_P(EventSubprocess, NonInterruptingMessageStartRunsAlongside) {
  Harness h;
  h.deploy(event_subprocess_xml(false));
  InstanceId id = h.start("p", {{"orderId", "o-1"}});
  ASSERT_TRUE(h.engine().publish_message("address-changed", "o-1").is_ok());
  ASSERT_TRUE(h.engine().publish_message("address-changed", "o-1").is_ok());
  EXPECT_EQ(h.open_job_elements(), Ids({"work", "update", "update"}));
  ASSERT_OK(h.engine().complete_job(h.job_of("work")));
  EXPECT_EQ(h.info(id).state, InstanceState::kActive)
      << "running event subprocesses are tokens of the process too";
  for (const JobInfo& j : must(h.engine().open_jobs())) ASSERT_OK(h.engine().complete_job(j.key));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

TEST_P(EventSubprocess, ErrorStartCatchesAnErrorThrownInTheScope) {
  Harness h;
  h.deploy(bpmn(
      "<error id=\"err\" errorCode=\"X\"/>\n<process id=\"p\" isExecutable=\"true\">\n"
      "<startEvent id=\"s\"/>\n" + svc("work") + "<endEvent id=\"e\"/>\n" + flow("s", "work") +
      flow("work", "e") +
      "<subProcess id=\"on-error\" triggeredByEvent=\"true\"><startEvent id=\"es\">"
      "<errorEventDefinition errorRef=\"err\"/></startEvent>\n" + svc("cleanup") +
      "<endEvent id=\"ee\"/>\n" + flow("es", "cleanup") + flow("cleanup", "ee") +
      "</subProcess>\n</process>"));
  InstanceId id = h.start();
  ASSERT_OK(h.engine().throw_error(h.job_of("work"), "X"));
  EXPECT_EQ(h.open_job_elements(), Ids({"cleanup"}));
  ASSERT_OK(h.engine().complete_job(h.job_of("cleanup")));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

TEST_P(EscalationBoundaryEvent, NonInterruptingEscalationLetsTheThrowerContinue) {
  Harness h;
  h.deploy(bpmn(
      "<escalation id=\"esc\" escalationCode=\"LATE\"/>\n<process id=\"p\" "
      "isExecutable=\"true\">\n<startEvent id=\"s\"/>\n<subProcess id=\"sub\">"
      "<startEvent id=\"ss\"/><intermediateThrowEvent id=\"throw\">"
      "<escalationEventDefinition escalationRef=\"esc\"/></intermediateThrowEvent>\n" +
      svc("inner") + flow("ss", "throw") + flow("throw", "inner") +
      "</subProcess>\n<boundaryEvent id=\"b\" attachedToRef=\"sub\" cancelActivity=\"false\">"
      "<escalationEventDefinition escalationRef=\"esc\"/></boundaryEvent>\n" +
      svc("notify") + flow("s", "sub") + flow("b", "notify") + "</process>"));
  h.start();
  EXPECT_EQ(h.open_job_elements(), Ids({"notify", "inner"}));
}

TEST_P(TerminateEndEvent, EndsEveryTokenOfItsScope) {
  Harness h;
  h.deploy(process("<startEvent id=\"s\"/><parallelGateway id=\"f\"/>\n" + svc("slow") +
                   "<endEvent id=\"stop\"><terminateEventDefinition/></endEvent>\n" +
                   flow("s", "f") + flow("f", "slow") + flow("f", "stop")));
  InstanceId id = h.start();
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
  EXPECT_EQ(h.info(id).end_event, "stop");
  EXPECT_TRUE(h.open_job_elements().empty());
}

TEST_P(LinkEvents, ThrowContinuesAtTheCatchOfTheSameName) {
  Harness h;
  h.deploy(process(
      "<startEvent id=\"s\"/><intermediateThrowEvent id=\"go\"><linkEventDefinition "
      "name=\"L\"/></intermediateThrowEvent>\n<intermediateCatchEvent id=\"land\">"
      "<linkEventDefinition name=\"L\"/></intermediateCatchEvent>\n" +
      svc("after") + flow("s", "go") + flow("land", "after")));
  h.start();
  EXPECT_EQ(h.open_job_elements(), Ids({"after"}));
}

TEST_P(TimerCatchEvent, DateTimerFiresAtThatTime) {
  Harness h;
  h.deploy(process(
      "<startEvent id=\"s\"/><intermediateCatchEvent id=\"t\"><timerEventDefinition>"
      "<timeDate>2026-12-02T10:00:00Z</timeDate></timerEventDefinition>"
      "</intermediateCatchEvent>\n" + svc("after") + flow("s", "t") + flow("t", "after")));
  h.start();
  EXPECT_EQ(must(h.engine().next_timer_due()), kEpoch + 86'400'000);
  ASSERT_OK(h.engine().advance_clock(86'400'000 - 1));
  EXPECT_TRUE(h.open_job_elements().empty());
  ASSERT_OK(h.engine().advance_clock(1));
  EXPECT_EQ(h.open_job_elements(), Ids({"after"}));
}

TEST_P(TimerCatchEvent, FeelExpressionGivesTheDuration) {
  Harness h;
  h.deploy(process(
      "<startEvent id=\"s\"/><intermediateCatchEvent id=\"t\"><timerEventDefinition>"
      "<timeDuration>=wait</timeDuration></timerEventDefinition>"
      "</intermediateCatchEvent>\n" + svc("after") + flow("s", "t") + flow("t", "after")));
  h.start("p", {{"wait", "PT5M"}});
  EXPECT_EQ(must(h.engine().next_timer_due()), kEpoch + 5 * 60'000);
}

// A FEEL date and time in a zone by name fires at its instant; one without a zone, as UTC.
TEST_P(TimerCatchEvent, FeelDateAndTimeInAZoneFiresAtItsInstant) {
  Harness h;
  h.deploy(process(
      "<startEvent id=\"s\"/><intermediateCatchEvent id=\"t\"><timerEventDefinition>"
      "<timeDate>=date and time(when)</timeDate></timerEventDefinition>"
      "</intermediateCatchEvent>\n" + svc("after") + flow("s", "t") + flow("t", "after")));
  // Berlin is UTC+1 in December: 12:00 there is 11:00Z, an hour after the epoch.
  h.start("p", {{"when", "2026-12-01T12:00:00@Europe/Berlin"}});
  EXPECT_EQ(must(h.engine().next_timer_due()), kEpoch + 3'600'000);
  Harness local;
  local.deploy(process(
      "<startEvent id=\"s\"/><intermediateCatchEvent id=\"t\"><timerEventDefinition>"
      "<timeDate>=date and time(when)</timeDate></timerEventDefinition>"
      "</intermediateCatchEvent>\n" + svc("after") + flow("s", "t") + flow("t", "after")));
  local.start("p", {{"when", "2026-12-01T12:00:00"}});
  EXPECT_EQ(must(local.engine().next_timer_due()), kEpoch + 2 * 3'600'000);
}

TEST_P(TimerCatchEvent, InvalidTimerValueIsAnIncident) {
  Harness h;
  h.deploy(process(
      "<startEvent id=\"s\"/><intermediateCatchEvent id=\"t\"><timerEventDefinition>"
      "<timeDuration>=wait</timeDuration></timerEventDefinition>"
      "</intermediateCatchEvent>\n" + svc("after") + flow("s", "t") + flow("t", "after")));
  InstanceId id = h.start("p", {{"wait", "soon"}});
  ASSERT_EQ(h.info(id).incidents.size(), 1u);
  EXPECT_EQ(to_string(h.info(id).incidents[0].kind), "timer");
}

// A duration that overflows the calendar (it once fired at once, in year -169106073) is an
// incident naming the horizon, and nothing is scheduled.
TEST_P(TimerCatchEvent, ADurationBeyondTheYear9999IsAnIncident) {
  Harness h;
  h.deploy(process(
      "<startEvent id=\"s\"/><intermediateCatchEvent id=\"t\"><timerEventDefinition>"
      "<timeDuration>=wait</timeDuration></timerEventDefinition>"
      "</intermediateCatchEvent>\n" + svc("after") + flow("s", "t") + flow("t", "after")));
  for (const char* wait : {"P999999999Y", "P8000Y", "PT999999999H"}) {
    InstanceId id = h.start("p", {{"wait", wait}});
    const InstanceInfo info = h.info(id);
    ASSERT_EQ(info.incidents.size(), 1u) << wait;
    EXPECT_EQ(info.incidents[0].kind, IncidentKind::kTimer) << wait;
    EXPECT_NE(info.incidents[0].message.find("beyond the year 9999"), std::string::npos)
        << info.incidents[0].message;
  }
  EXPECT_FALSE(must(h.engine().next_timer_due()).has_value());
  EXPECT_TRUE(h.open_job_elements().empty());
}

}  // namespace
}  // namespace ordo::testing

namespace ordo::testing {
namespace {

std::string timer_start_process(std::string_view timer, std::string_view task = "work") {
  return process("<startEvent id=\"tick\"><timerEventDefinition>" + std::string(timer) +
                 "</timerEventDefinition></startEvent>\n" + svc(task) +
                 "<endEvent id=\"e\"/>\n" + flow("tick", task) + flow(task, "e"));
}

std::size_t instance_count(Harness& h) {
  auto all = h.engine().instances();
  EXPECT_TRUE(all.is_ok());
  return all.is_ok() ? all->size() : 0;
}

TEST_P(TimerStartEvent, CycleStartsAnInstanceAtEachRepetition) {
  Harness h;
  h.deploy(timer_start_process("<timeCycle>R3/PT1H</timeCycle>"));
  EXPECT_EQ(instance_count(h), 0u);
  EXPECT_EQ(must(h.engine().next_timer_due()), kEpoch + 3'600'000);
  ASSERT_OK(h.engine().advance_clock(3'600'000));
  EXPECT_EQ(instance_count(h), 1u);
  EXPECT_EQ(h.open_job_elements(), Ids({"work"}));
  ASSERT_OK(h.engine().advance_clock(5 * 3'600'000));
  EXPECT_EQ(instance_count(h), 3u) << "R3: three firings, then no more";
  EXPECT_FALSE(must(h.engine().next_timer_due()).has_value());
}

// A cron cycle (Zeebe's Spring syntax, UTC): an instance at each matching time, the next
// time computed from the expression each firing; a boundary timer too.
TEST_P(TimerStartEvent, ACronCycleStartsAnInstanceAtEachMatchingTime) {
  Harness h;
  h.deploy(timer_start_process("<timeCycle>0 0 */6 * * *</timeCycle>"));
  // kEpoch is 2026-12-01T10:00:00Z: next at 12:00, then every six hours.
  EXPECT_EQ(must(h.engine().next_timer_due()), kEpoch + 2 * 3'600'000);
  ASSERT_OK(h.engine().advance_clock(2 * 3'600'000));
  EXPECT_EQ(instance_count(h), 1u);
  EXPECT_EQ(must(h.engine().next_timer_due()), kEpoch + 8 * 3'600'000);
  ASSERT_OK(h.engine().advance_clock(12 * 3'600'000));
  EXPECT_EQ(instance_count(h), 3u) << "18:00 and 00:00";

  h.deploy(process("<startEvent id=\"bs\"/>" + svc("wait") +
                       "<boundaryEvent id=\"ping\" attachedToRef=\"wait\" "
                       "cancelActivity=\"false\"><timerEventDefinition><timeCycle>0 30 * * * ?"
                       "</timeCycle></timerEventDefinition></boundaryEvent>" +
                       svc("remind") + "<endEvent id=\"be\"/><endEvent id=\"reminded\"/>" +
                       flow("bs", "wait") + flow("wait", "be") + flow("ping", "remind") +
                       flow("remind", "reminded"),
                   "pinger"));
  h.start("pinger");
  ASSERT_OK(h.engine().advance_clock(2 * 3'600'000));
  EXPECT_EQ(must(h.engine().open_jobs("remind")).size(), 2u) << "at :30 each hour";
}

// A cycle that began in the past fires once for all the ticks it missed, then keeps to its
// ticks from now on (it once fired every missed tick: 720 instances for a month of hours).
TEST_P(TimerStartEvent, ACycleThatBeganInThePastCatchesUpOnce) {
  Harness h;
  h.deploy(timer_start_process("<timeCycle>R/2026-11-01T10:00:00Z/PT1H</timeCycle>"));
  must(h.engine().run_until_idle());
  EXPECT_EQ(instance_count(h), 1u);
  EXPECT_EQ(must(h.engine().next_timer_due()), kEpoch + 3'600'000);
  ASSERT_OK(h.engine().advance_clock(3 * 3'600'000));
  EXPECT_EQ(instance_count(h), 4u) << "then one an hour";
}

// The same for a repeating boundary timer whose ticks the engine slept through.
TEST_P(TimerBoundaryEvent, ARepeatingTimerCatchesUpOnceAfterTheClockJumped) {
  Harness h;
  h.deploy(process(
      "<startEvent id=\"s\"/>" + svc("work") +
      "<boundaryEvent id=\"b\" attachedToRef=\"work\" cancelActivity=\"false\">"
      "<timerEventDefinition><timeCycle>R/PT10M</timeCycle></timerEventDefinition>"
      "</boundaryEvent>" + svc("remind") + "<endEvent id=\"e\"/><endEvent id=\"e2\"/>" +
      flow("s", "work") + flow("work", "e") + flow("b", "remind") + flow("remind", "e2")));
  h.start();
  h.clock().advance(24 * 3'600'000);  // a day passes with nothing running (a stopped server)
  must(h.engine().run_until_idle());
  std::size_t reminders = 0;
  for (const std::string& e : h.open_job_elements()) reminders += e == "remind";
  EXPECT_EQ(reminders, 1u);
  EXPECT_EQ(must(h.engine().next_timer_due()), kEpoch + 24 * 3'600'000 + 10 * 60'000);
}

TEST_P(TimerStartEvent, DateFiresOnceAndANewVersionReplacesTheOldTimers) {
  Harness h;
  h.deploy(timer_start_process("<timeDate>2026-12-01T12:00:00Z</timeDate>"));
  EXPECT_EQ(must(h.engine().next_timer_due()), kEpoch + 2 * 3'600'000);
  // Version 2 fires every 30 minutes instead; version 1's date never fires.
  h.deploy(timer_start_process("<timeCycle>R2/PT30M</timeCycle>", "other"));
  EXPECT_EQ(must(h.engine().next_timer_due()), kEpoch + 1'800'000);
  ASSERT_OK(h.engine().advance_clock(3 * 3'600'000));
  EXPECT_EQ(instance_count(h), 2u);
  auto all = h.engine().instances();
  ASSERT_TRUE(all.is_ok());
  for (const InstanceInfo& i : *all) EXPECT_EQ(i.version, 2);
  EXPECT_EQ(h.open_job_elements(), Ids({"other", "other"}));
}

TEST_P(TimerStartEvent, ATimerGivenAsAnExpressionIsRefusedAtDeployment) {
  Harness h;
  LoadResult r = load_bpmn(timer_start_process("<timeCycle>=cycle</timeCycle>"), "t.bpmn");
  ASSERT_TRUE(r.ok()) << dump(r);
  auto d = h.engine().deploy(r.document);
  ASSERT_FALSE(d.is_ok());
  EXPECT_NE(d.status().message().find("plain text"), std::string::npos) << d.status().to_string();
}

}  // namespace
}  // namespace ordo::testing
