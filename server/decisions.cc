// /v1/decisions: DMN decisions deployed with the processes (POST /v1/deployments takes a DMN
// file too), listed and evaluated over HTTP.
#include "api.h"
#include "request.h"
#include "views.h"

namespace ordo::server {

using nlohmann::json;

Response Api::deploy_decisions(const std::string& name, const std::string& xml) {
  DecisionLoad loaded = load_decisions({DecisionSource{name, xml}});
  if (!loaded.ok()) {
    json out = {{"error",
                 {{"status", 400},
                  {"message", "the decision model has errors"},
                  {"diagnostics", json::parse(diagnostics_to_json(loaded.diagnostics))}}}};
    return json_response(400, out);
  }
  Result<std::vector<Deployment>> known = engine_.decision_deployments();
  if (!known) return from_status(known.status());
  Result<std::vector<Deployment>> deployed = engine_.deploy_decisions(std::move(loaded.model));
  if (!deployed) return from_status(deployed.status());
  json list = json::array();
  for (const Deployment& d : *deployed) {
    list.push_back(
        {{"decisionId", d.process_id}, {"version", d.version}, {"contentHash", d.content_hash}});
  }
  Result<std::vector<Deployment>> now_known = engine_.decision_deployments();
  if (!now_known) return from_status(now_known.status());
  const bool created = now_known->size() > known->size();
  return json_response(created ? 201 : 200, {{"deployments", list}, {"new", created}});
}

Response Api::decisions(const Request& r, const std::vector<std::string_view>& seg) {
  if (seg.size() == 2 && (r.method == "GET" || r.method == "HEAD")) {
    Result<std::vector<Deployment>> deployed = engine_.decision_deployments();
    if (!deployed) return from_status(deployed.status());
    json list = json::array();
    for (const Deployment& d : *deployed) {
      list.push_back({{"decisionId", d.process_id},
                      {"version", d.version},
                      {"contentHash", d.content_hash},
                      {"deployedAt", when_view(d.deployed_ms)}});
    }
    return json_response(200, {{"decisions", list}});
  }
  if (seg.size() == 4 && seg[3] == "evaluate" && r.method == "POST") {
    json body;
    Response error;
    if (!parse_object(r, body, error)) return error;
    if (!check_fields(body, {{"variables", json::value_t::object}}, error)) return error;
    // Again, numbers from their text: 0.1 reaches FEEL as 0.1, 20 digits as 20 digits.
    if (std::optional<json> exact = parse_decision_json(r.body.empty() ? "{}" : r.body)) {
      body = std::move(*exact);
    }
    DecisionTrace trace;
    Result<json> result =
        engine_.evaluate_decision(seg[2], body.value("variables", json::object()), &trace);
    if (!result) return from_status(result.status());
    json matched = json::array();
    for (const DecisionTableHit& t : trace.tables) {
      matched.push_back({{"decisionId", t.decision_id}, {"ruleIds", t.rule_ids}});
    }
    const json answer = {{"result", *result}, {"matchedRules", matched}};
    return {200, dump_decision_json(answer), "application/json", 0, {}};
  }
  return error_response(404, "no such resource: " + r.path +
                                 " (GET /v1/decisions, POST /v1/decisions/{id}/evaluate)");
}

}  // namespace ordo::server
