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
}  // namespace tginvite::core
