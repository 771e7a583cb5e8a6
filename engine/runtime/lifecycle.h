// Lifecycle transitions. The allowed transitions are Boost.MSM transition tables (one per
// lifecycle, each in its own .cc file); these functions answer "from state S, event E leads
// where?" from a dense table built once from the MSM machine, so the runtime stores one byte
// per state and a transition costs one lookup.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "ordo/lifecycle.h"

namespace ordo::runtime {

enum class InstanceEvent : std::uint8_t {
  kSuspend,          // active/incident -> suspended
  kResume,           // suspended -> active
  kComplete,         // active -> completed
  kTerminate,        // active/suspended/incident -> terminated
  kRaiseIncident,    // active -> incident (also incident -> incident: another one)
  kResolveIncident,  // incident -> active (the last open incident was resolved)
};

enum class ElementEvent : std::uint8_t {
  kActivated,    // activating -> active
  kComplete,     // active -> completing
  kCompleted,    // completing -> completed
  kTerminate,    // activating/active/completing -> terminating
  kTerminated,   // terminating -> terminated
};

enum class JobEvent : std::uint8_t {
  kLock,        // created -> locked
  kUnlock,      // locked -> created (lock expired, worker gone)
  kComplete,    // created/locked -> completed
  kThrowError,  // created/locked -> completed (a BPMN error ends the job)
  kFail,        // created/locked -> failed (retries left)
  kExhaust,     // created/locked -> incident (no retries left)
  kRetry,       // failed -> created (backoff elapsed)
  kResolve,     // incident -> created (an operator gave it retries)
  kCancel,      // created/locked/failed/incident -> cancelled
};

std::string_view to_string(InstanceEvent e) noexcept;
std::string_view to_string(ElementEvent e) noexcept;
std::string_view to_string(JobEvent e) noexcept;

// The state `e` leads to from `s`, or nullopt when the lifecycle does not allow it.
std::optional<InstanceState> next(InstanceState s, InstanceEvent e) noexcept;
std::optional<ElementState> next(ElementState s, ElementEvent e) noexcept;
std::optional<JobState> next(JobState s, JobEvent e) noexcept;

}  // namespace ordo::runtime
