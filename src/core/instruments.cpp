#include "core/instruments.h"

#include <algorithm>

namespace tginvite::core {

Histogram::Histogram(std::vector<double> bounds_seconds)
    : bounds_(std::move(bounds_seconds)), buckets_(bounds_.size() + 1, 0) {}

void Histogram::Observe(std::chrono::nanoseconds duration) {
  const double seconds = std::chrono::duration<double>(duration).count();
  const size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), seconds) - bounds_.begin();
  std::lock_guard lock(mu_);
  ++buckets_[bucket];
  ++count_;
  sum_ += seconds;
}

Histogram::Snapshot Histogram::Take() const {
  Snapshot snapshot;
  snapshot.bounds = bounds_;
  std::lock_guard lock(mu_);
  uint64_t running = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    running += buckets_[i];
    snapshot.cumulative.push_back(running);
  }
  snapshot.count = count_;
  snapshot.sum_seconds = sum_;
  return snapshot;
}

ProcessInstruments& Instruments() {
  // Claims and HTTP requests are database-bound (sub-millisecond to seconds when locked); sends
  // are network-bound (tens of milliseconds to the HTTP timeout).
  static ProcessInstruments instruments{
      Histogram({0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}),
      Histogram({0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
      Histogram({0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5}),
  };
  return instruments;
}

}  // namespace tginvite::core
