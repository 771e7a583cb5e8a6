// Several engines on one PostgreSQL schema, as several `ordo serve` nodes on one database:
// what one node does at the same moment as another must not reach the caller as an error,
// nor happen twice.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "must.h"
#include "ordo/engine.h"
#include "ordo/loader.h"
#include "store/pg_server.h"
#include "store/postgres/pq.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

class PgNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    server_ = PgTestServer::url(why);
    ASSERT_FALSE(server_.empty()) << why;
    schema_ = "nodes_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::transform(schema_.begin(), schema_.end(), schema_.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    schema_ = schema_.substr(0, 60);
  }
  void TearDown() override {
    if (server_.empty()) return;
    if (auto c = store::pg::Connection::open(server_)) {
      (void)c->exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    }
  }
  std::unique_ptr<Engine> node(std::shared_ptr<VirtualClock> clock = nullptr) {
    const std::string url =
        server_ + (server_.find('?') == std::string::npos ? "?" : "&") + "schema=" + schema_;
    EngineOptions options;
    if (clock) options.clock = std::move(clock);
    auto e = Engine::open(url, options);
    EXPECT_TRUE(e.is_ok()) << e.status().to_string();
    return e.is_ok() ? std::move(*e) : nullptr;
  }

  // Process "p": an instance waits in a user task.
  void deploy_waiting(Engine& e) {
    LoadResult r =
        load_bpmn(process("<startEvent id=\"s\"/><userTask id=\"wait\"/><endEvent id=\"e\"/>"
                          "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"wait\"/>"
                          "<sequenceFlow id=\"f2\" sourceRef=\"wait\" targetRef=\"e\"/>"),
                  "p.bpmn");
    ASSERT_TRUE(r.ok()) << dump(r);
    ASSERT_TRUE(e.deploy(r.document).is_ok());
  }

  std::string server_;
  std::string schema_;
};

// Two nodes, two threads each, start the same 80 business keys in different orders, and
// publish the same 80 message ids: every call succeeds, each key has one instance (every
// start of it answers with that one), each message id is taken once and the others are told
// it was a duplicate.
TEST_F(PgNodes, RacesForOneBusinessKeyOrMessageIdNeverReachTheCaller) {
  auto a = node();
  auto b = node();
  ASSERT_TRUE(a && b);
  ASSERT_NO_FATAL_FAILURE(deploy_waiting(*a));
  constexpr int kKeys = 80;
  std::mutex mu;
  std::map<std::string, std::set<InstanceId>> started;  // key -> the ids the starts answered
  std::map<std::string, int> taken;                      // message id -> non-duplicate answers
  std::vector<std::string> errors;
  auto run = [&](Engine& e, unsigned seed) {
    std::vector<int> order(kKeys);
    for (int i = 0; i < kKeys; ++i) order[static_cast<std::size_t>(i)] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(seed));
    for (int i : order) {
      const std::string key = "K-" + std::to_string(i);
      auto s = e.start("p", {}, key);
      Message m;
      m.name = "note";
      m.correlation_key = key;
      m.ttl_ms = 60'000;
      m.message_id = "M-" + std::to_string(i);
      auto p = e.publish_message(m);
      std::lock_guard lock(mu);
      if (!s) errors.push_back("start " + key + ": " + s.status().to_string());
      if (s) started[key].insert(s->id);
      if (!p) errors.push_back("publish " + m.message_id + ": " + p.status().to_string());
      if (p && !p->duplicate) ++taken[m.message_id];
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(run, std::ref(*a), 1u);
  threads.emplace_back(run, std::ref(*a), 2u);
  threads.emplace_back(run, std::ref(*b), 3u);
  threads.emplace_back(run, std::ref(*b), 4u);
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(errors.empty()) << errors.size() << " errors, the first: " << errors.front();
  ASSERT_EQ(started.size(), static_cast<std::size_t>(kKeys));
  for (const auto& [key, ids] : started) EXPECT_EQ(ids.size(), 1u) << key;
  InstanceFilter all;
  all.limit = 1000;
  EXPECT_EQ(must(a->instances(all)).size(), static_cast<std::size_t>(kKeys));
  ASSERT_EQ(taken.size(), static_cast<std::size_t>(kKeys));
  for (const auto& [id, count] : taken) EXPECT_EQ(count, 1) << id;
}

// start_many looks its business keys up at once: a key started before (on another node),
// one repeated within the batch, and keys two nodes start in overlapping batches at the
// same moment each have one instance, and every answer names it.
TEST_F(PgNodes, StartManyFindsEveryBusinessKeyTakenBeforeWithinOrElsewhere) {
  auto a = node();
  auto b = node();
  ASSERT_TRUE(a && b);
  ASSERT_NO_FATAL_FAILURE(deploy_waiting(*a));
  const InstanceId before = must(a->start("p", {}, "X-1")).id;
  std::vector<StartRequest> batch(4);
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].process_id = "p";
  batch[0].business_key = "X-1";
  batch[1].business_key = "X-2";
  batch[2].business_key = "X-2";
  batch[3].business_key = "X-3";
  std::vector<StartResult> got = must(b->start_many(batch));
  ASSERT_EQ(got.size(), 4u);
  EXPECT_FALSE(got[0].created);
  EXPECT_EQ(got[0].id, before) << "started before, on the other node";
  EXPECT_TRUE(got[1].created);
  EXPECT_FALSE(got[2].created);
  EXPECT_EQ(got[2].id, got[1].id) << "repeated within the batch";
  EXPECT_TRUE(got[3].created);

  // Overlapping batches on both nodes at once.
  constexpr int kKeys = 60;
  std::mutex mu;
  std::map<std::string, std::set<InstanceId>> answered;
  std::vector<std::string> errors;
  auto run = [&](Engine& e, int first) {
    for (int round = 0; round < 3; ++round) {
      std::vector<StartRequest> requests;
      for (int i = first + round * 10; i < first + round * 10 + 30 && i < kKeys; ++i) {
        StartRequest req;
        req.process_id = "p";
        req.business_key = "Y-" + std::to_string(i);
        requests.push_back(std::move(req));
      }
      auto started = e.start_many(requests);
      std::lock_guard lock(mu);
      if (!started) {
        errors.push_back(started.status().to_string());
        continue;
      }
      for (std::size_t i = 0; i < requests.size(); ++i) {
        answered[requests[i].business_key].insert((*started)[i].id);
      }
    }
  };
  std::thread on_a(run, std::ref(*a), 0);
  std::thread on_b(run, std::ref(*b), 15);
  on_a.join();
  on_b.join();
  EXPECT_TRUE(errors.empty()) << errors.size() << " errors, the first: " << errors.front();
  for (const auto& [key, ids] : answered) EXPECT_EQ(ids.size(), 1u) << key;
  InstanceFilter all;
  all.limit = 1000;
  EXPECT_EQ(must(a->instances(all)).size(), 3u + answered.size());
}

// publish_many reads the subscriptions of its messages at once: each message goes where it
// would one by one, also to a subscription opened by an earlier message of the batch, and
// two nodes publishing overlapping batches at the same moment deliver each once.
TEST_F(PgNodes, PublishManyDeliversEachMessageOnceAsOneByOne) {
  auto a = node();
  ASSERT_NE(a, nullptr);
  LoadResult r = load_bpmn(
      bpmn("<message id=\"mp\" name=\"paid\"><extensionElements><zeebe:subscription "
           "correlationKey=\"=orderId\"/></extensionElements></message>"
           "<message id=\"ms\" name=\"shipped\"><extensionElements><zeebe:subscription "
           "correlationKey=\"=orderId\"/></extensionElements></message>"
           "<process id=\"p\" isExecutable=\"true\"><startEvent id=\"s\"/>"
           "<intermediateCatchEvent id=\"paid\"><messageEventDefinition messageRef=\"mp\"/>"
           "</intermediateCatchEvent>"
           "<intermediateCatchEvent id=\"shipped\"><messageEventDefinition messageRef=\"ms\"/>"
           "</intermediateCatchEvent><endEvent id=\"e\"/>"
           "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"paid\"/>"
           "<sequenceFlow id=\"f2\" sourceRef=\"paid\" targetRef=\"shipped\"/>"
           "<sequenceFlow id=\"f3\" sourceRef=\"shipped\" targetRef=\"e\"/></process>"),
      "p.bpmn");
  ASSERT_TRUE(r.ok()) << dump(r);
  ASSERT_TRUE(a->deploy(r.document).is_ok());
  auto b = node();
  ASSERT_NE(b, nullptr);
  std::map<std::string, InstanceId> ids;
  for (int i = 0; i < 20; ++i) {
    const std::string key = "K-" + std::to_string(i);
    ids[key] = must(a->start("p", {{"orderId", key}}, key)).id;
  }
  auto message = [](const char* name, const std::string& key, std::int64_t ttl = 0) {
    Message m;
    m.name = name;
    m.correlation_key = key;
    m.ttl_ms = ttl;
    return m;
  };
  std::vector<Message> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(message("paid", "K-" + std::to_string(i)));
  batch.push_back(message("paid", "K-0"));     // K-0 waits for "shipped" by now
  batch.push_back(message("shipped", "K-0"));  // opened by the first "paid" of the batch
  batch.push_back(message("paid", "K-50", 60'000));
  std::vector<MessageResult> got = must(b->publish_many(batch));
  ASSERT_EQ(got.size(), batch.size());
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(got[static_cast<std::size_t>(i)].instances,
              std::vector<InstanceId>{ids["K-" + std::to_string(i)]})
        << i;
  }
  EXPECT_TRUE(got[10].instances.empty());
  EXPECT_FALSE(got[10].buffered);
  EXPECT_EQ(got[11].instances, std::vector<InstanceId>{ids["K-0"]});
  EXPECT_TRUE(got[12].buffered);
  EXPECT_EQ(must(a->instance(ids["K-0"])).state, InstanceState::kCompleted);
  EXPECT_EQ(must(a->instance(ids["K-1"])).elements.at(0).element_id, "shipped");

  // Overlapping batches of "paid" for K-10 to K-19 on both nodes at once.
  std::mutex mu;
  std::map<InstanceId, int> received;
  std::vector<std::string> errors;
  auto run = [&](Engine& e, int first, int last) {
    std::vector<Message> ms;
    for (int i = first; i <= last; ++i) ms.push_back(message("paid", "K-" + std::to_string(i)));
    auto sent = e.publish_many(ms);
    std::lock_guard lock(mu);
    if (!sent) {
      errors.push_back(sent.status().to_string());
      return;
    }
    for (const MessageResult& m : *sent) {
      for (InstanceId id : m.instances) ++received[id];
    }
  };
  std::thread on_a(run, std::ref(*a), 10, 16);
  std::thread on_b(run, std::ref(*b), 13, 19);
  on_a.join();
  on_b.join();
  EXPECT_TRUE(errors.empty()) << errors.size() << " errors, the first: " << errors.front();
  for (int i = 10; i < 20; ++i) {
    EXPECT_EQ(received[ids["K-" + std::to_string(i)]], 1) << i;
  }
}

// A process deployed on one node is used by the others without a restart: the next start
// there runs the new version, and a message sent there starts its message start event.
// What the dashboard shows is the database's: each node counts its starts and ends in its
// own rows, and every node reads all of them, its element statistics too.
TEST_F(PgNodes, EveryNodeSeesTheOrdersPerMinuteAndElementsOfAll) {
  constexpr std::int64_t kStart = 1'796'601'600'000;  // 2026-12-07T00:00:00Z
  auto clock = std::make_shared<VirtualClock>(kStart);
  auto a = node(clock);
  auto b = node(clock);
  ASSERT_TRUE(a && b);
  ASSERT_NO_FATAL_FAILURE(deploy_waiting(*a));
  ASSERT_OK(a->start("p", nlohmann::json::object(), "A-1").status());
  ASSERT_OK(b->start("p", nlohmann::json::object(), "B-1").status());
  ASSERT_OK(b->start("p", nlohmann::json::object(), "B-2").status());
  for (Engine* e : {a.get(), b.get()}) {
    std::int64_t started = 0;
    for (const MinuteCount& m : must(e->instances_per_minute(kStart))) started += m.started;
    EXPECT_EQ(started, 3);
    std::int64_t waiting = 0;
    for (const ElementStatistics& s : must(e->element_statistics("p", 1))) {
      if (s.element_id == "wait") waiting = s.active;
    }
    EXPECT_EQ(waiting, 3);
  }
}

// The history log's lease (the event publisher): one node holds it, the other waits until
// it runs out; the log's position moves only forward, whoever moves it.
TEST_F(PgNodes, OneNodeHoldsTheLogLeaseUntilItRunsOut) {
  auto clock = std::make_shared<VirtualClock>(1'765'100'000'000);
  auto a = node(clock);
  auto b = node(clock);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(must(a->claim_log("status", "node-a", 10'000)));
  EXPECT_FALSE(must(b->claim_log("status", "node-b", 10'000)));
  EXPECT_TRUE(must(a->claim_log("status", "node-a", 10'000))) << "kept by its holder";
  EXPECT_TRUE(must(b->claim_log("other-reader", "node-b", 10'000))) << "one lease per reader";
  clock->advance(10'001);
  EXPECT_TRUE(must(b->claim_log("status", "node-b", 10'000))) << "run out: taken over";
  EXPECT_FALSE(must(a->claim_log("status", "node-a", 10'000)));
  ASSERT_TRUE(a->set_log_position("status", 40).is_ok());
  ASSERT_TRUE(b->set_log_position("status", 30).is_ok());
  EXPECT_EQ(must(b->log_position("status")), 40u);
}

TEST_F(PgNodes, ADeploymentOnOneNodeIsUsedByTheOthers) {
  auto a = node();
  auto b = node();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto deploy = [&](const std::string& task) {
    LoadResult r = load_bpmn(
        process("<startEvent id=\"s\"/><userTask id=\"" + task + "\"/><endEvent id=\"e\"/>"
                "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"" + task + "\"/>"
                "<sequenceFlow id=\"f2\" sourceRef=\"" + task + "\" targetRef=\"e\"/>"),
        "p.bpmn");
    ASSERT_TRUE(r.ok()) << dump(r);
    ASSERT_TRUE(a->deploy(r.document).is_ok());
  };
  deploy("first");
  auto one = b->start("p", {}, "K-1");
  ASSERT_TRUE(one.is_ok()) << one.status().to_string();
  EXPECT_EQ(one->version, 1);
  deploy("second");
  auto two = b->start("p", {}, "K-2");
  ASSERT_TRUE(two.is_ok()) << two.status().to_string();
  EXPECT_EQ(two->version, 2);
  EXPECT_EQ(must(b->instance(two->id)).elements.at(0).element_id, "second");

  LoadResult m = load_bpmn(
      process("<startEvent id=\"s\"><messageEventDefinition messageRef=\"m\"/></startEvent>"
              "<userTask id=\"w\"/><endEvent id=\"e\"/>"
              "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"w\"/>"
              "<sequenceFlow id=\"f2\" sourceRef=\"w\" targetRef=\"e\"/></process>"
              "<message id=\"m\" name=\"order-placed\"/>"
              "<process id=\"unused\" isExecutable=\"false\"><startEvent id=\"u\"/>",
              "q"),
      "q.bpmn");
  ASSERT_TRUE(m.ok()) << dump(m);
  ASSERT_TRUE(a->deploy(m.document).is_ok());
  auto started = b->publish_message("order-placed", "", {}, 0);
  ASSERT_TRUE(started.is_ok()) << started.status().to_string();
  EXPECT_EQ(started->instances.size(), 1u) << "the other node's message start event was not seen";
}

// A timer start event ticking on two nodes whose workers both run at each tick: each tick
// starts one instance, not one per node (a start timer has no wait that a second firing
// would miss: the timer row itself must be taken once).
TEST_F(PgNodes, ATimerFiresOnceWhenTwoNodesAreDueAtOnce) {
  constexpr std::int64_t kT0 = 1'796'119'200'000;  // 2026-12-01T10:00:00Z
  auto clock_a = std::make_shared<VirtualClock>(kT0);
  auto clock_b = std::make_shared<VirtualClock>(kT0);
  auto a = node(clock_a);
  ASSERT_NE(a, nullptr);
  LoadResult r = load_bpmn(
      process("<startEvent id=\"tick\"><timerEventDefinition><timeCycle>R8/PT1M</timeCycle>"
              "</timerEventDefinition></startEvent><userTask id=\"wait\"/><endEvent id=\"e\"/>"
              "<sequenceFlow id=\"f1\" sourceRef=\"tick\" targetRef=\"wait\"/>"
              "<sequenceFlow id=\"f2\" sourceRef=\"wait\" targetRef=\"e\"/>"),
      "tick.bpmn");
  ASSERT_TRUE(r.ok()) << dump(r);
  ASSERT_TRUE(a->deploy(r.document).is_ok());
  auto b = node(clock_b);
  ASSERT_NE(b, nullptr);
  std::vector<std::string> errors;
  std::mutex mu;
  for (int minute = 1; minute <= 8; ++minute) {
    clock_a->set(kT0 + minute * 60'000);
    clock_b->set(kT0 + minute * 60'000);
    auto work = [&](Engine& e) {
      Result<std::size_t> done = e.run_until_idle();
      if (!done) {
        std::lock_guard lock(mu);
        errors.push_back(done.status().to_string());
      }
    };
    std::thread ta(work, std::ref(*a));
    std::thread tb(work, std::ref(*b));
    ta.join();
    tb.join();
  }
  // A lost race may fail a round (it is run again at the next); it must not fire twice.
  InstanceFilter all;
  all.limit = 1000;
  EXPECT_EQ(must(a->instances(all)).size(), 8u) << errors.size() << " rounds failed";
}

// A subscription made on one node while the message is published on another: the message
// reaches the instance, whichever commits first (it was left in the buffer beside a
// waiting subscriber when neither saw the other's uncommitted row).
TEST_F(PgNodes, AMessagePublishedWhileItsSubscriberIsMadeElsewhereIsReceived) {
  auto a = node();
  ASSERT_NE(a, nullptr);
  LoadResult r = load_bpmn(
      process("<startEvent id=\"s\"/><intermediateCatchEvent id=\"paid\">"
              "<messageEventDefinition messageRef=\"m\"/></intermediateCatchEvent>"
              "<endEvent id=\"e\"/>"
              "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"paid\"/>"
              "<sequenceFlow id=\"f2\" sourceRef=\"paid\" targetRef=\"e\"/></process>"
              "<message id=\"m\" name=\"paid\"><extensionElements><zeebe:subscription "
              "correlationKey=\"=orderId\"/></extensionElements></message>"
              "<process id=\"unused\" isExecutable=\"false\"><startEvent id=\"u\"/>"),
      "paid.bpmn");
  ASSERT_TRUE(r.ok()) << dump(r);
  ASSERT_TRUE(a->deploy(r.document).is_ok());
  auto b = node();
  ASSERT_NE(b, nullptr);
  constexpr int kOrders = 60;
  std::vector<std::string> errors;
  std::mutex mu;
  auto note = [&](const Status& s) {
    if (s.is_ok()) return;
    std::lock_guard lock(mu);
    errors.push_back(s.to_string());
  };
  std::thread starter([&] {
    for (int i = 0; i < kOrders; ++i) {
      const std::string id = "O-" + std::to_string(i);
      note(a->start("p", {{"orderId", id}}, id).status());
    }
  });
  std::thread publisher([&] {
    for (int i = 0; i < kOrders; ++i) {
      note(b->publish_message("paid", "O-" + std::to_string(i), {}, 60'000).status());
    }
  });
  starter.join();
  publisher.join();
  EXPECT_TRUE(errors.empty()) << errors.front();
  InstanceFilter waiting;
  waiting.state = InstanceState::kActive;
  waiting.limit = 1000;
  EXPECT_TRUE(must(a->instances(waiting)).empty())
      << must(a->instances(waiting)).size() << " orders wait for a message that was sent";
}

}  // namespace
}  // namespace ordo::testing
