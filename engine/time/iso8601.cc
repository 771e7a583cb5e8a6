#include "time/iso8601.h"

#include <cctype>

namespace ordo::time {
namespace {

bool digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads exactly `n` digits.
bool digits(std::string_view s, std::size_t& i, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k, ++i) {
    if (i >= s.size() || !digit(s[i])) return false;
  }
  return true;
}

bool expect(std::string_view s, std::size_t& i, char c) {
  if (i < s.size() && s[i] == c) {
    ++i;
    return true;
  }
  return false;
}

int number(std::string_view s, std::size_t from, std::size_t n) {
  int v = 0;
  for (std::size_t k = 0; k < n; ++k) v = v * 10 + (s[from + k] - '0');
  return v;
}

}  // namespace

bool is_iso_duration(std::string_view s) noexcept {
  std::size_t i = 0;
  if (!expect(s, i, 'P')) return false;
  bool in_time = false, any = false;
  std::string_view date_units = "YMWD", time_units = "HMS";
  std::size_t last_unit = 0;  // units must appear in order, each at most once
  while (i < s.size()) {
    if (s[i] == 'T') {
      if (in_time) return false;
      in_time = true;
      last_unit = 0;
      ++i;
      if (i == s.size()) return false;  // "P1DT" has no time part
      continue;
    }
    std::size_t start = i;
    while (i < s.size() && digit(s[i])) ++i;
    bool fraction = false;
    if (i < s.size() && (s[i] == '.' || s[i] == ',') && i > start) {
      ++i;
      std::size_t f = i;
      while (i < s.size() && digit(s[i])) ++i;
      if (i == f) return false;
      fraction = true;
    }
    if (i == start || i >= s.size()) return false;
    std::string_view units = in_time ? time_units : date_units;
    std::size_t u = units.find(s[i]);
    if (u == std::string_view::npos || u + 1 <= last_unit) return false;
    if (fraction && !(in_time && s[i] == 'S')) return false;
    last_unit = u + 1;
    any = true;
    ++i;
  }
  return any;
}

bool is_iso_date_time(std::string_view s) noexcept {
  std::size_t i = 0;
  if (!digits(s, i, 4) || !expect(s, i, '-') || !digits(s, i, 2) || !expect(s, i, '-') ||
      !digits(s, i, 2)) {
    return false;
  }
  int month = number(s, 5, 2), day = number(s, 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  if (!expect(s, i, 'T')) return false;
  std::size_t t = i;
  if (!digits(s, i, 2) || !expect(s, i, ':') || !digits(s, i, 2)) return false;
  if (number(s, t, 2) > 23 || number(s, t + 3, 2) > 59) return false;
  if (expect(s, i, ':')) {
    std::size_t sec = i;
    if (!digits(s, i, 2) || number(s, sec, 2) > 60) return false;
    if (expect(s, i, '.')) {
      std::size_t f = i;
      while (i < s.size() && digit(s[i])) ++i;
      if (i == f) return false;
    }
  }
  if (expect(s, i, 'Z')) return i == s.size();
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    ++i;
    std::size_t o = i;
    if (!digits(s, i, 2) || !expect(s, i, ':') || !digits(s, i, 2)) return false;
    return number(s, o, 2) <= 23 && number(s, o + 3, 2) <= 59 && i == s.size();
  }
  return false;
}

bool is_iso_cycle(std::string_view s) noexcept {
  std::size_t i = 0;
  if (!expect(s, i, 'R')) return false;
  while (i < s.size() && digit(s[i])) ++i;
  if (!expect(s, i, '/')) return false;
  std::string_view rest = s.substr(i);
  std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return is_iso_duration(rest);
  std::string_view first = rest.substr(0, slash), second = rest.substr(slash + 1);
  // R/start/duration or R/duration/end
  return (is_iso_date_time(first) && is_iso_duration(second)) ||
         (is_iso_duration(first) && is_iso_date_time(second));
}

}  // namespace ordo::time
