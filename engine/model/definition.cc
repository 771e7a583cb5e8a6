#include "ordo/definition.h"

#include <algorithm>

namespace ordo {

std::string_view to_string(ElementKind kind) noexcept {
  switch (kind) {
    case ElementKind::kStartEvent:
      return "startEvent";
    case ElementKind::kEndEvent:
      return "endEvent";
    case ElementKind::kIntermediateCatchEvent:
      return "intermediateCatchEvent";
    case ElementKind::kIntermediateThrowEvent:
      return "intermediateThrowEvent";
    case ElementKind::kBoundaryEvent:
      return "boundaryEvent";
    case ElementKind::kTask:
      return "task";
    case ElementKind::kServiceTask:
      return "serviceTask";
    case ElementKind::kSendTask:
      return "sendTask";
    case ElementKind::kReceiveTask:
      return "receiveTask";
    case ElementKind::kUserTask:
      return "userTask";
    case ElementKind::kManualTask:
      return "manualTask";
    case ElementKind::kScriptTask:
      return "scriptTask";
    case ElementKind::kBusinessRuleTask:
      return "businessRuleTask";
    case ElementKind::kExclusiveGateway:
      return "exclusiveGateway";
    case ElementKind::kParallelGateway:
      return "parallelGateway";
    case ElementKind::kInclusiveGateway:
      return "inclusiveGateway";
    case ElementKind::kEventBasedGateway:
      return "eventBasedGateway";
    case ElementKind::kSubProcess:
      return "subProcess";
    case ElementKind::kEventSubProcess:
      return "eventSubProcess";
    case ElementKind::kCallActivity:
      return "callActivity";
  }
  return "unknown";
}

std::string_view describe(ElementKind kind) noexcept {
  switch (kind) {
    case ElementKind::kStartEvent:
      return "start event";
    case ElementKind::kEndEvent:
      return "end event";
    case ElementKind::kIntermediateCatchEvent:
      return "intermediate catch event";
    case ElementKind::kIntermediateThrowEvent:
      return "intermediate throw event";
    case ElementKind::kBoundaryEvent:
      return "boundary event";
    case ElementKind::kTask:
      return "task";
    case ElementKind::kServiceTask:
      return "service task";
    case ElementKind::kSendTask:
      return "send task";
    case ElementKind::kReceiveTask:
      return "receive task";
    case ElementKind::kUserTask:
      return "user task";
    case ElementKind::kManualTask:
      return "manual task";
    case ElementKind::kScriptTask:
      return "script task";
    case ElementKind::kBusinessRuleTask:
      return "business rule task";
    case ElementKind::kExclusiveGateway:
      return "exclusive gateway";
    case ElementKind::kParallelGateway:
      return "parallel gateway";
    case ElementKind::kInclusiveGateway:
      return "inclusive gateway";
    case ElementKind::kEventBasedGateway:
      return "event-based gateway";
    case ElementKind::kSubProcess:
      return "subprocess";
    case ElementKind::kEventSubProcess:
      return "event subprocess";
    case ElementKind::kCallActivity:
      return "call activity";
  }
  return "element";
}

bool is_activity(ElementKind kind) noexcept {
  return kind >= ElementKind::kTask && kind <= ElementKind::kBusinessRuleTask
             ? true
             : kind == ElementKind::kSubProcess || kind == ElementKind::kEventSubProcess ||
                   kind == ElementKind::kCallActivity;
}

bool is_gateway(ElementKind kind) noexcept {
  return kind >= ElementKind::kExclusiveGateway && kind <= ElementKind::kEventBasedGateway;
}

bool is_event(ElementKind kind) noexcept {
  return kind <= ElementKind::kBoundaryEvent;
}

bool is_job_task(ElementKind kind) noexcept {
  return kind == ElementKind::kServiceTask || kind == ElementKind::kSendTask ||
         kind == ElementKind::kUserTask || kind == ElementKind::kBusinessRuleTask;
}

bool runs_as_job(const Element& e) noexcept {
  if (e.kind == ElementKind::kBusinessRuleTask && !e.decision.decision_id.empty()) return false;
  return is_job_task(e.kind) ||
         (e.kind == ElementKind::kScriptTask && e.script.empty() && !e.task.type.empty());
}

std::string_view to_string(EventType type) noexcept {
  switch (type) {
    case EventType::kNone:
      return "none";
    case EventType::kMessage:
      return "message";
    case EventType::kTimer:
      return "timer";
    case EventType::kError:
      return "error";
    case EventType::kSignal:
      return "signal";
    case EventType::kEscalation:
      return "escalation";
    case EventType::kTerminate:
      return "terminate";
    case EventType::kLink:
      return "link";
    case EventType::kCompensation:
      return "compensation";
    case EventType::kConditional:
      return "conditional";
    case EventType::kCancel:
      return "cancel";
  }
  return "unknown";
}

std::string_view to_string(ExpressionDialect dialect) noexcept {
  switch (dialect) {
    case ExpressionDialect::kStatic:
      return "static";
    case ExpressionDialect::kFeel:
      return "feel";
    case ExpressionDialect::kJuel:
      return "juel";
  }
  return "unknown";
}

std::string_view to_string(TimerType type) noexcept {
  switch (type) {
    case TimerType::kNone:
      return "none";
    case TimerType::kDate:
      return "date";
    case TimerType::kDuration:
      return "duration";
    case TimerType::kCycle:
      return "cycle";
  }
  return "unknown";
}

std::string Expression::source() const {
  return dialect == ExpressionDialect::kFeel ? "=" + text : text;
}

namespace {

template <typename Items>
std::vector<std::uint32_t> sorted_by_id(const Items& items) {
  std::vector<std::uint32_t> order(items.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return items[a].id < items[b].id; });
  return order;
}

template <typename Items>
std::uint32_t lookup(const Items& items, const std::vector<std::uint32_t>& order,
                     std::string_view id) noexcept {
  auto it =
      std::lower_bound(order.begin(), order.end(), id,
                       [&](std::uint32_t i, std::string_view key) { return items[i].id < key; });
  return it != order.end() && items[*it].id == id ? *it : kNoIndex;
}

}  // namespace

void ProcessDefinition::index() {
  by_id_ = sorted_by_id(elements);
  flows_by_id_ = sorted_by_id(flows);
}

ElementIndex ProcessDefinition::element_index(std::string_view element_id) const noexcept {
  return lookup(elements, by_id_, element_id);
}

FlowIndex ProcessDefinition::flow_index(std::string_view flow_id) const noexcept {
  return lookup(flows, flows_by_id_, flow_id);
}

const Element* ProcessDefinition::find_element(std::string_view element_id) const noexcept {
  ElementIndex i = element_index(element_id);
  return i == kNoIndex ? nullptr : &elements[i];
}

std::vector<ElementIndex> ProcessDefinition::start_events(ElementIndex scope) const {
  std::vector<ElementIndex> out;
  for (ElementIndex i = 0; i < elements.size(); ++i) {
    if (elements[i].scope == scope && elements[i].kind == ElementKind::kStartEvent)
      out.push_back(i);
  }
  return out;
}

std::vector<ElementIndex> ProcessDefinition::children(ElementIndex scope) const {
  std::vector<ElementIndex> out;
  for (ElementIndex i = 0; i < elements.size(); ++i) {
    if (elements[i].scope == scope) out.push_back(i);
  }
  return out;
}

const ProcessDefinition* BpmnDocument::find_process(std::string_view process_id) const noexcept {
  for (const auto& p : processes) {
    if (p->id == process_id) return p.get();
  }
  return nullptr;
}

}  // namespace ordo
