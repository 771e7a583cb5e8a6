// /v1/jobs: external workers fetch and lock jobs, answer them and extend their locks
// (docs/http-api.md#external-workers).
#include <algorithm>
#include <chrono>

#include "api.h"
#include "request.h"
#include "time/iso8601.h"
#include "views.h"

namespace ordo::server {
namespace {

using nlohmann::json;

constexpr std::int64_t kMaxLockMs = 7LL * 86'400'000;  // a week
constexpr std::int64_t kMaxPollMs = 60'000;
constexpr int kMaxJobs = 1000;

// A duration field ("PT30S") in milliseconds, from `least` to `most`; `fallback` when absent.
bool duration_field(const json& body, const char* key, std::int64_t fallback, std::int64_t least,
                    std::int64_t most, std::int64_t& out, Response& error) {
  const std::string value = text(body, key);
  if (value.empty()) {
    out = fallback;
    return true;
  }
  if (const auto ms = time::parse_fixed_duration_ms(value); ms && *ms >= least && *ms <= most) {
    out = *ms;
    return true;
  }
  error = error_response(
      400, std::string("field '") + key + "' must be an ISO 8601 duration such as PT30S, from " +
               std::to_string(least) + " ms to " + std::to_string(most / 1000) + " s");
  return false;
}

// workerId: required; letters, digits and . _ - @ (no colon, which engine worker names use).
bool worker_field(const json& body, std::string& out, Response& error) {
  out = text(body, "workerId");
  bool ok = !out.empty() && out.size() <= 128;
  for (char c : out) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-' || c == '@');
  }
  if (!ok) {
    error = error_response(400,
                           "field 'workerId' is required: the worker's name, up to 128 letters, "
                           "digits and . _ - @");
  }
  return ok;
}

// A list of strings (each non-empty), at most `most` long.
bool names_field(const json& body, const char* key, std::size_t most, std::vector<std::string>& out,
                 Response& error) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return true;
  bool ok = it->size() <= most;
  for (const json& v : *it) ok = ok && v.is_string() && !v.get<std::string>().empty();
  if (!ok) {
    error = error_response(400, std::string("field '") + key + "' must be a list of at most " +
                                    std::to_string(most) + " non-empty strings");
    return false;
  }
  for (const json& v : *it) out.push_back(v.get<std::string>());
  return true;
}

json job_view(const LockedJob& j) {
  json headers = json::object();
  for (const TaskHeader& h : j.headers) headers[h.key] = h.value;
  return {{"key", j.key},
          {"type", j.type},
          {"processInstanceId", j.instance},
          {"processId", j.process_id},
          {"elementId", j.element_id},
          {"businessKey", j.business_key.empty() ? json() : json(j.business_key)},
          {"idempotencyKey", j.idempotency_key},
          {"attempt", j.attempt},
          {"retries", j.retries},
          {"headers", std::move(headers)},
          {"variables", j.variables},
          {"lockExpiresAt", when_view(j.lock_expires_ms)}};
}

}  // namespace

void Api::close() {
  {
    std::lock_guard lock(poll_mu_);
    closing_ = true;
  }
  jobs_cv_.notify_all();
  // No poller starts once closing_ is set (jobs() checks it under the same lock).
  if (poller_.joinable() && poller_.get_id() != std::this_thread::get_id()) poller_.join();
}

void Api::jobs_may_exist() {
  {
    std::lock_guard lock(poll_mu_);
    ++jobs_generation_;
  }
  jobs_cv_.notify_all();
}

// The poller: one thread looks again for every parked poll, so workers waiting for jobs hold
// no request thread (and cannot crowd out anyone's requests, /health's included).
void Api::poll_loop() {
  using Clock = std::chrono::steady_clock;
  std::unique_lock lock(poll_mu_);
  auto next_look = Clock::now();
  while (true) {
    if (polls_.empty()) {
      if (closing_) return;
      jobs_cv_.wait(lock, [&] { return closing_ || !polls_.empty(); });
      // The first poll has just looked.
      next_look = Clock::now() + std::chrono::milliseconds(250);
      continue;
    }
    // Until a poll may find something: jobs were made here, a quarter second passed since
    // the last look (another process may have made some), a deadline came, or the API
    // closes. A poll parked meanwhile only shortens the wait to its deadline.
    auto until = next_look;
    for (const auto& p : polls_) until = std::min(until, p->deadline);
    const auto moved_on = [&] {
      if (closing_) return true;
      for (const auto& p : polls_) {
        if (p->seen != jobs_generation_) return true;
      }
      return false;
    };
    const std::size_t parked = polls_.size();
    jobs_cv_.wait_until(lock, until, [&] { return moved_on() || polls_.size() != parked; });
    if (!moved_on() && Clock::now() < until) continue;  // only a new poll: its deadline counts
    next_look = Clock::now() + std::chrono::milliseconds(250);
    const std::uint64_t generation = jobs_generation_;
    std::vector<std::unique_ptr<Poll>> round;
    round.swap(polls_);
    lock.unlock();
    std::vector<std::unique_ptr<Poll>> waiting;
    // Job types a fetch found nothing of in this round: the polls alike after it do not ask
    // the store again (hundreds of idle workers cost one query a round per kind, not each).
    std::vector<std::string> found_nothing;  // copies: a poll answered is let go at once
    for (std::unique_ptr<Poll>& p : round) {
      p->seen = generation;
      const bool closing = closing_.load();
      const bool expired = Clock::now() >= p->deadline;
      Response out;
      try {
        const bool alike = std::find(found_nothing.begin(), found_nothing.end(), p->types) !=
                           found_nothing.end();
        if (!closing && alike && !expired) {
          waiting.push_back(std::move(p));
          continue;
        }
        Result<std::vector<LockedJob>> got =
            closing || alike ? Result<std::vector<LockedJob>>(std::vector<LockedJob>{})
                             : engine_.fetch_and_lock(p->fetch);
        if (got && got->empty() && !alike) found_nothing.push_back(p->types);
        if (got && got->empty() && !expired && !closing) {
          waiting.push_back(std::move(p));
          continue;
        }
        if (!got) {
          out = from_status(got.status());
        } else {
          json list = json::array();
          for (const LockedJob& j : *got) list.push_back(job_view(j));
          out = json_response(200, {{"jobs", std::move(list)}});
        }
      } catch (const std::exception& e) {
        // The poll still gets an answer, and the poller goes on with the others.
        out = error_response(500, std::string("internal error: ") + e.what());
      }
      try {
        Request counted;
        counted.method = std::move(p->method);
        counted.path = std::move(p->path);
        count(counted, segments(counted.path), out.status);
        p->reply(std::move(out));
      } catch (const std::exception&) {
        // Out of memory answering: this poll's connection is cut when the server stops.
      }
      p.reset();  // its reply (and the connection it holds) goes now, not with the round
    }
    lock.lock();
    // The polls that wait on go before the ones parked meanwhile, in the order they came.
    polls_.insert(polls_.begin(), std::make_move_iterator(waiting.begin()),
                  std::make_move_iterator(waiting.end()));
  }
}

Response Api::jobs(const Request& r, const std::vector<std::string_view>& seg, Reply* reply) {
  json body;
  Response error;
  if (seg.size() == 2 && r.method == "GET") {
    std::string type;
    if (auto t = r.query.find("type"); t != r.query.end()) type = t->second;
    json list = json::array();
        Result<std::vector<JobInfo>> open = engine_.open_jobs(type);
    if (!open) return from_status(open.status());
    for (const JobInfo& j : *open) list.push_back(job_view(j));
    return json_response(200, {{"jobs", std::move(list)}});
  }
  if (r.method != "POST")
    return error_response(404, "no such resource: " + r.method + " " + r.path);
  if (!parse_object(r, body, error)) return error;

  if (seg.size() == 3 && seg[2] == "fetch-and-lock") {
    if (!check_fields(body,
                      {{"workerId", json::value_t::string},
                       {"types", json::value_t::array},
                       {"maxJobs", json::value_t::number_integer},
                       {"lockDuration", json::value_t::string},
                       {"variables", json::value_t::array},
                       {"requestTimeout", json::value_t::string}},
                      error)) {
      return error;
    }
    FetchRequest fetch;
    std::int64_t poll_ms = 0;
    if (!worker_field(body, fetch.worker, error) ||
        !names_field(body, "types", 64, fetch.types, error) ||
        !names_field(body, "variables", 1000, fetch.variables, error) ||
        !duration_field(body, "lockDuration", 60'000, 1, kMaxLockMs, fetch.lock_ms, error) ||
        !duration_field(body, "requestTimeout", 0, 0, kMaxPollMs, poll_ms, error)) {
      return error;
    }
    if (fetch.types.empty())
      return error_response(400, "field 'types' is required: the job types to fetch");
    for (const std::string& type : fetch.types) {
      if (std::string why = may_not_fetch(r, type); !why.empty()) return error_response(403, why);
    }
    std::int64_t max_jobs = fetch.max_jobs;
    if (!int_field(body, "maxJobs", 1, kMaxJobs,
                   "a whole number from 1 to " + std::to_string(kMaxJobs), max_jobs, error)) {
      return error;
    }
    fetch.max_jobs = static_cast<int>(max_jobs);
    // A long poll: when nothing is there, the request is parked until a job comes or its
    // requestTimeout ends (poll_loop).
    std::uint64_t seen = 0;
    {
      std::lock_guard lock(poll_mu_);
      seen = jobs_generation_;
    }
    Result<std::vector<LockedJob>> got = engine_.fetch_and_lock(fetch);
    if (!got) return from_status(got.status());
    if (got->empty() && poll_ms > 0 && reply != nullptr) {
      std::unique_lock lock(poll_mu_);
      if (!closing_) {
        // Started before the reply moves in: if the thread cannot be made, the request fails
        // (500) with nothing parked.
        if (!poller_.joinable()) poller_ = std::thread([this] { poll_loop(); });
        auto poll = std::make_unique<Poll>();
        poll->fetch = std::move(fetch);
        poll->deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(poll_ms);
        poll->seen = seen;
        std::vector<std::string> types = poll->fetch.types;
        std::sort(types.begin(), types.end());
        for (const std::string& t : types) poll->types.append(t).push_back('\n');
        poll->method = r.method;
        poll->path = r.path;
        poll->reply = std::move(*reply);
        polls_.push_back(std::move(poll));
        lock.unlock();
        jobs_cv_.notify_all();
        Response parked;
        parked.status = kParked;
        return parked;
      }
    }
    json list = json::array();
    for (const LockedJob& j : *got) list.push_back(job_view(j));
    return json_response(200, {{"jobs", std::move(list)}});
  }

  std::uint64_t key = 0;
  if (seg.size() != 4 || !parse_id(seg[2], key)) {
    return error_response(404, "no such resource: " + r.method + " " + r.path +
                                   " (jobs are /v1/jobs/{key}/complete, fail, bpmn-error, "
                                   "escalation, extend-lock)");
  }
  const std::string_view action = seg[3];
  std::string worker;
  Status done;
  if (action == "complete") {
    if (!check_fields(body,
                      {{"workerId", json::value_t::string}, {"variables", json::value_t::object}},
                      error) ||
        !worker_field(body, worker, error)) {
      return error;
    }
    json vars = take_object(body, "variables");
    done = engine_.answer_job(key, worker, JobOutcome::complete(std::move(vars)));
  } else if (action == "fail") {
    if (!check_fields(body,
                      {{"workerId", json::value_t::string},
                       {"errorMessage", json::value_t::string},
                       {"retries", json::value_t::number_integer},
                       {"retryBackoff", json::value_t::string}},
                      error) ||
        !worker_field(body, worker, error)) {
      return error;
    }
    std::int64_t backoff = 0;
    if (!duration_field(body, "retryBackoff", 0, 0, kMaxLockMs, backoff, error)) return error;
    std::int64_t retries = -1;
    if (!int_field(body, "retries", 0, 1000,
                   "how many retries the job has left, 0 to 1000 (0: an incident now)", retries,
                   error)) {
      return error;
    }
    std::string message = text(body, "errorMessage");
    if (message.empty()) message = "failed by worker " + worker;
    done = engine_.answer_job(
        key, worker, JobOutcome::fail(std::move(message), backoff, static_cast<int>(retries)));
  } else if (action == "bpmn-error") {
    if (!check_fields(body,
                      {{"workerId", json::value_t::string},
                       {"errorCode", json::value_t::string},
                       {"errorMessage", json::value_t::string},
                       {"variables", json::value_t::object}},
                      error) ||
        !worker_field(body, worker, error)) {
      return error;
    }
    std::string code = text(body, "errorCode");
    if (code.empty()) return error_response(400, "field 'errorCode' is required");
    json vars = take_object(body, "variables");
    done = engine_.answer_job(
        key, worker,
        JobOutcome::error(std::move(code), text(body, "errorMessage"), std::move(vars)));
  } else if (action == "escalation") {
    if (!check_fields(body,
                      {{"workerId", json::value_t::string},
                       {"escalationCode", json::value_t::string},
                       {"variables", json::value_t::object}},
                      error) ||
        !worker_field(body, worker, error)) {
      return error;
    }
    std::string code = text(body, "escalationCode");
    if (code.empty()) return error_response(400, "field 'escalationCode' is required");
    done = engine_.escalate(key, worker, std::move(code), take_object(body, "variables"));
  } else if (action == "extend-lock") {
    if (!check_fields(
            body, {{"workerId", json::value_t::string}, {"lockDuration", json::value_t::string}},
            error) ||
        !worker_field(body, worker, error)) {
      return error;
    }
    std::int64_t lock_ms = 0;
    if (!duration_field(body, "lockDuration", 60'000, 1, kMaxLockMs, lock_ms, error)) return error;
    done = engine_.extend_lock(key, worker, lock_ms);
    if (done) {
      return json_response(
          200, {{"key", key}, {"lockExpiresAt", when_view(engine_.clock().now_ms() + lock_ms)}});
    }
  } else {
    return error_response(404, "no such resource: " + r.method + " " + r.path +
                                   " (answers are complete, fail, bpmn-error, escalation, "
                                   "extend-lock)");
  }
  if (!done) return from_status(done);
  jobs_may_exist();  // the answer may have created jobs
  return json_response(200, {{"key", key}, {"answered", std::string(action)}});
}

}  // namespace ordo::server
