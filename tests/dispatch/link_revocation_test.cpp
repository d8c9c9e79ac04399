// Personal links against the Bot API test double (real HTTP on 127.0.0.1): link.expire_after puts
// an expire_date on the links the worker creates, and once a campaign is cancelled the worker
// revokes its unused links (never one somebody joined through), each recorded as a `revoke-link`
// attempt, a failed revocation retried after the dispatch backoff.
#include <chrono>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "core/actor.h"
#include "core/campaign_states.h"
#include "dispatch/dispatcher.h"
#include "fakes/bot_api_double.h"
#include "fakes/temp_dir.h"
#include "fakes/test_keys.h"
#include "storage/sqlite/sqlite_store.h"
#include "telegram/bot_api/bot_api_messenger.h"

namespace tginvite::dispatch {
namespace {

using core::InvitationState;
using testing::BotApiDouble;

constexpr std::string_view kChat = "-1001234567890";
constexpr int64_t kChatId = -1001234567890;

class ContactRows final : public storage::ImportSource {
 public:
  explicit ContactRows(std::vector<int64_t> users) : users_(std::move(users)) {}
  std::optional<storage::ImportRow> Next() override {
    if (next_ == users_.size()) return std::nullopt;
    storage::ImportRow row;
    row.line = static_cast<int64_t>(next_) + 2;
    row.contact.telegram_user_id = users_[next_];
    row.contact.first_name = "User" + std::to_string(users_[next_]);
    ++next_;
    return row;
  }
  void OnResult(const storage::ImportRow&, const storage::ImportRowResult&) override {}
  bool CommitAllowed() const override { return true; }

 private:
  std::vector<int64_t> users_;
  size_t next_ = 0;
};

class LinkRevocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteStoreOptions options;
    options.path = dir_.File("t.db");
    options.secrets = testing::TestSecrets();
    auto store = storage::SqliteStore::Open(options);
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(store).value();
    for (auto [key, value] : {std::pair{"pacing.batch_size", "0"},
                              {"pacing.delay_min", "0s"},
                              {"pacing.delay_max", "0s"},
                              {"telegram.rate", "20"},
                              {"telegram.chat_interval", "0s"},
                              {"dispatch.backoff_base", "100ms"},
                              {"http.timeout", "5s"}}) {
      ASSERT_TRUE(store_->PutSetting(std::nullopt, key, value));
    }
    auto account =
        store_->AddAccount({"bot", core::AccountKind::kBot,
                            core::Secret(std::string(telegram_.token())), telegram_.base_url()});
    ASSERT_TRUE(account) << account.error().message;
    account_id_ = account->id;
    DispatcherOptions dispatcher;
    dispatcher.worker_id = "worker-1";
    dispatcher.seed = 7;
    dispatcher_ = std::make_unique<Dispatcher>(
        *store_,
        [](const storage::Account& a, const core::Settings& s) {
          telegram::BotApiOptions bot;
          bot.api_base = a.api_base;
          bot.token = a.token;
          bot.timeout = s.http_timeout;
          return telegram::MakeBotApiMessenger(bot);
        },
        clock_, dispatcher);
  }

  // A running personal-link campaign of these users, every invitation sent.
  void SentCampaign(const std::string& name, std::vector<int64_t> users) {
    auto created =
        store_->CreateCampaign({name, "bot", std::string(kChat), "Hi {first_name}: {link}",
                                core::LinkMode::kPersonal, ""});
    ASSERT_TRUE(created) << created.error().message;
    ContactRows rows(std::move(users));
    storage::ImportOptions import;
    import.campaign = name;
    ASSERT_TRUE(store_->ImportContacts(rows, import));
    ASSERT_TRUE(
        store_->ChangeCampaign(name, core::CampaignAction::kStart, core::Actor::Cli("test")));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      auto cycle = dispatcher_->RunOnce();
      ASSERT_TRUE(cycle) << cycle.error().message;
      auto outstanding = store_->HasOutstandingWork();
      ASSERT_TRUE(outstanding);
      if (!*outstanding) break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "invitations still outstanding";
      std::this_thread::yield();
    }
  }

  std::map<int64_t, std::string> LinksByUser(const std::string& campaign) {
    std::map<int64_t, std::string> links;
    EXPECT_TRUE(store_->ExportInvitations(campaign, [&](const storage::ExportRow& row) -> Status {
      links[*row.contact.telegram_user_id] = row.invite_link;
      return Ok();
    }));
    return links;
  }

  std::vector<std::string> RevokedLinks() {
    std::vector<std::string> links;
    for (const testing::RecordedRequest& r : telegram_.Requests()) {
      if (r.method == "revokeChatInviteLink" && r.status == 200) {
        links.push_back(r.params.value("invite_link", ""));
      }
    }
    return links;
  }

  int64_t RevokeAttempts() {
    const core::RequestKind revoke[] = {core::RequestKind::kRevokeLink};
    auto counted = store_->CountAttempts(account_id_, revoke, 0);
    EXPECT_TRUE(counted) << counted.error().message;
    return counted ? counted->count : -1;
  }

  BotApiDouble telegram_;
  testing::TempDir dir_;
  core::SystemClock clock_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<Dispatcher> dispatcher_;
  int64_t account_id_ = 0;
};

TEST_F(LinkRevocationTest, LinksExpireAfterTheSettingWhenItIsSet) {
  ASSERT_TRUE(store_->PutSetting(std::nullopt, "link.expire_after", "2h"));
  const int64_t before = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  ASSERT_NO_FATAL_FAILURE(SentCampaign("spring", {701, 702}));
  int links = 0;
  for (const testing::RecordedRequest& r : telegram_.Requests()) {
    if (r.method != "createChatInviteLink") continue;
    ++links;
    ASSERT_TRUE(r.params.contains("expire_date")) << r.params.dump();
    const int64_t expires = r.params["expire_date"].get<int64_t>();
    EXPECT_GE(expires, before + 7200);
    EXPECT_LE(expires, before + 7200 + 60);
  }
  EXPECT_EQ(links, 2);
}

TEST_F(LinkRevocationTest, WithoutTheSettingLinksDoNotExpire) {
  ASSERT_NO_FATAL_FAILURE(SentCampaign("spring", {711}));
  ASSERT_EQ(telegram_.RequestCount("createChatInviteLink"), 1);
  for (const testing::RecordedRequest& r : telegram_.Requests()) {
    if (r.method == "createChatInviteLink") {
      EXPECT_FALSE(r.params.contains("expire_date")) << r.params.dump();
    }
  }
}

TEST_F(LinkRevocationTest, ACancelledCampaignsUnusedLinksAreRevokedAndUsedOnesAreNot) {
  ASSERT_NO_FATAL_FAILURE(SentCampaign("spring", {801, 802, 803}));
  const std::map<int64_t, std::string> links = LinksByUser("spring");
  ASSERT_EQ(links.size(), 3u);
  // 802 joined through their link.
  const storage::MembershipEvent joined{storage::MembershipEvent::Kind::kJoined, kChatId, 802,
                                        links.at(802), 0};
  ASSERT_TRUE(store_->ApplyMembership(account_id_, {&joined, 1}, 0));

  // While the campaign runs, nothing is revoked.
  ASSERT_TRUE(dispatcher_->RevokeLinksOnce());
  EXPECT_EQ(telegram_.RequestCount("revokeChatInviteLink"), 0);

  ASSERT_TRUE(
      store_->ChangeCampaign("spring", core::CampaignAction::kCancel, core::Actor::Cli("test")));
  // The first revocation meets a server error: recorded, and retried after the backoff.
  telegram_.ScriptMethod("revokeChatInviteLink", BotApiDouble::Fault::kServerError500, 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (RevokedLinks().size() < 2) {
    ASSERT_TRUE(dispatcher_->RevokeLinksOnce());
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "revoked so far: " << RevokedLinks().size();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the 100 ms backoff passes
  }
  std::vector<std::string> revoked = RevokedLinks();
  EXPECT_EQ(std::set<std::string>(revoked.begin(), revoked.end()),
            (std::set<std::string>{links.at(801), links.at(803)}));
  EXPECT_EQ(telegram_.RequestCount("revokeChatInviteLink"), 3) << "one failure, two revocations";
  EXPECT_EQ(RevokeAttempts(), 3);
  for (const testing::RecordedRequest& r : telegram_.Requests()) {
    if (r.method == "revokeChatInviteLink") {
      EXPECT_NE(r.params["chat_id"].dump().find(kChat), std::string::npos) << r.params.dump();
    }
  }

  // Done: nothing is revoked twice.
  ASSERT_TRUE(dispatcher_->RevokeLinksOnce());
  EXPECT_EQ(telegram_.RequestCount("revokeChatInviteLink"), 3);
  auto spring = store_->FindCampaign("spring");
  ASSERT_TRUE(spring);
  EXPECT_EQ(spring->counts[InvitationState::kJoined], 1);
}

}  // namespace
}  // namespace tginvite::dispatch
