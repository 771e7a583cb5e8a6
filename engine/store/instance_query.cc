#include "store/instance_query.h"

#include <algorithm>

namespace ordo::store {

namespace {

// A LIKE pattern that matches `text` itself (its % _ and \ escaped), with `before` and
// `after` around it.
std::string like_pattern(std::string_view text, std::string_view before, std::string_view after) {
  std::string pattern(before);
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += c;
  }
  pattern += after;
  return pattern;
}

const char* sql_op(VariableCondition::Op op) {
  switch (op) {
    case VariableCondition::Op::kEq: return "=";
    case VariableCondition::Op::kNe: return "<>";
    case VariableCondition::Op::kLt: return "<";
    case VariableCondition::Op::kLe: return "<=";
    case VariableCondition::Op::kGt: return ">";
    case VariableCondition::Op::kGe: return ">=";
  }
  return "=";
}

}  // namespace

InstanceSql instance_query_sql(const InstanceQuery& query, SqlDialect dialect, int recent) {
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
      add("business_key LIKE " + param(like_pattern(query.business_key, "", "%")));
    } else {
      // SQLite compares text byte by byte: every key that starts with the prefix lies
      // between it and the prefix followed by 0xFF, a byte no UTF-8 text holds.
      add("business_key >= " + param(query.business_key));
      add("business_key < " + param(query.business_key + "\xff"));
    }
  }
  if (!query.incident_message.empty()) {
    add(std::string("id IN (SELECT instance_id FROM incidents WHERE message ") +
        (pg ? "ILIKE " : "LIKE ") + param(like_pattern(query.incident_message, "%", "%")) +
        (pg ? ")" : " ESCAPE '\\')"));
  }
  if (query.variable) {
    // Compared with a value of its own JSON type only (SQLite: its json_type; PostgreSQL:
    // jsonb, whose order puts each type apart).
    const VariableCondition& v = *query.variable;
    const std::string value = v.value.dump();
    const bool number = v.value.is_number();
    const bool plain = number || v.value.is_string();
    // Text of printable ASCII without quotes or backslashes is written one way in JSON:
    // "like this". An instance whose variables do not hold those bytes cannot match, and
    // looking for them costs far less than reading the variables as JSON.
    if (v.op == VariableCondition::Op::kEq && v.value.is_string() &&
        std::all_of(value.begin() + 1, value.end() - 1,
                    [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; })) {
      add((pg ? "strpos(variables, " : "instr(variables, ") + param(value) + ") > 0");
    }
    if (pg) {
      const std::string name = param(v.name);
      const std::string got = "(variables::jsonb -> " + name + ")";
      // jsonb's = and <> are typed already (1 is not "1"). One condition, not two: the
      // planner multiplies their guessed selectivities, and a guess that small makes it
      // read every instance instead of walking the newest until the page is full.
      if (v.op == VariableCondition::Op::kNe) {
        add(got + " <> " + param(value, "::jsonb"));
      } else if (v.op == VariableCondition::Op::kEq) {
        add(got + " = " + param(value, "::jsonb"));
      } else if (v.value.is_string()) {
        // Text in byte order, as the other stores compare it (jsonb would use the
        // database's collation).
        add("jsonb_typeof" + got + " = 'string'");
        add("(variables::jsonb ->> " + name + ") COLLATE \"C\" " + sql_op(v.op) + " " +
            param(v.value.get<std::string>()) + " COLLATE \"C\"");
      } else {
        const std::string want = param(value, "::jsonb");
        add("jsonb_typeof" + got + " = jsonb_typeof(" + want + ")");
        add(got + " " + sql_op(v.op) + " " + want);
      }
    } else {
      std::string path = "$.\"";
      for (char c : v.name) {
        if (c == '"' || c == '\\') path += '\\';
        path += c;
      }
      path += '"';
      const std::string at = param(path);
      const std::string type = "json_type(variables, " + at + ")";
      const std::string wanted_type = number ? "IN ('integer', 'real')"
                                             : "= json_type(" + param(value) + ")";
      const std::string same = type + " " + wanted_type +
                               (plain ? " AND json_extract(variables, " + at + ") = json_extract(" +
                                            param(value) + ", '$')"
                                      : "");
      if (v.op == VariableCondition::Op::kEq) {
        add(same);
      } else if (v.op == VariableCondition::Op::kNe) {
        add(type + " IS NOT NULL AND NOT (" + same + ")");
      } else {
        add(type + " " + wanted_type);
        add("json_extract(variables, " + at + ") " + sql_op(v.op) + " json_extract(" +
            param(value) + ", '$')");
      }
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
  // The page's ids first, then their rows: the ids come from the index that serves the
  // filters (an instance's key, process and state indexes all end with its id), so a filter
  // that many instances match sorts ids read from that index, not whole rows. (A prefix
  // that 100,000 keys share reads 100,000 index entries, no instance row.)
  const std::string order = std::string(" ORDER BY id") + (query.newest_first ? " DESC" : "");
  std::string from = " FROM instances";
  std::string inner_order = order;
  if (recent > 0) {
    // Only the `recent` instances next in line (after `after`), with the columns the
    // conditions read.
    from = " FROM (SELECT id, process_id, version, business_key, state, end_event, started_at" +
           std::string(query.variable ? ", variables" : "") + " FROM instances";
    if (query.after > 0) {
      from += std::string(" WHERE id ") + (query.newest_first ? "< " : "> ") +
              param(std::to_string(query.after), "::bigint");
    }
    from += order + " LIMIT " + param(std::to_string(recent), "::int") + ") AS recent";
  } else if (pg && query.business_key_prefix && !query.business_key.empty()) {
    // The matches through the key index, sorted: PostgreSQL would rather walk the ids and
    // filter, which reads every instance newer than the newest match (order numbers grow
    // with time, so a prefix's matches are seldom among the newest).
    inner_order = std::string(" ORDER BY id + 0") + (query.newest_first ? " DESC" : "");
  }
  out.text =
      "SELECT id, process_id, version, business_key, state, parent_id, started_at, ended_at, "
      "end_event FROM instances WHERE id IN (SELECT id" + from +
      where + inner_order + " LIMIT " + param(std::to_string(query.limit), "::int") + ")" + order;
  return out;
}

bool variable_matches(const VariableCondition& v, const nlohmann::json& vars) {
  if (!vars.is_object()) return false;
  auto it = vars.find(v.name);
  if (it == vars.end()) return false;
  const nlohmann::json& got = *it;
  const bool numbers = got.is_number() && v.value.is_number();
  const bool same_type = numbers || got.type() == v.value.type();
  using Op = VariableCondition::Op;
  if (v.op == Op::kNe) return !(same_type && (numbers ? got.get<double>() == v.value.get<double>()
                                                      : got == v.value));
  if (!same_type) return false;
  if (v.op == Op::kEq) return numbers ? got.get<double>() == v.value.get<double>() : got == v.value;
  if (!numbers && !got.is_string()) return false;
  const int c = numbers ? (got.get<double>() < v.value.get<double>()   ? -1
                           : got.get<double>() > v.value.get<double>() ? 1
                                                                       : 0)
                        : got.get_ref<const std::string&>().compare(
                              v.value.get_ref<const std::string&>());
  switch (v.op) {
    case Op::kLt: return c < 0;
    case Op::kLe: return c <= 0;
    case Op::kGt: return c > 0;
    case Op::kGe: return c >= 0;
    default: return false;
  }
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
