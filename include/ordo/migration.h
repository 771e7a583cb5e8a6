// Migrating running instances to another version of their process (Engine::migrate).
//
// A plan maps the elements of the source version to those of the target version: each
// element to the element of the same id, unless the plan pairs it with another (or says
// map_by_id = false, and then only the pairs count). Before anything moves, the plan is
// checked as a whole (each pair names elements that exist, of the same kind, whose scopes
// map onto each other), then each instance: every element where it has a token must be
// mapped, a multi-instance activity must stay one, a waiting join must keep its incoming
// flows. An instance migrates in one transaction, or not at all.
//
// What moves with it: its tokens (element instances), jobs (same key; the type follows the
// target's task when it is fixed text), incidents, variables, message subscriptions and
// timers of mapped events (timers keep their due time unless reschedule_timers), and its
// compensation records. Waits of events the target no longer has are dropped; boundary
// events and event-subprocess starts the target adds are armed. The history records the
// migration (instance-migrated, and element-migrated per token).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/history.h"
#include "ordo/instance_filter.h"

namespace ordo {

struct MigrationPlan {
  std::string process_id;
  int source_version = 0;  // the version the instances run now (required)
  int target_version = 0;  // 0: the latest
  // Explicit pairs (source element id, target element id); they win over ids.
  std::vector<std::pair<std::string, std::string>> mappings;
  // Elements not in `mappings` map to the target element of the same id.
  bool map_by_id = true;
  // Timers of mapped events are scheduled again from the migration on, as the target says;
  // by default they keep their due time.
  bool reschedule_timers = false;
};

struct MigrationRequest {
  MigrationPlan plan;
  // These instances; when empty, the running instances of the source version that
  // `filter` selects (its process and version are the plan's), up to filter.limit.
  std::vector<InstanceId> instances;
  InstanceFilter filter;
  // Says what would happen to each instance, and changes nothing.
  bool dry_run = false;
};

struct InstanceMigration {
  InstanceId instance = 0;
  bool migrated = false;  // done (or, in a dry run, possible)
  std::string problem;    // why not, when not
  // Tokens that move to another element id ("check-stock -> check-stock-2"); tokens that
  // keep their id are counted in `tokens`.
  std::vector<std::string> moves;
  std::size_t tokens = 0;
  // Waits dropped, created and kept, jobs retyped, compensations forgotten, in words.
  std::vector<std::string> notes;
  // Where it would wait for ever on the target: a parallel join downstream of its tokens
  // with an incoming flow that none of them can reach (a branch the target added before
  // where the instance is). It migrates all the same; a dry run is the time to look.
  std::vector<std::string> stuck;
  // A dry run replays the instance's history (since its last migration, if any) on the
  // target: the flows it took and the activities it completed that the target does not
  // have the same way ("took flow 'f2' (a -> b), which version 2 does not have"). Its
  // figures and compensations then refer to a path the target cannot take.
  std::vector<std::string> history;
};

struct MigrationReport {
  std::string process_id;
  int source_version = 0;
  int target_version = 0;
  bool dry_run = false;
  std::vector<InstanceMigration> instances;  // in the order they were taken
  std::size_t migrated = 0;                  // (or would be, in a dry run)
  std::size_t refused = 0;
};

// {"processId", "sourceVersion", "targetVersion", "dryRun", "migrated", "refused",
// "instances": [{"id", "migrated", "problem"?, "moves", "tokens", "notes", "stuck",
// "history"}]}. Keys are stable
// (ordo migrate --json, POST /v1/migrations).
nlohmann::json to_json(const MigrationReport& report);

}  // namespace ordo
