// What both SQL stores do with one imported contact row once their own INSERT of it has found an
// identifier taken (SQLite and PostgreSQL differ only in how they insert and learn the new id):
// who holds each identifier, whether the row conflicts with them, how it merges into its contact,
// and how a campaign enqueues the contact (skipped at once when any of its identifiers is
// suppressed, nothing when it is queued already). The statements mean the same on both engines.
#pragma once

#include <cstdint>
#include <optional>

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

// What upserting one contact row did: its outcome, the contact's id (0 for a conflict) and the
// contact as stored afterwards.
struct UpsertResult {
  ImportRowResult result;
  int64_t contact_id = 0;
  core::ContactRecord merged;
};

// For a row whose INSERT ... ON CONFLICT DO NOTHING inserted nothing: a conflict when its
// identifiers belong to different contacts (or its new user id would go to a contact that has
// another), otherwise the row merged into the contact holding them (updated when anything
// changed, stamped `now`), or a duplicate. kAborted when no holder is found (the contact changed
// under the import: retry).
Result<UpsertResult> MergeIntoStoredContact(Tx& tx, const core::ContactRecord& row, int64_t now);

// The row's result once its contact is upserted: with a campaign and unless the row is a
// conflict, the contact is enqueued too (ImportRowResult::enqueue says how).
Result<ImportRowResult> EnqueueUpserted(Tx& tx, UpsertResult upserted,
                                        const std::optional<EnqueueTarget>& campaign, int64_t now);

}  // namespace tginvite::storage::internal
