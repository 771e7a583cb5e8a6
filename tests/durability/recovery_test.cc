// Recovery of every wait state across a restart (the engine closed and opened again on the
// same file), versions and idempotent starts, message ids, and bad database files at the
// engine's level.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>

#include "durability_util.h"
#include "ordo/engine.h"
#include "ordo/loader.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

constexpr std::int64_t kT0 = 1'796'119'200'000;  // 2026-12-01T10:00:00Z

std::string svc(const std::string& id) {
  return "<serviceTask id=\"" + id + "\"><extensionElements><zeebe:taskDefinition type=\"" + id +
         "\"/></extensionElements></serviceTask>";
}
std::string flow(const std::string& a, const std::string& b) {
  return "<sequenceFlow id=\"" + a + "-" + b + "\" sourceRef=\"" + a + "\" targetRef=\"" + b +
         "\"/>";
}

class Recovery : public ::testing::Test {
 protected:
  Recovery() : dir_("recovery"), db_(dir_.path("ordo.db")) {}

  // Opens the database with the virtual clock at `now`.
  std::unique_ptr<Engine> open(std::int64_t now, std::string worker = "test:1:a") {
    EngineOptions o;
    o.clock = std::make_shared<VirtualClock>(now);
    o.worker_id = std::move(worker);
    o.job_lock_ms = 10 * 60'000;
    o.multi_instance_batch = multi_instance_batch_;
    auto e = Engine::open(db_, o);
    EXPECT_TRUE(e.is_ok()) << e.status().to_string();
    return e.is_ok() ? std::move(*e) : nullptr;
  }
  void deploy(Engine& e, const std::string& body) {
    LoadResult r = load_bpmn(process(body), "p.bpmn");
    ASSERT_TRUE(r.ok()) << dump(r);
    auto d = e.deploy(r.document);
    ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  }
  static VirtualClock& clock(Engine& e) {
    return const_cast<VirtualClock&>(dynamic_cast<const VirtualClock&>(e.clock()));
  }

  TempDir dir_;
  std::string db_;
  std::uint32_t multi_instance_batch_ = EngineOptions{}.multi_instance_batch;
};

TEST_F(Recovery, JobInFlightIsPickedUpAgainWithTheSameKeyAfterItsLockExpires) {
  std::string first_key;
  InstanceId id = 0;
  {
    auto e = open(kT0, "worker-a:1:x");
    deploy(*e, "<startEvent id=\"s\"/>" + svc("charge") + "<endEvent id=\"e\"/>" +
                   flow("s", "charge") + flow("charge", "e"));
    id = e->start("p", {{"orderId", "A-1"}}, "A-1")->id;
    // The handler takes the job and never answers: the worker "dies" with it locked.
    e->set_fallback_handler([&](const Job& job) {
      first_key = std::string(job.idempotency_key());
      return JobOutcome::pending();
    });
    must(e->run_until_idle());
    ASSERT_FALSE(first_key.empty());
    ASSERT_EQ(must(e->open_jobs()).at(0).state, JobState::kLocked);
  }
  {
    // Another worker, before the lock expires: the job is not its to take.
    auto e = open(kT0 + 60'000, "worker-b:1:y");
    int calls = 0;
    e->set_fallback_handler([&](const Job&) {
      ++calls;
      return JobOutcome::complete();
    });
    must(e->run_until_idle());
    EXPECT_EQ(calls, 0);
    // After it expires, it is.
    clock(*e).set(kT0 + 11 * 60'000);
    std::string second_key;
    e->set_fallback_handler([&](const Job& job) {
      second_key = std::string(job.idempotency_key());
      return JobOutcome::complete();
    });
    must(e->run_until_idle());
    EXPECT_EQ(second_key, first_key);
    EXPECT_EQ(e->instance(id)->state, InstanceState::kCompleted);
  }
}

TEST_F(Recovery, TimersFireAfterARestartWhenDueAndWaitWhenNot) {
  const std::string body =
      "<startEvent id=\"s\"/><intermediateCatchEvent id=\"wait\"><timerEventDefinition>"
      "<timeDuration>PT1H</timeDuration></timerEventDefinition></intermediateCatchEvent>"
      "<endEvent id=\"e\"/>" + flow("s", "wait") + flow("wait", "e");
  InstanceId id = 0;
  {
    auto e = open(kT0);
    deploy(*e, body);
    id = e->start("p")->id;
    EXPECT_EQ(must(e->next_timer_due()), kT0 + kHour);
  }
  {
    auto e = open(kT0 + 30 * 60'000);  // not yet due
    must(e->run_until_idle());
    EXPECT_EQ(e->instance(id)->state, InstanceState::kActive);
    EXPECT_EQ(must(e->next_timer_due()), kT0 + kHour);
  }
  {
    auto e = open(kT0 + 5 * kHour);  // fell due while the engine was down
    must(e->run_until_idle());
    EXPECT_EQ(e->instance(id)->state, InstanceState::kCompleted);
    EXPECT_EQ(e->instance(id)->end_event, "e");
    EXPECT_FALSE(must(e->next_timer_due()).has_value());
  }
}

// The batches of a parallel multi-instance activity still to start are in the database: a
// restart between them starts them, once each.
TEST_F(Recovery, MultiInstanceBatchesStillToStartSurviveARestart) {
  multi_instance_batch_ = 3;
  const std::string body =
      "<startEvent id=\"s\"/><serviceTask id=\"t\"><extensionElements><zeebe:taskDefinition "
      "type=\"t\"/></extensionElements><multiInstanceLoopCharacteristics><extensionElements>"
      "<zeebe:loopCharacteristics inputCollection=\"=items\" inputElement=\"item\" "
      "outputCollection=\"results\" outputElement=\"=item\"/></extensionElements>"
      "</multiInstanceLoopCharacteristics></serviceTask><endEvent id=\"e\"/>" +
      flow("s", "t") + flow("t", "e");
  InstanceId id = 0;
  {
    auto e = open(kT0);
    deploy(*e, body);
    id = e->start("p", {{"items", {1, 2, 3, 4, 5, 6, 7, 8}}})->id;
    EXPECT_EQ(must(e->open_jobs()).size(), 3u);
  }
  auto e = open(kT0);
  std::multiset<int> handled;
  e->register_handler("t", [&](const Job& job) {
    handled.insert(job.variables()["item"].get<int>());
    return JobOutcome::complete();
  });
  must(e->run_until_idle());
  EXPECT_EQ(handled, (std::multiset<int>{1, 2, 3, 4, 5, 6, 7, 8}));
  const InstanceInfo info = must(e->instance(id));
  EXPECT_EQ(info.state, InstanceState::kCompleted);
  EXPECT_EQ(info.variables["results"], nlohmann::json({1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST_F(Recovery, ACompensationHalfDoneGoesOnAfterARestart) {
  // Each reserved item is released by the handler, newest first: the records kept at each
  // completion, and the list of handlers still to run, are stored with the instance.
  const std::string body =
      "<startEvent id=\"s\"/><serviceTask id=\"reserve\"><extensionElements>"
      "<zeebe:taskDefinition type=\"reserve\"/></extensionElements>"
      "<multiInstanceLoopCharacteristics isSequential=\"true\"><extensionElements>"
      "<zeebe:loopCharacteristics inputCollection=\"=items\" inputElement=\"item\"/>"
      "</extensionElements></multiInstanceLoopCharacteristics></serviceTask>"
      "<boundaryEvent id=\"undo-reserve\" attachedToRef=\"reserve\">"
      "<compensateEventDefinition/></boundaryEvent>"
      "<serviceTask id=\"release\" isForCompensation=\"true\"><extensionElements>"
      "<zeebe:taskDefinition type=\"release\"/></extensionElements></serviceTask>"
      "<association id=\"as\" sourceRef=\"undo-reserve\" targetRef=\"release\"/>"
      "<endEvent id=\"e\"><compensateEventDefinition/></endEvent>" +
      flow("s", "reserve") + flow("reserve", "e");
  InstanceId id = 0;
  {
    auto e = open(kT0);
    deploy(*e, body);
    id = e->start("p", {{"items", {"a", "b", "c"}}})->id;
    e->register_handler("reserve", [](const Job&) { return JobOutcome::complete(); });
    must(e->run_until_idle());
    const std::vector<JobInfo> open = must(e->open_jobs());
    ASSERT_EQ(open.size(), 1u);
    EXPECT_EQ(open[0].element_id, "release");
  }
  // One handler per engine: each completion creates the next handler's job, which the
  // next engine hands out.
  std::vector<std::string> released;
  for (int restart = 0; restart < 4; ++restart) {
    auto e = open(kT0);
    FetchRequest fetch;
    fetch.worker = "w";
    fetch.types = {"release"};
    const std::vector<LockedJob> jobs = must(e->fetch_and_lock(fetch));
    if (jobs.empty()) break;
    ASSERT_EQ(jobs.size(), 1u);
    released.push_back(jobs[0].variables["item"].get<std::string>());
    ASSERT_OK(e->answer_job(jobs[0].key, "w", JobOutcome::complete()));
  }
  EXPECT_EQ(released, (std::vector<std::string>{"c", "b", "a"}));
  auto e = open(kT0);
  EXPECT_EQ(must(e->instance(id)).state, InstanceState::kCompleted);
}

TEST_F(Recovery, MessageSubscriptionSurvivesARestartAndSaysWhoReceived) {
  const std::string body =
      "<startEvent id=\"s\"/><intermediateCatchEvent id=\"paid\"><messageEventDefinition "
      "messageRef=\"m\"/></intermediateCatchEvent><endEvent id=\"e\"/>" +
      flow("s", "paid") + flow("paid", "e") + "</process><message id=\"m\" name=\"paid\">"
      "<extensionElements><zeebe:subscription correlationKey=\"=orderId\"/></extensionElements>"
      "</message><process id=\"unused\" isExecutable=\"false\"><startEvent id=\"u\"/>";
  InstanceId id = 0;
  {
    auto e = open(kT0);
    deploy(*e, body);
    id = e->start("p", {{"orderId", "A-7"}}, "A-7")->id;
  }
  auto e = open(kT0 + 1000);
  Message m;
  m.name = "paid";
  m.correlation_key = "A-7";
  m.message_id = "psp-event-1";
  m.variables = {{"amount", 12}};
  auto r = e->publish_message(m);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->instances, std::vector<InstanceId>{id});
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(e->instance(id)->state, InstanceState::kCompleted);
  EXPECT_EQ(e->instance(id)->variables["amount"], 12);
  // The same message id again: nothing happens, and the caller learns what did the first time.
  auto again = e->publish_message(m);
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->instances, std::vector<InstanceId>{id});
}

TEST_F(Recovery, BufferedMessageWaitsAcrossARestartForItsSubscription) {
  const std::string body =
      "<startEvent id=\"s\"/><intermediateCatchEvent id=\"paid\"><messageEventDefinition "
      "messageRef=\"m\"/></intermediateCatchEvent><endEvent id=\"e\"/>" +
      flow("s", "paid") + flow("paid", "e") + "</process><message id=\"m\" name=\"paid\">"
      "<extensionElements><zeebe:subscription correlationKey=\"=orderId\"/></extensionElements>"
      "</message><process id=\"unused\" isExecutable=\"false\"><startEvent id=\"u\"/>";
  {
    auto e = open(kT0);
    deploy(*e, body);
    Message m;
    m.name = "paid";
    m.correlation_key = "A-9";
    m.ttl_ms = kHour;
    auto r = e->publish_message(m);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_TRUE(r->buffered);
    EXPECT_TRUE(r->instances.empty());
  }
  auto e = open(kT0 + 10 * 60'000);
  InstanceId id = e->start("p", {{"orderId", "A-9"}}, "A-9")->id;
  EXPECT_EQ(e->instance(id)->state, InstanceState::kCompleted);
}

TEST_F(Recovery, IncidentSurvivesARestartAndCanBeResolved) {
  InstanceId id = 0;
  {
    auto e = open(kT0);
    deploy(*e, "<startEvent id=\"s\"/><serviceTask id=\"ship\"><extensionElements>"
                   "<zeebe:taskDefinition type=\"ship\" retries=\"1\"/></extensionElements>"
                   "</serviceTask><endEvent id=\"e\"/>" + flow("s", "ship") + flow("ship", "e"));
    id = e->start("p")->id;
    e->set_fallback_handler([](const Job&) { return JobOutcome::fail("carrier down"); });
    must(e->run_until_idle());
    ASSERT_EQ(must(e->incidents()).size(), 1u);
  }
  auto e = open(kT0 + kHour);
  std::vector<IncidentInfo> incidents = must(e->incidents());
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].instance, id);
  EXPECT_EQ(incidents[0].element_id, "ship");
  EXPECT_NE(incidents[0].message.find("carrier down"), std::string::npos);
  EXPECT_EQ(e->instance(id)->state, InstanceState::kIncident);
  ASSERT_OK(e->resolve_incident(incidents[0].key, 2));
  e->set_fallback_handler([](const Job&) { return JobOutcome::complete(); });
  must(e->run_until_idle());
  EXPECT_EQ(e->instance(id)->state, InstanceState::kCompleted);
  EXPECT_TRUE(must(e->incidents()).empty());
}

TEST_F(Recovery, VersionsAndIdempotentStartsAreKeptInTheDatabase) {
  const std::string v1 = "<startEvent id=\"s\"/>" + svc("a") + "<endEvent id=\"e\"/>" +
                         flow("s", "a") + flow("a", "e");
  const std::string v2 = "<startEvent id=\"s\"/>" + svc("b") + "<endEvent id=\"e\"/>" +
                         flow("s", "b") + flow("b", "e");
  InstanceId old_instance = 0;
  {
    auto e = open(kT0);
    deploy(*e, v1);
    deploy(*e, v1);  // the same content: still version 1
    EXPECT_EQ(must(e->deployments()).size(), 1u);
    old_instance = e->start("p", {}, "K-1")->id;
  }
  auto e = open(kT0);
  deploy(*e, v2);
  ASSERT_EQ(must(e->deployments()).size(), 2u);
  StartRequest again;
  again.process_id = "p";
  again.business_key = "K-1";
  auto r = e->start(again);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_FALSE(r->created);
  EXPECT_EQ(r->id, old_instance);
  // The running instance stays on version 1; a new one takes version 2, unless asked.
  EXPECT_EQ(e->instance(old_instance)->version, 1);
  EXPECT_EQ(must(e->open_jobs()).at(0).type, "a");
  StartRequest fresh;
  fresh.process_id = "p";
  fresh.business_key = "K-2";
  EXPECT_EQ(e->start(fresh)->version, 2);
  fresh.business_key = "K-3";
  fresh.version = 1;
  EXPECT_EQ(e->start(fresh)->version, 1);
}

// A start request id is an inbox entry: a repeat, in the same batch or after a restart,
// returns the first start's instance and starts nothing.
TEST_F(Recovery, AStartRequestIdStartsOnceAcrossBatchesAndRestarts) {
  const std::string body = "<startEvent id=\"s\"/>" + svc("a") + "<endEvent id=\"e\"/>" +
                           flow("s", "a") + flow("a", "e");
  InstanceId first = 0;
  {
    auto e = open(kT0);
    deploy(*e, body);
    std::vector<StartRequest> batch(3);
    for (StartRequest& r : batch) r.process_id = "p";
    batch[0].request_id = "msg-1";
    batch[1].request_id = "msg-2";
    batch[2].request_id = "msg-1";  // redelivered within the batch
    std::vector<StartResult> got = must(e->start_many(batch));
    ASSERT_EQ(got.size(), 3u);
    EXPECT_TRUE(got[0].created);
    EXPECT_TRUE(got[1].created);
    EXPECT_FALSE(got[2].created);
    EXPECT_EQ(got[2].id, got[0].id);
    EXPECT_NE(got[1].id, got[0].id);
    first = got[0].id;
  }
  auto e = open(kT0);
  StartRequest again;
  again.process_id = "p";
  again.request_id = "msg-1";
  StartResult r = must(e->start(again));
  EXPECT_FALSE(r.created);
  EXPECT_EQ(r.id, first);
  EXPECT_EQ(r.version, 1);
  // A message id of the same text is another inbox entry: publishing does not see the start.
  Message m;
  m.name = "nobody-waits";
  m.message_id = "msg-1";
  EXPECT_FALSE(must(e->publish_message(m)).duplicate);
  InstanceFilter all;
  all.limit = 100;
  EXPECT_EQ(must(e->instances(all)).size(), 2u);
}

TEST_F(Recovery, FullDatabaseFailsTheCommandAndKeepsWhatWasCommitted) {
  InstanceId first = 0;
  {
    auto e = open(kT0);
    deploy(*e, "<startEvent id=\"s\"/>" + svc("a") + "<endEvent id=\"e\"/>" + flow("s", "a") +
                   flow("a", "e"));
    first = e->start("p", {{"note", "small"}}, "K-1")->id;
  }
  EngineOptions o;
  o.clock = std::make_shared<VirtualClock>(kT0);
  o.max_database_pages = 1;  // already more than that: nothing more fits
  auto e = Engine::open(db_, o);
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  const std::string big(200'000, 'x');
  auto r = (*e)->start("p", {{"note", big}}, "K-2");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find("full"), std::string::npos) << r.status().to_string();
  // Nothing of the failed command, everything from before.
  InstanceFilter all;
  auto instances = (*e)->instances(all);
  ASSERT_TRUE(instances.is_ok()) << instances.status().to_string();
  ASSERT_EQ(instances->size(), 1u);
  EXPECT_EQ(instances->at(0).id, first);
  EXPECT_EQ((*e)->instance(first)->variables["note"], "small");
}

// Pages of the database at `path` (WAL included), read as SQLite counts them.
std::int64_t page_count(const std::string& path) {
  sqlite3* db = nullptr;
  std::int64_t pages = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      pages = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return pages;
}

// `ordo run --db` on a full disk: the order stops with the store's error, not a loop that
// fires a timer it cannot store, again and again, at full speed. The order is started (its
// 400 KB note fits), then the first step that writes the instance again does not: with its
// payment timeout due, the run went round forever.
TEST_F(Recovery, RunningOrdersOnAFullDatabaseStopsWithTheStoresError) {
  const std::string shipped = ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn";
  const nlohmann::json order = {{"orderId", "A-1"},
                                {"paymentDelayMinutes", 60},  // after the 30-minute timeout
                                {"note", std::string(400'000, 'x')}};
  // How many pages the deployment and the started order take, found on a scratch file.
  const std::string scratch = dir_.path("scratch.db");
  {
    auto e = Engine::open(scratch);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    ASSERT_TRUE((*e)->deploy_file(shipped).is_ok());
    ASSERT_TRUE((*e)->start("order-acceptance", order, "A-1").is_ok());
  }
  const std::int64_t started = page_count(scratch);
  ASSERT_GT(started, 100);
  RunOptions o;
  o.database = db_;
  o.max_database_pages = started + 30;  // not the 100 more a second copy of the note needs
  auto r = run_orders(shipped, {order}, o);
  ASSERT_FALSE(r.is_ok()) << "the run cannot have finished in a database this small";
  EXPECT_EQ(r.status().code(), StatusCode::kIoError) << r.status().to_string();
  EXPECT_NE(r.status().message().find("full"), std::string::npos) << r.status().to_string();
}

// `ordo run --db` resuming over an instance whose row is damaged: the run fails naming the
// order, instead of showing it waiting since 1970 and ending well.
TEST_F(Recovery, ResumingARunOverADamagedInstanceFailsNamingTheOrder) {
  const std::string file = dir_.path("waits.bpmn");
  std::ofstream(file) << bpmn(
      "<message id=\"m\" name=\"never\"><extensionElements><zeebe:subscription "
      "correlationKey=\"=orderId\"/></extensionElements></message>"
      "<process id=\"p\" isExecutable=\"true\"><startEvent id=\"s\"/>"
      "<intermediateCatchEvent id=\"wait\"><messageEventDefinition messageRef=\"m\"/>"
      "</intermediateCatchEvent><endEvent id=\"e\"/>"
      "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"wait\"/>"
      "<sequenceFlow id=\"f2\" sourceRef=\"wait\" targetRef=\"e\"/></process>");
  const std::vector<nlohmann::json> orders = {{{"orderId", "A-1"}}, {{"orderId", "A-2"}}};
  RunOptions o;
  o.database = db_;
  auto first = run_orders(file, orders, o);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  const InstanceId broken = first->orders[0].instance;
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db_.c_str(), &raw), SQLITE_OK);
    const std::string sql = "UPDATE instances SET runtime = 'garbage', rev = rev + 1 WHERE id = " +
                            std::to_string(broken);
    ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
  }
  auto again = run_orders(file, orders, o);
  ASSERT_FALSE(again.is_ok()) << "the damaged order was reported as "
                              << to_string(again->orders[0].state);
  EXPECT_EQ(again.status().code(), StatusCode::kCorruption) << again.status().to_string();
  EXPECT_NE(again.status().message().find("A-1"), std::string::npos) << again.status().to_string();
  EXPECT_NE(again.status().message().find(std::to_string(broken)), std::string::npos);
}

TEST_F(Recovery, BadDatabaseFilesAreRefusedByTheEngineAndLeftUntouched) {
  {
    std::ofstream(db_) << "orderId,total\nA-1,10\n";
  }
  auto e = Engine::open(db_);
  ASSERT_FALSE(e.is_ok());
  EXPECT_NE(e.status().message().find(db_), std::string::npos);
  EXPECT_NE(e.status().message().find("not an Ordo database"), std::string::npos);
  EXPECT_EQ(read_file(db_), "orderId,total\nA-1,10\n");
}

TEST_F(Recovery, WorkerThreadsRunEveryJobAndAStoppedWorkerGivesBackWhatItDidNotStart) {
  auto e = open(kT0);
  deploy(*e, "<startEvent id=\"s\"/>" + svc("a") + svc("b") + "<endEvent id=\"e\"/>" +
                 flow("s", "a") + flow("a", "b") + flow("b", "e"));
  std::vector<StartRequest> starts(40);
  for (std::size_t i = 0; i < starts.size(); ++i) {
    starts[i].process_id = "p";
    starts[i].business_key = "K-" + std::to_string(i);
  }
  ASSERT_TRUE(e->start_many(starts).is_ok());
  // A worker that is stopped after its first handler: nothing it did not start stays locked.
  std::atomic<bool> stop{false};
  std::atomic<int> calls{0};
  e->set_fallback_handler([&](const Job&) {
    ++calls;
    stop = true;
    return JobOutcome::complete();
  });
  WorkOptions w;
  w.threads = 1;
  w.until_idle = false;
  w.stop = &stop;
  auto first = e->work(w);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  for (const JobInfo& j : must(e->open_jobs())) {
    EXPECT_EQ(j.state, JobState::kCreated) << "job " << j.key << " is still locked";
  }
  // Now everything, on two handler threads.
  std::mutex mu;
  std::set<std::string> keys;
  e->set_fallback_handler([&](const Job& job) {
    std::lock_guard lock(mu);
    EXPECT_TRUE(keys.insert(std::string(job.idempotency_key())).second) << "a job ran twice";
    return JobOutcome::complete();
  });
  w.threads = 2;
  w.until_idle = true;
  w.stop = nullptr;
  auto rest = e->work(w);
  ASSERT_TRUE(rest.is_ok()) << rest.status().to_string();
  EXPECT_EQ(keys.size() + static_cast<std::size_t>(calls.load()), 80u);
  InstanceFilter completed;
  completed.state = InstanceState::kCompleted;
  EXPECT_EQ(e->instances(completed)->size(), 40u);
}

// What the row of instance `id` stores as its runtime state, and writing it (as damage,
// or as a repair), from another connection.
std::string stored_runtime(const std::string& db, InstanceId id) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(raw, "SELECT runtime FROM instances WHERE id = ?1", -1, &st, nullptr),
            SQLITE_OK);
  sqlite3_bind_int64(st, 1, static_cast<sqlite3_int64>(id));
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(raw);
  return out;
}
void store_runtime(const std::string& db, InstanceId id, const std::string& runtime) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "UPDATE instances SET runtime = ?1, rev = rev + 1 WHERE id = ?2",
                               -1, &st, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(st, 1, runtime.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(id));
  EXPECT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(raw);
  sqlite3_finalize(st);
  sqlite3_close(raw);
}

std::vector<IncidentInfo> damaged_incidents(Engine& e) {
  std::vector<IncidentInfo> out;
  for (IncidentInfo& i : must(e.incidents())) {
    if (i.kind == IncidentKind::kDamaged) out.push_back(std::move(i));
  }
  return out;
}

// One instance whose stored state cannot be read: the round that meets it holds it with a
// `damaged` incident and does its work again without it, so every other order goes on; it
// stays held across restarts, and its handler is never called.
TEST_F(Recovery, ADamagedInstanceIsHeldWithAnIncidentAndEveryOtherOrderGoesOn) {
  auto e = open(kT0);
  deploy(*e, "<startEvent id=\"s\"/>" + svc("a") + "<endEvent id=\"e\"/>" + flow("s", "a") +
                 flow("a", "e"));
  std::vector<InstanceId> ids;
  for (const char* key : {"K-1", "K-2", "K-3"}) ids.push_back(e->start("p", {}, key)->id);
  const InstanceId broken = ids[1];
  store_runtime(db_, broken, "garbage");
  std::vector<InstanceId> called;
  e->set_fallback_handler([&](const Job& job) {
    called.push_back(job.instance());
    return JobOutcome::complete();
  });
  Result<std::size_t> round = e->run_until_idle();
  ASSERT_TRUE(round.is_ok()) << round.status().to_string();
  EXPECT_EQ(called, (std::vector<InstanceId>{ids[0], ids[2]}));
  EXPECT_EQ(must(e->instance(ids[0])).state, InstanceState::kCompleted);
  EXPECT_EQ(must(e->instance(ids[2])).state, InstanceState::kCompleted);
  std::vector<IncidentInfo> held = damaged_incidents(*e);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].instance, broken);
  EXPECT_NE(held[0].message.find("damaged"), std::string::npos) << held[0].message;
  EXPECT_NE(held[0].message.find("resolve this incident"), std::string::npos) << held[0].message;
  // Its job waits for an operator, not for a worker.
  std::vector<JobInfo> jobs = must(e->open_jobs());
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].instance, broken);
  EXPECT_EQ(jobs[0].state, JobState::kIncident);
  // Reading it says what is wrong; acting on it too, and it is not held twice.
  EXPECT_EQ(e->instance(broken).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(e->cancel(broken).code(), StatusCode::kCorruption);
  EXPECT_EQ(damaged_incidents(*e).size(), 1u);
  // After a restart nothing fails the same way again: the hold is stored.
  e.reset();
  e = open(kT0 + 1000);
  e->set_fallback_handler([&](const Job& job) {
    called.push_back(job.instance());
    return JobOutcome::complete();
  });
  ASSERT_TRUE(e->run_until_idle().is_ok());
  ASSERT_TRUE(e->start("p", {}, "K-4").is_ok());
  WorkOptions w;
  w.threads = 2;
  auto worked = e->work(w);
  ASSERT_TRUE(worked.is_ok()) << worked.status().to_string();
  EXPECT_EQ(called.size(), 3u);
  EXPECT_EQ(std::count(called.begin(), called.end(), broken), 0);
  EXPECT_EQ(damaged_incidents(*e).size(), 1u);
}

// The built-in worker's path (work()) and a timer: a damaged instance whose timer is due
// first does not keep the timers after it from firing.
TEST_F(Recovery, ADamagedInstanceDueFirstDoesNotHoldBackOtherTimers) {
  auto e = open(kT0);
  deploy(*e, "<startEvent id=\"s\"/><intermediateCatchEvent id=\"wait\"><timerEventDefinition>"
             "<timeDuration>=duration(d)</timeDuration></timerEventDefinition>"
             "</intermediateCatchEvent><endEvent id=\"e\"/>" +
                 flow("s", "wait") + flow("wait", "e"));
  const InstanceId broken = e->start("p", {{"d", "PT1M"}}, "K-1")->id;
  const InstanceId other = e->start("p", {{"d", "PT2M"}}, "K-2")->id;
  store_runtime(db_, broken, "{\"e\": 7}");
  clock(*e).set(kT0 + 3 * 60'000);
  WorkOptions w;
  w.threads = 1;
  auto worked = e->work(w);
  ASSERT_TRUE(worked.is_ok()) << worked.status().to_string();
  EXPECT_EQ(must(e->instance(other)).state, InstanceState::kCompleted);
  std::vector<IncidentInfo> held = damaged_incidents(*e);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].instance, broken);
  // Its timer is still there, waiting for the repair.
  auto due = e->next_timer_due();
  ASSERT_TRUE(due.is_ok());
  EXPECT_FALSE(due->has_value()) << "a held instance's timer counts as due";
}

// A job of a damaged instance waiting out a retry backoff stays with the hold: it does not
// come back to the workers (and fail every round after it) when the backoff has passed.
TEST_F(Recovery, AJobWaitingToRetryStaysHeldWithItsDamagedInstance) {
  auto e = open(kT0);
  deploy(*e, "<startEvent id=\"s\"/>" + svc("a") + "<endEvent id=\"e\"/>" + flow("s", "a") +
                 flow("a", "e"));
  const InstanceId broken = e->start("p", {}, "K-1")->id;
  int calls = 0;
  e->set_fallback_handler([&](const Job&) {
    ++calls;
    return JobOutcome::fail("ERP down", 60'000, 3);
  });
  ASSERT_TRUE(e->run_until_idle().is_ok());
  ASSERT_EQ(calls, 1);
  ASSERT_EQ(must(e->open_jobs()).at(0).state, JobState::kFailed);
  store_runtime(db_, broken, "garbage");
  // Something else meets it first: an operator's cancel.
  ASSERT_TRUE(e->cancel(broken).code() == StatusCode::kCorruption);
  ASSERT_EQ(damaged_incidents(*e).size(), 1u);
  clock(*e).set(kT0 + 2 * 60'000);
  e->set_fallback_handler([&](const Job&) {
    ++calls;
    return JobOutcome::complete();
  });
  for (int round = 0; round < 2; ++round) {
    Result<std::size_t> r = e->run_until_idle();
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(must(e->open_jobs()).at(0).state, JobState::kIncident);
}

// A round done again after a hold applies the same answers: the variables a handler gave
// are not lost on the way (they were moved out by the first try).
TEST_F(Recovery, ARoundDoneAgainAfterAHoldKeepsTheHandlersVariables) {
  auto e = open(kT0);
  deploy(*e, "<startEvent id=\"s\"/>" + svc("a") + "<endEvent id=\"e\"/>" + flow("s", "a") +
                 flow("a", "e"));
  LoadResult timer = load_bpmn(
      process("<startEvent id=\"s\"/><intermediateCatchEvent id=\"wait\"><timerEventDefinition>"
              "<timeDuration>PT1M</timeDuration></timerEventDefinition></intermediateCatchEvent>"
              "<endEvent id=\"e\"/>" +
                  flow("s", "wait") + flow("wait", "e"),
              "t"),
      "t.bpmn");
  ASSERT_TRUE(timer.ok()) << dump(timer);
  ASSERT_TRUE(e->deploy(timer.document).is_ok());
  const InstanceId waiting = e->start("t", {}, "T-1")->id;
  store_runtime(db_, waiting, "garbage");
  const InstanceId order = e->start("p", {}, "K-1")->id;
  // The damaged timer falls due while the handler runs: the next round applies the answer,
  // meets the timer, holds its instance, and applies the answer again.
  e->set_fallback_handler([&](const Job&) {
    clock(*e).set(kT0 + 2 * 60'000);
    return JobOutcome::complete({{"x", 1}});
  });
  ASSERT_TRUE(e->run_until_idle().is_ok());
  const InstanceInfo done = must(e->instance(order));
  EXPECT_EQ(done.state, InstanceState::kCompleted);
  EXPECT_EQ(done.variables.value("x", 0), 1) << done.variables.dump();
  ASSERT_EQ(damaged_incidents(*e).size(), 1u);
}

// A called instance completing into a damaged caller: the whole call tree is held (the
// child too, or its job would come back and fail every round).
TEST_F(Recovery, TheCallTreeOfADamagedInstanceIsHeldWithIt) {
  auto e = open(kT0);
  LoadResult child = load_bpmn(
      process("<startEvent id=\"s\"/>" + svc("t") + "<endEvent id=\"e\"/>" + flow("s", "t") +
                  flow("t", "e"),
              "child"),
      "child.bpmn");
  ASSERT_TRUE(child.ok()) << dump(child);
  ASSERT_TRUE(e->deploy(child.document).is_ok());
  deploy(*e, "<startEvent id=\"s\"/><callActivity id=\"call\"><extensionElements>"
             "<zeebe:calledElement processId=\"child\"/></extensionElements></callActivity>"
             "<endEvent id=\"e\"/>" +
                 flow("s", "call") + flow("call", "e"));
  const InstanceId parent = e->start("p", {}, "K-1")->id;
  const InstanceId other = e->start("p", {}, "K-2")->id;
  store_runtime(db_, parent, "garbage");
  int calls = 0;
  e->set_fallback_handler([&](const Job&) {
    ++calls;
    return JobOutcome::complete();
  });
  for (int round = 0; round < 2; ++round) {
    Result<std::size_t> r = e->run_until_idle();
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  }
  EXPECT_EQ(must(e->instance(other)).state, InstanceState::kCompleted);
  std::set<InstanceId> held;
  for (const IncidentInfo& i : damaged_incidents(*e)) held.insert(i.instance);
  ASSERT_EQ(held.size(), 2u) << "the caller and its child";
  EXPECT_EQ(held.count(parent), 1u);
  // One job each: the child of the damaged caller was answered once (the answer could not
  // be applied), and its job waits now, not run again.
  EXPECT_EQ(calls, 2);
  std::size_t waiting = 0;
  for (const JobInfo& j : must(e->open_jobs())) waiting += j.state == JobState::kIncident ? 1 : 0;
  EXPECT_EQ(waiting, 1u);
}

// An external worker's fetch meets the damaged instance's job: the instance is held and the
// fetch hands out the other jobs instead of failing (every fetch of the type did).
TEST_F(Recovery, AnExternalFetchPassesADamagedInstanceBy) {
  auto e = open(kT0);
  deploy(*e, "<startEvent id=\"s\"/>" + svc("ext") + "<endEvent id=\"e\"/>" +
                 flow("s", "ext") + flow("ext", "e"));
  e->leave_to_external_workers({"ext"});
  const InstanceId broken = e->start("p", {}, "K-1")->id;
  const InstanceId other = e->start("p", {}, "K-2")->id;
  store_runtime(db_, broken, "garbage");
  FetchRequest fetch;
  fetch.worker = "erp-worker";
  fetch.types = {"ext"};
  auto got = e->fetch_and_lock(fetch);
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->at(0).instance, other);
  ASSERT_EQ(damaged_incidents(*e).size(), 1u);
  EXPECT_TRUE(e->answer_job(got->at(0).key, "erp-worker", JobOutcome::complete()).is_ok());
  EXPECT_EQ(must(e->instance(other)).state, InstanceState::kCompleted);
}

// Resolving another incident of a held instance (after its repair) keeps the hold: the
// instance's incidents are written again, but the `damaged` one is the hold's.
TEST_F(Recovery, ResolvingAnotherIncidentOfAHeldInstanceKeepsTheHold) {
  auto e = open(kT0);
  deploy(*e, "<startEvent id=\"s\"/><parallelGateway id=\"fork\"/>" + svc("a") + svc("b") +
                 "<endEvent id=\"e1\"/><endEvent id=\"e2\"/>" + flow("s", "fork") +
                 flow("fork", "a") + flow("fork", "b") + flow("a", "e1") + flow("b", "e2"));
  const InstanceId id = e->start("p", {}, "K-1")->id;
  e->register_handler("a", [](const Job&) { return JobOutcome::fail("no stock", 0, 0); });
  e->register_handler("b", [](const Job&) { return JobOutcome::pending(); });
  ASSERT_TRUE(e->run_until_idle().is_ok());
  std::vector<IncidentInfo> before = must(e->incidents());
  ASSERT_EQ(before.size(), 1u);
  const std::string good = stored_runtime(db_, id);
  store_runtime(db_, id, "garbage");
  EXPECT_EQ(e->cancel(id).code(), StatusCode::kCorruption);
  ASSERT_EQ(damaged_incidents(*e).size(), 1u);
  store_runtime(db_, id, good);  // repaired, the hold not resolved yet
  ASSERT_TRUE(e->resolve_incident(before[0].key, 1).is_ok());
  EXPECT_EQ(damaged_incidents(*e).size(), 1u) << "resolving the other one ended the hold";
}

// A message for a damaged instance: the instance is held and the message is kept for a
// later subscriber (its time to live) instead of failing; other instances get theirs.
TEST_F(Recovery, AMessageForADamagedInstanceDoesNotFailThePublisher) {
  auto e = open(kT0);
  deploy(*e, "<startEvent id=\"s\"/><intermediateCatchEvent id=\"wait\">"
             "<messageEventDefinition messageRef=\"m\"/></intermediateCatchEvent>"
             "<endEvent id=\"e\"/>" +
                 flow("s", "wait") + flow("wait", "e") +
                 "</process><message id=\"m\" name=\"paid\"><extensionElements>"
                 "<zeebe:subscription correlationKey=\"=orderId\"/></extensionElements>"
                 "</message><process id=\"unused\" isExecutable=\"false\">"
                 "<startEvent id=\"u\"/>");
  const InstanceId broken = e->start("p", {{"orderId", "A-1"}}, "A-1")->id;
  const InstanceId other = e->start("p", {{"orderId", "A-2"}}, "A-2")->id;
  store_runtime(db_, broken, "[]");
  auto sent = e->publish_message("paid", "A-1", {}, 60'000);
  ASSERT_TRUE(sent.is_ok()) << sent.status().to_string();
  EXPECT_TRUE(sent->instances.empty());
  EXPECT_TRUE(sent->buffered);
  ASSERT_EQ(damaged_incidents(*e).size(), 1u);
  Message m;
  m.name = "paid";
  m.correlation_key = "A-2";
  auto many = e->publish_many({m});
  ASSERT_TRUE(many.is_ok()) << many.status().to_string();
  EXPECT_EQ(many->at(0).instances, std::vector<InstanceId>{other});
}

// Resolving the incident ends the hold once the row reads again (repaired, or restored);
// before that it says the instance is still damaged, and holds on.
TEST_F(Recovery, ResolvingTheDamagedIncidentAfterARepairRunsTheInstanceOn) {
  auto e = open(kT0);
  deploy(*e, "<startEvent id=\"s\"/>" + svc("a") + "<endEvent id=\"e\"/>" + flow("s", "a") +
                 flow("a", "e"));
  const InstanceId broken = e->start("p", {}, "K-1")->id;
  const std::string good = stored_runtime(db_, broken);
  ASSERT_FALSE(good.empty());
  store_runtime(db_, broken, "garbage");
  int calls = 0;
  e->set_fallback_handler([&](const Job&) {
    ++calls;
    return JobOutcome::complete();
  });
  ASSERT_TRUE(e->run_until_idle().is_ok());
  ASSERT_EQ(calls, 0);
  std::vector<IncidentInfo> held = damaged_incidents(*e);
  ASSERT_EQ(held.size(), 1u);
  Status early = e->resolve_incident(held[0].key);
  EXPECT_FALSE(early.is_ok());
  EXPECT_NE(early.message().find("still damaged"), std::string::npos) << early.to_string();
  EXPECT_EQ(damaged_incidents(*e).size(), 1u);
  store_runtime(db_, broken, good);
  Status resolved = e->resolve_incident(held[0].key);
  ASSERT_TRUE(resolved.is_ok()) << resolved.to_string();
  EXPECT_TRUE(damaged_incidents(*e).empty());
  ASSERT_TRUE(e->run_until_idle().is_ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(must(e->instance(broken)).state, InstanceState::kCompleted);
}

TEST_F(Recovery, ADamagedHistoryIsReportedNotShownAsEmpty) {
  auto e = open(kT0);
  deploy(*e, "<startEvent id=\"s\"/>" + svc("a") + "<endEvent id=\"e\"/>" + flow("s", "a") +
                 flow("a", "e"));
  const InstanceId id = e->start("p", {}, "K-1")->id;
  ASSERT_TRUE(e->history(id).is_ok());
  EXPECT_FALSE(e->history(id)->empty());
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "UPDATE history SET events = 'not json'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto damaged = e->history(id);
  ASSERT_FALSE(damaged.is_ok());
  EXPECT_EQ(damaged.status().code(), StatusCode::kCorruption);
  EXPECT_NE(damaged.status().message().find("backup"), std::string::npos);
}

TEST_F(Recovery, HandlerAnswersThatAreNotValidJsonTextOrObjectsDoNotStopOtherWork) {
  auto e = open(kT0);
  deploy(*e, "<startEvent id=\"s\"/>" + svc("a") + "<endEvent id=\"e\"/>" + flow("s", "a") +
                 flow("a", "e"));
  const InstanceId latin1 = e->start("p", {{"kind", "latin1"}}, "K-1")->id;
  const InstanceId array = e->start("p", {{"kind", "array"}}, "K-2")->id;
  const InstanceId fine = e->start("p", {{"kind", "fine"}}, "K-3")->id;
  e->set_fallback_handler([](const Job& job) {
    const std::string kind = job.variable("kind")->get<std::string>();
    if (kind == "latin1") return JobOutcome::complete({{"city", "Z\xfcrich"}});  // not UTF-8
    if (kind == "array") return JobOutcome::complete(nlohmann::json::array({1, 2}));
    return JobOutcome::complete({{"ok", true}});
  });
  must(e->run_until_idle());
  EXPECT_EQ(e->instance(fine)->state, InstanceState::kCompleted);
  auto stored = e->instance(latin1);
  ASSERT_TRUE(stored.is_ok()) << stored.status().to_string();
  EXPECT_EQ(stored->state, InstanceState::kCompleted);
  EXPECT_EQ(stored->variables["city"], "Z\xef\xbf\xbdrich");  // U+FFFD for the bad byte
  // The handler's mistake is that job's failure, retried, then an incident.
  for (int hour = 1; hour <= 4; ++hour) {
    clock(*e).set(kT0 + hour * kHour);
    must(e->run_until_idle());
  }
  EXPECT_EQ(e->instance(array)->state, InstanceState::kIncident);
  ASSERT_EQ(must(e->incidents()).size(), 1u);
  EXPECT_NE(must(e->incidents())[0].message.find("not a JSON object"), std::string::npos);
}

TEST_F(Recovery, AMessageStartWithAKeyAlreadyStartedStartsNothingMore) {
  auto e = open(kT0);
  deploy(*e, "<startEvent id=\"s\"><messageEventDefinition messageRef=\"m\"/></startEvent>" +
                 svc("a") + "<endEvent id=\"e\"/>" + flow("s", "a") + flow("a", "e") +
                 "</process><message id=\"m\" name=\"order-placed\"/>"
                 "<process id=\"unused\" isExecutable=\"false\"><startEvent id=\"u\"/>");
  Message m;
  m.name = "order-placed";
  m.correlation_key = "A-1";
  auto first = e->publish_message(m);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  ASSERT_EQ(first->instances.size(), 1u);
  auto second = e->publish_message(m);
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_TRUE(second->instances.empty());
  InstanceFilter all;
  EXPECT_EQ(e->instances(all)->size(), 1u);
}

}  // namespace
}  // namespace ordo::testing
