// Internal interface between the parts of the loader.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "ordo/definition.h"
#include "parse/xml_context.h"

namespace ordo::parse {

// Maximum element nesting the loader walks; deeper documents are rejected, not recursed into.
inline constexpr int kMaxDepth = 128;

// Classifies an expression as written: "=..." is FEEL, "${...}"/"#{...}" is JUEL, anything
// else is a static value, or FEEL when `always_expression` (conditions are never static).
Expression make_expression(std::string_view raw, SourceLocation at, bool always_expression);

// Builds one executable process. `document` supplies the messages, errors, signals and
// escalations its events refer to; `associations`, the associations drawn in the file's
// collaboration (modelers put some there), those between two of its elements count.
std::shared_ptr<ProcessDefinition> build_process(XmlContext& x, pugi::xml_node process,
                                                 const BpmnDocument& document,
                                                 std::span<const pugi::xml_node> associations = {});

// compile.cc: compiles the process's FEEL and JUEL expressions; syntax errors are reported.
void compile_expressions(XmlContext& x, ProcessDefinition& p);

// extensions.cc: Zeebe and Camunda 7 extension elements and attributes.
void read_extension_elements(XmlContext& x, pugi::xml_node extension_elements, Element& e);
void read_camunda_attributes(XmlContext& x, pugi::xml_node node, Element& e);
// `legacy_zeebe`: the file is from Zeebe Modeler before 1.0, whose plain correlation key
// names a variable (it is read as one, with a warning).
void read_message_extensions(XmlContext& x, pugi::xml_node extension_elements,
                             MessageDefinition& m, bool legacy_zeebe);
// Warns about every element of `extension_elements` (used where Ordo reads none).
void warn_unused_extensions(XmlContext& x, pugi::xml_node extension_elements,
                            std::string_view where);

}  // namespace ordo::parse
