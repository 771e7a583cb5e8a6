#include "store/instance_query.h"

namespace ordo::store {

InstanceSql instance_query_sql(const InstanceQuery& query, SqlDialect dialect) {
  const bool pg = dialect == SqlDialect::kPostgres;
  InstanceSql out;
  std::string where;
  const auto param = [&](std::string value, const char* pg_cast = "") {
    out.params.push_back(std::move(value));
    out.integers.push_back(*pg_cast != '\0');
    return (pg ? "$" : "?") + std::to_string(out.params.size()) + (pg ? pg_cast : "");
  };
  const auto add = [&](const std::string& condition) {
    where += where.empty() ? " WHERE " : " AND ";
    where += condition;
  };
  if (query.state) add("state = " + param(std::string(to_string(*query.state))));
  if (!query.process_id.empty()) add("process_id = " + param(query.process_id));
  if (query.version > 0) add("version = " + param(std::to_string(query.version), "::int"));
  if (!query.business_key.empty()) {
    if (!query.business_key_prefix) {
      add("business_key = " + param(query.business_key));
    } else if (pg) {
      // LIKE with the prefix's own % _ and \ escaped; its index is text_pattern_ops.
      std::string pattern;
      for (char c : query.business_key) {
        if (c == '%' || c == '_' || c == '\\') pattern += '\\';
        pattern += c;
      }
      add("business_key LIKE " + param(pattern + "%"));
    } else {
      // SQLite compares text byte by byte: every key that starts with the prefix lies
      // between it and the prefix followed by 0xFF, a byte no UTF-8 text holds.
      add("business_key >= " + param(query.business_key));
      add("business_key < " + param(query.business_key + "\xff"));
    }
  }
  if (!query.end_event.empty()) add("end_event = " + param(query.end_event));
  if (query.started_from > 0) {
    add("started_at >= " + param(std::to_string(query.started_from), "::bigint"));
  }
  if (query.started_to > 0) {
    add("started_at < " + param(std::to_string(query.started_to), "::bigint"));
  }
  if (query.after > 0) {
    add(std::string("id ") + (query.newest_first ? "< " : "> ") +
        param(std::to_string(query.after), "::bigint"));
  }
  out.text =
      "SELECT id, process_id, version, business_key, state, parent_id, started_at, ended_at, "
      "end_event FROM instances" +
      where + " ORDER BY id" + (query.newest_first ? " DESC" : "") + " LIMIT " +
      param(std::to_string(query.limit), "::int");
  return out;
}

bool instance_matches(const InstanceQuery& query, const InstanceRow& row) {
  if (query.state && row.state != *query.state) return false;
  if (!query.process_id.empty() && row.process_id != query.process_id) return false;
  if (query.version > 0 && row.version != query.version) return false;
  if (!query.business_key.empty()) {
    if (query.business_key_prefix ? !row.business_key.starts_with(query.business_key)
                                  : row.business_key != query.business_key) {
      return false;
    }
  }
  if (!query.end_event.empty() && row.end_event != query.end_event) return false;
  if (query.started_from > 0 && row.started_ms < query.started_from) return false;
  if (query.started_to > 0 && row.started_ms >= query.started_to) return false;
  if (query.after > 0 && (query.newest_first ? row.id >= query.after : row.id <= query.after)) {
    return false;
  }
  return true;
}

}  // namespace ordo::store
