// ordo.json: which adapter does the work of which task type, with ${env:NAME} secrets.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ordo/adapters/adapters.h"
#include "ordo/adapters/notifications.h"
#include "ordo/adapters/queues.h"

namespace ordo {
namespace {

using nlohmann::json;

Status config_error(const std::string& file, const std::string& key, const std::string& why) {
  return Status::invalid_argument(file + ": " + key + ": " + why);
}

Result<std::string> read_config_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::io_error("cannot read the configuration " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Replaces ${env:NAME} in every string of `value`, in place.
Status expand(json& value, const std::string& file, const std::string& key,
              const Environment& env) {
  if (value.is_object()) {
    for (auto& [k, v] : value.items()) {
      if (Status s = expand(v, file, key + "." + k, env); !s) return s;
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (Status s = expand(value[i], file, key + "[" + std::to_string(i) + "]", env); !s) {
        return s;
      }
    }
  } else if (value.is_string()) {
    const std::string text = value.get<std::string>();
    std::string out;
    std::size_t at = 0;
    while (true) {
      const std::size_t open = text.find("${env:", at);
      if (open == std::string::npos) break;
      const std::size_t close = text.find('}', open);
      if (close == std::string::npos) {
        return config_error(file, key, "'${env:' is not closed with '}'");
      }
      const std::string name = text.substr(open + 6, close - open - 6);
      std::string found;
      if (name.empty() || !env(name, found)) {
        return config_error(file, key,
                            "environment variable " + (name.empty() ? "(no name)" : name) +
                                " is not set; set it (secrets stay out of the file) or write "
                                "the value here");
      }
      out.append(text, at, open - at).append(found);
      at = close + 1;
    }
    if (at != 0) value = out + text.substr(at);
  }
  return Status::ok();
}

}  // namespace

Result<AdapterConfig> parse_adapter_config(const std::string& text, const std::string& file,
                                           Environment env, LogFunction log) {
  if (!env) {
    env = [](const std::string& name, std::string& value) {
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) return false;
      value = v;
      return true;
    };
  }
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    // nlohmann reports a byte offset; people want a line and a column.
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return Status::invalid_argument(file + ":" + std::to_string(line) + ":" +
                                    std::to_string(column) + ": not valid JSON");
  }
  if (!doc.is_object()) return config_error(file, "(top)", "must be a JSON object");
  AdapterConfig out;
  for (auto& [section, value] : doc.items()) {
    if (section != "adapters" && section != "notifications" && section != "server" &&
        section != "queues") {
      return config_error(file, section,
                          "is not a section Ordo knows (this version reads \"adapters\", "
                          "\"notifications\", \"queues\" and \"server\")");
    }
  }
  if (auto srv = doc.find("server"); srv != doc.end()) {
    if (Status s = expand(*srv, file, "server", env); !s) return s;
    out.server = *srv;
  }
  if (auto n = doc.find("notifications"); n != doc.end()) {
    if (!n->is_object()) return config_error(file, "notifications", "must be an object");
    if (Status s = expand(*n, file, "notifications", env); !s) return s;
    Result<std::shared_ptr<Notifier>> notifier =
        Notifier::create(*n, std::filesystem::path(file).parent_path().string(), "notifications",
                         log);
    if (!notifier) return Status::invalid_argument(file + ": " + notifier.status().message());
    out.notifier = std::move(*notifier);
  }
  if (auto q = doc.find("queues"); q != doc.end()) {
    if (Status s = expand(*q, file, "queues", env); !s) return s;
    Result<std::unique_ptr<QueueConsumers>> queues = QueueConsumers::create(*q, "queues", log);
    if (!queues) return Status::invalid_argument(file + ": " + queues.status().message());
    out.queues = std::move(*queues);
    Result<std::unique_ptr<EventPublisher>> events = EventPublisher::create(*q, "queues", log);
    if (!events) return Status::invalid_argument(file + ": " + events.status().message());
    out.events = std::move(*events);
  }
  if (auto value = doc.find("adapters"); value != doc.end()) {
    if (!value->is_object()) {
      return config_error(file, "adapters", "must be an object: task type -> adapter settings");
    }
    for (auto& [type, settings] : value->items()) {
      const std::string key = "adapters." + type;
      if (!settings.is_object()) return config_error(file, key, "must be an object of settings");
      if (Status s = expand(settings, file, key, env); !s) return s;
      const auto adapter = settings.find("adapter");
      if (adapter == settings.end() || !adapter->is_string()) {
        return config_error(file, key + ".adapter",
                            "is missing: say which adapter does this work (erp, external, "
                            "http, notify, payment, segments, simulated, stripe)");
      }
      const std::string name = adapter->get<std::string>();
      if (name == "simulated" || name == "external") {
        if (settings.size() > 1) {
          return config_error(file, key, "the " + name + " adapter has no settings");
        }
        (name == "simulated" ? out.simulated : out.external).push_back(type);
      } else if (name == "http") {
        Result<TaskHandler> h = make_http_adapter(settings, key);
        if (!h) return Status::invalid_argument(file + ": " + h.status().message());
        out.handlers.emplace(type, std::move(*h));
      } else if (name == "erp" || name == "payment" || name == "stripe") {
        Result<TaskHandler> h = name == "erp"       ? make_erp_adapter(settings, key)
                                : name == "payment" ? make_payment_adapter(settings, key)
                                                    : make_stripe_adapter(settings, key);
        if (!h) return Status::invalid_argument(file + ": " + h.status().message());
        out.handlers.emplace(type, std::move(*h));
      } else if (name == "notify" || name == "segments") {
        if (!out.notifier) {
          return config_error(file, key + ".adapter",
                              "the " + name +
                                  " adapter needs a \"notifications\" section (channels, "
                                  "templates, delivery log): see docs/notifications.md");
        }
        if (settings.size() > 1) {
          return config_error(file, key,
                              "the " + name +
                                  " adapter has no settings of its own; they live in the "
                                  "\"notifications\" section");
        }
        out.handlers.emplace(type, name == "notify" ? out.notifier->handler()
                                                    : out.notifier->segment_handler());
      } else {
        return config_error(file, key + ".adapter",
                            "unknown adapter '" + name +
                                "' (known: erp, external, http, notify, payment, segments, "
                                "simulated, stripe)");
      }
    }
  }
  return out;
}

void AdapterConfig::attach(const Engine& engine) const {
  if (!notifier) return;
  notifier->use_decisions([&engine](std::string_view decision, const nlohmann::json& inputs) {
    return engine.evaluate_decision(decision, inputs);
  });
}

Result<NotificationRehearsal> load_notification_rehearsal(const std::string& path) {
  Result<std::string> text = read_config_text(path);
  if (!text) return text.status();
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded()) {
    // parse_adapter_config says where; it builds nothing before it finds the mistake.
    Result<AdapterConfig> bad = parse_adapter_config(*text, path);
    return bad ? Status::invalid_argument(path + ": not valid JSON") : bad.status();
  }
  if (!doc.is_object()) return config_error(path, "(top)", "must be a JSON object");
  NotificationRehearsal out;
  out.file = path;
  out.base_dir = std::filesystem::path(path).parent_path().string();
  const Environment lenient = [](const std::string& name, std::string& value) {
    const char* v = std::getenv(name.c_str());
    value = v != nullptr ? std::string(v) : "${env:" + name + "}";
    return true;
  };
  auto n = doc.find("notifications");
  if (n == doc.end() || !n->is_object()) {
    return config_error(path, "notifications",
                        "is missing: a replay rehearses the notification rules of this "
                        "section (docs/notifications.md)");
  }
  if (Status s = expand(*n, path, "notifications", lenient); !s) return s;
  out.settings = std::move(*n);
  if (auto a = doc.find("adapters"); a != doc.end() && a->is_object()) {
    for (const auto& [type, settings] : a->items()) {
      const auto named = settings.is_object() ? settings.find("adapter") : settings.end();
      const std::string adapter =
          named != settings.end() && named->is_string() ? named->get<std::string>() : "";
      if (adapter == "notify") out.notify_types.push_back(type);
      if (adapter == "segments") out.segment_types.push_back(type);
    }
  }
  if (out.notify_types.empty()) {
    return config_error(path, "adapters",
                        "no task type is done by the \"notify\" adapter, so the rules would "
                        "answer no job: name the process's notification task type here, e.g. "
                        "\"notify.send\": {\"adapter\": \"notify\"}");
  }
  // Built once here, so a mistake in the section is reported before the replay starts.
  Result<std::shared_ptr<Notifier>> probe = Notifier::rehearsal(out.settings, out.base_dir);
  if (!probe) return Status::invalid_argument(path + ": " + probe.status().message());
  return out;
}

ReplayNotifications NotificationRehearsal::for_replay() const {
  ReplayNotifications out;
  out.source = file;
  out.customer = [](const json& variables) {
    const auto c = variables.find("customer");
    return c == variables.end() ? std::string() : Notifier::customer_of(*c);
  };
  out.job_types = notify_types;
  out.job_types.insert(out.job_types.end(), segment_types.begin(), segment_types.end());
  out.make = [self = std::make_shared<const NotificationRehearsal>(*this)](
                 const Engine& engine) -> Result<ReplayNotificationHandlers> {
    Result<std::shared_ptr<Notifier>> made = Notifier::rehearsal(self->settings, self->base_dir);
    if (!made) return Status::invalid_argument(self->file + ": " + made.status().message());
    std::shared_ptr<Notifier> notifier = std::move(*made);
    notifier->use_decisions([&engine](std::string_view decision, const json& inputs) {
      return engine.evaluate_decision(decision, inputs);
    });
    ReplayNotificationHandlers h;
    for (const std::string& t : self->notify_types) h.handlers.emplace(t, notifier->handler());
    for (const std::string& t : self->segment_types) {
      h.handlers.emplace(t, notifier->segment_handler());
    }
    h.deliveries = [n = notifier.get()](
                       std::string_view order_id) -> Result<std::vector<ReplayDelivery>> {
      std::vector<ReplayDelivery> found;
      if (order_id.empty()) return found;  // (an empty id would list every order's)
      Result<std::vector<DeliveryRecord>> records = n->deliveries(order_id);
      if (!records) return records.status();
      found.reserve(records->size());
      for (DeliveryRecord& r : *records) {
        found.push_back({std::move(r.message), std::move(r.channel), std::move(r.status),
                       std::move(r.segment), std::move(r.experiment), std::move(r.variant)});
      }
      return found;
    };
    h.forget_order = [n = notifier.get()](std::string_view order_id) {
      return n->forget_order(order_id);
    };
    h.keep = std::move(notifier);
    return h;
  };
  return out;
}

Result<AdapterConfig> load_adapter_config(const std::string& path, Environment env,
                                          LogFunction log) {
  Result<std::string> text = read_config_text(path);
  if (!text) return text.status();
  return parse_adapter_config(*text, path, std::move(env), std::move(log));
}

}  // namespace ordo
