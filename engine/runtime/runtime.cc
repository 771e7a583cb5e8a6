// Commands: framing (one batch of history per command), and the commands that do not belong
// to one element kind.
#include "runtime/runtime.h"

#include "runtime/lifecycle.h"

namespace ordo::runtime {

Runtime::Runtime(RuntimeOptions options, const Clock& clock, store::Store& store)
    : options_(options), clock_(clock), store_(store) {}

Runtime::~Runtime() = default;

void Runtime::add_plan(std::shared_ptr<const Plan> plan) {
  auto& versions = plans_[plan->def->id];
  versions.push_back(plan);
  // Only the latest version of a process starts instances by message.
  std::erase_if(message_start_plans_,
                [&](const auto& p) { return p->def->id == plan->def->id; });
  if (!plan->message_starts.empty()) message_start_plans_.push_back(std::move(plan));
}

std::shared_ptr<const Plan> Runtime::latest(std::string_view process_id) const {
  auto it = plans_.find(std::string(process_id));
  return it == plans_.end() || it->second.empty() ? nullptr : it->second.back();
}

void Runtime::begin() {
  batch_.clear();
  touched_.clear();
  steps_ = 0;
}

void Runtime::commit() {
  if (Status s = store_.commit(store::Batch{batch_, touched_}); !s) {
    // The in-memory state is ahead of the store; the durable store (next milestone) must
    // refuse the command instead. Nothing else can be done here.
    (void)s;
  }
  if (observers_ != nullptr) {
    for (const HistoryEvent& e : batch_) {
      for (Observer* o : *observers_) {
        try {
          o->on_event(e);
        } catch (...) {
        }
      }
    }
  }
  batch_.clear();
  if (!options_.keep_finished_instances) {
    for (InstanceId id : finished_) instances_.erase(id);
  }
  finished_.clear();
}

Instance* Runtime::live(InstanceId id) {
  auto it = instances_.find(id);
  if (it == instances_.end() || it->second->finished()) return nullptr;
  return it->second.get();
}

void Runtime::run_queue() {
  while (!queue_.empty() || !deliveries_.empty()) {
    if (queue_.empty()) {
      Delivery d = std::move(deliveries_.front());
      deliveries_.pop_front();
      Instance* inst = live(d.instance);
      const Wait* wait = nullptr;
      if (inst != nullptr) {
        for (const Wait& w : inst->waits) {
          if (w.id == d.wait) wait = &w;
        }
      }
      if (wait == nullptr) {
        // The subscription closed before the message got to it (another event after an
        // event-based gateway won, the scope ended): the message stays buffered.
        buffered_.insert(buffered_.begin(), std::move(d.message));
        continue;
      }
      emit(*inst, HistoryKind::kMessageCorrelated, wait->event, wait->id);
      const Wait copy = *wait;
      trigger(*inst, copy, std::move(d.message.variables));
      continue;
    }
    Work w = queue_.front();
    queue_.pop_front();
    if (w.element == kNoIndex) continue;  // dropped: its scope was terminated
    Instance* inst = live(w.instance);
    if (inst == nullptr) continue;
    if (w.parent != kProcessScope && inst->find(w.parent) == nullptr) continue;
    if (w.inner != kNoIndex) {
      start_inner(*inst, w.parent, w.inner, true);
      continue;
    }
    if (++steps_ > options_.max_steps_per_command) {
      // A loop without a wait state: stop this instance here rather than spin.
      release_token(*inst, w.parent);
      incident(*inst, w.parent, IncidentRetry::kNone, "endless-loop",
               "more than " + std::to_string(options_.max_steps_per_command) +
                   " steps without reaching a wait state; the process loops without waiting "
                   "(stopped before '" + inst->plan->element(w.element).id + "')");
      std::erase_if(queue_, [&](const Work& x) { return x.instance == w.instance; });
      continue;
    }
    activate(*inst, w.element, w.parent, w.via);
  }
}

Instance& Runtime::new_instance(std::shared_ptr<const Plan> plan, std::string business_key,
                                nlohmann::json vars, InstanceId parent, ElemKey parent_element) {
  auto owned = std::make_unique<Instance>();
  Instance& inst = *owned;
  inst.id = next_instance_++;
  inst.plan = std::move(plan);
  inst.business_key = std::move(business_key);
  inst.vars = std::move(vars);
  inst.parent = parent;
  inst.parent_element = parent_element;
  inst.started_ms = now();
  instances_.emplace(inst.id, std::move(owned));
  touched_.push_back(inst.id);
  emit(inst, HistoryKind::kInstanceStarted, kNoIndex, 0, static_cast<std::int64_t>(parent));
  return inst;
}

Result<InstanceId> Runtime::start(std::shared_ptr<const Plan> plan, nlohmann::json variables,
                                  std::string business_key) {
  if (variables.is_null()) variables = nlohmann::json::object();
  if (!variables.is_object()) return Status::invalid_argument("variables must be a JSON object");
  const ElementIndex start = plan->none_start[plan->scope_slot(kNoIndex)];
  if (start == kNoIndex) {
    return Status::invalid_argument("process '" + plan->def->id +
                                    "' has no none start event; start it with a message");
  }
  begin();
  Instance& inst = new_instance(std::move(plan), std::move(business_key), std::move(variables));
  open_event_subprocess_waits(inst, kProcessScope, kNoIndex);
  enqueue(inst, start, kProcessScope, kNoIndex);
  run_queue();
  const InstanceId id = inst.id;
  commit();
  return id;
}

Result<int> Runtime::correlate(std::string_view name, std::string_view key,
                               nlohmann::json variables, std::int64_t ttl_ms) {
  if (variables.is_null()) variables = nlohmann::json::object();
  if (!variables.is_object()) {
    return Status::invalid_argument("message variables must be a JSON object");
  }
  begin();
  int count = 0;
  auto it = subscriptions_.find(subscription_key(name, key));
  if (it != subscriptions_.end()) {
    // One subscription per instance: the first opened.
    std::vector<Subscription> chosen;
    for (const Subscription& s : it->second) {
      bool seen = false;
      for (const Subscription& c : chosen) seen |= c.instance == s.instance;
      if (!seen) chosen.push_back(s);
    }
    for (const Subscription& s : chosen) {
      Instance* inst = live(s.instance);
      if (inst == nullptr) continue;
      for (const Wait& w : inst->waits) {
        if (w.id != s.wait) continue;
        Wait copy = w;
        touched_.push_back(inst->id);
        emit(*inst, HistoryKind::kMessageCorrelated, copy.event, copy.id, 0,
             std::string(name) + " / " + std::string(key));
        // A copy: message start events below and the buffer may need the variables too.
        trigger(*inst, copy, variables);
        ++count;
        break;
      }
    }
    run_queue();
  }
  for (const auto& plan : message_start_plans_) {
    for (ElementIndex s : plan->message_starts) {
      const Expression& n = plan->element(s).event.message_name;
      if (n.dialect != ExpressionDialect::kStatic || n.text != name) continue;
      Instance& inst = new_instance(plan, std::string(key), nlohmann::json::object());
      open_event_subprocess_waits(inst, kProcessScope, kNoIndex);
      activate_triggered(inst, s, kProcessScope, variables, false);
      run_queue();
      ++count;
      break;
    }
  }
  if (count == 0 && ttl_ms > 0) {
    buffered_.push_back(BufferedMessage{std::string(name), std::string(key),
                                        std::move(variables), now() + ttl_ms});
  }
  commit();
  return count;
}

Status Runtime::cancel(InstanceId id) {
  Instance* inst = live(id);
  if (inst == nullptr) return Status::not_found("no running instance " + std::to_string(id));
  if (inst->parent != 0) {
    InstanceId root = inst->parent;
    while (const Instance* p = instance(root)) {
      if (p->parent == 0) break;
      root = p->parent;
    }
    return Status(StatusCode::kConflict,
                  "instance " + std::to_string(id) + " was started by a call activity of instance " +
                      std::to_string(inst->parent) + "; cancel instance " +
                      std::to_string(root) + " instead");
  }
  begin();
  touched_.push_back(id);
  terminate_instance(*inst, HistoryKind::kInstanceTerminated);
  run_queue();
  commit();
  return Status::ok();
}

Status Runtime::set_variables(InstanceId id, nlohmann::json variables) {
  if (!variables.is_object()) return Status::invalid_argument("variables must be a JSON object");
  Instance* inst = live(id);
  if (inst == nullptr) return Status::not_found("no running instance " + std::to_string(id));
  begin();
  touched_.push_back(id);
  std::string names;
  for (auto& [name, value] : variables.items()) {
    names += (names.empty() ? "" : ",") + name;
    inst->vars[name] = std::move(value);
  }
  emit(*inst, HistoryKind::kVariablesUpdated, kNoIndex, 0, 0, std::move(names));
  commit();
  return Status::ok();
}

Status Runtime::resolve_incident(IncidentKey key, int job_retries) {
  for (auto& [id, owned] : instances_) {
    Instance& inst = *owned;
    auto it = std::find_if(inst.incidents.begin(), inst.incidents.end(),
                           [key](const Incident& i) { return i.key == key; });
    if (it == inst.incidents.end()) continue;
    begin();
    touched_.push_back(id);
    const Incident inc = *it;
    inst.incidents.erase(it);
    if (ElementInstance* el = inst.find(inc.element)) {
      el->has_incident = std::any_of(inst.incidents.begin(), inst.incidents.end(),
                                     [&](const Incident& i) { return i.element == inc.element; });
    }
    emit(inst, HistoryKind::kIncidentResolved, inc.element_index, key);
    if (inst.incidents.empty()) transition(inst, InstanceEvent::kResolveIncident);
    switch (inc.retry) {
      case IncidentRetry::kJob:
        if (auto j = jobs_.find(inc.job); j != jobs_.end()) {
          j->second.retries = std::max(1, job_retries);
          if (auto n = next(j->second.state, JobEvent::kResolve)) {
            j->second.state = *n;
            ready_.push_back(inc.job);
          }
        }
        break;
      case IncidentRetry::kActivate:
        if (inst.find(inc.element) != nullptr) enter(inst, inc.element);
        break;
      case IncidentRetry::kLeave:
        if (inst.find(inc.element) != nullptr) finish(inst, inc.element, nullptr);
        break;
      case IncidentRetry::kNone:
        if (ElementInstance* el = inst.find(inc.element)) {
          if (is_job_task(inst.plan->element(el->element).kind) && el->job == 0) {
            create_job(inst, inc.element);
          }
        }
        break;
    }
    run_queue();
    commit();
    return Status::ok();
  }
  return Status::not_found("no open incident " + std::to_string(key));
}

bool Runtime::fire_next_due_timer() {
  if (timers_.empty()) return false;
  auto it = timers_.begin();
  if (it->first.first > now()) return false;
  const std::int64_t due = it->first.first;
  const TimerRecord rec = it->second;
  timers_.erase(it);
  begin();
  if (rec.instance == 0) {  // a job's retry backoff has passed
    auto j = jobs_.find(rec.wait);
    if (j != jobs_.end() && j->second.state == JobState::kFailed) {
      j->second.state = *next(j->second.state, JobEvent::kRetry);
      ready_.push_back(j->first);
    }
    commit();
    return true;
  }
  Instance* inst = live(rec.instance);
  if (inst != nullptr) {
    touched_.push_back(inst->id);
    auto w = std::find_if(inst->waits.begin(), inst->waits.end(),
                          [&](const Wait& x) { return x.id == rec.wait; });
    if (w != inst->waits.end()) {
      Wait fired = *w;
      const Element& ev = inst->plan->element(fired.event);
      const bool keeps_running =
          (ev.kind == ElementKind::kBoundaryEvent && !ev.cancel_activity) ||
          (ev.kind == ElementKind::kStartEvent && !ev.interrupting);
      if (keeps_running && rec.repetitions_left != 0) {
        w->due_ms = due + rec.interval_ms;
        timers_.emplace(std::pair{w->due_ms, w->id},
                        TimerRecord{rec.instance, rec.wait,
                                    rec.repetitions_left < 0 ? -1 : rec.repetitions_left - 1,
                                    rec.interval_ms});
      } else {
        inst->waits.erase(w);
      }
      emit(*inst, HistoryKind::kTimerFired, fired.event, fired.id, due);
      trigger(*inst, fired, nullptr);
      run_queue();
    }
  }
  commit();
  return true;
}

void Runtime::incident(Instance& inst, ElemKey key, IncidentRetry retry, std::string type,
                       std::string message, JobKey job) {
  Incident& i = inst.incidents.emplace_back();
  i.key = next_key_++;
  i.element = key;
  ElementInstance* el = key == kProcessScope ? nullptr : inst.find(key);
  i.element_index = el ? el->element : kNoIndex;
  i.job = job;
  i.retry = retry;
  i.type = std::move(type);
  i.message = std::move(message);
  i.created_ms = now();
  if (el) el->has_incident = true;
  if (inst.state != InstanceState::kIncident) {
    if (auto n = next(inst.state, InstanceEvent::kRaiseIncident)) inst.state = *n;
  }
  emit(inst, HistoryKind::kIncidentRaised, i.element_index, i.key, 0, i.message);
}

HistoryEvent& Runtime::record(const Instance& inst, HistoryKind kind) {
  HistoryEvent& e = batch_.emplace_back();
  e.sequence = next_sequence_++;
  e.time_ms = now();
  e.instance = inst.id;
  e.kind = kind;
  e.process_id = inst.plan->def->id;
  return e;
}

void Runtime::emit(const Instance& inst, HistoryKind kind, ElementIndex element,
                   std::uint64_t key, std::int64_t value, std::string detail) {
  if (!recording_) return;
  HistoryEvent& e = record(inst, kind);
  if (element != kNoIndex) {
    const Element& def = inst.plan->element(element);
    e.element_id = def.id;
    e.element_kind = def.kind;
  }
  e.key = key;
  e.value = value;
  e.detail = std::move(detail);
}

bool Runtime::transition(Instance& inst, ElementInstance& el, ElementEvent event) {
  if (auto n = next(el.state, event)) {
    el.state = *n;
    return true;
  }
  incident(inst, el.key, IncidentRetry::kNone, "lifecycle",
           "element '" + inst.plan->element(el.element).id + "' cannot go from " +
               std::string(to_string(el.state)) + " by '" + std::string(to_string(event)) +
               "'; this is a bug in Ordo, please report it");
  return false;
}

bool Runtime::transition(Instance& inst, InstanceEvent event) {
  if (auto n = next(inst.state, event)) {
    inst.state = *n;
    return true;
  }
  return false;
}

const JobRecord* Runtime::job(JobKey key) const {
  auto it = jobs_.find(key);
  return it == jobs_.end() ? nullptr : &it->second;
}

const Instance* Runtime::instance(InstanceId id) const {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : it->second.get();
}

const Element& Runtime::element_of(const JobRecord& job) const {
  return instance(job.instance)->plan->element(job.element_index);
}

std::vector<const JobRecord*> Runtime::jobs() const {
  std::vector<const JobRecord*> out;
  for (const auto& [key, job] : jobs_) out.push_back(&job);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->key < b->key; });
  return out;
}

std::vector<const Instance*> Runtime::instances() const {
  std::vector<const Instance*> out;
  for (const auto& [id, inst] : instances_) out.push_back(inst.get());
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->id < b->id; });
  return out;
}

std::optional<std::int64_t> Runtime::next_timer_due() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.first;
}

}  // namespace ordo::runtime
