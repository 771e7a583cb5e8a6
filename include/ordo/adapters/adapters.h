// Adapters: task handlers that do a job's work in another system (docs/adapters.md).
//
// Each adapter is made from its settings (its object in ordo.json) and checked then: a
// setting of the wrong type, a missing URL or an expression that does not compile is an
// error naming the setting. The handler it returns may be called from several threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/engine.h"
#include "ordo/log.h"
#include "ordo/sim/replay.h"
#include "ordo/status.h"
#include "ordo/task_handler.h"

namespace ordo {

// The generic HTTP adapter: JSON over HTTP (libcurl).
//   method           "POST" (GET, PUT, PATCH, DELETE)
//   url              required; text, or a FEEL expression "=..." over the job's variables
//   body             FEEL expression giving the JSON body; default: the job's variables
//                    (none for GET and DELETE)
//   headers          {name: text or "=..."}
//   output           {variable: FEEL expression over `response` ({status, body, headers})
//                    and the job's variables}; default: the fields of a JSON object body
//   connectTimeoutMs 2000;  timeoutMs 10000
//   errorCode        a 4xx answer throws this BPMN error; absent: a 4xx is an incident
//   retryBackoffMs   backoff after a 5xx, a timeout or a connection failure (retried while
//                    the job has retries); 0: the engine's default
// Every request carries `Idempotency-Key: <the job's idempotency key>`, the same on every
// retry and after a crash, so the other side can drop repeats. An answer that is not the
// JSON the output needs is an incident quoting the start of the body.
// `where` names the adapter in errors, e.g. "adapters.erp.check-availability".
Result<TaskHandler> make_http_adapter(const nlohmann::json& settings, const std::string& where);

// The ERP adapter: one operation per task type, JSON over HTTP under `baseUrl`, on the same
// call machinery as the http adapter (Idempotency-Key, timeouts, retries, incidents).
//   operation        required: check-availability, reserve, release, handover, ship
//   baseUrl          required: http(s)://...; the operation's path is appended
//   errorCode        reserve only: the BPMN error a 409 (stock gone) throws; "OUT_OF_STOCK"
//   headers, connectTimeoutMs, timeoutMs, retryBackoffMs   as for the http adapter
// Requests read the job's variables orderId (else the business key), items ([{sku,
// quantity}]), reservationId, warehouseOrderId, shippingAddress. Outputs:
//   check-availability  POST /availability        -> available, unavailableItems
//   reserve             POST /reservations        -> reservationId; 409 -> errorCode
//   release             POST /reservations/{reservationId}/release -> nothing; 404 counts as
//                       released; no reservationId variable: completes without a request
//   handover            POST /warehouse-orders    -> warehouseOrderId
//   ship                POST /shipments           -> trackingNumber, carrier, trackingUrl
// An answer without the fields the operation needs is an incident quoting it. The exact
// request and answer shapes are in docs/adapters.md#erp. `where` names the adapter in
// errors, e.g. "adapters.erp.reserve".
Result<TaskHandler> make_erp_adapter(const nlohmann::json& settings, const std::string& where);

// The payment adapter, the same way (docs/adapters.md#payment):
//   operation        required: charge, cancel
//   baseUrl          required
//   errorCode        charge only: the BPMN error of a declined charge; "PAYMENT_DECLINED"
//   headers, connectTimeoutMs, timeoutMs, retryBackoffMs
//   charge  POST /charges {orderId, amount (variable total), currency, customerId?,
//           paymentMethod?} -> paymentId and paymentStatus ("pending" or "approved");
//           "declined" or HTTP 402 -> errorCode with the variable declineReason. The
//           confirmation comes later as a webhook (payment_webhook_message).
//   cancel  POST /charges/{paymentId}/cancel -> paymentCancellation ("voided", "refunded",
//           "none"); no paymentId variable, 404 or 409: "none" (no request without one).
// The provider should honour Idempotency-Key: a retried charge carries the same key.
Result<TaskHandler> make_payment_adapter(const nlohmann::json& settings, const std::string& where);

// The payment adapter's Stripe profile ("adapter": "stripe"; docs/adapters.md#stripe):
// PaymentIntents as Stripe's API documents them: form-encoded requests to baseUrl (default
// https://api.stripe.com) with "Authorization: Bearer <apiKey>" and the job's
// Idempotency-Key, amounts in the currency's minor unit.
//   operation        required: charge, capture, cancel, refund
//   apiKey           required: the secret key (sk_... or rk_...), "${env:STRIPE_SECRET_KEY}"
//   captureMethod    charge: automatic (default) or manual (authorize; capture later)
//   apiVersion       sent as Stripe-Version (default: the account's)
//   errorCode        charge: the BPMN error of a decline; "PAYMENT_DECLINED"
//   baseUrl, headers, connectTimeoutMs, timeoutMs, retryBackoffMs
//   charge   POST /v1/payment_intents (amount from total and currency, payment_method from
//            paymentMethod, customer from customerId, confirm=true, metadata[orderId]) ->
//            paymentId (pi_...), paymentStatus approved (succeeded), authorized
//            (requires_capture) or pending (processing: the webhook says how it ends); a
//            card_error (402) -> errorCode with declineReason (the decline_code, else the
//            code) and paymentId; requires_action (3-D Secure, nobody to authenticate) ->
//            errorCode with declineReason authentication_required
//   capture  POST /v1/payment_intents/{paymentId}/capture -> paymentStatus approved
//   cancel   POST /v1/payment_intents/{paymentId}/cancel -> paymentCancellation voided; one
//            captured already is refunded instead (refunded); no paymentId: none
//   refund   POST /v1/refunds (payment_intent, amount from refundAmount and currency
//            when set) -> refundId, refundStatus refunded
// 429, 409 (the same key in flight) and 5xx are retried, after Retry-After when Stripe
// sends one; 401 (the key), 400 (a parameter) and idempotency errors are incidents quoting
// Stripe's message.
Result<TaskHandler> make_stripe_adapter(const nlohmann::json& settings, const std::string& where);

struct PaymentWebhookOptions {
  // The message the process waits for.
  std::string message_name = "payment-confirmed";
  // How long the message waits for an instance that is not yet waiting for it.
  std::int64_t ttl_ms = 60 * 60 * 1000;
  // Where rejected webhooks are reported (as warnings); null: nowhere (the Status says why).
  LogFunction log;
  // How far a timestamped signature's time may be from now (verify_ordo_webhook_signature).
  std::int64_t tolerance_s = 300;
};
// A payment provider's webhook as the message to publish (Engine::publish_message). Checks
// `signature` (the header's value) against `secret` first (verify_ordo_webhook_signature:
// "t=...,v1=..." or "sha256=..."); then reads the body
//   {"id": "evt_...", "type": "payment.succeeded" | "payment.failed",
//    "data": {"paymentId": "...", "orderId": "...", "reason": "..."?}}
// into: name options.message_name, correlation key data.orderId, message id "payment:<id>"
// (a webhook delivered twice is published once: the engine drops the repeated id),
// variables {paymentStatus: "approved" | "failed", paymentId, paymentFailureReason (failed
// events with a reason)}, ttl options.ttl_ms (a webhook that comes before the instance
// waits is kept for it). Errors, each logged as a warning: kUnauthenticated for a missing
// or wrong signature (or an empty secret), nothing read from the body; kInvalidArgument for
// a body that is not that JSON, naming the field. Thread-safe.
Result<Message> payment_webhook_message(std::string_view body, std::string_view signature,
                                        std::string_view secret,
                                        const PaymentWebhookOptions& options = {});

// Webhook signatures, as payment providers send them: HMAC-SHA256 of the raw body with a
// shared secret, in hex. `signature` may carry a "sha256=" prefix and upper-case hex. The
// comparison takes the same time whatever differs; an empty secret accepts nothing.
bool verify_webhook_signature(std::string_view body, std::string_view secret,
                              std::string_view signature);
// The signature of `body` as "sha256=<hex>" (for peers and tests).
std::string webhook_signature(std::string_view body, std::string_view secret);

// Timestamped webhook signatures, as Stripe signs its webhooks (Stripe-Signature) and Ordo's
// own webhooks may: the header "t=<unix seconds>,v1=<hex>", the HMAC-SHA256 of
// "<t>.<body>" with the shared secret. Several v1 may be given (while a secret is rotated);
// one must verify. A timestamp more than `tolerance_s` from `now_ms` is refused, so a
// request captured on the way cannot be sent again later. kUnauthenticated says why.
Status verify_timestamped_signature(std::string_view body, std::string_view header,
                                    std::string_view secret, std::int64_t now_ms,
                                    std::int64_t tolerance_s = 300);
// Ordo's own webhooks (the payment webhook, delivery status callbacks) take either form:
// "t=<unix seconds>,v1=<hex>" as above, which senders should use, or the older
// "sha256=<hex>" of the body alone, which has no timestamp (a replay is then stopped only
// by the message id). kUnauthenticated says why.
Status verify_ordo_webhook_signature(std::string_view body, std::string_view signature,
                                     std::string_view secret, std::int64_t now_ms,
                                     std::int64_t tolerance_s = 300);
// The header for `body` signed at `unix_seconds` (for peers and tests).
std::string timestamped_signature(std::string_view body, std::string_view secret,
                                  std::int64_t unix_seconds);

struct StripeWebhookOptions {
  std::string message_name = "payment-confirmed";
  std::int64_t ttl_ms = 60 * 60 * 1000;
  std::int64_t tolerance_s = 300;  // Stripe's own libraries' default
  LogFunction log;                 // rejected or passed-over events (warnings, info)
};
// A Stripe webhook (docs/adapters.md#stripe-webhooks) as the message to publish: the
// Stripe-Signature header checked first (verify_timestamped_signature); then the event
//   payment_intent.succeeded       -> paymentStatus "approved"
//   payment_intent.payment_failed  -> paymentStatus "failed", paymentFailureReason (the
//                                     last_payment_error's decline_code, code or message)
//   payment_intent.canceled        -> paymentStatus "failed", paymentFailureReason "canceled"
//   payment_intent.amount_capturable_updated -> paymentStatus "authorized" (manual capture)
// with paymentId (pi_...), correlation key data.object.metadata.orderId (as the stripe
// adapter's charge sets it), message id "stripe:<event id>" (Stripe delivers an event more
// than once: the engine drops the repeat) and ttl options.ttl_ms. nullopt for a verified
// event Ordo does not act on (other types, PaymentIntents without an orderId): answer 200
// so that Stripe stops sending it. kUnauthenticated for a signature that fails,
// kInvalidArgument for a body that is not a Stripe event.
Result<std::optional<Message>> stripe_webhook_message(std::string_view body,
                                                      std::string_view signature,
                                                      std::string_view secret, std::int64_t now_ms,
                                                      const StripeWebhookOptions& options = {});

class Notifier;        // notifications.h
class QueueConsumers;  // queues.h
class EventPublisher;  // queues.h

// The adapters of a configuration file (ordo.json):
//   {"adapters": {"<task type>": {"adapter": "http" | "erp" | "payment" | "notify" |
//                                             "simulated", ...settings}},
//    "notifications": {...},   (docs/notifications.md; "notify" adapters need it)
//    "queues": {...}}          (RabbitMQ consumers, docs/queues.md)
// Relative paths in the file (templates, the delivery log) are relative to its directory.
// Any string may contain ${env:NAME}, replaced by that environment variable (secrets stay
// out of the file). Errors name the key: an unknown adapter or top-level section, a missing
// URL, an unset variable, a file that is not JSON (with its line and column).
struct AdapterConfig {
  // Handlers by task type; the "simulated" ones are absent (the caller's default answers).
  std::map<std::string, TaskHandler> handlers;
  std::vector<std::string> simulated;  // task types the file leaves to the simulation
  // Task types done by external workers over the HTTP API ("adapter": "external"): no
  // handler here takes them (Engine::leave_to_external_workers).
  std::vector<std::string> external;
  // The notifications section's Notifier (its delivery log, provider status callbacks), or
  // null without one.
  std::shared_ptr<Notifier> notifier;
  // The "queues" section's consumers (not started), or null without one.
  std::shared_ptr<QueueConsumers> queues;
  // The "queues" section's event publisher ("events"; not started), or null without one.
  std::shared_ptr<EventPublisher> events;
  // The "server" section (ordo serve: tokens, limits), secrets expanded; null without one.
  nlohmann::json server;

  // Lets the adapters use what `engine` has deployed (the segments' DMN decision). Call once
  // the engine is open, before it runs jobs; the engine must outlive the handlers' use.
  void attach(const Engine& engine) const;
};
// `environment` looks a variable up (default: getenv); it returns false when it is unset.
using Environment = std::function<bool(const std::string& name, std::string& value)>;
// `log`: where the adapters report what their jobs' outcomes do not say (a customer's unknown
// time zone, a failed delivery before its retry); null: nowhere.
Result<AdapterConfig> load_adapter_config(const std::string& path, Environment environment = {},
                                          LogFunction log = {});
Result<AdapterConfig> parse_adapter_config(const std::string& text, const std::string& file,
                                           Environment environment = {}, LogFunction log = {});

// The notification rules of an ordo.json, for a replay to rehearse (`ordo replay
// --notifications`, docs/simulation.md#notification-rules): its "notifications" section and
// the task types its "notify" and "segments" adapters do. Nothing else in the file is built
// or connected to, and a ${env:NAME} that is not set stays as it is (a rehearsal sends
// nothing, so the secrets need not be there). Errors as load_adapter_config's; a file
// without a notifications section or a notify adapter is refused.
struct NotificationRehearsal {
  std::string file;
  nlohmann::json settings;  // the notifications section
  std::string base_dir;     // the file's directory: relative paths are relative to it
  std::vector<std::string> notify_types, segment_types;
  // The rules as a replay applies them (ReplayOptions::notifications): each variant on each
  // lane gets a Notifier::rehearsal of these settings, with a delivery log of its own, and
  // its engine evaluates the segments' decision.
  ReplayNotifications for_replay() const;
};
Result<NotificationRehearsal> load_notification_rehearsal(const std::string& path);

}  // namespace ordo
