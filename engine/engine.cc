// Engine: the public facade. Owns the deployments, the handlers and the driver loop; the
// runtime does the token work and the store keeps what it committed.
#include "ordo/engine.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "ordo/loader.h"
#include "runtime/plan.h"
#include "runtime/runtime.h"
#include "store/memory_store.h"
#include "store/sqlite/sqlite_store.h"

namespace ordo {
namespace {

// The handler's view of a job.
class JobView final : public Job {
 public:
  JobView(runtime::Runtime& rt, const state::JobRecord& job)
      : rt_(rt), job_(job), inst_(*rt.instance(job.instance)), def_(rt.element_of(job)) {}
  JobKey key() const noexcept override { return job_.key; }
  InstanceId instance() const noexcept override { return job_.instance; }
  std::string_view type() const noexcept override { return job_.type; }
  std::string_view process_id() const noexcept override { return inst_.plan->def->id; }
  std::string_view element_id() const noexcept override { return def_.id; }
  std::string_view business_key() const noexcept override { return inst_.business_key; }
  std::string_view idempotency_key() const noexcept override { return job_.idempotency_key; }
  int attempt() const noexcept override { return job_.attempt; }
  int retries_left() const noexcept override { return job_.retries; }
  std::int64_t now_ms() const noexcept override { return rt_.now(); }
  std::span<const TaskHeader> headers() const noexcept override { return def_.headers; }
  const nlohmann::json* variable(std::string_view name) const override {
    return rt_.job_variable(job_, name);
  }
  nlohmann::json variables() const override { return rt_.job_variables(job_); }

 private:
  const runtime::Runtime& rt_;
  const state::JobRecord& job_;
  const state::Instance& inst_;
  const Element& def_;
};

// A job as a handler thread sees it: copies, so the handler needs nothing of the runtime.
class JobSnapshot final : public Job {
 public:
  JobSnapshot(const runtime::Runtime& rt, const state::JobRecord& job,
              const state::Instance& inst, const Element& def)
      : key_(job.key),
        instance_(job.instance),
        type_(job.type),
        plan_(inst.plan),
        def_(def),
        business_key_(inst.business_key),
        idempotency_key_(job.idempotency_key),
        attempt_(job.attempt),
        retries_(job.retries),
        clock_(rt.clock()),
        variables_(rt.job_variables(job)) {}
  JobKey key() const noexcept override { return key_; }
  InstanceId instance() const noexcept override { return instance_; }
  std::string_view type() const noexcept override { return type_; }
  std::string_view process_id() const noexcept override { return plan_->def->id; }
  std::string_view element_id() const noexcept override { return def_.id; }
  std::string_view business_key() const noexcept override { return business_key_; }
  std::string_view idempotency_key() const noexcept override { return idempotency_key_; }
  int attempt() const noexcept override { return attempt_; }
  int retries_left() const noexcept override { return retries_; }
  // Read when asked: a job may wait behind others in a handler thread's queue.
  std::int64_t now_ms() const noexcept override { return clock_.now_ms(); }
  std::span<const TaskHeader> headers() const noexcept override { return def_.headers; }
  const nlohmann::json* variable(std::string_view name) const override {
    auto it = variables_.find(name);
    return it == variables_.end() ? nullptr : &*it;
  }
  nlohmann::json variables() const override { return variables_; }

 private:
  JobKey key_;
  InstanceId instance_;
  std::string type_;
  std::shared_ptr<const runtime::Plan> plan_;  // keeps def_ alive
  const Element& def_;
  std::string business_key_;
  std::string idempotency_key_;
  int attempt_;
  int retries_;
  const Clock& clock_;  // the engine's; it outlives every job
  nlohmann::json variables_;
};

// Runs a handler, turning exceptions into failures.
JobOutcome call_handler(const TaskHandler& handler, const Job& job) {
  try {
    return handler(job);
  } catch (const std::exception& e) {
    return JobOutcome::fail(std::string("the handler threw: ") + e.what());
  } catch (...) {
    return JobOutcome::fail("the handler threw a non-standard exception");
  }
}

// The PID namespace this process lives in ("4026531836"), so that pids are compared only
// within one; empty when /proc does not say.
std::string pid_namespace() {
  char buf[64] = {};
  const ssize_t n = ::readlink("/proc/self/ns/pid", buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string link(buf, static_cast<std::size_t>(n));  // "pid:[4026531836]"
  const std::size_t open = link.find('['), close = link.find(']');
  if (open == std::string::npos || close == std::string::npos || close <= open) return {};
  return link.substr(open + 1, close - open - 1);
}

// "host:pid:random@pidns"
std::string default_worker_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = 0;
  std::random_device rd;
  char suffix[9];
  std::snprintf(suffix, sizeof suffix, "%08x", rd());
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + suffix + "@" + pid_namespace();
}

// Whether a lock owner named like default_worker_id() is a process of this host and PID
// namespace that has ended. Anything else (another host or container, a custom name, a live
// process) is presumed alive: its locks are released only when they expire.
bool owner_is_dead(const std::string& owner) {
  const std::size_t a = owner.find(':');
  const std::size_t b = a == std::string::npos ? a : owner.find(':', a + 1);
  const std::size_t at = owner.rfind('@');
  if (b == std::string::npos || at == std::string::npos || at < b) return false;
  const std::string ns = pid_namespace();
  if (ns.empty() || owner.compare(at + 1, std::string::npos, ns) != 0) return false;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || owner.compare(0, a, host) != 0) return false;
  long pid = 0;
  for (std::size_t i = a + 1; i < b; ++i) {
    if (owner[i] < '0' || owner[i] > '9') return false;
    pid = pid * 10 + (owner[i] - '0');
  }
  if (pid <= 0 || pid == getpid()) return false;
  return kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

// What instances() reports of an instance: everything but variables, elements, incidents.
InstanceInfo summary_of(const state::Instance& inst) {
  InstanceInfo out;
  out.id = inst.id;
  out.process_id = inst.plan->def->id;
  out.version = inst.plan->version;
  out.business_key = inst.business_key;
  out.state = inst.state;
  if (inst.end_event != kNoIndex) out.end_event = inst.plan->element(inst.end_event).id;
  out.started_ms = inst.started_ms;
  out.ended_ms = inst.ended_ms;
  out.parent = inst.parent;
  return out;
}

IncidentInfo incident_info(const state::Instance& inst, const state::Incident& i) {
  IncidentInfo out;
  out.key = i.key;
  out.instance = inst.id;
  if (i.element_index != kNoIndex) out.element_id = inst.plan->element(i.element_index).id;
  out.job = i.job;
  out.type = i.type;
  out.message = i.message;
  out.created_ms = i.created_ms;
  return out;
}

// Rolls an open group back unless it was ended: an exception inside a group must not leave
// the runtime in group mode (every later command would then go uncommitted).
class GroupGuard {
 public:
  explicit GroupGuard(runtime::Runtime& rt) : rt_(rt) {}
  ~GroupGuard() {
    if (!ended_) rt_.abort_group();
  }
  GroupGuard(const GroupGuard&) = delete;
  GroupGuard& operator=(const GroupGuard&) = delete;
  Status end() {
    ended_ = true;
    return rt_.end_group();
  }

 private:
  runtime::Runtime& rt_;
  bool ended_ = false;
};

}  // namespace

std::string_view Job::header(std::string_view key) const noexcept {
  for (const TaskHeader& h : headers()) {
    if (h.key == key) return h.value;
  }
  return {};
}

class Engine::Impl {
 public:
  // `database`: the engine's state is in it (Engine::open); null: in memory.
  Impl(EngineOptions o, std::unique_ptr<store::sqlite::SqliteStore> database)
      : options(std::move(o)),
        clock(options.clock ? options.clock : std::make_shared<SystemClock>()),
        db(database.get()),
        store(make_store(options, std::move(database))),
        memory(db != nullptr ? nullptr : static_cast<store::MemoryStore*>(store.get())),
        rt(runtime_options(options, db != nullptr), *clock, *store) {
    // A database keeps every event with its detail; in memory, only when asked.
    rt.set_recording(options.keep_history || db != nullptr);
    rt.set_observers(&observers);
    // In memory, run_until_idle() hands out the jobs commands made ready; a database's
    // workers acquire them from the database.
    rt.track_ready(db == nullptr);
    if (db) {
      db->set_cache_limit(options.cached_instances);
      if (options.worker_id.empty()) options.worker_id = default_worker_id();
      rt.set_lock(options.worker_id, options.job_lock_ms);
      rt.set_plan_source([this](std::string_view process_id, int version) {
        return load_plan(process_id, version);
      });
    }
  }

  static std::unique_ptr<store::Store> make_store(
      const EngineOptions& o, std::unique_ptr<store::sqlite::SqliteStore> database) {
    if (database) return database;
    return std::make_unique<store::MemoryStore>(
        store::MemoryStore::Options{o.keep_history, o.keep_finished_instances});
  }
  static runtime::RuntimeOptions runtime_options(const EngineOptions& o, bool durable) {
    runtime::RuntimeOptions r;
    r.default_job_retries = o.default_job_retries;
    r.max_steps_per_command = o.max_steps_per_command;
    r.retry_backoff_ms = o.retry_backoff_ms;
    r.retry_backoff_max_ms = o.retry_backoff_max_ms;
    r.history_details = o.history_details || durable;
    return r;
  }

  EngineOptions options;
  std::shared_ptr<Clock> clock;
  store::sqlite::SqliteStore* db;  // the store, when it is a database
  std::unique_ptr<store::Store> store;
  store::MemoryStore* memory;  // the store, when it is in memory
  runtime::Runtime rt;
  std::unordered_map<std::string, TaskHandler, StringHash, std::equal_to<>> handlers;
  TaskHandler fallback;
  std::vector<Observer*> observers;
  // The deployed documents, by content hash (loaded back from a shared store when another
  // process deployed them).
  std::unordered_map<std::string, std::shared_ptr<const BpmnDocument>> documents;
  // Job types left to external workers, and the same as a JSON array (for the store).
  std::set<std::string, std::less<>> external;
  std::string external_json = "[]";

  const TaskHandler* handler_for(std::string_view type) const {
    if (!external.empty() && external.count(type) != 0) return nullptr;
    if (auto it = handlers.find(type); it != handlers.end() && it->second) return &it->second;
    return fallback ? &fallback : nullptr;
  }

  Status apply(JobKey key, JobOutcome& outcome) {
    const bool has_vars =
        outcome.kind() == JobOutcome::Kind::kComplete || outcome.kind() == JobOutcome::Kind::kError;
    if (has_vars && !outcome.variables().is_null() && !outcome.variables().is_object()) {
      // A handler's mistake fails its job (and becomes an incident), nothing else.
      return rt.fail_job(key, "the handler answered with variables that are not a JSON object", 0);
    }
    switch (outcome.kind()) {
      case JobOutcome::Kind::kComplete:
        return rt.complete_job(key, std::move(outcome.variables()));
      case JobOutcome::Kind::kFail:
        return rt.fail_job(key, outcome.message(), outcome.backoff_ms(), outcome.retries());
      case JobOutcome::Kind::kError:
        return rt.throw_job_error(key, outcome.error_code(), outcome.message(),
                                  std::move(outcome.variables()));
      case JobOutcome::Kind::kDefer:
        return rt.defer_job(key, outcome.backoff_ms(), outcome.message());
      case JobOutcome::Kind::kPending:
        // Durable: the job stays locked by this worker until its lock expires.
        return db ? Status::ok() : rt.lock_job(key);
    }
    return Status::ok();
  }

  // In memory: hands one ready job to its handler.
  bool dispatch(JobKey key) {
    const state::JobRecord* job = rt.job(key);
    if (job == nullptr || job->state != JobState::kCreated) return false;
    const TaskHandler* handler = handler_for(job->type);
    if (handler == nullptr) return false;  // left for an external worker
    JobOutcome outcome = call_handler(*handler, JobView(rt, *job));
    (void)apply(key, outcome);
    return true;
  }

  // ---- deployments ----

  // The plan of a stored version (0: the latest), loading its document when needed (a
  // version another process deployed to a shared store).
  std::shared_ptr<const runtime::Plan> load_plan(std::string_view process_id, int version) {
    if (version == 0) {
      // The common case, on every start: the latest version is the one known here.
      Result<int> latest = store->latest_version(process_id);
      if (!latest || *latest == 0) return nullptr;
      if (auto p = rt.known_plan(process_id, *latest)) return p;
      version = *latest;
    }
    if (auto p = rt.known_plan(process_id, version)) return p;
    Result<std::vector<store::DeploymentRow>> rows = store->deployments(process_id);
    if (!rows || rows->empty()) return nullptr;
    const store::DeploymentRow* row = &rows->back();
    if (version != 0) {
      row = nullptr;
      for (const auto& r : *rows) {
        if (r.version == version) row = &r;
      }
      if (row == nullptr) return nullptr;
    }
    if (auto p = rt.known_plan(process_id, row->version)) return p;
    std::shared_ptr<const BpmnDocument> doc = document_of(*row);
    if (doc == nullptr) return nullptr;
    const ProcessDefinition* def = doc->find_process(process_id);
    if (def == nullptr) return nullptr;
    std::shared_ptr<const ProcessDefinition> process;
    for (const auto& p : doc->processes) {
      if (p.get() == def) process = p;
    }
    auto plan = runtime::make_plan(doc, process, row->version, row->content_hash);
    rt.add_plan(plan);
    return plan;
  }

  std::shared_ptr<const BpmnDocument> document_of(const store::DeploymentRow& row) {
    if (auto it = documents.find(row.content_hash); it != documents.end()) return it->second;
    LoadOptions lo;
    lo.task_type_defaults_to_id = (row.load_flags & 1) != 0;
    LoadResult loaded = load_bpmn(row.xml, row.file, lo);
    if (!loaded.document) return nullptr;
    documents.emplace(row.content_hash, loaded.document);
    return loaded.document;
  }

  Status load_deployments() {
    Result<std::vector<store::DeploymentRow>> rows = store->deployments();
    if (!rows) return rows.status();
    for (const auto& row : *rows) (void)load_plan(row.process_id, row.version);
    return Status::ok();
  }

  // Frees the jobs of workers of this host that died holding them.
  Status release_dead_locks() {
    Result<std::vector<std::string>> owners = db->lock_owners();
    if (!owners) return owners.status();
    for (const std::string& owner : *owners) {
      if (!owner_is_dead(owner)) continue;
      Status s = store::sqlite::in_transaction(db->database(), [&]() -> Status {
        Result<int> n = db->release_locks(owner);
        return n ? Status::ok() : n.status();
      });
      if (!s) return s;
      db->forget_jobs();
    }
    return Status::ok();
  }

  struct Acquired {
    JobKey key = 0;
    std::int64_t lock_expires_ms = 0;
    const TaskHandler* handler = nullptr;
    std::unique_ptr<JobSnapshot> job;
  };

  // Locks up to `limit` jobs that have handlers here and takes what their handlers need,
  // in one transaction.
  Result<std::vector<Acquired>> acquire(int limit) {
    if (Status s = rt.begin_group(); !s) return s;
    Result<std::vector<Acquired>> out = acquire_in_group(limit);
    if (!out) {
      rt.abort_group();
      return out;
    }
    if (Status e = rt.end_group(); !e) return e;
    return out;
  }

  // What a handler needs of a job locked here, read in the current transaction; nothing
  // when the job is gone (cancelled) or has no handler here.
  std::optional<Acquired> snapshot(JobKey key) {
    const state::JobRecord* job = rt.job(key);
    // Only a job this worker holds, with time left on its lock.
    if (job == nullptr || job->state != JobState::kLocked || job->lock_owner != options.worker_id ||
        job->lock_expires_ms <= clock->now_ms()) {
      return std::nullopt;
    }
    const state::Instance* inst = rt.instance(job->instance);
    if (inst == nullptr) return std::nullopt;
    Acquired a;
    a.lock_expires_ms = job->lock_expires_ms;
    a.key = key;
    a.handler = handler_for(job->type);
    if (a.handler == nullptr) return std::nullopt;
    a.job = std::make_unique<JobSnapshot>(rt, *job, *inst, inst->plan->element(job->element_index));
    return a;
  }

  // Locks up to `limit` jobs with handlers here, inside an open group (its transaction).
  Result<std::vector<state::JobRecord>> acquire_records(int limit) {
    const std::int64_t now = clock->now_ms();
    std::vector<state::JobRecord> jobs;
    auto take = [&](std::string_view type, std::string_view except = "[]") -> Status {
      const int room = limit - static_cast<int>(jobs.size());
      if (room <= 0) return Status::ok();
      Result<std::vector<state::JobRecord>> got =
          db->acquire_jobs(type, options.worker_id, now, now + options.job_lock_ms, room, except);
      if (!got) return got.status();
      for (auto& j : *got) jobs.push_back(std::move(j));
      return Status::ok();
    };
    if (fallback) {
      if (Status s = take({}, external_json); !s) return s;
    } else {
      for (const auto& [type, handler] : handlers) {
        if (!handler) continue;
        if (Status s = take(type); !s) return s;
      }
    }
    return jobs;
  }

  // The same, with their snapshots.
  Result<std::vector<Acquired>> acquire_in_group(int limit) {
    Result<std::vector<state::JobRecord>> jobs = acquire_records(limit);
    if (!jobs) return jobs.status();
    std::sort(jobs->begin(), jobs->end(),
              [](const auto& a, const auto& b) { return a.key < b.key; });
    std::vector<Acquired> out;
    out.reserve(jobs->size());
    for (state::JobRecord& record : *jobs) {
      const JobKey key = record.key;
      rt.remember_job(std::move(record));
      if (std::optional<Acquired> a = snapshot(key)) out.push_back(std::move(*a));
    }
    return out;
  }

  // Applies outcomes (and fires due timers) in groups of options.group_commit.
  struct Outcome {
    JobKey key;
    JobOutcome outcome;
    bool expired = false;  // its lock ran out before the handler started: not run
  };
  // Inside an open group: applies outcomes. Only a store failure (the group's) stops it; a
  // job another worker finished or cancelled meanwhile concerns that job alone.
  Status apply_in_group(std::vector<Outcome>& outcomes, std::size_t from, std::size_t to) {
    for (std::size_t k = from; k < to; ++k) {
      if (outcomes[k].expired) continue;
      Status s = apply(outcomes[k].key, outcomes[k].outcome);
      if (!s && rt.group_failed()) return s;
    }
    return Status::ok();
  }

  // Inside an open group: fires up to `limit` due timers; how many it fired.
  Result<std::size_t> fire_in_group(std::size_t limit) {
    std::size_t fired = 0;
    while (fired < limit) {
      Result<bool> f = rt.fire_next_due_timer();
      if (!f) return f.status();
      if (!*f) break;
      ++fired;
    }
    return fired;
  }

  std::size_t group_size() const {
    return static_cast<std::size_t>(std::max(1, options.group_commit));
  }

  // Applies outcomes in groups of options.group_commit, a transaction each.
  Result<std::size_t> apply_all(std::vector<Outcome>& outcomes) {
    const std::size_t group = group_size();
    for (std::size_t i = 0; i < outcomes.size(); i += group) {
      if (Status s = rt.begin_group(); !s) return s;
      if (Status s = apply_in_group(outcomes, i, std::min(outcomes.size(), i + group)); !s) {
        rt.abort_group();
        return s;
      }
      if (Status s = rt.end_group(); !s) return s;
    }
    return outcomes.size();
  }

  // Fires every due timer, group_commit per transaction.
  Result<std::size_t> fire_due_timers() {
    const std::size_t group = group_size();
    std::size_t total = 0;
    while (true) {
      if (Status s = rt.begin_group(); !s) return s;
      Result<std::size_t> fired = fire_in_group(group);
      if (!fired) {
        rt.abort_group();
        return fired.status();
      }
      if (Status s = rt.end_group(); !s) return s;
      total += *fired;
      if (*fired < group) return total;
    }
  }

  // Rounds of one transaction each: the outcomes of the last round's jobs, the timers due
  // now (up to the group size), and the locks on the next round's jobs; the handlers run
  // between transactions.
  Result<std::size_t> run_durable_until_idle() {
    const int group = std::max(1, options.group_commit);
    std::size_t done = 0;
    std::vector<Outcome> outcomes;
    std::vector<JobKey> carry;  // locked here, not handled yet
    bool maybe_more = true;     // the last acquisition was full, or there was none yet
    // Jobs the rounds create for handlers here are locked as they are created.
    rt.set_claim([this](std::string_view type) { return handler_for(type) != nullptr; });
    struct Unclaim {
      runtime::Runtime& rt;
      ~Unclaim() {
        rt.set_claim(nullptr);
        rt.claimed().clear();
      }
    } unclaim{rt};
    while (true) {
      if (Status s = rt.begin_group(); !s) return s;
      auto fail = [&](Status s) -> Result<std::size_t> {
        rt.abort_group();
        return s;
      };
      if (Status s = apply_in_group(outcomes, 0, outcomes.size()); !s) return fail(s);
      Result<std::size_t> fired_now = fire_in_group(static_cast<std::size_t>(group));
      if (!fired_now) return fail(fired_now.status());
      const std::size_t fired = *fired_now;
      // This round's jobs: the `group` oldest (lowest keys) of those carried over, created
      // locked by this round's commands, and still waiting to be acquired, as in memory.
      for (JobKey key : rt.claimed()) carry.push_back(key);
      rt.claimed().clear();
      // The store is asked for jobs in the first round and whenever someone else may have
      // made some; the jobs this loop creates are claimed as they are created.
      if (rt.jobs_to_acquire() || maybe_more) {
        Result<std::vector<state::JobRecord>> acquired = acquire_records(group);
        if (!acquired) return fail(acquired.status());
        maybe_more = acquired->size() == static_cast<std::size_t>(group);
        for (state::JobRecord& j : *acquired) {
          carry.push_back(j.key);
          rt.remember_job(std::move(j));
        }
      }
      std::sort(carry.begin(), carry.end());
      carry.erase(std::unique(carry.begin(), carry.end()), carry.end());
      const std::size_t take = std::min(carry.size(), static_cast<std::size_t>(group));
      std::vector<Acquired> jobs;
      for (std::size_t i = 0; i < take; ++i) {
        // The snapshot is taken now, in the transaction before the handler runs.
        if (std::optional<Acquired> a = snapshot(carry[i])) jobs.push_back(std::move(*a));
      }
      carry.erase(carry.begin(), carry.begin() + static_cast<std::ptrdiff_t>(take));
      if (Status s = rt.end_group(); !s) return s;
      done += outcomes.size() + fired;
      outcomes.clear();
      if (jobs.empty() && fired == 0 && carry.empty()) return done;
      outcomes.reserve(jobs.size());
      for (Acquired& a : jobs) outcomes.push_back({a.key, call_handler(*a.handler, *a.job)});
    }
  }

  Result<std::size_t> work(const WorkOptions& wo);

  // The version a start request names (the latest when 0), with a none start event.
  Result<std::shared_ptr<const runtime::Plan>> plan_for(const StartRequest& request) {
    // Another process may have deployed a newer version to a shared store.
    std::shared_ptr<const runtime::Plan> plan = load_plan(request.process_id, request.version);
    if (plan == nullptr) {
      return Status::not_found(
          "no process '" + request.process_id + "'" +
          (request.version ? " version " + std::to_string(request.version) : std::string()) +
          " is deployed");
    }
    if (plan->none_start[plan->scope_slot(kNoIndex)] == kNoIndex) {
      return Status::invalid_argument("process '" + request.process_id +
                                      "' has no none start event; start it with a message");
    }
    return plan;
  }
};

// The executor: this thread locks jobs and applies outcomes; `threads` threads run handlers.
Result<std::size_t> Engine::Impl::work(const WorkOptions& wo) {
  std::mutex mu;
  std::condition_variable cv_work, cv_done;
  std::deque<Acquired> todo;
  std::vector<Outcome> done;
  bool closing = false;
  std::size_t in_flight = 0;
  std::vector<std::thread> pool;
  for (int i = 0; i < std::max(1, wo.threads); ++i) {
    pool.emplace_back([&] {
      std::unique_lock lock(mu);
      while (true) {
        cv_work.wait(lock, [&] { return closing || !todo.empty(); });
        if (closing || todo.empty()) return;  // what is left is released below
        Acquired a = std::move(todo.front());
        todo.pop_front();
        lock.unlock();
        // A job that waited longer than its lock may be running elsewhere by now.
        const bool expired = clock->now_ms() >= a.lock_expires_ms;
        JobOutcome outcome = expired ? JobOutcome::pending() : call_handler(*a.handler, *a.job);
        lock.lock();
        done.push_back({a.key, std::move(outcome), expired});
        cv_done.notify_one();
      }
    });
  }
  auto stop_pool = [&] {
    {
      std::lock_guard lock(mu);
      closing = true;
    }
    cv_work.notify_all();
    for (auto& t : pool) t.join();
  };
  std::size_t total = 0;
  Status failure;
  const auto stopped = [&] { return wo.stop != nullptr && wo.stop->load(); };
  while (!stopped()) {
    // Keep the handlers busy: top up what they have to do.
    // At most two jobs per handler thread ahead, so none waits long on its lock.
    const int room =
        std::min(wo.max_jobs_per_poll, 2 * std::max(1, wo.threads)) - static_cast<int>(in_flight);
    std::size_t acquired = 0;
    if (room > 0) {
      Result<std::vector<Acquired>> jobs = acquire(room);
      if (!jobs) {
        failure = jobs.status();
        break;
      }
      acquired = jobs->size();
      if (acquired > 0) {
        std::lock_guard lock(mu);
        for (Acquired& a : *jobs) todo.push_back(std::move(a));
        in_flight += acquired;
      }
      if (acquired > 0) cv_work.notify_all();
    }
    Result<std::size_t> fired = fire_due_timers();
    if (!fired) {
      failure = fired.status();
      break;
    }
    total += *fired;
    std::vector<Outcome> ready;
    {
      std::unique_lock lock(mu);
      if (in_flight > 0) {
        cv_done.wait_for(lock, std::chrono::milliseconds(wo.poll_interval_ms),
                         [&] { return !done.empty(); });
      }
      ready.swap(done);
      in_flight -= ready.size();
    }
    if (!ready.empty()) {
      Result<std::size_t> applied = apply_all(ready);
      if (!applied) {
        failure = applied.status();
        break;
      }
      total += *applied;
      continue;
    }
    if (acquired == 0 && *fired == 0 && in_flight == 0) {
      if (wo.until_idle) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(wo.poll_interval_ms));
    }
  }
  stop_pool();
  // Jobs locked here whose handlers never started go back at once, not at lock expiry.
  if (!todo.empty()) {
    Status released = store::sqlite::in_transaction(db->database(), [&]() -> Status {
      for (const Acquired& a : todo) {
        if (Status r = db->release_job(a.key, options.worker_id); !r) return r;
      }
      return Status::ok();
    });
    if (failure.is_ok() && !released) failure = released;
    todo.clear();
    db->forget_jobs();
  }
  // Outcomes that arrived while stopping are applied: their side effects happened.
  if (failure.is_ok() && !done.empty()) {
    Result<std::size_t> applied = apply_all(done);
    if (!applied) return applied.status();
    total += *applied;
  }
  if (!failure.is_ok()) return failure;
  return total;
}

Engine::Engine(EngineOptions options)
    : impl_(std::make_unique<Impl>(std::move(options), nullptr)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::open(const std::string& path, EngineOptions options) {
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
  std::unique_ptr<Engine> engine(new Engine());
  engine->impl_ = std::make_unique<Impl>(std::move(options), std::move(*db));
  if (Status s = engine->impl_->load_deployments(); !s) return s;
  if (Status s = engine->impl_->release_dead_locks(); !s) return s;
  return engine;
}

bool Engine::durable() const noexcept {
  return impl_->db != nullptr;
}

Result<std::vector<Deployment>> Engine::deploy(std::shared_ptr<const BpmnDocument> document) {
  if (!document) return Status::invalid_argument("no document to deploy");
  // What would fail after storing fails before: nothing of a refused document is kept.
  for (const auto& process : document->processes) {
    auto plan = runtime::make_plan(document, process, 0, document->content_hash);
    if (Status s = impl_->rt.check_start_timers(*plan); !s) return s;
  }
  // The new versions and their timer start events, in one transaction.
  std::vector<Deployment> out;
  store::Store& stored = *impl_->store;
  runtime::Runtime& rt = impl_->rt;
  std::vector<std::shared_ptr<const runtime::Plan>> added;
  if (Status s = rt.begin_group(); !s) return s;
  auto fail = [&](Status s) -> Result<std::vector<Deployment>> {
    rt.abort_group();
    return s;
  };
  for (const auto& process : document->processes) {
    Result<std::vector<store::DeploymentRow>> versions = stored.deployments(process->id);
    if (!versions) return fail(versions.status());
    const int latest = versions->empty() ? 0 : versions->back().version;
    // As Zeebe: the same content as the latest version is that version; anything else (an
    // older version's content included) becomes a new latest version.
    if (latest > 0 && versions->back().content_hash == document->content_hash &&
        !document->content_hash.empty()) {
      out.push_back({process->id, latest, document->content_hash});
      continue;
    }
    const int version = latest + 1;
    Status s = stored.add_deployment({process->id, version, document->content_hash,
                                      document->file, document->xml,
                                      document->task_type_defaults_to_id ? 1 : 0,
                                      impl_->clock->now_ms()});
    auto plan = runtime::make_plan(document, process, version, document->content_hash);
    if (s) s = rt.arm_start_timers(*plan);
    if (!s) return fail(s);
    added.push_back(std::move(plan));
    out.push_back({process->id, version, document->content_hash});
  }
  if (Status s = rt.end_group(); !s) return s;
  impl_->documents.emplace(document->content_hash, document);
  for (auto& plan : added) rt.add_plan(std::move(plan));
  return out;
}

Result<std::vector<Deployment>> Engine::deploy_file(const std::string& path) {
  LoadResult loaded = load_bpmn_file(path);
  if (!loaded.ok()) {
    std::string message = "cannot deploy " + path + ":";
    for (const Diagnostic& d : loaded.diagnostics) {
      if (d.severity == Severity::kError) message += "\n  " + format_diagnostic(d);
    }
    return Status::invalid_definition(std::move(message));
  }
  return deploy(loaded.document);
}

Result<InstanceId> Engine::start(std::string_view process_id, nlohmann::json variables,
                                 std::string business_key) {
  StartRequest r;
  r.process_id = std::string(process_id);
  r.variables = std::move(variables);
  r.business_key = std::move(business_key);
  Result<StartResult> started = start_instance(std::move(r));
  if (!started) return started.status();
  return started->id;
}

Result<std::vector<StartResult>> Engine::start_many(const std::vector<StartRequest>& requests) {
  // Everything the caller could have got wrong is checked before anything starts.
  std::vector<std::shared_ptr<const runtime::Plan>> plans;
  plans.reserve(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    Result<std::shared_ptr<const runtime::Plan>> plan = impl_->plan_for(requests[i]);
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
  if (Status s = impl_->rt.begin_group(); !s) return s;
  GroupGuard group(impl_->rt);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    Result<runtime::StartOutcome> r =
        impl_->rt.start(std::move(plans[i]), requests[i].variables, requests[i].business_key);
    if (!r) return r.status();  // the guard rolls the group back
    out.push_back({r->id, r->created, r->version});
  }
  if (Status s = group.end(); !s) return s;
  return out;
}

Result<std::vector<MessageResult>> Engine::publish_many(std::vector<Message> messages) {
  std::vector<MessageResult> out;
  out.reserve(messages.size());
  if (Status s = impl_->rt.begin_group(); !s) return s;
  GroupGuard group(impl_->rt);
  for (Message& m : messages) {
    Result<MessageResult> r = publish_message(std::move(m));
    if (!r) return r.status();  // the guard rolls the group back
    out.push_back(std::move(*r));
  }
  if (Status s = group.end(); !s) return s;
  return out;
}

Result<StartResult> Engine::start_instance(StartRequest request) {
  Result<std::shared_ptr<const runtime::Plan>> plan = impl_->plan_for(request);
  if (!plan) return plan.status();
  Result<runtime::StartOutcome> r = impl_->rt.start(std::move(*plan), std::move(request.variables),
                                                    std::move(request.business_key));
  if (!r) return r.status();
  return StartResult{r->id, r->created, r->version};
}

void Engine::register_handler(std::string type, TaskHandler handler) {
  impl_->handlers[std::move(type)] = std::move(handler);
}

void Engine::set_fallback_handler(TaskHandler handler) {
  impl_->fallback = std::move(handler);
}

std::size_t Engine::run_until_idle() {
  if (impl_->db) {
    Result<std::size_t> done = impl_->run_durable_until_idle();
    return done ? *done : 0;
  }
  std::size_t done = 0;
  auto& ready = impl_->rt.ready_jobs();
  while (true) {
    while (!ready.empty()) {
      const JobKey key = ready.front();
      ready.pop_front();
      if (impl_->dispatch(key)) ++done;
    }
    Result<bool> fired = impl_->rt.fire_next_due_timer();
    if (!fired || !*fired) break;
    ++done;
  }
  return done;
}

Result<std::size_t> Engine::work(const WorkOptions& options) {
  if (!impl_->db) {
    return Status::invalid_argument(
        "work() needs a durable engine (Engine::open); use "
        "run_until_idle() in memory");
  }
  return impl_->work(options);
}

Status Engine::complete_job(JobKey job, nlohmann::json variables) {
  return impl_->rt.complete_job(job, std::move(variables));
}
Status Engine::fail_job(JobKey job, std::string message, std::int64_t backoff_ms, int retries) {
  return impl_->rt.fail_job(job, std::move(message), backoff_ms, retries);
}
Status Engine::throw_error(JobKey job, std::string code, std::string message,
                           nlohmann::json variables) {
  return impl_->rt.throw_job_error(job, std::move(code), std::move(message), std::move(variables));
}

namespace {

// What an external worker gets of a job it has locked (read in the locking transaction).
LockedJob locked_view(runtime::Runtime& rt, const state::JobRecord& job,
                      const std::vector<std::string>& names) {
  const state::Instance& inst = *rt.instance(job.instance);
  const Element& def = inst.plan->element(job.element_index);
  LockedJob out;
  out.key = job.key;
  out.instance = job.instance;
  out.type = job.type;
  out.process_id = inst.plan->def->id;
  out.element_id = def.id;
  out.business_key = inst.business_key;
  out.idempotency_key = job.idempotency_key;
  out.attempt = job.attempt;
  out.retries = job.retries;
  out.headers = def.headers;
  out.lock_expires_ms = job.lock_expires_ms;
  if (names.empty()) {
    out.variables = rt.job_variables(job);
  } else {
    out.variables = nlohmann::json::object();
    for (const std::string& name : names) {
      if (const nlohmann::json* v = rt.job_variable(job, name)) out.variables[name] = *v;
    }
  }
  return out;
}

// Clears the acting worker however the command ends.
class ActingWorker {
 public:
  ActingWorker(runtime::Runtime& rt, std::string_view worker) : rt_(rt) {
    rt_.set_acting_worker(worker);
  }
  ~ActingWorker() { rt_.set_acting_worker({}); }
  ActingWorker(const ActingWorker&) = delete;
  ActingWorker& operator=(const ActingWorker&) = delete;

 private:
  runtime::Runtime& rt_;
};

Status check_worker(std::string_view worker) {
  if (worker.empty()) return Status::invalid_argument("the worker's name is missing");
  return Status::ok();
}

}  // namespace

Result<std::vector<LockedJob>> Engine::fetch_and_lock(const FetchRequest& request) {
  if (Status s = check_worker(request.worker); !s) return s;
  if (request.types.empty()) return Status::invalid_argument("name the job types to fetch");
  if (request.max_jobs < 1) return Status::invalid_argument("fetch at least one job");
  if (request.lock_ms < 1) return Status::invalid_argument("the lock duration must be positive");
  runtime::Runtime& rt = impl_->rt;
  const std::int64_t now = impl_->clock->now_ms();
  const std::int64_t until = now + request.lock_ms;
  std::vector<LockedJob> out;
  if (!impl_->db) {
    for (const state::JobRecord* j : impl_->memory->jobs()) {
      if (out.size() >= static_cast<std::size_t>(request.max_jobs)) break;
      if (std::find(request.types.begin(), request.types.end(), j->type) == request.types.end()) {
        continue;
      }
      const JobKey key = j->key;
      if (j->state != JobState::kCreated &&
          (j->state != JobState::kLocked || j->lock_expires_ms > now)) {
        continue;
      }
      if (Status s = rt.lock_for(key, request.worker, until); !s) return s;
      out.push_back(locked_view(rt, *rt.job(key), request.variables));
    }
    return out;
  }
  if (Status s = rt.begin_group(); !s) return s;
  GroupGuard group(rt);
  Status failed;
  std::vector<state::JobRecord> jobs;
  for (const std::string& type : request.types) {
    const int room = request.max_jobs - static_cast<int>(jobs.size());
    if (room <= 0 || type.empty()) continue;
    Result<std::vector<state::JobRecord>> got =
        impl_->db->acquire_jobs(type, request.worker, now, until, room);
    if (!got) {
      failed = got.status();
      break;
    }
    for (auto& j : *got) jobs.push_back(std::move(j));
  }
  if (failed.is_ok()) {
    std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    for (state::JobRecord& record : jobs) {
      const state::JobRecord* job = rt.remember_job(std::move(record));
      if (rt.instance(job->instance) == nullptr) continue;  // its instance is gone
      out.push_back(locked_view(rt, *job, request.variables));
    }
  }
  if (!failed.is_ok()) return failed;        // the guard rolls the group back
  if (Status s = group.end(); !s) return s;  // also a failed read of an instance
  return out;
}

Status Engine::answer_job(JobKey job, std::string_view worker, JobOutcome outcome) {
  if (Status s = check_worker(worker); !s) return s;
  if (outcome.kind() == JobOutcome::Kind::kPending) {
    return Status::invalid_argument("an external worker answers with an outcome, not pending");
  }
  ActingWorker acting(impl_->rt, worker);
  return impl_->apply(job, outcome);
}

Status Engine::extend_lock(JobKey job, std::string_view worker, std::int64_t lock_ms) {
  if (Status s = check_worker(worker); !s) return s;
  if (lock_ms < 1) return Status::invalid_argument("the lock duration must be positive");
  ActingWorker acting(impl_->rt, worker);
  return impl_->rt.extend_lock(job, impl_->clock->now_ms() + lock_ms);
}

void Engine::leave_to_external_workers(std::vector<std::string> types) {
  impl_->external.clear();
  nlohmann::json list = nlohmann::json::array();
  for (std::string& t : types) {
    list.push_back(t);
    impl_->external.insert(std::move(t));
  }
  impl_->external_json = list.dump();
}

Result<int> Engine::correlate_message(std::string_view name, std::string_view correlation_key,
                                      nlohmann::json variables, std::int64_t ttl_ms) {
  Result<runtime::Correlation> c =
      impl_->rt.correlate(name, correlation_key, std::move(variables), ttl_ms);
  if (!c) return c.status();
  return static_cast<int>(c->instances.size());
}

Result<MessageResult> Engine::publish_message(Message message) {
  Result<runtime::Correlation> c =
      impl_->rt.correlate(message.name, message.correlation_key, std::move(message.variables),
                          message.ttl_ms, message.message_id);
  if (!c) return c.status();
  return MessageResult{std::move(c->instances), c->buffered, c->duplicate};
}

Status Engine::cancel(InstanceId instance) {
  return impl_->rt.cancel(instance);
}

Status Engine::set_variables(InstanceId instance, nlohmann::json variables) {
  return impl_->rt.set_variables(instance, std::move(variables));
}

Status Engine::resolve_incident(IncidentKey incident, int job_retries) {
  return impl_->rt.resolve_incident(incident, job_retries);
}

Status Engine::advance_clock(std::int64_t ms) {
  auto* virtual_clock = dynamic_cast<VirtualClock*>(impl_->clock.get());
  if (virtual_clock == nullptr) {
    return Status::invalid_argument("advance_clock needs an engine built with a VirtualClock");
  }
  virtual_clock->advance(ms);
  run_until_idle();
  return Status::ok();
}

const Clock& Engine::clock() const noexcept {
  return *impl_->clock;
}

Result<InstanceInfo> Engine::instance(InstanceId id) const {
  const state::Instance* inst = impl_->rt.instance(id);
  if (inst == nullptr) {
    if (Status e = impl_->rt.take_read_error(); !e) return e;
    return Status::not_found("no instance " + std::to_string(id));
  }
  InstanceInfo out = summary_of(*inst);
  out.variables = inst->vars;
  for (const state::ElementInstance& e : inst->elements) {
    const Element& def = inst->plan->element(e.element);
    out.elements.push_back({def.id, def.kind, e.state});
  }
  for (const state::Incident& i : inst->incidents)
    out.incidents.push_back(incident_info(*inst, i));
  return out;
}

std::vector<JobInfo> Engine::open_jobs(std::string_view type) const {
  std::vector<JobInfo> out;
  Result<std::vector<state::JobRecord>> jobs = impl_->store->list_jobs(type);
  if (!jobs) return out;
  for (state::JobRecord& j : *jobs) {
    const state::Instance* inst = impl_->rt.instance(j.instance);
    JobInfo info;
    info.key = j.key;
    info.instance = j.instance;
    info.type = std::move(j.type);
    if (inst != nullptr) info.element_id = inst->plan->element(j.element_index).id;
    info.state = j.state;
    info.retries = j.retries;
    info.attempt = j.attempt;
    info.idempotency_key = std::move(j.idempotency_key);
    info.last_error = std::move(j.last_error);
    out.push_back(std::move(info));
  }
  return out;
}

std::vector<IncidentInfo> Engine::incidents() const {
  Result<std::vector<IncidentInfo>> r = read_incidents();
  return r ? std::move(*r) : std::vector<IncidentInfo>{};
}

Result<std::vector<IncidentInfo>> Engine::read_incidents() const {
  Result<std::vector<store::IncidentRow>> rows = impl_->store->list_incidents();
  if (!rows) return rows.status();
  std::vector<IncidentInfo> out;
  out.reserve(rows->size());
  for (auto& r : *rows) {
    out.push_back({r.key, r.instance, std::move(r.element_id), r.job, std::move(r.type),
                   std::move(r.message), r.created_ms});
  }
  return out;
}

std::vector<HistoryEvent> Engine::history(InstanceId id) const {
  Result<std::vector<HistoryEvent>> r = read_history(id);
  return r ? std::move(*r) : std::vector<HistoryEvent>{};
}

Result<std::vector<HistoryEvent>> Engine::read_history(InstanceId id) const {
  return impl_->store->history(id);
}

Result<std::vector<InstanceCount>> Engine::count_instances() const {
  Result<std::vector<store::InstanceCountRow>> rows = impl_->store->count_instances();
  if (!rows) return rows.status();
  std::vector<InstanceCount> out;
  out.reserve(rows->size());
  for (auto& r : *rows) {
    out.push_back({std::move(r.process_id), r.state, std::move(r.end_event), r.count});
  }
  return out;
}

Result<std::vector<InstanceInfo>> Engine::instances(const InstanceFilter& filter) const {
  store::InstanceQuery query;
  query.state = filter.state;
  query.process_id = filter.process_id;
  query.business_key = filter.business_key;
  query.limit = filter.limit;
  Result<std::vector<store::InstanceRow>> rows = impl_->store->list_instances(query);
  if (!rows) return rows.status();
  std::vector<InstanceInfo> out;
  out.reserve(rows->size());
  for (auto& r : *rows) {
    InstanceInfo i;
    i.id = r.id;
    i.process_id = std::move(r.process_id);
    i.version = r.version;
    i.business_key = std::move(r.business_key);
    i.state = r.state;
    i.end_event = std::move(r.end_event);
    i.started_ms = r.started_ms;
    i.ended_ms = r.ended_ms;
    i.parent = r.parent;
    out.push_back(std::move(i));
  }
  return out;
}

std::vector<Deployment> Engine::deployments() const {
  std::vector<Deployment> out;
  Result<std::vector<store::DeploymentRow>> rows = impl_->store->deployments();
  if (!rows) return out;
  for (auto& r : *rows) out.push_back({r.process_id, r.version, r.content_hash});
  return out;
}

Result<std::shared_ptr<const ProcessDefinition>> Engine::definition(std::string_view process_id,
                                                                    int version) const {
  std::shared_ptr<const runtime::Plan> plan = impl_->load_plan(process_id, version);
  if (plan == nullptr) {
    return Status::not_found("no process '" + std::string(process_id) + "'" +
                             (version ? " version " + std::to_string(version) : std::string()) +
                             " is deployed");
  }
  return plan->definition;
}

Status Engine::backup(const std::string& dest) const {
  if (!impl_->db) return Status::invalid_argument("an in-memory engine has no database to back up");
  return impl_->db->backup(dest);
}

std::optional<std::int64_t> Engine::next_timer_due() const {
  return impl_->rt.next_timer_due();
}

Result<std::size_t> Engine::discard_buffered_messages() {
  if (impl_->db) {
    return Status::invalid_argument(
        "discard_buffered_messages() is for engines in memory; a durable engine's buffered "
        "messages expire by their TTL");
  }
  return impl_->memory->discard_buffered();
}

void Engine::add_observer(Observer* observer) {
  impl_->observers.push_back(observer);
  impl_->rt.set_recording(true);
}

void Engine::remove_observer(Observer* observer) {
  std::erase(impl_->observers, observer);
  impl_->rt.set_recording(impl_->options.keep_history || !impl_->observers.empty());
}

}  // namespace ordo
