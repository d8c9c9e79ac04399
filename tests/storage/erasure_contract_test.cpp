// Erasure (storage/erasure.h): a forgotten contact, a removed account, a cancelled campaign's
// unused links. Part of the storage contract suite: it runs wherever StoreContractTest is
// instantiated (both engines).
#include <algorithm>

#include <gmock/gmock.h>

#include "core/actor.h"
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
using core::CampaignAction;
using core::InvitationState;
using testing::Contact;
using ::testing::HasSubstr;
using testing::Options;

constexpr int64_t kChat = -1001234567890;

// Sends every due invitation of `campaign`, each with the personal link "https://t.me/+L<id>".
void SendAll(Store& store, std::string_view campaign, int64_t now) {
  ClaimRequest request = ClaimRequestFor(store, campaign);
  request.now = now;
  auto claimed = store.ClaimInvitations(request);
  ASSERT_TRUE(claimed) << claimed.error().message;
  std::vector<SendingMark> marks;
  for (const Claim& c : claimed->claims) {
    marks.push_back({c.invitation_id, c.gen, fmt::format("https://t.me/+L{}", c.invitation_id)});
  }
  ASSERT_TRUE(store.MarkSending(marks, now, std::chrono::seconds(30)));
  std::vector<OutcomeRecord> outcomes;
  for (const Claim& c : claimed->claims) {
    OutcomeRecord record;
    record.invitation_id = c.invitation_id;
    record.gen = c.gen;
    record.state = InvitationState::kSent;
    record.attempt = AttemptRecord{"w", "send", now, 7, 200, 0, "", "ok"};
    outcomes.push_back(record);
  }
  auto recorded = store.RecordOutcomes(outcomes, now + 10);
  ASSERT_TRUE(recorded) << recorded.error().message;
}

int64_t AccountIdOf(Store& store, std::string_view campaign) {
  auto found = store.FindCampaign(campaign);
  EXPECT_TRUE(found) << found.error().message;
  return found ? found->campaign.account_id : 0;
}

}  // namespace

// Invariant I13 (docs/invariants.md)
TEST_P(StoreContractTest, AForgottenContactIsGoneButCountsAndSuppressionStay) {
  CreateCampaign(*store_);
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("t")));
  ASSERT_TRUE(Import(*store_,
                     {Contact(1001, "anna", "Anna", "+4930123456"), Contact(1002, "bob", "Bob")},
                     Options("spring")));
  ASSERT_NO_FATAL_FAILURE(SendAll(*store_, "spring", 1'700'000'000'000));
  const int64_t account = AccountIdOf(*store_, "spring");
  const core::RequestKind send[] = {core::RequestKind::kSend};
  auto before = store_->CountAttempts(account, send, 0);
  ASSERT_TRUE(before) << before.error().message;
  ASSERT_EQ(before->count, 2);

  auto forgotten = store_->ForgetContact("username:anna");
  ASSERT_TRUE(forgotten) << forgotten.error().message;
  EXPECT_NE(forgotten->contact_id, 0);
  EXPECT_EQ(forgotten->contacts, 1);
  EXPECT_EQ(forgotten->invitations, 1);
  EXPECT_EQ(forgotten->invite_links, 1);
  EXPECT_EQ(forgotten->start_links, 1);
  EXPECT_EQ(forgotten->attempts, 1);
  EXPECT_THAT(forgotten->suppression_keys,
              ::testing::UnorderedElementsAre("id:1001", "username:anna", "phone:+4930123456"));
  EXPECT_EQ(forgotten->suppressions_added, 3);

  auto contacts = store_->CountContacts();
  ASSERT_TRUE(contacts);
  EXPECT_EQ(*contacts, 1);
  EXPECT_EQ(CountsOf(*store_, "spring")[InvitationState::kSent], 1);
  // The attempt is still the account's (its caps and tallies), no longer the person's.
  auto after = store_->CountAttempts(account, send, 0);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->count, 2);
  auto tallies = store_->TallyAttempts();
  ASSERT_TRUE(tallies);
  int64_t tallied = 0;
  for (const AttemptTally& t : *tallies) tallied += t.count;
  EXPECT_EQ(tallied, 2);
  auto page = store_->ListContacts(ContactQuery{});
  ASSERT_TRUE(page) << page.error().message;
  for (const ContactView& c : page->contacts) EXPECT_NE(c.contact.username, "anna");

  // The same CSV again: the person does not come back as someone to invite.
  auto again = Import(*store_, {Contact(1001, "anna", "Anna", "+4930123456")}, Options("spring"));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(CountsOf(*store_, "spring")[InvitationState::kPending], 0);
  EXPECT_EQ(CountsOf(*store_, "spring")[InvitationState::kSkipped], 1);
}

// A deleted campaign leaves its attempts in the contacts' history, detached but with the contact's
// id; forgetting the contact cuts that tie too, and nothing else of the attempt changes.
// Invariant I13 (docs/invariants.md)
TEST_P(StoreContractTest, ForgettingSomeoneCutsTheAttemptsADeletedCampaignLeftThem) {
  CreateCampaign(*store_);
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("t")));
  ASSERT_TRUE(Import(*store_, {Contact(1001, "anna", "Anna"), Contact(1002, "bob", "Bob")},
                     Options("spring")));
  ASSERT_NO_FATAL_FAILURE(SendAll(*store_, "spring", 1'700'000'000'000));
  const int64_t account = AccountIdOf(*store_, "spring");
  auto deleted = store_->DeleteCampaign("spring", AttemptsOnDelete::kKeep, core::Actor::Cli("t"));
  ASSERT_TRUE(deleted) << deleted.error().message;
  ASSERT_EQ(deleted->attempts_kept, 2);
  auto contacts = store_->ListContacts({});
  ASSERT_TRUE(contacts) << contacts.error().message;
  ASSERT_EQ(contacts->contacts.size(), 2u);
  int64_t anna = 0;
  for (const auto& c : contacts->contacts) {
    if (c.contact.username == "anna") anna = c.id;
  }
  ASSERT_NE(anna, 0);
  auto before = store_->ContactAttempts(anna);
  ASSERT_TRUE(before) << before.error().message;
  ASSERT_EQ(before->size(), 1u);

  auto forgotten = store_->ForgetContact("username:anna");
  ASSERT_TRUE(forgotten) << forgotten.error().message;
  // The campaign's invitation is gone, so this one is the attempt the delete left with her id.
  EXPECT_EQ(forgotten->attempts, 1) << "the detached attempt is cut from the person";
  const core::RequestKind send[] = {core::RequestKind::kSend};
  auto kept = store_->CountAttempts(account, send, 0);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(kept->count, 2) << "the attempts themselves stay: the account's counts read them";
}

TEST_P(StoreContractTest, ForgettingSomeoneUnknownStillSuppressesTheKey) {
  auto forgotten = store_->ForgetContact("phone:+4930999999");
  ASSERT_TRUE(forgotten) << forgotten.error().message;
  EXPECT_EQ(forgotten->contact_id, 0);
  EXPECT_EQ(forgotten->contacts, 0);
  EXPECT_THAT(forgotten->suppression_keys, ::testing::ElementsAre("phone:+4930999999"));
  EXPECT_EQ(forgotten->suppressions_added, 1);
  auto list = store_->ListSuppressions();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1U);
  EXPECT_EQ((*list)[0].key, "phone:+4930999999");

  auto by_id = store_->ForgetContactById(424242);
  ASSERT_FALSE(by_id);
  EXPECT_EQ(by_id.error().code, ErrorCode::kNotFound);
  auto malformed = store_->ForgetContact("nonsense");
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code, ErrorCode::kInvalidArgument);
}

// Invariant I8 (docs/invariants.md)
TEST_P(StoreContractTest, AContactBeingSentToIsNotForgottenUntilRecorded) {
  CreateCampaign(*store_);
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("t")));
  ASSERT_TRUE(Import(*store_, {Contact(1001, "anna", "Anna")}, Options("spring")));
  auto claims = ClaimAndMarkSending(*store_, ClaimRequestFor(*store_, "spring"));
  ASSERT_TRUE(claims);
  ASSERT_EQ(claims->size(), 1U);
  auto refused = store_->ForgetContact("id:1001");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(refused.error().message, HasSubstr("nothing was removed"));
  auto contacts = store_->CountContacts();
  ASSERT_TRUE(contacts);
  EXPECT_EQ(*contacts, 1);
  auto list = store_->ListSuppressions();
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->empty()) << "a refused erasure suppressed someone";
}

TEST_P(StoreContractTest, AnAccountIsRemovedOnlyOnceItsCampaignsAreCancelled) {
  CreateCampaign(*store_);  // on account "demo"
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("t")));
  const int64_t id = AccountIdOf(*store_, "spring");
  auto refused = store_->RemoveAccount("demo");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kAlreadyExists);
  EXPECT_THAT(refused.error().message, HasSubstr("spring (running)"));
  ASSERT_TRUE(store_->FindAccount("demo"));

  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kCancel, core::Actor::Cli("t")));
  auto removed = store_->RemoveAccount("demo");
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_TRUE(removed->tombstone);
  EXPECT_EQ(removed->campaigns_kept, 1);
  EXPECT_FALSE(store_->FindAccount("demo"));
  auto accounts = store_->ListAccounts();
  ASSERT_TRUE(accounts);
  EXPECT_TRUE(accounts->empty());
  // The cancelled campaign still reads, naming the removed account.
  auto spring = store_->FindCampaign("spring");
  ASSERT_TRUE(spring) << spring.error().message;
  EXPECT_EQ(spring->campaign.account_name, fmt::format("demo~removed~{}", id));
  // The name is free again.
  ASSERT_TRUE(store_->AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://x.org"}));

  constexpr std::string_view kToken = "123456789:AAFakeTestTokenForUnitTests_abcdefghijk";
  ASSERT_TRUE(store_->AddAccount({"lonely", core::AccountKind::kBot,
                                  core::Secret(std::string(kToken)), "http://127.0.0.1:1"}));
  auto gone = store_->RemoveAccount("lonely");
  ASSERT_TRUE(gone) << gone.error().message;
  EXPECT_FALSE(gone->tombstone);
  EXPECT_FALSE(store_->FindAccount("lonely"));
  auto missing = store_->RemoveAccount("lonely");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

// Invariant I4 (docs/invariants.md)
TEST_P(StoreContractTest, ACancelledCampaignsUnusedLinksAreClaimedForRevocationOnce) {
  CreateCampaign(*store_);
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("t")));
  ASSERT_TRUE(Import(*store_, {Contact(1001, "anna"), Contact(1002, "bob"), Contact(1003, "cy")},
                     Options("spring")));
  const int64_t now = 1'700'000'000'000;
  ASSERT_NO_FATAL_FAILURE(SendAll(*store_, "spring", now));
  const int64_t account = AccountIdOf(*store_, "spring");
  // Bob joined through his link: it is used, and stays.
  const MembershipEvent joined{MembershipEvent::Kind::kJoined, kChat, 1002, "", 0};
  ASSERT_TRUE(store_->ApplyMembership(account, {&joined, 1}, 0));

  LinkRevokeClaim claim;
  claim.account_id = account;
  claim.worker = "w";
  claim.now = now + 1000;
  claim.emission_interval = std::chrono::milliseconds(100);
  auto running = store_->ClaimLinksToRevoke(claim);
  ASSERT_TRUE(running) << running.error().message;
  EXPECT_TRUE(running->empty()) << "a running campaign's links were revoked";

  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kCancel, core::Actor::Cli("t")));
  auto links = store_->ClaimLinksToRevoke(claim);
  ASSERT_TRUE(links) << links.error().message;
  ASSERT_EQ(links->size(), 2U);
  EXPECT_EQ((*links)[0].chat, "-1001234567890");
  EXPECT_GE((*links)[1].slot - (*links)[0].slot, 100) << "slots closer than the account's rate";
  for (const LinkToRevoke& l : *links) EXPECT_THAT(l.invite_link, HasSubstr("https://t.me/+L"));
  auto again = store_->ClaimLinksToRevoke(claim);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty()) << "a leased link was handed out twice";

  // One revoked, one to retry later.
  std::vector<LinkRevocation> results(2);
  results[0].invitation_id = (*links)[0].invitation_id;
  results[0].attempt = AttemptRecord{"w", "revoke-link", now, 5, 200, 0, "", "ok"};
  results[1].invitation_id = (*links)[1].invitation_id;
  results[1].result = LinkRevocation::Result::kRetry;
  results[1].retry_at = now + 5000;
  results[1].attempt =
      AttemptRecord{"w", "revoke-link", now, 5, 502, 502, "bad gateway", "transient"};
  auto done = store_->RecordLinkRevocations(results, now + 2000);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(*done, 1);
  claim.now = now + 5000;
  auto retried = store_->ClaimLinksToRevoke(claim);
  ASSERT_TRUE(retried);
  ASSERT_EQ(retried->size(), 1U);
  EXPECT_EQ((*retried)[0].invitation_id, (*links)[1].invitation_id);
  EXPECT_EQ((*retried)[0].tries, 1);
  const core::RequestKind revoke[] = {core::RequestKind::kRevokeLink};
  auto attempts = store_->CountAttempts(account, revoke, 0);
  ASSERT_TRUE(attempts);
  EXPECT_EQ(attempts->count, 2);
}

}  // namespace tginvite::storage
