// Part of the Store (storage/store.h): what an erasure request, a removed account and a finished
// campaign's links leave behind. A forgotten contact is deleted with its invitations and their
// links; its attempts stay (they are the account's history: counts and daily caps read them) but
// lose what ties them to the person; a suppression of every key the contact had keeps a re-import
// from bringing the person back. The revocation of a cancelled campaign's unused personal links
// is claimed like a send: through the account's limiter (internal::SlotCalendar), under a lease.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "storage/delivery.h"

namespace tginvite::storage {

// What a ForgetContact removed, per kind.
struct ForgetResult {
  int64_t contact_id = 0;  // 0 when no contact matched
  int64_t contacts = 0;
  int64_t invitations = 0;
  int64_t invite_links = 0;  // personal invite links stored on the invitations
  int64_t start_links = 0;   // personal start links (one per invitation)
  int64_t attempts = 0;      // attempts detached from the person
  int64_t updates = 0;       // processed updates and waiting bare /starts from the person
  // The suppression keys now held for the person ("id:N", "username:x", "phone:+E164") and how
  // many of them were new.
  std::vector<std::string> suppression_keys;
  int64_t suppressions_added = 0;
};

// A cancelled campaign's unused personal link, claimed for revocation at `slot`.
struct LinkToRevoke {
  int64_t invitation_id = 0;
  int64_t gen = 0;
  int64_t campaign_id = 0;
  std::string chat;
  std::string invite_link;
  int64_t tries = 0;  // failed revocations before this one
  int64_t slot = 0;   // unix ms: not before
};

struct LinkRevokeClaim {
  int64_t account_id = 0;
  std::string worker;
  int64_t now = 0;  // unix ms
  int limit = 16;
  std::chrono::microseconds emission_interval{33'400};
  // A claimed link is not handed to another worker until this long after its slot.
  std::chrono::milliseconds lease{30'000};
  // Only slots up to now + horizon are handed out; later links wait for the next claim.
  std::chrono::milliseconds horizon{1'000};
};

// How a revocation ended: done (revoked, or nothing left to revoke), or to be tried again at
// `retry_at` (a transient failure), always with the attempt that says what happened.
struct LinkRevocation {
  int64_t invitation_id = 0;
  enum class Result { kDone, kRetry } result = Result::kDone;
  int64_t retry_at = 0;  // unix ms, with kRetry
  AttemptRecord attempt;
};

class Erasure {
 public:
  virtual ~Erasure() = default;

  // Erases the contact `key` names ("id:N", "username:NAME", "phone:+E164", as core::ParseUserRef
  // writes them) in one transaction: its invitations (and their links) and the contact are
  // deleted, its attempts detached (invitation and error text blanked; request, outcome, codes,
  // times and account kept), its processed updates and waiting /starts deleted, and every key it
  // had suppressed. No matching contact still suppresses `key` (contact_id 0). kUnavailable while
  // one of its invitations is being sent (try again once the worker recorded it).
  virtual Result<ForgetResult> ForgetContact(std::string_view key) = 0;
  // The same for the contact with this id; kNotFound when there is none.
  virtual Result<ForgetResult> ForgetContactById(int64_t contact_id) = 0;

  // Unused personal links (not joined through, not revoked yet) of the account's cancelled
  // campaigns that are due, each given a slot by the account's limiter and leased.
  virtual Result<std::vector<LinkToRevoke>> ClaimLinksToRevoke(const LinkRevokeClaim& claim) = 0;
  // Records each revocation's attempt and result; a link whose invitation was erased meanwhile is
  // skipped. Returns how many links were done.
  virtual Result<int64_t> RecordLinkRevocations(std::span<const LinkRevocation> revocations,
                                                int64_t now) = 0;
};

}  // namespace tginvite::storage
