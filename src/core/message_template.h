// Message templates: the text of an invitation, in Telegram's HTML parse mode, with placeholders
// for contact and campaign values. A template is checked once, when a campaign is created, so
// that no rendered message can be refused by Telegram for its markup or its length.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace tginvite::core {

// The values a template is rendered with: plain text, not HTML. Telegram usernames go without '@'.
struct TemplateValues {
  std::string_view first_name = {};
  std::string_view last_name = {};
  std::string_view username = {};
  std::string_view link = {};
  std::string_view campaign = {};
};

// The longest value of each placeholder, in UTF-16 code units (Telegram's unit): Parse counts
// every placeholder at its limit and Render cuts longer values to it. Telegram's own limits are
// 64 for a first or last name and 32 for a username; a name at its limit in astral characters
// (two code units each) is cut to half as many characters.
struct TemplateLimits {
  size_t max_name = 64;  // first_name and last_name
  size_t max_username = 32;
  size_t max_link = 128;
  size_t max_campaign = 64;
};

// A template checked against Telegram's HTML parse mode. Placeholders: {first_name} {last_name}
// {username} {link} {campaign}; "{{" and "}}" stand for literal braces. Tags: b strong i em u ins
// s strike del code pre blockquote (optionally `expandable`) tg-spoiler, a with href, span with
// class="tg-spoiler", tg-emoji with emoji-id, code with class="language-…"; properly nested and
// closed, attribute values quoted. '<' must start a tag and '&' an entity: &lt; &gt; &amp; &quot;
// or numeric (&#160; &#xA0;); a lone '>' is text, as Telegram takes it. Placeholders go in text
// and in <a href="…">. Immutable, so safe to share between threads.
class MessageTemplate {
 public:
  static constexpr size_t kTelegramMaxLength = 4096;  // UTF-16 code units after entity parsing

  // kInvalidArgument naming the problem and, where there is one, its 1-based line:column (column
  // in characters): an empty template, invalid UTF-8, an unknown placeholder ("unknown
  // placeholder {firstname} at 1:7; known: first_name, last_name, username, link, campaign"), an
  // unterminated "{" or lone "}", broken HTML (unsupported tag or attribute, missing required
  // attribute, unclosed or mis-nested tag, bad entity, stray '<' or '&'), or a rendered length
  // that could exceed kTelegramMaxLength ("too long: up to N characters after rendering, Telegram
  // allows 4096"), where N counts the text after entity parsing and every placeholder at its
  // limit.
  [[nodiscard]] static Result<MessageTemplate> Parse(std::string_view text,
                                                     TemplateLimits limits = {});

  // The message to send with parse_mode HTML. Each value is cut to its limit, has invalid UTF-8
  // replaced by U+FFFD and is HTML-escaped (& < > ", and ' inside an attribute).
  std::string Render(const TemplateValues& values) const;

  const std::string& source() const { return source_; }

  // True if the template contains the placeholder `name`, e.g. uses("link").
  bool uses(std::string_view name) const;

  // The longest a rendered message can be, in UTF-16 code units after entity parsing.
  size_t max_length() const { return max_length_; }

 private:
  enum class Field { kFirstName, kLastName, kUsername, kLink, kCampaign };
  enum class Context { kText, kAttribute };

  // Literal HTML (`field` empty) or a placeholder to substitute.
  struct Piece {
    std::string html;
    std::optional<Field> field;
    Context context = Context::kText;
  };

  class Parser;

  MessageTemplate() = default;

  std::string source_;
  TemplateLimits limits_;
  std::vector<Piece> pieces_;
  size_t max_length_ = 0;
};

// The limits a campaign's template is checked with: {campaign} at the length of the campaign's
// name (the default limit while it has none yet), {link} at least as long as its shared link.
// Creating a campaign and the dashboard's template preview check with the same limits.
TemplateLimits CampaignTemplateLimits(std::string_view campaign_name, std::string_view shared_link);

// `text` with &, <, > and " escaped for HTML (a link appended to a rendered message).
std::string EscapeHtml(std::string_view text);

}  // namespace tginvite::core
