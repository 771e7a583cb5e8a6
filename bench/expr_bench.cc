// Expression throughput: compiling (load time) and evaluating (run time) the expressions a
// typical instance evaluates: a gateway condition on a boolean, one on a string, and a plain
// variable read (a correlation key or an input mapping). The target is 100,000 instances per
// second on one thread with about three evaluations each, so BM_EvaluateInstance (all three)
// should stay well under 10 microseconds.
//
//   build/bench/ordo_bench_expr
#include <benchmark/benchmark.h>

#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "expr/expr.h"
#include "ordo/decision.h"

namespace {

using ordo::ExpressionDialect;
using Compiled = std::shared_ptr<const ordo::CompiledExpression>;

constexpr const char* kExpressions[] = {"available = true", "paymentStatus = \"approved\"",
                                        "orderId"};

const nlohmann::json& instance_variables() {
  static const nlohmann::json vars = {
      {"orderId", "order-2026-000017"},
      {"available", true},
      {"paymentStatus", "approved"},
      {"customer", {{"id", "c-42"}, {"name", "Ann Example"}, {"locale", "de"}}},
      {"items", {{{"sku", "A1"}, {"price", 12.5}}, {{"sku", "B2"}, {"price", 3}}}},
      {"total", 15.5},
      {"attempts", 1},
      {"priority", "normal"},
  };
  return vars;
}

Compiled compile_or_die(ExpressionDialect dialect, const char* text) {
  auto c = ordo::expr::compile(dialect, text);
  if (!std::holds_alternative<Compiled>(c)) std::abort();
  return std::get<Compiled>(c);
}

void BM_CompileFeel(benchmark::State& state) {
  const char* text = kExpressions[state.range(0)];
  for (auto _ : state) {
    auto c = ordo::expr::compile(ExpressionDialect::kFeel, text);
    benchmark::DoNotOptimize(c);
  }
  state.SetLabel(text);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CompileFeel)->DenseRange(0, 2);

void BM_EvaluateFeel(benchmark::State& state) {
  const char* text = kExpressions[state.range(0)];
  Compiled e = compile_or_die(ExpressionDialect::kFeel, text);
  ordo::expr::JsonVariables vars(instance_variables());
  ordo::expr::Context ctx{&vars, 0};
  for (auto _ : state) {
    auto r = ordo::expr::evaluate(*e, ctx);
    benchmark::DoNotOptimize(r);
  }
  state.SetLabel(text);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvaluateFeel)->DenseRange(0, 2);

// The two conditions through evaluate_condition and the variable through evaluate: one
// instance's worth of expression work. items_per_second is instances per second.
void BM_EvaluateInstance(benchmark::State& state) {
  Compiled a = compile_or_die(ExpressionDialect::kFeel, kExpressions[0]);
  Compiled b = compile_or_die(ExpressionDialect::kFeel, kExpressions[1]);
  Compiled c = compile_or_die(ExpressionDialect::kFeel, kExpressions[2]);
  ordo::expr::JsonVariables vars(instance_variables());
  ordo::expr::Context ctx{&vars, 0};
  for (auto _ : state) {
    auto ra = ordo::expr::evaluate_condition(*a, ctx);
    auto rb = ordo::expr::evaluate_condition(*b, ctx);
    auto rc = ordo::expr::evaluate(*c, ctx);
    benchmark::DoNotOptimize(ra);
    benchmark::DoNotOptimize(rb);
    benchmark::DoNotOptimize(rc);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvaluateInstance);

void BM_EvaluateJuel(benchmark::State& state) {
  Compiled e = compile_or_die(ExpressionDialect::kJuel, "${attempts == 3 || attempts == 1}");
  ordo::expr::JsonVariables vars(instance_variables());
  ordo::expr::Context ctx{&vars, 0};
  for (auto _ : state) {
    auto r = ordo::expr::evaluate_condition(*e, ctx);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvaluateJuel);

// A heavier FEEL expression: a path, a filter and a date computation.
void BM_EvaluateFeelFilterAndDates(benchmark::State& state) {
  Compiled e =
      compile_or_die(ExpressionDialect::kFeel,
                     "customer.locale = \"de\" and count(items[price > 10]) > 0 and "
                     "now() + duration(\"PT30M\") > date and time(\"2026-01-01T00:00:00Z\")");
  ordo::expr::JsonVariables vars(instance_variables());
  ordo::expr::Context ctx{&vars, 1796119200000};
  for (auto _ : state) {
    auto r = ordo::expr::evaluate_condition(*e, ctx);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvaluateFeelFilterAndDates);

// A decision table of 20 rules over 4 inputs (a number range, a list of strings, a
// comparison, a boolean; some cells "-"), hit policy FIRST with the matching rule last but
// one, so nearly every rule is tested: one evaluation through the public API. Target: at
// most 2 microseconds.
std::string table_20x4(std::string_view hit) {
  std::string rules;
  for (int r = 0; r < 20; ++r) {
    const int low = r * 50;
    const std::string countries = r % 2 == 0 ? "\"DE\",\"AT\"" : "\"FR\",\"IT\",\"ES\"";
    rules += "<rule id=\"r" + std::to_string(r) + "\">"
             "<inputEntry><text>[" + std::to_string(low) + ".." + std::to_string(low + 49) +
             "]</text></inputEntry>"
             "<inputEntry><text>" + (r % 5 == 4 ? std::string("-") : countries) + "</text></inputEntry>"
             "<inputEntry><text>&lt; " + std::to_string(10 + r) + "</text></inputEntry>"
             "<inputEntry><text>" + (r % 3 == 0 ? "-" : r % 3 == 1 ? "true" : "false") +
             "</text></inputEntry>"
             "<outputEntry><text>\"c" + std::to_string(r) + "\"</text></outputEntry></rule>";
  }
  return R"(<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="b" name="b"
      namespace="https://ordo.bench/dmn"><decision id="carrier" name="Carrier">
      <decisionTable hitPolicy=")" + std::string(hit) + R"(">
      <input><inputExpression typeRef="number"><text>total</text></inputExpression></input>
      <input><inputExpression typeRef="string"><text>country</text></inputExpression></input>
      <input><inputExpression typeRef="number"><text>weight</text></inputExpression></input>
      <input><inputExpression typeRef="boolean"><text>express</text></inputExpression></input>
      <output name="carrier" typeRef="string"/>)" + rules + "</decisionTable></decision></definitions>";
}

// Arg 0: whole numbers in (the int64 fast path); arg 1: amounts with cents and a weight with a
// fraction, compared as decimals.
void BM_DecisionTable20x4(benchmark::State& state) {
  ordo::DecisionLoad load = ordo::load_decisions({{"bench.dmn", table_20x4("FIRST")}});
  if (!load.ok()) {
    state.SkipWithError("the table does not load");
    return;
  }
  // Matches rule 18 only: [900..949], "DE", < 28, false.
  const bool decimals = state.range(0) == 1;
  const nlohmann::json inputs = {{"total", decimals ? nlohmann::json(920.45) : nlohmann::json(920)},
                                 {"country", "DE"},
                                 {"weight", decimals ? nlohmann::json(12.5) : nlohmann::json(12)},
                                 {"express", false}};
  state.SetLabel(decimals ? "decimals" : "integers");
  for (auto _ : state) {
    auto r = ordo::evaluate_decision(*load.model, "carrier", inputs);
    benchmark::DoNotOptimize(r);
  }
  if (auto r = ordo::evaluate_decision(*load.model, "carrier", inputs); !r || *r != "c18") {
    state.SkipWithError("the table gave the wrong carrier");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecisionTable20x4)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
