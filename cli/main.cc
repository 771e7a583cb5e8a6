// ordo: the command-line tool. A thin layer over the public API (include/ordo/).
//
// Exit codes: 0 success, 1 the work found errors, 2 bad usage.
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "ordo/ordo.h"

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
  return kExitUsage;
}
