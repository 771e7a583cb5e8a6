// Copying a whole Ordo database to another, SQLite to PostgreSQL or back: `ordo db copy`.
//
// Everything the engine and the notifications keep moves: deployments, instances (waiting
// mid-process as they are), jobs with their locks, timers, subscriptions, buffered messages,
// published message ids, incidents, history, the delivery log, and the counters that number
// new keys. The source is read in one snapshot; the target is written in one transaction,
// read back, and committed only when each table's row count and checksum equal the source's
// — so a failed copy leaves the target as it was. Only an empty target is accepted: nothing
// is ever merged into or written over another database's state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ordo/status.h"

namespace ordo::store {

struct CopyReport {
  struct Table {
    std::string name;
    std::int64_t rows = 0;
    std::uint64_t checksum = 0;  // of its rows, whatever their order
  };
  std::vector<Table> tables;
  std::uint64_t checksum = 0;  // of every table's
};

// `from` and `to`: SQLite files or postgresql:// URLs (`schema=` naming the schema). `to` is
// created when missing (a file) or migrated (a schema), then must hold no rows.
Result<CopyReport> copy_database(const std::string& from, const std::string& to);

}  // namespace ordo::store
