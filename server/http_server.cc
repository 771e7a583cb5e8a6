// Boost.Beast glue, in its own file: Asio's and Beast's headers are large and slow to compile.
//
// Why Beast: cpp-httplib (0.11) gives each connection a thread from the moment it is
// accepted, so clients that send a byte a second take every thread; its listen backlog is
// fixed at 5; and a long poll holds its thread. On Asio, reading a request holds no thread
// until it is complete, deadlines and caps are ours to set, and a parked answer is a callback.
#include "http_server.h"

#include <arpa/inet.h>
#include <sys/resource.h>

#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <array>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

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

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;


// "%2F" -> "/"; in a query also "+" -> " ". A malformed escape stays as it is.
std::string decoded(std::string_view in, bool query) {
  std::string out;
  out.reserve(in.size());
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
      i += 2;
    } else if (query && in[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace

void read_target(std::string_view target, Request& r) {
  const std::size_t q = target.find('?');
  r.path = decoded(target.substr(0, q), false);
  r.query.clear();
  if (q == std::string_view::npos) return;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (!pair.empty()) {
      const std::size_t eq = pair.find('=');
      r.query.emplace(decoded(pair.substr(0, eq), true),
                      eq == std::string_view::npos ? std::string()
                                                   : decoded(pair.substr(eq + 1), true));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
}

namespace {

// The API's view of a request's head: method, decoded path and query, headers in lower case.
Request head_of(const http::request<http::string_body>& req) {
  Request r;
  r.method = std::string(req.method_string());
  read_target(req.target(), r);
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace(std::move(name), std::string(field.value()));
  }
  return r;
}

class Session;

constexpr const char* kStopping = "the server is stopping; retry on another node or shortly";

class Server {
 public:
  Server(Api& api, const ListenOptions& options)
      : api_(api),
        options_(options),
        handlers_(static_cast<std::size_t>(std::max(1, options.max_in_flight)) * 2) {}

  Status listen(int& port);
  void run(const std::atomic<bool>& stop);

  Api& api() { return api_; }
  const ListenOptions& options() const { return options_; }
  asio::thread_pool& handlers() { return handlers_; }
  bool stopping() const { return stopping_.load(); }
  // A request was read (until its answer is written): the server stops once none is left.
  void busy() { ++busy_; }
  void done() {
    if (--busy_ == 0 && stopping_.load()) {
      std::lock_guard lock(mu_);
      idle_.notify_all();
    }
  }
  // A connection from `peer` closed.
  void left(const std::string& peer) {
    std::lock_guard lock(mu_);
    --open_;
    if (auto it = peers_.find(peer); it != peers_.end() && --it->second == 0) peers_.erase(it);
  }

 private:
  void accept();
  // Why a new connection from `peer` is refused (counted as open when not).
  std::string refusal(const std::string& peer);
  // Closes a connection refused with a 503, after reading what it still sends for a moment.
  void refuse_closing(tcp::socket socket);

  Api& api_;
  const ListenOptions& options_;
  int max_open_ = 0;
  // Declared before the I/O context: sessions it destroys still count themselves out.
  std::mutex mu_;
  std::condition_variable idle_;
  std::unordered_map<std::string, int> peers_;  // under mu_
  int open_ = 0;                                // under mu_
  std::atomic<int> busy_{0};
  std::atomic<int> lingering_{0};  // refused connections being closed
  int max_lingering_ = 256;         // within the file descriptors left beside max_open_
  std::atomic<bool> stopping_{false};
  asio::io_context io_;
  // The acceptor and its retry timer on a strand of their own: they are closed from another
  // thread when the server stops.
  tcp::acceptor acceptor_{asio::make_strand(io_)};
  asio::steady_timer retry_{acceptor_.get_executor()};  // accepting again after an error
  asio::thread_pool handlers_;
};

// One connection: reads requests one at a time (a head, then its body), each within its
// deadline, hands it to the Api and writes the answer.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server& server, tcp::socket socket, std::string peer)
      : server_(server), stream_(std::move(socket)), peer_(std::move(peer)) {}
  ~Session() { server_.left(peer_); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void read_head() {
    head_only_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(kMaxHeadBytes));
    parser_->body_limit(server_.options().max_body_bytes);
    stream_.expires_after(server_.options().header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_head(ec);
                            });
  }

 private:
  void on_head(beast::error_code ec) {
    // Too slow (a timed-out stream is closed already), or closed: nothing to answer. A
    // keep-alive connection that sent nothing more is idle, not slow.
    if (ec == beast::error::timeout) {
      if (answered_ == 0 || buffer_.size() > 0 || parser_->got_some()) {
        server_.api().count_refused("slow");
      }
      return;
    }
    if (ec == http::error::end_of_stream ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return;
    }
    if (ec == http::error::header_limit) {
      return refuse(431, "head-too-large", "the request's line and headers are larger than " +
                             std::to_string(kMaxHeadBytes / 1024) + " KB");
    }
    if (ec) return refuse(400, "malformed", "malformed HTTP request: " + ec.message());
    const auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    head_only_ = req.method() == http::verb::head;
    // Stopping: what was read before is answered, nothing new is started.
    if (server_.stopping()) {
      server_.busy();
      return refuse_stopping();
    }
    head_ = head_of(req);
    // Before any byte of the body is read: who may not send one is refused, so a client
    // without a token cannot make the server read megabytes.
    if (std::optional<Response> refused = server_.api().refuse_before_body(head_)) {
      if (!parser_->is_done()) keep_alive_ = false;  // its body is not read
      return write(std::move(*refused), false);
    }
    if (const auto length = parser_->content_length();
        length && *length > server_.options().max_body_bytes) {
      return refuse(413, "body-too-large", too_large());
    }
    if (parser_->is_done()) return on_body({});
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      // The client waits for this before it sends the body (curl does for large ones).
      auto go_on = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      stream_.expires_after(server_.options().write_timeout);
      http::async_write(stream_, *go_on,
                        [self = shared_from_this(), go_on](beast::error_code e, std::size_t) {
                          if (!e) self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    // The limit holds the bytes as they arrive, chunked or not.
    stream_.expires_after(server_.options().body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_body(ec);
                     });
  }

  void on_body(beast::error_code ec) {
    if (ec == beast::error::timeout) return server_.api().count_refused("slow");
    if (ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof || ec == http::error::end_of_stream ||
        ec == http::error::partial_message) {
      return;
    }
    if (ec == http::error::body_limit) return refuse(413, "body-too-large", too_large());
    if (ec) return refuse(400, "malformed", "malformed HTTP request body: " + ec.message());
    stream_.expires_never();
    head_.body = std::move(parser_->get().body());
    // Counted before the check: a stop that begins after it waits for this request.
    server_.busy();
    if (server_.stopping()) return refuse_stopping();
    // /health answers whatever the handler threads are doing (it reads nothing).
    if (head_.path == "/health") {
      server_.api().handle(head_, [this](Response out) { write(std::move(out), true); });
      return;
    }
    // The task owns the request: the connection may read its next one as soon as this one is
    // answered, while the handler thread returns.
    asio::post(server_.handlers(), [self = shared_from_this(), r = std::move(head_)] {
      auto answered = std::make_shared<std::atomic<bool>>(false);
      const auto answer = [self, answered](Response out) {
        if (answered->exchange(true)) return;
        // Answered on a handler thread, or later by the Api's poller: written on the I/O
        // thread of the connection.
        asio::post(self->stream_.get_executor(), [self, out = std::move(out)]() mutable {
          self->write(std::move(out), true);
        });
      };
      try {
        self->server_.api().handle(r, answer);
      } catch (const std::exception& e) {
        // A fault of Ordo's, not the client's: the request still gets an answer (and the
        // server still counts it done), the thread goes on.
        spdlog::error("{} {}: {}", r.method, r.path, e.what());
        answer(error_response(500, std::string("internal error: ") + e.what()));
      }
    });
  }

  std::string too_large() const {
    return "the body is larger than server.maxBodyBytes (" +
           std::to_string(server_.options().max_body_bytes) + " bytes)";
  }

  // A request that came once the server began to stop (counted busy, so the stop waits for
  // this answer): 503, and the connection closes.
  void refuse_stopping() {
    server_.api().count_refused("stopping");
    keep_alive_ = false;
    Response out = error_response(503, kStopping);
    out.retry_after_s = 1;
    write(std::move(out), true);
  }

  // An error the transport answers itself, in the API's shape; the connection then closes.
  void refuse(int status, std::string_view reason, const std::string& message) {
    server_.api().count_refused(reason);
    keep_alive_ = false;
    write(error_response(status, message), false);
  }

  void write(Response out, bool handled) {
    handled_ = handled;
    res_.emplace();
    res_->version(11);
    res_->result(static_cast<unsigned>(out.status));
    res_->set(http::field::content_type, out.content_type);
    if (out.retry_after_s > 0) res_->set(http::field::retry_after, std::to_string(out.retry_after_s));
    // Every answer is what its type says, and none is a page to run or frame: the API's
    // JSON and XML (which hold what clients sent) get a policy that allows nothing; the
    // console's files bring their own.
    res_->set("X-Content-Type-Options", "nosniff");
    bool own_policy = false;
    for (auto& [name, value] : out.headers) {
      own_policy = own_policy || beast::iequals(name, "content-security-policy");
      res_->set(name, value);
    }
    if (!own_policy) {
      res_->set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox");
    }
    res_->body() = std::move(out.body);
    res_->keep_alive(keep_alive_ && !server_.stopping());
    res_->prepare_payload();
    if (head_only_) {
      // The length a GET would have, without the body (RFC 9110 9.3.2).
      const std::size_t length = res_->body().size();
      res_->body().clear();
      res_->content_length(length);
    }
    stream_.expires_after(server_.options().write_timeout);
    http::async_write(stream_, *res_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->on_written(ec);
                      });
  }

  void on_written(beast::error_code ec) {
    const bool again = !ec && res_->keep_alive();
    ++answered_;
    res_.reset();
    if (handled_) server_.done();
    handled_ = false;
    if (again) return read_head();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    // A client still sending a body it was refused would get a reset for its next bytes, and
    // a reset can discard the answer before it reads it: what it sends is read and dropped
    // for a moment (a "lingering close"), then the connection closes.
    if (!ec && parser_ && !parser_->is_done()) {
      stream_.expires_after(std::chrono::seconds(2));
      linger();
    }
  }

  void linger() {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(16 * 1024),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (!ec) self->linger();
                            });
  }

  Server& server_;
  beast::tcp_stream stream_;
  std::string peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  Request head_;
  bool keep_alive_ = true;
  bool head_only_ = false;  // a HEAD request: its answer has no body
  bool handled_ = false;  // the answer is to a request counted busy
  int answered_ = 0;  // answers written on this connection
};

// A refused connection: closing it with the client's request unread would reset it, and a
// reset may discard the 503 before the client reads it. What it sends is read and dropped
// for a second, then it closes; beyond 256 such connections at once (fewer when the file
// limit leaves less room beside the connections served), they close at once.
struct Refused : std::enable_shared_from_this<Refused> {
  explicit Refused(tcp::socket s, std::atomic<int>& count)
      : socket(std::move(s)), timer(socket.get_executor()), lingering(count) {
    ++lingering;
  }
  ~Refused() { --lingering; }
  Refused(const Refused&) = delete;
  Refused& operator=(const Refused&) = delete;
  void drain() {
    socket.async_read_some(asio::buffer(bytes), [self = shared_from_this()](
                                                    beast::error_code ec, std::size_t) {
      if (!ec) return self->drain();
      self->timer.cancel();
    });
  }
  tcp::socket socket;
  asio::steady_timer timer;
  std::atomic<int>& lingering;
  std::array<char, 4096> bytes{};
};

void Server::refuse_closing(tcp::socket socket) {
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  if (lingering_.load() >= max_lingering_) {
    socket.close(ignored);
    return;
  }
  auto refused = std::make_shared<Refused>(std::move(socket), lingering_);
  refused->timer.expires_after(std::chrono::seconds(1));
  refused->timer.async_wait([refused](beast::error_code) {
    beast::error_code e;
    refused->socket.close(e);
  });
  refused->drain();
}

std::string Server::refusal(const std::string& peer) {
  std::lock_guard lock(mu_);
  if (open_ >= max_open_) {
    return "the server has " + std::to_string(open_) +
           " connections open (server.maxConnections); retry shortly";
  }
  int& from_peer = peers_[peer];
  if (from_peer >= options_.max_connections_per_peer) {
    return "this address has " + std::to_string(from_peer) +
           " connections open (server.maxConnectionsPerPeer); reuse them (keep-alive) or "
           "close some";
  }
  ++from_peer;
  ++open_;
  return {};
}

void Server::accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec,
                                                        tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of file descriptors (EMFILE) and the like: accepting again at once would fail the
      // same way in a busy loop; a moment later a connection may have closed.
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](beast::error_code e) {
        if (!e && acceptor_.is_open()) accept();
      });
      return;
    }
    {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      const tcp::endpoint remote = socket.remote_endpoint(ignored);
      std::string peer = remote.address().to_string();
      if (std::string why = refusal(peer); !why.empty()) {
        // Said in a few bytes to an empty send buffer (it cannot block), then closed.
        Response out = error_response(503, why);
        const std::string text = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: " +
                                 out.content_type + "\r\nRetry-After: 1\r\nContent-Length: " +
                                 std::to_string(out.body.size()) +
                                 "\r\nConnection: close\r\n\r\n" + out.body;
        socket.non_blocking(true, ignored);
        socket.write_some(asio::buffer(text), ignored);
        api_.count_refused("connections");
        refuse_closing(std::move(socket));
      } else {
        std::make_shared<Session>(*this, std::move(socket), std::move(peer))->read_head();
      }
    }
    accept();
  });
}

Status Server::listen(int& port) {
  // Kept below the process's file limit (the database and logs need some too).
  max_open_ = options_.max_connections;
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    const auto limit = static_cast<std::int64_t>(files.rlim_cur);
    max_open_ = static_cast<int>(std::min<std::int64_t>(max_open_, limit > 64 ? limit - 64 : 1));
    // What is left beside the connections and the 64 kept for the database and logs.
    max_lingering_ = static_cast<int>(
        std::clamp<std::int64_t>(limit - 64 - max_open_, 0, max_lingering_));
  }
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  const auto cannot = [&](const std::string& why) {
    return Status::io_error("cannot listen on " + where + " (" + why + ")");
  };
  beast::error_code ec;
  tcp::resolver resolver(io_);
  const auto found = resolver.resolve(options_.host, std::to_string(options_.port),
                                      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || found.empty()) return cannot("not an address of this machine");
  for (const auto& entry : found) {
    acceptor_.open(entry.endpoint().protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(entry.endpoint(), ec);
    // The kernel's most (net.core.somaxconn), not 5: bursts of connections wait, not fail.
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) break;
    beast::error_code ignored;
    acceptor_.close(ignored);
  }
  if (ec) return cannot(ec == asio::error::address_in_use ? "in use" : ec.message());
  port = acceptor_.local_endpoint().port();
  accept();
  return Status::ok();
}

void Server::run(const std::atomic<bool>& stop) {
  // Kept running until the end: once the acceptor is closed, answers still to be written
  // (parked long polls answered by the Api as it closes) may be all the work there is.
  auto work = asio::make_work_guard(io_);
  std::vector<std::thread> io_threads;
  for (int i = 0; i < 2; ++i) {
    io_threads.emplace_back([this] {
      while (true) {
        try {
          io_.run();
          return;
        } catch (const std::exception& e) {
          // A fault in one connection's handler: logged, and the thread serves on.
          spdlog::error("HTTP I/O thread: {}", e.what());
        }
      }
    });
  }
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Stop accepting; answer the requests read (parked long polls at once); then drop the
  // connections that wait for a next request.
  stopping_.store(true);
  api_.close();
  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
  });
  {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [&] { return busy_.load() == 0; });
  }
  work.reset();
  io_.stop();
  for (std::thread& t : io_threads) t.join();
  handlers_.join();
}

}  // namespace

Status serve(Api& api, const ListenOptions& options, const std::atomic<bool>& stop) {
  Server server(api, options);
  int port = 0;
  if (Status listening = server.listen(port); !listening) return listening;
  if (options.on_listening) options.on_listening(port);
  server.run(stop);
  return Status::ok();
}

}  // namespace ordo::server
