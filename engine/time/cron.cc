#include "time/cron.h"

#include <array>
#include <charconv>
#include <chrono>
#include <vector>

#include <date/tz.h>

namespace ordo::time {
namespace {

// "CRON_TZ=Europe/Berlin ..." or "TZ=...": the zone's name, and the rest.
std::pair<std::string_view, std::string_view> zone_prefix(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  text.remove_prefix(i);
  for (std::string_view tag : {std::string_view("CRON_TZ="), std::string_view("TZ=")}) {
    if (text.substr(0, tag.size()) != tag) continue;
    text.remove_prefix(tag.size());
    std::size_t end = 0;
    while (end < text.size() && text[end] != ' ' && text[end] != '\t') ++end;
    return {text.substr(0, end), text.substr(end)};
  }
  return {{}, text};
}

std::vector<std::string_view> fields_of(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

constexpr std::array<std::string_view, 12> kMonths = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                      "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDays = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

struct Field {
  const char* name;
  int low, high;
  int name_base = 0;  // weekdays: the number of SUN (Quartz 1, Spring and Unix 0)
};

// One value: a number, or a month or day name (upper or lower case).
std::optional<int> value_of(std::string_view s, const Field& f, bool months, bool weekdays) {
  if (s.size() == 3 && (months || weekdays)) {
    std::string up(s);
    for (char& c : up) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    if (months) {
      for (std::size_t i = 0; i < kMonths.size(); ++i) {
        if (up == kMonths[i]) return static_cast<int>(i) + 1;
      }
    } else {
      for (std::size_t i = 0; i < kDays.size(); ++i) {
        if (up == kDays[i]) return static_cast<int>(i) + f.name_base;
      }
    }
  }
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < f.low || v > f.high) {
    return std::nullopt;
  }
  return v;
}

// "*", "?", "5", "1-5", "*/15", "10-50/10", "MON-FRI", lists of these. `set(v)` marks v.
template <class Set>
Status read_field(std::string_view text, const Field& f, bool months, bool weekdays, bool& any,
                  const Set& set) {
  const auto bad = [&](std::string_view why) {
    return Status::invalid_argument("cron field " + std::string(f.name) + " '" + std::string(text) +
                                    "': " + std::string(why));
  };
  any = text == "*" || text == "?";
  std::size_t from = 0;
  while (from <= text.size()) {
    const std::size_t comma = std::min(text.find(',', from), text.size());
    std::string_view part = text.substr(from, comma - from);
    from = comma + 1;
    int step = 1;
    const bool stepped = part.find('/') != std::string_view::npos;
    if (const std::size_t slash = part.find('/'); slash != std::string_view::npos) {
      const std::string_view s = part.substr(slash + 1);
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), step);
      if (ec != std::errc() || end != s.data() + s.size() || step < 1) {
        return bad("the step after '/' must be a whole number, 1 or more");
      }
      part = part.substr(0, slash);
    }
    int low = f.low, high = f.high;
    if (part == "*" || part == "?") {
      // every value
    } else if (const std::size_t dash = part.find('-'); dash != std::string_view::npos) {
      auto a = value_of(part.substr(0, dash), f, months, weekdays);
      auto b = value_of(part.substr(dash + 1), f, months, weekdays);
      // Spring counts Sunday as 7 too, so MON-SUN is the whole week.
      if (a && b && weekdays && f.name_base == 0 && *b == 0 && *a > 0) b = 7;
      if (!a || !b || *a > *b) {
        return bad("a range must be two values from " + std::to_string(f.low) + " to " +
                   std::to_string(f.high) + ", the first not above the second");
      }
      low = *a;
      high = *b;
    } else {
      auto v = value_of(part, f, months, weekdays);
      if (!v && part.find_first_of("LW#") != std::string_view::npos) {
        // (Not a name such as WED or JUL: those were read above.)
        return bad("L, W and # (last, weekday, nth) are not supported; list the days instead");
      }
      if (!v) {
        return bad("a value must be from " + std::to_string(f.low) + " to " +
                   std::to_string(f.high) +
                   (months     ? " or JAN-DEC"
                    : weekdays ? " or SUN-SAT"
                               : ""));
      }
      low = *v;
      high = stepped ? f.high : *v;  // 5/15: from 5 on, every 15
    }
    for (int v = low; v <= high; v += step) set(v);
    if (comma == text.size()) break;
  }
  return Status::ok();
}

}  // namespace

bool looks_like_cron(std::string_view text) noexcept {
  const std::size_t n = fields_of(zone_prefix(text).second).size();
  return n >= 5 && n <= 7;
}

Result<Cron> parse_cron(std::string_view text) {
  const auto [zone_name, rest] = zone_prefix(text);
  const date::time_zone* zone = nullptr;
  if (!zone_name.empty() || text.find("TZ=") != std::string_view::npos) {
    try {
      zone = date::locate_zone(zone_name);
    } catch (const std::exception&) {
      return Status::invalid_argument("unknown time zone '" + std::string(zone_name) +
                                      "'; write an IANA name such as CRON_TZ=Europe/Berlin");
    }
  }
  std::vector<std::string_view> f = fields_of(rest);
  if (f.size() < 5 || f.size() > 7) {
    return Status::invalid_argument(
        "a cron expression has 6 fields (second minute hour day "
        "month weekday), or 5 without seconds, or 7 with a year");
  }
  if (f.size() == 5) f.insert(f.begin(), "0");
  // Quartz (a '?' or a year field) counts weekdays 1-7 from Sunday; Spring and Unix 0-7,
  // 0 and 7 both Sunday.
  const bool quartz = f.size() == 7 || f[3] == "?" || f[5] == "?";
  Cron c;
  // Each field sets the values it allows in its set (offset: the set's first value).
  const auto into = [](auto& bits, int offset = 0) {
    return [&bits, offset](int v) { bits.set(static_cast<std::size_t>(v - offset)); };
  };
  bool any = false;  // only the day fields' is kept
  Status s = read_field(f[0], {"second", 0, 59}, false, false, any, into(c.seconds));
  if (s) s = read_field(f[1], {"minute", 0, 59}, false, false, any, into(c.minutes));
  if (s) s = read_field(f[2], {"hour", 0, 23}, false, false, any, into(c.hours));
  if (s) s = read_field(f[3], {"day of month", 1, 31}, false, false, c.any_day, into(c.days));
  if (s) s = read_field(f[4], {"month", 1, 12}, true, false, any, into(c.months));
  // Weekdays are kept 0-6 from Sunday: Quartz counts 1-7 from Sunday, Spring and Unix 0-7
  // (0 and 7 both Sunday).
  if (s) {
    const Field weekday = quartz ? Field{"weekday", 1, 7, 1} : Field{"weekday", 0, 7, 0};
    s = read_field(f[5], weekday, false, true, c.any_weekday, [&](int v) {
      c.weekdays.set(static_cast<std::size_t>(quartz ? v - 1 : v % 7));
    });
  }
  if (f.size() != 7) {
    c.years.set();
  } else if (s) {
    s = read_field(f[6], {"year", 1970, 2169}, false, false, any, into(c.years, 1970));
  }
  if (!s) return s;
  if (c.any_day) c.days.set();
  if (c.any_weekday) c.weekdays.set();
  c.zone = zone;
  return c;
}

namespace {

std::optional<std::int64_t> next_utc(const Cron& c, std::int64_t after_ms);

}  // namespace

std::optional<std::int64_t> next_cron_time(const Cron& c, std::int64_t after_ms) {
  if (c.zone == nullptr) return next_utc(c, after_ms);
  // The fields are matched in local time; each match is then placed on the timeline.
  using namespace std::chrono;
  const auto* zone = static_cast<const date::time_zone*>(c.zone);
  const auto at = [](std::int64_t ms) { return sys_seconds(seconds(ms >= 0 ? ms / 1000 : (ms - 999) / 1000)); };
  std::int64_t local = after_ms + zone->get_info(at(after_ms)).offset.count() * 1000;
  for (int tries = 0; tries < 10000; ++tries) {
    const std::optional<std::int64_t> next = next_utc(c, local);
    if (!next) return std::nullopt;
    local = *next;
    const date::local_seconds wall{seconds(*next / 1000)};
    const date::local_info info = zone->get_info(wall);
    if (info.result == date::local_info::nonexistent) continue;  // a clock change skips it
    const std::int64_t utc = *next - info.first.offset.count() * 1000;
    if (utc > after_ms) return utc;
    // A repeated hour's second pass: fired already, the first time.
  }
  return std::nullopt;
}

namespace {

std::optional<std::int64_t> next_utc(const Cron& c, std::int64_t after_ms) {
  using namespace std::chrono;
  const std::int64_t after_s = after_ms >= 0 ? after_ms / 1000 : (after_ms - 999) / 1000;
  const sys_days first_day = floor<days>(sys_seconds(seconds(after_s)));
  const std::int64_t first_second_of_day =
      after_s - duration_cast<seconds>(first_day.time_since_epoch()).count();
  for (int d = 0; d < 366 * 200; ++d) {
    const sys_days day = first_day + days(d);
    const year_month_day ymd(day);
    const int y = static_cast<int>(ymd.year());
    if (y < 1970 || y > 2169) return std::nullopt;
    if (!c.years.test(static_cast<std::size_t>(y - 1970))) continue;
    if (!c.months.test(static_cast<unsigned>(ymd.month()))) continue;
    const bool day_ok = c.days.test(static_cast<unsigned>(ymd.day()));
    const bool weekday_ok = c.weekdays.test(weekday(day).c_encoding());
    // As cron does: when both day fields are restricted, either may match.
    const bool matches = c.any_day && c.any_weekday ? true
                         : c.any_day                ? weekday_ok
                         : c.any_weekday            ? day_ok
                                                    : day_ok || weekday_ok;
    if (!matches) continue;
    for (std::size_t h = 0; h < 24; ++h) {
      if (!c.hours.test(h)) continue;
      for (std::size_t m = 0; m < 60; ++m) {
        if (!c.minutes.test(m)) continue;
        for (std::size_t s = 0; s < 60; ++s) {
          if (!c.seconds.test(s)) continue;
          const auto second_of_day = static_cast<std::int64_t>(h * 3600 + m * 60 + s);
          if (d == 0 && second_of_day <= first_second_of_day) continue;
          return (duration_cast<seconds>(day.time_since_epoch()).count() + second_of_day) * 1000;
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace

}  // namespace ordo::time
