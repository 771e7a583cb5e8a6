#include "store/sqlite/codec.h"

namespace ordo::store::sqlite {

using nlohmann::json;

std::string encode_runtime(const runtime::Instance& inst) {
  json elements = json::array();
  for (const runtime::ElementInstance& e : inst.elements) {
    elements.push_back(json::array(
        {e.key, e.parent, e.element, static_cast<int>(e.state), static_cast<int>(e.role),
         e.has_incident ? 1 : 0, e.tokens, e.loop_index, e.loop_total, e.loop_done, e.job,
         e.child, e.arrivals.empty() ? json() : json(e.arrivals), e.vars, e.items}));
  }
  json waits = json::array();
  for (const runtime::Wait& w : inst.waits) {
    waits.push_back(json::array({w.id, w.owner, w.event, w.timer ? 1 : 0, w.due_ms, w.sub_key}));
  }
  json incidents = json::array();
  for (const runtime::Incident& i : inst.incidents) {
    incidents.push_back(json::array({i.key, i.element, i.element_index, i.job,
                                     static_cast<int>(i.retry), i.type, i.message,
                                     i.created_ms}));
  }
  json out = {{"k", inst.next_key}, {"t", inst.tokens}, {"x", inst.end_event},
              {"e", std::move(elements)},
              {"w", std::move(waits)}, {"i", std::move(incidents)}};
  return out.dump();
}

namespace {

template <class T>
T number(const json& a, std::size_t i) {
  return a.at(i).get<T>();
}

}  // namespace

Status decode_runtime(std::string_view text, runtime::Instance& inst) {
  json j = json::parse(text, nullptr, false);
  auto damaged = [&](const std::string& why) {
    return Status(StatusCode::kCorruption,
                  "the stored state of instance " + std::to_string(inst.id) +
                      " is damaged (" + why + "); restore the database from a backup");
  };
  if (!j.is_object()) return damaged("not a JSON object");
  try {
    inst.next_key = j.at("k").get<runtime::ElemKey>();
    inst.tokens = j.at("t").get<std::uint32_t>();
    inst.end_event = j.at("x").get<ElementIndex>();
    inst.elements.clear();
    for (const json& a : j.at("e")) {
      runtime::ElementInstance& e = inst.elements.emplace_back();
      e.key = number<runtime::ElemKey>(a, 0);
      e.parent = number<runtime::ElemKey>(a, 1);
      e.element = number<ElementIndex>(a, 2);
      e.state = static_cast<ElementState>(number<int>(a, 3));
      e.role = static_cast<runtime::Role>(number<int>(a, 4));
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
    }
    inst.waits.clear();
    for (const json& a : j.at("w")) {
      runtime::Wait& w = inst.waits.emplace_back();
      w.id = number<std::uint64_t>(a, 0);
      w.owner = number<runtime::ElemKey>(a, 1);
      w.event = number<ElementIndex>(a, 2);
      w.timer = number<int>(a, 3) != 0;
      w.due_ms = number<std::int64_t>(a, 4);
      w.sub_key = a.at(5).get<std::string>();
    }
    inst.incidents.clear();
    for (const json& a : j.at("i")) {
      runtime::Incident& i = inst.incidents.emplace_back();
      i.key = number<IncidentKey>(a, 0);
      i.element = number<runtime::ElemKey>(a, 1);
      i.element_index = number<ElementIndex>(a, 2);
      i.job = number<JobKey>(a, 3);
      i.retry = static_cast<runtime::IncidentRetry>(number<int>(a, 4));
      i.type = a.at(5).get<std::string>();
      i.message = a.at(6).get<std::string>();
      i.created_ms = number<std::int64_t>(a, 7);
    }
  } catch (const json::exception& e) {
    return damaged(e.what());
  }
  return Status::ok();
}

}  // namespace ordo::store::sqlite
