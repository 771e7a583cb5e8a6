// `ordo decide`: a DMN decision, or decision service, evaluated with inputs given as JSON.
#include "decide_command.h"

#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/decision.h"
#include "ordo/diagnostic.h"

namespace ordo::cli {
namespace {

using nlohmann::json;

constexpr int kExitOk = 0;
constexpr int kExitFound = 1;
constexpr int kExitUsage = 2;

constexpr const char* kVarsExample = R"('{"total": 120, "country": "DE"}')";

}  // namespace

struct DecideCommand::Args {
  std::vector<std::string> files;
  std::string decision;
  std::string service;
  std::string vars;
  bool json = false;
  CLI::Option* decision_option = nullptr;
  CLI::Option* service_option = nullptr;
};

DecideCommand::DecideCommand(CLI::App& app) : args_(std::make_unique<Args>()) {
  Args& a = *args_;
  cmd_ = app.add_subcommand(
      "decide", "Evaluate a DMN decision or decision service with inputs given as JSON");
  cmd_->add_option("files", a.files,
                   "DMN files: the main model first, then the models it imports")
      ->required();
  a.decision_option =
      cmd_->add_option("--decision", a.decision, "The decision to evaluate, by name or id");
  a.service_option = cmd_->add_option("--service", a.service,
                                      "The decision service to invoke, by name or id")
                         ->excludes(a.decision_option);
  cmd_->add_option("--vars", a.vars,
                   "The inputs, a JSON object keyed by input data name (an imported model's "
                   "input as \"{namespace}name\"); dates, date-times and durations as "
                   "{\"@type\": \"date\", \"value\": \"2026-09-01\"}")
      ->type_name("JSON");
  cmd_->add_flag("--json", a.json, "Print {\"result\": VALUE} on one line");
  cmd_->footer(
      "Give exactly one of --decision and --service. Required decisions are evaluated first; "
      "a decision service gives its output decision's value, or a context of them when it has "
      "several. Diagnostics go to stderr as FILE:LINE:COL: severity: message [rule]. See "
      "docs/cli.md.\nExit status: 0 when evaluated (a null result included), 1 when a file "
      "has errors or the evaluation fails, 2 on bad usage.");
}

DecideCommand::~DecideCommand() = default;

std::optional<int> DecideCommand::run() const {
  if (!cmd_->parsed()) return std::nullopt;
  const Args& a = *args_;
  const auto usage = [](const std::string& why) {
    std::cerr << "ordo decide: " << why << '\n';
    return kExitUsage;
  };
  const auto fail = [](const std::string& why) {
    std::cerr << "ordo decide: " << why << '\n';
    return kExitFound;
  };
  const bool service = a.service_option->count() > 0;
  if (!service && a.decision_option->count() == 0) {
    return usage("give the decision to evaluate (--decision NAME) or the decision service to "
                 "invoke (--service NAME)");
  }
  json inputs = json::object();
  if (!a.vars.empty()) {
    std::optional<json> parsed = parse_decision_json(a.vars);  // numbers from their text
    if (!parsed) {
      return usage(std::string("--vars is not valid JSON: write a JSON object such as ") +
                   kVarsExample);
    }
    inputs = std::move(*parsed);
    if (!inputs.is_object()) {
      return usage(std::string("--vars is a JSON ") + inputs.type_name() +
                   ": write a JSON object such as " + kVarsExample);
    }
  }

  const DecisionLoad load = load_decision_files(a.files);
  for (const Diagnostic& d : load.diagnostics) std::cerr << format_diagnostic(d) << '\n';
  if (!load.ok()) return fail(a.files.front() + ": the model has errors; nothing was evaluated");

  const Result<json> result = service ? evaluate_decision_service(*load.model, a.service, inputs)
                                      : evaluate_decision(*load.model, a.decision, inputs);
  if (!result) return fail(result.status().message());
  if (a.json) {
    json out = json::object();
    out["result"] = *result;
    std::cout << dump_decision_json(out, -1) << '\n';
  } else {
    std::cout << dump_decision_json(*result, 2) << '\n';
  }
  return kExitOk;
}

}  // namespace ordo::cli
