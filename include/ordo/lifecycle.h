// The fixed lifecycles of process instances, element instances and jobs.
//
// These states are what `Engine` reports and what the store persists. The transitions
// between them are defined once, as Boost.MSM transition tables inside the engine; a
// transition the table does not allow is reported as an incident, never asserted.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ordo {

enum class InstanceState : std::uint8_t {
  kActive,      // tokens are moving or waiting
  kSuspended,   // paused by an operator: nothing moves until resumed
  kCompleted,   // every token reached an end event
  kTerminated,  // cancelled (a terminate end event at process level completes it)
  kIncident,    // at least one open incident blocks it; resolving it makes it active again
};

enum class ElementState : std::uint8_t {
  kActivating,   // entered; input mappings and entry work are running
  kActive,       // waiting: for a job, a message, a timer, or its children
  kCompleting,   // done; output mappings are running
  kCompleted,    // left through its outgoing flows
  kTerminating,  // being cancelled (interrupting event, terminate end, cancel)
  kTerminated,   // cancelled
};

enum class JobState : std::uint8_t {
  kCreated,    // waiting for a worker (or due for retry)
  kLocked,     // a worker has it
  kCompleted,  // finished: completed, or a BPMN error was thrown
  kFailed,     // failed with retries left; becomes created again when its backoff has passed
  kIncident,   // failed with no retries left; an operator must act
  kCancelled,  // its element was terminated
};

// Why an instance stopped at an element and waits for an operator (IncidentInfo::kind).
enum class IncidentKind : std::uint8_t {
  kExpression,  // an expression (condition, mapping, correlation key, task type, ...) failed
  kNoOutgoingFlow,  // no condition of a gateway or activity held and there is no default flow
  kUnhandledError,  // a BPMN error nobody catches
  kJobNoRetries,  // a job failed with no retries left
  kJobType,  // a task has no job type
  kCalledElement,  // a call activity names a process that is not deployed, or cannot start
  kEndlessLoop,  // tokens moved too long without reaching a wait state
  kIoMapping,  // an input or output mapping failed
  kLifecycle,  // an element cannot make a lifecycle transition (a bug in Ordo)
  kMultiInstance,  // a multi-instance collection is not a list
  kNoLinkCatch,  // a link throw event has no catch event of its name
  kNoStartEvent,  // a subprocess has no start event
  kTimer,  // a timer expression does not give a date, duration or cycle
  kUnsupported,  // an element Ordo cannot run
  kCallDepth,    // a call activity would nest instances deeper than max_call_depth
  kDamaged,      // the instance's stored state cannot be read: it is held, the rest goes on
  kDecision,     // a business rule task's decision is not deployed or fails to evaluate
};

std::string_view to_string(InstanceState s) noexcept;  // "active", "suspended", ...
std::string_view to_string(ElementState s) noexcept;   // "activating", "active", ...
std::string_view to_string(JobState s) noexcept;       // "created", "locked", ...
std::string_view to_string(IncidentKind k) noexcept;   // "expression", "job-no-retries", ...
// The kind named `text` (as to_string gives it), if any.
std::optional<IncidentKind> incident_kind_from(std::string_view text) noexcept;

}  // namespace ordo
