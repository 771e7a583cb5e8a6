#include "runtime/lifecycle.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ordo {

// Readable failure messages: gtest finds these through the enums' namespace.
void PrintTo(InstanceState s, std::ostream* os) {
  *os << to_string(s);
}
void PrintTo(ElementState s, std::ostream* os) {
  *os << to_string(s);
}
void PrintTo(JobState s, std::ostream* os) {
  *os << to_string(s);
}

}  // namespace ordo

namespace ordo::runtime {
namespace {

static_assert(sizeof(InstanceState) == 1);
static_assert(sizeof(ElementState) == 1);
static_assert(sizeof(JobState) == 1);

// Value counts, written out here rather than taken from the code under test.
constexpr int kInstanceStates = 5;
constexpr int kInstanceEvents = 6;
constexpr int kElementStates = 6;
constexpr int kElementEvents = 5;
constexpr int kJobStates = 6;
constexpr int kJobEvents = 9;

template <class State, class Event>
struct Allowed {
  State from;
  Event event;
  State to;
};

// Every (state, event) pair: the expected next state where `allowed` lists the pair, nullopt
// everywhere else.
template <class State, class Event>
void expect_exactly(const std::vector<Allowed<State, Event>>& allowed, int states, int events) {
  for (int s = 0; s < states; ++s) {
    for (int e = 0; e < events; ++e) {
      const auto from = static_cast<State>(s);
      const auto event = static_cast<Event>(e);
      std::optional<State> expected;
      for (const auto& a : allowed) {
        if (a.from == from && a.event == event) expected = a.to;
      }
      EXPECT_EQ(next(from, event), expected) << to_string(from) << " + " << to_string(event);
    }
  }
}

template <class State, class Event>
void expect_accepts_nothing(State s, int events) {
  for (int e = 0; e < events; ++e) {
    EXPECT_EQ(next(s, static_cast<Event>(e)), std::nullopt)
        << to_string(s) << " + " << to_string(static_cast<Event>(e));
  }
}

// --- Process instance -------------------------------------------------------------------------

using IS = InstanceState;
using IE = InstanceEvent;

TEST(InstanceLifecycle, MatchesTheDocumentedTable) {
  expect_exactly<IS, IE>(
      {
          {IS::kActive, IE::kSuspend, IS::kSuspended},
          {IS::kActive, IE::kComplete, IS::kCompleted},
          {IS::kActive, IE::kTerminate, IS::kTerminated},
          {IS::kActive, IE::kRaiseIncident, IS::kIncident},
          {IS::kSuspended, IE::kResume, IS::kActive},
          {IS::kSuspended, IE::kTerminate, IS::kTerminated},
          {IS::kIncident, IE::kSuspend, IS::kSuspended},
          {IS::kIncident, IE::kTerminate, IS::kTerminated},
          {IS::kIncident, IE::kRaiseIncident, IS::kIncident},
          {IS::kIncident, IE::kResolveIncident, IS::kActive},
      },
      kInstanceStates, kInstanceEvents);
}

TEST(InstanceLifecycle, CompletedAndTerminatedInstancesAcceptNothing) {
  expect_accepts_nothing<IS, IE>(IS::kCompleted, kInstanceEvents);
  expect_accepts_nothing<IS, IE>(IS::kTerminated, kInstanceEvents);
}

TEST(InstanceLifecycle, SuspendedInstanceResumesAsActive) {
  EXPECT_EQ(next(IS::kActive, IE::kSuspend), IS::kSuspended);
  EXPECT_EQ(next(IS::kSuspended, IE::kResume), IS::kActive);
}

TEST(InstanceLifecycle, SuspendedInstanceMovesNothing) {
  EXPECT_EQ(next(IS::kSuspended, IE::kComplete), std::nullopt);
  EXPECT_EQ(next(IS::kSuspended, IE::kRaiseIncident), std::nullopt);
  EXPECT_EQ(next(IS::kSuspended, IE::kSuspend), std::nullopt);
}

TEST(InstanceLifecycle, SuspendedInstanceCanBeTerminated) {
  EXPECT_EQ(next(IS::kSuspended, IE::kTerminate), IS::kTerminated);
}

TEST(InstanceLifecycle, AnotherIncidentKeepsInstanceInIncident) {
  EXPECT_EQ(next(IS::kIncident, IE::kRaiseIncident), IS::kIncident);
}

TEST(InstanceLifecycle, ResolvingLastIncidentMakesInstanceActive) {
  EXPECT_EQ(next(IS::kIncident, IE::kResolveIncident), IS::kActive);
}

TEST(InstanceLifecycle, OnlyAnInstanceInIncidentCanHaveOneResolved) {
  EXPECT_EQ(next(IS::kActive, IE::kResolveIncident), std::nullopt);
  EXPECT_EQ(next(IS::kSuspended, IE::kResolveIncident), std::nullopt);
}

TEST(InstanceLifecycle, InstanceInIncidentCanBeSuspendedOrTerminatedButNotCompleted) {
  EXPECT_EQ(next(IS::kIncident, IE::kSuspend), IS::kSuspended);
  EXPECT_EQ(next(IS::kIncident, IE::kTerminate), IS::kTerminated);
  EXPECT_EQ(next(IS::kIncident, IE::kComplete), std::nullopt);
}

// --- Element instance -------------------------------------------------------------------------

using ES = ElementState;
using EE = ElementEvent;

TEST(ElementLifecycle, MatchesTheDocumentedTable) {
  expect_exactly<ES, EE>(
      {
          {ES::kActivating, EE::kActivated, ES::kActive},
          {ES::kActivating, EE::kTerminate, ES::kTerminating},
          {ES::kActive, EE::kComplete, ES::kCompleting},
          {ES::kActive, EE::kTerminate, ES::kTerminating},
          {ES::kCompleting, EE::kCompleted, ES::kCompleted},
          {ES::kCompleting, EE::kTerminate, ES::kTerminating},
          {ES::kTerminating, EE::kTerminated, ES::kTerminated},
      },
      kElementStates, kElementEvents);
}

TEST(ElementLifecycle, CompletedAndTerminatedElementsAcceptNothing) {
  expect_accepts_nothing<ES, EE>(ES::kCompleted, kElementEvents);
  expect_accepts_nothing<ES, EE>(ES::kTerminated, kElementEvents);
}

TEST(ElementLifecycle, RunsFromActivatingToCompleted) {
  std::optional<ES> s = ES::kActivating;
  for (EE e : {EE::kActivated, EE::kComplete, EE::kCompleted}) {
    ASSERT_TRUE(s.has_value());
    s = next(*s, e);
  }
  EXPECT_EQ(s, ES::kCompleted);
}

TEST(ElementLifecycle, CannotCompleteBeforeItIsActive) {
  EXPECT_EQ(next(ES::kActivating, EE::kComplete), std::nullopt);
  EXPECT_EQ(next(ES::kActivating, EE::kCompleted), std::nullopt);
  EXPECT_EQ(next(ES::kActive, EE::kCompleted), std::nullopt);
}

TEST(ElementLifecycle, CanBeTerminatedUntilItHasLeft) {
  for (ES s : {ES::kActivating, ES::kActive, ES::kCompleting}) {
    EXPECT_EQ(next(s, EE::kTerminate), ES::kTerminating) << to_string(s);
  }
}

TEST(ElementLifecycle, TerminatingElementCanOnlyFinishTerminating) {
  EXPECT_EQ(next(ES::kTerminating, EE::kTerminated), ES::kTerminated);
  EXPECT_EQ(next(ES::kTerminating, EE::kComplete), std::nullopt);
  EXPECT_EQ(next(ES::kTerminating, EE::kCompleted), std::nullopt);
  EXPECT_EQ(next(ES::kTerminating, EE::kTerminate), std::nullopt);
}

// --- Job --------------------------------------------------------------------------------------

using JS = JobState;
using JE = JobEvent;

TEST(JobLifecycle, MatchesTheDocumentedTable) {
  std::vector<Allowed<JS, JE>> allowed;
  for (JS s : {JS::kCreated, JS::kLocked}) {
    allowed.push_back({s, JE::kComplete, JS::kCompleted});
    allowed.push_back({s, JE::kThrowError, JS::kCompleted});
    allowed.push_back({s, JE::kFail, JS::kFailed});
    allowed.push_back({s, JE::kExhaust, JS::kIncident});
  }
  allowed.push_back({JS::kCreated, JE::kLock, JS::kLocked});
  allowed.push_back({JS::kLocked, JE::kUnlock, JS::kCreated});
  allowed.push_back({JS::kFailed, JE::kRetry, JS::kCreated});
  allowed.push_back({JS::kIncident, JE::kResolve, JS::kCreated});
  for (JS s : {JS::kCreated, JS::kLocked, JS::kFailed, JS::kIncident}) {
    allowed.push_back({s, JE::kCancel, JS::kCancelled});
  }
  expect_exactly(allowed, kJobStates, kJobEvents);
}

TEST(JobLifecycle, CompletedAndCancelledJobsAcceptNothing) {
  expect_accepts_nothing<JS, JE>(JS::kCompleted, kJobEvents);
  expect_accepts_nothing<JS, JE>(JS::kCancelled, kJobEvents);
}

TEST(JobLifecycle, CompletedJobCannotFailAgain) {
  EXPECT_EQ(next(JS::kCompleted, JE::kFail), std::nullopt);
  EXPECT_EQ(next(JS::kCompleted, JE::kExhaust), std::nullopt);
}

TEST(JobLifecycle, WorkerLocksThenCompletes) {
  EXPECT_EQ(next(JS::kCreated, JE::kLock), JS::kLocked);
  EXPECT_EQ(next(JS::kLocked, JE::kComplete), JS::kCompleted);
}

TEST(JobLifecycle, InProcessHandlerCompletesWithoutLocking) {
  EXPECT_EQ(next(JS::kCreated, JE::kComplete), JS::kCompleted);
}

TEST(JobLifecycle, ThrownBpmnErrorEndsTheJob) {
  EXPECT_EQ(next(JS::kLocked, JE::kThrowError), JS::kCompleted);
  EXPECT_EQ(next(JS::kCreated, JE::kThrowError), JS::kCompleted);
}

TEST(JobLifecycle, LockedJobCannotBeLockedTwice) {
  EXPECT_EQ(next(JS::kLocked, JE::kLock), std::nullopt);
}

TEST(JobLifecycle, ExpiredLockMakesTheJobAvailableAgain) {
  EXPECT_EQ(next(JS::kLocked, JE::kUnlock), JS::kCreated);
  EXPECT_EQ(next(JS::kCreated, JE::kUnlock), std::nullopt);
}

TEST(JobLifecycle, FailedJobWaitsForItsBackoffBeforeItCanBeLocked) {
  EXPECT_EQ(next(JS::kLocked, JE::kFail), JS::kFailed);
  EXPECT_EQ(next(JS::kFailed, JE::kLock), std::nullopt);
  EXPECT_EQ(next(JS::kFailed, JE::kRetry), JS::kCreated);
}

TEST(JobLifecycle, ExhaustedJobWaitsForAnOperator) {
  EXPECT_EQ(next(JS::kLocked, JE::kExhaust), JS::kIncident);
  EXPECT_EQ(next(JS::kIncident, JE::kRetry), std::nullopt);
  EXPECT_EQ(next(JS::kIncident, JE::kLock), std::nullopt);
  EXPECT_EQ(next(JS::kIncident, JE::kResolve), JS::kCreated);
}

TEST(JobLifecycle, OnlyAJobInIncidentCanBeResolved) {
  for (JS s : {JS::kCreated, JS::kLocked, JS::kFailed}) {
    EXPECT_EQ(next(s, JE::kResolve), std::nullopt) << to_string(s);
  }
}

TEST(JobLifecycle, UnfinishedJobCanBeCancelled) {
  for (JS s : {JS::kCreated, JS::kLocked, JS::kFailed, JS::kIncident}) {
    EXPECT_EQ(next(s, JE::kCancel), JS::kCancelled) << to_string(s);
  }
}

// --- All three --------------------------------------------------------------------------------

TEST(Lifecycle, StateIsOneByte) {
  EXPECT_EQ(sizeof(InstanceState), 1u);
  EXPECT_EQ(sizeof(ElementState), 1u);
  EXPECT_EQ(sizeof(JobState), 1u);
}

TEST(Lifecycle, CorruptStateOrEventIsNotAllowed) {
  // A byte read back from a store may hold any value.
  EXPECT_EQ(next(static_cast<IS>(200), IE::kResume), std::nullopt);
  EXPECT_EQ(next(IS::kActive, static_cast<IE>(200)), std::nullopt);
  EXPECT_EQ(next(static_cast<ES>(kElementStates), EE::kActivated), std::nullopt);
  EXPECT_EQ(next(static_cast<JS>(255), JE::kCancel), std::nullopt);
  EXPECT_EQ(next(JS::kCreated, static_cast<JE>(kJobEvents)), std::nullopt);
}

template <class Enum>
std::vector<std::string> names(int count) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) out.emplace_back(to_string(static_cast<Enum>(i)));
  return out;
}

TEST(Lifecycle, EveryStateAndEventHasItsOwnName) {
  const std::vector<std::vector<std::string>> all = {
      names<IS>(kInstanceStates), names<IE>(kInstanceEvents), names<ES>(kElementStates),
      names<EE>(kElementEvents),  names<JS>(kJobStates),      names<JE>(kJobEvents),
  };
  for (const auto& list : all) {
    std::set<std::string> unique(list.begin(), list.end());
    EXPECT_EQ(unique.size(), list.size());
    EXPECT_EQ(unique.count("unknown"), 0u);
  }
}

TEST(Lifecycle, NamesAreLowercaseWords) {
  EXPECT_EQ(to_string(IS::kActive), "active");
  EXPECT_EQ(to_string(IS::kIncident), "incident");
  EXPECT_EQ(to_string(IE::kRaiseIncident), "raise incident");
  EXPECT_EQ(to_string(ES::kTerminating), "terminating");
  EXPECT_EQ(to_string(EE::kActivated), "activated");
  EXPECT_EQ(to_string(JS::kCancelled), "cancelled");
  EXPECT_EQ(to_string(JE::kThrowError), "throw error");
  EXPECT_EQ(to_string(static_cast<JS>(99)), "unknown");
}

// Incident kinds are stored and shown by name: every kind has one, and it reads back.
TEST(IncidentKinds, EveryKindHasANameThatReadsBack) {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(IncidentKind::kUnsupported); ++i) {
    const auto kind = static_cast<IncidentKind>(i);
    const std::string_view name = to_string(kind);
    EXPECT_NE(name, "unknown");
    EXPECT_TRUE(names.insert(name).second) << name << " is the name of two kinds";
    EXPECT_TRUE(incident_kind_from(name) == kind) << name;
  }
  EXPECT_EQ(names.count("job-no-retries"), 1u);
  EXPECT_FALSE(incident_kind_from("job-no-retry").has_value());
}

}  // namespace
}  // namespace ordo::runtime
