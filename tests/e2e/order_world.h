// The order-acceptance world the end-to-end tests share: the orders (a scenario, a locale
// and a phone number each), what each must end with and receive, an ERP, a payment provider
// and an SMS gateway on loopback that misbehave (500s, a busy gateway, a webhook per charge
// that may come before the instance waits for it), the ordo.json that points the adapters at
// them, and the check that every customer got exactly their messages once.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/adapters/adapters.h"
#include "ordo/adapters/notifications.h"
#include "peers/http_peer.h"
#include "test_util.h"

namespace ordo::testing {

// The payment provider's webhook secret.
inline constexpr const char* kWebhookSecret = "whsec_e2e";

enum class Scenario { kDelivered, kUnavailable, kDeclined, kPaymentFailed };

struct Order {
  std::string id;
  Scenario scenario = Scenario::kDelivered;
  std::string locale;    // as the customer gives it
  std::string resolved;  // the template locale it must get
  bool phone_ok = true;
  nlohmann::json vars;
};

// Orders E-1000, E-1001, ...: by the last digit of the index, 3 unavailable, 5 declined by
// the provider, 7 failed in its webhook (3-D Secure), 9 with an unusable phone number.
inline std::vector<Order> make_orders(int count) {
  const std::vector<std::pair<std::string, std::string>> locales = {
      {"de", "de"}, {"en", "en"}, {"pl", "pl"}, {"ru", "ru"}, {"fr-FR", "en"}, {"de-AT", "de"}};
  std::vector<Order> out;
  for (int i = 0; i < count; ++i) {
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
inline std::map<std::string, std::string> expected_messages(const Order& o) {
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

inline const char* expected_end(Scenario s) {
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

// The payment provider's webhook for an order it charged (the provider declines kDeclined
// orders at once, without one).
inline std::string payment_event(const std::string& order_id, Scenario s) {
  const bool ok = s != Scenario::kPaymentFailed;
  nlohmann::json event = {{"id", "evt_" + order_id},
                          {"type", ok ? "payment.succeeded" : "payment.failed"},
                          {"data", {{"paymentId", "P-" + order_id}, {"orderId", order_id}}}};
  if (!ok) event["data"]["reason"] = "3-D Secure failed";
  return event.dump();
}

// The outside world: ERP, payment provider (with its webhooks) and SMS gateway.
class World {
 public:
  using json = nlohmann::json;

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
      const std::string id = id_of(req);
      note_key(req, id);
      res.status = 201;
      res.set_content(json{{"reservationId", "R-" + id}}.dump(), "application/json");
    });
    erp.Post(R"(/reservations/([^/]+)/release)",
             [](const httplib::Request&, httplib::Response& res) {
               res.set_content(R"({"released": true})", "application/json");
             });
    erp.Post("/warehouse-orders", [this](const httplib::Request& req, httplib::Response& res) {
      if (flaky(req)) return fail(res);
      const std::string id = id_of(req);
      note_key(req, id);
      res.set_content(json{{"warehouseOrderId", "W-" + id}}.dump(), "application/json");
    });
    erp.Post("/shipments", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string id = id_of(req);
      note_key(req, id);
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
      note_key(req, id);
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
      // The webhook, sent at once: it may well arrive before the instance waits for it.
      if (charges_.insert(key).second) webhooks_.push_back(payment_event(id, s));
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

  // The payment webhooks the provider has to send since the last call (one per charge).
  std::vector<std::string> take_webhooks() { return take(webhooks_); }
  // The orders delivered since the last call (one per shipped order).
  std::vector<std::string> take_deliveries() { return take(deliveries_); }

  std::map<std::string, json> sms() {
    std::lock_guard lock(mu_);
    return sms_sent_;
  }
  // The Idempotency-Keys the ERP and the provider saw, by path ("/reservations",
  // "/warehouse-orders", "/shipments", "/charges") and order: a side effect done once has one
  // key.
  std::map<std::string, std::map<std::string, std::set<std::string>>> keys() {
    std::lock_guard lock(mu_);
    return keys_;
  }

 private:
  static std::string id_of(const httplib::Request& req) {
    return json::parse(req.body)["orderId"].get<std::string>();
  }
  void note_key(const httplib::Request& req, const std::string& id) {
    std::lock_guard lock(mu_);
    keys_[req.path][id].insert(req.get_header_value("Idempotency-Key"));
  }
  std::vector<std::string> take(std::deque<std::string>& queue) {
    std::lock_guard lock(mu_);
    std::vector<std::string> out(queue.begin(), queue.end());
    queue.clear();
    return out;
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
  std::map<std::string, std::map<std::string, std::set<std::string>>> keys_;
  int sms_requests_ = 0, erp_requests_ = 0;
  HttpPeer erp_, psp_, sms_gateway_;
};

// ordo.json: the ERP, payment and notify adapters against `world`, email through `smtp`,
// the delivery log in `log`.
inline nlohmann::json order_config(const World& world, const std::string& smtp,
                                   const std::string& log) {
  using json = nlohmann::json;
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
  return json{{"adapters", adapters}, {"notifications", notifications}};
}

// Each reservation, charge, warehouse order and shipment an order calls for reached the ERP
// or the payment provider under one Idempotency-Key (however often it was retried), and none
// that it does not call for.
inline void expect_each_side_effect_once(const std::vector<Order>& orders, World& world) {
  auto keys = world.keys();
  for (const Order& o : orders) {
    const bool available = o.scenario != Scenario::kUnavailable;
    const bool paid = o.scenario == Scenario::kDelivered;
    const std::map<std::string, bool> expected = {{"/reservations", available},
                                                  {"/charges", available},
                                                  {"/warehouse-orders", paid},
                                                  {"/shipments", paid}};
    for (const auto& [path, once] : expected) {
      EXPECT_EQ(keys[path][o.id].size(), once ? 1u : 0u)
          << o.id << " " << path << ": " << ::testing::PrintToString(keys[path][o.id]);
    }
  }
}

// Every customer got exactly the messages the process and the channel rules call for, once,
// in their language: as the SMTP server decoded the mail (`mail`), as the SMS gateway counted
// (`sms`), and as the delivery log in `log` recorded. A mail may come twice only where a
// worker died between the server's 250 and the log's record (the log marks that attempt
// interrupted; the copy carries the same Message-ID). `repeats`: how many such copies.
inline void expect_each_customer_got_their_messages_once(
    const std::vector<Order>& orders, const std::vector<nlohmann::json>& mail_received,
    const std::map<std::string, nlohmann::json>& sms, const std::string& log, int& repeats) {
  using json = nlohmann::json;
  repeats = 0;
  auto templates = NotificationTemplates::load(ORDO_SOURCE_DIR "/processes/templates");
  ASSERT_OK(templates.status());
  // The delivery log, read once, by order.
  std::map<std::string, std::vector<DeliveryRecord>> logged;
  {
    auto rows = read_delivery_log(log);
    ASSERT_OK(rows.status());
    for (DeliveryRecord& r : *rows) logged[r.order_id].push_back(std::move(r));
  }
  // Per order, the mail received per message.
  std::map<std::string, std::map<std::string, std::vector<json>>> mail;
  for (const json& m : mail_received) {
    const std::string id = m["message_id"];  // <ordo.MESSAGE.ORDER.email.HASH@shop.example>
    const std::size_t order_at = id.find(".E-");
    ASSERT_NE(order_at, std::string::npos) << id;
    const std::string message = id.substr(6, order_at - 6);
    const std::string order = id.substr(order_at + 1, id.find(".email.") - order_at - 1);
    mail[order][message].push_back(m);
  }
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
    std::map<std::string, int> sent, interrupted;
    for (const DeliveryRecord& r : logged[o.id]) {
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
}

}  // namespace ordo::testing
