// History: the append-only record of everything that happened to process instances.
//
// The runtime turns each command into state changes plus history events; the same commands
// with the same clock give the same events, in the same order, with the same sequence
// numbers. Observers (observer.h) receive them as they are committed; Engine::history() reads
// them back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ordo/definition.h"

namespace ordo {

using InstanceId = std::uint64_t;
using JobKey = std::uint64_t;
using IncidentKey = std::uint64_t;

enum class HistoryKind : std::uint8_t {
  kInstanceStarted,  // value: the calling instance (0: none); detail: the business key
  kInstanceCompleted,
  kInstanceTerminated,
  kElementActivated,
  kElementCompleted,
  kElementTerminated,
  kFlowTaken,
  kJobCreated,
  kJobCompleted,
  kJobFailed,       // detail: the worker's message; retries left in `value`
  kJobErrorThrown,  // detail: the error code
  kJobCancelled,
  kTimerScheduled,  // value: due time (ms since epoch)
  kTimerFired,
  kMessageSubscribed,  // detail: message name and correlation key
  kMessageCorrelated,  // detail: message name and correlation key
  kErrorThrown,        // detail: the error code (error end events, jobs)
  kEscalationThrown,   // detail: the escalation code
  kVariablesUpdated,   // detail: the names that changed, comma-separated
  kIncidentRaised,     // key: the incident; detail: its message
  kIncidentResolved,
  kJobDeferred,  // value: when it is handed out again (ms since epoch); detail: why
  kInstanceSuspended,  // by an operator: no job is handed out, no timer or message delivered
  kInstanceResumed,
  // A compensation throw or cancel end event began to compensate: value, how many
  // compensations it runs.
  kCompensationThrown,
  // Migrated to another version of its process: value, the version it ran before.
  kInstanceMigrated,
  // A token moved with its instance's migration: the element it is at now; value, the
  // version before; detail, the element id it was at (kept with or without details).
  kElementMigrated,
  // A business rule task evaluated its decision: detail, the decision's id, then each
  // decision table evaluated with the ids of its matched rules ("shipping: shipping
  // [insured-eu]"; "a: b [r1,r2]; a [r7]" when decision a requires table b).
  kDecisionEvaluated,
};
std::string_view to_string(HistoryKind kind) noexcept;  // "element-activated", ...

struct HistoryEvent {
  std::uint64_t sequence = 0;  // engine-wide, starts at 1, no gaps
  std::int64_t time_ms = 0;    // the engine clock when it happened
  InstanceId instance = 0;
  HistoryKind kind = HistoryKind::kElementActivated;
  ElementKind element_kind = ElementKind::kTask;
  // Where element_id is in its process definition: ProcessDefinition::elements (or, for
  // kFlowTaken, ::flows), so an observer needs no lookup by id. kNoIndex for instance-level
  // events, and for events read back from a durable store (Engine::history()).
  std::uint32_t element_index = kNoIndex;
  // Point into the deployed definition, which the engine keeps alive as long as itself.
  std::string_view process_id;
  std::string_view element_id;  // empty for instance-level events
  std::uint64_t key = 0;        // job, incident or timer key where one applies
  std::int64_t value = 0;       // kind-specific number (see above)
  // kElementCompleted and kElementTerminated: how long the element instance was active, in
  // ms (-1: not known: an element instance stored before its start time was, or an event
  // read back from a durable store, which keeps the times of both ends instead).
  std::int64_t active_ms = -1;
  std::string detail;           // kind-specific text (see above); usually empty
};

}  // namespace ordo
