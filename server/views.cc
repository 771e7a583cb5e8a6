#include "views.h"

#include "time/iso8601.h"

namespace ordo::server {

using nlohmann::json;

json job_view(const JobInfo& j) {
  return {{"key", j.key},
          {"type", j.type},
          {"processInstanceId", j.instance},
          {"elementId", j.element_id},
          {"state", to_string(j.state)},
          {"retries", j.retries},
          {"attempt", j.attempt},
          {"lastError", j.last_error.empty() ? json() : json(j.last_error)},
          {"lockOwner", j.lock_owner.empty() ? json() : json(j.lock_owner)},
          {"lockExpiresAt", j.lock_owner.empty() || j.lock_expires_ms >= time::kLatestMs
                                ? json()
                                : when_view(j.lock_expires_ms)}};
}

json when_view(std::int64_t ms) {
  return ms == 0 ? json() : json(time::format_date_time(ms));
}

json incident_view(const IncidentInfo& i) {
  return {{"key", i.key},
          {"instance", i.instance},
          {"elementId", i.element_id},
          {"job", i.job == 0 ? json() : json(i.job)},
          {"type", to_string(i.kind)},
          {"message", i.message},
          {"createdAt", when_view(i.created_ms)},
          {"processId", i.process_id},
          {"version", i.version},
          {"businessKey", i.business_key.empty() ? json() : json(i.business_key)}};
}

json event_view(const HistoryEvent& e) {
  return {{"sequence", e.sequence},
          {"time", time::format_date_time(e.time_ms)},
          {"kind", to_string(e.kind)},
          {"elementId", e.element_id.empty() ? json() : json(e.element_id)},
          {"key", e.key},
          {"value", e.value},
          {"detail", e.detail}};
}

}  // namespace ordo::server
