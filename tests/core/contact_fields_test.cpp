#include "core/contact_fields.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tginvite::core {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

template <typename T>
std::string ErrorOf(const Result<T>& result) {
  if (result) return "<ok>";
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  return result.error().message;
}

HeaderMap Header(const std::vector<std::string>& cells) {
  Result<HeaderMap> header = HeaderMap::FromHeader(cells);
  EXPECT_TRUE(header) << header.error().message;
  return std::move(header).value();
}

const std::vector<std::string> kFullHeader = {"telegram_user_id", "username", "first_name",
                                              "last_name",        "phone",    "consent"};

TEST(HeaderMapTest, MapsKnownColumnsTrimmedAndCaseInsensitive) {
  const HeaderMap header = Header({" Phone ", "notes", "USERNAME", "first_name", "", "Extra"});
  EXPECT_EQ(header.width(), 6u);
  EXPECT_EQ(header.IndexOf(Column::kPhone), 0u);
  EXPECT_EQ(header.IndexOf(Column::kUsername), 2u);
  EXPECT_EQ(header.IndexOf(Column::kFirstName), 3u);
  EXPECT_EQ(header.IndexOf(Column::kTelegramUserId), std::nullopt);
  EXPECT_EQ(header.IndexOf(Column::kLastName), std::nullopt);
  EXPECT_EQ(header.IndexOf(Column::kConsent), std::nullopt);
  EXPECT_THAT(header.unknown_columns(), ElementsAre("notes", "Extra"));
}

TEST(HeaderMapTest, DoesNotAcceptAliases) {
  EXPECT_EQ(ErrorOf(HeaderMap::FromHeader({"user_id", "id", "first_name"})),
            "header: needs at least one of telegram_user_id, username, phone");
}

TEST(HeaderMapTest, RejectsDuplicateColumn) {
  EXPECT_EQ(ErrorOf(HeaderMap::FromHeader({"phone", "username", "PHONE"})),
            "header: column 'phone' appears twice");
}

TEST(HeaderMapTest, RejectsHeaderWithoutIdentifierColumn) {
  EXPECT_EQ(ErrorOf(HeaderMap::FromHeader({"first_name", "last_name", "consent"})),
            "header: needs at least one of telegram_user_id, username, phone");
  EXPECT_EQ(ErrorOf(HeaderMap::FromHeader({})),
            "header: needs at least one of telegram_user_id, username, phone");
}

TEST(HeaderMapTest, RejectsInvalidUtf8) {
  EXPECT_EQ(ErrorOf(HeaderMap::FromHeader({"username", "bad\xC3"})),
            "header: column 2 is not valid UTF-8");
}

TEST(ContactFieldsTest, UserIdAcceptsPositiveIntegers) {
  EXPECT_EQ(*ParseTelegramUserId("1"), 1);
  EXPECT_EQ(*ParseTelegramUserId(" 123456789 "), 123456789);
  EXPECT_EQ(*ParseTelegramUserId("9223372036854775807"), INT64_MAX);
}

TEST(ContactFieldsTest, UserIdRejectsEverythingElse) {
  EXPECT_EQ(ErrorOf(ParseTelegramUserId("0")), "not a positive integer");
  EXPECT_EQ(ErrorOf(ParseTelegramUserId("-5")), "not a positive integer");
  EXPECT_EQ(ErrorOf(ParseTelegramUserId("+5")), "not a positive integer");
  EXPECT_EQ(ErrorOf(ParseTelegramUserId("12a")), "not a positive integer");
  EXPECT_EQ(ErrorOf(ParseTelegramUserId("1.5e9")), "not a positive integer");
  EXPECT_EQ(ErrorOf(ParseTelegramUserId("1 2")), "not a positive integer");
  EXPECT_EQ(ErrorOf(ParseTelegramUserId("")), "not a positive integer");
  EXPECT_EQ(ErrorOf(ParseTelegramUserId("99999999999999999999")), "too large for a user id");
  EXPECT_EQ(ErrorOf(ParseTelegramUserId("9223372036854775808")), "too large for a user id");
}

TEST(NormalizeUsernameTest, AcceptsAndNormalises) {
  EXPECT_EQ(*NormalizeUsername("@Bob_Smith"), "bob_smith");
  EXPECT_EQ(*NormalizeUsername("Bob_Smith"), "bob_smith");
  EXPECT_EQ(*NormalizeUsername(" t.me/Bob_Smith "), "bob_smith");
  EXPECT_EQ(*NormalizeUsername("https://t.me/Bob_Smith"), "bob_smith");
  EXPECT_EQ(*NormalizeUsername("HTTPS://T.ME/bob_smith"), "bob_smith");
  EXPECT_EQ(*NormalizeUsername("telegram.me/bob_smith"), "bob_smith");
  EXPECT_EQ(*NormalizeUsername("abcde"), "abcde");
  EXPECT_EQ(*NormalizeUsername("a2345678901234567890123456789012"),
            "a2345678901234567890123456789012");
}

TEST(NormalizeUsernameTest, RejectsInvalid) {
  for (const char* bad : {"ab", "@abcd", "1abcde", "_abcde", "abcde_", "ab__cd", "bob-smith",
                          "bob smith", "a23456789012345678901234567890123", "@", "",
                          "b\xC3\xB6"
                          "bsmith",
                          "t.me/", "https://example.com/bob_smith"}) {
    EXPECT_EQ(ErrorOf(NormalizeUsername(bad)), "not a valid username") << bad;
  }
}

TEST(NormalizePhoneTest, UsesDefaultRegionForNationalNumbers) {
  EXPECT_EQ(*NormalizePhone("030 1234567", "DE"), "+49301234567");
  EXPECT_EQ(*NormalizePhone("(030) 123-4567", "de"), "+49301234567");
  EXPECT_EQ(*NormalizePhone("0049 30 1234567", "DE"), "+49301234567");
}

TEST(NormalizePhoneTest, AcceptsInternationalNumbersWithAnyRegion) {
  EXPECT_EQ(*NormalizePhone("+49 30 1234567", ""), "+49301234567");
  EXPECT_EQ(*NormalizePhone("+49 30 1234567", "US"), "+49301234567");
  EXPECT_EQ(*NormalizePhone(" +1 650-253-0000 ", ""), "+16502530000");
}

TEST(NormalizePhoneTest, RejectsNationalNumberWithoutRegion) {
  EXPECT_EQ(ErrorOf(NormalizePhone("030 1234567", "")), "needs a country code (+...)");
}

TEST(NormalizePhoneTest, RejectsGarbage) {
  EXPECT_EQ(ErrorOf(NormalizePhone("not a phone", "DE")), "not a valid phone number");
  EXPECT_EQ(ErrorOf(NormalizePhone("+49 1", "")), "not a valid phone number");
  EXPECT_EQ(ErrorOf(NormalizePhone("12", "DE")), "not a valid phone number");
  EXPECT_EQ(ErrorOf(NormalizePhone("+999 1234567", "")), "not a valid phone number");
  EXPECT_EQ(ErrorOf(NormalizePhone("", "DE")), "not a valid phone number");
  EXPECT_EQ(ErrorOf(NormalizePhone("+49\xC3 30 1234567", "")), "not a valid phone number");
}

TEST(NormalizeNameTest, TrimsAndFoldsWhitespace) {
  EXPECT_EQ(*NormalizeName("  Anna \t\n Maria\r\nSchmidt  "), "Anna Maria Schmidt");
  EXPECT_EQ(*NormalizeName("Jos\xC3\xA9\xC2\xA0Garc\xC3\xAD"
                           "a"),
            "Jos\xC3\xA9 Garc\xC3\xAD"
            "a");
  EXPECT_EQ(*NormalizeName(""), "");
  EXPECT_EQ(*NormalizeName(" \t "), "");
}

TEST(NormalizeNameTest, KeepsMarkupAndFormulasVerbatim) {
  EXPECT_EQ(*NormalizeName("<img src=x onerror=alert(1)>"), "<img src=x onerror=alert(1)>");
  EXPECT_EQ(*NormalizeName("=HYPERLINK(\"x\")"), "=HYPERLINK(\"x\")");
}

TEST(NormalizeNameTest, RejectsControlCharactersAndInvalidUtf8) {
  EXPECT_EQ(ErrorOf(NormalizeName(std::string("a\0b", 3))), "contains control characters");
  EXPECT_EQ(ErrorOf(NormalizeName("bell\x07")), "contains control characters");
  EXPECT_EQ(ErrorOf(NormalizeName("del\x7F")), "contains control characters");
  EXPECT_EQ(ErrorOf(NormalizeName("c1\xC2\x9B")), "contains control characters");
  EXPECT_EQ(ErrorOf(NormalizeName("bad\xC3")), "not valid UTF-8");
}

TEST(NormalizeNameTest, LimitsLengthInCodePointsAfterFolding) {
  std::string emoji_64;
  for (int i = 0; i < 64; ++i) emoji_64 += "\xF0\x9F\x98\x80";
  EXPECT_EQ(*NormalizeName(emoji_64), emoji_64);
  EXPECT_EQ(*NormalizeName("  " + std::string(32, 'a') + "\n\n\n" + std::string(31, 'b') + "  "),
            std::string(32, 'a') + " " + std::string(31, 'b'));
  EXPECT_EQ(ErrorOf(NormalizeName(emoji_64 + "x")), "longer than 64 characters");
  EXPECT_EQ(ErrorOf(NormalizeName(std::string(32, 'a') + " " + std::string(32, 'b'))),
            "longer than 64 characters");
}

TEST(ContactParserTest, ParsesFullRow) {
  const ContactParser parser(Header(kFullHeader), "DE");
  const Result<ContactRecord> contact =
      parser.Parse({" 42 ", "@Bob_Smith", " Bob ", "Smith  Jr", "030 1234567", "Yes"});
  ASSERT_TRUE(contact) << contact.error().message;
  EXPECT_EQ(contact->telegram_user_id, 42);
  EXPECT_EQ(contact->username, "bob_smith");
  EXPECT_EQ(contact->first_name, "Bob");
  EXPECT_EQ(contact->last_name, "Smith Jr");
  EXPECT_EQ(contact->phone, "+49301234567");
}

TEST(ContactParserTest, EmptyValuesMeanNotGiven) {
  const ContactParser parser(Header(kFullHeader), "");
  const Result<ContactRecord> contact = parser.Parse({"", "  ", "", "", "+4930 1234567", "y"});
  ASSERT_TRUE(contact) << contact.error().message;
  EXPECT_EQ(contact->telegram_user_id, std::nullopt);
  EXPECT_THAT(contact->username, IsEmpty());
  EXPECT_THAT(contact->first_name, IsEmpty());
  EXPECT_EQ(contact->phone, "+49301234567");
}

TEST(ContactParserTest, RejectsWrongFieldCount) {
  const ContactParser parser(Header(kFullHeader), "");
  EXPECT_EQ(ErrorOf(parser.Parse({"1", "", "", "", "", "yes", "extra"})),
            "expected 6 fields, found 7");
  EXPECT_EQ(ErrorOf(parser.Parse({"1"})), "expected 6 fields, found 1");
}

// Invariant I8 (docs/invariants.md)
TEST(ContactParserTest, ReportsFirstFailingColumnInFixedOrder) {
  const ContactParser parser(Header(kFullHeader), "");
  EXPECT_EQ(ErrorOf(parser.Parse({"12a", "ab", "\x07", "", "junk", "maybe"})),
            "telegram_user_id: not a positive integer");
  EXPECT_EQ(ErrorOf(parser.Parse({"", "ab", "\x07", "", "junk", "maybe"})),
            "username: not a valid username");
  EXPECT_EQ(ErrorOf(parser.Parse({"", "", "\x07", "", "junk", "maybe"})),
            "phone: not a valid phone number");
  EXPECT_EQ(ErrorOf(parser.Parse({"", "", "\x07", "", "+49301234567", "maybe"})),
            "first_name: contains control characters");
  EXPECT_EQ(ErrorOf(parser.Parse({"", "", "Bob", "bad\xC3", "+49301234567", "maybe"})),
            "last_name: not valid UTF-8");
  EXPECT_EQ(ErrorOf(parser.Parse({"", "", "Bob", "", "+49301234567", "maybe"})),
            "consent: expected yes or no");
}

TEST(ContactParserTest, RejectsLongFirstName) {
  const ContactParser parser(Header(kFullHeader), "");
  EXPECT_EQ(ErrorOf(parser.Parse({"7", "", std::string(65, 'a'), "", "", "yes"})),
            "first_name: longer than 64 characters");
}

// Invariant I13 (docs/invariants.md)
TEST(ContactParserTest, ConsentValues) {
  const ContactParser parser(Header(kFullHeader), "");
  for (const char* yes : {"yes", "Y", "TRUE", "1", "Opted-In", "opt-in", " yes "}) {
    EXPECT_TRUE(parser.Parse({"7", "", "", "", "", yes})) << yes;
  }
  for (const char* no : {"no", "N", "False", "0", "", "  "}) {
    EXPECT_EQ(ErrorOf(parser.Parse({"7", "", "", "", "", no})), "consent: not given") << no;
  }
  for (const char* other : {"maybe", "2", "oui"}) {
    EXPECT_EQ(ErrorOf(parser.Parse({"7", "", "", "", "", other})), "consent: expected yes or no")
        << other;
  }
}

TEST(ContactParserTest, AssumesConsentWithoutConsentColumn) {
  const ContactParser parser(Header({"username", "first_name"}), "");
  const Result<ContactRecord> contact = parser.Parse({"t.me/Alice_W", "Alice"});
  ASSERT_TRUE(contact) << contact.error().message;
  EXPECT_EQ(contact->username, "alice_w");
  EXPECT_EQ(contact->first_name, "Alice");
}

TEST(ContactParserTest, RejectsRowWithoutIdentifier) {
  const ContactParser parser(Header(kFullHeader), "");
  EXPECT_EQ(ErrorOf(parser.Parse({"", "", "Bob", "Smith", "", "yes"})),
            "no telegram_user_id, username or phone");
}

TEST(ContactParserTest, IgnoresUnknownColumns) {
  const ContactParser parser(Header({"notes", "phone"}), "DE");
  const Result<ContactRecord> contact = parser.Parse({"\x07 anything \xC3", "030 1234567"});
  ASSERT_TRUE(contact) << contact.error().message;
  EXPECT_EQ(contact->phone, "+49301234567");
}

TEST(ContactParserTest, KeepsHostileNamesVerbatim) {
  const ContactParser parser(Header({"username", "first_name", "last_name"}), "");
  const Result<ContactRecord> contact =
      parser.Parse({"bob_smith", "<img src=x onerror=alert(1)>", "=HYPERLINK(\"x\")"});
  ASSERT_TRUE(contact) << contact.error().message;
  EXPECT_EQ(contact->first_name, "<img src=x onerror=alert(1)>");
  EXPECT_EQ(contact->last_name, "=HYPERLINK(\"x\")");
}

TEST(ContactIdentityKeyTest, PrefersIdThenUsernameThenPhone) {
  EXPECT_EQ(IdentityKey({.telegram_user_id = 42,
                         .username = "bob_smith",
                         .first_name = "",
                         .last_name = "",
                         .phone = "+49301234567"}),
            "id:42");
  EXPECT_EQ(IdentityKey({.telegram_user_id = std::nullopt,
                         .username = "bob_smith",
                         .first_name = "",
                         .last_name = "",
                         .phone = "+49301234567"}),
            "username:bob_smith");
  EXPECT_EQ(IdentityKey({.telegram_user_id = std::nullopt,
                         .username = "",
                         .first_name = "",
                         .last_name = "",
                         .phone = "+49301234567"}),
            "phone:+49301234567");
}

TEST(ParseUserRefTest, AcceptsIdsUsernamesAndPhones) {
  EXPECT_EQ(*ParseUserRef("123456"), "id:123456");
  EXPECT_EQ(*ParseUserRef(" @Bob_Smith "), "username:bob_smith");
  EXPECT_EQ(*ParseUserRef("bob_smith"), "username:bob_smith");
  EXPECT_EQ(*ParseUserRef("t.me/Bob_Smith"), "username:bob_smith");
  EXPECT_EQ(*ParseUserRef("+49 30 1234567"), "phone:+49301234567");
}

TEST(ParseUserRefTest, RejectsEverythingElse) {
  EXPECT_EQ(ErrorOf(ParseUserRef("0")), "not a positive integer");
  EXPECT_EQ(ErrorOf(ParseUserRef("99999999999999999999")), "too large for a user id");
  EXPECT_EQ(ErrorOf(ParseUserRef("@ab")), "not a valid username");
  EXPECT_EQ(ErrorOf(ParseUserRef("+49 1")), "not a valid phone number");
  EXPECT_EQ(ErrorOf(ParseUserRef("-5")), "expected a user id, @username or +phone number");
  EXPECT_EQ(ErrorOf(ParseUserRef("030 1234567")), "expected a user id, @username or +phone number");
  EXPECT_EQ(ErrorOf(ParseUserRef("")), "expected a user id, @username or +phone number");
}

}  // namespace
}  // namespace tginvite::core
