#include "core/settings.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <exception>

#include <date/tz.h>

#include "core/duration.h"
#include "core/utf8.h"

namespace tginvite::core {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kSecond = 1'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;

constexpr std::array kSettings = {
    SettingSpec{"pacing.batch_size", SettingType::kInt, "5", "0..10000",
                "invitations per cycle; 0 = no batching", 0, 10'000},
    SettingSpec{"pacing.cycle_interval", SettingType::kDuration, "10m", "0s..24h",
                "pause between cycles", 0, 24 * kHour},
    SettingSpec{"pacing.delay_min", SettingType::kDuration, "2m", "0s..24h",
                "shortest random gap between two invitations of a cycle", 0, 24 * kHour},
    SettingSpec{"pacing.delay_max", SettingType::kDuration, "3m", "0s..24h",
                "longest random gap between two invitations of a cycle", 0, 24 * kHour},
    SettingSpec{"pacing.daily_cap", SettingType::kInt, "50", "0..10000",
                "adds and messages per account in any 24 hours; 0 = no cap; the default caps user "
                "accounts only, a value set caps bots too", 0,
                10'000},
    SettingSpec{"tdlib.import_contacts_per_day", SettingType::kInt, "50", "0..1000",
                "user accounts: phone numbers looked up per account in any 24 hours", 0, 1'000},
    SettingSpec{"telegram.rate", SettingType::kInt, "30", "1..1000",
                "messages per second per account", 1, 1'000},
    SettingSpec{"telegram.chat_interval", SettingType::kDuration, "1s", "0s..1h",
                "minimum gap between two messages to one chat", 0, kHour},
    SettingSpec{"telegram.group_rate", SettingType::kInt, "20", "1..1000",
                "messages per minute to one group", 1, 1'000},
    SettingSpec{"dispatch.in_flight", SettingType::kInt, "16", "1..256",
                "requests in flight per account", 1, 256},
    SettingSpec{"dispatch.lease", SettingType::kDuration, "30s", "1s..1h",
                "claim lease; an expired lease is rescued", kSecond, kHour},
    SettingSpec{"dispatch.max_attempts", SettingType::kInt, "8", "1..100",
                "transient failures before an invitation is failed", 1, 100},
    SettingSpec{"dispatch.backoff_base", SettingType::kDuration, "5s", "100ms..1h",
                "first retry delay of the exponential backoff", 100, kHour},
    SettingSpec{"dispatch.backoff_cap", SettingType::kDuration, "1h", "1s..24h",
                "longest retry delay of the exponential backoff", kSecond, 24 * kHour},
    SettingSpec{"dispatch.ambiguous", SettingType::kEnum, "hold", "hold|resend",
                "after an ambiguous send: hold it as unknown, or resend it"},
    SettingSpec{"http.timeout", SettingType::kDuration, "15s", "1s..5m",
                "timeout of one Telegram request", kSecond, 5 * kMinute},
    SettingSpec{"http.proxy", SettingType::kUrl, "",
                "empty, or http://, https://, socks5://, socks5h:// and a host",
                "proxy for Telegram requests"},
    SettingSpec{"window.start", SettingType::kTimeOfDay, "", "00:00..23:59, or empty",
                "start of the daily send window (empty: no window)"},
    SettingSpec{"window.end", SettingType::kTimeOfDay, "", "00:00..23:59, or empty",
                "end of the daily send window (empty: no window)"},
    SettingSpec{"window.tz", SettingType::kTimeZone, "", "an IANA time zone, or empty (UTC)",
                "time zone of the send window, e.g. Europe/Berlin"},
};

constexpr std::array<std::string_view, 4> kProxySchemes = {"http", "https", "socks5", "socks5h"};

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  const size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ToLower);
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (ToLower(c) >= 'a' && ToLower(c) <= 'z'); }

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// What a value of `spec` must be, for messages: "must be an integer in 0..10000".
std::string Requirement(const SettingSpec& spec) {
  switch (spec.type) {
    case SettingType::kInt:
      return fmt::format("must be an integer in {}", spec.range);
    case SettingType::kDuration:
      return fmt::format("must be a duration in {}", spec.range);
    case SettingType::kEnum:
      return fmt::format("must be one of {}", spec.range);
    case SettingType::kUrl:
      return "must be empty or a proxy URL: http://, https://, socks5:// or socks5h:// and a host";
    case SettingType::kTimeOfDay:
      return "must be a time of day HH:MM in 00:00..23:59, or empty";
    case SettingType::kTimeZone:
      return "must be an IANA time zone such as Europe/Berlin, or empty";
  }
  return "is invalid";
}

// `value` quoted for a message: escaped, cut short if long, a proxy's credentials hidden.
std::string Shown(const SettingSpec* spec, std::string_view value) {
  constexpr size_t kMaxShown = 64;
  std::string text = spec != nullptr ? DisplayValue(*spec, value) : std::string(value);
  if (text.size() > kMaxShown) {
    return QuotedForMessage(std::string_view(text).substr(0, kMaxShown)) + "...";
  }
  return QuotedForMessage(text);
}

}  // namespace

SettingScopeKind ScopeOf(const SettingSpec& spec) {
  const std::string_view key = spec.key;
  if (key.starts_with("telegram.") || key.starts_with("http.") || key.starts_with("tdlib.") ||
      key == "dispatch.in_flight" || key == "dispatch.lease" || key == "pacing.daily_cap") {
    return SettingScopeKind::kGlobalOnly;
  }
  return SettingScopeKind::kCampaignOverridable;
}

std::string DisplayValue(const SettingSpec& spec, std::string_view value) {
  std::string text(value);
  if (spec.type == SettingType::kUrl) {
    const size_t authority = text.find("://");
    const size_t at = text.rfind('@');
    if (authority != std::string::npos && at != std::string::npos && at > authority) {
      text.replace(authority + 3, at - authority - 3, "***");
    }
  }
  return text;
}

namespace {

std::string ShownCanonical(std::string_view canonical) {
  return canonical.empty() ? "(empty)" : std::string(canonical);
}

std::optional<std::string> CanonicalDuration(const SettingSpec& spec, std::string_view text) {
  const Result<milliseconds> d = ParseDuration(text);
  if (!d || d->count() < spec.min || d->count() > spec.max) return std::nullopt;
  return FormatDuration(*d);
}

std::optional<std::string> CanonicalEnum(const SettingSpec& spec, std::string_view text) {
  const std::string lower = Lower(text);
  std::string_view choices = spec.range;
  while (!choices.empty()) {
    const size_t bar = choices.find('|');
    const std::string_view choice = choices.substr(0, bar);
    if (choice == lower) return lower;
    choices = bar == std::string_view::npos ? std::string_view() : choices.substr(bar + 1);
  }
  return std::nullopt;
}

bool IsValidHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    const std::string_view inner = host.substr(1, host.size() - 2);
    return !inner.empty() && std::all_of(inner.begin(), inner.end(), [](char c) {
      return IsDigit(c) || (ToLower(c) >= 'a' && ToLower(c) <= 'f') || c == ':' || c == '.';
    });
  }
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return IsAlnum(c) || c == '-' || c == '.' || c == '_';
  });
}

std::optional<std::string> CanonicalUrl(std::string_view text) {
  if (text.empty()) return std::string();
  // Printable ASCII only: libcurl takes nothing else, and a value is shown in JSON, where bytes
  // that are not UTF-8 cannot go.
  const bool has_other_byte = std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F;
  });
  if (has_other_byte) return std::nullopt;
  const size_t separator = text.find("://");
  if (separator == std::string_view::npos) return std::nullopt;
  const std::string scheme = Lower(text.substr(0, separator));
  if (std::find(kProxySchemes.begin(), kProxySchemes.end(), scheme) == kProxySchemes.end()) {
    return std::nullopt;
  }
  const std::string_view rest = text.substr(separator + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  const size_t colon = authority.rfind(':');
  const size_t bracket = authority.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    const std::optional<int64_t> number = ParseInt(port);
    if (!std::all_of(port.begin(), port.end(), IsDigit) || !number || *number < 1 ||
        *number > 65535) {
      return std::nullopt;
    }
  }
  if (!IsValidHost(host)) return std::nullopt;
  return scheme + std::string(text.substr(separator));
}

std::optional<std::chrono::minutes> ParseTimeOfDay(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon < 1 || colon > 2 || text.size() != colon + 3) {
    return std::nullopt;
  }
  const std::string_view hours = text.substr(0, colon);
  const std::string_view minutes = text.substr(colon + 1);
  if (!std::all_of(hours.begin(), hours.end(), IsDigit) ||
      !std::all_of(minutes.begin(), minutes.end(), IsDigit)) {
    return std::nullopt;
  }
  const int64_t h = *ParseInt(hours);
  const int64_t m = *ParseInt(minutes);
  if (h > 23 || m > 59) return std::nullopt;
  return std::chrono::minutes(h * 60 + m);
}

std::optional<std::string> CanonicalTimeOfDay(std::string_view text) {
  if (text.empty()) return std::string();
  const std::optional<std::chrono::minutes> t = ParseTimeOfDay(text);
  if (!t) return std::nullopt;
  return fmt::format("{:02}:{:02}", t->count() / 60, t->count() % 60);
}

std::optional<std::string> CanonicalTimeZone(std::string_view text) {
  if (text.empty()) return std::string();
  const bool plausible = std::all_of(text.begin(), text.end(), [](char c) {
    return IsAlnum(c) || c == '/' || c == '_' || c == '-' || c == '+';
  });
  if (!plausible) return std::nullopt;
  try {
    date::locate_zone(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return std::string(text);
}

// The canonical text of a valid `text` (already trimmed), or nullopt.
std::optional<std::string> Canonical(const SettingSpec& spec, std::string_view text) {
  switch (spec.type) {
    case SettingType::kInt: {
      const std::optional<int64_t> n = ParseInt(text);
      if (!n || *n < spec.min || *n > spec.max) return std::nullopt;
      return std::to_string(*n);
    }
    case SettingType::kDuration:
      return CanonicalDuration(spec, text);
    case SettingType::kEnum:
      return CanonicalEnum(spec, text);
    case SettingType::kUrl:
      return CanonicalUrl(text);
    case SettingType::kTimeOfDay:
      return CanonicalTimeOfDay(text);
    case SettingType::kTimeZone:
      return CanonicalTimeZone(text);
  }
  return std::nullopt;
}

// The typed readers below take canonical text, which Canonical has checked.
int AsInt(std::string_view canonical) { return static_cast<int>(ParseInt(canonical).value_or(0)); }
milliseconds AsDuration(std::string_view canonical) {
  const Result<milliseconds> d = ParseDuration(canonical);
  return d ? *d : milliseconds(0);
}
std::optional<std::chrono::minutes> AsTimeOfDay(std::string_view canonical) {
  return ParseTimeOfDay(canonical);
}

// The canonical values in force, by key, before the rules between settings are applied.
struct ResolvedValues {
  std::vector<ResolvedSetting> entries;
  std::vector<SettingWarning> warnings;

  std::string_view Value(std::string_view key) const {
    for (const ResolvedSetting& entry : entries) {
      if (entry.spec->key == key) return entry.value;
    }
    return {};
  }
  // True when the value in force was stored (globally or for the campaign), not a default.
  bool Stored(std::string_view key) const {
    for (const ResolvedSetting& entry : entries) {
      if (entry.spec->key == key) {
        return entry.source == SettingSource::kGlobal || entry.source == SettingSource::kCampaign;
      }
    }
    return false;
  }
};

ResolvedValues ResolveValues(const RawSettings& global, const RawSettings& campaign) {
  struct Scope {
    const RawSettings& raw;
    SettingSource source;
    std::string_view stored;  // how a warning names a value from this scope
    std::string_view name;
  };
  const std::array<Scope, 2> scopes = {{
      {campaign, SettingSource::kCampaign, "stored campaign value", "campaign"},
      {global, SettingSource::kGlobal, "stored value", "global"},
  }};

  ResolvedValues out;
  for (const SettingSpec& spec : kSettings) {
    struct Rejected {
      std::string_view stored;
      std::string_view raw;
    };
    std::vector<Rejected> rejected;
    std::optional<ResolvedSetting> found;
    for (const Scope& scope : scopes) {
      const auto it = scope.raw.find(spec.key);
      if (it == scope.raw.end()) continue;
      if (std::optional<std::string> value = Canonical(spec, Trim(it->second))) {
        const SettingSource source =
            rejected.empty() ? scope.source : SettingSource::kInvalidFallback;
        found = ResolvedSetting{&spec, *std::move(value), source};
        break;
      }
      rejected.push_back({scope.stored, it->second});
    }
    std::string fallback_text;
    if (found) {
      fallback_text = fmt::format("global value {}", ShownCanonical(found->value));
    } else {
      const SettingSource source =
          rejected.empty() ? SettingSource::kDefault : SettingSource::kInvalidFallback;
      found = ResolvedSetting{&spec, std::string(spec.default_value), source};
      fallback_text = fmt::format("default {}", ShownCanonical(spec.default_value));
    }
    for (const Rejected& r : rejected) {
      out.warnings.push_back(SettingWarning{
          std::string(spec.key),
          fmt::format("setting {}: {} {} is invalid ({}); using {}", spec.key, r.stored,
                      Shown(&spec, r.raw), Requirement(spec), fallback_text)});
    }
    out.entries.push_back(*std::move(found));
  }

  for (const Scope& scope : {scopes[1], scopes[0]}) {
    for (const auto& [key, value] : scope.raw) {
      if (FindSetting(key) != nullptr) continue;
      out.warnings.push_back(SettingWarning{
          key, fmt::format("unknown setting {} in the stored {} settings is ignored (value {})",
                           Shown(nullptr, key), scope.name, Shown(nullptr, value))});
    }
  }
  return out;
}

// A rule between two settings; Check returns what is wrong, or nullopt.
struct Rule {
  using Check = std::optional<std::string> (*)(const Rule& rule, std::string_view first,
                                               std::string_view second);
  std::string_view first;
  std::string_view second;
  Check check;        // what resolution enforces
  Check write_check;  // what a write must not break (may allow intermediate states)
};

std::optional<std::string> CheckNotAbove(const Rule& rule, std::string_view first,
                                         std::string_view second) {
  if (AsDuration(first) <= AsDuration(second)) return std::nullopt;
  return fmt::format("{} ({}) must not exceed {} ({})", rule.first, first, rule.second, second);
}

std::optional<std::string> CheckWindow(const Rule& rule, std::string_view start,
                                       std::string_view end) {
  if (start.empty() != end.empty()) {
    const auto shown = [](std::string_view v) { return v.empty() ? "empty" : v; };
    return fmt::format("{} ({}) and {} ({}) must both be set or both be empty", rule.first,
                       shown(start), rule.second, shown(end));
  }
  if (!start.empty() && start == end) {
    return fmt::format("{} and {} must differ (both are {}); leave both empty for no window",
                       rule.first, rule.second, start);
  }
  return std::nullopt;
}

// On write a half-set window is allowed: the operator sets its two ends one command at a time,
// and until both are set resolution ignores it (with a warning).
std::optional<std::string> CheckWindowOnWrite(const Rule& rule, std::string_view start,
                                              std::string_view end) {
  if (start.empty() || end.empty()) return std::nullopt;
  return CheckWindow(rule, start, end);
}

constexpr std::array kRules = {
    Rule{"pacing.delay_min", "pacing.delay_max", CheckNotAbove, CheckNotAbove},
    Rule{"dispatch.backoff_base", "dispatch.backoff_cap", CheckNotAbove, CheckNotAbove},
    Rule{"window.start", "window.end", CheckWindow, CheckWindowOnWrite},
};

Settings BuildSettings(const ResolvedValues& values) {
  const auto v = [&values](std::string_view key) { return values.Value(key); };
  Settings s;
  s.batch_size = AsInt(v("pacing.batch_size"));
  s.cycle_interval = AsDuration(v("pacing.cycle_interval"));
  s.delay_min = AsDuration(v("pacing.delay_min"));
  s.delay_max = AsDuration(v("pacing.delay_max"));
  s.daily_cap = AsInt(v("pacing.daily_cap"));
  s.bot_daily_cap = values.Stored("pacing.daily_cap") ? s.daily_cap : 0;
  s.import_contacts_per_day = AsInt(v("tdlib.import_contacts_per_day"));
  s.rate = AsInt(v("telegram.rate"));
  s.chat_interval = AsDuration(v("telegram.chat_interval"));
  s.group_rate = AsInt(v("telegram.group_rate"));
  s.in_flight = AsInt(v("dispatch.in_flight"));
  s.lease = AsDuration(v("dispatch.lease"));
  s.max_attempts = AsInt(v("dispatch.max_attempts"));
  s.backoff_base = AsDuration(v("dispatch.backoff_base"));
  s.backoff_cap = AsDuration(v("dispatch.backoff_cap"));
  s.ambiguous = v("dispatch.ambiguous") == "resend" ? Settings::Ambiguous::kResend
                                                    : Settings::Ambiguous::kHold;
  s.http_timeout = AsDuration(v("http.timeout"));
  s.http_proxy = v("http.proxy");
  s.window_start = AsTimeOfDay(v("window.start"));
  s.window_end = AsTimeOfDay(v("window.end"));
  s.window_tz = v("window.tz").empty() ? "UTC" : v("window.tz");
  return s;
}

}  // namespace

std::span<const SettingSpec> AllSettings() { return kSettings; }

const SettingSpec* FindSetting(std::string_view key) {
  for (const SettingSpec& spec : kSettings) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

Result<std::string> ValidateSetting(std::string_view key, std::string_view value) {
  const SettingSpec* spec = FindSetting(key);
  if (spec == nullptr) {
    return Fail(ErrorCode::kNotFound, "unknown setting {}", Shown(nullptr, key));
  }
  const std::string_view trimmed = Trim(value);
  if (std::optional<std::string> canonical = Canonical(*spec, trimmed)) {
    return *std::move(canonical);
  }
  std::string hint;
  if (spec->type == SettingType::kDuration && !trimmed.empty() &&
      std::all_of(trimmed.begin(), trimmed.end(), IsDigit)) {
    hint = fmt::format(" (no unit: write e.g. {}s)", trimmed);
  }
  return Fail(ErrorCode::kInvalidArgument, "{}: {}, got {}{}", spec->key, Requirement(*spec),
              Shown(spec, value), hint);
}

Status CheckSettingRules(const RawSettings& global, const RawSettings& campaign) {
  const ResolvedValues values = ResolveValues(global, campaign);
  for (const Rule& rule : kRules) {
    if (std::optional<std::string> broken =
            rule.write_check(rule, values.Value(rule.first), values.Value(rule.second))) {
      return Fail(ErrorCode::kInvalidArgument, "{}", *broken);
    }
  }
  return Ok();
}

std::string_view ToString(SettingSource source) {
  switch (source) {
    case SettingSource::kDefault:
      return "default";
    case SettingSource::kGlobal:
      return "global";
    case SettingSource::kCampaign:
      return "campaign";
    case SettingSource::kInvalidFallback:
      return "invalid";
  }
  return "default";
}

ResolvedSettings ResolveSettings(const RawSettings& global, const RawSettings& campaign) {
  ResolvedValues values = ResolveValues(global, campaign);
  for (const Rule& rule : kRules) {
    const std::optional<std::string> broken =
        rule.check(rule, values.Value(rule.first), values.Value(rule.second));
    if (!broken) continue;
    std::vector<std::string_view> defaults;
    for (ResolvedSetting& entry : values.entries) {
      if (entry.spec->key != rule.first && entry.spec->key != rule.second) continue;
      entry.value = std::string(entry.spec->default_value);
      entry.source = SettingSource::kInvalidFallback;
      defaults.push_back(entry.spec->default_value);
    }
    values.warnings.push_back(SettingWarning{
        std::string(rule.first),
        fmt::format("settings: {}; using defaults {} and {}", *broken,
                    ShownCanonical(defaults.at(0)), ShownCanonical(defaults.at(1)))});
  }
  Settings settings = BuildSettings(values);
  return ResolvedSettings{std::move(settings), std::move(values.entries),
                          std::move(values.warnings)};
}

bool WarnOnce::ShouldWarn(const SettingWarning& warning) {
  std::lock_guard lock(mu_);
  return seen_.emplace(warning.key, warning.message).second;
}

}  // namespace tginvite::core
