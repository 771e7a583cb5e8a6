// Shared by the three lifecycle .cc files, and only by them: it includes Boost.MSM, which is
// slow to compile.
//
// Each lifecycle is a Boost.MSM front end (`LifecycleMachine` below) whose states carry the
// public enum value they stand for (`static constexpr State kState`) and whose events carry the
// runtime enum value they stand for (`static constexpr Event kEvent`). `explore()` runs the
// machine once through every reachable state and records, for each (state, event), where it
// leads; the runtime then keeps one byte per state and never a machine per entity.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>

#include <boost/mpl/for_each.hpp>
#include <boost/mpl/size.hpp>
#include <boost/msm/back/metafunctions.hpp>
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/common.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>

namespace ordo::runtime::lifecycle {

namespace msm = boost::msm;
namespace msmf = boost::msm::front;

// The front-end base of every lifecycle. Events are processed one at a time by the caller, so
// no message queue; nothing throws, so no exception handling.
// A state of a lifecycle, tagged with the public enum value it stands for.
template <auto Value>
struct State : msmf::state<> {
  static constexpr auto kState = Value;
};

// An event of a lifecycle, tagged with the runtime enum value it stands for.
template <auto Value>
struct Event {
  static constexpr auto kEvent = Value;
};

template <class Derived>
struct LifecycleMachine : msmf::state_machine_def<Derived> {
  typedef int no_message_queue;
  typedef int no_exception_thrown;

  // Set when the table has no row for the event in the current state. MSM's default asserts;
  // here a refused event is an answer ("not allowed"), which the runtime turns into an incident.
  bool rejected = false;

  template <class Fsm, class Event>
  void no_transition(const Event& /*event*/, Fsm& /*fsm*/, int /*state*/) {
    rejected = true;
  }
};

// (state, event) -> next state, one byte per cell.
template <class State, class Event, std::size_t kStates, std::size_t kEvents>
class DenseTable {
 public:
  static constexpr std::uint8_t kNotAllowed = 0xFF;
  static_assert(kStates < kNotAllowed);

  DenseTable() {
    for (auto& row : cells_) row.fill(kNotAllowed);
  }

  std::optional<State> next(State s, Event e) const noexcept {
    const auto si = static_cast<std::size_t>(s);
    const auto ei = static_cast<std::size_t>(e);
    // A byte read back from a store may hold anything.
    if (si >= kStates || ei >= kEvents) return std::nullopt;
    const std::uint8_t n = cells_[si][ei];
    if (n == kNotAllowed) return std::nullopt;
    return static_cast<State>(n);
  }

  void set(State s, Event e, State to) {
    cells_[static_cast<std::size_t>(s)][static_cast<std::size_t>(e)] =
        static_cast<std::uint8_t>(to);
  }

 private:
  std::array<std::array<std::uint8_t, kEvents>, kStates> cells_;
};

[[noreturn]] inline void broken_table(std::string_view lifecycle, std::string_view what) {
  // Only an edit of a transition table can get here, and the lifecycle tests catch it first.
  std::fprintf(stderr, "ordo: the %.*s lifecycle table is broken: %.*s\n",
               static_cast<int>(lifecycle.size()), lifecycle.data(), static_cast<int>(what.size()),
               what.data());
  std::abort();
}

// Builds the dense table of back-end machine `Machine` (msm::back::state_machine<Front>), whose
// states map one-to-one onto `State` (kStates values) and whose events are `Events...`, one per
// value of their enum, in any order. The machine has no guards and no data besides its state,
// so what an event does depends only on the current state: exploring each state once, from a
// copy of the machine that reached it, covers every transition.
template <class Machine, class State, std::size_t kStates, class... Events>
auto explore(std::string_view lifecycle) {
  using Event =
      std::remove_const_t<decltype(std::tuple_element_t<0, std::tuple<Events...>>::kEvent)>;
  constexpr std::size_t kEvents = sizeof...(Events);
  using Table = DenseTable<State, Event, kStates, kEvents>;
  using Stt = typename Machine::stt;
  using StateSet = typename msm::back::generate_state_set<Stt>::type;
  constexpr std::size_t kIds = boost::mpl::size<StateSet>::value;
  static_assert(kIds == kStates, "one MSM state per enum value");

  // MSM state id -> public state.
  std::array<std::optional<State>, kIds> by_id{};
  std::array<bool, kStates> named{};
  boost::mpl::for_each<StateSet, msm::wrap<boost::mpl::placeholders::_1>>(
      [&]<class S>(msm::wrap<S>) {
        constexpr int id = msm::back::get_state_id<Stt, S>::value;
        const auto index = static_cast<std::size_t>(S::kState);
        if (index >= kStates || named[index]) broken_table(lifecycle, "two states, one enum value");
        named[index] = true;
        by_id[static_cast<std::size_t>(id)] = S::kState;
      });
  auto state_of = [&](const Machine& m) {
    return *by_id[static_cast<std::size_t>(m.current_state()[0])];
  };

  Table table;  // every cell "not allowed" until a transition is seen
  // Machines are copied by assignment onto a default-constructed one. The back end's copy
  // constructor loses to its perfect-forwarding constructor (meant for passing arguments to the
  // front end) for any source but a const lvalue, and that "copy" silently starts over in the
  // initial state; and GCC cannot see that the copy constructor always sets the current state
  // (-Wmaybe-uninitialized). Every copy is checked all the same.
  auto copy = [&](Machine& to, const Machine& from) {
    to = from;
    if (state_of(to) != state_of(from)) broken_table(lifecycle, "a copied machine lost its state");
  };

  std::array<bool, kStates> reached{};
  std::array<bool, kEvents> seen_event{};
  std::deque<Machine> found;  // one machine per reached state; references stay valid
  found.emplace_back();
  found.back().start();
  reached[static_cast<std::size_t>(state_of(found.back()))] = true;
  for (std::size_t i = 0; i < found.size(); ++i) {
    const Machine& from = found[i];
    const State s = state_of(from);
    auto try_event = [&]<class E>(E event) {
      seen_event[static_cast<std::size_t>(E::kEvent)] = true;
      Machine m;
      copy(m, from);
      m.rejected = false;
      m.process_event(event);
      if (m.rejected) return;
      const State to = state_of(m);
      table.set(s, E::kEvent, to);
      if (!reached[static_cast<std::size_t>(to)]) {
        reached[static_cast<std::size_t>(to)] = true;
        found.push_back(std::as_const(m));
        if (state_of(found.back()) != to)
          broken_table(lifecycle, "a copied machine lost its state");
      }
    };
    (try_event(Events{}), ...);
  }
  for (bool r : reached) {
    if (!r) broken_table(lifecycle, "a state is unreachable");
  }
  for (bool e : seen_event) {
    if (!e) broken_table(lifecycle, "two events, one enum value");
  }
  return table;
}

}  // namespace ordo::runtime::lifecycle
