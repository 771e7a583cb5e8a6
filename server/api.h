// The HTTP API of `ordo serve` (docs/http-api.md), apart from the transport: a request in,
// a response out. Kept free of the HTTP library so it can be tested and fuzzed directly.
//
// Thread-safe: requests may come from several server threads, as the engine's calls may.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <optional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "kpi.h"
#include "ordo/adapters/adapters.h"
#include "ordo/engine.h"
#include "ordo/adapters/notifications.h"
#include "telemetry.h"

namespace ordo::server {

struct Request {
  std::string method;                          // GET, POST, ...
  std::string path;                            // without the query
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

struct Response {
  int status = 200;
  std::string body;  // JSON unless content_type says otherwise
  std::string content_type = "application/json";
  int retry_after_s = 0;  // > 0: a Retry-After header (503 when overloaded)
  // More headers (the console's caching and security headers), as they are written.
  std::vector<std::pair<std::string, std::string>> headers;
};

// What a bearer token may do: read (GET), write (deploy, start, cancel, messages), worker
// (fetch, lock and answer jobs: /v1/jobs), admin (incidents).
struct Token {
  std::string token;
  std::vector<std::string> scopes;
  // With the worker scope: the job types it may fetch ("payment.*": every type starting
  // "payment."; "*": all). Empty: only the types no adapter of this server handles.
  std::vector<std::string> job_types;
};

// A provider's webhook route: authenticated by the provider's HMAC-SHA256 signature of the
// body (verify_webhook_signature) in `signature_header`, not by a bearer token.
struct WebhookRoute {
  std::string secret;                            // empty: the route is off (404)
  std::string signature_header = "x-signature";  // lower case
  // How far a timestamped signature ("t=...,v1=...") may be from now, in seconds.
  std::int64_t tolerance_s = 300;
  // Twilio signs the URL it calls: the public URL of the route (its statusCallback).
  std::string url;
};

struct ApiOptions {
  // Bearer tokens; none: every request is allowed (the server then listens on loopback only).
  std::vector<Token> tokens;
  // POST /v1/webhooks/payment: the payment provider's confirmations.
  WebhookRoute payment;
  PaymentWebhookOptions payment_options;
  // POST /v1/webhooks/stripe: Stripe's events (Stripe-Signature).
  WebhookRoute stripe{{}, "stripe-signature", 300, {}};
  // POST /v1/webhooks/twilio: Twilio's SMS status callbacks (X-Twilio-Signature), recorded
  // by `notifier`. secret: the auth token; url: the statusCallback Twilio calls.
  WebhookRoute twilio{{}, "x-twilio-signature", 300, {}};
  StripeWebhookOptions stripe_options;
  // POST /v1/webhooks/notifications/{channel}: delivery status callbacks, recorded by
  // `notifier` (and forwarded to the CRM).
  WebhookRoute notifications;
  std::shared_ptr<Notifier> notifier;
  // RabbitMQ consumers: their state, counts and queue depth in /health/ready (`queues`)
  // and /metrics (ordo_queue_*). Null: none.
  std::shared_ptr<const QueueConsumers> queues;
  // The event publisher: /health/ready (`events`) and /metrics (ordo_events_*). Null: none.
  std::shared_ptr<const EventPublisher> events;
  // GET /metrics also writes these (not owned; null: left out).
  const Telemetry* telemetry = nullptr;
  const KpiMonitor* kpis = nullptr;
  // Requests handled at once; more get 503 with Retry-After (0: no limit). /health and
  // /health/ready are always answered.
  int max_in_flight = 0;
  // GET /health/ready: whether the service can do its work beyond answering (the worker
  // runs); null: ready whenever the database answers.
  std::function<Status()> ready;
  // Job types of the deployed processes that nothing in this service handles: their jobs
  // wait for external workers. Listed by /health/ready (`unhandledJobTypes`) and counted by
  // /metrics (ordo_job_types_unhandled). Null: not known (left out).
  std::function<std::vector<std::string>()> unhandled_job_types;
  // Whether this server's own worker handles a job type (an adapter or the simulated world):
  // a worker token fetches such jobs only when its jobTypes name them. Null: none is.
  std::function<bool(std::string_view)> handled_here;
  // Called after POST /v1/deployments deployed a new version, with the engine it used (still
  // held by the API for the call).
  std::function<void(const Engine&)> on_deployed;
};

// Reads the config's "server" section: {"tokens": [{"token": "...", "scopes": [...]}],
// "maxBodyBytes": N, "maxInFlight": N, "maxConnections": N, "maxConnectionsPerPeer": N,
// "webhooks": {"payment": {"secret", "signatureHeader",
// "messageName", "timeToLive"}, "notifications": {"secret", "signatureHeader"}}, "alerts":
// {...} (kpi.h)}. Errors name the key.
struct ServerSettings {
  ApiOptions api;
  AlertSettings alerts;
  std::size_t max_body_bytes = 1 << 20;
  int max_in_flight = 64;
  int max_connections = 1024;         // ListenOptions::max_connections
  int max_connections_per_peer = 128;
  // The engine's limits (EngineOptions::max_call_depth, max_multi_instance,
  // multi_instance_batch).
  std::uint32_t max_call_depth = EngineOptions{}.max_call_depth;
  std::uint64_t max_multi_instance = EngineOptions{}.max_multi_instance;
  std::uint32_t multi_instance_batch = EngineOptions{}.multi_instance_batch;
};
Result<ServerSettings> read_server_settings(const nlohmann::json& section);

class Api {
 public:
  Api(Engine& engine, ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // The answer to `request`, given to `reply` exactly once: before handle() returns for
  // every request but a long poll of an external worker that finds no job. Such a poll is
  // parked (it holds no thread) and answered later from the API's one poller thread, when a
  // job came or its requestTimeout ended.
  using Reply = std::function<void(Response)>;
  void handle(const Request& request, Reply reply);
  // The same, waiting for the answer (tests and fuzzing).
  Response handle(const Request& request);
  // Before the body is read (its method, path and headers only): the refusal of a request
  // that has no right to send one, or nothing. Counted in the metrics like any answer.
  std::optional<Response> refuse_before_body(const Request& request);
  // Ends the long polls of external workers at once (the server is stopping): each is
  // answered with no jobs, and close() returns once the poller has let go of every one (a
  // reply may hold the connection it answers).
  void close();
  // The transport refused a connection or request itself, for `reason` ("connections",
  // "slow", "head-too-large", "body-too-large", "malformed"): counted in /metrics.
  void count_refused(std::string_view reason);

 private:
  // A route that parks the request (a long poll) moves `*reply` away and answers this.
  static constexpr int kParked = 0;
  Response dispatch(const Request& request, const std::vector<std::string_view>& seg,
                    Reply* reply);
  std::optional<Response> admit(const Request& request,
                                const std::vector<std::string_view>& seg) const;
  // The configured token the request carries, if any.
  const Token* token_of(const Request& request) const;
  // Why the request's token may not fetch jobs of `type`, or "" when it may.
  std::string may_not_fetch(const Request& request, std::string_view type) const;
  Response route(const Request& request);
  Response webhook(const Request& request, std::string_view kind, std::string_view channel);
  // GET /t/o/{token} (the open pixel) and /t/c/{token} (a click: 302 to the link).
  Response tracking(const Request& request, std::string_view kind, std::string_view token);
  Response metrics();
  Response processes();
  // /v1/decisions and DMN deployments (decisions.cc).
  Response deploy_decisions(const std::string& name, const std::string& xml);
  Response decisions(const Request& request, const std::vector<std::string_view>& seg);
  Response element_statistics(std::string_view process_id, int version);
  Response dashboard();
  Response readiness();
  // POST /v1/process-instances and /v1/messages (grouped.cc): parsed here, then run in the
  // next group commit with the requests that arrive meanwhile.
  struct Grouped;
  Response start(const Request& request);
  Response publish(const Request& request);
  Result<MessageResult> publish_grouped(Message message);
  void submit(Grouped& request);
  void run_group(std::vector<Grouped*>& group);
  // /v1/jobs: external workers (jobs.cc). A fetch that finds nothing may park (a long poll).
  Response jobs(const Request& request, const std::vector<std::string_view>& seg, Reply* reply);
  struct Poll {
    FetchRequest fetch;
    std::chrono::steady_clock::time_point deadline;
    std::uint64_t seen = 0;  // the jobs generation of its last look
    std::string types;       // its job types, sorted and joined: polls alike look once a round
    std::string method;      // for the metrics
    std::string path;
    Reply reply;
  };
  void poll_loop();
  void count(const Request& request, const std::vector<std::string_view>& seg, int status);
  Engine& engine_;
  ApiOptions options_;
  std::atomic<int> in_flight_{0};
  std::atomic<std::uint64_t> tracking_unrecorded_{0};
  std::mutex experiments_mu_;
  nlohmann::json experiments_report_;  // GET /v1/notifications/experiments, kept 15 s
  std::chrono::steady_clock::time_point experiments_at_;
  // Parked long polls look again when the API may have created jobs (jobs_generation_
  // moved on), every quarter second (another process may have), at their deadline, and
  // when the API closes. The poller thread starts with the first parked poll.
  void jobs_may_exist();
  std::mutex poll_mu_;
  std::condition_variable jobs_cv_;
  std::uint64_t jobs_generation_ = 0;       // under poll_mu_
  std::atomic<bool> closing_{false};        // set under poll_mu_
  std::vector<std::unique_ptr<Poll>> polls_;  // under poll_mu_
  std::thread poller_;
  // Group commit: requests waiting for the next transaction, and whether a thread is running
  // one (the leader); followers wait on group_cv_ until theirs is done.
  std::mutex group_mu_;
  std::condition_variable group_cv_;
  std::vector<Grouped*> waiting_;
  bool leading_ = false;
  std::mutex metrics_mu_;
  // (route, method, status) -> requests; webhook kind -> rejected signatures
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, std::uint64_t> webhook_rejections_;
  std::map<std::string, std::uint64_t, std::less<>> refused_;  // transport refusals by reason
};

// {"error": {"status": N, "message": "..."}}
Response error_response(int status, const std::string& message);

}  // namespace ordo::server
