// The REST API's handlers, free of HTTP: each takes what the request said (path parameters, the
// query, a parsed JSON body) and returns the status and JSON body of the answer, or an Error that
// the server maps to {"error": {...}} with HttpStatusFor. The server (web/server.cpp) does the
// routing, authentication and CSRF checks; docs/openapi.yaml documents every route.
//
// Thread-safety: as thread-safe as the store and the account check.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/actor.h"
#include "core/clock.h"
#include "core/error.h"
#include "storage/store.h"
#include "web/http.h"
#include "web/imports.h"

namespace tginvite::web {

struct Reply {
  int status = 200;
  nlohmann::json body;
};

// An answer that is not JSON: a download or an image.
struct FileReply {
  int status = 200;
  std::string content_type;
  std::string body;
  std::string filename;  // set: the browser saves it as this file (Content-Disposition)
};

// Asks Telegram about a new bot account before it is stored: the bot's @username, kInvalidArgument
// when Telegram refuses the token, kUnavailable when it could not be asked.
using AccountCheck = std::function<Result<std::string>(const storage::NewAccount&)>;

// Deletes what a removed user account keeps outside the database (its TDLib session folder).
using SessionRemover = std::function<Status(const storage::Account&)>;

class Api {
 public:
  Api(storage::Store& store, std::shared_ptr<const core::Clock> clock, AccountCheck check_account,
      storage::BotChecker check_bot = {}, SessionRemover remove_session = {});

  Result<Reply> ListCampaigns();
  Result<Reply> CreateCampaign(const nlohmann::json& body);
  Result<Reply> ShowCampaign(const std::string& name);
  // A template rendered for the sample contact, as `tginvite campaign show` previews it, checked
  // as creating a campaign checks it: {"template", "link_mode"?, "shared_link"?, "name"?}. A
  // template the check refuses is not a bad request but an answer: 200 {"ok": false, "error"}
  // (the dashboard asks while the operator types); a malformed body is kInvalidArgument.
  Result<Reply> PreviewTemplate(const nlohmann::json& body);
  // The campaign's invitations as CSV, the bytes `tginvite export` writes (storage/
  // invitations_csv.h); counts the start links as handed out, as the export does, unless
  // `downloaded` is false (a HEAD).
  Result<FileReply> InvitationsCsv(const std::string& name, bool downloaded);
  // action: start, pause, resume or cancel; `actor` (the request's token or session) goes into
  // the campaign's audit trail and the log.
  // PATCH: any of template, chat, link_mode, shared_link, starts_at, ends_at (null clears a
  // bound); answers as ShowCampaign does. Unknown fields are 400.
  Result<Reply> EditCampaign(const std::string& name, const nlohmann::json& body,
                             const core::Actor& actor);
  // DELETE ?purge=true: {"deleted", "invitations", "attempts" (deleted), "attempts_kept"}.
  Result<Reply> DeleteCampaign(const std::string& name, const Query& query,
                               const core::Actor& actor);
  Result<Reply> ChangeCampaign(const std::string& name, const std::string& action,
                               const core::Actor& actor);
  // The campaign's state changes, newest first: ?limit (1..200, default 50) and ?before (an
  // event id: the page after next_before).
  Result<Reply> CampaignEvents(const std::string& name, const Query& query);
  // Both need {"confirm": true}: they make the engine send again.
  Result<Reply> RetryFailed(const std::string& name, const nlohmann::json& body);
  Result<Reply> ResendUnknown(const std::string& name, const nlohmann::json& body);
  Result<Reply> CampaignSeries(const std::string& name, const Query& query);
  Result<Reply> CampaignErrors(const std::string& name);
  Result<Reply> CampaignAttempts(const std::string& name, const Query& query);

  Result<Reply> ListContacts(const Query& query);
  Result<Reply> ShowContact(const std::string& id);
  // The contact with its invitation in the campaign (state, start link); kNotFound when it has
  // none there.
  Result<Reply> ShowCampaignContact(const std::string& name, const std::string& id);
  Result<Reply> ContactAttempts(const std::string& id);
  // An erasure request (storage::Erasure::ForgetContactById): what was deleted, per kind, and
  // the keys now suppressed.
  Result<Reply> ForgetContact(const std::string& id);

  // The campaign's start links for a mail merge, as CSV: by default the invitations still
  // awaiting their contact's start, every invitation with ?all=1. Counts them as handed out
  // (Store::MarkStartLinksExported). A 409 while the bot's username is unknown.
  // `downloaded`: false for a HEAD, which does not count the links as exported.
  Result<FileReply> StartLinksCsv(const std::string& name, const Query& query, bool downloaded);
  // The QR code of a contact's start link, as SVG; kNotFound when it has none.
  Result<FileReply> StartLinkQr(const std::string& name, const std::string& id);

  // Telegram updates forwarded by the operator's own bot program (a webhook body, an array of
  // updates, or {"updates": [...]}) into the account's inbox; each update_id is kept once.
  Result<Reply> ForwardUpdates(const std::string& account, std::string_view body);
  // Parses `body` as ForwardUpdates does and stores its updates in the account's inbox:
  // {"received": items, "new": updates stored now, "skipped": items that are no update}.
  // kInvalidArgument (a message about the body) when it is none of those shapes.
  Result<nlohmann::json> IngestUpdates(int64_t account_id, std::string_view body);

  Result<Reply> StageImport(std::string csv, const Query& query);
  Result<Reply> CommitImport(const std::string& id);

  Result<Reply> ListAccounts();
  Result<Reply> AddAccount(const nlohmann::json& body);
  // {"bot_token": "..."}: token rotation (storage::RotateBotToken); the token never comes back.
  Result<Reply> UpdateAccount(const std::string& name, const nlohmann::json& body);
  // 409 while a campaign that is not cancelled uses the account, naming them.
  Result<Reply> RemoveAccount(const std::string& name);

  Result<Reply> ListSettings(const Query& query);
  Result<Reply> PutSetting(const std::string& key, const Query& query, const nlohmann::json& body);
  Result<Reply> DeleteSetting(const std::string& key, const Query& query);

  Result<Reply> ListSuppressions();
  Result<Reply> AddSuppression(const nlohmann::json& body);
  Result<Reply> RemoveSuppression(const std::string& key);

  // API tokens (the server lets only the dashboard's admin session call these): their names,
  // scopes and times, never their secrets; a new token's secret is in the 201 answer alone.
  // `actor` is logged with the change.
  Result<Reply> ListTokens();
  Result<Reply> CreateToken(const nlohmann::json& body, const core::Actor& actor);
  Result<Reply> RevokeToken(const std::string& name, const core::Actor& actor);

  Result<Reply> Stats();
  Result<Reply> ListWorkers();

 private:
  int64_t NowMs() const;
  Result<nlohmann::json> Summaries();
  // The contact's row, with its invitation in `campaign` when one is named.
  Result<storage::ContactView> FindContact(const std::optional<std::string>& campaign,
                                           const std::string& id);

  storage::Store& store_;
  std::shared_ptr<const core::Clock> clock_;
  AccountCheck check_account_;
  storage::BotChecker check_bot_;
  SessionRemover remove_session_;
  ImportStaging imports_;
};

}  // namespace tginvite::web
