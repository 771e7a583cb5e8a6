// Engine: the public facade. Construction, commands, observers; the rest of the facade is in
// facade/ (facade/impl.h says which file holds what). The runtime does the token work and the
// store keeps what it committed.
#include "ordo/engine.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "facade/impl.h"
#include "store/memory_store.h"
#include "store/postgres/pg_store.h"
#include "store/postgres/pq.h"
#include "store/sqlite/sqlite_store.h"

namespace ordo {

std::string_view Job::header(std::string_view key) const noexcept {
  for (const TaskHeader& h : headers()) {
    if (h.key == key) return h.value;
  }
  return {};
}

Engine::Engine(EngineOptions options) {
  store::MemoryStore::Options kept{options.keep_history, options.keep_finished_instances};
  impl_ = std::make_unique<Impl>(std::move(options), std::make_unique<store::MemoryStore>(kept));
}

Engine::~Engine() = default;

namespace {

Result<std::unique_ptr<store::sqlite::SqliteStore>> open_sqlite(const std::string& path,
                                                               const EngineOptions& options) {
  store::sqlite::OpenOptions oo;
  oo.synchronous_full = options.synchronous_full;
  oo.busy_timeout_ms = options.busy_timeout_ms;
  Result<std::unique_ptr<store::sqlite::SqliteStore>> db =
      store::sqlite::SqliteStore::open(path, oo);
  if (!db) return db.status();
  if (options.max_database_pages > 0) {
    if (Status s = (*db)->database().exec("PRAGMA max_page_count=" +
                                          std::to_string(options.max_database_pages));
        !s) {
      return s;
    }
  }
  (*db)->set_cache_limit(options.cached_instances);
  return db;
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::open(const std::string& path, EngineOptions options) {
  std::unique_ptr<store::Store> opened;
  if (store::pg::is_url(path)) {
    store::pg::SchemaInUrl where = store::pg::take_schema(path);
    store::pg::PgOptions po;
    po.schema = where.schema.value_or(options.database_schema);
    Result<std::unique_ptr<store::pg::PgStore>> db = store::pg::PgStore::open(where.url, po);
    if (!db) return db.status();
    (*db)->set_cache_limit(options.cached_instances);
    opened = std::move(*db);
  } else {
    Result<std::unique_ptr<store::sqlite::SqliteStore>> db = open_sqlite(path, options);
    if (!db) return db.status();
    opened = std::move(*db);
  }
  std::unique_ptr<Engine> engine(new Engine());
  engine->impl_ = std::make_unique<Impl>(std::move(options), std::move(opened));
  if (Status s = engine->impl_->load_deployments(); !s) return s;
  if (Status s = engine->impl_->release_dead_locks(); !s) return s;
  return engine;
}

bool Engine::durable() const noexcept {
  return impl_->store->shared();
}

Result<StartResult> Engine::start(std::string_view process_id, nlohmann::json variables,
                                  std::string business_key) {
  StartRequest r;
  r.process_id = std::string(process_id);
  r.variables = std::move(variables);
  r.business_key = std::move(business_key);
  return start(std::move(r));
}

Result<std::vector<StartResult>> Engine::start_many(const std::vector<StartRequest>& requests) {
  Impl::Call call(*impl_);
  // Everything the caller could have got wrong is checked before anything starts.
  std::vector<std::shared_ptr<const state::Plan>> plans;
  plans.reserve(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    // Requests for the process and version of the one before share its plan: a shared store
    // is asked for the latest version once per run of them, not once per request.
    if (i > 0 && requests[i].process_id == requests[i - 1].process_id &&
        requests[i].version == requests[i - 1].version &&
        (requests[i].variables.is_null() || requests[i].variables.is_object())) {
      plans.push_back(plans.back());
      continue;
    }
    Result<std::shared_ptr<const state::Plan>> plan = impl_->plan_for(requests[i]);
    if (!plan) {
      return Status(plan.status().code(),
                    "request " + std::to_string(i + 1) + ": " + plan.status().message());
    }
    if (!requests[i].variables.is_null() && !requests[i].variables.is_object()) {
      return Status::invalid_argument("request " + std::to_string(i + 1) +
                                      ": variables must be a JSON object");
    }
    plans.push_back(std::move(*plan));
  }
  std::vector<StartResult> out;
  out.reserve(requests.size());
  // All or none; done again when it lost a race with another engine (Engine::start).
  Status started = impl_->retrying_races([&]() -> Status {
    out.clear();
    if (Status s = impl_->rt.begin_group(); !s) return s;
    GroupGuard group(impl_->rt);
    std::vector<store::Store::BusinessKey> keys;
    keys.reserve(requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
      keys.emplace_back(plans[i]->def->id, requests[i].business_key);
    }
    if (Status s = impl_->store->prefetch_business_keys(keys); !s) return s;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      Result<runtime::StartOutcome> r =
          impl_->rt.start(plans[i], requests[i].variables, requests[i].business_key,
                          requests[i].request_id);
      if (!r) return r.status();  // the guard rolls the group back
      out.push_back({r->id, r->created, r->version});
    }
    return group.end();
  });
  if (!started) return started;
  return out;
}

Result<std::vector<MessageResult>> Engine::publish_many(std::vector<Message> messages) {
  Impl::Call call(*impl_);
  impl_->notice_deployments();
  std::vector<MessageResult> out;
  out.reserve(messages.size());
  // Done again when it lost a race with another engine (a message id published there at
  // the same moment): a shared store's messages are kept for that, in memory they move.
  const bool again = impl_->store->shared();
  Status published = impl_->retrying_races([&]() -> Status {
    out.clear();
    if (Status s = impl_->rt.begin_group(); !s) return s;
    GroupGuard group(impl_->rt);
    std::vector<store::Store::MessageKey> keys;
    keys.reserve(messages.size());
    for (const Message& m : messages) keys.emplace_back(m.name, m.correlation_key);
    if (Status s = impl_->store->prefetch_subscriptions(keys); !s) return s;
    for (Message& m : messages) {
      Result<MessageResult> r = impl_->publish(again ? Message(m) : std::move(m));
      if (!r) return r.status();  // the guard rolls the group back
      out.push_back(std::move(*r));
    }
    return group.end();
  });
  // None of the group happened; a damaged instance it met is held, so that it goes through
  // when sent again.
  if (!published) return impl_->held_if_damaged(published);
  return out;
}

Result<StartResult> Engine::start(StartRequest request) {
  Impl::Call call(*impl_);
  Result<std::shared_ptr<const state::Plan>> plan = impl_->plan_for(request);
  if (!plan) return plan.status();
  // Another engine on the database may start the same business key at the same moment: the
  // start that loses is done again and finds the other's instance. In memory, no copies.
  Result<runtime::StartOutcome> r =
      impl_->store->shared()
          ? impl_->retrying_races([&] {
              return impl_->rt.start(*plan, request.variables, request.business_key,
                                     request.request_id);
            })
          : impl_->rt.start(std::move(*plan), std::move(request.variables),
                            std::move(request.business_key), request.request_id);
  if (!r) return r.status();
  return StartResult{r->id, r->created, r->version};
}

void Engine::register_handler(std::string type, TaskHandler handler) {
  Impl::Call call(*impl_);
  impl_->handlers[std::move(type)] = std::move(handler);
}

void Engine::set_fallback_handler(TaskHandler handler) {
  Impl::Call call(*impl_);
  impl_->fallback = std::move(handler);
}

Status Engine::complete_job(JobKey job, nlohmann::json variables) {
  Impl::Call call(*impl_);
  return impl_->command([&](bool keep) {
    return impl_->rt.complete_job(job, keep ? nlohmann::json(variables) : std::move(variables));
  });
}

Status Engine::fail_job(JobKey job, std::string message, std::int64_t backoff_ms, int retries) {
  Impl::Call call(*impl_);
  return impl_->command([&](bool keep) {
    return impl_->rt.fail_job(job, keep ? std::string(message) : std::move(message), backoff_ms,
                              retries);
  });
}

Status Engine::throw_error(JobKey job, std::string code, std::string message,
                           nlohmann::json variables) {
  Impl::Call call(*impl_);
  return impl_->command([&](bool keep) {
    return keep ? impl_->rt.throw_job_error(job, code, message, variables)
                : impl_->rt.throw_job_error(job, std::move(code), std::move(message),
                                            std::move(variables));
  });
}

Status Engine::throw_escalation(JobKey job, std::string code, nlohmann::json variables) {
  Impl::Call call(*impl_);
  if (code.empty()) return Status::invalid_argument("an escalation needs a code");
  return impl_->command([&](bool keep) {
    return impl_->rt.throw_job_escalation(job, code,
                                          keep ? nlohmann::json(variables) : std::move(variables));
  });
}

Result<MessageResult> Engine::publish_message(std::string_view name,
                                              std::string_view correlation_key,
                                              nlohmann::json variables, std::int64_t ttl_ms) {
  Message m;
  m.name = std::string(name);
  m.correlation_key = std::string(correlation_key);
  m.variables = std::move(variables);
  m.ttl_ms = ttl_ms;
  return publish_message(std::move(m));
}

Result<MessageResult> Engine::publish_message(Message message) {
  Impl::Call call(*impl_);
  impl_->notice_deployments();
  return impl_->publish(std::move(message));
}

Result<MessageResult> Engine::Impl::publish(Message message) {
  auto correlate = [&](nlohmann::json variables) {
    return rt.correlate(message.name, message.correlation_key, std::move(variables),
                        message.ttl_ms, message.message_id);
  };
  // An instance subscribed to it found damaged is held; then it goes to the others. In
  // memory nothing is damaged; in a group (publish_many) the caller holds.
  // The same message id published on another engine at the same moment: the loser is done
  // again and finds it published.
  Result<runtime::Correlation> c =
      rt.in_group() || !store->shared()
          ? correlate(std::move(message.variables))
          : holding_damaged(
                [&] { return retrying_races([&] { return correlate(message.variables); }); });
  if (!c) return c.status();
  return MessageResult{std::move(c->instances), c->buffered, c->duplicate};
}

Status Engine::cancel(InstanceId instance) {
  Impl::Call call(*impl_);
  return impl_->command([&](bool) { return impl_->rt.cancel(instance); });
}

Result<MessageResult> Engine::start_by_conditions(nlohmann::json variables,
                                                 std::string_view process_id) {
  Impl::Call call(*impl_);
  if (!process_id.empty() && impl_->load_plan(process_id, 0) == nullptr) {
    if (!impl_->plan_error.is_ok()) return impl_->plan_error;
    return Status::not_found("process '" + std::string(process_id) + "' is not deployed");
  }
  MessageResult out;
  Status s = impl_->command([&](bool keep) -> Status {
    Result<runtime::Correlation> c = impl_->rt.start_by_conditions(
        keep ? nlohmann::json(variables) : std::move(variables), process_id);
    if (!c) return c.status();
    out.instances = std::move(c->instances);
    return Status::ok();
  });
  if (!s) return s;
  return out;
}

Result<MessageResult> Engine::broadcast_signal(std::string_view name, nlohmann::json variables) {
  Impl::Call call(*impl_);
  MessageResult out;
  Status s = impl_->command([&](bool keep) -> Status {
    Result<runtime::Correlation> c =
        impl_->rt.signal(name, keep ? nlohmann::json(variables) : std::move(variables));
    if (!c) return c.status();
    out.instances = std::move(c->instances);
    return Status::ok();
  });
  if (!s) return s;
  return out;
}

Status Engine::suspend(InstanceId instance) {
  Impl::Call call(*impl_);
  return impl_->command([&](bool) { return impl_->rt.suspend(instance); });
}

Status Engine::resume(InstanceId instance) {
  Impl::Call call(*impl_);
  return impl_->command([&](bool) { return impl_->rt.resume(instance); });
}

Result<MigrationReport> Engine::migrate(const MigrationRequest& request) {
  Impl::Call call(*impl_);
  const MigrationPlan& plan = request.plan;
  if (plan.process_id.empty() || plan.source_version <= 0) {
    return Status::invalid_argument(
        "a migration plan names the process and the version its instances run now");
  }
  auto version_of = [&](int version) -> Result<std::shared_ptr<const state::Plan>> {
    std::shared_ptr<const state::Plan> p = impl_->load_plan(plan.process_id, version);
    if (p != nullptr) return p;
    if (!impl_->plan_error.is_ok()) return impl_->plan_error;
    return Status::not_found(
        version == 0 ? "process '" + plan.process_id + "' is not deployed"
                     : "version " + std::to_string(version) + " of process '" + plan.process_id +
                           "' is not deployed");
  };
  auto source = version_of(plan.source_version);
  if (!source) return source.status();
  auto target = version_of(plan.target_version);
  if (!target) return target.status();
  Result<runtime::MigrationMap> map = runtime::resolve_migration(*source, *target, plan);
  if (!map) return map.status();
  MigrationReport report;
  report.process_id = plan.process_id;
  report.source_version = plan.source_version;
  report.target_version = (*target)->version;
  report.dry_run = request.dry_run;
  std::vector<InstanceId> ids = request.instances;
  if (ids.empty()) {
    // The running instances of the source version the filter selects, oldest first.
    InstanceFilter f = request.filter;
    f.process_id = plan.process_id;
    f.version = plan.source_version;
    std::vector<InstanceState> states;
    if (f.state) {
      states.push_back(*f.state);
    } else {
      states = {InstanceState::kActive, InstanceState::kIncident, InstanceState::kSuspended};
    }
    for (InstanceState st : states) {
      f.state = st;
      Result<std::vector<store::InstanceRow>> rows = impl_->store->list_instances(f);
      if (!rows) return rows.status();
      for (const store::InstanceRow& r : *rows) ids.push_back(r.id);
    }
    std::sort(ids.begin(), ids.end());
    if (ids.size() > static_cast<std::size_t>(std::max(f.limit, 0))) {
      ids.resize(static_cast<std::size_t>(std::max(f.limit, 0)));
    }
  }
  for (InstanceId id : ids) {
    InstanceMigration one;
    Status s = impl_->command([&](bool) -> Status {
      Result<InstanceMigration> r = impl_->rt.migrate(id, *map, !request.dry_run);
      if (!r) return r.status();
      one = std::move(*r);
      return Status::ok();
    });
    if (s && request.dry_run) {
      Result<std::vector<HistoryEvent>> history = impl_->store->history(id);
      if (history) one.history = runtime::history_misfits(*map, *history);
    }
    bool stop = false;
    if (!s) {
      // The instance stays as it was; a failure of the store stops the batch there (what
      // moved before it moved), and the report says so.
      one = InstanceMigration{};
      one.instance = id;
      one.problem = s.message();
      stop = s.code() != StatusCode::kNotFound && s.code() != StatusCode::kCorruption;
    }
    (one.migrated ? report.migrated : report.refused) += 1;
    report.instances.push_back(std::move(one));
    if (stop) break;
  }
  return report;
}

nlohmann::json to_json(const MigrationReport& report) {
  nlohmann::json instances = nlohmann::json::array();
  for (const InstanceMigration& m : report.instances) {
    nlohmann::json one = {{"id", m.instance}, {"migrated", m.migrated}, {"moves", m.moves},
                          {"tokens", m.tokens}, {"notes", m.notes}, {"stuck", m.stuck},
                          {"history", m.history}};
    if (!m.problem.empty()) one["problem"] = m.problem;
    instances.push_back(std::move(one));
  }
  return {{"processId", report.process_id}, {"sourceVersion", report.source_version},
          {"targetVersion", report.target_version}, {"dryRun", report.dry_run},
          {"migrated", report.migrated}, {"refused", report.refused},
          {"instances", std::move(instances)}};
}

Status Engine::set_variables(InstanceId instance, nlohmann::json variables) {
  Impl::Call call(*impl_);
  return impl_->command([&](bool keep) {
    return impl_->rt.set_variables(instance,
                                   keep ? nlohmann::json(variables) : std::move(variables));
  });
}

Status Engine::resolve_incident(IncidentKey incident, int job_retries) {
  Impl::Call call(*impl_);
  return impl_->command([&](bool) { return impl_->rt.resolve_incident(incident, job_retries); });
}

Status Engine::resolve_incident(IncidentKey incident, int job_retries,
                                nlohmann::json variables) {
  Impl::Call call(*impl_);
  return impl_->command([&](bool keep) -> Status {
    runtime::Runtime& rt = impl_->rt;
    if (Status s = rt.begin_group(); !s) return s;
    Result<std::optional<InstanceId>> owner = impl_->store->incident_instance(incident);
    Status done = !owner ? owner.status()
                  : !*owner
                      ? Status::not_found("no open incident " + std::to_string(incident))
                      : rt.set_variables(**owner, keep ? nlohmann::json(variables)
                                                        : std::move(variables));
    if (done) done = rt.resolve_incident(incident, job_retries);
    if (!done) {
      rt.abort_group();
      return done;
    }
    return rt.end_group();
  });
}

Status Engine::advance_clock(std::int64_t ms) {
  auto* virtual_clock = dynamic_cast<VirtualClock*>(impl_->clock.get());
  if (virtual_clock == nullptr) {
    return Status::invalid_argument("advance_clock needs an engine built with a VirtualClock");
  }
  // Through each timer due on the way, at its time, as if the time passed (a cycle fires at
  // each of its ticks, not once for all of them).
  const std::int64_t target = virtual_clock->now_ms() + std::max<std::int64_t>(ms, 0);
  while (true) {
    Result<std::optional<std::int64_t>> due = next_timer_due();
    if (!due) return due.status();
    if (!*due || **due > target) break;
    virtual_clock->set(**due);
    if (Result<std::size_t> ran = run_until_idle(); !ran) return ran.status();
  }
  virtual_clock->set(target);
  Result<std::size_t> ran = run_until_idle();
  return ran ? Status::ok() : ran.status();
}

const Clock& Engine::clock() const noexcept {
  return *impl_->clock;
}

Status Engine::backup(const std::string& dest) const {
  Impl::Call call(*impl_);
  return impl_->store->backup(dest);
}

Result<std::optional<std::int64_t>> Engine::next_timer_due() const {
  Impl::Call call(*impl_);
  return impl_->rt.next_timer_due();
}

Result<std::size_t> Engine::discard_buffered_messages() {
  Impl::Call call(*impl_);
    return impl_->store->discard_buffered();
}

void Engine::add_observer(Observer* observer) {
  std::size_t now_observing = 0;
  {
    std::lock_guard observers(impl_->deliver_mu);
    impl_->observers.push_back(observer);
    now_observing = impl_->observers.size();
  }
  impl_->observer_count.store(now_observing);
  Impl::Call call(*impl_);
  impl_->rt.set_recording(true);
}

void Engine::remove_observer(Observer* observer) {
  std::size_t now_observing = 0;
  {
    // Once this returns, the observer is not called again (a delivery holds this lock).
    std::lock_guard observers(impl_->deliver_mu);
    std::erase(impl_->observers, observer);
    now_observing = impl_->observers.size();
  }
  impl_->observer_count.store(now_observing);
  if (now_observing == 0) {
    std::lock_guard taken(impl_->events_mu);
    impl_->undelivered.clear();  // nobody to tell, now or later
  }
  Impl::Call call(*impl_);
  impl_->rt.set_recording(impl_->options.keep_history || impl_->store->shared() ||
                          now_observing > 0);
}

void Engine::Impl::take_committed() {
  std::vector<HistoryEvent>& done = rt.committed();
  if (done.empty()) return;
  if (observer_count.load(std::memory_order_relaxed) == 0) {
    done.clear();
    return;
  }
  std::lock_guard lock(events_mu);
  if (undelivered.empty()) {
    undelivered.swap(done);
  } else {
    undelivered.insert(undelivered.end(), std::make_move_iterator(done.begin()),
                       std::make_move_iterator(done.end()));
    done.clear();
  }
}

void Engine::Impl::deliver() {
  // The engine whose observers this thread is calling, if any: an observer reading its
  // engine leaves the delivery to the loop it is called from.
  thread_local const Impl* delivering_here = nullptr;
  if (delivering_here == this) return;
  // Nothing is queued without observers (take_committed): no lock taken on every call.
  if (observer_count.load(std::memory_order_relaxed) == 0) return;
  // One thread delivers at a time; a thread that finds another delivering leaves its events
  // to it, and the deliverer stops only when it finds nothing left (both under events_mu,
  // so nothing is left behind).
  {
    std::lock_guard taken(events_mu);
    if (delivering_now || undelivered.empty()) return;
    delivering_now = true;
  }
  const Impl* outer = std::exchange(delivering_here, this);
  struct Restore {
    const Impl*& at;
    const Impl* was;
    ~Restore() { at = was; }
  } restore{delivering_here, outer};
  while (true) {
    std::lock_guard lock(deliver_mu);  // the observers stay as they are meanwhile
    delivering.clear();
    {
      std::lock_guard taken(events_mu);
      if (undelivered.empty()) {
        delivering_now = false;
        return;
      }
      delivering.swap(undelivered);
    }
    for (const HistoryEvent& e : delivering) {
      for (Observer* o : observers) {
        try {
          o->on_event(e);
        } catch (...) {  // an observer's failure is its own
        }
      }
    }
  }
}

}  // namespace ordo
