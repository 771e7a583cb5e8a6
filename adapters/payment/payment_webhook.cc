// Payment webhooks -> messages: the signature checked first, then the event mapped to the
// message the order process waits for (docs/adapters.md#the-payment-webhook).

#include <chrono>
#include <optional>

#include "ordo/adapters/adapters.h"

namespace ordo {
namespace {

using nlohmann::json;

// A field of `object` that is non-empty text (or a whole number, as its text).
std::optional<std::string> text_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return std::nullopt;
  if (it->is_string() && !it->get<std::string>().empty()) return it->get<std::string>();
  if (it->is_number_integer()) return it->dump();
  return std::nullopt;
}

Result<Message> parse_event(std::string_view body, const PaymentWebhookOptions& options) {
  const json event = json::parse(body, nullptr, false);
  if (event.is_discarded() || !event.is_object()) {
    return Status::invalid_argument("payment webhook: the body is not a JSON object");
  }
  const auto id = text_field(event, "id");
  if (!id) return Status::invalid_argument("payment webhook: id (the event's id) is missing");
  const auto type = text_field(event, "type");
  if (!type) return Status::invalid_argument("payment webhook: type is missing");
  if (*type != "payment.succeeded" && *type != "payment.failed") {
    return Status::invalid_argument("payment webhook: type '" + *type +
                                    "' is not one Ordo maps (payment.succeeded, payment.failed)");
  }
  auto data = event.find("data");
  if (data == event.end() || !data->is_object()) {
    return Status::invalid_argument("payment webhook: data (an object) is missing");
  }
  const auto payment = text_field(*data, "paymentId");
  if (!payment) return Status::invalid_argument("payment webhook: data.paymentId is missing");
  const auto order = text_field(*data, "orderId");
  if (!order) return Status::invalid_argument("payment webhook: data.orderId is missing");

  Message m;
  m.name = options.message_name;
  m.correlation_key = *order;
  m.message_id = "payment:" + *id;
  m.ttl_ms = options.ttl_ms;
  const bool succeeded = *type == "payment.succeeded";
  m.variables = {{"paymentStatus", succeeded ? "approved" : "failed"}, {"paymentId", *payment}};
  if (auto reason = data->find("reason");
      !succeeded && reason != data->end() && reason->is_string()) {
    m.variables["paymentFailureReason"] = *reason;
  }
  return m;
}

}  // namespace

Result<Message> payment_webhook_message(std::string_view body, std::string_view signature,
                                        std::string_view secret,
                                        const PaymentWebhookOptions& options) {
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  if (Status verified = verify_ordo_webhook_signature(body, signature, secret, now_ms,
                                                      options.tolerance_s);
      !verified) {
    const std::string why = verified.message();
    if (options.log) {
      options.log(LogLevel::kWarning, "payment webhook rejected (" + std::to_string(body.size()) +
                                          " bytes): " + why);
    }
    return Status(StatusCode::kUnauthenticated, "payment webhook rejected: " + why);
  }
  Result<Message> message = parse_event(body, options);
  if (!message && options.log) options.log(LogLevel::kWarning, message.status().message());
  return message;
}

}  // namespace ordo
