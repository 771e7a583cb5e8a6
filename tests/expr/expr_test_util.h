// Helpers for the expression tests: compile and evaluate in one call, with variables as JSON.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "expr/expr.h"

namespace ordo::expr::testing {

using nlohmann::json;

// 2026-12-01T10:00:00Z: what now() returns in tests.
inline constexpr std::int64_t kNow = 1796119200000;

struct Outcome {
  bool compiled = false;
  CompileError compile_error;
  bool ok = false;
  json value;           // when ok
  std::string message;  // when evaluation failed
};

inline Outcome run(ExpressionDialect dialect, std::string_view text,
                   const json& variables = json::object()) {
  Outcome out;
  auto c = compile(dialect, text);
  if (auto* e = std::get_if<CompileError>(&c)) {
    out.compile_error = *e;
    return out;
  }
  out.compiled = true;
  JsonVariables vars(variables);
  Context ctx{&vars, kNow};
  auto r = evaluate(*std::get<0>(c), ctx);
  out.ok = r.is_ok();
  if (r.is_ok()) {
    out.value = *r;
  } else {
    out.message = r.status().message();
  }
  return out;
}

// The value, or a string saying why there is none (so EXPECT_EQ prints something useful).
inline json value_of(ExpressionDialect dialect, std::string_view text,
                     const json& variables = json::object()) {
  Outcome o = run(dialect, text, variables);
  if (!o.compiled) {
    return "compile error at " + std::to_string(o.compile_error.offset) + ": " +
           o.compile_error.message;
  }
  if (!o.ok) return "evaluation error: " + o.message;
  return o.value;
}

inline CompileError compile_error(ExpressionDialect dialect, std::string_view text) {
  auto c = compile(dialect, text);
  if (auto* e = std::get_if<CompileError>(&c)) return *e;
  ADD_FAILURE() << "`" << text << "` compiled";
  return {};
}

// The condition's result, or the error message.
inline std::variant<bool, std::string> condition(ExpressionDialect dialect, std::string_view text,
                                                 const json& variables = json::object()) {
  auto c = compile(dialect, text);
  if (auto* e = std::get_if<CompileError>(&c)) return "compile error: " + e->message;
  JsonVariables vars(variables);
  Context ctx{&vars, kNow};
  auto r = evaluate_condition(*std::get<0>(c), ctx);
  if (r.is_ok()) return *r;
  return r.status().message();
}

// A table row: text, variables (JSON text), expected result (JSON text).
struct Case {
  const char* text;
  const char* variables;
  const char* want;
};

inline void check_table(ExpressionDialect dialect, std::initializer_list<Case> cases) {
  for (const Case& c : cases) {
    json want = json::parse(c.want);
    json vars = json::parse(c.variables);
    EXPECT_EQ(value_of(dialect, c.text, vars), want) << "`" << c.text << "` with " << c.variables;
  }
}

}  // namespace ordo::expr::testing
