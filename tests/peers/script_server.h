// A real server for the tests, started by one of the project's scripts (scripts/pg-test-server,
// scripts/rabbitmq-test-server). `make test` starts one of each for the whole run and hands
// its URL over in an environment variable; a test program run on its own starts one of its
// own with the same script, stopped when the program ends. Either way a test that needs it
// fails, and says why, when there is none: never a skip.
#pragma once

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace ordo::testing {

struct ServerKind {
  const char* env;      // where `make test` hands the URL over
  const char* script;   // under scripts/
  const char* scheme;   // what the URL starts with
  const char* what;     // for messages: "a PostgreSQL server"
  const char* package;  // for messages: what scripts/install-deps --test installs
};

template <const ServerKind& kKind>
class ScriptServer {
 public:
  // The server's URL; empty, with the reason in `why`, when it cannot be had.
  static const std::string& url(std::string& why) {
    static ScriptServer server;
    why = server.why_;
    return server.url_;
  }

 private:
  ScriptServer() {
    if (const char* given = std::getenv(kKind.env); given != nullptr && *given) {
      url_ = given;
      return;
    }
    char dir[] = "/tmp/ordo-test-server-XXXXXX";
    if (::mkdtemp(dir) == nullptr) {
      why_ = std::string("cannot make a directory for ") + kKind.what;
      return;
    }
    dir_ = dir;
    const std::string command =
        std::string(ORDO_SOURCE_DIR "/scripts/") + kKind.script + " start " + dir_ + " 2>&1";
    std::string out;
    if (FILE* p = ::popen(command.c_str(), "r")) {
      std::array<char, 512> buf{};
      while (std::fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) out += buf.data();
      const int status = ::pclose(p);
      while (!out.empty() && out.back() == '\n') out.pop_back();
      if (status == 0 && out.starts_with(kKind.scheme)) {
        url_ = out;
        return;
      }
    }
    why_ = std::string("no ") + kKind.what + " for the tests (scripts/" + kKind.script +
           " start said: " + out + "); run the tests with `make test`, or install " +
           kKind.package + " with scripts/install-deps --test";
  }
  ~ScriptServer() {
    if (dir_.empty()) return;
    const std::string command = std::string(ORDO_SOURCE_DIR "/scripts/") + kKind.script +
                                " stop " + dir_ + " >/dev/null 2>&1";
    (void)std::system(command.c_str());
  }
  ScriptServer(const ScriptServer&) = delete;
  ScriptServer& operator=(const ScriptServer&) = delete;

  std::string url_;
  std::string why_;
  std::string dir_;
};

inline constexpr ServerKind kPostgresServer{"ORDO_TEST_PG_URL", "pg-test-server", "postgresql://",
                                            "PostgreSQL server", "PostgreSQL"};
inline constexpr ServerKind kRabbitmqServer{"ORDO_TEST_AMQP_URL", "rabbitmq-test-server",
                                            "amqp://", "RabbitMQ broker", "RabbitMQ"};

// A real PostgreSQL server (scripts/pg-test-server).
using PgTestServer = ScriptServer<kPostgresServer>;
// A real RabbitMQ broker (scripts/rabbitmq-test-server). Tests that stop and restart a
// broker start one of their own with the script (start DIR, pause DIR, resume DIR, stop DIR).
using AmqpTestServer = ScriptServer<kRabbitmqServer>;

}  // namespace ordo::testing
