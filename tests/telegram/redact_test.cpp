#include "telegram/redact.h"

#include <gtest/gtest.h>

namespace tginvite::telegram {
namespace {

constexpr std::string_view kToken = "4242424:AAH-very-secret_token-value-xyz0123";

// Invariant I7 (docs/invariants.md)
TEST(RedactTest, RedactsTheTokenSegmentOfBotApiPaths) {
  EXPECT_EQ(RedactBotPaths("https://api.telegram.org/bot123:ABC-def/sendMessage"),
            "https://api.telegram.org/bot<redacted>/sendMessage");
  EXPECT_EQ(RedactBotPaths("GET /bot123:ABC?x=1 and /bot456:DEF\"}"),
            "GET /bot<redacted>?x=1 and /bot<redacted>\"}");
  EXPECT_EQ(RedactBotPaths("ends with /bot123:ABC"), "ends with /bot<redacted>");
  EXPECT_EQ(RedactBotPaths("no token here /bot/ or /b"), "no token here /bot/ or /b");
  EXPECT_EQ(RedactBotPaths(""), "");
}

// Invariant I7 (docs/invariants.md)
TEST(RedactTest, RedactsTheTokenAnywhereInAnyForm) {
  core::Secret token{std::string(kToken)};
  std::string text = fmt::format(
      "token {} encoded 4242424%3AAAH-very-secret_token-value-xyz0123 "
      "secret AAH-very-secret_token-value-xyz0123 end",
      kToken);
  std::string redacted = Redact(text, token);
  EXPECT_EQ(redacted, "token <redacted> encoded <redacted> secret <redacted> end");
  EXPECT_EQ(redacted.find("very-secret"), std::string::npos);
}

TEST(RedactTest, RedactsPathsAndTokenTogether) {
  core::Secret token{std::string(kToken)};
  std::string url = fmt::format("http://127.0.0.1:1/bot{}/getMe", kToken);
  EXPECT_EQ(Redact(url, token), "http://127.0.0.1:1/bot<redacted>/getMe");
}

TEST(RedactTest, EmptyTokenRedactsPathsOnly) {
  EXPECT_EQ(Redact("a /bot1:x/getMe b", core::Secret()), "a /bot<redacted>/getMe b");
}

}  // namespace
}  // namespace tginvite::telegram
