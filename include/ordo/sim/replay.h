// Replay: historical orders through one or more process variants, on virtual clocks, with
// simulated adapters that answer from each order's recorded outcomes (or from seeded
// probabilities in what-if runs). `ordo replay` is built on this; docs/simulation.md is the
// user's guide.
//
// The replay runs the production runtime (Engine) with a VirtualClock and pending task
// handlers: a job is answered when its simulated latency has passed in virtual time. Orders
// are spread over `threads` lanes, each with its own engines; orders do not share state, so
// the outputs do not depend on how many lanes there are: the same order log, config and seed
// give the same bytes.
//
// The report (ReplayResult::report, what `--json` writes) has stable keys; every duration is
// in seconds (a number with millisecond precision):
//
// {
//   "ordoReplay": 1,                       // the format's version
//   "orderLog": "orders.csv", "seed": 1,
//   "records": {"read": 201, "replayed": 198, "skipped": 2,
//               "skippedRecords": [{"line": 7, "message": "..."}],    // the first 100 by line
//               "duplicates": 1,                // records repeating an earlier order id: left
//                                               // out, the first record of an order replayed
//               "duplicateRecords": [{"line": 9, "orderId": "A-1", "firstLine": 3}]},
//                                               // the first 100 by line
//   "variants": [{
//     "name": "order-acceptance",          // the BPMN file's stem
//     "file": "processes/order-acceptance.bpmn",
//     "process": "order-acceptance", "processName": "Order acceptance",
//     "notificationRules": "ordo.json",    // with the notification rules only
//     "orders": 198,                       // orders replayed through this variant
//     "endEvents": {"end-delivered": 150, "(waiting)": 2, "(incident)": 1},
//     "cycleTimes": {                      // "end" (order to any end event) and one per
//                                          // milestone, keys in name order
//       "end": {"count": 180, "mean": 9.5, "p50": 1, "p90": 2, "p95": 3, "p99": 4, "max": 5,
//               "histogram": [{"upTo": 60, "count": 3}, ..., {"upTo": null, "count": 0}]},
//       "confirmation": {...}, "shipping": {...}},
//     "activities": [{"id": "check-availability", "name": "Check availability",
//                     "kind": "serviceTask", "adapter": "erp.check-availability",
//                     "count": 198, "orders": 198,   // completed runs; orders passing it
//                     "waiting": {"mean": 0, "p50": 0, "p90": 0, "max": 0},
//                     "processing": {"mean": 2, "p50": 2, "p90": 2, "max": 2}}],
//     "elements": {"check-availability": 198, ...},   // orders that passed each flow node
//     "flows": {"f-start": 198, ...},                  // orders that took each sequence flow
//     "traces": [{"path": ["order-received", "check-availability", ...],
//                 "count": 150, "share": 0.7576}],     // most frequent first
//     "rates": {"availability": {"numerator": 178, "denominator": 198, "rate": 0.899}},
//                                          // rate (and SLA breachRate) null when nothing counts
//     "notifications": {"total": 500, "byChannel": {"email": 400}, "byTemplate": {...},
//                       "byChannelAndTemplate": {"email": {"order-confirmation": 150}},
//                       "bounced": 3,
//                       "perOrder": {"mean": 2.5, "max": 4, "histogram": {"0": 2, "1": 20}},
//                       // with the notification rules (ReplayOptions::notifications), else
//                       // empty / 0: sent by segment and by experiment variant, not sent,
//                       // held back (quiet hours, the cap; each time)
//                       "bySegment": {"new": 120, "active": 300},
//                       "experiments": {"shipped-copy": {"control": {"sent": 60,
//                                                        "bySegment": {"new": 20}}}},
//                       "skipped": {"total": 4, "bySegment": {"active": 4},
//                                   "byTemplate": {"order-delivered": 4}},
//                       "deferred": 7},
//     "sla": [{"name": "confirmation within 1h", "milestone": "confirmation", "target": 3600,
//              "applicable": 170, "met": 165, "breached": 5, "breachRate": 0.0294}],
//     "incidents": {"total": 1, "byType": {"job-no-retries": 1},
//                   "byElement": {"ship-order": 1}}
//   }]
// }
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/definition.h"
#include "ordo/status.h"
#include "ordo/task_handler.h"

namespace ordo {

class Engine;

// A delivery the notification rules recorded for an order (ReplayNotifications).
struct ReplayDelivery {
  std::string message;  // the template's id (order-shipped)
  std::string channel;
  std::string status;  // "sent", "skipped", "deferred"; others are not counted
  std::string segment, experiment, variant;
};

// The real notification rules in a replay (`ordo replay --notifications`): handlers that
// answer some job types at once, on the variant's engine, in place of the replay config's
// simulated adapters, and the deliveries they recorded for an order, read when it ends.
struct ReplayNotificationHandlers {
  std::map<std::string, TaskHandler> handlers;  // by job type
  std::function<Result<std::vector<ReplayDelivery>>(std::string_view order_id)> deliveries;
  // Forgets an order the replay left out (a bad record), as if it had never started.
  std::function<Status(std::string_view order_id)> forget_order;
  std::shared_ptr<void> keep;  // what the handlers need kept alive
};
struct ReplayNotifications {
  std::string source;                  // where they come from (the report names it)
  std::vector<std::string> job_types;  // the config needs no entry for them
  // Who the rules take an order's customer to be, from its start variables (empty: the
  // order is its own customer). Each customer's orders must share a lane (one delivery
  // log): an order whose customer the partition field does not name is a bad record.
  std::function<std::string(const nlohmann::json& variables)> customer;
  // Called once per variant and lane, each with a state of its own (its delivery log):
  // lanes hold disjoint customers, so caps, segments and variants per customer come out the
  // same whatever the threads. `engine` evaluates deployed decisions.
  std::function<Result<ReplayNotificationHandlers>(const Engine& engine)> make;
};

struct ReplayOptions {
  // BPMN files, one variant each (the first is the baseline the report compares against).
  // A file whose name ends in .dmn is no variant: its decisions are deployed beside every
  // variant, for their business rule tasks to call.
  std::vector<std::string> processes;
  // The order log: CSV with a header, or JSON Lines (ordo/sim/order_log.h).
  std::string order_log;
  // The replay config (docs/simulation.md#the-replay-config): a file, or the JSON itself
  // when `config_path` is empty.
  std::string config_path;
  nlohmann::json config;
  std::uint64_t seed = 1;
  int threads = 1;  // lanes; 0: one per core
  // A record that is malformed or lacks a field the config needs: false stops the run (the
  // error names the record's line), true skips the order and reports it.
  bool skip_bad_records = false;
  // The event log: a .csv or .xes file; empty: none. With several variants each gets its
  // own file, the variant's name inserted before the extension (events.order-acceptance.csv).
  std::string events_path;
  // The notification rules to apply: none (the config's tasks count the notifications),
  // one set for every variant, or one for each variant, in their order (to compare rules).
  // Orders are then started with their id as the business key, which is the order the
  // rules' delivery log records.
  std::vector<ReplayNotifications> notifications;
  // Called now and then from the reading thread with the bytes of the order log read so far and
  // the file's size (for a progress bar).
  std::function<void(std::uint64_t read, std::uint64_t total)> progress;
};

struct ReplayResult {
  nlohmann::json report;                 // as above
  std::vector<std::string> event_files;  // written
  // The loaded variants, in the order of ReplayOptions::processes (for the HTML report).
  std::vector<std::shared_ptr<const BpmnDocument>> documents;
};

// Runs the replay. Errors: a process that does not load (its diagnostics), a config mistake
// (naming its key), a bad record when not skipping (naming its line), an unwritable output.
Result<ReplayResult> replay(const ReplayOptions& options);

// The report as one self-contained HTML file (inline SVG and CSS, no scripts or fonts from
// the network): the KPIs, cycle-time charts, and each variant's diagram (from its BPMN
// diagram interchange) with every element coloured and labelled by how many orders passed
// it; with several variants, side by side with the differences to the first highlighted.
// `documents` are the variants' documents, in the report's order (ReplayResult::documents).
// With several variants a headline names, for each, the KPIs on which it is clearly better or
// worse than the first (the difference with its 95% interval).
struct ReplayReportOptions {
  // The cycle-time charts' y axis: kAuto is logarithmic when the tallest bar is 100 times
  // the lowest non-empty one or more.
  enum class Scale : std::uint8_t { kAuto, kLinear, kLog } chart_scale = Scale::kAuto;
};
std::string render_replay_html(const nlohmann::json& report,
                               const std::vector<std::shared_ptr<const BpmnDocument>>& documents,
                               const ReplayReportOptions& options = {});

}  // namespace ordo
