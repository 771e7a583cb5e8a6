#include "serve_command.h"

#include <iostream>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "http_server.h"
#include "job_types.h"
#include "logging.h"
#include "ordo/adapters/adapters.h"
#include "ordo/adapters/queues.h"
#include "ordo/sim/simulation.h"
#include "ordo/ordo.h"
#include "work_loop.h"

namespace ordo::cli {
namespace {

// An observer on the engine for as long as this lives (declare it after the observer).
class Observing {
 public:
  Observing(Engine& engine, Observer& observer) : engine_(engine), observer_(observer) {
    engine_.add_observer(&observer_);
  }
  ~Observing() { engine_.remove_observer(&observer_); }
  Observing(const Observing&) = delete;
  Observing& operator=(const Observing&) = delete;

 private:
  Engine& engine_;
  Observer& observer_;
};

}  // namespace

struct ServeCommand::Args {
  std::string db;
  std::string config;
  std::string listen = "127.0.0.1:8080";
  int threads = 2;
  std::string log_format = "text";
  bool simulate = false;
};

ServeCommand::ServeCommand(CLI::App& app) : args_(std::make_unique<Args>()) {
  cmd_ = app.add_subcommand("serve", "Serve the HTTP API over a database, and work its jobs");
  cmd_->add_option("--db", args_->db,
                   "The Ordo database, created when missing: an SQLite file, or a PostgreSQL URL "
                   "(postgresql://user@host/db?schema=NAME) that several servers may share")
      ->required();
  cmd_->add_option("--config", args_->config,
                   "ordo.json: adapters, notifications and the server section (tokens, limits)")
      ->type_name("FILE");
  cmd_->add_option("--listen", args_->listen, "HOST:PORT to listen on (port 0: any free one)")
      ->capture_default_str();
  cmd_->add_option("--threads", args_->threads, "Handler threads of the worker")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd_->add_flag("--simulate", args_->simulate,
                 "Answer the job types no adapter handles with the simulated order world "
                 "(ordo run's answers, docs/running-orders.md) on the system clock: for trying "
                 "a process, never for real orders");
  cmd_->add_option("--log-format", args_->log_format,
                   "text (for people) or json (one object per line, for log collectors)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  cmd_->footer(
      "The API is documented in docs/http-api.md; the config's queues section (RabbitMQ "
      "consumers and the event publisher) in docs/queues.md. Without tokens in the config's "
      "server section the server only listens on loopback. SIGINT or SIGTERM stop it: no new "
      "requests, the ones in flight answered, jobs in flight finished or released.\nExit "
      "status: 0 after a stop, 1 when the database, the config or the address cannot be "
      "used, 2 on bad usage.\nNothing is simulated unless --simulate says so (or a type's "
      "adapter is \"simulated\"): a job whose type has no adapter waits for an external worker, "
      "and each such type is logged once and listed by /health/ready.");
}

ServeCommand::~ServeCommand() = default;

std::optional<int> ServeCommand::run() const {
  if (!cmd_->parsed()) return std::nullopt;
  const Args& a = *args_;
  const bool json_logs = a.log_format == "json";
  server::set_log_format(json_logs ? server::LogFormat::kJson : server::LogFormat::kText);
  // What people read on the terminal; with JSON logs, a log line like any other.
  const auto say = [json_logs](const std::string& line) {
    if (json_logs) {
      spdlog::info(line);
    } else {
      std::cout << line << std::endl;
    }
  };
  const auto fail = [json_logs](const std::string& why) {
    if (json_logs) {
      spdlog::error("ordo serve: " + why);
    } else {
      std::cerr << "ordo serve: " << why << '\n';
    }
    return 1;
  };
  const std::size_t colon = a.listen.rfind(':');
  server::ListenOptions listen;
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no port");
    listen.host = a.listen.substr(0, colon);
    listen.port = std::stoi(a.listen.substr(colon + 1));
    if (listen.port < 0 || listen.port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return fail("--listen " + a.listen + ": give HOST:PORT, e.g. 127.0.0.1:8080");
  }
  AdapterConfig config;
  if (!a.config.empty()) {
    Result<AdapterConfig> loaded = load_adapter_config(a.config, {}, server::library_log("adapters"));
    if (!loaded) return fail(loaded.status().message());
    config = std::move(*loaded);
  }
  Result<server::ServerSettings> settings = server::read_server_settings(config.server);
  if (!settings) return fail(a.config + ": " + settings.status().message());
  if (settings->api.tokens.empty() && !server::is_loopback(listen.host)) {
    return fail("refusing to listen on " + listen.host +
                " without authentication: configure bearer tokens in the server section of "
                "ordo.json (docs/http-api.md), or listen on 127.0.0.1");
  }
  settings->api.notifier = config.notifier;  // delivery status callbacks
  settings->api.payment_options.log = server::library_log("webhooks");
  settings->api.stripe_options.log = server::library_log("webhooks");
  listen.max_body_bytes = settings->max_body_bytes;
  listen.max_in_flight = settings->max_in_flight;
  listen.max_connections = settings->max_connections;
  listen.max_connections_per_peer = settings->max_connections_per_peer;
  settings->api.max_in_flight = settings->max_in_flight;

  // One engine, safe to call from every thread: the API's request threads, the worker, the
  // KPI monitor. Job outcomes of the worker share transactions.
  EngineOptions engine_options;
  engine_options.group_commit = 64;
  engine_options.max_call_depth = settings->max_call_depth;
  engine_options.max_multi_instance = settings->max_multi_instance;
  engine_options.multi_instance_batch = settings->multi_instance_batch;
  Result<std::unique_ptr<Engine>> opened = Engine::open(a.db, engine_options);
  if (!opened) return fail(opened.status().message());
  Engine& engine = **opened;
  // Nothing is simulated unless asked for: a type without an adapter waits for an external
  // worker, it is never answered with made-up data.
  std::unique_ptr<SimulatedWorld> world;
  if (a.simulate || !config.simulated.empty()) {
    world = std::make_unique<SimulatedWorld>(engine.clock());
    if (Status s = world->open_effects_log(SimulatedWorld::effects_log_for(a.db)); !s) {
      return fail(s.message());
    }
    if (a.simulate) {
      engine.set_fallback_handler(world->handler());
      spdlog::warn("ordo serve: --simulate: job types without an adapter are answered by the "
                   "simulated order world; no ERP, payment provider or gateway is called for them");
    }
    for (const std::string& type : config.simulated) engine.register_handler(type, world->handler());
  }
  for (auto& [type, handler] : config.handlers) engine.register_handler(type, handler);
  config.attach(engine);
  engine.leave_to_external_workers(config.external);
  JobTypeWatch job_types(handling_of(config, a.config, a.simulate),
                         [](const std::string& line) { spdlog::warn("ordo serve: " + line); });
  if (Status s = job_types.check(engine); !s) return fail(s.message());
  settings->api.unhandled_job_types = [&job_types] { return job_types.unhandled(); };
  // The types the built-in worker does: worker tokens fetch them only when they name them.
  settings->api.handled_here = [&job_types](std::string_view type) {
    return job_types.handling().handled_here(type);
  };
  settings->api.on_deployed = [&job_types](const Engine& deployed) { (void)job_types.check(deployed); };

  // Metrics from the engine's events, and the KPI rules over them.
  server::TelemetryOptions measured;
  measured.cycle_times = server::cycle_time_spans(settings->alerts);
  server::Telemetry telemetry(measured);
  server::KpiSources sources;
  sources.open_incidents = [&engine]() -> Result<std::int64_t> {
    Result<std::vector<IncidentInfo>> open = engine.incidents();
    if (!open) return open.status();
    return static_cast<std::int64_t>(open->size());
  };
  if (config.notifier) {
    sources.delivery_counts = [notifier = config.notifier] { return notifier->delivery_counts(); };
    sources.engagement = [notifier = config.notifier](std::int64_t since_ms) {
      return notifier->engagement(since_ms);
    };
  }
  server::KpiMonitor kpis(settings->alerts, telemetry, sources);
  Observing observed(engine, telemetry);
  settings->api.telemetry = &telemetry;
  settings->api.kpis = &kpis;

  // Logs of what happens to instances, with their business keys: learnt from their starts,
  // or for instances started before this run read from the engine (observers may read it).
  server::InstanceLogOptions log_options;
  log_options.lookup = [&engine](InstanceId id) {
    Result<InstanceInfo> info = engine.instance(id);
    return info ? info->business_key : std::string();
  };
  server::InstanceLog instance_log(std::move(log_options));
  Observing logged(engine, instance_log);

  install_stop_handlers();
  std::atomic<bool>& stop = stop_flag();
  Status worker_status;
  std::atomic<bool> working_now{true};
  // A store error (the file locked by another process, a full disk) does not end the
  // server: the worker backs off and tries again, the API answers (503 where it must), and
  // /health/ready says what is wrong until a round succeeds.
  std::mutex trouble_mu;
  Status worker_trouble;
  const StoreTrouble trouble = [&](const Status& s) {
    std::lock_guard lock(trouble_mu);
    if (!s.is_ok() && s.message() != worker_trouble.message()) {
      spdlog::warn("ordo serve: the worker cannot use the database, retrying: " + s.message());
    } else if (s.is_ok() && !worker_trouble.is_ok()) {
      spdlog::info("ordo serve: the worker uses the database again");
    }
    worker_trouble = s;
  };
  std::thread working([&] {
    WorkOptions work;
    work.threads = a.threads;
    // Deployments by other processes on the database are noticed within a second.
    auto last_check = std::chrono::steady_clock::now();
    const auto check_deployments = [&] {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_check < std::chrono::seconds(1)) return;
      last_check = now;
      if (Status s = job_types.check(engine); !s) spdlog::warn("ordo serve: " + s.message());
    };
    Result<LoopTotals> done =
        work_loop(engine, world.get(), work, false, stop, check_deployments, trouble);
    if (!done) {
      worker_status = done.status();
      stop.store(true);
    }
    working_now.store(false);
  });
  settings->api.ready = [&]() -> Status {
    if (!working_now.load()) return Status(StatusCode::kBusy, "the worker has stopped");
    std::lock_guard lock(trouble_mu);
    if (!worker_trouble.is_ok()) {
      return Status(StatusCode::kBusy,
                    "the worker cannot use the database (retrying): " + worker_trouble.message());
    }
    return Status::ok();
  };
  if (!settings->alerts.rules.empty()) kpis.start(engine.clock());
  // Queue consumers apply deliveries to the engine from threads of their own; each
  // acknowledges only what the database holds.
  if (config.queues && !config.queues->states().empty()) {
    settings->api.queues = config.queues;
    config.queues->start(engine);
    say("ordo serve: consuming " + std::to_string(config.queues->states().size()) +
        " queue(s) at " + config.queues->broker());
  }
  // Process events go out from the history, which the commands wrote (the outbox).
  if (config.events) {
    settings->api.events = config.events;
    config.events->start(engine);
    say("ordo serve: publishing events to exchange '" + config.events->state().exchange + "'");
  }
  server::Api api(engine, settings->api);
  listen.on_listening = [&](int port) {
    say("ordo serve: listening on http://" + listen.host + ":" + std::to_string(port));
  };
  Status served = server::serve(api, listen, stop);
  stop.store(true);
  if (config.queues) config.queues->stop();
  if (config.events) config.events->stop();
  working.join();
  kpis.stop();
  if (!served) return fail(served.message());
  if (!worker_status) return fail("the worker stopped: " + worker_status.message());
  say("ordo serve: stopped");
  return 0;
}

}  // namespace ordo::cli
