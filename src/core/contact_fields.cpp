#include "core/contact_fields.h"

#include <algorithm>
#include <charconv>
#include <system_error>
#include <utility>

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include "core/utf8.h"

namespace tginvite::core {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

constexpr size_t kMaxNameCodePoints = 64;
constexpr size_t kMinUsernameLength = 5;
constexpr size_t kMaxUsernameLength = 32;

// In the order of the Column enumerators.
constexpr std::array<std::string_view, 6> kColumnNames = {
    "telegram_user_id", "username", "first_name", "last_name", "phone", "consent"};

constexpr std::array<std::string_view, 6> kUsernameLinkPrefixes = {
    "https://t.me/",       "http://t.me/", "https://telegram.me/",
    "http://telegram.me/", "t.me/",        "telegram.me/"};

constexpr std::array<std::string_view, 6> kConsentYes = {"yes", "y",        "true",
                                                         "1",   "opted-in", "opt-in"};
constexpr std::array<std::string_view, 5> kConsentNo = {"no", "n", "false", "0", ""};

std::string_view ColumnName(Column column) { return kColumnNames[static_cast<size_t>(column)]; }

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) { return AsciiLower(c); });
  return lower;
}

std::string AsciiUpper(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) {
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  });
  return upper;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsAsciiSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsAsciiSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool StartsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && AsciiLower(text.substr(0, prefix.size())) == prefix;
}

bool AllDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsAsciiDigit);
}

struct CodePoint {
  char32_t value;
  size_t length;
};

CodePoint DecodeAt(std::string_view valid_utf8, size_t pos) {
  const auto lead = static_cast<unsigned char>(valid_utf8[pos]);
  if (lead < 0x80) return {lead, 1};
  const size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
  char32_t value = lead & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    value = (value << 6) | (static_cast<unsigned char>(valid_utf8[pos + i]) & 0x3F);
  }
  return {value, length};
}

bool IsUnicodeWhitespace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

bool IsControl(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

bool IsValidUsername(std::string_view name) {
  if (name.size() < kMinUsernameLength || name.size() > kMaxUsernameLength) return false;
  if (name.front() < 'a' || name.front() > 'z') return false;
  if (name.back() == '_') return false;
  if (name.find("__") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || IsAsciiDigit(c) || c == '_'; });
}

const PhoneNumberUtil& PhoneUtil() {
  static const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  return util;
}

}  // namespace

Result<HeaderMap> HeaderMap::FromHeader(const std::vector<std::string>& header) {
  HeaderMap map;
  map.width_ = header.size();
  for (size_t i = 0; i < header.size(); ++i) {
    if (!IsValidUtf8(header[i])) {
      return Fail(ErrorCode::kInvalidArgument, "header: column {} is not valid UTF-8", i + 1);
    }
    const std::string_view name = Trim(header[i]);
    const auto known = std::find(kColumnNames.begin(), kColumnNames.end(), AsciiLower(name));
    if (known == kColumnNames.end()) {
      if (!name.empty()) map.unknown_columns_.emplace_back(name);
      continue;
    }
    auto& index = map.indexes_[static_cast<size_t>(known - kColumnNames.begin())];
    if (index.has_value()) {
      return Fail(ErrorCode::kInvalidArgument, "header: column '{}' appears twice", *known);
    }
    index = i;
  }
  if (!map.IndexOf(Column::kTelegramUserId) && !map.IndexOf(Column::kUsername) &&
      !map.IndexOf(Column::kPhone)) {
    return Fail(ErrorCode::kInvalidArgument,
                "header: needs at least one of telegram_user_id, username, phone");
  }
  return map;
}

std::optional<size_t> HeaderMap::IndexOf(Column column) const {
  return indexes_[static_cast<size_t>(column)];
}

ContactParser::ContactParser(HeaderMap header, std::string default_region)
    : header_(std::move(header)), default_region_(std::move(default_region)) {}

Result<ContactRecord> ContactParser::Parse(const std::vector<std::string>& fields) const {
  if (fields.size() != header_.width()) {
    return Fail(ErrorCode::kInvalidArgument, "expected {} fields, found {}", header_.width(),
                fields.size());
  }
  const auto value_of = [&](Column column) -> std::string_view {
    const std::optional<size_t> index = header_.IndexOf(column);
    return index ? Trim(fields[*index]) : std::string_view();
  };

  ContactRecord contact;
  if (const std::string_view id = value_of(Column::kTelegramUserId); !id.empty()) {
    Result<int64_t> parsed = ParseTelegramUserId(id);
    if (!parsed) return parsed.error().WithContext(ColumnName(Column::kTelegramUserId));
    contact.telegram_user_id = *parsed;
  }
  if (const std::string_view username = value_of(Column::kUsername); !username.empty()) {
    Result<std::string> parsed = NormalizeUsername(username);
    if (!parsed) return parsed.error().WithContext(ColumnName(Column::kUsername));
    contact.username = std::move(parsed).value();
  }
  if (const std::string_view phone = value_of(Column::kPhone); !phone.empty()) {
    Result<std::string> parsed = NormalizePhone(phone, default_region_);
    if (!parsed) return parsed.error().WithContext(ColumnName(Column::kPhone));
    contact.phone = std::move(parsed).value();
  }
  Result<std::string> first_name = NormalizeName(value_of(Column::kFirstName));
  if (!first_name) return first_name.error().WithContext(ColumnName(Column::kFirstName));
  contact.first_name = std::move(first_name).value();
  Result<std::string> last_name = NormalizeName(value_of(Column::kLastName));
  if (!last_name) return last_name.error().WithContext(ColumnName(Column::kLastName));
  contact.last_name = std::move(last_name).value();
  if (header_.IndexOf(Column::kConsent)) {
    const std::string consent = AsciiLower(value_of(Column::kConsent));
    if (std::find(kConsentNo.begin(), kConsentNo.end(), consent) != kConsentNo.end()) {
      return Fail(ErrorCode::kInvalidArgument, "consent: not given");
    }
    if (std::find(kConsentYes.begin(), kConsentYes.end(), consent) == kConsentYes.end()) {
      return Fail(ErrorCode::kInvalidArgument, "consent: expected yes or no");
    }
  }
  if (!contact.telegram_user_id && contact.username.empty() && contact.phone.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "no telegram_user_id, username or phone");
  }
  return contact;
}

Result<int64_t> ParseTelegramUserId(std::string_view text) {
  const std::string_view digits = Trim(text);
  if (!AllDigits(digits)) return Fail(ErrorCode::kInvalidArgument, "not a positive integer");
  int64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error == std::errc::result_out_of_range) {
    return Fail(ErrorCode::kInvalidArgument, "too large for a user id");
  }
  if (error != std::errc() || end != digits.data() + digits.size() || value <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "not a positive integer");
  }
  return value;
}

Result<std::string> NormalizeUsername(std::string_view text) {
  std::string_view name = Trim(text);
  for (const std::string_view prefix : kUsernameLinkPrefixes) {
    if (StartsWithIgnoringCase(name, prefix)) {
      name.remove_prefix(prefix.size());
      break;
    }
  }
  if (name.starts_with('@')) name.remove_prefix(1);
  std::string lower = AsciiLower(name);
  if (!IsValidUsername(lower)) return Fail(ErrorCode::kInvalidArgument, "not a valid username");
  return lower;
}

Result<std::string> NormalizePhone(std::string_view text, std::string_view default_region) {
  const std::string_view number_text = Trim(text);
  if (number_text.empty() || !IsValidUtf8(number_text)) {
    return Fail(ErrorCode::kInvalidArgument, "not a valid phone number");
  }
  const std::string region = default_region.empty() ? "ZZ" : AsciiUpper(default_region);
  PhoneNumber number;
  const PhoneNumberUtil::ErrorType error =
      PhoneUtil().Parse(std::string(number_text), region, &number);
  if (error == PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR && default_region.empty() &&
      !number_text.starts_with('+')) {
    return Fail(ErrorCode::kInvalidArgument, "needs a country code (+...)");
  }
  if (error != PhoneNumberUtil::NO_PARSING_ERROR || !PhoneUtil().IsValidNumber(number)) {
    return Fail(ErrorCode::kInvalidArgument, "not a valid phone number");
  }
  std::string e164;
  PhoneUtil().Format(number, PhoneNumberUtil::E164, &e164);
  return e164;
}

Result<std::string> NormalizeName(std::string_view text) {
  if (!IsValidUtf8(text)) return Fail(ErrorCode::kInvalidArgument, "not valid UTF-8");
  std::string name;
  name.reserve(text.size());
  size_t code_points = 0;
  bool pending_space = false;
  for (size_t pos = 0; pos < text.size();) {
    const CodePoint c = DecodeAt(text, pos);
    if (IsUnicodeWhitespace(c.value)) {
      pending_space = !name.empty();
    } else if (IsControl(c.value)) {
      return Fail(ErrorCode::kInvalidArgument, "contains control characters");
    } else {
      if (pending_space) {
        name.push_back(' ');
        ++code_points;
        pending_space = false;
      }
      name.append(text.substr(pos, c.length));
      ++code_points;
    }
    pos += c.length;
  }
  if (code_points > kMaxNameCodePoints) {
    return Fail(ErrorCode::kInvalidArgument, "longer than {} characters", kMaxNameCodePoints);
  }
  return name;
}

std::string IdentityKey(const ContactRecord& contact) {
  if (contact.telegram_user_id) return fmt::format("id:{}", *contact.telegram_user_id);
  if (!contact.username.empty()) return "username:" + contact.username;
  return "phone:" + contact.phone;
}

Result<std::string> ParseUserRef(std::string_view text) {
  const std::string_view ref = Trim(text);
  if (AllDigits(ref)) {
    ASSIGN_OR_RETURN(const int64_t id, ParseTelegramUserId(ref));
    return fmt::format("id:{}", id);
  }
  if (ref.starts_with('+')) {
    ASSIGN_OR_RETURN(std::string phone, NormalizePhone(ref, ""));
    return "phone:" + phone;
  }
  Result<std::string> username = NormalizeUsername(ref);
  if (username) return "username:" + *username;
  if (ref.starts_with('@')) return username.error();
  return Fail(ErrorCode::kInvalidArgument, "expected a user id, @username or +phone number");
}

}  // namespace tginvite::core
