// Contact import on PostgreSQL, one batch at a time inside the caller's transaction (PgStore's
// ImportContacts drives it; the tests call it directly to compare the two ways of importing).
//
// ImportBatchPg gives every row of a batch exactly the result ImportRowPg would give it if the
// batch's rows were imported one after another in input order, but writes most rows with COPY and
// one set-based statement:
//  - the rows that share no identifier (telegram_user_id, username, phone) with another row of the
//    batch go to the server with COPY, into a temporary table that lives until the transaction
//    ends (ON COMMIT DROP, so a pooled connection goes back with no table of ours left on it);
//  - one statement inserts them with ON CONFLICT DO NOTHING, so those whose identifiers no
//    stored contact holds are written, and with a campaign enqueues what it wrote (skipped when
//    suppressed): nothing else in the batch can touch such a row, so it is a new contact whatever
//    order the rows run in;
//  - every other row (the batch's duplicates, rows that touch stored contacts, a row another
//    transaction raced to insert) goes through ImportRowPg, in input order, afterwards. None of
//    them shares an identifier with a row written by the statement, so running it first changes
//    none of their results.
// Contacts written by the statement get their ids (and invitations) before the rest of their batch.
//
// Text goes to the server as libpq sends a statement's parameters: up to the first NUL byte.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/clock.h"
#include "storage/sql_contact_import.h"
#include "storage/store.h"
#include "storage/transaction.h"

namespace tginvite::storage {

// Imports one row: upserts its contact (ImportOutcome says what happened) and, with a campaign and
// unless the row is a conflict, enqueues an invitation for it (EnqueueOutcome). Rows written are
// stamped `now`.
Result<ImportRowResult> ImportRowPg(Tx& tx, const ImportRow& row,
                                    const std::optional<internal::EnqueueTarget>& campaign_id,
                                    int64_t now);

// Imports `rows` in `tx`, which must run on a PgConnection, and returns one result per row in input
// order (see above). `clock` stamps the rows written. Any error leaves the transaction to be rolled
// back by its guard.
Result<std::vector<ImportRowResult>> ImportBatchPg(
    Tx& tx, std::span<const ImportRow> rows,
    const std::optional<internal::EnqueueTarget>& campaign_id, const core::Clock& clock);

// ImportBatchPg with each row's contact id (0 for a conflict) and, for FoldUnchanged, contacts
// with ids up to `stored_through` recorded as they were before their first change.
Result<std::vector<internal::UpsertResult>> ImportBatchPgTracked(
    Tx& tx, std::span<const ImportRow> rows,
    const std::optional<internal::EnqueueTarget>& campaign_id, const core::Clock& clock,
    int64_t stored_through);

// Imports every row of `source` in `tx` (on a PgConnection) a batch of `batch_size` at a time,
// into the import's temporary tables (sql_contact_import.h), which outlive a commit. Into an
// empty contacts table (the first import of a large file), the table's unique constraints and
// search indexes are dropped inside the transaction (which locks the table until it ends) and
// built again once the rows are in: rows that are first sightings (internal::FirstSightings)
// go in by the batch path's set-based statement as they come, the rest row by row in input
// order after the rebuild, none of them sharing an identifier with a row written before it out of
// order. Every row gets the result ImportRowPg would give it in input order.
Status LoadAllPg(Tx& tx, ImportSource& source,
                 const std::optional<internal::EnqueueTarget>& campaign_id,
                 const core::Clock& clock, size_t batch_size);

}  // namespace tginvite::storage
