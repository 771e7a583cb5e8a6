// Notification templates: loaded and checked once, rendered per message with kainjow
// Mustache; the view (greeting, money, items) is built from the order's variables.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

#include <kainjow/mustache.hpp>

#include "notify/fields.h"
#include "ordo/adapters/notifications.h"

namespace ordo {
namespace {

using notify::field;
using notify::text_of;

namespace fs = std::filesystem;
using nlohmann::json;
using Mustache = kainjow::mustache::mustache;
using MustacheData = kainjow::mustache::data;

struct LocaleStrings {
  std::map<std::string, std::string> greeting;  // mr, ms, neutral, anonymous
  std::string decimal_separator = ".";
  std::string group_separator = ",";
  std::string money_pattern = "{{amount}} {{symbol}}";
  std::map<std::string, std::string> symbols;
};

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error("cannot read " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

MustacheData to_data(const json& value) {
  switch (value.type()) {
    case json::value_t::object: {
      MustacheData d{MustacheData::type::object};
      for (const auto& [k, v] : value.items()) d.set(k, to_data(v));
      return d;
    }
    case json::value_t::array: {
      MustacheData d{MustacheData::type::list};
      for (const auto& v : value) d.push_back(to_data(v));
      return d;
    }
    case json::value_t::string:
      // An empty text is "absent": {{#trackingUrl}} must not print a label without a link.
      if (value.get_ref<const std::string&>().empty()) return MustacheData{false};
      return MustacheData{value.get<std::string>()};
    case json::value_t::boolean:
      return MustacheData{value.get<bool>()};
    case json::value_t::null:
    case json::value_t::discarded:
      return MustacheData{false};
    default:
      return MustacheData{value.dump()};  // numbers as JSON writes them
  }
}

// A template compiled once. kainjow's render() is not const (it records errors), so each
// has its own lock; a render takes microseconds, a send milliseconds.
struct Compiled {
  explicit Compiled(const std::string& source, bool html) : tmpl(source) {
    if (!html) tmpl.set_custom_escape([](const std::string& s) { return s; });
  }
  Mustache tmpl;
  std::mutex mu;
};

Result<std::string> render_compiled(Compiled& c, const MustacheData& view,
                                    const std::string& name) {
  std::lock_guard lock(c.mu);
  std::string out = c.tmpl.render(view);
  if (!c.tmpl.is_valid()) return Status::invalid_argument(name + ": " + c.tmpl.error_message());
  return out;
}

// Renders `source` over `view`; text (not HTML) is not escaped.
Result<std::string> render_text(const std::string& source, const MustacheData& view, bool html,
                                const std::string& name) {
  Mustache tmpl{source};
  if (!html) tmpl.set_custom_escape([](const std::string& s) { return s; });
  if (!tmpl.is_valid()) return Status::invalid_argument(name + ": " + tmpl.error_message());
  std::string out = tmpl.render(view);
  if (!tmpl.is_valid()) return Status::invalid_argument(name + ": " + tmpl.error_message());
  return out;
}

std::string trim(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

// "Subject: ..." / "Title: ..." on the first line, an empty line, then the body.
bool split_header(const std::string& rendered, std::string_view header, std::string& first,
                  std::string& body) {
  const std::string prefix = std::string(header) + ":";
  if (rendered.compare(0, prefix.size(), prefix) != 0) return false;
  const std::size_t eol = rendered.find('\n');
  first = trim(rendered.substr(prefix.size(),
                               eol == std::string::npos ? std::string::npos : eol - prefix.size()));
  body = eol == std::string::npos ? std::string() : trim(rendered.substr(eol + 1));
  return true;
}

}  // namespace

struct NotificationTemplates::Data {
  std::string dir;
  std::string default_locale;
  // locale -> "message.channel" or "message.email.html" -> source
  std::map<std::string, std::map<std::string, std::unique_ptr<Compiled>, std::less<>>, std::less<>>
      sources;
  std::map<std::string, LocaleStrings, std::less<>> strings;

  Compiled* find(std::string_view locale, const std::string& name) const {
    auto l = sources.find(locale);
    if (l == sources.end()) return nullptr;
    auto s = l->second.find(name);
    return s == l->second.end() ? nullptr : s->second.get();
  }

  std::string money(const json* amount, std::string_view currency, const LocaleStrings& ls) const {
    if (amount == nullptr || !amount->is_number()) return text_of(amount);
    const double value = amount->get<double>();
    const auto cents = static_cast<long long>(std::llround(std::fabs(value) * 100.0));
    std::string whole = std::to_string(cents / 100);
    for (auto i = static_cast<long long>(whole.size()) - 3; i > 0; i -= 3) {
      whole.insert(static_cast<std::size_t>(i), ls.group_separator);
    }
    std::string frac = std::to_string(cents % 100);
    if (frac.size() < 2) frac.insert(0, "0");
    std::string number = (value < 0 ? "-" : "") + whole + ls.decimal_separator + frac;
    auto symbol = ls.symbols.find(std::string(currency));
    if (symbol == ls.symbols.end()) {
      return currency.empty() ? number : number + " " + std::string(currency);
    }
    std::string out = ls.money_pattern;
    for (auto [key, val] : {std::pair<std::string_view, std::string_view>{"{{amount}}", number},
                            {"{{symbol}}", symbol->second}}) {
      if (auto at = out.find(key); at != std::string::npos) out.replace(at, key.size(), val);
    }
    return out;
  }
};

NotificationTemplates::NotificationTemplates(std::unique_ptr<Data> data) : data_(std::move(data)) {}
NotificationTemplates::NotificationTemplates(NotificationTemplates&&) noexcept = default;
NotificationTemplates& NotificationTemplates::operator=(NotificationTemplates&&) noexcept = default;
NotificationTemplates::~NotificationTemplates() = default;

Result<NotificationTemplates> NotificationTemplates::load(const std::string& dir,
                                                          std::string default_locale) {
  auto data = std::make_unique<Data>();
  data->dir = dir;
  data->default_locale = std::move(default_locale);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::not_found("the templates directory " + dir +
                             " does not exist (one folder per locale: " + dir + "/en/...)");
  }
  const MustacheData probe{MustacheData::type::object};
  for (const auto& locale_dir : fs::directory_iterator(dir, ec)) {
    if (!locale_dir.is_directory()) continue;
    const std::string locale = locale_dir.path().filename().string();
    auto& sources = data->sources[locale];
    for (const auto& file : fs::directory_iterator(locale_dir.path(), ec)) {
      const std::string name = file.path().filename().string();
      const std::string where = file.path().string();
      if (name == "strings.json") {
        Result<std::string> text = read_file(file.path());
        if (!text) return text.status();
        json doc = json::parse(*text, nullptr, false);
        if (doc.is_discarded() || !doc.is_object()) {
          return Status::invalid_argument(where + ": not a JSON object");
        }
        LocaleStrings ls;
        if (const json* g = field(doc, "greeting"); g != nullptr && g->is_object()) {
          for (const auto& [k, v] : g->items()) {
            if (!v.is_string())
              return Status::invalid_argument(where + ": greeting." + k + ": must be a string");
            if (Result<std::string> r =
                    render_text(v.get<std::string>(), probe, false, where + ": greeting." + k);
                !r) {
              return r.status();
            }
            ls.greeting[k] = v.get<std::string>();
          }
        }
        for (const char* k : {"neutral", "anonymous"}) {
          if (!ls.greeting.count(k)) {
            return Status::invalid_argument(where + ": greeting." + k +
                                            " is missing (used when the data does not say "
                                            "how to address the customer)");
          }
        }
        if (const json* m = field(doc, "money"); m != nullptr) {
          if (const json* d = field(*m, "decimalSeparator")) ls.decimal_separator = text_of(d);
          if (const json* g = field(*m, "groupSeparator")) ls.group_separator = text_of(g);
          if (const json* p = field(*m, "pattern")) ls.money_pattern = text_of(p);
        }
        if (const json* c = field(doc, "currencySymbols"); c != nullptr && c->is_object()) {
          for (const auto& [k, v] : c->items()) ls.symbols[k] = text_of(&v);
        }
        data->strings[locale] = std::move(ls);
        continue;
      }
      constexpr std::string_view kExt = ".mustache";
      if (name.size() <= kExt.size() ||
          name.compare(name.size() - kExt.size(), kExt.size(), kExt) != 0) {
        continue;
      }
      Result<std::string> text = read_file(file.path());
      if (!text) return text.status();
      try {
        (void)json(*text).dump();  // throws on bytes that are not UTF-8
      } catch (const json::exception&) {
        return Status::invalid_argument(where + ": not UTF-8 text; save it as UTF-8");
      }
      // Checked now, so a broken template is a load error, not a failed delivery.
      const std::string key = name.substr(0, name.size() - kExt.size());
      const bool html = key.size() > 5 && key.compare(key.size() - 5, 5, ".html") == 0;
      auto compiled = std::make_unique<Compiled>(*text, html);
      if (!compiled->tmpl.is_valid()) {
        return Status::invalid_argument(where + ": " + compiled->tmpl.error_message());
      }
      if (Result<std::string> r = render_compiled(*compiled, probe, where); !r) return r.status();
      sources[key] = std::move(compiled);
    }
  }
  if (!data->sources.count(data->default_locale)) {
    return Status::not_found("the templates directory " + dir + " has no folder for the " +
                             "default locale '" + data->default_locale + "'");
  }
  if (!data->strings.count(data->default_locale)) {
    return Status::not_found(dir + "/" + data->default_locale +
                             "/strings.json is missing (greetings and money format)");
  }
  return NotificationTemplates(std::move(data));
}

std::string NotificationTemplates::resolve_locale(std::string_view requested) const {
  std::string want(requested);
  std::replace(want.begin(), want.end(), '_', '-');
  std::transform(want.begin(), want.end(), want.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  while (!want.empty()) {
    if (data_->sources.count(want)) return want;
    const std::size_t dash = want.rfind('-');
    if (dash == std::string::npos) break;
    want.resize(dash);
  }
  return data_->default_locale;
}

bool NotificationTemplates::has(std::string_view message, std::string_view channel) const {
  return has_in(data_->default_locale, message, channel);
}

bool NotificationTemplates::has_in(std::string_view locale, std::string_view message,
                                   std::string_view channel) const {
  return data_->find(locale, std::string(message) + "." + std::string(channel)) != nullptr;
}

std::vector<std::string> NotificationTemplates::locales() const {
  std::vector<std::string> out;
  for (const auto& [locale, _] : data_->sources) out.push_back(locale);
  return out;
}

json NotificationTemplates::view(const json& variables, std::string_view order_id,
                                 std::string_view locale, const json& shop) const {
  auto ls_it = data_->strings.find(locale);
  const LocaleStrings& ls =
      ls_it != data_->strings.end() ? ls_it->second : data_->strings.at(data_->default_locale);
  const json empty = json::object();
  const json& customer = field(variables, "customer") ? variables["customer"] : empty;
  json v = json::object();
  v["orderId"] = std::string(order_id);
  v["shop"] = shop.is_object() ? shop : empty;
  // Names exactly as given: never split, never guessed.
  const std::string first = text_of(field(customer, "firstName"));
  const std::string last = text_of(field(customer, "lastName"));
  std::string name = text_of(field(customer, "name"));
  if (name.empty()) name = trim(first + " " + last);
  if (!name.empty()) v["name"] = name;
  if (!first.empty()) v["firstName"] = first;
  if (!last.empty()) v["lastName"] = last;
  const std::string currency = text_of(field(variables, "currency"));
  if (!currency.empty()) v["currency"] = currency;

  json items = json::array();
  std::map<std::string, std::string> item_names;
  if (const json* list = field(variables, "items"); list != nullptr && list->is_array()) {
    for (const json& item : *list) {
      json out = json::object();
      const std::string sku = text_of(field(item, "sku"));
      std::string item_name = text_of(field(item, "name"));
      if (item_name.empty()) item_name = sku;  // never let {{name}} reach the customer's
      item_names[sku] = item_name;
      out["name"] = item_name;
      out["sku"] = sku;
      const json* qty = field(item, "quantity");
      out["quantity"] = qty != nullptr ? text_of(qty) : "1";
      if (const json* price = field(item, "unitPrice")) {
        out["unitPrice"] = data_->money(price, currency, ls);
        if (price->is_number() && (qty == nullptr || qty->is_number())) {
          const json line = price->get<double>() * (qty ? qty->get<double>() : 1.0);
          out["lineTotal"] = data_->money(&line, currency, ls);
        }
      }
      items.push_back(std::move(out));
    }
  }
  v["hasItems"] = !items.empty();
  v["items"] = std::move(items);
  if (const json* total = field(variables, "total")) {
    v["total"] = data_->money(total, currency, ls);
  }
  for (const char* k : {"trackingNumber", "carrier", "trackingUrl"}) {
    if (const json* t = field(variables, k)) v[k] = text_of(t);
  }
  v["hasTracking"] =
      v.contains("trackingNumber") && !v["trackingNumber"].get<std::string>().empty();
  const json* address = field(variables, "shippingAddress");
  if (address == nullptr) address = field(customer, "address");
  if (address != nullptr && address->is_object()) {
    json a = json::object();
    for (const char* k : {"street", "postalCode", "city", "country"}) {
      if (const json* f = field(*address, k)) a[k] = text_of(f);  // strings stay strings
    }
    v["shippingAddress"] = std::move(a);
  }
  json short_items = json::array();
  if (const json* list = field(variables, "unavailableItems");
      list != nullptr && list->is_array()) {
    for (const json& item : *list) {
      const std::string sku = text_of(field(item, "sku"));
      std::string item_name = text_of(field(item, "name"));
      if (item_name.empty()) item_name = item_names.count(sku) ? item_names[sku] : sku;
      short_items.push_back({{"name", item_name},
                             {"sku", sku},
                             {"requested", text_of(field(item, "requested"))},
                             {"available", text_of(field(item, "available"))}});
    }
  }
  v["hasUnavailableItems"] = !short_items.empty();
  v["unavailableItems"] = std::move(short_items);
  const json* reason = field(variables, "paymentFailureReason");
  if (reason == nullptr) reason = field(variables, "declineReason");
  if (reason != nullptr) v["paymentFailureReason"] = text_of(reason);

  // The salutation only from what the data says; otherwise neutral, or anonymous.
  std::string salutation = text_of(field(customer, "salutation"));
  std::transform(salutation.begin(), salutation.end(), salutation.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (salutation == "mrs" || salutation == "miss") salutation = "ms";
  std::string form = "anonymous";
  if ((salutation == "mr" || salutation == "ms") && !last.empty() &&
      ls.greeting.count(salutation)) {
    form = salutation;
  } else if (!name.empty()) {
    form = "neutral";
  }
  Result<std::string> greeting =
      render_text(ls.greeting.at(form), to_data(v), false, "greeting." + form);
  v["greeting"] = greeting ? *greeting : std::string();
  return v;
}

Result<RenderedMessage> NotificationTemplates::render(std::string_view message,
                                                      std::string_view channel,
                                                      std::string_view locale,
                                                      const json& view) const {
  const std::string key = std::string(message) + "." + std::string(channel);
  RenderedMessage out;
  out.locale = std::string(locale);
  Compiled* source = data_->find(locale, key);
  if (source == nullptr) {
    out.locale = data_->default_locale;
    source = data_->find(out.locale, key);
  }
  if (source == nullptr) {
    return Status::not_found("no template " + key + ".mustache in " + data_->dir + "/" +
                             data_->default_locale);
  }
  const MustacheData data = to_data(view);
  const std::string where = data_->dir + "/" + out.locale + "/" + key + ".mustache";
  Result<std::string> text = render_compiled(*source, data, where);
  if (!text) return text.status();
  if (channel == "email" || channel == "push") {
    const std::string_view header = channel == "email" ? "Subject" : "Title";
    if (!split_header(*text, header, out.subject, out.text)) {
      return Status::invalid_argument(where + ": the first line must be '" + std::string(header) +
                                      ": ...'");
    }
  } else {
    out.text = trim(*text);
  }
  if (channel == "email") {
    if (Compiled* html = data_->find(out.locale, key + ".html")) {
      Result<std::string> h = render_compiled(*html, data, where);
      if (!h) return h.status();
      out.html = std::move(*h);
    }
  }
  return out;
}

Result<std::string> to_e164(const json& phone) {
  if (phone.is_number()) {
    return Status::invalid_argument(
        "the phone number is a JSON number (" + phone.dump() +
        "), so its '+' and any leading zero are lost; store phone numbers as strings in "
        "E.164, e.g. \"+4915123456789\"");
  }
  if (!phone.is_string() || phone.get<std::string>().empty()) {
    return Status::invalid_argument("no phone number");
  }
  const std::string given = phone.get<std::string>();
  // "+49 (0)151 ...": the national trunk zero in brackets is not dialled with the country
  // code.
  std::string digits = given;
  if (const std::size_t trunk = digits.find("(0)"); trunk != std::string::npos) {
    digits.erase(trunk, 3);
  }
  std::string out;
  for (char c : digits) {
    if (c == ' ' || c == '.' || c == '-' || c == '(' || c == ')') continue;
    out.push_back(c);
  }
  const bool ok =
      out.size() >= 9 && out.size() <= 16 && out[0] == '+' && out[1] >= '1' && out[1] <= '9' &&
      std::all_of(out.begin() + 1, out.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!ok) {
    return Status::invalid_argument("'" + given +
                                    "' is not an E.164 number (+, country code, number: "
                                    "8 to 15 digits, e.g. +4915123456789)");
  }
  return out;
}

}  // namespace ordo
