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

namespace {

// Sleeps up to `ms`, waking early when `stop` is set.
void pause(int ms, const std::atomic<bool>& stop) {
  for (int waited = 0; waited < ms && !stop.load(); waited += 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// One round: jobs and timers, then what the simulated world sends (`unsent`: what a failed
// round could not publish, first). How much it did.
Result<std::size_t> work_round(Engine& engine, SimulatedWorld* world, const WorkOptions& work,
                               LoopTotals& totals, const std::function<void()>& between_rounds,
                               std::vector<Publication>& unsent) {
  Result<std::size_t> done = engine.work(work);
  if (!done) return done.status();
  totals.handled += *done;
  if (between_rounds) between_rounds();
  std::size_t sent = 0;
  if (world) {
    for (Publication& p : world->take_due(engine.clock().now_ms())) unsent.push_back(std::move(p));
  }
  std::size_t i = 0;
  Status failed;
  for (; i < unsent.size(); ++i) {
    Result<MessageResult> r =
        engine.publish_message(to_message(Publication(unsent[i]), kPublicationTtlMs));
    if (!r) {
      failed = r.status();
      break;
    }
    // Publications restored from the effects log were mostly published by an earlier run.
    if (!r->duplicate) ++sent;
  }
  // What was not published waits for the next round: it is not lost with this one.
  unsent.erase(unsent.begin(), unsent.begin() + static_cast<std::ptrdiff_t>(i));
  totals.published += sent;
  if (!failed.is_ok()) return failed;
  return *done + sent;
}

}  // namespace

Result<LoopTotals> work_loop(Engine& engine, SimulatedWorld* world, WorkOptions work,
                             bool until_idle, const std::atomic<bool>& stop,
                             const std::function<void()>& between_rounds,
                             const StoreTrouble& trouble) {
  work.until_idle = true;  // this loop waits itself, to publish what the world sends meanwhile
  work.stop = &stop;
  LoopTotals totals;
  std::vector<Publication> unsent;
  int backoff_ms = 0;  // while the store fails
  while (!stop.load()) {
    Result<std::size_t> did = work_round(engine, world, work, totals, between_rounds, unsent);
    if (!did) {
      if (!trouble) return did.status();
      trouble(did.status());
      backoff_ms = backoff_ms == 0 ? 100 : std::min(2 * backoff_ms, 10'000);
      pause(backoff_ms, stop);
      continue;
    }
    if (backoff_ms != 0) {
      backoff_ms = 0;
      trouble(Status::ok());
    }
    if (*did > 0) continue;
    if (until_idle) break;
    pause(kIdlePollMs, stop);
  }
  return totals;
}

}  // namespace ordo::cli
