// The invitation state machine, written once: the sets of states the stores select by and the
// transitions they make, each named by the event that causes it. The stores' SQL takes its state
// lists from here (QuotedNames); a test checks every transition. Pure data, thread-safe.
//
//   pending ──claim──▶ sending ──▶ sent ──(join observed)──▶ joined
//      ▲                  ├──▶ waiting (transient) ──claim──▶ sending
//      │                  ├──▶ failed (permanent)    ──retry failed──▶ pending
//      │                  └──▶ unknown (ambiguous)   ──resend unknown──▶ pending
//      └── lease expired before the request left
//   awaiting_start ──(the contact pressed Start)──▶ pending
//   pending, waiting, awaiting_start ──cancel / suppress / already a member──▶ cancelled / skipped
#pragma once

#include <array>
#include <span>
#include <string_view>

#include "core/model.h"

namespace tginvite::core {

// Not sent yet and no request in flight: what cancelling a campaign, a suppression or a contact
// found to be a member already ends. (In the order the stores' SQL has always listed them.)
inline constexpr std::array kOpenInvitationStates = {
    InvitationState::kPending, InvitationState::kWaiting, InvitationState::kAwaitingStart};
// What a claim takes once the row's next_attempt_at has come.
inline constexpr std::array kClaimableStates = {InvitationState::kPending,
                                                InvitationState::kWaiting};
// The work a worker still has for a running campaign (awaiting_start waits for the contact).
inline constexpr std::array kUnfinishedStates = {
    InvitationState::kPending, InvitationState::kSending, InvitationState::kWaiting};
// A request may have reached the contact: a join seen through the link or chat completes them.
inline constexpr std::array kJoinableStates = {InvitationState::kSent, InvitationState::kUnknown};

// What moves an invitation.
enum class InvitationEvent {
  kClaim,              // a worker claims a due row (pending, waiting → sending)
  kSendOutcome,        // the worker records what its requests did (sending → ...)
  kLeaseExpired,       // a claim's lease ran out (sending → pending if nothing left, else ...)
  kUnreachable,        // the claiming account cannot reach the contact (→ skipped)
  kJoinObserved,       // Telegram reports the contact in the chat (sent, unknown → joined)
  kStarted,            // the contact pressed Start, or became reachable (awaiting_start → ...)
  kCampaignCancelled,  // the operator cancelled the campaign
  kSuppressed,         // the contact is suppressed (by the operator, or blocked the bot)
  kAlreadyMember,      // the contact turned out to be in the chat already
  kResendUnknown,      // the operator resends the ambiguous ones
  kRetryFailed,        // the operator retries the failed ones
};

struct InvitationTransition {
  InvitationEvent event;
  std::span<const InvitationState> from;
  std::span<const InvitationState> to;  // one of these, as the event's details decide
};

// Every transition the stores make, one row per event.
std::span<const InvitationTransition> InvitationTransitions();
// The row of `event`.
const InvitationTransition& TransitionOf(InvitationEvent event);
// True when `event` may move an invitation from `from` to `to`.
bool CanMove(InvitationEvent event, InvitationState from, InvitationState to);
std::string_view ToString(InvitationEvent event);

}  // namespace tginvite::core
