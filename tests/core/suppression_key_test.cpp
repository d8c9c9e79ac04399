#include "core/suppression_key.h"

#include <string>

#include <gtest/gtest.h>

namespace tginvite::core {
namespace {

using Kind = SuppressionKey::Kind;

TEST(SuppressionKeyTest, ParsesEachKind) {
  Result<SuppressionKey> id = ParseSuppressionKey("id:123456");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->kind, Kind::kUserId);
  EXPECT_EQ(id->user_id, 123456);

  Result<SuppressionKey> username = ParseSuppressionKey("username:bob_smith2");
  ASSERT_TRUE(username) << username.error().message;
  EXPECT_EQ(username->kind, Kind::kUsername);
  EXPECT_EQ(username->text, "bob_smith2");

  Result<SuppressionKey> phone = ParseSuppressionKey("phone:+4930123456");
  ASSERT_TRUE(phone) << phone.error().message;
  EXPECT_EQ(phone->kind, Kind::kPhone);
  EXPECT_EQ(phone->text, "+4930123456");
}

TEST(SuppressionKeyTest, TakesTheLargestUserId) {
  Result<SuppressionKey> id = ParseSuppressionKey("id:9223372036854775807");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->user_id, INT64_MAX);
}

// 19 digits pass the shape but not int64: refused with the usual message (this threw
// std::out_of_range from std::stoll when the rule lived in the store).
TEST(SuppressionKeyTest, RefusesAUserIdBeyondInt64) {
  Result<SuppressionKey> id = ParseSuppressionKey("id:9999999999999999999");
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, ErrorCode::kInvalidArgument);
}

TEST(SuppressionKeyTest, RefusesOtherShapesWithOneMessage) {
  for (const char* key : {"",
                          "id:",
                          "id:0",
                          "id:012",
                          "id:-5",
                          "id:12a",
                          "id:12345678901234567890",
                          "ID:5",
                          "username:",
                          "username:Bob",
                          "username:bob-smith",
                          "username:@bob",
                          "phone:",
                          "phone:+",
                          "phone:4930123",
                          "phone:+49 30",
                          "email:a@b.c",
                          "bob",
                          " id:5",
                          "id:5 "}) {
    Result<SuppressionKey> parsed = ParseSuppressionKey(key);
    ASSERT_FALSE(parsed) << key;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(parsed.error().message,
              "contact key \"" + std::string(key) + "\" is not id:N, username:NAME or phone:+E164");
  }
}

}  // namespace
}  // namespace tginvite::core
