// A local Google for the push tests: the OAuth 2.0 token endpoint of a service account
// (a JWT bearer assertion, RS256, checked with the account's public key and its claims) and
// Firebase Cloud Messaging's HTTP v1 send, with FCM's error bodies (UNREGISTERED,
// UNAUTHENTICATED, QUOTA_EXCEEDED with Retry-After) on request.
#pragma once

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "peers/http_peer.h"

namespace ordo::testing {

class FcmPeer {
 public:
  static constexpr const char* kAccount = "ordo-push@shop-project.iam.gserviceaccount.com";

  FcmPeer() : key_(EVP_RSA_gen(2048), EVP_PKEY_free) {
    auto& s = peer_.server();
    s.Post("/token", [this](const httplib::Request& req, httplib::Response& res) {
      peer_.record(req);
      using nlohmann::json;
      const auto refuse = [&](const std::string& why) {
        res.status = 400;
        res.set_content(json{{"error", "invalid_grant"}, {"error_description", why}}.dump(), "application/json");
      };
      if (req.get_param_value("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return refuse("Invalid grant_type");
      }
      const std::string jwt = req.get_param_value("assertion");
      const std::size_t a = jwt.find('.');
      const std::size_t b = jwt.find('.', a + 1);
      if (a == std::string::npos || b == std::string::npos) return refuse("Invalid JWT");
      if (!verify(jwt.substr(0, b), unbase64url(jwt.substr(b + 1)))) return refuse("Invalid JWT Signature.");
      const json claims = json::parse(unbase64url(jwt.substr(a + 1, b - a - 1)), nullptr, false);
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
      if (!claims.is_object() || claims.value("iss", "") != kAccount ||
          claims.value("aud", "") != url("/token") ||
          claims.value("scope", "") != "https://www.googleapis.com/auth/firebase.messaging" ||
          claims.value("exp", 0LL) - claims.value("iat", 0LL) > 3600 ||
          std::llabs(claims.value("iat", 0LL) - now) > 60) {
        return refuse("Invalid JWT: claims");
      }
      std::lock_guard lock(mu_);
      const std::string token = "ya29.test-" + std::to_string(++tokens_);
      valid_.insert(token);
      res.set_content(json{{"access_token", token}, {"expires_in", expires_in_}, {"token_type", "Bearer"}}.dump(),
                      "application/json");
    });
    s.Post(R"(/v1/projects/([^/]+)/messages:send)", [this](const httplib::Request& req, httplib::Response& res) {
      peer_.record(req);
      using nlohmann::json;
      const auto fail = [&](int code, const std::string& status, const std::string& fcm) {
        json e = {{"code", code}, {"message", "error " + status}, {"status", status}};
        if (!fcm.empty()) {
          e["details"] = json::array({{{"@type", "type.googleapis.com/google.firebase.fcm.v1.FcmError"},
                                       {"errorCode", fcm}}});
        }
        res.status = code;
        res.set_content(json{{"error", e}}.dump(), "application/json");
      };
      std::lock_guard lock(mu_);
      const std::string auth = req.get_header_value("Authorization");
      if (!auth.starts_with("Bearer ") || valid_.count(auth.substr(7)) == 0) {
        return fail(401, "UNAUTHENTICATED", "");
      }
      if (limited_ > 0) {
        --limited_;
        res.set_header("Retry-After", "4");
        return fail(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED");
      }
      const json body = json::parse(req.body, nullptr, false);
      const std::string device = body.is_object() ? body["message"].value("token", "") : "";
      if (device == "unregistered-device") return fail(404, "NOT_FOUND", "UNREGISTERED");
      if (device.empty()) return fail(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT");
      res.set_content(json{{"name", "projects/" + std::string(req.matches[1]) + "/messages/0:" +
                                        std::to_string(++sent_)}}.dump(),
                      "application/json");
    });
  }

  std::string url(const std::string& path) const { return peer_.url(path); }
  std::vector<HttpPeer::Seen> seen() { return peer_.seen(); }
  int tokens() {
    std::lock_guard lock(mu_);
    return tokens_;
  }
  // The next tokens live this long.
  void expires_in(int seconds) {
    std::lock_guard lock(mu_);
    expires_in_ = seconds;
  }
  // Every token handed out so far stops working (revoked).
  void revoke() {
    std::lock_guard lock(mu_);
    valid_.clear();
  }
  void rate_limit(int n) {
    std::lock_guard lock(mu_);
    limited_ = n;
  }
  // The service account's key file, as the Firebase console gives it.
  nlohmann::json key_file() const {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return {{"type", "service_account"},
            {"project_id", "shop-project"},
            {"private_key_id", "k1"},
            {"private_key", std::string(data, static_cast<std::size_t>(n))},
            {"client_email", kAccount},
            {"token_uri", url("/token")}};
  }

 private:
  static std::string unbase64url(std::string s) {
    for (char& c : s) {
      if (c == '-') c = '+';
      if (c == '_') c = '/';
    }
    while (s.size() % 4 != 0) s.push_back('=');
    std::string out(s.size(), '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
    if (n < 0) return {};
    std::size_t pad = 0;
    while (pad < s.size() && s[s.size() - 1 - pad] == '=') ++pad;
    out.resize(static_cast<std::size_t>(n) - pad);
    return out;
  }
  bool verify(const std::string& data, const std::string& signature) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    return EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  }

  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_;
  HttpPeer peer_;
  std::mutex mu_;
  std::set<std::string> valid_;
  int tokens_ = 0;
  int sent_ = 0;
  int limited_ = 0;
  int expires_in_ = 3599;
};

}  // namespace ordo::testing
