// The SQL stores' catalog: settings, campaigns and their state changes, the contacts' export
// and suppressions. The statements mean the same on SQLite and PostgreSQL; what differs (how
// invitation counts are kept) is the engine's StateCountsOf.
#include <limits>

#include <spdlog/spdlog.h>

#include "core/invitation_states.h"
#include "core/iso_time.h"
#include "core/message_template.h"
#include "core/names.h"
#include "core/secret_box.h"
#include "core/suppression_key.h"
#include "storage/sql_rows.h"
#include "storage/sql_store.h"
#include "storage/sql_web_rows.h"

namespace tginvite::storage {
namespace {

constexpr int64_t kGlobalScope = 0;

// The contacts column a suppression key (core/suppression_key.h) matches, and the value to match.
struct KeyMatch {
  std::string_view column;
  Value value;
};

Result<KeyMatch> MatchOf(std::string_view key) {
  ASSIGN_OR_RETURN(core::SuppressionKey parsed, core::ParseSuppressionKey(key));
  switch (parsed.kind) {
    case core::SuppressionKey::Kind::kUserId:
      return KeyMatch{"telegram_user_id", parsed.user_id};
    case core::SuppressionKey::Kind::kUsername:
      return KeyMatch{"username", std::move(parsed.text)};
    case core::SuppressionKey::Kind::kPhone:
      return KeyMatch{"phone", std::move(parsed.text)};
  }
  return Fail(ErrorCode::kInternal, "contact key \"{}\": no column to match", key);
}

constexpr std::string_view kCampaignColumns =
    "SELECT c.id, c.name, c.account_id, a.name, a.kind, c.chat, c.template, c.link_mode, "
    "c.shared_link, c.state, c.created_at, c.started_at, c.paused_reason, c.reach, "
    "a.bot_username, c.links_exported, c.links_started, c.method, c.starts_at, c.ends_at "
    "FROM campaigns c JOIN accounts a ON a.id = c.account_id";

Campaign CampaignFromRow(const Row& row) {
  Campaign c;
  c.id = row.Int(0);
  c.name = row.Text(1);
  c.account_id = row.Int(2);
  c.account_name = row.Text(3);
  c.account_kind = core::ParseAccountKind(row.Text(4)).value_or(core::AccountKind::kRehearsal);
  c.chat = row.Text(5);
  c.template_text = row.Text(6);
  c.link_mode = core::ParseLinkMode(row.Text(7)).value_or(core::LinkMode::kPersonal);
  c.shared_link = row.Text(8);
  c.state = core::ParseCampaignState(row.Text(9)).value_or(core::CampaignState::kDraft);
  c.created_at = row.Int(10);
  c.started_at = row.OptInt(11);
  c.paused_reason = row.Text(12);
  c.reach = core::ParseCampaignReach(row.Text(13)).value_or(core::CampaignReach::kDirect);
  c.bot_username = row.Text(14);
  c.links_exported = row.Int(15);
  c.links_started = row.Int(16);
  c.method = core::ParseDeliveryMethod(row.Text(17)).value_or(core::DeliveryMethod::kMessage);
  c.starts_at = row.OptInt(18);
  c.ends_at = row.OptInt(19);
  return c;
}

Result<Campaign> FindCampaignIn(Session& session, std::string_view name) {
  ASSIGN_OR_RETURN(
      std::optional<Row> row,
      session.QueryOne(std::string(kCampaignColumns) + " WHERE c.name = ?", {std::string(name)}));
  if (!row) return Fail(ErrorCode::kNotFound, "no campaign named \"{}\"", name);
  return CampaignFromRow(*row);
}

Result<int64_t> SentSince(Session& session, int64_t campaign_id, int64_t since) {
  return session.QueryInt(
      // attempts_by_time first (SQLite keeps a CROSS JOIN's order; the condition in WHERE keeps
      // the statement valid on PostgreSQL): the last minute is a few rows, the campaign's
      // invitations may be a million.
      "SELECT COUNT(*) FROM attempts a CROSS JOIN invitations i "
      "WHERE i.id = a.invitation_id AND a.started_at >= ? AND a.request = 'send' "
      "AND a.outcome = 'ok' AND i.campaign_id = ?",
      {since, campaign_id});
}

// A bot only messages (and needs a start for it, when its campaign's reach says so); a user
// account adds or messages, and always writes first.
Status CheckMethod(core::AccountKind kind, core::DeliveryMethod method, core::CampaignReach reach) {
  if (!core::IsUserAccount(kind)) {
    if (method != core::DeliveryMethod::kMessage) {
      return Fail(ErrorCode::kInvalidArgument,
                  "add and add-then-message need a user account: a bot cannot add members");
    }
    return Ok();
  }
  if (reach != core::CampaignReach::kDirect) {
    return Fail(ErrorCode::kInvalidArgument,
                "start links are for bots: a user account writes first");
  }
  return Ok();
}

// The template, link mode and shared link a campaign would have, checked together: what
// CreateCampaign refuses, EditCampaign refuses too.
Status CheckMessage(std::string_view name, std::string_view template_text, core::LinkMode link_mode,
                    std::string_view shared_link) {
  if (link_mode == core::LinkMode::kShared && !shared_link.empty()) {
    if (!shared_link.starts_with("https://t.me/")) {
      return Fail(ErrorCode::kInvalidArgument,
                  "campaign {}: --shared-link must be a https://t.me/ invite link", name);
    }
  } else if (!shared_link.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "campaign {}: --shared-link applies only to --link shared", name);
  }
  // The dashboard's template preview checks with the same limits (core::CampaignTemplateLimits).
  RETURN_IF_ERROR_CTX(
      core::MessageTemplate::Parse(template_text, core::CampaignTemplateLimits(name, shared_link)),
      fmt::format("campaign {}: template", name));
  return Ok();
}

std::string ShownInstant(const std::optional<int64_t>& at) {
  return at ? core::FormatIsoUtc(*at) : "(none)";
}

Status CheckSchedule(std::string_view name, const std::optional<int64_t>& starts_at,
                     const std::optional<int64_t>& ends_at) {
  if (starts_at && ends_at && *ends_at <= *starts_at) {
    return Fail(ErrorCode::kInvalidArgument,
                "campaign {}: ends_at ({}) must be after starts_at ({})", name,
                ShownInstant(ends_at), ShownInstant(starts_at));
  }
  return Ok();
}

Value OptValue(const std::optional<int64_t>& value) { return value ? Value(*value) : Value(); }

Result<int64_t> ScopeId(Session& session, const SettingScope& scope) {
  if (!scope) return kGlobalScope;
  ASSIGN_OR_RETURN(Campaign campaign, FindCampaignIn(session, *scope));
  return campaign.id;
}

Result<core::RawSettings> LoadScope(Session& session, int64_t scope_id) {
  core::RawSettings raw;
  RETURN_IF_ERROR(session.ForEach("SELECT key, value FROM settings WHERE scope = ?", {scope_id},
                                  [&raw](const Row& row) -> Status {
                                    raw.emplace(row.Text(0), row.Text(1));
                                    return Ok();
                                  }));
  return raw;
}

}  // namespace

Result<core::RawSettings> SqlStore::LoadSettings(const SettingScope& scope) {
  core::RawSettings raw;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(int64_t scope_id, ScopeId(session, scope));
    ASSIGN_OR_RETURN(raw, LoadScope(session, scope_id));
    return Ok();
  }));
  return raw;
}

Status SqlStore::PutSetting(const SettingScope& scope, std::string_view key,
                            std::string_view value) {
  ASSIGN_OR_RETURN(std::string canonical, core::ValidateSetting(key, value));
  if (scope && core::ScopeOf(*core::FindSetting(key)) == core::SettingScopeKind::kGlobalOnly) {
    return Fail(ErrorCode::kInvalidArgument,
                "{}: applies to every campaign of a sending account; set it without --campaign",
                key);
  }
  return WriteUnit([&](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t scope_id, ScopeId(tx, scope));
    ASSIGN_OR_RETURN(core::RawSettings global, LoadScope(tx, kGlobalScope));
    if (scope) {
      ASSIGN_OR_RETURN(core::RawSettings overrides, LoadScope(tx, scope_id));
      overrides[std::string(key)] = canonical;
      RETURN_IF_ERROR(core::CheckSettingRules(global, overrides));
    } else {
      global[std::string(key)] = canonical;
      RETURN_IF_ERROR(core::CheckSettingRules(global, {}));
      // The new global value must also hold beside every campaign's overrides.
      ASSIGN_OR_RETURN(std::vector<Row> scopes,
                       tx.Query("SELECT DISTINCT s.scope, c.name FROM settings s JOIN campaigns c "
                                "ON c.id = s.scope ORDER BY c.name"));
      for (const Row& row : scopes) {
        ASSIGN_OR_RETURN(core::RawSettings overrides, LoadScope(tx, row.Int(0)));
        RETURN_IF_ERROR_CTX(core::CheckSettingRules(global, overrides),
                            fmt::format("campaign {}", row.Text(1)));
      }
    }
    RETURN_IF_ERROR(
        tx.Execute("INSERT INTO settings (scope, key, value, updated_at) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, "
                   "updated_at = excluded.updated_at",
                   {scope_id, std::string(key), canonical, NowUnixMillis()}));
    return Ok();
  });
}

Status SqlStore::DeleteSetting(const SettingScope& scope, std::string_view key) {
  if (core::FindSetting(key) == nullptr) {
    return Fail(ErrorCode::kNotFound, "unknown setting \"{}\"", key);
  }
  return WriteUnit([&](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t scope_id, ScopeId(tx, scope));
    RETURN_IF_ERROR(tx.Execute("DELETE FROM settings WHERE scope = ? AND key = ?",
                               {scope_id, std::string(key)}));
    return Ok();
  });
}

Result<Campaign> SqlStore::CreateCampaign(const NewCampaign& campaign) {
  RETURN_IF_ERROR(core::ValidateName("campaign", campaign.name));
  RETURN_IF_ERROR_CTX(core::ValidateChat(campaign.chat), fmt::format("campaign {}", campaign.name));
  RETURN_IF_ERROR(CheckMessage(campaign.name, campaign.template_text, campaign.link_mode,
                               campaign.shared_link));
  RETURN_IF_ERROR(CheckSchedule(campaign.name, campaign.starts_at, campaign.ends_at));
  int64_t id = 0;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(
        std::optional<Row> account,
        tx.QueryOne("SELECT id, kind FROM accounts WHERE name = ?", {campaign.account_name}));
    if (!account) {
      return Fail(ErrorCode::kNotFound, "campaign {}: no account named \"{}\"", campaign.name,
                  campaign.account_name);
    }
    const std::optional<core::AccountKind> kind = core::ParseAccountKind(account->Text(1));
    RETURN_IF_ERROR_CTX(
        CheckMethod(kind.value_or(core::AccountKind::kRehearsal), campaign.method, campaign.reach),
        fmt::format("campaign {}", campaign.name));
    int64_t now = NowUnixMillis();
    Result<std::optional<Row>> row = tx.QueryOne(
        "INSERT INTO campaigns (name, account_id, chat, template, link_mode, shared_link, "
        "reach, method, created_at, updated_at, starts_at, ends_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        {campaign.name, account->Int(0), campaign.chat, campaign.template_text,
         std::string(core::ToString(campaign.link_mode)), NullIfEmpty(campaign.shared_link),
         std::string(core::ToString(campaign.reach)), std::string(core::ToString(campaign.method)),
         now, now, OptValue(campaign.starts_at), OptValue(campaign.ends_at)});
    if (!row && row.error().code == ErrorCode::kAlreadyExists) {
      return Fail(ErrorCode::kAlreadyExists, "a campaign named \"{}\" exists already",
                  campaign.name);
    }
    RETURN_IF_ERROR(row);
    id = (*row)->Int(0);
    return Ok();
  }));
  ASSIGN_OR_RETURN(CampaignSummary created, FindCampaign(campaign.name));
  return created.campaign;
}

Result<std::vector<CampaignSummary>> SqlStore::ListCampaigns() {
  std::vector<CampaignSummary> campaigns;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    RETURN_IF_ERROR(session.ForEach(std::string(kCampaignColumns) + " ORDER BY c.id", {},
                                    [&campaigns](const Row& row) -> Status {
                                      campaigns.push_back({CampaignFromRow(row), {}});
                                      return Ok();
                                    }));
    ASSIGN_OR_RETURN(auto sent, internal::SentSinceByCampaign(session, NowUnixMillis() - 60'000));
    for (CampaignSummary& summary : campaigns) {
      ASSIGN_OR_RETURN(summary.counts, StateCountsOf(session, summary.campaign.id));
      auto n = sent.find(summary.campaign.id);
      summary.sent_last_minute = n == sent.end() ? 0 : n->second;
    }
    return Ok();
  }));
  return campaigns;
}

Result<std::vector<Campaign>> SqlStore::ListRunningCampaigns() {
  std::vector<Campaign> campaigns;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    return session.ForEach(
        std::string(kCampaignColumns) + " WHERE c.state = 'running' ORDER BY c.id", {},
        [&campaigns](const Row& row) -> Status {
          campaigns.push_back(CampaignFromRow(row));
          return Ok();
        });
  }));
  return campaigns;
}

Result<CampaignSummary> SqlStore::FindCampaign(std::string_view name) {
  CampaignSummary summary;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(summary.campaign, FindCampaignIn(session, name));
    ASSIGN_OR_RETURN(summary.counts, StateCountsOf(session, summary.campaign.id));
    ASSIGN_OR_RETURN(summary.sent_last_minute,
                     SentSince(session, summary.campaign.id, NowUnixMillis() - 60'000));
    return Ok();
  }));
  return summary;
}

Result<Campaign> SqlStore::ChangeCampaign(std::string_view name, CampaignAction action,
                                          const core::Actor& actor) {
  using core::CampaignState;
  if (action == CampaignAction::kEdit || action == CampaignAction::kDelete) {
    return Fail(ErrorCode::kInvalidArgument, "campaign {}: {} is not a change of state", name,
                core::ToString(action));
  }
  Campaign changed;
  CampaignEvent event;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(Campaign campaign, FindCampaignIn(tx, name));
    Result<CampaignState> next = core::NextState(campaign.state, action);
    if (!next) return Fail(next.error().code, "campaign {} {}", name, next.error().message);
    const CampaignState to = *next;
    int64_t now = NowUnixMillis();
    // started_at: when it first ran.
    RETURN_IF_ERROR(tx.Execute(
        "UPDATE campaigns SET state = ?, updated_at = ?, paused_reason = NULL, "
        "started_at = COALESCE(started_at, CAST(? AS BIGINT)) WHERE id = ?",
        {std::string(core::ToString(to)), now, to == CampaignState::kRunning ? Value(now) : Value(),
         campaign.id}));
    event = CampaignEvent{0, now, core::ToString(actor), action, campaign.state, to, ""};
    if (to == CampaignState::kCancelled) {
      ASSIGN_OR_RETURN(
          int64_t cancelled,
          tx.Execute(fmt::format("UPDATE invitations SET state = 'cancelled', "
                                 "updated_at = ? WHERE campaign_id = ? AND state IN ({})",
                                 core::QuotedNames(core::kOpenInvitationStates)),
                     {now, campaign.id}));
      event.detail = fmt::format("open invitations cancelled: {}", cancelled);
    }
    RETURN_IF_ERROR(internal::RecordCampaignEvent(tx, campaign.id, event));
    ASSIGN_OR_RETURN(changed, FindCampaignIn(tx, name));
    return Ok();
  }));
  internal::LogCampaignEvent(changed.name, event);
  return changed;
}

Result<Campaign> SqlStore::EditCampaign(std::string_view name, const CampaignEdit& edit,
                                        const core::Actor& actor) {
  if (edit.Empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "campaign {}: nothing to change: give a template, chat, link or schedule", name);
  }
  if (edit.chat) RETURN_IF_ERROR_CTX(core::ValidateChat(*edit.chat), fmt::format("campaign {}", name));
  Campaign changed;
  CampaignEvent event;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    event = CampaignEvent{};
    ASSIGN_OR_RETURN(Campaign campaign, FindCampaignIn(tx, name));
    if (Status editable = core::CheckEditable(campaign.state); !editable) {
      return Fail(editable.error().code, "campaign {} {}: it cannot be edited", name,
                  editable.error().message);
    }
    Campaign next = campaign;
    if (edit.template_text) next.template_text = *edit.template_text;
    if (edit.chat) next.chat = *edit.chat;
    if (edit.link_mode) next.link_mode = *edit.link_mode;
    if (edit.shared_link) {
      next.shared_link = *edit.shared_link;
    } else if (next.link_mode != core::LinkMode::kShared || next.chat != campaign.chat) {
      // The campaign's shared link was made for its chat: a new chat makes a new one.
      next.shared_link.clear();
    }
    if (edit.starts_at) next.starts_at = *edit.starts_at;
    if (edit.ends_at) next.ends_at = *edit.ends_at;
    RETURN_IF_ERROR(CheckMessage(name, next.template_text, next.link_mode, next.shared_link));
    RETURN_IF_ERROR(CheckSchedule(name, next.starts_at, next.ends_at));

    std::vector<std::string> changes;
    if (next.template_text != campaign.template_text) changes.push_back("template");
    if (next.chat != campaign.chat) {
      changes.push_back(fmt::format("chat {} -> {}", campaign.chat, next.chat));
    }
    if (next.link_mode != campaign.link_mode) {
      changes.push_back(fmt::format("link {} -> {}", core::ToString(campaign.link_mode),
                                    core::ToString(next.link_mode)));
    }
    if (next.shared_link != campaign.shared_link) changes.push_back("shared link");
    if (next.starts_at != campaign.starts_at) {
      changes.push_back(fmt::format("starts_at {} -> {}", ShownInstant(campaign.starts_at),
                                    ShownInstant(next.starts_at)));
    }
    if (next.ends_at != campaign.ends_at) {
      changes.push_back(fmt::format("ends_at {} -> {}", ShownInstant(campaign.ends_at),
                                    ShownInstant(next.ends_at)));
    }
    const bool delivery = next.chat != campaign.chat || next.link_mode != campaign.link_mode ||
                          next.shared_link != campaign.shared_link;
    if (delivery) {
      // A claim takes only a running campaign's rows (and reads its chat and link with them), so
      // a campaign that is not running, with nothing claimed or sent, has no request in flight
      // that could go out with the old chat or link.
      if (campaign.state == core::CampaignState::kRunning) {
        return Fail(ErrorCode::kFailedPrecondition,
                    "campaign {} is running: pause it before changing its chat or link", name);
      }
      ASSIGN_OR_RETURN(
          int64_t touched,
          tx.QueryInt(fmt::format("SELECT COUNT(*) FROM invitations WHERE campaign_id = ? AND "
                                  "state NOT IN ({})",
                                  core::QuotedNames(std::array{
                                      core::InvitationState::kPending,
                                      core::InvitationState::kAwaitingStart,
                                      core::InvitationState::kSkipped,
                                      core::InvitationState::kCancelled})),
                      {campaign.id}));
      ASSIGN_OR_RETURN(int64_t attempted,
                       tx.QueryInt("SELECT COUNT(*) FROM attempts a JOIN invitations i ON "
                                   "i.id = a.invitation_id WHERE i.campaign_id = ?",
                                   {campaign.id}));
      if (touched > 0 || attempted > 0) {
        return Fail(ErrorCode::kFailedPrecondition,
                    "campaign {}: its chat and link can no longer change: {} invitations were "
                    "claimed or sent already ({} requests made); only the template and the "
                    "schedule can",
                    name, touched, attempted);
      }
    }
    changed = campaign;
    if (changes.empty()) return Ok();  // the values it has already: nothing to record
    const int64_t now = NowUnixMillis();
    RETURN_IF_ERROR(tx.Execute(
        "UPDATE campaigns SET template = ?, chat = ?, link_mode = ?, shared_link = ?, "
        "starts_at = ?, ends_at = ?, updated_at = ? WHERE id = ?",
        {next.template_text, next.chat, std::string(core::ToString(next.link_mode)),
         NullIfEmpty(next.shared_link), OptValue(next.starts_at), OptValue(next.ends_at), now,
         campaign.id}));
    std::string detail;
    for (const std::string& change : changes) detail += (detail.empty() ? "" : "; ") + change;
    event = CampaignEvent{0,      now,    core::ToString(actor), CampaignAction::kEdit,
                          campaign.state, campaign.state, std::move(detail)};
    RETURN_IF_ERROR(internal::RecordCampaignEvent(tx, campaign.id, event));
    ASSIGN_OR_RETURN(changed, FindCampaignIn(tx, name));
    return Ok();
  }));
  if (!event.detail.empty()) internal::LogCampaignEvent(changed.name, event);
  return changed;
}

Result<DeletedCampaign> SqlStore::DeleteCampaign(std::string_view name, AttemptsOnDelete attempts,
                                                 const core::Actor& actor) {
  DeletedCampaign deleted;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    deleted = DeletedCampaign{std::string(name)};
    ASSIGN_OR_RETURN(Campaign campaign, FindCampaignIn(tx, name));
    ASSIGN_OR_RETURN(core::StateCounts counts, StateCountsOf(tx, campaign.id));
    if (Status deletable = core::CheckDeletable(campaign.state, counts); !deletable) {
      return Fail(deletable.error().code, "campaign {} {}", name, deletable.error().message);
    }
    const Value id = campaign.id;
    // The release lets the append-only triggers detach or delete this campaign's attempts, and
    // exists only inside this transaction.
    RETURN_IF_ERROR(tx.Execute("INSERT INTO attempt_releases (campaign_id) VALUES (?)", {id}));
    if (attempts == AttemptsOnDelete::kPurge) {
      ASSIGN_OR_RETURN(deleted.attempts_deleted,
                       tx.Execute("DELETE FROM attempts WHERE invitation_id IN "
                                  "(SELECT id FROM invitations WHERE campaign_id = ?)",
                                  {id}));
    } else {
      // Every SET reads the row as it was: the contact is found through the old invitation_id.
      ASSIGN_OR_RETURN(
          deleted.attempts_kept,
          tx.Execute("UPDATE attempts SET campaign_name = ?, contact_id = (SELECT i.contact_id "
                     "FROM invitations i WHERE i.id = attempts.invitation_id), "
                     "invitation_id = NULL "
                     "WHERE invitation_id IN (SELECT id FROM invitations WHERE campaign_id = ?)",
                     {campaign.name, id}));
    }
    RETURN_IF_ERROR(tx.Execute("DELETE FROM attempt_releases WHERE campaign_id = ?", {id}));
    ASSIGN_OR_RETURN(deleted.invitations,
                     tx.Execute("DELETE FROM invitations WHERE campaign_id = ?", {id}));
    if (deleted.invitations != counts.Total()) {
      // An import added invitations after the counts were read (PostgreSQL): check again.
      return Fail(ErrorCode::kAborted, "campaign {}: its invitations changed while it was deleted",
                  name);
    }
    std::string_view derived = Dialect().delete_campaign_derived;
    while (!derived.empty()) {
      const size_t end = derived.find(';');
      const std::string_view statement = derived.substr(0, end);
      derived = end == std::string_view::npos ? std::string_view() : derived.substr(end + 1);
      if (!statement.empty()) RETURN_IF_ERROR(tx.Execute(statement, {id}));
    }
    RETURN_IF_ERROR(tx.Execute("DELETE FROM campaign_events WHERE campaign_id = ?", {id}));
    RETURN_IF_ERROR(tx.Execute("DELETE FROM settings WHERE scope = ?", {id}));
    RETURN_IF_ERROR(tx.Execute("DELETE FROM campaigns WHERE id = ?", {id}));
    return Ok();
  }));
  spdlog::info("campaign {}: deleted by {}: {} invitations; {} attempts {}", deleted.name,
               core::ToString(actor), deleted.invitations,
               attempts == AttemptsOnDelete::kPurge ? deleted.attempts_deleted
                                                    : deleted.attempts_kept,
               attempts == AttemptsOnDelete::kPurge ? "deleted (purge)" : "kept, detached");
  return deleted;
}

Result<CampaignEventPage> SqlStore::ListCampaignEvents(std::string_view campaign,
                                                       const CampaignEventQuery& query) {
  if (query.limit < 1 || query.limit > kMaxCampaignEvents) {
    return Fail(ErrorCode::kInvalidArgument, "campaign events: limit {}: use 1 to {}", query.limit,
                kMaxCampaignEvents);
  }
  CampaignEventPage page;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(Campaign found, FindCampaignIn(session, campaign));
    // One more than asked tells whether older events remain.
    return session.ForEach(
        "SELECT id, at, actor, action, from_state, to_state, detail FROM campaign_events "
        "WHERE campaign_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
        {found.id, query.before > 0 ? query.before : std::numeric_limits<int64_t>::max(),
         int64_t{query.limit} + 1},
        [&page, &query](const Row& row) -> Status {
          if (std::ssize(page.events) == query.limit) {
            page.next_before = page.events.back().id;
            return Ok();
          }
          CampaignEvent event;
          event.id = row.Int(0);
          event.at = row.Int(1);
          event.actor = row.Text(2);
          event.action =
              core::ParseCampaignAction(row.Text(3)).value_or(core::CampaignAction::kPause);
          event.from = core::ParseCampaignState(row.Text(4)).value_or(core::CampaignState::kDraft);
          event.to = core::ParseCampaignState(row.Text(5)).value_or(core::CampaignState::kDraft);
          event.detail = row.Text(6);
          page.events.push_back(std::move(event));
          return Ok();
        });
  }));
  return page;
}

namespace internal {

Status RecordCampaignEvent(Tx& tx, int64_t campaign_id, const CampaignEvent& event) {
  RETURN_IF_ERROR(tx.Execute(
      "INSERT INTO campaign_events (campaign_id, at, actor, action, from_state, to_state, detail) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      {campaign_id, event.at, event.actor, std::string(core::ToString(event.action)),
       std::string(core::ToString(event.from)), std::string(core::ToString(event.to)),
       event.detail}));
  return Ok();
}

void LogCampaignEvent(std::string_view campaign, const CampaignEvent& event) {
  // An operator's change is news; the engine's pause asks an operator to act.
  const spdlog::level::level_enum level =
      event.actor.starts_with("engine") ? spdlog::level::warn : spdlog::level::info;
  if (event.action == CampaignAction::kEdit) {
    spdlog::log(level, "campaign {}: edited by {}: {}", campaign, event.actor, event.detail);
    return;
  }
  spdlog::log(level, "campaign {}: {} -> {} by {}{}{}", campaign, core::ToString(event.from),
              core::ToString(event.to), event.actor, event.detail.empty() ? "" : ": ",
              event.detail);
}

}  // namespace internal

Result<int64_t> SqlStore::ResendUnknown(std::string_view campaign) {
  int64_t resent = 0;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(Campaign found, FindCampaignIn(tx, campaign));
    ASSIGN_OR_RETURN(
        resent, tx.Execute("UPDATE invitations SET state = 'pending', next_attempt_at = 0, "
                           "last_error = 'resent by the operator after: ' || COALESCE(last_error, "
                           "''), updated_at = ? WHERE campaign_id = ? AND state = 'unknown'",
                           {NowUnixMillis(), found.id}));
    return Ok();
  }));
  return resent;
}

Result<int64_t> SqlStore::CountContacts() {
  int64_t count = 0;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(count, session.QueryInt("SELECT COUNT(*) FROM contacts"));
    return Ok();
  }));
  return count;
}

Status SqlStore::ExportInvitations(std::string_view campaign,
                                   const std::function<Status(const ExportRow&)>& on_row) {
  return ReadUnit([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(Campaign found, FindCampaignIn(session, campaign));
    return session.ForEach(
        "SELECT c.telegram_user_id, c.username, c.first_name, c.last_name, c.phone, i.state, "
        "i.attempts, i.last_error, i.invite_link, i.sent_at, i.joined_at, i.updated_at, "
        "i.start_key FROM invitations i JOIN contacts c ON c.id = i.contact_id WHERE i.campaign_id = ? "
        "ORDER BY i.contact_id",
        {found.id}, [&on_row, &found](const Row& row) -> Status {
          ExportRow out;
          out.contact = internal::ContactFromColumns(row, 0);
          out.state =
              core::ParseInvitationState(row.Text(5)).value_or(core::InvitationState::kPending);
          out.attempts = row.Int(6);
          out.last_error = row.Text(7);
          out.invite_link = row.Text(8);
          out.sent_at = row.OptInt(9);
          out.joined_at = row.OptInt(10);
          out.updated_at = row.Int(11);
          out.start_link = core::StartLink(found.bot_username, row.Text(12));
          return on_row(out);
        });
  });
}

Result<int64_t> SqlStore::AddSuppression(std::string_view key, std::string_view reason) {
  ASSIGN_OR_RETURN(KeyMatch match, MatchOf(key));
  int64_t skipped = 0;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    int64_t now = NowUnixMillis();
    RETURN_IF_ERROR(
        tx.Execute("INSERT INTO suppressions (key, reason, created_at) VALUES (?, ?, ?) "
                   "ON CONFLICT (key) DO UPDATE SET reason = excluded.reason",
                   {std::string(key), std::string(reason), now}));
    ASSIGN_OR_RETURN(
        skipped,
        tx.Execute(
            fmt::format("UPDATE invitations SET state = 'skipped', last_error = "
                        "'suppressed', updated_at = ? WHERE state IN ({}) AND contact_id IN "
                        "(SELECT id FROM contacts WHERE {} = ?)",
                        core::QuotedNames(core::kOpenInvitationStates), match.column),
            {now, match.value}));
    return Ok();
  }));
  return skipped;
}

Status SqlStore::RemoveSuppression(std::string_view key) {
  return WriteUnit([&](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t removed,
                     tx.Execute("DELETE FROM suppressions WHERE key = ?", {std::string(key)}));
    if (removed == 0) return Fail(ErrorCode::kNotFound, "{} is not suppressed", key);
    return Ok();
  });
}

Result<std::vector<Suppression>> SqlStore::ListSuppressions() {
  std::vector<Suppression> list;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    return session.ForEach(
        "SELECT key, reason, created_at FROM suppressions ORDER BY created_at, key", {},
        [&list](const Row& row) -> Status {
          list.push_back({row.Text(0), row.Text(1), row.Int(2)});
          return Ok();
        });
  }));
  return list;
}

Result<int64_t> SqlStore::MarkStartLinksExported(std::string_view campaign) {
  int64_t marked = 0;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(Campaign found, FindCampaignIn(tx, campaign));
    const int64_t now = NowUnixMillis();
    // The links that matter: those of contacts still waiting for their start (the others were
    // messaged directly, or have started already).
    ASSIGN_OR_RETURN(marked, tx.Execute("UPDATE invitations SET start_exported_at = ? "
                                        "WHERE campaign_id = ? AND start_exported_at IS NULL "
                                        "AND state = 'awaiting_start'",
                                        {now, found.id}));
    RETURN_IF_ERROR(tx.Execute(
        "UPDATE campaigns SET links_exported = links_exported + ? WHERE id = ?", {marked, found.id}));
    return Ok();
  }));
  return marked;
}

Result<std::string> SqlStore::RenewStartLink(std::string_view campaign, std::string_view contact) {
  ASSIGN_OR_RETURN(KeyMatch match, MatchOf(contact));
  std::string link;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(Campaign found, FindCampaignIn(tx, campaign));
    const std::string key = core::RandomHex(16);
    ASSIGN_OR_RETURN(
        int64_t changed,
        tx.Execute(fmt::format("UPDATE invitations SET start_key = ?, updated_at = ? "
                               "WHERE campaign_id = ? AND contact_id IN "
                               "(SELECT id FROM contacts WHERE {} = ?)",
                               match.column),
                   {key, NowUnixMillis(), found.id, match.value}));
    if (changed == 0) {
      return Fail(ErrorCode::kNotFound, "campaign {} has no invitation for {}", campaign, contact);
    }
    link = core::StartLink(found.bot_username, key);
    return Ok();
  }));
  return link;
}

}  // namespace tginvite::storage
