#include "web/api.h"

#include <charconv>

#include <spdlog/spdlog.h>

#include "core/campaign_states.h"
#include "core/contact_fields.h"
#include "core/csv_writer.h"
#include "core/duration.h"
#include "core/iso_time.h"
#include "core/message_template.h"
#include "core/settings.h"
#include "dispatch/updates.h"
#include "storage/invitations_csv.h"
#include "web/auth.h"
#include "web/error_mapping.h"
#include "web/json_views.h"
#include "web/qr.h"

namespace tginvite::web {
namespace {

using nlohmann::json;

constexpr int kSeriesMaxMinutes = 24 * 60;

// The link of the sample contact a template preview is rendered for (as `tginvite campaign show`).
constexpr std::string_view kSampleLink = "https://t.me/+AbCdEfGhIjKlMnOp";

Error BadField(std::string_view key, std::string_view expected) {
  return Error{ErrorCode::kInvalidArgument,
               fmt::format("request body: \"{}\" must be {}", key, expected)};
}

// A string field of the body; std::nullopt when absent or null (and not required).
Result<std::optional<std::string>> StringField(const json& body, std::string_view key,
                                               bool required) {
  auto found = body.find(key);
  if (found == body.end() || found->is_null()) {
    if (required) return BadField(key, "a string (it is missing)");
    return std::optional<std::string>();
  }
  if (!found->is_string()) return BadField(key, "a string");
  return std::optional<std::string>(found->get<std::string>());
}

// A schedule bound of the body: absent (std::nullopt), null (an empty inner optional) or an
// ISO 8601 instant with a zone.
Result<std::optional<std::optional<int64_t>>> InstantField(const json& body, std::string_view key) {
  auto found = body.find(key);
  if (found == body.end()) return std::optional<std::optional<int64_t>>();
  if (found->is_null()) return std::optional<std::optional<int64_t>>(std::optional<int64_t>());
  if (!found->is_string()) return BadField(key, "an ISO 8601 string with a zone, or null");
  Result<int64_t> parsed = core::ParseIsoInstant(found->get<std::string>());
  if (!parsed) {
    return Fail(ErrorCode::kInvalidArgument, "request body: \"{}\": {}", key,
                parsed.error().message);
  }
  return std::optional<std::optional<int64_t>>(std::optional<int64_t>(*parsed));
}

Result<std::string> RequiredString(const json& body, std::string_view key) {
  ASSIGN_OR_RETURN(std::optional<std::string> value, StringField(body, key, true));
  return *value;
}

std::optional<std::string> Param(const Query& query, const std::string& key) {
  auto found = query.find(key);
  if (found == query.end()) return std::nullopt;
  return found->second;
}

// An integer query parameter in min..max, `fallback` when absent.
Result<int64_t> IntParam(const Query& query, const std::string& key, int64_t fallback, int64_t min,
                         int64_t max) {
  std::optional<std::string> text = Param(query, key);
  if (!text) return fallback;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    return Fail(ErrorCode::kInvalidArgument, "query parameter {}={}: expected an integer in {}..{}",
                key, *text, min, max);
  }
  return value;
}

// A yes/no query parameter: 1 or true, 0 or false; false when absent.
Result<bool> FlagParam(const Query& query, const std::string& key) {
  std::optional<std::string> text = Param(query, key);
  if (!text || text->empty() || *text == "0" || *text == "false") return false;
  if (*text == "1" || *text == "true") return true;
  return Fail(ErrorCode::kInvalidArgument,
              "query parameter {}={}: expected true or false (1 or 0)", key, *text);
}

// A contact id from the path; kNotFound for anything that is not one.
Result<int64_t> ContactIdOf(const std::string& id) {
  int64_t contact_id = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), contact_id);
  if (ec != std::errc() || end != id.data() + id.size() || contact_id <= 0) {
    return Fail(ErrorCode::kNotFound, "no contact with id \"{}\"", id);
  }
  return contact_id;
}

// A file name made of the campaign's name: it reaches a Content-Disposition header and the
// operator's disk, so only letters, digits, '.', '-' and '_' are kept.
std::string FileNameOf(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 80)) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || (c == '.' && !out.empty());
    out += safe ? c : '_';
  }
  return out;
}

// The settings scope named by ?campaign=, checked to exist.
Result<storage::SettingScope> ScopeParam(storage::Store& store, const Query& query) {
  std::optional<std::string> campaign = Param(query, "campaign");
  if (!campaign || campaign->empty()) return storage::SettingScope();
  RETURN_IF_ERROR(store.FindCampaign(*campaign));
  return storage::SettingScope(*campaign);
}

Status RequireConfirm(const json& body, std::string_view what) {
  auto confirm = body.find("confirm");
  if (confirm == body.end() || !confirm->is_boolean() || !confirm->get<bool>()) {
    return Fail(ErrorCode::kInvalidArgument,
                "{} sends invitations again: repeat the request with {{\"confirm\": true}}", what);
  }
  return Ok();
}

json SettingJson(const core::ResolvedSetting& entry) {
  const core::SettingSpec& spec = *entry.spec;
  return {{"key", spec.key},
          {"value", core::DisplayValue(spec, entry.value)},
          {"default", spec.default_value},
          {"source", core::ToString(entry.source)},
          {"range", spec.range},
          {"description", spec.description},
          {"global_only", core::ScopeOf(spec) == core::SettingScopeKind::kGlobalOnly}};
}

Result<json> SettingsJson(storage::Store& store, const storage::SettingScope& scope) {
  ASSIGN_OR_RETURN(core::ResolvedSettings resolved, storage::LoadResolvedSettings(store, scope));
  json list = json::array();
  for (const core::ResolvedSetting& entry : resolved.entries) list.push_back(SettingJson(entry));
  json warnings = json::array();
  for (const core::SettingWarning& warning : resolved.warnings) warnings.push_back(warning.message);
  return json{{"scope", scope ? json(*scope) : json(nullptr)},
              {"settings", std::move(list)},
              {"warnings", std::move(warnings)}};
}

}  // namespace

Api::Api(storage::Store& store, std::shared_ptr<const core::Clock> clock,
         AccountCheck check_account, storage::BotChecker check_bot, SessionRemover remove_session)
    : store_(store),
      clock_(std::move(clock)),
      check_account_(std::move(check_account)),
      check_bot_(std::move(check_bot)),
      remove_session_(std::move(remove_session)) {}

int64_t Api::NowMs() const { return core::ToUnixMillis(clock_->Now()); }

Result<json> Api::Summaries() {
  ASSIGN_OR_RETURN(std::vector<storage::CampaignSummary> campaigns, store_.ListCampaigns());
  ASSIGN_OR_RETURN(std::vector<storage::Account> accounts, store_.ListAccounts());
  json list = json::array();
  for (const storage::CampaignSummary& summary : campaigns) {
    auto account = std::find_if(accounts.begin(), accounts.end(),
                                [&](const auto& a) { return a.id == summary.campaign.account_id; });
    list.push_back(SummaryJson(summary, account == accounts.end() ? nullptr : &*account));
  }
  return list;
}

// --- campaigns -----------------------------------------------------------------------------------

Result<Reply> Api::ListCampaigns() {
  ASSIGN_OR_RETURN(json list, Summaries());
  return Reply{200, {{"campaigns", std::move(list)}}};
}

Result<Reply> Api::CreateCampaign(const json& body) {
  storage::NewCampaign campaign;
  ASSIGN_OR_RETURN(campaign.name, RequiredString(body, "name"));
  ASSIGN_OR_RETURN(campaign.account_name, RequiredString(body, "account"));
  ASSIGN_OR_RETURN(campaign.chat, RequiredString(body, "chat"));
  ASSIGN_OR_RETURN(campaign.template_text, RequiredString(body, "template"));
  ASSIGN_OR_RETURN(std::optional<std::string> link_mode, StringField(body, "link_mode", false));
  if (link_mode) {
    std::optional<core::LinkMode> mode = core::ParseLinkMode(*link_mode);
    if (!mode) return BadField("link_mode", "personal, shared or join-request");
    campaign.link_mode = *mode;
  }
  ASSIGN_OR_RETURN(std::optional<std::string> shared_link, StringField(body, "shared_link", false));
  campaign.shared_link = shared_link.value_or("");
  // As `tginvite campaign create`: message whom the bot can reach, give the others a start link.
  campaign.reach = core::CampaignReach::kBoth;
  ASSIGN_OR_RETURN(std::optional<std::string> reach, StringField(body, "reach", false));
  if (reach) {
    std::optional<core::CampaignReach> parsed = core::ParseCampaignReach(*reach);
    if (!parsed) return BadField("reach", "direct, start-link or both");
    campaign.reach = *parsed;
  }
  ASSIGN_OR_RETURN(std::optional<std::string> method, StringField(body, "method", false));
  if (method) {
    std::optional<core::DeliveryMethod> parsed = core::ParseDeliveryMethod(*method);
    if (!parsed) return BadField("method", "add, message or add-then-message");
    campaign.method = *parsed;
  }
  ASSIGN_OR_RETURN(auto starts_at, InstantField(body, "starts_at"));
  ASSIGN_OR_RETURN(auto ends_at, InstantField(body, "ends_at"));
  campaign.starts_at = starts_at.value_or(std::nullopt);
  campaign.ends_at = ends_at.value_or(std::nullopt);
  ASSIGN_OR_RETURN(storage::Campaign created, store_.CreateCampaign(campaign));
  return Reply{201, {{"campaign", CampaignJson(created)}}};
}

Result<Reply> Api::ShowCampaign(const std::string& name) {
  ASSIGN_OR_RETURN(storage::CampaignSummary summary, store_.FindCampaign(name));
  Result<storage::Account> account = store_.FindAccount(summary.campaign.account_name);
  json out = SummaryJson(summary, account ? &*account : nullptr);
  out["template"] = summary.campaign.template_text;
  out["shared_link"] = summary.campaign.shared_link;
  return Reply{200, std::move(out)};
}

Result<Reply> Api::PreviewTemplate(const json& body) {
  ASSIGN_OR_RETURN(std::string text, RequiredString(body, "template"));
  ASSIGN_OR_RETURN(std::optional<std::string> link_mode, StringField(body, "link_mode", false));
  core::LinkMode mode = core::LinkMode::kPersonal;
  if (link_mode && !link_mode->empty()) {
    std::optional<core::LinkMode> parsed = core::ParseLinkMode(*link_mode);
    if (!parsed) return BadField("link_mode", "personal, shared or join-request");
    mode = *parsed;
  }
  ASSIGN_OR_RETURN(std::optional<std::string> shared_link, StringField(body, "shared_link", false));
  ASSIGN_OR_RETURN(std::optional<std::string> name, StringField(body, "name", false));
  // The shared link counts only where creating the campaign would use it.
  const std::string link =
      mode == core::LinkMode::kShared && shared_link && shared_link->starts_with("https://t.me/")
          ? *shared_link
          : std::string(kSampleLink);
  const std::string campaign = name && !name->empty() ? *name : "my-campaign";
  Result<core::MessageTemplate> parsed = core::MessageTemplate::Parse(
      text, core::CampaignTemplateLimits(name.value_or(""), link == kSampleLink ? "" : link));
  if (!parsed) {
    return Reply{200, {{"ok", false}, {"error", "template: " + parsed.error().message}}};
  }
  return Reply{200,
               {{"ok", true},
                {"preview", parsed->Render({"Anna", "Schmidt", "anna_schmidt", link, campaign})},
                {"length", parsed->max_length()},
                {"max_length", core::MessageTemplate::kTelegramMaxLength},
                {"link_button", !parsed->uses("link")}}};
}

Result<Reply> Api::EditCampaign(const std::string& name, const json& body,
                                const core::Actor& actor) {
  static constexpr std::array<std::string_view, 6> kFields = {
      "template", "chat", "link_mode", "shared_link", "starts_at", "ends_at"};
  for (const auto& [key, value] : body.items()) {
    if (std::find(kFields.begin(), kFields.end(), key) == kFields.end()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "request body: unknown field \"{}\": expected template, chat, link_mode, "
                  "shared_link, starts_at or ends_at",
                  PrintableForLog(key, 64));
    }
  }
  auto present = [&body](std::string_view key) { return body.find(key) != body.end(); };
  auto non_null_string = [&](std::string_view key) -> Result<std::optional<std::string>> {
    if (!present(key)) return std::optional<std::string>();
    const json& value = body.at(std::string(key));
    if (!value.is_string()) return BadField(key, "a string");
    return std::optional<std::string>(value.get<std::string>());
  };
  storage::CampaignEdit edit;
  ASSIGN_OR_RETURN(edit.template_text, non_null_string("template"));
  ASSIGN_OR_RETURN(edit.chat, non_null_string("chat"));
  ASSIGN_OR_RETURN(std::optional<std::string> link_mode, non_null_string("link_mode"));
  if (link_mode) {
    std::optional<core::LinkMode> mode = core::ParseLinkMode(*link_mode);
    if (!mode) return BadField("link_mode", "personal, shared or join-request");
    edit.link_mode = *mode;
  }
  if (present("shared_link")) {
    ASSIGN_OR_RETURN(std::optional<std::string> shared, StringField(body, "shared_link", false));
    edit.shared_link = shared.value_or("");
  }
  ASSIGN_OR_RETURN(edit.starts_at, InstantField(body, "starts_at"));
  ASSIGN_OR_RETURN(edit.ends_at, InstantField(body, "ends_at"));
  if (edit.Empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "request body: nothing to change: give template, chat, link_mode, shared_link, "
                "starts_at or ends_at");
  }
  RETURN_IF_ERROR(store_.EditCampaign(name, edit, actor));
  return ShowCampaign(name);
}

Result<Reply> Api::DeleteCampaign(const std::string& name, const Query& query,
                                  const core::Actor& actor) {
  ASSIGN_OR_RETURN(bool purge, FlagParam(query, "purge"));
  ASSIGN_OR_RETURN(storage::DeletedCampaign deleted,
                   store_.DeleteCampaign(name,
                                         purge ? storage::AttemptsOnDelete::kPurge
                                               : storage::AttemptsOnDelete::kKeep,
                                         actor));
  return Reply{200,
               {{"deleted", deleted.name},
                {"invitations", deleted.invitations},
                {"attempts", deleted.attempts_deleted},
                {"attempts_kept", deleted.attempts_kept}}};
}

Result<Reply> Api::ChangeCampaign(const std::string& name, const std::string& action,
                                  const core::Actor& actor) {
  const std::optional<core::CampaignAction> parsed = core::ParseCampaignAction(action);
  if (!parsed) return Fail(ErrorCode::kNotFound, "no campaign action \"{}\"", action);
  ASSIGN_OR_RETURN(storage::Campaign changed, store_.ChangeCampaign(name, *parsed, actor));
  return Reply{200, {{"campaign", CampaignJson(changed)}}};
}

Result<Reply> Api::CampaignEvents(const std::string& name, const Query& query) {
  storage::CampaignEventQuery events;
  ASSIGN_OR_RETURN(int64_t limit, IntParam(query, "limit", 50, 1, storage::kMaxCampaignEvents));
  events.limit = static_cast<int>(limit);
  ASSIGN_OR_RETURN(events.before, IntParam(query, "before", 0, 1, INT64_MAX));
  ASSIGN_OR_RETURN(storage::CampaignEventPage page, store_.ListCampaignEvents(name, events));
  json list = json::array();
  for (const storage::CampaignEvent& event : page.events) list.push_back(CampaignEventJson(event));
  return Reply{200,
               {{"events", std::move(list)},
                {"next_before", page.next_before ? json(*page.next_before) : json(nullptr)}}};
}

Result<Reply> Api::RetryFailed(const std::string& name, const json& body) {
  RETURN_IF_ERROR(RequireConfirm(body, "retrying failed invitations"));
  ASSIGN_OR_RETURN(int64_t count, store_.RetryFailed(name));
  return Reply{200, {{"count", count}}};
}

Result<Reply> Api::ResendUnknown(const std::string& name, const json& body) {
  RETURN_IF_ERROR(RequireConfirm(body, "resending unknown invitations (they may have arrived)"));
  ASSIGN_OR_RETURN(int64_t count, store_.ResendUnknown(name));
  return Reply{200, {{"count", count}}};
}

Result<Reply> Api::CampaignSeries(const std::string& name, const Query& query) {
  ASSIGN_OR_RETURN(int64_t minutes, IntParam(query, "minutes", 60, 1, kSeriesMaxMinutes));
  // Whole minutes, oldest first, the current one included, with zeros where nothing happened.
  const int64_t now = NowMs();
  const int64_t last = now / 60'000 * 60'000;
  const int64_t first = last - (minutes - 1) * 60'000;
  ASSIGN_OR_RETURN(std::vector<storage::MinuteCounts> counts, store_.CampaignMinutes(name, first));
  json points = json::array();
  auto next = counts.begin();
  for (int64_t t = first; t <= last; t += 60'000) {
    storage::MinuteCounts point{t, 0, 0, 0};
    if (next != counts.end() && next->minute_start == t) point = *next++;
    points.push_back(
        {{"t", t}, {"sent", point.sent}, {"joined", point.joined}, {"failed", point.failed}});
  }
  return Reply{200, {{"bucket_seconds", 60}, {"points", std::move(points)}}};
}

Result<Reply> Api::CampaignErrors(const std::string& name) {
  ASSIGN_OR_RETURN(std::vector<storage::ErrorCount> errors, store_.ErrorBreakdown(name));
  json list = json::array();
  for (const storage::ErrorCount& e : errors) {
    list.push_back({{"state", std::string(core::ToString(e.state))},
                    {"reason", e.reason},
                    {"count", e.count}});
  }
  return Reply{200, {{"errors", std::move(list)}}};
}

Result<Reply> Api::CampaignAttempts(const std::string& name, const Query& query) {
  ASSIGN_OR_RETURN(int64_t limit, IntParam(query, "limit", 50, 1, 1000));
  ASSIGN_OR_RETURN(std::vector<storage::AttemptView> attempts,
                   store_.RecentAttempts(name, static_cast<int>(limit)));
  json list = json::array();
  for (const storage::AttemptView& a : attempts) list.push_back(AttemptJson(a));
  return Reply{200, {{"attempts", std::move(list)}}};
}

// --- contacts and imports ------------------------------------------------------------------------

Result<Reply> Api::ListContacts(const Query& query) {
  storage::ContactQuery contacts;
  if (std::optional<std::string> campaign = Param(query, "campaign");
      campaign && !campaign->empty())
    contacts.campaign = *campaign;
  if (std::optional<std::string> state = Param(query, "state"); state && !state->empty()) {
    contacts.state = core::ParseInvitationState(*state);
    if (!contacts.state) {
      return Fail(ErrorCode::kInvalidArgument, "query parameter state={}: not a state", *state);
    }
  }
  contacts.search = Param(query, "q").value_or("");
  ASSIGN_OR_RETURN(contacts.after, IntParam(query, "after", 0, 0, INT64_MAX));
  ASSIGN_OR_RETURN(int64_t limit, IntParam(query, "limit", 50, 1, 500));
  contacts.limit = static_cast<int>(limit);
  ASSIGN_OR_RETURN(storage::ContactPage page, store_.ListContacts(contacts));
  json list = json::array();
  for (const storage::ContactView& view : page.contacts) list.push_back(ContactJson(view));
  return Reply{200,
               {{"contacts", std::move(list)},
                {"next_after", page.next_after ? json(*page.next_after) : json(nullptr)}}};
}

Result<storage::ContactView> Api::FindContact(const std::optional<std::string>& campaign,
                                              const std::string& id) {
  storage::ContactQuery query;
  query.campaign = campaign;
  ASSIGN_OR_RETURN(query.contact_id, ContactIdOf(id));
  query.limit = 1;
  ASSIGN_OR_RETURN(storage::ContactPage page, store_.ListContacts(query));
  if (page.contacts.empty()) {
    if (campaign) {
      return Fail(ErrorCode::kNotFound, "campaign {} has no invitation for contact {}", *campaign,
                  id);
    }
    return Fail(ErrorCode::kNotFound, "no contact with id {}", id);
  }
  return std::move(page.contacts.front());
}

Result<Reply> Api::ShowContact(const std::string& id) {
  ASSIGN_OR_RETURN(storage::ContactView view, FindContact(std::nullopt, id));
  return Reply{200, {{"contact", ContactJson(view)}}};
}

Result<Reply> Api::ShowCampaignContact(const std::string& name, const std::string& id) {
  ASSIGN_OR_RETURN(storage::ContactView view, FindContact(name, id));
  return Reply{200, {{"campaign", name}, {"contact", ContactJson(view)}}};
}

Result<Reply> Api::ContactAttempts(const std::string& id) {
  ASSIGN_OR_RETURN(int64_t contact_id, ContactIdOf(id));
  ASSIGN_OR_RETURN(std::vector<storage::AttemptView> attempts, store_.ContactAttempts(contact_id));
  json list = json::array();
  for (const storage::AttemptView& a : attempts) list.push_back(AttemptJson(a));
  return Reply{200, {{"contact_id", contact_id}, {"attempts", std::move(list)}}};
}

Result<Reply> Api::ForgetContact(const std::string& id) {
  ASSIGN_OR_RETURN(int64_t contact_id, ContactIdOf(id));
  ASSIGN_OR_RETURN(storage::ForgetResult f, store_.ForgetContactById(contact_id));
  return Reply{200,
               {{"contact_id", contact_id},
                {"deleted",
                 {{"contacts", f.contacts},
                  {"invitations", f.invitations},
                  {"invite_links", f.invite_links},
                  {"start_links", f.start_links},
                  {"updates", f.updates}}},
                {"attempts_detached", f.attempts},
                {"suppressed", f.suppression_keys},
                {"suppressions_added", f.suppressions_added}}};
}

Result<Reply> Api::StageImport(std::string csv, const Query& query) {
  ImportRequest request;
  request.csv = std::move(csv);
  if (std::optional<std::string> campaign = Param(query, "campaign");
      campaign && !campaign->empty())
    request.campaign = *campaign;
  request.region = Param(query, "region").value_or("");
  ASSIGN_OR_RETURN(json report, imports_.Stage(store_, std::move(request), NowMs()));
  return Reply{200, std::move(report)};
}

Result<Reply> Api::CommitImport(const std::string& id) {
  ASSIGN_OR_RETURN(json report, imports_.Commit(store_, id, NowMs()));
  return Reply{200, std::move(report)};
}

// --- start links and updates --------------------------------------------------------------------

Result<FileReply> Api::StartLinksCsv(const std::string& name, const Query& query,
                                     bool downloaded) {
  ASSIGN_OR_RETURN(bool all, FlagParam(query, "all"));
  ASSIGN_OR_RETURN(storage::CampaignSummary summary, store_.FindCampaign(name));
  const storage::Campaign& campaign = summary.campaign;
  if (campaign.bot_username.empty()) {
    // Not a bad request and not missing: the campaign exists, it has no links yet.
    return FileReply{
        409, "application/json",
        ErrorBody("bot_username_unknown",
                  fmt::format("campaign {}: getMe has not told the bot's username yet, so there "
                              "are no start links: run `tginvite account check {}`",
                              name, campaign.account_name)),
        ""};
  }
  std::string csv = "telegram_user_id,username,phone,first_name,last_name,state,start_link\r\n";
  RETURN_IF_ERROR(store_.ExportInvitations(name, [&](const storage::ExportRow& row) -> Status {
    if (!all && row.state != core::InvitationState::kAwaitingStart) return Ok();
    const core::ContactRecord& c = row.contact;
    csv += fmt::format(
        "{},{},{},{},{},{},{}\r\n", c.telegram_user_id ? std::to_string(*c.telegram_user_id) : "",
        core::ExportCell(c.username), core::ExportCell(c.phone), core::ExportCell(c.first_name),
        core::ExportCell(c.last_name), core::ToString(row.state), core::ExportCell(row.start_link));
    return Ok();
  }));
  // The download is what the operator asked for; a count that could not be kept is logged.
  if (Result<int64_t> marked = downloaded ? store_.MarkStartLinksExported(name) : int64_t{0};
      !marked) {
    spdlog::warn("web: campaign {}: start links downloaded but not counted as exported: {}", name,
                 marked.error().message);
  }
  return FileReply{200, "text/csv; charset=utf-8", std::move(csv),
                   FileNameOf(name) + "-start-links.csv"};
}

Result<FileReply> Api::InvitationsCsv(const std::string& name, bool downloaded) {
  std::string csv(storage::kInvitationsCsvHeader);
  RETURN_IF_ERROR(store_.ExportInvitations(name, [&](const storage::ExportRow& row) -> Status {
    csv += storage::InvitationsCsvRow(row);
    return Ok();
  }));
  // As the CLI's export: the start links in the file are out now, counted for the funnel.
  if (Result<int64_t> marked = downloaded ? store_.MarkStartLinksExported(name) : int64_t{0};
      !marked) {
    spdlog::warn("web: campaign {}: invitations exported but their start links not counted: {}",
                 name, marked.error().message);
  }
  return FileReply{200, "text/csv; charset=utf-8", std::move(csv),
                   FileNameOf(name) + "-invitations.csv"};
}

Result<FileReply> Api::StartLinkQr(const std::string& name, const std::string& id) {
  ASSIGN_OR_RETURN(storage::ContactView view, FindContact(name, id));
  if (view.start_link.empty()) {
    return Fail(ErrorCode::kNotFound,
                "contact {} has no start link in campaign {} yet: getMe has not told the bot's "
                "username",
                id, name);
  }
  ASSIGN_OR_RETURN(std::string svg, QrCodeSvg(view.start_link));
  return FileReply{200, "image/svg+xml", std::move(svg), ""};
}

Result<nlohmann::json> Api::IngestUpdates(int64_t account_id, std::string_view body) {
  Result<dispatch::ParsedUpdates> parsed = dispatch::ParseUpdateBatch(body);
  if (!parsed) return parsed.error().WithContext("request body");
  ASSIGN_OR_RETURN(int64_t added, store_.IngestUpdates(account_id, parsed->updates, std::nullopt));
  const int64_t received = static_cast<int64_t>(parsed->updates.size()) + parsed->skipped;
  return json{{"received", received}, {"new", added}, {"skipped", parsed->skipped}};
}

Result<Reply> Api::ForwardUpdates(const std::string& account, std::string_view body) {
  ASSIGN_OR_RETURN(storage::Account found, store_.FindAccount(account));
  ASSIGN_OR_RETURN(json counts, IngestUpdates(found.id, body));
  return Reply{200, std::move(counts)};
}

// --- accounts, settings, suppressions ------------------------------------------------------------

Result<Reply> Api::ListAccounts() {
  ASSIGN_OR_RETURN(std::vector<storage::Account> accounts, store_.ListAccounts());
  json list = json::array();
  for (const storage::Account& a : accounts) list.push_back(AccountJson(a));
  return Reply{200, {{"accounts", std::move(list)}}};
}

Result<Reply> Api::AddAccount(const json& body) {
  storage::NewAccount account;
  ASSIGN_OR_RETURN(account.name, RequiredString(body, "name"));
  ASSIGN_OR_RETURN(std::optional<std::string> token, StringField(body, "token", false));
  ASSIGN_OR_RETURN(std::optional<std::string> kind, StringField(body, "kind", false));
  ASSIGN_OR_RETURN(std::optional<std::string> api_base, StringField(body, "api_base", false));
  if (api_base && !api_base->empty()) account.api_base = *api_base;
  std::optional<core::AccountKind> parsed =
      core::ParseAccountKind(kind.value_or(token ? "bot" : "rehearsal"));
  if (!parsed) return BadField("kind", "bot or rehearsal");
  account.kind = *parsed;
  if (account.kind == core::AccountKind::kBot) {
    if (!token || token->empty()) return BadField("token", "the bot's token for a bot account");
    account.token = core::Secret(std::move(*token));
  } else if (token && !token->empty()) {
    return BadField("token", "absent for a rehearsal account (it sends nothing)");
  }
  json warnings = json::array();
  std::string bot;
  if (account.kind == core::AccountKind::kBot && check_account_) {
    Result<std::string> checked = check_account_(account);
    if (!checked && checked.error().code == ErrorCode::kInvalidArgument) {
      return Fail(ErrorCode::kInvalidArgument,
                  "account {}: Telegram refused the token ({}); nothing was added", account.name,
                  checked.error().message);
    }
    if (checked) {
      bot = *checked;
    } else {
      warnings.push_back(
          fmt::format("could not check the token with Telegram ({}); check it "
                      "later with `tginvite account check {}`",
                      checked.error().message, account.name));
    }
  }
  ASSIGN_OR_RETURN(storage::Account added, store_.AddAccount(account));
  if (bot.starts_with('@')) bot.erase(0, 1);
  if (!bot.empty()) {
    // Kept at once, so that the account's campaigns have start links from the start.
    if (Status kept = store_.SetBotUsername(added.id, bot); kept) {
      added.bot_username = bot;
    } else {
      warnings.push_back(
          fmt::format("the bot's username was not stored ({}); run `tginvite account "
                      "check {}` for its start links",
                      kept.error().message, account.name));
    }
  }
  return Reply{201, {{"account", AccountJson(added)}, {"warnings", std::move(warnings)}}};
}

Result<Reply> Api::UpdateAccount(const std::string& name, const json& body) {
  for (const auto& [key, value] : body.items()) {
    if (key != "bot_token") return BadField(key, "absent: only bot_token can be changed");
  }
  ASSIGN_OR_RETURN(std::string token, RequiredString(body, "bot_token"));
  ASSIGN_OR_RETURN(storage::TokenRotation rotated,
                   storage::RotateBotToken(store_, name, core::Secret(std::move(token)),
                                           check_bot_));
  ASSIGN_OR_RETURN(storage::Account after, store_.FindAccount(name));
  return Reply{200,
               {{"account", AccountJson(after)},
                {"bot_id", rotated.bot.id},
                {"may_send_again", rotated.healed}}};
}

Result<Reply> Api::RemoveAccount(const std::string& name) {
  ASSIGN_OR_RETURN(storage::AccountRemoval removed, store_.RemoveAccount(name));
  json warnings = json::array();
  if (removed.account.kind == core::AccountKind::kUser && remove_session_) {
    if (Status gone = remove_session_(removed.account); !gone) {
      warnings.push_back(fmt::format("its TDLib session could not be deleted ({}); delete it by "
                                     "hand",
                                     gone.error().message));
    }
  }
  return Reply{200,
               {{"removed", name},
                {"kept_for_history", removed.tombstone},
                {"cancelled_campaigns", removed.campaigns_kept},
                {"warnings", std::move(warnings)}}};
}

Result<Reply> Api::ListSettings(const Query& query) {
  ASSIGN_OR_RETURN(storage::SettingScope scope, ScopeParam(store_, query));
  ASSIGN_OR_RETURN(json settings, SettingsJson(store_, scope));
  return Reply{200, std::move(settings)};
}

Result<Reply> Api::PutSetting(const std::string& key, const Query& query, const json& body) {
  ASSIGN_OR_RETURN(storage::SettingScope scope, ScopeParam(store_, query));
  auto value = body.find("value");
  if (value == body.end() || !(value->is_string() || value->is_number())) {
    return BadField("value", "the new value, as a string");
  }
  std::string text = value->is_string() ? value->get<std::string>() : JsonText(*value);
  RETURN_IF_ERROR(store_.PutSetting(scope, key, text));
  ASSIGN_OR_RETURN(json settings, SettingsJson(store_, scope));
  for (const json& entry : settings["settings"]) {
    if (entry["key"] == key) {
      return Reply{200, {{"setting", entry}, {"warnings", settings["warnings"]}}};
    }
  }
  return Fail(ErrorCode::kInternal, "setting {} was stored but is not listed", key);
}

Result<Reply> Api::DeleteSetting(const std::string& key, const Query& query) {
  if (core::FindSetting(key) == nullptr) {
    return Fail(ErrorCode::kNotFound, "unknown setting \"{}\"", key);
  }
  ASSIGN_OR_RETURN(storage::SettingScope scope, ScopeParam(store_, query));
  RETURN_IF_ERROR(store_.DeleteSetting(scope, key));
  ASSIGN_OR_RETURN(json settings, SettingsJson(store_, scope));
  return Reply{200, std::move(settings)};
}

Result<Reply> Api::ListSuppressions() {
  ASSIGN_OR_RETURN(std::vector<storage::Suppression> list, store_.ListSuppressions());
  json out = json::array();
  for (const storage::Suppression& s : list) {
    out.push_back({{"key", s.key}, {"reason", s.reason}, {"created_at", s.created_at}});
  }
  return Reply{200, {{"suppressions", std::move(out)}}};
}

Result<Reply> Api::AddSuppression(const json& body) {
  // A user id may come as a JSON number too: its digits are read as the string's would be (a
  // negative or fractional number is refused the same way).
  std::string user;
  if (auto found = body.find("user"); found != body.end() && found->is_number()) {
    user = found->dump();
  } else {
    ASSIGN_OR_RETURN(user, RequiredString(body, "user"));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> reason, StringField(body, "reason", false));
  ASSIGN_OR_RETURN(std::string key, core::ParseUserRef(user));
  ASSIGN_OR_RETURN(int64_t skipped, store_.AddSuppression(key, reason.value_or("")));
  return Reply{201, {{"key", key}, {"skipped", skipped}}};
}

Result<Reply> Api::RemoveSuppression(const std::string& user) {
  ASSIGN_OR_RETURN(std::string key, core::ParseUserRef(user));
  RETURN_IF_ERROR(store_.RemoveSuppression(key));
  return Reply{200, {{"key", key}, {"removed", true}}};
}

// --- API tokens ----------------------------------------------------------------------------------

namespace {

json TokenJson(const storage::ApiToken& t) {
  return {{"name", t.name},
          {"scope", std::string(core::ToString(t.scope))},
          {"created_at", t.created_at},
          {"expires_at", t.expires_at ? json(*t.expires_at) : json(nullptr)},
          {"revoked_at", t.revoked_at ? json(*t.revoked_at) : json(nullptr)}};
}

}  // namespace

Result<Reply> Api::ListTokens() {
  ASSIGN_OR_RETURN(std::vector<storage::ApiToken> tokens, store_.ListApiTokens());
  json list = json::array();
  for (const storage::ApiToken& t : tokens) list.push_back(TokenJson(t));
  return Reply{200, {{"tokens", std::move(list)}}};
}

Result<Reply> Api::CreateToken(const json& body, const core::Actor& actor) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(body, "name"));
  ASSIGN_OR_RETURN(std::optional<std::string> scope_text, StringField(body, "scope", false));
  std::optional<core::TokenScope> scope = core::ParseTokenScope(scope_text.value_or("write"));
  if (!scope) return BadField("scope", "write, read or metrics");
  ASSIGN_OR_RETURN(std::optional<std::string> expires_in, StringField(body, "expires_in", false));
  std::optional<int64_t> expires_at;
  if (expires_in && !expires_in->empty()) {
    Result<std::chrono::milliseconds> lifetime = core::ParseDuration(*expires_in);
    if (!lifetime || lifetime->count() <= 0) {
      return BadField("expires_in", "a duration such as 90d or 12h");
    }
    expires_at = NowMs() + lifetime->count();
  }
  core::Secret token = NewToken();
  ASSIGN_OR_RETURN(storage::ApiToken created,
                   store_.CreateApiToken(storage::NewApiToken(
                       std::move(name), TokenHash(token.Reveal()), *scope, expires_at)));
  spdlog::info("web: API token {} created (scope {}) by {}", created.name,
               core::ToString(created.scope), core::ToString(actor));
  json out = TokenJson(created);
  out["token"] = token.Reveal();  // the only time the secret leaves the server
  return Reply{201, std::move(out)};
}

Result<Reply> Api::RevokeToken(const std::string& name, const core::Actor& actor) {
  RETURN_IF_ERROR(store_.RevokeApiToken(name));
  spdlog::info("web: API token {} revoked by {}", name, core::ToString(actor));
  return Reply{200, {{"name", name}, {"revoked", true}}};
}

// --- overview ------------------------------------------------------------------------------------

Result<Reply> Api::Stats() {
  ASSIGN_OR_RETURN(json campaigns, Summaries());
  ASSIGN_OR_RETURN(Reply workers, ListWorkers());
  json totals = {{"campaigns", campaigns.size()}};
  core::StateCounts all;
  for (const json& c : campaigns) {
    for (core::InvitationState state : core::kAllInvitationStates) {
      all[state] += c["counts"][std::string(core::ToString(state))].get<int64_t>();
    }
  }
  // No count of contacts: counting a million rows costs ~50 ms, and the dashboard polls this.
  totals["counts"] = CountsJson(all);
  return Reply{200,
               {{"campaigns", std::move(campaigns)},
                {"workers", workers.body["workers"]},
                {"totals", std::move(totals)}}};
}

Result<Reply> Api::ListWorkers() {
  ASSIGN_OR_RETURN(std::vector<storage::WorkerInfo> workers, store_.ListWorkers());
  const int64_t now = NowMs();
  json list = json::array();
  for (const storage::WorkerInfo& w : workers) list.push_back(WorkerJson(w, now));
  return Reply{200, {{"workers", std::move(list)}}};
}

}  // namespace tginvite::web
