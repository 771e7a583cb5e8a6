// Stripe webhooks -> messages: Stripe-Signature checked first, then the PaymentIntent event
// mapped to the message the order process waits for (docs/adapters.md#stripe-webhooks).
#include "ordo/adapters/adapters.h"

namespace ordo {
namespace {

using nlohmann::json;

std::string text_at(const json& object, const char* name) {
  if (!object.is_object()) return {};
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<std::optional<Message>> stripe_webhook_message(std::string_view body,
                                                      std::string_view signature,
                                                      std::string_view secret, std::int64_t now_ms,
                                                      const StripeWebhookOptions& options) {
  const auto say = [&](LogLevel level, const std::string& message) {
    if (options.log) options.log(level, message);
  };
  if (Status s = verify_timestamped_signature(body, signature, secret, now_ms, options.tolerance_s);
      !s) {
    say(LogLevel::kWarning, "stripe webhook rejected (" + std::to_string(body.size()) +
                                " bytes): " + s.message());
    return Status(StatusCode::kUnauthenticated, "stripe webhook rejected: " + s.message());
  }
  const json event = json::parse(body, nullptr, false);
  const std::string id = text_at(event, "id");
  const std::string type = text_at(event, "type");
  if (!event.is_object() || id.empty() || type.empty() || !event.contains("data") ||
      !event["data"].is_object() || !event["data"].contains("object") ||
      !event["data"]["object"].is_object()) {
    const std::string why = "stripe webhook: the body is not a Stripe event (id, type, data.object)";
    say(LogLevel::kWarning, why);
    return Status::invalid_argument(why);
  }
  const json& object = event["data"]["object"];
  std::string status;
  std::string reason;
  if (type == "payment_intent.succeeded") {
    status = "approved";
  } else if (type == "payment_intent.payment_failed") {
    status = "failed";
    const json error = object.value("last_payment_error", json::object());
    reason = text_at(error, "decline_code");
    if (reason.empty()) reason = text_at(error, "code");
    if (reason.empty()) reason = text_at(error, "message");
  } else if (type == "payment_intent.amount_capturable_updated") {
    status = "authorized";  // manual capture: authorised, a capture task takes it
  } else if (type == "payment_intent.canceled") {
    status = "failed";
    reason = "canceled";
  } else {
    say(LogLevel::kInfo, "stripe webhook: event " + id + " (" + type + ") is not one Ordo acts on");
    return std::optional<Message>();
  }
  const std::string payment = text_at(object, "id");
  const std::string order = text_at(object.value("metadata", json::object()), "orderId");
  if (order.empty() || payment.empty()) {
    say(LogLevel::kInfo, "stripe webhook: event " + id + " is about PaymentIntent '" + payment +
                             "', which has no metadata.orderId: not an order of Ordo's");
    return std::optional<Message>();
  }
  Message m;
  m.name = options.message_name;
  m.correlation_key = order;
  m.message_id = "stripe:" + id;
  m.ttl_ms = options.ttl_ms;
  m.variables = {{"paymentStatus", status}, {"paymentId", payment}};
  if (!reason.empty()) m.variables["paymentFailureReason"] = reason;
  return std::optional<Message>(std::move(m));
}

}  // namespace ordo
