// The transport of `ordo serve`: HTTP/1.1 on Boost.Beast (Asio), in front of an Api.
//
// Connections are read and written asynchronously by two I/O threads, so a client that sends
// slowly holds no thread, only its connection: each has deadlines (the request head, the
// body, the answer) and a cap (per peer address and in total), refused beyond it. Complete
// requests are handled on a pool of 2 x maxInFlight threads (the Api answers 503 beyond
// maxInFlight at once); /health is answered on the I/O thread, so it answers whatever the
// pool is doing; long polls of external workers are parked by the Api, off every thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "api.h"

namespace ordo::server {

struct ListenOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  std::size_t max_body_bytes = 1 << 20;
  int max_in_flight = 64;  // requests handled at once (2x threads: the Api refuses the rest)
  // Connections open at once, in total and from one peer address; beyond either, a new
  // connection gets 503 and is closed. The total is also kept below the process's file limit.
  int max_connections = 1024;
  int max_connections_per_peer = 128;
  // A request's head (line and headers) must arrive within header_timeout of the connection
  // opening or the previous answer (which makes it the keep-alive idle time too); its body
  // within body_timeout; an answer must be taken within write_timeout. Beyond: closed.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  // Called once listening, with the port (e.g. to print it).
  std::function<void(int port)> on_listening;
};

// Whether `host` is a loopback address: a literal 127.0.0.0/8 or ::1 address (with or without
// brackets), or "localhost" (the only places a server without tokens may listen).
bool is_loopback(const std::string& host);

// Whether a Host header's value names a loopback address: its host, without the port, is one
// is_loopback() accepts ("127.0.0.1:8080", "[::1]:8080", "localhost"). A server without
// tokens listens only on such an address, so it is the listening address too; any other
// name ("127.0.0.1.nip.io") may be a DNS record rebound to this machine by a web page.
bool host_header_is_loopback(const std::string& value);

// Request lines and headers beyond this get 431.
inline constexpr std::size_t kMaxHeadBytes = 16 * 1024;

// A request line's target ("/v1/x%20y?businessKey=A+1") into `r.path` and `r.query`,
// percent-decoded ("+" is a space in the query; a malformed escape stays as it is).
void read_target(std::string_view target, Request& r);

// Serves until `stop` becomes true (checked every 100 ms), then stops accepting and returns
// once the requests in flight (parked long polls too) are answered. Errors: the address
// cannot be bound.
Status serve(Api& api, const ListenOptions& options, const std::atomic<bool>& stop);

}  // namespace ordo::server
