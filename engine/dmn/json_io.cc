// The decision JSON of ordo/decision.h both ways: numbers from their text, printed in full.
#include <optional>
#include <string>
#include <vector>

#include "expr/decimal.h"
#include "expr/value.h"
#include "ordo/decision.h"

namespace ordo {
namespace {

using nlohmann::json;

// Builds the document as json::parse would, keeping number text a double would change.
class ExactNumbers : public nlohmann::json_sax<json> {
 public:
  json root;

  bool null() override { return add(json(nullptr)); }
  bool boolean(bool v) override { return add(json(v)); }
  bool number_integer(number_integer_t v) override { return add(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return add(json(v)); }
  bool number_float(number_float_t v, const string_t& text) override {
    const std::optional<expr::Decimal> exact = expr::Decimal::parse(text);
    if (exact && !(expr::Decimal::from_double(v) == *exact)) {
      return add(json{{"@type", "number"}, {"value", exact->text()}});
    }
    return add(json(v));
  }
  bool string(string_t& v) override { return add(json(std::move(v))); }
  bool binary(binary_t& v) override { return add(json::binary(std::move(v))); }
  bool start_object(std::size_t) override { return open(json::object()); }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  json* place(json v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(v));
      return &top.back();
    }
    json& slot = top[key_];
    slot = std::move(v);
    return &slot;
  }
  bool add(json v) {
    place(std::move(v));
    return true;
  }
  bool open(json v) {
    stack_.push_back(place(std::move(v)));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  std::vector<json*> stack_;
  std::string key_;
};

void dump(const json& j, int indent, int depth, std::string& out) {
  const auto newline = [&](int d) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(indent * d), ' ');
  };
  if (expr::typed_kind(j) == "number") {  // printed as the number it is, never as given
    if (std::optional<expr::Decimal> d = expr::Decimal::parse(j["value"].get_ref<const std::string&>())) {
      out += d->text();
      return;
    }
  }
  if (j.is_object() && !j.empty()) {
    out += '{';
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      out += json(it.key()).dump(-1, ' ', false, json::error_handler_t::replace);
      out += indent < 0 ? ":" : ": ";
      dump(it.value(), indent, depth + 1, out);
    }
    newline(depth);
    out += '}';
    return;
  }
  if (j.is_array() && !j.empty()) {
    out += '[';
    bool first = true;
    for (const json& e : j) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      dump(e, indent, depth + 1, out);
    }
    newline(depth);
    out += ']';
    return;
  }
  out += j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::optional<json> parse_decision_json(std::string_view text) {
  ExactNumbers sax;
  if (!json::sax_parse(text, &sax)) return std::nullopt;
  return std::move(sax.root);
}

std::string dump_decision_json(const json& value, int indent) {
  std::string out;
  dump(value, indent, 0, out);
  return out;
}

}  // namespace ordo
