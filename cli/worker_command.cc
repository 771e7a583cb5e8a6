// ordo worker: the job executor over a database, with the adapters of ordo.json.
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

// ---- worker ----


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
    const std::string effects = SimulatedWorld::effects_log_for(args.db);
    if (Status s = world->open_effects_log(effects); !s) return fail("worker", s);
    if (args.simulate) engine->set_fallback_handler(world->handler());
    for (const std::string& type : config.simulated) engine->register_handler(type, world->handler());
  }
  for (auto& [type, handler] : config.handlers) engine->register_handler(type, handler);
  config.attach(*engine);
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

}  // namespace ordo::cli::db
