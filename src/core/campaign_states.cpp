#include "core/campaign_states.h"

namespace tginvite::core {
namespace {

using A = CampaignAction;
using S = CampaignState;

constexpr std::array<std::pair<CampaignAction, std::string_view>, 6> kActionNames = {{
    {A::kStart, "start"},
    {A::kPause, "pause"},
    {A::kResume, "resume"},
    {A::kCancel, "cancel"},
    {A::kEdit, "edit"},
    {A::kDelete, "delete"},
}};

// The whole machine. A new state adds one row per action; a new action one row per state.
constexpr std::array<CampaignTransition, kAllCampaignStates.size() * kAllCampaignActions.size()>
    kTransitions = {{
        {S::kDraft, A::kStart, S::kRunning, ""},
        {S::kDraft, A::kPause, std::nullopt, "; only a running campaign pauses"},
        {S::kDraft, A::kResume, std::nullopt, "; only a paused campaign resumes"},
        {S::kDraft, A::kCancel, S::kCancelled, ""},

        {S::kRunning, A::kStart, std::nullopt, ""},
        {S::kRunning, A::kPause, S::kPaused, ""},
        {S::kRunning, A::kResume, std::nullopt, "; only a paused campaign resumes"},
        {S::kRunning, A::kCancel, S::kCancelled, ""},

        {S::kPaused, A::kStart, std::nullopt, "; use resume"},
        {S::kPaused, A::kPause, std::nullopt, "; only a running campaign pauses"},
        {S::kPaused, A::kResume, S::kRunning, ""},
        {S::kPaused, A::kCancel, S::kCancelled, ""},

        {S::kCancelled, A::kStart, std::nullopt, ""},
        {S::kCancelled, A::kPause, std::nullopt, "; only a running campaign pauses"},
        {S::kCancelled, A::kResume, std::nullopt, "; only a paused campaign resumes"},
        {S::kCancelled, A::kCancel, std::nullopt, ""},
    }};

const CampaignTransition* Find(CampaignState from, CampaignAction action) {
  for (const CampaignTransition& t : kTransitions) {
    if (t.from == from && t.action == action) return &t;
  }
  return nullptr;
}

}  // namespace

std::string_view ToString(CampaignAction action) {
  for (const auto& [value, name] : kActionNames) {
    if (value == action) return name;
  }
  return "?";
}

std::optional<CampaignAction> ParseCampaignAction(std::string_view text) {
  for (const auto& [value, name] : kActionNames) {
    if (name == text) return value;
  }
  return std::nullopt;
}

std::span<const CampaignTransition> CampaignTransitions() { return kTransitions; }

Result<CampaignState> NextState(CampaignState from, CampaignAction action) {
  const CampaignTransition* t = Find(from, action);
  if (t == nullptr) {
    return Fail(ErrorCode::kInternal, "campaign state {}: no rule for {}", ToString(from),
                ToString(action));
  }
  if (!t->to) return Fail(ErrorCode::kInvalidArgument, "is {}{}", ToString(from), t->hint);
  return *t->to;
}

std::vector<CampaignAction> AllowedActions(CampaignState from) {
  std::vector<CampaignAction> allowed;
  for (CampaignAction action : kAllCampaignActions) {
    if (const CampaignTransition* t = Find(from, action); t != nullptr && t->to) {
      allowed.push_back(action);
    }
  }
  return allowed;
}

bool IsFinished(CampaignState state, const StateCounts& counts) {
  if (state != S::kRunning && state != S::kPaused) return false;
  // A started campaign with no invitation yet is waiting for its import, not finished.
  return counts.Total() > 0 && counts[InvitationState::kPending] + counts[InvitationState::kSending] +
             counts[InvitationState::kWaiting] + counts[InvitationState::kAwaitingStart] ==
         0;
}

Status CheckEditable(CampaignState state) {
  if (state == S::kCancelled) return Fail(ErrorCode::kFailedPrecondition, "is cancelled");
  return Ok();
}

Status CheckDeletable(CampaignState state, const StateCounts& counts) {
  if (state == S::kCancelled || IsFinished(state, counts)) return Ok();
  if (state == S::kDraft) {
    return Fail(ErrorCode::kFailedPrecondition,
                "is a draft: only a finished or cancelled campaign is deleted; cancel it first");
  }
  const int64_t left = counts[InvitationState::kPending] + counts[InvitationState::kSending] +
                       counts[InvitationState::kWaiting] +
                       counts[InvitationState::kAwaitingStart];
  return Fail(ErrorCode::kFailedPrecondition,
              "is {} with {} invitation{} not sent yet: only a finished or cancelled campaign is "
              "deleted; cancel it first",
              ToString(state), left, left == 1 ? "" : "s");
}

std::vector<CampaignAction> OperatorActions(CampaignState state, const StateCounts* counts) {
  std::vector<CampaignAction> actions = AllowedActions(state);
  if (CheckEditable(state)) actions.push_back(CampaignAction::kEdit);
  if (state == S::kCancelled || (counts != nullptr && IsFinished(state, *counts))) {
    actions.push_back(CampaignAction::kDelete);
  }
  return actions;
}

}  // namespace tginvite::core
