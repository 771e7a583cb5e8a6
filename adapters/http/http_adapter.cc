// The generic HTTP adapter: settings checked once, a request built per job from its
// variables, the answer classified (done, retry, BPMN error, incident) and mapped.
#include <algorithm>
#include <chrono>
#include <memory>
#include <variant>
#include <vector>

#include "expr/expr.h"
#include "http_client.h"
#include "ordo/adapters.h"

namespace ordo {
namespace {

using nlohmann::json;

// A setting that is plain text or a FEEL expression ("=...").
struct Text {
  std::string text;
  std::shared_ptr<const CompiledExpression> feel;  // set for "=..."
};

struct Settings {
  std::string method = "POST";
  Text url;
  std::shared_ptr<const CompiledExpression> body;  // null: the job's variables
  std::vector<std::pair<std::string, Text>> headers;
  std::vector<std::pair<std::string, std::shared_ptr<const CompiledExpression>>> output;
  std::int64_t connect_timeout_ms = 2000;
  std::int64_t timeout_ms = 10000;
  std::string error_code;
  std::int64_t retry_backoff_ms = 0;
};

Status bad(const std::string& where, const std::string& why) {
  return Status::invalid_argument(where + ": " + why);
}

Result<std::shared_ptr<const CompiledExpression>> compile_feel(const std::string& text,
                                                               const std::string& where) {
  auto compiled = expr::compile(ExpressionDialect::kFeel, std::string_view(text).substr(1));
  if (auto* e = std::get_if<expr::CompileError>(&compiled)) {
    return bad(where, "expression " + text + " does not compile (at character " +
                          std::to_string(e->offset + 1) + "): " + e->message);
  }
  return std::get<std::shared_ptr<const CompiledExpression>>(compiled);
}

Result<Text> text_setting(const json& value, const std::string& where) {
  if (!value.is_string()) return bad(where, "must be a string");
  Text t;
  t.text = value.get<std::string>();
  if (!t.text.empty() && t.text[0] == '=') {
    auto feel = compile_feel(t.text, where);
    if (!feel) return feel.status();
    t.feel = std::move(*feel);
  }
  return t;
}

Result<std::int64_t> ms_setting(const json& value, const std::string& where) {
  if (!value.is_number_integer() || value.get<std::int64_t>() < 0) {
    return bad(where, "must be a whole number of milliseconds, 0 or more");
  }
  return value.get<std::int64_t>();
}

Result<Settings> parse(const json& s, const std::string& where) {
  if (!s.is_object()) return bad(where, "must be a JSON object of settings");
  Settings out;
  for (const auto& [key, value] : s.items()) {
    const std::string at = where + "." + key;
    if (key == "adapter") continue;
    if (key == "method") {
      if (!value.is_string()) return bad(at, "must be a string");
      out.method = value.get<std::string>();
      std::transform(out.method.begin(), out.method.end(), out.method.begin(), ::toupper);
      static const char* kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
      if (std::none_of(std::begin(kMethods), std::end(kMethods),
                       [&](const char* m) { return out.method == m; })) {
        return bad(at, "must be GET, POST, PUT, PATCH or DELETE, not " + value.dump());
      }
    } else if (key == "url") {
      auto t = text_setting(value, at);
      if (!t) return t.status();
      if (t->text.empty()) return bad(at, "must not be empty");
      out.url = std::move(*t);
    } else if (key == "body") {
      if (!value.is_string() || value.get<std::string>().rfind('=', 0) != 0) {
        return bad(at, "must be a FEEL expression \"=...\" giving the JSON body");
      }
      auto feel = compile_feel(value.get<std::string>(), at);
      if (!feel) return feel.status();
      out.body = std::move(*feel);
    } else if (key == "headers") {
      if (!value.is_object()) return bad(at, "must be an object of header names and values");
      for (const auto& [name, v] : value.items()) {
        auto t = text_setting(v, at + "." + name);
        if (!t) return t.status();
        out.headers.emplace_back(name, std::move(*t));
      }
    } else if (key == "output") {
      if (!value.is_object()) return bad(at, "must be an object of variable names and expressions");
      for (const auto& [name, v] : value.items()) {
        if (!v.is_string() || v.get<std::string>().rfind('=', 0) != 0) {
          return bad(at + "." + name, "must be a FEEL expression \"=...\" over `response`");
        }
        auto feel = compile_feel(v.get<std::string>(), at + "." + name);
        if (!feel) return feel.status();
        out.output.emplace_back(name, std::move(*feel));
      }
    } else if (key == "connectTimeoutMs" || key == "timeoutMs" || key == "retryBackoffMs") {
      auto ms = ms_setting(value, at);
      if (!ms) return ms.status();
      (key == "connectTimeoutMs" ? out.connect_timeout_ms
       : key == "timeoutMs"      ? out.timeout_ms
                                 : out.retry_backoff_ms) = *ms;
    } else if (key == "errorCode") {
      if (!value.is_string() || value.get<std::string>().empty()) {
        return bad(at, "must be a non-empty string: the BPMN error code a 4xx answer throws");
      }
      out.error_code = value.get<std::string>();
    } else {
      return bad(at, "is not a setting of the http adapter (method, url, body, headers, output, "
                     "connectTimeoutMs, timeoutMs, errorCode, retryBackoffMs)");
    }
  }
  if (out.url.text.empty()) return bad(where + ".url", "is missing: say where to send the request");
  return out;
}

// The job's variables for expressions, with `response` in front when there is one.
class JobVariables final : public expr::Variables {
 public:
  JobVariables(const Job& job, const json* response) : job_(job), response_(response) {}
  const json* find(std::string_view name) const override {
    if (response_ != nullptr && name == "response") return response_;
    return job_.variable(name);
  }

 private:
  const Job& job_;
  const json* response_;
};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::string> render(const Text& t, const expr::Variables& vars) {
  if (!t.feel) return t.text;
  Result<json> v = expr::evaluate(*t.feel, {&vars, now_ms()});
  if (!v) return v.status();
  return v->is_string() ? v->get<std::string>() : v->dump();
}

std::string start_of(const std::string& body) {
  constexpr std::size_t kShown = 200;
  std::string s = body.substr(0, kShown);
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return body.size() > kShown ? s + "..." : s;
}

JobOutcome handle(const Settings& s, const std::string& where, const Job& job) {
  const JobVariables vars(job, nullptr);
  adapters::HttpRequest request;
  request.method = s.method;
  request.connect_timeout_ms = s.connect_timeout_ms;
  request.timeout_ms = s.timeout_ms;
  Result<std::string> url = render(s.url, vars);
  if (!url) return JobOutcome::incident(where + ".url: " + url.status().message());
  request.url = std::move(*url);
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("Accept", "application/json");
  request.headers.emplace_back("Idempotency-Key", std::string(job.idempotency_key()));
  for (const auto& [name, text] : s.headers) {
    Result<std::string> v = render(text, vars);
    if (!v) return JobOutcome::incident(where + ".headers." + name + ": " + v.status().message());
    request.headers.emplace_back(name, std::move(*v));
  }
  if (s.method != "GET" && s.method != "DELETE") {
    if (s.body) {
      Result<json> body = expr::evaluate(*s.body, {&vars, now_ms()});
      if (!body) return JobOutcome::incident(where + ".body: " + body.status().message());
      request.body = body->dump(-1, ' ', false, json::error_handler_t::replace);
    } else {
      request.body = job.variables().dump(-1, ' ', false, json::error_handler_t::replace);
    }
  }
  Result<adapters::HttpAnswer> answer = adapters::http_exchange(request);
  if (!answer) return JobOutcome::fail(answer.status().message(), s.retry_backoff_ms);
  const std::string said = s.method + " " + request.url + " answered " +
                           std::to_string(answer->status);
  if (answer->status >= 500 || answer->status == 429 || answer->status == 408) {
    return JobOutcome::fail(said + ": " + start_of(answer->body), s.retry_backoff_ms);
  }
  json response = {{"status", answer->status}, {"headers", answer->headers}};
  json body = answer->body.empty() ? json() : json::parse(answer->body, nullptr, false);
  const bool body_is_json = !body.is_discarded();
  response["body"] = body_is_json ? body : json(answer->body);
  if (answer->status >= 400) {
    if (!s.error_code.empty()) {
      return JobOutcome::error(s.error_code, said + ": " + start_of(answer->body),
                               {{"response", std::move(response)}});
    }
    return JobOutcome::incident(said + ": " + start_of(answer->body) +
                                "; fix the request (or give the adapter an errorCode for the "
                                "process to handle it)");
  }
  if (answer->status < 200 || answer->status >= 300) {
    return JobOutcome::incident(said + ", which the adapter does not handle");
  }
  if (!answer->body.empty() && !body_is_json) {
    return JobOutcome::incident(said + " with a body that is not JSON: " + start_of(answer->body));
  }
  json out = json::object();
  if (s.output.empty()) {
    if (body.is_object()) out = std::move(body);
    return JobOutcome::complete(std::move(out));
  }
  const JobVariables with_response(job, &response);
  for (const auto& [name, feel] : s.output) {
    Result<json> v = expr::evaluate(*feel, {&with_response, now_ms()});
    if (!v) {
      return JobOutcome::incident(where + ".output." + name + ": " + v.status().message() +
                                  " (the answer was: " + start_of(answer->body) + ")");
    }
    out[name] = std::move(*v);
  }
  return JobOutcome::complete(std::move(out));
}

}  // namespace

Result<TaskHandler> make_http_adapter(const json& settings, const std::string& where) {
  Result<Settings> parsed = parse(settings, where);
  if (!parsed) return parsed.status();
  auto shared = std::make_shared<const Settings>(std::move(*parsed));
  return TaskHandler([shared, where](const Job& job) { return handle(*shared, where, job); });
}

}  // namespace ordo
