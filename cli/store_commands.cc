// The commands that work on an Ordo database: see store_commands.h and docs/cli.md.
//
// Each command opens the database with Engine::open, does one thing through the public API
// and prints the result, as text for people or, with --json, as one JSON document.
// Exit codes as everywhere in ordo: 0 success, 1 the work found errors (a database that is
// refused, an unknown instance or incident, ...), 2 bad usage (CLI11 reports it).
#include "store_commands.h"

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

namespace ordo::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kExitOk = 0;
constexpr int kExitFound = 1;


// ---- shared helpers ----

struct DbArgs {
  std::string db;
  bool json = false;
};

void add_db_option(CLI::App* cmd, DbArgs& args) {
  cmd->add_option("--db", args.db, "The Ordo database (an SQLite file)")
      ->required()
      ->type_name("FILE");
}

void add_json_flag(CLI::App* cmd, DbArgs& args, const std::string& what) {
  cmd->add_flag("--json", args.json, "Print " + what + " as JSON");
}

// A JSON object given on the command line (--vars). Checked while parsing, so a malformed
// one is bad usage (exit 2).
CLI::Validator json_object() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        json j = json::parse(text, nullptr, false);
        if (j.is_discarded()) return "not valid JSON: " + text;
        if (!j.is_object()) {
          return std::string("expected a JSON object such as {\"name\": 1}, found ") +
                 j.type_name();
        }
        return {};
      },
      "", "JSON object");
}

json parse_object(const std::string& text) {
  if (text.empty()) return json::object();
  return json::parse(text);  // checked by json_object()
}

// An ISO 8601 duration (PT1H, P2D) that is not negative.
CLI::Validator iso_duration() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::optional<time::Duration> d = time::parse_duration(text);
        if (!d) return "not an ISO 8601 duration such as PT30M, PT1H or P2D: " + text;
        if (d->negative) return "a negative duration: " + text;
        return {};
      },
      "", "ISO 8601 duration");
}

std::string when(std::int64_t ms) {
  return ms == 0 ? std::string() : time::format_date_time(ms);
}
json when_json(std::int64_t ms) { return server::when_view(ms); }

void print_json(const json& j) {
  std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Columns padded to their widest cell; the last column is not padded.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      out += cells[c];
      if (c + 1 < cells.size()) out += std::string(width[c] - cells[c].size() + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::cout << out << '\n';
  };
  line(header);
  for (const auto& row : rows) line(row);
}

// Opens the database, printing "ordo CMD: <why>" when it cannot. Only `deploy` creates a
// database: every other command on a missing file is a mistake (a typo in the path), and
// creating an empty database there would hide it.
std::unique_ptr<Engine> open_db(const std::string& cmd, const std::string& path, bool create,
                                EngineOptions options = {}) {
  std::error_code ec;
  if (!create && !fs::exists(path, ec)) {
    std::cerr << "ordo " << cmd << ": no database at " << path << " (ordo deploy --db " << path
              << " FILE creates one)\n";
    return nullptr;
  }
  Result<std::unique_ptr<Engine>> opened = Engine::open(path, std::move(options));
  if (!opened) {
    std::cerr << "ordo " << cmd << ": " << opened.status().message() << '\n';
    return nullptr;
  }
  return std::move(*opened);
}

int fail(const std::string& cmd, const Status& status) {
  std::cerr << "ordo " << cmd << ": " << status.message() << '\n';
  return kExitFound;
}

const std::map<std::string, InstanceState>& instance_states() {
  static const std::map<std::string, InstanceState> states = {
      {"active", InstanceState::kActive},
      {"completed", InstanceState::kCompleted},
      {"terminated", InstanceState::kTerminated},
      {"incident", InstanceState::kIncident},
      {"suspended", InstanceState::kSuspended}};
  return states;
}

std::string instance_list(const std::vector<InstanceId>& ids) {
  std::string out = ids.size() == 1 ? "instance " : "instances ";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(ids[i]);
  }
  return out;
}

json incident_json(const IncidentInfo& i) { return server::incident_view(i); }

// ---- deploy ----

struct DeployArgs : DbArgs {
  std::vector<std::string> files;
};

int run_deploy(const DeployArgs& args) {
  auto engine = open_db("deploy", args.db, /*create=*/true);
  if (!engine) return kExitFound;
    std::set<std::pair<std::string, int>> known;
  Result<std::vector<Deployment>> stored = engine->deployments();
  if (!stored) return fail("deploy", stored.status());
  for (const Deployment& d : *stored) known.emplace(d.process_id, d.version);
  json out = json::array();
  int failed = 0;
  for (const std::string& file : args.files) {
    Result<std::vector<Deployment>> deployed = engine->deploy_file(file);
    if (!deployed) {
      fail("deploy", deployed.status());
      ++failed;
      continue;
    }
    for (const Deployment& d : *deployed) {
      const bool fresh = known.emplace(d.process_id, d.version).second;
      if (args.json) {
        out.push_back({{"file", file},
                       {"processId", d.process_id},
                       {"version", d.version},
                       {"new", fresh},
                       {"contentHash", d.content_hash}});
      } else {
        std::cout << d.process_id << ": version " << d.version
                  << (fresh ? ", new" : ", unchanged (same content as the latest version)") << " ("
                  << file << ")\n";
      }
    }
  }
  if (args.json) print_json(out);
  return failed > 0 ? kExitFound : kExitOk;
}

// ---- start ----

struct StartArgs : DbArgs {
  std::string process_id;
  std::string vars;
  std::string key;
  int version = 0;
};

int run_start(const StartArgs& args) {
  auto engine = open_db("start", args.db, false);
  if (!engine) return kExitFound;
  StartRequest request;
  request.process_id = args.process_id;
  request.variables = parse_object(args.vars);
  request.business_key = args.key;
  request.version = args.version;
  Result<StartResult> started = engine->start_instance(request);
  if (!started) return fail("start", started.status());
  Result<InstanceInfo> info = engine->instance(started->id);
  const std::string state = info ? std::string(to_string(info->state)) : std::string("unknown");
  if (args.json) {
    print_json({{"instance", started->id},
                {"created", started->created},
                {"processId", args.process_id},
                {"version", started->version},
                {"businessKey", args.key},
                {"state", state}});
    return kExitOk;
  }
  const std::string what = args.process_id + ":" + std::to_string(started->version);
  if (started->created) {
    std::cout << "started instance " << started->id << " of " << what;
    if (!args.key.empty()) std::cout << " (business key " << args.key << ")";
    std::cout << ": " << state << '\n';
  } else {
    std::cout << "instance " << started->id << " of " << what << " already exists for business key "
              << args.key << " (" << state << "); not started again\n";
  }
  return kExitOk;
}

// ---- correlate ----

struct CorrelateArgs : DbArgs {
  std::string name;
  std::string key;
  std::string vars;
  std::string ttl;
  std::string message_id;
};

int run_correlate(const CorrelateArgs& args) {
  auto engine = open_db("correlate", args.db, false);
  if (!engine) return kExitFound;
  Message m;
  m.name = args.name;
  m.correlation_key = args.key;
  m.variables = parse_object(args.vars);
  m.message_id = args.message_id;
  if (!args.ttl.empty()) {
    // Calendar parts (days, months) are counted from now.
    const std::int64_t now = engine->clock().now_ms();
    m.ttl_ms = time::add(now, *time::parse_duration(args.ttl)) - now;
  }
  Result<MessageResult> r = engine->publish_message(std::move(m));
  if (!r) return fail("correlate", r.status());
  if (args.json) {
    print_json({{"name", args.name},
                {"correlationKey", args.key},
                {"messageId", args.message_id.empty() ? json() : json(args.message_id)},
                {"instances", r->instances},
                {"buffered", r->buffered},
                {"duplicate", r->duplicate}});
    return kExitOk;
  }
  std::string outcome;
  if (!r->instances.empty()) {
    outcome = "received by " + instance_list(r->instances);
  } else if (r->buffered) {
    outcome = "nobody is waiting for it yet: buffered for " + args.ttl;
  } else {
    outcome = "nobody was waiting for it: dropped (--ttl keeps a message for later)";
  }
  if (r->duplicate) {
    std::cout << "duplicate: message id " << args.message_id
              << " was published before; nothing done (the first time: " << outcome << ")\n";
  } else {
    std::cout << args.name << (args.key.empty() ? "" : " / " + args.key) << ": " << outcome << '\n';
  }
  return kExitOk;
}

// ---- instances ----

struct InstancesArgs : DbArgs {
  std::string state;
  std::string process_id;
  int limit = 1000;
};

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
      out.push_back({{"id", i.id},
                     {"processId", i.process_id},
                     {"version", i.version},
                     {"businessKey", i.business_key},
                     {"state", to_string(i.state)},
                     {"startedAt", when_json(i.started_ms)},
                     {"endedAt", when_json(i.ended_ms)},
                     {"endEvent", i.end_event.empty() ? json() : json(i.end_event)},
                     {"parent", i.parent == 0 ? json() : json(i.parent)}});
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

struct ShowArgs : DbArgs {
  InstanceId id = 0;
};

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
    print_json({{"id", i.id},
                {"processId", i.process_id},
                {"version", i.version},
                {"businessKey", i.business_key},
                {"state", to_string(i.state)},
                {"startedAt", when_json(i.started_ms)},
                {"endedAt", when_json(i.ended_ms)},
                {"endEvent", i.end_event.empty() ? json() : json(i.end_event)},
                {"parent", i.parent == 0 ? json() : json(i.parent)},
                {"variables", i.variables.is_null() ? json::object() : i.variables},
                {"elements", elements},
                {"incidents", incidents},
                {"history", events}});
    return kExitOk;
  }
  std::cout << "instance " << i.id << "  " << i.process_id << ":" << i.version;
  if (!i.business_key.empty()) std::cout << "  key " << i.business_key;
  std::cout << '\n';
  std::cout << "state    " << to_string(i.state);
  if (!i.end_event.empty()) std::cout << " (" << i.end_event << ")";
  std::cout << '\n';
  if (i.parent != 0) std::cout << "called by instance " << i.parent << '\n';
  std::cout << "started  " << when(i.started_ms) << '\n';
  if (i.ended_ms != 0) std::cout << "ended    " << when(i.ended_ms) << '\n';

  std::cout << "\nvariables\n";
  if (!i.variables.is_object() || i.variables.empty()) std::cout << "  (none)\n";
  if (i.variables.is_object()) {
    for (const auto& [name, value] : i.variables.items()) {
      std::cout << "  " << name << " = " << dump(value) << '\n';
    }
  }
  if (!i.elements.empty()) {
    std::cout << "\nwaiting in\n";
    std::vector<std::vector<std::string>> rows;
    for (const ElementInfo& e : i.elements) {
      rows.push_back(
          {e.element_id, std::string(to_string(e.kind)), std::string(to_string(e.state))});
    }
    for (auto& r : rows) r[0] = "  " + r[0];
    print_table({"  ELEMENT", "KIND", "STATE"}, rows);
  }
  if (!i.incidents.empty()) {
    std::cout << "\nopen incidents (ordo retry --db " << args.db << " KEY)\n";
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

// ---- incidents, retry, cancel ----

int run_incidents(const DbArgs& args) {
  auto engine = open_db("incidents", args.db, false);
  if (!engine) return kExitFound;
  Result<std::vector<IncidentInfo>> read = engine->incidents();
  if (!read) return fail("incidents", read.status());
  const std::vector<IncidentInfo>& open = *read;
  if (args.json) {
    json out = json::array();
    for (const IncidentInfo& i : open) out.push_back(incident_json(i));
    print_json(out);
    return kExitOk;
  }
  if (open.empty()) {
    std::cout << "no open incidents\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const IncidentInfo& i : open) {
    rows.push_back({std::to_string(i.key), std::to_string(i.instance), i.element_id, std::string(to_string(i.kind)),
                    when(i.created_ms), i.message});
  }
  print_table({"KEY", "INSTANCE", "ELEMENT", "TYPE", "CREATED", "MESSAGE"}, rows);
  return kExitOk;
}

struct RetryArgs : DbArgs {
  IncidentKey key = 0;
  int retries = 1;
  std::string vars;
};

int run_retry(const RetryArgs& args) {
  auto engine = open_db("retry", args.db, false);
  if (!engine) return kExitFound;
    std::optional<IncidentInfo> incident;
  Result<std::vector<IncidentInfo>> open = engine->incidents();
  if (!open) return fail("retry", open.status());
  for (IncidentInfo& i : *open) {
    if (i.key == args.key) incident = std::move(i);
  }
  if (!incident) {
    std::cerr << "ordo retry: no open incident " << args.key << " (ordo incidents --db " << args.db
              << " lists them)\n";
    return kExitFound;
  }
  if (!args.vars.empty()) {
    if (Status s = engine->set_variables(incident->instance, parse_object(args.vars)); !s) {
      return fail("retry", s);
    }
  }
  if (Status s = engine->resolve_incident(args.key, args.retries); !s) return fail("retry", s);
  Result<InstanceInfo> after = engine->instance(incident->instance);
  std::cout << "resolved incident " << args.key << " (" << to_string(incident->kind) << " at "
            << incident->element_id << ")";
  if (incident->job != 0) {
    std::cout << "; job " << incident->job << " has " << args.retries
              << (args.retries == 1 ? " retry" : " retries") << " for the next ordo worker";
  }
  std::cout << "\ninstance " << incident->instance << " is "
            << (after ? to_string(after->state) : std::string_view("unknown")) << '\n';
  return kExitOk;
}

struct CancelArgs : DbArgs {
  InstanceId id = 0;
};

int run_cancel(const CancelArgs& args) {
  auto engine = open_db("cancel", args.db, false);
  if (!engine) return kExitFound;
  if (Status s = engine->cancel(args.id); !s) return fail("cancel", s);
  std::cout << "cancelled instance " << args.id << '\n';
  return kExitOk;
}

// ---- worker ----

struct WorkerArgs : DbArgs {
  int threads = 2;
  bool until_idle = false;
  int group_commit = 64;
  std::string config;
  bool simulate = false;
};

int run_worker(const WorkerArgs& args) {
  EngineOptions options;
  options.group_commit = args.group_commit;
  auto engine = open_db("worker", args.db, false, options);
  if (!engine) return kExitFound;
  AdapterConfig config;
  if (!args.config.empty()) {
    Result<AdapterConfig> loaded =
        load_adapter_config(args.config, {}, server::library_log("adapters"));
    if (!loaded) return fail("worker", loaded.status());
    config = std::move(*loaded);
  }
  // Nothing is simulated unless asked for: a job whose type has no adapter waits for an
  // external worker.
  std::unique_ptr<SimulatedWorld> world;
  if (args.simulate || !config.simulated.empty()) {
    world = std::make_unique<SimulatedWorld>(engine->clock());
    const std::string effects = args.db + ".effects.jsonl";
    if (Status s = world->open_effects_log(effects); !s) return fail("worker", s);
    if (args.simulate) engine->set_fallback_handler(world->handler());
    for (const std::string& type : config.simulated) engine->register_handler(type, world->handler());
  }
  for (auto& [type, handler] : config.handlers) engine->register_handler(type, handler);
  engine->leave_to_external_workers(config.external);
  JobTypeWatch job_types(handling_of(config, args.config, args.simulate),
                         [](const std::string& line) { std::cerr << "ordo worker: " << line << '\n'; });
  if (Status s = job_types.check(*engine); !s) return fail("worker", s);
  install_stop_handlers();

  WorkOptions work;
  work.threads = args.threads;
  auto last_check = std::chrono::steady_clock::now();
  const auto check_deployments = [&] {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_check < std::chrono::seconds(1)) return;
    last_check = now;
    if (Status s = job_types.check(*engine); !s) std::cerr << "ordo worker: " << s.message() << '\n';
  };
  Result<LoopTotals> totals =
      work_loop(*engine, world.get(), work, args.until_idle, stop_flag(), check_deployments);
  if (!totals) return fail("worker", totals.status());
  const std::size_t handled = totals->handled, published = totals->published;
  // Not lost: the effects log has them, and the next worker publishes them when due.
  const std::size_t scheduled = world ? world->take_due(INT64_MAX).size() : 0;
    Result<std::vector<IncidentInfo>> open = engine->incidents();
  if (!open) return fail("worker", open.status());
  const std::size_t incidents = open->size();
  if (args.json) {
    print_json({{"handled", handled},
                {"published", published},
                {"scheduled", scheduled},
                {"openIncidents", incidents},
                {"stopped", stop_flag().load()}});
    return kExitOk;
  }
  std::cout << "worker " << (stop_flag().load() ? "stopped" : "idle") << ": " << handled
            << (handled == 1 ? " job or timer handled, " : " jobs and timers handled, ")
            << published << (published == 1 ? " message" : " messages") << " published";
  if (scheduled > 0) std::cout << ", " << scheduled << " due later";
  if (incidents > 0) {
    std::cout << ", " << incidents << (incidents == 1 ? " open incident" : " open incidents");
  }
  std::cout << '\n';
  return kExitOk;
}

// ---- backup ----

struct BackupArgs : DbArgs {
  std::string dest;
  bool force = false;
};

int run_backup(const BackupArgs& args) {
  std::error_code ec;
  if (fs::exists(args.dest, ec)) {
    if (fs::exists(args.db, ec) && fs::equivalent(args.db, args.dest, ec)) {
      std::cerr << "ordo backup: " << args.dest << " is the database itself\n";
      return kExitFound;
    }
    if (!args.force) {
      std::cerr << "ordo backup: " << args.dest << " exists; give --force to replace it\n";
      return kExitFound;
    }
  }
  auto engine = open_db("backup", args.db, false);
  if (!engine) return kExitFound;
  // Into a new file next to DEST, renamed when complete: DEST is never half-written, and an
  // old DEST is replaced whole rather than overwritten page by page.
  const std::string partial = args.dest + ".partial-" + std::to_string(::getpid());
  fs::remove(partial, ec);
  if (Status s = engine->backup(partial); !s) {
    fs::remove(partial, ec);
    return fail("backup", s);
  }
  // A write-ahead log left by the old DEST would be applied to the new one.
  fs::remove(args.dest + "-wal", ec);
  fs::remove(args.dest + "-shm", ec);
  fs::rename(partial, args.dest, ec);
  if (ec) {
    fs::remove(partial, ec);
    std::cerr << "ordo backup: cannot write " << args.dest << ": " << ec.message() << '\n';
    return kExitFound;
  }
  std::cout << "backed up " << args.db << " to " << args.dest << '\n';
  return kExitOk;
}

// ---- deliveries ----

struct DeliveriesArgs {
  std::string log;
  std::string order;
  bool json = false;
};

int run_deliveries(const DeliveriesArgs& args) {
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
    }
    print_json(out);
    return kExitOk;
  }
  if (rows->empty()) {
    std::cout << "no deliveries" << (args.order.empty() ? "" : " for " + args.order) << '\n';
    return kExitOk;
  }
  for (const DeliveryRecord& d : *rows) {
    std::cout << time::format_date_time(d.created_ms) << "  " << d.order_id << "  " << d.message << "  "
              << d.channel << "  " << d.status;
    if (!d.recipient.empty()) std::cout << "  to " << d.recipient;
    if (!d.locale.empty()) std::cout << " (" << d.locale << ")";
    if (!d.provider_id.empty()) std::cout << "  id " << d.provider_id;
    if (!d.provider_status.empty()) std::cout << "  [" << d.provider_status << "]";
    if (!d.error.empty()) std::cout << "\n    " << d.error;
    std::cout << '\n';
  }
  return kExitOk;
}

}  // namespace

struct StoreCommands::Impl {
  DeployArgs deploy;
  StartArgs start;
  CorrelateArgs correlate;
  InstancesArgs instances;
  ShowArgs show;
  DbArgs incidents;
  RetryArgs retry;
  CancelArgs cancel;
  WorkerArgs worker;
  BackupArgs backup;
  DeliveriesArgs deliveries;
  CLI::App* deploy_cmd = nullptr;
  CLI::App* start_cmd = nullptr;
  CLI::App* correlate_cmd = nullptr;
  CLI::App* instances_cmd = nullptr;
  CLI::App* show_cmd = nullptr;
  CLI::App* incidents_cmd = nullptr;
  CLI::App* retry_cmd = nullptr;
  CLI::App* cancel_cmd = nullptr;
  CLI::App* worker_cmd = nullptr;
  CLI::App* backup_cmd = nullptr;
  CLI::App* deliveries_cmd = nullptr;
};

StoreCommands::StoreCommands(CLI::App& app) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  const std::string exit_status = "Exit status: 0 on success, 1 when the database is refused or ";

  {
    CLI::App* c = m.deploy_cmd = app.add_subcommand(
        "deploy", "Deploy the processes of BPMN files into a database (created when missing)");
    add_db_option(c, m.deploy);
    c->add_option("files", m.deploy.files, "BPMN files")->required();
    add_json_flag(c, m.deploy, "file, processId, version, new and contentHash per process");
    c->footer(
        "A process whose content equals its latest version keeps that version (unchanged); "
        "anything else becomes a new version. Files with errors are not deployed (see ordo "
        "validate).\n" +
        exit_status + "a file cannot be deployed, 2 on bad usage.");
  }
  {
    CLI::App* c = m.start_cmd =
        app.add_subcommand("start", "Start an instance of a deployed process");
    add_db_option(c, m.start);
    c->add_option("process-id", m.start.process_id, "The process id (not the file)")->required();
    c->add_option("--vars", m.start.vars, "Process variables, a JSON object")
        ->check(json_object())
        ->type_name("JSON");
    c->add_option("--key", m.start.key,
                  "Business key: starting again with the same key returns the instance it "
                  "already has instead of starting another");
    c->add_option("--version", m.start.version, "Deployed version to start (default: latest)")
        ->check(CLI::PositiveNumber);
    add_json_flag(c, m.start, "instance, created, processId, version, businessKey and state");
    c->footer("The instance runs to its first wait states; ordo worker then does its jobs.\n" +
              exit_status + "the process is not deployed, 2 on bad usage.");
  }
  {
    CLI::App* c = m.correlate_cmd =
        app.add_subcommand("correlate", "Publish a message to the instances waiting for it");
    add_db_option(c, m.correlate);
    c->add_option("name", m.correlate.name, "Message name")->required();
    c->add_option("--key", m.correlate.key, "Correlation key");
    c->add_option("--vars", m.correlate.vars, "Message variables, a JSON object")
        ->check(json_object())
        ->type_name("JSON");
    c->add_option("--ttl", m.correlate.ttl,
                  "Keep the message this long (ISO 8601 duration, e.g. PT1H) when nobody "
                  "waits for it yet")
        ->check(iso_duration())
        ->type_name("DURATION");
    c->add_option("--message-id", m.correlate.message_id,
                  "Publishing the same id again does nothing (idempotent publishing)");
    add_json_flag(c, m.correlate,
                  "name, correlationKey, messageId, instances, buffered, duplicate");
    c->footer(
        "Each waiting instance receives it once; message start events start instances. A "
        "message nobody receives is dropped unless --ttl is given.\n" +
        exit_status + "publishing fails, 2 on bad usage.");
  }
  {
    CLI::App* c = m.instances_cmd =
        app.add_subcommand("instances",
                           "List instances: id, process:version, business key, "
                           "state, started, ended, end event");
    add_db_option(c, m.instances);
    c->add_option("--state", m.instances.state, "Only instances in this state")
        ->check(CLI::IsMember({"active", "completed", "terminated", "incident", "suspended"}));
    c->add_option("--process", m.instances.process_id, "Only instances of this process id");
    c->add_option("--limit", m.instances.limit, "At most this many, by id")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    add_json_flag(c, m.instances, "the instances");
    c->footer(exit_status + "it cannot be read, 2 on bad usage.");
  }
  {
    CLI::App* c = m.show_cmd = app.add_subcommand(
        "show", "Show an instance: state, variables, where it waits, incidents, history");
    add_db_option(c, m.show);
    c->add_option("id", m.show.id, "Instance id")->required();
    add_json_flag(c, m.show, "the instance and its history");
    c->footer("The history is a timeline: time (ISO 8601, UTC), element, event, detail.\n" +
              exit_status + "there is no such instance, 2 on bad usage.");
  }
  {
    CLI::App* c = m.incidents_cmd =
        app.add_subcommand("incidents", "List open incidents: what stopped which instance where");
    add_db_option(c, m.incidents);
    add_json_flag(c, m.incidents,
                  "the incidents (key, instance, elementId, job, type, message, createdAt)");
    c->footer("ordo retry resolves one.\n" + exit_status + "it cannot be read, 2 on bad usage.");
  }
  {
    CLI::App* c = m.retry_cmd =
        app.add_subcommand("retry", "Resolve an incident: retry what it stopped");
    add_db_option(c, m.retry);
    c->add_option("incident", m.retry.key, "Incident key (ordo incidents lists them)")->required();
    c->add_option("--retries", m.retry.retries, "Retries the failed job gets")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    c->add_option("--vars", m.retry.vars,
                  "Set these process variables first (to fix the cause), a JSON object")
        ->check(json_object())
        ->type_name("JSON");
    c->footer(
        "A job out of retries gets --retries more and runs at the next ordo worker; any other "
        "incident re-runs the step that failed at once.\n" +
        exit_status + "there is no such open incident, 2 on bad usage.");
  }
  {
    CLI::App* c = m.cancel_cmd =
        app.add_subcommand("cancel", "Cancel an instance and everything it waits for");
    add_db_option(c, m.cancel);
    c->add_option("id", m.cancel.id, "Instance id")->required();
    c->footer("An instance started by a call activity is cancelled through its root instance.\n" +
              exit_status + "the instance is unknown or cannot be cancelled, 2 on bad usage.");
  }
  {
    CLI::App* c = m.worker_cmd = app.add_subcommand(
        "worker", "Work on jobs and timers with the adapters of --config, on the system clock");
    add_db_option(c, m.worker);
    c->add_option("--threads", m.worker.threads, "Handler threads")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    c->add_flag("--until-idle", m.worker.until_idle,
                "Stop once nothing is left to do now, instead of at SIGINT or SIGTERM");
    c->add_option("--group-commit", m.worker.group_commit,
                  "Job outcomes and timers per transaction")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    c->add_option("--config", m.worker.config,
                  "Adapters by task type (ordo.json, docs/adapters.md)")
        ->type_name("FILE");
    c->add_flag("--simulate", m.worker.simulate,
                "Answer the job types no adapter handles with the simulated order world: for "
                "trying a process, never for real orders");
    add_json_flag(c, m.worker, "the summary (handled, published, scheduled, openIncidents)");
    c->footer(
        "A job whose type has no adapter is not answered: it waits for an external worker "
        "(ordo serve's /v1/jobs), and each such type is named once on stderr. With --simulate "
        "(or \"adapter\": \"simulated\" for a type) the simulated handlers answer from each "
        "instance's variables as in ordo run (docs/running-orders.md) and publish the messages "
        "an outside system would, when they are due; their side effects are recorded in "
        "DB.effects.jsonl and not repeated.\n" +
        exit_status + "the work stops on a database error, 2 on bad usage.");
  }
  {
    CLI::App* c = m.backup_cmd =
        app.add_subcommand("backup", "Copy the database consistently while it is in use");
    add_db_option(c, m.backup);
    c->add_option("dest", m.backup.dest, "The copy, a new file")->required();
    c->add_flag("--force", m.backup.force, "Replace DEST when it exists");
    c->footer("The copy is an Ordo database like the original (ordo instances --db DEST).\n" +
              exit_status + "DEST exists (without --force) or cannot be written, 2 on bad usage.");
  }
  {
    CLI::App* c = m.deliveries_cmd = app.add_subcommand(
        "deliveries", "List the notifications' delivery log: every attempt and its outcome");
    c->add_option("--log", m.deliveries.log,
                  "The delivery log (notifications.deliveryLog in ordo.json)")
        ->required();
    c->add_option("--order", m.deliveries.order, "Only this order's deliveries");
    c->add_flag("--json", m.deliveries.json, "Print JSON");
    c->footer("See docs/notifications.md.\n" + exit_status +
              "the log is missing or unreadable, 2 on bad usage.");
  }
}

StoreCommands::~StoreCommands() = default;

std::optional<int> StoreCommands::run() const {
  const Impl& m = *impl_;
  if (m.deploy_cmd->parsed()) return run_deploy(m.deploy);
  if (m.start_cmd->parsed()) return run_start(m.start);
  if (m.correlate_cmd->parsed()) return run_correlate(m.correlate);
  if (m.instances_cmd->parsed()) return run_instances(m.instances);
  if (m.show_cmd->parsed()) return run_show(m.show);
  if (m.incidents_cmd->parsed()) return run_incidents(m.incidents);
  if (m.retry_cmd->parsed()) return run_retry(m.retry);
  if (m.cancel_cmd->parsed()) return run_cancel(m.cancel);
  if (m.worker_cmd->parsed()) return run_worker(m.worker);
  if (m.backup_cmd->parsed()) return run_backup(m.backup);
  if (m.deliveries_cmd->parsed()) return run_deliveries(m.deliveries);
  return std::nullopt;
}

}  // namespace ordo::cli
