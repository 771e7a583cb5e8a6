// DMN decisions: loading DMN 1.1 to 1.5 XML and evaluating its decisions.
//
// A DecisionModel holds one or more DMN files (the first is the main model, the others are
// models it imports, found by namespace). Every FEEL text in it is compiled when it loads, so
// a syntax error is a Diagnostic at file:line:col, as for BPMN. A loaded model is immutable
// and may be evaluated from many threads at once.
//
// Values in and out are JSON, the same both ways:
//   - null, booleans, strings, lists and contexts are JSON null, booleans, strings, arrays
//     and objects; numbers are JSON numbers, computed as FEEL decimals (34 digits). A number
//     a double would not hold exactly (0.3333333333333333333333333333333333) is
//     {"@type": "number", "value": "<decimal text>"}: parse_decision_json() makes those from
//     JSON text and dump_decision_json() prints them as JSON numbers again;
//   - dates, times, date-times and durations are objects
//     {"@type": "date" | "time" | "dateTime" | "duration", "value": "<FEEL string() text>"},
//     e.g. {"@type": "date", "value": "2017-01-01"}, {"@type": "duration", "value": "P1Y2M"},
//     {"@type": "dateTime", "value": "2017-01-01T10:00:00@Europe/Rome"};
//   - a decision typed date, time, dateTime or duration reads ISO 8601 text as that type
//     (process variables keep dates as text).
// An input is keyed by its name (the inputData's name); an input of an imported model is
// keyed "{namespace}name".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/diagnostic.h"
#include "ordo/status.h"

namespace ordo {

class DecisionModel;

struct DecisionSource {
  std::string file;  // names the file in diagnostics
  std::string text;  // the DMN XML
};

struct DecisionLoad {
  // Null when there are errors.
  std::shared_ptr<const DecisionModel> model;
  std::vector<Diagnostic> diagnostics;  // errors first, then warnings

  bool ok() const noexcept { return model != nullptr; }
};

struct DecisionLoadOptions {
  // A decision or business knowledge model whose logic has errors (a FEEL text that does
  // not compile) is kept, and evaluating it fails with the first of them, instead of the
  // whole model being refused. The errors are still diagnostics. For tools that evaluate
  // what they can of a model (the DMN TCK counts per test case); a deployment never does.
  bool keep_invalid_decisions = false;
};

// Loads DMN XML held in memory: sources[0] is the main model, the rest are imported models.
DecisionLoad load_decisions(std::vector<DecisionSource> sources,
                            const DecisionLoadOptions& options = {});
// Reads and loads files (the first is the main model). An unreadable file is a diagnostic
// (rule "file-unreadable").
DecisionLoad load_decision_files(const std::vector<std::string>& paths,
                                 const DecisionLoadOptions& options = {});

// What a model offers, for listings and for callers that look decisions up.
struct DecisionInfo {
  std::string id;
  std::string name;
  std::string kind;  // "decision", "decisionService", "businessKnowledgeModel"
  std::string file;
  std::uint32_t line = 0;
};
std::vector<DecisionInfo> list_decisions(const DecisionModel& model);

// Which rules of a decision table gave its result: the history of an evaluation.
struct DecisionTableHit {
  std::string decision_id;  // the decision whose table it is
  // The rules whose outputs make the result, in table order: the one of UNIQUE, FIRST and
  // PRIORITY, every matching one of ANY, RULE ORDER, OUTPUT ORDER and COLLECT; none when
  // no rule matched.
  std::vector<std::string> rule_ids;
};
// JSON text as decision values: like nlohmann::json::parse, except that a number whose text
// a double would not hold exactly ("0.1234567890123456789") becomes {"@type": "number",
// "value": TEXT}, so it reaches FEEL as written. nullopt when `text` is not JSON.
std::optional<nlohmann::json> parse_decision_json(std::string_view text);
// Decision values as JSON text: like json::dump(indent), except that {"@type": "number"}
// objects are printed as the number they hold, in full.
std::string dump_decision_json(const nlohmann::json& value, int indent = -1);

struct DecisionTrace {
  std::vector<DecisionTableHit> tables;  // in the order they were evaluated
};

struct DecisionOptions {
  std::int64_t now_ms = 0;       // what now() and today() see (0: the system clock)
  DecisionTrace* trace = nullptr;  // when set, receives the matched rules
};

// Evaluates the decision named `decision` (its name or its id) of the main model with
// `inputs` (a JSON object, see above). Required decisions are evaluated first, each once.
// FEEL null is JSON null. Failure (kNotFound: no such decision; kInvalidArgument: an
// evaluation error such as two rules matching under hit policy UNIQUE, or an input outside
// its input values) carries a message that names the decision and what went wrong.
Result<nlohmann::json> evaluate_decision(const DecisionModel& model, std::string_view decision,
                                         const nlohmann::json& inputs,
                                         const DecisionOptions& options = {});

// Invokes the decision service named `service` (name or id) with `inputs` as its parameters
// (its input data and input decisions, by name). The result is a context of its output
// decisions, or the output decision's value when it has exactly one.
Result<nlohmann::json> evaluate_decision_service(const DecisionModel& model,
                                                 std::string_view service,
                                                 const nlohmann::json& inputs,
                                                 const DecisionOptions& options = {});

}  // namespace ordo
