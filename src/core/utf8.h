// UTF-8 validation and length measures. Telegram limits text lengths in UTF-16 code units, so
// Utf16Length is the one to compare against Bot API limits.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tginvite::core {

// True if `s` is well-formed UTF-8: no overlong forms, no surrogates (U+D800..U+DFFF), nothing
// above U+10FFFF, no truncated or stray continuation bytes.
bool IsValidUtf8(std::string_view s);

// The number of UTF-16 code units `valid_utf8` encodes to. The input must be valid UTF-8.
size_t Utf16Length(std::string_view valid_utf8);

// The number of Unicode code points in `valid_utf8`. The input must be valid UTF-8.
size_t CodePointCount(std::string_view valid_utf8);

// `text` in double quotes for a message, as valid UTF-8 whatever `text` holds: '"' and '\' are
// escaped with '\', newline, carriage return and tab are written \n \r \t, other ASCII control
// characters and every byte of an invalid sequence \xNN (lower-case hex); the rest as it is.
// (fmt 9.1's "{:?}" writes nearly the same, but Debian's libspdlog exports fmt 9.0's copy of the
// formatting code, which lets invalid bytes through, and a clang build calls that copy.)
std::string QuotedForMessage(std::string_view text);

}  // namespace tginvite::core
