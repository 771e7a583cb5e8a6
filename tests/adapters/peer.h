// What the adapter tests share: a stub HTTP peer on loopback (cpp-httplib) and a job without
// an engine.
#pragma once

#include <httplib.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/task_handler.h"

namespace ordo::testing {

// A stub peer: routes set by each test, every request recorded.
class Peer {
 public:
  Peer() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Peer() {
    server_.stop();
    thread_.join();
  }
  httplib::Server& server() { return server_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  struct Seen {
    std::string method, path, body, idempotency_key, custom;
  };
  void record(const httplib::Request& r) {
    std::lock_guard lock(mu_);
    seen_.push_back({r.method, r.path, r.body, r.get_header_value("Idempotency-Key"),
                     r.get_header_value("X-Shop")});
  }
  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Seen> seen_;
};

// What a handler sees of a job, without an engine.
class FakeJob final : public Job {
 public:
  explicit FakeJob(nlohmann::json vars, std::string idempotency_key = "order:3:2")
      : vars_(std::move(vars)), idempotency_key_(std::move(idempotency_key)) {}
  JobKey key() const noexcept override { return 7; }
  InstanceId instance() const noexcept override { return 3; }
  std::string_view type() const noexcept override { return "erp.check"; }
  std::string_view process_id() const noexcept override { return "order"; }
  std::string_view element_id() const noexcept override { return "check"; }
  std::string_view business_key() const noexcept override { return "A-1"; }
  std::string_view idempotency_key() const noexcept override { return idempotency_key_; }
  int attempt() const noexcept override { return 1; }
  int retries_left() const noexcept override { return 3; }
  std::span<const TaskHeader> headers() const noexcept override { return {}; }
  const nlohmann::json* variable(std::string_view name) const override {
    auto it = vars_.find(name);
    return it == vars_.end() ? nullptr : &*it;
  }
  nlohmann::json variables() const override { return vars_; }

 private:
  nlohmann::json vars_;
  std::string idempotency_key_;
};

}  // namespace ordo::testing
