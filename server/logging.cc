#include "logging.h"

#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "time/iso8601.h"
#include "util/printable.h"

namespace ordo::server {
namespace {

using json = nlohmann::json;
// The line's object keeps its keys in the order written: time, level, logger, message, then
// the fields (in the order log_event() dumped them: sorted).
using ordered_json = nlohmann::ordered_json;

constexpr char kSeparator = '\x1e';  // RFC 7464's record separator

std::string dump(const ordered_json& value) {
  return value.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

// log_event()'s framing: 0x1E message 0x1E {fields}.
std::string frame(std::string_view message, const json& fields) {
  std::string out(1, kSeparator);
  out += message;
  out += kSeparator;
  out += fields.dump(-1, ' ', false, json::error_handler_t::replace);
  return out;
}

struct Framed {
  std::string_view message;
  ordered_json fields;
};

// The message and fields of a framed message; nothing for an ordinary one. The fields
// contain no raw 0x1E (JSON escapes control characters), so the last one ends the message.
std::optional<Framed> unframe(std::string_view payload) {
  if (payload.size() < 2 || payload.front() != kSeparator) return std::nullopt;
  const std::size_t last = payload.rfind(kSeparator);
  if (last == 0) return std::nullopt;
  ordered_json fields = ordered_json::parse(payload.substr(last + 1), nullptr, false);
  if (fields.is_discarded() || !fields.is_object()) return std::nullopt;
  return Framed{payload.substr(1, last - 1), std::move(fields)};
}

std::string_view view(spdlog::string_view_t s) {
  return {s.data(), s.size()};
}

// A key or value as the text format writes it: bare when it is a plain word, otherwise
// quoted and escaped as a JSON string.
std::string text_token(std::string_view s) {
  bool plain = !s.empty();
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '"' || c == '=') plain = false;
  }
  return plain ? std::string(s) : dump(ordered_json(std::string(s)));
}

std::string text_line(std::string_view message, const ordered_json& fields) {
  std::string out = util::escape_control(message);
  for (const auto& [key, value] : fields.items()) {
    out += ' ';
    out += text_token(key);
    out += '=';
    out += text_token(value.is_string() ? value.get_ref<const std::string&>() : dump(value));
  }
  return out;
}

// "2026-12-01T10:00:00.000Z"
std::string utc_time(spdlog::log_clock::time_point t) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const std::int64_t ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", std::string_view(buf, n), ms - seconds * 1000);
}

void append(spdlog::memory_buf_t& dest, std::string_view s) {
  dest.append(s.data(), s.data() + s.size());
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    ordered_json line = ordered_json::object();
    line["time"] = utc_time(msg.time);
    line["level"] = std::string(view(spdlog::level::to_string_view(msg.level)));
    if (msg.logger_name.size() != 0) line["logger"] = std::string(view(msg.logger_name));
    std::optional<Framed> framed = unframe(view(msg.payload));
    line["message"] = std::string(framed ? framed->message : view(msg.payload));
    if (framed) {
      for (auto& [key, value] : framed->fields.items()) {
        if (key == "time" || key == "level" || key == "logger" || key == "message") continue;
        line[key] = std::move(value);
      }
    }
    append(dest, dump(line));
    append(dest, "\n");
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

class TextFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::optional<Framed> framed = unframe(view(msg.payload));
    if (!framed && !util::needs_escaping(view(msg.payload))) {
      pattern_.format(msg, dest);
      return;
    }
    // A message may carry what a client sent (a business key, an error text): a newline in
    // it must not start a forged line, an escape sequence must not reach the terminal.
    const std::string text = framed ? text_line(framed->message, framed->fields)
                                    : util::escape_control(view(msg.payload));
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(text.data(), text.size());
    pattern_.format(copy, dest);
    // Colour sinks colour the range the pattern marks (the level), in the original.
    msg.color_range_start = copy.color_range_start;
    msg.color_range_end = copy.color_range_end;
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>();
  }

 private:
  spdlog::pattern_formatter pattern_;  // spdlog's default pattern
};

}  // namespace

void set_log_format(LogFormat format) {
  if (format == LogFormat::kJson) {
    spdlog::set_formatter(std::make_unique<JsonFormatter>());
  } else {
    spdlog::set_formatter(std::make_unique<TextFormatter>());
  }
}

std::shared_ptr<spdlog::logger> named_logger(const std::string& name) {
  if (std::shared_ptr<spdlog::logger> found = spdlog::get(name)) return found;
  const std::vector<spdlog::sink_ptr>& sinks = spdlog::default_logger_raw()->sinks();
  auto logger = std::make_shared<spdlog::logger>(name, sinks.begin(), sinks.end());
  try {
    spdlog::initialize_logger(logger);  // the registry's formatter and level; registers it
  } catch (const spdlog::spdlog_ex&) {  // another thread registered the name first
    if (std::shared_ptr<spdlog::logger> found = spdlog::get(name)) return found;
  }
  return logger;
}

LogFunction library_log(const std::string& name) {
  return [logger = named_logger(name)](LogLevel level, std::string_view message) {
    spdlog::level::level_enum l = spdlog::level::info;
    switch (level) {
      case LogLevel::kDebug:
        l = spdlog::level::debug;
        break;
      case LogLevel::kInfo:
        l = spdlog::level::info;
        break;
      case LogLevel::kWarning:
        l = spdlog::level::warn;
        break;
      case LogLevel::kError:
        l = spdlog::level::err;
        break;
    }
    logger->log(l, "{}", message);
  };
}

void log_event(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view message,
               const nlohmann::json& fields) {
  if (!logger.should_log(level)) return;
  try {
    const std::string framed = fields.is_object() ? frame(message, fields)
                               : fields.is_null() ? frame(message, json::object())
                                                  : frame(message, json{{"fields", fields}});
    logger.log(level, spdlog::string_view_t(framed.data(), framed.size()));
  } catch (...) {  // out of memory: the line is lost, never the caller
  }
}

void log_event(spdlog::level::level_enum level, std::string_view message,
               const nlohmann::json& fields) {
  log_event(*spdlog::default_logger_raw(), level, message, fields);
}

// ---- InstanceLog ----

namespace {

struct Line {
  spdlog::level::level_enum level;
  std::string_view message;
};

Line line_of(HistoryKind kind) {
  using L = spdlog::level::level_enum;
  switch (kind) {
    case HistoryKind::kInstanceStarted:
      return {L::info, "instance started"};
    case HistoryKind::kInstanceCompleted:
      return {L::info, "instance completed"};
    case HistoryKind::kInstanceTerminated:
      return {L::info, "instance terminated"};
    case HistoryKind::kJobFailed:
      return {L::warn, "job failed"};
    case HistoryKind::kJobErrorThrown:
      return {L::info, "job threw an error"};
    case HistoryKind::kJobDeferred:
      return {L::info, "job deferred"};
    case HistoryKind::kIncidentRaised:
      return {L::err, "incident raised"};
    case HistoryKind::kIncidentResolved:
      return {L::info, "incident resolved"};
    case HistoryKind::kMessageCorrelated:
      return {L::info, "message correlated"};
    default:
      return {L::debug, to_string(kind)};
  }
}

bool is_job_event(HistoryKind kind) {
  switch (kind) {
    case HistoryKind::kJobCreated:
    case HistoryKind::kJobCompleted:
    case HistoryKind::kJobFailed:
    case HistoryKind::kJobErrorThrown:
    case HistoryKind::kJobCancelled:
    case HistoryKind::kJobDeferred:
      return true;
    default:
      return false;
  }
}

bool ends_instance(HistoryKind kind) {
  return kind == HistoryKind::kInstanceCompleted || kind == HistoryKind::kInstanceTerminated;
}

// What the event says beyond the instance and element, as fields.
void add_details(const HistoryEvent& e, json& fields) {
  if (is_job_event(e.kind)) fields["job"] = e.key;
  switch (e.kind) {
    case HistoryKind::kInstanceStarted:
      if (e.value != 0) fields["parent"] = e.value;
      return;
    case HistoryKind::kJobFailed:
      fields["error"] = e.detail;
      fields["retriesLeft"] = e.value;
      return;
    case HistoryKind::kJobErrorThrown:
      fields["code"] = e.detail;
      return;
    case HistoryKind::kJobDeferred:
      if (!e.detail.empty()) fields["reason"] = e.detail;
      fields["until"] = time::format_date_time(e.value);
      return;
    case HistoryKind::kIncidentRaised:
      fields["incident"] = e.key;
      fields["error"] = e.detail;
      return;
    case HistoryKind::kIncidentResolved:
      fields["incident"] = e.key;
      return;
    case HistoryKind::kMessageCorrelated: {
      // "name / correlation key" (history.h)
      const std::size_t slash = e.detail.find(" / ");
      if (slash == std::string::npos) return;
      fields["messageName"] = e.detail.substr(0, slash);
      fields["correlationKey"] = e.detail.substr(slash + 3);
      return;
    }
    default:
      if (!e.detail.empty()) fields["detail"] = e.detail;
      return;
  }
}

}  // namespace

InstanceLog::InstanceLog(InstanceLogOptions options) : options_(std::move(options)) {}

InstanceLog::~InstanceLog() = default;

void InstanceLog::on_event(const HistoryEvent& e) {
  const Line line = line_of(e.kind);
  spdlog::logger& logger = options_.logger ? *options_.logger : *spdlog::default_logger_raw();
  const bool logged = logger.should_log(line.level);
  const std::string key = business_key(e, logged);
  if (!logged) return;
  json fields = {{"instance", e.instance}, {"process", e.process_id}};
  if (!key.empty()) fields["businessKey"] = key;
  if (!e.element_id.empty()) fields["element"] = e.element_id;
  add_details(e, fields);
  log_event(logger, line.level, line.message, fields);
}

std::string InstanceLog::business_key(const HistoryEvent& e, bool needed) {
  std::lock_guard lock(mu_);
  if (e.kind == HistoryKind::kInstanceStarted) {
    remember(e.instance, e.detail);
    return e.detail;
  }
  if (auto it = keys_.find(e.instance); it != keys_.end()) {
    if (!ends_instance(e.kind)) return it->second;
    std::string key = std::move(it->second);
    keys_.erase(it);
    return key;
  }
  if (!needed || !options_.lookup) return {};
  try {
    std::string key = options_.lookup(e.instance);
    if (!ends_instance(e.kind)) remember(e.instance, key);
    return key;
  } catch (...) {  // logged without the key; asked again next time
    return {};
  }
}

void InstanceLog::remember(InstanceId instance, const std::string& key) {
  if (options_.max_remembered == 0) return;
  if (keys_.size() >= options_.max_remembered && !keys_.contains(instance)) {
    keys_.erase(keys_.begin());
  }
  keys_[instance] = key;
}

}  // namespace ordo::server
