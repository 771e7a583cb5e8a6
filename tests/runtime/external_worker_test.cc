// External workers: fetch and lock, answer as the lock holder, locks that run out, retries
// with backoff, BPMN errors, extended locks (Engine::fetch_and_lock and friends). Runs in
// memory and, under durable.runtime_suites, on SQLite.
#include <gtest/gtest.h>

#include "runtime/harness.h"

namespace ordo::testing {
namespace {

using nlohmann::json;

// start -> pay (type "payment.charge", header "provider") -> end, with an error boundary
// (DECLINED) on pay leading to "declined".
std::string payment_process() {
  return bpmn(
      "<error id=\"err\" errorCode=\"DECLINED\"/>\n"
      "<process id=\"p\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n" +
      svc("pay",
          "<zeebe:taskHeaders><zeebe:header key=\"provider\" value=\"acme\"/></zeebe:taskHeaders>",
          "payment.charge") +
      "<boundaryEvent id=\"b\" attachedToRef=\"pay\"><errorEventDefinition errorRef=\"err\"/>"
      "</boundaryEvent>\n"
      "<endEvent id=\"paid\"/>\n<endEvent id=\"declined\"/>\n" +
      flow("s", "pay") + flow("pay", "paid") + flow("b", "declined") + "</process>");
}

FetchRequest fetch(std::string worker, std::int64_t lock_ms = 10'000) {
  FetchRequest f;
  f.worker = std::move(worker);
  f.types = {"payment.charge"};
  f.lock_ms = lock_ms;
  return f;
}

// Every test runs on each store (harness.h).
class ExternalWorker : public OnEachStore {
 protected:
  void SetUp() override { h.deploy(payment_process()); }
  InstanceId start_order(const std::string& order) {
    auto r = h.engine().start(
        {"p", {{"orderId", order}, {"amount", 99.5}, {"card", "tok_visa"}}, order, 0, {}});
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? r->id : 0;
  }
  std::vector<LockedJob> take(const FetchRequest& f) {
    auto r = h.engine().fetch_and_lock(f);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : std::vector<LockedJob>{};
  }
  Harness h;
};

ORDO_STORES_OF(ExternalWorker);

TEST_P(ExternalWorker, FetchLocksJobsOfTheTypesAskedForWithWhatTheWorkNeeds) {
  const InstanceId id = start_order("A-1");
  FetchRequest other = fetch("w1");
  other.types = {"erp.reserve"};
  EXPECT_TRUE(take(other).empty()) << "only the types asked for";

  const std::vector<LockedJob> got = take(fetch("w1"));
  ASSERT_EQ(got.size(), 1u);
  const LockedJob& job = got[0];
  EXPECT_EQ(job.instance, id);
  EXPECT_EQ(job.type, "payment.charge");
  EXPECT_EQ(job.process_id, "p");
  EXPECT_EQ(job.element_id, "pay");
  EXPECT_EQ(job.business_key, "A-1");
  EXPECT_EQ(job.idempotency_key.rfind("p:" + std::to_string(id) + ":", 0), 0u)
      << job.idempotency_key;
  EXPECT_EQ(job.attempt, 1);
  EXPECT_EQ(job.retries, 3);
  ASSERT_EQ(job.headers.size(), 1u);
  EXPECT_EQ(job.headers[0].key, "provider");
  EXPECT_EQ(job.headers[0].value, "acme");
  EXPECT_EQ(job.variables["card"], "tok_visa");
  EXPECT_EQ(job.variables["amount"], 99.5);
  EXPECT_EQ(job.lock_expires_ms, kEpoch + 10'000);

  EXPECT_TRUE(take(fetch("w2")).empty()) << "a locked job is nobody else's";
  EXPECT_TRUE(take(fetch("w1")).empty()) << "nor handed out twice to its holder";
}

TEST_P(ExternalWorker, FetchHandsOutOnlyTheVariablesAskedForAndAtMostMaxJobs) {
  for (const char* order : {"A-1", "A-2", "A-3"}) start_order(order);
  FetchRequest f = fetch("w1");
  f.max_jobs = 2;
  f.variables = {"orderId", "missing"};
  const std::vector<LockedJob> got = take(f);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].variables, json({{"orderId", "A-1"}})) << "oldest first; absent names left out";
  EXPECT_EQ(got[1].variables, json({{"orderId", "A-2"}}));
  ASSERT_EQ(take(f).size(), 1u);
  EXPECT_TRUE(take(f).empty());
}

TEST_P(ExternalWorker, OnlyTheHolderOfTheLockAnswers) {
  const InstanceId id = start_order("A-1");
  const JobKey key = h.job_of("pay");
  // Not fetched: no worker holds it.
  Status unfetched = h.engine().answer_job(key, "w1", JobOutcome::complete());
  EXPECT_EQ(unfetched.code(), StatusCode::kConflict);
  EXPECT_NE(unfetched.message().find("fetch and lock it first"), std::string::npos);

  ASSERT_EQ(take(fetch("w1")).size(), 1u);
  Status stranger = h.engine().answer_job(key, "w2", JobOutcome::complete());
  EXPECT_EQ(stranger.code(), StatusCode::kConflict) << stranger.to_string();
  EXPECT_NE(stranger.message().find("'w1' holds it"), std::string::npos) << stranger.message();
  EXPECT_EQ(h.info(id).state, InstanceState::kActive) << "a refused answer changes nothing";

  ASSERT_OK(h.engine().answer_job(key, "w1", JobOutcome::complete({{"chargeId", "ch_1"}})));
  const InstanceInfo done = h.info(id);
  EXPECT_EQ(done.state, InstanceState::kCompleted);
  EXPECT_EQ(done.end_event, "paid");
  EXPECT_EQ(done.variables["chargeId"], "ch_1");
  EXPECT_EQ(h.engine().answer_job(key, "w1", JobOutcome::complete()).code(), StatusCode::kNotFound)
      << "a job answered twice";
}

TEST_P(ExternalWorker, AJobWhoseLockRunsOutGoesBackToThePool) {
  const InstanceId id = start_order("A-1");
  const JobKey key = take(fetch("w1", 10'000)).at(0).key;
  ASSERT_OK(h.engine().advance_clock(9'999));
  EXPECT_TRUE(take(fetch("w2")).empty()) << "still w1's";
  ASSERT_OK(h.engine().advance_clock(2));
  const std::vector<LockedJob> again = take(fetch("w2", 30'000));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].key, key);
  EXPECT_EQ(again[0].lock_expires_ms, kEpoch + 10'001 + 30'000);

  Status late = h.engine().answer_job(key, "w1", JobOutcome::complete());
  EXPECT_EQ(late.code(), StatusCode::kConflict) << "w1 lost it to w2";
  EXPECT_NE(late.message().find("'w2' holds it"), std::string::npos) << late.message();
  ASSERT_OK(h.engine().answer_job(key, "w2", JobOutcome::complete()));
  EXPECT_EQ(h.info(id).end_event, "paid");
}

TEST_P(ExternalWorker, ALateAnswerCountsWhileNobodyElseHasTheJob) {
  const InstanceId id = start_order("A-1");
  const JobKey key = take(fetch("w1", 1'000)).at(0).key;
  ASSERT_OK(h.engine().advance_clock(60'000));
  ASSERT_OK(h.engine().answer_job(key, "w1", JobOutcome::complete()));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

TEST_P(ExternalWorker, FailureRetriesAfterTheBackoffThenBecomesAnIncident) {
  const InstanceId id = start_order("A-1");
  const JobKey key = take(fetch("w1")).at(0).key;
  ASSERT_OK(h.engine().answer_job(key, "w1", JobOutcome::fail("gateway timeout", 30'000, 2)));
  EXPECT_TRUE(take(fetch("w1")).empty()) << "waits out its backoff";
  ASSERT_OK(h.engine().advance_clock(30'000));
  const std::vector<LockedJob> retry = take(fetch("w1"));
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].key, key);
  EXPECT_EQ(retry[0].attempt, 2);
  EXPECT_EQ(retry[0].retries, 2);
  ASSERT_OK(h.engine().answer_job(key, "w1", JobOutcome::fail("card service down", 0, 0)));
  const InstanceInfo info = h.info(id);
  ASSERT_EQ(info.incidents.size(), 1u);
  EXPECT_EQ(to_string(info.incidents[0].kind), "job-no-retries");
  EXPECT_NE(info.incidents[0].message.find("card service down"), std::string::npos);
  EXPECT_TRUE(take(fetch("w1")).empty()) << "an incident's job is not handed out";

  // Resolving the incident hands the job out again.
  ASSERT_OK(h.engine().resolve_incident(info.incidents[0].key, 1));
  ASSERT_EQ(take(fetch("w2")).size(), 1u);
}

TEST_P(ExternalWorker, ABpmnErrorIsCaughtByTheBoundaryEvent) {
  const InstanceId id = start_order("A-1");
  const JobKey key = take(fetch("w1")).at(0).key;
  ASSERT_OK(h.engine().answer_job(
      key, "w1", JobOutcome::error("DECLINED", "insufficient funds", {{"declineCode", "51"}})));
  const InstanceInfo info = h.info(id);
  EXPECT_EQ(info.end_event, "declined");
  EXPECT_EQ(info.variables["declineCode"], "51");
}

TEST_P(ExternalWorker, ExtendingTheLockKeepsTheJobAndOnlyTheHolderMayExtendIt) {
  start_order("A-1");
  const JobKey key = take(fetch("w1", 10'000)).at(0).key;
  ASSERT_OK(h.engine().advance_clock(5'000));
  EXPECT_EQ(h.engine().extend_lock(key, "w2", 60'000).code(), StatusCode::kConflict);
  ASSERT_OK(h.engine().extend_lock(key, "w1", 60'000));
  ASSERT_OK(h.engine().advance_clock(20'000));
  EXPECT_TRUE(take(fetch("w2")).empty()) << "the extended lock holds";
  ASSERT_OK(h.engine().advance_clock(45'001));
  EXPECT_EQ(take(fetch("w2")).size(), 1u);
}

TEST_P(ExternalWorker, BadRequestsAreRefused) {
  FetchRequest no_worker = fetch("");
  EXPECT_EQ(h.engine().fetch_and_lock(no_worker).status().code(), StatusCode::kInvalidArgument);
  FetchRequest no_types = fetch("w1");
  no_types.types.clear();
  EXPECT_EQ(h.engine().fetch_and_lock(no_types).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(h.engine().answer_job(1, "w1", JobOutcome::pending()).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(h.engine().answer_job(424242, "w1", JobOutcome::complete()).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(h.engine().extend_lock(424242, "w1", 1000).code(), StatusCode::kNotFound);
}

TEST_P(ExternalWorker, TypesLeftToExternalWorkersAreNotTakenByTheFallbackHandler) {
  std::vector<std::string> handled;
  h.engine().set_fallback_handler([&](const Job& job) {
    handled.emplace_back(job.type());
    return JobOutcome::complete();
  });
  h.engine().leave_to_external_workers({"payment.charge"});
  const InstanceId id = start_order("A-1");
  must(h.engine().run_until_idle());
  EXPECT_TRUE(handled.empty()) << "the fallback took " << handled.front();
  ASSERT_EQ(take(fetch("w1")).size(), 1u);
  EXPECT_EQ(h.info(id).state, InstanceState::kActive);
}

}  // namespace
}  // namespace ordo::testing
