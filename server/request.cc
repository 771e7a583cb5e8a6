#include "request.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace ordo::server {

using nlohmann::json;

int http_status(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kInvalidDefinition:
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kConflict:
      return 409;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kBusy:
    case StatusCode::kIoError:  // the database is locked, gone away, or its disk full
      return 503;
    case StatusCode::kAdapterError:
      return 502;
    default:
      return 500;
  }
}

Response from_status(const Status& s) {
  return error_response(http_status(s.code()), s.message());
}

Response json_response(int status, const json& body) {
  return {status, body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json",
          0, {}};
}

Response error_response(int status, const std::string& message) {
  return json_response(status, {{"error", {{"status", status}, {"message", message}}}});
}

bool nested_deeper_than(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

bool parse_object(const Request& r, json& out, Response& error) {
  out = json::parse(r.body.empty() ? std::string("{}") : r.body, nullptr, false);
  if (out.is_discarded()) {
    error = error_response(400, "the body is not valid JSON");
    return false;
  }
  if (!out.is_object()) {
    error = error_response(400, "the body must be a JSON object");
    return false;
  }
  return true;
}

bool check_fields(const json& body,
                  std::initializer_list<std::pair<const char*, json::value_t>> known,
                  Response& error) {
  for (const auto& item : body.items()) {
    const std::string& key = item.key();
    const json& value = item.value();
    auto it =
        std::find_if(known.begin(), known.end(), [&](const auto& k) { return key == k.first; });
    if (it == known.end()) {
      std::string names;
      for (const auto& k : known) names += (names.empty() ? "" : ", ") + std::string(k.first);
      error = error_response(400, "unknown field '" + key + "' (known: " + names + ")");
      return false;
    }
    const json::value_t want = it->second;
    const bool ok = value.is_null() || value.type() == want ||
                    (want == json::value_t::number_integer && value.is_number_unsigned());
    if (!ok) {
      static const std::map<json::value_t, const char*> kNames = {
          {json::value_t::string, "a string"},
          {json::value_t::object, "an object"},
          {json::value_t::array, "a list"},
          {json::value_t::number_integer, "a whole number"},
          {json::value_t::boolean, "true or false"}};
      error = error_response(400, "field '" + key + "' must be " + kNames.at(want));
      return false;
    }
  }
  return true;
}

std::string text(const json& body, const char* key) {
  auto it = body.find(key);
  return it == body.end() || it->is_null() ? std::string() : it->get<std::string>();
}

json take_object(json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_object() ? std::move(*it) : json::object();
}

bool int_field(const json& body, const char* key, std::int64_t least, std::int64_t most,
               const std::string& what, std::int64_t& out, Response& error) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return true;
  // Unsigned first: 0 and up parse as unsigned, and a huge one must not wrap.
  const bool ok = it->is_number_unsigned()
                      ? it->get<std::uint64_t>() <= static_cast<std::uint64_t>(most) &&
                            static_cast<std::int64_t>(it->get<std::uint64_t>()) >= least
                      : it->is_number_integer() && it->get<std::int64_t>() >= least &&
                            it->get<std::int64_t>() <= most;
  if (!ok) {
    error = error_response(400, std::string("field '") + key + "' must be " + what);
    return false;
  }
  out = it->get<std::int64_t>();
  return true;
}

bool parse_id(std::string_view text, std::uint64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (at < path.size()) {
    if (path[at] == '/') {
      ++at;
      continue;
    }
    const std::size_t end = std::min(path.find('/', at), path.size());
    out.push_back(path.substr(at, end - at));
    at = end;
  }
  return out;
}

}  // namespace ordo::server
