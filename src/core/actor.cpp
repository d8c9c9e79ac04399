#include "core/actor.h"

namespace tginvite::core {
namespace {

constexpr size_t kMaxNameBytes = 64;

std::string Clean(std::string_view name) {
  std::string clean(name.substr(0, kMaxNameBytes));
  // Not half a character at the cut: drop continuation bytes and the lead byte they follow.
  if (name.size() > kMaxNameBytes) {
    while (!clean.empty() && (static_cast<unsigned char>(clean.back()) & 0xC0) == 0x80) {
      clean.pop_back();
    }
    if (!clean.empty() && static_cast<unsigned char>(clean.back()) >= 0xC0) clean.pop_back();
  }
  for (char& c : clean) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = '?';
  }
  return clean;
}

Actor Make(Actor::Kind kind, std::string_view name) {
  Actor actor;
  actor.kind = kind;
  actor.name = Clean(name);
  return actor;
}

}  // namespace

Actor Actor::Cli(std::string_view user) { return Make(Kind::kCli, user); }
Actor Actor::Token(std::string_view token_name) { return Make(Kind::kToken, token_name); }
Actor Actor::Dashboard(std::string_view user) { return Make(Kind::kDashboard, user); }
Actor Actor::Engine() { return Make(Kind::kEngine, ""); }

std::string ToString(const Actor& actor) {
  switch (actor.kind) {
    case Actor::Kind::kCli:
      return "cli:" + actor.name;
    case Actor::Kind::kToken:
      return "token:" + actor.name;
    case Actor::Kind::kDashboard:
      return "dashboard:" + actor.name;
    case Actor::Kind::kEngine:
      return actor.name.empty() ? "engine" : "engine:" + actor.name;
  }
  return "engine";
}

}  // namespace tginvite::core
