#include <gtest/gtest.h>

#include "expr/expr.h"
#include "expr/expr_test_util.h"

namespace ordo::expr {
namespace {

using testing::Case;
using testing::json;

constexpr auto kFeel = ExpressionDialect::kFeel;

json feel(std::string_view text, const json& vars = json::object()) {
  return testing::value_of(kFeel, text, vars);
}

void feel_table(std::initializer_list<Case> cases) {
  testing::check_table(kFeel, cases);
}

TEST(Feel, Literals) {
  feel_table({
      {"1", "{}", "1"},
      {"-2.5", "{}", "-2.5"},
      {"1e3", "{}", "1000.0"},
      {"\"text\"", "{}", "\"text\""},
      {R"("a\"b\\c\nd\u00e9")", "{}", R"("a\"b\\c\nd\u00e9")"},
      {"true", "{}", "true"},
      {"false", "{}", "false"},
      {"null", "{}", "null"},
      {"[1, \"a\", [true]]", "{}", R"([1, "a", [true]])"},
      {"[]", "{}", "[]"},
      {R"({"name": "order1", "id": "1234"})", "{}", R"({"name": "order1", "id": "1234"})"},
      {"{a: 1, b: {c: [2]}}", "{}", R"({"a": 1, "b": {"c": [2]}})"},
      {"{a: x + 1}", R"({"x": 1})", R"({"a": 2})"},
      {"[x, x * 2]", R"({"x": 3})", "[3, 6]"},
  });
}

TEST(Feel, VariablesAndPaths) {
  feel_table({
      {"orderId", R"({"orderId": "A-17"})", "\"A-17\""},
      {"order.customer.locale", R"({"order": {"customer": {"locale": "de"}}})", "\"de\""},
      {"order.missing", R"({"order": {}})", "null"},
      {"unknown", "{}", "null"},
      {"unknown.deeper", "{}", "null"},
      {"items[1]", R"({"items": [10, 20, 30]})", "10"},
      {"items[-1]", R"({"items": [10, 20, 30]})", "30"},
      {"items[4]", R"({"items": [10, 20, 30]})", "null"},
      {"items[i]", R"({"items": [10, 20, 30], "i": 2})", "20"},
      {"items[1].price", R"({"items": [{"price": 5}]})", "5"},
      {"items.price", R"({"items": [{"price": 5}, {"price": 7}]})", "[5, 7]"},
      {"[1, 2, 3][2]", "{}", "2"},
      {"{a: {b: 1}}.a.b", "{}", "1"},
      {"user_2", R"({"user_2": 1})", "1"},
  });
}

TEST(Feel, ListFilters) {
  feel_table({
      {"items[price > 10]", R"({"items": [{"price": 5}, {"price": 12}, {"price": 20}]})",
       R"([{"price": 12}, {"price": 20}])"},
      {"items[item > 1]", R"({"items": [1, 2, 3]})", "[2, 3]"},
      {"count(items[price > 100])", R"({"items": [{"price": 5}]})", "0"},
      {"items[price > limit].id", R"({"limit": 6, "items": [{"id": 1, "price": 5}, {"id": 2,
        "price": 7}]})",
       "[2]"},
  });
}

// for, some and every (DMN 1.5, 10.3.2.13-14): names bound in turn, the first outermost; a
// later list may use an earlier name; a range of whole numbers iterates too.
TEST(Feel, ForSomeEvery) {
  feel_table({
      {"for x in [1, 2, 3] return x * 2", "{}", "[2, 4, 6]"},
      {"for i in items return i.sku", R"({"items": [{"sku": "A"}, {"sku": "B"}]})",
       R"(["A", "B"])"},
      {"for x in [1, 2], y in [10, 20] return x + y", "{}", "[11, 21, 12, 22]"},
      {"for x in [1, 2], y in [x, x * 10] return y", "{}", "[1, 10, 2, 20]"},
      {"for i in 1..3 return i * i", "{}", "[1, 4, 9]"},
      {"for i in 3..1 return i", "{}", "[3, 2, 1]"},
      {"for x in [] return x", "{}", "[]"},
      {"for x in missing return x", "{}", "null"},
      {"for total in [1] return total", R"({"total": 99})", "[1]"},
      {"some x in [1, 5, 9] satisfies x > 8", "{}", "true"},
      {"some x in [1, 5] satisfies x > 8", "{}", "false"},
      {"every x in [1, 5] satisfies x > 0", "{}", "true"},
      {"every x in [1, -5] satisfies x > 0", "{}", "false"},
      {"every x in [] satisfies false", "{}", "true"},
      {"some x in [] satisfies true", "{}", "false"},
      {"some i in items satisfies i.qty > stock",
       R"({"stock": 3, "items": [{"qty": 1}, {"qty": 4}]})", "true"},
      {"count(for x in [1, 2, 3] return x) + 1", "{}", "4"},
      {"if every x in [2, 4] satisfies modulo(x, 2) = 0 then \"even\" else \"odd\"", "{}",
       "\"even\""},
  });
}

// Names that are not FEEL names, in backticks (as Camunda 8 writes them).
TEST(Feel, NamesInBackticks) {
  feel_table({
      {"`order total`", R"({"order total": 5})", "5"},
      {"`order total` > 3", R"({"order total": 5})", "true"},
      {"customer.`first name`", R"({"customer": {"first name": "Ann"}})", "\"Ann\""},
      {"for `line item` in items return `line item` * 2", R"({"items": [1, 2]})", "[2, 4]"},
      {"`x-ray`", R"({"x-ray": true})", "true"},
  });
}

// string join (the Camunda 8 reference model's `string join(risks, ", ")`).
TEST(Feel, StringJoin) {
  feel_table({
      {"string join(risks, \", \")", R"({"risks": ["fraud", "debt"]})", "\"fraud, debt\""},
      {"string join([\"a\", null, \"b\"])", "{}", "\"ab\""},
      {"string join([], \"-\")", "{}", "\"\""},
      {"string join([\"a\", 1], \"-\")", "{}", "null"},
      {"string join(\"a\", \"-\")", "{}", "\"a\""},  // one string is a list of one
  });
}

TEST(Feel, ComparisonOperators) {
  feel_table({
      {"1 = 1", "{}", "true"},
      {"1 = 1.0", "{}", "true"},
      {"1 != 2", "{}", "true"},
      {"2 < 3", "{}", "true"},
      {"2.5 >= 3", "{}", "false"},
      {"\"a\" < \"b\"", "{}", "true"},
      {"paymentStatus = \"approved\"", R"({"paymentStatus": "approved"})", "true"},
      {"available = true", R"({"available": false})", "false"},
      {"[1, 2] = [1, 2]", "{}", "true"},
      {"{a: 1} = {a: 1}", "{}", "true"},
      {"price > 0", R"({"price": 12.5})", "true"},
      {"price = 0", R"({"price": 0})", "true"},
      {"COUNT <= 30 and COUNT > 20", R"({"COUNT": 25})", "true"},
      {"COUNT <= 30 and COUNT > 20", R"({"COUNT": 31})", "false"},
      {"hasReachedMaxAttempts=true", R"({"hasReachedMaxAttempts": true})", "true"},
  });
}

TEST(Feel, NullComparedWithEqualsIsABoolean) {
  feel_table({
      {"null = null", "{}", "true"},
      {"x = null", "{}", "true"},
      {"x = null", R"({"x": 1})", "false"},
      {"x != null", R"({"x": 1})", "true"},
      {"null = 0", "{}", "false"},
  });
}

TEST(Feel, NullComparedWithLessThanIsNull) {
  feel_table({
      {"null < 1", "{}", "null"},
      {"price > 0", "{}", "null"},
      {"1 >= x", R"({"x": null})", "null"},
  });
}

TEST(Feel, ComparingDifferentTypesIsNull) {
  feel_table({
      {"1 < \"a\"", "{}", "null"},
      {"1 = \"1\"", "{}", "null"},
      {"true < false", "{}", "null"},
  });
}

TEST(Feel, ArithmeticKeepsIntegersIntegral) {
  json seven = feel("3 + 4");
  EXPECT_EQ(seven, 7);
  EXPECT_TRUE(seven.is_number_integer());
  json half = feel("7 / 2");
  EXPECT_EQ(half, 3.5);
  EXPECT_TRUE(half.is_number_float());
  json two = feel("6 / 3");
  EXPECT_TRUE(two.is_number_integer());
  EXPECT_TRUE(feel("1.5 + 1.5").is_number_integer());
  EXPECT_TRUE(feel("x * 2", {{"x", 2.5}}).is_number_integer());
}

TEST(Feel, Arithmetic) {
  feel_table({
      {"1 + 2 * 3", "{}", "7"},
      {"(1 + 2) * 3", "{}", "9"},
      {"10 - 4 - 3", "{}", "3"},
      {"2 ** 10", "{}", "1024"},
      {"2 ** -1", "{}", "0.5"},
      {"-x", R"({"x": 4})", "-4"},
      {"- (1 + 2)", "{}", "-3"},
      {"X / Y", R"({"X": 9, "Y": 3})", "3"},
      {"X / Y", R"({"X": 1, "Y": 4})", "0.25"},
      {"X / Y", R"({"X": 1, "Y": 0})", "null"},
      {"9223372036854775807 + 1", "{}", "9.223372036854776e18"},
      {"\"order-\" + id", R"({"id": "17"})", "\"order-17\""},
      {"1 + null", "{}", "null"},
      {"missing * 2", "{}", "null"},
      {"\"a\" + 1", "{}", "null"},
  });
}

TEST(Feel, ThreeValuedLogic) {
  feel_table({
      {"true and true", "{}", "true"},
      {"true and false", "{}", "false"},
      {"false and null", "{}", "false"},
      {"null and false", "{}", "false"},
      {"true and null", "{}", "null"},
      {"true or null", "{}", "true"},
      {"null or true", "{}", "true"},
      {"false or null", "{}", "null"},
      {"false or false", "{}", "false"},
      {"true and 1", "{}", "null"},
      {"not(true)", "{}", "false"},
      {"not(null)", "{}", "null"},
      {"not(x > 1)", R"({"x": 0})", "true"},
  });
}

TEST(Feel, IfThenElse) {
  feel_table({
      {"if x > 1 then \"big\" else \"small\"", R"({"x": 5})", "\"big\""},
      {"if x > 1 then \"big\" else \"small\"", R"({"x": 0})", "\"small\""},
      {"if null then 1 else 2", "{}", "2"},
      {"if a then if b then 1 else 2 else 3", R"({"a": true, "b": false})", "2"},
  });
}

TEST(Feel, InListsRangesAndUnaryTests) {
  feel_table({
      {"x in [1, 2, 3]", R"({"x": 2})", "true"},
      {"x in [1, 2, 3]", R"({"x": 4})", "false"},
      {"x in [1..10]", R"({"x": 10})", "true"},
      {"x in [1..10)", R"({"x": 10})", "false"},
      {"x in (1..10]", R"({"x": 1})", "false"},
      {"x in ]1..10[", R"({"x": 5})", "true"},
      {"x in > 5", R"({"x": 6})", "true"},
      {"x in <= 5", R"({"x": 6})", "false"},
      {"x in (< 0, > 10)", R"({"x": 11})", "true"},
      {"x in (1, 2)", R"({"x": 2})", "true"},
      {"x in list", R"({"x": "b", "list": ["a", "b"]})", "true"},
      {"x in \"a\"", R"({"x": "a"})", "true"},
      {"x in [\"a\"..\"c\"]", R"({"x": "b"})", "true"},
      {"x in []", R"({"x": 1})", "false"},
      {"x in [1..10] and y", R"({"x": 2, "y": true})", "true"},
      {"x in [1..10]", "{}", "null"},
  });
}

TEST(Feel, Between) {
  feel_table({
      {"x between 1 and 10", R"({"x": 1})", "true"},
      {"x between 1 and 10", R"({"x": 11})", "false"},
      {"x between 1 and 10 and y", R"({"x": 5, "y": false})", "false"},
      {"x between 1 and 10", "{}", "null"},
  });
}

TEST(Feel, StringFunctions) {
  feel_table({
      {"string length(\"héllo\")", "{}", "5"},
      {"string length (name)", R"({"name": "abc"})", "3"},
      {"substring(\"foobar\", 3)", "{}", "\"obar\""},
      {"substring(\"foobar\", 3, 3)", "{}", "\"oba\""},
      {"substring(\"foobar\", -2, 1)", "{}", "\"a\""},
      {"upper case(\"abc\")", "{}", "\"ABC\""},
      {"lower case(\"ABC\")", "{}", "\"abc\""},
      {"contains(\"foobar\", \"ob\")", "{}", "true"},
      {"starts with(\"foobar\", \"fo\")", "{}", "true"},
      {"ends with(\"foobar\", \"x\")", "{}", "false"},
      {"substring before(\"foo-bar\", \"-\")", "{}", "\"foo\""},
      {"substring after(\"foo-bar\", \"-\")", "{}", "\"bar\""},
      {"string(12)", "{}", "\"12\""},
      {"string(1.5)", "{}", "\"1.5\""},
      {"string(true)", "{}", "\"true\""},
      {"string(null)", "{}", "null"},
      {"string length(12)", "{}", "null"},
      {"substring(\"abc\", 1e300)", "{}", "null"},
      {"substring(\"abc\", 1, 1e300)", "{}", "\"abc\""},
  });
}

TEST(Feel, ListFunctions) {
  feel_table({
      {"count([1, 2, 3])", "{}", "3"},
      {"sum([1, 2, 3])", "{}", "6"},
      {"sum(1, 2.5)", "{}", "3.5"},
      {"sum([])", "{}", "null"},
      {"min([3, 1, 2])", "{}", "1"},
      {"max(3, 1, 2)", "{}", "3"},
      {"max([\"a\", \"c\", \"b\"])", "{}", "\"c\""},
      {"min([1, \"a\"])", "{}", "null"},
      {"mean([1, 2, 3, 4])", "{}", "2.5"},
      {"list contains([1, 2], 2)", "{}", "true"},
      {"list contains(items, \"x\")", R"({"items": ["a"]})", "false"},
      {"append([1], 2, 3)", "{}", "[1, 2, 3]"},
      {"concatenate([1], [2, 3], [])", "{}", "[1, 2, 3]"},
      {"distinct values([1, 2, 1, 3, 2])", "{}", "[1, 2, 3]"},
      {"flatten([1, [2, [3, 4]], [[5]]])", "{}", "[1, 2, 3, 4, 5]"},
      {"index of([1, 2, 3, 2], 2)", "{}", "[2, 4]"},
      {"reverse([1, 2, 3])", "{}", "[3, 2, 1]"},
      {"all([true, true])", "{}", "true"},
      {"all([true, false, null])", "{}", "false"},
      {"all([true, null])", "{}", "null"},
      {"all([])", "{}", "true"},
      {"any([false, true])", "{}", "true"},
      {"any([false, null])", "{}", "null"},
      {"any([])", "{}", "false"},
      {"count(\"abc\")", "{}", "null"},
  });
}

TEST(Feel, NumberFunctions) {
  feel_table({
      {"floor(1.5)", "{}", "1"},
      {"floor(-1.5)", "{}", "-2"},
      {"ceiling(1.2)", "{}", "2"},
      {"abs(-3)", "{}", "3"},
      {"decimal(1.125, 2)", "{}", "1.12"},
      {"decimal(1.135, 2)", "{}", "1.14"},
      {"decimal(2.5, 0)", "{}", "2"},
      {"modulo(10, 3)", "{}", "1"},
      {"modulo(-10, 3)", "{}", "2"},
      {"number(\"42\")", "{}", "42"},
      {"number(\"-1.5\")", "{}", "-1.5"},
      {"number(\"abc\")", "{}", "null"},
  });
}

TEST(Feel, IsDefinedTellsUnsetFromNull) {
  feel_table({
      {"is defined(x)", R"({"x": null})", "true"},
      {"is defined(x)", "{}", "false"},
      {"is defined(order.id)", R"({"order": {"id": 1}})", "true"},
      {"is defined(order.id)", R"({"order": {}})", "false"},
  });
}

TEST(Feel, DatesAndDurationsComeOutAsIsoStrings) {
  feel_table({
      {"date and time(\"2026-12-01T10:00:00Z\")", "{}", "\"2026-12-01T10:00:00Z\""},
      // The offset a value is written with is kept (and so is its instant).
      {"date and time(\"2026-12-01T11:00:00+01:00\")", "{}", "\"2026-12-01T11:00:00+01:00\""},
      {"date(\"2026-12-01\")", "{}", "\"2026-12-01\""},
      {"date(2026, 2, 28)", "{}", "\"2026-02-28\""},
      {"duration(\"PT30M\")", "{}", "\"PT30M\""},
      {"now()", "{}", "\"2026-12-01T10:00:00Z\""},
      {"date and time(\"2026-12-01T10:00:00Z\") + duration(\"PT30M\")", "{}",
       "\"2026-12-01T10:30:00Z\""},
      {"duration(\"P1D\") + date and time(\"2026-12-31T10:00:00Z\")", "{}",
       "\"2027-01-01T10:00:00Z\""},
      {"date and time(\"2026-12-01T10:00:00Z\") - duration(\"P1M\")", "{}",
       "\"2026-11-01T10:00:00Z\""},
      {"date and time(\"2026-12-02T12:30:00Z\") - date and time(\"2026-12-01T10:00:00Z\")", "{}",
       "\"P1DT2H30M\""},
      {"date(\"2026-12-01\") + duration(\"P1D\")", "{}", "\"2026-12-02\""},
      {"duration(\"PT1H\") + duration(\"PT30M\")", "{}", "\"PT1H30M\""},
      {"duration(\"PT1H\") * 2", "{}", "\"PT2H\""},
      {"duration(\"PT1H\") / duration(\"PT30M\")", "{}", "2"},
      {"-duration(\"PT5M\")", "{}", "\"-PT5M\""},
      {"date and time(d) + duration(p)", R"({"d": "2026-12-01T10:00:00Z", "p": "PT1H"})",
       "\"2026-12-01T11:00:00Z\""},
      {"date and time(d)", R"({"d": "not a date"})", "null"},
      {"duration(\"PT1H\") * 1e300", "{}", "null"},
      // A date and time without a zone is a local one, and stays so.
      {"date and time(\"2026-12-01T10:00:00\")", "{}", "\"2026-12-01T10:00:00\""},
  });
}

TEST(Feel, NumbersAreDecimals) {
  feel_table({
      {"0.1 + 0.2", "{}", "0.3"},
      {"0.1 + 0.2 = 0.3", "{}", "true"},
      {"x + y = 0.3", R"({"x": 0.1, "y": 0.2})", "true"},
      {"string(1 / 3)", "{}", "\"0.3333333333333333333333333333333333\""},
      {"10 / 4", "{}", "2.5"},
      {"2.5 * 2", "{}", "5"},
      {"decimal(1.125, 2)", "{}", "1.12"},  // half to even
      {"round half up(1.125, 2)", "{}", "1.13"},
      {"round half down(-1.125, 2)", "{}", "-1.12"},
      {"floor(-1.5)", "{}", "-2"},
      {"ceiling(1.01, 1)", "{}", "1.1"},
      {"string(123456789012345678901234567890 + 1)", "{}",
       "\"123456789012345678901234567891\""},
      {"string(2 ** 100)", "{}", "\"1267650600228229401496703205376\""},
      {"string(1.10 * 3)", "{}", "\"3.3\""},
      {"sum([0.1, 0.2, 0.3]) = 0.6", "{}", "true"},
      {"mean([1, 2]) * 2", "{}", "3"},
      {"modulo(-7.5, 2)", "{}", "0.5"},
      {"1 / 0", "{}", "null"},
      {"string(sum([9223372036854775807, 1]))", "{}", "\"9223372036854775808\""},
      {"string(9.99e6000 * 10)", "{}", "\"9.99E+6001\""},
      {"9.99e6144 * 10", "{}", "null"},  // beyond decimal128: no value
  });
}

TEST(Feel, InstanceOf) {
  feel_table({
      {"5 instance of number", "{}", "true"},
      {"\"5\" instance of number", "{}", "false"},
      {"@\"2026-12-01T10:00:00Z\" instance of date and time", "{}", "true"},
      {"@\"P1D\" instance of days and time duration", "{}", "true"},
      {"@\"P1Y\" instance of days and time duration", "{}", "false"},
      {"[1, 2] instance of list<number>", "{}", "true"},
      {"[1, \"a\"] instance of list<number>", "{}", "false"},
      {"{a: 1} instance of context<a: number>", "{}", "true"},
      {"[1..5] instance of range<number>", "{}", "true"},
      {"null instance of Any", "{}", "false"},
      {"x instance of Any", R"({"x": "a"})", "true"},
      {"1 instance of tOrder", "{}", "null"},  // no FEEL type
      {"today() = date(now())", "{}", "true"},
  });
}

TEST(Feel, FunctionsAreValues) {
  feel_table({
      {"{f: function(x) x + 1, r: f(2)}.r", "{}", "3"},
      {"{f: function(a, b) a - b, r: f(b: 1, a: 5)}.r", "{}", "4"},
      {"{f: function(n: number, l: list<number>) n * count(l), r: f(21, [1, 2])}.r", "{}",
       "42"},
      {"(function(a, b) a * b)(3, 4)", "{}", "12"},
      // A function sees the names bound where it was made.
      {"for k in [1, 2] return {add: function(x) x + k, r: add(10)}.r", "{}", "[11,12]"},
      {"sort([3, 1, 2], function(x, y) x > y)", "{}", "[3,2,1]"},
      {"sort([3, 1, 2])", "{}", "[1,2,3]"},
      {"sort([{n: 2}, {n: 1}], function(a, b) a.n < b.n)", "{}", "[{\"n\":1},{\"n\":2}]"},
      {"sort([1, \"a\"])", "{}", "null"},
      {"sort([2, 1], function(x, y) \"yes\")", "{}", "null"},
      {"list replace([2, 4, 7, 8], function(item, newItem) item < newItem, 5)", "{}",
       "[5,5,7,8]"},
      {"5(1)", "{}", "null"},  // not a function
      // Results that borrowed from the call's parameters are copies the caller owns.
      {"(function(s) s)(\"abc\")", "{}", "\"abc\""},
      {"{f: function(c) c.name, r: f({name: \"x\"})}.r", "{}", "\"x\""},
      {"(function(d) d + duration(\"P1D\"))(date(\"2020-01-01\"))", "{}", "\"2020-01-02\""},
      // A function value from outside (a variable) is no function of this expression.
      {"x.f(1)", R"({"x": {"f": {"@type": "function", "value": "#65536"}}})", "null"},
      {"list replace(match: function(item, newItem) item = 2, newItem: 4, list: [1, 2, 3])", "{}",
       "[1,4,3]"},
      {"list replace(1, 1, 5)", "{}", "[5]"},
  });
  // A function that calls itself for ever is stopped, with a message.
  const json r =
      testing::value_of(ExpressionDialect::kFeel, "{f: function(n) f(n + 1), r: f(0)}.r");
  ASSERT_TRUE(r.is_string()) << r;
  EXPECT_NE(r.get<std::string>().find("call each other more than 32 deep"), std::string::npos)
      << r.get<std::string>();
}

TEST(Feel, RegularExpressions) {
  feel_table({
      {"matches(\"ORD-12345\", \"^ORD-\\d{5}$\")", "{}", "true"},
      {"matches(\"ord-1\", \"^ORD\")", "{}", "false"},
      {"matches(\"ord-1\", \"^ORD\", \"i\")", "{}", "true"},
      {"matches(\"a\nb\", \"^b$\", \"m\")", "{}", "true"},
      {"matches(\"a.b\", \".\", \"q\") and not(matches(\"ab\", \".\", \"q\"))", "{}",
       "true"},
      {"replace(\"0123456789\", \"(\\d{3})(\\d{3})(\\d{4})\", \"($1) $2-$3\")", "{}",
       "\"(012) 345-6789\""},
      {"replace(\"facetiously\", \"[iouy]\", \"[$0]\")", "{}", "\"facet[i][o][u]sl[y]\""},
      {"replace(\"a b c\", \"[a-z] \", \"#\", \"x\")", "{}", "\"# # #\""},  // x: no spaces
      {"replace(\"price: 5\", \"\\d\", \"\\$\")", "{}", "\"price: $\""},
      // An empty match would replace forever; a broken pattern or flag is no result.
      {"replace(\"abc\", \"x*\", \"-\")", "{}", "null"},
      {"matches(\"abc\", \"(\")", "{}", "null"},
      {"matches(\"abc\", \"a\", \"g\")", "{}", "null"},
      {"split(\"John Doe\", \"\\s\")", "{}", "[\"John\",\"Doe\"]"},
      {"split(\"a;b;;c\", \";\")", "{}", "[\"a\",\"b\",\"\",\"c\"]"},
  });
}

TEST(Feel, RangesAreValues) {
  feel_table({
      {"[1..10].start", "{}", "1"},
      {"(1..10].start included", "{}", "false"},
      {"[1..10).end included", "{}", "false"},
      {"(< 10).start", "{}", "null"},  // unbounded below
      {"(null..10)", "{}", "null"},     // a range written with a null end has no value
      {"(< 10) = (< 10)", "{}", "true"},
      {"true[1]", "{}", "true"},         // a value that is not a list is a list of one
      {"100[item > 50]", "{}", "[100]"},
      {"[{item: 1}, {item: 2}][item >= 2]", "{}", "[{\"item\":2}]"},
      {"date and time(\"2021-01-01T24:00:00\")", "{}", "\"2021-01-02T00:00:00\""},
      {"(>= 5).start included", "{}", "true"},
      {"(= 3) = [3..3]", "{}", "true"},
      {"[1..2] = [1..3]", "{}", "false"},
      {"string(]1..10])", "{}", "\"(1..10]\""},
      {"5 in [[1..3], [4..6]]", "{}", "true"},
      {"7 in [[1..3], [4..6]]", "{}", "false"},
      {"x in r",
       R"({"x": 4, "r": {"@type": "range", "start": 1, "end": 4, "start included": true,)"
       R"( "end included": false}})",
       "false"},
      {"for r in [[1..3], [4..6]] return 5 in r", "{}", "[false,true]"},
      {"10 in != 10", "{}", "false"},
      {"10 in (!= 11)", "{}", "true"},
      {"true in [false, 2, 3]", "{}", "false"},  // another type is not equal
      {"string(max([[1..5]]))", "{}", "\"[1..5]\""},
      // Shaped almost like a range: a context.
      {"string(r)", R"({"r": {"@type": "range", "a": 0, "b": 0, "c": 0, "d": 0}})",
       "\"{\\\"@type\\\":\\\"range\\\",\\\"a\\\":0,\\\"b\\\":0,\\\"c\\\":0,\\\"d\\\":0}\""},
      {"[date(\"2026-01-01\")..date(\"2026-12-31\")].end", "{}", "\"2026-12-31\""},
      {"[1..\"a\"]", "{}", "null"},
  });
}

TEST(Feel, RangeFunctions) {
  feel_table({
      {"[before(1, 10), before(10, 1)]", "{}", "[true,false]"},
      {"[before(1, [2..5]), before(1, (1..5]), before(1, [1..5])]", "{}", "[true,true,false]"},
      {"[before([1..5], 10), before([1..5], [6..8]), before([1..5], (5..8]), before([1..5], [5..8])]",
       "{}", "[true,true,true,false]"},
      {"[after(10, 5), after([11..20], [1..10]), after([11..20], 12)]", "{}", "[true,true,false]"},
      {"[meets([1..5], [5..8]), meets([1..5), [5..8]), met by([5..10], [1..5])]", "{}",
       "[true,false,true]"},
      {"[overlaps([1..5], [3..8]), overlaps([1..5], [6..8]), overlaps([1..5], [5..8]), "
       "overlaps([1..5], (5..8])]",
       "{}", "[true,false,true,false]"},
      {"[overlaps before([1..5], [3..8]), overlaps after([3..8], [1..5]), "
       "overlaps before([3..8], [1..5])]",
       "{}", "[true,true,false]"},
      {"[finishes(10, [1..10]), finishes([3..5], [1..5]), finished by([1..10], 10), "
       "finishes(10, [1..10))]",
       "{}", "[true,true,true,false]"},
      {"[includes([1..10], 5), includes([1..10], [4..6]), includes([1..10], (0..5]), "
       "during(5, [1..10]), during([4..6], [1..10])]",
       "{}", "[true,true,false,true,true]"},
      {"[starts(1, [1..10]), starts((1..5], (1..8]), started by([1..10], 1), starts(1, (1..10])]",
       "{}", "[true,true,true,false]"},
      {"[coincides(5, 5), coincides([1..5], [1..5]), coincides([1..5], (1..5])]", "{}",
       "[true,true,false]"},
      // Unbounded ends: (> 10) runs to plus infinity, (< 10) from minus infinity.
      {"[before(5, (> 10)), includes((< 10), 5), after(5, (< 10))]", "{}", "[true,true,false]"},
      {"before(1, \"a\")", "{}", "null"},
      {"meets(1, [1..2])", "{}", "null"},
  });
}

TEST(Feel, TimesZonesAndTheTwoKindsOfDuration) {
  feel_table({
      {"time(\"10:30:00\") + duration(\"PT1H\")", "{}", "\"11:30:00\""},
      {"time(\"23:30:00+02:00\") + duration(\"PT1H\")", "{}", "\"00:30:00+02:00\""},
      {"time(11, 59, 45, duration(\"PT2H\"))", "{}", "\"11:59:45+02:00\""},
      {"@\"10:30:00.000100\"", "{}", "\"10:30:00.0001\""},
      {"time(\"10:30:00@Europe/Paris\").timezone", "{}", "\"Europe/Paris\""},
      {"time(\"10:00:00\") < time(\"11:00:00\")", "{}", "true"},
      {"time(\"10:00:00\") < time(\"11:00:00Z\")", "{}", "null"},
      // An hour after 01:30 in Paris on the night clocks go forward is 03:30.
      {"date and time(\"2021-03-28T01:30:00@Europe/Paris\") + duration(\"PT1H\")", "{}",
       "\"2021-03-28T03:30:00@Europe/Paris\""},
      {"date and time(\"2021-01-31T10:00:00\") + duration(\"P1M\")", "{}",
       "\"2021-02-28T10:00:00\""},
      {"date and time(date(\"2017-01-01\"), time(\"23:59:01@Europe/Paris\"))", "{}",
       "\"2017-01-01T23:59:01@Europe/Paris\""},
      {"date(\"-2017-12-31\")", "{}", "\"-2017-12-31\""},
      {"date(\"2020-02-29\").weekday", "{}", "6"},
      {"date and time(\"2018-12-08T10:30:11+11:00\").time offset", "{}", "\"PT11H\""},
      {"date and time(\"2018-12-08T10:30:11\").time offset", "{}", "null"},
      {"duration(\"P13M\")", "{}", "\"P1Y1M\""},
      {"duration(\"PT24H\")", "{}", "\"P1D\""},
      {"duration(p)", R"({"p": "P1Y2D"})", "null"},
      {"duration(\"P1Y2M\").months", "{}", "2"},
      {"date(\"2300-01-01\") - date(\"2000-01-01\")", "{}", "null"},  // beyond ±292 years
      {"date(\"2020-01-01\")[1] + duration(\"P1D\")", "{}", "\"2020-01-02\""},
      {"time(23, 59, 59.9999999999)", "{}", "\"23:59:59.999999999\""},
      {"duration(p)", R"({"p": "PT9223372036.9S"})", "null"},
      {"date and time(\"2020-01-01T12:00:00\") + duration(\"PT2562047H\")", "{}",
       "\"2312-04-12T11:00:00\""},
      {"time(hour: 11, minute: 59, second: 0, offset: duration(\"-PT2H\"))", "{}",
       "\"11:59:00-02:00\""},
      {"for d in @\"2026-01-30\"..@\"2026-02-01\" return string(d)", "{}",
       "[\"2026-01-30\",\"2026-01-31\",\"2026-02-01\"]"},
      // By the dates alone: a later time of day on the last day still makes the year whole.
      {"years and months duration(@\"2014-12-31T23:59:59\", @\"2016-12-31T00:00:01\")", "{}",
       "\"P2Y\""},
      {"years and months duration(date(\"2011-12-22\"), date(\"2013-08-24\"))", "{}",
       "\"P1Y8M\""},
      // A local date and time is no instant: it cannot be set against a zoned one.
      {"date and time(\"2021-01-02T10:10:10\") - date and time(\"2021-01-01T10:10:10@Europe/Paris\")",
       "{}", "null"},
      {"date and time(\"2018-10-08T00:00:00+02:00\") = "
       "date and time(\"2018-10-08T00:00:00@Europe/Paris\")",
       "{}", "true"},
      {"date(\"2021-01-02\") - date and time(\"2021-01-01T10:10:10+11:00\")", "{}",
       "\"P1DT49M50S\""},
  });
}

TEST(Feel, DateAndDurationComparisons) {
  feel_table({
      {"duration(\"PT1H\") > duration(\"PT30M\")", "{}", "true"},
      {"duration(\"P1D\") = duration(\"PT24H\")", "{}", "true"},
      {"duration(\"P1Y\") > duration(\"P11M\")", "{}", "true"},
      {"duration(\"P1Y\") > duration(\"P1D\")", "{}", "null"},
      {"date and time(\"2026-12-01T10:00:00Z\") < now()", "{}", "false"},
      {"date and time(\"2026-12-01T10:00:00Z\") = date and time(\"2026-12-01T11:00:00+01:00\")",
       "{}", "true"},
      {"now() > date and time(\"2026-01-01T00:00:00Z\")", "{}", "true"},
      {"date and time(\"2026-12-01T10:00:00Z\") in [date and "
       "time(\"2026-01-01T00:00:00Z\")..now()]",
       "{}", "true"},
  });
}

TEST(Feel, FunctionNamesWithSpacesNeedTheirParenthesis) {
  // "string" alone is a variable; "string length" is a function only when called.
  feel_table({
      {"string", R"({"string": "s"})", "\"s\""},
      {"string length(\"ab\") + 1", "{}", "3"},
      {"upper  case(\"a\")", "{}", "\"A\""},
  });
}

TEST(Feel, CommentsAreIgnored) {
  feel_table({{"1 + // one\n 2 /* two */", "{}", "3"}});
}

TEST(Feel, StaticTextIsAStringLiteral) {
  EXPECT_EQ(testing::value_of(ExpressionDialect::kStatic, "PT30M"), "PT30M");
  EXPECT_EQ(testing::value_of(ExpressionDialect::kStatic, "a = b ${x}"), "a = b ${x}");
}

// --- Conditions

TEST(Feel, ConditionOnUnsetVariableNamesTheVariable) {
  auto r = testing::condition(kFeel, "price > 0");
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_EQ(std::get<std::string>(r),
            "condition `price > 0` evaluated to null, not a boolean (is variable 'price' set?)");
}

TEST(Feel, ConditionOnTypeMismatchSaysWhatWasCompared) {
  auto r = testing::condition(kFeel, "price > \"a\"", {{"price", 3}});
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_EQ(std::get<std::string>(r),
            "condition `price > \"a\"` evaluated to null, not a boolean (cannot compare number 3 "
            "with string \"a\")");
}

TEST(Feel, ConditionOnNonBooleanNamesTheType) {
  auto r = testing::condition(kFeel, "orderId", {{"orderId", "A-17"}});
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_EQ(std::get<std::string>(r),
            "condition `orderId` evaluated to string \"A-17\", not a boolean");
}

TEST(Feel, ConditionTrueAndFalse) {
  EXPECT_EQ(testing::condition(kFeel, "price > 0", {{"price", 1}}),
            (std::variant<bool, std::string>(true)));
  EXPECT_EQ(testing::condition(kFeel, "price = 0", {{"price", 1}}),
            (std::variant<bool, std::string>(false)));
}

TEST(Feel, SourceTextIsKept) {
  auto c = compile(kFeel, "a + 1");
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const CompiledExpression>>(c));
  EXPECT_EQ(source_text(*std::get<0>(c)), "a + 1");
}

TEST(Feel, EvaluatesWithoutVariables) {
  auto c = compile(kFeel, "x = null");
  Context ctx;
  auto r = evaluate(*std::get<0>(c), ctx);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, true);
}

// --- Compile errors

struct ErrorCase {
  const char* text;
  std::uint32_t offset;
  const char* message;
};

TEST(Feel, CompileErrorsSayWhereAndWhat) {
  const ErrorCase cases[] = {
      {"iban: \"DE456\"", 4,
       "unexpected ':' after 'iban': FEEL has no assignments; a context needs braces, e.g. "
       "{iban: ...}, and a comparison uses '='"},
      {"f(1", 0, "unknown function 'f'; docs/expressions.md lists the functions Ordo supports"},
      {"sum(1", 5,
       "expected ',' or ')' to close the call of sum() opened at offset 3 but found "
       "the end of the expression"},
      {"(a + (b)", 8,
       "expected ')' to close '(' opened at offset 0 but found the end of the expression"},
      {"a == 1", 2,
       "unexpected '==' after a complete expression: FEEL compares with '=', not '=='"},
      {"a && b", 2, "unexpected '&&' after a complete expression: FEEL writes 'and', not '&&'"},
      {"\"abc", 0, "the string opened at offset 0 is never closed: add a closing \""},
      {"'abc'", 0, "FEEL strings use double quotes: write \"text\", not 'text'"},
      {"1abc", 0, "'1abc' is not a number, and a name cannot start with a digit"},
      {"", 0, "the expression is empty: write a value after '='"},
      {"if a then b", 11,
       "expected 'else' (FEEL's 'if' needs both 'then' and 'else') but found the end of the "
       "expression"},
      {"substring(\"a\")", 0, "substring() takes 2 to 3 arguments, got 1"},
      {"now(1)", 0, "now() takes 0 arguments, got 1"},
      {"date and time(\"2026-13-01T00:00:00Z\")", 14,
       "date and time(\"2026-13-01T00:00:00Z\") is not an ISO 8601 date and time such as "
       "\"2026-12-01T10:00:00Z\""},
      {"duration(\"30 minutes\")", 9,
       "duration(\"30 minutes\") is not an ISO 8601 duration such as \"PT30M\" or \"P1DT2H\" "
       "(or \"P1Y2M\": years and months, or days and time, not both)"},
      {"[1..10}", 6, "expected ']' or ')' to close the range opened at offset 0 but found '}'"},
      {"> 5", 0,
       "a test such as '> 5' can only follow 'in', e.g. x in > 5; to compare, write x > 5"},
      {"{a: 1, a: 2}", 7, "the key 'a' appears twice in this context"},
      {"\"a\\u12\"", 2, "'\\u' must be followed by four hex digits, e.g. \\u00e9"},
      {"`open", 0, "the name in backticks opened at offset 0 is never closed: add a closing `"},
      {"for x in y x", 11,
       "expected 'return' after what 'for' iterates (the 'for' at offset 0) but found 'x' (is "
       "an operator or a comma missing? names cannot contain spaces)"},
      {"some in y satisfies true", 5,
       "expected a name to bind after 'some', e.g. some item in items satisfies ... but found "
       "'in' (is an operator or a comma missing? names cannot contain spaces)"},
      {"a b", 2,
       "unexpected 'b' after a complete expression (is an operator or a comma missing? "
       "names cannot contain spaces)"},
      {"x # 1", 2, "unexpected character '#'"},
      {"not x", 0, "FEEL writes not(x), with parentheses"},
      {"a % 2", 2,
       "unexpected '%' after a complete expression: FEEL has no '%' operator; use "
       "modulo(a, b)"},
  };
  for (const ErrorCase& c : cases) {
    CompileError e = testing::compile_error(kFeel, c.text);
    EXPECT_EQ(e.offset, c.offset) << c.text;
    EXPECT_EQ(e.message, c.message) << c.text;
  }
}

TEST(Feel, DeepNestingIsACompileErrorNotACrash) {
  std::string deep(10000, '(');
  deep += "1";
  deep += std::string(10000, ')');
  CompileError e = testing::compile_error(kFeel, deep);
  EXPECT_NE(e.message.find("nested too deeply"), std::string::npos) << e.message;

  std::string minus(10000, '-');
  minus += "1";
  e = testing::compile_error(kFeel, minus);
  EXPECT_NE(e.message.find("nested too deeply"), std::string::npos) << e.message;

  std::string chain = "1";
  for (int i = 0; i < 5000; ++i) chain += " + 1";
  e = testing::compile_error(kFeel, chain);
  EXPECT_NE(e.message.find("too long"), std::string::npos) << e.message;
}

// Nesting is how deep brackets go, not how many there are: a long flat list of lists, a
// chain of filters and a list of a hundred ranges all compile and give their value.
TEST(Feel, ManyBracketsSideBySideAreNotNesting) {
  std::string lists = "[";
  for (int i = 0; i < 100; ++i) lists += (i ? ",[" : "[") + std::to_string(i) + "]";
  lists += "]";
  EXPECT_EQ(feel("count(" + lists + ")"), 100);
  std::string filters = "[1,2]";
  for (int i = 0; i < 80; ++i) filters += "[item > 0]";
  EXPECT_EQ(feel("count(" + filters + ")"), 2);
  std::string sums = "0";
  for (int i = 0; i < 70; ++i) sums += " + count([" + std::to_string(i) + "])";
  EXPECT_EQ(feel(sums), 70);
}

TEST(Feel, ModerateNestingCompiles) {
  std::string nested(40, '(');
  nested += "1";
  nested += std::string(40, ')');
  EXPECT_EQ(feel(nested), 1);
}

// Random token soup: the compiler must answer (a program or an error), never crash, and
// whatever compiles must evaluate.
TEST(Feel, ArbitraryTextNeverCrashes) {
  const char* pieces[] = {"x",    "1",    "\"s\"", "(",       ")",    "[",    "]",
                          "{",    "}",    ":",     ",",       ".",    "..",   "+",
                          "-",    "*",    "/",     "**",      "=",    "!=",   "<",
                          ">=",   "and",  "or",    "in",      "if",   "then", "else",
                          "not(", "sum(", "items", "between", "null", "true", "date and time(",
                          "'",    "\\",   "${",    "?",       "item", "2.5",  "-"};
  const json vars = {{"x", 3}, {"items", {1, 2, {{"a", 1}}}}};
  std::uint32_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const std::uint32_t n = 1 + next() % 12;
    for (std::uint32_t k = 0; k < n; ++k) {
      text += pieces[next() % std::size(pieces)];
      text += ' ';
    }
    for (ExpressionDialect d : {ExpressionDialect::kFeel, ExpressionDialect::kJuel}) {
      std::string source = d == ExpressionDialect::kJuel ? "${" + text + "}" : text;
      auto c = compile(d, source);
      if (auto* e = std::get_if<CompileError>(&c)) {
        EXPECT_LE(e->offset, source.size()) << source;
        EXPECT_FALSE(e->message.empty()) << source;
        continue;
      }
      JsonVariables v(vars);
      Context ctx{&v, testing::kNow};
      (void)evaluate(*std::get<0>(c), ctx);
    }
  }
}

}  // namespace
}  // namespace ordo::expr

namespace ordo::expr {
namespace {

// Built-ins take their arguments by name too, as the FEEL specification names them.
TEST(Feel, NamedArgumentsOfBuiltIns) {
  feel_table({
      {"substring(string: \"abcdef\", start position: 2, length: 3)", "{}", "\"bcd\""},
      {"substring(start position: 3, string: \"abcdef\")", "{}", "\"cdef\""},
      {"abs(n: -4)", "{}", "4"},
      {"modulo(divisor: 3, dividend: 10)", "{}", "1"},
      {"string length(string: \"four\")", "{}", "4"},
      {"date(year: 2026, month: 12, day: 1)", "{}", "\"2026-12-01\""},
      {"count(list: [1, 2])", "{}", "2"},
  });
  for (const char* bad : {"abs(x: 1)", "substring(string: \"a\", length: 1)",
                          "abs(n: 1, n: 2)"}) {
    auto c = compile(ExpressionDialect::kFeel, bad);
    EXPECT_TRUE(std::holds_alternative<CompileError>(c)) << bad;
  }
  auto c = compile(ExpressionDialect::kFeel, "abs(x: 1)");
  ASSERT_TRUE(std::holds_alternative<CompileError>(c));
  EXPECT_EQ(std::get<CompileError>(c).message, "abs() has no parameter 'x'; its parameters: n");
}

}  // namespace
}  // namespace ordo::expr

namespace ordo::expr {
namespace {

TEST(Feel, MoreNumberAndListFunctions) {
  feel_table({
      {"sqrt(16)", "{}", "4"},
      {"sqrt(-1)", "{}", "null"},
      {"log(1)", "{}", "0"},
      {"log(0)", "{}", "null"},
      {"exp(0)", "{}", "1"},
      {"odd(5)", "{}", "true"},
      {"even(5)", "{}", "false"},
      {"even(2.5)", "{}", "null"},
      {"product([2, 3, 4])", "{}", "24"},
      {"product(2, 3)", "{}", "6"},
      {"product([])", "{}", "null"},
      {"median([8, 2, 5, 3, 4])", "{}", "4"},
      {"median([6, 1, 2, 3])", "{}", "2.5"},
      {"stddev([2, 4, 7, 5])", "{}", "2.0816659994661326"},
      {"stddev([1])", "{}", "null"},
      {"mode([6, 3, 9, 6, 6])", "{}", "[6]"},
      {"mode([6, 1, 9, 6, 1])", "{}", "[1,6]"},
      {"mode([])", "{}", "[]"},
      {"median([1, \"a\"])", "{}", "null"},
  });
}

}  // namespace
}  // namespace ordo::expr

namespace ordo::expr {
namespace {

TEST(Feel, ContextEntriesSeeEarlierOnesAndForSeesPartial) {
  feel_table({
      {"{a: 1, b: a + 1}", "{}", R"({"a":1,"b":2})"},
      {"{a: 1, b: a + 1}.b", R"({"a": 10})", "2"},
      {"{b: a + 1, a: 1}.b", R"({"a": 10})", "11"},
      {"for i in 1..5 return if i = 1 then 1 else i * partial[-1]", "{}", "[1,2,6,24,120]"},
      {"for x in [3, 4] return count(partial)", "{}", "[0,1]"},
  });
}

}  // namespace
}  // namespace ordo::expr

namespace ordo::expr {
namespace {

TEST(Feel, RoundingListEditsContextsAndCalendar) {
  feel_table({
      {"round up(5.5, 0)", "{}", "6"},
      {"round up(-5.5, 0)", "{}", "-6"},
      {"round up(1.121, 2)", "{}", "1.13"},
      {"round down(-1.126, 2)", "{}", "-1.12"},
      {"round half up(5.5, 0)", "{}", "6"},
      {"round half up(-5.5, 0)", "{}", "-6"},
      {"round half down(5.5, 0)", "{}", "5"},
      {"round half down(1.126, 2)", "{}", "1.13"},
      {"floor(-1.5, 0)", "{}", "-2"},
      {"ceiling(1.121, 2)", "{}", "1.13"},
      {"remove([1, 2, 3], 2)", "{}", "[1,3]"},
      {"remove([1, 2, 3], -1)", "{}", "[1,2]"},
      {"remove([1], 5)", "{}", "null"},
      {"insert before([1, 3], 2, 2)", "{}", "[1,2,3]"},
      {"list replace([1, 9, 3], 2, 2)", "{}", "[1,2,3]"},
      {"sublist([1, 2, 3, 4], 2, 2)", "{}", "[2,3]"},
      {"union([1, 2], [2, 3])", "{}", "[1,2,3]"},
      {"get value({a: 1}, \"a\")", "{}", "1"},
      {"get entries({a: 1})", "{}", R"([{"key":"a","value":1}])"},
      {"context([{key: \"a\", value: 1}])", "{}", R"({"a":1})"},
      {"context([{key: \"a\", value: 1}, {key: \"a\", value: 2}])", "{}", "null"},
      {"context put({a: 1}, \"b\", 2)", "{}", R"({"a":1,"b":2})"},
      {"context put({a: {b: 1}}, [\"a\", \"b\"], 2)", "{}", R"({"a":{"b":2}})"},
      {"context merge([{a: 1}, {a: 2, b: 3}])", "{}", R"({"a":2,"b":3})"},
      {"day of week(date(\"2026-12-07\"))", "{}", "\"Monday\""},
      {"day of year(date(\"2024-12-31\"))", "{}", "366"},
      {"week of year(date(\"2021-01-03\"))", "{}", "53"},
      {"week of year(date(\"2026-12-07\"))", "{}", "50"},
      {"month of year(date(\"2026-02-01\"))", "{}", "\"February\""},
  });
}

}  // namespace
}  // namespace ordo::expr

namespace ordo::expr {
namespace {

// From a review: a filter's item beats names bound around it, dates bound to names stay
// dates, and rounding has no noise of its own.
TEST(Feel, FiltersBoundDatesAndExactRounding) {
  const char* people = R"({"people": [{"name": "Alice"}, {"name": "Bob"}]})";
  feel_table({
      {"{name: \"Bob\", hits: people[name = \"Alice\"]}.hits", people, R"([{"name":"Alice"}])"},
      {"{d: date(\"2024-01-01\"), n: d + duration(\"P1D\")}.n", "{}", "\"2024-01-02\""},
      {"{d: date(\"2024-01-01\")}", "{}", R"({"d":"2024-01-01"})"},
      {"for i in 1..3 return if i = 1 then date(\"2024-01-01\") else partial[-1] + duration(\"P1D\")",
       "{}", R"(["2024-01-01","2024-01-02","2024-01-03"])"},
      {"sublist([1, 2, 3], 2, 9223372036854775807)", "{}", "null"},
      {"round down(0.9999996, 0)", "{}", "0"},
      {"ceiling(1.0000001, 0)", "{}", "2"},
      {"floor(802855, -5)", "{}", "800000"},
      {"round half up(2.4999996, 0)", "{}", "2"},
      {"round half up(1.135, 2)", "{}", "1.14"},
      {"decimal(3.4999996, 0)", "{}", "3"},
      {"even(2.0)", "{}", "true"},
      {"list replace([1, 9, 3], 2.5, 2)", "{}", "[1,2,3]"},
      {"union([1], 2)", "{}", "null"},
  });
  EXPECT_TRUE(std::holds_alternative<CompileError>(
      compile(ExpressionDialect::kFeel, "@\"2026-12-1\"")));
}

}  // namespace
}  // namespace ordo::expr
