// Loading DMN XML: definitions of one or more files into a DecisionModel, every FEEL text
// compiled, every requirement resolved. Problems are diagnostics at file:line:col with a
// rule id (docs/dmn.md lists them); a model with errors is not returned.
#include <algorithm>
#include <cctype>
#include <optional>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <pugixml.hpp>

#include "dmn/model.h"
#include "expr/expr.h"
#include "parse/xml_context.h"
#include "util/spelling.h"

namespace ordo {
namespace dmn {
namespace {

using parse::Ns;
using parse::QName;
using parse::XmlContext;

constexpr int kMaxBoxedDepth = 32;

// A name FEEL cannot spell without knowing it: spaces or operator characters inside.
bool needs_known(std::string_view name) {
  return name.find_first_of(" \t./-'+*") != std::string_view::npos;
}

// "feel:number" / "number" / "tns:tLoan" as the name it stands for.
std::string type_name_of(std::string_view ref) {
  ref = parse::trim(ref);
  if (const std::size_t colon = ref.find(':'); colon != std::string_view::npos) {
    ref = ref.substr(colon + 1);
  }
  return std::string(ref);
}

// "#id" or "namespace#id": the namespace (empty when local) and the id.
std::pair<std::string, std::string> split_href(std::string_view href) {
  href = parse::trim(href);
  const std::size_t hash = href.rfind('#');
  if (hash == std::string_view::npos) return {std::string(), std::string(href)};
  return {std::string(href.substr(0, hash)), std::string(href.substr(hash + 1))};
}

// Whether an element (by local name) is a boxed expression, not a description or extension.
// A FEEL function definition written as a literal expression, "function(a, b: number) a + b":
// its parameters and the text of its body. nullopt for any other text (which then compiles,
// or fails to, as FEEL).
struct LiteralFunction {
  std::vector<Parameter> parameters;
  std::string_view body;
};

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

std::optional<LiteralFunction> literal_function(std::string_view text) {
  text = trim_spaces(text);
  if (!text.starts_with("function")) return std::nullopt;
  std::string_view rest = trim_spaces(text.substr(8));
  if (!rest.starts_with('(')) return std::nullopt;
  const std::size_t close = rest.find(')');
  if (close == std::string_view::npos) return std::nullopt;
  LiteralFunction out;
  std::string_view params = rest.substr(1, close - 1);
  while (!trim_spaces(params).empty()) {
    std::size_t comma = std::string_view::npos;  // the next one outside a type's <...>
    for (std::size_t i = 0, depth = 0; i < params.size(); ++i) {
      if (params[i] == '<') ++depth;
      if (params[i] == '>' && depth > 0) --depth;
      if (params[i] == ',' && depth == 0) {
        comma = i;
        break;
      }
    }
    std::string_view one = params.substr(0, comma);
    const std::size_t colon = one.find(':');
    Parameter p;
    p.name = std::string(trim_spaces(one.substr(0, colon)));
    if (colon != std::string_view::npos) p.type_ref = std::string(trim_spaces(one.substr(colon + 1)));
    if (p.name.empty()) return std::nullopt;
    out.parameters.push_back(std::move(p));
    if (comma == std::string_view::npos) break;
    params.remove_prefix(comma + 1);
  }
  out.body = trim_spaces(rest.substr(close + 1));
  if (out.body.empty() || out.body.starts_with("external")) return std::nullopt;
  return out;
}

bool is_boxed(std::string_view local) {
  static constexpr std::string_view kBoxed[] = {
      "literalExpression", "decisionTable", "context",     "invocation", "list",
      "relation",          "functionDefinition", "conditional", "filter", "for",
      "some",              "every"};
  return std::find(std::begin(kBoxed), std::end(kBoxed), local) != std::end(kBoxed);
}

// Whether an expressionLanguage attribute names FEEL (any DMN version's URI, or "feel").
bool is_feel(std::string_view lang) {
  if (lang.empty()) return true;
  std::string lower(lang);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("feel") != std::string::npos;
}

// One file being read.
struct File {
  std::string name;
  std::string text;  // UTF-8
  pugi::xml_document tree;
  std::unique_ptr<XmlContext> x;
  pugi::xml_node root;
  std::string ns;
};

// A requirement to resolve once every file is read.
struct Href {
  std::string ns;  // empty: the file's own
  std::string id;
  pugi::xml_node at;
  File* file;
};

class Reader {
 public:
  Reader(DecisionModel& m, std::vector<Diagnostic>& out) : m_(m), out_(out) {}

  // How many errors were found inside decisions and knowledge models (which
  // keep_invalid_decisions keeps).
  std::size_t kept_errors = 0;

  void read(std::vector<File>& files);

 private:
  // Pass 1: the names FEEL must know, and the item definitions.
  void collect_names(File& f);
  void add_known(std::string name) {
    if (needs_known(name)) m_.known_names.push_back(std::move(name));
  }
  void collect_boxed_names(File& f, pugi::xml_node node, int depth);

  // Pass 2.
  void read_definitions(File& f);
  // What every element of the definitions has: id, name, and where it is.
  template <typename T>
  static void read_header(File& f, pugi::xml_node node, T& out) {
    out.id = std::string(parse::attr(node, "id"));
    out.name = std::string(parse::attr(node, "name"));
    out.ns = f.ns;
    out.file = f.name;
    out.at = f.x->location(node);
  }
  bool read_item(File& f, pugi::xml_node node, ItemDefinition& out, int depth);
  void read_decision(File& f, pugi::xml_node node);
  void read_knowledge(File& f, pugi::xml_node node);
  void read_service(File& f, pugi::xml_node node);
  // Reads the boxed expression among the children of `parent` (the first element that is
  // one). Returns false when there is none.
  bool read_boxed_child(File& f, pugi::xml_node parent, Boxed& out, int depth);
  bool read_boxed(File& f, pugi::xml_node node, std::string_view local, Boxed& out, int depth);
  void read_table(File& f, pugi::xml_node node, DecisionTable& t);
  void read_parameters(File& f, pugi::xml_node node, std::vector<Parameter>& out);

  // Compiles the text of `node`'s <text> child (or of `node` itself when it is a text).
  Program compile_text(File& f, pugi::xml_node node, std::string_view what, bool tests,
                       std::string_view language = {});
  Program compile(File& f, pugi::xml_node at, std::string_view text, std::string_view what,
                  bool tests, std::string_view language);

  void resolve();
  std::optional<std::size_t> find(const std::vector<std::pair<std::string, std::string>>& ids,
                                  const Href& h, std::string_view kind);

  // The children of `node` in the DMN namespace, with their local names.
  template <typename F>
  void each_dmn(File& f, pugi::xml_node node, F&& fn) {
    f.x->each_child(node, [&](pugi::xml_node c, QName q) {
      if (q.ns == Ns::kDmn) fn(c, q.local);
    });
  }
  pugi::xml_node dmn_child(File& f, pugi::xml_node node, std::string_view local) {
    pugi::xml_node found;
    each_dmn(f, node, [&](pugi::xml_node c, std::string_view l) {
      if (!found && l == local) found = c;
    });
    return found;
  }
  std::string_view text_child(File& f, pugi::xml_node node) {
    pugi::xml_node t = dmn_child(f, node, "text");
    return t ? parse::text_of(t) : std::string_view();
  }

  // The first error reported since out_ held `before` diagnostics, formatted; counted.
  std::string first_error(std::size_t before) {
    std::string first;
    for (std::size_t k = before; k < out_.size(); ++k) {
      if (out_[k].severity != Severity::kError) continue;
      ++kept_errors;
      if (first.empty()) first = format_diagnostic(out_[k]);
    }
    return first;
  }

  DecisionModel& m_;
  std::vector<Diagnostic>& out_;
  // Requirements per element, resolved after all files.
  struct Pending {
    std::vector<Href> decisions, inputs, knowledge;
  };
  std::vector<Pending> decision_reqs_;
  struct ServiceRefs {
    std::vector<Href> outputs, input_decisions, input_data;
  };
  std::vector<ServiceRefs> service_refs_;
};

void Reader::read(std::vector<File>& files) {
  for (File& f : files) collect_names(f);
  // Longest first, so a name that extends another wins when both fit.
  std::sort(m_.known_names.begin(), m_.known_names.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  m_.known_names.erase(std::unique(m_.known_names.begin(), m_.known_names.end()),
                       m_.known_names.end());
  for (File& f : files) read_definitions(f);
  resolve();
}

void Reader::collect_names(File& f) {
  each_dmn(f, f.root, [&](pugi::xml_node c, std::string_view local) {
    const std::string name(parse::attr(c, "name"));
    if (local == "inputData" || local == "decision" || local == "businessKnowledgeModel" ||
        local == "decisionService") {
      add_known(name);
      if (local == "businessKnowledgeModel" || local == "decisionService") {
        m_.function_names.push_back(name);
      }
      if (local == "businessKnowledgeModel") {
        if (pugi::xml_node logic = dmn_child(f, c, "encapsulatedLogic")) {
          collect_boxed_names(f, logic, 0);
        }
      } else if (local == "decision") {
        collect_boxed_names(f, c, 0);
      }
    } else if (local == "itemDefinition") {
      collect_boxed_names(f, c, 0);
    }
  });
}

// Context entry names, parameters, item components and relation columns anywhere below.
void Reader::collect_boxed_names(File& f, pugi::xml_node node, int depth) {
  if (depth > kMaxBoxedDepth) return;
  each_dmn(f, node, [&](pugi::xml_node c, std::string_view local) {
    if (local == "variable" || local == "formalParameter" || local == "itemComponent" ||
        local == "column" || local == "parameter") {
      add_known(std::string(parse::attr(c, "name")));
    }
    if (local == "output") add_known(std::string(parse::attr(c, "name")));
    if (local == "for" || local == "some" || local == "every") {
      add_known(std::string(parse::attr(c, "iteratorVariable")));
    }
    if (local == "contextEntry") {
      const pugi::xml_node literal = dmn_child(f, c, "literalExpression");
      const pugi::xml_node text = literal ? dmn_child(f, literal, "text") : pugi::xml_node();
      std::optional<LiteralFunction> fn;
      if (text) fn = literal_function(parse::text_of(text));
      if (fn) {
        for (const Parameter& p : fn->parameters) add_known(p.name);
      }
      if (fn || dmn_child(f, c, "functionDefinition")) {
        if (pugi::xml_node v = dmn_child(f, c, "variable")) {
          m_.function_names.emplace_back(parse::attr(v, "name"));
        }
      }
    }
    collect_boxed_names(f, c, depth + 1);
  });
}

Program Reader::compile(File& f, pugi::xml_node at, std::string_view text, std::string_view what,
                        bool tests, std::string_view language) {
  ExpressionDialect dialect = ExpressionDialect::kFeel;
  std::string lower(language);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "juel" && !tests) {
    dialect = ExpressionDialect::kJuel;
  } else if (!is_feel(language)) {
    f.x->error(at, "unsupported-expression-language",
               std::string(what) + " is written in " + parse::quote(language) +
                   "; Ordo evaluates FEEL (and JUEL for Camunda 7 expressions): rewrite it in "
                   "FEEL");
    return nullptr;
  }
  expr::CompileOptions options;
  options.known_names = m_.known_names;
  options.functions = m_.function_names;
  options.unary_tests = tests;
  options.user_functions = true;
  auto compiled = expr::compile(dialect, text, options);
  if (auto* ok = std::get_if<std::shared_ptr<const CompiledExpression>>(&compiled)) {
    return std::move(*ok);
  }
  const auto& err = std::get<expr::CompileError>(compiled);
  f.x->error(at, "feel-syntax",
             std::string(what) + " " + parse::quote(text) + " does not compile (at character " +
                 std::to_string(err.offset + 1) + "): " + err.message);
  return nullptr;
}

Program Reader::compile_text(File& f, pugi::xml_node node, std::string_view what, bool tests,
                             std::string_view language) {
  pugi::xml_node t = dmn_child(f, node, "text");
  if (!t) return nullptr;
  std::string_view text = parse::text_of(t);
  if (text.empty()) return nullptr;
  if (language.empty()) language = parse::attr(node, "expressionLanguage");
  return compile(f, t, text, what, tests, language);
}

void Reader::read_definitions(File& f) {
  each_dmn(f, f.root, [&](pugi::xml_node c, std::string_view local) {
    if (local == "itemDefinition") {
      ItemDefinition def;
      if (read_item(f, c, def, 0)) m_.types.push_back(std::move(def));
    } else if (local == "inputData") {
      InputData in;
      read_header(f, c, in);
      if (pugi::xml_node v = dmn_child(f, c, "variable")) {
        in.type_ref = type_name_of(parse::attr(v, "typeRef"));
      }
      if (in.name.empty()) {
        f.x->error(c, "missing-name", "this inputData has no name: give it one, it is how "
                                      "expressions and callers refer to it");
      }
      m_.inputs.push_back(std::move(in));
    } else if (local == "decision") {
      const std::size_t before = out_.size();
      read_decision(f, c);
      m_.decisions.back().invalid = first_error(before);
    } else if (local == "businessKnowledgeModel") {
      const std::size_t before = out_.size();
      read_knowledge(f, c);
      m_.knowledge.back().invalid = first_error(before);
    } else if (local == "decisionService") {
      read_service(f, c);
    }
  });
}

bool Reader::read_item(File& f, pugi::xml_node node, ItemDefinition& out, int depth) {
  if (depth > kMaxBoxedDepth) {
    f.x->error(node, "nesting-too-deep", "item definitions nest too deeply");
    return false;
  }
  out.name = std::string(parse::attr(node, "name"));
  out.is_collection = parse::attr(node, "isCollection") == "true";
  if (pugi::xml_node t = dmn_child(f, node, "typeRef")) out.type_ref = type_name_of(parse::text_of(t));
  if (out.type_ref.empty()) out.type_ref = type_name_of(parse::attr(node, "typeRef"));
  if (pugi::xml_node allowed = dmn_child(f, node, "allowedValues")) {
    out.allowed_values =
        compile_text(f, allowed, "the allowed values of " + parse::quote(out.name), true);
  }
  bool ok = true;
  each_dmn(f, node, [&](pugi::xml_node c, std::string_view local) {
    if (local != "itemComponent") return;
    ItemDefinition component;
    if (read_item(f, c, component, depth + 1)) {
      out.components.push_back(std::move(component));
    } else {
      ok = false;
    }
  });
  return ok;
}

void Reader::read_parameters(File& f, pugi::xml_node node, std::vector<Parameter>& out) {
  each_dmn(f, node, [&](pugi::xml_node c, std::string_view local) {
    if (local != "formalParameter") return;
    out.push_back(Parameter{std::string(parse::attr(c, "name")),
                            type_name_of(parse::attr(c, "typeRef"))});
  });
}

void Reader::read_decision(File& f, pugi::xml_node node) {
  Decision d;
  read_header(f, node, d);
  if (pugi::xml_node v = dmn_child(f, node, "variable")) {
    d.type_ref = type_name_of(parse::attr(v, "typeRef"));
  }
  Pending reqs;
  each_dmn(f, node, [&](pugi::xml_node c, std::string_view local) {
    if (local == "informationRequirement") {
      each_dmn(f, c, [&](pugi::xml_node r, std::string_view kind) {
        auto [ns, id] = split_href(parse::attr(r, "href"));
        Href h{std::move(ns), std::move(id), r, &f};
        if (kind == "requiredDecision") reqs.decisions.push_back(std::move(h));
        if (kind == "requiredInput") reqs.inputs.push_back(std::move(h));
      });
    } else if (local == "knowledgeRequirement") {
      if (pugi::xml_node r = dmn_child(f, c, "requiredKnowledge")) {
        auto [ns, id] = split_href(parse::attr(r, "href"));
        reqs.knowledge.push_back(Href{std::move(ns), std::move(id), r, &f});
      }
    }
  });
  d.has_expression = read_boxed_child(f, node, d.expression, 0);
  if (d.expression.type_ref.empty()) d.expression.type_ref = d.type_ref;
  if (d.name.empty()) {
    f.x->error(node, "missing-name",
               "this decision has no name: give it one, it is how callers and other decisions "
               "refer to it");
  }
  m_.decisions.push_back(std::move(d));
  decision_reqs_.push_back(std::move(reqs));
}

void Reader::read_knowledge(File& f, pugi::xml_node node) {
  Knowledge k;
  read_header(f, node, k);
  if (pugi::xml_node logic = dmn_child(f, node, "encapsulatedLogic")) {
    read_parameters(f, logic, k.parameters);
    auto body = std::make_unique<Boxed>();
    if (read_boxed_child(f, logic, *body, 0)) k.body = std::move(body);
    const std::string_view kind = parse::attr(logic, "kind");
    if (!kind.empty() && kind != "FEEL") {
      f.x->error(logic, "unsupported-function-kind",
                 "business knowledge model " + parse::quote(k.name) + " is of kind " +
                     parse::quote(kind) + "; Ordo runs FEEL functions only");
    }
  }
  m_.knowledge.push_back(std::move(k));
}

void Reader::read_service(File& f, pugi::xml_node node) {
  DecisionService s;
  read_header(f, node, s);
  ServiceRefs refs;
  each_dmn(f, node, [&](pugi::xml_node c, std::string_view local) {
    auto [ns, id] = split_href(parse::attr(c, "href"));
    Href h{std::move(ns), std::move(id), c, &f};
    if (local == "outputDecision") refs.outputs.push_back(std::move(h));
    if (local == "inputDecision") refs.input_decisions.push_back(std::move(h));
    if (local == "inputData") refs.input_data.push_back(std::move(h));
  });
  m_.services.push_back(std::move(s));
  service_refs_.push_back(std::move(refs));
}

bool Reader::read_boxed_child(File& f, pugi::xml_node parent, Boxed& out, int depth) {
  bool found = false;
  each_dmn(f, parent, [&](pugi::xml_node c, std::string_view local) {
    if (found) return;
    if (!is_boxed(local)) return;
    found = true;
    read_boxed(f, c, local, out, depth);
  });
  return found;
}

bool Reader::read_boxed(File& f, pugi::xml_node node, std::string_view local, Boxed& out,
                        int depth) {
  if (depth > kMaxBoxedDepth) {
    f.x->error(node, "nesting-too-deep",
               "boxed expressions nest deeper than " + std::to_string(kMaxBoxedDepth) +
                   " levels; split the logic into decisions or knowledge models");
    return false;
  }
  out.at = f.x->location(node);
  if (out.type_ref.empty()) out.type_ref = type_name_of(parse::attr(node, "typeRef"));
  if (local == "literalExpression") {
    // "function(a, b) a + b" in a context entry: a function its later entries can call, as a
    // functionDefinition would be.
    const pugi::xml_node t = dmn_child(f, node, "text");
    if (std::optional<LiteralFunction> fn = literal_function(t ? parse::text_of(t) : "")) {
      out.kind = Boxed::Kind::kFunction;
      out.parameters = std::move(fn->parameters);
      out.body = std::make_unique<Boxed>();
      out.body->at = out.at;
      out.body->kind = Boxed::Kind::kLiteral;
      out.body->literal = compile(f, t, fn->body, "the function's body", false,
                                  parse::attr(node, "expressionLanguage"));
      return true;
    }
    out.kind = Boxed::Kind::kLiteral;
    out.literal = compile_text(f, node, "the expression", false);
    return true;
  }
  if (local == "decisionTable") {
    out.kind = Boxed::Kind::kDecisionTable;
    out.table = std::make_unique<DecisionTable>();
    read_table(f, node, *out.table);
    return true;
  }
  if (local == "context") {
    out.kind = Boxed::Kind::kContext;
    each_dmn(f, node, [&](pugi::xml_node c, std::string_view l) {
      if (l != "contextEntry") return;
      Entry e;
      if (pugi::xml_node v = dmn_child(f, c, "variable")) {
        e.name = std::string(parse::attr(v, "name"));
      }
      e.value = std::make_unique<Boxed>();
      if (pugi::xml_node v = dmn_child(f, c, "variable")) {
        e.value->type_ref = type_name_of(parse::attr(v, "typeRef"));
      }
      if (!read_boxed_child(f, c, *e.value, depth + 1)) e.value->kind = Boxed::Kind::kLiteral;
      out.entries.push_back(std::move(e));
    });
    return true;
  }
  if (local == "invocation") {
    out.kind = Boxed::Kind::kInvocation;
    if (pugi::xml_node callee = dmn_child(f, node, "literalExpression")) {
      out.callee = std::string(text_child(f, callee));
    }
    if (out.callee.empty()) {
      f.x->error(node, "invocation-without-function",
                 "this invocation names no function: its first child must be a "
                 "literalExpression with the name of a business knowledge model");
    }
    each_dmn(f, node, [&](pugi::xml_node c, std::string_view l) {
      if (l != "binding") return;
      Entry e;
      if (pugi::xml_node p = dmn_child(f, c, "parameter")) {
        e.name = std::string(parse::attr(p, "name"));
      }
      e.value = std::make_unique<Boxed>();
      if (!read_boxed_child(f, c, *e.value, depth + 1)) e.value->kind = Boxed::Kind::kLiteral;
      out.entries.push_back(std::move(e));
    });
    return true;
  }
  if (local == "list") {
    out.kind = Boxed::Kind::kList;
    each_dmn(f, node, [&](pugi::xml_node c, std::string_view l) {
      Boxed item;
      if (is_boxed(l) && read_boxed(f, c, l, item, depth + 1)) out.items.push_back(std::move(item));
    });
    return true;
  }
  if (local == "relation") {
    out.kind = Boxed::Kind::kRelation;
    each_dmn(f, node, [&](pugi::xml_node c, std::string_view l) {
      if (l == "column") out.columns.push_back(std::string(parse::attr(c, "name")));
      if (l != "row") return;
      std::vector<Boxed> row;
      each_dmn(f, c, [&](pugi::xml_node cell, std::string_view cl) {
        Boxed b;
        if (is_boxed(cl) && read_boxed(f, cell, cl, b, depth + 1)) row.push_back(std::move(b));
      });
      if (row.size() != out.columns.size()) {
        f.x->error(c, "relation-row-size",
                   "this row has " + std::to_string(row.size()) + " cells but the relation has " +
                       std::to_string(out.columns.size()) + " columns");
      }
      out.rows.push_back(std::move(row));
    });
    return true;
  }
  // DMN 1.5's boxed conditional, filter and iterators: their parts, each a boxed expression.
  using Parts = std::initializer_list<std::string_view>;
  const auto parts = [&](Boxed::Kind kind, Parts names) {
    out.kind = kind;
    out.iterator = std::string(parse::attr(node, "iteratorVariable"));
    for (std::string_view part : names) {
      Boxed& b = out.items.emplace_back();
      const pugi::xml_node holder = dmn_child(f, node, part);
      if (!holder) {
        f.x->error(node, "missing-part",
                   "the " + std::string(local) + " has no <" + std::string(part) + ">");
        return false;
      }
      if (!read_boxed_child(f, holder, b, depth + 1)) {
        f.x->error(holder, "missing-part",
                   "<" + std::string(part) + "> holds no expression");
        return false;
      }
    }
    if ((kind == Boxed::Kind::kFor || kind == Boxed::Kind::kSome ||
         kind == Boxed::Kind::kEvery) && out.iterator.empty()) {
      f.x->error(node, "missing-iterator-variable",
                 "the " + std::string(local) + " names no iteratorVariable");
      return false;
    }
    return true;
  };
  if (local == "conditional") return parts(Boxed::Kind::kConditional, {"if", "then", "else"});
  if (local == "filter") return parts(Boxed::Kind::kFilter, {"in", "match"});
  if (local == "for") return parts(Boxed::Kind::kFor, {"in", "return"});
  if (local == "some") return parts(Boxed::Kind::kSome, {"in", "satisfies"});
  if (local == "every") return parts(Boxed::Kind::kEvery, {"in", "satisfies"});
  if (local == "functionDefinition") {
    out.kind = Boxed::Kind::kFunction;
    read_parameters(f, node, out.parameters);
    out.body = std::make_unique<Boxed>();
    if (!read_boxed_child(f, node, *out.body, depth + 1)) out.body->kind = Boxed::Kind::kLiteral;
    const std::string_view kind = parse::attr(node, "kind");
    if (!kind.empty() && kind != "FEEL") {
      f.x->error(node, "unsupported-function-kind",
                 "a function of kind " + parse::quote(kind) + "; Ordo runs FEEL functions only");
    }
    return true;
  }
  f.x->error(node, "unsupported-boxed-expression",
             "the boxed expression " + std::string(local) +
                 " is not supported yet; write it as a literal FEEL expression "
                 "(docs/dmn.md lists what is supported)");
  return false;
}

void Reader::read_table(File& f, pugi::xml_node node, DecisionTable& t) {
  const std::string_view hit = parse::attr(node, "hitPolicy");
  if (hit.empty() || hit == "UNIQUE") {
    t.hit = HitPolicy::kUnique;
  } else if (hit == "FIRST") {
    t.hit = HitPolicy::kFirst;
  } else if (hit == "PRIORITY") {
    t.hit = HitPolicy::kPriority;
  } else if (hit == "ANY") {
    t.hit = HitPolicy::kAny;
  } else if (hit == "COLLECT") {
    t.hit = HitPolicy::kCollect;
  } else if (hit == "RULE ORDER") {
    t.hit = HitPolicy::kRuleOrder;
  } else if (hit == "OUTPUT ORDER") {
    t.hit = HitPolicy::kOutputOrder;
  } else {
    f.x->report(f.x->location(node, "hitPolicy"), Severity::kError, "unknown-hit-policy",
                "hit policy " + parse::quote(hit) +
                    " is not one of UNIQUE, FIRST, PRIORITY, ANY, COLLECT, RULE ORDER, "
                    "OUTPUT ORDER");
  }
  const std::string_view agg = parse::attr(node, "aggregation");
  if (agg == "SUM") t.aggregation = Aggregation::kSum;
  if (agg == "MIN") t.aggregation = Aggregation::kMin;
  if (agg == "MAX") t.aggregation = Aggregation::kMax;
  if (agg == "COUNT") t.aggregation = Aggregation::kCount;
  if (!agg.empty() && t.aggregation == Aggregation::kNone) {
    f.x->report(f.x->location(node, "aggregation"), Severity::kError, "unknown-aggregation",
                "aggregation " + parse::quote(agg) + " is not one of SUM, MIN, MAX, COUNT");
  }
  if (t.aggregation != Aggregation::kNone && t.hit != HitPolicy::kCollect) {
    f.x->report(f.x->location(node, "aggregation"), Severity::kError, "aggregation-without-collect",
                "an aggregation needs hit policy COLLECT");
  }
  each_dmn(f, node, [&](pugi::xml_node c, std::string_view local) {
    if (local == "input") {
      DecisionTable::Input in;
      in.label = std::string(parse::attr(c, "label"));
      if (pugi::xml_node e = dmn_child(f, c, "inputExpression")) {
        in.type_ref = type_name_of(parse::attr(e, "typeRef"));
        if (in.label.empty()) in.label = std::string(text_child(f, e));
        in.expression = compile_text(f, e, "the input expression", false);
      }
      if (!in.expression) {
        f.x->error(c, "missing-input-expression",
                   "this input has no inputExpression text: write what it reads, e.g. "
                   "<inputExpression><text>order total</text></inputExpression>");
      }
      if (pugi::xml_node v = dmn_child(f, c, "inputValues")) {
        in.values = compile_text(f, v, "the input values", true);
      }
      t.inputs.push_back(std::move(in));
    } else if (local == "output") {
      DecisionTable::Output out;
      out.name = std::string(parse::attr(c, "name"));
      out.type_ref = type_name_of(parse::attr(c, "typeRef"));
      if (pugi::xml_node v = dmn_child(f, c, "outputValues")) {
        out.values = compile_text(f, v, "the output values", true);
        // The constants in order, for PRIORITY and OUTPUT ORDER.
        const std::string_view text = text_child(f, v);
        if (!text.empty()) {
          auto list = expr::compile(ExpressionDialect::kFeel, "[" + std::string(text) + "]");
          if (auto* ok = std::get_if<std::shared_ptr<const CompiledExpression>>(&list)) {
            if (auto r = expr::evaluate_typed(**ok, expr::Context{}); r && r->is_array()) {
              for (auto& j : *r) out.priorities.push_back(std::move(j));
            }
          }
        }
      }
      if (pugi::xml_node d = dmn_child(f, c, "defaultOutputEntry")) {
        out.default_entry = compile_text(f, d, "the default output", false);
      }
      t.outputs.push_back(std::move(out));
    } else if (local == "rule") {
      DecisionTable::Rule r;
      r.id = std::string(parse::attr(c, "id"));
      r.line = f.x->location(c).line;
      std::size_t inputs = 0, outputs = 0;
      each_dmn(f, c, [&](pugi::xml_node e, std::string_view l) {
        if (l == "inputEntry") {
          ++inputs;
          Program p = compile_text(f, e, "the input entry", true);
          if (!p && !text_child(f, e).empty()) return;  // reported
          r.inputs.push_back(std::move(p));  // null: an empty cell, any value
        } else if (l == "outputEntry") {
          ++outputs;
          r.outputs.push_back(compile_text(f, e, "the output entry", false));
        }
      });
      if (inputs != t.inputs.size() || outputs != t.outputs.size()) {
        f.x->error(c, "rule-size",
                   "rule " + parse::quote(r.id) + " has " + std::to_string(inputs) +
                       " input entries and " + std::to_string(outputs) +
                       " output entries; the table has " + std::to_string(t.inputs.size()) +
                       " inputs and " + std::to_string(t.outputs.size()) + " outputs");
      }
      t.rules.push_back(std::move(r));
    }
  });
  if (t.outputs.empty()) {
    f.x->error(node, "table-without-output", "this decision table has no output column");
  }
  if (t.outputs.size() > 1) {
    for (const DecisionTable::Output& o : t.outputs) {
      if (o.name.empty()) {
        f.x->error(node, "output-without-name",
                   "a table with several outputs needs a name on each: the result is a "
                   "context keyed by them");
        break;
      }
    }
  }
}

std::optional<std::size_t> Reader::find(
    const std::vector<std::pair<std::string, std::string>>& ids, const Href& h,
    std::string_view kind) {
  const std::string& want_ns = h.ns.empty() ? h.file->ns : h.ns;
  std::optional<std::size_t> any;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].second != h.id) continue;
    if (ids[i].first == want_ns) return i;
    if (!any) any = i;
  }
  if (any) return any;
  std::vector<std::string> known;
  for (const auto& [ns, id] : ids) known.push_back(id);
  std::string msg = "href " + parse::quote("#" + h.id) + " names no " + std::string(kind) +
                    " of the model";
  if (auto near = util::closest_name(h.id, known)) msg += "; did you mean '" + *near + "'?";
  h.file->x->error(h.at, "unknown-reference", std::move(msg));
  return std::nullopt;
}

void Reader::resolve() {
  // An id names one element of its model: a second one would make every href to it ambiguous.
  {
    std::map<std::pair<std::string, std::string>, std::string> seen;
    auto check = [&](const auto& e, std::string_view kind) {
      if (e.id.empty()) return;
      auto [it, fresh] = seen.emplace(std::pair{e.ns, e.id}, std::string(kind));
      if (!fresh) {
        out_.push_back(Diagnostic{e.file, e.at.line, e.at.column, Severity::kError,
                                  "duplicate-id",
                                  std::string(kind) + " " + parse::quote(e.name) + " has id " +
                                      parse::quote(e.id) + ", which a " + it->second +
                                      " before it has: give it another"});
      }
    };
    for (const Decision& d : m_.decisions) check(d, "decision");
    for (const InputData& in : m_.inputs) check(in, "inputData");
    for (const Knowledge& k : m_.knowledge) check(k, "businessKnowledgeModel");
    for (const DecisionService& sv : m_.services) check(sv, "decisionService");
  }
  std::vector<std::pair<std::string, std::string>> decisions, inputs;
  for (const Decision& d : m_.decisions) decisions.emplace_back(d.ns, d.id);
  for (const InputData& in : m_.inputs) inputs.emplace_back(in.ns, in.id);
  std::vector<std::pair<std::string, std::string>> knowledge;
  for (const Knowledge& k : m_.knowledge) knowledge.emplace_back(k.ns, k.id);
  for (const DecisionService& s : m_.services) knowledge.emplace_back(s.ns, s.id);
  // Each href of `hrefs` that names one of `ids`, as an index, into `out`.
  auto resolve_all = [&](const std::vector<Href>& hrefs,
                         const std::vector<std::pair<std::string, std::string>>& ids,
                         std::string_view kind, std::vector<std::size_t>* out) {
    for (const Href& h : hrefs) {
      std::optional<std::size_t> k = find(ids, h, kind);
      if (k && out != nullptr) out->push_back(*k);
    }
  };
  for (std::size_t i = 0; i < m_.decisions.size(); ++i) {
    Decision& d = m_.decisions[i];
    resolve_all(decision_reqs_[i].decisions, decisions, "decision", &d.decisions);
    resolve_all(decision_reqs_[i].inputs, inputs, "inputData", &d.inputs);
    resolve_all(decision_reqs_[i].knowledge, knowledge,
                "business knowledge model or decision service", nullptr);
  }
  for (std::size_t i = 0; i < m_.services.size(); ++i) {
    DecisionService& s = m_.services[i];
    resolve_all(service_refs_[i].outputs, decisions, "decision", &s.outputs);
    resolve_all(service_refs_[i].input_decisions, decisions, "decision", &s.input_decisions);
    resolve_all(service_refs_[i].input_data, inputs, "inputData", &s.input_data);
  }
  // A cycle of required decisions can never be evaluated.
  std::vector<int> state(m_.decisions.size(), 0);  // 0 new, 1 on the path, 2 done
  std::vector<std::pair<std::size_t, std::size_t>> stack;
  for (std::size_t start = 0; start < m_.decisions.size(); ++start) {
    if (state[start] != 0) continue;
    stack.emplace_back(start, 0);
    state[start] = 1;
    while (!stack.empty()) {
      auto& [d, next] = stack.back();
      if (next < m_.decisions[d].decisions.size()) {
        const std::size_t r = m_.decisions[d].decisions[next++];
        if (state[r] == 1) {
          const Decision& dec = m_.decisions[d];
          out_.push_back(Diagnostic{dec.file, dec.at.line, dec.at.column, Severity::kError,
                                    "requirement-cycle",
                                    "decision " + parse::quote(dec.name) + " requires " +
                                        parse::quote(m_.decisions[r].name) +
                                        ", which requires it in turn: break the cycle"});
        } else if (state[r] == 0) {
          state[r] = 1;
          stack.emplace_back(r, 0);
        }
        continue;
      }
      state[d] = 2;
      stack.pop_back();
    }
  }
}

DecisionLoad unreadable(const std::string& file, std::string why) {
  DecisionLoad r;
  r.diagnostics.push_back(Diagnostic{file, 0, 0, Severity::kError, "file-unreadable",
                                     "cannot read " + parse::quote(file) + ": " + std::move(why)});
  return r;
}

}  // namespace
}  // namespace dmn

DecisionLoad load_decisions(std::vector<DecisionSource> sources,
                            const DecisionLoadOptions& options) {
  DecisionLoad result;
  auto model = std::make_shared<DecisionModel>();
  std::vector<dmn::File> files(sources.size());
  bool readable = true;
  std::size_t kept_errors = 0;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    dmn::File& f = files[i];
    f.name = std::move(sources[i].file);
    std::string converted;
    std::string problem = parse::to_utf8(sources[i].text, converted);
    f.text = converted.empty() ? std::move(sources[i].text) : std::move(converted);
    f.x = std::make_unique<parse::XmlContext>(f.text, f.name, result.diagnostics);
    if (!problem.empty()) {
      f.x->report({1, 1}, Severity::kError, "unsupported-encoding", std::move(problem));
      readable = false;
      continue;
    }
    pugi::xml_parse_result parsed =
        f.tree.load_buffer(f.text.data(), f.text.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!parsed) {
      f.x->report(f.x->location_of_offset(
                      static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, parsed.offset))),
                  Severity::kError, "xml-syntax",
                  std::string("the XML is not well-formed: ") + parsed.description());
      readable = false;
      continue;
    }
    f.root = f.tree.document_element();
    f.x->ns().push(f.root);
    parse::QName q = f.x->ns().element(f.root);
    if (q.ns != parse::Ns::kDmn || q.local != "definitions") {
      f.x->error(f.root, "not-dmn",
                 "the root element is " + parse::quote(f.root.name()) +
                     ", not DMN <definitions> (namespace "
                     "https://www.omg.org/spec/DMN/20191111/MODEL/ or another DMN version's)");
      readable = false;
      continue;
    }
    f.ns = std::string(parse::attr(f.root, "namespace"));
  }
  if (sources.empty()) {
    result.diagnostics.push_back(Diagnostic{"", 0, 0, Severity::kError, "no-model",
                                            "no DMN file was given"});
    readable = false;
  }
  if (readable) {
    model->ns = files[0].ns;
    model->content_hash = parse::content_hash(files[0].text);
    model->file = files[0].name;
    model->xml = files[0].text;
    dmn::Reader reader(*model, result.diagnostics);
    reader.read(files);
    kept_errors = reader.kept_errors;
    // Names must be unique among what expressions can call or read.
    std::map<std::string, std::string> seen;
    for (const dmn::Decision& d : model->decisions) {
      if (d.ns != model->ns) continue;
      auto [it, fresh] = seen.emplace(d.name, d.id);
      if (!fresh) {
        result.diagnostics.push_back(
            Diagnostic{d.file, d.at.line, d.at.column, Severity::kError, "duplicate-name",
                       "two decisions are named " + parse::quote(d.name) + " (" + it->second +
                           " and " + d.id + "): rename one"});
      }
    }
  }
  for (dmn::File& f : files) {
    if (f.x) f.x->finish();
  }
  std::stable_sort(result.diagnostics.begin(), result.diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     const bool a_error = a.severity == Severity::kError;
                     const bool b_error = b.severity == Severity::kError;
                     return a_error && !b_error;
                   });
  std::size_t errors = 0;
  for (const Diagnostic& d : result.diagnostics) errors += d.severity == Severity::kError ? 1 : 0;
  if (readable && (errors == 0 || (options.keep_invalid_decisions && errors == kept_errors))) {
    result.model = std::move(model);
  }
  return result;
}

DecisionLoad load_decision_files(const std::vector<std::string>& paths,
                                 const DecisionLoadOptions& options) {
  std::vector<DecisionSource> sources;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return dmn::unreadable(path, "it is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) return dmn::unreadable(path, std::strerror(errno));
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) return dmn::unreadable(path, std::strerror(errno));
    sources.push_back(DecisionSource{path, std::move(buffer).str()});
  }
  return load_decisions(std::move(sources), options);
}

}  // namespace ordo
