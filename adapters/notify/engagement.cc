// Segments, A/B variants and engagement tracking: the pieces the Notifier applies
// (engagement.h).
#include "engagement.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <functional>

#include <date/date.h>

#include "notify/fields.h"

namespace ordo::notify {

using nlohmann::json;

namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::size_t kMacBytes = 16;  // 128 bits of HMAC-SHA256: unguessable, and short

std::string hmac(std::string_view secret, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), std::min<std::size_t>(length, kMacBytes));
}

// Strict: the text must be exactly what base64url() writes for the bytes (the unused low
// bits of the last character zero), so a token has one spelling only.
std::optional<std::string> base64url_decode(std::string_view text) {
  std::string b64(text);
  for (char& c : b64) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (!std::isalnum(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
  }
  std::size_t pad = 0;
  while (b64.size() % 4 != 0) {
    b64.push_back('=');
    ++pad;
  }
  if (pad == 3) return std::nullopt;
  std::string out(b64.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  if (base64url(out) != text) return std::nullopt;
  return out;
}

// The host of an http(s) URL, lower case, without the port; "" when it has user info or no
// host.
std::string host_of(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#\\"));
  if (rest.find('@') != std::string_view::npos || rest.empty()) return {};
  if (rest.front() == '[') {
    const std::size_t close = rest.find(']');
    rest = close == std::string_view::npos ? std::string_view() : rest.substr(0, close + 1);
  } else {
    rest = rest.substr(0, rest.find(':'));
  }
  std::string out(rest);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string link_url(const TrackingSettings& settings, std::string_view kind,
                     const TrackedEvent& event, std::string_view secret) {
  std::string out = settings.base_url;
  out += "/t/";
  out += kind;
  out += '/';
  out += tracking_token(secret, event);
  return out;
}

// The text of an HTML attribute as the Mustache escaping wrote it.
std::string html_unescape(std::string_view s) {
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'},   {"&lt;", '<'},    {"&gt;", '>'},    {"&quot;", '"'},
      {"&#39;", '\''},  {"&#x27;", '\''}, {"&apos;", '\''}, {"&#x2F;", '/'},  {"&#47;", '/'},
      {"&#x3D;", '='},  {"&#61;", '='},   {"&#x60;", '`'},
  };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    bool replaced = false;
    if (s[i] == '&') {
      for (const auto& [entity, c] : kEntities) {
        if (s.substr(i, entity.size()) == entity) {
          out.push_back(c);
          i += entity.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out.push_back(s[i++]);
  }
  return out;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

bool is_web_url(std::string_view s) {
  return starts_with_nocase(s, "https://") || starts_with_nocase(s, "http://");
}

// Whether the attribute at `at` belongs to an <a> or <area> tag (not <link>, <base>, ...).
bool in_link_tag(std::string_view html, std::size_t at) {
  const std::size_t open = html.rfind('<', at);
  if (open == std::string_view::npos || html.find('>', open) < at) return false;
  const std::string_view tag = html.substr(open + 1);
  const auto named = [&](std::string_view name) {
    return starts_with_nocase(tag, name) && tag.size() > name.size() &&
           std::isspace(static_cast<unsigned char>(tag[name.size()]));
  };
  return named("a") || named("area");
}

// href="..." / href='...' of <a> and <area> whose value is a trackable link, through the
// redirect.
std::string rewrite_html(std::string_view html, const std::function<bool(std::string_view)>& trackable,
                         const std::function<std::string(std::string)>& wrap) {
  std::string out;
  out.reserve(html.size() + 256);
  std::size_t i = 0;
  while (i < html.size()) {
    std::size_t at = std::string_view::npos;
    for (std::size_t j = i; j + 6 <= html.size(); ++j) {
      if ((html[j] == 'h' || html[j] == 'H') && starts_with_nocase(html.substr(j), "href=") &&
          (j == 0 || std::isspace(static_cast<unsigned char>(html[j - 1]))) &&
          (html[j + 5] == '"' || html[j + 5] == '\'') && in_link_tag(html, j)) {
        at = j;
        break;
      }
    }
    if (at == std::string_view::npos) break;
    const char quote = html[at + 5];
    const std::size_t start = at + 6;
    const std::size_t end = html.find(quote, start);
    if (end == std::string_view::npos) break;
    out.append(html.substr(i, start - i));
    const std::string url = html_unescape(html.substr(start, end - start));
    if (trackable(url)) {
      out += wrap(url);  // base64url and '/': nothing to escape
    } else {
      out.append(html.substr(start, end - start));
    }
    i = end;
  }
  out.append(html.substr(i));
  return out;
}

// Web URLs in plain text (up to white space or <>"), less trailing punctuation.
std::string rewrite_text(std::string_view text, const std::function<bool(std::string_view)>& trackable,
                         const std::function<std::string(std::string)>& wrap) {
  std::string out;
  out.reserve(text.size() + 128);
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t at = std::string_view::npos;
    for (std::size_t j = i; j < text.size(); ++j) {
      if ((text[j] == 'h' || text[j] == 'H') && is_web_url(text.substr(j)) &&
          (j == 0 || !std::isalnum(static_cast<unsigned char>(text[j - 1])))) {
        at = j;
        break;
      }
    }
    if (at == std::string_view::npos) break;
    std::size_t end = at;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) &&
           text[end] != '<' && text[end] != '>' && text[end] != '"') {
      ++end;
    }
    while (end > at && std::string_view(".,;:!?)]'").find(text[end - 1]) != std::string_view::npos) {
      --end;
    }
    out.append(text.substr(i, at - i));
    const std::string_view url = text.substr(at, end - at);
    out += trackable(url) ? wrap(std::string(url)) : std::string(url);
    i = end;
  }
  out.append(text.substr(i));
  return out;
}

}  // namespace

// ---- segments ----

std::string classify(const SegmentSettings& s, const CustomerHistory& h, std::int64_t now_ms) {
  if (h.orders == 0) return "new";
  if (s.new_within_days > 0 && now_ms - h.first_ms <= s.new_within_days * kDayMs) return "new";
  if (h.in_window >= s.active_min_orders) return "active";
  return "occasional";
}

json history_json(const SegmentSettings& s, const CustomerHistory& h, std::int64_t now_ms) {
  json out = {{"orders", h.orders}, {"ordersInWindow", h.in_window}, {"windowDays", s.window_days},
              {"firstOrderDate", nullptr}, {"daysSinceFirstOrder", nullptr}};
  if (h.orders > 0) {
    using namespace std::chrono;
    const auto day = date::floor<date::days>(sys_time<milliseconds>(milliseconds(h.first_ms)));
    out["firstOrderDate"] = date::format("%F", day);
    out["daysSinceFirstOrder"] = (now_ms - h.first_ms) / kDayMs;
  }
  return out;
}

Status read_segments(const json& settings, const std::string& where, const RulesReader& read_rules,
                     SegmentSettings& out) {
  if (Status s = only_known(settings, where,
                            "windowDays, newWithinDays, activeMinOrders, decision, bySegment");
      !s) {
    return s;
  }
  out.configured = true;
  const auto read_count = [&](const char* key, int& value, int min) -> Status {
    const json* v = field(settings, key);
    if (v == nullptr) return Status::ok();
    if (!v->is_number_integer() || v->get<std::int64_t>() < min || v->get<std::int64_t>() > 100000) {
      return Status::invalid_argument(where + "." + key + ": must be a whole number of at least " +
                                      std::to_string(min));
    }
    value = v->get<int>();
    return Status::ok();
  };
  if (Status s = read_count("windowDays", out.window_days, 1); !s) return s;
  if (Status s = read_count("newWithinDays", out.new_within_days, 0); !s) return s;
  if (Status s = read_count("activeMinOrders", out.active_min_orders, 1); !s) return s;
  if (Status s = read_text(settings, where, "decision", out.decision, false); !s) return s;
  const json* by = field(settings, "bySegment");
  if (by == nullptr) return Status::ok();
  if (!by->is_object()) {
    return Status::invalid_argument(where + ".bySegment: must be an object: segment -> {rules, "
                                    "capPerHour, quietHours, skip}");
  }
  for (const auto& [segment, rules] : by->items()) {
    const std::string at = where + ".bySegment." + segment;
    if (Status s = only_known(rules, at, "rules, capPerHour, quietHours, skip"); !s) return s;
    SegmentRules r;
    if (const json* channels = field(rules, "rules")) {
      if (Status s = read_rules(*channels, at + ".rules", r.rules); !s) return s;
    }
    if (const json* cap = field(rules, "capPerHour")) {
      if (!cap->is_number_integer() || cap->get<std::int64_t>() < 0 || cap->get<std::int64_t>() > 100000) {
        return Status::invalid_argument(at + ".capPerHour: must be a whole number (0: no cap)");
      }
      r.cap_per_hour = cap->get<int>();
    }
    if (Status s = read_quiet_hours(rules, at, r.quiet_hours); !s) return s;
    if (const json* skip = field(rules, "skip")) {
      if (!skip->is_array()) {
        return Status::invalid_argument(at + ".skip: must be a list of messages not sent to this "
                                        "segment");
      }
      for (const json& m : *skip) r.skip.push_back(text_of(&m));
    }
    out.by_segment.emplace(segment, std::move(r));
  }
  return Status::ok();
}

Status read_experiments(const json& settings, const std::string& where,
                        const std::vector<std::string>& channels,
                        const NotificationTemplates& templates,
                        std::map<std::string, Experiment, std::less<>>& out) {
  if (!settings.is_object()) {
    return Status::invalid_argument(where + ": must be an object: experiment -> {message, "
                                    "variants, weights}");
  }
  for (const auto& [id, e] : settings.items()) {
    const std::string at = where + "." + id;
    if (Status s = only_known(e, at, "message, variants, weights, outcome"); !s) return s;
    Experiment x;
    x.id = id;
    if (Status s = read_text(e, at, "message", x.message, true); !s) return s;
    if (Status s = read_text(e, at, "outcome", x.outcome, false); !s) return s;
    if (auto other = out.find(x.message); other != out.end()) {
      return Status::invalid_argument(at + ".message: " + x.message + " is in experiment '" +
                                      other->second.id + "' already: one experiment per message "
                                      "at a time");
    }
    const json* variants = field(e, "variants");
    if (variants == nullptr || !variants->is_object() || variants->size() < 2) {
      return Status::invalid_argument(at + ".variants: give at least two: name -> the message "
                                      "whose templates it uses (e.g. {\"control\": \"" +
                                      x.message + "\", \"short\": \"" + x.message + "-short\"})");
    }
    for (const auto& [name, tmpl] : variants->items()) {
      const std::string template_id = text_of(&tmpl);
      for (const std::string& locale : templates.locales()) {
        for (const std::string& ch : channels) {
          if (templates.has_in(locale, x.message, ch) && !templates.has_in(locale, template_id, ch)) {
            return Status::invalid_argument(at + ".variants." + name + ": no template " + locale +
                                            "/" + template_id + "." + ch + ".mustache (" + x.message +
                                            " has one for " + ch + " in '" + locale + "')");
          }
        }
      }
      x.variants.push_back({name, template_id});
    }
    const json* weights = field(e, "weights");
    if (weights == nullptr) {
      x.weights.emplace("default", std::vector<int>(x.variants.size(), 1));  // an even split
    } else if (!weights->is_object()) {
      return Status::invalid_argument(at + ".weights: must be an object: segment (or default) -> "
                                      "{variant: weight}");
    }
    if (weights != nullptr) {
      for (const auto& [segment, w] : weights->items()) {
        const std::string wat = at + ".weights." + segment;
        if (!w.is_object()) return Status::invalid_argument(wat + ": must be {variant: weight}");
        std::vector<int> list(x.variants.size(), 0);
        long long total = 0;
        for (const auto& [name, weight] : w.items()) {
          auto v = std::find_if(x.variants.begin(), x.variants.end(),
                                [&](const Variant& var) { return var.name == name; });
          if (v == x.variants.end()) {
            return Status::invalid_argument(wat + "." + name + ": no such variant in " + at +
                                            ".variants");
          }
          if (!weight.is_number_integer() || weight.get<std::int64_t>() < 0 ||
              weight.get<std::int64_t>() > 1000000) {
            return Status::invalid_argument(wat + "." + name + ": must be a whole number, 0 or more");
          }
          list[static_cast<std::size_t>(v - x.variants.begin())] = weight.get<int>();
          total += weight.get<int>();
        }
        if (total == 0) return Status::invalid_argument(wat + ": every weight is 0");
        x.weights.emplace(segment, std::move(list));
      }
    }
    out.emplace(x.message, std::move(x));
  }
  return Status::ok();
}

// ---- A/B variants ----

const std::vector<int>* Experiment::weights_of(std::string_view segment) const {
  auto it = weights.find(segment);
  if (it == weights.end()) it = weights.find("default");
  return it == weights.end() ? nullptr : &it->second;
}

const Variant& pick_variant(const Experiment& e, const std::vector<int>& weights,
                            std::string_view customer) {
  const std::string key = e.id + ":" + std::string(customer);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(key.data(), key.size(), digest, &size, EVP_sha256(), nullptr);
  std::uint64_t x = 0;
  for (int i = 0; i < 8; ++i) x = (x << 8) | digest[i];
  long long total = 0;
  for (int w : weights) total += w;
  // A point in [0, total): the top 53 bits as a fraction, scaled.
  const double u = static_cast<double>(x >> 11) / 9007199254740992.0;
  const double point = u * static_cast<double>(total);
  double upto = 0;
  for (std::size_t i = 0; i < weights.size() && i < e.variants.size(); ++i) {
    upto += weights[i];
    if (weights[i] > 0 && point < upto) return e.variants[i];
  }
  // Rounding at the very top: the last variant with weight.
  for (std::size_t i = weights.size(); i-- > 0;) {
    if (weights[i] > 0 && i < e.variants.size()) return e.variants[i];
  }
  return e.variants.front();
}

// ---- tracking ----

bool TrackingSettings::trackable(std::string_view url) const {
  if (!is_web_url(url) || url.size() > 2048) return false;
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  const std::string host = host_of(url);
  if (host.empty()) return false;
  for (const std::string& allowed : link_hosts) {
    if (allowed == host) return true;
    if (allowed.size() > 2 && allowed.starts_with("*.") && host.size() > allowed.size() - 1 &&
        host.ends_with(std::string_view(allowed).substr(1))) {
      return true;
    }
  }
  return false;
}

bool TrackingSettings::tracks_clicks(std::string_view channel) const {
  return clicks && std::find(click_channels.begin(), click_channels.end(), channel) !=
                       click_channels.end();
}

Result<TrackingSettings> parse_tracking(const json& settings, const std::string& where,
                                        const std::string& shop_url) {
  if (Status s = only_known(settings, where,
                            "baseUrl, secret, previousSecrets, opens, clicks, clickChannels, "
                            "linkHosts");
      !s) {
    return s;
  }
  TrackingSettings t;
  if (Status s = read_text(settings, where, "baseUrl", t.base_url, true); !s) return s;
  if (!is_web_url(t.base_url)) {
    return Status::invalid_argument(where + ".baseUrl: '" + t.base_url +
                                    "' is not an http(s) URL: give the address where customers "
                                    "reach ordo serve, e.g. https://shop.example/ordo");
  }
  while (!t.base_url.empty() && t.base_url.back() == '/') t.base_url.pop_back();
  if (Status s = read_text(settings, where, "secret", t.secret, true); !s) return s;
  if (t.secret.size() < 16) {
    return Status::invalid_argument(where +
                                    ".secret: is shorter than 16 characters: use a long random "
                                    "secret (e.g. ${env:ORDO_TRACKING_SECRET}); it makes the "
                                    "tracking URLs unguessable");
  }
  const auto read_list = [&](const char* key, std::vector<std::string>& out) -> Status {
    const json* list = field(settings, key);
    if (list == nullptr) return Status::ok();
    if (!list->is_array()) return Status::invalid_argument(where + "." + key + ": must be a list");
    for (const json& v : *list) {
      if (!v.is_string() || v.get<std::string>().empty()) {
        return Status::invalid_argument(where + "." + key + ": must be a list of strings");
      }
      out.push_back(v.get<std::string>());
    }
    return Status::ok();
  };
  if (Status s = read_list("previousSecrets", t.previous_secrets); !s) return s;
  if (is_web_url(shop_url) && !host_of(shop_url).empty()) t.link_hosts.push_back(host_of(shop_url));
  if (Status s = read_list("linkHosts", t.link_hosts); !s) return s;
  for (std::string& h : t.link_hosts) {
    for (char& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  for (const char* key : {"opens", "clicks"}) {
    if (const json* v = field(settings, key)) {
      if (!v->is_boolean()) return Status::invalid_argument(where + "." + key + ": must be true or false");
      (std::string_view(key) == "opens" ? t.opens : t.clicks) = v->get<bool>();
    }
  }
  if (const json* list = field(settings, "clickChannels")) {
    if (!list->is_array()) {
      return Status::invalid_argument(where + ".clickChannels: must be a list of channels");
    }
    t.click_channels.clear();
    for (const json& c : *list) {
      const std::string name = text_of(&c);
      if (name != "email" && name != "sms" && name != "push") {
        return Status::invalid_argument(where + ".clickChannels: '" + name +
                                        "' is not a channel (email, sms, push)");
      }
      t.click_channels.push_back(name);
    }
  }
  return t;
}

std::string tracking_token(std::string_view secret, const TrackedEvent& e) {
  const std::string payload = json::array({e.kind, e.dedupe_key, e.channel, e.url}).dump();
  return base64url(payload) + "." + base64url(hmac(secret, payload));
}

Result<TrackedEvent> read_tracking_token(const TrackingSettings& settings, std::string_view token) {
  const std::size_t dot = token.rfind('.');
  if (dot == std::string_view::npos || dot == 0) {
    return Status::invalid_argument("not a tracking token");
  }
  std::optional<std::string> payload = base64url_decode(token.substr(0, dot));
  std::optional<std::string> mac = base64url_decode(token.substr(dot + 1));
  if (!payload || !mac) return Status::invalid_argument("not a tracking token");
  bool signed_here = false;
  const auto check = [&](const std::string& secret) {
    const std::string expected = hmac(secret, *payload);
    signed_here = signed_here ||
                  (!secret.empty() && mac->size() == expected.size() &&
                   CRYPTO_memcmp(mac->data(), expected.data(), expected.size()) == 0);
  };
  check(settings.secret);
  for (const std::string& previous : settings.previous_secrets) check(previous);
  if (!signed_here) {
    return Status(StatusCode::kUnauthenticated,
                  "the tracking URL's signature does not match (forged or edited)");
  }
  const json parsed = json::parse(*payload, nullptr, false);
  if (!parsed.is_array() || parsed.size() != 4) return Status::invalid_argument("not a tracking token");
  for (const json& v : parsed) {
    if (!v.is_string()) return Status::invalid_argument("not a tracking token");
  }
  TrackedEvent e{parsed[0], parsed[1], parsed[2], parsed[3]};
  if (e.kind != "o" && e.kind != "c") return Status::invalid_argument("not a tracking token");
  if (e.kind == "c" && !settings.trackable(e.url)) {
    return Status(StatusCode::kUnauthenticated,
                  "the tracking URL leads to a link that is not (any more) in tracking.linkHosts");
  }
  return e;
}

void add_tracking(RenderedMessage& m, const TrackingSettings& settings, std::string_view dedupe_key,
                  std::string_view channel) {
  if (!settings.enabled()) return;
  TrackedEvent event{"c", std::string(dedupe_key), std::string(channel), {}};
  if (settings.tracks_clicks(channel)) {
    const auto wrap = [&](std::string url) {
      event.url = std::move(url);
      return link_url(settings, "c", event, settings.secret);
    };
    const auto trackable = [&](std::string_view url) { return settings.trackable(url); };
    m.text = rewrite_text(m.text, trackable, wrap);
    if (!m.html.empty()) m.html = rewrite_html(m.html, trackable, wrap);
  }
  if (settings.opens && channel == "email" && !m.html.empty()) {
    event.kind = "o";
    event.url.clear();
    const std::string pixel = "<img src=\"" + link_url(settings, "o", event, settings.secret) +
                              "\" width=\"1\" height=\"1\" alt=\"\" style=\"border:0\">";
    std::size_t body = std::string::npos;
    for (std::size_t j = m.html.size(); j-- > 0;) {
      if (m.html[j] == '<' && starts_with_nocase(std::string_view(m.html).substr(j), "</body")) {
        body = j;
        break;
      }
    }
    m.html.insert(body == std::string::npos ? m.html.size() : body, pixel);
  }
}

bool tracking_opted_out(const json& customer) {
  const json* t = field(customer, "tracking");
  return (t != nullptr && t->is_boolean() && !t->get<bool>()) || opted_out(customer, "tracking");
}

}  // namespace ordo::notify
