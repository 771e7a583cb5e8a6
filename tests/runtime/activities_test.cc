// Activities: job tasks and handlers, user, script and receive tasks, subprocesses, call
// activities, multi-instance, variables and mappings, cancellation, determinism.
#include <atomic>
#include <mutex>

#include "runtime/harness.h"

namespace ordo::testing {
namespace {

// Every test runs on each store (harness.h).
ORDO_ON_EACH_STORE(ServiceTask);
ORDO_ON_EACH_STORE(UserTask);
ORDO_ON_EACH_STORE(ScriptTask);
ORDO_ON_EACH_STORE(ReceiveTask);
ORDO_ON_EACH_STORE(IoMapping);
ORDO_ON_EACH_STORE(Subprocess);
ORDO_ON_EACH_STORE(CallActivity);
ORDO_ON_EACH_STORE(MultiInstance);
ORDO_ON_EACH_STORE(Instance);
ORDO_ON_EACH_STORE(Observing);

TEST_P(ServiceTask, HandlerSeesVariablesHeadersKeyAndAttempt) {
  Harness h;
  h.deploy(process(straight(svc("t",
                                "<zeebe:taskHeaders><zeebe:header key=\"template\" "
                                "value=\"order-confirmation\"/></zeebe:taskHeaders>",
                                "notify.send"))));
  std::string seen_key, seen_header;
  int seen_attempt = 0;
  nlohmann::json seen_total;
  h.engine().register_handler("notify.send", [&](const Job& job) {
    seen_key = std::string(job.idempotency_key());
    seen_header = std::string(job.header("template"));
    seen_attempt = job.attempt();
    seen_total = *job.variable("total");
    return JobOutcome::complete({{"sent", true}});
  });
  InstanceId id = h.start("p", {{"total", 99.5}});
  EXPECT_EQ(must(h.engine().run_until_idle()), 1u);
  EXPECT_EQ(seen_header, "order-confirmation");
  EXPECT_EQ(seen_attempt, 1);
  EXPECT_EQ(seen_total, 99.5);
  EXPECT_FALSE(seen_key.empty());
  InstanceInfo info = h.info(id);
  EXPECT_EQ(info.state, InstanceState::kCompleted);
  EXPECT_EQ(info.variables["sent"], true);
}

// work(): handlers on threads of their own, on either store; each job is handled once and
// every instance ends.
TEST_P(ServiceTask, WorkRunsTheHandlersOnHandlerThreads) {
  Harness h;
  h.deploy(process("<startEvent id=\"s\"/>" + svc("charge") + svc("ship") +
                   "<endEvent id=\"e\"/>" + flow("s", "charge") + flow("charge", "ship") +
                   flow("ship", "e")));
  std::atomic<int> charged{0}, shipped{0};
  h.engine().register_handler("charge", [&](const Job& job) {
    ++charged;
    return JobOutcome::complete({{"paid", job.variable("amount")->get<int>()}});
  });
  h.engine().register_handler("ship", [&](const Job&) {
    ++shipped;
    return JobOutcome::complete();
  });
  std::vector<InstanceId> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(h.start("p", {{"amount", i}}));
  WorkOptions work;
  work.threads = 3;
  Result<std::size_t> handled = h.engine().work(work);
  ASSERT_TRUE(handled.is_ok()) << handled.status().to_string();
  EXPECT_EQ(*handled, 24u);
  EXPECT_EQ(charged.load(), 12);
  EXPECT_EQ(shipped.load(), 12);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const InstanceInfo info = h.info(ids[i]);
    EXPECT_EQ(info.state, InstanceState::kCompleted);
    EXPECT_EQ(info.variables["paid"], static_cast<int>(i));
  }
}

TEST_P(ServiceTask, JobWithoutHandlerStaysOpenForAnExternalWorker) {
  Harness h;
  h.deploy(process(straight(svc("t"))));
  InstanceId id = h.start();
  EXPECT_EQ(must(h.engine().run_until_idle()), 0u);
  ASSERT_EQ(must(h.engine().open_jobs("t")).size(), 1u);
  ASSERT_OK(h.engine().complete_job(h.job_of("t"), {{"done", 1}}));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

TEST_P(ServiceTask, CompletingAJobTwiceIsAConflictOrNotFound) {
  Harness h;
  h.deploy(process(straight(svc("t"))));
  h.start();
  JobKey job = h.job_of("t");
  ASSERT_OK(h.engine().complete_job(job));
  EXPECT_FALSE(h.engine().complete_job(job).is_ok());
}

TEST_P(ServiceTask, FailedJobIsRetriedWithTheSameKeyThenBecomesAnIncident) {
  Harness h;
  h.deploy(process(straight(
      "<serviceTask id=\"t\"><extensionElements><zeebe:taskDefinition type=\"erp\" "
      "retries=\"2\"/></extensionElements></serviceTask>")));
  std::vector<std::string> keys;
  std::vector<int> attempts;
  h.engine().register_handler("erp", [&](const Job& job) {
    keys.emplace_back(job.idempotency_key());
    attempts.push_back(job.attempt());
    return JobOutcome::fail("ERP unreachable", 1'000);
  });
  InstanceId id = h.start();
  must(h.engine().run_until_idle());
  EXPECT_EQ(attempts, std::vector<int>({1})) << "the retry waits for its backoff";
  ASSERT_OK(h.engine().advance_clock(1'000));
  EXPECT_EQ(attempts, std::vector<int>({1, 2}));
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0], keys[1]);
  InstanceInfo info = h.info(id);
  EXPECT_EQ(info.state, InstanceState::kIncident);
  ASSERT_EQ(info.incidents.size(), 1u);
  EXPECT_EQ(to_string(info.incidents[0].kind), "job-no-retries");
  EXPECT_NE(info.incidents[0].message.find("ERP unreachable"), std::string::npos);

  h.engine().register_handler("erp", [](const Job&) { return JobOutcome::complete(); });
  ASSERT_OK(h.engine().resolve_incident(info.incidents[0].key, 1));
  must(h.engine().run_until_idle());
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

TEST_P(ServiceTask, DeferredJobWaitsWithoutUsingARetryOrAnAttempt) {
  Harness h;
  h.deploy(process(straight(
      "<serviceTask id=\"t\"><extensionElements><zeebe:taskDefinition type=\"sms\" "
      "retries=\"1\"/></extensionElements></serviceTask>")));
  std::vector<int> attempts;
  std::vector<int> retries;
  h.engine().register_handler("sms", [&](const Job& job) {
    attempts.push_back(job.attempt());
    retries.push_back(job.retries_left());
    // Quiet hours twice, then sent: a job with one retry is deferred without an incident.
    if (attempts.size() < 3) return JobOutcome::defer(60'000, "quiet hours");
    return JobOutcome::complete();
  });
  InstanceId id = h.start();
  must(h.engine().run_until_idle());
  EXPECT_EQ(attempts.size(), 1u);
  ASSERT_OK(h.engine().advance_clock(59'999));
  EXPECT_EQ(attempts.size(), 1u) << "handed out before its time";
  ASSERT_OK(h.engine().advance_clock(1));
  ASSERT_OK(h.engine().advance_clock(60'000));
  EXPECT_EQ(attempts, std::vector<int>({1, 1, 1}));
  EXPECT_EQ(retries, std::vector<int>({1, 1, 1}));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
  int deferred = 0;
  for (const HistoryEvent& e : must(h.engine().history(id))) {
    if (e.kind == HistoryKind::kJobDeferred) {
      ++deferred;
      EXPECT_EQ(e.detail, "quiet hours");
    }
    EXPECT_NE(e.kind, HistoryKind::kJobFailed);
  }
  EXPECT_EQ(deferred, 2);
}

TEST_P(ServiceTask, HandlerExceptionCountsAsFailure) {
  Harness h;
  h.deploy(process(straight(svc("t"))));
  h.engine().register_handler("t", [](const Job&) -> JobOutcome {
    throw std::runtime_error("socket closed");
  });
  h.start();
  must(h.engine().run_until_idle());
  auto jobs = must(h.engine().open_jobs());
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_NE(jobs[0].last_error.find("socket closed"), std::string::npos);
}

TEST_P(UserTask, IsAJobOfTheReservedTypeCompletedThroughTheApi) {
  Harness h;
  h.deploy(process(straight("<userTask id=\"review\"/>", "review")));
  InstanceId id = h.start();
  auto jobs = must(h.engine().open_jobs(kUserTaskJobType));
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].element_id, "review");
  ASSERT_OK(h.engine().complete_job(jobs[0].key, {{"approved", true}}));
  EXPECT_EQ(h.info(id).variables["approved"], true);
}

TEST_P(ScriptTask, FeelResultGoesIntoTheResultVariable) {
  Harness h;
  h.deploy(process(straight(
      "<scriptTask id=\"t\"><extensionElements><zeebe:script expression=\"=sum(prices) * 2\" "
      "resultVariable=\"doubled\"/></extensionElements></scriptTask>")));
  InstanceId id = h.start("p", {{"prices", {1, 2, 3}}});
  EXPECT_EQ(h.info(id).variables["doubled"], 12);
}

// A script task given to a worker (zeebe:taskDefinition, no script) waits for its job, as
// a service task does; before, it completed at once and no job was made.
TEST_P(ScriptTask, WithATaskDefinitionWaitsForItsJob) {
  Harness h;
  h.deploy(process(straight(
      "<scriptTask id=\"t\"><extensionElements><zeebe:taskDefinition type=\"groovy-runner\"/>"
      "</extensionElements></scriptTask>")));
  InstanceId id = h.start("p");
  EXPECT_EQ(h.active(id), Ids({"t"}));
  const std::vector<JobInfo> jobs = must(h.engine().open_jobs("groovy-runner"));
  ASSERT_EQ(jobs.size(), 1u);
  ASSERT_OK(h.engine().complete_job(jobs[0].key, {{"scored", 7}}));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
  EXPECT_EQ(h.info(id).variables["scored"], 7);
}

TEST_P(ReceiveTask, WaitsForItsMessage) {
  Harness h;
  h.deploy(bpmn(message_def("m", "payment-confirmed") +
                "<process id=\"p\" isExecutable=\"true\">" +
                straight("<receiveTask id=\"t\" messageRef=\"m\"/>") + "</process>"));
  InstanceId id = h.start("p", {{"orderId", 42}});
  EXPECT_EQ(h.active(id), Ids({"t"}));
  auto n = h.engine().publish_message("payment-confirmed", "42");
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(n->instances.size(), 1u) << "a numeric key correlates by its text";
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

TEST_P(IoMapping, InputsAreLocalAndOutputsAreMappedOut) {
  Harness h;
  h.deploy(process(straight(svc(
      "t",
      "<zeebe:ioMapping><zeebe:input source=\"=order.total\" target=\"amount\"/>"
      "<zeebe:output source=\"=receipt.id\" target=\"receiptId\"/></zeebe:ioMapping>"))));
  nlohmann::json seen;
  h.engine().register_handler("t", [&](const Job& job) {
    seen = job.variables();
    return JobOutcome::complete({{"receipt", {{"id", "R-1"}}}, {"noise", 1}});
  });
  InstanceId id = h.start("p", {{"order", {{"total", 30}}}});
  must(h.engine().run_until_idle());
  EXPECT_EQ(seen["amount"], 30);
  nlohmann::json vars = h.info(id).variables;
  EXPECT_EQ(vars["receiptId"], "R-1");
  EXPECT_FALSE(vars.contains("amount")) << "inputs are local to the task";
  EXPECT_FALSE(vars.contains("noise")) << "with output mappings only mapped values leave";
}

TEST_P(IoMapping, FailingInputMappingIsAnIncidentOnTheTask) {
  Harness h;
  h.deploy(process(straight(svc(
      "t", "<zeebe:ioMapping><zeebe:input source=\"${missing}\" target=\"x\"/>"
           "</zeebe:ioMapping>"))));
  h.complete_all_jobs();
  InstanceId id = h.start("p", {{"other", 1}});
  must(h.engine().run_until_idle());
  InstanceInfo info = h.info(id);
  ASSERT_EQ(info.incidents.size(), 1u);
  EXPECT_EQ(to_string(info.incidents[0].kind), "io-mapping");
  EXPECT_EQ(info.incidents[0].element_id, "t");
  EXPECT_TRUE(h.calls.empty()) << "no job before the inputs are mapped";
}

TEST_P(Subprocess, CompletesWhenItsLastTokenEndsAndContinuesOutside) {
  Harness h;
  h.deploy(process("<startEvent id=\"s\"/><subProcess id=\"sub\"><startEvent id=\"ss\"/>" +
                   svc("inner") + "<endEvent id=\"se\"/>" + flow("ss", "inner") +
                   flow("inner", "se") + "</subProcess>\n" + svc("after") +
                   "<endEvent id=\"e\"/>" + flow("s", "sub") + flow("sub", "after") +
                   flow("after", "e")));
  h.complete_all_jobs();
  InstanceId id = h.start();
  must(h.engine().run_until_idle());
  EXPECT_EQ(h.calls, Ids({"inner", "after"}));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

TEST_P(CallActivity, RunsTheCalledProcessWithVariablesInAndOut) {
  Harness h;
  h.deploy_call_child();
  h.engine().register_handler("t", [](const Job& job) {
    return JobOutcome::complete({{"doubled", job.variable("n")->get<int>() * 2}});
  });
  InstanceId id = h.start("p", {{"n", 21}});
  EXPECT_EQ(h.active(id), Ids({"call"}));
  must(h.engine().run_until_idle());
  InstanceInfo info = h.info(id);
  EXPECT_EQ(info.state, InstanceState::kCompleted);
  EXPECT_EQ(info.variables["doubled"], 42);
}

TEST_P(CallActivity, CamundaInAndOutMapVariablesByName) {
  Harness h;
  h.deploy(bpmn("<process id=\"child\" isExecutable=\"true\">" + straight(svc("t")) +
                "</process>"));
  h.deploy(process(straight(
      "<callActivity id=\"call\" calledElement=\"child\"><extensionElements>"
      "<camunda:in source=\"amount\" target=\"charge\"/>"
      "<camunda:out source=\"receipt\" target=\"chargeReceipt\"/>"
      "</extensionElements></callActivity>",
      "call")));
  nlohmann::json seen;
  h.engine().register_handler("t", [&](const Job& job) {
    seen = *job.variable("charge");
    return JobOutcome::complete({{"receipt", "R-7"}});
  });
  InstanceId id = h.start("p", {{"amount", 12.5}});
  must(h.engine().run_until_idle());
  EXPECT_EQ(seen, 12.5);
  EXPECT_EQ(h.info(id).variables["chargeReceipt"], "R-7");
  EXPECT_FALSE(h.info(id).variables.contains("receipt"))
      << "Camunda 7 passes back only what camunda:out maps";
}

TEST_P(CallActivity, CancellingTheParentCancelsTheChild) {
  Harness h;
  h.deploy_call_child();
  InstanceId id = h.start();
  ASSERT_OK(h.engine().cancel(id));
  EXPECT_EQ(h.info(id).state, InstanceState::kTerminated);
  EXPECT_TRUE(must(h.engine().open_jobs()).empty());
  EXPECT_EQ(h.info(id + 1).state, InstanceState::kTerminated);
}

// Process "p": start -> call activity "again" calling "p" -> end. Runs away unless stopped.
std::string calls_itself() {
  return process(straight(
      "<callActivity id=\"again\"><extensionElements><zeebe:calledElement processId=\"p\"/>"
      "</extensionElements></callActivity>",
      "again"));
}

TEST_P(CallActivity, AProcessCallingItselfStopsAtTheCallDepthLimitWithAnIncident) {
  EngineOptions options;
  options.max_call_depth = 5;
  Harness h(options);
  h.deploy(calls_itself());
  InstanceId root = h.start();
  // The root and five nested instances; the deepest one's call activity is the incident.
  EXPECT_EQ(must(h.engine().instances()).size(), 6u);
  std::vector<IncidentInfo> incidents = must(h.engine().incidents());
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].kind, IncidentKind::kCallDepth);
  EXPECT_EQ(incidents[0].element_id, "again");
  EXPECT_NE(incidents[0].message.find("call depth 6"), std::string::npos) << incidents[0].message;
  EXPECT_NE(incidents[0].message.find("max_call_depth"), std::string::npos);
  ASSERT_OK(h.engine().cancel(root));
  for (const InstanceInfo& i : must(h.engine().instances())) {
    EXPECT_EQ(i.state, InstanceState::kTerminated) << "instance " << i.id;
  }
  EXPECT_TRUE(must(h.engine().incidents()).empty());
}

// Instances nested far deeper than a call stack holds (as a database written before the
// limit may have them) are cancelled without recursing once per level.
TEST_P(CallActivity, CancellingAChainOfNestedInstancesDoesNotRecursePerLevel) {
  const std::uint32_t depth = GetParam() == StoreKind::kMemory ? 60000 : 5000;
  EngineOptions options;
  options.max_call_depth = depth;
  options.max_steps_per_command = 10 * depth;
  Harness h(options);
  h.deploy(calls_itself());
  InstanceId root = h.start();
  ASSERT_EQ(must(h.engine().incidents()).size(), 1u);  // at the bottom
  ASSERT_OK(h.engine().cancel(root));
  std::int64_t terminated = 0;
  for (const InstanceCount& c : must(h.engine().count_instances())) {
    if (c.state == InstanceState::kTerminated) terminated += c.count;
    else ADD_FAILURE() << c.count << " instances " << to_string(c.state);
  }
  EXPECT_EQ(terminated, std::int64_t{depth} + 1);
}

std::string multi_xml(bool sequential, std::string_view extra = {}) {
  return process(straight(
      "<serviceTask id=\"t\"><extensionElements><zeebe:taskDefinition type=\"t\"/>"
      "</extensionElements><multiInstanceLoopCharacteristics isSequential=\"" +
      std::string(sequential ? "true" : "false") +
      "\"><extensionElements><zeebe:loopCharacteristics inputCollection=\"=items\" "
      "inputElement=\"item\" outputCollection=\"results\" outputElement=\"=item * 10\"/>"
      "</extensionElements>" +
      std::string(extra) + "</multiInstanceLoopCharacteristics></serviceTask>"));
}

// A collection beyond the limit is an incident before anything is made (ten million items
// once aborted the process with bad_alloc); raising the limit and resolving runs it.
TEST_P(MultiInstance, ACollectionBeyondTheLimitIsAnIncidentNotAnAbort) {
  EngineOptions options;
  options.max_multi_instance = 3;
  Harness h(options);
  h.deploy(multi_xml(false));
  InstanceId id = h.start("p", {{"items", {1, 2, 3, 4}}});
  InstanceInfo info = h.info(id);
  ASSERT_EQ(info.incidents.size(), 1u);
  EXPECT_EQ(info.incidents[0].kind, IncidentKind::kMultiInstance);
  EXPECT_NE(info.incidents[0].message.find("4 instances, more than the limit of 3"),
            std::string::npos)
      << info.incidents[0].message;
  EXPECT_TRUE(must(h.engine().open_jobs()).empty());
  // A loop cardinality of ten million is refused the same way, without building anything.
  h.deploy(process(straight(
      "<serviceTask id=\"t\"><extensionElements><zeebe:taskDefinition type=\"t\"/>"
      "</extensionElements><multiInstanceLoopCharacteristics><loopCardinality>=10000000"
      "</loopCardinality></multiInstanceLoopCharacteristics></serviceTask>")));
  InstanceId big = h.start("p");
  ASSERT_EQ(h.info(big).incidents.size(), 1u);
  EXPECT_NE(h.info(big).incidents[0].message.find("10000000 instances"), std::string::npos);
}

TEST_P(MultiInstance, ParallelStartsOneInnerInstancePerItemAndCollectsOutputs) {
  Harness h;
  h.deploy(multi_xml(false));
  InstanceId id = h.start("p", {{"items", {1, 2, 3}}});
  EXPECT_EQ(must(h.engine().open_jobs()).size(), 3u);
  std::vector<int> seen;
  h.engine().register_handler("t", [&](const Job& job) {
    seen.push_back(job.variable("item")->get<int>());
    return JobOutcome::complete();
  });
  must(h.engine().run_until_idle());
  EXPECT_EQ(seen, std::vector<int>({1, 2, 3}));
  EXPECT_EQ(h.info(id).variables["results"], nlohmann::json({10, 20, 30}));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
}

// The standard data items, as other engines' files write them: an <inputDataItem> named
// only by its id binds that variable, and <loopDataOutputRef> with an <outputDataItem>
// collects each inner instance's variable of that name.
TEST_P(MultiInstance, StandardDataItemsBindByIdAndCollectOutputs) {
  Harness h;
  h.deploy(process(straight(
      "<serviceTask id=\"t\"><extensionElements><zeebe:taskDefinition type=\"t\"/>"
      "</extensionElements><multiInstanceLoopCharacteristics>"
      "<loopDataInputRef>items</loopDataInputRef><inputDataItem id=\"item\"/>"
      "<loopDataOutputRef>doubled</loopDataOutputRef><outputDataItem name=\"twice\"/>"
      "</multiInstanceLoopCharacteristics></serviceTask>")));
  InstanceId id = h.start("p", {{"items", {1, 2, 3}}});
  h.engine().register_handler("t", [&](const Job& job) {
    return JobOutcome::complete({{"twice", 2 * job.variable("item")->get<int>()}});
  });
  must(h.engine().run_until_idle());
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
  EXPECT_EQ(h.info(id).variables["doubled"], nlohmann::json({2, 4, 6}));
}

// standardLoopCharacteristics: the activity runs again while the loop condition holds,
// tested after each run (and before the first with testBefore), at most loopMaximum times.
TEST_P(MultiInstance, AStandardLoopRunsWhileItsConditionHolds) {
  const auto looped = [](const std::string& attrs, const std::string& condition) {
    return process(straight(
        "<serviceTask id=\"t\"><extensionElements><zeebe:taskDefinition type=\"t\"/>"
        "</extensionElements><standardLoopCharacteristics " + attrs + ">" +
        (condition.empty() ? "" : "<loopCondition>" + condition + "</loopCondition>") +
        "</standardLoopCharacteristics></serviceTask>"));
  };
  const auto runs = [](Harness& h, const std::string& xml, int start) {
    h.deploy(xml);
    int calls = 0;
    h.engine().register_handler("t", [&](const Job& job) {
      ++calls;
      return JobOutcome::complete({{"count", job.variable("count")->get<int>() + 1}});
    });
    InstanceId id = h.start("p", {{"count", start}});
    must(h.engine().run_until_idle());
    EXPECT_EQ(h.info(id).state, InstanceState::kCompleted) << xml;
    return calls;
  };
  {
    Harness h;
    EXPECT_EQ(runs(h, looped("", "=count &lt; 3"), 0), 3);
  }
  {
    Harness h;  // tested after the run: once even when false from the start
    EXPECT_EQ(runs(h, looped("", "=count &lt; 3"), 5), 1);
  }
  {
    Harness h;  // tested before the first run: none
    EXPECT_EQ(runs(h, looped("testBefore=\"true\"", "=count &lt; 3"), 5), 0);
  }
  {
    Harness h;  // the maximum ends it, the condition still true
    EXPECT_EQ(runs(h, looped("loopMaximum=\"2\"", "=true"), 0), 2);
  }
  const LoadResult endless = load_bpmn(looped("", ""), "endless.bpmn");
  EXPECT_FALSE(endless.ok());
  EXPECT_EQ(with_rule(endless, "endless-loop").size(), 1u) << dump(endless);
}

TEST_P(MultiInstance, SequentialRunsOneAtATime) {
  Harness h;
  h.deploy(multi_xml(true));
  InstanceId id = h.start("p", {{"items", {"a", "b"}}});
  EXPECT_EQ(must(h.engine().open_jobs()).size(), 1u);
  ASSERT_OK(h.engine().complete_job(must(h.engine().open_jobs())[0].key));
  EXPECT_EQ(must(h.engine().open_jobs()).size(), 1u);
  ASSERT_OK(h.engine().complete_job(must(h.engine().open_jobs())[0].key));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted) << h.info(id).incidents.size();
}

TEST_P(MultiInstance, CompletionConditionEndsTheRemainingInstances) {
  Harness h;
  h.deploy(multi_xml(false,
                     "<completionCondition>=numberOfCompletedInstances &gt;= 2"
                     "</completionCondition>"));
  InstanceId id = h.start("p", {{"items", {1, 2, 3, 4}}});
  auto jobs = must(h.engine().open_jobs());
  ASSERT_EQ(jobs.size(), 4u);
  ASSERT_OK(h.engine().complete_job(jobs[0].key));
  ASSERT_OK(h.engine().complete_job(jobs[2].key));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
  EXPECT_TRUE(must(h.engine().open_jobs()).empty());
}

TEST_P(MultiInstance, LongSequentialLoopOfInstantTasksDoesNotRecurse) {
  EngineOptions options;
  options.max_multi_instance = 50'000;
  Harness h(options);
  h.deploy(process(straight(
      "<task id=\"t\"><multiInstanceLoopCharacteristics isSequential=\"true\">"
      "<extensionElements><zeebe:loopCharacteristics inputCollection=\"=items\" "
      "inputElement=\"item\" outputCollection=\"results\" outputElement=\"=item + 1\"/>"
      "</extensionElements></multiInstanceLoopCharacteristics></task>")));
  nlohmann::json items = nlohmann::json::array();
  for (int i = 0; i < 50'000; ++i) items.push_back(i);
  InstanceId id = h.start("p", {{"items", items}});
  InstanceInfo info = h.info(id);
  EXPECT_EQ(info.state, InstanceState::kCompleted);
  ASSERT_EQ(info.variables["results"].size(), 50'000u);
  EXPECT_EQ(info.variables["results"][49'999], 50'000);
}

// A parallel body starts multi_instance_batch instances a command; the rest follow in later
// commands, so an order started after it is not behind all its jobs. Before, 100,000 service
// tasks were made in one command and every other order waited behind them.
TEST_P(MultiInstance, AParallelBodyStartsItsInstancesInBatchesAndOtherOrdersGoInBetween) {
  EngineOptions options;
  options.multi_instance_batch = 10;
  Harness h(options);
  h.deploy(multi_xml(false));
  h.deploy(process(straight(svc("other"), "other"), "q"));
  nlohmann::json items = nlohmann::json::array();
  for (int i = 0; i < 35; ++i) items.push_back(i);
  const InstanceId id = h.start("p", {{"items", items}});
  EXPECT_EQ(must(h.engine().open_jobs()).size(), 10u) << "the first batch only";
  const std::optional<std::int64_t> due = must(h.engine().next_timer_due());
  ASSERT_TRUE(due.has_value()) << "the next batch waits on a timer";
  EXPECT_EQ(*due, h.clock().now_ms()) << "due at once";
  const InstanceId other = h.start("q");
  h.complete_all_jobs();
  ASSERT_OK(h.engine().run_until_idle().status());
  const auto at = std::find(h.calls.begin(), h.calls.end(), "other");
  ASSERT_NE(at, h.calls.end());
  EXPECT_LE(at - h.calls.begin(), 10) << "the other order's job came after the first batch";
  EXPECT_EQ(h.calls.size(), 36u);
  EXPECT_EQ(h.info(other).state, InstanceState::kCompleted);
  const InstanceInfo info = h.info(id);
  EXPECT_EQ(info.state, InstanceState::kCompleted);
  ASSERT_EQ(info.variables["results"].size(), 35u);
  for (std::size_t i = 0; i < 35; ++i) EXPECT_EQ(info.variables["results"][i], i * 10) << i;
  EXPECT_FALSE(must(h.engine().next_timer_due()).has_value());
}

// Commands that share a transaction (group commit) start one batch of a body, not every
// batch in a row: the next one waits for the next transaction, and the engine is not held
// for the whole collection. Before, a group fired each next batch's timer as soon as it was
// made. Seen from an observer, which runs right after each transaction commits. Groups are
// a shared store's (an in-memory engine tells its observers when the whole call returns).
TEST(MultiInstanceOnSqlite, AGroupOfCommandsStartsOneBatchOfABodyNotAllOfThem) {
  struct OnSqlite {
    OnSqlite() { current_store() = StoreKind::kSqlite; }
    ~OnSqlite() { current_store() = StoreKind::kMemory; }
  } on_sqlite;
  EngineOptions options;
  options.multi_instance_batch = 10;
  options.group_commit = 64;
  Harness h(options);
  h.deploy(multi_xml(false));
  struct SecondBatch : Observer {
    explicit SecondBatch(Engine& e) : engine(e) {}
    void on_event(const HistoryEvent& e) override {
      if (e.kind == HistoryKind::kElementActivated && e.element_id == "t" && e.value == 11) {
        open_then = engine.open_jobs()->size();
      }
    }
    Engine& engine;
    std::size_t open_then = 0;
  } second_batch(h.engine());
  h.engine().add_observer(&second_batch);
  nlohmann::json items = nlohmann::json::array();
  for (int i = 0; i < 35; ++i) items.push_back(i);
  h.start("p", {{"items", items}});
  // No handler for the jobs: only the batches' timers fire.
  ASSERT_OK(h.engine().run_until_idle().status());
  EXPECT_EQ(second_batch.open_then, 20u) << "the transaction of the second batch made more";
  EXPECT_EQ(must(h.engine().open_jobs()).size(), 35u);
  h.engine().remove_observer(&second_batch);
}

// Instances of a parallel body not started yet count as active, as if all had started at
// once: a completion condition on numberOfActiveInstances waits for them.
TEST_P(MultiInstance, InstancesNotStartedYetCountAsActive) {
  EngineOptions options;
  options.multi_instance_batch = 2;
  Harness h(options);
  h.deploy(multi_xml(false,
                     "<completionCondition>=numberOfActiveInstances = 0"
                     "</completionCondition>"));
  const InstanceId id = h.start("p", {{"items", {1, 2, 3, 4, 5}}});
  h.complete_all_jobs();
  ASSERT_OK(h.engine().run_until_idle().status());
  EXPECT_EQ(h.calls.size(), 5u);
  const InstanceInfo info = h.info(id);
  EXPECT_EQ(info.state, InstanceState::kCompleted);
  EXPECT_EQ(info.variables["results"], nlohmann::json({10, 20, 30, 40, 50}));
}

// The wait for the next batch closes with the body: ended by its completion condition, or
// the instance cancelled, nothing more is started.
TEST_P(MultiInstance, TheNextBatchIsNotStartedOnceTheBodyEnded) {
  EngineOptions options;
  options.multi_instance_batch = 2;
  Harness h(options);
  h.deploy(multi_xml(false,
                     "<completionCondition>=numberOfCompletedInstances &gt;= 1"
                     "</completionCondition>"));
  const InstanceId done = h.start("p", {{"items", {1, 2, 3, 4, 5}}});
  auto jobs = must(h.engine().open_jobs());
  ASSERT_EQ(jobs.size(), 2u);
  ASSERT_OK(h.engine().complete_job(jobs[0].key));
  EXPECT_EQ(h.info(done).state, InstanceState::kCompleted);
  EXPECT_FALSE(must(h.engine().next_timer_due()).has_value());
  const InstanceId cancelled = h.start("p", {{"items", {1, 2, 3, 4, 5}}});
  ASSERT_OK(h.engine().cancel(cancelled));
  EXPECT_FALSE(must(h.engine().next_timer_due()).has_value());
  ASSERT_OK(h.engine().run_until_idle().status());
  EXPECT_TRUE(must(h.engine().open_jobs()).empty());
}

TEST_P(MultiInstance, EmptyCollectionCompletesAtOnce) {
  Harness h;
  h.deploy(multi_xml(false));
  InstanceId id = h.start("p", {{"items", nlohmann::json::array()}});
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
  EXPECT_EQ(h.info(id).variables["results"], nlohmann::json::array());
}

TEST_P(Instance, CancelTerminatesJobsTimersAndSubscriptions) {
  Harness h;
  h.deploy(process(straight(svc("t") +
                            "<boundaryEvent id=\"b\" attachedToRef=\"t\"><timerEventDefinition>"
                            "<timeDuration>PT1H</timeDuration></timerEventDefinition>"
                            "</boundaryEvent>" + flow("b", "e"))));
  InstanceId id = h.start();
  ASSERT_OK(h.engine().cancel(id));
  EXPECT_EQ(h.info(id).state, InstanceState::kTerminated);
  EXPECT_TRUE(must(h.engine().open_jobs()).empty());
  EXPECT_FALSE(must(h.engine().next_timer_due()).has_value());
  EXPECT_EQ(h.engine().cancel(id).code(), StatusCode::kNotFound);
}

TEST_P(Instance, SameCommandsAndClockGiveTheSameHistory) {
  auto run = [] {
    Harness h;
    h.deploy(multi_xml(false));
    h.complete_all_jobs({{"ok", true}});
    InstanceId id = h.start("p", {{"items", {1, 2}}});
    must(h.engine().run_until_idle());
    std::vector<std::string> out;
    for (const HistoryEvent& e : must(h.engine().history(id))) {
      out.push_back(std::to_string(e.sequence) + " " + std::string(to_string(e.kind)) + " " +
                    std::string(e.element_id) + " " + std::to_string(e.key) + " " + e.detail);
    }
    return out;
  };
  std::vector<std::string> a = run();
  EXPECT_GT(a.size(), 10u);
  EXPECT_EQ(a, run());
}

TEST_P(Observing, InstanceStartedCarriesTheBusinessKey) {
  Harness h;
  h.deploy_call_child();
  auto id = h.engine().start("p", nlohmann::json::object(), "A-1");
  ASSERT_TRUE(id.is_ok()) << id.status().to_string();
  auto all = h.engine().instances();
  ASSERT_TRUE(all.is_ok()) << all.status().to_string();
  ASSERT_EQ(all->size(), 2u);  // the caller and the instance its call activity started
  for (const InstanceInfo& i : *all) {
    std::vector<std::string> started;
    for (const HistoryEvent& e : must(h.engine().history(i.id))) {
      if (e.kind == HistoryKind::kInstanceStarted) started.push_back(e.detail);
    }
    EXPECT_EQ(started, Ids{"A-1"}) << "instance " << i.id;
  }
}

TEST_P(Observing, SeesEveryEventAfterItsCommand) {
  struct Counter : Observer {
    void on_event(const HistoryEvent& e) override { kinds.push_back(e.kind); }
    std::vector<HistoryKind> kinds;
  } counter;
  EngineOptions options;
  options.keep_history = false;
  Harness h(options);
  h.engine().add_observer(&counter);
  h.deploy(process(straight(svc("t"))));
  h.start();
  ASSERT_FALSE(counter.kinds.empty());
  EXPECT_EQ(counter.kinds.front(), HistoryKind::kInstanceStarted);
  EXPECT_EQ(counter.kinds.back(), HistoryKind::kJobCreated);
  h.engine().remove_observer(&counter);
}

}  // namespace
}  // namespace ordo::testing
