// libFuzzer target: any bytes given to the loader and the outline views must produce a
// document or diagnostics, never a crash, a hang or undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ordo/inspect.h"
#include "ordo/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  ordo::LoadResult r = ordo::load_bpmn(xml, "fuzz.bpmn");
  for (const ordo::Diagnostic& d : r.diagnostics) {
    if (d.rule.empty() || d.message.empty()) __builtin_trap();
  }
  if (r.document) {
    (void)ordo::outline_text(*r.document);
    (void)ordo::outline_json(*r.document);
    (void)ordo::outline_dot(*r.document);
    (void)ordo::check_called_elements({r.document});
  }
  return 0;
}
