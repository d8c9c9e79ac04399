// The REST API route by route over real HTTP on 127.0.0.1, logged in with a session cookie and
// its CSRF token: what each route returns, and the 4xx (with a message) for bad input.
#include <fstream>
#include <set>
#include <sstream>

#include "core/campaign_states.h"
#include "web/server_fixture.h"

namespace tginvite::web {
namespace {

constexpr std::string_view kBotToken = "123456789:AAFakeTestTokenForApiTests_abcdefghijkl";

class ApiTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    SetPassword();
  }

  void Start(ServerOptions options = {}) {
    StartServer(std::move(options));
    login_ = LogIn();
  }

  // A logged-in request; state-changing ones carry the CSRF token.
  httplib::Result Call(const std::string& method, const std::string& path,
                       const std::string& body = "",
                       const std::string& content_type = "application/json") {
    return Send(method, path, body, CookieHeaders(login_, method == "GET" ? "" : login_.csrf),
                content_type);
  }

  // The JSON body of a call that must answer `status`.
  json Expect(const httplib::Result& res, int status) {
    EXPECT_TRUE(res);
    if (!res) return json();
    EXPECT_EQ(res->status, status) << res->body;
    json body = json::parse(res->body, nullptr, false);
    EXPECT_FALSE(body.is_discarded()) << res->body;
    return body;
  }

  Login login_;
};

TEST_F(ApiTest, CampaignsAreCreatedShownAndDrivenThroughTheirLifecycle) {
  Start();
  json created = Expect(Call("POST", "/api/v1/campaigns",
                             json{{"name", "autumn"},
                                  {"account", "demo"},
                                  {"chat", "@autumn_group"},
                                  {"template", "Hi {first_name}! {link}"},
                                  {"link_mode", "join-request"}}
                                 .dump()),
                        201);
  EXPECT_EQ(created["campaign"]["name"], "autumn");
  EXPECT_EQ(created["campaign"]["state"], "draft");
  EXPECT_EQ(created["campaign"]["actions"], json::array({"start", "cancel", "edit"}));
  EXPECT_TRUE(created["campaign"]["starts_at"].is_null());
  EXPECT_TRUE(created["campaign"]["ends_at"].is_null());
  EXPECT_EQ(created["campaign"]["link_mode"], "join-request");
  EXPECT_EQ(created["campaign"]["rehearsal"], true);

  ExpectError(
      Call(
          "POST", "/api/v1/campaigns",
          json{{"name", "autumn"}, {"account", "demo"}, {"chat", "@xgroup"}, {"template", "{link}"}}
              .dump()),
      409, "already_exists");
  ExpectError(
      Call(
          "POST", "/api/v1/campaigns",
          json{{"name", "bad"}, {"account", "demo"}, {"chat", "@xgroup"}, {"template", "<b>{link}"}}
              .dump()),
      400, "invalid_argument");
  ExpectError(Call("POST", "/api/v1/campaigns", json{{"name", "bad"}}.dump()), 400,
              "invalid_argument");
  ExpectError(Call("POST", "/api/v1/campaigns",
                   json{{"name", "bad"},
                        {"account", "demo"},
                        {"chat", "@xgroup"},
                        {"template", "{link}"},
                        {"link_mode", "carrier-pigeon"}}
                       .dump()),
              400, "invalid_argument");

  json list = Expect(Call("GET", "/api/v1/campaigns"), 200);
  ASSERT_EQ(list["campaigns"].size(), 2u);
  json shown = Expect(Call("GET", "/api/v1/campaigns/autumn"), 200);
  EXPECT_EQ(shown["template"], "Hi {first_name}! {link}");
  EXPECT_EQ(shown["total"], 0);
  EXPECT_EQ(shown["counts"]["pending"], 0);
  EXPECT_TRUE(shown["eta_seconds"].is_null());
  EXPECT_EQ(shown["account_health"], "ok");
  EXPECT_EQ(shown["funnel"]["sent"], 0);

  EXPECT_EQ(Expect(Call("POST", "/api/v1/campaigns/autumn/start"), 200)["campaign"]["state"],
            "running");
  ExpectError(Call("POST", "/api/v1/campaigns/autumn/start"), 400, "invalid_argument");
  json paused = Expect(Call("POST", "/api/v1/campaigns/autumn/pause"), 200)["campaign"];
  EXPECT_EQ(paused["state"], "paused");
  EXPECT_EQ(paused["actions"], json::array({"resume", "cancel", "edit"}));
  EXPECT_EQ(Expect(Call("GET", "/api/v1/campaigns/autumn"), 200)["actions"],
            json::array({"resume", "cancel", "edit"}));
  EXPECT_EQ(Expect(Call("POST", "/api/v1/campaigns/autumn/resume"), 200)["campaign"]["state"],
            "running");
  json cancelled = Expect(Call("POST", "/api/v1/campaigns/autumn/cancel"), 200)["campaign"];
  EXPECT_EQ(cancelled["state"], "cancelled");
  EXPECT_EQ(cancelled["actions"], json::array({"delete"}));
  ExpectError(Call("POST", "/api/v1/campaigns/autumn/explode"), 404, "not_found");
  ExpectError(Call("GET", "/api/v1/campaigns/nope"), 404, "not_found");
}

// Invariant I8 (docs/invariants.md)
// PATCH /api/v1/campaigns/{name}: the contract the dashboard is built against — any of the six
// fields, the campaign JSON back (as GET gives it), 400 naming the field, 409 once the chat may
// no longer change, 404 for an unknown campaign; recorded with the caller as actor.
TEST_F(ApiTest, CampaignsAreEditedWithPatch) {
  Start();
  json edited = Expect(Call("PATCH", "/api/v1/campaigns/spring",
                            json{{"template", "Welcome {first_name}! {link}"},
                                 {"chat", "@spring_group"},
                                 {"link_mode", "shared"},
                                 {"shared_link", "https://t.me/+SharedLink"},
                                 {"starts_at", "2026-12-24T09:00:00+01:00"},
                                 {"ends_at", "2026-12-31T23:00:00Z"}}
                                .dump()),
                       200);
  EXPECT_EQ(edited["name"], "spring");
  EXPECT_EQ(edited["template"], "Welcome {first_name}! {link}");
  EXPECT_EQ(edited["chat"], "@spring_group");
  EXPECT_EQ(edited["link_mode"], "shared");
  EXPECT_EQ(edited["shared_link"], "https://t.me/+SharedLink");
  EXPECT_EQ(edited["starts_at"], "2026-12-24T08:00:00Z");
  EXPECT_EQ(edited["ends_at"], "2026-12-31T23:00:00Z");
  EXPECT_TRUE(edited.contains("counts")) << "the same shape as GET";
  EXPECT_EQ(edited, Expect(Call("GET", "/api/v1/campaigns/spring"), 200));

  json cleared = Expect(
      Call("PATCH", "/api/v1/campaigns/spring", json{{"starts_at", nullptr}}.dump()), 200);
  EXPECT_TRUE(cleared["starts_at"].is_null());
  EXPECT_EQ(cleared["ends_at"], "2026-12-31T23:00:00Z");

  struct Bad {
    json body;
    std::string field;
  };
  for (const Bad& bad : std::vector<Bad>{
           {json{{"template", "Hi {nope}"}}, "template"},
           {json{{"template", 42}}, "template"},
           {json{{"link_mode", "carrier-pigeon"}}, "link_mode"},
           {json{{"starts_at", "2026-12-24T09:00:00"}}, "starts_at"},
           {json{{"ends_at", "2026-12-01T00:00:00Z"}, {"starts_at", "2026-12-02T00:00:00Z"}},
            "ends_at"},
           {json{{"colour", "red"}}, "colour"},
           {json::object(), "nothing to change"},
       }) {
    auto res = Call("PATCH", "/api/v1/campaigns/spring", bad.body.dump());
    ExpectError(res, 400, "invalid_argument");
    ASSERT_TRUE(res);
    EXPECT_NE(res->body.find(bad.field), std::string::npos) << bad.body.dump() << " " << res->body;
  }
  EXPECT_EQ(Expect(Call("GET", "/api/v1/campaigns/spring"), 200)["template"],
            "Welcome {first_name}! {link}")
      << "a refused edit changed the campaign";
  ExpectError(Call("PATCH", "/api/v1/campaigns/nope", json{{"template", "{link}"}}.dump()), 404,
              "not_found");

  Expect(Call("POST", "/api/v1/campaigns/spring/start"), 200);
  ExpectError(Call("PATCH", "/api/v1/campaigns/spring", json{{"chat", "@other"}}.dump()), 409,
              "failed_precondition");
  Expect(Call("PATCH", "/api/v1/campaigns/spring", json{{"template", "Hi {link}"}}.dump()), 200);

  json trail = Expect(Call("GET", "/api/v1/campaigns/spring/events"), 200);
  ASSERT_FALSE(trail["events"].empty());
  EXPECT_EQ(trail["events"][0]["action"], "edit");
  EXPECT_EQ(trail["events"][0]["actor"], "dashboard:admin");
  EXPECT_EQ(trail["events"][0]["detail"], "template");
}

// DELETE /api/v1/campaigns/{name}: a write; 409 until finished or cancelled; the counts removed.
TEST_F(ApiTest, CampaignsAreDeletedOnceCancelledOrFinished) {
  Start();
  core::Secret reader = NewToken();
  ASSERT_TRUE(
      store_->CreateApiToken({"grafana", TokenHash(reader.Reveal()), core::TokenScope::kRead}));
  ExpectError(Send("DELETE", "/api/v1/campaigns/spring", "",
                   {{"Authorization", "Bearer " + reader.Reveal()}}),
              403);
  ExpectError(Send("PATCH", "/api/v1/campaigns/spring", json{{"template", "{link}"}}.dump(),
                   {{"Authorization", "Bearer " + reader.Reveal()}}),
              403);
  // A session needs its CSRF token.
  ExpectError(Send("DELETE", "/api/v1/campaigns/spring", "", CookieHeaders(login_, "")), 403);

  auto refused = Call("DELETE", "/api/v1/campaigns/spring");
  ExpectError(refused, 409, "failed_precondition");
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->body.find("cancel it first"), std::string::npos) << refused->body;
  Expect(Call("POST", "/api/v1/campaigns/spring/cancel"), 200);
  ExpectError(Call("DELETE", "/api/v1/campaigns/spring?purge=maybe"), 400, "invalid_argument");
  json deleted = Expect(Call("DELETE", "/api/v1/campaigns/spring?purge=true"), 200);
  EXPECT_EQ(deleted["deleted"], "spring");
  EXPECT_EQ(deleted["invitations"], 0);
  EXPECT_EQ(deleted["attempts"], 0);
  ExpectError(Call("GET", "/api/v1/campaigns/spring"), 404, "not_found");
  ExpectError(Call("DELETE", "/api/v1/campaigns/spring"), 404, "not_found");
}

// Who changed a campaign, as the API tells it: the API token's name or the dashboard's session,
// newest first, in pages; readable with a read-scoped token.
TEST_F(ApiTest, CampaignEventsNameTheTokenOrTheDashboard) {
  Start();
  core::Secret deploy = NewToken();
  ASSERT_TRUE(store_->CreateApiToken({"deploy", TokenHash(deploy.Reveal())}));
  core::Secret reader = NewToken();
  ASSERT_TRUE(
      store_->CreateApiToken({"grafana", TokenHash(reader.Reveal()), core::TokenScope::kRead}));
  Expect(Send("POST", "/api/v1/campaigns/spring/start", "",
              {{"Authorization", "Bearer " + deploy.Reveal()}}),
         200);
  Expect(Call("POST", "/api/v1/campaigns/spring/pause"), 200);

  json trail = Expect(Send("GET", "/api/v1/campaigns/spring/events", "",
                           {{"Authorization", "Bearer " + reader.Reveal()}}),
                      200);
  ASSERT_EQ(trail["events"].size(), 2u) << trail.dump();
  const json& paused = trail["events"][0];
  EXPECT_EQ(paused["actor"], "dashboard:admin");
  EXPECT_EQ(paused["action"], "pause");
  EXPECT_EQ(paused["from"], "running");
  EXPECT_EQ(paused["to"], "paused");
  EXPECT_EQ(paused["detail"], "");
  EXPECT_GT(paused["at"].get<int64_t>(), 0);
  EXPECT_EQ(trail["events"][1]["actor"], "token:deploy");
  EXPECT_EQ(trail["events"][1]["from"], "draft");
  EXPECT_TRUE(trail["next_before"].is_null());

  json first = Expect(Call("GET", "/api/v1/campaigns/spring/events?limit=1"), 200);
  ASSERT_EQ(first["events"].size(), 1u);
  EXPECT_EQ(first["next_before"], first["events"][0]["id"]);
  json second = Expect(Call("GET", "/api/v1/campaigns/spring/events?limit=1&before=" +
                                       std::to_string(first["next_before"].get<int64_t>())),
                       200);
  ASSERT_EQ(second["events"].size(), 1u);
  EXPECT_EQ(second["events"][0]["actor"], "token:deploy");
  EXPECT_TRUE(second["next_before"].is_null());

  Expect(Call("GET", "/api/v1/campaigns/spring/events?limit=0"), 400);
  Expect(Call("GET", "/api/v1/campaigns/spring/events?limit=201"), 400);
  Expect(Call("GET", "/api/v1/campaigns/ghost/events"), 404);
  EXPECT_EQ(bodies_.find(deploy.Reveal()), std::string::npos);
  EXPECT_EQ(bodies_.find(reader.Reveal()), std::string::npos);
}

// Invariant I10 (docs/invariants.md)
TEST_F(ApiTest, RetryAndResendNeedAnExplicitConfirmation) {
  Start();
  for (std::string action : {"retry-failed", "resend-unknown"}) {
    SCOPED_TRACE(action);
    const std::string path = "/api/v1/campaigns/spring/" + action;
    auto refused = Call("POST", path);
    ExpectError(refused, 400, "invalid_argument");
    EXPECT_NE(refused->body.find("confirm"), std::string::npos) << refused->body;
    ExpectError(Call("POST", path, json{{"confirm", "yes"}}.dump()), 400, "invalid_argument");
    EXPECT_EQ(Expect(Call("POST", path, json{{"confirm", true}}.dump()), 200)["count"], 0);
    ExpectError(Call("POST", "/api/v1/campaigns/nope/" + action, json{{"confirm", true}}.dump()),
                404, "not_found");
  }
}

TEST_F(ApiTest, CampaignPageDataHasASeriesErrorsAndAttempts) {
  Start();
  json series = Expect(Call("GET", "/api/v1/campaigns/spring/series?minutes=30"), 200);
  EXPECT_EQ(series["bucket_seconds"], 60);
  ASSERT_EQ(series["points"].size(), 30u);
  EXPECT_LT(series["points"][0]["t"], series["points"][29]["t"]);
  EXPECT_EQ(series["points"][29]["sent"], 0);
  ExpectError(Call("GET", "/api/v1/campaigns/spring/series?minutes=0"), 400, "invalid_argument");
  ExpectError(Call("GET", "/api/v1/campaigns/spring/series?minutes=lots"), 400, "invalid_argument");
  EXPECT_EQ(Expect(Call("GET", "/api/v1/campaigns/spring/errors"), 200)["errors"], json::array());
  EXPECT_EQ(Expect(Call("GET", "/api/v1/campaigns/spring/attempts?limit=5"), 200)["attempts"],
            json::array());
  ExpectError(Call("GET", "/api/v1/campaigns/spring/attempts?limit=100000"), 400,
              "invalid_argument");
  ExpectError(Call("GET", "/api/v1/campaigns/nope/series"), 404, "not_found");
}

// Invariant I8 (docs/invariants.md)
TEST_F(ApiTest, AnImportIsValidatedFirstAndWrittenOnlyOnCommit) {
  Start();
  const std::string csv =
      "telegram_user_id,username,first_name\n"
      "1001,alice_a,Alice\n"
      "not-a-number,bob_b,Bob\n"
      "1003,carol_c,\"<img src=x onerror=alert(1)>\"\n"
      "1004,x,Dan\n";
  json report = Expect(Call("POST", "/api/v1/imports?campaign=spring", csv, "text/csv"), 200);
  EXPECT_EQ(report["rows"], 4);
  EXPECT_EQ(report["valid"], 2);
  EXPECT_EQ(report["rejected"], 2);
  ASSERT_EQ(report["problems"].size(), 2u);
  EXPECT_EQ(report["problems"][0]["line"], 3);
  EXPECT_NE(report["problems"][0]["message"].get<std::string>().find("telegram_user_id"),
            std::string::npos)
      << report.dump();
  EXPECT_EQ(report["problems"][1]["line"], 5);
  EXPECT_EQ(report["committed"], false);
  EXPECT_EQ(report["totals"]["enqueued"], 2);
  ASSERT_TRUE(report["id"].is_string());
  EXPECT_EQ(*store_->CountContacts(), 0) << "the dry run wrote nothing";

  const std::string commit = "/api/v1/imports/" + report["id"].get<std::string>() + "/commit";
  json done = Expect(Call("POST", commit), 200);
  EXPECT_EQ(done["committed"], true);
  EXPECT_EQ(done["totals"]["imported"], 2);
  EXPECT_EQ(done["rejected"], 2);
  EXPECT_EQ(*store_->CountContacts(), 2);
  ExpectError(Call("POST", commit), 404, "not_found");

  ExpectError(Call("POST", "/api/v1/imports", "", "text/csv"), 400, "invalid_argument");
  ExpectError(Call("POST", "/api/v1/imports", "first_name\nAnn\n", "text/csv"), 400,
              "invalid_argument");
  ExpectError(Call("POST", "/api/v1/imports?campaign=nope", csv, "text/csv"), 404, "not_found");
}

TEST_F(ApiTest, ContactsPageByKeysetFilterAndSearch) {
  Start();
  std::string csv = "telegram_user_id,username,first_name,last_name\n";
  for (int i = 1; i <= 7; ++i) {
    csv += fmt::format("{},user_{:03},Name{},Family{}\n", 2000 + i, i, i, i);
  }
  json report = Expect(Call("POST", "/api/v1/imports?campaign=spring", csv, "text/csv"), 200);
  Expect(Call("POST", "/api/v1/imports/" + report["id"].get<std::string>() + "/commit"), 200);
  Expect(Call("POST", "/api/v1/suppressions", json{{"user", "2003"}}.dump()), 201);

  std::vector<int64_t> seen;
  std::string next = "/api/v1/contacts?campaign=spring&limit=3";
  for (int pages = 0; pages < 10; ++pages) {
    json page = Expect(Call("GET", next), 200);
    for (const json& c : page["contacts"]) seen.push_back(c["telegram_user_id"].get<int64_t>());
    if (page["next_after"].is_null()) break;
    next = "/api/v1/contacts?campaign=spring&limit=3&after=" + page["next_after"].dump();
  }
  EXPECT_EQ(seen, (std::vector<int64_t>{2001, 2002, 2003, 2004, 2005, 2006, 2007}));

  json skipped = Expect(Call("GET", "/api/v1/contacts?campaign=spring&state=skipped"), 200);
  ASSERT_EQ(skipped["contacts"].size(), 1u);
  EXPECT_EQ(skipped["contacts"][0]["telegram_user_id"], 2003);
  EXPECT_EQ(skipped["contacts"][0]["state"], "skipped");
  EXPECT_EQ(skipped["contacts"][0]["last_error"], "suppressed");

  json found = Expect(Call("GET", "/api/v1/contacts?q=%40user_00"), 200);
  EXPECT_EQ(found["contacts"].size(), 7u);
  found = Expect(Call("GET", "/api/v1/contacts?q=family5"), 200);
  ASSERT_EQ(found["contacts"].size(), 1u);
  EXPECT_EQ(found["contacts"][0]["label"], "Name5 Family5");
  EXPECT_TRUE(found["contacts"][0]["state"].is_null());
  found = Expect(Call("GET", "/api/v1/contacts?q=2006&campaign=spring"), 200);
  ASSERT_EQ(found["contacts"].size(), 1u);
  const int64_t id = found["contacts"][0]["id"].get<int64_t>();
  json attempts = Expect(Call("GET", fmt::format("/api/v1/contacts/{}/attempts", id)), 200);
  EXPECT_EQ(attempts["attempts"], json::array());

  ExpectError(Call("GET", "/api/v1/contacts?state=sent"), 400, "invalid_argument");
  ExpectError(Call("GET", "/api/v1/contacts?campaign=spring&state=happy"), 400, "invalid_argument");
  ExpectError(Call("GET", "/api/v1/contacts?limit=501"), 400, "invalid_argument");
  ExpectError(Call("GET", "/api/v1/contacts?after=-1"), 400, "invalid_argument");
  ExpectError(Call("GET", "/api/v1/contacts/999999/attempts"), 404, "not_found");
  ExpectError(Call("GET", "/api/v1/contacts/abc/attempts"), 404, "not_found");
}

// Invariant I7 (docs/invariants.md)
TEST_F(ApiTest, AccountsAreCheckedWithTelegramAndTheTokenIsNeverReturned) {
  ServerOptions options;
  options.check_account = [](const storage::NewAccount& account) -> Result<std::string> {
    if (account.name == "refused") return Fail(ErrorCode::kInvalidArgument, "Unauthorized");
    if (account.name == "offline") return Fail(ErrorCode::kUnavailable, "connection refused");
    return std::string("@test_bot");
  };
  Start(std::move(options));
  json added = Expect(Call("POST", "/api/v1/accounts",
                           json{{"name", "main"}, {"kind", "bot"}, {"token", kBotToken}}.dump()),
                      201);
  EXPECT_EQ(added["account"]["name"], "main");
  EXPECT_EQ(added["account"]["kind"], "bot");
  EXPECT_EQ(added["account"]["bot_username"], "test_bot") << "as start links write it";
  EXPECT_FALSE(added["account"].contains("token"));

  auto refused =
      Call("POST", "/api/v1/accounts", json{{"name", "refused"}, {"token", kBotToken}}.dump());
  ExpectError(refused, 400, "invalid_argument");
  EXPECT_NE(refused->body.find("refused the token"), std::string::npos) << refused->body;
  json offline = Expect(
      Call("POST", "/api/v1/accounts", json{{"name", "offline"}, {"token", kBotToken}}.dump()),
      201);
  ASSERT_EQ(offline["warnings"].size(), 1u);

  Expect(Call("POST", "/api/v1/accounts", json{{"name", "practice"}}.dump()), 201);
  ExpectError(Call("POST", "/api/v1/accounts", json{{"name", "main"}}.dump()), 409,
              "already_exists");
  ExpectError(Call("POST", "/api/v1/accounts", json{{"name", "x"}, {"kind", "bot"}}.dump()), 400,
              "invalid_argument");
  ExpectError(Call("POST", "/api/v1/accounts", json{{"name", "x"}, {"kind", "robot"}}.dump()), 400,
              "invalid_argument");
  ExpectError(Call("POST", "/api/v1/accounts", json{{"name", 5}}.dump()), 400, "invalid_argument");

  json accounts = Expect(Call("GET", "/api/v1/accounts"), 200);
  std::set<std::string> names;
  for (const json& a : accounts["accounts"]) {
    names.insert(a["name"].get<std::string>());
    EXPECT_FALSE(a.contains("token"));
  }
  EXPECT_EQ(names, (std::set<std::string>{"demo", "main", "offline", "practice"}));
  for (const json& a : accounts["accounts"]) {
    if (a["name"] == "main") {
      EXPECT_EQ(a["bot_username"], "test_bot") << "getMe's answer is kept";
    } else if (a["name"] == "offline") {
      EXPECT_TRUE(a["bot_username"].is_null());
    }
  }
  EXPECT_EQ(bodies_.find(kBotToken), std::string::npos) << "a response carried the bot token";
  EXPECT_EQ(bodies_.find("AAFakeTestToken"), std::string::npos);
}

// A server without the secret key cannot store a token: adding a bot is refused with where the
// key was looked for, and never with a crypto error or the token.
TEST_F(ApiTest, WithoutTheSecretKeyABotAccountIsRefusedSayingWhichKeyIsMissing) {
  storage::StoreOptions no_key;
  no_key.mode = storage::OpenMode::kExisting;
  no_key.secrets.missing_key_hint = "TGINVITE_SECRET_KEY is not set and there is no key file";
  auto reopened = storage::OpenStore("sqlite:" + dir_.File("t.db"), no_key);
  ASSERT_TRUE(reopened) << reopened.error().message;
  store_ = std::move(*reopened);
  ServerOptions options;
  options.check_account = [](const storage::NewAccount&) -> Result<std::string> {
    return std::string("@test_bot");
  };
  Start(std::move(options));
  auto refused =
      Call("POST", "/api/v1/accounts", json{{"name", "main"}, {"token", kBotToken}}.dump());
  ExpectError(refused, 400, "invalid_argument");
  EXPECT_NE(refused->body.find("account main: no secret key is loaded, so its token cannot be "
                               "stored (sealed): TGINVITE_SECRET_KEY is not set and there is no "
                               "key file"),
            std::string::npos)
      << refused->body;
  Expect(Call("POST", "/api/v1/accounts", json{{"name", "practice"}}.dump()), 201);
  EXPECT_EQ(bodies_.find("AAFakeTestToken"), std::string::npos);
}

// Invariant I5 (docs/invariants.md)
TEST_F(ApiTest, SettingsAreTypedAndABadValueIs400WithTheMessage) {
  Start();
  json settings = Expect(Call("GET", "/api/v1/settings"), 200);
  EXPECT_TRUE(settings["scope"].is_null());
  ASSERT_GT(settings["settings"].size(), 10u);
  json first = settings["settings"][0];
  for (const char* field : {"key", "value", "default", "source", "range", "description"}) {
    EXPECT_TRUE(first.contains(field)) << field;
  }

  auto bad = Call("PUT", "/api/v1/settings/pacing.batch_size", json{{"value", "lots"}}.dump());
  ExpectError(bad, 400, "invalid_argument");
  EXPECT_NE(bad->body.find("pacing.batch_size: must be an integer"), std::string::npos)
      << bad->body;
  json put =
      Expect(Call("PUT", "/api/v1/settings/pacing.batch_size", json{{"value", "12"}}.dump()), 200);
  EXPECT_EQ(put["setting"]["value"], "12");
  EXPECT_EQ(put["setting"]["source"], "global");

  json campaign = Expect(Call("PUT", "/api/v1/settings/pacing.delay_min?campaign=spring",
                              json{{"value", "5s"}}.dump()),
                         200);
  EXPECT_EQ(campaign["setting"]["source"], "campaign");
  ExpectError(
      Call("PUT", "/api/v1/settings/telegram.rate?campaign=spring", json{{"value", "10"}}.dump()),
      400, "invalid_argument");
  ExpectError(Call("PUT", "/api/v1/settings/pacing.delay_min?campaign=spring",
                   json{{"value", "1h"}}.dump()),
              400, "invalid_argument");
  ExpectError(Call("PUT", "/api/v1/settings/no.such", json{{"value", "1"}}.dump()), 404,
              "not_found");
  ExpectError(Call("PUT", "/api/v1/settings/pacing.batch_size", json{{"v", "1"}}.dump()), 400,
              "invalid_argument");
  ExpectError(Call("GET", "/api/v1/settings?campaign=nope"), 404, "not_found");

  json reset = Expect(Call("DELETE", "/api/v1/settings/pacing.batch_size"), 200);
  for (const json& entry : reset["settings"]) {
    if (entry["key"] == "pacing.batch_size") {
      EXPECT_EQ(entry["source"], "default");
    }
  }
  ExpectError(Call("DELETE", "/api/v1/settings/no.such"), 404, "not_found");
}

// Invariant I7 (docs/invariants.md)
TEST_F(ApiTest, ProxyCredentialsInSettingsAreMasked) {
  Start();
  Expect(Call("PUT", "/api/v1/settings/http.proxy",
              json{{"value", "socks5://user:hunter2@proxy.example:1080"}}.dump()),
         200);
  Expect(Call("GET", "/api/v1/settings"), 200);
  EXPECT_EQ(bodies_.find("hunter2"), std::string::npos) << bodies_;
}

// Invariant I13 (docs/invariants.md)
TEST_F(ApiTest, SuppressionsAreAddedListedAndRemoved) {
  Start();
  json added = Expect(Call("POST", "/api/v1/suppressions",
                           json{{"user", "@Bob_Smith"}, {"reason", "asked"}}.dump()),
                      201);
  EXPECT_EQ(added["key"], "username:bob_smith");
  json list = Expect(Call("GET", "/api/v1/suppressions"), 200);
  ASSERT_EQ(list["suppressions"].size(), 1u);
  EXPECT_EQ(list["suppressions"][0]["reason"], "asked");
  ExpectError(Call("POST", "/api/v1/suppressions", json{{"user", "not a user!"}}.dump()), 400,
              "invalid_argument");
  ExpectError(Call("POST", "/api/v1/suppressions", json{{"reason", "no user"}}.dump()), 400,
              "invalid_argument");
  // A user id as a JSON number is the same user id as its digits in a string.
  EXPECT_EQ(Expect(Call("POST", "/api/v1/suppressions", json{{"user", 2003}}.dump()), 201)["key"],
            "id:2003");
  EXPECT_EQ(Expect(Call("DELETE", "/api/v1/suppressions/2003"), 200)["key"], "id:2003");
  for (const json& bad : {json(-5), json(20.5), json(1e300), json(true), json(nullptr)}) {
    ExpectError(Call("POST", "/api/v1/suppressions", json{{"user", bad}}.dump()), 400,
                "invalid_argument");
  }
  Expect(Call("DELETE", "/api/v1/suppressions/@bob_smith"), 200);
  EXPECT_EQ(Expect(Call("GET", "/api/v1/suppressions"), 200)["suppressions"], json::array());
  ExpectError(Call("DELETE", "/api/v1/suppressions/@bob_smith"), 404, "not_found");
}

TEST_F(ApiTest, StatsAndWorkersSummariseEverything) {
  Start();
  json stats = Expect(Call("GET", "/api/v1/stats"), 200);
  ASSERT_EQ(stats["campaigns"].size(), 1u);
  EXPECT_EQ(stats["campaigns"][0]["name"], "spring");
  EXPECT_EQ(stats["totals"]["campaigns"], 1);
  EXPECT_EQ(stats["totals"]["counts"]["pending"], 0);
  EXPECT_TRUE(stats["workers"].is_array());
  storage::WorkerInfo worker{"w1", "host-a", 42, 1000, 2000, "ok", "", 0};
  ASSERT_TRUE(store_->Heartbeat(worker));
  json workers = Expect(Call("GET", "/api/v1/workers"), 200);
  ASSERT_EQ(workers["workers"].size(), 1u);
  EXPECT_EQ(workers["workers"][0]["host"], "host-a");
  EXPECT_EQ(workers["workers"][0]["live"], false) << "its heartbeat is decades old";
}

// Invariant I8 (docs/invariants.md)
TEST_F(ApiTest, BadBodiesAre400WithAMessage) {
  Start();
  for (const char* body : {"{", "[1, 2]", "\"text\"", "{\"name\": null}"}) {
    SCOPED_TRACE(body);
    ExpectError(Call("POST", "/api/v1/campaigns", body), 400, "invalid_argument");
  }
  // Over the 1 MiB of a JSON body: refused before it is read.
  std::string huge = "{\"name\": \"" + std::string(size_t{2} << 20, 'a') + "\"}";
  ExpectError(Call("POST", "/api/v1/campaigns", huge), 413, "payload_too_large");
}

TEST_F(ApiTest, TheSessionRouteGivesTheCsrfTokenBackAfterAReload) {
  Start();
  json session = Expect(Send("GET", "/api/v1/session", "", CookieHeaders(login_)), 200);
  EXPECT_EQ(session["csrf_token"], login_.csrf);
  EXPECT_EQ(session["via"], "session");
}

// Every route the server serves is documented in docs/openapi.yaml, and every documented route is
// served.
TEST_F(ApiTest, OpenApiDocumentsExactlyTheServedRoutes) {
  std::ifstream file(std::string(TGINVITE_SOURCE_DIR) + "/docs/openapi.yaml");
  ASSERT_TRUE(file) << "docs/openapi.yaml is missing";
  // Paths are the two-space-indented keys under `paths:`; methods the four-space-indented keys.
  std::set<std::pair<std::string, std::string>> documented;
  std::string line;
  std::string path;
  bool in_paths = false;
  while (std::getline(file, line)) {
    if (!line.empty() && line[0] != ' ' && line[0] != '#') in_paths = line == "paths:";
    if (!in_paths) continue;
    if (line.starts_with("  /") && line.ends_with(":")) {
      path = line.substr(2, line.size() - 3);
    } else if (line.size() > 4 && line.starts_with("    ") && line[4] != ' ' &&
               line.ends_with(":")) {
      std::string method = line.substr(4, line.size() - 5);
      if (method == "get" || method == "post" || method == "put" || method == "delete" ||
          method == "patch") {
        for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        documented.emplace(method, path);
      }
    }
  }
  StartServer();
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& route : server_->Routes()) served.insert(route);
  for (const auto& route : served) {
    EXPECT_TRUE(documented.contains(route))
        << route.first << " " << route.second << " is served but not in docs/openapi.yaml";
  }
  for (const auto& route : documented) {
    EXPECT_TRUE(served.contains(route))
        << route.first << " " << route.second << " is in docs/openapi.yaml but not served";
  }
}

// The Campaign schema's state and action enums in docs/openapi.yaml are core's lists, in order.
TEST(OpenApiTest, CampaignStatesAndActionsAreCoresLists) {
  std::ifstream file(std::string(TGINVITE_SOURCE_DIR) + "/docs/openapi.yaml");
  ASSERT_TRUE(file) << "docs/openapi.yaml is missing";
  std::string state_line;
  std::string actions_line;
  std::string line;
  bool in_campaign = false;
  while (std::getline(file, line)) {
    if (line.starts_with("    ") && !line.starts_with("     ")) in_campaign = line == "    Campaign:";
    if (!in_campaign) continue;
    if (line.starts_with("        state: ")) state_line = line;
    if (line.starts_with("        actions: ")) actions_line = line;
  }
  auto names = [](const auto& values) {
    std::string out;
    for (const auto& value : values) out += (out.empty() ? "" : ", ") + std::string(ToString(value));
    return "enum: [" + out + "]";
  };
  EXPECT_NE(state_line.find(names(core::kAllCampaignStates)), std::string::npos) << state_line;
  std::vector<core::CampaignAction> actions(core::kAllCampaignActions.begin(),
                                            core::kAllCampaignActions.end());
  actions.push_back(core::CampaignAction::kEdit);
  actions.push_back(core::CampaignAction::kDelete);
  EXPECT_NE(actions_line.find(names(actions)), std::string::npos) << actions_line;
}

}  // namespace
}  // namespace tginvite::web
