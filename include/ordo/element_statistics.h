// What happened at each element of a process version, over every instance the store holds:
// the console's badges and heatmap (Engine::element_statistics()). Counted from the history
// as commands write it, in the same transaction, so reading them costs a few rows however
// many instances there are.
#pragma once

#include <cstdint>
#include <string>

namespace ordo {

struct ElementStatistics {
  std::string element_id;
  std::int64_t active = 0;      // element instances there now: the tokens waiting there
  std::int64_t incidents = 0;   // open incidents there
  std::int64_t completed = 0;   // how many times it completed: the instances that passed
  std::int64_t terminated = 0;  // ended there without completing (cancelled, interrupted)
  // Time spent there by the completions whose start is known (every element instance
  // started since the database got element statistics): the average is time_ms / timed.
  std::int64_t time_ms = 0;
  std::int64_t timed = 0;
};

}  // namespace ordo
