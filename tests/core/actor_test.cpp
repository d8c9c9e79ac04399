#include "core/actor.h"

#include <string>

#include <gtest/gtest.h>

namespace tginvite::core {
namespace {

TEST(ActorTest, WritesKindAndName) {
  EXPECT_EQ(ToString(Actor::Cli("alice")), "cli:alice");
  EXPECT_EQ(ToString(Actor::Token("deploy")), "token:deploy");
  EXPECT_EQ(ToString(Actor::Dashboard("admin")), "dashboard:admin");
  EXPECT_EQ(ToString(Actor::Engine()), "engine");
}

TEST(ActorTest, KeepsNamesShortAndOnOneLine) {
  EXPECT_EQ(ToString(Actor::Cli("eve\n2026-01-01 info forged\x1b[0m")),
            "cli:eve?2026-01-01 info forged?[0m");
  EXPECT_EQ(Actor::Token(std::string(100, 'x')).name, std::string(64, 'x'));
}

}  // namespace
}  // namespace tginvite::core
