// The shipped order process in a real Engine, its erp.* and payment.* jobs done by the ERP
// and payment adapters (configured through ordo.json) against stub peers, payment
// confirmations arriving as signed webhooks.
#include <gtest/gtest.h>

#include <mutex>

#include "adapters/erp_payment_stubs.h"
#include "ordo/adapters/adapters.h"
#include "ordo/engine.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;

constexpr const char* kShopSecret = "whsec_shop";

json order_variables(const std::string& id) {
  return {{"orderId", id},
          {"items", {{{"sku", "SKU-1"}, {"name", "Desk lamp"}, {"quantity", 2}}}},
          {"total", 90.0},
          {"currency", "EUR"},
          {"customer", {{"email", "lee@example.com"}}}};
}

// ordo.json for every erp.* and payment.* task type of the process; notify.send simulated.
std::string config(const ErpStub& erp, const PaymentStub& psp) {
  json adapters = json::object();
  for (const char* op : {"check-availability", "reserve", "release", "handover", "ship"}) {
    adapters[std::string("erp.") + op] = {
        {"adapter", "erp"},
        {"operation", op},
        {"baseUrl", erp.base_url()},
        {"headers", {{"Authorization", "Bearer ${env:ERP_TOKEN}"}}}};
  }
  for (const char* op : {"charge", "cancel"}) {
    adapters[std::string("payment.") + op] = {
        {"adapter", "payment"}, {"operation", op}, {"baseUrl", psp.base_url()}};
  }
  adapters["notify.send"] = {{"adapter", "simulated"}};
  return json{{"adapters", adapters}}.dump(2);
}

// A shop: the engine on a virtual clock, the stubs, and the notifications it sent.
class Shop {
 public:
  Shop() {
    EngineOptions o;
    o.clock = std::make_shared<VirtualClock>(1'796'119'200'000);
    o.retry_backoff_ms = 0;
    engine = std::make_unique<Engine>(o);
    auto deployed = engine->deploy_file(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn");
    EXPECT_TRUE(deployed.is_ok()) << deployed.status().to_string();
    auto c = parse_adapter_config(config(erp, psp), "ordo.json",
                                  [](const std::string& name, std::string& value) {
                                    value = "t0ken";
                                    return name == "ERP_TOKEN";
                                  });
    EXPECT_TRUE(c.is_ok()) << c.status().to_string();
    if (!c.is_ok()) return;
    EXPECT_EQ(c->handlers.size(), 7u);
    for (auto& [type, handler] : c->handlers) {
      engine->register_handler(type, [this, handler = handler](const Job& job) {
        {
          std::lock_guard lock(mu_);
          jobs_.emplace_back(job.type());
        }
        return handler(job);
      });
    }
    engine->register_handler("notify.send", [this](const Job& job) {
      std::lock_guard lock(mu_);
      jobs_.emplace_back(job.type());
      sent_.emplace_back(job.header("template"));
      return JobOutcome::complete();
    });
  }
  InstanceId start(const std::string& id) {
    auto started = engine->start("order-acceptance", order_variables(id), id);
    EXPECT_TRUE(started.is_ok()) << started.status().to_string();
    must(engine->run_until_idle());
    return started.is_ok() ? started->id : 0;
  }
  MessageResult webhook(const std::string& event_id, const std::string& type,
                        const std::string& order_id, const std::string& payment_id) {
    const std::string body = json{{"id", event_id},
                                  {"type", type},
                                  {"data", {{"paymentId", payment_id}, {"orderId", order_id}}}}
                                 .dump();
    auto message = payment_webhook_message(body, webhook_signature(body, kShopSecret), kShopSecret);
    EXPECT_TRUE(message.is_ok()) << message.status().to_string();
    auto published = engine->publish_message(*message);
    EXPECT_TRUE(published.is_ok()) << published.status().to_string();
    must(engine->run_until_idle());
    return published.is_ok() ? *published : MessageResult{};
  }
  InstanceInfo info(InstanceId id) {
    auto i = engine->instance(id);
    EXPECT_TRUE(i.is_ok()) << i.status().to_string();
    return i.is_ok() ? *i : InstanceInfo{};
  }
  std::vector<std::string> sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }
  // The job types handled, in order.
  std::vector<std::string> jobs() {
    std::lock_guard lock(mu_);
    return jobs_;
  }

  ErpStub erp;
  PaymentStub psp;
  std::unique_ptr<Engine> engine;

 private:
  std::mutex mu_;
  std::vector<std::string> sent_;
  std::vector<std::string> jobs_;
};

bool waits_at(const InstanceInfo& info, const std::string& element) {
  for (const ElementInfo& e : info.elements) {
    if (e.element_id == element) return true;
  }
  return false;
}

TEST(ErpPaymentProcess, AConfirmedPaymentShipsTheOrderAndItIsDelivered) {
  Shop shop;
  const InstanceId id = shop.start("O-1");
  InstanceInfo waiting = shop.info(id);
  ASSERT_TRUE(waits_at(waiting, "await-payment-confirmation")) << waiting.variables.dump();
  EXPECT_EQ(waiting.variables["reservationId"], "R-O-1");
  EXPECT_EQ(waiting.variables["paymentId"], "PAY-1");

  MessageResult confirmed = shop.webhook("evt_1", "payment.succeeded", "O-1", "PAY-1");
  EXPECT_EQ(confirmed.instances, std::vector<InstanceId>{id});
  InstanceInfo shipped = shop.info(id);
  ASSERT_TRUE(waits_at(shipped, "await-delivery")) << shipped.variables.dump();
  EXPECT_EQ(shipped.variables["warehouseOrderId"], "W-O-1");
  EXPECT_EQ(shipped.variables["trackingNumber"], "TRK-O-1");
  EXPECT_EQ(shipped.variables["carrier"], "DHL");

  ASSERT_TRUE(shop.engine->publish_message("order-delivered", "O-1").is_ok());
  must(shop.engine->run_until_idle());
  InstanceInfo done = shop.info(id);
  EXPECT_EQ(done.state, InstanceState::kCompleted);
  EXPECT_EQ(done.end_event, "end-delivered");
  EXPECT_EQ(shop.erp.paths(), (std::vector<std::string>{"/v1/availability", "/v1/reservations",
                                                        "/v1/warehouse-orders", "/v1/shipments"}));
  EXPECT_EQ(shop.erp.stock_of("SKU-1"), 8);
  EXPECT_EQ(shop.psp.charges(), (std::map<std::string, std::string>{{"PAY-1", "pending"}}));
}

TEST(ErpPaymentProcess, ADeclinedPaymentCancelsNothingReleasesTheStockAndEndsFailed) {
  Shop shop;
  shop.psp.decline_with("insufficient_funds");
  const InstanceId id = shop.start("O-2");
  InstanceInfo info = shop.info(id);
  EXPECT_EQ(info.state, InstanceState::kCompleted) << info.variables.dump();
  EXPECT_EQ(info.end_event, "end-payment-failed");
  EXPECT_EQ(info.variables["declineReason"], "insufficient_funds");
  EXPECT_EQ(info.variables["paymentCancellation"], "none");
  // Nothing was charged, so nothing to cancel: the provider saw only the charge.
  EXPECT_EQ(shop.psp.paths(), std::vector<std::string>{"/v1/charges"});
  EXPECT_EQ(shop.erp.paths(), (std::vector<std::string>{"/v1/availability", "/v1/reservations",
                                                        "/v1/reservations/R-O-2/release"}));
  EXPECT_EQ(shop.erp.stock_of("SKU-1"), 10);
  EXPECT_EQ(shop.sent(), std::vector<std::string>{"payment-failed"});
}

TEST(ErpPaymentProcess, NoConfirmationInThirtyMinutesVoidsTheChargeThenReleasesTheStock) {
  Shop shop;
  const InstanceId id = shop.start("O-3");
  ASSERT_TRUE(waits_at(shop.info(id), "await-payment-confirmation"));
  ASSERT_TRUE(shop.engine->advance_clock(30 * kMinute).is_ok());
  InstanceInfo info = shop.info(id);
  EXPECT_EQ(info.end_event, "end-payment-failed") << info.variables.dump();
  EXPECT_EQ(info.variables["paymentCancellation"], "voided");
  EXPECT_EQ(shop.psp.charges(), (std::map<std::string, std::string>{{"PAY-1", "voided"}}));
  EXPECT_TRUE(shop.erp.reservations().empty());
  // The money first: the charge is voided before the stock goes back.
  EXPECT_EQ(shop.jobs(),
            (std::vector<std::string>{"erp.check-availability", "erp.reserve", "payment.charge",
                                      "payment.cancel", "erp.release", "notify.send"}));
  EXPECT_EQ(shop.psp.paths().back(), "/v1/charges/PAY-1/cancel");
  EXPECT_EQ(shop.erp.paths().back(), "/v1/reservations/R-O-3/release");
}

TEST(ErpPaymentProcess, AFailedPaymentWebhookEndsTheOrderFailed) {
  Shop shop;
  const InstanceId id = shop.start("O-4");
  shop.webhook("evt_9", "payment.failed", "O-4", "PAY-1");
  InstanceInfo info = shop.info(id);
  EXPECT_EQ(info.end_event, "end-payment-failed") << info.variables.dump();
  EXPECT_EQ(info.variables["paymentStatus"], "failed");
  EXPECT_TRUE(shop.erp.reservations().empty());
}

TEST(ErpPaymentProcess, AnUnavailableOrderReservesNothing) {
  Shop shop;
  shop.erp.set_stock("SKU-1", 1);
  const InstanceId id = shop.start("O-5");
  InstanceInfo info = shop.info(id);
  EXPECT_EQ(info.end_event, "end-unavailable");
  EXPECT_EQ(info.variables["unavailableItems"][0]["name"], "Desk lamp");
  EXPECT_EQ(shop.erp.paths(), std::vector<std::string>{"/v1/availability"});
  EXPECT_TRUE(shop.psp.seen().empty());
}

TEST(PaymentWebhook, ADuplicatedWebhookIsCorrelatedOnce) {
  Shop shop;
  const InstanceId id = shop.start("O-6");
  MessageResult first = shop.webhook("evt_6", "payment.succeeded", "O-6", "PAY-1");
  EXPECT_EQ(first.instances, std::vector<InstanceId>{id});
  EXPECT_FALSE(first.duplicate);
  MessageResult second = shop.webhook("evt_6", "payment.succeeded", "O-6", "PAY-1");
  EXPECT_TRUE(second.duplicate);
  EXPECT_TRUE(waits_at(shop.info(id), "await-delivery"));
  // Shipped once: the repeat correlated nothing.
  EXPECT_EQ(shop.erp.paths().size(), 4u);
}

TEST(PaymentWebhook, AWebhookBeforeTheInstanceWaitsIsKeptAndCorrelatedWhenItArrives) {
  Shop shop;
  // The instance exists, but its first job has not run: nobody waits for the payment yet.
  auto started = shop.engine->start("order-acceptance", order_variables("O-7"), "O-7");
  ASSERT_TRUE(started.is_ok());
  const std::string body = json{{"id", "evt_7"},
                                {"type", "payment.succeeded"},
                                {"data", {{"paymentId", "PAY-1"}, {"orderId", "O-7"}}}}
                               .dump();
  auto message = payment_webhook_message(body, webhook_signature(body, kShopSecret), kShopSecret);
  ASSERT_TRUE(message.is_ok());
  auto early = shop.engine->publish_message(*message);
  ASSERT_TRUE(early.is_ok());
  EXPECT_TRUE(early->buffered);
  EXPECT_TRUE(early->instances.empty());
  must(shop.engine->run_until_idle());
  InstanceInfo info = shop.info(started->id);
  EXPECT_TRUE(waits_at(info, "await-delivery")) << info.variables.dump();
  EXPECT_EQ(info.variables["paymentStatus"], "approved");
}

}  // namespace
}  // namespace ordo::testing
