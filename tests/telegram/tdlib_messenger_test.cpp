// The user account's Messenger and login over the fake TDLib (tests/fakes/fake_tdjson): what each
// TDLib answer becomes for the dispatcher. The library stays loaded for the whole process, so each
// test writes its own scenario; the fake reloads a scenario whose path or bytes changed.
#include <cstdlib>
#include <deque>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fakes/fake_tdjson_path.h"
#include "fakes/temp_dir.h"
#include "telegram/tdlib/login.h"
#include "telegram/tdlib/td_json.h"
#include "telegram/tdlib/tdlib_messenger.h"

namespace tginvite::telegram::tdlib {
namespace {

using Json = nlohmann::json;

constexpr int64_t kAlice = 2001;
constexpr int64_t kBob = 2002;    // privacy_restricted
constexpr int64_t kCarol = 2003;  // blocks_messages
constexpr const char* kGroup = "-1001234567890";

Json Scenario() {
  return Json::parse(R"({
    "me": {"id": 1000, "username": "inviter", "first_name": "Ina", "phone": "+15550000000"},
    "auth": {"code": "12345", "password": "hunter22", "password_hint": "the usual"},
    "users": [
      {"id": 2001, "username": "alice_tg", "phone": "+15550000001", "first_name": "Alice"},
      {"id": 2002, "username": "bob_tg", "phone": "+15550000002", "first_name": "Bob",
       "privacy_restricted": true},
      {"id": 2003, "phone": "+15550000003", "first_name": "Carol", "blocks_messages": true}
    ],
    "chats": [{"id": -1001234567890, "title": "Readers"}]
  })");
}

// Answers the login's questions from a script; records what it was told.
class ScriptedPrompter final : public LoginPrompter {
 public:
  explicit ScriptedPrompter(std::deque<std::string> answers) : answers_(std::move(answers)) {}
  std::optional<std::string> Ask(std::string_view question, bool secret) override {
    asked.push_back(std::string(question) + (secret ? " (secret)" : ""));
    if (answers_.empty()) return std::nullopt;
    std::string answer = answers_.front();
    answers_.pop_front();
    return answer;
  }
  void Tell(std::string_view line) override { told.emplace_back(line); }
  std::vector<std::string> asked;
  std::vector<std::string> told;

 private:
  std::deque<std::string> answers_;
};

class TdlibMessengerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string fake = testing::FakeTdJsonPath();
    if (fake.empty()) GTEST_SKIP() << "the fake TDLib was not built (TGINVITE_FAKE_TDJSON)";
    Result<std::shared_ptr<TdJson>> td = TdJson::LoadFrom(fake);
    ASSERT_TRUE(td) << td.error().message;
    td_ = *td;
    account_.name = "staff";
    account_.credentials = {1234567, "0123456789abcdef0123456789abcdef", "+15550000000"};
    account_.database_directory = dir_.File("tdlib/staff");
    account_.database_key = core::Secret(std::string(64, 'a'));
    account_.timeout = std::chrono::seconds(5);
    UseScenario(Scenario());
    ::setenv("TGINVITE_FAKE_TDJSON_JOURNAL", dir_.File("journal").c_str(), 1);
  }

  void UseScenario(const Json& scenario) {
    const std::string path = dir_.File("scenario-" + std::to_string(++scenarios_) + ".json");
    std::ofstream(path) << scenario.dump();
    ::setenv("TGINVITE_FAKE_TDJSON_SCENARIO", path.c_str(), 1);
  }

  void LogInOrFail() {
    ScriptedPrompter prompter({"12345", "hunter22"});
    Result<LoginResult> login = LogIn(td_, account_, prompter);
    ASSERT_TRUE(login) << login.error().message;
  }

  int CountJournal(std::string_view effect) {
    std::ifstream in(dir_.File("journal"));
    int n = 0;
    for (std::string line; std::getline(in, line);) {
      Json entry = Json::parse(line, nullptr, false);
      if (entry.is_object() && entry.value("effect", "") == effect) ++n;
    }
    return n;
  }

  testing::TempDir dir_;
  std::shared_ptr<TdJson> td_;
  TdlibAccount account_;
  int scenarios_ = 0;
};

// Invariant I7 (docs/invariants.md)
TEST_F(TdlibMessengerTest, LoginRetriesAWrongCodeAndAsksThePasswordWithoutEcho) {
  ScriptedPrompter prompter({"00000", "12345", "wrong-password", "hunter22"});
  Result<LoginResult> login = LogIn(td_, account_, prompter);
  ASSERT_TRUE(login) << login.error().message;
  EXPECT_EQ(login->username, "inviter");
  ASSERT_EQ(prompter.asked.size(), 4u);
  EXPECT_EQ(prompter.asked[1], "Login code: ");
  EXPECT_NE(prompter.asked[2].find("(hint: the usual)"), std::string::npos) << prompter.asked[2];
  EXPECT_NE(prompter.asked[3].find("(secret)"), std::string::npos);
  // The session stays: a second login asks nothing.
  ScriptedPrompter silent({});
  Result<LoginResult> again = LogIn(td_, account_, silent);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(silent.asked.empty());
}

TEST_F(TdlibMessengerTest, ThreeWrongCodesEndTheLoginWithAClearError) {
  ScriptedPrompter prompter({"1", "2", "3"});
  Result<LoginResult> login = LogIn(td_, account_, prompter);
  ASSERT_FALSE(login);
  EXPECT_NE(login.error().message.find("wrong codes"), std::string::npos) << login.error().message;
}

TEST_F(TdlibMessengerTest, ASessionNotLoggedInMakesTheAccountUnauthorized) {
  auto messenger = MakeTdlibMessenger(td_, account_);
  SendResult sent = messenger->SendInvitation({kAlice, "hi", "", ""});
  EXPECT_EQ(sent.outcome.kind, OutcomeKind::kAccountFatal);
  EXPECT_EQ(sent.outcome.account_health, core::AccountHealth::kUnauthorized);
  EXPECT_NE(sent.outcome.description.find("account login staff"), std::string::npos)
      << sent.outcome.description;
  EXPECT_EQ(CountJournal("message"), 0);
}

TEST_F(TdlibMessengerTest, FindsAddsAndMessagesAsTelegramAnswers) {
  LogInOrFail();
  auto messenger = MakeTdlibMessenger(td_, account_);
  LookupResult by_name = messenger->FindUser({"alice_tg", "", "", ""});
  ASSERT_TRUE(by_name.outcome.ok()) << by_name.outcome.description;
  EXPECT_EQ(by_name.user_id, kAlice);
  LookupResult by_phone = messenger->FindUser({"", "+15550000003", "Carol", ""});
  ASSERT_TRUE(by_phone.outcome.ok()) << by_phone.outcome.description;
  EXPECT_EQ(by_phone.user_id, kCarol);
  LookupResult nobody = messenger->FindUser({"nobody_here", "", "", ""});
  EXPECT_EQ(nobody.outcome.reason, PermanentReason::kNotFound) << nobody.outcome.description;
  LookupResult no_phone = messenger->FindUser({"", "+15559999999", "X", ""});
  EXPECT_EQ(no_phone.outcome.reason, PermanentReason::kNotFound) << no_phone.outcome.description;

  AddMemberResult added = messenger->AddChatMember(kGroup, kAlice);
  EXPECT_TRUE(added.outcome.ok()) << added.outcome.description;
  AddMemberResult again = messenger->AddChatMember(kGroup, kAlice);
  EXPECT_TRUE(again.outcome.ok()) << again.outcome.description;
  EXPECT_TRUE(again.already_member);
  AddMemberResult refused = messenger->AddChatMember(kGroup, kBob);
  EXPECT_EQ(refused.outcome.kind, OutcomeKind::kPermanent);
  EXPECT_EQ(refused.outcome.reason, PermanentReason::kPrivacy);
  EXPECT_EQ(CountJournal("add"), 1);

  InviteLinkRequest link_request;
  link_request.chat = kGroup;
  link_request.name = "bob";
  InviteLinkResult link = messenger->CreateInviteLink(link_request);
  ASSERT_TRUE(link.outcome.ok()) << link.outcome.description;
  SendResult sent = messenger->SendInvitation({kBob, "<b>Join</b> us", "Join", link.invite_link});
  EXPECT_TRUE(sent.outcome.ok()) << sent.outcome.description;
  EXPECT_NE(sent.message_id, 0);
  SendResult blocked = messenger->SendInvitation({kCarol, "hi", "", ""});
  EXPECT_EQ(blocked.outcome.reason, PermanentReason::kBlocked) << blocked.outcome.description;

  // Alice's add was seen in the group as a service message: a join for the inbox.
  UpdatesResult updates = messenger->GetUpdates(0, std::chrono::seconds(5));
  ASSERT_TRUE(updates.outcome.ok());
  ASSERT_FALSE(updates.updates.empty());
  EXPECT_EQ(updates.updates[0].user_id, kAlice);
  EXPECT_EQ(updates.updates[0].new_status, "member");
}

// Invariant I10 (docs/invariants.md)
TEST_F(TdlibMessengerTest, AMessageWhoseAnswerIsLostIsAmbiguousNotFailed) {
  Json scenario = Scenario();
  scenario["faults"] = Json::parse(R"([{"method": "sendMessage", "nth": 1, "lose_answer": true}])");
  UseScenario(scenario);
  LogInOrFail();
  account_.timeout = std::chrono::seconds(1);
  auto messenger = MakeTdlibMessenger(td_, account_);
  SendResult sent = messenger->SendInvitation({kAlice, "hi", "", ""});
  EXPECT_EQ(sent.outcome.kind, OutcomeKind::kAmbiguous) << sent.outcome.description;
  EXPECT_EQ(CountJournal("message"), 1);  // it did go
}

// Invariant I4 (docs/invariants.md)
TEST_F(TdlibMessengerTest, PeerFloodLimitsTheAccountAndALongFloodWaitPausesIt) {
  Json scenario = Scenario();
  scenario["faults"] = Json::parse(R"([
    {"method": "addChatMembers", "nth": 1, "error": {"code": 429, "message": "Too Many Requests: retry after 900"}},
    {"method": "addChatMembers", "nth": 2, "error": {"code": 400, "message": "PEER_FLOOD"}}])");
  UseScenario(scenario);
  LogInOrFail();
  auto messenger = MakeTdlibMessenger(td_, account_);
  AddMemberResult flood = messenger->AddChatMember(kGroup, kAlice);
  EXPECT_EQ(flood.outcome.kind, OutcomeKind::kFlood);
  EXPECT_EQ(flood.outcome.retry_after, std::chrono::seconds(900));
  AddMemberResult limited = messenger->AddChatMember(kGroup, kAlice);
  EXPECT_EQ(limited.outcome.kind, OutcomeKind::kAccountFatal);
  EXPECT_EQ(limited.outcome.account_health, core::AccountHealth::kLimited);
  EXPECT_EQ(CountJournal("add"), 0);
}

TEST_F(TdlibMessengerTest, ASessionRevokedMidRunMakesTheAccountUnauthorized) {
  Json scenario = Scenario();
  scenario["faults"] = Json::parse(R"([{"method": "addChatMembers", "nth": 1, "revoke_session": true}])");
  UseScenario(scenario);
  LogInOrFail();
  auto messenger = MakeTdlibMessenger(td_, account_);
  AddMemberResult revoked = messenger->AddChatMember(kGroup, kAlice);
  EXPECT_EQ(revoked.outcome.kind, OutcomeKind::kAccountFatal) << revoked.outcome.description;
  EXPECT_EQ(revoked.outcome.account_health, core::AccountHealth::kUnauthorized);
  SendResult after = messenger->SendInvitation({kAlice, "hi", "", ""});
  EXPECT_EQ(after.outcome.kind, OutcomeKind::kAccountFatal) << after.outcome.description;
  EXPECT_EQ(CountJournal("message"), 0);
}

TEST_F(TdlibMessengerTest, ImportContactsThrottledIsAFloodPauseNotAMissingContact) {
  Json scenario = Scenario();
  scenario["import_retry_all"] = true;
  UseScenario(scenario);
  LogInOrFail();
  auto messenger = MakeTdlibMessenger(td_, account_);
  LookupResult by_phone = messenger->FindUser({"", "+15550000001", "Alice", ""});
  EXPECT_EQ(by_phone.outcome.kind, OutcomeKind::kFlood) << by_phone.outcome.description;
  EXPECT_EQ(by_phone.outcome.retry_after, std::chrono::seconds(3600));
  EXPECT_EQ(CountJournal("import"), 0);
}

}  // namespace
}  // namespace tginvite::telegram::tdlib
