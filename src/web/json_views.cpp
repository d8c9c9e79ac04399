#include "web/json_views.h"

#include "core/campaign_states.h"
#include "core/iso_time.h"
#include "web/metrics.h"

namespace tginvite::web {
namespace {

using nlohmann::json;

json OrNull(const std::optional<int64_t>& value) { return value ? json(*value) : json(nullptr); }
json OrNull(const std::string& value) { return value.empty() ? json(nullptr) : json(value); }
json IsoOrNull(const std::optional<int64_t>& at) {
  return at ? json(core::FormatIsoUtc(*at)) : json(nullptr);
}

}  // namespace

json CountsJson(const core::StateCounts& counts) {
  json out = json::object();
  for (core::InvitationState state : core::kAllInvitationStates) {
    out[std::string(core::ToString(state))] = counts[state];
  }
  return out;
}

json CampaignJson(const storage::Campaign& c, const core::StateCounts* counts) {
  // What the operator may do next, from core's table: the dashboard shows these buttons.
  json actions = json::array();
  for (core::CampaignAction action : core::OperatorActions(c.state, counts)) {
    actions.push_back(std::string(core::ToString(action)));
  }
  return {{"name", c.name},
          {"state", std::string(core::ToString(c.state))},
          {"actions", std::move(actions)},
          {"paused_reason", c.paused_reason},
          {"account", c.account_name},
          {"rehearsal", core::IsRehearsal(c.account_kind)},
          {"chat", c.chat},
          {"link_mode", std::string(core::ToString(c.link_mode))},
          {"created_at", c.created_at},
          {"started_at", OrNull(c.started_at)},
          {"starts_at", IsoOrNull(c.starts_at)},
          {"ends_at", IsoOrNull(c.ends_at)},
          {"reach", std::string(core::ToString(c.reach))},
          {"method", std::string(core::ToString(c.method))},
          {"bot_username", OrNull(c.bot_username)},
          {"links_exported", c.links_exported},
          {"links_started", c.links_started}};
}

json SummaryJson(const storage::CampaignSummary& s, const storage::Account* account) {
  using core::InvitationState;
  const core::StateCounts& counts = s.counts;
  json out = CampaignJson(s.campaign, &counts);
  out["counts"] = CountsJson(counts);
  out["total"] = counts.Total();
  out["sent_last_minute"] = s.sent_last_minute;
  out["rate_per_minute"] = s.sent_last_minute;
  // What is left at the pace of the last minute; unknown while nothing is moving.
  const int64_t remaining = counts[InvitationState::kPending] + counts[InvitationState::kWaiting] +
                            counts[InvitationState::kSending];
  out["remaining"] = remaining;
  out["eta_seconds"] = s.campaign.state == core::CampaignState::kRunning && s.sent_last_minute > 0
                           ? json(remaining * 60 / s.sent_last_minute)
                           : json(nullptr);
  // Start links handed out, then pressed, then invitations sent, then joins. The links' two
  // steps count invitations once each; a direct campaign's are 0.
  out["funnel"] = {{"links_exported", s.campaign.links_exported},
                   {"links_started", s.campaign.links_started},
                   {"sent", counts[InvitationState::kSent] + counts[InvitationState::kJoined]},
                   {"joined", counts[InvitationState::kJoined]}};
  out["account_health"] = account ? std::string(core::ToString(account->health)) : "unknown";
  out["account_health_reason"] = account ? account->health_reason : "";
  out["flood_until"] = account ? account->flood_until : 0;
  return out;
}

json ContactJson(const storage::ContactView& v) {
  const core::ContactRecord& c = v.contact;
  return {{"id", v.id},
          {"telegram_user_id", OrNull(c.telegram_user_id)},
          {"username", OrNull(c.username)},
          {"phone", OrNull(c.phone)},
          {"first_name", c.first_name},
          {"last_name", c.last_name},
          {"label", ContactLabel(c)},
          {"state", v.state ? json(std::string(core::ToString(*v.state))) : json(nullptr)},
          {"attempts", v.attempts},
          {"last_error", v.last_error},
          {"sent_at", OrNull(v.sent_at)},
          {"joined_at", OrNull(v.joined_at)},
          {"start_link", OrNull(v.start_link)}};
}

json CampaignEventJson(const storage::CampaignEvent& e) {
  return {{"id", e.id},
          {"at", e.at},
          {"actor", e.actor},
          {"action", std::string(core::ToString(e.action))},
          {"from", std::string(core::ToString(e.from))},
          {"to", std::string(core::ToString(e.to))},
          {"detail", e.detail}};
}

json AttemptJson(const storage::AttemptView& v) {
  const storage::AttemptRecord& a = v.attempt;
  return {{"id", v.id},
          {"contact_id", v.contact_id},
          {"contact", ContactLabel(v.contact)},
          {"campaign", v.campaign},
          {"worker", a.worker},
          {"request", a.request},
          {"outcome", a.outcome},
          {"started_at", a.started_at},
          {"latency_ms", a.latency_ms},
          {"http_status", a.http_status},
          {"error_code", a.error_code},
          {"error", a.error}};
}

json AccountJson(const storage::Account& a) {
  return {{"name", a.name},
          {"kind", std::string(core::ToString(a.kind))},
          {"api_base", a.api_base},
          {"health", std::string(core::ToString(a.health))},
          {"health_reason", a.health_reason},
          {"flood_until", a.flood_until},
          {"created_at", a.created_at},
          {"bot_username", OrNull(a.bot_username)},
          {"updates_via", std::string(core::ToString(a.updates_via))},
          {"webhook_url", OrNull(a.webhook_url)}};
}

json WorkerJson(const storage::WorkerInfo& w, int64_t now) {
  return {{"id", w.id},
          {"host", w.host},
          {"pid", w.pid},
          {"started_at", w.started_at},
          {"heartbeat_at", w.heartbeat_at},
          {"health", w.health},
          {"reason", w.reason},
          {"live", w.stopped_at == 0 && now - w.heartbeat_at < kWorkerLiveMs},
          {"stopped_at", w.stopped_at == 0 ? json(nullptr) : json(w.stopped_at)}};
}

std::string ContactLabel(const core::ContactRecord& c) {
  std::string name = c.first_name;
  if (!c.last_name.empty()) name += (name.empty() ? "" : " ") + c.last_name;
  if (!name.empty()) return name;
  if (!c.username.empty()) return "@" + c.username;
  if (!c.phone.empty()) return c.phone;
  return c.telegram_user_id ? "id " + std::to_string(*c.telegram_user_id) : "";
}

}  // namespace tginvite::web
