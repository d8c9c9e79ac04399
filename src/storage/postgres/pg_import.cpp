#include "storage/postgres/pg_import.h"

#include <string>
#include <unordered_map>

#include "storage/postgres/pg_connection.h"
#include "storage/sql_contact_import.h"

namespace tginvite::storage {
namespace {

// Upserts one contact row; see ImportOutcome for the cases.
Result<internal::UpsertResult> UpsertContact(Tx& tx, const core::ContactRecord& row, int64_t now,
                                             int64_t stored_through) {
  internal::UpsertResult out;
  ASSIGN_OR_RETURN(
      std::optional<Row> inserted,
      tx.QueryOne("INSERT INTO contacts (telegram_user_id, username, phone, first_name, "
                  "last_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                  "ON CONFLICT DO NOTHING RETURNING id",
                  {NullIfNone(row.telegram_user_id), NullIfEmpty(row.username),
                   NullIfEmpty(row.phone), row.first_name, row.last_name, now, now}));
  if (inserted) {
    out.contact_id = inserted->Int(0);
    out.merged = row;
    out.result.outcome = ImportOutcome::kImported;
    return out;
  }
  return internal::MergeIntoStoredContact(tx, row, now, stored_through);
}

Result<internal::UpsertResult> ImportRowTracked(
    Tx& tx, const ImportRow& row, const std::optional<internal::EnqueueTarget>& campaign_id,
    int64_t now, int64_t stored_through) {
  ASSIGN_OR_RETURN(internal::UpsertResult upserted,
                   UpsertContact(tx, row.contact, now, stored_through));
  return internal::EnqueueUpserted(tx, std::move(upserted), campaign_id, now);
}

Status CreateImportTables(Tx& tx) {
  RETURN_IF_ERROR(tx.ExecuteScript(
      "DROP TABLE IF EXISTS pg_temp.tginvite_import_results; "
      "CREATE TEMP TABLE tginvite_import_results (pos BIGINT PRIMARY KEY, line BIGINT NOT NULL, "
      "telegram_user_id BIGINT, username TEXT, phone TEXT, first_name TEXT NOT NULL, "
      "last_name TEXT NOT NULL, outcome INTEGER, enqueue INTEGER NOT NULL, conflict TEXT, "
      "contact_id BIGINT)"));
  return internal::CreateTouchedTable(tx);
}

Result<PgConnection*> PgConnectionOf(Tx& tx) {
  auto* conn = dynamic_cast<PgConnection*>(&tx.connection());
  if (conn == nullptr) {
    return Fail(ErrorCode::kInternal, "import: a postgresql batch needs a postgresql connection");
  }
  return conn;
}

// --- the batch path -----------------------------------------------------------------------------

// The staging table: the batch's candidate rows (those that share no identifier with another row
// of the batch), `pos` a row's index in the batch. Created on first use in a transaction and
// emptied for every further batch of the same transaction.
constexpr std::string_view kCreateStage =
    "CREATE TEMP TABLE IF NOT EXISTS tginvite_import_rows (pos BIGINT NOT NULL, "
    "telegram_user_id BIGINT, username TEXT, phone TEXT, first_name TEXT NOT NULL, "
    "last_name TEXT NOT NULL) ON COMMIT DROP; "
    "TRUNCATE pg_temp.tginvite_import_rows";
constexpr std::string_view kStageColumns =
    "pg_temp.tginvite_import_rows (pos, telegram_user_id, username, phone, first_name, last_name)";

// `fresh`: the staged rows, numbered from the contacts' sequence in batch order; `inserted`:
// those the INSERT wrote. ON CONFLICT skips a row whose id, username or phone a stored contact
// holds (the unique indexes' own check, no lookup of ours), and such a row goes the row-by-row
// way. ?1 is now.
//
// The results come back as a union rather than a join of the CTEs (PostgreSQL knows nothing of
// their sizes, and a nested loop over two of them would cost batch² rows); the caller matches
// contact ids to rows:
//   (pos, id, NULL)          for every staged row
//   (NULL, id, 'imported')   for every row the INSERT wrote
//   (NULL, id, state)        for every invitation the second INSERT wrote (campaigns only)
constexpr std::string_view kInsertFresh = R"sql(
WITH fresh AS (
  SELECT pos, nextval('contacts_id_seq') AS id, telegram_user_id, username, phone, first_name,
         last_name
  FROM (SELECT * FROM pg_temp.tginvite_import_rows ORDER BY pos) s
), inserted AS (
  INSERT INTO contacts (id, telegram_user_id, username, phone, first_name, last_name, created_at,
                        updated_at)
  SELECT id, telegram_user_id, username, phone, first_name, last_name, ?1, ?1 FROM fresh
  ORDER BY id
  ON CONFLICT DO NOTHING
  RETURNING id, telegram_user_id, username, phone
))sql";

constexpr std::string_view kReturnFresh = R"sql(
SELECT pos, id, NULL::text FROM fresh
UNION ALL SELECT NULL, id, 'imported' FROM inserted)sql";

// With a campaign (?2): every contact inserted gets an invitation in the state FirstState gives
// (skipped when a suppression matches one of its keys, awaiting_start when the campaign waits for
// it), its start key from the column's default.
constexpr std::string_view kEnqueueInserted = R"sql(, queued AS (
  INSERT INTO invitations (campaign_id, contact_id, state, last_error, created_at, updated_at)
  SELECT ?2, i.id,
         CASE WHEN x.suppressed THEN 'skipped'
              WHEN r.reach = 'start-link' OR (r.reach = 'both' AND i.telegram_user_id IS NULL)
                THEN 'awaiting_start'
              ELSE 'pending' END,
         CASE WHEN x.suppressed THEN 'suppressed' END, ?1, ?1
  FROM inserted i
  CROSS JOIN (SELECT reach FROM campaigns WHERE id = ?2) r
  CROSS JOIN LATERAL (
    SELECT EXISTS (SELECT 1 FROM suppressions
                   WHERE key IN ('id:' || i.telegram_user_id::text, 'username:' || i.username,
                                 'phone:' || i.phone)) AS suppressed) x
  ORDER BY i.id
  ON CONFLICT (campaign_id, contact_id) DO NOTHING
  RETURNING contact_id, state
)
SELECT pos, id, NULL::text FROM fresh
UNION ALL SELECT NULL, id, 'imported' FROM inserted
UNION ALL SELECT NULL, contact_id, state FROM queued)sql";

const std::string& InsertFresh() {
  static const std::string kSql = std::string(kInsertFresh) + std::string(kReturnFresh);
  return kSql;
}

const std::string& InsertAndEnqueueFresh() {
  static const std::string kSql = std::string(kInsertFresh) + std::string(kEnqueueInserted);
  return kSql;
}

// Text as a statement parameter reaches the server: up to the first NUL byte.
std::string AsSent(std::string_view text) { return std::string(text.substr(0, text.find('\0'))); }
Value AsSentOrNull(std::string_view text) {
  if (text.empty()) return std::monostate{};
  return AsSent(text);
}

// Which rows of `rows` share an identifier with another row, compared as the server compares the
// values the row-by-row path sends: ids as numbers, a username or phone (unless empty, which is
// NULL) by its bytes up to the first NUL.
std::vector<bool> SharesAnIdentifier(std::span<const ImportRow> rows) {
  std::unordered_map<int64_t, size_t> ids;
  std::unordered_map<std::string, size_t> usernames, phones;
  ids.reserve(rows.size());
  usernames.reserve(rows.size());
  phones.reserve(rows.size());
  for (const ImportRow& row : rows) {
    const core::ContactRecord& c = row.contact;
    if (c.telegram_user_id) ++ids[*c.telegram_user_id];
    if (!c.username.empty()) ++usernames[AsSent(c.username)];
    if (!c.phone.empty()) ++phones[AsSent(c.phone)];
  }
  std::vector<bool> shares(rows.size(), false);
  for (size_t i = 0; i < rows.size(); ++i) {
    const core::ContactRecord& c = rows[i].contact;
    shares[i] = (c.telegram_user_id && ids[*c.telegram_user_id] > 1) ||
                (!c.username.empty() && usernames[AsSent(c.username)] > 1) ||
                (!c.phone.empty() && phones[AsSent(c.phone)] > 1);
  }
  return shares;
}

int64_t NowMillis(const core::Clock& clock) { return core::ToUnixMillis(clock.Now()); }

}  // namespace

namespace {

// Copies `rows` (the input's rows from index `first_pos` on) with their results (none yet:
// std::nullopt) into the results table.
Status StageResultsPg(Tx& tx, int64_t first_pos, std::span<const ImportRow> rows,
                      std::span<const std::optional<internal::UpsertResult>> results) {
  std::vector<std::vector<Value>> staged;
  staged.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    ImportRow sent = rows[i];  // as the server keeps text: up to the first NUL byte
    sent.contact.username = AsSent(sent.contact.username);
    sent.contact.phone = AsSent(sent.contact.phone);
    sent.contact.first_name = AsSent(sent.contact.first_name);
    sent.contact.last_name = AsSent(sent.contact.last_name);
    std::optional<ImportRowResult> result;
    if (results[i]) {
      result = results[i]->result;
      result->conflict = AsSent(result->conflict);
    }
    staged.push_back(internal::ResultValues(first_pos + static_cast<int64_t>(i), sent, result,
                                            results[i] ? results[i]->contact_id : 0));
  }
  ASSIGN_OR_RETURN(PgConnection * conn, PgConnectionOf(tx));
  ASSIGN_OR_RETURN(int64_t copied, conn->CopyIn(fmt::format("pg_temp.tginvite_import_results ({})",
                                                            internal::kResultColumns),
                                                staged));
  if (copied != static_cast<int64_t>(staged.size())) {
    return Fail(ErrorCode::kInternal, "import: staged {} of {} results", copied, staged.size());
  }
  return Ok();
}

// The contacts table's unique constraints and indexes but its primary key, each with the
// statements that drop it and make it again.
struct ContactIndex {
  std::string drop;
  std::string create;
};

Result<std::vector<ContactIndex>> ContactIndexes(Tx& tx) {
  std::vector<ContactIndex> indexes;
  RETURN_IF_ERROR(tx.ForEach(
      "SELECT format('ALTER TABLE contacts DROP CONSTRAINT %I', conname), "
      "format('ALTER TABLE contacts ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid)) "
      "FROM pg_constraint WHERE conrelid = 'contacts'::regclass AND contype = 'u' "
      "UNION ALL "
      "SELECT format('DROP INDEX %s', x.indexrelid::regclass), pg_get_indexdef(x.indexrelid) "
      "FROM pg_index x WHERE x.indrelid = 'contacts'::regclass AND NOT EXISTS "
      "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
      {}, [&indexes](const Row& row) -> Status {
        indexes.push_back({row.Text(0), row.Text(1)});
        return Ok();
      }));
  return indexes;
}

}  // namespace

Result<ImportRowResult> ImportRowPg(Tx& tx, const ImportRow& row,
                                    const std::optional<internal::EnqueueTarget>& campaign_id,
                                    int64_t now) {
  ASSIGN_OR_RETURN(internal::UpsertResult upserted,
                   ImportRowTracked(tx, row, campaign_id, now, /*stored_through=*/0));
  return upserted.result;
}

Result<std::vector<ImportRowResult>> ImportBatchPg(
    Tx& tx, std::span<const ImportRow> rows,
    const std::optional<internal::EnqueueTarget>& campaign_id, const core::Clock& clock) {
  ASSIGN_OR_RETURN(std::vector<internal::UpsertResult> upserted,
                   ImportBatchPgTracked(tx, rows, campaign_id, clock, /*stored_through=*/0));
  std::vector<ImportRowResult> results;
  results.reserve(upserted.size());
  for (internal::UpsertResult& row : upserted) results.push_back(std::move(row.result));
  return results;
}

Result<std::vector<internal::UpsertResult>> ImportBatchPgTracked(
    Tx& tx, std::span<const ImportRow> rows,
    const std::optional<internal::EnqueueTarget>& campaign_id, const core::Clock& clock,
    int64_t stored_through) {
  std::vector<internal::UpsertResult> results(rows.size());
  std::vector<bool> done(rows.size(), false);
  const std::vector<bool> shares = SharesAnIdentifier(rows);
  std::vector<std::vector<Value>> staged;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (shares[i]) continue;
    const core::ContactRecord& c = rows[i].contact;
    staged.push_back({static_cast<int64_t>(i), NullIfNone(c.telegram_user_id),
                      AsSentOrNull(c.username), AsSentOrNull(c.phone), AsSent(c.first_name),
                      AsSent(c.last_name)});
  }

  if (!staged.empty()) {
    ASSIGN_OR_RETURN(PgConnection * conn, PgConnectionOf(tx));
    RETURN_IF_ERROR(tx.ExecuteScript(kCreateStage));
    ASSIGN_OR_RETURN(int64_t copied, conn->CopyIn(kStageColumns, staged));
    if (copied != static_cast<int64_t>(staged.size())) {
      return Fail(ErrorCode::kInternal, "import: copied {} of {} rows", copied, staged.size());
    }
    staged = {};

    std::unordered_map<int64_t, size_t> pos_of;  // contact id -> row
    std::vector<int64_t> imported;
    std::vector<std::pair<int64_t, std::string>> queued;
    auto on_row = [&](const Row& row) -> Status {
      if (!row.IsNull(0)) {
        const int64_t pos = row.Int(0);
        if (pos < 0 || pos >= static_cast<int64_t>(rows.size())) {
          return Fail(ErrorCode::kInternal, "import: staged row {} is not in the batch", pos);
        }
        pos_of.emplace(row.Int(1), static_cast<size_t>(pos));
      } else if (row.Text(2) == "imported") {
        imported.push_back(row.Int(1));
      } else {
        queued.emplace_back(row.Int(1), row.Text(2));
      }
      return Ok();
    };
    const int64_t now = NowMillis(clock);
    if (campaign_id) {
      RETURN_IF_ERROR(tx.ForEach(InsertAndEnqueueFresh(), {now, campaign_id->campaign_id}, on_row));
    } else {
      RETURN_IF_ERROR(tx.ForEach(InsertFresh(), {now}, on_row));
    }
    auto row_of = [&](int64_t contact_id) -> Result<size_t> {
      auto it = pos_of.find(contact_id);
      if (it == pos_of.end()) {
        return Fail(ErrorCode::kInternal, "import: contact {} is not one of the batch's",
                    contact_id);
      }
      return it->second;
    };
    for (int64_t id : imported) {
      ASSIGN_OR_RETURN(size_t pos, row_of(id));
      results[pos].result.outcome = ImportOutcome::kImported;
      results[pos].contact_id = id;
      // An invitation the INSERT skipped was there already (it cannot be, for a new contact).
      if (campaign_id) results[pos].result.enqueue = EnqueueOutcome::kAlreadyQueued;
      done[pos] = true;
    }
    for (const auto& [id, state] : queued) {
      ASSIGN_OR_RETURN(size_t pos, row_of(id));
      results[pos].result.enqueue = state == "skipped"          ? EnqueueOutcome::kSkipped
                                    : state == "awaiting_start" ? EnqueueOutcome::kAwaitingStart
                                                                : EnqueueOutcome::kEnqueued;
    }
  }

  // Everything else, in input order.
  for (size_t i = 0; i < rows.size(); ++i) {
    if (done[i]) continue;
    ASSIGN_OR_RETURN(results[i],
                     ImportRowTracked(tx, rows[i], campaign_id, NowMillis(clock), stored_through));
  }
  return results;
}

Status LoadAllPg(Tx& tx, ImportSource& source,
                 const std::optional<internal::EnqueueTarget>& campaign_id,
                 const core::Clock& clock, size_t batch_size) {
  RETURN_IF_ERROR(CreateImportTables(tx));
  ASSIGN_OR_RETURN(int64_t stored_through,
                   tx.QueryInt("SELECT COALESCE(MAX(id), 0) FROM contacts"));
  bool bulk = false;
  std::vector<ContactIndex> indexes;
  std::unique_ptr<internal::FirstSightings> sightings;
  if (stored_through == 0) {
    // Nobody else may write contacts until this import ends; then check it is still empty.
    RETURN_IF_ERROR(tx.ExecuteScript("LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE"));
    ASSIGN_OR_RETURN(stored_through, tx.QueryInt("SELECT COALESCE(MAX(id), 0) FROM contacts"));
    bulk = stored_through == 0;
  }
  if (bulk) {
    ASSIGN_OR_RETURN(indexes, ContactIndexes(tx));
    for (const ContactIndex& index : indexes) RETURN_IF_ERROR(tx.ExecuteScript(index.drop));
    sightings = std::make_unique<internal::FirstSightings>();
  }

  std::vector<ImportRow> batch, fresh;
  batch.reserve(std::min<size_t>(batch_size, 100'000));
  bool deferred = false;
  int64_t pos = 0;
  for (bool exhausted = false; !exhausted;) {
    batch.clear();
    while (batch.size() < batch_size) {
      std::optional<ImportRow> row = source.Next();
      if (!row) {
        exhausted = true;
        break;
      }
      batch.push_back(std::move(*row));
    }
    if (batch.empty()) break;
    std::vector<std::optional<internal::UpsertResult>> results(batch.size());
    if (!bulk) {
      ASSIGN_OR_RETURN(std::vector<internal::UpsertResult> upserted,
                       ImportBatchPgTracked(tx, batch, campaign_id, clock, stored_through));
      for (size_t i = 0; i < batch.size(); ++i) results[i] = std::move(upserted[i]);
    } else {
      // First sightings are new contacts, and share no identifier with each other: the batch
      // path writes them all with its set-based statement. The rest wait for the indexes.
      std::vector<size_t> at;
      fresh.clear();
      for (size_t i = 0; i < batch.size(); ++i) {
        if (!sightings->FirstSighting(batch[i].contact)) {
          deferred = true;
          continue;
        }
        at.push_back(i);
        fresh.push_back(batch[i]);
      }
      ASSIGN_OR_RETURN(std::vector<internal::UpsertResult> upserted,
                       ImportBatchPgTracked(tx, fresh, campaign_id, clock, stored_through));
      for (size_t k = 0; k < at.size(); ++k) results[at[k]] = std::move(upserted[k]);
    }
    RETURN_IF_ERROR(StageResultsPg(tx, pos, batch, results));
    pos += static_cast<int64_t>(batch.size());
  }
  if (!bulk) return Ok();

  sightings.reset();
  for (const ContactIndex& index : indexes) RETURN_IF_ERROR(tx.ExecuteScript(index.create));
  RETURN_IF_ERROR(tx.ExecuteScript("ANALYZE contacts"));
  // The rows put aside, in input order, a chunk at a time.
  for (int64_t after = -1; deferred;) {
    ASSIGN_OR_RETURN(auto chunk, internal::RowsWithoutResult(tx, after, 512));
    if (chunk.empty()) break;
    for (const auto& [row_pos, row] : chunk) {
      ASSIGN_OR_RETURN(internal::UpsertResult upserted,
                       ImportRowTracked(tx, row, campaign_id, NowMillis(clock), stored_through));
      RETURN_IF_ERROR(internal::SetResult(tx, row_pos, upserted.result, upserted.contact_id));
    }
    after = chunk.back().first;
  }
  return Ok();
}

}  // namespace tginvite::storage
