// The call layer under every adapter that speaks JSON over HTTP (internal: not part of the
// public API). The generic http adapter and the ERP and payment adapters each build one
// job's request and map the answer; this layer does everything else, the same way for all:
//
//   headers      Content-Type and Accept application/json, Idempotency-Key: the job's key
//                (the same on every retry and after a crash), then the configured headers
//   transport    connectTimeoutMs, timeoutMs (libcurl)
//   a refused or broken connection, a timeout, 5xx, 408, 429
//                -> fail, retried after retryBackoffMs while the job has retries, or after
//                   the answer's Retry-After (seconds) when that is longer
//   1xx, 3xx     -> incident
//   2xx whose body is not JSON -> incident quoting the start of the body
//   2xx with a JSON body (or none), and every other 4xx -> the adapter's AnswerMapper
//
// Thread safety: everything here is safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "expr/expr.h"
#include "ordo/status.h"
#include "ordo/task_handler.h"

namespace ordo::adapters {

// ---- settings, checked when an adapter is made ----

// "<where>: <why>" as kInvalidArgument.
Status bad_setting(const std::string& where, const std::string& why);

// A setting that is plain text or a FEEL expression ("=...").
struct Text {
  std::string text;
  std::shared_ptr<const CompiledExpression> feel;  // set for "=..."
};
// Compiles "=..." (the text with its '='); an error names `where` and the character.
Result<std::shared_ptr<const CompiledExpression>> compile_feel(const std::string& text,
                                                               const std::string& where);
Result<Text> text_setting(const nlohmann::json& value, const std::string& where);
Result<std::int64_t> ms_setting(const nlohmann::json& value, const std::string& where);

// The settings every HTTP adapter takes, whatever its protocol.
struct CallSettings {
  std::vector<std::pair<std::string, Text>> headers;  // {name: text or "=..."}
  std::int64_t connect_timeout_ms = 2000;
  std::int64_t timeout_ms = 10000;
  std::int64_t retry_backoff_ms = 0;  // 0: the engine's backoff
};
inline constexpr std::string_view kCallSettingNames =
    "headers, connectTimeoutMs, timeoutMs, retryBackoffMs";
// Walks an adapter's settings object: skips "adapter" and `skip`, reads kCallSettingNames
// into `call`, and hands every other key to `other` with its name in errors ("<where>.<key>"),
// which answers an error for a key it does not know. Errors name the key.
using SettingReader = std::function<Status(const std::string& key, const nlohmann::json& value,
                                           const std::string& at)>;
Status read_settings(const nlohmann::json& settings, const std::string& where,
                     std::string_view skip, CallSettings& call, const SettingReader& other);

// ---- running a job ----

// The job's variables for expressions, with `response` in front when there is one.
class JobVariables final : public expr::Variables {
 public:
  JobVariables(const Job& job, const nlohmann::json* response) : job_(job), response_(response) {}
  const nlohmann::json* find(std::string_view name) const override;

 private:
  const Job& job_;
  const nlohmann::json* response_;
};
// Evaluates with now() as the system clock's time.
Result<nlohmann::json> evaluate_now(const CompiledExpression& e, const expr::Variables& vars);
// The text, or what its expression gives (a string as it is, anything else as JSON).
Result<std::string> render(const Text& t, const expr::Variables& vars);

// What an adapter asks for; the layer adds the headers.
struct Request {
  std::string method = "POST";
  std::string url;
  std::optional<nlohmann::json> body;  // none: the request has no body
  // A form-encoded body instead of JSON (application/x-www-form-urlencoded), as Stripe and
  // Twilio take them: form_encode()'s text.
  std::optional<std::string> form;
  // Headers of the protocol (Authorization), before the configured ones.
  std::vector<std::pair<std::string, std::string>> headers;
  // Appended to the job's idempotency key, for a job that makes a second, different request
  // (a cancel that turns into a refund): a provider refuses one key for two requests.
  std::string idempotency_suffix;
};

// `fields` as application/x-www-form-urlencoded text, in order (names as given, so nested
// ones are written "metadata[orderId]").
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

// An answer the layer hands to the adapter's mapper.
struct Reply {
  long status = 0;
  nlohmann::json body;  // the parsed body; null when empty; the raw text when not JSON
  bool is_json = true;  // false: `body` is the raw text
  std::map<std::string, std::string> headers;  // names in lower case
  std::string said;                            // "POST <url> answered 409", to start messages with
  std::string start;                           // the start of the raw body, to quote in messages

  // {status, headers, body}: the `response` FEEL expressions see.
  nlohmann::json response() const;
  // The body's field `name` when the body is a JSON object that has it, else null.
  const nlohmann::json* field(std::string_view name) const;
};

using AnswerMapper = std::function<JobOutcome(const Reply&)>;

// Sends `request` for `job` and settles the answer as above; `map` sees the rest. `where`
// names the adapter in messages (e.g. "adapters.erp.reserve").
JobOutcome call(const CallSettings& settings, const std::string& where, const Job& job,
                const Request& request, const AnswerMapper& map);

// Outcomes mappers share.
// An incident for a 4xx nobody handles: what was said, the body, and `advice`.
JobOutcome refused(const Reply& reply, std::string_view advice);
// An incident for a 2xx answer that is not what the protocol says: `what_is_wrong` (e.g.
// "has no reservationId") and the start of the body.
JobOutcome malformed(const Reply& reply, std::string_view what_is_wrong);

// `value` percent-encoded as one path segment (an id inside a URL).
std::string path_segment(std::string_view value);

}  // namespace ordo::adapters
