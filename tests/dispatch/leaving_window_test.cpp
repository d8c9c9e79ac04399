#include "dispatch/leaving_window.h"

#include <gtest/gtest.h>

namespace tginvite::dispatch {
namespace {

using std::chrono::milliseconds;

core::TimePoint At(int64_t ms) { return core::TimePoint(milliseconds(ms)); }

TEST(EmissionIntervalTest, SpacesRateRequestsOverALittleMoreThanASecond) {
  EXPECT_EQ(EmissionInterval(30).count(), 33'500);  // 1,005 ms / 30
  EXPECT_EQ(EmissionInterval(1).count(), 1'005'000);
  EXPECT_EQ(EmissionInterval(0).count(), 1'005'000);  // never a division by zero
  EXPECT_EQ(EmissionInterval(1000).count(), 1'005);
}

// A request that leaves late must not let the next ones put more than `rate` into one second.
TEST(LeavingWindowTest, ALateRequestPushesTheOnesAfterIt) {
  LeavingWindow window;
  const core::TimePoint never_late = At(1'000'000);
  // rate 3: slots 0, 335, 670, 1005 ms. The first leaves 20 ms late.
  EXPECT_EQ(window.Take(At(20), 3, never_late), At(20));
  EXPECT_EQ(window.Take(At(335), 3, never_late), At(335));
  EXPECT_EQ(window.Take(At(670), 3, never_late), At(670));
  // On time at 1005 it would be the fourth within a second of the first: it waits for it.
  EXPECT_EQ(window.Take(At(1005), 3, never_late), At(20) + kLeavingWindow);
  // On-time requests are never held.
  LeavingWindow on_time;
  for (int k = 0; k < 10; ++k) {
    const core::TimePoint slot = At(k * 335);
    EXPECT_EQ(on_time.Take(slot, 3, never_late), slot) << k;
  }
}

// A request whose thread ran late (a loaded machine) left after the time it took: the ones after
// it count from when it really left.
TEST(LeavingWindowTest, ARequestThatReallyLeftLatePushesTheOnesAfterIt) {
  LeavingWindow window;
  const core::TimePoint never_late = At(1'000'000);
  // rate 3: it took 0 but its bytes went at 15.
  ASSERT_EQ(window.Take(At(0), 3, never_late), At(0));
  window.Left(At(0), At(15));
  EXPECT_EQ(window.Take(At(335), 3, never_late), At(335));
  EXPECT_EQ(window.Take(At(670), 3, never_late), At(670));
  EXPECT_EQ(window.Take(At(1005), 3, never_late), At(15) + kLeavingWindow);
  // Leaving earlier than taken, or for a time no longer held, changes nothing.
  window.Left(At(335), At(300));
  window.Left(At(7), At(400));
  EXPECT_EQ(window.Take(At(1340), 3, never_late), At(1340));
}

// Another lane's request took a time between: the late one moves after it, so that the window
// still counts from its earliest request.
TEST(LeavingWindowTest, ALateLeavingKeepsTheTimesInOrder) {
  LeavingWindow window;
  const core::TimePoint never_late = At(1'000'000);
  ASSERT_EQ(window.Take(At(0), 2, never_late), At(0));
  ASSERT_EQ(window.Take(At(5), 2, never_late), At(5));
  window.Left(At(0), At(30));  // now 5, 30
  EXPECT_EQ(window.Take(At(500), 2, never_late), At(5) + kLeavingWindow);
}

TEST(LeavingWindowTest, TakesNothingPastTheLatestItMayLeave) {
  LeavingWindow window;
  for (int k = 0; k < 2; ++k) ASSERT_TRUE(window.Take(At(0), 2, At(0)));
  EXPECT_FALSE(window.Take(At(10), 2, At(500)));  // it would have to wait until 1003
  // Refused, it took nothing: the next request is limited by the first two only.
  EXPECT_EQ(window.Take(At(10), 2, At(2000)), At(0) + kLeavingWindow);
}

TEST(LeavingWindowTest, NeverCountsMoreThanTheRateInAnySecond) {
  // Requests reaching it in a burst, out of order: whatever times it gives, no window of
  // kLeavingWindow holds more than `rate` of them.
  LeavingWindow window;
  std::vector<core::TimePoint> left;
  for (int k = 0; k < 200; ++k) {
    const core::TimePoint now = At((k * 37) % 400 + k * 10);
    if (auto at = window.Take(now, 5, At(1'000'000))) left.push_back(*at);
  }
  ASSERT_EQ(left.size(), 200u);
  for (size_t i = 0; i + 5 < left.size(); ++i) {
    EXPECT_GE(left[i + 5] - left[i], kLeavingWindow) << i;
  }
}

}  // namespace
}  // namespace tginvite::dispatch
