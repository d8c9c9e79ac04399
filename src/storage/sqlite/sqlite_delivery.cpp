// The SqliteStore's delivery methods: claims, sending marks, outcomes, rescue, memberships and
// the worker registry. SQLite has one writer, so a claim needs no row locks: the write
// transaction itself serialises claimers.
#include <algorithm>
#include <random>

#include "core/invitation_states.h"
#include "storage/claim_rows.h"
#include "storage/slot_calendar.h"
#include "storage/sql_rows.h"
#include "storage/sqlite/sqlite_store.h"

namespace tginvite::storage {
namespace {

std::string AccountLimiterKey(int64_t account_id) { return fmt::format("account:{}", account_id); }

// The claimable states as an IN list; the same text as the due index's WHERE (schema.cpp), which
// SQLite uses only for a query that repeats its term.
const std::string& ClaimableStates() {
  static const std::string kList = core::QuotedNames(core::kClaimableStates);
  return kList;
}

// The next time a row of the campaign may be claimed: its pacing, or its earliest due row.
Result<int64_t> NextDue(Tx& tx, int64_t campaign_id, int64_t pacing_next_at) {
  ASSIGN_OR_RETURN(std::optional<Row> row,
                   tx.QueryOne(fmt::format("SELECT MIN(next_attempt_at) FROM invitations "
                                           "WHERE campaign_id = ? AND state IN ({})",
                                           ClaimableStates()),
                               {campaign_id}));
  if (!row || row->IsNull(0)) return int64_t{0};
  return std::max(row->Int(0), pacing_next_at);
}

}  // namespace

Result<ClaimResult> SqliteStore::ClaimInvitations(const ClaimRequest& request) {
  ClaimResult result;
  RETURN_IF_ERROR(Write([&](Tx& tx) -> Status {
    result = {};
    // The write lock is held from here (BEGIN IMMEDIATE): slots count from after the wait for it.
    const int64_t now = request.clock ? std::max(request.now, request.clock()) : request.now;
    ASSIGN_OR_RETURN(
        std::optional<Row> account,
        tx.QueryOne("SELECT flood_until, health FROM accounts WHERE id = ?", {request.account_id}));
    if (!account) return Fail(ErrorCode::kNotFound, "no account {}", request.account_id);
    if (core::ParseAccountHealth(account->Text(1)) != core::AccountHealth::kOk) return Ok();
    if (account->Int(0) > now) {
      result.flood_until = account->Int(0);
      return Ok();
    }
    const std::string limiter_key = AccountLimiterKey(request.account_id);
    ASSIGN_OR_RETURN(std::optional<Row> stored,
                     tx.QueryOne("SELECT reserved FROM rate_limits WHERE key = ?", {limiter_key}));
    internal::SlotCalendar limiter(stored ? stored->Text(0) : "", now,
                                   request.emission_interval);
    const int64_t first_slot = now + request.lead.count();
    const int64_t horizon_end = first_slot + request.horizon.count();
    std::mt19937_64 random(request.seed);

    std::vector<CampaignPlan> plans = request.campaigns;
    if (!plans.empty()) {  // a different campaign goes first each time: fairness between them
      std::rotate(plans.begin(),
                  plans.begin() + static_cast<ptrdiff_t>(request.seed % plans.size()), plans.end());
    }
    int64_t next_due = 0;
    for (const CampaignPlan& plan : plans) {
      if (static_cast<int>(result.claims.size()) >= request.max_rows) break;
      ASSIGN_OR_RETURN(std::optional<Row> pacing_row,
                       tx.QueryOne("SELECT pacing_next_at, pacing_in_cycle FROM campaigns WHERE "
                                   "id = ? AND state = 'running'",
                                   {plan.campaign_id}));
      if (!pacing_row) continue;
      internal::Pacing pacing{pacing_row->Int(0), pacing_row->Int(1)};
      const bool paced = plan.paced();
      const int64_t room = request.max_rows - static_cast<int64_t>(result.claims.size());
      ASSIGN_OR_RETURN(
          std::vector<Row> candidates,
          tx.Query(fmt::format("SELECT {} FROM invitations i "
                               "JOIN contacts c ON c.id = i.contact_id "
                               "WHERE i.campaign_id = ? AND i.state IN ({}) AND "
                               "i.next_attempt_at <= ? ORDER BY i.next_attempt_at, i.id LIMIT ?",
                               internal::kCandidateColumns, ClaimableStates()),
                   {plan.campaign_id, now, room}));
      bool claimed_any = false;
      for (const Row& row : candidates) {
        if (request.reach == ClaimRequest::Reach::kUserIdOnly && row.IsNull(4)) {
          // Unreachable for this account: skipped at once, without spending a slot.
          RETURN_IF_ERROR(
              tx.Execute("UPDATE invitations SET state = 'skipped', last_error = ?, updated_at = ? "
                         "WHERE id = ?",
                         {std::string(kNoUserIdReason), now, row.Int(0)}));
          continue;
        }
        // An answer to someone's /start is not paced: the person is waiting for it. (Such rows
        // come first: their next_attempt_at is -1.)
        const bool answers_start = row.Int(11) != 0;
        int64_t slot = limiter.Earliest(std::max(first_slot, answers_start ? 0 : pacing.next_at));
        if (slot > horizon_end) break;
        // The contact's chat got a message too recently (from another campaign, say): later.
        slot = limiter.Earliest(std::max(slot, row.Int(10)));
        if (slot > horizon_end) continue;
        limiter.Take(slot);
        RETURN_IF_ERROR(tx.Execute("UPDATE contacts SET next_message_at = ? WHERE id = ?",
                                   {slot + request.chat_interval.count(), row.Int(9)}));
        RETURN_IF_ERROR(
            tx.Execute("UPDATE invitations SET state = 'sending', gen = gen + 1, lease_until = ?, "
                       "send_started_at = NULL, claimed_by = ?, updated_at = ? WHERE id = ?",
                       {slot + request.lease.count(), request.worker_id, now, row.Int(0)}));
        result.claims.push_back(
            internal::ClaimFromCandidate(row, plan.campaign_id, slot, paced && !answers_start));
        claimed_any = true;
        if (paced && !answers_start) pacing.Advance(plan, slot, random);
      }
      if (claimed_any && paced) {
        RETURN_IF_ERROR(
            tx.Execute("UPDATE campaigns SET pacing_next_at = ?, pacing_in_cycle = ? WHERE id = ?",
                       {pacing.next_at, pacing.in_cycle, plan.campaign_id}));
      }
      ASSIGN_OR_RETURN(int64_t due, NextDue(tx, plan.campaign_id, pacing.next_at));
      if (due > 0 && (next_due == 0 || due < next_due)) next_due = due;
    }
    result.next_due = next_due > 0 ? limiter.Earliest(next_due) : 0;
    if (!result.claims.empty()) {
      RETURN_IF_ERROR(tx.Execute(
          "INSERT INTO rate_limits (key, tat, reserved) VALUES (?, ?, ?) "
          "ON CONFLICT (key) DO UPDATE SET tat = excluded.tat, reserved = excluded.reserved",
          {limiter_key, limiter.Frontier(), limiter.Stored()}));
    }
    return Ok();
  }));
  return result;
}

Result<std::vector<int64_t>> SqliteStore::ReslotLate(const ReslotRequest& request) {
  std::vector<int64_t> slots;
  RETURN_IF_ERROR(Write([&](Tx& tx) -> Status {
    slots.assign(request.rows.size(), 0);
    const int64_t now = request.clock ? std::max(request.now, request.clock()) : request.now;
    const std::string limiter_key = AccountLimiterKey(request.account_id);
    ASSIGN_OR_RETURN(std::optional<Row> stored,
                     tx.QueryOne("SELECT reserved FROM rate_limits WHERE key = ?", {limiter_key}));
    internal::SlotCalendar limiter(stored ? stored->Text(0) : "", now,
                                   request.emission_interval);
    bool moved = false;
    internal::PacingShifts pacing;
    for (size_t k = 0; k < request.rows.size(); ++k) {
      const ReslotRequest::Row& late = request.rows[k];
      ASSIGN_OR_RETURN(
          std::optional<Row> chat,
          tx.QueryOne("SELECT c.id, c.next_message_at FROM invitations i JOIN contacts c ON "
                      "c.id = i.contact_id WHERE i.id = ? AND i.gen = ? AND i.state = 'sending'",
                      {late.invitation_id, late.gen}));
      // Its chat's next message was planned from a later slot than this one's: keep it.
      if (!chat || chat->Int(1) != late.slot + request.chat_interval.count()) continue;
      // (Slots before now - interval are dropped, never those a claim made now could crowd.)
      const int64_t from = now + request.delay.count();
      const int64_t slot = limiter.Earliest(std::max(from, late.slot));
      if (slot > from + request.horizon.count()) continue;
      limiter.Take(slot);
      RETURN_IF_ERROR(tx.Execute("UPDATE contacts SET next_message_at = ? WHERE id = ?",
                                 {slot + request.chat_interval.count(), chat->Int(0)}));
      slots[k] = slot;
      moved = true;
      pacing.Note(late, slot);
    }
    if (moved) {
      RETURN_IF_ERROR(tx.Execute("UPDATE rate_limits SET tat = ?, reserved = ? WHERE key = ?",
                                 {limiter.Frontier(), limiter.Stored(), limiter_key}));
    }
    return pacing.Apply(tx);
  }));
  return slots;
}

Result<std::vector<int64_t>> SqliteStore::MarkSending(std::span<const SendingMark> marks,
                                                      int64_t now,
                                                      std::chrono::milliseconds lease) {
  std::vector<int64_t> ours;
  RETURN_IF_ERROR(Write(
      [&](Tx& tx) -> Status {
        ours.clear();
        for (const SendingMark& mark : marks) {
          ASSIGN_OR_RETURN(
              int64_t changed,
              tx.Execute("UPDATE invitations SET send_started_at = ?1, lease_until = ?2, "
                         "invite_link = COALESCE(?3, invite_link), link_expires_at = CASE WHEN "
                         "?3 IS NULL THEN link_expires_at ELSE NULLIF(?4, 0) END, updated_at = ?1 "
                         "WHERE id = ?5 AND gen = ?6 AND state = 'sending'",
                         {now, now + lease.count(), NullIfEmpty(mark.invite_link),
                          mark.link_expires_at, mark.invitation_id, mark.gen}));
          if (changed == 1) ours.push_back(mark.invitation_id);
        }
        return Ok();
        // After a power loss a lost mark would make a sent request look unsent, and it would be
        // sent again: this one commit is always fsynced, whatever ?synchronous= says.
      },
      {}, Durability::kPowerSafe));
  return ours;
}

Result<int64_t> SqliteStore::RecordOutcomes(std::span<const OutcomeRecord> outcomes, int64_t now) {
  int64_t applied = 0;
  RETURN_IF_ERROR(Write([&](Tx& tx) -> Status {
    applied = 0;
    for (const OutcomeRecord& outcome : outcomes) {
      // A user account's add that succeeded: recorded as sent, then joined, as a sent row that
      // joined would be (so the counts and the per-minute triggers see both).
      const bool joined = outcome.state == core::InvitationState::kJoined;
      const std::string state(
          core::ToString(joined ? core::InvitationState::kSent : outcome.state));
      // -1 keeps the row's step.
      const int64_t step = outcome.state == core::InvitationState::kPending && outcome.next_step
                               ? int64_t{*outcome.next_step}
                               : int64_t{-1};
      ASSIGN_OR_RETURN(
          int64_t changed,
          tx.Execute("UPDATE invitations SET state = ?1, next_attempt_at = ?2, "
                     "last_error = NULLIF(?3, ''), attempts = attempts + ?4, lease_until = NULL, "
                     "invite_link = COALESCE(NULLIF(?8, ''), invite_link), "
                     "link_expires_at = CASE WHEN ?8 = '' THEN link_expires_at ELSE "
                     "NULLIF(?10, 0) END, "
                     "send_started_at = CASE WHEN ?1 = 'pending' THEN NULL ELSE send_started_at "
                     "END, sent_at = CASE WHEN ?1 = 'sent' THEN ?5 ELSE sent_at END, "
                     "step = CASE WHEN ?9 >= 0 THEN ?9 ELSE step END, "
                     "updated_at = ?5 WHERE id = ?6 AND gen = ?7 AND state = 'sending'",
                     {state, outcome.next_attempt_at, outcome.error,
                      int64_t{outcome.count == AttemptCount::kCounted ? 1 : 0}, now,
                      outcome.invitation_id, outcome.gen, outcome.invite_link, step,
                      outcome.link_expires_at}));
      if (joined && changed == 1) {
        RETURN_IF_ERROR(
            tx.Execute("UPDATE invitations SET state = 'joined', joined_at = ?1, "
                       "updated_at = ?1 WHERE id = ?2 AND state = 'sent'",
                       {now, outcome.invitation_id}));
      }
      applied += changed;
      // The requests happened whether or not the outcome still applies: the history keeps them.
      std::vector<const AttemptRecord*> made;
      for (const AttemptRecord& earlier : outcome.earlier_attempts) made.push_back(&earlier);
      if (outcome.attempt) made.push_back(&*outcome.attempt);
      for (const AttemptRecord* a : made) {
        RETURN_IF_ERROR(tx.Execute(
            "INSERT INTO attempts (invitation_id, gen, worker, request, started_at, latency_ms, "
            "http_status, error_code, error, outcome, account_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
            "?7, ?8, ?9, ?10, (SELECT c.account_id FROM invitations i JOIN campaigns c ON c.id = "
            "i.campaign_id WHERE i.id = ?1))",
            {outcome.invitation_id, outcome.gen, a->worker, a->request, a->started_at,
             a->latency_ms, int64_t{a->http_status}, int64_t{a->error_code}, NullIfEmpty(a->error),
             a->outcome}));
      }
      if (outcome.suppress_user) {
        RETURN_IF_ERROR(internal::SuppressUser(tx, *outcome.suppress_user, "blocked the bot", now));
      }
    }
    return Ok();
  }));
  return applied;
}

Result<int64_t> SqliteStore::RescueExpiredLeases(int64_t now,
                                                 std::span<const int64_t> resend_campaigns) {
  int64_t rescued = 0;
  RETURN_IF_ERROR(Write([&](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(
        int64_t released,
        tx.Execute("UPDATE invitations SET state = 'pending', lease_until = NULL, claimed_by = "
                   "NULL, updated_at = ? WHERE state = 'sending' AND lease_until < ? "
                   "AND send_started_at IS NULL",
                   {now, now}));
    std::string resend = "0";
    for (int64_t id : resend_campaigns) resend += fmt::format(",{}", id);
    ASSIGN_OR_RETURN(
        int64_t ambiguous,
        tx.Execute(
            fmt::format("UPDATE invitations SET state = CASE WHEN campaign_id IN ({}) THEN "
                        "'waiting' ELSE 'unknown' END, next_attempt_at = ?1, last_error = "
                        "'lease expired while its request was in flight', lease_until = NULL, "
                        "updated_at = ?1 WHERE state = 'sending' AND lease_until < ?1 "
                        "AND send_started_at IS NOT NULL",
                        resend),
            {now}));
    rescued = released + ambiguous;
    return Ok();
  }));
  return rescued;
}

}  // namespace tginvite::storage
