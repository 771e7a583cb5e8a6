// ordo: the command-line tool. A thin layer over the public API (include/ordo/).
//
// Exit codes: 0 success, 1 the work found errors, 2 bad usage.
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "ordo/adapters/adapters.h"
#include "ordo/sim/order_log_gen.h"
#include "ordo/sim/simulation.h"
#include "ordo/ordo.h"
#include "conformance_command.h"
#include "decide_command.h"
#include "logging.h"  // library_log
#include "replay_command.h"
#include "serve_command.h"
#include "store_commands.h"
#include "time/iso8601.h"
#include "util/printable.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFound = 1;
constexpr int kExitUsage = 2;

struct ValidateArgs {
  std::vector<std::string> files;
  bool json = false;
  bool quiet = false;
};

int run_validate(const ValidateArgs& args) {
  std::vector<ordo::Diagnostic> all;
  std::vector<std::shared_ptr<const ordo::BpmnDocument>> documents;
  std::size_t processes = 0;
  for (const std::string& file : args.files) {
    ordo::LoadResult r = ordo::load_bpmn_file(file);
    if (r.document) processes += r.document->processes.size();
    documents.push_back(r.document);
    all.insert(all.end(), std::make_move_iterator(r.diagnostics.begin()),
               std::make_move_iterator(r.diagnostics.end()));
  }
  std::vector<ordo::Diagnostic> cross = ordo::check_called_elements(documents);
  all.insert(all.end(), cross.begin(), cross.end());

  std::size_t errors = 0, warnings = 0;
  for (const ordo::Diagnostic& d : all) {
    (d.severity == ordo::Severity::kError ? errors : warnings)++;
  }
  if (args.json) {
    std::cout << ordo::diagnostics_to_json(all) << '\n';
  } else {
    for (const ordo::Diagnostic& d : all) {
      if (args.quiet && d.severity != ordo::Severity::kError) continue;
      std::cout << ordo::format_diagnostic(d) << '\n';
    }
    if (!args.quiet) {
      std::cout << args.files.size() << (args.files.size() == 1 ? " file, " : " files, ")
                << processes << (processes == 1 ? " process: " : " processes: ") << errors
                << (errors == 1 ? " error, " : " errors, ") << warnings
                << (warnings == 1 ? " warning" : " warnings") << '\n';
    }
  }
  return errors > 0 ? kExitFound : kExitOk;
}

struct InspectArgs {
  std::string file;
  bool json = false;
  bool dot = false;
};

int run_inspect(const InspectArgs& args) {
  ordo::LoadResult r = ordo::load_bpmn_file(args.file);
  for (const ordo::Diagnostic& d : r.diagnostics) {
    if (d.severity == ordo::Severity::kError) std::cerr << ordo::format_diagnostic(d) << '\n';
  }
  if (!r.document) return kExitFound;
  if (args.json) {
    std::cout << ordo::outline_json(*r.document) << '\n';
  } else if (args.dot) {
    std::cout << ordo::outline_dot(*r.document);
  } else {
    std::cout << ordo::outline_text(*r.document);
  }
  return r.ok() ? kExitOk : kExitFound;
}

struct RunArgs {
  std::string process;
  std::string orders;
  std::string process_id;
  std::string key_field = "orderId";
  bool json = false;
  std::string db;
  int group_commit = 64;
  std::string sync = "full";
  std::string config;
};

std::string duration_text(std::int64_t ms) {
  const std::int64_t minutes = ms / 60'000;
  const std::int64_t days = minutes / (24 * 60), hours = minutes / 60 % 24, mins = minutes % 60;
  std::string out;
  if (days > 0) out += std::to_string(days) + "d ";
  if (days > 0 || hours > 0) out += std::to_string(hours) + "h ";
  return out + std::to_string(mins) + "m";
}

int run_run(const RunArgs& args) {
  auto orders = ordo::read_json_lines(args.orders);
  if (!orders) {
    std::cerr << "ordo run: " << orders.status().message() << "\n";
    return kExitFound;
  }
  ordo::RunOptions options;
  options.process_id = args.process_id;
  options.business_key_field = args.key_field;
  options.database = args.db;
  options.group_commit = args.group_commit;
  options.synchronous_full = args.sync == "full";
  if (!args.config.empty()) {
    auto config =
        ordo::load_adapter_config(args.config, {}, ordo::server::library_log("adapters"));
    if (!config) {
      std::cerr << "ordo run: " << config.status().message() << "\n";
      return kExitFound;
    }
    options.handlers = std::move(config->handlers);
    options.attach = [notifier = config->notifier](const ordo::Engine& engine) {
      ordo::AdapterConfig attached;
      attached.notifier = notifier;
      attached.attach(engine);
    };
  }
  auto summary = ordo::run_orders(args.process, *orders, options);
  if (!summary) {
    std::cerr << "ordo run: " << summary.status().message() << "\n";
    return kExitFound;
  }
  if (args.json) {
    std::cout << ordo::to_json(*summary).dump(2, ' ', false,
                                              nlohmann::json::error_handler_t::replace)
              << "\n";
    return kExitOk;
  }
  const ordo::RunSummary& s = *summary;
  // Order ids, messages and template names come from the orders file and the process: what a
  // terminal could take as a command is written out as an escape.
  using ordo::util::escape_control;
  std::size_t width = 8;
  for (const auto& r : s.orders) width = std::max(width, escape_control(r.order_id).size() + 2);
  for (const auto& r : s.orders) {
    std::string outcome = r.end_event;
    if (r.state == ordo::InstanceState::kIncident) outcome = "INCIDENT " + r.incidents.front();
    if (r.state == ordo::InstanceState::kActive) outcome = "(still waiting)";
    if (r.state == ordo::InstanceState::kTerminated) outcome = "(terminated)";
    const std::string id = escape_control(r.order_id);
    std::cout << id << std::string(width - id.size(), ' ') << escape_control(outcome);
    if (r.ended_ms != 0) std::cout << "  after " << duration_text(r.ended_ms - r.started_ms);
    std::cout << "\n";
  }
  auto table = [](const char* title, const std::map<std::string, int>& counts) {
    if (counts.empty()) return;
    std::cout << "\n" << title << "\n";
    for (const auto& [raw, n] : counts) {
      const std::string name = ordo::util::escape_control(raw);
      std::cout << "  " << name << std::string(name.size() < 28 ? 28 - name.size() : 1, ' ') << n
                << "\n";
    }
  };
  std::cout << "\n" << s.orders.size() << " orders\n";
  table("By end event:", s.by_end_event);
  table("Incidents:", s.by_incident);
  table("Notifications by channel:", s.notifications_by_channel);
  table("Notifications by template:", s.notifications_by_template);
  return kExitOk;
}

struct GenOrderLogArgs {
  ordo::OrderLogGenOptions options;
  std::string start = "2026-09-01T00:00:00Z";
  std::string out;
};

int run_gen_order_log(GenOrderLogArgs& args) {
  const auto start = ordo::time::parse_date_time(args.start);
  if (!start) {
    std::cerr << "ordo gen-order-log: --start " << args.start
              << ": give an ISO 8601 date-time such as 2026-09-01T00:00:00Z\n";
    return kExitUsage;
  }
  args.options.start_ms = *start;
  ordo::Status s;
  if (args.out.empty()) {
    s = ordo::write_synthetic_order_log(std::cout, args.options);
  } else {
    std::ofstream file(args.out, std::ios::binary);
    if (!file) {
      std::cerr << "ordo gen-order-log: cannot write " << args.out << "\n";
      return 1;
    }
    s = ordo::write_synthetic_order_log(file, args.options);
  }
  if (!s) {
    std::cerr << "ordo gen-order-log: " << s.message() << "\n";
    return 1;
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Ordo: a BPMN 2.0 process engine for order handling"};
  app.set_version_flag("--version", std::string(ordo::kVersion));
  app.require_subcommand(1);

  ValidateArgs validate;
  CLI::App* v = app.add_subcommand(
      "validate",
      "Check BPMN files and print diagnostics as FILE:LINE:COL: severity: message [rule]");
  v->add_option("files", validate.files, "BPMN files to check")->required();
  v->add_flag(
      "--json", validate.json,
      "Print the diagnostics as a JSON array (file, line, column, severity, rule, message)");
  v->add_flag("-q,--quiet", validate.quiet, "Print errors only, and no summary");
  v->footer("Exit status: 0 when no file has an error, 1 when any has, 2 on bad usage.");

  InspectArgs inspect;
  CLI::App* i = app.add_subcommand(
      "inspect", "Print an outline of each process: elements, flows, task types, messages, timers");
  i->add_option("file", inspect.file, "BPMN file")->required();
  auto* json_flag = i->add_flag("--json", inspect.json, "Print the outline as JSON");
  i->add_flag("--dot", inspect.dot, "Print the processes as a Graphviz digraph")
      ->excludes(json_flag);
  i->footer("Exit status: 0 when the file loads without errors, 1 otherwise, 2 on bad usage.");

  RunArgs run;
  CLI::App* r = app.add_subcommand(
      "run",
      "Run orders (JSON Lines) through a process with simulated handlers on a virtual clock");
  r->add_option("process", run.process, "BPMN file")->required();
  r->add_option("--orders", run.orders, "Orders, one JSON object per line")->required();
  r->add_option("--process-id", run.process_id, "Which process of the file to run");
  r->add_option("--key-field", run.key_field, "Order field used as business key")
      ->capture_default_str();
  r->add_flag("--json", run.json, "Print the results and summary as one JSON document");
  r->add_option("--db", run.db,
                "Run durably in this SQLite database; running again on it resumes unfinished "
                "orders instead of starting them again (side effects: DB.effects.jsonl)");
  r->add_option("--group-commit", run.group_commit,
                "With --db: job outcomes and timers per transaction")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  r->add_option("--config", run.config,
                "Adapters by task type (ordo.json, docs/adapters.md); the simulated handlers "
                "answer the types it does not name")
      ->type_name("FILE");
  r->add_option("--sync", run.sync, "With --db: full (each commit on disk) or normal")
      ->capture_default_str()
      ->check(CLI::IsMember({"full", "normal"}));
  r->footer(
      "Each order becomes one instance; simulated handlers answer from its fields (see "
      "docs/running-orders.md).\nExit status: 0 when every order ran (incidents included), 1 "
      "when the process or the orders cannot be read, 2 on bad usage.");

  GenOrderLogArgs gen;
  CLI::App* g = app.add_subcommand("gen-order-log",
                                   "Write a realistic synthetic order log as CSV, for replays");
  g->alias("gen-history");  // its name before 0.2
  g->add_option("--orders", gen.options.orders, "How many orders")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100'000'000}));
  g->add_option("--seed", gen.options.seed, "Random seed: the same seed, the same file")
      ->capture_default_str();
  g->add_option("--days", gen.options.days, "Days the orders are spread over")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3660}));
  g->add_option("--start", gen.start, "First day (ISO 8601 date-time, UTC)")->capture_default_str();
  g->add_option("--out", gen.out, "Write to this file instead of standard output")
      ->type_name("FILE");
  g->footer(
      "Columns: see docs/simulation.md (the order log format). About 90% of orders in stock, "
      "5-8% of payments declined, shipping on working days.\nExit status: 0 when written, 1 "
      "when the file cannot be written, 2 on bad usage.");

  ordo::cli::StoreCommands store(app);  // deploy, start, correlate, ... (store_commands.cc)
  ordo::cli::ServeCommand serve(app);   // the HTTP API (serve_command.cc, server/)
  ordo::cli::ReplayCommand replay(app);  // an order log through variants (replay_command.cc)
  ordo::cli::ConformanceCommand conformance(app);  // event logs against a process
  ordo::cli::DecideCommand decide(app);  // a DMN decision evaluated (decide_command.cc)

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  if (v->parsed()) return run_validate(validate);
  if (i->parsed()) return run_inspect(inspect);
  if (r->parsed()) return run_run(run);
  if (g->parsed()) return run_gen_order_log(gen);
  if (auto status = store.run()) return *status;
  if (auto status = serve.run()) return *status;
  if (auto status = replay.run()) return *status;
  if (auto status = conformance.run()) return *status;
  if (auto status = decide.run()) return *status;
  return kExitUsage;
}
