// FEEL's conversion functions for temporal values (date(), time(), date and time(),
// duration(), years and months duration()) and their properties (`d.year`, `t.timezone`).
#include <cmath>
#include <optional>

#include "expr/functions.h"
#include "expr/value.h"

namespace ordo::expr {
namespace {

Value not_text_of(const CallSite& site, const Value& text, std::string_view example) {
  return null_because(site, std::string(site.name) + "(" + Json(std::string(text.str())).dump() +
                                ") is not " + std::string(example));
}

Value date_of(std::span<Value> args, const CallSite& site) {
  if (args.size() == 3) {
    std::optional<std::int64_t> parts[3];
    for (std::size_t k = 0; k < 3; ++k) {
      parts[k] = whole(args[k]);
      if (!parts[k]) return wrong_type(site, "whole numbers for year, month and day", args[k]);
    }
    if (!valid_civil(*parts[0], *parts[1], *parts[2])) {
      return null_because(site, "date(" + std::to_string(*parts[0]) + ", " +
                                    std::to_string(*parts[1]) + ", " + std::to_string(*parts[2]) +
                                    ") is no day of the calendar");
    }
    return Value::date(days_from_civil(*parts[0], static_cast<int>(*parts[1]),
                                       static_cast<int>(*parts[2])));
  }
  if (args.size() != 1) return null_because(site, "date() takes 1 or 3 arguments");
  const Value& v = args[0];
  switch (v.type()) {
    case Type::kDate:
      return v;
    case Type::kDateTime:
      return Value::date(v.days());
    case Type::kString:
      if (std::optional<std::int64_t> d = parse_date(v.str())) return Value::date(*d);
      return not_text_of(site, v, "an ISO 8601 date such as \"2026-12-01\"");
    default:
      return wrong_type(site, "a string, a date or a date and time", v);
  }
}

Value time_of(std::span<Value> args, const CallSite& site) {
  if (args.size() >= 3) {
    const std::optional<std::int64_t> h = whole(args[0]), m = whole(args[1]);
    if (!h || !m) return wrong_type(site, "whole numbers for hour and minute", args[h ? 1 : 0]);
    if (args[2].type() != Type::kNumber) return wrong_type(site, "a number of seconds", args[2]);
    const double s = args[2].as_double();
    if (*h < 0 || *h > 23 || *m < 0 || *m > 59 || !(s >= 0 && s < 60)) {
      return null_because(site, "time() of an hour, minute or second out of range");
    }
    // Seconds to the nanosecond, cut off (59.9999999999 is 59.999999999, not a minute more).
    const std::int64_t second_nanos =
        args[2].is_int()
            ? args[2].as_int() * kNanosPerSecond
            : (args[2].as_decimal() * Decimal::from_int(kNanosPerSecond))
                  .round(0, Rounding::kDown)
                  .to_int()
                  .value_or(60 * kNanosPerSecond);
    if (second_nanos >= 60 * kNanosPerSecond) {
      return null_because(site, "time() of a second out of range");
    }
    const std::int64_t nanos = ((*h * 60 + *m) * 60) * kNanosPerSecond + second_nanos;
    Zone zone;
    if (args.size() == 4 && !args[3].is_null()) {
      if (args[3].type() != Type::kDaysTime) {
        return wrong_type(site, "a days and time duration as the offset", args[3]);
      }
      const std::int64_t off = args[3].nanos();
      if (off % kNanosPerSecond != 0 || off > 18 * 3600 * kNanosPerSecond ||
          off < -18 * 3600 * kNanosPerSecond) {
        return null_because(site, "time() offset must be whole seconds within 18 hours");
      }
      zone = Zone{ZoneKind::kOffset, static_cast<std::int32_t>(off / kNanosPerSecond), nullptr};
    }
    return Value::time_of_day(nanos, zone);
  }
  if (args.size() != 1) return null_because(site, "time() takes 1, 3 or 4 arguments");
  const Value& v = args[0];
  switch (v.type()) {
    case Type::kTime:
      return v;
    case Type::kDateTime:
      return Value::time_of_day(v.nanos(), v.zone());
    case Type::kDate:
      return Value::time_of_day(0, Zone::utc());
    case Type::kString:
      if (std::optional<TimeOfDay> t = parse_time(v.str())) {
        return Value::time_of_day(t->nanos, t->zone);
      }
      return not_text_of(site, v, "an ISO 8601 time such as \"10:30:00\", \"10:30:00+02:00\" or "
                                  "\"10:30:00@Europe/Paris\"");
    default:
      return wrong_type(site, "a string, a date and time or a time", v);
  }
}

Value date_and_time_of(std::span<Value> args, const CallSite& site) {
  if (args.size() == 2) {
    const Value& d = args[0];
    const Value& t = args[1];
    if (d.type() != Type::kDate && d.type() != Type::kDateTime) {
      return wrong_type(site, "a date first", d);
    }
    if (t.type() != Type::kTime) return wrong_type(site, "a time second", t);
    return Value::date_time(DateTime{d.days(), t.nanos(), t.zone()});
  }
  const Value& v = args[0];
  switch (v.type()) {
    case Type::kDateTime:
      return v;
    case Type::kDate:
      return Value::date_time(DateTime{v.days(), 0, Zone{}});
    case Type::kString:
      if (std::optional<DateTime> t = parse_date_time(v.str())) return Value::date_time(*t);
      return not_text_of(site, v, "an ISO 8601 date and time such as \"2026-12-01T10:00:00Z\"");
    default:
      return wrong_type(site, "a string or a date", v);
  }
}

Value duration_of(const Value& v, const CallSite& site) {
  if (v.is_duration()) return v;
  if (v.type() != Type::kString) return wrong_type(site, "a string", v);
  if (std::optional<FeelDuration> d = parse_duration(v.str())) {
    return d->years_months ? Value::years_months(d->value) : Value::days_time(d->value);
  }
  return not_text_of(site, v, "an ISO 8601 duration such as \"PT30M\" or \"P1DT2H\" (or "
                              "\"P1Y2M\": years and months, or days and time, not both)");
}

Value years_and_months(std::span<Value> args, const CallSite& site) {
  for (const Value& a : args) {
    if (a.type() != Type::kDate && a.type() != Type::kDateTime) {
      return wrong_type(site, "dates or dates and times", a);
    }
  }
  // By the calendar dates alone, as java.time's Period.between counts (the TCK's reference).
  const auto local = [](const Value& v) { return DateTime{v.days(), 0, Zone{}}; };
  return Value::years_months(months_between(local(args[0]), local(args[1])));
}

Value integer(std::int64_t v) { return Value::integer(v); }

}  // namespace

Value temporal_function(Builtin fn, std::span<Value> args, const CallSite& site) {
  for (const Value& a : args) {
    if (a.is_null() && !(fn == Builtin::kTime && &a == &args.back() && args.size() == 4)) {
      return null_because(site, std::string(site.name) + "() of null");
    }
  }
  switch (fn) {
    case Builtin::kDate:
      return date_of(args, site);
    case Builtin::kTime:
      return time_of(args, site);
    case Builtin::kDateAndTime:
      return date_and_time_of(args, site);
    case Builtin::kDuration:
      return duration_of(args[0], site);
    default:
      return years_and_months(args, site);
  }
}

Value temporal_property(const Value& v, std::string_view name, bool& found) {
  found = true;
  const Type t = v.type();
  const bool dated = t == Type::kDate || t == Type::kDateTime;
  const bool timed = t == Type::kTime || t == Type::kDateTime;
  if (dated && (name == "year" || name == "month" || name == "day" || name == "weekday")) {
    if (name == "weekday") return integer(iso_weekday(v.days()));
    const Civil c = civil_from_days(v.days());
    return integer(name == "year" ? c.year : name == "month" ? c.month : c.day);
  }
  if (timed) {
    const std::int64_t seconds = v.nanos() / kNanosPerSecond;
    if (name == "hour") return integer(seconds / 3600);
    if (name == "minute") return integer(seconds / 60 % 60);
    if (name == "second") return integer(seconds % 60);
    if (name == "time offset") {
      if (v.zone().kind == ZoneKind::kLocal) return {};
      const std::int64_t off = v.zone().kind == ZoneKind::kOffset
                                   ? v.zone().offset_s
                                   : offset_at_local(v.zone(), t == Type::kDateTime ? v.days() : 0,
                                                     v.nanos());
      return Value::days_time(off * kNanosPerSecond);
    }
    if (name == "timezone") {
      if (v.zone().kind != ZoneKind::kId) return {};
      return Value::owned_string(std::string(zone_id(v.zone())));
    }
  }
  if (t == Type::kYearsMonths) {
    if (name == "years") return integer(v.months() / 12);
    if (name == "months") return integer(v.months() % 12);
  }
  if (t == Type::kDaysTime) {
    const std::int64_t seconds = v.nanos() / kNanosPerSecond;
    if (name == "days") return integer(seconds / 86'400);
    if (name == "hours") return integer(seconds / 3600 % 24);
    if (name == "minutes") return integer(seconds / 60 % 60);
    if (name == "seconds") return integer(seconds % 60);
  }
  found = false;
  return {};
}

}  // namespace ordo::expr
