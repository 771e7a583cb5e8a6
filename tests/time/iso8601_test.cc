#include "time/iso8601.h"

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

}  // namespace
}  // namespace ordo::time
