// Signals (BPMN 2.0 broadcast events), on each store: a throw or Engine::broadcast_signal
// reaches every instance waiting for the signal's name, in every process, and starts each
// process with a signal start event of that name; nothing is kept for later.
#include "runtime/harness.h"

namespace ordo::testing {
namespace {

ORDO_ON_EACH_STORE(Signals);

const std::string kSignal = "<signal id=\"sig\" name=\"product-recalled\"/>\n";
const std::string kCatch = "<signalEventDefinition signalRef=\"sig\"/>";

// Process `id`: waits for the signal at "<id>-wait", then ends.
std::string waiter(const std::string& id) {
  return "<process id=\"" + id + "\" isExecutable=\"true\">\n<startEvent id=\"" + id +
         "-s\"/>\n<intermediateCatchEvent id=\"" + id + "-wait\">" + kCatch +
         "</intermediateCatchEvent>\n<endEvent id=\"" + id + "-e\"/>\n" +
         flow(id + "-s", id + "-wait") + flow(id + "-wait", id + "-e") + "</process>\n";
}

TEST_P(Signals, AThrowReachesEveryWaitingInstanceOfEveryProcess) {
  Harness h;
  h.deploy(bpmn(kSignal + waiter("orders") + waiter("returns") +
                "<process id=\"recall\" isExecutable=\"true\">\n<startEvent id=\"r-s\"/>\n"
                "<endEvent id=\"shout\">" +
                kCatch + "</endEvent>\n" + flow("r-s", "shout") + "</process>"));
  const InstanceId a = h.start("orders");
  const InstanceId b = h.start("orders");
  const InstanceId c = h.start("returns");
  EXPECT_EQ(h.active(a), Ids({"orders-wait"}));
  const InstanceId thrower = h.start("recall");
  EXPECT_EQ(h.info(thrower).state, InstanceState::kCompleted);
  for (InstanceId id : {a, b, c}) EXPECT_EQ(h.info(id).state, InstanceState::kCompleted) << id;
  // Nothing is kept: an instance that starts waiting afterwards waits on.
  const InstanceId late = h.start("orders");
  EXPECT_EQ(h.active(late), Ids({"orders-wait"}));
}

TEST_P(Signals, ABroadcastInterruptsAtABoundaryAndStartsProcesses) {
  Harness h;
  h.deploy(bpmn(kSignal +
                "<process id=\"orders\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n" +
                svc("ship") + "<boundaryEvent id=\"recalled\" attachedToRef=\"ship\">" + kCatch +
                "</boundaryEvent>\n<endEvent id=\"shipped\"/>\n<endEvent id=\"stopped\"/>\n" +
                flow("s", "ship") + flow("ship", "shipped") + flow("recalled", "stopped") +
                "</process>\n<process id=\"notify\" isExecutable=\"true\">\n"
                "<startEvent id=\"on-recall\">" +
                kCatch + "</startEvent>\n" + svc("tell") + "<endEvent id=\"told\"/>\n" +
                flow("on-recall", "tell") + flow("tell", "told") + "</process>"));
  const InstanceId a = h.start("orders");
  const InstanceId suspended = h.start("orders");
  ASSERT_OK(h.engine().suspend(suspended));
  const MessageResult r =
      must(h.engine().broadcast_signal("product-recalled", {{"reason", "batch 7"}}));
  ASSERT_EQ(r.instances.size(), 2u) << "the waiting order, then the started notification";
  EXPECT_EQ(r.instances[0], a);
  const InstanceInfo stopped = h.info(a);
  EXPECT_EQ(stopped.state, InstanceState::kCompleted);
  EXPECT_EQ(stopped.end_event, "stopped");
  EXPECT_EQ(stopped.variables["reason"], "batch 7");
  const InstanceInfo started = h.info(r.instances[1]);
  EXPECT_EQ(started.process_id, "notify");
  EXPECT_EQ(started.variables["reason"], "batch 7");
  EXPECT_EQ(h.active(r.instances[1]), Ids({"tell"}));
  // The suspended order missed it: it still waits at ship once resumed.
  ASSERT_OK(h.engine().resume(suspended));
  EXPECT_EQ(h.active(suspended), Ids({"ship"}));
  EXPECT_TRUE(must(h.engine().broadcast_signal("nobody-listens")).instances.empty());
  EXPECT_EQ(h.engine().broadcast_signal("").status().code(), StatusCode::kInvalidArgument);
}

TEST_P(Signals, AnEventSubprocessStartsOnTheSignalAndAGatewayChoosesIt) {
  Harness h;
  h.deploy(bpmn(kSignal +
                "<message id=\"m\" name=\"paid\"><extensionElements>"
                "<zeebe:subscription correlationKey=\"=orderId\"/></extensionElements>"
                "</message>\n<process id=\"p\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n"
                "<eventBasedGateway id=\"g\"/>\n"
                "<intermediateCatchEvent id=\"paid\"><messageEventDefinition messageRef=\"m\"/>"
                "</intermediateCatchEvent>\n<intermediateCatchEvent id=\"recalled\">" +
                kCatch + "</intermediateCatchEvent>\n<endEvent id=\"e1\"/><endEvent id=\"e2\"/>\n" +
                flow("s", "g") + flow("g", "paid") + flow("g", "recalled") + flow("paid", "e1") +
                flow("recalled", "e2") +
                "<subProcess id=\"audit\" triggeredByEvent=\"true\">"
                "<startEvent id=\"audit-start\" isInterrupting=\"false\">" +
                kCatch + "</startEvent>" + svc("log") + "<endEvent id=\"logged\"/>" +
                flow("audit-start", "log") + flow("log", "logged") +
                "</subProcess>\n"
                "</process>"));
  const InstanceId id = h.start("p", {{"orderId", "A-1"}});
  ASSERT_OK(h.engine().broadcast_signal("product-recalled").status());
  // The gateway's signal branch won (its message wait closed), and the audit runs beside.
  EXPECT_EQ(h.active(id), Ids({"audit", "log"}));
  EXPECT_TRUE(must(h.engine().publish_message("paid", "A-1")).instances.empty());
  ASSERT_OK(h.engine().complete_job(h.job_of("log", id)));
  EXPECT_EQ(h.info(id).state, InstanceState::kCompleted);
  EXPECT_EQ(h.info(id).end_event, "e2");
}

}  // namespace
}  // namespace ordo::testing
