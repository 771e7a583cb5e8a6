// DMN decisions through the public API: hit policies and their errors, input values, types,
// the requirement graph, knowledge models, decision services, and the diagnostics of bad
// files.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "ordo/decision.h"
#include "ordo/engine.h"
#include "ordo/loader.h"

namespace ordo {
namespace {

using nlohmann::json;

// A DMN 1.3 file around `body`.
std::string dmn(const std::string& body) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs" name="test"
             namespace="http://ordo.test/dmn">
)" + body + "\n</definitions>\n";
}

// A decision table decision `name` over input data `Amount` (number) and `Country`.
std::string table(const std::string& name, const std::string& hit, const std::string& rules,
                  const std::string& extra_output = "") {
  return R"(<decision id=")" + name + R"(" name=")" + name + R"(">
  <informationRequirement id=")" + name + R"(-r1"><requiredInput href="#amount"/></informationRequirement>
  <informationRequirement id=")" + name + R"(-r2"><requiredInput href="#country"/></informationRequirement>
  <decisionTable id=")" + name + R"(-t" hitPolicy=")" + hit + R"(">
    <input id=")" + name + R"(-i1" label="Amount"><inputExpression typeRef="number"><text>Amount</text></inputExpression></input>
    <input id=")" + name + R"(-i2" label="Country"><inputExpression typeRef="string"><text>Country</text></inputExpression>
      <inputValues><text>"DE","FR","US"</text></inputValues></input>
    <output id=")" + name + R"(-o1" name="carrier" typeRef="string"><outputValues><text>"DHL","UPS"</text></outputValues></output>
)" + extra_output + R"(
)" + rules + R"(
  </decisionTable>
</decision>
<inputData id="amount" name="Amount"><variable name="Amount" typeRef="number"/></inputData>
<inputData id="country" name="Country"><variable name="Country" typeRef="string"/></inputData>)";
}

std::string rule(const std::string& id, const std::string& amount, const std::string& country,
                 const std::string& carrier, const std::string& extra = "") {
  return R"(<rule id=")" + id + R"("><inputEntry><text>)" + amount +
         R"(</text></inputEntry><inputEntry><text>)" + country +
         R"(</text></inputEntry><outputEntry><text>)" + carrier + "</text></outputEntry>" + extra +
         "</rule>";
}

std::shared_ptr<const DecisionModel> load(const std::string& xml) {
  DecisionLoad l = load_decisions({DecisionSource{"test.dmn", xml}});
  for (const Diagnostic& d : l.diagnostics) ADD_FAILURE() << format_diagnostic(d);
  return l.model;
}

json eval(const DecisionModel& m, const std::string& decision, const json& inputs,
          DecisionTrace* trace = nullptr) {
  DecisionOptions o;
  o.trace = trace;
  auto r = evaluate_decision(m, decision, inputs, o);
  return r ? *r : json("error: " + r.status().message());
}

const std::string kTwoRules = rule("r1", "&gt;= 100", "\"DE\"", "\"DHL\"") +
                              rule("r2", "-", "\"DE\",\"FR\"", "\"UPS\"");

TEST(Dmn, HitPolicies) {
  auto m = load(dmn(table("U", "UNIQUE", kTwoRules) ));
  ASSERT_TRUE(m);
  EXPECT_EQ(eval(*m, "U", {{"Amount", 50}, {"Country", "FR"}}), "UPS");
  json both = eval(*m, "U", {{"Amount", 150}, {"Country", "DE"}});
  EXPECT_NE(both.get<std::string>().find("rules r1, r2 all match, but hit policy UNIQUE"),
            std::string::npos)
      << both;
  // No rule matches and no default: null.
  EXPECT_EQ(eval(*m, "U", {{"Amount", 150}, {"Country", "US"}}), nullptr);

  struct Case {
    const char* hit;
    json expected;
  };
  for (const Case& c : {Case{"FIRST", "DHL"}, Case{"PRIORITY", "DHL"},
                        Case{"RULE ORDER", json::array({"DHL", "UPS"})},
                        Case{"OUTPUT ORDER", json::array({"DHL", "UPS"})},
                        Case{"COLLECT", json::array({"DHL", "UPS"})}}) {
    // Rules listed UPS first, so PRIORITY and OUTPUT ORDER must reorder by output values.
    auto t = load(dmn(table("T", c.hit,
                            rule("r2", "-", "\"DE\",\"FR\"", "\"UPS\"") +
                                rule("r1", "&gt;= 100", "\"DE\"", "\"DHL\""))));
    ASSERT_TRUE(t);
    json got = eval(*t, "T", {{"Amount", 150}, {"Country", "DE"}});
    if (std::string(c.hit) == "FIRST") {
      EXPECT_EQ(got, "UPS") << c.hit;
    } else if (std::string(c.hit) == "RULE ORDER" || std::string(c.hit) == "COLLECT") {
      EXPECT_EQ(got, json::array({"UPS", "DHL"})) << c.hit;
    } else {
      EXPECT_EQ(got, c.expected) << c.hit;
    }
  }
  auto any = load(dmn(table("A", "ANY", kTwoRules)));
  ASSERT_TRUE(any);
  EXPECT_NE(eval(*any, "A", {{"Amount", 150}, {"Country", "DE"}}).get<std::string>().find("ANY"),
            std::string::npos);
}

TEST(Dmn, CollectAggregations) {
  const std::string rules = R"(<rule id="a"><inputEntry><text>-</text></inputEntry><outputEntry><text>3</text></outputEntry></rule>
<rule id="b"><inputEntry><text>&gt; 1</text></inputEntry><outputEntry><text>4</text></outputEntry></rule>
<rule id="c"><inputEntry><text>&gt; 2</text></inputEntry><outputEntry><text>3</text></outputEntry></rule>)";
  for (auto [agg, expected] : {std::pair<std::string, json>{"SUM", 10}, {"MIN", 3}, {"MAX", 4},
                               {"COUNT", 3}}) {
    auto m = load(dmn(R"(<decision id="d" name="d"><decisionTable hitPolicy="COLLECT" aggregation=")" +
                      agg + R"("><input><inputExpression><text>x</text></inputExpression></input>
<output name="n" typeRef="number"/>)" + rules + "</decisionTable></decision>"));
    ASSERT_TRUE(m);
    EXPECT_EQ(eval(*m, "d", {{"x", 5}}), expected) << agg;
  }
}

TEST(Dmn, InputValuesAndTypes) {
  auto m = load(dmn(table("U", "UNIQUE", kTwoRules)));
  ASSERT_TRUE(m);
  json wrong = eval(*m, "U", {{"Amount", 5}, {"Country", "IT"}});
  EXPECT_NE(wrong.get<std::string>().find("input 'Country' is \"IT\", not one of its input values"),
            std::string::npos)
      << wrong;
  // An input of the wrong type is null (DMN 1.3 10.3.2.9): no rule for null matches.
  EXPECT_EQ(eval(*m, "U", {{"Amount", "lots"}, {"Country", "DE"}}), "UPS");
}

TEST(Dmn, DefaultOutputsAndSeveralOutputs) {
  const std::string out2 =
      R"(<output id="o2" name="insured" typeRef="boolean"><defaultOutputEntry><text>false</text></defaultOutputEntry></output>)";
  const std::string rules =
      rule("r1", "&gt;= 100", "\"DE\"", "\"DHL\"", "<outputEntry><text>true</text></outputEntry>");
  std::string xml = dmn(table("S", "UNIQUE", rules, out2));
  // The carrier output gets a default too.
  xml.replace(xml.find("</outputValues></output>"), 24,
              "</outputValues><defaultOutputEntry><text>\"UPS\"</text></defaultOutputEntry></output>");
  auto m = load(xml);
  ASSERT_TRUE(m);
  EXPECT_EQ(eval(*m, "S", {{"Amount", 120}, {"Country", "DE"}}),
            json::parse(R"({"carrier":"DHL","insured":true})"));
  EXPECT_EQ(eval(*m, "S", {{"Amount", 20}, {"Country", "DE"}}),
            json::parse(R"({"carrier":"UPS","insured":false})"));
}

TEST(Dmn, RequiredDecisionsOnceAndTrace) {
  const std::string xml = dmn(table("Carrier", "FIRST", kTwoRules) + R"(
<decision id="label" name="Label">
  <informationRequirement id="l1"><requiredDecision href="#Carrier"/></informationRequirement>
  <informationRequirement id="l2"><requiredDecision href="#cost"/></informationRequirement>
  <literalExpression><text>Carrier + " " + string(Shipping Cost)</text></literalExpression>
</decision>
<decision id="cost" name="Shipping Cost">
  <informationRequirement id="c1"><requiredDecision href="#Carrier"/></informationRequirement>
  <literalExpression><text>if Carrier = "DHL" then 5 else 7</text></literalExpression>
</decision>)");
  auto m = load(xml);
  ASSERT_TRUE(m);
  DecisionTrace trace;
  EXPECT_EQ(eval(*m, "label", {{"Amount", 150}, {"Country", "DE"}}, &trace), "DHL 5");
  ASSERT_EQ(trace.tables.size(), 1u);  // Carrier evaluated once for both that need it
  EXPECT_EQ(trace.tables[0].decision_id, "Carrier");
  EXPECT_EQ(trace.tables[0].rule_ids, (std::vector<std::string>{"r1"})) << "FIRST: r1 gave it";
  // By id or by name alike.
  EXPECT_EQ(eval(*m, "Label", {{"Amount", 1}, {"Country", "FR"}}), "UPS 7");
  auto missing = evaluate_decision(*m, "Labels", json::object());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'Label'"), std::string::npos);
}

TEST(Dmn, KnowledgeModelsAndInvocations) {
  auto m = load(dmn(R"(
<businessKnowledgeModel id="fee" name="Fee Of">
  <encapsulatedLogic>
    <formalParameter name="amount" typeRef="number"/>
    <formalParameter name="rate" typeRef="number"/>
    <literalExpression><text>amount * rate</text></literalExpression>
  </encapsulatedLogic>
</businessKnowledgeModel>
<decision id="d1" name="Positional">
  <knowledgeRequirement id="k1"><requiredKnowledge href="#fee"/></knowledgeRequirement>
  <literalExpression><text>Fee Of(200, 0.5)</text></literalExpression>
</decision>
<decision id="d2" name="Named">
  <knowledgeRequirement id="k2"><requiredKnowledge href="#fee"/></knowledgeRequirement>
  <literalExpression><text>Fee Of(rate: 0.25, amount: 200)</text></literalExpression>
</decision>
<decision id="d3" name="Boxed">
  <knowledgeRequirement id="k3"><requiredKnowledge href="#fee"/></knowledgeRequirement>
  <invocation>
    <literalExpression><text>Fee Of</text></literalExpression>
    <binding><parameter name="amount"/><literalExpression><text>40</text></literalExpression></binding>
    <binding><parameter name="rate"/><literalExpression><text>0.5</text></literalExpression></binding>
  </invocation>
</decision>
<decision id="d4" name="Context">
  <context>
    <contextEntry><variable name="base"/><literalExpression><text>10</text></literalExpression></contextEntry>
    <contextEntry><variable name="twice"/>
      <functionDefinition><formalParameter name="x"/><literalExpression><text>x * 2 + base</text></literalExpression></functionDefinition>
    </contextEntry>
    <contextEntry><literalExpression><text>twice(base)</text></literalExpression></contextEntry>
  </context>
</decision>
<decision id="d5" name="Wrong">
  <literalExpression><text>Fee Of(rate: 1, size: 2)</text></literalExpression>
</decision>)"));
  ASSERT_TRUE(m);
  EXPECT_EQ(eval(*m, "Positional", json::object()), 100);
  EXPECT_EQ(eval(*m, "Named", json::object()), 50);
  EXPECT_EQ(eval(*m, "Boxed", json::object()), 20);
  EXPECT_EQ(eval(*m, "Context", json::object()), 30);
  EXPECT_EQ(eval(*m, "Wrong", json::object()), "error: 'Fee Of' has no parameter 'size'");
}

TEST(Dmn, LiteralFunctionsAndTheBoxedExpressionsOfDmn15) {
  auto m = load(dmn(R"(
<inputData id="lines" name="Lines"><variable name="Lines"/></inputData>
<decision id="f" name="Literal function">
  <context>
    <contextEntry><variable name="net price"/>
      <literalExpression><text>function(gross, vat rate) gross / (1 + vat rate)</text></literalExpression>
    </contextEntry>
    <contextEntry><literalExpression><text>net price(119, 0.19)</text></literalExpression></contextEntry>
  </context>
</decision>
<decision id="c" name="Conditional">
  <informationRequirement id="c-r"><requiredInput href="#lines"/></informationRequirement>
  <conditional>
    <if><literalExpression><text>count(Lines) &gt; 2</text></literalExpression></if>
    <then><literalExpression><text>"bulk"</text></literalExpression></then>
    <else><literalExpression><text>"single"</text></literalExpression></else>
  </conditional>
</decision>
<decision id="fi" name="Filter">
  <informationRequirement id="fi-r"><requiredInput href="#lines"/></informationRequirement>
  <filter>
    <in><literalExpression><text>Lines</text></literalExpression></in>
    <match><literalExpression><text>qty &gt; 1</text></literalExpression></match>
  </filter>
</decision>
<decision id="fo" name="For">
  <informationRequirement id="fo-r"><requiredInput href="#lines"/></informationRequirement>
  <for iteratorVariable="line">
    <in><literalExpression><text>Lines</text></literalExpression></in>
    <return><literalExpression><text>line.qty * 10</text></literalExpression></return>
  </for>
</decision>
<decision id="ev" name="Every">
  <informationRequirement id="ev-r"><requiredInput href="#lines"/></informationRequirement>
  <every iteratorVariable="line">
    <in><literalExpression><text>Lines</text></literalExpression></in>
    <satisfies><literalExpression><text>line.qty &gt; 0</text></literalExpression></satisfies>
  </every>
</decision>
<decision id="so" name="Some">
  <informationRequirement id="so-r"><requiredInput href="#lines"/></informationRequirement>
  <some iteratorVariable="line">
    <in><literalExpression><text>Lines</text></literalExpression></in>
    <satisfies><literalExpression><text>line.qty &gt; 5</text></literalExpression></satisfies>
  </some>
</decision>)"));
  ASSERT_TRUE(m);
  const json lines = {{"Lines", json::parse(R"([{"qty": 1}, {"qty": 3}, {"qty": 2}])")}};
  EXPECT_EQ(eval(*m, "Literal function", json::object()), 100);
  EXPECT_EQ(eval(*m, "Conditional", lines), "bulk");
  EXPECT_EQ(eval(*m, "Filter", lines), json::parse(R"([{"qty": 3}, {"qty": 2}])"));
  EXPECT_EQ(eval(*m, "For", lines), json::parse("[10, 30, 20]"));
  EXPECT_EQ(eval(*m, "Every", lines), true);
  EXPECT_EQ(eval(*m, "Some", lines), false);
  EXPECT_EQ(eval(*m, "Conditional", {{"Lines", json::array({1})}}), "single");
  // A part that is missing is a load error at its line.
  DecisionLoad broken = load_decisions({DecisionSource{"broken.dmn", dmn(R"(
<decision id="b" name="Broken">
  <for iteratorVariable="x"><in><literalExpression><text>[1]</text></literalExpression></in></for>
</decision>)")}});
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(format_diagnostic(broken.diagnostics.at(0)).find("the for has no <return> [missing-part]"),
            std::string::npos)
      << format_diagnostic(broken.diagnostics.at(0));
}

TEST(Dmn, DecisionJsonKeepsDigitsAndPrintsOnlyNumbers) {
  const std::optional<json> in = parse_decision_json(R"({"a": 0.1, "b": 1.00000000000000000001})");
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ((*in)["a"], 0.1);
  EXPECT_EQ((*in)["b"], json::parse(R"({"@type": "number", "value": "1.00000000000000000001"})"));
  EXPECT_EQ(dump_decision_json(*in), R"({"a":0.1,"b":1.00000000000000000001})");
  EXPECT_FALSE(parse_decision_json("{\"a\": }").has_value());
  // A typed number whose text is no number is printed as the object it is, never raw.
  const json forged = json::parse(R"({"x": {"@type": "number", "value": "1,\"admin\":true"}})");
  EXPECT_EQ(json::parse(dump_decision_json(forged)), forged);
}

TEST(Dmn, AContextOfAStructuredTypeHasEveryComponentAndArgumentsAreOfTheirType) {
  auto m = load(dmn(R"(
<itemDefinition name="tCustomer">
  <itemComponent name="name"><typeRef>string</typeRef></itemComponent>
  <itemComponent name="tier"><typeRef>number</typeRef></itemComponent>
</itemDefinition>
<businessKnowledgeModel id="greet" name="Greeting">
  <encapsulatedLogic>
    <formalParameter name="customer" typeRef="tCustomer"/>
    <literalExpression><text>"Hello " + customer.name</text></literalExpression>
  </encapsulatedLogic>
</businessKnowledgeModel>
<decision id="whole" name="Whole">
  <knowledgeRequirement id="w-k"><requiredKnowledge href="#greet"/></knowledgeRequirement>
  <literalExpression><text>Greeting({name: "Ann", tier: 1})</text></literalExpression>
</decision>
<decision id="partial" name="Partial">
  <knowledgeRequirement id="p-k"><requiredKnowledge href="#greet"/></knowledgeRequirement>
  <literalExpression><text>Greeting({name: "Ann"})</text></literalExpression>
</decision>
<decision id="typed" name="Typed">
  <variable name="Typed" typeRef="tCustomer"/>
  <literalExpression><text>{name: "Ann", tier: null}</text></literalExpression>
</decision>)"));
  ASSERT_TRUE(m);
  EXPECT_EQ(eval(*m, "Whole", json::object()), "Hello Ann");
  // Without `tier` the context is no tCustomer: the call has no result (not "Hello Ann").
  EXPECT_EQ(eval(*m, "Partial", json::object()), nullptr);
  EXPECT_EQ(eval(*m, "Typed", json::object()), json::parse(R"({"name": "Ann", "tier": null})"));
}

TEST(Dmn, ADecisionCanReturnALibraryOfFunctionsForAnotherToCall) {
  auto m = load(dmn(R"(
<decision id="lib" name="Pricing">
  <context>
    <contextEntry><variable name="vat"/><literalExpression><text>0.19</text></literalExpression></contextEntry>
    <contextEntry><variable name="gross"/>
      <literalExpression><text>function(net) net * (1 + vat)</text></literalExpression>
    </contextEntry>
    <contextEntry><variable name="discounted"/>
      <functionDefinition><formalParameter name="price"/><formalParameter name="percent"/>
        <literalExpression><text>price * (100 - percent) / 100</text></literalExpression>
      </functionDefinition>
    </contextEntry>
  </context>
</decision>
<decision id="use" name="Price">
  <informationRequirement id="use-r"><requiredDecision href="#lib"/></informationRequirement>
  <literalExpression><text>Pricing.discounted(percent: 10, price: Pricing.gross(100))</text></literalExpression>
</decision>)"));
  ASSERT_TRUE(m);
  // The function sees the context's entries before it (vat), wherever it is called from.
  EXPECT_EQ(eval(*m, "Price", json::object()), 107.1);
  const json library = eval(*m, "Pricing", json::object());
  EXPECT_EQ(library["vat"], 0.19);
  EXPECT_EQ(library["gross"]["@type"], "function");
}

TEST(Dmn, DecisionServices) {
  auto m = load(dmn(R"(
<decisionService id="svc" name="Price Service">
  <outputDecision href="#total"/>
  <inputDecision href="#base"/>
  <inputData href="#qty"/>
</decisionService>
<decision id="base" name="Base Price"><literalExpression><text>1000</text></literalExpression></decision>
<decision id="total" name="Total">
  <informationRequirement id="t1"><requiredDecision href="#base"/></informationRequirement>
  <informationRequirement id="t2"><requiredInput href="#qty"/></informationRequirement>
  <literalExpression><text>Base Price * Quantity</text></literalExpression>
</decision>
<inputData id="qty" name="Quantity"><variable name="Quantity" typeRef="number"/></inputData>
<decision id="caller" name="Caller">
  <knowledgeRequirement id="c1"><requiredKnowledge href="#svc"/></knowledgeRequirement>
  <literalExpression><text>Price Service(3, 2)</text></literalExpression>
</decision>)"));
  ASSERT_TRUE(m);
  // The input decision comes from the caller, not from its own logic.
  auto r = evaluate_decision_service(*m, "Price Service", {{"Base Price", 7}, {"Quantity", 3}});
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(*r, 21);
  EXPECT_EQ(eval(*m, "Total", {{"Quantity", 3}}), 3000);
  EXPECT_EQ(eval(*m, "Caller", json::object()), 6);
}

// Camunda 7 tables read process variables directly, without inputData elements.
TEST(Dmn, TablesWithoutInputData) {
  auto m = load(dmn(R"(<decision id="dish" name="Dish"><decisionTable>
<input><inputExpression typeRef="string"><text>season</text></inputExpression></input>
<output name="dish" typeRef="string"/>
<rule id="a"><inputEntry><text>"Winter"</text></inputEntry><outputEntry><text>"Roastbeef"</text></outputEntry></rule>
<rule id="b"><inputEntry><text>not("Winter")</text></inputEntry><outputEntry><text>"Salad"</text></outputEntry></rule>
</decisionTable></decision>)"));
  ASSERT_TRUE(m);
  EXPECT_EQ(eval(*m, "dish", {{"season", "Winter"}}), "Roastbeef");
  EXPECT_EQ(eval(*m, "dish", {{"season", "Spring"}}), "Salad");
}

std::vector<Diagnostic> problems(const std::string& xml) {
  return load_decisions({DecisionSource{"bad.dmn", xml}}).diagnostics;
}

TEST(Dmn, DiagnosticsNameFileLineAndRule) {
  std::vector<Diagnostic> d = problems(dmn(table("U", "UNIQUE",
                                                 rule("r1", "&gt;= (100", "\"DE\"", "\"DHL\""))));
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d[0].rule, "feel-syntax");
  EXPECT_EQ(d[0].file, "bad.dmn");
  EXPECT_GT(d[0].line, 1u);
  EXPECT_NE(d[0].message.find("the input entry '>= (100' does not compile (at character"),
            std::string::npos)
      << d[0].message;

  d = problems(dmn(R"(<decision id="a" name="A">
  <informationRequirement id="r"><requiredDecision href="#Bee"/></informationRequirement>
  <literalExpression><text>1</text></literalExpression></decision>
<decision id="Be" name="B"><literalExpression><text>1</text></literalExpression></decision>)"));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].rule, "unknown-reference");
  EXPECT_NE(d[0].message.find("did you mean 'Be'"), std::string::npos) << d[0].message;

  d = problems(dmn(R"(<decision id="a" name="A">
  <informationRequirement id="r1"><requiredDecision href="#b"/></informationRequirement>
  <literalExpression><text>B</text></literalExpression></decision>
<decision id="b" name="B">
  <informationRequirement id="r2"><requiredDecision href="#a"/></informationRequirement>
  <literalExpression><text>A</text></literalExpression></decision>)"));
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d[0].rule, "requirement-cycle");

  d = problems(dmn(R"(<decision id="d" name="d"><decisionTable hitPolicy="SOMETIMES">
<input><inputExpression><text>x</text></inputExpression></input><output name="o"/>
<rule id="r"><inputEntry><text>1</text></inputEntry></rule></decisionTable></decision>)"));
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].rule, "unknown-hit-policy");
  EXPECT_EQ(d[1].rule, "rule-size");

  d = problems("<definitions xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"/>");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].rule, "not-dmn");
  d = problems("<definitions");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].rule, "xml-syntax");
  EXPECT_FALSE(load_decision_files({"/nonexistent/x.dmn"}).ok());
}

}  // namespace
}  // namespace ordo

namespace ordo {
namespace {

// A decision that does not compile: the model is refused, unless the caller asks to keep
// what works (as the TCK runner does); then that decision alone fails, naming the error.
TEST(Dmn, InvalidDecisionsAreKeptOnlyWhenAsked) {
  const std::string xml = dmn(R"(
<decision id="good" name="Good"><literalExpression><text>1 + 1</text></literalExpression></decision>
<decision id="bad" name="Bad"><literalExpression><text>1 +</text></literalExpression></decision>
<decision id="uses" name="Uses">
  <informationRequirement id="u1"><requiredDecision href="#bad"/></informationRequirement>
  <literalExpression><text>Bad</text></literalExpression></decision>)");
  EXPECT_FALSE(load_decisions({DecisionSource{"m.dmn", xml}}).ok());
  DecisionLoadOptions keep;
  keep.keep_invalid_decisions = true;
  DecisionLoad l = load_decisions({DecisionSource{"m.dmn", xml}}, keep);
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l.diagnostics.size(), 1u);
  EXPECT_EQ(l.diagnostics[0].rule, "feel-syntax");
  EXPECT_EQ(eval(*l.model, "Good", json::object()), 2);
  const json bad = eval(*l.model, "Bad", json::object());
  EXPECT_NE(bad.get<std::string>().find("decision 'Bad' has errors: m.dmn:"), std::string::npos)
      << bad;
  EXPECT_NE(eval(*l.model, "Uses", json::object()).get<std::string>().find("has errors"),
            std::string::npos);
  // A problem outside any decision's logic is never kept.
  const std::string cycle = dmn(R"(
<decision id="a" name="A"><informationRequirement id="r"><requiredDecision href="#a"/></informationRequirement>
  <literalExpression><text>1</text></literalExpression></decision>)");
  EXPECT_FALSE(load_decisions({DecisionSource{"c.dmn", cycle}}, keep).ok());
}

}  // namespace
}  // namespace ordo

namespace ordo {
namespace {

// Review fixes: dates given as text where a date is declared, descriptions among a list's
// items, ids given twice, and C+ beyond 64 bits.
TEST(Dmn, DatesAsTextDescriptionsDuplicateIdsAndLargeSums) {
  auto m = load(dmn(R"(
<inputData id="day" name="Ship Day"><variable name="Ship Day" typeRef="date"/></inputData>
<decision id="later" name="Later">
  <informationRequirement id="l1"><requiredInput href="#day"/></informationRequirement>
  <literalExpression><text>Ship Day + duration("P1D")</text></literalExpression></decision>
<decision id="items" name="Items"><list><description>three</description>
  <literalExpression><text>1</text></literalExpression><literalExpression><text>2</text></literalExpression>
</list></decision>
<decision id="sum" name="Sum"><decisionTable hitPolicy="COLLECT" aggregation="SUM">
  <input><inputExpression><text>x</text></inputExpression></input><output name="n" typeRef="number"/>
  <rule id="a"><inputEntry><text>-</text></inputEntry><outputEntry><text>9223372036854775807</text></outputEntry></rule>
  <rule id="b"><inputEntry><text>-</text></inputEntry><outputEntry><text>1</text></outputEntry></rule>
</decisionTable></decision>)"));
  ASSERT_TRUE(m);
  // A process variable holds the date as ISO text: the declared type reads it as a date.
  EXPECT_EQ(eval(*m, "Later", {{"Ship Day", "2026-12-31"}}),
            json::parse(R"({"@type":"date","value":"2027-01-01"})"));
  EXPECT_EQ(eval(*m, "Later", {{"Ship Day", "not a date"}}), nullptr);
  EXPECT_EQ(eval(*m, "Items", json::object()), json::array({1, 2}));
  const json sum = eval(*m, "Sum", {{"x", 1}});
  ASSERT_TRUE(sum.is_number_float()) << sum;  // past int64: a double, not a wrapped integer
  EXPECT_GT(sum.get<double>(), 9.2e18);

  std::vector<Diagnostic> d = problems(dmn(R"(
<decision id="x" name="One"><literalExpression><text>1</text></literalExpression></decision>
<decision id="x" name="Two"><literalExpression><text>2</text></literalExpression></decision>)"));
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d[0].rule, "duplicate-id");
}

// A decision is called by its id where processes and the HTTP API name it; a name that is
// another decision's id does not take its place.
TEST(Dmn, EnginesCallDecisionsByIdOnly) {
  Engine engine;
  ASSERT_TRUE(engine
                  .deploy_decisions("ids.dmn", dmn(R"(
<decision id="a" name="b"><literalExpression><text>"decision a"</text></literalExpression></decision>
<decision id="b" name="c"><literalExpression><text>"decision b"</text></literalExpression></decision>)"))
                  .is_ok());
  auto r = engine.evaluate_decision("b", json::object());
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(*r, "decision b");
}

// A handler may evaluate a deployed decision (the segments adapter does), also while an
// in-memory engine's run_until_idle runs it on the caller's thread.
TEST(Dmn, AHandlerEvaluatesADecisionWhileTheEngineRunsIt) {
  Engine engine;
  ASSERT_TRUE(engine
                  .deploy_decisions("tier.dmn", dmn(R"(
<decision id="tier" name="Tier"><literalExpression><text>if orders >= 3 then "active" else "new"</text></literalExpression></decision>)"))
                  .is_ok());
  LoadResult loaded = load_bpmn(R"(<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="t"><bpmn:extensionElements><zeebe:taskDefinition type="tier" retries="1" /></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:userTask id="w"><bpmn:incoming>f2</bpmn:incoming></bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t" />
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="w" />
  </bpmn:process>
</bpmn:definitions>)", "p.bpmn");
  ASSERT_TRUE(loaded.document) << (loaded.diagnostics.empty() ? "" : loaded.diagnostics[0].message);
  ASSERT_TRUE(engine.deploy(loaded.document).is_ok());
  engine.register_handler("tier", [&engine](const Job& job) {
    auto tier = engine.evaluate_decision("tier", {{"orders", *job.variable("orders")}});
    if (!tier) return JobOutcome::fail(tier.status().message());
    return JobOutcome::complete({{"tier", *tier}});
  });
  auto started = engine.start("p", {{"orders", 4}});
  ASSERT_TRUE(started) << started.status().message();
  ASSERT_TRUE(engine.run_until_idle().is_ok());
  auto state = engine.instance(started->id);
  ASSERT_TRUE(state) << state.status().message();
  EXPECT_EQ(state->variables["tier"], "active");

  // Any other call of its engine from such a handler fails the job saying why, instead of
  // waiting for itself.
  engine.register_handler("tier", [&engine](const Job&) {
    (void)engine.next_timer_due();
    return JobOutcome::complete();
  });
  auto second = engine.start("p", {{"orders", 1}});
  ASSERT_TRUE(second) << second.status().message();
  ASSERT_TRUE(engine.run_until_idle().is_ok());
  auto failed = engine.instance(second->id);
  ASSERT_TRUE(failed) << failed.status().message();
  ASSERT_EQ(failed->incidents.size(), 1u);
  EXPECT_NE(failed->incidents[0].message.find("called its engine, which is busy running it"),
            std::string::npos)
      << failed->incidents[0].message;
}

}  // namespace
}  // namespace ordo

namespace ordo {
namespace {

// A knowledge model named like a built-in is the model's own (names are scoped).
TEST(Dmn, AKnowledgeModelHidesTheBuiltInOfItsName) {
  auto m = load(dmn(R"(
<businessKnowledgeModel id="rm" name="remove"><encapsulatedLogic>
  <formalParameter name="a"/><formalParameter name="b"/>
  <literalExpression><text>a - b</text></literalExpression></encapsulatedLogic></businessKnowledgeModel>
<decision id="d" name="D">
  <knowledgeRequirement id="k"><requiredKnowledge href="#rm"/></knowledgeRequirement>
  <literalExpression><text>remove(10, 3)</text></literalExpression></decision>)"));
  ASSERT_TRUE(m);
  EXPECT_EQ(eval(*m, "D", json::object()), 7);
}

}  // namespace
}  // namespace ordo
