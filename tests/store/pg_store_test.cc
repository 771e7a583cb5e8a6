// The PostgreSQL store (engine/store/postgres/pg_store.h) against a real server: what the
// SQLite store does, and what sharing one schema between nodes adds (numbers, jobs and
// messages never given twice, history without gaps, instances locked per transaction).
// Each test has a schema of its own; two PgStore objects on it stand for two nodes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "state/plan.h"
#include "store/pg_server.h"
#include "store/postgres/pg_store.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using store::pg::PgStore;

// start -> pay (job "pay") -> end, with a timer and a message event the instances below
// pretend to wait for.
std::string pg_order_xml() {
  return bpmn(
      "<process id=\"pg_order\" isExecutable=\"true\">\n<startEvent id=\"s\"/>\n"
      "<serviceTask id=\"pay\"><extensionElements><zeebe:taskDefinition type=\"pay\"/>"
      "</extensionElements></serviceTask>\n<endEvent id=\"e\"/>\n"
      "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"pay\"/>\n"
      "<sequenceFlow id=\"f2\" sourceRef=\"pay\" targetRef=\"e\"/>\n</process>");
}

state::JobRecord pg_job(JobKey key, std::string type, InstanceId instance = 1) {
  state::JobRecord j;
  j.key = key;
  j.instance = instance;
  j.element = 1;
  j.element_index = 1;
  j.type = std::move(type);
  j.idempotency_key = "job-" + std::to_string(key);
  return j;
}

std::vector<JobKey> pg_keys(const std::vector<state::JobRecord>& jobs) {
  std::vector<JobKey> out;
  for (const auto& j : jobs) out.push_back(j.key);
  return out;
}

// A schema of the test's own (dropped at its end), and the stores ("nodes") opened on it.
class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    url_ = PgTestServer::url(why);
    ASSERT_FALSE(url_.empty()) << why;
    schema_ = "ordo_store_" + std::to_string(::getpid()) + "_" + std::to_string(++made_);
  }
  void TearDown() override {
    if (url_.empty()) return;
    if (Result<store::pg::Connection> c = store::pg::Connection::open(url_)) {
      (void)c->exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    }
  }

  std::unique_ptr<PgStore> open_node() {
    store::pg::PgOptions options;
    options.schema = schema_;
    Result<std::unique_ptr<PgStore>> opened = PgStore::open(url_, options);
    if (!opened) {
      ADD_FAILURE() << opened.status().to_string();
      return nullptr;
    }
    std::unique_ptr<PgStore> node = std::move(*opened);
    node->set_attach(attach());
    return node;
  }

  // The plan of pg_order version 1, made once per test, and the callback that gives it to
  // the instances a store reads.
  std::shared_ptr<const state::Plan> plan() {
    if (plan_) return plan_;
    LoadResult loaded = load_bpmn(pg_order_xml(), "pg_order.bpmn");
    EXPECT_TRUE(loaded.ok());
    if (!loaded.ok()) return nullptr;
    plan_ = state::make_plan(loaded.document, loaded.document->processes.at(0), 1,
                             loaded.document->content_hash);
    return plan_;
  }
  store::Attach attach() {
    return [this](state::Instance& inst, std::string_view process_id, int version) -> Status {
      std::shared_ptr<const state::Plan> p = plan();
      if (p == nullptr || process_id != p->def->id || version != p->version) {
        return Status::internal("no plan for " + std::string(process_id));
      }
      inst.plan = std::move(p);
      return Status::ok();
    };
  }
  Status deploy(PgStore& node) {
    const std::shared_ptr<const state::Plan> p = plan();
    if (Status s = node.begin(); !s) return s;
    if (Status s = node.add_deployment(
            {"pg_order", 1, p->content_hash, "pg_order.bpmn", p->document->xml, 0, 1000});
        !s) {
      node.rollback();
      return s;
    }
    return node.commit();
  }

  // Writes what a command changed, in a transaction of its own.
  static Status write(PgStore& node, std::vector<InstanceId> instances, std::vector<JobKey> jobs,
                      std::vector<HistoryEvent>& events) {
    const std::vector<InstanceId> finished;
    store::Changes changes{instances, jobs, finished, events};
    if (Status s = node.write(changes); !s) {
      node.rollback();
      return s;
    }
    return node.commit();
  }
  static Status put_jobs(PgStore& node, const std::vector<state::JobRecord>& jobs) {
    if (Status s = node.begin(); !s) return s;
    std::vector<JobKey> keys;
    for (const state::JobRecord& j : jobs) keys.push_back(node.put_job(j).key);
    std::vector<HistoryEvent> none;
    return write(node, {}, keys, none);
  }
  // A new instance of pg_order waiting at its job `job`, written in its own transaction.
  Result<InstanceId> start_instance(PgStore& node, const std::string& business_key, JobKey job) {
    if (Status s = node.begin(); !s) return s;
    Result<std::uint64_t> id = node.allocate("instance", 1);
    if (!id) {
      node.rollback();
      return id.status();
    }
    auto inst = std::make_unique<state::Instance>();
    inst->id = *id;
    inst->plan = plan();
    inst->business_key = business_key;
    inst->vars = {{"orderId", business_key}, {"amount", 99.5}};
    inst->started_ms = 1000;
    state::ElementInstance pay;
    pay.key = 1;
    pay.element = plan()->def->element_index("pay");
    pay.state = ElementState::kActive;
    pay.job = job;
    inst->elements.push_back(pay);
    inst->next_key = 2;
    inst->tokens = 1;
    node.add_instance(std::move(inst));
    node.put_job(pg_job(job, "pay", *id));
    std::vector<HistoryEvent> events(2);
    events[0].instance = events[1].instance = *id;
    events[0].kind = HistoryKind::kInstanceStarted;
    events[1].kind = HistoryKind::kElementActivated;
    events[1].element_id = "pay";
    if (Status s = write(node, {*id}, {job}, events); !s) return s;
    return *id;
  }

  std::string url_;
  std::string schema_;
  std::shared_ptr<const state::Plan> plan_;
  static inline int made_ = 0;
};

TEST_F(PgStoreTest, OpensANewSchemaAndOpensItAgain) {
  std::unique_ptr<PgStore> a = open_node();
  ASSERT_TRUE(a);
  std::unique_ptr<PgStore> b = open_node();
  ASSERT_TRUE(b) << "the second node finds the schema made";
  EXPECT_TRUE(a->shared());
  ASSERT_OK(a->begin());
  EXPECT_TRUE(a->changed_by_others());
  ASSERT_OK(a->commit());
  // The statements name no schema: the search path is the store's.
  Result<store::pg::Rows> counters =
      a->connection()->run_once("SELECT count(*) FROM meta WHERE name IN ('key', 'history')");
  ASSERT_OK(counters.status());
  EXPECT_EQ(counters->integer(0, 0), 2);

  const Status backup = a->backup("/tmp/x.db");
  EXPECT_EQ(backup.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(backup.message().find("pg_dump --schema=" + schema_), std::string::npos)
      << backup.message();
  EXPECT_EQ(a->discard_buffered().status().code(), StatusCode::kInvalidArgument);

  store::pg::PgOptions bad;
  bad.schema = "Orders; DROP TABLE x";
  EXPECT_EQ(PgStore::open(url_, bad).status().code(), StatusCode::kInvalidArgument);
}

// Schema 7 counts what happened at each element from the history already stored: an
// instance waiting at pay counts one token there, as the statistics kept from then on do.
TEST_F(PgStoreTest, ASchemaSixIsMigratedCountingElementsFromItsHistory) {
  std::unique_ptr<PgStore> a = open_node();
  ASSERT_TRUE(a);
  ASSERT_OK(deploy(*a));
  ASSERT_OK(start_instance(*a, "A-1", 10).status());
  ASSERT_OK(start_instance(*a, "A-2", 11).status());
  const auto stats = [](PgStore& node) {
    std::vector<std::string> out;
    for (const ElementStatistics& e : must(node.element_stats("pg_order", 1))) {
      out.push_back(e.element_id + " " + std::to_string(e.active) + " " +
                    std::to_string(e.completed));
    }
    return out;
  };
  EXPECT_EQ(stats(*a), std::vector<std::string>{"pay 2 0"});
  ASSERT_OK(a->connection()->exec(
      "DROP TABLE element_stats; DROP TABLE instance_minutes; DROP TABLE cycle_times; "
      "DROP TABLE customer_orders; "
      "ALTER TABLE deliveries DROP COLUMN segment, DROP COLUMN experiment, DROP COLUMN variant; "
      "UPDATE meta SET value = 6 WHERE name = 'schema'"));
  a.reset();
  std::unique_ptr<PgStore> b = open_node();
  ASSERT_TRUE(b);
  EXPECT_EQ(stats(*b), std::vector<std::string>{"pay 2 0"});
}

TEST_F(PgStoreTest, AllocateGivesDisjointBlocksToNodesSharingASchema) {
  std::unique_ptr<PgStore> a = open_node();
  std::unique_ptr<PgStore> b = open_node();
  ASSERT_TRUE(a && b);
  constexpr std::uint64_t kBlock = 100;
  std::vector<std::uint64_t> firsts_a;
  std::vector<std::uint64_t> firsts_b;
  auto take = [&](PgStore& node, std::vector<std::uint64_t>& firsts) {
    for (int i = 0; i < 25; ++i) {
      ASSERT_OK(node.begin());
      Result<std::uint64_t> first = node.allocate("key", kBlock);
      ASSERT_OK(first.status());
      ASSERT_OK(node.commit());
      firsts.push_back(*first);
    }
  };
  std::thread node_b([&] { take(*b, firsts_b); });
  take(*a, firsts_a);
  node_b.join();
  std::vector<std::uint64_t> all = firsts_a;
  all.insert(all.end(), firsts_b.begin(), firsts_b.end());
  ASSERT_EQ(all.size(), 50u);
  std::sort(all.begin(), all.end());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i], 1 + i * kBlock) << "blocks follow each other, none twice";
  }

  // Numbers taken in a transaction that rolls back are given back with it.
  ASSERT_OK(a->begin());
  Result<std::uint64_t> lost = a->allocate("instance", 10);
  ASSERT_OK(lost.status());
  a->rollback();
  ASSERT_OK(b->begin());
  Result<std::uint64_t> again = b->allocate("instance", 10);
  ASSERT_OK(again.status());
  EXPECT_EQ(*again, *lost);
  EXPECT_EQ(b->allocate("no_such_counter", 1).status().code(), StatusCode::kCorruption);
  b->rollback();
}

TEST_F(PgStoreTest, TwoNodesNeverAcquireTheSameJob) {
  std::unique_ptr<PgStore> a = open_node();
  std::unique_ptr<PgStore> b = open_node();
  ASSERT_TRUE(a && b);
  std::vector<state::JobRecord> jobs;
  for (JobKey k = 1; k <= 6; ++k) jobs.push_back(pg_job(k, "pay"));
  jobs.push_back(pg_job(7, "mail"));
  ASSERT_OK(put_jobs(*a, jobs));

  // While a's transaction holds the first four, b skips them rather than waiting.
  ASSERT_OK(a->begin());
  Result<std::vector<state::JobRecord>> got_a =
      a->acquire_jobs("pay", "node-a", 1000, 61000, 4, {});
  ASSERT_OK(got_a.status());
  EXPECT_EQ(pg_keys(*got_a), (std::vector<JobKey>{1, 2, 3, 4}));
  ASSERT_OK(b->begin());
  Result<std::vector<state::JobRecord>> got_b =
      b->acquire_jobs("pay", "node-b", 1000, 61000, 4, {});
  ASSERT_OK(got_b.status());
  EXPECT_EQ(pg_keys(*got_b), (std::vector<JobKey>{5, 6}));
  ASSERT_OK(b->commit());
  ASSERT_OK(a->commit());
  for (const state::JobRecord& j : *got_a) {
    EXPECT_EQ(j.state, JobState::kLocked);
    EXPECT_EQ(j.lock_owner, "node-a");
    EXPECT_EQ(j.lock_expires_ms, 61000);
  }
  Result<std::vector<std::string>> owners = a->lock_owners();
  ASSERT_OK(owners.status());
  EXPECT_EQ(std::set<std::string>(owners->begin(), owners->end()),
            (std::set<std::string>{"node-a", "node-b"}));

  // Before the locks run out nothing is left; after, they come back.
  ASSERT_OK(b->begin());
  Result<std::vector<state::JobRecord>> none =
      b->acquire_jobs("pay", "node-c", 60000, 90000, 10, {});
  ASSERT_OK(none.status());
  EXPECT_TRUE(none->empty());
  Result<std::vector<state::JobRecord>> expired =
      b->acquire_jobs("pay", "node-c", 61001, 90000, 10, {});
  ASSERT_OK(expired.status());
  EXPECT_EQ(pg_keys(*expired), (std::vector<JobKey>{1, 2, 3, 4, 5, 6}));
  ASSERT_OK(b->commit());

  // Any type but those excepted.
  ASSERT_OK(a->begin());
  Result<std::vector<state::JobRecord>> other =
      a->acquire_jobs("", "node-d", 61001, 90000, 10, {"pay", "it's \"quoted\""});
  ASSERT_OK(other.status());
  EXPECT_EQ(pg_keys(*other), (std::vector<JobKey>{7}));
  Result<int> released = a->release_locks("node-c");
  ASSERT_OK(released.status());
  EXPECT_EQ(*released, 6);
  ASSERT_OK(a->release_job(7, "someone-else"));
  ASSERT_OK(a->commit());
  Result<state::JobRecord*> seven = a->job(7);
  ASSERT_OK(seven.status());
  ASSERT_NE(*seven, nullptr);
  EXPECT_EQ((*seven)->lock_owner, "node-d") << "only the holder releases a job";
  Result<std::vector<state::JobRecord>> pay = a->list_jobs("pay");
  ASSERT_OK(pay.status());
  ASSERT_EQ(pay->size(), 6u);
  EXPECT_EQ(pay->front().state, JobState::kCreated);
  EXPECT_TRUE(pay->front().lock_owner.empty());
}

TEST_F(PgStoreTest, NodesAcquiringAtOnceShareTheQueueWithoutRepeats) {
  std::unique_ptr<PgStore> a = open_node();
  std::unique_ptr<PgStore> b = open_node();
  ASSERT_TRUE(a && b);
  std::vector<state::JobRecord> jobs;
  for (JobKey k = 1; k <= 60; ++k) jobs.push_back(pg_job(k, "pay"));
  ASSERT_OK(put_jobs(*a, jobs));
  std::vector<JobKey> taken_a;
  std::vector<JobKey> taken_b;
  auto work = [](PgStore& node, const std::string& owner, std::vector<JobKey>& taken) {
    for (;;) {
      ASSERT_OK(node.begin());
      Result<std::vector<state::JobRecord>> got =
          node.acquire_jobs("pay", owner, 1, 1'000'000, 3, {});
      ASSERT_OK(got.status());
      ASSERT_OK(node.commit());
      if (got->empty()) return;
      for (const state::JobRecord& j : *got) taken.push_back(j.key);
    }
  };
  std::thread node_b([&] { work(*b, "node-b", taken_b); });
  work(*a, "node-a", taken_a);
  node_b.join();
  std::vector<JobKey> all = taken_a;
  all.insert(all.end(), taken_b.begin(), taken_b.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 60u) << "each job once";
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i + 1);
}

TEST_F(PgStoreTest, NextTimerIsTheEarliestDue) {
  std::unique_ptr<PgStore> a = open_node();
  ASSERT_TRUE(a);
  Result<std::optional<store::TimerRow>> empty = a->next_timer();
  ASSERT_OK(empty.status());
  EXPECT_FALSE(empty->has_value());
  ASSERT_OK(a->begin());
  ASSERT_OK(a->add_timer({300, 3, {5, 30, 0, 0, {}, 0, kNoIndex}}));
  ASSERT_OK(a->add_timer({100, 9, {6, 60, -1, 1000, {}, 0, kNoIndex}}));
  ASSERT_OK(a->add_timer({100, 4, {0, 0, 2, 500, "pg_order", 1, 0}}));
  ASSERT_OK(a->commit());

  std::unique_ptr<PgStore> b = open_node();
  ASSERT_TRUE(b);
  Result<std::optional<store::TimerRow>> next = b->next_timer();
  ASSERT_OK(next.status());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->due_ms, 100);
  EXPECT_EQ((*next)->id, 4u) << "the same due time: by id";
  EXPECT_EQ((*next)->record.process_id, "pg_order");
  EXPECT_EQ((*next)->record.version, 1);
  EXPECT_EQ((*next)->record.start_event, 0u);
  EXPECT_EQ((*next)->record.repetitions_left, 2);
  EXPECT_EQ((*next)->record.interval_ms, 500);

  ASSERT_OK(b->begin());
  ASSERT_OK(b->remove_start_timers("pg_order"));
  ASSERT_OK(b->commit());
  next = b->next_timer();
  ASSERT_OK(next.status());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->id, 9u);
  EXPECT_EQ((*next)->record.instance, 6u);
  EXPECT_EQ((*next)->record.wait, 60u);
  EXPECT_EQ((*next)->record.repetitions_left, -1);
  EXPECT_EQ((*next)->record.start_event, kNoIndex);

  // Added again with the same id: replaced (a cycle's next firing).
  ASSERT_OK(b->begin());
  ASSERT_OK(b->add_timer({500, 9, {6, 60, -1, 1000, {}, 0, kNoIndex}}));
  ASSERT_OK(b->commit());
  next = a->next_timer();
  ASSERT_OK(next.status());
  EXPECT_EQ((*next)->id, 3u);
  ASSERT_OK(a->begin());
  ASSERT_OK(a->remove_timer(300, 3));
  ASSERT_OK(a->commit());
  next = a->next_timer();
  ASSERT_OK(next.status());
  EXPECT_EQ((*next)->due_ms, 500);
}

TEST_F(PgStoreTest, SubscriptionsAreListedInTheOrderTheyOpened) {
  std::unique_ptr<PgStore> a = open_node();
  ASSERT_TRUE(a);
  const std::string paid = std::string("paid") + '\x1f' + "A-1";
  ASSERT_OK(a->begin());
  ASSERT_OK(a->add_subscription(paid, {7, 30}));
  ASSERT_OK(a->add_subscription(paid, {8, 10}));
  ASSERT_OK(a->add_subscription(paid, {9, 20}));
  ASSERT_OK(a->add_subscription(std::string("paid") + '\x1f' + "A-2", {7, 40}));
  ASSERT_OK(a->commit());
  std::vector<state::Subscription> subs{{99, 99}};
  ASSERT_OK(a->subscriptions(paid, subs));
  ASSERT_EQ(subs.size(), 3u) << "what `out` held is replaced";
  EXPECT_EQ(subs[0].wait, 10u);
  EXPECT_EQ(subs[0].instance, 8u);
  EXPECT_EQ(subs[2].wait, 30u);
  Result<store::pg::Rows> split = a->connection()->run_once(
      "SELECT message_name, correlation_key FROM subscriptions WHERE wait_id = 40");
  ASSERT_OK(split.status());
  EXPECT_EQ(split->text(0, 0), "paid");
  EXPECT_EQ(split->text(0, 1), "A-2");
  ASSERT_OK(a->begin());
  ASSERT_OK(a->remove_subscription(paid, 20));
  ASSERT_OK(a->commit());
  ASSERT_OK(a->subscriptions(paid, subs));
  ASSERT_EQ(subs.size(), 2u);
  EXPECT_EQ(subs[1].wait, 30u);
}

// A write sent later (with the next statement that needs an answer) that fails: the failure
// shows there, the transaction cannot commit, nothing of it stays, and the store goes on.
TEST_F(PgStoreTest, AWriteSentLaterThatFailsFailsItsTransactionAndNothingStays) {
  std::unique_ptr<PgStore> a = open_node();
  ASSERT_TRUE(a);
  const std::string key = std::string("paid") + '\x1f' + "B-1";
  ASSERT_OK(a->begin());
  ASSERT_OK(a->add_subscription(key, {1, 50}));
  ASSERT_OK(a->add_subscription(key, {2, 50}));  // the same wait: refused when it is sent
  std::vector<state::Subscription> subs;
  const Status read = a->subscriptions(key, subs);
  EXPECT_EQ(read.code(), StatusCode::kConflict) << read.to_string();
  EXPECT_FALSE(a->commit().is_ok()) << "a transaction with a failed statement committed";
  ASSERT_OK(a->subscriptions(key, subs));
  EXPECT_TRUE(subs.empty()) << "the first subscription of the failed transaction stayed";
  ASSERT_OK(a->begin());
  ASSERT_OK(a->add_subscription(key, {1, 51}));
  ASSERT_OK(a->commit());
  ASSERT_OK(a->subscriptions(key, subs));
  ASSERT_EQ(subs.size(), 1u);
  EXPECT_EQ(subs[0].wait, 51u);
}

TEST_F(PgStoreTest, ABufferedMessageIsTakenOnce) {
  std::unique_ptr<PgStore> a = open_node();
  std::unique_ptr<PgStore> b = open_node();
  ASSERT_TRUE(a && b);
  state::BufferedMessage first{0, "paid", "A-1", {{"n", 1}}, 5000};
  state::BufferedMessage second{0, "paid", "A-1", {{"n", 2}}, 5000};
  state::BufferedMessage stale{0, "paid", "A-1", {{"n", 3}}, 500};
  ASSERT_OK(a->begin());
  ASSERT_OK(a->add_buffered(stale, 100));
  ASSERT_OK(a->add_buffered(first, 100));
  ASSERT_OK(a->add_buffered(second, 100));
  ASSERT_OK(a->commit());
  EXPECT_LT(stale.id, first.id);
  EXPECT_LT(first.id, second.id) << "an id is a place in line";

  // a takes the oldest unexpired one; until a commits, b skips it and takes the next.
  ASSERT_OK(a->begin());
  auto taken_a = a->take_buffered("paid", "A-1", 1000);
  ASSERT_OK(taken_a.status());
  ASSERT_TRUE(taken_a->has_value());
  EXPECT_EQ((*taken_a)->id, first.id);
  EXPECT_EQ((*taken_a)->variables, first.variables);
  EXPECT_EQ((*taken_a)->expires_ms, 5000);
  ASSERT_OK(b->begin());
  auto taken_b = b->take_buffered("paid", "A-1", 1000);
  ASSERT_OK(taken_b.status());
  ASSERT_TRUE(taken_b->has_value());
  EXPECT_EQ((*taken_b)->id, second.id);
  auto nothing = b->take_buffered("paid", "A-1", 1000);
  ASSERT_OK(nothing.status());
  EXPECT_FALSE(nothing->has_value()) << "the expired one is not handed out";
  ASSERT_OK(a->commit());
  b->rollback();  // second is back in line

  // Put back, a message keeps its id (and so its place).
  ASSERT_OK(a->begin());
  ASSERT_OK(a->add_buffered(**taken_a, 1000));
  ASSERT_OK(a->commit());
  ASSERT_OK(b->begin());
  auto again = b->take_buffered("paid", "A-1", 1000);
  ASSERT_OK(again.status());
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->id, first.id);
  ASSERT_OK(b->commit());

  // Two nodes buffering at once get ids of their own.
  std::vector<std::uint64_t> ids_a;
  std::vector<std::uint64_t> ids_b;
  auto buffer = [](PgStore& node, std::vector<std::uint64_t>& ids) {
    for (int i = 0; i < 20; ++i) {
      state::BufferedMessage m{0, "shipped", "A-" + std::to_string(i), {}, 9000};
      ASSERT_OK(node.begin());
      ASSERT_OK(node.add_buffered(m, 1000));
      ASSERT_OK(node.commit());
      ids.push_back(m.id);
    }
  };
  std::thread node_b([&] { buffer(*b, ids_b); });
  buffer(*a, ids_a);
  node_b.join();
  std::set<std::uint64_t> ids(ids_a.begin(), ids_a.end());
  ids.insert(ids_b.begin(), ids_b.end());
  EXPECT_EQ(ids.size(), 40u);
}

TEST_F(PgStoreTest, APublishedMessageIdIsRecordedOnce) {
  std::unique_ptr<PgStore> a = open_node();
  std::unique_ptr<PgStore> b = open_node();
  ASSERT_TRUE(a && b);
  Result<std::optional<std::string>> unseen = a->published("msg-1");
  ASSERT_OK(unseen.status());
  EXPECT_FALSE(unseen->has_value());
  ASSERT_OK(a->begin());
  ASSERT_OK(a->record_published("msg-1", "paid", "A-1", R"({"instances":[4]})", 1000));
  ASSERT_OK(a->commit());
  // Another node that published it meanwhile fails its command, as SQLite's store does.
  ASSERT_OK(b->begin());
  const Status twice = b->record_published("msg-1", "paid", "A-1", R"({"instances":[]})", 2000);
  EXPECT_EQ(twice.code(), StatusCode::kConflict) << twice.to_string();
  b->rollback();
  Result<std::optional<std::string>> seen = b->published("msg-1");
  ASSERT_OK(seen.status());
  ASSERT_TRUE(seen->has_value());
  EXPECT_EQ(**seen, R"({"instances":[4]})");
}

TEST_F(PgStoreTest, DeploymentsAreListedByProcessAndVersion) {
  std::unique_ptr<PgStore> a = open_node();
  ASSERT_TRUE(a);
  Result<int> none = a->latest_version("pg_order");
  ASSERT_OK(none.status());
  EXPECT_EQ(*none, 0);
  ASSERT_OK(a->begin());
  ASSERT_OK(a->add_deployment({"pg_order", 1, "h1", "order.bpmn", "<xml 1/>", 0, 1000}));
  ASSERT_OK(a->add_deployment({"pg_order", 2, "h2", "order.bpmn", "<xml 2/>", 1, 2000}));
  ASSERT_OK(a->add_deployment({"Pg_audit", 1, "h3", "audit.bpmn", "<xml 3/>", 0, 3000}));
  ASSERT_OK(a->commit());
  Result<int> latest = a->latest_version("pg_order");
  ASSERT_OK(latest.status());
  EXPECT_EQ(*latest, 2);
  Result<std::vector<store::DeploymentRow>> all = a->deployments();
  ASSERT_OK(all.status());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].process_id, "Pg_audit") << "by process id, byte by byte";
  EXPECT_EQ((*all)[2].version, 2);
  EXPECT_EQ((*all)[2].content_hash, "h2");
  EXPECT_EQ((*all)[2].xml, "<xml 2/>");
  EXPECT_EQ((*all)[2].load_flags, 1);
  EXPECT_EQ((*all)[2].deployed_ms, 2000);
  Result<std::vector<store::DeploymentRow>> orders = a->deployments("pg_order");
  ASSERT_OK(orders.status());
  EXPECT_EQ(orders->size(), 2u);
  ASSERT_OK(a->begin());
  EXPECT_EQ(a->add_deployment({"pg_order", 2, "h", "f", "x", 0, 1}).code(), StatusCode::kConflict);
  a->rollback();
}

TEST_F(PgStoreTest, HistoryFromTwoNodesIsNumberedWithoutGapsOrRepeats) {
  std::unique_ptr<PgStore> a = open_node();
  std::unique_ptr<PgStore> b = open_node();
  ASSERT_TRUE(a && b);
  std::vector<std::uint64_t> seq_a;
  std::vector<std::uint64_t> seq_b;
  // Transactions of one or two commands (write() calls) of 1-3 events; every fourth rolls
  // back, and its numbers are given back.
  auto record = [](PgStore& node, InstanceId instance, std::vector<std::uint64_t>& seqs) {
    for (int t = 0; t < 30; ++t) {
      ASSERT_OK(node.begin());
      std::vector<std::uint64_t> mine;
      for (int command = 0; command <= t % 2; ++command) {
        std::vector<HistoryEvent> events(static_cast<std::size_t>(1 + t % 3));
        for (HistoryEvent& e : events) {
          e.instance = instance + static_cast<InstanceId>(&e - events.data()) % 2;
          e.kind = HistoryKind::kVariablesUpdated;
        }
        const std::vector<InstanceId> no_instances;
        const std::vector<JobKey> no_jobs;
        store::Changes changes{no_instances, no_jobs, no_instances, events};
        ASSERT_OK(node.write(changes));
        for (const HistoryEvent& e : events) mine.push_back(e.sequence);
      }
      if (t % 4 == 3) {
        node.rollback();
        continue;
      }
      ASSERT_OK(node.commit());
      // Numbered at commit: what write() gave moves by history_shift(), as the runtime does.
      for (std::uint64_t s : mine) {
        seqs.push_back(s + static_cast<std::uint64_t>(node.history_shift()));
      }
    }
  };
  std::thread node_b([&] { record(*b, 200, seq_b); });
  record(*a, 100, seq_a);
  node_b.join();
  std::vector<std::uint64_t> all = seq_a;
  all.insert(all.end(), seq_b.begin(), seq_b.end());
  std::sort(all.begin(), all.end());
  ASSERT_FALSE(all.empty());
  for (std::size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], i + 1) << "from 1, no gaps";
  Result<store::pg::Rows> stored = a->connection()->run_once(
      "SELECT (SELECT sum(json_array_length(events::json)) FROM history), "
      "(SELECT value FROM meta WHERE name = 'history')");
  ASSERT_OK(stored.status());
  EXPECT_EQ(stored->integer(0, 0), static_cast<std::int64_t>(all.size()));
  EXPECT_EQ(stored->integer(0, 1), static_cast<std::int64_t>(all.size() + 1));
}

TEST_F(PgStoreTest, AnInstanceIsWrittenReadAndLockedPerTransaction) {
  std::unique_ptr<PgStore> a = open_node();
  std::unique_ptr<PgStore> b = open_node();
  ASSERT_TRUE(a && b);
  ASSERT_OK(deploy(*a));
  Result<InstanceId> id = start_instance(*a, "A-1", 500);
  ASSERT_OK(id.status());

  // Another node reads it as written.
  Result<state::Instance*> read = b->instance(*id);
  ASSERT_OK(read.status());
  ASSERT_NE(*read, nullptr);
  const state::Instance& inst = **read;
  EXPECT_EQ(inst.rev, 1u);
  EXPECT_EQ(inst.business_key, "A-1");
  EXPECT_EQ(inst.vars["amount"], 99.5);
  ASSERT_EQ(inst.elements.size(), 1u);
  EXPECT_EQ(inst.elements[0].job, 500u);
  EXPECT_EQ(inst.plan->def->id, "pg_order");
  Result<std::optional<InstanceId>> found = b->find_business_key("pg_order", "A-1");
  ASSERT_OK(found.status());
  EXPECT_EQ(*found, std::optional<InstanceId>(*id));
  Result<std::vector<store::InstanceRow>> listed = b->list_instances({});
  ASSERT_OK(listed.status());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].business_key, "A-1");
  EXPECT_EQ((*listed)[0].state, InstanceState::kActive);
  Result<std::vector<store::InstanceCountRow>> counted = b->count_instances();
  ASSERT_OK(counted.status());
  ASSERT_EQ(counted->size(), 1u);
  EXPECT_EQ((*counted)[0].count, 1);

  // a reads it in a transaction: b's transaction waits for the row until a commits, and
  // then sees what a wrote.
  ASSERT_OK(a->begin());
  Result<state::Instance*> mine = a->instance(*id);
  ASSERT_OK(mine.status());
  std::atomic<bool> b_read{false};
  std::uint64_t rev_b = 0;
  nlohmann::json paid_b;
  std::thread node_b([&] {
    ASSERT_OK(b->begin());
    Result<state::Instance*> theirs = b->instance(*id);
    b_read = true;
    ASSERT_OK(theirs.status());
    ASSERT_NE(*theirs, nullptr);
    rev_b = (*theirs)->rev;
    paid_b = (*theirs)->vars["paid"];
    ASSERT_OK(b->commit());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(b_read) << "b waits for a's row lock";
  (*mine)->vars["paid"] = true;
  (*mine)->vars_changed = true;
  (*mine)->incidents.push_back({77, 1, (*mine)->elements[0].element, 500,
                                state::IncidentRetry::kJob, IncidentKind::kJobNoRetries,
                                "card declined", 2000});
  (*mine)->incidents_changed = true;
  std::vector<HistoryEvent> events(1);
  events[0].instance = *id;
  events[0].kind = HistoryKind::kIncidentRaised;
  events[0].element_id = "pay";
  events[0].key = 77;
  events[0].detail = "card declined";
  ASSERT_OK(write(*a, {*id}, {}, events));
  node_b.join();
  EXPECT_EQ(rev_b, 2u);
  EXPECT_EQ(paid_b, true);

  Result<std::vector<store::IncidentRow>> incidents = b->list_incidents();
  ASSERT_OK(incidents.status());
  ASSERT_EQ(incidents->size(), 1u);
  EXPECT_EQ((*incidents)[0].element_id, "pay");
  EXPECT_EQ((*incidents)[0].kind, IncidentKind::kJobNoRetries);
  Result<std::optional<InstanceId>> of_incident = b->incident_instance(77);
  ASSERT_OK(of_incident.status());
  EXPECT_EQ(*of_incident, std::optional<InstanceId>(*id));

  Result<std::vector<HistoryEvent>> history = b->history(*id);
  ASSERT_OK(history.status());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].kind, HistoryKind::kInstanceStarted);
  EXPECT_EQ((*history)[1].element_id, "pay");
  EXPECT_EQ((*history)[1].element_kind, ElementKind::kServiceTask);
  EXPECT_EQ((*history)[2].sequence, (*history)[0].sequence + 2);
  EXPECT_EQ((*history)[2].detail, "card declined");

  // A copy older than what is stored is refused when its write reaches the server: at the
  // latest at commit (a command's rows wait for the next round trip), and nothing of the
  // transaction is kept.
  ASSERT_OK(a->begin());
  auto stale = std::make_unique<state::Instance>(*b->cached_instance(*id));
  stale->rev = 1;
  a->add_instance(std::move(stale));
  std::vector<HistoryEvent> no_events;
  const std::vector<InstanceId> ids{*id};
  const std::vector<JobKey> no_jobs;
  store::Changes changes{ids, no_jobs, no_jobs, no_events};
  ASSERT_OK(a->write(changes));
  EXPECT_EQ(a->commit().code(), StatusCode::kConflict);
  a->rollback();
  Result<state::Instance*> kept = b->instance(*id);
  ASSERT_OK(kept.status());
  EXPECT_EQ((*kept)->rev, 2u);
}

TEST_F(PgStoreTest, ADamagedInstanceIsHeldForEveryNode) {
  std::unique_ptr<PgStore> a = open_node();
  std::unique_ptr<PgStore> b = open_node();
  ASSERT_TRUE(a && b);
  ASSERT_OK(deploy(*a));
  Result<InstanceId> id = start_instance(*a, "A-1", 500);
  ASSERT_OK(id.status());
  ASSERT_OK(a->begin());
  ASSERT_OK(a->add_timer({100, 9, {*id, 3, 0, 0, {}, 0, kNoIndex}}));
  ASSERT_OK(a->add_subscription(std::string("paid") + '\x1f' + "A-1", {*id, 4}));
  ASSERT_OK(a->commit());
  ASSERT_OK(a->connection()
                ->run_once("UPDATE instances SET runtime = '{\"k\": oops' WHERE id = $1",
                           {std::to_string(*id).c_str()})
                .status());

  ASSERT_OK(b->begin());
  EXPECT_EQ(b->instance(*id).status().code(), StatusCode::kCorruption);
  Result<bool> held = b->hold_damaged(*id, 900, "runtime damaged", 3000);
  ASSERT_OK(held.status());
  EXPECT_TRUE(*held);
  Result<bool> twice = b->hold_damaged(*id, 901, "runtime damaged", 3000);
  ASSERT_OK(twice.status());
  EXPECT_FALSE(*twice);
  ASSERT_OK(b->commit());

  Result<std::optional<store::TimerRow>> timer = a->next_timer();
  ASSERT_OK(timer.status());
  EXPECT_FALSE(timer->has_value()) << "its timers wait";
  std::vector<state::Subscription> subs;
  ASSERT_OK(a->subscriptions(std::string("paid") + '\x1f' + "A-1", subs));
  EXPECT_TRUE(subs.empty()) << "its subscriptions wait";
  Result<state::JobRecord*> job = a->job(500);
  ASSERT_OK(job.status());
  ASSERT_NE(*job, nullptr);
  EXPECT_EQ((*job)->state, JobState::kIncident);
  Result<std::optional<InstanceId>> damaged = a->damaged_instance(900);
  ASSERT_OK(damaged.status());
  EXPECT_EQ(*damaged, std::optional<InstanceId>(*id));
  Result<std::vector<store::Store::TreeMember>> tree = a->call_tree(*id);
  ASSERT_OK(tree.status());
  ASSERT_EQ(tree->size(), 1u);
  EXPECT_EQ((*tree)[0].process_id, "pg_order");
  EXPECT_EQ((*tree)[0].version, 1);

  ASSERT_OK(a->begin());
  ASSERT_OK(a->release_damaged(*id, 900, false));
  ASSERT_OK(a->commit());
  timer = b->next_timer();
  ASSERT_OK(timer.status());
  EXPECT_TRUE(timer->has_value());
  job = b->job(500);
  ASSERT_OK(job.status());
  ASSERT_NE(*job, nullptr);
  EXPECT_EQ((*job)->state, JobState::kCreated);
}

TEST_F(PgStoreTest, ABrokenConnectionFailsTheCallAndTheNextTransactionConnectsAgain) {
  std::unique_ptr<PgStore> a = open_node();
  ASSERT_TRUE(a);
  Result<store::pg::Connection> admin = store::pg::Connection::open(url_);
  ASSERT_OK(admin.status());
  auto kill = [&] {
    Result<store::pg::Rows> pid = a->connection()->run_once("SELECT pg_backend_pid()");
    ASSERT_OK(pid.status());
    const std::string text(pid->text(0, 0));
    ASSERT_OK(
        admin->run_once("SELECT pg_terminate_backend($1::int, 5000)", {text.c_str()}).status());
  };

  // In a transaction: the call fails, the transaction is lost, nothing throws.
  ASSERT_OK(a->begin());
  kill();
  Result<std::uint64_t> first = a->allocate("key", 10);
  ASSERT_FALSE(first.is_ok());
  EXPECT_EQ(first.status().code(), StatusCode::kIoError) << first.status().to_string();
  const Status commit = a->commit();
  EXPECT_EQ(commit.code(), StatusCode::kIoError) << commit.to_string();
  a->rollback();
  ASSERT_OK(a->begin());
  Result<std::uint64_t> again = a->allocate("key", 10);
  ASSERT_OK(again.status());
  EXPECT_EQ(*again, 1u) << "the lost transaction took nothing";
  ASSERT_OK(a->commit());

  // Between transactions: the next begin() connects again at once.
  kill();
  ASSERT_OK(a->begin());
  ASSERT_OK(a->allocate("key", 10).status());
  ASSERT_OK(a->commit());
}

}  // namespace
}  // namespace ordo::testing
