// The helpers the commands on a database share (db_commands.h).
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
#include "store/postgres/pq.h"  // redacted
#include "time/iso8601.h"
#include "util/printable.h"
#include "views.h"
#include "work_loop.h"

namespace ordo::cli::db {

namespace fs = std::filesystem;

void add_db_option(CLI::App* cmd, DbArgs& args) {
  cmd->add_option("--db", args.db,
                  "The Ordo database: an SQLite file, or a PostgreSQL URL "
                  "(postgresql://user@host/db?schema=NAME)")
      ->required()
      ->type_name("FILE|URL");
}

std::string shown_db(const std::string& db) { return store::pg::redacted(db); }

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

std::string shown(std::string_view text) {
  return util::escape_control(text);
}

// Columns padded to their widest cell; the last column is not padded.
void print_table(const std::vector<std::string>& raw_header,
                 const std::vector<std::vector<std::string>>& raw_rows) {
  // Escaped before measuring, so the columns line up as printed.
  std::vector<std::string> header;
  for (const std::string& cell : raw_header) header.push_back(shown(cell));
  std::vector<std::vector<std::string>> rows;
  for (const auto& raw : raw_rows) {
    rows.emplace_back();
    for (const std::string& cell : raw) rows.back().push_back(shown(cell));
  }
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
                                EngineOptions options) {
  std::error_code ec;
  const bool url = store::pg::is_url(path);
  if (!create && !url && !fs::exists(path, ec)) {
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


}  // namespace ordo::cli::db
