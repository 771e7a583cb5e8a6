// The pieces of the replay's HTML report (render_replay_html, ordo/sim/replay.h) that draw: the
// cycle-time bar charts and the process diagram coloured by how many orders passed each
// element, as inline SVG; and the text formatting both halves share. Everything here returns
// well-formed XML text (every string it is given is escaped) and depends only on its
// arguments, so the same report renders the same bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/definition.h"

namespace ordo::sim::report {

// `text` escaped for XML text and attributes (sim/xml_text.h: append_xml_escaped).
std::string escape(std::string_view text);

// `value` with exactly `decimals` digits after the point, locale-independent; no "-0".
std::string fixed(double value, int decimals);
// Like fixed, without trailing zeros after the point ("2.5", "3").
std::string trimmed(double value, int decimals);

// A duration in seconds for people: "850 ms", "2.5 s", "42 s", "14m 5s", "3h 20m", "2d 3h"
// (the two largest units; a zero second unit is dropped: "1h"). Negative values get a minus
// sign (U+2212).
std::string human_duration(double seconds);

// The heat scale's colour for `level` in [0, 1]: pale (0) to strong orange (1), "#rrggbb".
std::string heat_colour(double level);

// The colour of the variant with that index in charts and legends (a palette, cycled).
std::string_view variant_colour(std::size_t index);

// One cycle time's histogram as an SVG bar chart: bins along x, labelled by their upper
// edges ("≤ 1h", the last open bin "> 1d"), orders along y, with each bar's count above it.
// `histograms` holds each variant's "histogram" array (or null where a variant lacks it);
// with several variants the bars of a bin stand side by side, one colour per variant. The
// bins of the first variant that has some label the axis. `title` goes into the SVG's
// <title>. Returns a short paragraph instead when no variant has bins.
// Counts above bars are short ("12.5k") and stand upright when they are wider than their
// bar, so neighbours never overlap. `scale`: the y axis linear, logarithmic (ticks at powers
// of ten; a bar of one order still shows), or kAuto: logarithmic when the tallest bar is at
// least 100 times the lowest non-empty one, so the small bins do not vanish.
enum class ChartScale : std::uint8_t { kAuto, kLinear, kLog };
std::string histogram_svg(std::string_view title,
                          const std::vector<const nlohmann::json*>& histograms,
                          const std::vector<std::string>& variant_names,
                          ChartScale scale = ChartScale::kAuto);

// The largest counts the heat scale runs up to (shared by every variant's diagram, so equal
// colours mean equal counts).
struct HeatScale {
  double max_element = 0;
  double max_flow = 0;
  // Set for a difference diagram: each element and flow is drawn by its count minus the
  // baseline's ("elements", "flows" of this report variant), on a diverging scale up to the
  // largest difference either way.
  const nlohmann::json* baseline = nullptr;
  double max_element_difference = 0;
  double max_flow_difference = 0;
};

// The colour of a difference in [-1, 1]: blue for more orders than the baseline, red for
// fewer, pale near 0; "#rrggbb".
std::string difference_colour(double level);

// One variant's diagram drawn from the document's diagram interchange: shapes by element
// kind, each flow node filled on the heat scale by the variant's "elements" count and
// labelled with a count badge (0: grey and dashed), sequence flows as arrows whose width
// follows the variant's "flows" count. `index` keeps the SVG's ids (arrowhead markers)
// unique within the page. A missing document or one without diagram interchange gives a
// paragraph saying so instead.
std::string diagram_svg(const nlohmann::json& variant, const BpmnDocument* document,
                        const HeatScale& heat, std::size_t index);

}  // namespace ordo::sim::report
