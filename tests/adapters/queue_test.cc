// RabbitMQ in (adapters/queue): a real broker (scripts/rabbitmq-test-server), deliveries
// applied to an engine, acknowledged after the commit, repeats dropped by message id, and
// what cannot apply dead-lettered with its reason.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "must.h"
#include "ordo/adapters/adapters.h"
#include "ordo/adapters/queues.h"
#include "ordo/ordo.h"
#include "peers/script_server.h"
#include "queue/amqp.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using adapters::amqp::Connection;
using adapters::amqp::Delivery;
using adapters::amqp::Properties;
using nlohmann::json;

// A process waiting at a message catch for "paid" with the order id, and one waiting at a
// service task.
std::string order_processes() {
  return bpmn(
      "<process id=\"order\" isExecutable=\"true\">"
      "<startEvent id=\"s\"/><intermediateCatchEvent id=\"paid\"><messageEventDefinition "
      "messageRef=\"m\"/></intermediateCatchEvent><endEvent id=\"e\"/>"
      "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"paid\"/>"
      "<sequenceFlow id=\"f2\" sourceRef=\"paid\" targetRef=\"e\"/></process>"
      "<message id=\"m\" name=\"paid\"><extensionElements><zeebe:subscription "
      "correlationKey=\"=orderId\"/></extensionElements></message>");
}

// Waits up to 30 s for `done`.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

class QueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    url_ = AmqpTestServer::url(why);
    ASSERT_FALSE(url_.empty()) << why;
    // Names of this test alone: the broker is shared by the whole run.
    prefix_ = std::string("t") + std::to_string(::getpid()) + "." +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    LoadResult loaded = load_bpmn(order_processes(), "order.bpmn");
    ASSERT_TRUE(loaded.ok()) << dump(loaded);
    ASSERT_TRUE(engine_.deploy(loaded.document).is_ok());
    auto c = Connection::open(url_, "ordo test client");
    ASSERT_TRUE(c.is_ok()) << c.status().to_string();
    client_ = std::move(*c);
    ASSERT_TRUE(client_->open_channel(1).is_ok());
    ASSERT_TRUE(client_->confirm_select(1).is_ok());
  }
  void TearDown() override {
    if (consumers_) consumers_->stop();
  }
  std::string queue(const std::string& name) const { return prefix_ + "." + name; }

  // The consumers of `section`, started.
  void consume(const json& section) {
    auto made = QueueConsumers::create(section, "queues");
    ASSERT_TRUE(made.is_ok()) << made.status().to_string();
    consumers_ = std::move(*made);
    consumers_->start(engine_);
    ASSERT_TRUE(eventually([&] { return all_consuming(); })) << states();
  }
  bool all_consuming() const {
    for (const QueueConsumerState& s : consumers_->states()) {
      if (s.state != "consuming") return false;
    }
    return true;
  }
  std::string states() const {
    std::string out;
    for (const QueueConsumerState& s : consumers_->states()) {
      out += s.queue + ": " + s.state + " " + s.last_error + "; applied " +
             std::to_string(s.applied) + ", duplicates " + std::to_string(s.duplicates) +
             ", dead " + std::to_string(s.dead_lettered) + "\n";
    }
    return out;
  }
  QueueConsumerState state_of(const std::string& q) const {
    for (const QueueConsumerState& s : consumers_->states()) {
      if (s.queue == q) return s;
    }
    return {};
  }
  // Publishes to the default exchange (straight to queue `q`), confirmed by the broker.
  // `confirm` false: the broker's confirmation is waited for at the next confirmed send (a
  // durable queue's confirm waits for the disk: one wait for many is much faster).
  void send(const std::string& q, const std::string& body, const std::string& message_id,
            json headers = json::object(), bool confirm = true) {
    Properties p;
    p.content_type = "application/json";
    p.message_id = message_id;
    p.headers = std::move(headers);
    ASSERT_TRUE(client_->publish(1, "", q, body, p, true).is_ok());
    if (!confirm) return;
    Status confirmed = client_->wait_for_confirms(1, 30'000);
    ASSERT_TRUE(confirmed.is_ok()) << confirmed.to_string();
  }
  // Everything in queue `q` now (consumed and acknowledged by the test).
  std::vector<Delivery> drain(const std::string& q, std::size_t expected) {
    auto c = Connection::open(url_, "ordo test drain");
    EXPECT_TRUE(c.is_ok()) << c.status().to_string();
    std::vector<Delivery> out;
    if (!c) return out;
    Connection& conn = **c;
    EXPECT_TRUE(conn.open_channel(1).is_ok());
    EXPECT_TRUE(conn.consume(1, q).is_ok());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      auto d = conn.next(out.size() >= expected ? 300 : 1000);
      if (!d.is_ok()) {
        ADD_FAILURE() << d.status().to_string();
        break;
      }
      if (!*d) {
        if (out.size() >= expected) break;
        continue;
      }
      EXPECT_TRUE(conn.ack(1, (*d)->tag, false).is_ok());
      out.push_back(std::move(**d));
    }
    return out;
  }
  std::size_t instance_count() {
    InstanceFilter all;
    all.limit = 100'000;
    return must(engine_.instances(all)).size();
  }

  std::string url_;
  std::string prefix_;
  Engine engine_;
  std::unique_ptr<Connection> client_;
  std::shared_ptr<QueueConsumers> consumers_;
};

json start_consumer(const std::string& q) {
  return {{"queue", q},
          {"start",
           {{"processId", "order"}, {"businessKey", "=body.orderId"}, {"variables", "=body"}}},
          {"deadLetterExchange", q + ".dlx"},
          {"prefetch", 64},
          {"declare", true}};
}

TEST_F(QueueTest, EachOrderOnTheQueueStartsOneInstanceAndARedeliveryStartsNothing) {
  const std::string q = queue("orders");
  ASSERT_NO_FATAL_FAILURE(consume({{"url", url_}, {"consumers", json::array({start_consumer(q)})}}));
  constexpr int kOrders = 300;
  for (int i = 0; i < kOrders; ++i) {
    const std::string id = "A-" + std::to_string(i);
    ASSERT_NO_FATAL_FAILURE(send(q, json{{"orderId", id}, {"total", i}}.dump(), "msg-" + id,
                                 json::object(), i + 1 == kOrders));
  }
  ASSERT_TRUE(eventually([&] { return state_of(q).applied == kOrders; })) << states();
  EXPECT_EQ(instance_count(), static_cast<std::size_t>(kOrders));
  InstanceFilter one;
  one.business_key = "A-7";
  std::vector<InstanceInfo> found = must(engine_.instances(one));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(must(engine_.instance(found[0].id)).variables["total"], 7);

  // The same message ids again, as a broker redelivers after a crash between commit and ack:
  // acknowledged, nothing started. A new id for an order already started is its business
  // key's: nothing started either.
  for (int i = 0; i < 20; ++i) {
    const std::string id = "A-" + std::to_string(i);
    ASSERT_NO_FATAL_FAILURE(
        send(q, json{{"orderId", id}, {"total", -1}}.dump(), "msg-" + id, json::object(), false));
  }
  ASSERT_NO_FATAL_FAILURE(send(q, json{{"orderId", "A-1"}}.dump(), "another-id"));
  ASSERT_TRUE(eventually([&] { return state_of(q).duplicates == 21; })) << states();
  EXPECT_EQ(instance_count(), static_cast<std::size_t>(kOrders));
  EXPECT_EQ(must(engine_.instance(found[0].id)).variables["total"], 7);
  EXPECT_EQ(state_of(q).dead_lettered, 0u);
  EXPECT_TRUE(eventually([&] { return state_of(q).ready == 0; })) << "nothing left unacknowledged";
}

TEST_F(QueueTest, WhatCannotApplyIsDeadLetteredWithItsReasonAndTheRestGoesOn) {
  const std::string q = queue("orders");
  ASSERT_NO_FATAL_FAILURE(consume({{"url", url_}, {"consumers", json::array({start_consumer(q)})}}));
  ASSERT_NO_FATAL_FAILURE(send(q, "{not json", "bad-json"));
  ASSERT_NO_FATAL_FAILURE(send(q, json{{"orderId", "B-1"}}.dump(), ""));  // no message id
  ASSERT_NO_FATAL_FAILURE(send(q, json{{"orderId", true}}.dump(), "bad-key"));
  ASSERT_NO_FATAL_FAILURE(send(q, json::array({1, 2}).dump(), "not-an-object"));
  ASSERT_NO_FATAL_FAILURE(send(q, json{{"orderId", "B-2"}}.dump(), "good", {{"source", "shop"}}));
  ASSERT_TRUE(eventually([&] { return state_of(q).dead_lettered == 4 && state_of(q).applied == 1; }))
      << states();
  EXPECT_EQ(instance_count(), 1u);

  std::vector<Delivery> dead = drain(q + ".dead", 4);
  ASSERT_EQ(dead.size(), 4u);
  std::map<std::string, std::string> reasons;
  for (const Delivery& d : dead) {
    ASSERT_TRUE(d.properties.headers.contains("x-ordo-error")) << d.properties.headers.dump();
    EXPECT_EQ(d.properties.headers["x-ordo-queue"], q);
    EXPECT_EQ(d.properties.headers["x-ordo-routing-key"], q);
    reasons[d.properties.message_id] = d.properties.headers["x-ordo-error"].get<std::string>();
  }
  EXPECT_NE(reasons["bad-json"].find("not JSON"), std::string::npos) << reasons["bad-json"];
  EXPECT_NE(reasons[""].find("no message id"), std::string::npos) << reasons[""];
  EXPECT_NE(reasons["bad-key"].find("businessKey =body.orderId gave true"), std::string::npos)
      << reasons["bad-key"];
  EXPECT_NE(reasons["not-an-object"].find("not a JSON object"), std::string::npos)
      << reasons["not-an-object"];
  // The body is kept as it came.
  for (const Delivery& d : dead) {
    if (d.properties.message_id == "bad-json") {
      EXPECT_EQ(d.body, "{not json");
    }
  }
}

TEST_F(QueueTest, AProcessThatDoesNotExistDeadLettersOnlyItsOwnMessages) {
  const std::string q = queue("mixed");
  json c = start_consumer(q);
  c["start"]["processId"] = "=body.process";
  ASSERT_NO_FATAL_FAILURE(consume({{"url", url_}, {"consumers", json::array({c})}}));
  // Sent before the consumer takes them, so that they arrive in one batch.
  consumers_->stop();
  for (int i = 0; i < 10; ++i) {
    const std::string process = i == 4 ? "no-such-process" : "order";
    ASSERT_NO_FATAL_FAILURE(send(q, json{{"orderId", "C-" + std::to_string(i)}, {"process", process}}.dump(),
                                 "c-" + std::to_string(i)));
  }
  consumers_->start(engine_);
  ASSERT_TRUE(eventually([&] { return state_of(q).applied == 9 && state_of(q).dead_lettered == 1; }))
      << states();
  EXPECT_EQ(instance_count(), 9u);
  std::vector<Delivery> dead = drain(q + ".dead", 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].properties.message_id, "c-4");
  EXPECT_NE(dead[0].properties.headers["x-ordo-error"].get<std::string>().find("no-such-process"),
            std::string::npos)
      << dead[0].properties.headers.dump();
}

TEST_F(QueueTest, PaymentEventsArePublishedToTheWaitingOrderAndAnEarlyOneIsBuffered) {
  const std::string orders = queue("orders");
  const std::string payments = queue("payments");
  json p = {{"queue", payments},
            {"message",
             {{"name", "=headers.event"},
              {"correlationKey", "=body.orderId"},
              {"variables", "={paymentId: body.id, amount: body.amount}"},
              {"timeToLive", "PT1H"}}},
            {"deadLetterExchange", payments + ".dlx"},
            {"declare", true}};
  ASSERT_NO_FATAL_FAILURE(
      consume({{"url", url_}, {"consumers", json::array({start_consumer(orders), p})}}));
  ASSERT_NO_FATAL_FAILURE(send(orders, json{{"orderId", "D-1"}}.dump(), "o-1"));
  ASSERT_TRUE(eventually([&] { return state_of(orders).applied == 1; })) << states();
  ASSERT_NO_FATAL_FAILURE(send(payments, json{{"orderId", "D-1"}, {"id", "pi_1"}, {"amount", 12.5}}.dump(),
                               "evt-1", {{"event", "paid"}}));
  // Paid before the order arrives: kept for it.
  ASSERT_NO_FATAL_FAILURE(send(payments, json{{"orderId", "D-2"}, {"id", "pi_2"}, {"amount", 3}}.dump(),
                               "evt-2", {{"event", "paid"}}));
  ASSERT_NO_FATAL_FAILURE(send(payments, json{{"orderId", "D-1"}, {"id", "pi_1"}, {"amount", 12.5}}.dump(),
                               "evt-1", {{"event", "paid"}}));
  ASSERT_TRUE(eventually([&] { return state_of(payments).applied == 2 && state_of(payments).duplicates == 1; }))
      << states();
  ASSERT_NO_FATAL_FAILURE(send(orders, json{{"orderId", "D-2"}}.dump(), "o-2"));
  ASSERT_TRUE(eventually([&] { return state_of(orders).applied == 2; })) << states();
  for (const char* key : {"D-1", "D-2"}) {
    InstanceFilter f;
    f.business_key = key;
    std::vector<InstanceInfo> found = must(engine_.instances(f));
    ASSERT_EQ(found.size(), 1u) << key;
    InstanceInfo info = must(engine_.instance(found[0].id));
    EXPECT_EQ(info.state, InstanceState::kCompleted) << key;
    EXPECT_EQ(info.variables["paymentId"], key == std::string("D-1") ? "pi_1" : "pi_2");
  }
}

// docs/queues.md's example, as written, on the broker.
TEST_F(QueueTest, TheExampleInTheDocsRuns) {
  std::ifstream in(ORDO_SOURCE_DIR "/docs/queues.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const std::size_t open = doc.find("```json\n");
  ASSERT_NE(open, std::string::npos);
  const std::size_t close = doc.find("```", open + 8);
  const std::string example = doc.substr(open + 8, close - open - 8);
  auto config = parse_adapter_config(example, "ordo.json", [&](const std::string& name, std::string& value) {
    if (name != "ORDO_AMQP_URL") return false;
    value = url_;
    return true;
  });
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();
  ASSERT_TRUE(config->queues != nullptr);
  std::ifstream shipped(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn");
  std::stringstream xml;
  xml << shipped.rdbuf();
  LoadResult loaded = load_bpmn(xml.str(), "order-acceptance.bpmn");
  ASSERT_TRUE(loaded.ok()) << dump(loaded);
  ASSERT_TRUE(engine_.deploy(loaded.document).is_ok());
  consumers_ = std::move(config->queues);
  consumers_->start(engine_);
  ASSERT_TRUE(eventually([&] { return all_consuming(); })) << states();
  ASSERT_NO_FATAL_FAILURE(send("shop.orders", json{{"orderId", "E-1"}, {"total", 10}}.dump(), "order-E-1"));
  // The payment event's id is in its body (messageId: =body.eventId); it waits for the order.
  ASSERT_NO_FATAL_FAILURE(send("shop.payments",
                               json{{"eventId", "evt-9"}, {"orderId", "E-1"}, {"status", "approved"},
                                    {"id", "pi_9"}}.dump(),
                               ""));
  ASSERT_TRUE(eventually([&] {
    return state_of("shop.orders").applied == 1 && state_of("shop.payments").applied == 1;
  })) << states();
  InstanceFilter f;
  f.business_key = "E-1";
  EXPECT_EQ(must(engine_.instances(f)).size(), 1u);
  consumers_->stop();
  for (const char* q : {"shop.orders", "shop.orders.dead", "shop.payments", "shop.payments.dead"}) {
    EXPECT_TRUE(client_->delete_queue(1, q).is_ok());
  }
}

TEST_F(QueueTest, ConfigurationMistakesNameTheSetting) {
  const auto error = [](const json& section) {
    auto made = QueueConsumers::create(section, "queues");
    return made.is_ok() ? std::string("accepted") : made.status().message();
  };
  const json good = start_consumer("q");
  EXPECT_EQ(error({{"url", "amqp://localhost"}, {"consumers", json::array({good})}}), "accepted");
  json no_dlx = good;
  no_dlx.erase("deadLetterExchange");
  EXPECT_NE(error({{"url", "amqp://x"}, {"consumers", json::array({no_dlx})}})
                .find("queues.consumers[0].deadLetterExchange: is required"),
            std::string::npos);
  json both = good;
  both["message"] = {{"name", "x"}};
  EXPECT_NE(error({{"url", "amqp://x"}, {"consumers", json::array({both})}})
                .find("either starts instances or publishes messages"),
            std::string::npos);
  json typo = good;
  typo["prefech"] = 10;
  EXPECT_NE(error({{"url", "amqp://x"}, {"consumers", json::array({typo})}})
                .find("queues.consumers[0].prefech: is not a setting here"),
            std::string::npos);
  json bad_feel = good;
  bad_feel["start"]["businessKey"] = "=body.(";
  EXPECT_NE(error({{"url", "amqp://x"}, {"consumers", json::array({bad_feel})}})
                .find("queues.consumers[0].start.businessKey: expression =body.( does not compile"),
            std::string::npos);
  json no_process = good;
  no_process["start"].erase("processId");
  EXPECT_NE(error({{"url", "amqp://x"}, {"consumers", json::array({no_process})}})
                .find("start.processId: is required"),
            std::string::npos);
  EXPECT_NE(error({{"url", "http://x"}, {"consumers", json::array({good})}}).find("queues.url"),
            std::string::npos);
  EXPECT_NE(error({{"url", "amqp://x"}, {"consumers", json::array({good, good})}})
                .find("consumed twice"),
            std::string::npos);
  json ttl = {{"queue", "p"},
              {"message", {{"name", "paid"}, {"timeToLive", "soon"}}},
              {"deadLetterExchange", "d"}};
  EXPECT_NE(error({{"url", "amqp://x"}, {"consumers", json::array({ttl})}})
                .find("message.timeToLive: must be an ISO 8601 duration"),
            std::string::npos);
  // Through ordo.json, with the file's name in front.
  auto config = parse_adapter_config(
      json{{"queues", {{"url", "amqp://x"}, {"consumers", json::array({no_dlx})}}}}.dump(),
      "ordo.json");
  ASSERT_FALSE(config.is_ok());
  EXPECT_NE(config.status().message().find("ordo.json: queues.consumers[0].deadLetterExchange"),
            std::string::npos)
      << config.status().message();
}

TEST_F(QueueTest, AConsumerWhoseQueueIsDeletedSaysSo) {
  const std::string q = queue("deleted");
  ASSERT_NO_FATAL_FAILURE(consume({{"url", url_}, {"consumers", json::array({start_consumer(q)})}}));
  ASSERT_TRUE(client_->delete_queue(1, q).is_ok());
  ASSERT_TRUE(eventually([&] { return state_of(q).last_error.find("cancelled") != std::string::npos; }))
      << states();
}

TEST_F(QueueTest, AConsumerWhoseBrokerRefusesItSaysWhyAndKeepsTrying) {
  // A queue that does not exist, not declared: the broker refuses to consume it.
  json c = start_consumer(queue("missing"));
  c["declare"] = false;
  auto made = QueueConsumers::create({{"url", url_}, {"consumers", json::array({c})}}, "queues");
  ASSERT_TRUE(made.is_ok());
  consumers_ = std::move(*made);
  consumers_->start(engine_);
  ASSERT_TRUE(eventually([&] { return consumers_->states()[0].state == "retrying"; })) << states();
  EXPECT_NE(consumers_->states()[0].last_error.find("404"), std::string::npos) << states();
  // A wrong password, said without the password.
  std::string wrong = url_;
  wrong.replace(wrong.find(':', 5) + 1, wrong.find('@') - wrong.find(':', 5) - 1, "nope");
  auto refused = Connection::open(wrong, "ordo test");
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("refused the login of user 'ordo'"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(refused.status().message().find("nope"), std::string::npos);
  EXPECT_EQ(Connection::redacted(wrong).find("nope"), std::string::npos);
}

// RabbitMQ out: the history published as CloudEvents from a durable engine.
class EventsTest : public QueueTest {
 protected:
  void SetUp() override {
    QueueTest::SetUp();
    if (HasFatalFailure()) return;
    auto opened = Engine::open(dir_.path("ordo.db"));
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    durable_ = std::move(*opened);
    LoadResult loaded = load_bpmn(order_processes(), "order.bpmn");
    ASSERT_TRUE(durable_->deploy(loaded.document).is_ok());
    exchange_ = queue("status");
    // The test's own queue on the exchange, bound before anything is published.
    ASSERT_TRUE(client_->declare_exchange(1, exchange_, "topic").is_ok());
    ASSERT_TRUE(client_->declare_queue(1, exchange_ + ".all", {}).is_ok());
    ASSERT_TRUE(client_->bind_queue(1, exchange_ + ".all", exchange_, "#").is_ok());
  }
  void TearDown() override {
    if (publisher_) publisher_->stop();
    QueueTest::TearDown();
  }
  json section(const std::string& reader) const {
    return {{"url", url_},
            {"events",
             {{"exchange", exchange_},
              {"source", "urn:test:shop"},
              {"reader", reader},
              {"publish", json::array({{{"on", "instance-started"}},
                                       {{"on", "element-activated"}, {"elements", {"paid"}},
                                        {"routingKey", "=processId + \".waits-for-payment\""}},
                                       {{"on", "instance-ended"}}})}}}};
  }
  void publish_with(const std::string& reader) {
    if (publisher_) publisher_->stop();
    auto made = EventPublisher::create(section(reader), "queues");
    ASSERT_TRUE(made.is_ok()) << made.status().to_string();
    publisher_ = std::move(*made);
    publisher_->start(*durable_);
  }
  TempDir dir_{"events"};
  std::unique_ptr<Engine> durable_;
  std::string exchange_;
  std::unique_ptr<EventPublisher> publisher_;
};

TEST_F(EventsTest, EventsGoOutAfterTheirCommitWithStableIdsAndIdenticalRepeats) {
  for (int i = 0; i < 5; ++i) {
    const std::string key = "F-" + std::to_string(i);
    ASSERT_TRUE(durable_->start("order", {{"orderId", key}}, key).is_ok());
  }
  for (const char* key : {"F-1", "F-3"}) {
    Message m;
    m.name = "paid";
    m.correlation_key = key;
    ASSERT_TRUE(durable_->publish_message(m).is_ok());
  }
  ASSERT_NO_FATAL_FAILURE(publish_with("crm"));
  // 5 started, 5 waiting at "paid", 2 ended.
  std::vector<Delivery> got = drain(exchange_ + ".all", 12);
  ASSERT_EQ(got.size(), 12u) << publisher_->state().last_error;
  std::map<std::string, json> by_id;
  std::map<std::string, int> types;
  for (const Delivery& d : got) {
    EXPECT_EQ(d.properties.content_type, "application/cloudevents+json");
    const json ce = json::parse(d.body);
    EXPECT_EQ(ce["specversion"], "1.0");
    EXPECT_EQ(ce["source"], "urn:test:shop");
    EXPECT_EQ(ce["id"], d.properties.message_id);
    EXPECT_TRUE(ce["subject"].get<std::string>().starts_with("F-")) << ce.dump();
    EXPECT_EQ(ce["data"]["businessKey"], ce["subject"]);
    ++types[ce["type"].get<std::string>()];
    if (ce["type"] == "io.ordo.element-activated") {
      EXPECT_EQ(d.routing_key, "order.waits-for-payment");
      EXPECT_EQ(ce["data"]["elementId"], "paid");
    } else {
      EXPECT_EQ(d.routing_key, "order." + ce["type"].get<std::string>().substr(8));
    }
    EXPECT_TRUE(by_id.emplace(ce["id"].get<std::string>(), ce).second) << "one id per event";
  }
  EXPECT_EQ(types["io.ordo.instance-started"], 5);
  EXPECT_EQ(types["io.ordo.element-activated"], 5);
  EXPECT_EQ(types["io.ordo.instance-completed"], 2);
  // The ids are history numbers: they rise in the order things happened.
  for (std::size_t i = 1; i < got.size(); ++i) {
    EXPECT_LT(std::stoull(got[i - 1].properties.message_id), std::stoull(got[i].properties.message_id));
  }
  ASSERT_TRUE(eventually([&] { return publisher_->state().position > 0; }));
  const std::uint64_t position = publisher_->state().position;
  EXPECT_EQ(must(durable_->log_position("crm")), position);

  // A publisher with the same reader goes on from the position kept in the database:
  // nothing again, only what happens from now on.
  ASSERT_NO_FATAL_FAILURE(publish_with("crm"));
  ASSERT_TRUE(durable_->start("order", {{"orderId", "F-9"}}, "F-9").is_ok());
  std::vector<Delivery> more = drain(exchange_ + ".all", 2);
  ASSERT_EQ(more.size(), 2u);
  for (const Delivery& d : more) EXPECT_EQ(json::parse(d.body)["subject"], "F-9");

  // A position lost (a crash before it was kept): everything since is published again, with
  // the same ids and the same bodies.
  ASSERT_NO_FATAL_FAILURE(publish_with("replayed"));
  std::vector<Delivery> again = drain(exchange_ + ".all", 14);
  ASSERT_EQ(again.size(), 14u);
  for (const Delivery& d : again) {
    const json ce = json::parse(d.body);
    auto first = by_id.find(ce["id"].get<std::string>());
    if (first == by_id.end()) continue;  // F-9's
    EXPECT_EQ(ce, first->second) << "the repeat of event " << first->first << " differs";
  }
}

// Nodes of one database: one publisher holds the lease, the others stand by; when it stops,
// one of them takes over from the kept position, and nothing is lost.
TEST_F(EventsTest, OnePublisherPerDatabaseAndAnotherTakesOverWhenItStops) {
  json shared = section("status");
  shared["events"]["lease"] = "PT1S";
  shared["events"]["node"] = "node-a";
  auto a = EventPublisher::create(shared, "queues");
  shared["events"]["node"] = "node-b";
  auto b = EventPublisher::create(shared, "queues");
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  (*a)->start(*durable_);
  ASSERT_TRUE(eventually([&] { return (*a)->state().state == "publishing"; })) << (*a)->state().last_error;
  (*b)->start(*durable_);
  ASSERT_TRUE(eventually([&] { return (*b)->state().state == "standby"; })) << (*b)->state().state;
  ASSERT_TRUE(durable_->start("order", {{"orderId", "G-1"}}, "G-1").is_ok());
  std::vector<Delivery> first = drain(exchange_ + ".all", 2);
  EXPECT_EQ(first.size(), 2u) << "published once, by one of them";
  EXPECT_EQ((*b)->state().published, 0u);
  (*a)->stop();
  ASSERT_TRUE(eventually([&] { return (*b)->state().state == "publishing"; })) << (*b)->state().state;
  ASSERT_TRUE(durable_->start("order", {{"orderId", "G-2"}}, "G-2").is_ok());
  std::vector<Delivery> second = drain(exchange_ + ".all", 2);
  ASSERT_EQ(second.size(), 2u);
  for (const Delivery& d : second) EXPECT_EQ(json::parse(d.body)["subject"], "G-2");
  (*b)->stop();
}

TEST_F(EventsTest, AnEngineInMemoryHasNoLogToPublish) {
  auto made = EventPublisher::create(section("mem"), "queues");
  ASSERT_TRUE(made.is_ok());
  publisher_ = std::move(*made);
  publisher_->start(engine_);  // the fixture's engine in memory
  ASSERT_TRUE(eventually([&] { return publisher_->state().state == "retrying"; }));
  EXPECT_NE(publisher_->state().last_error.find("needs a durable engine"), std::string::npos)
      << publisher_->state().last_error;
}

// Every ordo.json example in docs/queues.md loads as written.
TEST_F(EventsTest, EveryConfigurationInTheDocsLoads) {
  std::ifstream in(ORDO_SOURCE_DIR "/docs/queues.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  int configs = 0;
  for (std::size_t open = doc.find("```json\n"); open != std::string::npos;
       open = doc.find("```json\n", open + 1)) {
    const std::size_t close = doc.find("```", open + 8);
    const json block = json::parse(doc.substr(open + 8, close - open - 8), nullptr, false);
    ASSERT_FALSE(block.is_discarded()) << doc.substr(open, 200);
    if (!block.contains("queues") || !block["queues"].is_object()) continue;  // not /health/ready
    ++configs;
    auto config = parse_adapter_config(block.dump(), "ordo.json", [&](const std::string&, std::string& value) {
      value = url_;
      return true;
    });
    EXPECT_TRUE(config.is_ok()) << config.status().to_string();
  }
  EXPECT_EQ(configs, 2);
}

TEST_F(EventsTest, EventSettingsMistakesNameTheSetting) {
  const auto error = [&](json events) {
    auto made = EventPublisher::create({{"url", "amqp://x"}, {"events", std::move(events)}}, "queues");
    return made.is_ok() ? std::string("accepted") : made.status().message();
  };
  EXPECT_EQ(error({{"exchange", "x"}, {"publish", {{{"on", "instance-started"}}}}}), "accepted");
  EXPECT_NE(error({{"publish", {{{"on", "instance-started"}}}}}).find("queues.events.exchange: is required"),
            std::string::npos);
  EXPECT_NE(error({{"exchange", "x"}, {"publish", {{{"on", "order-shipped"}}}}})
                .find("queues.events.publish[0].on: 'order-shipped' is not an event"),
            std::string::npos);
  EXPECT_NE(error({{"exchange", "x"}, {"publish", json::array()}}).find("queues.events.publish"),
            std::string::npos);
  EXPECT_NE(error({{"exchange", "x"}, {"exchangeType", "fan"}, {"publish", {{{"on", "instance-started"}}}}})
                .find("exchangeType: must be topic"),
            std::string::npos);
  EXPECT_NE(error({{"exchange", "x"}, {"publish", {{{"on", "instance-started"}, {"routingKey", "=("}}}}})
                .find("publish[0].routingKey: expression =( does not compile"),
            std::string::npos);
}

}  // namespace
}  // namespace ordo::testing
