// Several engines on one PostgreSQL schema, as several `ordo serve` nodes on one database:
// does a second node add throughput, or at least not take any away?
//
//   d=$(mktemp -d); chmod 755 $d; url=$(scripts/pg-test-server start $d)
//   ORDO_BENCH_PG_URL=$url build/bench/ordo_bench_nodes
//
// BM_NodesPostgres/threads:N: N engines (one per benchmark thread, each with its own
//   connection) on one fresh schema, each running the shipped order process for orders of
//   its own, 64 per iteration, as BM_DurableOrdersPostgres/group:64 does for one: starts,
//   payments and deliveries grouped 64 per transaction, handlers that answer at once, and
//   run_until_idle() after each step, which takes any node's jobs. Messages are kept an hour
//   (another node may still hold the job before the wait). items_per_second is the orders
//   of all nodes together.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ordo/ordo.h"

namespace {

nlohmann::json order_of(const std::string& id) {
  return {{"orderId", id},
          {"customer", {{"name", "Anna Schmidt"}, {"email", "anna@example.de"}, {"locale", "de"}}},
          {"items", {{{"sku", "SKU-1001"}, {"quantity", 2}, {"unitPrice", 249.0}}}},
          {"total", 498.0},
          {"currency", "EUR"}};
}

// Whether every order named in `keys` has completed.
bool all_completed(ordo::Engine& engine, const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    ordo::InstanceFilter f;
    f.business_key = key;
    f.state = ordo::InstanceState::kCompleted;
    auto found = engine.instances(f);
    if (!found || found->empty()) return false;
  }
  return true;
}

void BM_NodesPostgres(benchmark::State& state) {
  const char* server = std::getenv("ORDO_BENCH_PG_URL");
  if (server == nullptr || *server == '\0') {
    state.SkipWithError("set ORDO_BENCH_PG_URL (scripts/pg-test-server start DIR prints one)");
    return;
  }
  // One schema for every run with this many nodes; orders are numbered across all runs and
  // threads, so none meets another's.
  const std::string url = std::string(server) +
                          (std::string_view(server).find('?') == std::string_view::npos ? "?" : "&") +
                          "schema=nodes_" + std::to_string(::getpid()) + "_" +
                          std::to_string(state.threads());
  ordo::EngineOptions options;
  options.clock = std::make_shared<ordo::VirtualClock>(1'796'119'200'000);
  options.group_commit = 64;
  options.keep_history = false;
  auto opened = ordo::Engine::open(url, options);
  if (!opened) {
    state.SkipWithError(opened.status().to_string().c_str());
    return;
  }
  ordo::Engine& engine = **opened;
  // Every node deploys the same file: the first makes version 1, the others find it (one
  // that loses the race to make it tries again).
  bool deployed = false;
  for (int attempt = 0; attempt < 5 && !deployed; ++attempt) {
    deployed = engine.deploy_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn").is_ok();
  }
  if (!deployed) {
    state.SkipWithError("cannot deploy the order process");
    return;
  }
  engine.register_handler("erp.check-availability", [](const ordo::Job&) {
    return ordo::JobOutcome::complete({{"available", true}});
  });
  engine.set_fallback_handler([](const ordo::Job&) { return ordo::JobOutcome::complete(); });
  constexpr std::size_t kBatch = 64;
  static std::atomic<std::uint64_t> numbered{0};
  std::int64_t orders = 0;
  std::vector<std::string> last;
  for (auto _ : state) {
    std::vector<ordo::StartRequest> starts(kBatch);
    std::vector<ordo::Message> paid(kBatch), delivered(kBatch);
    last.clear();
    const std::uint64_t first = numbered.fetch_add(kBatch);
    for (std::size_t i = 0; i < kBatch; ++i) {
      const std::string key = "N-" + std::to_string(first + i);
      starts[i].process_id = "order-acceptance";
      starts[i].variables = order_of(key);
      starts[i].business_key = key;
      paid[i].name = "payment-confirmed";
      paid[i].correlation_key = key;
      paid[i].variables = {{"paymentStatus", "approved"}};
      paid[i].ttl_ms = 3'600'000;
      delivered[i].name = "order-delivered";
      delivered[i].correlation_key = key;
      delivered[i].ttl_ms = 3'600'000;
      last.push_back(key);
    }
    if (!engine.start_many(starts)) std::abort();
    (void)engine.run_until_idle();
    if (!engine.publish_many(std::move(paid))) std::abort();
    (void)engine.run_until_idle();
    if (!engine.publish_many(std::move(delivered))) std::abort();
    (void)engine.run_until_idle();
    orders += static_cast<std::int64_t>(kBatch);
  }
  // Not timed: this node's last orders are done (another node may have held a job of them).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!all_completed(engine, last) && std::chrono::steady_clock::now() < until) {
    (void)engine.run_until_idle();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!all_completed(engine, last)) state.SkipWithError("not every order completed");
  state.SetItemsProcessed(orders);
}
BENCHMARK(BM_NodesPostgres)
    ->Threads(1)
    ->Threads(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
