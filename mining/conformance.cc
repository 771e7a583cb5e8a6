// Conformance checking by token-based replay: see include/ordo/mining/conformance.h and
// docs/conformance.md (the mapping from BPMN to the Petri net, and its approximations).
#include "ordo/mining/conformance.h"

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "petri_net.h"
#include "time/iso8601.h"

namespace ordo {
namespace {

using sim::Marking;
using sim::Net;
using sim::PlaceIndex;
using sim::Transition;
using sim::TransitionIndex;

// --- Replay -----------------------------------------------------------------------------

bool enabled(const Transition& t, const Marking& m) {
  for (PlaceIndex pl : t.in) {
    if (m[pl] < std::count(t.in.begin(), t.in.end(), pl)) return false;
  }
  return true;
}

// How many tokens `t` would miss on `m`.
std::int64_t lacking(const Transition& t, Marking m) {
  std::int64_t n = 0;
  for (PlaceIndex pl : t.in) {
    if (m[pl] > 0) {
      --m[pl];
    } else {
      ++n;
    }
  }
  return n;
}

// Fires `t` on `m`; returns the places whose token was missing (one entry per token).
std::vector<PlaceIndex> fire(const Transition& t, Marking& m, TokenCounts& k) {
  std::vector<PlaceIndex> missing;
  for (PlaceIndex pl : t.in) {
    if (m[pl] > 0) {
      --m[pl];
    } else {
      missing.push_back(pl);
    }
    ++k.consumed;
  }
  for (PlaceIndex pl : t.cancel) {
    k.consumed += m[pl];
    m[pl] = 0;
  }
  for (PlaceIndex pl : t.out) ++m[pl];
  k.produced += static_cast<std::int64_t>(t.out.size());
  k.missing += static_cast<std::int64_t>(missing.size());
  return missing;
}

// The shortest sequence of silent transitions from `start` to a marking where `goal` holds,
// or nullopt within the bounds. Of the shortest ones, the one whose marking has the lowest
// `penalty` (ties: lower transition indices first): replay uses it to look ahead, so an
// inclusive split takes the branches the rest of the case needs.
template <class Goal, class Penalty>
std::optional<std::vector<TransitionIndex>> silent_path(const Net& net, const Marking& start,
                                                        Goal goal, Penalty penalty,
                                                        const ConformanceOptions& o) {
  if (goal(start)) return std::vector<TransitionIndex>{};
  struct Node {
    Marking marking;
    std::size_t parent;
    TransitionIndex via;
    std::size_t depth;
  };
  std::vector<Node> nodes{{start, 0, 0, 0}};
  std::set<Marking> seen{start};
  std::size_t found_depth = 0;  // 0: nothing found yet
  std::vector<std::size_t> found;
  for (std::size_t at = 0; at < nodes.size(); ++at) {
    const std::size_t depth = nodes[at].depth;
    if (depth >= o.max_silent_steps || (found_depth != 0 && depth + 1 > found_depth)) break;
    for (TransitionIndex t : net.silent()) {
      const Transition& tr = net.transitions()[t];
      if (!enabled(tr, nodes[at].marking)) continue;
      Marking next = nodes[at].marking;
      TokenCounts scratch;
      fire(tr, next, scratch);
      if (!seen.insert(next).second) continue;
      const bool done = goal(next);
      nodes.push_back({std::move(next), at, t, depth + 1});
      if (done) {
        found_depth = depth + 1;
        found.push_back(nodes.size() - 1);
      }
      if (nodes.size() >= o.max_search_markings) break;
    }
    if (nodes.size() >= o.max_search_markings) break;
  }
  if (found.empty()) return std::nullopt;
  std::size_t best = found.front();
  std::int64_t best_penalty = penalty(nodes[best].marking);
  for (std::size_t f : found) {
    const std::int64_t pen = penalty(nodes[f].marking);
    if (pen < best_penalty) {
      best = f;
      best_penalty = pen;
    }
  }
  std::vector<TransitionIndex> path;
  for (std::size_t n = best; n != 0; n = nodes[n].parent) path.push_back(nodes[n].via);
  std::reverse(path.begin(), path.end());
  return path;
}

struct Event {
  std::int64_t time = 0;
  std::int64_t line = 0;
  ElementIndex element = kNoIndex;  // kNoIndex: unknown activity
  std::string activity;             // as written; kept for unknown activities only
};

struct Trace {
  std::string case_id;
  std::vector<Event> events;
  std::size_t not_complete = 0;  // rows left out by their lifecycle
};

MissingToken missing_entry(const Net& net, PlaceIndex pl, const ProcessDefinition& p) {
  MissingToken m;
  m.place = net.places()[pl].name;
  if (net.places()[pl].flow != kNoIndex) m.flow = p.flows[net.places()[pl].flow].id;
  return m;
}

CaseConformance replay(const Net& net, const ProcessDefinition& p, const Trace& trace,
                       const ConformanceOptions& o) {
  CaseConformance out;
  out.case_id = trace.case_id;
  out.events = trace.events.size() + trace.not_complete;
  out.ignored = trace.not_complete;
  Marking m(net.places().size(), 0);
  m[net.source()] = 1;
  out.tokens.produced = 1;
  const auto run = [&](const std::vector<TransitionIndex>& path) {
    for (TransitionIndex t : path) fire(net.transitions()[t], m, out.tokens);
  };
  // Elements the events from the current one on name, and how often.
  std::unordered_map<ElementIndex, std::int64_t> upcoming;
  for (const Event& ev : trace.events) ++upcoming[ev.element];
  // Tokens waiting in front of an element no later event names: they would remain.
  const auto dead_tokens = [&](const Marking& mk) {
    std::int64_t n = 0;
    for (FlowIndex f = 0; f < p.flows.size(); ++f) {
      const ElementIndex target = p.flows[f].target;
      if (mk[f] == 0 || target == kNoIndex || net.visible_of(target).empty()) continue;
      if (auto it = upcoming.find(target); it == upcoming.end() || it->second == 0) n += mk[f];
    }
    return n;
  };
  const auto no_penalty = [](const Marking&) { return std::int64_t{0}; };
  const auto replay_event = [&](std::size_t n) {
    const Event& ev = trace.events[n];
    if (ev.element == kNoIndex) {
      ++out.tokens.consumed;
      ++out.tokens.missing;
      out.missing.push_back({"", "", ev.activity, n + 1, ev.line, true});
      out.unknown_activities.push_back({ev.activity, n + 1, ev.line});
      return;
    }
    const std::vector<TransitionIndex>& candidates = net.visible_of(ev.element);
    if (candidates.empty()) {
      ++out.ignored;
      return;
    }
    const auto any_enabled = [&](const Marking& mk) {
      return std::any_of(candidates.begin(), candidates.end(),
                         [&](TransitionIndex t) { return enabled(net.transitions()[t], mk); });
    };
    if (auto path = silent_path(net, m, any_enabled, dead_tokens, o)) run(*path);
    TransitionIndex chosen = candidates.front();
    std::int64_t fewest = -1;
    for (TransitionIndex t : candidates) {
      const std::int64_t lack = lacking(net.transitions()[t], m);
      if (fewest < 0 || lack < fewest) {
        chosen = t;
        fewest = lack;
      }
    }
    for (PlaceIndex pl : fire(net.transitions()[chosen], m, out.tokens)) {
      MissingToken mt = missing_entry(net, pl, p);
      mt.before = p.elements[ev.element].id;
      mt.event = n + 1;
      mt.line = ev.line;
      out.missing.push_back(std::move(mt));
    }
  };
  for (std::size_t n = 0; n < trace.events.size(); ++n) {
    replay_event(n);
    --upcoming[trace.events[n].element];
  }
  // The end: every token in the sink if silent steps get them there, else at least one.
  const PlaceIndex sink = net.sink();
  auto all_in_sink = [sink](const Marking& mk) {
    for (PlaceIndex pl = 0; pl < mk.size(); ++pl) {
      if (pl != sink && mk[pl] != 0) return false;
    }
    return mk[sink] > 0;
  };
  auto path = silent_path(net, m, all_in_sink, no_penalty, o);
  if (!path) {
    path = silent_path(
        net, m, [sink](const Marking& mk) { return mk[sink] > 0; }, no_penalty, o);
  }
  if (path) run(*path);
  if (m[sink] > 0) {
    out.tokens.consumed += m[sink];
    m[sink] = 0;
  } else {
    ++out.tokens.consumed;
    ++out.tokens.missing;
    out.missing.push_back(missing_entry(net, sink, p));
  }
  for (PlaceIndex pl = 0; pl < m.size(); ++pl) {
    if (m[pl] == 0) continue;
    RemainingToken r;
    r.place = net.places()[pl].name;
    if (net.places()[pl].flow != kNoIndex) r.flow = p.flows[net.places()[pl].flow].id;
    r.count = m[pl];
    out.tokens.remaining += m[pl];
    out.remaining.push_back(std::move(r));
  }
  out.fitness = token_fitness(out.tokens);
  return out;
}

// --- Reading the log --------------------------------------------------------------------

// A cell as text (JSON Lines numbers too); nullopt when absent or empty.
std::optional<std::string> field(const nlohmann::json& fields, const std::string& column) {
  if (column.empty()) return std::nullopt;
  auto it = fields.find(column);
  if (it == fields.end()) return std::nullopt;
  if (it->is_number()) return it->dump();
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) return std::nullopt;
  return it->get<std::string>();
}

// Element ids first, then names (the first element in document order with that name).
class ActivityMatcher {
 public:
  explicit ActivityMatcher(const ProcessDefinition& p) : p_(p) {
    for (ElementIndex i = 0; i < p.elements.size(); ++i) {
      if (!p.elements[i].name.empty()) by_name_.try_emplace(p.elements[i].name, i);
    }
  }
  ElementIndex match(const std::string& text) const {
    if (ElementIndex i = p_.element_index(text); i != kNoIndex) return i;
    auto it = by_name_.find(text);
    return it == by_name_.end() ? kNoIndex : it->second;
  }

 private:
  const ProcessDefinition& p_;
  std::unordered_map<std::string, ElementIndex> by_name_;
};

constexpr std::size_t kMaxListedErrors = 20;

}  // namespace

double token_fitness(const TokenCounts& k) noexcept {
  const double missing =
      k.consumed == 0 ? 0.0 : static_cast<double>(k.missing) / static_cast<double>(k.consumed);
  const double remaining =
      k.produced == 0 ? 0.0 : static_cast<double>(k.remaining) / static_cast<double>(k.produced);
  return 0.5 * (1.0 - missing) + 0.5 * (1.0 - remaining);
}

Result<ConformanceReport> check_conformance(const ProcessDefinition& process, OrderLogReader& log,
                                            const ConformanceOptions& o) {
  const ActivityMatcher matcher(process);
  std::vector<Trace> traces;
  std::unordered_map<std::string, std::size_t> trace_of;
  std::unordered_set<ElementIndex> observed;
  std::vector<std::string> errors;
  std::size_t error_count = 0;
  const auto error = [&](std::string message) {
    if (++error_count <= kMaxListedErrors) errors.push_back(std::move(message));
  };
  static const std::vector<std::string> kTimeColumns{"timestamp", "end_time", "start_time"};
  while (true) {
    Result<std::optional<OrderRecord>> next = log.next();
    if (!next) {
      if (next.status().code() != StatusCode::kInvalidArgument) return next.status();
      error(next.status().message());
      continue;
    }
    if (!*next) break;
    const OrderRecord& rec = **next;
    const std::string where = o.log_name + ":" + std::to_string(rec.line) + ": ";
    const std::optional<std::string> case_id = field(rec.fields, o.case_column);
    const std::optional<std::string> activity_id = field(rec.fields, o.activity_id_column);
    const std::optional<std::string> activity = field(rec.fields, o.activity_column);
    std::optional<std::string> time;
    std::string time_column = o.time_column;
    if (time_column.empty()) {
      for (const std::string& c : kTimeColumns) {
        if ((time = field(rec.fields, c))) {
          time_column = c;
          break;
        }
      }
    } else {
      time = field(rec.fields, time_column);
    }
    if (!case_id) {
      error(where + "no case: the column '" + o.case_column + "' is missing or empty");
      continue;
    }
    if (!activity && !activity_id) {
      error(where + "no activity: the column '" + o.activity_column + "' is missing or empty");
      continue;
    }
    if (!time) {
      error(where + "no time: " +
            (o.time_column.empty() ? std::string("none of timestamp, end_time, start_time")
                                   : "the column '" + o.time_column + "'") +
            " is given");
      continue;
    }
    const std::optional<std::int64_t> ms = time::parse_date_time(*time);
    if (!ms) {
      error(where + time_column + " '" + *time +
            "' is not an ISO 8601 date-time with an offset, e.g. 2026-09-01T10:00:00Z");
      continue;
    }
    auto [it, added] = trace_of.try_emplace(*case_id, traces.size());
    if (added) traces.push_back({*case_id, {}, 0});
    Trace& trace = traces[it->second];
    if (auto lifecycle = field(rec.fields, o.lifecycle_column);
        lifecycle && *lifecycle != "complete") {
      ++trace.not_complete;
      continue;
    }
    Event ev;
    ev.time = *ms;
    ev.line = rec.line;
    if (activity_id) ev.element = matcher.match(*activity_id);
    if (ev.element == kNoIndex && activity) ev.element = matcher.match(*activity);
    if (ev.element == kNoIndex) {
      ev.activity = activity ? *activity : *activity_id;
    } else {
      observed.insert(ev.element);
    }
    trace.events.push_back(std::move(ev));
  }
  if (error_count > 0) {
    std::string message;
    for (const std::string& e : errors) message += (message.empty() ? "" : "\n") + e;
    if (error_count > errors.size()) {
      message += "\n... and " + std::to_string(error_count - errors.size()) + " more";
    }
    return Status::invalid_argument(std::move(message));
  }

  const Net net(process, observed);
  ConformanceReport report;
  report.process = process.id;
  report.log = o.log_name;
  report.cases.reserve(traces.size());
  for (Trace& trace : traces) {
    std::stable_sort(trace.events.begin(), trace.events.end(),
                     [](const Event& a, const Event& b) { return a.time < b.time; });
    CaseConformance c = replay(net, process, trace, o);
    trace.events = {};  // done with it
    report.tokens.produced += c.tokens.produced;
    report.tokens.consumed += c.tokens.consumed;
    report.tokens.missing += c.tokens.missing;
    report.tokens.remaining += c.tokens.remaining;
    if (c.fits()) ++report.fitting_cases;
    report.cases.push_back(std::move(c));
  }
  report.fitness = token_fitness(report.tokens);
  return report;
}

nlohmann::json to_json(const ConformanceReport& r) {
  using nlohmann::json;
  const auto tokens = [](const TokenCounts& k) {
    return json{{"produced", k.produced},
                {"consumed", k.consumed},
                {"missing", k.missing},
                {"remaining", k.remaining}};
  };
  json cases = json::array();
  for (const CaseConformance& c : r.cases) {
    json missing = json::array(), remaining = json::array(), unknown = json::array();
    for (const MissingToken& m : c.missing) {
      json j = json::object();
      if (!m.place.empty()) j["place"] = m.place;
      if (!m.flow.empty()) j["flow"] = m.flow;
      if (!m.before.empty()) j["before"] = m.before;
      j["event"] = m.event;
      if (m.line != 0) j["line"] = m.line;
      if (m.unknown_activity) j["unknownActivity"] = true;
      missing.push_back(std::move(j));
    }
    for (const RemainingToken& t : c.remaining) {
      json j{{"place", t.place}};
      if (!t.flow.empty()) j["flow"] = t.flow;
      j["count"] = t.count;
      remaining.push_back(std::move(j));
    }
    for (const UnknownActivity& u : c.unknown_activities) {
      unknown.push_back({{"activity", u.activity}, {"event", u.event}, {"line", u.line}});
    }
    cases.push_back({{"case", c.case_id},
                     {"fits", c.fits()},
                     {"fitness", c.fitness},
                     {"events", c.events},
                     {"ignored", c.ignored},
                     {"tokens", tokens(c.tokens)},
                     {"missing", std::move(missing)},
                     {"remaining", std::move(remaining)},
                     {"unknownActivities", std::move(unknown)}});
  }
  return json{{"process", r.process},           {"log", r.log},
              {"cases", r.cases.size()},        {"fittingCases", r.fitting_cases},
              {"fitness", r.fitness},           {"tokens", tokens(r.tokens)},
              {"caseResults", std::move(cases)}};
}

}  // namespace ordo
