// Part of the Store (storage/store.h): settings, campaigns, suppressions and the export — what an
// operator creates and changes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/actor.h"
#include "core/campaign_states.h"
#include "core/contact.h"
#include "core/error.h"
#include "core/model.h"
#include "core/settings.h"

namespace tginvite::storage {

struct Campaign {
  int64_t id = 0;
  std::string name;
  int64_t account_id = 0;
  std::string account_name;
  core::AccountKind account_kind = core::AccountKind::kRehearsal;
  std::string chat;  // "-1001234567890" or "@channelname"
  std::string template_text;
  core::LinkMode link_mode = core::LinkMode::kPersonal;
  std::string shared_link;
  core::CampaignState state = core::CampaignState::kDraft;
  int64_t created_at = 0;
  std::optional<int64_t> started_at;
  std::string paused_reason;  // set when the engine paused it (e.g. the bot lost its rights)
  core::CampaignReach reach = core::CampaignReach::kDirect;
  std::string bot_username;    // the account's, for the campaign's start links
  int64_t links_exported = 0;  // start links handed out (exports), each invitation once
  int64_t links_started = 0;   // invitations whose contact pressed Start
  // How the campaign invites: always kMessage on a bot account.
  core::DeliveryMethod method = core::DeliveryMethod::kMessage;
  // The schedule (unix ms): a running campaign sends nothing before starts_at and is paused by
  // the engine at ends_at.
  std::optional<int64_t> starts_at;
  std::optional<int64_t> ends_at;
};

struct NewCampaign {
  std::string name;
  std::string account_name;
  std::string chat;
  std::string template_text;
  core::LinkMode link_mode = core::LinkMode::kPersonal;
  std::string shared_link;
  core::CampaignReach reach = core::CampaignReach::kDirect;
  // kInvalidArgument for add or add-then-message on a bot account. For a user account's campaign
  // reach is always direct: a user account writes first.
  core::DeliveryMethod method = core::DeliveryMethod::kMessage;
  // The schedule (unix ms); kInvalidArgument when both are set and ends_at <= starts_at.
  std::optional<int64_t> starts_at = std::nullopt;
  std::optional<int64_t> ends_at = std::nullopt;
};

// What an edit of a campaign changes: each field that is set, the others are kept.
struct CampaignEdit {
  std::optional<std::string> template_text;  // validated as CreateCampaign validates it
  // The chat and the link (mode, and shared link) change only while the campaign is not running
  // and nothing of it was claimed or sent: no attempt, no invitation past pending.
  std::optional<std::string> chat;
  std::optional<core::LinkMode> link_mode;
  std::optional<std::string> shared_link;  // "" clears it (a shared campaign then makes its own)
  // The schedule: an inner std::nullopt clears the bound.
  std::optional<std::optional<int64_t>> starts_at;
  std::optional<std::optional<int64_t>> ends_at;

  bool Empty() const {
    return !template_text && !chat && !link_mode && !shared_link && !starts_at && !ends_at;
  }
  bool ChangesDelivery() const { return chat || link_mode || shared_link; }
};

// What deleting a campaign keeps of its attempts: kKeep detaches them (they keep the campaign's
// name and the contact's id, and stay in the contact's history); kPurge deletes them too.
enum class AttemptsOnDelete { kKeep, kPurge };

struct DeletedCampaign {
  std::string name;
  int64_t invitations = 0;       // deleted
  int64_t attempts_deleted = 0;  // kPurge
  int64_t attempts_kept = 0;     // kKeep: detached, still readable
};

// The operator's actions on a campaign and the states they lead to: core/campaign_states.h.
using CampaignAction = core::CampaignAction;

struct CampaignSummary {
  Campaign campaign;
  core::StateCounts counts;
  int64_t sent_last_minute = 0;  // successful sends in the last 60 s
};

struct ExportRow {
  core::ContactRecord contact;
  std::string start_link;  // https://t.me/<bot>?start=<key>; "" while the bot's name is unknown
  core::InvitationState state = core::InvitationState::kPending;
  int64_t attempts = 0;
  std::string last_error;
  std::string invite_link;
  std::optional<int64_t> sent_at;
  std::optional<int64_t> joined_at;
  int64_t updated_at = 0;
};

struct Suppression {
  std::string key;  // "id:123", "username:bob" or "phone:+4930123456"
  std::string reason;
  int64_t created_at = 0;
};

// One change of a campaign's state, as the audit trail keeps it: who, when, from what to what.
struct CampaignEvent {
  int64_t id = 0;     // increases with every event; the key of the trail's pages
  int64_t at = 0;     // unix ms
  std::string actor;  // core::ToString(Actor): "cli:alice", "token:deploy", "engine", …
  CampaignAction action = CampaignAction::kStart;
  core::CampaignState from = core::CampaignState::kDraft;
  core::CampaignState to = core::CampaignState::kDraft;
  std::string detail;  // the engine's reason for a pause; what a cancel cancelled; else empty
};

// The most events one page of a campaign's trail holds.
inline constexpr int kMaxCampaignEvents = 200;

// A page of a campaign's trail, newest first: events whose id is below `before` (0: from the
// newest), at most `limit` (1..kMaxCampaignEvents) of them.
struct CampaignEventQuery {
  int64_t before = 0;
  int limit = 20;
};

struct CampaignEventPage {
  std::vector<CampaignEvent> events;
  std::optional<int64_t> next_before;  // set when older events remain
};

// Settings are global (campaign = std::nullopt) or a campaign's overrides.
using SettingScope = std::optional<std::string>;

class Catalog {
 public:
  virtual ~Catalog() = default;

  // The stored values of one scope, unvalidated (ResolveSettings validates and falls back).
  virtual Result<core::RawSettings> LoadSettings(const SettingScope& scope) = 0;
  // Every scope's stored values in one read, by scope: 0 for the global settings, a campaign's id
  // for its overrides (what a worker's plan reads several times a second).
  virtual Result<std::map<int64_t, core::RawSettings>> LoadAllSettings() = 0;
  // Validates `value` (type, range, and cross-field rules against the values in force: for a
  // global change, also against every campaign's overrides) and stores its canonical text.
  virtual Status PutSetting(const SettingScope& scope, std::string_view key,
                            std::string_view value) = 0;
  // Removes a stored value, so the global value or default is in force again.
  virtual Status DeleteSetting(const SettingScope& scope, std::string_view key) = 0;

  // Validates the template (placeholders, HTML, length), the chat and the link mode.
  virtual Result<Campaign> CreateCampaign(const NewCampaign& campaign) = 0;
  virtual Result<std::vector<CampaignSummary>> ListCampaigns() = 0;
  // The running campaigns alone, without counts or rates: what the worker reads every cycle.
  virtual Result<std::vector<Campaign>> ListRunningCampaigns() = 0;
  virtual Result<CampaignSummary> FindCampaign(std::string_view name) = 0;
  // kInvalidArgument when the action does not apply to the campaign's state. Cancelling turns
  // every pending or waiting invitation into cancelled. The change and its CampaignEvent, naming
  // `actor`, are written in one transaction; once committed, the change is logged (info).
  virtual Result<Campaign> ChangeCampaign(std::string_view name, CampaignAction action,
                                          const core::Actor& actor) = 0;
  // Changes what `edit` sets (kInvalidArgument for an empty edit or a bad value; kFailedPrecondition
  // for a cancelled campaign, or for a chat or link change once the campaign runs or anything of
  // it was claimed or sent). The change and a CampaignEvent (action edit, detail: what changed)
  // are written in one transaction; once committed the change is logged (info). A new template
  // applies to every invitation not sent yet: the worker renders a message when it sends it.
  virtual Result<Campaign> EditCampaign(std::string_view name, const CampaignEdit& edit,
                                        const core::Actor& actor) = 0;
  // Deletes a cancelled or finished campaign (else kFailedPrecondition with the reason), its
  // invitations, its audit trail and its setting overrides, in one transaction; its attempts are
  // kept detached or purged as `attempts` says. Logged (info) with `actor` once committed.
  virtual Result<DeletedCampaign> DeleteCampaign(std::string_view name, AttemptsOnDelete attempts,
                                                 const core::Actor& actor) = 0;
  // The campaign's state changes, newest first (the operator's and the engine's pauses alike).
  // kNotFound for an unknown campaign; kInvalidArgument for a limit out of range.
  virtual Result<CampaignEventPage> ListCampaignEvents(std::string_view campaign,
                                                       const CampaignEventQuery& query) = 0;

  // Puts the campaign's unknown invitations (their request may have been delivered) back to
  // pending, on the operator's explicit word. Returns how many.
  virtual Result<int64_t> ResendUnknown(std::string_view campaign) = 0;

  // Puts the campaign's failed invitations back to pending with their attempts reset, on the
  // operator's explicit word. Returns how many.
  virtual Result<int64_t> RetryFailed(std::string_view campaign) = 0;

  virtual Result<int64_t> CountContacts() = 0;
  // Streams one row per invitation of the campaign, in contact order.
  virtual Status ExportInvitations(std::string_view campaign,
                                   const std::function<Status(const ExportRow&)>& on_row) = 0;

  // Suppresses a user for every campaign; their pending and waiting invitations become skipped.
  // Returns how many invitations were skipped.
  virtual Result<int64_t> AddSuppression(std::string_view key, std::string_view reason) = 0;
  virtual Status RemoveSuppression(std::string_view key) = 0;
  virtual Result<std::vector<Suppression>> ListSuppressions() = 0;

  // Records that the campaign's start links were handed out (an export): counted once per
  // invitation still waiting for its start. Returns how many were new.
  virtual Result<int64_t> MarkStartLinksExported(std::string_view campaign) = 0;
  // Gives the contact's invitation in the campaign a new start key: the old link stops working.
  // `contact` is a suppression-style key (id:N, username:NAME, phone:+E164). Returns the new link.
  virtual Result<std::string> RenewStartLink(std::string_view campaign,
                                             std::string_view contact) = 0;
};

}  // namespace tginvite::storage
