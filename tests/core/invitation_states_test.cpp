#include "core/invitation_states.h"

#include <algorithm>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace tginvite::core {
namespace {

using E = InvitationEvent;
using S = InvitationState;

std::set<S> SetOf(std::span<const S> states) { return {states.begin(), states.end()}; }

constexpr std::array kAllEvents = {
    E::kClaim,         E::kSendOutcome,   E::kLeaseExpired,      E::kUnreachable,
    E::kJoinObserved,  E::kStarted,       E::kCampaignCancelled, E::kSuppressed,
    E::kAlreadyMember, E::kResendUnknown, E::kRetryFailed};

TEST(InvitationStatesTest, SetsAreTheDocumentedOnes) {
  EXPECT_EQ(QuotedNames(kOpenInvitationStates), "'pending', 'waiting', 'awaiting_start'");
  EXPECT_EQ(QuotedNames(kClaimableStates), "'pending', 'waiting'");
  EXPECT_EQ(QuotedNames(kUnfinishedStates), "'pending', 'sending', 'waiting'");
  EXPECT_EQ(QuotedNames(kJoinableStates), "'sent', 'unknown'");
}

// Open and unfinished states still need work; a state a request may have reached is final.
TEST(InvitationStatesTest, SetsAgreeWithIsTerminal) {
  for (S s : kOpenInvitationStates) EXPECT_FALSE(IsTerminal(s)) << ToString(s);
  for (S s : kUnfinishedStates) EXPECT_FALSE(IsTerminal(s)) << ToString(s);
  for (S s : kJoinableStates) EXPECT_TRUE(IsTerminal(s)) << ToString(s);
  std::set<S> not_terminal;
  for (S s : kAllInvitationStates) {
    if (!IsTerminal(s)) not_terminal.insert(s);
  }
  std::set<S> open_or_unfinished = SetOf(kOpenInvitationStates);
  open_or_unfinished.insert(kUnfinishedStates.begin(), kUnfinishedStates.end());
  EXPECT_EQ(not_terminal, open_or_unfinished);
}

TEST(InvitationStatesTest, TableHasOneRowPerEvent) {
  std::set<E> seen;
  for (const InvitationTransition& t : InvitationTransitions()) {
    EXPECT_TRUE(seen.insert(t.event).second) << ToString(t.event) << " twice";
    EXPECT_FALSE(t.from.empty()) << ToString(t.event);
    EXPECT_FALSE(t.to.empty()) << ToString(t.event);
  }
  EXPECT_EQ(seen, std::set<E>(kAllEvents.begin(), kAllEvents.end()));
  for (E e : kAllEvents) EXPECT_EQ(TransitionOf(e).event, e) << ToString(e);
}

TEST(InvitationStatesTest, EachEventMovesFromAndToItsStates) {
  struct Row {
    E event;
    std::set<S> from;
    std::set<S> to;
  };
  const Row rows[] = {
      {E::kClaim, {S::kPending, S::kWaiting}, {S::kSending}},
      {E::kSendOutcome,
       {S::kSending},
       {S::kSent, S::kJoined, S::kWaiting, S::kFailed, S::kUnknown, S::kPending, S::kSkipped}},
      {E::kLeaseExpired, {S::kSending}, {S::kPending, S::kWaiting, S::kUnknown}},
      {E::kUnreachable, {S::kPending, S::kWaiting}, {S::kSkipped}},
      {E::kJoinObserved, {S::kSent, S::kUnknown}, {S::kJoined}},
      {E::kStarted, {S::kAwaitingStart}, {S::kPending, S::kSkipped}},
      {E::kCampaignCancelled, {S::kPending, S::kWaiting, S::kAwaitingStart}, {S::kCancelled}},
      {E::kSuppressed, {S::kPending, S::kWaiting, S::kAwaitingStart}, {S::kSkipped}},
      {E::kAlreadyMember, {S::kPending, S::kWaiting, S::kAwaitingStart}, {S::kSkipped}},
      {E::kResendUnknown, {S::kUnknown}, {S::kPending}},
      {E::kRetryFailed, {S::kFailed}, {S::kPending}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(std::string(ToString(row.event)));
    // Every (from, to) pair over all states: allowed exactly when both are in the row.
    for (S from : kAllInvitationStates) {
      for (S to : kAllInvitationStates) {
        EXPECT_EQ(CanMove(row.event, from, to), row.from.contains(from) && row.to.contains(to))
            << ToString(from) << " -> " << ToString(to);
      }
    }
  }
}

// Nothing leaves a state the engine has finished except by the operator's hand or a join.
TEST(InvitationStatesTest, OnlyOperatorsAndJoinsReopenFinishedStates) {
  for (const InvitationTransition& t : InvitationTransitions()) {
    for (S from : t.from) {
      if (!IsTerminal(from)) continue;
      EXPECT_TRUE(t.event == E::kJoinObserved || t.event == E::kResendUnknown ||
                  t.event == E::kRetryFailed)
          << ToString(t.event) << " leaves " << ToString(from);
    }
  }
  // joined, skipped and cancelled are never left.
  for (const InvitationTransition& t : InvitationTransitions()) {
    for (S from : t.from) {
      EXPECT_NE(from, S::kJoined);
      EXPECT_NE(from, S::kSkipped);
      EXPECT_NE(from, S::kCancelled);
    }
  }
}

}  // namespace
}  // namespace tginvite::core
