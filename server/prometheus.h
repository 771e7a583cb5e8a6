// The Prometheus text format (version 0.0.4): the pieces every writer of GET /metrics
// shares, so label values are escaped and numbers printed one way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ordo::server::prometheus {

// A label value with backslash, double quote and line feed escaped (the format's rules).
std::string label(std::string_view value);

// The "# HELP" and "# TYPE" lines that open a metric family. `help` is a constant sentence
// (not escaped).
void family(std::string& out, std::string_view name, std::string_view type, std::string_view help);

// Milliseconds as seconds, exactly and as short as possible: 1500 -> "1.5", 5 -> "0.005",
// 3600000 -> "3600".
std::string seconds(std::int64_t ms);

// A sample value: "NaN", "+Inf", "-Inf", or the shortest text that reads back as `value`.
std::string number(double value);

}  // namespace ordo::server::prometheus
