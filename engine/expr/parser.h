// What the FEEL and JUEL parsers share: the token stream, error reporting, the nesting guard
// and helpers that append nodes. Each parser is one .cc file.
#pragma once

#include <optional>
#include <string>

#include "expr/ast.h"
#include "expr/expr.h"
#include "expr/lexer.h"

namespace ordo::expr {

class ParserBase {
 public:
  std::optional<CompileError> error;

 protected:
  // `hint` adds a dialect's advice for an unexpected token (e.g. FEEL: "compare with '='").
  using Hint = std::string (*)(const Token&);
  ParserBase(CompiledExpression& out, bool feel, Hint hint, std::size_t start = 0,
             std::span<const std::string> known = {})
      : out_(out),
        b_(out),
        lex_(out.text, feel, start, known),
        feel_(feel),
        hint_(hint),
        known_(known) {}

  // Records the first error; returns kNoNode so callers can `return fail(...)`.
  NodeIndex fail(std::uint32_t offset, std::string message);
  // "expected <what> but found <token>" plus the dialect's hint, at the next token (or the
  // lexer's own message).
  NodeIndex fail_expected(std::string_view what);

  const Token& peek() const noexcept { return lex_.peek(); }
  bool at(Tok k) const noexcept { return lex_.peek().kind == k; }
  bool at_name(std::string_view word) const noexcept {
    return at(Tok::kName) && lex_.peek().text == word;
  }
  Token take() {
    Token t = lex_.next();
    last_end_ = t.offset + t.length;
    return t;
  }

  // Appends a node spanning from `start` to the end of the last token taken.
  NodeIndex make(Op op, std::uint32_t start, std::initializer_list<NodeIndex> children,
                 std::uint8_t flags = 0);
  NodeIndex make_with_args(Op op, std::uint32_t start, const std::vector<NodeIndex>& args,
                           std::uint8_t flags = 0);
  NodeIndex number_literal(const Token& t);
  NodeIndex string_literal(const Token& t);
  bool is_const(NodeIndex i) const { return out_.nodes[i].op == Op::kConst; }
  const nlohmann::json& const_value(NodeIndex i) const { return out_.constants[out_.nodes[i].a]; }

  // Bounds recursion: construct at the top of every recursive rule and check ok().
  class Nest {
   public:
    explicit Nest(ParserBase& p) : p_(p) { ++p_.depth_; }
    ~Nest() { --p_.depth_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;
    bool ok() const { return p_.depth_ <= kMaxNesting; }

   private:
    ParserBase& p_;
  };
  NodeIndex too_deep();

  // Continues lexing at byte `pos` (JUEL: the next "${" of a composite text).
  void restart(std::size_t pos) { lex_ = Lexer(out_.text, feel_, pos, known_); }

  // After the whole text: reports a tree too deep to evaluate safely.
  bool finish(NodeIndex root);

  CompiledExpression& out_;
  Builder b_;
  Lexer lex_;
  bool feel_;
  Hint hint_;
  std::span<const std::string> known_;
  int depth_ = 0;
  std::uint32_t last_end_ = 0;
};

// Parse out.text into out (nodes, root). Return the first error, if any.
std::optional<CompileError> parse_feel(CompiledExpression& out, const CompileOptions& options);
std::optional<CompileError> parse_juel(CompiledExpression& out);

}  // namespace ordo::expr
