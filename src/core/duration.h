// Durations as users write them: a whole number followed by a unit, ms, s, m, h or d ("750ms",
// "30s", "10m", "1h", "7d"), or a compound of such terms in decreasing units ("1h30m"). "0" alone
// means zero.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/error.h"

namespace tginvite::core {

// Parses `text` exactly (no surrounding whitespace). Negative values, fractions, unknown or
// repeated units, out-of-order compounds and values beyond the range of milliseconds are
// kInvalidArgument "not a duration (use e.g. 750ms, 30s, 10m, 1h, 7d)".
[[nodiscard]] Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// The canonical text of `d`: its value in the largest unit that divides it exactly ("10m",
// "1500ms", "1h"); zero is "0s". ParseDuration(FormatDuration(d)) == d for every d >= 0.
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace tginvite::core
