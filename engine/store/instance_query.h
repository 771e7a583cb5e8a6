// The search of instances (Store::list_instances), written once for both SQL stores: only
// the filters given become conditions, so each can use its index (the instances' state,
// business key and process indexes) rather than a scan of every instance.
#pragma once

#include <string>
#include <vector>

#include "store/store.h"

namespace ordo::store {

enum class SqlDialect : bool { kSqlite, kPostgres };

struct InstanceSql {
  std::string text;                 // SELECT ... (instance_row_from's columns)
  std::vector<std::string> params;  // in order: ?1.. / $1..
  std::vector<bool> integers;       // which of them are numbers (SQLite binds them so)
};

// `recent` > 0: looks only at that many instances next in the order asked for (a first try
// for a business key prefix: when they hold a full page, it is the page).
InstanceSql instance_query_sql(const InstanceQuery& query, SqlDialect dialect, int recent = 0);

// How many instances a prefix search looks at first (instance_query_sql's `recent`): a
// prefix that many keys share fills its page there, whatever their order; otherwise the
// key index finds every match, however few.
inline constexpr int kRecentWindow = 2000;

// Whether `vars` (an instance's process-level variables) satisfy `v` (the memory store's
// search, by the SQL stores' rules).
bool variable_matches(const VariableCondition& v, const nlohmann::json& vars);

// Whether `row` matches `query` (the memory store's search, and the same rules).
bool instance_matches(const InstanceQuery& query, const InstanceRow& row);

}  // namespace ordo::store
