// The transport of `ordo serve`: HTTP/1.1 on cpp-httplib, in front of an Api.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "api.h"

namespace ordo::server {

struct ListenOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  std::size_t max_body_bytes = 1 << 20;
  int max_in_flight = 64;  // requests handled at once (2x threads: the Api refuses the rest)
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

// Serves until `stop` becomes true (checked every 100 ms), then stops accepting and returns
// once the requests in flight are answered. Errors: the address cannot be bound.
Status serve(Api& api, const ListenOptions& options, const std::atomic<bool>& stop);

}  // namespace ordo::server
