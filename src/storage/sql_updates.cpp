// The SQL stores' account state and updates: the lease on polling an account's updates, health,
// the engine pausing a campaign, joins and blocks seen in updates, and the workers' list. The
// statements mean the same on SQLite and PostgreSQL.
#include <algorithm>

#include "core/invitation_states.h"
#include "storage/sql_store.h"
#include "storage/sql_rows.h"

namespace tginvite::storage {

Status internal::SuppressUser(Tx& tx, int64_t user_id, std::string_view reason, int64_t now) {
  RETURN_IF_ERROR(
      tx.Execute("INSERT INTO suppressions (key, reason, created_at) VALUES (?, ?, ?) "
                 "ON CONFLICT (key) DO NOTHING",
                 {fmt::format("id:{}", user_id), std::string(reason), now}));
  RETURN_IF_ERROR(tx.Execute(
      fmt::format("UPDATE invitations SET state = 'skipped', last_error = 'suppressed', "
                  "updated_at = ? WHERE state IN ({}) AND contact_id IN "
                  "(SELECT id FROM contacts WHERE telegram_user_id = ?)",
                  core::QuotedNames(core::kOpenInvitationStates)),
      {now, user_id}));
  return Ok();
}

Result<bool> SqlStore::LeaseUpdates(int64_t account_id, std::string_view worker, int64_t now,
                                       int64_t until) {
  bool held = false;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    if (until <= now) {
      RETURN_IF_ERROR(tx.Execute("DELETE FROM update_leases WHERE account_id = ? AND worker = ?",
                                 {account_id, std::string(worker)}));
      held = false;
      return Ok();
    }
    ASSIGN_OR_RETURN(
        int64_t changed,
        tx.Execute("INSERT INTO update_leases (account_id, worker, lease_until) VALUES (?, ?, ?) "
                   "ON CONFLICT (account_id) DO UPDATE SET worker = excluded.worker, lease_until = "
                   "excluded.lease_until WHERE update_leases.worker = excluded.worker OR "
                   "update_leases.lease_until <= ?",
                   {account_id, std::string(worker), until, now}));
    held = changed == 1;
    return Ok();
  }));
  return held;
}

Status SqlStore::SetAccountHealth(int64_t account_id, core::AccountHealth health,
                                  std::string_view reason) {
  return WriteUnit([&](Tx& tx) -> Status {
    RETURN_IF_ERROR(
        tx.Execute("UPDATE accounts SET health = ?, health_reason = NULLIF(?, '') WHERE id = ?",
                   {std::string(core::ToString(health)), std::string(reason), account_id}));
    return Ok();
  });
}

Result<Store::AttemptUsage> SqlStore::CountAttempts(int64_t account_id,
                                                    std::span<const core::RequestKind> kinds,
                                                    int64_t since) {
  AttemptUsage usage;
  if (kinds.empty()) return usage;
  // The kinds' names are core's own constants ([a-z-]+), written into the statement as literals.
  std::string names;
  for (core::RequestKind kind : kinds) {
    names += fmt::format("{}'{}'", names.empty() ? "" : ", ", core::ToString(kind));
  }
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    // attempts_by_account: one range of (account, request, started_at) per kind.
    ASSIGN_OR_RETURN(
        std::optional<Row> row,
        session.QueryOne(fmt::format("SELECT COUNT(*), COALESCE(MIN(started_at), 0) FROM attempts "
                                     "WHERE account_id = ? AND started_at >= ? AND request IN ({})",
                                     names),
                         {account_id, since}));
    usage = row ? AttemptUsage{row->Int(0), row->Int(1)} : AttemptUsage{};
    return Ok();
  }));
  return usage;
}

Result<bool> SqlStore::SetResolvedUserId(int64_t invitation_id, int64_t user_id) {
  if (user_id <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "invitation {}: user id {} is not a Telegram user id",
                invitation_id, user_id);
  }
  bool set = false;
  Status written = WriteUnit([&](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(std::optional<Row> contact,
                     tx.QueryOne("SELECT c.id, c.telegram_user_id FROM invitations i JOIN contacts "
                                 "c ON c.id = i.contact_id WHERE i.id = ?",
                                 {invitation_id}));
    if (!contact) return Fail(ErrorCode::kNotFound, "no invitation {}", invitation_id);
    if (std::optional<int64_t> known = contact->OptInt(1)) {
      // Found again (a retried step), or the contact is another user already: never overwritten.
      set = *known == user_id;
      return Ok();
    }
    ASSIGN_OR_RETURN(int64_t changed,
                     tx.Execute("UPDATE contacts SET telegram_user_id = ?1, updated_at = ?2 "
                                "WHERE id = ?3 AND telegram_user_id IS NULL AND NOT EXISTS "
                                "(SELECT 1 FROM contacts o WHERE o.telegram_user_id = ?1)",
                                {user_id, NowUnixMillis(), contact->Int(0)}));
    set = changed == 1;
    return Ok();
  });
  // Another contact took the id between the check and the write (PostgreSQL, concurrently).
  if (!written && written.error().code == ErrorCode::kAlreadyExists) return false;
  RETURN_IF_ERROR(written);
  return set;
}

Status SqlStore::PauseCampaignFor(int64_t campaign_id, std::string_view reason) {
  CampaignEvent event;
  std::string campaign;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    campaign.clear();
    const int64_t now = NowUnixMillis();
    ASSIGN_OR_RETURN(
        int64_t paused,
        tx.Execute("UPDATE campaigns SET state = 'paused', paused_reason = ?, updated_at = ? "
                   "WHERE id = ? AND state = 'running'",
                   {std::string(reason), now, campaign_id}));
    if (paused == 0) return Ok();  // not running (any more): nothing changed, nothing to record
    event = CampaignEvent{0,
                          now,
                          core::ToString(core::Actor::Engine()),
                          CampaignAction::kPause,
                          core::CampaignState::kRunning,
                          core::CampaignState::kPaused,
                          std::string(reason)};
    RETURN_IF_ERROR(internal::RecordCampaignEvent(tx, campaign_id, event));
    ASSIGN_OR_RETURN(std::optional<Row> row,
                     tx.QueryOne("SELECT name FROM campaigns WHERE id = ?", {campaign_id}));
    if (row) campaign = row->Text(0);
    return Ok();
  }));
  if (!campaign.empty()) internal::LogCampaignEvent(campaign, event);
  return Ok();
}

Status SqlStore::SetSharedLink(int64_t campaign_id, std::string_view link) {
  return WriteUnit([&](Tx& tx) -> Status {
    RETURN_IF_ERROR(
        tx.Execute("UPDATE campaigns SET shared_link = ? WHERE id = ? AND shared_link IS NULL",
                   {std::string(link), campaign_id}));
    return Ok();
  });
}

namespace {

// Joins and blocks seen in updates.
Status ApplyMembershipIn(Tx& tx, int64_t account_id, std::span<const MembershipEvent> events,
                         int64_t now) {
  for (const MembershipEvent& event : events) {
    if (event.kind == MembershipEvent::Kind::kBlockedBot) {
      RETURN_IF_ERROR(internal::SuppressUser(tx, event.user_id, "blocked the bot", now));
      continue;
    }
    // Campaigns of this account that target the chat, by id (or, for @channel campaigns,
    // through the invite link).
    const std::string campaigns =
        "SELECT id FROM campaigns WHERE account_id = ?1 AND chat = CAST(?2 AS TEXT)";
    RETURN_IF_ERROR(tx.Execute(
        fmt::format("UPDATE invitations SET state = 'joined', joined_at = ?3, updated_at = ?3 "
                    "WHERE state IN ({}) AND ((?4 <> '' AND invite_link = ?4) OR "
                    "(campaign_id IN ({}) AND contact_id IN (SELECT id FROM contacts WHERE "
                    "telegram_user_id = ?5)))",
                    core::QuotedNames(core::kJoinableStates), campaigns),
        {account_id, event.chat_id, now, event.invite_link, event.user_id}));
    RETURN_IF_ERROR(tx.Execute(
        fmt::format("UPDATE invitations SET state = 'skipped', last_error = 'already a member', "
                    "updated_at = ?3 WHERE state IN ({}) AND "
                    "campaign_id IN ({}) AND contact_id IN (SELECT id FROM contacts WHERE "
                    "telegram_user_id = ?4)",
                    core::QuotedNames(core::kOpenInvitationStates), campaigns),
        {account_id, event.chat_id, now, event.user_id}));
  }
  return Ok();
}

std::string_view KindName(InboxUpdate::Kind kind) {
  switch (kind) {
    case InboxUpdate::Kind::kChatMember:
      return "chat_member";
    case InboxUpdate::Kind::kJoinRequest:
      return "chat_join_request";
    case InboxUpdate::Kind::kMyChatMember:
      return "my_chat_member";
    case InboxUpdate::Kind::kStart:
      return "start";
    case InboxUpdate::Kind::kOther:
      return "other";
  }
  return "other";
}

InboxUpdate::Kind KindOf(std::string_view name) {
  for (auto kind : {InboxUpdate::Kind::kChatMember, InboxUpdate::Kind::kJoinRequest,
                    InboxUpdate::Kind::kMyChatMember, InboxUpdate::Kind::kStart}) {
    if (KindName(kind) == name) return kind;
  }
  return InboxUpdate::Kind::kOther;
}

// A bare /start waits this long for a contact to match it.
constexpr int64_t kStartWaitMs = int64_t{7} * 24 * 3600 * 1000;
// Processed updates are kept this long, so that a late copy of one is still recognised; Telegram
// may reuse update ids after a week without updates.
constexpr int64_t kInboxKeepMs = int64_t{7} * 24 * 3600 * 1000;

// Whether a suppression names the contact by any of its identifiers.
Result<bool> IsSuppressed(Tx& tx, int64_t contact_id) {
  ASSIGN_OR_RETURN(
      int64_t n,
      tx.QueryInt("SELECT EXISTS (SELECT 1 FROM contacts c JOIN suppressions s ON s.key IN "
                  "('id:' || CAST(c.telegram_user_id AS TEXT), 'username:' || c.username, "
                  "'phone:' || c.phone) WHERE c.id = ?)",
                  {contact_id}));
  return n != 0;
}

// The contact who pressed Start gets the sender's user id, so that every campaign can reach them.
// Not for a rehearsal account's simulated users: their invitations carry the id (started_by).
Status LinkContact(Tx& tx, int64_t account_id, int64_t contact_id, int64_t user_id, int64_t now) {
  RETURN_IF_ERROR(tx.Execute(
      "UPDATE contacts SET telegram_user_id = ?, updated_at = ? WHERE id = ? AND EXISTS "
      "(SELECT 1 FROM accounts WHERE id = ? AND kind NOT IN ('rehearsal', 'rehearsal-user'))",
      {user_id, now, contact_id, account_id}));
  return Ok();
}

// The contact's invitations that wait for its start, in campaigns of the account (`also_where`
// narrows them), become pending now (or skipped when the contact is suppressed); each counts as
// started. Returns how many became pending.
Result<int64_t> ReleaseWaiting(Tx& tx, int64_t account_id, int64_t contact_id, int64_t user_id,
                               std::string_view also_where, int64_t now) {
  ASSIGN_OR_RETURN(bool suppressed, IsSuppressed(tx, contact_id));
  const std::string which = fmt::format(
      "contact_id = ?1 AND state = 'awaiting_start' AND campaign_id IN "
      "(SELECT id FROM campaigns WHERE account_id = ?2{})",
      also_where);
  RETURN_IF_ERROR(tx.Execute(
      fmt::format("UPDATE campaigns SET links_started = links_started + 1 WHERE id IN "
                  "(SELECT campaign_id FROM invitations WHERE {})",
                  which),
      {contact_id, account_id}));
  ASSIGN_OR_RETURN(
      int64_t changed,
      // next_attempt_at -1: ahead of every other due row of the campaign, which the claim takes
      // in next_attempt_at order (the person is waiting for the answer to their /start).
      tx.Execute(fmt::format("UPDATE invitations SET state = {}, next_attempt_at = -1, "
                             "started_at = ?3, started_by = ?4, updated_at = ?3 WHERE {}",
                             suppressed ? "'skipped', last_error = 'suppressed'" : "'pending'",
                             which),
                 {contact_id, account_id, now, user_id}));
  return suppressed ? 0 : changed;
}

// A bare /start: the contact with the sender's user id, or else the one contact known only by the
// sender's username, has its waiting invitations in the account's running campaigns released.
Result<StartResult> MatchBareStart(Tx& tx, int64_t account_id, const StartRequest& start,
                                   int64_t now) {
  StartResult result{start.update_id, StartMatch::kWaiting, 0};
  ASSIGN_OR_RETURN(std::optional<Row> contact,
                   tx.QueryOne("SELECT id FROM contacts WHERE telegram_user_id = ?",
                               {start.user_id}));
  if (!contact && !start.username.empty()) {
    ASSIGN_OR_RETURN(contact, tx.QueryOne("SELECT id FROM contacts WHERE username = ? AND "
                                          "telegram_user_id IS NULL",
                                          {start.username}));
    if (contact) {
      RETURN_IF_ERROR(LinkContact(tx, account_id, contact->Int(0), start.user_id, now));
    }
  }
  if (contact) {
    ASSIGN_OR_RETURN(bool suppressed, IsSuppressed(tx, contact->Int(0)));
    ASSIGN_OR_RETURN(result.queued,
                     ReleaseWaiting(tx, account_id, contact->Int(0), start.user_id,
                                    " AND state = 'running'", now));
    if (suppressed) {
      result.match = StartMatch::kSuppressed;
    } else if (result.queued > 0) {
      result.match = StartMatch::kLinked;
    }
  }
  if (result.match == StartMatch::kWaiting) {
    RETURN_IF_ERROR(tx.Execute(
        "INSERT INTO start_waits (account_id, user_id, username, received_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (account_id, user_id) DO UPDATE SET "
        "username = excluded.username, received_at = excluded.received_at",
        {account_id, start.user_id, start.username, now}));
  } else {
    RETURN_IF_ERROR(tx.Execute("DELETE FROM start_waits WHERE account_id = ? AND user_id = ?",
                               {account_id, start.user_id}));
  }
  return result;
}

// "/start <payload>" from someone's personal start link.
Result<StartResult> MatchPayloadStart(Tx& tx, int64_t account_id, const StartRequest& start,
                                      int64_t now) {
  StartResult result{start.update_id, StartMatch::kUnknownPayload, 0};
  ASSIGN_OR_RETURN(
      std::optional<Row> row,
      tx.QueryOne("SELECT i.id, i.state, i.contact_id, c.telegram_user_id, i.campaign_id "
                  "FROM invitations i JOIN contacts c ON c.id = i.contact_id "
                  "JOIN campaigns k ON k.id = i.campaign_id "
                  "WHERE i.start_key = ? AND k.account_id = ?",
                  {start.payload, account_id}));
  if (!row) return result;
  const int64_t invitation_id = row->Int(0);
  int64_t contact_id = row->Int(2);
  const int64_t campaign_id = row->Int(4);
  if (row->Text(1) != "awaiting_start") {
    result.match = StartMatch::kAlreadyHandled;
    return result;
  }
  if (std::optional<int64_t> known = row->OptInt(3)) {
    if (*known != start.user_id) {
      result.match = StartMatch::kOtherUser;
      return result;
    }
  } else {
    ASSIGN_OR_RETURN(std::optional<Row> other,
                     tx.QueryOne("SELECT id FROM contacts WHERE telegram_user_id = ?",
                                 {start.user_id}));
    if (other) {
      // The person is another contact already (imported once by username, once by id): one
      // invitation per person, so this one goes to that contact, or is skipped when it has one.
      ASSIGN_OR_RETURN(int64_t has_one,
                       tx.QueryInt("SELECT COUNT(*) FROM invitations WHERE campaign_id = ? AND "
                                   "contact_id = ?",
                                   {campaign_id, other->Int(0)}));
      if (has_one > 0) {
        RETURN_IF_ERROR(tx.Execute(
            "UPDATE invitations SET state = 'skipped', last_error = ?, started_at = ?, "
            "updated_at = ? WHERE id = ?",
            {fmt::format("the same Telegram user as contact {}", other->Int(0)), now, now,
             invitation_id}));
        result.match = StartMatch::kSamePerson;
        return result;
      }
      RETURN_IF_ERROR(tx.Execute("UPDATE invitations SET contact_id = ? WHERE id = ?",
                                 {other->Int(0), invitation_id}));
      contact_id = other->Int(0);
    } else {
      RETURN_IF_ERROR(LinkContact(tx, account_id, contact_id, start.user_id, now));
    }
  }
  ASSIGN_OR_RETURN(bool suppressed, IsSuppressed(tx, contact_id));
  // This campaign's invitation, and the contact's waiting ones in `both` campaigns of the account
  // (reachable by id now).
  ASSIGN_OR_RETURN(
      result.queued,
      ReleaseWaiting(tx, account_id, contact_id, start.user_id,
                     fmt::format(" AND (id = {} OR reach = 'both')", campaign_id), now));
  result.match = suppressed ? StartMatch::kSuppressed : StartMatch::kLinked;
  return result;
}

}  // namespace

std::string_view ToString(StartMatch match) {
  switch (match) {
    case StartMatch::kLinked:
      return "linked";
    case StartMatch::kUnknownPayload:
      return "unknown_payload";
    case StartMatch::kAlreadyHandled:
      return "already_handled";
    case StartMatch::kOtherUser:
      return "other_user";
    case StartMatch::kSuppressed:
      return "suppressed";
    case StartMatch::kSamePerson:
      return "same_person";
    case StartMatch::kWaiting:
      return "waiting";
  }
  return "?";
}

Status SqlStore::ApplyMembership(int64_t account_id, std::span<const MembershipEvent> events,
                                 int64_t next_offset) {
  return WriteUnit([&](Tx& tx) -> Status {
    RETURN_IF_ERROR(ApplyMembershipIn(tx, account_id, events, NowUnixMillis()));
    RETURN_IF_ERROR(tx.Execute("UPDATE accounts SET updates_offset = ? WHERE id = ?",
                               {next_offset, account_id}));
    return Ok();
  });
}

Result<int64_t> SqlStore::IngestUpdates(int64_t account_id, std::span<const InboxUpdate> updates,
                                        std::optional<int64_t> next_offset) {
  int64_t added = 0;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    added = 0;
    const int64_t now = NowUnixMillis();
    for (const InboxUpdate& u : updates) {
      ASSIGN_OR_RETURN(
          int64_t inserted,
          tx.Execute("INSERT INTO update_inbox (account_id, update_id, kind, chat_id, user_id, "
                     "username, old_status, new_status, invite_link, start_payload, received_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (account_id, update_id) DO NOTHING",
                     {account_id, u.update_id, std::string(KindName(u.kind)), u.chat_id,
                      u.user_id, u.username, u.old_status, u.new_status, u.invite_link,
                      u.kind == InboxUpdate::Kind::kStart ? Value(u.start_payload)
                                                          : Value(std::monostate{}),
                      now}));
      added += inserted;
    }
    if (next_offset) {
      RETURN_IF_ERROR(
          tx.Execute("UPDATE accounts SET updates_offset = ? WHERE id = ? AND updates_offset < ?",
                     {*next_offset, account_id, *next_offset}));
    }
    return Ok();
  }));
  return added;
}

Result<std::vector<InboxUpdate>> SqlStore::PendingUpdates(int64_t account_id, int limit) {
  std::vector<InboxUpdate> updates;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    updates.clear();
    return session.ForEach(
        "SELECT update_id, kind, chat_id, user_id, username, old_status, new_status, invite_link, "
        "COALESCE(start_payload, '') FROM update_inbox WHERE account_id = ? AND processed_at IS "
        "NULL ORDER BY update_id LIMIT ?",
        {account_id, int64_t{limit}}, [&updates](const Row& row) -> Status {
          updates.push_back({row.Int(0), KindOf(row.Text(1)), row.Int(2), row.Int(3),
                             row.Text(4), row.Text(5), row.Text(6), row.Text(7), row.Text(8)});
          return Ok();
        });
  }));
  return updates;
}

Result<std::vector<StartResult>> SqlStore::ApplyUpdates(int64_t account_id,
                                                        const UpdateEffects& effects) {
  std::vector<StartResult> results;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    results.clear();
    const int64_t now = NowUnixMillis();
    // Only updates not processed yet take effect: another worker (or an earlier attempt of this
    // one) may have processed them since they were read.
    std::vector<int64_t> fresh;
    for (int64_t id : effects.processed) {
      ASSIGN_OR_RETURN(int64_t marked,
                       tx.Execute("UPDATE update_inbox SET processed_at = ? WHERE account_id = ? "
                                  "AND update_id = ? AND processed_at IS NULL",
                                  {now, account_id, id}));
      if (marked == 1) fresh.push_back(id);
    }
    auto is_fresh = [&fresh](int64_t id) {
      return std::find(fresh.begin(), fresh.end(), id) != fresh.end();
    };
    std::vector<MembershipEvent> membership;
    for (const MembershipEvent& event : effects.membership) {
      if (event.update_id == 0 || is_fresh(event.update_id)) membership.push_back(event);
    }
    RETURN_IF_ERROR(ApplyMembershipIn(tx, account_id, membership, now));
    for (const StartRequest& start : effects.starts) {
      if (!is_fresh(start.update_id)) {
        results.push_back({start.update_id, StartMatch::kAlreadyHandled, 0});
        continue;
      }
      if (start.payload.empty()) {
        ASSIGN_OR_RETURN(StartResult r, MatchBareStart(tx, account_id, start, now));
        results.push_back(r);
      } else {
        ASSIGN_OR_RETURN(StartResult r, MatchPayloadStart(tx, account_id, start, now));
        results.push_back(r);
      }
    }
    RETURN_IF_ERROR(tx.Execute(
        "DELETE FROM update_inbox WHERE account_id = ? AND processed_at IS NOT NULL AND "
        "processed_at < ?",
        {account_id, now - kInboxKeepMs}));
    return Ok();
  }));
  return results;
}

Result<int64_t> SqlStore::RetryStartWaits(int64_t account_id) {
  int64_t linked = 0;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    linked = 0;
    const int64_t now = NowUnixMillis();
    RETURN_IF_ERROR(tx.Execute("DELETE FROM start_waits WHERE account_id = ? AND received_at < ?",
                               {account_id, now - kStartWaitMs}));
    // Only waits that some contact could match now: by user id, or a username-only contact.
    ASSIGN_OR_RETURN(
        std::vector<Row> waits,
        tx.Query("SELECT w.user_id, w.username FROM start_waits w WHERE w.account_id = ? AND "
                 "(EXISTS (SELECT 1 FROM contacts c WHERE c.telegram_user_id = w.user_id) OR "
                 "EXISTS (SELECT 1 FROM contacts c WHERE c.username = w.username AND "
                 "c.telegram_user_id IS NULL)) ORDER BY w.received_at LIMIT 100",
                 {account_id}));
    for (const Row& wait : waits) {
      ASSIGN_OR_RETURN(StartResult r,
                       MatchBareStart(tx, account_id, {0, wait.Int(0), wait.Text(1), ""}, now));
      if (r.match == StartMatch::kLinked) ++linked;
    }
    return Ok();
  }));
  return linked;
}

Result<std::vector<AwaitingStart>> SqlStore::AwaitingStarts(int64_t account_id, int limit) {
  std::vector<AwaitingStart> waiting;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    waiting.clear();
    return session.ForEach(
        "SELECT i.start_key, COALESCE(c.username, '') FROM invitations i "
        "JOIN contacts c ON c.id = i.contact_id JOIN campaigns k ON k.id = i.campaign_id "
        "WHERE k.account_id = ? AND k.state = 'running' AND i.state = 'awaiting_start' "
        "ORDER BY i.id LIMIT ?",
        {account_id, int64_t{limit}}, [&waiting](const Row& row) -> Status {
          waiting.push_back({row.Text(0), row.Text(1)});
          return Ok();
        });
  }));
  return waiting;
}

Result<bool> SqlStore::IsInvitedJoinRequest(int64_t account_id, int64_t chat_id, int64_t user_id,
                                               std::string_view invite_link) {
  bool invited = false;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(
        int64_t n,
        session.QueryInt(
            fmt::format("SELECT EXISTS (SELECT 1 FROM invitations i JOIN campaigns c ON c.id = "
                        "i.campaign_id WHERE c.account_id = ?1 AND c.link_mode = 'join-request' "
                        "AND i.state IN ({}) AND ((?4 <> '' AND i.invite_link = ?4) OR (c.chat = "
                        "CAST(?2 AS TEXT) AND i.contact_id IN (SELECT id FROM contacts WHERE "
                        "telegram_user_id = ?3))))",
                        core::QuotedNames(core::kJoinableStates)),
            {account_id, chat_id, user_id, std::string(invite_link)}));
    invited = n != 0;
    return Ok();
  }));
  return invited;
}

Result<std::vector<WorkerInfo>> SqlStore::ListWorkers() {
  std::vector<WorkerInfo> workers;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    return session.ForEach(
        "SELECT id, host, pid, started_at, heartbeat_at, health, reason, COALESCE(stopped_at, 0) "
        "FROM workers ORDER BY heartbeat_at DESC LIMIT 50",
        {}, [&workers](const Row& row) -> Status {
          workers.push_back({row.Text(0), row.Text(1), row.Int(2), row.Int(3), row.Int(4),
                             row.Text(5), row.Text(6), row.Int(7)});
          return Ok();
        });
  }));
  return workers;
}

Result<std::vector<AttemptTally>> SqlStore::TallyAttempts() {
  std::vector<AttemptTally> tallies;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    return session.ForEach(
        // An attempt's own account (an erased person's attempts have no invitation any more);
        // the invitation's campaign's for attempts recorded before attempts named theirs.
        "SELECT ac.name, t.request, t.outcome, COUNT(*) FROM attempts t "
        "LEFT JOIN invitations i ON i.id = t.invitation_id "
        "LEFT JOIN campaigns c ON c.id = i.campaign_id "
        "JOIN accounts ac ON ac.id = COALESCE(t.account_id, c.account_id) "
        "GROUP BY ac.name, t.request, t.outcome ORDER BY ac.name, t.request, t.outcome",
        {}, [&tallies](const Row& row) -> Status {
          tallies.push_back({row.Text(0), row.Text(1), row.Text(2), row.Int(3)});
          return Ok();
        });
  }));
  return tallies;
}

}  // namespace tginvite::storage
