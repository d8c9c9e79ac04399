// An account's rate as its requests actually leave this process. The slot calendar spaces the
// planned slots (storage::internal::SlotCalendar); a request may still leave up to kMaxLateness
// after its slot, and a late one with its on-time successors would put more than `rate` requests
// into one second. So every request also takes its leaving time here, from the times the
// account's last requests really left: at most `rate` within any kLeavingWindow. A late request
// pushes the ones after it; an on-time one is never held (slots are planned kRateMargin wider).
//
// Thread-safe.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>

#include "core/clock.h"

namespace tginvite::dispatch {

// The second that Telegram's limit counts over, widened by what the receiver's clock may see
// differently from ours (the way from here to there varies by a few milliseconds)...
inline constexpr std::chrono::milliseconds kLeavingWindow{1003};
// ...and the slots' span of `rate` intervals, wider still, so that requests that leave at their
// slots never wait for the window: 1,005 ms / rate (99.5 % of the rate).
inline constexpr std::chrono::milliseconds kRateSpan{1005};

// The least spacing of two of an account's requests at `rate` a second: kRateSpan / rate, in
// whole microseconds, rounded up.
std::chrono::microseconds EmissionInterval(int rate);

class LeavingWindow {
 public:
  // The earliest time from `now` on at which one more request may leave with at most `rate` in
  // any kLeavingWindow, taken for a request that will leave then; nullopt (nothing taken) when
  // that is after `latest`.
  std::optional<core::TimePoint> Take(core::TimePoint now, int rate, core::TimePoint latest);
  // The request that took `taken` was handed to the network at `left`: a loaded machine may run
  // the sending thread some milliseconds after the time it took, and the ones after it must count
  // from when it really left. (Nothing changes when `left` is not later, or `taken` is gone.)
  void Left(core::TimePoint taken, core::TimePoint left);

 private:
  std::mutex mu_;
  std::deque<core::TimePoint> taken_;  // the last `rate` leaving times, ascending
};

}  // namespace tginvite::dispatch
