// instances, show, incidents, deliveries: the commands that read a database.
#include "db_commands.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/adapters/adapters.h"
#include "ordo/adapters/notifications.h"
#include "ordo/sim/simulation.h"
#include "ordo/ordo.h"
// Internal to the library (engine/ is on the CLI's include path): the same ISO 8601 parser
// and formatter the engine uses for timers, so --ttl and printed times read as in BPMN files.
#include "job_types.h"
#include "logging.h"  // library_log
#include "time/iso8601.h"
#include "views.h"
#include "work_loop.h"

namespace ordo::cli::db {

namespace fs = std::filesystem;

// ---- instances ----

namespace {

// What `instances --json` lists of an instance, and `show --json` begins with.
json summary_json(const InstanceInfo& i) {
  return {{"id", i.id},
          {"processId", i.process_id},
          {"version", i.version},
          {"businessKey", i.business_key},
          {"state", to_string(i.state)},
          {"startedAt", when_json(i.started_ms)},
          {"endedAt", when_json(i.ended_ms)},
          {"endEvent", i.end_event.empty() ? json() : json(i.end_event)},
          {"parent", i.parent == 0 ? json() : json(i.parent)}};
}

}  // namespace

int run_instances(const InstancesArgs& args) {
  auto engine = open_db("instances", args.db, false);
  if (!engine) return kExitFound;
  InstanceFilter filter;
  filter.process_id = args.process_id;
  if (!args.state.empty()) filter.state = instance_states().at(args.state);
  filter.limit = args.limit;
  Result<std::vector<InstanceInfo>> found = engine->instances(filter);
  if (!found) return fail("instances", found.status());
  if (args.json) {
    json out = json::array();
    for (const InstanceInfo& i : *found) {
      out.push_back(summary_json(i));
    }
    print_json(out);
    return kExitOk;
  }
  if (found->empty()) {
    std::cout << "no instances\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const InstanceInfo& i : *found) {
    rows.push_back({std::to_string(i.id), i.process_id + ":" + std::to_string(i.version),
                    i.business_key, std::string(to_string(i.state)), when(i.started_ms),
                    when(i.ended_ms), i.end_event});
  }
  print_table({"ID", "PROCESS", "KEY", "STATE", "STARTED", "ENDED", "END EVENT"}, rows);
  if (static_cast<int>(found->size()) == args.limit) {
    std::cout << "(the first " << args.limit << "; --limit shows more)\n";
  }
  return kExitOk;
}

// ---- show ----


// What a history event says beyond its kind, for people.
std::string detail_text(const HistoryEvent& e) {
  switch (e.kind) {
    case HistoryKind::kInstanceStarted:
      return e.value != 0 ? "called by instance " + std::to_string(e.value) : std::string();
    case HistoryKind::kJobCreated:
      return "job " + std::to_string(e.key) + " " + e.detail + ", " + std::to_string(e.value) +
             (e.value == 1 ? " retry" : " retries");
    case HistoryKind::kJobCompleted:
    case HistoryKind::kJobCancelled:
      return "job " + std::to_string(e.key);
    case HistoryKind::kJobFailed:
      return "job " + std::to_string(e.key) + ": " + e.detail + " (" + std::to_string(e.value) +
             (e.value == 1 ? " retry left)" : " retries left)");
    case HistoryKind::kJobErrorThrown:
      return "job " + std::to_string(e.key) + ": error " + e.detail;
    case HistoryKind::kTimerScheduled:
      return "due " + when(e.value);
    case HistoryKind::kVariablesUpdated:
      return "set " + e.detail;
    case HistoryKind::kIncidentRaised:
      return "incident " + std::to_string(e.key) + ": " + e.detail;
    case HistoryKind::kIncidentResolved:
      return "incident " + std::to_string(e.key);
    default:
      return e.detail;
  }
}

int run_show(const ShowArgs& args) {
  auto engine = open_db("show", args.db, false);
  if (!engine) return kExitFound;
  Result<InstanceInfo> found = engine->instance(args.id);
  if (!found) return fail("show", found.status());
  const InstanceInfo& i = *found;
  Result<std::vector<HistoryEvent>> read = engine->history(args.id);
  if (!read) return fail("show", read.status());
  const std::vector<HistoryEvent>& history = *read;
  if (args.json) {
    json elements = json::array();
    for (const ElementInfo& e : i.elements) {
      elements.push_back({{"elementId", e.element_id},
                          {"kind", to_string(e.kind)},
                          {"state", to_string(e.state)}});
    }
    json incidents = json::array();
    for (const IncidentInfo& inc : i.incidents) incidents.push_back(incident_json(inc));
    json events = json::array();
    for (const HistoryEvent& e : history) {
      json event = server::event_view(e);
      event["text"] = detail_text(e);
      events.push_back(std::move(event));
    }
    json out = summary_json(i);
    out["variables"] = i.variables.is_null() ? json::object() : i.variables;
    out["elements"] = std::move(elements);
    out["incidents"] = std::move(incidents);
    out["history"] = std::move(events);
    print_json(out);
    return kExitOk;
  }
  std::cout << "instance " << i.id << "  " << shown(i.process_id) << ":" << i.version;
  if (!i.business_key.empty()) std::cout << "  key " << shown(i.business_key);
  std::cout << '\n';
  std::cout << "state    " << to_string(i.state);
  if (!i.end_event.empty()) std::cout << " (" << shown(i.end_event) << ")";
  std::cout << '\n';
  if (i.parent != 0) std::cout << "called by instance " << i.parent << '\n';
  std::cout << "started  " << when(i.started_ms) << '\n';
  if (i.ended_ms != 0) std::cout << "ended    " << when(i.ended_ms) << '\n';

  std::cout << "\nvariables\n";
  if (!i.variables.is_object() || i.variables.empty()) std::cout << "  (none)\n";
  if (i.variables.is_object()) {
    for (const auto& [name, value] : i.variables.items()) {
      std::cout << "  " << shown(name) << " = " << shown(dump(value)) << '\n';
    }
  }
  if (!i.elements.empty()) {
    std::cout << "\nwaiting in\n";
    std::vector<std::vector<std::string>> rows;
    for (const ElementInfo& e : i.elements) {
      rows.push_back({e.element_id, std::string(to_string(e.kind)),
                      std::string(to_string(e.state)),
                      e.job == 0 ? std::string() : std::to_string(e.job)});
    }
    for (auto& r : rows) r[0] = "  " + r[0];
    print_table({"  ELEMENT", "KIND", "STATE", "JOB"}, rows);
  }
  if (!i.incidents.empty()) {
    std::cout << "\nopen incidents (ordo retry --db " << shown_db(args.db) << " KEY)\n";
    std::vector<std::vector<std::string>> rows;
    for (const IncidentInfo& inc : i.incidents) {
      rows.push_back({"  " + std::to_string(inc.key), inc.element_id, std::string(to_string(inc.kind)), inc.message});
    }
    print_table({"  KEY", "ELEMENT", "TYPE", "MESSAGE"}, rows);
  }
  std::cout << "\nhistory\n";
  if (history.empty()) {
    std::cout << "  (none recorded)\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const HistoryEvent& e : history) {
    rows.push_back({"  " + time::format_date_time(e.time_ms),
                    e.element_id.empty() ? std::string("-") : std::string(e.element_id),
                    std::string(to_string(e.kind)), detail_text(e)});
  }
  print_table({"  TIME", "ELEMENT", "EVENT", "DETAIL"}, rows);
  return kExitOk;
}

// ---- deliveries ----


namespace {

// "45.4% [40.6, 50.2]"
std::string share(const json& p) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f%% [%.1f, %.1f]", 100 * p["rate"].get<double>(),
                100 * p["low"].get<double>(), 100 * p["high"].get<double>());
  return buf;
}

int run_report(const DeliveriesArgs& args) {
  EngagementReportOptions options;
  for (const std::string& o : args.outcomes) {
    const std::size_t eq = o.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == o.size()) {
      std::cerr << "ordo deliveries: --outcome '" << o
                << "' must be EXPERIMENT=ELEMENT (e.g. shipped-copy=payment-received)\n";
      return kExitUsage;
    }
    options.outcomes[o.substr(0, eq)] = o.substr(eq + 1);
  }
  if (!options.outcomes.empty() && args.db.empty()) {
    std::cerr << "ordo deliveries: --outcome needs --db, the database of the orders\n";
    return kExitUsage;
  }
  std::unique_ptr<Engine> engine;
  if (!args.db.empty()) {
    engine = open_db("deliveries", args.db, false, {});
    if (!engine) return kExitFound;
    options.engine = engine.get();
  }
  Result<json> report = engagement_report(args.log, options);
  if (!report) return fail("deliveries", report.status());
  if (args.json) {
    print_json(*report);
    return kExitOk;
  }
  if ((*report)["experiments"].empty()) {
    std::cout << "no experiments in " << args.log << '\n';
    return kExitOk;
  }
  for (const json& e : (*report)["experiments"]) {
    const bool outcome = e.contains("outcome");
    std::cout << "experiment " << e["experiment"].get<std::string>() << " (against "
              << e["control"].get<std::string>()
              << (outcome ? ", outcome " + e["outcome"].get<std::string>() : std::string()) << ")\n";
    std::vector<std::string> header = {"  VARIANT", "SEGMENT", "SENT", "DELIVERED", "OPENED",
                                       "CLICKED"};
    if (outcome) header.push_back("OUTCOME");
    std::vector<std::vector<std::string>> rows;
    const auto row = [&](const std::string& variant, const std::string& segment, const json& t) {
      std::vector<std::string> r = {"  " + variant, segment, std::to_string(t["sent"].get<std::int64_t>()),
                                    share(t["delivered"]), share(t["opened"]), share(t["clicked"])};
      if (outcome) r.push_back(share(t["converted"]));
      rows.push_back(std::move(r));
    };
    for (const json& v : e["variants"]) row(v["variant"], "(all)", v["all"]);
    for (const json& v : e["variants"]) {
      for (const auto& [segment, t] : v["segments"].items()) row(v["variant"], segment, t);
    }
    print_table(header, rows);
    for (const json& h : e["headline"]) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "%+.1f points [%+.1f, %+.1f]", 100 * h["difference"].get<double>(),
                    100 * h["low"].get<double>(), 100 * h["high"].get<double>());
      std::cout << "  " << h["variant"].get<std::string>() << " vs " << h["against"].get<std::string>()
                << ", " << h["kpi"].get<std::string>() << ": " << buf << ", "
                << h["verdict"].get<std::string>() << '\n';
    }
  }
  return kExitOk;
}

}  // namespace

int run_deliveries(const DeliveriesArgs& args) {
  if (args.report) return run_report(args);
  if (!args.db.empty() || !args.outcomes.empty()) {
    std::cerr << "ordo deliveries: --db and --outcome go with --report\n";
    return kExitUsage;
  }
  Result<std::vector<DeliveryRecord>> rows = read_delivery_log(args.log, args.order);
  if (!rows) return fail("deliveries", rows.status());
  if (args.json) {
    json out = json::array();
    for (const DeliveryRecord& d : *rows) {
      out.push_back({{"id", d.id},           {"message", d.message},
                     {"orderId", d.order_id}, {"customer", d.customer},
                     {"channel", d.channel},  {"locale", d.locale},
                     {"recipient", d.recipient}, {"status", d.status},
                     {"providerId", d.provider_id}, {"providerStatus", d.provider_status},
                     {"error", d.error},      {"attempt", d.attempt},
                     {"time", time::format_date_time(d.created_ms)}});
      if (!d.segment.empty()) out.back()["segment"] = d.segment;
      if (!d.experiment.empty()) {
        out.back()["experiment"] = d.experiment;
        out.back()["variant"] = d.variant;
      }
    }
    print_json(out);
    return kExitOk;
  }
  if (rows->empty()) {
    std::cout << "no deliveries" << (args.order.empty() ? "" : " for " + shown(args.order)) << '\n';
    return kExitOk;
  }
  for (const DeliveryRecord& d : *rows) {
    std::cout << time::format_date_time(d.created_ms) << "  " << shown(d.order_id) << "  "
              << shown(d.message) << "  " << shown(d.channel) << "  " << shown(d.status);
    if (!d.recipient.empty()) std::cout << "  to " << shown(d.recipient);
    if (!d.locale.empty()) std::cout << " (" << shown(d.locale) << ")";
    if (!d.provider_id.empty()) std::cout << "  id " << shown(d.provider_id);
    if (!d.provider_status.empty()) std::cout << "  [" << shown(d.provider_status) << "]";
    if (!d.segment.empty()) std::cout << "  segment " << shown(d.segment);
    if (!d.experiment.empty()) {
      std::cout << "  " << shown(d.experiment) << "/" << shown(d.variant);
    }
    if (!d.error.empty()) std::cout << "\n    " << shown(d.error);
    std::cout << '\n';
  }
  return kExitOk;
}

}  // namespace ordo::cli::db
