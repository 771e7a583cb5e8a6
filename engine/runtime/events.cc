// Events: waits (timers and message subscriptions), triggers, BPMN errors and escalations,
// and termination.
#include "expr/temporal.h"
#include "runtime/runtime.h"
#include "time/cron.h"
#include "time/iso8601.h"

namespace ordo::runtime {

std::string subscription_key(std::string_view name, std::string_view key) {
  std::string out;
  out.reserve(name.size() + key.size() + 1);
  out.append(name).push_back('\x1f');
  out.append(key);
  return out;
}

std::string signal_key(std::string_view name) {
  std::string out = "\x02";
  out.append(name);
  return subscription_key(out, {});
}

std::vector<InstanceId> Runtime::broadcast(std::string_view name, const nlohmann::json& variables) {
  std::vector<InstanceId> reached;
  std::vector<Subscription> subs;
  if (Status s = store_.subscriptions(signal_key(name), subs); !s) {
    failed(s);
    return reached;
  }
  for (const Subscription& s : subs) {
    Instance* inst = live(s.instance);
    if (inst == nullptr || inst->state == InstanceState::kSuspended) continue;
    // (A wait closed by one fired before it in this broadcast is gone: passed by.)
    auto w = std::find_if(inst->waits.begin(), inst->waits.end(),
                          [&](const Wait& x) { return x.id == s.wait; });
    if (w == inst->waits.end()) continue;
    const Wait copy = *w;
    trigger(*inst, copy, variables);
    if (std::find(reached.begin(), reached.end(), inst->id) == reached.end()) {
      reached.push_back(inst->id);
    }
  }
  for (const auto& plan : signal_start_plans_) {
    for (ElementIndex s : plan->signal_starts) {
      if (plan->element(s).event.ref_name != name) continue;
      Instance& inst = new_instance(plan, {}, nlohmann::json::object());
      open_event_subprocess_waits(inst, kProcessScope, kNoIndex);
      activate_triggered(inst, s, kProcessScope, variables, false);
      reached.push_back(inst.id);
      break;
    }
  }
  return reached;
}

Result<Correlation> Runtime::signal(std::string_view name, nlohmann::json variables) {
  if (variables.is_null()) variables = nlohmann::json::object();
  if (!variables.is_object()) {
    return Status::invalid_argument("signal variables must be a JSON object");
  }
  if (name.empty()) return Status::invalid_argument("a signal needs a name");
  if (Status s = begin(); !s) return s;
  Correlation out;
  out.instances = broadcast(name, variables);
  run_queue();
  if (Status s = commit(); !s) return s;
  return out;
}

Result<Correlation> Runtime::start_by_conditions(nlohmann::json variables,
                                                 std::string_view process_id) {
  if (variables.is_null()) variables = nlohmann::json::object();
  if (!variables.is_object()) return Status::invalid_argument("variables must be a JSON object");
  std::vector<std::pair<std::shared_ptr<const Plan>, ElementIndex>> starting;
  for (const auto& [id, versions] : plans_) {
    if (versions.empty() || (!process_id.empty() && id != process_id)) continue;
    const std::shared_ptr<const Plan>& plan = versions.back();
    // Evaluated on the variables alone, as the new instance's would be; a condition that
    // cannot be evaluated (a variable not given) does not hold.
    Instance probe;
    probe.plan = plan;
    probe.vars = variables;
    for (ElementIndex s : plan->conditional_starts) {
      Result<bool> holds = eval_condition(probe, kProcessScope, plan->element(s).event.condition);
      if (holds && *holds) {
        starting.emplace_back(plan, s);
        break;
      }
    }
  }
  if (!process_id.empty() && latest(process_id) == nullptr) {
    return Status::not_found("process '" + std::string(process_id) + "' is not deployed");
  }
  // In order of process id, so that what starts does not depend on the map's order.
  std::sort(starting.begin(), starting.end(),
            [](const auto& a, const auto& b) { return a.first->def->id < b.first->def->id; });
  if (Status s = begin(); !s) return s;
  Correlation out;
  for (const auto& [plan, start] : starting) {
    Instance& inst = new_instance(plan, {}, variables);
    open_event_subprocess_waits(inst, kProcessScope, kNoIndex);
    activate_triggered(inst, start, kProcessScope, nullptr, false);
    out.instances.push_back(inst.id);
  }
  run_queue();
  if (Status s = commit(); !s) return s;
  return out;
}

void Runtime::reserve_token(Instance& inst, ElemKey scope) {
  if (scope == kProcessScope) {
    ++inst.tokens;
  } else if (ElementInstance* s = inst.find(scope)) {
    ++s->tokens;
  }
}

void Runtime::release_token(Instance& inst, ElemKey scope) {
  if (scope == kProcessScope) {
    --inst.tokens;
  } else if (ElementInstance* s = inst.find(scope)) {
    --s->tokens;
  }
}

bool Runtime::open_wait(Instance& inst, ElemKey owner, ElementIndex event) {
  // Entering again (an activation incident resolved) keeps the waits opened before it.
  for (const Wait& w : inst.waits) {
    if (w.owner == owner && w.event == event) return true;
  }
  const Element& ev = inst.plan->element(event);
  if (ev.event.type == EventType::kTimer) return schedule_timer(inst, owner, event);
  if (ev.event.type == EventType::kConditional) {
    // Checked now (when the command's queue is empty) and whenever the variables change.
    Wait& w = inst.waits.emplace_back();
    w.id = new_key();
    w.owner = owner;
    w.event = event;
    w.sub_key = std::string(kConditionWait);
    conditions_may_hold(inst);
    return true;
  }
  if (ev.event.type == EventType::kSignal) {
    Wait& w = inst.waits.emplace_back();
    w.id = new_key();
    w.owner = owner;
    w.event = event;
    w.sub_key = signal_key(ev.event.ref_name);
    if (store_failure_.is_ok()) {
      failed(store_.add_subscription(w.sub_key, Subscription{inst.id, w.id}));
    }
    return true;
  }
  if (ev.event.type != EventType::kMessage && ev.kind != ElementKind::kReceiveTask) return true;
  Result<std::string> name = eval_string(inst, owner, ev.event.message_name);
  if (!name) {
    incident(inst, owner, IncidentRetry::kActivate, IncidentKind::kExpression, name.status().message());
    return false;
  }
  std::string key;
  if (!ev.event.correlation_key.empty()) {
    Result<std::string> k = eval_string(inst, owner, ev.event.correlation_key);
    if (!k) {
      incident(inst, owner, IncidentRetry::kActivate, IncidentKind::kExpression,
               "correlation key: " + k.status().message());
      return false;
    }
    key = std::move(*k);
  }
  Wait& w = inst.waits.emplace_back();
  w.id = new_key();
  w.owner = owner;
  w.event = event;
  w.sub_key = subscription_key(*name, key);
  const std::uint64_t wait_id = w.id;
  if (store_failure_.is_ok()) {
    failed(store_.add_subscription(w.sub_key, Subscription{inst.id, wait_id}));
  }
  if (recording_) {
    emit(inst, HistoryKind::kMessageSubscribed, event, wait_id, 0,
         detailed() ? *name + " / " + key : std::string());
  }
  const std::int64_t t = now();
  if (!store_failure_.is_ok()) return true;
  if (group_ && store_.takes_buffered_later()) {
    // A round trip saved per subscription: the take goes with the next statement, and
    // what it finds is delivered before the group commits (settle_takes()).
    failed(store_.take_buffered_later(*name, key, t, wait_id));
    takes_.push_back(PendingTake{inst.id, wait_id, subscription_key(*name, key)});
    return true;
  }
  Result<std::optional<BufferedMessage>> m = store_.take_buffered(*name, key, t);
  if (!m) {
    failed(m.status());
  } else if (*m) {
    deliveries_.push_back(Delivery{inst.id, wait_id, std::move(**m)});
  }
  return true;
}

bool Runtime::open_boundary_waits(Instance& inst, ElemKey activity) {
  const ElementIndex element = inst.find(activity)->element;
  for (ElementIndex b : inst.plan->element(element).boundary_events) {
    const EventType t = inst.plan->element(b).event.type;
    if ((t == EventType::kTimer || t == EventType::kMessage || t == EventType::kSignal ||
         t == EventType::kConditional) &&
        !open_wait(inst, activity, b)) {
      return false;
    }
  }
  return true;
}

bool Runtime::open_event_subprocess_waits(Instance& inst, ElemKey scope,
                                          ElementIndex scope_element) {
  const Plan& plan = *inst.plan;
  for (ElementIndex sub : plan.event_subprocesses[plan.scope_slot(scope_element)]) {
    const ElementIndex start = plan.event_sub_start[sub];
    if (start == kNoIndex) continue;
    const EventType t = plan.element(start).event.type;
    if ((t == EventType::kTimer || t == EventType::kMessage || t == EventType::kSignal ||
         t == EventType::kConditional) &&
        !open_wait(inst, scope, start)) {
      return false;
    }
  }
  return true;
}

void Runtime::conditions_may_hold(const Instance& inst) {
  if (std::find(conditions_due_.begin(), conditions_due_.end(), inst.id) != conditions_due_.end()) {
    return;
  }
  if (std::any_of(inst.waits.begin(), inst.waits.end(),
                  [](const Wait& w) { return w.sub_key == kConditionWait; })) {
    conditions_due_.push_back(inst.id);
  }
}

void Runtime::check_conditions() {
  std::vector<InstanceId> due;
  due.swap(conditions_due_);
  for (InstanceId id : due) {
    Instance* inst = live(id);
    if (inst == nullptr || inst->state == InstanceState::kSuspended) continue;
    std::vector<Wait> waiting;
    for (const Wait& w : inst->waits) {
      if (w.sub_key == kConditionWait &&
          std::find(conditions_fired_.begin(), conditions_fired_.end(), w.id) ==
              conditions_fired_.end()) {
        waiting.push_back(w);
      }
    }
    for (const Wait& w : waiting) {
      // An earlier one may have ended this one's scope (an interrupting event).
      inst = live(id);
      if (inst == nullptr) break;
      auto it = std::find_if(inst->waits.begin(), inst->waits.end(),
                             [&](const Wait& x) { return x.id == w.id; });
      if (it == inst->waits.end()) continue;
      // A condition that cannot be evaluated yet (a variable not set) counts as false. It
      // fires when it becomes true (BPMN 2.0): `due_ms` keeps whether it held last time.
      Result<bool> holds =
          eval_condition(*inst, w.owner, inst->plan->element(w.event).event.condition);
      const bool now = holds && *holds;
      const bool before = it->due_ms != 0;
      if (now != before) touch(*inst);
      it->due_ms = now ? 1 : 0;
      if (!now || before) continue;
      conditions_fired_.push_back(w.id);
      const Wait copy = *it;
      trigger(*inst, copy, nullptr);
    }
  }
}

void Runtime::drop_wait(const Wait& w) {
  if (w.timer) {
    cancel_timer(w.due_ms, w.id);
    return;
  }
  if (w.sub_key == kConditionWait) return;  // nothing stored but the wait
  if (store_failure_.is_ok()) failed(store_.remove_subscription(w.sub_key, w.id));
}

void Runtime::close_waits(Instance& inst, ElemKey owner, bool start_events_only) {
  std::erase_if(inst.waits, [&](const Wait& w) {
    if (w.owner != owner) return false;
    if (start_events_only && inst.plan->element(w.event).kind != ElementKind::kStartEvent) {
      return false;
    }
    drop_wait(w);
    return true;
  });
}

namespace {

std::string beyond_horizon(std::string_view what, const std::string& text) {
  return "timer " + std::string(what) + " '" + text +
         "' reaches beyond the year 9999, where no timer can be due; give a shorter one";
}

}  // namespace

Result<TimerSchedule> plan_timer(TimerType type, const std::string& text, std::int64_t t) {
  auto fail = [](std::string why) { return Status::invalid_argument(std::move(why)); };
  TimerSchedule out;
  switch (type) {
    case TimerType::kDate: {
      std::optional<std::int64_t> d = time::parse_date_time(text);
      if (!d) d = expr::instant_ms(text);  // what a FEEL expression gives: a zone by name
      if (!d) return fail("timer date '" + text + "' is not an ISO 8601 date and time");
      out.due = *d;
      return out;
    }
    case TimerType::kDuration: {
      auto d = time::parse_duration(text);
      if (!d) return fail("timer duration '" + text + "' is not an ISO 8601 duration");
      auto due = time::add_within(t, *d);
      if (!due) return fail(beyond_horizon("duration", text));
      out.due = *due;
      return out;
    }
    case TimerType::kCycle: {
      if (time::looks_like_cron(text)) {
        Result<time::Cron> cron = time::parse_cron(text);
        if (!cron) return fail("timer cycle '" + text + "': " + cron.status().message());
        const std::optional<std::int64_t> next = time::next_cron_time(*cron, t);
        if (!next) return fail("timer cycle '" + text + "' never matches before the year 2169");
        out.due = *next;
        out.interval = kCronInterval;  // each next time comes from the expression
        out.repetitions = -1;
        return out;
      }
      auto c = time::parse_cycle(text);
      if (!c) return fail("timer cycle '" + text + "' is not an ISO 8601 repeating interval");
      auto next = time::add_within(t, c->interval);
      if (!next) return fail(beyond_horizon("cycle", text));
      out.interval = *next - t;
      if (out.interval <= 0) return fail("timer cycle '" + text + "' has no positive interval");
      out.due = c->start_ms ? *c->start_ms : t + out.interval;
      out.repetitions = c->repetitions < 0 ? -1 : c->repetitions - 1;
      return out;
    }
    case TimerType::kNone:
      break;
  }
  return fail("the timer event has no timeDate, timeDuration or timeCycle");
}

bool Runtime::schedule_timer(Instance& inst, ElemKey owner, ElementIndex event) {
  const EventDefinition& ev = inst.plan->element(event).event;
  Result<std::string> text = eval_string(inst, owner, ev.timer);
  Result<TimerSchedule> when = text ? plan_timer(ev.timer_type, *text, now())
                                    : Result<TimerSchedule>(text.status());
  if (!when) {
    incident(inst, owner, IncidentRetry::kActivate, IncidentKind::kTimer, when.status().message());
    return false;
  }
  Wait& w = inst.waits.emplace_back();
  w.id = new_key();
  w.owner = owner;
  w.event = event;
  w.timer = true;
  w.due_ms = when->due;
  add_timer(when->due, w.id, TimerRecord{inst.id, w.id, when->repetitions, when->interval, {}, 0,
                                         kNoIndex});
  emit(inst, HistoryKind::kTimerScheduled, event, w.id, when->due);
  return true;
}

Status Runtime::check_start_timers(const Plan& plan) const {
  for (ElementIndex s : plan.timer_starts) {
    const EventDefinition& ev = plan.element(s).event;
    if (ev.timer.dialect != ExpressionDialect::kStatic) {
      return Status::invalid_argument("timer start event '" + plan.element(s).id +
                                      "' must give its timer as plain text (no expression): "
                                      "nothing is there for an expression to read yet");
    }
    if (Result<TimerSchedule> when = plan_timer(ev.timer_type, ev.timer.text, now()); !when) {
      return Status::invalid_argument("timer start event '" + plan.element(s).id +
                                      "': " + when.status().message());
    }
  }
  return Status::ok();
}

Status Runtime::arm_start_timers(const Plan& plan) {
  if (Status s = check_start_timers(plan); !s) return s;
  std::vector<std::pair<ElementIndex, TimerSchedule>> armed;
  for (ElementIndex s : plan.timer_starts) {
    const EventDefinition& ev = plan.element(s).event;
    armed.emplace_back(s, *plan_timer(ev.timer_type, ev.timer.text, now()));
  }
  if (Status s = begin(); !s) return s;
  // A new version replaces the timer start events of the ones before it.
  failed(store_.remove_start_timers(plan.def->id));
  for (const auto& [event, when] : armed) {
    TimerRecord rec{0, 0, when.repetitions, when.interval, plan.def->id, plan.version, event};
    add_timer(when.due, new_key(), std::move(rec));
  }
  return commit();
}

void Runtime::activate_triggered(Instance& inst, ElementIndex event, ElemKey parent,
                                 nlohmann::json payload, bool reserved) {
  if (!reserved) reserve_token(inst, parent);
  ElementInstance& el = create(inst, event, parent, Role::kNormal);
  const ElemKey key = el.key;
  if (!transition(inst, el, ElementEvent::kActivated)) return;
  finish(inst, key, std::move(payload));
}

void Runtime::trigger(Instance& inst, const Wait& wait_ref, nlohmann::json payload) {
  const Wait wait = wait_ref;  // the waits vector changes below
  const Plan& plan = *inst.plan;
  const Element& ev = plan.element(wait.event);
  if (ev.kind == ElementKind::kBoundaryEvent) {
    ElementInstance* activity = inst.find(wait.owner);
    if (activity == nullptr) return;
    const ElemKey parent = activity->parent;
    if (ev.cancel_activity) {
      reserve_token(inst, parent);
      terminate(inst, wait.owner);
      activate_triggered(inst, wait.event, parent, std::move(payload), true);
    } else {
      activate_triggered(inst, wait.event, parent, std::move(payload), false);
    }
    return;
  }
  if (ev.kind == ElementKind::kStartEvent) {  // of an event subprocess
    interrupt_scope_for(inst, wait.owner, ev.scope, std::move(payload), ev.interrupting);
    return;
  }
  ElementInstance* owner = inst.find(wait.owner);
  if (owner == nullptr) return;
  if (owner->element != wait.event) {  // an event-based gateway: this event wins
    close_waits(inst, wait.owner);
    owner = inst.find(wait.owner);
    const ElemKey parent = owner->parent;
    if (!transition(inst, *owner, ElementEvent::kComplete) ||
        !transition(inst, *owner, ElementEvent::kCompleted)) {
      return;
    }
    emit(inst, HistoryKind::kElementCompleted, owner->element, owner->key);
    inst.erase(wait.owner);  // its token passes to the event
    activate_triggered(inst, wait.event, parent, std::move(payload), true);
    return;
  }
  finish(inst, wait.owner, std::move(payload));
}

void Runtime::interrupt_scope_for(Instance& inst, ElemKey scope, ElementIndex event_sub,
                                  nlohmann::json payload, bool interrupting) {
  const Plan& plan = *inst.plan;
  reserve_token(inst, scope);
  if (interrupting) {
    // The other event subprocesses of the scope can no longer start.
    close_waits(inst, scope, true);
    terminate_children(inst, scope);
  }
  ElementInstance& sub = create(inst, event_sub, scope, Role::kNormal);
  const ElemKey key = sub.key;
  if (!transition(inst, sub, ElementEvent::kActivated)) return;
  open_event_subprocess_waits(inst, key, event_sub);
  activate_triggered(inst, plan.event_sub_start[event_sub], key, std::move(payload), false);
}

namespace {

// The catch event of `candidates` for `code`: an exact match first, then a catch-all.
ElementIndex match_catch(const Plan& plan, const std::vector<ElementIndex>& candidates,
                         EventType type, const std::string& code, bool start_events) {
  ElementIndex any = kNoIndex;
  for (ElementIndex c : candidates) {
    const ElementIndex ev = start_events ? plan.event_sub_start[c] : c;
    if (ev == kNoIndex) continue;
    const EventDefinition& d = plan.element(ev).event;
    if (d.type != type) continue;
    if (d.code == code && !code.empty()) return c;
    if (d.code.empty() && any == kNoIndex) any = c;
  }
  return any;
}

}  // namespace

bool Runtime::throw_event(Instance& inst, ElemKey from, EventType type, const std::string& code,
                          const std::string& message, nlohmann::json payload) {
  const Caught caught = propagate(inst, from, type, code, std::move(payload));
  if (caught != Caught::kNo) return caught == Caught::kInterrupting;
  if (type == EventType::kError && inst.find(from) != nullptr) {
    // The incident belongs where the error was thrown (in a called process too), so that
    // resolving it retries the thrower: a job task gets a new job, an event throws again.
    const Element& def = inst.plan->element(inst.find(from)->element);
    incident(inst, from, runs_as_job(def) ? IncidentRetry::kNone : IncidentRetry::kActivate,
             IncidentKind::kUnhandledError,
             "BPMN error '" + code + "'" + (message.empty() ? "" : " (" + message + ")") +
                 " was thrown by '" + def.id +
                 "' but no error boundary event or event subprocess catches it; add one, "
                 "or fix the cause and resolve this incident to retry");
  }
  return false;
}

Runtime::Caught Runtime::propagate(Instance& thrower, ElemKey thrown_from, EventType type,
                                   const std::string& code, nlohmann::json payload) {
  // Out through the scopes and on into the calling instance, in a loop: a process that
  // calls itself may nest deeper than a stack would hold.
  Instance* at = &thrower;
  ElemKey from = thrown_from;
  while (true) {
    Instance& inst = *at;
    emit(inst,
         type == EventType::kError ? HistoryKind::kErrorThrown : HistoryKind::kEscalationThrown,
         inst.find(from)->element, 0, 0, code);
    std::optional<Caught> caught = catch_in(inst, from, type, code, payload);
    if (caught) return *caught;
    Instance* parent = inst.parent != 0 ? live(inst.parent) : nullptr;
    if (parent == nullptr) return Caught::kNo;
    at = parent;
    from = inst.parent_element;
  }
}

std::optional<Runtime::Caught> Runtime::catch_in(Instance& inst, ElemKey from, EventType type,
                                                 const std::string& code, nlohmann::json& payload) {
  const Plan& plan = *inst.plan;
  ElemKey cur = from;
  while (true) {
    const ElementInstance* el = inst.find(cur);
    const Element& def = plan.element(el->element);
    if (is_activity(def.kind) && el->role != Role::kMiInner && !def.boundary_events.empty()) {
      const ElementIndex b = match_catch(plan, def.boundary_events, type, code, false);
      if (b != kNoIndex) {
        const ElemKey parent = el->parent;
        const bool interrupting = type == EventType::kError || plan.element(b).cancel_activity;
        if (interrupting) {
          reserve_token(inst, parent);
          terminate(inst, cur);
          activate_triggered(inst, b, parent, std::move(payload), true);
          return Caught::kInterrupting;
        }
        activate_triggered(inst, b, parent, std::move(payload), false);
        return Caught::kYes;
      }
    }
    const ElemKey scope = el->parent;
    const ElementInstance* s = scope == kProcessScope ? nullptr : inst.find(scope);
    // What an event subprocess throws goes past the event subprocesses of its own scope (it
    // would catch itself, again and again).
    if ((s == nullptr || s->role != Role::kMiBody) && def.kind != ElementKind::kEventSubProcess) {
      const ElementIndex scope_element = s == nullptr ? kNoIndex : s->element;
      const ElementIndex sub = match_catch(
          plan, plan.event_subprocesses[plan.scope_slot(scope_element)], type, code, true);
      if (sub != kNoIndex) {
        const bool interrupting =
            type == EventType::kError || plan.element(plan.event_sub_start[sub]).interrupting;
        interrupt_scope_for(inst, scope, sub, std::move(payload), interrupting);
        return interrupting ? Caught::kInterrupting : Caught::kYes;
      }
    }
    if (scope == kProcessScope) return std::nullopt;
    cur = scope;
  }
}

void Runtime::terminate(Instance& inst, ElemKey key) {
  ElementInstance* el = inst.find(key);
  if (el == nullptr) return;
  terminate_children(inst, key);
  close_waits(inst, key);
  if (!inst.compensation_runs.empty()) {  // a compensation it ran ends with it
    if (const state::CompensationRun* run = inst.run_of(key); run != nullptr) {
      if (run->compensates != 0) drop_compensations(inst, run->compensates);
      std::erase_if(inst.compensation_runs,
                    [&](const state::CompensationRun& r) { return r.owner == key; });
    }
  }
  if (!inst.compensations.empty()) {  // what completed inside can no longer be compensated
    release_claims(inst, key);  // a thrower's compensations not run yet go back
    drop_compensations(inst, key);
  }
  el = inst.find(key);
  if (el->job != 0) cancel_job(inst, *el);
  if (el->child != 0) {
    terminate_called(el->child);
    el = inst.find(key);
    el->child = 0;
  }
  if (el->has_incident) {
    std::erase_if(inst.incidents, [key](const Incident& i) { return i.element == key; });
    inst.incidents_changed = true;
    if (inst.incidents.empty() && inst.state == InstanceState::kIncident) {
      transition(inst, InstanceEvent::kResolveIncident);
    }
  }
  el = inst.find(key);
  if (!transition(inst, *el, ElementEvent::kTerminate)) return;
  transition(inst, *el, ElementEvent::kTerminated);
  emit(inst, HistoryKind::kElementTerminated, el->element, key);
  const ElemKey parent = el->parent;
  inst.erase(key);
  release_token(inst, parent);
}

void Runtime::terminate_called(InstanceId child) {
  // The instance and every instance it called, and so on down, deepest first: then no
  // termination finds a live called instance below it, and none recurses (a process that
  // calls itself may nest deeper than a stack would hold).
  std::vector<InstanceId> found{child};
  for (std::size_t i = 0; i < found.size(); ++i) {
    const Instance* inst = live(found[i]);
    if (inst == nullptr) continue;
    for (const ElementInstance& e : inst->elements) {
      if (e.child != 0) found.push_back(e.child);
    }
  }
  for (auto it = found.rbegin(); it != found.rend(); ++it) {
    if (Instance* inst = live(*it)) terminate_instance(*inst, HistoryKind::kInstanceTerminated);
  }
}

void Runtime::terminate_siblings(Instance& inst, ElemKey key) {
  const ElemKey scope = inst.find(key)->parent;
  std::vector<ElemKey> siblings;
  for (const ElementInstance& s : inst.elements) {
    if (s.parent == scope && s.key != key) siblings.push_back(s.key);
  }
  for (ElemKey s : siblings) terminate(inst, s);
  drop_queued(inst, scope);
}

void Runtime::terminate_children(Instance& inst, ElemKey scope) {
  std::vector<ElemKey> children;
  for (const ElementInstance& e : inst.elements) {
    if (e.parent == scope) children.push_back(e.key);
  }
  // Newest first, so a join or an event-based gateway goes before what feeds it.
  for (auto it = children.rbegin(); it != children.rend(); ++it) terminate(inst, *it);
  drop_queued(inst, scope);
}

void Runtime::drop_queued(Instance& inst, ElemKey scope) {
  for (Work& w : queue_) {
    if (w.instance == inst.id && w.parent == scope && w.element != kNoIndex) {
      w.element = kNoIndex;
      release_token(inst, scope);
    }
  }
}

void Runtime::terminate_instance(Instance& inst, HistoryKind kind) {
  if (inst.finished()) return;
  terminate_children(inst, kProcessScope);
  close_waits(inst, kProcessScope);
  inst.compensations.clear();
  inst.compensation_runs.clear();
  inst.incidents_changed |= !inst.incidents.empty();
  inst.incidents.clear();
  if (!transition(inst, InstanceEvent::kTerminate)) return;
  inst.ended_ms = now();
  emit(inst, kind);
  finished_.push_back(inst.id);
}

}  // namespace ordo::runtime
