// Erasure requests and the revocation of a cancelled campaign's unused personal links, written once
// for both SQL stores: the statements mean the same on SQLite and PostgreSQL.
#include "core/invitation_states.h"
#include "core/model.h"
#include "core/suppression_key.h"
#include "storage/slot_calendar.h"
#include "storage/sql_store.h"

namespace tginvite::storage {
namespace {

// Why an erased person's keys are suppressed (shown by `suppress list`).
constexpr std::string_view kErasedReason = "erased on request (contact forget)";

struct ContactKeys {
  int64_t id = 0;
  std::optional<int64_t> user_id;
  std::string username;
  std::string phone;
};

Result<std::optional<ContactKeys>> FindContactWhere(Tx& tx, std::string_view column, Value value) {
  ASSIGN_OR_RETURN(
      std::optional<Row> row,
      tx.QueryOne(fmt::format("SELECT id, telegram_user_id, username, phone FROM contacts "
                              "WHERE {} = ?",
                              column),
                  {std::move(value)}));
  if (!row) return std::optional<ContactKeys>();
  return std::optional<ContactKeys>(
      ContactKeys{row->Int(0), row->OptInt(1), row->Text(2), row->Text(3)});
}

// The contact column a key names, and the value to match.
Result<std::pair<std::string_view, Value>> ColumnOf(std::string_view key) {
  ASSIGN_OR_RETURN(core::SuppressionKey parsed, core::ParseSuppressionKey(key));
  switch (parsed.kind) {
    case core::SuppressionKey::Kind::kUserId:
      return std::pair<std::string_view, Value>{"telegram_user_id", parsed.user_id};
    case core::SuppressionKey::Kind::kUsername:
      return std::pair<std::string_view, Value>{"username", std::move(parsed.text)};
    case core::SuppressionKey::Kind::kPhone:
      return std::pair<std::string_view, Value>{"phone", std::move(parsed.text)};
  }
  return Fail(ErrorCode::kInternal, "contact key \"{}\": no column to match", key);
}

// The suppression keys of a contact, as the import checks them (sql_contact_import.cpp).
std::vector<std::string> KeysOf(const ContactKeys& contact) {
  std::vector<std::string> keys;
  if (contact.user_id) keys.push_back(fmt::format("id:{}", *contact.user_id));
  if (!contact.username.empty()) keys.push_back(fmt::format("username:{}", contact.username));
  if (!contact.phone.empty()) keys.push_back(fmt::format("phone:{}", contact.phone));
  return keys;
}

// Deletes the contact and what hangs on it, in the caller's transaction.
Status ForgetIn(Tx& tx, const ContactKeys& contact, ForgetResult& result) {
  const int64_t id = contact.id;
  ASSIGN_OR_RETURN(int64_t sending,
                   tx.QueryInt("SELECT COUNT(*) FROM invitations WHERE contact_id = ? AND "
                               "state = 'sending'",
                               {id}));
  if (sending > 0) {
    return Fail(ErrorCode::kUnavailable,
                "contact {} has an invitation being sent right now; try again in a minute, once "
                "the worker has recorded it; nothing was removed",
                KeysOf(contact).empty() ? std::to_string(id) : KeysOf(contact).front());
  }
  ASSIGN_OR_RETURN(std::optional<Row> counts,
                   tx.QueryOne("SELECT COUNT(*), COUNT(invite_link), COUNT(start_key) FROM "
                               "invitations WHERE contact_id = ?",
                               {id}));
  result.invitations = counts->Int(0);
  result.invite_links = counts->Int(1);
  result.start_links = counts->Int(2);
  // Attempts stay (request, outcome, codes, times, account): counts and daily caps read them.
  ASSIGN_OR_RETURN(result.attempts,
                   tx.Execute("UPDATE attempts SET invitation_id = NULL, error = NULL WHERE "
                              "invitation_id IN (SELECT id FROM invitations WHERE contact_id = ?)",
                              {id}));
  // And those a deleted campaign left detached with the contact's id (campaign delete).
  ASSIGN_OR_RETURN(int64_t detached,
                   tx.Execute("UPDATE attempts SET contact_id = NULL, error = NULL WHERE "
                              "invitation_id IS NULL AND contact_id = ?",
                              {id}));
  result.attempts += detached;
  RETURN_IF_ERROR(tx.Execute("DELETE FROM invitations WHERE contact_id = ?", {id}));
  // What Telegram told about the person: processed updates (unprocessed ones are still to be
  // applied, and then match no one) and bare /starts waiting for a contact.
  if (contact.user_id) {
    ASSIGN_OR_RETURN(int64_t updates,
                     tx.Execute("DELETE FROM update_inbox WHERE processed_at IS NOT NULL AND "
                                "user_id = ?",
                                {*contact.user_id}));
    ASSIGN_OR_RETURN(int64_t waits,
                     tx.Execute("DELETE FROM start_waits WHERE user_id = ?", {*contact.user_id}));
    result.updates += updates + waits;
  }
  if (!contact.username.empty()) {
    ASSIGN_OR_RETURN(int64_t updates,
                     tx.Execute("DELETE FROM update_inbox WHERE processed_at IS NOT NULL AND "
                                "lower(username) = ?",
                                {contact.username}));
    ASSIGN_OR_RETURN(int64_t waits, tx.Execute("DELETE FROM start_waits WHERE lower(username) = ?",
                                               {contact.username}));
    result.updates += updates + waits;
  }
  ASSIGN_OR_RETURN(result.contacts, tx.Execute("DELETE FROM contacts WHERE id = ?", {id}));
  result.contact_id = id;
  return Ok();
}

Status SuppressKeys(Tx& tx, ForgetResult& result, int64_t now) {
  result.suppressions_added = 0;
  for (const std::string& key : result.suppression_keys) {
    ASSIGN_OR_RETURN(int64_t added,
                     tx.Execute("INSERT INTO suppressions (key, reason, created_at) VALUES (?, ?, "
                                "?) ON CONFLICT (key) DO NOTHING",
                                {key, std::string(kErasedReason), now}));
    result.suppressions_added += added;
  }
  return Ok();
}

Value NullIfEmpty(const std::string& text) {
  if (text.empty()) return std::monostate{};
  return text;
}

}  // namespace

Result<ForgetResult> SqlStore::ForgetContact(std::string_view key) {
  ASSIGN_OR_RETURN(auto match, ColumnOf(key));
  ForgetResult result;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    result = ForgetResult{};
    ASSIGN_OR_RETURN(std::optional<ContactKeys> contact,
                     FindContactWhere(tx, match.first, match.second));
    if (contact) {
      RETURN_IF_ERROR(ForgetIn(tx, *contact, result));
      result.suppression_keys = KeysOf(*contact);
    }
    // The key typed is suppressed too, whether or not a contact had it.
    if (std::find(result.suppression_keys.begin(), result.suppression_keys.end(), key) ==
        result.suppression_keys.end()) {
      result.suppression_keys.emplace_back(key);
    }
    return SuppressKeys(tx, result, NowUnixMillis());
  }));
  return result;
}

Result<ForgetResult> SqlStore::ForgetContactById(int64_t contact_id) {
  ForgetResult result;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    result = ForgetResult{};
    ASSIGN_OR_RETURN(std::optional<ContactKeys> contact, FindContactWhere(tx, "id", contact_id));
    if (!contact) return Fail(ErrorCode::kNotFound, "no contact with id {}", contact_id);
    RETURN_IF_ERROR(ForgetIn(tx, *contact, result));
    result.suppression_keys = KeysOf(*contact);
    return SuppressKeys(tx, result, NowUnixMillis());
  }));
  return result;
}

Result<std::vector<LinkToRevoke>> SqlStore::ClaimLinksToRevoke(const LinkRevokeClaim& claim) {
  std::vector<LinkToRevoke> links;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    links.clear();
    const std::string limiter_key = fmt::format("account:{}", claim.account_id);
    // The account's limiter, locked (PostgreSQL: its row; SQLite holds the write lock already)
    // before anything is read, so that two workers never take the same links or slots.
    RETURN_IF_ERROR(tx.Execute(
        "INSERT INTO rate_limits (key, tat, reserved) VALUES (?, 0, '') ON CONFLICT (key) DO "
        "NOTHING",
        {limiter_key}));
    RETURN_IF_ERROR(tx.Execute("UPDATE rate_limits SET tat = tat WHERE key = ?", {limiter_key}));
    ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        tx.Query(fmt::format("SELECT i.id, i.gen, i.campaign_id, c.chat, i.invite_link, "
                             "i.link_revoke_tries FROM invitations i JOIN campaigns c ON "
                             "c.id = i.campaign_id WHERE c.account_id = ? AND c.state = '{}' "
                             "AND c.link_mode IN ('{}', '{}') AND i.invite_link IS NOT NULL "
                             "AND i.link_revoked_at IS NULL AND i.state <> 'joined' AND "
                             "i.link_revoke_after <= ? ORDER BY i.link_revoke_after, i.id "
                             "LIMIT ?",
                             core::ToString(core::CampaignState::kCancelled),
                             core::ToString(core::LinkMode::kPersonal),
                             core::ToString(core::LinkMode::kJoinRequest)),
                 {claim.account_id, claim.now, int64_t{claim.limit}}));
    if (rows.empty()) return Ok();
    ASSIGN_OR_RETURN(std::optional<Row> stored,
                     tx.QueryOne("SELECT reserved FROM rate_limits WHERE key = ?", {limiter_key}));
    internal::SlotCalendar limiter(stored ? stored->Text(0) : "", claim.now,
                                   claim.emission_interval);
    for (const Row& row : rows) {
      const int64_t slot = limiter.Earliest(claim.now);
      if (slot > claim.now + claim.horizon.count()) break;
      limiter.Take(slot);
      RETURN_IF_ERROR(tx.Execute("UPDATE invitations SET link_revoke_after = ? WHERE id = ?",
                                 {slot + claim.lease.count(), row.Int(0)}));
      links.push_back(LinkToRevoke{row.Int(0), row.Int(1), row.Int(2), row.Text(3), row.Text(4),
                                   row.Int(5), slot});
    }
    if (links.empty()) return Ok();
    RETURN_IF_ERROR(tx.Execute("UPDATE rate_limits SET tat = ?, reserved = ? WHERE key = ?",
                               {limiter.Frontier(), limiter.Stored(), limiter_key}));
    return Ok();
  }));
  return links;
}

Result<int64_t> SqlStore::RecordLinkRevocations(std::span<const LinkRevocation> revocations,
                                                int64_t now) {
  int64_t done = 0;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    done = 0;
    for (const LinkRevocation& r : revocations) {
      const AttemptRecord& a = r.attempt;
      // An invitation erased meanwhile has nobody left to record the attempt for.
      ASSIGN_OR_RETURN(std::optional<Row> owner,
                       tx.QueryOne("SELECT i.gen, c.account_id FROM invitations i JOIN campaigns "
                                   "c ON c.id = i.campaign_id WHERE i.id = ?",
                                   {r.invitation_id}));
      if (!owner) continue;
      RETURN_IF_ERROR(tx.Execute(
          "INSERT INTO attempts (invitation_id, gen, worker, request, started_at, latency_ms, "
          "http_status, error_code, error, outcome, account_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
          "?, ?, ?)",
          {r.invitation_id, owner->Int(0), a.worker, a.request, a.started_at, a.latency_ms,
           int64_t{a.http_status}, int64_t{a.error_code}, NullIfEmpty(a.error), a.outcome,
           owner->Int(1)}));
      if (r.result == LinkRevocation::Result::kDone) {
        RETURN_IF_ERROR(tx.Execute("UPDATE invitations SET link_revoked_at = ? WHERE id = ?",
                                   {now, r.invitation_id}));
        ++done;
      } else {
        RETURN_IF_ERROR(
            tx.Execute("UPDATE invitations SET link_revoke_tries = link_revoke_tries + 1, "
                       "link_revoke_after = ? WHERE id = ?",
                       {r.retry_at, r.invitation_id}));
      }
    }
    return Ok();
  }));
  return done;
}

bool ErasedPeople::Contains(const core::ContactRecord& contact) const {
  if (keys_.empty()) return false;
  if (contact.telegram_user_id && keys_.count(fmt::format("id:{}", *contact.telegram_user_id)) > 0)
    return true;
  if (!contact.username.empty() && keys_.count("username:" + contact.username) > 0) return true;
  return !contact.phone.empty() && keys_.count("phone:" + contact.phone) > 0;
}

Result<ErasedPeople> SqlStore::LoadErasedPeople() {
  std::vector<std::string> keys;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    return session.ForEach("SELECT key FROM suppressions WHERE reason = ?",
                           {std::string(kErasedReason)}, [&keys](const Row& row) -> Status {
                             keys.push_back(row.Text(0));
                             return Ok();
                           });
  }));
  return ErasedPeople(std::move(keys));
}

}  // namespace tginvite::storage
