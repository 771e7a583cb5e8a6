// FEEL's matches(), replace() and split(): XQuery 1.0 regular expressions (the FEEL
// specification's reference) run by RE2, whose matching time is linear in the input: no
// pattern in a decision can stall the engine on a long field.
#include <memory>
#include <string>
#include <unordered_map>

#include <re2/re2.h>

#include "expr/functions.h"
#include "expr/value.h"

namespace ordo::expr {
namespace {

// Compiled patterns by flags and text: decisions use a handful, evaluated again and again.
// Per thread, so evaluations on several threads share nothing.
constexpr std::size_t kCachedPatterns = 64;

// XQuery's 'x' flag: whitespace in the pattern is removed, except inside a character class.
std::string without_whitespace(std::string_view pattern) {
  std::string out;
  int depth = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      out += c;
      out += pattern[++i];
      continue;
    }
    if (c == '[') ++depth;
    if (c == ']' && depth > 0) --depth;
    if (depth == 0 && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) continue;
    out += c;
  }
  return out;
}

// The pattern compiled with XQuery flags ("s", "m", "i", "x", "q"); null with `why` set when
// the flags or the pattern are not valid.
const RE2* compiled(std::string_view pattern, std::string_view flags, std::string& why) {
  thread_local std::unordered_map<std::string, std::unique_ptr<RE2>> cache;
  std::string key;
  key.reserve(flags.size() + 1 + pattern.size());
  key.append(flags).append(1, '\n').append(pattern);
  if (auto it = cache.find(key); it != cache.end()) return it->second.get();
  RE2::Options options;
  options.set_log_errors(false);
  std::string text(pattern);
  bool multiline = false;
  for (const char f : flags) {
    switch (f) {
      case 's':
        options.set_dot_nl(true);
        break;
      case 'm':
        multiline = true;
        break;
      case 'i':
        options.set_case_sensitive(false);
        break;
      case 'x':
        text = without_whitespace(text);
        break;
      case 'q':
        options.set_literal(true);
        break;
      default:
        why = "unknown flag '" + std::string(1, f) + "': the flags are s, m, i, x and q";
        return nullptr;
    }
  }
  if (multiline && !options.literal()) text = "(?m)" + text;
  auto re = std::make_unique<RE2>(text, options);
  if (!re->ok()) {
    why = "the pattern " + Json(std::string(pattern)).dump() + " is not a regular expression: " +
          re->error();
    return nullptr;
  }
  if (cache.size() >= kCachedPatterns) cache.clear();
  return cache.emplace(std::move(key), std::move(re)).first->second.get();
}

// XQuery's replacement string as an RE2 rewrite: $N is group N (nothing when the pattern has
// no group N), \$ a dollar, \\ a backslash.
bool rewrite_of(std::string_view replacement, int groups, std::string& out, std::string& why) {
  for (std::size_t i = 0; i < replacement.size(); ++i) {
    const char c = replacement[i];
    if (c == '\\') {
      if (i + 1 < replacement.size() && (replacement[i + 1] == '$' || replacement[i + 1] == '\\')) {
        if (replacement[++i] == '\\') out += "\\\\";
        else out += '$';
        continue;
      }
      why = "a backslash in the replacement must be followed by $ or \\";
      return false;
    }
    if (c == '$') {
      if (i + 1 >= replacement.size() || replacement[i + 1] < '0' || replacement[i + 1] > '9') {
        why = "a $ in the replacement must be followed by a group number (write \\$ for a dollar)";
        return false;
      }
      const int group = replacement[++i] - '0';
      if (group <= groups) {
        out += '\\';
        out += replacement[i];
      }
      continue;
    }
    out += c;
  }
  return true;
}

Value matches(std::span<Value> args, const CallSite& site) {
  std::string why;
  const RE2* re = compiled(args[1].str(), args.size() > 2 ? args[2].str() : "", why);
  if (re == nullptr) return null_because(site, "matches(): " + why);
  return Value::boolean(RE2::PartialMatch(args[0].str(), *re));
}

Value replace(std::span<Value> args, const CallSite& site) {
  std::string why;
  const RE2* re = compiled(args[1].str(), args.size() > 3 ? args[3].str() : "", why);
  std::string rewrite;
  if (re == nullptr || !rewrite_of(args[2].str(), re->NumberOfCapturingGroups(), rewrite, why)) {
    return null_because(site, "replace(): " + why);
  }
  if (RE2::FullMatch("", *re)) {
    return null_because(site, "replace(): the pattern " + Json(std::string(args[1].str())).dump() +
                                  " matches the empty string, so it would replace nothing "
                                  "forever");
  }
  std::string out(args[0].str());
  RE2::GlobalReplace(&out, *re, rewrite);
  return Value::owned_string(std::move(out));
}

// split(string, delimiter): the parts between matches of the pattern `delimiter`.
Value split(std::span<Value> args, const CallSite& site) {
  std::string why;
  const RE2* re = compiled(args[1].str(), "", why);
  if (re == nullptr) return null_because(site, "split(): " + why);
  const std::string_view text = args[0].str();
  Json parts = Json::array();
  std::size_t from = 0, search = 0;
  re2::StringPiece match;
  while (search <= text.size() &&
         re->Match(text, search, text.size(), RE2::UNANCHORED, &match, 1)) {
    const std::size_t at = static_cast<std::size_t>(match.data() - text.data());
    if (match.empty()) {  // an empty match splits nothing: move on
      search = at + 1;
      continue;
    }
    parts.push_back(std::string(text.substr(from, at - from)));
    from = search = at + match.size();
  }
  parts.push_back(std::string(text.substr(from)));
  return Value::owned(std::move(parts));
}

}  // namespace

Value regex_function(Builtin fn, std::span<Value> args, const CallSite& site) {
  for (const Value& a : args) {
    if (a.type() != Type::kString) return wrong_type(site, "strings", a);
  }
  switch (fn) {
    case Builtin::kMatches:
      return matches(args, site);
    case Builtin::kReplace:
      return replace(args, site);
    default:
      return split(args, site);
  }
}

}  // namespace ordo::expr
