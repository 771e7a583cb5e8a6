// The replay report's drawings and formatting: see sim/replay_report_svg.h.
#include "sim/replay_report_svg.h"
#include "sim/xml_text.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <optional>

namespace ordo::sim::report {
namespace {

using nlohmann::json;

constexpr std::string_view kMinus = "\u2212";

std::optional<double> number_at(const json& object, std::string_view key) {
  if (!object.is_object()) return std::nullopt;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

// object[outer][key] as a number.
std::optional<double> number_at(const json& object, std::string_view outer, std::string_view key) {
  if (!object.is_object()) return std::nullopt;
  const auto it = object.find(outer);
  return it == object.end() ? std::nullopt : number_at(*it, key);
}

// A coordinate: one decimal at most.
std::string c(double v) {
  return trimmed(v, 1);
}

std::string count_text(double v) {
  return trimmed(v, 0);
}

// Code points in UTF-8 text (continuation bytes are not counted).
std::size_t glyphs(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char ch) { return (ch & 0xC0) != 0x80; }));
}

// The byte length of the first `n` code points of `s`.
std::size_t prefix_bytes(std::string_view s, std::size_t n) {
  std::size_t i = 0;
  for (std::size_t seen = 0; i < s.size(); ++i) {
    if ((s[i] & 0xC0) != 0x80) {
      if (seen == n) break;
      ++seen;
    }
  }
  return i;
}

// Greedy word wrap to `width` pixels at roughly `char_px` per character, at most `max_lines`
// (the last one cut with an ellipsis). Approximate: no font metrics without a renderer.
std::vector<std::string> wrap(std::string_view text, double width, double char_px,
                              std::size_t max_lines) {
  const auto per_line =
      std::max<std::size_t>(4, static_cast<std::size_t>(std::max(0.0, width / char_px)));
  std::vector<std::string> lines;
  std::string line;
  bool truncated = false;
  auto flush = [&] {
    if (lines.size() == max_lines) {
      truncated = true;
    } else {
      lines.push_back(line);
    }
    line.clear();
  };
  std::size_t start = 0;
  while (start <= text.size() && !truncated) {
    const std::size_t end = text.find_first_of(" \n\t", start);
    std::string_view word =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    while (!word.empty() && !truncated) {
      const std::size_t room =
          line.empty() ? per_line : per_line - std::min(per_line, glyphs(line) + 1);
      if (glyphs(word) <= room) {
        if (!line.empty()) line += ' ';
        line += word;
        word = {};
      } else if (line.empty()) {  // longer than a line: break it
        const std::size_t cut = prefix_bytes(word, per_line);
        line.append(word.substr(0, cut));
        word.remove_prefix(cut);
        flush();
      } else {
        flush();
      }
    }
    if (end == std::string_view::npos) break;
    if (text[end] == '\n' && !line.empty()) flush();
    start = end + 1;
  }
  if (!line.empty() && !truncated) flush();
  if (truncated && !lines.empty()) {
    std::string& last = lines.back();
    last.resize(prefix_bytes(last, per_line > 1 ? per_line - 1 : per_line));
    last += "\u2026";
  }
  return lines;
}

// Lines of text centred on `cx`, the first baseline at `y`.
std::string text_lines(const std::vector<std::string>& lines, double cx, double y,
                       std::string_view cls, std::string_view anchor = "middle") {
  if (lines.empty()) return {};
  std::string out = "<text class=\"" + std::string(cls) + "\" x=\"" + c(cx) + "\" y=\"" + c(y) +
                    "\" text-anchor=\"" + std::string(anchor) + "\">";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += "<tspan x=\"" + c(cx) + "\"" + (i == 0 ? std::string() : " dy=\"14\"") + ">" +
           escape(lines[i]) + "</tspan>";
  }
  return out + "</text>";
}

// ---------------------------------------------------------------------------------------
// The heat scale: pale (few orders) to strong (the most).

struct Rgb {
  double r, g, b;
};
constexpr Rgb kPale{253, 240, 225};
constexpr Rgb kStrong{214, 72, 16};

std::string hex(Rgb colour) {
  constexpr std::string_view digits = "0123456789abcdef";
  std::string out = "#";
  for (double v : {colour.r, colour.g, colour.b}) {
    const auto byte = static_cast<unsigned>(std::clamp(std::lround(v), 0L, 255L));
    out += digits[byte >> 4];
    out += digits[byte & 15];
  }
  return out;
}

double heat_level(double count, double max) {
  return max > 0 ? std::clamp(count / max, 0.0, 1.0) : 0.0;
}

// "+12", "−30", "±0"
std::string signed_count(double v) {
  if (std::abs(v) < 0.5) return "\u00b10";
  return (v > 0 ? "+" : "\u2212") + trimmed(std::abs(v), 0);
}

// ---------------------------------------------------------------------------------------
// Diagram shapes.

struct Node {
  const DiagramShape* shape = nullptr;
  const Element* element = nullptr;  // null: a shape of something else (pool, lane, ...)
  const Participant* participant = nullptr;
  double count = 0;
  std::optional<double> difference;  // a difference diagram: count minus the baseline's
};

std::string badge(double right, double top, double count,
                  const std::optional<double>& difference = std::nullopt) {
  const std::string text = difference ? signed_count(*difference) : count_text(count);
  const bool zero = difference ? std::abs(*difference) < 0.5 : count <= 0;
  const double w = 10 + 6.5 * static_cast<double>(text.size());
  const double x = right - w + 8;
  return "<g class=\"badge" + std::string(zero ? " zero" : "") + "\"><rect x=\"" + c(x) +
         "\" y=\"" + c(top - 9) + "\" width=\"" + c(w) + "\" height=\"16\" rx=\"8\"/><text x=\"" +
         c(x + w / 2) + "\" y=\"" + c(top + 3) + "\" text-anchor=\"middle\">" + text +
         "</text></g>";
}

// The name of an event or gateway: in its DI label's box, else under the shape.
std::string outside_label(const DiagramShape& shape, std::string_view name) {
  if (name.empty()) return {};
  if (shape.label && shape.label->width > 0) {
    const Bounds& l = *shape.label;
    return text_lines(wrap(name, std::max(l.width, 60.0), 6.2, 3), l.x + l.width / 2, l.y + 11,
                      "label");
  }
  const Bounds& b = shape.bounds;
  return text_lines(wrap(name, 90, 6.2, 3), b.x + b.width / 2, b.y + b.height + 14, "label");
}

std::string gateway_marker(ElementKind kind, double cx, double cy, double size) {
  const double h = size * 0.2;
  switch (kind) {
    case ElementKind::kExclusiveGateway:
      return "<path class=\"marker\" d=\"M" + c(cx - h) + "," + c(cy - h) + " L" + c(cx + h) + "," +
             c(cy + h) + " M" + c(cx + h) + "," + c(cy - h) + " L" + c(cx - h) + "," + c(cy + h) +
             "\"/>";
    case ElementKind::kParallelGateway:
      return "<path class=\"marker\" d=\"M" + c(cx) + "," + c(cy - h * 1.3) + " L" + c(cx) + "," +
             c(cy + h * 1.3) + " M" + c(cx - h * 1.3) + "," + c(cy) + " L" + c(cx + h * 1.3) + "," +
             c(cy) + "\"/>";
    case ElementKind::kInclusiveGateway:
      return "<circle class=\"marker\" cx=\"" + c(cx) + "\" cy=\"" + c(cy) + "\" r=\"" +
             c(h * 1.2) + "\" fill=\"none\"/>";
    case ElementKind::kEventBasedGateway: {
      std::string pentagon;
      for (int i = 0; i < 5; ++i) {
        const double a = -std::numbers::pi / 2 + 2 * std::numbers::pi * i / 5;
        pentagon +=
            (i ? " " : "") + c(cx + h * 0.8 * std::cos(a)) + "," + c(cy + h * 0.8 * std::sin(a));
      }
      return "<circle class=\"marker thin\" cx=\"" + c(cx) + "\" cy=\"" + c(cy) + "\" r=\"" +
             c(h * 1.3) + "\" fill=\"none\"/><polygon class=\"marker thin\" points=\"" + pentagon +
             "\" fill=\"none\"/>";
    }
    default:
      return {};
  }
}

std::string draw_node(const Node& node, const HeatScale& heat) {
  const Bounds& b = node.shape->bounds;
  if (!node.element) {  // a pool, lane or artefact: an outline with its name
    std::string out = "<g class=\"other\"><rect x=\"" + c(b.x) + "\" y=\"" + c(b.y) +
                      "\" width=\"" + c(b.width) + "\" height=\"" + c(b.height) + "\"/>";
    if (node.participant && !node.participant->name.empty()) {
      out += "<text class=\"label\" transform=\"translate(" + c(b.x + 18) + "," +
             c(b.y + b.height / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
             escape(node.participant->name) + "</text>";
    }
    return out + "</g>";
  }
  const Element& e = *node.element;
  const double level = node.difference ? heat_level(std::abs(*node.difference), heat.max_element_difference)
                                       : heat_level(node.count, heat.max_element);
  const bool visited = node.difference ? std::abs(*node.difference) >= 0.5 || node.count > 0
                                       : node.count > 0;
  const std::string fill =
      node.difference
          ? difference_colour(std::abs(*node.difference) < 0.5 ? 0.0
                                                               : (*node.difference > 0 ? level : -level))
          : (visited ? heat_colour(level) : "#f2f2f2");
  const std::string name = e.name.empty() ? e.id : e.name;
  const double cx = b.x + b.width / 2;
  const double cy = b.y + b.height / 2;
  const std::string text_class = level > 0.6 ? "name dark" : "name";

  std::string out = "<g class=\"node " + std::string(to_string(e.kind)) +
                    (visited ? "" : " unvisited") + "\" data-element=\"" + escape(e.id) +
                    "\" data-count=\"" + count_text(node.count) + "\"" +
                    (node.difference ? " data-difference=\"" + signed_count(*node.difference) + "\""
                                     : std::string()) +
                    "><title>" + escape(name) + " (" + escape(e.id) + "): " +
                    count_text(node.count) + " orders" +
                    (node.difference ? ", " + signed_count(*node.difference) + " against the baseline"
                                     : std::string()) +
                    "</title>";
  if (is_event(e.kind)) {
    const double r = std::min(b.width, b.height) / 2;
    std::string cls = "shape";
    if (e.kind == ElementKind::kEndEvent) cls += " end";
    if (e.kind == ElementKind::kBoundaryEvent && !e.cancel_activity) cls += " non-interrupting";
    out += "<circle class=\"" + cls + "\" cx=\"" + c(cx) + "\" cy=\"" + c(cy) + "\" r=\"" + c(r) +
           "\" fill=\"" + fill + "\"/>";
    const bool intermediate = e.kind == ElementKind::kIntermediateCatchEvent ||
                              e.kind == ElementKind::kIntermediateThrowEvent ||
                              e.kind == ElementKind::kBoundaryEvent;
    if (intermediate) {
      out += "<circle class=\"" + cls + " inner\" cx=\"" + c(cx) + "\" cy=\"" + c(cy) + "\" r=\"" +
             c(std::max(1.0, r - 3)) + "\" fill=\"none\"/>";
    }
    out += outside_label(*node.shape, e.name);
  } else if (is_gateway(e.kind)) {
    out += "<polygon class=\"shape\" points=\"" + c(cx) + "," + c(b.y) + " " + c(b.x + b.width) +
           "," + c(cy) + " " + c(cx) + "," + c(b.y + b.height) + " " + c(b.x) + "," + c(cy) +
           "\" fill=\"" + fill + "\"/>";
    out += gateway_marker(e.kind, cx, cy, std::min(b.width, b.height));
    out += outside_label(*node.shape, e.name);
  } else {
    const bool subprocess =
        e.kind == ElementKind::kSubProcess || e.kind == ElementKind::kEventSubProcess;
    const bool expanded = subprocess && node.shape->expanded.value_or(b.width > 200);
    std::string cls = "shape";
    if (e.kind == ElementKind::kEventSubProcess) cls += " event-sub";
    if (e.kind == ElementKind::kCallActivity) cls += " call";
    if (expanded) cls += " expanded";
    out += "<rect class=\"" + cls + "\" x=\"" + c(b.x) + "\" y=\"" + c(b.y) + "\" width=\"" +
           c(b.width) + "\" height=\"" + c(b.height) + "\" rx=\"10\" fill=\"" + fill + "\"/>";
    if (expanded) {
      out += text_lines(wrap(name, b.width - 16, 6.8, 2), b.x + 8, b.y + 16, "name", "start");
    } else {
      const auto lines = wrap(name, b.width - 10, 6.8,
                              std::max<std::size_t>(1, static_cast<std::size_t>(b.height / 16)));
      const double first =
          cy + 4 - 7.0 * static_cast<double>(lines.size() - (lines.empty() ? 0 : 1));
      out += text_lines(lines, cx, first, text_class);
      if (subprocess) {  // collapsed: the "+" box
        out += "<rect class=\"marker thin\" x=\"" + c(cx - 7) + "\" y=\"" + c(b.y + b.height - 16) +
               "\" width=\"14\" height=\"14\" fill=\"none\"/><path class=\"marker thin\" d=\"M" +
               c(cx - 4) + "," + c(b.y + b.height - 9) + " L" + c(cx + 4) + "," +
               c(b.y + b.height - 9) + " M" + c(cx) + "," + c(b.y + b.height - 13) + " L" + c(cx) +
               "," + c(b.y + b.height - 5) + "\"/>";
      }
    }
  }
  out += badge(b.x + b.width, b.y, node.count, node.difference);
  return out + "</g>";
}

// The point halfway along a polyline, and whether its segment there runs horizontally.
Point midpoint(const std::vector<Point>& points) {
  double total = 0;
  for (std::size_t i = 1; i < points.size(); ++i) {
    total += std::hypot(points[i].x - points[i - 1].x, points[i].y - points[i - 1].y);
  }
  double left = total / 2;
  for (std::size_t i = 1; i < points.size(); ++i) {
    const double len = std::hypot(points[i].x - points[i - 1].x, points[i].y - points[i - 1].y);
    if (len >= left && len > 0) {
      const double t = left / len;
      return {points[i - 1].x + (points[i].x - points[i - 1].x) * t,
              points[i - 1].y + (points[i].y - points[i - 1].y) * t};
    }
    left -= len;
  }
  return points.front();
}

std::string draw_edge(const DiagramEdge& edge, const SequenceFlow* flow,
                      const std::optional<double>& count, const HeatScale& heat,
                      std::size_t index) {
  if (edge.waypoints.size() < 2) return {};
  std::string points;
  for (const Point& p : edge.waypoints)
    points += (points.empty() ? "" : " ") + c(p.x) + "," + c(p.y);
  if (!flow) {  // a message flow or association
    return "<polyline class=\"other-edge\" points=\"" + points + "\"/>";
  }
  const double n = count.value_or(0);
  std::optional<double> difference;
  if (heat.baseline != nullptr) {
    difference = n - number_at(*heat.baseline, "flows", flow->id).value_or(0);
  }
  const bool taken = n > 0;
  const double width =
      difference ? (std::abs(*difference) < 0.5
                        ? 1
                        : 1.2 + 3.8 * heat_level(std::abs(*difference), heat.max_flow_difference))
                 : (taken ? 1.2 + 3.8 * heat_level(n, heat.max_flow) : 1);
  const std::string change = !difference                   ? std::string()
                             : std::abs(*difference) < 0.5 ? " same"
                             : *difference > 0            ? " more"
                                                          : " fewer";
  std::string out = "<g class=\"flow" + std::string(taken ? "" : " untaken") + change +
                    "\" data-flow=\"" +
                    escape(flow->id) + "\" data-count=\"" + count_text(n) + "\"><title>" +
                    escape(flow->name.empty() ? flow->id : flow->name) + ": " + count_text(n) +
                    " orders</title><polyline points=\"" + points + "\" stroke-width=\"" +
                    c(width) + "\" marker-end=\"url(#ordo-arrow-" + std::to_string(index) +
                    (taken ? "" : "-off") + ")\"/>";
  if (!flow->name.empty() && edge.label && edge.label->width > 0) {
    const Bounds& l = *edge.label;
    out += text_lines(wrap(flow->name, std::max(l.width, 40.0), 6.2, 2), l.x + l.width / 2,
                      l.y + 11, "label");
  } else if (!flow->name.empty()) {  // no label position saved: beside the flow's start
    const Point& p = edge.waypoints.front();
    out += text_lines(wrap(flow->name, 80, 6.2, 2), p.x + 6, p.y - 6, "label", "start");
  }
  if (difference ? std::abs(*difference) >= 0.5 : taken) {
    const Point m = midpoint(edge.waypoints);
    out += "<text class=\"flow-count\" x=\"" + c(m.x + 4) + "\" y=\"" + c(m.y - 4) + "\">" +
           (difference ? signed_count(*difference) : count_text(n)) + "</text>";
  }
  return out + "</g>";
}

const Diagram* pick_diagram(const BpmnDocument& document, std::string_view process_id) {
  if (!document.diagrams || document.diagrams->empty()) return nullptr;
  for (const Diagram& d : *document.diagrams) {
    if (d.plane_element == process_id) return &d;
  }
  for (const Participant& p : document.participants) {
    if (p.process_ref != process_id) continue;
    for (const Diagram& d : *document.diagrams) {
      for (const DiagramShape& s : d.shapes) {
        if (s.element_id == p.id) return &d;
      }
    }
  }
  return &document.diagrams->front();
}

// Back to front: pools and other outlines, expanded subprocesses (largest first), then the
// flows are drawn, then flow nodes, boundary events last (over their activity's border).
int layer(const Node& node) {
  if (!node.element) return 0;
  if (node.element->kind == ElementKind::kSubProcess ||
      node.element->kind == ElementKind::kEventSubProcess) {
    return node.shape->expanded.value_or(node.shape->bounds.width > 200) ? 1 : 2;
  }
  return node.element->kind == ElementKind::kBoundaryEvent ? 3 : 2;
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_xml_escaped(out, text);
  return out;
}

std::string fixed(double value, int decimals) {
  if (!std::isfinite(value)) return "\u2014";
  if (std::abs(value) < 0.5 * std::pow(10.0, -decimals)) value = 0;
  std::array<char, 64> buf{};
  const auto r =
      std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::fixed, decimals);
  std::string out(buf.data(), r.ptr);
  if (out.starts_with('-') && out.find_first_not_of("-0.") == std::string::npos) out.erase(0, 1);
  return out;
}

std::string trimmed(double value, int decimals) {
  std::string out = fixed(value, decimals);
  if (out.find('.') != std::string::npos) {
    while (out.ends_with('0')) out.pop_back();
    if (out.ends_with('.')) out.pop_back();
  }
  return out;
}

std::string human_duration(double seconds) {
  if (!std::isfinite(seconds)) return "\u2014";
  if (seconds < 0) return std::string(kMinus) + human_duration(-seconds);
  const auto ms = std::llround(seconds * 1000);
  if (ms == 0) return "0 s";
  if (ms < 1000) return std::to_string(ms) + " ms";
  if (ms < 10000) return trimmed(static_cast<double>(ms) / 1000, 1) + " s";
  const auto s = std::llround(seconds);
  if (s < 60) return std::to_string(s) + " s";
  auto two = [](long long big, std::string_view big_unit, long long small,
                std::string_view small_unit) {
    std::string out = std::to_string(big) + std::string(big_unit);
    if (small != 0) out += " " + std::to_string(small) + std::string(small_unit);
    return out;
  };
  if (s < 3600) return two(s / 60, "m", s % 60, "s");
  if (s < 86400) return two(s / 3600, "h", (s % 3600) / 60, "m");
  return two(s / 86400, "d", (s % 86400) / 3600, "h");
}

std::string heat_colour(double level) {
  level = std::clamp(level, 0.0, 1.0);
  return hex({kPale.r + (kStrong.r - kPale.r) * level, kPale.g + (kStrong.g - kPale.g) * level,
              kPale.b + (kStrong.b - kPale.b) * level});
}

std::string difference_colour(double level) {
  level = std::clamp(level, -1.0, 1.0);
  constexpr Rgb kNeutral{245, 245, 245}, kMore{33, 102, 172}, kFewer{178, 24, 43};
  const Rgb& to = level >= 0 ? kMore : kFewer;
  const double f = std::abs(level);
  return hex({kNeutral.r + (to.r - kNeutral.r) * f, kNeutral.g + (to.g - kNeutral.g) * f,
              kNeutral.b + (to.b - kNeutral.b) * f});
}

std::string_view variant_colour(std::size_t index) {
  static constexpr std::array<std::string_view, 8> kPalette = {
      "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#e15759"};
  return kPalette[index % kPalette.size()];
}

namespace {

// A count for a label over a bar: "950", "12.5k", "123k", "1.2M".
std::string short_count(double n) {
  if (n < 1000) return trimmed(n, 0);
  if (n < 10'000) return trimmed(n / 1000, 1) + "k";
  if (n < 999'500) return trimmed(std::round(n / 1000), 0) + "k";
  return trimmed(n / 1'000'000, 1) + "M";
}

}  // namespace

std::string histogram_svg(std::string_view title, const std::vector<const json*>& histograms,
                          const std::vector<std::string>& variant_names, ChartScale scale) {
  const json* bins = nullptr;
  for (const json* h : histograms) {
    if (h && h->is_array() && !h->empty()) {
      bins = h;
      break;
    }
  }
  if (!bins) return "<p class=\"empty\">No histogram in the report.</p>";
  const std::size_t nb = bins->size();
  const std::size_t nv = std::max<std::size_t>(1, histograms.size());
  auto count = [&](std::size_t v, std::size_t i) {
    const json* h = histograms[v];
    if (!h || !h->is_array() || i >= h->size()) return 0.0;
    return number_at((*h)[i], "count").value_or(0);
  };
  double max_count = 0, min_count = 0;
  std::size_t widest = 0;  // the longest count label, in characters
  for (std::size_t v = 0; v < histograms.size(); ++v) {
    for (std::size_t i = 0; i < nb; ++i) {
      const double n = count(v, i);
      max_count = std::max(max_count, n);
      if (n > 0 && (min_count == 0 || n < min_count)) min_count = n;
      if (n > 0) widest = std::max(widest, short_count(n).size());
    }
  }
  const bool log = scale == ChartScale::kLog ||
                   (scale == ChartScale::kAuto && min_count > 0 && max_count >= 100 * min_count);
  // Linear: an even top, so the middle grid line falls on a whole number of orders. Log: the
  // next power of ten.
  const double top_value = log ? std::pow(10.0, std::ceil(std::log10(std::max(max_count, 1.0))))
                               : (max_count > 1 ? 2 * std::ceil(max_count / 2) : 1);

  const double bar = nv == 1 ? 22 : std::max(8.0, 40.0 / static_cast<double>(nv));
  const double group = bar * static_cast<double>(nv) + 8;
  constexpr double kCharWidth = 5.6;  // of the 9.5px count labels
  // Counts wider than their bar stand upright; room is made above the tallest bar for them.
  const bool upright = static_cast<double>(widest) * kCharWidth > bar + 2;
  const double left = 52, plot_h = 160, bottom = 64;
  const double top = 16 + (upright ? static_cast<double>(widest) * kCharWidth : 0);
  const double plot_w = std::max(240.0, group * static_cast<double>(nb));
  const double width = left + plot_w + 12, height = top + plot_h + bottom;
  const auto bar_height = [&](double n) {
    if (n <= 0) return 0.0;
    // Log: one order is a sliver, not nothing.
    return log ? plot_h * std::max(0.02, std::log10(n + 1) / std::log10(top_value + 1))
               : plot_h * n / top_value;
  };
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart" +
                    std::string(log ? " log" : "") + "\" viewBox=\"0 0 " + c(width) + " " +
                    c(height) + "\" width=\"" + c(width) + "\" height=\"" + c(height) +
                    "\"><title>" + escape(title) + (log ? " (log scale)" : "") + "</title>";
  // Grid lines and the y axis: linear 0, half, the top; log 1, 10, 100, ... the top.
  std::vector<double> ticks;
  if (log) {
    ticks.push_back(0);
    for (double t = 1; t <= top_value; t *= 10) ticks.push_back(t);
  } else {
    ticks = {0.0, top_value / 2, top_value};
  }
  for (double t : ticks) {
    const double y = top + plot_h - bar_height(t);
    out += "<line class=\"grid\" x1=\"" + c(left) + "\" y1=\"" + c(y) + "\" x2=\"" +
           c(left + plot_w) + "\" y2=\"" + c(y) + "\"/><text class=\"tick\" x=\"" + c(left - 6) +
           "\" y=\"" + c(y + 4) + "\" text-anchor=\"end\">" + (log ? short_count(t) : trimmed(t, 1)) +
           "</text>";
  }
  out += "<text class=\"axis-title\" transform=\"translate(12," + c(top + plot_h / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + std::string(log ? "orders (log scale)" : "orders") +
         "</text>";
  std::string previous_edge;
  for (std::size_t i = 0; i < nb; ++i) {
    const double gx = left + group * static_cast<double>(i) + 4;
    for (std::size_t v = 0; v < histograms.size(); ++v) {
      const double n = count(v, i);
      const double h = bar_height(n);
      const double x = gx + bar * static_cast<double>(v);
      const std::string name = v < variant_names.size() ? variant_names[v] : std::string();
      out += "<rect class=\"bar\" data-variant=\"" + std::to_string(v) + "\" data-bin=\"" +
             std::to_string(i) + "\" data-count=\"" + count_text(n) + "\" x=\"" + c(x) + "\" y=\"" +
             c(top + plot_h - h) + "\" width=\"" + c(bar - 1) + "\" height=\"" + c(h) +
             "\" fill=\"" + std::string(variant_colour(v)) + "\"><title>" + escape(name) + ": " +
             count_text(n) + " orders</title></rect>";
      if (n > 0) {
        const double cx = x + (bar - 1) / 2;
        const double cy = top + plot_h - h - 3;
        out += upright ? "<text class=\"count\" transform=\"translate(" + c(cx + 3) + "," + c(cy) +
                             ") rotate(-90)\" text-anchor=\"start\">" + short_count(n) + "</text>"
                       : "<text class=\"count\" x=\"" + c(cx) + "\" y=\"" + c(cy) +
                             "\" text-anchor=\"middle\">" + short_count(n) + "</text>";
      }
    }
    const auto up_to = number_at((*bins)[i], "upTo");
    std::string label;
    if (up_to) {
      label = "\u2264 " + human_duration(*up_to);
      previous_edge = human_duration(*up_to);
    } else {
      label = previous_edge.empty() ? "all" : "> " + previous_edge;
    }
    const double lx = gx + bar * static_cast<double>(nv) / 2;
    const double ly = top + plot_h + 12;
    out += "<text class=\"tick\" transform=\"translate(" + c(lx) + "," + c(ly) +
           ") rotate(-35)\" text-anchor=\"end\">" + escape(label) + "</text>";
  }
  out += "<line class=\"axis\" x1=\"" + c(left) + "\" y1=\"" + c(top + plot_h) + "\" x2=\"" +
         c(left + plot_w) + "\" y2=\"" + c(top + plot_h) + "\"/>";
  return out + "</svg>";
}

std::string diagram_svg(const json& variant, const BpmnDocument* document, const HeatScale& heat,
                        std::size_t index) {
  const std::string process_id =
      variant.is_object() && variant.contains("process") && variant["process"].is_string()
          ? variant["process"].get<std::string>()
          : std::string();
  const Diagram* diagram = document ? pick_diagram(*document, process_id) : nullptr;
  if (!diagram || diagram->shapes.empty()) {
    return std::string("<p class=\"no-diagram\">") +
           (document ? "The BPMN file has no diagram interchange (BPMNDI), so there is no "
                       "diagram to draw."
                     : "The variant's BPMN document was not given, so there is no diagram.") +
           "</p>";
  }
  // The variant's process first, so its elements win when ids repeat across processes.
  std::vector<const ProcessDefinition*> processes;
  if (const ProcessDefinition* p = document->find_process(process_id)) processes.push_back(p);
  for (const auto& p : document->processes) {
    if (p && p.get() != document->find_process(process_id)) processes.push_back(p.get());
  }
  const json empty = json::object();
  const json& elements =
      variant.is_object() && variant.contains("elements") ? variant["elements"] : empty;
  const json& flows = variant.is_object() && variant.contains("flows") ? variant["flows"] : empty;

  std::vector<Node> nodes;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double x0 = kInf, y0 = kInf, x1 = -kInf, y1 = -kInf;
  auto extend = [&](double x, double y) {
    x0 = std::min(x0, x);
    y0 = std::min(y0, y);
    x1 = std::max(x1, x);
    y1 = std::max(y1, y);
  };
  for (const DiagramShape& s : diagram->shapes) {
    Node node{&s, nullptr, nullptr, 0, std::nullopt};
    for (const ProcessDefinition* p : processes) {
      if ((node.element = p->find_element(s.element_id))) break;
    }
    if (!node.element) {
      for (const Participant& pa : document->participants) {
        if (pa.id == s.element_id) node.participant = &pa;
      }
    }
    node.count = number_at(elements, s.element_id).value_or(0);
    if (heat.baseline != nullptr && node.element) {
      node.difference = node.count - number_at(*heat.baseline, "elements", s.element_id).value_or(0);
    }
    nodes.push_back(node);
    extend(s.bounds.x, s.bounds.y);
    extend(s.bounds.x + s.bounds.width, s.bounds.y + s.bounds.height);
    if (s.label) {
      extend(s.label->x, s.label->y);
      extend(s.label->x + s.label->width, s.label->y + s.label->height);
    }
  }
  for (const DiagramEdge& e : diagram->edges) {
    for (const Point& p : e.waypoints) extend(p.x, p.y);
  }
  const double margin = 24;
  x0 -= margin;
  y0 -= margin;
  const double w = x1 - x0 + margin, h = y1 - y0 + margin;
  const std::string id = std::to_string(index);

  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"diagram\" viewBox=\"" +
                    c(x0) + " " + c(y0) + " " + c(w) + " " + c(h) + "\" width=\"" + c(w) +
                    "\" height=\"" + c(h) + "\"><title>" + escape(process_id) + "</title><defs>";
  for (const char* suffix : {"", "-off"}) {
    out += "<marker id=\"ordo-arrow-" + id + suffix +
           "\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"10\" "
           "markerHeight=\"10\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><path d=\"M0,1 "
           "L10,5 L0,9 z\" class=\"arrow" +
           suffix + "\"/></marker>";
  }
  out += "</defs>";
  std::stable_sort(nodes.begin(), nodes.end(), [](const Node& a, const Node& b) {
    const int la = layer(a), lb = layer(b);
    if (la != lb) return la < lb;
    if (la == 1) {
      return a.shape->bounds.width * a.shape->bounds.height >
             b.shape->bounds.width * b.shape->bounds.height;
    }
    return false;
  });
  auto draw_layers = [&](int from, int to) {
    for (const Node& n : nodes) {
      if (layer(n) >= from && layer(n) <= to) out += draw_node(n, heat);
    }
  };
  draw_layers(0, 1);
  for (const DiagramEdge& e : diagram->edges) {
    const SequenceFlow* flow = nullptr;
    for (const ProcessDefinition* p : processes) {
      const FlowIndex fi = p->flow_index(e.element_id);
      if (fi != kNoIndex) {
        flow = &p->flows[fi];
        break;
      }
    }
    out += draw_edge(e, flow, number_at(flows, e.element_id), heat, index);
  }
  draw_layers(2, 3);
  return out + "</svg>";
}

}  // namespace ordo::sim::report
