// Reading state: instances, open jobs and incidents, history, counts. Each goes through the
// store, whichever it is.
#include "facade/impl.h"
#include "store/codec.h"

namespace ordo {
namespace {

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
    out.kind = i.kind;
  out.message = i.message;
  out.created_ms = i.created_ms;
  out.process_id = inst.plan->def->id;
  out.version = inst.plan->version;
  out.business_key = inst.business_key;
  return out;
}

}  // namespace

Result<InstanceInfo> Engine::instance(InstanceId id) const {
  Impl::Call call(*impl_);
  const state::Instance* inst = impl_->rt.instance(id);
  if (inst == nullptr) {
    if (Status e = impl_->rt.take_read_error(); !e) return e;
    return Status::not_found("no instance " + std::to_string(id));
  }
  InstanceInfo out = summary_of(*inst);
  out.variables = inst->vars;
  for (const state::ElementInstance& e : inst->elements) {
    const Element& def = inst->plan->element(e.element);
    out.elements.push_back({def.id, def.kind, e.state, e.job, e.child});
    if (e.job == 0) continue;
    if (const state::JobRecord* j = impl_->rt.job(e.job)) {
      JobInfo info;
      info.key = j->key;
      info.instance = j->instance;
      info.type = j->type;
      info.element_id = def.id;
      info.state = j->state;
      info.retries = j->retries;
      info.attempt = j->attempt;
      info.idempotency_key = j->idempotency_key;
      info.last_error = j->last_error;
      info.lock_owner = j->lock_owner;
      info.lock_expires_ms = j->lock_expires_ms;
      out.jobs.push_back(std::move(info));
    }
  }
  for (const state::Incident& i : inst->incidents) out.incidents.push_back(incident_info(*inst, i));
  return out;
}

Result<std::vector<JobInfo>> Engine::open_jobs(std::string_view type) const {
  Impl::Call call(*impl_);
  std::vector<JobInfo> out;
  Result<std::vector<state::JobRecord>> jobs = impl_->store->list_jobs(type);
  if (!jobs) return jobs.status();
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
    info.lock_owner = std::move(j.lock_owner);
    info.lock_expires_ms = j.lock_expires_ms;
    out.push_back(std::move(info));
  }
  return out;
}

Result<std::vector<IncidentInfo>> Engine::incidents() const {
  Impl::Call call(*impl_);
  Result<std::vector<store::IncidentRow>> rows = impl_->store->list_incidents();
  if (!rows) return rows.status();
  std::vector<IncidentInfo> out;
  out.reserve(rows->size());
  for (auto& r : *rows) {
    out.push_back({r.key, r.instance, std::move(r.element_id), r.job, r.kind,
                   std::move(r.message), r.created_ms, std::move(r.process_id), r.version,
                   std::move(r.business_key)});
  }
  return out;
}

Result<std::vector<HistoryEvent>> Engine::history(InstanceId id) const {
  Impl::Call call(*impl_);
  return impl_->store->history(id);
}

Result<std::vector<LogEvent>> Engine::history_log(std::uint64_t after, std::size_t limit) const {
  Impl::Call call(*impl_);
  std::vector<LogEvent> out;
  if (limit == 0) return out;
  // Every row holds one event at least, and the first may hold none after `after`: `limit`
  // rows and one more are enough.
  Result<std::vector<store::Store::LogRow>> rows = impl_->store->history_log(after, limit + 1);
  if (!rows) return rows.status();
  std::vector<HistoryEvent> events;
  for (store::Store::LogRow& row : *rows) {
    std::shared_ptr<const state::Plan> plan = impl_->load_plan(row.process_id, row.version);
    if (plan == nullptr) {
      if (!impl_->plan_error.is_ok()) return impl_->plan_error;  // the store, not the row
      return Status(StatusCode::kCorruption,
                    "history row " + std::to_string(row.sequence) + " of instance " +
                        std::to_string(row.instance) + " names process '" + row.process_id +
                        "' version " + std::to_string(row.version) + ", which is not deployed");
    }
    events.clear();
    if (Status s = store::decode_history(row.events, row.sequence, row.instance, *plan->def,
                                         "the history log", events);
        !s) {
      return s;
    }
    for (HistoryEvent& e : events) {
      if (e.sequence <= after) continue;
      out.push_back({std::move(e), row.business_key, row.version});
      if (out.size() == limit) return out;
    }
  }
  return out;
}

Result<std::uint64_t> Engine::log_position(std::string_view reader) const {
  Impl::Call call(*impl_);
  return impl_->store->log_position(reader);
}

Result<bool> Engine::claim_log(std::string_view reader, std::string_view owner,
                               std::int64_t lease_ms) {
  Impl::Call call(*impl_);
  const auto id = static_cast<std::int64_t>(std::hash<std::string_view>{}(owner) & 0xFFFFF);
  bool held = false;
  Status s = impl_->in_transaction([&]() -> Status {
    Result<bool> r = impl_->store->claim_log(reader, id, impl_->clock->now_ms(), lease_ms);
    if (!r) return r.status();
    held = *r;
    return Status::ok();
  });
  if (!s) return s;
  return held;
}

Status Engine::set_log_position(std::string_view reader, std::uint64_t position) {
  Impl::Call call(*impl_);
  return impl_->in_transaction([&] { return impl_->store->set_log_position(reader, position); });
}

Result<std::vector<InstanceCount>> Engine::count_instances() const {
  Impl::Call call(*impl_);
  Result<std::vector<store::InstanceCountRow>> rows = impl_->store->count_instances();
  if (!rows) return rows.status();
  std::vector<InstanceCount> out;
  out.reserve(rows->size());
  for (auto& r : *rows) {
    out.push_back({std::move(r.process_id), r.state, std::move(r.end_event), r.count});
  }
  return out;
}

Result<std::vector<ElementStatistics>> Engine::element_statistics(std::string_view process_id,
                                                                int version) const {
  Impl::Call call(*impl_);
  return impl_->store->element_stats(process_id, version);
}

Result<std::vector<MinuteCount>> Engine::instances_per_minute(std::int64_t from_ms) const {
  Impl::Call call(*impl_);
  return impl_->store->minute_counts(minute_start(from_ms));
}

Result<std::vector<CycleTime>> Engine::cycle_times(std::int64_t from_ms) const {
  Impl::Call call(*impl_);
  Result<std::vector<store::CycleBucketRow>> rows =
      impl_->store->cycle_buckets(minute_start(from_ms));
  if (!rows) return rows.status();
  std::vector<CycleTime> out;
  // Rows come by process, end event and bucket: each group's ranks in one walk.
  for (std::size_t first = 0; first < rows->size();) {
    std::size_t end = first;
    std::int64_t total = 0;
    while (end < rows->size() && (*rows)[end].process_id == (*rows)[first].process_id &&
           (*rows)[end].end_event == (*rows)[first].end_event) {
      total += (*rows)[end].count;
      ++end;
    }
    CycleTime c{(*rows)[first].process_id, (*rows)[first].end_event, total, 0, 0};
    const auto rank = [total](double q) {  // nearest rank, 1-based
      return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(q * static_cast<double>(total))));
    };
    std::int64_t seen = 0;
    for (std::size_t i = first; i < end; ++i) {
      const std::int64_t before = seen;
      seen += (*rows)[i].count;
      const std::int64_t upper = cycle_bucket_upper_ms((*rows)[i].bucket);
      if (before < rank(0.5) && seen >= rank(0.5)) c.p50_ms = upper;
      if (before < rank(0.95) && seen >= rank(0.95)) c.p95_ms = upper;
    }
    out.push_back(std::move(c));
    first = end;
  }
  return out;
}

Result<std::vector<InstanceInfo>> Engine::instances(const InstanceFilter& filter) const {
  Impl::Call call(*impl_);
  Result<std::vector<store::InstanceRow>> rows = impl_->store->list_instances(filter);
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

}  // namespace ordo
