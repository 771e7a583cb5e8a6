#include "conformance_command.h"

#include <cstdio>
#include <iostream>
#include <string>

#include "ordo/mining/conformance.h"
#include "ordo/ordo.h"

namespace ordo::cli {
namespace {

// `x` with `digits` decimals.
std::string fixed(double x, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

// "C-17  fitness 0.83  missing: charge-payment (flow f-pay-start, event 3); remaining: f-checked"
std::string case_line(const CaseConformance& c, std::size_t width) {
  std::string line =
      c.case_id + std::string(width - c.case_id.size(), ' ') + "fitness " + fixed(c.fitness, 2);
  std::string missing;
  for (const MissingToken& m : c.missing) {
    if (m.unknown_activity) continue;
    missing += missing.empty() ? "" : ", ";
    if (m.event == 0) {
      missing += "end of case (" + m.place + ")";
      continue;
    }
    missing += m.before + " (" + (m.flow.empty() ? m.place : "flow " + m.flow) + ", event " +
               std::to_string(m.event) + ")";
  }
  std::string remaining;
  for (const RemainingToken& r : c.remaining) {
    remaining += (remaining.empty() ? "" : ", ") + r.place;
    if (r.count > 1) remaining += " x" + std::to_string(r.count);
  }
  std::string unknown;
  for (const UnknownActivity& u : c.unknown_activities) {
    unknown += (unknown.empty() ? "" : ", ") + u.activity + " (event " + std::to_string(u.event) +
               ", line " + std::to_string(u.line) + ")";
  }
  std::string details;
  for (const auto& [label, text] :
       {std::pair{"missing: ", &missing}, std::pair{"remaining: ", &remaining},
        std::pair{"unknown activity: ", &unknown}}) {
    if (text->empty()) continue;
    details += (details.empty() ? "" : "; ") + std::string(label) + *text;
  }
  return line + "  " + details;
}

}  // namespace

struct ConformanceCommand::Args {
  std::string process;
  std::string log;
  std::string process_id;
  std::string case_column = "case_id";
  std::string activity_column;
  std::string time_column;
  bool json = false;
};

ConformanceCommand::ConformanceCommand(CLI::App& app) : args_(std::make_unique<Args>()) {
  cmd_ = app.add_subcommand(
      "conformance",
      "Check an event log (what really happened) against a process by token-based replay");
  cmd_->add_option("process", args_->process, "BPMN file")->required();
  cmd_->add_option("--log", args_->log,
                   "The event log: CSV with a header, or JSON Lines (.jsonl), one event a row; or "
                   "XES (.xes, or .xes.gz compressed), as ordo replay --events writes it")
      ->required()
      ->type_name("FILE");
  cmd_->add_option("--process-id", args_->process_id,
                   "Which process of the file (default: the first)");
  cmd_->add_option("--case-column", args_->case_column, "The column naming each event's case")
      ->capture_default_str();
  cmd_->add_option("--activity-column", args_->activity_column,
                   "The column with the activity, an element id or name (default: activity_id "
                   "when a row has it, else activity)");
  cmd_->add_option("--time-column", args_->time_column,
                   "The column with the ISO 8601 time (default: timestamp, else end_time, else "
                   "start_time)");
  cmd_->add_flag("--json", args_->json, "Print the report as one JSON document");
  cmd_->footer(
      "Each case's events are replayed in time order on the process as a Petri net: flows are "
      "places, activities and logged events transitions, gateways silent steps. A transition "
      "without its input gets a 'missing' token; tokens left at the end are 'remaining'. "
      "Fitness = 0.5*(1 - missing/consumed) + 0.5*(1 - remaining/produced), per case and over "
      "the log. Without --json: one line per case that does not fit, then a summary. See "
      "docs/conformance.md.\nExit status: 0 when every case fits, 1 when some case deviates "
      "or the process or the log cannot be read or has errors, 2 on bad usage.");
}

ConformanceCommand::~ConformanceCommand() = default;

std::optional<int> ConformanceCommand::run() const {
  if (!cmd_->parsed()) return std::nullopt;
  const Args& a = *args_;
  const auto fail = [](const std::string& why) {
    std::cerr << "ordo conformance: " << why << '\n';
    return 1;
  };
  LoadResult loaded = load_bpmn_file(a.process);
  for (const Diagnostic& d : loaded.diagnostics) {
    if (d.severity == Severity::kError) std::cerr << format_diagnostic(d) << '\n';
  }
  if (!loaded.ok()) return fail(a.process + ": the process has errors");
  const ProcessDefinition* process = nullptr;
  if (a.process_id.empty()) {
    if (loaded.document->processes.empty()) return fail(a.process + ": no executable process");
    process = loaded.document->processes.front().get();
  } else if (!(process = loaded.document->find_process(a.process_id))) {
    return fail(a.process + ": no process '" + a.process_id + "'");
  }
  Result<std::unique_ptr<OrderLogReader>> log = OrderLogReader::open(a.log);
  if (!log) return fail(log.status().message());
  ConformanceOptions options;
  options.case_column = a.case_column;
  if (!a.activity_column.empty()) {
    options.activity_column = a.activity_column;
    options.activity_id_column.clear();
  }
  options.time_column = a.time_column;
  options.log_name = a.log;
  Result<ConformanceReport> report = check_conformance(*process, **log, options);
  if (!report) return fail(report.status().message());
  const ConformanceReport& r = *report;
  const bool all_fit = r.fitting_cases == r.cases.size();
  if (a.json) {
    std::cout << to_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return all_fit ? 0 : 1;
  }
  std::size_t width = 8;
  for (const CaseConformance& c : r.cases) width = std::max(width, c.case_id.size() + 2);
  for (const CaseConformance& c : r.cases) {
    if (!c.fits()) std::cout << case_line(c, width) << '\n';
  }
  const double share =
      r.cases.empty() ? 1.0
                      : static_cast<double>(r.fitting_cases) / static_cast<double>(r.cases.size());
  if (!all_fit) std::cout << '\n';
  std::cout << r.cases.size() << (r.cases.size() == 1 ? " case, " : " cases, ") << r.fitting_cases
            << " fitting (" << fixed(100.0 * share, 1) << "%)\n"
            << "fitness " << fixed(r.fitness, 4) << "\n"
            << "tokens: produced " << r.tokens.produced << ", consumed " << r.tokens.consumed
            << ", missing " << r.tokens.missing << ", remaining " << r.tokens.remaining << '\n';
  return all_fit ? 0 : 1;
}

}  // namespace ordo::cli
