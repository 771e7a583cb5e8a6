// Webhook signatures: HMAC-SHA256 of the body with a shared secret, as payment providers
// sign their callbacks (OpenSSL's HMAC; compared in constant time).
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>

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

}  // namespace ordo
