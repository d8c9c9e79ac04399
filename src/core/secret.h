// A secret (a bot token, a password) that cannot be printed by accident.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace tginvite::core {

// Holds a secret value. Formatting it (fmt, logs, messages) yields only its masked form; the value
// itself comes out through Reveal(), which callers use at the one place that must send it.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}

  const std::string& Reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

  // "123456:…wxyz" for a bot token, "…wxyz" for anything else, "" when empty. Never more than the
  // part before ':' (a bot's public id) and the last four characters.
  std::string Masked() const;

 private:
  std::string value_;
};

// True when `token` has the shape of a Bot API token: digits, ':', then 30 or more of
// [A-Za-z0-9_-].
bool LooksLikeBotToken(std::string_view token);
// The bot id a Bot API token starts with (its digits before ':'), or nullopt when `token` does not
// look like one.
std::optional<int64_t> BotIdOfToken(std::string_view token);

// A user account's credentials: the operator's own api_id and api_hash from my.telegram.org and
// the account's phone number. Kept as one secret ("<api_id>:<api_hash>:<phone>"), sealed at rest
// like a bot token.
struct UserCredentials {
  int64_t api_id = 0;
  std::string api_hash;  // 32 hex digits
  std::string phone;     // E.164: "+4930123456"

  std::string ToText() const;
};
// kInvalidArgument-style message when `text` is not a valid "<api_id>:<api_hash>:<phone>"; the
// message never contains the hash.
std::optional<UserCredentials> ParseUserCredentials(std::string_view text, std::string* why);

}  // namespace tginvite::core

template <>
struct fmt::formatter<tginvite::core::Secret> : fmt::formatter<std::string> {
  template <typename FormatContext>
  auto format(const tginvite::core::Secret& secret, FormatContext& ctx) const {
    return fmt::formatter<std::string>::format(secret.Masked(), ctx);
  }
};
