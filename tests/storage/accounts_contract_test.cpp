// Accounts (AccountStore, storage/accounts.h): tokens kept sealed, shown masked, replaced in place.
// Part of the storage contract suite: it runs wherever StoreContractTest is instantiated (both
// engines).
#include <algorithm>
#include <map>
#include <tuple>

#include "storage/contract_helpers.h"
#include "storage/import_rows.h"
#include "storage/store_contract.h"

namespace tginvite::storage {
namespace {

using contract::ClaimAndMarkSending;
using contract::ClaimRequestFor;
using contract::CountsOf;
using contract::CreateCampaign;
using contract::ExportAll;
using contract::Import;
using core::ContactRecord;
using core::InvitationState;
using testing::Contact;
using testing::Options;
using testing::Rows;
using testing::VectorSource;

constexpr std::string_view kToken = "123456789:AAFakeTestTokenForUnitTests_abcdefghijk";

}  // namespace

TEST_P(StoreContractTest, ABotTokenIsReplacedInPlaceAndTheAccountMaySendAgain) {
  auto added = store_->AddAccount(
      {"main", core::AccountKind::kBot, core::Secret(std::string(kToken)), "http://127.0.0.1:1"});
  ASSERT_TRUE(added) << added.error().message;
  ASSERT_TRUE(
      store_->SetAccountHealth(added->id, core::AccountHealth::kUnauthorized, "401 Unauthorized"));
  const core::Secret fresh("987654321:AASecondTestTokenNeverValid_abcdefghij");
  ASSERT_TRUE(store_->ReplaceBotToken("main", fresh));
  auto found = store_->FindAccount("main");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, added->id);
  EXPECT_EQ(found->token.Reveal(), fresh.Reveal());
  EXPECT_TRUE(found->CanSend()) << core::ToString(found->health);

  Status malformed = store_->ReplaceBotToken("main", core::Secret("not-a-token"));
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(malformed.error().message.find("not-a-token"), std::string::npos);
  Status unknown = store_->ReplaceBotToken("nope", fresh);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://x.org"}));
  EXPECT_FALSE(store_->ReplaceBotToken("demo", fresh)) << "a rehearsal account got a token";
}

TEST_P(StoreContractTest, AccountsKeepTheirTokenAndShowItMasked) {
  auto added = store_->AddAccount({"main", core::AccountKind::kBot,
                                   core::Secret(std::string(kToken)), "https://api.telegram.org"});
  ASSERT_TRUE(added) << added.error().message;
  auto found = store_->FindAccount("main");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->token.Reveal(), kToken);
  EXPECT_EQ(fmt::format("{}", found->token), "123456789:…hijk");

  auto again = store_->AddAccount({"main", core::AccountKind::kRehearsal, {}, "https://x.org"});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);

  auto bad = store_->AddAccount(
      {"other", core::AccountKind::kBot, core::Secret("nonsense"), "https://api.telegram.org"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message.find("nonsense"), std::string::npos) << "the token leaked";
}

}  // namespace tginvite::storage
