// Jobs: the work of service, send, user and business rule tasks and message throw events.
#include "runtime/runtime.h"

#include <charconv>

#include "ordo/task_handler.h"  // kUserTaskJobType
#include "time/iso8601.h"

namespace ordo::runtime {

void Runtime::create_job(Instance& inst, ElemKey key) {
  ElementInstance* el = inst.find(key);
  const Element& def = inst.plan->element(el->element);
  std::string type;
  if (def.task.type.empty()) {
    if (def.kind == ElementKind::kUserTask) {
      type = kUserTaskJobType;
    } else {
      incident(inst, key, IncidentRetry::kActivate, IncidentKind::kJobType,
               std::string(describe(def.kind)) + " '" + def.id +
                   "' has no job type; give it a zeebe:taskDefinition type");
      return;
    }
  } else {
    Result<std::string> t = eval_string(inst, key, def.task.type);
    if (!t) {
      incident(inst, key, IncidentRetry::kActivate, IncidentKind::kExpression, t.status().message());
      return;
    }
    type = std::move(*t);
  }
  int retries = options_.default_job_retries;
  if (!def.task.retries.empty()) {
    Result<std::string> r = eval_string(inst, key, def.task.retries);
    int n = 0;
    if (!r || std::from_chars(r->data(), r->data() + r->size(), n).ec != std::errc{} || n < 0) {
      incident(inst, key, IncidentRetry::kActivate, IncidentKind::kExpression,
               "retries of '" + def.id + "' must be a whole number");
      return;
    }
    retries = n;
  }
  const JobKey job_key = new_key();
  JobRecord fresh;
  fresh.key = job_key;
  JobRecord& job = store_.put_job(std::move(fresh));
  job.instance = inst.id;
  job.element = key;
  job.element_index = el->element;
  job.retries = retries;
  job.type = std::move(type);
  // Stable for the life of the job, across retries and restarts.
  job.idempotency_key.reserve(inst.plan->def->id.size() + 24);
  job.idempotency_key.append(inst.plan->def->id).push_back(':');
  job.idempotency_key.append(std::to_string(inst.id)).push_back(':');
  job.idempotency_key.append(std::to_string(key));
  el->job = job_key;
  touch_job(job_key);
  if (claim_ && claim_(job.type)) {
    job.state = *next(job.state, JobEvent::kLock);
    job.lock_owner = lock_owner_;
    job.lock_expires_ms = now() + lock_ms_;
    claimed_.push_back(job_key);
  } else {
    made_ready(job_key);
  }
  emit(inst, HistoryKind::kJobCreated, el->element, job_key, retries, detailed() ? job.type : "");
}

void Runtime::cancel_job(Instance& inst, ElementInstance& el) {
  const JobKey key = el.job;
  el.job = 0;
  JobRecord* job = find_job(key);
  if (job == nullptr) return;
  if (auto n = next(job->state, JobEvent::kCancel)) job->state = *n;
  emit(inst, HistoryKind::kJobCancelled, job->element_index, key);
  store_.remove_job(key);
  touch_job(key);
}

Result<JobRecord*> Runtime::begin_with_job(JobKey key) {
  if (Status s = begin(); !s) return s;
  JobRecord* job = find_job(key);
  if (job == nullptr) {
    abandon();
    return store_failure_.is_ok() ? Status::not_found("no open job " + std::to_string(key))
                                  : store_failure_;
  }
  return job;
}

Status Runtime::lock_job(JobKey key) {
  Result<JobRecord*> found = begin_with_job(key);
  if (!found) return found.status();
  JobRecord* job = *found;
  if (auto n = next(job->state, JobEvent::kLock)) job->state = *n;
  if (!lock_owner_.empty()) {  // a worker with a name: its lock runs out if it dies
    job->lock_owner = lock_owner_;
    job->lock_expires_ms = now() + lock_ms_;
  }
  touch_job(key);
  return commit();
}

Status Runtime::extend_lock(JobKey key, std::int64_t until_ms) {
  Result<JobRecord*> found = begin_on_job(key);
  if (!found) return found.status();
  (*found)->lock_expires_ms = until_ms;
  touch_job(key);
  return commit();
}

Result<JobRecord*> Runtime::open_job(JobKey key) {
  JobRecord* job = find_job(key);
  if (job == nullptr) {
    if (!store_failure_.is_ok()) return store_failure_;
    return Status::not_found("no open job " + std::to_string(key));
  }
  if (job->lock_owner == kSuspendedOwner) {
    return Status(StatusCode::kConflict,
                  "instance " + std::to_string(job->instance) + " of job " + std::to_string(key) +
                      " is suspended: no answer is taken until it is resumed, and the job is "
                      "handed out again then");
  }
  if (!acting_.empty() && (job->state != JobState::kLocked || job->lock_owner != acting_)) {
    // An external worker answers only what it holds. Its lock may have run out: as long as
    // nobody else has fetched the job since, the answer still counts.
    std::string why = "job " + std::to_string(key) + " is not locked by worker '" + acting_ + "'";
    if (job->state == JobState::kLocked && !job->lock_owner.empty()) {
      why +=
          ": worker '" + job->lock_owner + "' holds it (the lock ran out and it was fetched again)";
    } else {
      why += ": fetch and lock it first";
    }
    return Status(StatusCode::kConflict, std::move(why));
  }
  const std::string& me = acting_.empty() ? lock_owner_ : acting_;
  if (job->state == JobState::kLocked && !job->lock_owner.empty() && job->lock_owner != me &&
      job->lock_expires_ms > now()) {
    return Status(StatusCode::kConflict,
                  "job " + std::to_string(key) + " is locked by worker " + job->lock_owner +
                      "; only that worker can answer it until its lock expires");
  }
  if (job->state != JobState::kCreated && job->state != JobState::kLocked) {
    return Status(StatusCode::kConflict, "job " + std::to_string(key) + " is " +
                                             std::string(to_string(job->state)) + ", not open");
  }
  const Instance* inst = live(job->instance);
  if (inst == nullptr) {
    if (!store_failure_.is_ok()) return store_failure_;
    return Status(StatusCode::kConflict,
                  "the instance of job " + std::to_string(key) + " has ended");
  }
  return job;
}

std::int64_t Runtime::retry_backoff(Instance& inst, const JobRecord& job) {
  const Element& def = inst.plan->element(job.element_index);
  if (!def.task.retry_backoff.empty()) {
    // camunda:failedJobRetryTimeCycle: a cycle such as R3/PT10S, or a plain duration.
    if (Result<std::string> text = eval_string(inst, job.element, def.task.retry_backoff)) {
      const std::int64_t t = now();
      // (A backoff beyond the year 9999 is taken as the longest there is.)
      const auto after = [t](const time::Duration& d) {
        return time::add_within(t, d).value_or(time::kLatestMs) - t;
      };
      if (auto c = time::parse_cycle(*text)) return after(c->interval);
      if (auto d = time::parse_duration(*text)) return after(*d);
    }
  }
  std::int64_t backoff = options_.retry_backoff_ms;
  for (int i = 1; i < job.attempt && backoff < options_.retry_backoff_max_ms; ++i) backoff *= 2;
  return std::min(backoff, options_.retry_backoff_max_ms);
}

Result<JobRecord*> Runtime::begin_on_job(JobKey key) {
  if (Status s = begin(); !s) return s;
  Result<JobRecord*> found = open_job(key);
  if (!found) abandon();
  return found;
}

Status Runtime::complete_job(JobKey key, nlohmann::json variables) {
  if (!variables.is_null() && !variables.is_object()) {
    return Status::invalid_argument("job variables must be a JSON object");
  }
  Result<JobRecord*> found = begin_on_job(key);
  if (!found) return found.status();
  JobRecord& job = **found;
  Instance& inst = *live(job.instance);
  const ElemKey el = job.element;
  const ElementIndex element = job.element_index;
  store_.remove_job(key);
  touch_job(key);
  inst.find(el)->job = 0;
  emit(inst, HistoryKind::kJobCompleted, element, key);
  finish(inst, el, std::move(variables));
  run_queue();
  return commit();
}

// The job leaves its worker (unlocked) and waits `wait_ms` before it is handed out again
// (none: at once). It is in the failed state meanwhile, its timer a plain job timer.
void Runtime::hand_back(JobRecord& job, std::int64_t wait_ms) {
  job.state = *next(job.state, JobEvent::kFail);
  if (wait_ms > 0) {
    add_timer(now() + wait_ms, job.key, TimerRecord{0, job.key, 0, 0, {}, 0, kNoIndex});
  } else {
    job.state = *next(job.state, JobEvent::kRetry);
    made_ready(job.key);
  }
}

Result<Runtime::JobInInstance> Runtime::release_job(JobKey key) {
  Result<JobRecord*> found = begin_on_job(key);
  if (!found) return found.status();
  JobRecord& job = **found;
  touch_job(key);
  job.lock_owner.clear();
  job.lock_expires_ms = 0;
  return JobInInstance{&job, live(job.instance)};
}

Status Runtime::fail_job(JobKey key, std::string message, std::int64_t backoff_ms, int retries) {
  Result<JobInInstance> released = release_job(key);
  if (!released) return released.status();
  JobRecord& job = *released->job;
  Instance& inst = *released->instance;
  job.retries = retries >= 0 ? retries : std::max(0, job.retries - 1);
  job.last_error = std::move(message);
  emit(inst, HistoryKind::kJobFailed, job.element_index, key, job.retries, job.last_error);
  if (job.retries > 0) {
    if (backoff_ms <= 0) backoff_ms = retry_backoff(inst, job);
    ++job.attempt;
    hand_back(job, backoff_ms);
  } else {
    job.state = *next(job.state, JobEvent::kExhaust);
    incident(inst, job.element, IncidentRetry::kJob, IncidentKind::kJobNoRetries,
             "job '" + job.type + "' failed and has no retries left: " + job.last_error, key);
  }
  return commit();
}

Status Runtime::defer_job(JobKey key, std::int64_t delay_ms, std::string reason) {
  Result<JobInInstance> released = release_job(key);
  if (!released) return released.status();
  JobRecord& job = *released->job;
  delay_ms = std::max<std::int64_t>(0, delay_ms);
  emit(*released->instance, HistoryKind::kJobDeferred, job.element_index, key, now() + delay_ms,
       std::move(reason));
  hand_back(job, delay_ms);
  return commit();
}

Status Runtime::throw_job_escalation(JobKey key, std::string code, nlohmann::json variables) {
  if (!variables.is_null() && !variables.is_object()) {
    return Status::invalid_argument("escalation variables must be a JSON object");
  }
  Result<JobRecord*> found = begin_on_job(key);
  if (!found) return found.status();
  JobRecord& job = **found;
  Instance& inst = *live(job.instance);
  const ElemKey el = job.element;
  // (throw_event records it.) The job stays the worker's: an interrupting catch ends its
  // task (and cancels the job), a non-interrupting one or none lets the worker answer it.
  throw_event(inst, el, EventType::kEscalation, code, {}, std::move(variables));
  run_queue();
  return commit();
}

Status Runtime::throw_job_error(JobKey key, std::string code, std::string message,
                                nlohmann::json variables) {
  Result<JobRecord*> found = begin_on_job(key);
  if (!found) return found.status();
  JobRecord& job = **found;
  Instance& inst = *live(job.instance);
  const ElemKey el = job.element;
  emit(inst, HistoryKind::kJobErrorThrown, job.element_index, key, 0, code);
  store_.remove_job(key);
  touch_job(key);
  inst.find(el)->job = 0;
  throw_event(inst, el, EventType::kError, code, message, std::move(variables));
  run_queue();
  return commit();
}

}  // namespace ordo::runtime
