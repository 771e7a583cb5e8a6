// deploy, start, correlate, incidents, retry, cancel, backup, db copy: the commands that change a
// database (and the list of incidents retry works on).
#include "db_commands.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
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
#include "store/copy.h"
#include "time/iso8601.h"
#include "views.h"
#include "work_loop.h"

namespace ordo::cli::db {

namespace fs = std::filesystem;

// ---- deploy ----


int run_deploy(const DeployArgs& args) {
  auto engine = open_db("deploy", args.db, /*create=*/true);
  if (!engine) return kExitFound;
    std::set<std::pair<std::string, int>> known;
  // Decisions are keyed apart from processes: a decision may share an id with a process.
  auto key = [](const Deployment& d) { return (d.decision ? "decision:" : "") + d.process_id; };
  for (auto list : {engine->deployments(), engine->decision_deployments()}) {
    if (!list) return fail("deploy", list.status());
    for (const Deployment& d : *list) known.emplace(key(d), d.version);
  }
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
      const bool fresh = known.emplace(key(d), d.version).second;
      if (args.json) {
        out.push_back({{"file", file},
                       {d.decision ? "decisionId" : "processId", d.process_id},
                       {"version", d.version},
                       {"new", fresh},
                       {"contentHash", d.content_hash}});
      } else {
        std::cout << (d.decision ? "decision " : "") << d.process_id << ": version " << d.version
                  << (fresh ? ", new" : ", unchanged (same content as the latest version)") << " ("
                  << file << ")\n";
      }
    }
  }
  if (args.json) print_json(out);
  return failed > 0 ? kExitFound : kExitOk;
}

// ---- start ----


int run_start(const StartArgs& args) {
  auto engine = open_db("start", args.db, false);
  if (!engine) return kExitFound;
  StartRequest request;
  request.process_id = args.process_id;
  request.variables = parse_object(args.vars);
  request.business_key = args.key;
  request.version = args.version;
  Result<StartResult> started = engine->start(request);
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

// ---- signal ----

int run_signal(const SignalArgs& args) {
  auto engine = open_db("signal", args.db, false);
  if (!engine) return kExitFound;
  Result<MessageResult> r = engine->broadcast_signal(args.name, parse_object(args.vars));
  if (!r) return fail("signal", r.status());
  if (args.json) {
    print_json({{"name", args.name}, {"instances", r->instances}});
    return kExitOk;
  }
  std::cout << args.name << ": "
            << (r->instances.empty() ? std::string("nobody was waiting for it")
                                     : "reached " + instance_list(r->instances))
            << '\n';
  return kExitOk;
}

// ---- job ----

int run_job_answer(const std::string& how, const JobAnswerArgs& args) {
  const std::string cmd = "job " + how;
  auto engine = open_db(cmd, args.db, false);
  if (!engine) return kExitFound;
  const JobKey key = args.key;
  json vars = args.vars.empty() ? json::object() : parse_object(args.vars);
  Status s;
  std::string done;
  if (how == "complete") {
    s = engine->complete_job(key, std::move(vars));
    done = "completed";
  } else if (how == "fail") {
    s = engine->fail_job(key, args.message, 0, args.retries);
    done = "failed";
  } else if (how == "error") {
    s = engine->throw_error(key, args.code, args.message, std::move(vars));
    done = "threw BPMN error " + args.code + " from its task";
  } else {
    s = engine->throw_escalation(key, args.code, std::move(vars));
    done = "threw escalation " + args.code + " from its task";
  }
  if (!s) return fail(cmd, s);
  if (args.json) {
    print_json({{"job", key}, {"answer", how}});
    return kExitOk;
  }
  std::cout << "job " << key << ": " << shown(done) << '\n';
  return kExitOk;
}

// ---- migrate ----

int run_migrate(const MigrateArgs& args) {
  MigrationRequest request;
  request.plan.process_id = args.process_id;
  request.plan.source_version = args.from;
  request.plan.target_version = args.to;
  request.plan.map_by_id = !args.only_mapped;
  request.plan.reschedule_timers = args.reschedule_timers;
  for (const std::string& pair : args.maps) {
    const std::size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size()) {
      std::cerr << "ordo migrate: --map " << shown(pair)
                << ": write SOURCE=TARGET, two element ids\n";
      return 2;
    }
    request.plan.mappings.emplace_back(pair.substr(0, eq), pair.substr(eq + 1));
  }
  for (std::uint64_t id : args.instances) request.instances.push_back(id);
  if (!args.key_prefix.empty()) {
    request.filter.business_key = args.key_prefix;
    request.filter.business_key_prefix = true;
  }
  request.filter.limit = args.limit;
  request.dry_run = args.dry_run;
  auto engine = open_db("migrate", args.db, false);
  if (!engine) return kExitFound;
  Result<MigrationReport> r = engine->migrate(request);
  if (!r) return fail("migrate", r.status());
  if (args.json) {
    print_json(to_json(*r));
    return r->refused == 0 ? kExitOk : kExitFound;
  }
  const std::string verb = r->dry_run ? "would move" : "moved";
  for (const InstanceMigration& m : r->instances) {
    if (!m.migrated) {
      std::cout << m.instance << ": stays at version " << r->source_version << ": "
                << shown(m.problem) << '\n';
      continue;
    }
    std::cout << m.instance << ": " << verb;
    std::string sep = " (";
    for (const std::string& move : m.moves) {
      std::cout << sep << shown(move);
      sep = ", ";
    }
    std::cout << (m.moves.empty() ? "" : ")") << '\n';
    for (const std::string& note : m.notes) std::cout << "  " << shown(note) << '\n';
    for (const std::string& s : m.stuck) std::cout << "  would get stuck: " << shown(s) << '\n';
    for (const std::string& h : m.history) std::cout << "  its history: " << shown(h) << '\n';
  }
  std::size_t stuck = 0;
  for (const InstanceMigration& m : r->instances) stuck += m.stuck.empty() ? 0u : 1u;
  std::cout << args.process_id << " version " << r->source_version << " -> " << r->target_version
            << ": " << r->migrated << (r->dry_run ? " would move" : " moved") << ", "
            << r->refused << (r->dry_run ? " would stay" : " stayed");
  if (stuck != 0) std::cout << "; " << stuck << " would get stuck";
  std::cout << (r->dry_run ? " (dry run: nothing changed)" : "") << '\n';
  return r->refused == 0 ? kExitOk : kExitFound;
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
    std::cerr << "ordo retry: no open incident " << args.key << " (ordo incidents --db " << shown_db(args.db)
              << " lists them)\n";
    return kExitFound;
  }
  // With --vars, set in the same transaction as the retry: both happen, or neither.
  if (Status s = args.vars.empty()
                     ? engine->resolve_incident(args.key, args.retries)
                     : engine->resolve_incident(args.key, args.retries, parse_object(args.vars));
      !s) {
    return fail("retry", s);
  }
  Result<InstanceInfo> after = engine->instance(incident->instance);
  std::cout << "resolved incident " << args.key << " (" << to_string(incident->kind) << " at "
            << shown(incident->element_id) << ")";
  if (incident->job != 0) {
    std::cout << "; job " << incident->job << " has " << args.retries
              << (args.retries == 1 ? " retry" : " retries") << " for the next ordo worker";
  }
  std::cout << "\ninstance " << incident->instance << " is "
            << (after ? to_string(after->state) : std::string_view("unknown")) << '\n';
  return kExitOk;
}


int run_cancel(const CancelArgs& args) {
  auto engine = open_db("cancel", args.db, false);
  if (!engine) return kExitFound;
  if (Status s = engine->cancel(args.id); !s) return fail("cancel", s);
  std::cout << "cancelled instance " << args.id << '\n';
  return kExitOk;
}

// ---- backup ----

namespace {

// Removes what killed backups to `dest` left: DEST.partial-PID files (and their SQLite
// journals) whose process no longer runs. One of a live process (a backup running now, or
// a process that took over the PID) is left alone.
void remove_stale_partials(const std::string& dest) {
  const fs::path target(dest);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string prefix = target.filename().string() + ".partial-";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.empty() || digits.size() > 9 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      continue;  // not ours, or a journal: removed with its file below
    }
    const pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (pid <= 0 || pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    std::error_code removed;
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
      fs::remove(it->path().string() + suffix, removed);
    }
  }
}

}  // namespace

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
  remove_stale_partials(args.dest);
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
  std::cout << "backed up " << shown_db(args.db) << " to " << args.dest << '\n';
  return kExitOk;
}

// ---- db copy ----

int run_copy(const CopyArgs& args) {
  Result<store::CopyReport> report = store::copy_database(args.from, args.to);
  if (!report) return fail("db copy", report.status());
  char checksum[17];
  std::snprintf(checksum, sizeof checksum, "%016llx",
                static_cast<unsigned long long>(report->checksum));
  if (args.json) {
    json tables = json::object();
    for (const auto& t : report->tables) tables[t.name] = t.rows;
    print_json({{"from", shown_db(args.from)},
                {"to", shown_db(args.to)},
                {"tables", tables},
                {"checksum", checksum}});
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : report->tables) rows.push_back({t.name, std::to_string(t.rows)});
  std::cout << "copied " << shown_db(args.from) << " to " << shown_db(args.to) << '\n';
  print_table({"TABLE", "ROWS"}, rows);
  std::cout << "checksum " << checksum
            << " (every row and counter, the same read back from the copy)\n";
  return kExitOk;
}

}  // namespace ordo::cli::db
