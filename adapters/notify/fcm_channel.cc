// Push through Firebase Cloud Messaging's HTTP v1 API (docs/notifications.md#push-through-fcm):
// POST /v1/projects/{project}/messages:send with an OAuth 2.0 access token that a Google
// service account's key file gets (a JWT signed RS256, exchanged at its token_uri), kept and
// refreshed before it expires.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>

#include "channels.h"
#include "http/http_call.h"

namespace ordo::notify {
namespace {

using nlohmann::json;

constexpr std::int64_t kRefreshBeforeS = 300;  // a token is renewed this long before it expires

// A string field of `object`, or "" (whatever else the provider or a proxy sent).
std::string text_at(const json& object, const char* name) {
  if (!object.is_object()) return {};
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Never asks for a passphrase (OpenSSL would prompt on the terminal for an encrypted key).
int no_passphrase(char*, int, int, void*) { return 0; }

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// RS256 of `data` with a PEM private key; empty when the key cannot sign.
std::string rs256(const std::string& pem, std::string_view data) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return {};
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr), EVP_PKEY_free);
  if (!key) return {};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return {};
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return {};
  }
  signature.resize(length);
  return signature;
}

class FcmChannel final : public Channel {
 public:
  std::string base_url = "https://fcm.googleapis.com";
  std::string project;
  std::string client_email, private_key, private_key_id, token_uri;
  std::int64_t connect_timeout_ms = 2000, timeout_ms = 10000;

  std::string_view name() const noexcept override { return "push"; }
  Result<Recipient> recipient(const json& customer) const override {
    return push_recipient(customer);
  }

  SendResult send(const Outgoing& out) override {
    SendResult result;
    Result<std::string> token = access_token();
    if (!token) {
      result.kind = SendResult::Kind::kRetry;
      result.error = token.status().message();
      return result;
    }
    const json message = {
        {"message",
         {{"token", out.to.address},
          {"notification", {{"title", out.message->subject}, {"body", out.message->text}}},
          {"data", {{"orderId", out.order_id}, {"message", out.template_id}, {"reference", out.reference}}}}}};
    adapters::HttpRequest req;
    req.method = "POST";
    req.url = base_url + "/v1/projects/" + adapters::path_segment(project) + "/messages:send";
    req.headers = {{"Content-Type", "application/json"},
                   {"Accept", "application/json"},
                   {"Authorization", "Bearer " + *token}};
    req.body = message.dump(-1, ' ', false, json::error_handler_t::replace);
    req.connect_timeout_ms = connect_timeout_ms;
    req.timeout_ms = timeout_ms;
    adapters::HttpAnswer answer;
    if (auto failed = exchange(req, answer)) return *failed;
    const json doc = json::parse(answer.body, nullptr, false);
    if (answer.status >= 200 && answer.status < 300) {
      if (doc.is_object() && doc.contains("name") && doc["name"].is_string()) {
        result.provider_id = doc["name"].get<std::string>();
        return result;
      }
      // Taken: sending again would push twice (FCM has no idempotency key).
      result.error = "FCM answered " + std::to_string(answer.status) + " without a message name";
      return result;
    }
    // {"error": {"code", "message", "status", "details": [{"errorCode": "UNREGISTERED"}]}}
    std::string code;
    std::string said = "FCM answered " + std::to_string(answer.status);
    std::string status_name;
    if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
      const json& e = doc["error"];
      code = text_at(e, "status");
      status_name = code;
      if (e.contains("details") && e["details"].is_array()) {
        for (const json& d : e["details"]) {
          if (d.is_object() && d.contains("errorCode") && d["errorCode"].is_string()) {
            code = d["errorCode"].get<std::string>();
          }
        }
      }
      said += " " + code + ": " + text_at(e, "message");
    }
    result.error = said;
    // The OAuth token refused (revoked or expired early): a new one next time. Not for
    // THIRD_PARTY_AUTH_ERROR, which is about the APNs or web push credentials.
    if (answer.status == 401 && code != "THIRD_PARTY_AUTH_ERROR") forget_token();
    // The device is gone or the message is wrong for good; the rest may pass.
    const bool refused = code == "UNREGISTERED" || code == "INVALID_ARGUMENT" ||
                         code == "SENDER_ID_MISMATCH" || answer.status == 404;
    result.kind = refused ? SendResult::Kind::kRejected : SendResult::Kind::kRetry;
    result.backoff_ms = adapters::retry_after_ms(answer);
    return result;
  }

 private:
  // The kept token, or a new one when it expires within kRefreshBeforeS.
  Result<std::string> access_token() {
    std::lock_guard lock(mu_);
    const std::int64_t now = now_s();
    if (!token_.empty() && now < renew_at_) return token_;
    const json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", private_key_id}};
    const json claims = {{"iss", client_email},
                         {"scope", "https://www.googleapis.com/auth/firebase.messaging"},
                         {"aud", token_uri},
                         {"iat", now},
                         {"exp", now + 3600}};
    const std::string unsigned_jwt = base64url(header.dump()) + "." + base64url(claims.dump());
    const std::string signature = rs256(private_key, unsigned_jwt);
    if (signature.empty()) {
      return Status::invalid_argument("the service account's private_key cannot sign (is it the "
                                      "PEM key of the key file?)");
    }
    adapters::HttpRequest req;
    req.method = "POST";
    req.url = token_uri;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    req.body = adapters::form_encode({{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                                      {"assertion", unsigned_jwt + "." + base64url(signature)}});
    req.connect_timeout_ms = connect_timeout_ms;
    req.timeout_ms = timeout_ms;
    Result<adapters::HttpAnswer> answer = adapters::http_exchange(req);
    if (!answer) return Status(StatusCode::kAdapterError, "FCM token: " + answer.status().message());
    const json doc = json::parse(answer->body, nullptr, false);
    if (answer->status != 200 || !doc.is_object() || !doc.contains("access_token") ||
        !doc["access_token"].is_string()) {
      std::string why = answer->body.substr(0, 200);
      if (doc.is_object()) why = text_at(doc, "error") + ": " + text_at(doc, "error_description");
      return Status(StatusCode::kAdapterError, "FCM token: " + adapters::redact_url(token_uri) +
                                                   " answered " + std::to_string(answer->status) +
                                                   " (" + why + ")");
    }
    token_ = doc["access_token"].get<std::string>();
    const std::int64_t lifetime = doc.contains("expires_in") && doc["expires_in"].is_number_integer()
                                      ? std::max<std::int64_t>(doc["expires_in"].get<std::int64_t>(), 0)
                                      : 3600;
    // Renewed kRefreshBeforeS before it expires; a short-lived token at half its life.
    renew_at_ = now + std::max(lifetime - kRefreshBeforeS, lifetime / 2);
    return token_;
  }
  void forget_token() {
    std::lock_guard lock(mu_);
    token_.clear();
  }

  std::mutex mu_;
  std::string token_;
  std::int64_t renew_at_ = 0;
};

}  // namespace

Result<std::unique_ptr<Channel>> make_fcm_channel(const json& settings, const std::string& where,
                                                  const std::string& base_dir, bool rehearsal) {
  if (Status s = only_known(settings, where,
                            "provider, serviceAccountFile, projectId, baseUrl, connectTimeoutMs, "
                            "timeoutMs, retryBackoffMs, quietHours");
      !s) {
    return s;
  }
  auto ch = std::make_unique<FcmChannel>();
  std::string file;
  if (Status s = read_text(settings, where, "serviceAccountFile", file, true); !s) return s;
  if (rehearsal) {
    // Whom it reaches and when it is quiet is all a rehearsal asks of it.
    if (Status s = read_quiet_hours(settings, where, ch->quiet_hours); !s) return s;
    return std::unique_ptr<Channel>(std::move(ch));
  }
  if (!file.empty() && file[0] != '/' && !base_dir.empty()) file = base_dir + "/" + file;
  std::ifstream in(file);
  if (!in) {
    return Status::invalid_argument(where + ".serviceAccountFile: cannot read " + file +
                                    " (the service account's JSON key file from the Firebase console)");
  }
  std::stringstream text;
  text << in.rdbuf();
  const json key = json::parse(text.str(), nullptr, false);
  const auto field = [&](const char* name) -> std::string {
    return key.is_object() && key.contains(name) && key[name].is_string() ? key[name].get<std::string>()
                                                                          : std::string();
  };
  if (field("type") != "service_account" || field("private_key").empty() || field("client_email").empty()) {
    return Status::invalid_argument(where + ".serviceAccountFile: " + file +
                                    " is not a service account key file (type service_account, "
                                    "private_key, client_email)");
  }
  ch->private_key = field("private_key");
  if (rs256(ch->private_key, "probe").empty()) {
    return Status::invalid_argument(where + ".serviceAccountFile: the private_key of " + file +
                                    " cannot sign (not an unencrypted PEM private key)");
  }
  ch->private_key_id = field("private_key_id");
  ch->client_email = field("client_email");
  ch->token_uri = field("token_uri").empty() ? "https://oauth2.googleapis.com/token" : field("token_uri");
  ch->project = field("project_id");
  if (Status s = read_text(settings, where, "projectId", ch->project, false); !s) return s;
  if (ch->project.empty()) {
    return Status::invalid_argument(where + ".projectId: is missing, and the key file names no project_id");
  }
  if (Status s = read_text(settings, where, "baseUrl", ch->base_url, false); !s) return s;
  while (ch->base_url.size() > 8 && ch->base_url.back() == '/') ch->base_url.pop_back();
  if (Status s = read_ms(settings, where, "connectTimeoutMs", ch->connect_timeout_ms); !s) return s;
  if (Status s = read_ms(settings, where, "timeoutMs", ch->timeout_ms); !s) return s;
  if (Status s = read_ms(settings, where, "retryBackoffMs", ch->retry_backoff_ms); !s) return s;
  if (Status s = read_quiet_hours(settings, where, ch->quiet_hours); !s) return s;
  return std::unique_ptr<Channel>(std::move(ch));
}

}  // namespace ordo::notify
