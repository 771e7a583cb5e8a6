// cpp-httplib glue, in its own file: the library's header is large and slow to compile.
#include "http_server.h"

#include <arpa/inet.h>
#include <httplib.h>

#include <cctype>
#include <optional>
#include <chrono>
#include <thread>

namespace ordo::server {

bool is_loopback(const std::string& host) {
  // Literal addresses only (a name could resolve anywhere), and "localhost".
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

bool host_header_is_loopback(const std::string& value) {
  // The whole name is compared: "127.evil.example" or "127.0.0.1.nip.io" are names a
  // rebound DNS record could point at this machine, not loopback literals.
  std::string host = value;
  if (!host.empty() && host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string::npos) return false;
    const std::string rest = host.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    host = host.substr(1, close - 1);
    if (host.find(':') == std::string::npos) return false;  // "[localhost]" is no address
  } else if (const std::size_t colon = host.find(':'); colon != std::string::npos) {
    if (host.find(':', colon + 1) != std::string::npos) return false;  // IPv6 without brackets
    host.resize(colon);
  }
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return is_loopback(host);
}

namespace {

// The API's view of a request; without its body before the body is read.
Request request_of(const httplib::Request& req, bool with_body) {
  Request r;
  r.method = req.method;
  r.path = req.path;
  for (const auto& [k, v] : req.params) r.query.emplace(k, v);
  for (const auto& [k, v] : req.headers) {
    std::string name = k;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace(std::move(name), v);
  }
  if (with_body) r.body = req.body;
  return r;
}

}  // namespace

Status serve(Api& api, const ListenOptions& options, const std::atomic<bool>& stop) {
  httplib::Server http;
  // maxInFlight requests are handled at once, one per thread; more wait their turn, and a
  // client that takes longer than the timeouts to send or read is cut off.
  // Twice as many threads: the Api answers 503 beyond maxInFlight, at once, so overload
  // shows as refusals (that clients retry) rather than as a queue that only grows.
  http.new_task_queue = [n = static_cast<std::size_t>(options.max_in_flight) * 2] {
    return new httplib::ThreadPool(n);
  };
  // Answers go out at once (headers and body are separate writes: with Nagle and delayed
  // ACKs each keep-alive request would wait 40 ms).
  http.set_tcp_nodelay(true);
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  http.set_payload_max_length(options.max_body_bytes);
  const auto answer = [](const Response& out, httplib::Response& res) {
    res.status = out.status;
    if (out.retry_after_s > 0) res.set_header("Retry-After", std::to_string(out.retry_after_s));
    res.set_content(out.body, out.content_type);
  };
  // Before any byte of the body is read: who may not send one is refused (so an
  // unauthenticated client cannot make the server read megabytes), and a chunked body, whose
  // size is not known beforehand, is refused: maxBodyBytes holds whatever a client sends.
  http.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
    std::string encoding = req.get_header_value("Transfer-Encoding");
    for (char& c : encoding) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (encoding.find("chunked") != std::string::npos) {
      answer(error_response(411, "send the body with a Content-Length (at most " +
                                     std::to_string(options.max_body_bytes) +
                                     " bytes, server.maxBodyBytes); chunked bodies are not "
                                     "accepted"),
             res);
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (std::optional<Response> refused = api.refuse_before_body(request_of(req, false))) {
      answer(*refused, res);
      // The body is not read: the connection cannot carry another request.
      if (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0") {
        res.set_header("Connection", "close");
      }
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  const auto handler = [&](const httplib::Request& req, httplib::Response& res) {
    answer(api.handle(request_of(req, true)), res);
  };
  const char* any = R"(/.*)";
  http.Get(any, handler);
  http.Post(any, handler);
  http.Put(any, handler);
  http.Delete(any, handler);
  http.Patch(any, handler);
  // Errors the HTTP library answers itself get the API's error shape too.
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string message =
        res.status == 413 ? "the body is larger than server.maxBodyBytes"
        : res.status == 400
            ? "malformed HTTP request (a POST needs a body or Content-Length: 0)"
            : "HTTP " + std::to_string(res.status) + " from the HTTP layer (see docs/http-api.md)";
    Response out = error_response(res.status, message);
    res.set_content(out.body, out.content_type);
  });
  int port = options.port;
  if (port == 0) {
    port = http.bind_to_any_port(options.host);
  } else if (!http.bind_to_port(options.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return Status::io_error("cannot listen on " + options.host + ":" +
                            std::to_string(options.port) +
                            " (in use, or not an address of this machine)");
  }
  std::atomic<bool> ended{false};
  std::thread watcher([&] {
    while (!stop.load() && !ended.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    api.close();  // long polls answer now
    // stop() does nothing until the server runs: a stop that comes while it is still
    // starting must be repeated until the listening ends.
    while (!ended.load()) {
      http.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  if (options.on_listening) options.on_listening(port);
  const bool listened = http.listen_after_bind();
  ended.store(true);
  watcher.join();
  if (!listened && !stop.load()) {
    return Status::io_error("the server stopped accepting connections on " + options.host + ":" +
                            std::to_string(port));
  }
  return Status::ok();
}

}  // namespace ordo::server
