#include "ordo/diagnostic.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace ordo {

std::string_view to_string(Severity severity) noexcept {
  return severity == Severity::kError ? "error" : "warning";
}

std::string format_diagnostic(const Diagnostic& d) {
  std::string out = d.file;
  if (d.line > 0) {
    out += ':';
    out += std::to_string(d.line);
    out += ':';
    out += std::to_string(d.column);
  }
  out += ": ";
  out += to_string(d.severity);
  out += ": ";
  out += d.message;
  out += " [";
  out += d.rule;
  out += ']';
  return out;
}

std::string diagnostics_to_json(const std::vector<Diagnostic>& diagnostics) {
  auto array = nlohmann::json::array();
  for (const Diagnostic& d : diagnostics) {
    array.push_back({{"file", d.file},
                     {"line", d.line},
                     {"column", d.column},
                     {"severity", to_string(d.severity)},
                     {"rule", d.rule},
                     {"message", d.message}});
  }
  // Names and messages quote the file, which may hold invalid UTF-8: replace, never throw.
  return array.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool has_errors(const std::vector<Diagnostic>& diagnostics) noexcept {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

}  // namespace ordo
