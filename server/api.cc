#include "api.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <future>
#include <map>

#include "console.h"
#include "http_server.h"
#include "ordo/adapters/queues.h"
#include "ordo/loader.h"
#include "prometheus.h"
#include "request.h"
#include "time/iso8601.h"
#include "views.h"

namespace ordo::server {
namespace {

constexpr int kMaxDepth = 64;

using nlohmann::json;

json delivery_view(const DeliveryRecord& d) {
  return {{"id", d.id},
          {"message", d.message},
          {"channel", d.channel},
          {"recipient", d.recipient},
          {"status", d.status},
          {"providerStatus", d.provider_status.empty() ? json() : json(d.provider_status)},
          {"error", d.error.empty() ? json() : json(d.error)},
          {"attempt", d.attempt},
          {"createdAt", when_view(d.created_ms)},
          {"updatedAt", when_view(d.updated_ms)}};
}

json summary_view(const InstanceInfo& i) {
  return {{"id", i.id},
          {"processId", i.process_id},
          {"version", i.version},
          {"businessKey", i.business_key.empty() ? json() : json(i.business_key)},
          {"state", to_string(i.state)},
          {"startedAt", when_view(i.started_ms)},
          {"endedAt", when_view(i.ended_ms)},
          {"endEvent", i.end_event.empty() ? json() : json(i.end_event)}};
}

// "/v1/process-instances/42/cancel" -> {"v1", "process-instances", "42", "cancel"}
// The metrics label of a path: the API route it matches, ids as placeholders, or
// "(other)". Only these few labels exist, whatever paths clients send.
std::string_view route_template(const std::vector<std::string_view>& seg) {
  static constexpr std::string_view kRoutes[] = {
      "/health",
      "/health/ready",
      "/metrics",
      "/v1/deployments",
      "/v1/processes",
      "/v1/processes/{processId}/versions/{version}/xml",
      "/v1/processes/{processId}/versions/{version}/elements",
      "/v1/token",
      "/v1/dashboard",
      "/v1/process-instances",
      "/v1/process-instances/{id}",
      "/v1/process-instances/cancel",
      "/v1/process-instances/{id}/cancel",
      "/v1/process-instances/{id}/suspend",
      "/v1/process-instances/{id}/resume",
      "/v1/process-instances/{id}/variables",
      "/v1/messages",
      "/v1/signals",
      "/v1/migrations",
      "/v1/conditions",
      "/v1/decisions",
      "/v1/decisions/{decisionId}/evaluate",
      "/v1/incidents",
      "/v1/incidents/resolve",
      "/v1/incidents/{id}/resolve",
      "/v1/jobs",
      "/v1/jobs/fetch-and-lock",
      "/v1/jobs/{id}/complete",
      "/v1/jobs/{id}/fail",
      "/v1/jobs/{id}/bpmn-error",
      "/v1/jobs/{id}/escalation",
      "/v1/jobs/{id}/extend-lock",
      "/v1/webhooks/payment",
      "/v1/webhooks/stripe",
      "/v1/webhooks/twilio",
      "/v1/webhooks/notifications/{channel}",
      "/v1/notifications/experiments",
      "/t/o/{token}",
      "/t/c/{token}",
  };
  for (std::string_view route : kRoutes) {
    std::size_t i = 0;
    std::size_t at = 1;  // past the leading '/'
    bool match = true;
    while (match && at <= route.size()) {
      const std::size_t end = std::min(route.find('/', at), route.size());
      const std::string_view part = route.substr(at, end - at);
      std::uint64_t id = 0;
      match = i < seg.size() &&
              (part == seg[i] || part == "{channel}" || part == "{processId}" ||
               part == "{token}" ||
               part == "{decisionId}" ||
               ((part == "{id}" || part == "{version}") && parse_id(seg[i], id)));
      ++i;
      at = end + 1;
    }
    if (match && i == seg.size()) return route;
  }
  return "(other)";
}

// `total>100`, `status = paid`, `vip=true`, `note!="late"`: a variable's name, an operator
// (= != < <= > >=) and a JSON value (text without quotes is taken as text). nullopt, with
// `why` set, when it is not one.
std::optional<VariableCondition> parse_variable_condition(std::string_view text, std::string& why,
                                                          const char* what = "query") {
  using Op = VariableCondition::Op;
  const std::size_t at = text.find_first_of("=!<>");
  if (at == std::string_view::npos) {
    why = std::string(what) +
          " 'variable' must be a name, an operator (= != < <= > >=) and a value, e.g. "
          "total>100 or status=paid";
    return std::nullopt;
  }
  const auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  VariableCondition c;
  c.name = std::string(trim(text.substr(0, at)));
  const bool two = at + 1 < text.size() && text[at + 1] == '=';
  switch (text[at]) {
    case '=': c.op = Op::kEq; break;
    case '!': c.op = Op::kNe; break;
    case '<': c.op = two ? Op::kLe : Op::kLt; break;
    default: c.op = two ? Op::kGe : Op::kGt; break;
  }
  if (text[at] == '!' && !two) {
    why = std::string(what) + " 'variable': '!' must be followed by '=' (!= is 'not equal')";
    return std::nullopt;
  }
  if (c.name.empty() || c.name.size() > 128 ||
      !std::all_of(c.name.begin(), c.name.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.';
      })) {
    why = std::string(what) +
          " 'variable' must start with a variable name (letters, digits, _ - .), e.g. "
          "total>100";
    return std::nullopt;
  }
  const std::string_view value = trim(text.substr(at + (two ? 2 : 1)));
  c.value = json::parse(value.begin(), value.end(), nullptr, false);
  if (c.value.is_discarded()) c.value = std::string(value);  // plain text: paid
  if (c.value.is_object() || c.value.is_array()) {
    why = std::string(what) +
          " 'variable' compares with a number, text, true, false or null, not with " +
          (c.value.is_object() ? "an object" : "a list");
    return std::nullopt;
  }
  const bool ordered = c.op != Op::kEq && c.op != Op::kNe;
  if (ordered && !c.value.is_number() && !c.value.is_string()) {
    why = std::string(what) +
          " 'variable': < <= > >= compare numbers or text; true, false and null only "
          "with = or !=";
    return std::nullopt;
  }
  return c;
}

// The filter's start-time bounds by their names in the API.
std::array<std::pair<const char*, std::int64_t*>, 2> start_bounds(InstanceFilter& filter) {
  return {{{"startedFrom", &filter.started_from}, {"startedTo", &filter.started_to}}};
}

// `text`, an ISO 8601 date and time, into `out`; else `error` names the `what` ("query" or
// "field") `name`.
bool date_time_value(const char* what, const char* name, const std::string& text,
                     std::int64_t& out, Response& error) {
  std::optional<std::int64_t> at = time::parse_date_time(text);
  if (!at) {
    error = error_response(400, std::string(what) + " '" + name +
                                    "' must be an ISO 8601 date and time, e.g. "
                                    "2026-12-01T00:00:00Z");
    return false;
  }
  out = *at;
  return true;
}

const char* scope_for(const Request& r, const std::vector<std::string_view>& seg) {
  if (seg.size() >= 2 && seg[1] == "jobs" && r.method == "POST") return "worker";
  // Evaluating a decision changes nothing: who may read may ask.
  if (seg.size() == 4 && seg[1] == "decisions" && seg[3] == "evaluate") return "read";
  if (r.method == "GET" || r.method == "HEAD") return "read";
  return seg.size() >= 2 && (seg[1] == "incidents" || seg[1] == "migrations") ? "admin"
                                                                                : "write";
}

// The filter fields a bulk request shares with the Instances page (their types checked):
// businessKeyPrefix, variable, incidentMessage, startedFrom, startedTo.
bool filter_fields(const json& body, InstanceFilter& filter, Response& error) {
  for (const char* field :
       {"businessKeyPrefix", "variable", "incidentMessage", "startedFrom", "startedTo"}) {
    if (body.contains(field) && !body[field].is_string()) {
      error = error_response(400, std::string("field '") + field + "' must be a string");
      return false;
    }
  }
  if (body.contains("businessKeyPrefix")) {
    filter.business_key = text(body, "businessKeyPrefix");
    filter.business_key_prefix = true;
  }
  if (body.contains("variable")) {
    std::string why;
    filter.variable = parse_variable_condition(text(body, "variable"), why, "field");
    if (!filter.variable) {
      error = error_response(400, why);
      return false;
    }
  }
  if (body.contains("incidentMessage")) filter.incident_message = text(body, "incidentMessage");
  for (const auto& [name, field] : start_bounds(filter)) {
    if (body.contains(name) && !date_time_value("field", name, text(body, name), *field, error)) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<ServerSettings> read_server_settings(const json& section) {
  ServerSettings out;
  if (section.is_null()) return out;
  if (!section.is_object()) return Status::invalid_argument("server: must be an object");
  for (const auto& [key, value] : section.items()) {
    if (key == "tokens") {
      if (!value.is_array()) {
        return Status::invalid_argument("server.tokens: must be a list of {token, scopes}");
      }
      for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string at = "server.tokens[" + std::to_string(i) + "]";
        const json& t = value[i];
        if (!t.is_object() || !t.contains("token") || !t["token"].is_string() ||
            t["token"].get<std::string>().size() < 16) {
          return Status::invalid_argument(at +
                                          ".token: must be a string of 16 characters or "
                                          "more (use ${env:NAME})");
        }
        for (const auto& [field, ignored] : t.items()) {
          if (field != "token" && field != "scopes" && field != "jobTypes") {
            return Status::invalid_argument(at + "." + field +
                                            ": is not a setting of a token (known: token, "
                                            "scopes, jobTypes)");
          }
        }
        Token token{t["token"].get<std::string>(), {}, {}};
        if (t.contains("jobTypes")) {
          if (!t["jobTypes"].is_array()) {
            return Status::invalid_argument(at + ".jobTypes: must be a list of job types "
                                                 "(\"payment.*\" for every type starting so)");
          }
          for (const json& type : t["jobTypes"]) {
            if (!type.is_string() || type.get<std::string>().empty()) {
              return Status::invalid_argument(at + ".jobTypes: " + type.dump() +
                                              " is not a job type");
            }
            token.job_types.push_back(type.get<std::string>());
          }
        }
        if (!t.contains("scopes") || !t["scopes"].is_array() || t["scopes"].empty()) {
          return Status::invalid_argument(at +
                                          ".scopes: list what it may do: read, write, "
                                          "worker, admin");
        }
        for (const json& s : t["scopes"]) {
          const std::string scope = s.is_string() ? s.get<std::string>() : s.dump();
          if (scope != "read" && scope != "write" && scope != "worker" && scope != "admin") {
            return Status::invalid_argument(at + ".scopes: unknown scope '" + scope +
                                            "' (known: read, write, worker, admin)");
          }
          token.scopes.push_back(scope);
        }
        out.api.tokens.push_back(std::move(token));
      }
    } else if (key == "maxBodyBytes" || key == "maxInFlight" || key == "maxConnections" ||
               key == "maxConnectionsPerPeer") {
      const std::int64_t most = key == "maxBodyBytes" ? (1LL << 30)
                                : key == "maxInFlight" ? 1024
                                                       : 100'000;
      if (!value.is_number_integer() || value.get<std::int64_t>() < 1 ||
          value.get<std::int64_t>() > most) {
        return Status::invalid_argument("server." + key + ": must be a whole number from 1 to " +
                                        std::to_string(most));
      }
      if (key == "maxBodyBytes") out.max_body_bytes = value.get<std::size_t>();
      if (key == "maxInFlight") out.max_in_flight = value.get<int>();
      if (key == "maxConnections") out.max_connections = value.get<int>();
      if (key == "maxConnectionsPerPeer") out.max_connections_per_peer = value.get<int>();
    } else if (key == "webhooks") {
      if (!value.is_object()) return Status::invalid_argument("server.webhooks: must be an object");
      for (const auto& [kind, hook] : value.items()) {
        const std::string at = "server.webhooks." + kind;
        if (kind != "payment" && kind != "notifications" && kind != "stripe" &&
            kind != "twilio") {
          return Status::invalid_argument(at +
                                          ": unknown webhook (known: payment, "
                                          "notifications, stripe, twilio)");
        }
        WebhookRoute& route = kind == "payment"  ? out.api.payment
                              : kind == "stripe" ? out.api.stripe
                              : kind == "twilio" ? out.api.twilio
                                                 : out.api.notifications;
        if (!hook.is_object() || !hook.contains("secret") || !hook["secret"].is_string() ||
            hook["secret"].get<std::string>().empty()) {
          return Status::invalid_argument(at +
                                          ".secret: is missing: the shared secret the "
                                          "provider signs with (use ${env:NAME})");
        }
        for (const auto& [setting, v] : hook.items()) {
          const bool known =
              setting == "secret" || setting == "signatureHeader" ||
              setting == "tolerance" || (kind == "twilio" && setting == "url") ||
              ((kind == "payment" || kind == "stripe") &&
               (setting == "messageName" || setting == "timeToLive"));
          if (!known || !v.is_string()) {
            return Status::invalid_argument(
                at + "." + setting +
                (known ? ": must be a string"
                       : ": is not a setting (known: secret, "
                         "signatureHeader, tolerance" +
                             std::string(kind == "twilio" ? ", url)"
                                         : kind != "notifications" ? ", messageName, "
                                                                     "timeToLive)"
                                                                   : ")")));
          }
        }
        route.secret = hook["secret"].get<std::string>();
        if (kind == "twilio") {
          if (!hook.contains("url")) {
            return Status::invalid_argument(
                at + ".url: is missing: the public URL Twilio calls (the statusCallback of the "
                     "SMS channel), which its signature covers");
          }
          route.url = hook["url"].get<std::string>();
          if (!route.url.starts_with("https://") && !route.url.starts_with("http://")) {
            return Status::invalid_argument(at + ".url: must be the http(s):// URL Twilio calls");
          }
        }
        if (hook.contains("signatureHeader")) {
          route.signature_header = hook["signatureHeader"].get<std::string>();
          for (char& c : route.signature_header) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          }
        }
        if (hook.contains("messageName")) {
          (kind == "stripe" ? out.api.stripe_options.message_name
                            : out.api.payment_options.message_name) =
              hook["messageName"].get<std::string>();
        }
        if (hook.contains("timeToLive")) {
          const auto ttl = time::parse_fixed_duration_ms(hook["timeToLive"].get<std::string>());
          if (!ttl) {
            return Status::invalid_argument(at +
                                            ".timeToLive: must be a duration such as "
                                            "PT1H (days, hours, minutes, seconds)");
          }
          (kind == "stripe" ? out.api.stripe_options.ttl_ms : out.api.payment_options.ttl_ms) =
              *ttl;
        }
        if (hook.contains("tolerance")) {
          const auto tolerance = time::parse_fixed_duration_ms(hook["tolerance"].get<std::string>());
          if (!tolerance || *tolerance < 1000 || *tolerance > 3'600'000) {
            return Status::invalid_argument(at +
                                            ".tolerance: must be a duration from PT1S to PT1H "
                                            "(how far a signature's timestamp may be from now)");
          }
          route.tolerance_s = *tolerance / 1000;
          if (kind == "stripe") out.api.stripe_options.tolerance_s = route.tolerance_s;
          if (kind == "payment") out.api.payment_options.tolerance_s = route.tolerance_s;
        }
      }
    } else if (key == "maxCallDepth" || key == "maxMultiInstance" ||
               key == "multiInstanceBatch") {
      const std::int64_t most = key == "maxCallDepth" ? 100'000 : 10'000'000;
      if (!value.is_number_integer() || value.get<std::int64_t>() < 1 ||
          value.get<std::int64_t>() > most) {
        return Status::invalid_argument("server." + key + ": must be a whole number from 1 to " +
                                        std::to_string(most));
      }
      if (key == "maxCallDepth") out.max_call_depth = value.get<std::uint32_t>();
      if (key == "maxMultiInstance") out.max_multi_instance = value.get<std::uint64_t>();
      if (key == "multiInstanceBatch") out.multi_instance_batch = value.get<std::uint32_t>();
    } else if (key == "alerts") {
      Result<AlertSettings> alerts = read_alert_settings(value);
      if (!alerts) return alerts.status();
      out.alerts = std::move(*alerts);
    } else {
      return Status::invalid_argument("server." + key +
                                      ": is not a setting (known: tokens, maxBodyBytes, "
                                      "maxInFlight, maxConnections, maxConnectionsPerPeer, "
                                      "maxCallDepth, maxMultiInstance, multiInstanceBatch, webhooks, "
                                      "alerts)");
    }
  }
  return out;
}

Api::Api(Engine& engine, ApiOptions options) : engine_(engine), options_(std::move(options)) {}

Api::~Api() { close(); }

Response Api::handle(const Request& r) {
  std::promise<Response> answered;
  std::future<Response> answer = answered.get_future();
  handle(r, [&answered](Response out) { answered.set_value(std::move(out)); });
  return answer.get();
}

void Api::handle(const Request& r, Reply reply) {
  const std::vector<std::string_view> seg = segments(r.path);
  // Overload: beyond max_in_flight requests at once, answer at once rather than queue up
  // (probes still get through).
  // Probes are neither counted nor refused.
  const bool probe = !seg.empty() && seg[0] == "health";
  struct InFlight {
    std::atomic<int>* n;
    int now;
    InFlight(std::atomic<int>& c, bool counted)
        : n(counted ? &c : nullptr), now(counted ? ++c : 0) {}
    ~InFlight() {
      if (n != nullptr) --*n;
    }
  };
  Response out;
  {
    // Counted until the answer is ready, not until it is written: a client that has its
    // answer may send the next request before this thread gets to leave (under load, a
    // sequential client was refused as if it had sent three at once).
    InFlight in_flight(in_flight_, !probe);
    if (options_.max_in_flight > 0 && in_flight.now > options_.max_in_flight) {
      out = error_response(503, "the server is busy: more than server.maxInFlight (" +
                                    std::to_string(options_.max_in_flight) +
                                    ") requests at once; retry shortly");
      out.retry_after_s = 1;
    } else {
      out = dispatch(r, seg, &reply);
      // A parked poll is counted in /metrics when the poller answers it; it is not in
      // flight meanwhile.
      if (out.status == kParked) return;
    }
  }
  count(r, seg, out.status);
  reply(std::move(out));
}

namespace {
// GET /t/o/{token} and /t/c/{token} (and HEAD).
bool is_tracking_path(const Request& r, const std::vector<std::string_view>& seg) {
  return seg.size() == 3 && seg[0] == "t" && (seg[1] == "o" || seg[1] == "c") &&
         (r.method == "GET" || r.method == "HEAD");
}
}  // namespace

// Who may ask: without tokens, loopback requests that no web page sent; with tokens, a valid
// one with the route's scope. A refusal, or nothing when the request may go on. Reads only
// the method, path and headers: it runs before the body is read, too.
std::optional<Response> Api::admit(const Request& r,
                                   const std::vector<std::string_view>& seg) const {
  if (options_.tokens.empty()) {
    // Loopback without tokens: refuse what a web page could send (a cross-site form post,
    // DNS rebinding), which would otherwise act with no proof at all.
    if (r.headers.count("origin")) {
      return error_response(403,
                            "requests from web pages (with an Origin header) need a "
                            "bearer token: configure tokens in the server section");
    }
    if (auto host = r.headers.find("host");
        host != r.headers.end() && !host_header_is_loopback(host->second)) {
      return error_response(403, "Host '" + host->second +
                                     "' is not a loopback address: without tokens the API "
                                     "answers only requests addressed to localhost, "
                                     "127.0.0.1 or [::1] (a browser may have been sent "
                                     "here by a rebound DNS name); use one of those, or "
                                     "configure tokens in the server section");
    }
    return std::nullopt;
  }
  const Token* token = token_of(r);
  if (token == nullptr) {
    return error_response(401, "a valid bearer token is required (Authorization: Bearer <token>)");
  }
  const std::string scope = scope_for(r, seg);
  if (std::find(token->scopes.begin(), token->scopes.end(), scope) == token->scopes.end()) {
    return error_response(403, "this token lacks the '" + scope + "' scope");
  }
  return std::nullopt;
}

const Token* Api::token_of(const Request& r) const {
  auto auth = r.headers.find("authorization");
  std::string given;
  if (auth != r.headers.end() && auth->second.size() > 7) {
    std::string scheme = auth->second.substr(0, 7);
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme == "bearer ") given = auth->second.substr(7);  // RFC 7235: any case
  }
  const Token* token = nullptr;
  for (const Token& t : options_.tokens) {
    // Compared in full whatever differs, like webhook signatures.
    if (t.token.size() != given.size()) continue;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < given.size(); ++i) {
      diff |= static_cast<unsigned char>(t.token[i] ^ given[i]);
    }
    if (diff == 0) token = &t;
  }
  return token;
}

std::string Api::may_not_fetch(const Request& r, std::string_view type) const {
  if (options_.tokens.empty()) return {};  // loopback without tokens: anyone here may
  const Token* token = token_of(r);
  if (token == nullptr) return "no token";  // admit() refused it already
  if (!token->job_types.empty()) {
    for (const std::string& allowed : token->job_types) {
      if (allowed == type) return {};
      if (allowed.ends_with('*') &&
          type.starts_with(std::string_view(allowed).substr(0, allowed.size() - 1))) {
        return {};
      }
    }
    return "this token may fetch jobs of the types its jobTypes list, not '" +
           std::string(type) + "'";
  }
  if (options_.handled_here && options_.handled_here(type)) {
    return "jobs of type '" + std::string(type) +
           "' are this server's own (an adapter in ordo.json handles them); a worker token "
           "fetches them only when its jobTypes name them";
  }
  return {};
}

std::optional<Response> Api::refuse_before_body(const Request& r) {
  const std::vector<std::string_view> seg = segments(r.path);
  // Probes need nothing; webhooks prove themselves by a signature of their body; the
  // console's files hold no data (the page asks for a token to read any).
  if (!seg.empty() && seg[0] == "health") return std::nullopt;
  if ((r.method == "GET" || r.method == "HEAD") && is_console_path(r.path)) return std::nullopt;
  if (seg.size() >= 2 && seg[0] == "v1" && seg[1] == "webhooks") return std::nullopt;
  // Tracking URLs are opened by customers' mail apps and browsers, from anywhere: their
  // signature is the proof.
  if (is_tracking_path(r, seg)) return std::nullopt;
  std::optional<Response> refused = admit(r, seg);
  if (refused) count(r, seg, refused->status);
  return refused;
}

Response Api::dispatch(const Request& r, const std::vector<std::string_view>& seg,
                       Reply* reply) {
  if (seg.size() == 1 && seg[0] == "health") {
    return json_response(200, {{"status", "ok"}});
  }
  if (seg.size() == 2 && seg[0] == "health" && seg[1] == "ready") return readiness();
  if ((r.method == "GET" || r.method == "HEAD") && is_console_path(r.path)) {
    return console_file(r.path);
  }
  // A JSON body is refused before it is parsed when it nests too deep; a deployment's body
  // is BPMN XML, whose brackets (in expressions) and quotes mean nothing of the kind.
  const bool xml_body = seg.size() == 2 && seg[0] == "v1" && seg[1] == "deployments";
  if (!xml_body && nested_deeper_than(r.body, kMaxDepth)) {
    return error_response(
        400, "the body nests arrays and objects more than " + std::to_string(kMaxDepth) + " deep");
  }
  // Tracking URLs are opened by customers' mail apps and browsers: their signature is the
  // proof, not a token.
  if (is_tracking_path(r, seg)) {
    try {
      return tracking(r, seg[1], seg[2]);
    } catch (const std::exception& e) {
      return error_response(500, std::string("internal error: ") + e.what());
    }
  }
  // Providers' webhooks prove themselves by their signature, not a bearer token.
  if ((seg.size() == 3 || seg.size() == 4) && seg[0] == "v1" && seg[1] == "webhooks" &&
      r.method == "POST") {
    try {
      if (seg[2] == "payment" && seg.size() == 3) return webhook(r, seg[2], {});
      // The delivery log has its own lock, and the CRM may be slow: not under the engine's.
      return webhook(r, seg[2], seg.size() == 4 ? seg[3] : std::string_view());
    } catch (const std::exception& e) {
      return error_response(500, std::string("internal error: ") + e.what());
    }
  }
  if (std::optional<Response> refused = admit(r, seg)) return *refused;
  if (seg.size() == 1 && seg[0] == "metrics" && r.method == "GET") return metrics();
  try {
    if (seg.size() >= 2 && seg[0] == "v1" && seg[1] == "jobs") return jobs(r, seg, reply);
    // Starts and messages share transactions with the concurrent ones (group commit).
    if (seg.size() == 2 && seg[0] == "v1" && r.method == "POST") {
      if (seg[1] == "process-instances") return start(r);
      if (seg[1] == "messages") return publish(r);
    }
    Response out = route(r);
    // Starts and messages create jobs: long polls of external workers look again.
    if (r.method == "POST" && out.status < 300) jobs_may_exist();
    return out;
  } catch (const std::exception& e) {
    return error_response(500, std::string("internal error: ") + e.what());
  }
}

void Api::count(const Request& r, const std::vector<std::string_view>& seg, int status) {
  const std::string_view route = route_template(seg);
  std::string_view method = "(other)";
  for (std::string_view known : {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}) {
    if (r.method == known) method = known;
  }
  std::lock_guard lock(metrics_mu_);
  ++requests_[{std::string(route), std::string(method), status}];
  if (status == 401 && route.starts_with("/v1/webhooks/")) {
    ++webhook_rejections_[std::string(seg[2])];
  }
}

void Api::count_refused(std::string_view reason) {
  std::lock_guard lock(metrics_mu_);
  auto it = refused_.find(reason);
  if (it == refused_.end()) it = refused_.emplace(std::string(reason), 0).first;
  ++it->second;
}

Response Api::metrics() {
  std::string out;
  using prometheus::label;
  const auto family = [&](const char* name, const char* type, const char* help) {
    prometheus::family(out, name, type, help);
  };
  {
    Result<std::vector<InstanceCount>> counts = engine_.count_instances();
    if (!counts) return from_status(counts.status());
    family("ordo_instances", "gauge",
           "Process instances by process, state and (completed) end event.");
    for (const InstanceCount& c : *counts) {
      out += "ordo_instances{process=\"" + label(c.process_id) + "\",state=\"" +
             std::string(to_string(c.state)) + "\",end_event=\"" + label(c.end_event) + "\"} " +
             std::to_string(c.count) + "\n";
    }
    Result<std::vector<IncidentInfo>> incidents = engine_.incidents();
    if (!incidents) return from_status(incidents.status());
    family("ordo_incidents_open", "gauge", "Open incidents.");
    out += "ordo_incidents_open " + std::to_string(incidents->size()) + "\n";
    std::map<std::pair<std::string, std::string>, std::uint64_t> jobs;
        Result<std::vector<JobInfo>> open_jobs = engine_.open_jobs();
    if (!open_jobs) return from_status(open_jobs.status());
    for (const JobInfo& j : *open_jobs) ++jobs[{j.type, std::string(to_string(j.state))}];
    family("ordo_jobs_open", "gauge", "Open jobs by type and state.");
    for (const auto& [key, n] : jobs) {
      out += "ordo_jobs_open{type=\"" + label(key.first) + "\",state=\"" + key.second + "\"} " +
             std::to_string(n) + "\n";
    }
  }
  if (options_.notifier) {
    Result<std::vector<Notifier::Count>> sent = options_.notifier->delivery_counts();
    if (!sent) return from_status(sent.status());
    family("ordo_notification_attempts", "gauge",
           "Notification delivery attempts by channel and status (the delivery log).");
    for (const Notifier::Count& c : *sent) {
      out += "ordo_notification_attempts{channel=\"" + label(c.channel) + "\",status=\"" +
             label(c.status) + "\"} " + std::to_string(c.count) + "\n";
    }
    Result<std::vector<EngagementCount>> engaged = options_.notifier->engagement();
    if (!engaged) return from_status(engaged.status());
    const auto labels = [&](const EngagementCount& e) {
      return "{channel=\"" + label(e.channel) + "\",segment=\"" + label(e.segment) +
             "\",experiment=\"" + label(e.experiment) + "\",variant=\"" + label(e.variant) + "\"}";
    };
    const auto rate = [](std::int64_t n, std::int64_t of) {
      return of == 0 ? std::string("0") : prometheus::number(static_cast<double>(n) / static_cast<double>(of));
    };
    const std::pair<const char*, std::int64_t EngagementCount::*> counts[] = {
        {"sent", &EngagementCount::sent},
        {"delivered", &EngagementCount::delivered},
        {"opened", &EngagementCount::opened},
        {"clicked", &EngagementCount::clicked}};
    family("ordo_notification_engagement", "gauge",
           "Sent notifications by channel, segment and A/B variant, and how many of them were "
           "delivered, opened (or clicked) and clicked (the delivery log).");
    for (const EngagementCount& e : *engaged) {
      std::string l = labels(e);
      l.pop_back();
      for (const auto& [event, member] : counts) {
        out += "ordo_notification_engagement" + l + ",event=\"" + event + "\"} " +
               std::to_string(e.*member) + "\n";
      }
    }
    family("ordo_notification_open_rate", "gauge",
           "Opened (or clicked) / sent, by channel, segment and variant.");
    for (const EngagementCount& e : *engaged) {
      out += "ordo_notification_open_rate" + labels(e) + " " + rate(e.opened, e.sent) + "\n";
    }
    family("ordo_notification_click_rate", "gauge",
           "Clicked / sent, by channel, segment and variant.");
    for (const EngagementCount& e : *engaged) {
      out += "ordo_notification_click_rate" + labels(e) + " " + rate(e.clicked, e.sent) + "\n";
    }
    family("ordo_tracking_unrecorded_total", "counter",
           "Opens and clicks with a valid URL that could not be recorded or forwarded (the "
           "delivery log or the CRM failed).");
    out += "ordo_tracking_unrecorded_total " + std::to_string(tracking_unrecorded_.load()) + "\n";
  }
  if (options_.queues) {
    const std::vector<QueueConsumerState> queues = options_.queues->states();
    family("ordo_queue_consumer_up", "gauge",
           "1 when the consumer of a queue is consuming, 0 when it is connecting or retrying.");
    for (const QueueConsumerState& q : queues) {
      out += "ordo_queue_consumer_up{queue=\"" + label(q.queue) + "\"} " +
             (q.state == "consuming" ? "1" : "0") + "\n";
    }
    family("ordo_queue_ready_messages", "gauge",
           "Messages waiting in a consumed queue when last looked (about once a second): its "
           "lag.");
    for (const QueueConsumerState& q : queues) {
      if (q.ready < 0) continue;
      out += "ordo_queue_ready_messages{queue=\"" + label(q.queue) + "\"} " +
             std::to_string(q.ready) + "\n";
    }
    family("ordo_queue_messages_total", "counter",
           "Deliveries from a queue by outcome: applied (started or published), duplicate "
           "(a message id seen before), dead_lettered, returned (given back when the database "
           "failed).");
    for (const QueueConsumerState& q : queues) {
      const std::pair<const char*, std::uint64_t> outcomes[] = {
          {"applied", q.applied},
          {"duplicate", q.duplicates},
          {"dead_lettered", q.dead_lettered},
          {"returned", q.returned}};
      for (const auto& [outcome, n] : outcomes) {
        out += "ordo_queue_messages_total{queue=\"" + label(q.queue) + "\",outcome=\"" +
               outcome + "\"} " + std::to_string(n) + "\n";
      }
    }
    family("ordo_queue_reconnects_total", "counter", "Connections to the broker made again.");
    for (const QueueConsumerState& q : queues) {
      out += "ordo_queue_reconnects_total{queue=\"" + label(q.queue) + "\"} " +
             std::to_string(q.reconnects) + "\n";
    }
  }
  if (options_.events) {
    const EventPublisherState e = options_.events->state();
    family("ordo_events_publisher_up", "gauge",
           "1 when the event publisher is publishing, 0 when it is connecting or retrying.");
    out += "ordo_events_publisher_up{exchange=\"" + label(e.exchange) + "\"} " +
           (e.state == "publishing" ? "1" : "0") + "\n";
    family("ordo_events_position", "gauge",
           "The last history event number the publisher has handled (confirmed by the broker).");
    out += "ordo_events_position{exchange=\"" + label(e.exchange) + "\"} " +
           std::to_string(e.position) + "\n";
    family("ordo_events_published_total", "counter", "Events published and confirmed.");
    out += "ordo_events_published_total{exchange=\"" + label(e.exchange) + "\"} " +
           std::to_string(e.published) + "\n";
  }
  std::lock_guard lock(metrics_mu_);
  family("ordo_http_requests_total", "counter", "HTTP requests by route, method and status.");
  for (const auto& [key, n] : requests_) {
    out += "ordo_http_requests_total{route=\"" + label(std::get<0>(key)) + "\",method=\"" +
           label(std::get<1>(key)) + "\",status=\"" + std::to_string(std::get<2>(key)) + "\"} " +
           std::to_string(n) + "\n";
  }
  family("ordo_webhook_rejections_total", "counter",
         "Webhooks refused because their signature did not verify.");
  for (const auto& [kind, n] : webhook_rejections_) {
    out += "ordo_webhook_rejections_total{webhook=\"" + label(kind) + "\"} " + std::to_string(n) +
           "\n";
  }
  family("ordo_http_refused_total", "counter",
         "Connections and requests the HTTP layer refused or cut off by reason: connections "
         "(server.maxConnections, maxConnectionsPerPeer), slow (a deadline passed), "
         "head-too-large, body-too-large, malformed, stopping (arrived as the server stopped).");
  for (const auto& [reason, n] : refused_) {
    out += "ordo_http_refused_total{reason=\"" + label(reason) + "\"} " + std::to_string(n) +
           "\n";
  }
  if (options_.unhandled_job_types) {
    family("ordo_job_types_unhandled", "gauge",
           "Job types of the deployed processes that no adapter here handles (their jobs wait "
           "for external workers; /health/ready lists them).");
    out += "ordo_job_types_unhandled " + std::to_string(options_.unhandled_job_types().size()) +
           "\n";
  }
  if (options_.telemetry) options_.telemetry->write_prometheus(out);
  if (options_.kpis) options_.kpis->write_prometheus(out);
  return {200, out, "text/plain; version=0.0.4", 0, {}};
}

Response Api::readiness() {
  // The database answers (one indexed row), and whatever else the service needs runs.
  {
    InstanceFilter one;
    one.limit = 1;
    Result<std::vector<InstanceInfo>> probe = engine_.instances(one);
    if (!probe) return error_response(503, "not ready: " + probe.status().message());
  }
  if (options_.ready) {
    if (Status s = options_.ready(); !s) return error_response(503, "not ready: " + s.message());
  }
  json out = {{"status", "ready"}};
  if (options_.unhandled_job_types) out["unhandledJobTypes"] = options_.unhandled_job_types();
  // A broker away does not take the API out of service: the consumers say what they wait for.
  if (options_.queues) {
    json queues = json::array();
    for (const QueueConsumerState& q : options_.queues->states()) {
      json one = {{"queue", q.queue}, {"state", q.state}, {"received", q.received},
                  {"applied", q.applied}, {"duplicates", q.duplicates},
                  {"deadLettered", q.dead_lettered}, {"returned", q.returned},
                  {"reconnects", q.reconnects}};
      if (q.ready >= 0) one["readyMessages"] = q.ready;
      if (!q.last_error.empty()) one["lastError"] = q.last_error;
      queues.push_back(std::move(one));
    }
    out["queues"] = std::move(queues);
  }
  if (options_.events) {
    const EventPublisherState e = options_.events->state();
    json one = {{"exchange", e.exchange}, {"state", e.state}, {"position", e.position},
                {"published", e.published}, {"reconnects", e.reconnects}};
    if (!e.last_error.empty()) one["lastError"] = e.last_error;
    out["events"] = std::move(one);
  }
  return json_response(200, out);
}

Response Api::tracking(const Request& r, std::string_view kind, std::string_view token) {
  if (!options_.notifier || !options_.notifier->tracking()) {
    return error_response(404, "tracking is off: configure notifications.tracking to serve " +
                                   r.path);
  }
  // The customer's time, not a simulated one: opens and clicks happen in the world.
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  // A HEAD (a link checker, a preview) is answered without being recorded.
  Result<Notifier::Tracked> t = options_.notifier->track(kind, token, now, r.method != "HEAD");
  if (!t) {
    // A forged or edited URL: nothing recorded, nowhere redirected.
    Response out = error_response(404, "this link is not valid: " + t.status().message());
    out.headers.emplace_back("Cache-Control", "no-store");
    return out;
  }
  if (!t->problem.ok() && t->problem.code() != StatusCode::kNotFound) ++tracking_unrecorded_;
  Response out;
  out.headers.emplace_back("Cache-Control", "no-store, private");
  out.headers.emplace_back("Referrer-Policy", "no-referrer");
  if (kind == "o") {
    // The smallest transparent GIF (1x1, 43 bytes).
    static constexpr unsigned char kPixel[] = {
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
        0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};
    out.status = 200;
    out.content_type = "image/gif";
    out.body.assign(reinterpret_cast<const char*>(kPixel), sizeof kPixel);
    return out;
  }
  out.status = 302;
  out.content_type = "text/plain";
  out.headers.emplace_back("Location", t->redirect);
  out.body = "Redirecting to " + t->redirect + "\n";
  return out;
}

Response Api::webhook(const Request& r, std::string_view kind, std::string_view channel) {
  const bool payment = kind == "payment" && channel.empty();
  const bool stripe = kind == "stripe" && channel.empty();
  const bool twilio = kind == "twilio" && channel.empty();
  const bool status = kind == "notifications" && !channel.empty();
  const WebhookRoute* route = payment  ? &options_.payment
                              : stripe ? &options_.stripe
                              : twilio ? &options_.twilio
                              : status ? &options_.notifications
                                       : nullptr;
  if (route == nullptr || route->secret.empty() || ((status || twilio) && !options_.notifier)) {
    return error_response(
        404, "no webhook at " + r.path + " (configure it in the server section: webhooks)");
  }
  auto header = r.headers.find(route->signature_header);
  const std::string signature = header == r.headers.end() ? std::string() : header->second;
  if (payment) {
    Result<Message> m =
        payment_webhook_message(r.body, signature, route->secret, options_.payment_options);
    if (!m) return from_status(m.status());
    return published_response(publish_grouped(std::move(*m)));
  }
  if (stripe) {
    Result<std::optional<Message>> m = stripe_webhook_message(
        r.body, signature, route->secret, engine_.clock().now_ms(), options_.stripe_options);
    if (!m) return from_status(m.status());
    // A verified event Ordo does not act on: 200, or Stripe sends it again for days.
    if (!*m) return json_response(200, {{"ignored", true}});
    return published_response(publish_grouped(std::move(**m)));
  }
  if (twilio) {
    Result<DeliveryStatus> update = twilio_status_callback(route->url, r.body, signature,
                                                           route->secret, engine_.clock().now_ms());
    if (!update) return from_status(update.status());
    Result<bool> recorded = options_.notifier->provider_status(*update);
    if (!recorded) return from_status(recorded.status());
    return json_response(200, {{"recorded", *recorded}});
  }
  if (Status verified = verify_ordo_webhook_signature(r.body, signature, route->secret,
                                                      engine_.clock().now_ms(), route->tolerance_s);
      !verified) {
    return error_response(401, "the signature in '" + route->signature_header +
                                   "' does not verify: " + verified.message() +
                                   " (HMAC-SHA256 with the shared secret)");
  }
  json body;
  Response error;
  if (!parse_object(r, body, error)) return error;
  if (!check_fields(body,
                    {{"providerId", json::value_t::string},
                     {"status", json::value_t::string},
                     {"at", json::value_t::string},
                     {"detail", json::value_t::object}},
                    error)) {
    return error;
  }
  DeliveryStatus update;
  update.channel = std::string(channel);
  update.provider_id = text(body, "providerId");
  update.status = text(body, "status");
  if (update.provider_id.empty() || update.status.empty()) {
    return error_response(400, "fields 'providerId' and 'status' are required");
  }
  update.at_ms = engine_.clock().now_ms();
  if (const std::string at = text(body, "at"); !at.empty()) {
    auto parsed = time::parse_date_time(at);
    if (!parsed) return error_response(400, "field 'at' must be an ISO 8601 date-time");
    update.at_ms = *parsed;
  }
  if (body.contains("detail") && body["detail"].is_object()) update.detail = body["detail"];
  Result<bool> recorded = options_.notifier->provider_status(update);
  if (!recorded) return from_status(recorded.status());
  return json_response(200, {{"recorded", *recorded}});
}

// The console's dashboard: this server's Telemetry (what its engines did since it started),
// the open incidents, the delivery log's attempts by channel and status, and the alert rules'
// states (the same figures as /metrics).
Response Api::dashboard() {
  const std::int64_t now = engine_.clock().now_ms();
  json out = options_.telemetry != nullptr
                 ? options_.telemetry->dashboard()
                 : json{{"jobs", json::array()}};
  out["now"] = now;
  // Orders per minute and cycle times from the database: the same on every node.
  constexpr int kMinutes = 30;
  constexpr std::int64_t kCycleWindowMs = 60 * 60 * 1000;
  const std::int64_t last = minute_start(now);
  const std::int64_t first = last - (kMinutes - 1) * 60'000LL;
  Result<std::vector<MinuteCount>> counted = engine_.instances_per_minute(first);
  if (!counted) return from_status(counted.status());
  Result<std::vector<CycleTime>> cycles = engine_.cycle_times(now - kCycleWindowMs);
  if (!cycles) return from_status(cycles.status());
  json minutes = json::array();
  for (int i = 0; i < kMinutes; ++i) minutes.push_back(first + i * 60'000LL);
  std::map<std::string, json> by_process;
  const auto process = [&](const std::string& id) -> json& {
    json& p = by_process[id];
    if (p.is_null()) {
      const json zeros(std::vector<std::int64_t>(kMinutes, 0));
      p = {{"processId", id}, {"started", zeros}, {"completed", zeros},
           {"terminated", zeros}, {"cycleTimes", json::array()}};
    }
    return p;
  };
  for (const MinuteCount& m : *counted) {
    const std::int64_t at = (m.minute_ms - first) / 60'000;
    if (at < 0 || at >= kMinutes) continue;
    json& p = process(m.process_id);
    p["started"][static_cast<std::size_t>(at)] = m.started;
    p["completed"][static_cast<std::size_t>(at)] = m.completed;
    p["terminated"][static_cast<std::size_t>(at)] = m.terminated;
  }
  for (const CycleTime& c : *cycles) {
    process(c.process_id)["cycleTimes"].push_back(
        {{"endEvent", c.end_event}, {"count", c.count}, {"p50Ms", c.p50_ms}, {"p95Ms", c.p95_ms}});
  }
  json processes = json::array();
  for (auto& [id, p] : by_process) processes.push_back(std::move(p));
  out["minutes"] = std::move(minutes);
  out["processes"] = std::move(processes);
  Result<std::vector<IncidentInfo>> open = engine_.incidents();
  if (!open) return from_status(open.status());
  out["incidentsOpen"] = open->size();
  json deliveries = json::array();
  if (options_.notifier) {
    Result<std::vector<Notifier::Count>> counts = options_.notifier->delivery_counts();
    if (!counts) return from_status(counts.status());
    for (const Notifier::Count& c : *counts) {
      deliveries.push_back({{"channel", c.channel}, {"status", c.status}, {"count", c.count}});
    }
  }
  out["deliveries"] = std::move(deliveries);
  json alerts = json::array();
  if (options_.kpis != nullptr) {
    for (const KpiState& s : options_.kpis->states()) {
      alerts.push_back({{"name", s.name},
                        {"kind", to_string(s.kind)},
                        {"value", s.value ? json(*s.value) : json(nullptr)},
                        {"threshold", s.threshold},
                        {"firing", s.firing},
                        {"since", s.since_ms ? json(s.since_ms) : json(nullptr)}});
    }
  }
  out["alerts"] = std::move(alerts);
  return json_response(200, out);
}

// Every deployed process with its versions, and its instances counted by state.
Response Api::element_statistics(std::string_view process_id, int version) {
  // An unknown version is a 404, not an empty list that looks like one nothing reached.
  if (Result<std::shared_ptr<const ProcessDefinition>> def =
          engine_.definition(process_id, version);
      !def) {
    return from_status(def.status());
  }
  Result<std::vector<ElementStatistics>> stats = engine_.element_statistics(process_id, version);
  if (!stats) return from_status(stats.status());
  json elements = json::array();
  for (const ElementStatistics& e : *stats) {
    elements.push_back({{"elementId", e.element_id},
                        {"active", e.active},
                        {"incidents", e.incidents},
                        {"completed", e.completed},
                        {"terminated", e.terminated},
                        {"averageMs", e.timed > 0 ? json(e.time_ms / e.timed) : json(nullptr)}});
  }
  return json_response(200, {{"processId", process_id}, {"version", version},
                             {"elements", std::move(elements)}});
}

Response Api::processes() {
  Result<std::vector<Deployment>> deployed = engine_.deployments();
  if (!deployed) return from_status(deployed.status());
  Result<std::vector<InstanceCount>> counted = engine_.count_instances();
  if (!counted) return from_status(counted.status());
  std::map<std::string, json> by_id;  // by process id, in order
  for (const Deployment& d : *deployed) {
    json& p = by_id[d.process_id];
    if (p.is_null()) {
      json counts = json::object();
      for (InstanceState s : {InstanceState::kActive, InstanceState::kSuspended,
                              InstanceState::kIncident, InstanceState::kCompleted,
                              InstanceState::kTerminated}) {
        counts[std::string(to_string(s))] = 0;
      }
      p = {{"processId", d.process_id}, {"versions", json::array()}, {"instances", counts}};
    }
    p["versions"].push_back({{"version", d.version},
                             {"contentHash", d.content_hash},
                             {"deployedAt", d.deployed_ms}});
  }
  for (const InstanceCount& c : *counted) {
    auto it = by_id.find(c.process_id);
    if (it == by_id.end()) continue;  // a process no longer deployed cannot be: defensive
    json& n = it->second["instances"][std::string(to_string(c.state))];
    n = n.get<std::int64_t>() + c.count;
  }
  json list = json::array();
  for (auto& [id, p] : by_id) list.push_back(std::move(p));
  return json_response(200, {{"processes", list}});
}

Response Api::route(const Request& r) {
  const std::vector<std::string_view> seg = segments(r.path);
  if (seg.empty() || seg[0] != "v1" || seg.size() < 2) {
    return error_response(404, "no such resource: " + r.path + " (the API is under /v1/)");
  }
  const std::string_view resource = seg[1];
  Response error;
  json body;

  if (resource == "deployments" && seg.size() == 2 && r.method == "POST") {
    const std::string name = r.query.count("name") ? r.query.at("name") : "request";
    LoadResult loaded = load_bpmn(r.body, name);
    if (!loaded.document && !loaded.diagnostics.empty() &&
        loaded.diagnostics[0].rule == "not-bpmn") {
      return deploy_decisions(name, r.body);
    }
    if (!loaded.ok()) {
      json out = {{"error",
                   {{"status", 400},
                    {"message", "the process definition has errors"},
                    {"diagnostics", json::parse(diagnostics_to_json(loaded.diagnostics))}}}};
      return json_response(400, out);
    }
        Result<std::vector<Deployment>> known = engine_.deployments();
    if (!known) return from_status(known.status());
    Result<std::vector<Deployment>> deployed = engine_.deploy(loaded.document);
    if (!deployed) return from_status(deployed.status());
    json list = json::array();
    for (const Deployment& d : *deployed) {
      list.push_back(
          {{"processId", d.process_id}, {"version", d.version}, {"contentHash", d.content_hash}});
    }
        Result<std::vector<Deployment>> now_known = engine_.deployments();
    if (!now_known) return from_status(now_known.status());
    const bool created = now_known->size() > known->size();
    if (created && options_.on_deployed) options_.on_deployed(engine_);
    return json_response(created ? 201 : 200, {{"deployments", list}, {"new", created}});
  }

  if (resource == "decisions") return decisions(r, seg);

  if (resource == "notifications" && seg.size() == 3 && seg[2] == "experiments" &&
      r.method == "GET") {
    if (!options_.notifier) {
      return error_response(404, "notifications are not configured (the notifications section "
                                 "of ordo.json)");
    }
    // Each order's outcome is looked up in its history: computed at most every 15 s, and
    // shared by the dashboards polling meanwhile.
    std::lock_guard lock(experiments_mu_);
    const auto now = std::chrono::steady_clock::now();
    if (experiments_report_.is_null() || now - experiments_at_ > std::chrono::seconds(15)) {
      // Tried at most every 15 s, failed or not; a failure serves the last report, if any.
      experiments_at_ = now;
      Result<json> report = options_.notifier->experiments_report(&engine_);
      if (!report && experiments_report_.is_null()) return from_status(report.status());
      if (report) experiments_report_ = std::move(*report);
    }
    return json_response(200, experiments_report_);
  }

  if (resource == "process-instances") {
    if (seg.size() == 2 && r.method == "GET") {
      InstanceFilter filter;
      if (auto k = r.query.find("businessKey"); k != r.query.end()) filter.business_key = k->second;
      if (auto k = r.query.find("businessKeyPrefix"); k != r.query.end()) {
        if (!filter.business_key.empty()) {
          return error_response(400, "give either 'businessKey' or 'businessKeyPrefix', not both");
        }
        filter.business_key = k->second;
        filter.business_key_prefix = true;
      }
      if (auto p = r.query.find("processId"); p != r.query.end()) filter.process_id = p->second;
      if (auto e = r.query.find("endEvent"); e != r.query.end()) filter.end_event = e->second;
      if (auto v = r.query.find("version"); v != r.query.end()) {
        std::uint64_t version = 0;
        if (!parse_id(v->second, version) || version == 0 || version > 1'000'000) {
          return error_response(400, "query 'version' must be a version number, 1 or more");
        }
        filter.version = static_cast<int>(version);
      }
      for (const auto& [name, field] : start_bounds(filter)) {
        auto t = r.query.find(name);
        if (t != r.query.end() && !date_time_value("query", name, t->second, *field, error)) {
          return error;
        }
      }
      if (auto o = r.query.find("order"); o != r.query.end()) {
        if (o->second != "oldest" && o->second != "newest") {
          return error_response(400, "query 'order' must be oldest or newest");
        }
        filter.newest_first = o->second == "newest";
      }
      if (auto a = r.query.find("after"); a != r.query.end()) {
        std::uint64_t after = 0;
        if (!parse_id(a->second, after)) {
          return error_response(400, "query 'after' must be an instance id (the 'next' of the "
                                     "previous page)");
        }
        filter.after = after;
      }
      if (auto s = r.query.find("state"); s != r.query.end()) {
        for (InstanceState st : {InstanceState::kActive, InstanceState::kCompleted,
                                 InstanceState::kTerminated, InstanceState::kIncident,
                                 InstanceState::kSuspended}) {
          if (to_string(st) == s->second) filter.state = st;
        }
        if (!filter.state) {
          return error_response(400,
                                "query 'state' must be active, completed, terminated, "
                                "incident or suspended");
        }
      }
      if (auto v = r.query.find("variable"); v != r.query.end()) {
        std::string why;
        filter.variable = parse_variable_condition(v->second, why);
        if (!filter.variable) return error_response(400, why);
      }
      if (auto m = r.query.find("incidentMessage"); m != r.query.end()) {
        filter.incident_message = m->second;
      }
      if (auto l = r.query.find("limit"); l != r.query.end()) {
        std::uint64_t limit = 0;
        if (!parse_id(l->second, limit) || limit == 0 || limit > 10000) {
          return error_response(400, "query 'limit' must be a whole number from 1 to 10000");
        }
        filter.limit = static_cast<int>(limit);
      }
      Result<std::vector<InstanceInfo>> found = engine_.instances(filter);
      if (!found) return from_status(found.status());
      json list = json::array();
      for (const InstanceInfo& i : *found) list.push_back(summary_view(i));
      // A full page may have more after it: `next` is the cursor for ?after=.
      const bool full = static_cast<int>(found->size()) == filter.limit;
      return json_response(200, {{"instances", list},
                                 {"next", full ? json(found->back().id) : json(nullptr)}});
    }
    // POST /v1/process-instances/cancel: the running instances (active, or held by an
    // incident) that match a filter, at most `max` (1000; up to 10000) per request, each
    // cancelled in its own transaction; with "dryRun": true only counted.
    if (seg.size() == 3 && seg[2] == "cancel" && r.method == "POST") {
      if (!parse_object(r, body, error)) return error;
      if (!check_fields(body, {{"processId", json::value_t::string},
                               {"version", json::value_t::number_integer},
                               {"businessKeyPrefix", json::value_t::string},
                               {"state", json::value_t::string},
                               {"variable", json::value_t::string},
                               {"incidentMessage", json::value_t::string},
                               {"startedFrom", json::value_t::string},
                               {"startedTo", json::value_t::string},
                               {"max", json::value_t::number_integer},
                               {"dryRun", json::value_t::boolean}},
                        error)) {
        return error;
      }
      InstanceFilter filter;
      const bool by_process = body.contains("processId") && body["processId"].is_string() &&
                              !text(body, "processId").empty();
      const bool by_key = body.contains("businessKeyPrefix") && body["businessKeyPrefix"].is_string();
      if (!by_process && !by_key) {
        return error_response(400, "give 'processId' or 'businessKeyPrefix' (or both): the "
                                   "instances to cancel");
      }
      filter.process_id = text(body, "processId");
      std::int64_t version = 0, max = 1000;
      if (!int_field(body, "version", 1, 1'000'000, "a version number, 1 or more", version,
                     error) ||
          !int_field(body, "max", 1, 10'000, "from 1 to 10000", max, error) ||
          !filter_fields(body, filter, error)) {
        return error;
      }
      filter.version = static_cast<int>(version);
      std::vector<InstanceState> states = {InstanceState::kActive, InstanceState::kIncident,
                                           InstanceState::kSuspended};
      if (body.contains("state") && !body["state"].is_null()) {
        const std::string s = text(body, "state");
        states.clear();
        for (InstanceState st : {InstanceState::kActive, InstanceState::kIncident,
                                 InstanceState::kSuspended}) {
          if (to_string(st) == s) states.push_back(st);
        }
        if (states.empty()) {
          return error_response(400, "field 'state' must be active, incident or suspended: "
                                     "only running instances can be cancelled");
        }
      }
      // Called instances are cancelled with their root: only roots are taken.
      std::vector<InstanceId> ids;
      bool more = false;
      for (InstanceState s : states) {
        filter.state = s;
        filter.limit = static_cast<int>(max) + 1;
        Result<std::vector<InstanceInfo>> found = engine_.instances(filter);
        if (!found) return from_status(found.status());
        for (const InstanceInfo& i : *found) {
          if (i.parent == 0) ids.push_back(i.id);
        }
      }
      std::sort(ids.begin(), ids.end());
      if (ids.size() > static_cast<std::size_t>(max)) {
        ids.resize(static_cast<std::size_t>(max));
        more = true;
      }
      if (body.value("dryRun", false)) {
        return json_response(200, {{"count", ids.size()}, {"more", more}});
      }
      int cancelled = 0;
      json failed = json::array();
      for (InstanceId i : ids) {
        if (Status s = engine_.cancel(i); s) {
          ++cancelled;
        } else {
          failed.push_back({{"id", i}, {"message", s.message()}});
        }
      }
      return json_response(200, {{"cancelled", cancelled}, {"failed", failed}, {"more", more}});
    }
    std::uint64_t id = 0;
    if (seg.size() >= 3 && !parse_id(seg[2], id)) {
      return error_response(404, "no process instance '" + std::string(seg[2]) +
                                     "' (ids are whole numbers; find one by business key with "
                                     "?businessKey=)");
    }
    if (seg.size() == 3 && r.method == "GET") {
      Result<InstanceInfo> found = engine_.instance(id);
      if (!found) return from_status(found.status());
      json out = summary_view(*found);
      out["variables"] = found->variables;
      out["parentId"] = found->parent == 0 ? json() : json(found->parent);
      json elements = json::array();
      for (const ElementInfo& e : found->elements) {
        json el = {{"elementId", e.element_id},
                   {"kind", to_string(e.kind)},
                   {"state", to_string(e.state)}};
        if (e.called != 0) el["calledInstanceId"] = e.called;
        elements.push_back(std::move(el));
      }
      out["elements"] = std::move(elements);
      json jobs = json::array();
      for (const JobInfo& j : found->jobs) jobs.push_back(job_view(j));
      out["jobs"] = std::move(jobs);
      // ?deliveries: the customer messages sent for the order (the delivery log, by the
      // business key, as the notification adapter files them).
      if (r.query.count("deliveries")) {
        json sent = json::array();
        if (options_.notifier != nullptr && !found->business_key.empty()) {
          Result<std::vector<DeliveryRecord>> log =
              options_.notifier->deliveries(found->business_key);
          if (!log) return from_status(log.status());
          for (const DeliveryRecord& d : *log) sent.push_back(delivery_view(d));
        }
        out["deliveries"] = std::move(sent);
      }
      json incidents = json::array();
      for (const IncidentInfo& i : found->incidents) incidents.push_back(incident_view(i));
      out["incidents"] = std::move(incidents);
      if (r.query.count("history")) {
        Result<std::vector<HistoryEvent>> history = engine_.history(id);
        if (!history) return from_status(history.status());
        json events = json::array();
        for (const HistoryEvent& e : *history) events.push_back(event_view(e));
        out["history"] = std::move(events);
      }
      return json_response(200, out);
    }
    if (seg.size() == 4 && seg[3] == "cancel" && r.method == "POST") {
      if (Status s = engine_.cancel(id); !s) return from_status(s);
      return json_response(200, {{"id", id}, {"state", "terminated"}});
    }
    // Pauses a running instance until it is resumed, and resumes it.
    if (seg.size() == 4 && (seg[3] == "suspend" || seg[3] == "resume") && r.method == "POST") {
      const bool suspend = seg[3] == "suspend";
      if (Status s = suspend ? engine_.suspend(id) : engine_.resume(id); !s) return from_status(s);
      Result<InstanceInfo> now = engine_.instance(id);
      if (!now) return from_status(now.status());
      return json_response(200, {{"id", id}, {"state", to_string(now->state)}});
    }
    // Sets process-level variables (those given; the others stay).
    if (seg.size() == 4 && seg[3] == "variables" && r.method == "POST") {
      if (!parse_object(r, body, error)) return error;
      if (!check_fields(body, {{"variables", json::value_t::object}}, error)) return error;
      if (!body.contains("variables")) {
        return error_response(400, "field 'variables' is required: an object of the variables to set");
      }
      if (Status s = engine_.set_variables(id, body["variables"]); !s) return from_status(s);
      Result<InstanceInfo> now = engine_.instance(id);
      if (!now) return from_status(now.status());
      return json_response(200, {{"id", id}, {"variables", now->variables}});
    }
  }

  // What the request's token may do, for a client that shows only what it may do (the
  // console hides the buttons of actions the API would refuse).
  if (resource == "token" && seg.size() == 2 && r.method == "GET") {
    json scopes = json::array();
    if (options_.tokens.empty()) {
      // Loopback without tokens: anything, except from a web page (admit() refuses its
      // actions): a browser says so in its Origin or Sec-Fetch-Site header.
      const bool page = r.headers.count("origin") || r.headers.count("sec-fetch-site");
      scopes = page ? json{"read"} : json{"read", "write", "admin", "worker"};
    } else if (const Token* t = token_of(r)) {
      scopes = t->scopes;
    }
    return json_response(200, {{"scopes", scopes}, {"tokensConfigured", !options_.tokens.empty()}});
  }

  if (resource == "dashboard" && seg.size() == 2 && r.method == "GET") return dashboard();

  // POST /v1/migrations: move running instances to another version of their process
  // (docs/http-api.md): the instances named, or those of the source version a filter selects
  // (at most `max`, 1000; up to 10000), each in its own transaction; "dryRun" says what would
  // happen. 400 for a plan that cannot work, naming every problem.
  if (resource == "migrations" && seg.size() == 2 && r.method == "POST") {
    if (!parse_object(r, body, error)) return error;
    if (!check_fields(body, {{"processId", json::value_t::string},
                             {"sourceVersion", json::value_t::number_integer},
                             {"targetVersion", json::value_t::number_integer},
                             {"mappings", json::value_t::array},
                             {"mapById", json::value_t::boolean},
                             {"rescheduleTimers", json::value_t::boolean},
                             {"instances", json::value_t::array},
                             {"businessKeyPrefix", json::value_t::string},
                             {"state", json::value_t::string},
                             {"variable", json::value_t::string},
                             {"incidentMessage", json::value_t::string},
                             {"startedFrom", json::value_t::string},
                             {"startedTo", json::value_t::string},
                             {"max", json::value_t::number_integer},
                             {"dryRun", json::value_t::boolean}},
                      error)) {
      return error;
    }
    MigrationRequest m;
    m.plan.process_id = text(body, "processId");
    if (m.plan.process_id.empty()) {
      return error_response(400, "field 'processId' is required: the process to migrate");
    }
    std::int64_t source = 0, target = 0, max = 1000;
    if (!body.contains("sourceVersion")) {
      return error_response(400, "field 'sourceVersion' is required: the version the "
                                 "instances run now");
    }
    if (!int_field(body, "sourceVersion", 1, 1'000'000, "a version number, 1 or more", source,
                   error) ||
        !int_field(body, "targetVersion", 1, 1'000'000, "a version number, 1 or more", target,
                   error) ||
        !int_field(body, "max", 1, 10'000, "from 1 to 10000", max, error) ||
        !filter_fields(body, m.filter, error)) {
      return error;
    }
    m.plan.source_version = static_cast<int>(source);
    m.plan.target_version = static_cast<int>(target);
    auto flag = [&](const char* key, bool otherwise) {
      return body.contains(key) && body[key].is_boolean() ? body[key].get<bool>() : otherwise;
    };
    m.plan.map_by_id = flag("mapById", true);
    m.plan.reschedule_timers = flag("rescheduleTimers", false);
    m.dry_run = flag("dryRun", false);
    m.filter.limit = static_cast<int>(max);
    if (body.contains("mappings") && body["mappings"].is_array()) {
      if (body["mappings"].size() > 10'000) {
        return error_response(400, "at most 10000 'mappings' per request");
      }
      for (const json& pair : body["mappings"]) {
        if (!pair.is_object() || !pair.contains("source") || !pair.contains("target") ||
            !pair["source"].is_string() || !pair["target"].is_string() || pair.size() != 2) {
          return error_response(400, "each of 'mappings' must be {\"source\": \"element id\", "
                                     "\"target\": \"element id\"}");
        }
        m.plan.mappings.emplace_back(pair["source"].get<std::string>(),
                                     pair["target"].get<std::string>());
      }
    }
    if (body.contains("instances") && body["instances"].is_array()) {
      for (const json& id : body["instances"]) {
        if (!id.is_number_unsigned() || id.get<std::uint64_t>() == 0) {
          return error_response(400, "each of 'instances' must be an instance id (1 or more)");
        }
        m.instances.push_back(id.get<InstanceId>());
      }
      if (m.instances.empty()) {
        return error_response(400, "'instances' is empty: name at least one, or leave it out "
                                   "to take the running instances a filter selects");
      }
      if (m.instances.size() > static_cast<std::size_t>(max)) {
        return error_response(400, "at most 'max' (" + std::to_string(max) +
                                       ") instances per request");
      }
      for (const char* f : {"businessKeyPrefix", "state", "variable", "incidentMessage",
                            "startedFrom", "startedTo"}) {
        if (body.contains(f) && !body[f].is_null()) {
          return error_response(400, std::string("give 'instances' or filter fields, not "
                                                 "both ('") + f + "' with 'instances')");
        }
      }
    }
    if (body.contains("state") && !body["state"].is_null()) {
      const std::string s = text(body, "state");
      for (InstanceState st :
           {InstanceState::kActive, InstanceState::kIncident, InstanceState::kSuspended}) {
        if (to_string(st) == s) m.filter.state = st;
      }
      if (!m.filter.state) {
        return error_response(400, "field 'state' must be active, incident or suspended: only "
                                   "running instances migrate");
      }
    }
    Result<MigrationReport> report = engine_.migrate(m);
    if (!report) return from_status(report.status());
    return json_response(200, to_json(*report));
  }

  // POST /v1/conditions: start the processes whose conditional start event holds for the
  // variables given.
  if (resource == "conditions" && seg.size() == 2 && r.method == "POST") {
    if (!parse_object(r, body, error)) return error;
    if (!check_fields(body, {{"variables", json::value_t::object},
                             {"processId", json::value_t::string}},
                      error)) {
      return error;
    }
    if (!body.contains("variables") || !body["variables"].is_object()) {
      return error_response(400, "field 'variables' is required: the variables the start "
                                 "conditions are evaluated on, a JSON object");
    }
    Result<MessageResult> started =
        engine_.start_by_conditions(std::move(body["variables"]), text(body, "processId"));
    if (!started) return from_status(started.status());
    return json_response(200, {{"instances", started->instances}});
  }

  // POST /v1/signals: broadcast a signal to every instance waiting for it.
  if (resource == "signals" && seg.size() == 2 && r.method == "POST") {
    if (!parse_object(r, body, error)) return error;
    if (!check_fields(body, {{"name", json::value_t::string}, {"variables", json::value_t::object}},
                      error)) {
      return error;
    }
    const std::string name = text(body, "name");
    if (name.empty()) return error_response(400, "field 'name' is required: the signal's name");
    Result<MessageResult> sent =
        engine_.broadcast_signal(name, body.value("variables", json::object()));
    if (!sent) return from_status(sent.status());
    return json_response(200, {{"instances", sent->instances}});
  }

  if (resource == "processes" && (r.method == "GET" || r.method == "HEAD")) {
    if (seg.size() == 2) return processes();
    // /v1/processes/{processId}/versions/{version}/xml: the BPMN XML it was deployed as.
    std::uint64_t version = 0;
    if (seg.size() == 6 && seg[3] == "versions" && seg[5] == "xml" && parse_id(seg[4], version) &&
        version > 0 && version <= 1'000'000) {
      Result<std::string> xml = engine_.deployment_xml(seg[2], static_cast<int>(version));
      if (!xml) return from_status(xml.status());
      Response out;
      out.content_type = "application/xml; charset=utf-8";
      out.body = std::move(*xml);
      return out;
    }
    // /v1/processes/{processId}/versions/{version}/elements: what happened at each element
    // (the console's badges and heatmap).
    if (seg.size() == 6 && seg[3] == "versions" && seg[5] == "elements" &&
        parse_id(seg[4], version) && version > 0 && version <= 1'000'000) {
      return element_statistics(seg[2], static_cast<int>(version));
    }
  }

  if (resource == "incidents") {
    if (seg.size() == 2 && r.method == "GET") {
      Result<std::vector<IncidentInfo>> open = engine_.incidents();
      if (!open) return from_status(open.status());
      json list = json::array();
      for (const IncidentInfo& i : *open) list.push_back(incident_view(i));
      return json_response(200, {{"incidents", list}});
    }
    // POST /v1/incidents/resolve: every open incident that matches the filter (process,
    // element, message: each optional, all that are given must match) gets `retries` more.
    if (seg.size() == 3 && seg[2] == "resolve" && r.method == "POST") {
      if (!parse_object(r, body, error)) return error;
      if (!check_fields(body, {{"processId", json::value_t::string},
                               {"elementId", json::value_t::string},
                               {"message", json::value_t::string},
                               {"retries", json::value_t::number_integer}},
                        error)) {
        return error;
      }
      std::int64_t retries = 1;
      if (!int_field(body, "retries", 1, 1000, "1 or more (at most 1000)", retries, error)) {
        return error;
      }
      bool filtered = false;
      for (const char* field : {"processId", "elementId", "message"}) {
        if (!body.contains(field)) continue;
        if (!body[field].is_string()) {
          return error_response(400, std::string("field '") + field + "' must be a string");
        }
        filtered = true;
      }
      if (!filtered) {
        return error_response(400,
                              "give at least one of 'processId', 'elementId' and 'message': "
                              "the incidents to retry");
      }
      Result<std::vector<IncidentInfo>> open = engine_.incidents();
      if (!open) return from_status(open.status());
      const auto matches = [&](const char* field, const std::string& value) {
        return !body.contains(field) || body[field].get<std::string>() == value;
      };
      int resolved = 0;
      json failed = json::array();
      for (const IncidentInfo& i : *open) {
        if (!matches("processId", i.process_id) || !matches("elementId", i.element_id) ||
            !matches("message", i.message)) {
          continue;
        }
        // One by one, each in its own transaction: one that cannot be resolved (resolved
        // meanwhile, a damaged instance) is reported and the others go on.
        if (Status s = engine_.resolve_incident(i.key, static_cast<int>(retries)); s) {
          ++resolved;
        } else {
          failed.push_back({{"key", i.key}, {"message", s.message()}});
        }
      }
      return json_response(200, {{"resolved", resolved}, {"failed", failed}});
    }
    std::uint64_t key = 0;
    if (seg.size() == 4 && seg[3] == "resolve" && r.method == "POST" && parse_id(seg[2], key)) {
      if (!parse_object(r, body, error)) return error;
      if (!check_fields(body, {{"retries", json::value_t::number_integer},
                               {"variables", json::value_t::object}},
                        error)) {
        return error;
      }
      std::int64_t retries = 1;
      if (!int_field(body, "retries", 1, 1000, "1 or more (at most 1000)", retries, error)) {
        return error;
      }
      // With variables: set on the incident's instance (what fixes the cause) in the same
      // transaction as the retry.
      const Status s = body.contains("variables")
                           ? engine_.resolve_incident(key, static_cast<int>(retries),
                                                      std::move(body["variables"]))
                           : engine_.resolve_incident(key, static_cast<int>(retries));
      if (!s) return from_status(s);
      return json_response(200, {{"key", key}, {"resolved", true}});
    }
  }
  return error_response(404, "no such resource: " + r.method + " " + r.path);
}

}  // namespace ordo::server
