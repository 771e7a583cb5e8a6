// The parsed XML of one file and what every reader of it needs: namespace resolution by URI
// (prefixes are arbitrary), positions as line and column, and the diagnostics sink.
#pragma once

#include <pugixml.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ordo/definition.h"
#include "ordo/diagnostic.h"

namespace ordo::parse {

// The namespaces the loader understands, identified by URI.
enum class Ns : unsigned char {
  kNone,     // no namespace (unprefixed attributes)
  kOther,    // a namespace Ordo does not know
  kBpmn,     // http://www.omg.org/spec/BPMN/20100524/MODEL
  kBpmnDi,   // http://www.omg.org/spec/BPMN/20100524/DI
  kDc,       // http://www.omg.org/spec/DD/20100524/DC
  kDi,       // http://www.omg.org/spec/DD/20100524/DI
  kZeebe,    // http://camunda.org/schema/zeebe/1.0
  kCamunda,  // http://camunda.org/schema/1.0/bpmn (and Activiti's, which Camunda 7 accepts)
  kModeler,  // http://camunda.org/schema/modeler/1.0
  kXsi,      // http://www.w3.org/2001/XMLSchema-instance
  kDmn,      // DMN 1.1 to 1.5 models (http://www.omg.org/spec/DMN/20151101/dmn.xsd ...
             // https://www.omg.org/spec/DMN/20230324/MODEL/)
};

Ns namespace_of_uri(std::string_view uri) noexcept;

// Maps a byte offset in the source to a 1-based line and column (in characters).
class SourceMap {
 public:
  explicit SourceMap(std::string_view text);
  SourceLocation locate(std::size_t offset) const noexcept;
  // The position of attribute `name` in the start tag that begins at `tag_offset`, or the
  // tag's own position when the attribute is not found there.
  SourceLocation locate_attribute(std::size_t tag_offset, std::string_view name) const noexcept;

 private:
  static constexpr std::size_t kBlock = 4096;
  std::string_view text_;
  std::vector<std::size_t> line_starts_;
  std::vector<std::uint32_t> block_columns_;  // the column at each kBlock-th byte
};

struct QName {
  Ns ns = Ns::kNone;
  std::string_view local;
};

// In-scope namespace declarations while walking the tree. push() at each element, pop()
// when leaving it.
class NamespaceScope {
 public:
  std::size_t push(pugi::xml_node node);
  void pop(std::size_t mark) { decls_.resize(mark); }
  QName element(pugi::xml_node node) const noexcept { return resolve(node.name(), true); }
  QName attribute(pugi::xml_attribute attr) const noexcept { return resolve(attr.name(), false); }
  // Resolves a prefixed value such as xsi:type="bpmn:tFormalExpression".
  QName value(std::string_view qualified) const noexcept { return resolve(qualified, true); }

 private:
  QName resolve(std::string_view qualified, bool use_default) const noexcept;
  struct Decl {
    std::string_view prefix;  // empty: the default namespace
    Ns ns;
  };
  std::vector<Decl> decls_;
};

// One file being loaded: the XML tree, positions, namespaces and diagnostics.
class XmlContext {
 public:
  XmlContext(std::string_view text, std::string file, std::vector<Diagnostic>& out)
      : text_(text), file_(std::move(file)), map_(text), out_(out) {}

  const std::string& file() const noexcept { return file_; }
  NamespaceScope& ns() noexcept { return ns_; }

  SourceLocation location(pugi::xml_node node) const noexcept;
  SourceLocation location(pugi::xml_node node, std::string_view attribute) const noexcept;
  SourceLocation location_of_offset(std::size_t offset) const noexcept {
    return map_.locate(offset);
  }

  // Calls f(child, qname) for each child element of `parent`, with the child's own namespace
  // declarations in scope while f runs. Every walk over children goes through here, so a
  // prefix declared on an inner element is always honoured.
  template <typename F>
  void each_child(pugi::xml_node parent, F&& f) {
    for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element) continue;
      std::size_t mark = ns_.push(c);
      f(c, ns_.element(c));
      ns_.pop(mark);
    }
  }

  void report(SourceLocation at, Severity severity, std::string_view rule, std::string message);
  void error(pugi::xml_node node, std::string_view rule, std::string message) {
    report(location(node), Severity::kError, rule, std::move(message));
  }
  // "complexGateway at line 40 is not supported by Ordo; ...": the one wording for every
  // element Ordo rejects, named by `local` (its name without prefix).
  void unsupported(pugi::xml_node node, std::string_view local) {
    error(node, "unsupported-element",
          std::string(local) + " at line " + std::to_string(location(node).line) +
              " is not supported by Ordo; docs/bpmn-support.md lists what is");
  }
  // An unknown extension is said once per kind of element per file (a modeler's plugin
  // may add one to every task): the first, with how many more there are (finish()).
  void warning(pugi::xml_node node, std::string_view rule, std::string message) {
    if (rule == "unknown-extension") {
      auto [it, fresh] = unknown_kinds_.try_emplace(node.name(), UnknownKind{out_.size(), 0});
      if (!fresh) {
        ++it->second.more;
        return;
      }
    }
    report(location(node), Severity::kWarning, rule, std::move(message));
  }
  // Once the file is read: adds "(and N more like it)" to each such warning.
  void finish();

 private:
  std::size_t tag_offset(pugi::xml_node node) const noexcept;

  std::string_view text_;
  std::string file_;
  SourceMap map_;
  NamespaceScope ns_;
  std::vector<Diagnostic>& out_;
  struct UnknownKind {
    std::size_t diagnostic;  // in out_
    std::size_t more;
  };
  std::map<std::string, UnknownKind, std::less<>> unknown_kinds_;
};

// FNV-1a, 64 bit, as 16 hex digits: identifies a file's content for deployment versions.
std::string content_hash(std::string_view text);

// "'name'" quoted for messages; trims to a readable length.
std::string quote(std::string_view s);


// An attribute's value with surrounding white space trimmed.
std::string_view attr(pugi::xml_node node, const char* name) noexcept;
// The element's text content, trimmed (CDATA included).
std::string_view text_of(pugi::xml_node node) noexcept;
std::string_view trim(std::string_view s) noexcept;

}  // namespace ordo::parse

namespace ordo::parse {

// Ordo parses UTF-8. When `xml` declares Latin-1 (ISO-8859-1), writes its UTF-8 form to `out`
// and returns ""; when it is UTF-8 (or ASCII), leaves `out` empty and returns ""; otherwise
// (UTF-16, UTF-32, other declared encodings) returns a message saying what to change.
std::string to_utf8(std::string_view xml, std::string& out);

}  // namespace ordo::parse
