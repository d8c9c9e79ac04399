// Exponential backoff with full jitter: a retry waits a uniformly random time in
// [0, min(cap, base * 2^(attempt - 1))], so that many failures at once do not retry in step.
#pragma once

#include <algorithm>
#include <chrono>
#include <random>

namespace tginvite::dispatch {

template <typename Random>
std::chrono::milliseconds FullJitterBackoff(std::chrono::milliseconds base,
                                            std::chrono::milliseconds cap, int64_t attempt,
                                            Random& random) {
  int64_t ceiling = base.count();
  for (int64_t i = 1; i < attempt && ceiling < cap.count(); ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap.count());
  std::uniform_int_distribution<int64_t> pick(0, std::max<int64_t>(ceiling, 0));
  return std::chrono::milliseconds(pick(random));
}

}  // namespace tginvite::dispatch
