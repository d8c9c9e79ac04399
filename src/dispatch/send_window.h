// The daily send window (window.start, window.end, window.tz): when a campaign may send.
#pragma once

#include "core/clock.h"
#include "core/settings.h"

namespace tginvite::dispatch {

// True when `now` falls inside the window (always, when no window is set). A window whose end is
// before its start spans midnight. An unknown zone counts as UTC (settings validate zones on
// write, and resolution falls back to the default for a bad stored one).
bool InSendWindow(const core::Settings& settings, core::TimePoint now);

// The next time the window opens after `now`; `now` itself when it is open.
core::TimePoint NextWindowOpening(const core::Settings& settings, core::TimePoint now);

}  // namespace tginvite::dispatch
