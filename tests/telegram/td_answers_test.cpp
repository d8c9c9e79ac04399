// What tginvite reads out of TDLib's objects: joins from a group's service messages, member
// statuses and usernames, with fields of the wrong type read as absent.
#include "telegram/tdlib/td_answers.h"

#include <gtest/gtest.h>

namespace tginvite::telegram::tdlib {
namespace {

using Json = nlohmann::json;

TEST(TdAnswersTest, JoinsComeFromJoinAndAddMessagesOnly) {
  Json by_link = Json::parse(R"({"id": 7, "chat_id": -100123,
      "sender_id": {"@type": "messageSenderUser", "user_id": 42},
      "content": {"@type": "messageChatJoinByLink"}})");
  std::vector<Update> joins = JoinsOf(by_link);
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].user_id, 42);
  EXPECT_EQ(joins[0].chat_id, -100123);
  EXPECT_EQ(joins[0].new_status, "member");
  Json added = Json::parse(R"({"id": "8", "chat_id": "-100123",
      "content": {"@type": "messageChatAddMembers", "member_user_ids": [1, 2, -3, "4"]}})");
  joins = JoinsOf(added);
  ASSERT_EQ(joins.size(), 2u);  // int64 as strings are read; a negative or text id is not
  EXPECT_NE(joins[0].update_id, joins[1].update_id);
  EXPECT_EQ(JoinsOf(added)[0].update_id, joins[0].update_id);  // the same message, the same id
  Json text = Json::parse(R"({"id": 9, "chat_id": -100123,
      "content": {"@type": "messageText"}})");
  EXPECT_TRUE(JoinsOf(text).empty());
  EXPECT_TRUE(JoinsOf(Json::parse(R"({"content": 5, "chat_id": []})")).empty());
}

TEST(TdAnswersTest, MemberStatusesAndUsernames) {
  EXPECT_EQ(MemberStatusOf(Json::parse(R"({"@type": "chatMemberStatusMember"})")), "member");
  EXPECT_EQ(MemberStatusOf(Json::parse(R"({"@type": "chatMemberStatusRestricted",
      "is_member": false})")), "left");
  EXPECT_EQ(MemberStatusOf(Json::parse(R"({"@type": "chatMemberStatusBanned"})")), "kicked");
  EXPECT_EQ(MemberStatusOf(Json::parse("[1]")), "left");
  EXPECT_EQ(UsernameOf(Json::parse(R"({"usernames": {"active_usernames": ["a", "b"]}})")), "a");
  EXPECT_EQ(UsernameOf(Json::parse(R"({"usernames": {"active_usernames": [],
      "editable_username": "e"}})")), "e");
  EXPECT_EQ(UsernameOf(Json::parse(R"({"username": "old"})")), "old");
  EXPECT_EQ(UsernameOf(Json::parse(R"({"usernames": 3})")), "");
}

}  // namespace
}  // namespace tginvite::telegram::tdlib
