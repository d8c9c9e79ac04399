// The campaign state machine as one table: which action an operator may take on a campaign in
// each state, and the state it leads to. The stores persist what NextState returns; the CLI, the
// API and the dashboard offer the actions AllowedActions lists. Pure functions, thread-safe.
//
//   draft ──start──▶ running ◀──pause / resume──▶ paused;  any but cancelled ──cancel──▶ cancelled
//
// (The engine itself pauses a running campaign when its account cannot send: that is not an
// operator's action and goes through the store's PauseCampaignFor.)
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/model.h"

namespace tginvite::core {

// kEdit and kDelete change no state: they are not rows of the table below (CheckEditable and
// CheckDeletable decide them), and kAllCampaignActions lists only the table's actions.
enum class CampaignAction { kStart, kPause, kResume, kCancel, kEdit, kDelete };
inline constexpr std::array kAllCampaignActions = {CampaignAction::kStart, CampaignAction::kPause,
                                                   CampaignAction::kResume,
                                                   CampaignAction::kCancel};
// "start", "pause", "resume", "cancel": the CLI's verbs and the API's path segment; "edit" and
// "delete" as the audit trail and the campaign JSON's actions name them.
std::string_view ToString(CampaignAction action);
std::optional<CampaignAction> ParseCampaignAction(std::string_view text);

// One cell of the table: `action` taken on a campaign in `from` leads to `to`, or is refused
// (`to` empty) with `hint` put after the state in the message ("; use resume").
struct CampaignTransition {
  CampaignState from;
  CampaignAction action;
  std::optional<CampaignState> to;
  std::string_view hint;
};

// Every (state, action) pair, once each.
std::span<const CampaignTransition> CampaignTransitions();

// The state a campaign in `from` moves to on `action`. A refused action is kInvalidArgument whose
// message reads after the campaign's name: "is paused; use resume", "is cancelled" — a store
// reports it as `campaign NAME is paused; use resume`.
[[nodiscard]] Result<CampaignState> NextState(CampaignState from, CampaignAction action);

// The actions NextState accepts from `from`, in kAllCampaignActions order.
std::vector<CampaignAction> AllowedActions(CampaignState from);

// A campaign is finished once it was started (running or paused), has invitations, and none of
// them can still be sent: none pending, sending, waiting or awaiting its contact's start.
bool IsFinished(CampaignState state, const StateCounts& counts);

// Every campaign but a cancelled one may be edited; kFailedPrecondition, reading after the
// campaign's name ("is cancelled"), otherwise.
[[nodiscard]] Status CheckEditable(CampaignState state);
// Only a cancelled or finished campaign may be deleted; kFailedPrecondition with the reason,
// reading after the campaign's name, otherwise.
[[nodiscard]] Status CheckDeletable(CampaignState state, const StateCounts& counts);

// What the operator may do with a campaign: AllowedActions, then kEdit and kDelete when they
// apply. Without `counts` (nullptr) a campaign counts as finished only when cancelled.
std::vector<CampaignAction> OperatorActions(CampaignState state, const StateCounts* counts);

}  // namespace tginvite::core
