// The Notifier: notify.send's handler. Picks the channel (rules, preference, opt-outs,
// reachability), holds the message back in quiet hours and over the hourly cap, sends it
// once (the delivery log), retries, falls back, and raises an incident when all fails.
#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>


#include "channels.h"
#include "delivery_log.h"
#include "engagement.h"
#include "http/http_client.h"
#include "notify/fields.h"
#include "ordo/adapters/notifications.h"
#include "store/postgres/pq.h"

namespace ordo {

using nlohmann::json;
using notify::Channel;
using notify::SendResult;

namespace {

using notify::field;
using notify::opted_out;
using notify::text_of;

// Milliseconds until the quiet window ends, or 0 when `now_ms` is outside it.
std::int64_t quiet_until(const notify::QuietHours& q, const date::time_zone* zone,
                         std::int64_t now_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> now{milliseconds(now_ms)};
  const auto local = zone->to_local(now);
  const auto midnight = date::floor<date::days>(local);
  const int minute = static_cast<int>(duration_cast<minutes>(local - midnight).count());
  const bool wraps = q.from_minute > q.to_minute;
  const bool inside = wraps ? (minute >= q.from_minute || minute < q.to_minute)
                            : (minute >= q.from_minute && minute < q.to_minute);
  if (!inside) return 0;
  auto end_day = midnight;
  if (wraps && minute >= q.from_minute) end_day += date::days(1);
  const auto end_local = end_day + minutes(q.to_minute);
  const auto end = zone->to_sys(end_local, date::choose::latest);
  return std::max<std::int64_t>(1, duration_cast<milliseconds>(end - now).count());
}

// The job's customer object (an empty object when the order has none).
const json& customer_object(const json& variables) {
  static const json kNone = json::object();
  const json* c = field(variables, "customer");
  return c != nullptr ? *c : kNone;
}

// The order a job is about: the instance's business key, else the orderId variable.
std::string order_id_of(const Job& job, const json& variables) {
  std::string id(job.business_key());
  if (id.empty()) id = text_of(field(variables, "orderId"));
  return id;
}

// Who the customer is, for dedupe, caps, segments and variants: their id, else their email
// address or phone, else (nobody to tell apart) the order.
std::string customer_key(const json& customer, const std::string& order_id) {
  std::string key = Notifier::customer_of(customer);
  return key.empty() ? order_id : key;
}

Result<const date::time_zone*> find_zone(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception& e) {
    return Status::invalid_argument("'" + name +
                                    "' is not a time zone (IANA names such as "
                                    "Europe/Berlin): " +
                                    e.what());
  }
}

// A channel that sends nothing (Notifier::rehearsal): whom it reaches and when it is quiet
// are the real channel's; a message it would send is recorded as sent.
class RehearsalChannel final : public Channel {
 public:
  explicit RehearsalChannel(std::unique_ptr<Channel> real) : real_(std::move(real)) {
    quiet_hours = real_->quiet_hours;
    retry_backoff_ms = real_->retry_backoff_ms;
  }
  std::string_view name() const noexcept override { return real_->name(); }
  Result<notify::Recipient> recipient(const json& customer) const override {
    return real_->recipient(customer);
  }
  SendResult send(const notify::Outgoing&) override { return {}; }

 private:
  std::unique_ptr<Channel> real_;
};

}  // namespace

struct Notifier::State {
  NotificationTemplates templates;
  json shop = json::object();
  std::map<std::string, std::unique_ptr<Channel>, std::less<>> channels;
  std::map<std::string, std::vector<std::string>, std::less<>> rules;
  const date::time_zone* zone = nullptr;
  std::string zone_name = "UTC";
  int cap_per_hour = 0;
  std::unique_ptr<notify::DeliveryLog> log;
  LogFunction report;  // warnings no outcome carries
  // statusForward
  std::string forward_url;
  std::vector<std::pair<std::string, std::string>> forward_headers;
  std::int64_t forward_timeout_ms = 10000;
  notify::SegmentSettings segments;
  std::map<std::string, notify::Experiment, std::less<>> experiments;  // by message
  notify::TrackingSettings tracking;
  DecisionFunction decide;
  std::string log_location;  // where the delivery log is (the report reads it on its own)
  bool rehearsal = false;    // Notifier::rehearsal: nothing is rendered or sent

  explicit State(NotificationTemplates t) : templates(std::move(t)) {}

  // The channels to try, in order, and why the others were left out.
  std::vector<std::string> plan(std::string_view message, std::string_view designer_channel,
                                const json& customer, const notify::SegmentRules* segment,
                                std::vector<std::string>& left_out) const {
    std::vector<std::string> order;
    if (auto sr = segment ? segment->rules.find(message) : rules.end();
        segment && sr != segment->rules.end()) {
      order = sr->second;
    } else if (auto r = rules.find(message); r != rules.end()) {
      order = r->second;
    } else {
      if (!designer_channel.empty()) order.emplace_back(designer_channel);
      if (designer_channel != "email") order.emplace_back("email");
    }
    // The customer's preferred channel first, when the rules allow it for this message.
    const std::string preferred = text_of(field(customer, "preferredChannel"));
    if (auto p = std::find(order.begin(), order.end(), preferred); p != order.end()) {
      std::rotate(order.begin(), p, p + 1);
    }
    std::vector<std::string> out;
    for (const std::string& c : order) {
      if (!channels.count(c)) {
        left_out.push_back(c + ": not configured");
      } else if (opted_out(customer, c)) {
        left_out.push_back(c + ": the customer opted out");
      } else {
        out.push_back(c);
      }
    }
    return out;
  }

  const date::time_zone* zone_of(const json& customer) const {
    const std::string name = text_of(field(customer, "timeZone"));
    if (!name.empty()) {
      Result<const date::time_zone*> z = find_zone(name);
      if (z) return *z;
      if (report) {
        report(LogLevel::kWarning, "customer.timeZone " + z.status().message() +
                                       "; quiet hours use " + zone_name);
      }
    }
    return zone;
  }
};

Notifier::Notifier(std::unique_ptr<State> state) : state_(std::move(state)) {}
Notifier::~Notifier() = default;

const NotificationTemplates& Notifier::templates() const {
  return state_->templates;
}

TaskHandler Notifier::handler() {
  return [self = shared_from_this()](const Job& job) { return self->handle(job); };
}

Result<std::shared_ptr<Notifier>> Notifier::create(const json& settings,
                                                   const std::string& base_dir,
                                                   const std::string& where, LogFunction report) {
  return make(settings, base_dir, where, std::move(report), false);
}

Result<std::shared_ptr<Notifier>> Notifier::rehearsal(const json& settings,
                                                      const std::string& base_dir,
                                                      const std::string& where) {
  return make(settings, base_dir, where, {}, true);
}

Result<std::shared_ptr<Notifier>> Notifier::make(const json& settings, const std::string& base_dir,
                                                 const std::string& where, LogFunction report,
                                                 bool rehearsal) {
  namespace fs = std::filesystem;
  using notify::only_known;
  using notify::read_text;
  if (Status s = only_known(settings, where,
                            "templates, defaultLocale, shop, channels, rules, timeZone, "
                            "capPerHour, deliveryLog, statusForward, segments, experiments, "
                            "tracking");
      !s) {
    return s;
  }
  const auto path_of = [&](const std::string& p) {
    return store::pg::is_url(p) || fs::path(p).is_absolute() || base_dir.empty()
               ? p
               : (fs::path(base_dir) / p).string();
  };
  std::string dir, locale = "en", log_path;
  if (Status s = read_text(settings, where, "templates", dir, true); !s) return s;
  if (Status s = read_text(settings, where, "defaultLocale", locale, false); !s) return s;
  if (Status s = read_text(settings, where, "deliveryLog", log_path, !rehearsal); !s) {
    return Status::invalid_argument(s.message() +
                                    ": the database where every delivery is recorded, a "
                                    "file or a postgresql:// URL (it is what keeps a message "
                                    "from being sent twice)");
  }
  Result<NotificationTemplates> templates = NotificationTemplates::load(path_of(dir), locale);
  if (!templates) {
    return Status::invalid_argument(where + ".templates: " + templates.status().message());
  }
  auto state = std::make_unique<State>(std::move(*templates));
  state->report = std::move(report);
  if (const json* shop = field(settings, "shop")) {
    if (Status s = only_known(*shop, where + ".shop", "name, url, supportEmail"); !s) return s;
    state->shop = *shop;
  }
  const json* channels = field(settings, "channels");
  if (channels == nullptr || !channels->is_object() || channels->empty()) {
    return Status::invalid_argument(where +
                                    ".channels: is missing: configure at least one of "
                                    "email, sms, push");
  }
  for (const auto& [name, ch] : channels->items()) {
    const std::string at = where + ".channels." + name;
    Result<std::unique_ptr<Channel>> made =
        name == "email"  ? notify::make_email_channel(ch, at)
        : name == "sms"  ? notify::make_sms_channel(ch, at)
        : name == "push" ? (ch.is_object() && ch.contains("provider") && ch["provider"] == "fcm"
                                ? notify::make_fcm_channel(ch, at, base_dir, rehearsal)
                                : notify::make_push_channel(ch, at))
                         : Result<std::unique_ptr<Channel>>(Status::invalid_argument(
                               at + ": unknown channel (known: email, sms, push)"));
    if (!made) return made.status();
    if (rehearsal) *made = std::make_unique<RehearsalChannel>(std::move(*made));
    state->channels.emplace(name, std::move(*made));
  }
  // message -> channels, first choice first; each channel configured, each message with
  // a template for it in the default locale.
  const auto read_rules = [&](const json& rules, const std::string& at_rules,
                              std::map<std::string, std::vector<std::string>, std::less<>>& out)
      -> Status {
    if (!rules.is_object()) {
      return Status::invalid_argument(at_rules +
                                      ": must be an object: message -> "
                                      "[channels, first choice first]");
    }
    for (const auto& [message, list] : rules.items()) {
      const std::string at = at_rules + "." + message;
      if (!list.is_array() || list.empty()) {
        return Status::invalid_argument(at + ": must be a non-empty list of channels");
      }
      std::vector<std::string> order;
      for (const json& c : list) {
        const std::string name = text_of(&c);
        if (!state->channels.count(name)) {
          return Status::invalid_argument(at + ": channel '" + name + "' is not configured in " +
                                          where + ".channels");
        }
        if (!state->templates.has(message, name)) {
          return Status::invalid_argument(at + ": no template " + message + "." + name +
                                          ".mustache for the default locale '" + locale + "' in " +
                                          path_of(dir));
        }
        order.push_back(name);
      }
      out.emplace(message, std::move(order));
    }
    return Status::ok();
  };
  if (const json* rules = field(settings, "rules")) {
    if (Status s = read_rules(*rules, where + ".rules", state->rules); !s) return s;
  }
  if (const json* segments = field(settings, "segments")) {
    const std::string at = where + ".segments";
    if (Status s = notify::read_segments(*segments, at, read_rules, state->segments); !s) return s;
  }
  if (const json* experiments = field(settings, "experiments")) {
    std::vector<std::string> channel_names;
    for (const auto& [name, _] : state->channels) channel_names.push_back(name);
    if (Status s = notify::read_experiments(*experiments, where + ".experiments", channel_names,
                                            state->templates, state->experiments);
        !s) {
      return s;
    }
  }
  if (const json* tracking = field(settings, "tracking")) {
    Result<notify::TrackingSettings> t =
        notify::parse_tracking(*tracking, where + ".tracking", text_of(field(state->shop, "url")));
    if (!t) return t.status();
    state->tracking = std::move(*t);
  }
  if (Status s = read_text(settings, where, "timeZone", state->zone_name, false); !s) return s;
  Result<const date::time_zone*> zone = find_zone(state->zone_name);
  if (!zone) return Status::invalid_argument(where + ".timeZone: " + zone.status().message());
  state->zone = *zone;
  if (const json* cap = field(settings, "capPerHour")) {
    if (!cap->is_number_integer() || cap->get<int>() < 0) {
      return Status::invalid_argument(where + ".capPerHour: must be a whole number (0: no cap)");
    }
    state->cap_per_hour = cap->get<int>();
  }
  if (const json* fwd = field(settings, "statusForward")) {
    const std::string at = where + ".statusForward";
    if (Status s = only_known(*fwd, at, "url, headers, timeoutMs"); !s) return s;
    if (Status s = read_text(*fwd, at, "url", state->forward_url, true); !s) return s;
    if (const json* h = field(*fwd, "headers"); h != nullptr && h->is_object()) {
      for (const auto& [k, v] : h->items()) state->forward_headers.emplace_back(k, text_of(&v));
    }
    if (Status s = notify::read_ms(*fwd, at, "timeoutMs", state->forward_timeout_ms); !s) {
      return s;
    }
  }
  // A rehearsal: nothing leaves (no CRM forwards), and a delivery log of its own, in memory.
  state->rehearsal = rehearsal;
  if (rehearsal) state->forward_url.clear();
  Result<std::unique_ptr<notify::DeliveryLog>> log =
      notify::DeliveryLog::open(rehearsal ? std::string(":memory:") : path_of(log_path));
  if (!log) return Status::invalid_argument(where + ".deliveryLog: " + log.status().message());
  state->log = std::move(*log);
  if (rehearsal) {
    state->log->count_only_earlier();
  } else {
    state->log_location = path_of(log_path);
  }
  return std::shared_ptr<Notifier>(new Notifier(std::move(state)));
}

JobOutcome Notifier::handle(const Job& job) {
  State& st = *state_;
  const std::string message(job.header("template"));
  if (message.empty()) {
    return JobOutcome::incident("task " + std::string(job.element_id()) +
                                " has no 'template' header: say which message to send (e.g. "
                                "order-shipped)");
  }
  // A message no channel has a template for is a mistake in the process or the templates,
  // not a customer who cannot be reached: an incident, to fix and retry.
  bool known = false;
  for (const auto& [name, _] : st.channels) known = known || st.templates.has(message, name);
  if (!known) {
    return JobOutcome::incident("no template for message '" + message +
                                "' on any configured channel (e.g. " + message +
                                ".email.mustache in the default locale): add it, or fix the "
                                "task's 'template' header");
  }
  const json variables = job.variables();
  const json& customer = customer_object(variables);
  const std::string order_id = order_id_of(job, variables);
  notify::Attempt a;
  a.message = message;
  a.order_id = order_id;
  a.dedupe_key = message + ":" + (order_id.empty() ? std::string(job.idempotency_key()) : order_id);
  a.customer = customer_key(customer, order_id);
  std::string requested = text_of(field(customer, "locale"));
  if (requested.empty()) requested = text_of(field(variables, "locale"));
  a.locale = st.templates.resolve_locale(requested);
  a.job_key = std::string(job.idempotency_key());
  a.attempt = job.attempt();
  a.now_ms = job.now_ms();
  // The segment the order was given when it started (customer.segment), its rules, and the
  // message's experiment for it: the variant by the hash, unless the customer has one.
  a.segment = text_of(field(variables, "segment"));
  const notify::SegmentRules* seg = a.segment.empty() ? nullptr : st.segments.rules_of(a.segment);
  const notify::Experiment* experiment = nullptr;
  if (auto e = st.experiments.find(message); e != st.experiments.end()) {
    // A segment without weights takes no part, unless the customer has a variant already.
    experiment = &e->second;
    a.experiment = experiment->id;
    a.variants = &experiment->variants;
    if (const std::vector<int>* weights = e->second.weights_of(a.segment)) {
      a.variant = notify::pick_variant(*experiment, *weights, a.customer).name;
    }
  }

  // Sent before (a retry, a crash, another step): done, whatever the hour.
  if (Result<std::optional<DeliveryRecord>> sent = st.log->find_sent(a.dedupe_key); !sent) {
    return JobOutcome::fail("the delivery log: " + sent.status().message());
  } else if (sent->has_value()) {
    notify::Attempt dup = a;
    dup.channel = (*sent)->channel;
    dup.recipient = (*sent)->recipient;
    (void)st.log->note(dup, "duplicate",
                       "sent before (delivery " + std::to_string((*sent)->id) + ")");
    return JobOutcome::complete();
  }
  if (seg != nullptr && std::find(seg->skip.begin(), seg->skip.end(), message) != seg->skip.end()) {
    a.channel = "none";
    if (Status s = st.log->note(a, "skipped",
                                "not sent to the segment " + a.segment + " (segments.bySegment." +
                                    a.segment + ".skip)");
        !s) {
      return JobOutcome::fail("the delivery log: " + s.message());
    }
    return JobOutcome::complete();
  }

  std::vector<std::string> left_out;
  std::vector<std::string> order = st.plan(message, job.header("channel"), customer, seg, left_out);
  // A channel whose provider refused this message for good is not tried again in this
  // run of retries; when that would leave none, an operator retried the incident (having
  // fixed something): every channel gets another chance.
  if (Result<std::vector<std::string>> rejected = st.log->rejected_channels(a.dedupe_key);
      rejected && !rejected->empty()) {
    std::vector<std::string> rest;
    for (const std::string& c : order) {
      if (std::find(rejected->begin(), rejected->end(), c) == rejected->end()) rest.push_back(c);
    }
    if (!rest.empty()) {
      for (const std::string& c : order) {
        if (std::find(rest.begin(), rest.end(), c) == rest.end()) {
          left_out.push_back(c + ": refused by the provider before");
        }
      }
      order = std::move(rest);
    }
  }
  // Reachable channels only: an SMS needs a valid E.164 number, an email an address.
  std::vector<std::pair<Channel*, notify::Recipient>> usable;
  for (const std::string& name : order) {
    Channel* ch = st.channels.find(name)->second.get();
    Result<notify::Recipient> to = ch->recipient(customer);
    if (!to) {
      left_out.push_back(name + ": " + to.status().message());
    } else if (!st.templates.has(message, name)) {
      left_out.push_back(name + ": no template " + message + "." + name);
    } else {
      usable.emplace_back(ch, std::move(*to));
    }
  }
  std::string reasons;
  for (const std::string& r : left_out) reasons += (reasons.empty() ? "" : "; ") + r;
  if (usable.empty()) {
    // Nothing to fix by retrying: the process carries on, the log says why.
    a.channel = order.empty() ? std::string(job.header("channel")) : order.front();
    if (a.channel.empty()) a.channel = "none";
    if (Status s = st.log->note(a, "skipped", "no usable channel: " + reasons); !s) {
      return JobOutcome::fail("the delivery log: " + s.message());
    }
    return JobOutcome::complete();
  }
  // Retries go to the first channel; the last retry falls back to the next one.
  const bool last_try = job.retries_left() <= 1;
  std::string errors;
  for (std::size_t i = 0; i < usable.size() && i < 2; ++i) {
    auto& [ch, to] = usable[i];
    a.channel = std::string(ch->name());
    a.recipient = to.address;
    const std::optional<notify::QuietHours>& quiet =
        seg != nullptr && seg->quiet_hours ? seg->quiet_hours : ch->quiet_hours;
    if (quiet) {
      if (std::int64_t wait = quiet_until(*quiet, st.zone_of(customer), a.now_ms)) {
        const std::string why = a.channel + " quiet hours for " + a.customer + " until " +
                                std::to_string(wait / 60'000) + " min from now";
        if (Status s = st.log->note(a, "deferred", why); !s) {
          return JobOutcome::fail("the delivery log: " + s.message());
        }
        return JobOutcome::defer(wait, why);
      }
    }
    Result<notify::Reservation> r =
        st.log->reserve(a, seg != nullptr && seg->cap_per_hour ? *seg->cap_per_hour : st.cap_per_hour);
    if (!r) return JobOutcome::fail("the delivery log: " + r.status().message());
    if (r->gate == notify::Reservation::Gate::kDuplicate) return JobOutcome::complete();
    if (r->gate == notify::Reservation::Gate::kCapped) {
      return JobOutcome::defer(std::max<std::int64_t>(1, r->retry_at_ms - a.now_ms),
                               "the hourly cap for " + a.customer + " is reached");
    }
    if (st.rehearsal) {
      // What would be sent is decided; the words are not needed (templates were checked
      // when the settings were read).
      if (Status s = st.log->finish(r->row, "sent", {}, {}, a.now_ms); !s) {
        return JobOutcome::fail("the delivery log: " + s.message());
      }
      return JobOutcome::complete();
    }
    std::string_view template_id = message;
    if (experiment != nullptr) {
      for (const notify::Variant& v : experiment->variants) {
        if (v.name == r->variant) template_id = v.template_id;
      }
    }
    Result<RenderedMessage> rendered = st.templates.render(
        template_id, a.channel, a.locale, st.templates.view(variables, order_id, a.locale, st.shop));
    if (!rendered) {
      (void)st.log->finish(r->row, "failed", {}, rendered.status().message(), a.now_ms);
      return JobOutcome::incident(rendered.status().message());
    }
    if (st.tracking.enabled() && !notify::tracking_opted_out(customer)) {
      notify::add_tracking(*rendered, st.tracking, a.dedupe_key, a.channel);
    }
    notify::Outgoing out;
    out.message = &*rendered;
    out.to = to;
    out.reference = a.dedupe_key + ":" + a.channel;
    out.order_id = order_id;
    out.template_id = message;
    out.now_ms = a.now_ms;
    const SendResult sent = ch->send(out);
    const char* status = sent.kind == SendResult::Kind::kSent       ? "sent"
                         : sent.kind == SendResult::Kind::kRejected ? "rejected"
                                                                    : "failed";
    if (Status s = st.log->finish(r->row, status, sent.provider_id, sent.error, a.now_ms); !s) {
      // Sent but not recorded: the retry sends again under the same reference.
      return JobOutcome::fail("the delivery log: " + s.message());
    }
    if (sent.kind == SendResult::Kind::kSent) return JobOutcome::complete();
    if (st.report) {
      st.report(LogLevel::kWarning, "notification " + message + " for order " + order_id +
                                        " via " + a.channel + ": " + sent.error);
    }
    errors += (errors.empty() ? "" : "; ") + sent.error;
    if (sent.kind == SendResult::Kind::kRetry && !last_try) {
      return JobOutcome::fail(sent.error, std::max(ch->retry_backoff_ms, sent.backoff_ms));
    }
    // Refused for good, or out of retries: the next channel, now.
  }
  return JobOutcome::incident(message + " for order " + order_id + " was not delivered: " + errors +
                              (reasons.empty() ? "" : " (left out: " + reasons + ")"));
}

std::string Notifier::customer_of(const json& customer) {
  for (const char* k : {"id", "customerId", "email", "phone"}) {
    std::string key = text_of(field(customer, k));
    if (!key.empty()) return key;
  }
  return {};
}

Status Notifier::forget_order(std::string_view order_id) {
  if (!state_->rehearsal) {
    return Status::invalid_argument("only a rehearsal's delivery log forgets an order");
  }
  return state_->log->forget_order(order_id);
}

Result<std::vector<Notifier::Count>> Notifier::delivery_counts() const {
  return state_->log->counts();
}

Result<std::vector<DeliveryRecord>> Notifier::deliveries(std::string_view order_id) const {
  return state_->log->list(order_id);
}

Result<std::vector<DeliveryRecord>> read_delivery_log(const std::string& path,
                                                      std::string_view order_id) {
  std::error_code ec;
  if (!store::pg::is_url(path) && !std::filesystem::exists(path, ec)) {
    return Status::not_found("no delivery log at " + path);
  }
  Result<std::unique_ptr<notify::DeliveryLog>> log = notify::DeliveryLog::open(path);
  if (!log) return log.status();
  return (*log)->list(order_id);
}

namespace {

// A status recorded for the first time (or never forwarded) goes to the CRM; true once it
// got there (or there is no CRM).
Result<bool> forward_status(notify::DeliveryLog& log, const std::string& url,
                            const std::vector<std::pair<std::string, std::string>>& headers,
                            std::int64_t timeout_ms, const DeliveryRecord& d,
                            const DeliveryStatus& status) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (url.empty()) {
    if (Status s = log.mark_forwarded(d.id, status.status, now); !s) return s;
    return true;
  }
  adapters::HttpRequest req;
  req.url = url;
  req.headers = headers;
  req.headers.emplace_back("Content-Type", "application/json");
  req.headers.emplace_back("Idempotency-Key", d.channel + ":" +
                                                  (d.provider_id.empty() ? d.dedupe_key : d.provider_id) +
                                                  ":" + status.status);
  req.timeout_ms = timeout_ms;
  json body = {{"orderId", d.order_id},   {"customer", d.customer},   {"message", d.message},
               {"channel", d.channel},    {"recipient", d.recipient}, {"providerId", d.provider_id},
               {"status", status.status}, {"at", status.at_ms},       {"detail", status.detail}};
  if (!d.segment.empty()) body["segment"] = d.segment;
  if (!d.experiment.empty()) {
    body["experiment"] = d.experiment;
    body["variant"] = d.variant;
  }
  req.body = body.dump();
  Result<adapters::HttpAnswer> answer = adapters::http_exchange(req);
  if (!answer) return answer.status();
  if (answer->status < 200 || answer->status >= 300) {
    return Status(StatusCode::kAdapterError, "forwarding the status to " + adapters::redact_url(url) +
                                                 ": answered " + std::to_string(answer->status) +
                                                 " (recorded; the provider's next callback "
                                                 "forwards it again)");
  }
  if (Status s = log.mark_forwarded(d.id, status.status, now); !s) return s;
  return true;
}

}  // namespace

Result<bool> Notifier::provider_status(const DeliveryStatus& status) {
  Result<std::optional<DeliveryRecord>> recorded = state_->log->record_status(status);
  if (!recorded) return recorded.status();
  if (!recorded->has_value()) return false;
  return forward_status(*state_->log, state_->forward_url, state_->forward_headers,
                        state_->forward_timeout_ms, **recorded, status);
}

bool Notifier::tracking() const {
  return state_->tracking.enabled();
}

Result<Notifier::Tracked> Notifier::track(std::string_view kind, std::string_view token,
                                          std::int64_t now_ms, bool record) {
  State& st = *state_;
  if (!st.tracking.enabled()) return Status::not_found("tracking is not configured");
  Result<notify::TrackedEvent> event = notify::read_tracking_token(st.tracking, token);
  if (!event) return event.status();
  if (event->kind != kind) return Status::invalid_argument("not a tracking token of this kind");
  Tracked out;
  out.redirect = event->url;
  if (!record) return out;
  DeliveryStatus status;
  status.channel = event->channel;
  status.status = event->kind == "o" ? "opened" : "clicked";
  status.at_ms = now_ms;
  status.detail = event->kind == "o" ? json{{"source", "pixel"}}
                                     : json{{"source", "link"}, {"url", event->url}};
  Result<std::optional<DeliveryRecord>> recorded =
      st.log->record_engagement(event->dedupe_key, status);
  if (!recorded) {
    out.problem = recorded.status();
    return out;
  }
  if (!recorded->has_value()) return out;
  out.recorded = true;
  status.provider_id = (*recorded)->provider_id;
  Result<bool> forwarded = forward_status(*st.log, st.forward_url, st.forward_headers,
                                          st.forward_timeout_ms, **recorded, status);
  if (!forwarded) out.problem = forwarded.status();
  return out;
}

Result<std::vector<EngagementCount>> Notifier::engagement(std::int64_t sent_since_ms) const {
  return state_->log->engagement_counts(sent_since_ms);
}

Result<json> Notifier::experiments_report(const Engine* engine) const {
  EngagementReportOptions options;
  options.engine = engine;
  for (const auto& [message, experiment] : state_->experiments) {
    if (!experiment.outcome.empty()) options.outcomes.emplace(experiment.id, experiment.outcome);
  }
  // A connection of its own: the report's scan does not hold up the jobs sending meanwhile
  // (SQLite's WAL and PostgreSQL let it read beside them).
  Result<std::unique_ptr<notify::DeliveryLog>> reader = notify::DeliveryLog::open(state_->log_location);
  if (!reader) return reader.status();
  return notify::experiments_report(**reader, options);
}

void Notifier::use_decisions(DecisionFunction evaluate) {
  state_->decide = std::move(evaluate);
}

bool Notifier::needs_decisions() const {
  return !state_->segments.decision.empty();
}

TaskHandler Notifier::segment_handler() {
  return [self = shared_from_this()](const Job& job) { return self->segment(job); };
}

JobOutcome Notifier::segment(const Job& job) {
  State& st = *state_;
  const json variables = job.variables();
  const json& customer = customer_object(variables);
  std::string order_id = order_id_of(job, variables);
  if (order_id.empty()) order_id = std::string(job.idempotency_key());
  const std::string customer_id = customer_key(customer, order_id);
  const notify::SegmentSettings& settings = st.segments;
  std::optional<Status> decision_error;
  const auto decide = [&](const notify::CustomerHistory& history) -> Result<std::string> {
    if (settings.decision.empty()) return notify::classify(settings, history, job.now_ms());
    const auto refuse = [&](std::string why) {
      decision_error = Status::invalid_argument("notifications.segments.decision '" +
                                                settings.decision + "': " + std::move(why));
      return *decision_error;
    };
    if (!st.decide) return refuse("no engine to evaluate it in (Notifier::use_decisions)");
    json inputs = notify::history_json(settings, history, job.now_ms());
    inputs["customer"] = customer;
    Result<json> result = st.decide(settings.decision, inputs);
    if (!result) {
      return refuse(result.status().code() == StatusCode::kNotFound
                        ? "is not deployed: deploy the .dmn file that defines it"
                        : result.status().message());
    }
    const json* value = &*result;
    if (value->is_object() && value->size() == 1) value = &value->begin().value();
    if (value->is_object() && value->contains("segment")) value = &(*value)["segment"];
    if (!value->is_string() || value->get<std::string>().empty()) {
      return refuse("gave " + result->dump() + ", not a segment name (a string, or an object "
                    "with the output segment)");
    }
    return value->get<std::string>();
  };
  Result<notify::OrderSegment> r = st.log->segment_order(
      customer_id, order_id, job.now_ms(), std::int64_t{settings.window_days} * 86'400'000, decide);
  if (decision_error) return JobOutcome::incident(decision_error->message());
  if (!r) return JobOutcome::fail("the delivery log: " + r.status().message());
  return JobOutcome::complete(
      {{"segment", r->segment},
       {"customerHistory", notify::history_json(settings, r->history, r->ordered_ms)}});
}

}  // namespace ordo
