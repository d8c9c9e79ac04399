// The store's start links, on every engine: which invitations wait for a start, the update
// inbox's dedupe, /start matching, revoking a link, and the funnel's counts.
#include <algorithm>

#include "storage/import_rows.h"
#include "storage/store_contract.h"

namespace tginvite::storage {
namespace {

using core::CampaignReach;
using core::InvitationState;
using testing::Contact;
using testing::Rows;
using testing::VectorSource;

constexpr std::string_view kToken = "123456789:AAFakeTestTokenForUnitTests_abcdefghijk";

// A store with a bot account "bot" (named @inviter_bot) and what the tests below do with it.
class StartLinks {
 public:
  explicit StartLinks(std::unique_ptr<Store>& store) : store_(store) {}

  // A bot account "bot" (named @inviter_bot) and a campaign of it.
  void Campaign(const std::string& name, CampaignReach reach,
                core::AccountKind kind = core::AccountKind::kBot) {
    if (!account_) {
      auto added = store_->AddAccount(
          {"bot", kind,
           kind == core::AccountKind::kBot ? core::Secret(std::string(kToken)) : core::Secret(),
           "http://127.0.0.1:1"});
      ASSERT_TRUE(added) << added.error().message;
      account_ = added->id;
      ASSERT_TRUE(store_->SetBotUsername(account_, "inviter_bot"));
    }
    auto created = store_->CreateCampaign(
        {name, "bot", "-1001234567890", "Hi {link}", core::LinkMode::kPersonal, "", reach});
    ASSERT_TRUE(created) << created.error().message;
  }

  ImportTotals Import(const std::string& campaign, std::vector<core::ContactRecord> contacts) {
    VectorSource source(Rows(std::move(contacts)));
    ImportOptions options;
    options.campaign = campaign;
    auto totals = store_->ImportContacts(source, options);
    EXPECT_TRUE(totals) << totals.error().message;
    return totals ? *totals : ImportTotals{};
  }

  std::vector<ExportRow> Export(std::string_view campaign) {
    std::vector<ExportRow> rows;
    EXPECT_TRUE(store_->ExportInvitations(campaign, [&rows](const ExportRow& row) -> Status {
      rows.push_back(row);
      return Ok();
    }));
    return rows;
  }

  ExportRow Row(std::string_view campaign, std::string_view username) {
    for (ExportRow& row : Export(campaign)) {
      if (row.contact.username == username) return row;
    }
    ADD_FAILURE() << "no row for " << username;
    return {};
  }

  std::string KeyOf(std::string_view campaign, std::string_view username) {
    const std::string link = Row(campaign, username).start_link;
    EXPECT_TRUE(link.starts_with("https://t.me/inviter_bot?start=")) << link;
    return link.substr(link.find('=') + 1);
  }

  core::StateCounts Counts(std::string_view campaign) {
    auto found = store_->FindCampaign(campaign);
    EXPECT_TRUE(found) << found.error().message;
    return found ? found->counts : core::StateCounts{};
  }

  // Ingests the starts as updates and applies them, as a worker would.
  std::vector<StartResult> Start(std::vector<StartRequest> starts) {
    std::vector<InboxUpdate> inbox;
    UpdateEffects effects;
    for (StartRequest& start : starts) {
      start.update_id = ++update_id_;
      inbox.push_back({start.update_id, InboxUpdate::Kind::kStart, start.user_id, start.user_id,
                       start.username, "", "", "", start.payload});
      effects.processed.push_back(start.update_id);
      effects.starts.push_back(start);
    }
    EXPECT_TRUE(store_->IngestUpdates(account_, inbox, std::nullopt));
    auto results = store_->ApplyUpdates(account_, effects);
    EXPECT_TRUE(results) << results.error().message;
    return results ? *results : std::vector<StartResult>{};
  }

  int64_t account() const { return account_; }

 private:
  std::unique_ptr<Store>& store_;
  int64_t account_ = 0;
  int64_t update_id_ = 0;
};

TEST_P(StoreContractTest, StartLinksTheReachDecidesWhoWaitsForAStart) {
  StartLinks t(store_);
  t.Campaign("direct", CampaignReach::kDirect);
  t.Campaign("links", CampaignReach::kStartLink);
  t.Campaign("both", CampaignReach::kBoth);
  const std::vector<core::ContactRecord> contacts = {Contact(1, "ann"),
                                                     Contact(std::nullopt, "bob"),
                                                     Contact(std::nullopt, "", "C", "+4930123456")};
  ImportTotals direct = t.Import("direct", contacts);
  EXPECT_EQ(direct.awaiting, 0);
  EXPECT_EQ(t.Counts("direct")[InvitationState::kPending], 3);  // the id-less are skipped at claim

  ImportTotals links = t.Import("links", contacts);
  EXPECT_EQ(links.awaiting, 3);
  EXPECT_EQ(t.Counts("links")[InvitationState::kAwaitingStart], 3);

  ImportTotals both = t.Import("both", contacts);
  EXPECT_EQ(both.awaiting, 2);
  EXPECT_EQ(t.Counts("both")[InvitationState::kPending], 1);
  EXPECT_EQ(t.Counts("both")[InvitationState::kAwaitingStart], 2);

  // Every invitation has its own unguessable key, the same in every export.
  std::vector<std::string> keys;
  for (std::string_view campaign : {"direct", "links", "both"}) {
    for (const ExportRow& row : t.Export(campaign)) {
      const std::string key = row.start_link.substr(row.start_link.find('=') + 1);
      EXPECT_EQ(key.size(), 32u) << row.start_link;
      EXPECT_TRUE(std::all_of(key.begin(), key.end(), ::isxdigit)) << key;
      keys.push_back(key);
    }
  }
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(std::unique(keys.begin(), keys.end()), keys.end()) << "a key repeats";
  EXPECT_EQ(t.Row("both", "bob").start_link, t.Row("both", "bob").start_link);
}

TEST_P(StoreContractTest, StartLinksAPayloadLinksTheSenderAndQueuesTheInvitationOnce) {
  StartLinks t(store_);
  t.Campaign("c", CampaignReach::kBoth);
  t.Import("c", {Contact(std::nullopt, "bob")});
  ASSERT_TRUE(store_->ChangeCampaign("c", CampaignAction::kStart, core::Actor::Cli("test")));
  const std::string key = t.KeyOf("c", "bob");

  std::vector<StartResult> first = t.Start({{0, 42, "bob", key}});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].match, StartMatch::kLinked);
  EXPECT_EQ(first[0].queued, 1);
  EXPECT_EQ(t.Counts("c")[InvitationState::kPending], 1);
  EXPECT_EQ(t.Row("c", "bob").contact.telegram_user_id, 42) << "the contact was not linked";
  auto found = store_->FindCampaign("c");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->campaign.links_started, 1);

  // The same payload again (a second tap, or a replay): nothing more is queued.
  std::vector<StartResult> again = t.Start({{0, 42, "bob", key}});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].match, StartMatch::kAlreadyHandled);
  EXPECT_EQ(again[0].queued, 0);
  // Someone else with the link (it was forwarded): not theirs.
  t.Import("c", {Contact(std::nullopt, "dan")});
  const std::string dan = t.KeyOf("c", "dan");
  ASSERT_TRUE(t.Start({{0, 42000, "dan", dan}})[0].match == StartMatch::kLinked);
  // A forged payload.
  EXPECT_EQ(t.Start({{0, 7, "eve", "00000000000000000000000000000000"}})[0].match,
            StartMatch::kUnknownPayload);
  EXPECT_EQ(t.Counts("c")[InvitationState::kPending], 2);
}

TEST_P(StoreContractTest, StartLinksTheSameUpdateAppliedTwiceTakesEffectOnce) {
  StartLinks t(store_);
  t.Campaign("c", CampaignReach::kStartLink);
  t.Import("c", {Contact(std::nullopt, "bob")});
  ASSERT_TRUE(store_->ChangeCampaign("c", CampaignAction::kStart, core::Actor::Cli("test")));
  const std::string key = t.KeyOf("c", "bob");
  const std::vector<InboxUpdate> update = {
      {9, InboxUpdate::Kind::kStart, 42, 42, "bob", "", "", "", key}};
  auto added = store_->IngestUpdates(t.account(), update, std::optional<int64_t>(10));
  ASSERT_TRUE(added);
  EXPECT_EQ(*added, 1);
  auto again = store_->IngestUpdates(t.account(), update, std::optional<int64_t>(5));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0) << "a second copy of an update was kept";
  auto account = store_->FindAccount("bot");
  ASSERT_TRUE(account);
  EXPECT_EQ(account->updates_offset, 10) << "the offset went back";

  auto pending = store_->PendingUpdates(t.account(), 100);
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].start_payload, key);
  UpdateEffects effects;
  effects.processed = {9};
  effects.starts = {{9, 42, "bob", key}};
  // Two workers that read the same update both apply it: only the first takes effect.
  auto first = store_->ApplyUpdates(t.account(), effects);
  auto second = store_->ApplyUpdates(t.account(), effects);
  ASSERT_TRUE(first && second);
  EXPECT_EQ((*first)[0].match, StartMatch::kLinked);
  EXPECT_EQ((*second)[0].match, StartMatch::kAlreadyHandled);
  EXPECT_EQ(t.Counts("c")[InvitationState::kPending], 1);
  auto after = store_->PendingUpdates(t.account(), 100);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty());
}

TEST_P(StoreContractTest, StartLinksABareStartMatchesTheOneContactWithTheSendersUsername) {
  StartLinks t(store_);
  t.Campaign("c", CampaignReach::kBoth);
  t.Import("c", {Contact(std::nullopt, "bob"), Contact(std::nullopt, "", "C", "+4930123456")});
  ASSERT_TRUE(store_->ChangeCampaign("c", CampaignAction::kStart, core::Actor::Cli("test")));
  EXPECT_EQ(t.Start({{0, 42, "bob", ""}})[0].match, StartMatch::kLinked);
  EXPECT_EQ(t.Counts("c")[InvitationState::kPending], 1);
  // A stranger's bare /start waits, and links once they are imported.
  EXPECT_EQ(t.Start({{0, 77, "zed", ""}})[0].match, StartMatch::kWaiting);
  auto none = store_->RetryStartWaits(t.account());
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0);
  t.Import("c", {Contact(std::nullopt, "zed")});
  auto linked = store_->RetryStartWaits(t.account());
  ASSERT_TRUE(linked);
  EXPECT_EQ(*linked, 1);
  EXPECT_EQ(t.Counts("c")[InvitationState::kPending], 2);
  EXPECT_EQ(t.Row("c", "zed").contact.telegram_user_id, 77);
}

TEST_P(StoreContractTest, StartLinksCancelledCampaignsAndSuppressedUsersSendNothing) {
  StartLinks t(store_);
  t.Campaign("gone", CampaignReach::kStartLink);
  t.Campaign("c", CampaignReach::kStartLink);
  t.Import("gone", {Contact(std::nullopt, "ann")});
  t.Import("c", {Contact(std::nullopt, "bob")});
  ASSERT_TRUE(store_->ChangeCampaign("gone", CampaignAction::kCancel, core::Actor::Cli("test")));
  ASSERT_TRUE(store_->ChangeCampaign("c", CampaignAction::kStart, core::Actor::Cli("test")));
  EXPECT_EQ(t.Start({{0, 41, "ann", t.KeyOf("gone", "ann")}})[0].match,
            StartMatch::kAlreadyHandled);
  EXPECT_EQ(t.Counts("gone")[InvitationState::kCancelled], 1);

  ASSERT_TRUE(store_->AddSuppression("id:42", "asked not to be contacted"));
  std::vector<StartResult> suppressed = t.Start({{0, 42, "bob", t.KeyOf("c", "bob")}});
  EXPECT_EQ(suppressed[0].match, StartMatch::kSuppressed);
  EXPECT_EQ(suppressed[0].queued, 0);
  EXPECT_EQ(t.Counts("c")[InvitationState::kSkipped], 1);
  EXPECT_EQ(t.Counts("c")[InvitationState::kPending], 0);
}

TEST_P(StoreContractTest, StartLinksARevokedLinkStopsWorkingAndTheNewOneWorks) {
  StartLinks t(store_);
  t.Campaign("c", CampaignReach::kStartLink);
  t.Import("c", {Contact(std::nullopt, "bob")});
  ASSERT_TRUE(store_->ChangeCampaign("c", CampaignAction::kStart, core::Actor::Cli("test")));
  const std::string old_key = t.KeyOf("c", "bob");
  auto renewed = store_->RenewStartLink("c", "username:bob");
  ASSERT_TRUE(renewed) << renewed.error().message;
  EXPECT_EQ(*renewed, t.Row("c", "bob").start_link);
  EXPECT_NE(t.KeyOf("c", "bob"), old_key);
  EXPECT_EQ(t.Start({{0, 42, "bob", old_key}})[0].match, StartMatch::kUnknownPayload);
  EXPECT_EQ(t.Start({{0, 42, "bob", t.KeyOf("c", "bob")}})[0].match, StartMatch::kLinked);
  auto unknown = store_->RenewStartLink("c", "username:nobody");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, StartLinksExportedLinksAreCountedOncePerInvitation) {
  StartLinks t(store_);
  t.Campaign("c", CampaignReach::kBoth);
  t.Import("c", {Contact(std::nullopt, "bob"), Contact(std::nullopt, "ann"), Contact(5, "cid")});
  auto first = store_->MarkStartLinksExported("c");
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, 2) << "only the invitations that wait for a start";
  auto second = store_->MarkStartLinksExported("c");
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, 0);
  auto found = store_->FindCampaign("c");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->campaign.links_exported, 2);
}

// A rehearsal's simulated users are never written onto contacts; their invitations carry them.
TEST_P(StoreContractTest, StartLinksARehearsalStartDoesNotLinkTheContact) {
  StartLinks t(store_);
  t.Campaign("c", CampaignReach::kStartLink, core::AccountKind::kRehearsal);
  t.Import("c", {Contact(std::nullopt, "bob")});
  ASSERT_TRUE(store_->ChangeCampaign("c", CampaignAction::kStart, core::Actor::Cli("test")));
  auto waiting = store_->AwaitingStarts(t.account(), 10);
  ASSERT_TRUE(waiting);
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_EQ((*waiting)[0].username, "bob");
  EXPECT_EQ(t.Start({{0, 900000000001, "bob", (*waiting)[0].start_key}})[0].match,
            StartMatch::kLinked);
  EXPECT_EQ(t.Row("c", "bob").contact.telegram_user_id, std::nullopt);

  auto found = store_->FindCampaign("c");
  ASSERT_TRUE(found);
  ClaimRequest request;
  request.account_id = t.account();
  request.worker_id = "w";
  request.now = 1'700'000'000'000;
  request.horizon = std::chrono::seconds(10);
  request.campaigns = {{found->campaign.id, 0, {}, {}, {}}};
  auto claimed = store_->ClaimInvitations(request);
  ASSERT_TRUE(claimed) << claimed.error().message;
  ASSERT_EQ(claimed->claims.size(), 1u);
  EXPECT_EQ(claimed->claims[0].contact.telegram_user_id, 900000000001);
}

}  // namespace

}  // namespace tginvite::storage
