// `ordo replay`: an order log through process variants in virtual time (ordo/sim/replay.h).
#include "replay_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "ordo/adapters/adapters.h"
#include "ordo/sim/replay.h"

namespace ordo::cli {
namespace {

using nlohmann::json;

std::string human(double seconds) {
  char buf[64];
  if (seconds < 1) {
    std::snprintf(buf, sizeof buf, "%.0f ms", seconds * 1000);
  } else if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  } else if (seconds < 3600) {
    std::snprintf(buf, sizeof buf, "%dm %02ds", static_cast<int>(seconds) / 60,
                  static_cast<int>(seconds) % 60);
  } else if (seconds < 86400) {
    std::snprintf(buf, sizeof buf, "%dh %02dm", static_cast<int>(seconds) / 3600,
                  static_cast<int>(seconds) / 60 % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dd %02dh", static_cast<int>(seconds) / 86400,
                  static_cast<int>(seconds) / 3600 % 24);
  }
  return buf;
}

void print_summary(const json& report, std::ostream& out) {
  const json& records = report["records"];
  out << records["read"] << " records read, " << records["replayed"] << " replayed, "
      << records["skipped"] << " skipped";
  const std::int64_t duplicates = records["duplicates"].get<std::int64_t>();
  if (duplicates > 0) {
    out << ", " << duplicates << (duplicates == 1 ? " duplicate" : " duplicates") << " left out";
  }
  out << "\n";
  for (const json& v : report["variants"]) {
    out << "\n" << v["name"].get<std::string>() << " (" << v["file"].get<std::string>() << "): "
        << v["orders"] << " orders\n";
    if (v.contains("notificationRules")) {
      out << "  notification rules: " << v["notificationRules"].get<std::string>() << "\n";
    }
    out << "  end events:\n";
    for (const auto& [name, n] : v["endEvents"].items()) {
      char line[160];
      std::snprintf(line, sizeof line, "    %-28s %8lld\n", name.c_str(),
                    static_cast<long long>(n.get<std::int64_t>()));
      out << line;
    }
    out << "  cycle times (p50 / p90 / p99 / max):\n";
    for (const auto& [name, c] : v["cycleTimes"].items()) {
      char line[200];
      std::snprintf(line, sizeof line, "    %-16s %8lld orders  %s / %s / %s / %s\n", name.c_str(),
                    static_cast<long long>(c["count"].get<std::int64_t>()),
                    human(c["p50"].get<double>()).c_str(), human(c["p90"].get<double>()).c_str(),
                    human(c["p99"].get<double>()).c_str(), human(c["max"].get<double>()).c_str());
      out << line;
    }
    if (!v["rates"].empty()) {
      out << "  rates:\n";
      for (const auto& [name, r] : v["rates"].items()) {
        char line[160];
        if (r["rate"].is_number()) {
          std::snprintf(line, sizeof line, "    %-28s %7.2f%%  (%lld of %lld)\n", name.c_str(),
                        r["rate"].get<double>() * 100,
                        static_cast<long long>(r["numerator"].get<std::int64_t>()),
                        static_cast<long long>(r["denominator"].get<std::int64_t>()));
        } else {
          std::snprintf(line, sizeof line, "    %-28s      n/a  (no order to count)\n",
                        name.c_str());
        }
        out << line;
      }
    }
    const json& n = v["notifications"];
    out << "  notifications: " << n["total"] << " (" << n["perOrder"]["mean"]
        << " per order, " << n["bounced"] << " bounced)";
    for (const auto& [channel, count] : n["byChannel"].items()) out << ", " << channel << " " << count;
    out << "\n";
    // With the notification rules (--notifications): who got them, and what was held back.
    if (!n["bySegment"].empty()) {
      out << "    by segment:";
      for (const auto& [segment, count] : n["bySegment"].items()) out << " " << segment << " " << count;
      out << "\n";
    }
    for (const auto& [experiment, variants] : n["experiments"].items()) {
      out << "    experiment " << experiment << ":";
      for (const auto& [variant, counts] : variants.items()) {
        out << " " << variant << " " << counts["sent"];
      }
      out << "\n";
    }
    if (n["skipped"]["total"] != 0 || n["deferred"] != 0) {
      out << "    not sent (the rules skip them): " << n["skipped"]["total"]
          << "; held back (quiet hours, the cap): " << n["deferred"] << "\n";
    }
    for (const json& s : v["sla"]) {
      char line[200];
      std::snprintf(line, sizeof line, "  SLA %-30s %lld of %lld breached (%.2f%%)\n",
                    s["name"].get<std::string>().c_str(),
                    static_cast<long long>(s["breached"].get<std::int64_t>()),
                    static_cast<long long>(s["applicable"].get<std::int64_t>()),
                    s["breachRate"].is_number() ? s["breachRate"].get<double>() * 100 : 0.0);
      out << line;
    }
    out << "  incidents: " << v["incidents"]["total"] << "\n";
  }
}

// A record repeating an order id was left out: say so, by line, so the order log can be
// mended (the report holds the first 100 too).
void warn_duplicates(const json& report, std::ostream& out) {
  const json& records = report["records"];
  const std::string log = report["orderLog"].get<std::string>();
  for (const json& d : records["duplicateRecords"]) {
    out << "ordo replay: warning: " << log << ":" << d["line"] << ": order id "
        << d["orderId"].dump() << " repeats the order of line " << d["firstLine"]
        << "; this record was left out (the first record of an order is replayed)\n";
  }
  const std::int64_t more = records["duplicates"].get<std::int64_t>() -
                            static_cast<std::int64_t>(records["duplicateRecords"].size());
  if (more > 0) {
    out << "ordo replay: warning: " << more << " more records repeat an order id and were left "
        << "out (the report lists the first 100)\n";
  }
}

bool write_file(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::cout << text;
    return static_cast<bool>(std::cout);
  }
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  return static_cast<bool>(out);
}

}  // namespace

struct ReplayCommand::Args {
  ReplayOptions options;
  std::string json_out;
  std::string report_out;
  std::string chart_scale = "auto";
  std::vector<std::string> notifications;
  bool quiet = false;
};

ReplayCommand::ReplayCommand(CLI::App& app) : args_(std::make_unique<Args>()) {
  Args& a = *args_;
  cmd_ = app.add_subcommand(
      "replay",
      "Replay an order log through one or more process variants in virtual time and report "
      "KPIs");
  cmd_->add_option("processes", a.options.processes,
                   "BPMN files: the variants to compare (the first is the baseline); DMN "
                   "files among them are deployed beside every variant")
      ->required()
      ->check(CLI::ExistingFile);
  // --history: its name before 0.2 (the history is the audit trail of an instance).
  cmd_->add_option("--order-log,--history", a.options.order_log,
                   "The recorded orders: .csv with a header, or .jsonl")
      ->required()
      ->check(CLI::ExistingFile);
  cmd_->add_option("--config", a.options.config_path,
                   "The replay config (JSON): how each task type's simulated adapter answers")
      ->required()
      ->check(CLI::ExistingFile);
  cmd_->add_option("--seed", a.options.seed, "Random seed for distributions and probabilities")
      ->capture_default_str();
  cmd_->add_option("--threads", a.options.threads,
                   "Lanes working in parallel (0: one per core); the results do not depend on it")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  cmd_->add_option("--json", a.json_out, "Write the KPIs as one JSON document to this file (- for stdout)");
  cmd_->add_option("--report", a.report_out, "Write a self-contained HTML report to this file");
  cmd_->add_option("--chart-scale", a.chart_scale,
                   "The report's cycle-time charts: linear, log, or auto (log when the bins "
                   "differ by a factor of 100 or more)")
      ->check(CLI::IsMember({"auto", "linear", "log"}))
      ->capture_default_str();
  cmd_->add_option("--events", a.options.events_path,
                   "Write the event log: OUT.csv or OUT.xes (with several variants, one file each: "
                   "OUT.NAME.csv)");
  cmd_->add_option("--notifications", a.notifications,
                   "An ordo.json whose notification rules (channels, caps, quiet hours, "
                   "segments, A/B variants) the replay applies to its notify and segments "
                   "tasks, in virtual time; nothing is sent. Once for every variant, or once "
                   "per variant in their order, to compare rules")
      ->allow_extra_args(false)  // one file each time: the processes may follow it
      ->check(CLI::ExistingFile);
  cmd_->add_flag("--skip-bad-records", a.options.skip_bad_records,
                 "Leave out orders whose record is malformed or lacks a field the config needs "
                 "(reported), instead of stopping");
  cmd_->add_flag("-q,--quiet", a.quiet, "No progress bar, no warnings and no summary");
  cmd_->footer(
      "Exit status: 0 when the replay ran, 1 when an input has a mistake (a process, the config, "
      "a record without --skip-bad-records) or an output cannot be written, 2 on bad usage. See "
      "docs/simulation.md.");
}

ReplayCommand::~ReplayCommand() = default;

std::optional<int> ReplayCommand::run() const {
  if (!cmd_->parsed()) return std::nullopt;
  Args& a = *args_;
  ReplayOptions options = a.options;
  for (const std::string& file : a.notifications) {
    Result<NotificationRehearsal> rules = load_notification_rehearsal(file);
    if (!rules) {
      std::cerr << "ordo replay: --notifications: " << rules.status().message() << "\n";
      return 1;
    }
    options.notifications.push_back(rules->for_replay());
  }
  const bool bar = !a.quiet && ::isatty(STDERR_FILENO) == 1;
  const auto began = std::chrono::steady_clock::now();
  if (bar) {
    options.progress = [began](std::uint64_t done, std::uint64_t total) {
      const double share = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
      const int width = 40;
      const int filled = static_cast<int>(share * width);
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
      std::fprintf(stderr, "\r[%.*s%*s] %3d%%  %.1f s", filled,
                   "########################################", width - filled, "",
                   static_cast<int>(share * 100), secs);
      if (done >= total) std::fprintf(stderr, "\n");
      std::fflush(stderr);
    };
  }
  Result<ReplayResult> result = replay(options);
  if (!result) {
    std::cerr << "ordo replay: " << result.status().message() << "\n";
    return 1;
  }
  if (!a.json_out.empty() && !write_file(a.json_out, result->report.dump(2) + "\n")) {
    std::cerr << "ordo replay: cannot write " << a.json_out << "\n";
    return 1;
  }
  if (!a.report_out.empty() &&
      !write_file(a.report_out,
                  render_replay_html(result->report, result->documents,
                                     {a.chart_scale == "log"      ? ReplayReportOptions::Scale::kLog
                                      : a.chart_scale == "linear" ? ReplayReportOptions::Scale::kLinear
                                                                  : ReplayReportOptions::Scale::kAuto}))) {
    std::cerr << "ordo replay: cannot write " << a.report_out << "\n";
    return 1;
  }
  if (!a.quiet) warn_duplicates(result->report, std::cerr);
  if (!a.quiet && a.json_out != "-") print_summary(result->report, std::cout);
  return 0;
}

}  // namespace ordo::cli
