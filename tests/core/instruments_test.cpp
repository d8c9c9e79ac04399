#include "core/instruments.h"

#include <gtest/gtest.h>

namespace tginvite::core {
namespace {

using std::chrono::milliseconds;

TEST(HistogramTest, CountsEachObservationInItsBucketCumulatively) {
  Histogram histogram({0.01, 0.1, 1});
  histogram.Observe(milliseconds(5));     // <= 0.01
  histogram.Observe(milliseconds(10));    // <= 0.01: a bound is inclusive
  histogram.Observe(milliseconds(50));    // <= 0.1
  histogram.Observe(milliseconds(3000));  // +Inf only
  Histogram::Snapshot s = histogram.Take();
  EXPECT_EQ(s.bounds, (std::vector<double>{0.01, 0.1, 1}));
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 3, 3}));
  EXPECT_EQ(s.count, 4u);
  EXPECT_NEAR(s.sum_seconds, 3.065, 1e-9);
}

TEST(HistogramTest, ScopedTimerObservesOnce) {
  Histogram histogram({1});
  { ScopedTimer timer(histogram); }
  EXPECT_EQ(histogram.Take().count, 1u);
}

}  // namespace
}  // namespace tginvite::core
