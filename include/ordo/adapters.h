// Adapters: task handlers that do a job's work in another system (docs/adapters.md).
//
// Each adapter is made from its settings (its object in ordo.json) and checked then: a
// setting of the wrong type, a missing URL or an expression that does not compile is an
// error naming the setting. The handler it returns may be called from several threads.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/status.h"
#include "ordo/task_handler.h"

namespace ordo {

// The generic HTTP adapter: JSON over HTTP (libcurl).
//   method           "POST" (GET, PUT, PATCH, DELETE)
//   url              required; text, or a FEEL expression "=..." over the job's variables
//   body             FEEL expression giving the JSON body; default: the job's variables
//                    (none for GET and DELETE)
//   headers          {name: text or "=..."}
//   output           {variable: FEEL expression over `response` ({status, body, headers})
//                    and the job's variables}; default: the fields of a JSON object body
//   connectTimeoutMs 2000;  timeoutMs 10000
//   errorCode        a 4xx answer throws this BPMN error; absent: a 4xx is an incident
//   retryBackoffMs   backoff after a 5xx, a timeout or a connection failure (retried while
//                    the job has retries); 0: the engine's default
// Every request carries `Idempotency-Key: <the job's idempotency key>`, the same on every
// retry and after a crash, so the other side can drop repeats. An answer that is not the
// JSON the output needs is an incident quoting the start of the body.
// `where` names the adapter in errors, e.g. "adapters.erp.check-availability".
Result<TaskHandler> make_http_adapter(const nlohmann::json& settings, const std::string& where);

// Webhook signatures, as payment providers send them: HMAC-SHA256 of the raw body with a
// shared secret, in hex. `signature` may carry a "sha256=" prefix and upper-case hex. The
// comparison takes the same time whatever differs; an empty secret accepts nothing.
bool verify_webhook_signature(std::string_view body, std::string_view secret,
                              std::string_view signature);
// The signature of `body` as "sha256=<hex>" (for peers and tests).
std::string webhook_signature(std::string_view body, std::string_view secret);

class Notifier;  // notifications.h

// The adapters of a configuration file (ordo.json):
//   {"adapters": {"<task type>": {"adapter": "http" | "notify" | "simulated", ...settings}},
//    "notifications": {...}}   (docs/notifications.md; "notify" adapters need it)
// Relative paths in the file (templates, the delivery log) are relative to its directory.
// Any string may contain ${env:NAME}, replaced by that environment variable (secrets stay
// out of the file). Errors name the key: an unknown adapter or top-level section, a missing
// URL, an unset variable, a file that is not JSON (with its line and column).
struct AdapterConfig {
  // Handlers by task type; the "simulated" ones are absent (the caller's default answers).
  std::map<std::string, TaskHandler> handlers;
  std::vector<std::string> simulated;  // task types the file leaves to the simulation
  // The notifications section's Notifier (its delivery log, provider status callbacks), or
  // null without one.
  std::shared_ptr<Notifier> notifier;
};
// `environment` looks a variable up (default: getenv); it returns false when it is unset.
using Environment = std::function<bool(const std::string& name, std::string& value)>;
Result<AdapterConfig> load_adapter_config(const std::string& path, Environment environment = {});
Result<AdapterConfig> parse_adapter_config(const std::string& text, const std::string& file,
                                           Environment environment = {});

}  // namespace ordo
