// Entering elements: what each kind of element does when a token arrives.
#include "expr/expr.h"
#include "runtime/runtime.h"

namespace ordo::runtime {

void Runtime::enqueue(Instance& inst, ElementIndex element, ElemKey parent, FlowIndex via) {
  reserve_token(inst, parent);
  queue_.push_back(Work{inst.id, element, parent, via});
}

ElementInstance& Runtime::create(Instance& inst, ElementIndex element, ElemKey parent,
                                 Role role) {
  ElementInstance& el = inst.elements.emplace_back();
  el.key = inst.next_key++;
  el.parent = parent;
  el.element = element;
  el.role = role;
  el.activated_ms = now();
  if (role != Role::kMiInner) emit(inst, HistoryKind::kElementActivated, element, el.key);
  return el;
}

void Runtime::activate(Instance& inst, ElementIndex element, ElemKey parent, FlowIndex via) {
  const Element& def = inst.plan->element(element);
  if ((def.kind == ElementKind::kParallelGateway || def.kind == ElementKind::kInclusiveGateway) &&
      def.incoming.size() > 1) {
    arrive_at_join(inst, element, parent, via);
    return;
  }
  const bool multi = def.loop.present && is_activity(def.kind);
  const ElemKey key = create(inst, element, parent, multi ? Role::kMiBody : Role::kNormal).key;
  enter(inst, key);
}

// The entry work of an element instance. Re-run from the start when an incident on its
// activation is resolved.
void Runtime::enter(Instance& inst, ElemKey key) {
  ElementInstance* el = inst.find(key);
  const Element& def = inst.plan->element(el->element);
  if (el->role == Role::kMiBody) {
    enter_multi_instance(inst, key);
    return;
  }
  if (!apply_inputs(inst, key)) return;
  el = inst.find(key);
  if (el->state == ElementState::kActivating && !transition(inst, *el, ElementEvent::kActivated)) {
    return;
  }
  if (is_activity(def.kind) && el->role == Role::kNormal && !def.boundary_events.empty()) {
    if (!open_boundary_waits(inst, key) || inst.find(key) == nullptr) return;
  }
  switch (def.kind) {
    case ElementKind::kStartEvent:
    case ElementKind::kTask:
    case ElementKind::kManualTask:
    case ElementKind::kExclusiveGateway:
    case ElementKind::kParallelGateway:
    case ElementKind::kInclusiveGateway:
    case ElementKind::kBoundaryEvent:
      finish(inst, key, nullptr);
      return;
    case ElementKind::kServiceTask:
    case ElementKind::kSendTask:
    case ElementKind::kUserTask:
      create_job(inst, key);
      return;
    case ElementKind::kBusinessRuleTask:
      if (!def.decision.decision_id.empty()) {
        decide(inst, key);
      } else {
        create_job(inst, key);
      }
      return;
    case ElementKind::kReceiveTask:
      open_wait(inst, key, el->element);
      return;
    case ElementKind::kScriptTask: {
      if (runs_as_job(def)) {  // a worker runs it (zeebe:taskDefinition)
        create_job(inst, key);
        return;
      }
      Result<nlohmann::json> v = eval(inst, key, def.script);
      if (!v) {
        incident(inst, key, IncidentRetry::kActivate, IncidentKind::kExpression, v.status().message());
        return;
      }
      nlohmann::json result = nlohmann::json::object();
      if (!def.result_variable.empty()) result[def.result_variable] = std::move(*v);
      finish(inst, key, std::move(result));
      return;
    }
    case ElementKind::kEventBasedGateway:
      for (FlowIndex f : def.outgoing) {
        if (!open_wait(inst, key, inst.plan->flow(f).target) || inst.find(key) == nullptr) {
          return;
        }
      }
      return;
    case ElementKind::kIntermediateCatchEvent:
      if (def.event.type == EventType::kMessage || def.event.type == EventType::kTimer ||
          def.event.type == EventType::kSignal || def.event.type == EventType::kConditional) {
        open_wait(inst, key, el->element);
      } else if (def.event.type == EventType::kLink || def.event.type == EventType::kNone) {
        finish(inst, key, nullptr);
      } else {
        incident(inst, key, IncidentRetry::kActivate, IncidentKind::kUnsupported,
                 std::string(to_string(def.event.type)) +
                     " intermediate catch events are not executed by this version");
      }
      return;
    case ElementKind::kIntermediateThrowEvent:
    case ElementKind::kEndEvent:
      switch (def.event.type) {
        case EventType::kMessage:
          create_job(inst, key);
          return;
        case EventType::kError:
          throw_event(inst, key, EventType::kError, def.event.code, {}, nullptr);
          return;
        case EventType::kEscalation:
          if (!throw_event(inst, key, EventType::kEscalation, def.event.code, {}, nullptr)) {
            if (inst.find(key) != nullptr) finish(inst, key, nullptr);
          }
          return;
        case EventType::kTerminate:
          terminate_siblings(inst, key);
          finish(inst, key, nullptr);
          return;
        case EventType::kSignal:
          // Every instance waiting for it (this one too) and every process it starts.
          broadcast(def.event.ref_name, nlohmann::json::object());
          if (inst.find(key) != nullptr) finish(inst, key, nullptr);
          return;
        case EventType::kCompensation:
          throw_compensation(inst, key, def.event.wait_for_completion);
          return;
        case EventType::kCancel:
          // The transaction stops: what else runs in it ends, its completed activities are
          // compensated, then its cancel boundary event is taken.
          cancel_end(inst, key);
          return;
        default:  // none, link
          finish(inst, key, nullptr);
          return;
      }
    case ElementKind::kSubProcess:
      enter_scope(inst, key, el->element);
      return;
    case ElementKind::kEventSubProcess:
      return;  // entered by activate_triggered
    case ElementKind::kCallActivity:
      start_call(inst, key);
      return;
  }
}

void Runtime::enter_scope(Instance& inst, ElemKey key, ElementIndex scope_element) {
  const std::size_t slot = inst.plan->scope_slot(scope_element);
  const ElementIndex start = inst.plan->none_start[slot];
  if (start == kNoIndex) {
    incident(inst, key, IncidentRetry::kNone, IncidentKind::kNoStartEvent,
             "the subprocess has no none start event to begin with");
    return;
  }
  if (!open_event_subprocess_waits(inst, key, scope_element)) return;
  enqueue(inst, start, key, kNoIndex);
}

void Runtime::too_many_instances(Instance& inst, ElemKey body, std::uint64_t n) {
  incident(inst, body, IncidentRetry::kActivate, IncidentKind::kMultiInstance,
           "the multi-instance activity would run " + std::to_string(n) +
               " instances, more than the limit of " +
               std::to_string(options_.max_multi_instance) +
               " (EngineOptions::max_multi_instance); split the collection, or raise the limit "
               "and resolve this incident");
}

void Runtime::enter_multi_instance(Instance& inst, ElemKey body) {
  const Element& def = inst.plan->element(inst.find(body)->element);
  const MultiInstance& loop = def.loop;
  nlohmann::json items;
  std::uint64_t runs = 0;  // a standard loop's most runs (its items stay empty)
  if (loop.standard) {
    // A while-loop: as many runs as the condition allows, up to its maximum (or the
    // engine's limit on instances, which is an incident when reached).
    runs = loop.loop_maximum >= 0 ? static_cast<std::uint64_t>(loop.loop_maximum)
                                  : options_.max_multi_instance;
    if (runs > options_.max_multi_instance) {
      too_many_instances(inst, body, runs);
      return;
    }
    if (loop.test_before && !loop.loop_condition.empty()) {
      inst.find(body)->vars = nlohmann::json{{"loopCounter", 0}};
      Result<bool> r = eval_condition(inst, body, loop.loop_condition);
      if (!r) {
        incident(inst, body, IncidentRetry::kActivate, IncidentKind::kExpression,
                 "loop condition: " + r.status().message());
        return;
      }
      if (!*r) runs = 0;
    }
    items = nlohmann::json::array();
  } else if (!loop.input_collection.empty()) {
    Result<nlohmann::json> v = eval(inst, body, loop.input_collection);
    if (!v) {
      incident(inst, body, IncidentRetry::kActivate, IncidentKind::kExpression, v.status().message());
      return;
    }
    if (!v->is_array()) {
      incident(inst, body, IncidentRetry::kActivate, IncidentKind::kExpression,
               "the input collection `" + loop.input_collection.source() + "` gave " +
                   std::string(v->type_name()) + ", expected a list");
      return;
    }
    if (v->size() > options_.max_multi_instance) {
      too_many_instances(inst, body, v->size());
      return;
    }
    items = std::move(*v);
  } else if (!loop.loop_cardinality.empty()) {
    Result<nlohmann::json> v = eval(inst, body, loop.loop_cardinality);
    if (v && v->is_string()) {
      try {
        *v = std::stoll(v->get<std::string>());
      } catch (...) {
      }
    }
    if (!v || !v->is_number_integer() || v->get<std::int64_t>() < 0) {
      incident(inst, body, IncidentRetry::kActivate, IncidentKind::kExpression,
               "the loop cardinality `" + loop.loop_cardinality.source() +
                   "` must give a non-negative whole number");
      return;
    }
    const std::int64_t n = v->get<std::int64_t>();
    if (static_cast<std::uint64_t>(n) > options_.max_multi_instance) {
      too_many_instances(inst, body, static_cast<std::uint64_t>(n));
      return;
    }
    items = nlohmann::json::array();
    for (std::int64_t i = 0; i < n; ++i) items.push_back(i + 1);
  } else {
    incident(inst, body, IncidentRetry::kNone, IncidentKind::kMultiInstance,
             "multi-instance without an input collection or loop cardinality");
    return;
  }
  ElementInstance* el = inst.find(body);
  el->loop_total = static_cast<std::uint32_t>(loop.standard ? runs : items.size());
  el->vars = nlohmann::json::object();
  if (!loop.output_collection.empty()) {
    el->vars[loop.output_collection] = nlohmann::json::array();
    el->vars[loop.output_collection].get_ref<nlohmann::json::array_t&>().resize(items.size());
  }
  el->items = std::move(items);
  if (el->state == ElementState::kActivating && !transition(inst, *el, ElementEvent::kActivated)) {
    return;
  }
  if (!def.boundary_events.empty()) {
    if (!open_boundary_waits(inst, body) || inst.find(body) == nullptr) return;
  }
  el = inst.find(body);
  if (el->loop_total == 0) {
    finish(inst, body, nullptr);
    return;
  }
  if (loop.sequential) {
    start_inner(inst, body, 0);
    return;
  }
  start_inner_batch(inst, body);
}

void Runtime::start_inner_batch(Instance& inst, ElemKey body) {
  const ElementInstance* b = inst.find(body);
  const std::uint32_t from = b->loop_index;  // started so far
  const std::uint32_t total = b->loop_total;
  const std::uint32_t to = total - from > options_.multi_instance_batch
                               ? from + options_.multi_instance_batch
                               : total;
  for (std::uint32_t i = from; i < to; ++i) {
    if (inst.find(body) == nullptr) return;  // an inner instance ended it (an error)
    start_inner(inst, body, i);
  }
  b = inst.find(body);
  if (b == nullptr || to == total || b->state != ElementState::kActive) return;
  // Not a BPMN timer: no history event, and the wait closes with the body (it completes by
  // its completion condition, is interrupted or cancelled) like its boundary events'.
  Wait& w = inst.waits.emplace_back();
  w.id = new_key();
  w.owner = body;
  w.event = b->element;
  w.timer = true;
  w.due_ms = now();
  add_timer(w.due_ms, w.id, TimerRecord{inst.id, w.id, 0, 0, {}, 0, kNoIndex});
  fresh_batches_.push_back(w.id);
}

bool Runtime::is_batch_wait(const Instance& inst, const Wait& w) {
  const ElementInstance* owner = inst.find(w.owner);
  return owner != nullptr && owner->role == Role::kMiBody && owner->element == w.event;
}

void Runtime::start_inner(Instance& inst, ElemKey body, std::uint32_t index, bool reserved) {
  ElementInstance* b = inst.find(body);
  const ElementIndex element = b->element;
  const MultiInstance& loop = inst.plan->element(element).loop;
  b->loop_index = index + 1;
  if (!reserved) ++b->tokens;
  nlohmann::json vars = nlohmann::json::object();
  if (!loop.input_element.empty()) vars[loop.input_element] = b->items[index];
  vars["loopCounter"] = index + 1;
  ElementInstance& inner = create(inst, element, body, Role::kMiInner);
  inner.loop_index = index;
  inner.vars = std::move(vars);
  emit(inst, HistoryKind::kElementActivated, element, inner.key, index + 1);
  enter(inst, inner.key);
}

void Runtime::arrive_at_join(Instance& inst, ElementIndex element, ElemKey parent,
                             FlowIndex via) {
  const Element& def = inst.plan->element(element);
  ElementInstance* join = nullptr;
  for (ElementInstance& e : inst.elements) {
    if (e.element == element && e.parent == parent && e.state == ElementState::kActive) {
      join = &e;
      break;
    }
  }
  const std::uint16_t slot = via == kNoIndex ? 0 : inst.plan->incoming_slot[via];
  if (join == nullptr) {
    join = &create(inst, element, parent, Role::kNormal);
    join->arrivals.assign(def.incoming.size(), 0);
    join->arrivals[slot] = 1;
    if (!transition(inst, *join, ElementEvent::kActivated)) return;
  } else {
    ++join->arrivals[slot];
    release_token(inst, parent);  // the arriving token merges into the waiting one
  }
  if (def.kind == ElementKind::kParallelGateway) {
    for (std::uint16_t n : join->arrivals) {
      if (n == 0) return;
    }
    const ElemKey key = join->key;
    std::vector<std::uint16_t> left = join->arrivals;
    bool more = false;
    for (auto& n : left) more |= --n > 0;
    finish(inst, key, nullptr);
    if (more) {
      // Tokens that arrived twice on one flow wait for the next round.
      reserve_token(inst, parent);
      ElementInstance& next = create(inst, element, parent, Role::kNormal);
      next.arrivals = std::move(left);
      transition(inst, next, ElementEvent::kActivated);
    }
    return;
  }
  check_inclusive_joins(inst, parent);
}

// An inclusive join fires when no token in its scope can still reach it.
void Runtime::check_inclusive_joins(Instance& inst, ElemKey scope) {
  for (std::size_t i = 0; i < inst.elements.size(); ++i) {
    const ElementInstance& join = inst.elements[i];
    if (join.parent != scope || join.arrivals.empty() || join.state != ElementState::kActive) {
      continue;
    }
    const Element& def = inst.plan->element(join.element);
    if (def.kind != ElementKind::kInclusiveGateway) continue;
    const std::vector<bool>& reach = inst.plan->reaches_join[join.element];
    bool blocked = false;
    for (const ElementInstance& e : inst.elements) {
      if (e.parent == scope && e.key != join.key && e.element < reach.size() &&
          reach[e.element]) {
        blocked = true;
        break;
      }
    }
    for (const Work& w : queue_) {
      if (blocked) break;
      if (w.instance == inst.id && w.parent == scope && w.element != kNoIndex &&
          (w.element == join.element || reach[w.element])) {
        blocked = true;
      }
    }
    if (blocked) continue;
    finish(inst, join.key, nullptr);
    return;  // the element list changed; leaving will check again
  }
}

std::uint32_t Runtime::call_depth(Instance& inst) {
  if (inst.call_depth != Instance::kDepthUnknown) return inst.call_depth;
  // Up to the first caller whose depth is known (or the root).
  std::uint32_t depth = 0;
  std::uint32_t above = 0;
  for (InstanceId up = inst.parent; up != 0 && depth <= options_.max_call_depth; ++depth) {
    const Instance* caller = get(up);
    if (caller == nullptr) return depth + 1;  // unreadable (the command fails): not kept
    if (caller->call_depth != Instance::kDepthUnknown) {
      above = caller->call_depth;
      ++depth;
      break;
    }
    up = caller->parent;
  }
  inst.call_depth = above + depth;
  return inst.call_depth;
}

void Runtime::start_call(Instance& inst, ElemKey key) {
  const Element& def = inst.plan->element(inst.find(key)->element);
  Result<std::string> id = eval_string(inst, key, def.called.process_id);
  if (!id) {
    incident(inst, key, IncidentRetry::kActivate, IncidentKind::kExpression, id.status().message());
    return;
  }
  if (const std::uint32_t depth = call_depth(inst) + 1; depth > options_.max_call_depth) {
    incident(inst, key, IncidentRetry::kActivate, IncidentKind::kCallDepth,
             "call activity would start process '" + *id + "' at call depth " +
                 std::to_string(depth) + ", beyond the limit of " +
                 std::to_string(options_.max_call_depth) +
                 " (EngineOptions::max_call_depth): does the process call itself without end? "
                 "Cancel the root instance, or raise the limit and resolve this incident");
    return;
  }
  std::shared_ptr<const Plan> plan = latest(*id);
  if (plan == nullptr) {
    incident(inst, key, IncidentRetry::kActivate, IncidentKind::kCalledElement,
             "call activity calls process '" + *id + "', which is not deployed; deploy it and "
             "resolve this incident");
    return;
  }
  nlohmann::json vars = def.called.propagate_all_parent_variables
                            ? visible_variables(inst, key)
                            : (inst.find(key)->vars.is_object() ? inst.find(key)->vars
                                                                 : nlohmann::json::object());
  const std::uint32_t caller_depth = call_depth(inst);
  Instance& c = new_instance(std::move(plan), inst.business_key, std::move(vars), inst.id, key);
  c.call_depth = caller_depth + 1;
  inst.find(key)->child = c.id;
  const ElementIndex start = c.plan->none_start[c.plan->scope_slot(kNoIndex)];
  if (start == kNoIndex) {
    terminate_instance(c, HistoryKind::kInstanceTerminated);
    incident(inst, key, IncidentRetry::kActivate, IncidentKind::kCalledElement,
             "process '" + *id + "' has no none start event, so a call activity cannot start it");
    return;
  }
  open_event_subprocess_waits(c, kProcessScope, kNoIndex);
  enqueue(c, start, kProcessScope, kNoIndex);
}

}  // namespace ordo::runtime
