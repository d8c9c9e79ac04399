#include "core/duration.h"

#include <chrono>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace tginvite::core {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kNotADuration = "not a duration (use e.g. 750ms, 30s, 10m, 1h, 7d)";

TEST(DurationTest, ParsesEachUnit) {
  EXPECT_EQ(ParseDuration("750ms").value(), milliseconds(750));
  EXPECT_EQ(ParseDuration("30s").value(), milliseconds(30'000));
  EXPECT_EQ(ParseDuration("10m").value(), milliseconds(600'000));
  EXPECT_EQ(ParseDuration("1h").value(), milliseconds(3'600'000));
}

TEST(DurationTest, ParsesZeroWithAndWithoutUnit) {
  EXPECT_EQ(ParseDuration("0").value(), milliseconds(0));
  EXPECT_EQ(ParseDuration("0s").value(), milliseconds(0));
  EXPECT_EQ(ParseDuration("0ms").value(), milliseconds(0));
}

TEST(DurationTest, ParsesCompoundInDecreasingUnits) {
  EXPECT_EQ(ParseDuration("1h30m").value(), milliseconds(5'400'000));
  EXPECT_EQ(ParseDuration("1m30s500ms").value(), milliseconds(90'500));
}

TEST(DurationTest, ReadsDaysButWritesHours) {
  EXPECT_EQ(ParseDuration("7d").value(), milliseconds(7 * 86'400'000LL));
  EXPECT_EQ(ParseDuration("1d12h").value(), milliseconds(36 * 3'600'000LL));
  EXPECT_EQ(FormatDuration(milliseconds(86'400'000)), "24h") << "stored settings keep their text";
}

TEST(DurationTest, RefusesWhatIsNotADuration) {
  for (const std::string_view text :
       {"", "-5s", "+5s", "5", "600", "s", "5x", "5S", "1.5s", "5 s", " 5s", "5s ", "1D", "30s1h", "1h1d",
        "1h1h", "5ms5s", "ms", "1h-30m"}) {
    const auto result = ParseDuration(text);
    ASSERT_FALSE(result) << "accepted \"" << text << "\"";
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << text;
    EXPECT_EQ(result.error().message, kNotADuration) << text;
  }
}

TEST(DurationTest, RefusesOverflow) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(ParseDuration(std::to_string(max) + "ms").value(), milliseconds(max));
  EXPECT_FALSE(ParseDuration("9223372036854775808ms"));
  EXPECT_FALSE(ParseDuration(std::to_string(max / 1000 + 1) + "s"));
  EXPECT_FALSE(ParseDuration("99999999999999999999999h"));
  EXPECT_FALSE(ParseDuration(std::to_string(max / 3'600'000) + "h" + std::to_string(max) + "ms"));
}

TEST(DurationTest, FormatsInTheLargestExactUnit) {
  EXPECT_EQ(FormatDuration(milliseconds(600'000)), "10m");
  EXPECT_EQ(FormatDuration(milliseconds(1'500)), "1500ms");
  EXPECT_EQ(FormatDuration(milliseconds(3'600'000)), "1h");
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(90'000)), "90s");
  EXPECT_EQ(FormatDuration(milliseconds(5'400'000)), "90m");
  EXPECT_EQ(FormatDuration(milliseconds(86'400'000)), "24h");
  EXPECT_EQ(FormatDuration(milliseconds(1)), "1ms");
}

TEST(DurationTest, FormatThenParseRoundTrips) {
  for (const int64_t ms : {0LL, 1LL, 999LL, 1'000LL, 61'000LL, 3'600'001LL, 7'200'000LL}) {
    EXPECT_EQ(ParseDuration(FormatDuration(milliseconds(ms))).value(), milliseconds(ms)) << ms;
  }
}

}  // namespace
}  // namespace tginvite::core
