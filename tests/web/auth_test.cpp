#include "web/auth.h"

#include <gtest/gtest.h>

namespace tginvite::web {
namespace {

TEST(AuthTest, PasswordHashIsArgon2idAndVerifies) {
  auto hash = HashPassword(core::Secret("correct horse"));
  ASSERT_TRUE(hash) << hash.error().message;
  EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(VerifyPassword(core::Secret("correct horse"), *hash));
  EXPECT_FALSE(VerifyPassword(core::Secret("correct horsf"), *hash));
  EXPECT_FALSE(VerifyPassword(core::Secret("correct horse"), "not a hash"));
  auto empty = HashPassword(core::Secret(""));
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
}

// Invariant I7 (docs/invariants.md)
TEST(AuthTest, TokensAreRandomAndStoredOnlyAsTheirHash) {
  core::Secret a = NewToken();
  core::Secret b = NewToken();
  EXPECT_EQ(a.Reveal().size(), 64u);
  EXPECT_NE(a.Reveal(), b.Reveal());
  EXPECT_EQ(TokenHash(a.Reveal()), TokenHash(a.Reveal()));
  EXPECT_NE(TokenHash(a.Reveal()), TokenHash(b.Reveal()));
  EXPECT_NE(TokenHash(a.Reveal()), a.Reveal());
  EXPECT_TRUE(SameSecret("abc", "abc"));
  EXPECT_FALSE(SameSecret("abc", "abd"));
  EXPECT_FALSE(SameSecret("abc", "abcd"));
  EXPECT_FALSE(SameSecret("", "a"));
}

TEST(AuthTest, LoginLimiterAllowsFiveFailuresPerMinutePerClient) {
  LoginLimiter limiter({.per_client = 5, .global = 100});
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(limiter.Check("10.0.0.1", 1000 + i), 0) << i;
    limiter.RecordFailure("10.0.0.1", 1000 + i);
  }
  EXPECT_EQ(limiter.Check("10.0.0.1", 2000), 59) << "the first failure leaves the window at 61 s";
  EXPECT_EQ(limiter.Check("10.0.0.2", 2000), 0) << "another client has its own budget";
  EXPECT_EQ(limiter.Check("10.0.0.1", 61000), 0) << "the oldest failure left the window";
  limiter.RecordFailure("10.0.0.1", 61000);
  EXPECT_GT(limiter.Check("10.0.0.1", 61000), 0);
}

TEST(AuthTest, LoginLimiterCountsOnlyFailures) {
  LoginLimiter limiter({.per_client = 2, .global = 100});
  // Checks alone (successful logins record nothing) never use the budget up.
  for (int i = 0; i < 50; ++i) EXPECT_EQ(limiter.Check("10.0.0.1", 1000 + i), 0) << i;
  limiter.RecordFailure("10.0.0.1", 2000);
  EXPECT_EQ(limiter.Check("10.0.0.1", 2001), 0);
  limiter.RecordFailure("10.0.0.1", 2002);
  EXPECT_GT(limiter.Check("10.0.0.1", 2003), 0);
}

TEST(AuthTest, LoginLimiterHasAGlobalBudgetAcrossClients) {
  LoginLimiter limiter({.per_client = 5, .global = 10});
  // Ten clients, one failure each: none reaches its own limit, together they reach the global one.
  for (int i = 0; i < 10; ++i) {
    const std::string client = "10.0.1." + std::to_string(i);
    ASSERT_EQ(limiter.Check(client, 1000), 0) << client;
    limiter.RecordFailure(client, 1000);
  }
  EXPECT_EQ(limiter.Check("10.9.9.9", 2000), 59) << "a client never seen before waits too";
  EXPECT_EQ(limiter.Check("10.9.9.9", 61000), 0);
}

TEST(AuthTest, LoginLimiterForgetsOldClientsAndStaysBounded) {
  LoginLimiter limiter({.per_client = 1, .global = 1000000, .max_clients = 100});
  for (int i = 0; i < 1000; ++i) limiter.RecordFailure("c" + std::to_string(i), 1000 + i);
  EXPECT_GT(limiter.Check("c999", 2000), 0) << "the newest clients are kept";
  EXPECT_EQ(limiter.Check("c0", 2000), 0) << "the oldest were dropped to stay within 100";
}

TEST(AuthTest, ClientKeysGroupIpv6By64) {
  EXPECT_EQ(ClientKey("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(ClientKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientKey("2001:db8:1:2::1"), ClientKey("2001:db8:1:2:ffff::9"));
  EXPECT_NE(ClientKey("2001:db8:1:2::1"), ClientKey("2001:db8:1:3::1"));
  EXPECT_EQ(ClientKey("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(ClientKey("not an address"), "not an address");
}

TEST(AuthTest, AdminPasswordsHaveAMinimumLength) {
  Status short_one = CheckNewPassword(core::Secret("eleven-char"));
  ASSERT_FALSE(short_one);
  EXPECT_EQ(short_one.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(short_one.error().message.find("at least 12 characters"), std::string::npos);
  EXPECT_EQ(short_one.error().message.find("eleven-char"), std::string::npos)
      << "the password is never part of a message";
  EXPECT_TRUE(CheckNewPassword(core::Secret("twelve-chars")));
  // Characters, not bytes: eleven two-byte characters are still too short.
  EXPECT_FALSE(CheckNewPassword(
      core::Secret("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9")));
}

}  // namespace
}  // namespace tginvite::web
