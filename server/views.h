// The JSON views of engine state that the HTTP API and `ordo ... --json` share, so a client
// reads the same shape from both.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "ordo/engine.h"

namespace ordo::server {

// An ISO 8601 UTC time, or null for 0 ("not yet").
nlohmann::json when_view(std::int64_t ms);
// key, type, processInstanceId, elementId, state, retries, attempt, lastError, lockOwner,
// lockExpiresAt (null when not locked, or locked for as long as its instance is suspended)
nlohmann::json job_view(const JobInfo& job);
// key, instance, elementId, job (or null), type, message, createdAt
nlohmann::json incident_view(const IncidentInfo& incident);
// sequence, time, kind, elementId (or null), key, value, detail
nlohmann::json event_view(const HistoryEvent& event);

}  // namespace ordo::server
