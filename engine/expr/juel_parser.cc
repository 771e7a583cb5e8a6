// The JUEL (Unified EL) front end, as Camunda 7 uses it: "${...}" or "#{...}", or text with
// such expressions inside ("Order ${orderId}"), which joins the parts as a string.
// Precedence, loosest first: ?:, || or, && and, == != eq ne, < > <= >= lt gt le ge, + -,
// * / div % mod, unary - ! not empty, postfix (.name, [index]), primary.
#include "expr/parser.h"

namespace ordo::expr {
namespace {

bool is_reserved(std::string_view s) {
  for (std::string_view k : {"and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "true",
                             "false", "null", "empty", "div", "mod", "instanceof"}) {
    if (s == k) return true;
  }
  return false;
}

class JuelParser : public ParserBase {
 public:
  explicit JuelParser(CompiledExpression& out) : ParserBase(out, false, &JuelParser::hint) {}

  void run() {
    const std::string& s = out_.text;
    std::vector<NodeIndex> parts;
    bool has_expression = false;
    std::string literal;
    std::uint32_t literal_start = 0;
    auto flush = [&](std::size_t end) {
      if (literal.empty()) return;
      parts.push_back(
          b_.constant(literal, literal_start, static_cast<std::uint32_t>(end) - literal_start));
      literal.clear();
    };
    std::size_t i = 0;
    while (i < s.size()) {
      const bool opens = (s[i] == '$' || s[i] == '#') && i + 1 < s.size() && s[i + 1] == '{';
      if (opens) {
        flush(i);
        restart(i + 2);
        if (at(Tok::kRBrace)) {
          fail(static_cast<std::uint32_t>(i), "'" + s.substr(i, 3) +
                                                  "' is empty: write an expression between the "
                                                  "braces, e.g. ${approved}");
          return;
        }
        NodeIndex e = expression();
        if (error) return;
        if (!at(Tok::kRBrace)) {
          fail_expected("'}' to close '" + s.substr(i, 2) + "' opened at offset " +
                      std::to_string(i));
          return;
        }
        i = take().offset + 1u;
        parts.push_back(e);
        has_expression = true;
        continue;
      }
      if (literal.empty()) literal_start = static_cast<std::uint32_t>(i);
      if (s[i] == '\\' && i + 2 < s.size() && (s[i + 1] == '$' || s[i + 1] == '#') &&
          s[i + 2] == '{') {
        literal += s.substr(i + 1, 2);  // "\${" is a literal "${"
        i += 3;
        continue;
      }
      literal += s[i++];
    }
    flush(s.size());
    NodeIndex root;
    if (parts.empty()) {
      root = b_.constant("", 0, 0);
    } else if (parts.size() == 1 && (has_expression || is_const(parts[0]))) {
      root = parts[0];
    } else {
      last_end_ = static_cast<std::uint32_t>(s.size());
      root = make_with_args(Op::kConcat, 0, parts, kStrict);
    }
    finish(root);
  }

 private:
  static std::string hint(const Token& t) {
    switch (t.kind) {
      case Tok::kEq:
        return ": JUEL compares with '==' (or 'eq')";
      case Tok::kLParen:
      case Tok::kColon:
        return " (Ordo's JUEL cannot call methods or functions such as fn:name(...))";
      case Tok::kName:
      case Tok::kNumber:
      case Tok::kString:
        return " (is an operator missing?)";
      default:
        return "";
    }
  }

  bool at_op(Tok symbol, std::string_view word) const { return at(symbol) || at_name(word); }

  NodeIndex expression() {
    Nest nest(*this);
    if (!nest.ok()) return too_deep();
    const std::uint32_t start = peek().offset;
    NodeIndex cond = binary(0);
    if (error || !at(Tok::kQuestion)) return error ? kNoNode : cond;
    const Token q = take();
    NodeIndex yes = expression();
    if (error) return kNoNode;
    if (!at(Tok::kColon)) {
      return fail_expected("':' after the '?' at offset " + std::to_string(q.offset));
    }
    take();
    NodeIndex no = expression();
    if (error) return kNoNode;
    return make(Op::kIf, start, {cond, yes, no}, kStrict);
  }

  // The binary operator at the next token for precedence `level`, or Op::kConst.
  Op binary_op(int level) const {
    switch (level) {
      case 0:
        return at_op(Tok::kOrOr, "or") ? Op::kOr : Op::kConst;
      case 1:
        return at_op(Tok::kAndAnd, "and") ? Op::kAnd : Op::kConst;
      case 2:
        if (at_op(Tok::kEqEq, "eq")) return Op::kEq;
        return at_op(Tok::kNe, "ne") ? Op::kNe : Op::kConst;
      case 3:
        if (at_op(Tok::kLt, "lt")) return Op::kLt;
        if (at_op(Tok::kGt, "gt")) return Op::kGt;
        if (at_op(Tok::kLe, "le")) return Op::kLe;
        return at_op(Tok::kGe, "ge") ? Op::kGe : Op::kConst;
      case 4:
        if (at(Tok::kPlus)) return Op::kAdd;
        return at(Tok::kMinus) ? Op::kSub : Op::kConst;
      default:
        if (at(Tok::kStar)) return Op::kMul;
        if (at_op(Tok::kSlash, "div")) return Op::kDiv;
        return at_op(Tok::kPercent, "mod") ? Op::kMod : Op::kConst;
    }
  }

  // Left-associative binary operators, level 0 (||) to 5 (* /); then unary.
  NodeIndex binary(int level) {
    if (level > 5) return unary();
    const std::uint32_t start = peek().offset;
    NodeIndex left = binary(level + 1);
    for (;;) {
      if (error) return kNoNode;
      const Op op = binary_op(level);
      if (op == Op::kConst) {
        if (level == 2 && at(Tok::kEq)) {
          return fail(peek().offset,
                      "JUEL compares with '==' (or 'eq'); a single '=' is not an "
                      "operator");
        }
        return left;
      }
      take();
      NodeIndex right = binary(level + 1);
      if (error) return kNoNode;
      left = make(op, start, {left, right}, kStrict);
    }
  }

  NodeIndex unary() {
    Op op = Op::kConst;
    if (at(Tok::kMinus)) op = Op::kNeg;
    if (at(Tok::kBang) || at_name("not")) op = Op::kNot;
    if (at_name("empty")) op = Op::kEmpty;
    if (op == Op::kConst) return postfix();
    Nest nest(*this);
    if (!nest.ok()) return too_deep();
    const Token t = take();
    NodeIndex operand = unary();
    if (error) return kNoNode;
    if (op == Op::kNeg && is_const(operand) && const_value(operand).is_number()) {
      nlohmann::json& v = out_.constants[out_.nodes[operand].a];
      if (v.is_number_integer() && v.get<std::int64_t>() != INT64_MIN) {
        v = -v.get<std::int64_t>();
      } else {
        v = -v.get<double>();
      }
      Node& n = b_.at(operand);
      n.length += n.offset - t.offset;
      n.offset = t.offset;
      return operand;
    }
    return make(op, t.offset, {operand}, kStrict);
  }

  NodeIndex postfix() {
    const std::uint32_t start = peek().offset;
    NodeIndex e = primary();
    while (!error) {
      if (at(Tok::kDot)) {
        take();
        if (!at(Tok::kName)) return fail_expected("a property name after '.'");
        const Token name = take();
        if (at(Tok::kLParen)) {
          return fail(name.offset, "method calls such as '" + std::string(name.text) +
                                       "(...)' are not supported; refer to variables and their "
                                       "properties by name");
        }
        NodeIndex m = make(Op::kMember, start, {e}, kStrict);
        b_.at(m).b = b_.name(name.text);
        e = m;
      } else if (at(Tok::kLBracket)) {
        const Token open = take();
        NodeIndex index = expression();
        if (error) return kNoNode;
        if (!at(Tok::kRBracket)) {
          return fail_expected("']' to close '[' opened at offset " + std::to_string(open.offset));
        }
        take();
        e = make(Op::kIndex, start, {e, index}, kStrict);
      } else {
        break;
      }
    }
    return error ? kNoNode : e;
  }

  NodeIndex primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::kNumber:
        return number_literal(take());
      case Tok::kString:
        return string_literal(take());
      case Tok::kLParen: {
        const Token open = take();
        NodeIndex e = expression();
        if (error) return kNoNode;
        if (!at(Tok::kRParen)) {
          return fail_expected("')' to close '(' opened at offset " + std::to_string(open.offset));
        }
        take();
        return e;
      }
      case Tok::kName: {
        const Token name = take();
        if (name.text == "true" || name.text == "false") {
          return b_.constant(name.text == "true", name.offset, name.length);
        }
        if (name.text == "null") return b_.constant(nullptr, name.offset, name.length);
        if (is_reserved(name.text)) {
          return fail(name.offset, "unexpected '" + std::string(name.text) + "': expected a value");
        }
        if (at(Tok::kLParen)) {
          return fail(name.offset, "function calls such as '" + std::string(name.text) +
                                       "(...)' are not supported in JUEL expressions");
        }
        NodeIndex v = make(Op::kVar, name.offset, {}, kStrict);
        b_.at(v).a = b_.name(name.text);
        return v;
      }
      case Tok::kRBrace:
      case Tok::kEnd:
        return fail(t.offset, "the expression ends too early: expected a value");
      default:
        return fail_expected("a value (a number, 'string', name or '(')");
    }
  }
};

}  // namespace

std::optional<CompileError> parse_juel(CompiledExpression& out) {
  JuelParser p(out);
  p.run();
  return p.error;
}

}  // namespace ordo::expr
