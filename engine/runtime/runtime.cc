// Commands that do not belong to one element kind: start, correlate, cancel, variables,
// incidents, timers; and recording history. Their framing is in transactions.cc.
#include "runtime/runtime.h"

#include <algorithm>

#include "runtime/lifecycle.h"
#include "time/cron.h"
#include "time/iso8601.h"  // kLatestMs

namespace ordo::runtime {

Runtime::Runtime(RuntimeOptions options, const Clock& clock, store::Store& store)
    : options_(options), clock_(clock), store_(store) {
  store_.set_attach([this](Instance& inst, std::string_view process_id, int version) {
    return attach(inst, process_id, version);
  });
}

Runtime::~Runtime() {
  if (in_txn_) roll_back();
}

void Runtime::add_plan(std::shared_ptr<const Plan> plan) {
  auto& versions = plans_[plan->def->id];
  const bool newest = versions.empty() || versions.back()->version < plan->version;
  versions.push_back(plan);
  std::sort(versions.begin(), versions.end(),
            [](const auto& a, const auto& b) { return a->version < b->version; });
  if (!newest) return;
  // Only the latest version of a process starts instances by message.
  std::erase_if(message_start_plans_,
                [&](const auto& p) { return p->def->id == plan->def->id; });
  std::erase_if(signal_start_plans_, [&](const auto& p) { return p->def->id == plan->def->id; });
  if (!plan->signal_starts.empty()) signal_start_plans_.push_back(plan);
  if (!plan->message_starts.empty()) message_start_plans_.push_back(std::move(plan));
}

std::shared_ptr<const Plan> Runtime::latest(std::string_view process_id) const {
  auto it = plans_.find(std::string(process_id));
  return it == plans_.end() || it->second.empty() ? nullptr : it->second.back();
}

std::shared_ptr<const Plan> Runtime::known_plan(std::string_view process_id, int version) const {
  auto it = plans_.find(std::string(process_id));
  if (it != plans_.end()) {
    for (const auto& p : it->second) {
      if (p->version == version) return p;
    }
  }
  return nullptr;
}

std::shared_ptr<const Plan> Runtime::plan(std::string_view process_id, int version) const {
  if (auto p = known_plan(process_id, version)) return p;
  return plan_source_ ? plan_source_(process_id, version) : nullptr;
}

void Runtime::run_queue() {
  run_work();
  // Conditions on variables that changed: what fires queues more work, which may change
  // more variables (each wait fires once per command).
  while (!conditions_due_.empty()) {
    check_conditions();
    run_work();
  }
}

void Runtime::run_work() {
  while (!queue_.empty() || !deliveries_.empty()) {
    if (queue_.empty()) {
      Delivery d = std::move(deliveries_.front());
      deliveries_.pop_front();
      Instance* inst = live(d.instance);
      const Wait* wait = nullptr;
      if (inst != nullptr && inst->state != InstanceState::kSuspended) {
        for (const Wait& w : inst->waits) {
          if (w.id == d.wait) wait = &w;
        }
      }
      if (wait == nullptr) {
        // The subscription closed before the message got to it (another event after an
        // event-based gateway won, the scope ended). A subscription to the same message
        // that opened meanwhile gets it (its own look in the buffer came before the message
        // was put back); otherwise it stays buffered, keeping its id, so its place in line.
        std::vector<Subscription> others;
        const std::string sub_key = subscription_key(d.message.name, d.message.correlation_key);
        if (Status s = store_.subscriptions(sub_key, others); !s) {
          failed(s);
          continue;
        }
        const Subscription* next = nullptr;
        for (const Subscription& s : others) {
          if (s.wait == d.wait) continue;
          const Instance* other = get(s.instance);
          if (other == nullptr || other->finished() || other->state == InstanceState::kSuspended) {
            continue;
          }
          for (const Wait& w : other->waits) {
            if (w.id == s.wait) next = &s;
          }
          if (next != nullptr) break;
        }
        if (next != nullptr) {
          deliveries_.push_back(Delivery{next->instance, next->wait, std::move(d.message)});
        } else {
          buffer(std::move(d.message));
        }
        continue;
      }
      emit(*inst, HistoryKind::kMessageCorrelated, wait->event, wait->id, 0,
           detailed() ? d.message.name + " / " + d.message.correlation_key : std::string());
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
    if (w.compensate) {
      run_compensation(*inst, w.parent, w.inner);
      continue;
    }
    if (w.inner != kNoIndex) {
      start_inner(*inst, w.parent, w.inner, true);
      continue;
    }
    if (++steps_ > options_.max_steps_per_command) {
      // A loop without a wait state: stop this instance here rather than spin.
      release_token(*inst, w.parent);
      incident(*inst, w.parent, IncidentRetry::kNone, IncidentKind::kEndlessLoop,
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
  owned->id = new_instance_id();
  Instance& inst = *owned;
  inst.plan = std::move(plan);
  inst.business_key = std::move(business_key);
  inst.vars = std::move(vars);
  inst.parent = parent;
  inst.parent_element = parent_element;
  inst.started_ms = now();
  store_.add_instance(std::move(owned));
  touch(inst);
  emit(inst, HistoryKind::kInstanceStarted, kNoIndex, 0, static_cast<std::int64_t>(parent),
       detailed() ? inst.business_key : std::string());
  return inst;
}

namespace {

// Start request ids share the inbox of message ids, apart from them.
std::string start_request_key(std::string_view request_id) {
  std::string key = "start:";
  key += request_id;
  return key;
}

}  // namespace

Result<StartOutcome> Runtime::start(std::shared_ptr<const Plan> plan, nlohmann::json variables,
                                    std::string business_key, std::string_view request_id) {
  if (variables.is_null()) variables = nlohmann::json::object();
  if (!variables.is_object()) return Status::invalid_argument("variables must be a JSON object");
  const ElementIndex start = plan->none_start[plan->scope_slot(kNoIndex)];
  if (start == kNoIndex) {
    return Status::invalid_argument("process '" + plan->def->id +
                                    "' has no none start event; start it with a message");
  }
  if (Status s = begin(); !s) return s;
  if (!request_id.empty()) {
    Result<std::optional<std::string>> seen = store_.published(start_request_key(request_id));
    if (!seen) {
      abandon();
      return seen.status();
    }
    if (*seen) {
      abandon();
      const nlohmann::json j = nlohmann::json::parse(**seen, nullptr, false);
      StartOutcome again{0, false, 0};
      if (j.is_object()) {
        again.id = j.value("instance", InstanceId{0});
        again.version = j.value("version", 0);
        // The same id for another process is a mistake of the sender's, not a repeat.
        if (const std::string process = j.value("process", plan->def->id);
            process != plan->def->id) {
          return Status::invalid_argument(
                        "request id '" + std::string(request_id) + "' started process '" +
                            process + "' (instance " + std::to_string(again.id) +
                            "); it cannot start '" + plan->def->id + "' too");
        }
      }
      return again;
    }
  }
  if (std::optional<InstanceId> existing = find_business_key(*plan, business_key)) {
    const Instance* found = get(*existing);
    const int version = found != nullptr ? found->plan->version : plan->version;
    abandon();
    return StartOutcome{*existing, false, version};
  }
  Instance& inst = new_instance(std::move(plan), std::move(business_key), std::move(variables));
  open_event_subprocess_waits(inst, kProcessScope, kNoIndex);
  enqueue(inst, start, kProcessScope, kNoIndex);
  run_queue();
  const InstanceId id = inst.id;
  const int version = inst.plan->version;
  if (!request_id.empty() && store_failure_.is_ok()) {
    const nlohmann::json outcome = {
        {"instance", id}, {"version", version}, {"process", inst.plan->def->id}};
    failed(store_.record_published(start_request_key(request_id), inst.plan->def->id,
                                   inst.business_key, outcome.dump(), now()));
  }
  if (Status s = commit(); !s) return s;
  return StartOutcome{id, true, version};
}

namespace {

std::string correlation_json(const Correlation& c) {
  nlohmann::json j = {{"instances", c.instances}, {"buffered", c.buffered}};
  return j.dump();
}

Correlation correlation_from_json(const std::string& text) {
  Correlation c;
  c.duplicate = true;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object()) {
    for (const auto& i : j.value("instances", nlohmann::json::array())) {
      if (i.is_number_unsigned()) c.instances.push_back(i.get<InstanceId>());
    }
    c.buffered = j.value("buffered", false);
  }
  return c;
}

}  // namespace

Result<Correlation> Runtime::correlate(std::string_view name, std::string_view key,
                                       nlohmann::json variables, std::int64_t ttl_ms,
                                       std::string_view message_id) {
  if (variables.is_null()) variables = nlohmann::json::object();
  if (!variables.is_object()) {
    return Status::invalid_argument("message variables must be a JSON object");
  }
  if (!takes_.empty()) {
    // A subscription of this group to the same message may still take an older buffered
    // one: that goes first, as it would have without the wait for the takes.
    const std::string sub_key = subscription_key(name, key);
    if (std::any_of(takes_.begin(), takes_.end(),
                    [&](const PendingTake& p) { return p.sub_key == sub_key; })) {
      (void)settle_takes();  // a failure is the group's: begin() below returns it
    }
  }
  if (Status s = begin(); !s) return s;
  Correlation out;
  if (!message_id.empty()) {
    Result<std::optional<std::string>> seen = store_.published(message_id);
    if (!seen) {
      abandon();
      return seen.status();
    }
    if (*seen) {
      abandon();
      return correlation_from_json(**seen);
    }
  }
  // A member, so its room is kept from one message to the next.
  std::vector<Subscription>& subs = subscribers_;
  if (Status s = store_.subscriptions(subscription_key(name, key), subs); !s) {
    abandon();
    return s;
  }
  // One subscription per instance: the first opened.
  for (std::size_t i = 0; i < subs.size(); ++i) {
    const Subscription& s = subs[i];
    if (std::find(out.instances.begin(), out.instances.end(), s.instance) != out.instances.end()) {
      continue;
    }
    Instance* inst = live(s.instance);
    if (inst == nullptr || inst->state == InstanceState::kSuspended) continue;
    for (const Wait& w : inst->waits) {
      if (w.id != s.wait) continue;
      Wait copy = w;
      emit(*inst, HistoryKind::kMessageCorrelated, copy.event, copy.id, 0,
           detailed() ? std::string(name) + " / " + std::string(key) : std::string());
      // A copy: message start events below and the buffer may need the variables too.
      trigger(*inst, copy, variables);
      out.instances.push_back(inst->id);
      break;
    }
  }
  run_queue();
  for (const auto& plan : message_start_plans_) {
    for (ElementIndex s : plan->message_starts) {
      const Expression& n = plan->element(s).event.message_name;
      if (n.dialect != ExpressionDialect::kStatic || n.text != name) continue;
      // The correlation key becomes the business key, unique per process: a process already
      // started with it is not started again (the message may be buffered instead).
      if (find_business_key(*plan, std::string(key))) break;
      Instance& inst = new_instance(plan, std::string(key), nlohmann::json::object());
      open_event_subprocess_waits(inst, kProcessScope, kNoIndex);
      activate_triggered(inst, s, kProcessScope, variables, false);
      run_queue();
      out.instances.push_back(inst.id);
      break;
    }
  }
  if (out.instances.empty() && ttl_ms > 0) {
    buffer(BufferedMessage{0, std::string(name), std::string(key), std::move(variables),
                           now() + ttl_ms});
    out.buffered = true;
  }
  if (!message_id.empty()) {
    if (store_failure_.is_ok()) {
      failed(store_.record_published(message_id, name, key, correlation_json(out), now()));
    }
  }
  if (Status s = commit(); !s) return s;
  return out;
}

Result<Instance*> Runtime::begin_on_instance(InstanceId id) {
  if (Status s = begin(); !s) return s;
  Instance* inst = live(id);
  if (inst == nullptr) {
    Status s = store_failure_.is_ok()
                   ? Status::not_found("no running instance " + std::to_string(id))
                   : store_failure_;
    abandon();
    return s;
  }
  return inst;
}

Status Runtime::refuse_called(const Instance& inst, std::string_view verb) {
  InstanceId root = inst.parent;
  while (const Instance* p = get(root)) {
    if (p->parent == 0) break;
    root = p->parent;
  }
  const InstanceId parent = inst.parent;
  abandon();
  return Status(StatusCode::kConflict,
                "instance " + std::to_string(inst.id) +
                    " was started by a call activity of instance " + std::to_string(parent) +
                    "; " + std::string(verb) + " instance " + std::to_string(root) + " instead");
}

std::vector<InstanceId> Runtime::call_tree(const Instance& root) {
  std::vector<InstanceId> out{root.id};
  for (std::size_t i = 0; i < out.size(); ++i) {
    const Instance* inst = live(out[i]);
    if (inst == nullptr) continue;
    for (const ElementInstance& el : inst->elements) {
      if (el.child != 0 && live(el.child) != nullptr) out.push_back(el.child);
    }
  }
  return out;
}

Status Runtime::cancel(InstanceId id) {
  Result<Instance*> found = begin_on_instance(id);
  if (!found) return found.status();
  Instance* inst = *found;
  if (inst->parent != 0) return refuse_called(*inst, "cancel");
  terminate_instance(*inst, HistoryKind::kInstanceTerminated);
  run_queue();
  return commit();
}

Status Runtime::suspend(InstanceId id) {
  Result<Instance*> found = begin_on_instance(id);
  if (!found) return found.status();
  Instance* inst = *found;
  // A called instance is suspended with its root: the tree moves, or stops, as one.
  if (inst->parent != 0) return refuse_called(*inst, "suspend");
  if (inst->state == InstanceState::kSuspended) {
    abandon();
    return Status(StatusCode::kConflict,
                  "instance " + std::to_string(id) + " is suspended already");
  }
  for (InstanceId member : call_tree(*inst)) {
    Instance* one = live(member);
    if (one == nullptr || one->state == InstanceState::kSuspended) continue;
    if (!transition(*one, InstanceEvent::kSuspend)) {
      abandon();
      return Status::internal("instance " + std::to_string(member) +
                              " cannot be suspended from " + std::string(to_string(one->state)));
    }
    touch(*one);
    // Its open jobs are parked: locked by nobody, for ever. A worker that holds one loses
    // it (its answer is refused); none is handed out.
    for (const ElementInstance& el : one->elements) {
      if (el.job == 0) continue;
      JobRecord* j = find_job(el.job);
      if (j == nullptr || (j->state != JobState::kCreated && j->state != JobState::kLocked)) {
        continue;
      }
      park(*j);
    }
    emit(*one, HistoryKind::kInstanceSuspended, kNoIndex);
  }
  return commit();
}

void Runtime::park(JobRecord& job) {
  if (auto n = next(job.state, JobEvent::kLock)) job.state = *n;
  job.lock_owner = kSuspendedOwner;
  job.lock_expires_ms = time::kLatestMs;
  touch_job(job.key);
}

Status Runtime::resume(InstanceId id) {
  Result<Instance*> found = begin_on_instance(id);
  if (!found) return found.status();
  Instance* inst = *found;
  if (inst->parent != 0) return refuse_called(*inst, "resume");
  if (inst->state != InstanceState::kSuspended) {
    abandon();
    return Status(StatusCode::kConflict, "instance " + std::to_string(id) + " is " +
                                             std::string(to_string(inst->state)) +
                                             ", not suspended");
  }
  for (InstanceId member : call_tree(*inst)) {
    if (Instance* one = live(member); one != nullptr && one->state == InstanceState::kSuspended) {
      resume_one(*one);
    }
  }
  run_queue();
  return commit();
}

void Runtime::resume_one(Instance& inst) {
  transition(inst, InstanceEvent::kResume);
  // Back to where it was: held by its incidents, if it has any open.
  if (!inst.incidents.empty()) transition(inst, InstanceEvent::kRaiseIncident);
  touch(inst);
  emit(inst, HistoryKind::kInstanceResumed, kNoIndex);
  for (const ElementInstance& el : inst.elements) {
    if (el.job == 0) continue;
    JobRecord* j = find_job(el.job);
    if (j == nullptr || j->state != JobState::kLocked || j->lock_owner != kSuspendedOwner) continue;
    if (auto n = next(j->state, JobEvent::kUnlock)) j->state = *n;
    j->lock_owner.clear();
    j->lock_expires_ms = 0;
    touch_job(j->key);
    made_ready(j->key);
  }
  // Messages that arrived meanwhile and were buffered: each open subscription looks again.
  // (Its timers count again by themselves: the store's query passes only suspended ones by.)
  const std::int64_t t = now();
  conditions_may_hold(inst);  // variables may have been set while it was suspended
  for (const Wait& w : inst.waits) {
    if (w.timer || w.sub_key.empty() || w.sub_key == kConditionWait) continue;
    const std::size_t cut = w.sub_key.find('\x1f');
    const std::string_view name = std::string_view(w.sub_key).substr(0, cut);
    const std::string_view key = cut == std::string::npos
                                     ? std::string_view()
                                     : std::string_view(w.sub_key).substr(cut + 1);
    Result<std::optional<BufferedMessage>> m = store_.take_buffered(name, key, t);
    if (!m) {
      failed(m.status());
    } else if (*m) {
      deliveries_.push_back(Delivery{inst.id, w.id, std::move(**m)});
    }
  }
}

Status Runtime::set_variables(InstanceId id, nlohmann::json variables) {
  if (!variables.is_object()) return Status::invalid_argument("variables must be a JSON object");
  Result<Instance*> found = begin_on_instance(id);
  if (!found) return found.status();
  Instance* inst = *found;
  std::string names;
  inst->vars_changed = true;
  for (auto& [name, value] : variables.items()) {
    names += (names.empty() ? "" : ",") + name;
    inst->vars[name] = std::move(value);
  }
  emit(*inst, HistoryKind::kVariablesUpdated, kNoIndex, 0, 0, std::move(names));
  conditions_may_hold(*inst);
  run_queue();
  return commit();
}

// The hold of a damaged instance ends once its state reads again (repaired, or restored from
// a backup): its jobs go back to the queue, its timers and subscriptions count again.
Status Runtime::release_damaged(IncidentKey key, InstanceId id) {
  Instance* inst = live(id);
  if (inst == nullptr && store_failure_.is_ok()) {
    // Finished meanwhile (restored as such): nothing of it waits any more, its held jobs
    // go (a worker would run them for nothing).
    if (Status s = store_.release_damaged(id, key, true); !s) failed(s);
    return commit();
  }
  if (inst == nullptr) {
    Status why = store_failure_;
    abandon();
    return Status(StatusCode::kCorruption,
                  "instance " + std::to_string(id) + " is still damaged (" + why.message() +
                      "); repair its row or restore it, then resolve incident " +
                      std::to_string(key) + " again");
  }
  if (Status s = store_.release_damaged(id, key, false); !s) failed(s);
  emit(*inst, HistoryKind::kIncidentResolved, kNoIndex, key);
  return commit();
}

Status Runtime::resolve_incident(IncidentKey key, int job_retries) {
  if (Status s = begin(); !s) return s;
  if (Result<std::optional<InstanceId>> held = store_.damaged_instance(key); !held) {
    failed(held.status());
  } else if (*held) {
    return release_damaged(key, **held);
  }
  Instance* found = nullptr;
  if (Result<std::optional<InstanceId>> owner = store_.incident_instance(key); !owner) {
    failed(owner.status());
  } else if (*owner) {
    found = get(**owner);
  }
  auto it = found == nullptr ? std::vector<Incident>::iterator{}
                             : std::find_if(found->incidents.begin(), found->incidents.end(),
                                            [key](const Incident& i) { return i.key == key; });
  if (found == nullptr || it == found->incidents.end()) {
    Status s = store_failure_.is_ok() ? Status::not_found("no open incident " + std::to_string(key))
                                   : store_failure_;
    abandon();
    return s;
  }
  Instance& inst = *found;
  if (inst.state == InstanceState::kSuspended) {
    abandon();
    return Status(StatusCode::kConflict,
                  "instance " + std::to_string(inst.id) + " is suspended: resume it, then retry");
  }
  touch(inst);
  const Incident inc = *it;
  inst.incidents.erase(it);
  inst.incidents_changed = true;
  if (ElementInstance* el = inst.find(inc.element)) {
    el->has_incident = std::any_of(inst.incidents.begin(), inst.incidents.end(),
                                   [&](const Incident& i) { return i.element == inc.element; });
  }
  emit(inst, HistoryKind::kIncidentResolved, inc.element_index, key);
  if (inst.incidents.empty()) transition(inst, InstanceEvent::kResolveIncident);
  switch (inc.retry) {
    case IncidentRetry::kJob:
      if (JobRecord* j = find_job(inc.job)) {
        j->retries = std::max(1, job_retries);
        if (auto n = next(j->state, JobEvent::kResolve)) {
          j->state = *n;
          j->lock_owner.clear();
          j->lock_expires_ms = 0;
          touch_job(inc.job);
          made_ready(inc.job);
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
        if (runs_as_job(inst.plan->element(el->element)) && el->job == 0) {
          create_job(inst, inc.element);
        }
      }
      break;
  }
  run_queue();
  return commit();
}

std::int64_t Runtime::next_cycle(std::int64_t due, std::int64_t interval,
                                 const std::string& text) const {
  if (interval != kCronInterval) return next_tick(due, interval);
  // A cron cycle: its next time after this firing (or after now, when the engine was down
  // meanwhile: the missed times were caught up by this one). 0: none any more.
  Result<time::Cron> cron = time::parse_cron(text);
  if (!cron) return 0;
  return time::next_cron_time(*cron, std::max(due, now())).value_or(0);
}

std::int64_t Runtime::next_tick(std::int64_t due, std::int64_t interval) const {
  // (plan_timer refuses a cycle without a positive interval; a stored one is not trusted.)
  if (interval <= 0) return std::max(due, now()) + 1;
  const std::int64_t next = due + interval;
  const std::int64_t t = now();
  if (next > t) return next;
  // The cycle started in the past, or nothing fired for a while (the engine was down): the
  // missed ticks were caught up by this one firing; the next is the cycle's first after now.
  return next + ((t - next) / interval + 1) * interval;
}

Result<bool> Runtime::fire_next_due_timer() {
  // A look before the transaction: most calls find nothing due.
        Result<std::optional<std::int64_t>> soonest = next_timer_due();
  if (!soonest) return soonest.status();
  if (!*soonest || **soonest > now()) return false;
  if (Status s = begin(); !s) return s;
  Result<std::optional<store::TimerRow>> row = store_.next_timer();
  if (!row || !*row || (*row)->due_ms > now() ||
      std::find(fresh_batches_.begin(), fresh_batches_.end(), (*row)->id) !=
          fresh_batches_.end()) {
    abandon();
    if (!row) return row.status();
    return false;
  }
  const std::int64_t due = (*row)->due_ms;
  TimerRecord rec = std::move((*row)->record);
  failed(store_.remove_timer(due, (*row)->id));
  if (rec.start_event != kNoIndex) {  // a timer start event: a new instance
    if (std::shared_ptr<const Plan> p = plan(rec.process_id, rec.version)) {
      const std::int64_t again =
          rec.repetitions_left == 0
              ? 0
              : next_cycle(due, rec.interval_ms, p->element(rec.start_event).event.timer.text);
      if (again != 0) {
        add_timer(again, new_key(),
                  TimerRecord{0, 0, rec.repetitions_left < 0 ? -1 : rec.repetitions_left - 1,
                              rec.interval_ms, rec.process_id, rec.version, rec.start_event});
      }
      Instance& inst = new_instance(std::move(p), {}, nlohmann::json::object());
      emit(inst, HistoryKind::kTimerFired, rec.start_event, 0, due);
      open_event_subprocess_waits(inst, kProcessScope, kNoIndex);
      activate_triggered(inst, rec.start_event, kProcessScope, nullptr, false);
      run_queue();
    }
    if (Status s = commit(); !s) return s;
    return true;
  }
  if (rec.instance == 0) {  // a job's retry backoff has passed
    JobRecord* j = find_job(rec.wait);
    if (j != nullptr && j->state == JobState::kFailed) {
      j->state = *next(j->state, JobEvent::kRetry);
      const Instance* of = live(j->instance);
      if (of != nullptr && of->state == InstanceState::kSuspended) {
        park(*j);
      } else {
        touch_job(j->key);
        made_ready(j->key);
      }
    }
    if (Status s = commit(); !s) return s;
    return true;
  }
  Instance* inst = live(rec.instance);
  if (inst != nullptr) {
    auto w = std::find_if(inst->waits.begin(), inst->waits.end(),
                          [&](const Wait& x) { return x.id == rec.wait; });
    if (w != inst->waits.end() && is_batch_wait(*inst, *w)) {
      const ElemKey body = w->owner;
      inst->waits.erase(w);
      start_inner_batch(*inst, body);
      run_queue();
    } else if (w != inst->waits.end()) {
      Wait fired = *w;
      const Element& ev = inst->plan->element(fired.event);
      const bool keeps_running =
          (ev.kind == ElementKind::kBoundaryEvent && !ev.cancel_activity) ||
          (ev.kind == ElementKind::kStartEvent && !ev.interrupting);
      std::int64_t again = 0;
      if (keeps_running && rec.repetitions_left != 0) {
        std::string text = ev.event.timer.text;
        if (rec.interval_ms == kCronInterval) {
          Result<std::string> evaluated = eval_string(*inst, fired.owner, ev.event.timer);
          text = evaluated ? *evaluated : std::string();
        }
        again = next_cycle(due, rec.interval_ms, text);
      }
      if (again != 0) {
        w->due_ms = again;
        add_timer(w->due_ms, w->id,
                  TimerRecord{rec.instance, rec.wait,
                              rec.repetitions_left < 0 ? -1 : rec.repetitions_left - 1,
                              rec.interval_ms, {}, 0, kNoIndex});
      } else {
        inst->waits.erase(w);
      }
      emit(*inst, HistoryKind::kTimerFired, fired.event, fired.id, due);
      trigger(*inst, fired, nullptr);
      run_queue();
    }
  }
  if (Status s = commit(); !s) return s;
  return true;
}

void Runtime::incident(Instance& inst, ElemKey key, IncidentRetry retry, IncidentKind kind,
                       std::string message, JobKey job) {
  Incident& i = inst.incidents.emplace_back();
  i.key = new_key();
  inst.incidents_changed = true;
  i.element = key;
  ElementInstance* el = key == kProcessScope ? nullptr : inst.find(key);
  i.element_index = el ? el->element : kNoIndex;
  i.job = job;
  i.retry = retry;
    i.kind = kind;
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
  // The store numbers it when the command is written.
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
    e.element_index = element;
    e.element_kind = def.kind;
  }
  e.key = key;
  e.value = value;
  e.detail = std::move(detail);
  if (kind == HistoryKind::kElementCompleted || kind == HistoryKind::kElementTerminated) {
    // Emitted before the element instance `key` is removed: how long it was active.
    const ElementInstance* el = inst.find(static_cast<ElemKey>(key));
    if (el != nullptr && el->activated_ms != 0) e.active_ms = e.time_ms - el->activated_ms;
  }
}

bool Runtime::transition(Instance& inst, ElementInstance& el, ElementEvent event) {
  if (auto n = next(el.state, event)) {
    el.state = *n;
    return true;
  }
  incident(inst, el.key, IncidentRetry::kNone, IncidentKind::kLifecycle,
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

const JobRecord* Runtime::job(JobKey key) {
  return find_job(key);
}

const JobRecord* Runtime::remember_job(JobRecord job) {
  return &store_.put_job(std::move(job));
}

const Instance* Runtime::instance(InstanceId id) { return get(id); }

const Element& Runtime::element_of(const JobRecord& job) {
  return get(job.instance)->plan->element(job.element_index);
}

Result<std::optional<std::int64_t>> Runtime::next_timer_due() {
  Result<std::optional<store::TimerRow>> row = store_.next_timer();
  if (!row) return row.status();
  if (!*row) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>((*row)->due_ms);
}

}  // namespace ordo::runtime
