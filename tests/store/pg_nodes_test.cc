// Several engines on one PostgreSQL schema, as several `ordo serve` nodes on one database:
// what one node does at the same moment as another must not reach the caller as an error,
// nor happen twice.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "must.h"
#include "ordo/engine.h"
#include "ordo/loader.h"
#include "store/pg_server.h"
#include "store/postgres/pq.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

class PgNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    server_ = PgTestServer::url(why);
    ASSERT_FALSE(server_.empty()) << why;
    schema_ = "nodes_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::transform(schema_.begin(), schema_.end(), schema_.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    schema_ = schema_.substr(0, 60);
  }
  void TearDown() override {
    if (server_.empty()) return;
    if (auto c = store::pg::Connection::open(server_)) {
      (void)c->exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    }
  }
  std::unique_ptr<Engine> node() {
    const std::string url =
        server_ + (server_.find('?') == std::string::npos ? "?" : "&") + "schema=" + schema_;
    auto e = Engine::open(url);
    EXPECT_TRUE(e.is_ok()) << e.status().to_string();
    return e.is_ok() ? std::move(*e) : nullptr;
  }

  std::string server_;
  std::string schema_;
};

// Two nodes, two threads each, start the same 80 business keys in different orders, and
// publish the same 80 message ids: every call succeeds, each key has one instance (every
// start of it answers with that one), each message id is taken once and the others are told
// it was a duplicate.
TEST_F(PgNodes, RacesForOneBusinessKeyOrMessageIdNeverReachTheCaller) {
  auto a = node();
  ASSERT_NE(a, nullptr);
  LoadResult r = load_bpmn(process("<startEvent id=\"s\"/><userTask id=\"wait\"/>"
                                   "<endEvent id=\"e\"/>"
                                   "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"wait\"/>"
                                   "<sequenceFlow id=\"f2\" sourceRef=\"wait\" targetRef=\"e\"/>"),
                           "p.bpmn");
  ASSERT_TRUE(r.ok()) << dump(r);
  ASSERT_TRUE(a->deploy(r.document).is_ok());
  auto b = node();
  ASSERT_NE(b, nullptr);
  constexpr int kKeys = 80;
  std::mutex mu;
  std::map<std::string, std::set<InstanceId>> started;  // key -> the ids the starts answered
  std::map<std::string, int> taken;                      // message id -> non-duplicate answers
  std::vector<std::string> errors;
  auto run = [&](Engine& e, unsigned seed) {
    std::vector<int> order(kKeys);
    for (int i = 0; i < kKeys; ++i) order[static_cast<std::size_t>(i)] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(seed));
    for (int i : order) {
      const std::string key = "K-" + std::to_string(i);
      auto s = e.start("p", {}, key);
      Message m;
      m.name = "note";
      m.correlation_key = key;
      m.ttl_ms = 60'000;
      m.message_id = "M-" + std::to_string(i);
      auto p = e.publish_message(m);
      std::lock_guard lock(mu);
      if (!s) errors.push_back("start " + key + ": " + s.status().to_string());
      if (s) started[key].insert(s->id);
      if (!p) errors.push_back("publish " + m.message_id + ": " + p.status().to_string());
      if (p && !p->duplicate) ++taken[m.message_id];
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(run, std::ref(*a), 1u);
  threads.emplace_back(run, std::ref(*a), 2u);
  threads.emplace_back(run, std::ref(*b), 3u);
  threads.emplace_back(run, std::ref(*b), 4u);
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(errors.empty()) << errors.size() << " errors, the first: " << errors.front();
  ASSERT_EQ(started.size(), static_cast<std::size_t>(kKeys));
  for (const auto& [key, ids] : started) EXPECT_EQ(ids.size(), 1u) << key;
  InstanceFilter all;
  all.limit = 1000;
  EXPECT_EQ(must(a->instances(all)).size(), static_cast<std::size_t>(kKeys));
  ASSERT_EQ(taken.size(), static_cast<std::size_t>(kKeys));
  for (const auto& [id, count] : taken) EXPECT_EQ(count, 1) << id;
}

}  // namespace
}  // namespace ordo::testing
