// Deploying processes, and finding the deployed version a command names (also one another
// process deployed to a shared store).

#include "dmn/model.h"
#include "expr/expr.h"
#include "facade/impl.h"

namespace ordo {

// The plan of a stored version (0: the latest), loading its document when needed (a
// version another process deployed to a shared store).
std::shared_ptr<const state::Plan> Engine::Impl::load_plan(std::string_view process_id,
                                                             int version) {
  plan_error = Status::ok();
  if (version == 0) {
    // The common case, on every start: the latest version is the one known here.
    Result<int> latest = store->latest_version(process_id);
    if (!latest) plan_error = latest.status();
    if (!latest || *latest == 0) return nullptr;
    if (auto p = rt.known_plan(process_id, *latest)) return p;
    version = *latest;
  }
  if (auto p = rt.known_plan(process_id, version)) return p;
  Result<std::vector<store::DeploymentRow>> rows = store->deployments(process_id);
  if (!rows) plan_error = rows.status();
  if (!rows || rows->empty()) return nullptr;
  const store::DeploymentRow* row = &rows->back();
  if (version != 0) {
    row = nullptr;
    for (const auto& r : *rows) {
      if (r.version == version) row = &r;
    }
    if (row == nullptr) return nullptr;
  }
  if (auto p = rt.known_plan(process_id, row->version)) return p;
  std::shared_ptr<const BpmnDocument> doc = document_of(*row);
  if (doc == nullptr) return nullptr;
  const ProcessDefinition* def = doc->find_process(process_id);
  if (def == nullptr) return nullptr;
  std::shared_ptr<const ProcessDefinition> process;
  for (const auto& p : doc->processes) {
    if (p.get() == def) process = p;
  }
  auto plan = state::make_plan(doc, process, row->version, row->content_hash);
  rt.add_plan(plan);
  return plan;
}

std::shared_ptr<const BpmnDocument> Engine::Impl::document_of(const store::DeploymentRow& row) {
  if (auto it = documents.find(row.content_hash); it != documents.end()) return it->second;
  LoadOptions lo;
  lo.task_type_defaults_to_id = (row.load_flags & 1) != 0;
  LoadResult loaded = load_bpmn(row.xml, row.file, lo);
  if (!loaded.document) return nullptr;
  documents.emplace(row.content_hash, loaded.document);
  return loaded.document;
}

void Engine::Impl::notice_deployments() {
  if (!store->shared()) return;
  const auto now = std::chrono::steady_clock::now();
  if (known_deployments >= 0 && now - deployments_seen < std::chrono::seconds(1)) return;
  deployments_seen = now;
  Result<std::int64_t> count = store->deployment_count();
  if (!count || *count == known_deployments) return;  // a store error: the command says it
  if (load_deployments()) known_deployments = *count;
}

Status Engine::Impl::load_deployments() {
  Result<std::vector<store::DeploymentRow>> rows = store->deployments();
  if (!rows) return rows.status();
  for (const auto& row : *rows) {
    if ((row.load_flags & kDecisionFlag) != 0) {
      note_decision(row);
    } else {
      (void)load_plan(row.process_id, row.version);
    }
  }
  return Status::ok();
}

void Engine::Impl::note_decision(const store::DeploymentRow& row) {
  const std::string_view id = std::string_view(row.process_id).substr(kDecisionRow.size());
  if (auto it = decisions.find(id); it != decisions.end() && it->second.version >= row.version) {
    return;
  }
  std::shared_ptr<const DecisionModel> model;
  if (auto m = decision_models.find(row.content_hash); m != decision_models.end()) {
    model = m->second;
  } else {
    DecisionLoad loaded = load_decisions({DecisionSource{row.file, row.xml}});
    if (!loaded.model) return;  // stored by a newer Ordo that reads more: not callable here
    model = loaded.model;
    decision_models.emplace(row.content_hash, model);
  }
  decisions.insert_or_assign(std::string(id), DeployedDecision{row.version, std::move(model)});
}

std::shared_ptr<const DecisionModel> Engine::Impl::decision(std::string_view id) {
  auto it = decisions.find(id);
  // On a shared store another engine may have deployed it, or a newer version of it.
  bool look = it == decisions.end();
  if (!look && store->shared()) {
    Result<int> latest = store->latest_version(std::string(kDecisionRow) + std::string(id));
    look = latest && *latest > it->second.version;
  }
  if (look) {
    Result<std::vector<store::DeploymentRow>> rows =
        store->deployments(std::string(kDecisionRow) + std::string(id));
    if (!rows || rows->empty()) return nullptr;
    note_decision(rows->back());
    it = decisions.find(id);
  }
  return it == decisions.end() ? nullptr : it->second.model;
}

// The version a start request names (the latest when 0), with a none start event.
Result<std::shared_ptr<const state::Plan>> Engine::Impl::plan_for(const StartRequest& request) {
  // Another process may have deployed a newer version to a shared store.
  std::shared_ptr<const state::Plan> plan = load_plan(request.process_id, request.version);
  if (plan == nullptr && !plan_error.is_ok()) return plan_error;  // the store, not the name
  if (plan == nullptr) {
    return Status::not_found(
        "no process '" + request.process_id + "'" +
        (request.version ? " version " + std::to_string(request.version) : std::string()) +
        " is deployed");
  }
  if (plan->none_start[plan->scope_slot(kNoIndex)] == kNoIndex) {
    return Status::invalid_argument("process '" + request.process_id +
                                    "' has no none start event; start it with a message");
  }
  return plan;
}

Result<std::vector<Deployment>> Engine::deploy(std::shared_ptr<const BpmnDocument> document) {
  Impl::Call call(*impl_);
  if (!document) return Status::invalid_argument("no document to deploy");
  // What would fail after storing fails before: nothing of a refused document is kept.
  for (const auto& process : document->processes) {
    auto plan = state::make_plan(document, process, 0, document->content_hash);
    if (Status s = impl_->rt.check_start_timers(*plan); !s) return s;
  }
  // The new versions and their timer start events, in one transaction.
  std::vector<Deployment> out;
  store::Store& stored = *impl_->store;
  runtime::Runtime& rt = impl_->rt;
  std::vector<std::shared_ptr<const state::Plan>> added;
  if (Status s = rt.begin_group(); !s) return s;
  auto fail = [&](Status s) -> Result<std::vector<Deployment>> {
    rt.abort_group();
    return s;
  };
  for (const auto& process : document->processes) {
    Result<std::vector<store::DeploymentRow>> versions = stored.deployments(process->id);
    if (!versions) return fail(versions.status());
    const int latest = versions->empty() ? 0 : versions->back().version;
    // As Zeebe: the same content as the latest version is that version; anything else (an
    // older version's content included) becomes a new latest version.
    if (latest > 0 && versions->back().content_hash == document->content_hash &&
        !document->content_hash.empty()) {
      out.push_back({process->id, latest, document->content_hash});
      continue;
    }
    const int version = latest + 1;
    Status s = stored.add_deployment({process->id, version, document->content_hash, document->file,
                                      document->xml, document->task_type_defaults_to_id ? 1 : 0,
                                      impl_->clock->now_ms()});
    auto plan = state::make_plan(document, process, version, document->content_hash);
    if (s) s = rt.arm_start_timers(*plan);
    if (!s) return fail(s);
    added.push_back(std::move(plan));
    out.push_back({process->id, version, document->content_hash});
  }
  if (Status s = rt.end_group(); !s) return s;
  impl_->documents.emplace(document->content_hash, document);
  for (auto& plan : added) rt.add_plan(std::move(plan));
  return out;
}

namespace {

// Why a file cannot be deployed: its errors, one per line.
Status refused(const std::string& file, const std::vector<Diagnostic>& diagnostics) {
  std::string message = "cannot deploy " + file + ":";
  for (const Diagnostic& d : diagnostics) {
    if (d.severity == Severity::kError) message += "\n  " + format_diagnostic(d);
  }
  return Status::invalid_definition(std::move(message));
}

}  // namespace

Result<std::vector<Deployment>> Engine::deploy_decisions(const std::string& file,
                                                         std::string xml) {
  DecisionLoad loaded = load_decisions({DecisionSource{file, std::move(xml)}});
  if (!loaded.ok()) return refused(file, loaded.diagnostics);
  return deploy_decisions(std::move(loaded.model));
}

Result<std::vector<Deployment>> Engine::deploy_decisions(
    std::shared_ptr<const DecisionModel> model) {
  if (!model) return Status::invalid_argument("no decision model to deploy");
  Impl::Call call(*impl_);
  const std::string& hash = model->content_hash;
  std::vector<Deployment> out;
  std::vector<store::DeploymentRow> added;
  store::Store& stored = *impl_->store;
  runtime::Runtime& rt = impl_->rt;
  if (Status s = rt.begin_group(); !s) return s;
  for (const DecisionInfo& d : list_decisions(*model)) {
    if (d.kind != "decision" || d.id.empty()) continue;
    const std::string row_id = std::string(Impl::kDecisionRow) + d.id;
    Result<std::vector<store::DeploymentRow>> versions = stored.deployments(row_id);
    if (!versions) {
      rt.abort_group();
      return versions.status();
    }
    const int latest = versions->empty() ? 0 : versions->back().version;
    if (latest > 0 && versions->back().content_hash == hash) {
      out.push_back({d.id, latest, hash, versions->back().deployed_ms, true});
      continue;
    }
    store::DeploymentRow row{row_id, latest + 1, hash, model->file, model->xml,
                             Impl::kDecisionFlag, impl_->clock->now_ms()};
    if (Status s = stored.add_deployment(row); !s) {
      rt.abort_group();
      return s;
    }
    out.push_back({d.id, row.version, hash, row.deployed_ms, true});
    added.push_back(std::move(row));
  }
  if (Status s = rt.end_group(); !s) return s;
  impl_->decision_models.emplace(hash, std::move(model));
  for (const store::DeploymentRow& row : added) impl_->note_decision(row);
  return out;
}

Result<std::vector<Deployment>> Engine::decision_deployments() const {
  Impl::Call call(*impl_);
  std::vector<Deployment> out;
  Result<std::vector<store::DeploymentRow>> rows = impl_->store->deployments();
  if (!rows) return rows.status();
  for (auto& r : *rows) {
    if ((r.load_flags & Impl::kDecisionFlag) == 0) continue;
    out.push_back({r.process_id.substr(Impl::kDecisionRow.size()), r.version, r.content_hash,
                   r.deployed_ms, true});
  }
  return out;
}

Result<nlohmann::json> Engine::evaluate_decision(std::string_view decision_id,
                                                 const nlohmann::json& inputs,
                                                 DecisionTrace* trace) const {
  std::shared_ptr<const DecisionModel> model;
  if (impl_->dispatching_here()) {
    // A handler that run_until_idle runs (the segments adapter's decision): this thread
    // holds the engine already.
    model = impl_->decision(decision_id);
  } else {
    Impl::Call call(*impl_);
    model = impl_->decision(decision_id);
  }
  if (model == nullptr) {
    return Status::not_found("no decision '" + std::string(decision_id) + "' is deployed");
  }
  DecisionOptions options;
  options.now_ms = impl_->clock->now_ms();
  options.trace = trace;
  const expr::JsonVariables given(inputs);
  return dmn::evaluate(*model, decision_id, given, options, /*by_id=*/true);
}

Result<std::vector<Deployment>> Engine::deploy_file(const std::string& path) {
  if (path.ends_with(".dmn")) {
    DecisionLoad decisions = load_decision_files({path});
    if (!decisions.ok()) return refused(path, decisions.diagnostics);
    return deploy_decisions(std::move(decisions.model));
  }
  LoadResult loaded = load_bpmn_file(path);
  if (!loaded.ok()) return refused(path, loaded.diagnostics);
  return deploy(loaded.document);
}

Result<std::vector<Deployment>> Engine::deployments() const {
  Impl::Call call(*impl_);
  std::vector<Deployment> out;
  Result<std::vector<store::DeploymentRow>> rows = impl_->store->deployments();
  if (!rows) return rows.status();
  for (auto& r : *rows) {
    if ((r.load_flags & Impl::kDecisionFlag) != 0) continue;  // decision_deployments()
    out.push_back({r.process_id, r.version, r.content_hash, r.deployed_ms});
  }
  return out;
}

Result<std::string> Engine::deployment_xml(std::string_view process_id, int version) const {
  Impl::Call call(*impl_);
  Result<std::vector<store::DeploymentRow>> rows = impl_->store->deployments(process_id);
  if (!rows) return rows.status();
  for (store::DeploymentRow& r : *rows) {
    if (r.version == version && (r.load_flags & Impl::kDecisionFlag) == 0) return std::move(r.xml);
  }
  return Status::not_found("no version " + std::to_string(version) + " of process '" +
                           std::string(process_id) + "' is deployed");
}

Result<std::shared_ptr<const ProcessDefinition>> Engine::definition(std::string_view process_id,
                                                                    int version) const {
  Impl::Call call(*impl_);
  std::shared_ptr<const state::Plan> plan = impl_->load_plan(process_id, version);
  if (plan == nullptr) {
    return Status::not_found("no process '" + std::string(process_id) + "'" +
                             (version ? " version " + std::to_string(version) : std::string()) +
                             " is deployed");
  }
  return plan->definition;
}

}  // namespace ordo
