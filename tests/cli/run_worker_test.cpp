// `tginvite run` in-process, on a store whose statements fail on request: the worker must live
// through a database error at any moment, start-up included (invariant 6).
#include <gtest/gtest.h>

#include "cli/commands.h"
#include "fakes/fault_injecting_connection.h"
#include "fakes/temp_dir.h"
#include "storage/import_rows.h"
#include "storage/sqlite/sqlite_store.h"

namespace tginvite {
namespace {

using testing::FaultInjectingConnection;

// Regression: the worker read the campaigns once before its dispatcher started, outside any retry,
// and exited with the error when that one read failed. In the fleet test a worker restarted just
// as PostgreSQL went down for its restart died with "terminating connection due to administrator
// command".
// Invariant I6 (docs/invariants.md)
TEST(RunWorkerTest, ADatabaseErrorJustAfterStartDoesNotEndTheWorker) {
  testing::TempDir dir;
  std::vector<FaultInjectingConnection*> connections;
  storage::SqliteStoreOptions options;
  options.path = dir.File("t.db");
  options.wrap_connection = [&connections](std::unique_ptr<storage::Connection> conn) {
    auto wrapped = std::make_unique<FaultInjectingConnection>(std::move(conn));
    connections.push_back(wrapped.get());
    return wrapped;
  };
  auto opened = storage::SqliteStore::Open(options);
  ASSERT_TRUE(opened) << opened.error().message;
  storage::Store& store = **opened;
  for (auto [key, value] : {std::pair{"pacing.batch_size", "0"},
                            {"pacing.delay_min", "0s"},
                            {"pacing.delay_max", "0s"}}) {
    ASSERT_TRUE(store.PutSetting(std::nullopt, key, value));
  }
  auto account =
      store.AddAccount({"demo", core::AccountKind::kRehearsal, {}, "https://api.telegram.org"});
  ASSERT_TRUE(account) << account.error().message;
  auto campaign = store.CreateCampaign(
      {"spring", "demo", "-1001", "Hi {first_name}: {link}", core::LinkMode::kPersonal, ""});
  ASSERT_TRUE(campaign) << campaign.error().message;
  std::vector<core::ContactRecord> contacts;
  for (int64_t id = 1; id <= 5; ++id) contacts.push_back(testing::Contact(id, "", "User"));
  testing::VectorSource source(testing::Rows(contacts));
  ASSERT_TRUE(store.ImportContacts(source, testing::Options("spring")));
  ASSERT_TRUE(
      store.ChangeCampaign("spring", storage::CampaignAction::kStart, core::Actor::Cli("test")));

  // The database goes away for one statement: the next read of the campaigns on any connection.
  ASSERT_FALSE(connections.empty());
  for (FaultInjectingConnection* conn : connections) {
    conn->FailNextExecuteContaining("FROM campaigns", ErrorCode::kUnavailable);
  }
  cli::RunOptions run;
  run.until_idle = true;
  run.updates_timeout = std::chrono::seconds(1);
  EXPECT_EQ(cli::RunWorker(store, run), 0);

  auto outstanding = store.HasOutstandingWork();
  ASSERT_TRUE(outstanding) << outstanding.error().message;
  EXPECT_FALSE(*outstanding) << "the worker stopped before the campaign was done";
}

}  // namespace
}  // namespace tginvite
