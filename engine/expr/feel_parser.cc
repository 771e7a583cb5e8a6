// The FEEL front end: a recursive-descent parser from FEEL text (what follows '=') to nodes.
// Precedence, loosest first: if, or, and, comparison / between / in, + -, * /, **, unary -,
// postfix (.name, [index or filter]), primary.
#include <algorithm>

#include "expr/functions.h"
#include "expr/parser.h"
#include "expr/value.h"

namespace ordo::expr {
namespace {

bool is_keyword(std::string_view s) {
  for (std::string_view k : {"if", "then", "else", "and", "or", "in", "between", "for", "some",
                             "every", "return", "satisfies", "instance", "function"}) {
    if (s == k) return true;
  }
  return false;
}

std::string at_offset(const Token& t) {
  return " opened at offset " + std::to_string(t.offset);
}

class FeelParser : public ParserBase {
 public:
  FeelParser(CompiledExpression& out, const CompileOptions& options)
      : ParserBase(out, true, &FeelParser::hint, 0, options.known_names), options_(options) {}

  void run() {
    if (options_.unary_tests) {
      run_tests();
      return;
    }
    if (at(Tok::kEnd)) {
      fail(0, "the expression is empty: write a value after '='");
      return;
    }
    NodeIndex root = expression();
    if (error) return;
    if (!at(Tok::kEnd)) {
      const Token& t = peek();
      const Node& r = out_.nodes[root];
      if (t.kind == Tok::kColon && r.op == Op::kVar) {
        const std::string& name = out_.names[r.a];
        fail(t.offset, "unexpected ':' after '" + name +
                           "': FEEL has no assignments; a context needs braces, e.g. {" + name +
                           ": ...}, and a comparison uses '='");
        return;
      }
      if (t.kind == Tok::kInvalid) {
        fail(t.offset, t.message);
        return;
      }
      fail(t.offset, "unexpected " + quote(t) + " after a complete expression" + hint(t));
      return;
    }
    finish(root);
  }

  // Unary tests: "-" (any value), tests separated by commas, or not(tests). The root is
  // `? in (tests)`.
  void run_tests() {
    if (at(Tok::kEnd)) {
      fail(0, "the test is empty: write - for any value, or a test such as < 10 or \"A\"");
      return;
    }
    if (at(Tok::kMinus)) {  // "-" alone; "-5" is a test like any other
      const Token minus = take();
      if (at(Tok::kEnd)) {
        finish(b_.constant(true, minus.offset, minus.length));
        return;
      }
      restart(0);
      last_end_ = 0;
    }
    Token negation;
    const bool negated = at_name("not");
    if (negated) {
      negation = take();
      if (!at(Tok::kLParen)) {
        fail_expected("'(' after 'not', e.g. not(\"A\", \"B\")");
        return;
      }
      take();
    }
    std::vector<NodeIndex> args{make(Op::kInput, 0, {})};
    for (;;) {
      if (!positive_test(args)) return;
      if (!at(Tok::kComma)) break;
      take();
    }
    if (negated) {
      if (!at(Tok::kRParen)) {
        fail_expected("',' or ')' to close 'not('" + at_offset(negation));
        return;
      }
      take();
    }
    if (!at(Tok::kEnd)) {
      const Token& t = peek();
      fail(t.offset, t.kind == Tok::kInvalid
                         ? t.message
                         : "unexpected " + quote(t) + " after a complete test (tests are " +
                               "separated by commas)" + hint(t));
      return;
    }
    NodeIndex root = make_with_args(Op::kIn, 0, args);
    if (negated) {
      root = make_with_args(Op::kCall, negation.offset, {root});
      b_.at(root).fn = Builtin::kNot;
    }
    finish(root);
  }

 private:
  const CompileOptions& options_;
  bool no_index_ = false;  // at the end of a range, where '[' closes it: "]1..10["
  std::uint32_t input_refs_ = 0;  // how many times `?` was read so far
  std::vector<std::string> lambda_names_;  // context entries holding functions so far

  // A test that the value equals `e` (or is in it, a list). In unary tests, when `e` reads
  // `?` (it was read since `refs_before`), a boolean result decides the test instead.
  NodeIndex equal_test(NodeIndex e, std::uint32_t start, std::uint32_t refs_before) {
    return make(Op::kTestEq, start, {e}, input_refs_ != refs_before ? kUsesInput : 0);
  }

  // Why a token does not fit, for people who know other languages.
  static std::string hint(const Token& t) {
    switch (t.kind) {
      case Tok::kEqEq:
        return ": FEEL compares with '=', not '=='";
      case Tok::kAndAnd:
        return ": FEEL writes 'and', not '&&'";
      case Tok::kOrOr:
        return ": FEEL writes 'or', not '||'";
      case Tok::kBang:
        return ": FEEL writes not(x), and '!=' for 'not equal'";
      case Tok::kQuestion:
        return ": FEEL writes 'if c then a else b', not 'c ? a : b'";
      case Tok::kPercent:
        return ": FEEL has no '%' operator; use modulo(a, b)";
      case Tok::kName:
      case Tok::kNumber:
      case Tok::kString:
        return " (is an operator or a comma missing? names cannot contain spaces)";
      default:
        return "";
    }
  }

  NodeIndex expression() {
    Nest nest(*this);
    if (!nest.ok()) return too_deep();
    // Anything nested (parentheses, lists, arguments) may index again.
    const bool saved = no_index_;
    no_index_ = false;
    NodeIndex e = expression_body();
    no_index_ = saved;
    return e;
  }

  NodeIndex expression_body() {
    if (at_name("if")) return if_expression();
    if (at_name("for") || at_name("some") || at_name("every")) return iteration();
    return disjunction();
  }

  // for x in L (, y in M)* return E  |  some / every x in L (, ...)* satisfies C
  NodeIndex iteration() {
    const Token kw = take();
    const bool is_for = kw.text == "for";
    const std::string_view closer = is_for ? "return" : "satisfies";
    std::vector<NodeIndex> args;
    for (;;) {
      if (!at(Tok::kName) || is_keyword(peek().text)) {
        return fail_expected("a name to bind after '" + std::string(kw.text) + "', e.g. " +
                             std::string(kw.text) + " item in items " + std::string(closer) +
                             " ...");
      }
      const Token name = take();
      NodeIndex bound = make(Op::kVar, name.offset, {});
      b_.at(bound).a = b_.name(name.text);
      if (!at_name("in")) return fail_expected("'in' after '" + std::string(name.text) + "'");
      take();
      const std::uint32_t start = peek().offset;
      NodeIndex source = disjunction();
      if (error) return kNoNode;
      if (at(Tok::kDotDot)) {
        take();
        NodeIndex end = disjunction();
        if (error) return kNoNode;
        source = make(Op::kSpan, start, {source, end});
      }
      args.push_back(bound);
      args.push_back(source);
      if (!at(Tok::kComma)) break;
      take();
    }
    if (!at_name(closer)) {
      return fail_expected("'" + std::string(closer) + "' after what '" + std::string(kw.text) +
                           "' iterates (the '" + std::string(kw.text) + "' at offset " +
                           std::to_string(kw.offset) + ")");
    }
    take();
    NodeIndex body = expression();
    if (error) return kNoNode;
    const Op op = is_for ? Op::kFor : kw.text == "some" ? Op::kSome : Op::kEvery;
    NodeIndex n = make_with_args(op, kw.offset, args);
    b_.at(n).a = body;
    return n;
  }

  NodeIndex if_expression() {
    const Token kw = take();
    NodeIndex cond = expression();
    if (error) return kNoNode;
    if (!at_name("then")) {
      return fail_expected("'then' after the condition of the 'if' at offset " +
                         std::to_string(kw.offset));
    }
    take();
    NodeIndex yes = expression();
    if (error) return kNoNode;
    if (!at_name("else")) return fail_expected("'else' (FEEL's 'if' needs both 'then' and 'else')");
    take();
    NodeIndex no = expression();
    if (error) return kNoNode;
    return make(Op::kIf, kw.offset, {cond, yes, no});
  }

  NodeIndex disjunction() {
    const std::uint32_t start = peek().offset;
    NodeIndex left = conjunction();
    while (!error && at_name("or")) {
      take();
      NodeIndex right = conjunction();
      if (error) return kNoNode;
      left = make(Op::kOr, start, {left, right});
    }
    return error ? kNoNode : left;
  }

  NodeIndex conjunction() {
    const std::uint32_t start = peek().offset;
    NodeIndex left = comparison();
    while (!error && at_name("and")) {
      take();
      NodeIndex right = comparison();
      if (error) return kNoNode;
      left = make(Op::kAnd, start, {left, right});
    }
    return error ? kNoNode : left;
  }

  NodeIndex comparison() {
    const std::uint32_t start = peek().offset;
    NodeIndex left = additive();
    if (error) return kNoNode;
    Op op;
    switch (peek().kind) {
      case Tok::kEq:
        op = Op::kEq;
        break;
      case Tok::kNe:
        op = Op::kNe;
        break;
      case Tok::kLt:
        op = Op::kLt;
        break;
      case Tok::kLe:
        op = Op::kLe;
        break;
      case Tok::kGt:
        op = Op::kGt;
        break;
      case Tok::kGe:
        op = Op::kGe;
        break;
      default:
        if (at_name("between")) {
          take();
          NodeIndex low = additive();
          if (error) return kNoNode;
          if (!at_name("and")) return fail_expected("'and' in 'between ... and ...'");
          take();
          NodeIndex high = additive();
          if (error) return kNoNode;
          return make(Op::kBetween, start, {left, low, high});
        }
        if (at_name("in")) {
          take();
          std::vector<NodeIndex> args{left};
          if (!positive_test(args)) return kNoNode;
          return make_with_args(Op::kIn, start, args);
        }
        if (at_name("instance")) return instance_of(start, left);
        return left;
    }
    take();
    NodeIndex right = additive();
    if (error) return kNoNode;
    return make(op, start, {left, right});
  }

  // One test after `in`, appended to `tests`: "< 5", "[1..10]", "(1..10]", "[1, 2, 3]",
  // "(< 5, > 10)", or a value (equal to it, or contained in it when it is a list).
  bool positive_test(std::vector<NodeIndex>& tests) {
    Nest nest(*this);
    if (!nest.ok()) return too_deep(), false;
    const Token& t = peek();
    const std::uint32_t start = t.offset;
    const std::uint32_t refs = input_refs_;
    Op unary = Op::kConst;
    switch (t.kind) {
      case Tok::kLt:
        unary = Op::kTestLt;
        break;
      case Tok::kLe:
        unary = Op::kTestLe;
        break;
      case Tok::kGt:
        unary = Op::kTestGt;
        break;
      case Tok::kGe:
        unary = Op::kTestGe;
        break;
      case Tok::kEq:
        unary = Op::kTestEq;
        break;
      case Tok::kNe:
        unary = Op::kTestNe;
        break;
      default:
        break;
    }
    if (unary != Op::kConst) {
      take();
      NodeIndex e = additive();
      if (error) return false;
      tests.push_back(make(unary, start, {e}));
      return true;
    }
    if (t.kind == Tok::kLParen || t.kind == Tok::kLBracket || t.kind == Tok::kRBracket) {
      const Token open = take();
      if (open.kind == Tok::kLParen && is_unary_test_start()) return test_list(open, tests);
      if (open.kind == Tok::kLBracket && at(Tok::kRBracket)) {  // x in []: never true
        take();
        return true;
      }
      NodeIndex first = expression();
      if (error) return false;
      if (at(Tok::kDotDot)) return range(open, first, tests);
      if (open.kind == Tok::kRBracket) return fail_expected("'..' in a range such as ]1..10["), false;
      tests.push_back(equal_test(first, out_.nodes[first].offset, refs));
      if (open.kind == Tok::kLParen && at(Tok::kComma)) {
        take();
        return test_list(open, tests);
      }
      if (open.kind == Tok::kLBracket) {  // a list literal: equal to any element
        while (!error && at(Tok::kComma)) {
          take();
          const std::uint32_t element_refs = input_refs_;
          NodeIndex e = expression();
          if (error) return false;
          tests.push_back(equal_test(e, out_.nodes[e].offset, element_refs));
        }
      }
      const Tok close = open.kind == Tok::kLParen ? Tok::kRParen : Tok::kRBracket;
      if (!at(close)) {
        return fail_expected(std::string(close == Tok::kRParen ? "')'" : "']'") + " to close '" +
                           std::string(open.text) + "'" + at_offset(open)),
               false;
      }
      take();
      return true;
    }
    // After 'in' a test is an additive expression ("x in y + 1 = b" compares); in unary
    // tests it is a whole expression ("? > limit", "date(\"2026-01-01\")").
    NodeIndex e = options_.unary_tests ? expression() : additive();
    if (error) return false;
    tests.push_back(equal_test(e, start, refs));
    return true;
  }

  // `left instance of TYPE`: TYPE is a FEEL type's name ("number", "date and time", an item
  // definition's name) or a generic one ("list<number>", "range<date>", "context<a: string>",
  // "function<number>->string"), kept as text for the evaluator.
  NodeIndex instance_of(std::uint32_t start, NodeIndex left) {
    take();  // instance
    if (!at_name("of")) return fail_expected("'of' after 'instance'");
    take();
    const std::uint32_t first = peek().offset;
    if (!type_text()) return kNoNode;
    const std::string type(std::string_view(out_.text).substr(first, last_end_ - first));
    const NodeIndex t = b_.constant(type, first, last_end_ - first);
    return make(Op::kInstanceOf, start, {left, t});
  }

  // Takes the tokens of one type (see instance_of).
  bool type_text() {
    if (!at(Tok::kName)) return fail_expected("a type after 'instance of', e.g. number"), false;
    const std::string_view rest = std::string_view(out_.text).substr(peek().offset);
    const std::uint32_t first = peek().offset;
    take();
    for (std::string_view spaced : {"date and time", "days and time duration",
                                    "years and months duration"}) {
      if (rest.starts_with(spaced)) {
        while (at(Tok::kName) && peek().offset < first + spaced.size()) take();
        break;
      }
    }
    if (at(Tok::kLt)) {  // <...>, nested
      int depth = 0;
      do {
        if (at(Tok::kEnd)) return fail_expected("'>' to close the type"), false;
        if (at(Tok::kLt)) ++depth;
        if (at(Tok::kGt)) --depth;
        take();
      } while (depth > 0);
    }
    if (at(Tok::kMinus) && std::string_view(out_.text).substr(peek().offset).starts_with("->")) {
      take();
      take();
      return type_text();  // a function's result type
    }
    return true;
  }

  bool is_unary_test_start() const {
    switch (peek().kind) {
      case Tok::kLt:
      case Tok::kLe:
      case Tok::kGt:
      case Tok::kGe:
      case Tok::kEq:
      case Tok::kNe:
        return true;
      default:
        return false;
    }
  }

  // After "[a" / "(a" / "]a" with ".." next, in an expression: a range as a value.
  NodeIndex range_value(const Token& open, NodeIndex low) {
    return range_rest(open, low, Op::kRange);
  }

  // The rest of a range from its "..": a test after 'in' (kTestRange) or a value (kRange).
  NodeIndex range_rest(const Token& open, NodeIndex low, Op op) {
    take();  // ..
    // In "]1..10[" the '[' closes the range; it does not index 10.
    no_index_ = true;
    NodeIndex high = disjunction();
    no_index_ = false;
    if (error) return kNoNode;
    std::uint8_t flags = open.kind == Tok::kLBracket ? 0 : kOpenStart;
    if (at(Tok::kRParen) || at(Tok::kLBracket)) {
      flags |= kOpenEnd;
    } else if (!at(Tok::kRBracket)) {
      return fail_expected("']' or ')' to close the range" + at_offset(open));
    }
    take();
    return make(op, open.offset, {low, high}, flags);
  }

  // "(< 10)", "(>= 5)", "(= 3)" as a value: the range those values make ((null..10), ...).
  NodeIndex unary_range(const Token& open) {
    const Tok op = take().kind;
    NodeIndex e = additive();
    if (error) return kNoNode;
    if (!at(Tok::kRParen)) return fail_expected("')' to close '('" + at_offset(open));
    take();
    const NodeIndex none = b_.constant(nullptr, open.offset, 0);
    switch (op) {
      case Tok::kLt:
        return make(Op::kRange, open.offset, {none, e}, kOpenStart | kOpenEnd | kUnaryRange);
      case Tok::kLe:
        return make(Op::kRange, open.offset, {none, e}, kOpenStart | kUnaryRange);
      case Tok::kGt:
        return make(Op::kRange, open.offset, {e, none}, kOpenStart | kOpenEnd | kUnaryRange);
      case Tok::kGe:
        return make(Op::kRange, open.offset, {e, none}, kOpenEnd | kUnaryRange);
      default:  // =
        return make(Op::kRange, open.offset, {e, e}, kUnaryRange);
    }
  }

  // Tests separated by commas up to the ')' matching `open`.
  bool test_list(const Token& open, std::vector<NodeIndex>& tests) {
    for (;;) {
      if (!positive_test(tests)) return false;
      if (at(Tok::kComma)) {
        take();
        continue;
      }
      if (!at(Tok::kRParen)) return fail_expected("',' or ')' to close '('" + at_offset(open)), false;
      take();
      return true;
    }
  }

  // After "[a" / "(a" / "]a" with ".." next: the rest of a range.
  bool range(const Token& open, NodeIndex low, std::vector<NodeIndex>& tests) {
    const NodeIndex r = range_rest(open, low, Op::kTestRange);
    if (error) return false;
    tests.push_back(r);
    return true;
  }

  NodeIndex additive() {
    const std::uint32_t start = peek().offset;
    NodeIndex left = multiplicative();
    while (!error && (at(Tok::kPlus) || at(Tok::kMinus))) {
      const Op op = take().kind == Tok::kPlus ? Op::kAdd : Op::kSub;
      NodeIndex right = multiplicative();
      if (error) return kNoNode;
      left = make(op, start, {left, right});
    }
    return error ? kNoNode : left;
  }

  NodeIndex multiplicative() {
    const std::uint32_t start = peek().offset;
    NodeIndex left = power();
    while (!error && (at(Tok::kStar) || at(Tok::kSlash))) {
      const Op op = take().kind == Tok::kStar ? Op::kMul : Op::kDiv;
      NodeIndex right = power();
      if (error) return kNoNode;
      left = make(op, start, {left, right});
    }
    return error ? kNoNode : left;
  }

  NodeIndex power() {
    const std::uint32_t start = peek().offset;
    NodeIndex left = unary();
    while (!error && at(Tok::kStarStar)) {
      take();
      NodeIndex right = unary();
      if (error) return kNoNode;
      left = make(Op::kPow, start, {left, right});
    }
    return error ? kNoNode : left;
  }

  NodeIndex unary() {
    if (!at(Tok::kMinus)) return postfix();
    Nest nest(*this);
    if (!nest.ok()) return too_deep();
    const Token minus = take();
    NodeIndex operand = unary();
    if (error) return kNoNode;
    if (is_const(operand) && const_value(operand).is_number()) {  // fold "-5"
      nlohmann::json& v = out_.constants[out_.nodes[operand].a];
      if (v.is_number_integer() && v.get<std::int64_t>() != INT64_MIN) {
        v = -v.get<std::int64_t>();
      } else {
        v = -v.get<double>();
      }
      Node& n = b_.at(operand);
      n.length += n.offset - minus.offset;
      n.offset = minus.offset;
      return operand;
    }
    return make(Op::kNeg, minus.offset, {operand});
  }

  NodeIndex postfix() {
    const std::uint32_t start = peek().offset;
    NodeIndex e = primary();
    while (!error) {
      if (at(Tok::kDot)) {
        take();
        if (!at(Tok::kName)) return fail_expected("a name after '.'");
        const Token name = take();
        // A name with spaces (`t.time offset`, `r.start included`, `p.first name`): the
        // words that follow, up to a keyword or anything not a word.
        std::string member(name.text);
        while (at(Tok::kName) && !is_keyword(peek().text)) member.append(" ").append(take().text);
        NodeIndex m = make(Op::kMember, start, {e});
        b_.at(m).b = b_.name(member);
        e = m;
      } else if (at(Tok::kLBracket) && !no_index_) {
        const Token open = take();
        NodeIndex index = expression();
        if (error) return kNoNode;
        if (!at(Tok::kRBracket)) return fail_expected("']' to close '['" + at_offset(open));
        take();
        e = make(Op::kIndex, start, {e, index});
      } else if (at(Tok::kLParen)) {  // a function value called: lib.f(1), (function(x) x)(1)
        const Token callee = peek();
        std::vector<NodeIndex> args;
        bool named = false;
        if (!arguments(callee, args, named)) return kNoNode;
        NodeIndex c = make_with_args(Op::kCallValue, start, args, named ? kNamedArgs : 0);
        b_.at(c).a = e;
        e = c;
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
      case Tok::kName:
        return name();
      case Tok::kLParen: {
        const Token open = take();
        if (is_unary_test_start() && !at(Tok::kNe)) return unary_range(open);
        NodeIndex e = expression();
        if (error) return kNoNode;
        if (at(Tok::kDotDot)) return range_value(open, e);
        if (!at(Tok::kRParen)) return fail_expected("')' to close '('" + at_offset(open));
        take();
        return e;
      }
      case Tok::kLBracket:
        return list();
      case Tok::kRBracket: {  // ]1..10]: a range that excludes its start
        const Token open = take();
        NodeIndex e = expression();
        if (error) return kNoNode;
        if (!at(Tok::kDotDot)) return fail_expected("'..' in a range such as ]1..10]");
        return range_value(open, e);
      }
      case Tok::kLBrace:
        return context();
      case Tok::kAt:
        return at_literal();
      case Tok::kQuestion:
        if (options_.unary_tests) {
          ++input_refs_;
          const Token q = take();
          return make(Op::kInput, q.offset, {});
        }
        return fail(t.offset, "'?' stands for the tested value only in unary tests (a decision "
                              "table's input entries); FEEL writes 'if c then a else b'");
      case Tok::kLt:
      case Tok::kLe:
      case Tok::kGt:
      case Tok::kGe:
        return fail(t.offset, "a test such as '" + std::string(t.text) +
                                  " 5' can only follow 'in', e.g. x in " + std::string(t.text) +
                                  " 5; to compare, write x " + std::string(t.text) + " 5");
      case Tok::kEnd:
        return fail(t.offset, "the expression ends too early: expected a value");
      default:
        return fail_expected("a value (a number, \"string\", name, '(', '[' or '{')");
    }
  }

  NodeIndex name() {
    const Token t = take();
    if (t.text == "true" || t.text == "false")
      return b_.constant(t.text == "true", t.offset, t.length);
    if (t.text == "null") return b_.constant(nullptr, t.offset, t.length);
    if (t.text == "function" && at(Tok::kLParen)) return lambda(t);
    if (at(Tok::kLParen)) return call(t);
    if (t.text == "not") return fail(t.offset, "FEEL writes not(x), with parentheses");
    if (is_keyword(t.text)) {
      return fail(t.offset, "unexpected '" + std::string(t.text) + "': expected a value");
    }
    NodeIndex v = make(Op::kVar, t.offset, {});
    b_.at(v).a = b_.name(t.text);
    return v;
  }

  // function(a, b: number) body: a function value. Parameter types are read and not checked.
  NodeIndex lambda(const Token& keyword) {
    const Token open = take();
    std::vector<NodeIndex> params;
    while (!error && !at(Tok::kRParen)) {
      if (!at(Tok::kName)) return fail_expected("a parameter name in function(...)");
      const Token first = take();
      std::string name(first.text);
      while (at(Tok::kName)) name.append(" ").append(take().text);  // a name with spaces
      params.push_back(b_.constant(name, first.offset, last_end_ - first.offset));
      if (at(Tok::kColon)) {  // a type: skipped up to ',' or ')'
        take();
        int depth = 0;
        while (!at(Tok::kEnd) && (depth > 0 || (!at(Tok::kComma) && !at(Tok::kRParen)))) {
          if (at(Tok::kLt)) ++depth;
          if (at(Tok::kGt)) --depth;
          take();
        }
      }
      if (!at(Tok::kComma)) break;
      take();
    }
    if (!at(Tok::kRParen)) return fail_expected("')' to close the parameters" + at_offset(open));
    take();
    if (at_name("external")) {
      return fail(peek().offset, "external functions (Java, PMML) are not supported: write the "
                                 "function in FEEL");
    }
    NodeIndex body = expression();
    if (error) return kNoNode;
    NodeIndex n = make_with_args(Op::kLambda, keyword.offset, params);
    b_.at(n).a = body;
    return n;
  }

  NodeIndex call(const Token& name) {
    const bool theirs = std::find(options_.functions.begin(), options_.functions.end(),
                                  name.text) != options_.functions.end() ||
                        std::find(lambda_names_.begin(), lambda_names_.end(), name.text) !=
                            lambda_names_.end();
    const BuiltinInfo* info = theirs ? nullptr : find_builtin(name.text);
    if (info == nullptr && !options_.user_functions && !theirs) {
      return fail(name.offset, "unknown function '" + std::string(name.text) +
                                   "'; docs/expressions.md lists the functions Ordo supports");
    }
    std::vector<NodeIndex> args;  // named: key constant, value, key constant, value ...
    bool named = false;
    if (!arguments(name, args, named)) return kNoNode;
    if (info == nullptr) {  // a function the caller provides (a business knowledge model)
      NodeIndex c = make_with_args(Op::kCallUser, name.offset, args, named ? kNamedArgs : 0);
      b_.at(c).a = b_.name(name.text);
      return c;
    }
    if (named && !by_position(*info, args)) return kNoNode;
    const std::size_t n = args.size();
    if (n < info->min_args || (info->max_args != kVariadic && n > info->max_args)) {
      std::string want = std::to_string(info->min_args);
      if (info->max_args == kVariadic) {
        want = "at least " + want;
      } else if (info->max_args != info->min_args) {
        want += " to " + std::to_string(info->max_args);
      }
      return fail(name.offset, std::string(info->name) + "() takes " + want + " argument" +
                                   (want == "1" ? "" : "s") + ", got " + std::to_string(n));
    }
    if ((info->id == Builtin::kDateAndTime || info->id == Builtin::kDate ||
         info->id == Builtin::kTime || info->id == Builtin::kDuration) &&
        n == 1 && is_const(args[0])) {
      return fold_temporal(*info, args[0]);
    }
    NodeIndex c = make_with_args(Op::kCall, name.offset, args);
    b_.at(c).fn = info->id;
    return c;
  }

  // Named arguments of a built-in (key constant, value, ...) put in the order of its
  // parameters; an unknown, repeated or skipped parameter is an error.
  bool by_position(const BuiltinInfo& info, std::vector<NodeIndex>& args) {
    std::vector<std::string_view> params;
    for (std::string_view rest = info.params; !rest.empty();) {
      const std::size_t comma = rest.find(',');
      params.push_back(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    for (std::size_t k = 0; k < args.size(); k += 2) {  // date(year:, month:, day:)
      if (info.id == Builtin::kDate && const_value(args[k]) == "year") {
        params = {"year", "month", "day"};
      }
      if (info.id == Builtin::kTime && const_value(args[k]) == "hour") {
        params = {"hour", "minute", "second", "offset"};
      }
      if (info.id == Builtin::kDateAndTime && const_value(args[k]) == "date") {
        params = {"date", "time"};
      }
    }
    std::vector<NodeIndex> ordered(params.size(), kNoNode);
    for (std::size_t k = 0; k < args.size(); k += 2) {
      std::string key = const_value(args[k]).get<std::string>();
      if (info.id == Builtin::kContextPut && key == "keys") key = "key";  // DMN 1.5's name
      if (info.id == Builtin::kListReplace && key == "match") key = "position";  // a function
      const auto at = std::find(params.begin(), params.end(), key);
      const std::uint32_t where = out_.nodes[args[k]].offset;
      if (at == params.end()) {
        return fail(where, std::string(info.name) + "() has no parameter '" + key +
                               "'; its parameters: " + std::string(info.params)),
               false;
      }
      NodeIndex& slot = ordered[static_cast<std::size_t>(at - params.begin())];
      if (slot != kNoNode) return fail(where, "parameter '" + key + "' is given twice"), false;
      slot = args[k + 1];
    }
    while (!ordered.empty() && ordered.back() == kNoNode) ordered.pop_back();
    for (std::size_t i = 0; i < ordered.size(); ++i) {
      if (ordered[i] == kNoNode) {
        return fail(out_.nodes[args[0]].offset, std::string(info.name) + "() needs '" +
                                                    std::string(params[i]) + "' before '" +
                                                    std::string(params[ordered.size() - 1]) +
                                                    "'"),
               false;
      }
    }
    args = std::move(ordered);
    return true;
  }

  // The arguments of a call, from its '(' to its ')': f(1, 2) or, named, f(a: 1, b: 2),
  // where `args` alternate a key constant and the value.
  bool arguments(const Token& name, std::vector<NodeIndex>& args, bool& named) {
    const Token open = take();
    if (!at(Tok::kRParen)) {
      for (std::size_t k = 0;; ++k) {
        NodeIndex a = expression();
        if (error) return false;
        if (at(Tok::kColon)) {
          const Node key = out_.nodes[a];
          if (key.op != Op::kVar) return fail(peek().offset, "unexpected ':' after an argument"), false;
          if (k > 0 && !named) {
            return fail(key.offset, "name every argument or none: f(a: 1, b: 2) or f(1, 2)"),
                   false;
          }
          named = true;
          take();
          NodeIndex value = expression();
          if (error) return false;
          args.push_back(b_.constant(out_.names[key.a], key.offset, key.length));
          args.push_back(value);
        } else if (named) {
          return fail(out_.nodes[a].offset,
                      "name every argument or none: f(a: 1, b: 2) or f(1, 2)"),
                 false;
        } else {
          args.push_back(a);
        }
        if (!at(Tok::kComma)) break;
        take();
      }
    }
    if (!at(Tok::kRParen)) {
      return fail_expected("',' or ')' to close the call of " + std::string(name.text) + "()" +
                           at_offset(open)),
             false;
    }
    take();
    return true;
  }

  // @"2026-12-01", @"10:30:00", @"2026-12-01T10:00:00@Europe/Paris", @"P1D": a date, time,
  // date and time or duration literal, checked now (a mistake is a compile error).
  NodeIndex at_literal() {
    const Token sign = take();
    if (!at(Tok::kString)) {
      return fail_expected("a string after '@', e.g. @\"2026-12-01\" or @\"P1D\"");
    }
    NodeIndex s = string_literal(take());
    if (error) return kNoNode;
    const std::string text = const_value(s).get<std::string>();
    const std::string_view body = std::string_view(text).substr(text.starts_with('-') ? 1 : 0);
    const std::string_view kind = body.starts_with('P')                        ? "duration"
                                  : body.find('T') != std::string_view::npos ? "date and time"
                                  : body.find(':') != std::string_view::npos ? "time"
                                                                             : "date";
    const BuiltinInfo* info = find_builtin(kind);
    std::string why;
    Value v = Value::borrow(const_value(s));
    Value r = call_builtin(info->id, std::span<Value>(&v, 1), CallSite{info->name, &why});
    if (r.is_null()) {
      return fail(sign.offset, "@" + Json(text).dump() + " is no " + std::string(kind) +
                                   ": write e.g. @\"2026-12-01\", @\"10:30:00\", "
                                   "@\"2026-12-01T10:00:00Z\" or @\"P1D\"" +
                                   (why.empty() ? std::string() : " (" + why + ")"));
    }
    Node& n = b_.at(s);
    n.offset = sign.offset;
    n.length = last_end_ - sign.offset;
    return fold_temporal(*info, s);
  }

  // date and time("..."), date("..."), duration("...") with a literal: checked and converted
  // now, so a typo is a load error and evaluation parses nothing.
  NodeIndex fold_temporal(const BuiltinInfo& info, NodeIndex arg) {
    const Node at_arg = out_.nodes[arg];
    std::string why;
    Value v = Value::borrow(const_value(arg));
    Value r = call_builtin(info.id, std::span<Value>(&v, 1), CallSite{info.name, &why});
    if (r.is_null()) return fail(at_arg.offset, why);
    Node n = out_.nodes[arg];
    n.length = last_end_ - n.offset;
    n.op = Op::kTemporal;
    n.a = static_cast<std::uint32_t>(out_.temporals.size());
    out_.temporals.push_back(std::move(r));
    return b_.add(n);
  }

  NodeIndex list() {
    const Token open = take();
    std::vector<NodeIndex> items;
    bool all_const = true;
    if (!at(Tok::kRBracket)) {
      for (;;) {
        NodeIndex e = expression();
        if (error) return kNoNode;
        if (at(Tok::kDotDot) && items.empty()) return range_value(open, e);
        items.push_back(e);
        all_const = all_const && is_const(e);
        if (!at(Tok::kComma)) break;
        take();
      }
    }
    if (!at(Tok::kRBracket)) return fail_expected("',' or ']' to close the list" + at_offset(open));
    take();
    if (all_const) {  // one constant: evaluating it borrows instead of building a list
      nlohmann::json list = nlohmann::json::array();
      for (NodeIndex i : items) list.push_back(const_value(i));
      return b_.constant(std::move(list), open.offset, last_end_ - open.offset);
    }
    return make_with_args(Op::kList, open.offset, items);
  }

  NodeIndex context() {
    const Token open = take();
    std::vector<NodeIndex> args;  // key constant, value, key constant, value ...
    std::vector<std::string> keys;
    bool all_const = true;
    if (!at(Tok::kRBrace)) {
      for (;;) {
        const Token key = peek();
        std::string k;
        if (key.kind == Tok::kName) {
          k = std::string(take().text);
          while (at(Tok::kName)) k += " " + std::string(take().text);  // {foo bar: 1}
        } else if (key.kind == Tok::kString) {
          NodeIndex s = string_literal(take());
          if (error) return kNoNode;
          k = const_value(s).get<std::string>();
        } else {
          return fail_expected("a key (a name or a \"string\") in the context" + at_offset(open));
        }
        for (const std::string& seen : keys) {
          if (seen == k)
            return fail(key.offset, "the key '" + k + "' appears twice in this context");
        }
        if (!at(Tok::kColon)) return fail_expected("':' after the key '" + k + "'");
        take();
        // {f: function(x) ..., r: f(2)}: later entries (and f itself) call f by name.
        if (at_name("function")) lambda_names_.push_back(k);
        NodeIndex value = expression();
        if (error) return kNoNode;
        keys.push_back(k);
        args.push_back(b_.constant(k, key.offset, key.length));
        args.push_back(value);
        all_const = all_const && is_const(value);
        if (!at(Tok::kComma)) break;
        take();
      }
    }
    if (!at(Tok::kRBrace)) return fail_expected("',' or '}' to close the context" + at_offset(open));
    take();
    if (all_const) {
      nlohmann::json object = nlohmann::json::object();
      for (std::size_t i = 0; i < args.size(); i += 2)
        object[keys[i / 2]] = const_value(args[i + 1]);
      return b_.constant(std::move(object), open.offset, last_end_ - open.offset);
    }
    return make_with_args(Op::kContext, open.offset, args);
  }
};

}  // namespace

std::optional<CompileError> parse_feel(CompiledExpression& out, const CompileOptions& options) {
  FeelParser p(out, options);
  p.run();
  return p.error;
}

}  // namespace ordo::expr
