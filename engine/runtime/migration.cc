// Migration: moving a running instance to another version of its process (ordo/migration.h).
#include "ordo/migration.h"

#include <algorithm>

#include "runtime/runtime.h"
#include "util/spelling.h"

namespace ordo::runtime {

namespace {

std::string quote(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// What the element is, for a person: "service task 'ship'".
std::string named(const Element& e) {
  return std::string(describe(e.kind)) + " " + quote(e.id);
}

// Whether a token may move from `a` to `b`: the same kind of element doing the same kind of
// waiting.
bool same_kind(const Element& a, const Element& b) {
  return a.kind == b.kind && a.event.type == b.event.type && a.transaction == b.transaction &&
         a.cancel_activity == b.cancel_activity && a.interrupting == b.interrupting;
}

// Whether a wait kept for `a`'s event would wait for the same thing at `b` (else it is
// dropped, and the target's armed anew).
bool same_subscription(const Element& a, const Element& b) {
  const EventDefinition& x = a.event;
  const EventDefinition& y = b.event;
  switch (x.type) {
    case EventType::kMessage:
      return x.message_name.source() == y.message_name.source() &&
             x.correlation_key.source() == y.correlation_key.source();
    case EventType::kSignal:
      return x.ref_name == y.ref_name;
    case EventType::kConditional:
      return x.condition.source() == y.condition.source();
    default:
      return true;
  }
}

bool waitable(EventType t) {
  return t == EventType::kTimer || t == EventType::kMessage || t == EventType::kSignal ||
         t == EventType::kConditional;
}

std::string describe_wait(const Element& event) {
  switch (event.event.type) {
    case EventType::kTimer: return "the timer of " + named(event);
    case EventType::kMessage: return "the message subscription of " + named(event);
    case EventType::kSignal: return "the signal subscription of " + named(event);
    case EventType::kConditional: return "the condition of " + named(event);
    default: return named(event);
  }
}

// Where instance `inst`, its tokens at `at` (target elements, with the joins' arrivals),
// would wait for ever on `to`: parallel joins its tokens can reach with an incoming flow
// none of them can.
std::vector<std::string> dead_joins(const Plan& to, const std::vector<ElementIndex>& at,
                                    const std::vector<const ElementInstance*>& tokens) {
  const ProcessDefinition& d = *to.def;
  std::vector<bool> reached(d.elements.size(), false);
  std::vector<ElementIndex> todo;
  auto reach = [&](ElementIndex e) {
    if (e != kNoIndex && !reached[e]) {
      reached[e] = true;
      todo.push_back(e);
    }
  };
  for (ElementIndex e : at) {
    // The token, and the scopes around it, which leave by their flows once it is done.
    for (ElementIndex s = e; s != kNoIndex; s = d.elements[s].scope) reach(s);
  }
  while (!todo.empty()) {
    const ElementIndex e = todo.back();
    todo.pop_back();
    const Element& el = d.elements[e];
    for (FlowIndex f : el.outgoing) reach(d.flows[f].target);
    for (ElementIndex b : el.boundary_events) reach(b);
    if (el.kind == ElementKind::kSubProcess || el.kind == ElementKind::kEventSubProcess) {
      reach(to.none_start[to.scope_slot(e)]);
      for (ElementIndex sub : to.event_subprocesses[to.scope_slot(e)]) reach(sub);
      if (el.kind == ElementKind::kEventSubProcess) reach(to.event_sub_start[e]);
    }
    if (el.kind == ElementKind::kIntermediateThrowEvent && el.event.type == EventType::kLink) {
      for (ElementIndex c : to.link_catches[to.scope_slot(el.scope)]) {
        if (d.elements[c].event.link_name == el.event.link_name) reach(c);
      }
    }
  }
  std::vector<std::string> out;
  for (ElementIndex j = 0; j < d.elements.size(); ++j) {
    const Element& g = d.elements[j];
    if (!reached[j] || g.kind != ElementKind::kParallelGateway || g.incoming.size() < 2) continue;
    for (std::size_t k = 0; k < g.incoming.size(); ++k) {
      const SequenceFlow& f = d.flows[g.incoming[k]];
      if (f.source != kNoIndex && reached[f.source]) continue;
      bool arrived = false;  // a token already waits there for this flow
      for (std::size_t t = 0; t < at.size(); ++t) {
        arrived |= at[t] == j && k < tokens[t]->arrivals.size() && tokens[t]->arrivals[k] > 0;
      }
      if (arrived) continue;
      out.push_back("it would wait for ever at " + named(g) + " if it gets there: none of its "
                    "tokens can reach the incoming flow " + quote(f.id) +
                    (f.source == kNoIndex ? std::string() : " from " + named(d.elements[f.source])));
    }
  }
  return out;
}

}  // namespace

Result<MigrationMap> resolve_migration(std::shared_ptr<const Plan> source,
                                       std::shared_ptr<const Plan> target,
                                       const MigrationPlan& request) {
  const ProcessDefinition& from = *source->def;
  const ProcessDefinition& to = *target->def;
  MigrationMap m;
  m.to.assign(from.elements.size(), kNoIndex);
  m.reschedule_timers = request.reschedule_timers;
  std::vector<std::string> problems;
  if (source == target) {
    return Status::invalid_argument("the instances run version " +
                                    std::to_string(source->version) +
                                    " already; migrate them to another version");
  }
  std::vector<std::string> from_ids, to_ids;  // for "did you mean", made once when needed
  auto ids_of = [&](const ProcessDefinition& p) -> const std::vector<std::string>& {
    std::vector<std::string>& ids = &p == &from ? from_ids : to_ids;
    if (ids.empty()) {
      ids.reserve(p.elements.size());
      for (const Element& e : p.elements) ids.push_back(e.id);
    }
    return ids;
  };
  std::vector<bool> explicit_pair(from.elements.size(), false);
  for (const auto& [a, b] : request.mappings) {
    const ElementIndex ia = from.element_index(a);
    const ElementIndex ib = to.element_index(b);
    if (ia == kNoIndex) {
      const auto meant = util::closest_name(a, ids_of(from));
      problems.push_back("mapping " + quote(a) + " -> " + quote(b) + ": version " +
                         std::to_string(source->version) + " has no element " + quote(a) +
                         (meant ? "; did you mean " + quote(*meant) + "?" : std::string()));
      continue;
    }
    if (ib == kNoIndex) {
      const auto meant = util::closest_name(b, ids_of(to));
      problems.push_back("mapping " + quote(a) + " -> " + quote(b) + ": version " +
                         std::to_string(target->version) + " has no element " + quote(b) +
                         (meant ? "; did you mean " + quote(*meant) + "?" : std::string()));
      continue;
    }
    if (explicit_pair[ia]) {
      problems.push_back("element " + quote(a) + " is mapped twice; keep one pair");
      continue;
    }
    explicit_pair[ia] = true;
    m.to[ia] = ib;
  }
  if (request.map_by_id) {
    for (ElementIndex i = 0; i < from.elements.size(); ++i) {
      if (!explicit_pair[i]) m.to[i] = to.element_index(from.elements[i].id);
    }
  }
  for (ElementIndex i = 0; i < from.elements.size(); ++i) {
    if (m.to[i] == kNoIndex) continue;
    const Element& a = from.elements[i];
    const Element& b = to.elements[m.to[i]];
    if (!same_kind(a, b)) {
      // By id, an element that changed its kind is simply not mapped; asked for, it is wrong.
      if (explicit_pair[i]) {
        problems.push_back(named(a) + " cannot become " + named(b) +
                           ": a token keeps its kind of element (and event)");
      }
      m.to[i] = kNoIndex;
    }
  }
  // Scopes keep their parent: what is in subprocess S moves into what S moves to; a
  // boundary event stays on what its activity moves to. (Outer scopes come first in
  // document order, so each scope is settled before what is inside it.) Asked for, a pair
  // that breaks this is a problem; by id, the element is simply not mapped.
  for (ElementIndex i = 0; i < from.elements.size(); ++i) {
    if (m.to[i] == kNoIndex) continue;
    const Element& a = from.elements[i];
    const Element& b = to.elements[m.to[i]];
    const ElementIndex scope_to = a.scope == kNoIndex ? kNoIndex : m.to[a.scope];
    std::string wrong;
    if (a.scope != kNoIndex && scope_to == kNoIndex) {
      wrong = named(a) + " is mapped, but the " + named(from.elements[a.scope]) +
              " around it is not; map it too";
    } else if (scope_to != b.scope) {
      const std::string there = b.scope == kNoIndex ? "the process" : named(to.elements[b.scope]);
      const std::string here =
          a.scope == kNoIndex ? "the process" : named(from.elements[a.scope]);
      wrong = named(a) + " is in " + here + ", but " + named(b) + " is in " + there +
              ", which that does not map to: a scope keeps its parent";
    } else if (a.kind == ElementKind::kBoundaryEvent && a.attached_to != kNoIndex &&
               (m.to[a.attached_to] == kNoIndex || m.to[a.attached_to] != b.attached_to)) {
      wrong = named(a) + " is attached to " + named(from.elements[a.attached_to]) + ", but " +
              named(b) + " to another activity than that maps to";
    }
    if (wrong.empty()) continue;
    if (explicit_pair[i]) problems.push_back(std::move(wrong));
    m.to[i] = kNoIndex;
  }
  if (!problems.empty()) {
    std::string message = "the migration plan cannot be used:";
    for (const std::string& p : problems) message += "\n  " + p;
    return Status::invalid_argument(message);
  }
  m.source = std::move(source);
  m.target = std::move(target);
  return m;
}

std::vector<std::string> history_misfits(const MigrationMap& m,
                                         const std::vector<HistoryEvent>& history) {
  const ProcessDefinition& from = *m.source->def;
  const ProcessDefinition& to = *m.target->def;
  const std::string target = "version " + std::to_string(m.target->version);
  std::size_t since = 0;
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (history[i].kind == HistoryKind::kInstanceMigrated) since = i + 1;
  }
  std::vector<std::string> out;
  auto add = [&](std::string s) {
    if (out.size() < 20 && std::find(out.begin(), out.end(), s) == out.end()) {
      out.push_back(std::move(s));
    }
  };
  for (std::size_t i = since; i < history.size(); ++i) {
    const HistoryEvent& e = history[i];
    if (e.element_id.empty()) continue;
    if (e.kind == HistoryKind::kFlowTaken) {
      const FlowIndex f = from.flow_index(e.element_id);
      if (f == kNoIndex) continue;
      const SequenceFlow& a = from.flows[f];
      const std::string path = quote(a.id) + " (" + from.elements[a.source].id + " -> " +
                               from.elements[a.target].id + ")";
      const FlowIndex g = to.flow_index(e.element_id);
      if (g == kNoIndex) {
        add("took flow " + path + ", which " + target + " does not have");
      } else if (m.to[a.source] != to.flows[g].source || m.to[a.target] != to.flows[g].target) {
        add("took flow " + path + ", which leads elsewhere in " + target);
      }
    } else if (e.kind == HistoryKind::kElementCompleted) {
      const ElementIndex el = from.element_index(e.element_id);
      if (el != kNoIndex && m.to[el] == kNoIndex && is_activity(from.elements[el].kind)) {
        add("completed " + named(from.elements[el]) + ", which the plan does not map to " +
            target);
      }
    }
  }
  return out;
}

Result<InstanceMigration> Runtime::migrate(InstanceId id, const MigrationMap& m, bool apply) {
  if (Status s = begin(); !s) return s;
  Instance* found = get(id);
  if (found == nullptr) {
    Status s = store_failure_.is_ok() ? Status::not_found("no instance " + std::to_string(id))
                                      : store_failure_;
    abandon();
    return s;
  }
  Instance& inst = *found;
  InstanceMigration out;
  out.instance = id;
  auto refuse = [&](std::string why) {
    abandon();
    out.problem = std::move(why);
    return out;
  };
  const Plan& from = *m.source;
  const Plan& to = *m.target;
  if (inst.finished()) return refuse("it has ended");
  if (inst.plan->def->id != from.def->id || inst.plan->version != from.version) {
    return refuse("it runs version " + std::to_string(inst.plan->version) + " of " +
                  quote(inst.plan->def->id) + ", not version " + std::to_string(from.version) +
                  " of " + quote(from.def->id));
  }
  // Every token must have somewhere to go, as what it is.
  for (const ElementInstance& el : inst.elements) {
    const Element& a = from.element(el.element);
    const ElementIndex t = m.to[el.element];
    if (t == kNoIndex) {
      return refuse("a token is at " + named(a) + ", which the plan does not map to version " +
                    std::to_string(to.version) + "; map it to an element of the same kind");
    }
    const Element& b = to.element(t);
    const bool multi = el.role != Role::kNormal;
    if (multi != b.loop.present || (multi && (a.loop.standard != b.loop.standard ||
                                              a.loop.sequential != b.loop.sequential))) {
      return refuse("a token is at " + named(a) + ", whose loop (multi-instance, sequential or "
                    "not, or standard) differs in " + named(b));
    }
    if (!el.arrivals.empty()) {
      // Arrivals are counted per incoming flow: they follow their flow by id.
      for (std::size_t k = 0; k < el.arrivals.size() && k < a.incoming.size(); ++k) {
        if (el.arrivals[k] == 0) continue;
        const std::string& flow_id = from.flow(a.incoming[k]).id;
        const bool kept = std::any_of(b.incoming.begin(), b.incoming.end(),
                                      [&](FlowIndex f) { return to.flow(f).id == flow_id; });
        if (!kept) {
          return refuse("a token waits at the join " + named(a) + " from flow " + quote(flow_id) +
                        ", which is not an incoming flow of " + named(b));
        }
      }
    }
    if (t != el.element || a.id != b.id) {
      if (a.id != b.id) out.moves.push_back(a.id + " -> " + b.id);
    }
    if (a.id == b.id) ++out.tokens;
  }
  // Waits: kept when their event maps (a multi-instance batch's follows its body), dropped
  // otherwise; timers scheduled again when asked.
  struct Kept {
    std::size_t index;  // into inst.waits
    ElementIndex event;  // the target's
  };
  std::vector<Kept> kept;
  std::vector<std::size_t> dropped;
  struct Armed {
    ElemKey owner;
    ElementIndex event;  // the target's
  };
  std::vector<Armed> armed;
  for (std::size_t i = 0; i < inst.waits.size(); ++i) {
    const Wait& w = inst.waits[i];
    const ElementIndex t = m.to[w.event];
    if (is_batch_wait(inst, w)) {
      kept.push_back({i, t});
      continue;
    }
    // A wait belongs to where it is owned: an event after a waiting event-based gateway must
    // still follow the gateway; a boundary event must still be on the activity (checked
    // with the plan), an event-subprocess start in the scope.
    bool belongs = t != kNoIndex;
    if (belongs && w.owner != kProcessScope) {
      const ElementInstance* owner = inst.find(w.owner);
      const Element& gw = to.element(m.to[owner->element]);
      if (gw.kind == ElementKind::kEventBasedGateway) {
        belongs = std::any_of(gw.outgoing.begin(), gw.outgoing.end(),
                              [&](FlowIndex f) { return to.flow(f).target == t; });
      }
    }
    if (!belongs) {
      dropped.push_back(i);
      out.notes.push_back("drops " + describe_wait(from.element(w.event)) +
                          ", which version " + std::to_string(to.version) +
                          (t == kNoIndex ? " does not have" : " has elsewhere"));
    } else if (!same_subscription(from.element(w.event), to.element(t))) {
      dropped.push_back(i);
      armed.push_back({w.owner, t});
      out.notes.push_back("subscribes " + describe_wait(to.element(t)) + " anew: " +
                          "version " + std::to_string(to.version) + " waits for something else");
    } else if (w.timer && m.reschedule_timers) {
      dropped.push_back(i);
      armed.push_back({w.owner, t});
      out.notes.push_back("schedules " + describe_wait(to.element(t)) + " again from now");
    } else {
      kept.push_back({i, t});
    }
  }
  auto covered = [&](ElemKey owner, ElementIndex event) {
    for (const Kept& k : kept) {
      if (inst.waits[k.index].owner == owner && k.event == event) return true;
    }
    for (const Armed& a : armed) {
      if (a.owner == owner && a.event == event) return true;
    }
    return false;
  };
  auto arm = [&](ElemKey owner, ElementIndex event, const Element& of) {
    if (!waitable(to.element(event).event.type) || covered(owner, event)) return;
    armed.push_back({owner, event});
    out.notes.push_back("arms " + describe_wait(to.element(event)) + " (" + named(of) +
                        " in version " + std::to_string(to.version) + ")");
  };
  // What the target adds: boundary events of the activities where tokens are, events after
  // a waiting event-based gateway, event subprocesses of the running scopes.
  auto arm_event_subprocesses = [&](ElemKey scope, ElementIndex scope_element) {
    for (const ElementInstance& e : inst.elements) {  // an interrupting one runs: none
      if (e.parent != scope || to.element(m.to[e.element]).kind != ElementKind::kEventSubProcess) {
        continue;
      }
      const ElementIndex start = to.event_sub_start[m.to[e.element]];
      if (start != kNoIndex && to.element(start).interrupting) return;
    }
    for (ElementIndex sub : to.event_subprocesses[to.scope_slot(scope_element)]) {
      const ElementIndex start = to.event_sub_start[sub];
      if (start != kNoIndex) {
        arm(scope, start,
            scope_element == kNoIndex ? to.element(start) : to.element(scope_element));
      }
    }
  };
  arm_event_subprocesses(kProcessScope, kNoIndex);
  for (const ElementInstance& el : inst.elements) {
    if (el.state != ElementState::kActive) continue;
    const ElementIndex t = m.to[el.element];
    const Element& b = to.element(t);
    if (is_activity(b.kind) && el.role != Role::kMiInner) {
      for (ElementIndex ev : b.boundary_events) arm(el.key, ev, b);
    }
    if (b.kind == ElementKind::kEventBasedGateway) {
      for (FlowIndex f : b.outgoing) arm(el.key, to.flow(f).target, b);
    }
    if ((b.kind == ElementKind::kSubProcess || b.kind == ElementKind::kEventSubProcess) &&
        el.role != Role::kMiBody) {
      arm_event_subprocesses(el.key, t);
    }
  }
  // Compensation records of elements the target lacks are forgotten.
  std::size_t forgotten = 0;
  for (const state::Compensable& c : inst.compensations) {
    if (m.to[c.element] == kNoIndex) {
      ++forgotten;
      out.notes.push_back("forgets the compensation of " + named(from.element(c.element)) +
                          ", which version " + std::to_string(to.version) + " does not have");
    }
  }
  // Jobs follow their task; their type follows the target's when it is fixed text.
  struct Retype {
    JobKey job;
    std::string type;
  };
  std::vector<Retype> retyped;
  for (const ElementInstance& el : inst.elements) {
    if (el.job == 0) continue;
    const Element& b = to.element(m.to[el.element]);
    const JobRecord* job = find_job(el.job);
    if (job == nullptr || b.task.type.dialect != ExpressionDialect::kStatic ||
        b.task.type.empty() || b.task.type.text == job->type) {
      continue;
    }
    out.notes.push_back("job " + std::to_string(el.job) + " of " + named(b) +
                        " changes its type from " + quote(job->type) + " to " +
                        quote(b.task.type.text));
    retyped.push_back({el.job, b.task.type.text});
  }
  // What will be armed must be armable: a timer's or a message's expression is evaluated
  // now, so that an instance that cannot move stays as it was, and the dry run says so.
  for (const Armed& a : armed) {
    const Element& ev = to.element(a.event);
    std::string why;
    if (ev.event.type == EventType::kTimer) {
      Result<std::string> text = eval_string(inst, a.owner, ev.event.timer);
      Result<TimerSchedule> when = text ? plan_timer(ev.event.timer_type, *text, now())
                                        : Result<TimerSchedule>(text.status());
      if (!when) why = when.status().message();
    } else if (ev.event.type == EventType::kMessage) {
      Result<std::string> name = eval_string(inst, a.owner, ev.event.message_name);
      if (!name) why = name.status().message();
      if (name && !ev.event.correlation_key.empty()) {
        Result<std::string> key = eval_string(inst, a.owner, ev.event.correlation_key);
        if (!key) why = "correlation key: " + key.status().message();
      }
    }
    if (!why.empty()) {
      return refuse(describe_wait(ev) + " of version " + std::to_string(to.version) +
                    " cannot be armed: " + why);
    }
  }
  {
    std::vector<ElementIndex> at;
    std::vector<const ElementInstance*> tokens;
    for (const ElementInstance& el : inst.elements) {
      at.push_back(m.to[el.element]);
      tokens.push_back(&el);
    }
    out.stuck = dead_joins(to, at, tokens);
  }
  out.migrated = true;
  if (!apply) {
    abandon();
    return out;
  }

  // ---- the move ----
  touch(inst);
  const int source_version = from.version;
  for (auto it = dropped.rbegin(); it != dropped.rend(); ++it) {
    drop_wait(inst.waits[*it]);
  }
  std::vector<Wait> waits;
  waits.reserve(kept.size());
  for (const Kept& k : kept) {
    Wait w = inst.waits[k.index];
    w.event = k.event;
    waits.push_back(std::move(w));
  }
  inst.waits = std::move(waits);
  std::vector<ElementIndex> before;  // each token's element in the source, for the history
  before.reserve(inst.elements.size());
  for (ElementInstance& el : inst.elements) {
    before.push_back(el.element);
    el.element = m.to[el.element];
    if (el.arrivals.empty()) continue;
    // A join's arrivals follow their flows, by id.
    const Element& a = from.element(before.back());
    const Element& b = to.element(el.element);
    std::vector<std::uint16_t> arrivals(b.incoming.size(), 0);
    for (std::size_t k = 0; k < b.incoming.size(); ++k) {
      for (std::size_t j = 0; j < a.incoming.size() && j < el.arrivals.size(); ++j) {
        if (from.flow(a.incoming[j]).id == to.flow(b.incoming[k]).id) arrivals[k] = el.arrivals[j];
      }
    }
    el.arrivals = std::move(arrivals);
  }
  for (Incident& i : inst.incidents) {
    if (i.element_index != kNoIndex) i.element_index = m.to[i.element_index];
  }
  inst.incidents_changed |= !inst.incidents.empty();
  if (forgotten != 0) {
    std::erase_if(inst.compensations,
                  [&](const state::Compensable& c) { return m.to[c.element] == kNoIndex; });
  }
  for (state::Compensable& c : inst.compensations) c.element = m.to[c.element];
  if (inst.end_event != kNoIndex) inst.end_event = m.to[inst.end_event];
  for (const ElementInstance& el : inst.elements) {
    if (el.job == 0) continue;
    if (JobRecord* job = find_job(el.job)) {
      job->element_index = el.element;
      for (const Retype& r : retyped) {
        if (r.job == job->key) job->type = r.type;
      }
      touch_job(job->key);
    }
  }
  inst.plan = m.target;
  if (recording_) {
    emit(inst, HistoryKind::kInstanceMigrated, kNoIndex, 0, source_version,
         detailed() ? "from version " + std::to_string(source_version) + " to " +
                          std::to_string(to.version)
                    : std::string());
    for (std::size_t i = 0; i < inst.elements.size(); ++i) {
      const ElementInstance& el = inst.elements[i];
      HistoryEvent& e = record(inst, HistoryKind::kElementMigrated);
      e.element_id = to.element(el.element).id;
      e.element_kind = to.element(el.element).kind;
      e.element_index = el.element;
      e.key = el.key;
      e.value = source_version;
      e.detail = from.element(before[i]).id;
    }
  }
  for (const Armed& a : armed) {
    if (a.owner != kProcessScope && inst.find(a.owner) == nullptr) continue;
    open_wait(inst, a.owner, a.event);
  }
  conditions_may_hold(inst);
  run_queue();
  if (Status s = commit(); !s) return s;
  return out;
}

}  // namespace ordo::runtime
