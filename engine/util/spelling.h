// "Did you mean ...?": the known name a misspelt one most likely meant.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ordo::util {

// Levenshtein distance (insertions, deletions and substitutions of bytes).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `name` when it is near enough to be a slip of the keyboard: at
// most a third of the longer name's length apart (at least 1, at most 3 edits). Ties go to
// the first candidate.
std::optional<std::string> closest_name(std::string_view name,
                                        const std::vector<std::string>& candidates);

}  // namespace ordo::util
