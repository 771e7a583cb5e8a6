// The DMN TCK (../shared/corpus/dmn-tck, from github.com/dmn-tck/tck): every test case of
// compliance levels 2 and 3 run through the public API (ordo/decision.h) and counted, as the
// TCK's own runners count, per test case. Prints a line per test folder and the totals;
// skipped with a message when the corpus is absent.
#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "ordo/decision.h"

namespace ordo {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Test cases that must pass at each level: raised as the engine passes more; never lowered.
constexpr int kLevel2Floor = 116;
constexpr int kLevel3Floor = 2541;

constexpr std::size_t kDetailsPerFolder = 3;  // failures printed per test folder, unless
                                              // ORDO_TCK_DETAILS=all asks for every one
constexpr std::size_t kDetailLength = 200;    // characters of each

fs::path level_dir(int level) {
  return fs::path(ORDO_CORPUS_DIR) / "dmn-tck" / ("compliance-level-" + std::to_string(level));
}

// ---- The test files ----

// A name without its namespace prefix: "xsd:decimal" -> "decimal", "tc:value" -> "value".
std::string_view local_name(std::string_view name) {
  const std::size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

std::string trimmed(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const std::size_t last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

// The child elements of `node` called `local` (whatever their prefix), in document order.
std::vector<pugi::xml_node> children(const pugi::xml_node& node, std::string_view local) {
  std::vector<pugi::xml_node> found;
  for (const pugi::xml_node& c : node.children()) {
    if (c.type() == pugi::node_element && local_name(c.name()) == local) found.push_back(c);
  }
  return found;
}

pugi::xml_node child(const pugi::xml_node& node, std::string_view local) {
  const std::vector<pugi::xml_node> found = children(node, local);
  return found.empty() ? pugi::xml_node() : found.front();
}

// The value of a prefixed attribute by its local name (xsi:type, xsi:nil); "" when absent.
std::string_view prefixed_attribute(const pugi::xml_node& node, std::string_view local) {
  for (const pugi::xml_attribute& a : node.attributes()) {
    const std::string_view name = a.name();
    if (name.find(':') != std::string_view::npos && local_name(name) == local) return a.value();
  }
  return {};
}

bool is_nil(const pugi::xml_node& node) {
  return trimmed(prefixed_attribute(node, "nil")) == "true";
}

// An xsd number as decision JSON reads it from text (ordo/decision.h: a JSON number, or a
// typed decimal when a double would not hold it exactly); the text itself (a string, which
// then matches no number) when it is no number at all.
json number(const std::string& text) {
  // As JSON writes it: no '+', no leading zeros ("01.3"), a digit before the point (".035").
  std::string digits = text.starts_with('+') ? text.substr(1) : text;
  const std::size_t sign = digits.starts_with('-') ? 1 : 0;
  while (digits.size() > sign + 1 && digits[sign] == '0' && std::isdigit(digits[sign + 1]) != 0) {
    digits.erase(sign, 1);
  }
  if (digits.size() > sign && digits[sign] == '.') digits.insert(sign, "0");
  std::optional<json> parsed = parse_decision_json(digits);
  if (parsed && (parsed->is_number() || parsed->is_object())) return *std::move(parsed);
  return text;
}

// A number of the decision JSON (a JSON number or a typed decimal) as a double, to compare.
std::optional<double> number_of(const json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_object() && j.size() == 2 && j.value("@type", "") == "number" &&
      j.contains("value") && j["value"].is_string()) {
    const std::string& text = j["value"].get_ref<const std::string&>();
    double d = 0;
    if (auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
        ec == std::errc()) {
      return d;
    }
  }
  return std::nullopt;
}

// A <value> element: its text as the JSON its xsi:type makes it (decision.h: temporal values
// are {"@type", "value"} objects; a value without a type is a string).
json simple_value(const pugi::xml_node& value) {
  if (is_nil(value)) return nullptr;
  const std::string text = value.text().get();
  const std::string_view type = local_name(prefixed_attribute(value, "type"));
  if (type == "decimal" || type == "double" || type == "integer" || type == "int" ||
      type == "long") {
    return number(trimmed(text));
  }
  if (type == "boolean") {
    const std::string b = trimmed(text);
    return json(b == "true" || b == "1");
  }
  if (type == "date" || type == "dateTime" || type == "time" || type == "duration") {
    return json{{"@type", std::string(type)}, {"value", trimmed(text)}};
  }
  return text;
}

// A valueType element (inputNode, expected, component, item) as JSON: its <value>, its
// <component>s as an object, or its <list> of <item>s as an array; null when nil or empty.
json value_of(const pugi::xml_node& node) {
  if (is_nil(node)) return nullptr;
  if (const pugi::xml_node value = child(node, "value")) return simple_value(value);
  if (const pugi::xml_node list = child(node, "list")) {
    if (is_nil(list)) return nullptr;
    json items = json::array();
    for (const pugi::xml_node& item : children(list, "item")) items.push_back(value_of(item));
    return items;
  }
  const std::vector<pugi::xml_node> components = children(node, "component");
  if (components.empty()) return nullptr;
  json context = json::object();
  for (const pugi::xml_node& c : components) context[c.attribute("name").value()] = value_of(c);
  return context;
}

// ---- Results ----

// An ISO 8601 duration as months and nanoseconds, signed ("P1Y0M" is 12 months, "P0D" and
// "PT0S" nothing); nullopt when `text` is not one.
std::optional<std::pair<std::int64_t, std::int64_t>> duration_value(std::string_view text) {
  std::int64_t sign = 1, months = 0, nanos = 0;
  if (text.starts_with('-')) sign = -1, text.remove_prefix(1);
  if (!text.starts_with('P')) return std::nullopt;
  text.remove_prefix(1);
  bool in_time = false;
  while (!text.empty()) {
    if (text.front() == 'T') {
      in_time = true;
      text.remove_prefix(1);
      continue;
    }
    std::int64_t whole_part = 0, fraction = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), whole_part);
    if (ec != std::errc()) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(p - text.data()));
    if (text.starts_with('.')) {
      text.remove_prefix(1);
      std::int64_t scale = 100'000'000;
      while (!text.empty() && text.front() >= '0' && text.front() <= '9') {
        fraction += (text.front() - '0') * scale;
        scale /= 10;
        text.remove_prefix(1);
      }
    }
    if (text.empty()) return std::nullopt;
    const char unit = text.front();
    text.remove_prefix(1);
    constexpr std::int64_t kSecond = 1'000'000'000;
    if (!in_time && unit == 'Y') months += whole_part * 12;
    else if (!in_time && unit == 'M') months += whole_part;
    else if (!in_time && unit == 'D') nanos += whole_part * 86'400 * kSecond;
    else if (in_time && unit == 'H') nanos += whole_part * 3'600 * kSecond;
    else if (in_time && unit == 'M') nanos += whole_part * 60 * kSecond;
    else if (in_time && unit == 'S') nanos += whole_part * kSecond + fraction;
    else return std::nullopt;
  }
  return std::make_pair(sign * months, sign * nanos);
}

// Whether `got` is `expected`: numbers within 1e-8 (relative to a magnitude above 1), strings,
// booleans and null exactly, contexts with the same keys and equal values, lists element by
// element. Temporal values are {"@type", "value"} contexts: durations compare by value (the
// TCK writes a zero years-and-months duration "P0Y" in one place and "P0M" in another, as its
// runners compare values), dates and times by their text.
bool same(const json& expected, const json& got) {
  if (expected.is_object() && got.is_object() && expected.value("@type", "") == "duration" &&
      got.value("@type", "") == "duration" && expected.contains("value") &&
      got.contains("value") && expected["value"].is_string() && got["value"].is_string()) {
    const auto e = duration_value(expected["value"].get<std::string>());
    const auto g = duration_value(got["value"].get<std::string>());
    return e.has_value() && e == g;
  }
  if (const std::optional<double> e = number_of(expected)) {
    const std::optional<double> g = number_of(got);
    return g.has_value() && std::fabs(*e - *g) <= 1e-8 * std::max(1.0, std::fabs(*e));
  }
  if (expected.is_object()) {
    if (!got.is_object() || got.size() != expected.size()) return false;
    for (auto it = expected.begin(); it != expected.end(); ++it) {
      const auto found = got.find(it.key());
      if (found == got.end() || !same(it.value(), *found)) return false;
    }
    return true;
  }
  if (expected.is_array()) {
    if (!got.is_array() || got.size() != expected.size()) return false;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      if (!same(expected[i], got[i])) return false;
    }
    return true;
  }
  return expected == got;
}

std::string shown(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string shortened(std::string text) {
  if (text.size() > kDetailLength) text = text.substr(0, kDetailLength - 3) + "...";
  return text;
}

// Why the result node `node` fails with `got`; nullopt when it passes. A node with
// errorResult="true" passes when the evaluation failed or gave null.
std::optional<std::string> check(const pugi::xml_node& node, const Result<json>& got) {
  if (node.attribute("errorResult").as_bool()) {
    if (!got.is_ok() || got->is_null()) return std::nullopt;
    return "expected an error, got " + shown(*got);
  }
  const json expected = value_of(child(node, "expected"));
  if (!got.is_ok()) return "expected " + shown(expected) + ", got " + got.status().to_string();
  if (same(expected, *got)) return std::nullopt;
  return "expected " + shown(expected) + ", got " + shown(*got);
}

// A decision, or a decision service, evaluated; an exception (the engine is not meant to throw)
// becomes a failure rather than ending the run.
Result<json> evaluate(const DecisionModel& model, bool service, const std::string& name,
                      const json& inputs) {
  try {
    return service ? evaluate_decision_service(model, name, inputs)
                   : evaluate_decision(model, name, inputs);
  } catch (const std::exception& e) {
    return Status::internal(std::string("exception: ") + e.what());
  }
}

// What a decision service gave for its output decision `name`: the whole result when the
// test case checks one output (a service with one output decision gives its value), else
// the context's entry.
Result<json> output_of(const Result<json>& service_result, const std::string& name,
                       bool several) {
  if (!several || !service_result.is_ok()) return service_result;
  const json& context = *service_result;
  if (!context.is_object() || !context.contains(name)) return Result<json>(json(nullptr));
  return Result<json>(context.at(name));
}

// Runs one <testCase>: nullopt when all its result nodes pass, else why the first fails.
std::optional<std::string> run_case(const DecisionModel& model, const pugi::xml_node& test_case) {
  json inputs = json::object();
  for (const pugi::xml_node& input : children(test_case, "inputNode")) {
    inputs[input.attribute("name").value()] = value_of(input);
  }
  const std::vector<pugi::xml_node> nodes = children(test_case, "resultNode");
  const bool service = std::string_view(test_case.attribute("type").value()) == "decisionService";
  std::optional<Result<json>> service_result;  // a service is invoked once for all its nodes
  if (service) {
    service_result.emplace(
        evaluate(model, true, test_case.attribute("invocableName").value(), inputs));
  }
  for (const pugi::xml_node& node : nodes) {
    const std::string name = node.attribute("name").value();
    const Result<json> got = service ? output_of(*service_result, name, nodes.size() > 1)
                                     : evaluate(model, false, name, inputs);
    if (std::optional<std::string> why = check(node, got)) return "node " + name + ": " + *why;
  }
  return std::nullopt;
}

// The models of a test file: the one its <modelName> names first, then the folder's other
// .dmn files (the models it imports), by name.
std::vector<std::string> model_files(const fs::path& folder, const pugi::xml_node& test_cases) {
  const std::string main_model = trimmed(child(test_cases, "modelName").text().get());
  std::vector<std::string> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder)) {
    if (entry.path().extension() == ".dmn") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  std::stable_partition(files.begin(), files.end(), [&main_model](const std::string& file) {
    return fs::path(file).filename().string() == main_model;
  });
  return files;
}

// The paths in `dir` that `keep` accepts, by name.
template <typename Keep>
std::vector<fs::path> sorted_entries(const fs::path& dir, Keep keep) {
  std::vector<fs::path> found;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (keep(entry)) found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

struct FolderOutcome {
  int cases = 0;
  int passed = 0;
  std::vector<std::string> failures;  // the first kDetailsPerFolder, shortened
  bool broken = false;                // a test file or a model that does not load
};

// Runs every test file (*-test-NN.xml) of one TCK folder.
FolderOutcome run_folder(const fs::path& folder) {
  FolderOutcome out;
  const char* const details = std::getenv("ORDO_TCK_DETAILS");
  const bool all = details != nullptr && std::string_view(details) == "all";
  const auto fail = [&out, all](std::string detail) {
    if (all || out.failures.size() < kDetailsPerFolder) {
      out.failures.push_back(shortened(std::move(detail)));
    }
  };
  const std::vector<fs::path> test_files =
      sorted_entries(folder, [](const fs::directory_entry& entry) {
        const std::string name = entry.path().filename().string();
        return entry.is_regular_file() && name.find("-test-") != std::string::npos &&
               name.ends_with(".xml");
      });
  for (const fs::path& test_file : test_files) {
    const std::string file_name = test_file.filename().string();
    pugi::xml_document doc;
    // A <value> of spaces alone is a string of spaces, not empty: keep such text.
    const pugi::xml_parse_result parsed =
        doc.load_file(test_file.c_str(), pugi::parse_default | pugi::parse_ws_pcdata_single);
    if (!parsed) {
      out.broken = true;
      fail(file_name + " does not parse: " + parsed.description());
      continue;
    }
    const pugi::xml_node test_cases = doc.document_element();
    const std::vector<pugi::xml_node> cases = children(test_cases, "testCase");
    // As the TCK's runners count: a decision that does not compile fails its own test
    // cases, not every case of the model.
    DecisionLoadOptions lenient;
    lenient.keep_invalid_decisions = true;
    const DecisionLoad load = load_decision_files(model_files(folder, test_cases), lenient);
    if (!load.ok()) {
      out.broken = true;
      std::string why = file_name + ": the model does not load:";
      for (std::size_t i = 0; i < load.diagnostics.size() && i < 2; ++i) {
        why += " " + format_diagnostic(load.diagnostics[i]);
      }
      fail(why);
    }
    for (const pugi::xml_node& test_case : cases) {
      ++out.cases;
      if (!load.ok()) continue;
      if (std::optional<std::string> why = run_case(*load.model, test_case)) {
        fail("case " + std::string(test_case.attribute("id").value()) + " " + *why);
      } else {
        ++out.passed;
      }
    }
  }
  return out;
}

// Runs every folder of one compliance level, printing a line per folder, the total and the
// folders that failed; returns the test cases passed.
int run_level(int level, const fs::path& dir) {
  const std::vector<fs::path> folders = sorted_entries(
      dir, [](const fs::directory_entry& entry) { return entry.is_directory(); });
  int cases = 0;
  int passed = 0;
  std::vector<std::string> failed;
  for (const fs::path& folder : folders) {
    const std::string name = folder.filename().string();
    const FolderOutcome outcome = run_folder(folder);
    cases += outcome.cases;
    passed += outcome.passed;
    const bool ok = outcome.passed == outcome.cases && !outcome.broken;
    if (!ok) failed.push_back(name);
    std::cout << (ok ? "PASS " : "FAIL ") << name << ' ' << outcome.passed << '/' << outcome.cases;
    for (std::size_t i = 0; i < outcome.failures.size(); ++i) {
      std::cout << (i == 0 ? ": " : "\n    ") << outcome.failures[i];
    }
    std::cout << '\n';
  }
  std::cout << "TCK level " << level << ": " << passed << '/' << cases << " test cases passed\n";
  std::cout << "TCK level " << level << " failed folders (" << failed.size() << "):";
  for (const std::string& name : failed) std::cout << ' ' << name;
  std::cout << std::endl;
  return passed;
}

TEST(DmnTck, ComplianceLevel2) {
  const fs::path dir = level_dir(2);
  if (!fs::is_directory(dir)) GTEST_SKIP() << "DMN TCK not found at " << dir.string();
  EXPECT_GE(run_level(2, dir), kLevel2Floor) << "fewer TCK level 2 test cases pass than before";
}

TEST(DmnTck, ComplianceLevel3) {
  const fs::path dir = level_dir(3);
  if (!fs::is_directory(dir)) GTEST_SKIP() << "DMN TCK not found at " << dir.string();
  EXPECT_GE(run_level(3, dir), kLevel3Floor) << "fewer TCK level 3 test cases pass than before";
}

}  // namespace
}  // namespace ordo
