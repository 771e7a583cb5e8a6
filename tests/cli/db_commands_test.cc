// The commands on a database (cli/db_*.cc, cli/worker_command.cc, cli/serve_command.cc) as a
// user runs them, against what a careless or hostile input leaves in the files they read.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "adapters/notify/delivery_log.h"
#include "durability/durability_util.h"
#include "store/pg_server.h"
#include "store/postgres/pq.h"
#include "test_util.h"

namespace ordo::db_commands_test {
namespace {

namespace fs = std::filesystem;
using testing::ProcessRun;
using testing::run_ordo;
using testing::TempDir;

bool holds(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const std::string kOrderProcess = ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn";

class DbCommands : public ::testing::Test {
 protected:
  void deploy() {
    ProcessRun r = run_ordo({"deploy", "--db", db_, kOrderProcess});
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  TempDir dir_{"dbcmd"};
  std::string db_ = dir_.path("orders.db");
};

// ---- PostgreSQL ----

// Every command on a database takes a PostgreSQL URL where it takes a file, with the schema
// in the URL; an order deployed, started and worked through by separate commands reaches
// its end, and no output shows the URL's password.
TEST_F(DbCommands, TheCommandsTakeAPostgresqlUrlAndNeverPrintItsPassword) {
  std::string why;
  const std::string& server = testing::PgTestServer::url(why);
  ASSERT_FALSE(server.empty()) << why;
  const std::string schema = "cli_" + std::to_string(::getpid());
  const std::string url =
      server + (server.find('?') == std::string::npos ? "?" : "&") + "schema=" + schema;
  const std::size_t colon = server.find(':', server.find("://") + 3);
  const std::string password = server.substr(colon + 1, server.find('@') - colon - 1);
  ASSERT_FALSE(password.empty()) << "the test server's URL has a password";
  // The simulated world's effects log goes to the working directory: this test's.
  struct InDir {
    explicit InDir(const std::string& dir) : was(fs::current_path()) { fs::current_path(dir); }
    ~InDir() { fs::current_path(was); }
    fs::path was;
  } in_dir(dir_.dir());
  std::vector<ProcessRun> runs;
  runs.push_back(run_ordo({"deploy", "--db", url, kOrderProcess}));
  runs.push_back(run_ordo({"start", "--db", url, "order-acceptance", "--key", "PG-1", "--vars",
                           R"({"orderId": "PG-1", "paymentDelayMinutes": 0, "deliveryDays": 0})"}));
  runs.push_back(run_ordo({"worker", "--db", url, "--simulate", "--until-idle"}));
  runs.push_back(run_ordo({"instances", "--db", url, "--json"}));
  for (const ProcessRun& r : runs) {
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_FALSE(holds(r.out, password)) << r.out;
  }
  const nlohmann::json listed = nlohmann::json::parse(runs.back().out);
  ASSERT_EQ(listed.size(), 1u) << runs.back().out;
  EXPECT_EQ(listed[0]["businessKey"], "PG-1");
  EXPECT_EQ(listed[0]["state"], "completed") << runs.back().out;
  EXPECT_TRUE(fs::exists(dir_.path(schema + ".effects.jsonl")));
  ProcessRun incidents = run_ordo({"incidents", "--db", url});
  EXPECT_EQ(incidents.exit_code, 0) << incidents.out;
  EXPECT_FALSE(holds(incidents.out, password)) << incidents.out;
  // A backup of PostgreSQL is pg_dump's: said so, nothing written.
  ProcessRun backup = run_ordo({"backup", "--db", url, dir_.path("copy.db")});
  EXPECT_NE(backup.exit_code, 0);
  EXPECT_FALSE(fs::exists(dir_.path("copy.db")));
  auto c = store::pg::Connection::open(server);
  ASSERT_TRUE(c.is_ok());
  EXPECT_TRUE(c->exec("DROP SCHEMA " + schema + " CASCADE").is_ok());
}

// ---- ordo db copy ----

constexpr const char* kCopiedProcess = R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" targetNamespace="t">
  <message id="m" name="paid"><extensionElements>
    <zeebe:subscription correlationKey="=orderId"/></extensionElements></message>
  <process id="moved" isExecutable="true">
    <startEvent id="s"/>
    <serviceTask id="reserve"><extensionElements>
      <zeebe:taskDefinition type="reserve"/></extensionElements></serviceTask>
    <receiveTask id="paid" messageRef="m"/>
    <boundaryEvent id="late" attachedToRef="paid"><timerEventDefinition>
      <timeDuration>PT1H</timeDuration></timerEventDefinition></boundaryEvent>
    <endEvent id="done"/>
    <endEvent id="too-late"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="reserve"/>
    <sequenceFlow id="f2" sourceRef="reserve" targetRef="paid"/>
    <sequenceFlow id="f3" sourceRef="paid" targetRef="done"/>
    <sequenceFlow id="f4" sourceRef="late" targetRef="too-late"/>
  </process>
</definitions>)";

std::string with_schema(const std::string& server, const std::string& schema) {
  return server + (server.find('?') == std::string::npos ? "?" : "&") + "schema=" + schema;
}

// A user who outgrows one machine moves an SQLite database holding orders at every stage to
// PostgreSQL: waiting for a worker, for a payment (with its timeout timer), an incident, a
// buffered message, a published message id, history and the delivery log. On PostgreSQL the
// orders go on where they stood, nothing is numbered twice, and a copy back is the same
// database again (the same checksum). A second copy into the filled schema is refused and
// changes nothing.
TEST_F(DbCommands, DbCopyMovesOrdersMidProcessToPostgresqlAndBack) {
  std::string why;
  const std::string& server = testing::PgTestServer::url(why);
  ASSERT_FALSE(server.empty()) << why;
  const std::string schema = "copy_" + std::to_string(::getpid());
  const std::string url = with_schema(server, schema);
  const std::string process = dir_.path("moved.bpmn");
  std::ofstream(process) << kCopiedProcess;
  JobKey failing = 0;
  {
    auto engine = Engine::open(db_);
    ASSERT_OK(engine.status());
    Engine& e = **engine;
    ASSERT_OK(e.deploy_file(process).status());
    for (int i = 1; i <= 4; ++i) {
      const std::string order = "C-" + std::to_string(i);
      ASSERT_OK(e.start("moved", {{"orderId", order}}, order).status());
    }
    // C-1 and C-2 reserved (they wait for their payment), C-3 failed for good (an incident),
    // C-4 still waits for a worker.
    auto jobs = e.open_jobs("reserve");
    ASSERT_OK(jobs.status());
    ASSERT_EQ(jobs->size(), 4u);
    ASSERT_OK(e.complete_job((*jobs)[0].key));
    ASSERT_OK(e.complete_job((*jobs)[1].key));
    failing = (*jobs)[2].key;
    ASSERT_OK(e.fail_job(failing, "ERP refused the reservation", 0, 0));
    // A payment that came before anyone waits for it, and one published with an id.
    ASSERT_OK(e.publish_message("paid", "C-9", {{"amount", 12}}, 3'600'000).status());
    Message m;
    m.name = "paid";
    m.correlation_key = "C-1";
    m.message_id = "psp-evt-1";
    m.variables = {{"amount", 10}};
    auto paid = e.publish_message(std::move(m));
    ASSERT_OK(paid.status());
    ASSERT_EQ(paid->instances.size(), 1u);
  }
  {
    // The delivery log in the engine's own file: a confirmation sent, with a status callback.
    auto log = notify::DeliveryLog::open(db_);
    ASSERT_OK(log.status());
    notify::Attempt a;
    a.dedupe_key = "order-confirmation:C-1";
    a.message = "order-confirmation";
    a.order_id = "C-1";
    a.customer = "K-1";
    a.channel = "email";
    a.recipient = "k1@example.com";
    a.attempt = 1;
    a.now_ms = 1'000;
    auto r = (*log)->reserve(a, 0);
    ASSERT_OK(r.status());
    ASSERT_OK((*log)->finish(r->row, "sent", "smtp-1", "", 2'000));
    DeliveryStatus st;
    st.channel = "email";
    st.provider_id = "smtp-1";
    st.status = "delivered";
    st.at_ms = 3'000;
    ASSERT_OK((*log)->record_status(st).status());
  }

  ProcessRun to_pg = run_ordo({"db", "copy", db_, url, "--json"});
  ASSERT_EQ(to_pg.exit_code, 0) << to_pg.out;
  const nlohmann::json copied = nlohmann::json::parse(to_pg.out);
  EXPECT_EQ(copied["tables"]["instances"], 4);
  EXPECT_EQ(copied["tables"]["jobs"], 2) << "C-3's, held by its incident, and C-4's";
  EXPECT_EQ(copied["tables"]["subscriptions"], 1) << "C-2 waits for its payment";
  EXPECT_EQ(copied["tables"]["timers"], 1) << "C-2's payment timeout";
  EXPECT_EQ(copied["tables"]["buffered_messages"], 1);
  EXPECT_EQ(copied["tables"]["messages"], 1);
  EXPECT_EQ(copied["tables"]["incidents"], 1);
  EXPECT_EQ(copied["tables"]["deliveries"], 1);
  EXPECT_EQ(copied["tables"]["delivery_events"], 1);
  EXPECT_GT(copied["tables"]["history"].get<int>(), 0);

  // Into a schema that holds rows now: refused, nothing changed.
  ProcessRun again = run_ordo({"db", "copy", db_, url});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(holds(again.out, "not empty")) << again.out;

  {
    auto engine = Engine::open(url);
    ASSERT_OK(engine.status());
    Engine& e = **engine;
    // Each order goes on from where it stood.
    auto c2 = e.publish_message("paid", "C-2", {{"amount", 11}});
    ASSERT_OK(c2.status());
    ASSERT_EQ(c2->instances.size(), 1u);
    auto incidents = e.incidents();
    ASSERT_OK(incidents.status());
    ASSERT_EQ(incidents->size(), 1u);
    EXPECT_EQ((*incidents)[0].job, failing);
    ASSERT_OK(e.resolve_incident((*incidents)[0].key));
    auto jobs = e.open_jobs("reserve");
    ASSERT_OK(jobs.status());
    ASSERT_EQ(jobs->size(), 2u);
    for (const JobInfo& j : *jobs) ASSERT_OK(e.complete_job(j.key));
    // The published id is still known; the business key still taken; new numbers are new.
    Message dup;
    dup.name = "paid";
    dup.correlation_key = "C-1";
    dup.message_id = "psp-evt-1";
    auto repeated = e.publish_message(std::move(dup));
    ASSERT_OK(repeated.status());
    EXPECT_TRUE(repeated->duplicate);
    auto c1 = e.start("moved", {{"orderId", "C-1"}}, "C-1");
    ASSERT_OK(c1.status());
    EXPECT_FALSE(c1->created);
    auto c9 = e.start("moved", {{"orderId", "C-9"}}, "C-9");
    ASSERT_OK(c9.status());
    auto before = e.instances();
    ASSERT_OK(before.status());
    EXPECT_EQ(before->size(), 5u) << "a new instance, not one that overwrote a copied id";
    for (const char* order : {"C-3", "C-4"}) {
      auto p = e.publish_message("paid", order);
      ASSERT_OK(p.status());
      EXPECT_EQ(p->instances.size(), 1u) << order;
    }
    InstanceFilter done;
    done.state = InstanceState::kCompleted;
    auto completed = e.instances(done);
    ASSERT_OK(completed.status());
    EXPECT_EQ(completed->size(), 4u) << "C-1 to C-4 at their end";
  }
  auto log = notify::DeliveryLog::open(url);
  ASSERT_OK(log.status());
  auto deliveries = (*log)->list("C-1");
  ASSERT_OK(deliveries.status());
  ASSERT_EQ(deliveries->size(), 1u);
  EXPECT_EQ((*deliveries)[0].status, "sent");
  EXPECT_EQ((*deliveries)[0].provider_status, "delivered");
  log->reset();

  // Back to SQLite: the same database, by its checksum, as a copy of the copy.
  ProcessRun back = run_ordo({"db", "copy", url, dir_.path("back.db"), "--json"});
  ASSERT_EQ(back.exit_code, 0) << back.out;
  ProcessRun there = run_ordo({"db", "copy", dir_.path("back.db"), dir_.path("again.db"),
                               "--json"});
  ASSERT_EQ(there.exit_code, 0) << there.out;
  EXPECT_EQ(nlohmann::json::parse(back.out)["checksum"],
            nlohmann::json::parse(there.out)["checksum"]);
  EXPECT_NE(nlohmann::json::parse(back.out)["checksum"], copied["checksum"])
      << "the orders moved on in PostgreSQL";

  // A source that is not there: said so, and no target file is left behind.
  ProcessRun missing = run_ordo({"db", "copy", dir_.path("nothing.db"), dir_.path("new.db")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(holds(missing.out, "no Ordo database at")) << missing.out;
  EXPECT_FALSE(fs::exists(dir_.path("new.db")));
  // A schema that is not there (a typo): said so, and not made.
  ProcessRun typo =
      run_ordo({"db", "copy", with_schema(server, schema + "_typo"), dir_.path("new.db")});
  EXPECT_EQ(typo.exit_code, 1);
  EXPECT_TRUE(holds(typo.out, "no schema " + schema + "_typo")) << typo.out;
  EXPECT_FALSE(fs::exists(dir_.path("new.db")));
  auto c = store::pg::Connection::open(server);
  ASSERT_TRUE(c.is_ok());
  EXPECT_TRUE(c->exec("DROP SCHEMA " + schema + " CASCADE").is_ok());
  auto typo_made = c->run_once("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1",
                               {(schema + "_typo").c_str()});
  ASSERT_TRUE(typo_made.is_ok());
  EXPECT_TRUE(typo_made->empty()) << "the mistyped schema was created";
}

// Tables larger than the copy's page (500 rows) are read page after page, in both
// directions: every row arrives, the keyless delivery events included, and a copy back
// has the source's checksum.
TEST_F(DbCommands, DbCopyReadsTablesLargerThanOnePage) {
  std::string why;
  const std::string& server = testing::PgTestServer::url(why);
  ASSERT_FALSE(server.empty()) << why;
  const std::string schema = "copy_pages_" + std::to_string(::getpid());
  const std::string url = with_schema(server, schema);
  const std::string process = dir_.path("moved.bpmn");
  std::ofstream(process) << kCopiedProcess;
  constexpr int kOrders = 1203;  // three pages and a bit
  constexpr int kSent = 620;     // two pages
  {
    auto engine = Engine::open(db_);
    ASSERT_OK(engine.status());
    ASSERT_OK((*engine)->deploy_file(process).status());
    std::vector<StartRequest> starts(kOrders);
    for (int i = 0; i < kOrders; ++i) {
      StartRequest& r = starts[static_cast<std::size_t>(i)];
      r.process_id = "moved";
      r.business_key = "P-" + std::to_string(i);
      r.variables = {{"orderId", r.business_key}};
    }
    ASSERT_OK((*engine)->start_many(starts).status());
  }
  {
    auto log = notify::DeliveryLog::open(db_);
    ASSERT_OK(log.status());
    for (int i = 0; i < kSent; ++i) {
      notify::Attempt a;
      a.dedupe_key = "order-confirmation:P-" + std::to_string(i);
      a.message = "order-confirmation";
      a.order_id = "P-" + std::to_string(i);
      a.customer = "K-" + std::to_string(i);
      a.channel = "email";
      a.recipient = "k@example.com";
      a.attempt = 1;
      a.now_ms = 1'000 + i;
      auto r = (*log)->reserve(a, 0);
      ASSERT_OK(r.status());
      const std::string provider_id = "smtp-" + std::to_string(i);
      ASSERT_OK((*log)->finish(r->row, "sent", provider_id, "", 2'000 + i));
      DeliveryStatus st;
      st.channel = "email";
      st.provider_id = provider_id;
      st.status = "delivered";
      st.at_ms = 3'000 + i;
      ASSERT_OK((*log)->record_status(st).status());
    }
  }
  ProcessRun to_pg = run_ordo({"db", "copy", db_, url, "--json"});
  ASSERT_EQ(to_pg.exit_code, 0) << to_pg.out;
  const nlohmann::json copied = nlohmann::json::parse(to_pg.out);
  EXPECT_EQ(copied["tables"]["instances"], kOrders);
  EXPECT_EQ(copied["tables"]["jobs"], kOrders);
  EXPECT_EQ(copied["tables"]["deliveries"], kSent);
  EXPECT_EQ(copied["tables"]["delivery_events"], kSent);
  {
    auto engine = Engine::open(url);
    ASSERT_OK(engine.status());
    auto jobs = (*engine)->open_jobs("reserve");
    ASSERT_OK(jobs.status());
    EXPECT_EQ(jobs->size(), static_cast<std::size_t>(kOrders));
    auto last = (*engine)->start("moved", {{"orderId", "P-1202"}}, "P-1202");
    ASSERT_OK(last.status());
    EXPECT_FALSE(last->created) << "the last page's business keys arrived";
    auto counted = (*engine)->count_instances();
    ASSERT_OK(counted.status());
    ASSERT_EQ(counted->size(), 1u);
    EXPECT_EQ((*counted)[0].count, kOrders) << "the counts came along";
    std::int64_t waiting = -1;
    for (const ElementStatistics& e : testing::must((*engine)->element_statistics("moved", 1))) {
      if (e.element_id == jobs->front().element_id) waiting = e.active;
    }
    EXPECT_EQ(waiting, kOrders) << "the element statistics came along";
  }
  ProcessRun back = run_ordo({"db", "copy", url, dir_.path("back.db"), "--json"});
  ASSERT_EQ(back.exit_code, 0) << back.out;
  EXPECT_EQ(nlohmann::json::parse(back.out)["checksum"], copied["checksum"]);
  EXPECT_EQ(nlohmann::json::parse(back.out)["tables"]["delivery_events"], kSent);
  auto c = store::pg::Connection::open(server);
  ASSERT_TRUE(c.is_ok());
  EXPECT_TRUE(c->exec("DROP SCHEMA " + schema + " CASCADE").is_ok());
}

// ---- signals ----

// ordo signal reaches every instance waiting for the signal, with its variables.
TEST_F(DbCommands, SignalReachesEveryWaitingInstance) {
  const std::string process = dir_.path("recall.bpmn");
  std::ofstream(process) << testing::bpmn(
      "<signal id=\"sig\" name=\"recall\"/>\n<process id=\"p\" isExecutable=\"true\">"
      "<startEvent id=\"s\"/><intermediateCatchEvent id=\"w\"><signalEventDefinition "
      "signalRef=\"sig\"/></intermediateCatchEvent><endEvent id=\"e\"/>"
      "<sequenceFlow id=\"a\" sourceRef=\"s\" targetRef=\"w\"/>"
      "<sequenceFlow id=\"b\" sourceRef=\"w\" targetRef=\"e\"/></process>");
  ASSERT_EQ(run_ordo({"deploy", "--db", db_, process}).exit_code, 0);
  for (const char* key : {"R-1", "R-2"}) {
    ASSERT_EQ(run_ordo({"start", "--db", db_, "p", "--key", key}).exit_code, 0);
  }
  ProcessRun sent = run_ordo({"signal", "--db", db_, "recall", "--vars", "{\"batch\": 7}",
                              "--json"});
  ASSERT_EQ(sent.exit_code, 0) << sent.out;
  EXPECT_EQ(nlohmann::json::parse(sent.out)["instances"].size(), 2u) << sent.out;
  auto engine = Engine::open(db_);
  ASSERT_OK(engine.status());
  for (const InstanceInfo& i : testing::must((*engine)->instances())) {
    EXPECT_EQ(i.state, InstanceState::kCompleted) << i.business_key;
  }
  ProcessRun again = run_ordo({"signal", "--db", db_, "recall"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_TRUE(holds(again.out, "recall: nobody was waiting for it")) << again.out;
}

// A job answered by hand, and instances migrated to a new version, from the command line.
TEST_F(DbCommands, AJobIsAnsweredByHandAndInstancesMigrate) {
  const std::string v1 = dir_.path("v1.bpmn");
  const std::string v2 = dir_.path("v2.bpmn");
  auto version = [](const std::string& task) {
    auto service = [](const std::string& id) {
      return "<serviceTask id=\"" + id + "\"><extensionElements><zeebe:taskDefinition type=\"" +
             id + "\"/></extensionElements></serviceTask>";
    };
    return testing::bpmn("<process id=\"p\" isExecutable=\"true\"><startEvent id=\"s\"/>" +
                         service(task) + service("b") + "<endEvent id=\"e\"/>" +
                         "<sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"" + task +
                         "\"/><sequenceFlow id=\"f2\" sourceRef=\"" + task +
                         "\" targetRef=\"b\"/><sequenceFlow id=\"f3\" sourceRef=\"b\" "
                         "targetRef=\"e\"/></process>");
  };
  std::ofstream(v1) << version("a");
  std::ofstream(v2) << version("a2");
  ASSERT_EQ(run_ordo({"deploy", "--db", db_, v1}).exit_code, 0);
  for (const char* key : {"J-1", "J-2"}) {
    ASSERT_EQ(run_ordo({"start", "--db", db_, "p", "--key", key}).exit_code, 0);
  }
  ASSERT_EQ(run_ordo({"deploy", "--db", db_, v2}).exit_code, 0);
  ProcessRun dry = run_ordo({"migrate", "--db", db_, "p", "--from", "1", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 1) << "the tokens at a are not mapped";
  EXPECT_TRUE(holds(dry.out, "0 would move, 2 would stay (dry run: nothing changed)")) << dry.out;
  ProcessRun moved =
      run_ordo({"migrate", "--db", db_, "p", "--from", "1", "--map", "a=a2", "--json"});
  ASSERT_EQ(moved.exit_code, 0) << moved.out;
  const nlohmann::json report = nlohmann::json::parse(moved.out);
  EXPECT_EQ(report["migrated"], 2);
  EXPECT_EQ(report["instances"][0]["moves"], nlohmann::json({"a -> a2"}));
  EXPECT_EQ(run_ordo({"migrate", "--db", db_, "p", "--from", "1", "--map", "a"}).exit_code, 2);
  // The first order's job, answered by hand: a BPMN error nobody catches is an incident.
  auto engine = Engine::open(db_);
  ASSERT_OK(engine.status());
  // (Their jobs took version 2's type.)
  std::vector<JobInfo> jobs = testing::must((*engine)->open_jobs("a2"));
  ASSERT_EQ(jobs.size(), 2u);
  engine->reset();
  ProcessRun completed = run_ordo({"job", "complete", "--db", db_,
                                   std::to_string(jobs[0].key), "--vars", "{\"ok\": true}"});
  ASSERT_EQ(completed.exit_code, 0) << completed.out;
  EXPECT_TRUE(holds(completed.out, "job " + std::to_string(jobs[0].key) + ": completed"));
  ProcessRun error = run_ordo({"job", "error", "--db", db_, std::to_string(jobs[1].key), "NOPE"});
  ASSERT_EQ(error.exit_code, 0) << error.out;
  ProcessRun again = run_ordo({"job", "escalate", "--db", db_, std::to_string(jobs[1].key), "X"});
  EXPECT_EQ(again.exit_code, 1) << "its task ended with the error: no open job";
  engine = Engine::open(db_);
  ASSERT_OK(engine.status());
  EXPECT_EQ(testing::must((*engine)->open_jobs("b")).size(), 1u);
  EXPECT_EQ(testing::must((*engine)->incidents()).size(), 1u);
}

// ---- printing what the database holds ----

TEST_F(DbCommands, InstancesAndShowEscapeControlCharactersTheDatabaseHolds) {
  // A business key and a variable name as a client could send them over the API: an escape
  // sequence that clears the screen, a bell, and a newline that forges a line of output.
  const std::string key = "A-1\x1b[2J\x07\nforged";
  {
    auto engine = Engine::open(db_);
    ASSERT_OK(engine.status());
    ASSERT_OK((*engine)->deploy_file(kOrderProcess).status());
    ASSERT_OK((*engine)->start("order-acceptance", {{"note\x1b]0;title\x07", "x"}}, key).status());
  }
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"instances", "--db", db_}, {"show", "--db", db_, "1"}}) {
    ProcessRun r = run_ordo(cmd);
    ASSERT_EQ(r.exit_code, 0) << cmd[0] << "\n" << r.out;
    EXPECT_FALSE(holds(r.out, "\x1b")) << cmd[0] << ": a raw escape character";
    EXPECT_FALSE(holds(r.out, "\x07")) << cmd[0] << ": a raw bell";
    EXPECT_TRUE(holds(r.out, "A-1\\x1b[2J\\x07\\nforged")) << cmd[0] << "\n" << r.out;
    EXPECT_FALSE(holds(r.out, "\nforged")) << cmd[0] << ": the key's newline started a line";
  }
  ProcessRun show = run_ordo({"show", "--db", db_, "1"});
  EXPECT_TRUE(holds(show.out, "note\\x1b]0;title\\x07 = \"x\"")) << show.out;
  // JSON output escapes in its own way, and keeps the data exact.
  ProcessRun json = run_ordo({"instances", "--json", "--db", db_});
  ASSERT_EQ(json.exit_code, 0) << json.out;
  EXPECT_EQ(nlohmann::json::parse(json.out)[0]["businessKey"], key);
}

// `ordo run` prints order ids from the orders file: escaped the same way.
TEST_F(DbCommands, RunEscapesControlCharactersOfTheOrdersFile) {
  const std::string orders = dir_.path("orders.jsonl");
  std::ofstream(orders) << nlohmann::json{{"orderId", "R-1\x1b[2J\nforged"}}.dump() << '\n';
  ProcessRun r = run_ordo({"run", kOrderProcess, "--orders", orders});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_FALSE(holds(r.out, "\x1b")) << "a raw escape character";
  EXPECT_TRUE(holds(r.out, "R-1\\x1b[2J\\nforged")) << r.out;
  EXPECT_FALSE(holds(r.out, "\nforged")) << "the id's newline started a line";
}

// ---- the simulated world's effects log ----

TEST_F(DbCommands, AnEffectsLogLineWithWrongTypesIsReportedByLineAndNothingAborts) {
  deploy();
  const std::string effects = db_ + ".effects.jsonl";
  {
    std::ofstream out(effects);
    out << R"({"effect":"notify","key":"1/0","order":"A-1","template":"t","channel":"sms",)"
        << R"("locale":"de","recipient":"+49","at":1796119200000})" << '\n'
        << R"({"effect":"publish","key":7,"at":"soon"})" << '\n';
  }
  const std::string orders = dir_.path("orders.jsonl");
  std::ofstream(orders) << R"({"orderId": "A-1"})" << '\n';
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"run", kOrderProcess, "--orders", orders, "--db", db_},
        {"worker", "--until-idle", "--simulate", "--db", db_},
        {"serve", "--simulate", "--listen", "127.0.0.1:0", "--db", db_}}) {
    ProcessRun r = run_ordo(cmd);
    EXPECT_EQ(r.exit_code, 1) << cmd[0] << "\n" << r.out;
    EXPECT_TRUE(holds(r.out, effects + ":2: \"key\" is 7, not a string")) << cmd[0] << "\n"
                                                                          << r.out;
    EXPECT_TRUE(holds(r.out, "repair the line, or delete it")) << cmd[0] << "\n" << r.out;
  }
  // The first mistake of a line is named, whichever field it is in.
  {
    std::ofstream out(effects);
    out << R"({"effect":"publish","key":"1/0/payment-confirmed","at":"soon"})" << '\n';
  }
  ProcessRun r = run_ordo({"worker", "--until-idle", "--simulate", "--db", db_});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(holds(r.out, ":1: \"at\" is \"soon\", not a whole number")) << r.out;
}

TEST_F(DbCommands, AnEffectsLogLineCutShortByAKillIsSkipped) {
  deploy();
  std::ofstream(db_ + ".effects.jsonl") << R"({"effect":"notify","key":"1/0","ord)";
  ProcessRun r = run_ordo({"worker", "--until-idle", "--simulate", "--db", db_});
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

// ---- backup ----

// A PID that no process has any more: a child's, after it ended and was reaped.
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

TEST_F(DbCommands, BackupRemovesPartialFilesOfKilledBackupsAndLeavesALiveOnesAlone) {
  deploy();
  const std::string dest = dir_.path("backup.db");
  // What `ordo backup` killed with SIGKILL leaves: its copy so far, under its PID.
  const std::string stale = dest + ".partial-" + std::to_string(dead_pid());
  std::ofstream(stale) << std::string(4096, 'x');
  std::ofstream(stale + "-journal") << "j";
  // One of a process that runs (this test): a backup in progress, not to be touched.
  const std::string live = dest + ".partial-" + std::to_string(::getpid());
  std::ofstream(live) << "in progress";
  // Not a partial file of ours.
  const std::string other = dest + ".partial-notes";
  std::ofstream(other) << "mine";

  ProcessRun r = run_ordo({"backup", "--db", db_, dest});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_FALSE(fs::exists(stale)) << "the killed backup's copy is removed";
  EXPECT_FALSE(fs::exists(stale + "-journal"));
  EXPECT_TRUE(fs::exists(live)) << "a live process's partial file is left alone";
  EXPECT_TRUE(fs::exists(other));
  EXPECT_TRUE(fs::exists(dest));
}

// ---- file modes ----

// The mode bits of `path`, or -1 when it does not exist.
int mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 0777);
}

// Sets the process's umask for a test (the ordo processes it starts inherit it).
class Umask {
 public:
  explicit Umask(mode_t mask) : saved_(::umask(mask)) {}
  ~Umask() { ::umask(saved_); }
  Umask(const Umask&) = delete;
  Umask& operator=(const Umask&) = delete;

 private:
  mode_t saved_;
};

// The database, its WAL, the effects log, the delivery log and a backup hold customers'
// names, addresses and orders: only their owner may read them, whatever the umask says.
TEST_F(DbCommands, FilesWithPersonalDataAreCreatedReadableByTheirOwnerOnly) {
  const Umask umask(022);
  const std::string orders = dir_.path("orders.jsonl");
  std::ofstream(orders) << R"({"orderId": "A-1"})" << '\n';
  ProcessRun run = run_ordo({"run", kOrderProcess, "--orders", orders, "--db", db_});
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(mode_of(db_), 0600);
  EXPECT_EQ(mode_of(db_ + ".effects.jsonl"), 0600);
  {
    // The WAL exists while an engine has the file open and has written to it.
    auto engine = Engine::open(db_);
    ASSERT_OK(engine.status());
    ASSERT_OK((*engine)->start("order-acceptance", {{"orderId", "A-2"}}, "A-2").status());
    EXPECT_EQ(mode_of(db_ + "-wal"), 0600);
    EXPECT_EQ(mode_of(db_ + "-shm"), 0600);
  }
  const std::string deliveries = dir_.path("deliveries.db");
  ASSERT_OK(notify::DeliveryLog::open(deliveries).status());
  EXPECT_EQ(mode_of(deliveries), 0600);

  // A backup, and the backup put back in the database's place and written to.
  const std::string dest = dir_.path("backup.db");
  ProcessRun backup = run_ordo({"backup", "--db", db_, dest});
  ASSERT_EQ(backup.exit_code, 0) << backup.out;
  EXPECT_EQ(mode_of(dest), 0600);
  const std::string restored = dir_.path("restored.db");
  fs::rename(dest, restored);
  ProcessRun start = run_ordo({"start", "order-acceptance", "--key", "A-3", "--db", restored});
  ASSERT_EQ(start.exit_code, 0) << start.out;
  EXPECT_EQ(mode_of(restored), 0600);
  {
    auto engine = Engine::open(restored);
    ASSERT_OK(engine.status());
    ASSERT_OK((*engine)->start("order-acceptance", {{"orderId", "A-4"}}, "A-4").status());
    EXPECT_EQ(mode_of(restored + "-wal"), 0600);
  }
}

}  // namespace
}  // namespace ordo::db_commands_test
