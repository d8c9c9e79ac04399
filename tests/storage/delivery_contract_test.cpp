// Delivery (DeliveryStore, storage/delivery.h): claims and their slots, re-slotting, batched marks
// and fenced outcomes, flood pauses, the updates lease. Part of the storage contract suite: it runs
// wherever StoreContractTest is instantiated (both engines).
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

// Marks and outcomes are written a batch at a time (PostgreSQL: one statement over arrays): every
// character of a link, an error or a worker id survives, and a stale generation is still fenced
// out row by row.
TEST_P(StoreContractTest, BatchedMarksAndOutcomesKeepEveryCharacterAndTheFence) {
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2), Contact(3)}, Options("spring")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("test")));
  const ClaimRequest request = ClaimRequestFor(*store_, "spring");
  auto claimed = store_->ClaimInvitations(request);
  ASSERT_TRUE(claimed) << claimed.error().message;
  std::vector<Claim>& claims = claimed->claims;
  ASSERT_EQ(claims.size(), 3u);
  std::sort(claims.begin(), claims.end(),
            [](const Claim& a, const Claim& b) { return a.invitation_id < b.invitation_id; });
  const std::string link = "https://t.me/+a,b{c}\"d\\e";
  const std::string error =
      "Bad Request: \"quoted\", back\\slash {x}, NULL\nnew line \xF0\x9F\x99\x82";
  const std::string worker = "host,\"1\"";
  std::vector<SendingMark> marks = {{claims[0].invitation_id, claims[0].gen, link},
                                    {claims[1].invitation_id, claims[1].gen, ""},
                                    {claims[2].invitation_id, claims[2].gen + 1, ""}};
  auto marked = store_->MarkSending(marks, request.now, std::chrono::seconds(30));
  ASSERT_TRUE(marked) << marked.error().message;
  std::vector<int64_t> ours = *marked;
  std::sort(ours.begin(), ours.end());
  EXPECT_EQ(ours, (std::vector<int64_t>{claims[0].invitation_id, claims[1].invitation_id}))
      << "a mark with a stale generation must not apply";

  std::vector<OutcomeRecord> outcomes;
  for (size_t i = 0; i < 3; ++i) {
    OutcomeRecord record;
    record.invitation_id = claims[i].invitation_id;
    record.gen = claims[i].gen + (i == 2 ? 1 : 0);  // the third is stale
    record.state = i == 0 ? InvitationState::kWaiting : InvitationState::kSent;
    record.next_attempt_at = i == 0 ? request.now + 5000 : 0;
    record.error = i == 0 ? error : "";
    record.attempt = AttemptRecord{worker,
                                   "send",
                                   request.now,
                                   7,
                                   i == 0 ? 400 : 200,
                                   i == 0 ? 400 : 0,
                                   record.error,
                                   i == 0 ? "transient" : "sent"};
    outcomes.push_back(record);
  }
  auto applied = store_->RecordOutcomes(outcomes, request.now + 10);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(*applied, 2) << "an outcome with a stale generation must not apply";

  std::vector<ExportRow> rows = ExportAll(*store_, "spring");
  ASSERT_EQ(rows.size(), 3u);
  std::map<int64_t, ExportRow> by_user;
  for (ExportRow& row : rows) by_user[row.contact.telegram_user_id.value_or(0)] = row;
  EXPECT_EQ(by_user[1].state, InvitationState::kWaiting);
  EXPECT_EQ(by_user[1].last_error, error);
  EXPECT_EQ(by_user[1].invite_link, link);
  EXPECT_EQ(by_user[1].attempts, 1);
  EXPECT_EQ(by_user[2].state, InvitationState::kSent);
  EXPECT_EQ(by_user[2].last_error, "");
  EXPECT_EQ(by_user[3].state, InvitationState::kSending) << "the stale outcome changed the row";

  auto recent = store_->RecentAttempts("spring", 10);
  ASSERT_TRUE(recent) << recent.error().message;
  ASSERT_EQ(recent->size(), 3u) << "every request happened: each keeps its attempt";
  std::map<int64_t, AttemptRecord> attempt_of;
  for (const AttemptView& view : *recent) {
    attempt_of[view.contact.telegram_user_id.value_or(0)] = view.attempt;
  }
  EXPECT_EQ(attempt_of[1].error, error);
  EXPECT_EQ(attempt_of[1].worker, worker);
  EXPECT_EQ(attempt_of[1].http_status, 400);
  EXPECT_EQ(attempt_of[2].error, "");
  EXPECT_EQ(attempt_of[2].outcome, "sent");
}

// A new link's expiry is stored with it, by the mark that carries it or by the outcome that gives
// the row back unsent, and the next claim reads it; a mark or outcome without a link keeps both.
TEST_P(StoreContractTest, AStoredLinksExpiryIsKeptWithItAndClaimedWithIt) {
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(*store_, {Contact(1)}, Options("spring")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("test")));
  ClaimRequest request = ClaimRequestFor(*store_, "spring");
  // Claims the one row, marks it with `mark`'s link (if any), and gives it back with `release`.
  auto round = [&](SendingMark mark, OutcomeRecord release) -> std::optional<Claim> {
    request.now += 1000;
    auto claimed = store_->ClaimInvitations(request);
    EXPECT_TRUE(claimed) << claimed.error().message;
    if (!claimed || claimed->claims.size() != 1) return std::nullopt;
    const Claim claim = claimed->claims[0];
    mark.invitation_id = release.invitation_id = claim.invitation_id;
    mark.gen = release.gen = claim.gen;
    EXPECT_TRUE(store_->MarkSending({&mark, 1}, request.now, std::chrono::seconds(30)));
    release.state = InvitationState::kPending;
    release.next_attempt_at = request.now;
    release.count = AttemptCount::kNotCounted;
    EXPECT_TRUE(store_->RecordOutcomes({&release, 1}, request.now));
    return claim;
  };
  const int64_t expires = 1'700'000'900'000;
  std::optional<Claim> first = round({0, 0, "https://t.me/+first", expires}, {});
  ASSERT_TRUE(first);
  EXPECT_EQ(first->invite_link, "");
  EXPECT_EQ(first->link_expires_at, 0);
  // No new link: the stored one stays, with its expiry.
  std::optional<Claim> second = round({}, {});
  ASSERT_TRUE(second);
  EXPECT_EQ(second->invite_link, "https://t.me/+first");
  EXPECT_EQ(second->link_expires_at, expires);
  OutcomeRecord kept;
  kept.invite_link = "https://t.me/+second";  // made, then given back unsent: never expires
  std::optional<Claim> third = round({}, kept);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->invite_link, "https://t.me/+first");
  std::optional<Claim> fourth = round({}, {});
  ASSERT_TRUE(fourth);
  EXPECT_EQ(fourth->invite_link, "https://t.me/+second");
  EXPECT_EQ(fourth->link_expires_at, 0) << "a link that never expires kept the old one's expiry";
}

// Slots of one claim over two campaigns of one account: the account's limiter spaces all of them, a
// paced campaign's batch waits its cycle, and the account's slots carry over to the next claim.
TEST_P(StoreContractTest, ClaimPacesEachCampaignAndSpacesTheAccountsSlots) {
  CreateCampaign(*store_, "spring");
  CreateCampaign(*store_, "autumn");
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2), Contact(3), Contact(4)}, Options("spring")));
  ASSERT_TRUE(Import(*store_, {Contact(5), Contact(6)}, Options("autumn")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("test")));
  ASSERT_TRUE(store_->ChangeCampaign("autumn", CampaignAction::kStart, core::Actor::Cli("test")));
  ClaimRequest request = ClaimRequestFor(*store_, "spring");
  const int64_t spring = request.campaigns[0].campaign_id;
  const int64_t autumn = ClaimRequestFor(*store_, "autumn").campaigns[0].campaign_id;
  request.emission_interval = std::chrono::milliseconds(40);
  request.max_rows = 5;
  // spring: batches of 2, one second apart; autumn: unpaced. seed 0: spring goes first.
  request.campaigns = {{spring, 2, std::chrono::milliseconds(1000), {}, {}},
                       {autumn, 0, {}, {}, {}}};
  request.seed = 0;
  auto claimed = store_->ClaimInvitations(request);
  ASSERT_TRUE(claimed) << claimed.error().message;
  std::vector<std::pair<int64_t, int64_t>> slots;  // (campaign, slot - now)
  for (const Claim& c : claimed->claims)
    slots.emplace_back(c.campaign_id, c.not_before - request.now);
  EXPECT_EQ(slots, (std::vector<std::pair<int64_t, int64_t>>{
                       {spring, 0}, {spring, 40}, {spring, 1040}, {spring, 1080}, {autumn, 80}}));
  EXPECT_EQ(claimed->flood_until, 0);

  // (Autumn, unpaced, took the first slot 40 ms from every other: in the gap before spring's
  // second batch, which spring's pacing leaves free.) The next claim continues both: the
  // account's slots and spring's pacing were stored.
  request.max_rows = 16;
  request.seed = 1;  // autumn first
  auto next = store_->ClaimInvitations(request);
  ASSERT_TRUE(next) << next.error().message;
  ASSERT_EQ(next->claims.size(), 1u);  // spring is empty; autumn's last row
  EXPECT_EQ(next->claims[0].campaign_id, autumn);
  EXPECT_EQ(next->claims[0].not_before, request.now + 120);
}

// The account's limiter keeps every slot it handed out (until it passes), not just the last one's
// successor: a claim whose lead is short takes the free slots before those another worker took
// with a long lead, instead of queueing behind them (with a single TAT, 4 workers' requests waited
// 220 ms each for their slots), and no two slots handed out are ever closer than the interval.
TEST_P(StoreContractTest, ClaimTakesFreeSlotsBeforeLaterOnesNeverCloserThanTheInterval) {
  CreateCampaign(*store_, "spring");
  std::vector<core::ContactRecord> contacts;
  for (int64_t id = 1; id <= 9; ++id) contacts.push_back(Contact(id));
  ASSERT_TRUE(Import(*store_, contacts, Options("spring")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("test")));
  ClaimRequest request = ClaimRequestFor(*store_, "spring");
  request.emission_interval = std::chrono::milliseconds(40);
  request.max_rows = 2;
  // The slots (ms after request.now) of a claim made at request.now + at with this lead.
  auto claim = [&](int64_t at, int64_t lead) {
    ClaimRequest r = request;
    r.now = request.now + at;
    r.lead = std::chrono::milliseconds(lead);
    std::vector<int64_t> slots;
    auto claimed = store_->ClaimInvitations(r);
    EXPECT_TRUE(claimed) << claimed.error().message;
    if (claimed) {
      for (const Claim& c : claimed->claims) slots.push_back(c.not_before - request.now);
    }
    std::sort(slots.begin(), slots.end());
    return slots;
  };
  EXPECT_EQ(claim(0, 500), (std::vector<int64_t>{500, 540}));  // a slow preparation
  EXPECT_EQ(claim(0, 100), (std::vector<int64_t>{100, 140}));  // a quick one: not behind it
  // From 450 the first fits (50 before 500); the next free one is after 540.
  EXPECT_EQ(claim(0, 450), (std::vector<int64_t>{450, 580}));
  EXPECT_EQ(claim(0, 160), (std::vector<int64_t>{180, 220}));  // 160 is too close to 140
  // Once they have passed, slots no longer hold anyone back.
  EXPECT_EQ(claim(10'000, 0), (std::vector<int64_t>{10'000}));  // the ninth and last row
}

// A contact in two campaigns of the account is messaged at most once per chat_interval, also when
// both rows come up in one claim (PostgreSQL gave them slots 40 ms apart: it read the contact's
// next_message_at for both rows before writing it); a row whose contact has no user id is skipped
// at once without spending a slot; a paused campaign in the request is not claimed from.
TEST_P(StoreContractTest, ClaimKeepsAChatsIntervalSkipsTheUnreachableAndPausedCampaigns) {
  CreateCampaign(*store_, "spring");
  CreateCampaign(*store_, "autumn");
  CreateCampaign(*store_, "winter");
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(std::nullopt, "nouserid")}, Options("spring")));
  ASSERT_TRUE(Import(*store_, {Contact(1)}, Options("autumn")));
  ASSERT_TRUE(Import(*store_, {Contact(7)}, Options("winter")));
  for (const char* name : {"spring", "autumn", "winter"}) {
    ASSERT_TRUE(store_->ChangeCampaign(name, CampaignAction::kStart, core::Actor::Cli("test")));
  }
  ASSERT_TRUE(store_->ChangeCampaign("winter", CampaignAction::kPause, core::Actor::Cli("test")));
  ClaimRequest request = ClaimRequestFor(*store_, "spring");
  const int64_t spring = request.campaigns[0].campaign_id;
  const int64_t autumn = ClaimRequestFor(*store_, "autumn").campaigns[0].campaign_id;
  const int64_t winter = ClaimRequestFor(*store_, "winter").campaigns[0].campaign_id;
  request.emission_interval = std::chrono::milliseconds(40);
  request.chat_interval = std::chrono::milliseconds(1000);
  request.campaigns = {{winter, 0, {}, {}, {}}, {spring, 0, {}, {}, {}}, {autumn, 0, {}, {}, {}}};
  request.seed = 0;
  auto claimed = store_->ClaimInvitations(request);
  ASSERT_TRUE(claimed) << claimed.error().message;
  std::vector<std::pair<int64_t, int64_t>> slots;
  for (const Claim& c : claimed->claims)
    slots.emplace_back(c.campaign_id, c.not_before - request.now);
  // Contact 1: spring at once, autumn a second later; the unreachable row spent no slot.
  EXPECT_EQ(slots, (std::vector<std::pair<int64_t, int64_t>>{{spring, 0}, {autumn, 1000}}));
  EXPECT_EQ(CountsOf(*store_, "spring")[InvitationState::kSkipped], 1);
  EXPECT_EQ(CountsOf(*store_, "winter")[InvitationState::kPending], 1);
}

// While the account is paused by a 429, a claim takes nothing, changes nothing and says until when.
TEST_P(StoreContractTest, ClaimDuringAFloodPauseTakesNothing) {
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2)}, Options("spring")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("test")));
  const ClaimRequest request = ClaimRequestFor(*store_, "spring");
  ASSERT_TRUE(store_->PauseAccount(request.account_id, request.now + 5000));
  auto claimed = store_->ClaimInvitations(request);
  ASSERT_TRUE(claimed) << claimed.error().message;
  EXPECT_TRUE(claimed->claims.empty());
  EXPECT_EQ(claimed->flood_until, request.now + 5000);
  EXPECT_EQ(CountsOf(*store_, "spring")[InvitationState::kPending], 2);

  ClaimRequest later = request;
  later.now = request.now + 5000;
  auto after = store_->ClaimInvitations(later);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->claims.size(), 2u);
}

// Invariant 4: slots start after the caller's lead, and from the time the account's limiter was
// locked (the request's clock), not from a `now` read before a long wait for the lock. Without
// both, a worker's first sends leave after their slots have passed, bunched with the next ones.
TEST_P(StoreContractTest, ClaimSlotsStartAfterTheLeadAndTheLockWait) {
  CreateCampaign(*store_);
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2), Contact(3)}, Options("spring")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("test")));
  auto campaign = store_->FindCampaign("spring");
  ASSERT_TRUE(campaign);
  ClaimRequest request;
  request.account_id = campaign->campaign.account_id;
  request.worker_id = "w";
  request.now = 1'700'000'000'000;
  request.horizon = std::chrono::seconds(10);
  request.emission_interval = std::chrono::milliseconds(40);
  request.lead = std::chrono::milliseconds(150);
  int clock_reads = 0;
  request.clock = [&clock_reads, &request] {
    ++clock_reads;
    return request.now + 500;  // the lock was granted half a second after `now` was read
  };
  request.campaigns = {{campaign->campaign.id, 0, {}, {}, {}}};
  auto claimed = store_->ClaimInvitations(request);
  ASSERT_TRUE(claimed) << claimed.error().message;
  ASSERT_EQ(claimed->claims.size(), 3u);
  EXPECT_GE(clock_reads, 1);
  std::vector<int64_t> slots;
  for (const Claim& c : claimed->claims) slots.push_back(c.not_before);
  std::sort(slots.begin(), slots.end());
  EXPECT_EQ(slots[0], request.now + 500 + 150);
  EXPECT_EQ(slots[1], slots[0] + 40);
  EXPECT_EQ(slots[2], slots[1] + 40);
}

// ReslotLate: rows whose slots passed while they were prepared take the earliest free slots from
// now on, an interval from every slot handed out, and move their chats' next_message_at with them
// (invariant 4: a later message to the chat keeps its interval). A row that is no longer the
// claim's, or whose chat has had a later message planned since, keeps its slot (0).
TEST_P(StoreContractTest, ReslotLateTakesFreeSlotsAndKeepsChatIntervals) {
  for (const char* name : {"spring", "autumn", "summer", "winter"}) CreateCampaign(*store_, name);
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2), Contact(3)}, Options("spring")));
  ASSERT_TRUE(Import(*store_, {Contact(4)}, Options("autumn")));
  ASSERT_TRUE(Import(*store_, {Contact(3)}, Options("summer")));
  ASSERT_TRUE(Import(*store_, {Contact(1)}, Options("winter")));
  for (const char* name : {"spring", "autumn", "summer", "winter"}) {
    ASSERT_TRUE(store_->ChangeCampaign(name, CampaignAction::kStart, core::Actor::Cli("test")));
  }
  auto request_for = [&](const char* name, int64_t at) {
    ClaimRequest request = ClaimRequestFor(*store_, name);
    request.now += at;
    request.emission_interval = std::chrono::milliseconds(40);
    request.chat_interval = std::chrono::milliseconds(1000);
    return request;
  };
  const int64_t t0 = request_for("spring", 0).now;
  auto spring = ClaimAndMarkSending(*store_, request_for("spring", 0));
  ASSERT_TRUE(spring);
  ASSERT_EQ(spring->size(), 3u);
  std::sort(spring->begin(), spring->end(),
            [](const Claim& a, const Claim& b) { return a.not_before < b.not_before; });
  EXPECT_EQ(spring->back().not_before - t0, 80);
  // Meanwhile another worker takes +500 for contact 4, and +1080 for contact 3 (its chat).
  auto slot_of = [&](const char* name, int64_t at) -> int64_t {
    auto claimed = ClaimAndMarkSending(*store_, request_for(name, at));
    return claimed && claimed->size() == 1 ? (*claimed)[0].not_before - t0 : -1;
  };
  EXPECT_EQ(slot_of("autumn", 500), 500);
  EXPECT_EQ(slot_of("summer", 500), 1080);

  ReslotRequest late;
  late.account_id = request_for("spring", 0).account_id;
  late.now = t0 + 500;
  late.emission_interval = std::chrono::milliseconds(40);
  late.chat_interval = std::chrono::milliseconds(1000);
  for (const Claim& c : *spring) late.rows.push_back({c.invitation_id, c.gen, c.not_before});
  late.rows[1].gen += 1;  // no longer this claim's
  auto slots = store_->ReslotLate(late);
  ASSERT_TRUE(slots) << slots.error().message;
  ASSERT_EQ(slots->size(), 3u);
  EXPECT_EQ((*slots)[0], t0 + 540) << "+500 is taken: the next free slot 40 ms on";
  EXPECT_EQ((*slots)[1], 0) << "a stale generation";
  EXPECT_EQ((*slots)[2], 0) << "contact 3's next message (+1080) was planned from its old slot";
  // Contact 1's chat moved with its new slot: winter's message to it waits a second from +540.
  EXPECT_EQ(slot_of("winter", 600), 1540);
}

// ReslotLate's delay moves where its new slots start, not what it counts as passed: a slot handed
// out 30 ms before now still holds back a claim made now. (When the delay was added to `now`, the
// re-slot dropped that slot from the limiter, and the next claim took one 30 ms after it, with 40
// ms the interval: invariant 4.)
TEST_P(StoreContractTest, ReslotLateKeepsTheSlotsAClaimMadeNowMustKeepClearOf) {
  CreateCampaign(*store_, "spring");
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2), Contact(3), Contact(4)}, Options("spring")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("test")));
  const ClaimRequest base = ClaimRequestFor(*store_, "spring");
  const int64_t t0 = base.now;
  // One row claimed at t0 + at with this lead, marked sending; its claim.
  auto claim = [&](int64_t at, int64_t lead) -> std::optional<Claim> {
    ClaimRequest r = base;
    r.now = t0 + at;
    r.lead = std::chrono::milliseconds(lead);
    r.emission_interval = std::chrono::milliseconds(40);
    r.max_rows = 1;
    auto claimed = ClaimAndMarkSending(*store_, r);
    if (!claimed || claimed->size() != 1) return std::nullopt;
    return (*claimed)[0];
  };
  std::optional<Claim> late = claim(-200, 0);
  ASSERT_TRUE(late);
  ASSERT_TRUE(claim(0, 0));  // slot t0
  std::optional<Claim> ahead = claim(0, 80);
  ASSERT_TRUE(ahead);
  EXPECT_EQ(ahead->not_before, t0 + 80);

  ReslotRequest reslot;
  reslot.account_id = base.account_id;
  reslot.now = t0 + 30;
  reslot.delay = std::chrono::milliseconds(20);
  reslot.emission_interval = std::chrono::milliseconds(40);
  reslot.rows = {{late->invitation_id, late->gen, late->not_before}};
  auto slots = store_->ReslotLate(reslot);
  ASSERT_TRUE(slots) << slots.error().message;
  ASSERT_EQ(slots->size(), 1u);
  EXPECT_EQ((*slots)[0], t0 + 120) << "from t0 + 50: clear of t0 and t0 + 80";

  std::optional<Claim> now = claim(30, 0);
  ASSERT_TRUE(now);
  EXPECT_EQ(now->not_before, t0 + 40) << "40 ms after the slot at t0, not 30";
}

// A paced campaign's row that takes a new slot moves the campaign's next invitation as far: the
// gap its pacing planned (delay_min) never shrinks. (Before, paced rows were given back instead,
// and the gap was spent for nothing: minutes by default.)
TEST_P(StoreContractTest, ReslotLateMovesAPacedCampaignsNextInvitationWithItsRow) {
  CreateCampaign(*store_, "spring");
  ASSERT_TRUE(Import(*store_, {Contact(1), Contact(2)}, Options("spring")));
  ASSERT_TRUE(store_->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("test")));
  ClaimRequest base = ClaimRequestFor(*store_, "spring");
  const int64_t t0 = base.now;
  base.emission_interval = std::chrono::milliseconds(40);
  base.campaigns[0].delay_min = std::chrono::seconds(60);
  base.campaigns[0].delay_max = std::chrono::seconds(60);
  ASSERT_TRUE(base.campaigns[0].paced());
  auto first = ClaimAndMarkSending(*store_, base);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), 1u) << "a paced campaign: one row, the next a minute later";
  ASSERT_TRUE((*first)[0].paced);
  EXPECT_EQ((*first)[0].not_before, t0);

  ReslotRequest reslot;
  reslot.account_id = base.account_id;
  reslot.now = t0 + 500;
  reslot.emission_interval = std::chrono::milliseconds(40);
  reslot.rows = {{(*first)[0].invitation_id, (*first)[0].gen, t0, (*first)[0].campaign_id}};
  auto slots = store_->ReslotLate(reslot);
  ASSERT_TRUE(slots) << slots.error().message;
  ASSERT_EQ(slots->size(), 1u);
  EXPECT_EQ((*slots)[0], t0 + 500);

  ClaimRequest next = base;
  next.now = t0 + 60'000;
  auto second = ClaimAndMarkSending(*store_, next);
  ASSERT_TRUE(second);
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].not_before, t0 + 60'500) << "a minute after the row's new slot";
}

// Invariant 4: a flood pause is readable right before a send, by any worker.
TEST_P(StoreContractTest, FloodPausesReadsEveryAccountsPause) {
  CreateCampaign(*store_);
  auto campaign = store_->FindCampaign("spring");
  ASSERT_TRUE(campaign);
  const int64_t account = campaign->campaign.account_id;
  auto other =
      store_->AddAccount({"other", core::AccountKind::kRehearsal, {}, "https://api.telegram.org"});
  ASSERT_TRUE(other) << other.error().message;
  auto none = store_->FloodPauses();
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(*none, (std::map<int64_t, int64_t>{{account, 0}, {other->id, 0}}));
  ASSERT_TRUE(store_->PauseAccount(account, 1'700'000'005'000));
  ASSERT_TRUE(store_->PauseAccount(account, 1'700'000'001'000));  // never shortened
  auto paused = store_->FloodPauses();
  ASSERT_TRUE(paused);
  EXPECT_EQ(*paused, (std::map<int64_t, int64_t>{{account, 1'700'000'005'000}, {other->id, 0}}));
}

// One poller per bot: a lease only one worker holds until it expires or is given up.
TEST_P(StoreContractTest, OneWorkerAtATimeLeasesAnAccountsUpdates) {
  CreateCampaign(*store_);
  auto campaign = store_->FindCampaign("spring");
  ASSERT_TRUE(campaign);
  const int64_t account = campaign->campaign.account_id;
  const int64_t now = 1'700'000'000'000;
  auto lease = [&](std::string_view worker, int64_t at, int64_t until) {
    Result<bool> held = store_->LeaseUpdates(account, worker, at, until);
    EXPECT_TRUE(held) << held.error().message;
    return held && *held;
  };
  EXPECT_TRUE(lease("a", now, now + 30000));
  EXPECT_FALSE(lease("b", now + 1000, now + 31000)) << "two pollers of one bot";
  EXPECT_TRUE(lease("a", now + 2000, now + 32000)) << "the holder cannot renew";
  EXPECT_FALSE(lease("b", now + 31000, now + 61000)) << "renewed lease taken over";
  EXPECT_TRUE(lease("b", now + 32000, now + 62000)) << "an expired lease is not taken over";
  EXPECT_FALSE(lease("a", now + 33000, now + 63000));
  EXPECT_FALSE(lease("b", now + 34000, now + 34000));  // given up
  EXPECT_TRUE(lease("a", now + 35000, now + 65000)) << "a lease given up stays taken";
}

}  // namespace tginvite::storage
