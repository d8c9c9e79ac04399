#include "core/utf8.h"

#include <cstdint>
#include <string>

namespace tginvite::core {
namespace {

bool IsContinuation(uint8_t byte) { return (byte & 0xC0) == 0x80; }

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const uint8_t* const end = p + s.size();
  while (p < end) {
    const uint8_t lead = *p;
    if (lead < 0x80) {
      ++p;
      continue;
    }
    // The second byte's range depends on the lead byte: this rules out overlong forms,
    // surrogates and code points above U+10FFFF (Unicode table 3-7).
    size_t length = 0;
    uint8_t second_min = 0x80;
    uint8_t second_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead == 0xE0) {
      length = 3;
      second_min = 0xA0;
    } else if (lead >= 0xE1 && lead <= 0xEC) {
      length = 3;
    } else if (lead == 0xED) {
      length = 3;
      second_max = 0x9F;
    } else if (lead >= 0xEE && lead <= 0xEF) {
      length = 3;
    } else if (lead == 0xF0) {
      length = 4;
      second_min = 0x90;
    } else if (lead >= 0xF1 && lead <= 0xF3) {
      length = 4;
    } else if (lead == 0xF4) {
      length = 4;
      second_max = 0x8F;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) < length) return false;
    if (p[1] < second_min || p[1] > second_max) return false;
    for (size_t i = 2; i < length; ++i) {
      if (!IsContinuation(p[i])) return false;
    }
    p += length;
  }
  return true;
}

size_t Utf16Length(std::string_view valid_utf8) {
  size_t units = 0;
  for (const char c : valid_utf8) {
    const auto byte = static_cast<uint8_t>(c);
    if (!IsContinuation(byte)) ++units;
    if (byte >= 0xF0) ++units;  // a four-byte sequence is a surrogate pair in UTF-16
  }
  return units;
}

std::string QuotedForMessage(std::string_view text) {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out = "\"";
  out.reserve(text.size() + 2);
  size_t pos = 0;
  while (pos < text.size()) {
    const auto byte = static_cast<uint8_t>(text[pos]);
    const size_t length = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2;
    if (byte >= 0x80 && pos + length <= text.size() && IsValidUtf8(text.substr(pos, length))) {
      out.append(text.substr(pos, length));
      pos += length;
      continue;
    }
    switch (byte) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte >= 0x20 && byte < 0x7F) {
          out += static_cast<char>(byte);
        } else {
          out += "\\x";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xF];
        }
    }
    ++pos;
  }
  out += '"';
  return out;
}

size_t CodePointCount(std::string_view valid_utf8) {
  size_t count = 0;
  for (const char c : valid_utf8) {
    if (!IsContinuation(static_cast<uint8_t>(c))) ++count;
  }
  return count;
}

}  // namespace tginvite::core
