// How a recorded order answers its jobs in a replay (the replay config's "tasks"): the
// outcome that applies, the answer and its latency, the messages it publishes later, the
// notification it counts. The rest of the replay is in sim/replay_sim.cc.
#include <string>

#include "sim/random.h"
#include "sim/replay_sim.h"

namespace ordo::sim {

using nlohmann::json;

namespace {

// A job's process variables, as expressions see them.
class JobVariables final : public expr::Variables {
 public:
  explicit JobVariables(const Job& job) : job_(job) {}
  const json* find(std::string_view name) const override { return job_.variable(name); }

 private:
  const Job& job_;
};

// The outcome of `spec` that applies: the first whose "when" holds, whose probability band
// the draw falls in, or that has neither. Null when none does.
Result<const OutcomeSpec*> choose_outcome(const TaskSpec& spec, const expr::Variables& vars,
                                          std::int64_t now, Random& random) {
  double draw = -1, cumulative = 0;
  for (const OutcomeSpec& o : spec.outcomes) {
    if (o.when) {
      Result<bool> hit = evaluate_condition(*o.when, vars, now);
      if (!hit) return hit.status();
      if (*hit) return &o;
    } else if (o.probability) {
      if (draw < 0) draw = random.uniform();
      cumulative += *o.probability;
      if (draw < cumulative) return &o;
    } else {
      return &o;
    }
  }
  return static_cast<const OutcomeSpec*>(nullptr);
}

// The job's answer for `chosen` (none: completed without variables).
Result<JobOutcome> answer_of(const OutcomeSpec* chosen, const expr::Variables& vars,
                             std::int64_t now) {
  json outputs;  // null: no variables (an empty object would cost an allocation a job)
  if (chosen == nullptr) return JobOutcome::complete(std::move(outputs));
  for (const NamedValue& v : chosen->outputs) {
    Result<json> value = evaluate(v.value, vars, now);
    if (!value) return value.status();
    outputs[v.name] = std::move(*value);
  }
  if (!chosen->error_code.empty()) {
    std::string message;
    if (chosen->error_message) {
      Result<json> m = evaluate(*chosen->error_message, vars, now);
      if (!m) return m.status();
      if (!m->is_null()) message = text_of(*m);
    }
    return JobOutcome::error(chosen->error_code, std::move(message), std::move(outputs));
  }
  if (chosen->fail) {
    Result<json> m = evaluate(*chosen->fail, vars, now);
    if (!m) return m.status();
    return JobOutcome::fail(m->is_null() ? "simulated failure" : text_of(*m));
  }
  return JobOutcome::complete(std::move(outputs));
}

// The notification a job sends, counted when it completes.
Result<OrderOutcome::Note> note_of(const NotificationSpec& spec, const Job& job,
                                   const expr::Variables& vars, std::int64_t now) {
  // Usually a task header: read without evaluating anything.
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
  OrderOutcome::Note note;
  if (Status st = text(spec.template_id, note.template_id); !st) return st;
  if (Status st = text(spec.channel, note.channel); !st) return st;
  if (spec.bounced) {
    Result<json> b = evaluate(*spec.bounced, vars, now);
    if (!b) return b.status();
    note.bounced = b->is_boolean() && b->get<bool>();
  }
  return note;
}

}  // namespace

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

// What an element's jobs need from the config, looked up once per element (elements whose
// job type is an expression, or of a called process, have none: null).
ReplaySim::ElementCache* ReplaySim::element_cache(const Job& job) {
  auto at = variant_.element_at.find(job.element_id().data());
  if (at == variant_.element_at.end() ||
      variant_.def->elements[at->second].task.type.dialect != ExpressionDialect::kStatic) {
    return nullptr;
  }
  ElementCache* cached = &element_cache_[at->second];
  if (!cached->ready) {
    cached->ready = true;
    cached->spec = shared_.config->task(job.type());
    if (cached->spec != nullptr) {
      cached->stream = cached->spec->type.empty() ? stable_hash(job.type()) : cached->spec->stream;
    }
  }
  return cached;
}

Status ReplaySim::publish_later(const OutcomeSpec& chosen, Track& track,
                                const expr::Variables& vars, Random& random, std::int64_t now) {
  for (const PublishSpec& p : chosen.publish) {
    if (p.when) {
      Result<bool> hit = evaluate_condition(*p.when, vars, now);
      if (!hit) return hit.status();
      if (!*hit) continue;
    }
    Result<json> key = evaluate(p.correlation_key, vars, now);
    if (!key) return key.status();
    Result<std::int64_t> after = sample(p.after, random, track.record->fields, now);
    if (!after) {
      return Status::invalid_argument(after.status().message() + " (" + p.where + ".after)");
    }
    const std::uint32_t publish_slot = take_slot();
    Action& publish = slots_[publish_slot];
    publish.kind = Action::Kind::kPublish;
    publish.track = track.id;
    publish.message.name = p.message;
    publish.message.correlation_key = text_of(*key);
    publish.message.ttl_ms = shared_.config->message_ttl_ms;
    for (const NamedValue& v : p.variables) {
      Result<json> value = evaluate(v.value, vars, now);
      if (!value) return value.status();
      publish.message.variables[v.name] = std::move(*value);
    }
    schedule(now + *after, publish_slot);
  }
  return Status::ok();
}

JobOutcome ReplaySim::respond(const Job& job, Track& track) {
  ElementCache* cached = element_cache(job);
  const TaskSpec* spec = cached != nullptr ? cached->spec : shared_.config->task(job.type());
  if (spec == nullptr) {
    return JobOutcome::incident("the replay config has no entry for job type '" +
                                std::string(job.type()) + "' and no \"default\"");
  }
  const ReplayRecord& record = *track.record;
  // (A slot taken here for an action that is never scheduled, because the record turns out
  // bad half-way, is free again when the order ends.)
  const auto bad = [&](const Status& s) {
    fail_record(track, s.message());
    return JobOutcome::pending();
  };
  for (const std::string& field : spec->requires_fields) {
    auto it = record.fields.find(field);
    if (it == record.fields.end() || it->is_null()) {
      return bad(Status::invalid_argument("the record has no '" + field + "', which tasks." +
                                          spec->type + ".requires"));
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
  const std::uint32_t n = track.occurrence(type_stream);
  Random random(stream(shared_.seed, type_stream + n * 0x9E3779B97F4A7C15ULL,
                       static_cast<std::uint64_t>(record.line)));

  Result<const OutcomeSpec*> picked = choose_outcome(*spec, vars, now, random);
  if (!picked) return bad(picked.status());
  const OutcomeSpec* chosen = *picked;
  if (chosen == nullptr && !spec->outcomes.empty()) {
    return bad(Status::invalid_argument(
        "no outcome of tasks." + spec->type +
        " applies to this record (give the last outcome no \"when\" and no \"probability\", "
        "as the otherwise, or let the probabilities add up to 1)"));
  }
  const bool own = chosen != nullptr && chosen->latency;
  Result<std::int64_t> took =
      sample(own ? *chosen->latency : spec->latency, random, record.fields, now);
  if (!took) {
    return bad(Status::invalid_argument(took.status().message() + " (" +
                                        (own ? chosen->where : "tasks." + spec->type) +
                                        ".latency)"));
  }

  const std::uint32_t answer_slot = take_slot();
  Action& answer = slots_[answer_slot];
  answer.kind = Action::Kind::kAnswer;
  answer.track = track.id;
  answer.job = job.key();
  answer.latency_ms = *took;
  Result<JobOutcome> outcome = answer_of(chosen, vars, now);
  if (!outcome) return bad(outcome.status());
  answer.outcome = std::move(*outcome);
  if (chosen != nullptr) {
    if (Status s = publish_later(*chosen, track, vars, random, now); !s) return bad(s);
  }
  if (spec->notification) {
    Result<OrderOutcome::Note> note = note_of(*spec->notification, job, vars, now);
    if (!note) return bad(note.status());
    answer.note = std::move(*note);
  }
  schedule(now + *took, answer_slot);
  return JobOutcome::pending();
}

}  // namespace ordo::sim
