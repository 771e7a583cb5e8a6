#include "job_types.h"

#include <algorithm>

#include "util/spelling.h"

namespace ordo::cli {

JobTypeHandling handling_of(const AdapterConfig& config, const std::string& config_file,
                            bool simulate_rest) {
  JobTypeHandling out;
  for (const auto& [type, handler] : config.handlers) out.adapters.insert(type);
  for (const std::string& type : config.simulated) out.adapters.insert(type);
  for (const std::string& type : config.external) out.external.insert(type);
  out.simulate_rest = simulate_rest;
  out.config_file = config_file;
  return out;
}

JobTypeWatch::JobTypeWatch(JobTypeHandling handling, Warn warn)
    : handling_(std::move(handling)), warn_(std::move(warn)) {}

Status JobTypeWatch::check(const Engine& engine) {
  std::lock_guard lock(mu_);
  bool changed = false;
    Result<std::vector<Deployment>> deployments = engine.deployments();
  if (!deployments) return deployments.status();
  for (const Deployment& d : *deployments) {
    if (!seen_.emplace(d.process_id, d.version).second) continue;
    changed = true;
    Result<std::shared_ptr<const ProcessDefinition>> def = engine.definition(d.process_id, d.version);
    if (!def) return def.status();
    for (const Element& e : (*def)->elements) {
      if (!runs_as_job(e)) continue;
      if (e.task.type.dialect != ExpressionDialect::kStatic) {
        computed_ = true;  // known only when a job is made
        continue;
      }
      const std::string& type = e.task.type.text;
      if (std::find(used_.begin(), used_.end(), type) == used_.end()) used_.push_back(type);
      if (handling_.simulate_rest || handling_.adapters.count(type) != 0 ||
          handling_.external.count(type) != 0 || !unhandled_.insert(type).second) {
        continue;
      }
      warn_("job type '" + type + "' (process '" + d.process_id + "' version " +
            std::to_string(d.version) + ", element '" + e.id + "' at " + (*def)->file + ":" +
            std::to_string(e.location.line) + ":" + std::to_string(e.location.column) +
            ") has no adapter" +
            (handling_.config_file.empty() ? std::string(" (no --config given)")
                                           : " in " + handling_.config_file) +
            ": its jobs wait for an external worker (POST /v1/jobs/fetch-and-lock); add it to the "
            "adapters, "
            "or use --simulate to try the process with simulated answers");
    }
  }
  if (!changed || computed_) return Status::ok();
  std::vector<std::string> configured(handling_.adapters.begin(), handling_.adapters.end());
  configured.insert(configured.end(), handling_.external.begin(), handling_.external.end());
  for (const std::string& type : configured) {
    if (std::find(used_.begin(), used_.end(), type) != used_.end()) continue;
    if (!unused_told_.insert(type).second) continue;
    std::optional<std::string> near = util::closest_name(type, used_);
    warn_(handling_.config_file + ": adapters." + type +
          ": no deployed process has a job of this type" +
          (near ? "; did you mean '" + *near + "'?" : std::string()));
  }
  return Status::ok();
}

std::vector<std::string> JobTypeWatch::unhandled() const {
  std::lock_guard lock(mu_);
  return {unhandled_.begin(), unhandled_.end()};
}

}  // namespace ordo::cli
