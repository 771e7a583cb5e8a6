// How the database stores (sqlite::SqliteStore, pg::PgStore) encode and decode their rows:
// the same tables and the same JSON in both. Nothing here knows either database: values
// come as text and numbers, rows through Columns, and a message names the database by the
// `where` its store gives.
//
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

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ordo/definition.h"
#include "ordo/history.h"
#include "ordo/status.h"
#include "state/records.h"
#include "store/row_cache.h"
#include "store/store.h"

// The columns job_from() reads, in its order (a macro: statements are written as one literal).
#define ORDO_JOB_COLUMNS                                                          \
  "key, instance_id, element_key, element_index, type, state, retries, attempt, " \
  "idempotency_key, last_error, lock_owner, lock_expires_at"
// The columns instance_from() reads, in its order.
#define ORDO_INSTANCE_COLUMNS                                                              \
  "rev, process_id, version, business_key, state, parent_id, parent_element, started_at, " \
  "ended_at, variables, runtime"

namespace ordo::store {

// The value of E (0 to Last) whose to_string() is `text`.
template <class E, E Last>
std::optional<E> enum_from(std::string_view text) {
  for (int i = 0; i <= static_cast<int>(Last); ++i) {
    if (to_string(static_cast<E>(i)) == text) return static_cast<E>(i);
  }
  return std::nullopt;
}

// A JSON value as stored: invalid UTF-8 in a string (from a handler, say) is stored as
// U+FFFD, not thrown.
std::string encode_json(const nlohmann::json& value);
// Stored JSON text; a discarded value when it is not JSON.
nlohmann::json parse_json(std::string_view text);

// ---- instances ----
std::string encode_runtime(const state::Instance& inst);
// Fills the runtime part of `inst`; a damaged value is kCorruption naming the instance.
Status decode_runtime(std::string_view text, state::Instance& inst);

// ---- history ----
// A run of history events as stored in one history row (schema.cc): a JSON array of
// [time, kind, element id or null, key, value, detail or null].
std::string encode_history(const HistoryEvent* begin, const HistoryEvent* end);
// Numbers `events` from `first` on and hands `insert` one history row per run of events of
// one instance: its first sequence number, the instance, the events (encode_history()).
using InsertHistory =
    std::function<Status(std::uint64_t sequence, InstanceId instance, const std::string& events)>;
Status write_history(std::vector<HistoryEvent>& events, std::uint64_t first,
                     const InsertHistory& insert);
// Appends the events of one history row of instance `id` (running `def`), whose first is
// numbered `first`, to `out`: what the row names is looked up in `def`, and entries that are
// not events are passed over. A row that is not a JSON array is kCorruption.
Status decode_history(std::string_view events, std::uint64_t first, InstanceId id,
                      const ProcessDefinition& def, std::string_view where,
                      std::vector<HistoryEvent>& out);
// The history rows of one instance, (first sequence, events) in order, decoded as above:
// the rows before a migration name the elements of the version it migrated from, which
// `version_def` finds (null: not known; the rows are read with the newer version then).
using VersionDefinition = std::function<const ProcessDefinition*(int version)>;
// The definitions of the versions of `process_id`, found through `attach` (which keeps the
// plans it hands out alive).
VersionDefinition version_definitions(const Attach& attach, std::string process_id);
Status decode_history_rows(const std::vector<std::pair<std::uint64_t, std::string>>& rows,
                           InstanceId id, const ProcessDefinition& current,
                           const VersionDefinition& version_def, std::string_view where,
                           std::vector<HistoryEvent>& out);

// ---- rows ----
// One row of a statement's result, read by column (from 0).
class Columns {
 public:
  virtual ~Columns() = default;
  // 0 when null.
  virtual std::int64_t integer(int column) const = 0;
  // "" when null.
  virtual std::string text(int column) const = 0;
  virtual bool is_null(int column) const = 0;
};

// A job from ORDO_JOB_COLUMNS.
state::JobRecord job_from(const Columns& row);
// What an instance loader (RowCache::LoadInstance) found in the row of instance `id`
// (ORDO_INSTANCE_COLUMNS): kUnchanged when its revision is `known_rev`, else kLoaded, read
// into `out`. A damaged row is kCorruption.
Result<RowCache::Loaded> instance_from(const Columns& row, InstanceId id, std::uint64_t known_rev,
                                       std::string_view where, state::Instance& out);
// From: id, instance_id, wait_id, due_at, repetitions_left, interval_ms, process_id,
// version, start_event.
TimerRow timer_from(const Columns& row);
// From: id, variables, expires_at (a message `name` with correlation key `key`).
state::BufferedMessage buffered_from(const Columns& row, std::string_view name,
                                     std::string_view key);
// From: process_id, version, content_hash, file, xml, load_flags, deployed_at.
DeploymentRow deployment_from(const Columns& row);
// From: id, process_id, version, business_key, state, parent_id, started_at, ended_at,
// end_event.
InstanceRow instance_row_from(const Columns& row);
// From: process_id, state, end event or '', count.
InstanceCountRow count_row_from(const Columns& row);
// From: key, instance_id, element_id, job_key, type, message, created_at. An unknown kind
// is kCorruption.
Result<IncidentRow> incident_row_from(const Columns& row, std::string_view where);

}  // namespace ordo::store
