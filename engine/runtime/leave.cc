// Leaving elements: output mappings, choosing outgoing flows (gateways included), and
// completing the scopes that run out of tokens.
#include "runtime/runtime.h"

namespace ordo::runtime {

namespace {

// An end event of a process-level interrupting event subprocess (a cancellation): where the
// instance ends, as much as one of the process's own. (A non-interrupting one's is not: the
// process goes on to an end of its own.)
bool ends_the_process(const Plan& plan, const Element& end) {
  if (end.scope == kNoIndex) return false;
  const Element& sub = plan.element(end.scope);
  if (sub.kind != ElementKind::kEventSubProcess || sub.scope != kNoIndex) return false;
  const ElementIndex start = plan.event_sub_start[end.scope];
  return start != kNoIndex && plan.element(start).interrupting;
}

}  // namespace

void Runtime::finish(Instance& inst, ElemKey key, nlohmann::json result) {
  if (!apply_outputs(inst, key, std::move(result))) return;
  leave(inst, key);
}

void Runtime::leave(Instance& inst, ElemKey key) {
  ElementInstance* el = inst.find(key);
  if (el->state == ElementState::kActive && !transition(inst, *el, ElementEvent::kComplete)) {
    return;
  }
  close_waits(inst, key);
  el = inst.find(key);
  if (el->role == Role::kMiInner) {
    inner_completed(inst, el->parent, key);
    return;
  }
  const Element& def = inst.plan->element(el->element);
  if (el->role == Role::kMiBody && !def.loop.output_collection.empty()) {
    nlohmann::json out = std::move(el->vars[def.loop.output_collection]);
    set_variable(inst, el->parent, def.loop.output_collection, std::move(out));
    el = inst.find(key);
  }
  if (!take_flows(inst, *el)) return;
  el = inst.find(key);
  if (!transition(inst, *el, ElementEvent::kCompleted)) return;
  emit(inst, HistoryKind::kElementCompleted, el->element, key);
  if (def.kind == ElementKind::kEndEvent &&
      (el->parent == kProcessScope || ends_the_process(*inst.plan, def))) {
    inst.end_event = el->element;
  }
  keep_compensation(inst, key);
  remove(inst, key);
}

// Enqueues the targets of the flows `el` leaves through. False (after raising an incident)
// when no flow can be taken.
bool Runtime::take_flows(Instance& inst, ElementInstance& el) {
  const Plan& plan = *inst.plan;
  const Element& def = plan.element(el.element);
  const ElemKey key = el.key;
  const ElemKey parent = el.parent;
  auto take = [&](FlowIndex f) {
    if (recording_) {
      HistoryEvent& e = record(inst, HistoryKind::kFlowTaken);
      e.element_id = plan.flow(f).id;
      e.element_index = f;
      e.value = key;
    }
    enqueue(inst, plan.flow(f).target, parent, f);
  };
  if (def.kind == ElementKind::kIntermediateThrowEvent && def.event.type == EventType::kLink) {
    for (ElementIndex c : plan.link_catches[plan.scope_slot(def.scope)]) {
      if (plan.element(c).event.link_name == def.event.link_name) {
        enqueue(inst, c, parent, kNoIndex);
        return true;
      }
    }
    incident(inst, key, IncidentRetry::kLeave, IncidentKind::kNoLinkCatch,
             "no intermediate link catch event named '" + def.event.link_name +
                 "' in the same scope");
    return false;
  }
  if (def.outgoing.empty()) return true;  // the token ends here (implicit end)

  const bool exclusive = def.kind == ElementKind::kExclusiveGateway;
  bool any_conditional = false;  // (a default flow's condition is ignored: BPMN 2.0)
  for (FlowIndex f : def.outgoing) {
    any_conditional |= f != def.default_flow && !plan.flow(f).condition.empty();
  }
  if (def.kind == ElementKind::kParallelGateway || !any_conditional) {
    if (exclusive) {
      // Flows without a condition count as true: the first one (in document order) wins.
      FlowIndex first = def.default_flow;
      for (FlowIndex f : def.outgoing) {
        if (f != def.default_flow) {
          first = f;
          break;
        }
      }
      take(first);
      return true;
    }
    for (FlowIndex f : def.outgoing) {
      if (f != def.default_flow || def.outgoing.size() == 1) take(f);
    }
    return true;
  }
  // Conditions are evaluated before any token moves, so a failing one moves nothing.
  std::vector<FlowIndex> chosen;
  for (FlowIndex f : def.outgoing) {
    if (f == def.default_flow) continue;
    const SequenceFlow& flow = plan.flow(f);
    bool yes = true;
    if (!flow.condition.empty()) {
      Result<bool> r = eval_condition(inst, key, flow.condition);
      if (!r) {
        incident(inst, key, IncidentRetry::kLeave, IncidentKind::kExpression,
                 "condition of sequence flow '" + flow.id + "': " + r.status().message());
        return false;
      }
      yes = *r;
    }
    if (yes) {
      chosen.push_back(f);
      if (exclusive) break;
    }
  }
  if (chosen.empty()) {
    if (def.default_flow == kNoIndex) {
      incident(inst, key, IncidentRetry::kLeave, IncidentKind::kNoOutgoingFlow,
               "no condition of the outgoing sequence flows of " +
                   std::string(describe(def.kind)) + " '" + def.id +
                   "' is true and it has no default flow; add a default flow or fix the "
                   "variables and resolve this incident");
      return false;
    }
    chosen.push_back(def.default_flow);
  }
  for (FlowIndex f : chosen) take(f);
  return true;
}

// Removes a finished element instance; its token is gone from the scope.
void Runtime::remove(Instance& inst, ElemKey key) {
  const ElemKey parent = inst.find(key)->parent;
  inst.erase(key);
  token_consumed(inst, parent);
}

void Runtime::token_consumed(Instance& inst, ElemKey scope) {
  if (scope == kProcessScope) {
    if (--inst.tokens == 0 && inst.state != InstanceState::kTerminated &&
        inst.state != InstanceState::kCompleted) {
      complete_instance(inst);
      return;
    }
  } else {
    ElementInstance* s = inst.find(scope);
    if (s == nullptr) return;
    if (--s->tokens == 0 && s->state == ElementState::kActive) {
      complete_scope(inst, scope);
      return;
    }
  }
  if (inst.plan->has_inclusive_joins) check_inclusive_joins(inst, scope);
}

void Runtime::complete_scope(Instance& inst, ElemKey scope) {
  ElementInstance* s = inst.find(scope);
  if (s->role == Role::kMiBody) {
    finish(inst, scope, nullptr);
    return;
  }
  const ElementKind kind = inst.plan->element(s->element).kind;
  if (kind == ElementKind::kSubProcess || kind == ElementKind::kEventSubProcess) {
    finish(inst, scope, nullptr);
  } else if (is_event(kind)) {  // a compensation thrower: its handler completed
    compensate_next(inst, scope);
  }
}

void Runtime::inner_completed(Instance& inst, ElemKey body, ElemKey inner) {
  ElementInstance* in = inst.find(inner);
  const Element& def = inst.plan->element(in->element);
  const MultiInstance& loop = def.loop;
  const std::uint32_t index = in->loop_index;
  if (!loop.output_collection.empty() && !loop.output_element.empty()) {
    Result<nlohmann::json> v = eval(inst, inner, loop.output_element);
    if (!v) {
      incident(inst, inner, IncidentRetry::kLeave, IncidentKind::kExpression, v.status().message());
      return;
    }
    inst.find(body)->vars[loop.output_collection][index] = std::move(*v);
  }
  ElementInstance* b = inst.find(body);
  ++b->loop_done;
  bool done = false;
  if (loop.standard && !loop.loop_condition.empty()) {
    // Another run while the condition holds (the run's variables are set by now).
    b->vars["loopCounter"] = b->loop_done;
    Result<bool> r = eval_condition(inst, inner, loop.loop_condition);
    if (!r) {
      --inst.find(body)->loop_done;
      incident(inst, inner, IncidentRetry::kLeave, IncidentKind::kExpression,
               "loop condition: " + r.status().message());
      return;
    }
    done = !*r;
    b = inst.find(body);
    if (!done && loop.loop_maximum < 0 && b->loop_done >= b->loop_total) {
      // Still true after the most runs the engine allows: stop where a person can look.
      --b->loop_done;
      incident(inst, inner, IncidentRetry::kLeave, IncidentKind::kMultiInstance,
               "the loop's condition still holds after " + std::to_string(b->loop_total) +
                   " runs, the limit (EngineOptions::max_multi_instance); fix the variables "
                   "or the condition, then resolve this incident");
      return;
    }
  } else if (!loop.completion_condition.empty()) {
    b->vars["numberOfInstances"] = b->loop_total;
    b->vars["numberOfCompletedInstances"] = b->loop_done;
    // Of a parallel body, the instances not started yet (a batch at a time) count as active,
    // as when all started at once.
    b->vars["numberOfActiveInstances"] =
        b->tokens - 1 + (loop.sequential ? 0u : b->loop_total - b->loop_index);
    Result<bool> r = eval_condition(inst, inner, loop.completion_condition);
    if (!r) {
      --inst.find(body)->loop_done;
      incident(inst, inner, IncidentRetry::kLeave, IncidentKind::kExpression, r.status().message());
      return;
    }
    done = *r;
  }
  in = inst.find(inner);
  if (!transition(inst, *in, ElementEvent::kCompleted)) return;
  emit(inst, HistoryKind::kElementCompleted, in->element, inner, index + 1);
  keep_compensation(inst, inner);
  inst.erase(inner);
  b = inst.find(body);
  --b->tokens;
  if (done) {
    terminate_children(inst, body);
    finish(inst, body, nullptr);
    return;
  }
  if (loop.sequential && b->loop_index < b->loop_total) {
    ++b->tokens;
    b->loop_index += 1;  // claimed; start_inner sets it again
    queue_.push_back(Work{inst.id, b->element, body, kNoIndex, b->loop_index - 1});
    return;
  }
  // A parallel body whose inner instances complete at once reaches no tokens before the
  // last one has started: it is done only when every inner instance has started.
  if (b->tokens == 0 && b->loop_index >= b->loop_total) finish(inst, body, nullptr);
}

void Runtime::complete_instance(Instance& inst) {
  close_waits(inst, kProcessScope);
  inst.compensations.clear();  // nothing can compensate them now
  inst.compensation_runs.clear();
  if (!transition(inst, InstanceEvent::kComplete)) return;
  inst.ended_ms = now();
  emit(inst, HistoryKind::kInstanceCompleted, inst.end_event);
  finished_.push_back(inst.id);
  if (inst.parent != 0) {
    Instance* parent = live(inst.parent);
    if (parent == nullptr) return;
    ElementInstance* call = parent->find(inst.parent_element);
    if (call == nullptr) return;
    call->child = 0;
    const Element& def = parent->plan->element(call->element);
    // Output mappings always read the child's variables; without any, every child variable
    // comes back only when propagateAllChildVariables says so.
    nlohmann::json result = def.called.propagate_all_child_variables || !def.outputs.empty()
                                ? inst.vars
                                : nlohmann::json::object();
    finish(*parent, call->key, std::move(result));
  }
}

}  // namespace ordo::runtime
