// A worker throws a BPMN escalation from the task of a job it holds (Engine::escalate, POST
// /v1/jobs/{key}/escalation), on each store: caught as an escalation end event's would be.
#include "runtime/harness.h"

namespace ordo::testing {
namespace {

ORDO_ON_EACH_STORE(WorkerEscalation);

// Task "ship" (job type "ship") with an escalation boundary event for code LATE,
// interrupting or not; the escalation's path ends at "escalated".
std::string shipping(bool interrupting) {
  return bpmn(
      "<escalation id=\"late\" escalationCode=\"LATE\"/>\n"
      "<process id=\"p\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n" +
      svc("ship") + "<boundaryEvent id=\"on-late\" attachedToRef=\"ship\" cancelActivity=\"" +
      (interrupting ? "true" : "false") +
      "\"><escalationEventDefinition escalationRef=\"late\"/></boundaryEvent>\n" + svc("tell") +
      "<endEvent id=\"shipped\"/><endEvent id=\"escalated\"/>\n" + flow("s", "ship") +
      flow("ship", "shipped") + flow("on-late", "tell") + flow("tell", "escalated") + "</process>");
}

LockedJob take(Harness& h, const std::string& type) {
  FetchRequest f;
  f.worker = "w1";
  f.types = {type};
  f.max_jobs = 1;
  std::vector<LockedJob> got = must(h.engine().fetch_and_lock(f));
  EXPECT_EQ(got.size(), 1u) << type;
  return got.empty() ? LockedJob{} : got[0];
}

TEST_P(WorkerEscalation, AnInterruptingCatchEndsTheTaskAndItsJob) {
  Harness h;
  h.deploy(shipping(true));
  const InstanceId id = h.start("p");
  const LockedJob job = take(h, "ship");
  ASSERT_OK(h.engine().escalate(job.key, "w1", "LATE", {{"delay", "2 days"}}));
  EXPECT_EQ(h.active(id), Ids({"tell"}));
  EXPECT_EQ(h.info(id).variables["delay"], "2 days");
  const Status late = h.engine().answer_job(job.key, "w1", JobOutcome::complete());
  EXPECT_FALSE(late.is_ok()) << "the job went with its task";
}

TEST_P(WorkerEscalation, ANonInterruptingCatchLeavesTheJobWithTheWorker) {
  Harness h;
  h.deploy(shipping(false));
  const InstanceId id = h.start("p");
  const LockedJob job = take(h, "ship");
  EXPECT_EQ(h.engine().escalate(job.key, "w2", "LATE").code(), StatusCode::kConflict)
      << "only the worker holding it";
  ASSERT_OK(h.engine().escalate(job.key, "w1", "LATE"));
  EXPECT_EQ(h.active(id), Ids({"ship", "tell"}));
  // An escalation nobody catches changes nothing: the worker answers as usual.
  ASSERT_OK(h.engine().escalate(job.key, "w1", "NOBODY-CATCHES-THIS"));
  ASSERT_OK(h.engine().answer_job(job.key, "w1", JobOutcome::complete()));
  ASSERT_OK(h.engine().complete_job(h.job_of("tell", id)));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
  EXPECT_EQ(h.history(id, HistoryKind::kEscalationThrown).size(), 2u);
  EXPECT_EQ(h.engine().escalate(job.key, "w1", "").code(), StatusCode::kInvalidArgument);
}

// An in-process handler escalates (JobOutcome::escalate): caught without interrupting, the
// job stays the handler's, which answers it later; caught interrupting, the job is gone.
TEST_P(WorkerEscalation, AHandlerEscalatesAndAnswersLater) {
  Harness h;
  h.deploy(shipping(false));
  const InstanceId id = h.start("p");
  JobKey escalated = 0;
  h.engine().register_handler("ship", [&](const Job& job) {
    escalated = job.key();
    return JobOutcome::escalate("LATE", {{"delay", "1 day"}});
  });
  h.engine().register_handler("tell", [](const Job&) { return JobOutcome::complete(); });
  must(h.engine().run_until_idle());
  EXPECT_EQ(h.active(id), Ids({"ship"})) << "tell ran beside it";
  EXPECT_EQ(h.info(id).variables["delay"], "1 day");
  must(h.engine().run_until_idle());
  EXPECT_EQ(h.active(id), Ids({"ship"})) << "not handed out again: it is the handler's";
  ASSERT_OK(h.engine().complete_job(escalated));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
  EXPECT_EQ(h.info(id).end_event, "shipped");
}

TEST_P(WorkerEscalation, AHandlersInterruptingEscalationEndsItsTask) {
  Harness h;
  h.deploy(shipping(true));
  const InstanceId id = h.start("p");
  h.engine().register_handler("ship", [](const Job&) { return JobOutcome::escalate("LATE"); });
  h.engine().register_handler("tell", [](const Job&) { return JobOutcome::complete(); });
  must(h.engine().run_until_idle());
  EXPECT_EQ(h.info(id).end_event, "escalated");
  // An operator's escalation (Engine::throw_escalation) is the same, for any open job.
  const InstanceId other = h.start("p");
  h.engine().register_handler("ship", [](const Job&) { return JobOutcome::pending(); });
  must(h.engine().run_until_idle());
  const JobKey ship = h.job_of("ship", other);
  ASSERT_OK(h.engine().throw_escalation(ship, "LATE"));
  must(h.engine().run_until_idle());
  EXPECT_EQ(h.info(other).end_event, "escalated");
  EXPECT_EQ(h.engine().throw_escalation(ship, "LATE").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ordo::testing
