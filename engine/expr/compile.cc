// compile(): picks the front end for the dialect; the parts of the parsers they share.
#include <charconv>
#include <cmath>

#include "expr/ast.h"
#include "expr/expr.h"
#include "expr/parser.h"

namespace ordo::expr {

NodeIndex ParserBase::fail(std::uint32_t offset, std::string message) {
  if (!error) error = CompileError{offset, std::move(message)};
  return kNoNode;
}

NodeIndex ParserBase::fail_expected(std::string_view what) {
  const Token& t = peek();
  if (t.kind == Tok::kInvalid) return fail(t.offset, t.message);
  return fail(t.offset, "expected " + std::string(what) + " but found " + quote(t) + hint_(t));
}

NodeIndex ParserBase::too_deep() {
  return fail(peek().offset, "the expression is nested too deeply (more than " +
                                 std::to_string(kMaxNesting) + " levels); split it up");
}

NodeIndex ParserBase::make(Op op, std::uint32_t start, std::initializer_list<NodeIndex> children,
                           std::uint8_t flags) {
  Node n;
  n.op = op;
  n.flags = flags;
  auto it = children.begin();
  if (it != children.end()) n.a = *it++;
  if (it != children.end()) n.b = *it++;
  if (it != children.end()) n.c = *it++;
  n.offset = start;
  n.length = last_end_ > start ? last_end_ - start : 0;
  return b_.add(n, children);
}

NodeIndex ParserBase::make_with_args(Op op, std::uint32_t start, const std::vector<NodeIndex>& args,
                                     std::uint8_t flags) {
  Node n;
  n.op = op;
  n.flags = flags;
  n.offset = start;
  n.length = last_end_ > start ? last_end_ - start : 0;
  return b_.add_with_args(n, args);
}

NodeIndex ParserBase::number_literal(const Token& t) {
  std::string_view s = t.text;
  const char* end = s.data() + s.size();
  if (s.find_first_of(".eE") == std::string_view::npos) {
    std::int64_t i = 0;
    auto [p, ec] = std::from_chars(s.data(), end, i);
    if (ec == std::errc() && p == end) return b_.constant(i, t.offset, t.length);
  }
  const std::optional<Decimal> exact = Decimal::parse(s);
  if (!exact) return fail(t.offset, "the number " + std::string(s) + " is too large");
  double d = 0;
  auto [p, ec] = std::from_chars(s.data(), end, d);
  if (ec == std::errc() && p == end && std::isfinite(d) && Decimal::from_double(d) == *exact) {
    return b_.constant(d, t.offset, t.length);
  }
  // More digits than a double holds: the decimal, typed (Value::borrow reads it back).
  return b_.constant(Value::decimal(*exact).to_typed_json(), t.offset, t.length);
}

NodeIndex ParserBase::string_literal(const Token& t) {
  std::string value, message;
  std::uint32_t at = 0;
  if (!decode_string(t.text, feel_, value, at, message)) return fail(t.offset + at, message);
  return b_.constant(std::move(value), t.offset, t.length);
}

bool ParserBase::finish(NodeIndex root) {
  if (error) return false;
  if (b_.depth_exceeded()) {
    fail(0, "the expression is too long to evaluate safely (a chain deeper than " +
                std::to_string(kMaxTreeDepth) + " operations); split it up");
    return false;
  }
  out_.root = root;
  return true;
}

const nlohmann::json* JsonVariables::find(std::string_view name) const {
  if (!object_.is_object()) return nullptr;
  auto it = object_.find(name);
  return it == object_.end() ? nullptr : &*it;
}

std::variant<std::shared_ptr<const CompiledExpression>, CompileError> compile(
    ExpressionDialect dialect, std::string_view text, const CompileOptions& options) {
  auto out = std::make_shared<CompiledExpression>();
  try {
    out->text = std::string(text);
    std::optional<CompileError> error;
    switch (dialect) {
      case ExpressionDialect::kStatic: {
        Builder b(*out);
        out->root = b.constant(out->text, 0, static_cast<std::uint32_t>(text.size()));
        break;
      }
      case ExpressionDialect::kFeel:
        error = parse_feel(*out, options);
        break;
      case ExpressionDialect::kJuel:
        error = parse_juel(*out);
        break;
    }
    if (error) return *std::move(error);
  } catch (const std::exception& e) {  // allocation failure; nlohmann on odd input
    return CompileError{0, std::string("cannot compile the expression: ") + e.what()};
  }
  return std::shared_ptr<const CompiledExpression>(std::move(out));
}

std::string_view source_text(const CompiledExpression& e) noexcept {
  return e.text;
}

}  // namespace ordo::expr
