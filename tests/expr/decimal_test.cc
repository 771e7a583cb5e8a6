// FEEL's decimals (expr/decimal.h): text in and out, rounding to a scale in every mode, and
// comparison, at the edges where binary floating point and naive code go wrong.
#include <gtest/gtest.h>

#include <string>

#include "expr/decimal.h"

namespace ordo::expr {
namespace {

Decimal dec(const std::string& text) {
  std::optional<Decimal> d = Decimal::parse(text);
  EXPECT_TRUE(d.has_value()) << text;
  return d.value_or(Decimal());
}

TEST(Decimal, TextRoundTripsWithoutTrailingZeros) {
  for (const char* text : {"0", "1", "-1", "0.1", "12.5", "-0.0003", "1000", "123456789.123456789",
                           "0.3333333333333333333333333333333333"}) {
    EXPECT_EQ(dec(text).text(), text);
  }
  EXPECT_EQ(dec("1.50").text(), "1.5");
  EXPECT_EQ(dec("+2").text(), "2");
  EXPECT_EQ(dec("1e3").text(), "1000");
  EXPECT_EQ(dec("1.5E-7").text(), "0.00000015");
  EXPECT_EQ(dec("9.99e6000").text(), "9.99E+6000");
  EXPECT_EQ(dec("-0.00").text(), "0");
  // More than 34 digits: rounded half to even at the 34th.
  EXPECT_EQ(dec("1.00000000000000000000000000000000050").text(), "1");
  EXPECT_EQ(dec("1.00000000000000000000000000000000150").text(),
            "1.000000000000000000000000000000002");
  for (const char* bad : {"", "-", ".", "1.2.3", "1e", "abc", "1e999999", "0x10", "1 "}) {
    EXPECT_FALSE(Decimal::parse(bad).has_value()) << bad;
  }
}

TEST(Decimal, DoublesBecomeTheDecimalTheyWereWrittenAs) {
  EXPECT_EQ(Decimal::from_double(0.1).text(), "0.1");
  EXPECT_EQ(Decimal::from_double(920.45).text(), "920.45");
  EXPECT_EQ(Decimal::from_double(-19.99).text(), "-19.99");
  EXPECT_EQ(Decimal::from_double(1e-7).text(), "0.0000001");
  EXPECT_EQ(Decimal::from_double(1.0 / 3).text(), "0.3333333333333333");
  EXPECT_EQ(Decimal::from_double(1e300).text(), "1E+300");
}

TEST(Decimal, ArithmeticIsDecimal) {
  EXPECT_EQ((dec("0.1") + dec("0.2")).text(), "0.3");
  EXPECT_EQ((dec("1") / dec("3")).text(), "0.3333333333333333333333333333333333");
  EXPECT_EQ((dec("2") / dec("3")).text(), "0.6666666666666666666666666666666667");
  EXPECT_EQ((dec("1.10") * dec("3")).text(), "3.3");
  EXPECT_EQ(dec("2").pow(100)->text(), "1267650600228229401496703205376");
  EXPECT_EQ(dec("2").pow(-2)->text(), "0.25");
  EXPECT_FALSE(dec("10").pow(7000).has_value());
  EXPECT_EQ(dec("4.5").to_int(), std::nullopt);
  EXPECT_EQ(dec("4.000").to_int(), 4);
  EXPECT_EQ(dec("-9223372036854775808").to_int(), INT64_MIN);
  EXPECT_EQ(dec("9223372036854775808").to_int(), std::nullopt);
}

TEST(Decimal, RoundsInEveryMode) {
  struct Case {
    const char* n;
    std::int64_t scale;
    Rounding mode;
    const char* want;
  };
  const Case cases[] = {
      {"1.125", 2, Rounding::kHalfEven, "1.12"},  {"1.135", 2, Rounding::kHalfEven, "1.14"},
      {"1.125", 2, Rounding::kHalfUp, "1.13"},    {"-1.125", 2, Rounding::kHalfUp, "-1.13"},
      {"1.125", 2, Rounding::kHalfDown, "1.12"},  {"1.1251", 2, Rounding::kHalfDown, "1.13"},
      {"-1.5", 0, Rounding::kFloor, "-2"},        {"-1.5", 0, Rounding::kCeiling, "-1"},
      {"1.01", 1, Rounding::kCeiling, "1.1"},     {"1.01", 1, Rounding::kUp, "1.1"},
      {"-1.09", 1, Rounding::kDown, "-1"},        {"1234.5", -2, Rounding::kHalfEven, "1200"},
      {"0.0001", 2, Rounding::kUp, "0.01"},       {"0.0001", 2, Rounding::kDown, "0"},
      {"5", 2, Rounding::kHalfEven, "5"},         {"-0.4", 0, Rounding::kHalfUp, "0"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(dec(c.n).round(c.scale, c.mode).text(), c.want) << c.n << " at " << c.scale;
  }
}

TEST(Decimal, ComparesAcrossExponents) {
  EXPECT_EQ(dec("1.0").compare(dec("1")), 0);
  EXPECT_EQ(dec("0.1").compare(dec("0.10000000000000000001")), -1);
  EXPECT_EQ(dec("-2").compare(dec("-10")), 1);
  EXPECT_EQ(dec("0").compare(dec("-0")), 0);
  EXPECT_EQ(dec("1E+10").compare(dec("9999999999")), 1);
  EXPECT_EQ(dec("-1E+10").compare(dec("-9999999999")), -1);
  EXPECT_EQ(dec("12.5").compare(dec("125E-1")), 0);
}

}  // namespace
}  // namespace ordo::expr
