#include "storage/slot_calendar.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace tginvite::storage::internal {

SlotCalendar::SlotCalendar(std::string_view stored, int64_t now, int64_t interval)
    : interval_(std::max<int64_t>(interval, 1)) {
  while (!stored.empty()) {
    const size_t comma = stored.find(',');
    const std::string_view item = stored.substr(0, comma);
    int64_t slot = 0;
    auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), slot);
    if (error == std::errc() && end == item.data() + item.size() && slot > now - interval_) {
      slots_.push_back(slot);
    }
    stored = comma == std::string_view::npos ? std::string_view() : stored.substr(comma + 1);
  }
  std::sort(slots_.begin(), slots_.end());
}

int64_t SlotCalendar::Earliest(int64_t from) const {
  int64_t candidate = from;
  for (int64_t slot : slots_) {
    if (slot + interval_ <= candidate) continue;  // far enough before
    if (candidate + interval_ <= slot) break;     // fits before this one, and so before the rest
    candidate = slot + interval_;
  }
  return candidate;
}

int64_t SlotCalendar::Take(int64_t from) {
  const int64_t slot = Earliest(from);
  slots_.insert(std::upper_bound(slots_.begin(), slots_.end(), slot), slot);
  return slot;
}

std::string SlotCalendar::Stored() const { return fmt::format("{}", fmt::join(slots_, ",")); }

int64_t SlotCalendar::Frontier() const { return slots_.empty() ? 0 : slots_.back() + interval_; }

}  // namespace tginvite::storage::internal
