// Replay throughput and footprint: a million synthetic orders (ordo gen-history, a quarter)
// through the shipped order process with the example config, as `ordo replay` runs them.
//
//   build/bench/ordo_bench_replay                          (make bench runs it)
//   ORDO_BENCH_REPLAY_ORDERS=100000 build/bench/ordo_bench_replay
//
// BM_Replay/threads/events: `threads` lanes; events 0 = KPIs and the JSON report only,
//   1 = also the CSV event log, 2 = the XES event log (in $TMPDIR). Counters: orders_per_s,
//   seconds (wall clock for the whole replay, reading the history included), and the
//   process's peak resident memory after a tenth of the orders and after all of them
//   (rss_MB_tenth, rss_MB_all): the replay's memory does not grow with the number of orders.
// BM_ReplayNotificationRules/threads/rules: below.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "ordo/adapters/adapters.h"
#include "ordo/sim/order_log_gen.h"
#include "ordo/sim/replay.h"
#include "ordo/ordo.h"

namespace {

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/ordo-bench-replay-" + std::to_string(::getpid()) +
         "-" + name;
}

std::int64_t orders_wanted() {
  const char* n = std::getenv("ORDO_BENCH_REPLAY_ORDERS");
  return n != nullptr ? std::atoll(n) : 1'000'000;
}

// The history files, made once: all the orders, and the first tenth of them.
const std::string& history(bool tenth) {
  static const std::string all = [] {
    const std::string path = temp_path("history.csv");
    std::ofstream out(path, std::ios::binary);
    ordo::OrderLogGenOptions o;
    o.orders = orders_wanted();
    o.seed = 7;
    (void)ordo::write_synthetic_order_log(out, o);
    return path;
  }();
  static const std::string first = [] {
    const std::string path = temp_path("history-tenth.csv");
    std::ifstream in(all, std::ios::binary);
    std::ofstream out(path, std::ios::binary);
    std::string line;
    for (std::int64_t i = 0; i <= orders_wanted() / 10 && std::getline(in, line); ++i) {
      out << line << '\n';
    }
    return path;
  }();
  return tenth ? first : all;
}

double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      double kb = 0;
      status >> kb;
      return kb / 1024.0;
    }
    status.ignore(1 << 20, '\n');
  }
  return 0;
}

ordo::ReplayOptions options(int threads, int events, bool tenth) {
  ordo::ReplayOptions o;
  o.processes = {ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn"};
  o.order_log = history(tenth);
  o.config_path = ORDO_SOURCE_DIR "/examples/order-log/replay.json";
  o.threads = threads;
  if (events == 1) o.events_path = temp_path("events.csv");
  if (events == 2) o.events_path = temp_path("events.xes");
  return o;
}

void BM_Replay(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const int events = static_cast<int>(state.range(1));
  (void)history(false);
  (void)history(true);
  double seconds = 0, tenth_rss = 0, all_rss = 0;
  std::int64_t orders = 0;
  for (auto _ : state) {
    auto small = ordo::replay(options(threads, events, true));
    if (!small) {
      state.SkipWithError(small.status().message().c_str());
      return;
    }
    tenth_rss = peak_rss_mb();
    const auto began = std::chrono::steady_clock::now();
    auto r = ordo::replay(options(threads, events, false));
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    if (!r) {
      state.SkipWithError(r.status().message().c_str());
      return;
    }
    all_rss = peak_rss_mb();
    orders = r->report["records"]["replayed"].get<std::int64_t>();
    benchmark::DoNotOptimize(r->report);
  }
  state.counters["orders"] = static_cast<double>(orders);
  state.counters["seconds"] = seconds;
  state.counters["orders_per_s"] = seconds > 0 ? static_cast<double>(orders) / seconds : 0;
  state.counters["rss_MB_tenth"] = tenth_rss;
  state.counters["rss_MB_all"] = all_rss;
  for (const char* f : {"events.csv", "events.xes"}) std::remove(temp_path(f).c_str());
}
BENCHMARK(BM_Replay)
    ->ArgNames({"threads", "events"})
    ->Args({2, 0})
    ->Args({2, 1})
    ->Args({1, 0})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

// The notification rules in the replay (ordo replay --notifications): the example of
// examples/notification-rules over the first tenth of the orders (100,000 by default), with
// the config's counting (rules 0) and with the rules of its ordo.json (rules 1): segments,
// an experiment, caps and quiet hours, each lane with its delivery log in memory.
void BM_ReplayNotificationRules(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const bool rules = state.range(1) != 0;
  ordo::ReplayOptions o;
  o.processes = {ORDO_SOURCE_DIR "/examples/notification-rules/order-notifications.bpmn"};
  o.order_log = history(true);
  o.config_path = ORDO_SOURCE_DIR "/examples/notification-rules/replay.json";
  o.threads = threads;
  if (rules) {
    auto loaded =
        ordo::load_notification_rehearsal(ORDO_SOURCE_DIR "/examples/notification-rules/ordo.json");
    if (!loaded) {
      state.SkipWithError(loaded.status().message().c_str());
      return;
    }
    o.notifications = {loaded->for_replay()};
  }
  double seconds = 0;
  std::int64_t orders = 0, sent = 0;
  for (auto _ : state) {
    const auto began = std::chrono::steady_clock::now();
    auto r = ordo::replay(o);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    if (!r) {
      state.SkipWithError(r.status().message().c_str());
      return;
    }
    orders = r->report["records"]["replayed"].get<std::int64_t>();
    sent = r->report["variants"][0]["notifications"]["total"].get<std::int64_t>();
  }
  state.counters["orders"] = static_cast<double>(orders);
  state.counters["messages"] = static_cast<double>(sent);
  state.counters["seconds"] = seconds;
  state.counters["orders_per_s"] = seconds > 0 ? static_cast<double>(orders) / seconds : 0;
  state.counters["rss_MB_peak"] = peak_rss_mb();
}
BENCHMARK(BM_ReplayNotificationRules)
    ->ArgNames({"threads", "rules"})
    ->Args({2, 0})
    ->Args({2, 1})
    ->Args({1, 1})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::remove(temp_path("history.csv").c_str());
  std::remove(temp_path("history-tenth.csv").c_str());
  return 0;
}
