// What both SQL stores' claims do with a candidate row once the row has its slot: the Claim
// handed to the dispatcher, and the campaign's pacing moved on from the slot (or, on a re-slot,
// moved with it). The engines differ
// in how they lock, pick and write the rows, not in this.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string_view>

#include "storage/connection.h"
#include "storage/delivery.h"
#include "storage/sql_rows.h"
#include "storage/transaction.h"

namespace tginvite::storage::internal {

// A campaign's pacing as a claim hands out its slots: the earliest slot its next paced
// invitation may take, and how many it sent in the current cycle.
struct Pacing {
  int64_t next_at = 0;
  int64_t in_cycle = 0;

  // Plans the next invitation after one took `slot`: at the end of a cycle (batch_size
  // invitations) the next one waits cycle_interval, otherwise a random gap of delay_min..delay_max.
  void Advance(const CampaignPlan& plan, int64_t slot, std::mt19937_64& random) {
    ++in_cycle;
    if (plan.batch_size > 0 && in_cycle >= plan.batch_size) {
      next_at = slot + plan.cycle_interval.count();
      in_cycle = 0;
      return;
    }
    std::uniform_int_distribution<int64_t> gap(plan.delay_min.count(), plan.delay_max.count());
    next_at = slot + gap(random);
  }
};

// A candidate row's columns, as both claims select them from `invitations i JOIN contacts c`:
// invitation id, gen, attempts, invite_link, then the contact's five columns (ContactFromColumns:
// the user id being the contact's or the one who started the bot), then three the claim reads
// itself (the contact's id and next_message_at, whether the row answers a /start), then the
// invitation's step at 12 and its stored link's expiry at 13.
inline constexpr std::string_view kCandidateColumns =
    "i.id, i.gen, i.attempts, i.invite_link, COALESCE(c.telegram_user_id, i.started_by), "
    "c.username, c.first_name, c.last_name, c.phone, c.id, c.next_message_at, "
    "i.started_at IS NOT NULL, i.step, i.link_expires_at";

// The claim of a candidate row (kCandidateColumns) that took `slot`.
inline Claim ClaimFromCandidate(const Row& row, int64_t campaign_id, int64_t slot, bool paced) {
  Claim claim;
  claim.invitation_id = row.Int(0);
  claim.gen = row.Int(1) + 1;
  claim.campaign_id = campaign_id;
  claim.attempts = row.Int(2);
  claim.invite_link = row.Text(3);
  claim.link_expires_at = row.Int(13);  // NULL: never
  claim.contact = ContactFromColumns(row, 4);
  claim.not_before = slot;
  claim.paced = paced;
  claim.step = static_cast<int>(row.Int(12));
  return claim;
}

// What ReslotLate does to the paced campaigns whose rows it moved: each campaign's next invitation
// moves as far as its furthest-moved row, so the gap its pacing planned never shrinks.
class PacingShifts {
 public:
  // `row` took `new_slot` instead of its claim's.
  void Note(const ReslotRequest::Row& row, int64_t new_slot) {
    if (row.paced_campaign_id == 0) return;
    int64_t& shift = by_campaign_[row.paced_campaign_id];
    shift = std::max(shift, new_slot - row.slot);
  }

  // In the re-slot's transaction.
  Status Apply(Tx& tx) const {
    for (const auto& [campaign_id, shift] : by_campaign_) {
      RETURN_IF_ERROR(tx.Execute(
          "UPDATE campaigns SET pacing_next_at = pacing_next_at + ? WHERE id = ? AND "
          "pacing_next_at > 0",
          {shift, campaign_id}));
    }
    return Ok();
  }

 private:
  std::map<int64_t, int64_t> by_campaign_;
};

}  // namespace tginvite::storage::internal
