#include "work_loop.h"

#include <signal.h>

#include <chrono>
#include <thread>

namespace ordo::cli {
namespace {

// How long an idle worker waits before it looks for work again.
constexpr int kIdlePollMs = 200;
// What the simulated world publishes (payment confirmations, deliveries) waits this long
// for its instance.
constexpr std::int64_t kPublicationTtlMs = 24LL * 3'600'000;

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

void on_stop_signal(int) {
  g_stop.store(true);
}

}  // namespace

std::atomic<bool>& stop_flag() {
  return g_stop;
}

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

Result<LoopTotals> work_loop(Engine& engine, SimulatedWorld* world, WorkOptions work,
                             bool until_idle, const std::atomic<bool>& stop,
                             const std::function<void()>& between_rounds) {
  work.until_idle = true;  // this loop waits itself, to publish what the world sends meanwhile
  work.stop = &stop;
  LoopTotals totals;
  while (!stop.load()) {
    Result<std::size_t> done = engine.work(work);
    if (!done) return done.status();
    totals.handled += *done;
    if (between_rounds) between_rounds();
    std::size_t sent = 0;
    for (Publication& p : world ? world->take_due(engine.clock().now_ms())
                                : std::vector<Publication>{}) {
      Result<MessageResult> r = engine.publish_message(to_message(std::move(p), kPublicationTtlMs));
      if (!r) return r.status();
      // Publications restored from the effects log were mostly published by an earlier run.
      if (!r->duplicate) ++sent;
    }
    totals.published += sent;
    if (*done > 0 || sent > 0) continue;
    if (until_idle) break;
    for (int waited = 0; waited < kIdlePollMs && !stop.load(); waited += 10) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return totals;
}

}  // namespace ordo::cli
