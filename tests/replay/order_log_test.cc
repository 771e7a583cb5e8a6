// Reading history for replays: CSV (RFC 4180) and JSON Lines, streamed, with line numbers.
#include <gtest/gtest.h>

#include <sstream>

#include "ordo/sim/order_log.h"
#include "ordo/sim/order_log_gen.h"
#include "test_util.h"

namespace ordo::testing {
namespace {

using nlohmann::json;

std::unique_ptr<OrderLogReader> reader(std::string text, bool csv = true) {
  auto r = OrderLogReader::from_text(std::move(text), "orders.csv", csv);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? std::move(*r) : nullptr;
}

// Every record, or the first error's message in place of the record.
std::vector<std::string> all(OrderLogReader& r) {
  std::vector<std::string> out;
  while (true) {
    Result<std::optional<OrderRecord>> got = r.next();
    if (!got) {
      out.push_back("error: " + got.status().message());
      continue;
    }
    if (!*got) return out;
    out.push_back(std::to_string((*got)->line) + " " + (*got)->fields.dump());
  }
}

TEST(OrderLog, ReadsWhatGenHistoryWrites) {
  std::ostringstream csv;
  OrderLogGenOptions options;
  options.orders = 300;
  ASSERT_OK(write_synthetic_order_log(csv, options));
  auto r = reader(csv.str());
  ASSERT_NE(r, nullptr);
  std::int64_t expected_line = 2, declined = 0;
  while (true) {
    auto got = r->next();
    ASSERT_OK(got);
    if (!*got) break;
    const OrderRecord& rec = **got;
    EXPECT_EQ(rec.line, expected_line++);
    EXPECT_TRUE(rec.fields["orderId"].is_string());
    EXPECT_TRUE(rec.fields["total"].is_string()) << "values stay strings";
    if (rec.fields.value("paymentOutcome", "") == "declined") {
      ++declined;
      EXPECT_FALSE(rec.fields.contains("shippedAt")) << "an empty cell is an absent field";
    }
  }
  EXPECT_EQ(expected_line, 302);
  EXPECT_GT(declined, 0);
}

TEST(OrderLog, CsvQuotesCommasLineBreaksAndCrLf) {
  auto r = reader(
      "orderId,note,postalCode\r\n"
      "A-1,\"Smith, John\",01067\r\n"
      "A-2,\"said \"\"hi\"\"\nand left\",\r\n"
      "\n"
      "A-3,,80331\n");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(all(*r), std::vector<std::string>({
                         R"(2 {"note":"Smith, John","orderId":"A-1","postalCode":"01067"})",
                         R"(3 {"note":"said \"hi\"\nand left","orderId":"A-2"})",
                         R"(6 {"orderId":"A-3","postalCode":"80331"})",
                     }));
}

TEST(OrderLog, AMalformedCsvRecordNamesItsLineAndReadingGoesOn) {
  auto r = reader(
      "orderId,createdAt\n"
      "A-1,2026-09-01T10:00:00Z\n"
      "A-2\n"
      "A-3,\"x\"y\n"
      "A-4,a\"b\n"
      "A-5,2026-09-01T11:00:00Z\n"
      "A-6,\"never closed\n");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(
      all(*r),
      std::vector<std::string>({
          R"(2 {"createdAt":"2026-09-01T10:00:00Z","orderId":"A-1"})",
          "error: orders.csv:3: 1 fields, the header has 2",
          "error: orders.csv:4: column 2: text after a closing quote (a field is either all in "
          "quotes or has none; write \"\" for a quote inside quotes)",
          "error: orders.csv:5: column 2: a quote inside an unquoted field (put the field in "
          "quotes and write the quote as \"\")",
          R"(6 {"createdAt":"2026-09-01T11:00:00Z","orderId":"A-5"})",
          "error: orders.csv:7: a quoted field is not closed before the end of the file",
      }));
}

TEST(OrderLog, TextThatIsNotUtf8IsAMalformedRecord) {
  auto r = reader("orderId,name\nA,M\xfcller\nB,M\xc3\xbcller\nC,\xed\xa0\x80\n");
  EXPECT_EQ(all(*r),
            (std::vector<std::string>{
                "error: orders.csv:2: column 2 ('name') is not valid UTF-8; save the file as UTF-8",
                "3 {\"name\":\"M\xc3\xbcller\",\"orderId\":\"B\"}",
                "error: orders.csv:4: column 2 ('name') is not valid UTF-8; save the file as "
                "UTF-8"}));
}

TEST(OrderLog, KeepOnlyDropsOtherFieldsButStillFindsMalformedRecords) {
  auto csv = reader("a,b,c\n1,\"x,y\",3\n4,ab\"c,6\n7,8\n\n10,\"11\n12\",13\n");
  csv->keep_only({"a", "c"});
  EXPECT_EQ(all(*csv),
            (std::vector<std::string>{
                "2 {\"a\":\"1\",\"c\":\"3\"}",
                "error: orders.csv:3: column 2: a quote inside an unquoted field (put the field "
                "in quotes and write the quote as \"\")",
                "error: orders.csv:4: 2 fields, the header has 3",
                "6 {\"a\":\"10\",\"c\":\"13\"}"}));
  auto jsonl = reader("{\"a\": 1, \"b\": 2}\n", false);
  jsonl->keep_only({"a"});
  EXPECT_EQ(all(*jsonl), (std::vector<std::string>{"1 {\"a\":1}"}));
}

// Reading into the same record again and again (as a replay does) gives what next() gives:
// a field one record has and the next lacks is gone, a value type left by someone else is
// replaced, and a field the file does not have at all is dropped.
TEST(OrderLog, NextIntoAReusedRecordGivesWhatNextGives) {
  const std::string text =
      "id,note,when\n1,first,2026-09-01\n2,,2026-09-02\n3,\"a, b\",\n4,\"x\"\"y\",2026-09-04\n"
      "5,5,\n";
  auto plain = reader(text);
  const std::vector<std::string> expected = all(*plain);
  ASSERT_EQ(expected.size(), 5u);

  auto r = reader(text);
  OrderRecord record;
  record.fields = {{"aaa", 1}, {"note", 42}, {"zzz", "left over"}};
  std::vector<std::string> got;
  while (true) {
    Result<bool> more = r->next_into(record);
    ASSERT_OK(more);
    if (!*more) break;
    got.push_back(std::to_string(record.line) + " " + record.fields.dump());
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(got[1], "3 {\"id\":\"2\",\"when\":\"2026-09-02\"}");

  // The same as cells of columns(), filled into an object elsewhere (as a replay's lanes do).
  auto cells_reader = reader(text);
  cells_reader->keep_only({"when", "id", "missing"});
  EXPECT_EQ(cells_reader->columns(), (std::vector<std::string>{"id", "when"}));
  OrderLogCells cells;
  ASSERT_OK(cells_reader->next_cells(cells));
  EXPECT_EQ(cells.line, 2);
  EXPECT_EQ(cells.cell(0), "1");
  EXPECT_EQ(cells.cell(1), "2026-09-01");
  ASSERT_OK(cells_reader->next_cells(cells));
  ASSERT_OK(cells_reader->next_cells(cells));
  EXPECT_EQ(cells.cell(1), "") << "an empty cell";
  OrderRecord filled;
  filled.fields = {{"zzz", 1}};
  OrderLogReader::fill(filled.fields, cells_reader->columns(), cells);
  EXPECT_EQ(filled.fields.dump(), "{\"id\":\"3\"}");

  auto jsonl = reader("{\"a\": 1}\n{\"b\": [2]}\n", false);
  EXPECT_TRUE(jsonl->columns().empty());
  EXPECT_EQ(jsonl->next_cells(cells).status().code(), StatusCode::kInternal);
  ASSERT_OK(jsonl->next_into(record));
  EXPECT_EQ(record.fields.dump(), "{\"a\":1}");
  ASSERT_OK(jsonl->next_into(record));
  EXPECT_EQ(record.fields.dump(), "{\"b\":[2]}");
  Result<bool> end = jsonl->next_into(record);
  ASSERT_OK(end);
  EXPECT_FALSE(*end);
}

TEST(OrderLog, ABadHeaderIsRefused) {
  for (const auto& [text, says] : std::vector<std::pair<std::string, std::string>>{
           {"", "orders.csv:1: the header is missing"},
           {"orderId,,total\n", "orders.csv:1: column 2 of the header has no name"},
           {"orderId,total,orderId\n", "orders.csv:1: the header names column 'orderId' twice"},
       }) {
    auto r = OrderLogReader::from_text(text, "orders.csv", true);
    ASSERT_FALSE(r.is_ok()) << text;
    EXPECT_EQ(r.status().message().rfind(says, 0), 0u) << r.status().message();
  }
}

TEST(OrderLog, JsonLinesKeepTheirTypesAndBadLinesNameTheirPlace) {
  auto r = reader(
      "{\"orderId\": \"A-1\", \"inStock\": true, \"total\": 12.5}\n"
      "\n"
      "{\"orderId\": \"A-2\", \n"
      "[1, 2]\n"
      "{\"orderId\": \"A-3\"}\n",
      false);
  ASSERT_NE(r, nullptr);
  const std::vector<std::string> got = all(*r);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], R"(1 {"inStock":true,"orderId":"A-1","total":12.5})");
  EXPECT_EQ(got[1].rfind("error: orders.csv:3:", 0), 0u) << got[1];
  EXPECT_NE(got[1].find("not valid JSON"), std::string::npos) << got[1];
  EXPECT_EQ(got[2], "error: orders.csv:4: a record must be a JSON object");
  EXPECT_EQ(got[3], R"(5 {"orderId":"A-3"})");
}

// Spreadsheet programs save "CSV UTF-8" with a byte order mark before the header.
TEST(OrderLog, AByteOrderMarkIsNoPartOfTheFirstColumnsName) {
  auto csv = reader("\xEF\xBB\xBForderId,total\r\nA-1,10\r\n");
  ASSERT_NE(csv, nullptr);
  EXPECT_EQ(csv->columns(), std::vector<std::string>({"orderId", "total"}));
  EXPECT_EQ(all(*csv), std::vector<std::string>({R"(2 {"orderId":"A-1","total":"10"})"}));
  auto lines = reader("\xEF\xBB\xBF{\"orderId\": \"A-1\"}\n", false);
  ASSERT_NE(lines, nullptr);
  EXPECT_EQ(all(*lines), std::vector<std::string>({R"(1 {"orderId":"A-1"})"}));
  // Only at the start of the file: elsewhere it is text of a cell.
  auto later = reader("orderId,note\nA-1,\xEF\xBB\xBFx\n");
  ASSERT_NE(later, nullptr);
  EXPECT_EQ(all(*later),
            std::vector<std::string>({"2 {\"note\":\"\xEF\xBB\xBFx\",\"orderId\":\"A-1\"}"}));
}

TEST(OrderLog, OpenChoosesTheFormatByNameAndReadsTheSample) {
  EXPECT_EQ(OrderLogReader::open("orders.txt").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OrderLogReader::open("/nonexistent/orders.csv").status().code(), StatusCode::kIoError);
  auto r = OrderLogReader::open(ORDO_SOURCE_DIR "/examples/order-log/orders.csv");
  ASSERT_OK(r);
  std::size_t n = 0;
  while (true) {
    auto got = (*r)->next();
    ASSERT_OK(got);
    if (!*got) break;
    ++n;
  }
  EXPECT_EQ(n, 200u);
}

}  // namespace
}  // namespace ordo::testing
