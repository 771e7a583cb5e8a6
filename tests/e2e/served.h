// `ordo serve` as a user runs it: a real process on loopback, stopped with SIGTERM (or
// killed with SIGKILL), its output in a file.
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "durability/durability_util.h"

namespace ordo::testing {

// Waits until the program `pid` writes "listening on http://127.0.0.1:PORT" to the file
// `out`, and returns PORT; 0 when it exits first (then `pid` becomes -1) or takes 20 s.
// Generous: a restart after SIGKILL recovers the database first, on a busy machine.
inline int wait_until_listening(pid_t& pid, const std::string& out) {
  for (int i = 0; i < 1000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::string text = read_file(out);
    const std::size_t at = text.find("listening on http://127.0.0.1:");
    if (at != std::string::npos) return std::atoi(text.c_str() + at + 30);
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pid = -1;
      return 0;
    }
  }
  return 0;
}

// Starts `ordo serve ARGS... --listen LISTEN` and waits until it listens (port 0: any free
// one, read from its output). The output goes to `out` in `dir`.
class Served {
 public:
  Served(const TempDir& dir, std::vector<std::string> args,
         const std::string& listen = "127.0.0.1:0", const std::string& out = "serve.out")
      : out_(dir.path(out)) {
    args.insert(args.begin(), "serve");
    args.insert(args.end(), {"--listen", listen});
    pid_ = spawn_ordo(args, out_);
    port_ = wait_until_listening(pid_, out_);
  }
  ~Served() {
    if (pid_ > 0) stop();
  }
  Served(const Served&) = delete;
  Served& operator=(const Served&) = delete;

  // SIGTERM: the exit code, -1 when it did not exit by itself.
  int stop() { return end(SIGTERM); }
  // SIGKILL, whatever it was doing.
  void kill() { end(SIGKILL); }
  // 0 when it did not get to listen (see output()).
  int port() const { return port_; }
  std::string output() const { return read_file(out_); }

 private:
  int end(int signal) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string out_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// Runs scripts/SCRIPT COMMAND DIR (pg-test-server, rabbitmq-test-server); its output (the
// URL for start), or "" on failure with the reason in `why`.
inline std::string test_server_script(const std::string& script, const std::string& command,
                                      const std::string& dir, std::string& why) {
  const std::string line =
      ORDO_SOURCE_DIR "/scripts/" + script + " " + command + " " + dir + " 2>&1";
  std::string out;
  FILE* p = ::popen(line.c_str(), "r");
  if (p == nullptr) {
    why = "cannot run scripts/" + script;
    return {};
  }
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = ::pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  if (status != 0) {
    why = "scripts/" + script + " " + command + ": " + out;
    return {};
  }
  return out.empty() ? std::string("ok") : out;
}

// A server of a test's own, in `dir`, for a test that stops it and starts it again;
// stopped, and `dir` removed, at the end.
class OwnServer {
 public:
  OwnServer(std::string script, std::string dir) : script_(std::move(script)), dir_(std::move(dir)) {
    url_ = test_server_script(script_, "start", dir_, why_);
  }
  ~OwnServer() {
    std::string ignored;
    (void)test_server_script(script_, "stop", dir_, ignored);
  }
  OwnServer(const OwnServer&) = delete;
  OwnServer& operator=(const OwnServer&) = delete;

  // Empty when it did not start, with the reason in why().
  const std::string& url() const { return url_; }
  const std::string& why() const { return why_; }
  // The server stopped (gone away), and started again on the same port: false, with the
  // reason in `why`, when it could not be.
  bool pause(std::string& why) { return !test_server_script(script_, "pause", dir_, why).empty(); }
  bool resume(std::string& why) { return !test_server_script(script_, "resume", dir_, why).empty(); }

 private:
  std::string script_;
  std::string dir_;
  std::string url_;
  std::string why_;
};

// A PostgreSQL server (scripts/pg-test-server).
class OwnPgServer : public OwnServer {
 public:
  explicit OwnPgServer(std::string dir) : OwnServer("pg-test-server", std::move(dir)) {}
};

// A RabbitMQ broker (scripts/rabbitmq-test-server).
class OwnRabbitmq : public OwnServer {
 public:
  explicit OwnRabbitmq(std::string dir) : OwnServer("rabbitmq-test-server", std::move(dir)) {}
};

}  // namespace ordo::testing
