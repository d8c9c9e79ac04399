// From CSV cells to a normalised ContactRecord: the header's column map, the per-row parser and
// the field normalisers it uses (also used for values an operator types, e.g. a suppressed user).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/contact.h"
#include "core/error.h"

namespace tginvite::core {

enum class Column { kTelegramUserId, kUsername, kFirstName, kLastName, kPhone, kConsent };

// Where the known columns (telegram_user_id, username, first_name, last_name, phone, consent)
// sit in a header row. Names are matched trimmed and case-insensitively; other names are kept as
// unknown columns for the caller to report once.
class HeaderMap {
 public:
  // kInvalidArgument when a known column appears twice, when none of telegram_user_id, username,
  // phone is present, or when a header cell is not valid UTF-8; the message starts "header: ".
  static Result<HeaderMap> FromHeader(const std::vector<std::string>& header);

  // Non-empty header cells that name no known column, trimmed, in header order.
  const std::vector<std::string>& unknown_columns() const { return unknown_columns_; }
  std::optional<size_t> IndexOf(Column column) const;
  // The number of header cells; every row must have this many fields.
  size_t width() const { return width_; }

 private:
  static constexpr size_t kColumnCount = 6;

  HeaderMap() = default;

  std::array<std::optional<size_t>, kColumnCount> indexes_;
  std::vector<std::string> unknown_columns_;
  size_t width_ = 0;
};

// Turns one CSV row into a contact. Each known column's value is trimmed and an empty value means
// "not given". Errors are kInvalidArgument with the reason prefixed by the column, checked in the
// order telegram_user_id, username, phone, first_name, last_name, consent: e.g.
// "phone: not a valid phone number", "consent: not given", "expected 6 fields, found 7",
// "no telegram_user_id, username or phone". Without a consent column consent is assumed.
// Names are kept verbatim (escaping is the renderer's and exporter's job).
// Thread-compatible: Parse is const and keeps no state.
class ContactParser {
 public:
  // `default_region` is an ISO 3166 code like "DE" used for phones without a country code;
  // "" requires every phone to be international (+...).
  ContactParser(HeaderMap header, std::string default_region);

  Result<ContactRecord> Parse(const std::vector<std::string>& fields) const;

 private:
  HeaderMap header_;
  std::string default_region_;
};

// A positive decimal integer that fits int64; surrounding spaces are ignored.
Result<int64_t> ParseTelegramUserId(std::string_view text);

// The lower-case username without '@' or a t.me / telegram.me link prefix. Valid usernames have
// 5..32 characters of [a-z0-9_], start with a letter, do not end with '_' and have no "__".
Result<std::string> NormalizeUsername(std::string_view text);

// The phone number in E.164 ("+49301234567"). `default_region` as for ContactParser.
Result<std::string> NormalizePhone(std::string_view text, std::string_view default_region);

// The name trimmed with every run of whitespace folded into one space. Rejects invalid UTF-8,
// other control characters, and more than 64 code points.
Result<std::string> NormalizeName(std::string_view text);

// The identity of a contact: "id:<user id>" if it has one, else "username:<name>", else
// "phone:<e164>".
std::string IdentityKey(const ContactRecord& contact);

// The identity key of a user reference typed by an operator: a user id ("id:N"), "@name" or a bare
// username ("username:name"), or an international phone number ("phone:+..."). kInvalidArgument
// otherwise.
Result<std::string> ParseUserRef(std::string_view text);

}  // namespace tginvite::core
