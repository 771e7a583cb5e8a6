// cpp-httplib glue, in its own file: the library's header is large and slow to compile.
#include "http_server.h"

#include <httplib.h>

#include <chrono>
#include <thread>

namespace ordo::server {

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

Status serve(Api& api, const ListenOptions& options, const std::atomic<bool>& stop) {
  httplib::Server http;
  std::atomic<int> in_flight{0};
  http.new_task_queue = [n = static_cast<std::size_t>(options.threads)] {
    return new httplib::ThreadPool(n);
  };
  http.set_payload_max_length(options.max_body_bytes);
  const auto handler = [&](const httplib::Request& req, httplib::Response& res) {
    struct Count {
      std::atomic<int>& n;
      ~Count() { --n; }
    } count{in_flight};
    if (++in_flight > options.max_in_flight) {
      Response busy = error_response(503, "too many requests in flight; try again shortly");
      res.status = busy.status;
      res.set_header("Retry-After", "1");
      res.set_content(busy.body, busy.content_type);
      return;
    }
    Request r;
    r.method = req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.params) r.query.emplace(k, v);
    for (const auto& [k, v] : req.headers) {
      std::string name = k;
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers.emplace(std::move(name), v);
    }
    r.body = req.body;
    Response out = api.handle(r);
    res.status = out.status;
    res.set_content(out.body, out.content_type);
  };
  const char* any = R"(/.*)";
  http.Get(any, handler);
  http.Post(any, handler);
  http.Put(any, handler);
  http.Delete(any, handler);
  http.Patch(any, handler);
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.status == 413) {
      Response too_big = error_response(413, "the body is larger than server.maxBodyBytes");
      res.set_content(too_big.body, too_big.content_type);
    }
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
  std::thread watcher([&] {
    while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    http.stop();
  });
  if (options.on_listening) options.on_listening(port);
  http.listen_after_bind();
  watcher.join();
  return Status::ok();
}

}  // namespace ordo::server
