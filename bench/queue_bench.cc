// RabbitMQ in: how many orders per second go from a queue to started instances of the
// shipped order process, on an SQLite file (synchronous=FULL), through the consumer
// `ordo serve` runs (adapters/queue: prefetch, a transaction per batch, ack after commit,
// the message id recorded as the inbox).
//
//   d=$(mktemp -d); url=$(scripts/rabbitmq-test-server start $d)
//   ORDO_BENCH_AMQP_URL=$url build/bench/ordo_bench_queue         (make bench does this)
//   scripts/rabbitmq-test-server stop $d
//
// BM_OutboxPublish: the event publisher draining the history of 2,000 started orders
//   (below).
// BM_QueueToStartedInstance/prefetch: each iteration puts 2,000 orders on a fresh queue
//   (not timed: published with confirms before the consumer starts), then times the
//   consumer from its start until the last order is started and acknowledged.
//   items_per_second is orders per second.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "ordo/adapters/queues.h"
#include "ordo/ordo.h"
#include "queue/amqp.h"

namespace {

using nlohmann::json;

constexpr int kOrders = 2000;

std::string shipped_process() {
  std::ifstream in(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The broker of ORDO_BENCH_AMQP_URL; null, with the benchmark skipped, without one.
const char* broker_url(benchmark::State& state) {
  const char* url = std::getenv("ORDO_BENCH_AMQP_URL");
  if (url != nullptr && *url != '\0') return url;
  state.SkipWithError("set ORDO_BENCH_AMQP_URL (scripts/rabbitmq-test-server start DIR prints one)");
  return nullptr;
}

std::string bench_db(const std::string& name) {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp ? tmp : "/tmp") + "/ordo-bench-" + name + "-" + std::to_string(::getpid()) +
         ".db";
}

void remove_db(const std::string& db) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
}

// A fresh SQLite engine (synchronous=FULL, group commit) at `db` with the shipped order
// process deployed; null, with the benchmark skipped, when it cannot be opened.
std::unique_ptr<ordo::Engine> fresh_engine(benchmark::State& state, const std::string& db,
                                           const std::string& process) {
  remove_db(db);
  ordo::EngineOptions options;
  options.group_commit = 64;
  auto engine = ordo::Engine::open(db, options);
  if (!engine) {
    state.SkipWithError(engine.status().to_string().c_str());
    return nullptr;
  }
  (void)(*engine)->deploy(ordo::load_bpmn(process, "order-acceptance.bpmn").document);
  return std::move(*engine);
}

void BM_QueueToStartedInstance(benchmark::State& state) {
  const char* url = broker_url(state);
  if (url == nullptr) return;
  const int prefetch = static_cast<int>(state.range(0));
  const std::string db = bench_db("queue");
  auto client = ordo::adapters::amqp::Connection::open(url, "ordo bench publisher");
  if (!client || !(*client)->open_channel(1) || !(*client)->confirm_select(1)) {
    state.SkipWithError("cannot publish to the broker");
    return;
  }
  const std::string process = shipped_process();
  int round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<ordo::Engine> engine = fresh_engine(state, db, process);
    if (!engine) return;
    const std::string queue =
        "bench." + std::to_string(::getpid()) + "." + std::to_string(prefetch) + "." +
        std::to_string(round++);
    json section = {{"url", url},
                    {"consumers",
                     json::array({{{"queue", queue},
                                   {"start",
                                    {{"processId", "order-acceptance"},
                                     {"businessKey", "=body.orderId"}}},
                                   {"deadLetterExchange", queue + ".dlx"},
                                   {"prefetch", prefetch},
                                   {"declare", true}}})}};
    auto consumers = ordo::QueueConsumers::create(section, "queues");
    if (!consumers) {
      state.SkipWithError(consumers.status().to_string().c_str());
      return;
    }
    // Declares the queue, then stops: the orders wait for the timed start.
    (*consumers)->start(*engine);
    while ((*consumers)->states()[0].state != "consuming") {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    (*consumers)->stop();
    ordo::adapters::amqp::Properties p;
    p.content_type = "application/json";
    for (int i = 0; i < kOrders; ++i) {
      const std::string id = "Q-" + std::to_string(round) + "-" + std::to_string(i);
      p.message_id = "order-" + id;
      const json order = {{"orderId", id},
                          {"customer", {{"name", "Anna Schmidt"}, {"email", "anna@example.de"}}},
                          {"items", {{{"sku", "SKU-1001"}, {"quantity", 2}, {"unitPrice", 249.0}}}},
                          {"total", 498.0},
                          {"currency", "EUR"},
                          {"postalCode", "01067"}};
      (void)(*client)->publish(1, "", queue, order.dump(), p, true);
    }
    if (!(*client)->wait_for_confirms(1, 60'000)) {
      state.SkipWithError("the broker did not confirm the orders");
      return;
    }
    state.ResumeTiming();
    (*consumers)->start(*engine);
    while ((*consumers)->states()[0].applied < static_cast<std::uint64_t>(kOrders)) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    state.PauseTiming();
    (*consumers)->stop();
    (void)(*client)->delete_queue(1, queue);
    (void)(*client)->delete_queue(1, queue + ".dead");
    state.ResumeTiming();
  }
  remove_db(db);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kOrders);
}
BENCHMARK(BM_QueueToStartedInstance)->Arg(64)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// BM_OutboxPublish: 2,000 orders started (not timed), then the event publisher from its
// start until it has published every order's instance-started and check-availability
// element-activated event (4,000 events, confirmed by the broker) out of the whole history
// it reads. items_per_second is events published per second: does the outbox keep up with
// the queue's starts?
void BM_OutboxPublish(benchmark::State& state) {
  const char* url = broker_url(state);
  if (url == nullptr) return;
  const std::string db = bench_db("outbox");
  auto client = ordo::adapters::amqp::Connection::open(url, "ordo bench");
  if (!client || !(*client)->open_channel(1)) {
    state.SkipWithError("cannot reach the broker");
    return;
  }
  const std::string process = shipped_process();
  int round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<ordo::Engine> engine = fresh_engine(state, db, process);
    if (!engine) return;
    std::vector<ordo::StartRequest> starts(kOrders);
    for (int i = 0; i < kOrders; ++i) {
      starts[static_cast<std::size_t>(i)].process_id = "order-acceptance";
      starts[static_cast<std::size_t>(i)].business_key = "E-" + std::to_string(i);
      starts[static_cast<std::size_t>(i)].variables = {{"orderId", "E-" + std::to_string(i)}};
    }
    (void)engine->start_many(starts);
    const std::string exchange = "bench.status." + std::to_string(::getpid()) + "." + std::to_string(round++);
    (void)(*client)->declare_exchange(1, exchange, "topic");
    (void)(*client)->declare_queue(1, exchange + ".all", {});
    (void)(*client)->bind_queue(1, exchange + ".all", exchange, "#");
    json section = {{"url", url},
                    {"events",
                     {{"exchange", exchange},
                      {"publish", json::array({{{"on", "instance-started"}},
                                               {{"on", "element-activated"},
                                                {"elements", {"check-availability"}}}})}}}};
    auto publisher = ordo::EventPublisher::create(section, "queues");
    if (!publisher || !*publisher) {
      state.SkipWithError("cannot make the publisher");
      return;
    }
    state.ResumeTiming();
    (*publisher)->start(*engine);
    while ((*publisher)->state().published < static_cast<std::uint64_t>(2 * kOrders)) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    state.PauseTiming();
    (*publisher)->stop();
    (void)(*client)->delete_queue(1, exchange + ".all");
    state.ResumeTiming();
  }
  remove_db(db);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 2 * kOrders);
}
BENCHMARK(BM_OutboxPublish)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
