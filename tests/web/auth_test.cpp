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

TEST(AuthTest, LoginLimiterAllowsFiveAttemptsPerMinutePerAddress) {
  LoginLimiter limiter(5, std::chrono::minutes(1));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.Attempt("10.0.0.1", 1000 + i), 0) << i;
  EXPECT_EQ(limiter.Attempt("10.0.0.1", 2000), 59) << "the first attempt leaves the window at 61 s";
  EXPECT_EQ(limiter.Attempt("10.0.0.2", 2000), 0) << "another address has its own budget";
  EXPECT_EQ(limiter.Attempt("10.0.0.1", 61000), 0) << "the oldest attempt left the window";
  EXPECT_GT(limiter.Attempt("10.0.0.1", 61000), 0);
}

}  // namespace
}  // namespace tginvite::web
