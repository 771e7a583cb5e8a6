// The persisted records: the state of process instances, jobs, timers, subscriptions and
// buffered messages, as the runtime changes them and a Store keeps them. Records only: no
// behaviour beyond finding an element instance.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/definition.h"
#include "ordo/history.h"
#include "ordo/lifecycle.h"

namespace ordo::state {

struct Plan;  // the compiled process an instance runs (state/plan.h)

// Element instance key, unique within its process instance. 0 is the process itself.
using ElemKey = std::uint32_t;
inline constexpr ElemKey kProcessScope = 0;

enum class Role : std::uint8_t { kNormal, kMiBody, kMiInner };

struct ElementInstance {
  ElemKey key = 0;
  ElemKey parent = kProcessScope;  // the scope it runs in
  ElementIndex element = kNoIndex;
  ElementState state = ElementState::kActivating;
  Role role = Role::kNormal;
  bool has_incident = false;
  std::uint32_t tokens = 0;  // scopes: tokens inside (queued activations + live children)
  std::uint32_t loop_index = 0;  // multi-instance inner: 0-based position; body: next to start
  std::uint32_t loop_total = 0;  // multi-instance body: number of inner instances
  std::uint32_t loop_done = 0;   // multi-instance body: inner instances completed
  JobKey job = 0;                // job tasks: the open job
  InstanceId child = 0;          // call activities: the called instance
  std::int64_t activated_ms = 0;  // when it was created (0: stored before this was kept)
  std::vector<std::uint16_t> arrivals;  // joins: tokens arrived per incoming flow
  nlohmann::json vars;                  // local variables; null when none
  nlohmann::json items;                 // multi-instance body: the input collection
};

// A compensation under way, kept beside the element instance that runs it (not in it: every
// element instance would grow for what few of them do). A compensation throw event or cancel
// end event: the compensations it still has to run, one after another (Compensable keys, the
// next one last). An event subprocess started to compensate a completed subprocess: that
// subprocess's Compensable key.
struct CompensationRun {
  ElemKey owner = 0;
  ElemKey compensates = 0;
  std::vector<ElemKey> pending;
};

// A completed activity that compensation may still undo: kept from its completion until it
// is compensated, or its scope ends in a way that rules compensation out (terminated; the
// instance ends).
struct Compensable {
  ElemKey key = 0;    // the element instance that completed (keys are never reused)
  ElemKey scope = 0;  // the scope it completed in (an element instance, or kProcessScope), or
                      // the Compensable of its completed subprocess
  ElementIndex element = kNoIndex;
  bool body = false;    // a multi-instance body: its inner instances are compensated
  nlohmann::json vars;  // its local variables when it completed (the handler sees them)
  // The throw event that will run it (0: none yet): another throw passes it by, and it is
  // given back if the thrower is terminated first.
  ElemKey claimed_by = 0;
};

// Something a scope or element waits for: a timer or a message subscription.
struct Wait {
  std::uint64_t id = 0;
  ElemKey owner = 0;              // the element instance (or scope) that waits
  ElementIndex event = kNoIndex;  // the event that fires (catch, boundary, event-sub start)
  bool timer = false;
  std::int64_t due_ms = 0;  // timers
  std::string sub_key;      // subscriptions: subscription_key(name, correlation key)
};

enum class IncidentRetry : std::uint8_t { kJob, kActivate, kLeave, kNone };

struct Incident {
  IncidentKey key = 0;
  ElemKey element = 0;
  ElementIndex element_index = kNoIndex;
  JobKey job = 0;
    IncidentRetry retry = IncidentRetry::kNone;
  IncidentKind kind = IncidentKind::kUnsupported;
  std::string message;
  std::int64_t created_ms = 0;
};

struct Instance {
  InstanceId id = 0;
  std::shared_ptr<const Plan> plan;
  std::string business_key;
  InstanceState state = InstanceState::kActive;
  ElemKey next_key = 1;
  std::uint32_t tokens = 0;  // tokens at process level
  std::vector<ElementInstance> elements;  // alive, in activation order
  std::vector<Wait> waits;
  std::vector<Incident> incidents;  // open
  std::vector<Compensable> compensations;  // in order of completion
  std::vector<CompensationRun> compensation_runs;

  CompensationRun* run_of(ElemKey owner) noexcept {
    for (CompensationRun& r : compensation_runs) {
      if (r.owner == owner) return &r;
    }
    return nullptr;
  }
  nlohmann::json vars = nlohmann::json::object();
  InstanceId parent = 0;  // call activity parent
  ElemKey parent_element = 0;
  // How many call activities up its root is, once known (not stored: counted again after
  // a load).
  static constexpr std::uint32_t kDepthUnknown = ~std::uint32_t{0};
  std::uint32_t call_depth = kDepthUnknown;
  ElementIndex end_event = kNoIndex;
  std::int64_t started_ms = 0;
  std::int64_t ended_ms = 0;

  // Durable stores: the stored revision this copy was loaded at (or last written as), and
  // the transaction in which it was last checked against the store or marked touched.
  std::uint64_t rev = 0;
  std::uint64_t checked_in = 0;
  std::uint64_t touched_in = 0;
  bool incidents_changed = false;  // the incidents rows must be rewritten
  bool vars_changed = true;        // the process-level variables must be written
  // The state as last read or written: a write leaves the indexed column alone when the
  // command did not change it.
  InstanceState stored_state = InstanceState::kActive;
  ElementIndex stored_end_event = kNoIndex;  // likewise, for the counts by end event
  int stored_version = 0;  // likewise: the version column (a migration changes it)

  // `elements` is in key order: create() appends each with next_key++, erase() keeps the
  // order, and the codec refuses a stored state that is not. A multi-instance body with
  // thousands of inner instances is searched in log n, not n.
  ElementInstance* find(ElemKey key) noexcept {
    auto it = lower(key);
    return it != elements.end() && it->key == key ? &*it : nullptr;
  }
  const ElementInstance* find(ElemKey key) const noexcept {
    return const_cast<Instance*>(this)->find(key);
  }
  // Removes the element instance `key` (which must exist); its token accounting is the
  // caller's.
  void erase(ElemKey key) {
    auto it = lower(key);
    if (it != elements.end() && it->key == key) elements.erase(it);
  }
  bool finished() const noexcept {
    return state == InstanceState::kCompleted || state == InstanceState::kTerminated;
  }

 private:
  std::vector<ElementInstance>::iterator lower(ElemKey key) noexcept {
    return std::lower_bound(elements.begin(), elements.end(), key,
                            [](const ElementInstance& e, ElemKey k) { return e.key < k; });
  }

 public:
};

struct JobRecord {
  JobKey key = 0;
  InstanceId instance = 0;
  ElemKey element = 0;
  ElementIndex element_index = kNoIndex;
  JobState state = JobState::kCreated;
  int retries = 3;
  int attempt = 1;
  std::string type;
  std::string idempotency_key;
  std::string last_error;
  // Durable stores: the worker holding the job and until when (0: not locked).
  std::string lock_owner;
  std::int64_t lock_expires_ms = 0;
};

struct TimerRecord {
  InstanceId instance = 0;  // 0: a job retry backoff, or a process's timer start event
  std::uint64_t wait = 0;   // the Wait id, or the job key for a retry
  std::int32_t repetitions_left = 0;  // cycles: further firings after this one (-1: unbounded)
  std::int64_t interval_ms = 0;       // cycles
  // Timer start events: the process version and start event that fire.
  std::string process_id;
  int version = 0;
  ElementIndex start_event = kNoIndex;
};

struct Subscription {
  InstanceId instance = 0;
  std::uint64_t wait = 0;  // subscriptions are listed in the order their waits opened
};

struct BufferedMessage {
  std::uint64_t id = 0;  // durable stores: its row
  std::string name;
  std::string correlation_key;
  nlohmann::json variables;
  std::int64_t expires_ms = 0;
};

}  // namespace ordo::state
