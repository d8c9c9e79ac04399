// The fake TDLib (tests/fakes/fake_tdjson), loaded with TdJson::LoadFrom as the user-account path
// will load the real one: the login flow and its session, resolution, invitations, messages and
// their final updates, scripted faults and the journal of effects. Every wait has a deadline.
//
// The library stays loaded for the whole process, so each test writes a scenario to a path of its
// own and creates new clients: the fake reloads a scenario whose path or bytes changed.
#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "fakes/files.h"
#include "fakes/temp_dir.h"
#include "telegram/tdlib/td_json.h"

namespace tginvite::telegram::tdlib {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int64_t kMe = 1000;
constexpr int64_t kAlice = 2001;
constexpr int64_t kBob = 2002;    // privacy_restricted
constexpr int64_t kCarol = 2003;  // blocks_messages
constexpr int64_t kDave = 2004;
constexpr int64_t kEve = 2005;    // joins_on_link
constexpr int64_t kFrank = 2006;  // already a member
constexpr int64_t kGroup = -1001234567890;
constexpr int64_t kClosedGroup = -1009999999999;  // can_invite: false
constexpr const char* kKey = "c2VjcmV0LWtleS0x";  // base64

std::string FakePath() {
  if (const char* env = std::getenv("TGINVITE_FAKE_TDJSON"); env != nullptr && *env != '\0') {
    return env;
  }
  return TGINVITE_FAKE_TDJSON_PATH;
}

Json BaseScenario() {
  return Json::parse(R"({
    "me": {"id": 1000, "username": "inviter", "first_name": "Ina", "phone": "+15550000000"},
    "auth": {"code": "12345"},
    "users": [
      {"id": 2001, "username": "alice_tg", "phone": "+15550000001", "first_name": "Alice"},
      {"id": 2002, "username": "bob_tg", "phone": "+15550000002", "first_name": "Bob",
       "privacy_restricted": true},
      {"id": 2003, "phone": "+15550000003", "first_name": "Carol", "blocks_messages": true},
      {"id": 2004, "phone": "+15550000004", "first_name": "Dave"},
      {"id": 2005, "username": "eve_tg", "phone": "+15550000005", "first_name": "Eve",
       "joins_on_link": true},
      {"id": 2006, "phone": "+15550000006", "first_name": "Frank", "member": true}
    ],
    "chats": [
      {"id": -1001234567890, "title": "Readers", "username": "readers_club"},
      {"id": -1009999999999, "title": "Closed", "can_invite": false}
    ]
  })");
}

class FakeTdJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::shared_ptr<TdJson>> td = TdJson::LoadFrom(FakePath());
    ASSERT_TRUE(td) << td.error().message;
    td_ = *td;
  }

  // Writes `scenario` to a new path and points the fake (and its journal) at it: the next client
  // created reads it.
  void UseScenario(const Json& scenario) {
    static int generation = 0;
    const std::string path = dir_.File("scenario-" + std::to_string(++generation) + ".json");
    std::ofstream(path) << scenario.dump(2);
    ::setenv("TGINVITE_FAKE_TDJSON_SCENARIO", path.c_str(), 1);
    ::setenv("TGINVITE_FAKE_TDJSON_JOURNAL", journal_path().c_str(), 1);
  }

  std::string journal_path() const { return dir_.File("journal.jsonl"); }

  // The journal's lines whose effect is `effect` ("" for all).
  std::vector<Json> Journal(const std::string& effect = "") const {
    std::vector<Json> lines;
    std::istringstream in(tginvite::testing::FileBytes(journal_path()));
    for (std::string line; std::getline(in, line);) {
      Json parsed = Json::parse(line);
      if (effect.empty() || parsed["effect"] == effect) lines.push_back(parsed);
    }
    return lines;
  }

  // The first object for `client` that `wanted` accepts, from what was received already or
  // within `seconds`; null if none came. Objects not wanted are kept for later waits.
  Json WaitFor(int client, const std::function<bool(const Json&)>& wanted, double seconds = 5) {
    for (auto it = backlog_.begin(); it != backlog_.end(); ++it) {
      if ((*it)["@client_id"] == client && wanted(*it)) {
        Json found = *it;
        backlog_.erase(it);
        return found;
      }
    }
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(seconds));
    while (Clock::now() < deadline) {
      const std::string text = td_->Receive(0.1);
      if (text.empty()) continue;
      Json object = Json::parse(text);
      EXPECT_TRUE(object.contains("@client_id")) << text;
      if (object["@client_id"] == client && wanted(object)) return object;
      backlog_.push_back(std::move(object));
    }
    return nullptr;
  }

  Json WaitForType(int client, const std::string& type, double seconds = 5) {
    return WaitFor(
        client, [&](const Json& o) { return o.value("@type", "") == type; }, seconds);
  }

  // The next updateAuthorizationState of `client`; its state's @type.
  std::string NextState(int client) {
    Json update = WaitForType(client, "updateAuthorizationState");
    if (update.is_null()) return "(none)";
    return update["authorization_state"].value("@type", "");
  }

  // Sends `request` with a fresh "@extra" and waits for its answer (null if none came).
  Json Request(int client, Json request, double seconds = 5) {
    const std::string extra = "request-" + std::to_string(++requests_);
    request["@extra"] = extra;
    td_->Send(client, request.dump());
    return WaitFor(
        client, [&](const Json& o) { return o.contains("@extra") && o["@extra"] == extra; },
        seconds);
  }

  static void ExpectError(const Json& answer, int code, const std::string& message) {
    EXPECT_EQ(answer.value("@type", ""), "error") << answer.dump();
    EXPECT_EQ(answer.value("code", 0), code) << answer.dump();
    EXPECT_EQ(answer.value("message", ""), message) << answer.dump();
  }

  static Json Parameters(const std::string& directory, const std::string& key) {
    return {{"@type", "setTdlibParameters"},
            {"database_directory", directory},
            {"database_encryption_key", key},
            {"use_message_database", false},
            {"api_id", 94575},
            {"api_hash", "a3406de8d171bb422bb6ddf3bbd800e2"},
            {"system_language_code", "en"},
            {"device_model", "tginvite test"},
            {"application_version", "0.1.0"}};
  }

  // A new client walked to authorizationStateReady with the scenario's code (no password).
  int LoggedInClient(const std::string& directory, const std::string& key = kKey) {
    const int client = td_->CreateClientId();
    EXPECT_EQ(Request(client, Parameters(directory, key))["@type"], "ok");
    EXPECT_EQ(NextState(client), "authorizationStateWaitTdlibParameters");
    EXPECT_EQ(NextState(client), "authorizationStateWaitPhoneNumber");
    EXPECT_EQ(Request(client, {{"@type", "setAuthenticationPhoneNumber"},
                               {"phone_number", "+15550000000"}})["@type"],
              "ok");
    EXPECT_EQ(NextState(client), "authorizationStateWaitCode");
    EXPECT_EQ(Request(client, {{"@type", "checkAuthenticationCode"}, {"code", "12345"}})["@type"],
              "ok");
    EXPECT_EQ(NextState(client), "authorizationStateReady");
    return client;
  }

  static Json TextMessage(int64_t chat_id, const std::string& text) {
    return {
        {"@type", "sendMessage"},
        {"chat_id", chat_id},
        {"input_message_content",
         {{"@type", "inputMessageText"},
          {"text", {{"@type", "formattedText"}, {"text", text}, {"entities", Json::array()}}}}}};
  }

  tginvite::testing::TempDir dir_;
  std::shared_ptr<TdJson> td_;
  std::deque<Json> backlog_;
  int requests_ = 0;
};

// Invariant I7 (docs/invariants.md)
TEST_F(FakeTdJsonTest, LogsInWithCodeAndPasswordAndKeepsTheSessionPrivate) {
  Json scenario = BaseScenario();
  scenario["auth"] = {{"code", "24680"}, {"password", "hunter2"}, {"password_hint", "the usual"}};
  UseScenario(scenario);
  const int client = td_->CreateClientId();
  // Nothing comes from a client before its first request.
  EXPECT_TRUE(WaitFor(
                  client, [](const Json&) { return true; }, 0.2)
                  .is_null());

  // "@extra" comes back verbatim, whatever it is; every object names its client.
  td_->Send(client, R"({"@type":"getOption","name":"version","@extra":{"n":[1,"x"]}})");
  Json version = WaitForType(client, "optionValueString");
  EXPECT_EQ(version["value"], "1.8.67");
  EXPECT_EQ(version["@extra"], Json::parse(R"({"n":[1,"x"]})"));
  EXPECT_EQ(NextState(client), "authorizationStateWaitTdlibParameters");

  const std::string directory = dir_.File("td");
  Json no_api_id = Parameters(directory, kKey);
  no_api_id.erase("api_id");
  Json answer = Request(client, no_api_id);
  EXPECT_EQ(answer.value("code", 0), 400);
  EXPECT_EQ(answer.value("message", "").rfind("Valid api_id must be provided", 0), 0u)
      << answer.dump();
  Json no_device = Parameters(directory, kKey);
  no_device["device_model"] = "";
  EXPECT_EQ(Request(client, no_device).value("code", 0), 400);
  ExpectError(Request(client, {{"@type", "getMe"}}), 400,
              "Initialization parameters are needed: call setTdlibParameters first");

  EXPECT_EQ(Request(client, Parameters(directory, kKey))["@type"], "ok");
  EXPECT_EQ(NextState(client), "authorizationStateWaitPhoneNumber");
  ExpectError(Request(client, {{"@type", "getMe"}}), 401, "Unauthorized");
  ExpectError(
      Request(client, {{"@type", "setAuthenticationPhoneNumber"}, {"phone_number", "call me"}}),
      400, "PHONE_NUMBER_INVALID");
  EXPECT_EQ(Request(client, {{"@type", "setAuthenticationPhoneNumber"},
                             {"phone_number", "+1 555 000 0000"}})["@type"],
            "ok");
  EXPECT_EQ(NextState(client), "authorizationStateWaitCode");

  ExpectError(Request(client, {{"@type", "checkAuthenticationCode"}, {"code", "12345"}}), 400,
              "PHONE_CODE_INVALID");
  EXPECT_EQ(Request(client, {{"@type", "getAuthorizationState"}})["@type"],
            "authorizationStateWaitCode");
  EXPECT_EQ(Request(client, {{"@type", "checkAuthenticationCode"}, {"code", "24680"}})["@type"],
            "ok");
  Json wait_password = WaitForType(client, "updateAuthorizationState");
  EXPECT_EQ(wait_password["authorization_state"]["@type"], "authorizationStateWaitPassword");
  EXPECT_EQ(wait_password["authorization_state"]["password_hint"], "the usual");

  ExpectError(Request(client, {{"@type", "checkAuthenticationPassword"}, {"password", "guess"}}),
              400, "PASSWORD_HASH_INVALID");
  EXPECT_TRUE(Journal("login").empty());
  EXPECT_EQ(
      Request(client, {{"@type", "checkAuthenticationPassword"}, {"password", "hunter2"}})["@type"],
      "ok");
  EXPECT_EQ(NextState(client), "authorizationStateReady");

  const Json me = Request(client, {{"@type", "getMe"}});
  EXPECT_EQ(me["@type"], "user");
  EXPECT_EQ(me["id"], kMe);
  EXPECT_EQ(me["usernames"]["active_usernames"][0], "inviter");
  EXPECT_EQ(Request(client, {{"@type", "getOption"}, {"name", "my_id"}})["value"], "1000");
  EXPECT_EQ(tginvite::testing::ModeOf(directory + "/fake_session.json"), 0600u);
  ASSERT_EQ(Journal("login").size(), 1u);
  EXPECT_EQ(Journal("login")[0]["phone"], "+1 555 000 0000");
}

TEST_F(FakeTdJsonTest, ReusesASessionOnlyWithTheSameEncryptionKey) {
  UseScenario(BaseScenario());
  const std::string directory = dir_.File("td");
  const int first = LoggedInClient(directory);
  EXPECT_EQ(Request(first, {{"@type", "close"}})["@type"], "ok");
  EXPECT_EQ(NextState(first), "authorizationStateClosing");
  EXPECT_EQ(NextState(first), "authorizationStateClosed");
  ExpectError(Request(first, {{"@type", "getMe"}}), 500, "Request aborted");

  const int second = td_->CreateClientId();
  EXPECT_EQ(Request(second, Parameters(directory, kKey))["@type"], "ok");
  EXPECT_EQ(NextState(second), "authorizationStateWaitTdlibParameters");
  EXPECT_EQ(NextState(second), "authorizationStateReady");
  EXPECT_EQ(Request(second, {{"@type", "getMe"}})["id"], kMe);
  EXPECT_EQ(Journal("login").size(), 1u) << "a reused session is no new login";

  const int third = td_->CreateClientId();
  ExpectError(Request(third, Parameters(directory, "b3RoZXIta2V5")), 401,
              "Wrong database encryption key");
  EXPECT_EQ(Request(third, {{"@type", "getAuthorizationState"}})["@type"],
            "authorizationStateWaitTdlibParameters");

  ExpectError(Request(td_->CreateClientId() + 1000, {{"@type", "getMe"}}), 400,
              "Invalid TDLib instance specified");
}

TEST_F(FakeTdJsonTest, ResolvesUsersByUsernameAndByPhone) {
  UseScenario(BaseScenario());
  const int client = LoggedInClient(dir_.File("td"));

  Json chat = Request(client, {{"@type", "searchPublicChat"}, {"username", "alice_tg"}});
  EXPECT_EQ(chat["@type"], "chat") << chat.dump();
  EXPECT_EQ(chat["id"], kAlice);
  EXPECT_EQ(chat["type"]["@type"], "chatTypePrivate");
  EXPECT_EQ(chat["type"]["user_id"], kAlice);
  EXPECT_EQ(Request(client, {{"@type", "searchPublicChat"}, {"username", "@ALICE_TG"}})["id"],
            kAlice);
  EXPECT_EQ(Request(client, {{"@type", "searchPublicChat"}, {"username", "readers_club"}})["id"],
            kGroup);
  ExpectError(Request(client, {{"@type", "searchPublicChat"}, {"username", "nobody_here"}}), 400,
              "USERNAME_NOT_OCCUPIED");
  ExpectError(Request(client, {{"@type", "searchPublicChat"}, {"username", "1 bad name"}}), 400,
              "USERNAME_INVALID");

  Json imported = Request(client, {{"@type", "importContacts"},
                                   {"contacts",
                                    {{{"@type", "importedContact"},
                                      {"phone_number", "+15550000004"},
                                      {"first_name", "Dave"},
                                      {"last_name", ""}},
                                     {{"@type", "importedContact"},
                                      {"phone_number", "+15559999999"},
                                      {"first_name", "Nobody"},
                                      {"last_name", ""}}}}});
  EXPECT_EQ(imported["@type"], "importedContacts") << imported.dump();
  EXPECT_EQ(imported["user_ids"], Json::array({kDave, 0}));
  EXPECT_EQ(imported["importer_count"].size(), 2u);
  const std::vector<Json> imports = Journal("import");
  ASSERT_EQ(imports.size(), 2u);
  EXPECT_EQ(imports[0]["phone"], "+15550000004");
  EXPECT_EQ(imports[1]["phone"], "+15559999999");

  EXPECT_EQ(Request(client, {{"@type", "searchUserByPhoneNumber"}, {"phone_number", "15550000001"}})
                .value("id", 0),
            kAlice);
  ExpectError(
      Request(client, {{"@type", "searchUserByPhoneNumber"}, {"phone_number", "+15559999999"}}),
      404, "Not Found");
}

TEST_F(FakeTdJsonTest, ImportAnswers429WhenEveryContactWouldBeRetried) {
  Json scenario = BaseScenario();
  scenario["import_retry_all"] = true;
  UseScenario(scenario);
  const int client = LoggedInClient(dir_.File("td"));
  ExpectError(Request(client, {{"@type", "importContacts"},
                               {"contacts", Json::array({{{"@type", "importedContact"},
                                                          {"phone_number", "+15550000004"},
                                                          {"first_name", "Dave"}}})}}),
              429, "Too Many Requests: retry after 3600");
  EXPECT_TRUE(Journal("import").empty());
}

TEST_F(FakeTdJsonTest, AddsMembersAndListsThoseWhosePrivacyRefuses) {
  UseScenario(BaseScenario());
  const int client = LoggedInClient(dir_.File("td"));

  Json failed = Request(client, {{"@type", "addChatMembers"},
                                 {"chat_id", kGroup},
                                 {"user_ids", Json::array({kAlice, kBob})}});
  EXPECT_EQ(failed["@type"], "failedToAddMembers") << failed.dump();
  ASSERT_EQ(failed["failed_to_add_members"].size(), 1u) << failed.dump();
  EXPECT_EQ(failed["failed_to_add_members"][0]["@type"], "failedToAddMember");
  EXPECT_EQ(failed["failed_to_add_members"][0]["user_id"], kBob);
  EXPECT_EQ(failed["failed_to_add_members"][0]["premium_would_allow_invite"], false);

  Json message = WaitForType(client, "updateNewMessage");
  EXPECT_EQ(message["message"]["chat_id"], kGroup);
  EXPECT_EQ(message["message"]["content"]["@type"], "messageChatAddMembers");
  EXPECT_EQ(message["message"]["content"]["member_user_ids"], Json::array({kAlice}));

  auto status_of = [&](int64_t user_id) {
    Json member =
        Request(client, {{"@type", "getChatMember"},
                         {"chat_id", kGroup},
                         {"member_id", {{"@type", "messageSenderUser"}, {"user_id", user_id}}}});
    return member["status"].value("@type", member.dump());
  };
  EXPECT_EQ(status_of(kAlice), "chatMemberStatusMember");
  EXPECT_EQ(status_of(kBob), "chatMemberStatusLeft");
  EXPECT_EQ(status_of(kFrank), "chatMemberStatusMember");
  EXPECT_EQ(status_of(kMe), "chatMemberStatusAdministrator");

  ExpectError(Request(client, {{"@type", "addChatMember"},
                               {"chat_id", kGroup},
                               {"user_id", kAlice},
                               {"forward_limit", 0}}),
              400, "USER_ALREADY_PARTICIPANT");
  ExpectError(Request(client, {{"@type", "addChatMembers"},
                               {"chat_id", kGroup},
                               {"user_ids", Json::array({kFrank})}}),
              400, "USER_ALREADY_PARTICIPANT");
  ExpectError(Request(client, {{"@type", "addChatMembers"},
                               {"chat_id", kClosedGroup},
                               {"user_ids", Json::array({kDave})}}),
              400, "CHAT_ADMIN_REQUIRED");

  const std::vector<Json> adds = Journal("add");
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(adds[0], Json({{"effect", "add"}, {"chat_id", kGroup}, {"user_id", kAlice}}));
}

TEST_F(FakeTdJsonTest, AMessageIsPendingThenSucceedsOrFails) {
  UseScenario(BaseScenario());
  const int client = LoggedInClient(dir_.File("td"));
  ExpectError(Request(client, TextMessage(kAlice, "hello")), 400, "Chat not found");

  EXPECT_EQ(Request(client, {{"@type", "createPrivateChat"}, {"user_id", kAlice}})["id"], kAlice);
  Json pending = Request(client, TextMessage(kAlice, "hello Alice"));
  EXPECT_EQ(pending["@type"], "message") << pending.dump();
  EXPECT_EQ(pending["sending_state"]["@type"], "messageSendingStatePending");
  EXPECT_EQ(pending["content"]["text"]["text"], "hello Alice");
  Json succeeded = WaitForType(client, "updateMessageSendSucceeded");
  ASSERT_FALSE(succeeded.is_null());
  EXPECT_EQ(succeeded["old_message_id"], pending["id"]);
  EXPECT_NE(succeeded["message"]["id"], pending["id"]);
  EXPECT_FALSE(succeeded["message"].contains("sending_state"));

  EXPECT_EQ(Request(client, {{"@type", "createPrivateChat"}, {"user_id", kCarol}})["id"], kCarol);
  Json blocked = Request(client, TextMessage(kCarol, "hello Carol"));
  EXPECT_EQ(blocked["sending_state"]["@type"], "messageSendingStatePending");
  Json failed = WaitForType(client, "updateMessageSendFailed");
  ASSERT_FALSE(failed.is_null());
  EXPECT_EQ(failed["old_message_id"], blocked["id"]);
  EXPECT_EQ(failed["error"],
            Json({{"@type", "error"}, {"code", 400}, {"message", "USER_IS_BLOCKED"}}));

  const std::vector<Json> messages = Journal("message");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]["user_id"], kAlice);
  EXPECT_EQ(messages[0]["text"], "hello Alice");
}

TEST_F(FakeTdJsonTest, ALostAnswerStillDeliversTheMessage) {
  Json scenario = BaseScenario();
  scenario["faults"] = {{{"method", "sendMessage"}, {"nth", 1}, {"lose_answer", true}}};
  UseScenario(scenario);
  const int client = LoggedInClient(dir_.File("td"));
  Request(client, {{"@type", "createPrivateChat"}, {"user_id", kDave}});

  EXPECT_TRUE(Request(client, TextMessage(kDave, "first"), 0.5).is_null());
  EXPECT_TRUE(WaitForType(client, "updateMessageSendSucceeded", 0.3).is_null());
  EXPECT_EQ(Journal("message").size(), 1u) << "delivered although never answered";

  EXPECT_EQ(Request(client, TextMessage(kDave, "second"))["@type"], "message");
  EXPECT_FALSE(WaitForType(client, "updateMessageSendSucceeded").is_null());
  EXPECT_EQ(Journal("message").size(), 2u);
}

TEST_F(FakeTdJsonTest, ScriptedFaultsHitTheNthCall) {
  Json scenario = BaseScenario();
  scenario["faults"] = Json::parse(R"([
    {"method": "addChatMembers", "nth": 1, "error": {"code": 400, "message": "PEER_FLOOD"}},
    {"method": "searchPublicChat", "nth": 2,
     "error": {"code": 429, "message": "Too Many Requests: retry after 120"}},
    {"method": "sendMessage", "nth": 1, "error": {"code": 400, "message": "PEER_FLOOD"}},
    {"method": "createChatInviteLink", "every": true, "immediate": true,
     "error": {"code": 400, "message": "CHAT_ADMIN_REQUIRED"}}
  ])");
  UseScenario(scenario);
  const int client = LoggedInClient(dir_.File("td"));

  const Json add = {
      {"@type", "addChatMembers"}, {"chat_id", kGroup}, {"user_ids", Json::array({kDave})}};
  ExpectError(Request(client, add), 400, "PEER_FLOOD");
  EXPECT_TRUE(Journal("add").empty());
  EXPECT_EQ(Request(client, add)["@type"], "failedToAddMembers");
  EXPECT_EQ(Journal("add").size(), 1u);

  const Json search = {{"@type", "searchPublicChat"}, {"username", "alice_tg"}};
  EXPECT_EQ(Request(client, search)["@type"], "chat");
  ExpectError(Request(client, search), 429, "Too Many Requests: retry after 120");
  EXPECT_EQ(Request(client, search)["@type"], "chat");

  // A server error of a send arrives as the send's final update.
  Json pending = Request(client, TextMessage(kAlice, "hi"));
  EXPECT_EQ(pending["@type"], "message");
  Json failed = WaitForType(client, "updateMessageSendFailed");
  EXPECT_EQ(failed["error"]["message"], "PEER_FLOOD");
  EXPECT_TRUE(Journal("message").empty());

  const Json link = {{"@type", "createChatInviteLink"}, {"chat_id", kGroup}, {"name", "x"}};
  ExpectError(Request(client, link), 400, "CHAT_ADMIN_REQUIRED");
  ExpectError(Request(client, link), 400, "CHAT_ADMIN_REQUIRED");
}

TEST_F(FakeTdJsonTest, ARevokedSessionLogsOutAndIsForgotten) {
  Json scenario = BaseScenario();
  scenario["faults"] = {{{"method", "getMe"}, {"nth", 2}, {"revoke_session", true}}};
  UseScenario(scenario);
  const std::string directory = dir_.File("td");
  const int client = LoggedInClient(directory);
  EXPECT_EQ(Request(client, {{"@type", "getMe"}})["id"], kMe);
  ExpectError(Request(client, {{"@type", "getMe"}}), 401, "AUTH_KEY_UNREGISTERED");
  EXPECT_EQ(NextState(client), "authorizationStateLoggingOut");
  EXPECT_EQ(NextState(client), "authorizationStateClosing");
  EXPECT_EQ(NextState(client), "authorizationStateClosed");
  EXPECT_FALSE(std::filesystem::exists(directory + "/fake_session.json"));

  const int again = td_->CreateClientId();
  EXPECT_EQ(Request(again, Parameters(directory, kKey))["@type"], "ok");
  EXPECT_EQ(NextState(again), "authorizationStateWaitTdlibParameters");
  EXPECT_EQ(NextState(again), "authorizationStateWaitPhoneNumber");
}

TEST_F(FakeTdJsonTest, AUserJoinsByTheLinkTheyWereSent) {
  UseScenario(BaseScenario());
  const int client = LoggedInClient(dir_.File("td"));
  Json link = Request(client, {{"@type", "createChatInviteLink"},
                               {"chat_id", kGroup},
                               {"name", "eve"},
                               {"expiration_date", 0},
                               {"member_limit", 1},
                               {"creates_join_request", false}});
  ASSERT_EQ(link["@type"], "chatInviteLink") << link.dump();
  const std::string url = link["invite_link"];
  EXPECT_EQ(url.rfind("https://t.me/+", 0), 0u) << url;
  EXPECT_EQ(link["member_limit"], 1);
  EXPECT_EQ(link["creator_user_id"], kMe);
  EXPECT_NE(
      Request(client, {{"@type", "createChatInviteLink"}, {"chat_id", kGroup}})["invite_link"],
      url);
  ExpectError(Request(client, {{"@type", "createChatInviteLink"}, {"chat_id", kClosedGroup}}), 400,
              "CHAT_ADMIN_REQUIRED");

  EXPECT_EQ(Request(client, {{"@type", "searchPublicChat"}, {"username", "eve_tg"}})["id"], kEve);
  EXPECT_EQ(Request(client, TextMessage(kEve, "join us: " + url))["@type"], "message");
  Json joined = WaitFor(client, [](const Json& o) {
    return o.value("@type", "") == "updateNewMessage" &&
           o["message"]["content"].value("@type", "") == "messageChatJoinByLink";
  });
  ASSERT_FALSE(joined.is_null());
  EXPECT_EQ(joined["message"]["chat_id"], kGroup);
  EXPECT_EQ(joined["message"]["sender_id"],
            Json({{"@type", "messageSenderUser"}, {"user_id", kEve}}));

  const std::vector<Json> links = Journal("link");
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0],
            Json({{"effect", "link"}, {"chat_id", kGroup}, {"name", "eve"}, {"invite_link", url}}));
  ASSERT_EQ(Journal("join").size(), 1u);
  EXPECT_EQ(Journal("join")[0]["user_id"], kEve);
}

TEST_F(FakeTdJsonTest, ParsesHtmlEntitiesSynchronouslyAndAsynchronously) {
  const Json request = {
      {"@type", "parseTextEntities"},
      {"text", "<b>Hi</b> \xF0\x9F\x98\x80 <a href=\"https://t.me/+abc\">join</a> &lt;3"},
      {"parse_mode", {{"@type", "textParseModeHTML"}}}};
  const Json parsed = Json::parse(td_->Execute(request.dump()));
  EXPECT_EQ(parsed["@type"], "formattedText") << parsed.dump();
  EXPECT_EQ(parsed["text"], "Hi \xF0\x9F\x98\x80 join <3");
  ASSERT_EQ(parsed["entities"].size(), 2u) << parsed.dump();
  EXPECT_EQ(parsed["entities"][0]["offset"], 0);
  EXPECT_EQ(parsed["entities"][0]["length"], 2);
  EXPECT_EQ(parsed["entities"][0]["type"]["@type"], "textEntityTypeBold");
  EXPECT_EQ(parsed["entities"][1]["offset"], 6) << "the emoji is two UTF-16 units";
  EXPECT_EQ(parsed["entities"][1]["length"], 4);
  EXPECT_EQ(parsed["entities"][1]["type"]["url"], "https://t.me/+abc");

  Json bad = request;
  bad["text"] = "<b>unclosed";
  const Json refused = Json::parse(td_->Execute(bad.dump()));
  EXPECT_EQ(refused["code"], 400);
  EXPECT_EQ(refused.value("message", "").rfind("Can't parse entities: ", 0), 0u) << refused.dump();
  EXPECT_EQ(td_->Version(), "1.8.67");
  EXPECT_EQ(Json::parse(td_->Execute(R"({"@type":"getMe"})"))["message"],
            "The method can't be executed synchronously");

  UseScenario(BaseScenario());
  const int client = td_->CreateClientId();
  EXPECT_EQ(Request(client, request)["text"], "Hi \xF0\x9F\x98\x80 join <3");
}

// Invariant I12 (docs/invariants.md)
TEST_F(FakeTdJsonTest, MalformedRequestsAreAnsweredNotFatal) {
  UseScenario(BaseScenario());
  const int client = LoggedInClient(dir_.File("td"));
  td_->Send(client, "{not json");
  Json error = WaitFor(client, [](const Json& o) {
    return o.value("@type", "") == "error" && !o.contains("@extra");
  });
  EXPECT_EQ(error["code"], 400);
  EXPECT_EQ(error.value("message", "").rfind("Failed to parse request as JSON object: ", 0), 0u)
      << error.dump();

  EXPECT_EQ(Request(client, {{"name", "version"}}).value("code", 0), 400);
  EXPECT_EQ(Request(client, {{"@type", "noSuchMethod"}})["message"],
            "Failed to parse JSON object as TDLib request: Unknown class \"noSuchMethod\"");
  EXPECT_EQ(Request(client, {{"@type", "getChat"}, {"chat_id", "abc"}}).value("code", 0), 400);
  EXPECT_EQ(Request(client, {{"@type", "addChatMembers"}, {"chat_id", kGroup}, {"user_ids", "x"}})
                .value("code", 0),
            400);
  EXPECT_EQ(
      Request(client, {{"@type", "sendMessage"}, {"chat_id", kGroup}, {"input_message_content", 5}})
          .value("code", 0),
      400);
  EXPECT_EQ(Request(client, {{"@type", "importContacts"}, {"contacts", Json::array({1, 2})}})
                .value("code", 0),
            400);
  // Numbers may come as strings, as TDLib accepts them.
  EXPECT_EQ(Request(client, {{"@type", "getChat"}, {"chat_id", std::to_string(kGroup)}})["id"],
            kGroup);
}

TEST_F(FakeTdJsonTest, ReceiveGivesNothingAfterItsTimeout) {
  while (!td_->Receive(0.05).empty()) {
  }  // what earlier tests left
  const auto start = Clock::now();
  EXPECT_EQ(td_->Receive(0.3), "");
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(250)) << "it returned without waiting";
}

TEST_F(FakeTdJsonTest, SendIsSafeFromManyThreads) {
  UseScenario(BaseScenario());
  const int client = td_->CreateClientId();
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  {
    std::vector<std::jthread> senders;
    for (int t = 0; t < kThreads; ++t) {
      senders.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          td_->Send(client,
                    Json({{"@type", "getOption"}, {"name", "version"}, {"@extra", t * kEach + i}})
                        .dump());
        }
      });
    }
  }
  std::set<int> answered;
  for (int i = 0; i < kThreads * kEach; ++i) {
    Json answer = WaitForType(client, "optionValueString");
    if (answer.is_null()) break;
    answered.insert(answer["@extra"].get<int>());
  }
  EXPECT_EQ(answered.size(), static_cast<size_t>(kThreads * kEach));
}

}  // namespace
}  // namespace tginvite::telegram::tdlib
