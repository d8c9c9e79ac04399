// Start links over real HTTP: Telegram's webhook calls and the operator's forwarded updates into
// the inbox, the start-links CSV for mail merges, contacts' links and their QR codes.
#include <regex>
#include <sstream>

#include "web/qr.h"
#include "web/server_fixture.h"

namespace tginvite::web {
namespace {

constexpr std::string_view kSecret = "webhook-secret-0123456789abcdef";
constexpr std::string_view kBot = "tginvite_test_bot";
constexpr std::string_view kSecretHeader = "X-Telegram-Bot-Api-Secret-Token";

// A private "/start <payload>" message, as Telegram sends it.
json StartUpdate(int64_t update_id, std::string_view payload) {
  return {{"update_id", update_id},
          {"message",
           {{"message_id", 7},
            {"date", 1700000000},
            {"chat", {{"id", 555}, {"type", "private"}}},
            {"from", {{"id", 555}, {"is_bot", false}, {"first_name", "Bob"}}},
            {"text", "/start " + std::string(payload)}}}};
}

class StartLinksTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    SetPassword();
    ASSERT_TRUE(store_->AddAccount(
        {"hook", core::AccountKind::kRehearsal, {}, "https://api.telegram.org"}));
    ASSERT_TRUE(store_->SetUpdatesVia("hook", core::UpdatesVia::kWebhook,
                                      "https://tginvite.example/telegram/webhook/hook",
                                      TokenHash(kSecret)));
    StartServer();
    login_ = LogIn();
  }

  int64_t AccountId(std::string_view name) {
    auto account = store_->FindAccount(name);
    EXPECT_TRUE(account) << account.error().message;
    return account ? account->id : 0;
  }

  // The update ids waiting in the account's inbox.
  std::vector<int64_t> Inbox(std::string_view account) {
    auto pending = store_->PendingUpdates(AccountId(account), 100);
    EXPECT_TRUE(pending) << pending.error().message;
    std::vector<int64_t> ids;
    if (pending) {
      for (const storage::InboxUpdate& update : *pending) ids.push_back(update.update_id);
    }
    return ids;
  }

  httplib::Result Webhook(std::string_view account, const std::string& body,
                          std::optional<std::string_view> secret) {
    httplib::Headers headers;
    if (secret) headers.emplace(std::string(kSecretHeader), std::string(*secret));
    return Post("/telegram/webhook/" + std::string(account), body, headers);
  }

  httplib::Headers Bearer(const std::string& name, core::TokenScope scope) {
    core::Secret token = NewToken();
    EXPECT_TRUE(store_->CreateApiToken({name, TokenHash(token.Reveal()), scope}));
    return {{"Authorization", "Bearer " + token.Reveal()}};
  }

  // A logged-in request; state-changing ones carry the CSRF token.
  httplib::Result Call(const std::string& method, const std::string& path,
                       const std::string& body = "",
                       const std::string& content_type = "application/json") {
    return Send(method, path, body, CookieHeaders(login_, method == "GET" ? "" : login_.csrf),
                content_type);
  }

  json Expect(const httplib::Result& res, int status) {
    EXPECT_TRUE(res);
    if (!res) return json();
    EXPECT_EQ(res->status, status) << res->body;
    json body = json::parse(res->body, nullptr, false);
    EXPECT_FALSE(body.is_discarded()) << res->body;
    return body;
  }

  // Campaign "links" of reach `both` on account demo: Ann is known by id (pending), Bob and
  // Carol only by username (awaiting their start). Carol's name is a spreadsheet formula.
  void CreateLinksCampaign() {
    Expect(Call("POST", "/api/v1/campaigns",
                json{{"name", "links"},
                     {"account", "demo"},
                     {"chat", "-1001234567890"},
                     {"template", "Hi {first_name}: {link}"},
                     {"reach", "both"}}
                    .dump()),
           201);
    const std::string csv =
        "telegram_user_id,username,first_name,last_name,phone\n"
        "4001,ann_a,Ann,Able,\n"
        ",bob_b,Bob,\"Baker, Jr\",+49301234567\n"
        ",carol_c,=cmd|' /C calc'!A0,,\n";
    json report = Expect(Call("POST", "/api/v1/imports?campaign=links", csv, "text/csv"), 200);
    ASSERT_EQ(report["valid"], 3) << report.dump();
    Expect(Call("POST", "/api/v1/imports/" + report["id"].get<std::string>() + "/commit"), 200);
  }

  void SetBotUsername() { ASSERT_TRUE(store_->SetBotUsername(AccountId("demo"), kBot)); }

  // The campaign's contacts by username.
  std::map<std::string, json> Contacts() {
    json page = Expect(Call("GET", "/api/v1/contacts?campaign=links"), 200);
    std::map<std::string, json> out;
    for (const json& c : page["contacts"]) out[c["username"].get<std::string>()] = c;
    return out;
  }

  Login login_;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

TEST_F(StartLinksTest, TheWebhookRefusesEveryBadCallWithTheSame401AndIngestsNothing) {
  ASSERT_TRUE(store_->SetUpdatesVia("demo", core::UpdatesVia::kPoll, "", TokenHash(kSecret)));
  const std::string body = StartUpdate(1001, "abc").dump();
  std::vector<std::string> answers;
  for (auto [account, secret] :
       std::vector<std::pair<std::string, std::optional<std::string_view>>>{
           {"hook", std::nullopt},                       // no secret
           {"hook", ""},                                 // an empty one
           {"hook", "webhook-secret-0123456789abcdeX"},  // a wrong one
           {"nobody", kSecret},                          // no such account
           {"demo", kSecret},                            // an account that polls
       }) {
    SCOPED_TRACE(account + " " + std::string(secret.value_or("(none)")));
    auto res = Webhook(account, body, secret);
    ExpectError(res, 401, "unauthenticated");
    if (res) answers.push_back(res->body);
  }
  ASSERT_EQ(answers.size(), 5u);
  for (const std::string& answer : answers) EXPECT_EQ(answer, answers[0]) << "which one failed";
  EXPECT_TRUE(Inbox("hook").empty());
  EXPECT_TRUE(Inbox("demo").empty());
  EXPECT_EQ(bodies_.find(kSecret), std::string::npos);

  auto res = Webhook("hook", body, kSecret);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(Inbox("hook"), std::vector<int64_t>{1001});
  auto pending = store_->PendingUpdates(AccountId("hook"), 10);
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].kind, storage::InboxUpdate::Kind::kStart);
  EXPECT_EQ((*pending)[0].user_id, 555);
  EXPECT_EQ((*pending)[0].start_payload, "abc");
}

// Invariant I1 (docs/invariants.md)
TEST_F(StartLinksTest, AnUpdateDeliveredByTheWebhookAndForwardedIsOneInboxRow) {
  ASSERT_TRUE(Webhook("hook", StartUpdate(1001, "abc").dump(), kSecret));
  // Telegram retries a call it saw no answer to: the copy is dropped.
  json again = Expect(Webhook("hook", StartUpdate(1001, "abc").dump(), kSecret), 200);
  EXPECT_EQ(again["new"], 0);

  httplib::Headers writer = Bearer("forwarder", core::TokenScope::kWrite);
  json batch = json::array({StartUpdate(1001, "abc"), StartUpdate(1002, "def")});
  json counts = Expect(Post("/api/v1/accounts/hook/updates", batch.dump(), writer), 200);
  EXPECT_EQ(counts, (json{{"received", 2}, {"new", 1}, {"skipped", 0}}));
  EXPECT_EQ(Inbox("hook"), (std::vector<int64_t>{1001, 1002}));

  // {"updates": [...]}, with an item that is no update (no update_id).
  json wrapped = {{"updates", json::array({StartUpdate(1002, "def"), {{"message", "hi"}}})}};
  counts = Expect(Post("/api/v1/accounts/hook/updates", wrapped.dump(), writer), 200);
  EXPECT_EQ(counts, (json{{"received", 2}, {"new", 0}, {"skipped", 1}}));
  // One update object, as a webhook body would be.
  counts =
      Expect(Post("/api/v1/accounts/hook/updates", StartUpdate(1003, "ghi").dump(), writer), 200);
  EXPECT_EQ(counts, (json{{"received", 1}, {"new", 1}, {"skipped", 0}}));
  EXPECT_EQ(Inbox("hook"), (std::vector<int64_t>{1001, 1002, 1003}));
}

TEST_F(StartLinksTest, OnlyTheWriteScopeMayForwardUpdates) {
  const std::string body = StartUpdate(2001, "abc").dump();
  auto res = Post("/api/v1/accounts/hook/updates", body, Bearer("reader", core::TokenScope::kRead));
  ExpectError(res, 403, "forbidden");
  ExpectError(
      Post("/api/v1/accounts/hook/updates", body, Bearer("scraper", core::TokenScope::kMetrics)),
      403, "forbidden");
  ExpectError(Post("/api/v1/accounts/hook/updates", body), 401, "unauthenticated");
  ExpectError(Post("/api/v1/accounts/hook/updates", body, CookieHeaders(login_)), 403, "csrf");
  EXPECT_TRUE(Inbox("hook").empty()) << "a refused forward stored something";

  json counts = Expect(Call("POST", "/api/v1/accounts/hook/updates", body), 200);
  EXPECT_EQ(counts["new"], 1);
  EXPECT_EQ(Inbox("hook"), std::vector<int64_t>{2001});
}

// Invariant I8 (docs/invariants.md)
TEST_F(StartLinksTest, BadUpdateBodiesAre400WithAMessageAndStoreNothing) {
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  for (const std::string& body : {std::string("not json"), std::string("42"), std::string(""),
                                  std::string("{\"updates\": 5}"), deep}) {
    SCOPED_TRACE(body);
    auto res = Call("POST", "/api/v1/accounts/hook/updates", body);
    ExpectError(res, 400, "invalid_argument");
    EXPECT_NE(res->body.find("request body"), std::string::npos) << res->body;
    ExpectError(Webhook("hook", body, kSecret), 400, "invalid_argument");
  }
  json too_many = json::array();
  for (int i = 0; i < 1001; ++i) too_many.push_back(StartUpdate(3000 + i, "x"));
  ExpectError(Call("POST", "/api/v1/accounts/hook/updates", too_many.dump()), 400,
              "invalid_argument");
  EXPECT_TRUE(Inbox("hook").empty());
  ExpectError(Call("POST", "/api/v1/accounts/nobody/updates", StartUpdate(1, "x").dump()), 404,
              "not_found");
}

TEST_F(StartLinksTest, TheCsvListsThoseAwaitingTheirStartAndAllWithAll) {
  CreateLinksCampaign();
  SetBotUsername();
  std::map<std::string, json> contacts = Contacts();
  ASSERT_EQ(contacts.size(), 3u);

  // A HEAD (a link checker, a proxy's probe) hands nothing out.
  auto head = Call("HEAD", "/api/v1/campaigns/links/start-links.csv");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(Expect(Call("GET", "/api/v1/campaigns/links"), 200)["links_exported"], 0);

  auto res = Call("GET", "/api/v1/campaigns/links/start-links.csv");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(res->get_header_value("Content-Disposition"),
            "attachment; filename=\"links-start-links.csv\"");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
  std::vector<std::string> lines = Lines(res->body);
  ASSERT_EQ(lines.size(), 3u) << res->body;
  EXPECT_EQ(lines[0], "telegram_user_id,username,phone,first_name,last_name,state,start_link");
  EXPECT_EQ(lines[1], ",bob_b,'+49301234567,Bob,\"Baker, Jr\",awaiting_start," +
                          contacts["bob_b"]["start_link"].get<std::string>());
  EXPECT_EQ(lines[2], ",carol_c,,'=cmd|' /C calc'!A0,,awaiting_start," +
                          contacts["carol_c"]["start_link"].get<std::string>())
      << "a formula stays text";
  const std::regex link("https://t\\.me/tginvite_test_bot\\?start=[0-9a-f]{32}");
  EXPECT_TRUE(std::regex_match(contacts["bob_b"]["start_link"].get<std::string>(), link));

  json campaign = Expect(Call("GET", "/api/v1/campaigns/links"), 200);
  const int64_t exported = campaign["links_exported"].get<int64_t>();
  EXPECT_GE(exported, 2);

  res = Send("GET", "/api/v1/campaigns/links/start-links.csv?all=1", "",
             Bearer("reader", core::TokenScope::kRead));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  lines = Lines(res->body);
  ASSERT_EQ(lines.size(), 4u) << res->body;
  EXPECT_EQ(lines[1],
            "4001,ann_a,,Ann,Able,pending," + contacts["ann_a"]["start_link"].get<std::string>());
  campaign = Expect(Call("GET", "/api/v1/campaigns/links"), 200);
  EXPECT_EQ(campaign["links_exported"], exported) << "an invitation's link is counted once";
  EXPECT_EQ(campaign["funnel"]["links_exported"], exported);

  ExpectError(Call("GET", "/api/v1/campaigns/links/start-links.csv?all=yes"), 400,
              "invalid_argument");
  ExpectError(Call("GET", "/api/v1/campaigns/nope/start-links.csv"), 404, "not_found");
  ExpectError(Send("GET", "/api/v1/campaigns/links/start-links.csv", "",
                   Bearer("scraper", core::TokenScope::kMetrics)),
              403, "forbidden");
}

TEST_F(StartLinksTest, WithoutTheBotsUsernameThereAreNoLinksAndTheCsvSaysWhatToRun) {
  CreateLinksCampaign();
  auto res = Call("GET", "/api/v1/campaigns/links/start-links.csv");
  ExpectError(res, 409, "bot_username_unknown");
  EXPECT_NE(res->body.find("getMe has not told the bot's username yet"), std::string::npos)
      << res->body;
  EXPECT_NE(res->body.find("tginvite account check demo"), std::string::npos) << res->body;
  EXPECT_EQ(Expect(Call("GET", "/api/v1/campaigns/links"), 200)["links_exported"], 0)
      << "nothing was handed out";

  std::map<std::string, json> contacts = Contacts();
  ASSERT_EQ(contacts.size(), 3u);
  EXPECT_TRUE(contacts["bob_b"]["start_link"].is_null());
  const std::string id = contacts["bob_b"]["id"].dump();
  ExpectError(Call("GET", "/api/v1/campaigns/links/contacts/" + id + "/start-link.svg"), 404,
              "not_found");
}

TEST_F(StartLinksTest, AContactsStartLinkAndItsQrCode) {
  CreateLinksCampaign();
  SetBotUsername();
  std::map<std::string, json> contacts = Contacts();
  const std::string id = contacts["bob_b"]["id"].dump();
  const std::string link = contacts["bob_b"]["start_link"].get<std::string>();

  json shown = Expect(Call("GET", "/api/v1/campaigns/links/contacts/" + id), 200);
  EXPECT_EQ(shown["campaign"], "links");
  EXPECT_EQ(shown["contact"]["start_link"], link);
  EXPECT_EQ(shown["contact"]["state"], "awaiting_start");
  EXPECT_EQ(shown["contact"]["label"], "Bob Baker, Jr");

  auto res = Call("GET", "/api/v1/campaigns/links/contacts/" + id + "/start-link.svg");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "image/svg+xml");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
  auto expected = QrCodeSvg(link);
  ASSERT_TRUE(expected);
  EXPECT_EQ(res->body, *expected) << "the QR code of exactly that link";

  json plain = Expect(Call("GET", "/api/v1/contacts/" + id), 200);
  EXPECT_TRUE(plain["contact"]["start_link"].is_null()) << "no campaign, no invitation";
  EXPECT_TRUE(plain["contact"]["state"].is_null());

  Expect(Call("POST", "/api/v1/campaigns",
              json{{"name", "other"},
                   {"account", "demo"},
                   {"chat", "-1001234567891"},
                   {"template", "{link}"}}
                  .dump()),
         201);
  ExpectError(Call("GET", "/api/v1/campaigns/other/contacts/" + id), 404, "not_found");
  ExpectError(Call("GET", "/api/v1/campaigns/other/contacts/" + id + "/start-link.svg"), 404,
              "not_found");
  ExpectError(Call("GET", "/api/v1/campaigns/links/contacts/abc/start-link.svg"), 404, "not_found");
  ExpectError(Call("GET", "/api/v1/contacts/0"), 404, "not_found");
  ExpectError(Call("GET", "/api/v1/contacts/99999"), 404, "not_found");
}

TEST_F(StartLinksTest, CampaignsShowTheirReachLinksAndAwaitingStartCounts) {
  CreateLinksCampaign();
  SetBotUsername();
  json campaign = Expect(Call("GET", "/api/v1/campaigns/links"), 200);
  EXPECT_EQ(campaign["reach"], "both");
  EXPECT_EQ(campaign["bot_username"], kBot);
  EXPECT_EQ(campaign["links_exported"], 0);
  EXPECT_EQ(campaign["links_started"], 0);
  EXPECT_EQ(campaign["counts"]["awaiting_start"], 2);
  EXPECT_EQ(campaign["counts"]["pending"], 1);
  EXPECT_EQ(campaign["total"], 3);
  EXPECT_EQ(campaign["funnel"],
            (json{{"links_exported", 0}, {"links_started", 0}, {"sent", 0}, {"joined", 0}}));
  json stats = Expect(Call("GET", "/api/v1/stats"), 200);
  EXPECT_EQ(stats["totals"]["counts"]["awaiting_start"], 2);
  json spring = Expect(Call("GET", "/api/v1/campaigns/spring"), 200);
  EXPECT_EQ(spring["reach"], "direct");
  EXPECT_EQ(spring["bot_username"], kBot) << "the account's bot, whatever the campaign";
  Expect(
      Call(
          "POST", "/api/v1/campaigns",
          json{{"name", "hooked"}, {"account", "hook"}, {"chat", "@hooked"}, {"template", "{link}"}}
              .dump()),
      201);
  json hooked = Expect(Call("GET", "/api/v1/campaigns/hooked"), 200);
  EXPECT_TRUE(hooked["bot_username"].is_null()) << "getMe has not told hook's";
  EXPECT_EQ(hooked["reach"], "both") << "the default, as `tginvite campaign create` has it";

  json accounts = Expect(Call("GET", "/api/v1/accounts"), 200);
  for (const json& a : accounts["accounts"]) {
    if (a["name"] == "hook") {
      EXPECT_EQ(a["updates_via"], "webhook");
      EXPECT_EQ(a["webhook_url"], "https://tginvite.example/telegram/webhook/hook");
    }
    EXPECT_FALSE(a.contains("webhook_secret_hash"));
  }
  EXPECT_EQ(bodies_.find(TokenHash(kSecret)), std::string::npos) << "the secret's hash leaked";

  ExpectError(Call("POST", "/api/v1/campaigns",
                   json{{"name", "x"},
                        {"account", "demo"},
                        {"chat", "@xgroup"},
                        {"template", "{link}"},
                        {"reach", "sideways"}}
                       .dump()),
              400, "invalid_argument");
}

}  // namespace
}  // namespace tginvite::web
