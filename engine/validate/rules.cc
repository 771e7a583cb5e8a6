// Validation rules over a ProcessDefinition. Each rule has a stable id (docs/validation.md)
// and a message that says what to change. Positions come from the model, so the rules never
// look at XML.
#include <string>
#include <vector>

#include "time/cron.h"
#include "time/iso8601.h"
#include "util/spelling.h"
#include "validate/validator.h"

namespace ordo::validate {
namespace {

std::string q(std::string_view s) {
  return "'" + std::string(s) + "'";
}

class Rules {
 public:
  Rules(const ProcessDefinition& p, std::vector<Diagnostic>& out) : p_(p), out_(out) {
    children_.resize(p.elements.size() + 1);
    for (ElementIndex i = 0; i < p.elements.size(); ++i) {
      children_[slot(p.elements[i].scope)].push_back(i);
    }
  }

  void run() {
    check_scope(kNoIndex);
    for (ElementIndex i = 0; i < p_.elements.size(); ++i) {
      const Element& e = p_.elements[i];
      if (e.kind == ElementKind::kSubProcess || e.kind == ElementKind::kEventSubProcess) {
        check_scope(i);
      }
      check_flows(e);
      check_event(e);
      if (e.transaction) check_transaction(i);
      if (e.for_compensation) check_handler(i);
      check_task(e);
      check_gateway(e);
    }
    for (const SequenceFlow& f : p_.flows) {
      if (f.source == kNoIndex || f.target == kNoIndex) continue;
      if (p_.elements[f.source].scope != p_.elements[f.target].scope) {
        report(f.location, Severity::kError, "flow-crosses-scope",
               "sequence flow " + q(f.id) + " connects " + q(p_.elements[f.source].id) + " and " +
                   q(p_.elements[f.target].id) +
                   ", which are in different (sub)processes; "
                   "flows cannot cross a subprocess border");
      }
    }
    check_reachability();
  }

 private:
  std::size_t slot(ElementIndex scope) const {
    return scope == kNoIndex ? p_.elements.size() : scope;
  }
  void report(SourceLocation at, Severity s, std::string_view rule, std::string message) {
    out_.push_back(
        Diagnostic{p_.file, at.line, at.column, s, std::string(rule), std::move(message)});
  }
  const Element& el(ElementIndex i) const { return p_.elements[i]; }
  std::string name(const Element& e) const { return std::string(describe(e.kind)) + " " + q(e.id); }

  void check_scope(ElementIndex scope);
  void check_flows(const Element& e);
  void check_event(const Element& e);
  void check_event_allowed(const Element& e);
  void check_compensation(const Element& e, SourceLocation at);
  void check_transaction(ElementIndex i);
  void check_handler(ElementIndex i);
  void check_timer(const Element& e);
  void check_task(const Element& e);
  void check_gateway(const Element& e);
  void check_reachability();

  const ProcessDefinition& p_;
  std::vector<Diagnostic>& out_;
  std::vector<std::vector<ElementIndex>> children_;  // by slot(scope)
};

void Rules::check_scope(ElementIndex scope) {
  std::vector<ElementIndex> starts;
  for (ElementIndex c : children_[slot(scope)]) {
    if (el(c).kind == ElementKind::kStartEvent) starts.push_back(c);
  }
  if (scope == kNoIndex) {
    if (starts.empty()) {
      report(p_.location, Severity::kError, "no-start-event",
             "process " + q(p_.id) + " has no start event; add one where instances begin");
    }
  } else if (el(scope).kind == ElementKind::kSubProcess) {
    if (starts.empty()) {
      report(el(scope).location, Severity::kError, "no-start-event",
             name(el(scope)) + " has no start event; add a none start event inside it");
    } else if (starts.size() > 1) {
      report(el(starts[1]).location, Severity::kError, "subprocess-start-event",
             name(el(scope)) +
                 " has more than one start event; an embedded subprocess has "
                 "exactly one, without a trigger");
    } else if (el(starts[0]).event.type != EventType::kNone) {
      report(el(starts[0]).location, Severity::kError, "subprocess-start-event",
             "the start event of " + name(el(scope)) + " has a " +
                 std::string(to_string(el(starts[0]).event.type)) +
                 " trigger; an embedded subprocess starts when reached, so remove the trigger "
                 "(or make it an event subprocess)");
    }
  } else {  // event subprocess
    const Element& sub = el(scope);
    if (!sub.incoming.empty() || !sub.outgoing.empty()) {
      report(sub.location, Severity::kError, "event-subprocess",
             name(sub) +
                 " has sequence flows; an event subprocess is started by its event, "
                 "so remove its incoming and outgoing flows");
    }
    if (starts.size() != 1) {
      report(sub.location, Severity::kError, "event-subprocess",
             name(sub) +
                 " needs exactly one start event with a trigger, such as a message, "
                 "timer, error or escalation");
    } else if (el(starts[0]).event.type == EventType::kNone) {
      report(el(starts[0]).location, Severity::kError, "event-subprocess",
             "the start event of " + name(sub) +
                 " has no trigger; give it a message, timer, "
                 "error or escalation event definition");
    }
  }
}

void Rules::check_flows(const Element& e) {
  switch (e.kind) {
    case ElementKind::kStartEvent:
      if (!e.incoming.empty()) {
        report(e.location, Severity::kError, "start-event-incoming",
               name(e) + " has an incoming sequence flow; a start event cannot be entered");
      }
      break;
    case ElementKind::kEndEvent:
      if (!e.outgoing.empty()) {
        report(e.location, Severity::kError, "end-event-outgoing",
               name(e) + " has an outgoing sequence flow; use an intermediate event instead");
      }
      break;
    case ElementKind::kBoundaryEvent:
      if (!e.incoming.empty()) {
        report(e.location, Severity::kError, "boundary-incoming",
               name(e) +
                   " has an incoming sequence flow; a boundary event is entered only "
                   "through the activity it is attached to");
      }
      break;
    default:
      break;
  }
  if (!e.outgoing.empty()) return;
  // A converging gateway without outgoing flows ends its path, like an activity; any other
  // gateway without one is a modelling error.
  bool converging_gateway = is_gateway(e.kind) && e.incoming.size() > 1;
  bool needs_outgoing =
      (is_gateway(e.kind) && !converging_gateway) || e.kind == ElementKind::kStartEvent ||
      e.kind == ElementKind::kIntermediateCatchEvent ||
      (e.kind == ElementKind::kBoundaryEvent && e.event.type != EventType::kCompensation) ||
      (e.kind == ElementKind::kIntermediateThrowEvent && e.event.type != EventType::kLink);
  if (needs_outgoing) {
    report(e.location, Severity::kError, "missing-outgoing",
           name(e) + " has no outgoing sequence flow; connect it to the next step");
  } else if ((is_activity(e.kind) && e.kind != ElementKind::kEventSubProcess &&
              !e.for_compensation) ||
             converging_gateway) {
    report(e.location, Severity::kWarning, "implicit-end",
           name(e) +
               " has no outgoing sequence flow, so its path ends there; connect it to "
               "an end event to make that explicit");
  }
}

void Rules::check_event_allowed(const Element& e) {
  using T = EventType;
  T t = e.event.type;
  bool in_event_sub = e.scope != kNoIndex && el(e.scope).kind == ElementKind::kEventSubProcess;
  bool ok = true;
  if (e.kind == ElementKind::kStartEvent && e.scope != kNoIndex) {
    // check_scope reports a triggered start in an embedded subprocess and an untriggered one
    // in an event subprocess; only what it does not cover is checked here.
    if (!in_event_sub || t == T::kNone) return;
  }
  switch (e.kind) {
    case ElementKind::kStartEvent:
      ok = in_event_sub ? t != T::kNone && t != T::kTerminate && t != T::kLink && t != T::kCancel
                        : t == T::kNone || t == T::kMessage || t == T::kTimer || t == T::kSignal ||
                              t == T::kConditional;
      break;
    case ElementKind::kEndEvent:
      ok = t != T::kTimer && t != T::kLink && t != T::kConditional;
      break;
    case ElementKind::kIntermediateCatchEvent:
      ok = t == T::kMessage || t == T::kTimer || t == T::kLink || t == T::kSignal ||
           t == T::kConditional;
      break;
    case ElementKind::kIntermediateThrowEvent:
      ok = t == T::kNone || t == T::kLink || t == T::kEscalation || t == T::kMessage ||
           t == T::kSignal || t == T::kCompensation;
      break;
    case ElementKind::kBoundaryEvent:
      ok = t != T::kNone && t != T::kTerminate && t != T::kLink;
      break;
    default:
      return;
  }
  if (ok && t == T::kError &&
      ((e.kind == ElementKind::kBoundaryEvent && !e.cancel_activity) ||
       (e.kind == ElementKind::kStartEvent && !e.interrupting))) {
    report(e.location, Severity::kError, "event-not-allowed",
           name(e) +
               " is a non-interrupting error event; an error always interrupts, so make "
               "it interrupting (or use an escalation to carry on)");
    return;
  }
  if (ok) return;
  std::string type(to_string(t));
  std::string what = t == T::kNone ? "no event definition"
                     : std::string("aeiou").find(type[0]) != std::string::npos
                         ? "an " + type + " event definition"
                         : "a " + type + " event definition";
  std::string hint = t == T::kCancel ? "; cancel events are the end events and boundary "
                                       "events of transactions"
                                     : "";
  report(e.event.type == T::kNone ? e.location : e.event.location, Severity::kError,
         "event-not-allowed",
         name(e) + " has " + what + ", which BPMN does not allow there" + hint);
}

void Rules::check_compensation(const Element& e, SourceLocation at) {
  const EventDefinition& ev = e.event;
  if (e.kind == ElementKind::kBoundaryEvent) {
    if (e.attached_to == kNoIndex) return;
    const Element& host = el(e.attached_to);
    if (host.compensation_handler == kNoIndex) {
      report(e.location, Severity::kError, "compensation-without-handler",
             name(e) + " has no compensation handler; draw an association from it to an "
                       "activity marked as for compensation (isForCompensation=\"true\")");
    } else if (!el(host.compensation_handler).for_compensation) {
      report(el(host.compensation_handler).location, Severity::kError,
             "handler-not-for-compensation",
             name(el(host.compensation_handler)) + " is associated with " + name(e) +
                 " but is not marked as for compensation; set isForCompensation=\"true\"");
    }
    if (!e.outgoing.empty()) {
      report(e.location, Severity::kError, "compensation-boundary-outgoing",
             name(e) + " has an outgoing sequence flow; a compensation boundary event only "
                       "names its handler, by an association: remove the flow");
    }
    return;
  }
  if (e.kind == ElementKind::kStartEvent) {
    const ElementIndex around = e.scope == kNoIndex ? kNoIndex : el(e.scope).scope;
    if (e.scope != kNoIndex && (around == kNoIndex || el(around).kind != ElementKind::kSubProcess)) {
      report(at, Severity::kWarning, "never-triggered",
             name(e) + " starts a compensation event subprocess that is not inside an "
                       "embedded subprocess, so nothing ever triggers it; move it into the "
                       "subprocess whose compensation it is");
    }
    return;
  }
  if (ev.activity_ref.empty()) return;
  // The scope it compensates: its own, or for a throw in an event subprocess, the one around.
  ElementIndex scope = e.scope;
  if (scope != kNoIndex && el(scope).kind == ElementKind::kEventSubProcess) scope = el(scope).scope;
  const ElementIndex target = p_.element_index(ev.activity_ref);
  if (target == kNoIndex || !is_activity(el(target).kind) || el(target).scope != scope) {
    std::vector<std::string> ids;
    for (ElementIndex c : children_[slot(scope)]) {
      if (is_activity(el(c).kind) && !el(c).for_compensation) ids.push_back(el(c).id);
    }
    const std::optional<std::string> meant = util::closest_name(ev.activity_ref, ids);
    report(at, Severity::kError, "unresolved-reference",
           "activityRef " + q(ev.activity_ref) + " of " + name(e) +
               (target == kNoIndex ? " does not name an activity"
                                   : " names an activity of another scope") +
               "; a compensation event compensates an activity of its own (sub)process" +
               (meant ? "; did you mean " + q(*meant) + "?" : std::string()));
  }
}

void Rules::check_transaction(ElementIndex i) {
  const Element& tx = el(i);
  bool cancels = false;
  for (ElementIndex c : children_[slot(i)]) {
    cancels |= el(c).kind == ElementKind::kEndEvent && el(c).event.type == EventType::kCancel;
  }
  bool caught = false;
  for (ElementIndex b : tx.boundary_events) caught |= el(b).event.type == EventType::kCancel;
  if (cancels && !caught) {
    report(tx.location, Severity::kError, "missing-cancel-boundary",
           "transaction " + q(tx.id) + " has a cancel end event but no cancel boundary event; "
                                        "attach one to say where the order goes once the "
                                        "transaction is cancelled and compensated");
  }
}

void Rules::check_handler(ElementIndex i) {
  const Element& h = el(i);
  if (!h.incoming.empty() || !h.outgoing.empty()) {
    report(h.location, Severity::kError, "compensation-handler-flows",
           name(h) + " is a compensation handler (isForCompensation) with sequence flows; a "
                     "handler runs only when compensation calls it: remove its flows");
  }
  bool used = false;
  for (const Element& e : p_.elements) used |= e.compensation_handler == i;
  if (!used) {
    report(h.location, Severity::kWarning, "unused-compensation-handler",
           name(h) + " is marked as for compensation but no compensation boundary event is "
                     "associated with it, so it never runs");
  }
}

void Rules::check_event(const Element& e) {
  if (!is_event(e.kind) && e.kind != ElementKind::kReceiveTask) return;
  check_event_allowed(e);
  const EventDefinition& ev = e.event;
  SourceLocation at = ev.location.line ? ev.location : e.location;
  bool is_throw =
      e.kind == ElementKind::kEndEvent || e.kind == ElementKind::kIntermediateThrowEvent;
  switch (ev.type) {
    case EventType::kMessage:
      if (is_throw) break;  // a message throw is a job; it needs no message reference
      if (ev.ref.empty() && e.kind == ElementKind::kReceiveTask) {
        report(at, Severity::kWarning, "receive-without-message",
               name(e) +
                   " names no message, so only the API can complete it (a Camunda 7 "
                   "wait state); set messageRef to correlate a message instead");
      } else if (ev.ref.empty()) {
        report(at, Severity::kError, "missing-message",
               name(e) +
                   " waits for a message but names none; set messageRef to a "
                   "<bpmn:message> with a name");
      } else if (ev.message_name.empty() && ev.message_name.location.line) {
        // A resolved reference carries the name's position; an unresolved one was reported
        // by the loader already.
        report(at, Severity::kError, "missing-message",
               "message " + q(ev.ref) + " caught by " + name(e) +
                   " has no name; messages correlate by name");
      } else if (!(e.kind == ElementKind::kStartEvent && e.scope == kNoIndex) &&
                 ev.correlation_key.dialect == ExpressionDialect::kStatic) {
        // (A process's message start needs no key: it starts an instance.)
        report(at, Severity::kWarning, "static-correlation-key",
               name(e) + " waits for message " + q(ev.message_name.text) +
                   (ev.correlation_key.text.empty()
                        ? " with no correlation key"
                        : " with the fixed correlation key " + q(ev.correlation_key.text)) +
                   ", so one such message reaches every instance waiting here; correlate by "
                   "a variable: <zeebe:subscription correlationKey=\"=orderId\"/>");
      }
      break;
    case EventType::kTimer:
      check_timer(e);
      break;
    case EventType::kError:
      if (is_throw && ev.ref.empty()) {
        report(at, Severity::kError, "missing-error-code",
               name(e) + " throws no error code; reference a <bpmn:error> with an errorCode");
      }
      break;
    case EventType::kEscalation:
      if (is_throw && ev.ref.empty()) {
        report(at, Severity::kError, "missing-escalation-code",
               name(e) +
                   " throws no escalation code; reference a <bpmn:escalation> with an "
                   "escalationCode");
      }
      break;
    case EventType::kLink: {
      if (ev.link_name.empty()) {
        report(at, Severity::kError, "link-unmatched",
               name(e) + " has a link event definition without a name; name the link");
        break;
      }
      int catches = 0;
      for (ElementIndex c : children_[slot(e.scope)]) {
        const Element& other = el(c);
        if (other.kind == ElementKind::kIntermediateCatchEvent &&
            other.event.type == EventType::kLink && other.event.link_name == ev.link_name) {
          ++catches;
        }
      }
      if (e.kind == ElementKind::kIntermediateThrowEvent && catches == 0) {
        report(at, Severity::kError, "link-unmatched",
               name(e) + " throws link " + q(ev.link_name) +
                   ", but no link catch event in the "
                   "same (sub)process has that name");
      } else if (e.kind == ElementKind::kIntermediateCatchEvent && catches > 1) {
        report(at, Severity::kError, "link-unmatched",
               "link name " + q(ev.link_name) +
                   " is caught by more than one event in the same "
                   "(sub)process; link names must be unique there");
      }
      break;
    }
    case EventType::kSignal:
      if (ev.ref_name.empty() && (ev.ref.empty() || ev.location.line)) {
        report(at, Severity::kError, "missing-signal",
               name(e) + (ev.ref.empty() ? " names no signal" : " names a signal without a name") +
                   "; set signalRef to a <bpmn:signal name=\"...\">: signals are matched by "
                   "name");
      }
      break;
    case EventType::kConditional:
      if (ev.condition.empty()) {
        report(at, Severity::kError, "missing-condition-expression",
               name(e) + " has a conditional event definition without a condition; add "
                         "<condition xsi:type=\"tFormalExpression\">=...</condition>");
      }
      break;
    case EventType::kCompensation:
      check_compensation(e, at);
      break;
    case EventType::kCancel:
      if (e.kind == ElementKind::kEndEvent && (e.scope == kNoIndex || !el(e.scope).transaction)) {
        report(at, Severity::kError, "cancel-outside-transaction",
               name(e) + " is a cancel end event outside a transaction; it cancels the "
                         "transaction it is in, so move it into one (or use a terminate or "
                         "error end event)");
      } else if (e.kind == ElementKind::kBoundaryEvent && e.attached_to != kNoIndex &&
                 !el(e.attached_to).transaction) {
        report(at, Severity::kError, "cancel-outside-transaction",
               name(e) + " is a cancel boundary event on " + name(el(e.attached_to)) +
                   ", which is not a transaction; only a transaction is cancelled");
      } else if (e.kind == ElementKind::kBoundaryEvent && !e.cancel_activity) {
        report(e.location, Severity::kError, "event-not-allowed",
               name(e) + " is a non-interrupting cancel boundary event; a cancelled "
                         "transaction always ends, so remove cancelActivity=\"false\"");
      }
      break;
    default:
      break;
  }
  if (e.kind == ElementKind::kBoundaryEvent && e.attached_to != kNoIndex) {
    const Element& host = el(e.attached_to);
    if (!is_activity(host.kind) || host.kind == ElementKind::kEventSubProcess) {
      report(e.location, Severity::kError, "boundary-attachment",
             name(e) + " is attached to " + name(host) +
                 ", which is not an activity; attach it to a task, subprocess or call activity");
    } else if (host.scope != e.scope) {
      report(e.location, Severity::kError, "boundary-attachment",
             name(e) + " is attached to " + name(host) + " but sits in another (sub)process");
    }
  }
}

void Rules::check_timer(const Element& e) {
  const EventDefinition& ev = e.event;
  SourceLocation at = ev.timer.location.line ? ev.timer.location : ev.location;
  if (ev.timer_type == TimerType::kNone || ev.timer.empty()) {
    report(at, Severity::kError, "missing-timer-value",
           name(e) +
               " is a timer without a time; add timeDuration (e.g. PT30M), timeDate "
               "(e.g. 2026-12-01T10:00:00Z) or timeCycle (e.g. R3/PT10M)");
    return;
  }
  if (ev.timer.dialect != ExpressionDialect::kStatic) return;  // checked when compiled
  const std::string& v = ev.timer.text;
  bool valid = true;
  const char* example = "";
  switch (ev.timer_type) {
    case TimerType::kDuration:
      valid = time::is_iso_duration(v);
      example = "an ISO 8601 duration such as PT30M or P1DT2H";
      break;
    case TimerType::kDate:
      valid = time::is_iso_date_time(v);
      example = "an ISO 8601 date and time with offset such as 2026-12-01T10:00:00Z";
      break;
    case TimerType::kCycle:
      valid = time::is_iso_cycle(v);
      example = "an ISO 8601 repeating interval such as R3/PT10M";
      break;
    case TimerType::kNone:
      break;
  }
  // A value the clock could never reach (P999999999Y): refused now, not at run time.
  std::optional<time::Duration> length;
  if (valid && ev.timer_type == TimerType::kDuration) length = time::parse_duration(v);
  if (valid && ev.timer_type == TimerType::kCycle) {
    if (auto c = time::parse_cycle(v)) length = c->interval;
  }
  if (length && !time::add_within(0, *length)) {
    report(at, Severity::kError, "invalid-timer-value",
           "timer value " + q(v) + " of " + name(e) +
               " reaches beyond the year 9999, where no timer can be due; give a shorter one");
    return;
  }
  if (!valid && ev.timer_type == TimerType::kCycle && time::looks_like_cron(v)) {
    if (Result<time::Cron> cron = time::parse_cron(v); !cron) {
      report(at, Severity::kError, "invalid-timer-value",
             "timer cycle " + q(v) + " of " + name(e) + ": " + cron.status().message() +
                 " (e.g. 0 0 9 * * MON-FRI in UTC, or CRON_TZ=Europe/Berlin 0 0 9 * * MON-FRI)");
    }
  } else if (!valid) {
    report(at, Severity::kError, "invalid-timer-value",
           "timer value " + q(v) + " of " + name(e) + " is not " + example +
               "; write an expression as =...");
  }
}

void Rules::check_task(const Element& e) {
  bool message_throw =
      (e.kind == ElementKind::kIntermediateThrowEvent || e.kind == ElementKind::kEndEvent) &&
      e.event.type == EventType::kMessage;
  if (message_throw && e.task.type.empty() && e.task.origin != TaskTypeOrigin::kUnsupported) {
    report(e.location, Severity::kError, "missing-task-type",
           name(e) +
               " sends its message through a job, but has no task type; add "
               "<zeebe:taskDefinition type=\"...\"/>");
  }
  if (e.kind == ElementKind::kBusinessRuleTask && !e.decision.decision_id.empty()) {
    if (!e.task.type.empty()) {
      report(e.location, Severity::kError, "decision-and-job",
             name(e) + " both calls a decision and has a task type; keep one: "
                       "zeebe:calledDecision evaluates the DMN decision in the engine, "
                       "zeebe:taskDefinition hands the task to a worker");
    }
    if (e.decision.result_variable.empty() &&
        e.decision.mapping == DecisionResultMapping::kWhole) {
      report(e.decision.decision_id.location, Severity::kError, "missing-result-variable",
             name(e) + " calls decision " + q(e.decision.decision_id.source()) +
                 " but names no variable for its result; add resultVariable=\"...\" to "
                 "zeebe:calledDecision");
    }
  } else if (e.kind == ElementKind::kBusinessRuleTask &&
             e.decision.decision_id.location.line != 0 && e.task.type.empty()) {
    report(e.decision.decision_id.location, Severity::kError, "missing-decision-id",
           name(e) + " calls a decision but does not say which; add decisionId=\"...\" "
                     "with the id of the DMN decision");
  }
  if (runs_as_job(e) && e.kind != ElementKind::kUserTask && e.task.type.empty() &&
      e.task.origin != TaskTypeOrigin::kUnsupported && e.decision.decision_id.location.line == 0) {
    report(e.location, Severity::kError, "missing-task-type",
           name(e) +
               " has no task type, so no handler can do its work; add "
               "<zeebe:taskDefinition type=\"...\"/> (or camunda:type=\"external\" "
               "camunda:topic=\"...\")");
  }
  if (e.task.origin == TaskTypeOrigin::kCamundaClass ||
      e.task.origin == TaskTypeOrigin::kCamundaExpression) {
    report(e.task.type.location, Severity::kWarning, "java-delegate",
           name(e) + " names Java code " + q(e.task.type.text) +
               "; Ordo runs it as a job of that type, so register a handler for it");
  }
  if (const Expression& r = e.task.retry_backoff;
      !r.empty() && r.dialect == ExpressionDialect::kStatic &&
      !time::parse_cycle(r.text) && !time::parse_duration(r.text)) {
    report(r.location, Severity::kError, "invalid-retry-cycle",
           "retry time cycle " + q(r.text) + " of " + name(e) +
               " is not an ISO 8601 repeating interval such as R3/PT10S (or a duration such "
               "as PT10S); without a valid one, failed jobs back off exponentially");
  }
  if (e.kind == ElementKind::kScriptTask && e.script.empty() && e.task.type.empty()) {
    report(e.location, Severity::kError, "missing-script",
           name(e) +
               " has no script; add <zeebe:script expression=\"=...\" "
               "resultVariable=\"...\"/>");
  }
  if (e.kind == ElementKind::kCallActivity && e.called.process_id.empty()) {
    report(e.location, Severity::kError, "missing-called-element",
           name(e) +
               " does not say which process to call; add <zeebe:calledElement "
               "processId=\"...\"/>");
  }
  if (e.loop.standard && e.loop.loop_condition.empty() && e.loop.loop_maximum < 0) {
    report(e.loop.location, Severity::kError, "endless-loop",
           "standard loop of " + name(e) +
               " has neither a loop condition nor a loopMaximum, so it would never end; add "
               "<loopCondition>=...</loopCondition> or loopMaximum=\"...\"");
  }
  if (e.loop.present && !e.loop.standard && e.loop.input_collection.empty() &&
      e.loop.loop_cardinality.empty()) {
    report(e.loop.location, Severity::kError, "missing-loop-collection",
           "multi-instance " + name(e) +
               " has neither an input collection nor a loop "
               "cardinality; add <zeebe:loopCharacteristics inputCollection=\"=...\"/>");
  }
  if (e.loop.present && !e.loop.output_collection.empty() && e.loop.output_element.empty()) {
    report(e.loop.location, Severity::kWarning, "missing-output-element",
           "multi-instance " + name(e) + " collects into " + q(e.loop.output_collection) +
               " but says not what: every entry stays null; add outputElement=\"=...\" "
               "(or an <outputDataItem name=\"...\"/>)");
  }
  if (e.loop.present && e.loop.output_collection.empty() && !e.loop.output_element.empty()) {
    report(e.loop.location, Severity::kWarning, "missing-output-collection",
           "multi-instance " + name(e) + " has an output element but no collection to put it "
               "in, so it is dropped; add outputCollection=\"...\" (or <loopDataOutputRef>)");
  }
}

void Rules::check_gateway(const Element& e) {
  for (FlowIndex f : e.outgoing) {
    const SequenceFlow& flow = p_.flows[f];
    if (flow.is_default && !flow.condition.empty()) {
      // BPMN 2.0 (10.5.1): a default flow's condition is ignored.
      report(flow.condition.location, Severity::kWarning, "default-flow-condition",
             "default flow " + q(flow.id) + " of " + name(e) +
                 " has a condition, which is ignored: a default flow is taken when no other "
                 "condition holds. Remove the condition, or make the flow an ordinary one");
    }
  }
  if (e.kind == ElementKind::kParallelGateway) {
    for (FlowIndex f : e.outgoing) {
      const SequenceFlow& flow = p_.flows[f];
      if (!flow.condition.empty()) {
        report(flow.condition.location, Severity::kError, "parallel-gateway-condition",
               "flow " + q(flow.id) + " leaves parallel " + name(e) +
                   " with a condition, which a parallel gateway never evaluates; remove it or "
                   "use an inclusive gateway");
      }
    }
  } else if (e.kind == ElementKind::kEventBasedGateway) {
    if (e.outgoing.size() == 1) {
      report(e.location, Severity::kError, "event-gateway",
             name(e) + " needs at least two outgoing flows, each to an event to wait for");
    }
    for (FlowIndex f : e.outgoing) {
      const SequenceFlow& flow = p_.flows[f];
      if (!flow.condition.empty()) {
        report(flow.condition.location, Severity::kError, "event-gateway",
               "flow " + q(flow.id) + " leaves " + name(e) +
                   " with a condition; the first event to occur decides, so remove it");
      }
      if (flow.target == kNoIndex) continue;
      const Element& t = el(flow.target);
      bool ok =
          (t.kind == ElementKind::kIntermediateCatchEvent && t.event.type != EventType::kLink) ||
          t.kind == ElementKind::kReceiveTask;
      if (!ok) {
        report(flow.location, Severity::kError, "event-gateway",
               "flow " + q(flow.id) + " leads from " + name(e) + " to " + name(t) +
                   "; after an event-based gateway comes an intermediate catch event "
                   "(message, timer) or a receive task");
      } else if (t.incoming.size() > 1) {
        report(t.location, Severity::kError, "event-gateway",
               name(t) + " follows " + name(e) +
                   " and so must have no other incoming flow (BPMN 2.0, 10.5.6); route the "
                   "other path to the gateway instead");
      }
    }
  } else if ((e.kind == ElementKind::kExclusiveGateway ||
              e.kind == ElementKind::kInclusiveGateway) &&
             e.outgoing.size() > 1) {
    bool any_condition = false, always_taken = false;
    for (FlowIndex f : e.outgoing) {
      any_condition |= !p_.flows[f].condition.empty();
      always_taken |= !p_.flows[f].is_default && p_.flows[f].condition.empty();
    }
    for (FlowIndex f : e.outgoing) {
      const SequenceFlow& flow = p_.flows[f];
      if (!flow.is_default && flow.condition.empty()) {
        report(flow.location, Severity::kWarning, "missing-condition",
               "flow " + q(flow.id) + " leaves " + name(e) +
                   " without a condition and is not its default, so it is always taken; "
                   "add a condition or make it the default flow");
      }
    }
    if (any_condition && !always_taken && e.default_flow == kNoIndex) {
      report(e.location, Severity::kWarning, "gateway-no-default",
             name(e) +
                 " has conditional flows and no default flow; when no condition "
                 "holds, the instance stops with an incident. Add a default flow if that is not "
                 "intended");
    }
  }
}

void Rules::check_reachability() {
  std::vector<char> reached(p_.elements.size(), 0);
  std::vector<ElementIndex> work;
  auto enter_scope = [&](ElementIndex scope) {
    for (ElementIndex c : children_[slot(scope)]) {
      ElementKind k = el(c).kind;
      if (k == ElementKind::kStartEvent || k == ElementKind::kEventSubProcess) work.push_back(c);
    }
  };
  enter_scope(kNoIndex);
  while (!work.empty()) {
    ElementIndex i = work.back();
    work.pop_back();
    if (reached[i]) continue;
    reached[i] = 1;
    const Element& e = el(i);
    for (FlowIndex f : e.outgoing) {
      if (p_.flows[f].target != kNoIndex) work.push_back(p_.flows[f].target);
    }
    for (ElementIndex b : e.boundary_events) work.push_back(b);
    if (e.kind == ElementKind::kSubProcess || e.kind == ElementKind::kEventSubProcess) {
      enter_scope(i);
    }
    if (e.kind == ElementKind::kIntermediateThrowEvent && e.event.type == EventType::kLink) {
      for (ElementIndex c : children_[slot(e.scope)]) {
        const Element& other = el(c);
        if (other.kind == ElementKind::kIntermediateCatchEvent &&
            other.event.type == EventType::kLink && other.event.link_name == e.event.link_name) {
          work.push_back(c);
        }
      }
    }
  }
  // A flow whose end names nothing was reported as an error: what looks unreachable
  // behind it is most likely only its consequence, so nothing more is said.
  const bool broken = std::any_of(p_.flows.begin(), p_.flows.end(), [](const SequenceFlow& f) {
    return f.source == kNoIndex || f.target == kNoIndex;
  });
  for (ElementIndex i = 0; i < p_.elements.size() && !broken; ++i) {
    const Element& e = el(i);
    if (reached[i] || e.for_compensation || (e.scope != kNoIndex && !reached[e.scope])) continue;
    report(e.location, Severity::kWarning, "unreachable",
           name(e) + " cannot be reached from any start event; connect it or remove it");
  }
}

}  // namespace

void validate_process(const ProcessDefinition& process, std::vector<Diagnostic>& out) {
  Rules(process, out).run();
}

}  // namespace ordo::validate
