// POST /api/v1/accounts/{name}/login over real HTTP and the fake TDLib (tests/fakes/fake_tdjson,
// found through $TGINVITE_TDJSON as the server finds the real one): the login walked question by
// question, the account's username and health kept, the refusals, and no code or password in any
// answer.
#include <cstdlib>
#include <fstream>

#include "fakes/fake_tdjson_path.h"
#include "web/server_fixture.h"

namespace tginvite::web {
namespace {

constexpr std::string_view kCode = "12345";
constexpr std::string_view kWrongCode = "97531";
constexpr std::string_view kTwoStepPassword = "hunter22-2fa";
constexpr std::string_view kWrongPassword = "not-the-2fa-password";

class UserLoginTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    fake_ = testing::FakeTdJsonPath();
    if (fake_.empty()) GTEST_SKIP() << "the fake TDLib was not built (TGINVITE_FAKE_TDJSON)";
    ::setenv("TGINVITE_TDJSON", fake_.c_str(), 1);
    ::setenv("TGINVITE_FAKE_TDJSON_JOURNAL", dir_.File("journal").c_str(), 1);
    UseScenario(json{{"me", {{"id", 1000}, {"username", "inviter"}, {"first_name", "Ina"}}},
                     {"auth",
                      {{"code", std::string(kCode)},
                       {"password", std::string(kTwoStepPassword)},
                       {"password_hint", "the usual"}}}});
    SetPassword();
    auto added = store_->AddAccount({"staff", core::AccountKind::kUser,
                                     core::Secret("1234567:0123456789abcdef0123456789abcdef:"
                                                  "+15550000000"),
                                     "https://api.telegram.org"});
    ASSERT_TRUE(added) << added.error().message;
    staff_id_ = added->id;
    ASSERT_TRUE(store_->SetAccountHealth(staff_id_, core::AccountHealth::kUnauthorized,
                                         "the session was logged out"));
    ASSERT_TRUE(
        store_->AddAccount({"bot", core::AccountKind::kBot,
                            core::Secret("123456789:AAFakeTestTokenForApiTests_abcdefghijkl"),
                            "https://api.telegram.org"}));

    ServerOptions options;
    options.tdlib_account = [this](const storage::Account& account) {
      telegram::tdlib::TdlibAccount tdlib;
      tdlib.name = account.name;
      std::string why;
      auto credentials = core::ParseUserCredentials(account.token.Reveal(), &why);
      EXPECT_TRUE(credentials) << why;
      if (credentials) tdlib.credentials = *credentials;
      tdlib.database_directory = dir_.File("tdlib/" + account.name);
      tdlib.database_key = core::Secret(std::string(64, 'a'));
      tdlib.timeout = std::chrono::seconds(5);
      return Result<telegram::tdlib::TdlibAccount>(std::move(tdlib));
    };
    StartServer(std::move(options));
    login_ = LogIn();
  }

  void TearDown() override { ::unsetenv("TGINVITE_TDJSON"); }

  void UseScenario(const json& scenario) {
    const std::string path = dir_.File("scenario.json");
    std::ofstream(path) << scenario.dump();
    ::setenv("TGINVITE_FAKE_TDJSON_SCENARIO", path.c_str(), 1);
  }

  // One request of the route; its JSON body, which must come with `status`.
  json Step(const std::string& account, const json& body, int status = 200) {
    auto res = Send("POST", "/api/v1/accounts/" + account + "/login", body.dump(),
                    CookieHeaders(login_, login_.csrf));
    EXPECT_TRUE(res);
    if (!res) return json();
    EXPECT_EQ(res->status, status) << res->body;
    json answer = json::parse(res->body, nullptr, false);
    EXPECT_TRUE(answer.is_object()) << res->body;
    return answer;
  }

  // Repeats {} while the login is still talking to TDLib (each request itself waits for it).
  json Settle(json answer) {
    for (int i = 0; i < 5 && answer.value("state", "") == "waiting"; ++i) {
      answer = Step("staff", json::object());
    }
    return answer;
  }

  std::string fake_;
  Login login_;
  int64_t staff_id_ = 0;
};

TEST_F(UserLoginTest, WalksCodeAndPasswordAndKeepsTheUsernameAndClearsUnauthorized) {
  json started = Settle(Step("staff", json::object()));
  ASSERT_EQ(started["state"], "code") << started;
  EXPECT_NE(started["message"].get<std::string>().find("Telegram sent a login code"),
            std::string::npos)
      << started;

  // Asking again while the login waits for the code shows the same question.
  EXPECT_EQ(Step("staff", json::object())["state"], "code");

  json wrong = Settle(Step("staff", {{"code", std::string(kWrongCode)}}));
  ASSERT_EQ(wrong["state"], "code") << wrong;
  EXPECT_NE(wrong["message"].get<std::string>().find("not accepted"), std::string::npos) << wrong;

  // A password before the code was accepted is not what the login asks.
  ExpectError(Send("POST", "/api/v1/accounts/staff/login",
                   json{{"password", std::string(kWrongPassword)}}.dump(),
                   CookieHeaders(login_, login_.csrf)),
              409, "already_exists");

  json password = Settle(Step("staff", {{"code", std::string(kCode)}}));
  ASSERT_EQ(password["state"], "password") << password;
  EXPECT_EQ(password["hint"], "the usual");

  json again = Settle(Step("staff", {{"password", std::string(kWrongPassword)}}));
  ASSERT_EQ(again["state"], "password") << again;

  json ready = Settle(Step("staff", {{"password", std::string(kTwoStepPassword)}}));
  ASSERT_EQ(ready["state"], "ready") << ready;
  EXPECT_EQ(ready["username"], "inviter");

  auto account = store_->FindAccount("staff");
  ASSERT_TRUE(account) << account.error().message;
  EXPECT_EQ(account->bot_username, "inviter");
  EXPECT_EQ(account->health, core::AccountHealth::kOk);
  EXPECT_EQ(account->health_reason, "");

  // The finished login is gone: a code now answers nothing, and {} starts a new login, which finds
  // the session logged in and asks nothing.
  ExpectError(Send("POST", "/api/v1/accounts/staff/login",
                   json{{"code", std::string(kCode)}}.dump(), CookieHeaders(login_, login_.csrf)),
              409, "already_exists");
  json relogin = Settle(Step("staff", json::object()));
  EXPECT_EQ(relogin["state"], "ready") << relogin;

  for (std::string_view secret : {kCode, kWrongCode, kTwoStepPassword, kWrongPassword}) {
    EXPECT_EQ(bodies_.find(secret), std::string::npos) << "an answer carried " << secret;
  }
}

// Invariant I7 (docs/invariants.md)
TEST_F(UserLoginTest, ThreeWrongCodesFailTheLoginWithoutEchoingThem) {
  ASSERT_EQ(Settle(Step("staff", json::object()))["state"], "code");
  json last;
  for (std::string code : {"11111", "22222", "33333"}) {
    last = Settle(Step("staff", {{"code", code}}));
  }
  ASSERT_EQ(last["state"], "failed") << last;
  EXPECT_NE(last["error"].get<std::string>().find("wrong codes"), std::string::npos) << last;
  for (std::string_view code : {"11111", "22222", "33333"}) {
    EXPECT_EQ(bodies_.find(code), std::string::npos) << "an answer carried " << code;
  }
  auto account = store_->FindAccount("staff");
  ASSERT_TRUE(account);
  EXPECT_EQ(account->health, core::AccountHealth::kUnauthorized);
  // A failed login is forgotten: {} starts again.
  EXPECT_EQ(Settle(Step("staff", json::object()))["state"], "code");
}

TEST_F(UserLoginTest, RefusesOtherAccountsAndBadBodies) {
  json bot = Step("bot", json::object(), 400);
  EXPECT_EQ(bot["error"]["code"], "invalid_argument") << bot;
  EXPECT_NE(bot["error"]["message"].get<std::string>().find("not a user account"),
            std::string::npos);
  EXPECT_EQ(Step("demo", json::object(), 400)["error"]["code"], "invalid_argument");
  EXPECT_EQ(Step("nobody", json::object(), 404)["error"]["code"], "not_found");
  // An answer with no login asking for it.
  EXPECT_EQ(Step("staff", {{"code", "12345"}}, 409)["error"]["code"], "already_exists");
  EXPECT_EQ(Step("staff", {{"code", 12345}}, 400)["error"]["code"], "invalid_argument");
  EXPECT_EQ(Step("staff", {{"code", std::string(300, '1')}}, 400)["error"]["code"],
            "invalid_argument");
  EXPECT_EQ(Step("staff", {{"code", "1"}, {"password", "x"}}, 400)["error"]["code"],
            "invalid_argument");
  EXPECT_EQ(Step("staff", {{"phone", "+1555"}}, 400)["error"]["code"], "invalid_argument");
  // A state change needs the CSRF token; a read-only token is not enough either.
  ExpectError(Send("POST", "/api/v1/accounts/staff/login", "{}", CookieHeaders(login_)), 403,
              "csrf");
  EXPECT_EQ(bodies_.find("AAFakeTestToken"), std::string::npos);
  EXPECT_EQ(bodies_.find("0123456789abcdef0123456789abcdef"), std::string::npos);
}

}  // namespace
}  // namespace tginvite::web
