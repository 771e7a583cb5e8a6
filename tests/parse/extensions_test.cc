#include <gtest/gtest.h>

#include "test_util.h"

namespace ordo {
namespace {

using testing::dump;
using testing::process;
using testing::straight;
using testing::with_rule;

const Element& only(const LoadResult& r, std::string_view id) {
  return *r.document->processes.at(0)->find_element(id);
}

TEST(ZeebeExtensions, TaskDefinitionHeadersAndIoMapping) {
  LoadResult r = load_bpmn(process(straight(R"(<serviceTask id="t">
  <extensionElements>
    <zeebe:taskDefinition type="payment.charge" retries="5"/>
    <zeebe:taskHeaders><zeebe:header key="template" value="order-confirmation"/></zeebe:taskHeaders>
    <zeebe:ioMapping>
      <zeebe:input source="=order.total" target="amount"/>
      <zeebe:output source="=response.id" target="paymentId"/>
    </zeebe:ioMapping>
  </extensionElements>
</serviceTask>)")));
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  const Element& t = only(r, "t");
  EXPECT_EQ(t.task.type.text, "payment.charge");
  EXPECT_EQ(t.task.type.dialect, ExpressionDialect::kStatic);
  EXPECT_EQ(t.task.retries.text, "5");
  EXPECT_EQ(t.task.origin, TaskTypeOrigin::kZeebe);
  ASSERT_EQ(t.headers.size(), 1u);
  EXPECT_EQ(t.headers[0].key, "template");
  EXPECT_EQ(t.headers[0].value, "order-confirmation");
  ASSERT_EQ(t.inputs.size(), 1u);
  EXPECT_EQ(t.inputs[0].source.dialect, ExpressionDialect::kFeel);
  EXPECT_EQ(t.inputs[0].source.text, "order.total");
  EXPECT_EQ(t.inputs[0].target, "amount");
  ASSERT_EQ(t.outputs.size(), 1u);
  EXPECT_EQ(t.outputs[0].target, "paymentId");
}

TEST(ZeebeExtensions, TaskTypeMayBeAnExpression) {
  LoadResult r = load_bpmn(process(straight(
      R"(<serviceTask id="t"><extensionElements><zeebe:taskDefinition type="=&quot;erp.&quot; + op"/></extensionElements></serviceTask>)")));
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(only(r, "t").task.type.dialect, ExpressionDialect::kFeel);
  EXPECT_EQ(only(r, "t").task.type.text, "\"erp.\" + op");
}

TEST(ZeebeExtensions, CalledElementLoopAndScript) {
  LoadResult r = load_bpmn(process(R"X(
<startEvent id="s"/>
<callActivity id="call">
  <extensionElements><zeebe:calledElement processId="ship-item" propagateAllChildVariables="false"/></extensionElements>
  <multiInstanceLoopCharacteristics isSequential="true">
    <extensionElements>
      <zeebe:loopCharacteristics inputCollection="=items" inputElement="item" outputCollection="results" outputElement="=result"/>
    </extensionElements>
    <completionCondition>=numberOfCompletedInstances &gt;= 2</completionCondition>
  </multiInstanceLoopCharacteristics>
</callActivity>
<scriptTask id="total"><extensionElements><zeebe:script expression="=sum(items.price)" resultVariable="total"/></extensionElements></scriptTask>
<endEvent id="e"/>
<sequenceFlow id="f1" sourceRef="s" targetRef="call"/>
<sequenceFlow id="f2" sourceRef="call" targetRef="total"/>
<sequenceFlow id="f3" sourceRef="total" targetRef="e"/>)X"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const Element& call = only(r, "call");
  EXPECT_EQ(call.called.process_id.text, "ship-item");
  EXPECT_FALSE(call.called.propagate_all_child_variables);
  EXPECT_TRUE(call.called.propagate_all_parent_variables);
  EXPECT_TRUE(call.loop.present);
  EXPECT_TRUE(call.loop.sequential);
  EXPECT_EQ(call.loop.input_collection.text, "items");
  EXPECT_EQ(call.loop.input_element, "item");
  EXPECT_EQ(call.loop.output_collection, "results");
  EXPECT_EQ(call.loop.output_element.text, "result");
  EXPECT_EQ(call.loop.completion_condition.text, "numberOfCompletedInstances >= 2");
  const Element& script = only(r, "total");
  EXPECT_EQ(script.script.text, "sum(items.price)");
  EXPECT_EQ(script.result_variable, "total");
}

TEST(ZeebeExtensions, UnknownExtensionIsAWarning) {
  LoadResult r = load_bpmn(process(straight(R"(<serviceTask id="t"><extensionElements>
  <zeebe:taskDefinition type="x"/>
  <zeebe:somethingNew/>
  <acme:thing xmlns:acme="urn:acme"/>
</extensionElements></serviceTask>)")));
  EXPECT_TRUE(r.ok()) << dump(r);
  auto d = with_rule(r, "unknown-extension");
  ASSERT_EQ(d.size(), 2u) << dump(r);
  EXPECT_EQ(d[0].severity, Severity::kWarning);
  EXPECT_EQ(d[0].line, 7u);
  EXPECT_EQ(d[1].line, 8u);
}

TEST(ZeebeExtensions, CalledDecision) {
  LoadResult r = load_bpmn(process(straight(
      R"(<businessRuleTask id="t"><extensionElements><zeebe:calledDecision decisionId="d" resultVariable="r"/></extensionElements></businessRuleTask>)")));
  ASSERT_TRUE(r.ok()) << dump(r);
  const Element& t = only(r, "t");
  EXPECT_EQ(t.decision.decision_id.text, "d");
  EXPECT_EQ(t.decision.decision_id.dialect, ExpressionDialect::kStatic);
  EXPECT_EQ(t.decision.result_variable, "r");
  EXPECT_FALSE(runs_as_job(t));
  // Zeebe needs the result variable; a task type beside the decision is one too many.
  r = load_bpmn(process(straight(
      R"(<businessRuleTask id="t"><extensionElements><zeebe:calledDecision decisionId="=kind"/></extensionElements></businessRuleTask>)")));
  EXPECT_EQ(with_rule(r, "missing-result-variable").size(), 1u) << dump(r);
  r = load_bpmn(process(straight(
      R"(<businessRuleTask id="t"><extensionElements><zeebe:calledDecision resultVariable="r"/></extensionElements></businessRuleTask>)")));
  EXPECT_EQ(with_rule(r, "missing-decision-id").size(), 1u) << dump(r);
  EXPECT_EQ(with_rule(r, "missing-task-type").size(), 0u) << dump(r);
  r = load_bpmn(process(straight(
      R"(<businessRuleTask id="t"><extensionElements><zeebe:calledDecision decisionId="d" resultVariable="r"/><zeebe:taskDefinition type="x"/></extensionElements></businessRuleTask>)")));
  EXPECT_EQ(with_rule(r, "decision-and-job").size(), 1u) << dump(r);
}

TEST(Camunda7Extensions, DecisionRef) {
  LoadResult r = load_bpmn(process(straight(
      R"(<businessRuleTask id="t" camunda:mapDecisionResult="singleEntry" camunda:decisionRef="d" camunda:resultVariable="r" camunda:decisionRefBinding="version"/>)")));
  ASSERT_TRUE(r.ok()) << dump(r);
  const Element& t = only(r, "t");
  EXPECT_EQ(t.decision.decision_id.text, "d");
  EXPECT_EQ(t.decision.result_variable, "r");
  EXPECT_EQ(t.decision.mapping, DecisionResultMapping::kSingleEntry);
  EXPECT_EQ(with_rule(r, "decision-binding").size(), 1u) << dump(r);
  r = load_bpmn(process(straight(
      R"(<businessRuleTask id="t" camunda:decisionRef="d" camunda:mapDecisionResult="firstOnly"/>)")));
  EXPECT_EQ(with_rule(r, "invalid-decision-result-mapping").size(), 1u) << dump(r);
  // Without a mapping, Camunda 7's default: a list of results.
  r = load_bpmn(process(straight(R"(<businessRuleTask id="t" camunda:decisionRef="d"/>)")));
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(only(r, "t").decision.mapping, DecisionResultMapping::kResultList);
}

TEST(Camunda7Extensions, ExternalTopicAsyncAndJuel) {
  LoadResult r = load_bpmn(process(straight(
      R"(<serviceTask id="t" camunda:type="external" camunda:topic="erp.reserve" camunda:asyncBefore="true"/>)")));
  ASSERT_TRUE(r.ok()) << dump(r);
  const Element& t = only(r, "t");
  EXPECT_EQ(t.task.type.text, "erp.reserve");
  EXPECT_EQ(t.task.origin, TaskTypeOrigin::kCamundaExternal);
  EXPECT_TRUE(t.async_before);
  EXPECT_FALSE(t.async_after);
}

TEST(Camunda7Extensions, ActivitiNamespaceCountsAsCamunda) {
  std::string xml = process(straight(
      R"(<serviceTask id="t" a:type="external" a:topic="x" xmlns:a="http://activiti.org/bpmn"/>)"));
  LoadResult r = load_bpmn(xml);
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(only(r, "t").task.type.text, "x");
}

TEST(Camunda7Extensions, JavaDelegateBecomesAJobTypeWithAWarning) {
  LoadResult r =
      load_bpmn(process(straight(R"(<serviceTask id="t" camunda:class="org.acme.Charge"/>)")));
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(only(r, "t").task.type.text, "org.acme.Charge");
  EXPECT_EQ(only(r, "t").task.origin, TaskTypeOrigin::kCamundaClass);
  EXPECT_EQ(with_rule(r, "java-delegate").size(), 1u);
}

TEST(Camunda7Extensions, CollectionLoopAndRetryCycle) {
  LoadResult r =
      load_bpmn(process(straight(R"(<serviceTask id="t" camunda:type="external" camunda:topic="x">
  <extensionElements><camunda:failedJobRetryTimeCycle>R5/PT1M</camunda:failedJobRetryTimeCycle></extensionElements>
  <multiInstanceLoopCharacteristics camunda:collection="${items}" camunda:elementVariable="item"/>
</serviceTask>)")));
  ASSERT_TRUE(r.ok()) << dump(r);
  const Element& t = only(r, "t");
  EXPECT_EQ(t.task.retry_backoff.text, "R5/PT1M");
  EXPECT_EQ(t.loop.input_collection.dialect, ExpressionDialect::kJuel);
  EXPECT_EQ(t.loop.input_element, "item");
}

TEST(Camunda7Extensions, GroovyScriptIsRejectedWithAHint) {
  LoadResult r = load_bpmn(process(straight(
      R"(<scriptTask id="t" scriptFormat="groovy"><script>println 'hi'</script></scriptTask>)")));
  auto d = with_rule(r, "unsupported-script");
  ASSERT_EQ(d.size(), 1u) << dump(r);
  EXPECT_NE(d[0].message.find("zeebe:script"), std::string::npos);
  EXPECT_TRUE(with_rule(r, "missing-script").empty());
}

TEST(Camunda7Extensions, ListenersAreIgnoredWithAWarning) {
  LoadResult r = load_bpmn(process(straight(R"(<task id="t"><extensionElements>
  <camunda:executionListener class="org.acme.L" event="start"/></extensionElements></task>)")));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(with_rule(r, "ignored-extension").size(), 1u) << dump(r);
}

// A message catch whose correlation key is fixed text (or none) is reached by every
// instance's message: a warning. Files of Zeebe Modeler before 1.0 meant a plain key as the
// variable's name: it is read so, with a warning saying how it is written today.
TEST(ZeebeExtensions, AFixedCorrelationKeyWarnsAndALegacyOneIsAVariable) {
  const auto file = [](std::string_view exporter, std::string_view key) {
    std::string xml = testing::bpmn(
        "<message id=\"m\" name=\"paid\"><extensionElements><zeebe:subscription "
        "correlationKey=\"" + std::string(key) + "\"/></extensionElements></message>\n"
        "<process id=\"p\" isExecutable=\"true\"><startEvent id=\"s\"/>"
        "<intermediateCatchEvent id=\"w\"><messageEventDefinition messageRef=\"m\"/>"
        "</intermediateCatchEvent><endEvent id=\"e\"/>"
        "<sequenceFlow id=\"a\" sourceRef=\"s\" targetRef=\"w\"/>"
        "<sequenceFlow id=\"b\" sourceRef=\"w\" targetRef=\"e\"/></process>");
    xml.replace(xml.find("id=\"defs\""), 9, "id=\"defs\" " + std::string(exporter));
    return load_bpmn(xml, "m.bpmn");
  };
  const LoadResult fixed = file("", "orderId");
  ASSERT_TRUE(fixed.ok()) << dump(fixed);
  ASSERT_EQ(with_rule(fixed, "static-correlation-key").size(), 1u) << dump(fixed);
  EXPECT_NE(with_rule(fixed, "static-correlation-key")[0].message.find("fixed correlation key"),
            std::string::npos);
  const LoadResult variable = file("", "=orderId");
  EXPECT_TRUE(with_rule(variable, "static-correlation-key").empty()) << dump(variable);

  const LoadResult legacy =
      file("exporter=\"Zeebe Modeler\" exporterVersion=\"0.11.0\"", "orderId");
  ASSERT_TRUE(legacy.ok()) << dump(legacy);
  EXPECT_EQ(with_rule(legacy, "legacy-correlation-key").size(), 1u) << dump(legacy);
  EXPECT_TRUE(with_rule(legacy, "static-correlation-key").empty()) << dump(legacy);
  const Element& w = legacy.document->processes[0]->elements[1];
  EXPECT_EQ(w.event.correlation_key.dialect, ExpressionDialect::kFeel);
  EXPECT_EQ(w.event.correlation_key.text, "orderId");
  const LoadResult modern =
      file("exporter=\"Zeebe Modeler\" exporterVersion=\"1.2.0\"", "orderId");
  EXPECT_EQ(with_rule(modern, "static-correlation-key").size(), 1u) << dump(modern);
}

}  // namespace
}  // namespace ordo
