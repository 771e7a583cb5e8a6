// RabbitMQ consumers: deliveries become starts and messages, acknowledged after the commit
// (include/ordo/adapters/queues.h, docs/queues.md).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
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

constexpr std::uint16_t kChannel = 1;       // consuming, on the consumer's connection
constexpr std::uint16_t kPublish = 1;       // dead letters, on the control connection
constexpr std::uint16_t kLook = 2;          // queue depth, on the control connection
constexpr std::int64_t kPollMs = 200;       // how often a quiet consumer checks for stop
constexpr std::int64_t kLookEveryMs = 1000;  // how often the queue's depth is read
using adapters::queue::bad;
using adapters::queue::kConfirmMs;
using adapters::queue::kFirstBackoffMs;
using adapters::queue::kMaxBackoffMs;
using adapters::queue::read_keys;

struct Binding {
  std::string queue;
  bool starts = true;  // "start"; else "message"
  adapters::Text target;              // start: processId; message: name
  std::optional<adapters::Text> key;  // start: businessKey; message: correlationKey
  const char* target_name() const { return starts ? "processId" : "name"; }
  const char* key_name() const { return starts ? "businessKey" : "correlationKey"; }
  std::shared_ptr<const CompiledExpression> variables;  // null: the body
  adapters::Text message_id;
  std::int64_t ttl_ms = 0;
  std::string dead_letter_exchange;
  std::string dead_letter_routing_key;
  std::uint16_t prefetch = 256;
  bool declare = false;
};

Result<std::shared_ptr<const CompiledExpression>> expression(const json& value,
                                                             const std::string& at) {
  if (!value.is_string() || value.get<std::string>().empty() || value.get<std::string>()[0] != '=') {
    return bad(at, "must be a FEEL expression, \"=...\" (e.g. \"=body\")");
  }
  return adapters::compile_feel(value.get<std::string>(), at);
}

// A consumer's "start" or "message" object: what each delivery becomes.
Status read_mapping(const json& v, const std::string& where, Binding& b) {
  const std::initializer_list<std::string_view> start_keys = {"processId", "businessKey",
                                                              "variables"};
  const std::initializer_list<std::string_view> message_keys = {"name", "correlationKey",
                                                                "variables", "timeToLive"};
  bool has_target = false;
  Status m = read_keys(
      v, where, b.starts ? start_keys : message_keys,
      [&](const std::string& k, const json& x, const std::string& w) -> Status {
        if (k == "variables") {
          auto e = expression(x, w);
          if (!e) return e.status();
          b.variables = std::move(*e);
          return Status::ok();
        }
        if (k == "timeToLive") {
          std::optional<std::int64_t> ms;
          if (x.is_string()) ms = time::parse_fixed_duration_ms(x.get<std::string>());
          if (!ms) return bad(w, "must be an ISO 8601 duration such as \"PT1H\" (at most P3660D)");
          b.ttl_ms = *ms;
          return Status::ok();
        }
        auto t = adapters::text_setting(x, w);
        if (!t) return t.status();
        if (t->text.empty()) return bad(w, "must not be empty");
        if (k == b.target_name()) {
          has_target = true;
          b.target = std::move(*t);
        } else {
          b.key = std::move(*t);
        }
        return Status::ok();
      });
  if (!m) return m;
  if (!has_target) {
    return bad(where + "." + b.target_name(),
               b.starts ? "is required: the process to start" : "is required: the message's name");
  }
  return Status::ok();
}

Result<Binding> read_binding(const json& c, const std::string& at) {
  Binding b;
  auto message_id = adapters::text_setting("=properties.messageId", at);
  if (!message_id) return message_id.status();
  b.message_id = std::move(*message_id);
  bool mapped = false;
  Status s = read_keys(
      c, at,
      {"queue", "start", "message", "messageId", "deadLetterExchange", "deadLetterRoutingKey",
       "prefetch", "declare"},
      [&](const std::string& key, const json& v, const std::string& where) -> Status {
        if (key == "queue" || key == "deadLetterExchange" || key == "deadLetterRoutingKey") {
          if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 255) {
            return bad(where, "must be a name of 1 to 255 characters");
          }
          (key == "queue"                ? b.queue
           : key == "deadLetterExchange" ? b.dead_letter_exchange
                                         : b.dead_letter_routing_key) = v.get<std::string>();
          return Status::ok();
        }
        if (key == "prefetch") {
          if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > 65535) {
            return bad(where, "must be a whole number from 1 to 65535");
          }
          b.prefetch = static_cast<std::uint16_t>(v.get<std::int64_t>());
          return Status::ok();
        }
        if (key == "declare") {
          if (!v.is_boolean()) return bad(where, "must be true or false");
          b.declare = v.get<bool>();
          return Status::ok();
        }
        if (key == "messageId") {
          auto t = adapters::text_setting(v, where);
          if (!t) return t.status();
          if (!t->feel) return bad(where, "must be a FEEL expression, \"=...\"");
          b.message_id = std::move(*t);
          return Status::ok();
        }
        if (mapped) return bad(where, "a consumer either starts instances or publishes messages");
        mapped = true;
        b.starts = key == "start";
        return read_mapping(v, where, b);
      });
  if (!s) return s;
  if (b.queue.empty()) return bad(at + ".queue", "is required: the queue to consume");
  if (!mapped) {
    return bad(at, "says neither \"start\" (start an instance per message) nor \"message\" "
                   "(publish each message to the instances waiting for it)");
  }
  if (b.dead_letter_exchange.empty()) {
    return bad(at + ".deadLetterExchange",
               "is required: where a message that cannot apply goes, with the reason");
  }
  if (b.dead_letter_routing_key.empty()) b.dead_letter_routing_key = b.queue;
  return b;
}

// What the consumer's expressions see of a delivery.
class DeliveryVariables final : public expr::Variables {
 public:
  DeliveryVariables(const json& body, const adapters::amqp::Delivery& d) : body_(body) {
    headers_ = d.properties.headers;
    properties_ = json::object();
    const auto put = [&](const char* name, const std::string& v) {
      if (!v.empty()) properties_[name] = v;
    };
    put("messageId", d.properties.message_id);
    put("correlationId", d.properties.correlation_id);
    put("type", d.properties.type);
    put("appId", d.properties.app_id);
    put("contentType", d.properties.content_type);
    put("routingKey", d.routing_key);
    put("exchange", d.exchange);
    if (d.properties.timestamp > 0) properties_["timestamp"] = d.properties.timestamp;
    properties_["redelivered"] = d.redelivered;
  }
  const json* find(std::string_view name) const override {
    if (name == "body") return &body_;
    if (name == "headers") return &headers_;
    if (name == "properties") return &properties_;
    return nullptr;
  }

 private:
  const json& body_;
  json headers_;
  json properties_;
};

// A key (business key, correlation key, message id, name): a string, or a whole number as
// its digits. Anything else is the delivery's fault.
Result<std::string> key_of(const adapters::Text& t, const expr::Variables& vars,
                           const char* what) {
  if (!t.feel) return t.text;
  Result<json> v = adapters::evaluate_now(*t.feel, vars);
  if (!v) return Status::invalid_argument(std::string(what) + " " + t.text + ": " + v.status().message());
  if (v->is_string() && v->get<std::string>().find('\0') != std::string::npos) {
    return Status::invalid_argument(std::string(what) + " " + t.text + " gave a text with a NUL character");
  }
  if (v->is_string() && !v->get<std::string>().empty()) return v->get<std::string>();
  if (v->is_number_integer()) return v->dump();
  return Status::invalid_argument(std::string(what) + " " + t.text + " gave " +
                                  (v->is_null() ? std::string("null") : v->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).substr(0, 80)) +
                                  ", not a text");
}

Result<json> variables_of(const Binding& b, const json& body, const expr::Variables& vars) {
  if (!b.variables) {
    if (!body.is_object()) return Status::invalid_argument("the body is not a JSON object (variables default to the body)");
    return body;
  }
  Result<json> v = adapters::evaluate_now(*b.variables, vars);
  if (!v) return Status::invalid_argument("variables " + std::string(expr::source_text(*b.variables)) + ": " + v.status().message());
  if (!v->is_object()) {
    return Status::invalid_argument("variables gave " +
                                    (v->is_null() ? std::string("null") : v->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).substr(0, 80)) +
                                    ", not a JSON object");
  }
  return v;
}

// A delivery mapped to what it asks for, or the reason it cannot apply.
struct Mapped {
  StartRequest start;
  Message message;
  std::string error;
};

Mapped map_delivery(const Binding& b, const adapters::amqp::Delivery& d) {
  Mapped m;
  json body = json::parse(d.body, nullptr, false);
  if (body.is_discarded()) {
    m.error = "the body is not JSON (" + std::to_string(d.body.size()) + " bytes)";
    return m;
  }
  const DeliveryVariables vars(body, d);
  Result<std::string> id = key_of(b.message_id, vars, "messageId");
  if (!id) {
    m.error = "no message id: " + id.status().message() +
              " (set the AMQP message-id property, or map one with \"messageId\")";
    return m;
  }
  Result<json> variables = variables_of(b, body, vars);
  if (!variables) {
    m.error = variables.status().message();
    return m;
  }
  Result<std::string> target = key_of(b.target, vars, b.target_name());
  if (!target) {
    m.error = target.status().message();
    return m;
  }
  std::string key;
  if (b.key) {
    Result<std::string> k = key_of(*b.key, vars, b.key_name());
    if (!k) {
      m.error = k.status().message();
      return m;
    }
    key = std::move(*k);
  }
  if (b.starts) {
    m.start.process_id = std::move(*target);
    m.start.business_key = std::move(key);
    m.start.variables = std::move(*variables);
    m.start.request_id = std::move(*id);
  } else {
    m.message.name = std::move(*target);
    m.message.correlation_key = std::move(key);
    m.message.variables = std::move(*variables);
    m.message.message_id = std::move(*id);
    m.message.ttl_ms = b.ttl_ms;
  }
  return m;
}

// A failure that is the request's own (it would fail again whenever sent), not the store's.
bool request_fault(const Status& s) {
  return s.code() == StatusCode::kNotFound || s.code() == StatusCode::kInvalidArgument ||
         s.code() == StatusCode::kInvalidDefinition;
}

}  // namespace

struct QueueConsumers::Impl {
  std::string url;
  LogFunction log;
  struct Consumer {
    Binding binding;
    mutable std::mutex mu;
    QueueConsumerState state;
    std::thread thread;
  };
  std::vector<std::unique_ptr<Consumer>> consumers;
  adapters::queue::Stopper stop;
  Engine* engine = nullptr;

  void say(LogLevel level, const std::string& message) const {
    if (log) log(level, message);
  }
  void run(Consumer& c);
  Status consume(Consumer& c, std::int64_t& backoff_ms);
  Status apply(Consumer& c, std::vector<adapters::amqp::Delivery>& batch,
               std::unique_ptr<adapters::amqp::Connection>& control);
  // The consumer's second connection (dead letters, confirmed; the queue's depth), made
  // when there is none or it broke; null again when it cannot be made.
  Status open_control(std::unique_ptr<adapters::amqp::Connection>& control,
                      const std::string& queue) const {
    if (control != nullptr && !control->broken()) return Status::ok();
    control.reset();
    auto made = adapters::amqp::Connection::open(url, "ordo: control of " + queue);
    if (!made) return made.status();
    if (Status s = (*made)->open_channel(kPublish); !s) return s;
    if (Status s = (*made)->confirm_select(kPublish); !s) return s;
    if (Status s = (*made)->open_channel(kLook); !s) return s;
    control = std::move(*made);
    return Status::ok();
  }
};

QueueConsumers::QueueConsumers(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

QueueConsumers::~QueueConsumers() { stop(); }

Result<std::unique_ptr<QueueConsumers>> QueueConsumers::create(const json& section,
                                                               const std::string& where,
                                                               LogFunction log) {
  auto impl = std::make_unique<Impl>();
  impl->log = std::move(log);
  std::vector<Binding> bindings;
  // "events" is the EventPublisher's (publisher.cc).
  Status s = read_keys(section, where, {"url", "consumers", "events"},
                       [&](const std::string& key, const json& v, const std::string& at) -> Status {
                         if (key == "url") return adapters::queue::read_url(v, at, impl->url);
                         if (key == "events") return Status::ok();
                         if (!v.is_array()) return bad(at, "must be a list of consumers");
                         for (std::size_t i = 0; i < v.size(); ++i) {
                           Result<Binding> b = read_binding(v[i], at + "[" + std::to_string(i) + "]");
                           if (!b) return b.status();
                           for (const Binding& other : bindings) {
                             if (other.queue == b->queue) {
                               return bad(at + "[" + std::to_string(i) + "].queue",
                                          "'" + b->queue + "' is consumed twice");
                             }
                           }
                           bindings.push_back(std::move(*b));
                         }
                         return Status::ok();
                       });
  if (!s) return s;
  if (impl->url.empty() && !bindings.empty()) {
    return bad(where + ".url", "is required: the broker's amqp:// URL");
  }
  for (Binding& b : bindings) {
    auto c = std::make_unique<Impl::Consumer>();
    c->state.queue = b.queue;
    c->state.state = "stopped";
    c->binding = std::move(b);
    impl->consumers.push_back(std::move(c));
  }
  return std::unique_ptr<QueueConsumers>(new QueueConsumers(std::move(impl)));
}

void QueueConsumers::start(Engine& engine) {
  impl_->engine = &engine;
  impl_->stop.reset();
  for (auto& c : impl_->consumers) {
    if (c->thread.joinable()) continue;
    c->thread = std::thread([this, consumer = c.get()] { impl_->run(*consumer); });
  }
}

void QueueConsumers::stop() {
  impl_->stop.raise();
  for (auto& c : impl_->consumers) {
    if (c->thread.joinable()) c->thread.join();
  }
}

std::vector<QueueConsumerState> QueueConsumers::states() const {
  std::vector<QueueConsumerState> out;
  for (const auto& c : impl_->consumers) {
    std::lock_guard lock(c->mu);
    out.push_back(c->state);
  }
  return out;
}

std::string QueueConsumers::broker() const {
  return adapters::amqp::Connection::redacted(impl_->url);
}

void QueueConsumers::Impl::run(Consumer& c) {
  std::int64_t backoff_ms = kFirstBackoffMs;
  bool first = true;
  while (!stop.stopping()) {
    {
      std::lock_guard lock(c.mu);
      c.state.state = "connecting";
      if (!first) ++c.state.reconnects;
    }
    first = false;
    Status s = Status::ok();
    try {
      s = consume(c, backoff_ms);
    } catch (const std::exception& e) {
      // Nothing acknowledged: the batch comes back; the thread goes on.
      s = Status::internal(std::string("unexpected error (please report it): ") + e.what());
    }
    if (stop.stopping()) break;
    {
      std::lock_guard lock(c.mu);
      c.state.state = "retrying";
      if (s.message() != c.state.last_error) {
        say(LogLevel::kWarning, "queue '" + c.binding.queue + "': " + s.message() +
                                    "; trying again in " + std::to_string(backoff_ms) + " ms");
      }
      c.state.last_error = s.message();
    }
    if (!stop.pause(backoff_ms)) break;
    backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
  }
  std::lock_guard lock(c.mu);
  c.state.state = "stopped";
}

Status QueueConsumers::Impl::consume(Consumer& c, std::int64_t& backoff_ms) {
  using adapters::amqp::Connection;
  const Binding& b = c.binding;
  auto opened = Connection::open(url, "ordo: consumer of " + b.queue);
  if (!opened) return opened.status();
  std::unique_ptr<Connection> conn = std::move(*opened);
  std::unique_ptr<Connection> control;  // dead letters and the queue's depth, opened on need
  if (Status s = conn->open_channel(kChannel); !s) return s;
  if (b.declare) {
    if (Status s = conn->declare_exchange(kChannel, b.dead_letter_exchange, "direct"); !s) return s;
    adapters::amqp::QueueOptions dead;
    if (Status s = conn->declare_queue(kChannel, b.queue + ".dead", dead); !s) return s;
    if (Status s = conn->bind_queue(kChannel, b.queue + ".dead", b.dead_letter_exchange,
                                    b.dead_letter_routing_key);
        !s) {
      return s;
    }
    adapters::amqp::QueueOptions q;
    q.arguments = {{"x-dead-letter-exchange", b.dead_letter_exchange},
                   {"x-dead-letter-routing-key", b.dead_letter_routing_key}};
    if (Status s = conn->declare_queue(kChannel, b.queue, q); !s) return s;
  }
  if (Status s = conn->qos(kChannel, b.prefetch); !s) return s;
  if (Status s = conn->consume(kChannel, b.queue); !s) return s;
  {
    std::lock_guard lock(c.mu);
    c.state.state = "consuming";
    if (!c.state.last_error.empty()) {
      say(LogLevel::kInfo, "queue '" + b.queue + "': consuming again");
    }
    c.state.last_error.clear();
  }
  backoff_ms = kFirstBackoffMs;
  std::vector<adapters::amqp::Delivery> batch;
  batch.reserve(b.prefetch);
  auto looked = std::chrono::steady_clock::time_point{};
  while (!stop.stopping()) {
    const auto now = std::chrono::steady_clock::now();
    if (now - looked >= std::chrono::milliseconds(kLookEveryMs)) {
      looked = now;
      // The depth is for the state only: no control connection now, none shown.
      if (open_control(control, b.queue)) {
        Result<std::uint32_t> ready = control->ready_messages(kLook, b.queue);
        std::lock_guard lock(c.mu);
        c.state.ready = ready ? static_cast<std::int64_t>(*ready) : -1;
      }
    }
    Result<std::optional<adapters::amqp::Delivery>> first = conn->next(kPollMs);
    if (!first) return first.status();
    if (!*first) continue;
    batch.clear();
    batch.push_back(std::move(**first));
    while (batch.size() < b.prefetch) {
      Result<std::optional<adapters::amqp::Delivery>> more = conn->next(0);
      if (!more) return more.status();
      if (!*more) break;
      batch.push_back(std::move(**more));
    }
    {
      std::lock_guard lock(c.mu);
      c.state.received += batch.size();
    }
    if (Status s = apply(c, batch, control); !s) {
      // Nothing of the batch is acknowledged: closing the connection gives it back.
      std::lock_guard lock(c.mu);
      c.state.returned += batch.size();
      return s;
    }
    if (Status s = conn->ack(kChannel, batch.back().tag, true); !s) return s;
  }
  return Status::ok();
}

Status QueueConsumers::Impl::apply(Consumer& c, std::vector<adapters::amqp::Delivery>& batch,
                                   std::unique_ptr<adapters::amqp::Connection>& control) {
  const Binding& b = c.binding;
  std::vector<Mapped> mapped;
  mapped.reserve(batch.size());
  for (const adapters::amqp::Delivery& d : batch) mapped.push_back(map_delivery(b, d));
  std::uint64_t applied = 0;
  std::uint64_t duplicates = 0;
  // Applies the deliveries that mapped, all in one transaction; when one of them is wrong by
  // itself, each alone, so that only it is dead-lettered.
  std::vector<std::size_t> good;
  for (std::size_t i = 0; i < mapped.size(); ++i) {
    if (mapped[i].error.empty()) good.push_back(i);
  }
  // One by one. A delivery the database refuses while others of the batch go through is
  // the delivery's fault (a key too long for an index, say): it is dead-lettered rather
  // than returned to block the queue for ever. When nothing goes through, the database is
  // the trouble: the batch is returned.
  const auto one_by_one = [&]() -> Status {
    bool any_went = false;
    Status store_failure = Status::ok();
    std::vector<std::size_t> refused;
    for (std::size_t i : good) {
      Status failed = Status::ok();
      if (b.starts) {
        Result<StartResult> r = engine->start(mapped[i].start);
        if (r) ++(r->created ? applied : duplicates);
        failed = r.status();
      } else {
        Result<MessageResult> r = engine->publish_message(mapped[i].message);
        if (r) ++(r->duplicate ? duplicates : applied);
        failed = r.status();
      }
      if (failed.is_ok()) {
        any_went = true;
      } else if (request_fault(failed)) {
        mapped[i].error = failed.message();
      } else {
        store_failure = failed;
        refused.push_back(i);
      }
    }
    if (refused.empty()) return Status::ok();
    // A lock held elsewhere or a race is passing: everything not done goes back.
    const bool passing = store_failure.code() == StatusCode::kBusy ||
                         store_failure.code() == StatusCode::kConflict;
    if (!any_went || passing) return store_failure;
    for (std::size_t i : refused) {
      mapped[i].error = "the database refused it while it took the rest of the batch: " +
                        store_failure.message();
    }
    return Status::ok();
  };
  if (!good.empty()) {
    Status together = Status::ok();
    if (b.starts) {
      std::vector<StartRequest> requests;
      requests.reserve(good.size());
      for (std::size_t i : good) requests.push_back(std::move(mapped[i].start));
      Result<std::vector<StartResult>> r = engine->start_many(requests);
      if (r) {
        for (const StartResult& one : *r) ++(one.created ? applied : duplicates);
      } else {
        for (std::size_t k = 0; k < good.size(); ++k) mapped[good[k]].start = std::move(requests[k]);
        together = r.status();
      }
    } else {
      std::vector<Message> messages;
      messages.reserve(good.size());
      for (std::size_t i : good) messages.push_back(mapped[i].message);
      Result<std::vector<MessageResult>> r = engine->publish_many(std::move(messages));
      if (r) {
        for (const MessageResult& one : *r) ++(one.duplicate ? duplicates : applied);
      } else {
        together = r.status();
      }
    }
    if (!together) {
      // A batch of one that the database refuses has nothing to compare with: returned.
      if (!request_fault(together) && good.size() == 1) return together;
      if (Status s = one_by_one(); !s) return s;
    }
  }
  // Dead letters, confirmed by the broker before anything is acknowledged.
  std::uint64_t dead = 0;
  for (std::size_t i = 0; i < mapped.size(); ++i) {
    if (mapped[i].error.empty()) continue;
    if (Status s = open_control(control, b.queue); !s) return s;
    const adapters::amqp::Delivery& d = batch[i];
    adapters::amqp::Properties p = d.properties;
    if (!p.headers.is_object()) p.headers = json::object();
    p.headers["x-ordo-error"] = mapped[i].error;
    p.headers["x-ordo-queue"] = b.queue;
    p.headers["x-ordo-exchange"] = d.exchange;
    p.headers["x-ordo-routing-key"] = d.routing_key;
    p.persistent = true;
    if (Status s = control->publish(kPublish, b.dead_letter_exchange, b.dead_letter_routing_key,
                                    d.body, p, true);
        !s) {
      return s;
    }
    ++dead;
    say(LogLevel::kWarning, "queue '" + b.queue + "': message " +
                                (d.properties.message_id.empty() ? std::string("(no id)")
                                                                 : "'" + d.properties.message_id + "'") +
                                " dead-lettered to '" + b.dead_letter_exchange + "': " +
                                mapped[i].error);
  }
  if (dead > 0) {
    if (Status s = control->wait_for_confirms(kPublish, kConfirmMs); !s) {
      return Status(StatusCode::kAdapterError,
                    "dead-lettering to exchange '" + b.dead_letter_exchange + "': " + s.message());
    }
  }
  std::lock_guard lock(c.mu);
  c.state.applied += applied;
  c.state.duplicates += duplicates;
  c.state.dead_lettered += dead;
  return Status::ok();
}

}  // namespace ordo
