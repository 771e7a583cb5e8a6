// Crash test with real processes: `ordo run --db` over 2,000 orders, killed with SIGKILL at
// random moments at least 20 times and restarted each time. At the end every order must have
// reached exactly one end event, nothing may be stuck, no side effect may have happened
// twice, and the history must have no duplicate or missing steps.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "durability_util.h"
#include "ordo/engine.h"

namespace ordo::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kOrders = 2000;
constexpr int kKills = 20;

// The shipped example orders that reach an end event (no never-delivered parcels, no forced
// failures), repeated with fresh ids.
void write_orders(const std::string& path) {
  std::ifstream in(std::string(ORDO_SOURCE_DIR) + "/examples/orders.jsonl");
  std::vector<json> templates;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json o = json::parse(line);
    if (o.value("delivered", true) == false || o.contains("failTask")) continue;
    o.erase("placedAt");
    templates.push_back(std::move(o));
  }
  ASSERT_FALSE(templates.empty());
  std::ofstream out(path);
  for (int i = 0; i < kOrders; ++i) {
    json o = templates[static_cast<std::size_t>(i) % templates.size()];
    char id[16];
    std::snprintf(id, sizeof id, "C-%05d", i);
    o["orderId"] = id;
    out << o.dump() << "\n";
  }
}

TEST(Crash, TwoThousandOrdersSurviveTwentyKills) {
  TempDir dir("crash");
  const std::string orders = dir.path("orders.jsonl");
  const std::string db = dir.path("orders.db");
  write_orders(orders);
  const std::string process = std::string(ORDO_SOURCE_DIR) + "/processes/order-acceptance.bpmn";
  // synchronous=NORMAL: in WAL mode a commit survives the death of the process (what this
  // test does); FULL adds the fsync that makes it survive a power cut, which no test here
  // can cause, at several times the run time.
  const std::vector<std::string> args = {"run",  process, "--orders",       orders, "--db",
                                         db,     "--json", "--group-commit", "8",    "--sync",
                                         "normal"};

  // The same orders without interruption, in memory: what the killed run must end with.
  ProcessRun clean = run_ordo({"run", process, "--orders", orders, "--json"});
  ASSERT_EQ(clean.exit_code, 0) << clean.out;
  const json expected = json::parse(clean.out);

  std::mt19937 rng(20261123);
  std::uniform_int_distribution<int> delay_ms(30, 900);
  int kills = 0;
  int attempts = 0;
  while (kills < kKills) {
    ASSERT_LT(++attempts, 200) << "the run kept finishing before it could be killed";
    const pid_t pid = spawn_ordo(args, dir.path("killed.out"));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) {
      ++kills;
    } else {
      // It finished first: start over on a fresh database, so the kills land mid-run.
      ASSERT_EQ(WEXITSTATUS(status), 0) << read_file(dir.path("killed.out"));
      for (const char* suffix : {"", "-wal", "-shm", ".effects.jsonl"}) {
        fs::remove(db + suffix);
      }
    }
  }

  ProcessRun last = run_ordo(args);
  ASSERT_EQ(last.exit_code, 0) << last.out;
  const json got = json::parse(last.out);

  // Every order reached exactly one end event, the same as without the kills.
  ASSERT_EQ(got["orders"].size(), static_cast<std::size_t>(kOrders));
  for (const json& o : got["orders"]) {
    EXPECT_EQ(o["state"], "completed") << o.dump();
  }
  EXPECT_EQ(got["summary"]["byEndEvent"], expected["summary"]["byEndEvent"]);
  // No notification twice, none missing: per order, the same as the clean run.
  EXPECT_EQ(got["summary"]["notificationsByTemplate"],
            expected["summary"]["notificationsByTemplate"]);
  std::multiset<std::string> sent_clean, sent_killed;
  for (const json& n : expected["notifications"]) {
    sent_clean.insert(n["orderId"].get<std::string>() + "/" + n["template"].get<std::string>() +
                      "/" + n["channel"].get<std::string>());
  }
  for (const json& n : got["notifications"]) {
    sent_killed.insert(n["orderId"].get<std::string>() + "/" + n["template"].get<std::string>() +
                       "/" + n["channel"].get<std::string>());
  }
  EXPECT_EQ(sent_killed, sent_clean);

  // The side-effect log: each effect recorded under one key only, and no effect of one
  // order recorded under two keys (which would mean a step ran twice as two steps).
  std::ifstream log(db + ".effects.jsonl");
  std::set<std::string> keys;
  std::map<std::string, std::set<std::string>> keys_per_effect;
  std::string line;
  while (std::getline(log, line)) {
    json e = json::parse(line, nullptr, false);
    if (e.is_discarded()) continue;  // a line cut short by a kill
    const std::string key = e["key"];
    EXPECT_TRUE(keys.insert(key).second) << "effect recorded twice: " << line;
    const std::string what = e["effect"] == "notify"
                                 ? e["order"].get<std::string>() + "/" +
                                       e["template"].get<std::string>() + "/" +
                                       e["channel"].get<std::string>()
                                 : e["correlationKey"].get<std::string>() + "/" +
                                       e["name"].get<std::string>();
    keys_per_effect[what].insert(key);
  }
  for (const auto& [what, ks] : keys_per_effect) {
    EXPECT_EQ(ks.size(), 1u) << what << " happened under " << ks.size() << " keys";
  }

  // The history: every element instance entered once and left once, one end per instance.
  auto engine = Engine::open(db);
  ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
  InstanceFilter all;
  all.limit = 1 << 30;
  auto instances = (*engine)->instances(all);
  ASSERT_TRUE(instances.is_ok());
  ASSERT_EQ(instances->size(), static_cast<std::size_t>(kOrders));
  EXPECT_TRUE(must((*engine)->open_jobs()).empty());
  EXPECT_TRUE(must((*engine)->incidents()).empty());
  for (const InstanceInfo& i : *instances) {
    ASSERT_EQ(i.state, InstanceState::kCompleted) << i.business_key;
    std::map<std::uint64_t, int> entered, left;
    int ends = 0;
    std::uint64_t last_sequence = 0;
    for (const HistoryEvent& e : must((*engine)->history(i.id))) {
      EXPECT_GT(e.sequence, last_sequence);
      last_sequence = e.sequence;
      if (e.kind == HistoryKind::kElementActivated) ++entered[e.key];
      if (e.kind == HistoryKind::kElementCompleted || e.kind == HistoryKind::kElementTerminated) {
        ++left[e.key];
      }
      if (e.kind == HistoryKind::kInstanceCompleted) ++ends;
    }
    EXPECT_EQ(ends, 1) << i.business_key;
    EXPECT_EQ(entered, left) << i.business_key;
    for (const auto& [key, n] : entered) EXPECT_EQ(n, 1) << i.business_key << " element " << key;
  }
}

}  // namespace
}  // namespace ordo::testing
