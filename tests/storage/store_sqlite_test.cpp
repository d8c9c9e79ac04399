// The storage contract on SQLite, plus what only the SQLite store does.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "fakes/fault_injecting_connection.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/store_contract.h"

namespace tginvite::storage {
namespace {

using testing::FaultInjectingConnection;
using testing::TempDir;

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
                         ::testing::Values(StoreBackend{"sqlite",
                                                        [](const TempDir& dir) {
                                                          return OpenStore(
                                                              "sqlite:" + dir.File("store.db"),
                                                              OpenMode::kCreate);
                                                        }}),
                         [](const ::testing::TestParamInfo<StoreBackend>& backend) {
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
      "VALUES (1, 1, 'w', 'sendMessage', 0, 'sent');"));
  EXPECT_FALSE((*conn)->ExecuteScript("UPDATE attempts SET outcome = 'failed'"));
  EXPECT_FALSE((*conn)->ExecuteScript("DELETE FROM attempts"));
}

// The old app's crash at the store level: the import that writes a campaign's invitation rows
// fails at COMMIT (leaving the transaction open, as SQLite BUSY does); the store goes on working
// on the same connection and the retry queues each invitation exactly once.
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

}  // namespace
}  // namespace tginvite::storage
