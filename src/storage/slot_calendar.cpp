#include "storage/slot_calendar.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace tginvite::storage::internal {
namespace {

constexpr std::string_view kMicros = "us:";

int64_t CeilMillis(int64_t micros) { return micros >= 0 ? (micros + 999) / 1000 : micros / 1000; }

}  // namespace

SlotCalendar::SlotCalendar(std::string_view stored, int64_t now, std::chrono::microseconds interval)
    : interval_(std::max<int64_t>(interval.count(), 1)) {
  int64_t unit = 1000;  // milliseconds, as written before the marker
  if (stored.starts_with(kMicros)) {
    stored.remove_prefix(kMicros.size());
    unit = 1;
  }
  const int64_t now_micros = now * 1000;
  while (!stored.empty()) {
    const size_t comma = stored.find(',');
    const std::string_view item = stored.substr(0, comma);
    int64_t slot = 0;
    auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), slot);
    if (error == std::errc() && end == item.data() + item.size() && slot >= 0 &&
        slot <= INT64_MAX / 1000) {
      slot *= unit;
      if (slot > now_micros - interval_) slots_.push_back(slot);
    }
    stored = comma == std::string_view::npos ? std::string_view() : stored.substr(comma + 1);
  }
  std::sort(slots_.begin(), slots_.end());
}

int64_t SlotCalendar::EarliestMicros(int64_t from) const {
  int64_t candidate = from * 1000 - 999;  // the first microsecond that rounds up to `from`
  for (int64_t slot : slots_) {
    if (slot + interval_ <= candidate) continue;  // far enough before
    if (candidate + interval_ <= slot) break;     // fits before this one, and so before the rest
    candidate = slot + interval_;
  }
  return candidate;
}

int64_t SlotCalendar::Earliest(int64_t from) const { return CeilMillis(EarliestMicros(from)); }

int64_t SlotCalendar::Take(int64_t from) {
  const int64_t slot = EarliestMicros(from);
  slots_.insert(std::upper_bound(slots_.begin(), slots_.end(), slot), slot);
  return CeilMillis(slot);
}

std::string SlotCalendar::Stored() const {
  return fmt::format("{}{}", kMicros, fmt::join(slots_, ","));
}

int64_t SlotCalendar::Frontier() const {
  return slots_.empty() ? 0 : CeilMillis(slots_.back() + interval_);
}

}  // namespace tginvite::storage::internal
