// A stub HTTP peer on loopback (cpp-httplib): routes set by each test, every request
// recorded. The adapter tests' ERP, payment provider, SMS gateway, push service and CRM.
#pragma once

#include <httplib.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ordo::testing {

class HttpPeer {
 public:
  HttpPeer() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~HttpPeer() {
    server_.stop();
    thread_.join();
  }
  HttpPeer(const HttpPeer&) = delete;
  HttpPeer& operator=(const HttpPeer&) = delete;

  httplib::Server& server() { return server_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  struct Seen {
    std::string method, path, body, idempotency_key, custom;
  };
  // Records a request; `custom` keeps the value of the X-Shop header (a configured header).
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

}  // namespace ordo::testing
