// Part of the Store (storage/store.h): what the old app already did, recorded in a campaign so
// that the new engine never messages those people again (`tginvite import-legacy`).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/contact.h"
#include "core/error.h"
#include "core/model.h"

namespace tginvite::storage {

// The attempt a legacy outcome is recorded with: the request kind and worker say where it came
// from ("legacy", "old app"), the outcome what the old app said.
inline constexpr std::string_view kLegacyRequest = "legacy";
inline constexpr std::string_view kLegacyWorker = "old app";

// One contact the old app already handled. The contact must exist (imported before); it is found
// by its user id, else its username, else its phone.
struct LegacyOutcome {
  core::ContactRecord contact;
  // kSent, kFailed (the old app's error in `error`) or kUnknown (the old app's record cannot tell
  // whether the message left: never sent again automatically).
  core::InvitationState state = core::InvitationState::kSent;
  std::string error;
  int64_t at = 0;  // when the old app sent it, unix milliseconds; 0: not known (sent_at stays
                   // empty; the attempt is dated now)
};

enum class LegacyResult {
  kRecorded,    // a new invitation in the outcome's state, with its legacy attempt
  kReplaced,    // an invitation not yet sent (pending, waiting, awaiting start) took the outcome
  kKept,        // the invitation was already past pending (sent, failed, ... or a legacy outcome
                // recorded by an earlier run): left as it is
  kNoContact,   // no contact matches: nothing written
};

enum class LegacyMode { kWrite, kDryRun };

class LegacyRecorder {
 public:
  virtual ~LegacyRecorder() = default;

  // Records the outcomes in campaign `campaign`, one result per outcome in order, in one
  // transaction (kDryRun: rolled back). Never makes anything pending, and never touches an
  // invitation being sent. Running it twice changes nothing the second time. kNotFound for an
  // unknown campaign; kInvalidArgument for a state other than sent, failed or unknown.
  virtual Result<std::vector<LegacyResult>> RecordLegacyOutcomes(
      std::string_view campaign, std::span<const LegacyOutcome> outcomes, LegacyMode mode) = 0;
};

}  // namespace tginvite::storage
