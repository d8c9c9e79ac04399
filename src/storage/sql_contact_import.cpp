#include "storage/sql_contact_import.h"

#include <functional>
#include <optional>
#include <string>

#include "core/secret_box.h"
#include "storage/sql_rows.h"

namespace tginvite::storage::internal {
namespace {

// A contact as stored.
struct StoredContact {
  int64_t id = 0;
  core::ContactRecord record;
};

constexpr std::string_view kContactColumns =
    "SELECT id, telegram_user_id, username, first_name, last_name, phone FROM contacts";

Result<std::optional<StoredContact>> FindContactBy(Tx& tx, std::string_view column, Value value) {
  std::string sql = fmt::format("{} WHERE {} = ?", kContactColumns, column);
  std::optional<StoredContact> found;
  RETURN_IF_ERROR(tx.ForEach(sql, {std::move(value)}, [&found](const Row& row) -> Status {
    found = StoredContact{row.Int(0), ContactFromColumns(row, 1)};
    return Ok();
  }));
  return found;
}

Value SuppressionKey(std::string_view prefix, std::string_view value) {
  if (value.empty()) return std::monostate{};
  return fmt::format("{}:{}", prefix, value);
}

// Enqueues an invitation of the campaign for the contact, with a fresh start key.
Result<EnqueueOutcome> Enqueue(Tx& tx, const EnqueueTarget& target, int64_t contact_id,
                               const core::ContactRecord& contact, int64_t now) {
  Value id_key = contact.telegram_user_id ? Value(fmt::format("id:{}", *contact.telegram_user_id))
                                          : Value(std::monostate{});
  ASSIGN_OR_RETURN(int64_t suppressed,
                   tx.QueryInt("SELECT EXISTS (SELECT 1 FROM suppressions WHERE key IN (?, ?, ?))",
                               {std::move(id_key), SuppressionKey("username", contact.username),
                                SuppressionKey("phone", contact.phone)}));
  const core::InvitationState state =
      FirstState(target, suppressed != 0, contact.telegram_user_id.has_value());
  ASSIGN_OR_RETURN(
      int64_t inserted,
      tx.Execute("INSERT INTO invitations (campaign_id, contact_id, state, last_error, start_key, "
                 "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                 "ON CONFLICT (campaign_id, contact_id) DO NOTHING",
                 {target.campaign_id, contact_id, std::string(core::ToString(state)),
                  suppressed ? Value(std::string("suppressed")) : Value(std::monostate{}),
                  core::RandomHex(16), now, now}));
  if (inserted == 0) return EnqueueOutcome::kAlreadyQueued;
  switch (state) {
    case core::InvitationState::kSkipped:
      return EnqueueOutcome::kSkipped;
    case core::InvitationState::kAwaitingStart:
      return EnqueueOutcome::kAwaitingStart;
    default:
      return EnqueueOutcome::kEnqueued;
  }
}

}  // namespace

core::InvitationState FirstState(const EnqueueTarget& target, bool suppressed, bool has_user_id) {
  if (suppressed) return core::InvitationState::kSkipped;
  if (target.reach == core::CampaignReach::kStartLink ||
      (target.reach == core::CampaignReach::kBoth && !has_user_id)) {
    return core::InvitationState::kAwaitingStart;
  }
  return core::InvitationState::kPending;
}

Result<UpsertResult> MergeIntoStoredContact(Tx& tx, const core::ContactRecord& row, int64_t now,
                                            int64_t stored_through) {
  UpsertResult out;
  // Some identifier exists already: find who holds each one.
  std::optional<StoredContact> by_id, by_username, by_phone;
  if (row.telegram_user_id) {
    ASSIGN_OR_RETURN(by_id, FindContactBy(tx, "telegram_user_id", *row.telegram_user_id));
  }
  if (!row.username.empty()) {
    ASSIGN_OR_RETURN(by_username, FindContactBy(tx, "username", row.username));
  }
  if (!row.phone.empty()) {
    ASSIGN_OR_RETURN(by_phone, FindContactBy(tx, "phone", row.phone));
  }
  const std::optional<StoredContact>& primary = by_id         ? by_id
                                                : by_username ? by_username
                                                              : by_phone;
  if (!primary) {
    return Fail(ErrorCode::kAborted, "contact changed while importing; retrying");
  }
  auto conflict = [&](std::string reason) {
    out.result.outcome = ImportOutcome::kConflict;
    out.result.conflict = std::move(reason);
    return out;
  };
  if (by_username && by_username->id != primary->id) {
    return conflict(fmt::format("username @{} belongs to another contact", row.username));
  }
  if (by_phone && by_phone->id != primary->id) {
    return conflict(fmt::format("phone {} belongs to another contact", row.phone));
  }
  if (row.telegram_user_id && !by_id && primary->record.telegram_user_id) {
    // The row's id is new, but its username or phone belongs to a contact with another id.
    return conflict(by_username
                        ? fmt::format("username @{} belongs to another contact", row.username)
                        : fmt::format("phone {} belongs to another contact", row.phone));
  }

  core::ContactRecord merged = primary->record;
  if (row.telegram_user_id) merged.telegram_user_id = row.telegram_user_id;
  if (!row.username.empty()) merged.username = row.username;
  if (!row.phone.empty()) merged.phone = row.phone;
  if (!row.first_name.empty()) merged.first_name = row.first_name;
  if (!row.last_name.empty()) merged.last_name = row.last_name;
  const core::ContactRecord& old = primary->record;
  bool changed = merged.telegram_user_id != old.telegram_user_id ||
                 merged.username != old.username || merged.phone != old.phone ||
                 merged.first_name != old.first_name || merged.last_name != old.last_name;
  if (changed) {
    if (primary->id <= stored_through) {
      RETURN_IF_ERROR(tx.Execute(
          "INSERT INTO tginvite_import_touched (contact_id, telegram_user_id, username, phone, "
          "first_name, last_name, updated_at) SELECT id, telegram_user_id, username, phone, "
          "first_name, last_name, updated_at FROM contacts WHERE id = ? "
          "ON CONFLICT (contact_id) DO NOTHING",
          {primary->id}));
    }
    RETURN_IF_ERROR(tx.Execute(
        "UPDATE contacts SET telegram_user_id = ?, username = ?, phone = ?, first_name = ?, "
        "last_name = ?, updated_at = ? WHERE id = ?",
        {NullIfNone(merged.telegram_user_id), NullIfEmpty(merged.username),
         NullIfEmpty(merged.phone), merged.first_name, merged.last_name, now, primary->id}));
    if (merged.telegram_user_id && !old.telegram_user_id) {
      // Reachable by id now: a `both` campaign need not wait for this contact's start.
      RETURN_IF_ERROR(tx.Execute(
          "UPDATE invitations SET state = 'pending', next_attempt_at = 0, updated_at = ? "
          "WHERE contact_id = ? AND state = 'awaiting_start' AND campaign_id IN "
          "(SELECT id FROM campaigns WHERE reach = 'both')",
          {now, primary->id}));
    }
  }
  out.contact_id = primary->id;
  out.merged = std::move(merged);
  out.result.outcome = changed ? ImportOutcome::kUpdated : ImportOutcome::kDuplicate;
  return out;
}

Result<UpsertResult> EnqueueUpserted(Tx& tx, UpsertResult upserted,
                                     const std::optional<EnqueueTarget>& campaign, int64_t now) {
  if (campaign && upserted.result.outcome != ImportOutcome::kConflict) {
    ASSIGN_OR_RETURN(upserted.result.enqueue,
                     Enqueue(tx, *campaign, upserted.contact_id, upserted.merged, now));
  }
  return upserted;
}

namespace {

constexpr uint64_t kUsernameSalt = 0x75736572'6e616d65;
constexpr uint64_t kPhoneSalt = 0x70686f6e'65000000;

uint64_t HashText(std::string_view text) { return std::hash<std::string_view>{}(text); }

// splitmix64's finaliser.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

}  // namespace

FirstSightings::FirstSightings() : bits_(std::make_unique<uint64_t[]>((size_t{1} << kBits) / 64)) {}

bool FirstSightings::FirstSighting(const core::ContactRecord& contact) {
  bool first = true;
  if (contact.telegram_user_id &&
      TestAndSet(Mix(static_cast<uint64_t>(*contact.telegram_user_id)))) {
    first = false;
  }
  if (!contact.username.empty() && TestAndSet(Mix(HashText(contact.username) ^ kUsernameSalt))) {
    first = false;
  }
  if (!contact.phone.empty() && TestAndSet(Mix(HashText(contact.phone) ^ kPhoneSalt))) {
    first = false;
  }
  return first;
}

// Whether all three bits of `key` were set; sets them.
bool FirstSightings::TestAndSet(uint64_t key) {
  const uint64_t step = Mix(key) | 1;
  bool seen = true;
  for (uint64_t i = 0; i < 3; ++i) {
    const uint64_t bit = (key + i * step) & ((uint64_t{1} << kBits) - 1);
    uint64_t& word = bits_[bit / 64];
    const uint64_t mask = uint64_t{1} << (bit % 64);
    if ((word & mask) == 0) seen = false;
    word |= mask;
  }
  return seen;
}

Status CreateTouchedTable(Tx& tx) {
  RETURN_IF_ERROR(tx.ExecuteScript("DROP TABLE IF EXISTS tginvite_import_touched"));
  return tx.ExecuteScript(
      "CREATE TEMP TABLE tginvite_import_touched (contact_id BIGINT PRIMARY KEY, "
      "telegram_user_id BIGINT, username TEXT, phone TEXT, first_name TEXT NOT NULL, "
      "last_name TEXT NOT NULL, updated_at BIGINT NOT NULL)");
}

std::vector<Value> ResultValues(int64_t pos, const ImportRow& row,
                                const std::optional<ImportRowResult>& result, int64_t contact_id) {
  const core::ContactRecord& c = row.contact;
  std::vector<Value> values = {pos,
                               row.line,
                               NullIfNone(c.telegram_user_id),
                               NullIfEmpty(c.username),
                               NullIfEmpty(c.phone),
                               c.first_name,
                               c.last_name,
                               std::monostate{},
                               int64_t{0},
                               std::monostate{},
                               std::monostate{}};
  if (result) {
    values[7] = static_cast<int64_t>(result->outcome);
    values[8] = static_cast<int64_t>(result->enqueue);
    if (result->outcome == ImportOutcome::kConflict) values[9] = result->conflict;
  }
  if (contact_id != 0) values[10] = contact_id;
  return values;
}

Status SetResult(Tx& tx, int64_t pos, const ImportRowResult& result, int64_t contact_id) {
  RETURN_IF_ERROR(
      tx.Execute("UPDATE tginvite_import_results SET outcome = ?, enqueue = ?, conflict = ?, "
                 "contact_id = ? WHERE pos = ?",
                 {static_cast<int64_t>(result.outcome), static_cast<int64_t>(result.enqueue),
                  result.outcome == ImportOutcome::kConflict ? Value(result.conflict)
                                                             : Value(std::monostate{}),
                  contact_id != 0 ? Value(contact_id) : Value(std::monostate{}), pos}));
  return Ok();
}

namespace {

// The touched contacts that are now exactly as they were before the import.
constexpr std::string_view kUnchanged =
    "SELECT t.contact_id FROM tginvite_import_touched t JOIN contacts c ON c.id = t.contact_id "
    "WHERE c.telegram_user_id IS NOT DISTINCT FROM t.telegram_user_id "
    "AND c.username IS NOT DISTINCT FROM t.username AND c.phone IS NOT DISTINCT FROM t.phone "
    "AND c.first_name = t.first_name AND c.last_name = t.last_name";

}  // namespace

Result<int64_t> FoldUnchanged(Tx& tx) {
  ASSIGN_OR_RETURN(
      int64_t rows,
      tx.Execute(fmt::format("UPDATE tginvite_import_results SET outcome = {} WHERE outcome = {} "
                             "AND contact_id IN ({})",
                             static_cast<int>(ImportOutcome::kDuplicate),
                             static_cast<int>(ImportOutcome::kUpdated), kUnchanged)));
  RETURN_IF_ERROR(tx.Execute(
      fmt::format("UPDATE contacts SET updated_at = t.updated_at FROM tginvite_import_touched t "
                  "WHERE contacts.id = t.contact_id AND contacts.id IN ({})",
                  kUnchanged)));
  return rows;
}

Result<std::vector<std::pair<int64_t, ImportRow>>> RowsWithoutResult(Session& session,
                                                                     int64_t after, int64_t limit) {
  std::vector<std::pair<int64_t, ImportRow>> rows;
  RETURN_IF_ERROR(session.ForEach(
      "SELECT pos, line, telegram_user_id, username, first_name, last_name, phone "
      "FROM tginvite_import_results WHERE pos > ? AND outcome IS NULL ORDER BY pos LIMIT ?",
      {after, limit}, [&rows](const Row& r) -> Status {
        rows.emplace_back(r.Int(0), ImportRow{r.Int(1), ContactFromColumns(r, 2)});
        return Ok();
      }));
  return rows;
}

Result<int64_t> CountConflicts(Session& session) {
  return session.QueryInt(
      fmt::format("SELECT COUNT(*) FROM tginvite_import_results WHERE outcome = {}",
                  static_cast<int>(ImportOutcome::kConflict)));
}

Status ReplayResults(Session& session, ImportSource& source, ImportTotals& totals) {
  constexpr int64_t kChunk = 4096;
  int64_t after = -1;
  for (;;) {
    int64_t read = 0;
    RETURN_IF_ERROR(session.ForEach(
        "SELECT pos, line, telegram_user_id, username, first_name, last_name, phone, outcome, "
        "enqueue, conflict FROM tginvite_import_results WHERE pos > ? ORDER BY pos "
        "LIMIT ?",
        {after, kChunk}, [&](const Row& row) -> Status {
          ++read;
          after = row.Int(0);
          if (row.IsNull(7)) {
            return Fail(ErrorCode::kInternal, "import: line {} has no result", row.Int(1));
          }
          ImportRow input{row.Int(1), ContactFromColumns(row, 2)};
          ImportRowResult result;
          result.outcome = static_cast<ImportOutcome>(row.Int(7));
          result.enqueue = static_cast<EnqueueOutcome>(row.Int(8));
          result.conflict = row.Text(9);
          source.OnResult(input, result);
          CountResult(totals, result);
          return Ok();
        }));
    if (read < kChunk) return Ok();
  }
}

Status DropImportTables(Session& session) {
  return session.ExecuteScript(
      "DROP TABLE IF EXISTS tginvite_import_results; DROP TABLE IF EXISTS tginvite_import_touched");
}

void CountResult(ImportTotals& totals, const ImportRowResult& result) {
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

}  // namespace tginvite::storage::internal
