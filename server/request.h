// Reading requests and writing responses: the JSON conventions every route of the API
// shares (errors as {"error": {...}}, 400s naming the field).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api.h"
#include "ordo/engine.h"
#include "ordo/status.h"

namespace ordo::server {

// The HTTP status for an engine status: 404 not found, 409 conflict, 400 invalid, ...
int http_status(StatusCode code);
Response from_status(const Status& s);
Response json_response(int status, const nlohmann::json& body);

// A message publication's answer: {"instances", "buffered", "duplicate"}, or the error.
Response published_response(const Result<MessageResult>& published);

// Whether `text` nests arrays and objects deeper than `limit` (outside strings): such a body
// is refused before it is parsed, so no recursion runs away on it.
bool nested_deeper_than(std::string_view text, int limit);

// The body as a JSON object, or a 400 saying what is wrong with it.
bool parse_object(const Request& r, nlohmann::json& out, Response& error);

// Every field of `body` must be one of `known`; each present one of its type (null counts as
// absent).
bool check_fields(const nlohmann::json& body,
                  std::initializer_list<std::pair<const char*, nlohmann::json::value_t>> known,
                  Response& error);

// A string field, or empty when absent or null (check_fields has checked its type).
std::string text(const nlohmann::json& body, const char* key);

// The object field `key` moved out of `body` (check_fields has checked its type), or an empty
// object when it is absent or null.
nlohmann::json take_object(nlohmann::json& body, const char* key);

// A whole-number field from `least` to `most` (`out` untouched when absent or null), or a 400
// saying `what` it must be.
bool int_field(const nlohmann::json& body, const char* key, std::int64_t least, std::int64_t most,
               const std::string& what, std::int64_t& out, Response& error);

// The parts of a path between slashes ("/v1/jobs/" -> v1, jobs), viewing `path`.
std::vector<std::string_view> segments(std::string_view path);

// A whole number in decimal, nothing else.
bool parse_id(std::string_view text, std::uint64_t& out);

}  // namespace ordo::server
