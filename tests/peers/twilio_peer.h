// A local Twilio for the SMS tests: the Messages API as Twilio documents it on the wire
// (form-encoded POST /2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP basic auth with
// the account SID and auth token, 201 with the message resource, errors as {"code",
// "message", "more_info", "status"}), Twilio's magic test number that is not valid
// (+15005550001), and rate limits (429, code 20429, Retry-After) on request.
#pragma once

#include <httplib.h>

#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "peers/http_peer.h"

namespace ordo::testing {

class TwilioPeer {
 public:
  static constexpr const char* kSid = "AC0123456789abcdef0123456789abcdef";
  static constexpr const char* kToken = "twilio-auth-token-1";

  TwilioPeer() {
    peer_.server().Post(R"(/2010-04-01/Accounts/([^/]+)/Messages\.json)",
                        [this](const httplib::Request& req, httplib::Response& res) {
      peer_.record(req);
      using nlohmann::json;
      const auto fail = [&](int status, int code, const std::string& message) {
        res.status = status;
        res.set_content(json{{"code", code}, {"message", message},
                             {"more_info", "https://www.twilio.com/docs/errors/" + std::to_string(code)},
                             {"status", status}}.dump(),
                        "application/json");
      };
      std::lock_guard lock(mu_);
      if (limited_ > 0) {
        --limited_;
        res.set_header("Retry-After", "3");
        return fail(429, 20429, "Too Many Requests");
      }
      // Basic base64("AC...:token").
      if (req.matches[1] != kSid || req.get_header_value("Authorization") != expected_auth()) {
        return fail(401, 20003, "Authenticate");
      }
      const std::string to = req.get_param_value("To");
      if (to == "+15005550001") return fail(400, 21211, "The 'To' number " + to + " is not a valid phone number.");
      if (req.get_param_value("Body").empty()) return fail(400, 21602, "Message body is required.");
      res.status = 201;
      res.set_content(json{{"sid", "SM" + std::to_string(++next_)},
                           {"account_sid", kSid},
                           {"to", to},
                           {"from", req.get_param_value("From")},
                           {"body", req.get_param_value("Body")},
                           {"status", "queued"},
                           {"status_callback", req.get_param_value("StatusCallback")}}.dump(),
                      "application/json");
    });
  }
  std::string base_url() const { return peer_.url(""); }
  std::vector<HttpPeer::Seen> seen() { return peer_.seen(); }
  void rate_limit(int n) {
    std::lock_guard lock(mu_);
    limited_ = n;
  }

 private:
  static std::string expected_auth() {
    // base64 of "<sid>:<token>", written out so that the peer does not share the adapter's code.
    static const std::string table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const std::string in = std::string(kSid) + ":" + kToken;
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 3) {
      unsigned n = static_cast<unsigned char>(in[i]) << 16;
      if (i + 1 < in.size()) n |= static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8;
      if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
      out.push_back(table[(n >> 18) & 63]);
      out.push_back(table[(n >> 12) & 63]);
      out.push_back(i + 1 < in.size() ? table[(n >> 6) & 63] : '=');
      out.push_back(i + 2 < in.size() ? table[n & 63] : '=');
    }
    return "Basic " + out;
  }
  HttpPeer peer_;
  std::mutex mu_;
  int limited_ = 0;
  int next_ = 9000;
};

}  // namespace ordo::testing
