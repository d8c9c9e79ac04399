#include "dispatch/leaving_window.h"

#include <algorithm>

namespace tginvite::dispatch {

std::chrono::microseconds EmissionInterval(int rate) {
  const int64_t per_second = std::max(rate, 1);
  const int64_t span = std::chrono::microseconds(kRateSpan).count();
  return std::chrono::microseconds((span + per_second - 1) / per_second);
}

std::optional<core::TimePoint> LeavingWindow::Take(core::TimePoint now, int rate,
                                                   core::TimePoint latest) {
  const size_t limit = static_cast<size_t>(std::max(rate, 1));
  std::lock_guard lock(mu_);
  while (taken_.size() > limit) taken_.pop_front();  // the rate was lowered
  core::TimePoint at = now;
  // Ascending, so that the window's count holds for every time taken: a request that reaches
  // here a moment after a later-slotted one leaves right after it.
  if (!taken_.empty()) at = std::max(at, taken_.back());
  if (taken_.size() == limit) at = std::max(at, taken_.front() + kLeavingWindow);
  if (at > latest) return std::nullopt;
  taken_.push_back(at);
  if (taken_.size() > limit) taken_.pop_front();
  return at;
}

void LeavingWindow::Left(core::TimePoint taken, core::TimePoint left) {
  if (left <= taken) return;
  std::lock_guard lock(mu_);
  auto it = std::find(taken_.rbegin(), taken_.rend(), taken);
  if (it == taken_.rend()) return;
  *it = left;
  // Ascending again: it moves past the times taken after it that are now earlier.
  auto moved = std::prev(it.base());
  while (std::next(moved) != taken_.end() && *std::next(moved) < *moved) {
    std::iter_swap(moved, std::next(moved));
    ++moved;
  }
}

}  // namespace tginvite::dispatch
