// A contact key as an operator types it to suppress a contact or renew its start link: "id:N" (a
// Telegram user id), "username:NAME" (lower-case) or "phone:+E164". The key names one contact
// column; the stores match it against that column. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace tginvite::core {

struct SuppressionKey {
  enum class Kind { kUserId, kUsername, kPhone };
  Kind kind = Kind::kUserId;
  int64_t user_id = 0;  // kUserId
  std::string text;     // kUsername: the name; kPhone: "+" and the digits
};

// Parses `key` exactly: "id:" and 1 to 19 digits without a leading zero that fit int64,
// "username:" and one or more of [a-z0-9_], or "phone:+" and one or more digits. Anything else is
// kInvalidArgument `contact key "KEY" is not id:N, username:NAME or phone:+E164`.
[[nodiscard]] Result<SuppressionKey> ParseSuppressionKey(std::string_view key);

}  // namespace tginvite::core
