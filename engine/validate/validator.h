// The validation rules (docs/validation.md) over a built ProcessDefinition.
#pragma once

#include <vector>

#include "ordo/definition.h"
#include "ordo/diagnostic.h"

namespace ordo::validate {

// Appends a diagnostic for every rule `process` breaks.
void validate_process(const ProcessDefinition& process, std::vector<Diagnostic>& out);

}  // namespace ordo::validate
