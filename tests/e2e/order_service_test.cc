// examples/order_service.cc, the production pattern, run as its users run it: a real
// process on loopback with a database file, orders and signed webhooks over real HTTP,
// SIGTERM to stop, and a restart on the same file.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "durability/durability_util.h"
#include "ordo/adapters/adapters.h"  // webhook_signature
#include "e2e/served.h"

namespace ordo::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kSecret = "whsec-test-4711";

std::string sign(const std::string& body, const std::string& secret = kSecret) {
  return webhook_signature(body, secret);
}

// The example program, started with the secret in its environment; waits until it listens.
class OrderService {
 public:
  OrderService(const TempDir& dir, const std::string& out) : out_(dir.path(out)) {
    ::setenv("ORDER_SERVICE_WEBHOOK_SECRET", kSecret, 1);
    pid_ = spawn_program(ORDO_EXAMPLE_ORDER_SERVICE,
                         {dir.path("orders.db"), ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn"},
                         out_);
    port_ = wait_until_listening(pid_, out_);
  }
  ~OrderService() {
    if (pid_ > 0) stop();
  }
  int stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  int port() const { return port_; }
  std::string output() const { return read_file(out_); }

 private:
  std::string out_;
  pid_t pid_ = -1;
  int port_ = 0;
};

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

json instance(httplib::Client& http, std::uint64_t id) {
  auto r = http.Get("/instances/" + std::to_string(id));
  if (!r || r->status != 200) return json();
  return json::parse(r->body);
}

// Polls until the instance's variable `name` is set or it ends (the worker is a thread).
json wait_for(httplib::Client& http, std::uint64_t id, const std::string& name) {
  json info;
  for (int i = 0; i < 500; ++i) {
    info = instance(http, id);
    if (info.is_object() &&
        (info["variables"].contains(name) || info["state"] != "active")) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  return info;
}

TEST(OrderServiceExample, AnOrderRunsToDeliveryThroughSignedWebhooks) {
  TempDir dir("order-service");
  std::uint64_t id = 0;
  {
    OrderService service(dir, "first.out");
    ASSERT_GT(service.port(), 0) << service.output();
    httplib::Client http("127.0.0.1", service.port());
    const json order = {{"orderId", "A-1001"},
                        {"total", 129.9},
                        {"customer", {{"email", "anna@example.de"}}}};
    auto started = http.Post("/orders", order.dump(), "application/json");
    ASSERT_TRUE(started);
    ASSERT_EQ(started->status, 201) << started->body;
    id = json::parse(started->body)["instance"].get<std::uint64_t>();
    // The same order again: the business key finds the instance, nothing new starts.
    auto again = http.Post("/orders", order.dump(), "application/json");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 200);
    EXPECT_EQ(json::parse(again->body)["instance"], id);

    // The worker thread checks stock, reserves and charges; the order waits for the payment.
    EXPECT_EQ(wait_for(http, id, "paymentId")["variables"]["paymentId"], "PAY-A-1001");

    const std::string paid =
        json{{"id", "evt-1"}, {"orderId", "A-1001"}, {"status", "approved"}}.dump();
    // A forged signature is refused and moves nothing.
    auto forged = http.Post("/webhooks/payment", {{"X-Signature", sign(paid, "guess")}}, paid,
                            "application/json");
    ASSERT_TRUE(forged);
    EXPECT_EQ(forged->status, 401);
    EXPECT_EQ(instance(http, id)["variables"].count("paymentStatus"), 0u);

    auto confirmed =
        http.Post("/webhooks/payment", {{"X-Signature", sign(paid)}}, paid, "application/json");
    ASSERT_TRUE(confirmed);
    ASSERT_EQ(confirmed->status, 200) << confirmed->body;
    EXPECT_EQ(json::parse(confirmed->body)["instances"], json::array({id}));
    // The provider delivers the same webhook again: a duplicate, received by nobody.
    auto redelivered =
        http.Post("/webhooks/payment", {{"X-Signature", sign(paid)}}, paid, "application/json");
    ASSERT_TRUE(redelivered);
    EXPECT_TRUE(json::parse(redelivered->body)["duplicate"].get<bool>());

    // A malformed body is a 400, not a crash.
    const std::string junk = "{\"id\": 1";
    auto bad = http.Post("/webhooks/carrier", {{"X-Signature", sign(junk)}}, junk,
                         "application/json");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400);
    EXPECT_EQ(service.stop(), 0) << service.output();
  }
  // A restart on the same file: the order is still there, waiting for its delivery.
  OrderService restarted(dir, "second.out");
  ASSERT_GT(restarted.port(), 0) << restarted.output();
  httplib::Client http("127.0.0.1", restarted.port());
  EXPECT_EQ(instance(http, id)["variables"]["paymentStatus"], "approved");
  const std::string delivered =
      json{{"id", "trk-9"}, {"orderId", "A-1001"}, {"signedBy", "J. Doe"}}.dump();
  auto r = http.Post("/webhooks/carrier", {{"X-Signature", sign(delivered)}}, delivered,
                     "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json done = wait_for(http, id, "no-such-variable");
  EXPECT_EQ(done["state"], "completed") << done.dump();
  EXPECT_EQ(done["endEvent"], "end-delivered");
  EXPECT_EQ(done["variables"]["signedBy"], "J. Doe");
  // Each side effect ran once, across both runs: one charge, one confirmation mail.
  const std::string out = read_file(dir.path("first.out")) + restarted.output();
  EXPECT_EQ(count_of(out, "payment: charging A-1001"), 1u) << out;
  EXPECT_EQ(count_of(out, "notify: order-confirmation by email"), 1u) << out;
  EXPECT_EQ(count_of(out, "notify: order-delivered by email"), 1u) << out;
}

}  // namespace
}  // namespace ordo::testing
