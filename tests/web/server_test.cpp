// The web server over real HTTP on 127.0.0.1 (a random port), with a real SQLite store.
#include "web/server.h"

#include <stdexcept>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"
#include "web/auth.h"
#include "web/web_fixture.h"

namespace tginvite::web {
namespace {

using nlohmann::json;

constexpr std::string_view kPassword = "s3cret-admin-password";

struct Login {
  std::string session;  // the cookie's value
  std::string csrf;
  std::string set_cookie;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenStoreWithCampaign(dir_);
    ASSERT_NE(store_, nullptr);
  }

  void SetPassword() {
    auto hash = HashPassword(core::Secret(std::string(kPassword)));
    ASSERT_TRUE(hash);
    ASSERT_TRUE(store_->SetAdminPasswordHash(*hash));
  }

  void StartServer(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 4;
    server_ = std::make_unique<Server>(*store_, std::move(options));
    auto port = server_->Start();
    ASSERT_TRUE(port) << port.error().message;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
    client_->set_connection_timeout(5);
    client_->set_read_timeout(10);
  }

  // Every body the server sent, to check afterwards that no secret leaked.
  const httplib::Result& Keep(const httplib::Result& res) {
    if (res) bodies_ += res->body + "\n";
    return res;
  }

  httplib::Result Get(const std::string& path, const httplib::Headers& headers = {}) {
    httplib::Result res = client_->Get(path.c_str(), headers);
    Keep(res);
    return res;
  }

  httplib::Result Post(const std::string& path, const std::string& body,
                       const httplib::Headers& headers = {}) {
    httplib::Result res = client_->Post(path.c_str(), headers, body, "application/json");
    Keep(res);
    return res;
  }

  Login LogIn(const httplib::Headers& headers = {}) {
    httplib::Result res =
        Post("/api/v1/login", json{{"password", std::string(kPassword)}}.dump(), headers);
    Login login;
    EXPECT_TRUE(res);
    if (!res) return login;
    EXPECT_EQ(res->status, 200) << res->body;
    login.set_cookie = res->get_header_value("Set-Cookie");
    const std::string prefix = "tginvite_session=";
    EXPECT_TRUE(login.set_cookie.starts_with(prefix)) << login.set_cookie;
    login.session =
        login.set_cookie.substr(prefix.size(), login.set_cookie.find(';') - prefix.size());
    json body = json::parse(res->body);
    login.csrf = body.value("csrf_token", "");
    EXPECT_FALSE(login.csrf.empty());
    return login;
  }

  static httplib::Headers CookieHeaders(const Login& login, std::string csrf = "") {
    httplib::Headers headers{{"Cookie", "tginvite_session=" + login.session}};
    if (!csrf.empty()) headers.emplace("X-CSRF-Token", csrf);
    return headers;
  }

  static void ExpectError(const httplib::Result& res, int status, std::string_view code = "") {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, status) << res->body;
    json body = json::parse(res->body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << res->body;
    ASSERT_TRUE(body.contains("error")) << res->body;
    EXPECT_TRUE(body["error"]["message"].is_string()) << res->body;
    EXPECT_FALSE(body["error"]["message"].get<std::string>().empty());
    if (!code.empty()) {
      EXPECT_EQ(body["error"]["code"], code) << res->body;
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string bodies_;
};

TEST_F(ServerTest, HealthzNeedsNoAuth) {
  StartServer();
  auto res = Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["status"], "ok");
}

TEST_F(ServerTest, ReadyzReportsADegradedWorker) {
  auto health = std::make_shared<dispatch::Health>();
  ServerOptions options;
  options.worker_health = [health] { return *health; };
  StartServer(options);
  auto res = Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  health->state = dispatch::HealthState::kDegraded;
  health->reason = "database locked";
  res = Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_NE(res->body.find("database locked"), std::string::npos) << res->body;
}

TEST_F(ServerTest, EveryApiRouteRefusesWithoutAuth) {
  SetPassword();
  StartServer();
  for (const char* path : {"/api/v1/campaigns", "/api/v1/campaigns/spring", "/api/v1/stats"}) {
    SCOPED_TRACE(path);
    ExpectError(Get(path), 401, "unauthenticated");
    ExpectError(Get(path, {{"Cookie", "tginvite_session=forged"}}), 401, "unauthenticated");
    ExpectError(Get(path, {{"Authorization", "Bearer forged"}}), 401, "unauthenticated");
  }
  for (const char* path :
       {"/api/v1/logout", "/api/v1/campaigns/spring/start", "/api/v1/campaigns/spring/pause",
        "/api/v1/campaigns/spring/resume", "/api/v1/campaigns/spring/cancel"}) {
    SCOPED_TRACE(path);
    ExpectError(Post(path, ""), 401, "unauthenticated");
  }
  auto campaign = store_->FindCampaign("spring");
  ASSERT_TRUE(campaign);
  EXPECT_EQ(campaign->campaign.state, core::CampaignState::kDraft) << "nothing changed";
}

TEST_F(ServerTest, WrongPasswordIs401AndTheSixthAttemptInAMinuteIs429) {
  SetPassword();
  StartServer();
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    auto res = Post("/api/v1/login", json{{"password", "wrong"}}.dump());
    ExpectError(res, 401, "unauthenticated");
    EXPECT_EQ(res->get_header_value("Set-Cookie"), "");
  }
  auto res = Post("/api/v1/login", json{{"password", std::string(kPassword)}}.dump());
  ExpectError(res, 429, "rate_limited");
  int retry_after = std::stoi(res->get_header_value("Retry-After"));
  EXPECT_GT(retry_after, 0);
  EXPECT_LE(retry_after, 60);
}

TEST_F(ServerTest, LoginSetsTheSessionCookieWithExactFlags) {
  SetPassword();
  StartServer();
  Login plain = LogIn();
  EXPECT_EQ(plain.set_cookie, "tginvite_session=" + plain.session +
                                  "; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200");
  EXPECT_EQ(plain.session.size(), 64u);
  Login tls = LogIn({{"X-Forwarded-Proto", "https"}});
  EXPECT_EQ(tls.set_cookie, "tginvite_session=" + tls.session +
                                "; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200; Secure");
  EXPECT_NE(plain.session, tls.session);
  EXPECT_NE(plain.csrf, tls.csrf);
  auto res = Get("/api/v1/campaigns", CookieHeaders(plain));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(bodies_.find(plain.session), std::string::npos) << "the session token is only a cookie";
}

TEST_F(ServerTest, LoginIsRefusedWithAClearMessageUntilAPasswordIsSet) {
  StartServer();
  auto res = Post("/api/v1/login", json{{"password", ""}}.dump());
  ExpectError(res, 503, "unavailable");
  EXPECT_NE(res->body.find("tginvite init"), std::string::npos) << res->body;
}

TEST_F(ServerTest, CookieStateChangesNeedTheSessionsCsrfToken) {
  SetPassword();
  StartServer();
  Login login = LogIn();
  ExpectError(Post("/api/v1/campaigns/spring/start", "", CookieHeaders(login)), 403, "csrf");
  ExpectError(Post("/api/v1/campaigns/spring/start", "", CookieHeaders(login, "0123")), 403,
              "csrf");
  Login other = LogIn();
  ExpectError(Post("/api/v1/campaigns/spring/start", "", CookieHeaders(login, other.csrf)), 403,
              "csrf");
  EXPECT_EQ(store_->FindCampaign("spring")->campaign.state, core::CampaignState::kDraft);

  auto res = Post("/api/v1/campaigns/spring/start", "", CookieHeaders(login, login.csrf));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["campaign"]["state"], "running");
  EXPECT_EQ(store_->FindCampaign("spring")->campaign.state, core::CampaignState::kRunning);

  // A read needs no CSRF token; an action that does not apply is a 400 with the store's message.
  res = Get("/api/v1/campaigns/spring", CookieHeaders(login));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  ExpectError(Post("/api/v1/campaigns/spring/resume", "", CookieHeaders(login, login.csrf)), 400,
              "invalid_argument");
}

TEST_F(ServerTest, LogoutEndsTheSession) {
  SetPassword();
  StartServer();
  Login login = LogIn();
  ExpectError(Post("/api/v1/logout", "", CookieHeaders(login)), 403, "csrf");
  auto res = Post("/api/v1/logout", "", CookieHeaders(login, login.csrf));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_NE(res->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
  ExpectError(Get("/api/v1/campaigns", CookieHeaders(login)), 401, "unauthenticated");
}

TEST_F(ServerTest, BearerTokensNeedNoCsrfAndRevokedOnesAreRefused) {
  StartServer();
  core::Secret token = NewToken();
  ASSERT_TRUE(store_->CreateApiToken("ci", TokenHash(token.Reveal())));
  httplib::Headers bearer{{"Authorization", "Bearer " + token.Reveal()}};
  auto res = Post("/api/v1/campaigns/spring/start", "", bearer);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  res = Get("/api/v1/stats", bearer);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  json stats = json::parse(res->body);
  ASSERT_EQ(stats["campaigns"].size(), 1u);
  EXPECT_EQ(stats["campaigns"][0]["name"], "spring");
  EXPECT_TRUE(stats["campaigns"][0]["funnel"].contains("joined"));

  ASSERT_TRUE(store_->RevokeApiToken("ci"));
  ExpectError(Get("/api/v1/stats", bearer), 401, "unauthenticated");
  ExpectError(Post("/api/v1/campaigns/spring/pause", "", bearer), 401, "unauthenticated");
  ExpectError(Get("/api/v1/stats", {{"Authorization", "Basic abc"}}), 401, "unauthenticated");
  EXPECT_EQ(bodies_.find(token.Reveal()), std::string::npos);
}

TEST_F(ServerTest, BadJsonIs400WithTheErrorBody) {
  SetPassword();
  StartServer();
  ExpectError(Post("/api/v1/login", "{not json"), 400, "invalid_argument");
  ExpectError(Post("/api/v1/login", "[1, 2]"), 400, "invalid_argument");
  ExpectError(Post("/api/v1/login", json{{"password", 42}}.dump()), 400, "invalid_argument");
  Login login = LogIn();
  auto res = Post("/api/v1/campaigns/spring/start", "{\"oops\"", CookieHeaders(login, login.csrf));
  ExpectError(res, 400, "invalid_argument");
  EXPECT_NE(res->body.find("not valid JSON"), std::string::npos);
  EXPECT_EQ(store_->FindCampaign("spring")->campaign.state, core::CampaignState::kDraft);
}

TEST_F(ServerTest, UnknownCampaignsAndRoutesAre404) {
  SetPassword();
  StartServer();
  Login login = LogIn();
  ExpectError(Get("/api/v1/campaigns/ghost", CookieHeaders(login)), 404, "not_found");
  ExpectError(Post("/api/v1/campaigns/ghost/start", "", CookieHeaders(login, login.csrf)), 404,
              "not_found");
  ExpectError(Post("/api/v1/campaigns/spring/explode", "", CookieHeaders(login, login.csrf)), 404,
              "not_found");
  ExpectError(Get("/api/v1/nothing-here", CookieHeaders(login)), 404, "not_found");
}

TEST_F(ServerTest, AStrayExceptionIsALogged500AndTheServerKeepsServing) {
  ServerOptions options;
  options.worker_health = []() -> dispatch::Health { throw std::runtime_error("boom"); };
  StartServer(options);
  auto res = Get("/readyz");
  ExpectError(res, 500, "internal");
  EXPECT_EQ(res->body.find("boom"), std::string::npos) << "internals stay in the log";
  res = Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  ExpectError(Get("/readyz"), 500, "internal");
}

TEST_F(ServerTest, RequestBodiesOverTheLimitAreRefused) {
  SetPassword();
  ServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  auto res = Post("/api/v1/login", json{{"password", std::string(4096, 'x')}}.dump());
  ExpectError(res, 413);
}

TEST_F(ServerTest, NoResponseEverCarriesThePasswordOrAToken) {
  SetPassword();
  StartServer();
  core::Secret token = NewToken();
  ASSERT_TRUE(store_->CreateApiToken("ci", TokenHash(token.Reveal())));
  httplib::Headers bearer{{"Authorization", "Bearer " + token.Reveal()}};
  Login login = LogIn();
  Post("/api/v1/login", json{{"password", "wrong"}}.dump());
  for (const httplib::Headers& auth : {bearer, CookieHeaders(login)}) {
    Get("/api/v1/campaigns", auth);
    Get("/api/v1/campaigns/spring", auth);
    Get("/api/v1/stats", auth);
  }
  Post("/api/v1/campaigns/spring/start", "", bearer);
  Post("/api/v1/campaigns/spring/pause", "", CookieHeaders(login, login.csrf));
  Get("/healthz");
  Get("/readyz");
  ASSERT_FALSE(bodies_.empty());
  EXPECT_EQ(bodies_.find(kPassword), std::string::npos);
  EXPECT_EQ(bodies_.find(token.Reveal()), std::string::npos);
  EXPECT_EQ(bodies_.find(login.session), std::string::npos);
  EXPECT_EQ(bodies_.find("$argon2id$"), std::string::npos);
}

TEST_F(ServerTest, SessionsExpireAndLoginAttemptsComeBackAfterAMinute) {
  SetPassword();
  auto clock = std::make_shared<testing::FakeClock>();
  ServerOptions options;
  options.clock = clock;
  options.session_ttl = std::chrono::hours(1);
  StartServer(options);
  Login login = LogIn();
  clock->Advance(std::chrono::minutes(59));
  auto res = Get("/api/v1/campaigns", CookieHeaders(login));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  clock->Advance(std::chrono::minutes(1));
  ExpectError(Get("/api/v1/campaigns", CookieHeaders(login)), 401, "unauthenticated");

  for (int i = 0; i < 5; ++i) Post("/api/v1/login", json{{"password", "wrong"}}.dump());
  ExpectError(Post("/api/v1/login", json{{"password", "wrong"}}.dump()), 429, "rate_limited");
  clock->Advance(std::chrono::minutes(1));
  ExpectError(Post("/api/v1/login", json{{"password", "wrong"}}.dump()), 401, "unauthenticated");
}

TEST(ListenTest, ParsesAddressAndPort) {
  auto parsed = ParseListen("0.0.0.0:9090");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->first, "0.0.0.0");
  EXPECT_EQ(parsed->second, 9090);
  parsed = ParseListen("[::1]:80");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->first, "::1");
  for (const char* bad : {"8080", ":8080", "host:", "host:0", "host:70000", "host:80x"}) {
    EXPECT_FALSE(ParseListen(bad)) << bad;
  }
  EXPECT_TRUE(IsLoopback("127.0.0.1"));
  EXPECT_TRUE(IsLoopback("::1"));
  EXPECT_FALSE(IsLoopback("0.0.0.0"));
  EXPECT_FALSE(IsLoopback("192.168.1.5"));
}

}  // namespace
}  // namespace tginvite::web
