#include "core/message_template.h"

#include <string>

#include <gtest/gtest.h>

#include "core/utf8.h"

namespace tginvite::core {
namespace {

constexpr std::string_view kKnown = "known: first_name, last_name, username, link, campaign";
constexpr std::string_view kAllowedTags =
    "allowed: b, strong, i, em, u, ins, s, strike, del, a, code, pre, blockquote, tg-spoiler, "
    "span, tg-emoji";

std::string ParseError(std::string_view text, TemplateLimits limits = {}) {
  const Result<MessageTemplate> parsed = MessageTemplate::Parse(text, limits);
  if (parsed) return "accepted";
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  return parsed.error().message;
}

MessageTemplate MustParse(std::string_view text, TemplateLimits limits = {}) {
  Result<MessageTemplate> parsed = MessageTemplate::Parse(text, limits);
  EXPECT_TRUE(parsed) << parsed.error().message;
  if (!parsed) return MessageTemplate::Parse("parse failed").value();
  return std::move(parsed).value();
}

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST(MessageTemplateTest, RendersEveryPlaceholder) {
  const MessageTemplate t = MustParse(
      "Hi {first_name} {last_name} (@{username})! Join {campaign}: <a href=\"{link}\">here</a> "
      "or {link}");
  EXPECT_EQ(t.Render({.first_name = "Ann",
                      .last_name = "Lee",
                      .username = "annlee",
                      .link = "https://t.me/+AbC",
                      .campaign = "Spring"}),
            "Hi Ann Lee (@annlee)! Join Spring: <a href=\"https://t.me/+AbC\">here</a> or "
            "https://t.me/+AbC");
}

TEST(MessageTemplateTest, RendersEmptyValuesAsNothing) {
  EXPECT_EQ(MustParse("Hi {first_name}!").Render({}), "Hi !");
}

TEST(MessageTemplateTest, KeepsTheSourceAndKnowsWhichPlaceholdersItUses) {
  const std::string source = "Hello {first_name}, <a href=\"{link}\">join</a>";
  const MessageTemplate t = MustParse(source);
  EXPECT_EQ(t.source(), source);
  EXPECT_TRUE(t.uses("first_name"));
  EXPECT_TRUE(t.uses("link"));
  EXPECT_FALSE(t.uses("last_name"));
  EXPECT_FALSE(t.uses("username"));
  EXPECT_FALSE(t.uses("campaign"));
  EXPECT_FALSE(t.uses("firstname"));
  EXPECT_FALSE(t.uses("{link}"));
}

TEST(MessageTemplateTest, EscapesValuesInText) {
  const MessageTemplate t = MustParse("Hi <b>{first_name}</b> {last_name}");
  EXPECT_EQ(t.Render({.first_name = "<img src=x onerror=alert(1)>",
                      .last_name = "Tom & \"Jerry\" O'Neil"}),
            "Hi <b>&lt;img src=x onerror=alert(1)&gt;</b> Tom &amp; &quot;Jerry&quot; O'Neil");
}

TEST(MessageTemplateTest, EscapesValuesInAnAttribute) {
  const MessageTemplate double_quoted = MustParse("<a href=\"{link}\">go</a>");
  EXPECT_EQ(double_quoted.Render({.link = "https://x/?a=1&b=\"2'\"><script>"}),
            "<a href=\"https://x/?a=1&amp;b=&quot;2&#39;&quot;&gt;&lt;script&gt;\">go</a>");
  const MessageTemplate single_quoted = MustParse("<a href='{link}'>go</a>");
  EXPECT_EQ(single_quoted.Render({.link = "x' onclick='y"}),
            "<a href='x&#39; onclick=&#39;y'>go</a>");
}

TEST(MessageTemplateTest, DoubledBracesAreLiteral) {
  const MessageTemplate t =
      MustParse("{{first_name}} is {first_name}; }} <a href=\"https://x/{{y}}\">z</a>");
  EXPECT_FALSE(t.uses("last_name"));
  EXPECT_EQ(t.Render({.first_name = "Ann"}),
            "{first_name} is Ann; } <a href=\"https://x/{y}\">z</a>");
  EXPECT_EQ(MustParse("{{{first_name}}}").Render({.first_name = "{x}"}), "{{x}}");
}

TEST(MessageTemplateTest, RenderCutsValuesToTheirLimits) {
  const MessageTemplate t =
      MustParse("{first_name}|{username}", TemplateLimits{.max_name = 5, .max_username = 3});
  EXPECT_EQ(t.Render({.first_name = "Alexandra", .username = "alexandra"}), "Alexa|ale");
  // An astral character is two UTF-16 code units and is never split.
  EXPECT_EQ(t.Render({.first_name = "😀😀😀", .username = "ab😀"}), "😀😀|ab");
  // Escaping happens after cutting: the limit counts characters, not entities.
  EXPECT_EQ(t.Render({.first_name = "<<<<<<", .username = "&&&&"}),
            "&lt;&lt;&lt;&lt;&lt;|&amp;&amp;&amp;");
}

TEST(MessageTemplateTest, RenderReplacesInvalidUtf8) {
  const MessageTemplate t = MustParse("[{first_name}]");
  EXPECT_EQ(t.Render({.first_name = "A\xff"
                                    "B\xe2\x82"}),
            "[A\xEF\xBF\xBD"
            "B\xEF\xBF\xBD\xEF\xBF\xBD]");
}

TEST(MessageTemplateTest, AcceptsTelegramsTagsNestedAndEntities) {
  const std::string source =
      "<b>bold <i>both <u>all <s>four</s></u></i></b> <strong>s</strong> <em>e</em> "
      "<ins>i</ins> <strike>s</strike> <del>d</del> <code>c</code> "
      "<tg-spoiler>hidden</tg-spoiler> <span class=\"tg-spoiler\">hidden</span> "
      "<blockquote expandable>quote</blockquote> <blockquote>q</blockquote> "
      "<pre><code class=\"language-cpp\">int x;</code></pre> "
      "<tg-emoji emoji-id=\"5368324170671202286\">👍</tg-emoji> <a href='https://t.me/x'>y</a> "
      "<B>upper</B> &lt;&gt;&amp;&quot;&#65;&#x1F600; a > b";
  const MessageTemplate t = MustParse(source);
  EXPECT_EQ(t.Render({}), source);
}

// Invariant I8 (docs/invariants.md)
TEST(MessageTemplateTest, RefusesUnknownPlaceholdersWithTheirPosition) {
  EXPECT_EQ(ParseError("Hello {firstname}!"),
            "unknown placeholder {firstname} at 1:7; " + std::string(kKnown));
  EXPECT_EQ(ParseError("Привет!\nДорогой {name}"),
            "unknown placeholder {name} at 2:9; " + std::string(kKnown));
  EXPECT_EQ(ParseError("{ link }"), "unknown placeholder { link } at 1:1; " + std::string(kKnown));
  EXPECT_EQ(ParseError("{}"), "unknown placeholder {} at 1:1; " + std::string(kKnown));
}

TEST(MessageTemplateTest, RefusesUnbalancedBraces) {
  EXPECT_EQ(ParseError("Hi {first_name"),
            "unterminated placeholder \"{\" at 1:4 (write {{ for a literal {)");
  EXPECT_EQ(ParseError("Hi {first_name\n}"),
            "unterminated placeholder \"{\" at 1:4 (write {{ for a literal {)");
  EXPECT_EQ(ParseError("Hi {first_{name}"),
            "unterminated placeholder \"{\" at 1:4 (write {{ for a literal {)");
  EXPECT_EQ(ParseError("a } b"), "unmatched \"}\" at 1:3 (write }} for a literal })");
}

TEST(MessageTemplateTest, RefusesEmptyTemplates) {
  EXPECT_EQ(ParseError(""), "empty template");
  EXPECT_EQ(ParseError(" \n\t"), "empty template");
  EXPECT_EQ(ParseError("<b> </b>"), "empty template: no text outside tags");
}

TEST(MessageTemplateTest, RefusesInvalidUtf8) {
  EXPECT_EQ(ParseError("ab\xff"), "invalid UTF-8 at 1:3");
  EXPECT_EQ(ParseError("é\n\xc3"), "invalid UTF-8 at 2:1");
  EXPECT_EQ(ParseError("\xed\xa0\x80"), "invalid UTF-8 at 1:1");  // a UTF-16 surrogate
}

TEST(MessageTemplateTest, RefusesUnsupportedTags) {
  EXPECT_EQ(ParseError("Hi <img src=x onerror=alert(1)>"),
            "unsupported tag <img> at 1:4; " + std::string(kAllowedTags));
  EXPECT_EQ(ParseError("a<br>b"), "unsupported tag <br> at 1:2; " + std::string(kAllowedTags));
  EXPECT_EQ(ParseError("<b>x</bold>"),
            "unsupported tag </bold> at 1:5; " + std::string(kAllowedTags));
}

TEST(MessageTemplateTest, RefusesUnclosedAndMisnestedTags) {
  EXPECT_EQ(ParseError("<b>bold"), "unclosed tag <b> at 1:1");
  EXPECT_EQ(ParseError("<b>x</b>\n<i><u>y</u>"), "unclosed tag <i> at 2:1");
  EXPECT_EQ(ParseError("<b><i>x</b></i>"),
            "closing tag </b> at 1:8 does not match <i> opened at 1:4");
  EXPECT_EQ(ParseError("x</b>"), "closing tag </b> at 1:2 has no opening tag");
}

TEST(MessageTemplateTest, RefusesMalformedTags) {
  EXPECT_EQ(ParseError("<b/>x"), "malformed tag <b>: unexpected \"/\" at 1:3");
  EXPECT_EQ(ParseError("<b!>x</b>"), "malformed tag <b>: unexpected \"!\" at 1:3");
  EXPECT_EQ(ParseError("x <b"), "unterminated tag <b> at 1:3");
  EXPECT_EQ(ParseError("<a href=\"x>y</a>"), "unterminated tag <a> at 1:1");
  EXPECT_EQ(ParseError("<b>x</b y>"), "malformed tag </b>: unexpected \"y\" at 1:9");
  EXPECT_EQ(ParseError("<a href=x>y</a>"), "attribute href of <a> at 1:4 needs a quoted value");
  EXPECT_EQ(ParseError("<a href=\"x\"title=\"t\">y</a>"),
            "malformed tag <a>: unexpected \"t\" at 1:12");
}

TEST(MessageTemplateTest, RefusesMissingOrUnsupportedAttributes) {
  EXPECT_EQ(ParseError("<a>x</a>"), "<a> at 1:1 needs the href attribute");
  EXPECT_EQ(ParseError("<a href=\"\">x</a>"), "empty href of <a> at 1:4");
  EXPECT_EQ(ParseError("<a href=\"x\" target=\"_blank\">x</a>"),
            "unsupported attribute target of <a> at 1:13");
  EXPECT_EQ(ParseError("<b class=\"x\">y</b>"), "unsupported attribute class of <b> at 1:4");
  EXPECT_EQ(ParseError("<span>x</span>"), "<span> at 1:1 needs the class attribute");
  EXPECT_EQ(ParseError("<span class=\"red\">x</span>"), "<span> at 1:1 needs class=\"tg-spoiler\"");
  EXPECT_EQ(ParseError("<tg-emoji>👍</tg-emoji>"), "<tg-emoji> at 1:1 needs the emoji-id attribute");
  EXPECT_EQ(ParseError("<tg-emoji emoji-id=\"abc\">👍</tg-emoji>"),
            "emoji-id of <tg-emoji> at 1:11 must be a number");
  EXPECT_EQ(ParseError("<code class=\"cpp\">x</code>"),
            "class of <code> at 1:7 must be language-NAME");
  EXPECT_EQ(ParseError("<span class=\"{campaign}\">x</span>"),
            "placeholder {campaign} at 1:14 is not allowed here; only in text and <a "
            "href=\"...\">");
}

TEST(MessageTemplateTest, RefusesStrayLessThanAndAmpersand) {
  EXPECT_EQ(ParseError("1 < 2"), "stray \"<\" at 1:3 (write &lt; for a literal <)");
  EXPECT_EQ(ParseError("x <"), "stray \"<\" at 1:3 (write &lt; for a literal <)");
  EXPECT_EQ(ParseError("a </ b>"), "stray \"<\" at 1:3 (write &lt; for a literal <)");
  EXPECT_EQ(ParseError("Tom & Jerry"), "stray \"&\" at 1:5 (write &amp; for a literal &)");
  EXPECT_EQ(ParseError("a &amp b"), "stray \"&\" at 1:3 (write &amp; for a literal &)");
  EXPECT_EQ(ParseError("<a href=\"https://x/?a=1&b=2\">x</a>"),
            "stray \"&\" at 1:24 (write &amp; for a literal &)");
}

TEST(MessageTemplateTest, RefusesBadEntities) {
  EXPECT_EQ(ParseError("a&nbsp;b"),
            "unsupported entity &nbsp; at 1:2; use &lt; &gt; &amp; &quot; or a numeric one such "
            "as &#160;");
  EXPECT_EQ(ParseError("&AMP;"),
            "unsupported entity &AMP; at 1:1; use &lt; &gt; &amp; &quot; or a numeric one such "
            "as &#160;");
  EXPECT_EQ(ParseError("&#x110000;"), "bad entity &#x110000; at 1:1: not a Unicode character");
  EXPECT_EQ(ParseError("&#xD800;"), "bad entity &#xD800; at 1:1: not a Unicode character");
  EXPECT_EQ(ParseError("&#0;"), "bad entity &#0; at 1:1: not a Unicode character");
  EXPECT_EQ(ParseError("&#;"), "bad entity &#; at 1:1: not a Unicode character");
  EXPECT_EQ(ParseError("&#12a;"), "bad entity &#12a; at 1:1: not a Unicode character");
  EXPECT_EQ(ParseError("&#x;"), "bad entity &#x; at 1:1: not a Unicode character");
}

TEST(MessageTemplateTest, LengthLimitIsExactAt4096) {
  EXPECT_EQ(MustParse(std::string(4096, 'x')).max_length(), 4096u);
  EXPECT_EQ(ParseError(std::string(4097, 'x')),
            "too long: up to 4097 characters after rendering, Telegram allows 4096");
}

TEST(MessageTemplateTest, LengthCountsPlaceholdersAtTheirLimits) {
  // {first_name} counts 64 by default.
  EXPECT_EQ(MustParse(std::string(4032, 'x') + "{first_name}").max_length(), 4096u);
  EXPECT_EQ(ParseError(std::string(4033, 'x') + "{first_name}"),
            "too long: up to 4097 characters after rendering, Telegram allows 4096");
  const std::string all = "{first_name}{last_name}{username}{link}{campaign}";  // 64+64+32+128+64
  EXPECT_EQ(MustParse(std::string(4096 - 352, 'x') + all).max_length(), 4096u);
  EXPECT_EQ(ParseError(std::string(4097 - 352, 'x') + all),
            "too long: up to 4097 characters after rendering, Telegram allows 4096");
  EXPECT_EQ(ParseError(std::string(3997, 'x') + "{campaign}", TemplateLimits{.max_campaign = 100}),
            "too long: up to 4097 characters after rendering, Telegram allows 4096");
}

TEST(MessageTemplateTest, LengthIgnoresTagsAndCountsAnEntityAsOneCharacter) {
  EXPECT_EQ(MustParse("<b>" + std::string(4096, 'x') + "</b>").max_length(), 4096u);
  EXPECT_EQ(MustParse("<a href=\"{link}\">" + std::string(4096, 'x') + "</a>").max_length(), 4096u);
  EXPECT_EQ(MustParse(Repeat("&amp;", 4096)).max_length(), 4096u);
  EXPECT_EQ(ParseError(Repeat("&#60;", 4097)),
            "too long: up to 4097 characters after rendering, Telegram allows 4096");
  EXPECT_EQ(MustParse("{{" + std::string(4095, 'x')).max_length(), 4096u);
}

TEST(MessageTemplateTest, LengthCountsUtf16CodeUnits) {
  EXPECT_EQ(MustParse(Repeat("😀", 2048)).max_length(), 4096u);
  EXPECT_EQ(ParseError(Repeat("😀", 2048) + "x"),
            "too long: up to 4097 characters after rendering, Telegram allows 4096");
  EXPECT_EQ(MustParse(Repeat("é", 4096)).max_length(), 4096u);
  EXPECT_EQ(ParseError(Repeat("&#x1F600;", 2048) + "é"),
            "too long: up to 4097 characters after rendering, Telegram allows 4096");
}

// The campaign's name bounds {campaign} and its shared link widens {link}: creating a campaign and
// the dashboard's preview check with these.
TEST(MessageTemplateTest, CampaignLimitsFollowTheNameAndTheSharedLink) {
  const TemplateLimits defaults;
  TemplateLimits limits = CampaignTemplateLimits("spring", "");
  EXPECT_EQ(limits.max_campaign, 6u);
  EXPECT_EQ(limits.max_link, defaults.max_link);
  EXPECT_EQ(CampaignTemplateLimits("", "").max_campaign, defaults.max_campaign);
  const std::string long_link = "https://t.me/+" + std::string(200, 'a');
  EXPECT_EQ(CampaignTemplateLimits("spring", long_link).max_link, long_link.size());
  EXPECT_EQ(CampaignTemplateLimits("spring", "https://t.me/+short").max_link, defaults.max_link);
  EXPECT_LT(MustParse("{campaign}", CampaignTemplateLimits("spring", "")).max_length(),
            MustParse("{campaign}").max_length());
}

TEST(MessageTemplateTest, WorstCaseRenderingMatchesMaxLength) {
  const MessageTemplate t =
      MustParse("Hi {first_name} {last_name} @{username}, join {campaign}: {link}");
  const std::string name(64, 'n');
  const std::string rendered = t.Render({.first_name = name + "overflow",
                                         .last_name = name,
                                         .username = std::string(40, 'u'),
                                         .link = std::string(200, 'l'),
                                         .campaign = std::string(64, 'c')});
  EXPECT_EQ(Utf16Length(rendered), t.max_length());
  EXPECT_EQ(t.max_length(), 15u + 64 + 64 + 32 + 64 + 128);
}

}  // namespace
}  // namespace tginvite::core
