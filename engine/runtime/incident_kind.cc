// The names of incident kinds, as history, the CLI, the HTTP API and the database show them.
#include "ordo/lifecycle.h"

namespace ordo {

std::string_view to_string(IncidentKind k) noexcept {
  switch (k) {
    case IncidentKind::kExpression:
      return "expression";
    case IncidentKind::kNoOutgoingFlow:
      return "no-outgoing-flow";
    case IncidentKind::kUnhandledError:
      return "unhandled-error";
    case IncidentKind::kJobNoRetries:
      return "job-no-retries";
    case IncidentKind::kJobType:
      return "job-type";
    case IncidentKind::kCalledElement:
      return "called-element";
    case IncidentKind::kEndlessLoop:
      return "endless-loop";
    case IncidentKind::kIoMapping:
      return "io-mapping";
    case IncidentKind::kLifecycle:
      return "lifecycle";
    case IncidentKind::kMultiInstance:
      return "multi-instance";
    case IncidentKind::kNoLinkCatch:
      return "no-link-catch";
    case IncidentKind::kNoStartEvent:
      return "no-start-event";
    case IncidentKind::kTimer:
      return "timer";
    case IncidentKind::kUnsupported:
      return "unsupported";
    case IncidentKind::kCallDepth:
      return "call-depth";
    case IncidentKind::kDamaged:
      return "damaged";
    case IncidentKind::kDecision:
      return "decision";
  }
  return "unknown";
}

std::optional<IncidentKind> incident_kind_from(std::string_view text) noexcept {
  for (int i = 0; i <= static_cast<int>(IncidentKind::kDecision); ++i) {
    const auto k = static_cast<IncidentKind>(i);
    if (to_string(k) == text) return k;
  }
  return std::nullopt;
}

}  // namespace ordo
