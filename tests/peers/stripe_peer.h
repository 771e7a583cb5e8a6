// A local Stripe for the adapter tests: PaymentIntents and Refunds as Stripe's API documents
// them on the wire (form-encoded requests, Bearer secret key, Idempotency-Key replays,
// amounts in minor units, errors as {"error": {type, code, decline_code, message,
// payment_intent}}), with Stripe's test PaymentMethods, and misbehaving as Stripe does on
// request: rate limits (429 with Retry-After). It signs webhooks as Stripe does
// (Stripe-Signature: t=...,v1=...).
#pragma once

#include <httplib.h>

#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "ordo/adapters/adapters.h"
#include "peers/http_peer.h"

namespace ordo::testing {

class StripePeer {
 public:
  static constexpr const char* kKey = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";

  StripePeer() {
    using nlohmann::json;
    auto& s = peer_.server();
    s.Post("/v1/payment_intents", [this](const httplib::Request& req, httplib::Response& res) {
      if (!admit(req, res)) return;
      const std::string amount = req.get_param_value("amount");
      const std::string method = req.get_param_value("payment_method");
      if (amount.empty() || amount.find_first_not_of("0123456789") != std::string::npos) {
        return error(res, 400, {{"type", "invalid_request_error"}, {"code", "parameter_invalid_integer"},
                                {"param", "amount"}, {"message", "Invalid integer: " + amount}});
      }
      std::lock_guard lock(mu_);
      json pi = {{"id", "pi_" + std::to_string(++next_)},
                 {"object", "payment_intent"},
                 {"amount", std::stoll(amount)},
                 {"currency", req.get_param_value("currency")},
                 {"capture_method", req.get_param_value("capture_method")},
                 {"payment_method", method},
                 {"metadata", {{"orderId", req.get_param_value("metadata[orderId]")}}}};
      if (method == "pm_card_chargeDeclined" || method == "pm_card_chargeDeclinedInsufficientFunds") {
        pi["status"] = "requires_payment_method";
        intents_[pi["id"]] = pi;
        return error(res, 402, {{"type", "card_error"},
                                {"code", "card_declined"},
                                {"decline_code", method == "pm_card_chargeDeclined" ? "generic_decline"
                                                                                    : "insufficient_funds"},
                                {"message", "Your card was declined."},
                                {"payment_intent", pi}},
                     req);
      }
      if (method == "pm_card_authenticationRequired") {
        pi["status"] = "requires_action";
      } else {
        pi["status"] = req.get_param_value("capture_method") == "manual" ? "requires_capture" : "succeeded";
      }
      intents_[pi["id"]] = pi;
      reply(res, 200, pi, req);
    });
    s.Post(R"(/v1/payment_intents/([^/]+)/(capture|cancel))",
           [this](const httplib::Request& req, httplib::Response& res) {
             if (!admit(req, res)) return;
             std::lock_guard lock(mu_);
             auto it = intents_.find(req.matches[1]);
             if (it == intents_.end()) {
               return error(res, 404, {{"type", "invalid_request_error"}, {"code", "resource_missing"},
                                       {"message", "No such payment_intent: '" + std::string(req.matches[1]) + "'"}});
             }
             json& pi = it->second;
             const bool capture = req.matches[2] == "capture";
             const std::string want = capture ? "requires_capture" : "";
             const std::string status = pi["status"];
             const bool can = capture ? status == "requires_capture"
                                      : (status != "succeeded" && status != "canceled");
             if (!can) {
               return error(res, 400, {{"type", "invalid_request_error"},
                                       {"code", "payment_intent_unexpected_state"},
                                       {"message", "This PaymentIntent's status is " + status + "."},
                                       {"payment_intent", pi}},
                            req);
             }
             pi["status"] = capture ? "succeeded" : "canceled";
             reply(res, 200, pi, req);
           });
    s.Post("/v1/refunds", [this](const httplib::Request& req, httplib::Response& res) {
      if (!admit(req, res)) return;
      std::lock_guard lock(mu_);
      auto it = intents_.find(req.get_param_value("payment_intent"));
      if (it == intents_.end() || it->second["status"] != "succeeded") {
        return error(res, 400, {{"type", "invalid_request_error"}, {"code", "charge_not_refundable"},
                                {"message", "This PaymentIntent has no successful charge to refund."}});
      }
      if (refunded_.count(it->first) != 0) {
        return error(res, 400, {{"type", "invalid_request_error"}, {"code", "charge_already_refunded"},
                                {"message", "Charge has already been refunded."}});
      }
      refunded_.insert({it->first, true});
      reply(res, 200,
            {{"id", "re_" + std::to_string(++next_)},
             {"object", "refund"},
             {"payment_intent", it->first},
             {"amount", req.has_param("amount") ? std::stoll(req.get_param_value("amount"))
                                                : it->second["amount"].get<long long>()},
             {"status", "succeeded"}},
            req);
    });
  }

  std::string base_url() const { return peer_.url(""); }
  std::vector<HttpPeer::Seen> seen() { return peer_.seen(); }
  // The next `n` requests get 429 with Retry-After: `seconds`, as a rate limit does.
  void rate_limit(int n, int seconds) {
    std::lock_guard lock(mu_);
    limited_ = n;
    retry_after_ = seconds;
  }
  nlohmann::json intent(const std::string& id) {
    std::lock_guard lock(mu_);
    return intents_.count(id) ? intents_[id] : nlohmann::json();
  }
  std::size_t intents() {
    std::lock_guard lock(mu_);
    return intents_.size();
  }
  // A webhook event as Stripe sends it, about PaymentIntent `pi`.
  static nlohmann::json event(const std::string& id, const std::string& type, const nlohmann::json& pi) {
    return {{"id", id}, {"object", "event"}, {"api_version", "2024-06-20"}, {"created", 1765100000},
            {"type", type}, {"livemode", false}, {"data", {{"object", pi}}}};
  }

 private:
  // The key, the content type and Idempotency-Key replays, as Stripe checks them.
  bool admit(const httplib::Request& req, httplib::Response& res) {
    peer_.record(req);
    {
      std::lock_guard lock(mu_);
      if (limited_ > 0) {
        --limited_;
        res.set_header("Retry-After", std::to_string(retry_after_));
        error(res, 429, {{"type", "invalid_request_error"}, {"code", "rate_limit"},
                         {"message", "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."}});
        return false;
      }
    }
    if (req.get_header_value("Authorization") != std::string("Bearer ") + kKey) {
      error(res, 401, {{"type", "invalid_request_error"},
                       {"message", "Invalid API Key provided: " +
                                       req.get_header_value("Authorization").substr(0, 14) + "***"}});
      return false;
    }
    if (req.get_header_value("Content-Type") != "application/x-www-form-urlencoded") {
      error(res, 400, {{"type", "invalid_request_error"}, {"message", "Invalid request: the body must be form-encoded"}});
      return false;
    }
    const std::string key = req.get_header_value("Idempotency-Key");
    if (!key.empty()) {
      std::lock_guard lock(mu_);
      auto it = replays_.find(key);
      if (it != replays_.end()) {
        if (it->second.request != req.path + "?" + req.body) {
          error(res, 400, {{"type", "idempotency_error"},
                           {"message", "Keys for idempotent requests can only be used with the same "
                                       "parameters they were first used with."}});
          return false;
        }
        res.status = it->second.status;
        res.set_header("Idempotent-Replayed", "true");
        res.set_content(it->second.body, "application/json");
        return false;
      }
    }
    return true;
  }
  void reply(httplib::Response& res, int status, const nlohmann::json& body,
             const httplib::Request& req) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
    if (const std::string key = req.get_header_value("Idempotency-Key"); !key.empty()) {
      replays_[key] = {req.path + "?" + req.body, status, body.dump()};
    }
  }
  void error(httplib::Response& res, int status, const nlohmann::json& error,
             const httplib::Request& req) {
    reply(res, status, {{"error", error}}, req);
  }
  static void error(httplib::Response& res, int status, const nlohmann::json& error) {
    res.status = status;
    res.set_content(nlohmann::json{{"error", error}}.dump(), "application/json");
  }

  struct Replay {
    std::string request;
    int status = 0;
    std::string body;
  };
  HttpPeer peer_;
  std::mutex mu_;
  std::map<std::string, nlohmann::json> intents_;
  std::map<std::string, bool> refunded_;
  std::map<std::string, Replay> replays_;
  int next_ = 1000;
  int limited_ = 0;
  int retry_after_ = 1;
};

}  // namespace ordo::testing
