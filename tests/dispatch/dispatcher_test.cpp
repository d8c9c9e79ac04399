// The dispatcher against a real SQLite store, a scripted messenger and a fake clock: every
// outcome class, pauses, fencing, rescue, pacing and joins, without threads sleeping.
#include "dispatch/dispatcher.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>

#include "core/instruments.h"
#include "dispatch/leaving_window.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_messenger.h"
#include "fakes/fault_injecting_connection.h"
#include "fakes/process.h"
#include "fakes/temp_dir.h"
#include "fakes/test_keys.h"
#include "storage/sqlite/sqlite_store.h"

namespace tginvite::dispatch {
namespace {

using core::InvitationState;
using telegram::OutcomeKind;
using testing::FakeClock;
using testing::FakeMessenger;
using testing::FaultInjectingConnection;
using testing::TempDir;
using testing::WaitFor;

constexpr std::string_view kToken = "123456789:AAFakeTestTokenForDispatcherTests_abcde";

// What a test can add around the messenger: a hook run before each link is created (to move the
// clock or to act as another worker), an exchange for its sends (none: they run on threads), and a
// count of getUpdates calls.
struct MessengerHooks {
  std::function<void()> before_link;
  std::function<void()> before_send;
  std::function<std::unique_ptr<telegram::Exchange>()> open_exchange;
  std::atomic<int> updates_calls{0};
};

// What the exchanges of a test saw: the most member checks one had in flight at once.
struct ExchangeCounts {
  std::atomic<size_t> most_checks_in_flight{0};
};

// An exchange over a messenger that answers at once: each request is made when it is started and
// its answer given at the next Wait. A send leaves when StartSend returns; `on_send` runs just
// before, on the sending thread (to move the clock: a machine that ran the thread late).
class ExchangeOver final : public telegram::Exchange {
 public:
  ExchangeOver(telegram::Messenger& target, std::function<void()> on_send,
               ExchangeCounts* counts = nullptr)
      : target_(target), on_send_(std::move(on_send)), counts_(counts) {}
  void StartSend(uint64_t tag, const telegram::InvitationMessage& message) override {
    telegram::SendResult sent = target_.SendInvitation(message);
    answers_.push_back({tag, std::move(sent.outcome), sent.message_id, ""});
    if (on_send_) on_send_();
  }
  void StartGetChatMember(uint64_t tag, const std::string& chat, int64_t user_id) override {
    telegram::MemberResult member = target_.GetChatMember(chat, user_id);
    answers_.push_back({tag, std::move(member.outcome), 0, std::move(member.status)});
    if (counts_ == nullptr) return;
    size_t most = counts_->most_checks_in_flight.load();
    while (most < answers_.size() &&
           !counts_->most_checks_in_flight.compare_exchange_weak(most, answers_.size())) {
    }
  }
  std::vector<Answer> Wait(std::chrono::milliseconds) override {
    return std::exchange(answers_, {});
  }
  size_t InFlight() const override { return answers_.size(); }

 private:
  telegram::Messenger& target_;
  std::function<void()> on_send_;
  ExchangeCounts* counts_;
  std::vector<Answer> answers_;
};

// Forwards to a messenger the test owns, so the dispatcher's factory can hand out copies.
class Forwarding final : public telegram::Messenger {
 public:
  Forwarding(telegram::Messenger& target, MessengerHooks& hooks) : target_(target), hooks_(hooks) {}
  bool IsRehearsal() const override { return target_.IsRehearsal(); }
  telegram::BotIdentityResult GetMe() override { return target_.GetMe(); }
  telegram::InviteLinkResult CreateInviteLink(const telegram::InviteLinkRequest& r) override {
    if (hooks_.before_link) hooks_.before_link();
    return target_.CreateInviteLink(r);
  }
  telegram::Outcome RevokeInviteLink(const std::string& c, const std::string& l) override {
    return target_.RevokeInviteLink(c, l);
  }
  telegram::SendResult SendInvitation(const telegram::InvitationMessage& m) override {
    if (hooks_.before_send) hooks_.before_send();
    return target_.SendInvitation(m);
  }
  std::unique_ptr<telegram::Exchange> OpenExchange() override {
    return hooks_.open_exchange ? hooks_.open_exchange() : nullptr;
  }
  telegram::MemberResult GetChatMember(const std::string& c, int64_t u) override {
    return target_.GetChatMember(c, u);
  }
  telegram::UpdatesResult GetUpdates(int64_t o, std::chrono::seconds t) override {
    ++hooks_.updates_calls;
    return target_.GetUpdates(o, t);
  }
  telegram::Outcome ApproveJoinRequest(const std::string& c, int64_t u) override {
    return target_.ApproveJoinRequest(c, u);
  }
  telegram::Outcome SetWebhook(const telegram::WebhookRequest& r) override {
    return target_.SetWebhook(r);
  }
  telegram::Outcome DeleteWebhook() override { return target_.DeleteWebhook(); }
  void ExpectStarts(const std::vector<telegram::ExpectedStart>& w) override {
    target_.ExpectStarts(w);
  }
  telegram::LookupResult FindUser(const telegram::ContactLookup& c) override {
    return target_.FindUser(c);
  }
  telegram::AddMemberResult AddChatMember(const std::string& c, int64_t u) override {
    if (hooks_.before_send) hooks_.before_send();
    return target_.AddChatMember(c, u);
  }

 private:
  telegram::Messenger& target_;
  MessengerHooks& hooks_;
};

class ImportRows final : public storage::ImportSource {
 public:
  explicit ImportRows(std::vector<core::ContactRecord> rows) : rows_(std::move(rows)) {}
  std::optional<storage::ImportRow> Next() override {
    if (next_ == rows_.size()) return std::nullopt;
    return storage::ImportRow{static_cast<int64_t>(next_ + 2), rows_[next_++]};
  }
  void OnResult(const storage::ImportRow&, const storage::ImportRowResult&) override {}
  bool CommitAllowed() const override { return true; }

 private:
  std::vector<core::ContactRecord> rows_;
  size_t next_ = 0;
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteStoreOptions options;
    options.path = dir_.File("t.db");
    options.clock = clock_;
    options.secrets = testing::TestSecrets();
    options.wrap_connection = [this](std::unique_ptr<storage::Connection> conn) {
      auto wrapped = std::make_unique<FaultInjectingConnection>(std::move(conn));
      if (writer_ == nullptr) writer_ = wrapped.get();
      return wrapped;
    };
    auto store = storage::SqliteStore::Open(options);
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(store).value();
    for (auto [key, value] : {std::pair{"pacing.batch_size", "0"},
                              {"pacing.delay_min", "0s"},
                              {"pacing.delay_max", "0s"},
                              {"telegram.rate", "1000"}}) {
      ASSERT_TRUE(store_->PutSetting(std::nullopt, key, value));
    }
    ASSERT_TRUE(store_->AddAccount(
        {"bot", core::AccountKind::kBot, core::Secret(std::string(kToken)), "http://127.0.0.1:1"}));
    dispatcher_ = MakeDispatcher("worker-1");
  }

  std::unique_ptr<Dispatcher> MakeDispatcher(std::string worker) {
    DispatcherOptions options;
    options.worker_id = std::move(worker);
    options.seed = 42;
    return std::make_unique<Dispatcher>(
        *store_,
        [this](const storage::Account&, const core::Settings&) {
          return std::make_unique<Forwarding>(messenger_, hooks_);
        },
        *clock_, options);
  }

  void Campaign(std::string name, int64_t first_user, int64_t count,
                core::LinkMode mode = core::LinkMode::kPersonal, std::string chat = "-1001",
                std::string account = "bot") {
    auto created =
        store_->CreateCampaign({name, account, chat, "Hi {first_name}: {link}", mode, ""});
    ASSERT_TRUE(created) << created.error().message;
    std::vector<core::ContactRecord> rows;
    for (int64_t id = first_user; id < first_user + count; ++id) {
      core::ContactRecord c;
      c.telegram_user_id = id;
      c.first_name = "User" + std::to_string(id);
      rows.push_back(c);
    }
    ImportRows source(rows);
    storage::ImportOptions import;
    import.campaign = name;
    ASSERT_TRUE(store_->ImportContacts(source, import));
    ASSERT_TRUE(
        store_->ChangeCampaign(name, storage::CampaignAction::kStart, core::Actor::Cli("test")));
  }

  // Runs cycles, moving the clock to the next due time when a cycle had nothing to do.
  void Drain(int max_cycles = 200) {
    for (int i = 0; i < max_cycles; ++i) {
      auto cycle = dispatcher_->RunOnce();
      ASSERT_TRUE(cycle) << cycle.error().message;
      auto outstanding = store_->HasOutstandingWork();
      ASSERT_TRUE(outstanding);
      if (!*outstanding) return;
      if (cycle->claimed == 0) {
        core::TimePoint now = clock_->Now();
        core::TimePoint next =
            cycle->next_due > now ? cycle->next_due : now + std::chrono::seconds(1);
        clock_->Advance(std::chrono::duration_cast<std::chrono::milliseconds>(next - now));
      }
    }
    FAIL() << "still outstanding work after " << max_cycles << " cycles";
  }

  core::StateCounts Counts(std::string_view campaign) {
    auto found = store_->FindCampaign(campaign);
    EXPECT_TRUE(found) << found.error().message;
    return found ? found->counts : core::StateCounts{};
  }

  std::vector<storage::ExportRow> Rows(std::string_view campaign) {
    std::vector<storage::ExportRow> rows;
    EXPECT_TRUE(store_->ExportInvitations(campaign, [&rows](const storage::ExportRow& row) {
      rows.push_back(row);
      return Ok();
    }));
    return rows;
  }

  storage::ExportRow RowOf(std::string_view campaign, int64_t user) {
    for (auto& row : Rows(campaign)) {
      if (row.contact.telegram_user_id == user) return row;
    }
    ADD_FAILURE() << "no row for user " << user;
    return {};
  }

  TempDir dir_;
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  FaultInjectingConnection* writer_ = nullptr;
  std::unique_ptr<storage::SqliteStore> store_;
  FakeMessenger messenger_;
  MessengerHooks hooks_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

// Invariant I1 (docs/invariants.md)
TEST_F(DispatcherTest, SendsEveryInvitationExactlyOnceWithItsOwnLink) {
  Campaign("c", 1, 40);
  Drain();
  core::StateCounts counts = Counts("c");
  EXPECT_EQ(counts[InvitationState::kSent], 40);
  EXPECT_EQ(counts.Total(), 40);
  auto delivered = messenger_.delivered();
  ASSERT_EQ(delivered.size(), 40u);
  for (auto [user, n] : delivered) EXPECT_EQ(n, 1) << "user " << user;
  auto links = messenger_.links();
  ASSERT_EQ(links.size(), 40u);
  EXPECT_EQ(links[0].member_limit, 1);
  EXPECT_EQ(links[0].chat, "-1001");
  EXPECT_TRUE(links[0].name.starts_with("id:"));
  storage::ExportRow row = RowOf("c", 7);
  EXPECT_EQ(row.attempts, 1);
  EXPECT_FALSE(row.invite_link.empty());
  bool found = false;
  for (const auto& m : messenger_.sent()) {
    if (m.user_id == 7) {
      found = true;
      EXPECT_EQ(m.text, "Hi User7: " + row.invite_link);
    }
  }
  EXPECT_TRUE(found);
}

// Invariant I10 (docs/invariants.md)
TEST_F(DispatcherTest, AmbiguousSendIsHeldAsUnknownAndNeverResent) {
  Campaign("c", 1, 5);
  messenger_.ScriptSend(3, FakeMessenger::Make(OutcomeKind::kAmbiguous, "timeout after sending"));
  Drain();
  EXPECT_EQ(Counts("c")[InvitationState::kUnknown], 1);
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 4);
  EXPECT_EQ(messenger_.delivered()[3], 1);
  EXPECT_EQ(RowOf("c", 3).last_error, "timeout after sending");
}

// Invariant I10 (docs/invariants.md)
TEST_F(DispatcherTest, ResendPolicyRetriesAmbiguousSends) {
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "dispatch.ambiguous", "resend"));
  Campaign("c", 1, 5);
  messenger_.ScriptSend(3, FakeMessenger::Make(OutcomeKind::kAmbiguous, "reset"));
  Drain();
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 5);
  EXPECT_EQ(messenger_.delivered()[3], 2);
}

TEST_F(DispatcherTest, TransientFailuresBackOffThenFail) {
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "dispatch.max_attempts", "3"));
  Campaign("c", 1, 3);
  for (int i = 0; i < 5; ++i) {
    messenger_.ScriptSend(2, FakeMessenger::Make(OutcomeKind::kTransient, "Internal Server Error"));
  }
  Drain();
  storage::ExportRow row = RowOf("c", 2);
  EXPECT_EQ(row.state, InvitationState::kFailed);
  EXPECT_EQ(row.attempts, 3);
  EXPECT_EQ(row.last_error, "gave up after 3 attempts: Internal Server Error");
  int sends = 0;
  for (const auto& m : messenger_.sent()) sends += m.user_id == 2;
  EXPECT_EQ(sends, 3);
}

// Invariant I1 (docs/invariants.md)
TEST_F(DispatcherTest, RetryReusesTheStoredLink) {
  Campaign("c", 1, 3);
  messenger_.ScriptSend(2, FakeMessenger::Make(OutcomeKind::kTransient, "502"));
  Drain();
  EXPECT_EQ(messenger_.links().size(), 3u) << "a retry created a second link";
  std::vector<std::string> texts;
  for (const auto& m : messenger_.sent()) {
    if (m.user_id == 2) texts.push_back(m.text);
  }
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_EQ(texts[0], texts[1]);
  EXPECT_EQ(RowOf("c", 2).state, InvitationState::kSent);
}

// A stored link that still has more than half of link.expire_after left is reused by the retry.
TEST_F(DispatcherTest, ARetryReusesAStoredLinkThatHasTimeLeft) {
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "link.expire_after", "2h"));
  Campaign("c", 1, 1);
  messenger_.ScriptSend(1, FakeMessenger::Make(OutcomeKind::kTransient, "502"));
  ASSERT_TRUE(dispatcher_->RunOnce());
  ASSERT_EQ(messenger_.sent().size(), 1u);
  clock_->Advance(std::chrono::minutes(50));
  Drain();
  ASSERT_EQ(messenger_.links().size(), 1u) << "a link with 70 of its 120 minutes left was replaced";
  ASSERT_EQ(messenger_.sent().size(), 2u);
  EXPECT_EQ(messenger_.sent()[0].text, messenger_.sent()[1].text);
  EXPECT_EQ(RowOf("c", 1).state, InvitationState::kSent);
}

// A retry never sends a link about to expire: with less than half of link.expire_after left, it
// makes a new one, the message carries it, and the row keeps it with its own expiry (so the next
// retry judges the new link by its own time left).
TEST_F(DispatcherTest, ARetryWhoseStoredLinkIsRunningOutGetsANewOne) {
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "link.expire_after", "2h"));
  Campaign("c", 1, 1);
  for (int i = 0; i < 2; ++i) {
    messenger_.ScriptSend(1, FakeMessenger::Make(OutcomeKind::kTransient, "502"));
  }
  for (size_t sends = 1; sends <= 2; ++sends) {
    for (int cycle = 0; messenger_.sent().size() < sends; ++cycle) {
      ASSERT_LT(cycle, 20) << "send " << sends << " never went";
      ASSERT_TRUE(dispatcher_->RunOnce());
    }
    clock_->Advance(std::chrono::minutes(70));  // 50 of the link's 120 minutes are left
  }
  const int64_t last_retry = core::ToUnixMillis(clock_->Now());
  Drain();
  const std::vector<telegram::InviteLinkRequest> links = messenger_.links();
  ASSERT_EQ(links.size(), 3u) << "a retry reused a link with 50 of its 120 minutes left";
  ASSERT_TRUE(links[2].expire_date.has_value());
  EXPECT_GE(*links[2].expire_date * 1000, last_retry + 2 * 3'600'000);
  const std::vector<telegram::InvitationMessage> sent = messenger_.sent();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_NE(sent[0].text, sent[1].text);
  EXPECT_NE(sent[1].text, sent[2].text);
  const storage::ExportRow row = RowOf("c", 1);
  EXPECT_EQ(row.state, InvitationState::kSent);
  EXPECT_EQ(sent[2].text, "Hi User1: " + row.invite_link) << "the row keeps the link it was sent";
}

// Invariant I4 (docs/invariants.md): the account's rate holds for the times requests really left.
// On an exchange, the first send leaves 15 ms after the time it took (its thread ran late); at 2 a
// second, the third request must then wait for a full window after it, not after its planned time.
TEST_F(DispatcherTest, ASendThatLeftLateOnAnExchangePushesTheOnesAfterIt) {
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "telegram.rate", "2"));
  std::mutex mu;
  std::vector<core::TimePoint> left;  // when each send left, in order
  hooks_.open_exchange = [&] {
    return std::make_unique<ExchangeOver>(messenger_, [&] {
      std::lock_guard lock(mu);
      if (left.empty()) clock_->Advance(std::chrono::milliseconds(15));
      left.push_back(clock_->Now());
    });
  };
  Campaign("c", 1, 6);
  Drain();
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 6);
  std::lock_guard lock(mu);
  ASSERT_EQ(left.size(), 6u);
  for (size_t k = 0; k + 2 < left.size(); ++k) {
    EXPECT_GE(left[k + 2] - left[k], kLeavingWindow)
        << "sends " << k << " to " << k + 2 << " left within one window";
  }
}

// A lane's member checks go a few at a time, not its whole window at once: each holds a connection
// that the exchange keeps open afterwards, and a fleet of workers with many bots held hundreds of
// idle connections to the Bot API (505 for 3 workers of 10 bots each at in_flight 16).
TEST_F(DispatcherTest, ALanesMemberChecksGoAFewAtATime) {
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "dispatch.in_flight", "64"));
  ExchangeCounts counts;
  hooks_.open_exchange = [&] {
    return std::make_unique<ExchangeOver>(messenger_, nullptr, &counts);
  };
  Campaign("c", 1, 40, core::LinkMode::kShared);
  Drain();
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 40);
  EXPECT_EQ(counts.most_checks_in_flight.load(), kMemberChecksAtOnce)
      << "a lane claimed all 40 rows: without the cap, all 40 checks were in flight at once";
}

// Invariant I4 (docs/invariants.md)
TEST_F(DispatcherTest, FloodPausesTheAccountUntilRetryAfter) {
  Campaign("c", 1, 30);
  messenger_.ScriptSend(
      1, FakeMessenger::Make(OutcomeKind::kFlood, "Too Many Requests: retry after 7",
                             telegram::PermanentReason::kNone, std::chrono::seconds(7)));
  core::TimePoint start = clock_->Now();
  auto cycle = dispatcher_->RunOnce();
  ASSERT_TRUE(cycle);
  auto account = store_->FindAccount("bot");
  ASSERT_TRUE(account);
  EXPECT_GE(account->flood_until, core::ToUnixMillis(start) + 7000);
  const size_t sends_before = messenger_.sent().size();
  clock_->Advance(std::chrono::seconds(3));
  auto paused = dispatcher_->RunOnce();
  ASSERT_TRUE(paused);
  EXPECT_EQ(paused->claimed, 0) << "claimed during a flood pause";
  EXPECT_EQ(messenger_.sent().size(), sends_before);
  Drain();
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 30);
  EXPECT_EQ(messenger_.delivered()[1], 1);
  EXPECT_EQ(RowOf("c", 1).attempts, 1) << "a 429 counted as a failed attempt";
}

// Invariant I13 (docs/invariants.md)
TEST_F(DispatcherTest, UserWhoBlockedTheBotIsSuppressedForEveryCampaign) {
  Campaign("a", 1, 3);
  messenger_.ScriptSend(
      2, FakeMessenger::Make(OutcomeKind::kPermanent, "Forbidden: bot was blocked by the user",
                             telegram::PermanentReason::kBlocked));
  Drain();
  EXPECT_EQ(RowOf("a", 2).state, InvitationState::kFailed);
  auto suppressions = store_->ListSuppressions();
  ASSERT_TRUE(suppressions);
  ASSERT_EQ(suppressions->size(), 1u);
  EXPECT_EQ((*suppressions)[0].key, "id:2");
  Campaign("b", 1, 3);  // the same people, a second campaign
  EXPECT_EQ(RowOf("b", 2).state, InvitationState::kSkipped);
  Drain();
  EXPECT_EQ(messenger_.delivered()[2], 0);
}

// Invariant I2 (docs/invariants.md)
TEST_F(DispatcherTest, LostRightsPauseTheCampaignAndKeepItsInvitations) {
  Campaign("c", 1, 4);
  messenger_.ScriptLink(FakeMessenger::Make(
      OutcomeKind::kCampaignFatal, "Bad Request: not enough rights to manage chat invite link"));
  auto cycle = dispatcher_->RunOnce();
  ASSERT_TRUE(cycle);
  auto campaign = store_->FindCampaign("c");
  ASSERT_TRUE(campaign);
  EXPECT_EQ(campaign->campaign.state, core::CampaignState::kPaused);
  EXPECT_EQ(campaign->campaign.paused_reason,
            "Bad Request: not enough rights to manage chat invite link");
  EXPECT_EQ(campaign->counts[InvitationState::kPending], 4);
  EXPECT_TRUE(messenger_.sent().empty());
  // The audit trail names the engine and its reason, after the operator's start.
  auto events = store_->ListCampaignEvents("c", {});
  ASSERT_TRUE(events);
  ASSERT_EQ(events->events.size(), 2u);
  EXPECT_EQ(events->events[0].actor, "engine");
  EXPECT_EQ(events->events[0].to, core::CampaignState::kPaused);
  EXPECT_EQ(events->events[0].detail, "Bad Request: not enough rights to manage chat invite link");
}

// Invariant I2 (docs/invariants.md)
TEST_F(DispatcherTest, RefusedTokenStopsTheAccount) {
  Campaign("c", 1, 4);
  messenger_.ScriptSend(1, FakeMessenger::Make(OutcomeKind::kAccountFatal, "Unauthorized"));
  ASSERT_TRUE(dispatcher_->RunOnce());
  auto account = store_->FindAccount("bot");
  ASSERT_TRUE(account);
  EXPECT_EQ(account->health, core::AccountHealth::kUnauthorized);
  const size_t sends = messenger_.sent().size();
  clock_->Advance(std::chrono::seconds(5));
  auto next = dispatcher_->RunOnce();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->claimed, 0);
  EXPECT_EQ(messenger_.sent().size(), sends);
  EXPECT_EQ(Counts("c")[InvitationState::kFailed], 0) << "contacts paid for the account's fault";
}

// A token Telegram refused strands nothing: once a new token of the same bot is put on the account
// (`account update`, storage::RotateBotToken), the same running campaign goes on where it stopped.
TEST_F(DispatcherTest, ARotatedTokenLetsTheStrandedCampaignGoOn) {
  Campaign("c", 1, 4);
  messenger_.ScriptSend(1, FakeMessenger::Make(OutcomeKind::kAccountFatal, "Unauthorized"));
  ASSERT_TRUE(dispatcher_->RunOnce());
  ASSERT_EQ(store_->FindAccount("bot")->health, core::AccountHealth::kUnauthorized);
  clock_->Advance(std::chrono::seconds(5));
  ASSERT_EQ(dispatcher_->RunOnce()->claimed, 0);

  const core::Secret fresh("123456789:AARotatedTokenForDispatcherTests_fghij");
  auto rotated = storage::RotateBotToken(*store_, "bot", fresh, {});
  ASSERT_TRUE(rotated) << rotated.error().message;
  EXPECT_TRUE(rotated->healed);
  Drain();
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 4);
  EXPECT_EQ(store_->FindCampaign("c")->campaign.state, core::CampaignState::kRunning);
}

// Invariant 6: a token that cannot be opened (sealed under another key) makes its account
// unusable with a reason; the worker keeps sending with the other accounts.
// Invariant I6 (docs/invariants.md)
TEST_F(DispatcherTest, AnAccountWhoseTokenCannotBeOpenedStopsAloneWithTheReason) {
  {
    storage::SqliteStoreOptions other_key;
    other_key.path = dir_.File("t.db");
    other_key.secrets = testing::TestSecrets(testing::kOtherTestKeyHex);
    auto other = storage::SqliteStore::Open(other_key);
    ASSERT_TRUE(other) << other.error().message;
    ASSERT_TRUE((*other)->AddAccount({"locked", core::AccountKind::kBot,
                                      core::Secret(std::string(kToken)), "http://127.0.0.1:1"}));
  }
  Campaign("open", 1, 4);
  Campaign("closed", 100, 4, core::LinkMode::kPersonal, "-1002", "locked");
  auto cycle = dispatcher_->RunOnce();
  ASSERT_TRUE(cycle) << cycle.error().message;
  ASSERT_EQ(cycle->blocked_accounts.size(), 1u);
  EXPECT_EQ(cycle->blocked_accounts[0],
            "account locked cannot send: the token cannot be opened: sealed under key " +
                testing::TestKey(testing::kOtherTestKeyHex).id() +
                ", which is not loaded (the loaded key is " + testing::TestKey().id() + ")");
  EXPECT_EQ(cycle->blocked_accounts[0].find(kToken), std::string::npos);
  for (int i = 0; i < 20 && Counts("open")[InvitationState::kSent] < 4; ++i) {
    ASSERT_TRUE(dispatcher_->RunOnce());
    clock_->Advance(std::chrono::seconds(1));
  }
  EXPECT_EQ(Counts("open")[InvitationState::kSent], 4);
  EXPECT_EQ(Counts("closed")[InvitationState::kPending], 4);
  auto locked = store_->FindAccount("locked");
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->token_access, storage::TokenAccess::kUnopenable);
  EXPECT_TRUE(locked->token.empty());
  EXPECT_EQ(locked->health, core::AccountHealth::kOk)
      << "a key problem is not the account's stored health";
}

// Invariant I10 (docs/invariants.md)
TEST_F(DispatcherTest, ExpiredLeasesAreRescuedByWhetherTheRequestLeft) {
  Campaign("c", 1, 2);
  auto campaign = store_->FindCampaign("c");
  ASSERT_TRUE(campaign);
  storage::ClaimRequest request;
  request.account_id = campaign->campaign.account_id;
  request.worker_id = "crashed";
  request.now = core::ToUnixMillis(clock_->Now());
  request.campaigns = {{campaign->campaign.id, 0, {}, {}, {}}};
  auto claimed = store_->ClaimInvitations(request);
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->claims.size(), 2u);
  // The crashed worker got as far as marking the first one's request as leaving.
  storage::SendingMark mark{claimed->claims[0].invitation_id, claimed->claims[0].gen, ""};
  ASSERT_TRUE(store_->MarkSending({&mark, 1}, request.now, std::chrono::seconds(30)));
  clock_->Advance(std::chrono::seconds(31));
  Drain();
  auto rows = Rows("c");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].state, InvitationState::kUnknown) << "a request that may have left was resent";
  EXPECT_EQ(rows[1].state, InvitationState::kSent);
  EXPECT_EQ(messenger_.sent().size(), 1u);
}

// `unknown` means "this request may have left", nothing wider: each request is marked as leaving
// right before its slot, not the whole batch before the first of them leaves. A crash at the
// k-th send of a batch would leave the k requests sent by then (and perhaps the next one) to be
// rescued as unknown, and the rest to go back to pending untouched. Marked as a batch, all six
// were marked at the first send. On the real clock: the fake one lets concurrent senders jump
// each other's sleeps.
// Invariant I10 (docs/invariants.md)
TEST_F(DispatcherTest, EachRequestIsMarkedAsLeavingOnlyRightBeforeItsSlot) {
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "telegram.rate", "5"));  // slots 200 ms apart
  Campaign("c", 1, 6);
  std::vector<int64_t> marked_at_send;
  std::mutex mu;
  hooks_.before_send = [&] {
    auto marked = storage::Session(writer_->target())
                      .QueryInt("SELECT COUNT(*) FROM invitations WHERE send_started_at IS NOT NULL "
                                "AND state = 'sending'");
    ASSERT_TRUE(marked) << marked.error().message;
    std::lock_guard lock(mu);
    marked_at_send.push_back(*marked);
  };
  core::SystemClock real_clock;
  DispatcherOptions options;
  options.worker_id = "real-time";
  Dispatcher dispatcher(
      *store_,
      [this](const storage::Account&, const core::Settings&) {
        return std::make_unique<Forwarding>(messenger_, hooks_);
      },
      real_clock, options);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Counts("c")[InvitationState::kSent] < 6 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(dispatcher.RunOnce());
  }
  ASSERT_EQ(Counts("c")[InvitationState::kSent], 6);
  std::lock_guard lock(mu);
  ASSERT_GE(marked_at_send.size(), 6u);
  // The k-th send of a batch (from 0) sees the k sent before it and itself marked; one more is
  // allowed for a stall of the machine that lets the next request's mark overtake this send.
  for (size_t k = 0; k < marked_at_send.size(); ++k) {
    EXPECT_LE(marked_at_send[k], static_cast<int64_t>(k + 2))
        << "requests were marked as leaving long before their slots (send " << k << ")";
  }
}

// Invariant I9 (docs/invariants.md)
TEST_F(DispatcherTest, OutcomeOfAStaleClaimCannotOverwriteTheNewOwner) {
  Campaign("c", 1, 1);
  auto campaign = store_->FindCampaign("c");
  ASSERT_TRUE(campaign);
  storage::ClaimRequest request;
  request.account_id = campaign->campaign.account_id;
  request.now = core::ToUnixMillis(clock_->Now());
  request.campaigns = {{campaign->campaign.id, 0, {}, {}, {}}};
  auto stale = store_->ClaimInvitations(request);
  ASSERT_TRUE(stale);
  ASSERT_EQ(stale->claims.size(), 1u);
  clock_->Advance(std::chrono::seconds(31));  // the first owner stalls past its lease
  Drain();                                    // the new owner sends it
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 1);
  storage::OutcomeRecord late;
  late.invitation_id = stale->claims[0].invitation_id;
  late.gen = stale->claims[0].gen;
  late.state = InvitationState::kFailed;
  late.error = "stale";
  auto applied = store_->RecordOutcomes({&late, 1}, core::ToUnixMillis(clock_->Now()));
  ASSERT_TRUE(applied);
  EXPECT_EQ(*applied, 0);
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 1);
  EXPECT_EQ(Counts("c")[InvitationState::kFailed], 0);
}

// Invariant I4 (docs/invariants.md)
TEST_F(DispatcherTest, PacingSpacesSendsAndCycles) {
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "pacing.delay_max", "10s"));
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "pacing.delay_min", "10s"));
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "pacing.cycle_interval", "1m"));
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "pacing.batch_size", "2"));
  Campaign("c", 1, 5);
  core::TimePoint start = clock_->Now();
  Drain();
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 5);
  // Sends at 0, 10 s (end of a batch of 2), 70 s, 80 s, 140 s.
  auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(clock_->Now() - start);
  EXPECT_GE(elapsed.count(), 140);
  EXPECT_LT(elapsed.count(), 150);
}

// Invariant I4 (docs/invariants.md)
TEST_F(DispatcherTest, NothingIsSentOutsideTheSendWindow) {
  // The fake clock starts at 2027-01-15 08:00 UTC.
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "window.start", "09:00"));
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "window.end", "17:00"));
  Campaign("c", 1, 2);
  auto cycle = dispatcher_->RunOnce();
  ASSERT_TRUE(cycle);
  EXPECT_EQ(cycle->claimed, 0);
  EXPECT_EQ(cycle->next_due, core::FromUnixMillis(1'800'000'000'000 + 3'600'000))
      << "next due should be the window's opening";
  Drain();
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 2);
}

// Invariant I4 (docs/invariants.md)
// A campaign's schedule (docs/operations.md, "Changing a campaign later"): nothing before its
// start, however long it has been running.
TEST_F(DispatcherTest, ACampaignSendsNothingBeforeItsStart) {
  Campaign("c", 1, 2);
  const int64_t starts = core::ToUnixMillis(clock_->Now()) + 3'600'000;
  storage::CampaignEdit schedule;
  schedule.starts_at = std::optional<int64_t>(starts);
  ASSERT_TRUE(store_->EditCampaign("c", schedule, core::Actor::Cli("test")));
  for (int i = 0; i < 5; ++i) {
    auto cycle = dispatcher_->RunOnce();
    ASSERT_TRUE(cycle) << cycle.error().message;
    EXPECT_EQ(cycle->claimed, 0);
    EXPECT_EQ(cycle->next_due, core::FromUnixMillis(starts)) << "next due is the start";
    clock_->Advance(std::chrono::minutes(10));
  }
  EXPECT_TRUE(messenger_.sent().empty());
  EXPECT_EQ(Counts("c")[InvitationState::kPending], 2);
  clock_->Advance(std::chrono::minutes(10));  // past the start
  Drain();
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 2);
  EXPECT_EQ(messenger_.sent().size(), 2u);
}

// Invariant I4 (docs/invariants.md)
// At its end a running campaign is paused by the engine, with the reason in its audit trail, and
// sends nothing more.
TEST_F(DispatcherTest, ACampaignPastItsEndPausesItselfWithAnAuditEvent) {
  Campaign("c", 1, 3);
  storage::CampaignEdit schedule;
  schedule.ends_at = std::optional<int64_t>(core::ToUnixMillis(clock_->Now()) + 1'000);
  ASSERT_TRUE(store_->EditCampaign("c", schedule, core::Actor::Cli("test")));
  clock_->Advance(std::chrono::seconds(2));
  auto cycle = dispatcher_->RunOnce();
  ASSERT_TRUE(cycle) << cycle.error().message;
  EXPECT_EQ(cycle->claimed, 0);
  EXPECT_TRUE(messenger_.sent().empty());
  auto found = store_->FindCampaign("c");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->campaign.state, core::CampaignState::kPaused);
  EXPECT_NE(found->campaign.paused_reason.find("schedule"), std::string::npos)
      << found->campaign.paused_reason;
  EXPECT_EQ(found->counts[InvitationState::kPending], 3);
  auto events = store_->ListCampaignEvents("c", {});
  ASSERT_TRUE(events);
  ASSERT_FALSE(events->events.empty());
  const storage::CampaignEvent& paused = events->events.front();
  EXPECT_EQ(paused.actor, "engine");
  EXPECT_EQ(paused.action, storage::CampaignAction::kPause);
  EXPECT_EQ(paused.to, core::CampaignState::kPaused);
  EXPECT_NE(paused.detail.find("its end"), std::string::npos) << paused.detail;
  // Paused once: later cycles neither send nor record another pause.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(dispatcher_->RunOnce());
    clock_->Advance(std::chrono::seconds(1));
  }
  EXPECT_TRUE(messenger_.sent().empty());
  auto later = store_->ListCampaignEvents("c", {});
  ASSERT_TRUE(later);
  EXPECT_EQ(later->events.size(), events->events.size());
}

// Invariant I4 (docs/invariants.md)
// pacing.daily_cap caps a bot once it is set; its default (50, for user accounts) does not.
TEST_F(DispatcherTest, ABotHonoursTheDailyCapOnlyWhenItIsSet) {
  Campaign("many", 1, 60);
  Drain();
  EXPECT_EQ(Counts("many")[InvitationState::kSent], 60) << "the default cap held a bot back";

  ASSERT_TRUE(store_->PutSetting(std::nullopt, "pacing.daily_cap", "63"));
  Campaign("capped", 101, 5);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(dispatcher_->RunOnce());
    clock_->Advance(std::chrono::seconds(1));
  }
  EXPECT_EQ(Counts("capped")[InvitationState::kSent], 3) << "60 + 3 messages in 24 hours";
  EXPECT_EQ(Counts("capped")[InvitationState::kPending], 2);
  clock_->Advance(std::chrono::hours(24));
  Drain();
  EXPECT_EQ(Counts("capped")[InvitationState::kSent], 5);
}

// Invariant I5 (docs/invariants.md)
TEST_F(DispatcherTest, GarbageSettingsFallBackToDefaults) {
  Campaign("c", 1, 3);
  auto* conn = writer_;
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->target().ExecuteScript(
      "UPDATE settings SET value = 'fast' WHERE key = 'telegram.rate';"
      "INSERT INTO settings (scope, key, value, updated_at) VALUES (0, 'dispatch.in_flight', "
      "'-4', 0)"));
  Drain();
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 3);
}

// Invariant I11 (docs/invariants.md)
TEST_F(DispatcherTest, DatabaseErrorInACycleIsRolledBackAndRetried) {
  Campaign("c", 1, 5);
  writer_->FailNextExecuteContaining("SET state = 'sending'", ErrorCode::kUnavailable);
  auto failed = dispatcher_->RunOnce();
  ASSERT_FALSE(failed);
  EXPECT_TRUE(messenger_.sent().empty());
  Drain();
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 5);
  for (auto [user, n] : messenger_.delivered()) EXPECT_EQ(n, 1);
}

// Invariant I11 (docs/invariants.md)
TEST_F(DispatcherTest, OutcomesAreKeptUntilTheyCanBeRecorded) {
  Campaign("c", 1, 3);
  writer_->FailNextExecuteContaining("SET state = ?1", ErrorCode::kAborted);
  Drain();
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 3);
  EXPECT_EQ(messenger_.sent().size(), 3u);
}

// Invariant I11 (docs/invariants.md)
TEST_F(DispatcherTest, StopReleasesRowsThatWereNotSent) {
  Campaign("c", 1, 4);
  std::stop_source stop;
  stop.request_stop();
  auto cycle = dispatcher_->RunOnce(stop.get_token());
  ASSERT_TRUE(cycle);
  EXPECT_TRUE(messenger_.sent().empty());
  EXPECT_EQ(Counts("c")[InvitationState::kPending], 4);
}

// Invariant I10 (docs/invariants.md)
TEST_F(DispatcherTest, TheSendingMarkIsFsyncedEvenUnderSynchronousNormal) {
  Campaign("c", 1, 2);
  Drain();
  const std::vector<std::string>& scripts = writer_->scripts();
  auto full = std::find(scripts.begin(), scripts.end(), "PRAGMA synchronous = FULL");
  ASSERT_NE(full, scripts.end()) << "the mark that a request may leave was not fsynced";
  EXPECT_NE(std::find(full, scripts.end(), "PRAGMA synchronous = NORMAL"), scripts.end());
  auto mode = storage::Session(writer_->target()).QueryInt("PRAGMA synchronous");
  ASSERT_TRUE(mode);
  EXPECT_EQ(*mode, 1) << "the writer was left in FULL mode";
}

// Invariant I11 (docs/invariants.md)
TEST_F(DispatcherTest, LinksOfRowsReleasedBeforeSendingAreKept) {
  Campaign("c", 1, 3);
  messenger_.ScriptLink(FakeMessenger::Make(OutcomeKind::kOk));
  messenger_.ScriptLink(FakeMessenger::Make(OutcomeKind::kFlood, "Too Many Requests: retry after 5",
                                            telegram::PermanentReason::kNone,
                                            std::chrono::seconds(5)));
  ASSERT_TRUE(dispatcher_->RunOnce());
  EXPECT_TRUE(messenger_.sent().empty()) << "sent during a flood pause";
  Drain();
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 3);
  // Whichever order the three link requests ran in: one link per contact, plus the one request
  // the 429 refused. Throwing released rows' links away would make it 5 or 6.
  EXPECT_EQ(messenger_.links().size(), 4u);
}

// Invariant I11 (docs/invariants.md)
TEST_F(DispatcherTest, OutcomesAreRecordedEvenWhenAPauseWriteFailsOnce) {
  Campaign("c", 1, 3);
  messenger_.ScriptSend(
      2, FakeMessenger::Make(OutcomeKind::kFlood, "Too Many Requests: retry after 9",
                             telegram::PermanentReason::kNone, std::chrono::seconds(9)));
  writer_->FailNextExecuteContaining("SET flood_until", ErrorCode::kUnavailable);
  ASSERT_TRUE(dispatcher_->RunOnce());
  auto account = store_->FindAccount("bot");
  ASSERT_TRUE(account);
  EXPECT_GT(account->flood_until, core::ToUnixMillis(clock_->Now()));
  EXPECT_EQ(Counts("c")[InvitationState::kSending], 0) << "outcomes were dropped";
  EXPECT_EQ(Counts("c")[InvitationState::kSent] + Counts("c")[InvitationState::kWaiting] +
                Counts("c")[InvitationState::kPending],
            3);
}

TEST_F(DispatcherTest, ContactsWithoutAUserIdSpendNoPacingSlot) {
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "pacing.delay_max", "10s"));
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "pacing.delay_min", "10s"));
  ASSERT_TRUE(
      store_->CreateCampaign({"c", "bot", "-1001", "Hi {link}", core::LinkMode::kPersonal, ""}));
  core::ContactRecord by_name;
  by_name.username = "someone";
  core::ContactRecord by_id;
  by_id.telegram_user_id = 5;
  ImportRows source({by_name, by_id});
  storage::ImportOptions import;
  import.campaign = "c";
  ASSERT_TRUE(store_->ImportContacts(source, import));
  ASSERT_TRUE(
      store_->ChangeCampaign("c", storage::CampaignAction::kStart, core::Actor::Cli("test")));
  core::TimePoint start = clock_->Now();
  auto cycle = dispatcher_->RunOnce();
  ASSERT_TRUE(cycle);
  EXPECT_EQ(messenger_.sent().size(), 1u);
  EXPECT_EQ(clock_->Now(), start) << "the reachable contact waited for the unreachable one's slot";
}

// Invariant I4 (docs/invariants.md)
TEST_F(DispatcherTest, OneChatGetsAtMostOneMessageASecondAcrossCampaignsAndRestarts) {
  messenger_.UseClock(clock_.get());
  // One request at a time, so that the fake clock stamps each send at its own slot.
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "dispatch.in_flight", "1"));
  Campaign("a", 1, 2);
  Campaign("b", 1, 2);  // the same two people
  ASSERT_TRUE(dispatcher_->RunOnce());
  dispatcher_ = MakeDispatcher("worker-2");  // a restart: nothing in memory survives
  Drain();
  for (int64_t user : {1, 2}) {
    std::vector<core::TimePoint> times = messenger_.sends_to(user);
    ASSERT_EQ(times.size(), 2u) << "user " << user;
    EXPECT_GE(times[1] - times[0], std::chrono::milliseconds(1000)) << "user " << user;
  }
}

TEST_F(DispatcherTest, PeopleAlreadyInTheChatAreNotInvited) {
  Campaign("c", 1, 3);
  messenger_.AddMember(2);
  Drain();
  storage::ExportRow row = RowOf("c", 2);
  EXPECT_EQ(row.state, InvitationState::kSkipped);
  EXPECT_EQ(row.last_error, "already a member");
  EXPECT_EQ(messenger_.delivered()[2], 0);
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 2);
  EXPECT_EQ(messenger_.links().size(), 2u) << "a link was made for a member";
}

TEST_F(DispatcherTest, ContactsWithoutAUserIdAreSkipped) {
  ASSERT_TRUE(
      store_->CreateCampaign({"c", "bot", "-1001", "Hi {link}", core::LinkMode::kPersonal, ""}));
  core::ContactRecord by_name;
  by_name.username = "someone";
  ImportRows source({by_name});
  storage::ImportOptions import;
  import.campaign = "c";
  ASSERT_TRUE(store_->ImportContacts(source, import));
  ASSERT_TRUE(
      store_->ChangeCampaign("c", storage::CampaignAction::kStart, core::Actor::Cli("test")));
  Drain();
  storage::ExportRow row = Rows("c").at(0);
  EXPECT_EQ(row.state, InvitationState::kSkipped);
  EXPECT_TRUE(row.last_error.starts_with("no telegram_user_id")) << row.last_error;
}

// Invariant I13 (docs/invariants.md)
TEST_F(DispatcherTest, JoinsBlocksAndJoinRequestsFromUpdates) {
  Campaign("c", 1, 3);
  Campaign("r", 10, 1, core::LinkMode::kJoinRequest, "-1002");
  Drain();
  std::string link1 = RowOf("c", 1).invite_link;
  std::string link10 = RowOf("r", 10).invite_link;
  using Kind = telegram::Update::Kind;
  telegram::Update join{1, Kind::kChatMember, -1001, 1, "left", "member", link1, "", ""};
  telegram::Update block{2, Kind::kMyChatMember, 3, 3, "member", "kicked", "", "", ""};
  telegram::Update request{3, Kind::kJoinRequest, -1002, 10, "", "", link10, "", ""};
  telegram::Update stranger{4, Kind::kJoinRequest, -1002, 99, "", "", "", "", ""};
  for (auto& u : {join, block, request, stranger}) messenger_.QueueUpdate(u);
  ASSERT_TRUE(dispatcher_->PollUpdatesOnce(std::chrono::seconds(0)));
  EXPECT_EQ(RowOf("c", 1).state, InvitationState::kJoined);
  EXPECT_EQ(RowOf("r", 10).state, InvitationState::kJoined);
  EXPECT_EQ(messenger_.approvals(), std::vector<int64_t>{10}) << "approved a stranger";
  auto suppressions = store_->ListSuppressions();
  ASSERT_TRUE(suppressions);
  ASSERT_EQ(suppressions->size(), 1u);
  EXPECT_EQ((*suppressions)[0].key, "id:3");
  auto account = store_->FindAccount("bot");
  ASSERT_TRUE(account);
  EXPECT_EQ(account->updates_offset, 5);
  // Polling again applies nothing twice.
  ASSERT_TRUE(dispatcher_->PollUpdatesOnce(std::chrono::seconds(0)));
  EXPECT_EQ(messenger_.approvals().size(), 1u);
}

// Start links: a `both` campaign messages the contact it can reach and waits for the others;
// a /start with a contact's payload (or a bare /start from the one username-only contact with the
// sender's username) links the sender and sends that contact one message. Replays, forged
// payloads, a cancelled campaign's payload and strangers send nothing.
// Invariant I1 (docs/invariants.md)
TEST_F(DispatcherTest, StartsReleaseWaitingContactsOnce) {
  auto created = store_->CreateCampaign(
      {"s", "bot", "-1001", "Hi {first_name}: {link}", core::LinkMode::kPersonal, "",
       core::CampaignReach::kBoth});
  ASSERT_TRUE(created) << created.error().message;
  auto other = store_->CreateCampaign({"x", "bot", "-1003", "Hi {link}",
                                       core::LinkMode::kPersonal, "", core::CampaignReach::kBoth});
  ASSERT_TRUE(other) << other.error().message;
  auto contact = [](std::optional<int64_t> id, std::string username, std::string phone) {
    core::ContactRecord c;
    c.telegram_user_id = id;
    c.username = std::move(username);
    c.phone = std::move(phone);
    c.first_name = "Someone";
    return c;
  };
  ImportRows rows({contact(1, "", ""), contact(std::nullopt, "ann", ""),
                   contact(std::nullopt, "", "+4915112345678"), contact(std::nullopt, "bob", "")});
  storage::ImportOptions import;
  import.campaign = "s";
  ASSERT_TRUE(store_->ImportContacts(rows, import));
  ImportRows cancelled_rows({contact(std::nullopt, "cat", "")});
  import.campaign = "x";
  ASSERT_TRUE(store_->ImportContacts(cancelled_rows, import));
  ASSERT_TRUE(
      store_->ChangeCampaign("s", storage::CampaignAction::kStart, core::Actor::Cli("test")));
  ASSERT_TRUE(
      store_->ChangeCampaign("x", storage::CampaignAction::kCancel, core::Actor::Cli("test")));

  ASSERT_TRUE(dispatcher_->PollUpdatesOnce(std::chrono::seconds(0)));  // learns @fake_bot
  Drain();
  EXPECT_EQ(Counts("s")[InvitationState::kSent], 1);
  EXPECT_EQ(Counts("s")[InvitationState::kAwaitingStart], 3);
  auto key_of = [this](std::string_view campaign, std::string_view username) {
    for (const auto& row : Rows(campaign)) {
      if (row.contact.username == username) {
        EXPECT_TRUE(row.start_link.starts_with("https://t.me/fake_bot?start=")) << row.start_link;
        return row.start_link.substr(row.start_link.find('=') + 1);
      }
    }
    ADD_FAILURE() << "no row for " << username;
    return std::string();
  };
  const std::string ann = key_of("s", "ann");
  const std::string cat = key_of("x", "cat");
  ASSERT_EQ(ann.size(), 32u);

  const auto before = core::Instruments().starts[0].load();
  using Kind = telegram::Update::Kind;
  int64_t id = 0;
  auto start = [&](int64_t user, std::string username, std::string payload) {
    messenger_.QueueUpdate({++id, Kind::kStart, user, user, "", "", "", username, payload});
  };
  start(501, "ann", ann);
  start(501, "ann", ann);                                  // a replay
  start(666, "mallory", "0123456789abcdef0123456789abcdef");  // forged
  start(667, "cat", cat);                                  // cancelled campaign
  start(777, "zed", "");                                   // nobody
  start(502, "bob", "");                                   // the one username-only "bob"
  ASSERT_TRUE(dispatcher_->PollUpdatesOnce(std::chrono::seconds(0)));
  Drain();

  std::map<int64_t, int> sends;
  for (const auto& message : messenger_.sent()) ++sends[message.user_id];
  EXPECT_EQ(sends, (std::map<int64_t, int>{{1, 1}, {501, 1}, {502, 1}}));
  EXPECT_EQ(Counts("s")[InvitationState::kSent], 3);
  EXPECT_EQ(Counts("s")[InvitationState::kAwaitingStart], 1) << "the phone-only contact waits";
  EXPECT_EQ(Counts("x")[InvitationState::kCancelled], 1);
  EXPECT_EQ(core::Instruments().starts[0].load() - before, 2) << "linked";
  auto found = store_->FindCampaign("s");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->campaign.links_started, 2);

  // The same updates read again (a restart before the offset moved) change nothing.
  auto account = store_->FindAccount("bot");
  ASSERT_TRUE(account);
  ASSERT_TRUE(store_->IngestUpdates(account->id,
                                    std::vector<storage::InboxUpdate>{
                                        {1, storage::InboxUpdate::Kind::kStart, 501, 501, "ann",
                                         "", "", "", ann}},
                                    std::nullopt));
  ASSERT_TRUE(dispatcher_->PollUpdatesOnce(std::chrono::seconds(0)));
  Drain();
  EXPECT_EQ(messenger_.sent().size(), 3u);
}

// Someone who pressed Start is waiting for the answer: it goes at once, ahead of the campaign's
// other rows and outside its pacing (2-3 minutes between invitations here), at the account's
// limits; the paced rows keep their pace.
TEST_F(DispatcherTest, AnswersToStartsAreNotPaced) {
  ASSERT_TRUE(store_->CreateCampaign({"p", "bot", "-1001", "Hi {link}", core::LinkMode::kPersonal,
                                      "", core::CampaignReach::kBoth}));
  for (auto [key, value] : {std::pair{"pacing.batch_size", "5"},
                            {"pacing.delay_max", "3m"},
                            {"pacing.delay_min", "2m"}}) {
    ASSERT_TRUE(store_->PutSetting(std::string("p"), key, value));
  }
  std::vector<core::ContactRecord> contacts(4);
  for (int64_t id = 1; id <= 3; ++id) contacts[static_cast<size_t>(id - 1)].telegram_user_id = id;
  contacts[3].username = "ann";  // waits for her start
  for (auto& c : contacts) c.first_name = "Someone";
  ImportRows rows(contacts);
  storage::ImportOptions import;
  import.campaign = "p";
  ASSERT_TRUE(store_->ImportContacts(rows, import));
  ASSERT_TRUE(
      store_->ChangeCampaign("p", storage::CampaignAction::kStart, core::Actor::Cli("test")));
  auto first = dispatcher_->RunOnce();  // one paced invitation; the next is 2-3 minutes away
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_EQ(messenger_.sent().size(), 1u);

  ASSERT_TRUE(dispatcher_->PollUpdatesOnce(std::chrono::seconds(0)));  // learns @fake_bot
  std::string key;
  for (const auto& row : Rows("p")) {
    if (row.contact.username == "ann") key = row.start_link.substr(row.start_link.find('=') + 1);
  }
  ASSERT_FALSE(key.empty());
  messenger_.QueueUpdate(
      {1, telegram::Update::Kind::kStart, 900, 900, "", "", "", "ann", key});
  ASSERT_TRUE(dispatcher_->PollUpdatesOnce(std::chrono::seconds(0)));
  auto answer = dispatcher_->RunOnce();
  ASSERT_TRUE(answer) << answer.error().message;
  ASSERT_EQ(messenger_.sent().size(), 2u) << "the answer to a /start waited for the pacing";
  EXPECT_EQ(messenger_.sent().back().user_id, 900);
  EXPECT_EQ(Counts("p")[InvitationState::kPending], 2) << "the paced rows kept their pace";
}

// Invariant 4: a request whose slot passed while its link was being created is not sent late
// (bunched with the next ones, it would go over the limit at the server). When it cannot take a
// new slot either (here the store refuses the re-slot), it is given back, keeps its link, and the
// next claim starts its slots after the preparation time it measured.
// Invariant I4 (docs/invariants.md)
TEST_F(DispatcherTest, RequestsWhoseSlotPassedAreGivenBackNotSentLate) {
  Campaign("c", 1, 3);
  ASSERT_TRUE(store_->PutSetting(std::string("c"), "pacing.batch_size", "1000"));  // paced
  messenger_.UseClock(clock_.get());
  hooks_.before_link = [this] { clock_->Advance(std::chrono::milliseconds(50)); };
  writer_->FailNextExecuteContaining("FROM invitations i JOIN contacts c ON c.id = i.contact_id "
                                     "WHERE i.id = ? AND i.gen = ?",
                                     ErrorCode::kUnavailable);
  const int64_t given_back_before = core::Instruments().given_back_late.load();
  auto late = dispatcher_->RunOnce();
  ASSERT_TRUE(late) << late.error().message;
  EXPECT_EQ(late->claimed, 3);
  EXPECT_EQ(late->released_late, 3);
  EXPECT_EQ(core::Instruments().given_back_late.load() - given_back_before, 3)
      << "tginvite_requests_given_back_total{reason=\"late\"} must count them";
  EXPECT_TRUE(messenger_.sent().empty()) << "sent after its slot had passed";
  EXPECT_EQ(Counts("c")[InvitationState::kPending], 3);

  auto next = dispatcher_->RunOnce();  // links exist now: no preparation, sent on time
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->released_late, 0);
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 3);
  EXPECT_EQ(messenger_.links().size(), 3u) << "a link was created twice";
  for (const auto& row : Rows("c")) EXPECT_EQ(row.attempts, 1);
}

// An unpaced campaign's requests whose slots passed while they were prepared take new slots from
// the account's limiter and go, instead of being given back and prepared again (the new slots'
// spacing: StoreContractTest.ReslotLate*).
// Invariant I4 (docs/invariants.md)
TEST_F(DispatcherTest, RequestsWhoseSlotPassedTakeNewSlots) {
  Campaign("c", 1, 3);
  messenger_.UseClock(clock_.get());
  core::TimePoint prepared{};
  hooks_.before_link = [this, &prepared] {
    clock_->Advance(std::chrono::milliseconds(200));
    prepared = std::max(prepared, clock_->Now());
  };
  const int64_t reslotted_before = core::Instruments().reslotted.load();
  auto cycle = dispatcher_->RunOnce();
  ASSERT_TRUE(cycle) << cycle.error().message;
  EXPECT_EQ(cycle->claimed, 3);
  EXPECT_EQ(cycle->reslotted, 3);
  EXPECT_EQ(cycle->released_late, 0);
  EXPECT_EQ(cycle->sent, 3);
  EXPECT_EQ(core::Instruments().reslotted.load() - reslotted_before, 3)
      << "tginvite_requests_reslotted_total must count them";
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 3);
  EXPECT_EQ(messenger_.links().size(), 3u);
  for (int64_t user = 1; user <= 3; ++user) {
    std::vector<core::TimePoint> sends = messenger_.sends_to(user);
    ASSERT_EQ(sends.size(), 1u) << "user " << user;
    // New slots start kMaxLateness after the preparation: the time to commit them and wake up.
    EXPECT_GE(sends[0], prepared + kMaxLateness) << "sent before its new slot";
  }
}

// A paced campaign's first invitation, prepared slower than the lead (a fresh worker has none
// measured), takes a new slot and goes, and the pacing's gap counts from it. (It was given back
// instead, with the gap spent: a new campaign's first invitation waited 2-3 minutes by default.)
// Invariant I4 (docs/invariants.md)
TEST_F(DispatcherTest, APacedRowWhoseSlotPassedGoesAndItsCampaignKeepsItsGap) {
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "pacing.delay_max", "10s"));
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "pacing.delay_min", "10s"));
  Campaign("c", 1, 3);
  messenger_.UseClock(clock_.get());
  hooks_.before_link = [this] { clock_->Advance(std::chrono::milliseconds(200)); };
  auto first = dispatcher_->RunOnce();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->claimed, 1);
  EXPECT_EQ(first->reslotted, 1);
  EXPECT_EQ(first->released_late, 0);
  EXPECT_EQ(first->sent, 1);
  Drain();
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 3);
  std::vector<core::TimePoint> sends;
  for (int64_t user = 1; user <= 3; ++user) {
    std::vector<core::TimePoint> to_user = messenger_.sends_to(user);
    ASSERT_EQ(to_user.size(), 1u) << "user " << user;
    sends.push_back(to_user[0]);
  }
  std::sort(sends.begin(), sends.end());
  for (size_t k = 1; k < sends.size(); ++k) {
    EXPECT_GE(sends[k] - sends[k - 1], std::chrono::seconds(10)) << "the gap before send " << k;
  }
}

// The lead covers the whole time from the moment the claim counted its slots (its limiter lock)
// to the sending mark: a claim whose transaction is slow after taking the lock (a loaded
// database) must not leave every following batch late.
// Invariant I4 (docs/invariants.md)
TEST_F(DispatcherTest, TheLeadCoversAClaimSlowAfterItsLimiterLock) {
  Campaign("c", 1, 9);
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "dispatch.in_flight", "3"));
  messenger_.UseClock(clock_.get());
  writer_->OnExecuteContaining("SET state = 'sending', gen = gen + 1",
                               [this] { clock_->Advance(std::chrono::milliseconds(50)); });
  auto first = dispatcher_->RunOnce();  // no lead measured yet: its rows take new slots
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->reslotted, 3);
  for (int i = 0; i < 2; ++i) {
    auto next = dispatcher_->RunOnce();
    ASSERT_TRUE(next) << next.error().message;
    EXPECT_EQ(next->claimed, 3);
    EXPECT_EQ(next->reslotted + next->released_late, 0)
        << "batch " << i << ": the lead left out the claim's own time";
  }
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 9);
}

// Invariant 4 across workers: a 429 another worker recorded after this worker claimed its rows
// stops those rows before they are sent, not only the next claim.
// Invariant I4 (docs/invariants.md)
TEST_F(DispatcherTest, APauseRecordedByAnotherWorkerStopsRowsAlreadyClaimed) {
  Campaign("c", 1, 5);
  messenger_.UseClock(clock_.get());
  auto account = store_->FindAccount("bot");
  ASSERT_TRUE(account);
  const core::TimePoint pause_end = clock_->Now() + std::chrono::seconds(5);
  hooks_.before_link = [&] {
    ASSERT_TRUE(store_->PauseAccount(account->id, core::ToUnixMillis(pause_end)));
  };
  auto cycle = dispatcher_->RunOnce();
  ASSERT_TRUE(cycle) << cycle.error().message;
  EXPECT_EQ(cycle->claimed, 5);
  EXPECT_EQ(cycle->released_paused, 5);
  EXPECT_TRUE(messenger_.sent().empty()) << "sent during another worker's flood pause";
  hooks_.before_link = nullptr;
  Drain();
  EXPECT_EQ(Counts("c")[InvitationState::kSent], 5);
  for (int64_t user = 1; user <= 5; ++user) {
    ASSERT_EQ(messenger_.sends_to(user).size(), 1u);
    EXPECT_GE(messenger_.sends_to(user)[0], pause_end);
  }
}

// One poller per bot: while one worker holds an account's updates lease, another does not call
// getUpdates for it (Telegram would end one of the two polls with 409 Conflict); the lease passes
// on when its holder stops renewing it.
TEST_F(DispatcherTest, OnlyOneWorkerPollsABotsUpdates) {
  auto second = MakeDispatcher("worker-2");
  ASSERT_TRUE(dispatcher_->PollUpdatesOnce(std::chrono::seconds(0)));
  EXPECT_EQ(hooks_.updates_calls, 1);
  ASSERT_TRUE(second->PollUpdatesOnce(std::chrono::seconds(0)));
  EXPECT_EQ(hooks_.updates_calls, 1) << "two workers polled one bot";
  ASSERT_TRUE(dispatcher_->PollUpdatesOnce(std::chrono::seconds(0)));
  EXPECT_EQ(hooks_.updates_calls, 2);
  clock_->Advance(std::chrono::seconds(16));  // the first worker stopped renewing: it expired
  ASSERT_TRUE(second->PollUpdatesOnce(std::chrono::seconds(0)));
  EXPECT_EQ(hooks_.updates_calls, 3);
  ASSERT_TRUE(dispatcher_->PollUpdatesOnce(std::chrono::seconds(0)));
  EXPECT_EQ(hooks_.updates_calls, 3) << "the old holder polled after the lease passed on";
}

// Run itself, on the system clock: each account has its own claim-and-send lanes, so an account
// whose requests hang does not hold up another account's batches.
// Invariant I6 (docs/invariants.md)
TEST(DispatcherRunTest, AnAccountWhoseSendsHangDoesNotHoldUpAnother) {
  TempDir dir;
  storage::SqliteStoreOptions options;
  options.path = dir.File("t.db");
  options.secrets = testing::TestSecrets();
  auto opened = storage::SqliteStore::Open(options);
  ASSERT_TRUE(opened) << opened.error().message;
  storage::SqliteStore& store = **opened;
  for (auto [key, value] : {std::pair{"pacing.batch_size", "0"},
                            {"pacing.delay_min", "0s"},
                            {"pacing.delay_max", "0s"},
                            {"telegram.rate", "1000"},
                            {"dispatch.in_flight", "4"}}) {
    ASSERT_TRUE(store.PutSetting(std::nullopt, key, value));
  }
  // Ten batches for the healthy account; one send of the other hangs until released.
  const std::vector<std::tuple<std::string, int64_t, int64_t>> campaigns = {{"hangs", 1, 8},
                                                                            {"healthy", 100, 40}};
  for (const auto& [name, first_user, count] : campaigns) {
    ASSERT_TRUE(store.AddAccount(
        {name, core::AccountKind::kBot, core::Secret(std::string(kToken)), "http://127.0.0.1:1"}));
    ASSERT_TRUE(
        store.CreateCampaign({name, name, "-1001", "Hi {link}", core::LinkMode::kPersonal, ""}));
    std::vector<core::ContactRecord> rows;
    for (int64_t id = first_user; id < first_user + count; ++id) {
      core::ContactRecord c;
      c.telegram_user_id = id;
      rows.push_back(c);
    }
    ImportRows source(rows);
    storage::ImportOptions import;
    import.campaign = name;
    ASSERT_TRUE(store.ImportContacts(source, import));
    ASSERT_TRUE(
        store.ChangeCampaign(name, storage::CampaignAction::kStart, core::Actor::Cli("test")));
  }

  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool open = false;
  FakeMessenger hanging, healthy;
  MessengerHooks hanging_hooks, healthy_hooks;
  hanging_hooks.before_send = [&] {
    std::unique_lock lock(gate_mu);
    gate_cv.wait(lock, [&] { return open; });
  };
  auto release = [&] {
    std::lock_guard lock(gate_mu);
    open = true;
    gate_cv.notify_all();
  };
  core::SystemClock clock;
  DispatcherOptions dispatcher_options;
  dispatcher_options.worker_id = "worker-1";
  dispatcher_options.updates_timeout = std::chrono::seconds(0);
  Dispatcher dispatcher(
      store,
      [&](const storage::Account& account, const core::Settings&) {
        return account.name == "hangs" ? std::make_unique<Forwarding>(hanging, hanging_hooks)
                                       : std::make_unique<Forwarding>(healthy, healthy_hooks);
      },
      clock, dispatcher_options);
  std::jthread worker([&dispatcher](std::stop_token stop) { dispatcher.Run(stop); });
  auto sent = [&store](std::string_view name) {
    auto found = store.FindCampaign(name);
    return found ? found->counts[InvitationState::kSent] : -1;
  };

  const bool healthy_done =
      WaitFor([&] { return sent("healthy") == 40; }, std::chrono::seconds(30));
  EXPECT_TRUE(healthy_done) << "the healthy account sent " << sent("healthy")
                            << " of 40 while the other account's sends hung";
  EXPECT_EQ(sent("hangs"), 0);
  release();
  EXPECT_TRUE(WaitFor([&] { return sent("hangs") == 8; }, std::chrono::seconds(30)));
  worker.request_stop();
  worker.join();
  for (auto [user, n] : healthy.delivered()) EXPECT_EQ(n, 1) << "user " << user;
  for (auto [user, n] : hanging.delivered()) EXPECT_EQ(n, 1) << "user " << user;
}

// --- User accounts: lookups, adds, add-then-message, the daily caps, PEER_FLOOD ------------------

class UserAccountDispatchTest : public DispatcherTest {
 protected:
  void SetUp() override {
    DispatcherTest::SetUp();
    auto staff = store_->AddAccount(
        {"staff", core::AccountKind::kUser,
         core::Secret("1234567:0123456789abcdef0123456789abcdef:+15550000000")});
    ASSERT_TRUE(staff) << staff.error().message;
  }

  // A campaign of the user account over `rows`, started.
  void UserCampaign(const std::string& name, core::DeliveryMethod method,
                    std::vector<core::ContactRecord> rows) {
    storage::NewCampaign campaign{name, "staff", "-1002", "Hi {first_name}: {link}",
                                  core::LinkMode::kPersonal, "", core::CampaignReach::kDirect,
                                  method};
    auto created = store_->CreateCampaign(campaign);
    ASSERT_TRUE(created) << created.error().message;
    ImportRows source(std::move(rows));
    storage::ImportOptions import;
    import.campaign = name;
    ASSERT_TRUE(store_->ImportContacts(source, import));
    ASSERT_TRUE(
        store_->ChangeCampaign(name, storage::CampaignAction::kStart, core::Actor::Cli("test")));
  }

  static std::vector<core::ContactRecord> ById(int64_t first, int64_t count) {
    std::vector<core::ContactRecord> rows;
    for (int64_t id = first; id < first + count; ++id) {
      core::ContactRecord c;
      c.telegram_user_id = id;
      c.first_name = "User" + std::to_string(id);
      rows.push_back(c);
    }
    return rows;
  }

  int64_t CountAttempts(core::RequestKind kind) {
    const core::RequestKind kinds[] = {kind};
    auto staff = store_->FindAccount("staff");
    EXPECT_TRUE(staff);
    auto used = store_->CountAttempts(staff->id, kinds, 0);
    EXPECT_TRUE(used) << used.error().message;
    return used ? used->count : -1;
  }
};

TEST_F(UserAccountDispatchTest, AddThenMessageAddsWhereAllowedAndMessagesTheLinkWhereNot) {
  messenger_.RefuseAdds(102);
  messenger_.RefuseAdds(104);
  UserCampaign("u", core::DeliveryMethod::kAddThenMessage, ById(101, 4));
  Drain();
  core::StateCounts counts = Counts("u");
  EXPECT_EQ(counts[InvitationState::kJoined], 2);
  EXPECT_EQ(counts[InvitationState::kSent], 2);
  // Adds leave on the account's lanes at once, so their order is not the contacts' order.
  std::vector<int64_t> added = messenger_.added();
  std::sort(added.begin(), added.end());
  EXPECT_EQ(added, (std::vector<int64_t>{101, 103}));
  std::vector<telegram::InvitationMessage> sent = messenger_.sent();
  ASSERT_EQ(sent.size(), 2u);
  for (const auto& message : sent) {
    EXPECT_TRUE(message.user_id == 102 || message.user_id == 104) << message.user_id;
    EXPECT_NE(message.text.find("https://t.me/+link"), std::string::npos) << message.text;
  }
  EXPECT_EQ(messenger_.links().size(), 2u);  // links only for those who get a message
  EXPECT_EQ(CountAttempts(core::RequestKind::kAdd), 4);
  EXPECT_EQ(CountAttempts(core::RequestKind::kSend), 2);
}

TEST_F(UserAccountDispatchTest, AddAloneFailsWhereThePrivacySettingsRefuse) {
  messenger_.RefuseAdds(202);
  UserCampaign("u", core::DeliveryMethod::kAdd, ById(201, 2));
  Drain();
  EXPECT_EQ(RowOf("u", 201).state, InvitationState::kJoined);
  storage::ExportRow refused = RowOf("u", 202);
  EXPECT_EQ(refused.state, InvitationState::kFailed);
  EXPECT_NE(refused.last_error.find("privacy"), std::string::npos) << refused.last_error;
  EXPECT_TRUE(messenger_.sent().empty());
}

TEST_F(UserAccountDispatchTest, ContactsWithoutAnIdAreLookedUpAndPhonesWithinTheirDailyCap) {
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "tdlib.import_contacts_per_day", "1"));
  messenger_.AddUser("alice", 301);
  messenger_.AddUser("+15550000002", 302);
  messenger_.AddUser("+15550000003", 303);
  std::vector<core::ContactRecord> rows(4);
  rows[0].username = "alice";
  rows[1].phone = "+15550000002";
  rows[2].phone = "+15550000003";
  rows[3].username = "nobody";
  UserCampaign("u", core::DeliveryMethod::kMessage, rows);
  for (int i = 0; i < 20; ++i) {
    auto cycle = dispatcher_->RunOnce();
    ASSERT_TRUE(cycle) << cycle.error().message;
    clock_->Advance(std::chrono::seconds(1));
  }
  core::StateCounts counts = Counts("u");
  EXPECT_EQ(counts[InvitationState::kSent], 2);     // alice and one phone
  EXPECT_EQ(counts[InvitationState::kFailed], 1);   // no such @username
  EXPECT_EQ(counts[InvitationState::kWaiting], 1);  // the other phone waits for the cap
  EXPECT_EQ(CountAttempts(core::RequestKind::kImport), 1);
  EXPECT_EQ(CountAttempts(core::RequestKind::kResolve), 2);
  // A day later the second phone is looked up.
  clock_->Advance(std::chrono::hours(25));
  Drain();
  EXPECT_EQ(Counts("u")[InvitationState::kSent], 3);
}

// Invariant I4 (docs/invariants.md)
TEST_F(UserAccountDispatchTest, TheDailyCapHoldsAcrossARestart) {
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "pacing.daily_cap", "3"));
  UserCampaign("u", core::DeliveryMethod::kMessage, ById(401, 5));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(dispatcher_->RunOnce());
    clock_->Advance(std::chrono::seconds(1));
  }
  EXPECT_EQ(Counts("u")[InvitationState::kSent], 3);
  dispatcher_ = MakeDispatcher("worker-2");  // a restart: the count is in the attempts
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(dispatcher_->RunOnce());
    clock_->Advance(std::chrono::minutes(10));
  }
  EXPECT_EQ(Counts("u")[InvitationState::kSent], 3);
  clock_->Advance(std::chrono::hours(24));
  Drain();
  EXPECT_EQ(Counts("u")[InvitationState::kSent], 5);
}

// Invariant I4 (docs/invariants.md)
TEST_F(UserAccountDispatchTest, PeerFloodStopsTheAccountAndNothingMoreIsSent) {
  telegram::Outcome limited = FakeMessenger::Make(OutcomeKind::kAccountFatal, "PEER_FLOOD");
  limited.account_health = core::AccountHealth::kLimited;
  messenger_.ScriptAdd(limited);
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "dispatch.in_flight", "1"));
  UserCampaign("u", core::DeliveryMethod::kAddThenMessage, ById(501, 3));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(dispatcher_->RunOnce());
    clock_->Advance(std::chrono::minutes(10));
  }
  auto staff = store_->FindAccount("staff");
  ASSERT_TRUE(staff);
  EXPECT_EQ(staff->health, core::AccountHealth::kLimited);
  EXPECT_NE(staff->health_reason.find("PEER_FLOOD"), std::string::npos) << staff->health_reason;
  EXPECT_TRUE(messenger_.added().empty());
  EXPECT_TRUE(messenger_.sent().empty());
  EXPECT_EQ(Counts("u")[InvitationState::kPending], 3);  // kept for when the operator resumes
}

}  // namespace
}  // namespace tginvite::dispatch
