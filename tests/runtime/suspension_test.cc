// Suspending and resuming an instance (Engine::suspend, Engine::resume), on each store:
// while suspended nothing of it moves: no job is handed out or answered, no timer fires, no
// message is delivered; at the resume all of that goes on where it stopped.
#include "runtime/harness.h"

namespace ordo::testing {
namespace {

ORDO_ON_EACH_STORE(Suspension);

FetchRequest fetch_t(std::string worker) {
  FetchRequest f;
  f.worker = std::move(worker);
  f.types = {"t"};
  f.lock_ms = 60'000;
  return f;
}

std::vector<InstanceId> instances_of(const std::vector<LockedJob>& jobs) {
  std::vector<InstanceId> out;
  for (const LockedJob& j : jobs) out.push_back(j.instance);
  return out;
}

TEST_P(Suspension, NoJobIsHandedOutOrAnsweredUntilTheResume) {
  Harness h;
  h.deploy(process(straight(svc("t"))));
  const InstanceId a = h.start("p");
  const InstanceId b = h.start("p");
  // A worker holds a's job when the operator suspends a: the worker loses it.
  const std::vector<LockedJob> held = must(h.engine().fetch_and_lock(fetch_t("w1")));
  ASSERT_EQ(held.size(), 2u);
  ASSERT_OK(h.engine().suspend(a));
  EXPECT_EQ(h.info(a).state, InstanceState::kSuspended);
  const JobKey job_a = held[0].instance == a ? held[0].key : held[1].key;
  const Status refused = h.engine().answer_job(job_a, "w1", JobOutcome::complete());
  EXPECT_EQ(refused.code(), StatusCode::kConflict);
  EXPECT_NE(refused.message().find("is suspended"), std::string::npos) << refused.message();
  EXPECT_EQ(h.engine().complete_job(job_a).code(), StatusCode::kConflict);
  EXPECT_EQ(h.engine().suspend(a).code(), StatusCode::kConflict) << "suspended already";
  EXPECT_EQ(h.engine().resume(b).code(), StatusCode::kConflict) << "b is not suspended";
  // Its job is handed to nobody, however long it waits; b's goes on.
  h.clock().advance(600'000);
  EXPECT_EQ(instances_of(must(h.engine().fetch_and_lock(fetch_t("w2")))),
            std::vector<InstanceId>{b});
  // Its variables can still be set, and it is counted as suspended.
  ASSERT_OK(h.engine().set_variables(a, {{"checked", true}}));
  std::int64_t suspended = 0;
  for (const InstanceCount& c : must(h.engine().count_instances())) {
    if (c.state == InstanceState::kSuspended) suspended += c.count;
  }
  EXPECT_EQ(suspended, 1);

  ASSERT_OK(h.engine().resume(a));
  EXPECT_EQ(h.info(a).state, InstanceState::kActive);
  const std::vector<LockedJob> again = must(h.engine().fetch_and_lock(fetch_t("w3")));
  ASSERT_EQ(instances_of(again), std::vector<InstanceId>{a}) << "handed out again after the resume";
  EXPECT_EQ(again[0].key, job_a);
  ASSERT_OK(h.engine().answer_job(job_a, "w3", JobOutcome::complete()));
  EXPECT_EQ(h.info(a).state, InstanceState::kCompleted);
  EXPECT_EQ(h.history(a, HistoryKind::kInstanceSuspended).size(), 1u);
  EXPECT_EQ(h.history(a, HistoryKind::kInstanceResumed).size(), 1u);
}

TEST_P(Suspension, ATimerDueMeanwhileFiresAtTheResume) {
  Harness h;
  h.deploy(
      process("<startEvent id=\"s\"/><intermediateCatchEvent id=\"wait\"><timerEventDefinition>"
              "<timeDuration>PT5M</timeDuration></timerEventDefinition>"
              "</intermediateCatchEvent>\n" +
              svc("after") + flow("s", "wait") + flow("wait", "after")));
  const InstanceId a = h.start("p");
  ASSERT_OK(h.engine().suspend(a));
  ASSERT_OK(h.engine().advance_clock(10 * 60'000));
  EXPECT_TRUE(h.open_job_elements().empty()) << "no timer fires while suspended";
  EXPECT_TRUE(h.history(a, HistoryKind::kTimerFired).empty());
  ASSERT_OK(h.engine().resume(a));
  ASSERT_OK(h.engine().run_until_idle().status());
  EXPECT_EQ(h.open_job_elements(), Ids({"after"}));
}

TEST_P(Suspension, AMessageMeanwhileIsBufferedAndDeliveredAtTheResume) {
  Harness h;
  h.deploy(bpmn(message_def("m", "delivered") +
                "<process id=\"p\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n"
                "<intermediateCatchEvent id=\"wait\"><messageEventDefinition messageRef=\"m\"/>"
                "</intermediateCatchEvent>\n<endEvent id=\"e\"/>\n" +
                flow("s", "wait") + flow("wait", "e") + "</process>"));
  const InstanceId a = h.start("p", {{"orderId", "A"}});
  ASSERT_OK(h.engine().suspend(a));
  const MessageResult early = must(h.engine().publish_message("delivered", "A", {}, 600'000));
  EXPECT_TRUE(early.instances.empty());
  EXPECT_TRUE(early.buffered);
  EXPECT_EQ(h.info(a).state, InstanceState::kSuspended);
  ASSERT_OK(h.engine().resume(a));
  EXPECT_EQ(h.info(a).state, InstanceState::kCompleted);
}

TEST_P(Suspension, AnInstanceWithAnIncidentGoesBackToItAndCanBeCancelled) {
  Harness h(immediate_retries());
  h.deploy(process(straight(svc("t"))));
  const InstanceId a = h.start("p");
  ASSERT_OK(h.engine().fail_job(h.job_of("t", a), "down", 0, 0));
  ASSERT_EQ(h.info(a).state, InstanceState::kIncident);
  ASSERT_OK(h.engine().suspend(a));
  const IncidentKey incident = must(h.engine().incidents())[0].key;
  const Status retry = h.engine().resolve_incident(incident);
  EXPECT_EQ(retry.code(), StatusCode::kConflict) << "a retry waits for the resume";
  ASSERT_OK(h.engine().resume(a));
  EXPECT_EQ(h.info(a).state, InstanceState::kIncident);
  ASSERT_OK(h.engine().suspend(a));
  ASSERT_OK(h.engine().cancel(a));
  EXPECT_EQ(h.info(a).state, InstanceState::kTerminated);
  EXPECT_EQ(h.engine().resume(a).code(), StatusCode::kNotFound);
}

// An order that called a subprocess is suspended with it: the called instance's job is
// parked too, so nothing completes the call while the caller is held; the root is what is
// suspended and resumed.
TEST_P(Suspension, ACalledInstanceIsSuspendedAndResumedWithItsRoot) {
  Harness h;
  h.deploy_call_child();
  const InstanceId parent = h.start("p");
  InstanceId child = 0;
  for (const ElementInfo& e : h.info(parent).elements) {
    if (e.called != 0) child = e.called;
  }
  ASSERT_NE(child, 0u);
  const JobKey job = h.job_of("t", child);
  EXPECT_EQ(h.engine().suspend(child).code(), StatusCode::kConflict) << "its root is";
  ASSERT_OK(h.engine().suspend(parent));
  EXPECT_EQ(h.info(child).state, InstanceState::kSuspended);
  EXPECT_EQ(h.engine().complete_job(job).code(), StatusCode::kConflict);
  EXPECT_EQ(h.engine().resume(child).code(), StatusCode::kConflict);
  ASSERT_OK(h.engine().resume(parent));
  EXPECT_EQ(h.info(child).state, InstanceState::kActive);
  ASSERT_OK(h.engine().complete_job(job));
  EXPECT_EQ(h.info(parent).state, InstanceState::kCompleted);
}

}  // namespace
}  // namespace ordo::testing
