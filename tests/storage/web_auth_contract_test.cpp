// Web authentication (WebAuthStore, storage/web_auth.h): the admin password, sessions, API tokens.
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

}  // namespace

TEST_P(StoreContractTest, AdminPasswordHashIsOneRowAndResetsSessions) {
  auto none = store_->AdminPasswordHash();
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(store_->SetAdminPasswordHash("$argon2id$first"));
  ASSERT_TRUE(store_->CreateSession({"h1", "csrf1", 1000, 5000}, 1000));
  ASSERT_TRUE(store_->SetAdminPasswordHash("$argon2id$second"));
  auto hash = store_->AdminPasswordHash();
  ASSERT_TRUE(hash);
  EXPECT_EQ(hash->value_or(""), "$argon2id$second");
  auto session = store_->FindSession("h1", 2000);
  ASSERT_TRUE(session);
  EXPECT_FALSE(session->has_value()) << "a new password ends the old sessions";
  Status empty = store_->SetAdminPasswordHash("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(StoreContractTest, SessionsExpireAndCanBeDeleted) {
  ASSERT_TRUE(store_->CreateSession({"h1", "csrf1", 1000, 5000}, 1000));
  auto found = store_->FindSession("h1", 4999);
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->csrf_token, "csrf1");
  EXPECT_EQ((*found)->expires_at, 5000);
  found = store_->FindSession("h1", 5000);
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value()) << "expired";
  found = store_->FindSession("other", 1000);
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value());

  ASSERT_TRUE(store_->CreateSession({"h2", "csrf2", 1000, 9000}, 1000));
  ASSERT_TRUE(store_->DeleteSession("h2"));
  found = store_->FindSession("h2", 2000);
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value());
  EXPECT_TRUE(store_->DeleteSession("h2")) << "deleting twice is fine";
}

TEST_P(StoreContractTest, ApiTokensAreFoundByHashUntilRevoked) {
  auto created = store_->CreateApiToken({"ci", "hash-ci"});
  ASSERT_TRUE(created);
  EXPECT_EQ(created->name, "ci");
  EXPECT_FALSE(created->revoked_at.has_value());
  auto again = store_->CreateApiToken({"ci", "hash-other"});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  auto bad = store_->CreateApiToken({"no spaces", "hash-x"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);

  auto found = store_->FindApiToken("hash-ci");
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->name, "ci");

  ASSERT_TRUE(store_->RevokeApiToken("ci"));
  found = store_->FindApiToken("hash-ci");
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value()) << "a revoked token no longer authenticates";
  Status twice = store_->RevokeApiToken("ci");
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, ErrorCode::kNotFound);

  ASSERT_TRUE(store_->CreateApiToken({"ci", "hash-ci-2"})) << "the name is free again";
  auto list = store_->ListApiTokens();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_TRUE((*list)[0].revoked_at.has_value());
  EXPECT_FALSE((*list)[1].revoked_at.has_value());
}

TEST_P(StoreContractTest, ApiTokensKeepTheirScopeAndExpiry) {
  auto created = store_->CreateApiToken(
      {"scraper", "hash-s", core::TokenScope::kMetrics, int64_t{1'900'000'000'000}});
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->scope, core::TokenScope::kMetrics);
  auto found = store_->FindApiToken("hash-s");
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->scope, core::TokenScope::kMetrics);
  EXPECT_EQ((*found)->expires_at, int64_t{1'900'000'000'000});
  ASSERT_TRUE(store_->CreateApiToken({"reader", "hash-r", core::TokenScope::kRead}));
  auto list = store_->ListApiTokens();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].scope, core::TokenScope::kRead);
  EXPECT_FALSE((*list)[1].expires_at.has_value());
  // The default, and what tokens made before scopes existed have: write.
  ASSERT_TRUE(store_->CreateApiToken({"legacy", "hash-l"}));
  found = store_->FindApiToken("hash-l");
  ASSERT_TRUE(found);
  EXPECT_EQ((*found)->scope, core::TokenScope::kWrite);
}

}  // namespace tginvite::storage
