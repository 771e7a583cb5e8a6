// Synthetic order logs (ordo gen-order-log): see include/ordo/sim/order_log_gen.h.
#include "ordo/sim/order_log_gen.h"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "sim/random.h"
#include "time/iso8601.h"

namespace ordo {
namespace {

using sim::Random;
using sim::stream;

constexpr std::int64_t kMinute = 60'000, kHour = 60 * kMinute, kDay = 24 * kHour;

struct Market {
  const char* locale;
  double share;
  const char* zone;
  const char* country;
  const char* currency;
  double per_euro;     // prices in the local currency
  const char* dial;    // E.164 country code
  const char* mobile;  // first digits of a mobile number
  int digits;          // digits after them
  int extra_transit_days;
};

constexpr std::array<Market, 6> kMarkets = {{
    {"de", 0.40, "Europe/Berlin", "DE", "EUR", 1.0, "+49", "15", 9, 0},
    {"en", 0.20, "Europe/London", "GB", "GBP", 0.85, "+44", "7", 9, 1},
    {"pl", 0.15, "Europe/Warsaw", "PL", "PLN", 4.3, "+48", "5", 8, 0},
    {"ru", 0.10, "Europe/Moscow", "RU", "RUB", 95.0, "+7", "9", 9, 2},
    {"de-AT", 0.08, "Europe/Vienna", "AT", "EUR", 1.0, "+43", "66", 8, 0},
    {"fr-FR", 0.07, "Europe/Paris", "FR", "EUR", 1.0, "+33", "6", 8, 1},
}};

constexpr std::array<const char*, 4> kDeclines = {"insufficient_funds", "card_expired",
                                                  "do_not_honor", "suspected_fraud"};

// Orders per hour of the day (UTC; the customers are in Europe), relative.
constexpr std::array<double, 24> kHourly = {0.2, 0.15, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0,
                                            1.4, 1.5,  1.5, 1.6, 1.8, 1.8, 1.5, 1.5,
                                            1.5, 1.7,  2.0, 2.1, 2.0, 1.6, 1.0, 0.5};

// A fraction of the day [0, 1) drawn uniformly, as a time of day (ms) under kHourly.
std::int64_t time_of_day(double f) {
  double total = 0;
  for (double w : kHourly) total += w;
  double at = f * total;
  for (std::size_t h = 0; h < kHourly.size(); ++h) {
    if (at < kHourly[h] || h + 1 == kHourly.size()) {
      const double within = std::min(1.0, at / kHourly[h]);
      return static_cast<std::int64_t>(h) * kHour +
             static_cast<std::int64_t>(within * static_cast<double>(kHour - 1));
    }
    at -= kHourly[h];
  }
  return 0;
}

// Weekday (0 Monday .. 6 Sunday) of a UTC day number since the epoch (1970-01-01: Thursday).
int weekday_of_day(std::int64_t day) {
  return static_cast<int>(((day % 7) + 7 + 3) % 7);
}

using Ms = std::chrono::milliseconds;
using LocalMs = date::local_time<Ms>;

LocalMs to_local(const date::time_zone* zone, std::int64_t ms) {
  return zone->to_local(date::sys_time<Ms>(Ms(ms)));
}
std::int64_t to_utc(const date::time_zone* zone, LocalMs local) {
  return zone->to_sys(local, date::choose::latest).time_since_epoch().count();
}
// The local day (days since the epoch) and milliseconds into it.
std::int64_t local_day(LocalMs t) {
  return date::floor<date::days>(t).time_since_epoch().count();
}
std::int64_t local_ms_of_day(LocalMs t) {
  return (t - date::floor<date::days>(t)).count();
}
bool working_day(std::int64_t day) {
  return weekday_of_day(day) < 5;
}
std::int64_t next_working_day(std::int64_t day) {
  do {
    ++day;
  } while (!working_day(day));
  return day;
}
LocalMs local_at(std::int64_t day, std::int64_t ms_of_day) {
  return LocalMs(Ms(day * kDay + ms_of_day));
}

std::string when(std::int64_t ms) {
  return time::format_date_time(ms - ms % 1000);
}

std::string money(double amount) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", amount);
  return buf;
}

std::string padded(std::int64_t n, int width) {
  std::string s = std::to_string(n);
  if (static_cast<int>(s.size()) < width)
    s.insert(0, static_cast<std::size_t>(width) - s.size(), '0');
  return s;
}

struct Customer {
  std::int64_t number = 0;
  const Market* market = nullptr;
  const char* channel = "email";
  std::string phone;
};

Customer customer(std::uint64_t seed, std::int64_t number) {
  Random r(stream(seed, 1, static_cast<std::uint64_t>(number)));
  Customer c;
  c.number = number;
  double pick = r.uniform();
  c.market = &kMarkets.back();
  for (const Market& m : kMarkets) {
    if (pick < m.share) {
      c.market = &m;
      break;
    }
    pick -= m.share;
  }
  const double ch = r.uniform();
  c.channel = ch < 0.55 ? "email" : ch < 0.90 ? "sms" : "push";
  std::string digits = c.market->mobile;
  for (int i = 0; i < c.market->digits; ++i) digits += static_cast<char>('0' + r.below(10));
  // About 2% typed as a local number with a space, not E.164 (the notifier falls back).
  c.phone = r.chance(0.02) ? "0" + digits.substr(0, 3) + " " + digits.substr(3)
                           : std::string(c.market->dial) + digits;
  return c;
}

}  // namespace

Status write_synthetic_order_log(std::ostream& out, const OrderLogGenOptions& options) {
  if (options.orders < 0) return Status::invalid_argument("the number of orders must be 0 or more");
  if (options.days < 1 || options.days > 3660) {
    return Status::invalid_argument("the order log must span 1 to 3660 days");
  }
  std::array<const date::time_zone*, kMarkets.size()> zones{};
  for (std::size_t i = 0; i < kMarkets.size(); ++i) {
    try {
      zones[i] = date::locate_zone(kMarkets[i].zone);
    } catch (const std::exception& e) {
      return Status::io_error(std::string("time zone data: ") + kMarkets[i].zone + ": " + e.what() +
                              " (install tzdata)");
    }
  }
  out << kOrderLogColumns << '\n';
  // Orders per day in proportion to the day's weight (fewer at weekends), then their times
  // within the day drawn and sorted, so the file is in time order.
  const std::int64_t first_day = options.start_ms / kDay;
  std::vector<double> weight(static_cast<std::size_t>(options.days));
  double total_weight = 0;
  for (std::int64_t d = 0; d < options.days; ++d) {
    const int wd = weekday_of_day(first_day + d);
    weight[static_cast<std::size_t>(d)] = wd == 5 ? 0.75 : wd == 6 ? 0.6 : 1.0;
    total_weight += weight[static_cast<std::size_t>(d)];
  }
  const std::int64_t customers = std::max<std::int64_t>(1, options.orders / 3);
  std::int64_t written = 0;
  double cumulative = 0;
  std::vector<std::int64_t> times;
  std::string line;
  for (std::int64_t d = 0; d < options.days; ++d) {
    cumulative += weight[static_cast<std::size_t>(d)];
    const std::int64_t until = d + 1 == options.days
                                   ? options.orders
                                   : static_cast<std::int64_t>(static_cast<double>(options.orders) *
                                                               cumulative / total_weight);
    Random day_random(stream(options.seed, 2, static_cast<std::uint64_t>(d)));
    times.clear();
    for (std::int64_t i = written; i < until; ++i)
      times.push_back(time_of_day(day_random.uniform()));
    std::sort(times.begin(), times.end());
    const std::int64_t day_ms = options.start_ms - options.start_ms % kDay + d * kDay;
    for (std::int64_t t : times) {
      const std::int64_t n = written++;
      Random r(stream(options.seed, 3, static_cast<std::uint64_t>(n)));
      const std::int64_t created = std::max(options.start_ms, day_ms + t);
      const Customer c = customer(options.seed, 1 + r.below(customers));
      const Market& m = *c.market;
      const date::time_zone* zone = zones[static_cast<std::size_t>(c.market - kMarkets.data())];
      int items = 1;
      while (items < 9 && r.chance(0.45)) ++items;
      double total = 0;
      for (int i = 0; i < items; ++i) {
        total += std::round(r.lognormal(35.0, 0.6) * m.per_euro * 100.0) / 100.0;
      }
      const bool in_stock = r.chance(0.90);
      std::string outcome, decline, confirm, shipped, delivered, cancelled, failed;
      if (in_stock) {
        const bool declined = r.chance(0.065);
        outcome = declined ? "declined" : "approved";
        if (declined) decline = kDeclines[static_cast<std::size_t>(r.below(kDeclines.size()))];
        // Most confirmations come in seconds; about 1.5% after the 30-minute payment timeout.
        const bool late = !declined && r.chance(0.015);
        const std::int64_t seconds =
            late
                ? 1800 + r.below(3600)
                : std::clamp<std::int64_t>(
                      static_cast<std::int64_t>(r.lognormal(declined ? 12.0 : 25.0, 1.1)), 1, 1500);
        confirm = std::to_string(seconds);
        if (!declined && !late) {
          // Paid orders ship on working days: the same day when paid before 14:00 local,
          // otherwise the next working day, between 16:00 and 18:00.
          const LocalMs paid = to_local(zone, created + seconds * 1000);
          std::int64_t ship_day = local_day(paid);
          if (!working_day(ship_day) || local_ms_of_day(paid) >= 14 * kHour) {
            ship_day = next_working_day(ship_day);
          }
          const std::int64_t ship =
              to_utc(zone, local_at(ship_day, 16 * kHour + r.below(2 * kHour)));
          const double transit = r.uniform();
          std::int64_t deliver_day = ship_day;
          for (int k = (transit < 0.6   ? 1
                        : transit < 0.9 ? 2
                                        : 3) +
                       m.extra_transit_days;
               k > 0; --k) {
            deliver_day = next_working_day(deliver_day);
          }
          const std::int64_t deliver =
              to_utc(zone, local_at(deliver_day, 9 * kHour + r.below(9 * kHour)));
          // Drawn from a stream of their own, so that the columns before them stay as they
          // were: about 3% of paid orders are cancelled before they ship, a few hours after
          // the payment; about 1% are refused by the carrier when they should ship.
          Random after(stream(options.seed, 4, static_cast<std::uint64_t>(n)));
          const std::int64_t paid_ms = created + seconds * 1000;
          const std::int64_t cancel =
              paid_ms + static_cast<std::int64_t>(after.lognormal(2.0, 0.8) * static_cast<double>(kHour));
          if (after.chance(0.03) && cancel < ship) {
            cancelled = when(cancel);
          } else if (after.chance(0.01)) {
            failed = when(ship);
          } else {
            shipped = when(ship);
            delivered = when(deliver);
          }
        }
      }
      const bool bounced = r.chance(0.015);
      line.clear();
      line.append("ORD-").append(padded(n + 1, 8)).push_back(',');
      line.append(when(created)).push_back(',');
      line.append("C-").append(padded(c.number, 7)).push_back(',');
      line.append(m.locale).push_back(',');
      line.append(zone->name()).push_back(',');
      line.append(m.country).push_back(',');
      line.append(c.channel).push_back(',');
      line.append("c").append(std::to_string(c.number)).append("@example.com").push_back(',');
      line.append(c.phone).push_back(',');
      line.append(std::to_string(items)).push_back(',');
      line.append(money(total)).push_back(',');
      line.append(m.currency).push_back(',');
      line.append(in_stock ? "true" : "false").push_back(',');
      line.append(outcome).push_back(',');
      line.append(decline).push_back(',');
      line.append(confirm).push_back(',');
      line.append(shipped).push_back(',');
      line.append(delivered).push_back(',');
      line.append(bounced ? "true" : "false").push_back(',');
      line.append(cancelled).push_back(',');
      line.append(failed).push_back('\n');
      out << line;
    }
    if (!out) return Status::io_error("could not write the order log");
  }
  out.flush();
  if (!out) return Status::io_error("could not write the order log");
  return Status::ok();
}

}  // namespace ordo
