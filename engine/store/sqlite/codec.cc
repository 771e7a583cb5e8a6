#include "store/sqlite/codec.h"

#include <charconv>

namespace ordo::store::sqlite {

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
    // Through the JSON library, which escapes and replaces invalid UTF-8.
    out_.append(json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace));
    return *this;
  }
  Writer& value(const json& v) {
    if (v.is_null()) return raw("null");
    out_.append(v.dump(-1, ' ', false, json::error_handler_t::replace));
    return *this;
  }

 private:
  std::string& out_;
};

}  // namespace

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
    w.raw(",").value(e.vars).raw(",").value(e.items).raw("]");
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
  w.raw("]}");
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
  } catch (const json::exception& e) {
    return damaged(e.what());
  }
  return Status::ok();
}

}  // namespace ordo::store::sqlite
