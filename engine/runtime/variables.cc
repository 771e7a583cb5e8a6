// Variables: scopes, input and output mappings, expression evaluation.
//
// Variables live in scopes: the process instance, and any element instance with local
// variables (input mappings, subprocesses, multi-instance bodies and their inner instances).
// Reading walks outward from the innermost scope. Writing a variable that is not mapped
// (job results, message payloads) "propagates": it updates the nearest scope that already
// has it, else the process scope — the Zeebe rule.
#include "expr/expr.h"
#include "dmn/model.h"
#include "runtime/runtime.h"

namespace ordo::runtime {

namespace {

// The variable `name` as seen from scope `start`: the innermost scope that has it wins.
// Works for const and non-const instances alike.
template <class Inst>
auto lookup(Inst& inst, ElemKey start, std::string_view name) -> decltype(&*inst.vars.find(name)) {
  ElemKey key = start;
  while (key != kProcessScope) {
    auto* el = inst.find(key);
    if (el == nullptr) break;
    if (el->vars.is_object()) {
      auto it = el->vars.find(name);
      if (it != el->vars.end()) return &*it;
    }
    key = el->parent;
  }
  auto it = inst.vars.find(name);
  return it == inst.vars.end() ? nullptr : &*it;
}

}  // namespace

struct Runtime::Scope final : expr::Variables {
  Scope(const Instance& i, ElemKey k) : inst(i), start(k) {}
  const nlohmann::json* find(std::string_view name) const override {
    return lookup(inst, start, name);
  }
  const Instance& inst;
  ElemKey start;
};

namespace {

std::string where(const Expression& e) {
  return "expression `" + e.source() + "` (line " + std::to_string(e.location.line) + ")";
}

// Sets `value` at a dotted `path` ("order.total") inside `object`, creating objects.
void set_path(nlohmann::json& object, std::string_view path, nlohmann::json value) {
  nlohmann::json* at = &object;
  while (true) {
    const auto dot = path.find('.');
    if (!at->is_object()) *at = nlohmann::json::object();
    if (dot == std::string_view::npos) {
      (*at)[std::string(path)] = std::move(value);
      return;
    }
    at = &(*at)[std::string(path.substr(0, dot))];
    path.remove_prefix(dot + 1);
  }
}

}  // namespace

Result<nlohmann::json> Runtime::evaluate_decision(const Instance& inst, ElemKey scope,
                                                  const DecisionModel& model, std::string_view id,
                                                  const DecisionOptions& options) const {
  Scope vars(inst, scope);
  return dmn::evaluate(model, id, vars, options, /*by_id=*/true);
}

Result<nlohmann::json> Runtime::eval(Instance& inst, ElemKey scope, const Expression& e) {
  if (e.dialect == ExpressionDialect::kStatic) return nlohmann::json(e.text);
  if (!e.compiled) return Status::internal(where(e) + " was not compiled");
  Scope vars(inst, scope);
  Result<nlohmann::json> r = expr::evaluate(*e.compiled, {&vars, now()});
  if (!r) return Status::invalid_argument(where(e) + ": " + r.status().message());
  return r;
}

Result<bool> Runtime::eval_condition(Instance& inst, ElemKey scope, const Expression& e) {
  if (e.dialect == ExpressionDialect::kStatic) {
    if (e.text == "true") return true;
    if (e.text == "false") return false;
    return Status::invalid_argument(where(e) + " is not a condition");
  }
  if (!e.compiled) return Status::internal(where(e) + " was not compiled");
  Scope vars(inst, scope);
  Result<bool> r = expr::evaluate_condition(*e.compiled, {&vars, now()});
  if (!r) return Status::invalid_argument(where(e) + ": " + r.status().message());
  return r;
}

Result<std::string> Runtime::eval_string(Instance& inst, ElemKey scope, const Expression& e) {
  if (e.dialect == ExpressionDialect::kStatic) return e.text;
  Result<nlohmann::json> v = eval(inst, scope, e);
  if (!v) return v.status();
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number() || v->is_boolean()) return v->dump();
  return Status::invalid_argument(where(e) + " gave " + std::string(v->type_name()) +
                                  ", expected a string or number");
}

bool Runtime::apply_inputs(Instance& inst, ElemKey key) {
  ElementInstance* el = inst.find(key);
  const Element& def = inst.plan->element(el->element);
  if (def.inputs.empty() || el->role == Role::kMiBody) return true;
  for (const IoMapping& m : def.inputs) {
    Result<nlohmann::json> v = eval(inst, key, m.source);
    if (!v) {
      incident(inst, key, IncidentRetry::kActivate, IncidentKind::kIoMapping,
               "input mapping to '" + m.target + "' failed: " + v.status().message());
      return false;
    }
    el = inst.find(key);
    if (!el->vars.is_object()) el->vars = nlohmann::json::object();
    set_path(el->vars, m.target, std::move(*v));
  }
  return true;
}

bool Runtime::apply_outputs(Instance& inst, ElemKey key, nlohmann::json result) {
  ElementInstance* el = inst.find(key);
  const Element& def = inst.plan->element(el->element);
  if (def.outputs.empty() || el->role == Role::kMiBody) {
    if (result.is_object() && !result.empty()) {
      std::string names;
      for (auto& [name, value] : result.items()) {
        if (detailed()) names += (names.empty() ? "" : ",") + name;
        set_variable(inst, key, name, std::move(value));
      }
      emit(inst, HistoryKind::kVariablesUpdated, inst.find(key)->element, 0, 0, std::move(names));
    }
    return true;
  }
  // Output mappings see the result as local variables of the element.
  if (result.is_object()) {
    if (!el->vars.is_object()) el->vars = nlohmann::json::object();
    for (auto& [name, value] : result.items()) el->vars[name] = std::move(value);
  }
  std::vector<std::pair<const IoMapping*, nlohmann::json>> values;
  values.reserve(def.outputs.size());
  for (const IoMapping& m : def.outputs) {
    Result<nlohmann::json> v = eval(inst, key, m.source);
    if (!v) {
      incident(inst, key, IncidentRetry::kLeave, IncidentKind::kIoMapping,
               "output mapping to '" + m.target + "' failed: " + v.status().message());
      return false;
    }
    values.emplace_back(&m, std::move(*v));
  }
  el = inst.find(key);
  const ElemKey parent = el->parent;
  std::string names;
  for (auto& [m, v] : values) {
    const std::string& target = m->target;
    const std::string head = target.substr(0, target.find('.'));
    if (detailed()) names += (names.empty() ? "" : ",") + head;
    if (head.size() == target.size()) {
      set_variable(inst, parent, target, std::move(v));
    } else {
      nlohmann::json* existing = find_variable(inst, parent, head);
      nlohmann::json whole = existing ? *existing : nlohmann::json::object();
      set_path(whole, std::string_view(target).substr(head.size() + 1), std::move(v));
      set_variable(inst, parent, head, std::move(whole));
    }
  }
  emit(inst, HistoryKind::kVariablesUpdated, el->element, 0, 0, std::move(names));
  return true;
}

nlohmann::json* Runtime::find_variable(Instance& inst, ElemKey scope, std::string_view name) {
  return lookup(inst, scope, name);
}

void Runtime::set_variable(Instance& inst, ElemKey from_scope, const std::string& name,
                           nlohmann::json value) {
  inst.vars_changed = true;  // perhaps a local one: writing the process's too is harmless
  conditions_may_hold(inst);
  if (nlohmann::json* v = find_variable(inst, from_scope, name)) {
    *v = std::move(value);
    return;
  }
  inst.vars[name] = std::move(value);
}

nlohmann::json Runtime::visible_variables(const Instance& inst, ElemKey scope) const {
  std::vector<const nlohmann::json*> layers;
  ElemKey key = scope;
  while (key != kProcessScope) {
    const ElementInstance* el = inst.find(key);
    if (el == nullptr) break;
    if (el->vars.is_object()) layers.push_back(&el->vars);
    key = el->parent;
  }
  nlohmann::json out = inst.vars;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    for (auto& [name, value] : (*it)->items()) out[name] = value;
  }
  return out;
}

// Both read the instance as last read: the caller fetched it (instance()) before the job view.
const nlohmann::json* Runtime::job_variable(const JobRecord& job, std::string_view name) const {
  const Instance* inst = store_.cached_instance(job.instance);
  if (inst == nullptr) return nullptr;
  Scope s(*inst, job.element);
  return s.find(name);
}

nlohmann::json Runtime::job_variables(const JobRecord& job) const {
  const Instance* inst = store_.cached_instance(job.instance);
  return inst ? visible_variables(*inst, job.element) : nlohmann::json::object();
}

}  // namespace ordo::runtime
