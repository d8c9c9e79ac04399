#include "core/suppression_key.h"

#include <charconv>

namespace tginvite::core {
namespace {

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

bool AllOf(std::string_view text, bool (*allowed)(char)) {
  for (char c : text) {
    if (!allowed(c)) return false;
  }
  return !text.empty();
}

bool IsUsernameChar(char c) { return (c >= 'a' && c <= 'z') || IsAsciiDigit(c) || c == '_'; }

}  // namespace

Result<SuppressionKey> ParseSuppressionKey(std::string_view key) {
  auto refuse = [key] {
    return Fail(ErrorCode::kInvalidArgument,
                "contact key \"{}\" is not id:N, username:NAME or phone:+E164", key);
  };
  SuppressionKey parsed;
  if (key.starts_with("id:")) {
    const std::string_view digits = key.substr(3);
    if (digits.size() > 19 || !AllOf(digits, IsAsciiDigit) || digits[0] == '0') return refuse();
    const auto [end, error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), parsed.user_id);
    if (error != std::errc() || end != digits.data() + digits.size()) return refuse();
    parsed.kind = SuppressionKey::Kind::kUserId;
  } else if (key.starts_with("username:")) {
    parsed.text = std::string(key.substr(9));
    if (!AllOf(parsed.text, IsUsernameChar)) return refuse();
    parsed.kind = SuppressionKey::Kind::kUsername;
  } else if (key.starts_with("phone:+")) {
    if (!AllOf(key.substr(7), IsAsciiDigit)) return refuse();
    parsed.text = std::string(key.substr(6));
    parsed.kind = SuppressionKey::Kind::kPhone;
  } else {
    return refuse();
  }
  return parsed;
}

}  // namespace tginvite::core
