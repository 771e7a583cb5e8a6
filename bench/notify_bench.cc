// Notifications: rendering a message (view + Mustache), and a whole notify.send job through
// the Notifier (channel choice, delivery log reserve and record, render, an SMS POST to a
// gateway on loopback). Run: build/bench/ordo_bench_notify
#include <benchmark/benchmark.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "ordo/adapters/notifications.h"

namespace {

using nlohmann::json;

json order_vars(int i) {
  return {{"orderId", "B-" + std::to_string(i)},
          {"customer",
           {{"id", "C-" + std::to_string(i)},
            {"name", "Jörg Müller"},
            {"lastName", "Müller"},
            {"salutation", "mr"},
            {"email", "j@example.de"},
            {"phone", "+49 151 2345 6789"},
            {"locale", "de"}}},
          {"items",
           {{{"sku", "SKU-1"}, {"name", "Espresso machine"}, {"quantity", 2}, {"unitPrice", 249.0}},
            {{"sku", "SKU-2"}, {"name", "Cutting board"}, {"quantity", 1}, {"unitPrice", 24.9}}}},
          {"total", 522.9},
          {"currency", "EUR"},
          {"trackingNumber", "0034043416"},
          {"carrier", "DHL"},
          {"trackingUrl", "https://track.example/0034043416"}};
}

void BM_RenderConfirmationEmail(benchmark::State& state) {
  auto t = ordo::NotificationTemplates::load(ORDO_SOURCE_DIR "/processes/templates");
  if (!t) {
    state.SkipWithError(t.status().message().c_str());
    return;
  }
  const json vars = order_vars(1);
  const json shop = {{"name", "Ordo Shop"}, {"url", "https://shop.example"}};
  for (auto _ : state) {
    auto r = t->render("order-confirmation", "email", "de", t->view(vars, "B-1", "de", shop));
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RenderConfirmationEmail)->Unit(benchmark::kMicrosecond);

class BenchJob final : public ordo::Job {
 public:
  BenchJob(json vars, std::string order) : vars_(std::move(vars)), order_(std::move(order)) {}
  ordo::JobKey key() const noexcept override { return 1; }
  ordo::InstanceId instance() const noexcept override { return 1; }
  std::string_view type() const noexcept override { return "notify.send"; }
  std::string_view process_id() const noexcept override { return "order-acceptance"; }
  std::string_view element_id() const noexcept override { return "notify-shipped"; }
  std::string_view business_key() const noexcept override { return order_; }
  std::string_view idempotency_key() const noexcept override { return order_; }
  int attempt() const noexcept override { return 1; }
  int retries_left() const noexcept override { return 3; }
  std::int64_t now_ms() const noexcept override { return 1'796'119'200'000; }
  std::span<const ordo::TaskHeader> headers() const noexcept override { return headers_; }
  const json* variable(std::string_view name) const override {
    auto it = vars_.find(name);
    return it == vars_.end() ? nullptr : &*it;
  }
  json variables() const override { return vars_; }

 private:
  json vars_;
  std::string order_;
  std::vector<ordo::TaskHeader> headers_ = {{"template", "order-shipped"}, {"channel", "sms"}};
};

// The same job (state.range(0) == 1) with a segment on the instance whose rules apply, and
// the message in an A/B experiment: the variant by the hash, recorded in the reservation's
// transaction, and the variant's template rendered.
void BM_NotifySmsJob(benchmark::State& state) {
  httplib::Server gateway;
  std::atomic<int> n{0};
  gateway.Post("/sms", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"id\": \"s-" + std::to_string(++n) + "\"}", "application/json");
  });
  const int port = gateway.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { gateway.listen_after_bind(); });
  while (!gateway.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string dir = std::filesystem::temp_directory_path() / "ordo-bench-notify";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  json settings = {
      {"templates", ORDO_SOURCE_DIR "/processes/templates"},
      {"deliveryLog", dir + "/deliveries.db"},
      {"channels", {{"sms", {{"url", "http://127.0.0.1:" + std::to_string(port) + "/sms"}}}}}};
  const bool engaged = state.range(0) == 1;
  if (engaged) {
    settings["segments"] = {
        {"bySegment", {{"occasional", {{"rules", {{"order-shipped", {"sms"}}}}}}}}};
    settings["experiments"] = {
        {"shipped-copy",
         {{"message", "order-shipped"},
          {"variants", {{"control", "order-shipped"}, {"short", "order-shipped-short"}}}}}};
  }
  auto notifier = ordo::Notifier::create(settings, "");
  if (!notifier) {
    state.SkipWithError(notifier.status().message().c_str());
  } else {
    int i = 0;
    for (auto _ : state) {
      const std::string order = "B-" + std::to_string(++i);
      json vars = order_vars(i);
      if (engaged) vars["segment"] = "occasional";
      BenchJob job(std::move(vars), order);
      auto outcome = (*notifier)->handle(job);
      if (outcome.kind() != ordo::JobOutcome::Kind::kComplete) {
        state.SkipWithError(outcome.message().c_str());
        break;
      }
    }
    state.SetItemsProcessed(state.iterations());
  }
  gateway.stop();
  serving.join();
}
// Arg 0: as before; 1: with a segment's rules and an A/B experiment. Run side by side,
// interleaved (whichever runs first is favoured on this machine):
// build/bench/ordo_bench_notify --benchmark_filter=NotifySms --benchmark_repetitions=10
//   --benchmark_enable_random_interleaving=true
BENCHMARK(BM_NotifySmsJob)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
