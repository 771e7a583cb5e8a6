// The tests' SMTP server: tests/peers/smtp_sink.py (aiosmtpd) in a child process, and the
// mail it received, decoded by Python's email package.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ordo::testing {

class SmtpSink {
 public:
  // `out`: the JSON Lines file it writes; extra: e.g. {"--fail-first", "2"}.
  explicit SmtpSink(std::string out, std::vector<std::string> extra = {}) : out_(std::move(out)) {
    std::remove(out_.c_str());
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
      close(to_child[1]);
      close(from_child[0]);
      std::vector<std::string> args = {"/usr/bin/python3",
                                       ORDO_SOURCE_DIR "/tests/peers/smtp_sink.py", "--out", out_};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    stdin_ = to_child[1];
    FILE* in = fdopen(from_child[0], "r");
    char line[128] = {};
    if (in != nullptr && std::fgets(line, sizeof line, in) != nullptr) {
      std::sscanf(line, "ready %d", &port_);
    }
    if (in != nullptr) std::fclose(in);
  }
  ~SmtpSink() {
    if (stdin_ >= 0) close(stdin_);
    if (pid_ > 0) {
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  // 0 when the server did not start (python3-aiosmtpd missing).
  int port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }

  std::vector<nlohmann::json> mail() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(out_);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }

 private:
  std::string out_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  int port_ = 0;
};

}  // namespace ordo::testing
