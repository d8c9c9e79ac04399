// What both SQL stores do with one imported contact row once their own INSERT of it has found an
// identifier taken (SQLite and PostgreSQL differ only in how they insert and learn the new id):
// who holds each identifier, whether the row conflicts with them, how it merges into its contact,
// and how a campaign enqueues the contact (skipped at once when any of its identifiers is
// suppressed, nothing when it is queued already); and the import's temporary tables, through which
// a file's rows for one contact fold before they are compared with what is stored, and results
// reach the source after the transaction. The statements mean the same on both engines.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/contact.h"
#include "core/model.h"
#include "storage/store.h"
#include "storage/transaction.h"

namespace tginvite::storage::internal {

// The campaign an import enqueues invitations for, and how it reaches its contacts (which decides
// whether a new invitation is pending or awaits the contact's start).
struct EnqueueTarget {
  int64_t campaign_id = 0;
  core::CampaignReach reach = core::CampaignReach::kDirect;
};

// The state a new invitation starts in: skipped when suppressed, awaiting_start when the
// campaign waits for the contact (start-link, or both and no user id), pending otherwise.
core::InvitationState FirstState(const EnqueueTarget& target, bool suppressed, bool has_user_id);

// Which rows of an input are the first to have each of their identifiers (telegram_user_id,
// username, phone): a Bloom filter of the identifiers seen so far, three bits each in 2^26 (8 MiB
// whatever the input's size). It may take an identifier for seen when it is not (the caller then
// treats a new row as one that may share an identifier, which is merely slower), never the
// reverse. At a million rows it takes about one row in a thousand for seen. A bulk load into an
// empty contacts table inserts a row that is a first sighting as it comes: nothing before it can
// have made a contact it belongs to.
class FirstSightings {
 public:
  FirstSightings();

  // Whether no earlier row had any of `contact`'s identifiers; remembers them.
  bool FirstSighting(const core::ContactRecord& contact);

 private:
  static constexpr int kBits = 26;
  bool TestAndSet(uint64_t key);

  std::unique_ptr<uint64_t[]> bits_;
};

// What upserting one contact row did: its outcome, the contact's id (0 for a conflict) and the
// contact as stored afterwards.
struct UpsertResult {
  ImportRowResult result;
  int64_t contact_id = 0;
  core::ContactRecord merged;
};

// --- the import's temporary tables ---------------------------------------------------------------
//
// An import runs in one transaction and keeps two temporary tables on its connection:
//  - tginvite_import_results: every row of the input with its result, `pos` its index in the
//    input. Each engine creates it (kResultColumns, in this order) and fills it its own way;
//    ReplayResults hands the rows to the source once the transaction is over.
//  - tginvite_import_touched: each contact stored before the import (id <= `stored_through`) as it
//    was before the import first changed it (MergeIntoStoredContact), for FoldUnchanged.
// Both are dropped by DropImportTables; created inside the transaction, they go with a rollback.

// The results table's columns: pos, line, telegram_user_id, username, phone, first_name,
// last_name, outcome, enqueue, conflict, contact_id. outcome NULL: not imported yet.
inline constexpr std::string_view kResultColumns =
    "pos, line, telegram_user_id, username, phone, first_name, last_name, outcome, enqueue, "
    "conflict, contact_id";

// Creates tginvite_import_touched (empty).
Status CreateTouchedTable(Tx& tx);

// The results table's values for one row, its result (none yet: std::nullopt) and the contact
// it went to (0: none), in kResultColumns order.
std::vector<Value> ResultValues(int64_t pos, const ImportRow& row,
                                const std::optional<ImportRowResult>& result, int64_t contact_id);

// Sets the result of the row at `pos`, which went to contact `contact_id` (0: none).
Status SetResult(Tx& tx, int64_t pos, const ImportRowResult& result, int64_t contact_id);

// For a row whose INSERT ... ON CONFLICT DO NOTHING inserted nothing: a conflict when its
// identifiers belong to different contacts (or its new user id would go to a contact that has
// another), otherwise the row merged into the contact holding them (updated when anything
// changed, stamped `now`), or a duplicate. Before it first changes a contact with an id up to
// `stored_through` it records the contact as it was (tginvite_import_touched). kAborted when no
// holder is found (the contact changed under the import: retry).
Result<UpsertResult> MergeIntoStoredContact(Tx& tx, const core::ContactRecord& row, int64_t now,
                                            int64_t stored_through);

// The row's result once its contact is upserted: with a campaign and unless the row is a
// conflict, the contact is enqueued too (ImportRowResult::enqueue says how).
Result<UpsertResult> EnqueueUpserted(Tx& tx, UpsertResult upserted,
                                     const std::optional<EnqueueTarget>& campaign, int64_t now);

// The file's rows for one contact fold before they meet what is stored: rows are applied in
// input order, and every contact stored before the import that its rows changed and changed back
// (so that it ends exactly as it was stored) gets its updated_at back, and every row reported
// `updated` for it becomes a duplicate. So a file with two differing rows for one contact reports
// the first as the row-by-row import would on the first import (imported, or updated when it
// changed a stored contact) and both as duplicates on every later import, which changes nothing.
// A contact the import changes for good keeps the row-by-row report: each row that changed it on
// the way is `updated`. (A file that moves a username or phone from one contact to another is
// the exception: its second import finds the identifier with its new holder.) Returns how many
// rows it turned into duplicates.
Result<int64_t> FoldUnchanged(Tx& tx);

// Up to `limit` rows of the results table after index `after` that have no result yet, in input
// order, each with its index.
Result<std::vector<std::pair<int64_t, ImportRow>>> RowsWithoutResult(Session& session,
                                                                     int64_t after, int64_t limit);

// How many rows of the results table are conflicts.
Result<int64_t> CountConflicts(Session& session);

// Calls source.OnResult for every row of the results table in input order and counts them into
// `totals`. Reads a chunk of rows at a time, so that memory stays flat.
Status ReplayResults(Session& session, ImportSource& source, ImportTotals& totals);

// Drops both temporary tables.
Status DropImportTables(Session& session);

// Adds one row's result to `totals`.
void CountResult(ImportTotals& totals, const ImportRowResult& result);

}  // namespace tginvite::storage::internal
