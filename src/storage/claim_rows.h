// What both SQL stores' claims do with a candidate row once the row has its slot: the Claim
// handed to the dispatcher, and the campaign's pacing moved on from the slot. The engines differ
// in how they lock, pick and write the rows, not in this.
#pragma once

#include <cstdint>
#include <random>

#include "storage/connection.h"
#include "storage/delivery.h"
#include "storage/sql_rows.h"

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

// The claim of a candidate row that took `slot`. The row's columns, as both claims select them:
// invitation id, gen, attempts, invite_link, then the contact's five columns (ContactFromColumns:
// the user id being the contact's or the one who started the bot), then three the claim reads
// itself, then the invitation's step at 12.
inline Claim ClaimFromCandidate(const Row& row, int64_t campaign_id, int64_t slot, bool paced) {
  Claim claim;
  claim.invitation_id = row.Int(0);
  claim.gen = row.Int(1) + 1;
  claim.campaign_id = campaign_id;
  claim.attempts = row.Int(2);
  claim.invite_link = row.Text(3);
  claim.contact = ContactFromColumns(row, 4);
  claim.not_before = slot;
  claim.paced = paced;
  claim.step = static_cast<int>(row.Int(12));
  return claim;
}

}  // namespace tginvite::storage::internal
