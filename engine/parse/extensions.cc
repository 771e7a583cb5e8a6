// Zeebe (Camunda 8) and Camunda 7 extensions: the parts of a model that BPMN leaves to
// vendors, such as a service task's job type or a call activity's variable mappings.
#include <cstring>
#include <string>

#include "parse/builder.h"

namespace ordo::parse {
namespace {

bool parse_bool(std::string_view v, bool fallback) {
  if (v == "true") return true;
  if (v == "false") return false;
  return fallback;
}

// Zeebe elements Ordo accepts but that do not change how it runs a process (forms, user task
// assignment, modeler properties): no warning.
bool is_zeebe_metadata(std::string_view local) {
  static constexpr std::string_view kNames[] = {
      "assignmentDefinition",
      "formDefinition",
      "userTask",
      "taskSchedule",
      "priorityDefinition",
      "properties",
      "versionTag",
      "linkedResources",
      "property",
      "header",
  };
  for (std::string_view n : kNames) {
    if (n == local) return true;
  }
  return false;
}

bool is_camunda_metadata(std::string_view local) {
  static constexpr std::string_view kNames[] = {"properties", "formData", "property", "formField",
                                                "field"};
  for (std::string_view n : kNames) {
    if (n == local) return true;
  }
  return false;
}

IoMapping zeebe_mapping(XmlContext& x, pugi::xml_node node) {
  IoMapping m;
  m.source = make_expression(attr(node, "source"), x.location(node, "source"), false);
  m.target = std::string(attr(node, "target"));
  return m;
}

void read_zeebe(XmlContext& x, pugi::xml_node node, std::string_view local, Element& e) {
  if (local == "taskDefinition") {
    e.task.type = make_expression(attr(node, "type"), x.location(node, "type"), false);
    if (e.task.type.empty()) e.task.type.location = x.location(node);
    std::string_view retries = attr(node, "retries");
    if (!retries.empty()) {
      e.task.retries = make_expression(retries, x.location(node, "retries"), false);
    }
    e.task.origin = TaskTypeOrigin::kZeebe;
  } else if (local == "ioMapping") {
    x.each_child(node, [&](pugi::xml_node c, QName q) {
      if (q.ns == Ns::kZeebe && q.local == "input") {
        e.inputs.push_back(zeebe_mapping(x, c));
      } else if (q.ns == Ns::kZeebe && q.local == "output") {
        e.outputs.push_back(zeebe_mapping(x, c));
      } else {
        x.warning(c, "unknown-extension",
                  "element " + quote(c.name()) +
                      " inside zeebe:ioMapping is not known; "
                      "use zeebe:input or zeebe:output");
      }
    });
  } else if (local == "taskHeaders") {
    x.each_child(node, [&](pugi::xml_node h, QName) {
      e.headers.push_back({std::string(attr(h, "key")), std::string(h.attribute("value").value())});
    });
  } else if (local == "calledElement") {
    e.called.process_id =
        make_expression(attr(node, "processId"), x.location(node, "processId"), false);
    if (e.called.process_id.empty()) e.called.process_id.location = x.location(node);
    e.called.propagate_all_child_variables =
        parse_bool(attr(node, "propagateAllChildVariables"), true);
    e.called.propagate_all_parent_variables =
        parse_bool(attr(node, "propagateAllParentVariables"), true);
  } else if (local == "loopCharacteristics") {
    e.loop.input_collection =
        make_expression(attr(node, "inputCollection"), x.location(node, "inputCollection"), false);
    e.loop.input_element = std::string(attr(node, "inputElement"));
    e.loop.output_collection = std::string(attr(node, "outputCollection"));
    e.loop.output_element =
        make_expression(attr(node, "outputElement"), x.location(node, "outputElement"), false);
  } else if (local == "script") {
    e.script = make_expression(attr(node, "expression"), x.location(node, "expression"), true);
    if (e.script.empty()) e.script.location = x.location(node);
    e.result_variable = std::string(attr(node, "resultVariable"));
  } else if (local == "calledDecision") {
    e.decision.decision_id =
        make_expression(attr(node, "decisionId"), x.location(node, "decisionId"), false);
    if (e.decision.decision_id.empty()) e.decision.decision_id.location = x.location(node);
    e.decision.result_variable = std::string(attr(node, "resultVariable"));
    e.decision.mapping = DecisionResultMapping::kWhole;
  } else if (local == "executionListeners" || local == "taskListeners") {
    x.warning(node, "ignored-extension",
              "zeebe:" + std::string(local) + " is ignored: Ordo does not run listeners");
  } else if (!is_zeebe_metadata(local)) {
    x.warning(node, "unknown-extension",
              "unknown Zeebe extension zeebe:" + std::string(local) + " is ignored");
  }
}

void read_camunda_io(XmlContext& x, pugi::xml_node node, Element& e) {
  x.each_child(node, [&](pugi::xml_node c, QName q) {
    bool input = q.local == "inputParameter";
    if (q.ns != Ns::kCamunda || (!input && q.local != "outputParameter")) return;
    if (c.find_child([](pugi::xml_node n) { return n.type() == pugi::node_element; })) {
      x.warning(c, "ignored-extension",
                "camunda:" + std::string(q.local) +
                    " with a list, map or script value is "
                    "ignored; write the value as an expression");
      return;
    }
    IoMapping m;
    m.target = std::string(attr(c, "name"));
    m.source = make_expression(text_of(c), x.location(c), false);
    (input ? e.inputs : e.outputs).push_back(std::move(m));
  });
}

void read_camunda(XmlContext& x, pugi::xml_node node, std::string_view local, Element& e) {
  if (local == "inputOutput") {
    read_camunda_io(x, node, e);
  } else if (local == "in" || local == "out") {
    bool in = local == "in";
    if (attr(node, "variables") == "all") {
      (in ? e.called.propagate_all_parent_variables : e.called.propagate_all_child_variables) =
          true;
      return;
    }
    IoMapping m;
    std::string_view source = attr(node, "source");
    std::string_view source_expr = attr(node, "sourceExpression");
    // `source` names a variable (read as a FEEL name: a missing one passes null, as in
    // Camunda); `sourceExpression` is an expression.
    m.source = source_expr.empty()
                   ? Expression{ExpressionDialect::kFeel, std::string(source),
                                x.location(node, "source"), nullptr}
                   : make_expression(source_expr, x.location(node, "sourceExpression"), true);
    m.target = std::string(attr(node, "target"));
    (in ? e.inputs : e.outputs).push_back(std::move(m));
  } else if (local == "failedJobRetryTimeCycle") {
    e.task.retry_backoff = make_expression(text_of(node), x.location(node), false);
  } else if (local == "connector") {
    e.task.origin = TaskTypeOrigin::kUnsupported;
    x.error(node, "unsupported-element",
            "camunda:connector is not supported; use camunda:type=\"external\" with "
            "camunda:topic and an Ordo adapter for the topic");
  } else if (local == "executionListener" || local == "taskListener") {
    x.warning(node, "ignored-extension",
              "camunda:" + std::string(local) + " is ignored: Ordo does not run Java listeners");
  } else if (!is_camunda_metadata(local)) {
    x.warning(node, "unknown-extension",
              "unknown Camunda extension camunda:" + std::string(local) + " is ignored");
  }
}

}  // namespace

void read_extension_elements(XmlContext& x, pugi::xml_node ext, Element& e) {
  x.each_child(ext, [&](pugi::xml_node c, QName q) {
    if (q.ns == Ns::kZeebe) {
      read_zeebe(x, c, q.local, e);
    } else if (q.ns == Ns::kCamunda) {
      read_camunda(x, c, q.local, e);
    } else {
      x.warning(c, "unknown-extension",
                "extension element " + quote(c.name()) + " is not known to Ordo and is ignored");
    }
  });
}

void read_camunda_attributes(XmlContext& x, pugi::xml_node node, Element& e) {
  std::string_view type, topic;
  const char* type_attribute = "";
  for (pugi::xml_attribute a : node.attributes()) {
    QName q = x.ns().attribute(a);
    if (q.ns != Ns::kCamunda) continue;
    std::string_view v = trim(a.value());
    SourceLocation at = x.location(node, a.name());
    if (q.local == "type") {
      type = v;
      type_attribute = a.name();
    } else if (q.local == "topic") {
      topic = v;
      e.task.type = make_expression(v, at, false);
    } else if (q.local == "class") {
      e.task.type = Expression{ExpressionDialect::kStatic, std::string(v), at, nullptr};
      e.task.origin = TaskTypeOrigin::kCamundaClass;
    } else if (q.local == "expression" || q.local == "delegateExpression") {
      e.task.type = Expression{ExpressionDialect::kStatic, std::string(v), at, nullptr};
      e.task.origin = TaskTypeOrigin::kCamundaExpression;
    } else if (q.local == "asyncBefore" || q.local == "async") {
      e.async_before = v == "true";
    } else if (q.local == "asyncAfter") {
      e.async_after = v == "true";
    } else if (q.local == "resultVariable") {
      e.result_variable = std::string(v);
    } else if (q.local == "decisionRef") {
      e.decision.decision_id = make_expression(v, at, false);
      if (e.decision.mapping == DecisionResultMapping::kWhole) {
        e.decision.mapping = DecisionResultMapping::kResultList;  // Camunda 7's default
      }
    } else if (q.local == "mapDecisionResult") {
      if (v == "singleEntry") {
        e.decision.mapping = DecisionResultMapping::kSingleEntry;
      } else if (v == "singleResult") {
        e.decision.mapping = DecisionResultMapping::kSingleResult;
      } else if (v == "collectEntries") {
        e.decision.mapping = DecisionResultMapping::kCollectEntries;
      } else if (v == "resultList") {
        e.decision.mapping = DecisionResultMapping::kResultList;
      } else {
        x.report(at, Severity::kError, "invalid-decision-result-mapping",
                 "camunda:mapDecisionResult " + quote(v) +
                     " is not one of singleEntry, singleResult, collectEntries, resultList");
      }
    } else if (q.local == "decisionRefBinding" && v != "latest") {
      x.report(at, Severity::kWarning, "decision-binding",
               "camunda:decisionRefBinding " + quote(v) +
                   " is not followed: Ordo calls the latest deployed version of the decision");
    }
  }
  if (!e.decision.decision_id.empty() && e.decision.result_variable.empty()) {
    e.decision.result_variable = e.result_variable;  // camunda:resultVariable
  }
  if (!topic.empty() || type == "external") {
    e.task.origin = TaskTypeOrigin::kCamundaExternal;
    if (topic.empty()) e.task.type = Expression{};
  } else if (!type.empty()) {
    e.task.origin = TaskTypeOrigin::kUnsupported;
    x.report(x.location(node, type_attribute), Severity::kError, "unsupported-element",
             "camunda:type=" + quote(type) +
                 " is not supported; use camunda:type=\"external\" "
                 "with camunda:topic");
  }
}

void read_message_extensions(XmlContext& x, pugi::xml_node ext, MessageDefinition& m,
                             bool legacy_zeebe) {
  x.each_child(ext, [&](pugi::xml_node c, QName q) {
    if (q.ns == Ns::kZeebe && q.local == "subscription") {
      const SourceLocation at = x.location(c, "correlationKey");
      m.correlation_key = make_expression(attr(c, "correlationKey"), at, false);
      Expression& key = m.correlation_key;
      if (legacy_zeebe && key.dialect == ExpressionDialect::kStatic && !key.text.empty()) {
        x.report(at, Severity::kWarning, "legacy-correlation-key",
                 "correlation key " + quote(key.text) + " of message " + quote(m.id) +
                     " is read as the variable of that name, as Zeebe Modeler before 1.0 "
                     "meant it; today it is written correlationKey=\"=" + key.text + "\"");
        key.dialect = ExpressionDialect::kFeel;
      }
    } else if (!(q.ns == Ns::kZeebe && is_zeebe_metadata(q.local))) {
      x.warning(c, "unknown-extension",
                "extension element " + quote(c.name()) + " on a message is ignored");
    }
  });
}

void warn_unused_extensions(XmlContext& x, pugi::xml_node ext, std::string_view where) {
  x.each_child(ext, [&](pugi::xml_node c, QName q) {
    if ((q.ns == Ns::kZeebe && is_zeebe_metadata(q.local)) ||
        (q.ns == Ns::kCamunda && is_camunda_metadata(q.local))) {
      return;
    }
    if (q.ns == Ns::kCamunda && (q.local == "executionListener" || q.local == "taskListener")) {
      x.warning(
          c, "ignored-extension",
          "camunda:" + std::string(q.local) + " is ignored: Ordo does not run Java listeners");
      return;
    }
    x.warning(c, "unknown-extension",
              "extension element " + quote(c.name()) + " on " + std::string(where) +
                  " is not used by Ordo and is ignored");
  });
}

}  // namespace ordo::parse
