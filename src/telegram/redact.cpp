#include "telegram/redact.h"

#include <array>

namespace tginvite::telegram {
namespace {

constexpr std::string_view kRedacted = "<redacted>";
constexpr std::string_view kBotPrefix = "/bot";
// A secret shorter than this is too likely to match ordinary text to be worth replacing alone.
constexpr size_t kMinSecretPart = 8;

bool EndsTokenSegment(char c) {
  switch (c) {
    case '/':
    case '?':
    case '#':
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '"':
    case '\'':
    case '<':
    case '>':
      return true;
    default:
      return false;
  }
}

void ReplaceAll(std::string& text, std::string_view needle) {
  if (needle.empty()) return;
  size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    text.replace(pos, needle.size(), kRedacted);
    pos += kRedacted.size();
  }
}

std::string UrlEncoded(std::string_view text) {
  static constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                '8', '9', 'A', 'B', 'C', 'D', 'E', 'F'};
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

}  // namespace

std::string RedactBotPaths(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t hit = text.find(kBotPrefix, pos);
    if (hit == std::string_view::npos) break;
    size_t start = hit + kBotPrefix.size();
    size_t end = start;
    while (end < text.size() && !EndsTokenSegment(text[end])) ++end;
    out.append(text.substr(pos, start - pos));
    if (end > start) out.append(kRedacted);
    pos = end;
  }
  out.append(text.substr(pos));
  return out;
}

std::string Redact(std::string_view text, const core::Secret& token) {
  std::string out = RedactBotPaths(text);
  const std::string& value = token.Reveal();
  if (value.empty()) return out;
  ReplaceAll(out, value);
  std::string encoded = UrlEncoded(value);
  if (encoded != value) ReplaceAll(out, encoded);
  size_t colon = value.find(':');
  if (colon != std::string::npos && value.size() - colon - 1 >= kMinSecretPart) {
    ReplaceAll(out, std::string_view(value).substr(colon + 1));
  }
  return out;
}

}  // namespace tginvite::telegram
