// Two processes working on one database file: every job runs in one worker at a time, each
// exactly once, and every order completes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "durability_util.h"
#include "ordo/engine.h"
#include "ordo/loader.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

constexpr int kSharedOrders = 1000;

std::int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // one clock for every process on the machine
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// A worker process: waits for the go signal, runs the executor until nothing is left, and
// writes one line per handled job: key, idempotency key, start and end times.
[[noreturn]] void worker(const std::string& db, const std::string& log, int go_fd) {
  char c = 0;
  if (::read(go_fd, &c, 1) != 1) ::_exit(3);
  EngineOptions o;
  o.synchronous_full = false;
  o.busy_timeout_ms = 30'000;
  o.group_commit = 16;
  auto engine = Engine::open(db, o);
  if (!engine) ::_exit(2);
  std::ofstream out(log);
  std::mutex mu;
  (*engine)->set_fallback_handler([&](const Job& job) {
    const std::int64_t start = monotonic_ns();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    const std::int64_t end = monotonic_ns();
    std::lock_guard lock(mu);
    out << job.key() << " " << job.idempotency_key() << " " << start << " " << end << "\n";
    return JobOutcome::complete({{std::string(job.element_id()) + "Done", true}});
  });
  WorkOptions w;
  w.threads = 2;
  w.until_idle = true;
  auto done = (*engine)->work(w);
  out.flush();
  ::_exit(done.is_ok() ? 0 : 1);
}

TEST(SharedDatabase, TwoProcessesRunAThousandOrdersTogether) {
  TempDir dir("shared");
  const std::string db = dir.path("shared.db");
  {
    EngineOptions o;
    o.synchronous_full = false;
    auto engine = Engine::open(db, o);
    ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
    LoadResult r = load_bpmn(
        process("<startEvent id=\"s\"/><serviceTask id=\"reserve\"><extensionElements>"
                "<zeebe:taskDefinition type=\"erp.reserve\"/></extensionElements></serviceTask>"
                "<serviceTask id=\"charge\"><extensionElements><zeebe:taskDefinition "
                "type=\"payment.charge\"/></extensionElements></serviceTask><endEvent id=\"e\"/>"
                "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"reserve\"/>"
                "<sequenceFlow id=\"f2\" sourceRef=\"reserve\" targetRef=\"charge\"/>"
                "<sequenceFlow id=\"f3\" sourceRef=\"charge\" targetRef=\"e\"/>"),
        "p.bpmn");
    ASSERT_TRUE(r.ok()) << dump(r);
    ASSERT_TRUE((*engine)->deploy(r.document).is_ok());
    for (int i = 0; i < kSharedOrders; ++i) {
      ASSERT_TRUE((*engine)->start("p", {{"n", i}}, "O-" + std::to_string(i)).is_ok());
    }
  }
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> pids;
  for (int w = 0; w < 2; ++w) {
    const pid_t pid = ::fork();
    if (pid == 0) worker(db, dir.path("worker" + std::to_string(w) + ".log"), go[0]);
    pids.push_back(pid);
  }
  ASSERT_EQ(::write(go[1], "gg", 2), 2);  // both start together
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status)) << "a worker died";
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }

  struct Run {
    int worker;
    std::int64_t start, end;
  };
  std::map<std::string, std::vector<Run>> runs;  // by idempotency key
  int per_worker[2] = {0, 0};
  for (int w = 0; w < 2; ++w) {
    std::ifstream in(dir.path("worker" + std::to_string(w) + ".log"));
    std::uint64_t key = 0;
    std::string idem;
    Run r{w, 0, 0};
    while (in >> key >> idem >> r.start >> r.end) {
      runs[idem].push_back(r);
      ++per_worker[w];
    }
  }
  EXPECT_EQ(runs.size(), static_cast<std::size_t>(2 * kSharedOrders)) << "every job ran";
  for (const auto& [idem, list] : runs) {
    EXPECT_EQ(list.size(), 1u) << idem << " ran " << list.size() << " times";
  }
  EXPECT_GT(per_worker[0], 0) << "both processes took work";
  EXPECT_GT(per_worker[1], 0) << "both processes took work";

  auto engine = Engine::open(db);
  ASSERT_TRUE(engine.is_ok());
  InstanceFilter completed;
  completed.state = InstanceState::kCompleted;
  completed.limit = 1 << 30;
  auto done = (*engine)->instances(completed);
  ASSERT_TRUE(done.is_ok());
  EXPECT_EQ(done->size(), static_cast<std::size_t>(kSharedOrders));
  EXPECT_TRUE(must((*engine)->open_jobs()).empty());
  for (const InstanceInfo& i : *done) {
    auto full = (*engine)->instance(i.id);
    ASSERT_TRUE(full.is_ok());
    EXPECT_EQ(full->variables["reserveDone"], true);
    EXPECT_EQ(full->variables["chargeDone"], true);
  }
}

// Several processes opening a database file that does not exist yet, at the same moment:
// one creates it, the others wait and use it.
TEST(SharedDatabase, ProcessesCreatingOneNewFileAtOnceAllOpenIt) {
  TempDir dir("shared-create");
  for (int round = 0; round < 5; ++round) {
    const std::string db = dir.path("new" + std::to_string(round) + ".db");
    int go[2];
    ASSERT_EQ(::pipe(go), 0);
    std::vector<pid_t> pids;
    for (int w = 0; w < 8; ++w) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        char c = 0;
        if (::read(go[0], &c, 1) != 1) ::_exit(3);
        auto engine = Engine::open(db);
        if (!engine) {
          std::fprintf(stderr, "%s\n", engine.status().to_string().c_str());
          ::_exit(1);
        }
        ::_exit(0);
      }
      pids.push_back(pid);
    }
    ASSERT_EQ(::write(go[1], "gggggggg", 8), 8);
    for (pid_t pid : pids) {
      int status = 0;
      ::waitpid(pid, &status, 0);
      ASSERT_TRUE(WIFEXITED(status));
      EXPECT_EQ(WEXITSTATUS(status), 0) << "an open failed in round " << round;
    }
    ::close(go[0]);
    ::close(go[1]);
  }
}

// Both processes publish the same 500 messages (same ids) at the same time: each message
// correlates once, the other publication is told it was a duplicate and who received it.
[[noreturn]] void publisher(const std::string& db, const std::string& log, int go_fd, int orders) {
  char c = 0;
  if (::read(go_fd, &c, 1) != 1) ::_exit(3);
  EngineOptions o;
  o.synchronous_full = false;
  o.busy_timeout_ms = 30'000;
  auto engine = Engine::open(db, o);
  if (!engine) ::_exit(2);
  std::ofstream out(log);
  for (int i = 0; i < orders; ++i) {
    Message m;
    m.name = "paid";
    m.correlation_key = "O-" + std::to_string(i);
    m.message_id = "psp-" + std::to_string(i);
    auto r = (*engine)->publish_message(std::move(m));
    if (!r) ::_exit(1);
    out << i << " " << (r->duplicate ? 1 : 0) << " " << r->instances.size() << " "
        << (r->instances.empty() ? 0 : r->instances.front()) << "\n";
  }
  out.flush();
  ::_exit(0);
}

TEST(SharedDatabase, EachMessageCorrelatesOnceWhenTwoProcessesPublishIt) {
  constexpr int kWaiting = 500;
  TempDir dir("shared-messages");
  const std::string db = dir.path("shared.db");
  std::vector<InstanceId> ids;
  {
    EngineOptions o;
    o.synchronous_full = false;
    auto engine = Engine::open(db, o);
    ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
    LoadResult r = load_bpmn(
        bpmn("<message id=\"m\" name=\"paid\"><extensionElements><zeebe:subscription "
             "correlationKey=\"=orderId\"/></extensionElements></message>"
             "<process id=\"p\" isExecutable=\"true\"><startEvent id=\"s\"/>"
             "<intermediateCatchEvent id=\"wait\"><messageEventDefinition messageRef=\"m\"/>"
             "</intermediateCatchEvent><endEvent id=\"e\"/>"
             "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"wait\"/>"
             "<sequenceFlow id=\"f2\" sourceRef=\"wait\" targetRef=\"e\"/></process>"),
        "p.bpmn");
    ASSERT_TRUE(r.ok()) << dump(r);
    ASSERT_TRUE((*engine)->deploy(r.document).is_ok());
    for (int i = 0; i < kWaiting; ++i) {
      const std::string key = "O-" + std::to_string(i);
      auto id = (*engine)->start("p", {{"orderId", key}}, key);
      ASSERT_TRUE(id.is_ok());
      ids.push_back(id->id);
    }
  }
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> pids;
  for (int w = 0; w < 2; ++w) {
    const pid_t pid = ::fork();
    if (pid == 0) publisher(db, dir.path("pub" + std::to_string(w) + ".log"), go[0], kWaiting);
    pids.push_back(pid);
  }
  ASSERT_EQ(::write(go[1], "gg", 2), 2);
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
  }
  std::map<int, int> firsts;                      // message -> publications that correlated
  std::map<int, std::set<InstanceId>> receivers;  // message -> instances reported
  for (int w = 0; w < 2; ++w) {
    std::ifstream in(dir.path("pub" + std::to_string(w) + ".log"));
    int i = 0, dup = 0;
    std::size_t count = 0;
    InstanceId who = 0;
    while (in >> i >> dup >> count >> who) {
      if (dup == 0) ++firsts[i];
      EXPECT_EQ(count, 1u) << "message " << i;
      receivers[i].insert(who);
    }
  }
  ASSERT_EQ(receivers.size(), static_cast<std::size_t>(kWaiting));
  for (int i = 0; i < kWaiting; ++i) {
    EXPECT_EQ(firsts[i], 1) << "message " << i << " correlated " << firsts[i] << " times";
    EXPECT_EQ(receivers[i], std::set<InstanceId>{ids[static_cast<std::size_t>(i)]});
  }
  auto engine = Engine::open(db);
  ASSERT_TRUE(engine.is_ok());
  InstanceFilter completed;
  completed.state = InstanceState::kCompleted;
  EXPECT_EQ((*engine)->instances(completed)->size(), static_cast<std::size_t>(kWaiting));
}

}  // namespace
}  // namespace ordo::testing
