#include "telegram/updates.h"

#include <gtest/gtest.h>

#include "dispatch/updates.h"

namespace tginvite::telegram {
namespace {

using Json = nlohmann::json;

TEST(StartPayloadTest, ReadsWhatFollowsStart) {
  EXPECT_EQ(StartPayloadOf("/start"), "");
  EXPECT_EQ(StartPayloadOf("/start   "), "");
  EXPECT_EQ(StartPayloadOf("/start abc_DEF-123"), "abc_DEF-123");
  EXPECT_EQ(StartPayloadOf("/start  abc \n"), "abc");
  EXPECT_EQ(StartPayloadOf("/start@Some_Bot abc"), "abc");
  EXPECT_EQ(StartPayloadOf("/start@Some_Bot"), "");
  EXPECT_EQ(StartPayloadOf(std::string("/start ") + std::string(64, 'a')), std::string(64, 'a'));
}

TEST(StartPayloadTest, WhatCannotBeAKeyMatchesNothing) {
  EXPECT_EQ(StartPayloadOf(std::string("/start ") + std::string(65, 'a')), kInvalidStartPayload);
  EXPECT_EQ(StartPayloadOf("/start a b"), kInvalidStartPayload);
  EXPECT_EQ(StartPayloadOf("/start ключ"), kInvalidStartPayload);
  EXPECT_EQ(StartPayloadOf("/start a'; DROP TABLE x"), kInvalidStartPayload);
}

TEST(StartPayloadTest, OtherTextIsNoStart) {
  EXPECT_EQ(StartPayloadOf(""), std::nullopt);
  EXPECT_EQ(StartPayloadOf("hello"), std::nullopt);
  EXPECT_EQ(StartPayloadOf("/started"), std::nullopt);
  EXPECT_EQ(StartPayloadOf(" /start"), std::nullopt);
  EXPECT_EQ(StartPayloadOf("/help"), std::nullopt);
}

Json Message(Json chat, Json from, std::string text) {
  return {{"update_id", 7},
          {"message",
           {{"message_id", 1}, {"chat", std::move(chat)}, {"from", std::move(from)},
            {"date", 0}, {"text", std::move(text)}}}};
}

TEST(ReadUpdateTest, APrivateStartFromAPerson) {
  std::optional<Update> update =
      ReadUpdate(Message({{"id", 5}, {"type", "private"}},
                         {{"id", 5}, {"is_bot", false}, {"username", "Ada_L"}}, "/start key1"));
  ASSERT_TRUE(update);
  EXPECT_EQ(update->kind, Update::Kind::kStart);
  EXPECT_EQ(update->update_id, 7);
  EXPECT_EQ(update->user_id, 5);
  EXPECT_EQ(update->username, "ada_l");
  EXPECT_EQ(update->start_payload, "key1");
}

TEST(ReadUpdateTest, StartsFromGroupsBotsOrNobodyAreNotActedOn) {
  const Json person = {{"id", 5}, {"is_bot", false}};
  for (const Json& item : {
           Message({{"id", -100}, {"type", "group"}}, person, "/start key1"),
           Message({{"id", 5}, {"type", "private"}}, {{"id", 5}, {"is_bot", true}}, "/start k"),
           Message({{"id", 5}, {"type", "private"}}, {{"id", -5}}, "/start k"),
           Message({{"id", 5}, {"type", "private"}}, {{"id", "5"}}, "/start k"),
           Message({{"id", 5}, {"type", "private"}}, person, "hello"),
           Message({{"id", 5}, {"type", "private"}}, person, std::string(5000, 'x')),
       }) {
    std::optional<Update> update = ReadUpdate(item);
    ASSERT_TRUE(update) << item.dump();
    EXPECT_EQ(update->kind, Update::Kind::kOther) << item.dump();
    EXPECT_EQ(update->update_id, 7);
  }
}

TEST(ReadUpdateTest, AUsernameWithOtherCharactersIsDropped) {
  std::optional<Update> update = ReadUpdate(Message(
      {{"id", 5}, {"type", "private"}}, {{"id", 5}, {"username", "a b\u00e9"}}, "/start k"));
  ASSERT_TRUE(update);
  EXPECT_EQ(update->kind, Update::Kind::kStart);
  EXPECT_EQ(update->username, "");
}

TEST(ReadUpdateTest, WithoutAnIntegerUpdateIdThereIsNoUpdate) {
  EXPECT_FALSE(ReadUpdate(Json::object()));
  EXPECT_FALSE(ReadUpdate(Json{{"update_id", "1"}}));
  EXPECT_FALSE(ReadUpdate(Json::array()));
  std::optional<Update> other = ReadUpdate(Json{{"update_id", 3}, {"poll", Json::object()}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->kind, Update::Kind::kOther);
}

TEST(ParseUpdateBatchTest, OneUpdateAnArrayOrAnObjectOfUpdates) {
  const std::string start =
      Message({{"id", 5}, {"type", "private"}}, {{"id", 5}}, "/start k").dump();
  auto one = dispatch::ParseUpdateBatch(start);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->updates.size(), 1u);
  EXPECT_EQ(one->updates[0].kind, storage::InboxUpdate::Kind::kStart);
  EXPECT_EQ(one->updates[0].start_payload, "k");

  auto array = dispatch::ParseUpdateBatch("[" + start + ", {\"no\": 1}]");
  ASSERT_TRUE(array);
  EXPECT_EQ(array->updates.size(), 1u);
  EXPECT_EQ(array->skipped, 1);

  auto wrapped = dispatch::ParseUpdateBatch("{\"updates\": [" + start + "]}");
  ASSERT_TRUE(wrapped);
  EXPECT_EQ(wrapped->updates.size(), 1u);
}

TEST(ParseUpdateBatchTest, BadBodiesAreRefusedWithAReason) {
  for (std::string_view body : {"", "not json", "42", "\"text\"", "{\"updates\": 3}"}) {
    auto parsed = dispatch::ParseUpdateBatch(body);
    ASSERT_FALSE(parsed) << body;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  }
  std::string many = "[";
  for (size_t i = 0; i <= dispatch::kMaxUpdatesPerBatch; ++i) {
    many += (i > 0 ? ",{\"update_id\":" : "{\"update_id\":") + std::to_string(i) + "}";
  }
  many += "]";
  EXPECT_FALSE(dispatch::ParseUpdateBatch(many));
  EXPECT_FALSE(dispatch::ParseUpdateBatch(std::string(100000, '[')));
}

}  // namespace
}  // namespace tginvite::telegram
