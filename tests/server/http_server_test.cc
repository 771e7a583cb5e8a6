// The transport of `ordo serve` (server/http_server.cc) over real sockets on loopback: slow
// clients, connection caps, deadlines, chunked bodies and parked long polls.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "api.h"
#include "http_server.h"
#include "runtime/harness.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

int transport_connect(int port, const char* from = "127.0.0.1") {
  return connect_on_loopback(port, from);
}

bool transport_send(int fd, std::string_view bytes) {
  return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

// One answer: its head and as much of its body as Content-Length says ("" when none came).
std::string transport_answer(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    const std::size_t head_end = out.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      std::size_t length = 0;
      if (const std::size_t at = out.find("Content-Length: "); at != std::string::npos) {
        length = std::stoul(out.substr(at + 16));
      }
      if (out.size() >= head_end + 4 + length) return out.substr(0, head_end + 4 + length);
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

int status_of(const std::string& answer) {
  if (answer.size() < 12 || answer.rfind("HTTP/1.1 ", 0) != 0) return 0;
  return std::atoi(answer.c_str() + 9);
}

std::string body_of_answer(const std::string& answer) {
  const std::size_t at = answer.find("\r\n\r\n");
  return at == std::string::npos ? std::string() : answer.substr(at + 4);
}

// One request on a connection of its own, from `from`.
std::string transport_exchange(int port, const std::string& request,
                               const char* from = "127.0.0.1") {
  const int fd = transport_connect(port, from);
  if (fd < 0) return {};
  std::string answer = transport_send(fd, request) ? transport_answer(fd) : std::string();
  ::close(fd);
  return answer;
}

std::string get(std::string_view path) {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

std::string post(std::string_view path, std::string_view body) {
  return "POST " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " +
         "application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

// Whether the server closed `fd` (or reset it) before `seconds` passed.
bool closed_by_server(int fd, int seconds) {
  timeval wait{seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  char buf[512];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}

std::string poll_process() {
  return bpmn("<process id=\"poll\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n" +
              svc("work", "", "ext.work") + "<endEvent id=\"e\"/>\n" + flow("s", "work") +
              flow("work", "e") + "</process>");
}

// `ordo serve`'s transport in this process, on a free port, until the test ends.
class TransportTest : public ::testing::Test {
 protected:
  void start(server::ListenOptions options, int max_in_flight = 2,
             server::ApiOptions api_options = {}) {
    options.port = 0;
    options.max_in_flight = max_in_flight;
    api_options.max_in_flight = max_in_flight;
    api_ = std::make_unique<server::Api>(engine_, api_options);
    std::promise<int> listening;
    std::future<int> port = listening.get_future();
    options.on_listening = [&listening](int p) { listening.set_value(p); };
    server_ = std::thread([this, options] {
      served_ = server::serve(*api_, options, stop_);
      if (!served_) std::fprintf(stderr, "serve: %s\n", served_.message().c_str());
    });
    ASSERT_EQ(port.wait_for(10s), std::future_status::ready) << "the server did not listen";
    port_ = port.get();
  }
  void stop() {
    stop_.store(true);
    if (server_.joinable()) server_.join();
  }
  ~TransportTest() override { stop(); }

  Engine engine_;
  std::unique_ptr<server::Api> api_;
  std::atomic<bool> stop_{false};
  std::thread server_;
  Status served_;
  int port_ = 0;
};

// 128 connections sending a byte a second (64 times maxInFlight) leave every answer to
// others as it was. Before, each held a thread of cpp-httplib: /health did not answer.
TEST_F(TransportTest, ClientsSendingAByteASecondStopNoAnswer) {
  start({});
  std::vector<int> slow;
  for (int i = 0; i < 128; ++i) {
    const int fd = transport_connect(port_, "127.0.0.2");
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(transport_send(fd, "P"));
    slow.push_back(fd);
  }
  std::atomic<bool> done{false};
  std::thread drip([&] {
    const std::string head = "OST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (std::size_t at = 0; at < head.size() && !done.load(); ++at) {
      for (int fd : slow) (void)transport_send(fd, head.substr(at, 1));
      std::this_thread::sleep_for(1s);
    }
  });
  std::this_thread::sleep_for(1500ms);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(status_of(transport_exchange(port_, get("/health"))), 200);
    EXPECT_EQ(status_of(transport_exchange(port_, get("/v1/process-instances"))), 200);
  }
  done.store(true);
  drip.join();
  for (int fd : slow) ::close(fd);
}

// A request's head must arrive within the deadline, however steadily its bytes come: a
// client sending a byte every 100 ms is cut off. Before, each read had its own timeout.
TEST_F(TransportTest, AHeadThatTakesLongerThanItsDeadlineIsCutOff) {
  server::ListenOptions options;
  options.header_timeout = 500ms;
  start(options);
  const int fd = transport_connect(port_);
  ASSERT_GE(fd, 0);
  const std::string head = "GET /health HTTP/1.1\r\nX-Padding: " + std::string(100, 'a');
  std::size_t sent = 0;
  while (sent < head.size() && transport_send(fd, head.substr(sent, 1))) {
    ++sent;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_LT(sent, head.size()) << "the server took every byte of a head sent over 12 s";
  EXPECT_TRUE(closed_by_server(fd, 5));
  ::close(fd);
  // An idle keep-alive connection is closed after the same time.
  const int idle = transport_connect(port_);
  ASSERT_TRUE(transport_send(idle, get("/health")));
  EXPECT_EQ(status_of(transport_answer(idle)), 200);
  EXPECT_TRUE(closed_by_server(idle, 5));
  ::close(idle);
  const std::string metrics = body_of_answer(transport_exchange(port_, get("/metrics")));
  // The slow head is counted; the idle connection is not (it sent nothing it did not finish).
  EXPECT_NE(metrics.find("ordo_http_refused_total{reason=\"slow\"} 1\n"), std::string::npos)
      << metrics;
}

// The head of an answer, read up to its blank line and no further.
std::string transport_head_only(int fd) {
  std::string out;
  char c = 0;
  while (out.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1) out += c;
  return out;
}

// A HEAD request gets the head a GET would, with its Content-Length, and no body: the next
// answer on the connection starts where it should. Before, the body was sent too.
TEST_F(TransportTest, AnAnswerToHeadHasNoBody) {
  start({});
  const int fd = transport_connect(port_);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(transport_send(fd, "HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  const std::string head = transport_head_only(fd);
  ASSERT_NE(head.find("Content-Length: "), std::string::npos) << head;
  EXPECT_GT(std::stoul(head.substr(head.find("Content-Length: ") + 16)), 0u) << head;
  ASSERT_TRUE(transport_send(fd, get("/health")));
  const std::string next = transport_answer(fd);
  EXPECT_EQ(status_of(next), 200) << next;
  ::close(fd);
}

// A handler that throws answers 500 and the server goes on. Before, the exception ended the
// process (it left a thread of the handler pool).
TEST_F(TransportTest, AHandlerThatThrowsAnswers500AndTheServerGoesOn) {
  server::ApiOptions api_options;
  api_options.ready = []() -> Status { throw std::runtime_error("the probe broke"); };
  start({}, 2, api_options);
  for (int i = 0; i < 3; ++i) {
    const std::string answer = transport_exchange(port_, get("/health/ready"));
    EXPECT_EQ(status_of(answer), 500) << answer;
    EXPECT_NE(answer.find("the probe broke"), std::string::npos) << answer;
  }
  EXPECT_EQ(status_of(transport_exchange(port_, get("/health"))), 200);
}

// Stopping while a request is being handled: it is answered and serve returns; a request
// that arrives meanwhile on an open connection gets 503 and the connection closes. Before,
// the I/O threads could run out of work before the answer was written, and serve never
// returned.
TEST_F(TransportTest, StoppingAnswersWhatWasReadAndRefusesWhatComesAfter) {
  server::ApiOptions api_options;
  std::atomic<bool> probing{false};
  api_options.ready = [&probing]() -> Status {
    probing.store(true);
    std::this_thread::sleep_for(1500ms);
    return Status::ok();
  };
  start({}, 2, api_options);
  const int open = transport_connect(port_);
  ASSERT_GE(open, 0);
  ASSERT_TRUE(transport_send(open, get("/health")));
  ASSERT_EQ(status_of(transport_answer(open)), 200);
  const int fd = transport_connect(port_);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(transport_send(fd, get("/health/ready")));
  while (!probing.load()) std::this_thread::sleep_for(10ms);
  std::promise<void> returned;
  std::future<void> serve_returned = returned.get_future();
  std::thread stopper([&] {
    stop();
    returned.set_value();
  });
  std::this_thread::sleep_for(300ms);  // the stop has begun; the probe still runs
  ASSERT_TRUE(transport_send(open, get("/health")));
  const std::string refused = transport_answer(open);
  EXPECT_EQ(status_of(refused), 503) << refused;
  EXPECT_NE(refused.find("Connection: close"), std::string::npos) << refused;
  EXPECT_EQ(status_of(transport_answer(fd)), 200);
  const bool stopped = serve_returned.wait_for(10s) == std::future_status::ready;
  EXPECT_TRUE(stopped) << "serve did not return after its last answer";
  if (!stopped) std::abort();  // the server thread cannot be joined: end here, loudly
  stopper.join();
  ::close(open);
  ::close(fd);
}

// Beyond the connections one address may hold, or all may, a connection is refused (503,
// closed); other addresses, and the same once it closed some, are served.
TEST_F(TransportTest, ConnectionsAreCappedPerPeerAndInTotal) {
  server::ListenOptions options;
  options.max_connections_per_peer = 4;
  options.max_connections = 7;
  start(options);
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(transport_connect(port_, "127.0.0.2"));
    ASSERT_GE(held.back(), 0);
  }
  // The server counts a connection once it accepted it: the answer on the first proves it.
  ASSERT_TRUE(transport_send(held[0], get("/health")));
  ASSERT_EQ(status_of(transport_answer(held[0])), 200);
  const std::string refused = transport_exchange(port_, get("/health"), "127.0.0.2");
  EXPECT_EQ(status_of(refused), 503) << refused;
  EXPECT_NE(refused.find("maxConnectionsPerPeer"), std::string::npos) << refused;
  EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos) << refused;
  // Another address still gets in, up to the total.
  held.push_back(transport_connect(port_, "127.0.0.3"));
  held.push_back(transport_connect(port_, "127.0.0.3"));
  ASSERT_TRUE(transport_send(held.back(), get("/health")));
  ASSERT_EQ(status_of(transport_answer(held.back())), 200);
  held.push_back(transport_connect(port_, "127.0.0.4"));
  ASSERT_TRUE(transport_send(held.back(), get("/health")));
  ASSERT_EQ(status_of(transport_answer(held.back())), 200);  // the 7th
  const std::string full = transport_exchange(port_, get("/health"), "127.0.0.5");
  EXPECT_EQ(status_of(full), 503) << full;
  EXPECT_NE(full.find("maxConnections"), std::string::npos) << full;
  for (int fd : held) ::close(fd);
  // Closed connections are counted out: the first address is served again.
  std::string again;
  for (int attempt = 0; attempt < 50 && status_of(again) != 200; ++attempt) {
    std::this_thread::sleep_for(20ms);
    again = transport_exchange(port_, get("/health"), "127.0.0.2");
  }
  EXPECT_EQ(status_of(again), 200) << again;
  const std::string metrics = body_of_answer(transport_exchange(port_, get("/metrics")));
  EXPECT_NE(metrics.find("ordo_http_refused_total{reason=\"connections\"} 2"), std::string::npos)
      << metrics;
}

// Long polls beyond maxInFlight (and beyond the request threads) hold none: /health and
// other requests answer while they wait, and a job created meanwhile reaches one of them.
// Before, each poll held a thread, and /health waited for up to a minute.
TEST_F(TransportTest, LongPollsAreParkedOffTheRequestThreads) {
  start({}, 2);  // four request threads
  ASSERT_EQ(status_of(transport_exchange(port_, "POST /v1/deployments HTTP/1.1\r\nHost: "
                                                "127.0.0.1\r\nContent-Length: " +
                                                    std::to_string(poll_process().size()) +
                                                    "\r\n\r\n" + poll_process())),
            201);
  std::vector<int> polls;
  const std::string fetch = post(
      "/v1/jobs/fetch-and-lock",
      R"({"workerId": "w", "types": ["ext.work"], "requestTimeout": "PT30S"})");
  // One after another: a poll is in flight while it first looks (maxInFlight holds then).
  for (int i = 0; i < 8; ++i) {
    polls.push_back(transport_connect(port_));
    ASSERT_TRUE(transport_send(polls.back(), fetch));
    std::this_thread::sleep_for(50ms);
  }
  // The polls wait (none answered yet) while everything else is answered.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(status_of(transport_exchange(port_, get("/health"))), 200);
  EXPECT_EQ(status_of(transport_exchange(port_, get("/v1/process-instances"))), 200);
  EXPECT_EQ(status_of(transport_exchange(port_, post("/v1/process-instances",
                                                      R"({"processId": "poll"})"))),
            201);
  // The job goes to one poll; the server's stop answers the others at once, empty.
  std::vector<std::future<std::string>> answers;
  for (int fd : polls) {
    answers.push_back(std::async(std::launch::async, [fd] { return transport_answer(fd); }));
  }
  const auto got_job = [](const std::string& answer) {
    return status_of(answer) == 200 &&
           json::parse(body_of_answer(answer))["jobs"].size() == 1;
  };
  int with_job = 0;
  for (std::size_t i = 0; i < answers.size() && with_job == 0; ++i) {
    if (answers[i].wait_for(10s) == std::future_status::ready) {
      with_job += got_job(answers[i].get()) ? 1 : 0;
      answers.erase(answers.begin() + static_cast<std::ptrdiff_t>(i));
      i = static_cast<std::size_t>(-1);
    }
  }
  EXPECT_EQ(with_job, 1);
  stop();
  for (auto& answer : answers) {
    ASSERT_EQ(answer.wait_for(10s), std::future_status::ready);
    const std::string text = answer.get();
    EXPECT_EQ(status_of(text), 200) << text;
    EXPECT_FALSE(got_job(text)) << text;
  }
  for (int fd : polls) ::close(fd);
  EXPECT_TRUE(served_) << served_.message();
}

// A chunked body is read within maxBodyBytes as it arrives: one within the limit is handled,
// one beyond it gets 413 before the rest is read. Before, chunked bodies were read whatever
// their size (then refused with 411 without reading).
TEST_F(TransportTest, ChunkedBodiesAreHeldToTheLimitAsTheyArrive) {
  server::ListenOptions options;
  options.max_body_bytes = 4096;
  start(options);
  const std::string chunked_head =
      "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  const auto chunk_of = [](const std::string& data) {
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + data + "\r\n";
  };
  const std::string small = transport_exchange(
      port_, chunked_head + chunk_of(R"({"name": "hi")") + chunk_of("}") + "0\r\n\r\n");
  // The API's own answer (the message correlated to nothing), not the transport's.
  EXPECT_EQ(status_of(small), 200) << small;
  EXPECT_NE(body_of_answer(small).find("buffered"), std::string::npos) << small;

  const int fd = transport_connect(port_);
  ASSERT_TRUE(transport_send(fd, chunked_head));
  const std::string chunk = "400\r\n" + std::string(1024, ' ') + "\r\n";
  int sent = 0;
  while (sent < 10'000 && transport_send(fd, chunk)) {
    ++sent;
    if (sent == 8) break;  // 8 KiB: twice the limit, the rest of the body never sent
  }
  const std::string answer = transport_answer(fd);
  EXPECT_EQ(status_of(answer), 413) << answer;
  EXPECT_NE(answer.find("maxBodyBytes"), std::string::npos) << answer;
  ::close(fd);
  EXPECT_EQ(status_of(transport_exchange(port_, get("/health"))), 200);
}

// A client that asks before it sends its body (Expect: 100-continue, as curl does for large
// ones) is told to go on; a request line and headers beyond 16 KiB get 431.
TEST_F(TransportTest, ExpectContinueAndOversizedHeads) {
  start({});
  const int fd = transport_connect(port_);
  const std::string body = R"({"name": "hi"})";
  ASSERT_TRUE(transport_send(fd, "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 "Expect: 100-continue\r\nContent-Length: " +
                                     std::to_string(body.size()) + "\r\n\r\n"));
  char buf[64] = {};
  const ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)).rfind("HTTP/1.1 100", 0), 0u) << buf;
  ASSERT_TRUE(transport_send(fd, body));
  EXPECT_EQ(status_of(transport_answer(fd)), 200);
  ::close(fd);
  const std::string huge = transport_exchange(
      port_, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(20'000, 'x') +
                 "\r\n\r\n");
  EXPECT_EQ(status_of(huge), 431) << huge;
  const std::string garbage = transport_exchange(port_, "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(status_of(garbage), 400) << garbage;
  EXPECT_NE(body_of_answer(garbage).find("\"error\""), std::string::npos) << garbage;
}

// Percent-escapes in the path and query are decoded (a "+" in a query is a space); a Host
// that is not loopback is refused (without tokens).
TEST_F(TransportTest, PathsAndQueriesAreDecoded) {
  start({});
  ASSERT_EQ(status_of(transport_exchange(port_, "POST /v1/deployments HTTP/1.1\r\nHost: "
                                                "127.0.0.1\r\nContent-Length: " +
                                                    std::to_string(poll_process().size()) +
                                                    "\r\n\r\n" + poll_process())),
            201);
  ASSERT_EQ(status_of(transport_exchange(
                port_, post("/v1/process-instances",
                            R"({"processId": "poll", "businessKey": "A-1 2"})"))),
            201);
  const std::string listed =
      transport_exchange(port_, get("/v1/process-instances?businessKey=A%2D1+2&limit=5"));
  ASSERT_EQ(status_of(listed), 200) << listed;
  EXPECT_EQ(json::parse(body_of_answer(listed))["instances"].size(), 1u) << listed;
  const std::string missing = transport_exchange(port_, get("/v1/no%20such"));
  EXPECT_EQ(status_of(missing), 404) << missing;
  EXPECT_NE(missing.find("/v1/no such"), std::string::npos) << missing;
  const std::string rebound = transport_exchange(
      port_, "GET /v1/process-instances HTTP/1.1\r\nHost: 127.0.0.1.nip.io\r\n\r\n");
  EXPECT_EQ(status_of(rebound), 403) << rebound;
}

}  // namespace
}  // namespace ordo::testing
