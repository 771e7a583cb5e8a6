// The lifecycle of a process instance, as a Boost.MSM transition table.
#include "runtime/lifecycle.h"
#include "runtime/lifecycle_table.h"

namespace ordo {

std::string_view to_string(InstanceState s) noexcept {
  switch (s) {
    case InstanceState::kActive:
      return "active";
    case InstanceState::kSuspended:
      return "suspended";
    case InstanceState::kCompleted:
      return "completed";
    case InstanceState::kTerminated:
      return "terminated";
    case InstanceState::kIncident:
      return "incident";
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
using Suspend = lifecycle::Event<InstanceEvent::kSuspend>;
using Resume = lifecycle::Event<InstanceEvent::kResume>;
using Complete = lifecycle::Event<InstanceEvent::kComplete>;
using Terminate = lifecycle::Event<InstanceEvent::kTerminate>;
using RaiseIncident = lifecycle::Event<InstanceEvent::kRaiseIncident>;
using ResolveIncident = lifecycle::Event<InstanceEvent::kResolveIncident>;
}  // namespace ev

struct InstanceMachine : lifecycle::LifecycleMachine<InstanceMachine> {
  using Active = lifecycle::State<InstanceState::kActive>;
  using Suspended = lifecycle::State<InstanceState::kSuspended>;
  using Completed = lifecycle::State<InstanceState::kCompleted>;
  using Terminated = lifecycle::State<InstanceState::kTerminated>;
  using Incident = lifecycle::State<InstanceState::kIncident>;

  using initial_state = Active;

  // Completed and Terminated are final: no row leaves them. Suspended is left only by resume
  // or terminate: a suspended instance moves no tokens, so it cannot complete or raise an
  // incident. An incident does not stop an operator from suspending or terminating.
  // clang-format off
  struct transition_table : boost::mpl::vector<
    //   Start      Event                Next        Action  Guard
    Row< Active,    ev::Suspend,         Suspended,  none,   none >,
    Row< Active,    ev::Complete,        Completed,  none,   none >,
    Row< Active,    ev::Terminate,       Terminated, none,   none >,
    Row< Active,    ev::RaiseIncident,   Incident,   none,   none >,
    Row< Suspended, ev::Resume,          Active,     none,   none >,
    Row< Suspended, ev::Terminate,       Terminated, none,   none >,
    Row< Incident,  ev::RaiseIncident,   Incident,   none,   none >,  // another one opened
    Row< Incident,  ev::ResolveIncident, Active,     none,   none >,  // the last one closed
    Row< Incident,  ev::Suspend,         Suspended,  none,   none >,
    Row< Incident,  ev::Terminate,       Terminated, none,   none >
  > {};
  // clang-format on
};

const auto& table() {
  static const auto t =
      lifecycle::explore<lifecycle::msm::back::state_machine<InstanceMachine>, InstanceState,
                         static_cast<std::size_t>(InstanceState::kIncident) + 1, ev::Suspend,
                         ev::Resume, ev::Complete, ev::Terminate, ev::RaiseIncident,
                         ev::ResolveIncident>("instance");
  return t;
}

}  // namespace

std::string_view to_string(InstanceEvent e) noexcept {
  switch (e) {
    case InstanceEvent::kSuspend:
      return "suspend";
    case InstanceEvent::kResume:
      return "resume";
    case InstanceEvent::kComplete:
      return "complete";
    case InstanceEvent::kTerminate:
      return "terminate";
    case InstanceEvent::kRaiseIncident:
      return "raise incident";
    case InstanceEvent::kResolveIncident:
      return "resolve incident";
  }
  return "unknown";
}

std::optional<InstanceState> next(InstanceState s, InstanceEvent e) noexcept {
  return table().next(s, e);
}

}  // namespace ordo::runtime
