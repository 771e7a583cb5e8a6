// The payment adapter's Stripe profile against a local Stripe (peers/stripe_peer.h), and
// Stripe's webhooks: signatures, tolerance, repeats and events Ordo passes over.
#include <gtest/gtest.h>

#include "adapters/fake_job.h"
#include "api.h"
#include "ordo/adapters/adapters.h"
#include "ordo/ordo.h"
#include "peers/stripe_peer.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;
using Kind = JobOutcome::Kind;

TaskHandler stripe(const StripePeer& peer, const std::string& operation, json extra = json::object()) {
  json settings = {{"adapter", "stripe"},
                   {"operation", operation},
                   {"apiKey", StripePeer::kKey},
                   {"baseUrl", peer.base_url()},
                   {"timeoutMs", 5000}};
  settings.update(extra);
  auto h = make_stripe_adapter(settings, "adapters.payment." + operation);
  EXPECT_TRUE(h.is_ok()) << h.status().to_string();
  return h.is_ok() ? *h : TaskHandler();
}

json order(double total, const std::string& currency = "EUR",
           const std::string& method = "pm_card_visa") {
  return {{"orderId", "A-1001"}, {"total", total}, {"currency", currency},
          {"paymentMethod", method}, {"customerId", "cus_9"}};
}

// Percent-decoding of one form field's name or value.
std::string decoded(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out.push_back(static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> form(const std::string& body) {
  std::map<std::string, std::string> out;
  for (const std::string& pair : split(body, '&')) {
    const std::size_t eq = pair.find('=');
    out[decoded(pair.substr(0, eq))] = decoded(pair.substr(eq + 1));
  }
  return out;
}

TEST(StripeAdapter, AChargeIsAFormEncodedPaymentIntentInMinorUnitsAndARetryChargesOnce) {
  StripePeer peer;
  TaskHandler charge = stripe(peer, "charge");
  JobOutcome out = charge(FakeJob(order(19.99)));
  ASSERT_EQ(out.kind(), Kind::kComplete) << out.message();
  EXPECT_EQ(out.variables()["paymentStatus"], "approved");
  const std::string id = out.variables()["paymentId"];
  EXPECT_TRUE(id.starts_with("pi_")) << id;
  ASSERT_EQ(peer.seen().size(), 1u);
  EXPECT_EQ(peer.seen()[0].path, "/v1/payment_intents");
  EXPECT_EQ(peer.seen()[0].idempotency_key, "order:3:2");
  const auto f = form(peer.seen()[0].body);
  EXPECT_EQ(f.at("amount"), "1999");
  EXPECT_EQ(f.at("currency"), "eur");
  EXPECT_EQ(f.at("payment_method"), "pm_card_visa");
  EXPECT_EQ(f.at("customer"), "cus_9");
  EXPECT_EQ(f.at("metadata[orderId]"), "A-1001");
  EXPECT_EQ(f.at("confirm"), "true");

  // The same job again (a crash before its answer was recorded): the same key, and Stripe
  // replays the first answer instead of charging again.
  JobOutcome again = charge(FakeJob(order(19.99)));
  ASSERT_EQ(again.kind(), Kind::kComplete) << again.message();
  EXPECT_EQ(again.variables()["paymentId"], id);
  EXPECT_EQ(peer.intents(), 1u);

  // Yen have no minor unit; a total with more decimals than the currency is refused here.
  JobOutcome yen = charge(FakeJob(order(1500, "JPY")).keyed("order:4:2"));
  ASSERT_EQ(yen.kind(), Kind::kComplete) << yen.message();
  EXPECT_EQ(form(peer.seen().back().body).at("amount"), "1500");
  JobOutcome fraction = charge(FakeJob(order(15.5, "JPY")).keyed("order:5:2"));
  EXPECT_EQ(fraction.kind(), Kind::kFail);
  EXPECT_TRUE(fraction.no_retry());
  EXPECT_NE(fraction.message().find("not an amount Stripe takes in jpy"), std::string::npos)
      << fraction.message();
  // Three-decimal currencies go in steps of ten, as Stripe takes them; nothing is free.
  EXPECT_EQ(charge(FakeJob(order(10.5, "KWD")).keyed("order:6:2")).kind(), Kind::kComplete);
  EXPECT_EQ(form(peer.seen().back().body).at("amount"), "10500");
  EXPECT_TRUE(charge(FakeJob(order(10.005, "KWD")).keyed("order:7:2")).no_retry());
  EXPECT_TRUE(charge(FakeJob(order(0, "EUR")).keyed("order:8:2")).no_retry());
}

TEST(StripeAdapter, ADeclineIsTheBpmnErrorWithStripesDeclineCode) {
  StripePeer peer;
  JobOutcome out = stripe(peer, "charge")(FakeJob(order(50, "EUR", "pm_card_chargeDeclinedInsufficientFunds")));
  ASSERT_EQ(out.kind(), Kind::kError) << out.message();
  EXPECT_EQ(out.error_code(), "PAYMENT_DECLINED");
  EXPECT_EQ(out.variables()["declineReason"], "insufficient_funds");
  EXPECT_TRUE(out.variables()["paymentId"].get<std::string>().starts_with("pi_"));
  JobOutcome generic = stripe(peer, "charge", {{"errorCode", "CARD_REFUSED"}})(
      FakeJob(order(50, "EUR", "pm_card_chargeDeclined")).keyed("k2"));
  EXPECT_EQ(generic.error_code(), "CARD_REFUSED");
  EXPECT_EQ(generic.variables()["declineReason"], "generic_decline");
  // 3-D Secure wants the customer, who is not there: declined, not left waiting.
  JobOutcome action = stripe(peer, "charge")(FakeJob(order(50, "EUR", "pm_card_authenticationRequired")).keyed("k3"));
  ASSERT_EQ(action.kind(), Kind::kError) << action.message();
  EXPECT_EQ(action.variables()["declineReason"], "authentication_required");
}

TEST(StripeAdapter, ARateLimitIsRetriedNoSoonerThanRetryAfter) {
  StripePeer peer;
  peer.rate_limit(1, 7);
  TaskHandler charge = stripe(peer, "charge", {{"retryBackoffMs", 500}});
  JobOutcome limited = charge(FakeJob(order(10)));
  ASSERT_EQ(limited.kind(), Kind::kFail) << limited.message();
  EXPECT_FALSE(limited.no_retry());
  EXPECT_EQ(limited.backoff_ms(), 7000);
  EXPECT_NE(limited.message().find("429"), std::string::npos) << limited.message();
  EXPECT_EQ(charge(FakeJob(order(10))).kind(), Kind::kComplete);
}

TEST(StripeAdapter, CancelVoidsAnAuthorisationAndRefundsACapture) {
  StripePeer peer;
  // Authorised only (manual capture): cancelling voids it.
  JobOutcome held = stripe(peer, "charge", {{"captureMethod", "manual"}})(FakeJob(order(80)).keyed("c1"));
  ASSERT_EQ(held.variables()["paymentStatus"], "authorized");
  json with_id = order(80);
  with_id["paymentId"] = held.variables()["paymentId"];
  JobOutcome voided = stripe(peer, "cancel")(FakeJob(with_id).keyed("c2"));
  ASSERT_EQ(voided.kind(), Kind::kComplete) << voided.message();
  EXPECT_EQ(voided.variables()["paymentCancellation"], "voided");
  EXPECT_EQ(peer.intent(held.variables()["paymentId"])["status"], "canceled");
  // Captured at once: cancelling refunds it (Stripe refuses to cancel a succeeded intent).
  JobOutcome paid = stripe(peer, "charge")(FakeJob(order(80)).keyed("c3"));
  with_id["paymentId"] = paid.variables()["paymentId"];
  JobOutcome refunded = stripe(peer, "cancel")(FakeJob(with_id).keyed("c4"));
  ASSERT_EQ(refunded.kind(), Kind::kComplete) << refunded.message();
  EXPECT_EQ(refunded.variables()["paymentCancellation"], "refunded");
  EXPECT_TRUE(refunded.variables()["refundId"].get<std::string>().starts_with("re_"));
  // A refund amount that is not a number is a mistake, never a refund of everything.
  json wrong_amount = with_id;
  wrong_amount["refundAmount"] = "5.00";
  JobOutcome mistaken = stripe(peer, "refund")(FakeJob(wrong_amount).keyed("c4b"));
  EXPECT_TRUE(mistaken.no_retry());
  EXPECT_NE(mistaken.message().find("refundAmount must be a number"), std::string::npos)
      << mistaken.message();
  // Refunding again: refunded before, nothing more to give back.
  JobOutcome twice = stripe(peer, "refund")(FakeJob(with_id).keyed("c5"));
  ASSERT_EQ(twice.kind(), Kind::kComplete) << twice.message();
  EXPECT_EQ(twice.variables()["refundStatus"], "refunded");
  // Capture of an authorisation.
  JobOutcome held2 = stripe(peer, "charge", {{"captureMethod", "manual"}})(FakeJob(order(5)).keyed("c6"));
  with_id["paymentId"] = held2.variables()["paymentId"];
  JobOutcome captured = stripe(peer, "capture")(FakeJob(with_id).keyed("c7"));
  ASSERT_EQ(captured.kind(), Kind::kComplete) << captured.message();
  EXPECT_EQ(captured.variables()["paymentStatus"], "approved");
  // Nothing charged: nothing to cancel, and no request.
  const std::size_t requests = peer.seen().size();
  EXPECT_EQ(stripe(peer, "cancel")(FakeJob(order(5)).keyed("c8")).variables()["paymentCancellation"], "none");
  EXPECT_EQ(peer.seen().size(), requests);
}

TEST(StripeAdapter, AWrongKeyOrAReusedIdempotencyKeyIsAnIncidentSayingWhich) {
  StripePeer peer;
  auto wrong = make_stripe_adapter({{"adapter", "stripe"}, {"operation", "charge"},
                                    {"apiKey", "sk_test_wrong"}, {"baseUrl", peer.base_url()}},
                                   "adapters.payment.charge");
  ASSERT_TRUE(wrong.is_ok());
  JobOutcome refused = (*wrong)(FakeJob(order(10)));
  EXPECT_TRUE(refused.no_retry());
  EXPECT_NE(refused.message().find("Stripe refused the API key (apiKey)"), std::string::npos)
      << refused.message();
  EXPECT_EQ(refused.message().find("sk_test_wrong"), std::string::npos) << "the key is not repeated";
  TaskHandler charge = stripe(peer, "charge");
  ASSERT_EQ(charge(FakeJob(order(10)).keyed("same")).kind(), Kind::kComplete);
  JobOutcome changed = charge(FakeJob(order(11)).keyed("same"));
  EXPECT_TRUE(changed.no_retry());
  EXPECT_NE(changed.message().find("Idempotency-Key with other parameters"), std::string::npos)
      << changed.message();
}

TEST(StripeAdapter, SettingsMistakesNameTheSetting) {
  const auto error = [](json settings) {
    settings["adapter"] = "stripe";
    auto h = make_stripe_adapter(settings, "adapters.payment.charge");
    return h.is_ok() ? std::string("accepted") : h.status().message();
  };
  EXPECT_EQ(error({{"operation", "charge"}, {"apiKey", "sk_live_x"}}), "accepted");
  EXPECT_NE(error({{"operation", "charge"}}).find("adapters.payment.charge.apiKey: is missing"),
            std::string::npos);
  EXPECT_NE(error({{"operation", "charge"}, {"apiKey", "pk_live_x"}}).find("secret or restricted key"),
            std::string::npos);
  EXPECT_NE(error({{"operation", "charge"}, {"apiKey", "sk_x"}, {"captureMethod", "later"}})
                .find("captureMethod: must be automatic"),
            std::string::npos);
  EXPECT_NE(error({{"operation", "pay"}, {"apiKey", "sk_x"}}).find("charge, capture, cancel, refund"),
            std::string::npos);
  EXPECT_NE(error({{"operation", "charge"}, {"apiKey", "sk_x"}, {"key", "x"}})
                .find("apiKey, captureMethod, apiVersion"),
            std::string::npos);
  // Through ordo.json.
  auto config = parse_adapter_config(
      json{{"adapters", {{"payment.charge", {{"adapter", "stripe"}, {"operation", "charge"}, {"apiKey", "sk_x"}}}}}}.dump(),
      "ordo.json");
  EXPECT_TRUE(config.is_ok()) << config.status().to_string();
}

constexpr const char* kStripeSecret = "whsec_test_secret";
constexpr std::int64_t kStripeNow = 1765100000000;  // ms

TEST(StripeWebhook, ASignedPaymentIntentEventIsTheMessageTheOrderWaitsFor) {
  const json pi = {{"id", "pi_77"}, {"object", "payment_intent"}, {"status", "succeeded"},
                   {"metadata", {{"orderId", "A-1001"}}}};
  const std::string body = StripePeer::event("evt_1", "payment_intent.succeeded", pi).dump();
  const std::string signature = timestamped_signature(body, kStripeSecret, kStripeNow / 1000 - 10);
  auto m = stripe_webhook_message(body, signature, kStripeSecret, kStripeNow);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->name, "payment-confirmed");
  EXPECT_EQ((*m)->correlation_key, "A-1001");
  EXPECT_EQ((*m)->message_id, "stripe:evt_1");
  EXPECT_EQ((*m)->variables["paymentStatus"], "approved");
  EXPECT_EQ((*m)->variables["paymentId"], "pi_77");

  json failed_pi = pi;
  failed_pi["status"] = "requires_payment_method";
  failed_pi["last_payment_error"] = {{"code", "card_declined"}, {"decline_code", "expired_card"}};
  const std::string failed = StripePeer::event("evt_2", "payment_intent.payment_failed", failed_pi).dump();
  auto f = stripe_webhook_message(failed, timestamped_signature(failed, kStripeSecret, kStripeNow / 1000), kStripeSecret, kStripeNow);
  ASSERT_TRUE(f.is_ok() && f->has_value());
  EXPECT_EQ((*f)->variables["paymentStatus"], "failed");
  EXPECT_EQ((*f)->variables["paymentFailureReason"], "expired_card");
}

TEST(StripeWebhook, ForgedLateOrUnsignedEventsAreRefusedAndOthersPassedOver) {
  const json pi = {{"id", "pi_77"}, {"metadata", {{"orderId", "A-1001"}}}};
  const std::string body = StripePeer::event("evt_1", "payment_intent.succeeded", pi).dump();
  const std::int64_t t = kStripeNow / 1000;
  const auto refused = [&](const std::string& b, const std::string& sig) {
    auto m = stripe_webhook_message(b, sig, kStripeSecret, kStripeNow);
    return m.is_ok() ? std::string("accepted") : m.status().message();
  };
  EXPECT_EQ(refused(body, timestamped_signature(body, kStripeSecret, t)), "accepted");
  // A body changed on the way, the wrong secret, no header.
  std::string forged = body;
  forged.replace(forged.find("A-1001"), 6, "A-6666");
  EXPECT_NE(refused(forged, timestamped_signature(body, kStripeSecret, t)).find("does not verify"), std::string::npos);
  EXPECT_NE(refused(body, timestamped_signature(body, "whsec_other", t)).find("does not verify"), std::string::npos);
  EXPECT_NE(refused(body, "").find("no signature"), std::string::npos);
  EXPECT_NE(refused(body, "sha256=abc").find("not t=<timestamp>,v1=<signature>"), std::string::npos);
  // A request captured and sent again six minutes later: outside the 300 s tolerance.
  EXPECT_NE(refused(body, timestamped_signature(body, kStripeSecret, t - 360)).find("outside the 300 s tolerance"),
            std::string::npos);
  // While a secret is rotated Stripe signs with both: one v1 that verifies is enough.
  const std::string both = "t=" + std::to_string(t) + ",v1=" +
                           timestamped_signature(body, "whsec_old", t).substr(timestamped_signature(body, "whsec_old", t).find("v1=") + 3) +
                           ",v1=" + timestamped_signature(body, kStripeSecret, t).substr(timestamped_signature(body, kStripeSecret, t).find("v1=") + 3);
  EXPECT_EQ(refused(body, both), "accepted");
  // Verified, but nothing for Ordo: answered 200 and passed over.
  const std::string other = StripePeer::event("evt_3", "customer.created", {{"id", "cus_1"}}).dump();
  auto passed = stripe_webhook_message(other, timestamped_signature(other, kStripeSecret, t), kStripeSecret, kStripeNow);
  ASSERT_TRUE(passed.is_ok());
  EXPECT_FALSE(passed->has_value());
  const std::string foreign = StripePeer::event("evt_4", "payment_intent.succeeded", {{"id", "pi_9"}}).dump();
  auto not_ours = stripe_webhook_message(foreign, timestamped_signature(foreign, kStripeSecret, t), kStripeSecret, kStripeNow);
  ASSERT_TRUE(not_ours.is_ok());
  EXPECT_FALSE(not_ours->has_value());
}

// Over the HTTP API: duplicated and out-of-order deliveries, as Stripe makes them.
TEST(StripeWebhook, RepeatsAndLateStaleEventsDoNotChangeAPaidOrder) {
  Engine engine;
  LoadResult loaded = load_bpmn(
      bpmn("<process id=\"p\" isExecutable=\"true\"><startEvent id=\"s\"/>"
           "<intermediateCatchEvent id=\"paid\"><messageEventDefinition messageRef=\"m\"/>"
           "</intermediateCatchEvent><endEvent id=\"e\"/>"
           "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"paid\"/>"
           "<sequenceFlow id=\"f2\" sourceRef=\"paid\" targetRef=\"e\"/></process>"
           "<message id=\"m\" name=\"payment-confirmed\"><extensionElements><zeebe:subscription "
           "correlationKey=\"=orderId\"/></extensionElements></message>"),
      "p.bpmn");
  ASSERT_TRUE(loaded.ok()) << dump(loaded);
  ASSERT_TRUE(engine.deploy(loaded.document).is_ok());
  const InstanceId id = engine.start("p", {{"orderId", "A-1001"}}, "A-1001")->id;
  server::ApiOptions options;
  options.stripe.secret = kStripeSecret;
  server::Api api(engine, options);
  const auto post = [&](const std::string& body) {
    server::Request r;
    r.method = "POST";
    r.path = "/v1/webhooks/stripe";
    r.body = body;
    r.headers["stripe-signature"] =
        timestamped_signature(body, kStripeSecret, engine.clock().now_ms() / 1000);
    return api.handle(r);
  };
  const json pi = {{"id", "pi_77"}, {"metadata", {{"orderId", "A-1001"}}}};
  const std::string succeeded = StripePeer::event("evt_ok", "payment_intent.succeeded", pi).dump();
  json failed_pi = pi;
  failed_pi["last_payment_error"] = {{"code", "card_declined"}};
  const std::string failed = StripePeer::event("evt_fail", "payment_intent.payment_failed", failed_pi).dump();
  server::Response first = post(succeeded);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(json::parse(first.body)["instances"], json::array({id}));
  server::Response repeat = post(succeeded);
  EXPECT_EQ(repeat.status, 200) << repeat.body;
  EXPECT_TRUE(json::parse(repeat.body)["duplicate"].get<bool>()) << repeat.body;
  // An earlier failure delivered late: the order has moved on; nothing waits for it.
  server::Response stale = post(failed);
  EXPECT_EQ(stale.status, 200) << stale.body;
  InstanceInfo info = engine.instance(id).value();
  EXPECT_EQ(info.state, InstanceState::kCompleted);
  EXPECT_EQ(info.variables["paymentStatus"], "approved");
  // Unsigned: 401, nothing published.
  server::Request unsigned_request;
  unsigned_request.method = "POST";
  unsigned_request.path = "/v1/webhooks/stripe";
  unsigned_request.body = succeeded;
  EXPECT_EQ(api.handle(unsigned_request).status, 401);
}

}  // namespace
}  // namespace ordo::testing
