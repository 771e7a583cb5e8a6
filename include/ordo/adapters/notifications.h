// Customer notifications: templates, channels, rules and the delivery log
// (docs/notifications.md).
//
// A Notifier does the work of `notify.send` tasks. The task names the message (header
// `template`, e.g. order-shipped) and the designer's channel (header `channel`); the
// Notifier picks the channel by the rules in ordo.json and the customer's preference and
// opt-outs, renders the message in the customer's language, sends it (SMTP, an SMS gateway,
// a push webhook), and records every attempt in the delivery log. The same message for the
// same order is sent once, also across crashes and retries; quiet hours and a per-customer
// hourly cap make a message wait (durably: the job is deferred); failed deliveries are
// retried, then a fallback channel is tried, then an incident tells operations.
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

#include "ordo/log.h"
#include "ordo/status.h"
#include "ordo/task_handler.h"

namespace ordo {

// ---- templates ----

// A message rendered for one channel: email has a subject, text and HTML; SMS has text;
// push has a title (in `subject`) and text.
struct RenderedMessage {
  std::string locale;  // the locale whose template was used
  std::string subject;
  std::string text;
  std::string html;
};

// The templates of processes/templates/: <locale>/<message>.<channel>.mustache (+ the
// email's .email.html.mustache) and <locale>/strings.json (greetings, money format). Loaded
// and checked once; immutable and thread-safe afterwards.
class NotificationTemplates {
 public:
  // Errors name the file (with the Mustache error) or the missing piece: the default
  // locale must exist and have strings.json.
  static Result<NotificationTemplates> load(const std::string& dir,
                                            std::string default_locale = "en");

  // The locale to use for a customer's: "de-AT" -> "de" if present, else the default.
  std::string resolve_locale(std::string_view requested) const;
  // Whether `message` exists for `channel` in the default locale (what every locale falls
  // back to).
  bool has(std::string_view message, std::string_view channel) const;
  // Whether `locale` itself has `message` for `channel` (no fallback).
  bool has_in(std::string_view locale, std::string_view message, std::string_view channel) const;
  std::vector<std::string> locales() const;

  // The view the templates see, from a job's variables (the order: customer, items, total,
  // currency, tracking, shippingAddress, ...) for `locale`: greeting (mr/ms only when the
  // data says so, else neutral), money formatted for the locale, strings kept as given.
  nlohmann::json view(const nlohmann::json& variables, std::string_view order_id,
                      std::string_view locale, const nlohmann::json& shop) const;
  // Renders `message` for `channel` ("email", "sms", "push") in `locale`, falling back to the
  // default locale when that locale lacks it. kNotFound when no locale has it.
  Result<RenderedMessage> render(std::string_view message, std::string_view channel,
                                 std::string_view locale, const nlohmann::json& view) const;

  NotificationTemplates(NotificationTemplates&&) noexcept;
  NotificationTemplates& operator=(NotificationTemplates&&) noexcept;
  ~NotificationTemplates();

 private:
  struct Data;
  explicit NotificationTemplates(std::unique_ptr<Data> data);
  std::unique_ptr<Data> data_;
};

// An SMS number as E.164 ("+4915123456789"): spaces, dots, dashes and parentheses are
// dropped; anything else that is not "+" and 8 to 15 digits (the first not 0) is refused
// with the reason. A number given as a JSON number is refused too: it has lost its "+"
// (and any leading zero).
Result<std::string> to_e164(const nlohmann::json& phone);

// ---- the delivery log ----

struct DeliveryRecord {
  std::int64_t id = 0;
  std::string dedupe_key;  // "<message>:<order id>"
  std::string message;     // the template
  std::string order_id;
  std::string customer;
  std::string channel;
  std::string locale;
  std::string recipient;
  // sending (in flight, or cut short by a crash), sent, failed (retryable), rejected (the
  // provider refused for good), skipped (no usable channel; `error` says why), deferred
  // (quiet hours or the hourly cap; `error` says until when), duplicate (already sent)
  std::string status;
  std::string provider_id;      // the provider's message id (Message-ID for email)
  std::string error;
  std::string provider_status;  // the last status callback: delivered, bounced, opened, ...
  int attempt = 0;              // the job's attempt
  std::int64_t created_ms = 0;  // the engine's clock
  std::int64_t updated_ms = 0;
  std::string segment;     // the customer's segment (the instance's `segment` variable)
  std::string experiment;  // the A/B experiment the message was part of, if any
  std::string variant;     // and the customer's variant in it
};

struct DeliveryStatus {
  std::string channel;
  std::string provider_id;
  std::string status;  // delivered, bounced, opened, clicked, failed, ...
  std::int64_t at_ms = 0;
  nlohmann::json detail = nlohmann::json::object();
  // The provider gives no time of its own (at_ms is when the callback came): a status that
  // is not final (queued, sending, sent, ...) then never replaces a final one (delivered,
  // failed, bounced, read, ...) that came before it.
  bool no_provider_time = false;
};

// Twilio's status callbacks (form-encoded, X-Twilio-Signature: the base64 HMAC-SHA1 with the
// auth token of `url` followed by each parameter's name and value, sorted by name). `url` is
// the callback's URL exactly as Twilio calls it (the statusCallback the SMS was sent with).
// The status is Twilio's MessageStatus ("undelivered" becomes "failed"), with detail
// {provider, twilioStatus, errorCode}. kUnauthenticated when the signature fails,
// kInvalidArgument without MessageSid or MessageStatus.
Result<DeliveryStatus> twilio_status_callback(std::string_view url, std::string_view form_body,
                                              std::string_view signature,
                                              std::string_view auth_token, std::int64_t now_ms);
// The header Twilio would send (for peers and tests).
std::string twilio_signature(std::string_view url, std::string_view form_body,
                             std::string_view auth_token);

// The delivery log in `path` (an Ordo database), for one order when `order_id` is given.
// Errors: the file is missing or not an Ordo database.
Result<std::vector<DeliveryRecord>> read_delivery_log(const std::string& path,
                                                      std::string_view order_id = {});

// Sent deliveries counted by channel, segment, experiment and variant (empty when none),
// with how many of them were delivered, opened (an open or a click: a mail app that blocks
// the pixel still follows links) and clicked. Opens are a lower bound of a sort only: mail
// apps that fetch images ahead (Apple Mail Privacy Protection) open every message.
struct EngagementCount {
  std::string channel;
  std::string segment;
  std::string experiment;
  std::string variant;
  std::int64_t sent = 0;
  std::int64_t delivered = 0;
  std::int64_t opened = 0;
  std::int64_t clicked = 0;
};

// ---- the experiments' report ----

// A share with its 95% Wilson score interval (n = 0: rate, low and high are 0).
struct Proportion {
  std::int64_t count = 0;
  std::int64_t of = 0;
  double rate = 0;
  double low = 0;
  double high = 0;
};
Proportion wilson_interval(std::int64_t count, std::int64_t of);
// The difference a.rate - b.rate with its 95% interval (Newcombe's hybrid score method,
// from the two Wilson intervals).
struct Difference {
  double value = 0;
  double low = 0;
  double high = 0;
};
Difference difference_interval(const Proportion& a, const Proportion& b);

class Engine;

struct EngagementReportOptions {
  // Experiment -> the element whose completion, after the message was sent, counts as the
  // order's success (notifications.experiments.<id>.outcome).
  std::map<std::string, std::string, std::less<>> outcomes;
  // Where the orders' outcomes are looked up (by business key = order id); null: no
  // outcomes.
  const Engine* engine = nullptr;
};

// The experiments of the delivery log at `location`, as JSON (docs/engagement.md#the-report):
// per experiment, per variant (all segments, then each segment): messages sent, delivered,
// opened, clicked and orders that reached the outcome, each a Proportion of the sent; and a
// headline per KPI comparing each variant with the control ("control", else the first by
// name): the difference with its interval, and whether it is clear (the interval excludes
// 0). kNotFound when there is no delivery log there.
Result<nlohmann::json> engagement_report(const std::string& location,
                                         const EngagementReportOptions& options);

// ---- the notifier ----

// The `notifications` section of ordo.json (docs/notifications.md lists every setting).
// `base_dir` resolves relative paths (templates, deliveryLog): the config file's directory.
// Errors name the setting: a missing or unknown channel, a rule naming a channel that is not
// configured, a message a rule names without a template in the default locale, a malformed
// quiet-hours window or time zone, a delivery log that cannot be opened.
class Notifier : public std::enable_shared_from_this<Notifier> {
 public:
  // `log`: where failed deliveries and unknown time zones are reported; null: nowhere.
  static Result<std::shared_ptr<Notifier>> create(const nlohmann::json& settings,
                                                  const std::string& base_dir,
                                                  const std::string& where = "notifications",
                                                  LogFunction log = {});
  // A Notifier that sends nothing, for a replay (`ordo replay --notifications`): the same
  // settings and rules, and each channel decides whom it reaches as it would, but a message
  // it would send is recorded as sent, the delivery log is a new one in memory (whatever
  // `deliveryLog` says), no status is forwarded, and a push channel's key file is not read.
  static Result<std::shared_ptr<Notifier>> rehearsal(const nlohmann::json& settings,
                                                     const std::string& base_dir,
                                                     const std::string& where = "notifications");
  ~Notifier();
  // Who the rules take `customer` (the instance's customer object) to be: its id, else
  // customerId, email or phone; empty when it has none (the order is then its own
  // customer). Caps, segments and variants are per this key.
  static std::string customer_of(const nlohmann::json& customer);
  // A rehearsal forgets an order a replay left out (a bad record): its deliveries and its
  // place in the customer's history. Refused (kInvalidArgument) for a real log.
  Status forget_order(std::string_view order_id);

  // The handler for notify.send (it keeps the Notifier alive); thread-safe.
  TaskHandler handler();
  JobOutcome handle(const Job& job);

  // A provider's status callback (delivered, bounced, opened, clicked): recorded once per
  // delivery and status (a repeated callback returns false and is not forwarded again), and
  // forwarded to `statusForward.url` (the CRM) when configured. kNotFound for a provider id
  // the log does not know; a failed forward is an adapter error after recording.
  Result<bool> provider_status(const DeliveryStatus& status);

  // The delivery log: every attempt, newest last; for one order when `order_id` is given.
  Result<std::vector<DeliveryRecord>> deliveries(std::string_view order_id = {}) const;

  // Attempts counted by channel and status (for metrics); one query.
  struct Count {
    std::string channel;
    std::string status;
    std::int64_t count = 0;
  };
  Result<std::vector<Count>> delivery_counts() const;

  const NotificationTemplates& templates() const;

  // ---- segments (docs/engagement.md) ----

  // The handler for customer.segment tasks (the "segments" adapter): the customer's
  // segment for this order from the orders they placed before (kept in the delivery log's
  // database, this order added), by notifications.segments' thresholds or its DMN decision.
  // Completes with the variables `segment` and `customerHistory`; a retried job gets the
  // segment it was given before.
  TaskHandler segment_handler();
  JobOutcome segment(const Job& job);
  // Evaluates a deployed decision (Engine::evaluate_decision): what notifications.segments'
  // `decision` needs. Set once, before jobs run.
  using DecisionFunction =
      std::function<Result<nlohmann::json>(std::string_view decision, const nlohmann::json& inputs)>;
  void use_decisions(DecisionFunction evaluate);
  // Whether notifications.segments names a decision (the engine must then be attached).
  bool needs_decisions() const;

  // ---- engagement tracking ----

  // Whether notifications.tracking is configured (ordo serve then serves /t/o and /t/c).
  bool tracking() const;
  struct Tracked {
    std::string redirect;   // a click: where to send the customer
    bool recorded = false;  // the first open / click of this message
    // Why it was not recorded or forwarded (the customer is served all the same): kNotFound
    // for a message the log has not (yet) recorded as sent, the delivery log's or the CRM's
    // error.
    Status problem;
  };
  // An open (`kind` "o") or a click ("c") of a tracking URL's token: checked against the
  // secret (kUnauthenticated for a forged or edited one, kInvalidArgument for something
  // else or a kind that does not match the token), then recorded once per message and
  // event as the delivery's status "opened" / "clicked" and forwarded like a provider's
  // callback. `record` false (a HEAD request): checked and answered, not recorded.
  Result<Tracked> track(std::string_view kind, std::string_view token, std::int64_t now_ms,
                        bool record = true);

  // Sent deliveries (those sent at or after `sent_since_ms`, the engine's clock) with their
  // engagement so far, by channel, segment, experiment and variant.
  Result<std::vector<EngagementCount>> engagement(std::int64_t sent_since_ms = 0) const;
  // engagement_report() of this Notifier's delivery log, with its experiments' outcomes
  // looked up in `engine` (null: none).
  Result<nlohmann::json> experiments_report(const Engine* engine) const;

 private:
  struct State;
  static Result<std::shared_ptr<Notifier>> make(const nlohmann::json& settings,
                                                const std::string& base_dir,
                                                const std::string& where, LogFunction log,
                                                bool rehearsal);
  explicit Notifier(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace ordo
