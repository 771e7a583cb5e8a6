// Conformance checking: does an event log of what really happened fit a process?
//
// Token-based replay (Rozinat & van der Aalst, as PM4Py's token replay does it). The process
// becomes a Petri net: sequence flows are places, activities and the events the log records
// are visible transitions, gateways are silent ones (docs/conformance.md lists the mapping and
// its approximations). Each case of the log is replayed on that net from one token in the
// source place; a transition whose input is empty gets the token it lacks ("missing"), tokens
// left at the end are "remaining". From the produced (p), consumed (c), missing (m) and
// remaining (r) tokens:
//
//   fitness = 0.5 * (1 - m / c) + 0.5 * (1 - r / p)
//
// per case, and over the whole log from the summed counts. A case fits when m = r = 0.
//
// Thread-safe: calls share no state; a definition may be checked from several threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/definition.h"
#include "ordo/sim/order_log.h"
#include "ordo/status.h"

namespace ordo {

struct ConformanceOptions {
  // The column naming the case (trace) of each event.
  std::string case_column = "case_id";
  // The column with the activity: an element id or name, matched exactly (ids first).
  std::string activity_column = "activity";
  // When a row has this column (non-empty), it is matched instead of `activity_column`
  // (`ordo replay --events` writes both). Empty: not used.
  std::string activity_id_column = "activity_id";
  // The column with the event's ISO 8601 date-time. Empty: `timestamp`, else `end_time`,
  // else `start_time`, whichever the row has first.
  std::string time_column;
  // When a row has this column, only rows whose value is "complete" are replayed: an activity
  // still "active" at the log's end, or "terminated" by a boundary event, did not happen (as
  // `ordo replay --events` writes them). The others count as ignored. Empty: not used.
  std::string lifecycle_column = "lifecycle";
  // Names the log in messages: "<log_name>:<line>: ...".
  std::string log_name = "log";
  // Bounds of the search for silent steps that enable a transition: at most this many silent
  // transitions in a row, and this many markings looked at per search.
  std::size_t max_silent_steps = 32;
  std::size_t max_search_markings = 20000;
};

// A token a transition needed and did not find.
struct MissingToken {
  std::string place;      // the place's name: a flow id, or e.g. "sink", "running:take-payment"
  std::string flow;       // the sequence flow id when the place is a flow, else empty
  std::string before;     // the element that needed it; for an unknown activity, the log's text
  std::size_t event = 0;  // 1-based position of the event in the case; 0: at the case's end
  std::int64_t line = 0;  // the event's line in the log; 0 at the case's end
  bool unknown_activity = false;  // the event names nothing in the process
};

// Tokens left in one place after the case ended.
struct RemainingToken {
  std::string place;
  std::string flow;  // as in MissingToken
  std::int64_t count = 0;
};

struct UnknownActivity {
  std::string activity;  // as the log wrote it
  std::size_t event = 0;
  std::int64_t line = 0;
};

struct TokenCounts {
  std::int64_t produced = 0;
  std::int64_t consumed = 0;
  std::int64_t missing = 0;
  std::int64_t remaining = 0;
};

// 0.5 * (1 - m/c) + 0.5 * (1 - r/p); a term whose denominator is 0 counts as 1.
double token_fitness(const TokenCounts& tokens) noexcept;

struct CaseConformance {
  std::string case_id;
  std::size_t events = 0;   // rows of the log for this case
  std::size_t ignored = 0;  // of those, events not replayed: not complete (lifecycle), or
                            // naming subprocesses, gateways, event subprocesses, compensation
  TokenCounts tokens;
  double fitness = 1.0;
  std::vector<MissingToken> missing;      // in replay order; one entry per missing token
  std::vector<RemainingToken> remaining;  // in place order
  std::vector<UnknownActivity> unknown_activities;

  bool fits() const noexcept { return tokens.missing == 0 && tokens.remaining == 0; }
};

struct ConformanceReport {
  std::string process;                 // the process id
  std::string log;                     // ConformanceOptions::log_name
  std::vector<CaseConformance> cases;  // in order of first appearance in the log
  std::size_t fitting_cases = 0;
  TokenCounts tokens;    // summed over all cases
  double fitness = 1.0;  // token_fitness(tokens): PM4Py's "log fitness"
};

// Reads the whole `log` (one event per record: case, activity, time; see ConformanceOptions),
// groups the events by case, orders each case by time (stably: equal times keep log order)
// and replays every case on the Petri net of `process`.
//
// Errors: kInvalidArgument when a record is malformed (as OrderLogReader reports it) or lacks
// the case, the activity or the time, or its time is not an ISO 8601 date-time with an offset;
// the message lists every such record as "<log_name>:<line>: ..." (one per line, at most 20).
// kIoError when reading fails. Events naming no element are not errors: they are deviations
// of their case (unknown_activities). `process` must stay alive during the call only.
Result<ConformanceReport> check_conformance(const ProcessDefinition& process, OrderLogReader& log,
                                            const ConformanceOptions& options = {});

// {"process", "log", "cases", "fittingCases", "fitness", "tokens": {"produced", "consumed",
// "missing", "remaining"}, "caseResults": [{"case", "fits", "fitness", "events", "ignored",
// "tokens", "missing": [{"place", "flow"?, "before"?, "event", "line"?, "unknownActivity"?}],
// "remaining": [{"place", "flow"?, "count"}], "unknownActivities": [{"activity", "event",
// "line"}]}]}. Keys are stable.
nlohmann::json to_json(const ConformanceReport& report);

}  // namespace ordo
