#include "core/secret.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace tginvite::core {

std::string Secret::Masked() const {
  if (value_.empty()) return "";
  std::string tail = value_.size() > 12 ? value_.substr(value_.size() - 4) : "";
  if (LooksLikeBotToken(value_)) {
    return value_.substr(0, value_.find(':') + 1) + "…" + tail;
  }
  return "…" + tail;
}

bool LooksLikeBotToken(std::string_view token) {
  size_t colon = token.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon > 20) return false;
  auto is_digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  auto is_token_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  };
  std::string_view id = token.substr(0, colon);
  std::string_view key = token.substr(colon + 1);
  return std::all_of(id.begin(), id.end(), is_digit) && key.size() >= 30 &&
         std::all_of(key.begin(), key.end(), is_token_char);
}

std::optional<int64_t> BotIdOfToken(std::string_view token) {
  if (!LooksLikeBotToken(token)) return std::nullopt;
  int64_t id = 0;
  const std::string_view digits = token.substr(0, token.find(':'));
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || end != digits.data() + digits.size() || id <= 0) return std::nullopt;
  return id;
}

std::string UserCredentials::ToText() const {
  return std::to_string(api_id) + ":" + api_hash + ":" + phone;
}

std::optional<UserCredentials> ParseUserCredentials(std::string_view text, std::string* why) {
  auto fail = [why](const char* message) -> std::optional<UserCredentials> {
    if (why != nullptr) *why = message;
    return std::nullopt;
  };
  const size_t first = text.find(':');
  const size_t second = first == std::string_view::npos ? first : text.find(':', first + 1);
  if (second == std::string_view::npos) return fail("expected <api_id>:<api_hash>:<phone>");
  const std::string_view id = text.substr(0, first);
  const std::string_view hash = text.substr(first + 1, second - first - 1);
  const std::string_view phone = text.substr(second + 1);
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  auto is_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  if (id.empty() || id.size() > 10 || !std::all_of(id.begin(), id.end(), is_digit)) {
    return fail("api_id must be the number my.telegram.org shows");
  }
  if (hash.size() != 32 || !std::all_of(hash.begin(), hash.end(), is_hex)) {
    return fail("api_hash must be the 32 hexadecimal digits my.telegram.org shows");
  }
  if (phone.size() < 8 || phone.size() > 16 || phone[0] != '+' ||
      !std::all_of(phone.begin() + 1, phone.end(), is_digit)) {
    return fail("the phone number must be in international form: +4930123456");
  }
  UserCredentials credentials;
  credentials.api_id = std::stoll(std::string(id));
  if (credentials.api_id <= 0 || credentials.api_id > 2147483647) {
    return fail("api_id must be the number my.telegram.org shows");
  }
  credentials.api_hash = std::string(hash);
  credentials.phone = std::string(phone);
  return credentials;
}

}  // namespace tginvite::core
