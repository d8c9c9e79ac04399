#include "core/invitation_states.h"

namespace tginvite::core {
namespace {

using S = InvitationState;
using E = InvitationEvent;

constexpr std::array kSending = {S::kSending};
constexpr std::array kPendingOnly = {S::kPending};
constexpr std::array kFailedOnly = {S::kFailed};
constexpr std::array kUnknownOnly = {S::kUnknown};
constexpr std::array kJoinedOnly = {S::kJoined};
constexpr std::array kSkippedOnly = {S::kSkipped};
constexpr std::array kCancelledOnly = {S::kCancelled};
constexpr std::array kAwaitingStartOnly = {S::kAwaitingStart};
// A user account's add that succeeded is joined at once; pending is a step done with the next one
// due, or a request given back; skipped a contact the account cannot reach.
constexpr std::array kSendOutcomes = {S::kSent,    S::kJoined,  S::kWaiting, S::kFailed,
                                      S::kUnknown, S::kPending, S::kSkipped};
// pending when the request never left; else unknown, or waiting where the campaign resends.
constexpr std::array kLeaseOutcomes = {S::kPending, S::kWaiting, S::kUnknown};
// pending, or skipped when the contact is suppressed (or is another contact's person already).
constexpr std::array kStartOutcomes = {S::kPending, S::kSkipped};

constexpr std::array<InvitationTransition, 11> kTransitions = {{
    {E::kClaim, kClaimableStates, kSending},
    {E::kSendOutcome, kSending, kSendOutcomes},
    {E::kLeaseExpired, kSending, kLeaseOutcomes},
    {E::kUnreachable, kClaimableStates, kSkippedOnly},
    {E::kJoinObserved, kJoinableStates, kJoinedOnly},
    {E::kStarted, kAwaitingStartOnly, kStartOutcomes},
    {E::kCampaignCancelled, kOpenInvitationStates, kCancelledOnly},
    {E::kSuppressed, kOpenInvitationStates, kSkippedOnly},
    {E::kAlreadyMember, kOpenInvitationStates, kSkippedOnly},
    {E::kResendUnknown, kUnknownOnly, kPendingOnly},
    {E::kRetryFailed, kFailedOnly, kPendingOnly},
}};

constexpr std::array<std::pair<InvitationEvent, std::string_view>, 11> kEventNames = {{
    {E::kClaim, "claim"},
    {E::kSendOutcome, "send outcome"},
    {E::kLeaseExpired, "lease expired"},
    {E::kUnreachable, "unreachable"},
    {E::kJoinObserved, "join observed"},
    {E::kStarted, "started"},
    {E::kCampaignCancelled, "campaign cancelled"},
    {E::kSuppressed, "suppressed"},
    {E::kAlreadyMember, "already a member"},
    {E::kResendUnknown, "resend unknown"},
    {E::kRetryFailed, "retry failed"},
}};

bool Contains(std::span<const InvitationState> states, InvitationState state) {
  for (InvitationState s : states) {
    if (s == state) return true;
  }
  return false;
}

}  // namespace

std::span<const InvitationTransition> InvitationTransitions() { return kTransitions; }

const InvitationTransition& TransitionOf(InvitationEvent event) {
  for (const InvitationTransition& t : kTransitions) {
    if (t.event == event) return t;
  }
  return kTransitions[0];  // unreachable: the table has a row per event (a test checks it)
}

bool CanMove(InvitationEvent event, InvitationState from, InvitationState to) {
  const InvitationTransition& t = TransitionOf(event);
  return t.event == event && Contains(t.from, from) && Contains(t.to, to);
}

std::string_view ToString(InvitationEvent event) {
  for (const auto& [value, name] : kEventNames) {
    if (value == event) return name;
  }
  return "?";
}

}  // namespace tginvite::core
