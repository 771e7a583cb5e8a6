// Shows: embedding Ordo to load a BPMN file, report its problems the way a compiler does,
// and list the task types an order service must provide handlers for.
//
//   build/examples/example_load_process processes/order-acceptance.bpmn
#include <iostream>
#include <set>

#include "ordo/ordo.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " FILE.bpmn\n";
    return 2;
  }
  ordo::LoadResult result = ordo::load_bpmn_file(argv[1]);
  for (const ordo::Diagnostic& d : result.diagnostics) {
    std::cerr << ordo::format_diagnostic(d) << '\n';
  }
  if (!result.ok()) return 1;

  for (const auto& process : result.document->processes) {
    std::set<std::string> task_types;
    for (const ordo::Element& e : process->elements) {
      if (ordo::is_job_task(e.kind) && !e.task.type.empty()) task_types.insert(e.task.type.text);
    }
    std::cout << "process " << process->id << " needs handlers for:\n";
    for (const std::string& type : task_types) std::cout << "  " << type << '\n';
  }
  return 0;
}
