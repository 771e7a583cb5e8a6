// SMS through an HTTP gateway and push through a webhook: JSON POSTs carrying the
// delivery's reference as Idempotency-Key, so a gateway that honours it never sends twice.
#include <algorithm>

#include "channels.h"
#include "http/http_client.h"

namespace ordo::notify {
namespace {

using nlohmann::json;

class HttpChannel : public Channel {
 public:
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::int64_t connect_timeout_ms = 2000, timeout_ms = 10000;

  SendResult post(const json& body, const std::string& reference) const {
    adapters::HttpRequest req;
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.headers.emplace_back("Content-Type", "application/json");
    req.headers.emplace_back("Accept", "application/json");
    req.headers.emplace_back("Idempotency-Key", reference);
    req.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    req.connect_timeout_ms = connect_timeout_ms;
    req.timeout_ms = timeout_ms;
    SendResult result;
    adapters::HttpAnswer got;
    if (auto failed = exchange(req, got)) return *failed;
    const adapters::HttpAnswer* answer = &got;
    const long status = answer->status;
    const std::string start = answer->body.substr(0, 200);
    if (status >= 200 && status < 300) {
      json doc = json::parse(answer->body, nullptr, false);
      if (doc.is_object() && doc.contains("id") &&
          (doc["id"].is_string() || doc["id"].is_number())) {
        result.provider_id =
            doc["id"].is_string() ? doc["id"].get<std::string>() : doc["id"].dump();
        return result;
      }
      // Sent, most likely, but unrecorded: the retry carries the same Idempotency-Key.
      result.kind = SendResult::Kind::kRetry;
      result.error = std::string(name()) + " gateway " + adapters::redact_url(url) + " answered " +
                     std::to_string(status) + " without a message id: " + start;
      return result;
    }
    result.error = std::string(name()) + " gateway " + adapters::redact_url(url) + " answered " +
                   std::to_string(status) +
                   ": " + start;
    // 400/404/410/422: the gateway refuses this message or number for good. 401/403 (a
    // token), 5xx, 408, 429 and the rest can be fixed or pass later: retried, then an
    // incident.
    const bool refused = status == 400 || status == 404 || status == 410 || status == 422;
    result.kind = refused ? SendResult::Kind::kRejected : SendResult::Kind::kRetry;
    return result;
  }

  Status configure(const json& settings, const std::string& where, std::string_view extra) {
    if (Status s = only_known(settings, where,
                              "url, headers, connectTimeoutMs, timeoutMs, retryBackoffMs, "
                              "quietHours" +
                                  std::string(extra));
        !s) {
      return s;
    }
    if (Status s = read_text(settings, where, "url", url, true); !s) return s;
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      return Status::invalid_argument(where + ".url: must be an http:// or https:// URL");
    }
    if (auto h = settings.find("headers"); h != settings.end()) {
      if (!h->is_object()) return Status::invalid_argument(where + ".headers: must be an object");
      for (const auto& [k, v] : h->items()) {
        if (!v.is_string()) {
          return Status::invalid_argument(where + ".headers." + k + ": must be a string");
        }
        headers.emplace_back(k, v.get<std::string>());
      }
    }
    if (Status s = read_ms(settings, where, "connectTimeoutMs", connect_timeout_ms); !s) {
      return s;
    }
    if (Status s = read_ms(settings, where, "timeoutMs", timeout_ms); !s) return s;
    if (Status s = read_ms(settings, where, "retryBackoffMs", retry_backoff_ms); !s) return s;
    return read_quiet_hours(settings, where, quiet_hours);
  }
};

class SmsChannel final : public HttpChannel {
 public:
  std::string sender;
  std::string_view name() const noexcept override { return "sms"; }
  Result<Recipient> recipient(const json& customer) const override {
    return phone_recipient(customer);
  }
  SendResult send(const Outgoing& out) override {
    json body = {{"to", out.to.address}, {"text", out.message->text}, {"reference", out.reference}};
    if (!sender.empty()) body["from"] = sender;
    return post(body, out.reference);
  }
};

class PushChannel final : public HttpChannel {
 public:
  std::string_view name() const noexcept override { return "push"; }
  Result<Recipient> recipient(const json& customer) const override {
    return push_recipient(customer);
  }
  SendResult send(const Outgoing& out) override {
    return post({{"to", out.to.address},
                 {"title", out.message->subject},
                 {"body", out.message->text},
                 {"data", {{"orderId", out.order_id}, {"message", out.template_id}}},
                 {"reference", out.reference}},
                out.reference);
  }
};

}  // namespace

Result<Recipient> push_recipient(const json& customer) {
  for (const char* k : {"pushToken", "deviceToken"}) {
    auto it = customer.find(k);
    if (it != customer.end() && it->is_string() && !it->get<std::string>().empty()) {
      return Recipient{it->get<std::string>(), {}};
    }
  }
  return Status::invalid_argument("the customer has no pushToken (no app installed)");
}

std::optional<SendResult> exchange(const adapters::HttpRequest& request,
                                   adapters::HttpAnswer& answer) {
  Result<adapters::HttpAnswer> got = adapters::http_exchange(request);
  if (!got) {
    SendResult result;
    result.kind = SendResult::Kind::kRetry;
    result.error = got.status().message();
    return result;
  }
  answer = std::move(*got);
  return std::nullopt;
}

Result<Recipient> phone_recipient(const json& customer) {
  auto it = customer.find("phone");
  if (it == customer.end() || it->is_null()) {
    return Status::invalid_argument("the customer has no phone number");
  }
  Result<std::string> number = to_e164(*it);
  if (!number) return number.status();
  return Recipient{*number, {}};
}

Result<std::unique_ptr<Channel>> make_sms_channel(const json& settings, const std::string& where) {
  if (auto provider = settings.find("provider"); settings.is_object() && provider != settings.end()) {
    if (*provider == "twilio") return make_twilio_channel(settings, where);
    return Status::invalid_argument(where + ".provider: unknown SMS provider (known: twilio; "
                                            "without provider: an HTTP gateway taking Ordo's JSON)");
  }
  auto ch = std::make_unique<SmsChannel>();
  if (Status s = ch->configure(settings, where, ", from"); !s) return s;
  if (Status s = read_text(settings, where, "from", ch->sender, false); !s) return s;
  return std::unique_ptr<Channel>(std::move(ch));
}

Result<std::unique_ptr<Channel>> make_push_channel(const json& settings, const std::string& where) {
  if (settings.is_object() && settings.contains("provider")) {
    return Status::invalid_argument(where + ".provider: unknown push provider (known: fcm; "
                                            "without provider: a webhook taking Ordo's JSON)");
  }
  auto ch = std::make_unique<PushChannel>();
  if (Status s = ch->configure(settings, where, ""); !s) return s;
  return std::unique_ptr<Channel>(std::move(ch));
}

Status read_text(const json& settings, const std::string& where, const char* key, std::string& out,
                 bool required) {
  auto it = settings.find(key);
  if (it == settings.end()) {
    return required ? Status::invalid_argument(where + "." + key + ": is missing") : Status::ok();
  }
  if (!it->is_string()) return Status::invalid_argument(where + "." + key + ": must be a string");
  out = it->get<std::string>();
  return Status::ok();
}

Status read_ms(const json& settings, const std::string& where, const char* key, std::int64_t& out) {
  auto it = settings.find(key);
  if (it == settings.end()) return Status::ok();
  if (!it->is_number_integer() || it->get<std::int64_t>() < 0) {
    return Status::invalid_argument(where + "." + key +
                                    ": must be a whole number of milliseconds, 0 or more");
  }
  out = it->get<std::int64_t>();
  return Status::ok();
}

Status only_known(const json& settings, const std::string& where, std::string_view known) {
  if (!settings.is_object()) return Status::invalid_argument(where + ": must be an object");
  for (const auto& [key, _] : settings.items()) {
    bool ok = false;
    std::size_t at = 0;
    while (at <= known.size()) {
      std::size_t comma = known.find(',', at);
      if (comma == std::string_view::npos) comma = known.size();
      std::string_view k = known.substr(at, comma - at);
      while (!k.empty() && k.front() == ' ') k.remove_prefix(1);
      if (k == key) ok = true;
      at = comma + 1;
    }
    if (!ok) {
      return Status::invalid_argument(
          where + "." + key + ": is not a setting here (known: " + std::string(known) + ")");
    }
  }
  return Status::ok();
}

Status read_quiet_hours(const json& settings, const std::string& where,
                        std::optional<QuietHours>& out) {
  auto it = settings.find("quietHours");
  if (it == settings.end()) return Status::ok();
  const std::string at = where + ".quietHours";
  if (Status s = only_known(*it, at, "from, to"); !s) return s;
  QuietHours q;
  for (auto [key, minute] :
       {std::pair<const char*, int*>{"from", &q.from_minute}, {"to", &q.to_minute}}) {
    std::string text;
    if (Status s = read_text(*it, at, key, text, true); !s) return s;
    const auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9'; };
    const bool shape =
        text.size() == 5 && text[2] == ':' && digit(0) && digit(1) && digit(3) && digit(4);
    const int h = shape ? (text[0] - '0') * 10 + (text[1] - '0') : 99;
    const int m = shape ? (text[3] - '0') * 10 + (text[4] - '0') : 99;
    if (h > 23 || m > 59) {
      return Status::invalid_argument(at + "." + key + ": '" + text +
                                      "' is not a time of day HH:MM (e.g. 21:00)");
    }
    *minute = h * 60 + m;
  }
  if (q.from_minute == q.to_minute) {
    return Status::invalid_argument(at + ": from and to are the same time (an empty window)");
  }
  out = q;
  return Status::ok();
}

}  // namespace ordo::notify
