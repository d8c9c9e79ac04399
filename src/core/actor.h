// Who made a change the audit trail keeps and the log names: an operator at the CLI (the OS user),
// an API token (its name), the dashboard (its session's user) or the engine itself. Written as
// "cli:alice", "token:deploy", "dashboard:admin" and "engine" at the edges (SQL, JSON, logs).
// Pure values, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace tginvite::core {

struct Actor {
  enum class Kind { kCli, kToken, kDashboard, kEngine };

  // `name` is kept as at most 64 bytes with control characters replaced by '?': an actor's name
  // ends up in log lines, and a user name or token name is not ours to trust.
  static Actor Cli(std::string_view user);
  static Actor Token(std::string_view token_name);
  static Actor Dashboard(std::string_view user);
  static Actor Engine();

  Kind kind = Kind::kEngine;
  std::string name;  // empty for the engine
};

// "cli:alice", "token:deploy", "dashboard:admin", "engine".
std::string ToString(const Actor& actor);

}  // namespace tginvite::core
