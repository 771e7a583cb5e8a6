// Behaving as another engine's test suite expects, over ../shared/corpus (a peer engine's
// suite, not process-mining conformance: that is mining/).
//
// nitram509/lib-bpmn-engine: EXPECTATIONS.tsv lists, per test, the BPMN file, the start
// variables, messages to publish and timers to let pass, and the order in which task
// handlers must be called. Every case with a call order is run here; the summary line says
// how many pass. Adaptations, each because the source engine departs from BPMN or Zeebe:
//   - it runs service tasks that have no task type (using the element id): loaded here with
//     LoadOptions::task_type_defaults_to_id;
//   - it ignores correlation keys: instances start with the key variables set to one value
//     and messages are published with that key;
//   - it calls handlers inline while tokens move, so concurrent branches run depth-first;
//     Ordo runs them breadth-first. The order of concurrent branches is not BPMN semantics:
//     for the cases listed in kConcurrentOrder the same calls in another order pass;
//   - it evaluates expressions only at run time: a syntax error that fails a job there is
//     a load error here (kRejectedAtLoad), checked as such.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ordo/engine.h"
#include "ordo/loader.h"
#include "runtime/harness.h"

namespace ordo::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kNitram = fs::path(ORDO_CORPUS_DIR) / "nitram509-lib-bpmn-engine";
constexpr std::string_view kKey = "conformance-key";

// Cases whose branches run concurrently: the calls must match as a multiset.
const std::vector<std::string> kConcurrentOrder = {
    "Test_subprocess_ForkControlledExclusiveJoin",
    "Test_subprocess_ForkControlledParallelJoin",
};
// Cases Ordo rejects at load, with the rule it must report.
const std::vector<std::pair<std::string, std::string>> kRejectedAtLoad = {
    {"Test_job_fails_on_Invalid_Output_mapping", "expression-syntax"},
};

// Cases where the source engine departs from BPMN 2.0: Ordo must call what the spec says.
struct Departure {
  std::string test, spec_calls, why;
};
const std::vector<Departure> kSpecDepartures = {
    {"Test_inclusive_gateway_executes_all_paths", "task-a,task-b",
     "the source also takes an inclusive gateway's default flow when other conditions are "
     "true; BPMN 2.0 (13.3.3) takes the default only when no condition is"},
};

struct Case {
  std::string test, file, variables, actions, expected;
};

std::vector<Case> nitram_cases() {
  std::vector<Case> out;
  std::ifstream in(kNitram / "EXPECTATIONS.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.rfind("test_file", 0) == 0) continue;
    auto cols = split(line, '\t');
    if (cols.size() < 6 || cols[5].empty()) continue;  // no call order to check
    if (cols[2].find(';') != std::string::npos || cols[2].find('%') != std::string::npos) {
      continue;  // several files, or a file name built at run time
    }
    out.push_back({cols[1], cols[2], cols[3], cols[4], cols[5]});
  }
  return out;
}

// Runs one case; returns an empty string when it passes, else what went wrong.
std::string run_case(const Case& c) {
  LoadOptions options;
  options.task_type_defaults_to_id = true;
  LoadResult loaded = load_bpmn_file((kNitram / "test-cases" / c.file).string(), options);
  for (const auto& [test, rule] : kRejectedAtLoad) {
    if (test != c.test) continue;
    if (loaded.ok() || with_rule(loaded, rule).empty()) return "expected a load error " + rule;
    return {};
  }
  if (!loaded.ok()) return "does not load: " + dump(loaded);
  // The cases fail jobs and expect the next attempt at once, as these engines do.
  Harness h(immediate_retries());
  if (!h.engine().deploy(loaded.document)) return "does not deploy";
  std::string columns = c.variables;
  while (!columns.empty() && (columns.back() == ',' || columns.back() == ' ')) columns.pop_back();
  nlohmann::json vars = nlohmann::json::parse("{" + columns + "}", nullptr, false);
  if (vars.is_discarded()) return "bad variables column: " + c.variables;
  for (const char* k : {"key", "message", "test"}) {
    if (!vars.contains(k)) vars[k] = kKey;
  }
  // "a|a,b,c": first only the handlers of the first part exist, then all of them.
  std::vector<std::string> phases = split(c.expected, '|');
  std::vector<std::string> allowed = split(phases.front(), ',');
  bool restrict = phases.size() > 1;
  std::vector<std::string> calls;
  h.engine().set_fallback_handler([&](const Job& job) {
    std::string id(job.element_id());
    if (restrict && std::find(allowed.begin(), allowed.end(), id) == allowed.end()) {
      return JobOutcome::pending();
    }
    calls.push_back(id);
    return JobOutcome::complete();
  });
  auto id = h.engine().start(loaded.document->processes.front()->id, vars);
  if (!id) return "does not start: " + id.status().to_string();
  must(h.engine().run_until_idle());
  for (const std::string& action : split(c.actions, ' ')) {
    if (action.rfind("publish:", 0) == 0) {
      const std::string name = action.substr(8);
      std::string key(kKey);
      for (const MessageDefinition& m : loaded.document->messages) {
        if (m.name.text == name && m.correlation_key.dialect == ExpressionDialect::kStatic &&
            !m.correlation_key.empty()) {
          key = m.correlation_key.text;
        }
      }
      (void)h.engine().publish_message(name, key, {}, 60'000);
    } else if (action.rfind("sleep:", 0) == 0) {
      (void)h.engine().advance_clock(1'000);
    }
    must(h.engine().run_until_idle());
  }
  if (restrict) {
    if (calls != allowed) return "first phase called " + ::testing::PrintToString(calls);
    restrict = false;
    for (const JobInfo& j : must(h.engine().open_jobs())) (void)h.engine().fail_job(j.key, "retry", 0);
    must(h.engine().run_until_idle());
  }
  std::vector<std::string> expected = split(phases.back(), ',');
  for (const Departure& d : kSpecDepartures) {
    if (d.test == c.test) expected = split(d.spec_calls, ',');
  }
  if (std::find(kConcurrentOrder.begin(), kConcurrentOrder.end(), c.test) !=
      kConcurrentOrder.end()) {
    std::sort(calls.begin(), calls.end());
    std::sort(expected.begin(), expected.end());
  }
  if (calls != expected) {
    std::string incidents;
    for (const IncidentInfo& i : must(h.engine().incidents())) incidents += " [" + i.message + "]";
    return "called " + ::testing::PrintToString(calls) + ", expected " + phases.back() +
           incidents;
  }
  return {};
}

TEST(PeerEngines, LibBpmnEngineCallOrders) {
  if (!fs::exists(kNitram / "EXPECTATIONS.tsv")) {
    GTEST_SKIP() << "corpus not found at " << kNitram << "; conformance not checked";
  }
  std::vector<Case> cases = nitram_cases();
  ASSERT_GT(cases.size(), 20u);
  int passed = 0;
  for (const Case& c : cases) {
    std::string why = run_case(c);
    if (why.empty()) {
      ++passed;
    } else {
      ADD_FAILURE() << c.test << " (" << c.file << "): " << why;
    }
  }
  std::cout << "[conformance] nitram509-lib-bpmn-engine: " << passed << " of " << cases.size()
            << " call-order cases pass (" << kSpecDepartures.size()
            << " checked against the spec where the source departs from it, "
            << kConcurrentOrder.size() << " compared ignoring the order of concurrent branches, "
            << kRejectedAtLoad.size() << " rejected at load)\n";
}

}  // namespace
}  // namespace ordo::testing
