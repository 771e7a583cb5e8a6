// Reading the replay config: see sim/replay_config.h and docs/simulation.md.
#include "sim/replay_config.h"

#include <algorithm>
#include <functional>
#include <set>

#include "expr/ast.h"
#include "ordo/definition.h"
#include "time/iso8601.h"

namespace ordo::sim {
namespace {

using nlohmann::json;

}  // namespace

std::string text_of(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string at_line(const std::string& file, std::int64_t line, const std::string& message) {
  return file + ":" + std::to_string(line) + ": " + message;
}

std::uint64_t stable_hash(std::string_view text) noexcept {
  // FNV-1a: the same on every machine and standard library (std::hash is not).
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

namespace {

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  Status bad(const std::string& where, const std::string& why) const {
    return Status::invalid_argument(source_ + ": " + where + ": " + why);
  }

  // Keys the object may have; anything else is a mistake worth naming.
  Status only(const json& object, const std::string& where,
              std::initializer_list<std::string_view> keys) const {
    for (const auto& [key, value] : object.items()) {
      if (key.starts_with("$")) continue;  // "$comment" and the like: notes for people
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        std::string known;
        for (std::string_view k : keys) known += (known.empty() ? "" : ", ") + std::string(k);
        return bad(where.empty() ? key : where + "." + key,
                   "is not a setting here (known: " + known + ")");
      }
    }
    return Status::ok();
  }

  Result<ConfigValue> value(const json& v, const std::string& where, bool* uses_job) const {
    ConfigValue out;
    out.where = where;
    if (v.is_string() && !v.get_ref<const std::string&>().empty() &&
        v.get_ref<const std::string&>()[0] == '=') {
      auto compiled = expr::compile(ExpressionDialect::kFeel,
                                    std::string_view(v.get_ref<const std::string&>()).substr(1));
      if (auto* error = std::get_if<expr::CompileError>(&compiled)) {
        return bad(where, "column " + std::to_string(error->offset + 2) + ": " + error->message);
      }
      out.expression = std::get<std::shared_ptr<const CompiledExpression>>(compiled);
      constexpr std::string_view kHeaders = "=job.headers.";
      const std::string& text = v.get_ref<const std::string&>();
      if (text.starts_with(kHeaders) && text.size() > kHeaders.size() &&
          text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
                                 kHeaders.size()) == std::string::npos) {
        out.header = text.substr(kHeaders.size());
      }
      const CompiledExpression& e = *out.expression;
      if (e.nodes.size() == 1 && e.nodes[e.root].op == expr::Op::kVar) {
        out.name = e.names[e.nodes[e.root].a];
      }
      for (const expr::Node& n : out.expression->nodes) {
        if (n.op != expr::Op::kVar) continue;
        const std::string& name = out.expression->names[n.a];
        if (names_ != nullptr) names_->insert(name);
        // A header read directly (out.header) needs no `job` object built.
        if (uses_job != nullptr && name == "job" && out.header.empty()) *uses_job = true;
      }
    } else {
      out.literal = v;
    }
    return out;
  }

  Result<std::vector<NamedValue>> values(const json& v, const std::string& where,
                                         bool* uses_job) const {
    if (!v.is_object()) return bad(where, "must be an object of names and values");
    std::vector<NamedValue> out;
    for (const auto& [name, spec] : v.items()) {
      if (name.starts_with("$")) continue;  // "$comment": a note, not a variable
      Result<ConfigValue> c = value(spec, where + "." + name, uses_job);
      if (!c) return c.status();
      out.push_back({name, std::move(*c)});
    }
    return out;
  }

  Result<std::int64_t> duration(const json& v, const std::string& where) const {
    std::optional<std::int64_t> ms;
    if (v.is_string()) ms = time::parse_fixed_duration_ms(v.get_ref<const std::string&>());
    if (!ms) return bad(where, "must be an ISO 8601 duration such as PT1H or P30D");
    return *ms;
  }

  Result<std::vector<std::string>> names(const json& v, const std::string& where) const {
    if (!v.is_array()) return bad(where, "must be a list of field names");
    std::vector<std::string> out;
    for (const json& n : v) {
      if (!n.is_string() || n.get_ref<const std::string&>().empty()) {
        return bad(where, "must be a list of field names");
      }
      out.push_back(n.get<std::string>());
    }
    return out;
  }

  Result<PublishSpec> publish(const json& v, const std::string& where, bool* uses_job) const {
    if (!v.is_object()) return bad(where, "must be an object: {\"message\": NAME, ...}");
    if (Status s = only(v, where, {"message", "correlationKey", "variables", "when", "after"});
        !s) {
      return s;
    }
    PublishSpec out;
    out.where = where;
    if (!v.contains("message") || !v["message"].is_string() ||
        v["message"].get<std::string>().empty()) {
      return bad(where + ".message", "must name the message to publish");
    }
    out.message = v["message"].get<std::string>();
    if (!v.contains("correlationKey")) {
      return bad(where + ".correlationKey",
                 "is missing: say how the message finds its order (=orderId)");
    }
    Result<ConfigValue> key = value(v["correlationKey"], where + ".correlationKey", uses_job);
    if (!key) return key.status();
    out.correlation_key = std::move(*key);
    if (v.contains("variables")) {
      auto vars = values(v["variables"], where + ".variables", uses_job);
      if (!vars) return vars.status();
      out.variables = std::move(*vars);
    }
    if (v.contains("when")) {
      Result<ConfigValue> when = value(v["when"], where + ".when", uses_job);
      if (!when) return when.status();
      out.when = std::move(*when);
    }
    if (v.contains("after")) {
      Result<Latency> after = read_latency(v["after"], source_ + ": " + where + ".after");
      if (!after) return after.status();
      out.after = std::move(*after);
    }
    return out;
  }

  Result<OutcomeSpec> outcome(const json& v, const std::string& where, bool* uses_job,
                              bool in_list) const {
    OutcomeSpec out;
    out.where = where;
    if (in_list) {
      if (!v.is_object()) return bad(where, "must be an object");
      if (Status s = only(
              v, where, {"when", "probability", "outputs", "error", "fail", "publish", "latency"});
          !s) {
        return s;
      }
      if (v.contains("when") && v.contains("probability")) {
        return bad(where,
                   "has both \"when\" and \"probability\": give one (recorded outcomes, or "
                   "what-if probabilities)");
      }
      if (v.contains("when")) {
        Result<ConfigValue> when = value(v["when"], where + ".when", uses_job);
        if (!when) return when.status();
        out.when = std::move(*when);
      }
      if (v.contains("probability")) {
        const json& p = v["probability"];
        if (!p.is_number() || p.get<double>() < 0 || p.get<double>() > 1) {
          return bad(where + ".probability", "must be a number from 0 to 1");
        }
        out.probability = p.get<double>();
      }
      if (v.contains("latency")) {
        Result<Latency> l = read_latency(v["latency"], source_ + ": " + where + ".latency");
        if (!l) return l.status();
        out.latency = std::move(*l);
      }
    }
    if (v.contains("outputs")) {
      auto outputs = values(v["outputs"], where + ".outputs", uses_job);
      if (!outputs) return outputs.status();
      out.outputs = std::move(*outputs);
    }
    if (v.contains("error")) {
      const json& e = v["error"];
      const std::string at = where + ".error";
      if (e.is_string()) {
        out.error_code = e.get<std::string>();
      } else if (e.is_object()) {
        if (Status s = only(e, at, {"code", "message"}); !s) return s;
        if (e.contains("code") && e["code"].is_string())
          out.error_code = e["code"].get<std::string>();
        if (e.contains("message")) {
          Result<ConfigValue> m = value(e["message"], at + ".message", uses_job);
          if (!m) return m.status();
          out.error_message = std::move(*m);
        }
      }
      if (out.error_code.empty()) {
        return bad(at, "must give the BPMN error code: \"PAYMENT_DECLINED\" or {\"code\": ...}");
      }
    }
    if (v.contains("fail")) {
      if (!out.error_code.empty()) return bad(where, "has both \"error\" and \"fail\": give one");
      Result<ConfigValue> f = value(v["fail"], where + ".fail", uses_job);
      if (!f) return f.status();
      out.fail = std::move(*f);
    }
    if (v.contains("publish")) {
      const json& list = v["publish"];
      if (!list.is_array()) return bad(where + ".publish", "must be a list of messages");
      for (std::size_t i = 0; i < list.size(); ++i) {
        auto p = publish(list[i], where + ".publish[" + std::to_string(i) + "]", uses_job);
        if (!p) return p.status();
        out.publish.push_back(std::move(*p));
      }
    }
    return out;
  }

  Result<TaskSpec> task(const json& v, const std::string& type, const std::string& where) const {
    if (!v.is_object()) return bad(where, "must be an object");
    if (Status s = only(v, where,
                        {"latency", "requires", "outcomes", "outputs", "error", "fail", "publish",
                         "notification"});
        !s) {
      return s;
    }
    TaskSpec out;
    out.type = type;
    out.stream = stable_hash(type);
    if (v.contains("latency")) {
      Result<Latency> l = read_latency(v["latency"], source_ + ": " + where + ".latency");
      if (!l) return l.status();
      out.latency = std::move(*l);
    }
    if (v.contains("requires")) {
      auto r = names(v["requires"], where + ".requires");
      if (!r) return r.status();
      out.requires_fields = std::move(*r);
    }
    const bool direct =
        v.contains("outputs") || v.contains("error") || v.contains("fail") || v.contains("publish");
    if (v.contains("outcomes")) {
      if (direct) {
        return bad(where,
                   "has \"outcomes\" and also outputs, error, fail or publish of its own: "
                   "move those into an outcome");
      }
      const json& list = v["outcomes"];
      if (!list.is_array() || list.empty())
        return bad(where + ".outcomes", "must be a list of outcomes");
      double total = 0;
      for (std::size_t i = 0; i < list.size(); ++i) {
        auto o =
            outcome(list[i], where + ".outcomes[" + std::to_string(i) + "]", &out.uses_job, true);
        if (!o) return o.status();
        if (o->probability) total += *o->probability;
        out.outcomes.push_back(std::move(*o));
      }
      if (total > 1.0 + 1e-9) {
        return bad(where + ".outcomes",
                   "probabilities add up to " + std::to_string(total) + ", more than 1");
      }
    } else if (direct) {
      auto o = outcome(v, where, &out.uses_job, false);
      if (!o) return o.status();
      out.outcomes.push_back(std::move(*o));
    }
    if (v.contains("notification")) {
      const json& n = v["notification"];
      const std::string at = where + ".notification";
      if (!n.is_object()) return bad(at, "must be an object (it may be empty: {})");
      if (Status s = only(n, at, {"template", "channel", "bounced"}); !s) return s;
      NotificationSpec spec;
      auto read = [&](const char* key, const char* fallback, ConfigValue& into) -> Status {
        Result<ConfigValue> c =
            value(n.contains(key) ? n[key] : json(fallback), at + "." + key, &out.uses_job);
        if (!c) return c.status();
        into = std::move(*c);
        return Status::ok();
      };
      if (Status s = read("template", "=job.headers.template", spec.template_id); !s) return s;
      if (Status s = read("channel", "=job.headers.channel", spec.channel); !s) return s;
      if (n.contains("bounced")) {
        ConfigValue b;
        if (Status s = read("bounced", "", b); !s) return s;
        spec.bounced = std::move(b);
      }
      out.notification = std::move(spec);
    }
    return out;
  }

  Result<ReplayConfig> config(const json& c, std::set<std::string>* task_names,
                              std::set<std::string>* start_names) {
    if (!c.is_object()) return Status::invalid_argument(source_ + ": must be a JSON object");
    if (Status s = only(c, "",
                        {"start", "horizon", "messageTtl", "milestones", "rates", "sla", "tasks",
                         "default", "requires"});
        !s) {
      return s;
    }
    ReplayConfig out;
    out.source = source_;
    if (c.contains("start")) {
      const json& s = c["start"];
      if (!s.is_object()) return bad("start", "must be an object");
      if (Status st = only(s, "start", {"time", "orderId", "partition", "variables"}); !st)
        return st;
      auto field = [&](const char* key, std::string& into) -> Status {
        if (!s.contains(key)) return Status::ok();
        if (!s[key].is_string() || s[key].get<std::string>().empty()) {
          return bad(std::string("start.") + key, "must name a field of the order records");
        }
        into = s[key].get<std::string>();
        return Status::ok();
      };
      if (Status st = field("time", out.time_field); !st) return st;
      if (Status st = field("orderId", out.id_field); !st) return st;
      if (Status st = field("partition", out.partition_field); !st) return st;
      if (s.contains("variables")) {
        names_ = start_names;
        auto vars = values(s["variables"], "start.variables", nullptr);
        names_ = nullptr;
        if (!vars) return vars.status();
        out.start_variables = std::move(*vars);
      }
    }
    if (c.contains("requires")) {
      auto r = names(c["requires"], "requires");
      if (!r) return r.status();
      out.requires_fields = std::move(*r);
    }
    if (c.contains("horizon")) {
      auto d = duration(c["horizon"], "horizon");
      if (!d) return d.status();
      if (*d <= 0) return bad("horizon", "must be longer than 0");
      out.horizon_ms = *d;
    }
    if (c.contains("messageTtl")) {
      auto d = duration(c["messageTtl"], "messageTtl");
      if (!d) return d.status();
      out.message_ttl_ms = *d;
    }
    if (c.contains("milestones")) {
      const json& m = c["milestones"];
      if (!m.is_object()) return bad("milestones", "must map names to element ids");
      for (const auto& [name, id] : m.items()) {
        if (name == "end")
          return bad("milestones.end",
                     "\"end\" is the cycle time to any end event; pick another name");
        if (name.starts_with("$")) continue;
        if (!id.is_string() || id.get<std::string>().empty()) {
          return bad("milestones." + name, "must be the id of an element of the process");
        }
        for (const auto& [other, other_id] : out.milestones) {
          if (other_id == id.get<std::string>()) {
            return bad("milestones." + name, "'" + other_id + "' is already milestone '" + other +
                                                 "'; an element marks one milestone");
          }
        }
        out.milestones.emplace_back(name, id.get<std::string>());
      }
    }
    if (c.contains("rates")) {
      const json& r = c["rates"];
      if (!r.is_object()) return bad("rates", "must map names to {\"reached\": ID, \"of\": ID}");
      for (const auto& [name, spec] : r.items()) {
        if (name.starts_with("$")) continue;
        const std::string at = "rates." + name;
        if (!spec.is_object() || !spec.contains("reached") || !spec["reached"].is_string()) {
          return bad(
              at, "must be {\"reached\": ELEMENT, \"of\": ELEMENT} (\"of\" optional: every order)");
        }
        if (Status s = only(spec, at, {"reached", "of"}); !s) return s;
        RateSpec rate{name, spec["reached"].get<std::string>(), ""};
        if (spec.contains("of")) {
          if (!spec["of"].is_string()) return bad(at + ".of", "must be an element id");
          rate.of = spec["of"].get<std::string>();
        }
        out.rates.push_back(std::move(rate));
      }
    }
    if (c.contains("sla")) {
      const json& list = c["sla"];
      if (!list.is_array()) return bad("sla", "must be a list of targets");
      for (std::size_t i = 0; i < list.size(); ++i) {
        const json& t = list[i];
        const std::string at = "sla[" + std::to_string(i) + "]";
        if (!t.is_object()) return bad(at, "must be {\"name\", \"milestone\", \"within\"}");
        if (Status s = only(t, at, {"name", "milestone", "within"}); !s) return s;
        SlaSpec sla;
        sla.milestone = t.value("milestone", std::string("end"));
        sla.name = t.value("name", sla.milestone);
        if (!t.contains("within"))
          return bad(at + ".within", "is missing (a duration such as PT1H)");
        auto d = duration(t["within"], at + ".within");
        if (!d) return d.status();
        sla.within_ms = *d;
        const bool known = sla.milestone == "end" ||
                           std::any_of(out.milestones.begin(), out.milestones.end(),
                                       [&](const auto& m) { return m.first == sla.milestone; });
        if (!known) {
          return bad(at + ".milestone",
                     "'" + sla.milestone +
                         "' is not a milestone: name one from \"milestones\", or \"end\"");
        }
        out.sla.push_back(std::move(sla));
      }
    }
    names_ = task_names;
    if (c.contains("tasks")) {
      const json& t = c["tasks"];
      if (!t.is_object()) return bad("tasks", "must map job types to what their adapter does");
      for (const auto& [type, spec] : t.items()) {
        if (type.starts_with("$")) continue;
        auto parsed = task(spec, type, "tasks." + type);
        if (!parsed) return parsed.status();
        out.tasks.emplace(type, std::move(*parsed));
      }
    }
    if (c.contains("default")) {
      auto parsed = task(c["default"], "", "default");
      if (!parsed) return parsed.status();
      out.default_task = std::move(*parsed);
    }
    return out;
  }

  // Names that task expressions read, collected while reading tasks.
  std::set<std::string>* names_ = nullptr;

 private:
  std::string source_;
};

void latency_fields(const Latency& l, std::set<std::string>& into) {
  if (!l.field.empty()) into.insert(l.field);
}

void task_fields(const TaskSpec& t, std::set<std::string>& into) {
  into.insert(t.requires_fields.begin(), t.requires_fields.end());
  latency_fields(t.latency, into);
  for (const OutcomeSpec& o : t.outcomes) {
    if (o.latency) latency_fields(*o.latency, into);
    for (const PublishSpec& p : o.publish) latency_fields(p.after, into);
  }
}

}  // namespace

const TaskSpec* ReplayConfig::task(std::string_view type) const {
  auto it = tasks.find(type);
  if (it != tasks.end()) return &it->second;
  return default_task ? &*default_task : nullptr;
}

Result<ReplayConfig> read_replay_config(const json& config, const std::string& source) {
  Reader reader(source);
  std::set<std::string> names, start;
  Result<ReplayConfig> out = reader.config(config, &names, &start);
  if (!out) return out;
  for (const auto& [type, t] : out->tasks) task_fields(t, names);
  if (out->default_task) task_fields(*out->default_task, names);
  names.erase("job");
  if (!out->start_variables.empty()) {
    // Without start.variables the record itself is what an order starts with: all of it.
    start.insert(names.begin(), names.end());
    start.insert(out->requires_fields.begin(), out->requires_fields.end());
    start.insert({out->time_field, out->id_field, out->partition_field});
    out->record_fields.assign(start.begin(), start.end());
  }
  return out;
}

const json* ReplayVariables::find(std::string_view name) const {
  if (job_ != nullptr && name == "job") return job_;
  if (auto it = record_.find(name); it != record_.end()) return &*it;
  return process_ != nullptr ? process_->find(name) : nullptr;
}

Result<json> evaluate(const ConfigValue& value, const expr::Variables& variables,
                      std::int64_t now_ms) {
  if (!value.expression) return value.literal;
  if (!value.name.empty()) {
    const json* found = variables.find(value.name);
    if (found == nullptr || found->is_null()) return json();  // FEEL: an unknown name is null
    if (found->is_string()) return *found;
  }
  expr::Context ctx{&variables, now_ms};
  Result<json> r = expr::evaluate(*value.expression, ctx);
  if (!r) return Status::invalid_argument(value.where + ": " + r.status().message());
  return r;
}

Result<bool> evaluate_condition(const ConfigValue& value, const expr::Variables& variables,
                                std::int64_t now_ms) {
  if (!value.expression) {
    if (value.literal.is_boolean()) return value.literal.get<bool>();
    return Status::invalid_argument(value.where + ": must be true, false or a condition (=...)");
  }
  expr::Context ctx{&variables, now_ms};
  Result<bool> r = expr::evaluate_condition(*value.expression, ctx);
  if (!r) return Status::invalid_argument(value.where + ": " + r.status().message());
  return r;
}

}  // namespace ordo::sim
