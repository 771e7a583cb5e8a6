#include <gtest/gtest.h>

#include "test_util.h"

namespace ordo {
namespace {

TEST(Diagram, ShapesEdgesAndLabelsAreKept) {
  LoadResult r = load_bpmn_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r.document->diagrams);
  ASSERT_EQ(r.document->diagrams->size(), 1u);
  const Diagram& d = r.document->diagrams->front();
  EXPECT_EQ(d.plane_element, "order-acceptance");
  const ProcessDefinition& p = *r.document->processes[0];
  // Every element and flow is drawn.
  EXPECT_EQ(d.shapes.size(), p.elements.size());
  EXPECT_EQ(d.edges.size(), p.flows.size());
  for (const DiagramShape& s : d.shapes) {
    EXPECT_NE(p.find_element(s.element_id), nullptr) << s.element_id;
    EXPECT_GT(s.bounds.width, 0) << s.element_id;
  }
  for (const DiagramEdge& e : d.edges) {
    EXPECT_NE(p.flow_index(e.element_id), kNoIndex) << e.element_id;
    EXPECT_GE(e.waypoints.size(), 2u) << e.element_id;
  }
  auto sub = std::find_if(d.shapes.begin(), d.shapes.end(),
                          [](const DiagramShape& s) { return s.element_id == "take-payment"; });
  ASSERT_NE(sub, d.shapes.end());
  EXPECT_EQ(sub->expanded, std::optional<bool>(true));
  EXPECT_EQ(p.diagrams, r.document->diagrams);
}

TEST(Diagram, OmgdcPrefixesWork) {
  LoadResult r = load_bpmn(testing::bpmn(R"(
<process id="p" isExecutable="true"><startEvent id="s"/><endEvent id="e"/><sequenceFlow id="f" sourceRef="s" targetRef="e"/></process>
<bpmndi:BPMNDiagram id="d" xmlns:omgdc="http://www.omg.org/spec/DD/20100524/DC" xmlns:omgdi="http://www.omg.org/spec/DD/20100524/DI">
  <bpmndi:BPMNPlane id="pl" bpmnElement="p">
    <bpmndi:BPMNShape id="s_di" bpmnElement="s"><omgdc:Bounds x="10.5" y="20" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f_di" bpmnElement="f"><omgdi:waypoint x="46" y="38"/><omgdi:waypoint x="100" y="38"/></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane>
</bpmndi:BPMNDiagram>)"));
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  const Diagram& d = r.document->diagrams->front();
  ASSERT_EQ(d.shapes.size(), 1u);
  EXPECT_DOUBLE_EQ(d.shapes[0].bounds.x, 10.5);
  ASSERT_EQ(d.edges.size(), 1u);
  ASSERT_EQ(d.edges[0].waypoints.size(), 2u);
  EXPECT_DOUBLE_EQ(d.edges[0].waypoints[1].x, 100);
}

}  // namespace
}  // namespace ordo
