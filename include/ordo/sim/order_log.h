// Reading order logs for replays (docs/simulation.md#the-order-log-format): CSV with a
// header, or JSON Lines, one record at a time, so files of millions of records are streamed.
//
// A record is a JSON object. From CSV: column name -> the cell as a string (an empty cell is
// left out: "did not happen" is an absent field; values stay strings, so "01067" keeps its
// leading zero). From JSON Lines: the line's object as it is.
//
// A malformed record is an error naming the file and line ("orders.csv:7: 18 fields, the
// header has 19"); reading goes on with the next record, so the caller chooses between
// skipping it and stopping.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/status.h"

namespace ordo {

struct OrderRecord {
  std::int64_t line = 0;  // where the record starts (1: the first line of the file)
  nlohmann::json fields;  // an object
};

// A CSV record as the texts of its columns, for a caller that builds objects of its own from
// them (the replay hands each record to another thread as one block, and fills an object
// there): `text` holds the cells one after another, `ends[k]` is where the k-th of
// OrderLogReader::columns() ends. An empty cell is an absent field.
struct OrderLogCells {
  std::int64_t line = 0;
  std::string text;
  std::vector<std::uint32_t> ends;

  std::string_view cell(std::size_t k) const noexcept {
    const std::uint32_t begin = k == 0 ? 0 : ends[k - 1];
    return std::string_view(text).substr(begin, ends[k] - begin);
  }
};

class OrderLogReader {
 public:
  // The format follows the name: .csv, or .jsonl / .ndjson / .json (JSON Lines), or .xes /
  // .xes.gz (an XES event log, gzip-compressed or not: one record per event, {case_id,
  // activity, activity_id, lifecycle, timestamp, and its other attributes by key}, read
  // whole). Errors: the file cannot be read; a CSV header that is empty or names a column
  // twice; XES that is not well-formed (file:line).
  static Result<std::unique_ptr<OrderLogReader>> open(const std::string& path);
  // The same over text in memory (tests, small inputs); `name` is used in messages.
  static Result<std::unique_ptr<OrderLogReader>> from_text(std::string text, const std::string& name,
                                                          bool csv);
  virtual ~OrderLogReader() = default;

  // The next record, or nullopt at the end. kInvalidArgument for a malformed record (the
  // next call reads on after it); kIoError when the file fails.
  virtual Result<std::optional<OrderRecord>> next() = 0;
  // The same into `record`, reusing what its fields have allocated: a CSV reader refills the
  // fields a record of the same file had (their map nodes and string buffers), so a reader
  // that recycles its records reads millions of them almost without allocating. False at the
  // end (`record` is then unspecified); errors as next().
  virtual Result<bool> next_into(OrderRecord& record);
  // CSV: the columns a record keeps (keep_only, called before the first record), in name
  // order, and the next record as their cells (false at the end; errors as next()). JSON
  // Lines records are objects of their own: no columns, and next_cells() refuses (kInternal).
  virtual std::vector<std::string> columns() const { return {}; }
  virtual Result<bool> next_cells(OrderLogCells& cells);
  // Makes `fields` the object next() gives for these cells of `columns`, reusing the nodes
  // and string buffers it has.
  static void fill(nlohmann::json& fields, const std::vector<std::string>& columns,
                   const OrderLogCells& cells);
  // How far into the input reading has got, in bytes (for progress bars; a system call).
  virtual std::uint64_t bytes_read() const = 0;
  // The line where the record next() last returned, or refused as malformed, starts.
  virtual std::int64_t line() const = 0;
  // Records hold only these fields from now on (a reader that needs a few of many columns
  // saves building the rest); empty: every field. Malformed records are found as before.
  void keep_only(std::vector<std::string> fields);

 protected:
  // Whether a field is to be kept (keep_only).
  bool kept(std::string_view field) const;

 private:
  std::vector<std::string> keep_;  // sorted; empty: all
};

}  // namespace ordo
