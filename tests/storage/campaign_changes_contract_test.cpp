// Changing campaigns after they start (Catalog::EditCampaign, Catalog::DeleteCampaign) and their
// schedule. Part of the storage contract suite: it runs wherever StoreContractTest is instantiated
// (both engines).
#include <algorithm>

#include "storage/contract_helpers.h"
#include "storage/import_rows.h"
#include "storage/store_contract.h"

namespace tginvite::storage {
namespace {

using contract::ClaimAndMarkSending;
using contract::ClaimRequestFor;
using contract::CountsOf;
using contract::CreateCampaign;
using contract::Import;
using core::InvitationState;
using testing::Contact;
using testing::Options;

constexpr int64_t kChristmas = 1'798'099'200'000;  // 2026-12-24T08:00:00Z

// Claims every pending invitation of `campaign` and records each as sent, with its attempt.
void SendAll(Store& store, std::string_view campaign) {
  ClaimRequest request = ClaimRequestFor(store, campaign);
  auto claims = ClaimAndMarkSending(store, request);
  ASSERT_TRUE(claims);
  std::vector<OutcomeRecord> outcomes;
  for (const Claim& claim : *claims) {
    OutcomeRecord record;
    record.invitation_id = claim.invitation_id;
    record.gen = claim.gen;
    record.state = InvitationState::kSent;
    record.attempt = AttemptRecord{"w", "send", request.now, 5, 200, 0, "", "sent"};
    outcomes.push_back(record);
  }
  auto applied = store.RecordOutcomes(outcomes, request.now + 10);
  ASSERT_TRUE(applied) << applied.error().message;
  ASSERT_EQ(*applied, static_cast<int64_t>(claims->size()));
}

}  // namespace

TEST_P(StoreContractTest, ScheduleIsStoredAndEndsMustFollowStarts) {
  ASSERT_TRUE(store_->AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://x"}));
  NewCampaign campaign{"xmas", "demo", "-1001", "Hi {first_name}: {link}",
                       core::LinkMode::kPersonal, ""};
  campaign.starts_at = kChristmas;
  campaign.ends_at = kChristmas;
  auto refused = store_->CreateCampaign(campaign);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("ends_at"), std::string::npos) << refused.error().message;
  EXPECT_FALSE(store_->FindCampaign("xmas")) << "a refused campaign was stored";

  campaign.ends_at = kChristmas + 3'600'000;
  auto created = store_->CreateCampaign(campaign);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->starts_at, kChristmas);
  EXPECT_EQ(created->ends_at, kChristmas + 3'600'000);

  // An edit may move or clear each bound; the rule holds for the bounds it leaves.
  CampaignEdit early;
  early.ends_at = std::optional<int64_t>(kChristmas - 1);
  auto bad = store_->EditCampaign("xmas", early, core::Actor::Cli("alice"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  CampaignEdit clear;
  clear.starts_at = std::optional<int64_t>();
  auto cleared = store_->EditCampaign("xmas", clear, core::Actor::Cli("alice"));
  ASSERT_TRUE(cleared) << cleared.error().message;
  EXPECT_FALSE(cleared->starts_at.has_value());
  EXPECT_EQ(cleared->ends_at, kChristmas + 3'600'000);
  auto running = store_->ListRunningCampaigns();
  ASSERT_TRUE(running);
  ASSERT_TRUE(store_->ChangeCampaign("xmas", CampaignAction::kStart, core::Actor::Cli("a")));
  running = store_->ListRunningCampaigns();
  ASSERT_TRUE(running);
  ASSERT_EQ(running->size(), 1u);
  EXPECT_EQ(running->front().ends_at, kChristmas + 3'600'000) << "the worker reads the schedule";
}

// A template edit applies to what is not sent yet and is in the trail with its actor; a bad
// template is refused as on create and changes nothing.
TEST_P(StoreContractTest, EditingTheTemplateIsValidatedAndRecorded) {
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2)}, Options("spring")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("a")));

  CampaignEdit bad;
  bad.template_text = "Hi {nope}";
  auto refused = store_->EditCampaign("spring", bad, core::Actor::Cli("alice"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("template"), std::string::npos);
  CampaignEdit html;
  html.template_text = "<b>Hi {link}";
  EXPECT_FALSE(store_->EditCampaign("spring", html, core::Actor::Cli("alice")));
  EXPECT_FALSE(store_->EditCampaign("spring", CampaignEdit{}, core::Actor::Cli("alice")))
      << "an empty edit is refused";

  CampaignEdit edit;
  edit.template_text = "Welcome {first_name}! {link}";
  auto edited = store_->EditCampaign("spring", edit, core::Actor::Token("deploy"));
  ASSERT_TRUE(edited) << edited.error().message;
  EXPECT_EQ(edited->template_text, "Welcome {first_name}! {link}");
  EXPECT_EQ(edited->state, core::CampaignState::kRunning) << "an edit changes no state";
  auto running = store_->ListRunningCampaigns();
  ASSERT_TRUE(running);
  ASSERT_EQ(running->size(), 1u);
  EXPECT_EQ(running->front().template_text, "Welcome {first_name}! {link}")
      << "the worker renders pending invitations with the new template";

  auto events = store_->ListCampaignEvents("spring", {});
  ASSERT_TRUE(events) << events.error().message;
  ASSERT_FALSE(events->events.empty());
  const CampaignEvent& latest = events->events.front();
  EXPECT_EQ(latest.action, CampaignAction::kEdit);
  EXPECT_EQ(latest.actor, "token:deploy");
  EXPECT_EQ(latest.from, core::CampaignState::kRunning);
  EXPECT_EQ(latest.to, core::CampaignState::kRunning);
  EXPECT_EQ(latest.detail, "template");
  EXPECT_EQ(events->events.size(), 2u) << "start, then the edit; the refused ones left nothing";
}

// Invariant I1 (docs/invariants.md)
// The chat and link change only while the campaign is not running and nothing was claimed or
// sent: a claim in flight reads them, and a sent invitation went to the old chat.
TEST_P(StoreContractTest, ChatAndLinkChangeOnlyWhileNothingWasSent) {
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2)}, Options("spring")));
  CampaignEdit move;
  move.chat = "@newchannel";
  move.link_mode = core::LinkMode::kJoinRequest;
  auto moved = store_->EditCampaign("spring", move, core::Actor::Cli("alice"));
  ASSERT_TRUE(moved) << "a draft with nothing sent: " << moved.error().message;
  EXPECT_EQ(moved->chat, "@newchannel");
  EXPECT_EQ(moved->link_mode, core::LinkMode::kJoinRequest);
  auto events = store_->ListCampaignEvents("spring", {});
  ASSERT_TRUE(events && !events->events.empty());
  EXPECT_EQ(events->events.front().detail,
            "chat -1001234567890 -> @newchannel; link personal -> join-request");

  CampaignEdit bad_chat;
  bad_chat.chat = "not a chat";
  auto refused_chat = store_->EditCampaign("spring", bad_chat, core::Actor::Cli("alice"));
  ASSERT_FALSE(refused_chat);
  EXPECT_EQ(refused_chat.error().code, ErrorCode::kInvalidArgument);

  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("a")));
  CampaignEdit back;
  back.chat = "-1001234567890";
  auto while_running = store_->EditCampaign("spring", back, core::Actor::Cli("alice"));
  ASSERT_FALSE(while_running);
  EXPECT_EQ(while_running.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(while_running.error().message.find("pause"), std::string::npos);

  // One invitation claimed (its request may be in flight), then paused: still refused.
  ClaimRequest request = ClaimRequestFor(*store_, "spring");
  request.max_rows = 1;
  auto claims = ClaimAndMarkSending(*store_, request);
  ASSERT_TRUE(claims);
  ASSERT_EQ(claims->size(), 1u);
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kPause, core::Actor::Cli("a")));
  auto after_claim = store_->EditCampaign("spring", back, core::Actor::Cli("alice"));
  ASSERT_FALSE(after_claim);
  EXPECT_EQ(after_claim.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(after_claim.error().message.find("claimed or sent"), std::string::npos)
      << after_claim.error().message;
  CampaignEdit link;
  link.link_mode = core::LinkMode::kPersonal;
  EXPECT_FALSE(store_->EditCampaign("spring", link, core::Actor::Cli("alice")));
  auto found = store_->FindCampaign("spring");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->campaign.chat, "@newchannel") << "a refused edit changed the chat";
  EXPECT_EQ(found->campaign.link_mode, core::LinkMode::kJoinRequest);

  // The template and the schedule still change.
  CampaignEdit text;
  text.template_text = "New {link}";
  text.ends_at = std::optional<int64_t>(kChristmas);
  EXPECT_TRUE(store_->EditCampaign("spring", text, core::Actor::Cli("alice")));

  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kCancel, core::Actor::Cli("a")));
  auto cancelled = store_->EditCampaign("spring", text, core::Actor::Cli("alice"));
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, ErrorCode::kFailedPrecondition);
  auto unknown = store_->EditCampaign("nope", text, core::Actor::Cli("alice"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

// Invariant I2 (docs/invariants.md)
// Deleting: only a finished or cancelled campaign; its invitations go, its attempts stay in the
// contacts' history (detached, with the campaign's name) unless purged; the other campaigns and
// the contacts are untouched, and the name can be used again.
TEST_P(StoreContractTest, DeletingKeepsAttemptsDetachedUnlessPurged) {
  CreateCampaign(*store_, "spring");
  CreateCampaign(*store_, "autumn");
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2), Contact(3)}, Options("spring")));
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2)}, Options("autumn")));

  auto draft = store_->DeleteCampaign("spring", AttemptsOnDelete::kKeep, core::Actor::Cli("a"));
  ASSERT_FALSE(draft);
  EXPECT_EQ(draft.error().code, ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("a")));
  auto running = store_->DeleteCampaign("spring", AttemptsOnDelete::kKeep, core::Actor::Cli("a"));
  ASSERT_FALSE(running);
  EXPECT_EQ(running.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(running.error().message.find("3 invitations not sent yet"), std::string::npos)
      << running.error().message;

  SendAll(*store_, "spring");  // every invitation sent: the campaign is finished
  ASSERT_TRUE(store_->PutSetting(std::string("spring"), "pacing.batch_size", "9"));
  auto contacts = store_->ListContacts({});
  ASSERT_TRUE(contacts) << contacts.error().message;
  ASSERT_EQ(contacts->contacts.size(), 3u);
  const int64_t first_contact = contacts->contacts.front().id;
  auto before = store_->ContactAttempts(first_contact);
  ASSERT_TRUE(before);
  ASSERT_EQ(before->size(), 1u);

  auto deleted = store_->DeleteCampaign("spring", AttemptsOnDelete::kKeep, core::Actor::Cli("a"));
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_EQ(deleted->name, "spring");
  EXPECT_EQ(deleted->invitations, 3);
  EXPECT_EQ(deleted->attempts_kept, 3);
  EXPECT_EQ(deleted->attempts_deleted, 0);
  auto gone = store_->FindCampaign("spring");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  auto after = store_->ContactAttempts(first_contact);
  ASSERT_TRUE(after) << after.error().message;
  ASSERT_EQ(after->size(), 1u) << "the attempt stays in the contact's history";
  EXPECT_EQ(after->front().campaign, "spring");
  EXPECT_EQ(after->front().contact_id, first_contact);
  EXPECT_EQ(after->front().attempt.outcome, "sent");
  EXPECT_EQ(CountsOf(*store_, "autumn")[InvitationState::kPending], 2) << "autumn untouched";
  auto still = store_->ListContacts({});
  ASSERT_TRUE(still);
  EXPECT_EQ(still->contacts.size(), 3u) << "contacts are not the campaign's";

  // The name is free again, with nothing of the old campaign in it.
  CreateCampaign(*store_, "spring");
  auto fresh = store_->FindCampaign("spring");
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->counts.Total(), 0);
  auto overrides = store_->LoadSettings(std::string("spring"));
  ASSERT_TRUE(overrides);
  EXPECT_TRUE(overrides->empty()) << "the old campaign's overrides went with it";
  auto trail = store_->ListCampaignEvents("spring", {});
  ASSERT_TRUE(trail);
  EXPECT_TRUE(trail->events.empty());

  // Attempts stay append-only outside a delete.
  auto again = store_->ContactAttempts(first_contact);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->size(), 1u);
}

TEST_P(StoreContractTest, DeletingWithPurgeRemovesTheAttemptsToo) {
  CreateCampaign(*store_, "spring");
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2)}, Options("spring")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("a")));
  SendAll(*store_, "spring");
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kPause, core::Actor::Cli("a")));
  auto contacts = store_->ListContacts({});
  ASSERT_TRUE(contacts);
  const int64_t contact = contacts->contacts.front().id;

  auto deleted = store_->DeleteCampaign("spring", AttemptsOnDelete::kPurge, core::Actor::Cli("a"));
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_EQ(deleted->invitations, 2);
  EXPECT_EQ(deleted->attempts_deleted, 2);
  EXPECT_EQ(deleted->attempts_kept, 0);
  auto history = store_->ContactAttempts(contact);
  ASSERT_TRUE(history);
  EXPECT_TRUE(history->empty());
}

TEST_P(StoreContractTest, ACancelledCampaignIsDeletedWithItsCancelledInvitations) {
  CreateCampaign(*store_, "spring");
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2)}, Options("spring")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kCancel, core::Actor::Cli("a")));
  auto deleted = store_->DeleteCampaign("spring", AttemptsOnDelete::kKeep, core::Actor::Cli("a"));
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_EQ(deleted->invitations, 2);
  EXPECT_EQ(deleted->attempts_kept, 0);
  auto unknown = store_->DeleteCampaign("spring", AttemptsOnDelete::kKeep, core::Actor::Cli("a"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

}  // namespace tginvite::storage
