// The worker loop `ordo worker` and `ordo serve` share: jobs and timers through
// Engine::work, and (when simulating) the messages the simulated world sends meanwhile; and
// stopping on SIGINT/SIGTERM.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>

#include "ordo/engine.h"
#include "ordo/sim/simulation.h"

namespace ordo::cli {

// Set by SIGINT and SIGTERM once install_stop_handlers() ran.
std::atomic<bool>& stop_flag();
void install_stop_handlers();

struct LoopTotals {
  std::size_t handled = 0;    // jobs and timers
  std::size_t published = 0;  // messages the simulated world published
};

// Told of each store error the loop backs off from (and of Status::ok() once a round
// succeeds again).
using StoreTrouble = std::function<void(const Status&)>;

// Works until `stop`, or (until_idle) until nothing is left to do now. `world`: the simulated
// world whose messages are published when due (null: nothing is simulated). `between_rounds`
// runs on this thread after each round of work (null: nothing). Errors: the database failed.
// With `trouble`, a store error does not end the loop: it is reported there, and the loop
// backs off (a tenth of a second, doubling up to ten seconds) and tries again, until `stop`.
Result<LoopTotals> work_loop(Engine& engine, SimulatedWorld* world, WorkOptions work,
                             bool until_idle, const std::atomic<bool>& stop,
                             const std::function<void()>& between_rounds = {},
                             const StoreTrouble& trouble = {});

}  // namespace ordo::cli
