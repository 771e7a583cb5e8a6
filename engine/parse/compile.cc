// Compiles every FEEL and JUEL expression of a process once, at load time: a syntax error is
// a diagnostic at the expression's line, and the runtime only ever evaluates.
#include "expr/expr.h"
#include "parse/builder.h"

namespace ordo::parse {
namespace {

void compile_one(XmlContext& x, Expression& e, std::string_view what) {
  if (e.dialect == ExpressionDialect::kStatic || e.empty()) return;
  auto compiled = expr::compile(e.dialect, e.text);
  if (auto* ok = std::get_if<std::shared_ptr<const CompiledExpression>>(&compiled)) {
    e.compiled = std::move(*ok);
    return;
  }
  const auto& err = std::get<expr::CompileError>(compiled);
  // FEEL text is stored without its leading '='.
  const std::uint32_t at = err.offset + (e.dialect == ExpressionDialect::kFeel ? 1u : 0u);
  x.report(e.location, Severity::kError, "expression-syntax",
           std::string(what) + " " + quote(e.source()) + " does not compile (at character " +
               std::to_string(at + 1) + "): " + err.message);
}

}  // namespace

void compile_expressions(XmlContext& x, ProcessDefinition& p) {
  for (Element& e : p.elements) {
    compile_one(x, e.event.message_name, "message name");
    compile_one(x, e.event.correlation_key, "correlation key");
    compile_one(x, e.event.timer, "timer");
    compile_one(x, e.event.condition, "condition");
    compile_one(x, e.task.type, "task type");
    compile_one(x, e.task.retries, "retries");
    for (IoMapping& m : e.inputs) compile_one(x, m.source, "input mapping");
    for (IoMapping& m : e.outputs) compile_one(x, m.source, "output mapping");
    compile_one(x, e.script, "script");
    compile_one(x, e.called.process_id, "called process id");
    compile_one(x, e.decision.decision_id, "called decision id");
    compile_one(x, e.loop.input_collection, "input collection");
    compile_one(x, e.loop.output_element, "output element");
    compile_one(x, e.loop.loop_cardinality, "loop cardinality");
    compile_one(x, e.loop.completion_condition, "completion condition");
    compile_one(x, e.loop.loop_condition, "loop condition");
  }
  for (SequenceFlow& f : p.flows) compile_one(x, f.condition, "condition");
}

}  // namespace ordo::parse
