// The catalog (Catalog, storage/catalog.h): settings, campaigns and their state machine,
// suppressions, the export. Part of the storage contract suite: it runs wherever StoreContractTest
// is instantiated (both engines).
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

TEST_P(StoreContractTest, SettingsAreValidatedAndStoredCanonically) {
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "pacing.cycle_interval", " 600000ms "));
  auto raw = store_->LoadSettings(std::nullopt);
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->at("pacing.cycle_interval"), "10m");

  Status refused = store_->PutSetting(std::nullopt, "pacing.batch_size", "lots");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("pacing.batch_size"), std::string::npos);
  EXPECT_NE(refused.error().message.find("0..10000"), std::string::npos);

  Status unknown = store_->PutSetting(std::nullopt, "pacing.nonsense", "1");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, CrossFieldRuleIsCheckedAgainstValuesInForce) {
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "pacing.delay_max", "200s"));
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "pacing.delay_min", "200s"));
  Status refused = store_->PutSetting(std::nullopt, "pacing.delay_max", "100s");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("pacing.delay_min"), std::string::npos);
  auto raw = store_->LoadSettings(std::nullopt);
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->at("pacing.delay_max"), "200s") << "a refused value was stored";
}

TEST_P(StoreContractTest, GlobalChangeMayNotBreakACampaignsOverrides) {
  CreateCampaign(*store_);
  ASSERT_TRUE(store_->PutSetting(std::string("spring"), "pacing.delay_min", "170s"));
  Status refused = store_->PutSetting(std::nullopt, "pacing.delay_max", "150s");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("campaign spring"), std::string::npos)
      << refused.error().message;
}

TEST_P(StoreContractTest, AccountWideSettingsCannotBeOverriddenPerCampaign) {
  CreateCampaign(*store_);
  for (const char* key : {"telegram.rate", "dispatch.in_flight", "http.proxy"}) {
    Status refused = store_->PutSetting(std::string("spring"), key, "");
    ASSERT_FALSE(refused) << key;
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << refused.error().message;
  }
  Status refused = store_->PutSetting(std::string("spring"), "telegram.rate", "10");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("without --campaign"), std::string::npos);
  EXPECT_TRUE(store_->PutSetting(std::nullopt, "telegram.rate", "10"));
}

TEST_P(StoreContractTest, CampaignOverridesWinAndCanBeRemoved) {
  CreateCampaign(*store_);
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "pacing.batch_size", "10"));
  ASSERT_TRUE(store_->PutSetting(std::string("spring"), "pacing.batch_size", "0"));
  auto campaign = LoadResolvedSettings(*store_, std::string("spring"));
  ASSERT_TRUE(campaign);
  EXPECT_EQ(campaign->settings.batch_size, 0);
  auto global = LoadResolvedSettings(*store_, std::nullopt);
  ASSERT_TRUE(global);
  EXPECT_EQ(global->settings.batch_size, 10);

  ASSERT_TRUE(store_->DeleteSetting(std::string("spring"), "pacing.batch_size"));
  campaign = LoadResolvedSettings(*store_, std::string("spring"));
  ASSERT_TRUE(campaign);
  EXPECT_EQ(campaign->settings.batch_size, 10);

  Status no_campaign = store_->PutSetting(std::string("autumn"), "pacing.batch_size", "1");
  ASSERT_FALSE(no_campaign);
  EXPECT_EQ(no_campaign.error().code, ErrorCode::kNotFound);
}

// A worker's plan reads every scope at once: the global values under 0, each campaign's overrides
// under its id, and nothing for a campaign without any.
TEST_P(StoreContractTest, LoadAllSettingsReadsEveryScopeInOneGo) {
  CreateCampaign(*store_, "spring");
  CreateCampaign(*store_, "autumn");
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "telegram.rate", "20"));
  ASSERT_TRUE(store_->PutSetting(std::string("spring"), "pacing.batch_size", "7"));
  ASSERT_TRUE(store_->PutSetting(std::string("spring"), "pacing.delay_min", "2s"));
  auto spring = store_->FindCampaign("spring");
  ASSERT_TRUE(spring);
  auto all = store_->LoadAllSettings();
  ASSERT_TRUE(all) << all.error().message;
  std::map<int64_t, core::RawSettings> expected;
  expected[0] = *store_->LoadSettings(std::nullopt);
  expected[spring->campaign.id] = *store_->LoadSettings(std::string("spring"));
  EXPECT_EQ(*all, expected);
  EXPECT_EQ((*all)[0].at("telegram.rate"), "20");
  EXPECT_EQ((*all)[spring->campaign.id].size(), 2u);
}

TEST_P(StoreContractTest, CampaignCreationValidatesEverything) {
  ASSERT_TRUE(
      store_->AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://api.telegram.org"}));
  auto create = [&](std::string chat, std::string text, std::string account = "demo") {
    return store_->CreateCampaign({"c1", std::move(account), std::move(chat), std::move(text),
                                   core::LinkMode::kPersonal, ""});
  };
  auto unknown_placeholder = create("-100123", "Hi {firstname}");
  ASSERT_FALSE(unknown_placeholder);
  EXPECT_NE(unknown_placeholder.error().message.find("{firstname}"), std::string::npos);
  EXPECT_FALSE(create("-100123", "<b>unclosed"));
  EXPECT_FALSE(create("-100123", std::string(5000, 'x')));
  EXPECT_FALSE(create("not a chat", "Hi"));
  auto no_account = create("-100123", "Hi", "ghost");
  ASSERT_FALSE(no_account);
  EXPECT_EQ(no_account.error().code, ErrorCode::kNotFound);

  auto ok = create("@my_channel", "Hi <b>{first_name}</b> {link}");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->chat, "@my_channel");
  EXPECT_EQ(ok->state, core::CampaignState::kDraft);
  EXPECT_FALSE(create("-100123", "Hi"));  // the name is taken
}

TEST_P(StoreContractTest, ListRunningCampaignsHasOnlyRunningOnes) {
  CreateCampaign(*store_, "spring");
  CreateCampaign(*store_, "autumn");
  ASSERT_TRUE(store_->ChangeCampaign("autumn", CampaignAction::kStart, core::Actor::Cli("test")));
  auto running = store_->ListRunningCampaigns();
  ASSERT_TRUE(running);
  ASSERT_EQ(running->size(), 1u);
  EXPECT_EQ((*running)[0].name, "autumn");
  EXPECT_EQ((*running)[0].chat, "-1001234567890");
}

TEST_P(StoreContractTest, CampaignStateMachine) {
  CreateCampaign(*store_);
  using A = CampaignAction;
  EXPECT_FALSE(store_->ChangeCampaign("spring", A::kPause, core::Actor::Cli("test")));
  EXPECT_FALSE(store_->ChangeCampaign("spring", A::kResume, core::Actor::Cli("test")));
  auto started = store_->ChangeCampaign("spring", A::kStart, core::Actor::Cli("test"));
  ASSERT_TRUE(started);
  EXPECT_EQ(started->state, core::CampaignState::kRunning);
  EXPECT_TRUE(started->started_at.has_value());
  EXPECT_FALSE(store_->ChangeCampaign("spring", A::kStart, core::Actor::Cli("test")));
  EXPECT_TRUE(store_->ChangeCampaign("spring", A::kPause, core::Actor::Cli("test")));
  EXPECT_TRUE(store_->ChangeCampaign("spring", A::kResume, core::Actor::Cli("test")));
  EXPECT_FALSE(store_->ChangeCampaign("ghost", A::kStart, core::Actor::Cli("test")));
}

TEST_P(StoreContractTest, CancellingCancelsPendingInvitationsOnly) {
  CreateCampaign(*store_);
  ASSERT_TRUE(store_->AddSuppression("id:3", "asked"));
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2), Contact(3)}, Options("spring")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kCancel, core::Actor::Cli("test")));
  core::StateCounts counts = CountsOf(*store_, "spring");
  EXPECT_EQ(counts[InvitationState::kCancelled], 2);
  EXPECT_EQ(counts[InvitationState::kSkipped], 1);
  EXPECT_EQ(counts[InvitationState::kPending], 0);
  auto refused = Import(*store_, {Contact(4)}, Options("spring"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
}

// The audit trail (Catalog::ListCampaignEvents): every state change with its actor, newest first;
// a refused change leaves none.
TEST_P(StoreContractTest, StateChangesAreRecordedWithTheirActor) {
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2)}, Options("spring")));
  using A = CampaignAction;
  using S = core::CampaignState;
  ASSERT_TRUE(store_->ChangeCampaign("spring", A::kStart, core::Actor::Cli("alice")));
  EXPECT_FALSE(store_->ChangeCampaign("spring", A::kStart, core::Actor::Cli("mallory")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", A::kPause, core::Actor::Token("deploy")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", A::kResume, core::Actor::Dashboard("admin")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", A::kCancel, core::Actor::Cli("bob")));

  auto page = store_->ListCampaignEvents("spring", {});
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->events.size(), 4u);
  EXPECT_FALSE(page->next_before.has_value());
  using Row = std::tuple<std::string, A, S, S, std::string>;
  std::vector<Row> rows;
  for (const CampaignEvent& e : page->events) {
    rows.emplace_back(e.actor, e.action, e.from, e.to, e.detail);
    EXPECT_GT(e.at, 0);
  }
  EXPECT_EQ(
      rows,
      (std::vector<Row>{
          {"cli:bob", A::kCancel, S::kRunning, S::kCancelled, "open invitations cancelled: 2"},
          {"dashboard:admin", A::kResume, S::kPaused, S::kRunning, ""},
          {"token:deploy", A::kPause, S::kRunning, S::kPaused, ""},
          {"cli:alice", A::kStart, S::kDraft, S::kRunning, ""},
      }));
  EXPECT_GT(page->events[0].id, page->events[1].id);
  EXPECT_GE(page->events[0].at, page->events[3].at);
}

// The engine's pause (DeliveryStore::PauseCampaignFor) is in the trail once, with its reason; a
// campaign that is not running is left as it is, and so is its trail.
TEST_P(StoreContractTest, TheEnginesPauseIsRecordedWithItsReason) {
  CreateCampaign(*store_, "spring");
  CreateCampaign(*store_, "autumn");
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("alice")));
  auto spring = store_->FindCampaign("spring");
  auto autumn = store_->FindCampaign("autumn");
  ASSERT_TRUE(spring && autumn);
  ASSERT_TRUE(store_->PauseCampaignFor(spring->campaign.id, "the bot is not an admin of the chat"));
  ASSERT_TRUE(store_->PauseCampaignFor(spring->campaign.id, "again"));  // already paused
  ASSERT_TRUE(store_->PauseCampaignFor(autumn->campaign.id, "a draft"));

  auto events = store_->ListCampaignEvents("spring", {});
  ASSERT_TRUE(events) << events.error().message;
  ASSERT_EQ(events->events.size(), 2u);
  const CampaignEvent& paused = events->events[0];
  EXPECT_EQ(paused.actor, "engine");
  EXPECT_EQ(paused.action, CampaignAction::kPause);
  EXPECT_EQ(paused.from, core::CampaignState::kRunning);
  EXPECT_EQ(paused.to, core::CampaignState::kPaused);
  EXPECT_EQ(paused.detail, "the bot is not an admin of the chat");
  auto draft = store_->ListCampaignEvents("autumn", {});
  ASSERT_TRUE(draft);
  EXPECT_TRUE(draft->events.empty());
  EXPECT_EQ(store_->FindCampaign("autumn")->campaign.state, core::CampaignState::kDraft);
}

TEST_P(StoreContractTest, CampaignEventsComeInPagesNewestFirst) {
  CreateCampaign(*store_);
  CreateCampaign(*store_, "autumn");
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("a")));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kPause, core::Actor::Cli("a")));
    ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kResume, core::Actor::Cli("a")));
  }
  ASSERT_TRUE(store_->ChangeCampaign("autumn", CampaignAction::kStart, core::Actor::Cli("a")));

  std::vector<int64_t> seen;
  CampaignEventQuery query;
  query.limit = 2;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = store_->ListCampaignEvents("spring", query);
    ASSERT_TRUE(page) << page.error().message;
    for (const CampaignEvent& e : page->events) seen.push_back(e.id);
    if (!page->next_before) break;
    EXPECT_EQ(page->events.size(), 2u);
    query.before = *page->next_before;
  }
  ASSERT_EQ(seen.size(), 5u) << "every event of spring, none of autumn";
  EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());

  auto exact = store_->ListCampaignEvents("spring", {.before = 0, .limit = 5});
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->events.size(), 5u);
  EXPECT_FALSE(exact->next_before.has_value()) << "no older events remain";

  for (int limit : {0, kMaxCampaignEvents + 1}) {
    auto refused = store_->ListCampaignEvents("spring", {.before = 0, .limit = limit});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  }
  auto missing = store_->ListCampaignEvents("ghost", {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

// Each campaign's sends of the last minute, as ListCampaigns (all campaigns at once) and
// FindCampaign (one) report them: successful send attempts only, started within 60 s.
TEST_P(StoreContractTest, CampaignsCountTheirSuccessfulSendsOfTheLastMinute) {
  CreateCampaign(*store_, "spring");
  CreateCampaign(*store_, "autumn");
  CreateCampaign(*store_, "winter");
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2), Contact(3), Contact(4)}, Options("spring")));
  ASSERT_TRUE(Import(*store_, {Contact(5), Contact(6)}, Options("autumn")));
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  // (outcome, request, started this long ago) by contact.
  struct Sent {
    const char* outcome;
    const char* request;
    int64_t ago;
  };
  const std::map<int64_t, Sent> sends = {
      {1, {"ok", "send", 1000}},        {2, {"ok", "send", 30000}},
      {3, {"ok", "send", 120000}},  // too long ago
      {4, {"transient", "send", 1000}}, {5, {"ok", "send", 2000}},
      {6, {"ok", "link", 2000}}};
  for (const char* name : {"spring", "autumn"}) {
    ASSERT_TRUE(store_->ChangeCampaign(name, CampaignAction::kStart, core::Actor::Cli("test")));
    auto claims = ClaimAndMarkSending(*store_, ClaimRequestFor(*store_, name));
    ASSERT_TRUE(claims);
    std::vector<OutcomeRecord> outcomes;
    for (const Claim& claim : *claims) {
      const Sent& sent = sends.at(*claim.contact.telegram_user_id);
      OutcomeRecord record;
      record.invitation_id = claim.invitation_id;
      record.gen = claim.gen;
      record.state = std::string_view(sent.outcome) == "ok" ? InvitationState::kSent
                                                            : InvitationState::kWaiting;
      record.attempt =
          AttemptRecord{"w", sent.request, now - sent.ago, 5, 200, 0, "", sent.outcome};
      outcomes.push_back(record);
    }
    ASSERT_TRUE(store_->RecordOutcomes(outcomes, now));
  }
  auto listed = store_->ListCampaigns();
  ASSERT_TRUE(listed) << listed.error().message;
  std::map<std::string, int64_t> per_minute;
  for (const CampaignSummary& s : *listed) per_minute[s.campaign.name] = s.sent_last_minute;
  EXPECT_EQ(per_minute,
            (std::map<std::string, int64_t>{{"autumn", 1}, {"spring", 2}, {"winter", 0}}));
  for (const auto& [name, n] : per_minute) {
    auto found = store_->FindCampaign(name);
    ASSERT_TRUE(found) << found.error().message;
    EXPECT_EQ(found->sent_last_minute, n) << name;
  }
}

TEST_P(StoreContractTest, SuppressingSkipsPendingInvitations) {
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2)}, Options("spring")));
  auto skipped = store_->AddSuppression("id:2", "asked");
  ASSERT_TRUE(skipped);
  EXPECT_EQ(*skipped, 1);
  EXPECT_EQ(CountsOf(*store_, "spring")[InvitationState::kSkipped], 1);
  auto list = store_->ListSuppressions();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].key, "id:2");
  EXPECT_TRUE(store_->RemoveSuppression("id:2"));
  auto missing = store_->RemoveSuppression("id:2");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(store_->AddSuppression("bob", ""));
}

TEST_P(StoreContractTest, ExportStreamsEveryInvitationWithItsState) {
  CreateCampaign(*store_);
  ASSERT_TRUE(store_->AddSuppression("id:2", ""));
  ASSERT_TRUE(
      Import(*store_, {Contact(1, "anna", "=HYPERLINK(\"x\")"), Contact(2)}, Options("spring")));
  std::vector<ExportRow> rows = ExportAll(*store_, "spring");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].contact.first_name, "=HYPERLINK(\"x\")") << "the store keeps data verbatim";
  EXPECT_EQ(rows[0].state, InvitationState::kPending);
  EXPECT_EQ(rows[1].state, InvitationState::kSkipped);
  EXPECT_EQ(rows[1].last_error, "suppressed");
  Status missing = store_->ExportInvitations("ghost", [](const ExportRow&) { return Ok(); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

}  // namespace tginvite::storage
