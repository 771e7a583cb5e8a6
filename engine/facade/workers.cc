// Workers: external workers that fetch, lock and answer jobs, and the identity of this
// process in job locks (released at once when a process of this host is known dead).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <random>

#include "facade/impl.h"

namespace ordo {
namespace facade {
namespace {

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

}  // namespace

// "host:pid:random@pidns"
std::string default_worker_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = 0;
  std::random_device rd;
  char suffix[9];
  std::snprintf(suffix, sizeof suffix, "%08x", rd());
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + suffix + "@" + pid_namespace();
}

}  // namespace facade

namespace {

// Whether a lock owner named like default_worker_id() is a process of this host and PID
// namespace that has ended. Anything else (another host or container, a custom name, a live
// process) is presumed alive: its locks are released only when they expire.
bool owner_is_dead(const std::string& owner) {
  const std::size_t a = owner.find(':');
  const std::size_t b = a == std::string::npos ? a : owner.find(':', a + 1);
  const std::size_t at = owner.rfind('@');
  if (b == std::string::npos || at == std::string::npos || at < b) return false;
  const std::string ns = facade::pid_namespace();
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

}  // namespace

// Frees the jobs of workers of this host that died holding them.
Status Engine::Impl::release_dead_locks() {
  Result<std::vector<std::string>> owners = store->lock_owners();
  if (!owners) return owners.status();
  for (const std::string& owner : *owners) {
    if (!owner_is_dead(owner)) continue;
    Status s = in_transaction([&]() -> Status {
      Result<int> n = store->release_locks(owner);
      return n ? Status::ok() : n.status();
    });
    if (!s) return s;
    store->forget_jobs();
  }
  return Status::ok();
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
  Impl::Call call(*impl_);
  if (Status s = check_worker(request.worker); !s) return s;
  if (request.types.empty()) return Status::invalid_argument("name the job types to fetch");
  if (request.max_jobs < 1) return Status::invalid_argument("fetch at least one job");
  if (request.lock_ms < 1) return Status::invalid_argument("the lock duration must be positive");
  // A job of a damaged instance: the instance is held and the fetch made again without it.
  return impl_->holding_damaged([&] { return impl_->fetch_once(request); });
}

Result<std::vector<LockedJob>> Engine::Impl::fetch_once(const FetchRequest& request) {
  const std::int64_t now = clock->now_ms();
  const std::int64_t until = now + request.lock_ms;
  std::vector<LockedJob> out;
  if (Status s = rt.begin_group(); !s) return s;
  GroupGuard group(rt);
  Status failed;
  std::vector<state::JobRecord> jobs;
  for (const std::string& type : request.types) {
    const int room = request.max_jobs - static_cast<int>(jobs.size());
    if (room <= 0 || type.empty()) continue;
    Result<std::vector<state::JobRecord>> got =
        store->acquire_jobs(type, request.worker, now, until, room, {});
    if (!got) {
      failed = got.status();
      break;
    }
    for (auto& j : *got) jobs.push_back(std::move(j));
  }
  if (failed.is_ok()) {
    std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    std::vector<const state::JobRecord*> locked;
    std::vector<JobKey> keys;
    locked.reserve(jobs.size());
    keys.reserve(jobs.size());
    for (state::JobRecord& record : jobs) {
      keys.push_back(record.key);
      locked.push_back(rt.remember_job(std::move(record)));
    }
    // Their instances at once, where each read is a round trip (PostgreSQL).
    failed = store->prefetch_jobs(keys);
    for (std::size_t i = 0; failed.is_ok() && i < locked.size(); ++i) {
      const state::JobRecord* job = locked[i];
      if (rt.instance(job->instance) == nullptr) continue;  // its instance is gone
      out.push_back(locked_view(rt, *job, request.variables));
    }
  }
  if (!failed.is_ok()) return failed;        // the guard rolls the group back
  if (Status s = group.end(); !s) return s;  // also a failed read of an instance
  return out;
}

Status Engine::answer_job(JobKey job, std::string_view worker, JobOutcome outcome) {
  Impl::Call call(*impl_);
  if (Status s = check_worker(worker); !s) return s;
  if (outcome.kind() == JobOutcome::Kind::kPending) {
    return Status::invalid_argument("an external worker answers with an outcome, not pending");
  }
  ActingWorker acting(impl_->rt, worker);
  // apply() keeps the outcome's variables on a shared store: it may run again.
  return impl_->command([&](bool) { return impl_->apply(job, outcome); });
}

Status Engine::escalate(JobKey job, std::string_view worker, std::string code,
                        nlohmann::json variables) {
  Impl::Call call(*impl_);
  if (Status s = check_worker(worker); !s) return s;
  if (code.empty()) return Status::invalid_argument("an escalation needs a code");
  ActingWorker acting(impl_->rt, worker);
  return impl_->command([&](bool keep) {
    return impl_->rt.throw_job_escalation(job, code,
                                          keep ? nlohmann::json(variables) : std::move(variables));
  });
}

Status Engine::extend_lock(JobKey job, std::string_view worker, std::int64_t lock_ms) {
  Impl::Call call(*impl_);
  if (Status s = check_worker(worker); !s) return s;
  if (lock_ms < 1) return Status::invalid_argument("the lock duration must be positive");
  ActingWorker acting(impl_->rt, worker);
  return impl_->rt.extend_lock(job, impl_->clock->now_ms() + lock_ms);
}

void Engine::leave_to_external_workers(std::vector<std::string> types) {
  Impl::Call call(*impl_);
  impl_->external.clear();
  impl_->external_list = types;
  for (std::string& t : types) impl_->external.insert(std::move(t));
}

}  // namespace ordo
