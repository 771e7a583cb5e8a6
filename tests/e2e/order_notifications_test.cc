// End to end: a few hundred orders through processes/order-acceptance.bpmn, worked by
// `ordo worker --config` (a real process, killed with SIGKILL again and again) against an
// ERP, a payment provider and an SMS gateway on loopback that misbehave (500s, duplicated
// and early webhooks), and a real SMTP server. Every order must reach the right end event,
// and every customer must receive exactly the messages the process and the channel rules
// call for, once, in their language.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "durability/durability_util.h"
#include "ordo/adapters.h"
#include "ordo/engine.h"
#include "ordo/notifications.h"
#include "peers/http_peer.h"
#include "peers/smtp_sink.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kOrders = 300;
constexpr const char* kSecret = "whsec_e2e";

enum class Scenario { kDelivered, kUnavailable, kDeclined, kPaymentFailed };

struct Order {
  std::string id;
  Scenario scenario = Scenario::kDelivered;
  std::string locale;    // as the customer gives it
  std::string resolved;  // the template locale it must get
  bool phone_ok = true;
  json vars;
};

std::vector<Order> make_orders() {
  const std::vector<std::pair<std::string, std::string>> locales = {
      {"de", "de"}, {"en", "en"}, {"pl", "pl"}, {"ru", "ru"}, {"fr-FR", "en"}, {"de-AT", "de"}};
  std::vector<Order> out;
  for (int i = 0; i < kOrders; ++i) {
    Order o;
    o.id = "E-" + std::to_string(1000 + i);
    o.scenario = i % 10 == 3   ? Scenario::kUnavailable
                 : i % 10 == 5 ? Scenario::kDeclined
                 : i % 10 == 7 ? Scenario::kPaymentFailed
                               : Scenario::kDelivered;
    o.locale = locales[static_cast<std::size_t>(i) % locales.size()].first;
    o.resolved = locales[static_cast<std::size_t>(i) % locales.size()].second;
    o.phone_ok = i % 10 != 9;
    const std::string sku = o.scenario == Scenario::kUnavailable ? "SKU-OUT" : "SKU-1";
    o.vars = {
        {"orderId", o.id},
        {"customer",
         {{"id", "C-" + std::to_string(i)},
          {"name", "Kunde Nr. " + std::to_string(i)},
          {"email", "c" + std::to_string(i) + "@example.com"},
          {"phone", o.phone_ok ? "+49 151 " + std::to_string(1000000 + i) : "0151 123"},
          {"locale", o.locale}}},
        {"items", {{{"sku", sku}, {"name", "Kaffeemühle"}, {"quantity", 1}, {"unitPrice", 49.5}}}},
        {"total", 49.5},
        {"currency", "EUR"},
        {"shippingAddress",
         {{"street", "Hauptstr. 1"}, {"postalCode", "01067"}, {"city", "Dresden"}}}};
    out.push_back(std::move(o));
  }
  return out;
}

// What the process and the rules call for: message -> channel.
std::map<std::string, std::string> expected_messages(const Order& o) {
  switch (o.scenario) {
    case Scenario::kUnavailable:
      return {{"order-unavailable", "email"}};
    case Scenario::kDeclined:
    case Scenario::kPaymentFailed:
      return {{"payment-failed", "email"}};
    case Scenario::kDelivered:
      return {{"order-confirmation", "email"},
              {"order-shipped", o.phone_ok ? "sms" : "email"},
              {"order-delivered", "email"}};
  }
  return {};
}

const char* expected_end(Scenario s) {
  switch (s) {
    case Scenario::kUnavailable:
      return "end-unavailable";
    case Scenario::kDeclined:
    case Scenario::kPaymentFailed:
      return "end-payment-failed";
    case Scenario::kDelivered:
      return "end-delivered";
  }
  return "";
}

// The outside world: ERP, payment provider (with its webhooks) and SMS gateway.
class World {
 public:
  explicit World(const std::vector<Order>& orders) {
    for (const Order& o : orders) scenario_[o.id] = o.scenario;
    auto& erp = erp_.server();
    erp.Post("/availability", [this](const httplib::Request& req, httplib::Response& res) {
      if (flaky(req)) return fail(res);
      json body = json::parse(req.body);
      json items = json::array();
      for (const json& item : body["items"]) {
        const int qty = item["quantity"];
        items.push_back({{"sku", item["sku"]},
                         {"requested", qty},
                         {"available", item["sku"] == "SKU-OUT" ? 0 : qty}});
      }
      res.set_content(json{{"items", items}}.dump(), "application/json");
    });
    erp.Post("/reservations", [this](const httplib::Request& req, httplib::Response& res) {
      if (flaky(req)) return fail(res);
      res.status = 201;
      res.set_content(json{{"reservationId", "R-" + id_of(req)}}.dump(), "application/json");
    });
    erp.Post(R"(/reservations/([^/]+)/release)",
             [](const httplib::Request&, httplib::Response& res) {
               res.set_content(R"({"released": true})", "application/json");
             });
    erp.Post("/warehouse-orders", [this](const httplib::Request& req, httplib::Response& res) {
      if (flaky(req)) return fail(res);
      res.set_content(json{{"warehouseOrderId", "W-" + id_of(req)}}.dump(), "application/json");
    });
    erp.Post("/shipments", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string id = id_of(req);
      {
        std::lock_guard lock(mu_);
        if (shipped_.insert(id).second) deliveries_.push_back(id);
      }
      res.set_content(json{{"trackingNumber", "T" + id},
                           {"carrier", "DHL"},
                           {"trackingUrl", "https://track.example/T" + id}}
                          .dump(),
                      "application/json");
    });
    auto& psp = psp_.server();
    psp.Post("/charges", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string id = id_of(req);
      const Scenario s = scenario_.at(id);
      if (s == Scenario::kDeclined) {
        res.status = 402;
        res.set_content(R"({"status": "declined", "declineReason": "card declined"})",
                        "application/json");
        return;
      }
      // The provider's own dedupe: the same Idempotency-Key is the same charge.
      std::lock_guard lock(mu_);
      const std::string key = req.get_header_value("Idempotency-Key");
      if (charges_.insert(key).second) {
        // The webhook, sent at once: it may well arrive before the instance waits for it.
        const bool ok = s != Scenario::kPaymentFailed;
        json event = {{"id", "evt_" + id},
                      {"type", ok ? "payment.succeeded" : "payment.failed"},
                      {"data", {{"paymentId", "P-" + id}, {"orderId", id}}}};
        if (!ok) event["data"]["reason"] = "3-D Secure failed";
        webhooks_.push_back(event.dump());
      }
      res.status = 201;
      res.set_content(json{{"paymentId", "P-" + id}, {"status", "pending"}}.dump(),
                      "application/json");
    });
    psp.Post(R"(/charges/([^/]+)/cancel)", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"status": "voided"})", "application/json");
    });
    sms_gateway_.server().Post("/sms", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string key = req.get_header_value("Idempotency-Key");
      std::lock_guard lock(mu_);
      ++sms_requests_;
      // The gateway is busy now and then (once per message: the retry gets through).
      if (sms_requests_ % 17 == 0 && busy_once_.insert(key).second) {
        res.status = 503;
        return;
      }
      // A gateway that honours Idempotency-Key sends a repeat once: it counts once.
      if (!sms_sent_.count(key)) sms_sent_[key] = json::parse(req.body);
      res.set_content(json{{"id", "sms-" + key}}.dump(), "application/json");
    });
  }

  std::string erp_url() const { return erp_.url(""); }
  std::string psp_url() const { return psp_.url(""); }
  std::string sms_url() const { return sms_gateway_.url("/sms"); }

  // What the outside world sends to the engine now: payment webhooks (each twice), and
  // deliveries of shipped orders.
  void publish(Engine& engine) {
    std::vector<std::string> hooks;
    std::vector<std::string> delivered;
    {
      std::lock_guard lock(mu_);
      hooks.assign(webhooks_.begin(), webhooks_.end());
      webhooks_.clear();
      delivered.assign(deliveries_.begin(), deliveries_.end());
      deliveries_.clear();
    }
    for (const std::string& body : hooks) {
      for (int copy = 0; copy < 2; ++copy) {
        Result<Message> m =
            payment_webhook_message(body, webhook_signature(body, kSecret), kSecret);
        ASSERT_OK(m.status());
        ASSERT_OK(engine.publish_message(*m).status());
      }
    }
    for (const std::string& id : delivered) {
      Message m;
      m.name = "order-delivered";
      m.correlation_key = id;
      m.message_id = "delivered:" + id;
      m.ttl_ms = 3'600'000;
      ASSERT_OK(engine.publish_message(std::move(m)).status());
    }
  }

  std::map<std::string, json> sms() {
    std::lock_guard lock(mu_);
    return sms_sent_;
  }

 private:
  static std::string id_of(const httplib::Request& req) {
    return json::parse(req.body)["orderId"].get<std::string>();
  }
  // Every 13th request to the ERP fails once with a 500 (retried by the adapter).
  bool flaky(const httplib::Request& req) {
    std::lock_guard lock(mu_);
    const std::string key = req.path + req.get_header_value("Idempotency-Key");
    return ++erp_requests_ % 13 == 0 && failed_once_.insert(key).second;
  }
  static void fail(httplib::Response& res) {
    res.status = 500;
    res.set_content("<html>Internal Server Error</html>", "text/html");
  }

  std::mutex mu_;
  std::map<std::string, Scenario> scenario_;
  std::set<std::string> shipped_, charges_, failed_once_, busy_once_;
  std::deque<std::string> webhooks_, deliveries_;
  std::map<std::string, json> sms_sent_;  // by Idempotency-Key: what the customers got
  int sms_requests_ = 0, erp_requests_ = 0;
  HttpPeer erp_, psp_, sms_gateway_;
};

std::string config_json(const World& world, const std::string& smtp, const std::string& log) {
  json adapters = json::object();
  for (const char* op : {"check-availability", "reserve", "release", "handover", "ship"}) {
    adapters[std::string("erp.") + op] = {{"adapter", "erp"},
                                          {"operation", op},
                                          {"baseUrl", world.erp_url()},
                                          {"retryBackoffMs", 100}};
  }
  for (const char* op : {"charge", "cancel"}) {
    adapters[std::string("payment.") + op] = {{"adapter", "payment"},
                                              {"operation", op},
                                              {"baseUrl", world.psp_url()},
                                              {"retryBackoffMs", 100}};
  }
  adapters["notify.send"] = {{"adapter", "notify"}};
  json notifications = {
      {"templates", ORDO_SOURCE_DIR "/processes/templates"},
      {"deliveryLog", log},
      {"shop",
       {{"name", "Ordo Shop"},
        {"url", "https://shop.example"},
        {"supportEmail", "help@shop.example"}}},
      {"channels",
       {{"email",
         {{"url", smtp},
          {"from", "shop@shop.example"},
          {"fromName", "Ordo Shop"},
          {"retryBackoffMs", 100}}},
        {"sms", {{"url", world.sms_url()}, {"from", "OrdoShop"}, {"retryBackoffMs", 100}}}}},
      {"rules",
       {{"order-confirmation", {"email"}},
        {"order-shipped", {"sms", "email"}},
        {"order-delivered", {"email"}},
        {"payment-failed", {"email"}},
        {"order-unavailable", {"email"}}}}};
  return json{{"adapters", adapters}, {"notifications", notifications}}.dump(2);
}

TEST(OrderNotificationsEndToEnd, EveryCustomerGetsExactlyTheirMessagesOnceInTheirLanguage) {
  TempDir dir("e2e");
  SmtpSink smtp(dir.path("mail.jsonl"), {"--fail-first", "3"});
  if (smtp.port() == 0) GTEST_SKIP() << "no SMTP server: install python3-aiosmtpd";
  const std::vector<Order> orders = make_orders();
  World world(orders);
  const std::string db = dir.path("orders.db");
  const std::string log = dir.path("deliveries.db");
  { std::ofstream(dir.path("ordo.json")) << config_json(world, smtp.url(), log); }
  auto engine = Engine::open(db);
  ASSERT_OK(engine.status());
  ASSERT_OK((*engine)->deploy_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn").status());
  for (const Order& o : orders) {
    ASSERT_OK((*engine)->start_instance({"order-acceptance", o.vars, o.id}).status());
  }

  // The worker, killed with SIGKILL at random moments (often in the middle of sending) and
  // started again, until every order has ended.
  std::mt19937 rng(20261123);
  int kills = 0;
  const auto all_ended = [&] {
    auto completed = (*engine)->instances({"", InstanceState::kCompleted, kOrders + 1, ""});
    auto incidents = (*engine)->instances({"", InstanceState::kIncident, kOrders + 1, ""});
    // An incident will not go away by waiting: stop and report it.
    return (completed.is_ok() && completed->size() == static_cast<std::size_t>(kOrders)) ||
           (incidents.is_ok() && !incidents->empty());
  };
  const auto deadline = std::chrono::steady_clock::now() + 240s;
  while (!all_ended() && std::chrono::steady_clock::now() < deadline) {
    const pid_t worker = spawn_ordo({"worker", "--db", db, "--config", dir.path("ordo.json")},
                                    dir.path("worker.log"));
    const auto run_for = std::chrono::milliseconds(kills < 12 ? 150 + rng() % 450 : 60'000);
    const auto until = std::chrono::steady_clock::now() + run_for;
    while (std::chrono::steady_clock::now() < until && !all_ended()) {
      world.publish(**engine);
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

  // The mail, as the SMTP server decoded it: per order, the Message-IDs it received.
  auto templates = NotificationTemplates::load(ORDO_SOURCE_DIR "/processes/templates");
  ASSERT_OK(templates.status());
  std::map<std::string, std::map<std::string, std::vector<json>>> mail;  // order -> message
  for (const json& m : smtp.mail()) {
    const std::string id = m["message_id"];  // <ordo.MESSAGE.ORDER.email.HASH@shop.example>
    const std::size_t order_at = id.find(".E-");
    ASSERT_NE(order_at, std::string::npos) << id;
    const std::string message = id.substr(6, order_at - 6);
    const std::string order = id.substr(order_at + 1, id.find(".email.") - order_at - 1);
    mail[order][message].push_back(m);
  }
  const auto sms = world.sms();
  int repeats = 0;
  for (const Order& o : orders) {
    SCOPED_TRACE(o.id);
    std::map<std::string, std::string> got;
    for (const auto& [message, copies] : mail[o.id]) {
      got[message] = "email";
      repeats += static_cast<int>(copies.size()) - 1;
      const json& m = copies.front();
      EXPECT_EQ(m["rcpt_tos"], json::array({o.vars["customer"]["email"]}));
      EXPECT_EQ(m["content_language"], o.resolved);
      EXPECT_TRUE(m["raw_ascii"].get<bool>());
      // The greeting of the customer's language opens the text.
      const json view = templates->view(o.vars, o.id, o.resolved, {});
      EXPECT_EQ(m["text"].get<std::string>().rfind(view["greeting"].get<std::string>(), 0), 0u)
          << m["text"];
      EXPECT_NE(m["subject"].get<std::string>().find(o.id), std::string::npos) << m["subject"];
    }
    for (const char* message : {"order-shipped"}) {
      const std::string key = std::string(message) + ":" + o.id + ":sms";
      if (auto it = sms.find(key); it != sms.end()) {
        EXPECT_EQ(got.count(message), 0u) << "sent by SMS and by email";
        got[message] = "sms";
        EXPECT_NE(it->second["text"].get<std::string>().find("https://track.example/T" + o.id),
                  std::string::npos);
      }
    }
    EXPECT_EQ(got, expected_messages(o));
    // The delivery log agrees: one 'sent' per message.
    auto rows = read_delivery_log(log, o.id);
    ASSERT_OK(rows.status());
    std::map<std::string, int> sent, interrupted;
    for (const DeliveryRecord& r : *rows) {
      sent[r.message] += r.status == "sent" ? 1 : 0;
      if (r.channel == "email" && r.error.rfind("interrupted", 0) == 0) ++interrupted[r.message];
    }
    for (const auto& [message, channel] : expected_messages(o)) {
      EXPECT_EQ(sent[message], 1) << message;
    }
    // A second copy only where a worker died between sending and recording: never for a
    // message the log knew was sent.
    for (const auto& [message, copies] : mail[o.id]) {
      EXPECT_LE(copies.size(), 1u + static_cast<std::size_t>(interrupted[message])) << message;
    }
  }
  // A copy can only come from a worker killed after the server's 250 and before the log's
  // record (at most one per handler thread and kill); it carries the same Message-ID, so
  // the mailbox shows it once.
  EXPECT_LE(repeats, 2 * kills);
  std::cout << "[ e2e ] " << kOrders << " orders, " << kills << " worker runs (SIGKILL), "
            << smtp.mail().size() << " mails, " << sms.size() << " SMS, " << repeats
            << " repeated mail(s) with the same Message-ID\n";
}

}  // namespace
}  // namespace ordo::testing
