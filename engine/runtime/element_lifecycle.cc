// The lifecycle of an element instance, as a Boost.MSM transition table.
#include "runtime/lifecycle.h"
#include "runtime/lifecycle_table.h"

namespace ordo {

std::string_view to_string(ElementState s) noexcept {
  switch (s) {
    case ElementState::kActivating:
      return "activating";
    case ElementState::kActive:
      return "active";
    case ElementState::kCompleting:
      return "completing";
    case ElementState::kCompleted:
      return "completed";
    case ElementState::kTerminating:
      return "terminating";
    case ElementState::kTerminated:
      return "terminated";
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
using Activated = lifecycle::Event<ElementEvent::kActivated>;
using Complete = lifecycle::Event<ElementEvent::kComplete>;
using Completed = lifecycle::Event<ElementEvent::kCompleted>;
using Terminate = lifecycle::Event<ElementEvent::kTerminate>;
using Terminated = lifecycle::Event<ElementEvent::kTerminated>;
}  // namespace ev

struct ElementMachine : lifecycle::LifecycleMachine<ElementMachine> {
  using Activating = lifecycle::State<ElementState::kActivating>;
  using Active = lifecycle::State<ElementState::kActive>;
  using Completing = lifecycle::State<ElementState::kCompleting>;
  using Completed = lifecycle::State<ElementState::kCompleted>;
  using Terminating = lifecycle::State<ElementState::kTerminating>;
  using Terminated = lifecycle::State<ElementState::kTerminated>;

  using initial_state = Activating;

  // Completed and Terminated are final. An element can be terminated (an interrupting
  // boundary event, a terminate end event, a cancel) at any point before it has left.
  // clang-format off
  struct transition_table : boost::mpl::vector<
    //   Start        Event           Next         Action  Guard
    Row< Activating,  ev::Activated,  Active,      none,   none >,
    Row< Activating,  ev::Terminate,  Terminating, none,   none >,
    Row< Active,      ev::Complete,   Completing,  none,   none >,
    Row< Active,      ev::Terminate,  Terminating, none,   none >,
    Row< Completing,  ev::Completed,  Completed,   none,   none >,
    Row< Completing,  ev::Terminate,  Terminating, none,   none >,
    Row< Terminating, ev::Terminated, Terminated,  none,   none >
  > {};
  // clang-format on
};

const auto& table() {
  static const auto t =
      lifecycle::explore<lifecycle::msm::back::state_machine<ElementMachine>, ElementState,
                         static_cast<std::size_t>(ElementState::kTerminated) + 1, ev::Activated,
                         ev::Complete, ev::Completed, ev::Terminate, ev::Terminated>("element");
  return t;
}

}  // namespace

std::string_view to_string(ElementEvent e) noexcept {
  switch (e) {
    case ElementEvent::kActivated:
      return "activated";
    case ElementEvent::kComplete:
      return "complete";
    case ElementEvent::kCompleted:
      return "completed";
    case ElementEvent::kTerminate:
      return "terminate";
    case ElementEvent::kTerminated:
      return "terminated";
  }
  return "unknown";
}

std::optional<ElementState> next(ElementState s, ElementEvent e) noexcept {
  return table().next(s, e);
}

}  // namespace ordo::runtime
