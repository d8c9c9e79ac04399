// Redaction of bot tokens from text that may be shown: URLs, the HTTP client's error messages,
// server descriptions, log lines. A Bot API token travels in the URL path (/bot<token>/method), so
// anything that can quote a URL can quote the token.
#pragma once

#include <string>
#include <string_view>

#include "core/secret.h"

namespace tginvite::telegram {

// Replaces the token segment of every Bot API path: "/bot<anything>/" becomes "/bot<redacted>/"
// (also when the segment ends the text, or ends at '?', '#', whitespace or a quote).
std::string RedactBotPaths(std::string_view text);

// RedactBotPaths, then every occurrence of `token`, of its URL-encoded form, and of its secret
// part (what follows the ':'), each replaced by "<redacted>". An empty token redacts paths only.
std::string Redact(std::string_view text, const core::Secret& token);

}  // namespace tginvite::telegram
