// Contact import on SQLite: SqliteStore::ImportContacts.
//
// The whole input is imported in one transaction on the writer connection. Every row goes into
// the temporary results table (sql_contact_import.h) with its result, and reaches the source
// from there once the transaction is over, in input order.
//
// Into an empty contacts table (the first import of a large file) the rows are loaded in bulk:
//  - the table's secondary indexes (its three UNIQUE identifiers and the name searches) are
//    dropped inside the transaction, and rebuilt by sorting once the rows are in (each built
//    once, instead of a million inserts in random key order);
//  - a row none of whose identifiers (telegram_user_id, username, phone) an earlier row of the
//    input had is a new contact whatever the rows around it are, so it needs no lookup: all such
//    rows go into contacts by one INSERT ... SELECT from the results table once the input is
//    read (with a campaign, each as it comes, and is enqueued at once); a filter of the
//    identifiers seen (internal::FirstSightings) tells them apart, with a few false alarms and
//    never a miss;
//  - every other row is put aside and imported row by row, in input order, once the indexes are
//    back. None of them shares an identifier with a row inserted in bulk after it, so running the
//    bulk rows first changes none of their results.
// Into a table that holds contacts already, every row is imported row by row as it comes.
// Both ways give every row the result the row-by-row import gives it, and end with FoldUnchanged.
// A failure anywhere rolls back everything, the dropped indexes included.
#include <memory>
#include <string>
#include <vector>

#include "storage/sql_contact_import.h"
#include "storage/sqlite/sqlite_store.h"

namespace tginvite::storage {
namespace {

constexpr std::string_view kCreateResults =
    "DROP TABLE IF EXISTS temp.tginvite_import_results; "
    "CREATE TEMP TABLE tginvite_import_results (pos INTEGER PRIMARY KEY, line INTEGER NOT NULL, "
    "telegram_user_id INTEGER, username TEXT, phone TEXT, first_name TEXT NOT NULL, "
    "last_name TEXT NOT NULL, outcome INTEGER, enqueue INTEGER NOT NULL, conflict TEXT, "
    "contact_id INTEGER)";

// A bulk load appends to the contacts table and rebuilds its indexes by sorting, in memory up to
// the page cache's size: a small cache keeps the import's memory down and, measured, is no
// slower (the writer's large cache is for inserts into indexes in random key order).
constexpr std::string_view kBulkCache = "PRAGMA cache_size = -4096";

// Upserts one contact row; see ImportOutcome for the cases.
Result<internal::UpsertResult> UpsertContact(Tx& tx, const core::ContactRecord& row, int64_t now,
                                             int64_t stored_through) {
  internal::UpsertResult out;
  // No RETURNING here: SQLite builds a temporary b-tree for it on every row.
  ASSIGN_OR_RETURN(
      int64_t inserted,
      tx.Execute("INSERT INTO contacts (telegram_user_id, username, phone, first_name, "
                 "last_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                 "ON CONFLICT DO NOTHING",
                 {NullIfNone(row.telegram_user_id), NullIfEmpty(row.username),
                  NullIfEmpty(row.phone), row.first_name, row.last_name, now, now}));
  if (inserted == 1) {
    ASSIGN_OR_RETURN(out.contact_id, tx.QueryInt("SELECT last_insert_rowid()"));
    out.merged = row;
    out.result.outcome = ImportOutcome::kImported;
    return out;
  }
  return internal::MergeIntoStoredContact(tx, row, now, stored_through);
}

// The contacts table's indexes that SQLite lets a transaction drop (all but the primary key), with
// the statements that create them again.
struct ContactIndex {
  std::string name;
  std::string sql;
};

Result<std::vector<ContactIndex>> ContactIndexes(Tx& tx) {
  std::vector<ContactIndex> indexes;
  RETURN_IF_ERROR(tx.ForEach(
      "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'contacts' "
      "AND sql IS NOT NULL ORDER BY name",
      {}, [&indexes](const Row& row) -> Status {
        indexes.push_back({row.Text(0), row.Text(1)});
        return Ok();
      }));
  return indexes;
}

}  // namespace

Result<ImportTotals> SqliteStore::ImportContacts(ImportSource& source,
                                                 const ImportOptions& options) {
  std::optional<internal::EnqueueTarget> campaign;
  if (options.campaign) {
    ASSIGN_OR_RETURN(CampaignSummary target, FindCampaign(*options.campaign));
    if (target.campaign.state == core::CampaignState::kCancelled) {
      return Fail(ErrorCode::kInvalidArgument, "campaign {} is cancelled; nothing can be added",
                  *options.campaign);
    }
    campaign = internal::EnqueueTarget{target.campaign.id, target.campaign.reach};
  }

  // Imports one row the row-by-row way.
  auto import_row = [&](Tx& tx, const ImportRow& row,
                        int64_t stored_through) -> Result<internal::UpsertResult> {
    const int64_t now = NowMillis();
    ASSIGN_OR_RETURN(internal::UpsertResult upserted,
                     UpsertContact(tx, row.contact, now, stored_through));
    return internal::EnqueueUpserted(tx, std::move(upserted), campaign, now);
  };

  // Puts every row of the source into the results table with its result.
  auto load = [&](Tx& tx) -> Status {
    RETURN_IF_ERROR(tx.ExecuteScript(kCreateResults));
    RETURN_IF_ERROR(internal::CreateTouchedTable(tx));
    ASSIGN_OR_RETURN(int64_t stored_through,
                     tx.QueryInt("SELECT COALESCE(MAX(id), 0) FROM contacts"));
    const bool bulk = stored_through == 0;
    std::vector<ContactIndex> indexes;
    std::unique_ptr<internal::FirstSightings> sightings;
    if (bulk) {
      ASSIGN_OR_RETURN(indexes, ContactIndexes(tx));
      for (const ContactIndex& index : indexes) {
        RETURN_IF_ERROR(tx.ExecuteScript(fmt::format("DROP INDEX \"{}\"", index.name)));
      }
      sightings = std::make_unique<internal::FirstSightings>();
      RETURN_IF_ERROR(tx.ExecuteScript(kBulkCache));  // the writer's own comes back at the end
    }
    const std::string insert_result = fmt::format(
        "INSERT INTO tginvite_import_results ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?)",
        internal::kResultColumns);
    auto stage = [&](int64_t pos, const ImportRow& row,
                     const std::optional<internal::UpsertResult>& upserted) -> Status {
      std::vector<Value> values = internal::ResultValues(
          pos, row, upserted ? std::optional<ImportRowResult>(upserted->result) : std::nullopt,
          upserted ? upserted->contact_id : 0);
      RETURN_IF_ERROR(tx.connection().Execute(insert_result, values));
      return Ok();
    };

    int64_t pos = 0;
    int64_t next_id = 0;
    bool deferred = false;
    for (; std::optional<ImportRow> row = source.Next(); ++pos) {
      if (!bulk) {
        ASSIGN_OR_RETURN(internal::UpsertResult upserted, import_row(tx, *row, stored_through));
        RETURN_IF_ERROR(stage(pos, *row, upserted));
        continue;
      }
      if (!sightings->FirstSighting(row->contact)) {
        deferred = true;
        RETURN_IF_ERROR(stage(pos, *row, std::nullopt));
        continue;
      }
      // A new contact: nothing before it had any of its identifiers.
      const core::ContactRecord& c = row->contact;
      const int64_t now = NowMillis();
      internal::UpsertResult upserted;
      upserted.contact_id = ++next_id;
      upserted.result.outcome = ImportOutcome::kImported;
      if (!campaign) {
        // Written from the results table by one statement below.
        RETURN_IF_ERROR(stage(pos, *row, upserted));
        continue;
      }
      RETURN_IF_ERROR(tx.Execute(
          "INSERT INTO contacts (id, telegram_user_id, username, phone, first_name, last_name, "
          "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          {upserted.contact_id, NullIfNone(c.telegram_user_id), NullIfEmpty(c.username),
           NullIfEmpty(c.phone), c.first_name, c.last_name, now, now}));
      upserted.merged = c;
      ASSIGN_OR_RETURN(upserted, internal::EnqueueUpserted(tx, std::move(upserted), campaign, now));
      RETURN_IF_ERROR(stage(pos, *row, upserted));
    }
    if (!bulk) return Ok();

    if (!campaign) {
      // The new contacts, the only rows with a contact so far, in input order.
      const int64_t now = NowMillis();
      RETURN_IF_ERROR(tx.Execute(
          "INSERT INTO contacts (id, telegram_user_id, username, phone, first_name, last_name, "
          "created_at, updated_at) SELECT contact_id, telegram_user_id, username, phone, "
          "first_name, last_name, ?, ? FROM tginvite_import_results "
          "WHERE contact_id IS NOT NULL ORDER BY pos",
          {now, now}));
    }
    sightings.reset();
    for (const ContactIndex& index : indexes) RETURN_IF_ERROR(tx.ExecuteScript(index.sql));
    // The rows put aside, in input order, a chunk at a time.
    for (int64_t after = -1; deferred;) {
      ASSIGN_OR_RETURN(auto chunk, internal::RowsWithoutResult(tx, after, 512));
      if (chunk.empty()) break;
      for (const auto& [at, row] : chunk) {
        ASSIGN_OR_RETURN(internal::UpsertResult upserted, import_row(tx, row, stored_through));
        RETURN_IF_ERROR(internal::SetResult(tx, at, upserted.result, upserted.contact_id));
      }
      after = chunk.back().first;
    }
    return Ok();
  };

  ImportTotals totals;
  CheckpointPause pause(*this);
  bool ran = false, refused = false, replayed = false;
  TxOptions tx_options{.end =
                           options.mode == ImportMode::kDryRun ? TxEnd::kRollback : TxEnd::kCommit};
  Status status = Write(
      [&](Tx& tx) -> Status {
        // The source cannot be read twice: a retry after the first rows were read fails.
        if (ran) {
          return Fail(ErrorCode::kUnavailable,
                      "the import was interrupted after it read rows; run it again");
        }
        ran = true;
        RETURN_IF_ERROR(load(tx));
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
  std::lock_guard lock(writer_mu_);
  // Not part of the transaction: back to the writer's cache however the import ended.
  (void)writer_->ExecuteScript(fmt::format("PRAGMA cache_size = -{}", kWriterCacheKib));
  if (!status && !refused) return status.error();
  if (status && !replayed) {
    // Committed: the results table is still on the writer connection.
    Session session(*writer_);
    Status reported = internal::ReplayResults(session, source, totals);
    (void)internal::DropImportTables(session);  // if this fails, the next import drops them
    RETURN_IF_ERROR_CTX(reported, "imported, but the results cannot be read back");
  }
  totals.committed = status && options.mode != ImportMode::kDryRun;
  return totals;
}

}  // namespace tginvite::storage
