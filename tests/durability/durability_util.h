// Helpers for the durability tests: temporary directories and the ordo binary as a real
// process (run to the end, or spawned to be killed).
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "must.h"
#include "test_util.h"

namespace ordo::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts the program `exe` with ARGS..., stdout and stderr going to `output`.
inline pid_t spawn_program(const std::string& exe, const std::vector<std::string>& args,
                           const std::string& output) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    std::vector<char*> argv;
    std::string path = exe;
    argv.push_back(path.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

// Starts `ordo ARGS...` with stdout and stderr going to `output`.
inline pid_t spawn_ordo(const std::vector<std::string>& args, const std::string& output) {
  return spawn_program(ORDO_CLI, args, output);
}

struct ProcessRun {
  int exit_code = -1;
  std::string out;
};

// Runs `ordo ARGS...` to the end; stdout only in `out` (stderr goes to the test's).
inline ProcessRun run_ordo(const std::vector<std::string>& args) {
  char name[] = "/tmp/ordo-run-XXXXXX";
  const int fd = ::mkstemp(name);
  ::close(fd);
  const pid_t pid = spawn_ordo(args, name);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ProcessRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(name);
  std::remove(name);
  return r;
}

}  // namespace ordo::testing
