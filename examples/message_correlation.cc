// Message correlation: two orders wait for "order-delivered"; a message with correlation
// key "A-2" completes only that order, and carries its variables into the instance. A
// message sent before anyone waits can be buffered with a time to live.
// Run: build/examples/example_message_correlation
#include <iostream>

#include "ordo/ordo.h"

int main() {
  const char* xml = R"(<?xml version="1.0"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
  <message id="m" name="order-delivered">
    <extensionElements><zeebe:subscription correlationKey="=orderId"/></extensionElements>
  </message>
  <process id="delivery" isExecutable="true">
    <startEvent id="s"/>
    <intermediateCatchEvent id="delivered"><messageEventDefinition messageRef="m"/></intermediateCatchEvent>
    <endEvent id="e"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="delivered"/>
    <sequenceFlow id="f2" sourceRef="delivered" targetRef="e"/>
  </process>
</definitions>)";
  ordo::LoadResult loaded = ordo::load_bpmn(xml, "delivery.bpmn");
  ordo::Engine engine;
  if (!loaded.ok() || !engine.deploy(loaded.document)) return 1;

  auto a1 = engine.start("delivery", {{"orderId", "A-1"}});
  auto a2 = engine.start("delivery", {{"orderId", "A-2"}});
  auto n = engine.publish_message("order-delivered", "A-2", {{"signedBy", "J. Doe"}});
  std::cout << "correlated to " << n->instances.size() << " instance(s)\n";
  std::cout << "A-1: " << ordo::to_string(engine.instance(a1->id)->state) << "\n";
  std::cout << "A-2: " << ordo::to_string(engine.instance(a2->id)->state) << ", signed by "
            << engine.instance(a2->id)->variables["signedBy"] << "\n";

  // Published before the instance exists: kept for one hour, delivered when it subscribes.
  (void)engine.publish_message("order-delivered", "A-3", {}, 3'600'000);
  auto a3 = engine.start("delivery", {{"orderId", "A-3"}});
  std::cout << "A-3: " << ordo::to_string(engine.instance(a3->id)->state) << "\n";
  const bool ok = n->instances.size() == 1 && engine.instance(a1->id)->state == ordo::InstanceState::kActive &&
                  engine.instance(a3->id)->state == ordo::InstanceState::kCompleted;
  return ok ? 0 : 1;
}
