// One HTTP exchange through libcurl: no retries, no interpretation of the status.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ordo/status.h"

namespace ordo::adapters {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent when not empty
  std::int64_t connect_timeout_ms = 2000;
  std::int64_t timeout_ms = 10000;
};

struct HttpAnswer {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
};

// libcurl's global initialisation, once per process (every libcurl user calls it first).
void curl_init_once();

// The URL as errors, logs and job answers may show it: credentials before '@' and the values
// of query parameters whose names look secret (api_key, token, signature, password, ...) are
// replaced by "***".
std::string redact_url(std::string_view url);

// Errors (kAdapterError): the connection failed or timed out, or the URL is malformed or not
// http(s) (nothing else is fetched: no file://); the message names the URL (redacted) and
// says which.
Result<HttpAnswer> http_exchange(const HttpRequest& request);

// An answer's Retry-After in milliseconds when it gives whole seconds (capped at an hour);
// 0 without one.
std::int64_t retry_after_ms(const HttpAnswer& answer);

}  // namespace ordo::adapters
