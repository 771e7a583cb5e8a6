// Cron expressions in timeCycle: Spring (Zeebe), Quartz (Camunda 7) and Unix fields, the
// next time after a given one (UTC), and the mistakes named.
#include <gtest/gtest.h>

#include "time/cron.h"
#include "time/iso8601.h"

namespace ordo::time {
namespace {

std::int64_t at(const char* iso) {
  return *parse_date_time(iso);
}

std::string next(const char* cron, const char* after) {
  Result<Cron> c = parse_cron(cron);
  EXPECT_TRUE(c.is_ok()) << cron << ": " << c.status().message();
  if (!c) return "";
  std::optional<std::int64_t> t = next_cron_time(*c, at(after));
  return t ? format_date_time(*t) : "none";
}

TEST(Cron, NextTimesInEachDialect) {
  // Spring / Zeebe: seconds first, weekday names or 0-7 from Sunday.
  EXPECT_EQ(next("0 0 9 * * MON-FRI", "2026-12-05T10:00:00Z"), "2026-12-07T09:00:00Z")
      << "a Saturday: the next weekday is Monday";
  EXPECT_EQ(next("0 */15 * * * *", "2026-12-07T10:07:30Z"), "2026-12-07T10:15:00Z");
  EXPECT_EQ(next("30 0 0 1 JAN *", "2026-12-07T00:00:00Z"), "2027-01-01T00:00:30Z");
  EXPECT_EQ(next("0 0 12 * * 0", "2026-12-07T00:00:00Z"), "2026-12-13T12:00:00Z") << "Sunday";
  EXPECT_EQ(next("0 0 12 * * 7", "2026-12-07T00:00:00Z"), "2026-12-13T12:00:00Z") << "Sunday";
  // Exactly at a match: the next one, not the same.
  EXPECT_EQ(next("0 0 9 * * *", "2026-12-07T09:00:00Z"), "2026-12-08T09:00:00Z");
  // Quartz / Camunda 7: '?' and 1-7 from Sunday, an optional year.
  EXPECT_EQ(next("0 0 8 ? * 2", "2026-12-07T09:00:00Z"), "2026-12-14T08:00:00Z") << "2 = Monday";
  EXPECT_EQ(next("0 0 8 ? * MON", "2026-12-07T09:00:00Z"), "2026-12-14T08:00:00Z");
  EXPECT_EQ(next("0 30 6 29 2 ? 2028", "2026-12-07T00:00:00Z"), "2028-02-29T06:30:00Z");
  // Unix: five fields, no seconds.
  EXPECT_EQ(next("5 4 * * *", "2026-12-07T04:05:00Z"), "2026-12-08T04:05:00Z");
  // Both day fields given: either matches, as cron does.
  EXPECT_EQ(next("0 0 0 15 * MON", "2026-12-08T00:00:00Z"), "2026-12-14T00:00:00Z");
  // Names that hold the letters L and W; a value with a step; Sunday as the end of a range.
  EXPECT_EQ(next("0 0 9 * * MON,WED,FRI", "2026-12-07T10:00:00Z"), "2026-12-09T09:00:00Z");
  EXPECT_EQ(next("0 0 0 1 JUL *", "2026-12-07T00:00:00Z"), "2027-07-01T00:00:00Z");
  EXPECT_EQ(next("0 5/20 * * * *", "2026-12-07T10:06:00Z"), "2026-12-07T10:25:00Z");
  EXPECT_EQ(next("0 0 6 * * MON-SUN", "2026-12-12T07:00:00Z"), "2026-12-13T06:00:00Z");
  // A day that never comes.
  EXPECT_EQ(next("0 0 0 31 2 ?", "2026-12-08T00:00:00Z"), "none");
}

// A time zone before the fields: the times are local there, through clock changes
// (Europe/Berlin: summer time from 2026-03-29 02:00, back on 2026-10-25 03:00).
TEST(Cron, InATimeZoneTheTimesAreLocal) {
  EXPECT_EQ(next("CRON_TZ=Europe/Berlin 0 0 9 * * MON-FRI", "2026-12-07T10:00:00Z"),
            "2026-12-08T08:00:00Z") << "09:00 in winter is 08:00 UTC";
  EXPECT_EQ(next("CRON_TZ=Europe/Berlin 0 0 9 * * *", "2026-03-28T12:00:00Z"),
            "2026-03-29T07:00:00Z") << "and 07:00 UTC in summer";
  EXPECT_EQ(next("TZ=America/New_York 0 0 9 * * *", "2026-12-07T10:00:00Z"),
            "2026-12-07T14:00:00Z");
  // 02:30 does not happen on the day clocks go forward: skipped, as cron does.
  EXPECT_EQ(next("CRON_TZ=Europe/Berlin 0 30 2 * * *", "2026-03-28T12:00:00Z"),
            "2026-03-30T00:30:00Z");
  // 02:30 happens twice on the day they go back: once, the first time.
  EXPECT_EQ(next("CRON_TZ=Europe/Berlin 0 30 2 * * *", "2026-10-24T12:00:00Z"),
            "2026-10-25T00:30:00Z");
  EXPECT_EQ(next("CRON_TZ=Europe/Berlin 0 30 2 * * *", "2026-10-25T00:30:00Z"),
            "2026-10-26T01:30:00Z");
  EXPECT_TRUE(looks_like_cron("CRON_TZ=Europe/Berlin 0 0 9 * * *"));
  Result<Cron> bad = parse_cron("CRON_TZ=Europe/Berlinn 0 0 9 * * *");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("unknown time zone 'Europe/Berlinn'"), std::string::npos);
}

TEST(Cron, MistakesAreNamed) {
  for (const auto& [text, says] :
       std::vector<std::pair<const char*, const char*>>{{"0 0 25 * * *", "hour"},
                                                        {"0 61 * * * *", "minute"},
                                                        {"0 0 9 * * FUNDAY", "weekday"},
                                                        {"0 0 9 L * ?", "not supported"},
                                                        {"0 0 9 * * 5-2", "range"},
                                                        {"0 */0 * * * *", "step"},
                                                        {"1 2 3", "6 fields"}}) {
    Result<Cron> c = parse_cron(text);
    ASSERT_FALSE(c.is_ok()) << text;
    EXPECT_NE(c.status().message().find(says), std::string::npos)
        << text << ": " << c.status().message();
  }
  EXPECT_TRUE(looks_like_cron("0 0 9 * * MON-FRI"));
  EXPECT_FALSE(looks_like_cron("R/PT5M"));
}

}  // namespace
}  // namespace ordo::time
