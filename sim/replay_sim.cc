// One variant's replay on one lane: see sim/replay_sim.h.
#include "sim/replay_sim.h"

#include <algorithm>
#include <climits>

#include "sim/random.h"

namespace ordo::sim {

using nlohmann::json;

Result<json> start_variables(const ReplayConfig& config, const ReplayRecord& record) {
  if (config.start_variables.empty()) return record.fields;
  json variables = json::object();
  ReplayVariables vars(nullptr, record.fields, nullptr);
  for (const NamedValue& v : config.start_variables) {
    Result<json> value = evaluate(v.value, vars, record.start_ms);
    if (!value) return value.status();
    variables[v.name] = std::move(*value);
  }
  return variables;
}

std::unique_ptr<ReplayRecord> RecordPool::take() {
  if (local_.empty()) {
    std::lock_guard lock(mu_);
    local_.swap(shared_);
  }
  if (local_.empty()) return std::make_unique<ReplayRecord>();
  std::unique_ptr<ReplayRecord> r = std::move(local_.back());
  local_.pop_back();
  return r;
}

void RecordPool::give(std::vector<std::unique_ptr<ReplayRecord>>& records) {
  std::lock_guard lock(mu_);
  if (shared_.empty()) {
    shared_.swap(records);
  } else {
    for (auto& r : records) shared_.push_back(std::move(r));
  }
  records.clear();
}

void BadRecords::add(std::int64_t line, std::string message) {
  std::lock_guard lock(mu_);
  ++count_;
  if (line < smallest_.load(std::memory_order_relaxed)) {
    smallest_.store(line, std::memory_order_release);
  }
  kept_.emplace_back(line, std::move(message));
  std::sort(kept_.begin(), kept_.end());
  if (kept_.size() > 100) kept_.pop_back();
}

std::int64_t BadRecords::count() const {
  std::lock_guard lock(mu_);
  return count_;
}

std::vector<std::pair<std::int64_t, std::string>> BadRecords::first() const {
  std::lock_guard lock(mu_);
  return kept_;
}

bool DuplicateOrders::repeats(std::string_view order_id, std::int64_t line) {
  const auto [it, first] = first_line_.emplace(std::hash<std::string_view>{}(order_id), line);
  if (first) return false;
  ++count_;
  if (kept_.size() < 100) kept_.push_back({line, std::string(order_id), it->second});
  return true;
}

namespace {

bool later(const auto& a, const auto& b) {
  return a.time != b.time ? a.time > b.time : a.seq > b.seq;
}

void set_bit(std::vector<std::uint64_t>& bits, std::size_t i) {
  if (bits.size() <= i / 64) bits.resize(i / 64 + 1, 0);
  bits[i / 64] |= std::uint64_t{1} << (i % 64);
}

}  // namespace

ReplaySim::ReplaySim(const ReplayVariant& variant, const ReplayShared& shared)
    : variant_(variant), shared_(shared), stats_(*variant.def, *shared.config) {}

ReplaySim::~ReplaySim() {
  if (engine_) engine_->remove_observer(this);
  if (spill_ != nullptr) std::fclose(spill_);
}

Status ReplaySim::init() {
  clock_ = std::make_shared<ReplayClock>();
  EngineOptions options;
  options.clock = clock_;
  options.keep_history = false;
  options.keep_finished_instances = false;
  options.history_details = false;  // the observer counts; it reads no detail
  // A pending job is answered when its simulated latency has passed, which may be days.
  options.job_lock_ms = INT64_MAX / 4;
  engine_ = std::make_unique<Engine>(options);
  element_cache_.resize(variant_.def->elements.size());
  Result<std::vector<Deployment>> deployed = engine_->deploy(variant_.document);
  if (!deployed) return deployed.status();
  for (const auto& model : shared_.decisions) {
    Result<std::vector<Deployment>> d = engine_->deploy_decisions(model);
    if (!d) return d.status();
  }
  engine_->set_fallback_handler([this](const Job& job) { return handle(job); });
  if (variant_.notifications != nullptr) {
    Result<ReplayNotificationHandlers> rules = variant_.notifications->make(*engine_);
    if (!rules) return rules.status();
    rules_ = std::move(*rules);
    for (const auto& [type, handler] : rules_.handlers) engine_->register_handler(type, handler);
  }
  engine_->add_observer(this);
  if (shared_.log_events) {
    case_writer_ = std::make_unique<CaseWriter>(shared_.log_format, *variant_.def);
    spill_ = std::tmpfile();
    if (spill_ == nullptr)
      return Status::io_error("cannot create a temporary file for the event log");
    // Cases are a few KB each: write them in large blocks, not a system call per 4 KB.
    spill_buffer_.resize(1 << 20);
    std::setvbuf(spill_, spill_buffer_.data(), _IOFBF, spill_buffer_.size());
  }
  return Status::ok();
}

std::uint32_t ReplaySim::take_slot() {
  if (free_slots_.empty()) {
    slots_.emplace_back();
    return static_cast<std::uint32_t>(slots_.size() - 1);
  }
  const std::uint32_t slot = free_slots_.back();
  free_slots_.pop_back();
  Action& a = slots_[slot];
  a.kind = Action::Kind::kAnswer;
  a.track = 0;
  a.job = 0;
  a.latency_ms = 0;
  a.outcome.reset();
  a.note.reset();
  a.message.name.clear();
  a.message.correlation_key.clear();
  a.message.variables = nullptr;
  a.message.ttl_ms = 0;
  a.message.message_id.clear();
  return slot;
}

void ReplaySim::schedule(std::int64_t time, std::uint32_t slot) {
  agenda_.push_back({time, seq_++, slot});
  std::push_heap(agenda_.begin(), agenda_.end(),
                 [](const Due& a, const Due& b) { return later(a, b); });
}

ReplaySim::Track* ReplaySim::find_track(std::uint64_t id) const {
  for (const std::unique_ptr<Track>& t : tracks_) {
    if (t->id == id) return t.get();
  }
  return nullptr;
}

ReplaySim::Track* ReplaySim::track_of(InstanceId instance) const {
  for (const auto& [id, track] : by_instance_) {
    if (id == instance) return track;
  }
  return nullptr;
}

void ReplaySim::bind(InstanceId instance, Track* track) {
  by_instance_.emplace_back(instance, track);
  track->instances.push_back(instance);
}

bool ReplaySim::replay(const ReplayRecord& record, json variables) {
  const auto cmp = [](const Due& a, const Due& b) { return later(a, b); };
  has_outcome_ = false;
  error_.clear();
  outcome_line_ = record.line;
  if (variant_.notifications != nullptr) {
    last_order_ = record.order_id;
    // The rules keep a customer's history in the lane's delivery log: all their orders must
    // come to this lane.
    if (variant_.notifications->customer) {
      const std::string customer = variant_.notifications->customer(variables);
      if (!customer.empty() && stable_hash(customer) != record.partition) {
        error_ = at_line(
            shared_.order_log_name, record.line,
            "the notification rules know this order's customer as '" + customer +
                "' (customer.id, else its customerId, email or phone), but orders are put "
                "on lanes by the record's '" + shared_.config->partition_field +
                "', which differs: make start.partition the field the customer's id comes "
                "from, so that each customer's orders meet in one delivery log");
        return false;
      }
    }
  }
  clock_->set(record.start_ms);
  std::unique_ptr<Track> owned = spare_ ? std::move(spare_) : std::make_unique<Track>();
  owned->reset();
  Track& track = *owned;
  track.id = next_track_++;
  track.record = &record;
  track.outcome.started_ms = record.start_ms;
  track.outcome.milestone_ms.assign(shared_.config->milestones.size(), -1);
  tracks_.push_back(std::move(owned));
  starting_ = &track;
  // With the notification rules, the order's id is its business key: the order their
  // delivery log records.
  Result<StartResult> id =
      engine_->start(variant_.def->id, std::move(variables),
                     rules_.deliveries ? record.order_id : std::string());
  starting_ = nullptr;
  if (!id) {
    error_ = at_line(shared_.order_log_name, record.line, id.status().message());
    spare_ = std::move(tracks_.back());
    tracks_.pop_back();
    by_instance_.clear();
    return false;
  }
  const std::uint64_t key = track.id;
  if (!id->created) {
    // (Duplicates are left out before; an order with this id still open would be a bug.)
    fail_record(track, "an order with the id " + record.order_id + " is still being replayed");
  }
  const std::int64_t horizon = record.start_ms + shared_.config->horizon_ms;
  // In memory nothing fails: a replay's engine has no store that could refuse a write.
  (void)engine_->run_until_idle();
  sweep();
  while (find_track(key) != nullptr) {
    std::int64_t t = agenda_.empty() ? INT64_MAX : agenda_.front().time;
        // In memory nothing fails (see above).
    if (auto due = engine_->next_timer_due(); due && *due) t = std::min(t, **due);
    if (t > horizon) {
      // Nothing more happens before the horizon (or ever): it stays as it is now.
      clock_->set(horizon);
      deadline(key);
      break;
    }
    clock_->set(t);
    while (!agenda_.empty() && agenda_.front().time <= t) {
      std::pop_heap(agenda_.begin(), agenda_.end(), cmp);
      const std::uint32_t slot = agenda_.back().slot;
      agenda_.pop_back();
      apply(slots_[slot]);
      release_slot(slot);
    }
    (void)engine_->run_until_idle();
    sweep();
  }
  // What the outside world would still have done for it (a confirmation after the order
  // gave up waiting) changes nothing now, and must not reach the next order (which may have
  // the same correlation key, and starts earlier or later on this clock).
  agenda_.clear();
  free_slots_.resize(slots_.size());
  for (std::uint32_t i = 0; i < free_slots_.size(); ++i) free_slots_[i] = i;
  (void)engine_->discard_buffered_messages();
  if (spare_) spare_->record = nullptr;  // the lane is about to give the record back
  return error_.empty();
}

void ReplaySim::commit() {
  if (!has_outcome_) return;
  stats_.add(outcome_);
  if (spill_ != nullptr) {
    const std::int64_t head[3] = {outcome_.started_ms, outcome_line_,
                                  static_cast<std::int64_t>(chunk_.size())};
    std::fwrite(head, sizeof head, 1, spill_);
    std::fwrite(chunk_.data(), 1, chunk_.size(), spill_);
  }
  has_outcome_ = false;
}

void ReplaySim::discard() {
  has_outcome_ = false;
  // Left out of the results, and out of the customer's history: the rules forget it. (In
  // memory: nothing to fail but memory itself.)
  if (rules_.forget_order && !last_order_.empty()) (void)rules_.forget_order(last_order_);
}

void ReplaySim::drain() {
  if (spill_ != nullptr) {
    std::fflush(spill_);
    std::rewind(spill_);
  }
}

void ReplaySim::apply(Action& a) {
  Track* track = find_track(a.track);
  switch (a.kind) {
    case Action::Kind::kAnswer: {
      if (track == nullptr || track->finished) return;
      for (auto j = track->jobs.begin(); j != track->jobs.end(); ++j) {
        if (j->first != a.job) continue;
        for (Track::Open& o : track->open) {
          if (o.key == j->second) o.processing_ms += a.latency_ms;
        }
        track->jobs.erase(j);
        break;
      }
      JobOutcome& out = *a.outcome;
      // A job whose activity was interrupted meanwhile is gone: its answer comes too late.
      switch (out.kind()) {
        case JobOutcome::Kind::kComplete: {
          // Counted as sent when the job completes (before: completing it may end the
          // order), not when it was handed out: a failed attempt sent nothing.
          auto& notes = track->outcome.notifications;
          if (a.note) notes.push_back(std::move(*a.note));
          const std::size_t noted = notes.size();
          const Status done = engine_->complete_job(a.job, std::move(out.variables()));
          if (!done && a.note && !track->finished && notes.size() == noted) notes.pop_back();
          break;
        }
        case JobOutcome::Kind::kError:
          (void)engine_->throw_error(a.job, out.error_code(), out.message(),
                                     std::move(out.variables()));
          break;
        default:
          (void)engine_->fail_job(a.job, out.message());
          break;
      }
      return;
    }
    case Action::Kind::kPublish:
      if (track == nullptr || track->finished) return;
      (void)engine_->publish_message(std::move(a.message));
      return;
    case Action::Kind::kAbandon: {
      if (track == nullptr || track->finished) return;
      const InstanceId root = track->root;
      track->finished = true;
      done_.push_back(track);  // not counted: its record was bad
      sweep();
      (void)engine_->cancel(root);
      return;
    }
  }
}

// The order's horizon: whatever it waits for now, the replay stops following it.
void ReplaySim::deadline(std::uint64_t id) {
  Track* found = find_track(id);
  if (found == nullptr || found->finished) return;
  Track& track = *found;
  Result<InstanceInfo> info = engine_->instance(track.root);
  std::string bucket = "(waiting)";
  if (info) {
    if (info->state == InstanceState::kIncident) bucket = "(incident)";
    for (const IncidentInfo& i : info->incidents) {
      track.outcome.incidents.push_back({std::string(to_string(i.kind)), i.element_id});
    }
  }
  const InstanceId root = track.root;
  finalize(track, std::move(bucket));
  sweep();
  (void)engine_->cancel(root);
}

void ReplaySim::fail_record(Track& track, const std::string& message) {
  if (track.finished || track.failed) return;
  track.failed = true;
  error_ = at_line(shared_.order_log_name, track.record->line, message);
  const std::uint32_t slot = take_slot();
  slots_[slot].kind = Action::Kind::kAbandon;
  slots_[slot].track = track.id;
  schedule(clock_->now_ms(), slot);
}

void ReplaySim::on_event(const HistoryEvent& e) {
  if (e.kind == HistoryKind::kInstanceStarted) {
    if (e.value == 0) {
      if (starting_ != nullptr) {
        starting_->root = e.instance;
        bind(e.instance, starting_);
      }
    } else if (Track* parent = track_of(static_cast<InstanceId>(e.value))) {
      bind(e.instance, parent);
    }
    return;
  }
  Track* t = track_of(e.instance);
  if (t == nullptr || t->finished || e.instance != t->root) return;
  switch (e.kind) {
    case HistoryKind::kElementActivated: {
      const std::uint32_t el = e.element_index;
      if (el >= variant_.logged.size()) return;
      set_bit(t->outcome.elements, el);
      // A multi-instance activity is activated as a whole (value 0), then once per instance
      // (value: the instance's number): the instances are what ran.
      const bool body = variant_.def->elements[el].loop.present && e.value == 0;
      std::uint32_t row = UINT32_MAX;
      if (variant_.logged[el] != 0 && !body) {
        t->outcome.path.push_back(el);
        if (shared_.log_events) {
          row = static_cast<std::uint32_t>(t->rows.size());
          t->rows.push_back({el, e.time_ms, 0, false, false});
        }
      }
      t->open.push_back({e.key, el, e.time_ms, 0, row, body});
      return;
    }
    case HistoryKind::kJobCreated: {
      // The job belongs to the element instance of its element activated last.
      for (auto o = t->open.rbegin(); o != t->open.rend(); ++o) {
        if (o->element == e.element_index && !o->body) {
          t->jobs.emplace_back(e.key, o->key);
          break;
        }
      }
      return;
    }
    case HistoryKind::kElementCompleted:
    case HistoryKind::kElementTerminated: {
      for (auto o = t->open.begin(); o != t->open.end(); ++o) {
        if (o->key != e.key) continue;
        const bool completed = e.kind == HistoryKind::kElementCompleted;
        const std::int64_t took = e.time_ms - o->start_ms;
        const Element& def = variant_.def->elements[o->element];
        if (completed && !o->body && is_reported_activity(def.kind)) {
          const std::int64_t processing = std::min(o->processing_ms, took);
          t->outcome.activities.push_back({o->element, took - processing, processing});
        }
        // A multi-instance milestone is reached when all its instances are done.
        const int m = def.loop.present && !o->body ? -1 : variant_.milestone_of[o->element];
        if (completed && m >= 0 && t->outcome.milestone_ms[static_cast<std::size_t>(m)] < 0) {
          t->outcome.milestone_ms[static_cast<std::size_t>(m)] = e.time_ms - t->outcome.started_ms;
        }
        if (o->row != UINT32_MAX) {
          t->rows[o->row].end_ms = e.time_ms;
          t->rows[o->row].ended = true;
          t->rows[o->row].terminated = !completed;
        }
        t->open.erase(o);
        return;
      }
      return;
    }
    case HistoryKind::kFlowTaken:
      if (e.element_index < variant_.def->flows.size()) set_bit(t->outcome.flows, e.element_index);
      return;
    case HistoryKind::kInstanceCompleted:
      t->outcome.completed = true;
      t->outcome.ended_ms = e.time_ms;
      finalize(*t, e.element_id.empty() ? "(completed)" : std::string(e.element_id));
      return;
    case HistoryKind::kInstanceTerminated:
      finalize(*t, "(terminated)");
      return;
    default:
      return;
  }
}

void ReplaySim::finalize(Track& t, std::string bucket) {
  t.finished = true;
  done_.push_back(&t);
  if (t.failed) return;
  OrderOutcome& o = t.outcome;
  if (rules_.deliveries) {
    // What the rules did for it: each delivery, skip and hold-back the log recorded.
    Result<std::vector<ReplayDelivery>> recorded = rules_.deliveries(t.record->order_id);
    if (!recorded) {
      t.failed = true;
      error_ = at_line(shared_.order_log_name, t.record->line,
                       "the notification rules' delivery log: " + recorded.status().message());
      return;
    }
    for (ReplayDelivery& d : *recorded) {
      using Kind = OrderOutcome::Note::Kind;
      const Kind kind = d.status == "sent"       ? Kind::kSent
                        : d.status == "skipped"  ? Kind::kSkipped
                        : d.status == "deferred" ? Kind::kDeferred
                                                 : Kind::kOther;
      if (kind == Kind::kOther) continue;
      if (d.segment.empty()) d.segment = "(none)";  // the order had no segment task
      o.notifications.push_back({std::move(d.channel), std::move(d.message), false, kind,
                                 std::move(d.segment), std::move(d.experiment),
                                 std::move(d.variant)});
    }
  }
  o.bucket = std::move(bucket);
  o.finalized_ms = clock_->now_ms();
  if (spill_ != nullptr) {
    chunk_.clear();
    case_writer_->append(chunk_, t.record->order_id, t.rows);
  }
  std::swap(outcome_, o);
  has_outcome_ = true;
}

void ReplaySim::sweep() {
  for (Track* t : done_) {
    std::erase_if(by_instance_, [t](const auto& entry) { return entry.second == t; });
    auto it = std::find_if(tracks_.begin(), tracks_.end(),
                           [t](const std::unique_ptr<Track>& x) { return x.get() == t; });
    if (it == tracks_.end()) continue;
    spare_ = std::move(*it);
    tracks_.erase(it);
  }
  done_.clear();
}

}  // namespace ordo::sim
