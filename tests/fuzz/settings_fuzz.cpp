// Fuzzes runtime settings: ValidateSetting on every key with a fuzzed value (as `settings set` and
// PUT /api/v1/settings do), ParseDuration, and the resolution of fuzzed stored settings
// (ResolveSettings and CheckSettingRules, as the worker does every cycle).
//
// Input: a sequence of (choice byte, '\0'-terminated key when the choice names none, value): the
// choice picks a setting (or a fuzzed key) and whether the value is stored globally or for the
// campaign. Checked besides "no crash":
// - a valid value's canonical text is valid and canonical itself; an invalid one's error names it
//   in valid UTF-8 (errors and warnings go out in JSON);
// - a parsed duration formats to text that parses back to it;
// - resolution yields one canonical entry per setting, and the rules the dispatcher relies on hold
//   (delay_min <= delay_max, backoff_base <= backoff_cap, a window has two different ends or none).
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/duration.h"
#include "core/settings.h"
#include "core/utf8.h"
#include "fuzz/fuzz_input.h"

namespace tginvite::fuzz {
namespace {

constexpr size_t kMaxText = 256;

void CheckValue(std::string_view key, std::string_view value) {
  const Result<std::string> canonical = core::ValidateSetting(key, value);
  if (!canonical) {
    FUZZ_CHECK(canonical.error().code == (core::FindSetting(key) != nullptr
                                              ? ErrorCode::kInvalidArgument
                                              : ErrorCode::kNotFound));
    FUZZ_CHECK(core::IsValidUtf8(canonical.error().message));
    return;
  }
  const Result<std::string> again = core::ValidateSetting(key, *canonical);
  FUZZ_CHECK(again && *again == *canonical);
  FUZZ_CHECK(core::IsValidUtf8(core::DisplayValue(*core::FindSetting(key), *canonical)));
}

void CheckDuration(std::string_view text) {
  const Result<std::chrono::milliseconds> parsed = core::ParseDuration(text);
  if (!parsed) return;
  FUZZ_CHECK(parsed->count() >= 0);
  const Result<std::chrono::milliseconds> again = core::ParseDuration(core::FormatDuration(*parsed));
  FUZZ_CHECK(again && *again == *parsed);
}

void CheckResolved(const core::RawSettings& global, const core::RawSettings& campaign) {
  const core::ResolvedSettings resolved = core::ResolveSettings(global, campaign);
  const std::span<const core::SettingSpec> specs = core::AllSettings();
  FUZZ_CHECK(resolved.entries.size() == specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const core::ResolvedSetting& entry = resolved.entries[i];
    FUZZ_CHECK(entry.spec == &specs[i]);
    const Result<std::string> canonical = core::ValidateSetting(entry.spec->key, entry.value);
    FUZZ_CHECK(canonical && *canonical == entry.value);
  }
  for (const core::SettingWarning& warning : resolved.warnings) {
    FUZZ_CHECK(core::IsValidUtf8(warning.message));
  }
  const core::Settings& s = resolved.settings;
  FUZZ_CHECK(s.delay_min <= s.delay_max);
  FUZZ_CHECK(s.backoff_base <= s.backoff_cap);
  FUZZ_CHECK(s.window_start.has_value() == s.window_end.has_value());
  FUZZ_CHECK(!s.window_start || *s.window_start != *s.window_end);
  FUZZ_CHECK(s.rate >= 1 && s.group_rate >= 1 && s.in_flight >= 1 && s.max_attempts >= 1);
  FUZZ_CHECK(s.lease.count() >= 1000 && s.http_timeout.count() >= 1000);

  const Status rules = core::CheckSettingRules(global, campaign);
  if (!rules) FUZZ_CHECK(core::IsValidUtf8(rules.error().message));
}

void Run(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const std::span<const core::SettingSpec> specs = core::AllSettings();
  core::RawSettings global;
  core::RawSettings campaign;
  for (int i = 0; i < 32 && !input.empty(); ++i) {
    const uint8_t choice = input.TakeByte();
    const size_t index = (choice & 0x7F) % (specs.size() + 1);
    const std::string key(index < specs.size() ? specs[index].key : input.TakeString(kMaxText));
    const std::string value(input.TakeString(kMaxText));
    CheckValue(key, value);
    CheckDuration(value);
    ((choice & 0x80) != 0 ? campaign : global)[key] = value;
  }
  CheckResolved(global, campaign);
  // Each stored value made canonical where it is valid: resolution of what a write stores.
  for (core::RawSettings* scope : {&global, &campaign}) {
    for (auto& [key, value] : *scope) {
      if (Result<std::string> canonical = core::ValidateSetting(key, value)) value = *canonical;
    }
  }
  CheckResolved(global, campaign);
}

}  // namespace
}  // namespace tginvite::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tginvite::fuzz::Run(data, size);
  return 0;
}
