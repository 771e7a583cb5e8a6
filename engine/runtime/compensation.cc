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
#include <unordered_map>

#include "runtime/runtime.h"

namespace ordo::runtime {

namespace {

bool is_leaf(const Plan& plan, const state::Compensable& c) {
  return !c.body && (plan.element(c.element).compensation_handler != kNoIndex ||
                     plan.compensation_sub[c.element] != kNoIndex);
}

bool has_records(const Instance& inst, ElemKey scope) {
  return std::any_of(inst.compensations.begin(), inst.compensations.end(),
                     [&](const state::Compensable& c) { return c.scope == scope; });
}

// A record to run, with the variables of the records it was found under (a subprocess, a
// multi-instance inner instance), outermost first, and the scope the search began in.
struct Claim {
  ElemKey key;
  ElemKey home;
  nlohmann::json outer;
};

// The records to run for `scope` (only those of element `only`, unless kNoIndex) that no
// other throw has claimed, newest first, a record without a handler of its own replaced by
// its children's; `containers` gets those replaced.
void expand(const Instance& inst, ElemKey scope, ElemKey home, ElementIndex only,
            const nlohmann::json& outer, std::vector<Claim>& leaves,
            std::vector<ElemKey>& containers) {
  const Plan& plan = *inst.plan;
  for (std::size_t i = inst.compensations.size(); i-- > 0;) {
    const state::Compensable& c = inst.compensations[i];
    if (c.scope != scope || c.claimed_by != 0 || (only != kNoIndex && c.element != only)) {
      continue;
    }
    if (is_leaf(plan, c)) {
      leaves.push_back(Claim{c.key, home, outer});
      continue;
    }
    containers.push_back(c.key);
    nlohmann::json inner = outer;
    if (c.vars.is_object()) {
      if (!inner.is_object()) inner = nlohmann::json::object();
      for (const auto& [name, value] : c.vars.items()) inner[name] = value;
    }
    expand(inst, c.key, home, kNoIndex, inner, leaves, containers);
  }
}

}  // namespace

void Runtime::keep_compensation(Instance& inst, ElemKey key) {
  const Plan& plan = *inst.plan;
  if (!plan.has_compensation) return;
  const ElementInstance* el = inst.find(key);
  const Element& def = plan.element(el->element);
  ElemKey compensates = 0;
  if (!inst.compensation_runs.empty()) {  // its run, if it had one, is over
    if (const state::CompensationRun* run = inst.run_of(key)) compensates = run->compensates;
    std::erase_if(inst.compensation_runs,
                  [&](const state::CompensationRun& r) { return r.owner == key; });
  }
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
  // that subprocess). A cancel end event in a multi-instance transaction compensates the
  // other inner instances that completed too, after its own.
  const ElemKey parent = el->parent;
  std::vector<ElemKey> scopes{parent};
  if (def.event.type == EventType::kCancel) {
    const ElementInstance* tx = inst.find(parent);
    if (tx->role == Role::kMiInner) scopes.push_back(tx->parent);
  } else if (parent != kProcessScope) {
    const ElementInstance* s = inst.find(parent);
    if (plan.element(s->element).kind == ElementKind::kEventSubProcess) {
      const state::CompensationRun* run = inst.run_of(parent);
      scopes[0] = run != nullptr && run->compensates != 0 ? run->compensates : s->parent;
    }
  }
  const ElementIndex only =
      def.event.activity_ref.empty() ? kNoIndex : plan.def->element_index(def.event.activity_ref);
  std::vector<Claim> leaves;
  std::vector<ElemKey> containers;
  for (ElemKey scope : scopes) expand(inst, scope, scope, only, nullptr, leaves, containers);
  if (recording_) {
    emit(inst, HistoryKind::kCompensationThrown, el->element, key,
         static_cast<std::int64_t>(leaves.size()));
  }
  // The records found under others now stand in their place, with their variables, and are
  // the thrower's: another throw passes them by; if the thrower is terminated before it gets
  // to them, they are given back.
  std::erase_if(inst.compensations, [&](const state::Compensable& c) {
    return std::find(containers.begin(), containers.end(), c.key) != containers.end();
  });
  std::unordered_map<ElemKey, std::size_t> at;
  at.reserve(inst.compensations.size());
  for (std::size_t i = 0; i < inst.compensations.size(); ++i) {
    at.emplace(inst.compensations[i].key, i);
  }
  std::vector<ElemKey> order;
  order.reserve(leaves.size());
  for (Claim& claim : leaves) {
    state::Compensable& c = inst.compensations[at.at(claim.key)];
    c.scope = claim.home;
    c.claimed_by = key;
    if (claim.outer.is_object()) {
      if (c.vars.is_object()) {
        for (auto& [name, value] : c.vars.items()) claim.outer[name] = std::move(value);
      }
      c.vars = std::move(claim.outer);
    }
    order.push_back(claim.key);
  }
  if (wait) {
    // Kept last first: each next one is taken from the back.
    std::reverse(order.begin(), order.end());
    if (!order.empty()) inst.compensation_runs.push_back({key, 0, std::move(order)});
    compensate_next(inst, key);
    return;
  }
  // Without waiting: the handlers start side by side in the thrower's scope, which goes on.
  for (ElemKey c : order) {
    // A handler that ends the thrower (an error caught around it) gives the rest back.
    if (inst.find(key) == nullptr) return;
    reserve_token(inst, parent);
    run_compensation(inst, parent, c);
  }
  if (inst.find(key) != nullptr) finish(inst, key, nullptr);
}

void Runtime::compensate_next(Instance& inst, ElemKey key) {
  ElementInstance* el = inst.find(key);
  if (state::CompensationRun* run = inst.run_of(key); run != nullptr && !run->pending.empty()) {
    const ElemKey next = run->pending.back();
    run->pending.pop_back();
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
    const ElemKey key = h.key;
    // A subprocess undone by its own handler: what completed inside is not compensated.
    drop_compensations(inst, c.key);
    enter(inst, key);
    return;
  }
  // A subprocess's compensation event subprocess: it runs for the completed subprocess,
  // with its variables, and a compensation it throws undoes that subprocess's activities.
  const ElementIndex sub = plan.compensation_sub[c.element];
  ElementInstance& e = create(inst, sub, parent, Role::kNormal);
  if (c.vars.is_object() && !c.vars.empty()) e.vars = std::move(c.vars);
  const ElemKey key = e.key;
  inst.compensation_runs.push_back({key, c.key, {}});
  if (!transition(inst, e, ElementEvent::kActivated)) return;
  // (A wait that cannot open is an incident on the event subprocess; it starts anyway.)
  open_event_subprocess_waits(inst, key, sub);
  activate_triggered(inst, plan.event_sub_start[sub], key, nullptr, false);
}

void Runtime::cancel_end(Instance& inst, ElemKey key) {
  const ElemKey tx = inst.find(key)->parent;
  const ElementInstance* t = inst.find(tx);
  const ElemKey host = t->role == Role::kMiInner ? t->parent : tx;
  // Nothing else ends the transaction now: its boundary events and event subprocesses are
  // disarmed; whatever else runs in it (every inner instance, if it is multi-instance) ends.
  close_waits(inst, host);
  if (host != tx) close_waits(inst, tx);
  terminate_siblings(inst, key);
  if (host != tx) {
    std::vector<ElemKey> others;
    for (const ElementInstance& e : inst.elements) {
      if (e.parent == host && e.key != tx) others.push_back(e.key);
    }
    for (ElemKey o : others) terminate(inst, o);
    drop_queued(inst, host);
  }
  throw_compensation(inst, key, true);
}

void Runtime::release_claims(Instance& inst, ElemKey thrower) {
  for (state::Compensable& c : inst.compensations) {
    if (c.claimed_by == thrower) c.claimed_by = 0;
  }
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
