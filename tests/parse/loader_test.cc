#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"

namespace ordo {
namespace {

using testing::bpmn;
using testing::dump;
using testing::process;
using testing::straight;
using testing::with_rule;

const char* kPrefixedTemplate = R"(<?xml version="1.0"?>
<PFX:definitions xmlns:PFX="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <PFX:process id="p" isExecutable="true">
    <PFX:startEvent id="s"/>
    <PFX:endEvent id="e"/>
    <PFX:sequenceFlow id="f" sourceRef="s" targetRef="e"/>
  </PFX:process>
</PFX:definitions>)";

TEST(Loader, RecognisesBpmnNamespaceByUriWhateverThePrefix) {
  for (std::string prefix : {"bpmn", "bpmn2", "semantic", "model", "x"}) {
    std::string xml = kPrefixedTemplate;
    for (std::size_t pos; (pos = xml.find("PFX")) != std::string::npos;) {
      xml.replace(pos, 3, prefix);
    }
    LoadResult r = load_bpmn(xml, "prefixed.bpmn");
    ASSERT_TRUE(r.ok()) << prefix << "\n" << dump(r);
    ASSERT_EQ(r.document->processes.size(), 1u);
    EXPECT_EQ(r.document->processes[0]->elements.size(), 2u) << prefix;
  }
}

TEST(Loader, DefaultNamespaceWorks) {
  LoadResult r = load_bpmn(process(straight("<task id=\"t\"/>")));
  ASSERT_TRUE(r.ok()) << dump(r);
  const ProcessDefinition& p = *r.document->processes[0];
  EXPECT_EQ(p.id, "p");
  ASSERT_NE(p.find_element("t"), nullptr);
  EXPECT_EQ(p.find_element("t")->kind, ElementKind::kTask);
}

TEST(Loader, SamePrefixBoundToAnotherNamespaceIsNotBpmn) {
  // "bpmn" bound to a foreign URI: the element is not a BPMN definitions element.
  LoadResult r = load_bpmn(R"(<bpmn:definitions xmlns:bpmn="urn:other"/>)", "x.bpmn");
  EXPECT_EQ(r.document, nullptr);
  ASSERT_EQ(with_rule(r, "not-bpmn").size(), 1u) << dump(r);
}

TEST(Loader, MalformedXmlReportsParserMessageAndPosition) {
  std::string xml =
      "<definitions xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">\n"
      "  <process id=\"p\">\n"
      "    <startEvent id=\"s\">\n"
      "  </process>\n";
  LoadResult r = load_bpmn(xml, "broken.bpmn");
  EXPECT_EQ(r.document, nullptr);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  const Diagnostic& d = r.diagnostics[0];
  EXPECT_EQ(d.rule, "xml-syntax");
  EXPECT_EQ(d.severity, Severity::kError);
  EXPECT_EQ(d.file, "broken.bpmn");
  EXPECT_EQ(d.line, 4u);
  EXPECT_NE(d.message.find("not well-formed"), std::string::npos);
}

TEST(Loader, EmptyInputIsAnXmlError) {
  LoadResult r = load_bpmn("", "empty.bpmn");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(with_rule(r, "xml-syntax").size(), 1u);
}

TEST(Loader, MissingFileIsOneClearDiagnostic) {
  LoadResult r = load_bpmn_file("/nonexistent/order.bpmn");
  EXPECT_EQ(r.document, nullptr);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].rule, "file-unreadable");
  EXPECT_NE(r.diagnostics[0].message.find("No such file"), std::string::npos);
  EXPECT_EQ(format_diagnostic(r.diagnostics[0]).rfind("/nonexistent/order.bpmn: error: ", 0), 0u);
}

TEST(Loader, DirectoryIsUnreadable) {
  LoadResult r = load_bpmn_file(ORDO_SOURCE_DIR);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].rule, "file-unreadable");
  EXPECT_NE(r.diagnostics[0].message.find("directory"), std::string::npos);
}

TEST(Loader, ElementsKnowTheirLineAndColumn) {
  LoadResult r =
      load_bpmn(process("<startEvent id=\"s\"/>\n  <endEvent id=\"e\"/>\n"
                        "<sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"e\"/>"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const ProcessDefinition& p = *r.document->processes[0];
  EXPECT_EQ(p.find_element("s")->location.line, 4u);
  EXPECT_EQ(p.find_element("s")->location.column, 1u);
  EXPECT_EQ(p.find_element("e")->location.line, 5u);
  EXPECT_EQ(p.find_element("e")->location.column, 3u);
  EXPECT_EQ(p.flows[0].location.line, 6u);
}

TEST(Loader, ColumnsCountCharactersNotBytes) {
  LoadResult r = load_bpmn(process("<task id=\"ü\" name=\"Größe\"/><task id=\"t2\"/>"));
  const ProcessDefinition& p = *r.document->processes[0];
  // <task id="ü" name="Größe"/> is 27 characters (30 bytes).
  EXPECT_EQ(p.find_element("t2")->location.column, 28u);
  EXPECT_EQ(p.find_element("ü")->name, "Größe");
}

// On a line tens of kilobytes long (a file written on one line), columns still count
// characters from the line's start, across the multi-byte ones before them.
TEST(Loader, ColumnsOnAVeryLongLineCountEveryCharacterBeforeThem) {
  std::string body;
  for (int i = 0; i < 2000; ++i) {
    body += "<task id=\"t" + std::to_string(i) + "\" name=\"Größe ü\"/>";
  }
  const std::string xml = process(body);
  LoadResult r = load_bpmn(xml);
  ASSERT_TRUE(r.document) << dump(r);
  const ProcessDefinition& p = *r.document->processes[0];
  for (int i : {0, 1, 500, 1999}) {
    const std::string tag = "<task id=\"t" + std::to_string(i) + "\"";
    const std::size_t at = xml.find(tag);
    const std::size_t line_start = xml.rfind('\n', at) + 1;
    std::uint32_t column = 1;
    for (std::size_t k = line_start; k < at; ++k) {
      if ((static_cast<unsigned char>(xml[k]) & 0xC0) != 0x80) ++column;
    }
    const Element* e = p.find_element("t" + std::to_string(i));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->location.column, column) << "t" << i;
  }
}

TEST(Loader, SequenceFlowsConnectElementsInDocumentOrder) {
  LoadResult r = load_bpmn(process(R"(
<startEvent id="s"/>
<exclusiveGateway id="g" default="f-default"/>
<task id="a"/><task id="b"/><endEvent id="e"/>
<sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
<sequenceFlow id="f-b" sourceRef="g" targetRef="b">
  <conditionExpression xsi:type="tFormalExpression">=x &gt; 1</conditionExpression>
</sequenceFlow>
<sequenceFlow id="f-default" sourceRef="g" targetRef="a"/>
<sequenceFlow id="fa" sourceRef="a" targetRef="e"/>
<sequenceFlow id="fb" sourceRef="b" targetRef="e"/>)"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const ProcessDefinition& p = *r.document->processes[0];
  const Element& g = *p.find_element("g");
  ASSERT_EQ(g.outgoing.size(), 2u);
  EXPECT_EQ(p.flows[g.outgoing[0]].id, "f-b");
  EXPECT_EQ(p.flows[g.outgoing[1]].id, "f-default");
  EXPECT_EQ(p.flows[g.default_flow].id, "f-default");
  EXPECT_TRUE(p.flows[g.outgoing[1]].is_default);
  const SequenceFlow& fb = p.flows[g.outgoing[0]];
  EXPECT_EQ(fb.condition.dialect, ExpressionDialect::kFeel);
  EXPECT_EQ(fb.condition.text, "x > 1");
  EXPECT_EQ(fb.condition.location.line, 10u);
  EXPECT_EQ(p.elements[fb.source].id, "g");
  EXPECT_EQ(p.elements[fb.target].id, "b");
  EXPECT_EQ(p.find_element("e")->incoming.size(), 2u);
}

TEST(Loader, ConditionDialects) {
  LoadResult r = load_bpmn(process(R"(
<startEvent id="s"/><exclusiveGateway id="g" default="d"/><endEvent id="e"/>
<sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
<sequenceFlow id="juel" sourceRef="g" targetRef="e"><conditionExpression>${input == 1}</conditionExpression></sequenceFlow>
<sequenceFlow id="bare" sourceRef="g" targetRef="e"><conditionExpression>price &lt; 0</conditionExpression></sequenceFlow>
<sequenceFlow id="cdata" sourceRef="g" targetRef="e"><conditionExpression><![CDATA[= a < b]]></conditionExpression></sequenceFlow>
<sequenceFlow id="d" sourceRef="g" targetRef="e"/>)"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const ProcessDefinition& p = *r.document->processes[0];
  const SequenceFlow& juel = p.flows[p.flow_index("juel")];
  EXPECT_EQ(juel.condition.dialect, ExpressionDialect::kJuel);
  EXPECT_EQ(juel.condition.text, "${input == 1}");
  // A condition is always an expression: bare text is FEEL.
  EXPECT_EQ(p.flows[p.flow_index("bare")].condition.dialect, ExpressionDialect::kFeel);
  EXPECT_EQ(p.flows[p.flow_index("bare")].condition.text, "price < 0");
  EXPECT_EQ(p.flows[p.flow_index("cdata")].condition.text, "a < b");
}

TEST(Loader, SeveralProcessesAndACollaborationLoad) {
  LoadResult r = load_bpmn(bpmn(R"(
<collaboration id="c">
  <participant id="shop" name="Shop" processRef="p1"/>
  <participant id="warehouse" name="Warehouse" processRef="p2"/>
  <messageFlow id="mf" sourceRef="t1" targetRef="s2"/>
</collaboration>
<process id="p1" isExecutable="true">
  <startEvent id="s1"/><task id="t1"/><endEvent id="e1"/>
  <sequenceFlow id="a1" sourceRef="s1" targetRef="t1"/>
  <sequenceFlow id="a2" sourceRef="t1" targetRef="e1"/>
</process>
<process id="p2" isExecutable="true">
  <laneSet id="ls"><lane id="l1"><flowNodeRef>s2</flowNodeRef></lane></laneSet>
  <startEvent id="s2"/><endEvent id="e2"/>
  <sequenceFlow id="b1" sourceRef="s2" targetRef="e2"/>
</process>
<process id="customer" isExecutable="false"/>)"));
  ASSERT_TRUE(r.document);
  EXPECT_FALSE(has_errors(r.diagnostics)) << dump(r);
  ASSERT_EQ(r.document->processes.size(), 2u);
  EXPECT_EQ(r.document->processes[1]->id, "p2");
  ASSERT_EQ(r.document->participants.size(), 2u);
  EXPECT_EQ(r.document->participants[1].process_ref, "p2");
  ASSERT_EQ(r.document->message_flows.size(), 1u);
  EXPECT_EQ(r.document->message_flows[0].target_ref, "s2");
  ASSERT_EQ(with_rule(r, "not-executable").size(), 1u);
  EXPECT_NE(r.document->find_process("p1"), nullptr);
  EXPECT_EQ(r.document->find_process("customer"), nullptr);
}

TEST(Loader, BoundaryEventsKnowTheirActivity) {
  LoadResult r = load_bpmn(process(R"(
<startEvent id="s"/><task id="t"/><endEvent id="e"/><endEvent id="e2"/>
<boundaryEvent id="b" attachedToRef="t" cancelActivity="false">
  <timerEventDefinition><timeCycle>R3/PT10M</timeCycle></timerEventDefinition>
</boundaryEvent>
<boundaryEvent id="b2" attachedToRef="t"><errorEventDefinition/></boundaryEvent>
<sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
<sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
<sequenceFlow id="f3" sourceRef="b" targetRef="e2"/>
<sequenceFlow id="f4" sourceRef="b2" targetRef="e2"/>)"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const ProcessDefinition& p = *r.document->processes[0];
  const Element& b = *p.find_element("b");
  EXPECT_EQ(b.kind, ElementKind::kBoundaryEvent);
  EXPECT_EQ(p.elements[b.attached_to].id, "t");
  EXPECT_FALSE(b.cancel_activity);
  EXPECT_EQ(b.event.type, EventType::kTimer);
  EXPECT_EQ(b.event.timer_type, TimerType::kCycle);
  EXPECT_EQ(b.event.timer.text, "R3/PT10M");
  EXPECT_TRUE(p.find_element("b2")->cancel_activity);
  EXPECT_TRUE(p.find_element("b2")->event.code.empty());  // catches every error
  EXPECT_EQ(p.find_element("t")->boundary_events.size(), 2u);
}

TEST(Loader, EventDefinitionsCarryResolvedParameters) {
  LoadResult r = load_bpmn(bpmn(R"(
<message id="m" name="payment-confirmed">
  <extensionElements><zeebe:subscription correlationKey="=orderId"/></extensionElements>
</message>
<error id="err" name="Declined" errorCode="PAYMENT_DECLINED"/>
<escalation id="esc" name="Late" escalationCode="LATE"/>
<signal id="sig" name="stock-changed"/>
<process id="p" isExecutable="true">
  <startEvent id="s"/>
  <intermediateCatchEvent id="wait"><messageEventDefinition messageRef="m"/></intermediateCatchEvent>
  <intermediateThrowEvent id="esc-throw"><escalationEventDefinition escalationRef="esc"/></intermediateThrowEvent>
  <intermediateThrowEvent id="go"><linkEventDefinition name="next"/></intermediateThrowEvent>
  <intermediateCatchEvent id="land"><linkEventDefinition name="next"/></intermediateCatchEvent>
  <endEvent id="fail"><errorEventDefinition errorRef="err"/></endEvent>
  <endEvent id="stop"><terminateEventDefinition/></endEvent>
  <sequenceFlow id="f1" sourceRef="s" targetRef="wait"/>
  <sequenceFlow id="f2" sourceRef="wait" targetRef="esc-throw"/>
  <sequenceFlow id="f3" sourceRef="esc-throw" targetRef="go"/>
  <sequenceFlow id="f4" sourceRef="land" targetRef="fail"/>
</process>)"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const ProcessDefinition& p = *r.document->processes[0];
  const EventDefinition& wait = p.find_element("wait")->event;
  EXPECT_EQ(wait.type, EventType::kMessage);
  EXPECT_EQ(wait.message_name.text, "payment-confirmed");
  EXPECT_EQ(wait.correlation_key.dialect, ExpressionDialect::kFeel);
  EXPECT_EQ(wait.correlation_key.text, "orderId");
  EXPECT_EQ(p.find_element("fail")->event.code, "PAYMENT_DECLINED");
  EXPECT_EQ(p.find_element("fail")->event.ref_name, "Declined");
  EXPECT_EQ(p.find_element("esc-throw")->event.code, "LATE");
  EXPECT_EQ(p.find_element("go")->event.link_name, "next");
  EXPECT_EQ(p.find_element("stop")->event.type, EventType::kTerminate);
  ASSERT_EQ(r.document->signals.size(), 1u);
  EXPECT_EQ(r.document->errors[0].code, "PAYMENT_DECLINED");
}

TEST(Loader, SubprocessesAreScopes) {
  LoadResult r = load_bpmn(process(R"(
<startEvent id="s"/>
<subProcess id="sub">
  <startEvent id="sub-s"/><task id="inner"/><endEvent id="sub-e"/>
  <sequenceFlow id="i1" sourceRef="sub-s" targetRef="inner"/>
  <sequenceFlow id="i2" sourceRef="inner" targetRef="sub-e"/>
</subProcess>
<subProcess id="handler" triggeredByEvent="true">
  <startEvent id="h-s" isInterrupting="false"><timerEventDefinition><timeDuration>PT1H</timeDuration></timerEventDefinition></startEvent>
  <endEvent id="h-e"/>
  <sequenceFlow id="h1" sourceRef="h-s" targetRef="h-e"/>
</subProcess>
<endEvent id="e"/>
<sequenceFlow id="f1" sourceRef="s" targetRef="sub"/>
<sequenceFlow id="f2" sourceRef="sub" targetRef="e"/>)"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const ProcessDefinition& p = *r.document->processes[0];
  ElementIndex sub = p.element_index("sub");
  EXPECT_EQ(p.elements[sub].kind, ElementKind::kSubProcess);
  EXPECT_EQ(p.find_element("inner")->scope, sub);
  EXPECT_EQ(p.find_element("s")->scope, kNoIndex);
  ElementIndex handler = p.element_index("handler");
  EXPECT_EQ(p.elements[handler].kind, ElementKind::kEventSubProcess);
  EXPECT_FALSE(p.find_element("h-s")->interrupting);
  EXPECT_EQ(p.start_events(kNoIndex).size(), 1u);
  EXPECT_EQ(p.start_events(sub).size(), 1u);
  EXPECT_EQ(p.children(handler).size(), 2u);
}

TEST(Loader, DocumentationAndNamesAreKept) {
  LoadResult r = load_bpmn(process(R"(<documentation>Handles orders.</documentation>
<startEvent id="s" name="Order &amp; more"><documentation>
  Starts here.
</documentation></startEvent><endEvent id="e"/>
<sequenceFlow id="f" sourceRef="s" targetRef="e"/>)"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const ProcessDefinition& p = *r.document->processes[0];
  EXPECT_EQ(p.documentation, "Handles orders.");
  EXPECT_EQ(p.find_element("s")->name, "Order & more");
  EXPECT_EQ(p.find_element("s")->documentation, "Starts here.");
}

TEST(Loader, DuplicateIdsAreReportedAtTheSecondUse) {
  LoadResult r =
      load_bpmn(process("<startEvent id=\"s\"/>\n<endEvent id=\"s\"/>\n"
                        "<sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"s\"/>"));
  auto d = with_rule(r, "duplicate-id");
  ASSERT_EQ(d.size(), 1u) << dump(r);
  EXPECT_EQ(d[0].line, 5u);
  EXPECT_EQ(d[0].column, 11u);  // at the id attribute
  EXPECT_NE(d[0].message.find("line 4"), std::string::npos);
}

TEST(Loader, DanglingReferencesAreErrorsAtTheAttribute) {
  LoadResult r = load_bpmn(process(R"(<startEvent id="s"/><endEvent id="e"/>
<sequenceFlow id="f" sourceRef="s" targetRef="nowhere"/>
<boundaryEvent id="b" attachedToRef="ghost"><messageEventDefinition messageRef="no-msg"/></boundaryEvent>
<exclusiveGateway id="g" default="no-flow"/>
<endEvent id="x"><errorEventDefinition errorRef="no-err"/></endEvent>)"));
  auto d = with_rule(r, "unresolved-reference");
  ASSERT_EQ(d.size(), 5u) << dump(r);
  EXPECT_EQ(d[0].line, 5u);
  EXPECT_EQ(d[0].column, 36u);  // targetRef=
  EXPECT_NE(d[0].message.find("'nowhere'"), std::string::npos);
  std::string all = dump(r);
  for (const char* ref : {"'ghost'", "'no-msg'", "'no-flow'", "'no-err'"}) {
    EXPECT_NE(all.find(ref), std::string::npos) << ref;
  }
}

TEST(Loader, DefaultMustLeaveItsGateway) {
  LoadResult r = load_bpmn(process(R"(<startEvent id="s"/><exclusiveGateway id="g" default="f0"/>
<endEvent id="e"/>
<sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
<sequenceFlow id="f1" sourceRef="g" targetRef="e"/>)"));
  ASSERT_EQ(with_rule(r, "default-not-outgoing").size(), 1u) << dump(r);
}

TEST(Loader, UnsupportedElementsAreNamedWithTheirLine) {
  LoadResult r =
      load_bpmn(process("<startEvent id=\"s\"/>\n<complexGateway id=\"c\"/>\n"
                        "<adHocSubProcess id=\"adhoc\"/>"));
  auto d = with_rule(r, "unsupported-element");
  ASSERT_EQ(d.size(), 2u) << dump(r);
  EXPECT_EQ(d[0].message.rfind("complexGateway at line 5 is not supported", 0), 0u);
  EXPECT_EQ(d[0].line, 5u);
  EXPECT_EQ(d[1].line, 6u);
  EXPECT_FALSE(r.ok());
}

TEST(Loader, NoExecutableProcessIsAnError) {
  LoadResult r = load_bpmn(bpmn("<process id=\"p\" isExecutable=\"false\"/>"));
  EXPECT_EQ(with_rule(r, "no-executable-process").size(), 1u) << dump(r);
  EXPECT_FALSE(r.ok());
}

TEST(Loader, SequenceFlowsMayOmitTheirId) {
  LoadResult r =
      load_bpmn(process("<startEvent id=\"s\"/><endEvent id=\"e\"/>\n"
                        "  <sequenceFlow sourceRef=\"s\" targetRef=\"e\"/>"));
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.document->processes[0]->flows[0].id, "sequenceFlow@5:3");
}

TEST(Loader, DeepNestingIsRejectedNotRecursed) {
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "<x>";
  for (int i = 0; i < 5000; ++i) deep += "</x>";
  LoadResult r = load_bpmn(bpmn(deep));
  EXPECT_EQ(with_rule(r, "nesting-too-deep").size(), 1u) << dump(r);
}

TEST(Loader, ShippedProcessLoadsWithoutDiagnostics) {
  LoadResult r = load_bpmn_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  const ProcessDefinition& p = *r.document->processes[0];
  EXPECT_EQ(p.id, "order-acceptance");
  const Element& pay = *p.find_element("take-payment");
  ASSERT_EQ(pay.boundary_events.size(), 2u);
  EXPECT_EQ(p.elements[pay.boundary_events[0]].event.code, "PAYMENT_DECLINED");
  EXPECT_EQ(p.elements[pay.boundary_events[1]].event.timer.text, "PT30M");
  EXPECT_EQ(p.find_element("check-availability")->task.type.text, "erp.check-availability");
  EXPECT_EQ(p.find_element("await-delivery")->event.correlation_key.text, "orderId");
}

TEST(Loader, IdsInsideExtensionElementsAreNotBpmnIds) {
  // camunda:formField ids repeat across tasks in valid Camunda 7 models.
  const char* form = R"(<extensionElements><camunda:formData>
  <camunda:formField id="approved" type="boolean"/></camunda:formData></extensionElements>)";
  LoadResult r = load_bpmn(process("<startEvent id=\"s\"/><userTask id=\"a\">" + std::string(form) +
                                   "</userTask><userTask id=\"b\">" + form +
                                   "</userTask><endEvent id=\"e\"/>"
                                   "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"a\"/>"
                                   "<sequenceFlow id=\"f2\" sourceRef=\"a\" targetRef=\"b\"/>"
                                   "<sequenceFlow id=\"f3\" sourceRef=\"b\" targetRef=\"e\"/>"));
  EXPECT_TRUE(with_rule(r, "duplicate-id").empty()) << dump(r);
  EXPECT_TRUE(r.ok()) << dump(r);
}

TEST(Loader, Latin1FilesAreReadWithCorrectPositions) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
      "<definitions xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">\n"
      "<process id=\"p\" isExecutable=\"true\">\n"
      "<task id=\"t\" name=\"Gr\xF6\xDF\x65\"/><startEvent id=\"S\"/>\n"
      "</process></definitions>";
  LoadResult r = load_bpmn(xml);
  ASSERT_TRUE(r.document) << dump(r);
  const ProcessDefinition& p = *r.document->processes[0];
  EXPECT_EQ(p.find_element("t")->name,
            "Gr\xC3\xB6\xC3\x9F"
            "e");  // Größe in UTF-8
  EXPECT_EQ(p.find_element("S")->location.line, 4u);
  EXPECT_EQ(p.find_element("S")->location.column, 28u);
}

TEST(Loader, Utf16AndUnknownEncodingsAreRefusedClearly) {
  std::string utf16("\xFF\xFE<\0d\0", 6);
  LoadResult r = load_bpmn(utf16, "wide.bpmn");
  ASSERT_EQ(with_rule(r, "unsupported-encoding").size(), 1u) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("save it as UTF-8"), std::string::npos);
  LoadResult k = load_bpmn("<?xml version=\"1.0\" encoding=\"KOI8-R\"?><definitions/>");
  EXPECT_EQ(with_rule(k, "unsupported-encoding").size(), 1u) << dump(k);
}

TEST(Loader, PrefixesDeclaredOnInnerElementsAreHonoured) {
  LoadResult r = load_bpmn(process(R"(<startEvent id="s"/><exclusiveGateway id="g" default="d"/>
<intermediateCatchEvent id="c"><timerEventDefinition>
  <t:timeDuration xmlns:t="http://www.omg.org/spec/BPMN/20100524/MODEL">PT5M</t:timeDuration>
</timerEventDefinition></intermediateCatchEvent><endEvent id="e"/>
<sequenceFlow id="f0" sourceRef="s" targetRef="g"/>
<sequenceFlow id="f1" sourceRef="g" targetRef="c">
  <k:conditionExpression xmlns:k="http://www.omg.org/spec/BPMN/20100524/MODEL">=x</k:conditionExpression>
</sequenceFlow>
<sequenceFlow id="d" sourceRef="g" targetRef="e"/><sequenceFlow id="f2" sourceRef="c" targetRef="e"/>)"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const ProcessDefinition& p = *r.document->processes[0];
  EXPECT_EQ(p.find_element("c")->event.timer.text, "PT5M");
  EXPECT_EQ(p.flows[p.flow_index("f1")].condition.text, "x");
}

TEST(Loader, AttributePositionsIgnoreLookalikesInsideValues) {
  LoadResult r =
      load_bpmn(process("<startEvent id=\"s\"/>\n"
                        "<sequenceFlow id=\"f\" name=\" targetRef=x > y\" sourceRef=\"s\" "
                        "targetRef=\"nowhere\"/>"));
  auto d = with_rule(r, "unresolved-reference");
  ASSERT_EQ(d.size(), 1u) << dump(r);
  EXPECT_EQ(d[0].line, 5u);
  EXPECT_EQ(d[0].column, 60u);  // the real targetRef, not the text inside name
}

}  // namespace
}  // namespace ordo

namespace ordo {
namespace {

TEST(LoaderExpressions, SyntaxErrorIsADiagnosticAtTheExpressionsLine) {
  LoadResult r = load_bpmn(testing::process(
      "<startEvent id=\"s\"/><exclusiveGateway id=\"g\" default=\"d\"/>\n"
      "<endEvent id=\"a\"/><endEvent id=\"b\"/>\n"
      "<sequenceFlow id=\"c\" sourceRef=\"g\" targetRef=\"a\"><conditionExpression>"
      "=total &gt; (10</conditionExpression></sequenceFlow>\n"
      "<sequenceFlow id=\"d\" sourceRef=\"g\" targetRef=\"b\"/>"
      "<sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"g\"/>"));
  auto found = testing::with_rule(r, "expression-syntax");
  ASSERT_EQ(found.size(), 1u) << testing::dump(r);
  EXPECT_EQ(found[0].line, 6u);
  EXPECT_EQ(found[0].severity, Severity::kError);
  EXPECT_NE(found[0].message.find("=total > (10"), std::string::npos) << found[0].message;
  EXPECT_FALSE(r.ok());
}

TEST(LoaderExpressions, CompiledExpressionsAreAttachedToTheDefinition) {
  LoadResult r = load_bpmn(testing::process(testing::straight(
      "<scriptTask id=\"t\"><extensionElements><zeebe:script expression=\"=1 + 2\" "
      "resultVariable=\"x\"/></extensionElements></scriptTask>")));
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  EXPECT_NE(r.document->processes[0]->find_element("t")->script.compiled, nullptr);
}

// A typo in a targetRef: one error, first, naming the id it most likely meant; none of the
// "unreachable" warnings that would follow from it.
TEST(Loader, ATargetRefTypoIsOneErrorFirstWithTheNearestId) {
  std::string body = "<startEvent id=\"s\"/>\n";
  std::string flows = "<sequenceFlow id=\"f0\" sourceRef=\"s\" targetRef=\"check-stok\"/>\n";
  const char* chain[] = {"check-stock", "reserve", "charge", "ship", "notify"};
  for (std::size_t i = 0; i < std::size(chain); ++i) {
    body += "<task id=\"" + std::string(chain[i]) + "\"/>\n";
    const std::string next = i + 1 < std::size(chain) ? chain[i + 1] : "e";
    flows += "<sequenceFlow id=\"f" + std::to_string(i + 1) + "\" sourceRef=\"" + chain[i] +
             "\" targetRef=\"" + next + "\"/>\n";
  }
  body += "<endEvent id=\"e\"/>\n<task id=\"lonely\"/>\n";
  const LoadResult r = load_bpmn(process(body + flows), "typo.bpmn");
  EXPECT_FALSE(r.ok());
  ASSERT_FALSE(r.diagnostics.empty());
  EXPECT_EQ(r.diagnostics[0].rule, "unresolved-reference") << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("did you mean 'check-stock'?"), std::string::npos)
      << r.diagnostics[0].message;
  EXPECT_TRUE(with_rule(r, "unreachable").empty()) << dump(r);
  // Every error comes before every warning.
  bool warned = false;
  for (const Diagnostic& d : r.diagnostics) {
    if (d.severity != Severity::kError) warned = true;
    EXPECT_FALSE(warned && d.severity == Severity::kError) << dump(r);
  }
  // No id is close to a typo of nothing like them: no guess.
  const LoadResult far = load_bpmn(
      process(straight("<task id=\"t\"/>") +
              "<sequenceFlow id=\"x\" sourceRef=\"t\" targetRef=\"somewhere-else\"/>"),
      "far.bpmn");
  ASSERT_FALSE(with_rule(far, "unresolved-reference").empty()) << dump(far);
  EXPECT_EQ(with_rule(far, "unresolved-reference")[0].message.find("did you mean"),
            std::string::npos);
}

// An unknown extension element is said once per kind per file, with how many more.
TEST(Loader, AnUnknownExtensionIsOneWarningPerKind) {
  std::string body = "<startEvent id=\"s\"/>\n";
  std::string flows;
  std::string last = "s";
  for (int i = 0; i < 4; ++i) {
    const std::string id = "t" + std::to_string(i);
    body += "<task id=\"" + id + "\"><extensionElements><zeebe:properties/>"
            "<zeebe:someday/></extensionElements></task>\n";
    flows += "<sequenceFlow id=\"f" + id + "\" sourceRef=\"" + last + "\" targetRef=\"" + id +
             "\"/>\n";
    last = id;
  }
  body += "<endEvent id=\"e\"/>\n";
  flows += "<sequenceFlow id=\"fe\" sourceRef=\"" + last + "\" targetRef=\"e\"/>\n";
  const LoadResult r = load_bpmn(process(body + flows), "plugins.bpmn");
  ASSERT_TRUE(r.ok()) << dump(r);
  const std::vector<Diagnostic> unknown = with_rule(r, "unknown-extension");
  ASSERT_EQ(unknown.size(), 1u) << dump(r);
  EXPECT_NE(unknown[0].message.find("zeebe:someday"), std::string::npos) << unknown[0].message;
  EXPECT_NE(unknown[0].message.find("(and 3 more like them in this file)"), std::string::npos)
      << unknown[0].message;
}

}  // namespace
}  // namespace ordo
