// Splits FEEL or JUEL text into tokens, on demand. Keywords are names; the parsers decide.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ordo::expr {

enum class Tok : std::uint8_t {
  kEnd,
  kInvalid,  // `Token::message` says what is wrong
  kNumber,
  kString,  // text includes the quotes; decode with decode_string()
  kName,    // FEEL: a built-in name with spaces ("string length") is one token
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
  kComma,
  kDot,
  kDotDot,
  kColon,
  kQuestion,
  kPlus,
  kMinus,
  kStar,
  kStarStar,
  kSlash,
  kPercent,
  kEq,    // =
  kEqEq,  // ==
  kNe,    // !=
  kLt,
  kLe,
  kGt,
  kGe,
  kBang,
  kAt,  // FEEL: @"..." (a date, time or duration literal)
  kAndAnd,
  kOrOr,
};

struct Token {
  Tok kind = Tok::kEnd;
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
  std::string_view text;  // the source text; for a multi-word name its canonical spelling
  std::string message;    // kInvalid: what is wrong
};

// How a token looks in a message: "'then'", "'('", "end of text".
std::string quote(const Token& t);

class Lexer {
 public:
  // `known`: names of the scope that hold spaces or operator characters (CompileOptions::
  // known_names); they must outlive the lexer and the tokens it gives.
  Lexer(std::string_view text, bool feel, std::size_t start = 0,
        std::span<const std::string> known = {})
      : text_(text), feel_(feel), known_(known) {
    pos_ = start;
    advance();
  }

  const Token& peek() const noexcept { return current_; }
  Token next() {
    Token t = std::move(current_);
    advance();
    return t;
  }
  // Where the next token starts scanning (after the current one).
  std::size_t position() const noexcept { return pos_; }

 private:
  void advance();
  bool match_multiword_name();
  // Where `spelled` ends when the text at pos_ spells it (white space runs alike), else 0.
  std::size_t match_spelled(std::string_view spelled) const noexcept;

  std::string_view text_;
  bool feel_;
  std::span<const std::string> known_;
  std::size_t pos_ = 0;
  Token current_;
};

// Decodes a string token (with its quotes). FEEL: \" \\ \n \t \r \' \/ \b \f \uXXXX; JUEL (EL):
// only \" \' \\, other backslashes stay. Returns false and sets `error_at` (offset within the
// token) and `message` for a bad escape.
bool decode_string(std::string_view token, bool feel, std::string& out, std::uint32_t& error_at,
                   std::string& message);

}  // namespace ordo::expr
