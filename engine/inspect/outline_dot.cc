// `ordo inspect --dot`: Graphviz, one cluster per process and per subprocess.
#include <sstream>

#include "inspect/common.h"
#include "ordo/inspect.h"

namespace ordo {
namespace {

std::string dot_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
  return out;
}

std::string node_id(const ProcessDefinition& p, ElementIndex i) {
  return dot_string(p.id + "/" + p.elements[i].id);
}

std::string node_attributes(const Element& e) {
  std::string label = e.name.empty() ? e.id : e.name;
  std::string shape;
  if (is_event(e.kind)) {
    // As modelers draw them: a small circle, its name beside it (xlabel), not inside.
    if (std::string ev = inspect::event_summary(e); !ev.empty()) label += "\n(" + ev + ")";
    return std::string("shape=") +
           (e.kind == ElementKind::kEndEvent ? "doublecircle" : "circle") +
           ", width=0.3, fixedsize=true, label=\"\", xlabel=" + dot_string(label);
  } else if (is_gateway(e.kind)) {
    // The gateway's mark inside, its name beside it.
    const char* mark = e.kind == ElementKind::kParallelGateway     ? "+"
                       : e.kind == ElementKind::kInclusiveGateway  ? "O"
                       : e.kind == ElementKind::kEventBasedGateway ? "*"
                                                                   : "X";
    return std::string("shape=diamond, width=0.4, height=0.4, fixedsize=true, label=") +
           dot_string(mark) + (e.name.empty() ? "" : ", xlabel=" + dot_string(e.name));
  } else {
    shape = "box";
    if (!e.task.type.empty()) label += "\n[" + e.task.type.source() + "]";
  }
  return "shape=" + shape + ", style=rounded, label=" + dot_string(label);
}

void scope_dot(const ProcessDefinition& p, ElementIndex scope, int depth, std::ostringstream& out) {
  std::string indent(static_cast<std::size_t>(depth) * 2, ' ');
  for (ElementIndex i : inspect::reading_order(p, scope)) {
    const Element& e = p.elements[i];
    if (e.kind == ElementKind::kSubProcess || e.kind == ElementKind::kEventSubProcess) {
      out << indent << "subgraph " << dot_string("cluster_" + p.id + "/" + e.id) << " {\n"
          << indent << "  label=" << dot_string(e.name.empty() ? e.id : e.name) << ";\n";
      if (e.kind == ElementKind::kEventSubProcess) out << indent << "  style=dotted;\n";
      // An invisible anchor so flows into and out of the subprocess have an end.
      out << indent << "  " << node_id(p, i) << " [shape=point, width=0.1];\n";
      scope_dot(p, i, depth + 1, out);
      out << indent << "}\n";
    } else {
      out << indent << node_id(p, i) << " [" << node_attributes(e) << "];\n";
    }
  }
}

}  // namespace

std::string outline_dot(const BpmnDocument& doc) {
  std::ostringstream out;
  out << "digraph " << dot_string(doc.file) << " {\n  rankdir=LR;\n  forcelabels=true;\n"
      << "  node [fontsize=10];\n"
      << "  edge [fontsize=9];\n";
  for (const auto& p : doc.processes) {
    out << "  subgraph " << dot_string("cluster_" + p->id)
        << " {\n    label=" << dot_string(p->name.empty() ? p->id : p->name) << ";\n";
    scope_dot(*p, kNoIndex, 2, out);
    out << "  }\n";
    for (const SequenceFlow& f : p->flows) {
      if (f.source == kNoIndex || f.target == kNoIndex) continue;
      out << "  " << node_id(*p, f.source) << " -> " << node_id(*p, f.target);
      std::string label = f.name;
      if (!f.condition.empty()) label += (label.empty() ? "" : "\n") + f.condition.source();
      if (f.is_default) label += (label.empty() ? "" : "\n") + std::string("default");
      if (!label.empty()) out << " [label=" << dot_string(label) << "]";
      out << ";\n";
    }
    for (ElementIndex i = 0; i < p->elements.size(); ++i) {
      const Element& e = p->elements[i];
      if (e.attached_to == kNoIndex) continue;
      out << "  " << node_id(*p, e.attached_to) << " -> " << node_id(*p, i)
          << " [style=dashed, arrowhead=none];\n";
    }
  }
  out << "}\n";
  return out.str();
}

}  // namespace ordo
