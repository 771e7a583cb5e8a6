// The commands that work on an Ordo database: see store_commands.h and docs/cli.md.
//
// Each command opens the database with Engine::open, does one thing through the public API
// and prints the result, as text for people or, with --json, as one JSON document.
// Exit codes as everywhere in ordo: 0 success, 1 the work found errors (a database that is
// refused, an unknown instance or incident, ...), 2 bad usage (CLI11 reports it).
#include "store_commands.h"

#include <string>

#include "db_commands.h"

namespace ordo::cli {

using namespace db;  // the commands and their arguments

struct StoreCommands::Impl {
  DeployArgs deploy;
  StartArgs start;
  CorrelateArgs correlate;
  SignalArgs signal;
  MigrateArgs migrate;
  JobAnswerArgs job_complete, job_fail, job_error, job_escalate;
  InstancesArgs instances;
  ShowArgs show;
  DbArgs incidents;
  RetryArgs retry;
  CancelArgs cancel;
  WorkerArgs worker;
  BackupArgs backup;
  DeliveriesArgs deliveries;
  CopyArgs copy;
  CLI::App* deploy_cmd = nullptr;
  CLI::App* start_cmd = nullptr;
  CLI::App* correlate_cmd = nullptr;
  CLI::App* signal_cmd = nullptr;
  CLI::App* migrate_cmd = nullptr;
  CLI::App* job_complete_cmd = nullptr;
  CLI::App* job_fail_cmd = nullptr;
  CLI::App* job_error_cmd = nullptr;
  CLI::App* job_escalate_cmd = nullptr;
  CLI::App* instances_cmd = nullptr;
  CLI::App* show_cmd = nullptr;
  CLI::App* incidents_cmd = nullptr;
  CLI::App* retry_cmd = nullptr;
  CLI::App* cancel_cmd = nullptr;
  CLI::App* worker_cmd = nullptr;
  CLI::App* backup_cmd = nullptr;
  CLI::App* deliveries_cmd = nullptr;
  CLI::App* copy_cmd = nullptr;
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
    CLI::App* c = m.signal_cmd = app.add_subcommand(
        "signal", "Broadcast a signal to every instance waiting for it, in every process");
    add_db_option(c, m.signal);
    c->add_option("name", m.signal.name, "Signal name")->required();
    c->add_option("--vars", m.signal.vars, "Signal variables, a JSON object")
        ->check(json_object())
        ->type_name("JSON");
    add_json_flag(c, m.signal, "name, instances");
    c->footer(
        "Every signal catch, boundary and event-subprocess start waiting for it fires, and each "
        "process with a signal start event of that name starts. Nothing is kept: an instance "
        "that waits for it later waits on.\n" +
        exit_status + "broadcasting fails, 2 on bad usage.");
  }
  {
    CLI::App* c = m.migrate_cmd = app.add_subcommand(
        "migrate", "Move running instances to another version of their process");
    add_db_option(c, m.migrate);
    c->add_option("process-id", m.migrate.process_id, "The process id")->required();
    c->add_option("--from", m.migrate.from, "The version the instances run now")
        ->required()
        ->check(CLI::PositiveNumber);
    c->add_option("--to", m.migrate.to, "The version they move to (default: the latest)")
        ->check(CLI::PositiveNumber);
    c->add_option("--map", m.migrate.maps,
                  "SOURCE=TARGET: a token at element SOURCE moves to TARGET (repeatable); other "
                  "elements move to the element of the same id")
        ->type_name("SOURCE=TARGET");
    c->add_flag("--only-mapped", m.migrate.only_mapped,
                "Map only the --map pairs, not the elements of the same id");
    c->add_flag("--reschedule-timers", m.migrate.reschedule_timers,
                "Schedule the timers of mapped events again from now, as the target says "
                "(default: they keep their due time)");
    c->add_option("--instance", m.migrate.instances,
                  "Only this instance (repeatable); default: every running instance of the "
                  "source version")
        ->check(CLI::PositiveNumber);
    c->add_option("--key-prefix", m.migrate.key_prefix,
                  "Only instances whose business key starts so");
    c->add_option("--limit", m.migrate.limit, "At most this many instances, oldest first")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    c->add_flag("--dry-run", m.migrate.dry_run,
                "Say what would happen to each instance; change nothing");
    add_json_flag(c, m.migrate,
                  "the report (processId, sourceVersion, targetVersion, dryRun, migrated, "
                  "refused, instances)");
    c->footer(
        "The plan is checked before anything moves; then each instance moves in one "
        "transaction, or stays as it was and the report says why. See docs/operations.md.\n" +
        exit_status + "the plan cannot work or an instance stays, 2 on bad usage.");
  }
  {
    CLI::App* job = app.add_subcommand(
        "job", "Answer a job by hand, as its worker would: complete, fail, error, escalate");
    job->require_subcommand(1);
    auto common = [&](CLI::App* c, JobAnswerArgs& a) {
      add_db_option(c, a);
      c->add_option("key", a.key, "Job key (ordo show lists an instance's jobs)")
          ->required()
          ->check(CLI::PositiveNumber);
      add_json_flag(c, a, "job and answer");
    };
    auto vars = [](CLI::App* c, JobAnswerArgs& a, const char* what) {
      c->add_option("--vars", a.vars, what)->check(json_object())->type_name("JSON");
    };
    CLI::App* c = m.job_complete_cmd = job->add_subcommand("complete", "Complete a job");
    common(c, m.job_complete);
    vars(c, m.job_complete, "The job's result: variables, a JSON object");
    c->footer(exit_status + "there is no such open job, 2 on bad usage.");
    c = m.job_fail_cmd = job->add_subcommand("fail", "Fail a job: it is retried, or an incident");
    common(c, m.job_fail);
    c->add_option("--message", m.job_fail.message, "What went wrong")->required();
    c->add_option("--retries", m.job_fail.retries,
                  "Retries left from now on (0: an incident at once; default: one less)")
        ->check(CLI::NonNegativeNumber);
    c->footer(exit_status + "there is no such open job, 2 on bad usage.");
    c = m.job_error_cmd = job->add_subcommand(
        "error", "Throw a BPMN error from the job's task (an error boundary event catches it)");
    common(c, m.job_error);
    c->add_option("code", m.job_error.code, "The error code")->required();
    c->add_option("--message", m.job_error.message, "Why");
    vars(c, m.job_error, "Variables set where it is caught, a JSON object");
    c->footer("Uncaught, it becomes an incident.\n" + exit_status +
              "there is no such open job, 2 on bad usage.");
    c = m.job_escalate_cmd = job->add_subcommand(
        "escalate", "Throw a BPMN escalation from the job's task; the job stays open unless an "
                    "interrupting catch ends the task");
    common(c, m.job_escalate);
    c->add_option("code", m.job_escalate.code, "The escalation code")->required();
    vars(c, m.job_escalate, "Variables set where it is caught, a JSON object");
    c->footer(exit_status + "there is no such open job, 2 on bad usage.");
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
    c->add_flag("--report", m.deliveries.report,
                "The A/B experiments' results: per variant and segment, messages sent, "
                "delivered, opened, clicked and orders that reached the outcome, with 95% "
                "intervals, and which variant is better on which KPI");
    c->add_option("--db", m.deliveries.db,
                  "--report: the orders' database, where the outcomes are looked up");
    c->add_option("--outcome", m.deliveries.outcomes,
                  "--report: EXPERIMENT=ELEMENT, the element whose completion after the "
                  "message counts as the order's success (notifications.experiments.*.outcome; "
                  "repeatable)");
    c->footer("See docs/notifications.md and docs/engagement.md.\n" + exit_status +
              "the log is missing or unreadable, 2 on bad usage.");
  }
  {
    CLI::App* db = app.add_subcommand("db", "Work on a whole Ordo database");
    db->require_subcommand(1);
    CLI::App* c = m.copy_cmd = db->add_subcommand(
        "copy", "Copy a whole database to an empty one: SQLite to PostgreSQL, or back");
    c->add_option("from", m.copy.from, "The database to copy: a file or a postgresql:// URL")
        ->required();
    c->add_option("to", m.copy.to,
                  "An empty database (a new file, or a schema with no rows; ?schema=NAME "
                  "names it)")
        ->required();
    c->add_flag("--json", m.copy.json, "Print from, to, rows per table and the checksum as JSON");
    c->footer(
        "Deployments, instances where they wait, jobs, timers, buffered messages, incidents, "
        "history and the delivery log are copied in one transaction, read back and compared "
        "(rows and a checksum per table) before it commits: a failed copy leaves TO as it "
        "was. Stop the engines that use FROM first, or what they do afterwards is not in the "
        "copy. See docs/operations.md.\n" +
        exit_status + "FROM cannot be read, TO is not empty, or the copy differs; 2 on bad "
                      "usage.");
  }
}

StoreCommands::~StoreCommands() = default;

std::optional<int> StoreCommands::run() const {
  const Impl& m = *impl_;
  if (m.deploy_cmd->parsed()) return run_deploy(m.deploy);
  if (m.start_cmd->parsed()) return run_start(m.start);
  if (m.correlate_cmd->parsed()) return run_correlate(m.correlate);
  if (m.signal_cmd->parsed()) return run_signal(m.signal);
  if (m.migrate_cmd->parsed()) return run_migrate(m.migrate);
  if (m.job_complete_cmd->parsed()) return run_job_answer("complete", m.job_complete);
  if (m.job_fail_cmd->parsed()) return run_job_answer("fail", m.job_fail);
  if (m.job_error_cmd->parsed()) return run_job_answer("error", m.job_error);
  if (m.job_escalate_cmd->parsed()) return run_job_answer("escalate", m.job_escalate);
  if (m.instances_cmd->parsed()) return run_instances(m.instances);
  if (m.show_cmd->parsed()) return run_show(m.show);
  if (m.incidents_cmd->parsed()) return run_incidents(m.incidents);
  if (m.retry_cmd->parsed()) return run_retry(m.retry);
  if (m.cancel_cmd->parsed()) return run_cancel(m.cancel);
  if (m.worker_cmd->parsed()) return run_worker(m.worker);
  if (m.backup_cmd->parsed()) return run_backup(m.backup);
  if (m.deliveries_cmd->parsed()) return run_deliveries(m.deliveries);
  if (m.copy_cmd->parsed()) return run_copy(m.copy);
  return std::nullopt;
}

}  // namespace ordo::cli
