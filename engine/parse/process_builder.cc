// Builds one ProcessDefinition from a <process> element: flow nodes (recursively through
// subprocesses), sequence flows, event definitions, loops; then resolves references by id.
#include <charconv>
#include <iterator>
#include <string>
#include <vector>

#include "parse/builder.h"
#include "util/spelling.h"

namespace ordo::parse {
namespace {

struct FlowNodeName {
  std::string_view name;
  ElementKind kind;
};

constexpr FlowNodeName kFlowNodes[] = {
    {"startEvent", ElementKind::kStartEvent},
    {"endEvent", ElementKind::kEndEvent},
    {"intermediateCatchEvent", ElementKind::kIntermediateCatchEvent},
    {"intermediateThrowEvent", ElementKind::kIntermediateThrowEvent},
    {"boundaryEvent", ElementKind::kBoundaryEvent},
    {"task", ElementKind::kTask},
    {"serviceTask", ElementKind::kServiceTask},
    {"sendTask", ElementKind::kSendTask},
    {"receiveTask", ElementKind::kReceiveTask},
    {"userTask", ElementKind::kUserTask},
    {"manualTask", ElementKind::kManualTask},
    {"scriptTask", ElementKind::kScriptTask},
    {"businessRuleTask", ElementKind::kBusinessRuleTask},
    {"exclusiveGateway", ElementKind::kExclusiveGateway},
    {"parallelGateway", ElementKind::kParallelGateway},
    {"inclusiveGateway", ElementKind::kInclusiveGateway},
    {"eventBasedGateway", ElementKind::kEventBasedGateway},
    {"subProcess", ElementKind::kSubProcess},
    {"transaction", ElementKind::kSubProcess},  // with Element::transaction
    {"callActivity", ElementKind::kCallActivity},
};

// Children of a process or subprocess that carry no execution semantics.
constexpr std::string_view kArtifacts[] = {
    "laneSet",    "textAnnotation", "association",         "group",
    "dataObject", "dataStore",      "dataObjectReference", "dataStoreReference",
    "category",   "ioBinding",      "resourceRole",        "performer",
};

// Flow elements BPMN defines that Ordo does not run.
constexpr std::string_view kUnsupportedFlowElements[] = {
    "complexGateway",   "adHocSubProcess", "callChoreography", "choreographyTask",
    "subChoreography",  "implicitThrowEvent",
};

// Children of a flow node that describe data or people in ways Ordo does not use.
constexpr std::string_view kNodeChildrenIgnored[] = {
    "ioSpecification", "dataInputAssociation", "dataOutputAssociation",
    "property",        "humanPerformer",       "potentialOwner",
    "performer",       "resourceRole",         "rendering",
};

template <typename Names>
bool contains(const Names& names, std::string_view s) {
  for (std::string_view n : names) {
    if (n == s) return true;
  }
  return false;
}

struct NodeRefs {
  pugi::xml_node node;
  std::string_view default_ref;
  std::string_view attached_ref;
};

// An association between two elements: compensation boundary events name their handler
// this way.
struct AssociationRefs {
  pugi::xml_node node;
  std::string_view source;
  std::string_view target;
};

struct FlowRefs {
  pugi::xml_node node;
  std::string_view source;
  std::string_view target;
};

template <typename Items>
const typename Items::value_type* find_by_id(const Items& items, std::string_view id) {
  for (const auto& item : items) {
    if (item.id == id) return &item;
  }
  // References are sometimes written as QNames ("tns:Message_1").
  std::size_t colon = id.find(':');
  if (colon != std::string_view::npos) return find_by_id(items, id.substr(colon + 1));
  return nullptr;
}

class ProcessBuilder {
 public:
  ProcessBuilder(XmlContext& x, const BpmnDocument& doc, ProcessDefinition& p)
      : x_(x), doc_(doc), p_(p) {}

  // Reads the children of a process (owner kNoIndex) or of flow node `owner`. Processes and
  // subprocesses are scopes: their children include flow nodes and sequence flows.
  void read_children(pugi::xml_node node, ElementIndex owner, bool is_scope, int depth);
  void resolve();
  // An association drawn outside the process (in the collaboration): it counts when both
  // its ends are elements of this process.
  void add_association(pugi::xml_node a) {
    associations_.push_back({a, attr(a, "sourceRef"), attr(a, "targetRef")});
  }

 private:
  bool read_scope_member(pugi::xml_node child, QName q, ElementIndex scope, int depth);
  void read_process_child(pugi::xml_node child, QName q);
  void read_node_child(pugi::xml_node child, QName q, ElementIndex self);
  void read_flow_node(pugi::xml_node node, ElementKind kind, ElementIndex scope, int depth,
                      bool transaction);
  void read_flow(pugi::xml_node node);
  void resolve_associations();
  void read_event_definition(pugi::xml_node def, std::string_view local, Element& e);
  void read_timer(pugi::xml_node def, EventDefinition& ev);
  void read_loop(pugi::xml_node node, Element& e);
  void read_standard_loop(pugi::xml_node node, Element& e);
  void read_script_body(pugi::xml_node node, Element& e);
  void unresolved(pugi::xml_node node, const char* attribute, std::string_view ref,
                  std::string_view what);
  // Reads reference `attribute` into ev.ref and looks it up in `items`; reports a dangling
  // reference. Null when the attribute is absent or dangling.
  template <typename Items>
  const typename Items::value_type* resolve(pugi::xml_node node, const char* attribute,
                                            const Items& items, std::string_view what,
                                            EventDefinition& ev) {
    ev.ref = std::string(attr(node, attribute));
    if (ev.ref.empty()) return nullptr;
    const auto* found = find_by_id(items, ev.ref);
    if (!found) unresolved(node, attribute, ev.ref, what);
    return found;
  }
  void resolve_message(pugi::xml_node node, EventDefinition& ev) {
    if (const MessageDefinition* m =
            resolve(node, "messageRef", doc_.messages, "message in this file", ev)) {
      ev.message_name = m->name;
      ev.correlation_key = m->correlation_key;
    }
  }
  // An error or escalation reference whose definition has no code: a throw has nothing to
  // throw; a catch catches everything, which the designer did not ask for by naming one.
  void codeless_reference(pugi::xml_node def, const Element& e, std::string_view what,
                          std::string_view attribute) {
    bool is_throw =
        e.kind == ElementKind::kEndEvent || e.kind == ElementKind::kIntermediateThrowEvent;
    std::string rule = "missing-" + std::string(what) + "-code";
    std::string head = std::string(what) + " " + quote(e.event.ref) + " has no " +
                       std::string(attribute) + ", so " + std::string(describe(e.kind)) + " " +
                       quote(e.id);
    if (is_throw) {
      x_.report(x_.location(def), Severity::kError, rule,
                head + " throws nothing; give the " + std::string(what) + " a code");
    } else {
      x_.report(x_.location(def), Severity::kWarning, rule,
                head + " catches every " + std::string(what) + "; give the " + std::string(what) +
                    " a code, or remove the reference to catch all");
    }
  }
  void warn_not_bpmn(pugi::xml_node child) {
    x_.warning(child, "unknown-extension",
               "element " + quote(child.name()) +
                   " is not BPMN and is ignored; put vendor "
                   "extensions inside <extensionElements>");
  }

  XmlContext& x_;
  const BpmnDocument& doc_;
  ProcessDefinition& p_;
  std::vector<NodeRefs> node_refs_;             // parallel to p_.elements
  std::vector<FlowRefs> flow_refs_;             // parallel to p_.flows
  std::vector<AssociationRefs> associations_;
  std::vector<std::string_view> rejected_ids_;  // unsupported elements, already reported
  bool rejected(std::string_view id) const { return contains(rejected_ids_, id); }
};

void ProcessBuilder::read_children(pugi::xml_node node, ElementIndex owner, bool is_scope,
                                   int depth) {
  x_.each_child(node, [&](pugi::xml_node child, QName q) {
    if (q.ns != Ns::kBpmn) {
      warn_not_bpmn(child);
    } else if (is_scope && read_scope_member(child, q, owner, depth)) {
      // a flow node, a sequence flow or an artifact of this scope
    } else if (owner == kNoIndex) {
      read_process_child(child, q);
    } else {
      read_node_child(child, q, owner);
    }
  });
}

bool ProcessBuilder::read_scope_member(pugi::xml_node child, QName q, ElementIndex scope,
                                       int depth) {
  if (q.local == "sequenceFlow") {
    read_flow(child);
    return true;
  }
  if (q.local == "association") {
    associations_.push_back({child, attr(child, "sourceRef"), attr(child, "targetRef")});
    return true;
  }
  for (const FlowNodeName& f : kFlowNodes) {
    if (f.name == q.local) {
      if (depth + 1 >= kMaxDepth) {
        x_.error(child, "nesting-too-deep",
                 "subprocesses nest deeper than " + std::to_string(kMaxDepth) + " levels");
      } else {
        read_flow_node(child, f.kind, scope, depth + 1, q.local == "transaction");
      }
      return true;
    }
  }
  if (contains(kUnsupportedFlowElements, q.local)) {
    // Flows and boundary events referring to it are not reported again as dangling.
    if (std::string_view id = attr(child, "id"); !id.empty()) rejected_ids_.push_back(id);
    x_.unsupported(child, q.local);
    return true;
  }
  // Lanes, annotations and data objects have no execution semantics.
  return contains(kArtifacts, q.local);
}

void ProcessBuilder::read_process_child(pugi::xml_node child, QName q) {
  if (q.local == "extensionElements") {
    warn_unused_extensions(x_, child, "the process");
  } else if (q.local == "documentation") {
    p_.documentation = std::string(text_of(child));
  } else if (q.local == "ioSpecification" || q.local == "property") {
    // The process's data interface: no execution semantics in Ordo.
  } else {
    x_.unsupported(child, q.local);
  }
}

void ProcessBuilder::read_node_child(pugi::xml_node child, QName q, ElementIndex self) {
  Element& e = p_.elements[self];  // no element is added while reading these children
  if (q.local == "extensionElements") {
    read_extension_elements(x_, child, e);
  } else if (q.local == "documentation") {
    e.documentation = std::string(text_of(child));
  } else if (q.local.ends_with("EventDefinition") && is_event(e.kind)) {
    read_event_definition(child, q.local, e);
  } else if (q.local == "multiInstanceLoopCharacteristics" && is_activity(e.kind)) {
    read_loop(child, e);
  } else if (q.local == "standardLoopCharacteristics" && is_activity(e.kind)) {
    read_standard_loop(child, e);
  } else if (q.local == "script" && e.kind == ElementKind::kScriptTask) {
    read_script_body(child, e);
  } else if (q.local == "incoming" || q.local == "outgoing") {
    // Repeats the flows' sourceRef/targetRef, which are authoritative.
  } else if (contains(kNodeChildrenIgnored, q.local)) {
    x_.warning(child, "ignored-element",
               std::string(q.local) +
                   " is ignored: Ordo maps data with zeebe:ioMapping and "
                   "does not assign people");
  } else if (e.kind == ElementKind::kSubProcess || e.kind == ElementKind::kEventSubProcess) {
    x_.unsupported(child, q.local);
  } else {
    x_.warning(child, "ignored-element",
               std::string(q.local) + " inside a " + std::string(describe(e.kind)) +
                   " is not used by Ordo and is ignored");
  }
}

void ProcessBuilder::read_flow_node(pugi::xml_node node, ElementKind kind, ElementIndex scope,
                                    int depth, bool transaction) {
  std::string_view id = attr(node, "id");
  if (id.empty()) {
    x_.error(node, "missing-id",
             std::string(describe(kind)) + " has no id; give it an id unique in the file");
    return;
  }
  if (kind == ElementKind::kSubProcess && attr(node, "triggeredByEvent") == "true") {
    kind = ElementKind::kEventSubProcess;
  }
  auto self = static_cast<ElementIndex>(p_.elements.size());
  {
    Element& e = p_.elements.emplace_back();
    e.id = std::string(id);
    e.name = std::string(node.attribute("name").value());
    e.kind = kind;
    e.location = x_.location(node);
    e.scope = scope;
    e.for_compensation = attr(node, "isForCompensation") == "true";
    e.transaction = transaction;
    node_refs_.push_back({node, attr(node, "default"), attr(node, "attachedToRef")});

    if (kind == ElementKind::kBoundaryEvent) {
      e.cancel_activity = attr(node, "cancelActivity") != "false";
    } else if (kind == ElementKind::kStartEvent) {
      e.interrupting = attr(node, "isInterrupting") != "false";
    } else if (kind == ElementKind::kReceiveTask) {
      e.event.type = EventType::kMessage;
      e.event.location = e.location;
      resolve_message(node, e.event);
    } else if (kind == ElementKind::kCallActivity) {
      std::string_view called = attr(node, "calledElement");
      if (!called.empty()) {
        // Camunda 7: the attribute names the process; nothing is passed without camunda:in.
        e.called.process_id = make_expression(called, x_.location(node, "calledElement"), false);
        e.called.propagate_all_child_variables = false;
        e.called.propagate_all_parent_variables = false;
      }
    }
    read_camunda_attributes(x_, node, e);
  }
  bool is_scope = kind == ElementKind::kSubProcess || kind == ElementKind::kEventSubProcess;
  read_children(node, self, is_scope, depth);
}

void ProcessBuilder::read_flow(pugi::xml_node node) {
  SequenceFlow& f = p_.flows.emplace_back();
  f.location = x_.location(node);
  f.id = std::string(attr(node, "id"));
  if (f.id.empty()) {
    // BPMN makes the id optional; nothing refers to such a flow, but history names it.
    f.id =
        "sequenceFlow@" + std::to_string(f.location.line) + ":" + std::to_string(f.location.column);
  }
  f.name = std::string(node.attribute("name").value());
  flow_refs_.push_back({node, attr(node, "sourceRef"), attr(node, "targetRef")});
  x_.each_child(node, [&](pugi::xml_node child, QName q) {
    if (q.ns == Ns::kBpmn && q.local == "conditionExpression") {
      std::string_view language = attr(child, "language");
      if (!language.empty() && language != "feel" && language != "juel" &&
          language.find("FEEL") == std::string_view::npos) {
        x_.report(x_.location(child, "language"), Severity::kError, "unsupported-script",
                  "condition language " + quote(language) +
                      " is not supported; write the condition in FEEL (=...) or JUEL (${...})");
      }
      f.condition = make_expression(text_of(child), x_.location(child), true);
    } else if (q.ns == Ns::kBpmn && q.local == "extensionElements") {
      warn_unused_extensions(x_, child, "a sequence flow");
    } else if (!(q.ns == Ns::kBpmn && q.local == "documentation")) {
      x_.warning(child, "ignored-element",
                 "element " + quote(child.name()) + " inside a sequence flow is ignored");
    }
  });
}

void ProcessBuilder::read_event_definition(pugi::xml_node def, std::string_view local, Element& e) {
  EventDefinition& ev = e.event;
  if (ev.type != EventType::kNone) {
    x_.error(def, "multiple-event-definitions",
             std::string(describe(e.kind)) + " " + quote(e.id) +
                 " has more than one event definition; Ordo does not support multiple "
                 "events: split it into separate events");
    return;
  }
  ev.location = x_.location(def);
  if (local == "messageEventDefinition") {
    ev.type = EventType::kMessage;
    resolve_message(def, ev);
  } else if (local == "timerEventDefinition") {
    ev.type = EventType::kTimer;
    read_timer(def, ev);
  } else if (local == "errorEventDefinition") {
    ev.type = EventType::kError;
    if (const ErrorDefinition* err =
            resolve(def, "errorRef", doc_.errors, "error in this file", ev)) {
      ev.code = err->code;
      ev.ref_name = err->name;
      if (ev.code.empty()) codeless_reference(def, e, "error", "errorCode");
    }
  } else if (local == "escalationEventDefinition") {
    ev.type = EventType::kEscalation;
    if (const auto* esc =
            resolve(def, "escalationRef", doc_.escalations, "escalation in this file", ev)) {
      ev.code = esc->code;
      ev.ref_name = esc->name;
      if (ev.code.empty()) codeless_reference(def, e, "escalation", "escalationCode");
    }
  } else if (local == "signalEventDefinition") {
    ev.type = EventType::kSignal;
    if (const SignalDefinition* sig =
            resolve(def, "signalRef", doc_.signals, "signal in this file", ev)) {
      ev.ref_name = sig->name;
    }
  } else if (local == "terminateEventDefinition") {
    ev.type = EventType::kTerminate;
  } else if (local == "linkEventDefinition") {
    ev.type = EventType::kLink;
    ev.link_name = std::string(attr(def, "name"));
  } else if (local == "compensateEventDefinition") {
    ev.type = EventType::kCompensation;
    ev.activity_ref = std::string(attr(def, "activityRef"));
    ev.wait_for_completion = attr(def, "waitForCompletion") != "false";
  } else if (local == "conditionalEventDefinition") {
    ev.type = EventType::kConditional;
    x_.each_child(def, [&](pugi::xml_node c, QName q) {
      if (q.ns == Ns::kBpmn && q.local == "condition") {
        ev.condition = make_expression(text_of(c), x_.location(c), true);
      }
    });
  } else if (local == "cancelEventDefinition") {
    ev.type = EventType::kCancel;
  } else {
    x_.unsupported(def, local);
  }
}

void ProcessBuilder::read_timer(pugi::xml_node def, EventDefinition& ev) {
  x_.each_child(def, [&](pugi::xml_node c, QName q) {
    if (q.ns != Ns::kBpmn) return;
    TimerType type = q.local == "timeDate"       ? TimerType::kDate
                     : q.local == "timeDuration" ? TimerType::kDuration
                     : q.local == "timeCycle"    ? TimerType::kCycle
                                                 : TimerType::kNone;
    if (type == TimerType::kNone) return;
    if (ev.timer_type != TimerType::kNone) {
      x_.error(c, "timer-ambiguous",
               "timer has more than one of timeDate, timeDuration and timeCycle; keep one");
      return;
    }
    ev.timer_type = type;
    ev.timer = make_expression(text_of(c), x_.location(c), false);
  });
}

void ProcessBuilder::read_loop(pugi::xml_node node, Element& e) {
  MultiInstance& loop = e.loop;
  loop.present = true;
  loop.location = x_.location(node);
  loop.sequential = attr(node, "isSequential") == "true";
  for (pugi::xml_attribute a : node.attributes()) {
    QName q = x_.ns().attribute(a);
    if (q.ns != Ns::kCamunda) continue;
    SourceLocation at = x_.location(node, a.name());
    std::string_view v = trim(a.value());
    if (q.local == "collection") {
      // Camunda 7 accepts a plain variable name here; as an expression, that is a path.
      loop.input_collection = make_expression(v, at, true);
    } else if (q.local == "elementVariable") {
      loop.input_element = std::string(v);
    }
  }
  x_.each_child(node, [&](pugi::xml_node c, QName q) {
    if (q.ns == Ns::kBpmn) {
      if (q.local == "loopCardinality") {
        loop.loop_cardinality = make_expression(text_of(c), x_.location(c), true);
      } else if (q.local == "completionCondition") {
        loop.completion_condition = make_expression(text_of(c), x_.location(c), true);
      } else if (q.local == "loopDataInputRef") {
        loop.input_collection = make_expression(text_of(c), x_.location(c), true);
      } else if (q.local == "inputDataItem" || q.local == "outputDataItem") {
        // The item's variable: its name, else its id (an ItemAwareElement is named by its
        // id in the specification; modelers write either).
        std::string_view item = attr(c, "name");
        if (item.empty()) item = attr(c, "id");
        if (item.empty()) {
          x_.report(x_.location(c), Severity::kWarning, "unnamed-data-item",
                    std::string(q.local) + " of " + quote(e.id) +
                        " has neither a name nor an id, so it binds no variable; add "
                        "name=\"item\"");
        } else if (q.local == "inputDataItem") {
          loop.input_element = std::string(item);
        } else {
          loop.output_element = make_expression(item, x_.location(c), true);
        }
      } else if (q.local == "loopDataOutputRef") {
        loop.output_collection = std::string(trim(text_of(c)));
      } else if (q.local == "extensionElements") {
        read_extension_elements(x_, c, e);
      }
    }
  });
}

void ProcessBuilder::read_standard_loop(pugi::xml_node node, Element& e) {
  MultiInstance& loop = e.loop;
  loop.present = true;
  loop.standard = true;
  loop.sequential = true;
  loop.location = x_.location(node);
  loop.test_before = attr(node, "testBefore") == "true";
  if (std::string_view max = attr(node, "loopMaximum"); !max.empty()) {
    std::int64_t n = -1;
    const auto [end, ec] = std::from_chars(max.data(), max.data() + max.size(), n);
    if (ec != std::errc() || end != max.data() + max.size() || n < 0) {
      x_.report(x_.location(node, "loopMaximum"), Severity::kError, "invalid-loop-maximum",
                "loopMaximum " + quote(max) + " of " + quote(e.id) +
                    " must be a whole number, 0 or more");
    } else {
      loop.loop_maximum = n;
    }
  }
  x_.each_child(node, [&](pugi::xml_node c, QName q) {
    if (q.ns == Ns::kBpmn && q.local == "loopCondition") {
      loop.loop_condition = make_expression(text_of(c), x_.location(c), true);
    }
  });
}

void ProcessBuilder::read_script_body(pugi::xml_node node, Element& e) {
  std::string_view format = attr(node.parent(), "scriptFormat");
  std::string_view body = text_of(node);
  if (format == "feel" || format == "FEEL") {
    e.script = make_expression(body, x_.location(node), true);
    return;
  }
  // Keep the body as a static value so the validator does not also call the script missing.
  e.script = Expression{ExpressionDialect::kStatic, std::string(body), x_.location(node), nullptr};
  x_.report(x_.location(node.parent(), "scriptFormat"), Severity::kError, "unsupported-script",
            "script task " + quote(e.id) + " is written in " +
                (format.empty() ? std::string("an unnamed language") : quote(format)) +
                "; Ordo runs FEEL scripts: use <zeebe:script expression=\"=...\" "
                "resultVariable=\"...\"/>");
}

void ProcessBuilder::unresolved(pugi::xml_node node, const char* attribute, std::string_view ref,
                                std::string_view what) {
  x_.report(x_.location(node, attribute), Severity::kError, "unresolved-reference",
            std::string(attribute) + " " + quote(ref) + " does not name any " + std::string(what) +
                "; check the id");
}

void ProcessBuilder::resolve() {
  p_.index();
  for (FlowIndex i = 0; i < p_.flows.size(); ++i) {
    SequenceFlow& f = p_.flows[i];
    const FlowRefs& r = flow_refs_[i];
    auto end = [&](std::string_view ref, const char* attribute) -> ElementIndex {
      if (ref.empty()) {
        x_.report(x_.location(r.node), Severity::kError, "unresolved-reference",
                  "sequence flow " + quote(f.id) + " has no " + attribute);
        return kNoIndex;
      }
      ElementIndex e = p_.element_index(ref);
      if (e == kNoIndex && !rejected(ref)) {
        std::vector<std::string> ids;
        ids.reserve(p_.elements.size());
        for (const Element& el : p_.elements) ids.push_back(el.id);
        const std::optional<std::string> meant = util::closest_name(ref, ids);
        x_.report(x_.location(r.node, attribute), Severity::kError, "unresolved-reference",
                  std::string(attribute) + " " + quote(ref) + " of sequence flow " + quote(f.id) +
                      " does not name a flow node of process " + quote(p_.id) +
                      (meant ? "; did you mean " + quote(*meant) + "?" : std::string()));
      }
      return e;
    };
    f.source = end(r.source, "sourceRef");
    f.target = end(r.target, "targetRef");
    if (f.source != kNoIndex) p_.elements[f.source].outgoing.push_back(i);
    if (f.target != kNoIndex) p_.elements[f.target].incoming.push_back(i);
  }
  for (ElementIndex i = 0; i < p_.elements.size(); ++i) {
    Element& e = p_.elements[i];
    const NodeRefs& r = node_refs_[i];
    if (!r.default_ref.empty()) {
      FlowIndex f = p_.flow_index(r.default_ref);
      if (f == kNoIndex) {
        unresolved(r.node, "default", r.default_ref, "sequence flow of this process");
      } else if (e.kind == ElementKind::kParallelGateway ||
                 e.kind == ElementKind::kEventBasedGateway || is_event(e.kind)) {
        x_.report(x_.location(r.node, "default"), Severity::kError, "default-not-allowed",
                  std::string(describe(e.kind)) + " " + quote(e.id) +
                      " cannot have a default flow; only exclusive and inclusive gateways "
                      "and activities choose between flows");
      } else if (p_.flows[f].source != i) {
        x_.report(x_.location(r.node, "default"), Severity::kError, "default-not-outgoing",
                  "default flow " + quote(r.default_ref) + " of " + quote(e.id) +
                      " does not leave it; name one of its outgoing flows");
      } else {
        e.default_flow = f;
        p_.flows[f].is_default = true;
      }
    }
    if (e.kind == ElementKind::kBoundaryEvent) {
      if (r.attached_ref.empty()) {
        x_.error(
            r.node, "boundary-attachment",
            "boundary event " + quote(e.id) + " has no attachedToRef; attach it to an activity");
      } else if (ElementIndex target = p_.element_index(r.attached_ref); target == kNoIndex) {
        if (!rejected(r.attached_ref)) {
          unresolved(r.node, "attachedToRef", r.attached_ref, "flow node of this process");
        }
      } else {
        e.attached_to = target;
        p_.elements[target].boundary_events.push_back(i);
      }
    }
  }
  resolve_associations();
}

// A compensation boundary event names its handler by an association (either way round);
// associations of annotations and data are drawings only.
void ProcessBuilder::resolve_associations() {
  for (const AssociationRefs& a : associations_) {
    ElementIndex from = p_.element_index(a.source);
    ElementIndex to = p_.element_index(a.target);
    if (from == kNoIndex || to == kNoIndex) continue;
    if (p_.elements[to].kind == ElementKind::kBoundaryEvent) std::swap(from, to);
    const Element& boundary = p_.elements[from];
    if (boundary.kind != ElementKind::kBoundaryEvent ||
        boundary.event.type != EventType::kCompensation || boundary.attached_to == kNoIndex) {
      continue;
    }
    Element& host = p_.elements[boundary.attached_to];
    if (host.compensation_handler != kNoIndex && host.compensation_handler != to) {
      x_.report(x_.location(a.node), Severity::kError, "compensation-handler-ambiguous",
                "activity " + quote(host.id) + " has two compensation handlers, " +
                    quote(p_.elements[host.compensation_handler].id) + " and " +
                    quote(p_.elements[to].id) + "; keep one association");
      continue;
    }
    host.compensation_handler = to;
  }
}

}  // namespace

std::shared_ptr<ProcessDefinition> build_process(XmlContext& x, pugi::xml_node process,
                                                 const BpmnDocument& document,
                                                 std::span<const pugi::xml_node> associations) {
  auto p = std::make_shared<ProcessDefinition>();
  p->id = std::string(attr(process, "id"));
  p->name = std::string(process.attribute("name").value());
  p->file = x.file();
  p->location = x.location(process);
  p->diagrams = document.diagrams;
  // Children of the process bound the number of its elements and flows well enough to avoid
  // regrowing the vectors of large Element objects while reading.
  std::size_t children =
      static_cast<std::size_t>(std::distance(process.children().begin(), process.children().end()));
  p->elements.reserve(children);
  p->flows.reserve(children);
  ProcessBuilder builder(x, document, *p);
  builder.read_children(process, kNoIndex, true, 1);
  for (pugi::xml_node a : associations) builder.add_association(a);
  builder.resolve();
  return p;
}

Expression make_expression(std::string_view raw, SourceLocation at, bool always_expression) {
  Expression e;
  e.location = at;
  std::string_view t = trim(raw);
  if (!t.empty() && t.front() == '=') {
    e.dialect = ExpressionDialect::kFeel;
    e.text = std::string(trim(t.substr(1)));
  } else if (t.find("${") != std::string_view::npos || t.find("#{") != std::string_view::npos) {
    e.dialect = ExpressionDialect::kJuel;
    e.text = std::string(t);
  } else {
    e.dialect = always_expression ? ExpressionDialect::kFeel : ExpressionDialect::kStatic;
    e.text = std::string(t);
  }
  return e;
}

}  // namespace ordo::parse
