// Third-party BPMN files (../shared/corpus): every file either loads or is rejected with
// diagnostics; nothing crashes. Skipped with a message when the corpus is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "test_util.h"

namespace ordo {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> corpus_files() {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(ORDO_CORPUS_DIR, ec)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(ORDO_CORPUS_DIR, ec)) {
    std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && (name.ends_with(".bpmn") || name.ends_with(".bpmn20.xml"))) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(Corpus, EveryFileLoadsOrGetsDiagnostics) {
  std::vector<fs::path> files = corpus_files();
  if (files.empty()) GTEST_SKIP() << "corpus not found at " << ORDO_CORPUS_DIR;
  std::size_t loaded = 0, clean = 0, rejected = 0;
  std::map<std::string, int> rules;
  for (const fs::path& f : files) {
    LoadResult r = load_bpmn_file(f.string());
    for (const Diagnostic& d : r.diagnostics) {
      EXPECT_FALSE(d.rule.empty()) << f;
      EXPECT_FALSE(d.message.empty()) << f;
      EXPECT_EQ(d.file, f.string());
      if (d.rule != "file-unreadable") {
        EXPECT_GT(d.line, 0u) << format_diagnostic(d);
      }
      if (d.severity == Severity::kError) rules[d.rule]++;
    }
    if (r.ok()) {
      ++loaded;
      if (r.diagnostics.empty()) ++clean;
    } else {
      ++rejected;
      EXPECT_TRUE(has_errors(r.diagnostics)) << f;
    }
  }
  std::cout << "[ corpus   ] " << files.size() << " files: " << loaded << " loaded (" << clean
            << " without warnings), " << rejected << " rejected with errors\n";
  for (const auto& [rule, count] : rules) {
    std::cout << "[ corpus   ]   " << count << " x " << rule << "\n";
  }
  EXPECT_EQ(loaded + rejected, files.size());
}

// Files the corpus README describes: they must load, since later issues run them.
TEST(Corpus, GatewayConformanceFilesLoad) {
  const fs::path gateway = fs::path(ORDO_CORPUS_DIR) /
                           "camunda-bpm-platform/engine/src/test/resources/org/camunda/bpm/"
                           "engine/test/bpmn/gateway";
  if (!fs::is_directory(gateway)) GTEST_SKIP() << "corpus not found at " << ORDO_CORPUS_DIR;
  for (const char* name : {"ExclusiveGatewayTest.testDivergingExclusiveGateway.bpmn20.xml",
                           "ExclusiveGatewayTest.testMultipleValidConditions.bpmn20.xml",
                           "ParallelGatewayTest.testUnbalancedForkJoin.bpmn20.xml"}) {
    LoadResult r = load_bpmn_file((gateway / name).string());
    EXPECT_TRUE(r.ok()) << name << "\n" << testing::dump(r);
  }
}

}  // namespace
}  // namespace ordo
