#include "core/iso_time.h"

#include <cctype>

#include <fmt/format.h>

namespace tginvite::core {
namespace {

constexpr std::string_view kExpected =
    "expected ISO 8601 with a zone, e.g. 2026-12-24T09:00:00+01:00 or 2026-12-24T08:00:00Z";

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct CivilDate {
  int64_t year, month, day;
};

CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp + (mp < 10 ? 3 : -9);
  return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int64_t DaysInMonth(int64_t y, int64_t m) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `width` digits at `pos`; -1 when they are not there.
int64_t Digits(std::string_view text, size_t pos, size_t width) {
  if (pos + width > text.size()) return -1;
  int64_t value = 0;
  for (size_t i = pos; i < pos + width; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

Result<int64_t> ParseIsoInstant(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kInvalidArgument, "\"{}\": {}{}", text.substr(0, 64), why, kExpected);
  };
  // YYYY-MM-DDTHH:MM
  const int64_t year = Digits(text, 0, 4);
  const int64_t month = Digits(text, 5, 2);
  const int64_t day = Digits(text, 8, 2);
  const int64_t hour = Digits(text, 11, 2);
  const int64_t minute = Digits(text, 14, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || text[4] != '-' ||
      text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':') {
    return bad("");
  }
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) ||
      hour > 23 || minute > 59) {
    return bad("no such date or time; ");
  }
  size_t pos = 16;
  int64_t second = 0;
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == ':') {
    second = Digits(text, pos + 1, 2);
    if (second < 0 || second > 59) return bad("no such time; ");
    pos += 3;
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      ++pos;
      const size_t first = pos;
      int64_t scale = 100;
      while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
        millis += (text[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == first || pos - first > 9) return bad("");
    }
  }
  if (pos == text.size()) return bad("no zone; ");
  int64_t offset_minutes = 0;
  const char zone = text[pos];
  if ((zone == 'Z' || zone == 'z') && pos + 1 == text.size()) {
    offset_minutes = 0;
  } else if (zone == '+' || zone == '-') {
    std::string_view rest = text.substr(pos + 1);
    int64_t oh = -1;
    int64_t om = 0;
    if (rest.size() == 2) {
      oh = Digits(rest, 0, 2);
    } else if (rest.size() == 4) {
      oh = Digits(rest, 0, 2);
      om = Digits(rest, 2, 2);
    } else if (rest.size() == 5 && rest[2] == ':') {
      oh = Digits(rest, 0, 2);
      om = Digits(rest, 3, 2);
    }
    if (oh < 0 || om < 0 || oh > 18 || om > 59) return bad("a zone offset reads +HH:MM; ");
    offset_minutes = (zone == '-' ? -1 : 1) * (oh * 60 + om);
  } else {
    return bad("");
  }
  const int64_t seconds = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 +
                          second - offset_minutes * 60;
  if (seconds < 0) return bad("before 1970; ");
  return seconds * 1000 + millis;
}

std::string FormatIsoUtc(int64_t unix_ms) {
  const int64_t days = (unix_ms >= 0 ? unix_ms : unix_ms - 86'399'999) / 86'400'000;
  const int64_t in_day = unix_ms - days * 86'400'000;
  const CivilDate date = CivilFromDays(days);
  const int64_t ms = in_day % 1000;
  const int64_t s = in_day / 1000;
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", date.year, date.month,
                                date.day, s / 3600, s / 60 % 60, s % 60);
  if (ms != 0) out += fmt::format(".{:03}", ms);
  out += 'Z';
  return out;
}

}  // namespace tginvite::core
