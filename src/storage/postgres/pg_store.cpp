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

void Count(ImportTotals& totals, const ImportRowResult& result) {
  switch (result.outcome) {
    case ImportOutcome::kImported:
      ++totals.imported;
      break;
    case ImportOutcome::kUpdated:
      ++totals.updated;
      break;
    case ImportOutcome::kDuplicate:
      ++totals.duplicates;
      break;
    case ImportOutcome::kConflict:
      ++totals.conflicts;
      break;
  }
  if (result.enqueue == EnqueueOutcome::kEnqueued) ++totals.enqueued;
  if (result.enqueue == EnqueueOutcome::kAwaitingStart) {
    ++totals.enqueued;
    ++totals.awaiting;
  }
  if (result.enqueue == EnqueueOutcome::kSkipped) ++totals.skipped;
}

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
  // Rows go to the server a batch at a time (pg_import.h); a batch is pulled before its
  // transaction begins, so a retried transaction imports the same rows again.
  const size_t batch_size = std::max<size_t>(options.batch_size, 1);
  std::vector<ImportRow> batch;
  batch.reserve(std::min<size_t>(batch_size, 100'000));
  bool exhausted = false;
  auto pull_batch = [&]() -> bool {
    batch.clear();
    while (!exhausted && batch.size() < batch_size) {
      std::optional<ImportRow> row = source.Next();
      if (!row) {
        exhausted = true;
        break;
      }
      batch.push_back(std::move(*row));
    }
    return !batch.empty();
  };
  ImportTotals totals;
  auto report = [&](const std::vector<ImportRowResult>& results) {
    for (size_t i = 0; i < batch.size(); ++i) {
      source.OnResult(batch[i], results[i]);
      Count(totals, results[i]);
    }
  };

  if (options.mode == ImportMode::kBatches) {
    std::vector<ImportRowResult> results;
    while (pull_batch()) {
      RETURN_IF_ERROR(Write([&](Tx& tx) -> Status {
        ASSIGN_OR_RETURN(results, ImportBatchPg(tx, batch, campaign_id, *options_.clock));
        return Ok();
      }));
      report(results);
      (void)FoldCounts();  // only keeps the deltas table small; a worker folds them otherwise
    }
    totals.committed = true;
    return totals;
  }

  // One transaction for the whole input: rows are read inside it, so it runs once.
  bool refused = false;
  TxOptions once{.attempts = 1,
                 .end = options.mode == ImportMode::kDryRun ? TxEnd::kRollback : TxEnd::kCommit};
  Status status = Write(
      [&](Tx& tx) -> Status {
        while (pull_batch()) {
          ASSIGN_OR_RETURN(std::vector<ImportRowResult> results,
                           ImportBatchPg(tx, batch, campaign_id, *options_.clock));
          report(results);
        }
        if (options.mode == ImportMode::kAllOrNothing &&
            (totals.conflicts > 0 || !source.CommitAllowed())) {
          refused = true;
          return Fail(ErrorCode::kInvalidArgument, "rejected rows: nothing imported");
        }
        return Ok();
      },
      once);
  if (!status && !refused) return status.error();
  totals.committed = status && options.mode != ImportMode::kDryRun;
  if (totals.committed) (void)FoldCounts();
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
  static const SqlDialect dialect{
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
  };
  return dialect;
}

}  // namespace tginvite::storage
