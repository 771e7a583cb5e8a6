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

struct ReplaySim::Track {
  std::uint64_t id = 0;
  const ReplayRecord* record = nullptr;  // the lane's, while the order is replayed
  InstanceId root = 0;
  std::vector<InstanceId> instances;
  bool finished = false;
  bool failed = false;  // a bad record: dropped, not counted
  OrderOutcome outcome;
  struct Open {
    std::uint64_t key;
    std::uint32_t element;
    std::int64_t start_ms;
    std::int64_t processing_ms;
    std::uint32_t row;  // in `rows`, or UINT32_MAX
    bool body;          // a multi-instance activity as a whole (its instances are entries too)
  };
  std::vector<Open> open;
  std::vector<std::pair<JobKey, std::uint64_t>> jobs;  // job -> its element instance's key
  std::vector<LogRow> rows;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> occurrences;  // task stream -> jobs

  // Empties it for the next order, keeping what its vectors have allocated.
  void reset() {
    record = nullptr;
    root = 0;
    instances.clear();
    finished = failed = false;
    outcome.bucket.clear();
    outcome.started_ms = outcome.ended_ms = outcome.finalized_ms = 0;
    outcome.completed = false;
    outcome.milestone_ms.clear();
    outcome.elements.clear();
    outcome.flows.clear();
    outcome.path.clear();
    outcome.activities.clear();
    outcome.notifications.clear();
    outcome.incidents.clear();
    open.clear();
    jobs.clear();
    rows.clear();
    occurrences.clear();
  }

  std::uint32_t occurrence(std::uint64_t stream) {
    for (auto& [s, n] : occurrences) {
      if (s == stream) return n++;
    }
    occurrences.emplace_back(stream, 1);
    return 0;
  }
};

struct ReplaySim::Action {
  enum class Kind : std::uint8_t { kAnswer, kPublish, kAbandon };
  Kind kind = Kind::kAnswer;
  std::uint64_t track = 0;
  JobKey job = 0;
  std::int64_t latency_ms = 0;
  std::optional<JobOutcome> outcome;
  std::optional<OrderOutcome::Note> note;  // a notification, sent when the job completes
  Message message;
};

namespace {

bool later(const auto& a, const auto& b) {
  return a.time != b.time ? a.time > b.time : a.seq > b.seq;
}

void set_bit(std::vector<std::uint64_t>& bits, std::size_t i) {
  if (bits.size() <= i / 64) bits.resize(i / 64 + 1, 0);
  bits[i / 64] |= std::uint64_t{1} << (i % 64);
}

class JobVariables final : public expr::Variables {
 public:
  explicit JobVariables(const Job& job) : job_(job) {}
  const json* find(std::string_view name) const override { return job_.variable(name); }

 private:
  const Job& job_;
};

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
  engine_->set_fallback_handler([this](const Job& job) { return handle(job); });
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
  Result<StartResult> id = engine_->start(variant_.def->id, std::move(variables));
  starting_ = nullptr;
  if (!id) {
    error_ = at_line(shared_.order_log_name, record.line, id.status().message());
    spare_ = std::move(tracks_.back());
    tracks_.pop_back();
    by_instance_.clear();
    return false;
  }
  const std::uint64_t key = track.id;
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

JobOutcome ReplaySim::handle(const Job& job) {
  Track* track = track_of(job.instance());
  if (track == nullptr) return JobOutcome::complete();
  try {
    return respond(job, *track);
  } catch (const std::exception& e) {
    // A value the JSON library refuses (text that is not UTF-8, say) is the record's fault.
    fail_record(*track, e.what());
    return JobOutcome::pending();
  }
}

JobOutcome ReplaySim::respond(const Job& job, Track& order) {
  Track* track = &order;
  // What an element's jobs need from the config, looked up once (elements whose job type is
  // an expression, or of a called process, are looked up each time).
  ElementCache* cached = nullptr;
  if (auto at = variant_.element_at.find(job.element_id().data());
      at != variant_.element_at.end() &&
      variant_.def->elements[at->second].task.type.dialect == ExpressionDialect::kStatic) {
    cached = &element_cache_[at->second];
    if (!cached->ready) {
      cached->ready = true;
      cached->spec = shared_.config->task(job.type());
      if (cached->spec != nullptr) {
        cached->stream =
            cached->spec->type.empty() ? stable_hash(job.type()) : cached->spec->stream;
      }
    }
  }
  const TaskSpec* spec = cached != nullptr ? cached->spec : shared_.config->task(job.type());
  if (spec == nullptr) {
    return JobOutcome::incident("the replay config has no entry for job type '" +
                                std::string(job.type()) + "' and no \"default\"");
  }
  const ReplayRecord& record = *track->record;
  for (const std::string& field : spec->requires_fields) {
    auto it = record.fields.find(field);
    if (it == record.fields.end() || it->is_null()) {
      fail_record(*track,
                  "the record has no '" + field + "', which tasks." + spec->type + ".requires");
      return JobOutcome::pending();
    }
  }
  const std::int64_t now = job.now_ms();
  const json* job_json = nullptr;
  json built;
  if (spec->uses_job) {
    // What `job` says of an element does not change but for the attempt: built once.
    json& j = cached != nullptr ? cached->job : built;
    if (j.is_null()) {
      json headers = json::object();
      for (const TaskHeader& h : job.headers()) headers[h.key] = h.value;
      j = {{"type", job.type()},
           {"elementId", job.element_id()},
           {"attempt", 1},
           {"headers", std::move(headers)}};
    }
    j["attempt"] = job.attempt();
    job_json = &j;
  }
  JobVariables process(job);
  ReplayVariables vars(job_json, record.fields, &process);
  // Each job type its own stream (also the types left to "default"), each job of it in the
  // order its own numbers: a variant that adds or drops other tasks leaves these draws be.
  const std::uint64_t type_stream =
      cached != nullptr ? cached->stream
                        : (spec->type.empty() ? stable_hash(job.type()) : spec->stream);
  const std::uint32_t n = track->occurrence(type_stream);
  Random random(stream(shared_.seed, type_stream + n * 0x9E3779B97F4A7C15ULL,
                       static_cast<std::uint64_t>(record.line)));
  // (A slot taken here for an action that is never scheduled, because the record turns out
  // bad half-way, is free again when the order ends.)
  const auto bad = [&](const Status& s) {
    fail_record(*track, s.message());
    return JobOutcome::pending();
  };

  const OutcomeSpec* chosen = nullptr;
  double draw = -1, cumulative = 0;
  for (const OutcomeSpec& o : spec->outcomes) {
    if (o.when) {
      Result<bool> hit = evaluate_condition(*o.when, vars, now);
      if (!hit) return bad(hit.status());
      if (*hit) {
        chosen = &o;
        break;
      }
    } else if (o.probability) {
      if (draw < 0) draw = random.uniform();
      cumulative += *o.probability;
      if (draw < cumulative) {
        chosen = &o;
        break;
      }
    } else {
      chosen = &o;
      break;
    }
  }
  if (chosen == nullptr && !spec->outcomes.empty()) {
    return bad(Status::invalid_argument(
        "no outcome of tasks." + spec->type +
        " applies to this record (give the last outcome no \"when\" and no \"probability\", "
        "as the otherwise, or let the probabilities add up to 1)"));
  }
  const bool own = chosen != nullptr && chosen->latency;
  const Latency& latency = own ? *chosen->latency : spec->latency;
  Result<std::int64_t> took = sample(latency, random, record.fields, now);
  if (!took) {
    return bad(Status::invalid_argument(took.status().message() + " (" +
                                        (own ? chosen->where : "tasks." + spec->type) +
                                        ".latency)"));
  }

  const std::uint32_t answer_slot = take_slot();
  Action& answer = slots_[answer_slot];
  answer.kind = Action::Kind::kAnswer;
  answer.track = track->id;
  answer.job = job.key();
  answer.latency_ms = *took;
  json outputs;  // null: no variables (an empty object would cost an allocation a job)
  if (chosen != nullptr) {
    for (const NamedValue& v : chosen->outputs) {
      Result<json> value = evaluate(v.value, vars, now);
      if (!value) return bad(value.status());
      outputs[v.name] = std::move(*value);
    }
  }
  if (chosen != nullptr && !chosen->error_code.empty()) {
    std::string message;
    if (chosen->error_message) {
      Result<json> m = evaluate(*chosen->error_message, vars, now);
      if (!m) return bad(m.status());
      if (!m->is_null()) message = text_of(*m);
    }
    answer.outcome = JobOutcome::error(chosen->error_code, std::move(message), std::move(outputs));
  } else if (chosen != nullptr && chosen->fail) {
    Result<json> m = evaluate(*chosen->fail, vars, now);
    if (!m) return bad(m.status());
    answer.outcome = JobOutcome::fail(m->is_null() ? "simulated failure" : text_of(*m));
  } else {
    answer.outcome = JobOutcome::complete(std::move(outputs));
  }
  if (chosen != nullptr) {
    for (const PublishSpec& p : chosen->publish) {
      if (p.when) {
        Result<bool> hit = evaluate_condition(*p.when, vars, now);
        if (!hit) return bad(hit.status());
        if (!*hit) continue;
      }
      Result<json> key = evaluate(p.correlation_key, vars, now);
      if (!key) return bad(key.status());
      Result<std::int64_t> after = sample(p.after, random, record.fields, now);
      if (!after) {
        return bad(Status::invalid_argument(after.status().message() + " (" + p.where + ".after)"));
      }
      const std::uint32_t publish_slot = take_slot();
      Action& publish = slots_[publish_slot];
      publish.kind = Action::Kind::kPublish;
      publish.track = track->id;
      publish.message.name = p.message;
      publish.message.correlation_key = text_of(*key);
      publish.message.ttl_ms = shared_.config->message_ttl_ms;
      for (const NamedValue& v : p.variables) {
        Result<json> value = evaluate(v.value, vars, now);
        if (!value) return bad(value.status());
        publish.message.variables[v.name] = std::move(*value);
      }
      schedule(now + *after, publish_slot);
    }
  }
  if (spec->notification) {
    OrderOutcome::Note note;
    // Usually a task header: read it without evaluating anything.
    const auto text = [&](const ConfigValue& v, std::string& into) -> Status {
      if (!v.header.empty()) {
        const std::string_view h = job.header(v.header);
        into = h.empty() ? std::string("(none)") : std::string(h);
        return Status::ok();
      }
      Result<json> r = evaluate(v, vars, now);
      if (!r) return r.status();
      into = r->is_null() ? "(none)" : text_of(*r);
      return Status::ok();
    };
    if (Status st = text(spec->notification->template_id, note.template_id); !st) return bad(st);
    if (Status st = text(spec->notification->channel, note.channel); !st) return bad(st);
    if (spec->notification->bounced) {
      Result<json> b = evaluate(*spec->notification->bounced, vars, now);
      if (!b) return bad(b.status());
      note.bounced = b->is_boolean() && b->get<bool>();
    }
    answer.note = std::move(note);
  }
  schedule(now + *took, answer_slot);
  return JobOutcome::pending();
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
