#include "storage/postgres/pg_store.h"

#include <filesystem>
#include <map>
#include <regex>

#include "core/message_template.h"
#include "storage/postgres/pg_import.h"
#include "storage/postgres/pg_schema.h"
#include "storage/sql_rows.h"
#include "storage/sql_web_rows.h"

namespace tginvite::storage {
namespace {

// Advisory lock keys ("tgicount" in ASCII): one process at a time folds the count deltas.
constexpr int64_t kFoldLock = 0x746769636f756e74;

}  // namespace

Result<PgPool::Lease> PgPool::Acquire() {
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + acquire_timeout_;
  for (;;) {
    while (!idle_.empty()) {
      std::unique_ptr<PgConnection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (!conn->IsBroken()) return Lease(*this, std::move(conn));
      --open_;  // the server went away while it was idle
    }
    if (open_ < max_size_) break;
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= max_size_) {
      return Fail(ErrorCode::kUnavailable,
                  "postgresql: all {} connections of this process are busy", max_size_);
    }
  }
  ++open_;
  lock.unlock();
  Result<std::unique_ptr<PgConnection>> opened = PgConnection::Open(url_);
  if (!opened) {
    std::lock_guard relock(mu_);
    --open_;
    returned_.notify_one();
    return opened.error();
  }
  return Lease(*this, std::move(opened).value());
}

void PgPool::Release(std::unique_ptr<PgConnection> conn) {
  // Returned clean or not at all: a connection that is broken or (against every rule) still holds
  // a transaction is closed here.
  const bool clean = !conn->IsBroken() && !conn->InTransaction();
  if (!clean) conn.reset();
  std::lock_guard lock(mu_);
  if (clean) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  returned_.notify_one();
}

void PgPool::CloseIdle() {
  std::lock_guard lock(mu_);
  open_ -= idle_.size();
  idle_.clear();
}

Result<std::unique_ptr<PgStore>> PgStore::Open(PgStoreOptions options) {
  std::unique_ptr<PgStore> store(new PgStore(std::move(options)));
  ASSIGN_OR_RETURN(PgPool::Lease conn, store->pool_.Acquire());
  if (store->options_.mode == OpenMode::kExisting) {
    ASSIGN_OR_RETURN(bool has_schema, PgHasSchema(*conn));
    if (!has_schema) {
      return Fail(ErrorCode::kNotFound,
                  "the database has no tginvite schema yet (run 'tginvite init' or 'tginvite "
                  "migrate')");
    }
  }
  RETURN_IF_ERROR(MigratePg(*conn));
  return store;
}

PgStore::~PgStore() {
  pool_.CloseIdle();
  if (options_.after_close) options_.after_close();
}

Status PgStore::Write(const UnitOfWork& body, TxOptions tx_options, Durability durability) {
  ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Acquire());
  if (durability == Durability::kConfigured) return WithTransaction(*conn, body, tx_options);
  return WithTransaction(
      *conn,
      [&body](Tx& tx) -> Status {
        // Durable even on a server whose default is synchronous_commit = off.
        RETURN_IF_ERROR(tx.Execute("SET LOCAL synchronous_commit = on"));
        return body(tx);
      },
      tx_options);
}

Status PgStore::Read(const std::function<Status(Session&)>& body) {
  ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Acquire());
  Session session(*conn);
  return body(session);
}

Status PgStore::FoldCounts() {
  return Write([](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t locked,
                     tx.QueryInt("SELECT pg_try_advisory_xact_lock(?::bigint)", {kFoldLock}));
    if (locked == 0) return Ok();  // another process is folding right now
    RETURN_IF_ERROR(tx.Execute(
        "WITH moved AS (DELETE FROM invitation_count_deltas RETURNING campaign_id, state, delta) "
        "INSERT INTO invitation_counts (campaign_id, state, n) "
        "SELECT campaign_id, state, SUM(delta) FROM moved GROUP BY campaign_id, state "
        "ON CONFLICT (campaign_id, state) DO UPDATE SET n = invitation_counts.n + excluded.n"));
    RETURN_IF_ERROR(tx.Execute(
        "WITH moved AS (DELETE FROM invitation_minute_deltas RETURNING campaign_id, minute, "
        "state, n) INSERT INTO invitation_minutes (campaign_id, minute, state, n) "
        "SELECT campaign_id, minute, state, SUM(n) FROM moved GROUP BY 1, 2, 3 "
        "ON CONFLICT (campaign_id, minute, state) DO UPDATE SET n = invitation_minutes.n + "
        "excluded.n"));
    return Ok();
  });
}

Result<ImportTotals> PgStore::ImportContacts(ImportSource& source, const ImportOptions& options) {
  std::optional<internal::EnqueueTarget> campaign_id;
  if (options.campaign) {
    ASSIGN_OR_RETURN(CampaignSummary target, FindCampaign(*options.campaign));
    if (target.campaign.state == core::CampaignState::kCancelled) {
      return Fail(ErrorCode::kInvalidArgument, "campaign {} is cancelled; nothing can be added",
                  *options.campaign);
    }
    campaign_id = internal::EnqueueTarget{target.campaign.id, target.campaign.reach};
  }
  ASSIGN_OR_RETURN(ImportTotals totals, ImportInOneTransaction(source, options, campaign_id));
  if (totals.committed) (void)FoldCounts();  // after the import's connection went back
  return totals;
}

Result<ImportTotals> PgStore::ImportInOneTransaction(
    ImportSource& source, const ImportOptions& options,
    const std::optional<internal::EnqueueTarget>& campaign_id) {
  // The whole input in one transaction (store.h's ImportMode), rows going to the server a batch
  // at a time (pg_import.h); results wait in a temporary table of the connection (they outlive
  // the commit) and reach the source from there, in input order.
  const size_t batch_size = std::max<size_t>(options.batch_size, 1);
  ImportTotals totals;
  ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Acquire());
  bool ran = false, refused = false, replayed = false;
  TxOptions tx_options{.end = options.mode == ImportMode::kDryRun ? TxEnd::kRollback
                                                                  : TxEnd::kCommit};
  Status status = WithTransaction(
      *conn,
      [&](Tx& tx) -> Status {
        // The source cannot be read twice: a retry after the first rows were read fails.
        if (ran) {
          return Fail(ErrorCode::kUnavailable,
                      "the import was interrupted after it read rows; run it again");
        }
        ran = true;
        RETURN_IF_ERROR(LoadAllPg(tx, source, campaign_id, *options_.clock, batch_size));
        RETURN_IF_ERROR(internal::FoldUnchanged(tx));
        if (options.mode == ImportMode::kAllOrNothing) {
          ASSIGN_OR_RETURN(int64_t conflicts, internal::CountConflicts(tx));
          refused = conflicts > 0 || !source.CommitAllowed();
        }
        if (options.mode == ImportMode::kDryRun || refused) {
          // The results table goes with the rollback: the source hears of every row first.
          replayed = true;
          RETURN_IF_ERROR(internal::ReplayResults(tx, source, totals));
        }
        if (refused) return Fail(ErrorCode::kInvalidArgument, "rejected rows: nothing imported");
        return Ok();
      },
      tx_options);
  if (!status && !refused) return status.error();
  if (status && !replayed) {
    // Committed: the results table is still on this connection.
    Session session(*conn);
    Status reported = internal::ReplayResults(session, source, totals);
    // A connection must go back to the pool with no table of ours on it.
    if (!internal::DropImportTables(session)) conn->MarkBroken();
    RETURN_IF_ERROR_CTX(reported, "imported, but the results cannot be read back");
  }
  totals.committed = status && options.mode != ImportMode::kDryRun;
  return totals;
}

// The folded counts plus the deltas not folded yet (FoldCounts).
Result<core::StateCounts> PgStore::StateCountsOf(Session& session, int64_t campaign_id) {
  core::StateCounts counts;
  RETURN_IF_ERROR(session.ForEach(
      "SELECT state, SUM(n) FROM (SELECT state, n FROM invitation_counts WHERE campaign_id = ?1 "
      "UNION ALL SELECT state, delta FROM invitation_count_deltas WHERE campaign_id = ?1) c "
      "GROUP BY state",
      {campaign_id}, [&counts](const Row& row) -> Status {
        if (auto state = core::ParseInvitationState(row.Text(0))) counts[*state] = row.Int(1);
        return Ok();
      }));
  return counts;
}

int PgStore::schema_version() const { return PgMigrations().back().version; }

const SqlDialect& PgStore::Dialect() const {
  static const SqlDialect kDialect{
      .at_least = "~>=~",
      .below = "~<~",
      .prefix_end = "\xf4\x8f\xbf\xbf",
      .lower =
          [](std::string_view expression) {
            return fmt::format("lower(({}) COLLATE \"C\")", expression);
          },
      // Counted from the invitations (PostgreSQL keeps no per-reason counts).
      .error_counts =
          "SELECT state, COALESCE(last_error, ''), count(*) FROM invitations "
          "WHERE campaign_id = ?1 AND state IN ('failed', 'unknown', 'skipped') "
          "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 100",
      // The folded counts and the deltas not folded yet.
      .minute_counts =
          "SELECT minute, state, SUM(n) FROM (SELECT minute, state, n FROM invitation_minutes "
          "WHERE campaign_id = ?1 AND minute >= ?2 UNION ALL SELECT minute, state, n FROM "
          "invitation_minute_deltas WHERE campaign_id = ?1 AND minute >= ?2) m "
          "GROUP BY minute, state ORDER BY minute, state",
      .outstanding_work =
          "SELECT EXISTS (SELECT 1 FROM campaigns c WHERE c.state = 'running' AND "
          "(SELECT COALESCE(SUM(n), 0) FROM (SELECT n FROM invitation_counts "
          "WHERE campaign_id = c.id AND state IN ({0}) "
          "UNION ALL SELECT delta FROM invitation_count_deltas WHERE campaign_id = "
          "c.id AND state IN ({0})) o) > 0)",
      .delete_campaign_derived =
          "DELETE FROM invitation_counts WHERE campaign_id = ?1;"
          "DELETE FROM invitation_count_deltas WHERE campaign_id = ?1;"
          "DELETE FROM invitation_minutes WHERE campaign_id = ?1;"
          "DELETE FROM invitation_minute_deltas WHERE campaign_id = ?1",
  };
  return kDialect;
}

}  // namespace tginvite::storage
