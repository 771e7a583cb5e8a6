#include "http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

namespace ordo::adapters {

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

namespace {

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  const std::string line(data, size * count);
  const std::size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    const auto not_space = [](unsigned char c) { return !std::isspace(c); };
    value.erase(value.begin(), std::find_if(value.begin(), value.end(), not_space));
    value.erase(std::find_if(value.rbegin(), value.rend(), not_space).base(), value.end());
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * count;
}

struct CurlDeleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

}  // namespace

std::string redact_url(std::string_view url) {
  std::string out(url);
  // user:password@host
  if (const std::size_t scheme = out.find("://"); scheme != std::string::npos) {
    const std::size_t authority = scheme + 3;
    const std::size_t end = std::min(out.find_first_of("/?#", authority), out.size());
    const std::size_t at = out.substr(authority, end - authority).rfind('@');
    if (at != std::string::npos) out.replace(authority, at, "***");
  }
  // ?api_key=...&token=...;sig=...#access_token=...: every name=value after the path.
  const std::size_t params = out.find_first_of("?#");
  if (params == std::string::npos) return out;
  static constexpr std::string_view kSecret[] = {"key",  "token", "secret", "pass", "pwd", "auth",
                                                  "sig",  "credential", "session", "jwt",
                                                  "bearer", "hmac"};
  std::size_t at = params + 1;
  while (at <= out.size()) {
    std::size_t end = out.find_first_of("&;#", at);
    if (end == std::string::npos) end = out.size();
    const std::size_t eq = out.find('=', at);
    if (eq != std::string::npos && eq < end) {
      std::string name = out.substr(at, eq - at);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      const bool secret =
          std::any_of(std::begin(kSecret), std::end(kSecret),
                      [&](std::string_view word) { return name.find(word) != std::string::npos; });
      if (secret && end > eq + 1) {
        out.replace(eq + 1, end - eq - 1, "***");
        end = eq + 4;
      }
    }
    at = end + 1;
  }
  return out;
}

Result<HttpAnswer> http_exchange(const HttpRequest& request) {
  curl_init_once();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Status(StatusCode::kAdapterError, "cannot start an HTTP client (libcurl)");
  CURL* c = curl.get();
  HttpAnswer answer;
  curl_slist* raw_headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    raw_headers = curl_slist_append(raw_headers, (name + ": " + value).c_str());
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  // Only the web: a URL built from variables must not read files or reach other protocols.
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  // A POST, PUT or PATCH without a body still says so (Content-Length: 0); servers wait for
  // a body that is announced by neither length nor chunks.
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
      request.method == "PATCH") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout_ms));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_ms));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for timeouts
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &answer.headers);
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    std::string why = curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      why = "no answer within " + std::to_string(request.timeout_ms) + " ms";
    } else if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
      why = "only http:// and https:// URLs are fetched";
    }
    return Status(StatusCode::kAdapterError,
                  request.method + " " + redact_url(request.url) + " failed: " + why);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &answer.status);
  return answer;
}

std::int64_t retry_after_ms(const HttpAnswer& answer) {
  auto after = answer.headers.find("retry-after");
  if (after == answer.headers.end()) return 0;
  const std::string& v = after->second;
  if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::min<std::int64_t>(std::stoll(v), 3600) * 1000;
}

}  // namespace ordo::adapters
