// The storage contract on PostgreSQL (each test in a database of its own), plus what only a
// fleet on PostgreSQL does: concurrent claimers of one account, stale workers, migrations raced by
// processes starting together, connections lost to the server.
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "fakes/test_keys.h"
#include "storage/old_database.h"
#include "storage/pg_test_database.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_schema.h"
#include "storage/postgres/pg_store.h"
#include "storage/schema_states.h"
#include "storage/secrets_contract.h"
#include "storage/store_contract.h"

namespace tginvite::storage {
namespace {

using testing::PgDatabaseTest;
using testing::PgTestDatabase;
using testing::TempDir;

Result<std::unique_ptr<Store>> OpenFreshPgStore(const TempDir&) {
  ASSIGN_OR_RETURN(std::unique_ptr<PgTestDatabase> db, PgTestDatabase::Create());
  PgStoreOptions options;
  options.url = db->url();
  options.secrets = testing::TestSecrets();
  std::shared_ptr<PgTestDatabase> owned = std::move(db);
  options.after_close = [owned] { owned->Drop(); };
  ASSIGN_OR_RETURN(std::unique_ptr<PgStore> store, PgStore::Open(std::move(options)));
  return std::unique_ptr<Store>(std::move(store));
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreContractTest,
                         ::testing::Values(StoreBackend{"postgres", OpenFreshPgStore}),
                         [](const ::testing::TestParamInfo<StoreBackend>& backend) {
                           return backend.param.name;
                         });

class PgSecretsDatabase final : public SecretsDatabase {
 public:
  explicit PgSecretsDatabase(std::unique_ptr<PgTestDatabase> db) : db_(std::move(db)) {}
  Result<std::unique_ptr<Store>> Open(const StoreSecrets& secrets) override {
    PgStoreOptions options;
    options.url = db_->url();
    options.secrets = secrets;
    ASSIGN_OR_RETURN(std::unique_ptr<PgStore> store, PgStore::Open(std::move(options)));
    return std::unique_ptr<Store>(std::move(store));
  }
  Result<std::unique_ptr<Connection>> Connect() override {
    ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, PgConnection::Open(db_->url()));
    return std::unique_ptr<Connection>(std::move(conn));
  }

 private:
  std::unique_ptr<PgTestDatabase> db_;
};

INSTANTIATE_TEST_SUITE_P(
    Postgres, SecretsContractTest,
    ::testing::Values(SecretsBackend{
        "postgres",
        [](const TempDir&) -> Result<std::unique_ptr<SecretsDatabase>> {
          ASSIGN_OR_RETURN(std::unique_ptr<PgTestDatabase> db, PgTestDatabase::Create());
          return std::unique_ptr<SecretsDatabase>(new PgSecretsDatabase(std::move(db)));
        }}),
    [](const ::testing::TestParamInfo<SecretsBackend>& backend) { return backend.param.name; });

class PgStoreTest : public PgDatabaseTest {
 protected:
  std::unique_ptr<Store> Open() {
    auto store = OpenStore(db_->url(), OpenMode::kCreate);
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(store).value() : nullptr;
  }

  // A running campaign of `contacts` contacts with user ids, on a bot account; returns its id.
  static int64_t RunningCampaign(Store& store, int contacts) {
    EXPECT_TRUE(store.AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://x.org"}));
    auto campaign = store.CreateCampaign(
        {"spring", "demo", "-1001234567890", "Hi {link}", core::LinkMode::kPersonal, ""});
    EXPECT_TRUE(campaign) << campaign.error().message;
    class Source final : public ImportSource {
     public:
      explicit Source(int n) : n_(n) {}
      std::optional<ImportRow> Next() override {
        if (i_ == n_) return std::nullopt;
        core::ContactRecord c;
        c.telegram_user_id = 1000 + i_;
        ++i_;
        return ImportRow{i_ + 1, c};
      }
      void OnResult(const ImportRow&, const ImportRowResult&) override {}
      bool CommitAllowed() const override { return true; }

     private:
      int n_;
      int i_ = 0;
    } source(contacts);
    ImportOptions options;
    options.campaign = "spring";
    auto imported = store.ImportContacts(source, options);
    EXPECT_TRUE(imported) << imported.error().message;
    EXPECT_TRUE(store.ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("test")));
    return campaign ? campaign->id : 0;
  }

  static ClaimRequest Request(const Store& /*store*/, int64_t account_id, int64_t campaign_id,
                              int64_t now, std::string worker) {
    ClaimRequest request;
    request.account_id = account_id;
    request.worker_id = std::move(worker);
    request.now = now;
    request.lease = std::chrono::milliseconds(1000);
    request.max_rows = 16;
    request.horizon = std::chrono::milliseconds(60'000);
    request.emission_interval = std::chrono::milliseconds(10);
    request.campaigns = {CampaignPlan{campaign_id, 0, {}, {}, {}}};
    return request;
  }
};

// Invariant 4 across a fleet: eight claimers on two processes' stores, all claiming for one
// account at once, hand out each row once and slots at least one emission interval apart.
// Invariant I4 (docs/invariants.md)
TEST_F(PgStoreTest, ConcurrentClaimersOfOneAccountShareItsRate) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  const int64_t campaign_id = RunningCampaign(*a, 300);
  auto account = a->FindAccount("demo");
  ASSERT_TRUE(account);
  const int64_t now = 1'800'000'000'000;
  std::mutex mu;
  std::vector<Claim> claims;
  std::vector<std::string> errors;
  std::vector<std::jthread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Store& store = t % 2 == 0 ? *a : *b;
      for (int round = 0; round < 100; ++round) {
        auto claimed = store.ClaimInvitations(
            Request(store, account->id, campaign_id, now, fmt::format("w{}", t)));
        std::lock_guard lock(mu);
        if (!claimed) {
          errors.push_back(claimed.error().message);
          continue;
        }
        if (claimed->claims.empty()) return;
        claims.insert(claims.end(), claimed->claims.begin(), claimed->claims.end());
      }
    });
  }
  threads.clear();
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(claims.size(), 300u);
  std::set<int64_t> ids;
  std::vector<int64_t> slots;
  for (const Claim& c : claims) {
    ids.insert(c.invitation_id);
    slots.push_back(c.not_before);
  }
  EXPECT_EQ(ids.size(), 300u) << "a row was claimed twice";
  std::sort(slots.begin(), slots.end());
  for (size_t i = 1; i < slots.size(); ++i) {
    ASSERT_GE(slots[i] - slots[i - 1], 10) << "two sends of the account closer than 1/rate";
  }
  auto counts = a->FindCampaign("spring");
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->counts[core::InvitationState::kSending], 300);
}

// A worker that stalled past its lease can neither mark nor record the row a second worker took.
// Invariant I9 (docs/invariants.md)
TEST_F(PgStoreTest, StaleWorkerCannotOverwriteTheNewOwner) {
  auto stalled = Open();
  auto taker = Open();
  ASSERT_TRUE(stalled && taker);
  const int64_t campaign_id = RunningCampaign(*stalled, 1);
  auto account = stalled->FindAccount("demo");
  ASSERT_TRUE(account);
  const int64_t now = 1'800'000'000'000;
  auto first = stalled->ClaimInvitations(Request(*stalled, account->id, campaign_id, now, "a"));
  ASSERT_TRUE(first && first->claims.size() == 1u);
  const Claim old = first->claims[0];

  // The lease (1 s) expires before the request left: rescued, claimed again by the other worker.
  auto rescued = taker->RescueExpiredLeases(now + 2000, {});
  ASSERT_TRUE(rescued);
  EXPECT_EQ(*rescued, 1);
  auto second = taker->ClaimInvitations(Request(*taker, account->id, campaign_id, now + 2000, "b"));
  ASSERT_TRUE(second && second->claims.size() == 1u);
  const Claim current = second->claims[0];
  EXPECT_EQ(current.gen, old.gen + 1);
  SendingMark mark{current.invitation_id, current.gen, ""};
  auto marked = taker->MarkSending({&mark, 1}, now + 2100, std::chrono::milliseconds(1000));
  ASSERT_TRUE(marked);
  EXPECT_EQ(marked->size(), 1u);
  OutcomeRecord sent;
  sent.invitation_id = current.invitation_id;
  sent.gen = current.gen;
  sent.state = core::InvitationState::kSent;
  auto applied = taker->RecordOutcomes({&sent, 1}, now + 2200);
  ASSERT_TRUE(applied);
  EXPECT_EQ(*applied, 1);

  // The stalled worker wakes up.
  SendingMark stale_mark{old.invitation_id, old.gen, ""};
  auto stale_marked = stalled->MarkSending({&stale_mark, 1}, now + 2300, std::chrono::seconds(1));
  ASSERT_TRUE(stale_marked);
  EXPECT_TRUE(stale_marked->empty()) << "a stale claim was allowed to send";
  OutcomeRecord failed;
  failed.invitation_id = old.invitation_id;
  failed.gen = old.gen;
  failed.state = core::InvitationState::kFailed;
  failed.error = "stale";
  auto stale_applied = stalled->RecordOutcomes({&failed, 1}, now + 2400);
  ASSERT_TRUE(stale_applied);
  EXPECT_EQ(*stale_applied, 0);
  auto campaign = taker->FindCampaign("spring");
  ASSERT_TRUE(campaign);
  EXPECT_EQ(campaign->counts[core::InvitationState::kSent], 1);
  EXPECT_EQ(campaign->counts[core::InvitationState::kFailed], 0);
}

// Processes that start together apply each migration once: the advisory lock makes the others
// wait and then find nothing left to do.
TEST_F(PgStoreTest, MigrationsRunOnceWhenProcessesStartTogether) {
  std::vector<std::string> errors;
  std::mutex mu;
  {
    std::vector<std::jthread> starters;
    for (int i = 0; i < 6; ++i) {
      starters.emplace_back([&] {
        auto store = OpenStore(db_->url(), OpenMode::kCreate);
        std::lock_guard lock(mu);
        if (!store) errors.push_back(store.error().message);
      });
    }
  }
  EXPECT_TRUE(errors.empty()) << errors.front();
  auto conn = PgConnection::Open(db_->url());
  ASSERT_TRUE(conn);
  auto versions = Session(**conn).QueryInt("SELECT COUNT(*) FROM schema_version");
  ASSERT_TRUE(versions);
  EXPECT_EQ(*versions, static_cast<int64_t>(PgMigrations().size()));
}

// Migration 12 (user accounts) over a database version 11 left: attempts renamed to request
// kinds and given their account (the append-only trigger back on), an unknown health text read as
// unauthorized, the new kinds admitted.
TEST_F(PgStoreTest, UserAccountsMigrationRenamesOldAttempts) {
  auto conn = PgConnection::Open(db_->url());
  ASSERT_TRUE(conn) << conn.error().message;
  Status migrated = testing::MigrateBefore(**conn, PgMigrations(), 12);
  ASSERT_TRUE(migrated) << migrated.error().message;
  Status filled = testing::FillBeforeUserAccounts(**conn);
  ASSERT_TRUE(filled) << filled.error().message;
  auto store = OpenStore(db_->url(), testing::TestStoreOptions(OpenMode::kExisting));
  ASSERT_TRUE(store) << store.error().message;
  testing::ExpectUserAccountsMigrated(**store, **conn);
}

// Migration 14 (campaign changes) over a database version 13 left with a finished campaign: its
// attempts, written under the old NOT NULL column, can be detached when it is deleted, and stay
// append-only otherwise (the trigger's function replaced in place).
TEST_F(PgStoreTest, CampaignChangesMigrationLetsOldAttemptsOutliveTheirCampaign) {
  auto conn = PgConnection::Open(db_->url());
  ASSERT_TRUE(conn) << conn.error().message;
  Status migrated = testing::MigrateBefore(**conn, PgMigrations(), 14);
  ASSERT_TRUE(migrated) << migrated.error().message;
  Status filled = (*conn)->ExecuteScript(
      "INSERT INTO accounts (id, name, kind, api_base, created_at) VALUES (1, 'demo', "
      "'rehearsal', 'https://x', 0);"
      "INSERT INTO campaigns (id, name, account_id, chat, template, link_mode, state, created_at, "
      "updated_at) VALUES (1, 'old', 1, '-100123', 'Hi {link}', 'personal', 'running', 0, 0);"
      "INSERT INTO contacts (id, telegram_user_id, created_at, updated_at) VALUES (1, 7, 0, 0);"
      "INSERT INTO invitations (id, campaign_id, contact_id, state, created_at, updated_at) "
      "VALUES (1, 1, 1, 'sent', 0, 0);"
      "INSERT INTO attempts (invitation_id, gen, worker, request, started_at, outcome, "
      "account_id) VALUES (1, 1, 'w', 'send', 0, 'sent', 1);");
  ASSERT_TRUE(filled) << filled.error().message;
  auto store = OpenStore(db_->url(), testing::TestStoreOptions(OpenMode::kExisting));
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_FALSE((*conn)->ExecuteScript("UPDATE attempts SET outcome = 'failed'"));
  // Only a campaign's delete names the detached attempt's campaign and contact (an erasure may
  // detach attempts too, since migration 15, but gives them no name); nothing re-attaches one.
  EXPECT_FALSE((*conn)->ExecuteScript(
      "UPDATE attempts SET invitation_id = NULL, campaign_name = 'old', contact_id = 1"));
  EXPECT_FALSE((*conn)->ExecuteScript("UPDATE attempts SET invitation_id = 2"));
  EXPECT_FALSE((*conn)->ExecuteScript("DELETE FROM attempts"));
  auto deleted = (*store)->DeleteCampaign("old", AttemptsOnDelete::kKeep, core::Actor::Cli("t"));
  ASSERT_TRUE(deleted) << deleted.error().message;
  EXPECT_EQ(deleted->invitations, 1);
  EXPECT_EQ(deleted->attempts_kept, 1);
  auto history = (*store)->ContactAttempts(1);
  ASSERT_TRUE(history) << history.error().message;
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ(history->front().campaign, "old");
  EXPECT_FALSE((*conn)->ExecuteScript("UPDATE attempts SET outcome = 'failed'"));
  EXPECT_FALSE((*conn)->ExecuteScript("DELETE FROM attempts"));
  EXPECT_FALSE((*conn)->ExecuteScript("TRUNCATE attempts"));
}

TEST_F(PgStoreTest, SchemaAdmitsExactlyCoresStates) {
  auto store = OpenStore(db_->url(), testing::TestStoreOptions());
  ASSERT_TRUE(store) << store.error().message;
  auto conn = PgConnection::Open(db_->url());
  ASSERT_TRUE(conn) << conn.error().message;
  testing::ExpectSchemaAdmitsCoreStates(**store, **conn);
}

TEST_F(PgStoreTest, ExistingModeRefusesAnEmptyDatabase) {
  auto opened = OpenStore(db_->url(), OpenMode::kExisting);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kNotFound);
  EXPECT_NE(opened.error().message.find("tginvite migrate"), std::string::npos);
}

// A server that drops every connection (a restart, pg_terminate_backend) costs a call at most
// one kUnavailable; the pool opens new connections and the store works on.
// Invariant I6 (docs/invariants.md)
TEST_F(PgStoreTest, ReconnectsAfterTheServerDroppedItsConnections) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://x.org"}));
  {
    auto admin = PgConnection::Open(std::getenv("TGINVITE_TEST_PG"));
    ASSERT_TRUE(admin);
    auto killed = Session(**admin).QueryInt(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = ?",
        {db_->name()});
    ASSERT_TRUE(killed) << killed.error().message;
    ASSERT_GE(*killed, 1);
  }
  auto first = store->ListAccounts();
  if (!first) {
    EXPECT_EQ(first.error().code, ErrorCode::kUnavailable) << first.error().message;
  }
  auto second = store->ListAccounts();
  ASSERT_TRUE(second) << second.error().message;
  ASSERT_EQ(second->size(), 1u);
  // Writes work again too, and nothing is left half-done.
  ASSERT_TRUE(store->PutSetting(std::nullopt, "pacing.batch_size", "7"));
  auto settings = LoadResolvedSettings(*store, std::nullopt);
  ASSERT_TRUE(settings);
  EXPECT_EQ(settings->settings.batch_size, 7);
}

// A statement that fails inside a unit of work (here a unique violation) leaves the pooled
// connection clean: the next unit of work on it commits.
// Invariant I3 (docs/invariants.md)
TEST_F(PgStoreTest, FailedStatementLeavesThePoolClean) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://x.org"}));
  for (int i = 0; i < 20; ++i) {
    auto again = store->AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://x.org"});
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  }
  ASSERT_TRUE(store->AddAccount({"other", core::AccountKind::kRehearsal, {}, "https://x.org"}));
  auto accounts = store->ListAccounts();
  ASSERT_TRUE(accounts);
  EXPECT_EQ(accounts->size(), 2u);
}

// Runs without a server: the password in a URL never reaches an error message.
// Invariant I7 (docs/invariants.md)
TEST(PgConnectionTest, PasswordNeverAppearsInErrors) {
  auto opened =
      OpenStore("postgresql://tginvite:s3cretPassw0rd@127.0.0.1:1/fleet", OpenMode::kCreate);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(opened.error().message.find("s3cretPassw0rd"), std::string::npos)
      << opened.error().message;
  EXPECT_NE(opened.error().message.find("postgresql"), std::string::npos);
}

TEST(PgConnectionTest, PlaceholdersBecomeNumberedOutsideQuotes) {
  EXPECT_EQ(PgConnection::TranslatePlaceholders("SELECT ?, '?', ?3, ?"), "SELECT $1, '?', $3, $4");
  EXPECT_EQ(PgConnection::TranslatePlaceholders("a = ?1 AND b = ?1 AND c = ?2"),
            "a = $1 AND b = $1 AND c = $2");
}

}  // namespace
}  // namespace tginvite::storage
