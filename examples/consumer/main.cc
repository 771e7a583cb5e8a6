// Shows: linking an installed Ordo with find_package(ordo) and loading a process.
#include <iostream>

#include <ordo/loader.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: consumer FILE.bpmn\n";
    return 2;
  }
  ordo::LoadResult r = ordo::load_bpmn_file(argv[1]);
  for (const ordo::Diagnostic& d : r.diagnostics) std::cerr << ordo::format_diagnostic(d) << '\n';
  if (!r.ok()) return 1;
  for (const auto& p : r.document->processes) {
    std::cout << p->id << ": " << p->elements.size() << " elements\n";
  }
  return 0;
}
