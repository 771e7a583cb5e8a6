// Migrating running instances to another version of their process, on each store: the plan
// is checked before anything moves, each instance moves in one transaction or not at all,
// and what moves with it (jobs, timers, subscriptions) keeps working.
#include "runtime/harness.h"

namespace ordo::testing {
namespace {

ORDO_ON_EACH_STORE(Migration);

// Version 1: s -> a -> b -> e.
std::string version_one(std::string_view a_extra = {}) {
  return process("<startEvent id=\"s\"/>" + svc("a") + std::string(a_extra) + svc("b") +
                 "<endEvent id=\"e\"/>" + flow("s", "a") + flow("a", "b") + flow("b", "e"));
}

// Version 2: a check "x" after a, and a timer on a.
std::string version_two() {
  return process("<startEvent id=\"s\"/>" + svc("a") + svc("x") + svc("b") +
                 "<boundaryEvent id=\"a-late\" cancelActivity=\"false\" attachedToRef=\"a\">"
                 "<timerEventDefinition><timeDuration>PT2H</timeDuration></timerEventDefinition>"
                 "</boundaryEvent>" +
                 svc("chase") + "<endEvent id=\"e\"/><endEvent id=\"chased\"/>" + flow("s", "a") +
                 flow("a", "x") + flow("x", "b") + flow("b", "e") + flow("a-late", "chase") +
                 flow("chase", "chased"));
}

MigrationRequest request(std::vector<InstanceId> ids, int from = 1, int to = 2) {
  MigrationRequest r;
  r.plan.process_id = "p";
  r.plan.source_version = from;
  r.plan.target_version = to;
  r.instances = std::move(ids);
  return r;
}

TEST_P(Migration, AWaitingOrderMovesWithItsJobAndTakesTheNewPath) {
  Harness h;
  h.deploy(version_one());
  const InstanceId id = h.start();
  const JobKey job = h.job_of("a");
  h.deploy(version_two());
  const MigrationReport report = must(h.engine().migrate(request({id})));
  ASSERT_EQ(report.instances.size(), 1u);
  EXPECT_TRUE(report.instances[0].migrated) << report.instances[0].problem;
  EXPECT_EQ(report.instances[0].tokens, 1u);
  ASSERT_EQ(report.instances[0].notes.size(), 1u);
  EXPECT_NE(report.instances[0].notes[0].find("arms the timer of boundary event 'a-late'"),
            std::string::npos)
      << report.instances[0].notes[0];
  EXPECT_EQ(h.info(id).version, 2);
  // The same job, answered as before; the order goes on by version 2's path.
  EXPECT_EQ(h.job_of("a"), job);
  ASSERT_OK(h.engine().complete_job(job));
  EXPECT_EQ(h.active(id), Ids({"x"}));
  EXPECT_EQ(h.history(id, HistoryKind::kInstanceMigrated).size(), 1u);
  EXPECT_EQ(h.history(id, HistoryKind::kElementMigrated), Ids({"a"}));
  // The diagram's figures moved with it: nothing waits at version 1's a any more.
  for (const ElementStatistics& e : must(h.engine().element_statistics("p", 1))) {
    EXPECT_EQ(e.active, 0) << e.element_id;
  }
  bool x_active = false;
  for (const ElementStatistics& e : must(h.engine().element_statistics("p", 2))) {
    x_active |= e.element_id == "x" && e.active == 1;
  }
  EXPECT_TRUE(x_active);
}

TEST_P(Migration, TheTimerTheTargetAddsIsArmedFromTheMigration) {
  Harness h;
  h.deploy(version_one());
  const InstanceId id = h.start();
  h.deploy(version_two());
  must(h.engine().migrate(request({id})));
  h.clock().advance(3 * 3600 * 1000);
  must(h.engine().run_until_idle());
  EXPECT_EQ(h.active(id), Ids({"a", "chase"}));
}

TEST_P(Migration, ADryRunSaysWhatWouldHappenAndChangesNothing) {
  Harness h;
  h.deploy(version_one());
  const InstanceId id = h.start();
  h.deploy(version_two());
  MigrationRequest r = request({id});
  r.dry_run = true;
  const MigrationReport report = must(h.engine().migrate(r));
  EXPECT_TRUE(report.dry_run);
  EXPECT_EQ(report.migrated, 1u);
  EXPECT_EQ(report.instances[0].notes.size(), 1u);
  EXPECT_EQ(h.info(id).version, 1);
  EXPECT_TRUE(h.history(id, HistoryKind::kInstanceMigrated).empty());
  ASSERT_OK(h.engine().complete_job(h.job_of("a")));
  EXPECT_EQ(h.active(id), Ids({"b"})) << "still version 1";
}

TEST_P(Migration, ATokenOnAnElementTheTargetLacksStaysWhereItIsUnlessMapped) {
  Harness h;
  h.deploy(version_one());
  const InstanceId at_a = h.start();
  const InstanceId at_b = h.start();
  ASSERT_OK(h.engine().complete_job(h.job_of("a", at_b)));
  // Version 2 renames b to "pack", a user task: no longer the same kind.
  h.deploy(process("<startEvent id=\"s\"/>" + svc("a") + svc("pack", {}, "pack-v2") +
                   "<endEvent id=\"e\"/>" + flow("s", "a") + flow("a", "pack") +
                   flow("pack", "e")));
  MigrationReport report = must(h.engine().migrate(request({at_a, at_b})));
  EXPECT_EQ(report.migrated, 1u);
  EXPECT_EQ(report.refused, 1u);
  EXPECT_TRUE(report.instances[0].migrated);
  EXPECT_FALSE(report.instances[1].migrated);
  EXPECT_NE(report.instances[1].problem.find("a token is at service task 'b', which the plan "
                                             "does not map to version 2"),
            std::string::npos)
      << report.instances[1].problem;
  EXPECT_EQ(h.info(at_b).version, 1) << "untouched";
  // Mapped explicitly, it moves, and its job takes the new type.
  MigrationRequest r = request({at_b});
  r.plan.mappings = {{"b", "pack"}};
  report = must(h.engine().migrate(r));
  ASSERT_TRUE(report.instances[0].migrated) << report.instances[0].problem;
  EXPECT_EQ(report.instances[0].moves, Ids({"b -> pack"}));
  EXPECT_EQ(h.info(at_b).version, 2);
  EXPECT_EQ(must(h.engine().open_jobs("pack-v2")).size(), 1u);
  // The history before the migration names version 1's elements.
  EXPECT_EQ(h.history(at_b, HistoryKind::kJobCreated), Ids({"a", "b"}));
  EXPECT_EQ(h.history(at_b, HistoryKind::kElementMigrated), Ids({"pack"}));
  ASSERT_OK(h.engine().complete_job(h.job_of("pack", at_b)));
  EXPECT_EQ(h.info(at_b).state, InstanceState::kCompleted);
}

TEST_P(Migration, APlanThatCannotWorkIsRefusedBeforeAnythingMoves) {
  Harness h;
  h.deploy(version_one());
  const InstanceId id = h.start();
  h.deploy(process("<startEvent id=\"s\"/><userTask id=\"a\"/><subProcess id=\"sub\">"
                   "<startEvent id=\"sub-s\"/>" + svc("b") + "<endEvent id=\"sub-end\"/>" +
                   flow("sub-s", "b") + flow("b", "sub-end") + "</subProcess><endEvent id=\"e\"/>" +
                   flow("s", "a") + flow("a", "sub") + flow("sub", "e")));
  MigrationRequest r = request({id});
  r.plan.mappings = {{"a", "a"}, {"bb", "b"}, {"b", "sub-end"}};
  Result<MigrationReport> refused = h.engine().migrate(r);
  ASSERT_FALSE(refused.is_ok());
  const std::string& why = refused.status().message();
  EXPECT_NE(why.find("service task 'a' cannot become user task 'a'"), std::string::npos) << why;
  EXPECT_NE(why.find("has no element 'bb'; did you mean 'b'?"), std::string::npos) << why;
  EXPECT_NE(why.find("service task 'b' cannot become end event 'sub-end'"), std::string::npos)
      << why;
  EXPECT_EQ(h.info(id).version, 1);
  // A scope keeps its parent: b at process level cannot move into the subprocess.
  r.plan.mappings = {{"b", "b"}};
  refused = h.engine().migrate(r);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("a scope keeps its parent"), std::string::npos)
      << refused.status().message();
  // A version that is not deployed.
  EXPECT_EQ(h.engine().migrate(request({id}, 1, 7)).status().code(), StatusCode::kNotFound);
}

TEST_P(Migration, ADryRunNamesTheInstancesThatWouldGetStuck) {
  Harness h;
  h.deploy(version_one());
  const InstanceId at_a = h.start();
  const InstanceId at_b = h.start();
  ASSERT_OK(h.engine().complete_job(h.job_of("a", at_b)));
  // Version 2 checks fraud beside a: a token past the fork never gets a sibling there.
  h.deploy(process("<startEvent id=\"s\"/><parallelGateway id=\"fork\"/>" + svc("a") +
                   svc("fraud") + "<parallelGateway id=\"join\"/>" + svc("b") +
                   "<endEvent id=\"e\"/>" + flow("s", "fork") + flow("fork", "a") +
                   flow("fork", "fraud") + flow("a", "join") + flow("fraud", "join") +
                   flow("join", "b") + flow("b", "e")));
  MigrationRequest r = request({at_a, at_b});
  r.dry_run = true;
  const MigrationReport report = must(h.engine().migrate(r));
  ASSERT_EQ(report.instances.size(), 2u);
  ASSERT_EQ(report.instances[0].stuck.size(), 1u);
  EXPECT_NE(report.instances[0].stuck[0].find("parallel gateway 'join' if it gets there: none "
                                              "of its tokens can reach the incoming flow "
                                              "'fraud-join' from service task 'fraud'"),
            std::string::npos)
      << report.instances[0].stuck[0];
  EXPECT_TRUE(report.instances[1].stuck.empty()) << "already past the join";
  // Its history, replayed on version 2: the flows it took are not there.
  const std::vector<std::string>& past = report.instances[1].history;
  EXPECT_NE(std::find(past.begin(), past.end(),
                      "took flow 'a-b' (a -> b), which version 2 does not have"),
            past.end());
  EXPECT_NE(std::find(past.begin(), past.end(),
                      "took flow 's-a' (s -> a), which version 2 does not have"),
            past.end());
}

TEST_P(Migration, AWaitGoesWhereItsEventIsInTheTargetOrIsDropped) {
  Harness h;
  // Version 1: the timer "late" on a, and after a, an event-based gateway between "paid"
  // and "gave-up".
  const std::string timer =
      "<timerEventDefinition><timeDuration>PT1H</timeDuration></timerEventDefinition>";
  h.deploy(bpmn(message_def("m", "paid") + "<process id=\"p\" isExecutable=\"true\">"
                "<startEvent id=\"s\"/>" + svc("a") +
                "<boundaryEvent id=\"late\" attachedToRef=\"a\">" + timer +
                "</boundaryEvent><endEvent id=\"late-e\"/><eventBasedGateway id=\"g\"/>"
                "<intermediateCatchEvent id=\"paid\"><messageEventDefinition messageRef=\"m\"/>"
                "</intermediateCatchEvent><intermediateCatchEvent id=\"gave-up\">" + timer +
                "</intermediateCatchEvent><endEvent id=\"e\"/>" + flow("s", "a") +
                flow("a", "g") + flow("late", "late-e") + flow("g", "paid") +
                flow("g", "gave-up") + flow("paid", "e") + flow("gave-up", "e") + "</process>"));
  const InstanceId at_a = h.start("p", {{"orderId", "O-1"}});
  const InstanceId at_g = h.start("p", {{"orderId", "O-2"}});
  ASSERT_OK(h.engine().complete_job(h.job_of("a", at_g)));
  // Version 2: "late" is on b now, and "gave-up" is no longer after the gateway.
  h.deploy(bpmn(message_def("m", "paid") + "<process id=\"p\" isExecutable=\"true\">"
                "<startEvent id=\"s\"/>" + svc("a") + svc("b") +
                "<boundaryEvent id=\"late\" attachedToRef=\"b\">" + timer +
                "</boundaryEvent><endEvent id=\"late-e\"/><eventBasedGateway id=\"g\"/>"
                "<intermediateCatchEvent id=\"paid\"><messageEventDefinition messageRef=\"m\"/>"
                "</intermediateCatchEvent><intermediateCatchEvent id=\"other\">" + timer +
                "</intermediateCatchEvent><intermediateCatchEvent id=\"gave-up\">" + timer +
                "</intermediateCatchEvent><endEvent id=\"e\"/>" + flow("s", "a") +
                flow("a", "b") + flow("b", "g") + flow("late", "late-e") + flow("g", "paid") +
                flow("g", "other") + flow("paid", "e") + flow("other", "gave-up") +
                flow("gave-up", "e") + "</process>"));
  const MigrationReport report = must(h.engine().migrate(request({at_a, at_g})));
  ASSERT_EQ(report.migrated, 2u);
  h.clock().advance(2 * 3600 * 1000);
  must(h.engine().run_until_idle());
  EXPECT_EQ(h.active(at_a), Ids({"a"})) << "version 2 has no timer on a";
  // The gateway's old "gave-up" wait was dropped and "other" armed; "other" fired.
  EXPECT_EQ(h.active(at_g), Ids({"gave-up"}));
}

TEST_P(Migration, AnInstanceWhoseNewTimerCannotBeScheduledStaysAsItWas) {
  Harness h;
  h.deploy(version_one());
  const InstanceId id = h.start();
  h.deploy(process("<startEvent id=\"s\"/>" + svc("a") + svc("b") +
                   "<boundaryEvent id=\"a-limit\" attachedToRef=\"a\"><timerEventDefinition>"
                   "<timeDuration>=limit</timeDuration></timerEventDefinition></boundaryEvent>"
                   "<endEvent id=\"e\"/><endEvent id=\"limited\"/>" +
                   flow("s", "a") + flow("a", "b") + flow("b", "e") + flow("a-limit", "limited")));
  MigrationReport report = must(h.engine().migrate(request({id})));
  ASSERT_EQ(report.refused, 1u);
  EXPECT_NE(report.instances[0].problem.find("the timer of boundary event 'a-limit' of version 2 "
                                             "cannot be armed"),
            std::string::npos)
      << report.instances[0].problem;
  EXPECT_EQ(h.info(id).version, 1);
  ASSERT_OK(h.engine().set_variables(id, {{"limit", "PT1H"}}));
  report = must(h.engine().migrate(request({id})));
  EXPECT_EQ(report.migrated, 1u);
  EXPECT_EQ(must(h.engine().open_jobs("a")).size(), 1u);
}

TEST_P(Migration, TimersKeepTheirDueTimeUnlessRescheduled) {
  Harness h;
  auto waiting = [](std::string_view duration) {
    return process("<startEvent id=\"s\"/><intermediateCatchEvent id=\"cool-off\">"
                   "<timerEventDefinition><timeDuration>" +
                   std::string(duration) +
                   "</timeDuration></timerEventDefinition></intermediateCatchEvent>" + svc("a") +
                   "<endEvent id=\"e\"/>" + flow("s", "cool-off") + flow("cool-off", "a") +
                   flow("a", "e"));
  };
  h.deploy(waiting("PT1H"));
  const InstanceId kept = h.start();
  const InstanceId again = h.start();
  h.deploy(waiting("PT10M"));
  must(h.engine().migrate(request({kept})));
  MigrationRequest r = request({again});
  r.plan.reschedule_timers = true;
  must(h.engine().migrate(r));
  h.clock().advance(20 * 60 * 1000);
  must(h.engine().run_until_idle());
  EXPECT_EQ(h.active(kept), Ids({"cool-off"})) << "due an hour after it started";
  EXPECT_EQ(h.active(again), Ids({"a"})) << "ten minutes after the migration";
  h.clock().advance(60 * 60 * 1000);
  must(h.engine().run_until_idle());
  EXPECT_EQ(h.active(kept), Ids({"a"}));
}

TEST_P(Migration, ASubscriptionTheTargetDropsNoLongerReceives) {
  Harness h;
  const std::string cancel =
      "<boundaryEvent id=\"cancelled\" attachedToRef=\"a\"><messageEventDefinition "
      "messageRef=\"m\"/></boundaryEvent><endEvent id=\"stopped\"/>" +
      flow("cancelled", "stopped");
  h.deploy(bpmn(message_def("m", "order-cancelled") +
                "<process id=\"p\" isExecutable=\"true\"><startEvent id=\"s\"/>" + svc("a") +
                cancel + svc("b") + "<endEvent id=\"e\"/>" + flow("s", "a") + flow("a", "b") +
                flow("b", "e") + "</process>"));
  const InstanceId id = h.start("p", {{"orderId", "O-1"}});
  h.deploy(version_one());
  const MigrationReport report = must(h.engine().migrate(request({id})));
  ASSERT_EQ(report.instances[0].notes.size(), 1u);
  EXPECT_NE(report.instances[0].notes[0].find("drops the message subscription of boundary "
                                              "event 'cancelled'"),
            std::string::npos);
  const MessageResult m = must(h.engine().publish_message("order-cancelled", "O-1", {}));
  EXPECT_TRUE(m.instances.empty());
  EXPECT_EQ(h.active(id), Ids({"a"}));
}

TEST_P(Migration, ABatchTakesTheRunningInstancesOfTheSourceVersion) {
  Harness h;
  h.deploy(version_one());
  const InstanceId one = h.start();
  const InstanceId two = h.start();
  const InstanceId done = h.start();
  for (const char* t : {"a", "b"}) ASSERT_OK(h.engine().complete_job(h.job_of(t, done)));
  ASSERT_EQ(h.info(done).state, InstanceState::kCompleted);
  h.deploy(version_two());
  const InstanceId newer = h.start();
  MigrationRequest r = request({});
  const MigrationReport report = must(h.engine().migrate(r));
  std::vector<InstanceId> moved;
  for (const InstanceMigration& m : report.instances) moved.push_back(m.instance);
  EXPECT_EQ(moved, (std::vector<InstanceId>{one, two}));
  EXPECT_EQ(h.info(one).version, 2);
  EXPECT_EQ(h.info(done).version, 1);
  EXPECT_EQ(h.info(newer).version, 2);
  // Nothing is left to migrate.
  EXPECT_TRUE(must(h.engine().migrate(r)).instances.empty());
}

}  // namespace
}  // namespace ordo::testing
