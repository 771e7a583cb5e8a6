// Business rule tasks that call a DMN decision: evaluated in the transaction that reaches
// them, against the variables the task sees, the result stored in the result variable.
#include "dmn/model.h"
#include "expr/value.h"
#include "runtime/runtime.h"

namespace ordo::runtime {
namespace {

// The result as camunda:mapDecisionResult asks, from the rule results as Camunda 7 shapes
// them (a list of contexts keyed by output name); an error when they do not fit the mapping.
Result<nlohmann::json> map_result(DecisionResultMapping mapping, nlohmann::json rules) {
  const char* name = mapping == DecisionResultMapping::kSingleEntry ? "singleEntry"
                     : mapping == DecisionResultMapping::kSingleResult ? "singleResult"
                                                                       : "collectEntries";
  if ((mapping == DecisionResultMapping::kSingleEntry ||
       mapping == DecisionResultMapping::kSingleResult) &&
      rules.size() > 1) {
    return Status::invalid_argument(std::string("mapDecisionResult ") + name +
                                    " needs at most one matching rule, but " +
                                    std::to_string(rules.size()) +
                                    " matched; use collectEntries or resultList");
  }
  if (mapping == DecisionResultMapping::kSingleEntry ||
      mapping == DecisionResultMapping::kCollectEntries) {
    for (const auto& r : rules) {
      if (r.size() > 1) {
        return Status::invalid_argument(std::string("mapDecisionResult ") + name +
                                        " needs a decision with one output, but it has " +
                                        std::to_string(r.size()) + "; use " +
                                        (rules.size() > 1 ? "resultList" : "singleResult"));
      }
    }
  }
  switch (mapping) {
    case DecisionResultMapping::kSingleEntry:
      return rules.empty() ? nlohmann::json(nullptr) : std::move(rules[0].begin().value());
    case DecisionResultMapping::kSingleResult:
      return rules.empty() ? nlohmann::json(nullptr) : std::move(rules[0]);
    case DecisionResultMapping::kCollectEntries: {
      nlohmann::json out = nlohmann::json::array();
      for (auto& r : rules) out.push_back(std::move(r.begin().value()));
      return out;
    }
    default:  // kResultList
      return rules;
  }
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
  if (result && def.decision.mapping != DecisionResultMapping::kWhole) {
    result = map_result(def.decision.mapping,
                        dmn::camunda_rule_results(*model, *id, std::move(*result)));
  }
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
  // Process variables keep dates and durations as ISO 8601 text, as Zeebe's do.
  expr::untype(*result, /*deep=*/true);
  nlohmann::json out = nlohmann::json::object();
  if (!def.decision.result_variable.empty()) out[def.decision.result_variable] = std::move(*result);
  finish(inst, key, std::move(out));
}

}  // namespace ordo::runtime
