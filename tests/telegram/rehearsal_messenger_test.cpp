#include "telegram/rehearsal/rehearsal_messenger.h"

#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

namespace tginvite::telegram {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kGroup = -1001234567890;

RehearsalOptions Fast(uint64_t seed) {
  RehearsalOptions options;
  options.seed = seed;
  options.min_latency = 0ms;
  options.max_latency = 1ms;
  options.blocked = 0.15;
  options.not_started = 0.15;
  options.transient = 0.15;
  options.flood = 0.1;
  options.min_join_delay = 10ms;
  options.max_join_delay = 40ms;
  return options;
}

RehearsalOptions Reliable() {
  RehearsalOptions options = Fast(3);
  options.blocked = options.not_started = options.transient = options.flood = 0;
  options.join_rate = 1;
  return options;
}

std::vector<std::string> SendMany(Messenger& messenger, int n) {
  std::vector<std::string> seen;
  for (int i = 0; i < n; ++i) {
    Outcome outcome = messenger.SendInvitation(InvitationMessage{i, "hi", "", ""}).outcome;
    seen.push_back(fmt::format("{}/{}/{}", ToString(outcome.kind), static_cast<int>(outcome.reason),
                               outcome.retry_after.count()));
  }
  return seen;
}

TEST(RehearsalMessengerTest, SameSeedGivesTheSameOutcomes) {
  auto a = MakeRehearsalMessenger(Fast(7));
  auto b = MakeRehearsalMessenger(Fast(7));
  auto c = MakeRehearsalMessenger(Fast(8));
  std::vector<std::string> first = SendMany(*a, 200);
  EXPECT_EQ(first, SendMany(*b, 200));
  EXPECT_NE(first, SendMany(*c, 200));
  std::set<std::string> kinds(first.begin(), first.end());
  EXPECT_GE(kinds.size(), 5u);  // ok, blocked, not started, transient, and some floods
}

TEST(RehearsalMessengerTest, SaysItIsARehearsal) {
  auto messenger = MakeRehearsalMessenger(Fast(1));
  EXPECT_TRUE(messenger->IsRehearsal());
  BotIdentityResult me = messenger->GetMe();
  EXPECT_TRUE(me.outcome.ok());
  EXPECT_NE(me.bot.first_name.find("REHEARSAL"), std::string::npos);
}

TEST(RehearsalMessengerTest, EveryFailureSaysRehearsal) {
  auto messenger = MakeRehearsalMessenger(Fast(11));
  int failures = 0;
  for (int i = 0; i < 200; ++i) {
    Outcome outcome = messenger->SendInvitation(InvitationMessage{i, "hi", "", ""}).outcome;
    InviteLinkRequest request;
    request.chat = "-100123";
    Outcome link = messenger->CreateInviteLink(request).outcome;
    for (const Outcome* o : {&outcome, &link}) {
      EXPECT_EQ(o->description.rfind("REHEARSAL: ", 0), 0u) << o->description;
      if (!o->ok()) ++failures;
      if (o->kind == OutcomeKind::kFlood) {
        EXPECT_GT(o->retry_after.count(), 0);
      }
    }
  }
  EXPECT_GT(failures, 50);
}

TEST(RehearsalMessengerTest, LinksSayRehearsal) {
  auto messenger = MakeRehearsalMessenger(Reliable());
  InviteLinkRequest request;
  request.chat = "-1001234567890";
  InviteLinkResult first = messenger->CreateInviteLink(request);
  InviteLinkResult second = messenger->CreateInviteLink(request);
  ASSERT_TRUE(first.outcome.ok());
  EXPECT_EQ(first.invite_link.rfind("https://t.me/+REHEARSAL", 0), 0u) << first.invite_link;
  EXPECT_NE(first.invite_link, second.invite_link);
}

TEST(RehearsalMessengerTest, DeliveredInvitationsJoinThroughGetUpdates) {
  auto messenger = MakeRehearsalMessenger(Reliable());
  InviteLinkRequest request;
  request.chat = "-1001234567890";
  InviteLinkResult link = messenger->CreateInviteLink(request);
  ASSERT_TRUE(link.outcome.ok());
  InvitationMessage message{77, "join: " + link.invite_link, "", ""};
  ASSERT_TRUE(messenger->SendInvitation(message).outcome.ok());

  UpdatesResult updates = messenger->GetUpdates(1, 5s);

  ASSERT_TRUE(updates.outcome.ok());
  ASSERT_EQ(updates.updates.size(), 1u);
  const Update& join = updates.updates[0];
  EXPECT_EQ(join.update_id, 1);
  EXPECT_EQ(join.kind, Update::Kind::kChatMember);
  EXPECT_EQ(join.chat_id, kGroup);
  EXPECT_EQ(join.user_id, 77);
  EXPECT_EQ(join.new_status, "member");
  EXPECT_EQ(join.invite_link, link.invite_link);
  EXPECT_EQ(messenger->GetChatMember(request.chat, 77).status, "member");
  EXPECT_EQ(messenger->GetChatMember(request.chat, 78).status, "left");
  EXPECT_TRUE(messenger->GetUpdates(2, 0s).updates.empty());
}

TEST(RehearsalMessengerTest, SomeOfTheExpectedStartsArePressedOnceEach) {
  RehearsalOptions options = Reliable();
  options.start_rate = 0.5;
  options.min_start_delay = 0ms;
  options.max_start_delay = 20ms;
  auto messenger = MakeRehearsalMessenger(options);
  std::vector<ExpectedStart> waiting;
  for (int i = 0; i < 40; ++i) waiting.push_back({fmt::format("key{}", i), fmt::format("u{}", i)});
  messenger->ExpectStarts(waiting);
  messenger->ExpectStarts(waiting);  // told again: decided once per link

  std::map<std::string, int> pressed;
  int64_t offset = 1;
  // Every start is due within 20 ms: a second with none means they have all come.
  for (int round = 0; round < 100; ++round) {
    UpdatesResult updates = messenger->GetUpdates(offset, 1s);
    ASSERT_TRUE(updates.outcome.ok());
    if (updates.updates.empty()) break;
    for (const Update& update : updates.updates) {
      offset = update.update_id + 1;
      ASSERT_EQ(update.kind, Update::Kind::kStart);
      EXPECT_GT(update.user_id, 0);
      EXPECT_EQ(update.username, "u" + update.start_payload.substr(3));
      ++pressed[update.start_payload];
    }
  }
  EXPECT_GT(pressed.size(), 5u);
  EXPECT_LT(pressed.size(), 35u);
  for (const auto& [key, times] : pressed) EXPECT_EQ(times, 1) << key;
}

TEST(RehearsalMessengerTest, JoinRequestLinksAskForApprovalFirst) {
  auto messenger = MakeRehearsalMessenger(Reliable());
  InviteLinkRequest request;
  request.chat = "-1001234567890";
  request.approval = InviteLinkRequest::Approval::kJoinRequest;
  InviteLinkResult link = messenger->CreateInviteLink(request);
  ASSERT_TRUE(link.outcome.ok());
  ASSERT_TRUE(
      messenger->SendInvitation(InvitationMessage{5, "x", "Join", link.invite_link}).outcome.ok());

  UpdatesResult asked = messenger->GetUpdates(1, 5s);
  ASSERT_EQ(asked.updates.size(), 1u);
  EXPECT_EQ(asked.updates[0].kind, Update::Kind::kJoinRequest);
  EXPECT_EQ(asked.updates[0].user_id, 5);
  EXPECT_TRUE(messenger->ApproveJoinRequest(request.chat, 5).ok());
  EXPECT_EQ(messenger->ApproveJoinRequest(request.chat, 5).kind, OutcomeKind::kPermanent);

  UpdatesResult joined = messenger->GetUpdates(2, 5s);
  ASSERT_EQ(joined.updates.size(), 1u);
  EXPECT_EQ(joined.updates[0].kind, Update::Kind::kChatMember);
  EXPECT_EQ(joined.updates[0].new_status, "member");
}

TEST(RehearsalMessengerTest, GetUpdatesReturnsEmptyAfterTheTimeout) {
  auto messenger = MakeRehearsalMessenger(Reliable());
  const auto start = std::chrono::steady_clock::now();
  UpdatesResult updates = messenger->GetUpdates(1, 1s);
  EXPECT_TRUE(updates.outcome.ok());
  EXPECT_TRUE(updates.updates.empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
}

TEST(RehearsalMessengerTest, IsSafeToCallFromManyThreads) {
  auto messenger = MakeRehearsalMessenger(Fast(5));
  std::mutex mu;
  std::set<int64_t> message_ids;
  int sent = 0;
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        SendResult result = messenger->SendInvitation(InvitationMessage{t * 100 + i, "x", "", ""});
        std::lock_guard lock(mu);
        if (result.outcome.ok()) {
          ++sent;
          message_ids.insert(result.message_id);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_GT(sent, 0);
  EXPECT_EQ(message_ids.size(), static_cast<size_t>(sent));
}

TEST(RehearsalMessengerTest, AUserAccountLooksPeopleUpAndSomePrivacySettingsRefuseAdds) {
  RehearsalOptions options = Reliable();
  options.user_account = true;
  options.not_found = 0.2;
  options.privacy_refuses = 0.4;
  auto messenger = MakeRehearsalMessenger(options);
  int found = 0;
  int refused = 0;
  int added = 0;
  for (int i = 0; i < 200; ++i) {
    LookupResult lookup = messenger->FindUser({"member" + std::to_string(i), "", "", ""});
    if (!lookup.outcome.ok()) {
      EXPECT_EQ(lookup.outcome.reason, PermanentReason::kNotFound);
      continue;
    }
    ++found;
    AddMemberResult add = messenger->AddChatMember(std::to_string(kGroup), lookup.user_id);
    if (add.outcome.ok()) {
      ++added;
    } else {
      EXPECT_EQ(add.outcome.reason, PermanentReason::kPrivacy) << add.outcome.description;
      ++refused;
    }
  }
  EXPECT_GT(found, 120);
  EXPECT_LT(found, 200);
  EXPECT_GT(refused, 20);
  EXPECT_GT(added, 20);
  // A bot's simulator cannot do either.
  auto bot = MakeRehearsalMessenger(Reliable());
  EXPECT_EQ(bot->FindUser({"member1", "", "", ""}).outcome.kind, OutcomeKind::kAccountFatal);
  EXPECT_EQ(bot->AddChatMember(std::to_string(kGroup), 1).outcome.kind,
            OutcomeKind::kAccountFatal);
}

TEST(RehearsalMessengerTest, AUserAccountIsBlockedAsAPersonIsNotAsABot) {
  RehearsalOptions options = Fast(11);
  options.user_account = true;
  options.blocked = 1;
  auto messenger = MakeRehearsalMessenger(options);
  Outcome outcome = messenger->SendInvitation(InvitationMessage{1, "hi", "", ""}).outcome;
  EXPECT_EQ(outcome.reason, PermanentReason::kBlocked);
  EXPECT_EQ(outcome.description.find("bot"), std::string::npos) << outcome.description;
}

}  // namespace
}  // namespace tginvite::telegram
