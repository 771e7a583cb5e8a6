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

// A process of N service tasks written on one line, as some tools export it: loading must
// stay linear in the file (locating a diagnostic once counted from the line's start).
std::string one_line_process(int tasks) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><definitions "
      "xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "
      "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"d\" targetNamespace=\"t\">"
      "<process id=\"p\" isExecutable=\"true\"><startEvent id=\"s\"/>";
  std::string prev = "s";
  for (int i = 0; i < tasks; ++i) {
    const std::string id = "t" + std::to_string(i);
    xml += "<serviceTask id=\"" + id + "\"><extensionElements><zeebe:taskDefinition type=\"job" +
           std::to_string(i) + "\"/></extensionElements></serviceTask><sequenceFlow id=\"f" +
           std::to_string(i) + "\" sourceRef=\"" + prev + "\" targetRef=\"" + id + "\"/>";
    prev = id;
  }
  return xml + "<endEvent id=\"e\"/><sequenceFlow id=\"fe\" sourceRef=\"" + prev +
         "\" targetRef=\"e\"/></process></definitions>";
}

void BM_LoadOneLine(benchmark::State& state) {
  const std::string xml = one_line_process(static_cast<int>(state.range(0)));
  state.SetLabel(std::to_string(xml.size()) + " bytes on one line");
  load_loop(state, xml, "one-line.bpmn", true);
}
BENCHMARK(BM_LoadOneLine)->Arg(1000)->Arg(4000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
