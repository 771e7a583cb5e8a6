// replay(): reads the order log once, spreads the orders over lanes (threads, each with its own
// engines, one per variant), merges what the lanes measured and writes the event logs. See
// include/ordo/sim/replay.h and docs/simulation.md.
#include "ordo/sim/replay.h"

#include <zlib.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "ordo/sim/order_log.h"
#include "ordo/decision.h"
#include "ordo/loader.h"
#include "sim/replay_sim.h"
#include "time/iso8601.h"
#include "util/spelling.h"

namespace ordo {
namespace {

using nlohmann::json;
using namespace sim;

constexpr std::size_t kBatch = 256;
// Records are started in time order; a record up to this many places early is put right.
constexpr std::size_t kReorderWindow = 4096;

// A bounded queue between the reading thread and a lane.
template <class T>
class Channel {
 public:
  explicit Channel(std::size_t capacity) : capacity_(capacity) {}
  void push(T item) {
    std::unique_lock lock(mu_);
    room_.wait(lock, [&] { return items_.size() < capacity_; });
    items_.push_back(std::move(item));
    ready_.notify_one();
  }
  std::optional<T> pop() {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    room_.notify_one();
    return item;
  }
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    ready_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<T> items_;
  std::size_t capacity_;
  bool closed_ = false;
};

using Batch = std::vector<std::unique_ptr<ReplayRecord>>;

struct Lane {
  std::vector<std::unique_ptr<ReplaySim>> sims;
  std::int64_t replayed = 0;  // records every variant replayed
  Channel<Batch> input{16};
  std::thread thread;
};

Result<json> read_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error("cannot read the replay config " + path);
  std::stringstream text;
  text << in.rdbuf();
  try {
    return json::parse(text.str());
  } catch (const json::parse_error& e) {
    return Status::invalid_argument(path + ": not valid JSON: " + e.what());
  }
}

// `answered`: job types the notification rules answer (the config needs no entry for them).
Result<std::unique_ptr<ReplayVariant>> load_variant(const std::string& file,
                                                    const ReplayConfig& config,
                                                    const std::vector<std::string>& answered) {
  LoadResult loaded = load_bpmn_file(file);
  std::string errors;
  for (const Diagnostic& d : loaded.diagnostics) {
    if (d.severity == Severity::kError) errors += "\n" + format_diagnostic(d);
  }
  if (!loaded.document || !errors.empty()) {
    return Status::invalid_definition(file + " does not load:" + errors);
  }
  if (loaded.document->processes.size() != 1) {
    return Status::invalid_argument(file + " defines " +
                                    std::to_string(loaded.document->processes.size()) +
                                    " executable processes; a replay variant is one process");
  }
  auto v = std::make_unique<ReplayVariant>();
  v->file = file;
  v->name = std::filesystem::path(file).stem().string();
  v->document = loaded.document;
  v->def = loaded.document->processes.front().get();
  const ProcessDefinition& def = *v->def;
  v->milestone_of.assign(def.elements.size(), -1);
  v->logged.assign(def.elements.size(), 0);
  for (std::uint32_t i = 0; i < def.elements.size(); ++i) {
    const Element& e = def.elements[i];
    v->element_at.emplace(e.id.data(), i);
    v->logged[i] = is_gateway(e.kind) ? 0 : 1;
    if (runs_as_job(e) && e.task.type.dialect == ExpressionDialect::kStatic &&
        config.task(e.task.type.text) == nullptr &&
        std::find(answered.begin(), answered.end(), e.task.type.text) == answered.end()) {
      return Status::invalid_argument(
          config.source + ": tasks: no entry for job type '" + e.task.type.text + "' (" +
          std::string(describe(e.kind)) + " '" + e.id + "' at " + file + ":" +
          std::to_string(e.location.line) + ":" + std::to_string(e.location.column) +
          "); add one, or a \"default\" for the types it does not name");
    }
  }
  for (std::size_t m = 0; m < config.milestones.size(); ++m) {
    const ElementIndex at = def.element_index(config.milestones[m].second);
    if (at != kNoIndex) v->milestone_of[at] = static_cast<int>(m);
  }
  return v;
}

// Element ids and job types the config names must exist in some variant (a variant may
// lack one): a misspelt type would otherwise leave its jobs to the "default".
Status check_ids(const ReplayConfig& config,
                 const std::vector<std::unique_ptr<ReplayVariant>>& variants) {
  std::set<std::string, std::less<>> types;
  bool computed = false;  // a type given as an expression: any entry may be for it
  for (const auto& v : variants) {
    for (const Element& e : v->def->elements) {
      if (!runs_as_job(e)) continue;
      if (e.task.type.dialect == ExpressionDialect::kStatic) {
        types.insert(e.task.type.text);
      } else {
        computed = true;
      }
    }
  }
  for (const auto& [type, spec] : config.tasks) {
    if (computed) break;
    if (types.count(type) != 0) continue;
    std::string known;
    for (const std::string& t : types) known += (known.empty() ? "" : ", ") + t;
    const std::optional<std::string> near =
        util::closest_name(type, std::vector<std::string>(types.begin(), types.end()));
    return Status::invalid_argument(
        config.source + ": tasks." + type + ": no process has a job of this type" +
        (near ? "; did you mean '" + *near + "'?" : std::string()) + " (they have: " + known +
        ")");
  }
  const auto known = [&](const std::string& id) {
    return std::any_of(variants.begin(), variants.end(),
                       [&](const auto& v) { return v->def->element_index(id) != kNoIndex; });
  };
  for (const auto& [name, id] : config.milestones) {
    if (!known(id)) {
      return Status::invalid_argument(config.source + ": milestones." + name +
                                      ": no process has an element '" + id + "'");
    }
  }
  for (const RateSpec& r : config.rates) {
    if (!known(r.reached)) {
      return Status::invalid_argument(config.source + ": rates." + r.name +
                                      ".reached: no process has an element '" + r.reached + "'");
    }
    if (!r.of.empty() && !known(r.of)) {
      return Status::invalid_argument(config.source + ": rates." + r.name +
                                      ".of: no process has an element '" + r.of + "'");
    }
  }
  return Status::ok();
}

std::string variant_path(const std::string& path, const std::string& name, bool several) {
  if (!several) return path;
  std::filesystem::path p(path);
  // OUT.xes.gz -> OUT.NAME.xes.gz, as OUT.csv -> OUT.NAME.csv.
  const bool gz = path.ends_with(".gz");
  if (gz) p = p.parent_path() / p.stem();
  return (p.parent_path() / (p.stem().string() + "." + name + p.extension().string() +
                             (gz ? ".gz" : "")))
      .string();
}

// Where the event log goes: a file, or a gzip file (zlib) for a name ending in .gz.
class LogFile {
 public:
  explicit LogFile(const std::string& path) : gz_(path.ends_with(".gz")) {
    if (gz_) {
      gz_file_ = gzopen(path.c_str(), "wb6");
      if (gz_file_ != nullptr) gzbuffer(gz_file_, 1 << 20);
    } else {
      out_.rdbuf()->pubsetbuf(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
      out_.open(path, std::ios::binary);
    }
  }
  ~LogFile() {
    if (gz_file_ != nullptr) gzclose(gz_file_);
  }
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;
  bool ok() const { return gz_ ? gz_file_ != nullptr && good_ : static_cast<bool>(out_); }
  void write(std::string_view bytes) {
    if (gz_) {
      while (good_ && !bytes.empty()) {
        const auto n = static_cast<unsigned>(std::min<std::size_t>(bytes.size(), 1u << 30));
        good_ = gz_file_ != nullptr && gzwrite(gz_file_, bytes.data(), n) == static_cast<int>(n);
        bytes.remove_prefix(n);
      }
    } else {
      out_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
  }
  bool close() {
    if (gz_) {
      const bool closed = gz_file_ != nullptr && gzclose(gz_file_) == Z_OK;
      gz_file_ = nullptr;
      return closed && good_;
    }
    out_.close();
    return static_cast<bool>(out_);
  }

 private:
  bool gz_;
  bool good_ = true;
  gzFile gz_file_ = nullptr;
  std::vector<char> buffer_ = std::vector<char>(1 << 20);
  std::ofstream out_;
};

// The lanes' spills, merged by (start, line): cases in the order they started.
Status write_event_log(const std::string& path, EventLogFormat format, const std::string& name,
                       std::vector<std::FILE*> spills) {
  LogFile out(path);
  if (!out.ok()) return Status::io_error("cannot write the event log " + path);
  out.write(event_log_header(format, name));
  struct Head {
    std::int64_t v[3];
    bool live = false;
  };
  std::vector<Head> heads(spills.size());
  const auto read_head = [&](std::size_t i) {
    heads[i].live = std::fread(heads[i].v, sizeof heads[i].v, 1, spills[i]) == 1;
  };
  // (The spills read through the 1 MB buffers their lanes gave them.)
  for (std::size_t i = 0; i < spills.size(); ++i) read_head(i);
  std::vector<char> buffer;
  while (true) {
    std::size_t best = spills.size();
    for (std::size_t i = 0; i < spills.size(); ++i) {
      if (!heads[i].live) continue;
      if (best == spills.size() || heads[i].v[0] < heads[best].v[0] ||
          (heads[i].v[0] == heads[best].v[0] && heads[i].v[1] < heads[best].v[1])) {
        best = i;
      }
    }
    if (best == spills.size()) break;
    buffer.resize(static_cast<std::size_t>(heads[best].v[2]));
    if (std::fread(buffer.data(), 1, buffer.size(), spills[best]) != buffer.size()) {
      return Status::io_error("the event log's temporary file was cut short");
    }
    out.write(std::string_view(buffer.data(), buffer.size()));
    read_head(best);
  }
  out.write(event_log_footer(format));
  if (!out.close()) return Status::io_error("cannot write the event log " + path);
  return Status::ok();
}

}  // namespace

Result<ReplayResult> replay(const ReplayOptions& options) {
  if (options.processes.empty()) return Status::invalid_argument("give at least one BPMN file");
  json config_json = options.config;
  std::string config_name = "the replay config";
  if (!options.config_path.empty()) {
    Result<json> read = read_config_file(options.config_path);
    if (!read) return read.status();
    config_json = std::move(*read);
    config_name = options.config_path;
  }
  if (config_json.is_null()) config_json = json::object();
  Result<ReplayConfig> config = read_replay_config(config_json, config_name);
  if (!config) return config.status();

  std::vector<std::unique_ptr<ReplayVariant>> variants;
  std::vector<std::shared_ptr<const DecisionModel>> decisions;
  // Notification rules: one set for every variant, or one each.
  const std::size_t variant_files = static_cast<std::size_t>(
      std::count_if(options.processes.begin(), options.processes.end(),
                    [](const std::string& f) { return !f.ends_with(".dmn"); }));
  const std::vector<ReplayNotifications>& rules = options.notifications;
  if (rules.size() > 1 && rules.size() != variant_files) {
    return Status::invalid_argument(
        "notification rules: " + std::to_string(rules.size()) + " sets for " +
        std::to_string(variant_files) +
        " variants; give one for every variant, or one set for each variant in their order");
  }
  for (const std::string& file : options.processes) {
    if (file.ends_with(".dmn")) {  // decisions the variants call, not a variant
      DecisionLoad loaded = load_decision_files({file});
      if (!loaded.ok()) {
        std::string message = "cannot load " + file + ":";
        for (const Diagnostic& d : loaded.diagnostics) message += "\n  " + format_diagnostic(d);
        return Status::invalid_definition(std::move(message));
      }
      decisions.push_back(std::move(loaded.model));
      continue;
    }
    const ReplayNotifications* own =
        rules.empty() ? nullptr : &rules[rules.size() == 1 ? 0 : variants.size()];
    Result<std::unique_ptr<ReplayVariant>> v =
        load_variant(file, *config, own ? own->job_types : std::vector<std::string>());
    if (!v) return v.status();
    (*v)->notifications = own;
    variants.push_back(std::move(*v));
  }
  for (std::size_t i = 0; i < variants.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (variants[i]->name == variants[j]->name) variants[i]->name += "-" + std::to_string(i + 1);
    }
  }
  if (Status s = check_ids(*config, variants); !s) return s;

  if (variants.empty()) return Status::invalid_argument("give at least one BPMN file");
  ReplayShared shared;
  shared.config = &*config;
  shared.decisions = std::move(decisions);
  shared.seed = options.seed;
  BadRecords bad;
  DuplicateOrders duplicates;
  shared.order_log_name = options.order_log;
  if (!options.events_path.empty()) {
    const std::string& p = options.events_path;
    const bool xes = p.ends_with(".xes") || p.ends_with(".xes.gz");
    if (!p.ends_with(".csv") && !xes) {
      return Status::invalid_argument("--events " + p +
                                      ": name a .csv, a .xes or a .xes.gz (compressed) file");
    }
    shared.log_events = true;
    shared.log_format = xes ? EventLogFormat::kXes : EventLogFormat::kCsv;
  }

  Result<std::unique_ptr<OrderLogReader>> reader = OrderLogReader::open(options.order_log);
  if (!reader) return reader.status();
  (*reader)->keep_only(config->record_fields);
  const std::vector<std::string> columns = (*reader)->columns();  // empty: JSON Lines
  std::error_code size_error;
  const std::uint64_t total_bytes = std::filesystem::file_size(options.order_log, size_error);

  int threads = options.threads;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::min(threads, 64);
  std::vector<std::unique_ptr<Lane>> lanes;
  for (int i = 0; i < threads; ++i) {
    auto lane = std::make_unique<Lane>();
    for (const auto& v : variants) {
      auto sim = std::make_unique<ReplaySim>(*v, shared);
      if (Status s = sim->init(); !s) return s;
      lane->sims.push_back(std::move(sim));
    }
    lanes.push_back(std::move(lane));
  }
  // Stopping at a bad record: nothing after it is started any more, but everything before it
  // still is, so an earlier bad record is found and named whatever the threads.
  const auto stopping = [&] { return !options.skip_bad_records && bad.smallest() != INT64_MAX; };
  RecordPool pool;
  for (auto& lane : lanes) {
    Lane* l = lane.get();
    const bool several = variants.size() > 1;
    l->thread = std::thread([l, &stopping, &bad, &options, &config, &variants, &pool, &columns,
                             several] {
      ReplayRecord local;  // a CSV record's fields, filled here
      while (std::optional<Batch> batch = l->input.pop()) {
        for (const std::unique_ptr<ReplayRecord>& r : *batch) {
          if (stopping() && r->line > bad.smallest()) continue;
          if (!columns.empty()) {
            local.line = r->line;
            local.start_ms = r->start_ms;
            local.order_id.assign(r->order_id);
            local.partition = r->partition;
            OrderLogReader::fill(local.fields, columns, r->cells);
          }
          const ReplayRecord& record = columns.empty() ? *r : local;
          Result<json> vars = start_variables(*config, record);
          if (!vars) {
            bad.add(record.line, at_line(options.order_log, record.line, vars.status().message()));
            continue;
          }
          // A record counts in every variant or in none, so the variants compare the same
          // orders; a record bad in one of them is reported once.
          std::size_t failed = l->sims.size();
          for (std::size_t i = 0; i < l->sims.size() && failed == l->sims.size(); ++i) {
            if (!l->sims[i]->replay(record, i + 1 == l->sims.size() ? std::move(*vars) : *vars)) {
              failed = i;
            }
          }
          if (failed == l->sims.size()) {
            for (auto& sim : l->sims) sim->commit();
            ++l->replayed;
          } else {
            for (auto& sim : l->sims) sim->discard();
            bad.add(record.line, l->sims[failed]->error() +
                                     (several ? " (in " + variants[failed]->name + ")" : ""));
          }
        }
        pool.give(*batch);
      }
      for (auto& sim : l->sims) sim->drain();
    });
  }

  // ---- reading (this thread) ----
  const ReplayConfig& cfg = *config;
  std::int64_t read = 0;
  Status failure;
  std::vector<Batch> batches(lanes.size());
  const auto by_time = [](const std::unique_ptr<ReplayRecord>& a,
                          const std::unique_ptr<ReplayRecord>& b) {
    return a->start_ms != b->start_ms ? a->start_ms > b->start_ms : a->line > b->line;
  };
  Batch window;  // a heap: earliest first
  const auto take_earliest = [&] {
    std::pop_heap(window.begin(), window.end(), by_time);
    std::unique_ptr<ReplayRecord> r = std::move(window.back());
    window.pop_back();
    return r;
  };
  std::int64_t last_start = INT64_MIN;
  const auto reject = [&](std::int64_t line, std::string message) {
    bad.add(line, at_line(options.order_log, line, message));
  };
  const auto release = [&](std::unique_ptr<ReplayRecord> r) {
    if (r->start_ms < last_start) {
      reject(r->line, "starts at " + time::format_date_time(r->start_ms) +
                          ", before orders already started (" + time::format_date_time(last_start) +
                          "); the order log must be in time order (sort it by '" + cfg.time_field +
                          "')");
      return;
    }
    last_start = r->start_ms;
    const std::size_t lane = r->partition % lanes.size();
    batches[lane].push_back(std::move(r));
    if (batches[lane].size() >= kBatch) {
      lanes[lane]->input.push(std::move(batches[lane]));
      batches[lane].clear();
    }
  };
  // Where the fields the reader needs are among a CSV record's cells.
  const auto column = [&](const std::string& name) {
    auto it = std::lower_bound(columns.begin(), columns.end(), name);
    return it != columns.end() && *it == name ? static_cast<std::size_t>(it - columns.begin())
                                              : columns.size();
  };
  const std::size_t time_column = column(cfg.time_field), id_column = column(cfg.id_field),
                    partition_column = column(cfg.partition_field);
  std::vector<std::size_t> required_columns;
  for (const std::string& f : cfg.requires_fields) required_columns.push_back(column(f));
  std::unique_ptr<ReplayRecord> record;
  while (!stopping()) {
    if (!record) record = pool.take();
    Result<bool> next =
        columns.empty() ? (*reader)->next_into(*record) : (*reader)->next_cells(record->cells);
    if (!next) {
      if (next.status().code() != StatusCode::kInvalidArgument) {
        failure = next.status();
        break;
      }
      ++read;
      const std::string& m = next.status().message();
      bad.add((*reader)->line(), m);
      continue;
    }
    if (!*next) break;
    ++read;
    if (options.progress && read % 8192 == 0)
      options.progress((*reader)->bytes_read(), total_bytes);
    if (!columns.empty()) record->line = record->cells.line;
    const std::int64_t line = record->line;
    // A field as text (a CSV cell, or a JSON value as text_of gives it); absent: nullopt.
    std::string scratch;
    const auto text = [&](std::size_t k,
                          const std::string& name) -> std::optional<std::string_view> {
      if (!columns.empty()) {
        if (k == columns.size() || record->cells.cell(k).empty()) return std::nullopt;
        return record->cells.cell(k);
      }
      auto it = record->fields.find(name);
      if (it == record->fields.end() || it->is_null()) return std::nullopt;
      if (it->is_string()) return std::string_view(it->get_ref<const std::string&>());
      scratch = text_of(*it);
      return std::string_view(scratch);
    };
    std::optional<std::string_view> created = text(time_column, cfg.time_field);
    if (!created) {
      reject(line, "the record has no '" + cfg.time_field + "' (when the order was placed)");
      continue;
    }
    // From JSON Lines the time must be a JSON string (text() also gives numbers as text).
    const json* created_json = columns.empty() ? &*record->fields.find(cfg.time_field) : nullptr;
    std::optional<std::int64_t> at;
    if (created_json == nullptr || created_json->is_string()) at = time::parse_date_time(*created);
    if (!at) {
      reject(line, "'" + cfg.time_field + "' is " +
                       (created_json != nullptr ? created_json->dump() : json(*created).dump()) +
                       ", not an ISO 8601 date-time such as 2026-09-01T10:00:00Z");
      continue;
    }
    record->start_ms = *at;
    std::optional<std::string_view> id = text(id_column, cfg.id_field);
    if (!id) {
      reject(line, "the record has no '" + cfg.id_field + "' (the order's id)");
      continue;
    }
    record->order_id.assign(*id);
    bool complete = true;
    for (std::size_t i = 0; i < cfg.requires_fields.size(); ++i) {
      if (!text(required_columns[i], cfg.requires_fields[i])) {
        reject(line,
               "the record has no '" + cfg.requires_fields[i] + "', which the config requires");
        complete = false;
        break;
      }
    }
    if (!complete) continue;
    // The first record of an order is replayed; a later one is reported and left out.
    if (duplicates.repeats(record->order_id, line)) continue;
    std::optional<std::string_view> partition = text(partition_column, cfg.partition_field);
    record->partition = stable_hash(partition ? *partition : std::string_view(record->order_id));
    window.push_back(std::move(record));
    std::push_heap(window.begin(), window.end(), by_time);
    if (window.size() > kReorderWindow) release(take_earliest());
  }
  while (!window.empty()) {
    std::unique_ptr<ReplayRecord> r = take_earliest();
    if (!stopping() || r->line < bad.smallest()) release(std::move(r));
  }
  for (std::size_t i = 0; i < lanes.size(); ++i) {
    if (!batches[i].empty()) lanes[i]->input.push(std::move(batches[i]));
    lanes[i]->input.close();
  }
  for (auto& lane : lanes) lane->thread.join();
  if (options.progress) options.progress(total_bytes, total_bytes);
  if (!failure) return failure;
  if (!options.skip_bad_records && bad.count() > 0) {
    // Only the first is named: how many more were found before the run stopped depends on
    // how far the lanes had got.
    return Status::invalid_argument(
        bad.first().front().second +
        "; fix the record (or the config), or pass --skip-bad-records to leave such "
        "orders out");
  }

  ReplayResult result;
  json report;
  report["ordoReplay"] = 1;
  report["orderLog"] = options.order_log;
  report["seed"] = options.seed;
  json skipped = json::array();
  for (const auto& [line, message] : bad.first())
    skipped.push_back({{"line", line}, {"message", message}});
  json out_variants = json::array();
  std::int64_t replayed = 0;
  for (auto& lane : lanes) replayed += lane->replayed;
  for (std::size_t v = 0; v < variants.size(); ++v) {
    VariantStats total(*variants[v]->def, cfg);
    for (auto& lane : lanes) total.merge(lane->sims[v]->stats());
    json variant = {{"name", variants[v]->name},
                    {"file", variants[v]->file},
                    {"process", variants[v]->def->id},
                    {"processName", variants[v]->def->name}};
    if (variants[v]->notifications != nullptr) {
      variant["notificationRules"] = variants[v]->notifications->source;
    }
    variant.update(total.to_json());
    out_variants.push_back(std::move(variant));
    result.documents.push_back(variants[v]->document);
  }
  json repeated = json::array();
  for (const DuplicateOrders::Repeat& d : duplicates.first()) {
    repeated.push_back({{"line", d.line}, {"orderId", d.order_id}, {"firstLine", d.first_line}});
  }
  report["records"] = {{"read", read},
                       {"replayed", replayed},
                       {"skipped", bad.count()},
                       {"skippedRecords", std::move(skipped)},
                       {"duplicates", duplicates.count()},
                       {"duplicateRecords", std::move(repeated)}};
  report["variants"] = std::move(out_variants);
  result.report = std::move(report);

  if (shared.log_events) {
    for (std::size_t v = 0; v < variants.size(); ++v) {
      std::vector<std::FILE*> spills;
      for (auto& lane : lanes) spills.push_back(lane->sims[v]->spill());
      const std::string path =
          variant_path(options.events_path, variants[v]->name, variants.size() > 1);
      if (Status s = write_event_log(path, shared.log_format, variants[v]->name, spills); !s)
        return s;
      result.event_files.push_back(path);
    }
  }
  return result;
}

}  // namespace ordo
