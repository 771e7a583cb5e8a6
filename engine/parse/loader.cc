// load_bpmn: XML text -> BpmnDocument with validated ProcessDefinitions, or diagnostics.
//
// Order of work: parse the XML; check ids and nesting over the whole tree; read the root
// elements processes refer to (messages, errors, signals, escalations) and the diagrams; build
// each executable process; run the validation rules; sort the diagnostics: errors first, each group in file order.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ordo/loader.h"
#include "parse/builder.h"
#include "validate/validator.h"

namespace ordo {
namespace parse {
namespace {

// Walks the whole tree once without recursion: reports duplicate ids and refuses documents
// nested deeper than kMaxDepth. Returns false when the tree is too deep to read further.
bool check_tree(XmlContext& x, pugi::xml_node root) {
  std::vector<std::pair<std::string_view, pugi::xml_node>> ids;
  ids.reserve(256);
  int depth = 0;
  pugi::xml_node n = root;
  while (n) {
    if (n.type() == pugi::node_element) {
      if (pugi::xml_attribute id = n.attribute("id")) ids.emplace_back(trim(id.value()), n);
      // Ids inside extension elements belong to vendors (e.g. camunda:formField ids repeat
      // across tasks); they are not BPMN ids.
      std::string_view name = n.name();
      bool extension = name.substr(name.find(':') + 1) == "extensionElements";
      if (n.first_child() && !extension) {
        if (++depth > kMaxDepth * 2) {
          x.error(n, "nesting-too-deep",
                  "elements nest deeper than " + std::to_string(kMaxDepth * 2) +
                      " levels; this is not a BPMN model Ordo can load");
          return false;
        }
        n = n.first_child();
        continue;
      }
    }
    while (n && !n.next_sibling() && n != root) {
      n = n.parent();
      --depth;
    }
    if (!n || n == root) break;
    n = n.next_sibling();
  }
  // Equal ids stay in document order (offsets grow along the document), so the first use is
  // reported as the original and every later one as the duplicate.
  std::sort(ids.begin(), ids.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first
                              : a.second.offset_debug() < b.second.offset_debug();
  });
  for (std::size_t i = 1; i < ids.size(); ++i) {
    if (ids[i].first.empty() || ids[i].first != ids[i - 1].first) continue;
    std::size_t first = i - 1;
    while (first > 0 && ids[first - 1].first == ids[i].first) --first;
    x.report(x.location(ids[i].second, "id"), Severity::kError, "duplicate-id",
             "duplicate id " + quote(ids[i].first) + ": already used at line " +
                 std::to_string(x.location(ids[first].second).line) + "; ids must be unique");
  }
  return true;
}

// Diagram coordinates. std::from_chars, unlike strtod (pugixml's as_double), ignores the
// process locale: "10.5" is 10.5 under a German locale too. It is also several times faster.
double number(pugi::xml_node node, const char* name) {
  std::string_view v = trim(node.attribute(name).value());
  double out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

std::optional<Bounds> read_bounds(XmlContext& x, pugi::xml_node parent) {
  std::optional<Bounds> out;
  x.each_child(parent, [&](pugi::xml_node c, QName q) {
    if (!out && q.ns == Ns::kDc && q.local == "Bounds") {
      out = Bounds{number(c, "x"), number(c, "y"), number(c, "width"), number(c, "height")};
    }
  });
  return out;
}

std::optional<Bounds> read_label(XmlContext& x, pugi::xml_node parent) {
  std::optional<Bounds> out;
  x.each_child(parent, [&](pugi::xml_node c, QName q) {
    if (!out && q.ns == Ns::kBpmnDi && q.local == "BPMNLabel") out = read_bounds(x, c);
  });
  return out;
}

Diagram read_diagram(XmlContext& x, pugi::xml_node node) {
  Diagram d;
  d.id = std::string(attr(node, "id"));
  x.each_child(node, [&](pugi::xml_node plane, QName pq) {
    if (pq.ns == Ns::kBpmnDi && pq.local == "BPMNPlane") {
      d.plane_element = std::string(attr(plane, "bpmnElement"));
      x.each_child(plane, [&](pugi::xml_node c, QName q) {
        if (q.ns == Ns::kBpmnDi && q.local == "BPMNShape") {
          DiagramShape s;
          s.element_id = std::string(attr(c, "bpmnElement"));
          s.bounds = read_bounds(x, c).value_or(Bounds{});
          s.label = read_label(x, c);
          if (pugi::xml_attribute e = c.attribute("isExpanded")) s.expanded = e.as_bool();
          d.shapes.push_back(std::move(s));
        } else if (q.ns == Ns::kBpmnDi && q.local == "BPMNEdge") {
          DiagramEdge e;
          e.element_id = std::string(attr(c, "bpmnElement"));
          x.each_child(c, [&](pugi::xml_node w, QName wq) {
            if (wq.ns == Ns::kDi && wq.local == "waypoint") {
              e.waypoints.push_back({number(w, "x"), number(w, "y")});
            }
          });
          e.label = read_label(x, c);
          d.edges.push_back(std::move(e));
        }
      });
    }
  });
  return d;
}

void read_collaboration(XmlContext& x, pugi::xml_node node, BpmnDocument& doc,
                        std::vector<pugi::xml_node>& associations) {
  x.each_child(node, [&](pugi::xml_node c, QName q) {
    if (q.ns != Ns::kBpmn) return;
    if (q.local == "association") {
      associations.push_back(c);
    } else if (q.local == "participant") {
      doc.participants.push_back({std::string(attr(c, "id")),
                                  std::string(c.attribute("name").value()),
                                  std::string(attr(c, "processRef"))});
    } else if (q.local == "messageFlow") {
      doc.message_flows.push_back(
          {std::string(attr(c, "id")), std::string(c.attribute("name").value()),
           std::string(attr(c, "sourceRef")), std::string(attr(c, "targetRef"))});
    }
  });
}

// Root elements with no execution meaning in Ordo.
constexpr std::string_view kIgnoredRootElements[] = {
    "import",          "itemDefinition",      "dataStore",
    "category",        "interface",           "resource",
    "documentation",   "extensionElements",   "relationship",
    "partnerEntity",   "partnerRole",         "endPoint",
    "eventDefinition", "correlationProperty",
};

// Zeebe Modeler before 1.0 wrote a correlation key as the name of the variable that holds
// it (correlationKey="orderId"); from 1.0 on, that is the text itself and the variable is
// "=orderId".
bool legacy_zeebe(const BpmnDocument& doc) {
  if (doc.exporter != "Zeebe Modeler") return false;
  return !doc.exporter_version.empty() && doc.exporter_version.front() == '0';
}

void read_definitions(XmlContext& x, pugi::xml_node defs, BpmnDocument& doc,
                      const LoadOptions& options) {
  doc.target_namespace = std::string(attr(defs, "targetNamespace"));
  doc.exporter = std::string(attr(defs, "exporter"));
  doc.exporter_version = std::string(attr(defs, "exporterVersion"));

  std::vector<pugi::xml_node> processes;
  std::vector<pugi::xml_node> associations;  // drawn in the collaboration
  auto diagrams = std::make_shared<std::vector<Diagram>>();
  x.each_child(defs, [&](pugi::xml_node c, QName q) {
    if (q.ns == Ns::kBpmnDi && q.local == "BPMNDiagram") {
      diagrams->push_back(read_diagram(x, c));
    } else if (q.ns != Ns::kBpmn) {
      x.warning(c, "unknown-extension",
                "element " + quote(c.name()) + " is not BPMN and is ignored");
    } else if (q.local == "process") {
      processes.push_back(c);
    } else if (q.local == "message") {
      MessageDefinition m;
      m.id = std::string(attr(c, "id"));
      m.name = make_expression(c.attribute("name").value(), x.location(c, "name"), false);
      m.location = x.location(c);
      x.each_child(c, [&](pugi::xml_node e, QName eq) {
        if (eq.ns == Ns::kBpmn && eq.local == "extensionElements") {
          read_message_extensions(x, e, m, legacy_zeebe(doc));
        }
      });
      doc.messages.push_back(std::move(m));
    } else if (q.local == "error") {
      doc.errors.push_back({std::string(attr(c, "id")), std::string(c.attribute("name").value()),
                            std::string(attr(c, "errorCode")), x.location(c)});
    } else if (q.local == "signal") {
      doc.signals.push_back(
          {std::string(attr(c, "id")), std::string(c.attribute("name").value()), x.location(c)});
    } else if (q.local == "escalation") {
      doc.escalations.push_back({std::string(attr(c, "id")),
                                 std::string(c.attribute("name").value()),
                                 std::string(attr(c, "escalationCode")), x.location(c)});
    } else if (q.local == "collaboration") {
      read_collaboration(x, c, doc, associations);
    } else if (std::find(std::begin(kIgnoredRootElements), std::end(kIgnoredRootElements),
                         q.local) == std::end(kIgnoredRootElements)) {
      x.unsupported(c, q.local);
    }
  });
  doc.diagrams = std::move(diagrams);

  for (pugi::xml_node node : processes) {
    std::size_t mark = x.ns().push(node);
    if (attr(node, "id").empty()) {
      x.error(node, "missing-id", "process has no id; give it an id unique in the file");
    } else if (attr(node, "isExecutable") == "false") {
      x.warning(node, "not-executable",
                "process " + quote(attr(node, "id")) +
                    " has isExecutable=\"false\" and is skipped; set it to \"true\" to run it");
    } else {
      std::shared_ptr<ProcessDefinition> p = build_process(x, node, doc, associations);
      if (options.task_type_defaults_to_id) {
        for (Element& e : p->elements) {
          const bool message_throw = (e.kind == ElementKind::kIntermediateThrowEvent ||
                                      e.kind == ElementKind::kEndEvent) &&
                                     e.event.type == EventType::kMessage;
          if ((message_throw || (runs_as_job(e) && e.kind != ElementKind::kUserTask)) &&
              e.task.type.empty() && e.task.origin != TaskTypeOrigin::kUnsupported) {
            e.task.type = Expression{ExpressionDialect::kStatic, e.id, e.location, nullptr};
          }
        }
      }
      compile_expressions(x, *p);
      doc.processes.push_back(std::move(p));
    }
    x.ns().pop(mark);
  }
  if (doc.processes.empty()) {
    x.error(defs, "no-executable-process",
            "the file defines no executable process; add a <process isExecutable=\"true\">");
  }
}

}  // namespace
}  // namespace parse

LoadResult load_bpmn(std::string_view xml, std::string_view file, const LoadOptions& options) {
  LoadResult result;
  // Positions are computed on the text pugixml parses, so that text must be the UTF-8 we
  // hold: Latin-1 is converted first, other encodings are refused.
  std::string converted;
  std::string encoding_problem = parse::to_utf8(xml, converted);
  if (!converted.empty()) xml = converted;
  parse::XmlContext x(xml, std::string(file), result.diagnostics);
  if (!encoding_problem.empty()) {
    x.report({1, 1}, Severity::kError, "unsupported-encoding", std::move(encoding_problem));
    return result;
  }

  pugi::xml_document tree;
  pugi::xml_parse_result parsed =
      tree.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    x.report(
        x.location_of_offset(static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, parsed.offset))),
        Severity::kError, "xml-syntax",
        std::string("the XML is not well-formed: ") + parsed.description());
    return result;
  }
  pugi::xml_node root = tree.document_element();
  std::size_t mark = x.ns().push(root);
  parse::QName q = x.ns().element(root);
  if (q.ns != parse::Ns::kBpmn || q.local != "definitions") {
    x.error(root, "not-bpmn",
            "the root element is " + parse::quote(root.name()) +
                ", not BPMN <definitions> in namespace "
                "http://www.omg.org/spec/BPMN/20100524/MODEL");
    return result;
  }
  if (!parse::check_tree(x, root)) return result;

  auto doc = std::make_shared<BpmnDocument>();
  doc->file = std::string(file);
  doc->content_hash = parse::content_hash(xml);
  doc->xml = std::string(xml);
  doc->task_type_defaults_to_id = options.task_type_defaults_to_id;
  parse::read_definitions(x, root, *doc, options);
  x.ns().pop(mark);

  if (options.validate) {
    for (const auto& p : doc->processes) validate::validate_process(*p, result.diagnostics);
  }
  x.finish();
  // Errors first (what stops the file from loading), each group in file order.
  std::stable_sort(result.diagnostics.begin(), result.diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     const bool a_error = a.severity == Severity::kError;
                     const bool b_error = b.severity == Severity::kError;
                     if (a_error != b_error) return a_error;
                     return a.line != b.line ? a.line < b.line : a.column < b.column;
                   });
  result.document = std::move(doc);
  return result;
}

LoadResult load_bpmn_file(const std::string& path, const LoadOptions& options) {
  auto unreadable = [&](std::string why) {
    LoadResult r;
    r.diagnostics.push_back(
        Diagnostic{path, 0, 0, Severity::kError, "file-unreadable",
                   "cannot read " + parse::quote(path) + ": " + std::move(why)});
    return r;
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return unreadable("it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return unreadable(std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return unreadable(std::strerror(errno));
  std::string text = std::move(buffer).str();
  return load_bpmn(text, path, options);
}

std::vector<Diagnostic> check_called_elements(
    const std::vector<std::shared_ptr<const BpmnDocument>>& documents) {
  std::vector<Diagnostic> out;
  auto defined = [&](std::string_view id) {
    for (const auto& d : documents) {
      if (d && d->find_process(id)) return true;
    }
    return false;
  };
  for (const auto& d : documents) {
    if (!d) continue;
    for (const auto& p : d->processes) {
      for (const Element& e : p->elements) {
        if (e.kind != ElementKind::kCallActivity) continue;
        const Expression& called = e.called.process_id;
        if (called.dialect != ExpressionDialect::kStatic || called.empty()) continue;
        if (defined(called.text)) continue;
        out.push_back(Diagnostic{
            p->file, called.location.line, called.location.column, Severity::kWarning,
            "unresolved-called-element",
            "call activity " + parse::quote(e.id) + " calls process " + parse::quote(called.text) +
                ", which none of the given files defines; deploy it before an instance "
                "reaches the call"});
      }
    }
  }
  return out;
}

}  // namespace ordo
