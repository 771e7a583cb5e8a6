// Handing jobs to their handlers: run_until_idle() (one thread) and work() (handler threads,
// group commit), over the runtime's commands.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "facade/impl.h"

namespace ordo {
namespace facade {

// A job as a handler thread sees it: copies, so the handler needs nothing of the runtime.
class JobSnapshot final : public Job {
 public:
  JobSnapshot(const runtime::Runtime& rt, const state::JobRecord& job, const state::Instance& inst,
              const Element& def)
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
  std::shared_ptr<const state::Plan> plan_;  // keeps def_ alive
  const Element& def_;
  std::string business_key_;
  std::string idempotency_key_;
  int attempt_;
  int retries_;
  const Clock& clock_;  // the engine's; it outlives every job
  nlohmann::json variables_;
};

}  // namespace facade

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

}  // namespace

Status Engine::Impl::apply(JobKey key, JobOutcome& outcome) {
  const bool has_vars = outcome.kind() == JobOutcome::Kind::kComplete ||
                        outcome.kind() == JobOutcome::Kind::kError ||
                        outcome.kind() == JobOutcome::Kind::kEscalate;
  if (has_vars && !outcome.variables().is_null() && !outcome.variables().is_object()) {
    // A handler's mistake fails its job (and becomes an incident), nothing else.
    return rt.fail_job(key, "the handler answered with variables that are not a JSON object", 0);
  }
  // A shared store's group may be rolled back and applied again (a damaged instance held
  // meanwhile, holding_damaged): its outcomes keep their variables. In memory they move.
  auto variables = [&] {
    return store->shared() ? nlohmann::json(outcome.variables()) : std::move(outcome.variables());
  };
  switch (outcome.kind()) {
    case JobOutcome::Kind::kComplete:
      return rt.complete_job(key, variables());
    case JobOutcome::Kind::kFail:
      return rt.fail_job(key, outcome.message(), outcome.backoff_ms(), outcome.retries());
    case JobOutcome::Kind::kError:
      return rt.throw_job_error(key, outcome.error_code(), outcome.message(), variables());
    case JobOutcome::Kind::kDefer:
      return rt.defer_job(key, outcome.backoff_ms(), outcome.message());
    case JobOutcome::Kind::kPending:
      // A shared store: the job is locked by this worker already, until its lock runs out.
      // Otherwise it is locked now, and stays so until it is answered.
      return store->shared() ? Status::ok() : rt.lock_job(key);
    case JobOutcome::Kind::kEscalate: {
      if (outcome.error_code().empty()) {
        return rt.fail_job(key, "the handler escalated without an escalation code", 0);
      }
      if (Status s = rt.throw_job_escalation(key, outcome.error_code(), variables()); !s) {
        return s;
      }
      // Still open (no interrupting catch): the handler's, as after pending().
      const state::JobRecord* job = rt.job(key);
      if (job == nullptr || job->state != JobState::kCreated || store->shared()) {
        return Status::ok();
      }
      return rt.lock_job(key);
    }
  }
  return Status::ok();
}

// In memory: hands one ready job to its handler.
bool Engine::Impl::dispatch(JobKey key) {
  const state::JobRecord* job = rt.job(key);
  if (job == nullptr || job->state != JobState::kCreated) return false;
  const TaskHandler* handler = handler_for(job->type);
  if (handler == nullptr) return false;  // left for an external worker
  // This thread runs the handler under the engine lock (Impl::dispatching).
  struct Dispatching {
    std::atomic<std::thread::id>& mark;
    explicit Dispatching(std::atomic<std::thread::id>& m) : mark(m) {
      mark.store(std::this_thread::get_id(), std::memory_order_relaxed);
    }
    ~Dispatching() { mark.store(std::thread::id(), std::memory_order_relaxed); }
    Dispatching(const Dispatching&) = delete;
    Dispatching& operator=(const Dispatching&) = delete;
  };
  JobOutcome outcome = [&] {
    Dispatching running(dispatching);
    return call_handler(*handler, JobView(rt, *job));
  }();
  (void)apply(key, outcome);
  return true;
}

// ---- deployments ----

// Locks up to `limit` jobs that have handlers here and takes what their handlers need,
// in one transaction.
Result<std::vector<Engine::Impl::Acquired>> Engine::Impl::acquire(int limit) {
  return holding_damaged([&]() -> Result<std::vector<Acquired>> {
    if (Status s = rt.begin_group(); !s) return s;
    Result<std::vector<Acquired>> out = acquire_in_group(limit);
    if (!out) {
      rt.abort_group();
      return out;
    }
    if (Status e = rt.end_group(); !e) return e;
    return out;
  });
}

bool Engine::Impl::hold_damaged(const Status& failure) {
  if (failure.code() != StatusCode::kCorruption) return false;
  const std::optional<InstanceId> id = rt.take_damaged();
  if (!id) return false;
  Result<bool> held = rt.hold_damaged(*id, failure.message());
  return held.is_ok() && *held;
}

// What a handler needs of a job locked here, read in the current transaction; nothing
// when the job is gone (cancelled) or has no handler here.
std::optional<Engine::Impl::Acquired> Engine::Impl::snapshot(JobKey key) {
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
Result<std::vector<state::JobRecord>> Engine::Impl::acquire_records(int limit) {
  const std::int64_t now = clock->now_ms();
  std::vector<state::JobRecord> jobs;
  auto take = [&](std::string_view type) -> Status {
    const int room = limit - static_cast<int>(jobs.size());
    if (room <= 0) return Status::ok();
    Result<std::vector<state::JobRecord>> got = store->acquire_jobs(
        type, options.worker_id, now, now + options.job_lock_ms, room, external_list);
    if (!got) return got.status();
    for (auto& j : *got) jobs.push_back(std::move(j));
    return Status::ok();
  };
  if (fallback) {
    if (Status s = take({}); !s) return s;
  } else {
    for (const auto& [type, handler] : handlers) {
      if (!handler) continue;
      if (Status s = take(type); !s) return s;
    }
  }
  return jobs;
}

// The same, with their snapshots.
Result<std::vector<Engine::Impl::Acquired>> Engine::Impl::acquire_in_group(int limit) {
  Result<std::vector<state::JobRecord>> jobs = acquire_records(limit);
  if (!jobs) return jobs.status();
  std::sort(jobs->begin(), jobs->end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  std::vector<Acquired> out;
  out.reserve(jobs->size());
  std::vector<JobKey> keys;
  keys.reserve(jobs->size());
  for (state::JobRecord& record : *jobs) {
    keys.push_back(record.key);
    rt.remember_job(std::move(record));
  }
  if (Status s = store->prefetch_jobs(keys); !s) return s;  // their instances, at once
  for (JobKey key : keys) {
    if (std::optional<Acquired> a = snapshot(key)) out.push_back(std::move(*a));
  }
  return out;
}

// Inside an open group: applies outcomes. Only a store failure (the group's) stops it; a
// job another worker finished or cancelled meanwhile concerns that job alone.
Status Engine::Impl::apply_in_group(std::vector<Outcome>& outcomes, std::size_t from,
                                    std::size_t to) {
  if (to - from > 1) {
    std::vector<JobKey> keys;
    keys.reserve(to - from);
    for (std::size_t k = from; k < to; ++k) {
      if (!outcomes[k].expired) keys.push_back(outcomes[k].key);
    }
    if (Status s = store->prefetch_jobs(keys); !s) return s;
  }
  for (std::size_t k = from; k < to; ++k) {
    if (outcomes[k].expired) continue;
    Status s = apply(outcomes[k].key, outcomes[k].outcome);
    if (!s && rt.group_failed()) return s;
  }
  return Status::ok();
}

// Inside an open group: fires up to `limit` due timers; how many it fired.
Result<std::size_t> Engine::Impl::fire_in_group(std::size_t limit) {
  std::size_t fired = 0;
  while (fired < limit) {
    Result<bool> f = rt.fire_next_due_timer();
    if (!f) return f.status();
    if (!*f) break;
    ++fired;
  }
  return fired;
}

// Applies outcomes in groups of options.group_commit, a transaction each.
Result<std::size_t> Engine::Impl::apply_all(std::vector<Outcome>& outcomes) {
  const std::size_t group = group_size();
  for (std::size_t i = 0; i < outcomes.size(); i += group) {
    Status applied = holding_damaged([&]() -> Status {
      if (Status s = rt.begin_group(); !s) return s;
      if (Status s = apply_in_group(outcomes, i, std::min(outcomes.size(), i + group)); !s) {
        rt.abort_group();
        return s;
      }
      return rt.end_group();
    });
    if (!applied) {
      // Kept for the next call: those not applied. A group whose commit may have gone
      // through all the same is not kept (applied twice, a failure would cost two retries);
      // its jobs come back when their locks run out, and run again.
      const std::size_t end =
          store->commit_unknown() ? std::min(outcomes.size(), i + group) : i;
      outcomes.erase(outcomes.begin(), outcomes.begin() + static_cast<std::ptrdiff_t>(end));
      return applied;
    }
  }
  return outcomes.size();
}

Status Engine::Impl::settle_unfinished() {
  if (!unreleased.empty()) {
    Status released = in_transaction([&]() -> Status {
      for (JobKey key : unreleased) {
        if (Status r = store->release_job(key, options.worker_id); !r) return r;
      }
      return Status::ok();
    });
    store->forget_jobs();
    if (!released) return released;
    unreleased.clear();
  }
  if (!unapplied.empty()) {
    if (Result<std::size_t> applied = apply_all(unapplied); !applied) return applied.status();
    unapplied.clear();
  }
  return Status::ok();
}

// Fires up to group_commit due timers in one transaction.
Result<std::size_t> Engine::Impl::fire_due_group() {
  return holding_damaged([&]() -> Result<std::size_t> {
    if (Status s = rt.begin_group(); !s) return s;
    Result<std::size_t> fired = fire_in_group(group_size());
    if (!fired) {
      rt.abort_group();
      return fired.status();
    }
    if (Status s = rt.end_group(); !s) return s;
    return fired;
  });
}

// Rounds of one transaction each: the outcomes of the last round's jobs, the timers due
// now (up to the group size), and the locks on the next round's jobs; the handlers run
// between transactions.
Result<std::size_t> Engine::Impl::run_durable_until_idle(Call& call) {
  const int group = std::max(1, options.group_commit);
  std::size_t done = 0;
  if (Status s = settle_unfinished(); !s) return s;
  std::vector<Outcome> outcomes;
  std::vector<JobKey> carry;  // locked here, not handled yet
  // A round that fails leaves its outcomes, and the jobs locked for later rounds, to be
  // settled by the next call.
  struct Leave {
    Impl& impl;
    std::vector<Outcome>& outcomes;
    std::vector<JobKey>& carry;
    bool finished = false;
    ~Leave() {
      if (finished) return;
      // Not when the round may have committed all the same (see apply_all()).
      if (!impl.store->commit_unknown()) {
        for (Outcome& o : outcomes) impl.unapplied.push_back(std::move(o));
      }
      impl.unreleased.insert(impl.unreleased.end(), carry.begin(), carry.end());
    }
  } leave{*this, outcomes, carry};
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
    // A round that meets a damaged instance is done again once the instance is held, from
    // where it began (what it did was rolled back).
    const std::vector<JobKey> carried = carry;
    const bool maybe_more_before = maybe_more;
    auto retry = [&](const Status& s) {
      if (!hold_damaged(s)) return false;
      carry = carried;
      maybe_more = maybe_more_before;
      return true;
    };
    if (Status s = rt.begin_group(); !s) return s;
    if (Status s = apply_in_group(outcomes, 0, outcomes.size()); !s) {
      rt.abort_group();
      if (retry(s)) continue;
      return s;
    }
    Result<std::size_t> fired_now = fire_in_group(static_cast<std::size_t>(group));
    if (!fired_now) {
      rt.abort_group();
      if (retry(fired_now.status())) continue;
      return fired_now.status();
    }
    const std::size_t fired = *fired_now;
    // The buffered messages this round's new subscriptions took are delivered now, before
    // any job is handed out: one may interrupt the task whose job was just created.
    if (Status s = rt.settle_takes(); !s) {
      rt.abort_group();
      if (retry(s)) continue;
      return s;
    }
    // This round's jobs: the `group` oldest (lowest keys) of those carried over, created
    // locked by this round's commands, and still waiting to be acquired, as in memory.
    for (JobKey key : rt.claimed()) carry.push_back(key);
    rt.claimed().clear();
    // The store is asked for jobs in the first round and whenever someone else may have
    // made some; the jobs this loop creates are claimed as they are created.
    if (rt.jobs_to_acquire() || maybe_more) {
      Result<std::vector<state::JobRecord>> acquired = acquire_records(group);
      if (!acquired) {
        rt.abort_group();
        if (retry(acquired.status())) continue;
        return acquired.status();
      }
      maybe_more = acquired->size() == static_cast<std::size_t>(group);
      for (state::JobRecord& j : *acquired) {
        carry.push_back(j.key);
        rt.remember_job(std::move(j));
      }
    }
    std::sort(carry.begin(), carry.end());
    carry.erase(std::unique(carry.begin(), carry.end()), carry.end());
    const std::size_t take = std::min(carry.size(), static_cast<std::size_t>(group));
    if (Status s = store->prefetch_jobs(std::vector<JobKey>(
            carry.begin(), carry.begin() + static_cast<std::ptrdiff_t>(take)));
        !s) {
      rt.abort_group();
      if (retry(s)) continue;
      return s;
    }
    std::vector<Acquired> jobs;
    for (std::size_t i = 0; i < take; ++i) {
      // The snapshot is taken now, in the transaction before the handler runs.
      if (std::optional<Acquired> a = snapshot(carry[i])) jobs.push_back(std::move(*a));
    }
    carry.erase(carry.begin(), carry.begin() + static_cast<std::ptrdiff_t>(take));
    if (Status s = rt.end_group(); !s) {
      if (retry(s)) continue;
      return s;
    }
    // Jobs that commands at the end of the group created (delivering the buffered messages
    // its new subscriptions took) are this loop's as well.
    for (JobKey key : rt.claimed()) carry.push_back(key);
    rt.claimed().clear();
    done += outcomes.size() + fired;
    outcomes.clear();
    if (jobs.empty() && fired == 0 && carry.empty()) {
      leave.finished = true;
      return done;
    }
    // The handlers run without the engine lock: other calls go on meanwhile.
    call.leave();
    outcomes.reserve(jobs.size());
    for (Acquired& a : jobs) outcomes.push_back({a.key, call_handler(*a.handler, *a.job)});
    call.enter();
  }
}

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
  {
    Call call(*this);
    failure = settle_unfinished();
  }
  const auto stopped = [&] { return !failure.is_ok() || (wo.stop != nullptr && wo.stop->load()); };
  while (!stopped()) {
    // Keep the handlers busy: top up what they have to do.
    // At most two jobs per handler thread ahead, so none waits long on its lock.
    const int room =
        std::min(wo.max_jobs_per_poll, 2 * std::max(1, wo.threads)) - static_cast<int>(in_flight);
    std::size_t acquired = 0;
    if (room > 0) {
      Result<std::vector<Acquired>> jobs = [&] {
        Call call(*this);
        // What commands made ready for run_until_idle() is found here by the store.
        rt.ready_jobs().clear();
        return acquire(room);
      }();
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
    Result<std::size_t> fired = [&] {
      Call call(*this);
      // One group a round: however many timers are due, a stop is noticed between groups.
      return fire_due_group();
    }();
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
      Result<std::size_t> applied = [&] {
        Call call(*this);
        return apply_all(ready);
      }();
      if (!applied) {
        failure = applied.status();
        for (Outcome& o : ready) unapplied.push_back(std::move(o));
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
  Call call(*this);
  if (!todo.empty()) {
    Status released = in_transaction([&]() -> Status {
      for (const Acquired& a : todo) {
        if (Status r = store->release_job(a.key, options.worker_id); !r) return r;
      }
      return Status::ok();
    });
    if (!released) {
      for (const Acquired& a : todo) unreleased.push_back(a.key);
      if (failure.is_ok()) failure = released;
    }
    todo.clear();
    store->forget_jobs();
  }
  // Outcomes that arrived while stopping are applied: their side effects happened. After a
  // failure they are left for the next call, as are the ones that fail now.
  if (failure.is_ok() && !done.empty()) {
    Result<std::size_t> applied = apply_all(done);
    if (applied) {
      total += *applied;
      done.clear();
    } else {
      failure = applied.status();
    }
  }
  for (Outcome& o : done) unapplied.push_back(std::move(o));
  if (!failure.is_ok()) return failure;
  return total;
}

Result<std::size_t> Engine::run_until_idle() {
  // Where another process may take a job, jobs are locked before their handlers run, in
  // rounds that share transactions; otherwise the jobs the commands made ready are handed
  // out as they come.
  Impl::Call call(*impl_);
  if (impl_->store->shared()) return impl_->run_durable_until_idle(call);
  std::size_t done = 0;
  auto& ready = impl_->rt.ready_jobs();
  while (true) {
    while (!ready.empty()) {
      const JobKey key = ready.front();
      ready.pop_front();
      if (impl_->dispatch(key)) ++done;
    }
    Result<bool> fired = impl_->rt.fire_next_due_timer();
    if (!fired) return fired.status();
    if (!*fired) break;
    ++done;
  }
  return done;
}

Result<std::size_t> Engine::work(const WorkOptions& options) {
  return impl_->work(options);
}

}  // namespace ordo
