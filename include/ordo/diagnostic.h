// Diagnostics: what the loader and validator say about a BPMN file.
//
// Each diagnostic points at a file, line and column (1-based; the column counts characters,
// not bytes) and carries a stable rule id, so editors can jump to it and tools can filter it.
// docs/validation.md lists every rule.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace ordo {

enum class Severity : unsigned char { kWarning, kError };

std::string_view to_string(Severity severity) noexcept;  // "warning" / "error"

struct Diagnostic {
  std::string file;
  std::uint32_t line = 0;  // 0 when the problem has no position (e.g. unreadable file)
  std::uint32_t column = 0;
  Severity severity = Severity::kError;
  std::string rule;     // e.g. "duplicate-id"
  std::string message;  // says what is wrong and what to change
};

// "FILE:LINE:COL: error: message [rule]", the form compilers use.
std::string format_diagnostic(const Diagnostic& d);

// The diagnostics as a JSON array of objects with keys file, line, column, severity, rule,
// message.
std::string diagnostics_to_json(const std::vector<Diagnostic>& diagnostics);

bool has_errors(const std::vector<Diagnostic>& diagnostics) noexcept;

}  // namespace ordo
