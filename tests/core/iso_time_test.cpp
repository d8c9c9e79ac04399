#include "core/iso_time.h"

#include <gtest/gtest.h>

namespace tginvite::core {
namespace {

TEST(IsoTimeTest, ReadsInstantsWithAZone) {
  EXPECT_EQ(*ParseIsoInstant("2026-12-24T08:00:00Z"), 1'798'099'200'000);
  EXPECT_EQ(*ParseIsoInstant("2026-12-24T09:00:00+01:00"), 1'798'099'200'000);
  EXPECT_EQ(*ParseIsoInstant("2026-12-24T03:30-04:30"), 1'798'099'200'000);
  EXPECT_EQ(*ParseIsoInstant("2026-12-24T09:00:00+0100"), 1'798'099'200'000);
  EXPECT_EQ(*ParseIsoInstant("2026-12-24T09:00:00+01"), 1'798'099'200'000);
  EXPECT_EQ(*ParseIsoInstant("2026-12-24T08:00:00.25Z"), 1'798'099'200'250);
  EXPECT_EQ(*ParseIsoInstant("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseIsoInstant("2028-02-29T00:00:00Z"), 1'835'395'200'000);
}

TEST(IsoTimeTest, RefusesATimeWithoutAZoneAndAnythingElse) {
  for (const char* text :
       {"2026-12-24T09:00:00", "2026-12-24", "2026-12-24 09:00:00Z", "2026-13-01T00:00:00Z",
        "2027-02-29T00:00:00Z", "2026-12-24T24:00:00Z", "2026-12-24T09:00:00+25:00",
        "2026-12-24T09:00:00Zjunk", "1969-12-31T23:59:59Z", "", "tomorrow", "2026-12-24T09:00:00.Z",
        "2026-12-24T09:00:00+1:00"}) {
    Result<int64_t> parsed = ParseIsoInstant(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find("ISO 8601 with a zone"), std::string::npos)
        << parsed.error().message;
  }
  EXPECT_NE(ParseIsoInstant("2026-12-24T09:00:00").error().message.find("no zone"),
            std::string::npos);
}

TEST(IsoTimeTest, FormatsInUtcAndReadsBackWhatItWrites) {
  EXPECT_EQ(FormatIsoUtc(1'798'099'200'000), "2026-12-24T08:00:00Z");
  EXPECT_EQ(FormatIsoUtc(1'798'099'200'250), "2026-12-24T08:00:00.250Z");
  EXPECT_EQ(FormatIsoUtc(0), "1970-01-01T00:00:00Z");
  for (int64_t ms : {int64_t{0}, int64_t{951'782'400'000}, int64_t{1'835'395'200'123},
                     int64_t{253'402'300'799'000}}) {
    EXPECT_EQ(*ParseIsoInstant(FormatIsoUtc(ms)), ms) << ms;
  }
}

}  // namespace
}  // namespace tginvite::core
