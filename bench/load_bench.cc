// Loading throughput: parse + resolve + validate, from XML text in memory to a validated
// ProcessDefinition. Reports loads per second (items_per_second) on one thread.
//
//   build/bench/ordo_bench_load
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ordo/loader.h"

namespace {

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void load_loop(benchmark::State& state, const std::string& xml, const std::string& name,
               bool validate) {
  ordo::LoadOptions options;
  options.validate = validate;
  for (auto _ : state) {
    ordo::LoadResult r = ordo::load_bpmn(xml, name, options);
    if (!r.document) state.SkipWithError("load failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(xml.size()));
}

void BM_LoadOrderAcceptance(benchmark::State& state) {
  static const std::string xml = read(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn");
  load_loop(state, xml, "order-acceptance.bpmn", true);
}
BENCHMARK(BM_LoadOrderAcceptance);

void BM_LoadOrderAcceptanceNoValidation(benchmark::State& state) {
  static const std::string xml = read(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn");
  load_loop(state, xml, "order-acceptance.bpmn", false);
}
BENCHMARK(BM_LoadOrderAcceptanceNoValidation);

// The largest BPMN file of the third-party corpus, when it is there.
void BM_LoadLargestCorpusFile(benchmark::State& state) {
  static std::filesystem::path largest = [] {
    std::filesystem::path best;
    std::uintmax_t size = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::recursive_directory_iterator(ORDO_CORPUS_DIR, ec)) {
      std::string n = e.path().filename().string();
      if (e.is_regular_file() && (n.ends_with(".bpmn") || n.ends_with(".bpmn20.xml")) &&
          e.file_size() > size) {
        size = e.file_size();
        best = e.path();
      }
    }
    return best;
  }();
  if (largest.empty()) {
    state.SkipWithError("corpus not found");
    return;
  }
  static const std::string xml = read(largest);
  state.SetLabel(largest.filename().string() + " (" + std::to_string(xml.size()) + " bytes)");
  load_loop(state, xml, largest.string(), true);
}
BENCHMARK(BM_LoadLargestCorpusFile);

}  // namespace

BENCHMARK_MAIN();
