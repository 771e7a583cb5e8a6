#include "parse/xml_context.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace ordo::parse {

Ns namespace_of_uri(std::string_view uri) noexcept {
  if (uri == "http://www.omg.org/spec/BPMN/20100524/MODEL") return Ns::kBpmn;
  if (uri == "http://www.omg.org/spec/BPMN/20100524/DI") return Ns::kBpmnDi;
  if (uri == "http://www.omg.org/spec/DD/20100524/DC") return Ns::kDc;
  if (uri == "http://www.omg.org/spec/DD/20100524/DI") return Ns::kDi;
  if (uri == "http://camunda.org/schema/zeebe/1.0") return Ns::kZeebe;
  if (uri == "http://camunda.org/schema/1.0/bpmn" || uri == "http://activiti.org/bpmn") {
    return Ns::kCamunda;
  }
  if (uri == "http://camunda.org/schema/modeler/1.0") return Ns::kModeler;
  if (uri == "http://www.w3.org/2001/XMLSchema-instance") return Ns::kXsi;
  for (std::string_view dmn : {"http://www.omg.org/spec/DMN/", "https://www.omg.org/spec/DMN/"}) {
    if (uri.starts_with(dmn) &&
        (uri.ends_with("/MODEL/") || uri.ends_with("/MODEL") || uri.ends_with("/dmn.xsd"))) {
      return Ns::kDmn;
    }
  }
  return Ns::kOther;
}

SourceMap::SourceMap(std::string_view text) : text_(text) {
  line_starts_.reserve(text.size() / 40 + 1);
  line_starts_.push_back(0);
  const char* begin = text.data();
  const char* end = begin + text.size();
  for (const char* p = begin; p < end;) {
    const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    if (!nl) break;
    p = static_cast<const char*>(nl) + 1;
    line_starts_.push_back(static_cast<std::size_t>(p - begin));
  }
  // The column at each block start, so that locating counts at most one block of a long
  // line (a file on one line would otherwise take time quadratic in its length).
  block_columns_.reserve(text.size() / kBlock + 1);
  std::uint32_t column = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i % kBlock == 0) block_columns_.push_back(column);
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++column;
    }
  }
}

SourceLocation SourceMap::locate(std::size_t offset) const noexcept {
  offset = std::min(offset, text_.size());
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  std::size_t line = static_cast<std::size_t>(it - line_starts_.begin());  // 1-based
  std::size_t start = line_starts_[line - 1];
  std::uint32_t column = 1;
  if (const std::size_t block = offset / kBlock; block * kBlock > start) {
    start = block * kBlock;
    column = block_columns_[block];
  }
  for (std::size_t i = start; i < offset; ++i) {
    // Count characters, not bytes: skip UTF-8 continuation bytes.
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
  }
  return {static_cast<std::uint32_t>(line), column};
}

SourceLocation SourceMap::locate_attribute(std::size_t tag_offset,
                                           std::string_view name) const noexcept {
  // Walks the start tag attribute by attribute, skipping quoted values, so neither a '>' nor
  // an attribute name inside a value can mislead it.
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  const std::size_t n = text_.size();
  std::size_t i = tag_offset;
  if (i >= n || text_[i] != '<') return locate(tag_offset);
  ++i;
  while (i < n && !space(text_[i]) && text_[i] != '>' && text_[i] != '/') ++i;
  while (i < n) {
    while (i < n && space(text_[i])) ++i;
    if (i >= n || text_[i] == '>' || text_[i] == '/') break;
    std::size_t start = i;
    while (i < n && !space(text_[i]) && text_[i] != '=' && text_[i] != '>') ++i;
    std::string_view attribute = text_.substr(start, i - start);
    while (i < n && space(text_[i])) ++i;
    if (i >= n || text_[i] != '=') break;
    ++i;
    while (i < n && space(text_[i])) ++i;
    if (i >= n || (text_[i] != '"' && text_[i] != '\'')) break;
    std::size_t close = text_.find(text_[i], i + 1);
    if (close == std::string_view::npos) break;
    if (attribute == name) return locate(start);
    i = close + 1;
  }
  return locate(tag_offset);
}

std::size_t NamespaceScope::push(pugi::xml_node node) {
  std::size_t mark = decls_.size();
  for (pugi::xml_attribute a : node.attributes()) {
    const char* n = a.name();
    if (n[0] != 'x' || std::strncmp(n, "xmlns", 5) != 0) continue;
    if (n[5] == '\0') {
      decls_.push_back({std::string_view(), namespace_of_uri(a.value())});
    } else if (n[5] == ':') {
      decls_.push_back({std::string_view(n + 6), namespace_of_uri(a.value())});
    }
  }
  return mark;
}

QName NamespaceScope::resolve(std::string_view qualified, bool use_default) const noexcept {
  std::size_t colon = qualified.find(':');
  std::string_view prefix;
  QName out;
  if (colon == std::string_view::npos) {
    out.local = qualified;
    if (!use_default) return out;  // unprefixed attributes have no namespace
  } else {
    prefix = qualified.substr(0, colon);
    out.local = qualified.substr(colon + 1);
    if (prefix == "xml") {
      out.ns = Ns::kOther;
      return out;
    }
  }
  for (auto it = decls_.rbegin(); it != decls_.rend(); ++it) {
    if (it->prefix == prefix) {
      out.ns = it->ns;
      return out;
    }
  }
  out.ns = prefix.empty() ? Ns::kNone : Ns::kOther;
  return out;
}

std::size_t XmlContext::tag_offset(pugi::xml_node node) const noexcept {
  std::ptrdiff_t off = node.offset_debug();
  if (off <= 0) return 0;
  // pugixml reports the offset of the element's name; point at its '<'.
  auto o = static_cast<std::size_t>(off);
  return (o > 0 && o <= text_.size() && text_[o - 1] == '<') ? o - 1 : o;
}

SourceLocation XmlContext::location(pugi::xml_node node) const noexcept {
  if (node.type() != pugi::node_element) {
    std::ptrdiff_t off = node.offset_debug();
    return map_.locate(off < 0 ? 0 : static_cast<std::size_t>(off));
  }
  return map_.locate(tag_offset(node));
}

SourceLocation XmlContext::location(pugi::xml_node node,
                                    std::string_view attribute) const noexcept {
  return map_.locate_attribute(tag_offset(node), attribute);
}

void XmlContext::report(SourceLocation at, Severity severity, std::string_view rule,
                        std::string message) {
  out_.push_back(
      Diagnostic{file_, at.line, at.column, severity, std::string(rule), std::move(message)});
}

void XmlContext::finish() {
  for (const auto& [kind, seen] : unknown_kinds_) {
    if (seen.more == 0) continue;
    out_[seen.diagnostic].message += " (and " + std::to_string(seen.more) + " more " +
                                     (seen.more == 1 ? "like it" : "like them") +
                                     " in this file)";
  }
  unknown_kinds_.clear();
}

std::string quote(std::string_view s) {
  constexpr std::size_t kMax = 80;
  std::string out = "'";
  if (s.size() > kMax) {
    out.append(s.substr(0, kMax));
    out += "...";
  } else {
    out.append(s);
  }
  out += '\'';
  return out;
}

std::string_view trim(std::string_view s) noexcept {
  constexpr std::string_view kSpace = " \t\r\n";
  std::size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  std::size_t e = s.find_last_not_of(kSpace);
  return s.substr(b, e - b + 1);
}

std::string_view attr(pugi::xml_node node, const char* name) noexcept {
  return trim(node.attribute(name).value());
}

std::string_view text_of(pugi::xml_node node) noexcept {
  for (pugi::xml_node c : node.children()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
      std::string_view t = trim(c.value());
      if (!t.empty()) return t;
    }
  }
  return {};
}

}  // namespace ordo::parse

namespace ordo::parse {

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

std::string to_utf8(std::string_view xml, std::string& out) {
  auto starts = [&](std::string_view prefix) { return xml.substr(0, prefix.size()) == prefix; };
  using namespace std::string_view_literals;
  if (starts("\xEF\xBB\xBF"sv)) return {};
  if (starts("\xFE\xFF"sv) || starts("\xFF\xFE"sv) || starts("\x00<"sv) || starts("<\x00"sv) ||
      starts("\x00\x00\xFE\xFF"sv)) {
    return "the file is UTF-16 or UTF-32; save it as UTF-8";
  }
  if (!starts("<?xml")) return {};
  std::size_t end = xml.find("?>");
  if (end == std::string_view::npos) return {};
  std::string_view decl = xml.substr(0, end);
  std::size_t at = decl.find("encoding");
  if (at == std::string_view::npos) return {};
  std::size_t open = decl.find_first_of("\"'", at);
  if (open == std::string_view::npos) return {};
  std::size_t close = decl.find(decl[open], open + 1);
  if (close == std::string_view::npos) return {};
  std::string encoding = lower(decl.substr(open + 1, close - open - 1));
  if (encoding == "utf-8" || encoding == "utf8" || encoding == "us-ascii" || encoding == "ascii") {
    return {};
  }
  if (encoding == "iso-8859-1" || encoding == "latin1" || encoding == "latin-1" ||
      encoding == "iso8859-1" || encoding == "iso_8859-1") {
    out.reserve(xml.size() + xml.size() / 8);
    for (char ch : xml) {
      auto c = static_cast<unsigned char>(ch);
      if (c < 0x80) {
        out += ch;
      } else {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
      }
    }
    return {};
  }
  return "the file declares encoding " + quote(encoding) +
         ", which Ordo does not read; save it as UTF-8";
}


// FNV-1a, 64 bit, as 16 hex digits: identifies a file's content for deployment versions.
std::string content_hash(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    h ^= c;
    h *= 1099511628211ull;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = kHex[h & 15u];
  return out;
}

}  // namespace ordo::parse
