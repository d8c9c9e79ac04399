#include "dispatch/send_window.h"

#include <date/tz.h>

namespace tginvite::dispatch {
namespace {

const date::time_zone* ZoneOf(const core::Settings& settings) {
  try {
    return date::locate_zone(settings.window_tz.empty() ? "UTC" : settings.window_tz);
  } catch (const std::exception&) {
    return date::locate_zone("UTC");
  }
}

bool Contains(std::chrono::minutes start, std::chrono::minutes end, std::chrono::minutes at) {
  if (start < end) return start <= at && at < end;
  return at >= start || at < end;  // spans midnight
}

}  // namespace

bool InSendWindow(const core::Settings& settings, core::TimePoint now) {
  if (!settings.window_start || !settings.window_end) return true;
  auto local = date::make_zoned(ZoneOf(settings), now).get_local_time();
  auto minutes =
      std::chrono::duration_cast<std::chrono::minutes>(local - date::floor<date::days>(local));
  return Contains(*settings.window_start, *settings.window_end, minutes);
}

core::TimePoint NextWindowOpening(const core::Settings& settings, core::TimePoint now) {
  if (InSendWindow(settings, now)) return now;
  const date::time_zone* zone = ZoneOf(settings);
  auto local = date::make_zoned(zone, now).get_local_time();
  auto day = date::floor<date::days>(local);
  for (int offset = 0; offset <= 2; ++offset) {
    auto opening = day + date::days(offset) + *settings.window_start;
    auto at = std::chrono::time_point_cast<std::chrono::milliseconds>(
        zone->to_sys(opening, date::choose::latest));
    if (at > now) return at;
  }
  return now + std::chrono::hours(24);
}

}  // namespace tginvite::dispatch
