// Searching instances (Engine::instances, GET /v1/process-instances, the console's
// Instances page) on each store: every filter, both orders, and keyset paging.
#include "runtime/harness.h"

namespace ordo::testing {
namespace {

ORDO_ON_EACH_STORE(InstanceSearch);

std::vector<std::string> keys_of(const std::vector<InstanceInfo>& found) {
  std::vector<std::string> out;
  for (const InstanceInfo& i : found) out.push_back(i.business_key);
  return out;
}

TEST_P(InstanceSearch, FiltersOrdersAndPagesByKeyset) {
  Harness h;
  h.deploy(process(straight(svc("t"))));
  // Keys with LIKE's own characters, which a prefix must match as themselves.
  const std::vector<std::string> keys = {"A-10", "A-100", "A-2", "A%1", "A_1", "B-1", "A\\1"};
  for (const std::string& key : keys) {
    ASSERT_OK(h.engine().start("p", nlohmann::json::object(), key).status());
    h.clock().advance(60'000);
  }
  const auto find = [&](InstanceFilter f) {
    f.process_id = f.process_id.empty() ? "p" : f.process_id;
    return keys_of(must(h.engine().instances(f)));
  };
  InstanceFilter prefix;
  prefix.business_key = "A-1";
  prefix.business_key_prefix = true;
  EXPECT_EQ(find(prefix), (Ids{"A-10", "A-100"}));
  prefix.business_key = "A%";
  EXPECT_EQ(find(prefix), Ids{"A%1"}) << "% is itself, not any text";
  prefix.business_key = "A_";
  EXPECT_EQ(find(prefix), Ids{"A_1"}) << "_ is itself, not any letter";
  prefix.business_key = "A\\";
  EXPECT_EQ(find(prefix), Ids{"A\\1"});
  // A prefix page, newest first, and the one after it (from the newest instances first,
  // then through the key index once they run out).
  InstanceFilter prefix_page;
  prefix_page.business_key = "A";
  prefix_page.business_key_prefix = true;
  prefix_page.newest_first = true;
  prefix_page.limit = 2;
  std::vector<InstanceInfo> prefixed = must(h.engine().instances(prefix_page));
  EXPECT_EQ(keys_of(prefixed), (Ids{"A\\1", "A_1"}));
  prefix_page.after = prefixed.back().id;
  prefixed = must(h.engine().instances(prefix_page));
  EXPECT_EQ(keys_of(prefixed), (Ids{"A%1", "A-2"}));
  prefix_page.after = prefixed.back().id;
  prefix_page.limit = 5;
  EXPECT_EQ(keys_of(must(h.engine().instances(prefix_page))), (Ids{"A-100", "A-10"}));
  InstanceFilter exact;
  exact.business_key = "A-10";
  EXPECT_EQ(find(exact), Ids{"A-10"});

  // Newest first, two at a time, each page after the last id of the one before.
  InstanceFilter page;
  page.newest_first = true;
  page.limit = 3;
  std::vector<InstanceInfo> first = must(h.engine().instances(page));
  EXPECT_EQ(keys_of(first), (Ids{"A\\1", "B-1", "A_1"}));
  page.after = first.back().id;
  std::vector<InstanceInfo> second = must(h.engine().instances(page));
  EXPECT_EQ(keys_of(second), (Ids{"A%1", "A-2", "A-100"}));
  page.after = second.back().id;
  EXPECT_EQ(keys_of(must(h.engine().instances(page))), Ids{"A-10"});
  InstanceFilter oldest;
  oldest.after = first.back().id;
  EXPECT_EQ(keys_of(must(h.engine().instances(oldest))), (Ids{"B-1", "A\\1"}));

  // By when they started: the third and fourth (a minute apart, from the epoch).
  InstanceFilter started;
  started.started_from = kEpoch + 2 * 60'000;
  started.started_to = kEpoch + 4 * 60'000;
  EXPECT_EQ(find(started), (Ids{"A-2", "A%1"}));

  // By state and end event, and version.
  const JobKey job = h.job_of("t");
  ASSERT_OK(h.engine().complete_job(job));
  InstanceFilter ended;
  ended.end_event = "e";
  EXPECT_EQ(find(ended), Ids{"A-10"});
  ended.state = InstanceState::kCompleted;
  EXPECT_EQ(find(ended), Ids{"A-10"});
  InstanceFilter version;
  version.version = 2;
  EXPECT_TRUE(find(version).empty());
  version.version = 1;
  EXPECT_EQ(find(version).size(), keys.size());
  InstanceFilter other;
  other.process_id = "nothing";
  EXPECT_TRUE(find(other).empty());
}

// By a variable (compared within its JSON type) and by the message of an open incident.
TEST_P(InstanceSearch, FindsByAVariableAndByAnIncidentMessage) {
  Harness h(immediate_retries());
  h.deploy(process(straight(svc("t"))));
  const std::vector<std::pair<std::string, nlohmann::json>> orders = {
      {"V-1", {{"total", 50}, {"status", "paid"}, {"vip", true}}},
      {"V-2", {{"total", 150.5}, {"status", "open"}, {"vip", false}}},
      {"V-3", {{"total", "150"}, {"status", "paid \"now\""}, {"note", nullptr}}},
      {"V-4", {{"total", 300}, {"status", "pa%d"}}}};
  std::map<std::string, InstanceId> ids;
  for (const auto& [key, vars] : orders) {
    ids[key] = must(h.engine().start("p", vars, key)).id;
  }
  const auto find = [&](const std::string& name, VariableCondition::Op op, nlohmann::json value) {
    InstanceFilter f;
    f.variable = VariableCondition{name, op, std::move(value)};
    return keys_of(must(h.engine().instances(f)));
  };
  using Op = VariableCondition::Op;
  EXPECT_EQ(find("status", Op::kEq, "paid"), Ids{"V-1"});
  EXPECT_EQ(find("status", Op::kEq, "paid \"now\""), Ids{"V-3"}) << "quotes in the value";
  EXPECT_EQ(find("status", Op::kEq, "pa%d"), Ids{"V-4"}) << "% is itself";
  EXPECT_EQ(find("total", Op::kGt, 100), (Ids{"V-2", "V-4"})) << "numbers, not the text 150";
  EXPECT_EQ(find("total", Op::kLe, 150.5), (Ids{"V-1", "V-2"}));
  EXPECT_EQ(find("total", Op::kEq, 50.0), Ids{"V-1"}) << "50 and 50.0 are one number";
  EXPECT_EQ(find("total", Op::kEq, "150"), Ids{"V-3"});
  EXPECT_EQ(find("total", Op::kNe, 50), (Ids{"V-2", "V-3", "V-4"}));
  EXPECT_EQ(find("status", Op::kGe, "paid"), (Ids{"V-1", "V-3"})) << "text in byte order";
  EXPECT_EQ(find("vip", Op::kEq, true), Ids{"V-1"});
  EXPECT_EQ(find("vip", Op::kNe, true), Ids{"V-2"}) << "an instance without it matches nothing";
  EXPECT_EQ(find("note", Op::kEq, nullptr), Ids{"V-3"});
  EXPECT_TRUE(find("nothing", Op::kEq, "paid").empty());

  ASSERT_OK(h.engine().fail_job(h.job_of("t", ids["V-2"]), "ERP answered 503", 0, 0));
  ASSERT_OK(h.engine().fail_job(h.job_of("t", ids["V-4"]), "card declined", 0, 0));
  InstanceFilter incident;
  incident.incident_message = "erp";
  EXPECT_EQ(keys_of(must(h.engine().instances(incident))), Ids{"V-2"}) << "in any case";
  incident.incident_message = "%";
  EXPECT_TRUE(must(h.engine().instances(incident)).empty()) << "% is itself";
  incident.incident_message = "DECLINED";
  incident.variable = VariableCondition{"total", Op::kGt, 100};
  EXPECT_EQ(keys_of(must(h.engine().instances(incident))), Ids{"V-4"});
}

// Instances counted by process, state and end event, as the stores keep the counts while
// the instances are written: every change of state moves one instance from one count to
// another, in the transaction that changes it; a rolled back one changes nothing.
TEST_P(InstanceSearch, CountsFollowEveryChangeOfState) {
  Harness h(immediate_retries());
  h.deploy(process(straight(svc("t"))));
  std::vector<InstanceId> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(h.start("p"));
  ASSERT_OK(h.engine().complete_job(must(h.engine().open_jobs())[0].key));  // 1 completed
  ASSERT_OK(h.engine().cancel(ids[1]));                                      // 1 terminated
  ASSERT_OK(h.engine().fail_job(must(h.engine().open_jobs())[0].key, "down", 0, 0));
  // A start that fails (no such process) counts nothing.
  EXPECT_FALSE(h.engine().start("nothing").is_ok());
  const auto counts = [&] {
    std::map<std::string, std::int64_t> out;
    for (const InstanceCount& c : must(h.engine().count_instances())) {
      out[c.process_id + "/" + std::string(to_string(c.state)) + "/" + c.end_event] += c.count;
    }
    return out;
  };
  EXPECT_EQ(counts(), (std::map<std::string, std::int64_t>{{"p/active/", 2},
                                                           {"p/completed/e", 1},
                                                           {"p/incident/", 1},
                                                           {"p/terminated/", 1}}));
  ASSERT_OK(h.engine().resolve_incident(must(h.engine().incidents())[0].key));
  EXPECT_EQ(counts(), (std::map<std::string, std::int64_t>{{"p/active/", 3},
                                                           {"p/completed/e", 1},
                                                           {"p/terminated/", 1}}));
}

// What happened at each element, as the stores keep it with the history: the tokens there
// now, how many completed there and the time they took, how many were terminated there, and
// the open incidents.
TEST_P(InstanceSearch, ElementStatisticsFollowEveryToken) {
  Harness h(immediate_retries());
  h.deploy(process(straight(svc("t"))));
  std::vector<InstanceId> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(h.start("p"));
  h.clock().advance(10'000);
  ASSERT_OK(h.engine().complete_job(h.job_of("t", ids[0])));
  ASSERT_OK(h.engine().cancel(ids[1]));
  ASSERT_OK(h.engine().fail_job(h.job_of("t", ids[2]), "down", 0, 0));
  EXPECT_FALSE(h.engine().start("nothing").is_ok());
  const auto stats = [&] {
    std::map<std::string, std::string> out;
    for (const ElementStatistics& e : must(h.engine().element_statistics("p", 1))) {
      out[e.element_id] = "active " + std::to_string(e.active) + ", incidents " +
                          std::to_string(e.incidents) + ", completed " +
                          std::to_string(e.completed) + ", terminated " +
                          std::to_string(e.terminated) + ", " + std::to_string(e.time_ms) +
                          " ms over " + std::to_string(e.timed);
    }
    return out;
  };
  EXPECT_EQ(stats(), (std::map<std::string, std::string>{
                         {"s", "active 0, incidents 0, completed 4, terminated 0, 0 ms over 4"},
                         {"t", "active 2, incidents 1, completed 1, terminated 1, 10000 ms over 1"},
                         {"e", "active 0, incidents 0, completed 1, terminated 0, 0 ms over 1"}}));
  ASSERT_OK(h.engine().resolve_incident(must(h.engine().incidents())[0].key));
  h.clock().advance(5'000);
  ASSERT_OK(h.engine().complete_job(h.job_of("t", ids[2])));
  EXPECT_EQ(stats()["t"], "active 1, incidents 0, completed 2, terminated 1, 25000 ms over 2");
  EXPECT_TRUE(must(h.engine().element_statistics("p", 2)).empty());
}

}  // namespace
}  // namespace ordo::testing
