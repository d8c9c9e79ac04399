#include "storage/slot_calendar.h"

#include <gtest/gtest.h>

namespace tginvite::storage::internal {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

// Invariant I4 (docs/invariants.md)
TEST(SlotCalendarTest, TakesTheEarliestSlotAnIntervalFromEveryOther) {
  SlotCalendar calendar("", 1000, milliseconds(40));
  EXPECT_EQ(calendar.Take(1500), 1500);
  EXPECT_EQ(calendar.Take(1100), 1100);
  EXPECT_EQ(calendar.Take(1100), 1140);      // 1100 is taken
  EXPECT_EQ(calendar.Take(1470), 1540);      // too close to 1500, so after it
  EXPECT_EQ(calendar.Take(1200), 1200);      // a gap wide enough
  EXPECT_EQ(calendar.Earliest(1420), 1420);  // 1420 + 40 <= 1460: fits before 1500
  EXPECT_EQ(calendar.Earliest(1461), 1580);
  EXPECT_EQ(calendar.Stored(), "us:1099001,1139001,1199001,1499001,1539001");
  EXPECT_EQ(calendar.Frontier(), 1580);
}

TEST(SlotCalendarTest, KeepsOnlyTheSlotsThatCanStillHoldOneBack) {
  // At 1000, with an interval of 40, a slot at 960 or before cannot conflict with one from 1000.
  SlotCalendar calendar("us:900000,960000,960001,1200000", 1000, milliseconds(40));
  EXPECT_EQ(calendar.Stored(), "us:960001,1200000");
  EXPECT_EQ(calendar.Earliest(1000), 1001);  // 960.001 + 40 ms, rounded up
}

TEST(SlotCalendarTest, SpacesSlotsByAFractionOfAMillisecond) {
  // 30/s: thirty intervals of 33,334 us span a second, where whole milliseconds needed 34 ms each
  // (1,020 ms, 98 % of the rate).
  SlotCalendar calendar("", 5000, microseconds(33'334));
  const int64_t first = calendar.Take(5000);
  int64_t last = first;
  for (int i = 0; i < 30; ++i) last = calendar.Take(5000);
  EXPECT_EQ(first, 5000);  // 4,999.001 ms, rounded up
  EXPECT_EQ(last, 6000);   // 30 x 33.334 ms = 1,000.02 ms later, rounded up
  // Never 31 slots within one second: the 31st is a second after the first.
  SlotCalendar again(calendar.Stored(), 5000, microseconds(33'334));
  EXPECT_EQ(again.Take(5000), 6033);  // 31 x 33.334 = 1,033.354 ms later

  // As the stores take them: Earliest under their constraints, then Take of what it returned. The
  // slot taken keeps its fraction; taking the rounded one would space them 34 ms apart.
  SlotCalendar stores("", 5000, microseconds(33'334));
  int64_t slot = 0;
  for (int i = 0; i <= 30; ++i) slot = stores.Take(stores.Earliest(stores.Earliest(5000)));
  EXPECT_EQ(slot, 6000);
  EXPECT_EQ(stores.Stored(), calendar.Stored());
}

TEST(SlotCalendarTest, ReadsWhatItStoredAndDropsWhatDoesNotParse) {
  SlotCalendar first("", 0, milliseconds(10));
  first.Take(30);
  first.Take(10);
  SlotCalendar second(first.Stored(), 0, milliseconds(10));
  EXPECT_EQ(second.Stored(), "us:9001,29001");
  EXPECT_EQ(second.Take(15), 20);

  SlotCalendar garbled("us:50000,x,,70abc,-5,90000", 0, milliseconds(10));
  EXPECT_EQ(garbled.Stored(), "us:50000,90000");
  EXPECT_EQ(SlotCalendar("", 0, milliseconds(10)).Frontier(), 0);
}

TEST(SlotCalendarTest, ReadsMillisecondsWrittenBeforeTheMarker) {
  // rate_limits.reserved as an earlier version wrote it: milliseconds, no marker.
  SlotCalendar calendar("50,x,90", 0, milliseconds(10));
  EXPECT_EQ(calendar.Stored(), "us:50000,90000");
  EXPECT_EQ(calendar.Take(45), 60);
  EXPECT_EQ(calendar.Take(70), 70);  // 69.001 ms: 10 from 60 and from 80
}

}  // namespace
}  // namespace tginvite::storage::internal
