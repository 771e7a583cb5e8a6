// Helpers shared by the test suites.
#pragma once

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ordo/adapters/adapters.h"
#include "ordo/adapters/notifications.h"
#include "ordo/mining/conformance.h"
#include "ordo/sim/order_log.h"
#include "ordo/sim/order_log_gen.h"
#include "ordo/sim/replay.h"
#include "ordo/sim/simulation.h"
#include "ordo/ordo.h"

// A copy of the status: `expr` may be a temporary's member (`f().status()`).
#define ASSERT_OK(expr)                                                     \
  do {                                                                      \
    const ::ordo::Status ordo_status_ = ::ordo::testing::status_of(expr);   \
    ASSERT_TRUE(ordo_status_.is_ok()) << ordo_status_.to_string();          \
  } while (0)

#include "must.h"

namespace ordo::testing {

// A directory of the running test's own, under the system's temporary directory, made empty
// at the start and removed at the end: names shared between runs (or between worktrees on one
// machine) let one run read what another left behind.
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : dir_(std::filesystem::temp_directory_path() /
             ("ordo-" + name + "-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path(const std::string& file) const { return (dir_ / file).string(); }
  std::string dir() const { return dir_.string(); }

 private:
  std::filesystem::path dir_;
};

// A TCP socket connected to `port` on 127.0.0.1, from the address `from` (any 127.0.0.0/8
// address: a peer of its own to the server), its reads waiting at most `seconds`; -1 when it
// cannot connect.
inline int connect_on_loopback(int port, const char* from = "127.0.0.1", int seconds = 20) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, from, &local.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval wait{seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  return fd;
}

// Durations in milliseconds, as the engine counts them.
inline constexpr std::int64_t kMinute = 60'000;
inline constexpr std::int64_t kHour = 60 * kMinute;

inline Status status_of(const Status& s) { return s; }
template <class T>
Status status_of(const Result<T>& r) {
  return r.status();
}

// Wraps `body` in <definitions> with the usual namespaces, default namespace BPMN. The body's
// first line is line 3 of the document.
inline std::string bpmn(std::string_view body) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<definitions xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "
      "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" "
      "xmlns:camunda=\"http://camunda.org/schema/1.0/bpmn\" "
      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
      "xmlns:bpmndi=\"http://www.omg.org/spec/BPMN/20100524/DI\" "
      "xmlns:dc=\"http://www.omg.org/spec/DD/20100524/DC\" "
      "xmlns:di=\"http://www.omg.org/spec/DD/20100524/DI\" id=\"defs\">\n";
  out += body;
  out += "\n</definitions>\n";
  return out;
}

// A process `id` whose body is `body`, wrapped with bpmn(). The body starts on line 4.
inline std::string process(std::string_view body, std::string_view id = "p") {
  return bpmn("<process id=\"" + std::string(id) + "\" isExecutable=\"true\">\n" +
              std::string(body) + "\n</process>");
}

// The diagnostics of rule `rule`.
inline std::vector<Diagnostic> with_rule(const LoadResult& r, std::string_view rule) {
  std::vector<Diagnostic> out;
  for (const Diagnostic& d : r.diagnostics) {
    if (d.rule == rule) out.push_back(d);
  }
  return out;
}

// "a,b,,c" split at ',' is {"a", "b", "", "c"}; an empty string gives {""}.
inline std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

inline std::string dump(const LoadResult& r) {
  std::string out;
  for (const Diagnostic& d : r.diagnostics) out += format_diagnostic(d) + "\n";
  return out;
}

// A minimal valid flow: start -> task -> end, with the given task XML in the middle.
inline std::string straight(std::string_view task_xml, std::string_view task_id = "t") {
  return std::string("<startEvent id=\"s\"/>\n") + std::string(task_xml) +
         "\n<endEvent id=\"e\"/>\n"
         "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"" +
         std::string(task_id) +
         "\"/>\n"
         "<sequenceFlow id=\"f2\" sourceRef=\"" +
         std::string(task_id) + "\" targetRef=\"e\"/>";
}

}  // namespace ordo::testing
