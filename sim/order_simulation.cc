// run_orders: the shipped order process (or any process) over a list of orders, on a virtual
// clock, with simulated handlers that answer from each order's own fields.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <mutex>
#include <queue>
#include <sstream>
#include <unordered_set>

#include "ordo/sim/simulation.h"
#include "store/postgres/pq.h"  // is_url, take_schema: what --db names
#include "time/iso8601.h"
#include "util/private_file.h"

namespace ordo {
namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kDay = 24 * 60 * kMinute;

std::string text_of(const nlohmann::json* v, std::string fallback = {}) {
  if (v == nullptr || v->is_null()) return fallback;
  return v->is_string() ? v->get<std::string>() : v->dump();
}

std::int64_t number_of(const nlohmann::json* v, std::int64_t fallback) {
  return v != nullptr && v->is_number() ? v->get<std::int64_t>() : fallback;
}

// The fields of one line of the effects log, each read with its type checked: a line that
// parses but holds the wrong types was not written by Ordo, and must not stop the program
// with an exception. The first mistake is kept.
class EffectLine {
 public:
  explicit EffectLine(const nlohmann::json& j) : j_(j) {}
  std::string text(const char* key, bool required = false) {
    const nlohmann::json* v = field(key, required, nlohmann::json::value_t::string, "a string");
    return v != nullptr ? v->get<std::string>() : std::string();
  }
  std::int64_t time(const char* key) {
    const nlohmann::json* v = field(key, false, nlohmann::json::value_t::number_integer,
                                    "a whole number (milliseconds since 1970)");
    return v != nullptr ? v->get<std::int64_t>() : 0;
  }
  nlohmann::json object(const char* key) {
    const nlohmann::json* v = field(key, false, nlohmann::json::value_t::object, "an object");
    return v != nullptr ? *v : nlohmann::json::object();
  }
  const std::string& error() const noexcept { return error_; }

 private:
  const nlohmann::json* field(const char* key, bool required, nlohmann::json::value_t type,
                              const char* expected) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) {
      if (required && error_.empty()) error_ = std::string("\"") + key + "\" is missing";
      return nullptr;
    }
    // A whole number may come back as unsigned: it is still one.
    const bool fits =
        it->type() == type || (type == nlohmann::json::value_t::number_integer &&
                               it->is_number_unsigned() && it->get<std::uint64_t>() <= INT64_MAX);
    if (fits) return &*it;
    if (error_.empty()) {
      error_ = std::string("\"") + key + "\" is " + it->dump() + ", not " + expected;
    }
    return nullptr;
  }
  const nlohmann::json& j_;
  std::string error_;
};

}  // namespace

struct SimulatedWorld::State {
  explicit State(const Clock& c) : clock(c) {}
  const Clock& clock;
  mutable std::mutex mu;
  std::multimap<std::int64_t, Publication> publications;  // by due time, in recording order
  std::vector<Notification> notifications;
  std::unordered_set<std::string> recorded;  // "idempotency key|effect"
  std::size_t repeated = 0;
  int log_fd = -1;

  // Restores one recorded effect (a line of the effects log, parsed); what is wrong with it.
  std::string restore(const nlohmann::json& j) {
    if (!j.is_object()) return std::string("a ") + j.type_name() + ", not a JSON object";
    EffectLine line(j);
    const std::string key = line.text("key", true);
    const std::string effect = line.text("effect", true);
    if (!line.error().empty()) return line.error();
    if (effect == "publish") {
      Publication p;
      p.time_ms = line.time("at");
      p.message_id = key;
      p.name = line.text("name");
      p.correlation_key = line.text("correlationKey");
      p.variables = line.object("variables");
      if (!line.error().empty()) return line.error();
      if (recorded.insert(key).second) publications.emplace(p.time_ms, std::move(p));
    } else if (effect == "notify") {
      Notification n;
      n.order_id = line.text("order");
      n.template_id = line.text("template");
      n.channel = line.text("channel");
      n.locale = line.text("locale");
      n.recipient = line.text("recipient");
      n.time_ms = line.time("at");
      if (!line.error().empty()) return line.error();
      if (recorded.insert(key).second) notifications.push_back(std::move(n));
    } else {
      recorded.insert(key);  // an effect of a later version: not repeated either
    }
    return {};
  }

  // Records an effect once; false when its key was recorded before.
  bool record(const std::string& key, const nlohmann::json& line) {
    if (!recorded.insert(key).second) {
      ++repeated;
      return false;
    }
    if (log_fd >= 0) {
      std::string text = line.dump();
      text.push_back('\n');
      // One write of a short line: appended whole, and in the kernel before the handler
      // returns, so a killed process never loses an effect whose job was completed.
      const char* p = text.data();
      std::size_t left = text.size();
      while (left > 0) {
        const ssize_t n = ::write(log_fd, p, left);
        if (n <= 0) break;
        p += n;
        left -= static_cast<std::size_t>(n);
      }
    }
    return true;
  }

  void publish_in(const Job& job, std::int64_t delay_ms, std::string name, std::string key,
                  nlohmann::json vars) {
    Publication p;
    p.time_ms = clock.now_ms() + delay_ms;
    p.message_id = std::string(job.idempotency_key()) + "/" + name;
    p.name = std::move(name);
    p.correlation_key = std::move(key);
    p.variables = std::move(vars);
    std::lock_guard lock(mu);
    nlohmann::json line = {{"effect", "publish"},     {"key", p.message_id},
                           {"at", p.time_ms},         {"name", p.name},
                           {"correlationKey", p.correlation_key}, {"variables", p.variables}};
    if (record(p.message_id, line)) publications.emplace(p.time_ms, std::move(p));
  }

  void notify(const Job& job, Notification n) {
    std::lock_guard lock(mu);
    nlohmann::json line = {{"effect", "notify"},       {"key", std::string(job.idempotency_key())},
                           {"order", n.order_id},      {"template", n.template_id},
                           {"channel", n.channel},     {"locale", n.locale},
                           {"recipient", n.recipient}, {"at", n.time_ms}};
    if (record(std::string(job.idempotency_key()), line)) notifications.push_back(std::move(n));
  }
};

SimulatedWorld::SimulatedWorld(const Clock& clock) : state_(std::make_unique<State>(clock)) {}

SimulatedWorld::~SimulatedWorld() {
  if (state_->log_fd >= 0) ::close(state_->log_fd);
}

std::string SimulatedWorld::effects_log_for(const std::string& database) {
  if (!store::pg::is_url(database)) return database + ".effects.jsonl";
  return store::pg::take_schema(database).schema.value_or(EngineOptions{}.database_schema) +
         ".effects.jsonl";
}

Status SimulatedWorld::open_effects_log(const std::string& path) {
  std::lock_guard lock(state_->mu);
  if (std::ifstream in(path); in) {
    std::string line;
    std::int64_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      // A line cut short by a kill is skipped: its job was not completed either. (A cut
      // line is never valid JSON: every line is one object.)
      if (j.is_discarded()) continue;
      if (std::string wrong = state_->restore(j); !wrong.empty()) {
        return Status(StatusCode::kCorruption,
                      path + ":" + std::to_string(number) + ": " + wrong +
                          "; this file records the simulated world's side effects, one JSON "
                          "object per line as Ordo wrote it: repair the line, or delete it "
                          "(the effect it recorded may then happen again)");
      }
    }
  }
  // Notifications name their recipients: the log is the owner's alone (0600).
  state_->log_fd = util::open_private(path, O_WRONLY | O_APPEND);
  if (state_->log_fd < 0) {
    return Status::io_error("cannot write the effects log " + path + ": " + std::strerror(errno));
  }
  return Status::ok();
}

TaskHandler SimulatedWorld::handler() {
  return [this](const Job& job) { return handle(job); };
}

std::vector<Publication> SimulatedWorld::take_due(std::int64_t until_ms) {
  std::lock_guard lock(state_->mu);
  std::vector<Publication> out;
  auto end = state_->publications.upper_bound(until_ms);
  for (auto it = state_->publications.begin(); it != end; ++it) out.push_back(std::move(it->second));
  state_->publications.erase(state_->publications.begin(), end);
  return out;
}

std::optional<std::int64_t> SimulatedWorld::next_publication() const {
  std::lock_guard lock(state_->mu);
  if (state_->publications.empty()) return std::nullopt;
  return state_->publications.begin()->first;
}

std::vector<Notification> SimulatedWorld::notifications() const {
  std::lock_guard lock(state_->mu);
  return state_->notifications;
}

std::size_t SimulatedWorld::repeated_effects() const {
  std::lock_guard lock(state_->mu);
  return state_->repeated;
}

JobOutcome SimulatedWorld::handle(const Job& job) {
  const std::string_view type = job.type();
  // The process correlates its messages by orderId; the business key is the fallback (the
  // two differ when an order was started over the API with a key of the caller's own).
  const nlohmann::json* order_var = job.variable("orderId");
  const std::string order_id = order_var != nullptr && order_var->is_string()
                                   ? order_var->get<std::string>()
                                   : std::string(job.business_key());
  const Clock& clock = state_->clock;
  if (text_of(job.variable("failTask")) == type) {
    return JobOutcome::fail("simulated failure of " + std::string(type));
  }
  if (type == "erp.check-availability") {
    const nlohmann::json* available = job.variable("available");
    return JobOutcome::complete(
        {{"available", available != nullptr && available->is_boolean() ? available->get<bool>()
                                                                        : true}});
  }
  if (type == "payment.charge") {
    const std::string outcome = text_of(job.variable("paymentOutcome"), "approved");
    if (outcome == "declined") {
      return JobOutcome::error("PAYMENT_DECLINED", "the card was declined");
    }
    const std::int64_t delay = number_of(job.variable("paymentDelayMinutes"), 2) * kMinute;
    if (outcome == "approved" || outcome == "failed") {
      state_->publish_in(job, delay, "payment-confirmed", order_id, {{"paymentStatus", outcome}});
    }
    return JobOutcome::complete({{"paymentId", "PAY-" + order_id}});
  }
  if (type == "payment.cancel") {
    // As a provider would: a charge confirmed as failed (or never made) leaves nothing to
    // cancel; a pending one is voided, an approved one refunded.
    const std::string status = text_of(job.variable("paymentStatus"));
    const char* cancellation = "voided";
    if (job.variable("paymentId") == nullptr || status == "failed") {
      cancellation = "none";
    } else if (status == "approved") {
      cancellation = "refunded";
    }
    return JobOutcome::complete({{"paymentCancellation", cancellation}});
  }
  if (type == "erp.ship") {
    const nlohmann::json* delivered = job.variable("delivered");
    if (delivered == nullptr || delivered->is_null() || *delivered == true) {
      const std::int64_t days = number_of(job.variable("deliveryDays"), 2);
      state_->publish_in(job, days * kDay, "order-delivered", order_id,
                         {{"deliveredAt", time::format_date_time(clock.now_ms() + days * kDay)}});
    }
    return JobOutcome::complete({{"trackingNumber", "TRK-" + order_id}});
  }
  if (type == "notify.send") {
    Notification n;
    n.order_id = order_id;
    n.template_id = std::string(job.header("template"));
    n.channel = std::string(job.header("channel"));
    const nlohmann::json* customer = job.variable("customer");
    const nlohmann::json* locale = job.variable("locale");
    if (customer != nullptr && customer->is_object()) {
      if (locale == nullptr && customer->contains("locale")) locale = &(*customer)["locale"];
      const char* field = n.channel == "sms" ? "phone" : "email";
      if (customer->contains(field)) n.recipient = text_of(&(*customer)[field]);
    }
    n.locale = text_of(locale, "en");
    n.time_ms = clock.now_ms();
    state_->notify(job, std::move(n));
    return JobOutcome::complete();
  }
  return JobOutcome::complete();
}

namespace {
}  // namespace

Result<std::vector<nlohmann::json>> read_json_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::io_error("cannot read " + path);
  std::vector<nlohmann::json> out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      return Status::invalid_argument(path + ":" + std::to_string(number) +
                                      ": not valid JSON; each line must be one JSON object");
    }
    if (!j.is_object()) {
      return Status::invalid_argument(path + ":" + std::to_string(number) +
                                      ": expected a JSON object, found " + j.type_name());
    }
    out.push_back(std::move(j));
  }
  return out;
}

Result<RunSummary> run_orders(const std::string& process_file,
                              const std::vector<nlohmann::json>& orders,
                              const RunOptions& options) {
  struct Start {
    std::int64_t time_ms;
    std::size_t index;
  };
  std::vector<Start> starts;
  for (std::size_t i = 0; i < orders.size(); ++i) {
    if (!orders[i].is_object()) {
      return Status::invalid_argument("order " + std::to_string(i + 1) + " is not a JSON object");
    }
    std::int64_t t = options.start_ms + static_cast<std::int64_t>(i) * options.spacing_ms;
    if (auto placed = orders[i].find("placedAt"); placed != orders[i].end() && placed->is_string()) {
      auto parsed = time::parse_date_time(placed->get<std::string>());
      if (!parsed) {
        return Status::invalid_argument("order " + std::to_string(i + 1) + ": placedAt '" +
                                        placed->get<std::string>() +
                                        "' is not an ISO 8601 date and time");
      }
      t = *parsed;
    }
    starts.push_back({t, i});
  }
  std::stable_sort(starts.begin(), starts.end(),
                   [](const Start& a, const Start& b) { return a.time_ms < b.time_ms; });

  // The clock starts at the earliest order, so recorded history replays at its own times.
  auto clock = std::make_shared<VirtualClock>(starts.empty() ? options.start_ms
                                                             : starts.front().time_ms);
  EngineOptions engine_options;
  engine_options.clock = clock;
  engine_options.keep_history = false;
  std::unique_ptr<Engine> owned;
  if (options.database.empty()) {
    owned = std::make_unique<Engine>(engine_options);
  } else {
    engine_options.group_commit = options.group_commit;
    engine_options.synchronous_full = options.synchronous_full;
    engine_options.max_database_pages = options.max_database_pages;
    Result<std::unique_ptr<Engine>> opened = Engine::open(options.database, engine_options);
    if (!opened) return opened.status();
    owned = std::move(*opened);
  }
  Engine& engine = *owned;
  auto deployed = engine.deploy_file(process_file);
  if (!deployed) return deployed.status();
  std::string process_id = options.process_id;
  if (process_id.empty()) {
    if (deployed->size() != 1) {
      return Status::invalid_argument(process_file + " defines " +
                                      std::to_string(deployed->size()) +
                                      " processes; say which one to run");
    }
    process_id = deployed->front().process_id;
  }
  SimulatedWorld world(*clock);
  if (!options.database.empty()) {
    if (Status s = world.open_effects_log(SimulatedWorld::effects_log_for(options.database)); !s) {
      return s;
    }
    // Resuming: the simulated time had reached at least the last start or end stored.
    InstanceFilter all;
    all.limit = INT32_MAX;
    Result<std::vector<InstanceInfo>> known = engine.instances(all);
    if (!known) return known.status();
    std::int64_t reached = clock->now_ms();
    for (const InstanceInfo& i : *known) reached = std::max({reached, i.started_ms, i.ended_ms});
    clock->set(reached);
  }
  engine.set_fallback_handler(world.handler());
  for (const auto& [type, handler] : options.handlers) engine.register_handler(type, handler);
  if (options.attach) options.attach(engine);

  RunSummary summary;
  summary.orders.resize(orders.size());
  const std::int64_t last_start = starts.empty() ? options.start_ms : starts.back().time_ms;
  const std::int64_t end = last_start + options.horizon_ms;
  std::size_t next_start = 0;
  while (true) {
    std::int64_t t = INT64_MAX;
    if (next_start < starts.size()) t = std::min(t, starts[next_start].time_ms);
    if (auto due = world.next_publication()) t = std::min(t, *due);
        Result<std::optional<std::int64_t>> timer = engine.next_timer_due();
    if (!timer) return timer.status();
    if (*timer) t = std::min(t, **timer);
    if (t == INT64_MAX || t > end) break;
    clock->set(std::max(t, clock->now_ms()));  // a resumed run never goes back in time
    while (next_start < starts.size() && starts[next_start].time_ms <= clock->now_ms()) {
      const std::size_t i = starts[next_start++].index;
      const nlohmann::json& order = orders[i];
      std::string key;
      if (auto k = order.find(options.business_key_field); k != order.end()) key = text_of(&*k);
      if (key.empty()) key = "order-" + std::to_string(i + 1);
      OrderResult& r = summary.orders[i];
      r.order_id = key;
      auto id = engine.start(process_id, order, key);
      if (!id) return id.status();
            r.instance = id->id;
      if (auto ran = engine.run_until_idle(); !ran) return ran.status();
    }
    for (Publication& p : world.take_due(clock->now_ms())) {
      auto published = engine.publish_message(to_message(std::move(p), kDay));
            if (!published && engine.durable()) return published.status();
      if (auto ran = engine.run_until_idle(); !ran) return ran.status();
    }
    if (auto ran = engine.run_until_idle(); !ran) return ran.status();
  }

  for (OrderResult& r : summary.orders) {
    auto info = engine.instance(r.instance);
    if (!info && info.status().code() == StatusCode::kNotFound) continue;  // not kept
    if (!info) {
      // A row that cannot be read is no order waiting since 1970: the run says so and fails.
      return Status(info.status().code(), "order " + r.order_id + " (instance " +
                                              std::to_string(r.instance) +
                                              ") cannot be read: " + info.status().message());
    }
    r.state = info->state;
    r.end_event = info->state == InstanceState::kCompleted ? info->end_event : "";
    r.started_ms = info->started_ms;
    r.ended_ms = info->ended_ms;
    for (const IncidentInfo& i : info->incidents) {
      r.incidents.push_back(std::string(to_string(i.kind)) + ": " + i.message);
      ++summary.by_incident[std::string(to_string(i.kind))];
    }
    std::string bucket = r.end_event;
    if (r.state == InstanceState::kIncident) bucket = "(incident)";
    if (r.state == InstanceState::kActive) bucket = "(waiting)";
    if (r.state == InstanceState::kTerminated) bucket = "(terminated)";
    ++summary.by_end_event[bucket];
  }
  summary.notifications = world.notifications();
  for (const Notification& n : summary.notifications) {
    ++summary.notifications_by_channel[n.channel];
    ++summary.notifications_by_template[n.template_id];
  }
  return summary;
}

nlohmann::json to_json(const RunSummary& s) {
  nlohmann::json orders = nlohmann::json::array();
  for (const OrderResult& r : s.orders) {
    orders.push_back({{"orderId", r.order_id},
                      {"instance", r.instance},
                      {"state", to_string(r.state)},
                      {"endEvent", r.end_event.empty() ? nlohmann::json() : nlohmann::json(r.end_event)},
                      {"incidents", r.incidents},
                      {"startedAt", time::format_date_time(r.started_ms)},
                      {"endedAt", r.ended_ms ? nlohmann::json(time::format_date_time(r.ended_ms))
                                             : nlohmann::json()}});
  }
  nlohmann::json notifications = nlohmann::json::array();
  for (const Notification& n : s.notifications) {
    notifications.push_back({{"orderId", n.order_id},
                             {"template", n.template_id},
                             {"channel", n.channel},
                             {"locale", n.locale},
                             {"recipient", n.recipient},
                             {"at", time::format_date_time(n.time_ms)}});
  }
  return {{"orders", orders},
          {"summary",
           {{"byEndEvent", s.by_end_event},
            {"byIncident", s.by_incident},
            {"notificationsByChannel", s.notifications_by_channel},
            {"notificationsByTemplate", s.notifications_by_template}}},
          {"notifications", notifications}};
}

Message to_message(Publication&& p, std::int64_t ttl_ms) {
  Message m;
  m.name = std::move(p.name);
  m.correlation_key = std::move(p.correlation_key);
  m.variables = std::move(p.variables);
  m.ttl_ms = ttl_ms;
  m.message_id = std::move(p.message_id);
  return m;
}

}  // namespace ordo
