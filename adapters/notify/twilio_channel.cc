// SMS through Twilio's Messages API, and Twilio's status callbacks (docs/notifications.md#twilio):
// form-encoded POST /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP basic auth,
// answers and errors as Twilio documents them ({"code", "message", "more_info", "status"}),
// callbacks signed with X-Twilio-Signature (HMAC-SHA1 of the URL and the sorted parameters).
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <map>

#include "channels.h"
#include "http/http_call.h"
#include "http/http_client.h"
#include "ordo/adapters/adapters.h"

namespace ordo {
namespace {

using nlohmann::json;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding ('+' is a space).
std::string form_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::multimap<std::string, std::string> parse_form(std::string_view body) {
  std::multimap<std::string, std::string> out;
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    out.emplace(form_decode(pair.substr(0, eq)),
                eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1)));
  }
  return out;
}

}  // namespace

std::string twilio_signature(std::string_view url, std::string_view form_body,
                             std::string_view auth_token) {
  // The URL, then each parameter's name and value, sorted by name.
  std::string data(url);
  for (const auto& [name, value] : parse_form(form_body)) data += name + value;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha1(), auth_token.data(), static_cast<int>(auth_token.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  return notify::base64(std::string_view(reinterpret_cast<const char*>(digest), length));
}

Result<DeliveryStatus> twilio_status_callback(std::string_view url, std::string_view form_body,
                                              std::string_view signature,
                                              std::string_view auth_token, std::int64_t now_ms) {
  if (auth_token.empty()) {
    return Status(StatusCode::kUnauthenticated, "twilio callback rejected: no auth token is configured");
  }
  const std::string expected = twilio_signature(url, form_body, auth_token);
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    return Status(StatusCode::kUnauthenticated,
                  "twilio callback rejected: X-Twilio-Signature does not verify (is the "
                  "configured url exactly the statusCallback Twilio calls?)");
  }
  const auto params = parse_form(form_body);
  const auto get = [&](const char* name) {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  };
  DeliveryStatus out;
  out.channel = "sms";
  out.provider_id = get("MessageSid");
  if (out.provider_id.empty()) out.provider_id = get("SmsSid");
  const std::string status = get("MessageStatus").empty() ? get("SmsStatus") : get("MessageStatus");
  if (out.provider_id.empty() || status.empty()) {
    return Status::invalid_argument("twilio callback: MessageSid and MessageStatus are required");
  }
  out.status = status == "undelivered" ? "failed" : status;
  out.at_ms = now_ms;
  out.detail = {{"provider", "twilio"}, {"twilioStatus", status}};
  if (const std::string code = get("ErrorCode"); !code.empty()) out.detail["errorCode"] = code;
  // Twilio says no time: a later "sent" must not undo "delivered".
  out.no_provider_time = true;
  return out;
}

namespace notify {
namespace {

class TwilioChannel final : public Channel {
 public:
  std::string base_url = "https://api.twilio.com";
  std::string account_sid, auth_token, from, messaging_service, status_callback;
  std::int64_t connect_timeout_ms = 2000, timeout_ms = 10000;

  std::string_view name() const noexcept override { return "sms"; }
  Result<Recipient> recipient(const json& customer) const override {
    return phone_recipient(customer);
  }
  SendResult send(const Outgoing& out) override {
    std::vector<std::pair<std::string, std::string>> fields = {{"To", out.to.address},
                                                               {"Body", out.message->text}};
    if (!messaging_service.empty()) {
      fields.emplace_back("MessagingServiceSid", messaging_service);
    } else {
      fields.emplace_back("From", from);
    }
    if (!status_callback.empty()) fields.emplace_back("StatusCallback", status_callback);
    adapters::HttpRequest req;
    req.method = "POST";
    req.url = base_url + "/2010-04-01/Accounts/" + adapters::path_segment(account_sid) +
              "/Messages.json";
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"Accept", "application/json"},
                   {"Authorization", "Basic " + base64(account_sid + ":" + auth_token)}};
    req.body = adapters::form_encode(fields);
    req.connect_timeout_ms = connect_timeout_ms;
    req.timeout_ms = timeout_ms;
    SendResult result;
    adapters::HttpAnswer got;
    if (auto failed = exchange(req, got)) return *failed;
    const adapters::HttpAnswer* answer = &got;
    const long status = answer->status;
    const json doc = json::parse(answer->body, nullptr, false);
    if (status >= 200 && status < 300) {
      if (doc.is_object() && doc.contains("sid") && doc["sid"].is_string()) {
        result.provider_id = doc["sid"].get<std::string>();
        return result;
      }
      // Taken: sending again would text twice (the Messages API has no idempotency key).
      result.error = "twilio answered " + std::to_string(status) + " without a message sid: " +
                     answer->body.substr(0, 200);
      return result;
    }
    std::string said = "twilio answered " + std::to_string(status);
    if (doc.is_object()) {
      if (doc.contains("code") && doc["code"].is_number_integer()) said += " (error " + doc["code"].dump() + ")";
      if (doc.contains("message") && doc["message"].is_string()) said += ": " + doc["message"].get<std::string>();
    } else {
      said += ": " + answer->body.substr(0, 200);
    }
    result.error = said;
    // 400: this message or number, for good (21211 not a valid number, 21610 the customer
    // answered STOP, 21614 not a mobile number, ...). 401/403 (the credentials), 429 and
    // 5xx can pass: retried, no sooner than Retry-After.
    result.kind = status == 400 || status == 404 ? SendResult::Kind::kRejected : SendResult::Kind::kRetry;
    result.backoff_ms = adapters::retry_after_ms(*answer);
    return result;
  }
};

}  // namespace

Result<std::unique_ptr<Channel>> make_twilio_channel(const json& settings, const std::string& where) {
  if (Status s = only_known(settings, where,
                            "provider, accountSid, authToken, from, messagingServiceSid, "
                            "statusCallback, baseUrl, connectTimeoutMs, timeoutMs, "
                            "retryBackoffMs, quietHours");
      !s) {
    return s;
  }
  auto ch = std::make_unique<TwilioChannel>();
  if (Status s = read_text(settings, where, "accountSid", ch->account_sid, true); !s) return s;
  if (!ch->account_sid.starts_with("AC")) {
    return Status::invalid_argument(where + ".accountSid: must be the account's SID (AC...)");
  }
  if (Status s = read_text(settings, where, "authToken", ch->auth_token, true); !s) return s;
  if (Status s = read_text(settings, where, "from", ch->from, false); !s) return s;
  if (Status s = read_text(settings, where, "messagingServiceSid", ch->messaging_service, false); !s) {
    return s;
  }
  if (ch->from.empty() == ch->messaging_service.empty()) {
    return Status::invalid_argument(where + ": give either from (the sending number) or "
                                            "messagingServiceSid (MG...), one of them");
  }
  if (Status s = read_text(settings, where, "statusCallback", ch->status_callback, false); !s) return s;
  if (Status s = read_text(settings, where, "baseUrl", ch->base_url, false); !s) return s;
  while (ch->base_url.size() > 8 && ch->base_url.back() == '/') ch->base_url.pop_back();
  if (ch->base_url.rfind("http://", 0) != 0 && ch->base_url.rfind("https://", 0) != 0) {
    return Status::invalid_argument(where + ".baseUrl: must be an http:// or https:// URL");
  }
  if (Status s = read_ms(settings, where, "connectTimeoutMs", ch->connect_timeout_ms); !s) return s;
  if (Status s = read_ms(settings, where, "timeoutMs", ch->timeout_ms); !s) return s;
  if (Status s = read_ms(settings, where, "retryBackoffMs", ch->retry_backoff_ms); !s) return s;
  if (Status s = read_quiet_hours(settings, where, ch->quiet_hours); !s) return s;
  return std::unique_ptr<Channel>(std::move(ch));
}

}  // namespace notify
}  // namespace ordo
