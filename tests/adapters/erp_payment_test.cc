// The ERP and payment adapters against stub peers on loopback (erp_payment_stubs.h), and
// the payment webhook mapping (erp_payment_engine_test.cc has them in a real Engine).
#include <gtest/gtest.h>

#include <sstream>

#include "adapters/erp_payment_stubs.h"
#include "ordo/adapters/adapters.h"
#include "ordo/engine.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;
using Kind = JobOutcome::Kind;

json order(const std::string& id = "O-1") {
  return {{"orderId", id},
          {"items",
           {{{"sku", "SKU-1"}, {"name", "Desk lamp"}, {"quantity", 2}, {"unitPrice", 45.0}},
            {{"sku", "SKU-2"}, {"name", "Office chair"}, {"quantity", 1}, {"unitPrice", 199.0}}}},
          {"total", 289.0},
          {"currency", "EUR"},
          {"shippingAddress", {{"street", "Hauptstr. 1"}, {"city", "Berlin"}, {"country", "DE"}}}};
}

json with(json o, const json& more) {
  o.update(more);
  return o;
}

using Factory = Result<TaskHandler> (*)(const json&, const std::string&);

TaskHandler adapter(Factory make, const std::string& name, const Stub& stub,
                    const std::string& operation, const json& extra = json::object()) {
  json settings = {{"adapter", name}, {"operation", operation}, {"baseUrl", stub.base_url()}};
  settings.update(extra);
  auto h = make(settings, "adapters." + name + "." + operation);
  EXPECT_TRUE(h.is_ok()) << h.status().to_string();
  return h.is_ok() ? *h : TaskHandler();
}
TaskHandler erp(const ErpStub& stub, const std::string& op, const json& extra = json::object()) {
  return adapter(make_erp_adapter, "erp", stub, op, extra);
}
TaskHandler payment(const PaymentStub& stub, const std::string& op,
                    const json& extra = json::object()) {
  return adapter(make_payment_adapter, "payment", stub, op, extra);
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---- ERP ----

TEST(ErpAdapter, AvailabilityIsTrueWhenEveryItemIsInStock) {
  ErpStub stub;
  JobOutcome out = erp(stub, "check-availability")(FakeJob(order()));
  ASSERT_EQ(out.kind(), Kind::kComplete) << out.message();
  EXPECT_EQ(out.variables(), json({{"available", true}, {"unavailableItems", json::array()}}));
  auto seen = stub.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/v1/availability");
  EXPECT_EQ(seen[0].idempotency_key, "order:3:2");
  EXPECT_EQ(json::parse(seen[0].body),
            json({{"orderId", "O-1"},
                  {"items",
                   {{{"sku", "SKU-1"}, {"quantity", 2}}, {{"sku", "SKU-2"}, {"quantity", 1}}}}}));
}

TEST(ErpAdapter, AvailabilityIsFalseWhenAnyItemIsShort) {
  ErpStub stub;
  stub.set_stock("SKU-1", 1);
  JobOutcome out = erp(stub, "check-availability")(FakeJob(order()));
  ASSERT_EQ(out.kind(), Kind::kComplete) << out.message();
  EXPECT_EQ(out.variables()["available"], false);
  EXPECT_EQ(
      out.variables()["unavailableItems"],
      json::parse(R"([{"sku": "SKU-1", "name": "Desk lamp", "requested": 2, "available": 1}])"));
}

TEST(ErpAdapter, AvailabilityAnswerWithoutItemsOrWithAMalformedItemIsAnIncidentQuotingIt) {
  ErpStub stub;
  stub.script("/v1/availability", 200, R"({"stock": []})");
  stub.script("/v1/availability", 200, R"({"items": [{"sku": "SKU-1", "requested": 2}]})");
  stub.script("/v1/availability", 200,
              R"({"items": [{"sku": "SKU-1", "requested": 2, "available": 5}]})");
  TaskHandler check = erp(stub, "check-availability");
  for (const char* expected : {R"({"stock": []})", R"("requested": 2})", "SKU-2"}) {
    JobOutcome out = check(FakeJob(order()));
    EXPECT_EQ(out.kind(), Kind::kFail);
    EXPECT_TRUE(out.no_retry()) << out.message();
    EXPECT_TRUE(has(out.message(), expected)) << out.message();
  }
}

TEST(ErpAdapter, AnOrderWithoutUsableItemsIsAnIncidentAndSendsNothing) {
  ErpStub stub;
  TaskHandler check = erp(stub, "check-availability");
  JobOutcome none = check(FakeJob(json{{"orderId", "O-1"}}));
  EXPECT_TRUE(none.no_retry());
  EXPECT_TRUE(has(none.message(), "adapters.erp.check-availability: variable items"))
      << none.message();
  JobOutcome bad =
      check(FakeJob(json{{"orderId", "O-1"}, {"items", {{{"sku", "SKU-1"}, {"quantity", 0}}}}}));
  EXPECT_TRUE(bad.no_retry());
  EXPECT_TRUE(has(bad.message(), "variable items[0]")) << bad.message();
  EXPECT_TRUE(stub.seen().empty());
}

TEST(ErpAdapter, ReserveAnswersTheReservationIdAndTakesTheStock) {
  ErpStub stub;
  JobOutcome out = erp(stub, "reserve")(FakeJob(order()));
  ASSERT_EQ(out.kind(), Kind::kComplete) << out.message();
  EXPECT_EQ(out.variables(), json({{"reservationId", "R-O-1"}}));
  EXPECT_EQ(stub.stock_of("SKU-1"), 8);
  EXPECT_EQ(stub.reservations(), std::set<std::string>{"R-O-1"});
}

TEST(ErpAdapter, ReserveThrowsOutOfStockWhenTheStockIsGone) {
  ErpStub stub;
  stub.set_stock("SKU-2", 0);
  JobOutcome out = erp(stub, "reserve")(FakeJob(order()));
  ASSERT_EQ(out.kind(), Kind::kError) << out.message();
  EXPECT_EQ(out.error_code(), "OUT_OF_STOCK");
  EXPECT_TRUE(has(out.message(), "409")) << out.message();
  JobOutcome custom = erp(stub, "reserve", {{"errorCode", "NO_STOCK"}})(FakeJob(order()));
  EXPECT_EQ(custom.error_code(), "NO_STOCK");
  EXPECT_TRUE(stub.reservations().empty());
}

TEST(ErpAdapter, ARefusedReservationOtherThan409IsAnIncidentNotOutOfStock) {
  ErpStub stub;
  stub.script("/v1/reservations", 422, R"({"error": "unknown sku"})");
  JobOutcome out = erp(stub, "reserve")(FakeJob(order()));
  EXPECT_EQ(out.kind(), Kind::kFail);
  EXPECT_TRUE(out.no_retry());
  EXPECT_TRUE(has(out.message(), "unknown sku")) << out.message();
}

TEST(ErpAdapter, ReleaseGivesTheStockBackAndCounts404AsReleasedBefore) {
  ErpStub stub;
  ASSERT_EQ(erp(stub, "reserve")(FakeJob(order())).kind(), Kind::kComplete);
  TaskHandler release = erp(stub, "release");
  const FakeJob job(with(order(), {{"reservationId", "R-O-1"}}));
  JobOutcome first = release(job);
  ASSERT_EQ(first.kind(), Kind::kComplete) << first.message();
  EXPECT_EQ(stub.stock_of("SKU-1"), 10);
  JobOutcome again = release(job);  // a retry after a lost answer: the ERP says 404
  ASSERT_EQ(again.kind(), Kind::kComplete) << again.message();
  EXPECT_EQ(stub.stock_of("SKU-1"), 10);
  auto paths = stub.paths();
  EXPECT_EQ(paths, (std::vector<std::string>{"/v1/reservations", "/v1/reservations/R-O-1/release",
                                             "/v1/reservations/R-O-1/release"}));
}

TEST(ErpAdapter, ReleaseWithoutAReservationCompletesWithoutARequest) {
  ErpStub stub;
  JobOutcome out = erp(stub, "release")(FakeJob(with(order(), {{"reservationId", nullptr}})));
  EXPECT_EQ(out.kind(), Kind::kComplete) << out.message();
  EXPECT_TRUE(stub.seen().empty());
}

TEST(ErpAdapter, HandoverSendsReservationItemsAndAddressAndAnswersTheWarehouseOrder) {
  ErpStub stub;
  JobOutcome out = erp(stub, "handover")(FakeJob(with(order(), {{"reservationId", "R-O-1"}})));
  ASSERT_EQ(out.kind(), Kind::kComplete) << out.message();
  EXPECT_EQ(out.variables(), json({{"warehouseOrderId", "W-O-1"}}));
  const json sent = json::parse(stub.seen().at(0).body);
  EXPECT_EQ(sent["reservationId"], "R-O-1");
  EXPECT_EQ(sent["shippingAddress"]["city"], "Berlin");
  EXPECT_EQ(sent["items"][1], json({{"sku", "SKU-2"}, {"quantity", 1}}));
}

TEST(ErpAdapter, ShipAnswersTrackingWithAMissingUrlAsNull) {
  ErpStub stub;
  TaskHandler ship = erp(stub, "ship");
  const FakeJob job(with(order(), {{"warehouseOrderId", "W-O-1"}}));
  JobOutcome out = ship(job);
  ASSERT_EQ(out.kind(), Kind::kComplete) << out.message();
  EXPECT_EQ(out.variables(),
            json({{"trackingNumber", "TRK-O-1"}, {"carrier", "DHL"}, {"trackingUrl", nullptr}}));
  EXPECT_EQ(json::parse(stub.seen().at(0).body),
            json({{"orderId", "O-1"},
                  {"warehouseOrderId", "W-O-1"},
                  {"shippingAddress", order()["shippingAddress"]}}));
  stub.script("/v1/shipments", 201,
              R"({"trackingNumber": "1Z9", "carrier": "UPS", "trackingUrl": "https://ups/1Z9"})");
  EXPECT_EQ(ship(job).variables()["trackingUrl"], "https://ups/1Z9");
  stub.script("/v1/shipments", 201, R"({"trackingNumber": "1Z9"})");
  JobOutcome no_carrier = ship(job);
  EXPECT_TRUE(no_carrier.no_retry());
  EXPECT_TRUE(has(no_carrier.message(), "lacks trackingNumber or carrier")) << no_carrier.message();
}

// The call layer's rules, seen through the ERP adapter: it shares them with the http one.
TEST(ErpAdapter, ServerErrorsAndSlowAnswersAreRetriedAndGarbageIsAnIncident) {
  ErpStub stub;
  TaskHandler reserve = erp(stub, "reserve", {{"timeoutMs", 100}, {"retryBackoffMs", 250}});
  stub.script("/v1/reservations", 500, "database down");
  JobOutcome busy = reserve(FakeJob(order()));
  EXPECT_EQ(busy.kind(), Kind::kFail);
  EXPECT_FALSE(busy.no_retry());
  EXPECT_EQ(busy.backoff_ms(), 250);
  EXPECT_TRUE(has(busy.message(), "500: database down")) << busy.message();

  stub.script("/v1/reservations", 201, R"({"reservationId": "late"})", 600);
  JobOutcome slow = reserve(FakeJob(order()));
  EXPECT_EQ(slow.kind(), Kind::kFail);
  EXPECT_FALSE(slow.no_retry());
  EXPECT_TRUE(has(slow.message(), "no answer within 100 ms")) << slow.message();

  stub.script("/v1/reservations", 200, "<html>proxy error</html>");
  JobOutcome garbled = reserve(FakeJob(order()));
  EXPECT_TRUE(garbled.no_retry());
  EXPECT_TRUE(has(garbled.message(), "not JSON: <html>proxy error")) << garbled.message();

  JobOutcome fine = reserve(FakeJob(order()));
  EXPECT_EQ(fine.kind(), Kind::kComplete) << fine.message();
}

TEST(ErpAdapter, SettingsMistakesNameTheKey) {
  const auto error = [](const json& settings) {
    auto h = make_erp_adapter(settings, "adapters.erp.x");
    EXPECT_FALSE(h.is_ok()) << settings.dump();
    return h.is_ok() ? std::string() : h.status().message();
  };
  EXPECT_TRUE(has(error({{"operation", "reserve"}}), "adapters.erp.x.baseUrl: is missing"));
  const std::string unknown = error({{"operation", "refund"}, {"baseUrl", "http://erp"}});
  EXPECT_TRUE(has(unknown, "adapters.erp.x.operation: unknown operation 'refund'")) << unknown;
  EXPECT_TRUE(has(unknown, "check-availability, reserve, release, handover, ship")) << unknown;
  EXPECT_TRUE(has(error({{"baseUrl", "http://erp"}}), "adapters.erp.x.operation: is missing"));
  EXPECT_TRUE(has(error({{"operation", "ship"}, {"baseUrl", "http://erp"}, {"url", "http://x"}}),
                  "adapters.erp.x.url: is not a setting of the erp adapter"));
  EXPECT_TRUE(has(error({{"operation", "ship"}, {"baseUrl", "http://erp"}, {"errorCode", "X"}}),
                  "adapters.erp.x.errorCode: is not a setting of the ship operation"));
  EXPECT_TRUE(has(error({{"operation", "ship"}, {"baseUrl", "erp.local"}}), "http:// or https://"));
  EXPECT_TRUE(has(error({{"operation", "ship"}, {"baseUrl", "http://erp"}, {"timeoutMs", "5s"}}),
                  "adapters.erp.x.timeoutMs"));
}

// ---- payment ----

TEST(PaymentAdapter, ChargeSendsTheOrderTotalAndCompletesWhilePending) {
  PaymentStub stub;
  JobOutcome out = payment(
      stub, "charge")(FakeJob(with(order(), {{"customerId", "C-7"}, {"paymentMethod", "card"}})));
  ASSERT_EQ(out.kind(), Kind::kComplete) << out.message();
  EXPECT_EQ(out.variables(), json({{"paymentId", "PAY-1"}, {"paymentStatus", "pending"}}));
  auto seen = stub.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/v1/charges");
  EXPECT_EQ(seen[0].idempotency_key, "order:3:2");
  EXPECT_EQ(json::parse(seen[0].body), json({{"orderId", "O-1"},
                                             {"amount", 289.0},
                                             {"currency", "EUR"},
                                             {"customerId", "C-7"},
                                             {"paymentMethod", "card"}}));
}

TEST(PaymentAdapter, ChargeApprovedAtOnceSaysSo) {
  PaymentStub stub;
  stub.approve_at_once();
  JobOutcome out = payment(stub, "charge")(FakeJob(order()));
  EXPECT_EQ(out.variables(), json({{"paymentId", "PAY-1"}, {"paymentStatus", "approved"}}));
}

TEST(PaymentAdapter, DeclinedOr402ThrowsPaymentDeclinedWithTheReason) {
  PaymentStub stub;
  stub.decline_with("insufficient_funds");
  JobOutcome declined = payment(stub, "charge")(FakeJob(order()));
  ASSERT_EQ(declined.kind(), Kind::kError) << declined.message();
  EXPECT_EQ(declined.error_code(), "PAYMENT_DECLINED");
  EXPECT_EQ(declined.variables(), json({{"declineReason", "insufficient_funds"}}));

  stub.script("/v1/charges", 402, R"({"declineReason": "card_expired"})");
  JobOutcome refused = payment(stub, "charge", {{"errorCode", "CARD_REFUSED"}})(FakeJob(order()));
  ASSERT_EQ(refused.kind(), Kind::kError) << refused.message();
  EXPECT_EQ(refused.error_code(), "CARD_REFUSED");
  EXPECT_EQ(refused.variables(), json({{"declineReason", "card_expired"}}));

  stub.script("/v1/charges", 402, "Payment Required");
  JobOutcome bare = payment(stub, "charge")(FakeJob(order()));
  EXPECT_EQ(bare.error_code(), "PAYMENT_DECLINED");
  EXPECT_EQ(bare.variables(), json({{"declineReason", nullptr}}));
}

TEST(PaymentAdapter, AChargeRetriedAfterALostAnswerCarriesTheSameKeyAndChargesOnce) {
  PaymentStub stub;
  TaskHandler charge = payment(stub, "charge", {{"timeoutMs", 150}});
  stub.answer_next_charge_late(600);  // charged, but the answer comes after we gave up
  const FakeJob job(order(), "order-acceptance:42:9");
  JobOutcome lost = charge(job);
  EXPECT_EQ(lost.kind(), Kind::kFail);
  EXPECT_FALSE(lost.no_retry()) << lost.message();
  JobOutcome retried = charge(job);
  ASSERT_EQ(retried.kind(), Kind::kComplete) << retried.message();
  EXPECT_EQ(retried.variables()["paymentId"], "PAY-1");
  EXPECT_EQ(stub.charges().size(), 1u);
  auto seen = stub.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].idempotency_key, "order-acceptance:42:9");
  EXPECT_EQ(seen[1].idempotency_key, "order-acceptance:42:9");
}

TEST(PaymentAdapter, AChargeAnswerThatIsNotTheProtocolIsAnIncident) {
  PaymentStub stub;
  TaskHandler charge = payment(stub, "charge");
  stub.script("/v1/charges", 201, R"({"paymentId": "PAY-9", "status": "maybe"})");
  JobOutcome unknown = charge(FakeJob(order()));
  EXPECT_TRUE(unknown.no_retry());
  EXPECT_TRUE(has(unknown.message(), R"("status": "maybe")")) << unknown.message();
  stub.script("/v1/charges", 201, R"({"status": "pending"})");
  JobOutcome no_id = charge(FakeJob(order()));
  EXPECT_TRUE(no_id.no_retry());
  EXPECT_TRUE(has(no_id.message(), "has no paymentId")) << no_id.message();
  stub.script("/v1/charges", 201, R"({"status": "pend)");
  EXPECT_TRUE(has(charge(FakeJob(order())).message(), "not JSON"));
}

TEST(PaymentAdapter, ChargeWithoutAnAmountIsAnIncidentAndSendsNothing) {
  PaymentStub stub;
  json o = order();
  o.erase("total");
  JobOutcome out = payment(stub, "charge")(FakeJob(o));
  EXPECT_TRUE(out.no_retry());
  EXPECT_TRUE(has(out.message(), "adapters.payment.charge: variable total")) << out.message();
  EXPECT_TRUE(stub.seen().empty());
}

TEST(PaymentAdapter, CancelVoidsAPendingChargeAndRefundsAnApprovedOne) {
  PaymentStub stub;
  TaskHandler charge = payment(stub, "charge");
  TaskHandler cancel = payment(stub, "cancel");
  ASSERT_EQ(charge(FakeJob(order(), "k1")).kind(), Kind::kComplete);
  stub.approve_at_once();
  ASSERT_EQ(charge(FakeJob(order(), "k2")).kind(), Kind::kComplete);
  JobOutcome voided = cancel(FakeJob(with(order(), {{"paymentId", "PAY-1"}})));
  EXPECT_EQ(voided.variables(), json({{"paymentCancellation", "voided"}})) << voided.message();
  JobOutcome refunded = cancel(FakeJob(with(order(), {{"paymentId", "PAY-2"}})));
  EXPECT_EQ(refunded.variables(), json({{"paymentCancellation", "refunded"}}));
  EXPECT_EQ(stub.charges(),
            (std::map<std::string, std::string>{{"PAY-1", "voided"}, {"PAY-2", "refunded"}}));
  EXPECT_EQ(stub.paths().back(), "/v1/charges/PAY-2/cancel");
}

TEST(PaymentAdapter, CancelWithNothingToCancelCompletesWithNone) {
  PaymentStub stub;
  TaskHandler cancel = payment(stub, "cancel");
  JobOutcome no_payment = cancel(FakeJob(order()));
  EXPECT_EQ(no_payment.variables(), json({{"paymentCancellation", "none"}}));
  EXPECT_TRUE(stub.seen().empty());
  JobOutcome unknown = cancel(FakeJob(with(order(), {{"paymentId", "PAY-404"}})));  // 404
  EXPECT_EQ(unknown.variables(), json({{"paymentCancellation", "none"}})) << unknown.message();
  stub.decline_with("stolen_card");
  ASSERT_EQ(payment(stub, "charge")(FakeJob(order())).kind(), Kind::kError);
  JobOutcome declined = cancel(FakeJob(with(order(), {{"paymentId", "PAY-1"}})));  // 409
  EXPECT_EQ(declined.variables(), json({{"paymentCancellation", "none"}})) << declined.message();
  EXPECT_EQ(stub.seen().size(), 3u);
}

TEST(PaymentAdapter, SettingsMistakesNameTheKey) {
  auto cancel = make_payment_adapter(
      {{"operation", "cancel"}, {"baseUrl", "https://psp"}, {"errorCode", "X"}}, "adapters.p");
  ASSERT_FALSE(cancel.is_ok());
  EXPECT_TRUE(has(cancel.status().message(), "adapters.p.errorCode")) << cancel.status().message();
  auto unknown =
      make_payment_adapter({{"operation", "refund"}, {"baseUrl", "https://psp"}}, "adapters.p");
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_TRUE(has(unknown.status().message(), "(known: charge, cancel)"));
}

// ---- the webhook ----

constexpr const char* kSecret = "whsec_test";

std::string event(const std::string& id, const std::string& type, const std::string& order_id,
                  const json& extra = json::object()) {
  json data = {{"paymentId", "PAY-1"}, {"orderId", order_id}};
  data.update(extra);
  return json{{"id", id}, {"type", type}, {"data", data}}.dump();
}

TEST(PaymentWebhook, ASignedSucceededEventIsTheConfirmationMessage) {
  const std::string body = event("evt_1", "payment.succeeded", "O-1");
  auto m = payment_webhook_message(body, webhook_signature(body, kSecret), kSecret);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ(m->name, "payment-confirmed");
  EXPECT_EQ(m->correlation_key, "O-1");
  EXPECT_EQ(m->message_id, "payment:evt_1");
  EXPECT_EQ(m->ttl_ms, 3'600'000);
  EXPECT_EQ(m->variables, json({{"paymentStatus", "approved"}, {"paymentId", "PAY-1"}}));
}

TEST(PaymentWebhook, AFailedEventCarriesTheReasonAndOptionsRenameTheMessage) {
  const std::string body = event("evt_2", "payment.failed", "O-1", {{"reason", "3ds_failed"}});
  PaymentWebhookOptions options;
  options.message_name = "psp-event";
  options.ttl_ms = 5000;
  auto m = payment_webhook_message(body, webhook_signature(body, kSecret), kSecret, options);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ(m->name, "psp-event");
  EXPECT_EQ(m->ttl_ms, 5000);
  EXPECT_EQ(m->variables, json({{"paymentStatus", "failed"},
                                {"paymentId", "PAY-1"},
                                {"paymentFailureReason", "3ds_failed"}}));
}

TEST(PaymentWebhook, AMissingOrWrongSignatureIsRejectedAndLogged) {
  std::ostringstream logged;
  PaymentWebhookOptions options;
  options.log = [&logged](LogLevel level, std::string_view message) {
    logged << to_string(level) << ": " << message << "\n";
  };
  const std::string body = event("evt_1", "payment.succeeded", "O-1");
  const std::string forged = event("evt_1", "payment.succeeded", "O-2");
  struct Case {
    std::string body, signature, secret, why;
  };
  for (const Case& c :
       {Case{body, "", kSecret, "carries no signature"},
        Case{forged, webhook_signature(body, kSecret), kSecret, "signature does not verify"},
        Case{body, webhook_signature(body, "other"), kSecret, "signature does not verify"},
        Case{body, webhook_signature(body, ""), "", "no shared secret"}}) {
    auto m = payment_webhook_message(c.body, c.signature, c.secret, options);
    ASSERT_FALSE(m.is_ok());
    EXPECT_EQ(m.status().code(), StatusCode::kUnauthenticated);
    EXPECT_TRUE(has(m.status().message(), c.why)) << m.status().message();
  }
  EXPECT_TRUE(has(logged.str(), "warning: payment webhook rejected")) << logged.str();
  EXPECT_TRUE(has(logged.str(), "signature does not verify")) << logged.str();
}

TEST(PaymentWebhook, MalformedEventsAreErrorsNamingTheField) {
  const auto error = [](const std::string& body) {
    auto m = payment_webhook_message(body, webhook_signature(body, kSecret), kSecret);
    EXPECT_FALSE(m.is_ok()) << body;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
    return m.status().message();
  };
  EXPECT_TRUE(has(error("{oops"), "not a JSON object"));
  EXPECT_TRUE(has(error(R"({"type": "payment.succeeded", "data": {}})"), "id"));
  EXPECT_TRUE(has(error(event("evt_3", "payment.refunded", "O-1")),
                  "type 'payment.refunded' is not one Ordo maps"));
  EXPECT_TRUE(has(error(R"({"id": "evt_4", "type": "payment.failed"})"), "data"));
  EXPECT_TRUE(has(error(R"({"id": "e", "type": "payment.failed", "data": {"paymentId": "P"}})"),
                  "data.orderId"));
  EXPECT_TRUE(has(error(R"({"id": "e", "type": "payment.failed", "data": {"orderId": "O"}})"),
                  "data.paymentId"));
}

}  // namespace
}  // namespace ordo::testing
