// End to end: a few hundred orders through processes/order-acceptance.bpmn, worked by
// `ordo worker --config` (a real process, killed with SIGKILL again and again) against an
// ERP, a payment provider and an SMS gateway on loopback that misbehave (500s, duplicated
// and early webhooks), and a real SMTP server. Every order must reach the right end event,
// and every customer must receive exactly the messages the process and the channel rules
// call for, once, in their language.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <thread>

#include "durability/durability_util.h"
#include "e2e/order_world.h"
#include "ordo/adapters/adapters.h"
#include "ordo/engine.h"
#include "peers/smtp_sink.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kNotifiedOrders = 300;

// What the outside world sends to the engine now: payment webhooks (each twice), and
// deliveries of shipped orders.
void publish(World& world, Engine& engine) {
  for (const std::string& body : world.take_webhooks()) {
    for (int copy = 0; copy < 2; ++copy) {
      Result<Message> m =
          payment_webhook_message(body, webhook_signature(body, kWebhookSecret), kWebhookSecret);
      ASSERT_OK(m.status());
      ASSERT_OK(engine.publish_message(*m).status());
    }
  }
  for (const std::string& id : world.take_deliveries()) {
    Message m;
    m.name = "order-delivered";
    m.correlation_key = id;
    m.message_id = "delivered:" + id;
    m.ttl_ms = 3'600'000;
    ASSERT_OK(engine.publish_message(std::move(m)).status());
  }
}

TEST(OrderNotificationsEndToEnd, EveryCustomerGetsExactlyTheirMessagesOnceInTheirLanguage) {
  TempDir dir("e2e");
  SmtpSink smtp(dir.path("mail.jsonl"), {"--fail-first", "3"});
  if (smtp.port() == 0) GTEST_SKIP() << "no SMTP server: install python3-aiosmtpd";
  const std::vector<Order> orders = make_orders(kNotifiedOrders);
  World world(orders);
  const std::string db = dir.path("orders.db");
  const std::string log = dir.path("deliveries.db");
  { std::ofstream(dir.path("ordo.json")) << order_config(world, smtp.url(), log).dump(2); }
  auto engine = Engine::open(db);
  ASSERT_OK(engine.status());
  ASSERT_OK((*engine)->deploy_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn").status());
  for (const Order& o : orders) {
    ASSERT_OK((*engine)->start({"order-acceptance", o.vars, o.id, 0, {}}).status());
  }

  // The worker, killed with SIGKILL at random moments (often in the middle of sending) and
  // started again, until every order has ended.
  std::mt19937 rng(20261123);
  int kills = 0;
  const auto all_ended = [&] {
    InstanceFilter done;
    done.state = InstanceState::kCompleted;
    done.limit = kNotifiedOrders + 1;
    InstanceFilter stuck = done;
    stuck.state = InstanceState::kIncident;
    auto completed = (*engine)->instances(done);
    auto incidents = (*engine)->instances(stuck);
    // An incident will not go away by waiting: stop and report it.
    return (completed.is_ok() && completed->size() == static_cast<std::size_t>(kNotifiedOrders)) ||
           (incidents.is_ok() && !incidents->empty());
  };
  const auto deadline = std::chrono::steady_clock::now() + 240s;
  while (!all_ended() && std::chrono::steady_clock::now() < deadline) {
    const pid_t worker = spawn_ordo({"worker", "--db", db, "--config", dir.path("ordo.json")},
                                    dir.path("worker.log"));
    const auto run_for = std::chrono::milliseconds(kills < 12 ? 150 + rng() % 450 : 60'000);
    const auto until = std::chrono::steady_clock::now() + run_for;
    while (std::chrono::steady_clock::now() < until && !all_ended()) {
      publish(world, **engine);
      std::this_thread::sleep_for(50ms);
    }
    ::kill(worker, SIGKILL);
    int status = 0;
    ::waitpid(worker, &status, 0);
    ++kills;
  }
  ASSERT_TRUE(all_ended()) << "orders still running after " << kills << " worker runs; log:\n"
                           << read_file(dir.path("worker.log"));

  // Every order at the right end.
  auto done = (*engine)->instances();
  ASSERT_OK(done.status());
  std::map<std::string, InstanceInfo> by_order;
  for (InstanceInfo& i : *done) by_order[i.business_key] = std::move(i);
  for (const Order& o : orders) {
    const InstanceInfo& i = by_order.at(o.id);
    EXPECT_EQ(i.state, InstanceState::kCompleted)
        << o.id << (i.incidents.empty() ? "" : ": " + i.incidents[0].message);
    EXPECT_EQ(i.end_event, expected_end(o.scenario)) << o.id;
  }

  expect_each_side_effect_once(orders, world);
  int repeats = 0;
  expect_each_customer_got_their_messages_once(orders, smtp.mail(), world.sms(), log, repeats);
  // A copy can only come from a worker killed after the server's 250 and before the log's
  // record (at most one per handler thread and kill); it carries the same Message-ID, so
  // the mailbox shows it once.
  EXPECT_LE(repeats, 2 * kills);
  std::cout << "[ e2e ] " << kNotifiedOrders << " orders, " << kills << " worker runs (SIGKILL), "
            << smtp.mail().size() << " mails, " << world.sms().size() << " SMS, " << repeats
            << " repeated mail(s) with the same Message-ID\n";
}

}  // namespace
}  // namespace ordo::testing
