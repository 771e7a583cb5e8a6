// Engine: deploy process definitions, start instances, drive them, look at them.
//
// An Engine owns deployed definitions and the state of every instance. Each public call that
// changes state is one command: it runs to the next wait state of every token it touches,
// commits the changes and history in one step, and only then notifies observers. Given the
// same commands in the same order and the same clock, the history is identical.
//
// Work that belongs to task handlers is not done inside commands: run_until_idle() hands open
// jobs to registered handlers and fires due timers until nothing more can happen now.
//
// Failures inside an instance (an expression that cannot be evaluated, no outgoing flow to
// take, an uncaught BPMN error, a job out of retries) become incidents on that instance; the
// call still returns OK and every other instance carries on. Calls return a non-OK Status
// only for what the caller got wrong: an unknown instance or job, a job already finished.
//
// Thread safety: an Engine is not thread-safe; call it from one thread (or guard it). Two
// engines share nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/clock.h"
#include "ordo/definition.h"
#include "ordo/history.h"
#include "ordo/lifecycle.h"
#include "ordo/observer.h"
#include "ordo/status.h"
#include "ordo/task_handler.h"

namespace ordo {

struct EngineOptions {
  // Where time comes from. Null: a SystemClock.
  std::shared_ptr<Clock> clock;
  // Retries of a job whose task does not say (zeebe:taskDefinition retries).
  int default_job_retries = 3;
  // Keep history events in memory so history() can return them. Observers see every event
  // either way; turn this off for long simulations that aggregate through an observer.
  bool keep_history = true;
  // Keep completed and terminated instances so instance() can report them.
  bool keep_finished_instances = true;
  // A command that moves tokens more than this many steps without reaching a wait state
  // (a loop without a wait) raises an incident instead of running forever.
  std::uint32_t max_steps_per_command = 100000;
};

struct Deployment {
  std::string process_id;
  int version = 0;           // 1, 2, ... per process id; redeploying the same content keeps it
  std::string content_hash;  // of the BPMN file the process came from
};

struct IncidentInfo {
  IncidentKey key = 0;
  InstanceId instance = 0;
  std::string element_id;
  JobKey job = 0;  // 0 unless the incident is a job out of retries
  std::string type;  // "expression", "no-outgoing-flow", "unhandled-error", "job-no-retries", ...
  std::string message;
  std::int64_t created_ms = 0;
};

struct ElementInfo {
  std::string element_id;
  ElementKind kind = ElementKind::kTask;
  ElementState state = ElementState::kActive;
};

struct InstanceInfo {
  InstanceId id = 0;
  std::string process_id;
  int version = 0;
  std::string business_key;
  InstanceState state = InstanceState::kActive;
  nlohmann::json variables;           // the process-level variables
  std::vector<ElementInfo> elements;  // element instances alive now, in activation order
  std::vector<IncidentInfo> incidents;  // open incidents
  std::string end_event;  // the last end event reached at process level, if any
  std::int64_t started_ms = 0;
  std::int64_t ended_ms = 0;  // 0 while running
  InstanceId parent = 0;      // the calling instance, for instances started by a call activity
};

struct JobInfo {
  JobKey key = 0;
  InstanceId instance = 0;
  std::string type;
  std::string element_id;
  JobState state = JobState::kCreated;
  int retries = 0;
  int attempt = 1;
  std::string idempotency_key;
  std::string last_error;
};

class Engine {
 public:
  explicit Engine(EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Deploys every process of a loaded document (LoadResult::document). Check
  // LoadResult::ok() first: a document with errors must not be deployed (deploy_file does
  // this check). Content identical to a process's latest version returns that version;
  // anything else becomes the new latest version.
  Result<std::vector<Deployment>> deploy(std::shared_ptr<const BpmnDocument> document);
  // Loads, validates and deploys a file; diagnostics are in the error message.
  Result<std::vector<Deployment>> deploy_file(const std::string& path);

  // Starts an instance of the latest version of `process_id` at its none start event.
  // `variables` must be a JSON object (or null). The instance runs to its first wait states.
  Result<InstanceId> start(std::string_view process_id,
                           nlohmann::json variables = nlohmann::json::object(),
                           std::string business_key = {});

  // Handlers, by job type. Registering a type again replaces its handler.
  void register_handler(std::string type, TaskHandler handler);
  // Called for job types with no handler of their own (none by default).
  void set_fallback_handler(TaskHandler handler);

  // Hands open jobs to their handlers and fires due timers until nothing more can happen at
  // the current time. Returns the number of jobs handled and timers fired.
  std::size_t run_until_idle();

  // Answers for jobs, from external workers or pending handlers. kNotFound for an unknown
  // job, kConflict for one that is no longer open.
  Status complete_job(JobKey job, nlohmann::json variables = nlohmann::json::object());
  Status fail_job(JobKey job, std::string message, std::int64_t backoff_ms = 0);
  Status throw_error(JobKey job, std::string code, std::string message = {},
                     nlohmann::json variables = nlohmann::json::object());

  // Correlates a message to every instance waiting for `name` with `correlation_key` (one
  // subscription per instance: the one opened first), and starts instances of processes
  // with a matching message start event. With no receiver and ttl_ms > 0 the message is
  // buffered until a subscription opens or the ttl passes. Returns how many instances
  // received or were started by it.
  Result<int> correlate_message(std::string_view name, std::string_view correlation_key,
                                nlohmann::json variables = nlohmann::json::object(),
                                std::int64_t ttl_ms = 0);

  // Terminates an instance and everything it waits for (jobs, timers, called instances).
  // An instance started by a call activity is cancelled through its root instance
  // (kConflict names it).
  Status cancel(InstanceId instance);
  // Sets process-level variables (e.g. to fix what caused an incident).
  Status set_variables(InstanceId instance, nlohmann::json variables);
  // Retries what the incident stopped: a job gets `job_retries` more retries; an element
  // re-runs the step that failed.
  Status resolve_incident(IncidentKey incident, int job_retries = 1);

  // With a VirtualClock: moves it forward and runs until idle. kInvalidArgument otherwise.
  Status advance_clock(std::int64_t ms);
  const Clock& clock() const noexcept;

  // Reading state.
  Result<InstanceInfo> instance(InstanceId id) const;
  std::vector<JobInfo> open_jobs(std::string_view type = {}) const;  // all types when empty
  std::vector<IncidentInfo> incidents() const;                         // all open incidents
  std::vector<HistoryEvent> history(InstanceId id) const;  // empty unless keep_history
  // The due time of the earliest timer (including job retry backoffs), if any.
  std::optional<std::int64_t> next_timer_due() const;

  // Observers are not owned; remove them before destroying them.
  void add_observer(Observer* observer);
  void remove_observer(Observer* observer);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ordo
