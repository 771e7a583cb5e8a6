// `ordo decide` (cli/decide_command.cc) as a user runs it: a decision table evaluated from
// the command line, and what it says about bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "durability/durability_util.h"

namespace ordo::decide_command_test {
namespace {

using nlohmann::json;
using testing::ProcessRun;
using testing::run_ordo;
using testing::TempDir;

bool mentions(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The last line with text: the result, after any diagnostics on stderr.
std::string last_line(const std::string& out) {
  std::string text = out;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  const std::size_t newline = text.rfind('\n');
  return newline == std::string::npos ? text : text.substr(newline + 1);
}

// Shipping by order total and country; hit policy FIRST, so the catch-all rule comes last.
const std::string kShipping = R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="shipping-definitions"
             name="Shipping" namespace="https://example.com/ordo/shipping">
  <decision id="shipping" name="Shipping">
    <variable name="Shipping"/>
    <informationRequirement id="requires-total">
      <requiredInput href="#order-total"/>
    </informationRequirement>
    <informationRequirement id="requires-country">
      <requiredInput href="#country"/>
    </informationRequirement>
    <decisionTable id="shipping-table" hitPolicy="FIRST">
      <input id="input-total" label="order total">
        <inputExpression id="input-total-expression" typeRef="number">
          <text>order total</text>
        </inputExpression>
      </input>
      <input id="input-country" label="country">
        <inputExpression id="input-country-expression" typeRef="string">
          <text>country</text>
        </inputExpression>
      </input>
      <output id="output-carrier" name="carrier" typeRef="string"/>
      <output id="output-insured" name="insured" typeRef="boolean"/>
      <rule id="insured-dhl">
        <inputEntry id="insured-dhl-total"><text>&gt;= 100</text></inputEntry>
        <inputEntry id="insured-dhl-country"><text>"DE"</text></inputEntry>
        <outputEntry id="insured-dhl-carrier"><text>"DHL"</text></outputEntry>
        <outputEntry id="insured-dhl-insured"><text>true</text></outputEntry>
      </rule>
      <rule id="small-order">
        <inputEntry id="small-order-total"><text>&lt; 100</text></inputEntry>
        <inputEntry id="small-order-country"><text>-</text></inputEntry>
        <outputEntry id="small-order-carrier"><text>"DHL"</text></outputEntry>
        <outputEntry id="small-order-insured"><text>false</text></outputEntry>
      </rule>
      <rule id="otherwise">
        <inputEntry id="otherwise-total"><text>-</text></inputEntry>
        <inputEntry id="otherwise-country"><text>-</text></inputEntry>
        <outputEntry id="otherwise-carrier"><text>"UPS"</text></outputEntry>
        <outputEntry id="otherwise-insured"><text>true</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <inputData id="order-total" name="order total">
    <variable name="order total" typeRef="number"/>
  </inputData>
  <inputData id="country" name="country">
    <variable name="country" typeRef="string"/>
  </inputData>
</definitions>
)";

class DecideCommand : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_.path(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  // `ordo decide FILE --decision Shipping --vars VARS --json`, its one line parsed.
  json decide(const std::string& file, const std::string& vars) {
    const ProcessRun r = run_ordo({"decide", file, "--decision", "Shipping", "--vars", vars,
                                   "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return json::parse(last_line(r.out), nullptr, false);
  }
  TempDir dir_{"decide"};
};

TEST_F(DecideCommand, PrintsTheResultOfTheFirstMatchingRule) {
  const std::string file = write("shipping.dmn", kShipping);
  EXPECT_EQ(decide(file, R"({"order total":120,"country":"DE"})"),
            json::parse(R"({"result":{"carrier":"DHL","insured":true}})"));
  // Both "< 100" and the catch-all match: FIRST takes the earlier.
  EXPECT_EQ(decide(file, R"({"order total":80,"country":"DE"})"),
            json::parse(R"({"result":{"carrier":"DHL","insured":false}})"));
  EXPECT_EQ(decide(file, R"({"order total":120,"country":"FR"})"),
            json::parse(R"({"result":{"carrier":"UPS","insured":true}})"));
}

// A third of a number, to see digits go in and come out whole.
const std::string kThird = R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="third-definitions"
             name="Third" namespace="https://example.com/ordo/third">
  <inputData id="amount" name="amount"><variable name="amount" typeRef="number"/></inputData>
  <decision id="third" name="Third">
    <variable name="Third" typeRef="number"/>
    <informationRequirement id="requires-amount"><requiredInput href="#amount"/></informationRequirement>
    <literalExpression id="third-expression"><text>amount / 3</text></literalExpression>
  </decision>
  <decision id="sum" name="Sum">
    <variable name="Sum" typeRef="number"/>
    <informationRequirement id="sum-amount"><requiredInput href="#amount"/></informationRequirement>
    <literalExpression id="sum-expression"><text>amount + 0.2</text></literalExpression>
  </decision>
</definitions>
)";

TEST_F(DecideCommand, NumbersGoInAsWrittenAndComeOutInFull) {
  const std::string file = write("third.dmn", kThird);
  const auto run = [&](const std::string& decision, const std::string& vars) {
    const ProcessRun r = run_ordo({"decide", file, "--decision", decision, "--vars", vars,
                                   "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return last_line(r.out);
  };
  // 34 digits, as FEEL's decimals have; a double would print 0.3333333333333333.
  EXPECT_EQ(run("Third", R"({"amount": 1})"), R"({"result":0.3333333333333333333333333333333333})");
  // 21 significant digits in: a double would have made them 1.0.
  EXPECT_EQ(run("Third", R"({"amount": 1.00000000000000000003})"),
            R"({"result":0.3333333333333333333433333333333333})");
  // 0.1 is 0.1, not the double nearest it: the sum is 0.3 exactly.
  EXPECT_EQ(run("Sum", R"({"amount": 0.1})"), R"({"result":0.3})");
}

TEST_F(DecideCommand, AnUnknownDecisionIsNamedAndExitsOne) {
  const std::string file = write("shipping.dmn", kShipping);
  const ProcessRun r = run_ordo({"decide", file, "--decision", "Delivery Window", "--vars",
                                 R"({"order total":120,"country":"DE"})"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(mentions(r.out, "ordo decide: ")) << r.out;
  EXPECT_TRUE(mentions(r.out, "Delivery Window")) << r.out;
}

TEST_F(DecideCommand, BadUsageSaysWhatToWriteAndExitsTwo) {
  const std::string file = write("shipping.dmn", kShipping);
  const ProcessRun not_json =
      run_ordo({"decide", file, "--decision", "Shipping", "--vars", "not json"});
  EXPECT_EQ(not_json.exit_code, 2) << not_json.out;
  EXPECT_TRUE(mentions(not_json.out, "--vars")) << not_json.out;
  EXPECT_TRUE(mentions(not_json.out, "JSON object")) << not_json.out;
  const ProcessRun not_object =
      run_ordo({"decide", file, "--decision", "Shipping", "--vars", "[120, \"DE\"]"});
  EXPECT_EQ(not_object.exit_code, 2) << not_object.out;
  EXPECT_TRUE(mentions(not_object.out, "JSON object")) << not_object.out;
  const ProcessRun nothing_named = run_ordo({"decide", file, "--vars", "{}"});
  EXPECT_EQ(nothing_named.exit_code, 2) << nothing_named.out;
  EXPECT_TRUE(mentions(nothing_named.out, "--decision")) << nothing_named.out;
  EXPECT_EQ(run_ordo({"decide", file, "--decision", "Shipping", "--service", "Shipping"})
                .exit_code,
            2);
  const ProcessRun help = run_ordo({"decide", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(mentions(help.out, "Usage:")) << help.out;
}

TEST_F(DecideCommand, AFeelSyntaxErrorIsReportedAtItsLineAndNothingIsEvaluated) {
  std::string text = kShipping;
  const std::string good = "<text>&gt;= 100</text>";
  const std::size_t at = text.find(good);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, good.size(), "<text>&gt;= (100</text>");
  const std::ptrdiff_t line =
      std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n') + 1;
  const std::string file = write("broken.dmn", text);
  const ProcessRun r = run_ordo({"decide", file, "--decision", "Shipping", "--vars",
                                 R"({"order total":120,"country":"DE"})", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const std::string where = file + ":" + std::to_string(line) + ":";
  const std::size_t found = r.out.find(where);
  ASSERT_NE(found, std::string::npos) << "expected " << where << "COL in:\n" << r.out;
  const std::size_t column = found + where.size();
  ASSERT_LT(column, r.out.size());
  EXPECT_TRUE(r.out[column] >= '1' && r.out[column] <= '9') << r.out;
  EXPECT_TRUE(mentions(r.out, "error:")) << r.out;
  EXPECT_FALSE(mentions(r.out, "\"result\"")) << "nothing is evaluated: " << r.out;
}

}  // namespace
}  // namespace ordo::decide_command_test

namespace ordo::decide_command_test {
namespace {

// The shipped decisions, as docs/cli.md and docs/dmn.md show them.
TEST(DecideShipped, ShippingAndItsCost) {
  const std::string file = std::string(ORDO_SOURCE_DIR) + "/processes/shipping.dmn";
  auto run = [&](const char* decision, const char* vars) {
    const ProcessRun r = run_ordo({"decide", file, "--decision", decision, "--vars", vars, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return nlohmann::json::parse(r.out, nullptr, false);
  };
  using nlohmann::json;
  EXPECT_EQ(run("Shipping", R"({"total": 120, "country": "DE"})"),
            json::parse(R"({"result":{"carrier":"DHL","insured":true}})"));
  EXPECT_EQ(run("Shipping", R"({"total": 120, "country": "US"})"),
            json::parse(R"({"result":{"carrier":"UPS","insured":true}})"));
  EXPECT_EQ(run("Shipping", R"({"total": 40, "country": "AT"})"),
            json::parse(R"({"result":{"carrier":"Hermes","insured":false}})"));
  EXPECT_EQ(run("Shipping", R"({"total": 40, "country": "FR"})"),
            json::parse(R"({"result":{"carrier":"DHL","insured":false}})"));
  EXPECT_EQ(run("Shipping cost", R"({"total": 120, "country": "US"})"),
            json::parse(R"({"result":6.1})"));
  EXPECT_EQ(run("shipping-cost", R"({"total": 40, "country": "US"})"),
            json::parse(R"({"result":4.9})"));
}

}  // namespace
}  // namespace ordo::decide_command_test
