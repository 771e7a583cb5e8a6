// A real PostgreSQL server for the tests (peers/script_server.h).
#pragma once

#include "peers/script_server.h"

#include <unistd.h>

#include <atomic>
#include <string>

namespace ordo::testing {

// The test server's URL naming a schema of its own for each call ("<prefix>_<pid>_<n>"):
// tests sharing the server do not see each other's tables. Empty, with `why`, when the
// server cannot start.
inline std::string pg_test_schema_url(const std::string& prefix, std::string& why) {
  const std::string& server = PgTestServer::url(why);
  if (server.empty()) return {};
  static std::atomic<int> schemas{0};
  return server + (server.find('?') == std::string::npos ? "?" : "&") + "schema=" + prefix + "_" +
         std::to_string(::getpid()) + "_" + std::to_string(++schemas);
}

}  // namespace ordo::testing
