// The clock seam: production code asks a Clock for the time, tests drive a fake one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stop_token>

namespace tginvite::core {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

// Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  // Waits until `deadline` or until `stop` is requested; false when stopped.
  virtual bool SleepUntil(TimePoint deadline, std::stop_token stop) const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now());
  }
  bool SleepUntil(TimePoint deadline, std::stop_token stop) const override {
    std::mutex mu;
    std::condition_variable_any never_notified;
    std::unique_lock lock(mu);
    return !never_notified.wait_until(lock, stop, deadline, [] { return false; }) &&
           !stop.stop_requested();
  }
};

inline int64_t ToUnixMillis(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint FromUnixMillis(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

}  // namespace tginvite::core
