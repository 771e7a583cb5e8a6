// The PostgreSQL store's schema: tables in a PostgreSQL schema of Ordo's own (default
// "ordo"), their version, and migrations.
//
// Opening checks, then migrates, in one transaction under an advisory lock, so nodes that
// start together migrate once and the others find it done. A schema holding tables that are
// not Ordo's, or written by a newer Ordo, is refused untouched.
#pragma once

#include <string>
#include <string_view>

#include "ordo/status.h"
#include "store/postgres/pq.h"

namespace ordo::store::pg {

inline constexpr int kSchemaVersion = 9;
// meta ('application'): marks the schema as Ordo's ("ORDO"), as SQLite's application_id.
inline constexpr std::int64_t kApplicationMark = 0x4F52444F;

// Whether `name` may be a schema name: letters a-z, digits and '_', not starting with a digit,
// at most 63 bytes. (It is written into SQL, where identifiers cannot be parameters.)
Status check_schema_name(std::string_view name);

// Brings the schema `schema` to kSchemaVersion (creating it when missing), or refuses it.
// Returns the version it found (0: new).
Result<int> migrate(Connection& c, const std::string& schema);

}  // namespace ordo::store::pg
