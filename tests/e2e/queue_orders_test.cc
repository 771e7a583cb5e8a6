// End to end over RabbitMQ: `ordo serve` (a real process, killed with SIGKILL 15 times)
// takes 2,000 orders from one queue and their payment and shipment events from another,
// while its broker (a real RabbitMQ of the test's own) is stopped and started twice, and
// publishes the orders' status events to an exchange that a test client reads. In the end:
// every order started once and completed, every status event seen at least once with a
// stable id and the same content each time, and nothing dead-lettered but the deliberately
// bad messages, each with its reason.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "e2e/served.h"
#include "ordo/ordo.h"
#include "queue/amqp.h"

namespace ordo::testing {
namespace {

using adapters::amqp::Connection;
using adapters::amqp::Delivery;
using adapters::amqp::Properties;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kQueueOrders = 2000;
constexpr int kQueueKills = 15;

// Paid, then shipped: each wait is for a message with the order's id.
std::string flow_process() {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs"
             targetNamespace="http://example.com/orders">
  <message id="paid" name="payment-confirmed">
    <extensionElements><zeebe:subscription correlationKey="=orderId"/></extensionElements>
  </message>
  <message id="shipped" name="shipped">
    <extensionElements><zeebe:subscription correlationKey="=orderId"/></extensionElements>
  </message>
  <process id="order-flow" isExecutable="true">
    <startEvent id="received"/>
    <intermediateCatchEvent id="payment-wait"><messageEventDefinition messageRef="paid"/></intermediateCatchEvent>
    <intermediateCatchEvent id="shipping-wait"><messageEventDefinition messageRef="shipped"/></intermediateCatchEvent>
    <endEvent id="delivered"/>
    <sequenceFlow id="f1" sourceRef="received" targetRef="payment-wait"/>
    <sequenceFlow id="f2" sourceRef="payment-wait" targetRef="shipping-wait"/>
    <sequenceFlow id="f3" sourceRef="shipping-wait" targetRef="delivered"/>
  </process>
</definitions>
)";
}

struct Outgoing {
  std::string queue;
  std::string body;
  std::string id;  // empty: no message-id property
  json headers = json::object();
};

// Publishes `messages` in windows confirmed by the broker, at about `per_second`; a window
// that fails (the broker went away) is published again once it is back. Repeats are the
// consumer's to drop (by message id), as they are with any real producer.
void publish_steadily(const std::string& url, const std::vector<Outgoing>& messages,
                      int per_second, const std::atomic<bool>& stop, std::atomic<int>& sent,
                      std::atomic<int>& retried_windows) {
  constexpr std::size_t kWindow = 50;
  std::unique_ptr<Connection> conn;
  for (std::size_t at = 0; at < messages.size() && !stop.load();) {
    const auto window_start = Clock::now();
    if (conn == nullptr) {
      auto c = Connection::open(url, "test producer", 1000);
      if (!c || !(*c)->open_channel(1) || !(*c)->confirm_select(1)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      conn = std::move(*c);
    }
    const std::size_t end = std::min(messages.size(), at + kWindow);
    bool ok = true;
    for (std::size_t i = at; i < end && ok; ++i) {
      Properties p;
      p.content_type = "application/json";
      p.message_id = messages[i].id;
      p.headers = messages[i].headers;
      ok = conn->publish(1, "", messages[i].queue, messages[i].body, p, true).is_ok();
    }
    if (ok) ok = conn->wait_for_confirms(1, 5000).is_ok();
    if (!ok) {
      conn.reset();
      ++retried_windows;
      continue;
    }
    sent += static_cast<int>(end - at);
    at = end;
    std::this_thread::sleep_until(window_start + std::chrono::milliseconds(1000 * kWindow /
                                                                             static_cast<std::size_t>(per_second)));
  }
}

// Reads the status events as a CRM would: every delivery acknowledged once recorded;
// reconnects when the broker goes away.
class StatusReader {
 public:
  StatusReader(std::string url, std::string queue) : url_(std::move(url)), queue_(std::move(queue)) {
    thread_ = std::thread([this] { run(); });
  }
  ~StatusReader() {
    stop_.store(true);
    thread_.join();
  }
  std::size_t completed() const {
    std::lock_guard lock(mu_);
    return completed_.size();
  }
  std::map<std::string, json> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<std::string> mismatches() const {
    std::lock_guard lock(mu_);
    return mismatches_;
  }
  int deliveries() const { return deliveries_.load(); }

 private:
  void run() {
    std::unique_ptr<Connection> conn;
    while (!stop_.load()) {
      if (conn == nullptr) {
        auto c = Connection::open(url_, "test status reader", 1000);
        if (!c || !(*c)->open_channel(1) || !(*c)->consume(1, queue_)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          continue;
        }
        conn = std::move(*c);
      }
      auto d = conn->next(100);
      if (!d) {
        conn.reset();
        continue;
      }
      if (!*d) continue;
      record(**d);
      if (!conn->ack(1, (*d)->tag, false)) conn.reset();
    }
  }
  void record(const Delivery& d) {
    ++deliveries_;
    json ce = json::parse(d.body, nullptr, false);
    std::lock_guard lock(mu_);
    if (ce.is_discarded() || !ce.contains("id")) {
      mismatches_.push_back("not a CloudEvent: " + d.body.substr(0, 200));
      return;
    }
    const std::string id = ce["id"].get<std::string>();
    auto [it, first] = events_.emplace(id, ce);
    if (!first && it->second != ce) {
      mismatches_.push_back("event " + id + " came as " + it->second.dump() + " and as " + ce.dump());
    }
    if (ce["type"] == "io.ordo.instance-completed") completed_.insert(ce["subject"].get<std::string>());
  }

  std::string url_;
  std::string queue_;
  std::atomic<bool> stop_{false};
  std::atomic<int> deliveries_{0};
  mutable std::mutex mu_;
  std::map<std::string, json> events_;
  std::set<std::string> completed_;
  std::vector<std::string> mismatches_;
  std::thread thread_;
};

std::vector<Delivery> drain(const std::string& url, const std::string& queue) {
  std::vector<Delivery> out;
  auto c = Connection::open(url, "test drain");
  if (!c || !(*c)->open_channel(1) || !(*c)->consume(1, queue)) {
    ADD_FAILURE() << "cannot read " << queue;
    return out;
  }
  for (;;) {
    auto d = (*c)->next(1000);
    if (!d || !*d) break;
    EXPECT_TRUE((*c)->ack(1, (**d).tag, false).is_ok());
    out.push_back(std::move(**d));
  }
  return out;
}

TEST(QueueOrdersEndToEnd, OrdersAndEventsFromQueuesSurviveKillsAndBrokerRestarts) {
  TempDir dir("queue-orders");
  OwnRabbitmq broker(dir.path("rmq"));
  ASSERT_FALSE(broker.url().empty()) << broker.why();
  const std::string url = broker.url();
  // The CRM's queue on the status exchange, there before anything is published.
  {
    auto c = Connection::open(url, "test setup");
    ASSERT_TRUE(c.is_ok()) << c.status().to_string();
    ASSERT_TRUE((*c)->open_channel(1).is_ok());
    ASSERT_TRUE((*c)->declare_exchange(1, "shop.status", "topic").is_ok());
    ASSERT_TRUE((*c)->declare_queue(1, "crm.status", {}).is_ok());
    ASSERT_TRUE((*c)->bind_queue(1, "crm.status", "shop.status", "order-flow.#").is_ok());
  }
  const std::string db = dir.path("ordo.db");
  std::ofstream(dir.path("order-flow.bpmn")) << flow_process();
  ProcessRun deployed = run_ordo({"deploy", "--db", db, dir.path("order-flow.bpmn")});
  ASSERT_EQ(deployed.exit_code, 0) << deployed.out;
  const json config = {
      {"queues",
       {{"url", url},
        {"consumers",
         json::array({{{"queue", "shop.orders"},
                       {"start", {{"processId", "order-flow"}, {"businessKey", "=body.orderId"}}},
                       {"deadLetterExchange", "shop.orders.dlx"},
                       {"prefetch", 128},
                       {"declare", true}},
                      {{"queue", "shop.events"},
                       {"message",
                        {{"name", "=headers.event"},
                         {"correlationKey", "=body.orderId"},
                         {"variables", "={lastEvent: headers.event}"},
                         {"timeToLive", "PT1H"}}},
                       {"deadLetterExchange", "shop.events.dlx"},
                       {"prefetch", 128},
                       {"declare", true}}})},
        {"events",
         {{"exchange", "shop.status"},
          {"source", "urn:test:shop"},
          {"publish", json::array({{{"on", "instance-started"}},
                                   {{"on", "element-activated"}, {"elements", {"shipping-wait"}}},
                                   {{"on", "instance-completed"}}})}}}}}};
  std::ofstream(dir.path("ordo.json")) << config.dump(2);
  const std::vector<std::string> args = {"--db", db, "--config", dir.path("ordo.json")};
  auto served = std::make_unique<Served>(dir, args, "127.0.0.1:0", "serve-0.out");
  ASSERT_GT(served->port(), 0) << served->output();

  // The traffic: each order, its payment and its shipment; every tenth payment comes
  // before its order (kept for it), 50 orders and 50 payments are sent twice, and 8
  // messages are bad on purpose.
  std::vector<Outgoing> out;
  std::set<std::string> bad_reasons_expected;
  for (int i = 0; i < kQueueOrders; ++i) {
    const std::string id = "O-" + std::to_string(i);
    Outgoing order{"shop.orders", json{{"orderId", id}, {"total", 10 + i}}.dump(), "order-" + id};
    Outgoing paid{"shop.events", json{{"orderId", id}}.dump(), "pay-" + id,
                  {{"event", "payment-confirmed"}}};
    Outgoing shipped{"shop.events", json{{"orderId", id}}.dump(), "ship-" + id, {{"event", "shipped"}}};
    if (i % 10 == 0) {
      out.push_back(paid);
      out.push_back(order);
    } else {
      out.push_back(order);
      out.push_back(paid);
    }
    out.push_back(shipped);
    if (i % 40 == 7) {
      out.push_back(order);
      out.push_back(paid);
    }
    if (i % 500 == 3) {
      out.push_back({"shop.orders", "{\"orderId\": \"broken", "broken-" + id});
      out.push_back({"shop.orders", json{{"orderId", id + "-anonymous"}}.dump(), ""});
      bad_reasons_expected.insert("broken-" + id);
      bad_reasons_expected.insert("(no id) " + id + "-anonymous");
    }
    if (i == 1000 || i == 1500) {
      out.push_back({"shop.events", json{{"order", id}}.dump(), "keyless-" + id, {{"event", "shipped"}}});
      bad_reasons_expected.insert("keyless-" + id);
    }
  }
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::atomic<int> retried{0};
  // About 14 s of traffic, so that the kills and the broker's restarts fall in the middle.
  std::thread producer([&] { publish_steadily(url, out, 450, stop, sent, retried); });
  StatusReader reader(url, "crm.status");

  std::mt19937 random(20261207);
  int broker_restarts = 0;
  for (int k = 1; k <= kQueueKills; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + random() % 600));
    served->kill();
    if (k == 5 || k == 10) {
      std::string why;
      ASSERT_TRUE(broker.pause(why)) << why;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      ASSERT_TRUE(broker.resume(why)) << why;
      ++broker_restarts;
    }
    served = std::make_unique<Served>(dir, args, "127.0.0.1:0", "serve-" + std::to_string(k) + ".out");
    ASSERT_GT(served->port(), 0) << served->output();
  }
  producer.join();
  ASSERT_EQ(sent.load(), static_cast<int>(out.size()));
  const auto deadline = Clock::now() + std::chrono::seconds(180);
  while (reader.completed() < static_cast<std::size_t>(kQueueOrders) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(reader.completed(), static_cast<std::size_t>(kQueueOrders)) << served->output();
  EXPECT_EQ(served->stop(), 0) << served->output();
  EXPECT_EQ(broker_restarts, 2);

  // Every order once, and delivered.
  {
    auto e = Engine::open(db);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    InstanceFilter all;
    all.limit = 10 * kQueueOrders;
    std::vector<InstanceInfo> instances = (*e)->instances(all).value();
    std::set<std::string> keys;
    int completed = 0;
    for (const InstanceInfo& i : instances) {
      EXPECT_TRUE(keys.insert(i.business_key).second) << i.business_key << " started twice";
      completed += i.state == InstanceState::kCompleted ? 1 : 0;
    }
    EXPECT_EQ(instances.size(), static_cast<std::size_t>(kQueueOrders));
    EXPECT_EQ(completed, kQueueOrders);
  }
  // Every status event at least once, each id with one content.
  EXPECT_TRUE(reader.mismatches().empty()) << reader.mismatches().front();
  const std::map<std::string, json> events = reader.events();
  std::map<std::string, std::set<std::string>> per_order;
  for (const auto& [id, ce] : events) per_order[ce["subject"].get<std::string>()].insert(ce["type"].get<std::string>());
  EXPECT_EQ(events.size(), static_cast<std::size_t>(3 * kQueueOrders));
  EXPECT_EQ(per_order.size(), static_cast<std::size_t>(kQueueOrders));
  for (const auto& [order, types] : per_order) {
    EXPECT_EQ(types.size(), 3u) << order;
  }
  // Dead letters: exactly the bad messages, each with its reason.
  std::set<std::string> dead;
  for (const char* q : {"shop.orders.dead", "shop.events.dead"}) {
    for (const Delivery& d : drain(url, q)) {
      const std::string reason = d.properties.headers.value("x-ordo-error", std::string());
      EXPECT_FALSE(reason.empty()) << d.body;
      std::string key = d.properties.message_id;
      if (key.empty()) key = "(no id) " + json::parse(d.body).value("orderId", std::string());
      dead.insert(key);
    }
  }
  EXPECT_EQ(dead, bad_reasons_expected);
  std::printf("queue end to end: %zu messages sent (%d windows again after the broker went away), "
              "%d status deliveries for %zu events, %d kills, %d broker restarts\n",
              out.size(), retried.load(), reader.deliveries(), events.size(), kQueueKills, broker_restarts);
}

}  // namespace
}  // namespace ordo::testing
