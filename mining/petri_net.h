// The Petri net of a process for token-based replay (engine/sim/conformance.cc): places for
// sequence flows and the internal states of subprocesses and activities with boundary events,
// visible transitions for activities and logged events, silent ones for gateways. The mapping
// and its approximations are described in docs/conformance.md. Internal; header-only because
// conformance.cc is its one user.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ordo/definition.h"

namespace ordo::sim {

using PlaceIndex = std::uint32_t;
using TransitionIndex = std::uint32_t;
using Marking = std::vector<std::int64_t>;

struct Place {
  std::string name;
  FlowIndex flow = kNoIndex;
};

struct Transition {
  std::vector<PlaceIndex> in;
  std::vector<PlaceIndex> out;
  std::vector<PlaceIndex> cancel;  // emptied when it fires (interrupting boundary, terminate)
  ElementIndex element = kNoIndex;
  bool visible = false;
};

// More than this many outgoing (or incoming) flows on an inclusive gateway: only each flow
// alone and all of them together, not every subset.
constexpr std::size_t kMaxSubsetFlows = 6;

// The Petri net of one process. Places 0..flows-1 are the sequence flows, in flow order.
class Net {
 public:
  // `observed`: elements some log event names; events among them are visible transitions,
  // other events silent ones (a log that records no events still fits).
  Net(const ProcessDefinition& p, const std::unordered_set<ElementIndex>& observed) : p_(p) {
    for (const SequenceFlow& f : p.flows) add_place(f.id, static_cast<FlowIndex>(places_.size()));
    source_ = add_place("source");
    sink_ = add_place("sink");
    const std::size_t n = p.elements.size();
    skipped_.assign(n, false);
    running_.assign(n, kNoIndex);
    instances_.assign(n, kNoIndex);
    entered_.assign(n, kNoIndex);
    completed_.assign(n, kNoIndex);
    visible_.resize(n);
    for (ElementIndex i = 0; i < n; ++i) skipped_[i] = is_skipped(i);
    for (ElementIndex i = 0; i < n; ++i) {
      const Element& e = p.elements[i];
      if (skipped_[i]) continue;
      if (e.kind == ElementKind::kSubProcess) {
        entered_[i] = add_place("entered:" + e.id);
        completed_[i] = add_place("completed:" + e.id);
      }
      const bool has_boundary = std::any_of(e.boundary_events.begin(), e.boundary_events.end(),
                                            [this](ElementIndex b) { return !skipped_[b]; });
      const bool multi = e.loop.present && e.kind != ElementKind::kSubProcess;
      if (has_boundary || multi) running_[i] = add_place("running:" + e.id);
      if (multi) instances_[i] = add_place("instances:" + e.id);
    }
    for (ElementIndex i = 0; i < n; ++i) {  // before any interruption lists what is inside
      const Element& e = p.elements[i];
      const bool is_link =
          e.event.type == EventType::kLink && (e.kind == ElementKind::kIntermediateCatchEvent ||
                                               e.kind == ElementKind::kIntermediateThrowEvent);
      if (!skipped_[i] && is_link) link(e.scope, e.event.link_name);
    }
    for (ElementIndex i = 0; i < n; ++i) {
      if (!skipped_[i]) add_transitions(i, observed.contains(i));
    }
    for (TransitionIndex t = 0; t < transitions_.size(); ++t) {
      if (!transitions_[t].visible) silent_.push_back(t);
    }
  }

  const std::vector<Place>& places() const { return places_; }
  const std::vector<Transition>& transitions() const { return transitions_; }
  const std::vector<TransitionIndex>& silent() const { return silent_; }
  const std::vector<TransitionIndex>& visible_of(ElementIndex e) const { return visible_[e]; }
  PlaceIndex source() const { return source_; }
  PlaceIndex sink() const { return sink_; }

 private:
  PlaceIndex add_place(std::string name, FlowIndex flow = kNoIndex) {
    places_.push_back({std::move(name), flow});
    return static_cast<PlaceIndex>(places_.size() - 1);
  }

  // Event subprocesses, compensation handlers, what they contain, and what is attached to
  // them are not replayed.
  bool is_skipped(ElementIndex i) const {
    const Element& e = p_.elements[i];
    if (e.kind == ElementKind::kEventSubProcess || e.for_compensation) return true;
    if (e.kind == ElementKind::kBoundaryEvent &&
        (e.event.type == EventType::kCompensation || e.attached_to == kNoIndex ||
         is_skipped(e.attached_to))) {
      return true;
    }
    return e.scope != kNoIndex && is_skipped(e.scope);
  }

  bool within(ElementIndex e, ElementIndex scope) const {
    for (ElementIndex s = p_.elements[e].scope; s != kNoIndex; s = p_.elements[s].scope) {
      if (s == scope) return true;
    }
    return false;
  }

  // The places a token may stand in while inside `scope` (kNoIndex: the whole process but
  // its sink): what interrupting `scope` takes away.
  std::vector<PlaceIndex> inside(ElementIndex scope) const {
    std::vector<PlaceIndex> out;
    if (scope == kNoIndex) {
      for (PlaceIndex pl = 0; pl < places_.size(); ++pl) {
        if (pl != sink_) out.push_back(pl);
      }
      return out;
    }
    for (FlowIndex f = 0; f < p_.flows.size(); ++f) {
      const ElementIndex src = p_.flows[f].source;
      if (src != kNoIndex && within(src, scope)) out.push_back(f);
    }
    for (ElementIndex x = 0; x < p_.elements.size(); ++x) {
      if (x != scope && !within(x, scope)) continue;
      for (PlaceIndex pl : {entered_[x], completed_[x], instances_[x]}) {
        if (pl != kNoIndex) out.push_back(pl);
      }
      if (x != scope && running_[x] != kNoIndex) out.push_back(running_[x]);
    }
    for (const auto& [key, pl] : links_) {
      if (key.first == scope || (key.first != kNoIndex && within(key.first, scope))) {
        out.push_back(pl);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  PlaceIndex entry(ElementIndex scope) const {
    return scope == kNoIndex ? source_ : entered_[scope];
  }
  PlaceIndex exit(ElementIndex scope) const {
    return scope == kNoIndex ? sink_ : completed_[scope];
  }
  PlaceIndex link(ElementIndex scope, const std::string& name) {
    auto [it, added] = links_.try_emplace({scope, name}, 0);
    if (added) {
      it->second =
          add_place("link:" + (scope == kNoIndex ? "" : p_.elements[scope].id + "/") + name);
    }
    return it->second;
  }

  // The ways a token can arrive at `e`: one alternative per incoming flow (XOR-join).
  std::vector<std::vector<PlaceIndex>> inputs(ElementIndex i) {
    const Element& e = p_.elements[i];
    std::vector<std::vector<PlaceIndex>> alts;
    if (e.kind == ElementKind::kBoundaryEvent) return {{running_[e.attached_to]}};
    for (FlowIndex f : e.incoming) alts.push_back({f});
    if (e.kind == ElementKind::kIntermediateCatchEvent && e.event.type == EventType::kLink) {
      alts.push_back({link(e.scope, e.event.link_name)});
    }
    if (alts.empty()) alts.push_back({entry(e.scope)});
    return alts;
  }
  std::vector<PlaceIndex> outputs(ElementIndex i) {
    const Element& e = p_.elements[i];
    if (e.kind == ElementKind::kIntermediateThrowEvent && e.event.type == EventType::kLink) {
      return {link(e.scope, e.event.link_name)};
    }
    if (e.outgoing.empty()) return {exit(e.scope)};
    return {e.outgoing.begin(), e.outgoing.end()};
  }

  void add(ElementIndex e, bool visible, std::vector<PlaceIndex> in, std::vector<PlaceIndex> out,
           std::vector<PlaceIndex> cancel = {}) {
    if (visible) visible_[e].push_back(static_cast<TransitionIndex>(transitions_.size()));
    transitions_.push_back({std::move(in), std::move(out), std::move(cancel), e, visible});
  }

  // Non-empty subsets of `flows`, larger ones first (so replay prefers the join that takes
  // every token waiting); beyond kMaxSubsetFlows, each flow alone and all together.
  static std::vector<std::vector<PlaceIndex>> subsets(const std::vector<FlowIndex>& flows) {
    std::vector<std::vector<PlaceIndex>> out;
    if (flows.size() > kMaxSubsetFlows) {
      out.push_back({flows.begin(), flows.end()});
      for (FlowIndex f : flows) out.push_back({f});
      return out;
    }
    for (std::uint32_t mask = 1; mask < (1u << flows.size()); ++mask) {
      std::vector<PlaceIndex> s;
      for (std::size_t b = 0; b < flows.size(); ++b) {
        if (mask & (1u << b)) s.push_back(flows[b]);
      }
      out.push_back(std::move(s));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.size() > b.size(); });
    return out;
  }

  void add_transitions(ElementIndex i, bool observed) {
    const Element& e = p_.elements[i];
    switch (e.kind) {
      case ElementKind::kParallelGateway: {
        std::vector<PlaceIndex> in;
        for (const auto& alt : inputs(i)) in.insert(in.end(), alt.begin(), alt.end());
        add(i, false, std::move(in), outputs(i));
        return;
      }
      case ElementKind::kExclusiveGateway:
      case ElementKind::kEventBasedGateway:
        for (const auto& alt : inputs(i)) {
          for (PlaceIndex o : outputs(i)) add(i, false, alt, {o});
        }
        return;
      case ElementKind::kInclusiveGateway: {
        const auto ins = e.incoming.empty() ? inputs(i) : subsets(e.incoming);
        const auto outs = e.outgoing.empty() ? std::vector<std::vector<PlaceIndex>>{outputs(i)}
                                             : subsets(e.outgoing);
        for (const auto& in : ins) {
          for (const auto& out : outs) add(i, false, in, out);
        }
        return;
      }
      case ElementKind::kSubProcess: {
        std::vector<PlaceIndex> start{entered_[i]}, done{completed_[i]};
        if (running_[i] != kNoIndex) {
          start.push_back(running_[i]);
          done.push_back(running_[i]);
        }
        for (const auto& alt : inputs(i)) add(i, false, alt, start);
        // Parallel inner paths may each reach an end event: completing takes them all.
        add(i, false, done, outputs(i), {completed_[i]});
        return;
      }
      case ElementKind::kStartEvent:
      case ElementKind::kEndEvent:
      case ElementKind::kIntermediateCatchEvent:
      case ElementKind::kIntermediateThrowEvent:
      case ElementKind::kBoundaryEvent: {
        std::vector<PlaceIndex> out = outputs(i);
        std::vector<PlaceIndex> cancel;
        if (e.kind == ElementKind::kBoundaryEvent) {
          if (e.cancel_activity) {
            cancel = inside(e.attached_to);
          } else {
            out.push_back(running_[e.attached_to]);
          }
        } else if (e.kind == ElementKind::kEndEvent && e.event.type == EventType::kTerminate) {
          cancel = inside(e.scope);
          std::erase(cancel, exit(e.scope));
        }
        for (const auto& alt : inputs(i)) add(i, observed, alt, out, cancel);
        return;
      }
      case ElementKind::kEventSubProcess:
        return;
      default: {  // tasks and call activities
        const PlaceIndex run = running_[i];
        if (run == kNoIndex) {
          for (const auto& alt : inputs(i)) add(i, true, alt, outputs(i));
          return;
        }
        for (const auto& alt : inputs(i)) add(i, false, alt, {run});
        if (instances_[i] == kNoIndex) {
          add(i, true, {run}, outputs(i));
        } else {  // multi-instance: each instance is one event; the last one leaves
          add(i, true, {run}, {run, instances_[i]});
          add(i, false, {run, instances_[i]}, outputs(i), {instances_[i]});
        }
        return;
      }
    }
  }

  const ProcessDefinition& p_;
  std::vector<Place> places_;
  std::vector<Transition> transitions_;
  std::vector<TransitionIndex> silent_;
  std::vector<std::vector<TransitionIndex>> visible_;  // per element
  std::vector<bool> skipped_;
  std::vector<PlaceIndex> running_, instances_, entered_, completed_;  // per element
  std::map<std::pair<ElementIndex, std::string>, PlaceIndex> links_;
  PlaceIndex source_ = 0, sink_ = 0;
};

}  // namespace ordo::sim
