// The web server over real HTTP on 127.0.0.1 (a random port), with a real SQLite store.
#include "web/server.h"

#include <stdexcept>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"
#include "web/auth.h"
#include "web/server_fixture.h"

namespace tginvite::web {
namespace {

using nlohmann::json;

TEST_F(ServerTest, HealthzNeedsNoAuth) {
  StartServer();
  auto res = Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["status"], "ok");
}

// Regression: httplib ignores stop() until its accept loop runs, so stopping a server at once
// used to hang the destructor.
TEST_F(ServerTest, StoppingRightAfterStartingReturns) {
  for (int i = 0; i < 20; ++i) {
    ServerOptions options;
    options.port = 0;
    options.http.threads = 1;
    Server server(*store_, options);
    ASSERT_TRUE(server.Start());
    server.Stop();
  }
}

// Invariant I6 (docs/invariants.md)
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

// The route list comes from the server itself, so a route added later is covered too.
TEST_F(ServerTest, EveryApiRouteRefusesWithoutAuthAndChangesNeedTheCsrfToken) {
  SetPassword();
  StartServer();
  Login login = LogIn();
  size_t checked = 0;
  for (const auto& [method, route] : server_->Routes()) {
    if (route == "/healthz" || route == "/readyz" || route == "/api/v1/login") continue;
    std::string path = route;
    for (size_t open; (open = path.find('{')) != std::string::npos;) {
      path.replace(open, path.find('}', open) - open + 1, "spring");
    }
    SCOPED_TRACE(method + " " + path);
    ExpectError(Send(method, path), 401, "unauthenticated");
    ExpectError(Send(method, path, "", {{"Cookie", "tginvite_session=forged"}}), 401,
                "unauthenticated");
    ExpectError(Send(method, path, "", {{"Authorization", "Bearer forged"}}), 401,
                "unauthenticated");
    // Telegram's webhook takes no session: its secret token is checked instead (tested in
    // start_links_test.cpp).
    if (method != "GET" && !route.starts_with("/telegram/")) {
      ExpectError(Send(method, path, "{}", CookieHeaders(login)), 403, "csrf");
      ExpectError(Send(method, path, "{}", CookieHeaders(login, "wrong")), 403, "csrf");
    }
    ++checked;
  }
  EXPECT_GE(checked, 25u);
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

TEST_F(ServerTest, BehindAProxyLoginsAreLimitedPerForwardedClient) {
  SetPassword();
  ServerOptions options;
  options.behind_proxy = true;
  StartServer(options);
  auto attempt = [&](const std::string& forwarded_for) {
    return Post("/api/v1/login", json{{"password", "wrong"}}.dump(),
                {{"X-Forwarded-For", forwarded_for}});
  };
  for (int i = 0; i < 5; ++i) ExpectError(attempt("198.51.100.7"), 401, "unauthenticated");
  ExpectError(attempt("198.51.100.7"), 429, "rate_limited");
  // Another client behind the same proxy is not locked out; a spoofed first hop changes nothing.
  ExpectError(attempt("203.0.113.9"), 401, "unauthenticated");
  ExpectError(attempt("10.9.9.9, 198.51.100.7"), 429, "rate_limited");
}

TEST_F(ServerTest, WithoutTheProxyOptionForwardedForIsIgnored) {
  SetPassword();
  StartServer();
  for (int i = 0; i < 5; ++i) {
    ExpectError(Post("/api/v1/login", json{{"password", "wrong"}}.dump(),
                     {{"X-Forwarded-For", "192.0.2." + std::to_string(i)}}),
                401, "unauthenticated");
  }
  ExpectError(Post("/api/v1/login", json{{"password", "wrong"}}.dump(),
                   {{"X-Forwarded-For", "192.0.2.99"}}),
              429, "rate_limited");
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
  ASSERT_TRUE(store_->CreateApiToken({"ci", TokenHash(token.Reveal())}));
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

TEST_F(ServerTest, ATokensScopeLimitsWhatItMayDo) {
  StartServer();
  auto bearer_for = [&](std::string name, core::TokenScope scope) {
    core::Secret token = NewToken();
    EXPECT_TRUE(store_->CreateApiToken({name, TokenHash(token.Reveal()), scope}));
    return httplib::Headers{{"Authorization", "Bearer " + token.Reveal()}};
  };
  httplib::Headers reader = bearer_for("reader", core::TokenScope::kRead);
  httplib::Headers scraper = bearer_for("scraper", core::TokenScope::kMetrics);
  httplib::Headers writer = bearer_for("writer", core::TokenScope::kWrite);

  auto res = Get("/api/v1/campaigns", reader);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  res = Get("/metrics", reader);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  res = Post("/api/v1/campaigns/spring/start", "", reader);
  ExpectError(res, 403, "forbidden");
  EXPECT_NE(res->body.find("read scope"), std::string::npos) << res->body;
  EXPECT_EQ(store_->FindCampaign("spring")->campaign.state, core::CampaignState::kDraft)
      << "a read token cannot start a campaign";

  res = Get("/metrics", scraper);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  ExpectError(Get("/api/v1/campaigns", scraper), 403, "forbidden");
  ExpectError(Get("/api/v1/contacts", scraper), 403, "forbidden");

  res = Post("/api/v1/campaigns/spring/start", "", writer);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(store_->FindCampaign("spring")->campaign.state, core::CampaignState::kRunning);
}

TEST_F(ServerTest, AnExpiredTokenIsRefused) {
  auto clock = std::make_shared<testing::FakeClock>();
  ServerOptions options;
  options.clock = clock;
  StartServer(options);
  core::Secret token = NewToken();
  const int64_t now = core::ToUnixMillis(clock->Now());
  ASSERT_TRUE(store_->CreateApiToken(
      {"short", TokenHash(token.Reveal()), core::TokenScope::kWrite, now + 60'000}));
  httplib::Headers bearer{{"Authorization", "Bearer " + token.Reveal()}};
  auto res = Get("/api/v1/stats", bearer);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  clock->Advance(std::chrono::minutes(1));
  res = Get("/api/v1/stats", bearer);
  ExpectError(res, 401, "unauthenticated");
  EXPECT_NE(res->body.find("expired"), std::string::npos) << res->body;
}

TEST_F(ServerTest, SuccessfulLoginsDoNotCountAgainstTheLimit) {
  SetPassword();
  StartServer();
  for (int i = 0; i < 8; ++i) LogIn();
  for (int i = 0; i < 5; ++i) {
    ExpectError(Post("/api/v1/login", json{{"password", "wrong"}}.dump()), 401, "unauthenticated");
  }
  ExpectError(Post("/api/v1/login", json{{"password", "wrong"}}.dump()), 429, "rate_limited");
}

TEST_F(ServerTest, FailedLoginsFromManyClientsHitTheGlobalLimit) {
  SetPassword();
  ServerOptions options;
  options.behind_proxy = true;
  options.login.global = 8;
  StartServer(options);
  for (int i = 0; i < 8; ++i) {
    ExpectError(Post("/api/v1/login", json{{"password", "wrong"}}.dump(),
                     {{"X-Forwarded-For", "198.51.100." + std::to_string(i)}}),
                401, "unauthenticated");
  }
  ExpectError(Post("/api/v1/login", json{{"password", std::string(kPassword)}}.dump(),
                   {{"X-Forwarded-For", "203.0.113.1"}}),
              429, "rate_limited");
}

TEST_F(ServerTest, Ipv6ClientsAreLimitedByTheirSlash64) {
  SetPassword();
  ServerOptions options;
  options.behind_proxy = true;
  StartServer(options);
  for (int i = 1; i <= 5; ++i) {
    ExpectError(Post("/api/v1/login", json{{"password", "wrong"}}.dump(),
                     {{"X-Forwarded-For", "2001:db8:7:7::" + std::to_string(i)}}),
                401, "unauthenticated");
  }
  ExpectError(Post("/api/v1/login", json{{"password", "wrong"}}.dump(),
                   {{"X-Forwarded-For", "2001:db8:7:7:ffff::1"}}),
              429, "rate_limited");
  ExpectError(Post("/api/v1/login", json{{"password", "wrong"}}.dump(),
                   {{"X-Forwarded-For", "2001:db8:7:8::1"}}),
              401, "unauthenticated");
}

// Invariant I8 (docs/invariants.md)
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

// Invariant I12 (docs/invariants.md)
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
  options.http.max_json_body = 1024;
  StartServer(options);
  auto res = Post("/api/v1/login", json{{"password", std::string(4096, 'x')}}.dump());
  ExpectError(res, 413);
}

// Invariant I7 (docs/invariants.md)
TEST_F(ServerTest, NoResponseEverCarriesThePasswordOrAToken) {
  SetPassword();
  StartServer();
  core::Secret token = NewToken();
  ASSERT_TRUE(store_->CreateApiToken({"ci", TokenHash(token.Reveal())}));
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
