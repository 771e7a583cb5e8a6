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
struct Activated {
  static constexpr ElementEvent kEvent = ElementEvent::kActivated;
};
struct Complete {
  static constexpr ElementEvent kEvent = ElementEvent::kComplete;
};
struct Completed {
  static constexpr ElementEvent kEvent = ElementEvent::kCompleted;
};
struct Terminate {
  static constexpr ElementEvent kEvent = ElementEvent::kTerminate;
};
struct Terminated {
  static constexpr ElementEvent kEvent = ElementEvent::kTerminated;
};
}  // namespace ev

struct ElementMachine : lifecycle::LifecycleMachine<ElementMachine> {
  struct Activating : lifecycle::msmf::state<> {
    static constexpr ElementState kState = ElementState::kActivating;
  };
  struct Active : lifecycle::msmf::state<> {
    static constexpr ElementState kState = ElementState::kActive;
  };
  struct Completing : lifecycle::msmf::state<> {
    static constexpr ElementState kState = ElementState::kCompleting;
  };
  struct Completed : lifecycle::msmf::state<> {
    static constexpr ElementState kState = ElementState::kCompleted;
  };
  struct Terminating : lifecycle::msmf::state<> {
    static constexpr ElementState kState = ElementState::kTerminating;
  };
  struct Terminated : lifecycle::msmf::state<> {
    static constexpr ElementState kState = ElementState::kTerminated;
  };

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
