// Task handlers: the code that does the work of service, send, user and business rule tasks.
//
// Each such task creates a job of the task's type. A handler registered for that type
// (Engine::register_handler) is called with the job and answers with a JobOutcome: complete
// (with output variables), fail (retryable, with a message and a backoff), a BPMN error (a
// business outcome such as PAYMENT_DECLINED, caught by an error boundary event), or pending
// (the handler will answer later through Engine::complete_job and friends). Jobs of a type
// with no handler stay open for an external worker.
//
// Side effects must be idempotent on Job::idempotency_key: the same job may be handed out
// again after a crash or a retry, with the same key and a higher attempt number.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ordo/definition.h"
#include "ordo/history.h"

namespace ordo {

// The job type of user tasks (as in Camunda 8): complete them through the API, or register a
// handler for this type.
inline constexpr std::string_view kUserTaskJobType = "io.camunda.zeebe:userTask";

// What a handler sees. Valid only during the handler call.
class Job {
 public:
  virtual ~Job() = default;
  virtual JobKey key() const noexcept = 0;
  virtual InstanceId instance() const noexcept = 0;
  virtual std::string_view type() const noexcept = 0;
  virtual std::string_view process_id() const noexcept = 0;
  virtual std::string_view element_id() const noexcept = 0;
  virtual std::string_view business_key() const noexcept = 0;
  // Stable for this job across retries and restarts; pass it to outside systems.
  virtual std::string_view idempotency_key() const noexcept = 0;
  virtual int attempt() const noexcept = 0;       // 1 for the first try
  virtual int retries_left() const noexcept = 0;  // counting this attempt
  // The engine's clock now (virtual time in simulations): use it, not the wall clock, for
  // anything time-of-day (quiet hours, rate caps).
  virtual std::int64_t now_ms() const noexcept = 0;
  virtual std::span<const TaskHeader> headers() const noexcept = 0;
  // The header's value, or empty.
  std::string_view header(std::string_view key) const noexcept;
  // One variable as the task sees it (its input mappings first, then enclosing scopes), or
  // null. Cheap: no copy.
  virtual const nlohmann::json* variable(std::string_view name) const = 0;
  // Every variable the task sees, merged into one object (a copy).
  virtual nlohmann::json variables() const = 0;
};

class JobOutcome {
 public:
  enum class Kind : std::uint8_t { kComplete, kFail, kError, kPending, kDefer, kEscalate };

  static JobOutcome complete(nlohmann::json variables = nlohmann::json::object()) {
    return JobOutcome(Kind::kComplete, {}, {}, std::move(variables), 0);
  }
  // Retryable failure: the job is retried after `backoff_ms` (0: the engine's backoff) while
  // retries remain, then becomes an incident carrying `message`. `retries`: how many the job
  // has left from now on (0: an incident at once); negative: one less than before.
  static JobOutcome fail(std::string message, std::int64_t backoff_ms = 0, int retries = -1) {
    JobOutcome o(Kind::kFail, {}, std::move(message), nullptr, backoff_ms);
    o.retries_ = retries;
    return o;
  }
  // A failure no retry can fix (a malformed answer, a request the other side refuses): the
  // job becomes an incident carrying `message` at once, whatever retries it had left.
  static JobOutcome incident(std::string message) {
    JobOutcome o(Kind::kFail, {}, std::move(message), nullptr, 0);
    o.no_retry_ = true;
    return o;
  }
  // A BPMN error with `code`, caught by the nearest matching error boundary event or event
  // subprocess; uncaught, it becomes an incident.
  static JobOutcome error(std::string code, std::string message = {},
                          nlohmann::json variables = nlohmann::json::object()) {
    return JobOutcome(Kind::kError, std::move(code), std::move(message), std::move(variables),
                      0);
  }
  // Not now: the job waits, durably, and is handed out again `delay_ms` from now (quiet
  // hours, a rate cap). Neither a retry nor an attempt is used; history records `reason`.
  static JobOutcome defer(std::int64_t delay_ms, std::string reason) {
    return JobOutcome(Kind::kDefer, {}, std::move(reason), nullptr, delay_ms);
  }
  // The handler answers later through the Engine API.
  static JobOutcome pending() { return JobOutcome(Kind::kPending, {}, {}, nullptr, 0); }
  // A BPMN escalation with `code` from the task, as an escalation end event would throw it
  // (`variables` are set where it is caught): an interrupting catch ends the task and its
  // job; a non-interrupting catch, or none, leaves the job open and this handler's, which
  // answers it later through the Engine API, as after pending().
  static JobOutcome escalate(std::string code,
                             nlohmann::json variables = nlohmann::json::object()) {
    return JobOutcome(Kind::kEscalate, std::move(code), {}, std::move(variables), 0);
  }

  Kind kind() const noexcept { return kind_; }
  const std::string& error_code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  nlohmann::json& variables() noexcept { return variables_; }
  std::int64_t backoff_ms() const noexcept { return backoff_ms_; }  // fail: backoff; defer: delay
  bool no_retry() const noexcept { return no_retry_; }
  int retries() const noexcept { return no_retry_ ? 0 : retries_; }  // fail: see fail()

 private:
  JobOutcome(Kind k, std::string code, std::string message, nlohmann::json vars,
             std::int64_t backoff)
      : kind_(k),
        code_(std::move(code)),
        message_(std::move(message)),
        variables_(std::move(vars)),
        backoff_ms_(backoff) {}
  Kind kind_;
  std::string code_;
  std::string message_;
  nlohmann::json variables_;
  std::int64_t backoff_ms_;
  bool no_retry_ = false;
  int retries_ = -1;
};

// A handler. An exception escaping it counts as fail(what()).
using TaskHandler = std::function<JobOutcome(const Job&)>;

}  // namespace ordo
