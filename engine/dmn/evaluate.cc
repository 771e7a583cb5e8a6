// Evaluating DMN decisions: the requirement graph (each required decision once per
// evaluation), boxed expressions, decision tables with every hit policy, business knowledge
// models and decision services as functions, and the typeRef checks of DMN 1.3 10.3.2.9
// (a value that does not conform to its declared type is null; a list of one element and
// the element convert to each other).
#include <algorithm>
#include <memory>
#include <charconv>
#include <atomic>
#include <chrono>

#include "dmn/model.h"
#include "expr/expr.h"
#include "expr/functions.h"
#include "expr/value.h"

namespace ordo {
namespace dmn {
namespace {

constexpr int kMaxCallDepth = 64;
constexpr int kMaxRequirementDepth = 256;  // bounds the stack on a hostile model

std::string quote(std::string_view s) {
  return "'" + std::string(s) + "'";
}

std::string shorten(const Json& v) {
  std::string s = v.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

bool is_typed(const Json& v, std::string_view kind) {
  return expr::typed_kind(v) == kind;
}

// A typed value ({"@type", "value"}: a date, duration, long decimal...), not a context.
bool is_typed_value(const Json& v) {
  return !expr::typed_kind(v).empty();
}

// The FEEL built-in that reads text as a value of `type`, for temporal types.
expr::Builtin reader_of(std::string_view type) {
  if (type == "date") return expr::Builtin::kDate;
  if (type == "time") return expr::Builtin::kTime;
  if (type == "dateTime" || type == "date and time") return expr::Builtin::kDateAndTime;
  if (type == "duration" || type == "dayTimeDuration" || type == "yearMonthDuration" ||
      type == "days and time duration" || type == "years and months duration") {
    return expr::Builtin::kDuration;
  }
  return expr::Builtin::kNone;
}

// Whether `v` (not null) is of the FEEL built-in type `type`; nullopt when `type` is not a
// built-in type name.
std::optional<bool> builtin_conforms(std::string_view type, const Json& v) {
  if (type.empty() || type == "Any" || type == "any") return true;
  if (type == "number") return v.is_number() || is_typed(v, "number");
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "date") return is_typed(v, "date");
  if (type == "dateTime" || type == "date and time") return is_typed(v, "dateTime");
  if (type == "time") return is_typed(v, "time");
  if (type == "duration") return is_typed(v, "duration");
  if (type == "dayTimeDuration" || type == "yearMonthDuration" ||
      type == "days and time duration" || type == "years and months duration") {
    if (!is_typed(v, "duration")) return false;
    const std::optional<expr::FeelDuration> d =
        expr::parse_duration(v["value"].get_ref<const std::string&>());
    const bool years_months = type == "yearMonthDuration" || type == "years and months duration";
    return d.has_value() && d->years_months == years_months;
  }
  if (type == "context") return v.is_object() && !is_typed_value(v);
  if (type == "list") return v.is_array();
  return std::nullopt;
}

class Evaluation;

// Where a FEEL text finds names: variables set here (inputs, required decisions, context
// entries, parameters), then the enclosing scope; and functions: those defined in a context
// here or around, then the model's knowledge models and decision services.
class Scope final : public expr::Variables, public expr::Functions {
 public:
  Scope(Evaluation& ev, const Scope* parent, const expr::Variables* globals = nullptr)
      : ev_(ev), parent_(parent), globals_(globals) {}

  const Json* find(std::string_view name) const override {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      if (it->first == name) return &it->second;
    }
    if (parent_ != nullptr) return parent_->find(name);
    return globals_ != nullptr ? globals_->find(name) : nullptr;
  }
  std::optional<Result<Json>> call(std::string_view name, std::span<const Json> args,
                                   std::span<const std::string> names,
                                   const expr::Context& ctx) const override;
  std::optional<Result<Json>> call_value(const Json& ref, std::span<const Json> args,
                                         std::span<const std::string> names,
                                         const expr::Context& ctx) const override;

  void set(std::string name, Json v) { vars_.emplace_back(std::move(name), std::move(v)); }
  void define(std::string name, const Boxed* function) {
    functions_.emplace_back(std::move(name), function);
  }
  // The function named `name` defined in this scope or around it, with the scope it closes
  // over.
  std::pair<const Boxed*, const Scope*> function(std::string_view name) const {
    for (auto it = functions_.rbegin(); it != functions_.rend(); ++it) {
      if (it->first == name) return {it->second, this};
    }
    return parent_ != nullptr ? parent_->function(name) : std::pair<const Boxed*, const Scope*>{};
  }

 private:
  Evaluation& ev_;
  const Scope* parent_;
  const expr::Variables* globals_;  // the inputs: every one is visible, declared or not
  // Set between evaluations, never during one: what find() returned stays put while it is
  // used (the Variables contract).
  std::vector<std::pair<std::string, Json>> vars_;
  std::vector<std::pair<std::string, const Boxed*>> functions_;
};

class Evaluation {
 public:
  Evaluation(const DecisionModel& m, const expr::Variables& inputs, const DecisionOptions& options)
      : m_(m),
        inputs_(inputs),
        options_(options),
        memo_(m.decisions.size()),
        busy_(m.decisions.size(), false),
        root_(*this, nullptr, &inputs),
        now_ms_(options.now_ms != 0 ? options.now_ms
                                    : std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count()) {}

  Result<Json> decision(std::size_t i);
  // Sets the value of decision `i` without evaluating it (a decision service's input).
  void given(std::size_t i, Json v) { memo_[i] = Result<Json>(std::move(v)); }
  Result<Json> service(const DecisionService& s);
  std::optional<Result<Json>> call(std::string_view name, std::span<const Json> args,
                                   std::span<const std::string> names, const Scope& from);
  // A function entry of a context as a value that outlives the context ({"@type":
  // "function", "value": "dmn:EVALUATION:N"}), and calling one.
  Json escape(const Boxed& fn, const std::string& name, const Json& entries);
  std::optional<Result<Json>> call_escaped(const Json& ref, std::span<const Json> args,
                                           std::span<const std::string> names);

 private:
  struct Escaped {
    const Boxed* fn;
    std::string name;
    Json entries;  // the context's entries before it, which its body may read
  };
  std::vector<std::unique_ptr<Escaped>> escaped_;  // each put, as calls may add more
  std::string escaped_prefix_;  // "dmn:N:", unique to this evaluation
  expr::Context context(const Scope& s, const Json* input = nullptr) const {
    expr::Context c;
    c.variables = &s;
    c.functions = &s;
    c.now_ms = now_ms_;
    c.input = input;
    return c;
  }
  Result<Json> literal(const Program& p, const Scope& s) {
    if (!p) return Json(nullptr);
    return expr::evaluate_typed(*p, context(s));
  }
  Result<Json> boxed(const Boxed& b, const Scope& s, const Decision* owner);
  // DMN 1.5 filter, for, some and every over the list its <in> gives.
  Result<Json> iterate(const Boxed& b, const Scope& s, const Decision* owner);
  Result<Json> table(const DecisionTable& t, const Scope& s, const Decision* owner);
  Result<Json> invoke(std::string_view what, const std::vector<Parameter>& params,
                      const Boxed& body, std::span<const Json> args,
                      std::span<const std::string> names, const Scope* closure);
  const Json* input_value(const InputData& in) const;
  Json coerce(std::string_view type_ref, Json v) const;
  bool conforms(std::string_view type_ref, const Json& v, int depth) const;
  bool conforms_item(const ItemDefinition& def, const Json& v, bool as_element, int depth) const;
  const ItemDefinition* type(std::string_view name) const {
    for (const ItemDefinition& t : m_.types) {
      if (t.name == name) return &t;
    }
    return nullptr;
  }

  const DecisionModel& m_;
  const expr::Variables& inputs_;
  const DecisionOptions& options_;
  std::vector<std::optional<Result<Json>>> memo_;
  std::vector<bool> busy_;
  Scope root_;
  const std::int64_t now_ms_;
  int depth_ = 0;  // nested calls of functions
  int chain_ = 0;  // required decisions being evaluated, one inside the other
};

std::optional<Result<Json>> Scope::call(std::string_view name, std::span<const Json> args,
                                        std::span<const std::string> names,
                                        const expr::Context&) const {
  return ev_.call(name, args, names, *this);
}

std::optional<Result<Json>> Scope::call_value(const Json& ref, std::span<const Json> args,
                                              std::span<const std::string> names,
                                              const expr::Context&) const {
  return ev_.call_escaped(ref, args, names);
}

Json Evaluation::escape(const Boxed& fn, const std::string& name, const Json& entries) {
  if (escaped_prefix_.empty()) {
    static std::atomic<std::uint64_t> evaluations{0};
    escaped_prefix_ = "dmn:" + std::to_string(evaluations.fetch_add(1) + 1) + ":";
  }
  escaped_.push_back(std::make_unique<Escaped>(Escaped{&fn, name, entries}));
  return Json{{"@type", "function"},
              {"value", escaped_prefix_ + std::to_string(escaped_.size() - 1)}};
}

std::optional<Result<Json>> Evaluation::call_escaped(const Json& ref, std::span<const Json> args,
                                                     std::span<const std::string> names) {
  const std::string& id = ref["value"].get_ref<const std::string&>();
  if (escaped_prefix_.empty() || !id.starts_with(escaped_prefix_)) return std::nullopt;
  std::size_t k = 0;
  const char* begin = id.data() + escaped_prefix_.size();
  auto [p, ec] = std::from_chars(begin, id.data() + id.size(), k);
  if (ec != std::errc() || p != id.data() + id.size() || k >= escaped_.size()) return std::nullopt;
  const Escaped& e = *escaped_[k];
  Scope s(*this, &root_);
  for (auto it = e.entries.begin(); it != e.entries.end(); ++it) s.set(it.key(), *it);
  return invoke(e.name, e.fn->parameters, *e.fn->body, args, names, &s);
}

const Json* Evaluation::input_value(const InputData& in) const {
  if (in.ns != m_.ns) {
    if (const Json* v = inputs_.find("{" + in.ns + "}" + in.name)) return v;
  }
  return inputs_.find(in.name);
}

bool Evaluation::conforms_item(const ItemDefinition& def, const Json& v, bool as_element,
                               int depth) const {
  if (v.is_null()) return true;
  if (def.is_collection && !as_element) {
    if (!v.is_array()) return false;
    for (const Json& e : v) {
      if (!conforms_item(def, e, true, depth + 1)) return false;
    }
    return true;
  }
  if (!def.components.empty()) {
    if (!v.is_object()) return false;
    for (const ItemDefinition& c : def.components) {
      auto it = v.find(c.name);  // every component present (null is a value), of its type
      if (it == v.end() || !conforms_item(c, *it, false, depth + 1)) return false;
    }
  } else if (!def.type_ref.empty() && !conforms(def.type_ref, v, depth + 1)) {
    return false;
  }
  if (def.allowed_values) {
    expr::Context c;
    c.input = &v;
    c.now_ms = now_ms_;
    auto ok = expr::evaluate_tests(*def.allowed_values, c);
    if (!ok || !*ok) return false;
  }
  return true;
}

bool Evaluation::conforms(std::string_view type_ref, const Json& v, int depth) const {
  if (v.is_null() || depth > 32) return true;
  if (const ItemDefinition* def = type(type_ref)) return conforms_item(*def, v, false, depth);
  return builtin_conforms(type_ref, v).value_or(true);
}

Json Evaluation::coerce(std::string_view type_ref, Json v) const {
  if (type_ref.empty() || v.is_null() || type_ref == "Any" || type_ref == "any") return v;
  const ItemDefinition* def = type(type_ref);
  // A type this model does not define (an imported one, a misspelt one) checks nothing.
  if (def == nullptr && !builtin_conforms(type_ref, v).has_value()) return v;
  // Dates and durations from process variables are ISO 8601 text: read them as the type.
  const std::string_view base = def != nullptr && def->components.empty() ? def->type_ref : type_ref;
  if (v.is_string() && reader_of(base) != expr::Builtin::kNone) {
    expr::Value text = expr::Value::borrow(v);
    expr::Value read = expr::call_builtin(reader_of(base), std::span<expr::Value>(&text, 1),
                                          expr::CallSite{base, nullptr});
    if (!read.is_null()) v = read.to_typed_json();
  }
  const bool collection = def != nullptr ? def->is_collection : type_ref == "list";
  // A list of one element is the element, and the element a list of one, where the type
  // says so (DMN 1.3 10.3.2.9.4).
  if (!collection && v.is_array() && v.size() == 1) {
    Json e = std::move(v[0]);
    v = std::move(e);
  } else if (collection && !v.is_array()) {
    v = Json::array({std::move(v)});
  }
  if (!conforms(type_ref, v, 0)) return nullptr;
  return v;
}

Result<Json> Evaluation::decision(std::size_t i) {
  if (memo_[i]) return *memo_[i];
  const Decision& d = m_.decisions[i];
  if (busy_[i]) {
    return Status::invalid_argument("decision " + quote(d.name) + " requires itself");
  }
  if (chain_ > kMaxRequirementDepth) {
    return Status::invalid_argument("decision " + quote(d.name) + " requires a chain of more than " +
                                    std::to_string(kMaxRequirementDepth) + " decisions");
  }
  busy_[i] = true;
  ++chain_;
  Scope s(*this, &root_);
  Result<Json> r = [&]() -> Result<Json> {
    for (std::size_t k : d.decisions) {
      Result<Json> v = decision(k);
      if (!v) return v.status();
      s.set(m_.decisions[k].name, std::move(*v));
    }
    for (std::size_t k : d.inputs) {
      const InputData& in = m_.inputs[k];
      const Json* v = input_value(in);
      s.set(in.name, v == nullptr ? Json(nullptr) : coerce(in.type_ref, *v));
    }
    if (!d.invalid.empty()) {
      return Status::invalid_argument("decision " + quote(d.name) + " has errors: " + d.invalid);
    }
    if (!d.has_expression) {
      return Status::invalid_argument("decision " + quote(d.name) +
                                      " has no logic (no decision table or expression)");
    }
    Result<Json> v = boxed(d.expression, s, &d);
    if (!v) return v;
    return coerce(d.type_ref, std::move(*v));
  }();
  --chain_;
  busy_[i] = false;
  memo_[i] = r;
  return r;
}

Result<Json> Evaluation::service(const DecisionService& s) {
  if (s.outputs.size() == 1) return decision(s.outputs[0]);
  Json out = Json::object();
  for (std::size_t k : s.outputs) {
    Result<Json> v = decision(k);
    if (!v) return v;
    out[m_.decisions[k].name] = std::move(*v);
  }
  return out;
}

Result<Json> Evaluation::boxed(const Boxed& b, const Scope& s, const Decision* owner) {
  switch (b.kind) {
    case Boxed::Kind::kLiteral:
      return literal(b.literal, s);
    case Boxed::Kind::kDecisionTable:
      return table(*b.table, s, owner);
    case Boxed::Kind::kContext: {
      Scope inner(*this, &s);
      Json out = Json::object();
      for (const Entry& e : b.entries) {
        if (e.value->kind == Boxed::Kind::kFunction) {
          inner.define(e.name, e.value.get());
          // In the context's value too: a decision can return a library of functions that
          // another decision calls (`fn library.sumFn(1, 2)`).
          if (!e.name.empty()) out[e.name] = escape(*e.value, e.name, out);
          continue;
        }
        Result<Json> v = boxed(*e.value, inner, owner);
        if (!v) return v;
        Json value = coerce(e.value->type_ref, std::move(*v));
        if (e.name.empty()) return value;  // the final result
        out[e.name] = value;
        inner.set(e.name, std::move(value));
      }
      return out;
    }
    case Boxed::Kind::kInvocation: {
      std::vector<Json> args;
      std::vector<std::string> names;
      for (const Entry& e : b.entries) {
        Result<Json> v = boxed(*e.value, s, owner);
        if (!v) return v;
        args.push_back(std::move(*v));
        names.push_back(e.name);
      }
      std::optional<Result<Json>> r = call(b.callee, args, names, s);
      if (!r) {
        return Status::invalid_argument("the invocation calls " + quote(b.callee) +
                                        ", which is no business knowledge model or function");
      }
      return *std::move(r);
    }
    case Boxed::Kind::kList: {
      Json out = Json::array();
      for (const Boxed& item : b.items) {
        Result<Json> v = boxed(item, s, owner);
        if (!v) return v;
        out.push_back(std::move(*v));
      }
      return out;
    }
    case Boxed::Kind::kRelation: {
      Json out = Json::array();
      for (const std::vector<Boxed>& row : b.rows) {
        Json r = Json::object();
        for (std::size_t k = 0; k < row.size() && k < b.columns.size(); ++k) {
          Result<Json> v = boxed(row[k], s, owner);
          if (!v) return v;
          r[b.columns[k]] = std::move(*v);
        }
        out.push_back(std::move(r));
      }
      return out;
    }
    case Boxed::Kind::kFunction:
      return Json(nullptr);  // a function is no value JSON can carry
    case Boxed::Kind::kConditional: {
      Result<Json> c = boxed(b.items[0], s, owner);
      if (!c) return c;
      return boxed(b.items[c->is_boolean() && c->get<bool>() ? 1 : 2], s, owner);
    }
    case Boxed::Kind::kFilter:
    case Boxed::Kind::kFor:
    case Boxed::Kind::kSome:
    case Boxed::Kind::kEvery:
      return iterate(b, s, owner);
  }
  return Json(nullptr);
}

Result<Json> Evaluation::iterate(const Boxed& b, const Scope& s, const Decision* owner) {
  Result<Json> in = boxed(b.items[0], s, owner);
  if (!in) return in;
  if (in->is_null()) return Json(nullptr);
  Json list = in->is_array() ? std::move(*in) : Json::array({std::move(*in)});  // one: a list
  Json out = Json::array();
  bool unknown = false;
  for (Json& element : list) {
    Scope inner(*this, &s);
    if (b.kind == Boxed::Kind::kFilter) {
      inner.set("item", element);
      if (element.is_object()) {  // a context element's entries, before `item`
        for (auto it = element.begin(); it != element.end(); ++it) inner.set(it.key(), *it);
      }
    } else {
      inner.set(b.iterator, element);
    }
    Result<Json> r = boxed(b.items[1], inner, owner);
    if (!r) return r;
    switch (b.kind) {
      case Boxed::Kind::kFilter:  // a match that is no boolean: no result
        if (!r->is_boolean() && !r->is_null()) return Json(nullptr);
        if (r->is_boolean() && r->get<bool>()) out.push_back(std::move(element));
        break;
      case Boxed::Kind::kFor:
        out.push_back(std::move(*r));
        break;
      default: {  // some / every: the first true / false decides
        const bool every = b.kind == Boxed::Kind::kEvery;
        if (r->is_boolean() && r->get<bool>() != every) return Json(!every);
        unknown = unknown || !r->is_boolean();
        break;
      }
    }
  }
  if (b.kind == Boxed::Kind::kSome || b.kind == Boxed::Kind::kEvery) {
    return unknown ? Json(nullptr) : Json(b.kind == Boxed::Kind::kEvery);
  }
  return out;
}

std::optional<Result<Json>> Evaluation::call(std::string_view name, std::span<const Json> args,
                                             std::span<const std::string> names,
                                             const Scope& from) {
  if (auto [fn, closure] = from.function(name); fn != nullptr) {
    return invoke(name, fn->parameters, *fn->body, args, names, closure);
  }
  for (const Knowledge& k : m_.knowledge) {
    if (k.name != name) continue;
    if (!k.invalid.empty()) {
      return Result<Json>(Status::invalid_argument("business knowledge model " + quote(name) +
                                                   " has errors: " + k.invalid));
    }
    if (!k.body) {
      return Result<Json>(Status::invalid_argument("business knowledge model " + quote(name) +
                                                   " has no logic"));
    }
    return invoke(name, k.parameters, *k.body, args, names, nullptr);
  }
  for (const DecisionService& s : m_.services) {
    if (s.name != name) continue;
    // Parameters: the input data, then the input decisions, each in the order the service
    // lists them (as the DMN TCK calls services by position). The service runs as an
    // evaluation of its own.
    std::vector<Parameter> params;
    for (std::size_t k : s.input_data) params.push_back({m_.inputs[k].name, {}});
    for (std::size_t k : s.input_decisions) params.push_back({m_.decisions[k].name, {}});
    Json inputs = Json::object();
    for (std::size_t k = 0; k < args.size(); ++k) {
      std::string key;
      if (!names.empty() && !names[k].empty()) {
        key = names[k];
      } else if (k < params.size()) {
        key = params[k].name;
      } else {
        return Result<Json>(Status::invalid_argument(
            "decision service " + quote(name) + " takes " + std::to_string(params.size()) +
            " parameters, got " + std::to_string(args.size())));
      }
      inputs[key] = args[k];
    }
    if (++depth_ > kMaxCallDepth) {
      --depth_;
      return Result<Json>(Status::invalid_argument("calls nest deeper than " +
                                                   std::to_string(kMaxCallDepth)));
    }
    const expr::JsonVariables given(inputs);
    DecisionOptions same = options_;
    same.now_ms = now_ms_;  // one now() for the whole evaluation
    Evaluation inner(m_, given, same);
    inner.depth_ = depth_;
    for (std::size_t k : s.input_decisions) {
      auto it = inputs.find(m_.decisions[k].name);
      inner.given(k, it == inputs.end() ? Json(nullptr) : *it);
    }
    Result<Json> r = inner.service(s);
    --depth_;
    return r;
  }
  return std::nullopt;
}

Result<Json> Evaluation::invoke(std::string_view what, const std::vector<Parameter>& params,
                                const Boxed& body, std::span<const Json> args,
                                std::span<const std::string> names, const Scope* closure) {
  if (depth_ >= kMaxCallDepth) {
    return Status::invalid_argument("calls of " + quote(what) + " nest deeper than " +
                                    std::to_string(kMaxCallDepth));
  }
  Scope s(*this, closure != nullptr ? closure : &root_);
  const bool named = !names.empty() && !names[0].empty();
  if (!named && args.size() > params.size()) {
    return Status::invalid_argument(quote(what) + " takes " + std::to_string(params.size()) +
                                    " parameters, got " + std::to_string(args.size()));
  }
  for (std::size_t p = 0; p < params.size(); ++p) {
    const Json* v = nullptr;
    if (named) {
      for (std::size_t k = 0; k < names.size(); ++k) {
        if (names[k] == params[p].name) v = &args[k];
      }
    } else if (p < args.size()) {
      v = &args[p];
    }
    Json value = v == nullptr ? Json(nullptr) : coerce(params[p].type_ref, *v);
    // An argument not of its parameter's type: the invocation has no result (DMN 1.5
    // 10.3.2.9.4), rather than a body that runs with null.
    if (value.is_null() && v != nullptr && !v->is_null()) return Json(nullptr);
    s.set(params[p].name, std::move(value));
  }
  if (named) {
    for (const std::string& n : names) {
      const bool known = std::any_of(params.begin(), params.end(),
                                     [&](const Parameter& p) { return p.name == n; });
      if (!known) {
        return Status::invalid_argument(quote(what) + " has no parameter " + quote(n));
      }
    }
  }
  ++depth_;
  Result<Json> r = boxed(body, s, nullptr);
  --depth_;
  if (!r) return r;
  return coerce(body.type_ref, std::move(*r));
}

// The order PRIORITY and OUTPUT ORDER sort by: the position of each output's value among
// its output values (an unlisted value after every listed one).
std::vector<std::size_t> priority_of(const DecisionTable& t, const std::vector<Json>& outputs) {
  std::vector<std::size_t> key;
  for (std::size_t o = 0; o < t.outputs.size(); ++o) {
    const std::vector<Json>& order = t.outputs[o].priorities;
    const Json& v = outputs[o];
    auto it = std::find(order.begin(), order.end(), v);
    key.push_back(static_cast<std::size_t>(it - order.begin()));
  }
  return key;
}

Result<Json> Evaluation::table(const DecisionTable& t, const Scope& s, const Decision* owner) {
  const std::string where =
      owner != nullptr ? "decision " + quote(owner->name) : std::string("a decision table");
  std::vector<Json> in(t.inputs.size());
  for (std::size_t k = 0; k < t.inputs.size(); ++k) {
    const DecisionTable::Input& input = t.inputs[k];
    Result<Json> v = literal(input.expression, s);
    if (!v) return v;
    in[k] = std::move(*v);
    if (input.values && !in[k].is_null()) {
      Result<bool> ok = expr::evaluate_tests(*input.values, context(s, &in[k]));
      if (!ok) return ok.status();
      if (!*ok) {
        return Status::invalid_argument(where + ": input " + quote(input.label) + " is " +
                                        shorten(in[k]) + ", not one of its input values (" +
                                        std::string(expr::source_text(*input.values)) + ")");
      }
    }
  }
  std::vector<const DecisionTable::Rule*> matched;
  for (const DecisionTable::Rule& r : t.rules) {
    bool all = true;
    for (std::size_t k = 0; k < r.inputs.size() && k < in.size() && all; ++k) {
      if (!r.inputs[k]) continue;  // "-" or an empty cell
      Result<bool> ok = expr::evaluate_tests(*r.inputs[k], context(s, &in[k]));
      if (!ok) return ok.status();
      all = *ok;
    }
    if (all) matched.push_back(&r);
  }
  // The history: the rules whose outputs make the result (FIRST: only the first).
  auto fired = [&](std::size_t from, std::size_t to) {
    if (options_.trace == nullptr) return;
    DecisionTableHit hit;
    hit.decision_id = owner != nullptr ? owner->id : std::string();
    for (std::size_t k = from; k < to && k < matched.size(); ++k) {
      hit.rule_ids.push_back(matched[k]->id);
    }
    options_.trace->tables.push_back(std::move(hit));
  };
  // Each matched rule's outputs.
  std::vector<std::vector<Json>> results;
  for (const DecisionTable::Rule* r : matched) {
    std::vector<Json> row(t.outputs.size());
    for (std::size_t o = 0; o < t.outputs.size() && o < r->outputs.size(); ++o) {
      Result<Json> v = literal(r->outputs[o], s);
      if (!v) return v;
      row[o] = coerce(t.outputs[o].type_ref, std::move(*v));
    }
    results.push_back(std::move(row));
  }
  auto shape = [&](std::vector<Json>& row) -> Json {
    if (t.outputs.size() == 1) return std::move(row[0]);
    Json out = Json::object();
    for (std::size_t o = 0; o < t.outputs.size(); ++o) out[t.outputs[o].name] = std::move(row[o]);
    return out;
  };
  if (results.empty()) {
    fired(0, 0);
    const bool defaults = std::any_of(t.outputs.begin(), t.outputs.end(),
                                      [](const auto& o) { return o.default_entry != nullptr; });
    if (!defaults) {
      if (t.hit == HitPolicy::kCollect && t.aggregation == Aggregation::kCount) return Json(0);
      if (t.hit == HitPolicy::kCollect && t.aggregation == Aggregation::kNone) return Json(nullptr);
      return Json(nullptr);
    }
    std::vector<Json> row(t.outputs.size());
    for (std::size_t o = 0; o < t.outputs.size(); ++o) {
      Result<Json> v = literal(t.outputs[o].default_entry, s);
      if (!v) return v;
      row[o] = coerce(t.outputs[o].type_ref, std::move(*v));
    }
    return shape(row);
  }
  auto rule_ids = [&]() {
    std::string ids;
    for (const auto* r : matched) ids += (ids.empty() ? "" : ", ") + r->id;
    return ids;
  };
  switch (t.hit) {
    case HitPolicy::kUnique:
      if (results.size() > 1) {
        return Status::invalid_argument(where + ": rules " + rule_ids() +
                                        " all match, but hit policy UNIQUE allows one");
      }
      fired(0, 1);
      return shape(results[0]);
    case HitPolicy::kAny:
      for (const auto& r : results) {
        if (r != results[0]) {
          return Status::invalid_argument(where + ": rules " + rule_ids() +
                                          " match with different outputs, but hit policy ANY "
                                          "needs them equal");
        }
      }
      fired(0, results.size());
      return shape(results[0]);
    case HitPolicy::kFirst:
      fired(0, 1);
      return shape(results[0]);
    case HitPolicy::kPriority: {
      std::size_t best = 0;
      for (std::size_t k = 1; k < results.size(); ++k) {
        if (priority_of(t, results[k]) < priority_of(t, results[best])) best = k;
      }
      fired(best, best + 1);
      return shape(results[best]);
    }
    case HitPolicy::kOutputOrder: {
      fired(0, results.size());
      std::vector<std::size_t> order(results.size());
      for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return priority_of(t, results[a]) < priority_of(t, results[b]);
      });
      Json out = Json::array();
      for (std::size_t k : order) out.push_back(shape(results[k]));
      return out;
    }
    case HitPolicy::kRuleOrder: {
      fired(0, results.size());
      Json out = Json::array();
      for (auto& r : results) out.push_back(shape(r));
      return out;
    }
    case HitPolicy::kCollect:
      break;
  }
  fired(0, results.size());  // COLLECT uses every one
  if (t.aggregation == Aggregation::kNone) {
    Json out = Json::array();
    for (auto& r : results) out.push_back(shape(r));
    return out;
  }
  if (t.outputs.size() != 1) {
    return Status::invalid_argument(where + ": an aggregation needs a table with one output");
  }
  if (t.aggregation == Aggregation::kCount) {
    return Json(results.size());  // C#: how many rules matched (DMN 1.2 on; 1.1 counted distinct)
  }
  if (t.aggregation == Aggregation::kSum) {  // as FEEL's sum(): in decimals
    expr::Decimal sum;
    for (auto& r : results) {
      const expr::Value v = expr::Value::borrow(r[0]);
      if (v.type() != expr::Type::kNumber) {
        return Status::invalid_argument(where + ": hit policy C+ sums numbers, got " +
                                        shorten(r[0]));
      }
      sum = sum + v.as_decimal();
    }
    return expr::Value::decimal(sum).to_typed_json();
  }
  // C< and C>: the least or greatest value, compared as FEEL compares.
  const Json* best = &results[0][0];
  for (std::size_t k = 1; k < results.size(); ++k) {
    std::optional<int> c =
        expr::compare(expr::Value::borrow(results[k][0]), expr::Value::borrow(*best));
    if (!c) {
      return Status::invalid_argument(where + ": cannot compare " + shorten(results[k][0]) +
                                      " with " + shorten(*best));
    }
    if ((t.aggregation == Aggregation::kMin && *c < 0) ||
        (t.aggregation == Aggregation::kMax && *c > 0)) {
      best = &results[k][0];
    }
  }
  return *best;
}

// The decision `name` names (its name, else its id), main model first.
const Decision* find_decision(const DecisionModel& m, std::string_view name, std::size_t& index,
                              bool by_id = false) {
  for (int pass = by_id ? 1 : 0; pass < (by_id ? 2 : 3); ++pass) {
    for (std::size_t i = 0; i < m.decisions.size(); ++i) {
      const Decision& d = m.decisions[i];
      const bool hit = pass == 0   ? d.ns == m.ns && d.name == name
                       : pass == 1 ? d.id == name
                                   : d.name == name;
      if (hit) {
        index = i;
        return &d;
      }
    }
  }
  return nullptr;
}

std::string not_found(const DecisionModel& m, std::string_view what, std::string_view name) {
  std::string msg = "the model has no " + std::string(what) + " named " + quote(name);
  std::string names;
  for (const Decision& d : m.decisions) names += (names.empty() ? "" : ", ") + quote(d.name);
  if (!names.empty()) msg += "; its decisions: " + names;
  return msg;
}

}  // namespace
}  // namespace dmn

nlohmann::json dmn::camunda_rule_results(const DecisionModel& model, std::string_view decision_id,
                                         nlohmann::json result) {
  std::size_t index = 0;
  const Decision* d = find_decision(model, decision_id, index, /*by_id=*/true);
  nlohmann::json out = nlohmann::json::array();
  if (d == nullptr || result.is_null()) return out;
  const Boxed& e = d->expression;
  if (e.kind != Boxed::Kind::kDecisionTable || e.table->outputs.size() != 1) {
    // Several outputs: each rule's result is already a context. A literal expression: one
    // entry named after the decision.
    if (e.kind != Boxed::Kind::kDecisionTable) {
      out.push_back({{d->name, std::move(result)}});
      return out;
    }
    if (result.is_array()) return result;
    out.push_back(std::move(result));
    return out;
  }
  const DecisionTable& t = *e.table;
  const std::string& name = t.outputs[0].name.empty() ? d->name : t.outputs[0].name;
  const bool many = (t.hit == HitPolicy::kCollect && t.aggregation == Aggregation::kNone) ||
                    t.hit == HitPolicy::kRuleOrder || t.hit == HitPolicy::kOutputOrder;
  if (many && result.is_array()) {
    for (auto& v : result) out.push_back({{name, std::move(v)}});
  } else {
    out.push_back({{name, std::move(result)}});
  }
  return out;
}

std::vector<DecisionInfo> list_decisions(const DecisionModel& model) {
  std::vector<DecisionInfo> out;
  for (const dmn::Decision& d : model.decisions) {
    out.push_back({d.id, d.name, "decision", d.file, d.at.line});
  }
  for (const dmn::DecisionService& s : model.services) {
    out.push_back({s.id, s.name, "decisionService", s.file, s.at.line});
  }
  for (const dmn::Knowledge& k : model.knowledge) {
    out.push_back({k.id, k.name, "businessKnowledgeModel", k.file, k.at.line});
  }
  return out;
}

namespace dmn {
namespace {

// Decision `index` (named `decision` in messages) with `inputs`.
Result<Json> evaluate_at(const DecisionModel& model, std::size_t index, std::string_view decision,
                         const expr::Variables& inputs, const DecisionOptions& options) {
  try {
    Evaluation ev(model, inputs, options);
    return ev.decision(index);
  } catch (const std::exception& e) {  // nlohmann on odd input, allocation
    return Status::invalid_argument("cannot evaluate decision " + quote(decision) + ": " +
                                    e.what());
  }
}

}  // namespace
}  // namespace dmn

Result<nlohmann::json> dmn::evaluate(const DecisionModel& model, std::string_view decision,
                                     const expr::Variables& inputs,
                                     const DecisionOptions& options, bool by_id) {
  std::size_t index = 0;
  if (dmn::find_decision(model, decision, index, by_id) == nullptr) {
    return Status::not_found(dmn::not_found(model, "decision", decision));
  }
  return dmn::evaluate_at(model, index, decision, inputs, options);
}

Result<nlohmann::json> evaluate_decision(const DecisionModel& model, std::string_view decision,
                                         const nlohmann::json& inputs,
                                         const DecisionOptions& options) {
  std::size_t index = 0;
  if (dmn::find_decision(model, decision, index) == nullptr) {
    return Status::not_found(dmn::not_found(model, "decision", decision));
  }
  if (!inputs.is_object() && !inputs.is_null()) {
    return Status::invalid_argument("the inputs must be a JSON object keyed by input name");
  }
  const expr::JsonVariables given(inputs);
  return dmn::evaluate_at(model, index, decision, given, options);
}

Result<nlohmann::json> evaluate_decision_service(const DecisionModel& model,
                                                 std::string_view service,
                                                 const nlohmann::json& inputs,
                                                 const DecisionOptions& options) {
  const dmn::DecisionService* found = nullptr;
  for (const dmn::DecisionService& s : model.services) {
    if (s.name == service || s.id == service) {
      found = &s;
      break;
    }
  }
  if (found == nullptr) {
    std::string msg = "the model has no decision service named " + dmn::quote(service);
    std::string names;
    for (const dmn::DecisionService& s : model.services) {
      names += (names.empty() ? "" : ", ") + dmn::quote(s.name);
    }
    if (!names.empty()) msg += "; its services: " + names;
    return Status::not_found(std::move(msg));
  }
  if (!inputs.is_object() && !inputs.is_null()) {
    return Status::invalid_argument("the inputs must be a JSON object keyed by input name");
  }
  try {
    const expr::JsonVariables given(inputs);
    dmn::Evaluation ev(model, given, options);
    for (std::size_t k : found->input_decisions) {
      const std::string& name = model.decisions[k].name;
      ev.given(k, inputs.is_object() && inputs.contains(name) ? inputs[name] : nlohmann::json());
    }
    return ev.service(*found);
  } catch (const std::exception& e) {
    return Status::invalid_argument("cannot evaluate decision service " + dmn::quote(service) +
                                    ": " + e.what());
  }
}

}  // namespace ordo
