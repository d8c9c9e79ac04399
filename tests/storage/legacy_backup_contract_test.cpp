// The old app's outcomes (LegacyRecorder, storage/legacy.h) and backups (Backups,
// storage/backups.h). Part of the storage contract suite: it runs wherever StoreContractTest is
// instantiated (both engines).
#include <filesystem>
#include <map>

#include "storage/contract_helpers.h"
#include "storage/store_contract.h"

namespace tginvite::storage {
namespace {

using contract::CountsOf;
using contract::CreateCampaign;
using contract::ExportAll;
using contract::Import;
using core::InvitationState;
using testing::Contact;

LegacyOutcome Outcome(core::ContactRecord contact, InvitationState state, std::string error = "",
                      int64_t at = 0) {
  return LegacyOutcome{std::move(contact), state, std::move(error), at};
}

std::map<int64_t, ExportRow> ByUserId(const std::vector<ExportRow>& rows) {
  std::map<int64_t, ExportRow> out;
  for (const ExportRow& row : rows) out[row.contact.telegram_user_id.value_or(0)] = row;
  return out;
}

}  // namespace

TEST_P(StoreContractTest, LegacyOutcomesBecomeFinishedInvitationsWithAnAttempt) {
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(*store_, {Contact(1, "anna"), Contact(2), Contact(3), Contact(4)}));
  // 4 is queued already (a CSV import before the move): the old app's word takes its place.
  ASSERT_TRUE(Import(*store_, {Contact(4)}, {.campaign = "spring"}));
  const std::vector<LegacyOutcome> outcomes = {
      Outcome(Contact(std::nullopt, "anna"), InvitationState::kSent, "", 1'700'000'000'000),
      Outcome(Contact(2), InvitationState::kFailed, "Forbidden: bot was blocked by the user"),
      Outcome(Contact(3), InvitationState::kUnknown, "status \"weird\""),
      Outcome(Contact(4), InvitationState::kSent),
      Outcome(Contact(99), InvitationState::kSent),  // never imported
  };
  auto results = store_->RecordLegacyOutcomes("spring", outcomes, LegacyMode::kWrite);
  ASSERT_TRUE(results) << results.error().message;
  EXPECT_EQ(*results, (std::vector<LegacyResult>{LegacyResult::kRecorded, LegacyResult::kRecorded,
                                                 LegacyResult::kRecorded, LegacyResult::kReplaced,
                                                 LegacyResult::kNoContact}));
  std::map<int64_t, ExportRow> rows = ByUserId(ExportAll(*store_, "spring"));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1].state, InvitationState::kSent);
  EXPECT_EQ(rows[1].sent_at, 1'700'000'000'000);
  EXPECT_EQ(rows[1].attempts, 1);
  EXPECT_EQ(rows[2].state, InvitationState::kFailed);
  EXPECT_EQ(rows[2].last_error, "old app: Forbidden: bot was blocked by the user");
  EXPECT_EQ(rows[3].state, InvitationState::kUnknown);
  EXPECT_EQ(rows[4].state, InvitationState::kSent);
  EXPECT_EQ(rows[4].sent_at, std::nullopt);  // the old app's time was not known
  EXPECT_EQ(CountsOf(*store_, "spring")[InvitationState::kPending], 0);

  // Each has one attempt from the old app.
  auto attempts = store_->RecentAttempts("spring", 100);
  ASSERT_TRUE(attempts) << attempts.error().message;
  ASSERT_EQ(attempts->size(), 4u);
  for (const AttemptView& view : *attempts) {
    EXPECT_EQ(view.attempt.request, kLegacyRequest);
    EXPECT_EQ(view.attempt.worker, kLegacyWorker);
  }
}

TEST_P(StoreContractTest, LegacyOutcomesRecordedTwiceChangeNothing) {
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2)}));
  const std::vector<LegacyOutcome> outcomes = {Outcome(Contact(1), InvitationState::kSent),
                                               Outcome(Contact(2), InvitationState::kFailed, "x")};
  ASSERT_TRUE(store_->RecordLegacyOutcomes("spring", outcomes, LegacyMode::kWrite));
  auto again = store_->RecordLegacyOutcomes("spring", outcomes, LegacyMode::kWrite);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, (std::vector<LegacyResult>{LegacyResult::kKept, LegacyResult::kKept}));
  auto attempts = store_->RecentAttempts("spring", 100);
  ASSERT_TRUE(attempts);
  EXPECT_EQ(attempts->size(), 2u);
  // A later import into the campaign finds them there: nobody becomes pending.
  auto totals = Import(*store_, {Contact(1), Contact(2)}, {.campaign = "spring"});
  ASSERT_TRUE(totals);
  EXPECT_EQ(totals->enqueued, 0);
  EXPECT_EQ(CountsOf(*store_, "spring")[InvitationState::kPending], 0);
}

TEST_P(StoreContractTest, LegacyDryRunWritesNothing) {
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(*store_, {Contact(1)}));
  auto results = store_->RecordLegacyOutcomes(
      "spring", std::vector{Outcome(Contact(1), InvitationState::kSent)}, LegacyMode::kDryRun);
  ASSERT_TRUE(results) << results.error().message;
  EXPECT_EQ(*results, std::vector<LegacyResult>{LegacyResult::kRecorded});
  EXPECT_TRUE(ExportAll(*store_, "spring").empty());
}

TEST_P(StoreContractTest, LegacyOutcomesNeverTouchAnInvitationBeingSent) {
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(*store_, {Contact(1)}, {.campaign = "spring"}));
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("test")));
  auto claims = contract::ClaimAndMarkSending(*store_, contract::ClaimRequestFor(*store_, "spring"));
  ASSERT_TRUE(claims);
  ASSERT_EQ(claims->size(), 1u);
  auto results = store_->RecordLegacyOutcomes(
      "spring", std::vector{Outcome(Contact(1), InvitationState::kSent)}, LegacyMode::kWrite);
  ASSERT_TRUE(results) << results.error().message;
  EXPECT_EQ(*results, std::vector<LegacyResult>{LegacyResult::kKept});
  EXPECT_EQ(CountsOf(*store_, "spring")[InvitationState::kSending], 1);
}

TEST_P(StoreContractTest, LegacyOutcomesRefuseOtherStatesAndUnknownCampaigns) {
  CreateCampaign(*store_);
  auto pending = store_->RecordLegacyOutcomes(
      "spring", std::vector{Outcome(Contact(1), InvitationState::kPending)}, LegacyMode::kWrite);
  ASSERT_FALSE(pending);
  EXPECT_EQ(pending.error().code, ErrorCode::kInvalidArgument);
  auto missing = store_->RecordLegacyOutcomes(
      "nope", std::vector{Outcome(Contact(1), InvitationState::kSent)}, LegacyMode::kWrite);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, BackupIsACheckedCopyOrPgDumpsJob) {
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2)}, {.campaign = "spring"}));
  const std::string out = dir_.File("backup.db");
  auto report = store_->Backup(out, Overwrite::kNo);
  if (store_->backend() == "postgres") {
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(report.error().message.find("pg_dump"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(out));
    return;
  }
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->integrity, "ok");
  EXPECT_EQ(report->schema_version, store_->schema_version());
  EXPECT_GT(report->bytes, 0);
  EXPECT_EQ(std::filesystem::status(out).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // The copy opens as a store with the same invitations.
  {
    auto copy = OpenStore("sqlite:" + out, OpenMode::kExisting);
    ASSERT_TRUE(copy) << copy.error().message;
    EXPECT_EQ(CountsOf(**copy, "spring")[InvitationState::kPending], 2);
  }
  auto again = store_->Backup(out, Overwrite::kNo);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_TRUE(store_->Backup(out, Overwrite::kYes));
}

}  // namespace tginvite::storage
