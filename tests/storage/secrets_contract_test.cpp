// The secrets-at-rest contract (secrets_contract.h), run against every backend.
#include "storage/secrets_contract.h"

#include <gmock/gmock.h>

#include "fakes/test_keys.h"

namespace tginvite::storage {

using ::testing::HasSubstr;
using testing::kOtherTestKeyHex;
using ::testing::MatchesRegex;
using ::testing::Not;
using testing::TestKey;
using testing::TestSecrets;

void SecretsContractTest::SetUp() {
  auto db = GetParam().make(dir_);
  if (!db && db.error().code == ErrorCode::kUnavailable) {
    GTEST_SKIP() << GetParam().name << " is not reachable: " << db.error().message;
  }
  ASSERT_TRUE(db) << db.error().message;
  db_ = std::move(db).value();
  Open(TestSecrets());  // creates the schema
}

std::unique_ptr<Store> SecretsContractTest::Open(const StoreSecrets& secrets) {
  auto store = db_->Open(secrets);
  EXPECT_TRUE(store) << store.error().message;
  return store ? std::move(store).value() : nullptr;
}

std::string SecretsContractTest::StoredToken(std::string_view account) {
  auto conn = db_->Connect();
  EXPECT_TRUE(conn) << conn.error().message;
  if (!conn) return "";
  Session session(**conn);
  auto row =
      session.QueryOne("SELECT bot_token FROM accounts WHERE name = ?", {std::string(account)});
  EXPECT_TRUE(row) << row.error().message;
  return row && *row ? (*row)->Text(0) : "";
}

void SecretsContractTest::Sql(std::string_view sql, std::initializer_list<Value> params) {
  auto conn = db_->Connect();
  ASSERT_TRUE(conn) << conn.error().message;
  Session session(**conn);
  auto done = session.Execute(sql, params);
  ASSERT_TRUE(done) << done.error().message;
}

namespace {

constexpr std::string_view kToken = "123456789:AAFakeTestTokenNeverValid_abcdefghijkl";
constexpr std::string_view kSecretPart = "AAFakeTestTokenNeverValid_abcdefghijkl";
constexpr std::string_view kOtherToken = "987654321:AAAnotherFakeTokenNeverValid_mnopqrstu";

// A third key, which no test store holds.
constexpr std::string_view kStrangerKeyHex =
    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

NewAccount Bot(std::string name, std::string_view token = kToken) {
  return {std::move(name), core::AccountKind::kBot, core::Secret(std::string(token)),
          "https://api.telegram.org"};
}

StoreSecrets NoKey() {
  StoreSecrets secrets;
  secrets.missing_key_hint = "set TGINVITE_SECRET_KEY";
  return secrets;
}

StoreSecrets Rotating(std::string_view current, std::string_view previous) {
  StoreSecrets secrets;
  secrets.keyring = std::make_shared<const core::Keyring>(
      TestKey(current), std::vector<core::SecretKey>{TestKey(previous)});
  return secrets;
}

TEST_P(SecretsContractTest, ATokenIsStoredSealedAndReadBackAsItWas) {
  auto store = Open(TestSecrets());
  auto added = store->AddAccount(Bot("main"));
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(added->token.Reveal(), kToken);

  const std::string stored = StoredToken("main");
  EXPECT_THAT(stored, MatchesRegex("sealed:v1:" + TestKey().id() + ":[A-Za-z0-9+/=]+"));
  EXPECT_THAT(stored, Not(HasSubstr(std::string(kSecretPart))));
  EXPECT_THAT(stored, Not(HasSubstr("123456789")));

  auto found = store->FindAccount("main");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->token_access, TokenAccess::kOpen);
  EXPECT_EQ(found->token.Reveal(), kToken);
  auto listed = store->ListAccounts();
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].token.Reveal(), kToken);
  EXPECT_TRUE((*listed)[0].CanSend());
}

// A user account's credentials are a secret like a bot token: sealed under the current key,
// bound to the account, refused without a key, closed under another key.
TEST_P(SecretsContractTest, UserCredentialsAreSealedLikeABotToken) {
  constexpr std::string_view kHash = "0123456789abcdef0123456789abcdef";
  const std::string credentials = "123456:" + std::string(kHash) + ":+4915112345678";
  auto store = Open(TestSecrets());
  auto added = store->AddAccount(
      {"person", core::AccountKind::kUser, core::Secret(credentials), "https://api.telegram.org"});
  ASSERT_TRUE(added) << added.error().message;

  const std::string stored = StoredToken("person");
  EXPECT_THAT(stored, MatchesRegex("sealed:v1:" + TestKey().id() + ":[A-Za-z0-9+/=]+"));
  EXPECT_THAT(stored, Not(HasSubstr(std::string(kHash))));
  EXPECT_THAT(stored, Not(HasSubstr("15112345678")));
  auto found = store->FindAccount("person");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->token_access, TokenAccess::kOpen);
  EXPECT_EQ(found->token.Reveal(), credentials);

  auto refused = Open(NoKey())->AddAccount(
      {"second", core::AccountKind::kUser, core::Secret(credentials), "https://api.telegram.org"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(refused.error().message, HasSubstr("no secret key is loaded"));
  auto closed = Open(TestSecrets(kOtherTestKeyHex))->FindAccount("person");
  ASSERT_TRUE(closed) << closed.error().message;
  EXPECT_EQ(closed->token_access, TokenAccess::kUnopenable);
  EXPECT_TRUE(closed->token.empty());
}

TEST_P(SecretsContractTest, WithoutAKeyABotIsRefusedAndSealedTokensStayClosed) {
  ASSERT_TRUE(Open(TestSecrets())->AddAccount(Bot("main")));
  auto store = Open(NoKey());

  auto refused = store->AddAccount(Bot("second"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused.error().message,
            "account second: no secret key is loaded, so its token cannot be stored (sealed): "
            "set TGINVITE_SECRET_KEY");
  EXPECT_TRUE(store->AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://x.org"}))
      << "a rehearsal account has no secret";

  auto found = store->FindAccount("main");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->token_access, TokenAccess::kNoKey);
  EXPECT_TRUE(found->token.empty());
  EXPECT_EQ(found->token_problem,
            "the token is sealed and no secret key is loaded: set TGINVITE_SECRET_KEY");
  EXPECT_FALSE(found->CanSend());
  auto listed = store->ListAccounts();
  ASSERT_TRUE(listed) << "accounts are listed without a key";
  EXPECT_EQ(listed->size(), 2u);
}

TEST_P(SecretsContractTest, AWrongKeyLeavesTheAccountUnusableWithAReasonNamingTheKeys) {
  ASSERT_TRUE(Open(TestSecrets())->AddAccount(Bot("main")));
  auto store = Open(TestSecrets(kOtherTestKeyHex));
  auto listed = store->ListAccounts();
  ASSERT_TRUE(listed) << "a token that does not open is no error of the read";
  ASSERT_EQ(listed->size(), 1u);
  const Account& account = (*listed)[0];
  EXPECT_EQ(account.token_access, TokenAccess::kUnopenable);
  EXPECT_TRUE(account.token.empty());
  EXPECT_EQ(account.token_problem,
            "the token cannot be opened: sealed under key " + TestKey().id() +
                ", which is not loaded (the loaded key is " + TestKey(kOtherTestKeyHex).id() + ")");
  EXPECT_FALSE(account.CanSend());
}

TEST_P(SecretsContractTest, ASealedTokenCopiedToAnotherAccountDoesNotOpen) {
  auto store = Open(TestSecrets());
  ASSERT_TRUE(store->AddAccount(Bot("main")));
  ASSERT_TRUE(store->AddAccount(Bot("other", kOtherToken)));
  Sql("UPDATE accounts SET bot_token = ? WHERE name = 'other'", {StoredToken("main")});
  auto other = store->FindAccount("other");
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_EQ(other->token_access, TokenAccess::kUnopenable);
  EXPECT_THAT(other->token_problem, HasSubstr("belongs elsewhere than accounts.bot_token:other"));
  EXPECT_THAT(other->token_problem, Not(HasSubstr(std::string(kSecretPart))));
}

TEST_P(SecretsContractTest, APlaintextTokenFromAnOlderVersionIsSealedOnceAndStillWorks) {
  Sql("INSERT INTO accounts (name, kind, bot_token, api_base, created_at) "
      "VALUES ('legacy', 'bot', ?, 'https://api.telegram.org', 0)",
      {std::string(kToken)});
  auto store = Open(TestSecrets());
  auto before = store->FindAccount("legacy");
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_EQ(before->token.Reveal(), kToken) << "plaintext is read as it is until sealed";

  auto sealed = store->SealSecrets(Store::SealScope::kPlaintext);
  ASSERT_TRUE(sealed) << sealed.error().message;
  EXPECT_EQ(*sealed, 1);
  EXPECT_THAT(StoredToken("legacy"), MatchesRegex("sealed:v1:" + TestKey().id() + ":.*"));
  EXPECT_THAT(StoredToken("legacy"), Not(HasSubstr(std::string(kSecretPart))));
  auto after = store->FindAccount("legacy");
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->token.Reveal(), kToken);

  auto again = store->SealSecrets(Store::SealScope::kPlaintext);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, 0) << "sealing is idempotent";
}

TEST_P(SecretsContractTest, WithoutAKeySealingSaysHowManyAreInPlaintextAndWritesNothing) {
  auto store = Open(NoKey());
  auto nothing = store->SealSecrets(Store::SealScope::kPlaintext);
  ASSERT_TRUE(nothing) << nothing.error().message;
  EXPECT_EQ(*nothing, 0);

  Sql("INSERT INTO accounts (name, kind, bot_token, api_base, created_at) "
      "VALUES ('legacy', 'bot', ?, 'https://api.telegram.org', 0)",
      {std::string(kToken)});
  auto refused = store->SealSecrets(Store::SealScope::kPlaintext);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused.error().message,
            "1 secret is stored in plaintext, and no secret key is loaded to seal it: set "
            "TGINVITE_SECRET_KEY");
  EXPECT_EQ(StoredToken("legacy"), kToken);
  auto found = store->FindAccount("legacy");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->token.Reveal(), kToken) << "a plaintext token still works without a key";
}

TEST_P(SecretsContractTest, ResealingMovesEveryTokenToTheNewKeyAndTheOldKeyNoLongerOpensIt) {
  {
    auto store = Open(TestSecrets());
    ASSERT_TRUE(store->AddAccount(Bot("main")));
    ASSERT_TRUE(store->AddAccount(Bot("other", kOtherToken)));
    ASSERT_TRUE(store->AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://x.org"}));
  }
  auto rotating = Open(Rotating(kOtherTestKeyHex, testing::kTestKeyHex));
  auto plaintext_only = rotating->SealSecrets(Store::SealScope::kPlaintext);
  ASSERT_TRUE(plaintext_only);
  EXPECT_EQ(*plaintext_only, 0) << "tokens under a key of the ring are not plaintext";
  auto resealed = rotating->SealSecrets(Store::SealScope::kEverySecret);
  ASSERT_TRUE(resealed) << resealed.error().message;
  EXPECT_EQ(*resealed, 2);
  auto again = rotating->SealSecrets(Store::SealScope::kEverySecret);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(core::Keyring::KeyIdOf(StoredToken("main")), TestKey(kOtherTestKeyHex).id());

  auto with_new = Open(TestSecrets(kOtherTestKeyHex));
  auto main = with_new->FindAccount("main");
  ASSERT_TRUE(main);
  EXPECT_EQ(main->token.Reveal(), kToken);
  auto other = with_new->FindAccount("other");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->token.Reveal(), kOtherToken);

  auto with_old = Open(TestSecrets());
  auto stale = with_old->FindAccount("main");
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->token_access, TokenAccess::kUnopenable);
  EXPECT_TRUE(stale->token.empty());
}

TEST_P(SecretsContractTest, ResealingWritesNothingWhenOneTokenCannotBeOpened) {
  ASSERT_TRUE(Open(TestSecrets())->AddAccount(Bot("main")));
  ASSERT_TRUE(Open(TestSecrets(kStrangerKeyHex))->AddAccount(Bot("stray", kOtherToken)));
  const std::string main_before = StoredToken("main");

  auto rotating = Open(Rotating(kOtherTestKeyHex, testing::kTestKeyHex));
  auto resealed = rotating->SealSecrets(Store::SealScope::kEverySecret);
  ASSERT_FALSE(resealed);
  EXPECT_EQ(resealed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(resealed.error().message,
              HasSubstr("account stray: token: sealed under key " + TestKey(kStrangerKeyHex).id()));
  EXPECT_THAT(resealed.error().message, Not(HasSubstr(std::string(kSecretPart))));
  EXPECT_EQ(StoredToken("main"), main_before) << "one transaction: nothing was resealed";
}

}  // namespace
}  // namespace tginvite::storage
