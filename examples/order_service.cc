// The production pattern: an order service that embeds Ordo.
//
//   ORDER_SERVICE_WEBHOOK_SECRET=... example_order_service orders.db order-acceptance.bpmn 8080
//
// - One durable engine (the SQLite file orders.db), called from every thread: the HTTP
//   threads start orders, turn webhooks into messages and read instances, while work() runs
//   on a thread of its own, calling the task handlers and firing the timers. A crash loses
//   nothing a call reported done.
// - The payment provider's and the carrier's webhooks arrive at the service's own endpoints.
//   Each is authenticated first (HMAC-SHA256 of the body, in X-Signature as sha256=HEX,
//   checked by ordo::verify_webhook_signature),
//   and its delivery id becomes the message id: a webhook delivered twice moves the order
//   once.
// - SIGTERM or SIGINT: the server stops taking requests, the worker finishes its round, and
//   the program exits 0.
//
// Endpoints:
//   POST /orders               {"orderId": "A-1", "total": 129.9, "customer": {...}}
//   POST /webhooks/payment     {"id": "evt-1", "orderId": "A-1", "status": "approved"}
//   POST /webhooks/carrier     {"id": "trk-1", "orderId": "A-1", "signedBy": "J. Doe"}
//   GET  /instances/ID
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "ordo/adapters/adapters.h"  // verify_webhook_signature
#include "ordo/ordo.h"

namespace {

using nlohmann::json;

std::atomic<bool> g_stop{false};

void on_signal(int) {
  g_stop.store(true);
}

std::mutex g_out_mutex;

void say(const std::string& line) {
  std::lock_guard lock(g_out_mutex);
  std::cout << line << std::endl;
}

// The task handlers. Each stands where your client of the ERP, the payment provider or the
// notification gateway goes; they run on work()'s handler threads, several at once.
void register_handlers(ordo::Engine& engine) {
  engine.register_handler("erp.check-availability", [](const ordo::Job& job) {
    say("erp: checking stock for " + std::string(job.business_key()));
    return ordo::JobOutcome::complete({{"available", true}});
  });
  engine.register_handler("payment.charge", [](const ordo::Job& job) {
    // The idempotency key is stable across retries: the provider charges once per key.
    say("payment: charging " + std::string(job.business_key()) + " with key " +
        std::string(job.idempotency_key()));
    return ordo::JobOutcome::complete({{"paymentId", "PAY-" + std::string(job.business_key())}});
  });
  engine.register_handler("notify.send", [](const ordo::Job& job) {
    say("notify: " + std::string(job.header("template")) + " by " +
        std::string(job.header("channel")) + " for " + std::string(job.business_key()));
    return ordo::JobOutcome::complete();
  });
  // erp.reserve, erp.handover, erp.ship, payment.cancel, erp.release.
  engine.set_fallback_handler([](const ordo::Job& job) {
    say("erp: " + std::string(job.type()) + " for " + std::string(job.business_key()));
    return ordo::JobOutcome::complete();
  });
}

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

// An engine call that failed: the caller's mistake is a 4xx, anything else a 503 (try again).
void reply_error(httplib::Response& res, const ordo::Status& status) {
  int code = 503;
  if (status.code() == ordo::StatusCode::kNotFound) code = 404;
  if (status.code() == ordo::StatusCode::kInvalidArgument) code = 400;
  if (status.code() == ordo::StatusCode::kConflict) code = 409;
  reply(res, code, {{"error", status.message()}});
}

// Reads a JSON object with a string "orderId"; false (and a 400 sent) when it is not one.
bool read_order_body(const httplib::Request& req, httplib::Response& res, json& body) {
  body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("orderId") || !body["orderId"].is_string() ||
      body["orderId"].get_ref<const std::string&>().empty()) {
    reply(res, 400, {{"error", "expected a JSON object with a non-empty string \"orderId\""}});
    return false;
  }
  return true;
}

class OrderService {
 public:
  OrderService(ordo::Engine& engine, std::string secret)
      : engine_(engine), secret_(std::move(secret)) {}

  void route(httplib::Server& http) {
    http.Post("/orders", [this](const httplib::Request& req, httplib::Response& res) {
      json order;
      if (!read_order_body(req, res, order)) return;
      ordo::StartRequest start;
      start.process_id = "order-acceptance";
      start.business_key = order["orderId"].get<std::string>();
      start.variables = std::move(order);
      ordo::Result<ordo::StartResult> started = engine_.start(start);
      if (!started) return reply_error(res, started.status());
      reply(res, started->created ? 201 : 200,
            {{"instance", started->id}, {"created", started->created}});
    });
    webhook(http, "/webhooks/payment", "payment-confirmed", [](const json& body) {
      return json{{"paymentStatus", body.value("status", "")}};
    });
    webhook(http, "/webhooks/carrier", "order-delivered", [](const json& body) {
      return json{{"signedBy", body.value("signedBy", "")}};
    });
    http.Get(R"(/instances/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
      ordo::InstanceId id = 0;
      const std::string digits = req.matches[1].str();
      if (std::from_chars(digits.data(), digits.data() + digits.size(), id).ec != std::errc()) {
        return reply(res, 404, {{"error", "no instance " + digits}});
      }
      ordo::Result<ordo::InstanceInfo> info = engine_.instance(id);
      if (!info) return reply_error(res, info.status());
      reply(res, 200,
            {{"id", info->id},
             {"businessKey", info->business_key},
             {"state", std::string(ordo::to_string(info->state))},
             {"endEvent", info->end_event},
             {"variables", info->variables}});
    });
  }

 private:
  // A provider's callback: authenticated, then published as message `name` correlated by
  // the order id, with the delivery id as message id. Published before the order waits for
  // it (a fast provider), the message is kept for an hour.
  template <typename Variables>
  void webhook(httplib::Server& http, const std::string& path, std::string name,
               Variables variables) {
    http.Post(path, [this, name, variables](const httplib::Request& req, httplib::Response& res) {
      if (!ordo::verify_webhook_signature(req.body, secret_, req.get_header_value("X-Signature"))) {
        return reply(res, 401, {{"error", "the X-Signature header does not sign this body"}});
      }
      json body;
      if (!read_order_body(req, res, body)) return;
      if (!body.contains("id") || !body["id"].is_string()) {
        return reply(res, 400, {{"error", "expected the delivery id as a string \"id\""}});
      }
      ordo::Message message;
      message.name = name;
      message.correlation_key = body["orderId"].get<std::string>();
      message.message_id = name + ":" + body["id"].get<std::string>();
      message.variables = variables(body);
      message.ttl_ms = 3'600'000;
      ordo::Result<ordo::MessageResult> published = engine_.publish_message(std::move(message));
      if (!published) return reply_error(res, published.status());
      reply(res, 200,
            {{"duplicate", published->duplicate},
             {"buffered", published->buffered},
             {"instances", published->instances}});
    });
  }

  ordo::Engine& engine_;
  std::string secret_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::cerr << "usage: " << argv[0] << " DATABASE PROCESS.bpmn [PORT]\n"
              << "  with the webhook secret in ORDER_SERVICE_WEBHOOK_SECRET\n";
    return 2;
  }
  const char* secret = std::getenv("ORDER_SERVICE_WEBHOOK_SECRET");
  if (secret == nullptr || *secret == '\0') {
    std::cerr << "set ORDER_SERVICE_WEBHOOK_SECRET: the webhooks are checked against it\n";
    return 2;
  }
  const int port = argc == 4 ? std::atoi(argv[3]) : 0;

  // Job outcomes share transactions (group commit). Deploying again after a restart keeps
  // the version when the file did not change.
  ordo::EngineOptions options;
  options.group_commit = 32;
  ordo::Result<std::unique_ptr<ordo::Engine>> opened = ordo::Engine::open(argv[1], options);
  if (!opened) {
    std::cerr << opened.status().to_string() << "\n";
    return 1;
  }
  ordo::Engine& engine = **opened;
  if (auto deployed = engine.deploy_file(argv[2]); !deployed) {
    std::cerr << deployed.status().to_string() << "\n";
    return 1;
  }
  register_handlers(engine);  // before work() starts

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  ordo::Status worker_status;
  std::thread working([&] {
    ordo::WorkOptions work;
    work.until_idle = false;  // poll until stopped
    work.stop = &g_stop;
    ordo::Result<std::size_t> done = engine.work(work);
    if (!done) {
      worker_status = done.status();
      g_stop.store(true);
    }
  });

  httplib::Server http;
  OrderService service(engine, secret);
  service.route(http);
  const int bound = port == 0 ? http.bind_to_any_port("127.0.0.1") :
                                (http.bind_to_port("127.0.0.1", port) ? port : -1);
  if (bound < 0) {
    std::cerr << "cannot listen on 127.0.0.1:" << port << "\n";
    g_stop.store(true);
    working.join();
    return 1;
  }
  std::thread serving([&] { http.listen_after_bind(); });
  say("listening on http://127.0.0.1:" + std::to_string(bound));
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  http.stop();
  serving.join();
  working.join();
  if (!worker_status.is_ok()) {
    std::cerr << "the worker stopped: " << worker_status.to_string() << "\n";
    return 1;
  }
  say("stopped");
  return 0;
}
