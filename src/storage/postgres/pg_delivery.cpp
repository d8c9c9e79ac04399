// The PgStore's delivery methods: claims, sending marks, outcomes, rescue, memberships and the
// worker registry. Many workers claim at once here: a claim takes due rows with FOR UPDATE SKIP
// LOCKED, then locks its account's limiter row (so the claims of one account are serialised
// fleet-wide and its limit holds across workers) and writes the rows, the contacts' per-chat
// limiter, the campaign's pacing and the limiter's slots in one statement of the same transaction:
// the lock is held for two round trips, however many rows and campaigns the claim has.
#include <algorithm>
#include <map>
#include <random>

#include "core/invitation_states.h"
#include "storage/claim_rows.h"
#include "storage/postgres/pg_store.h"
#include "storage/slot_calendar.h"
#include "storage/sql_rows.h"

namespace tginvite::storage {
namespace {

std::string AccountLimiterKey(int64_t account_id) { return fmt::format("account:{}", account_id); }

// Advisory lock key ("tgirescu" in ASCII): one process at a time rescues expired leases.
constexpr int64_t kRescueLock = 0x7467697265736375;

// A PostgreSQL array literal of integers: "{1,2,3}".
std::string IntArray(std::span<const int64_t> values) {
  std::string text = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text += ',';
    text += std::to_string(values[i]);
  }
  return text + "}";
}

// A text[] literal; every element quoted, so that commas, braces, quotes and backslashes in
// links and error messages survive. An empty string stays empty (callers use NULLIF).
std::string TextArray(const std::vector<std::string_view>& values) {
  std::string text = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text += ',';
    text += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') text += '\\';
      text += c;
    }
    text += '"';
  }
  return text + "}";
}

}  // namespace

Result<ClaimResult> PgStore::ClaimInvitations(const ClaimRequest& request) {
  ClaimResult result;
  std::vector<CampaignPlan> plans = request.campaigns;
  if (!plans.empty()) {  // a different campaign goes first each time: fairness between them
    std::rotate(plans.begin(), plans.begin() + static_cast<ptrdiff_t>(request.seed % plans.size()),
                plans.end());
  }
  std::vector<int64_t> plan_ids;
  plan_ids.reserve(plans.size());
  for (const CampaignPlan& plan : plans) plan_ids.push_back(plan.campaign_id);
  const std::string limiter_key = AccountLimiterKey(request.account_id);

  RETURN_IF_ERROR(Write([&](Tx& tx) -> Status {
    result = {};
    int64_t now = request.now;
    // 1. Before the account's limiter is locked, what does not depend on it: the due rows, taken
    //    with FOR UPDATE SKIP LOCKED (rows and contacts another transaction holds are passed
    //    over, not waited for: a contact claimed for another account's campaign, a row being
    //    recorded), and each campaign's earliest due row.
    std::map<int64_t, std::vector<Row>> candidates;
    int64_t taken = 0;
    for (const CampaignPlan& plan : plans) {
      if (taken >= request.max_rows) break;
      ASSIGN_OR_RETURN(
          std::vector<Row> rows,
          tx.Query(fmt::format("SELECT {} FROM invitations i "
                               "JOIN contacts c ON c.id = i.contact_id "
                               "WHERE i.campaign_id = ? AND i.state IN ({}) AND "
                               "i.next_attempt_at <= ? ORDER BY i.next_attempt_at, i.id LIMIT ? "
                               "FOR UPDATE OF i, c SKIP LOCKED",
                               internal::kCandidateColumns,
                               core::QuotedNames(core::kClaimableStates)),
                   {plan.campaign_id, now, request.max_rows - taken}));
      taken += static_cast<int64_t>(rows.size());
      candidates[plan.campaign_id] = std::move(rows);
    }
    std::map<int64_t, int64_t> earliest_due;
    ASSIGN_OR_RETURN(
        std::vector<Row> due_rows,
        // One probe of the partial due index per campaign (0.06 ms): a MIN grouped by campaign
        // read every row of the campaign, due or not (a bitmap heap scan, 0.57 ms at 600 rows).
        tx.Query(fmt::format("SELECT p.id, (SELECT i.next_attempt_at FROM invitations i WHERE "
                             "i.campaign_id = p.id AND i.state IN ({}) ORDER BY "
                             "i.next_attempt_at LIMIT 1) FROM unnest(?::bigint[]) AS p(id)",
                             core::QuotedNames(core::kClaimableStates)),
                 {IntArray(plan_ids)}));
    for (const Row& row : due_rows) {
      if (!row.IsNull(1)) earliest_due[row.Int(0)] = row.Int(1);
    }

    // 2. The account's limiter row, locked until this transaction ends: every claim of the account,
    //    on every worker, queues here and reads the state the previous one committed, so from
    //    here to COMMIT is two round trips. With it, read after the lock so that a 429 another
    //    worker recorded before is seen: the account's pause and health, and the running
    //    campaigns' pacing (one row per campaign; one row of NULLs when none is running).
    const std::string lock_sql =
        "SELECT r.reserved, a.flood_until, a.health, k.id, k.pacing_next_at, k.pacing_in_cycle "
        "FROM rate_limits r JOIN accounts a ON a.id = ? "
        "LEFT JOIN campaigns k ON k.id = ANY(?::bigint[]) AND k.state = 'running' "
        "WHERE r.key = ? FOR UPDATE OF r";
    ASSIGN_OR_RETURN(std::vector<Row> locked,
                     tx.Query(lock_sql, {request.account_id, IntArray(plan_ids), limiter_key}));
    if (locked.empty()) {
      RETURN_IF_ERROR(tx.Execute(
          "INSERT INTO rate_limits (key, tat) VALUES (?, 0) ON CONFLICT (key) DO NOTHING",
          {limiter_key}));
      ASSIGN_OR_RETURN(locked,
                       tx.Query(lock_sql, {request.account_id, IntArray(plan_ids), limiter_key}));
      if (locked.empty()) return Fail(ErrorCode::kNotFound, "no account {}", request.account_id);
    }
    // The wait for the lock may have been long (another worker's claim): slots count from now.
    if (request.clock) now = std::max(now, request.clock());
    internal::SlotCalendar limiter(locked[0].Text(0), now, request.emission_interval);
    if (core::ParseAccountHealth(locked[0].Text(2)) != core::AccountHealth::kOk) return Ok();
    if (locked[0].Int(1) > now) {
      result.flood_until = locked[0].Int(1);
      return Ok();
    }
    std::map<int64_t, internal::Pacing> running;
    for (const Row& row : locked) {
      if (!row.IsNull(3)) running[row.Int(3)] = {row.Int(4), row.Int(5)};
    }

    // 3. Slots, in C++: the account's limiter, each campaign's pacing, each chat's interval.
    const int64_t first_slot = now + request.lead.count();
    const int64_t horizon_end = first_slot + request.horizon.count();
    std::mt19937_64 random(request.seed);
    std::vector<int64_t> claimed_ids, claimed_leases, unreachable;
    std::vector<int64_t> paced_ids, paced_next, paced_in_cycle;
    // Each contact's next_message_at as this claim leaves it: a contact in two of the account's
    // campaigns may come up twice in one claim, and the rows read above do not show the first.
    std::map<int64_t, int64_t> chat_next;
    int64_t next_due = 0;
    for (const CampaignPlan& plan : plans) {
      auto found = running.find(plan.campaign_id);
      if (found == running.end()) continue;
      internal::Pacing& pacing = found->second;
      const bool paced = plan.paced();
      bool claimed_any = false;
      for (const Row& row : candidates[plan.campaign_id]) {
        if (static_cast<int>(result.claims.size()) >= request.max_rows) break;
        if (request.reach == ClaimRequest::Reach::kUserIdOnly && row.IsNull(4)) {
          // Unreachable for this account: skipped at once, without spending a slot.
          unreachable.push_back(row.Int(0));
          continue;
        }
        // An answer to someone's /start is not paced: the person is waiting for it. (Such rows
        // come first: their next_attempt_at is -1.)
        const bool answers_start = row.Int(11) != 0;
        int64_t slot = limiter.Earliest(std::max(first_slot, answers_start ? 0 : pacing.next_at));
        if (slot > horizon_end) break;
        // The contact's chat got a message too recently (from another campaign, say): later.
        auto chat = chat_next.try_emplace(row.Int(9), row.Int(10)).first;
        slot = limiter.Earliest(std::max(slot, chat->second));
        if (slot > horizon_end) continue;
        limiter.Take(slot);
        chat->second = slot + request.chat_interval.count();
        claimed_ids.push_back(row.Int(0));
        claimed_leases.push_back(slot + request.lease.count());
        result.claims.push_back(
            internal::ClaimFromCandidate(row, plan.campaign_id, slot, paced && !answers_start));
        claimed_any = true;
        if (paced && !answers_start) pacing.Advance(plan, slot, random);
      }
      if (claimed_any && paced) {
        paced_ids.push_back(plan.campaign_id);
        paced_next.push_back(pacing.next_at);
        paced_in_cycle.push_back(pacing.in_cycle);
      }
      // The next time a row of the campaign may be claimed: its pacing, or its earliest due row.
      // (As on SQLite, a campaign whose rows are all due and unpaced gives 0: unknown.)
      if (auto due = earliest_due.find(plan.campaign_id); due != earliest_due.end()) {
        const int64_t at = std::max(due->second, pacing.next_at);
        if (at > 0 && (next_due == 0 || at < next_due)) next_due = at;
      }
    }

    // 4. Everything this claim writes, in one statement.
    if (!unreachable.empty()) {
      RETURN_IF_ERROR(
          tx.Execute("UPDATE invitations SET state = 'skipped', last_error = ?, updated_at = ? "
                     "WHERE id = ANY(?::bigint[])",
                     {std::string(kNoUserIdReason), now, IntArray(unreachable)}));
    }
    if (!claimed_ids.empty()) {
      std::vector<int64_t> contact_ids, contact_next;
      for (const auto& [contact, next] : chat_next) {
        contact_ids.push_back(contact);
        contact_next.push_back(next);
      }
      RETURN_IF_ERROR(tx.Execute(
          "WITH chats AS (UPDATE contacts c SET next_message_at = u.next FROM (SELECT "
          "unnest(?::bigint[]) AS id, unnest(?::bigint[]) AS next) u WHERE c.id = u.id), "
          "claimed AS (UPDATE invitations i SET state = 'sending', gen = i.gen + 1, "
          "lease_until = u.lease, send_started_at = NULL, claimed_by = ?, updated_at = ? FROM "
          "(SELECT unnest(?::bigint[]) AS id, unnest(?::bigint[]) AS lease) u WHERE i.id = u.id), "
          "pacing AS (UPDATE campaigns k SET pacing_next_at = u.next, pacing_in_cycle = u.n FROM "
          "(SELECT unnest(?::bigint[]) AS id, unnest(?::bigint[]) AS next, "
          "unnest(?::bigint[]) AS n) u WHERE k.id = u.id) "
          "UPDATE rate_limits SET tat = ?, reserved = ? WHERE key = ?",
          {IntArray(contact_ids), IntArray(contact_next), request.worker_id, now,
           IntArray(claimed_ids), IntArray(claimed_leases), IntArray(paced_ids),
           IntArray(paced_next), IntArray(paced_in_cycle), limiter.Frontier(), limiter.Stored(),
           limiter_key}));
    }
    result.next_due = next_due > 0 ? limiter.Earliest(next_due) : 0;
    return Ok();
  }));
  return result;
}

Result<std::vector<int64_t>> PgStore::ReslotLate(const ReslotRequest& request) {
  std::vector<int64_t> ids, gens;
  for (const ReslotRequest::Row& row : request.rows) {
    ids.push_back(row.invitation_id);
    gens.push_back(row.gen);
  }
  const std::string limiter_key = AccountLimiterKey(request.account_id);
  std::vector<int64_t> slots;
  RETURN_IF_ERROR(Write([&](Tx& tx) -> Status {
    slots.assign(request.rows.size(), 0);
    // The contacts first, then the limiter, as a claim takes them; a contact another claim holds
    // is passed over, not waited for (its row keeps its old slot).
    std::map<int64_t, std::pair<int64_t, int64_t>> chats;  // by invitation: contact, next message
    RETURN_IF_ERROR(tx.ForEach(
        "SELECT i.id, c.id, c.next_message_at FROM unnest(?::bigint[], ?::bigint[]) AS m(id, gen) "
        "JOIN invitations i ON i.id = m.id AND i.gen = m.gen AND i.state = 'sending' "
        "JOIN contacts c ON c.id = i.contact_id FOR UPDATE OF c SKIP LOCKED",
        {IntArray(ids), IntArray(gens)}, [&chats](const Row& row) -> Status {
          chats[row.Int(0)] = {row.Int(1), row.Int(2)};
          return Ok();
        }));
    if (chats.empty()) return Ok();
    ASSIGN_OR_RETURN(
        std::optional<Row> stored,
        tx.QueryOne("SELECT reserved FROM rate_limits WHERE key = ? FOR UPDATE", {limiter_key}));
    if (!stored) return Ok();
    const int64_t now = request.clock ? std::max(request.now, request.clock()) : request.now;
    internal::SlotCalendar limiter(stored->Text(0), now, request.emission_interval);
    std::vector<int64_t> contact_ids, contact_next;
    internal::PacingShifts pacing;
    for (size_t k = 0; k < request.rows.size(); ++k) {
      const ReslotRequest::Row& late = request.rows[k];
      auto chat = chats.find(late.invitation_id);
      // Its chat's next message was planned from a later slot than this one's: keep it.
      if (chat == chats.end() || chat->second.second != late.slot + request.chat_interval.count()) {
        continue;
      }
      // (Slots before now - interval are dropped, never those a claim made now could crowd.)
      const int64_t from = now + request.delay.count();
      const int64_t slot = limiter.Earliest(std::max(from, late.slot));
      if (slot > from + request.horizon.count()) continue;
      limiter.Take(slot);
      contact_ids.push_back(chat->second.first);
      contact_next.push_back(slot + request.chat_interval.count());
      slots[k] = slot;
      pacing.Note(late, slot);
    }
    if (contact_ids.empty()) return Ok();
    RETURN_IF_ERROR(
        tx.Execute("WITH chats AS (UPDATE contacts c SET next_message_at = u.next FROM (SELECT "
                   "unnest(?::bigint[]) AS id, unnest(?::bigint[]) AS next) u WHERE c.id = u.id) "
                   "UPDATE rate_limits SET tat = ?, reserved = ? WHERE key = ?",
                   {IntArray(contact_ids), IntArray(contact_next), limiter.Frontier(),
                    limiter.Stored(), limiter_key}));
    return pacing.Apply(tx);
  }));
  return slots;
}

Result<std::vector<int64_t>> PgStore::MarkSending(std::span<const SendingMark> marks, int64_t now,
                                                  std::chrono::milliseconds lease) {
  std::vector<int64_t> ids, gens, expiries;
  std::vector<std::string_view> links;
  for (const SendingMark& mark : marks) {
    ids.push_back(mark.invitation_id);
    gens.push_back(mark.gen);
    links.push_back(mark.invite_link);
    expiries.push_back(mark.link_expires_at);
  }
  std::vector<int64_t> ours;
  RETURN_IF_ERROR(Write(
      [&](Tx& tx) -> Status {
        ours.clear();
        // One statement for the batch: the rows still ours (same generation, still sending).
        RETURN_IF_ERROR(
            tx.ForEach("UPDATE invitations i SET send_started_at = ?1, lease_until = ?2, "
                       "invite_link = COALESCE(NULLIF(m.link, ''), i.invite_link), "
                       "link_expires_at = CASE WHEN m.link = '' THEN i.link_expires_at ELSE "
                       "NULLIF(m.expires, 0) END, updated_at = ?1 "
                       "FROM unnest(?3::bigint[], ?4::bigint[], ?5::text[], ?6::bigint[]) "
                       "AS m(id, gen, link, expires) "
                       "WHERE i.id = m.id AND i.gen = m.gen AND i.state = 'sending' RETURNING i.id",
                       {now, now + lease.count(), IntArray(ids), IntArray(gens), TextArray(links),
                        IntArray(expiries)},
                       [&ours](const Row& row) -> Status {
                         ours.push_back(row.Int(0));
                         return Ok();
                       }));
        return Ok();
        // After a crash of the server a lost mark would make a sent request look unsent, and it
        // would be sent again: this one commit is always durable, whatever synchronous_commit
        // the server runs with.
      },
      {}, Durability::kDurable));
  return ours;
}

Result<int64_t> PgStore::RecordOutcomes(std::span<const OutcomeRecord> outcomes, int64_t now) {
  // Column arrays: one UPDATE for the outcomes and one INSERT for the attempts, whatever the
  // batch's size.
  std::vector<int64_t> ids, gens, next_at, counted, steps, expiries;
  std::vector<std::string> states;
  // A user account's add that succeeded: recorded as sent, then joined, as a sent row that joined
  // would be (so the counts and the per-minute deltas see both).
  std::vector<int64_t> joined;
  std::vector<std::string_view> errors, links;
  std::vector<int64_t> a_ids, a_gens, a_started, a_latency, a_status, a_code;
  std::vector<std::string_view> a_worker, a_request, a_error, a_outcome;
  for (const OutcomeRecord& outcome : outcomes) {
    ids.push_back(outcome.invitation_id);
    gens.push_back(outcome.gen);
    const bool joins = outcome.state == core::InvitationState::kJoined;
    if (joins) joined.push_back(outcome.invitation_id);
    states.emplace_back(core::ToString(joins ? core::InvitationState::kSent : outcome.state));
    // -1 keeps the row's step.
    steps.push_back(outcome.state == core::InvitationState::kPending && outcome.next_step
                        ? int64_t{*outcome.next_step}
                        : int64_t{-1});
    next_at.push_back(outcome.next_attempt_at);
    errors.push_back(outcome.error);
    counted.push_back(outcome.count == AttemptCount::kCounted ? 1 : 0);
    links.push_back(outcome.invite_link);
    expiries.push_back(outcome.link_expires_at);
    // The requests happened whether or not the outcome still applies: the history keeps them.
    std::vector<const AttemptRecord*> made;
    for (const AttemptRecord& earlier : outcome.earlier_attempts) made.push_back(&earlier);
    if (outcome.attempt) made.push_back(&*outcome.attempt);
    for (const AttemptRecord* a : made) {
      a_ids.push_back(outcome.invitation_id);
      a_gens.push_back(outcome.gen);
      a_worker.push_back(a->worker);
      a_request.push_back(a->request);
      a_started.push_back(a->started_at);
      a_latency.push_back(a->latency_ms);
      a_status.push_back(a->http_status);
      a_code.push_back(a->error_code);
      a_error.push_back(a->error);
      a_outcome.push_back(a->outcome);
    }
  }
  const std::vector<std::string_view> state_views(states.begin(), states.end());
  int64_t applied = 0;
  RETURN_IF_ERROR(Write([&](Tx& tx) -> Status {
    if (outcomes.empty()) return Ok();
    applied = 0;
    std::vector<int64_t> applied_joins;
    RETURN_IF_ERROR(tx.ForEach(
        "UPDATE invitations i SET state = o.state, next_attempt_at = o.next_at, "
        "last_error = NULLIF(o.error, ''), attempts = i.attempts + o.counted, "
        "lease_until = NULL, invite_link = COALESCE(NULLIF(o.link, ''), i.invite_link), "
        "link_expires_at = CASE WHEN o.link = '' THEN i.link_expires_at ELSE "
        "NULLIF(o.expires, 0) END, "
        "send_started_at = CASE WHEN o.state = 'pending' THEN NULL ELSE i.send_started_at "
        "END, sent_at = CASE WHEN o.state = 'sent' THEN ?1 ELSE i.sent_at END, "
        "step = CASE WHEN o.step >= 0 THEN o.step ELSE i.step END, updated_at = ?1 "
        "FROM unnest(?2::bigint[], ?3::bigint[], ?4::text[], ?5::bigint[], ?6::text[], "
        "?7::bigint[], ?8::text[], ?9::bigint[], ?10::bigint[]) "
        "AS o(id, gen, state, next_at, error, counted, link, step, expires) "
        "WHERE i.id = o.id AND i.gen = o.gen AND i.state = 'sending' RETURNING i.id",
        {now, IntArray(ids), IntArray(gens), TextArray(state_views), IntArray(next_at),
         TextArray(errors), IntArray(counted), TextArray(links), IntArray(steps),
         IntArray(expiries)},
        [&](const Row& row) -> Status {
          ++applied;
          if (std::find(joined.begin(), joined.end(), row.Int(0)) != joined.end()) {
            applied_joins.push_back(row.Int(0));
          }
          return Ok();
        }));
    if (!applied_joins.empty()) {
      RETURN_IF_ERROR(
          tx.Execute("UPDATE invitations SET state = 'joined', joined_at = ?1, "
                     "updated_at = ?1 WHERE id = ANY(?2::bigint[]) AND state = 'sent'",
                     {now, IntArray(applied_joins)}));
    }
    if (!a_ids.empty()) {
      RETURN_IF_ERROR(tx.Execute(
          "INSERT INTO attempts (invitation_id, gen, worker, request, started_at, latency_ms, "
          "http_status, error_code, error, outcome, account_id) "
          "SELECT a.id, a.gen, worker, request, a.started_at, latency_ms, http_status, error_code, "
          "NULLIF(error, ''), outcome, (SELECT c.account_id FROM invitations i JOIN campaigns c "
          "ON c.id = i.campaign_id WHERE i.id = a.id) "
          "FROM unnest(?1::bigint[], ?2::bigint[], ?3::text[], ?4::text[], ?5::bigint[], "
          "?6::bigint[], ?7::bigint[], ?8::bigint[], ?9::text[], ?10::text[]) WITH ORDINALITY AS "
          "a(id, gen, worker, request, started_at, latency_ms, "
          "http_status, error_code, error, outcome, n) ORDER BY n",
          {IntArray(a_ids), IntArray(a_gens), TextArray(a_worker), TextArray(a_request),
           IntArray(a_started), IntArray(a_latency), IntArray(a_status), IntArray(a_code),
           TextArray(a_error), TextArray(a_outcome)}));
    }
    for (const OutcomeRecord& outcome : outcomes) {
      if (outcome.suppress_user) {
        RETURN_IF_ERROR(internal::SuppressUser(tx, *outcome.suppress_user, "blocked the bot", now));
      }
    }
    return Ok();
  }));
  return applied;
}

Result<int64_t> PgStore::RescueExpiredLeases(int64_t now,
                                             std::span<const int64_t> resend_campaigns) {
  int64_t rescued = 0;
  RETURN_IF_ERROR(Write([&](Tx& tx) -> Status {
    rescued = 0;
    // One worker rescues at a time; the others find the lock taken and go on (the next cycle,
    // a second later at most, rescues again).
    ASSIGN_OR_RETURN(int64_t locked,
                     tx.QueryInt("SELECT pg_try_advisory_xact_lock(?::bigint)", {kRescueLock}));
    if (locked == 0) return Ok();
    ASSIGN_OR_RETURN(
        int64_t released,
        tx.Execute("UPDATE invitations SET state = 'pending', lease_until = NULL, claimed_by = "
                   "NULL, updated_at = ? WHERE state = 'sending' AND lease_until < ? "
                   "AND send_started_at IS NULL",
                   {now, now}));
    ASSIGN_OR_RETURN(
        int64_t ambiguous,
        tx.Execute("UPDATE invitations SET state = CASE WHEN campaign_id = ANY(?2::bigint[]) THEN "
                   "'waiting' ELSE 'unknown' END, next_attempt_at = ?1, last_error = "
                   "'lease expired while its request was in flight', lease_until = NULL, "
                   "updated_at = ?1 WHERE state = 'sending' AND lease_until < ?1 "
                   "AND send_started_at IS NOT NULL",
                   {now, IntArray(resend_campaigns)}));
    rescued = released + ambiguous;
    return Ok();
  }));
  // Every worker's plan passes here, several times a second: each process folds the count deltas
  // at most once a second (reads add the deltas not folded yet, so this only keeps them few).
  const int64_t now_ms = NowMillis();
  int64_t last = last_fold_.load();
  if (now_ms - last >= 1000 && last_fold_.compare_exchange_strong(last, now_ms)) {
    RETURN_IF_ERROR(FoldCounts());
  }
  return rescued;
}

}  // namespace tginvite::storage
