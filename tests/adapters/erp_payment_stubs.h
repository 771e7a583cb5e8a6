// Stub ERP and payment provider on loopback that speak the shapes of docs/adapters.md (ERP,
// Payment) and misbehave on request: the next answers for a path can be scripted (any
// status and body, optionally late), and the payment stub can answer a charge after the
// client gave up (it still made the charge).
#pragma once

#include <httplib.h>

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "adapters/fake_job.h"
#include "peers/http_peer.h"

namespace ordo::testing {

using Peer = HttpPeer;

class Stub {
 public:
  // Everything lives under /v1, so the tests also check that paths are appended.
  std::string base_url() const { return peer_.url("/v1"); }
  // The next request to `path` (e.g. "/v1/reservations") gets this answer instead of the
  // normal one, `delay_ms` late.
  void script(const std::string& path, int status, std::string body, int delay_ms = 0) {
    std::lock_guard lock(mu_);
    scripts_[path].push_back({status, std::move(body), delay_ms});
  }
  std::vector<Peer::Seen> seen() { return peer_.seen(); }
  // The paths requested, in order.
  std::vector<std::string> paths() {
    std::vector<std::string> out;
    for (const Peer::Seen& s : peer_.seen()) out.push_back(s.path);
    return out;
  }

 protected:
  // Serves POST `pattern` with `serve`, unless a scripted answer is queued for the path.
  void on_post(const std::string& pattern,
               std::function<void(const httplib::Request&, httplib::Response&)> serve) {
    peer_.server().Post(pattern, [this, serve = std::move(serve)](const httplib::Request& req,
                                                                  httplib::Response& res) {
      if (!scripted(req, res)) serve(req, res);
    });
  }
  // Records the request, and answers it with a scripted answer when one is queued: true.
  bool scripted(const httplib::Request& req, httplib::Response& res) {
    peer_.record(req);
    Scripted next;
    {
      std::lock_guard lock(mu_);
      auto it = scripts_.find(req.path);
      if (it == scripts_.end() || it->second.empty()) return false;
      next = std::move(it->second.front());
      it->second.pop_front();
    }
    if (next.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(next.delay_ms));
    res.status = next.status;
    res.set_content(next.body, "application/json");
    return true;
  }
  static void answer(httplib::Response& res, int status, const nlohmann::json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
  }

  Peer peer_;
  std::mutex mu_;

 private:
  struct Scripted {
    int status = 200;
    std::string body;
    int delay_ms = 0;
  };
  std::map<std::string, std::deque<Scripted>> scripts_;
};

// Stock per SKU (10 unless set); reservations take stock and give it back when released.
class ErpStub : public Stub {
 public:
  ErpStub() {
    using nlohmann::json;
    on_post("/v1/availability", [this](const httplib::Request& req, httplib::Response& res) {
      const json in = json::parse(req.body);
      json items = json::array();
      std::lock_guard lock(mu_);
      for (const json& i : in["items"]) {
        items.push_back({{"sku", i["sku"]},
                         {"requested", i["quantity"]},
                         {"available", stock(i["sku"].get<std::string>())}});
      }
      answer(res, 200, {{"items", items}});
    });
    on_post("/v1/reservations", [this](const httplib::Request& req, httplib::Response& res) {
      const json in = json::parse(req.body);
      std::lock_guard lock(mu_);
      for (const json& i : in["items"]) {
        if (stock(i["sku"].get<std::string>()) < i["quantity"].get<int>()) {
          return answer(res, 409, {{"error", "out of stock"}, {"sku", i["sku"]}});
        }
      }
      const std::string id = "R-" + in["orderId"].get<std::string>();
      for (const json& i : in["items"]) {
        stock(i["sku"].get<std::string>()) -= i["quantity"].get<int>();
        reserved_[id].emplace_back(i["sku"].get<std::string>(), i["quantity"].get<int>());
      }
      answer(res, 201, {{"reservationId", id}, {"expiresAt", "2026-12-01T11:00:00Z"}});
    });
    on_post(R"(/v1/reservations/([^/]+)/release)",
            [this](const httplib::Request& req, httplib::Response& res) {
              std::lock_guard lock(mu_);
              auto it = reserved_.find(req.matches[1]);
              if (it == reserved_.end()) {
                return answer(res, 404, {{"error", "no such reservation"}});
              }
              for (const auto& [sku, quantity] : it->second) stock(sku) += quantity;
              reserved_.erase(it);
              answer(res, 200, {{"released", true}});
            });
    on_post("/v1/warehouse-orders", [this](const httplib::Request& req, httplib::Response& res) {
      answer(res, 201,
             {{"warehouseOrderId", "W-" + json::parse(req.body)["orderId"].get<std::string>()}});
    });
    on_post("/v1/shipments", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string id = json::parse(req.body)["orderId"].get<std::string>();
      answer(res, 201, {{"trackingNumber", "TRK-" + id}, {"carrier", "DHL"}});
    });
  }
  void set_stock(const std::string& sku, int n) {
    std::lock_guard lock(mu_);
    stock_[sku] = n;
  }
  int stock_of(const std::string& sku) {
    std::lock_guard lock(mu_);
    return stock(sku);
  }
  std::set<std::string> reservations() {
    std::lock_guard lock(mu_);
    std::set<std::string> out;
    for (const auto& [id, items] : reserved_) out.insert(id);
    return out;
  }

 private:
  int& stock(const std::string& sku) { return stock_.try_emplace(sku, 10).first->second; }
  std::map<std::string, int> stock_;
  std::map<std::string, std::vector<std::pair<std::string, int>>> reserved_;
};

// Charges are "pending" (or "approved" at once, or "declined"); repeated requests with an
// Idempotency-Key seen before get the first answer again and charge nothing.
class PaymentStub : public Stub {
 public:
  PaymentStub() {
    using nlohmann::json;
    on_post("/v1/charges", [this](const httplib::Request& req, httplib::Response& res) {
      json out;
      int delay = 0;
      {
        std::lock_guard lock(mu_);
        const std::string key = req.get_header_value("Idempotency-Key");
        if (auto it = answered_.find(key); it != answered_.end()) {
          out = it->second;
        } else {
          const std::string id = "PAY-" + std::to_string(charges_.size() + 1);
          const json in = json::parse(req.body);
          if (!decline_reason_.empty()) {
            out = {{"paymentId", id}, {"status", "declined"}, {"declineReason", decline_reason_}};
          } else {
            out = {{"paymentId", id}, {"status", approve_ ? "approved" : "pending"}};
          }
          charges_[id] = out["status"].get<std::string>();
          if (!key.empty()) answered_[key] = out;
        }
        delay = std::exchange(delay_next_ms_, 0);
      }
      if (delay > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
      answer(res, 201, out);
    });
    on_post(R"(/v1/charges/([^/]+)/cancel)",
            [this](const httplib::Request& req, httplib::Response& res) {
              std::lock_guard lock(mu_);
              auto it = charges_.find(req.matches[1]);
              if (it == charges_.end()) return answer(res, 404, {{"error", "no such charge"}});
              const std::string was = it->second;
              if (was != "pending" && was != "approved") {
                return answer(res, 409, {{"error", "nothing to cancel: " + was}});
              }
              it->second = was == "pending" ? "voided" : "refunded";
              answer(res, 200, {{"paymentId", it->first}, {"status", it->second}});
            });
  }
  void decline_with(std::string reason) {
    std::lock_guard lock(mu_);
    decline_reason_ = std::move(reason);
  }
  void approve_at_once() {
    std::lock_guard lock(mu_);
    approve_ = true;
  }
  // The next charge is made, but answered `ms` late (after a client with a shorter timeout
  // gave up).
  void answer_next_charge_late(int ms) {
    std::lock_guard lock(mu_);
    delay_next_ms_ = ms;
  }
  // The state of each charge: pending, approved, declined, voided, refunded.
  std::map<std::string, std::string> charges() {
    std::lock_guard lock(mu_);
    return charges_;
  }

 private:
  std::map<std::string, std::string> charges_;
  std::map<std::string, nlohmann::json> answered_;  // by Idempotency-Key
  std::string decline_reason_;
  bool approve_ = false;
  int delay_next_ms_ = 0;
};

}  // namespace ordo::testing
