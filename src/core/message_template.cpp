#include "core/message_template.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <utility>

#include "core/utf8.h"

namespace tginvite::core {
namespace {

constexpr std::array<std::string_view, 5> kPlaceholderNames = {"first_name", "last_name",
                                                               "username", "link", "campaign"};
constexpr std::string_view kKnownPlaceholders = "first_name, last_name, username, link, campaign";
constexpr std::string_view kAllowedTags =
    "b, strong, i, em, u, ins, s, strike, del, a, code, pre, blockquote, tg-spoiler, span, "
    "tg-emoji";
constexpr std::array<std::string_view, 16> kTags = {
    "b",   "strong", "i",    "em",  "u",          "ins",        "s",    "strike",
    "del", "a",      "code", "pre", "blockquote", "tg-spoiler", "span", "tg-emoji"};
constexpr char32_t kReplacementCharacter = 0xFFFD;

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool IsNameChar(char c) { return IsAsciiAlpha(c) || IsDigit(c) || c == '-' || c == '_'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The length of the well-formed UTF-8 sequence at s[pos], or 0 if there is none.
size_t SequenceLength(std::string_view s, size_t pos) {
  for (size_t n = 1; n <= 4 && pos + n <= s.size(); ++n) {
    if (IsValidUtf8(s.substr(pos, n))) return n;
  }
  return 0;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// `value` with invalid UTF-8 replaced by U+FFFD, cut to at most `max_units` UTF-16 code units
// without splitting a character.
std::string CleanValue(std::string_view value, size_t max_units) {
  std::string out;
  size_t units = 0;
  size_t pos = 0;
  while (pos < value.size()) {
    const size_t n = SequenceLength(value, pos);
    const size_t width = n == 4 ? 2 : 1;
    if (units + width > max_units) break;
    units += width;
    if (n == 0) {
      AppendUtf8(out, kReplacementCharacter);
      ++pos;
    } else {
      out.append(value.substr(pos, n));
      pos += n;
    }
  }
  return out;
}

enum class Apostrophe { kKeep, kEscape };

std::string EscapeHtml(std::string_view value, Apostrophe apostrophe) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += apostrophe == Apostrophe::kEscape ? "&#39;" : "'";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// At most `max_bytes` of `s`, cut at a character boundary, with "..." if cut.
std::string Shorten(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<uint8_t>(s[cut]) & 0xC0) == 0x80) --cut;
  return fmt::format("{}...", s.substr(0, cut));
}

}  // namespace

class MessageTemplate::Parser {
 public:
  Parser(std::string_view text, TemplateLimits limits) : text_(text), limits_(limits) {}

  Result<MessageTemplate> Run() {
    if (text_.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument, "empty template");
    }
    RETURN_IF_ERROR(CheckUtf8());
    while (pos_ < text_.size()) {
      RETURN_IF_ERROR(ParseTextAt());
    }
    if (!open_tags_.empty()) {
      const OpenTag& tag = open_tags_.back();
      return Fail(ErrorCode::kInvalidArgument, "unclosed tag <{}> at {}", tag.name, At(tag.offset));
    }
    if (!has_visible_text_) {
      return Fail(ErrorCode::kInvalidArgument, "empty template: no text outside tags");
    }
    if (length_ > kTelegramMaxLength) {
      return Fail(ErrorCode::kInvalidArgument,
                  "too long: up to {} characters after rendering, Telegram allows {}", length_,
                  kTelegramMaxLength);
    }
    FlushLiteral();
    MessageTemplate result;
    result.source_ = std::string(text_);
    result.limits_ = limits_;
    result.pieces_ = std::move(pieces_);
    result.max_length_ = length_;
    return result;
  }

 private:
  struct OpenTag {
    std::string name;
    size_t offset;
  };

  // "line:column" of text_[offset], both 1-based, the column in characters.
  std::string At(size_t offset) const {
    const std::string_view before = text_.substr(0, offset);
    const size_t newline = before.rfind('\n');
    const size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
    const auto line = 1 + std::count(before.begin(), before.end(), '\n');
    return fmt::format("{}:{}", line, 1 + CodePointCount(before.substr(line_start)));
  }

  Status CheckUtf8() const {
    if (IsValidUtf8(text_)) return Ok();
    size_t pos = 0;
    while (pos < text_.size()) {
      const size_t n = SequenceLength(text_, pos);
      if (n == 0) return Fail(ErrorCode::kInvalidArgument, "invalid UTF-8 at {}", At(pos));
      pos += n;
    }
    return Ok();
  }

  char Peek(size_t ahead) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

  void FlushLiteral() {
    if (!literal_.empty()) pieces_.push_back(Piece{std::move(literal_), std::nullopt});
    literal_.clear();
  }

  void AddVisible(size_t units, bool is_space) {
    length_ += units;
    if (!is_space) has_visible_text_ = true;
  }

  // One unit of body text at pos_: a character, a brace or placeholder, a tag or an entity.
  Status ParseTextAt() {
    const char c = text_[pos_];
    if (c == '{' || c == '}') return ParseBrace(Context::kText);
    if (c == '<') return ParseTag();
    if (c == '&') return ParseEntity();
    const size_t n = SequenceLength(text_, pos_);
    literal_.append(text_.substr(pos_, n));
    pos_ += n;
    AddVisible(n == 4 ? 2 : 1, IsSpace(c));
    return Ok();
  }

  // At '{' or '}': a literal brace ("{{", "}}") or a placeholder.
  Status ParseBrace(Context context) {
    const size_t start = pos_;
    if (text_[pos_] == '}') {
      if (Peek(1) != '}') {
        return Fail(ErrorCode::kInvalidArgument,
                    "unmatched \"}}\" at {} (write }}}} for a literal }})", At(start));
      }
      literal_ += '}';
      pos_ += 2;
      if (context == Context::kText) AddVisible(1, false);
      return Ok();
    }
    if (Peek(1) == '{') {
      literal_ += '{';
      pos_ += 2;
      if (context == Context::kText) AddVisible(1, false);
      return Ok();
    }
    const size_t close = text_.find_first_of("}{\n", pos_ + 1);
    if (close == std::string_view::npos || text_[close] != '}') {
      return Fail(ErrorCode::kInvalidArgument,
                  "unterminated placeholder \"{{\" at {} (write {{{{ for a literal {{)", At(start));
    }
    const std::string_view name = text_.substr(pos_ + 1, close - pos_ - 1);
    const auto known = std::find(kPlaceholderNames.begin(), kPlaceholderNames.end(), name);
    if (known == kPlaceholderNames.end()) {
      return Fail(ErrorCode::kInvalidArgument, "unknown placeholder {{{}}} at {}; known: {}",
                  Shorten(name, 40), At(start), kKnownPlaceholders);
    }
    if (context == Context::kAttribute && !in_href_) {
      return Fail(ErrorCode::kInvalidArgument,
                  "placeholder {{{}}} at {} is not allowed here; only in text and <a href=\"...\">",
                  name, At(start));
    }
    const auto field = static_cast<Field>(known - kPlaceholderNames.begin());
    FlushLiteral();
    pieces_.push_back(Piece{std::string(), field, context});
    pos_ = close + 1;
    if (context == Context::kText) AddVisible(Limit(field), false);
    return Ok();
  }

  size_t Limit(Field field) const {
    switch (field) {
      case Field::kFirstName:
      case Field::kLastName:
        return limits_.max_name;
      case Field::kUsername:
        return limits_.max_username;
      case Field::kLink:
        return limits_.max_link;
      case Field::kCampaign:
        return limits_.max_campaign;
    }
    return 0;
  }

  // At '&': an entity, copied as written. In text it counts as one character (two above U+FFFF).
  Status ParseEntity() {
    const size_t start = pos_;
    size_t end = pos_ + 1;
    while (end < text_.size() && (IsNameChar(text_[end]) || text_[end] == '#')) ++end;
    const std::string_view body = text_.substr(pos_ + 1, end - pos_ - 1);
    if (body.empty() || end >= text_.size() || text_[end] != ';') {
      return Fail(ErrorCode::kInvalidArgument, "stray \"&\" at {} (write &amp; for a literal &)",
                  At(start));
    }
    const std::string_view entity = text_.substr(start, end - start + 1);
    size_t units = 1;
    if (body.front() == '#') {
      const bool hex = body.size() > 1 && (body[1] == 'x' || body[1] == 'X');
      const std::string_view digits = body.substr(hex ? 2 : 1);
      const bool well_formed =
          !digits.empty() && digits.size() <= 8 &&
          std::all_of(digits.begin(), digits.end(), hex ? IsHexDigit : IsDigit);
      uint32_t cp = 0;
      const bool parsed =
          well_formed &&
          std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10).ec ==
              std::errc();
      if (!parsed || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return Fail(ErrorCode::kInvalidArgument, "bad entity {} at {}: not a Unicode character",
                    entity, At(start));
      }
      units = cp > 0xFFFF ? 2 : 1;
    } else if (body != "lt" && body != "gt" && body != "amp" && body != "quot") {
      return Fail(ErrorCode::kInvalidArgument,
                  "unsupported entity {} at {}; use &lt; &gt; &amp; &quot; or a numeric one such "
                  "as &#160;",
                  entity, At(start));
    }
    literal_.append(entity);
    pos_ = end + 1;
    if (!in_tag_) AddVisible(units, false);
    return Ok();
  }

  std::string_view ReadName() {
    const size_t start = pos_;
    while (pos_ < text_.size() && IsNameChar(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  void SkipSpaces() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
  }

  Error Unexpected(std::string_view tag) const {
    if (pos_ >= text_.size()) {
      return Fail(ErrorCode::kInvalidArgument, "unterminated tag <{}> at {}", tag, At(tag_start_));
    }
    const size_t n = std::max<size_t>(SequenceLength(text_, pos_), 1);
    return Fail(ErrorCode::kInvalidArgument, "malformed tag <{}>: unexpected \"{}\" at {}", tag,
                text_.substr(pos_, n), At(pos_));
  }

  // At '<': a start or end tag, copied as written (placeholders in href become pieces).
  Status ParseTag() {
    tag_start_ = pos_;
    const bool closing = Peek(1) == '/';
    if (!IsAsciiAlpha(Peek(closing ? 2 : 1))) {
      return Fail(ErrorCode::kInvalidArgument, "stray \"<\" at {} (write &lt; for a literal <)",
                  At(tag_start_));
    }
    pos_ += closing ? 2 : 1;
    const std::string name = Lower(ReadName());
    if (std::find(kTags.begin(), kTags.end(), name) == kTags.end()) {
      return Fail(ErrorCode::kInvalidArgument, "unsupported tag <{}{}> at {}; allowed: {}",
                  closing ? "/" : "", name, At(tag_start_), kAllowedTags);
    }
    if (closing) return ParseEndTag(name);
    return ParseStartTag(name);
  }

  Status ParseEndTag(const std::string& name) {
    SkipSpaces();
    if (Peek(0) != '>') return Unexpected("/" + name);
    if (open_tags_.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "closing tag </{}> at {} has no opening tag", name,
                  At(tag_start_));
    }
    const OpenTag& open = open_tags_.back();
    if (open.name != name) {
      return Fail(ErrorCode::kInvalidArgument,
                  "closing tag </{}> at {} does not match <{}> opened at {}", name, At(tag_start_),
                  open.name, At(open.offset));
    }
    open_tags_.pop_back();
    literal_.append(text_.substr(tag_start_, pos_ + 1 - tag_start_));
    ++pos_;
    return Ok();
  }

  struct Attribute {
    std::string name;
    std::string value;  // as written, without quotes; placeholders left out
    bool has_placeholder = false;
    size_t offset = 0;
  };

  Status ParseStartTag(const std::string& name) {
    literal_.append(text_.substr(tag_start_, pos_ - tag_start_));
    in_tag_ = true;
    std::vector<Attribute> attributes;
    while (true) {
      const size_t before_space = pos_;
      SkipSpaces();
      literal_.append(text_.substr(before_space, pos_ - before_space));
      if (Peek(0) == '>') break;
      if (pos_ == before_space || !IsNameChar(Peek(0))) return Unexpected(name);
      ASSIGN_OR_RETURN(Attribute attribute, ParseAttribute(name));
      attributes.push_back(std::move(attribute));
    }
    literal_ += '>';
    ++pos_;
    in_tag_ = false;
    RETURN_IF_ERROR(CheckAttributes(name, attributes));
    open_tags_.push_back(OpenTag{name, tag_start_});
    return Ok();
  }

  Result<Attribute> ParseAttribute(const std::string& tag) {
    Attribute attribute;
    attribute.offset = pos_;
    attribute.name = Lower(ReadName());
    literal_.append(attribute.name);
    if (Peek(0) != '=') return attribute;
    literal_ += '=';
    ++pos_;
    const char quote = Peek(0);
    if (quote != '"' && quote != '\'') {
      return Fail(ErrorCode::kInvalidArgument, "attribute {} of <{}> at {} needs a quoted value",
                  attribute.name, tag, At(attribute.offset));
    }
    literal_ += quote;
    ++pos_;
    in_href_ = tag == "a" && attribute.name == "href";
    while (Peek(0) != quote) {
      if (pos_ >= text_.size()) return Unexpected(tag);
      const char c = text_[pos_];
      const size_t piece_count = pieces_.size();
      const size_t literal_size = literal_.size();
      if (c == '{' || c == '}') {
        RETURN_IF_ERROR(ParseBrace(Context::kAttribute));
        if (pieces_.size() > piece_count && pieces_.back().field) {
          attribute.has_placeholder = true;
        } else {
          attribute.value.append(literal_.substr(literal_size));
        }
      } else if (c == '&') {
        RETURN_IF_ERROR(ParseEntity());
        attribute.value.append(literal_.substr(literal_size));
      } else {
        const size_t n = SequenceLength(text_, pos_);
        literal_.append(text_.substr(pos_, n));
        attribute.value.append(text_.substr(pos_, n));
        pos_ += n;
      }
    }
    in_href_ = false;
    literal_ += quote;
    ++pos_;
    return attribute;
  }

  Status CheckAttributes(const std::string& tag, const std::vector<Attribute>& attributes) const {
    std::string_view required;
    if (tag == "a") required = "href";
    if (tag == "span") required = "class";
    if (tag == "tg-emoji") required = "emoji-id";
    bool has_required = required.empty();
    for (const Attribute& a : attributes) {
      const bool allowed =
          (tag == "a" && a.name == "href") || (tag == "span" && a.name == "class") ||
          (tag == "tg-emoji" && a.name == "emoji-id") ||
          (tag == "blockquote" && a.name == "expandable") || (tag == "code" && a.name == "class");
      if (!allowed) {
        return Fail(ErrorCode::kInvalidArgument, "unsupported attribute {} of <{}> at {}", a.name,
                    tag, At(a.offset));
      }
      if (a.name == "href" && a.value.empty() && !a.has_placeholder) {
        return Fail(ErrorCode::kInvalidArgument, "empty href of <a> at {}", At(a.offset));
      }
      if (tag == "span" && a.value != "tg-spoiler") {
        return Fail(ErrorCode::kInvalidArgument, "<span> at {} needs class=\"tg-spoiler\"",
                    At(tag_start_));
      }
      if (a.name == "emoji-id" &&
          (a.value.empty() || !std::all_of(a.value.begin(), a.value.end(), IsDigit))) {
        return Fail(ErrorCode::kInvalidArgument, "emoji-id of <tg-emoji> at {} must be a number",
                    At(a.offset));
      }
      if (tag == "code" && !a.value.starts_with("language-")) {
        return Fail(ErrorCode::kInvalidArgument, "class of <code> at {} must be language-NAME",
                    At(a.offset));
      }
      if (a.name == required) has_required = true;
    }
    if (!has_required) {
      return Fail(ErrorCode::kInvalidArgument, "<{}> at {} needs the {} attribute", tag,
                  At(tag_start_), required);
    }
    return Ok();
  }

  std::string_view text_;
  TemplateLimits limits_;
  size_t pos_ = 0;
  std::vector<Piece> pieces_;
  std::string literal_;
  std::vector<OpenTag> open_tags_;
  size_t length_ = 0;
  bool has_visible_text_ = false;
  bool in_tag_ = false;
  bool in_href_ = false;
  size_t tag_start_ = 0;
};

Result<MessageTemplate> MessageTemplate::Parse(std::string_view text, TemplateLimits limits) {
  return Parser(text, limits).Run();
}

std::string MessageTemplate::Render(const TemplateValues& values) const {
  std::string out;
  for (const Piece& piece : pieces_) {
    if (!piece.field) {
      out += piece.html;
      continue;
    }
    const auto [value, limit] = [&]() -> std::pair<std::string_view, size_t> {
      switch (*piece.field) {
        case Field::kFirstName:
          return {values.first_name, limits_.max_name};
        case Field::kLastName:
          return {values.last_name, limits_.max_name};
        case Field::kUsername:
          return {values.username, limits_.max_username};
        case Field::kLink:
          return {values.link, limits_.max_link};
        case Field::kCampaign:
          return {values.campaign, limits_.max_campaign};
      }
      return {};
    }();
    out +=
        EscapeHtml(CleanValue(value, limit),
                   piece.context == Context::kAttribute ? Apostrophe::kEscape : Apostrophe::kKeep);
  }
  return out;
}

bool MessageTemplate::uses(std::string_view name) const {
  const auto known = std::find(kPlaceholderNames.begin(), kPlaceholderNames.end(), name);
  if (known == kPlaceholderNames.end()) return false;
  const auto field = static_cast<Field>(known - kPlaceholderNames.begin());
  return std::any_of(pieces_.begin(), pieces_.end(),
                     [field](const Piece& piece) { return piece.field == field; });
}

std::string EscapeHtml(std::string_view text) { return EscapeHtml(text, Apostrophe::kKeep); }

TemplateLimits CampaignTemplateLimits(std::string_view campaign_name,
                                      std::string_view shared_link) {
  TemplateLimits limits;
  if (!campaign_name.empty()) limits.max_campaign = campaign_name.size();
  limits.max_link = std::max(limits.max_link, shared_link.size());
  return limits;
}

}  // namespace tginvite::core
