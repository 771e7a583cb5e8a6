// A real PostgreSQL server for the tests. `make test` starts one for the whole run
// (scripts/pg-test-server) and hands its URL over in ORDO_TEST_PG_URL; a test program run
// on its own starts one of its own with the same script, stopped when the program ends.
// Either way a test that needs it fails, and says why, when there is none: never a skip.
#pragma once

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace ordo::testing {

class PgTestServer {
 public:
  // The server's URL; empty, with the reason in `why`, when it cannot be had.
  static const std::string& url(std::string& why) {
    static PgTestServer server;
    why = server.why_;
    return server.url_;
  }

 private:
  PgTestServer() {
    if (const char* given = std::getenv("ORDO_TEST_PG_URL"); given != nullptr && *given) {
      url_ = given;
      return;
    }
    char dir[] = "/tmp/ordo-pg-test-XXXXXX";
    if (::mkdtemp(dir) == nullptr) {
      why_ = "cannot make a directory for a PostgreSQL server";
      return;
    }
    dir_ = dir;
    const std::string command =
        ORDO_SOURCE_DIR "/scripts/pg-test-server start " + dir_ + " 2>&1";
    std::string out;
    if (FILE* p = ::popen(command.c_str(), "r")) {
      std::array<char, 512> buf{};
      while (std::fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) out += buf.data();
      const int status = ::pclose(p);
      while (!out.empty() && out.back() == '\n') out.pop_back();
      if (status == 0 && out.starts_with("postgresql://")) {
        url_ = out;
        return;
      }
    }
    why_ = "no PostgreSQL server for the tests (scripts/pg-test-server start said: " + out +
           "); run the tests with `make test`, or install PostgreSQL with "
           "scripts/install-deps --test";
  }
  ~PgTestServer() {
    if (dir_.empty()) return;
    const std::string command =
        ORDO_SOURCE_DIR "/scripts/pg-test-server stop " + dir_ + " >/dev/null 2>&1";
    (void)std::system(command.c_str());
  }
  PgTestServer(const PgTestServer&) = delete;
  PgTestServer& operator=(const PgTestServer&) = delete;

  std::string url_;
  std::string why_;
  std::string dir_;
};

}  // namespace ordo::testing
