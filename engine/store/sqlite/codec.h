// The stored form of an instance's runtime state (instances.runtime): element instances with
// their tokens and local variables, waits, open incidents. JSON, compact but readable with
// SQLite's json functions:
//
//   {"k": next element key, "t": process-level tokens, "x": end event index reached,
//    "e": [[key, parent, element index, state, role, has incident, tokens, loop index,
//           loop total, loop done, job, child, arrivals|null, vars|null, items|null], ...],
//    "w": [[id, owner, event index, timer 0/1, due ms, subscription key], ...],
//    "i": [[key, element key, element index, job, retry, type, message, created ms], ...]}
#pragma once

#include <string>
#include <string_view>

#include "ordo/status.h"
#include "state/records.h"

namespace ordo::store::sqlite {

std::string encode_runtime(const state::Instance& inst);
// A run of history events as stored in one history row (schema.cc): a JSON array of
// [time, kind, element id or null, key, value, detail or null].
std::string encode_history(const HistoryEvent* begin, const HistoryEvent* end);
// Fills the runtime part of `inst`; a damaged value is kCorruption naming the instance.
Status decode_runtime(std::string_view text, state::Instance& inst);

}  // namespace ordo::store::sqlite
