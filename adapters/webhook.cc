// Webhook signatures: HMAC-SHA256 of the body with a shared secret, as payment providers
// sign their callbacks (OpenSSL's HMAC; compared in constant time).
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <optional>
#include <vector>

#include "ordo/adapters/adapters.h"

namespace ordo {
namespace {

constexpr std::string_view kPrefix = "sha256=";

std::string hmac_sha256_hex(std::string_view body, std::string_view secret) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

}  // namespace

std::string webhook_signature(std::string_view body, std::string_view secret) {
  return std::string(kPrefix) + hmac_sha256_hex(body, secret);
}

bool verify_webhook_signature(std::string_view body, std::string_view secret,
                              std::string_view signature) {
  if (secret.empty()) return false;  // an unset secret must never accept anything
  if (signature.substr(0, kPrefix.size()) == kPrefix) signature.remove_prefix(kPrefix.size());
  std::string given(signature);
  for (char& c : given) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string expected = hmac_sha256_hex(body, secret);
  return given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

std::string timestamped_signature(std::string_view body, std::string_view secret,
                                  std::int64_t unix_seconds) {
  std::string payload = std::to_string(unix_seconds);
  payload += '.';
  payload += body;
  return "t=" + std::to_string(unix_seconds) + ",v1=" + hmac_sha256_hex(payload, secret);
}

Status verify_timestamped_signature(std::string_view body, std::string_view header,
                                    std::string_view secret, std::int64_t now_ms,
                                    std::int64_t tolerance_s) {
  const auto refuse = [](std::string why) {
    return Status(StatusCode::kUnauthenticated, std::move(why));
  };
  if (secret.empty()) return refuse("no signing secret is configured");
  if (header.empty()) return refuse("it carries no signature");
  std::optional<std::int64_t> t;
  std::vector<std::string_view> v1;
  while (!header.empty()) {
    const std::size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (key == "t") {
      std::int64_t n = 0;
      bool digits = !value.empty() && value.size() <= 12;
      for (std::size_t i = 0; digits && i < value.size(); ++i) {
        if (value[i] < '0' || value[i] > '9') digits = false;
        n = n * 10 + (value[i] - '0');
      }
      if (digits) t = n;
    } else if (key == "v1") {
      v1.push_back(value);
    }
  }
  if (!t || v1.empty()) {
    return refuse("the signature header is not t=<timestamp>,v1=<signature>");
  }
  const std::int64_t age_s = now_ms / 1000 - *t;
  if (age_s > tolerance_s || age_s < -tolerance_s) {
    return refuse("its timestamp is " + std::to_string(age_s) + " s from now, outside the " +
                  std::to_string(tolerance_s) +
                  " s tolerance (a replayed request, or a clock that is wrong)");
  }
  std::string payload = std::to_string(*t);
  payload += '.';
  payload += body;
  const std::string expected = hmac_sha256_hex(payload, secret);
  for (std::string_view given : v1) {
    if (given.size() == expected.size() &&
        CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0) {
      return Status::ok();
    }
  }
  return refuse("its signature does not verify");
}

Status verify_ordo_webhook_signature(std::string_view body, std::string_view signature,
                                     std::string_view secret, std::int64_t now_ms,
                                     std::int64_t tolerance_s) {
  if (signature.substr(0, 2) == "t=") {
    return verify_timestamped_signature(body, signature, secret, now_ms, tolerance_s);
  }
  if (secret.empty()) return Status(StatusCode::kUnauthenticated, "no shared secret is configured");
  if (signature.empty()) return Status(StatusCode::kUnauthenticated, "it carries no signature");
  if (!verify_webhook_signature(body, secret, signature)) {
    return Status(StatusCode::kUnauthenticated, "its signature does not verify");
  }
  return Status::ok();
}

}  // namespace ordo
