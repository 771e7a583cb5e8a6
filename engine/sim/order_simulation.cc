// run_orders: the shipped order process (or any process) over a list of orders, on a virtual
// clock, with simulated handlers that answer from each order's own fields.
#include <algorithm>
#include <fstream>
#include <queue>
#include <sstream>

#include "ordo/simulation.h"
#include "time/iso8601.h"

namespace ordo {
namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kDay = 24 * 60 * kMinute;

struct Publication {
  std::int64_t time_ms;
  std::uint64_t seq;
  std::string name;
  std::string key;
  nlohmann::json variables;
  bool operator>(const Publication& o) const {
    return time_ms != o.time_ms ? time_ms > o.time_ms : seq > o.seq;
  }
};

std::string text_of(const nlohmann::json* v, std::string fallback = {}) {
  if (v == nullptr || v->is_null()) return fallback;
  return v->is_string() ? v->get<std::string>() : v->dump();
}

std::int64_t number_of(const nlohmann::json* v, std::int64_t fallback) {
  return v != nullptr && v->is_number() ? v->get<std::int64_t>() : fallback;
}

// The simulated outside world: handlers plus the messages it publishes later.
class World {
 public:
  World(Engine& engine, const Clock& clock) : engine_(engine), clock_(clock) {}

  void install() {
    engine_.set_fallback_handler([this](const Job& job) { return handle(job); });
  }

  std::priority_queue<Publication, std::vector<Publication>, std::greater<>> publications;
  std::vector<Notification> notifications;

 private:
  void publish_in(std::int64_t delay_ms, std::string name, std::string key, nlohmann::json vars) {
    publications.push(Publication{clock_.now_ms() + delay_ms, seq_++, std::move(name),
                                  std::move(key), std::move(vars)});
  }

  JobOutcome handle(const Job& job) {
    const std::string_view type = job.type();
    const std::string order_id(job.business_key());
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
        publish_in(delay, "payment-confirmed", order_id, {{"paymentStatus", outcome}});
      }
      return JobOutcome::complete({{"paymentId", "PAY-" + order_id}});
    }
    if (type == "erp.ship") {
      const nlohmann::json* delivered = job.variable("delivered");
      if (delivered == nullptr || delivered->is_null() || *delivered == true) {
        const std::int64_t days = number_of(job.variable("deliveryDays"), 2);
        publish_in(days * kDay, "order-delivered", order_id,
                   {{"deliveredAt", time::format_date_time(clock_.now_ms() + days * kDay)}});
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
      n.time_ms = clock_.now_ms();
      notifications.push_back(std::move(n));
      return JobOutcome::complete();
    }
    return JobOutcome::complete();
  }

  Engine& engine_;
  const Clock& clock_;
  std::uint64_t seq_ = 0;
};

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
  Engine engine(engine_options);
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
  World world(engine, *clock);
  world.install();

  RunSummary summary;
  summary.orders.resize(orders.size());
  const std::int64_t last_start = starts.empty() ? options.start_ms : starts.back().time_ms;
  const std::int64_t end = last_start + options.horizon_ms;
  std::size_t next_start = 0;
  while (true) {
    std::int64_t t = INT64_MAX;
    if (next_start < starts.size()) t = std::min(t, starts[next_start].time_ms);
    if (!world.publications.empty()) t = std::min(t, world.publications.top().time_ms);
    if (auto due = engine.next_timer_due()) t = std::min(t, *due);
    if (t == INT64_MAX || t > end) break;
    clock->set(t);
    while (next_start < starts.size() && starts[next_start].time_ms <= t) {
      const std::size_t i = starts[next_start++].index;
      const nlohmann::json& order = orders[i];
      std::string key;
      if (auto k = order.find(options.business_key_field); k != order.end()) key = text_of(&*k);
      if (key.empty()) key = "order-" + std::to_string(i + 1);
      OrderResult& r = summary.orders[i];
      r.order_id = key;
      auto id = engine.start(process_id, order, key);
      if (!id) return id.status();
      r.instance = *id;
      engine.run_until_idle();
    }
    while (!world.publications.empty() && world.publications.top().time_ms <= t) {
      Publication p = world.publications.top();
      world.publications.pop();
      (void)engine.correlate_message(p.name, p.key, std::move(p.variables), kDay);
      engine.run_until_idle();
    }
    engine.run_until_idle();
  }

  for (OrderResult& r : summary.orders) {
    auto info = engine.instance(r.instance);
    if (!info) continue;
    r.state = info->state;
    r.end_event = info->state == InstanceState::kCompleted ? info->end_event : "";
    r.started_ms = info->started_ms;
    r.ended_ms = info->ended_ms;
    for (const IncidentInfo& i : info->incidents) {
      r.incidents.push_back(i.type + ": " + i.message);
      ++summary.by_incident[i.type];
    }
    std::string bucket = r.end_event;
    if (r.state == InstanceState::kIncident) bucket = "(incident)";
    if (r.state == InstanceState::kActive) bucket = "(waiting)";
    if (r.state == InstanceState::kTerminated) bucket = "(terminated)";
    ++summary.by_end_event[bucket];
  }
  summary.notifications = std::move(world.notifications);
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

}  // namespace ordo
