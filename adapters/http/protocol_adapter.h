// Adapters that speak one fixed JSON protocol under a base URL, one operation per task type
// (the ERP and payment adapters; internal, not part of the public API). Their settings:
//   adapter, operation (required), baseUrl (required, http:// or https://), errorCode (only
//   for operations that throw a BPMN error; they have a default), and the call settings
//   (headers, connectTimeoutMs, timeoutMs, retryBackoffMs).
// The request of each operation is built in C++ from the job's variables and the answer
// mapped in C++; sending and classifying is the call layer's (http_call.h).
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "http_call.h"
#include "ordo/status.h"
#include "ordo/task_handler.h"

namespace ordo::adapters {

struct ProtocolSettings {
  std::string where;     // "adapters.<task type>", for messages
  std::string base_url;  // without a trailing '/'
  std::string error_code;
  CallSettings call;
  // The settings of a provider's profile (Stripe's apiKey, ...), as read by its Profile.
  nlohmann::json profile = nlohmann::json::object();
};

// A provider profile's own settings beyond the common ones: the names it reads, a reader
// that checks each (and may store it in ProtocolSettings::profile), a check once all are
// read (required ones), and the base URL when the file gives none (the provider's API).
struct Profile {
  std::string_view setting_names;  // for messages: "apiKey, captureMethod"
  std::function<Status(const std::string& key, const nlohmann::json& value, const std::string& at,
                       ProtocolSettings& s)>
      read;
  std::function<Status(const ProtocolSettings& s)> check;
  std::string_view default_base_url;
};

struct Operation {
  std::string_view name;
  JobOutcome (*handle)(const ProtocolSettings&, const Job&);
  // The BPMN error code the operation throws unless errorCode says another; empty: it
  // throws none, and errorCode is not one of its settings.
  std::string_view default_error_code = {};
};

// Checks the settings (errors name the key: a missing baseUrl, an unknown operation listing
// the known ones, an unknown setting) and returns the handler of the chosen operation.
// `adapter` is the adapter's name in ordo.json ("erp", "payment").
Result<TaskHandler> make_protocol_adapter(const nlohmann::json& settings, const std::string& where,
                                          std::string_view adapter,
                                          std::span<const Operation> operations,
                                          const Profile* profile = nullptr);

// POSTs `body` to base URL + `path` through the call layer.
JobOutcome post(const ProtocolSettings& s, const Job& job, const std::string& path,
                nlohmann::json body, const AnswerMapper& map);

// ---- the job's variables ----

// The variable when the job sees it and it is not null; else null.
const nlohmann::json* given(const Job& job, std::string_view name);
// The order's id: the variable orderId (text, or a whole number as its text), else the
// job's business key; empty when there is neither.
std::string order_id(const Job& job);
// {"orderId": order_id(job)}, plus the variables named in `optional` that the job has.
nlohmann::json order_body(const Job& job, std::initializer_list<const char*> optional);
// An id as text: a non-empty string, or a whole number as its text; nullopt otherwise.
std::optional<std::string> id_text(const nlohmann::json* value);
// The incident for a variable the operation needs: "<where>: variable <name> <problem>".
JobOutcome bad_variable(const ProtocolSettings& s, std::string_view name, std::string_view problem);

}  // namespace ordo::adapters
