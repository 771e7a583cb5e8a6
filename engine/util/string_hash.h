// Hashing for string-keyed unordered maps that are looked up by std::string_view, without
// making a std::string of each key (C++20 heterogeneous lookup):
//   std::unordered_map<std::string, T, StringHash, std::equal_to<>>
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace ordo::util {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

}  // namespace ordo::util
