// The readable outline printed by `ordo inspect`.
#include <sstream>

#include "inspect/common.h"
#include "ordo/inspect.h"

namespace ordo {
namespace {

using inspect::reading_order;

std::string pad(std::string_view s, std::size_t width) {
  std::string out(s);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

void element_details(const ProcessDefinition& p, const Element& e, const std::string& indent,
                     std::ostringstream& out) {
  std::string d = indent + "      ";
  if (!e.task.type.empty()) {
    out << d << "type " << e.task.type.source();
    if (!e.task.retries.empty()) out << ", retries " << e.task.retries.source();
    out << '\n';
  }
  for (const TaskHeader& h : e.headers) out << d << "header " << h.key << " = " << h.value << '\n';
  for (const IoMapping& m : e.inputs)
    out << d << "input  " << m.target << " <- " << m.source.source() << '\n';
  for (const IoMapping& m : e.outputs)
    out << d << "output " << m.target << " <- " << m.source.source() << '\n';
  if (std::string ev = inspect::event_summary(e); !ev.empty()) out << d << ev << '\n';
  if (e.attached_to != kNoIndex) out << d << "attached to " << p.elements[e.attached_to].id << '\n';
  if (!e.script.empty()) {
    out << d << "script " << e.script.source();
    if (!e.result_variable.empty()) out << " -> " << e.result_variable;
    out << '\n';
  }
  if (!e.called.process_id.empty()) out << d << "calls " << e.called.process_id.source() << '\n';
  if (e.loop.present) {
    out << d << "multi-instance " << (e.loop.sequential ? "sequential" : "parallel");
    if (!e.loop.input_collection.empty()) out << " over " << e.loop.input_collection.source();
    if (!e.loop.input_element.empty()) out << " as " << e.loop.input_element;
    if (!e.loop.loop_cardinality.empty()) out << " x " << e.loop.loop_cardinality.source();
    if (!e.loop.output_collection.empty()) out << ", collect into " << e.loop.output_collection;
    out << '\n';
  }
  for (FlowIndex f : e.outgoing) {
    const SequenceFlow& flow = p.flows[f];
    out << d << "-> " << (flow.target == kNoIndex ? "?" : p.elements[flow.target].id);
    if (!flow.name.empty()) out << "  \"" << flow.name << '"';
    if (!flow.condition.empty()) out << "  when " << flow.condition.source();
    if (flow.is_default) out << "  (default)";
    out << '\n';
  }
}

void scope_outline(const ProcessDefinition& p, ElementIndex scope, int depth,
                   std::ostringstream& out) {
  std::string indent(static_cast<std::size_t>(depth) * 2, ' ');
  for (ElementIndex i : reading_order(p, scope)) {
    const Element& e = p.elements[i];
    out << indent << "  " << pad(describe(e.kind), 25) << ' ' << e.id;
    if (!e.name.empty()) out << "  \"" << e.name << '"';
    out << '\n';
    element_details(p, e, indent, out);
    if (e.kind == ElementKind::kSubProcess || e.kind == ElementKind::kEventSubProcess) {
      scope_outline(p, i, depth + 1, out);
    }
  }
}

}  // namespace

std::string outline_text(const BpmnDocument& doc) {
  std::ostringstream out;
  out << doc.file << '\n';
  for (const auto& p : doc.processes) {
    out << "\nprocess " << p->id;
    if (!p->name.empty()) out << "  \"" << p->name << '"';
    out << "  (" << p->elements.size() << " elements, " << p->flows.size() << " flows)\n";
    scope_outline(*p, kNoIndex, 0, out);
    inspect::ProcessSummary s = inspect::summarize(*p);
    out << '\n';
    if (!s.task_types.empty()) out << "  task types: " << join(s.task_types, ", ") << '\n';
    if (!s.messages.empty()) out << "  messages:   " << join(s.messages, ", ") << '\n';
    if (!s.errors.empty()) out << "  errors:     " << join(s.errors, ", ") << '\n';
    if (!s.timers.empty()) out << "  timers:     " << join(s.timers, "; ") << '\n';
  }
  return out.str();
}

}  // namespace ordo
