// One engine, many threads: commands and reads from several threads while work() runs, and
// observers that read the engine they observe. As `ordo serve` uses it.
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "runtime/harness.h"

namespace ordo::testing {
namespace {

ORDO_ON_EACH_STORE(Threads);

// start -> "charge" -> wait for "confirmed" (keyed by orderId) -> end
std::string charge_then_confirm() {
  return bpmn(message_def("m", "confirmed") +
              "<process id=\"p\" isExecutable=\"true\"><startEvent id=\"s\"/>" + svc("charge") +
              "<intermediateCatchEvent id=\"wait\"><messageEventDefinition messageRef=\"m\"/>"
              "</intermediateCatchEvent><endEvent id=\"e\"/>" +
              flow("s", "charge") + flow("charge", "wait") + flow("wait", "e") + "</process>");
}

// Checks the events arrive one at a time, in sequence order, with no gaps; reads the engine
// for each completed instance (an observer may).
class Checking final : public Observer {
 public:
  explicit Checking(Engine& engine) : engine_(engine) {}
  void on_event(const HistoryEvent& e) override {
    if (busy_.exchange(true)) ++overlaps;
    if (last_ != 0 && e.sequence != last_ + 1) ++out_of_order;
    last_ = e.sequence;
    if (e.kind == HistoryKind::kInstanceCompleted) {
      Result<InstanceInfo> read = engine_.instance(e.instance);
      if (read && read->state == InstanceState::kCompleted) {
        std::lock_guard lock(mu_);
        completed_.insert(e.instance);
      } else {
        ++bad_reads;
      }
    }
    busy_.store(false);
  }
  std::size_t completed() {
    std::lock_guard lock(mu_);
    return completed_.size();
  }
  std::atomic<int> overlaps{0}, out_of_order{0}, bad_reads{0};

 private:
  Engine& engine_;
  std::atomic<bool> busy_{false};
  std::uint64_t last_ = 0;
  std::mutex mu_;
  std::set<InstanceId> completed_;
};

TEST_P(Threads, CommandsAndReadsFromSeveralThreadsWhileWorkRuns) {
  Harness h;
  Engine& engine = h.engine();
  h.deploy(charge_then_confirm());
  std::atomic<int> charged{0};
  engine.register_handler("charge", [&](const Job&) {
    ++charged;
    return JobOutcome::complete({{"charged", true}});
  });
  Checking checking(engine);
  engine.add_observer(&checking);

  std::atomic<bool> stop{false};
  Status worked;
  std::thread worker([&] {
    WorkOptions work;
    work.threads = 2;
    work.poll_interval_ms = 5;
    work.until_idle = false;  // until stopped: the starts come while it runs
    work.stop = &stop;
    Result<std::size_t> done = engine.work(work);
    if (!done) worked = done.status();
  });

  constexpr int kStarters = 4;
  constexpr int kEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> starters;
  for (int t = 0; t < kStarters; ++t) {
    starters.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string order = "O-" + std::to_string(t) + "-" + std::to_string(i);
        if (!engine.start("p", {{"orderId", order}}, order)) ++failures;
        // Before or after the subscription: a buffered message waits for it.
        if (!engine.publish_message("confirmed", order, nlohmann::json::object(), 600'000)) {
          ++failures;
        }
      }
    });
  }
  std::atomic<bool> reading{true};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (reading.load()) {
      if (!engine.instances() || !engine.count_instances() || !engine.incidents() ||
          !engine.open_jobs()) {
        ++failures;
      }
      ++reads;
    }
  });
  for (auto& t : starters) t.join();

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (checking.completed() < kStarters * kEach && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop.store(true);
  worker.join();
  reading.store(false);
  reader.join();
  engine.remove_observer(&checking);

  EXPECT_TRUE(worked.is_ok()) << worked.to_string();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(charged.load(), kStarters * kEach);  // each job handled once
  EXPECT_EQ(checking.completed(), static_cast<std::size_t>(kStarters * kEach));
  EXPECT_EQ(checking.overlaps.load(), 0);
  EXPECT_EQ(checking.out_of_order.load(), 0);
  EXPECT_EQ(checking.bad_reads.load(), 0);
  InstanceFilter completed;
  completed.state = InstanceState::kCompleted;
  EXPECT_EQ(must(engine.instances(completed)).size(), static_cast<std::size_t>(kStarters * kEach));
}

TEST_P(Threads, AnObserverMayReadTheEngineItObserves) {
  Harness h;
  h.deploy(process(straight(svc("t"))));
  h.complete_all_jobs();
  struct Reading final : Observer {
    explicit Reading(Engine& e) : engine(e) {}
    void on_event(const HistoryEvent& e) override {
      if (e.kind != HistoryKind::kInstanceStarted) return;
      Result<InstanceInfo> read = engine.instance(e.instance);
      keys.push_back(read ? read->business_key : read.status().message());
    }
    Engine& engine;
    std::vector<std::string> keys;
  } reading(h.engine());
  h.engine().add_observer(&reading);
  ASSERT_TRUE(h.engine().start("p", nlohmann::json::object(), "A-7"));
  must(h.engine().run_until_idle());
  h.engine().remove_observer(&reading);
  EXPECT_EQ(reading.keys, Ids{"A-7"});
}

}  // namespace
}  // namespace ordo::testing
