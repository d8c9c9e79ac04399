// UTF-8 validation and length measures. Telegram limits text lengths in UTF-16 code units, so
// Utf16Length is the one to compare against Bot API limits.
#pragma once

#include <cstddef>
#include <string_view>

namespace tginvite::core {

// True if `s` is well-formed UTF-8: no overlong forms, no surrogates (U+D800..U+DFFF), nothing
// above U+10FFFF, no truncated or stray continuation bytes.
bool IsValidUtf8(std::string_view s);

// The number of UTF-16 code units `valid_utf8` encodes to. The input must be valid UTF-8.
size_t Utf16Length(std::string_view valid_utf8);

// The number of Unicode code points in `valid_utf8`. The input must be valid UTF-8.
size_t CodePointCount(std::string_view valid_utf8);

}  // namespace tginvite::core
