// RabbitMQ out: the history log published as CloudEvents, with confirms, from a position
// kept in the database (include/ordo/adapters/queues.h, docs/queues.md#events).
#include <unistd.h>

#include <mutex>
#include <thread>

#include "http/http_call.h"
#include "ordo/adapters/queues.h"
#include "queue/amqp.h"
#include "queue/common.h"
#include "time/iso8601.h"

namespace ordo {

using nlohmann::json;

namespace {

using adapters::queue::bad;
using adapters::queue::read_keys;

constexpr std::uint16_t kChannel = 1;
constexpr std::size_t kBatch = 4096;    // events read from the log at a time
constexpr std::int64_t kIdleMs = 50;    // how long to wait when the log has nothing new

struct Rule {
  std::vector<HistoryKind> kinds;
  std::vector<std::string> elements;  // empty: any
  adapters::Text routing_key;         // empty text: "<processId>.<type>"
};

struct Settings {
  std::string url;
  std::string exchange;
  std::string exchange_type = "topic";
  bool declare = false;
  std::string source = "ordo";
  std::string reader;
  std::int64_t lease_ms = 10'000;
  std::string node;  // who holds the lease: default the host's name
  std::vector<Rule> rules;
};

Result<std::vector<HistoryKind>> kinds_named(const std::string& name, const std::string& at) {
  if (name == "instance-ended") {
    return std::vector<HistoryKind>{HistoryKind::kInstanceCompleted, HistoryKind::kInstanceTerminated};
  }
  for (int k = 0; k <= static_cast<int>(HistoryKind::kDecisionEvaluated); ++k) {
    const auto kind = static_cast<HistoryKind>(k);
    if (to_string(kind) == name) return std::vector<HistoryKind>{kind};
  }
  return bad(at, "'" + name + "' is not an event Ordo records: instance-started, "
                 "instance-completed, instance-terminated, instance-ended, element-activated, "
                 "element-completed, job-failed, incident-raised, incident-resolved, "
                 "message-correlated, ... (docs/queues.md#events)");
}

Result<Settings> read_settings(const json& section, const std::string& where) {
  Settings out;
  if (auto url = section.find("url"); url != section.end()) {
    if (Status s = adapters::queue::read_url(*url, where + ".url", out.url); !s) return s;
  }
  const std::string at = where + ".events";
  Status s = read_keys(
      section["events"], at,
      {"exchange", "exchangeType", "declare", "source", "reader", "lease", "node", "publish"},
      [&](const std::string& key, const json& v, const std::string& k_at) -> Status {
        if (key == "lease") {
          std::optional<std::int64_t> ms;
          if (v.is_string()) ms = time::parse_fixed_duration_ms(v.get<std::string>());
          if (!ms || *ms < 1000 || *ms > 600'000) {
            return bad(k_at, "must be a duration from PT1S to PT10M (how long a node that "
                             "stopped keeps the others from publishing)");
          }
          out.lease_ms = *ms;
          return Status::ok();
        }
        if (key == "declare") {
          if (!v.is_boolean()) return bad(k_at, "must be true or false");
          out.declare = v.get<bool>();
          return Status::ok();
        }
        if (key != "publish") {
          if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 255) {
            return bad(k_at, "must be a text of 1 to 255 characters");
          }
          const std::string text = v.get<std::string>();
          if (key == "exchangeType" && text != "topic" && text != "direct" && text != "fanout" &&
              text != "headers") {
            return bad(k_at, "must be topic, direct, fanout or headers");
          }
          (key == "exchange"       ? out.exchange
           : key == "exchangeType" ? out.exchange_type
           : key == "source"       ? out.source
           : key == "node"         ? out.node
                                   : out.reader) = text;
          return Status::ok();
        }
        if (!v.is_array() || v.empty()) {
          return bad(k_at, "must be a list of the events to publish, e.g. [{\"on\": \"instance-started\"}]");
        }
        for (std::size_t i = 0; i < v.size(); ++i) {
          Rule rule;
          bool has_on = false;
          const std::string r_at = k_at + "[" + std::to_string(i) + "]";
          Status r = read_keys(v[i], r_at, {"on", "elements", "routingKey"},
                               [&](const std::string& rk, const json& rv, const std::string& rv_at) -> Status {
                                 if (rk == "on") {
                                   if (!rv.is_string()) return bad(rv_at, "must be the name of an event");
                                   auto kinds = kinds_named(rv.get<std::string>(), rv_at);
                                   if (!kinds) return kinds.status();
                                   rule.kinds = std::move(*kinds);
                                   has_on = true;
                                   return Status::ok();
                                 }
                                 if (rk == "elements") {
                                   if (!rv.is_array()) return bad(rv_at, "must be a list of element ids");
                                   for (const json& e : rv) {
                                     if (!e.is_string()) return bad(rv_at, "must be a list of element ids");
                                     rule.elements.push_back(e.get<std::string>());
                                   }
                                   return Status::ok();
                                 }
                                 auto t = adapters::text_setting(rv, rv_at);
                                 if (!t) return t.status();
                                 rule.routing_key = std::move(*t);
                                 return Status::ok();
                               });
          if (!r) return r;
          if (!has_on) return bad(r_at + ".on", "is required: which event to publish");
          out.rules.push_back(std::move(rule));
        }
        return Status::ok();
      });
  if (!s) return s;
  if (out.url.empty()) return bad(where + ".url", "is required: the broker's amqp:// URL");
  if (out.exchange.empty()) return bad(at + ".exchange", "is required: where the events go");
  if (out.rules.empty()) return bad(at + ".publish", "is required: which events to publish");
  if (out.reader.empty()) out.reader = "events:" + out.exchange;
  return out;
}

// What a routing key's expression sees of an event.
class EventVariables final : public expr::Variables {
 public:
  explicit EventVariables(const json& data) : data_(data) {}
  const json* find(std::string_view name) const override {
    auto it = data_.find(name);
    return it == data_.end() ? nullptr : &*it;
  }

 private:
  const json& data_;
};

}  // namespace

struct EventPublisher::Impl {
  Settings settings;
  // Who this publisher is among the nodes of one database (Engine::claim_log).
  std::string owner;
  LogFunction log;
  adapters::queue::Stopper stop;
  Engine* engine = nullptr;
  std::thread thread;
  mutable std::mutex mu;
  EventPublisherState state;

  void say(LogLevel level, const std::string& message) const {
    if (log) log(level, message);
  }
  void run();
  Status publish(std::int64_t& backoff_ms);
  // The rule an event falls under, or null.
  const Rule* rule_for(const LogEvent& e) const {
    for (const Rule& r : settings.rules) {
      if (std::find(r.kinds.begin(), r.kinds.end(), e.event.kind) == r.kinds.end()) continue;
      if (!r.elements.empty() &&
          std::find(r.elements.begin(), r.elements.end(), e.event.element_id) == r.elements.end()) {
        continue;
      }
      return &r;
    }
    return nullptr;
  }
};

EventPublisher::EventPublisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EventPublisher::~EventPublisher() { stop(); }

Result<std::unique_ptr<EventPublisher>> EventPublisher::create(const json& section,
                                                               const std::string& where,
                                                               LogFunction log) {
  if (!section.is_object() || !section.contains("events")) return std::unique_ptr<EventPublisher>();
  Result<Settings> settings = read_settings(section, where);
  if (!settings) return settings.status();
  auto impl = std::make_unique<Impl>();
  impl->settings = std::move(*settings);
  impl->log = std::move(log);
  impl->state.exchange = impl->settings.exchange;
  // A node restarting takes its own lease back at once; another waits for it to run out.
  if (impl->settings.node.empty()) {
    char host[256] = {};
    impl->settings.node = ::gethostname(host, sizeof host - 1) == 0 ? host : "ordo";
  }
  impl->owner = impl->settings.node;
  impl->state.state = "stopped";
  return std::unique_ptr<EventPublisher>(new EventPublisher(std::move(impl)));
}

void EventPublisher::start(Engine& engine) {
  if (impl_->thread.joinable()) return;
  impl_->engine = &engine;
  impl_->stop.reset();
  impl_->thread = std::thread([this] { impl_->run(); });
}

void EventPublisher::stop() {
  impl_->stop.raise();
  if (impl_->thread.joinable()) impl_->thread.join();
}

EventPublisherState EventPublisher::state() const {
  std::lock_guard lock(impl_->mu);
  return impl_->state;
}

void EventPublisher::Impl::run() {
  std::int64_t backoff_ms = adapters::queue::kFirstBackoffMs;
  bool first = true;
  while (!stop.stopping()) {
    {
      std::lock_guard lock(mu);
      state.state = "connecting";
      if (!first) ++state.reconnects;
    }
    first = false;
    Status s = Status::ok();
    try {
      s = publish(backoff_ms);
    } catch (const std::exception& e) {
      s = Status::internal(std::string("unexpected error (please report it): ") + e.what());
    }
    if (stop.stopping()) break;
    {
      std::lock_guard lock(mu);
      state.state = "retrying";
      if (s.message() != state.last_error) {
        say(LogLevel::kWarning, "events to exchange '" + settings.exchange + "': " + s.message() +
                                    "; trying again in " + std::to_string(backoff_ms) + " ms");
      }
      state.last_error = s.message();
    }
    if (!stop.pause(backoff_ms)) break;
    backoff_ms = std::min(backoff_ms * 2, adapters::queue::kMaxBackoffMs);
  }
  std::lock_guard lock(mu);
  state.state = "stopped";
}

Status EventPublisher::Impl::publish(std::int64_t& backoff_ms) {
  using adapters::amqp::Connection;
  auto opened = Connection::open(settings.url, "ordo: events to " + settings.exchange);
  if (!opened) return opened.status();
  std::unique_ptr<Connection> conn = std::move(*opened);
  if (Status s = conn->open_channel(kChannel); !s) return s;
  if (settings.declare) {
    if (Status s = conn->declare_exchange(kChannel, settings.exchange, settings.exchange_type); !s) {
      return s;
    }
  }
  if (Status s = conn->confirm_select(kChannel); !s) return s;
  {
    std::lock_guard lock(mu);
    if (!state.last_error.empty()) say(LogLevel::kInfo, "events to exchange '" + settings.exchange + "': connected again");
    state.last_error.clear();
  }
  backoff_ms = adapters::queue::kFirstBackoffMs;
  adapters::amqp::Properties p;
  p.content_type = "application/cloudevents+json";
  p.app_id = "ordo";
  std::uint64_t at = 0;
  bool leading = false;
  auto next_claim = std::chrono::steady_clock::time_point{};
  while (!stop.stopping()) {
    // One publisher of the reader among the nodes of a database: the lease's holder. The
    // others stand by, and one takes over, from the kept position, when it runs out.
    if (std::chrono::steady_clock::now() >= next_claim) {
      Result<bool> held = engine->claim_log(settings.reader, owner, settings.lease_ms);
      if (!held) return held.status();
      next_claim = std::chrono::steady_clock::now() + std::chrono::milliseconds(settings.lease_ms / 3);
      if (*held && !leading) {
        Result<std::uint64_t> position = engine->log_position(settings.reader);
        if (!position) return position.status();
        at = *position;
      }
      leading = *held;
      std::lock_guard lock(mu);
      state.state = leading ? "publishing" : "standby";
      state.position = at;
    }
    if (!leading) {
      if (Status s = conn->keep_alive(); !s) return s;
      stop.pause(std::min<std::int64_t>(settings.lease_ms / 3, 1000));
      continue;
    }
    Result<std::vector<LogEvent>> events = engine->history_log(at, kBatch);
    if (!events) return events.status();
    if (events->empty()) {
      if (Status s = conn->keep_alive(); !s) return s;
      stop.pause(kIdleMs);
      continue;
    }
    std::uint64_t sent = 0;
    for (const LogEvent& e : *events) {
      const Rule* rule = rule_for(e);
      if (rule == nullptr) continue;
      const std::string type(to_string(e.event.kind));
      json data = {{"type", type},
                   {"processId", e.event.process_id},
                   {"instanceId", e.event.instance},
                   {"businessKey", e.business_key}};
      if (!e.event.element_id.empty()) data["elementId"] = e.event.element_id;
      if (e.event.key != 0) data["key"] = e.event.key;
      if (e.event.value != 0) data["value"] = e.event.value;
      if (!e.event.detail.empty()) data["detail"] = e.event.detail;
      std::string routing_key;
      if (rule->routing_key.text.empty()) {
        routing_key = std::string(e.event.process_id) + "." + type;
      } else {
        const EventVariables vars(data);
        Result<std::string> key = adapters::render(rule->routing_key, vars);
        // A routing key that cannot be made is the configuration's fault: the event goes
        // with the default one rather than holding every later event back.
        if (!key) {
          say(LogLevel::kWarning, "events to exchange '" + settings.exchange + "': routingKey " +
                                      rule->routing_key.text + ": " + key.status().message() +
                                      "; event " + std::to_string(e.event.sequence) +
                                      " goes with the default key");
        }
        routing_key = key ? *key : std::string(e.event.process_id) + "." + type;
      }
      const std::string id = std::to_string(e.event.sequence);
      const json cloud_event = {{"specversion", "1.0"},
                                {"id", id},
                                {"source", settings.source},
                                {"type", "io.ordo." + type},
                                {"time", time::format_date_time(e.event.time_ms)},
                                {"subject", e.business_key.empty() ? std::to_string(e.event.instance)
                                                                   : e.business_key},
                                {"datacontenttype", "application/json"},
                                {"data", std::move(data)}};
      p.message_id = id;
      p.type = "io.ordo." + type;
      p.timestamp = e.event.time_ms / 1000;
      if (Status s = conn->publish(kChannel, settings.exchange, routing_key, cloud_event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), p,
                                   false);
          !s) {
        return s;
      }
      ++sent;
    }
    if (sent > 0) {
      if (Status s = conn->wait_for_confirms(kChannel, adapters::queue::kConfirmMs); !s) return s;
    }
    // Confirmed (or nothing to send): the position moves past the batch.
    at = events->back().event.sequence;
    if (Status s = engine->set_log_position(settings.reader, at); !s) return s;
    std::lock_guard lock(mu);
    state.position = at;
    state.published += sent;
  }
  return Status::ok();
}

}  // namespace ordo
