// Notification channels: email over SMTP, SMS through an HTTP gateway, push through a
// webhook. One small interface; each channel in its own file, overriding only what differs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "http/http_client.h"
#include "ordo/adapters/notifications.h"
#include "ordo/status.h"

namespace ordo::notify {

struct Recipient {
  std::string address;  // e-mail address, E.164 number, push token
  std::string name;     // for the email's To: header
};

struct Outgoing {
  const RenderedMessage* message = nullptr;
  Recipient to;
  // Stable for this message on this channel, across retries and crashes: the SMS and push
  // requests' Idempotency-Key, the email's Message-ID.
  std::string reference;
  std::string order_id;
  std::string template_id;
  std::int64_t now_ms = 0;
};

struct SendResult {
  enum class Kind { kSent, kRetry, kRejected } kind = Kind::kSent;
  std::string provider_id;
  std::string error;
  std::int64_t backoff_ms = 0;  // kRetry: at least this long (a provider's Retry-After)
};

// A daily window in which a channel stays silent ("21:00" to "08:00"; may wrap midnight).
struct QuietHours {
  int from_minute = 0;
  int to_minute = 0;
};

class Channel {
 public:
  virtual ~Channel() = default;
  virtual std::string_view name() const noexcept = 0;
  // Where this customer is reached on this channel, or why not (no address, not E.164).
  virtual Result<Recipient> recipient(const nlohmann::json& customer) const = 0;
  // Sends; never throws. Retry: a 4xx SMTP reply, a 5xx/408/429 HTTP answer, a timeout, a
  // refused connection. Rejected: the provider refuses this message for good.
  virtual SendResult send(const Outgoing& out) = 0;

  std::optional<QuietHours> quiet_hours;
  std::int64_t retry_backoff_ms = 0;  // 0: the engine's default
};

// Each reads its object from notifications.channels; errors name `where`.<setting>.
Result<std::unique_ptr<Channel>> make_email_channel(const nlohmann::json& settings,
                                                    const std::string& where);
Result<std::unique_ptr<Channel>> make_sms_channel(const nlohmann::json& settings,
                                                  const std::string& where);
Result<std::unique_ptr<Channel>> make_push_channel(const nlohmann::json& settings,
                                                   const std::string& where);
// SMS through Twilio's Messages API (twilio_channel.cc): notifications.channels.sms with
// "provider": "twilio".
Result<std::unique_ptr<Channel>> make_twilio_channel(const nlohmann::json& settings,
                                                     const std::string& where);
// Push through Firebase Cloud Messaging HTTP v1 (fcm_channel.cc):
// notifications.channels.push with "provider": "fcm"; a relative serviceAccountFile is read
// from `base_dir`. A `rehearsal` channel never sends: it reads no key file.
Result<std::unique_ptr<Channel>> make_fcm_channel(const nlohmann::json& settings,
                                                  const std::string& where,
                                                  const std::string& base_dir,
                                                  bool rehearsal = false);
// The customer's phone as an E.164 number: where every SMS channel sends.
Result<Recipient> phone_recipient(const nlohmann::json& customer);
// The customer's app: pushToken (or deviceToken), where every push channel sends.
Result<Recipient> push_recipient(const nlohmann::json& customer);
// Base64 (OpenSSL's encoder): MIME bodies, basic authentication.
std::string base64(std::string_view bytes);
// Base64url without padding (RFC 4648 section 5): JWTs, tracking URLs.
std::string base64url(std::string_view bytes);
// One HTTP exchange of a channel: the answer, or the kRetry result of a transport failure
// (a refused connection, a timeout).
std::optional<SendResult> exchange(const adapters::HttpRequest& request, adapters::HttpAnswer& answer);

// Shared setting readers: a string / a positive number / an object of strings, or an error
// naming where.key. Absent optional settings keep `out` as it is.
Status read_text(const nlohmann::json& settings, const std::string& where, const char* key,
                 std::string& out, bool required);
Status read_ms(const nlohmann::json& settings, const std::string& where, const char* key,
               std::int64_t& out);
// Every key of `settings` must be in `known` (a comma-separated list).
Status only_known(const nlohmann::json& settings, const std::string& where, std::string_view known);
// "HH:MM"-"HH:MM" (a channel's quietHours: {"from", "to"}).
Status read_quiet_hours(const nlohmann::json& settings, const std::string& where,
                        std::optional<QuietHours>& out);

}  // namespace ordo::notify
