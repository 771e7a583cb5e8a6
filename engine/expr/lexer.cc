#include "expr/lexer.h"

#include "expr/functions.h"

namespace ordo::expr {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool name_char(char c) {
  return name_start(c) || is_digit(c);
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool hex4(std::string_view s, std::size_t at, std::uint32_t& out) {
  if (at + 4 > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + 4; ++i) {
    const char c = s[i];
    std::uint32_t d = 0;
    if (is_digit(c)) {
      d = static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<std::uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      d = static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      return false;
    }
    out = out * 16 + d;
  }
  return true;
}

}  // namespace

std::string quote(const Token& t) {
  if (t.kind == Tok::kEnd) return "the end of the expression";
  return "'" + std::string(t.text) + "'";
}

std::size_t Lexer::match_spelled(std::string_view spelled) const noexcept {
  std::size_t i = pos_;
  std::size_t k = 0;
  while (k < spelled.size()) {
    if (is_space(spelled[k])) {  // a run of white space matches any run of it
      while (k < spelled.size() && is_space(spelled[k])) ++k;
      const std::size_t before = i;
      while (i < text_.size() && is_space(text_[i])) ++i;
      if (i == before) return 0;
      continue;
    }
    if (i >= text_.size() || text_[i] != spelled[k]) return 0;
    ++i;
    ++k;
  }
  if (!spelled.empty() && name_char(spelled.back()) && i < text_.size() && name_char(text_[i])) {
    return 0;  // "Loan Amount" is not the start of "Loan Amounts"
  }
  return i;
}

bool Lexer::match_multiword_name() {
  // A known name of the scope, the longest that fits.
  std::size_t best = 0;
  std::string_view best_name;
  for (const std::string& k : known_) {
    const std::size_t end = match_spelled(k);
    if (end > best) {
      best = end;
      best_name = k;
    }
  }
  // The name token spelled `name`, ending at `end`.
  auto take = [&](std::size_t end, std::string_view name) {
    current_.kind = Tok::kName;
    current_.length = static_cast<std::uint32_t>(end - pos_);
    current_.text = name;
    pos_ = end;
    return true;
  };
  // Whether `c` is the next character after `end`, past white space.
  auto followed_by = [&](std::size_t end, char c) {
    while (end < text_.size() && is_space(text_[end])) ++end;
    return end < text_.size() && text_[end] == c;
  };
  if (best != 0) return take(best, best_name);
  // A built-in's parameter with spaces in its name, when ':' follows (a named argument).
  for (std::string_view param : {"start position", "grouping separator", "decimal separator"}) {
    const std::size_t end = match_spelled(param);
    if (end != 0 && followed_by(end, ':')) return take(end, param);
  }
  // A built-in function with spaces in its name, when a call follows.
  for (const BuiltinInfo& b : builtins()) {
    if (b.name.find(' ') == std::string_view::npos) continue;
    const std::size_t end = match_spelled(b.name);
    if (end != 0 && followed_by(end, '(')) return take(end, b.name);
  }
  return false;
}

void Lexer::advance() {
  current_ = Token{};
  for (;;) {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    // FEEL comments: // to the end of the line, /* ... */.
    if (feel_ && text_.substr(pos_, 2) == "//") {
      while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      continue;
    }
    if (feel_ && text_.substr(pos_, 2) == "/*") {
      std::size_t close = text_.find("*/", pos_ + 2);
      pos_ = close == std::string_view::npos ? text_.size() : close + 2;
      continue;
    }
    break;
  }
  current_.offset = static_cast<std::uint32_t>(pos_);
  if (pos_ >= text_.size()) {
    current_.kind = Tok::kEnd;
    return;
  }
  const std::size_t start = pos_;
  auto finish = [&](Tok kind, std::size_t length) {
    current_.kind = kind;
    current_.length = static_cast<std::uint32_t>(length);
    current_.text = text_.substr(start, length);
    pos_ = start + length;
  };
  const char c = text_[pos_];
  const char d = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';

  if (name_start(c)) {
    if (feel_ && match_multiword_name()) return;
    std::size_t i = pos_;
    while (i < text_.size() && name_char(text_[i])) ++i;
    finish(Tok::kName, i - start);
    return;
  }
  if (is_digit(c) || (c == '.' && is_digit(d))) {
    std::size_t i = pos_;
    while (i < text_.size() && is_digit(text_[i])) ++i;
    if (i + 1 < text_.size() && text_[i] == '.' && is_digit(text_[i + 1])) {
      ++i;
      while (i < text_.size() && is_digit(text_[i])) ++i;
    }
    if (i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
      std::size_t j = i + 1;
      if (j < text_.size() && (text_[j] == '+' || text_[j] == '-')) ++j;
      if (j < text_.size() && is_digit(text_[j])) {
        while (j < text_.size() && is_digit(text_[j])) ++j;
        i = j;
      }
    }
    if (i < text_.size() && name_char(text_[i])) {
      std::size_t j = i;
      while (j < text_.size() && name_char(text_[j])) ++j;
      finish(Tok::kInvalid, j - start);
      current_.message = "'" + std::string(current_.text) +
                         "' is not a number, and a name cannot start with a digit";
      return;
    }
    finish(Tok::kNumber, i - start);
    return;
  }
  if (feel_ && c == '`') {
    // A name in backticks may hold spaces and other characters (`order total`), as Camunda 8
    // writes names that are not FEEL names.
    const std::size_t close = text_.find('`', pos_ + 1);
    if (close == std::string_view::npos || close == pos_ + 1) {
      finish(Tok::kInvalid, (close == std::string_view::npos ? text_.size() : close + 1) - start);
      current_.message = close == std::string_view::npos
                             ? "the name in backticks opened at offset " + std::to_string(start) +
                                   " is never closed: add a closing `"
                             : std::string("a name in backticks cannot be empty");
      return;
    }
    current_.kind = Tok::kName;
    current_.length = static_cast<std::uint32_t>(close + 1 - start);
    current_.text = text_.substr(pos_ + 1, close - pos_ - 1);
    pos_ = close + 1;
    return;
  }
  if (c == '"' || c == '\'') {
    if (feel_ && c == '\'') {
      finish(Tok::kInvalid, 1);
      current_.message = "FEEL strings use double quotes: write \"text\", not 'text'";
      return;
    }
    std::size_t i = pos_ + 1;
    while (i < text_.size() && text_[i] != c) i += text_[i] == '\\' ? 2u : 1u;
    if (i >= text_.size()) {
      finish(Tok::kInvalid, text_.size() - start);
      current_.message = "the string opened at offset " + std::to_string(start) +
                         " is never closed: add a closing " + std::string(1, c);
      return;
    }
    finish(Tok::kString, i + 1 - start);
    return;
  }
  struct Pair {
    const char* text;
    Tok kind;
  };
  static constexpr Pair kTwo[] = {{"**", Tok::kStarStar}, {"..", Tok::kDotDot}, {"==", Tok::kEqEq},
                                  {"!=", Tok::kNe},       {"<=", Tok::kLe},     {">=", Tok::kGe},
                                  {"&&", Tok::kAndAnd},   {"||", Tok::kOrOr}};
  for (const Pair& p : kTwo) {
    if (c == p.text[0] && d == p.text[1]) {
      finish(p.kind, 2);
      return;
    }
  }
  Tok kind = Tok::kInvalid;
  switch (c) {
    case '(':
      kind = Tok::kLParen;
      break;
    case ')':
      kind = Tok::kRParen;
      break;
    case '[':
      kind = Tok::kLBracket;
      break;
    case ']':
      kind = Tok::kRBracket;
      break;
    case '{':
      kind = Tok::kLBrace;
      break;
    case '}':
      kind = Tok::kRBrace;
      break;
    case ',':
      kind = Tok::kComma;
      break;
    case '.':
      kind = Tok::kDot;
      break;
    case ':':
      kind = Tok::kColon;
      break;
    case '?':
      kind = Tok::kQuestion;
      break;
    case '@':
      if (feel_) kind = Tok::kAt;
      break;
    case '+':
      kind = Tok::kPlus;
      break;
    case '-':
      kind = Tok::kMinus;
      break;
    case '*':
      kind = Tok::kStar;
      break;
    case '/':
      kind = Tok::kSlash;
      break;
    case '%':
      kind = Tok::kPercent;
      break;
    case '=':
      kind = Tok::kEq;
      break;
    case '<':
      kind = Tok::kLt;
      break;
    case '>':
      kind = Tok::kGt;
      break;
    case '!':
      kind = Tok::kBang;
      break;
    default:
      break;
  }
  finish(kind, 1);
  if (kind == Tok::kInvalid) {
    current_.message = "unexpected character '" + std::string(1, c) + "'";
  }
}

bool decode_string(std::string_view token, bool feel, std::string& out, std::uint32_t& error_at,
                   std::string& message) {
  out.clear();
  const std::string_view s = token.substr(1, token.size() - 2);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    const char e = i + 1 < s.size() ? s[i + 1] : '\0';
    if (!feel) {  // EL escapes only quotes and the backslash; others stay as written
      if (e == '"' || e == '\'' || e == '\\') {
        out += e;
        ++i;
      } else {
        out += '\\';
      }
      continue;
    }
    ++i;
    switch (e) {
      case '"':
        out += '"';
        break;
      case '\'':
        out += '\'';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u': {
        std::uint32_t cp = 0;
        if (!hex4(s, i + 1, cp)) {
          error_at = static_cast<std::uint32_t>(i);  // at the backslash, counting the quote
          message = "'\\u' must be followed by four hex digits, e.g. \\u00e9";
          return false;
        }
        i += 4;
        std::uint32_t low = 0;
        if (cp >= 0xD800 && cp < 0xDC00 && s.substr(i + 1, 2) == "\\u" && hex4(s, i + 3, low) &&
            low >= 0xDC00 && low < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        }
        append_utf8(out, cp);
        break;
      }
      default:  // "\d" in a pattern for matches(): kept as written, as other engines do
        out += '\\';
        --i;
        break;
    }
  }
  return true;
}

}  // namespace ordo::expr
