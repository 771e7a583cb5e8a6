// Runtime throughput and footprint, in memory, one thread.
//
//   build/bench/ordo_bench_runtime
//
// BM_OrderAcceptance: the shipped order process from start to its "delivered" end event
//   with trivial handlers and the two messages (payment confirmed, delivered) correlated:
//   items_per_second is instances per second.
// BM_OrderAcceptanceObserved: the same, with history events built and sent to an observer.
// BM_SagaDelivered: processes/order-acceptance-saga.bpmn the same way: the completions of
//   Reserve stock and Take payment are kept for compensation until the order ends.
// BM_SagaCancelled: the saga, cancelled by the customer after the payment: an event
//   subprocess compensates (refund, then release) and confirms the cancellation.
// BM_StartOneTaskEnd: start -> one service task -> end.
// BM_WaitingInstanceMemory: heap bytes per instance waiting at a message with a ten-item
//   order, and how much of that is not the variables themselves (glibc mallinfo2).
// BM_LargeMultiInstance/B: a 100,000-item parallel multi-instance task started in batches of
//   B, then a small order: how long the start held the engine, and how many of the big
//   order's jobs ran before the small one's.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <chrono>

#include <string>

#include "ordo/ordo.h"

namespace {

nlohmann::json make_order(int items) {
  nlohmann::json order = {
      {"orderId", "A-0"},
      {"customer",
       {{"name", "Anna Schmidt"}, {"email", "anna@example.de"}, {"locale", "de"}}},
      {"total", 771.9},
      {"country", "DE"},
      {"currency", "EUR"}};
  nlohmann::json list = nlohmann::json::array();
  for (int i = 0; i < items; ++i) {
    list.push_back({{"sku", "SKU-" + std::to_string(1000 + i)},
                    {"quantity", 1 + i % 3},
                    {"unitPrice", 9.5 * (i + 1)}});
  }
  order["items"] = std::move(list);
  return order;
}

std::unique_ptr<ordo::Engine> order_engine(bool keep,
                                           const char* file = ORDO_SOURCE_DIR
                                           "/processes/order-acceptance.bpmn") {
  ordo::EngineOptions options;
  options.clock = std::make_shared<ordo::VirtualClock>(1'796'119'200'000);
  options.keep_history = false;
  options.keep_finished_instances = keep;
  auto engine = std::make_unique<ordo::Engine>(options);
  auto deployed = engine->deploy_file(file);
  if (!deployed) std::abort();
  engine->register_handler("erp.check-availability", [](const ordo::Job&) {
    return ordo::JobOutcome::complete({{"available", true}});
  });
  engine->set_fallback_handler([](const ordo::Job&) { return ordo::JobOutcome::complete(); });
  return engine;
}

struct CountingObserver : ordo::Observer {
  void on_event(const ordo::HistoryEvent&) override { ++events; }
  std::uint64_t events = 0;
};

void order_loop(benchmark::State& state, bool observed) {
  auto engine = order_engine(false);
  CountingObserver observer;
  if (observed) engine->add_observer(&observer);
  const nlohmann::json order = make_order(3);
  const nlohmann::json approved = {{"paymentStatus", "approved"}};
  std::uint64_t n = 0;
  for (auto _ : state) {
    nlohmann::json vars = order;
    std::string key = "A-" + std::to_string(++n);
    vars["orderId"] = key;
    auto id = engine->start("order-acceptance", std::move(vars), key);
    (void)engine->run_until_idle();
    (void)engine->publish_message("payment-confirmed", key, approved);
    (void)engine->run_until_idle();
    (void)engine->publish_message("order-delivered", key);
    (void)engine->run_until_idle();
    benchmark::DoNotOptimize(id);
  }
  state.SetItemsProcessed(state.iterations());
  if (observed) {
    state.counters["events_per_instance"] =
        static_cast<double>(observer.events) / static_cast<double>(state.iterations());
  }
}

void BM_OrderAcceptance(benchmark::State& state) { order_loop(state, false); }
BENCHMARK(BM_OrderAcceptance);
// The same with every history event built and handed to an observer.
void BM_OrderAcceptanceObserved(benchmark::State& state) { order_loop(state, true); }
BENCHMARK(BM_OrderAcceptanceObserved);

// The saga: delivered (cancelled false), or cancelled by the customer once paid.
void saga_loop(benchmark::State& state, bool cancelled) {
  auto engine = order_engine(false, ORDO_SOURCE_DIR "/processes/order-acceptance-saga.bpmn");
  // Its business rule task calls the shipping decision.
  if (!engine->deploy_file(ORDO_SOURCE_DIR "/processes/shipping.dmn")) {
    state.SkipWithError("processes/shipping.dmn does not deploy");
    return;
  }
  const nlohmann::json order = make_order(3);
  const nlohmann::json approved = {{"paymentStatus", "approved"}};
  std::uint64_t n = 0;
  for (auto _ : state) {
    nlohmann::json vars = order;
    std::string key = "A-" + std::to_string(++n);
    vars["orderId"] = key;
    auto id = engine->start("order-acceptance-saga", std::move(vars), key);
    (void)engine->run_until_idle();
    (void)engine->publish_message("payment-confirmed", key, approved);
    (void)engine->run_until_idle();
    (void)engine->publish_message(cancelled ? "order-cancelled" : "order-delivered", key);
    (void)engine->run_until_idle();
    benchmark::DoNotOptimize(id);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_SagaDelivered(benchmark::State& state) { saga_loop(state, false); }
BENCHMARK(BM_SagaDelivered);
void BM_SagaCancelled(benchmark::State& state) { saga_loop(state, true); }
BENCHMARK(BM_SagaCancelled);

void BM_StartOneTaskEnd(benchmark::State& state) {
  ordo::EngineOptions options;
  options.clock = std::make_shared<ordo::VirtualClock>(0);
  options.keep_history = false;
  options.keep_finished_instances = false;
  ordo::Engine engine(options);
  auto loaded = ordo::load_bpmn(R"(<?xml version="1.0"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
  <process id="one" isExecutable="true">
    <startEvent id="s"/>
    <serviceTask id="t"><extensionElements><zeebe:taskDefinition type="work"/></extensionElements></serviceTask>
    <endEvent id="e"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
  </process>
</definitions>)");
  if (!loaded.ok() || !engine.deploy(loaded.document)) std::abort();
  engine.register_handler("work", [](const ordo::Job&) { return ordo::JobOutcome::complete(); });
  for (auto _ : state) {
    auto id = engine.start("one");
    (void)engine.run_until_idle();
    benchmark::DoNotOptimize(id);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StartOneTaskEnd);

std::size_t heap_in_use() { return mallinfo2().uordblks; }

void BM_WaitingInstanceMemory(benchmark::State& state) {
  constexpr int kInstances = 20'000;
  for (auto _ : state) {
    auto engine = order_engine(true);
    const nlohmann::json order = make_order(10);
    const nlohmann::json approved = {{"paymentStatus", "approved"}};
    // The variables alone: what the same orders cost as plain JSON.
    std::size_t before = heap_in_use();
    std::vector<nlohmann::json> plain;
    plain.reserve(kInstances);
    for (int i = 0; i < kInstances; ++i) {
      nlohmann::json v = order;
      v["orderId"] = "A-" + std::to_string(i);
      v["available"] = true;
      v["paymentStatus"] = "approved";
      plain.push_back(std::move(v));
    }
    const std::size_t vars_bytes = heap_in_use() - before - plain.capacity() * sizeof(nlohmann::json);
    // The instances, each waiting for "order-delivered".
    before = heap_in_use();
    for (int i = 0; i < kInstances; ++i) {
      nlohmann::json v = order;
      std::string key = "A-" + std::to_string(i);
      v["orderId"] = key;
      (void)engine->start("order-acceptance", std::move(v), key);
      (void)engine->run_until_idle();
      (void)engine->publish_message("payment-confirmed", key, approved);
      (void)engine->run_until_idle();
    }
    const std::size_t instance_bytes = heap_in_use() - before;
        if (!engine->open_jobs()->empty()) state.SkipWithError("instances are not all waiting");
    state.counters["bytes_per_instance"] = static_cast<double>(instance_bytes) / kInstances;
    state.counters["variable_bytes_per_instance"] = static_cast<double>(vars_bytes) / kInstances;
    state.counters["beyond_variables"] =
        static_cast<double>(instance_bytes - vars_bytes) / kInstances;
  }
}
BENCHMARK(BM_WaitingInstanceMemory)->Iterations(1)->Unit(benchmark::kMillisecond);

// A parallel multi-instance service task over 100,000 items, then a one-task order, run to
// the end, with multi_instance_batch = the argument (100000: all in one command, as before
// batching). start_ms: how long the start command held the engine (every other request
// waits that long); other_after_jobs: how many of the big order's jobs were handed out
// before the small order's one.
void BM_LargeMultiInstance(benchmark::State& state) {
  constexpr int kItems = 100'000;
  nlohmann::json items = nlohmann::json::array();
  for (int i = 0; i < kItems; ++i) items.push_back(i);
  auto loaded = ordo::load_bpmn(R"(<?xml version="1.0"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
  <process id="big" isExecutable="true">
    <startEvent id="s"/>
    <serviceTask id="t"><extensionElements><zeebe:taskDefinition type="line"/></extensionElements>
      <multiInstanceLoopCharacteristics><extensionElements>
        <zeebe:loopCharacteristics inputCollection="=items" inputElement="item"/>
      </extensionElements></multiInstanceLoopCharacteristics></serviceTask>
    <endEvent id="e"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
  </process>
  <process id="small" isExecutable="true">
    <startEvent id="s2"/>
    <serviceTask id="u"><extensionElements><zeebe:taskDefinition type="order"/></extensionElements></serviceTask>
    <endEvent id="e2"/>
    <sequenceFlow id="g1" sourceRef="s2" targetRef="u"/>
    <sequenceFlow id="g2" sourceRef="u" targetRef="e2"/>
  </process>
</definitions>)");
  if (!loaded.ok()) std::abort();
  double start_ms = 0;
  double other_after = 0;
  for (auto _ : state) {
    ordo::EngineOptions options;
    options.clock = std::make_shared<ordo::VirtualClock>(0);
    options.keep_history = false;
    options.keep_finished_instances = false;
    options.max_multi_instance = kItems;
    options.multi_instance_batch = static_cast<std::uint32_t>(state.range(0));
    options.max_steps_per_command = 10'000'000;
    ordo::Engine engine(options);
    if (!engine.deploy(loaded.document)) std::abort();
    std::int64_t handled = 0;
    std::int64_t small_at = -1;
    engine.register_handler("line", [&](const ordo::Job&) {
      ++handled;
      return ordo::JobOutcome::complete();
    });
    engine.register_handler("order", [&](const ordo::Job&) {
      small_at = handled;
      return ordo::JobOutcome::complete();
    });
    const auto t0 = std::chrono::steady_clock::now();
    auto big = engine.start("big", {{"items", items}});
    start_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count();
    auto small = engine.start("small");
    if (!big || !small || !engine.run_until_idle()) std::abort();
    if (handled != kItems || small_at < 0) state.SkipWithError("not every job ran");
    other_after += static_cast<double>(small_at);
  }
  state.counters["start_ms"] = start_ms / static_cast<double>(state.iterations());
  state.counters["other_after_jobs"] = other_after / static_cast<double>(state.iterations());
}
BENCHMARK(BM_LargeMultiInstance)->Arg(1000)->Arg(100'000)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
