// Logging: the lines `ordo serve` writes, as text for people or as JSON for log collectors,
// and an observer that logs what happens to process instances (docs/operations.md, Logs).
//
// Everything goes through spdlog. set_log_format() installs a formatter on spdlog's default
// logger and on every logger registered with spdlog, now or later; library and adapter code
// that logs plain text through spdlog needs no change. Structured lines come from
// log_event(): a message plus fields (instance, businessKey, job, ...), which the JSON format
// merges into the line's object and the text format appends as key=value pairs.
//
// How the fields reach the formatter: spdlog passes formatters nothing but a message, so
// log_event() frames them into it in the manner of JSON text sequences (RFC 7464): the
// record separator byte 0x1E, the message, 0x1E again, then the fields as one JSON object.
// Our formatters recognise a message that starts with 0x1E and whose text after its last
// 0x1E parses as a JSON object, and strip the framing; JSON escapes every control character,
// so the fields never contain a raw 0x1E. Any other message is an ordinary one. A formatter
// that is not ours shows the framing as it is (readable, but not pretty): call
// set_log_format() before logging.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "ordo/history.h"
#include "ordo/log.h"
#include "ordo/observer.h"

namespace spdlog {
class logger;
namespace level {
enum level_enum : int;
}
}  // namespace spdlog

namespace ordo::server {

enum class LogFormat {
  // spdlog's own pattern ("[2026-12-01 10:00:00.000] [info] message", local time); fields of
  // log_event() follow the message as key=value, strings quoted (JSON-escaped) when they
  // are empty or contain spaces, quotes, '=' or control characters.
  kText,
  // One JSON object per line: {"time": "2026-12-01T10:00:00.000Z" (UTC), "level": "info",
  // "logger": name (only when not empty), "message", ...the fields of log_event()}. Fields
  // named time, level, logger or message are left out (the line's own win). Invalid UTF-8
  // is replaced by U+FFFD.
  kJson,
};

// Installs the format on spdlog's default logger, every logger registered with spdlog and
// those registered later (spdlog::set_formatter), replacing whatever pattern they had. Call
// it once at start-up, before other threads log; thread-safe as spdlog's registry is.
void set_log_format(LogFormat format);

// A logger named `name` (the "logger" field) writing to the default logger's sinks, in the
// format set_log_format() installs, now or later. Registered with spdlog: the same name
// gives the same logger. It keeps the sinks the default logger had when it was made.
std::shared_ptr<spdlog::logger> named_logger(const std::string& name);

// What the library reports (ordo::LogFunction) as lines of the logger named `name`
// (named_logger), at the same level.
LogFunction library_log(const std::string& name);

// Logs `message` with `fields` (a JSON object; anything else is logged under "fields") at
// `level` through `logger` (the default logger when not given). Does nothing, cheaply, when
// the logger does not log `level`. Never throws.
void log_event(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view message,
               const nlohmann::json& fields);
void log_event(spdlog::level::level_enum level, std::string_view message,
               const nlohmann::json& fields);

// Asked for the business key of an instance whose start InstanceLog did not see (it started
// before a restart, or in another process); "" when it has none. Called under InstanceLog's
// lock, so never twice at once, from the observer: it may read the engine being observed
// (Engine::instance). Exceptions are caught (the line is logged without the key).
using BusinessKeyLookup = std::function<std::string(InstanceId)>;

struct InstanceLogOptions {
  // Where the lines go; null: spdlog's default logger at the time of each line.
  std::shared_ptr<spdlog::logger> logger;
  // Null: instances whose start was not seen are logged without their business key.
  BusinessKeyLookup lookup;
  // Business keys remembered (from start to end, or from a lookup to the end); beyond this
  // many, an arbitrary one is forgotten (and looked up again when needed).
  std::size_t max_remembered = 100'000;
};

// An observer that logs what operators need to know about instances, one log_event() line
// each, with the fields instance, businessKey (when the instance has one), process, element
// (when the event concerns one) and job (job events):
//   info   "instance started" (parent: the calling instance, if any),
//          "instance completed" (element: its end event), "instance terminated",
//          "job threw an error" (code), "job deferred" (reason, until),
//          "incident resolved" (incident), "message correlated" (messageName, correlationKey)
//   warn   "job failed" (error: the worker's message, retriesLeft)
//   error  "incident raised" (incident, error: the incident's message)
//   debug  every other event, the message being its kind ("element-activated", ...)
// Business keys come from the instance-started events (their detail), else from the lookup.
//
// Thread-safe: add one InstanceLog to every engine of the process (ordo serve: the API's and
// the worker's), so a key learnt from one engine's start serves the other's events.
class InstanceLog final : public Observer {
 public:
  explicit InstanceLog(InstanceLogOptions options = {});
  ~InstanceLog() override;
  InstanceLog(const InstanceLog&) = delete;
  InstanceLog& operator=(const InstanceLog&) = delete;

  void on_event(const HistoryEvent& event) override;

 private:
  // The instance's business key ("" for none): learnt from its start, remembered, or (when
  // `needed`) looked up. Forgotten when the event ends the instance.
  std::string business_key(const HistoryEvent& event, bool needed);
  void remember(InstanceId instance, const std::string& key);  // under mu_

  InstanceLogOptions options_;
  std::mutex mu_;
  std::unordered_map<InstanceId, std::string> keys_;
};

}  // namespace ordo::server
