// The replay's event log, CSV and XES: see sim/event_log.h.
#include "sim/event_log.h"

#include "sim/xml_text.h"

#include <algorithm>
#include <charconv>
#include <vector>

namespace ordo::sim {
namespace {

void append_number(std::string& out, std::int64_t v, int width) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  for (int pad = width - static_cast<int>(end - buf); pad > 0; --pad) out.push_back('0');
  out.append(buf, end);
}

// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
void civil(std::int64_t days, std::int64_t& y, unsigned& m, unsigned& d) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

void csv_field(std::string& out, std::string_view v) {
  // (A loop, not find_first_of, which calls memchr over the four characters for every
  // character of the field: most of the time of a CSV event log.)
  const auto special = [](char c) { return c == ',' || c == '"' || c == '\r' || c == '\n'; };
  if (std::none_of(v.begin(), v.end(), special)) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string_view activity_name(const Element& e) {
  return e.name.empty() ? e.id : e.name;
}

std::string_view adapter_of(const Element& e) {
  if (runs_as_job(e) && e.task.type.dialect == ExpressionDialect::kStatic)
    return e.task.type.text;
  return {};
}

void xes_string(std::string& out, std::string_view key, std::string_view value) {
  out += "<string key=\"";
  out.append(key);
  out += "\" value=\"";
  append_xml_escaped(out, value);
  out += "\"/>";
}

}  // namespace

void append_timestamp(std::string& out, std::int64_t ms) {
  std::int64_t days = ms >= 0 ? ms / 86'400'000 : (ms - 86'399'999) / 86'400'000;
  std::int64_t rest = ms - days * 86'400'000;
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil(days, y, m, d);
  if (y >= 0 && y <= 9999) {
    // The usual case, digit by digit into one append: an event log writes two a row.
    char b[24];
    const auto put = [&b](int at, std::int64_t v, int width) {
      for (int i = at + width - 1; i >= at; --i, v /= 10) b[i] = static_cast<char>('0' + v % 10);
    };
    put(0, y, 4);
    b[4] = '-';
    put(5, m, 2);
    b[7] = '-';
    put(8, d, 2);
    b[10] = 'T';
    put(11, rest / 3'600'000, 2);
    b[13] = ':';
    put(14, rest / 60'000 % 60, 2);
    b[16] = ':';
    put(17, rest / 1000 % 60, 2);
    b[19] = '.';
    put(20, rest % 1000, 3);
    b[23] = 'Z';
    out.append(b, sizeof b);
    return;
  }
  append_number(out, y, 4);
  out.push_back('-');
  append_number(out, m, 2);
  out.push_back('-');
  append_number(out, d, 2);
  out.push_back('T');
  append_number(out, rest / 3'600'000, 2);
  out.push_back(':');
  append_number(out, rest / 60'000 % 60, 2);
  out.push_back(':');
  append_number(out, rest / 1000 % 60, 2);
  out.push_back('.');
  append_number(out, rest % 1000, 3);
  out.push_back('Z');
}

std::string event_log_header(EventLogFormat format, std::string_view name) {
  if (format == EventLogFormat::kCsv) {
    return "case_id,activity,activity_id,start_time,end_time,lifecycle,adapter\n";
  }
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<log xes.version=\"1849-2016\" xes.features=\"\" xmlns=\"http://www.xes-standard.org/\">\n"
      "<extension name=\"Concept\" prefix=\"concept\" "
      "uri=\"http://www.xes-standard.org/concept.xesext\"/>\n"
      "<extension name=\"Time\" prefix=\"time\" uri=\"http://www.xes-standard.org/time.xesext\"/>\n"
      "<extension name=\"Lifecycle\" prefix=\"lifecycle\" "
      "uri=\"http://www.xes-standard.org/lifecycle.xesext\"/>\n"
      "<global scope=\"trace\"><string key=\"concept:name\" value=\"\"/></global>\n"
      "<global scope=\"event\"><string key=\"concept:name\" value=\"\"/>"
      "<date key=\"time:timestamp\" value=\"1970-01-01T00:00:00.000Z\"/>"
      "<string key=\"lifecycle:transition\" value=\"complete\"/></global>\n"
      "<classifier name=\"Activity\" keys=\"concept:name\"/>\n"
      "<classifier name=\"Activity and transition\" keys=\"concept:name lifecycle:transition\"/>\n";
  xes_string(out, "concept:name", name);
  out += "\n";
  return out;
}

std::string event_log_footer(EventLogFormat format) {
  return format == EventLogFormat::kCsv ? std::string() : std::string("</log>\n");
}

CaseWriter::CaseWriter(EventLogFormat format, const ProcessDefinition& definition)
    : format_(format), def_(definition) {
  if (format_ != EventLogFormat::kCsv) return;
  csv_element_.resize(def_.elements.size());
  csv_adapter_.resize(def_.elements.size());
  for (std::size_t i = 0; i < def_.elements.size(); ++i) {
    const Element& e = def_.elements[i];
    csv_field(csv_element_[i], activity_name(e));
    csv_element_[i].push_back(',');
    csv_field(csv_element_[i], e.id);
    csv_element_[i].push_back(',');
    csv_field(csv_adapter_[i], adapter_of(e));
    csv_adapter_[i].push_back('\n');
  }
}

void CaseWriter::append(std::string& out, std::string_view case_id,
                        std::span<const LogRow> rows) const {
  const ProcessDefinition& def = def_;
  if (format_ == EventLogFormat::kCsv) {
    std::string id;
    csv_field(id, case_id);
    id.push_back(',');
    for (const LogRow& r : rows) {
      out += id;
      out += csv_element_[r.element];
      append_timestamp(out, r.start_ms);
      out.push_back(',');
      if (r.ended) append_timestamp(out, r.end_ms);
      out += !r.ended ? ",active," : r.terminated ? ",terminated," : ",complete,";
      out += csv_adapter_[r.element];
    }
    return;
  }
  struct Entry {
    std::int64_t time;
    std::uint32_t order;
    std::uint32_t row;
    const char* transition;
  };
  std::vector<Entry> entries;
  entries.reserve(rows.size() * 2);
  std::uint32_t n = 0;
  for (std::uint32_t i = 0; i < rows.size(); ++i) {
    const LogRow& r = rows[i];
    const bool instant =
        r.ended && r.end_ms == r.start_ms && is_event(def.elements[r.element].kind);
    if (!instant) entries.push_back({r.start_ms, n++, i, "start"});
    if (r.ended) {
      entries.push_back({r.end_ms, n++, i, r.terminated ? "ate_abort" : "complete"});
    }
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.time < b.time; });
  out += "<trace>";
  xes_string(out, "concept:name", case_id);
  out += "\n";
  for (const Entry& en : entries) {
    const Element& e = def.elements[rows[en.row].element];
    out += "<event>";
    xes_string(out, "concept:name", activity_name(e));
    xes_string(out, "lifecycle:transition", en.transition);
    out += "<date key=\"time:timestamp\" value=\"";
    append_timestamp(out, en.time);
    out += "\"/>";
    xes_string(out, "activityId", e.id);
    if (std::string_view a = adapter_of(e); !a.empty()) xes_string(out, "adapter", a);
    out += "</event>\n";
  }
  out += "</trace>\n";
}

}  // namespace ordo::sim
