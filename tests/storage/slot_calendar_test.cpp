#include "storage/slot_calendar.h"

#include <gtest/gtest.h>

namespace tginvite::storage::internal {
namespace {

// Invariant I4 (docs/invariants.md)
TEST(SlotCalendarTest, TakesTheEarliestSlotAnIntervalFromEveryOther) {
  SlotCalendar calendar("", 1000, 40);
  EXPECT_EQ(calendar.Take(1500), 1500);
  EXPECT_EQ(calendar.Take(1100), 1100);
  EXPECT_EQ(calendar.Take(1100), 1140);      // 1100 is taken
  EXPECT_EQ(calendar.Take(1470), 1540);      // too close to 1500, so after it
  EXPECT_EQ(calendar.Take(1200), 1200);      // a gap wide enough
  EXPECT_EQ(calendar.Earliest(1420), 1420);  // 1420 + 40 <= 1460: fits before 1500
  EXPECT_EQ(calendar.Earliest(1461), 1580);
  EXPECT_EQ(calendar.Stored(), "1100,1140,1200,1500,1540");
  EXPECT_EQ(calendar.Frontier(), 1580);
}

TEST(SlotCalendarTest, KeepsOnlyTheSlotsThatCanStillHoldOneBack) {
  // At 1000, with an interval of 40, a slot at 960 or before cannot conflict with one from 1000.
  SlotCalendar calendar("900,960,961,1200", 1000, 40);
  EXPECT_EQ(calendar.Stored(), "961,1200");
  EXPECT_EQ(calendar.Earliest(1000), 1001);
}

TEST(SlotCalendarTest, ReadsWhatItStoredAndDropsWhatDoesNotParse) {
  SlotCalendar first("", 0, 10);
  first.Take(30);
  first.Take(10);
  SlotCalendar second(first.Stored(), 0, 10);
  EXPECT_EQ(second.Stored(), "10,30");
  EXPECT_EQ(second.Take(15), 20);

  SlotCalendar garbled("50,x,,70abc,90", 0, 10);
  EXPECT_EQ(garbled.Stored(), "50,90");
  EXPECT_EQ(SlotCalendar("", 0, 10).Frontier(), 0);
}

}  // namespace
}  // namespace tginvite::storage::internal
