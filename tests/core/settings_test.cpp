#include "core/settings.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/duration.h"
#include "core/utf8.h"

namespace tginvite::core {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

std::string InvalidMessage(std::string_view key, std::string_view value) {
  const Result<std::string> result = ValidateSetting(key, value);
  if (result) return "accepted as " + *result;
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  return result.error().message;
}

std::string Canonical(std::string_view key, std::string_view value) {
  const Result<std::string> result = ValidateSetting(key, value);
  return result ? *result : "refused: " + result.error().message;
}

const ResolvedSetting& Entry(const ResolvedSettings& resolved, std::string_view key) {
  for (const ResolvedSetting& entry : resolved.entries) {
    if (entry.spec->key == key) return entry;
  }
  ADD_FAILURE() << "no entry for " << key;
  return resolved.entries.front();
}

TEST(SettingsTest, ListsEveryKeyInTheDocumentedOrder) {
  std::vector<std::string_view> keys;
  for (const SettingSpec& spec : AllSettings()) keys.push_back(spec.key);
  EXPECT_EQ(keys, (std::vector<std::string_view>{"pacing.batch_size",
                                                 "pacing.cycle_interval",
                                                 "pacing.delay_min",
                                                 "pacing.delay_max",
                                                 "pacing.daily_cap",
                                                 "tdlib.import_contacts_per_day",
                                                 "telegram.rate",
                                                 "telegram.chat_interval",
                                                 "telegram.group_rate",
                                                 "dispatch.in_flight",
                                                 "dispatch.lease",
                                                 "dispatch.max_attempts",
                                                 "dispatch.backoff_base",
                                                 "dispatch.backoff_cap",
                                                 "dispatch.ambiguous",
                                                 "http.timeout",
                                                 "http.proxy",
                                                 "window.start",
                                                 "window.end",
                                                 "window.tz"}));
}

TEST(SettingsTest, FindSettingKnowsEveryKeyAndNothingElse) {
  for (const SettingSpec& spec : AllSettings()) EXPECT_EQ(FindSetting(spec.key), &spec);
  EXPECT_EQ(FindSetting("pacing"), nullptr);
  EXPECT_EQ(FindSetting("pacing.batch_size "), nullptr);
  EXPECT_EQ(FindSetting(""), nullptr);
}

TEST(SettingsTest, EveryKeyHasItsDocumentedDefault) {
  const ResolvedSettings resolved = ResolveSettings({}, {});
  const std::vector<std::pair<std::string_view, std::string_view>> expected = {
      {"pacing.batch_size", "5"},
      {"pacing.cycle_interval", "10m"},
      {"pacing.delay_min", "2m"},
      {"pacing.delay_max", "3m"},
      {"pacing.daily_cap", "50"},
      {"tdlib.import_contacts_per_day", "50"},
      {"telegram.rate", "30"},
      {"telegram.chat_interval", "1s"},
      {"telegram.group_rate", "20"},
      {"dispatch.in_flight", "16"},
      {"dispatch.lease", "30s"},
      {"dispatch.max_attempts", "8"},
      {"dispatch.backoff_base", "5s"},
      {"dispatch.backoff_cap", "1h"},
      {"dispatch.ambiguous", "hold"},
      {"http.timeout", "15s"},
      {"http.proxy", ""},
      {"window.start", ""},
      {"window.end", ""},
      {"window.tz", ""},
  };
  ASSERT_EQ(resolved.entries.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(resolved.entries[i].spec->key, expected[i].first);
    EXPECT_EQ(resolved.entries[i].value, expected[i].second) << expected[i].first;
    EXPECT_EQ(resolved.entries[i].spec->default_value, expected[i].second);
    EXPECT_EQ(resolved.entries[i].source, SettingSource::kDefault) << expected[i].first;
  }
  EXPECT_TRUE(resolved.warnings.empty());

  const Settings& s = resolved.settings;
  EXPECT_EQ(s.batch_size, 5);
  EXPECT_EQ(s.cycle_interval, milliseconds(600'000));
  EXPECT_EQ(s.delay_min, milliseconds(120'000));
  EXPECT_EQ(s.delay_max, milliseconds(180'000));
  EXPECT_EQ(s.rate, 30);
  EXPECT_EQ(s.chat_interval, milliseconds(1'000));
  EXPECT_EQ(s.group_rate, 20);
  EXPECT_EQ(s.in_flight, 16);
  EXPECT_EQ(s.lease, milliseconds(30'000));
  EXPECT_EQ(s.max_attempts, 8);
  EXPECT_EQ(s.backoff_base, milliseconds(5'000));
  EXPECT_EQ(s.backoff_cap, milliseconds(3'600'000));
  EXPECT_EQ(s.ambiguous, Settings::Ambiguous::kHold);
  EXPECT_EQ(s.http_timeout, milliseconds(15'000));
  EXPECT_EQ(s.http_proxy, "");
  EXPECT_EQ(s.window_start, std::nullopt);
  EXPECT_EQ(s.window_end, std::nullopt);
  EXPECT_EQ(s.window_tz, "UTC");
  EXPECT_EQ(s, Settings{});
}

TEST(SettingsTest, EveryDefaultIsValidAndCanonical) {
  for (const SettingSpec& spec : AllSettings()) {
    EXPECT_EQ(Canonical(spec.key, spec.default_value), spec.default_value) << spec.key;
    EXPECT_FALSE(spec.description.empty()) << spec.key;
  }
}

TEST(SettingsTest, NumericRangesMatchTheirText) {
  for (const SettingSpec& spec : AllSettings()) {
    if (spec.type == SettingType::kInt) {
      EXPECT_EQ(spec.range, std::to_string(spec.min) + ".." + std::to_string(spec.max));
    } else if (spec.type == SettingType::kDuration) {
      EXPECT_EQ(spec.range, FormatDuration(milliseconds(spec.min)) + ".." +
                                FormatDuration(milliseconds(spec.max)));
    }
  }
}

// Invariant I5 (docs/invariants.md)
TEST(SettingsTest, AcceptsBothEndsOfEachRangeAndRefusesOneStepOutside) {
  for (const SettingSpec& spec : AllSettings()) {
    if (spec.type == SettingType::kInt) {
      EXPECT_EQ(Canonical(spec.key, std::to_string(spec.min)), std::to_string(spec.min));
      EXPECT_EQ(Canonical(spec.key, std::to_string(spec.max)), std::to_string(spec.max));
      for (const int64_t outside : {spec.min - 1, spec.max + 1}) {
        EXPECT_EQ(InvalidMessage(spec.key, std::to_string(outside)),
                  std::string(spec.key) + ": must be an integer in " + std::string(spec.range) +
                      ", got \"" + std::to_string(outside) + "\"");
      }
    } else if (spec.type == SettingType::kDuration) {
      const std::string min = FormatDuration(milliseconds(spec.min));
      const std::string max = FormatDuration(milliseconds(spec.max));
      EXPECT_EQ(Canonical(spec.key, min), min);
      EXPECT_EQ(Canonical(spec.key, max), max);
      const std::string above = std::to_string(spec.max + 1) + "ms";
      EXPECT_EQ(InvalidMessage(spec.key, above),
                std::string(spec.key) + ": must be a duration in " + std::string(spec.range) +
                    ", got \"" + above + "\"");
      if (spec.min > 0) {
        const std::string below = std::to_string(spec.min - 1) + "ms";
        EXPECT_EQ(InvalidMessage(spec.key, below),
                  std::string(spec.key) + ": must be a duration in " + std::string(spec.range) +
                      ", got \"" + below + "\"");
      }
    }
  }
}

// Invariant I5 (docs/invariants.md)
TEST(SettingsTest, RefusalsNameTheKeyTheRangeAndTheValue) {
  EXPECT_EQ(InvalidMessage("pacing.batch_size", "abc"),
            "pacing.batch_size: must be an integer in 0..10000, got \"abc\"");
  EXPECT_EQ(InvalidMessage("pacing.batch_size", "-1"),
            "pacing.batch_size: must be an integer in 0..10000, got \"-1\"");
  EXPECT_EQ(InvalidMessage("pacing.batch_size", "2.5"),
            "pacing.batch_size: must be an integer in 0..10000, got \"2.5\"");
  EXPECT_EQ(InvalidMessage("pacing.batch_size", "99999999999999999999"),
            "pacing.batch_size: must be an integer in 0..10000, got \"99999999999999999999\"");
  EXPECT_EQ(InvalidMessage("telegram.rate", "0"),
            "telegram.rate: must be an integer in 1..1000, got \"0\"");
  EXPECT_EQ(InvalidMessage("dispatch.in_flight", "257"),
            "dispatch.in_flight: must be an integer in 1..256, got \"257\"");
  EXPECT_EQ(InvalidMessage("pacing.cycle_interval", "25h"),
            "pacing.cycle_interval: must be a duration in 0s..24h, got \"25h\"");
  // Found by tests/fuzz/settings_fuzz.cpp (clang build): the value is quoted as valid UTF-8 even
  // when it is not, since messages go out in JSON.
  EXPECT_EQ(InvalidMessage("pacing.batch_size", "\xFF\xFE"),
            R"(pacing.batch_size: must be an integer in 0..10000, got "\xff\xfe")");
  EXPECT_EQ(InvalidMessage("window.tz", "Europe/\xC3"),
            R"(window.tz: must be an IANA time zone such as Europe/Berlin, or empty, got "Europe/\xc3")");
  EXPECT_EQ(InvalidMessage("pacing.cycle_interval", "600"),
            "pacing.cycle_interval: must be a duration in 0s..24h, got \"600\" (no unit: write "
            "e.g. 600s)");
  EXPECT_EQ(InvalidMessage("dispatch.lease", "0s"),
            "dispatch.lease: must be a duration in 1s..1h, got \"0s\"");
  EXPECT_EQ(InvalidMessage("dispatch.backoff_base", "50ms"),
            "dispatch.backoff_base: must be a duration in 100ms..1h, got \"50ms\"");
  EXPECT_EQ(InvalidMessage("http.timeout", "6m"),
            "http.timeout: must be a duration in 1s..5m, got \"6m\"");
  EXPECT_EQ(InvalidMessage("telegram.chat_interval", "-1s"),
            "telegram.chat_interval: must be a duration in 0s..1h, got \"-1s\"");
  EXPECT_EQ(InvalidMessage("dispatch.ambiguous", "retry"),
            "dispatch.ambiguous: must be one of hold|resend, got \"retry\"");
  EXPECT_EQ(InvalidMessage("http.proxy", "ftp://proxy:21"),
            "http.proxy: must be empty or a proxy URL: http://, https://, socks5:// or socks5h:// "
            "and a host, got \"ftp://proxy:21\"");
  EXPECT_EQ(InvalidMessage("window.start", "24:00"),
            "window.start: must be a time of day HH:MM in 00:00..23:59, or empty, got \"24:00\"");
  EXPECT_EQ(InvalidMessage("window.tz", "Mars/Olympus_Mons"),
            "window.tz: must be an IANA time zone such as Europe/Berlin, or empty, got "
            "\"Mars/Olympus_Mons\"");
}

TEST(SettingsTest, RefusalQuotesTheValueAsGiven) {
  EXPECT_EQ(InvalidMessage("pacing.batch_size", " x\"y\n"),
            "pacing.batch_size: must be an integer in 0..10000, got \" x\\\"y\\n\"");
  EXPECT_EQ(
      InvalidMessage("pacing.batch_size", std::string(100, '9')),
      "pacing.batch_size: must be an integer in 0..10000, got \"" + std::string(64, '9') + "\"...");
}

// Invariant I7 (docs/invariants.md)
TEST(SettingsTest, RefusalHidesProxyCredentials) {
  EXPECT_EQ(InvalidMessage("http.proxy", "socks5://user:secret@"),
            "http.proxy: must be empty or a proxy URL: http://, https://, socks5:// or socks5h:// "
            "and a host, got \"socks5://***@\"");
}

TEST(SettingsTest, UnknownKeyIsNotFound) {
  const Result<std::string> result = ValidateSetting("foo", "1");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(result.error().message, "unknown setting \"foo\"");
}

TEST(SettingsTest, ReturnsCanonicalText) {
  EXPECT_EQ(Canonical("pacing.cycle_interval", " 10m "), "10m");
  EXPECT_EQ(Canonical("pacing.cycle_interval", "600000ms"), "10m");
  EXPECT_EQ(Canonical("pacing.cycle_interval", "600s"), "10m");
  EXPECT_EQ(Canonical("pacing.cycle_interval", "1h30m"), "90m");
  EXPECT_EQ(Canonical("pacing.cycle_interval", "0"), "0s");
  EXPECT_EQ(Canonical("pacing.delay_min", "1500ms"), "1500ms");
  EXPECT_EQ(Canonical("pacing.batch_size", "007"), "7");
  EXPECT_EQ(Canonical("pacing.batch_size", "\t0\n"), "0");
  EXPECT_EQ(Canonical("dispatch.ambiguous", "RESEND"), "resend");
  EXPECT_EQ(Canonical("dispatch.ambiguous", " Hold "), "hold");
  EXPECT_EQ(Canonical("window.start", "9:05"), "09:05");
  EXPECT_EQ(Canonical("window.end", "23:59"), "23:59");
  EXPECT_EQ(Canonical("window.end", "00:00"), "00:00");
  EXPECT_EQ(Canonical("window.start", "  "), "");
  EXPECT_EQ(Canonical("http.proxy", ""), "");
  EXPECT_EQ(Canonical("http.proxy", "SOCKS5://Proxy.Example:1080"), "socks5://Proxy.Example:1080");
}

TEST(SettingsTest, AcceptsProxyUrlsWithAHost) {
  for (const std::string_view url :
       {"http://proxy", "https://proxy.example.com:8443", "socks5://127.0.0.1:1080",
        "socks5h://user:pass@proxy:1080", "http://[::1]:3128", "http://proxy:8080/"}) {
    EXPECT_EQ(Canonical("http.proxy", url), url);
  }
}

TEST(SettingsTest, RefusesProxyUrlsWithoutSchemeOrHost) {
  for (const std::string_view url :
       {"proxy:8080", "socks4://proxy:1080", "http://", "http://:8080", "http://user@",
        "http://proxy:0", "http://proxy:65536", "http://proxy:80a", "http://pro xy", "//proxy:8080",
        "http://[]:1"}) {
    EXPECT_FALSE(ValidateSetting("http.proxy", url)) << url;
  }
}

// Found by tests/fuzz/settings_fuzz.cpp: "socks5h://us#w\xFF..." was a valid proxy, stored as
// given, and the bytes that are not UTF-8 broke every JSON listing of the settings.
TEST(SettingsTest, RefusesProxyUrlsWithBytesOutsidePrintableAscii) {
  for (const std::string_view url : {"socks5h://proxy#w\xFF", "http://proxy:8080/\xC3\xA9",
                                     "http://user:p\xE2\x82\xAC@proxy", "http://proxy/\x7F"}) {
    const Result<std::string> result = ValidateSetting("http.proxy", url);
    ASSERT_FALSE(result) << url;
    EXPECT_TRUE(IsValidUtf8(result.error().message)) << result.error().message;
  }
}

TEST(SettingsTest, RefusesMalformedTimesOfDay) {
  for (const std::string_view time :
       {"24:00", "12:60", "9", "09:5", "0900", "-1:00", "123:00", "12:00:00", "ab:cd", "9:5a"}) {
    EXPECT_FALSE(ValidateSetting("window.start", time)) << time;
  }
}

TEST(SettingsTest, ValidatesTimeZonesAgainstTheTzDatabase) {
  EXPECT_EQ(Canonical("window.tz", "Europe/Berlin"), "Europe/Berlin");
  EXPECT_EQ(Canonical("window.tz", " America/Argentina/Buenos_Aires "),
            "America/Argentina/Buenos_Aires");
  EXPECT_EQ(Canonical("window.tz", "UTC"), "UTC");
  EXPECT_EQ(Canonical("window.tz", "Etc/GMT+5"), "Etc/GMT+5");
  for (const std::string_view zone :
       {"Mars/Olympus_Mons", "europe/berlin", "Berlin", "../../etc/passwd", "Europe/Berlin/x",
        "CEST+2", "Europe/ Berlin"}) {
    EXPECT_FALSE(ValidateSetting("window.tz", zone)) << zone;
  }
}

TEST(SettingRulesTest, PassWithDefaultsAndConsistentOverrides) {
  EXPECT_TRUE(CheckSettingRules({}, {}));
  EXPECT_TRUE(CheckSettingRules({{"pacing.delay_min", "3m"}}, {}));  // equal to max
  EXPECT_TRUE(CheckSettingRules({{"pacing.delay_min", "0s"}, {"pacing.delay_max", "0s"}}, {}));
  EXPECT_TRUE(CheckSettingRules({{"pacing.delay_min", "200s"}}, {{"pacing.delay_max", "5m"}}));
  EXPECT_TRUE(CheckSettingRules({{"window.start", "09:00"}}, {{"window.end", "20:00"}}));
  EXPECT_TRUE(CheckSettingRules({}, {{"window.start", "22:00"}, {"window.end", "06:00"}}));
}

TEST(SettingRulesTest, DelayMinMustNotExceedDelayMax) {
  const Status raised_min = CheckSettingRules({}, {{"pacing.delay_min", "200s"}});
  ASSERT_FALSE(raised_min);
  EXPECT_EQ(raised_min.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(raised_min.error().message,
            "pacing.delay_min (200s) must not exceed pacing.delay_max (3m)");

  const Status lowered_max = CheckSettingRules({{"pacing.delay_max", "100s"}}, {});
  ASSERT_FALSE(lowered_max);
  EXPECT_EQ(lowered_max.error().message,
            "pacing.delay_min (2m) must not exceed pacing.delay_max (100s)");
}

TEST(SettingRulesTest, CampaignOverridesGlobalInTheRules) {
  const Status status = CheckSettingRules(
      {{"pacing.delay_min", "10s"}, {"pacing.delay_max", "20s"}}, {{"pacing.delay_max", "5s"}});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, "pacing.delay_min (10s) must not exceed pacing.delay_max (5s)");
  EXPECT_TRUE(CheckSettingRules({{"pacing.delay_min", "10m"}}, {{"pacing.delay_min", "1m"}}));
}

TEST(SettingRulesTest, BackoffBaseMustNotExceedCap) {
  const Status raised_base =
      CheckSettingRules({{"dispatch.backoff_base", "1h"}}, {{"dispatch.backoff_cap", "30m"}});
  ASSERT_FALSE(raised_base);
  EXPECT_EQ(raised_base.error().message,
            "dispatch.backoff_base (1h) must not exceed dispatch.backoff_cap (30m)");
  const Status lowered_cap = CheckSettingRules({}, {{"dispatch.backoff_cap", "1s"}});
  ASSERT_FALSE(lowered_cap);
  EXPECT_EQ(lowered_cap.error().message,
            "dispatch.backoff_base (5s) must not exceed dispatch.backoff_cap (1s)");
}

TEST(SettingRulesTest, WindowEndsMayBeSetOneAtATimeButMustDiffer) {
  // An operator sets the two ends with two commands: each write on its own is allowed.
  EXPECT_TRUE(CheckSettingRules({{"window.start", "09:00"}}, {}));
  EXPECT_TRUE(CheckSettingRules({}, {{"window.end", "20:00"}}));
  EXPECT_TRUE(CheckSettingRules({{"window.start", "09:00"}, {"window.end", "20:00"}},
                                {{"window.start", ""}}));
  const Status same = CheckSettingRules({{"window.start", "09:00"}, {"window.end", "9:00"}}, {});
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().message,
            "window.start and window.end must differ (both are 09:00); leave both empty for no "
            "window");
}

TEST(SettingRulesTest, AnInvalidStoredValueCountsAsItsFallback) {
  const Status status =
      CheckSettingRules({{"pacing.delay_max", "lots"}}, {{"pacing.delay_min", "200s"}});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message,
            "pacing.delay_min (200s) must not exceed pacing.delay_max (3m)");
}

TEST(SettingsResolveTest, CampaignOverridesGlobalOverridesDefault) {
  const ResolvedSettings resolved =
      ResolveSettings({{"pacing.batch_size", "10"}, {"telegram.rate", "25"}},
                      {{"pacing.batch_size", "0"}, {"dispatch.ambiguous", "resend"}});
  EXPECT_TRUE(resolved.warnings.empty());
  EXPECT_EQ(Entry(resolved, "pacing.batch_size").value, "0");
  EXPECT_EQ(Entry(resolved, "pacing.batch_size").source, SettingSource::kCampaign);
  EXPECT_EQ(Entry(resolved, "telegram.rate").value, "25");
  EXPECT_EQ(Entry(resolved, "telegram.rate").source, SettingSource::kGlobal);
  EXPECT_EQ(Entry(resolved, "http.timeout").source, SettingSource::kDefault);
  EXPECT_EQ(resolved.settings.batch_size, 0);
  EXPECT_EQ(resolved.settings.rate, 25);
  EXPECT_EQ(resolved.settings.ambiguous, Settings::Ambiguous::kResend);
}

TEST(SettingsResolveTest, ReadsEveryKeyIntoItsTypedField) {
  const RawSettings global = {
      {"pacing.batch_size", "7"},
      {"pacing.cycle_interval", "1h"},
      {"pacing.delay_min", "1s"},
      {"pacing.delay_max", "2s"},
      {"pacing.daily_cap", "40"},
      {"tdlib.import_contacts_per_day", "9"},
      {"telegram.rate", "11"},
      {"telegram.chat_interval", "3s"},
      {"telegram.group_rate", "12"},
      {"dispatch.in_flight", "4"},
      {"dispatch.lease", "45s"},
      {"dispatch.max_attempts", "3"},
      {"dispatch.backoff_base", "250ms"},
      {"dispatch.backoff_cap", "2h"},
      {"dispatch.ambiguous", "resend"},
      {"http.timeout", "20s"},
      {"http.proxy", "socks5://p:1080"},
      {"window.start", "22:30"},
      {"window.end", "06:15"},
      {"window.tz", "Europe/Berlin"},
  };
  const ResolvedSettings resolved = ResolveSettings(global, {});
  EXPECT_TRUE(resolved.warnings.empty());
  const Settings& s = resolved.settings;
  EXPECT_EQ(s.batch_size, 7);
  EXPECT_EQ(s.cycle_interval, milliseconds(3'600'000));
  EXPECT_EQ(s.delay_min, milliseconds(1'000));
  EXPECT_EQ(s.delay_max, milliseconds(2'000));
  EXPECT_EQ(s.daily_cap, 40);
  EXPECT_EQ(s.import_contacts_per_day, 9);
  EXPECT_EQ(s.rate, 11);
  EXPECT_EQ(s.chat_interval, milliseconds(3'000));
  EXPECT_EQ(s.group_rate, 12);
  EXPECT_EQ(s.in_flight, 4);
  EXPECT_EQ(s.lease, milliseconds(45'000));
  EXPECT_EQ(s.max_attempts, 3);
  EXPECT_EQ(s.backoff_base, milliseconds(250));
  EXPECT_EQ(s.backoff_cap, milliseconds(7'200'000));
  EXPECT_EQ(s.ambiguous, Settings::Ambiguous::kResend);
  EXPECT_EQ(s.http_timeout, milliseconds(20'000));
  EXPECT_EQ(s.http_proxy, "socks5://p:1080");
  EXPECT_EQ(s.window_start, minutes(22 * 60 + 30));
  EXPECT_EQ(s.window_end, minutes(6 * 60 + 15));
  EXPECT_EQ(s.window_tz, "Europe/Berlin");
  for (const ResolvedSetting& entry : resolved.entries) {
    EXPECT_EQ(entry.source, SettingSource::kGlobal) << entry.spec->key;
  }
}

TEST(SettingsResolveTest, WindowWithoutZoneIsUtc) {
  const ResolvedSettings resolved =
      ResolveSettings({{"window.start", "09:00"}, {"window.end", "20:00"}}, {});
  EXPECT_EQ(resolved.settings.window_start, minutes(540));
  EXPECT_EQ(resolved.settings.window_end, minutes(1200));
  EXPECT_EQ(resolved.settings.window_tz, "UTC");
  EXPECT_EQ(Entry(resolved, "window.tz").value, "");
}

TEST(SettingsResolveTest, StoredTextIsCanonicalised) {
  const ResolvedSettings resolved = ResolveSettings({{"pacing.cycle_interval", " 600000ms "}}, {});
  EXPECT_TRUE(resolved.warnings.empty());
  EXPECT_EQ(Entry(resolved, "pacing.cycle_interval").value, "10m");
  EXPECT_EQ(resolved.settings.cycle_interval, milliseconds(600'000));
}

// Invariant I5 (docs/invariants.md)
TEST(SettingsResolveTest, GarbageFallsBackToTheDefaultWithOneWarning) {
  const ResolvedSettings resolved = ResolveSettings({{"pacing.batch_size", "lots"}}, {});
  EXPECT_EQ(resolved.settings.batch_size, 5);
  EXPECT_EQ(Entry(resolved, "pacing.batch_size").value, "5");
  EXPECT_EQ(Entry(resolved, "pacing.batch_size").source, SettingSource::kInvalidFallback);
  ASSERT_EQ(resolved.warnings.size(), 1u);
  EXPECT_EQ(resolved.warnings[0].key, "pacing.batch_size");
  EXPECT_EQ(resolved.warnings[0].message,
            "setting pacing.batch_size: stored value \"lots\" is invalid (must be an integer in "
            "0..10000); using default 5");
}

TEST(SettingsResolveTest, GarbageInTheCampaignFallsBackToTheGlobalValue) {
  const ResolvedSettings resolved =
      ResolveSettings({{"pacing.batch_size", "10"}}, {{"pacing.batch_size", "-3"}});
  EXPECT_EQ(resolved.settings.batch_size, 10);
  EXPECT_EQ(Entry(resolved, "pacing.batch_size").source, SettingSource::kInvalidFallback);
  ASSERT_EQ(resolved.warnings.size(), 1u);
  EXPECT_EQ(resolved.warnings[0].message,
            "setting pacing.batch_size: stored campaign value \"-3\" is invalid (must be an "
            "integer in 0..10000); using global value 10");
}

TEST(SettingsResolveTest, GarbageInBothScopesWarnsAboutEach) {
  const ResolvedSettings resolved =
      ResolveSettings({{"http.proxy", "ftp://x"}}, {{"http.proxy", "nope"}});
  EXPECT_EQ(resolved.settings.http_proxy, "");
  ASSERT_EQ(resolved.warnings.size(), 2u);
  EXPECT_EQ(resolved.warnings[0].message,
            "setting http.proxy: stored campaign value \"nope\" is invalid (must be empty or a "
            "proxy URL: http://, https://, socks5:// or socks5h:// and a host); using default "
            "(empty)");
  EXPECT_EQ(resolved.warnings[1].message,
            "setting http.proxy: stored value \"ftp://x\" is invalid (must be empty or a proxy "
            "URL: http://, https://, socks5:// or socks5h:// and a host); using default (empty)");
}

TEST(SettingsResolveTest, AValidCampaignValueHidesAnInvalidGlobalOne) {
  const ResolvedSettings resolved =
      ResolveSettings({{"telegram.rate", "fast"}}, {{"telegram.rate", "10"}});
  EXPECT_EQ(resolved.settings.rate, 10);
  EXPECT_TRUE(resolved.warnings.empty());
}

TEST(SettingsResolveTest, UnknownStoredKeysAreIgnoredWithAWarning) {
  const ResolvedSettings resolved =
      ResolveSettings({{"pacing.batchsize", "3"}}, {{"old.key", "x"}});
  EXPECT_EQ(resolved.settings, Settings{});
  ASSERT_EQ(resolved.warnings.size(), 2u);
  EXPECT_EQ(resolved.warnings[0].key, "pacing.batchsize");
  EXPECT_EQ(resolved.warnings[0].message,
            "unknown setting \"pacing.batchsize\" in the stored global settings is ignored "
            "(value \"3\")");
  EXPECT_EQ(resolved.warnings[1].key, "old.key");
  EXPECT_EQ(resolved.warnings[1].message,
            "unknown setting \"old.key\" in the stored campaign settings is ignored (value \"x\")");
}

// Invariant I5 (docs/invariants.md)
TEST(SettingsResolveTest, BrokenDelayRuleFallsBackToBothDefaults) {
  const ResolvedSettings resolved =
      ResolveSettings({{"pacing.delay_max", "100s"}}, {{"pacing.delay_min", "150s"}});
  EXPECT_EQ(resolved.settings.delay_min, milliseconds(120'000));
  EXPECT_EQ(resolved.settings.delay_max, milliseconds(180'000));
  EXPECT_EQ(Entry(resolved, "pacing.delay_min").source, SettingSource::kInvalidFallback);
  EXPECT_EQ(Entry(resolved, "pacing.delay_max").source, SettingSource::kInvalidFallback);
  EXPECT_EQ(Entry(resolved, "pacing.delay_max").value, "3m");
  ASSERT_EQ(resolved.warnings.size(), 1u);
  EXPECT_EQ(resolved.warnings[0].key, "pacing.delay_min");
  EXPECT_EQ(resolved.warnings[0].message,
            "settings: pacing.delay_min (150s) must not exceed pacing.delay_max (100s); using "
            "defaults 2m and 3m");
}

TEST(SettingsResolveTest, BrokenBackoffRuleFallsBackToBothDefaults) {
  const ResolvedSettings resolved =
      ResolveSettings({{"dispatch.backoff_base", "50m"}, {"dispatch.backoff_cap", "30m"}}, {});
  EXPECT_EQ(resolved.settings.backoff_base, milliseconds(5'000));
  EXPECT_EQ(resolved.settings.backoff_cap, milliseconds(3'600'000));
  ASSERT_EQ(resolved.warnings.size(), 1u);
  EXPECT_EQ(resolved.warnings[0].message,
            "settings: dispatch.backoff_base (50m) must not exceed dispatch.backoff_cap (30m); "
            "using defaults 5s and 1h");
}

TEST(SettingsResolveTest, HalfAWindowMeansNoWindow) {
  const ResolvedSettings resolved =
      ResolveSettings({{"window.start", "09:00"}, {"window.tz", "Europe/Berlin"}}, {});
  EXPECT_EQ(resolved.settings.window_start, std::nullopt);
  EXPECT_EQ(resolved.settings.window_end, std::nullopt);
  EXPECT_EQ(resolved.settings.window_tz, "Europe/Berlin");
  ASSERT_EQ(resolved.warnings.size(), 1u);
  EXPECT_EQ(resolved.warnings[0].message,
            "settings: window.start (09:00) and window.end (empty) must both be set or both be "
            "empty; using defaults (empty) and (empty)");
}

TEST(SettingsWarnOnceTest, WarnsOncePerKeyAndMessage) {
  WarnOnce once;
  const SettingWarning lots{"pacing.batch_size", "stored value \"lots\" is invalid"};
  const SettingWarning many{"pacing.batch_size", "stored value \"many\" is invalid"};
  EXPECT_TRUE(once.ShouldWarn(lots));
  EXPECT_FALSE(once.ShouldWarn(lots));
  EXPECT_TRUE(once.ShouldWarn(many));
  EXPECT_FALSE(once.ShouldWarn(many));
  EXPECT_TRUE(once.ShouldWarn(SettingWarning{"telegram.rate", lots.message}));
}

// Invariant I5 (docs/invariants.md)
TEST(SettingsWarnOnceTest, ResolvingEveryCycleWarnsOnce) {
  WarnOnce once;
  int given = 0;
  for (int cycle = 0; cycle < 5; ++cycle) {
    for (const SettingWarning& w : ResolveSettings({{"pacing.batch_size", "lots"}}, {}).warnings) {
      if (once.ShouldWarn(w)) ++given;
    }
  }
  EXPECT_EQ(given, 1);
}

TEST(SettingsWarnOnceTest, ExactlyOneThreadWarns) {
  WarnOnce once;
  const SettingWarning warning{"window.tz", "bad"};
  std::atomic<int> given = 0;
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&] {
        for (int j = 0; j < 1000; ++j) {
          if (once.ShouldWarn(warning)) ++given;
        }
      });
    }
  }
  EXPECT_EQ(given.load(), 1);
}

}  // namespace
}  // namespace tginvite::core

namespace tginvite::core {
namespace {

// pacing.daily_cap's default (50) caps user accounts only; a value that is set caps bots too.
TEST(SettingsTest, TheDailyCapsDefaultLeavesBotsUncapped) {
  const Settings defaults = ResolveSettings({}, {}).settings;
  EXPECT_EQ(defaults.daily_cap, 50);
  EXPECT_EQ(defaults.bot_daily_cap, 0);
  const Settings set = ResolveSettings({{"pacing.daily_cap", "200"}}, {}).settings;
  EXPECT_EQ(set.daily_cap, 200);
  EXPECT_EQ(set.bot_daily_cap, 200);
  const Settings explicit_default = ResolveSettings({{"pacing.daily_cap", "50"}}, {}).settings;
  EXPECT_EQ(explicit_default.bot_daily_cap, 50) << "a stored 50 is the operator's word";
  const Settings garbage = ResolveSettings({{"pacing.daily_cap", "lots"}}, {}).settings;
  EXPECT_EQ(garbage.daily_cap, 50);
  EXPECT_EQ(garbage.bot_daily_cap, 0) << "a bad stored value falls back to the default";
}

}  // namespace
}  // namespace tginvite::core
