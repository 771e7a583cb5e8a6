// End to end over real HTTP on loopback (issues 6 and 18): `ordo serve` with the ERP,
// payment, SMS and SMTP peers of order_world.h; orders started over HTTP by several clients;
// the payment provider's confirmations delivered as signed webhooks, some duplicated, some
// out of order, some before the instance waits for them; deliveries as messages. In the
// middle of it all servers are killed with SIGKILL and started again on the same database and
// port; the clients retry what a kill cut off, on any node.
//
// - one node on SQLite: 500 orders, three kills;
// - three nodes on one PostgreSQL database, each request to a random node: 3,000 orders,
//   thirty kills of a random node, and the database stopped and started again once.
//
// Every order must reach the right end event, once, and every customer get exactly the right
// messages once; the ERP and the provider see each side effect under one idempotency key.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "durability/durability_util.h"
#include "e2e/order_world.h"
#include "e2e/served.h"
#include "ordo/adapters/adapters.h"
#include "peers/smtp_sink.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kWorkerThreads = 2;  // the handler threads of the worker inside `ordo serve`

// `count` ports for `ordo serve` that stay the same across restarts. They lie below the
// kernel's range of ephemeral ports, so that no outgoing connection (the clients' own, while
// a server is down) takes one.
std::vector<int> fixed_ports(int count) {
  int low = 32768, high = 60999;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low >> high;
  const int from = std::max(1024, low - 12000), to = std::max(from + 1, low - 1);
  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  std::vector<int> ports;
  for (int attempt = 0; attempt < 300 && static_cast<int>(ports.size()) < count; ++attempt) {
    const int port = from + static_cast<int>(rng() % static_cast<unsigned>(to - from));
    if (std::find(ports.begin(), ports.end(), port) != ports.end()) continue;
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (free) ports.push_back(port);
  }
  return ports;
}

struct Answer {
  int status = 0;  // 0: no answer before the deadline
  json body;
};

// The clients' side of the wire: every request goes to one of the nodes, picked at random
// (as by a load balancer), and is sent again, to any node, until one answers it with
// something other than a 5xx; a kill cuts requests off, and the restart may take a while.
class Wire {
 public:
  Wire(std::vector<int> ports, Clock::time_point deadline)
      : ports_(std::move(ports)), deadline_(deadline) {}

  Answer post(const std::string& path, const std::string& body,
              const httplib::Headers& headers = {},
              const std::string& content_type = "application/json") {
    for (;;) {
      httplib::Client http("127.0.0.1", any_port());
      http.set_connection_timeout(2, 0);
      http.set_read_timeout(30, 0);
      ++in_flight_;
      auto r = http.Post(path, headers, body, content_type);
      --in_flight_;
      if (r && r->status < 500) return {r->status, json::parse(r->body, nullptr, false)};
      ++retried_;
      if (Clock::now() > deadline_ || abandon_.load()) return {};
      std::this_thread::sleep_for(50ms);
    }
  }
  // One attempt: nothing when the server is down.
  std::optional<json> get(const std::string& path) {
    httplib::Client http("127.0.0.1", any_port());
    http.set_connection_timeout(2, 0);
    http.set_read_timeout(30, 0);
    auto r = http.Get(path);
    if (!r || r->status != 200) return std::nullopt;
    return json::parse(r->body, nullptr, false);
  }
  // Tries get() until the deadline.
  json get_until_answered(const std::string& path) {
    while (Clock::now() < deadline_) {
      if (std::optional<json> got = get(path)) return *got;
      std::this_thread::sleep_for(100ms);
    }
    return json();
  }
  int in_flight() const { return in_flight_.load(); }
  int retried() const { return retried_.load(); }
  void abandon() { abandon_.store(true); }

 private:
  int any_port() {
    thread_local std::mt19937 pick(std::random_device{}());
    return ports_[pick() % ports_.size()];
  }

  std::vector<int> ports_;
  Clock::time_point deadline_;
  std::atomic<int> in_flight_{0}, retried_{0};
  std::atomic<bool> abandon_{false};
};

// The payment provider's and the carrier's side: sends what the world produces to `ordo
// serve`, badly: each round shuffled (a later order's webhook before an earlier one's, a
// failure and a success interleaved), some held back a round, some sent twice at once and
// some again a round later.
class Provider {
 public:
  Provider(World& world, Wire& wire) : world_(world), wire_(wire), rng_(20260601) {}

  // A signed payment webhook; counts how `ordo serve` took it.
  void send_webhook(const std::string& body) {
    const Answer a = wire_.post("/v1/webhooks/payment", body,
                                {{"X-Signature", webhook_signature(body, kWebhookSecret)}});
    std::lock_guard lock(mu_);
    if (a.status != 200) {
      failures_.push_back(std::to_string(a.status) + " " + a.body.dump() + " for " + body);
    } else if (a.body["duplicate"].get<bool>()) {
      ++duplicate_;
    } else if (a.body["buffered"].get<bool>()) {
      ++buffered_;
    } else {
      ++correlated_;
    }
  }
  void send_delivered(const std::string& order) {
    const json m = {{"name", "order-delivered"},
                    {"correlationKey", order},
                    {"messageId", "delivered:" + order},
                    {"timeToLive", "PT1H"}};
    const Answer a = wire_.post("/v1/messages", m.dump());
    std::lock_guard lock(mu_);
    if (a.status != 200) failures_.push_back(std::to_string(a.status) + " " + a.body.dump());
  }

  // Until `stop` and nothing is left to send.
  void run(const std::atomic<bool>& stop) {
    std::vector<std::string> hooks, delivered;
    std::set<std::string> held;
    while (!stop.load() || !hooks.empty() || !delivered.empty()) {
      for (std::string& h : world_.take_webhooks()) hooks.push_back(std::move(h));
      for (std::string& d : world_.take_deliveries()) delivered.push_back(std::move(d));
      std::shuffle(hooks.begin(), hooks.end(), rng_);
      std::vector<std::string> later;
      for (std::string& body : hooks) {
        if (!stop.load() && rng_() % 4 == 0 && held.insert(body).second) {
          later.push_back(std::move(body));
          continue;
        }
        send_webhook(body);
        if (rng_() % 3 == 0) send_webhook(body);
        if (rng_() % 6 == 0 && held.insert(body + " ").second) later.push_back(body);
      }
      hooks = std::move(later);
      std::shuffle(delivered.begin(), delivered.end(), rng_);
      for (const std::string& order : delivered) {
        send_delivered(order);
        if (rng_() % 5 == 0) send_delivered(order);
      }
      delivered.clear();
      std::this_thread::sleep_for(20ms);
    }
  }

  struct Counts {
    int buffered = 0, correlated = 0, duplicate = 0;
    std::vector<std::string> failures;
  };
  Counts counts() {
    std::lock_guard lock(mu_);
    return {buffered_, correlated_, duplicate_, failures_};
  }

 private:
  World& world_;
  Wire& wire_;
  std::mt19937 rng_;
  std::mutex mu_;
  int buffered_ = 0, correlated_ = 0, duplicate_ = 0;
  std::vector<std::string> failures_;
};

// One run: what is served, and what befalls it.
struct ServedRun {
  int orders = 0;
  int nodes = 1;
  int kills = 0;              // of a random node, spread over the run
  int clients = 4;            // threads starting orders
  int pace_ms = 20;           // up to this long between one client's starts
  std::string db;             // every node's --db
  std::string delivery_log;   // notifications.deliveryLog
  OwnPgServer* pg = nullptr;  // the database server, stopped and started once
  std::chrono::milliseconds kill_gap{200};  // at least this long between kills
  std::chrono::seconds deadline{240};
};

void serve_orders(const TempDir& dir, SmtpSink& smtp, const ServedRun& setup) {
  const std::vector<Order> orders = make_orders(setup.orders);
  World world(orders);
  {
    json config = order_config(world, smtp.url(), setup.delivery_log);
    config["server"] = {{"webhooks",
                         {{"payment",
                           {{"secret", kWebhookSecret},
                            {"signatureHeader", "X-Signature"},
                            {"messageName", "payment-confirmed"},
                            {"timeToLive", "PT1H"}}}}}};
    std::ofstream(dir.path("ordo.json")) << config.dump(2);
  }
  const std::vector<int> ports = fixed_ports(setup.nodes);
  ASSERT_EQ(static_cast<int>(ports.size()), setup.nodes) << "no free ports below the ephemeral range";
  const std::vector<std::string> args = {"--db",      setup.db,
                                         "--config",  dir.path("ordo.json"),
                                         "--threads", std::to_string(kWorkerThreads)};
  const auto listen = [&](int node) {
    return "127.0.0.1:" + std::to_string(ports[static_cast<std::size_t>(node)]);
  };
  std::vector<std::unique_ptr<Served>> nodes;
  std::vector<int> runs(static_cast<std::size_t>(setup.nodes), 0);
  for (int n = 0; n < setup.nodes; ++n) {
    nodes.push_back(std::make_unique<Served>(dir, args, listen(n),
                                             "node-" + std::to_string(n) + "-0.out"));
    ASSERT_EQ(nodes.back()->port(), ports[static_cast<std::size_t>(n)]) << nodes.back()->output();
  }
  const auto outputs = [&] {
    std::string all;
    for (int n = 0; n < setup.nodes; ++n) {
      all += "---- node " + std::to_string(n) + ":\n" +
             nodes[static_cast<std::size_t>(n)]->output();
    }
    return all;
  };

  const auto deadline = Clock::now() + setup.deadline;
  Wire wire(ports, deadline);
  const Answer deployed =
      wire.post("/v1/deployments", read_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn"),
                {}, "application/xml");
  ASSERT_EQ(deployed.status, 201) << deployed.body;
  // A webhook that is not the provider's is refused, and changes nothing (E-1000 is paid).
  {
    const std::string forged = payment_event("E-1000", Scenario::kPaymentFailed);
    const Answer a = wire.post("/v1/webhooks/payment", forged,
                               {{"X-Signature", webhook_signature(forged, "not-the-secret")}});
    EXPECT_EQ(a.status, 401) << a.body;
  }

  // The provider, and the clients starting orders. Some payments are confirmed before the
  // order is started (the provider is fast, the shop slow), some right after.
  Provider provider(world, wire);
  std::atomic<bool> stop_provider{false};
  std::thread providing([&] { provider.run(stop_provider); });
  std::atomic<int> next{0}, answered{0}, created{0}, repeated{0};
  std::mutex mu;
  std::vector<std::string> start_failures;
  std::vector<std::thread> clients;
  for (int c = 0; c < setup.clients; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 pace(static_cast<unsigned>(c));
      for (int i = next++; i < setup.orders; i = next++) {
        // Orders come in over a while, as the earlier ones run.
        std::this_thread::sleep_for(
            std::chrono::milliseconds(1 + pace() % static_cast<unsigned>(setup.pace_ms)));
        const Order& o = orders[static_cast<std::size_t>(i)];
        const bool early = i % 10 == 1 || i % 20 == 17;
        if (early) provider.send_webhook(payment_event(o.id, o.scenario));
        const json start = {
            {"processId", "order-acceptance"}, {"businessKey", o.id}, {"variables", o.vars}};
        const Answer a = wire.post("/v1/process-instances", start.dump());
        // Now and then the shop sends the start again, as after a timeout of its own.
        if (i % 25 == 0 && (a.status == 200 || a.status == 201)) {
          const Answer again = wire.post("/v1/process-instances", start.dump());
          std::lock_guard lock(mu);
          if (again.status != 200 || again.body["created"] != false ||
              again.body["id"] != a.body["id"]) {
            start_failures.push_back(o.id + " again: " + std::to_string(again.status) + " " +
                                     again.body.dump() + " after " + a.body.dump());
          }
        }
        if (i % 10 == 2) provider.send_webhook(payment_event(o.id, o.scenario));
        if (a.status == 201 && a.body["created"] == true) {
          ++created;
        } else if (a.status == 200 && a.body["created"] == false) {
          ++repeated;  // a kill took the first answer: the retry found the instance
        } else {
          std::lock_guard lock(mu);
          start_failures.push_back(o.id + ": " + std::to_string(a.status) + " " + a.body.dump());
        }
        ++answered;
      }
    });
  }

  // Kill a random node at random moments spread over the run (progress counts the orders
  // started and the orders completed), and start it again on its port. Halfway, the database
  // server is stopped for a few seconds and started again.
  const unsigned seed = std::random_device()();
  SCOPED_TRACE("the kills' seed: " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::vector<int> kill_at;  // progress, of 2 * orders
  for (int k = 0; k < setup.kills; ++k) {
    const int step = 2 * setup.orders / (setup.kills + 1);
    kill_at.push_back(step * (k + 1) - step / 3 + static_cast<int>(rng() % static_cast<unsigned>(std::max(1, 2 * step / 3))));
  }
  std::sort(kill_at.begin(), kill_at.end());
  int kills = 0, kills_in_flight = 0, completed = 0;
  bool db_restarted = setup.pg == nullptr;
  std::string kill_moments;  // started/completed orders at each kill
  std::string why_not_done, db_restart;
  auto last_poll = Clock::now(), last_start = Clock::now();
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(2ms);
    const int progress = answered.load() + completed;
    if (kills < setup.kills && Clock::now() - last_start > setup.kill_gap &&
        progress >= kill_at[static_cast<std::size_t>(kills)]) {
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 150));
      kills_in_flight += wire.in_flight() > 0 ? 1 : 0;
      kill_moments += (kills == 0 ? "" : ", ") + std::to_string(answered.load()) + "/" +
                      std::to_string(completed);
      const auto n = static_cast<std::size_t>(rng() % static_cast<unsigned>(setup.nodes));
      nodes[n]->kill();
      ++kills;
      nodes[n] = std::make_unique<Served>(
          dir, args, listen(static_cast<int>(n)),
          "node-" + std::to_string(n) + "-" + std::to_string(++runs[n]) + ".out");
      last_start = Clock::now();
      if (nodes[n]->port() != ports[n]) {
        why_not_done = "the restart did not listen on " + listen(static_cast<int>(n)) + ":\n" +
                       nodes[n]->output();
        break;
      }
    }
    if (!db_restarted && kills >= setup.kills / 2) {
      db_restarted = true;
      std::string why;
      db_restart = std::to_string(answered.load()) + "/" + std::to_string(completed);
      if (!setup.pg->pause(why)) {
        why_not_done = "the database did not stop: " + why;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1000 + rng() % 2000));
      if (!setup.pg->resume(why)) {
        why_not_done = "the database did not start again: " + why;
        break;
      }
    }
    if (Clock::now() - last_poll < 200ms) continue;
    last_poll = Clock::now();
    const auto done = wire.get("/v1/process-instances?state=completed&limit=10000");
    const auto incidents = wire.get("/v1/incidents");
    if (done && done->contains("instances"))
      completed = static_cast<int>((*done)["instances"].size());
    // An incident will not go away by waiting: stop and report it.
    if (incidents && incidents->contains("incidents") && !(*incidents)["incidents"].empty()) {
      why_not_done = "incidents: " + (*incidents)["incidents"].dump(2);
      break;
    }
    if (completed >= setup.orders && kills == setup.kills && db_restarted) break;
  }
  if (completed < setup.orders && why_not_done.empty()) {
    why_not_done = std::to_string(completed) + " of " + std::to_string(setup.orders) +
                   " orders completed by the deadline";
  }
  if (!why_not_done.empty()) wire.abandon();
  for (std::thread& t : clients) t.join();
  stop_provider.store(true);
  providing.join();
  ASSERT_TRUE(why_not_done.empty())
      << why_not_done << "\nafter " << kills << " kills; the nodes' output:\n" << outputs();

  // Every order started, once, and at the right end.
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(start_failures.empty()) << ::testing::PrintToString(start_failures);
  }
  EXPECT_EQ(answered.load(), setup.orders);
  const json all = wire.get_until_answered("/v1/process-instances?limit=10000");
  ASSERT_TRUE(all.contains("instances")) << all;
  std::map<std::string, std::vector<json>> by_order;
  for (const json& i : all["instances"]) by_order[i["businessKey"]].push_back(i);
  EXPECT_EQ(all["instances"].size(), static_cast<std::size_t>(setup.orders));
  for (const Order& o : orders) {
    const std::vector<json>& found = by_order[o.id];
    ASSERT_EQ(found.size(), 1u) << o.id << ": " << json(found).dump();
    EXPECT_EQ(found[0]["state"], "completed") << o.id;
    EXPECT_EQ(found[0]["endEvent"], expected_end(o.scenario)) << o.id;
  }
  const json incidents = wire.get_until_answered("/v1/incidents");
  EXPECT_EQ(incidents["incidents"], json::array()) << incidents;
  for (auto& node : nodes) EXPECT_EQ(node->stop(), 0) << node->output();

  // The webhooks: every one taken (200), some before their order waited, the repeats dropped.
  const Provider::Counts hooks = provider.counts();
  EXPECT_TRUE(hooks.failures.empty()) << ::testing::PrintToString(hooks.failures);
  EXPECT_GT(hooks.buffered, 0);
  EXPECT_GT(hooks.duplicate, 0);

  // The side effects, as the ERP and the provider saw them.
  expect_each_side_effect_once(orders, world);

  int repeats = 0;
  expect_each_customer_got_their_messages_once(orders, smtp.mail(), world.sms(),
                                               setup.delivery_log, repeats);
  // A copy can only come from a server killed (or cut off from its database) after the SMTP
  // server's 250 and before the log's record: at most one per handler thread and kill.
  const int cut_offs = kills + (setup.pg == nullptr ? 0 : setup.nodes);
  EXPECT_LE(repeats, kWorkerThreads * cut_offs);
  EXPECT_EQ(kills, setup.kills);
  std::cout << "[ e2e ] " << setup.orders << " orders over HTTP to " << setup.nodes
            << " node(s), " << kills << " kills (SIGKILL) of ordo serve (at " << kill_moments
            << " orders started/completed)"
            << (db_restart.empty() ? "" : ", the database restarted at " + db_restart) << ", "
            << kills_in_flight << " with requests in flight, " << wire.retried()
            << " requests retried, " << created.load() << " starts created, " << repeated.load()
            << " found by a retry; webhooks: " << hooks.correlated << " correlated, "
            << hooks.buffered << " buffered, " << hooks.duplicate << " duplicates; "
            << smtp.mail().size() << " mails, " << world.sms().size() << " SMS, " << repeats
            << " repeated mail(s) with the same Message-ID\n";
}

TEST(ServeOrdersEndToEnd, FiveHundredOrdersOverHttpSurviveKillsOfTheServer) {
  TempDir dir("serve-orders");
  SmtpSink smtp(dir.path("mail.jsonl"), {"--fail-first", "3"});
  if (smtp.port() == 0) GTEST_SKIP() << "no SMTP server: install python3-aiosmtpd";
  ServedRun setup;
  setup.orders = 500;
  setup.kills = 3;
  setup.db = dir.path("orders.db");
  setup.delivery_log = dir.path("deliveries.db");
  serve_orders(dir, smtp, setup);
}

// Three nodes share one PostgreSQL database and its delivery log; any node may take any
// request, job, timer or webhook. A killed node's locks are released when it starts again
// (or expire), so its orders go on on whichever node takes them.
TEST(ServeOrdersEndToEnd, ThreeNodesOnPostgresqlSurviveKillsOfAnyNodeAndOfTheDatabase) {
  TempDir dir("serve-nodes");
  SmtpSink smtp(dir.path("mail.jsonl"), {"--fail-first", "3"});
  if (smtp.port() == 0) GTEST_SKIP() << "no SMTP server: install python3-aiosmtpd";
  // A server of its own: it is stopped mid-run.
  OwnPgServer pg(dir.path("pg"));
  ASSERT_FALSE(pg.url().empty()) << pg.why();
  ServedRun setup;
  const char* orders = std::getenv("ORDO_E2E_NODE_ORDERS");  // fewer, for a quick local run
  setup.orders = orders != nullptr ? std::max(100, std::atoi(orders)) : 3000;
  setup.nodes = 3;
  setup.kills = 30;
  setup.clients = 6;
  setup.pace_ms = 4;
  setup.db = pg.url() + "?schema=shop";
  setup.delivery_log = setup.db;
  setup.pg = &pg;
  setup.kill_gap = std::chrono::milliseconds(300);
  setup.deadline = std::chrono::seconds(900);
  serve_orders(dir, smtp, setup);
}

}  // namespace
}  // namespace ordo::testing
