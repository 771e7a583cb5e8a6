// Starts and messages in group commit: the requests that arrive while a transaction is being
// committed wait, and the next transaction takes all of them at once (start_many,
// publish_many). One flush to the disk then answers many requests, which is what lets the API
// go beyond one request per flush. Nothing is answered before its transaction is durable.
#include <algorithm>

#include "api.h"
#include "request.h"
#include "time/iso8601.h"

namespace ordo::server {
namespace {

using nlohmann::json;

// At most this many starts (and as many messages) share one transaction.
constexpr std::size_t kMaxGroup = 256;

// A failure that belongs to one request (it named no such process, ...), not to the whole
// transaction (the database): the group is then redone request by request.
bool request_error(const Status& s) {
  return s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kNotFound ||
         s.code() == StatusCode::kInvalidDefinition || s.code() == StatusCode::kConflict;
}

}  // namespace

Response published_response(const Result<MessageResult>& published) {
  if (!published) return from_status(published.status());
  return json_response(200, {{"instances", published->instances},
                             {"buffered", published->buffered},
                             {"duplicate", published->duplicate}});
}

struct Api::Grouped {
  bool is_start = true;
  StartRequest start;
  Message message;
  std::optional<Result<StartResult>> started;
  std::optional<Result<MessageResult>> published;
  bool done = false;
};

void Api::submit(Grouped& g) {
  std::unique_lock lock(group_mu_);
  waiting_.push_back(&g);
  while (!g.done) {
    if (leading_) {
      group_cv_.wait(lock);
      continue;
    }
    // Lead: take everything that waits (this request included) into the next transaction.
    leading_ = true;
    std::vector<Grouped*> group;
    group.swap(waiting_);
    lock.unlock();
    try {
      run_group(group);
    } catch (const std::exception& e) {
      // Whatever was not answered fails; the next group must still get a leader.
      const Status failed(StatusCode::kInternal, std::string("internal error: ") + e.what());
      for (Grouped* x : group) {
        if (x->is_start && !x->started) x->started = failed;
        if (!x->is_start && !x->published) x->published = failed;
      }
    }
    lock.lock();
    for (Grouped* x : group) x->done = true;
    leading_ = false;
    group_cv_.notify_all();
  }
}

void Api::run_group(std::vector<Grouped*>& group) {
  std::vector<Grouped*> starts, messages;
  for (Grouped* g : group) (g->is_start ? starts : messages).push_back(g);
  {
    for (std::size_t at = 0; at < starts.size(); at += kMaxGroup) {
      const std::size_t end = std::min(starts.size(), at + kMaxGroup);
      std::vector<StartRequest> batch;
      batch.reserve(end - at);
      for (std::size_t i = at; i < end; ++i) batch.push_back(std::move(starts[i]->start));
      Result<std::vector<StartResult>> all = engine_.start_many(batch);
      for (std::size_t i = at; i < end; ++i) {
        if (all) {
          starts[i]->started = (*all)[i - at];
        } else if (request_error(all.status())) {
          starts[i]->started = engine_.start(batch[i - at]);  // one by one
        } else {
          starts[i]->started = all.status();
        }
      }
    }
    for (std::size_t at = 0; at < messages.size(); at += kMaxGroup) {
      const std::size_t end = std::min(messages.size(), at + kMaxGroup);
      std::vector<Message> batch;
      batch.reserve(end - at);
      for (std::size_t i = at; i < end; ++i) batch.push_back(messages[i]->message);
      Result<std::vector<MessageResult>> all = engine_.publish_many(std::move(batch));
      for (std::size_t i = at; i < end; ++i) {
        if (all) {
          messages[i]->published = std::move((*all)[i - at]);
        } else if (request_error(all.status())) {
          messages[i]->published = engine_.publish_message(std::move(messages[i]->message));
        } else {
          messages[i]->published = all.status();
        }
      }
    }
  }
  jobs_may_exist();  // starts and messages create jobs: long polls look again
}

Result<MessageResult> Api::publish_grouped(Message message) {
  Grouped g;
  g.is_start = false;
  g.message = std::move(message);
  submit(g);
  return std::move(*g.published);
}

Response Api::start(const Request& r) {
  json body;
  Response error;
  if (!parse_object(r, body, error)) return error;
  if (!check_fields(body,
                    {{"processId", json::value_t::string},
                     {"businessKey", json::value_t::string},
                     {"variables", json::value_t::object},
                     {"version", json::value_t::number_integer}},
                    error)) {
    return error;
  }
  Grouped g;
  StartRequest& start = g.start;
  start.process_id = text(body, "processId");
  if (start.process_id.empty()) return error_response(400, "field 'processId' is required");
  start.business_key = text(body, "businessKey");
  start.variables = take_object(body, "variables");
  std::int64_t version = 0;
  if (!int_field(body, "version", 1, 1'000'000, "a deployed version: 1 or more", version, error)) {
    return error;
  }
  start.version = static_cast<int>(version);
  // A client that retries a start after a lost answer sends the same key: the retry gets
  // the first start's instance.
  if (auto key = r.headers.find("idempotency-key"); key != r.headers.end()) {
    if (key->second.empty() || key->second.size() > 255) {
      return error_response(400, "header 'Idempotency-Key' must be 1 to 255 characters");
    }
    start.request_id = key->second;
  }
  submit(g);
  const Result<StartResult>& started = *g.started;
  if (!started) return from_status(started.status());
  return json_response(
      started->created ? 201 : 200,
      {{"id", started->id}, {"created", started->created}, {"version", started->version}});
}

Response Api::publish(const Request& r) {
  json body;
  Response error;
  if (!parse_object(r, body, error)) return error;
  if (!check_fields(body,
                    {{"name", json::value_t::string},
                     {"correlationKey", json::value_t::string},
                     {"variables", json::value_t::object},
                     {"messageId", json::value_t::string},
                     {"timeToLive", json::value_t::string}},
                    error)) {
    return error;
  }
  Message m;
  m.name = text(body, "name");
  if (m.name.empty()) return error_response(400, "field 'name' is required");
  m.correlation_key = text(body, "correlationKey");
  m.message_id = text(body, "messageId");
  m.variables = take_object(body, "variables");
  if (const std::string ttl = text(body, "timeToLive"); !ttl.empty()) {
    auto parsed = ttl.size() <= 24 ? time::parse_duration(ttl) : std::nullopt;
    if (!parsed || parsed->negative || parsed->years > 10 || parsed->months > 120 ||
        parsed->days > 3660 || parsed->millis > 3660LL * 86'400'000) {
      return error_response(400, "field 'timeToLive' must be an ISO 8601 duration such as PT1H");
    }
    const std::int64_t now = engine_.clock().now_ms();  // clocks are thread-safe
    m.ttl_ms = time::add(now, *parsed) - now;
  }
  return published_response(publish_grouped(std::move(m)));
}

}  // namespace ordo::server
