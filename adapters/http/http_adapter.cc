// The generic HTTP adapter: settings checked once, a request built per job from its
// variables by FEEL, the answer mapped by FEEL; sending and classifying is the call layer's.
#include <algorithm>
#include <memory>
#include <vector>

#include "http_call.h"
#include "ordo/adapters/adapters.h"

namespace ordo {
namespace {

using nlohmann::json;
using namespace adapters;

struct Settings {
  std::string method = "POST";
  Text url;
  std::shared_ptr<const CompiledExpression> body;  // null: the job's variables
  std::vector<std::pair<std::string, std::shared_ptr<const CompiledExpression>>> output;
  std::string error_code;
  CallSettings call;
};

// One setting that is not a call setting.
Status read_setting(const std::string& key, const json& value, const std::string& at,
                    Settings& out) {
  if (key == "method") {
    if (!value.is_string()) return bad_setting(at, "must be a string");
    out.method = value.get<std::string>();
    std::transform(out.method.begin(), out.method.end(), out.method.begin(), ::toupper);
    static const char* kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    if (std::none_of(std::begin(kMethods), std::end(kMethods),
                     [&](const char* m) { return out.method == m; })) {
      return bad_setting(at, "must be GET, POST, PUT, PATCH or DELETE, not " + value.dump());
    }
  } else if (key == "url") {
    auto t = text_setting(value, at);
    if (!t) return t.status();
    if (t->text.empty()) return bad_setting(at, "must not be empty");
    out.url = std::move(*t);
  } else if (key == "body") {
    if (!value.is_string() || value.get<std::string>().rfind('=', 0) != 0) {
      return bad_setting(at, "must be a FEEL expression \"=...\" giving the JSON body");
    }
    auto feel = compile_feel(value.get<std::string>(), at);
    if (!feel) return feel.status();
    out.body = std::move(*feel);
  } else if (key == "output") {
    if (!value.is_object()) {
      return bad_setting(at, "must be an object of variable names and expressions");
    }
    for (const auto& [name, v] : value.items()) {
      if (!v.is_string() || v.get<std::string>().rfind('=', 0) != 0) {
        return bad_setting(at + "." + name, "must be a FEEL expression \"=...\" over `response`");
      }
      auto feel = compile_feel(v.get<std::string>(), at + "." + name);
      if (!feel) return feel.status();
      out.output.emplace_back(name, std::move(*feel));
    }
  } else if (key == "errorCode") {
    if (!value.is_string() || value.get<std::string>().empty()) {
      return bad_setting(at, "must be a non-empty string: the BPMN error code a 4xx answer throws");
    }
    out.error_code = value.get<std::string>();
  } else {
    return bad_setting(at,
                       "is not a setting of the http adapter (method, url, body, output, "
                       "errorCode, " +
                           std::string(kCallSettingNames) + ")");
  }
  return Status::ok();
}

Result<Settings> parse(const json& s, const std::string& where) {
  Settings out;
  Status read =
      read_settings(s, where, {}, out.call,
                    [&](const std::string& key, const json& value, const std::string& at) {
                      return read_setting(key, value, at, out);
                    });
  if (!read) return read;
  if (out.url.text.empty()) {
    return bad_setting(where + ".url", "is missing: say where to send the request");
  }
  return out;
}

JobOutcome map_answer(const Settings& s, const std::string& where, const Job& job,
                      const Reply& reply) {
  if (reply.status >= 400) {
    if (!s.error_code.empty()) {
      return JobOutcome::error(s.error_code, reply.said + ": " + reply.start,
                               {{"response", reply.response()}});
    }
    return refused(reply,
                   "fix the request (or give the adapter an errorCode for the process "
                   "to handle it)");
  }
  json out = json::object();
  if (s.output.empty()) {
    if (reply.body.is_object()) out = reply.body;
    return JobOutcome::complete(std::move(out));
  }
  const json response = reply.response();
  const JobVariables with_response(job, &response);
  for (const auto& [name, feel] : s.output) {
    Result<json> v = evaluate_now(*feel, with_response);
    if (!v) {
      return JobOutcome::incident(where + ".output." + name + ": " + v.status().message() +
                                  " (the answer was: " + reply.start + ")");
    }
    out[name] = std::move(*v);
  }
  return JobOutcome::complete(std::move(out));
}

JobOutcome handle(const Settings& s, const std::string& where, const Job& job) {
  const JobVariables vars(job, nullptr);
  Request request;
  request.method = s.method;
  Result<std::string> url = render(s.url, vars);
  if (!url) return JobOutcome::incident(where + ".url: " + url.status().message());
  request.url = std::move(*url);
  if (s.method != "GET" && s.method != "DELETE") {
    if (s.body) {
      Result<json> body = evaluate_now(*s.body, vars);
      if (!body) return JobOutcome::incident(where + ".body: " + body.status().message());
      request.body = std::move(*body);
    } else {
      request.body = job.variables();
    }
  }
  return call(s.call, where, job, request,
              [&](const Reply& reply) { return map_answer(s, where, job, reply); });
}

}  // namespace

Result<TaskHandler> make_http_adapter(const json& settings, const std::string& where) {
  Result<Settings> parsed = parse(settings, where);
  if (!parsed) return parsed.status();
  auto shared = std::make_shared<const Settings>(std::move(*parsed));
  return TaskHandler([shared, where](const Job& job) { return handle(*shared, where, job); });
}

}  // namespace ordo
