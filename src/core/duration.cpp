#include "core/duration.h"

#include <array>
#include <cstdint>
#include <limits>
#include <span>

namespace tginvite::core {
namespace {

struct Unit {
  std::string_view suffix;
  int64_t millis;
};

// Largest first: the order compound durations must follow and FormatDuration tries (from hours:
// days are read, never written, so a stored "24h" stays "24h").
constexpr std::array<Unit, 5> kUnits = {{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

Error NotADuration() {
  return Fail(ErrorCode::kInvalidArgument, "not a duration (use e.g. 750ms, 30s, 10m, 1h, 7d)");
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text.empty()) return NotADuration();
  if (text.find_first_not_of('0') == std::string_view::npos) return std::chrono::milliseconds(0);

  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t total = 0;
  size_t next_unit = 0;  // index into kUnits of the largest unit still allowed
  size_t i = 0;
  while (i < text.size()) {
    if (!IsDigit(text[i])) return NotADuration();
    int64_t number = 0;
    for (; i < text.size() && IsDigit(text[i]); ++i) {
      const int digit = text[i] - '0';
      if (number > (kMax - digit) / 10) return NotADuration();
      number = number * 10 + digit;
    }
    size_t unit_end = i;
    while (unit_end < text.size() && !IsDigit(text[unit_end])) ++unit_end;
    const std::string_view suffix = text.substr(i, unit_end - i);
    size_t u = next_unit;
    while (u < kUnits.size() && kUnits[u].suffix != suffix) ++u;
    if (u == kUnits.size()) return NotADuration();
    if (number > kMax / kUnits[u].millis) return NotADuration();
    const int64_t millis = number * kUnits[u].millis;
    if (total > kMax - millis) return NotADuration();
    total += millis;
    next_unit = u + 1;
    i = unit_end;
  }
  return std::chrono::milliseconds(total);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  const int64_t millis = d.count();
  if (millis == 0) return "0s";
  for (const Unit& unit : std::span(kUnits).subspan(1)) {
    if (millis % unit.millis == 0) return fmt::format("{}{}", millis / unit.millis, unit.suffix);
  }
  return fmt::format("{}ms", millis);  // unreachable: every count is a whole number of ms
}

}  // namespace tginvite::core
