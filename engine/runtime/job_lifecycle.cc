// The lifecycle of a job, as a Boost.MSM transition table.
#include "runtime/lifecycle.h"
#include "runtime/lifecycle_table.h"

namespace ordo {

std::string_view to_string(JobState s) noexcept {
  switch (s) {
    case JobState::kCreated:
      return "created";
    case JobState::kLocked:
      return "locked";
    case JobState::kCompleted:
      return "completed";
    case JobState::kFailed:
      return "failed";
    case JobState::kIncident:
      return "incident";
    case JobState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

}  // namespace ordo

namespace ordo::runtime {
namespace {

using lifecycle::msmf::none;
using lifecycle::msmf::Row;

// Events, one per runtime enum value.
namespace ev {
using Lock = lifecycle::Event<JobEvent::kLock>;
using Unlock = lifecycle::Event<JobEvent::kUnlock>;
using Complete = lifecycle::Event<JobEvent::kComplete>;
using ThrowError = lifecycle::Event<JobEvent::kThrowError>;
using Fail = lifecycle::Event<JobEvent::kFail>;
using Exhaust = lifecycle::Event<JobEvent::kExhaust>;
using Retry = lifecycle::Event<JobEvent::kRetry>;
using Resolve = lifecycle::Event<JobEvent::kResolve>;
using Cancel = lifecycle::Event<JobEvent::kCancel>;
}  // namespace ev

struct JobMachine : lifecycle::LifecycleMachine<JobMachine> {
  using Created = lifecycle::State<JobState::kCreated>;
  using Locked = lifecycle::State<JobState::kLocked>;
  using Completed = lifecycle::State<JobState::kCompleted>;
  using Failed = lifecycle::State<JobState::kFailed>;
  using Incident = lifecycle::State<JobState::kIncident>;
  using Cancelled = lifecycle::State<JobState::kCancelled>;

  using initial_state = Created;

  // Completed and Cancelled are final. A created job may finish without being locked: an
  // in-process handler runs it directly, with no worker to lock it. Failed and Incident wait
  // (for the backoff, for an operator) and go back to Created, never straight to Locked.
  // clang-format off
  struct transition_table : boost::mpl::vector<
    //   Start     Event           Next       Action  Guard
    Row< Created,  ev::Lock,       Locked,    none,   none >,
    Row< Created,  ev::Complete,   Completed, none,   none >,
    Row< Created,  ev::ThrowError, Completed, none,   none >,
    Row< Created,  ev::Fail,       Failed,    none,   none >,
    Row< Created,  ev::Exhaust,    Incident,  none,   none >,
    Row< Created,  ev::Cancel,     Cancelled, none,   none >,
    Row< Locked,   ev::Unlock,     Created,   none,   none >,  // lock expired, worker gone
    Row< Locked,   ev::Complete,   Completed, none,   none >,
    Row< Locked,   ev::ThrowError, Completed, none,   none >,
    Row< Locked,   ev::Fail,       Failed,    none,   none >,
    Row< Locked,   ev::Exhaust,    Incident,  none,   none >,
    Row< Locked,   ev::Cancel,     Cancelled, none,   none >,
    Row< Failed,   ev::Retry,      Created,   none,   none >,  // backoff elapsed
    Row< Failed,   ev::Cancel,     Cancelled, none,   none >,
    Row< Incident, ev::Resolve,    Created,   none,   none >,  // an operator gave retries
    Row< Incident, ev::Cancel,     Cancelled, none,   none >
  > {};
  // clang-format on
};

const auto& table() {
  static const auto t =
      lifecycle::explore<lifecycle::msm::back::state_machine<JobMachine>, JobState,
                         static_cast<std::size_t>(JobState::kCancelled) + 1, ev::Lock, ev::Unlock,
                         ev::Complete, ev::ThrowError, ev::Fail, ev::Exhaust, ev::Retry,
                         ev::Resolve, ev::Cancel>("job");
  return t;
}

}  // namespace

std::string_view to_string(JobEvent e) noexcept {
  switch (e) {
    case JobEvent::kLock:
      return "lock";
    case JobEvent::kUnlock:
      return "unlock";
    case JobEvent::kComplete:
      return "complete";
    case JobEvent::kThrowError:
      return "throw error";
    case JobEvent::kFail:
      return "fail";
    case JobEvent::kExhaust:
      return "exhaust";
    case JobEvent::kRetry:
      return "retry";
    case JobEvent::kResolve:
      return "resolve";
    case JobEvent::kCancel:
      return "cancel";
  }
  return "unknown";
}

std::optional<JobState> next(JobState s, JobEvent e) noexcept {
  return table().next(s, e);
}

}  // namespace ordo::runtime
