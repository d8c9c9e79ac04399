// Contact import (ContactImporter, storage/contact_import.h): folding, conflicts with their lines,
// dry runs, all-or-nothing, batches. Part of the storage contract suite: it runs wherever
// StoreContractTest is instantiated (both engines).
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

TEST_P(StoreContractTest, ImportFoldsDuplicatesAndReportsEachRow) {
  VectorSource source(Rows({
      Contact(1, "anna", "Anna"), Contact(2, "bob", "Bob"),
      Contact(1, "anna", "Anna"),             // the same person again: duplicate
      Contact(std::nullopt, "bob", "Bobby"),  // bob by username, new first name: updated
      Contact(3, "anna", "Eve"),              // anna's username under another id: conflict
  }));
  auto totals = store_->ImportContacts(source, {});
  ASSERT_TRUE(totals) << totals.error().message;
  EXPECT_EQ(totals->imported, 2);
  EXPECT_EQ(totals->duplicates, 1);
  EXPECT_EQ(totals->updated, 1);
  EXPECT_EQ(totals->conflicts, 1);
  ASSERT_EQ(source.results.size(), 5u);
  EXPECT_EQ(source.results[4].first, 6);
  EXPECT_EQ(source.results[4].second.outcome, ImportOutcome::kConflict);
  EXPECT_EQ(source.results[4].second.conflict, "username @anna belongs to another contact");
  auto count = store_->CountContacts();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 2);
}

// A batch size of 0 means one row a transaction, not none: SQLite's import committed empty
// transactions forever (it never read a row). Without the fix this test hangs until ctest's
// timeout.
TEST_P(StoreContractTest, ImportWithABatchSizeOfZeroStillImportsEveryRow) {
  CreateCampaign(*store_);
  VectorSource source(Rows({Contact(1), Contact(2), Contact(3)}));
  auto totals = store_->ImportContacts(source, Options("spring", ImportMode::kBatches, 0));
  ASSERT_TRUE(totals) << totals.error().message;
  EXPECT_EQ(totals->imported, 3);
  EXPECT_EQ(source.results.size(), 3u);
  EXPECT_EQ(CountsOf(*store_, "spring")[InvitationState::kPending], 3);
}

TEST_P(StoreContractTest, ImportAddsIdentifiersToAKnownContact) {
  ASSERT_TRUE(Import(*store_, {Contact(std::nullopt, "carol", "Carol")}));
  auto totals = Import(*store_, {Contact(77, "carol", "", "+49301234567")});
  ASSERT_TRUE(totals);
  EXPECT_EQ(totals->updated, 1);
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(*store_, {Contact(77)}, Options("spring")));
  std::vector<ExportRow> rows = ExportAll(*store_, "spring");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].contact.telegram_user_id, 77);
  EXPECT_EQ(rows[0].contact.username, "carol");
  EXPECT_EQ(rows[0].contact.first_name, "Carol") << "an empty field erased a stored name";
  EXPECT_EQ(rows[0].contact.phone, "+49301234567");
}

TEST_P(StoreContractTest, ReimportChangesNothing) {
  CreateCampaign(*store_);
  std::vector<ContactRecord> contacts = {Contact(1, "anna", "Anna"), Contact(2, "", "Bob")};
  ASSERT_TRUE(Import(*store_, contacts, Options("spring")));
  std::vector<ExportRow> before = ExportAll(*store_, "spring");
  auto again = Import(*store_, contacts, Options("spring"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->imported, 0);
  EXPECT_EQ(again->updated, 0);
  EXPECT_EQ(again->duplicates, 2);
  EXPECT_EQ(again->enqueued, 0);
  std::vector<ExportRow> after = ExportAll(*store_, "spring");
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].updated_at, before[i].updated_at);
    EXPECT_EQ(after[i].contact.first_name, before[i].contact.first_name);
  }
}

TEST_P(StoreContractTest, ImportEnqueuesOnceAndSkipsSuppressed) {
  CreateCampaign(*store_);
  ASSERT_TRUE(store_->AddSuppression("username:bob", "blocked the bot"));
  auto totals = Import(*store_, {Contact(1), Contact(2, "bob"), Contact(1)}, Options("spring"));
  ASSERT_TRUE(totals);
  EXPECT_EQ(totals->enqueued, 1);
  EXPECT_EQ(totals->skipped, 1);
  core::StateCounts counts = CountsOf(*store_, "spring");
  EXPECT_EQ(counts[InvitationState::kPending], 1);
  EXPECT_EQ(counts[InvitationState::kSkipped], 1);
  EXPECT_EQ(counts.Total(), 2);
}

TEST_P(StoreContractTest, DryRunWritesNothing) {
  CreateCampaign(*store_);
  auto totals =
      Import(*store_, {Contact(1), Contact(2), Contact(1)}, Options("spring", ImportMode::kDryRun));
  ASSERT_TRUE(totals);
  EXPECT_EQ(totals->imported, 2);
  EXPECT_EQ(totals->duplicates, 1);
  EXPECT_FALSE(totals->committed);
  auto count = store_->CountContacts();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 0);
  EXPECT_EQ(CountsOf(*store_, "spring").Total(), 0);
}

TEST_P(StoreContractTest, AllOrNothingImportsNothingWhenSourceHadRejects) {
  VectorSource rejected_somewhere(Rows({Contact(1), Contact(2)}), /*commit_allowed=*/false);
  auto totals =
      store_->ImportContacts(rejected_somewhere, Options(std::nullopt, ImportMode::kAllOrNothing));
  ASSERT_TRUE(totals);
  EXPECT_FALSE(totals->committed);
  EXPECT_EQ(*store_->CountContacts(), 0);

  VectorSource clean(Rows({Contact(1), Contact(2)}));
  totals = store_->ImportContacts(clean, Options(std::nullopt, ImportMode::kAllOrNothing));
  ASSERT_TRUE(totals);
  EXPECT_TRUE(totals->committed);
  EXPECT_EQ(*store_->CountContacts(), 2);
}

TEST_P(StoreContractTest, BatchesCommitAsTheyGo) {
  std::vector<ContactRecord> contacts;
  for (int64_t i = 1; i <= 25; ++i) contacts.push_back(Contact(i));
  VectorSource source(Rows(contacts));
  auto totals = store_->ImportContacts(source, Options(std::nullopt, ImportMode::kBatches, 10));
  ASSERT_TRUE(totals);
  EXPECT_EQ(totals->imported, 25);
  EXPECT_EQ(source.results.size(), 25u);
  EXPECT_EQ(*store_->CountContacts(), 25);
}

}  // namespace tginvite::storage
