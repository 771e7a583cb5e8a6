// The call layer: one job's request sent with the job's Idempotency-Key, the answer settled
// (retry, incident) or handed to the adapter's mapper.
#include "http_call.h"

#include <algorithm>
#include <chrono>
#include <variant>

#include "http_client.h"

namespace ordo::adapters {
namespace {

using nlohmann::json;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string start_of(const std::string& body) {
  constexpr std::size_t kShown = 200;
  std::string s = body.substr(0, kShown);
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return body.size() > kShown ? s + "..." : s;
}

}  // namespace

Status bad_setting(const std::string& where, const std::string& why) {
  return Status::invalid_argument(where + ": " + why);
}

Result<std::shared_ptr<const CompiledExpression>> compile_feel(const std::string& text,
                                                               const std::string& where) {
  auto compiled = expr::compile(ExpressionDialect::kFeel, std::string_view(text).substr(1));
  if (auto* e = std::get_if<expr::CompileError>(&compiled)) {
    return bad_setting(where, "expression " + text + " does not compile (at character " +
                                  std::to_string(e->offset + 1) + "): " + e->message);
  }
  return std::get<std::shared_ptr<const CompiledExpression>>(compiled);
}

Result<Text> text_setting(const json& value, const std::string& where) {
  if (!value.is_string()) return bad_setting(where, "must be a string");
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
    return bad_setting(where, "must be a whole number of milliseconds, 0 or more");
  }
  return value.get<std::int64_t>();
}

namespace {

// Reads `key` into `out` when it is one of kCallSettingNames: true, or an error naming `at`
// for a bad value. False for any other key.
Result<bool> read_call_setting(const std::string& key, const json& value, const std::string& at,
                               CallSettings& out) {
  if (key == "headers") {
    if (!value.is_object()) return bad_setting(at, "must be an object of header names and values");
    for (const auto& [name, v] : value.items()) {
      auto t = text_setting(v, at + "." + name);
      if (!t) return t.status();
      out.headers.emplace_back(name, std::move(*t));
    }
    return true;
  }
  if (key == "connectTimeoutMs" || key == "timeoutMs" || key == "retryBackoffMs") {
    auto ms = ms_setting(value, at);
    if (!ms) return ms.status();
    (key == "connectTimeoutMs" ? out.connect_timeout_ms
     : key == "timeoutMs"      ? out.timeout_ms
                               : out.retry_backoff_ms) = *ms;
    return true;
  }
  return false;
}

}  // namespace

Status read_settings(const json& settings, const std::string& where, std::string_view skip,
                     CallSettings& call, const SettingReader& other) {
  if (!settings.is_object()) return bad_setting(where, "must be a JSON object of settings");
  for (const auto& [key, value] : settings.items()) {
    const std::string at = where + "." + key;
    if (key == "adapter" || key == skip) continue;
    Result<bool> common = read_call_setting(key, value, at, call);
    if (!common) return common.status();
    if (*common) continue;
    if (Status s = other(key, value, at); !s) return s;
  }
  return Status::ok();
}

const json* JobVariables::find(std::string_view name) const {
  if (response_ != nullptr && name == "response") return response_;
  return job_.variable(name);
}

Result<json> evaluate_now(const CompiledExpression& e, const expr::Variables& vars) {
  return expr::evaluate(e, {&vars, now_ms()});
}

Result<std::string> render(const Text& t, const expr::Variables& vars) {
  if (!t.feel) return t.text;
  Result<json> v = evaluate_now(*t.feel, vars);
  if (!v) return v.status();
  return v->is_string() ? v->get<std::string>() : v->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

json Reply::response() const {
  return {{"status", status}, {"headers", headers}, {"body", body}};
}

const json* Reply::field(std::string_view name) const {
  if (!is_json || !body.is_object()) return nullptr;
  auto it = body.find(name);
  return it == body.end() ? nullptr : &*it;
}

JobOutcome call(const CallSettings& s, const std::string& where, const Job& job, const Request& r,
                const AnswerMapper& map) {
  HttpRequest request;
  request.method = r.method;
  request.url = r.url;
  request.connect_timeout_ms = s.connect_timeout_ms;
  request.timeout_ms = s.timeout_ms;
  request.headers.emplace_back("Content-Type", r.form ? "application/x-www-form-urlencoded"
                                                     : "application/json");
  request.headers.emplace_back("Accept", "application/json");
  request.headers.emplace_back("Idempotency-Key",
                               std::string(job.idempotency_key()) + r.idempotency_suffix);
  for (const auto& header : r.headers) request.headers.push_back(header);
  const JobVariables vars(job, nullptr);
  for (const auto& [name, text] : s.headers) {
    Result<std::string> v = render(text, vars);
    if (!v) return JobOutcome::incident(where + ".headers." + name + ": " + v.status().message());
    request.headers.emplace_back(name, std::move(*v));
  }
  if (r.form) {
    request.body = *r.form;
  } else if (r.body) {
    request.body = r.body->dump(-1, ' ', false, json::error_handler_t::replace);
  }

  Result<HttpAnswer> answer = http_exchange(request);
  if (!answer) return JobOutcome::fail(answer.status().message(), s.retry_backoff_ms);
  Reply reply;
  reply.status = answer->status;
  reply.said = r.method + " " + redact_url(r.url) + " answered " + std::to_string(answer->status);
  reply.start = start_of(answer->body);
  if (reply.status >= 500 || reply.status == 429 || reply.status == 408) {
    // A rate limit or an outage that says when to come back is waited for that long.
    std::int64_t backoff_ms = s.retry_backoff_ms;
    if (const std::int64_t after = retry_after_ms(*answer); after > 0) {
      backoff_ms = std::max(backoff_ms, after);
      reply.said += " (Retry-After: " + std::to_string(after / 1000) + " s)";
    }
    return JobOutcome::fail(reply.said + ": " + reply.start, backoff_ms);
  }
  if (reply.status < 200 || (reply.status >= 300 && reply.status < 400)) {
    return JobOutcome::incident(reply.said + ", which the adapter does not handle");
  }
  if (!answer->body.empty()) {
    reply.body = json::parse(answer->body, nullptr, false);
    reply.is_json = !reply.body.is_discarded();
    if (!reply.is_json) reply.body = answer->body;
  }
  if (reply.status < 300 && !reply.is_json) {
    return JobOutcome::incident(reply.said + " with a body that is not JSON: " + reply.start);
  }
  reply.headers = std::move(answer->headers);
  return map(reply);
}

JobOutcome refused(const Reply& reply, std::string_view advice) {
  return JobOutcome::incident(reply.said + ": " + reply.start + "; " + std::string(advice));
}

JobOutcome malformed(const Reply& reply, std::string_view what_is_wrong) {
  return JobOutcome::incident(reply.said + " with an answer that " + std::string(what_is_wrong) +
                              ": " + reply.start);
}

namespace {

void percent_encode(std::string_view value, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
}

}  // namespace

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    percent_encode(name, out);
    out.push_back('=');
    percent_encode(value, out);
  }
  return out;
}

std::string path_segment(std::string_view value) {
  std::string out;
  percent_encode(value, out);
  return out;
}

}  // namespace ordo::adapters
