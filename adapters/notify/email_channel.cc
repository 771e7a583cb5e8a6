// Email over SMTP (libcurl): a MIME multipart/alternative message, text and HTML in UTF-8
// (base64), with RFC 2047 encoded headers, sent with STARTTLS when configured.
#include <curl/curl.h>
#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

#include "channels.h"
#include "http/http_client.h"

namespace ordo::notify {

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string base64url(std::string_view bytes) {
  std::string out = base64(bytes);
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

namespace {

using nlohmann::json;

bool is_ascii_printable(std::string_view text) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// RFC 2047: a header value as encoded-words when it is not plain ASCII, each at most 75
// characters, never splitting a UTF-8 character.
std::string encode_header(std::string_view value) {
  if (is_ascii_printable(value)) return std::string(value);
  std::string out;
  std::size_t at = 0;
  while (at < value.size()) {
    // 39 bytes -> 52 base64 characters: with "=?UTF-8?B?...?=" and "Subject: " a line stays
    // within 76 characters.
    std::size_t end = std::min(value.size(), at + 39);
    while (end < value.size() && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) {
      --end;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(value.substr(at, end - at)) + "?=";
    at = end;
  }
  return out;
}

std::string mailbox(std::string_view name, std::string_view address) {
  if (name.empty()) return "<" + std::string(address) + ">";
  std::string display(name);
  if (is_ascii_printable(display)) {
    std::string quoted = "\"";
    for (char c : display) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    display = quoted + "\"";
  } else {
    display = encode_header(display);
  }
  return display + " <" + std::string(address) + ">";
}

// Base64 body lines of 76 characters, CRLF-terminated; the text's own line breaks become
// CRLF first (RFC 2045: text in canonical form before it is encoded).
std::string body_lines(std::string_view text) {
  std::string canonical;
  canonical.reserve(text.size() + text.size() / 40);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) canonical += '\r';
    canonical += text[i];
  }
  const std::string b = base64(canonical);
  std::string out;
  for (std::size_t i = 0; i < b.size(); i += 76) out += b.substr(i, 76) + "\r\n";
  return out;
}

// A plausible address: one '@', plain ASCII (the message stays 7-bit; no SMTPUTF8), no
// spaces, control characters or angle brackets (nothing smuggled into the envelope or the
// headers).
bool valid_address(std::string_view a) {
  const std::size_t at = a.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= a.size()) return false;
  if (a.find('@', at + 1) != std::string_view::npos) return false;
  for (char ch : a) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == ',') return false;
  }
  return a.find('.', at) != std::string_view::npos;
}

std::string rfc5322_date(std::int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000",
                kDays[static_cast<std::size_t>(tm.tm_wday)], tm.tm_mday,
                kMonths[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

// A Message-ID from the delivery's stable reference: the same on every retry, so mail
// systems and clients that see it twice (an SMTP answer lost in a crash) show it once.
// Readable (message and order, characters outside [A-Za-z0-9-] as '-', at most 60) and
// unique (a SHA-256 prefix of the whole reference).
std::string message_id(std::string_view reference, std::string_view from_address) {
  std::string local;
  for (char c : reference.substr(0, 60)) {
    local += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : (c == ':' ? '.' : '-');
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(reference.data(), reference.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  local += '.';
  for (unsigned int i = 0; i < 8 && i < size; ++i) {
    local += kHex[digest[i] >> 4];
    local += kHex[digest[i] & 15];
  }
  const std::size_t at = from_address.find('@');
  const std::string domain =
      at == std::string_view::npos ? "ordo.invalid" : std::string(from_address.substr(at + 1));
  return "<ordo." + local + "@" + domain + ">";
}

struct Upload {
  std::string data;
  std::size_t at = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* u = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, u->data.size() - u->at);
  std::memcpy(buffer, u->data.data() + u->at, n);
  u->at += n;
  return n;
}

class EmailChannel final : public Channel {
 public:
  std::string url, from_address, from_name, reply_to, username, password, tls = "none";
  std::int64_t connect_timeout_ms = 5000, timeout_ms = 30000;

  std::string_view name() const noexcept override { return "email"; }

  Result<Recipient> recipient(const json& customer) const override {
    auto it = customer.find("email");
    if (it == customer.end() || !it->is_string() || it->get<std::string>().empty()) {
      return Status::invalid_argument("the customer has no email address");
    }
    const std::string address = it->get<std::string>();
    if (!valid_address(address)) {
      return Status::invalid_argument("'" + address + "' is not an email address");
    }
    std::string display;
    if (auto n = customer.find("name"); n != customer.end() && n->is_string()) {
      display = n->get<std::string>();
    }
    return Recipient{address, display};
  }

  std::string compose(const Outgoing& out, const std::string& id) const {
    const RenderedMessage& m = *out.message;
    std::string head;
    head += "Date: " + rfc5322_date(out.now_ms) + "\r\n";
    head += "From: " + mailbox(from_name, from_address) + "\r\n";
    head += "To: " + mailbox(out.to.name, out.to.address) + "\r\n";
    if (!reply_to.empty()) head += "Reply-To: <" + reply_to + ">\r\n";
    head += "Subject: " + encode_header(m.subject) + "\r\n";
    head += "Message-ID: " + id + "\r\n";
    head += "MIME-Version: 1.0\r\n";
    if (!m.locale.empty()) head += "Content-Language: " + m.locale + "\r\n";
    head += "Auto-Submitted: auto-generated\r\n";
    head += "X-Ordo-Order: " + encode_header(out.order_id) + "\r\n";
    const std::string text_part =
        "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
        body_lines(m.text);
    if (m.html.empty()) return head + text_part;
    const std::string boundary = "=_ordo_" + base64(id).substr(0, 24);
    std::string mime = head + "Content-Type: multipart/alternative; boundary=\"" + boundary +
                       "\"\r\n\r\nThis is a MIME message in text and HTML.\r\n";
    mime += "--" + boundary + "\r\n" + text_part;
    mime += "--" + boundary +
            "\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: "
            "base64\r\n\r\n" +
            body_lines(m.html);
    mime += "--" + boundary + "--\r\n";
    return mime;
  }

  SendResult send(const Outgoing& out) override {
    adapters::curl_init_once();
    SendResult result;
    const std::string id = message_id(out.reference, from_address);
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return {SendResult::Kind::kRetry, {}, "cannot start an SMTP client (libcurl)"};
    CURL* c = curl.get();
    Upload upload{compose(out, id), 0};
    const std::string envelope_from = "<" + from_address + ">";
    const std::string rcpt = "<" + out.to.address + ">";
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> rcpts(
        curl_slist_append(nullptr, rcpt.c_str()), curl_slist_free_all);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, envelope_from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts.get());
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout_ms));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
    if (!username.empty()) {
      curl_easy_setopt(c, CURLOPT_USERNAME, username.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, password.c_str());
    }
    if (tls == "required") {
      curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    } else if (tls == "try") {
      curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
    }
    const CURLcode rc = curl_easy_perform(c);
    long reply = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
    if (rc == CURLE_OK) {
      result.provider_id = id;
      return result;
    }
    std::string why = curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      why = "no answer within " + std::to_string(timeout_ms) + " ms";
    }
    result.error = "SMTP to " + out.to.address + " via " + adapters::redact_url(url) + " failed: " + why +
                   (reply != 0 ? " (reply " + std::to_string(reply) + ")" : "");
    // 550/551/553: this mailbox does not exist or is not accepted here, for good. Anything
    // else (a 4xx, a timeout, but also 530/535: TLS or credentials, which operations can
    // fix) is retried and, after the retries, an incident.
    result.kind = reply == 550 || reply == 551 || reply == 553 ? SendResult::Kind::kRejected
                                                               : SendResult::Kind::kRetry;
    return result;
  }
};

}  // namespace

Result<std::unique_ptr<Channel>> make_email_channel(const json& settings,
                                                    const std::string& where) {
  auto ch = std::make_unique<EmailChannel>();
  if (Status s = only_known(settings, where,
                            "url, from, fromName, replyTo, username, password, tls, "
                            "connectTimeoutMs, timeoutMs, retryBackoffMs, quietHours");
      !s) {
    return s;
  }
  if (Status s = read_text(settings, where, "url", ch->url, true); !s) return s;
  if (ch->url.rfind("smtp://", 0) != 0 && ch->url.rfind("smtps://", 0) != 0) {
    return Status::invalid_argument(where +
                                    ".url: must start with smtp:// or smtps:// (e.g. "
                                    "smtp://mail.example.com:587)");
  }
  if (Status s = read_text(settings, where, "from", ch->from_address, true); !s) return s;
  if (!valid_address(ch->from_address)) {
    return Status::invalid_argument(where + ".from: '" + ch->from_address +
                                    "' is not an email address (the display name goes in "
                                    "fromName)");
  }
  for (auto [key, out] : {std::pair<const char*, std::string*>{"fromName", &ch->from_name},
                          {"replyTo", &ch->reply_to},
                          {"username", &ch->username},
                          {"password", &ch->password},
                          {"tls", &ch->tls}}) {
    if (Status s = read_text(settings, where, key, *out, false); !s) return s;
  }
  if (ch->tls != "none" && ch->tls != "try" && ch->tls != "required") {
    return Status::invalid_argument(where + ".tls: must be none, try or required");
  }
  if (Status s = read_ms(settings, where, "connectTimeoutMs", ch->connect_timeout_ms); !s) {
    return s;
  }
  if (Status s = read_ms(settings, where, "timeoutMs", ch->timeout_ms); !s) return s;
  if (Status s = read_ms(settings, where, "retryBackoffMs", ch->retry_backoff_ms); !s) return s;
  if (Status s = read_quiet_hours(settings, where, ch->quiet_hours); !s) return s;
  return std::unique_ptr<Channel>(std::move(ch));
}

}  // namespace ordo::notify
