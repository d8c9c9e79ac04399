#include "core/secret.h"

#include <algorithm>
#include <cctype>

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

}  // namespace tginvite::core
