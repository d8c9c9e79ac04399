// The typed settings registry: every runtime setting's key, type, default and allowed range; the
// validation applied when a value is written; and the resolution of stored text into typed,
// effective values for one scope (a campaign's overrides over the global values over defaults).
//
// Values are stored as canonical text (ValidateSetting's result). Resolution never fails: the
// worker re-reads settings every cycle, so a stored value that has become invalid (edited in the
// database, or written by an older version) falls back and is reported as a warning instead.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace tginvite::core {

enum class SettingType {
  kInt,        // a decimal integer in min..max
  kDuration,   // see core/duration.h; min..max in milliseconds
  kEnum,       // one of the words of `range`, separated by '|'
  kUrl,        // empty, or a proxy URL: http://, https://, socks5:// or socks5h:// and a host;
               // printable ASCII
  kTimeOfDay,  // empty, or HH:MM in 00:00..23:59
  kTimeZone,   // empty, or an IANA time zone name such as Europe/Berlin
};

struct SettingSpec {
  std::string_view key;
  SettingType type;
  std::string_view default_value;  // canonical text
  std::string_view range;          // for people: "0..10000", "0s..24h", "hold|resend"
  std::string_view description;    // one line
  int64_t min = 0;                 // kInt: the value; kDuration: milliseconds
  int64_t max = 0;
};

// Every setting, in the documented order (DESIGN.md, "Settings").
std::span<const SettingSpec> AllSettings();

// The spec of `key`, or nullptr if there is no such setting.
const SettingSpec* FindSetting(std::string_view key);

// Validates `value` for `key` (surrounding whitespace ignored) and returns its canonical text:
// " 10m " -> "10m", "600000ms" -> "10m", "HOLD" -> "hold", "9:05" -> "09:05". Errors:
// kNotFound `unknown setting "foo"`; kInvalidArgument naming the key and what is allowed,
// `pacing.batch_size: must be an integer in 0..10000, got "abc"`.
[[nodiscard]] Result<std::string> ValidateSetting(std::string_view key, std::string_view value);

// Whether a campaign may override the setting. Limits of a sending account (telegram.*,
// dispatch.in_flight, dispatch.lease) and of its HTTP client (http.*) hold for all of its
// campaigns at once, so they are global only.
enum class SettingScopeKind { kGlobalOnly, kCampaignOverridable };
SettingScopeKind ScopeOf(const SettingSpec& spec);

// `value` as it may be shown to people: the credentials of a proxy URL become "***"
// ("socks5://***@proxy:1080"). Everything that prints a setting's value goes through it.
std::string DisplayValue(const SettingSpec& spec, std::string_view value);

// Stored values by key: what one scope (global, or one campaign's overrides) holds.
using RawSettings = std::map<std::string, std::string, std::less<>>;

// Checks the rules between settings for the values that would be in force in one scope:
// `campaign` overrides `global`, defaults fill the rest, and a stored value that is invalid on its
// own counts as what ResolveSettings would use instead. Rules: pacing.delay_min <=
// pacing.delay_max, dispatch.backoff_base <= dispatch.backoff_cap, window.start and window.end
// different when both are set (one of them alone may be stored: resolution ignores half a
// window, with a warning, until the other is set). kInvalidArgument, e.g.
// "pacing.delay_min (200s) must not exceed pacing.delay_max (3m)". Call it before storing a
// value, with the value in place.
[[nodiscard]] Status CheckSettingRules(const RawSettings& global, const RawSettings& campaign);

// The effective values of every setting; a default-constructed Settings holds the defaults.
struct Settings {
  enum class Ambiguous { kHold, kResend };

  int batch_size = 5;  // 0: no batching
  std::chrono::milliseconds cycle_interval{600'000};
  std::chrono::milliseconds delay_min{120'000};
  std::chrono::milliseconds delay_max{180'000};
  // Per account in any 24 hours: adds and messages (0: no cap), and (user accounts) phone
  // numbers looked up with importContacts.
  int daily_cap = 50;
  // pacing.daily_cap for a bot: its value when stored, else 0 (no cap), so that the default of 50
  // caps only user accounts.
  int bot_daily_cap = 0;
  int import_contacts_per_day = 50;
  int rate = 30;  // messages per second per account
  std::chrono::milliseconds chat_interval{1'000};
  int group_rate = 20;  // messages per minute to one group
  int in_flight = 16;
  std::chrono::milliseconds lease{30'000};
  int max_attempts = 8;
  std::chrono::milliseconds backoff_base{5'000};
  std::chrono::milliseconds backoff_cap{3'600'000};
  Ambiguous ambiguous = Ambiguous::kHold;
  std::chrono::milliseconds http_timeout{15'000};
  std::string http_proxy;  // empty: no proxy
  // The daily send window in minutes after midnight in window_tz; both set or neither. An end
  // before the start means the window spans midnight.
  std::optional<std::chrono::minutes> window_start;
  std::optional<std::chrono::minutes> window_end;
  std::string window_tz = "UTC";  // an IANA zone; "UTC" when none is stored

  bool operator==(const Settings&) const = default;
};

enum class SettingSource {
  kDefault,          // nothing stored
  kGlobal,           // the global value
  kCampaign,         // the campaign's override
  kInvalidFallback,  // the stored value was invalid or broke a rule; see the warnings
};

// "default", "global", "campaign" or "invalid" (a stored value that fell back).
std::string_view ToString(SettingSource source);

struct ResolvedSetting {
  const SettingSpec* spec;
  std::string value;  // canonical text in force
  SettingSource source;
};

struct SettingWarning {
  std::string key;
  // e.g. `setting pacing.batch_size: stored value "lots" is invalid (must be an integer in
  // 0..10000); using default 5`
  std::string message;
};

struct ResolvedSettings {
  Settings settings;
  std::vector<ResolvedSetting> entries;  // one per setting, in AllSettings() order
  std::vector<SettingWarning> warnings;
};

// Resolves the settings in force for one scope; never fails. A stored value that is invalid falls
// back to the next scope's valid value or the default; settings whose stored values break a rule
// between them all fall back to their defaults; unknown stored keys are ignored. Each of these
// adds a warning.
ResolvedSettings ResolveSettings(const RawSettings& global, const RawSettings& campaign);

// Remembers the warnings already given, so a loop that resolves settings every cycle reports each
// (key, message) once; the message names the bad value, so a different bad value is reported
// again. Thread-safe.
class WarnOnce {
 public:
  // True the first time `warning` is seen.
  bool ShouldWarn(const SettingWarning& warning);

 private:
  std::mutex mu_;
  std::set<std::pair<std::string, std::string>, std::less<>> seen_;
};

}  // namespace tginvite::core
