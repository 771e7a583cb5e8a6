// Business rule tasks that call a DMN decision: evaluated in the transaction that reaches
// them, against the variables the task sees, the result stored in the result variable.
#include "runtime/runtime.h"

namespace ordo::runtime {
namespace {

// Process variables keep dates and durations as ISO 8601 text, as Zeebe's do: a decision's
// {"@type": ..., "value": ...} becomes its value.
void untype(nlohmann::json& v) {
  if (v.is_object()) {
    if (v.size() == 2 && v.contains("@type") && v.contains("value") && v["value"].is_string()) {
      nlohmann::json text = std::move(v["value"]);
      v = std::move(text);
      return;
    }
    for (auto& [k, e] : v.items()) untype(e);
  } else if (v.is_array()) {
    for (auto& e : v) untype(e);
  }
}

// The value of a context with one entry (a rule's single output, as Camunda 7 shapes it).
nlohmann::json entry_of(nlohmann::json v) {
  if (v.is_object() && v.size() == 1) return std::move(v.begin().value());
  return v;
}

// The result as camunda:mapDecisionResult asks; an error when the rules matched do not fit.
Result<nlohmann::json> map_result(DecisionResultMapping mapping, nlohmann::json v) {
  auto one = [](nlohmann::json r, const char* name) -> Result<nlohmann::json> {
    if (!r.is_array()) return r;
    if (r.empty()) return nlohmann::json(nullptr);
    if (r.size() == 1) return std::move(r[0]);
    return Status::invalid_argument(std::string("mapDecisionResult ") + name + " needs at most " +
                                    "one matching rule, but " + std::to_string(r.size()) +
                                    " matched; use collectEntries or resultList");
  };
  switch (mapping) {
    case DecisionResultMapping::kWhole:
      return v;
    case DecisionResultMapping::kSingleEntry: {
      Result<nlohmann::json> r = one(std::move(v), "singleEntry");
      if (!r) return r;
      if (r->is_object() && r->size() > 1) {
        return Status::invalid_argument("mapDecisionResult singleEntry needs a decision with one "
                                        "output, but it gave " +
                                        std::to_string(r->size()) + "; use singleResult");
      }
      return entry_of(std::move(*r));
    }
    case DecisionResultMapping::kSingleResult:
      return one(std::move(v), "singleResult");
    case DecisionResultMapping::kCollectEntries: {
      nlohmann::json out = nlohmann::json::array();
      if (v.is_null()) return out;  // no rule matched
      if (!v.is_array()) v = nlohmann::json::array({std::move(v)});
      for (auto& e : v) out.push_back(entry_of(std::move(e)));
      return out;
    }
    case DecisionResultMapping::kResultList:
      if (v.is_null()) return nlohmann::json::array();
      if (!v.is_array()) return nlohmann::json::array({std::move(v)});
      return v;
  }
  return v;
}

}  // namespace

void Runtime::decide(Instance& inst, ElemKey key) {
  const ElementInstance* el = inst.find(key);
  const Element& def = inst.plan->element(el->element);
  const ElementIndex element = el->element;
  Result<std::string> id = eval_string(inst, key, def.decision.decision_id);
  if (!id) {
    incident(inst, key, IncidentRetry::kActivate, IncidentKind::kExpression,
             id.status().message());
    return;
  }
  std::shared_ptr<const DecisionModel> model =
      decision_lookup_ ? decision_lookup_(*id) : std::shared_ptr<const DecisionModel>();
  if (model == nullptr) {
    incident(inst, key, IncidentRetry::kActivate, IncidentKind::kDecision,
             "no deployed DMN file defines decision '" + *id +
                 "': deploy it (ordo deploy FILE.dmn, or with the process), then retry");
    return;
  }
  DecisionTrace trace;
  DecisionOptions options;
  options.now_ms = clock_.now_ms();
  if (detailed()) options.trace = &trace;
  Result<nlohmann::json> result = evaluate_decision(inst, key, *model, *id, options);
  if (result) result = map_result(def.decision.mapping, std::move(*result));
  if (!result) {
    incident(inst, key, IncidentRetry::kActivate, IncidentKind::kDecision,
             "decision '" + *id + "': " + result.status().message());
    return;
  }
  if (recording_) {
    std::string detail;
    if (detailed()) {
      detail = *id;
      for (const DecisionTableHit& t : trace.tables) {
        detail += (detail.size() == id->size() ? ": " : "; ") + t.decision_id + " [";
        for (std::size_t k = 0; k < t.rule_ids.size(); ++k) {
          detail += (k == 0 ? "" : ",") + t.rule_ids[k];
        }
        detail += "]";
      }
    }
    emit(inst, HistoryKind::kDecisionEvaluated, element, 0, 0, std::move(detail));
  }
  untype(*result);
  nlohmann::json out = nlohmann::json::object();
  if (!def.decision.result_variable.empty()) out[def.decision.result_variable] = std::move(*result);
  finish(inst, key, std::move(out));
}

}  // namespace ordo::runtime
