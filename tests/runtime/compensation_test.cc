// Compensation and transactions, on each store: completed activities are undone by their
// handlers, newest first and once each, when a compensation event is thrown or a transaction
// is cancelled.
#include "runtime/harness.h"

namespace ordo::testing {
namespace {

ORDO_ON_EACH_STORE(Compensation);

// A compensation boundary event on `activity`, its handler (a service task of job type
// `handler`) and the association between them.
std::string undo(std::string_view activity, std::string_view handler) {
  const std::string a(activity);
  const std::string h(handler);
  return "<boundaryEvent id=\"" + a + "-comp\" attachedToRef=\"" + a +
         "\"><compensateEventDefinition/></boundaryEvent>\n"
         "<serviceTask id=\"" + h + "\" isForCompensation=\"true\"><extensionElements>"
         "<zeebe:taskDefinition type=\"" + h + "\"/></extensionElements></serviceTask>\n"
         "<association id=\"" + a + "-assoc\" associationDirection=\"One\" sourceRef=\"" + a +
         "-comp\" targetRef=\"" + h + "\"/>\n";
}

std::string compensate_end(std::string_view id, std::string_view attributes = {}) {
  return "<endEvent id=\"" + std::string(id) + "\"><compensateEventDefinition " +
         std::string(attributes) + "/></endEvent>\n";
}

// The order saga: reserve, charge, ship; a failed shipment compensates what was done.
std::string saga() {
  return process("<startEvent id=\"s\"/>" + svc("reserve") + undo("reserve", "release") +
                 svc("charge") + undo("charge", "refund") + svc("ship") +
                 "<boundaryEvent id=\"ship-failed\" attachedToRef=\"ship\">"
                 "<errorEventDefinition/></boundaryEvent>" +
                 compensate_end("failed") + "<endEvent id=\"e\"/>" + flow("s", "reserve") +
                 flow("reserve", "charge") + flow("charge", "ship") + flow("ship", "e") +
                 flow("ship-failed", "failed"));
}

TEST_P(Compensation, AFailedShipmentUndoesWhatCompletedNewestFirstOneAtATime) {
  Harness h;
  h.deploy(saga());
  const InstanceId id = h.start();
  ASSERT_OK(h.engine().complete_job(h.job_of("reserve"), {{"reservation", "R-1"}}));
  ASSERT_OK(h.engine().complete_job(h.job_of("charge"), {{"paymentId", "P-1"}}));
  ASSERT_OK(h.engine().throw_error(h.job_of("ship"), "NO_CARRIER"));
  // The end event waits for its handlers: the newest completion first.
  EXPECT_EQ(h.active(id), Ids({"failed", "refund"}));
  EXPECT_EQ(h.open_job_elements(), Ids({"refund"}));
  ASSERT_OK(h.engine().complete_job(h.job_of("refund")));
  EXPECT_EQ(h.active(id), Ids({"failed", "release"}));
  ASSERT_OK(h.engine().complete_job(h.job_of("release")));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
  EXPECT_EQ(h.info(id).end_event, "failed");
  EXPECT_EQ(h.history(id, HistoryKind::kCompensationThrown), Ids({"failed"}));
}

TEST_P(Compensation, OnlyCompletedActivitiesAreCompensated) {
  Harness h;
  // The customer cancels while the payment is being taken: an interrupting event
  // subprocess compensates the process, and only the reservation was completed.
  h.deploy(bpmn(message_def("m-cancel", "order-cancelled") +
                "<process id=\"p\" isExecutable=\"true\"><startEvent id=\"s\"/>" + svc("reserve") +
                undo("reserve", "release") + svc("charge") + undo("charge", "refund") +
                "<endEvent id=\"e\"/>" + flow("s", "reserve") + flow("reserve", "charge") +
                flow("charge", "e") +
                "<subProcess id=\"on-cancel\" triggeredByEvent=\"true\">"
                "<startEvent id=\"cancelled\"><messageEventDefinition messageRef=\"m-cancel\"/>"
                "</startEvent><intermediateThrowEvent id=\"undo-all\">"
                "<compensateEventDefinition/></intermediateThrowEvent>"
                "<endEvent id=\"cancel-done\"/>" +
                flow("cancelled", "undo-all") + flow("undo-all", "cancel-done") +
                "</subProcess></process>"));
  const InstanceId id = h.start("p", {{"orderId", "A-1"}});
  ASSERT_OK(h.engine().complete_job(h.job_of("reserve")));
  ASSERT_TRUE(h.engine().publish_message("order-cancelled", "A-1", {}).is_ok());
  EXPECT_EQ(h.open_job_elements(), Ids({"release"})) << "charge never completed";
  ASSERT_OK(h.engine().complete_job(h.job_of("release")));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

TEST_P(Compensation, EachCompletionIsCompensatedOnceWithItsOwnVariables) {
  Harness h;
  // "book" runs twice (a loop back), the second throw finds nothing left to do.
  h.deploy(process(
      "<startEvent id=\"s\"/>"
      "<serviceTask id=\"book\"><extensionElements><zeebe:taskDefinition type=\"book\"/>"
      "<zeebe:ioMapping><zeebe:input source=\"=seat\" target=\"mySeat\"/></zeebe:ioMapping>"
      "</extensionElements></serviceTask>" +
      undo("book", "unbook") +
      "<exclusiveGateway id=\"more\" default=\"more-done\"/>"
      "<intermediateThrowEvent id=\"undo1\"><compensateEventDefinition/>"
      "</intermediateThrowEvent><intermediateThrowEvent id=\"undo2\">"
      "<compensateEventDefinition/></intermediateThrowEvent><endEvent id=\"e\"/>" +
      flow("s", "book") + flow("book", "more") + flow("more", "book", "=round = 1") +
      "<sequenceFlow id=\"more-done\" sourceRef=\"more\" targetRef=\"undo1\"/>" +
      flow("undo1", "undo2") + flow("undo2", "e")));
  std::vector<nlohmann::json> seats;
  h.engine().register_handler("unbook", [&](const Job& job) {
    seats.push_back(*job.variable("mySeat"));
    return JobOutcome::complete();
  });
  const InstanceId id = h.start("p", {{"seat", 1}});
  ASSERT_OK(h.engine().complete_job(h.job_of("book"), {{"seat", 2}, {"round", 1}}));
  ASSERT_OK(h.engine().complete_job(h.job_of("book"), {{"round", 2}}));
  must(h.engine().run_until_idle());
  EXPECT_EQ(seats, (std::vector<nlohmann::json>{2, 1}));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
  EXPECT_EQ(h.history(id, HistoryKind::kElementActivated).size(), 10u)
      << "s, book twice, more twice, undo1, unbook twice, undo2, e: the second throw ran none";
}

TEST_P(Compensation, ActivityRefCompensatesOnlyThatActivity) {
  Harness h;
  h.deploy(process("<startEvent id=\"s\"/>" + svc("reserve") + undo("reserve", "release") +
                   svc("charge") + undo("charge", "refund") +
                   compensate_end("refund-only", "activityRef=\"charge\"") +
                   flow("s", "reserve") + flow("reserve", "charge") +
                   flow("charge", "refund-only")));
  const InstanceId id = h.start();
  ASSERT_OK(h.engine().complete_job(h.job_of("reserve")));
  ASSERT_OK(h.engine().complete_job(h.job_of("charge")));
  EXPECT_EQ(h.open_job_elements(), Ids({"refund"}));
  ASSERT_OK(h.engine().complete_job(h.job_of("refund")));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

TEST_P(Compensation, EachInstanceOfAMultiInstanceActivityIsUndoneWithItsItem) {
  Harness h;
  h.deploy(process(
      "<startEvent id=\"s\"/>"
      "<serviceTask id=\"reserve\"><extensionElements><zeebe:taskDefinition type=\"reserve\"/>"
      "</extensionElements><multiInstanceLoopCharacteristics><extensionElements>"
      "<zeebe:loopCharacteristics inputCollection=\"=items\" inputElement=\"item\"/>"
      "</extensionElements></multiInstanceLoopCharacteristics></serviceTask>" +
      undo("reserve", "release") + compensate_end("undo") + flow("s", "reserve") +
      flow("reserve", "undo")));
  std::vector<nlohmann::json> released;
  h.engine().register_handler("release", [&](const Job& job) {
    released.push_back(*job.variable("item"));
    return JobOutcome::complete();
  });
  const InstanceId id = h.start("p", {{"items", {"a", "b", "c"}}});
  // The jobs are made in the order of the items; completed in the order b, c, a, they
  // are compensated a, c, b.
  std::vector<JobKey> jobs;
  for (const JobInfo& j : must(h.engine().open_jobs("reserve"))) jobs.push_back(j.key);
  ASSERT_EQ(jobs.size(), 3u);
  std::sort(jobs.begin(), jobs.end());
  for (std::size_t i : {1u, 2u, 0u}) ASSERT_OK(h.engine().complete_job(jobs[i]));
  must(h.engine().run_until_idle());
  EXPECT_EQ(released, (std::vector<nlohmann::json>{"a", "c", "b"}));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

// A subprocess "pay" with a task "authorize" (undone by "void") inside.
std::string paying_subprocess(std::string_view own_compensation = {}) {
  return "<subProcess id=\"pay\"><startEvent id=\"pay-s\"/>" + svc("authorize") +
         undo("authorize", "void") + svc("capture") + undo("capture", "uncapture") +
         "<endEvent id=\"pay-end\"/>" + flow("pay-s", "authorize") + flow("authorize", "capture") +
         flow("capture", "pay-end") + std::string(own_compensation) + "</subProcess>";
}

TEST_P(Compensation, ACompletedSubprocessIsUndoneByItsActivitiesHandlers) {
  Harness h;
  h.deploy(process("<startEvent id=\"s\"/>" + svc("reserve") + undo("reserve", "release") +
                   paying_subprocess() + compensate_end("undo") + flow("s", "reserve") +
                   flow("reserve", "pay") + flow("pay", "undo")));
  const InstanceId id = h.start();
  h.complete_all_jobs();
  must(h.engine().run_until_idle());
  // The subprocess completed last: its activities first (newest first), then reserve.
  EXPECT_EQ(h.calls, Ids({"reserve", "authorize", "capture", "uncapture", "void", "release"}));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

TEST_P(Compensation, ASubprocessWithACompensationEventSubprocessRunsItInstead) {
  Harness h;
  // Its own compensation logs, then undoes only the capture.
  const std::string own =
      "<subProcess id=\"pay-own\" triggeredByEvent=\"true\"><startEvent id=\"pay-own-s\">"
      "<compensateEventDefinition/></startEvent>" +
      svc("log") +
      "<intermediateThrowEvent id=\"undo-capture\"><compensateEventDefinition "
      "activityRef=\"capture\"/></intermediateThrowEvent><endEvent id=\"pay-own-e\"/>" +
      flow("pay-own-s", "log") + flow("log", "undo-capture") +
      flow("undo-capture", "pay-own-e") + "</subProcess>";
  h.deploy(process("<startEvent id=\"s\"/>" + paying_subprocess(own) + compensate_end("undo") +
                   flow("s", "pay") + flow("pay", "undo")));
  const InstanceId id = h.start();
  h.complete_all_jobs();
  must(h.engine().run_until_idle());
  EXPECT_EQ(h.calls, Ids({"authorize", "capture", "log", "uncapture"}));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

TEST_P(Compensation, WhatCompletedInATerminatedSubprocessCannotBeCompensated) {
  Harness h;
  h.deploy(process("<startEvent id=\"s\"/>" + paying_subprocess() +
                   "<boundaryEvent id=\"pay-late\" attachedToRef=\"pay\"><timerEventDefinition>"
                   "<timeDuration>PT1H</timeDuration></timerEventDefinition></boundaryEvent>" +
                   compensate_end("undo") + "<endEvent id=\"e\"/>" + flow("s", "pay") +
                   flow("pay", "e") + flow("pay-late", "undo")));
  const InstanceId id = h.start();
  ASSERT_OK(h.engine().complete_job(h.job_of("authorize")));
  h.clock().advance(2 * 3600 * 1000);
  must(h.engine().run_until_idle());
  EXPECT_TRUE(h.open_job_elements().empty()) << "authorize's scope was terminated";
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

TEST_P(Compensation, WithoutWaitingTheThrowGoesOnWhileHandlersRun) {
  Harness h;
  h.deploy(process("<startEvent id=\"s\"/>" + svc("reserve") + undo("reserve", "release") +
                   svc("charge") + undo("charge", "refund") +
                   "<intermediateThrowEvent id=\"undo\"><compensateEventDefinition "
                   "waitForCompletion=\"false\"/></intermediateThrowEvent>" +
                   svc("apologize") + "<endEvent id=\"e\"/>" + flow("s", "reserve") +
                   flow("reserve", "charge") + flow("charge", "undo") + flow("undo", "apologize") +
                   flow("apologize", "e")));
  const InstanceId id = h.start();
  ASSERT_OK(h.engine().complete_job(h.job_of("reserve")));
  ASSERT_OK(h.engine().complete_job(h.job_of("charge")));
  Ids open = h.open_job_elements();
  std::sort(open.begin(), open.end());
  EXPECT_EQ(open, Ids({"apologize", "refund", "release"}));
  h.complete_all_jobs();
  must(h.engine().run_until_idle());
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

TEST_P(Compensation, ACancelledTransactionIsCompensatedThenLeavesByItsCancelBoundary) {
  Harness h;
  h.deploy(process(
      "<startEvent id=\"s\"/><transaction id=\"book-trip\"><startEvent id=\"tx-s\"/>" +
      svc("flight") + undo("flight", "cancel-flight") + svc("hotel") +
      undo("hotel", "cancel-hotel") + svc("pay-trip") + svc("insure") +
      "<exclusiveGateway id=\"paid\" default=\"paid-yes\"/>"
      "<endEvent id=\"tx-cancel\"><cancelEventDefinition/></endEvent><endEvent id=\"tx-e\"/>"
      "<parallelGateway id=\"tx-fork\"/>" +
      flow("tx-s", "tx-fork") + flow("tx-fork", "flight") + flow("tx-fork", "insure") +
      flow("flight", "hotel") + flow("hotel", "pay-trip") + flow("pay-trip", "paid") +
      flow("paid", "tx-cancel", "=declined") +
      "<sequenceFlow id=\"paid-yes\" sourceRef=\"paid\" targetRef=\"tx-e\"/>"
      "</transaction><boundaryEvent id=\"trip-cancelled\" attachedToRef=\"book-trip\">"
      "<cancelEventDefinition/></boundaryEvent>" +
      svc("tell-customer") + "<endEvent id=\"booked\"/><endEvent id=\"not-booked\"/>" +
      flow("s", "book-trip") + flow("book-trip", "booked") +
      flow("trip-cancelled", "tell-customer") + flow("tell-customer", "not-booked")));
  const InstanceId id = h.start("p", {{"declined", true}});
  ASSERT_OK(h.engine().complete_job(h.job_of("flight")));
  ASSERT_OK(h.engine().complete_job(h.job_of("hotel")));
  ASSERT_OK(h.engine().complete_job(h.job_of("pay-trip")));
  // The insurance still running is ended; the hotel, then the flight, are cancelled.
  EXPECT_EQ(h.open_job_elements(), Ids({"cancel-hotel"}));
  EXPECT_EQ(h.history(id, HistoryKind::kElementTerminated), Ids({"insure"}));
  ASSERT_OK(h.engine().complete_job(h.job_of("cancel-hotel")));
  EXPECT_EQ(h.open_job_elements(), Ids({"cancel-flight"}));
  ASSERT_OK(h.engine().complete_job(h.job_of("cancel-flight")));
  EXPECT_EQ(h.active(id), Ids({"tell-customer"}));
  ASSERT_OK(h.engine().complete_job(h.job_of("tell-customer")));
  EXPECT_EQ(h.info(id).end_event, "not-booked");
}

TEST_P(Compensation, AHandlerInsideAMultiInstanceSubprocessSeesItsInstancesVariables) {
  Harness h;
  h.deploy(process(
      "<startEvent id=\"s\"/><subProcess id=\"each\"><multiInstanceLoopCharacteristics "
      "isSequential=\"true\"><extensionElements><zeebe:loopCharacteristics "
      "inputCollection=\"=items\" inputElement=\"item\"/></extensionElements>"
      "</multiInstanceLoopCharacteristics><startEvent id=\"each-s\"/>" +
      svc("reserve") + undo("reserve", "release") + "<endEvent id=\"each-e\"/>" +
      flow("each-s", "reserve") + flow("reserve", "each-e") + "</subProcess>" +
      compensate_end("undo") + flow("s", "each") + flow("each", "undo")));
  std::vector<nlohmann::json> released;
  h.engine().register_handler("reserve", [](const Job&) { return JobOutcome::complete(); });
  h.engine().register_handler("release", [&](const Job& job) {
    const nlohmann::json* item = job.variable("item");
    released.push_back(item == nullptr ? nlohmann::json() : *item);
    return JobOutcome::complete();
  });
  const InstanceId id = h.start("p", {{"items", {"x", "y"}}});
  must(h.engine().run_until_idle());
  EXPECT_EQ(released, (std::vector<nlohmann::json>{"y", "x"}));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

TEST_P(Compensation, ATerminatedThrowerGivesBackWhatItHadNotRunYet) {
  Harness h;
  // The refund fails with a BPMN error, which an event subprocess catches: it ends the
  // running compensation, and compensates again; the release still runs, once.
  h.deploy(process("<startEvent id=\"s\"/>" + svc("reserve") + undo("reserve", "release") +
                   svc("charge") + undo("charge", "refund") + compensate_end("undo") +
                   flow("s", "reserve") + flow("reserve", "charge") + flow("charge", "undo") +
                   "<subProcess id=\"on-error\" triggeredByEvent=\"true\">"
                   "<startEvent id=\"err-s\"><errorEventDefinition/></startEvent>" +
                   compensate_end("undo-again") + flow("err-s", "undo-again") + "</subProcess>"));
  const InstanceId id = h.start();
  ASSERT_OK(h.engine().complete_job(h.job_of("reserve")));
  ASSERT_OK(h.engine().complete_job(h.job_of("charge")));
  ASSERT_OK(h.engine().throw_error(h.job_of("refund"), "REFUND_REFUSED"));
  EXPECT_EQ(h.open_job_elements(), Ids({"release"}));
  ASSERT_OK(h.engine().complete_job(h.job_of("release")));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
  EXPECT_EQ(h.history(id, HistoryKind::kElementActivated).size(), 9u)
      << "s, reserve, charge, undo, refund, on-error, err-s, undo-again, release";
}

// A transaction "book" over the seats, one after another; booking a seat is undone by
// "unbook"; a seat of `bad` cancels the whole transaction.
std::string seat_transaction() {
  return process(
      "<startEvent id=\"s\"/><transaction id=\"book\"><multiInstanceLoopCharacteristics "
      "isSequential=\"true\"><extensionElements><zeebe:loopCharacteristics "
      "inputCollection=\"=seats\" inputElement=\"seat\"/></extensionElements>"
      "</multiInstanceLoopCharacteristics><startEvent id=\"book-s\"/>" +
      svc("reserve-seat") + undo("reserve-seat", "unbook") +
      "<exclusiveGateway id=\"ok\" default=\"ok-yes\"/><endEvent id=\"book-e\"/>"
      "<endEvent id=\"book-cancel\"><cancelEventDefinition/></endEvent>" +
      flow("book-s", "reserve-seat") + flow("reserve-seat", "ok") +
      flow("ok", "book-cancel", "=seat = bad") +
      "<sequenceFlow id=\"ok-yes\" sourceRef=\"ok\" targetRef=\"book-e\"/>"
      "<subProcess id=\"abort\" triggeredByEvent=\"true\"><startEvent id=\"abort-s\">"
      "<timerEventDefinition><timeDuration>PT1H</timeDuration></timerEventDefinition>"
      "</startEvent><endEvent id=\"abort-e\"/>" + flow("abort-s", "abort-e") +
      "</subProcess></transaction><boundaryEvent id=\"book-cancelled\" "
      "attachedToRef=\"book\"><cancelEventDefinition/></boundaryEvent>"
      "<endEvent id=\"booked\"/><endEvent id=\"not-booked\"/>" +
      flow("s", "book") + flow("book", "booked") + flow("book-cancelled", "not-booked"));
}

TEST_P(Compensation, ACancelInAMultiInstanceTransactionUndoesEveryInstanceThenLeavesOnce) {
  Harness h;
  h.deploy(seat_transaction());
  std::vector<std::string> unbooked;
  h.engine().register_handler("unbook", [&](const Job& job) {
    unbooked.push_back(job.variable("seat")->get<std::string>());
    return JobOutcome::complete();
  });
  h.engine().register_handler("reserve-seat", [](const Job&) { return JobOutcome::complete(); });
  const InstanceId id = h.start("p", {{"seats", {"1A", "1B", "1C"}}, {"bad", "1B"}});
  must(h.engine().run_until_idle());
  // 1B cancels: 1C never starts; 1B, then 1A, are undone.
  EXPECT_EQ(unbooked, (std::vector<std::string>{"1B", "1A"}));
  EXPECT_EQ(h.info(id).end_event, "not-booked");
}

TEST_P(Compensation, NothingElseEndsATransactionWhileItIsCompensated) {
  Harness h;
  h.deploy(seat_transaction());
  const InstanceId id = h.start("p", {{"seats", {"2A"}}, {"bad", "2A"}});
  ASSERT_OK(h.engine().complete_job(h.job_of("reserve-seat")));
  EXPECT_EQ(h.open_job_elements(), Ids({"unbook"}));
  // The transaction's timer event subprocess was disarmed by the cancel.
  h.clock().advance(2 * 3600 * 1000);
  must(h.engine().run_until_idle());
  EXPECT_EQ(h.open_job_elements(), Ids({"unbook"}));
  ASSERT_OK(h.engine().complete_job(h.job_of("unbook")));
  EXPECT_EQ(h.info(id).end_event, "not-booked");
}

TEST_P(Compensation, AHandlerThatFailsWaitsAsAnIncidentAndTheRestFollowOnceResolved) {
  Harness h(immediate_retries());
  h.deploy(saga());
  const InstanceId id = h.start();
  ASSERT_OK(h.engine().complete_job(h.job_of("reserve")));
  ASSERT_OK(h.engine().complete_job(h.job_of("charge")));
  ASSERT_OK(h.engine().throw_error(h.job_of("ship"), "NO_CARRIER"));
  ASSERT_OK(h.engine().fail_job(h.job_of("refund"), "payment service down", 0, 0));
  ASSERT_EQ(h.info(id).incidents.size(), 1u);
  EXPECT_EQ(h.active(id), Ids({"failed", "refund"})) << "release waits for the refund";
  ASSERT_OK(h.engine().resolve_incident(h.info(id).incidents[0].key, 1));
  ASSERT_OK(h.engine().complete_job(h.job_of("refund")));
  ASSERT_OK(h.engine().complete_job(h.job_of("release")));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

}  // namespace

// Load-time checks: each mistake is named where it was made.
TEST(CompensationRules, MistakesAreReportedWithWhatToChange) {
  auto rules = [](const std::string& body) {
    std::vector<std::string> out;
    for (const Diagnostic& d : load_bpmn(process(body), "t.bpmn").diagnostics) {
      if (d.severity == Severity::kError) out.push_back(d.rule);
    }
    return out;
  };
  const std::string start = "<startEvent id=\"s\"/>" + svc("a") + flow("s", "a");
  // A compensation boundary event without a handler.
  EXPECT_EQ(rules(start + "<boundaryEvent id=\"b\" attachedToRef=\"a\">"
                          "<compensateEventDefinition/></boundaryEvent><endEvent id=\"e\"/>" +
                  flow("a", "e")),
            Ids({"compensation-without-handler"}));
  // A handler with a sequence flow.
  EXPECT_EQ(rules(start + undo("a", "h") + "<endEvent id=\"e\"/>" + flow("a", "e") +
                  flow("h", "e")),
            Ids({"compensation-handler-flows"}));
  // An activityRef with a typo: the nearest activity is suggested.
  const LoadResult typo = load_bpmn(
      process(start + undo("a", "h") + compensate_end("e", "activityRef=\"aa\"") + flow("a", "e")),
      "t.bpmn");
  ASSERT_EQ(with_rule(typo, "unresolved-reference").size(), 1u);
  EXPECT_NE(with_rule(typo, "unresolved-reference")[0].message.find("did you mean 'a'?"),
            std::string::npos);
  // A cancel end event outside a transaction; a transaction without a cancel boundary.
  EXPECT_EQ(rules(start + "<endEvent id=\"e\"><cancelEventDefinition/></endEvent>" +
                  flow("a", "e")),
            Ids({"cancel-outside-transaction"}));
  // An association drawn in the collaboration (around a pool) names the handler too.
  const LoadResult pooled = load_bpmn(
      bpmn("<collaboration id=\"c\"><participant id=\"pool\" processRef=\"p\"/>"
           "<association id=\"as\" sourceRef=\"a-comp\" targetRef=\"h\"/></collaboration>"
           "<process id=\"p\" isExecutable=\"true\">" + start +
           "<boundaryEvent id=\"a-comp\" attachedToRef=\"a\"><compensateEventDefinition/>"
           "</boundaryEvent><serviceTask id=\"h\" isForCompensation=\"true\"><extensionElements>"
           "<zeebe:taskDefinition type=\"h\"/></extensionElements></serviceTask>"
           "<endEvent id=\"e\"/>" + flow("a", "e") + "</process>"),
      "t.bpmn");
  EXPECT_TRUE(pooled.ok()) << dump(pooled);
  EXPECT_EQ(rules("<startEvent id=\"s\"/><transaction id=\"t\"><startEvent id=\"ts\"/>"
                  "<endEvent id=\"te\"><cancelEventDefinition/></endEvent>" +
                  flow("ts", "te") + "</transaction><endEvent id=\"e\"/>" + flow("s", "t") +
                  flow("t", "e")),
            Ids({"missing-cancel-boundary"}));
}

}  // namespace ordo::testing
