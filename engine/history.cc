#include "ordo/history.h"

namespace ordo {

std::string_view to_string(HistoryKind kind) noexcept {
  switch (kind) {
    case HistoryKind::kInstanceStarted: return "instance-started";
    case HistoryKind::kInstanceCompleted: return "instance-completed";
    case HistoryKind::kInstanceTerminated: return "instance-terminated";
    case HistoryKind::kElementActivated: return "element-activated";
    case HistoryKind::kElementCompleted: return "element-completed";
    case HistoryKind::kElementTerminated: return "element-terminated";
    case HistoryKind::kFlowTaken: return "flow-taken";
    case HistoryKind::kJobCreated: return "job-created";
    case HistoryKind::kJobCompleted: return "job-completed";
    case HistoryKind::kJobFailed: return "job-failed";
    case HistoryKind::kJobErrorThrown: return "job-error-thrown";
    case HistoryKind::kJobCancelled: return "job-cancelled";
    case HistoryKind::kTimerScheduled: return "timer-scheduled";
    case HistoryKind::kTimerFired: return "timer-fired";
    case HistoryKind::kMessageSubscribed: return "message-subscribed";
    case HistoryKind::kMessageCorrelated: return "message-correlated";
    case HistoryKind::kErrorThrown: return "error-thrown";
    case HistoryKind::kEscalationThrown: return "escalation-thrown";
    case HistoryKind::kVariablesUpdated: return "variables-updated";
    case HistoryKind::kIncidentRaised: return "incident-raised";
    case HistoryKind::kIncidentResolved: return "incident-resolved";
    case HistoryKind::kJobDeferred: return "job-deferred";
    case HistoryKind::kInstanceSuspended: return "instance-suspended";
    case HistoryKind::kInstanceResumed: return "instance-resumed";
    case HistoryKind::kCompensationThrown: return "compensation-thrown";
    case HistoryKind::kInstanceMigrated: return "instance-migrated";
    case HistoryKind::kElementMigrated: return "element-migrated";
    case HistoryKind::kDecisionEvaluated: return "decision-evaluated";
  }
  return "unknown";
}

}  // namespace ordo
