// Simulation: run orders through a process on a virtual clock with simulated handlers.
//
// `ordo run` is built on this. Each order (a JSON object) starts one instance at its own
// time; simulated handlers answer each job from the order's own fields, and the simulation
// publishes the messages an outside system would (payment confirmations, deliveries).
// Deterministic: the same orders give the same results, byte for byte.
//
// The simulated handlers and the order fields they read (with defaults) are documented in
// docs/running-orders.md:
//   erp.check-availability  -> available (true)
//   erp.reserve / erp.release / erp.handover -> complete
//   payment.charge          -> paymentOutcome: "approved" (default), "declined" (BPMN error
//                              PAYMENT_DECLINED), "failed" (confirmed as failed), "timeout"
//                              (never confirmed); paymentDelayMinutes (2)
//   payment.cancel          -> paymentCancellation: "none" without a paymentId or when the
//                              payment was confirmed as failed, "refunded" when approved,
//                              "voided" otherwise (a charge never confirmed)
//   erp.ship                -> trackingNumber; delivered (true), deliveryDays (2)
//   notify.send             -> records a notification (template and channel from headers,
//                              locale and recipient from the order's customer)
//   failTask: "<job type>"  -> that job fails on every attempt (an incident)
//   any other job type      -> completes with no variables
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/engine.h"
#include "ordo/status.h"

namespace ordo {

struct Notification {
  std::string order_id;
  std::string template_id;
  std::string channel;
  std::string locale;
  std::string recipient;
  std::int64_t time_ms = 0;
};

// A message the simulated world publishes at a time. Its id is derived from the job that
// caused it, so publishing it again (after a crash) is recognised as a duplicate.
struct Publication {
  std::int64_t time_ms = 0;
  std::string message_id;
  std::string name;
  std::string correlation_key;
  nlohmann::json variables;
};

// The message to publish for a publication, waiting `ttl_ms` for a subscription that is not
// open yet.
Message to_message(Publication&& publication, std::int64_t ttl_ms);

// The simulated outside world: answers jobs from the order's fields (above), and records the
// side effects it would have (messages to publish later, notifications sent). Every side
// effect is keyed by the job's idempotency key, so a job handled twice (a retry after a
// crash) has its effects once. With an effects log, each effect is appended to the file
// before the handler returns, and opening the log again restores them.
// Thread-safe: handlers may run on several threads.
class SimulatedWorld {
 public:
  explicit SimulatedWorld(const Clock& clock);
  ~SimulatedWorld();
  SimulatedWorld(const SimulatedWorld&) = delete;
  SimulatedWorld& operator=(const SimulatedWorld&) = delete;

  // Reads what an earlier run recorded in `path` (if it exists), then appends to it.
  Status open_effects_log(const std::string& path);
  // Where the world of the engine on `database` keeps its effects log: DB.effects.jsonl
  // beside an SQLite file; for a PostgreSQL URL, SCHEMA.effects.jsonl in the working
  // directory (the world's effects are this machine's, not the database's).
  static std::string effects_log_for(const std::string& database);
  // The handler for every job type: Engine::set_fallback_handler(world.handler()).
  TaskHandler handler();
  JobOutcome handle(const Job& job);
  // Publications due at or before `until_ms`, in time order, removed from the queue.
  std::vector<Publication> take_due(std::int64_t until_ms);
  std::optional<std::int64_t> next_publication() const;
  // Notifications sent, in the order they were sent (one per job).
  std::vector<Notification> notifications() const;
  // Side effects that were asked for again with a key already recorded (and not repeated).
  std::size_t repeated_effects() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

struct OrderResult {
  std::string order_id;
  InstanceId instance = 0;
  InstanceState state = InstanceState::kActive;
  std::string end_event;               // empty unless the instance completed
  std::vector<std::string> incidents;  // "type: message" of open incidents
  std::int64_t started_ms = 0;
  std::int64_t ended_ms = 0;  // 0 while running
};

struct RunSummary {
  std::vector<OrderResult> orders;  // in input order
  std::vector<Notification> notifications;
  std::map<std::string, int> by_end_event;  // "(waiting)" / "(incident)" / "(terminated)" too
  std::map<std::string, int> by_incident;   // incident type -> count
  std::map<std::string, int> notifications_by_channel;
  std::map<std::string, int> notifications_by_template;
};

struct RunOptions {
  std::string process_id;                   // empty: the only process deployed from the file
  std::string business_key_field = "orderId";
  // Orders with "placedAt" (ISO date-time) start then, and the clock starts at the earliest
  // of them; orders without it start this far apart from start_ms.
  std::int64_t start_ms = 1'796'119'200'000;  // 2026-12-01T10:00:00Z
  std::int64_t spacing_ms = 60'000;
  // Stop simulating this long after the last order started (open work stays open).
  std::int64_t horizon_ms = 90LL * 24 * 3'600'000;
  // Durable runs: the database file. Running again on the same file resumes: orders already
  // started are not started again (their order id is the business key), open jobs and due
  // timers carry on, and the side effects recorded in DATABASE.effects.jsonl are not
  // repeated. Empty: in memory.
  std::string database;
  int group_commit = 64;
  bool synchronous_full = true;
  // Caps the database at this many pages (EngineOptions::max_database_pages; 0: no cap).
  std::int64_t max_database_pages = 0;
  // Handlers by task type that replace the simulated ones (ordo run --config).
  std::map<std::string, TaskHandler> handlers;
  // Called with the engine once the process is deployed, before any order runs (the
  // adapters' AdapterConfig::attach).
  std::function<void(const Engine&)> attach;
};

// Deploys `process_file` into a fresh engine on a virtual clock, runs every order, and
// summarises. Errors: the file does not load (kInvalidDefinition), an order is not a JSON
// object (kInvalidArgument, naming its position).
Result<RunSummary> run_orders(const std::string& process_file,
                              const std::vector<nlohmann::json>& orders,
                              const RunOptions& options = {});

// Reads JSON Lines: one object per non-blank line. Errors name the line.
Result<std::vector<nlohmann::json>> read_json_lines(const std::string& path);

// The summary as one JSON document (what `ordo run --json` prints).
nlohmann::json to_json(const RunSummary& summary);

}  // namespace ordo
