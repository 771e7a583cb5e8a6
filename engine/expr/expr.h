// The expression core: FEEL and JUEL text compiled once into an immutable program, then
// evaluated against variables as many times as needed.
//
// Both front ends (FEEL "=...", JUEL "${...}") produce the same compiled form; the evaluator
// does not know which dialect it came from. Compiling happens at load time, so a syntax error
// is a load diagnostic; evaluating happens at run time, so an evaluation error becomes an
// incident on the instance that asked.
//
// Values in and out are JSON (nlohmann::json). FEEL dates, times and durations have no JSON
// form: they leave the evaluator as ISO 8601 strings ("2026-12-01T10:00:00Z", "PT30M").
//
// Thread safety: a compiled expression is immutable and may be evaluated from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "ordo/definition.h"
#include "ordo/status.h"

namespace ordo {

// The compiled form of one expression (declared, opaque, in ordo/definition.h).
class CompiledExpression;

namespace expr {

struct CompileError {
  std::uint32_t offset = 0;  // 0-based character offset into the text where the error is
  std::string message;       // for people: what is wrong and what to write instead
};

// What DMN adds to FEEL text (BPMN expressions compile with the defaults).
struct CompileOptions {
  // Names in scope that a plain FEEL name cannot spell: with spaces or with . / - ' + *
  // ("Monthly Salary", "Date-Time"). Where one starts at a name, the longest is one token;
  // the white space inside may differ from the spelling here.
  std::span<const std::string> known_names;
  // The text is unary tests (a decision table's input entry, allowed values): `-`, tests
  // separated by commas ("< 10", "[1..5]", "\"a\"", "? > x"), or not(tests); `?` is the
  // value tested (Context::input). Evaluate it with evaluate_tests().
  bool unary_tests = false;
  // A call of a name that is no built-in function calls Context::functions (business
  // knowledge models) instead of being an error; arguments may be named (f(a: 1, b: 2)).
  bool user_functions = false;
  // Names of the caller's functions that hide built-ins of the same name (a knowledge model
  // called `remove` is the model's, as the specification scopes names).
  std::span<const std::string> functions;
};

// Compiles `text` (as stored in ordo::Expression: for FEEL without the leading '=', for JUEL
// the whole "${...}" string). kStatic text is not an expression: compile it as a string
// literal.
std::variant<std::shared_ptr<const CompiledExpression>, CompileError> compile(
    ExpressionDialect dialect, std::string_view text, const CompileOptions& options = {});

// Where the evaluator finds variables. `find` returns null when the name is not defined.
// The pointer must stay valid for the duration of one evaluate() call.
class Variables {
 public:
  virtual ~Variables() = default;
  virtual const nlohmann::json* find(std::string_view name) const = 0;
};

// A Variables over one JSON object (tests, simple callers).
class JsonVariables final : public Variables {
 public:
  explicit JsonVariables(const nlohmann::json& object) : object_(object) {}
  const nlohmann::json* find(std::string_view name) const override;

 private:
  const nlohmann::json& object_;
};

struct Context;

// Functions a FEEL text may call by a name that is not built in (CompileOptions::
// user_functions): DMN's business knowledge models. Values cross as JSON, dates and
// durations as {"@type": ..., "value": ...} objects (see Value::to_typed_json).
class Functions {
 public:
  virtual ~Functions() = default;
  // Calls `name` with `args`; when `names` is not empty, args[k] is the parameter named
  // names[k]. nullopt: there is no function of that name.
  virtual std::optional<Result<nlohmann::json>> call(std::string_view name,
                                                     std::span<const nlohmann::json> args,
                                                     std::span<const std::string> names,
                                                     const Context& ctx) const = 0;
  // Calls the function value `ref` ({"@type": "function", "value": ...}) that the caller
  // made outside this expression (a DMN context's function entry); nullopt: not one of its.
  virtual std::optional<Result<nlohmann::json>> call_value(const nlohmann::json& /*ref*/,
                                                           std::span<const nlohmann::json>,
                                                           std::span<const std::string>,
                                                           const Context&) const {
    return std::nullopt;
  }
};

struct Context {
  const Variables* variables = nullptr;  // may be null: no variables
  std::int64_t now_ms = 0;               // what now() returns: milliseconds since the epoch, UTC
  const nlohmann::json* input = nullptr;  // unary tests: the value tested, `?`
  const Functions* functions = nullptr;   // user functions, when compiled to call them
};

// Evaluates. Failure: Status kInvalidArgument with a message a person can act on, e.g.
// "cannot compare number 3 with string \"a\" in `price > \"a\"`".
Result<nlohmann::json> evaluate(const CompiledExpression& e, const Context& ctx);

// Evaluates a condition: the result must be a boolean; anything else (null included, e.g.
// `price > 0` when price is not set) is an error naming the type found, as in Zeebe.
Result<bool> evaluate_condition(const CompiledExpression& e, const Context& ctx);

// Evaluates unary tests (CompileOptions::unary_tests) against ctx.input: whether it passes.
// A test that cannot be decided (comparing a number with a string) does not pass.
Result<bool> evaluate_tests(const CompiledExpression& e, const Context& ctx);

// Evaluates to JSON that keeps the types JSON lacks: a date, date-time or duration is
// {"@type": "date" | "dateTime" | "duration", "value": "..."} (DMN's form) rather than the
// ISO 8601 string evaluate() gives (the form process variables keep, as Zeebe does).
Result<nlohmann::json> evaluate_typed(const CompiledExpression& e, const Context& ctx);

// The text the expression was compiled from, for messages.
std::string_view source_text(const CompiledExpression& e) noexcept;

}  // namespace expr
}  // namespace ordo
