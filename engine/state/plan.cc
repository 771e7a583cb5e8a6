#include "state/plan.h"

#include <deque>

namespace ordo::state {

std::shared_ptr<const Plan> make_plan(std::shared_ptr<const BpmnDocument> document,
                                      std::shared_ptr<const ProcessDefinition> definition,
                                      int version, std::string content_hash) {
  auto plan = std::make_shared<Plan>();
  plan->document = std::move(document);
  plan->definition = std::move(definition);
  plan->def = plan->definition.get();
  plan->version = version;
  plan->content_hash = std::move(content_hash);
  const ProcessDefinition& d = *plan->def;
  const std::size_t n = d.elements.size();
  plan->none_start.assign(n + 1, kNoIndex);
  plan->event_subprocesses.resize(n + 1);
  plan->link_catches.resize(n + 1);
  plan->event_sub_start.assign(n, kNoIndex);
  plan->reaches_join.resize(n);
  bool has_cancel = false;
  for (ElementIndex i = 0; i < n; ++i) {
    const Element& e = d.elements[i];
    const std::size_t slot = plan->scope_slot(e.scope);
    switch (e.kind) {
      case ElementKind::kStartEvent:
        if (e.scope != kNoIndex && d.elements[e.scope].kind == ElementKind::kEventSubProcess) {
          plan->event_sub_start[e.scope] = i;
        } else if (e.event.type == EventType::kNone && plan->none_start[slot] == kNoIndex) {
          plan->none_start[slot] = i;
        } else if (e.event.type == EventType::kMessage && e.scope == kNoIndex) {
          plan->message_starts.push_back(i);
        } else if (e.event.type == EventType::kSignal && e.scope == kNoIndex) {
          plan->signal_starts.push_back(i);
        } else if (e.event.type == EventType::kTimer && e.scope == kNoIndex) {
          plan->timer_starts.push_back(i);
        } else if (e.event.type == EventType::kConditional && e.scope == kNoIndex) {
          plan->conditional_starts.push_back(i);
        }
        break;
      case ElementKind::kEventSubProcess:
        plan->event_subprocesses[slot].push_back(i);
        break;
      case ElementKind::kIntermediateCatchEvent:
        if (e.event.type == EventType::kLink) plan->link_catches[slot].push_back(i);
        break;
      default:
        break;
    }
  }
  plan->keeps_compensation.assign(n, false);
  plan->compensation_sub.assign(n, kNoIndex);
  for (ElementIndex i = 0; i < n; ++i) {
    const Element& e = d.elements[i];
    if (e.kind == ElementKind::kStartEvent && e.event.type == EventType::kCompensation &&
        e.scope != kNoIndex && d.elements[e.scope].kind == ElementKind::kEventSubProcess &&
        d.elements[e.scope].scope != kNoIndex) {
      plan->compensation_sub[d.elements[e.scope].scope] = e.scope;
    }
  }
  // Children follow their scope in document order: backwards, a scope is reached after them.
  for (auto i = static_cast<ElementIndex>(n); i-- > 0;) {
    const Element& e = d.elements[i];
    if (e.for_compensation || !is_activity(e.kind) || e.kind == ElementKind::kEventSubProcess) {
      continue;
    }
    if (e.compensation_handler != kNoIndex || plan->compensation_sub[i] != kNoIndex) {
      plan->keeps_compensation[i] = true;
    }
    if (plan->keeps_compensation[i]) {
      plan->has_compensation = true;
      if (e.scope != kNoIndex && d.elements[e.scope].kind == ElementKind::kSubProcess &&
          !d.elements[e.scope].for_compensation) {
        plan->keeps_compensation[e.scope] = true;
      }
    }
  }
  for (const Element& e : d.elements) {
    has_cancel |= e.kind == ElementKind::kEndEvent && e.event.type == EventType::kCancel;
  }
  plan->has_compensation |= has_cancel;
  plan->incoming_slot.assign(d.flows.size(), 0);
  for (const Element& e : d.elements) {
    for (std::size_t k = 0; k < e.incoming.size(); ++k) {
      plan->incoming_slot[e.incoming[k]] = static_cast<std::uint16_t>(k);
    }
  }
  // Inclusive joins: backwards search from each join over flows (and from boundary events to
  // the activity they are attached to, whose token they may become), stopping at the join.
  for (ElementIndex g = 0; g < n; ++g) {
    const Element& gw = d.elements[g];
    if (gw.kind != ElementKind::kInclusiveGateway || gw.incoming.size() < 2) continue;
    std::vector<bool> reach(n, false);
    std::deque<ElementIndex> todo;
    for (FlowIndex f : gw.incoming) todo.push_back(d.flows[f].source);
    while (!todo.empty()) {
      ElementIndex x = todo.front();
      todo.pop_front();
      if (x == g || reach[x]) continue;
      reach[x] = true;
      for (FlowIndex f : d.elements[x].incoming) todo.push_back(d.flows[f].source);
      if (d.elements[x].kind == ElementKind::kBoundaryEvent &&
          d.elements[x].attached_to != kNoIndex) {
        todo.push_back(d.elements[x].attached_to);
      }
      if (d.elements[x].kind == ElementKind::kIntermediateCatchEvent &&
          d.elements[x].event.type == EventType::kLink) {
        // A link catch is reached from the throw events of the same name.
        for (ElementIndex t = 0; t < n; ++t) {
          const Element& te = d.elements[t];
          if (te.kind == ElementKind::kIntermediateThrowEvent &&
              te.event.type == EventType::kLink && te.scope == d.elements[x].scope &&
              te.event.link_name == d.elements[x].event.link_name) {
            todo.push_back(t);
          }
        }
      }
    }
    plan->reaches_join[g] = std::move(reach);
    plan->has_inclusive_joins = true;
  }
  return plan;
}

}  // namespace ordo::state
