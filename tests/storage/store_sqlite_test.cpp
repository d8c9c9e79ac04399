// The storage contract on SQLite, plus what only the SQLite store does.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "fakes/fault_injecting_connection.h"
#include "fakes/files.h"
#include "fakes/test_keys.h"
#include "storage/contract_helpers.h"
#include "storage/old_database.h"
#include "storage/schema_states.h"
#include "storage/secrets_contract.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/store_contract.h"

namespace tginvite::storage {
namespace {

using testing::FaultInjectingConnection;
using testing::FileBytes;
using testing::ModeOf;
using testing::TempDir;

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
                         ::testing::Values(StoreBackend{"sqlite",
                                                        [](const TempDir& dir) {
                                                          return OpenStore(
                                                              "sqlite:" + dir.File("store.db"),
                                                              testing::TestStoreOptions());
                                                        }}),
                         [](const ::testing::TestParamInfo<StoreBackend>& backend) {
                           return backend.param.name;
                         });

class SqliteSecretsDatabase final : public SecretsDatabase {
 public:
  explicit SqliteSecretsDatabase(std::string path) : path_(std::move(path)) {}
  Result<std::unique_ptr<Store>> Open(const StoreSecrets& secrets) override {
    StoreOptions options;
    options.secrets = secrets;
    return OpenStore("sqlite:" + path_, options);
  }
  Result<std::unique_ptr<Connection>> Connect() override {
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> conn,
                     SqliteConnection::Open(path_, SqliteOptions{}));
    return std::unique_ptr<Connection>(std::move(conn));
  }

 private:
  std::string path_;
};

Result<std::unique_ptr<SecretsDatabase>> MakeSqliteSecretsDatabase(const TempDir& dir) {
  return std::unique_ptr<SecretsDatabase>(new SqliteSecretsDatabase(dir.File("secrets.db")));
}

INSTANTIATE_TEST_SUITE_P(Sqlite, SecretsContractTest,
                         ::testing::Values(SecretsBackend{"sqlite", MakeSqliteSecretsDatabase}),
                         [](const ::testing::TestParamInfo<SecretsBackend>& backend) {
                           return backend.param.name;
                         });

ImportOptions ForCampaign(std::string name) {
  ImportOptions options;
  options.campaign = std::move(name);
  return options;
}

TEST(SqliteStoreTest, OpeningTwiceAppliesMigrationsOnce) {
  TempDir dir;
  std::string url = "sqlite:" + dir.File("db/nested/t.db");
  ASSERT_TRUE(OpenStore(url, OpenMode::kCreate));
  auto again = OpenStore(url, OpenMode::kExisting);
  ASSERT_TRUE(again) << again.error().message;
  auto conn = SqliteConnection::Open(dir.File("db/nested/t.db"), SqliteOptions{});
  ASSERT_TRUE(conn);
  auto versions = Session(**conn).QueryInt("SELECT COUNT(*) FROM schema_version");
  ASSERT_TRUE(versions);
  EXPECT_EQ(*versions, static_cast<int64_t>(SqliteMigrations().size()));
}

TEST(SqliteStoreTest, MissingDatabaseIsNotCreatedByOrdinaryCommands) {
  TempDir dir;
  auto opened = OpenStore("sqlite:" + dir.File("absent.db"), OpenMode::kExisting);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir.File("absent.db")));
}

TEST(SqliteStoreTest, NewerSchemaIsRefused) {
  TempDir dir;
  ASSERT_TRUE(OpenStore("sqlite:" + dir.File("t.db"), OpenMode::kCreate));
  {
    auto conn = SqliteConnection::Open(dir.File("t.db"), SqliteOptions{});
    ASSERT_TRUE(conn);
    ASSERT_TRUE((*conn)->ExecuteScript(
        "INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future', 0)"));
  }
  auto opened = OpenStore("sqlite:" + dir.File("t.db"), OpenMode::kExisting);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("newer"), std::string::npos);
}

TEST(SqliteStoreTest, UnknownUrlOptionIsRefused) {
  auto opened = OpenStore("sqlite:/tmp/x.db?journal=off", OpenMode::kCreate);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
}

TEST(SqliteStoreTest, UsesWalAndForeignKeys) {
  TempDir dir;
  ASSERT_TRUE(OpenStore("sqlite:" + dir.File("t.db"), OpenMode::kCreate));
  auto conn = SqliteConnection::Open(dir.File("t.db"), SqliteOptions{});
  ASSERT_TRUE(conn);
  auto mode = Session(**conn).QueryOne("PRAGMA journal_mode");
  ASSERT_TRUE(mode && mode->has_value());
  EXPECT_EQ((*mode)->Text(0), "wal");
  auto fk = Session(**conn).QueryInt("PRAGMA foreign_keys");
  ASSERT_TRUE(fk);
  EXPECT_EQ(*fk, 1);
}

TEST(SqliteStoreTest, SchemaAdmitsExactlyCoresStates) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("t.db"), testing::TestStoreOptions());
  ASSERT_TRUE(store) << store.error().message;
  auto conn = SqliteConnection::Open(dir.File("t.db"), SqliteOptions{});
  ASSERT_TRUE(conn) << conn.error().message;
  testing::ExpectSchemaAdmitsCoreStates(**store, **conn);
}

// Invariant I2 (docs/invariants.md)
TEST(SqliteStoreTest, AttemptsAreAppendOnly) {
  TempDir dir;
  auto conn = SqliteConnection::Open(dir.File("t.db"), SqliteOptions{});
  ASSERT_TRUE(conn);
  ASSERT_TRUE(MigrateSqlite(**conn));
  ASSERT_TRUE((*conn)->ExecuteScript(
      "INSERT INTO accounts (id, name, kind, api_base, created_at) VALUES (1, 'a', 'rehearsal', "
      "'https://x', 0);"
      "INSERT INTO campaigns (id, name, account_id, chat, template, link_mode, created_at, "
      "updated_at) VALUES (1, 'c', 1, '-1', 't', 'personal', 0, 0);"
      "INSERT INTO contacts (id, telegram_user_id, created_at, updated_at) VALUES (1, 1, 0, 0);"
      "INSERT INTO invitations (id, campaign_id, contact_id, created_at, updated_at) "
      "VALUES (1, 1, 1, 0, 0);"
      "INSERT INTO attempts (invitation_id, gen, worker, request, started_at, outcome) "
      "VALUES (1, 1, 'w', 'send', 0, 'sent');"));
  EXPECT_FALSE((*conn)->ExecuteScript("UPDATE attempts SET outcome = 'failed'"));
  EXPECT_FALSE((*conn)->ExecuteScript("DELETE FROM attempts"));
}

// Migration 11 (user accounts) over a database version 10 left: attempts renamed to request
// kinds and given their account, an unknown health text read as unauthorized, the new kinds
// admitted.
TEST(SqliteStoreTest, UserAccountsMigrationRenamesOldAttempts) {
  TempDir dir;
  auto conn = SqliteConnection::Open(dir.File("t.db"), SqliteOptions{});
  ASSERT_TRUE(conn);
  Status migrated = testing::MigrateBefore(**conn, SqliteMigrations(), 11);
  ASSERT_TRUE(migrated) << migrated.error().message;
  Status filled = testing::FillBeforeUserAccounts(**conn);
  ASSERT_TRUE(filled) << filled.error().message;
  auto store = OpenStore("sqlite:" + dir.File("t.db"), testing::TestStoreOptions());
  ASSERT_TRUE(store) << store.error().message;
  testing::ExpectUserAccountsMigrated(**store, **conn);
}

// Migration 14 (campaign changes) over a database version 13 left with a finished campaign: its
// attempts, written under the old NOT NULL column, can be detached when it is deleted, and stay
// append-only otherwise.
TEST(SqliteStoreTest, CampaignChangesMigrationLetsOldAttemptsOutliveTheirCampaign) {
  TempDir dir;
  auto conn = SqliteConnection::Open(dir.File("t.db"), SqliteOptions{});
  ASSERT_TRUE(conn);
  Status migrated = testing::MigrateBefore(**conn, SqliteMigrations(), 14);
  ASSERT_TRUE(migrated) << migrated.error().message;
  ASSERT_TRUE((*conn)->ExecuteScript(
      "INSERT INTO accounts (id, name, kind, api_base, created_at) VALUES (1, 'demo', "
      "'rehearsal', 'https://x', 0);"
      "INSERT INTO campaigns (id, name, account_id, chat, template, link_mode, state, created_at, "
      "updated_at) VALUES (1, 'old', 1, '-100123', 'Hi {link}', 'personal', 'running', 0, 0);"
      "INSERT INTO contacts (id, telegram_user_id, created_at, updated_at) VALUES (1, 7, 0, 0);"
      "INSERT INTO invitations (id, campaign_id, contact_id, state, created_at, updated_at) "
      "VALUES (1, 1, 1, 'sent', 0, 0);"
      "INSERT INTO attempts (invitation_id, gen, worker, request, started_at, outcome, "
      "account_id) VALUES (1, 1, 'w', 'send', 0, 'sent', 1);"));
  auto store = OpenStore("sqlite:" + dir.File("t.db"), testing::TestStoreOptions());
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
}

// The old app's crash at the store level: the import that writes a campaign's invitation rows
// fails at COMMIT (leaving the transaction open, as SQLite BUSY does); the store goes on working
// on the same connection and the retry queues each invitation exactly once.
// Invariant I11 (docs/invariants.md)
TEST(SqliteStoreTest, FailedCommitDuringImportLeavesStoreUsable) {
  TempDir dir;
  FaultInjectingConnection* writer = nullptr;
  SqliteStoreOptions options;
  options.path = dir.File("t.db");
  options.wrap_connection = [&writer](std::unique_ptr<Connection> conn) {
    auto wrapped = std::make_unique<FaultInjectingConnection>(std::move(conn));
    if (writer == nullptr) writer = wrapped.get();  // the first connection opened is the writer
    return wrapped;
  };
  auto store = SqliteStore::Open(options);
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_TRUE((*store)->AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://x.org"}));
  ASSERT_TRUE((*store)->CreateCampaign(
      {"spring", "demo", "-100123", "Hi {link}", core::LinkMode::kPersonal, ""}));
  ASSERT_TRUE((*store)->PutSetting(std::nullopt, "pacing.batch_size", "9"));

  class OneRow final : public ImportSource {
   public:
    std::optional<ImportRow> Next() override {
      if (done_) return std::nullopt;
      done_ = true;
      core::ContactRecord c;
      c.telegram_user_id = 42;
      return ImportRow{2, c};
    }
    void OnResult(const ImportRow&, const ImportRowResult&) override {}
    bool CommitAllowed() const override { return true; }

   private:
    bool done_ = false;
  };

  ASSERT_NE(writer, nullptr);
  writer->FailNextCommit(ErrorCode::kUnavailable);
  OneRow first;
  auto failed = (*store)->ImportContacts(first, ForCampaign("spring"));
  ASSERT_FALSE(failed);
  EXPECT_FALSE(writer->target().InTransaction());

  OneRow second;
  auto imported = (*store)->ImportContacts(second, ForCampaign("spring"));
  ASSERT_TRUE(imported) << imported.error().message;
  EXPECT_EQ(imported->enqueued, 1);
  auto settings = LoadResolvedSettings(**store, std::nullopt);
  ASSERT_TRUE(settings);
  EXPECT_EQ(settings->settings.batch_size, 9);
  auto campaign = (*store)->FindCampaign("spring");
  ASSERT_TRUE(campaign);
  EXPECT_EQ(campaign->counts[core::InvitationState::kPending], 1);
  EXPECT_EQ(campaign->counts.Total(), 1);
}

// --- secrets at rest and file modes -------------------------------------------------------------

constexpr std::string_view kToken = "123456789:AAFakeTestTokenNeverValid_abcdefghijkl";
constexpr std::string_view kSecretPart = "AAFakeTestTokenNeverValid_abcdefghijkl";

// Sets the umask for a test's scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

// Invariant I7 (docs/invariants.md)
TEST(SqliteStoreTest, NeitherTheDatabaseFileNorItsWalHoldsAToken) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("tginvite.db"), testing::TestStoreOptions());
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_TRUE((*store)->AddAccount(
      {"main", core::AccountKind::kBot, core::Secret(std::string(kToken)), "https://x.org"}));
  // The store stays open: the account is in the WAL, not yet checkpointed into the file.
  const std::string wal = FileBytes(dir.File("tginvite.db-wal"));
  ASSERT_NE(wal.find("sealed:v1:"), std::string::npos) << "the sealed token is in the WAL";
  const std::string bytes = FileBytes(dir.File("tginvite.db")) + wal;
  EXPECT_EQ(bytes.find(kToken), std::string::npos);
  EXPECT_EQ(bytes.find(kSecretPart), std::string::npos);
}

// A token written in plaintext by an older version leaves no trace in the files once sealed: the
// freed space is zeroed (secure_delete) and the WAL that held the old page is checkpointed.
// Invariant I7 (docs/invariants.md)
TEST(SqliteStoreTest, APlaintextTokenSealedLeavesNoTraceInTheFiles) {
  TempDir dir;
  const std::string path = dir.File("tginvite.db");
  ASSERT_TRUE(OpenStore("sqlite:" + path, OpenMode::kCreate));
  {
    auto conn = SqliteConnection::Open(path, SqliteOptions{});
    ASSERT_TRUE(conn);
    ASSERT_TRUE(Session(**conn).Execute(
        "INSERT INTO accounts (name, kind, bot_token, api_base, created_at) "
        "VALUES ('legacy', 'bot', ?, 'https://x.org', 0)",
        {std::string(kToken)}));
  }
  ASSERT_NE(FileBytes(path).find(kSecretPart), std::string::npos) << "the plaintext is on disk";

  auto store = OpenStore("sqlite:" + path, testing::TestStoreOptions());
  ASSERT_TRUE(store) << store.error().message;
  auto sealed = (*store)->SealSecrets(Store::SealScope::kPlaintext);
  ASSERT_TRUE(sealed) << sealed.error().message;
  EXPECT_EQ(*sealed, 1);
  const std::string bytes = FileBytes(path) + FileBytes(path + "-wal");
  EXPECT_EQ(bytes.find(kSecretPart), std::string::npos);
  EXPECT_NE(bytes.find("sealed:v1:"), std::string::npos);
  auto account = (*store)->FindAccount("legacy");
  ASSERT_TRUE(account);
  EXPECT_EQ(account->token.Reveal(), kToken) << "the token still works";
}

// Invariant I7 (docs/invariants.md)
TEST(SqliteStoreTest, TheDatabaseItsWalAndShmAndNewFoldersAreOwnerOnlyUnderUmask022) {
  ScopedUmask umask_022(022);
  TempDir dir;
  const std::string path = dir.File("data/nested/tginvite.db");
  auto store = OpenStore("sqlite:" + path, testing::TestStoreOptions());
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_TRUE((*store)->AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://x.org"}));
  ASSERT_TRUE(std::filesystem::exists(path + "-wal"));
  ASSERT_TRUE(std::filesystem::exists(path + "-shm"));
  EXPECT_EQ(ModeOf(dir.File("data")), 0700u);
  EXPECT_EQ(ModeOf(dir.File("data/nested")), 0700u);
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(ModeOf(path + "-wal"), 0600u) << "SQLite gives the WAL the database file's mode";
  EXPECT_EQ(ModeOf(path + "-shm"), 0600u);
}

// A campaign's state change and its audit event are one transaction: when the event cannot be
// written, the state does not change either. The trail is append-only.
TEST(SqliteStoreTest, AStateChangeWithoutItsEventIsNotMade) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("t.db"), OpenMode::kCreate);
  ASSERT_TRUE(store) << store.error().message;
  contract::CreateCampaign(**store);
  ASSERT_TRUE((*store)->ChangeCampaign("spring", CampaignAction::kStart, core::Actor::Cli("a")));
  auto conn = SqliteConnection::Open(dir.File("t.db"), SqliteOptions{});
  ASSERT_TRUE(conn);
  EXPECT_FALSE(Session(**conn).Execute("UPDATE campaign_events SET actor = 'cli:someone-else'"));
  ASSERT_TRUE(
      (*conn)->ExecuteScript("CREATE TRIGGER refuse_events BEFORE INSERT ON campaign_events BEGIN "
                             "SELECT RAISE(ABORT, 'no more events'); END"));

  EXPECT_FALSE((*store)->ChangeCampaign("spring", CampaignAction::kPause, core::Actor::Cli("a")));
  EXPECT_EQ((*store)->FindCampaign("spring")->campaign.state, core::CampaignState::kRunning);
  const int64_t id = (*store)->FindCampaign("spring")->campaign.id;
  EXPECT_FALSE((*store)->PauseCampaignFor(id, "the bot lost its rights"));
  EXPECT_EQ((*store)->FindCampaign("spring")->campaign.state, core::CampaignState::kRunning);
  auto events = (*store)->ListCampaignEvents("spring", {});
  ASSERT_TRUE(events);
  ASSERT_EQ(events->events.size(), 1u);
  EXPECT_EQ(events->events[0].actor, "cli:a");
}

}  // namespace
}  // namespace tginvite::storage
