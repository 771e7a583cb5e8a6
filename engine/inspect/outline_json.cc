// `ordo inspect --json`: the loaded model as data.
#include <nlohmann/json.hpp>

#include "inspect/common.h"
#include "ordo/inspect.h"

namespace ordo {
namespace {

using nlohmann::json;

json expr(const Expression& e) {
  if (e.empty()) return nullptr;
  return {{"dialect", to_string(e.dialect)}, {"text", e.text}};
}

json mappings(const std::vector<IoMapping>& v) {
  json out = json::array();
  for (const IoMapping& m : v) out.push_back({{"source", expr(m.source)}, {"target", m.target}});
  return out;
}

json element_json(const ProcessDefinition& p, const Element& e) {
  json j = {{"id", e.id},
            {"kind", to_string(e.kind)},
            {"name", e.name},
            {"line", e.location.line},
            {"column", e.location.column}};
  j["scope"] = e.scope == kNoIndex ? json(nullptr) : json(p.elements[e.scope].id);
  json outgoing = json::array();
  for (FlowIndex f : e.outgoing) outgoing.push_back(p.flows[f].id);
  j["outgoing"] = std::move(outgoing);
  if (e.default_flow != kNoIndex) j["default"] = p.flows[e.default_flow].id;
  if (e.event.type != EventType::kNone) {
    const EventDefinition& ev = e.event;
    json event = {{"type", to_string(ev.type)}};
    if (ev.type == EventType::kMessage) {
      event["message"] = expr(ev.message_name);
      event["correlationKey"] = expr(ev.correlation_key);
    } else if (ev.type == EventType::kTimer) {
      event["timerType"] = to_string(ev.timer_type);
      event["timer"] = expr(ev.timer);
    } else if (ev.type == EventType::kError || ev.type == EventType::kEscalation) {
      event["code"] = ev.code;
    } else if (ev.type == EventType::kLink) {
      event["link"] = ev.link_name;
    } else if (ev.type == EventType::kSignal) {
      event["signal"] = ev.ref_name;
    }
    j["event"] = std::move(event);
  }
  if (e.kind == ElementKind::kBoundaryEvent) {
    j["attachedTo"] =
        e.attached_to == kNoIndex ? json(nullptr) : json(p.elements[e.attached_to].id);
    j["interrupting"] = e.cancel_activity;
  }
  if (!e.task.type.empty()) {
    j["taskType"] = expr(e.task.type);
    if (!e.task.retries.empty()) j["retries"] = expr(e.task.retries);
  }
  if (!e.headers.empty()) {
    json h = json::object();
    for (const TaskHeader& th : e.headers) h[th.key] = th.value;
    j["headers"] = std::move(h);
  }
  if (!e.inputs.empty()) j["inputs"] = mappings(e.inputs);
  if (!e.outputs.empty()) j["outputs"] = mappings(e.outputs);
  if (!e.script.empty()) {
    j["script"] = expr(e.script);
    j["resultVariable"] = e.result_variable;
  }
  if (!e.called.process_id.empty()) j["calledElement"] = expr(e.called.process_id);
  if (e.loop.present) {
    j["multiInstance"] = {{"sequential", e.loop.sequential},
                          {"inputCollection", expr(e.loop.input_collection)},
                          {"inputElement", e.loop.input_element},
                          {"outputCollection", e.loop.output_collection},
                          {"outputElement", expr(e.loop.output_element)},
                          {"loopCardinality", expr(e.loop.loop_cardinality)},
                          {"completionCondition", expr(e.loop.completion_condition)}};
  }
  return j;
}

}  // namespace

std::string outline_json(const BpmnDocument& doc) {
  json processes = json::array();
  for (const auto& p : doc.processes) {
    json elements = json::array();
    for (const Element& e : p->elements) elements.push_back(element_json(*p, e));
    json flows = json::array();
    for (const SequenceFlow& f : p->flows) {
      flows.push_back(
          {{"id", f.id},
           {"name", f.name},
           {"source", f.source == kNoIndex ? json(nullptr) : json(p->elements[f.source].id)},
           {"target", f.target == kNoIndex ? json(nullptr) : json(p->elements[f.target].id)},
           {"condition", expr(f.condition)},
           {"default", f.is_default}});
    }
    inspect::ProcessSummary s = inspect::summarize(*p);
    processes.push_back({{"id", p->id},
                         {"name", p->name},
                         {"line", p->location.line},
                         {"elements", std::move(elements)},
                         {"flows", std::move(flows)},
                         {"taskTypes", s.task_types},
                         {"messages", s.messages},
                         {"errors", s.errors},
                         {"timers", s.timers}});
  }
  json messages = json::array();
  for (const MessageDefinition& m : doc.messages) {
    messages.push_back(
        {{"id", m.id}, {"name", expr(m.name)}, {"correlationKey", expr(m.correlation_key)}});
  }
  json errors = json::array();
  for (const ErrorDefinition& e : doc.errors) {
    errors.push_back({{"id", e.id}, {"name", e.name}, {"code", e.code}});
  }
  std::size_t shapes = 0, edges = 0;
  if (doc.diagrams) {
    for (const Diagram& d : *doc.diagrams) {
      shapes += d.shapes.size();
      edges += d.edges.size();
    }
  }
  json out = {{"file", doc.file},
              {"processes", std::move(processes)},
              {"messages", std::move(messages)},
              {"errors", std::move(errors)},
              {"diagram", {{"shapes", shapes}, {"edges", edges}}}};
  // Names quote the file, which may hold invalid UTF-8: replace, never throw.
  return out.dump(2, ' ', false, json::error_handler_t::replace);
}

}  // namespace ordo
