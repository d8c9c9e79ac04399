#include "core/secret_box.h"

#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tginvite::core {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr std::string_view kToken = "123456789:AAFakeTestTokenNeverValid_abcdefghijkl";
constexpr std::string_view kContext = "accounts.bot_token:main";
constexpr std::string_view kKeyHex =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

SecretKey Key(std::string_view hex = kKeyHex) {
  Result<SecretKey> key = SecretKey::FromHex(hex);
  EXPECT_TRUE(key) << key.error().message;
  return *key;
}

// The sealed text with one character of its base64 part changed.
std::string Flipped(std::string sealed, size_t from_end) {
  char& c = sealed[sealed.size() - from_end];
  c = c == 'A' ? 'B' : 'A';
  return sealed;
}

TEST(SecretBoxTest, ASealedValueOpensToWhatWasSealed) {
  Keyring ring(Key());
  std::string sealed = ring.Seal(kToken, kContext);
  Result<Secret> opened = ring.Open(sealed, kContext);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->Reveal(), kToken);
}

// Invariant I7 (docs/invariants.md)
TEST(SecretBoxTest, TheSealedTextNamesFormatAndKeyAndHoldsNoPlaintext) {
  Keyring ring(Key());
  std::string sealed = ring.Seal(kToken, kContext);
  EXPECT_THAT(sealed, MatchesRegex("sealed:v1:[0-9a-f]{16}:[A-Za-z0-9+/]+=*"));
  EXPECT_EQ(Keyring::KeyIdOf(sealed), ring.current().id());
  EXPECT_TRUE(Keyring::IsSealed(sealed));
  EXPECT_THAT(sealed, Not(HasSubstr(std::string(kToken))));
  EXPECT_THAT(sealed, Not(HasSubstr("AAFakeTestToken")));
  EXPECT_THAT(sealed, Not(HasSubstr("123456789")));
  EXPECT_FALSE(Keyring::IsSealed(kToken));
}

TEST(SecretBoxTest, SealingTwiceGivesDifferentTexts) {
  Keyring ring(Key());
  EXPECT_NE(ring.Seal(kToken, kContext), ring.Seal(kToken, kContext)) << "nonces must differ";
}

TEST(SecretBoxTest, ATamperedValueDoesNotOpen) {
  Keyring ring(Key());
  std::string sealed = ring.Seal(kToken, kContext);
  // (The last base64 digits before the padding carry padding bits: changing them is malformed.)
  for (size_t from_end : {5, 40, 100}) {  // the tag, the ciphertext, the nonce
    Result<Secret> opened = ring.Open(Flipped(sealed, from_end), kContext);
    ASSERT_FALSE(opened) << "changed at " << from_end << " from the end";
    EXPECT_EQ(opened.error().code, ErrorCode::kInternal);
    EXPECT_THAT(opened.error().message, HasSubstr("altered"));
  }
  Result<Secret> truncated = ring.Open(sealed.substr(0, 40), kContext);
  ASSERT_FALSE(truncated);
  EXPECT_THAT(truncated.error().message, HasSubstr("malformed"));
}

TEST(SecretBoxTest, AnEditedHeaderDoesNotOpen) {
  SecretKey sealing = Key();
  SecretKey other = SecretKey::Generate();
  Keyring ring(sealing, {other});
  std::string sealed = ring.Seal(kToken, kContext);
  std::string renamed = sealed;
  renamed.replace(10, 16, other.id());  // claims the other key of the ring
  Result<Secret> opened = ring.Open(renamed, kContext);
  ASSERT_FALSE(opened);
  EXPECT_THAT(opened.error().message, HasSubstr("altered"));
  std::string newer = sealed;
  newer.replace(0, 10, "sealed:v2:");
  opened = ring.Open(newer, kContext);
  ASSERT_FALSE(opened);
  EXPECT_THAT(opened.error().message, HasSubstr("format \"v2\", which this version"));
}

TEST(SecretBoxTest, AWrongKeyGivesAnErrorNamingBothKeys) {
  SecretKey sealing = Key();
  SecretKey other = SecretKey::Generate();
  std::string sealed = Keyring(sealing).Seal(kToken, kContext);
  Result<Secret> opened = Keyring(other).Open(sealed, kContext);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(opened.error().message, HasSubstr("sealed under key " + sealing.id()));
  EXPECT_THAT(opened.error().message, HasSubstr(other.id()));
  EXPECT_THAT(opened.error().message, Not(HasSubstr(std::string(kToken))));
}

TEST(SecretBoxTest, AValueCopiedToAnotherPlaceDoesNotOpen) {
  Keyring ring(Key());
  std::string sealed = ring.Seal(kToken, kContext);
  Result<Secret> opened = ring.Open(sealed, "accounts.bot_token:other");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kInternal);
  EXPECT_THAT(opened.error().message, HasSubstr("accounts.bot_token:other"));
}

TEST(SecretBoxTest, AKeyringOpensWithEveryKeyItHoldsAndSealsWithTheCurrentOne) {
  SecretKey old_key = Key();
  SecretKey new_key = SecretKey::Generate();
  std::string under_old = Keyring(old_key).Seal(kToken, kContext);
  Keyring rotating(new_key, {old_key});
  Result<Secret> opened = rotating.Open(under_old, kContext);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->Reveal(), kToken);
  EXPECT_EQ(Keyring::KeyIdOf(rotating.Seal(kToken, kContext)), new_key.id());
  EXPECT_TRUE(rotating.Holds(old_key.id()));
  EXPECT_FALSE(Keyring(new_key).Holds(old_key.id()));
}

TEST(SecretBoxTest, PlainTextIsNotASealedValue) {
  Result<Secret> opened = Keyring(Key()).Open(kToken, kContext);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(opened.error().message, Not(HasSubstr(std::string(kToken))));
}

TEST(SecretKeyTest, HexRoundTripsAndTheIdIsStable) {
  SecretKey key = Key();
  EXPECT_EQ(key.ToHex().Reveal(), kKeyHex);
  EXPECT_EQ(key.id(), Key(kKeyHex).id());
  EXPECT_THAT(key.id(), MatchesRegex("[0-9a-f]{16}"));
  EXPECT_EQ(std::string(kKeyHex).find(key.id()), std::string::npos) << "the id is not the key";
  std::string upper(kKeyHex);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(Key(upper).id(), key.id());
  EXPECT_EQ(fmt::format("{}", key), "key " + key.id());
}

TEST(SecretKeyTest, TextThatIsNotSixtyFourHexDigitsIsRefusedWithoutBeingQuoted) {
  for (std::string text : {std::string(kKeyHex.substr(1)), std::string(kKeyHex) + "0",
                           "zz" + std::string(kKeyHex.substr(2)), std::string()}) {
    Result<SecretKey> key = SecretKey::FromHex(text);
    ASSERT_FALSE(key) << text;
    EXPECT_EQ(key.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(key.error().message, HasSubstr("64 hex digits"));
    if (!text.empty()) {
      EXPECT_THAT(key.error().message, Not(HasSubstr(text.substr(2, 20))));
    }
  }
}

TEST(SecretKeyTest, GeneratedKeysDiffer) {
  std::set<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.insert(SecretKey::Generate().id());
  EXPECT_EQ(ids.size(), 8u);
}

TEST(SecretKeyTest, DerivedKeysDependOnKeyAndContextOnly) {
  SecretKey key = Key();
  EXPECT_EQ(key.Derive("tdlib:main").id(), Key().Derive("tdlib:main").id());
  EXPECT_NE(key.Derive("tdlib:main").id(), key.Derive("tdlib:other").id());
  EXPECT_NE(key.Derive("tdlib:main").id(), key.id());
  EXPECT_NE(SecretKey::Generate().Derive("tdlib:main").id(), key.Derive("tdlib:main").id());
  // A value sealed under a derived key does not open with the master key.
  std::string sealed = Keyring(key.Derive("x")).Seal(kToken, kContext);
  EXPECT_FALSE(Keyring(key).Open(sealed, kContext));
}

}  // namespace
}  // namespace tginvite::core
