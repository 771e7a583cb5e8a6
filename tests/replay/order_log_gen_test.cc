// Synthetic order logs (ordo gen-order-log): deterministic, plausible, and consistent with itself.
#include <date/tz.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "durability/durability_util.h"
#include "ordo/sim/order_log_gen.h"
#include "test_util.h"
#include "time/iso8601.h"

namespace ordo::testing {
namespace {

std::string generate(std::int64_t orders, std::uint64_t seed) {
  std::ostringstream out;
  OrderLogGenOptions options;
  options.orders = orders;
  options.seed = seed;
  const Status s = write_synthetic_order_log(out, options);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  return out.str();
}

// Rows as column name -> value.
std::vector<std::map<std::string, std::string>> rows_of(const std::string& csv) {
  std::vector<std::string> lines = split(csv, '\n');
  std::vector<std::map<std::string, std::string>> out;
  const std::vector<std::string> header = split(lines.at(0), ',');
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    const std::vector<std::string> fields = split(lines[i], ',');
    EXPECT_EQ(fields.size(), header.size()) << "line " << i + 1 << ": " << lines[i];
    std::map<std::string, std::string> row;
    for (std::size_t c = 0; c < header.size() && c < fields.size(); ++c) row[header[c]] = fields[c];
    out.push_back(std::move(row));
  }
  return out;
}

TEST(OrderLogGen, TheSameSeedGivesTheSameBytesAndAnotherSeedOthers) {
  const std::string a = generate(2000, 42);
  EXPECT_EQ(a, generate(2000, 42));
  EXPECT_NE(a, generate(2000, 43));
  EXPECT_EQ(a.substr(0, a.find('\n')), kOrderLogColumns);
}

TEST(OrderLogGen, OrdersArePlausible) {
  const auto rows = rows_of(generate(20000, 7));
  ASSERT_EQ(rows.size(), 20000u);
  std::size_t in_stock = 0, declined = 0, bounced = 0, cancelled = 0, refused = 0;
  std::map<std::string, std::size_t> locales, channels;
  std::string previous;
  for (const auto& r : rows) {
    in_stock += r.at("inStock") == "true";
    declined += r.at("paymentOutcome") == "declined";
    bounced += r.at("notificationBounced") == "true";
    cancelled += !r.at("cancelledAt").empty();
    refused += !r.at("shipmentFailedAt").empty();
    ++locales[r.at("locale")];
    ++channels[r.at("preferredChannel")];
    EXPECT_LE(previous, r.at("createdAt")) << "in time order";
    previous = r.at("createdAt");
    EXPECT_TRUE(time::parse_date_time(r.at("createdAt")).has_value()) << r.at("createdAt");
  }
  const double n = static_cast<double>(rows.size());
  EXPECT_NEAR(static_cast<double>(in_stock) / n, 0.90, 0.015);
  EXPECT_GE(static_cast<double>(declined) / n, 0.05);
  EXPECT_LE(static_cast<double>(declined) / n, 0.08);
  EXPECT_GT(bounced, 0u);
  // About 3% and 1% of the paid orders (about 83% of all).
  EXPECT_NEAR(static_cast<double>(cancelled) / n, 0.025, 0.006);
  EXPECT_NEAR(static_cast<double>(refused) / n, 0.008, 0.004);
  EXPECT_GE(locales.size(), 5u);
  EXPECT_EQ(channels.size(), 3u);
}

TEST(OrderLogGen, PaidOrdersShipAndArriveOnWorkingDaysInTheCustomersZoneAndNothingElseDoes) {
  for (const auto& r : rows_of(generate(5000, 11))) {
    const std::string& outcome = r.at("paymentOutcome");
    const bool in_stock = r.at("inStock") == "true";
    EXPECT_EQ(in_stock, !outcome.empty()) << "payment only for orders in stock";
    EXPECT_EQ(outcome == "declined", !r.at("declineReason").empty());
    const bool late =
        !r.at("paymentConfirmSeconds").empty() && std::stoll(r.at("paymentConfirmSeconds")) >= 1800;
    const bool paid = outcome == "approved" && !late;
    const bool cancelled = !r.at("cancelledAt").empty();
    const bool refused = !r.at("shipmentFailedAt").empty();
    ASSERT_FALSE(cancelled && refused) << r.at("orderId");
    ASSERT_TRUE(paid || (!cancelled && !refused)) << "only paid orders are cancelled or refused";
    const bool ships = paid && !cancelled && !refused;
    ASSERT_EQ(!r.at("shippedAt").empty(), ships) << r.at("orderId");
    ASSERT_EQ(!r.at("deliveredAt").empty(), ships) << r.at("orderId");
    if (!ships) continue;
    const std::int64_t created = *time::parse_date_time(r.at("createdAt"));
    const std::int64_t shipped = *time::parse_date_time(r.at("shippedAt"));
    const std::int64_t delivered = *time::parse_date_time(r.at("deliveredAt"));
    EXPECT_LT(created + std::stoll(r.at("paymentConfirmSeconds")) * 1000, shipped);
    EXPECT_LT(shipped, delivered);
    const date::time_zone* zone = date::locate_zone(r.at("timeZone"));
    for (std::int64_t t : {shipped, delivered}) {
      const auto local =
          zone->to_local(date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(t)));
      const date::weekday wd{date::floor<date::days>(local)};
      EXPECT_TRUE(wd != date::Saturday && wd != date::Sunday)
          << r.at("orderId") << " on a weekend: " << time::format_date_time(t);
    }
  }
}

TEST(OrderLogGen, ACustomerKeepsTheirLocaleAndContactAcrossOrders) {
  std::map<std::string, std::string> seen;
  for (const auto& r : rows_of(generate(3000, 5))) {
    const std::string who = r.at("locale") + "|" + r.at("timeZone") + "|" + r.at("email") + "|" +
                            r.at("phone") + "|" + r.at("preferredChannel");
    auto [it, fresh] = seen.emplace(r.at("customerId"), who);
    if (!fresh) {
      EXPECT_EQ(it->second, who) << r.at("customerId");
    }
  }
  EXPECT_LT(seen.size(), 3000u) << "customers order more than once";
}

TEST(OrderLogGen, TheSampleInExamplesIsWhatTheGeneratorWrites) {
  EXPECT_EQ(read_file(ORDO_SOURCE_DIR "/examples/order-log/orders.csv"), generate(200, 1))
      << "regenerate it: ordo gen-order-log --orders 200 --seed 1 --out examples/order-log/orders.csv";
}

TEST(OrderLogGen, BadOptionsAreRefused) {
  std::ostringstream out;
  OrderLogGenOptions o;
  o.orders = -1;
  EXPECT_EQ(write_synthetic_order_log(out, o).code(), StatusCode::kInvalidArgument);
  o.orders = 10;
  o.days = 0;
  EXPECT_EQ(write_synthetic_order_log(out, o).code(), StatusCode::kInvalidArgument);
}

TEST(OrderLogGen, TheCommandWritesTheFileAndRefusesABadStart) {
  TempDir dir("gen-order-log");
  ProcessRun ok =
      run_ordo({"gen-order-log", "--orders", "25", "--seed", "3", "--out", dir.path("h.csv")});
  ASSERT_EQ(ok.exit_code, 0) << ok.out;
  const std::string written = read_file(dir.path("h.csv"));
  EXPECT_EQ(rows_of(written).size(), 25u);
  EXPECT_EQ(written, generate(25, 3)) << "the command writes what the library does";
  // gen-history, its name before 0.2, is still understood.
  ProcessRun bad = run_ordo({"gen-history", "--start", "yesterday"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("--start yesterday: give an ISO 8601 date-time"), std::string::npos)
      << bad.out;
  EXPECT_EQ(bad.out.find("orderId,"), std::string::npos) << "nothing written";
}

}  // namespace
}  // namespace ordo::testing
