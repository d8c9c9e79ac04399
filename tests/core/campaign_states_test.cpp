#include "core/campaign_states.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace tginvite::core {
namespace {

using A = CampaignAction;
using S = CampaignState;

struct Expected {
  std::optional<S> to;
  std::string refusal;  // the message after "campaign NAME " when refused
};

// The machine as the operator knows it (README, `campaign --help`), written out cell by cell.
const std::map<std::pair<S, A>, Expected>& Spec() {
  static const std::map<std::pair<S, A>, Expected> kSpec = {
      {{S::kDraft, A::kStart}, {S::kRunning, ""}},
      {{S::kDraft, A::kPause}, {std::nullopt, "is draft; only a running campaign pauses"}},
      {{S::kDraft, A::kResume}, {std::nullopt, "is draft; only a paused campaign resumes"}},
      {{S::kDraft, A::kCancel}, {S::kCancelled, ""}},
      {{S::kRunning, A::kStart}, {std::nullopt, "is running"}},
      {{S::kRunning, A::kPause}, {S::kPaused, ""}},
      {{S::kRunning, A::kResume}, {std::nullopt, "is running; only a paused campaign resumes"}},
      {{S::kRunning, A::kCancel}, {S::kCancelled, ""}},
      {{S::kPaused, A::kStart}, {std::nullopt, "is paused; use resume"}},
      {{S::kPaused, A::kPause}, {std::nullopt, "is paused; only a running campaign pauses"}},
      {{S::kPaused, A::kResume}, {S::kRunning, ""}},
      {{S::kPaused, A::kCancel}, {S::kCancelled, ""}},
      {{S::kCancelled, A::kStart}, {std::nullopt, "is cancelled"}},
      {{S::kCancelled, A::kPause}, {std::nullopt, "is cancelled; only a running campaign pauses"}},
      {{S::kCancelled, A::kResume}, {std::nullopt, "is cancelled; only a paused campaign resumes"}},
      {{S::kCancelled, A::kCancel}, {std::nullopt, "is cancelled"}},
  };
  return kSpec;
}

TEST(CampaignStatesTest, EveryStateAndActionPairFollowsTheSpec) {
  for (S from : kAllCampaignStates) {
    for (A action : kAllCampaignActions) {
      SCOPED_TRACE(std::string(ToString(from)) + " + " + std::string(ToString(action)));
      auto spec = Spec().find({from, action});
      ASSERT_NE(spec, Spec().end()) << "the test's spec lacks this pair";
      Result<S> next = NextState(from, action);
      if (spec->second.to) {
        ASSERT_TRUE(next) << next.error().message;
        EXPECT_EQ(*next, *spec->second.to);
      } else {
        ASSERT_FALSE(next);
        EXPECT_EQ(next.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(next.error().message, spec->second.refusal);
      }
    }
  }
  EXPECT_EQ(Spec().size(), kAllCampaignStates.size() * kAllCampaignActions.size());
}

TEST(CampaignStatesTest, TableHasEachPairOnce) {
  std::set<std::pair<S, A>> seen;
  for (const CampaignTransition& t : CampaignTransitions()) {
    EXPECT_TRUE(seen.insert({t.from, t.action}).second)
        << ToString(t.from) << " + " << ToString(t.action) << " twice";
    // A hint explains a refusal; an allowed change needs none.
    if (t.to) {
      EXPECT_EQ(t.hint, "") << ToString(t.from) << " + " << ToString(t.action);
    }
  }
  EXPECT_EQ(seen.size(), kAllCampaignStates.size() * kAllCampaignActions.size());
}

TEST(CampaignStatesTest, CancelledIsFinal) { EXPECT_TRUE(AllowedActions(S::kCancelled).empty()); }

TEST(CampaignStatesTest, AllowedActionsAreTheAcceptedOnes) {
  EXPECT_EQ(AllowedActions(S::kDraft), (std::vector<A>{A::kStart, A::kCancel}));
  EXPECT_EQ(AllowedActions(S::kRunning), (std::vector<A>{A::kPause, A::kCancel}));
  EXPECT_EQ(AllowedActions(S::kPaused), (std::vector<A>{A::kResume, A::kCancel}));
  for (S from : kAllCampaignStates) {
    for (A action : AllowedActions(from)) EXPECT_TRUE(NextState(from, action));
  }
}

TEST(CampaignStatesTest, ActionNamesRoundTrip) {
  std::set<std::string_view> names;
  for (A action : kAllCampaignActions) {
    names.insert(ToString(action));
    EXPECT_EQ(ParseCampaignAction(ToString(action)), action);
  }
  EXPECT_EQ(names, (std::set<std::string_view>{"start", "pause", "resume", "cancel"}));
  EXPECT_EQ(ParseCampaignAction("Start"), std::nullopt);
  EXPECT_EQ(ParseCampaignAction("retry-failed"), std::nullopt);
}

TEST(CampaignStatesTest, StateNamesRoundTrip) {
  for (S state : kAllCampaignStates) EXPECT_EQ(ParseCampaignState(ToString(state)), state);
  EXPECT_EQ(QuotedNames(kAllCampaignStates), "'draft', 'running', 'paused', 'cancelled'");
}

}  // namespace
// Edit and delete change no state: what allows them is the state and, for delete, the counts.
TEST(CampaignStatesTest, EditAndDeleteAreOfferedWhenTheyApply) {
  StateCounts none;
  StateCounts open;
  open[InvitationState::kAwaitingStart] = 1;
  open[InvitationState::kSent] = 4;
  StateCounts done;
  done[InvitationState::kSent] = 4;
  done[InvitationState::kFailed] = 1;
  EXPECT_EQ(OperatorActions(S::kDraft, &done), (std::vector<A>{A::kStart, A::kCancel, A::kEdit}));
  EXPECT_EQ(OperatorActions(S::kRunning, &open), (std::vector<A>{A::kPause, A::kCancel, A::kEdit}));
  EXPECT_EQ(OperatorActions(S::kRunning, &done),
            (std::vector<A>{A::kPause, A::kCancel, A::kEdit, A::kDelete}));
  EXPECT_EQ(OperatorActions(S::kPaused, nullptr), (std::vector<A>{A::kResume, A::kCancel, A::kEdit}));
  EXPECT_EQ(OperatorActions(S::kCancelled, nullptr), (std::vector<A>{A::kDelete}));
  EXPECT_FALSE(IsFinished(S::kRunning, none)) << "nothing imported yet is not finished";
  EXPECT_FALSE(IsFinished(S::kDraft, done));
  EXPECT_TRUE(IsFinished(S::kPaused, done));

  EXPECT_TRUE(CheckEditable(S::kPaused));
  Status cancelled = CheckEditable(S::kCancelled);
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(CheckDeletable(S::kCancelled, open));
  Status running = CheckDeletable(S::kRunning, open);
  ASSERT_FALSE(running);
  EXPECT_EQ(running.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(running.error().message,
            "is running with 1 invitation not sent yet: only a finished or cancelled campaign is "
            "deleted; cancel it first");
  EXPECT_EQ(ToString(A::kEdit), "edit");
  EXPECT_EQ(ParseCampaignAction("delete"), A::kDelete);
}

}  // namespace tginvite::core
