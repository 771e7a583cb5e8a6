#include "time/iso8601.h"

#include <string>

#include <gtest/gtest.h>

namespace ordo::time {
namespace {

TEST(IsoDuration, AcceptsWhatTimersUse) {
  for (const char* s : {"PT30M", "P1D", "P1DT2H", "PT0.5S", "P2W", "P1Y2M3DT4H5M6S", "PT36H"}) {
    EXPECT_TRUE(is_iso_duration(s)) << s;
  }
}

TEST(IsoDuration, RejectsMalformed) {
  for (const char* s : {"", "P", "PT", "30M", "P1DT", "PT1H2H", "PM1", "P1.5D", "PT1M1H", "P1S"}) {
    EXPECT_FALSE(is_iso_duration(s)) << s;
  }
}

TEST(IsoDuration, FixedLengthsInMilliseconds) {
  EXPECT_EQ(parse_fixed_duration_ms("PT1.5S"), 1500);
  EXPECT_EQ(parse_fixed_duration_ms("P1DT2H"), 26 * 3'600'000LL);
  EXPECT_EQ(parse_fixed_duration_ms("PT0S"), 0);
  EXPECT_EQ(parse_fixed_duration_ms("P3660D"), 3660 * 86'400'000LL);
  for (const char* no : {"P1M", "P1Y", "-PT5S", "P3661D", "PT88000H", "30s", ""}) {
    EXPECT_FALSE(parse_fixed_duration_ms(no).has_value()) << no;
  }
}

TEST(IsoDateTime, NeedsAnOffset) {
  EXPECT_TRUE(is_iso_date_time("2026-12-01T10:00:00Z"));
  EXPECT_TRUE(is_iso_date_time("2026-12-01T10:00Z"));
  EXPECT_TRUE(is_iso_date_time("2026-12-01T10:00:00.250+01:00"));
  EXPECT_FALSE(is_iso_date_time("2026-12-01T10:00:00"));
  EXPECT_FALSE(is_iso_date_time("2026-13-01T10:00:00Z"));
  EXPECT_FALSE(is_iso_date_time("2026-12-01 10:00:00Z"));
  EXPECT_FALSE(is_iso_date_time("2026-12-01T24:00:00Z"));
}

TEST(IsoCycle, RepeatingIntervals) {
  EXPECT_TRUE(is_iso_cycle("R3/PT10M"));
  EXPECT_TRUE(is_iso_cycle("R/P1D"));
  EXPECT_TRUE(is_iso_cycle("R/2026-12-01T10:00:00Z/P1D"));
  EXPECT_FALSE(is_iso_cycle("PT10M"));
  EXPECT_FALSE(is_iso_cycle("R3PT10M"));
  EXPECT_FALSE(is_iso_cycle("R3/soon"));
}

TEST(IsoDateTime, RejectsDaysPastTheEndOfTheMonth) {
  EXPECT_FALSE(is_iso_date_time("2026-02-29T10:00:00Z"));
  EXPECT_TRUE(is_iso_date_time("2028-02-29T10:00:00Z"));
  EXPECT_FALSE(is_iso_date_time("2026-04-31T10:00:00Z"));
}

TEST(IsoDuration, ParsesFieldsAndWeeksAsDays) {
  struct Case {
    const char* text;
    Duration want;
  };
  const Case cases[] = {
      {"PT30M", {0, 0, 0, 30 * 60 * 1000, false}},
      {"P1DT2H", {0, 0, 1, 2 * 3600 * 1000, false}},
      {"P2W", {0, 0, 14, 0, false}},
      {"P1Y2M3DT4H5M6.5S", {1, 2, 3, ((4 * 60 + 5) * 60 + 6) * 1000 + 500, false}},
      {"PT0.25S", {0, 0, 0, 250, false}},
      {"PT1,5S", {0, 0, 0, 1500, false}},
      {"-PT5M", {0, 0, 0, 5 * 60 * 1000, true}},
  };
  for (const Case& c : cases) {
    auto d = parse_duration(c.text);
    ASSERT_TRUE(d.has_value()) << c.text;
    EXPECT_EQ(*d, c.want) << c.text;
  }
}

TEST(IsoDuration, RejectsNegativeForTimersButParsesIt) {
  EXPECT_FALSE(is_iso_duration("-PT5M"));
  EXPECT_TRUE(parse_duration("-PT5M").has_value());
  EXPECT_FALSE(parse_duration("P1234567890D").has_value());  // too many digits for a field
}

TEST(IsoDuration, FormatsCanonically) {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"PT30M", "PT30M"},      {"P1DT2H", "P1DT2H"}, {"PT0S", "PT0S"}, {"PT90M", "PT1H30M"},
      {"PT36H", "PT36H"},      {"P14M", "P1Y2M"},    {"P2W", "P14D"},  {"-PT5M", "-PT5M"},
      {"PT1.250S", "PT1.25S"}, {"P1Y", "P1Y"},
  };
  for (const Case& c : cases) {
    auto d = parse_duration(c.in);
    ASSERT_TRUE(d.has_value()) << c.in;
    EXPECT_EQ(format_duration(*d), c.out) << c.in;
  }
  EXPECT_EQ(format_duration(Duration{}), "PT0S");
}

TEST(IsoDateTime, ParsesToEpochMilliseconds) {
  EXPECT_EQ(parse_date_time("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_date_time("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(parse_date_time("2026-12-01T10:00:00Z"), 1796119200000);
  EXPECT_EQ(parse_date_time("2026-12-01T11:00:00+01:00"), 1796119200000);
  EXPECT_EQ(parse_date_time("2026-12-01T09:30-00:30"), 1796119200000);
  EXPECT_EQ(parse_date_time("1969-12-31T23:59:59Z"), -1000);
  EXPECT_FALSE(parse_date_time("2026-12-01T10:00:00").has_value());
  EXPECT_FALSE(parse_date_time("2026-12-01T10:00:00Zjunk").has_value());
}

TEST(IsoDateTime, FormatsInUtcWithMillisecondsOnlyWhenSet) {
  EXPECT_EQ(format_date_time(1796119200000), "2026-12-01T10:00:00Z");
  EXPECT_EQ(format_date_time(1796119200250), "2026-12-01T10:00:00.250Z");
  EXPECT_EQ(format_date_time(-1000), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_date_time(0), "1970-01-01T00:00:00Z");
}

TEST(IsoDateTime, RoundTripsAcrossCenturiesAndLeapDays) {
  for (const char* s : {"2000-02-29T00:00:00Z", "1900-03-01T12:34:56Z", "2400-12-31T23:59:59Z",
                        "0001-01-01T00:00:00Z", "2024-02-29T06:07:08.009Z"}) {
    auto ms = parse_date_time(s);
    ASSERT_TRUE(ms.has_value()) << s;
    EXPECT_EQ(format_date_time(*ms), s);
  }
}

std::string plus(const char* at, const char* duration) {
  return format_date_time(add(*parse_date_time(at), *parse_duration(duration)));
}

TEST(IsoAdd, CalendarFieldsFirstThenExactTime) {
  EXPECT_EQ(plus("2026-12-01T10:00:00Z", "PT30M"), "2026-12-01T10:30:00Z");
  EXPECT_EQ(plus("2026-12-31T23:00:00Z", "PT2H"), "2027-01-01T01:00:00Z");
  EXPECT_EQ(plus("2026-01-31T10:00:00Z", "P1M"), "2026-02-28T10:00:00Z");
  EXPECT_EQ(plus("2028-01-31T10:00:00Z", "P1M"), "2028-02-29T10:00:00Z");
  EXPECT_EQ(plus("2026-03-01T10:00:00Z", "-P1D"), "2026-02-28T10:00:00Z");
  EXPECT_EQ(plus("2026-03-15T10:00:00Z", "-P1Y3M"), "2024-12-15T10:00:00Z");
  EXPECT_EQ(plus("2026-12-01T10:00:00Z", "P1Y2M3DT4H"), "2028-02-04T14:00:00Z");
}

TEST(IsoCycle, ParsesRepetitionsStartAndInterval) {
  auto c = parse_cycle("R3/PT10M");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->repetitions, 3);
  EXPECT_FALSE(c->start_ms.has_value());
  EXPECT_EQ(c->interval.millis, 600000);

  c = parse_cycle("R/2026-12-01T10:00:00Z/P1D");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->repetitions, -1);
  EXPECT_EQ(c->start_ms, parse_date_time("2026-12-01T10:00:00Z"));
  EXPECT_EQ(c->interval.days, 1);
}

TEST(IsoCycle, DurationThenEndStartsThatManyIntervalsBeforeTheEnd) {
  auto c = parse_cycle("R2/PT1H/2026-12-01T10:00:00Z");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->start_ms, parse_date_time("2026-12-01T08:00:00Z"));
  EXPECT_FALSE(parse_cycle("R/PT1H/2026-12-01T10:00:00Z").has_value());  // no first firing
  EXPECT_FALSE(parse_cycle("R3/-PT1H").has_value());
}

}  // namespace
}  // namespace ordo::time

namespace ordo::time {
namespace {

TEST(IsoHorizon, AddingStopsAtTheYears0000To9999) {
  const std::int64_t t = *parse_date_time("2026-12-06T00:00:00Z");
  EXPECT_EQ(add_within(t, *parse_duration("P1Y")), *parse_date_time("2027-12-06T00:00:00Z"));
  EXPECT_EQ(add_within(t, *parse_duration("P7973Y")), *parse_date_time("9999-12-06T00:00:00Z"));
  EXPECT_FALSE(add_within(t, *parse_duration("P7974Y")));
  EXPECT_FALSE(add_within(t, *parse_duration("P999999999Y")));
  EXPECT_FALSE(add_within(t, *parse_duration("P999999999M")));
  EXPECT_FALSE(add_within(t, *parse_duration("P99999999W")));
  EXPECT_FALSE(add_within(t, *parse_duration("PT999999999H")));
  EXPECT_FALSE(add_within(t, *parse_duration("-P999999999Y")));
  EXPECT_EQ(add_within(kLatestMs, *parse_duration("PT0S")), kLatestMs);
  // A cycle that ends at a date began repetitions x interval before it: within the years too.
  EXPECT_FALSE(parse_cycle("R999999999/P1Y/2026-01-01T00:00:00Z").has_value());
  EXPECT_TRUE(parse_cycle("R3/P1Y/2026-01-01T00:00:00Z").has_value());
}

}  // namespace
}  // namespace ordo::time
