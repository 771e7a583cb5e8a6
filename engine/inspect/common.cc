#include "inspect/common.h"

#include <algorithm>

namespace ordo::inspect {

std::vector<ElementIndex> reading_order(const ProcessDefinition& p, ElementIndex scope) {
  // Depth-first along the first outgoing flow, so a path reads to its end before the next
  // branch; boundary events are listed right after their activity, their paths explored last.
  std::vector<ElementIndex> order;
  std::vector<char> seen(p.elements.size(), 0);
  std::vector<ElementIndex> stack;
  auto in_scope = [&](ElementIndex i) { return i != kNoIndex && p.elements[i].scope == scope; };
  auto walk = [&](ElementIndex root) {
    stack.push_back(root);
    while (!stack.empty()) {
      ElementIndex i = stack.back();
      stack.pop_back();
      if (!in_scope(i) || seen[i]) continue;
      seen[i] = 1;
      order.push_back(i);
      const Element& e = p.elements[i];
      for (ElementIndex b : e.boundary_events) {
        if (!in_scope(b) || seen[b]) continue;
        seen[b] = 1;
        order.push_back(b);
        for (auto f = p.elements[b].outgoing.rbegin(); f != p.elements[b].outgoing.rend(); ++f) {
          stack.push_back(p.flows[*f].target);
        }
      }
      for (auto f = e.outgoing.rbegin(); f != e.outgoing.rend(); ++f) {
        stack.push_back(p.flows[*f].target);
      }
    }
  };
  for (ElementIndex s : p.start_events(scope)) walk(s);
  for (ElementIndex i = 0; i < p.elements.size(); ++i) {
    if (p.elements[i].kind == ElementKind::kEventSubProcess) walk(i);
  }
  for (ElementIndex i = 0; i < p.elements.size(); ++i) walk(i);
  return order;
}

std::string event_summary(const Element& e) {
  const EventDefinition& ev = e.event;
  std::string out;
  switch (ev.type) {
    case EventType::kNone:
      return {};
    case EventType::kMessage:
      out = "message";
      if (!ev.message_name.empty()) out += " " + ev.message_name.source();
      if (!ev.correlation_key.empty()) out += ", key " + ev.correlation_key.source();
      break;
    case EventType::kTimer:
      out = "timer";
      if (ev.timer_type != TimerType::kNone) out += " " + std::string(to_string(ev.timer_type));
      if (!ev.timer.empty()) out += " " + ev.timer.source();
      break;
    case EventType::kError:
      out = ev.code.empty() ? "error (any)" : "error " + ev.code;
      break;
    case EventType::kEscalation:
      out = ev.code.empty() ? "escalation (any)" : "escalation " + ev.code;
      break;
    case EventType::kSignal:
      out = "signal " + ev.ref_name;
      break;
    case EventType::kLink:
      out = "link " + ev.link_name;
      break;
    case EventType::kConditional:
      out = "conditional " + ev.condition.source();
      break;
    default:
      out = std::string(to_string(ev.type));
      break;
  }
  if (e.kind == ElementKind::kBoundaryEvent) {
    out += e.cancel_activity ? ", interrupting" : ", non-interrupting";
  } else if (e.kind == ElementKind::kStartEvent && e.scope != kNoIndex && !e.interrupting) {
    out += ", non-interrupting";
  }
  return out;
}

namespace {
void add_unique(std::vector<std::string>& v, std::string s) {
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
}
void summarize_scope(const ProcessDefinition& p, ElementIndex scope, ProcessSummary& s) {
  for (ElementIndex i : reading_order(p, scope)) {
    const Element& e = p.elements[i];
    add_unique(s.task_types, e.task.type.source());
    if (e.event.type == EventType::kMessage) add_unique(s.messages, e.event.message_name.source());
    if (e.event.type == EventType::kError) add_unique(s.errors, e.event.code);
    if (e.event.type == EventType::kTimer) {
      std::string t =
          e.id + ": " + std::string(to_string(e.event.timer_type)) + " " + e.event.timer.source();
      if (e.attached_to != kNoIndex) t += " on " + p.elements[e.attached_to].id;
      add_unique(s.timers, std::move(t));
    }
    if (e.kind == ElementKind::kSubProcess || e.kind == ElementKind::kEventSubProcess) {
      summarize_scope(p, i, s);
    }
  }
}
}  // namespace

ProcessSummary summarize(const ProcessDefinition& p) {
  ProcessSummary s;
  summarize_scope(p, kNoIndex, s);
  return s;
}

}  // namespace ordo::inspect
