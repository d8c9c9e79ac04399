// Instants written as ISO 8601 with a zone, as operators give a campaign's schedule
// (`2026-12-24T09:00:00+01:00`, `2026-12-24T08:00:00Z`) and as the edges show it (UTC, `Z`).
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace tginvite::core {

// Unix milliseconds of `text`: YYYY-MM-DDTHH:MM[:SS[.fraction]] followed by `Z` or an offset
// (+HH:MM, +HHMM, +HH). A time without a zone is kInvalidArgument — it would mean a different
// instant on every machine — as is anything else that is not such an instant (years 1970..9999).
[[nodiscard]] Result<int64_t> ParseIsoInstant(std::string_view text);

// `2026-12-24T08:00:00Z` (milliseconds shown only when not zero: `...:00.250Z`).
std::string FormatIsoUtc(int64_t unix_ms);

}  // namespace tginvite::core
