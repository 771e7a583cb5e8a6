// Loading BPMN 2.0 XML: parse, resolve references, validate.
//
// The loader accepts files from Camunda Modeler, bpmn.io and hand-written XML: the BPMN model
// namespace is recognised by its URI whatever the prefix. Zeebe (Camunda 8) extensions are
// the primary dialect, Camunda 7 the second. FEEL and JUEL expressions are compiled here, so
// a syntax error is a diagnostic (rule "expression-syntax").
//
// Loading never throws and never crashes on bad input: every problem is a Diagnostic with the
// file, line and column, a rule id and a message that says what to change. Thread-safe: calls
// share no state.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ordo/definition.h"
#include "ordo/diagnostic.h"

namespace ordo {

struct LoadOptions {
  // Run the validation rules (docs/validation.md) after parsing. When false, only problems
  // that make the model impossible to build (bad XML, duplicate ids, dangling references,
  // unsupported elements) are reported.
  bool validate = true;
  // A service, send or business rule task (or message throw event) without a task type gets
  // its element id as job type instead of a "missing-task-type" error. For models drawn
  // without Zeebe extensions (plain bpmn.io); off by default, because a missing type is
  // usually a mistake.
  bool task_type_defaults_to_id = false;
};

struct LoadResult {
  // Null only when the file could not be read or is not well-formed BPMN XML. A document
  // with errors is still returned so tools can show what they can.
  std::shared_ptr<const BpmnDocument> document;
  std::vector<Diagnostic> diagnostics;  // in file order

  // True when there is a document and no diagnostic is an error.
  bool ok() const noexcept { return document && !has_errors(diagnostics); }
};

// Loads BPMN XML held in memory. `file` names it in diagnostics.
LoadResult load_bpmn(std::string_view xml, std::string_view file = "<memory>",
                     const LoadOptions& options = {});

// Reads and loads a file. A missing or unreadable file is one diagnostic (rule
// "file-unreadable"), not an exception.
LoadResult load_bpmn_file(const std::string& path, const LoadOptions& options = {});

// Checks what only a set of files together can tell: a call activity whose static
// calledElement names a process none of `documents` defines gets a warning
// ("unresolved-called-element"), because that process must be deployed before an instance
// reaches the call. Null documents are skipped.
std::vector<Diagnostic> check_called_elements(
    const std::vector<std::shared_ptr<const BpmnDocument>>& documents);

}  // namespace ordo
