// What the commands on an Ordo database share (store_commands.cc registers them): their
// arguments, the helpers that open a database and print results, and the commands.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/ordo.h"

namespace ordo::cli::db {

using nlohmann::json;

constexpr int kExitOk = 0;
constexpr int kExitFound = 1;
constexpr int kExitUsage = 2;

struct DbArgs {
  std::string db;
  bool json = false;
};

void add_db_option(CLI::App* cmd, DbArgs& args);
// --db as it may be printed: a PostgreSQL URL without its password.
std::string shown_db(const std::string& db);
void add_json_flag(CLI::App* cmd, DbArgs& args, const std::string& what);
CLI::Validator json_object();
json parse_object(const std::string& text);
CLI::Validator iso_duration();
std::string when(std::int64_t ms);
json when_json(std::int64_t ms);
void print_json(const json& j);
std::string dump(const json& j);
// Columns padded to their widest cell. Cells are printed with their control characters
// escaped (shown()): they hold what the database or a client supplied.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);
// Text the database or a client supplied, safe to print on a terminal: control characters
// escaped (an escape character as \x1b, a newline as \n; util/printable.h).
std::string shown(std::string_view text);
// Opens the database, printing "ordo CMD: <why>" when it cannot. Only `deploy` creates a
// database: on a missing file every other command is a mistake (a typo in the path).
std::unique_ptr<Engine> open_db(const std::string& cmd, const std::string& path, bool create,
                                EngineOptions options = {});
// Prints "ordo CMD: <message>" and returns the exit status for it.
int fail(const std::string& cmd, const Status& status);
const std::map<std::string, InstanceState>& instance_states();
std::string instance_list(const std::vector<InstanceId>& ids);
json incident_json(const IncidentInfo& i);

struct DeployArgs : DbArgs {
  std::vector<std::string> files;
};

struct StartArgs : DbArgs {
  std::string process_id;
  std::string vars;
  std::string key;
  int version = 0;
};

struct CorrelateArgs : DbArgs {
  std::string name;
  std::string key;
  std::string vars;
  std::string ttl;
  std::string message_id;
};

struct SignalArgs : DbArgs {
  std::string name;
  std::string vars;
};

struct InstancesArgs : DbArgs {
  std::string state;
  std::string process_id;
  int limit = 1000;
};

struct ShowArgs : DbArgs {
  InstanceId id = 0;
};

struct RetryArgs : DbArgs {
  IncidentKey key = 0;
  int retries = 1;
  std::string vars;
};

struct CancelArgs : DbArgs {
  InstanceId id = 0;
};

// ordo job complete|fail|error|escalate: answering a job by hand.
struct JobAnswerArgs : DbArgs {
  std::uint64_t key = 0;
  std::string code;
  std::string message;
  std::string vars;
  int retries = -1;
};

struct MigrateArgs : DbArgs {
  std::string process_id;
  int from = 0;
  int to = 0;
  std::vector<std::string> maps;  // SOURCE=TARGET
  bool only_mapped = false;
  bool reschedule_timers = false;
  std::vector<std::uint64_t> instances;
  std::string key_prefix;
  int limit = 1000;
  bool dry_run = false;
};

struct WorkerArgs : DbArgs {
  int threads = 2;
  bool until_idle = false;
  int group_commit = 64;
  std::string config;
  bool simulate = false;
};

struct BackupArgs : DbArgs {
  std::string dest;
  bool force = false;
};

struct CopyArgs {
  std::string from;
  std::string to;
  bool json = false;
};

struct DeliveriesArgs {
  std::string log;
  std::string order;
  bool json = false;
  // --report: the experiments' results instead of the attempts; outcomes from `db`.
  bool report = false;
  std::string db;
  std::vector<std::string> outcomes;  // EXPERIMENT=ELEMENT
};

int run_deploy(const DeployArgs& args);
int run_start(const StartArgs& args);
int run_correlate(const CorrelateArgs& args);
int run_signal(const SignalArgs& args);
int run_migrate(const MigrateArgs& args);
// `how`: "complete", "fail", "error" or "escalate".
int run_job_answer(const std::string& how, const JobAnswerArgs& args);
int run_instances(const InstancesArgs& args);
int run_show(const ShowArgs& args);
int run_incidents(const DbArgs& args);
int run_retry(const RetryArgs& args);
int run_cancel(const CancelArgs& args);
int run_worker(const WorkerArgs& args);
int run_backup(const BackupArgs& args);
int run_deliveries(const DeliveriesArgs& args);
int run_copy(const CopyArgs& args);

}  // namespace ordo::cli::db
