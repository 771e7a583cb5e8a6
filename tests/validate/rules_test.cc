// One small process per validation rule: the rule fires with the right severity at the right
// line, and a corrected variant does not fire it.
#include <gtest/gtest.h>

#include "test_util.h"

namespace ordo {
namespace {

using testing::dump;
using testing::process;
using testing::with_rule;

struct RuleCase {
  const char* name;
  const char* rule;
  Severity severity;
  std::uint32_t line;  // the process body starts on line 4
  const char* body;
};

// Flows used by many cases: s -> X -> e.
#define S_TO(x) \
  "<startEvent id=\"s\"/><sequenceFlow id=\"fs\" sourceRef=\"s\" targetRef=\"" x "\"/>"
#define TO_E(x) "<endEvent id=\"e\"/><sequenceFlow id=\"fe\" sourceRef=\"" x "\" targetRef=\"e\"/>"

const RuleCase kCases[] = {
    {"NoStartEvent", "no-start-event", Severity::kError, 3, "<task id=\"t\"/>"},
    {"StartEventIncoming", "start-event-incoming", Severity::kError, 4,
     "<startEvent id=\"s\"/>\n<task id=\"t\"/><sequenceFlow id=\"a\" sourceRef=\"s\" "
     "targetRef=\"t\"/>"
     "<sequenceFlow id=\"b\" sourceRef=\"t\" targetRef=\"s\"/>"},
    {"EndEventOutgoing", "end-event-outgoing", Severity::kError, 5,
     S_TO("e") "\n<endEvent id=\"e\"/><endEvent id=\"e2\"/>"
               "<sequenceFlow id=\"x\" sourceRef=\"e\" targetRef=\"e2\"/>"},
    {"GatewayWithoutOutgoing", "missing-outgoing", Severity::kError, 5,
     S_TO("g") "\n<parallelGateway id=\"g\"/>"},
    {"ConvergingGatewayWithoutOutgoingEndsImplicitly", "implicit-end", Severity::kWarning, 5,
     S_TO("g") "\n<parallelGateway id=\"g\"/><sequenceFlow id=\"f2\" sourceRef=\"s\" "
               "targetRef=\"g\"/>"},
    {"CronCycleWithABadField", "invalid-timer-value", Severity::kError, 5,
     S_TO("c") "<intermediateCatchEvent id=\"c\"><timerEventDefinition>\n"
               "<timeCycle>0 0/5 25 * * "
               "?</timeCycle></timerEventDefinition></intermediateCatchEvent>" TO_E("c")},
    {"CatchEventWithoutOutgoing", "missing-outgoing", Severity::kError, 5,
     S_TO("c") "\n<intermediateCatchEvent "
               "id=\"c\"><timerEventDefinition><timeDuration>PT1M</timeDuration></"
               "timerEventDefinition></intermediateCatchEvent>"},
    {"ActivityWithoutOutgoingEndsImplicitly", "implicit-end", Severity::kWarning, 5,
     S_TO("t") "\n<task id=\"t\"/>"},
    {"Unreachable", "unreachable", Severity::kWarning, 6,
     S_TO("e") "<endEvent id=\"e\"/>\n\n<task id=\"lost\"/>"},
    {"DefaultFlowWithCondition", "default-flow-condition", Severity::kWarning, 6,
     S_TO("g") "<exclusiveGateway id=\"g\" default=\"d\"/><endEvent id=\"e\"/>\n"
               "<sequenceFlow id=\"d\" sourceRef=\"g\" targetRef=\"e\">\n"
               "<conditionExpression>=true</conditionExpression></sequenceFlow>"},
    {"UnnamedDataItem", "unnamed-data-item", Severity::kWarning, 6,
     S_TO("t") "<task id=\"t\"><multiInstanceLoopCharacteristics>\n"
               "<loopDataInputRef>items</loopDataInputRef>\n<inputDataItem/>"
               "</multiInstanceLoopCharacteristics></task>" TO_E("t")},
    {"OutputCollectionWithoutElement", "missing-output-element", Severity::kWarning, 5,
     S_TO("t") "<task id=\"t\">\n<multiInstanceLoopCharacteristics>"
               "<loopDataInputRef>items</loopDataInputRef>"
               "<loopDataOutputRef>out</loopDataOutputRef>"
               "</multiInstanceLoopCharacteristics></task>" TO_E("t")},
    {"ConditionOnParallelGateway", "parallel-gateway-condition", Severity::kError, 6,
     S_TO("g") "<parallelGateway id=\"g\"/><endEvent id=\"e\"/>\n"
               "<sequenceFlow id=\"a\" sourceRef=\"g\" targetRef=\"e\">\n"
               "<conditionExpression>=x</conditionExpression></sequenceFlow>"},
    {"ConditionalGatewayWithoutDefault", "gateway-no-default", Severity::kWarning, 5,
     S_TO("g") "\n<exclusiveGateway id=\"g\"/><endEvent id=\"e\"/>"
               "<sequenceFlow id=\"a\" sourceRef=\"g\" "
               "targetRef=\"e\"><conditionExpression>=x</conditionExpression></sequenceFlow>"
               "<sequenceFlow id=\"b\" sourceRef=\"g\" "
               "targetRef=\"e\"><conditionExpression>=not(x)</conditionExpression></sequenceFlow>"},
    {"UnconditionalNonDefaultGatewayFlow", "missing-condition", Severity::kWarning, 6,
     S_TO("g") "<inclusiveGateway id=\"g\" default=\"a\"/><endEvent id=\"e\"/>\n"
               "<sequenceFlow id=\"a\" sourceRef=\"g\" targetRef=\"e\"/>\n"
               "<sequenceFlow id=\"b\" sourceRef=\"g\" targetRef=\"e\"/>"},
    {"ServiceTaskWithoutType", "missing-task-type", Severity::kError, 5,
     S_TO("t") "\n<serviceTask id=\"t\"/>" TO_E("t")},
    {"SendTaskWithoutType", "missing-task-type", Severity::kError, 5,
     S_TO("t") "\n<sendTask id=\"t\"/>" TO_E("t")},
    {"BoundaryOnAGateway", "boundary-attachment", Severity::kError, 6,
     S_TO("g") "<exclusiveGateway id=\"g\"/>" TO_E(
         "g") "\n\n"
              "<boundaryEvent id=\"b\" "
              "attachedToRef=\"g\"><timerEventDefinition><timeDuration>PT1M</timeDuration></"
              "timerEventDefinition></boundaryEvent>"
              "<sequenceFlow id=\"bf\" sourceRef=\"b\" targetRef=\"e\"/>"},
    {"BoundaryWithoutAttachment", "boundary-attachment", Severity::kError, 5,
     S_TO("e") "<endEvent id=\"e\"/>\n"
               "<boundaryEvent "
               "id=\"b\"><timerEventDefinition><timeDuration>PT1M</timeDuration></"
               "timerEventDefinition></boundaryEvent>"},
    {"BoundaryWithIncomingFlow", "boundary-incoming", Severity::kError, 5,
     S_TO("t") "<task id=\"t\"/>" TO_E(
         "t") "\n"
              "<boundaryEvent id=\"b\" "
              "attachedToRef=\"t\"><timerEventDefinition><timeDuration>PT1M</timeDuration></"
              "timerEventDefinition></boundaryEvent>"
              "<sequenceFlow id=\"bf\" sourceRef=\"b\" targetRef=\"e\"/><sequenceFlow id=\"bi\" "
              "sourceRef=\"s\" targetRef=\"b\"/>"},
    {"MessageCatchWithoutMessage", "missing-message", Severity::kError, 5,
     S_TO("c") "\n<intermediateCatchEvent "
               "id=\"c\"><messageEventDefinition/></intermediateCatchEvent>" TO_E("c")},
    {"ReceiveTaskWithoutMessage", "receive-without-message", Severity::kWarning, 5,
     S_TO("r") "\n<receiveTask id=\"r\"/>" TO_E("r")},
    {"TimerWithoutTime", "missing-timer-value", Severity::kError, 6,
     S_TO("c") "<intermediateCatchEvent "
               "id=\"c\">\n\n<timerEventDefinition/></intermediateCatchEvent>" TO_E("c")},
    {"TimerWithMalformedDuration", "invalid-timer-value", Severity::kError, 6,
     S_TO("c") "<intermediateCatchEvent id=\"c\"><timerEventDefinition>\n\n"
               "<timeDuration>30 "
               "minutes</timeDuration></timerEventDefinition></intermediateCatchEvent>" TO_E("c")},
    {"TimerBeyondTheYear9999", "invalid-timer-value", Severity::kError, 6,
     S_TO("c") "<intermediateCatchEvent id=\"c\"><timerEventDefinition>\n\n"
               "<timeDuration>P999999999Y</timeDuration></timerEventDefinition>"
               "</intermediateCatchEvent>" TO_E("c")},
    {"CycleBeyondTheYear9999", "invalid-timer-value", Severity::kError, 6,
     S_TO("c") "<intermediateCatchEvent id=\"c\"><timerEventDefinition>\n\n"
               "<timeCycle>R/P99999Y</timeCycle></timerEventDefinition>"
               "</intermediateCatchEvent>" TO_E("c")},
    {"TimerWithTwoValues", "timer-ambiguous", Severity::kError, 5,
     S_TO("c") "<intermediateCatchEvent "
               "id=\"c\"><timerEventDefinition><timeDuration>PT1M</timeDuration>\n"
               "<timeCycle>R/PT1M</timeCycle></timerEventDefinition></intermediateCatchEvent>" TO_E(
                   "c")},
    {"RetryCycleThatIsNoCycle", "invalid-retry-cycle", Severity::kError, 6,
     S_TO("t") "\n<serviceTask id=\"t\" camunda:type=\"external\" camunda:topic=\"x\">"
               "<extensionElements>\n<camunda:failedJobRetryTimeCycle>every 10 seconds"
               "</camunda:failedJobRetryTimeCycle></extensionElements></serviceTask>" TO_E("t")},
    {"ErrorEndWithoutCode", "missing-error-code", Severity::kError, 5,
     S_TO("x") "\n<endEvent id=\"x\"><errorEventDefinition/></endEvent>"},
    {"EscalationThrowWithoutCode", "missing-escalation-code", Severity::kError, 5,
     S_TO("x") "\n<intermediateThrowEvent "
               "id=\"x\"><escalationEventDefinition/></intermediateThrowEvent>" TO_E("x")},
    {"LinkWithoutCatch", "link-unmatched", Severity::kError, 5,
     S_TO("x") "\n<intermediateThrowEvent id=\"x\"><linkEventDefinition "
               "name=\"A\"/></intermediateThrowEvent>"},
    {"TerminateOnStart", "event-not-allowed", Severity::kError, 4,
     "<startEvent id=\"s\"><terminateEventDefinition/></startEvent>" TO_E("s")},
    {"ErrorOnIntermediateCatch", "event-not-allowed", Severity::kError, 5,
     S_TO("c") "<intermediateCatchEvent "
               "id=\"c\">\n<errorEventDefinition/></intermediateCatchEvent>" TO_E("c")},
    {"SignalWithoutName", "missing-signal", Severity::kError, 5,
     S_TO("c") "<intermediateCatchEvent "
               "id=\"c\">\n<signalEventDefinition/></intermediateCatchEvent>" TO_E("c")},
    {"TwoEventDefinitions", "multiple-event-definitions", Severity::kError, 5,
     S_TO("c") "<intermediateCatchEvent "
               "id=\"c\"><timerEventDefinition><timeDuration>PT1M</timeDuration></"
               "timerEventDefinition>\n"
               "<messageEventDefinition/></intermediateCatchEvent>" TO_E("c")},
    {"ScriptTaskWithoutScript", "missing-script", Severity::kError, 5,
     S_TO("t") "\n<scriptTask id=\"t\"/>" TO_E("t")},
    {"CallActivityWithoutProcess", "missing-called-element", Severity::kError, 5,
     S_TO("t") "\n<callActivity id=\"t\"/>" TO_E("t")},
    {"MultiInstanceWithoutCollection", "missing-loop-collection", Severity::kError, 5,
     S_TO("t") "<task id=\"t\">\n<multiInstanceLoopCharacteristics/></task>" TO_E("t")},
    {"SubprocessWithoutStart", "no-start-event", Severity::kError, 5,
     S_TO("sub") "\n<subProcess id=\"sub\"><task id=\"in\"/></subProcess>" TO_E("sub")},
    {"SubprocessWithTimerStart", "subprocess-start-event", Severity::kError, 5,
     S_TO("sub") "<subProcess id=\"sub\">\n<startEvent "
                 "id=\"ss\"><timerEventDefinition><timeDuration>PT1M</timeDuration></"
                 "timerEventDefinition></startEvent>"
                 "<endEvent id=\"se\"/><sequenceFlow id=\"sf\" sourceRef=\"ss\" "
                 "targetRef=\"se\"/></subProcess>" TO_E("sub")},
    {"EventSubprocessWithoutTrigger", "event-subprocess", Severity::kError, 5,
     S_TO("e") "<endEvent id=\"e\"/><subProcess id=\"es\" triggeredByEvent=\"true\">\n<startEvent "
               "id=\"ss\"/>"
               "<endEvent id=\"se\"/><sequenceFlow id=\"sf\" sourceRef=\"ss\" "
               "targetRef=\"se\"/></subProcess>"},
    {"FlowIntoASubprocess", "flow-crosses-scope", Severity::kError, 5,
     S_TO("sub") "<subProcess id=\"sub\"><startEvent id=\"ss\"/><task id=\"in\"/><sequenceFlow "
                 "id=\"sf\" sourceRef=\"ss\" targetRef=\"in\"/></subProcess>" TO_E(
                     "sub") "\n<sequenceFlow id=\"cross\" sourceRef=\"s\" targetRef=\"in\"/>"},
    {"EventGatewayToATask", "event-gateway", Severity::kError, 6,
     S_TO("g") "<eventBasedGateway id=\"g\"/><task id=\"t\"/><endEvent id=\"e\"/>\n"
               "<receiveTask id=\"r\" messageRef=\"m\"/><sequenceFlow id=\"a\" sourceRef=\"g\" "
               "targetRef=\"r\"/>\n"
               "<sequenceFlow id=\"b\" sourceRef=\"g\" targetRef=\"t\"/>"},
    {"EventGatewayTargetWithOtherIncoming", "event-gateway", Severity::kError, 5,
     S_TO("g") "<eventBasedGateway id=\"g\"/><endEvent id=\"e\"/>\n"
               "<receiveTask id=\"r1\" messageRef=\"m\"/><receiveTask id=\"r2\" "
               "messageRef=\"m\"/>\n"
               "<sequenceFlow id=\"a\" sourceRef=\"g\" targetRef=\"r1\"/>"
               "<sequenceFlow id=\"b\" sourceRef=\"g\" targetRef=\"r2\"/>"
               "<sequenceFlow id=\"c\" sourceRef=\"r2\" targetRef=\"r1\"/>"
               "<sequenceFlow id=\"d\" sourceRef=\"r1\" targetRef=\"e\"/>"},
    {"ElementWithoutId", "missing-id", Severity::kError, 5,
     S_TO("e") "<endEvent id=\"e\"/>\n<task name=\"anonymous\"/>"},
};

void PrintTo(const RuleCase& c, std::ostream* os) {
  *os << c.name;
}

class RuleTest : public ::testing::TestWithParam<RuleCase> {};

TEST_P(RuleTest, FiresWithSeverityAndLine) {
  const RuleCase& c = GetParam();
  LoadResult r = load_bpmn(testing::bpmn("<message id=\"m\" name=\"m\"/>" +
                                         std::string("<process id=\"p\" isExecutable=\"true\">\n") +
                                         c.body + "\n</process>"),
                           "rule.bpmn");
  auto found = with_rule(r, c.rule);
  ASSERT_FALSE(found.empty()) << c.rule << " did not fire:\n" << dump(r);
  EXPECT_EQ(found[0].severity, c.severity) << dump(r);
  EXPECT_EQ(found[0].line, c.line) << dump(r);
  EXPECT_EQ(found[0].file, "rule.bpmn");
  EXPECT_FALSE(found[0].message.empty());
  EXPECT_EQ(r.ok(), c.severity == Severity::kWarning && !has_errors(r.diagnostics));
}

INSTANTIATE_TEST_SUITE_P(Rules, RuleTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<RuleCase>& param_info) {
                           return std::string(param_info.param.name);
                         });

TEST(Rules, CorrectedProcessesAreClean) {
  // The fixes the messages suggest make the diagnostics go away.
  LoadResult r = load_bpmn(process(R"(
<startEvent id="s"/>
<exclusiveGateway id="g" default="d"/>
<serviceTask id="t"><extensionElements><zeebe:taskDefinition type="x"/></extensionElements></serviceTask>
<intermediateCatchEvent id="c"><timerEventDefinition><timeDuration>PT30M</timeDuration></timerEventDefinition></intermediateCatchEvent>
<intermediateThrowEvent id="lt"><linkEventDefinition name="L"/></intermediateThrowEvent>
<intermediateCatchEvent id="lc"><linkEventDefinition name="L"/></intermediateCatchEvent>
<endEvent id="e"/>
<sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
<sequenceFlow id="f1" sourceRef="g" targetRef="t"><conditionExpression>=x &gt; 1</conditionExpression></sequenceFlow>
<sequenceFlow id="d" sourceRef="g" targetRef="c"/>
<sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
<sequenceFlow id="f3" sourceRef="c" targetRef="lt"/>
<sequenceFlow id="f4" sourceRef="lc" targetRef="e"/>)"));
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
}

TEST(Rules, ExpressionTimersAreLeftToTheCompiler) {
  LoadResult r = load_bpmn(
      process(S_TO("c") "<intermediateCatchEvent "
                        "id=\"c\"><timerEventDefinition><timeDuration>=timeout</timeDuration>"
                        "</timerEventDefinition></intermediateCatchEvent>" TO_E("c")));
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
}

TEST(Rules, UnreachableReportsOnlyTheOutermostElement) {
  LoadResult r = load_bpmn(process(
      S_TO("e") "<endEvent id=\"e\"/><subProcess id=\"lost\"><startEvent id=\"ls\"/><endEvent "
                "id=\"le\"/>"
                "<sequenceFlow id=\"lf\" sourceRef=\"ls\" targetRef=\"le\"/></subProcess>"));
  auto d = with_rule(r, "unreachable");
  ASSERT_EQ(d.size(), 1u) << dump(r);
  EXPECT_NE(d[0].message.find("'lost'"), std::string::npos);
}

TEST(Rules, BoundaryAndLinkTargetsAreReachable) {
  LoadResult r = load_bpmn(process(S_TO("t") "<task id=\"t\"/>" TO_E(
      "t") "<boundaryEvent id=\"b\" "
           "attachedToRef=\"t\"><timerEventDefinition><timeDuration>PT1M</timeDuration></"
           "timerEventDefinition></boundaryEvent>"
           "<intermediateThrowEvent id=\"go\"><linkEventDefinition "
           "name=\"L\"/></intermediateThrowEvent>"
           "<intermediateCatchEvent id=\"land\"><linkEventDefinition "
           "name=\"L\"/></intermediateCatchEvent>"
           "<endEvent id=\"e2\"/><sequenceFlow id=\"b1\" sourceRef=\"b\" targetRef=\"go\"/>"
           "<sequenceFlow id=\"b2\" sourceRef=\"land\" targetRef=\"e2\"/>"));
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
}

TEST(Rules, CalledElementsResolveAcrossFiles) {
  auto caller =
      load_bpmn(process(S_TO("c") "<callActivity id=\"c\"><extensionElements><zeebe:calledElement "
                                  "processId=\"child\"/>"
                                  "</extensionElements></callActivity>" TO_E("c"),
                        "parent"),
                "parent.bpmn");
  auto child = load_bpmn(process(S_TO("e") "<endEvent id=\"e\"/>", "child"), "child.bpmn");
  ASSERT_TRUE(caller.ok()) << dump(caller);
  auto alone = check_called_elements({caller.document});
  ASSERT_EQ(alone.size(), 1u);
  EXPECT_EQ(alone[0].rule, "unresolved-called-element");
  EXPECT_EQ(alone[0].severity, Severity::kWarning);
  EXPECT_EQ(alone[0].file, "parent.bpmn");
  EXPECT_TRUE(check_called_elements({caller.document, child.document}).empty());
}

TEST(Rules, ValidationCanBeSkipped) {
  LoadOptions options;
  options.validate = false;
  LoadResult r = load_bpmn(process("<task id=\"t\"/>"), "x", options);
  EXPECT_TRUE(r.ok()) << dump(r);
}

TEST(Rules, MessageThrowEventsNeedATaskType) {
  LoadResult r =
      load_bpmn(process(S_TO("m") "<intermediateThrowEvent id=\"m\"><messageEventDefinition/>"
                                  "</intermediateThrowEvent>" TO_E("m")));
  ASSERT_EQ(with_rule(r, "missing-task-type").size(), 1u) << dump(r);
}

TEST(Rules, ErrorWithoutCodeIsReportedOnceWhereItIsReferenced) {
  LoadResult thrown = load_bpmn(testing::bpmn(
      "<error id=\"err\" name=\"no code\"/><process id=\"p\" isExecutable=\"true\">" S_TO(
          "x") "<endEvent id=\"x\"><errorEventDefinition errorRef=\"err\"/></endEvent></process>"));
  auto d = with_rule(thrown, "missing-error-code");
  ASSERT_EQ(d.size(), 1u) << dump(thrown);
  EXPECT_EQ(d[0].severity, Severity::kError);

  LoadResult caught = load_bpmn(testing::bpmn(
      "<error id=\"err\" name=\"no code\"/><process id=\"p\" "
      "isExecutable=\"true\">" S_TO("t") "<task id=\"t\"/>" TO_E(
          "t") "<boundaryEvent id=\"b\" attachedToRef=\"t\"><errorEventDefinition "
               "errorRef=\"err\"/></boundaryEvent>"
               "<sequenceFlow id=\"bf\" sourceRef=\"b\" targetRef=\"e\"/></process>"));
  auto c = with_rule(caught, "missing-error-code");
  ASSERT_EQ(c.size(), 1u) << dump(caught);
  EXPECT_EQ(c[0].severity, Severity::kWarning);

  LoadResult dangling = load_bpmn(
      process(S_TO("x") "<endEvent id=\"x\"><errorEventDefinition errorRef=\"nope\"/></endEvent>"));
  EXPECT_EQ(with_rule(dangling, "unresolved-reference").size(), 1u);
  EXPECT_TRUE(with_rule(dangling, "missing-error-code").empty()) << dump(dangling);
}

TEST(Rules, ErrorEventsAlwaysInterrupt) {
  LoadResult r = load_bpmn(process(S_TO("t") "<task id=\"t\"/>" TO_E(
      "t") "<boundaryEvent id=\"b\" attachedToRef=\"t\" "
           "cancelActivity=\"false\"><errorEventDefinition/></boundaryEvent>"
           "<sequenceFlow id=\"bf\" sourceRef=\"b\" targetRef=\"e\"/>"));
  ASSERT_EQ(with_rule(r, "event-not-allowed").size(), 1u) << dump(r);
}

TEST(Rules, DefaultOnlyWhereThereIsAChoice) {
  LoadResult r =
      load_bpmn(process(S_TO("g") "<parallelGateway id=\"g\" default=\"a\"/><endEvent id=\"e\"/>"
                                  "<sequenceFlow id=\"a\" sourceRef=\"g\" targetRef=\"e\"/>"));
  ASSERT_EQ(with_rule(r, "default-not-allowed").size(), 1u) << dump(r);
}

TEST(Rules, CompensationHandlersAreNotUnreachable) {
  LoadResult r = load_bpmn(process(
      S_TO("t") "<task id=\"t\"/>" TO_E("t") "<task id=\"undo\" isForCompensation=\"true\"/>"));
  EXPECT_TRUE(with_rule(r, "unreachable").empty()) << dump(r);
  EXPECT_TRUE(with_rule(r, "implicit-end").empty()) << dump(r);
}

TEST(Rules, OneProblemOneDiagnostic) {
  // An unsupported implementation is not also a missing task type.
  LoadResult dmn = load_bpmn(process(S_TO(
      "t") "<businessRuleTask id=\"t\"><extensionElements><zeebe:calledDecision decisionId=\"d\"/>"
           "</extensionElements></businessRuleTask>" TO_E("t")));
  EXPECT_EQ(dmn.diagnostics.size(), 1u) << dump(dmn);
  // Flows touching an unsupported element are not also dangling.
  LoadResult complex = load_bpmn(process(S_TO("c") "<complexGateway id=\"c\"/>" TO_E("c")));
  EXPECT_TRUE(with_rule(complex, "unresolved-reference").empty()) << dump(complex);
  // An untriggered start in an event subprocess is one diagnostic.
  LoadResult sub = load_bpmn(process(S_TO("e") "<endEvent id=\"e\"/><subProcess id=\"es\" "
                                               "triggeredByEvent=\"true\"><startEvent id=\"ss\"/>"
                                               "<endEvent id=\"se\"/><sequenceFlow id=\"sf\" "
                                               "sourceRef=\"ss\" targetRef=\"se\"/></subProcess>"));
  EXPECT_EQ(sub.diagnostics.size(), 1u) << dump(sub);
  // A gateway with an always-taken flow does not also claim an incident.
  LoadResult gw = load_bpmn(process(
      S_TO("g") "<exclusiveGateway id=\"g\"/><endEvent id=\"e\"/>"
                "<sequenceFlow id=\"a\" sourceRef=\"g\" "
                "targetRef=\"e\"><conditionExpression>=x</conditionExpression></sequenceFlow>"
                "<sequenceFlow id=\"b\" sourceRef=\"g\" targetRef=\"e\"/>"));
  EXPECT_EQ(with_rule(gw, "missing-condition").size(), 1u) << dump(gw);
  EXPECT_TRUE(with_rule(gw, "gateway-no-default").empty()) << dump(gw);
}

}  // namespace
}  // namespace ordo
