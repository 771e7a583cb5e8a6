// Inspect: readable views of a loaded BPMN document, for `ordo inspect` and for tools.
#pragma once

#include <string>

#include "ordo/definition.h"

namespace ordo {

// A readable outline: each process with its elements (scopes indented), where each flow
// goes and under which condition, task types and headers, messages, timers and errors.
std::string outline_text(const BpmnDocument& document);

// The same as JSON (one object with "file" and "processes"; see docs/cli.md).
std::string outline_json(const BpmnDocument& document);

// Graphviz DOT: one digraph, one cluster per process and per subprocess.
std::string outline_dot(const BpmnDocument& document);

}  // namespace ordo
