// The loaded form of DMN definitions: decisions, input data, business knowledge models,
// decision services and item definitions, with every FEEL text compiled. Built by
// dmn/loader.cc, read by dmn/evaluate.cc; immutable once built.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/decision.h"
#include "ordo/definition.h"
#include "ordo/diagnostic.h"

namespace ordo {
class CompiledExpression;
}

namespace ordo::dmn {

using Json = nlohmann::json;
using Program = std::shared_ptr<const CompiledExpression>;

// A type as a typeRef names it: a FEEL built-in type or an item definition.
struct ItemDefinition {
  std::string name;
  std::string type_ref;   // the base type ("number", "tLoan"); empty with components
  bool is_collection = false;
  std::vector<ItemDefinition> components;
  Program allowed_values;  // unary tests; null when any value is allowed
};

enum class HitPolicy : std::uint8_t {
  kUnique,
  kFirst,
  kPriority,
  kAny,
  kCollect,
  kRuleOrder,
  kOutputOrder,
};
enum class Aggregation : std::uint8_t { kNone, kSum, kMin, kMax, kCount };

struct Boxed;

struct DecisionTable {
  struct Input {
    std::string label;
    std::string type_ref;
    Program expression;
    Program values;  // inputValues: unary tests the input must pass; may be null
  };
  struct Output {
    std::string name;  // empty for the single output of a one-output table
    std::string type_ref;
    Program values;                // outputValues as unary tests; may be null
    std::vector<Json> priorities;  // outputValues' constants, highest priority first
    Program default_entry;         // may be null
  };
  struct Rule {
    std::string id;
    std::uint32_t line = 0;
    std::vector<Program> inputs;   // unary tests, one per input
    std::vector<Program> outputs;  // expressions, one per output
  };
  HitPolicy hit = HitPolicy::kUnique;
  Aggregation aggregation = Aggregation::kNone;
  std::vector<Input> inputs;
  std::vector<Output> outputs;
  std::vector<Rule> rules;
};

struct Parameter {
  std::string name;
  std::string type_ref;
};

// A named part of a context, a binding of an invocation, a cell of a relation's row.
struct Entry {
  std::string name;  // empty: a context's final result
  std::unique_ptr<Boxed> value;
};

// A boxed expression: what a decision, a knowledge model or a context entry holds.
struct Boxed {
  enum class Kind : std::uint8_t {
    kLiteral,
    kDecisionTable,
    kContext,
    kInvocation,
    kList,
    kRelation,
    kFunction,
    // DMN 1.5: items hold the parts in order.
    kConditional,  // if, then, else
    kFilter,       // in, match (`item` is each element)
    kFor,          // in, return (iterator names each element)
    kSome,         // in, satisfies
    kEvery,        // in, satisfies
  };
  Kind kind = Kind::kLiteral;
  std::string type_ref;
  SourceLocation at;
  Program literal;                      // kLiteral; null for an empty text (null)
  std::unique_ptr<DecisionTable> table;  // kDecisionTable
  std::vector<Entry> entries;           // kContext; kInvocation: the bindings
  std::string callee;                   // kInvocation: the function's name
  std::vector<Boxed> items;             // kList; the parts of the DMN 1.5 kinds
  std::string iterator;                 // kFor, kSome, kEvery: the name bound to each element
  std::vector<std::string> columns;     // kRelation
  std::vector<std::vector<Boxed>> rows;  // kRelation
  std::vector<Parameter> parameters;    // kFunction
  std::unique_ptr<Boxed> body;          // kFunction
};

struct InputData {
  std::string id;
  std::string name;
  std::string type_ref;
  std::string ns;  // the namespace of the model that defines it
  SourceLocation at;
  std::string file;
};

struct Decision {
  std::string id;
  std::string name;
  std::string type_ref;
  std::string ns;
  std::string file;
  SourceLocation at;
  std::vector<std::size_t> decisions;  // required decisions (indices)
  std::vector<std::size_t> inputs;     // required input data (indices)
  Boxed expression;
  bool has_expression = false;
  std::string invalid;  // its first error, when kept (keep_invalid_decisions)
};

struct Knowledge {  // a business knowledge model: a function
  std::string id;
  std::string name;
  std::string ns;
  std::string file;
  SourceLocation at;
  std::vector<Parameter> parameters;
  std::unique_ptr<Boxed> body;  // null: no logic (calling it is an error)
  std::string invalid;          // its first error, when kept (keep_invalid_decisions)
};

struct DecisionService {
  std::string id;
  std::string name;
  std::string ns;
  std::string file;
  SourceLocation at;
  std::vector<std::size_t> outputs;          // output decisions
  std::vector<std::size_t> input_decisions;  // given by the caller, not evaluated
  std::vector<std::size_t> input_data;
};

}  // namespace ordo::dmn

namespace ordo::expr {
class Variables;
}

namespace ordo::dmn {

// A decision's result as Camunda 7 shapes it for camunda:mapDecisionResult: a list with one
// context per matched rule, keyed by the table's output names (a one-output table too; a
// literal expression's result keyed by the decision's name); empty when nothing matched.
Json camunda_rule_results(const DecisionModel& model, std::string_view decision_id, Json result);

// evaluate_decision() with inputs read through `inputs` (the variables a business rule task
// sees) instead of a JSON object: nothing is copied. `by_id`: `decision` is an id only (as
// processes and the HTTP API name decisions), never a name.
Result<Json> evaluate(const DecisionModel& model, std::string_view decision,
                      const expr::Variables& inputs, const DecisionOptions& options,
                      bool by_id = false);

}  // namespace ordo::dmn

namespace ordo {

class DecisionModel {
 public:
  std::string ns;  // the main model's namespace
  std::string content_hash;  // of the main model's file
  std::string file;          // the main model's file, as loaded (what a deployment stores)
  std::string xml;
  std::vector<dmn::Decision> decisions;
  std::vector<dmn::InputData> inputs;
  std::vector<dmn::Knowledge> knowledge;
  std::vector<dmn::DecisionService> services;
  std::vector<dmn::ItemDefinition> types;
  // Names that hold spaces or operator characters, for compiling FEEL (kept for the life of
  // the model: tokens point into them while compiling).
  std::vector<std::string> known_names;
  // Names of knowledge models, decision services and context functions: calls of them are
  // the model's, even where a built-in has the name.
  std::vector<std::string> function_names;
};

}  // namespace ordo
