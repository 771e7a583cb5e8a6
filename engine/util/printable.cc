#include "util/printable.h"

#include <cstddef>
#include <cstdint>

namespace ordo::util {
namespace {

// The length of the valid UTF-8 sequence at `s[i]` (a lead byte >= 0x80), or 0.
std::size_t utf8_length(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1Fu;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0Fu;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3Fu);
  }
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void hex(std::string& out, const char* prefix, unsigned value, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  out += prefix;
  for (int d = digits - 1; d >= 0; --d) out += kDigits[(value >> (4 * d)) & 0xFu];
}

// Appends the escape for the character at `s[i]` (or the character itself) to `out`, if
// `out` is given; returns how many bytes it took and whether it needed escaping.
std::size_t one(std::string_view s, std::size_t i, std::string* out, bool& escaped) {
  const auto c = static_cast<unsigned char>(s[i]);
  escaped = true;
  if (c < 0x20 || c == 0x7f) {
    if (out != nullptr) {
      if (c == '\n') {
        *out += "\\n";
      } else if (c == '\r') {
        *out += "\\r";
      } else if (c == '\t') {
        *out += "\\t";
      } else {
        hex(*out, "\\x", c, 2);
      }
    }
    return 1;
  }
  if (c < 0x80) {
    escaped = false;
    if (out != nullptr) *out += static_cast<char>(c);
    return 1;
  }
  std::uint32_t cp = 0;
  const std::size_t len = utf8_length(s, i, cp);
  if (len == 0) {
    if (out != nullptr) hex(*out, "\\x", c, 2);
    return 1;
  }
  if (cp >= 0x80 && cp <= 0x9F) {
    if (out != nullptr) hex(*out, "\\u", cp, 4);
    return len;
  }
  escaped = false;
  if (out != nullptr) out->append(s.substr(i, len));
  return len;
}

}  // namespace

std::string escape_control(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool escaped = false;
  for (std::size_t i = 0; i < text.size();) i += one(text, i, &out, escaped);
  return out;
}

bool needs_escaping(std::string_view text) {
  bool escaped = false;
  for (std::size_t i = 0; i < text.size();) {
    i += one(text, i, nullptr, escaped);
    if (escaped) return true;
  }
  return false;
}

}  // namespace ordo::util
