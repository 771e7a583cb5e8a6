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

// Whether the customer opted out of `what` (a channel, or "tracking"): optOut: ["sms"],
// {"sms": true}, "sms", or true / "all".
inline bool opted_out(const nlohmann::json& customer, std::string_view channel) {
  const nlohmann::json* out = field(customer, "optOut");
  if (out == nullptr) return false;
  if (out->is_boolean()) return out->get<bool>();
  if (out->is_string()) return *out == "all" || *out == channel;
  if (out->is_array()) {
    for (const nlohmann::json& c : *out) {
      if (c.is_string() && (c == channel || c == "all")) return true;
    }
  }
  if (out->is_object()) {
    const nlohmann::json* c = field(*out, channel);
    return c != nullptr && c->is_boolean() && c->get<bool>();
  }
  return false;
}

}  // namespace ordo::notify
