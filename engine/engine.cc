// Engine: the public facade. Owns the deployments, the handlers and the driver loop; the
// runtime does the token work and the store keeps what it committed.
#include "ordo/engine.h"

#include <algorithm>

#include "ordo/loader.h"
#include "runtime/plan.h"
#include "runtime/runtime.h"
#include "store/store.h"

namespace ordo {
namespace {

// The handler's view of a job.
class JobView final : public Job {
 public:
  JobView(const runtime::Runtime& rt, const runtime::JobRecord& job)
      : rt_(rt), job_(job), inst_(*rt.instance(job.instance)), def_(rt.element_of(job)) {}
  JobKey key() const noexcept override { return job_.key; }
  InstanceId instance() const noexcept override { return job_.instance; }
  std::string_view type() const noexcept override { return job_.type; }
  std::string_view process_id() const noexcept override { return inst_.plan->def->id; }
  std::string_view element_id() const noexcept override { return def_.id; }
  std::string_view business_key() const noexcept override { return inst_.business_key; }
  std::string_view idempotency_key() const noexcept override { return job_.idempotency_key; }
  int attempt() const noexcept override { return job_.attempt; }
  int retries_left() const noexcept override { return job_.retries; }
  std::span<const TaskHeader> headers() const noexcept override { return def_.headers; }
  const nlohmann::json* variable(std::string_view name) const override {
    return rt_.job_variable(job_, name);
  }
  nlohmann::json variables() const override { return rt_.job_variables(job_); }

 private:
  const runtime::Runtime& rt_;
  const runtime::JobRecord& job_;
  const runtime::Instance& inst_;
  const Element& def_;
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

IncidentInfo incident_info(const runtime::Instance& inst, const runtime::Incident& i) {
  IncidentInfo out;
  out.key = i.key;
  out.instance = inst.id;
  if (i.element_index != kNoIndex) out.element_id = inst.plan->element(i.element_index).id;
  out.job = i.job;
  out.type = i.type;
  out.message = i.message;
  out.created_ms = i.created_ms;
  return out;
}

}  // namespace

std::string_view Job::header(std::string_view key) const noexcept {
  for (const TaskHeader& h : headers()) {
    if (h.key == key) return h.value;
  }
  return {};
}

class Engine::Impl {
 public:
  explicit Impl(EngineOptions o)
      : options(std::move(o)),
        clock(options.clock ? options.clock : std::make_shared<SystemClock>()),
        store(options.keep_history),
        rt({options.default_job_retries, options.keep_finished_instances,
            options.max_steps_per_command},
           *clock, store) {
    rt.set_recording(options.keep_history);
    rt.set_observers(&observers);
  }

  EngineOptions options;
  std::shared_ptr<Clock> clock;
  store::MemoryStore store;
  runtime::Runtime rt;
  std::unordered_map<std::string, TaskHandler, StringHash, std::equal_to<>> handlers;
  TaskHandler fallback;
  std::vector<Observer*> observers;
  // process id -> content hashes of its versions, oldest first
  std::unordered_map<std::string, std::vector<std::string>> versions;

  bool dispatch(JobKey key) {
    const runtime::JobRecord* job = rt.job(key);
    if (job == nullptr || job->state != JobState::kCreated) return false;
    const TaskHandler* handler = &fallback;
    if (auto it = handlers.find(job->type); it != handlers.end()) handler = &it->second;
    if (!*handler) return false;  // left for an external worker
    JobOutcome outcome = JobOutcome::pending();
    try {
      outcome = (*handler)(JobView(rt, *job));
    } catch (const std::exception& e) {
      outcome = JobOutcome::fail(std::string("the handler threw: ") + e.what());
    } catch (...) {
      outcome = JobOutcome::fail("the handler threw a non-standard exception");
    }
    switch (outcome.kind()) {
      case JobOutcome::Kind::kComplete:
        (void)rt.complete_job(key, std::move(outcome.variables()));
        break;
      case JobOutcome::Kind::kFail:
        (void)rt.fail_job(key, outcome.message(), outcome.backoff_ms());
        break;
      case JobOutcome::Kind::kError:
        (void)rt.throw_job_error(key, outcome.error_code(), outcome.message(),
                                 std::move(outcome.variables()));
        break;
      case JobOutcome::Kind::kPending:
        rt.lock_job(key);
        break;
    }
    return true;
  }
};

Engine::Engine(EngineOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Engine::~Engine() = default;

Result<std::vector<Deployment>> Engine::deploy(std::shared_ptr<const BpmnDocument> document) {
  if (!document) return Status::invalid_argument("no document to deploy");
  std::vector<Deployment> out;
  for (const auto& process : document->processes) {
    auto& hashes = impl_->versions[process->id];
    // As Zeebe: the same content as the latest version is that version; anything else (an
    // older version's content included) becomes a new latest version.
    if (!hashes.empty() && hashes.back() == document->content_hash &&
        !document->content_hash.empty()) {
      out.push_back({process->id, static_cast<int>(hashes.size()), document->content_hash});
      continue;
    }
    hashes.push_back(document->content_hash);
    const int version = static_cast<int>(hashes.size());
    impl_->rt.add_plan(runtime::make_plan(document, process, version, document->content_hash));
    out.push_back({process->id, version, document->content_hash});
  }
  return out;
}

Result<std::vector<Deployment>> Engine::deploy_file(const std::string& path) {
  LoadResult loaded = load_bpmn_file(path);
  if (!loaded.ok()) {
    std::string message = "cannot deploy " + path + ":";
    for (const Diagnostic& d : loaded.diagnostics) {
      if (d.severity == Severity::kError) message += "\n  " + format_diagnostic(d);
    }
    return Status::invalid_definition(std::move(message));
  }
  return deploy(loaded.document);
}

Result<InstanceId> Engine::start(std::string_view process_id, nlohmann::json variables,
                                 std::string business_key) {
  std::shared_ptr<const runtime::Plan> plan = impl_->rt.latest(process_id);
  if (plan == nullptr) {
    return Status::not_found("no process '" + std::string(process_id) + "' is deployed");
  }
  return impl_->rt.start(std::move(plan), std::move(variables), std::move(business_key));
}

void Engine::register_handler(std::string type, TaskHandler handler) {
  impl_->handlers[std::move(type)] = std::move(handler);
}

void Engine::set_fallback_handler(TaskHandler handler) { impl_->fallback = std::move(handler); }

std::size_t Engine::run_until_idle() {
  std::size_t done = 0;
  auto& ready = impl_->rt.ready_jobs();
  while (true) {
    while (!ready.empty()) {
      const JobKey key = ready.front();
      ready.pop_front();
      if (impl_->dispatch(key)) ++done;
    }
    if (!impl_->rt.fire_next_due_timer()) break;
    ++done;
  }
  return done;
}

Status Engine::complete_job(JobKey job, nlohmann::json variables) {
  return impl_->rt.complete_job(job, std::move(variables));
}
Status Engine::fail_job(JobKey job, std::string message, std::int64_t backoff_ms) {
  return impl_->rt.fail_job(job, std::move(message), backoff_ms);
}
Status Engine::throw_error(JobKey job, std::string code, std::string message,
                           nlohmann::json variables) {
  return impl_->rt.throw_job_error(job, std::move(code), std::move(message),
                                   std::move(variables));
}

Result<int> Engine::correlate_message(std::string_view name, std::string_view correlation_key,
                                      nlohmann::json variables, std::int64_t ttl_ms) {
  return impl_->rt.correlate(name, correlation_key, std::move(variables), ttl_ms);
}

Status Engine::cancel(InstanceId instance) { return impl_->rt.cancel(instance); }

Status Engine::set_variables(InstanceId instance, nlohmann::json variables) {
  return impl_->rt.set_variables(instance, std::move(variables));
}

Status Engine::resolve_incident(IncidentKey incident, int job_retries) {
  return impl_->rt.resolve_incident(incident, job_retries);
}

Status Engine::advance_clock(std::int64_t ms) {
  auto* virtual_clock = dynamic_cast<VirtualClock*>(impl_->clock.get());
  if (virtual_clock == nullptr) {
    return Status::invalid_argument("advance_clock needs an engine built with a VirtualClock");
  }
  virtual_clock->advance(ms);
  run_until_idle();
  return Status::ok();
}

const Clock& Engine::clock() const noexcept { return *impl_->clock; }

Result<InstanceInfo> Engine::instance(InstanceId id) const {
  const runtime::Instance* inst = impl_->rt.instance(id);
  if (inst == nullptr) return Status::not_found("no instance " + std::to_string(id));
  InstanceInfo out;
  out.id = inst->id;
  out.process_id = inst->plan->def->id;
  out.version = inst->plan->version;
  out.business_key = inst->business_key;
  out.state = inst->state;
  out.variables = inst->vars;
  for (const runtime::ElementInstance& e : inst->elements) {
    const Element& def = inst->plan->element(e.element);
    out.elements.push_back({def.id, def.kind, e.state});
  }
  for (const runtime::Incident& i : inst->incidents) out.incidents.push_back(incident_info(*inst, i));
  if (inst->end_event != kNoIndex) out.end_event = inst->plan->element(inst->end_event).id;
  out.started_ms = inst->started_ms;
  out.ended_ms = inst->ended_ms;
  out.parent = inst->parent;
  return out;
}

std::vector<JobInfo> Engine::open_jobs(std::string_view type) const {
  std::vector<JobInfo> out;
  for (const runtime::JobRecord* j : impl_->rt.jobs()) {
    if (!type.empty() && j->type != type) continue;
    JobInfo info;
    info.key = j->key;
    info.instance = j->instance;
    info.type = j->type;
    info.element_id = impl_->rt.element_of(*j).id;
    info.state = j->state;
    info.retries = j->retries;
    info.attempt = j->attempt;
    info.idempotency_key = j->idempotency_key;
    info.last_error = j->last_error;
    out.push_back(std::move(info));
  }
  return out;
}

std::vector<IncidentInfo> Engine::incidents() const {
  std::vector<IncidentInfo> out;
  for (const runtime::Instance* inst : impl_->rt.instances()) {
    for (const runtime::Incident& i : inst->incidents) out.push_back(incident_info(*inst, i));
  }
  return out;
}

std::vector<HistoryEvent> Engine::history(InstanceId id) const { return impl_->store.history(id); }

std::optional<std::int64_t> Engine::next_timer_due() const { return impl_->rt.next_timer_due(); }

void Engine::add_observer(Observer* observer) {
  impl_->observers.push_back(observer);
  impl_->rt.set_recording(true);
}

void Engine::remove_observer(Observer* observer) {
  std::erase(impl_->observers, observer);
  impl_->rt.set_recording(impl_->options.keep_history || !impl_->observers.empty());
}

}  // namespace ordo
