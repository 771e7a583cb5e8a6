// Reading order logs, CSV (RFC 4180) or JSON Lines, and event logs in XES (plain or gzip):
// see include/ordo/sim/order_log.h.
#include "ordo/sim/order_log.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <filesystem>
#include <set>
#include <sstream>

#include <pugixml.hpp>

namespace ordo {
namespace {

using nlohmann::json;

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Whether `s` is UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// Lines of a stream, counted, without their line ends (LF or CRLF), and the first without a
// UTF-8 byte order mark.
class Lines {
 public:
  explicit Lines(std::unique_ptr<std::istream> in) : in_(std::move(in)) {}
  bool next(std::string& line) {
    if (!std::getline(*in_, line)) return false;
    // A byte order mark, as spreadsheet programs put before UTF-8 they save, is no part of
    // the first name (it would hide the header's first column).
    if (number_ == 0 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    ++number_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  }
  std::int64_t number() const noexcept { return number_; }
  std::uint64_t position() const {
    const std::streamoff at = in_->rdbuf()->pubseekoff(0, std::ios::cur, std::ios::in);
    return at < 0 ? 0 : static_cast<std::uint64_t>(at);
  }
  bool failed() const { return in_->bad(); }

 private:
  std::unique_ptr<std::istream> in_;
  std::int64_t number_ = 0;
};

class CsvReader final : public OrderLogReader {
 public:
  CsvReader(std::unique_ptr<std::istream> in, std::string name)
      : lines_(std::move(in)), name_(std::move(name)) {}

  Status read_header() {
    std::vector<std::string> cells;
    std::int64_t at = 0;
    std::size_t n = 0;
    Result<bool> got = record(cells, n, at);
    if (!got) return got.status();
    cells.resize(n);
    if (!*got || (cells.size() == 1 && cells[0].empty())) {
      return Status::invalid_argument(name_ +
                                      ":1: the header is missing: the first line names "
                                      "the columns (orderId,createdAt,...)");
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (!valid_utf8(cells[i])) {
        return Status::invalid_argument(name_ + ":1: column " + std::to_string(i + 1) +
                                        " of the header is not valid UTF-8; save the file as "
                                        "UTF-8");
      }
      if (cells[i].empty()) {
        return Status::invalid_argument(name_ + ":1: column " + std::to_string(i + 1) +
                                        " of the header has no name");
      }
      if (!seen.insert(cells[i]).second) {
        return Status::invalid_argument(name_ + ":1: the header names column '" + cells[i] +
                                        "' twice");
      }
    }
    header_ = std::move(cells);
    // Cells go into the record's map in name order, each at its end: no searching.
    by_name_.resize(header_.size());
    for (std::size_t i = 0; i < by_name_.size(); ++i) by_name_[i] = i;
    std::sort(by_name_.begin(), by_name_.end(),
              [&](std::size_t a, std::size_t b) { return header_[a] < header_[b]; });
    return Status::ok();
  }

  Result<std::optional<OrderRecord>> next() override {
    OrderRecord out;
    Result<bool> got = next_into(out);
    if (!got) return got.status();
    if (!*got) return std::optional<OrderRecord>();
    return std::optional<OrderRecord>(std::move(out));
  }

  Result<bool> next_into(OrderRecord& out) override {
    Result<bool> got = next_cells(flat_);
    if (!got || !*got) return got;
    out.line = flat_.line;
    if (columns_.empty()) columns_ = columns();
    fill(out.fields, columns_, flat_);
    return true;
  }

  std::vector<std::string> columns() const override {
    std::vector<std::string> out;
    for (std::size_t i : by_name_) {
      if (kept(header_[i])) out.push_back(header_[i]);
    }
    return out;
  }

  Result<bool> next_cells(OrderLogCells& out) override {
    std::vector<std::string>& cells = cells_;
    while (true) {
      std::int64_t at = 0;
      if (kept_columns_.size() != header_.size()) {
        kept_columns_.resize(header_.size());
        for (std::size_t i = 0; i < header_.size(); ++i) kept_columns_[i] = kept(header_[i]);
      }
      bool blank = false;
      std::size_t n = 0;
      Result<bool> got = record(cells, n, at, &kept_columns_, &blank);
      last_line_ = at;
      if (!got) return got.status();
      if (!*got) {
        if (lines_.failed()) return Status::io_error(name_ + ": reading failed");
        return false;
      }
      if (blank) continue;
      if (n != header_.size()) {
        return Status::invalid_argument(name_ + ":" + std::to_string(at) + ": " +
                                        std::to_string(n) + " fields, the header has " +
                                        std::to_string(header_.size()));
      }
      for (std::size_t i = 0; i < n; ++i) {
        if (!valid_utf8(cells[i])) {
          return Status::invalid_argument(name_ + ":" + std::to_string(at) + ": column " +
                                          std::to_string(i + 1) + " ('" + header_[i] +
                                          "') is not valid UTF-8; save the file as UTF-8");
        }
      }
      out.line = at;
      out.text.clear();
      out.ends.clear();
      for (std::size_t i : by_name_) {
        if (!kept_columns_[i]) continue;
        out.text += cells[i];
        out.ends.push_back(static_cast<std::uint32_t>(out.text.size()));
      }
      return true;
    }
  }

 private:
  // One record (it may span lines inside quotes) into the first `n` of `cells`; false at the
  // end. `cells` only grows, so its strings keep their buffers from record to record. Cells
  // of columns `keep` says false are left empty (parsed, not copied). `blank`: the line is
  // empty (or just "").
  Result<bool> record(std::vector<std::string>& cells, std::size_t& n, std::int64_t& at,
                      const std::vector<bool>* keep = nullptr, bool* blank = nullptr) {
    n = 0;
    if (!lines_.next(line_)) return false;
    at = lines_.number();
    if (blank != nullptr) *blank = line_.empty() || line_ == "\"\"";
    const auto begin_cell = [&]() -> std::string& {
      if (cells.size() == n) cells.emplace_back();
      std::string& c = cells[n];
      c.clear();
      return c;
    };
    std::string* cell = &begin_cell();
    bool quoted = false;      // inside a quoted field
    bool was_quoted = false;  // the current field was quoted (only a comma may follow)
    bool fresh = true;        // nothing of the current field read yet
    const auto keeping = [&] { return keep == nullptr || n >= keep->size() || (*keep)[n]; };
    bool copy = keeping();
    std::size_t i = 0;
    while (true) {
      if (i == line_.size()) {
        if (!quoted) break;
        // A line end inside quotes belongs to the field.
        if (!lines_.next(line_)) {
          return Status::invalid_argument(name_ + ":" + std::to_string(at) +
                                          ": a quoted field is not closed before the end of "
                                          "the file");
        }
        if (copy) cell->push_back('\n');
        i = 0;
        continue;
      }
      const char c = line_[i++];
      const bool first = fresh;
      fresh = false;
      if (quoted) {
        if (c != '"') {
          // The run of text up to the next quote, at once.
          std::size_t end = line_.find('"', i);
          if (end == std::string::npos) end = line_.size();
          if (copy) cell->append(line_, i - 1, end - (i - 1));
          i = end;
        } else if (i < line_.size() && line_[i] == '"') {
          if (copy) cell->push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else if (c == ',') {
        ++n;
        cell = &begin_cell();
        was_quoted = false;
        fresh = true;
        copy = keeping();
      } else if (c == '"' && first && !was_quoted) {
        quoted = was_quoted = true;
      } else if (was_quoted || c == '"') {
        return Status::invalid_argument(
            name_ + ":" + std::to_string(lines_.number()) + ": column " + std::to_string(n + 1) +
            (was_quoted ? ": text after a closing quote (a field is either all in quotes or "
                          "has none; write \"\" for a quote inside quotes)"
                        : ": a quote inside an unquoted field (put the field in quotes and "
                          "write the quote as \"\")"));
      } else {
        // The run of text up to the next comma or quote, at once. (A loop of its own:
        // find_first_of calls memchr over the two characters for every character.)
        const char* text = line_.data();
        std::size_t end = i;
        while (end < line_.size() && text[end] != ',' && text[end] != '"') ++end;
        if (copy) cell->append(line_, i - 1, end - (i - 1));
        i = end;
      }
    }
    ++n;
    return true;
  }

 public:
  std::uint64_t bytes_read() const override { return lines_.position(); }
  std::int64_t line() const override { return last_line_; }

 private:
  std::int64_t last_line_ = 0;
  Lines lines_;
  std::string name_;
  std::vector<std::string> header_;
  std::vector<std::size_t> by_name_;  // header indices in name order
  std::vector<bool> kept_columns_;    // by header index (keep_only)
  std::vector<std::string> cells_;    // the current record's (and more: it only grows)
  OrderLogCells flat_;                 // next_into's
  std::vector<std::string> columns_;  // next_into's: columns(), once keep_only is settled
  std::string line_;
};

class JsonLinesReader final : public OrderLogReader {
 public:
  JsonLinesReader(std::unique_ptr<std::istream> in, std::string name)
      : lines_(std::move(in)), name_(std::move(name)) {}

  Result<std::optional<OrderRecord>> next() override {
    while (lines_.next(line_)) {
      if (line_.find_first_not_of(" \t") == std::string::npos) continue;
      const std::string where = name_ + ":" + std::to_string(lines_.number());
      last_line_ = lines_.number();
      OrderRecord out;
      out.line = lines_.number();
      try {
        out.fields = json::parse(line_);
      } catch (const json::parse_error& e) {
        return Status::invalid_argument(where + ":" + std::to_string(e.byte) +
                                        ": not valid JSON (one object per line)");
      }
      if (!out.fields.is_object()) {
        return Status::invalid_argument(where + ": a record must be a JSON object");
      }
      auto& object = out.fields.get_ref<json::object_t&>();
      for (auto it = object.begin(); it != object.end();) {
        it = kept(it->first) ? std::next(it) : object.erase(it);
      }
      return std::optional<OrderRecord>(std::move(out));
    }
    if (lines_.failed()) return Status::io_error(name_ + ": reading failed");
    return std::optional<OrderRecord>();
  }

 public:
  std::uint64_t bytes_read() const override { return lines_.position(); }
  std::int64_t line() const override { return last_line_; }

 private:
  std::int64_t last_line_ = 0;
  Lines lines_;
  std::string name_;
  std::string line_;
};

// An event log in XES (IEEE 1849-2016), plain or gzip-compressed (zlib reads both): one
// record per event, {case_id (the trace's concept:name), activity (the event's
// concept:name), activity_id (activityId, as ordo replay writes it), lifecycle
// (lifecycle:transition), timestamp (time:timestamp), and each other attribute by its key},
// with the line of the event's element. The document is read whole (pugixml).
class XesReader final : public OrderLogReader {
 public:
  static Result<std::unique_ptr<OrderLogReader>> open(const std::string& path) {
    gzFile in = gzopen(path.c_str(), "rb");
    if (in == nullptr) return Status::io_error("cannot read " + path);
    gzbuffer(in, 1 << 20);
    auto reader = std::unique_ptr<XesReader>(new XesReader(path));
    std::error_code size_error;
    const auto size = std::filesystem::file_size(path, size_error);
    reader->file_size_ = size_error ? 0 : static_cast<std::uint64_t>(size);
    std::string& text = reader->text_;
    std::vector<char> chunk(1 << 20);
    int n = 0;
    while ((n = gzread(in, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0) {
      text.append(chunk.data(), static_cast<std::size_t>(n));
    }
    int error = Z_OK;
    const char* why = gzerror(in, &error);
    const std::string message = why == nullptr ? std::string() : why;
    gzclose(in);
    if (n < 0 || (error != Z_OK && error != Z_STREAM_END)) {
      return Status::io_error(path + ": not a readable (gzip) file: " + message);
    }
    // Where the lines end, before parsing in place overwrites the text.
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') reader->newlines_.push_back(i);
    }
    const pugi::xml_parse_result parsed =
        reader->doc_.load_buffer_inplace(text.data(), text.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!parsed) {
      return Status::invalid_argument(path + ":" + std::to_string(reader->line_at(parsed.offset)) +
                                      ": not well-formed XML: " + parsed.description());
    }
    const pugi::xml_node log = reader->doc_.child("log");
    if (!log) {
      return Status::invalid_argument(path + ": not an XES event log (no <log> element)");
    }
    reader->trace_ = log.child("trace");
    if (reader->trace_) reader->event_ = reader->trace_.child("event");
    return std::unique_ptr<OrderLogReader>(std::move(reader));
  }

  Result<std::optional<OrderRecord>> next() override {
    while (trace_ && !event_) {
      trace_ = trace_.next_sibling("trace");
      if (trace_) event_ = trace_.child("event");
    }
    if (!trace_) return std::optional<OrderRecord>();
    if (case_of_ != trace_) {  // the trace's id once, not per event
      case_of_ = trace_;
      case_id_.clear();
      for (const pugi::xml_node a : trace_.children("string")) {
        if (std::string_view(a.attribute("key").value()) == "concept:name") case_id_ = a.attribute("value").value();
      }
    }
    const std::string& case_id = case_id_;
    const pugi::xml_node event = event_;
    event_ = event_.next_sibling("event");
    OrderRecord out;
    position_ = static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, event.offset_debug()));
    out.line = last_line_ = line_at(event.offset_debug());
    out.fields = json::object();
    if (case_id.empty()) {
      return Status::invalid_argument(name_ + ":" + std::to_string(line_at(trace_.offset_debug())) +
                                      ": a <trace> without concept:name (the case id)");
    }
    if (kept("case_id")) out.fields["case_id"] = case_id;
    for (const pugi::xml_node a : event.children()) {
      const std::string_view key = a.attribute("key").value();
      if (key.empty()) continue;
      const std::string field = key == "concept:name"           ? "activity"
                                : key == "activityId"           ? "activity_id"
                                : key == "lifecycle:transition" ? "lifecycle"
                                : key == "time:timestamp"       ? "timestamp"
                                                                : std::string(key);
      if (kept(field)) out.fields[field] = a.attribute("value").value();
    }
    return std::optional<OrderRecord>(std::move(out));
  }

  // How far into the file, in its own bytes (compressed ones too): the share of the
  // document read so far.
  std::uint64_t bytes_read() const override {
    return text_.empty() ? file_size_
                         : static_cast<std::uint64_t>(static_cast<double>(file_size_) *
                                                      static_cast<double>(position_) /
                                                      static_cast<double>(text_.size()));
  }
  std::int64_t line() const override { return last_line_; }

 private:
  explicit XesReader(std::string name) : name_(std::move(name)) {}
  // The 1-based line of the byte at `offset` of the document.
  std::int64_t line_at(std::ptrdiff_t offset) const {
    if (offset < 0) return 0;
    return 1 + (std::lower_bound(newlines_.begin(), newlines_.end(), static_cast<std::size_t>(offset)) -
                newlines_.begin());
  }

  std::string name_;
  std::string text_;   // parsed in place: pugixml's nodes point into it
  pugi::xml_document doc_;
  pugi::xml_node trace_, event_;
  pugi::xml_node case_of_;  // the trace whose id case_id_ is
  std::string case_id_;
  std::size_t position_ = 0;
  std::uint64_t file_size_ = 0;
  std::vector<std::size_t> newlines_;
  std::int64_t last_line_ = 0;
};

Result<std::unique_ptr<OrderLogReader>> make(std::unique_ptr<std::istream> in,
                                            const std::string& name, bool csv) {
  if (!csv) return std::unique_ptr<OrderLogReader>(new JsonLinesReader(std::move(in), name));
  auto reader = std::make_unique<CsvReader>(std::move(in), name);
  if (Status s = reader->read_header(); !s) return s;
  return std::unique_ptr<OrderLogReader>(std::move(reader));
}

}  // namespace

Result<bool> OrderLogReader::next_cells(OrderLogCells&) {
  // Not kInvalidArgument: that is a malformed record, after which reading goes on.
  return Status::internal("JSON Lines records have no columns; read them with next()");
}

// Both are in name order: one walk that overwrites the nodes already there (an earlier
// record of the file left the same names, usually), and adds or drops only where a cell is
// empty in one and not the other.
void OrderLogReader::fill(json& fields, const std::vector<std::string>& columns,
                         const OrderLogCells& cells) {
  if (!fields.is_object()) fields = json::object();
  auto& object = fields.get_ref<json::object_t&>();
  auto it = object.begin();
  for (std::size_t k = 0; k < columns.size(); ++k) {
    const std::string& name = columns[k];
    const std::string_view cell = cells.cell(k);
    while (it != object.end() && it->first < name) it = object.erase(it);
    const bool here = it != object.end() && it->first == name;
    if (cell.empty()) {
      if (here) it = object.erase(it);
      continue;
    }
    if (!here) {
      it = object.emplace_hint(it, name, std::string(cell));
    } else if (it->second.is_string()) {
      it->second.get_ref<std::string&>().assign(cell);
    } else {
      it->second = std::string(cell);
    }
    ++it;
  }
  object.erase(it, object.end());
}

Result<bool> OrderLogReader::next_into(OrderRecord& record) {
  Result<std::optional<OrderRecord>> got = next();
  if (!got) return got.status();
  if (!*got) return false;
  record = std::move(**got);
  return true;
}

void OrderLogReader::keep_only(std::vector<std::string> fields) {
  std::sort(fields.begin(), fields.end());
  fields.erase(std::unique(fields.begin(), fields.end()), fields.end());
  keep_ = std::move(fields);
}

bool OrderLogReader::kept(std::string_view field) const {
  return keep_.empty() || std::binary_search(keep_.begin(), keep_.end(), field);
}

Result<std::unique_ptr<OrderLogReader>> OrderLogReader::open(const std::string& path) {
  if (ends_with(path, ".xes") || ends_with(path, ".xes.gz")) return XesReader::open(path);
  const bool csv = ends_with(path, ".csv");
  if (!csv && !ends_with(path, ".jsonl") && !ends_with(path, ".ndjson") &&
      !ends_with(path, ".json")) {
    return Status::invalid_argument(path +
                                    ": say the format by the name: .csv (with a header), "
                                    ".jsonl (JSON Lines), or .xes / .xes.gz (an event log)");
  }
  auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*in) return Status::io_error("cannot read " + path);
  return make(std::move(in), path, csv);
}

Result<std::unique_ptr<OrderLogReader>> OrderLogReader::from_text(std::string text,
                                                                const std::string& name, bool csv) {
  return make(std::make_unique<std::istringstream>(std::move(text)), name, csv);
}

}  // namespace ordo
