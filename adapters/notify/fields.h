// Reading order data as the notifications need it: a field that may be missing or null, and
// its text as given (strings stay strings; a number is written as JSON writes it).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ordo::notify {

inline const nlohmann::json* field(const nlohmann::json& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

inline std::string text_of(const nlohmann::json* v) {
  if (v == nullptr || v->is_null()) return {};
  return v->is_string() ? v->get<std::string>() : v->dump();
}

}  // namespace ordo::notify
