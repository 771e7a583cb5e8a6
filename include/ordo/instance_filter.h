// Which instances Engine::instances() lists (and the stores search: one description for
// both).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "ordo/history.h"    // InstanceId
#include "ordo/lifecycle.h"  // InstanceState

namespace ordo {

// A condition on a process-level variable: `total > 100`, `status = "paid"`. Values compare
// by their JSON type: a number with numbers, text with text (byte order); true, false and
// null only with = and !=. An instance without the variable matches no condition.
struct VariableCondition {
  enum class Op : std::uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };
  std::string name;
  Op op = Op::kEq;
  nlohmann::json value;
};

struct InstanceFilter {
  std::string process_id;              // empty: any
  std::optional<InstanceState> state;  // empty: any
  int limit = 1000;
  std::string business_key;  // empty: any (an order's instances, also long-running ones)
  bool business_key_prefix = false;  // business_key: the start of the keys wanted
  int version = 0;                   // 0: any
  std::string end_event;             // empty: any
  std::int64_t started_from = 0;     // started at or after, ms since 1970 (0: any)
  std::int64_t started_to = 0;       // started before (0: any)
  // Keyset paging: the instances past this id in the order asked for (the last id of the
  // previous page); stays fast however many instances there are.
  InstanceId after = 0;
  bool newest_first = false;  // by id, descending; otherwise ascending
  std::optional<VariableCondition> variable;  // empty: any
  // Instances with an open incident whose message contains this text (ASCII letters in
  // any case); empty: any.
  std::string incident_message;
};

}  // namespace ordo
