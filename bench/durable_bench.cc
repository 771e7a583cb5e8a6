// Durable throughput and footprint: the engine on an SQLite file.
//
//   build/bench/ordo_bench_durable                      (make bench runs it)
//   ORDO_BENCH_WAITING=1000000 build/bench/ordo_bench_durable --benchmark_filter=Waiting
//
// BM_DurableOrders/sync/group: the shipped order process from start to its "delivered" end
//   event, 64 orders per iteration, on a database file in $TMPDIR. sync 1 = synchronous=FULL,
//   0 = NORMAL; group 1 = a transaction per command, 64 = starts, messages and job outcomes
//   grouped 64 per transaction (start_many, publish_many, EngineOptions::group_commit).
//   items_per_second is orders completed per second.
// BM_WaitingInstances: ORDO_BENCH_WAITING instances (default 100,000) waiting at a message
//   in one database file; reports the engine process's resident memory after building them
//   and the latency of correlating a message to one of them (p50, p99, max), NORMAL and FULL.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "ordo/ordo.h"

namespace {

std::string temp_db(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir ? dir : "/tmp") + "/ordo-bench-" + name + "-" +
                     std::to_string(::getpid()) + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  return path;
}

void remove_db(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}

nlohmann::json make_order(const std::string& id) {
  return {{"orderId", id},
          {"customer", {{"name", "Anna Schmidt"}, {"email", "anna@example.de"}, {"locale", "de"}}},
          {"items", {{{"sku", "SKU-1001"}, {"quantity", 2}, {"unitPrice", 249.0}}}},
          {"total", 498.0},
          {"currency", "EUR"}};
}

// Orders through the engine on `location` (a file or a PostgreSQL URL), `group` per
// transaction; items are orders completed.
void run_orders(benchmark::State& state, const std::string& location, int group,
                ordo::EngineOptions options) {
  const auto kBatch = static_cast<std::size_t>(std::max(64, group));
  options.clock = std::make_shared<ordo::VirtualClock>(1'796'119'200'000);
  options.group_commit = group;
  options.keep_history = false;
  auto opened = ordo::Engine::open(location, options);
  if (!opened) {
    state.SkipWithError(opened.status().to_string().c_str());
    return;
  }
  ordo::Engine& engine = **opened;
  if (!engine.deploy_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn")) std::abort();
  engine.register_handler("erp.check-availability", [](const ordo::Job&) {
    return ordo::JobOutcome::complete({{"available", true}});
  });
  engine.set_fallback_handler([](const ordo::Job&) { return ordo::JobOutcome::complete(); });
  std::uint64_t n = 0;
  std::uint64_t completed = 0;
  for (auto _ : state) {
    std::vector<ordo::StartRequest> starts(kBatch);
    std::vector<ordo::Message> paid(kBatch), delivered(kBatch);
    for (std::size_t i = 0; i < kBatch; ++i) {
      const std::string key = "A-" + std::to_string(++n);
      starts[i].process_id = "order-acceptance";
      starts[i].variables = make_order(key);
      starts[i].business_key = key;
      paid[i].name = "payment-confirmed";
      paid[i].correlation_key = key;
      paid[i].variables = {{"paymentStatus", "approved"}};
      delivered[i].name = "order-delivered";
      delivered[i].correlation_key = key;
    }
    if (group > 1) {
      if (!engine.start_many(starts)) std::abort();
      (void)engine.run_until_idle();
      if (!engine.publish_many(std::move(paid))) std::abort();
      (void)engine.run_until_idle();
      if (!engine.publish_many(std::move(delivered))) std::abort();
      (void)engine.run_until_idle();
    } else {
      for (auto& s : starts) {
        if (!engine.start(s)) std::abort();
      }
      (void)engine.run_until_idle();
      for (auto& m : paid) (void)engine.publish_message(std::move(m));
      (void)engine.run_until_idle();
      for (auto& m : delivered) (void)engine.publish_message(std::move(m));
      (void)engine.run_until_idle();
    }
    completed += kBatch;
  }
  ordo::InstanceFilter done;
  done.state = ordo::InstanceState::kCompleted;
  done.limit = 1 << 30;
  auto finished = engine.instances(done);
  if (!finished || finished->size() != completed) {
    state.SkipWithError("not every order completed");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(completed));
}

void BM_DurableOrders(benchmark::State& state) {
  const std::string path = temp_db("orders");
  ordo::EngineOptions options;
  options.synchronous_full = state.range(0) != 0;
  run_orders(state, path, static_cast<int>(state.range(1)), options);
  remove_db(path);
}
BENCHMARK(BM_DurableOrders)
    ->ArgNames({"full", "group"})
    ->Args({1, 1})
    ->Args({1, 64})
    ->Args({0, 1})
    ->Args({0, 64})
    ->Args({1, 256})
    ->Args({0, 256})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

constexpr const char* kWaitProcess = R"(<?xml version="1.0"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
  <message id="m" name="paid"><extensionElements>
    <zeebe:subscription correlationKey="=orderId"/></extensionElements></message>
  <process id="wait" isExecutable="true">
    <startEvent id="s"/>
    <intermediateCatchEvent id="paid"><messageEventDefinition messageRef="m"/></intermediateCatchEvent>
    <endEvent id="e"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="paid"/>
    <sequenceFlow id="f2" sourceRef="paid" targetRef="e"/>
  </process>
</definitions>)";

void BM_WaitingInstances(benchmark::State& state) {
  const char* env = std::getenv("ORDO_BENCH_WAITING");
  const int total = env ? std::max(1000, std::atoi(env)) : 100'000;
  for (auto _ : state) {
    const std::string path = temp_db("waiting");
    ordo::EngineOptions options;
    options.synchronous_full = false;
    options.keep_history = false;
    auto opened = ordo::Engine::open(path, options);
    if (!opened) {
      state.SkipWithError(opened.status().to_string().c_str());
      return;
    }
    auto loaded = ordo::load_bpmn(kWaitProcess);
    if (!loaded.ok() || !(*opened)->deploy(loaded.document)) std::abort();
    const std::size_t before = resident_bytes();
    constexpr int kBatch = 2000;
    for (int first = 0; first < total; first += kBatch) {
      std::vector<ordo::StartRequest> batch;
      for (int i = first; i < std::min(total, first + kBatch); ++i) {
        ordo::StartRequest r;
        r.process_id = "wait";
        r.business_key = "A-" + std::to_string(i);
        r.variables = make_order(r.business_key);
        batch.push_back(std::move(r));
      }
      if (!(*opened)->start_many(batch)) std::abort();
    }
    state.counters["instances"] = total;
    state.counters["rss_MB_after_build"] = static_cast<double>(resident_bytes()) / 1e6;
    state.counters["rss_MB_growth"] = static_cast<double>(resident_bytes() - before) / 1e6;
    opened->reset();

    // Correlation latency on a freshly opened engine (nothing cached), NORMAL then FULL,
    // each to instances of its own (drawn without repetition).
    constexpr int kSamples = 2000;
    std::vector<int> picks(static_cast<std::size_t>(total));
    for (int i = 0; i < total; ++i) picks[static_cast<std::size_t>(i)] = i;
    std::shuffle(picks.begin(), picks.end(), std::mt19937(7));
    std::size_t next_pick = 0;
    for (bool full : {false, true}) {
      ordo::EngineOptions o;
      o.synchronous_full = full;
      o.keep_history = false;
      auto engine = ordo::Engine::open(path, o);
      if (!engine) std::abort();
      std::vector<double> us;
      for (int i = 0; i < kSamples && next_pick < picks.size(); ++i) {
        ordo::Message m;
        m.name = "paid";
        m.correlation_key = "A-" + std::to_string(picks[next_pick++]);
        const auto t0 = std::chrono::steady_clock::now();
        auto r = (*engine)->publish_message(std::move(m));
        const auto t1 = std::chrono::steady_clock::now();
        if (!r || r->instances.size() != 1) {
          state.SkipWithError("a message found no waiting instance");
          return;
        }
        us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      }
      std::sort(us.begin(), us.end());
      const std::string tag = full ? "full" : "normal";
      state.counters["correlate_us_p50_" + tag] = us[us.size() / 2];
      state.counters["correlate_us_p99_" + tag] = us[us.size() * 99 / 100];
      state.counters["correlate_us_max_" + tag] = us.back();
      state.counters["rss_MB_" + tag] = static_cast<double>(resident_bytes()) / 1e6;
    }
    remove_db(path);
  }
}
// The same on PostgreSQL (synchronous_commit as the server has it: on for
// scripts/pg-test-server), one engine: ORDO_BENCH_PG_URL names the server; each run uses a
// fresh schema.
void BM_DurableOrdersPostgres(benchmark::State& state) {
  const char* server = std::getenv("ORDO_BENCH_PG_URL");
  if (server == nullptr || *server == '\0') {
    state.SkipWithError("set ORDO_BENCH_PG_URL (scripts/pg-test-server start DIR prints one)");
    return;
  }
  static int run = 0;
  const std::string url = std::string(server) +
                          (std::string_view(server).find('?') == std::string_view::npos ? "?" : "&") +
                          "schema=bench_" + std::to_string(::getpid()) + "_" + std::to_string(++run);
  run_orders(state, url, static_cast<int>(state.range(0)), {});
}
BENCHMARK(BM_DurableOrdersPostgres)
    ->ArgNames({"group"})
    ->Arg(1)
    ->Arg(64)
    ->Arg(256)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK(BM_WaitingInstances)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
