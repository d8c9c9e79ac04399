// The regression tests behind invariant 3 (no stuck transactions): the old app died because one
// failed write left its shared session unusable, and every later query failed with it.
#include "storage/transaction.h"

#include <gtest/gtest.h>

#include "fakes/fault_injecting_connection.h"
#include "fakes/temp_dir.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/sqlite_connection.h"

namespace tginvite::storage {
namespace {

using testing::FaultInjectingConnection;
using testing::TempDir;

std::unique_ptr<SqliteConnection> OpenFile(const TempDir& dir) {
  auto conn = SqliteConnection::Open(dir.File("t.db"), SqliteOptions{});
  EXPECT_TRUE(conn) << conn.error().message;
  return std::move(conn).value();
}

int64_t Count(Connection& conn, std::string_view table) {
  Session session(conn);
  auto n = session.QueryInt(fmt::format("SELECT COUNT(*) FROM {}", table));
  EXPECT_TRUE(n) << n.error().message;
  return n ? *n : -1;
}

UnitOfWork InsertValue(int64_t v) {
  return [v](Tx& tx) -> Status {
    RETURN_IF_ERROR(tx.Execute("INSERT INTO t (x) VALUES (?)", {v}));
    return Ok();
  };
}

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    real_ = OpenFile(dir_);
    ASSERT_TRUE(real_->ExecuteScript("CREATE TABLE t (x INTEGER PRIMARY KEY)"));
  }

  TempDir dir_;
  std::unique_ptr<SqliteConnection> real_;
};

// (a) A COMMIT that fails and leaves the transaction open is rolled back, and the next unit of
// work succeeds on the same connection.
// Invariant I3 (docs/invariants.md)
TEST_F(TransactionTest, FailedCommitThatLeavesTransactionOpenIsRolledBack) {
  FaultInjectingConnection conn(*real_);
  conn.FailNextCommit(ErrorCode::kAborted);

  Status first = WithTransaction(conn, InsertValue(1), TxOptions{.attempts = 1});
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, ErrorCode::kAborted);
  EXPECT_FALSE(real_->InTransaction()) << "the failed COMMIT left a transaction open";

  Status second = WithTransaction(conn, InsertValue(2));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(Count(*real_, "t"), 1);
  auto only = Session(*real_).QueryInt("SELECT x FROM t");
  ASSERT_TRUE(only);
  EXPECT_EQ(*only, 2);
}

// A failed COMMIT that is kAborted (busy) is retried as a whole unit of work: exactly one row.
// Invariant I3 (docs/invariants.md)
TEST_F(TransactionTest, AbortedCommitRetriesTheWholeUnitOnce) {
  FaultInjectingConnection conn(*real_);
  conn.FailNextCommit(ErrorCode::kAborted);
  int runs = 0;
  Status status = WithTransaction(conn, [&runs](Tx& tx) -> Status {
    ++runs;
    RETURN_IF_ERROR(tx.Execute("INSERT INTO t (x) VALUES (7)"));
    return Ok();
  });
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(conn.commits(), 2);
  EXPECT_EQ(Count(*real_, "t"), 1);
}

// (c) A constraint violation inside a unit of work rolls it back and the connection stays usable.
// Invariant I3 (docs/invariants.md)
TEST_F(TransactionTest, ConstraintViolationRollsBackAndConnectionStaysUsable) {
  Status failed = WithTransaction(*real_, [](Tx& tx) -> Status {
    RETURN_IF_ERROR(tx.Execute("INSERT INTO t (x) VALUES (1)"));
    RETURN_IF_ERROR(tx.Execute("INSERT INTO t (x) VALUES (1)"));  // PRIMARY KEY violation
    return Ok();
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kAlreadyExists);
  EXPECT_FALSE(real_->InTransaction());
  EXPECT_EQ(Count(*real_, "t"), 0) << "the first insert of the failed unit was kept";

  ASSERT_TRUE(WithTransaction(*real_, InsertValue(1)));
  EXPECT_EQ(Count(*real_, "t"), 1);
}

// (c) The same when the constraint fails at COMMIT: SQLite checks deferred foreign keys at COMMIT,
// fails it, and leaves the transaction open. No fault injection: this is the engine's own
// behaviour.
// Invariant I3 (docs/invariants.md)
TEST_F(TransactionTest, DeferredConstraintFailingAtCommitIsRolledBack) {
  ASSERT_TRUE(
      real_->ExecuteScript("PRAGMA foreign_keys = ON;"
                           "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
                           "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER "
                           "REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);"));
  Status failed = WithTransaction(*real_, [](Tx& tx) -> Status {
    RETURN_IF_ERROR(tx.Execute("INSERT INTO child (id, parent_id) VALUES (1, 42)"));
    return Ok();
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(real_->InTransaction()) << "COMMIT failed and the transaction stayed open";

  Status next = WithTransaction(*real_, [](Tx& tx) -> Status {
    RETURN_IF_ERROR(tx.Execute("INSERT INTO parent (id) VALUES (42)"));
    RETURN_IF_ERROR(tx.Execute("INSERT INTO child (id, parent_id) VALUES (2, 42)"));
    return Ok();
  });
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(Count(*real_, "child"), 1);
}

// Invariant I3 (docs/invariants.md)
TEST_F(TransactionTest, ErrorFromUnitOfWorkRollsBackAndIsReturned) {
  Status failed = WithTransaction(*real_, [](Tx& tx) -> Status {
    RETURN_IF_ERROR(tx.Execute("INSERT INTO t (x) VALUES (5)"));
    return Fail(ErrorCode::kUnavailable, "telegram: connection reset");
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(failed.error().message, "telegram: connection reset");
  EXPECT_FALSE(real_->InTransaction());
  EXPECT_EQ(Count(*real_, "t"), 0);
}

// Invariant I3 (docs/invariants.md)
TEST_F(TransactionTest, RollbackEndNeverCommits) {
  Status status = WithTransaction(*real_, InsertValue(3), TxOptions{.end = TxEnd::kRollback});
  ASSERT_TRUE(status);
  EXPECT_FALSE(real_->InTransaction());
  EXPECT_EQ(Count(*real_, "t"), 0);
}

// Invariant I3 (docs/invariants.md)
TEST_F(TransactionTest, ExceptionInUnitOfWorkStillRollsBack) {
  EXPECT_THROW(WithTransaction(*real_,
                               [](Tx& tx) -> Status {
                                 RETURN_IF_ERROR(tx.Execute("INSERT INTO t (x) VALUES (9)"));
                                 throw std::runtime_error("bug");
                               }),
               std::runtime_error);
  EXPECT_FALSE(real_->InTransaction());
  EXPECT_EQ(Count(*real_, "t"), 0);
}

// When the rollback after a failed COMMIT fails too, the connection is marked broken so that its
// owner replaces it; the guard never hands back a connection it could not clean.
// Invariant I3 (docs/invariants.md)
TEST_F(TransactionTest, FailedRollbackMarksConnectionBroken) {
  FaultInjectingConnection conn(*real_);
  conn.FailNextCommit(ErrorCode::kUnavailable);
  conn.FailNextRollback(ErrorCode::kUnavailable);
  Status failed = WithTransaction(conn, InsertValue(1));
  ASSERT_FALSE(failed);
  EXPECT_TRUE(conn.IsBroken());
  Status refused = WithTransaction(conn, InsertValue(2));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
}

// (b) The old app's crash, replayed on the real schema over one shared connection: an error
// strikes between writing the invitation row and committing (here the COMMIT itself fails, as
// SQLite's does when busy); then the failure is recorded for the same contact; then a setting is
// read and the pending invitations are counted. All succeed, and exactly one invitation row
// exists for the pair.
// Invariant I3 (docs/invariants.md)
TEST(OldAppCrashTest, ErrorAfterInvitationRowThenFailureThenSettingsReadAllSucceed) {
  TempDir dir;
  std::unique_ptr<SqliteConnection> real = OpenFile(dir);
  ASSERT_TRUE(MigrateSqlite(*real));
  FaultInjectingConnection conn(*real);
  ASSERT_TRUE(WithTransaction(conn, [](Tx& tx) -> Status {
    RETURN_IF_ERROR(
        tx.Execute("INSERT INTO accounts (id, name, kind, api_base, created_at) "
                   "VALUES (1, 'demo', 'rehearsal', 'https://api.telegram.org', 0)"));
    RETURN_IF_ERROR(tx.Execute(
        "INSERT INTO campaigns (id, name, account_id, chat, template, link_mode, created_at, "
        "updated_at) VALUES (1, 'spring', 1, '-100123', 'hi {link}', 'personal', 0, 0)"));
    RETURN_IF_ERROR(
        tx.Execute("INSERT INTO contacts (id, telegram_user_id, created_at, updated_at) VALUES (1, "
                   "42, 0, 0)"));
    RETURN_IF_ERROR(tx.Execute(
        "INSERT INTO settings (scope, key, value, updated_at) VALUES (0, 'pacing.batch_size', "
        "'7', 0)"));
    return Ok();
  }));

  // 1. The invitation row is written, then the unit of work fails before its COMMIT lands.
  conn.FailNextCommit(ErrorCode::kUnavailable);
  Status sent = WithTransaction(conn, [](Tx& tx) -> Status {
    RETURN_IF_ERROR(tx.Execute(
        "INSERT INTO invitations (campaign_id, contact_id, state, created_at, updated_at) "
        "VALUES (1, 1, 'sent', 0, 0)"));
    return Ok();
  });
  ASSERT_FALSE(sent);

  // 2. The failure is recorded for the same contact. The old app inserted a second log row here
  //    and hit its UNIQUE constraint; an upsert keyed on (campaign, contact) cannot.
  Status recorded = WithTransaction(conn, [](Tx& tx) -> Status {
    RETURN_IF_ERROR(tx.Execute(
        "INSERT INTO invitations (campaign_id, contact_id, state, last_error, created_at, "
        "updated_at) VALUES (1, 1, 'pending', 'telegram: connection reset', 0, 0) "
        "ON CONFLICT (campaign_id, contact_id) DO UPDATE SET last_error = excluded.last_error"));
    return Ok();
  });
  ASSERT_TRUE(recorded) << recorded.error().message;

  // The old app's exact second write (a plain INSERT for the same pair) fails cleanly, and does
  // not poison the connection.
  Status duplicate = WithTransaction(conn, [](Tx& tx) -> Status {
    RETURN_IF_ERROR(tx.Execute(
        "INSERT INTO invitations (campaign_id, contact_id, state, created_at, updated_at) "
        "VALUES (1, 1, 'failed', 0, 0)"));
    return Ok();
  });
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, ErrorCode::kAlreadyExists);

  // 3. A settings read and a pending count, on the same connection.
  Session session(conn);
  auto batch_size =
      session.QueryOne("SELECT value FROM settings WHERE scope = 0 AND key = 'pacing.batch_size'");
  ASSERT_TRUE(batch_size) << batch_size.error().message;
  ASSERT_TRUE(batch_size->has_value());
  EXPECT_EQ((*batch_size)->Text(0), "7");
  auto pending = session.QueryInt(
      "SELECT n FROM invitation_counts WHERE campaign_id = 1 AND state = 'pending'");
  ASSERT_TRUE(pending) << pending.error().message;
  EXPECT_EQ(*pending, 1);

  auto rows =
      session.QueryInt("SELECT COUNT(*) FROM invitations WHERE campaign_id = 1 AND contact_id = 1");
  ASSERT_TRUE(rows);
  EXPECT_EQ(*rows, 1);
  auto state = session.QueryOne("SELECT state, last_error FROM invitations");
  ASSERT_TRUE(state && state->has_value());
  EXPECT_EQ((*state)->Text(0), "pending");
  EXPECT_EQ((*state)->Text(1), "telegram: connection reset");
}

}  // namespace
}  // namespace tginvite::storage
