#include "core/names.h"

#include <charconv>
#include <cstdint>

namespace tginvite::core {
namespace {

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// "-?[1-9][0-9]{0,18}" whose value fits int64 (a chat id Telegram could give).
bool IsChatId(std::string_view chat) {
  std::string_view digits = chat.starts_with('-') ? chat.substr(1) : chat;
  if (digits.empty() || digits.size() > 19 || digits[0] == '0') return false;
  for (char c : digits) {
    if (!IsAsciiDigit(c)) return false;
  }
  int64_t value = 0;
  const auto [end, error] = std::from_chars(chat.data(), chat.data() + chat.size(), value);
  return error == std::errc() && end == chat.data() + chat.size();
}

// "@[A-Za-z][A-Za-z0-9_]{3,31}".
bool IsPublicChannel(std::string_view chat) {
  if (!chat.starts_with('@')) return false;
  std::string_view name = chat.substr(1);
  if (name.size() < 4 || name.size() > 32 || !IsAsciiLetter(name[0])) return false;
  for (char c : name) {
    if (!IsAsciiLetter(c) && !IsAsciiDigit(c) && c != '_') return false;
  }
  return true;
}

}  // namespace

Status ValidateName(std::string_view what, std::string_view name) {
  bool valid =
      !name.empty() && name.size() <= 64 && (IsAsciiLetter(name[0]) || IsAsciiDigit(name[0]));
  for (size_t i = 1; valid && i < name.size(); ++i) {
    const char c = name[i];
    valid = IsAsciiLetter(c) || IsAsciiDigit(c) || c == '.' || c == '_' || c == '-';
  }
  if (!valid) {
    return Fail(ErrorCode::kInvalidArgument,
                "{} name \"{}\": use 1 to 64 letters, digits, '.', '_' or '-', starting with a "
                "letter or digit",
                what, name);
  }
  return Ok();
}

Status ValidateChat(std::string_view chat) {
  if (IsChatId(chat) || IsPublicChannel(chat)) return Ok();
  return Fail(ErrorCode::kInvalidArgument,
              "chat \"{}\": expected a chat id such as -1001234567890 or a public @channelname",
              chat);
}

}  // namespace tginvite::core
