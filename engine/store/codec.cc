#include "store/codec.h"

#include <algorithm>
#include <charconv>

#include "state/plan.h"

namespace ordo::store {

using nlohmann::json;

namespace {

// Writes JSON text straight into a string: the runtime state is mostly small numbers, and
// building a JSON tree for each command only to print it costs more than the rest of the
// encoding.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  Writer& raw(std::string_view s) {
    out_.append(s);
    return *this;
  }
  template <class T>
  Writer& num(T v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
  }
  Writer& str(std::string_view s) {
    // Ids, keys and job types are printable ASCII with nothing to escape: as they are.
    // Anything else goes through the JSON library, which escapes and replaces invalid UTF-8.
    const bool plain = std::all_of(s.begin(), s.end(), [](char c) {
      return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    });
    if (plain) {
      out_.push_back('"');
      out_.append(s);
      out_.push_back('"');
    } else {
      out_.append(encode_json(json(std::string(s))));
    }
    return *this;
  }
  Writer& value(const json& v) {
    if (v.is_null()) return raw("null");
    out_.append(encode_json(v));
    return *this;
  }

 private:
  std::string& out_;
};

}  // namespace

std::string encode_json(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json parse_json(std::string_view text) {
  return json::parse(text.begin(), text.end(), nullptr, false);
}

std::string encode_runtime(const state::Instance& inst) {
  std::string out;
  out.reserve(128 + 96 * inst.elements.size() + 48 * inst.waits.size());
  Writer w(out);
  w.raw("{\"k\":").num(inst.next_key).raw(",\"t\":").num(inst.tokens);
  w.raw(",\"x\":").num(inst.end_event).raw(",\"e\":[");
  bool first = true;
  for (const state::ElementInstance& e : inst.elements) {
    w.raw(first ? "[" : ",[");
    first = false;
    w.num(e.key).raw(",").num(e.parent).raw(",").num(e.element).raw(",");
    w.num(static_cast<int>(e.state)).raw(",").num(static_cast<int>(e.role)).raw(",");
    w.num(e.has_incident ? 1 : 0).raw(",").num(e.tokens).raw(",").num(e.loop_index).raw(",");
    w.num(e.loop_total).raw(",").num(e.loop_done).raw(",").num(e.job).raw(",").num(e.child);
    w.raw(",");
    if (e.arrivals.empty()) {
      w.raw("null");
    } else {
      w.raw("[");
      for (std::size_t i = 0; i < e.arrivals.size(); ++i) {
        if (i) w.raw(",");
        w.num(e.arrivals[i]);
      }
      w.raw("]");
    }
    w.raw(",").value(e.vars).raw(",").value(e.items).raw(",").num(e.activated_ms).raw("]");
  }
  w.raw("],\"w\":[");
  first = true;
  for (const state::Wait& x : inst.waits) {
    w.raw(first ? "[" : ",[");
    first = false;
    w.num(x.id).raw(",").num(x.owner).raw(",").num(x.event).raw(",").num(x.timer ? 1 : 0);
    w.raw(",").num(x.due_ms).raw(",").str(x.sub_key).raw("]");
  }
  w.raw("],\"i\":[");
  first = true;
  for (const state::Incident& i : inst.incidents) {
    w.raw(first ? "[" : ",[");
    first = false;
    w.num(i.key).raw(",").num(i.element).raw(",").num(i.element_index).raw(",").num(i.job);
    w.raw(",").num(static_cast<int>(i.retry)).raw(",").str(to_string(i.kind)).raw(",").str(i.message);
    w.raw(",").num(i.created_ms).raw("]");
  }
  w.raw("]");
  if (!inst.compensations.empty()) {
    w.raw(",\"c\":[");
    first = true;
    for (const state::Compensable& c : inst.compensations) {
      w.raw(first ? "[" : ",[");
      first = false;
      w.num(c.key).raw(",").num(c.scope).raw(",").num(c.element).raw(",").num(c.body ? 1 : 0);
      w.raw(",").value(c.vars).raw(",").num(c.claimed_by).raw("]");
    }
    w.raw("]");
  }
  if (!inst.compensation_runs.empty()) {
    w.raw(",\"r\":[");
    first = true;
    for (const state::CompensationRun& r : inst.compensation_runs) {
      w.raw(first ? "[" : ",[");
      first = false;
      w.num(r.owner).raw(",").num(r.compensates).raw(",[");
      for (std::size_t i = 0; i < r.pending.size(); ++i) {
        if (i) w.raw(",");
        w.num(r.pending[i]);
      }
      w.raw("]]");
    }
    w.raw("]");
  }
  w.raw("}");
  return out;
}

std::string encode_history(const HistoryEvent* begin, const HistoryEvent* end) {
  std::string out;
  out.reserve(64 * static_cast<std::size_t>(end - begin) + 2);
  Writer w(out);
  w.raw("[");
  for (const HistoryEvent* e = begin; e != end; ++e) {
    w.raw(e == begin ? "[" : ",[");
    w.num(e->time_ms).raw(",\"").raw(to_string(e->kind)).raw("\",");
    if (e->element_id.empty()) {
      w.raw("null");
    } else {
      w.str(e->element_id);
    }
    w.raw(",").num(e->key).raw(",").num(e->value).raw(",");
    if (e->detail.empty()) {
      w.raw("null");
    } else {
      w.str(e->detail);
    }
    w.raw("]");
  }
  w.raw("]");
  return out;
}

namespace {

template <class T>
T number(const json& a, std::size_t i) {
  return a.at(i).get<T>();
}

}  // namespace

Status decode_runtime(std::string_view text, state::Instance& inst) {
  json j = json::parse(text, nullptr, false);
  auto damaged = [&](const std::string& why) {
    return Status(StatusCode::kCorruption,
                  "the stored state of instance " + std::to_string(inst.id) +
                      " is damaged (" + why + "); restore the database from a backup");
  };
  if (!j.is_object()) return damaged("not a JSON object");
  try {
    inst.next_key = j.at("k").get<state::ElemKey>();
    inst.tokens = j.at("t").get<std::uint32_t>();
    inst.end_event = j.at("x").get<ElementIndex>();
    inst.elements.clear();
    for (const json& a : j.at("e")) {
      state::ElementInstance& e = inst.elements.emplace_back();
      e.key = number<state::ElemKey>(a, 0);
      e.parent = number<state::ElemKey>(a, 1);
      e.element = number<ElementIndex>(a, 2);
      e.state = static_cast<ElementState>(number<int>(a, 3));
      e.role = static_cast<state::Role>(number<int>(a, 4));
      e.has_incident = number<int>(a, 5) != 0;
      e.tokens = number<std::uint32_t>(a, 6);
      e.loop_index = number<std::uint32_t>(a, 7);
      e.loop_total = number<std::uint32_t>(a, 8);
      e.loop_done = number<std::uint32_t>(a, 9);
      e.job = number<JobKey>(a, 10);
      e.child = number<InstanceId>(a, 11);
      if (!a.at(12).is_null()) e.arrivals = a.at(12).get<std::vector<std::uint16_t>>();
      e.vars = a.at(13);
      e.items = a.at(14);
      if (a.size() > 15) e.activated_ms = number<std::int64_t>(a, 15);  // absent before
      if (inst.elements.size() > 1 && inst.elements[inst.elements.size() - 2].key >= e.key) {
        return damaged("element " + std::to_string(e.key) + " is out of order");
      }
    }
    inst.waits.clear();
    for (const json& a : j.at("w")) {
      state::Wait& w = inst.waits.emplace_back();
      w.id = number<std::uint64_t>(a, 0);
      w.owner = number<state::ElemKey>(a, 1);
      w.event = number<ElementIndex>(a, 2);
      w.timer = number<int>(a, 3) != 0;
      w.due_ms = number<std::int64_t>(a, 4);
      w.sub_key = a.at(5).get<std::string>();
    }
    inst.incidents.clear();
    for (const json& a : j.at("i")) {
      state::Incident& i = inst.incidents.emplace_back();
      i.key = number<IncidentKey>(a, 0);
      i.element = number<state::ElemKey>(a, 1);
      i.element_index = number<ElementIndex>(a, 2);
      i.job = number<JobKey>(a, 3);
      i.retry = static_cast<state::IncidentRetry>(number<int>(a, 4));
      const std::optional<IncidentKind> kind = incident_kind_from(a.at(5).get<std::string>());
      if (!kind) throw json::other_error::create(501, "an unknown incident kind", nullptr);
      i.kind = *kind;
      i.message = a.at(6).get<std::string>();
      i.created_ms = number<std::int64_t>(a, 7);
    }
    inst.compensations.clear();
    if (auto c = j.find("c"); c != j.end()) {
      for (const json& a : *c) {
        state::Compensable& x = inst.compensations.emplace_back();
        x.key = number<state::ElemKey>(a, 0);
        x.scope = number<state::ElemKey>(a, 1);
        x.element = number<ElementIndex>(a, 2);
        x.body = number<int>(a, 3) != 0;
        x.vars = a.at(4);
        x.claimed_by = number<state::ElemKey>(a, 5);
      }
    }
    inst.compensation_runs.clear();
    if (auto r = j.find("r"); r != j.end()) {
      for (const json& a : *r) {
        state::CompensationRun& x = inst.compensation_runs.emplace_back();
        x.owner = number<state::ElemKey>(a, 0);
        x.compensates = number<state::ElemKey>(a, 1);
        x.pending = a.at(2).get<std::vector<state::ElemKey>>();
      }
    }
  } catch (const json::exception& e) {
    return damaged(e.what());
  }
  return Status::ok();
}

// ---- history ----

VersionDefinition version_definitions(const Attach& attach, std::string process_id) {
  return [&attach, process_id = std::move(process_id)](int version) -> const ProcessDefinition* {
    if (!attach) return nullptr;
    state::Instance probe;
    if (!attach(probe, process_id, version) || probe.plan == nullptr) return nullptr;
    return probe.plan->def;
  };
}

Status decode_history_rows(const std::vector<std::pair<std::uint64_t, std::string>>& rows,
                           InstanceId id, const ProcessDefinition& current,
                           const VersionDefinition& version_def, std::string_view where,
                           std::vector<HistoryEvent>& out) {
  // Which definition each row names elements of: backwards from the current version, the
  // rows before a migration's are of the version it came from.
  std::vector<const ProcessDefinition*> defs(rows.size(), &current);
  const ProcessDefinition* def = &current;
  for (std::size_t i = rows.size(); i-- > 0;) {
    defs[i] = def;
    if (rows[i].second.find("\"instance-migrated\"") == std::string::npos) continue;
    const json events = parse_json(rows[i].second);
    if (!events.is_array()) continue;  // decode_history names the damage
    for (const json& e : events) {
      if (e.is_array() && e.size() == 6 && e[1] == "instance-migrated" && e[4].is_number()) {
        if (const ProcessDefinition* older = version_def(e[4].get<int>())) def = older;
      }
    }
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (Status s = decode_history(rows[i].second, rows[i].first, id, *defs[i], where, out); !s) {
      return s;
    }
  }
  return Status::ok();
}

Status write_history(std::vector<HistoryEvent>& events, std::uint64_t first,
                     const InsertHistory& insert) {
  std::size_t begin = 0;
  while (begin < events.size()) {
    std::size_t end = begin;
    while (end < events.size() && events[end].instance == events[begin].instance) {
      events[end].sequence = first + end;
      ++end;
    }
    const std::string rows = encode_history(events.data() + begin, events.data() + end);
    if (Status s = insert(events[begin].sequence, events[begin].instance, rows); !s) return s;
    begin = end;
  }
  return Status::ok();
}

Status decode_history(std::string_view events, std::uint64_t first, InstanceId id,
                      const ProcessDefinition& def, std::string_view where,
                      std::vector<HistoryEvent>& out) {
  const json rows = parse_json(events);
  if (!rows.is_array()) {
    return Status(StatusCode::kCorruption, "the history of instance " + std::to_string(id) +
                                               " in " + std::string(where) +
                                               " is damaged; restore it from a backup");
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const json& r = rows[i];
    if (!r.is_array() || r.size() != 6) continue;
    HistoryEvent& e = out.emplace_back();
    e.sequence = first + i;
    e.instance = id;
    e.process_id = def.id;
    e.time_ms = r[0].is_number() ? r[0].get<std::int64_t>() : 0;
    e.kind = enum_from<HistoryKind, HistoryKind::kDecisionEvaluated>(
                 r[1].is_string() ? r[1].get<std::string>() : std::string())
                 .value_or(HistoryKind::kInstanceStarted);
    const std::string element_id = r[2].is_string() ? r[2].get<std::string>() : std::string();
    if (const Element* el = element_id.empty() ? nullptr : def.find_element(element_id)) {
      e.element_id = el->id;
      e.element_kind = el->kind;
    } else if (e.kind == HistoryKind::kFlowTaken) {
      // Flow events name a sequence flow, which is not an element.
      if (const FlowIndex f = def.flow_index(element_id); f != kNoIndex) {
        e.element_id = def.flows[f].id;
      }
    }
    e.key = r[3].is_number() ? r[3].get<std::uint64_t>() : 0;
    e.value = r[4].is_number() ? r[4].get<std::int64_t>() : 0;
    if (r[5].is_string()) e.detail = r[5].get<std::string>();
  }
  return Status::ok();
}

// ---- rows ----

state::JobRecord job_from(const Columns& row) {
  state::JobRecord j;
  j.key = static_cast<JobKey>(row.integer(0));
  j.instance = static_cast<InstanceId>(row.integer(1));
  j.element = static_cast<state::ElemKey>(row.integer(2));
  j.element_index = static_cast<ElementIndex>(row.integer(3));
  j.type = row.text(4);
  j.state = enum_from<JobState, JobState::kCancelled>(row.text(5)).value_or(JobState::kCreated);
  j.retries = static_cast<int>(row.integer(6));
  j.attempt = static_cast<int>(row.integer(7));
  j.idempotency_key = row.text(8);
  j.last_error = row.text(9);
  j.lock_owner = row.text(10);
  j.lock_expires_ms = row.integer(11);
  return j;
}

Result<RowCache::Loaded> instance_from(const Columns& row, InstanceId id, std::uint64_t known_rev,
                                       std::string_view where, state::Instance& out) {
  RowCache::Loaded loaded;
  const auto rev = static_cast<std::uint64_t>(row.integer(0));
  if (rev == known_rev) {
    loaded.load = RowCache::Load::kUnchanged;
    return loaded;
  }
  loaded.load = RowCache::Load::kLoaded;
  loaded.process_id = row.text(1);
  loaded.version = static_cast<int>(row.integer(2));
  out.id = id;
  out.rev = rev;
  out.business_key = row.text(3);
  const std::string state_text = row.text(4);
  auto state = enum_from<InstanceState, InstanceState::kIncident>(state_text);
  if (!state) {
    return Status(StatusCode::kCorruption, "instance " + std::to_string(id) + " in " +
                                               std::string(where) + " has an unknown state '" +
                                               state_text + "'; restore it from a backup");
  }
  out.state = *state;
  out.stored_state = *state;
  out.stored_version = loaded.version;
  out.parent = static_cast<InstanceId>(row.integer(5));
  out.parent_element = static_cast<state::ElemKey>(row.integer(6));
  out.started_ms = row.integer(7);
  out.ended_ms = row.integer(8);
  out.vars = parse_json(row.text(9));
  out.vars_changed = false;
  if (!out.vars.is_object()) {
    return Status(StatusCode::kCorruption, "the variables of instance " + std::to_string(id) +
                                               " in " + std::string(where) +
                                               " are damaged; restore it from a backup");
  }
  if (Status s = decode_runtime(row.text(10), out); !s) return s;
  out.stored_end_event = out.end_event;
  return loaded;
}

TimerRow timer_from(const Columns& row) {
  TimerRow t;
  t.id = static_cast<std::uint64_t>(row.integer(0));
  t.record.instance = static_cast<InstanceId>(row.integer(1));
  t.record.wait = static_cast<std::uint64_t>(row.integer(2));
  t.due_ms = row.integer(3);
  t.record.repetitions_left = static_cast<std::int32_t>(row.integer(4));
  t.record.interval_ms = row.integer(5);
  if (!row.is_null(8)) {
    t.record.process_id = row.text(6);
    t.record.version = static_cast<int>(row.integer(7));
    t.record.start_event = static_cast<ElementIndex>(row.integer(8));
  }
  return t;
}

state::BufferedMessage buffered_from(const Columns& row, std::string_view name,
                                     std::string_view key) {
  state::BufferedMessage m;
  m.id = static_cast<std::uint64_t>(row.integer(0));
  m.name = std::string(name);
  m.correlation_key = std::string(key);
  m.variables = parse_json(row.text(1));
  if (m.variables.is_discarded()) m.variables = json::object();
  m.expires_ms = row.integer(2);
  return m;
}

DeploymentRow deployment_from(const Columns& row) {
  return {.process_id = row.text(0),
          .version = static_cast<int>(row.integer(1)),
          .content_hash = row.text(2),
          .file = row.text(3),
          .xml = row.text(4),
          .load_flags = static_cast<int>(row.integer(5)),
          .deployed_ms = row.integer(6)};
}

InstanceRow instance_row_from(const Columns& row) {
  InstanceRow r;
  r.id = static_cast<InstanceId>(row.integer(0));
  r.process_id = row.text(1);
  r.version = static_cast<int>(row.integer(2));
  r.business_key = row.text(3);
  r.state = enum_from<InstanceState, InstanceState::kIncident>(row.text(4))
                .value_or(InstanceState::kActive);
  r.parent = static_cast<InstanceId>(row.integer(5));
  r.started_ms = row.integer(6);
  r.ended_ms = row.integer(7);
  r.end_event = row.text(8);
  return r;
}

InstanceCountRow count_row_from(const Columns& row) {
  return {.process_id = row.text(0),
          .state = enum_from<InstanceState, InstanceState::kIncident>(row.text(1))
                       .value_or(InstanceState::kActive),
          .end_event = row.text(2),
          .count = row.integer(3)};
}

Result<IncidentRow> incident_row_from(const Columns& row, std::string_view where) {
  const std::string kind_text = row.text(4);
  const std::optional<IncidentKind> kind = incident_kind_from(kind_text);
  if (!kind) {
    return Status(StatusCode::kCorruption, "incident " + std::to_string(row.integer(0)) + " in " +
                                               std::string(where) + " has an unknown kind '" +
                                               kind_text + "'; restore it from a backup");
  }
  return IncidentRow{.key = static_cast<IncidentKey>(row.integer(0)),
                     .instance = static_cast<InstanceId>(row.integer(1)),
                     .element_id = row.text(2),
                     .job = static_cast<JobKey>(row.integer(3)),
                     .kind = *kind,
                     .message = row.text(5),
                     .created_ms = row.integer(6),
                     .process_id = row.text(7),
                     .version = static_cast<int>(row.integer(8)),
                     .business_key = row.text(9)};
}

}  // namespace ordo::store
