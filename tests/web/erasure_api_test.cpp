// Erasure and account changes through the REST API over real HTTP on 127.0.0.1: DELETE
// /api/v1/contacts/{id} (what was deleted, per kind), PATCH /api/v1/accounts/{name} (token
// rotation, same bot only, the token never echoed) and DELETE /api/v1/accounts/{name} (409 while
// in use, with the campaigns' names).
#include "core/actor.h"
#include "core/campaign_states.h"
#include "storage/import_rows.h"
#include "web/server_fixture.h"

namespace tginvite::web {
namespace {

constexpr std::string_view kBotToken = "123456789:AAFakeTestTokenForApiTests_abcdefghijkl";
constexpr std::string_view kNewToken = "123456789:AANewTestTokenForApiTests_mnopqrstuvwx";
constexpr std::string_view kOtherBot = "555555555:AAOtherBotTokenForApiTests_abcdefghijk";
constexpr std::string_view kRefused = "123456789:AARefusedTokenForApiTests_abcdefghijk";
constexpr std::string_view kOffline = "123456789:AAOfflineTokenForApiTests_abcdefghijk";

class ErasureApiTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    SetPassword();
  }

  void Start(ServerOptions options = {}) {
    StartServer(std::move(options));
    login_ = LogIn();
  }

  httplib::Result Call(const std::string& method, const std::string& path,
                       const std::string& body = "") {
    return Send(method, path, body, CookieHeaders(login_, method == "GET" ? "" : login_.csrf));
  }

  json Expect(const httplib::Result& res, int status) {
    EXPECT_TRUE(res);
    if (!res) return json();
    EXPECT_EQ(res->status, status) << res->body;
    json body = json::parse(res->body, nullptr, false);
    EXPECT_FALSE(body.is_discarded()) << res->body;
    return body;
  }

  // getMe as the test double of Telegram would answer it: the bot id is the token's prefix.
  static ServerOptions WithBotCheck() {
    ServerOptions options;
    options.check_bot = [](const storage::NewAccount& account) -> Result<storage::CheckedBot> {
      const std::string token = account.token.Reveal();
      if (token == kRefused) return Fail(ErrorCode::kInvalidArgument, "Unauthorized");
      if (token == kOffline) return Fail(ErrorCode::kUnavailable, "connection refused");
      return storage::CheckedBot{core::BotIdOfToken(token).value_or(0), "test_bot"};
    };
    return options;
  }

  Login login_;
};

TEST_F(ErasureApiTest, DeletingAContactForgetsThePersonAndSaysWhatWent) {
  storage::ImportOptions import;
  import.campaign = "spring";
  testing::VectorSource source(testing::Rows({testing::Contact(4242, "gone_girl", "Gwen")}));
  ASSERT_TRUE(store_->ImportContacts(source, import));
  auto page = store_->ListContacts({});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->contacts.size(), 1u);
  const std::string id = std::to_string(page->contacts[0].id);
  Start();

  json forgotten = Expect(Call("DELETE", "/api/v1/contacts/" + id), 200);
  EXPECT_EQ(forgotten["deleted"]["contacts"], 1);
  EXPECT_EQ(forgotten["deleted"]["invitations"], 1);
  EXPECT_EQ(forgotten["deleted"]["start_links"], 1);
  EXPECT_EQ(forgotten["deleted"]["invite_links"], 0);
  EXPECT_EQ(forgotten["attempts_detached"], 0);
  EXPECT_EQ(forgotten["suppressed"], (json{"id:4242", "username:gone_girl"}));
  EXPECT_EQ(forgotten["suppressions_added"], 2);
  ExpectError(Call("GET", "/api/v1/contacts/" + id), 404, "not_found");
  ExpectError(Call("DELETE", "/api/v1/contacts/" + id), 404, "not_found");
  ExpectError(Call("DELETE", "/api/v1/contacts/nonsense"), 404, "not_found");
  json list = Expect(Call("GET", "/api/v1/suppressions"), 200);
  EXPECT_EQ(list["suppressions"].size(), 2u);
  // Without the CSRF token nothing is deleted.
  ExpectError(Send("DELETE", "/api/v1/contacts/1", "", CookieHeaders(login_)), 403, "csrf");

  // The dashboard's import refuses her row: her name is not stored again.
  const std::string csv = "telegram_user_id,username,first_name\n4242,,Gwen\n4343,,Otto\n";
  json report = Expect(Send("POST", "/api/v1/imports?campaign=spring", csv,
                            CookieHeaders(login_, login_.csrf), "text/csv"),
                       200);
  EXPECT_EQ(report["rejected"], 1) << report.dump();
  ASSERT_EQ(report["problems"].size(), 1u) << report.dump();
  EXPECT_EQ(report["problems"][0]["line"], 2);
  EXPECT_NE(report["problems"][0]["message"].get<std::string>().find("erased on request"),
            std::string::npos)
      << report.dump();
  Expect(Call("POST", "/api/v1/imports/" + report["id"].get<std::string>() + "/commit"), 200);
  EXPECT_EQ(*store_->CountContacts(), 1) << "only Otto";
}

// Invariant I7 (docs/invariants.md)
TEST_F(ErasureApiTest, ATokenIsRotatedOnlyForTheSameBotAndNeverEchoed) {
  auto added = store_->AddAccount({"main", core::AccountKind::kBot,
                                   core::Secret(std::string(kBotToken)), "http://127.0.0.1:1"});
  ASSERT_TRUE(added) << added.error().message;
  ASSERT_TRUE(
      store_->SetAccountHealth(added->id, core::AccountHealth::kUnauthorized, "401 Unauthorized"));
  Start(WithBotCheck());
  auto patch = [&](std::string_view name, std::string_view token) {
    return Call("PATCH", "/api/v1/accounts/" + std::string(name),
                json{{"bot_token", std::string(token)}}.dump());
  };

  ExpectError(patch("main", kOtherBot), 400, "invalid_argument");
  ExpectError(patch("main", kRefused), 400, "invalid_argument");
  ExpectError(patch("main", kOffline), 503, "unavailable");
  ExpectError(patch("main", "not-a-token"), 400, "invalid_argument");
  ExpectError(patch("nope", kNewToken), 404, "not_found");
  ExpectError(patch("demo", kNewToken), 400, "invalid_argument");  // a rehearsal account
  ExpectError(Call("PATCH", "/api/v1/accounts/main", json{{"name", "x"}}.dump()), 400,
              "invalid_argument");
  auto unchanged = store_->FindAccount("main");
  ASSERT_TRUE(unchanged);
  EXPECT_EQ(unchanged->token.Reveal(), kBotToken) << "a refused token replaced the old one";
  EXPECT_FALSE(unchanged->CanSend());

  json rotated = Expect(patch("main", kNewToken), 200);
  EXPECT_EQ(rotated["account"]["name"], "main");
  EXPECT_EQ(rotated["account"]["health"], "ok");
  EXPECT_EQ(rotated["bot_id"], 123456789);
  EXPECT_EQ(rotated["may_send_again"], true);
  auto found = store_->FindAccount("main");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->token.Reveal(), kNewToken);
  EXPECT_TRUE(found->CanSend());
  EXPECT_EQ(found->bot_id, 123456789);
  for (std::string_view secret : {kBotToken, kNewToken, kOtherBot, kRefused, kOffline}) {
    EXPECT_EQ(bodies_.find(secret.substr(secret.find(':') + 1)), std::string::npos)
        << "a response carried a token";
  }
}

TEST_F(ErasureApiTest, AnAccountInUseIsNotRemoved) {
  ASSERT_TRUE(
      store_->ChangeCampaign("spring", core::CampaignAction::kStart, core::Actor::Cli("test")));
  Start();
  auto refused = Call("DELETE", "/api/v1/accounts/demo");
  ExpectError(refused, 409, "already_exists");
  EXPECT_NE(refused->body.find("spring (running)"), std::string::npos) << refused->body;
  Expect(Call("GET", "/api/v1/accounts"), 200);
  ASSERT_TRUE(store_->FindAccount("demo"));

  ASSERT_TRUE(
      store_->ChangeCampaign("spring", core::CampaignAction::kCancel, core::Actor::Cli("test")));
  json removed = Expect(Call("DELETE", "/api/v1/accounts/demo"), 200);
  EXPECT_EQ(removed["removed"], "demo");
  EXPECT_EQ(removed["kept_for_history"], true);
  EXPECT_EQ(Expect(Call("GET", "/api/v1/accounts"), 200)["accounts"], json::array());
  Expect(Call("GET", "/api/v1/campaigns/spring"), 200);
  ExpectError(Call("DELETE", "/api/v1/accounts/demo"), 404, "not_found");
}

}  // namespace
}  // namespace tginvite::web
