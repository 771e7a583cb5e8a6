#include "store/memory_store.h"

#include "store/instance_query.h"

#include <algorithm>
#include <cctype>
#include <tuple>

#include "state/plan.h"  // the process id of an instance, for its business key

namespace ordo::store {

Status MemoryStore::begin() {
  at_begin_ = next_;
  return Status::ok();
}

void MemoryStore::rollback() noexcept {
  // Nothing in memory fails, so a rolled-back command changed no instance and no job (it
  // ended before it changed anything); what it took from the counters goes back.
  next_ = at_begin_;
}

Result<std::uint64_t> MemoryStore::allocate(std::string_view counter, std::uint64_t count) {
  std::uint64_t* next = counter == "instance" ? &next_.instance : &next_.key;
  const std::uint64_t first = *next;
  *next += count;
  return first;
}

std::string MemoryStore::business_key_of(std::string_view process_id, std::string_view key) {
  std::string out;
  out.reserve(process_id.size() + 1 + key.size());
  out.append(process_id).push_back('\x1f');
  out.append(key);
  return out;
}

// ---- instances ----

Result<state::Instance*> MemoryStore::instance(InstanceId id) {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : it->second.get();
}

const state::Instance* MemoryStore::cached_instance(InstanceId id) const noexcept {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : it->second.get();
}

state::Instance& MemoryStore::add_instance(std::unique_ptr<state::Instance> instance) {
  state::Instance& inst = *instance;
  if (inst.parent == 0 && !inst.business_key.empty()) {
    business_keys_.emplace(business_key_of(inst.plan->def->id, inst.business_key), inst.id);
  }
  instances_.emplace(inst.id, std::move(instance));
  return inst;
}

Result<std::optional<InstanceId>> MemoryStore::find_business_key(std::string_view process_id,
                                                                 std::string_view key) {
  auto it = business_keys_.find(business_key_of(process_id, key));
  if (it == business_keys_.end()) return std::optional<InstanceId>();
  return std::optional<InstanceId>(it->second);
}

Result<std::optional<InstanceId>> MemoryStore::incident_instance(IncidentKey key) {
  for (const auto& [id, inst] : instances_) {
    for (const state::Incident& i : inst->incidents) {
      if (i.key == key) return std::optional<InstanceId>(id);
    }
  }
  return std::optional<InstanceId>();
}

// ---- jobs ----

Result<state::JobRecord*> MemoryStore::job(JobKey key) {
  auto it = jobs_.find(key);
  return it == jobs_.end() ? nullptr : &it->second;
}

state::JobRecord& MemoryStore::put_job(state::JobRecord job) {
  const JobKey key = job.key;
  return jobs_[key] = std::move(job);
}

Status MemoryStore::write(Changes& changes) {
  for (HistoryEvent& e : changes.events) e.sequence = next_sequence_++;
  if (options_.keep_history) {
    for (const HistoryEvent& e : changes.events) history_[e.instance].push_back(e);
    std::vector<state::Instance*> written;
    written.reserve(changes.instances.size());
    for (InstanceId id : changes.instances) {
      if (auto it = instances_.find(id); it != instances_.end()) written.push_back(it->second.get());
    }
    element_deltas_.events(changes.events, written);
    for (const HistoryEvent& e : changes.events) {
      const std::int64_t minute = minute_start(e.time_ms);
      const std::string process(e.process_id);
      switch (e.kind) {
        case HistoryKind::kInstanceStarted:
          ++minute_totals_[{process, minute}].started;
          break;
        case HistoryKind::kInstanceTerminated:
          ++minute_totals_[{process, minute}].terminated;
          break;
        case HistoryKind::kInstanceCompleted:
          ++minute_totals_[{process, minute}].completed;
          if (auto it = instances_.find(e.instance); it != instances_.end()) {
            const state::Instance& inst = *it->second;
            ++cycle_totals_[{process, end_event_id(inst, inst.end_event), minute,
                             cycle_bucket(e.time_ms - inst.started_ms)}];
          }
          break;
        default:
          break;
      }
    }
    (void)element_deltas_.flush([this](const auto& deltas) {
      for (const auto& [key, d] : deltas) {
        ElementDeltas::Delta& t = element_totals_[key];
        t.active += d.active;
        t.completed += d.completed;
        t.terminated += d.terminated;
        t.time_ms += d.time_ms;
        t.timed += d.timed;
      }
      return Status::ok();
    });
  }
  if (!options_.keep_finished_instances) {
    // Forgotten instances free their business key too, or a long simulation would keep one
    // entry per order it ever ran.
    for (InstanceId id : changes.finished) {
      auto it = instances_.find(id);
      if (it == instances_.end()) continue;
      const state::Instance& inst = *it->second;
      if (inst.parent == 0 && !inst.business_key.empty()) {
        business_keys_.erase(business_key_of(inst.plan->def->id, inst.business_key));
      }
      instances_.erase(it);
    }
  }
  return Status::ok();
}

// ---- job locks ----

Result<std::vector<state::JobRecord>> MemoryStore::acquire_jobs(
    std::string_view type, std::string_view owner, std::int64_t now_ms,
    std::int64_t lock_until_ms, int limit, const std::vector<std::string>& except) {
  std::vector<state::JobRecord> out;
  const auto wanted = [&](const state::JobRecord& j) {
    if (!type.empty()) return j.type == type;
    return std::find(except.begin(), except.end(), j.type) == except.end();
  };
  // Created jobs by key, then locked ones whose lock has run out, oldest lock first.
  std::vector<state::JobRecord*> created, expired;
  for (auto& [key, job] : jobs_) {
    if (!wanted(job)) continue;
    if (job.state == JobState::kCreated) created.push_back(&job);
    if (job.state == JobState::kLocked && job.lock_expires_ms < now_ms) expired.push_back(&job);
  }
  std::sort(created.begin(), created.end(), [](auto* a, auto* b) { return a->key < b->key; });
  std::sort(expired.begin(), expired.end(), [](auto* a, auto* b) {
    return std::tie(a->lock_expires_ms, a->key) < std::tie(b->lock_expires_ms, b->key);
  });
  for (auto* list : {&created, &expired}) {
    for (state::JobRecord* j : *list) {
      if (static_cast<int>(out.size()) >= limit) break;
      j->state = JobState::kLocked;
      j->lock_owner = std::string(owner);
      j->lock_expires_ms = lock_until_ms;
      out.push_back(*j);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return out;
}

Result<std::vector<std::string>> MemoryStore::lock_owners() {
  std::vector<std::string> out;
  for (const auto& [key, job] : jobs_) {
    if (job.state == JobState::kLocked && !job.lock_owner.empty() &&
        std::find(out.begin(), out.end(), job.lock_owner) == out.end()) {
      out.push_back(job.lock_owner);
    }
  }
  return out;
}

Result<int> MemoryStore::release_locks(std::string_view owner) {
  int n = 0;
  for (auto& [key, job] : jobs_) {
    if (job.state == JobState::kLocked && job.lock_owner == owner) {
      job.state = JobState::kCreated;
      job.lock_owner.clear();
      job.lock_expires_ms = 0;
      ++n;
    }
  }
  return n;
}

Status MemoryStore::release_job(JobKey key, std::string_view owner) {
  auto it = jobs_.find(key);
  if (it != jobs_.end() && it->second.state == JobState::kLocked && it->second.lock_owner == owner) {
    it->second.state = JobState::kCreated;
    it->second.lock_owner.clear();
    it->second.lock_expires_ms = 0;
  }
  return Status::ok();
}

Status MemoryStore::backup(const std::string&) {
  return Status::invalid_argument("an in-memory engine has no database to back up");
}

// ---- timers ----

Status MemoryStore::add_timer(const TimerRow& row) {
  timers_.insert_or_assign(std::pair{row.due_ms, row.id}, row.record);
  return Status::ok();
}

Status MemoryStore::remove_timer(std::int64_t due_ms, std::uint64_t id) {
  timers_.erase({due_ms, id});
  return Status::ok();
}

Status MemoryStore::remove_start_timers(std::string_view process_id) {
  std::erase_if(timers_, [&](const auto& t) {
    return t.second.start_event != kNoIndex && t.second.process_id == process_id;
  });
  return Status::ok();
}

Result<std::optional<TimerRow>> MemoryStore::next_timer() {
  for (const auto& [when, record] : timers_) {
    // A suspended instance's timers wait for its resume.
    if (record.instance != 0) {
      auto it = instances_.find(record.instance);
      if (it != instances_.end() && it->second->state == InstanceState::kSuspended) continue;
    }
    return std::optional<TimerRow>(TimerRow{when.first, when.second, record});
  }
  return std::optional<TimerRow>();
}

// ---- subscriptions ----

Status MemoryStore::add_subscription(std::string_view sub_key, const state::Subscription& s) {
  auto it = subscriptions_.find(sub_key);
  if (it == subscriptions_.end()) {
    it = subscriptions_.emplace(std::string(sub_key), std::vector<state::Subscription>{}).first;
  }
  it->second.push_back(s);
  return Status::ok();
}

Status MemoryStore::remove_subscription(std::string_view sub_key, std::uint64_t wait) {
  auto it = subscriptions_.find(sub_key);
  if (it == subscriptions_.end()) return Status::ok();
  std::erase_if(it->second, [&](const state::Subscription& s) { return s.wait == wait; });
  if (it->second.empty()) subscriptions_.erase(it);
  return Status::ok();
}

Status MemoryStore::subscriptions(std::string_view sub_key,
                                  std::vector<state::Subscription>& out) {
  out.clear();
  auto it = subscriptions_.find(sub_key);
  if (it != subscriptions_.end()) out.assign(it->second.begin(), it->second.end());
  return Status::ok();
}

// ---- buffered messages ----

Status MemoryStore::add_buffered(state::BufferedMessage& message, std::int64_t now_ms) {
  // Messages nobody received in time are dropped now and then (amortised: a sweep each time
  // the buffer has doubled), so a long simulation does not keep every late one.
  if (buffered_.size() >= buffered_sweep_at_) {
    std::erase_if(buffered_, [now_ms](const auto& m) { return m.second.expires_ms < now_ms; });
    buffered_sweep_at_ = std::max<std::size_t>(64, 2 * buffered_.size());
  }
  if (message.id == 0) message.id = next_.buffered++;
  buffered_.insert_or_assign(message.id, message);
  return Status::ok();
}

Result<std::optional<state::BufferedMessage>> MemoryStore::take_buffered(std::string_view name,
                                                                           std::string_view key,
                                                                           std::int64_t now_ms) {
  for (auto it = buffered_.begin(); it != buffered_.end(); ++it) {
    const state::BufferedMessage& m = it->second;
    if (m.expires_ms >= now_ms && m.name == name && m.correlation_key == key) {
      std::optional<state::BufferedMessage> out(std::move(it->second));
      buffered_.erase(it);
      return out;
    }
  }
  return std::optional<state::BufferedMessage>();
}

Result<std::size_t> MemoryStore::discard_buffered() {
  const std::size_t n = buffered_.size();
  buffered_.clear();
  return n;
}

// ---- published message ids ----

Result<std::optional<std::string>> MemoryStore::published(std::string_view message_id) {
  auto it = published_.find(message_id);
  if (it == published_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status MemoryStore::record_published(std::string_view message_id, std::string_view,
                                     std::string_view, std::string_view outcome, std::int64_t) {
  published_.emplace(std::string(message_id), std::string(outcome));
  return Status::ok();
}

// ---- deployments ----

Result<std::vector<DeploymentRow>> MemoryStore::deployments(std::string_view process_id) {
  std::vector<DeploymentRow> out;
  for (const DeploymentRow& d : deployments_) {
    if (process_id.empty() || d.process_id == process_id) out.push_back(d);
  }
  std::sort(out.begin(), out.end(), [](const DeploymentRow& a, const DeploymentRow& b) {
    return std::tie(a.process_id, a.version) < std::tie(b.process_id, b.version);
  });
  return out;
}

Result<int> MemoryStore::latest_version(std::string_view process_id) {
  auto it = latest_.find(process_id);
  return it == latest_.end() ? 0 : it->second;
}

Status MemoryStore::add_deployment(const DeploymentRow& row) {
  deployments_.push_back(row);
  int& latest = latest_[row.process_id];
  latest = std::max(latest, row.version);
  return Status::ok();
}

// ---- reading ----

std::vector<const state::Instance*> MemoryStore::sorted_instances() const {
  std::vector<const state::Instance*> out;
  out.reserve(instances_.size());
  for (const auto& [id, inst] : instances_) out.push_back(inst.get());
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->id < b->id; });
  return out;
}

Result<std::vector<InstanceRow>> MemoryStore::list_instances(const InstanceQuery& query) {
  std::vector<InstanceRow> out;
  std::vector<const state::Instance*> all = sorted_instances();
  if (query.newest_first) std::reverse(all.begin(), all.end());
  for (const state::Instance* inst : all) {
    if (static_cast<int>(out.size()) >= query.limit) break;
    if (!query.process_id.empty() && inst->plan->def->id != query.process_id) continue;
    if (query.state && inst->state != *query.state) continue;
    if (query.variable && !variable_matches(*query.variable, inst->vars)) continue;
    if (!query.incident_message.empty() &&
        std::none_of(inst->incidents.begin(), inst->incidents.end(), [&](const state::Incident& i) {
          return std::search(i.message.begin(), i.message.end(), query.incident_message.begin(),
                             query.incident_message.end(), [](char a, char b) {
                               return std::tolower(static_cast<unsigned char>(a)) ==
                                      std::tolower(static_cast<unsigned char>(b));
                             }) != i.message.end();
        })) {
      continue;
    }
    InstanceRow row{inst->id, inst->plan->def->id, inst->plan->version, inst->business_key,
                    inst->state, inst->parent, inst->started_ms, inst->ended_ms,
                    end_event_id(*inst, inst->end_event)};
    if (instance_matches(query, row)) out.push_back(std::move(row));
  }
  return out;
}

Result<std::vector<state::JobRecord>> MemoryStore::list_jobs(std::string_view type) {
  std::vector<state::JobRecord> out;
  for (const state::JobRecord* j : jobs()) {
    if (type.empty() || j->type == type) out.push_back(*j);
  }
  return out;
}

Result<std::vector<IncidentRow>> MemoryStore::list_incidents() {
  std::vector<IncidentRow> out;
  for (const state::Instance* inst : sorted_instances()) {
    for (const state::Incident& i : inst->incidents) {
      out.push_back({i.key, inst->id,
                     i.element_index == kNoIndex ? std::string()
                                                 : inst->plan->element(i.element_index).id,
                     i.job, i.kind, i.message, i.created_ms, inst->plan->def->id,
                     inst->plan->version, inst->business_key});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const IncidentRow& a, const IncidentRow& b) { return a.key < b.key; });
  return out;
}

Result<std::vector<InstanceCountRow>> MemoryStore::count_instances() {
  std::map<std::tuple<std::string, InstanceState, std::string>, std::int64_t> counts;
  for (const auto& [id, inst] : instances_) {
    ++counts[{inst->plan->def->id, inst->state, end_event_id(*inst, inst->end_event)}];
  }
  std::vector<InstanceCountRow> out;
  for (const auto& [key, n] : counts) {
    out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), n});
  }
  return out;
}

Result<std::vector<MinuteCount>> MemoryStore::minute_counts(std::int64_t from_ms) {
  std::vector<MinuteCount> out;
  for (const auto& [key, d] : minute_totals_) {
    if (key.second < from_ms) continue;
    out.push_back({.process_id = key.first, .minute_ms = key.second, .started = d.started,
                   .completed = d.completed, .terminated = d.terminated});
  }
  return out;
}

Result<std::vector<CycleBucketRow>> MemoryStore::cycle_buckets(std::int64_t from_ms) {
  std::map<std::tuple<std::string, std::string, int>, std::int64_t> sums;
  for (const auto& [key, n] : cycle_totals_) {
    const auto& [process, end_event, minute, bucket] = key;
    if (minute >= from_ms) sums[{process, end_event, bucket}] += n;
  }
  std::vector<CycleBucketRow> out;
  for (const auto& [key, n] : sums) {
    out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), n});
  }
  return out;
}

Result<std::vector<ElementStatistics>> MemoryStore::element_stats(std::string_view process_id,
                                                                 int version) {
  std::vector<ElementStatistics> out;
  for (const auto& [key, t] : element_totals_) {
    const auto& [process, v, element] = key;
    if (process != process_id || v != version) continue;
    out.push_back({.element_id = std::string(element), .active = t.active,
                   .completed = t.completed, .terminated = t.terminated, .time_ms = t.time_ms,
                   .timed = t.timed});
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.element_id < b.element_id; });
  for (const auto& [id, inst] : instances_) {
    if (inst->plan->def->id != process_id || inst->plan->version != version) continue;
    for (const state::Incident& i : inst->incidents) {
      if (i.element_index != kNoIndex) {
        add_incidents(out, inst->plan->element(i.element_index).id, 1);
      }
    }
  }
  return out;
}

Result<std::vector<HistoryEvent>> MemoryStore::history(InstanceId id) {
  auto it = history_.find(id);
  return it == history_.end() ? std::vector<HistoryEvent>{} : it->second;
}

std::vector<const state::JobRecord*> MemoryStore::jobs() const {
  std::vector<const state::JobRecord*> out;
  out.reserve(jobs_.size());
  for (const auto& [key, job] : jobs_) out.push_back(&job);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->key < b->key; });
  return out;
}

}  // namespace ordo::store
