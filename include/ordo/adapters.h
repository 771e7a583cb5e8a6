// Adapters: task handlers that do a job's work in another system (docs/adapters.md).
//
// Each adapter is made from its settings (its object in ordo.json) and checked then: a
// setting of the wrong type, a missing URL or an expression that does not compile is an
// error naming the setting. The handler it returns may be called from several threads.
#pragma once

#include <string>

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

}  // namespace ordo
