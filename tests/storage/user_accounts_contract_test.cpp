// User accounts (TDLib) in the storage contract: their kinds and sealed credentials, a campaign's
// delivery method, the steps of add-then-message, an add that joined the contact, the attempts a
// daily cap counts, and user ids found by looking contacts up.
#include <chrono>
#include <map>

#include "storage/import_rows.h"
#include "storage/store_contract.h"

namespace tginvite::storage {
namespace {

using core::DeliveryMethod;
using core::InvitationState;
using core::RequestKind;
using testing::Contact;
using testing::Options;
using testing::Rows;
using testing::VectorSource;

constexpr std::string_view kHash = "0123456789abcdef0123456789abcdef";
constexpr std::string_view kCredentials = "123456:0123456789abcdef0123456789abcdef:+4915112345678";
constexpr int64_t kNow = 1'700'000'000'000;

NewAccount User(std::string name, std::string_view credentials = kCredentials) {
  return {std::move(name), core::AccountKind::kUser, core::Secret(std::string(credentials)),
          "https://api.telegram.org"};
}

NewCampaign CampaignOf(std::string name, std::string account, DeliveryMethod method,
                       core::CampaignReach reach = core::CampaignReach::kDirect) {
  NewCampaign campaign{std::move(name),           std::move(account),
                       "-1001234567890",          "Hello {first_name}: {link}",
                       core::LinkMode::kPersonal, ""};
  campaign.reach = reach;
  campaign.method = method;
  return campaign;
}

// A running add-then-message campaign of a user account, with the contacts invited.
void RunningUserCampaign(Store& store, std::string account, std::string campaign,
                         std::vector<core::ContactRecord> contacts) {
  auto added = store.AddAccount(User(account));
  ASSERT_TRUE(added) << added.error().message;
  auto created =
      store.CreateCampaign(CampaignOf(campaign, account, DeliveryMethod::kAddThenMessage));
  ASSERT_TRUE(created) << created.error().message;
  VectorSource source(Rows(std::move(contacts)));
  auto imported = store.ImportContacts(source, Options(campaign));
  ASSERT_TRUE(imported) << imported.error().message;
  ASSERT_TRUE(store.ChangeCampaign(campaign, CampaignAction::kStart, core::Actor::Cli("test")));
}

// Claims every due invitation of the campaign at `now`, as a user account's worker would (any
// identifier reaches a contact), and marks them as about to be sent.
std::vector<Claim> ClaimAll(Store& store, std::string_view campaign, int64_t now = kNow) {
  auto found = store.FindCampaign(campaign);
  EXPECT_TRUE(found) << found.error().message;
  if (!found) return {};
  ClaimRequest request;
  request.account_id = found->campaign.account_id;
  request.worker_id = "w";
  request.now = now;
  request.horizon = std::chrono::seconds(10);
  request.emission_interval = std::chrono::milliseconds(1);
  request.chat_interval = std::chrono::milliseconds(0);
  request.campaigns = {{found->campaign.id, 0, {}, {}, {}}};
  request.reach = ClaimRequest::Reach::kAnyIdentifier;
  auto claimed = store.ClaimInvitations(request);
  EXPECT_TRUE(claimed) << claimed.error().message;
  if (!claimed) return {};
  std::vector<SendingMark> marks;
  for (const Claim& c : claimed->claims) marks.push_back({c.invitation_id, c.gen, ""});
  auto marked = store.MarkSending(marks, now, std::chrono::seconds(30));
  EXPECT_TRUE(marked) << marked.error().message;
  return std::move(claimed->claims);
}

AttemptRecord Attempt(RequestKind kind, int64_t started_at, std::string outcome = "ok") {
  return AttemptRecord{
      "w", std::string(core::ToString(kind)), started_at, 5, 200, 0, "", std::move(outcome)};
}

std::map<std::string, ExportRow> ExportByUsername(Store& store, std::string_view campaign) {
  std::map<std::string, ExportRow> rows;
  Status status = store.ExportInvitations(campaign, [&rows](const ExportRow& row) -> Status {
    rows[row.contact.username] = row;
    return Ok();
  });
  EXPECT_TRUE(status) << status.error().message;
  return rows;
}

TEST_P(StoreContractTest, AUserAccountKeepsItsCredentialsSealedLikeABotToken) {
  auto added = store_->AddAccount(User("person"));
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(added->kind, core::AccountKind::kUser);
  auto found = store_->FindAccount("person");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->kind, core::AccountKind::kUser);
  EXPECT_EQ(found->token_access, TokenAccess::kOpen) << found->token_problem;
  EXPECT_EQ(found->token.Reveal(), kCredentials);
  EXPECT_TRUE(found->CanSend());
  auto listed = store_->ListAccounts();
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().token.Reveal(), kCredentials);

  auto rehearsal = store_->AddAccount(
      {"pretend", core::AccountKind::kRehearsalUser, {}, "https://api.telegram.org"});
  ASSERT_TRUE(rehearsal) << rehearsal.error().message;
  auto pretend = store_->FindAccount("pretend");
  ASSERT_TRUE(pretend) << pretend.error().message;
  EXPECT_EQ(pretend->kind, core::AccountKind::kRehearsalUser);
  EXPECT_TRUE(pretend->token.empty());
  auto with_token =
      store_->AddAccount({"pretend2", core::AccountKind::kRehearsalUser,
                          core::Secret(std::string(kCredentials)), "https://api.telegram.org"});
  ASSERT_FALSE(with_token);
  EXPECT_EQ(with_token.error().code, ErrorCode::kInvalidArgument);

  // The bot-only path stays bot-only.
  EXPECT_FALSE(store_->ReplaceBotToken(
      "person", core::Secret("987654321:AASecondTestTokenNeverValid_abcdefghij")));
}

TEST_P(StoreContractTest, InvalidUserCredentialsAreRefusedWithoutEchoingThem) {
  for (std::string bad :
       {std::string("123456:") + std::string(kHash) + ":4915112345678",
        std::string("abc:") + std::string(kHash) + ":+4915112345678",
        std::string("123456:") + std::string(kHash).substr(1) + "z:+4915112345678", std::string(""),
        std::string(kHash)}) {
    auto refused = store_->AddAccount(User("person", bad));
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(refused.error().message.find("account person"), std::string::npos)
        << refused.error().message;
    EXPECT_EQ(refused.error().message.find(kHash.substr(0, 16)), std::string::npos)
        << refused.error().message;
    EXPECT_EQ(refused.error().message.find("15112345678"), std::string::npos)
        << refused.error().message;
  }
  auto found = store_->FindAccount("person");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, ACampaignKeepsItsMethodAndABotCannotAdd) {
  ASSERT_TRUE(store_->AddAccount(User("person")));
  auto created =
      store_->CreateCampaign(CampaignOf("spring", "person", DeliveryMethod::kAddThenMessage));
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->method, DeliveryMethod::kAddThenMessage);
  ASSERT_TRUE(store_->CreateCampaign(CampaignOf("autumn", "person", DeliveryMethod::kAdd)));
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("test")));
  auto found = store_->FindCampaign("autumn");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->campaign.method, DeliveryMethod::kAdd);
  auto listed = store_->ListCampaigns();
  ASSERT_TRUE(listed) << listed.error().message;
  std::map<std::string, DeliveryMethod> methods;
  for (const CampaignSummary& s : *listed) methods[s.campaign.name] = s.campaign.method;
  EXPECT_EQ(methods,
            (std::map<std::string, DeliveryMethod>{{"autumn", DeliveryMethod::kAdd},
                                                   {"spring", DeliveryMethod::kAddThenMessage}}));
  auto running = store_->ListRunningCampaigns();
  ASSERT_TRUE(running) << running.error().message;
  ASSERT_EQ(running->size(), 1u);
  EXPECT_EQ(running->front().method, DeliveryMethod::kAddThenMessage);

  ASSERT_TRUE(store_->AddAccount({"bot", core::AccountKind::kBot,
                                  core::Secret("123456789:AAFakeTestTokenForUnitTests_abcdefghijk"),
                                  "https://api.telegram.org"}));
  ASSERT_TRUE(
      store_->AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://api.telegram.org"}));
  for (const char* account : {"bot", "demo"}) {
    for (DeliveryMethod method : {DeliveryMethod::kAdd, DeliveryMethod::kAddThenMessage}) {
      auto refused = store_->CreateCampaign(CampaignOf("winter", account, method));
      ASSERT_FALSE(refused) << account;
      EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
      EXPECT_NE(refused.error().message.find("a bot cannot add members"), std::string::npos)
          << refused.error().message;
    }
  }
  EXPECT_FALSE(store_->FindCampaign("winter")) << "a refused campaign was stored";
  auto bot_campaign = store_->CreateCampaign(CampaignOf("summer", "bot", DeliveryMethod::kMessage));
  ASSERT_TRUE(bot_campaign) << bot_campaign.error().message;
  EXPECT_EQ(bot_campaign->method, DeliveryMethod::kMessage);
}

TEST_P(StoreContractTest, AUserAccountsCampaignReachesContactsDirectly) {
  ASSERT_TRUE(store_->AddAccount(User("person")));
  ASSERT_TRUE(store_->AddAccount(
      {"pretend", core::AccountKind::kRehearsalUser, {}, "https://api.telegram.org"}));
  for (const char* account : {"person", "pretend"}) {
    for (core::CampaignReach reach :
         {core::CampaignReach::kStartLink, core::CampaignReach::kBoth}) {
      auto refused =
          store_->CreateCampaign(CampaignOf("spring", account, DeliveryMethod::kMessage, reach));
      ASSERT_FALSE(refused) << account;
      EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
      EXPECT_NE(refused.error().message.find("start links are for bots"), std::string::npos)
          << refused.error().message;
    }
  }
  EXPECT_FALSE(store_->FindCampaign("spring"));
  EXPECT_TRUE(store_->CreateCampaign(CampaignOf("spring", "pretend", DeliveryMethod::kAdd)));
}

// add-then-message: the add refused by the contact's privacy puts the row back at once for its
// message step, without counting an attempt; the next claim carries the step, and an ordinary
// retry keeps it.
TEST_P(StoreContractTest, ARefusedAddComesBackAsTheMessageStep) {
  RunningUserCampaign(*store_, "person", "spring", {Contact(std::nullopt, "bob")});
  std::vector<Claim> claims = ClaimAll(*store_, "spring");
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims[0].step, kFirstStep);

  OutcomeRecord refused;
  refused.invitation_id = claims[0].invitation_id;
  refused.gen = claims[0].gen;
  refused.state = InvitationState::kPending;
  refused.next_step = kMessageStep;
  refused.next_attempt_at = kNow + 1000;
  refused.count = AttemptCount::kNotCounted;
  refused.error = "USER_PRIVACY_RESTRICTED";
  refused.attempt = Attempt(RequestKind::kAdd, kNow, "permanent");
  auto applied = store_->RecordOutcomes({&refused, 1}, kNow + 10);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(*applied, 1);
  EXPECT_TRUE(ClaimAll(*store_, "spring", kNow + 500).empty()) << "claimed before next_attempt_at";

  claims = ClaimAll(*store_, "spring", kNow + 1000);
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims[0].step, kMessageStep);
  EXPECT_EQ(claims[0].attempts, 0) << "the refused add was counted";

  // A transient failure of the message: pending again, same step.
  OutcomeRecord retry;
  retry.invitation_id = claims[0].invitation_id;
  retry.gen = claims[0].gen;
  retry.state = InvitationState::kPending;
  retry.next_attempt_at = kNow + 2000;
  retry.attempt = Attempt(RequestKind::kSend, kNow + 1000, "transient");
  ASSERT_TRUE(store_->RecordOutcomes({&retry, 1}, kNow + 1010));
  claims = ClaimAll(*store_, "spring", kNow + 2000);
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims[0].step, kMessageStep);
  EXPECT_EQ(claims[0].attempts, 1);
}

// A user account's add succeeded: the row is joined, with sent_at and joined_at as a sent row
// that joined has them, counted in both minutes' charts; a stale outcome changes nothing.
TEST_P(StoreContractTest, ASuccessfulAddJoinsTheContact) {
  RunningUserCampaign(*store_, "person", "spring",
                      {Contact(std::nullopt, "bob"), Contact(std::nullopt, "carol")});
  std::vector<Claim> claims = ClaimAll(*store_, "spring");
  ASSERT_EQ(claims.size(), 2u);
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::vector<OutcomeRecord> outcomes(2);
  for (size_t i = 0; i < 2; ++i) {
    outcomes[i].invitation_id = claims[i].invitation_id;
    outcomes[i].gen = claims[i].gen + (i == 1 ? 1 : 0);  // the second is stale
    outcomes[i].state = InvitationState::kJoined;
    outcomes[i].attempt = Attempt(RequestKind::kAdd, now);
  }
  auto applied = store_->RecordOutcomes(outcomes, now);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(*applied, 1);

  auto found = store_->FindCampaign("spring");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->counts[InvitationState::kJoined], 1);
  EXPECT_EQ(found->counts[InvitationState::kSending], 1);
  EXPECT_EQ(found->counts[InvitationState::kSent], 0);
  EXPECT_EQ(found->counts.Total(), 2);
  const Claim& joined_claim = claims[0];
  std::map<std::string, ExportRow> rows = ExportByUsername(*store_, "spring");
  const ExportRow& joined = rows.at(joined_claim.contact.username);
  EXPECT_EQ(joined.state, InvitationState::kJoined);
  EXPECT_EQ(joined.sent_at, now);
  EXPECT_EQ(joined.joined_at, now);
  EXPECT_EQ(joined.attempts, 1);
  const ExportRow& stale = rows.at(claims[1].contact.username);
  EXPECT_EQ(stale.state, InvitationState::kSending);
  EXPECT_FALSE(stale.joined_at.has_value());

  auto minutes = store_->CampaignMinutes("spring", now - 60'000);
  ASSERT_TRUE(minutes) << minutes.error().message;
  int64_t sent = 0, joins = 0;
  for (const MinuteCounts& m : *minutes) {
    sent += m.sent;
    joins += m.joined;
  }
  EXPECT_EQ(sent, 1);
  EXPECT_EQ(joins, 1);
  auto errors = store_->ErrorBreakdown("spring");
  ASSERT_TRUE(errors) << errors.error().message;
  EXPECT_TRUE(errors->empty());
}

TEST_P(StoreContractTest, CountAttemptsCountsTheAccountsKindsWithinTheWindow) {
  RunningUserCampaign(*store_, "person", "spring", {Contact(std::nullopt, "bob")});
  RunningUserCampaign(*store_, "other", "autumn", {Contact(std::nullopt, "carol")});
  std::vector<Claim> mine = ClaimAll(*store_, "spring");
  std::vector<Claim> theirs = ClaimAll(*store_, "autumn");
  ASSERT_EQ(mine.size(), 1u);
  ASSERT_EQ(theirs.size(), 1u);
  // Only the first outcome of each row applies; every attempt is kept all the same.
  auto record = [](const Claim& claim, RequestKind kind, int64_t started_at) {
    OutcomeRecord outcome;
    outcome.invitation_id = claim.invitation_id;
    outcome.gen = claim.gen;
    outcome.state = InvitationState::kPending;
    outcome.next_attempt_at = kNow + 3'600'000;
    outcome.attempt = Attempt(kind, started_at);
    return outcome;
  };
  std::vector<OutcomeRecord> outcomes = {
      record(mine[0], RequestKind::kAdd, kNow - 1000),
      record(mine[0], RequestKind::kSend, kNow - 500),
      record(mine[0], RequestKind::kImport, kNow - 200),
      record(mine[0], RequestKind::kAdd, kNow - 100'000),  // before the window
      record(mine[0], RequestKind::kResolve, kNow),
      record(theirs[0], RequestKind::kAdd, kNow - 10),  // another account's
  };
  ASSERT_TRUE(store_->RecordOutcomes(outcomes, kNow));
  const int64_t account = store_->FindAccount("person")->id;

  const RequestKind caps[] = {RequestKind::kSend, RequestKind::kAdd};
  auto usage = store_->CountAttempts(account, caps, kNow - 50'000);
  ASSERT_TRUE(usage) << usage.error().message;
  EXPECT_EQ(usage->count, 2);
  EXPECT_EQ(usage->oldest, kNow - 1000);

  const RequestKind imports[] = {RequestKind::kImport};
  usage = store_->CountAttempts(account, imports, kNow - 50'000);
  ASSERT_TRUE(usage) << usage.error().message;
  EXPECT_EQ(usage->count, 1);
  EXPECT_EQ(usage->oldest, kNow - 200);

  usage = store_->CountAttempts(account, caps, 0);
  ASSERT_TRUE(usage) << usage.error().message;
  EXPECT_EQ(usage->count, 3);
  EXPECT_EQ(usage->oldest, kNow - 100'000);

  usage = store_->CountAttempts(account, caps, kNow + 1);
  ASSERT_TRUE(usage) << usage.error().message;
  EXPECT_EQ(usage->count, 0);
  EXPECT_EQ(usage->oldest, 0);
  usage = store_->CountAttempts(account, {}, 0);
  ASSERT_TRUE(usage) << usage.error().message;
  EXPECT_EQ(usage->count, 0);

  const RequestKind adds[] = {RequestKind::kAdd};
  usage = store_->CountAttempts(store_->FindAccount("other")->id, adds, 0);
  ASSERT_TRUE(usage) << usage.error().message;
  EXPECT_EQ(usage->count, 1);
  EXPECT_EQ(usage->oldest, kNow - 10);
}

TEST_P(StoreContractTest, AResolvedUserIdIsNeverTakenFromAnotherContact) {
  ASSERT_TRUE(store_->AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://x.org"}));
  ASSERT_TRUE(store_->CreateCampaign(CampaignOf("old", "demo", DeliveryMethod::kMessage)));
  VectorSource known(Rows({Contact(500, "known")}));
  ASSERT_TRUE(store_->ImportContacts(known, Options("old")));
  RunningUserCampaign(*store_, "person", "spring",
                      {Contact(std::nullopt, "bob"), Contact(std::nullopt, "carol")});
  std::map<std::string, int64_t> invitation;
  for (const Claim& c : ClaimAll(*store_, "spring"))
    invitation[c.contact.username] = c.invitation_id;
  ASSERT_EQ(invitation.size(), 2u);

  auto taken = store_->SetResolvedUserId(invitation["bob"], 500);
  ASSERT_TRUE(taken) << taken.error().message;
  EXPECT_FALSE(*taken) << "contact known has user id 500";
  EXPECT_FALSE(ExportByUsername(*store_, "spring").at("bob").contact.telegram_user_id);

  auto set = store_->SetResolvedUserId(invitation["bob"], 777);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_TRUE(*set);
  EXPECT_EQ(ExportByUsername(*store_, "spring").at("bob").contact.telegram_user_id, 777);
  auto again = store_->SetResolvedUserId(invitation["bob"], 777);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(*again) << "the same id found again";
  auto other = store_->SetResolvedUserId(invitation["bob"], 778);
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_FALSE(*other) << "a contact's id was overwritten";

  auto twice = store_->SetResolvedUserId(invitation["carol"], 777);
  ASSERT_TRUE(twice) << twice.error().message;
  EXPECT_FALSE(*twice);
  std::map<std::string, ExportRow> rows = ExportByUsername(*store_, "spring");
  EXPECT_FALSE(rows.at("carol").contact.telegram_user_id);
  EXPECT_EQ(rows.at("bob").contact.telegram_user_id, 777);

  auto missing = store_->SetResolvedUserId(invitation["carol"] + 1000, 9);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace tginvite::storage
