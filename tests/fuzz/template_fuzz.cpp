// Fuzzes message templates: MessageTemplate::Parse on a fuzzed template (as `campaign create`
// does), then Render with fuzzed contact values (as the dispatcher does for every invitation).
//
// Input: one byte choosing the limits, the five values first_name, last_name, username, link,
// campaign ('\0'-terminated), then the template. Checked besides "no crash":
// - an error is kInvalidArgument with a valid UTF-8 message (it goes out in a JSON error body);
// - a parsed template parses again from its source to the same template, is within Telegram's
//   4096, and every rendering is valid UTF-8 whose visible length (tags left out, an entity one
//   character) is within max_length(), also with every value far beyond its limit.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/message_template.h"
#include "core/utf8.h"
#include "fuzz/fuzz_input.h"

namespace tginvite::fuzz {
namespace {

constexpr size_t kMaxValue = 512;

// The visible length of rendered HTML in UTF-16 code units, as Telegram's entity parsing sees it:
// tags (quoted attribute values may hold '>') count nothing, an entity counts as the character it
// stands for. `html` is valid UTF-8 whose entities are well formed.
size_t VisibleLength(std::string_view html) {
  size_t units = 0;
  size_t pos = 0;
  while (pos < html.size()) {
    const char c = html[pos];
    if (c == '<') {
      char quote = '\0';
      for (++pos; pos < html.size(); ++pos) {
        const char d = html[pos];
        if (quote != '\0') {
          if (d == quote) quote = '\0';
        } else if (d == '"' || d == '\'') {
          quote = d;
        } else if (d == '>') {
          break;
        }
      }
      ++pos;
      continue;
    }
    if (c == '&') {
      const size_t semicolon = html.find(';', pos);
      FUZZ_CHECK(semicolon != std::string_view::npos);
      const std::string_view entity = html.substr(pos + 1, semicolon - pos - 1);
      uint32_t code_point = 0;
      if (entity.starts_with("#x") || entity.starts_with("#X")) {
        code_point = static_cast<uint32_t>(std::stoul(std::string(entity.substr(2)), nullptr, 16));
      } else if (entity.starts_with('#')) {
        code_point = static_cast<uint32_t>(std::stoul(std::string(entity.substr(1))));
      }
      units += code_point > 0xFFFF ? 2 : 1;
      pos = semicolon + 1;
      continue;
    }
    const auto lead = static_cast<uint8_t>(c);
    const size_t length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    units += length == 4 ? 2 : 1;
    pos += length;
  }
  return units;
}

void CheckRendering(const core::MessageTemplate& parsed, const core::TemplateValues& values) {
  const std::string text = parsed.Render(values);
  FUZZ_CHECK(core::IsValidUtf8(text));
  FUZZ_CHECK(VisibleLength(text) <= parsed.max_length());
}

void Run(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const uint8_t mode = input.TakeByte();
  core::TemplateLimits limits;
  if (mode & 1) limits = {.max_name = 3, .max_username = 5, .max_link = 7, .max_campaign = 2};
  core::TemplateValues values;
  values.first_name = input.TakeString(kMaxValue);
  values.last_name = input.TakeString(kMaxValue);
  values.username = input.TakeString(kMaxValue);
  values.link = input.TakeString(kMaxValue);
  values.campaign = input.TakeString(kMaxValue);
  const std::string_view source = input.TakeRest();

  Result<core::MessageTemplate> parsed = core::MessageTemplate::Parse(source, limits);
  if (!parsed) {
    FUZZ_CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
    FUZZ_CHECK(!parsed.error().message.empty());
    FUZZ_CHECK(core::IsValidUtf8(parsed.error().message));
    return;
  }
  FUZZ_CHECK(parsed->source() == source);
  FUZZ_CHECK(parsed->max_length() <= core::MessageTemplate::kTelegramMaxLength);
  const Result<core::MessageTemplate> again = core::MessageTemplate::Parse(parsed->source(), limits);
  FUZZ_CHECK(again && again->max_length() == parsed->max_length());
  FUZZ_CHECK(again->Render(values) == parsed->Render(values));

  CheckRendering(*parsed, values);
  CheckRendering(*parsed, {});
  // Values far beyond every limit, in characters of each UTF-16 width and the escaped ones.
  for (const std::string_view unit : {"a", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "&", "\""}) {
    std::string long_value;
    for (int i = 0; i < 300; ++i) long_value += unit;
    CheckRendering(*parsed, {long_value, long_value, long_value, long_value, long_value});
  }
}

}  // namespace
}  // namespace tginvite::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tginvite::fuzz::Run(data, size);
  return 0;
}
