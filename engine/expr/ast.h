// The compiled form shared by the FEEL and JUEL front ends: a flat array of nodes that refer
// to their children by index, plus pools for names and constants. Built once by a parser,
// immutable afterwards, walked by evaluate.cc.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "expr/functions.h"
#include "expr/value.h"

namespace ordo::expr {

using NodeIndex = std::uint32_t;
inline constexpr NodeIndex kNoNode = std::numeric_limits<NodeIndex>::max();

// Parsers refuse deeper nesting, so hostile input cannot overflow the stack of the parser
// or of the evaluator (which recurses along the same tree).
inline constexpr int kMaxNesting = 64;
// Left-associative chains (a + b + c ...) are built by loops, not recursion; this bounds the
// depth of the tree those build.
inline constexpr std::uint32_t kMaxTreeDepth = 256;

enum class Op : std::uint8_t {
  kConst,     // constants[a]: a JSON literal (number, string, boolean, null, list, context)
  kTemporal,  // a literal date, time, date and time or duration: temporals[a]
  kVar,       // names[a]
  kMember,    // a.names[b]
  kIndex,     // a[b]: FEEL: 1-based index or filter; JUEL (kStrict): 0-based index or key
  kList,      // [args...]
  kContext,   // {key: value, ...}: args alternate a string constant (the key) and the value
  kNeg,       // -a
  kNot,       // JUEL !a / not a (FEEL not() is a function)
  kEmpty,     // JUEL empty a
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
  kIf,       // a ? b : c
  kBetween,  // a between b and c
  kIn,       // a in (tests args...): true when any test holds
  kTestEq,   // unary test "= a" (or "a is a list containing the value")
  kTestLt,   // unary test "< a"
  kTestLe,
  kTestGt,
  kTestGe,
  kTestRange,  // unary test a..b; flags kOpenStart / kOpenEnd
  kTestNe,     // unary test "!= a"
  kInstanceOf,  // a instance of (constants[b]: the type's text)
  kLambda,      // function(params) body: args are the parameters' name constants, a the body
  kCallValue,   // a(args): calls the function value `a` evaluates to (flag kNamedArgs)
  kRange,      // a range as a value: a..b, flags kOpenStart / kOpenEnd (a null end: unbounded)
  kCall,       // builtin function `fn` with args
  kCallUser,   // function names[a] of Context::functions with args; flag kNamedArgs: args
               // alternate a string constant (the parameter's name) and the value
  kInput,      // `?` in unary tests: Context::input
  kNull,       // a value this release cannot represent: null, and constants[a] says why
  kConcat,     // JUEL composite "text ${x} text": strings of args joined
  // FEEL iteration: args alternate a kVar node (the name bound) and what it iterates (a
  // list, or a kSpan); `a` is the body. for: the list of the body's values over every
  // combination; some / every: whether the body holds for any / all of them.
  kFor,
  kSome,
  kEvery,
  kSpan,  // a..b in an iteration context: the whole numbers from a to b (down, if b < a)
};

// Node flags.
inline constexpr std::uint8_t kStrict = 1;     // JUEL: type errors and unknown names are errors
inline constexpr std::uint8_t kOpenStart = 2;  // range excludes its start
inline constexpr std::uint8_t kOpenEnd = 4;    // range excludes its end
inline constexpr std::uint8_t kNamedArgs = 8;  // kCallUser: arguments by name
// kTestEq of unary tests whose expression reads `?`: a boolean result is the test's result
// ("? > limit"), as DMN says, rather than a value the input must equal.
inline constexpr std::uint8_t kUsesInput = 16;
// kRange written as a test ("(< 10)"): its missing end is unbounded. A range written with a
// null end ("(null..10)") has no value.
inline constexpr std::uint8_t kUnaryRange = 32;

struct Node {
  Op op = Op::kConst;
  std::uint8_t flags = 0;
  Builtin fn = Builtin::kNone;
  NodeIndex a = kNoNode, b = kNoNode, c = kNoNode;
  std::uint32_t first_arg = 0, arg_count = 0;  // a range of Program::args
  std::uint32_t offset = 0, length = 0;        // where the node stands in the text
  std::int64_t number = 0;
};

}  // namespace ordo::expr

namespace ordo {

class CompiledExpression {
 public:
  std::string text;
  std::vector<expr::Node> nodes;
  std::vector<expr::NodeIndex> args;
  std::vector<std::string> names;
  std::vector<nlohmann::json> constants;
  std::vector<expr::Value> temporals;
  expr::NodeIndex root = expr::kNoNode;

  std::string_view span(const expr::Node& n) const noexcept {
    return std::string_view(text).substr(n.offset, n.length);
  }
};

}  // namespace ordo

namespace ordo::expr {

// Helps parsers append nodes while keeping the tree depth bounded.
class Builder {
 public:
  explicit Builder(CompiledExpression& out) : out_(out) {}

  // Appends `n` and returns its index; depth_exceeded() turns true when the tree gets deeper
  // than kMaxTreeDepth.
  NodeIndex add(Node n, std::initializer_list<NodeIndex> children = {});
  NodeIndex add_with_args(Node n, const std::vector<NodeIndex>& args);
  NodeIndex constant(nlohmann::json value, std::uint32_t offset, std::uint32_t length);
  std::uint32_t name(std::string_view s);
  bool depth_exceeded() const noexcept { return depth_exceeded_; }
  Node& at(NodeIndex i) { return out_.nodes[i]; }
  CompiledExpression& program() { return out_; }

 private:
  std::uint32_t depth_of(NodeIndex i) const { return i == kNoNode ? 0 : depth_[i]; }

  CompiledExpression& out_;
  std::vector<std::uint32_t> depth_;
  bool depth_exceeded_ = false;
};

}  // namespace ordo::expr
