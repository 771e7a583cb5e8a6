#include "expr/ast.h"

#include <algorithm>

namespace ordo::expr {

NodeIndex Builder::add(Node n, std::initializer_list<NodeIndex> children) {
  std::uint32_t depth = 0;
  for (NodeIndex c : children) depth = std::max(depth, depth_of(c));
  const auto index = static_cast<NodeIndex>(out_.nodes.size());
  out_.nodes.push_back(n);
  depth_.push_back(depth + 1);
  if (depth + 1 > kMaxTreeDepth) depth_exceeded_ = true;
  return index;
}

NodeIndex Builder::add_with_args(Node n, const std::vector<NodeIndex>& args) {
  n.first_arg = static_cast<std::uint32_t>(out_.args.size());
  n.arg_count = static_cast<std::uint32_t>(args.size());
  std::uint32_t depth = 0;
  for (NodeIndex c : args) {
    out_.args.push_back(c);
    depth = std::max(depth, depth_of(c));
  }
  const auto index = static_cast<NodeIndex>(out_.nodes.size());
  out_.nodes.push_back(n);
  depth_.push_back(depth + 1);
  if (depth + 1 > kMaxTreeDepth) depth_exceeded_ = true;
  return index;
}

NodeIndex Builder::constant(nlohmann::json value, std::uint32_t offset, std::uint32_t length) {
  Node n;
  n.op = Op::kConst;
  n.a = static_cast<std::uint32_t>(out_.constants.size());
  n.offset = offset;
  n.length = length;
  out_.constants.push_back(std::move(value));
  return add(n);
}

std::uint32_t Builder::name(std::string_view s) {
  for (std::size_t i = 0; i < out_.names.size(); ++i) {
    if (out_.names[i] == s) return static_cast<std::uint32_t>(i);
  }
  out_.names.emplace_back(s);
  return static_cast<std::uint32_t>(out_.names.size() - 1);
}

}  // namespace ordo::expr
