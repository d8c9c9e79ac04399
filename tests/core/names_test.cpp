#include "core/names.h"

#include <string>

#include <gtest/gtest.h>

namespace tginvite::core {
namespace {

TEST(NamesTest, AcceptsLettersDigitsDotsDashesAndUnderscores) {
  for (const char* name : {"spring", "a", "7", "Spring-2026.v2_b", "0.0"}) {
    EXPECT_TRUE(ValidateName("campaign", name)) << name;
  }
  EXPECT_TRUE(ValidateName("account", std::string(64, 'x')));
}

TEST(NamesTest, RefusesWithTheRuleAndTheName) {
  Status refused = ValidateName("campaign", "a b");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused.error().message,
            "campaign name \"a b\": use 1 to 64 letters, digits, '.', '_' or '-', starting with "
            "a letter or digit");
  Status account = ValidateName("account", "");
  ASSERT_FALSE(account);
  EXPECT_TRUE(account.error().message.starts_with("account name \"\": "));
}

TEST(NamesTest, RefusesEveryOtherShape) {
  for (const std::string& name :
       {std::string(), std::string(65, 'x'), std::string(".hidden"), std::string("-flag"),
        std::string("_x"), std::string("a/b"), std::string("caf\xC3\xA9"), std::string("a\nb"),
        std::string("a\0b", 3)}) {
    EXPECT_FALSE(ValidateName("token", name)) << name;
  }
}

TEST(NamesTest, AcceptsChatIdsAndPublicChannels) {
  for (const char* chat :
       {"-1001234567890", "12345", "-1", "9223372036854775807", "-9223372036854775808", "@abcd",
        "@Channel_2026", "@a2345678901234567890123456789012"}) {
    EXPECT_TRUE(ValidateChat(chat)) << chat;
  }
}

TEST(NamesTest, RefusesOtherChats) {
  for (const char* chat : {"",
                           "-",
                           "0",
                           "-0",
                           "0123",
                           "--1",
                           "1-",
                           "12a",
                           " 12",
                           "9223372036854775808",
                           "-9223372036854775809",
                           "99999999999999999999",
                           "@abc",
                           "@1abcd",
                           "@_abcd",
                           "@abc-d",
                           "abcd",
                           "@",
                           "https://t.me/abcd",
                           "@a23456789012345678901234567890123"}) {
    Status refused = ValidateChat(chat);
    ASSERT_FALSE(refused) << chat;
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(refused.error().message,
              "chat \"" + std::string(chat) +
                  "\": expected a chat id such as -1001234567890 or a public @channelname");
  }
}

}  // namespace
}  // namespace tginvite::core
