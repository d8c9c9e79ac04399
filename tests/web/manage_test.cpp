// The routes behind the dashboard's management pages: the template editor's live preview, the
// invitations CSV download (the same bytes as `tginvite export`) and API tokens, which only the
// admin's session may manage.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "fakes/process.h"
#include "fakes/test_keys.h"
#include "web/server_fixture.h"

namespace tginvite::web {
namespace {

class ManageTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    SetPassword();
    StartServer();
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

  json Preview(const json& body) {
    return Expect(Call("POST", "/api/v1/templates/preview", body.dump()), 200);
  }

  // A bearer token of `scope`, made in the store as `tginvite token create` makes one.
  httplib::Headers Bearer(const std::string& name, core::TokenScope scope) {
    core::Secret token = NewToken();
    EXPECT_TRUE(store_->CreateApiToken({name, TokenHash(token.Reveal()), scope}));
    return {{"Authorization", "Bearer " + token.Reveal()}};
  }

  // Runs the tginvite binary on the test's database.
  testing::ProcessResult Cli(std::vector<std::string> args) {
    const char* bin = std::getenv("TGINVITE_BIN");
    EXPECT_NE(bin, nullptr) << "TGINVITE_BIN is not set (run through ctest)";
    if (bin == nullptr) return {};
    args.insert(args.begin(), {bin, "--db", "sqlite:" + dir_.File("t.db")});
    testing::ProcessOptions options;
    options.cwd = dir_.path().string();
    options.env = {{"TGINVITE_SECRET_KEY", std::string(testing::kTestKeyHex)}};
    testing::ProcessResult r = testing::RunProcess(args, options);
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    return r;
  }

  Login login_;
};

TEST_F(ManageTest, ThePreviewRendersTheSampleContactAsTheCliDoes) {
  json preview = Preview({{"template", "Hi <b>{first_name}</b> ({username}), join: {link}"}});
  EXPECT_EQ(preview["ok"], true) << preview;
  EXPECT_EQ(preview["preview"],
            "Hi <b>Anna</b> (anna_schmidt), join: https://t.me/+AbCdEfGhIjKlMnOp");
  EXPECT_EQ(preview["link_button"], false);
  EXPECT_EQ(preview["max_length"], 4096);
  EXPECT_GT(preview["length"].get<int>(), 64) << "every placeholder counted at its limit";

  preview = Preview({{"template", "Welcome to {campaign}"},
                     {"name", "spring-sale"},
                     {"link_mode", "shared"},
                     {"shared_link", "https://t.me/+SharedLink123"}});
  EXPECT_EQ(preview["preview"], "Welcome to spring-sale");
  EXPECT_EQ(preview["link_button"], true) << "no {link}: the link goes on a Join button";

  preview = Preview({{"template", "Join {link}"},
                     {"link_mode", "shared"},
                     {"shared_link", "https://t.me/+SharedLink123"}});
  EXPECT_EQ(preview["preview"], "Join https://t.me/+SharedLink123");
}

TEST_F(ManageTest, ARefusedTemplateIsAnAnswerWithTheMessageCreatingTheCampaignGives) {
  const std::vector<std::string> refused_templates = {"Hi {firstname}", "<b>{link}", "",
                                                      std::string(4100, 'x'), "Hi {first_name"};
  for (const std::string& text : refused_templates) {
    SCOPED_TRACE(text.substr(0, 20));
    json preview = Preview({{"template", text}});
    EXPECT_EQ(preview["ok"], false) << preview;
    ASSERT_TRUE(preview["error"].is_string()) << preview;
    EXPECT_FALSE(preview.contains("preview"));
    // Creating a campaign with it is refused with the same words (after the campaign's name).
    json refused = Expect(Call("POST", "/api/v1/campaigns",
                               json{{"name", "autumn"},
                                    {"account", "demo"},
                                    {"chat", "@autumn_group"},
                                    {"template", text}}
                                   .dump()),
                          400);
    EXPECT_EQ(refused["error"]["message"],
              "campaign autumn: " + preview["error"].get<std::string>());
  }
  EXPECT_EQ(Preview({{"template", "Hi {firstname}"}})["error"],
            "template: unknown placeholder {firstname} at 1:4; known: first_name, last_name, "
            "username, link, campaign");
  EXPECT_FALSE(store_->FindCampaign("autumn")) << "nothing was created";
}

TEST_F(ManageTest, APreviewNeedsATemplateAKnownLinkModeAndAuthentication) {
  ExpectError(Call("POST", "/api/v1/templates/preview", "{}"), 400, "invalid_argument");
  ExpectError(Call("POST", "/api/v1/templates/preview", json{{"template", 5}}.dump()), 400,
              "invalid_argument");
  ExpectError(Call("POST", "/api/v1/templates/preview",
                   json{{"template", "x"}, {"link_mode", "carrier-pigeon"}}.dump()),
              400, "invalid_argument");
  ExpectError(Call("POST", "/api/v1/templates/preview", "not json"), 400, "invalid_argument");
  ExpectError(Post("/api/v1/templates/preview", json{{"template", "x"}}.dump()), 401,
              "unauthenticated");
  ExpectError(
      Post("/api/v1/templates/preview", json{{"template", "x"}}.dump(), CookieHeaders(login_)), 403,
      "csrf");
  ExpectError(Post("/api/v1/templates/preview", json{{"template", "x"}}.dump(),
                   Bearer("reader", core::TokenScope::kRead)),
              403, "forbidden");
}

TEST_F(ManageTest, CampaignsTakeADeliveryMethodAndRefuseAnUnknownOne) {
  ExpectError(Call("POST", "/api/v1/campaigns",
                   json{{"name", "autumn"},
                        {"account", "demo"},
                        {"chat", "@autumn_group"},
                        {"template", "{link}"},
                        {"method", "telepathy"}}
                       .dump()),
              400, "invalid_argument");
  json created = Expect(Call("POST", "/api/v1/campaigns",
                             json{{"name", "autumn"},
                                  {"account", "demo"},
                                  {"chat", "@autumn_group"},
                                  {"template", "{link}"},
                                  {"method", "message"}}
                                 .dump()),
                        201);
  EXPECT_EQ(created["campaign"]["method"], "message");
}

TEST_F(ManageTest, TheExportDownloadIsTheClisExportByteForByte) {
  const std::string csv_path = dir_.File("contacts.csv");
  std::ofstream(csv_path, std::ios::binary)
      << "telegram_user_id,username,first_name,last_name,phone,consent\n"
         "700000001,anna_s,Anna,\"Schmidt, Jr.\",,yes\n"
         "700000002,,\"=HYPERLINK(\"\"http://evil.example\"\")\",+1,,yes\n"
         "700000003,bobby_b,Bob \xc3\xa9,@home,,yes\n";
  Cli({"import", csv_path, "--campaign", "spring"});

  httplib::Result res = Get("/api/v1/campaigns/spring/export.csv", CookieHeaders(login_));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(res->get_header_value("Content-Disposition"),
            "attachment; filename=\"spring-invitations.csv\"");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
  EXPECT_NE(res->body.find("\"'=HYPERLINK(\"\"http://evil.example\"\")\",'+1,"), std::string::npos)
      << res->body;
  EXPECT_NE(res->body.find("\"Schmidt, Jr.\""), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("'@home"), std::string::npos) << res->body;

  testing::ProcessResult cli = Cli({"export", "spring", "--out", "-"});
  EXPECT_EQ(res->body, cli.out);
  EXPECT_EQ(std::count(res->body.begin(), res->body.end(), '\n'), 4) << res->body;
}

TEST_F(ManageTest, TheExportIs404ForAnUnknownCampaignAndNeedsAuthentication) {
  ExpectError(Get("/api/v1/campaigns/nope/export.csv", CookieHeaders(login_)), 404, "not_found");
  ExpectError(Get("/api/v1/campaigns/spring/export.csv"), 401, "unauthenticated");
  ExpectError(
      Get("/api/v1/campaigns/spring/export.csv", Bearer("scraper", core::TokenScope::kMetrics)),
      403, "forbidden");
  httplib::Result res =
      Get("/api/v1/campaigns/spring/export.csv", Bearer("reader", core::TokenScope::kRead));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

// Invariant I7 (docs/invariants.md)
TEST_F(ManageTest, TheSessionCreatesListsAndRevokesTokensAndTheSecretIsShownOnce) {
  json created = Expect(
      Call("POST", "/api/v1/tokens", json{{"name", "deploy"}, {"scope", "read"}}.dump()), 201);
  EXPECT_EQ(created["name"], "deploy");
  EXPECT_EQ(created["scope"], "read");
  const std::string secret = created.value("token", "");
  ASSERT_EQ(secret.size(), 64u) << created;

  // The new token works, within its scope.
  httplib::Headers bearer{{"Authorization", "Bearer " + secret}};
  httplib::Result res = Get("/api/v1/campaigns", bearer);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  ExpectError(Post("/api/v1/campaigns/spring/start", "", bearer), 403, "forbidden");

  const size_t before_list = bodies_.size();
  json list = Expect(Call("GET", "/api/v1/tokens"), 200);
  ASSERT_EQ(list["tokens"].size(), 1u) << list;
  EXPECT_EQ(list["tokens"][0]["name"], "deploy");
  EXPECT_EQ(list["tokens"][0]["scope"], "read");
  EXPECT_TRUE(list["tokens"][0]["revoked_at"].is_null());
  EXPECT_GT(list["tokens"][0]["created_at"].get<int64_t>(), 0);
  EXPECT_FALSE(list["tokens"][0].contains("token"));

  ExpectError(Call("POST", "/api/v1/tokens", json{{"name", "deploy"}}.dump()), 409,
              "already_exists");
  Expect(Call("DELETE", "/api/v1/tokens/deploy"), 200);
  ExpectError(Get("/api/v1/campaigns", bearer), 401, "unauthenticated");
  list = Expect(Call("GET", "/api/v1/tokens"), 200);
  ASSERT_EQ(list["tokens"].size(), 1u);
  EXPECT_TRUE(list["tokens"][0]["revoked_at"].is_number()) << list;
  ExpectError(Call("DELETE", "/api/v1/tokens/deploy"), 404, "not_found");
  ExpectError(Call("DELETE", "/api/v1/tokens/never"), 404, "not_found");

  // A write token by default; the name can be used again once revoked.
  created = Expect(Call("POST", "/api/v1/tokens", json{{"name", "deploy"}}.dump()), 201);
  EXPECT_EQ(created["scope"], "write");
  EXPECT_NE(created["token"], secret);
  EXPECT_EQ(bodies_.find(secret, before_list), std::string::npos)
      << "the secret appeared after the answer that created it";
}

TEST_F(ManageTest, BadTokenRequestsAre400AndCreateNothing) {
  ExpectError(Call("POST", "/api/v1/tokens", "{}"), 400, "invalid_argument");
  ExpectError(Call("POST", "/api/v1/tokens", json{{"name", "x"}, {"scope", "admin"}}.dump()), 400,
              "invalid_argument");
  ExpectError(Call("POST", "/api/v1/tokens", json{{"name", "bad name!"}}.dump()), 400,
              "invalid_argument");
  ExpectError(Call("POST", "/api/v1/tokens", json{{"name", "x"}, {"expires_in", "forever"}}.dump()),
              400, "invalid_argument");
  ExpectError(Call("POST", "/api/v1/tokens", "[1]"), 400, "invalid_argument");
  auto tokens = store_->ListApiTokens();
  ASSERT_TRUE(tokens);
  EXPECT_TRUE(tokens->empty());
  json created = Expect(
      Call("POST", "/api/v1/tokens", json{{"name", "short"}, {"expires_in", "12h"}}.dump()), 201);
  EXPECT_TRUE(created["expires_at"].is_number()) << created;
}

// A token must never mint, list or revoke tokens, whatever its scope. Invariant I7
// (docs/invariants.md)
TEST_F(ManageTest, NoBearerTokenMayManageTokens) {
  for (core::TokenScope scope :
       {core::TokenScope::kWrite, core::TokenScope::kRead, core::TokenScope::kMetrics}) {
    const std::string name = "t" + std::string(core::ToString(scope));
    httplib::Headers bearer = Bearer(name, scope);
    SCOPED_TRACE(name);
    httplib::Result res = Get("/api/v1/tokens", bearer);
    ExpectError(res, 403, "forbidden");
    EXPECT_NE(res->body.find("admin session"), std::string::npos) << res->body;
    ExpectError(Post("/api/v1/tokens", json{{"name", "minted"}}.dump(), bearer), 403, "forbidden");
    ExpectError(Send("DELETE", "/api/v1/tokens/" + name, "", bearer), 403, "forbidden");
  }
  auto tokens = store_->ListApiTokens();
  ASSERT_TRUE(tokens);
  EXPECT_EQ(tokens->size(), 3u) << "none minted";
  for (const storage::ApiToken& t : *tokens) EXPECT_FALSE(t.revoked_at) << t.name;
  // Without a session or with a forged token: 401; a session without its CSRF token: 403.
  ExpectError(Get("/api/v1/tokens"), 401, "unauthenticated");
  ExpectError(Get("/api/v1/tokens", {{"Authorization", "Bearer forged"}}), 401, "unauthenticated");
  ExpectError(Post("/api/v1/tokens", json{{"name", "minted"}}.dump(), CookieHeaders(login_)), 403,
              "csrf");
  ExpectError(Send("DELETE", "/api/v1/tokens/twrite", "", CookieHeaders(login_)), 403, "csrf");
}

}  // namespace
}  // namespace tginvite::web
