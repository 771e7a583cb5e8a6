#include <gtest/gtest.h>

#include "expr/expr.h"
#include "expr/expr_test_util.h"

namespace ordo::expr {
namespace {

using testing::Case;
using testing::json;

constexpr auto kJuel = ExpressionDialect::kJuel;

json juel(std::string_view text, const json& vars = json::object()) {
  return testing::value_of(kJuel, text, vars);
}

void juel_table(std::initializer_list<Case> cases) {
  testing::check_table(kJuel, cases);
}

TEST(Juel, CorpusExpressions) {
  juel_table({
      {"${input == 3 || input == 1}", R"({"input": 1})", "true"},
      {"${input == 3 || input == 1}", R"({"input": 2})", "false"},
      {"${!terminate}", R"({"terminate": false})", "true"},
      {"${true}", "{}", "true"},
      {"#{approved}", R"({"approved": true})", "true"},
  });
}

TEST(Juel, LiteralsAndMemberAccess) {
  juel_table({
      {"${1}", "{}", "1"},
      {"${-1.5}", "{}", "-1.5"},
      {"${'single'}", "{}", "\"single\""},
      {"${\"double\"}", "{}", "\"double\""},
      {R"(${'it\'s'})", "{}", R"("it's")"},
      {"${null}", "{}", "null"},
      {"${order.customer.name}", R"({"order": {"customer": {"name": "Ann"}}})", "\"Ann\""},
      {"${order[\"id\"]}", R"({"order": {"id": 7}})", "7"},
      {"${order['missing']}", R"({"order": {}})", "null"},
      {"${items[0]}", R"({"items": ["a", "b"]})", "\"a\""},
      {"${items[2]}", R"({"items": ["a", "b"]})", "null"},
      {"${order.missing}", R"({"order": {}})", "null"},
      {"${nothing.field}", R"({"nothing": null})", "null"},
  });
}

TEST(Juel, ComparisonOperatorsInSymbolsAndWords) {
  juel_table({
      {"${a == 1}", R"({"a": 1})", "true"},
      {"${a eq 1}", R"({"a": 1})", "true"},
      {"${a != 1}", R"({"a": 1})", "false"},
      {"${a ne 1}", R"({"a": 2})", "true"},
      {"${a < 2 && a lt 2}", R"({"a": 1})", "true"},
      {"${a > 2 || a gt 2}", R"({"a": 1})", "false"},
      {"${a <= 1 and a le 1}", R"({"a": 1})", "true"},
      {"${a >= 2 or a ge 2}", R"({"a": 1})", "false"},
      {"${name == 'Ann'}", R"({"name": "Ann"})", "true"},
      {"${'b' > 'a'}", "{}", "true"},
      {"${a == '3'}", R"({"a": 3})", "true"},
      {"${flag == 'true'}", R"({"flag": true})", "true"},
      {"${x == null}", R"({"x": null})", "true"},
      {"${x < 1}", R"({"x": null})", "false"},
  });
}

TEST(Juel, LogicAndEmpty) {
  juel_table({
      {"${not a}", R"({"a": true})", "false"},
      {"${!a && b}", R"({"a": false, "b": true})", "true"},
      {"${empty list}", R"({"list": []})", "true"},
      {"${empty name}", R"({"name": "x"})", "false"},
      {"${empty missingValue}", R"({"missingValue": null})", "true"},
      {"${not empty list}", R"({"list": [1]})", "true"},
      {"${a ? 'yes' : 'no'}", R"({"a": true})", "\"yes\""},
      {"${a > 1 ? a : 0}", R"({"a": 0})", "0"},
      {"${false && undefinedButSkipped}", "{}", "false"},
  });
}

TEST(Juel, Arithmetic) {
  juel_table({
      {"${1 + 2 * 3}", "{}", "7"},
      {"${7 / 2}", "{}", "3.5"},
      {"${7 div 2}", "{}", "3.5"},
      {"${6 / 3}", "{}", "2"},
      {"${7 % 3}", "{}", "1"},
      {"${7 mod 3}", "{}", "1"},
      {"${-7 % 3}", "{}", "-1"},
      {"${-x}", R"({"x": 2})", "-2"},
      {"${x + 1}", R"({"x": null})", "1"},
      {"${'2' + 1}", "{}", "3"},
      {"${(1 + 2) * 3}", "{}", "9"},
  });
  EXPECT_TRUE(juel("${3 + 4}").is_number_integer());
}

TEST(Juel, CompositeTextJoinsParts) {
  juel_table({
      {"Order ${id} for ${name}", R"({"id": 7, "name": "Ann"})", "\"Order 7 for Ann\""},
      {"${a}${b}", R"({"a": "x", "b": "y"})", "\"xy\""},
      {"cost: ${x}", R"({"x": null})", "\"cost: \""},
      {"\\${not an expression}", "{}", "\"${not an expression}\""},
  });
}

TEST(Juel, UnknownVariableIsAnError) {
  testing::Outcome o = testing::run(kJuel, "${x > 1}");
  ASSERT_TRUE(o.compiled);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.message, "Cannot resolve identifier 'x' in `${x > 1}`");
}

TEST(Juel, TypeErrorsAreErrors) {
  struct Row {
    const char* text;
    const char* vars;
    const char* message;
  };
  const Row rows[] = {
      {"${a < 'x'}", R"({"a": 3})", "cannot convert string \"x\" to a number in `${a < 'x'}`"},
      {"${a + 'x'}", R"({"a": 3})", "cannot convert string \"x\" to a number in `${a + 'x'}`"},
      {"${a && true}", R"({"a": 3})", "cannot use number 3 as a boolean in `${a && true}`"},
      {"${a / 0}", R"({"a": 3})", "division by zero in `${a / 0}`"},
      {"${a.b}", R"({"a": 3})", "cannot read 'b' of number 3 in `${a.b}`"},
      {"${a < b}", R"({"a": [1], "b": [2]})",
       "cannot compare list [1] with list [2] in `${a < b}`"},
  };
  for (const Row& r : rows) {
    testing::Outcome o = testing::run(kJuel, r.text, json::parse(r.vars));
    ASSERT_TRUE(o.compiled) << r.text << ": " << o.compile_error.message;
    EXPECT_FALSE(o.ok) << r.text;
    EXPECT_EQ(o.message, r.message) << r.text;
  }
}

TEST(Juel, ConditionMustBeBoolean) {
  auto r = testing::condition(kJuel, "${amount}", {{"amount", 5}});
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_EQ(std::get<std::string>(r), "condition `${amount}` evaluated to number 5, not a boolean");
  EXPECT_EQ(testing::condition(kJuel, "${amount > 1}", {{"amount", 5}}),
            (std::variant<bool, std::string>(true)));
}

TEST(Juel, CompileErrorsSayWhereAndWhat) {
  struct Row {
    const char* text;
    std::uint32_t offset;
    const char* message;
  };
  const Row rows[] = {
      {"${a", 3,
       "expected '}' to close '${' opened at offset 0 but found the end of the expression"},
      {"${}", 0, "'${}' is empty: write an expression between the braces, e.g. ${approved}"},
      {"${a = 1}", 4, "JUEL compares with '==' (or 'eq'); a single '=' is not an operator"},
      {"${execution.getVariable('x')}", 12,
       "method calls such as 'getVariable(...)' are not supported; refer to variables and their "
       "properties by name"},
      {"${size(x)}", 2, "function calls such as 'size(...)' are not supported in JUEL expressions"},
      {"${fn:size(x)}", 4,
       "expected '}' to close '${' opened at offset 0 but found ':' (Ordo's JUEL cannot call "
       "methods or functions such as fn:name(...))"},
      {"${(a}", 4, "expected ')' to close '(' opened at offset 2 but found '}'"},
      {"${a b}", 4,
       "expected '}' to close '${' opened at offset 0 but found 'b' (is an operator "
       "missing?)"},
      {"${a ? b}", 7, "expected ':' after the '?' at offset 4 but found '}'"},
      {"${'abc}", 2, "the string opened at offset 2 is never closed: add a closing '"},
      {"${a and}", 7, "the expression ends too early: expected a value"},
  };
  for (const Row& r : rows) {
    CompileError e = testing::compile_error(kJuel, r.text);
    EXPECT_EQ(e.offset, r.offset) << r.text;
    EXPECT_EQ(e.message, r.message) << r.text;
  }
}

TEST(Juel, DeepNestingIsACompileErrorNotACrash) {
  std::string deep = "${" + std::string(5000, '!') + "a}";
  CompileError e = testing::compile_error(kJuel, deep);
  EXPECT_NE(e.message.find("nested too deeply"), std::string::npos) << e.message;
}

}  // namespace
}  // namespace ordo::expr
