// The evaluator's state and steps, shared by evaluate.cc (walking the nodes) and
// operators.cc (arithmetic, comparison and the JUEL coercions). Internal to the engine.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "expr/ast.h"
#include "expr/expr.h"
#include "expr/value.h"

namespace ordo::expr {

// Whether comparison result `c` (-1, 0, 1) satisfies `op` (< <= > >= or their unary tests).
inline bool holds(Op op, int c) {
  switch (op) {
    case Op::kLt:
    case Op::kTestLt:
      return c < 0;
    case Op::kLe:
    case Op::kTestLe:
      return c <= 0;
    case Op::kGt:
    case Op::kTestGt:
      return c > 0;
    default:
      return c >= 0;
  }
}

// One evaluation: not shared, not reused. Nodes flagged kStrict (JUEL) follow EL rules and
// turn type errors into an evaluation error; the others follow FEEL, where such a value is
// null and the first reason is remembered for the message of a failed condition.
class Evaluator {
 public:
  // `typed`: lists and contexts built here keep dates and durations typed (DMN).
  Evaluator(const CompiledExpression& p, const Context& ctx, bool typed = false)
      : p_(p), ctx_(ctx), typed_(typed) {}

  bool failed() const noexcept { return failed_; }
  const Status& status() const noexcept { return status_; }

  // Why a FEEL result is null, when something went wrong on the way ("" when unknown).
  std::string explain_null() const {
    if (missing_ != kNoNode) {
      return "is variable '" + p_.names[p_.nodes[missing_].a] + "' set?";
    }
    return why_;
  }

  Value eval(NodeIndex i);

 private:
  // Records a JUEL evaluation error (the first one wins) and returns null.
  Value error(std::string message) {
    if (!failed_) {
      failed_ = true;
      status_ = Status::invalid_argument(message + " in `" + p_.text + "`");
    }
    return {};
  }
  void note(std::string why) {
    if (why_.empty() && missing_ == kNoNode) why_ = std::move(why);
  }
  std::string* why_slot() { return why_.empty() && missing_ == kNoNode ? &why_ : nullptr; }
  NodeIndex arg(const Node& n, std::uint32_t k) const { return p_.args[n.first_arg + k]; }
  // Innermost first: names bound inside the current filter, the filter's item (and its
  // fields), names bound outside the filter, then the variables.
  const Json* lookup(std::string_view name) const {
    const std::size_t mark = std::min(item_mark_, bound_.size());
    for (std::size_t k = bound_.size(); k > mark; --k) {
      if (bound_[k - 1].first == name) return bound_[k - 1].second;
    }
    if (item_ != nullptr) {  // a context element's own entries first, then `item`
      if (item_->is_object()) {
        auto it = item_->find(name);
        if (it != item_->end()) return &*it;
      }
      if (name == "item") return item_;
    }
    for (std::size_t k = mark; k > 0; --k) {
      if (bound_[k - 1].first == name) return bound_[k - 1].second;
    }
    return ctx_.variables != nullptr ? ctx_.variables->find(name) : nullptr;
  }

  Value var(NodeIndex i, const Node& n);
  Value member(const Node& n);
  // FEEL list[n] (1-based, negative from the end) or list[condition] (a filter).
  Value feel_index(const Node& n);
  // JUEL list[i] (0-based) or map["key"].
  Value juel_index(const Node& n);
  Value build(const Node& n);
  // for / some / every: binds each name in turn (nested, the first outermost).
  Value iterate(const Node& n);
  // The values `source` (a list, or a kSpan of whole numbers) iterates, kept alive in
  // `holder`; null (after a note) when it cannot be iterated.
  const Json* iterable(NodeIndex source, Value& holder);
  Value unary(const Node& n);
  Value binary(const Node& n);
  Value numeric(const Node& n, const Value& l, const Value& r);
  Value feel_arith(const Node& n, const Value& l, const Value& r);
  // A date, time or date and time moved by a duration (backwards when `minus`).
  Value shift(const Value& at, const Value& d, bool minus);
  // The duration between two dates, times or dates and times (l - r).
  Value between_times(const Value& l, const Value& r);
  Value combine(const Value& l, const Value& r, int sign);
  Value scale(const Value& d, double f);
  Value logic(const Node& n);
  Value between(const Node& n);
  [[gnu::noinline]] Value instance_of(const Node& n);
  [[gnu::noinline]] Value range(const Node& n);
  Value in(const Node& n);
  std::optional<bool> test(const Node& t, const Value& v);
  [[gnu::noinline]] Value call(const Node& n);
  [[gnu::noinline]] Value call_user(const Node& n);
  // FEEL function values: function(...) ... makes one (capturing the names bound now), a
  // call runs its body with the parameters bound; sort() and list replace() call them too.
  [[gnu::noinline]] Value make_function(NodeIndex i);
  [[gnu::noinline]] Value call_value(const Node& n);
  Value invoke(const Value& fn, std::vector<Value>& args, const std::vector<std::string>& names);
  // `fn` called with the arguments of the call node `n` (by position, or by name).
  Value invoke_with(const Value& fn, const Node& n);
  [[gnu::noinline]] Value sort(const Node& n);
  Value replace_matching(const Value& list, const Value& match, const Value& item);

 public:
  // A computed value as an element of a list or context being built, or as a result.
  Json element(Value&& v) const { return typed_ ? typed(std::move(v)) : std::move(v).to_json(); }
  // Dates, durations and long decimals as {"@type", "value"} (what a name bound to them
  // must read back).
  static Json typed(Value&& v) {
    const Type t = v.type();
    if (t == Type::kDate || t == Type::kTime || t == Type::kDateTime || v.is_duration() ||
        (t == Type::kNumber && !v.is_int())) {
      return v.to_typed_json();
    }
    return std::move(v).to_json();
  }
  // Process expressions keep dates as text: the typed members of `container` become their
  // text once nothing reads them by name any more.
  void untype_members(Json& container) const {
    if (!typed_) untype(container, false);
  }

 private:
  bool juel_bool(const Value& v);
  std::optional<Value> juel_number(const Value& v);
  Value juel_arith(const Node& n, const Value& l, const Value& r);
  std::optional<bool> juel_equals(const Value& l, const Value& r);
  Value juel_order(const Node& n, const Value& l, const Value& r);

  const CompiledExpression& p_;
  const Context& ctx_;
  const bool typed_;
  const Json* item_ = nullptr;  // FEEL filter: the element being tested
  std::size_t item_mark_ = 0;   // how many names were bound when that filter began
  // FEEL for / some / every: the names bound now, innermost last (they hide variables).
  std::vector<std::pair<std::string_view, const Json*>> bound_;
  struct Closure {
    NodeIndex node;                                       // the kLambda
    std::vector<std::pair<std::string, Json>> captured;  // the names bound when it was made
  };
  // Each closure on the heap, so references stay valid as more are made; an empty vector
  // allocates nothing (most evaluations make no function: a deque would allocate each time).
  std::vector<std::unique_ptr<Closure>> closures_;
  std::int64_t function_base_ = 0;  // the id of closures_[0] (unique per evaluation)
  int call_depth_ = 0;
  bool failed_ = false;
  Status status_;
  std::string why_;
  NodeIndex missing_ = kNoNode;  // the first unset variable (FEEL)
};

}  // namespace ordo::expr
