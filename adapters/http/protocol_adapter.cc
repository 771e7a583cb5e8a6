// Settings and job variables of the fixed-protocol adapters (ERP, payment).
#include "protocol_adapter.h"

#include <memory>

#include "http_client.h"

namespace ordo::adapters {
namespace {

using nlohmann::json;

std::string names(std::span<const Operation> operations) {
  std::string out;
  for (const Operation& o : operations) out += (out.empty() ? "" : ", ") + std::string(o.name);
  return out;
}

}  // namespace

Result<TaskHandler> make_protocol_adapter(const json& settings, const std::string& where,
                                          std::string_view adapter,
                                          std::span<const Operation> operations,
                                          const Profile* profile) {
  if (!settings.is_object()) return bad_setting(where, "must be a JSON object of settings");
  const auto op = settings.find("operation");
  if (op == settings.end() || !op->is_string()) {
    return bad_setting(where + ".operation",
                       "is missing: say which operation of the " + std::string(adapter) +
                           " adapter this task type does (" + names(operations) + ")");
  }
  const Operation* operation = nullptr;
  for (const Operation& o : operations) {
    if (o.name == op->get<std::string>()) operation = &o;
  }
  if (operation == nullptr) {
    return bad_setting(where + ".operation", "unknown operation '" + op->get<std::string>() +
                                                 "' of the " + std::string(adapter) +
                                                 " adapter (known: " + names(operations) + ")");
  }
  ProtocolSettings s;
  s.where = where;
  s.error_code = std::string(operation->default_error_code);
  const std::string_view op_name = operation->name;
  const bool has_error_code = !operation->default_error_code.empty();
  Status read = read_settings(
      settings, where, "operation", s.call,
      [&](const std::string& key, const json& value, const std::string& at) -> Status {
        if (key == "baseUrl") {
          if (!value.is_string()) return bad_setting(at, "must be a string");
          s.base_url = value.get<std::string>();
          if (s.base_url.rfind("http://", 0) != 0 && s.base_url.rfind("https://", 0) != 0) {
            return bad_setting(at,
                               "must start with http:// or https://, not \"" + redact_url(s.base_url) + "\"");
          }
          while (s.base_url.size() > 8 && s.base_url.back() == '/') s.base_url.pop_back();
        } else if (key == "errorCode" && has_error_code) {
          if (!value.is_string() || value.get<std::string>().empty()) {
            return bad_setting(at, "must be a non-empty string: the BPMN error code " +
                                       std::string(op_name) + " throws");
          }
          s.error_code = value.get<std::string>();
        } else if (key == "errorCode") {
          return bad_setting(at, "is not a setting of the " + std::string(op_name) +
                                     " operation: it throws no BPMN error");
        } else if (profile != nullptr && profile->read &&
                   (", " + std::string(profile->setting_names) + ", ").find(", " + key + ", ") !=
                       std::string::npos) {
          return profile->read(key, value, at, s);
        } else {
          return bad_setting(at, "is not a setting of the " + std::string(adapter) +
                                     " adapter (adapter, operation, baseUrl, " +
                                     (has_error_code ? "errorCode, " : "") +
                                     (profile != nullptr ? std::string(profile->setting_names) + ", "
                                                         : std::string()) +
                                     std::string(kCallSettingNames) + ")");
        }
        return Status::ok();
      });
  if (!read) return read;
  if (s.base_url.empty() && profile != nullptr) s.base_url = std::string(profile->default_base_url);
  if (profile != nullptr && profile->check) {
    if (Status c = profile->check(s); !c) return c;
  }
  if (s.base_url.empty()) {
    return bad_setting(where + ".baseUrl", "is missing: say where the " + std::string(adapter) +
                                               " answers (e.g. https://" + std::string(adapter) +
                                               ".example/v1)");
  }
  auto shared = std::make_shared<const ProtocolSettings>(std::move(s));
  auto handle = operation->handle;
  return TaskHandler([shared, handle](const Job& job) { return handle(*shared, job); });
}

JobOutcome post(const ProtocolSettings& s, const Job& job, const std::string& path, json body,
                const AnswerMapper& map) {
  Request request;
  request.url = s.base_url + path;
  request.body = std::move(body);
  return call(s.call, s.where, job, request, map);
}

const json* given(const Job& job, std::string_view name) {
  const json* v = job.variable(name);
  return v == nullptr || v->is_null() ? nullptr : v;
}

std::optional<std::string> id_text(const json* value) {
  if (value == nullptr) return std::nullopt;
  if (value->is_string() && !value->get<std::string>().empty()) return value->get<std::string>();
  if (value->is_number_integer()) return value->dump();
  return std::nullopt;
}

std::string order_id(const Job& job) {
  if (auto id = id_text(given(job, "orderId"))) return *id;
  return std::string(job.business_key());
}

json order_body(const Job& job, std::initializer_list<const char*> optional) {
  json body = {{"orderId", order_id(job)}};
  for (const char* name : optional) {
    if (const json* v = given(job, name)) body[name] = *v;
  }
  return body;
}

JobOutcome bad_variable(const ProtocolSettings& s, std::string_view name,
                        std::string_view problem) {
  return JobOutcome::incident(s.where + ": variable " + std::string(name) + " " +
                              std::string(problem));
}

}  // namespace ordo::adapters
