// A clock that tests drive: time moves only when a test advances it or when code sleeps on it
// (a sleep jumps straight to its deadline), so no test waits for real time to pass.
#pragma once

#include <mutex>

#include "core/clock.h"

namespace tginvite::testing {

class FakeClock final : public core::Clock {
 public:
  explicit FakeClock(core::TimePoint start = core::FromUnixMillis(1'800'000'000'000))
      : now_(start) {}

  core::TimePoint Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  bool SleepUntil(core::TimePoint deadline, std::stop_token stop) const override {
    if (stop.stop_requested()) return false;
    std::lock_guard lock(mu_);
    if (deadline > now_) now_ = deadline;
    return true;
  }
  void Advance(std::chrono::milliseconds by) {
    std::lock_guard lock(mu_);
    now_ += by;
  }

 private:
  mutable std::mutex mu_;
  mutable core::TimePoint now_;
};

}  // namespace tginvite::testing
