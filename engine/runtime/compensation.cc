// Compensation and transactions: remembering completed activities that can be undone, and
// undoing them when a compensation event is thrown or a transaction is cancelled.
//
// An activity with a compensation handler (a compensation boundary event associated with
// an activity marked isForCompensation) leaves a Compensable record when it completes, in the
// scope it ran in. A subprocess that has such records inside, or a compensation event
// subprocess, leaves one too, and its children's records move under it; a multi-instance
// body likewise holds one record per completed inner instance. A throw compensates the
// records of its scope (or the one its activityRef names): newest first, a subprocess's own
// compensation event subprocess standing in for its children, each record once.
#include "runtime/runtime.h"

namespace ordo::runtime {

namespace {

// The scope of the records that a compensation which does not wait has queued.
constexpr ElemKey kClaimed = ~ElemKey{0};

bool is_leaf(const Plan& plan, const state::Compensable& c) {
  return !c.body && (plan.element(c.element).compensation_handler != kNoIndex ||
                     plan.compensation_sub[c.element] != kNoIndex);
}

bool has_records(const Instance& inst, ElemKey scope) {
  return std::any_of(inst.compensations.begin(), inst.compensations.end(),
                     [&](const state::Compensable& c) { return c.scope == scope; });
}

// The records to run for `scope` (only those of element `only`, unless kNoIndex), newest
// first, a record without a handler of its own replaced by its children's; `containers`
// gets those replaced.
void expand(const Instance& inst, ElemKey scope, ElementIndex only, std::vector<ElemKey>& leaves,
            std::vector<ElemKey>& containers) {
  const Plan& plan = *inst.plan;
  for (std::size_t i = inst.compensations.size(); i-- > 0;) {
    const state::Compensable& c = inst.compensations[i];
    if (c.scope != scope || (only != kNoIndex && c.element != only)) continue;
    if (is_leaf(plan, c)) {
      leaves.push_back(c.key);
    } else {
      containers.push_back(c.key);
      expand(inst, c.key, kNoIndex, leaves, containers);
    }
  }
}

}  // namespace

void Runtime::keep_compensation(Instance& inst, ElemKey key) {
  const Plan& plan = *inst.plan;
  if (!plan.has_compensation) return;
  const ElementInstance* el = inst.find(key);
  const Element& def = plan.element(el->element);
  const bool children = has_records(inst, key);
  bool keep = false;
  if (plan.keeps_compensation[el->element]) {
    keep = el->role == Role::kMiBody ? children
                                     : def.compensation_handler != kNoIndex ||
                                           plan.compensation_sub[el->element] != kNoIndex ||
                                           children;
  }
  if (keep) {
    const bool body = el->role == Role::kMiBody;
    inst.compensations.push_back(state::Compensable{
        key, el->parent, el->element, body, body ? nlohmann::json() : el->vars});
    return;
  }
  // Nothing outside can compensate what completed inside (an event subprocess, a handler).
  const ElemKey compensates = el->compensates;
  if (children) drop_compensations(inst, key);
  if (compensates != 0) drop_compensations(inst, compensates);
}

void Runtime::drop_compensations(Instance& inst, ElemKey scope) {
  if (inst.compensations.empty()) return;
  std::vector<ElemKey> scopes{scope};
  for (std::size_t i = 0; i < scopes.size(); ++i) {
    const ElemKey s = scopes[i];
    std::erase_if(inst.compensations, [&](const state::Compensable& c) {
      if (c.scope != s) return false;
      scopes.push_back(c.key);
      return true;
    });
  }
}

void Runtime::throw_compensation(Instance& inst, ElemKey key, bool wait) {
  const Plan& plan = *inst.plan;
  ElementInstance* el = inst.find(key);
  const Element& def = plan.element(el->element);
  // The scope whose completed activities are compensated: the thrower's, or for a throw in
  // an event subprocess, the scope around it (for one compensating a completed subprocess,
  // that subprocess).
  const ElemKey parent = el->parent;
  ElemKey scope = parent;
  if (def.event.type != EventType::kCancel && parent != kProcessScope) {
    const ElementInstance* s = inst.find(parent);
    if (plan.element(s->element).kind == ElementKind::kEventSubProcess) {
      scope = s->compensates != 0 ? s->compensates : s->parent;
    }
  }
  const ElementIndex only =
      def.event.activity_ref.empty() ? kNoIndex : plan.def->element_index(def.event.activity_ref);
  std::vector<ElemKey> leaves;
  std::vector<ElemKey> containers;
  expand(inst, scope, only, leaves, containers);
  if (recording_) {
    emit(inst, HistoryKind::kCompensationThrown, el->element, key,
         static_cast<std::int64_t>(leaves.size()));
  }
  // Claimed, so that another throw does not run them again: by the thrower, so they go if
  // it is terminated before it gets to them; or, without waiting, by the queued work.
  std::erase_if(inst.compensations, [&](const state::Compensable& c) {
    return std::find(containers.begin(), containers.end(), c.key) != containers.end();
  });
  for (state::Compensable& c : inst.compensations) {
    if (std::find(leaves.begin(), leaves.end(), c.key) != leaves.end()) {
      c.scope = wait ? key : kClaimed;
    }
  }
  if (wait) {
    inst.find(key)->compensating = std::move(leaves);
    compensate_next(inst, key);
    return;
  }
  // Without waiting: the handlers run side by side in the thrower's scope, which goes on.
  for (ElemKey c : leaves) {
    reserve_token(inst, parent);
    queue_.push_back(Work{inst.id, inst.find(key)->element, parent, kNoIndex, c, true});
  }
  finish(inst, key, nullptr);
}

void Runtime::compensate_next(Instance& inst, ElemKey key) {
  ElementInstance* el = inst.find(key);
  if (!el->compensating.empty()) {
    const ElemKey next = el->compensating.front();
    el->compensating.erase(el->compensating.begin());
    reserve_token(inst, key);
    queue_.push_back(Work{inst.id, el->element, key, kNoIndex, next, true});
    return;
  }
  if (inst.plan->element(el->element).event.type == EventType::kCancel) {
    cancel_transaction(inst, key);
    return;
  }
  finish(inst, key, nullptr);
}

void Runtime::run_compensation(Instance& inst, ElemKey parent, ElemKey record) {
  auto it = std::find_if(inst.compensations.begin(), inst.compensations.end(),
                         [&](const state::Compensable& c) { return c.key == record; });
  if (it == inst.compensations.end()) {  // dropped meanwhile
    token_consumed(inst, parent);
    return;
  }
  state::Compensable c = std::move(*it);
  inst.compensations.erase(it);
  const Plan& plan = *inst.plan;
  const Element& def = plan.element(c.element);
  if (def.compensation_handler != kNoIndex) {
    const Element& handler = plan.element(def.compensation_handler);
    ElementInstance& h = create(inst, def.compensation_handler, parent,
                                handler.loop.present ? Role::kMiBody : Role::kNormal);
    // The handler sees what the activity saw locally (a multi-instance item, its inputs).
    if (!handler.loop.present && c.vars.is_object() && !c.vars.empty()) h.vars = std::move(c.vars);
    enter(inst, h.key);
    return;
  }
  // A subprocess's compensation event subprocess: it runs for the completed subprocess,
  // with its variables, and a compensation it throws undoes that subprocess's activities.
  const ElementIndex sub = plan.compensation_sub[c.element];
  ElementInstance& e = create(inst, sub, parent, Role::kNormal);
  e.compensates = c.key;
  if (c.vars.is_object() && !c.vars.empty()) e.vars = std::move(c.vars);
  const ElemKey key = e.key;
  if (!transition(inst, e, ElementEvent::kActivated)) return;
  if (!open_event_subprocess_waits(inst, key, sub)) return;
  activate_triggered(inst, plan.event_sub_start[sub], key, nullptr, false);
}

void Runtime::cancel_transaction(Instance& inst, ElemKey end) {
  const Plan& plan = *inst.plan;
  const ElemKey tx = inst.find(end)->parent;
  const ElementInstance* t = inst.find(tx);
  // A multi-instance transaction is cancelled as a whole.
  const ElemKey host = t->role == Role::kMiInner ? t->parent : tx;
  const ElementInstance* h = inst.find(host);
  ElementIndex boundary = kNoIndex;
  for (ElementIndex b : plan.element(h->element).boundary_events) {
    if (plan.element(b).event.type == EventType::kCancel) boundary = b;
  }
  if (boundary == kNoIndex) {  // the validator requires one
    finish(inst, end, nullptr);
    return;
  }
  const ElemKey parent = h->parent;
  reserve_token(inst, parent);
  terminate(inst, host);
  activate_triggered(inst, boundary, parent, nullptr, true);
}

}  // namespace ordo::runtime
