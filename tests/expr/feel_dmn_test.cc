// What DMN adds to FEEL: names of the scope with spaces, unary tests with `?`, calls of the
// caller's functions with named arguments, and typed dates in and out.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "expr/expr.h"

namespace ordo::expr {
namespace {

using nlohmann::json;

std::shared_ptr<const CompiledExpression> must_compile(std::string_view text,
                                                       const CompileOptions& options) {
  auto c = compile(ExpressionDialect::kFeel, text, options);
  if (auto* e = std::get_if<CompileError>(&c)) {
    ADD_FAILURE() << "`" << text << "` does not compile at " << e->offset << ": " << e->message;
    return nullptr;
  }
  return std::get<0>(c);
}

json typed(std::string_view text, const json& vars, const CompileOptions& options = {}) {
  auto p = must_compile(text, options);
  if (!p) return "no program";
  JsonVariables v(vars);
  Context ctx{&v, 0};
  auto r = evaluate_typed(*p, ctx);
  return r ? *r : json("error: " + r.status().message());
}

// Whether `value` passes the unary tests `text`.
json passes(std::string_view text, const json& value, const json& vars = json::object()) {
  CompileOptions options;
  options.unary_tests = true;
  auto p = must_compile(text, options);
  if (!p) return "no program";
  JsonVariables v(vars);
  Context ctx{&v, 0};
  ctx.input = &value;
  auto r = evaluate_tests(*p, ctx);
  return r ? json(*r) : json("error: " + r.status().message());
}

TEST(FeelDmn, KnownNamesWithSpacesAndOperators) {
  const std::vector<std::string> known{"Monthly Salary", "Date-Time", "Full Name"};
  CompileOptions options;
  options.known_names = known;
  const json vars = {{"Monthly Salary", 3000}, {"Date-Time", 5}, {"Full Name", "Ann"}};
  EXPECT_EQ(typed("Monthly Salary * 12", vars, options), 36000);
  // White space inside may differ from the declared spelling.
  EXPECT_EQ(typed("Monthly   Salary + 1", vars, options), 3001);
  EXPECT_EQ(typed("Date-Time - 1", vars, options), 4);
  EXPECT_EQ(typed("\"Hello \" + Full Name", vars, options), "Hello Ann");
  // Without the names, the same text is a subtraction of two unset variables: null.
  EXPECT_EQ(typed("Date-Time", json{{"Date", 3}, {"Time", 1}}), 2);
  // A known name is not the start of a longer plain name.
  EXPECT_TRUE(std::holds_alternative<CompileError>(
      compile(ExpressionDialect::kFeel, "Full Names", options)));
}

TEST(FeelDmn, UnaryTests) {
  EXPECT_EQ(passes("-", 5), true);
  EXPECT_EQ(passes("-", nullptr), true);
  EXPECT_EQ(passes("-5", -5), true);
  EXPECT_EQ(passes("< 10", 5), true);
  EXPECT_EQ(passes("< 10", 10), false);
  EXPECT_EQ(passes("[1..10]", 10), true);
  EXPECT_EQ(passes("]1..10]", 1), false);
  EXPECT_EQ(passes("\"A\", \"B\"", "B"), true);
  EXPECT_EQ(passes("\"A\", \"B\"", "C"), false);
  EXPECT_EQ(passes("not(\"A\", \"B\")", "C"), true);
  EXPECT_EQ(passes("not(\"A\", \"B\")", "A"), false);
  EXPECT_EQ(passes("> limit", 7, {{"limit", 5}}), true);
  // An expression that reads `?` decides by its boolean value.
  EXPECT_EQ(passes("? > limit", 7, {{"limit", 5}}), true);
  EXPECT_EQ(passes("? > limit", 3, {{"limit", 5}}), false);
  EXPECT_EQ(passes("count(?) = 2", json::array({1, 2})), true);
  // A boolean test without `?` compares: `true` matches true only.
  EXPECT_EQ(passes("true", true), true);
  EXPECT_EQ(passes("true", false), false);
  EXPECT_EQ(passes("null", nullptr), true);
  // Undecidable (a string against a number) does not pass.
  EXPECT_EQ(passes("< 10", "x"), false);
  // A list value: the input is one of its elements.
  EXPECT_EQ(passes("allowed", "b", {{"allowed", {"a", "b"}}}), true);
}

TEST(FeelDmn, UnaryTestErrorsNameThePosition) {
  CompileOptions options;
  options.unary_tests = true;
  auto c = compile(ExpressionDialect::kFeel, "< 10,, > 20", options);
  ASSERT_TRUE(std::holds_alternative<CompileError>(c));
  EXPECT_EQ(std::get<CompileError>(c).offset, 5u);
  c = compile(ExpressionDialect::kFeel, "", options);
  ASSERT_TRUE(std::holds_alternative<CompileError>(c));
  EXPECT_NE(std::get<CompileError>(c).message.find("- for any value"), std::string::npos);
  // `?` outside unary tests says where it belongs.
  c = compile(ExpressionDialect::kFeel, "? > 1");
  ASSERT_TRUE(std::holds_alternative<CompileError>(c));
  EXPECT_NE(std::get<CompileError>(c).message.find("unary tests"), std::string::npos);
}

// A function table that records what it was called with.
class Recorder final : public Functions {
 public:
  std::optional<Result<json>> call(std::string_view name, std::span<const json> args,
                                   std::span<const std::string> names,
                                   const Context&) const override {
    if (name == "fail") return Result<json>(Status::invalid_argument("it failed inside"));
    if (name != "f") return std::nullopt;
    json out = json::object();
    out["args"] = json(std::vector<json>(args.begin(), args.end()));
    out["names"] = json(std::vector<std::string>(names.begin(), names.end()));
    return Result<json>(out);
  }
};

json call_with(std::string_view text) {
  CompileOptions options;
  options.user_functions = true;
  auto p = must_compile(text, options);
  if (!p) return "no program";
  Recorder functions;
  Context ctx;
  ctx.functions = &functions;
  auto r = evaluate_typed(*p, ctx);
  return r ? *r : json("error: " + r.status().message());
}

TEST(FeelDmn, UserFunctions) {
  EXPECT_EQ(call_with("f(1, \"a\")"), json::parse(R"({"args":[1,"a"],"names":[]})"));
  EXPECT_EQ(call_with("f(b: 2, a: 1)"), json::parse(R"({"args":[2,1],"names":["b","a"]})"));
  // Dates cross typed, so the function sees a date, not a string.
  EXPECT_EQ(call_with("f(date(\"2026-01-02\")).args[1]"),
            json::parse(R"({"@type":"date","value":"2026-01-02"})"));
  CompileOptions options;
  options.user_functions = true;
  EXPECT_TRUE(std::holds_alternative<CompileError>(
      compile(ExpressionDialect::kFeel, "f(a: 1, 2)", options)));
  // An error inside the function is the caller's error; an unknown one is null.
  EXPECT_EQ(call_with("fail(1)"), "error: it failed inside");
  EXPECT_NE(call_with("g(1)").get<std::string>().find("there is no function 'g'"), std::string::npos);
  // Without user functions an unknown name stays a compile error.
  EXPECT_TRUE(std::holds_alternative<CompileError>(compile(ExpressionDialect::kFeel, "f(1)")));
}

TEST(FeelDmn, TypedValuesInAndOut) {
  const json vars = {{"d", {{"@type", "date"}, {"value", "2026-03-01"}}},
                     {"p", {{"@type", "duration"}, {"value", "P1D"}}}};
  EXPECT_EQ(typed("d - p", vars), json::parse(R"({"@type":"date","value":"2026-02-28"})"));
  EXPECT_EQ(typed("d > date(\"2026-01-01\")", vars), true);
  EXPECT_EQ(typed("[d]", vars), json::parse(R"([{"@type":"date","value":"2026-03-01"}])"));
  // Process variables keep the ISO text, as before.
  auto p = must_compile("date(\"2026-03-01\")", {});
  ASSERT_TRUE(p);
  Context ctx;
  EXPECT_EQ(*evaluate(*p, ctx), "2026-03-01");
  // An object with other keys is a context like any other.
  EXPECT_EQ(typed("x.value", {{"x", {{"@type", "other"}, {"value", "v"}}}}), "v");
}

}  // namespace
}  // namespace ordo::expr
