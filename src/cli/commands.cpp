#include "cli/commands.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>
#include <pwd.h>
#include <termios.h>
#include <unistd.h>

#include "cli/messengers.h"
#include "cli/output.h"
#include "core/actor.h"
#include "core/clock.h"
#include "core/contact_fields.h"
#include "core/duration.h"
#include "core/iso_time.h"
#include "core/message_template.h"
#include "storage/database_url.h"
#include "web/auth.h"

namespace tginvite::cli {
namespace {

using core::InvitationState;

// How many of a campaign's latest state changes `campaign show` prints.
constexpr int kShownCampaignEvents = 5;

// The operator at this terminal, for the audit trail: the user who ran sudo (SUDO_USER) when the
// command runs under `sudo -u tginvite`, else the effective user's name (its uid when it has
// none). Advisory, like any name a process gives itself: whoever can run the CLI can write to
// the database.
core::Actor CliActor() {
  if (const char* sudo_user = std::getenv("SUDO_USER"); sudo_user != nullptr && *sudo_user) {
    return core::Actor::Cli(sudo_user);
  }
  const uid_t uid = geteuid();
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    return core::Actor::Cli(found->pw_name);
  }
  return core::Actor::Cli(fmt::format("uid {}", uid));
}

// `text` on one line: line breaks and other control characters become spaces.
std::string OneLine(std::string_view text) {
  std::string line(text);
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return line;
}

// A schedule bound from the command line: "" for none.
Result<std::optional<int64_t>> ScheduleOption(std::string_view flag, std::string_view text) {
  if (text.empty()) return std::optional<int64_t>();
  Result<int64_t> at = core::ParseIsoInstant(text);
  if (!at) return Fail(at.error().code, "{} {}", flag, at.error().message);
  return std::optional<int64_t>(*at);
}

std::string ShownSchedule(const std::optional<int64_t>& at) {
  return at ? core::FormatIsoUtc(*at) : "-";
}

// The preview `campaign show` prints: the template rendered for a sample contact.
void PrintPreview(const storage::Campaign& c) {
  if (Result<core::MessageTemplate> parsed = core::MessageTemplate::Parse(c.template_text)) {
    core::TemplateValues sample{"Anna", "Schmidt", "anna_schmidt", "https://t.me/+AbCdEfGhIjKlMnOp",
                                c.name};
    fmt::print("\npreview (sample contact Anna Schmidt):\n{}\n", parsed->Render(sample));
  }
}

void PrintWarnings(const std::vector<core::SettingWarning>& warnings) {
  for (const core::SettingWarning& warning : warnings) {
    fmt::print(stderr, "tginvite: warning: {}\n", warning.message);
  }
}

Result<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kInvalidArgument, "{} {}: cannot be read", what, path);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

Result<core::Secret> ReadToken(const AccountAddOptions& options) {
  if (!options.token_env.empty()) {
    const char* value = std::getenv(options.token_env.c_str());
    if (value == nullptr || *value == '\0') {
      return Fail(ErrorCode::kInvalidArgument,
                  "--bot-token-env: environment variable {} is not "
                  "set",
                  options.token_env);
    }
    return core::Secret(value);
  }
  ASSIGN_OR_RETURN(std::string text, ReadFile(options.token_file, "--bot-token-file"));
  size_t begin = text.find_first_not_of(" \t\r\n");
  size_t end = text.find_last_not_of(" \t\r\n");
  if (begin == std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument, "--bot-token-file {}: the file is empty",
                options.token_file);
  }
  return core::Secret(text.substr(begin, end - begin + 1));
}

// The SOURCE column of `settings list`: a fallen-back value says what it fell back to.
std::string SourceName(core::SettingSource source) {
  if (source == core::SettingSource::kInvalidFallback) return "default (stored value invalid)";
  return std::string(core::ToString(source));
}

// The states shown as table columns, in funnel order.
constexpr InvitationState kColumns[] = {
    InvitationState::kPending, InvitationState::kSending, InvitationState::kWaiting,
    InvitationState::kSent,    InvitationState::kJoined,  InvitationState::kFailed,
    InvitationState::kUnknown, InvitationState::kSkipped, InvitationState::kCancelled,
    // Last, not first where the funnel would put it: scripts read these columns by position.
    InvitationState::kAwaitingStart,
};

// Seconds until the campaign's remaining invitations are sent at the last minute's rate.
std::optional<int64_t> EtaSeconds(const storage::CampaignSummary& s) {
  const int64_t remaining = s.counts[InvitationState::kPending] +
                            s.counts[InvitationState::kWaiting] +
                            s.counts[InvitationState::kSending];
  // Contacts who have not opened their start link yet: nobody can say when they will.
  if (remaining == 0 && s.counts[InvitationState::kAwaitingStart] > 0) return std::nullopt;
  if (remaining == 0) return 0;
  if (s.sent_last_minute == 0) return std::nullopt;
  return remaining * 60 / s.sent_last_minute;
}

// 75 -> "1m15s", 7200 -> "2h0m".
std::string FormatSeconds(int64_t seconds) {
  if (seconds < 60) return fmt::format("{}s", seconds);
  if (seconds < 3600) return fmt::format("{}m{}s", seconds / 60, seconds % 60);
  return fmt::format("{}h{}m", seconds / 3600, seconds % 3600 / 60);
}

std::string CampaignLabel(const storage::Campaign& campaign) {
  return core::IsRehearsal(campaign.account_kind) ? "REHEARSAL" : "";
}



// The admin password for the web interface: from TGINVITE_ADMIN_PASSWORD (which also replaces a
// stored one), else asked on a terminal when none is stored, else left unset with a note. There
// is never a default password.
int SetUpAdminPassword(storage::Store& store) {
  Result<std::optional<std::string>> stored = store.AdminPasswordHash();
  if (!stored) return Report(stored.error());
  core::Secret password;
  if (const char* env = std::getenv("TGINVITE_ADMIN_PASSWORD"); env != nullptr && *env != '\0') {
    password = core::Secret(env);
  } else if (stored->has_value()) {
    return kExitOk;
  } else if (isatty(STDIN_FILENO) == 1) {
    password = core::Secret(ReadHidden("admin password for the web interface: "));
    if (Status strong = web::CheckNewPassword(password); !strong) {
      return Report(
          Fail(ErrorCode::kInvalidArgument, "{}; nothing was set", strong.error().message));
    }
    if (ReadHidden("again: ") != password.Reveal()) {
      return Report(Fail(ErrorCode::kInvalidArgument,
                         "admin password: the two entries differ; nothing was set"));
    }
  } else {
    fmt::print(
        "no admin password is set: the web interface refuses logins until you run `tginvite "
        "init` on a terminal or with TGINVITE_ADMIN_PASSWORD set\n");
    return kExitOk;
  }
  if (Status strong = web::CheckNewPassword(password); !strong) {
    return Report(Fail(ErrorCode::kInvalidArgument, "{} (TGINVITE_ADMIN_PASSWORD); nothing was set",
                       strong.error().message));
  }
  Result<std::string> hash = web::HashPassword(password);
  if (!hash) return Report(hash.error());
  if (Status saved = store.SetAdminPasswordHash(*hash); !saved) return Report(saved.error());
  fmt::print("admin password {}\n", stored->has_value() ? "replaced (sessions ended)" : "set");
  return kExitOk;
}

}  // namespace

int RunInit(const GlobalOptions& global) {
  Result<SecretKeys> keys = LoadSecretKeys(global.secret_key_file);
  bool created = false;
  if (keys && !keys->current) {
    Result<bool> made = CreateKeyFile(global.secret_key_file);
    if (!made) return Report(made.error());
    created = *made;
    keys = LoadSecretKeys(global.secret_key_file);
  }
  if (!keys) return Report(keys.error());
  PrintWarnings(keys->AllWarnings());
  Result<std::unique_ptr<storage::Store>> store =
      storage::OpenStore(global.db, keys->StoreOptionsFor(storage::OpenMode::kCreate));
  if (!store) return Report(store.error());
  fmt::print("database {} is ready\n", storage::RedactDatabaseUrl(global.db));
  if (created) {
    fmt::print(
        "secret key {} created in {} (mode 600): it seals the bot tokens in the database. Back it "
        "up, separately from the database: without it the tokens cannot be opened and every bot "
        "account needs its token again (tginvite account update).\n",
        keys->current->id(), keys->key_file);
  } else {
    fmt::print("secret key {} from {}\n", keys->current->id(), keys->Origin());
  }
  Result<int64_t> sealed = (*store)->SealSecrets(storage::Store::SealScope::kPlaintext);
  if (!sealed) return Report(sealed.error().WithContext("seal the bot tokens"));
  if (*sealed > 0) {
    fmt::print("sealed {} bot token{} that an older version stored in plaintext\n", *sealed,
               *sealed == 1 ? "" : "s");
  }
  return SetUpAdminPassword(**store);
}

int RunAccountAdd(storage::Store& store, const AccountAddOptions& options, const SecretKeys& keys) {
  storage::NewAccount account;
  account.name = options.name;
  account.api_base = options.api_base;
  if (!options.token_env.empty() || !options.token_file.empty()) {
    if (!keys.current) {
      return Report(Fail(ErrorCode::kInvalidArgument,
                         "account {}: no secret key is loaded, so its token cannot be stored "
                         "(sealed): {}",
                         account.name, keys.MissingKeyHint()));
    }
    Result<core::Secret> token = ReadToken(options);
    if (!token) return Report(token.error());
    account.kind = core::AccountKind::kBot;
    account.token = std::move(*token);
  }
  // Ask Telegram whether the token works before storing it.
  std::string bot;
  if (Result<std::string> checked = CheckBotToken(store, account); checked) {
    bot = *checked;
  } else if (checked.error().code == ErrorCode::kInvalidArgument) {
    return Report(Fail(ErrorCode::kInvalidArgument,
                       "account {}: Telegram refused the token ({}); nothing was added",
                       account.name, checked.error().message));
  } else if (checked.error().code == ErrorCode::kUnavailable) {
    fmt::print(stderr,
               "tginvite: warning: account {}: could not check the token with Telegram ({}); "
               "check it later with 'tginvite account check {}'\n",
               account.name, checked.error().message, account.name);
  } else {
    return Report(checked.error());
  }
  Result<storage::Account> added = store.AddAccount(account);
  if (!added) return Report(added.error());
  const std::string username = added->kind == core::AccountKind::kRehearsal
                                   ? std::string("rehearsal_bot")
                                   : (bot.starts_with('@') ? bot.substr(1) : std::string());
  if (!username.empty()) {
    // The name in its start links.
    if (Status kept = store.SetBotUsername(added->id, username); !kept) {
      return Report(kept.error());
    }
  }
  if (added->kind == core::AccountKind::kRehearsal) {
    fmt::print("account {} added: REHEARSAL (no token; it simulates Telegram and sends nothing)\n",
               added->name);
  } else {
    fmt::print("account {} added: bot{}, token {}\n", added->name, bot.empty() ? "" : " " + bot,
               added->token);
  }
  return kExitOk;
}

int RunAccountUpdate(storage::Store& store, const AccountAddOptions& options,
                     const SecretKeys& keys) {
  if (!keys.current) {
    return Report(Fail(ErrorCode::kInvalidArgument,
                       "account {}: no secret key is loaded, so a token cannot be stored: {}",
                       options.name, keys.MissingKeyHint()));
  }
  if (options.token_env.empty() && options.token_file.empty()) {
    return Report(Fail(ErrorCode::kInvalidArgument,
                       "account update {}: give the new token with --bot-token-env VAR or "
                       "--bot-token-file FILE",
                       options.name));
  }
  Result<storage::Account> found = store.FindAccount(options.name);
  if (!found) return Report(found.error());
  if (found->kind != core::AccountKind::kBot) {
    return Report(Fail(ErrorCode::kInvalidArgument,
                       "account {} is a REHEARSAL account: it has no token to replace",
                       options.name));
  }
  Result<core::Secret> token = ReadToken(options);
  if (!token) return Report(token.error());
  storage::NewAccount account;
  account.name = options.name;
  account.kind = core::AccountKind::kBot;
  account.token = std::move(*token);
  account.api_base = found->api_base;
  std::string bot;
  if (Result<std::string> checked = CheckBotToken(store, account); checked) {
    bot = *checked;
  } else if (checked.error().code == ErrorCode::kUnavailable) {
    fmt::print(stderr,
               "tginvite: warning: account {}: could not check the token with Telegram ({}); "
               "check it later with 'tginvite account check {}'\n",
               account.name, checked.error().message, account.name);
  } else {
    return Report(Fail(checked.error().code,
                       "account {}: Telegram refused the token ({}); nothing was changed",
                       account.name, checked.error().message));
  }
  if (Status replaced = store.ReplaceBotToken(account.name, account.token); !replaced) {
    return Report(replaced.error());
  }
  if (bot.starts_with('@')) {
    if (Status kept = store.SetBotUsername(found->id, bot.substr(1)); !kept) {
      return Report(kept.error());
    }
  }
  fmt::print("account {}: token replaced{}, token {}\n", account.name,
             bot.empty() ? "" : " (bot " + bot + ")", account.token.Masked());
  return kExitOk;
}

int RunAccountList(storage::AccountStore& store) {
  Result<std::vector<storage::Account>> accounts = store.ListAccounts();
  if (!accounts) return Report(accounts.error());
  Table table({"NAME", "KIND", "TOKEN", "API BASE", "ADDED", "USERNAME", "HEALTH"});
  std::vector<std::string> problems;
  for (const storage::Account& account : *accounts) {
    // A user account's "token" is its credentials: shown as its phone's last digits; it has no
    // Bot API server.
    const bool user = core::IsUserAccount(account.kind);
    std::string token = account.token.Masked();
    if (account.token_access == storage::TokenAccess::kNoKey) {
      token = "sealed";
    } else if (account.token_access == storage::TokenAccess::kUnopenable) {
      token = "cannot be opened";
      problems.push_back(fmt::format("account {}: {}", account.name, account.token_problem));
    }
    std::string health(core::ToString(account.health));
    if (account.health != core::AccountHealth::kOk) {
      problems.push_back(fmt::format("account {} is {}: {}", account.name, health,
                                     account.health_reason));
    }
    table.AddRow({account.name, std::string(core::ToString(account.kind)), token,
                  user ? "-" : account.api_base, FormatTime(account.created_at),
                  account.bot_username.empty() ? "-" : "@" + account.bot_username, health});
  }
  fmt::print("{}", table.Render());
  PrintWarnings(problems);
  return kExitOk;
}

int RunCampaignCreate(storage::Store& store, const CampaignCreateOptions& options) {
  Result<std::string> template_text = ReadFile(options.template_file, "--template-file");
  if (!template_text) return Report(template_text.error());
  std::optional<core::LinkMode> link = core::ParseLinkMode(options.link);
  if (!link) {
    return Report(Fail(ErrorCode::kInvalidArgument,
                       "--link {}: expected personal, shared or join-request", options.link));
  }
  // A user account writes first and adds: its campaigns default to direct reach and
  // add-then-message; a bot's to both and message.
  Result<storage::Account> account = store.FindAccount(options.account);
  if (!account) return Report(account.error());
  const bool user = core::IsUserAccount(account->kind);
  const std::string reach_text = !options.reach.empty() ? options.reach : user ? "direct" : "both";
  std::optional<core::CampaignReach> reach = core::ParseCampaignReach(reach_text);
  if (!reach) {
    return Report(Fail(ErrorCode::kInvalidArgument,
                       "--reach {}: expected direct, start-link or both", options.reach));
  }
  const std::string method_text =
      !options.method.empty() ? options.method : user ? "add-then-message" : "message";
  std::optional<core::DeliveryMethod> method = core::ParseDeliveryMethod(method_text);
  if (!method) {
    return Report(Fail(ErrorCode::kInvalidArgument,
                       "--method {}: expected add, message or add-then-message", options.method));
  }
  storage::NewCampaign campaign{options.name, options.account,     options.chat, *template_text,
                                *link,        options.shared_link, *reach,       *method};
  Result<std::optional<int64_t>> starts_at = ScheduleOption("--starts-at", options.starts_at);
  if (!starts_at) return Report(starts_at.error());
  Result<std::optional<int64_t>> ends_at = ScheduleOption("--ends-at", options.ends_at);
  if (!ends_at) return Report(ends_at.error());
  campaign.starts_at = *starts_at;
  campaign.ends_at = *ends_at;
  Result<storage::Campaign> created = store.CreateCampaign(campaign);
  if (!created) return Report(created.error());
  fmt::print(
      "campaign {} created ({} link, chat {}, account {}{}, reach {}{}); start it with: tginvite "
      "campaign start {}\n",
      created->name, core::ToString(created->link_mode), created->chat, created->account_name,
      core::IsRehearsal(created->account_kind) ? ", REHEARSAL" : "",
      core::ToString(created->reach),
      user ? ", method " + std::string(core::ToString(created->method)) : "", created->name);
  if (created->reach != core::CampaignReach::kDirect) {
    fmt::print("contacts the bot cannot write to yet wait for their start link: export them with "
               "'tginvite export {} --out FILE' (column start_link){}\n",
               created->name,
               created->bot_username.empty()
                   ? fmt::format("; run 'tginvite account check {}' so that the links can name "
                                 "the bot",
                                 created->account_name)
                   : "");
  }
  return kExitOk;
}

int RunCampaignList(storage::Catalog& store) {
  Result<std::vector<storage::CampaignSummary>> campaigns = store.ListCampaigns();
  if (!campaigns) return Report(campaigns.error());
  Table table({"NAME", "STATE", "ACCOUNT", "CHAT", "LINK", "TOTAL", "PENDING", "SENT", "JOINED",
               "FAILED", "STARTS", "ENDS", ""});
  for (size_t column = 5; column <= 9; ++column) table.RightAlign(column);
  for (const storage::CampaignSummary& s : *campaigns) {
    const core::StateCounts& n = s.counts;
    table.AddRow(
        {s.campaign.name, std::string(core::ToString(s.campaign.state)), s.campaign.account_name,
         s.campaign.chat, std::string(core::ToString(s.campaign.link_mode)),
         WithThousands(n.Total()), WithThousands(n[InvitationState::kPending]),
         WithThousands(n[InvitationState::kSent]), WithThousands(n[InvitationState::kJoined]),
         WithThousands(n[InvitationState::kFailed]), ShownSchedule(s.campaign.starts_at),
         ShownSchedule(s.campaign.ends_at), CampaignLabel(s.campaign)});
  }
  fmt::print("{}", table.Render());
  return kExitOk;
}

int RunCampaignShow(storage::Catalog& store, const std::string& name) {
  Result<storage::CampaignSummary> found = store.FindCampaign(name);
  if (!found) return Report(found.error());
  const storage::Campaign& c = found->campaign;
  if (core::IsRehearsal(c.account_kind)) {
    fmt::print("REHEARSAL: account {} simulates Telegram; nothing is sent\n", c.account_name);
  }
  fmt::print(
      "campaign  {}\nstate     {}\naccount   {} ({})\nchat      {}\nlink      {}{}\n"
      "reach     {}\ncreated   {}\nstarted   {}\n",
      c.name, core::ToString(c.state), c.account_name, core::ToString(c.account_kind), c.chat,
      core::ToString(c.link_mode), c.shared_link.empty() ? "" : " " + c.shared_link,
      core::ToString(c.reach), FormatTime(c.created_at),
      c.started_at ? FormatTime(*c.started_at) : "-");
  if (c.starts_at || c.ends_at) {
    fmt::print("schedule  starts {}, ends {}\n", ShownSchedule(c.starts_at),
               ShownSchedule(c.ends_at));
  }
  if (c.reach != core::CampaignReach::kDirect) {
    fmt::print("start     {} links exported, {} opened (pressed Start){}\n",
               WithThousands(c.links_exported), WithThousands(c.links_started),
               c.bot_username.empty() ? "; the bot's username is not known yet" : "");
  }
  if (core::IsUserAccount(c.account_kind)) {
    fmt::print("method    {}\n", core::ToString(c.method));
  }
  if (!c.paused_reason.empty()) fmt::print("paused    by the engine: {}\n", c.paused_reason);
  fmt::print("\n");
  Table counts({"STATE", "COUNT"});
  counts.RightAlign(1);
  for (InvitationState state : kColumns) {
    counts.AddRow({std::string(core::ToString(state)), WithThousands(found->counts[state])});
  }
  counts.AddRow({"total", WithThousands(found->counts.Total())});
  fmt::print("{}", counts.Render());

  Result<storage::CampaignEventPage> events =
      store.ListCampaignEvents(name, {.before = 0, .limit = kShownCampaignEvents});
  if (!events) return Report(events.error());
  if (!events->events.empty()) {
    fmt::print("\nlatest changes, newest first:\n");
    Table trail({"WHEN", "BY", "CHANGE", "DETAIL"});
    for (const storage::CampaignEvent& event : events->events) {
      trail.AddRow({FormatTime(event.at), OneLine(event.actor),
                    fmt::format("{} -> {}", core::ToString(event.from), core::ToString(event.to)),
                    OneLine(event.detail)});
    }
    fmt::print("{}", trail.Render());
  }

  Result<core::RawSettings> overrides = store.LoadSettings(name);
  if (!overrides) return Report(overrides.error());
  if (!overrides->empty()) {
    fmt::print("\nsettings overridden by this campaign:\n");
    for (const auto& [key, value] : *overrides) {
      const core::SettingSpec* spec = core::FindSetting(key);
      fmt::print("  {} = {}\n", key, spec != nullptr ? core::DisplayValue(*spec, value) : value);
    }
  }
  fmt::print("\ntemplate:\n{}\n", c.template_text);
  PrintPreview(c);
  return kExitOk;
}

int RunCampaignEdit(storage::Catalog& store, const CampaignEditOptions& options) {
  storage::CampaignEdit edit;
  if (options.template_file) {
    Result<std::string> text = ReadFile(*options.template_file, "--template-file");
    if (!text) return Report(text.error());
    edit.template_text = std::move(*text);
  }
  edit.chat = options.chat;
  if (options.link) {
    std::optional<core::LinkMode> link = core::ParseLinkMode(*options.link);
    if (!link) {
      return Report(Fail(ErrorCode::kInvalidArgument,
                         "--link {}: expected personal, shared or join-request", *options.link));
    }
    edit.link_mode = *link;
  }
  edit.shared_link = options.shared_link;
  if (options.clear_schedule) {
    edit.starts_at = std::optional<int64_t>();
    edit.ends_at = std::optional<int64_t>();
  }
  if (options.starts_at) {
    Result<std::optional<int64_t>> at = ScheduleOption("--starts-at", *options.starts_at);
    if (!at) return Report(at.error());
    edit.starts_at = *at;
  }
  if (options.ends_at) {
    Result<std::optional<int64_t>> at = ScheduleOption("--ends-at", *options.ends_at);
    if (!at) return Report(at.error());
    edit.ends_at = *at;
  }
  if (edit.Empty()) {
    return Report(Fail(ErrorCode::kInvalidArgument,
                       "campaign edit {}: nothing to change: give --template-file, --chat, --link, "
                       "--shared-link, --starts-at, --ends-at or --clear-schedule",
                       options.name));
  }
  Result<storage::Campaign> edited = store.EditCampaign(options.name, edit, CliActor());
  if (!edited) return Report(edited.error());
  fmt::print("campaign {} edited ({} link, chat {}, starts {}, ends {})\n", edited->name,
             core::ToString(edited->link_mode), edited->chat, ShownSchedule(edited->starts_at),
             ShownSchedule(edited->ends_at));
  if (edit.template_text) {
    fmt::print("the new template applies to every invitation not sent yet\n");
    PrintPreview(*edited);
  }
  return kExitOk;
}

int RunCampaignDelete(storage::Catalog& store, const std::string& name,
                      storage::AttemptsOnDelete attempts) {
  Result<storage::DeletedCampaign> deleted = store.DeleteCampaign(name, attempts, CliActor());
  if (!deleted) return Report(deleted.error());
  if (attempts == storage::AttemptsOnDelete::kPurge) {
    fmt::print("campaign {} deleted: {} invitations and {} attempts removed\n", deleted->name,
               WithThousands(deleted->invitations), WithThousands(deleted->attempts_deleted));
  } else {
    fmt::print("campaign {} deleted: {} invitations removed; {} attempts kept in the contacts' "
               "history (--purge removes them too)\n",
               deleted->name, WithThousands(deleted->invitations),
               WithThousands(deleted->attempts_kept));
  }
  return kExitOk;
}

int RunCampaignChange(storage::Catalog& store, const std::string& name,
                      storage::CampaignAction action) {
  Result<storage::Campaign> changed = store.ChangeCampaign(name, action, CliActor());
  if (!changed) return Report(changed.error());
  fmt::print("campaign {} is {}\n", changed->name, core::ToString(changed->state));
  return kExitOk;
}

int RunResendUnknown(storage::Catalog& store, const std::string& name, Confirmed confirmed) {
  Result<storage::CampaignSummary> found = store.FindCampaign(name);
  if (!found) return Report(found.error());
  const int64_t unknown = found->counts[InvitationState::kUnknown];
  if (unknown == 0) {
    fmt::print("campaign {} has no unknown invitations\n", name);
    return kExitOk;
  }
  if (confirmed == Confirmed::kNo) {
    fmt::print(stderr,
               "campaign {}: {} invitations are unknown: their request may have reached Telegram, "
               "so resending may message these people twice. Run again with --yes to resend "
               "them.\n",
               name, WithThousands(unknown));
    return kExitUsage;
  }
  Result<int64_t> resent = store.ResendUnknown(name);
  if (!resent) return Report(resent.error());
  fmt::print("campaign {}: {} unknown invitations are pending again\n", name,
             WithThousands(*resent));
  return kExitOk;
}

int RunStatus(storage::Store& store, const GlobalOptions& global, const StatusOptions& options) {
  Result<std::vector<storage::CampaignSummary>> campaigns = store.ListCampaigns();
  if (!campaigns) return Report(campaigns.error());
  Result<int64_t> contacts = store.CountContacts();
  if (!contacts) return Report(contacts.error());
  Result<std::vector<storage::Account>> accounts = store.ListAccounts();
  if (!accounts) return Report(accounts.error());
  Result<std::vector<storage::WorkerInfo>> workers = store.ListWorkers();
  if (!workers) return Report(workers.error());
  Result<core::ResolvedSettings> settings = storage::LoadResolvedSettings(store, std::nullopt);
  if (!settings) return Report(settings.error());
  PrintWarnings(settings->warnings);
  const int64_t now = core::ToUnixMillis(core::SystemClock().Now());
  // Workers seen in the last minute and not stopped.
  std::vector<storage::WorkerInfo> live;
  for (const storage::WorkerInfo& w : *workers) {
    if (w.stopped_at == 0 && now - w.heartbeat_at < 60'000) live.push_back(w);
  }

  if (options.json) {
    nlohmann::json out;
    out["contacts"] = *contacts;
    out["accounts"] = nlohmann::json::array();
    for (const storage::Account& account : *accounts) {
      out["accounts"].push_back(
          {{"name", account.name},
           {"kind", std::string(core::ToString(account.kind))},
           {"health", std::string(core::ToString(account.health))},
           {"health_reason", account.health_reason},
           {"flood_pause_seconds",
            account.flood_until > now ? (account.flood_until - now + 999) / 1000 : 0}});
    }
    out["campaigns"] = nlohmann::json::array();
    for (const storage::CampaignSummary& s : *campaigns) {
      nlohmann::json counts = nlohmann::json::object();
      for (InvitationState state : core::kAllInvitationStates) {
        counts[std::string(core::ToString(state))] = s.counts[state];
      }
      std::optional<int64_t> eta = EtaSeconds(s);
      out["campaigns"].push_back(
          {{"name", s.campaign.name},
           {"state", std::string(core::ToString(s.campaign.state))},
           {"paused_reason", s.campaign.paused_reason},
           {"account", s.campaign.account_name},
           {"rehearsal", core::IsRehearsal(s.campaign.account_kind)},
           {"counts", counts},
           {"total", s.counts.Total()},
           {"sent_last_minute", s.sent_last_minute},
           {"eta_seconds", eta ? nlohmann::json(*eta) : nlohmann::json(nullptr)},
           {"reach", std::string(core::ToString(s.campaign.reach))},
           {"funnel",
            {{"start_links_exported", s.campaign.links_exported},
             {"started", s.campaign.links_started},
             {"sent", s.counts[InvitationState::kSent] + s.counts[InvitationState::kJoined]},
             {"joined", s.counts[InvitationState::kJoined]}}}});
    }
    out["workers"] = nlohmann::json::array();
    for (const storage::WorkerInfo& w : live) {
      out["workers"].push_back({{"id", w.id},
                                {"health", w.health},
                                {"reason", w.reason},
                                {"heartbeat_age_ms", now - w.heartbeat_at}});
    }
    fmt::print("{}\n", out.dump(2));
    return kExitOk;
  }

  fmt::print("database {}: {} contacts, {} accounts, {} campaigns\n",
             storage::RedactDatabaseUrl(global.db), WithThousands(*contacts), accounts->size(),
             campaigns->size());
  if (campaigns->empty()) {
    fmt::print("no campaigns yet: create one with 'tginvite campaign create'\n");
    return kExitOk;
  }
  fmt::print("\n");
  std::vector<std::string> header = {"CAMPAIGN", "STATE"};
  for (InvitationState state : kColumns) header.emplace_back(core::ToString(state));
  for (const char* extra : {"TOTAL", "SENT/MIN", "ETA", "JOINED", ""}) header.emplace_back(extra);
  Table table(header);
  for (size_t column = 2; column < header.size() - 1; ++column) table.RightAlign(column);
  for (const storage::CampaignSummary& s : *campaigns) {
    std::vector<std::string> row = {s.campaign.name, std::string(core::ToString(s.campaign.state))};
    for (InvitationState state : kColumns) row.push_back(WithThousands(s.counts[state]));
    row.push_back(WithThousands(s.counts.Total()));
    row.push_back(WithThousands(s.sent_last_minute));
    std::optional<int64_t> eta = EtaSeconds(s);
    row.push_back(eta ? FormatSeconds(*eta) : "-");
    const int64_t reached = s.counts[InvitationState::kSent] + s.counts[InvitationState::kJoined];
    row.push_back(
        reached > 0 ? fmt::format("{}%", s.counts[InvitationState::kJoined] * 100 / reached) : "-");
    row.push_back(CampaignLabel(s.campaign));
    table.AddRow(std::move(row));
  }
  fmt::print("{}", table.Render());
  for (const storage::CampaignSummary& s : *campaigns) {
    if (!s.campaign.paused_reason.empty()) {
      fmt::print("campaign {} was paused by the engine: {}\n", s.campaign.name,
                 s.campaign.paused_reason);
    }
  }
  if (!accounts->empty()) {
    fmt::print("\n");
    Table account_table({"ACCOUNT", "KIND", "HEALTH", "FLOOD PAUSE"});
    for (const storage::Account& a : *accounts) {
      std::string health(core::ToString(a.health));
      if (a.health != core::AccountHealth::kOk && !a.health_reason.empty()) {
        health += ": " + a.health_reason;
      }
      // Without a key the tokens stay sealed here, which says nothing of the workers, which have
      // one; a key that does not open a token is worth saying.
      if (a.token_access == storage::TokenAccess::kUnopenable) health = a.token_problem;
      account_table.AddRow(
          {a.name, std::string(core::ToString(a.kind)), health,
           a.flood_until > now ? FormatSeconds((a.flood_until - now + 999) / 1000) : "-"});
    }
    fmt::print("{}", account_table.Render());
  }
  fmt::print("\n");
  if (live.empty()) {
    fmt::print("no worker running (start one with 'tginvite run')\n");
  } else {
    Table worker_table({"WORKER", "HEALTH", "LAST SEEN", "REASON"});
    for (const storage::WorkerInfo& w : live) {
      worker_table.AddRow(
          {w.id, w.health, FormatSeconds((now - w.heartbeat_at) / 1000) + " ago", w.reason});
    }
    fmt::print("{}", worker_table.Render());
  }
  return kExitOk;
}

int RunSettingsList(storage::Catalog& store, const storage::SettingScope& scope) {
  Result<core::ResolvedSettings> resolved = storage::LoadResolvedSettings(store, scope);
  if (!resolved) return Report(resolved.error());
  PrintWarnings(resolved->warnings);
  Table table({"KEY", "VALUE", "SOURCE", "ALLOWED", "DESCRIPTION"});
  for (const core::ResolvedSetting& entry : resolved->entries) {
    table.AddRow({std::string(entry.spec->key),
                  entry.value.empty() ? "-" : core::DisplayValue(*entry.spec, entry.value),
                  SourceName(entry.source), std::string(entry.spec->range),
                  std::string(entry.spec->description)});
  }
  fmt::print("{}", table.Render());
  return kExitOk;
}

int RunSettingsGet(storage::Catalog& store, const storage::SettingScope& scope,
                   const std::string& key) {
  if (core::FindSetting(key) == nullptr) {
    return Report(Fail(ErrorCode::kNotFound, "unknown setting \"{}\"", key));
  }
  Result<core::ResolvedSettings> resolved = storage::LoadResolvedSettings(store, scope);
  if (!resolved) return Report(resolved.error());
  PrintWarnings(resolved->warnings);
  for (const core::ResolvedSetting& entry : resolved->entries) {
    if (entry.spec->key == key) fmt::print("{}\n", core::DisplayValue(*entry.spec, entry.value));
  }
  return kExitOk;
}

int RunSettingsSet(storage::Catalog& store, const storage::SettingScope& scope,
                   const std::string& key, const std::string& value) {
  if (Status put = store.PutSetting(scope, key, value); !put) {
    return Report(put.error().WithContext("settings set"));
  }
  Result<core::RawSettings> stored = store.LoadSettings(scope);
  if (!stored) return Report(stored.error());
  fmt::print("{} = {} ({})\n", key, core::DisplayValue(*core::FindSetting(key), stored->at(key)),
             scope ? "campaign " + *scope : std::string("global"));
  // What is in force now may still differ: half a send window, say, waits for its other end.
  if (Result<core::ResolvedSettings> resolved = storage::LoadResolvedSettings(store, scope)) {
    PrintWarnings(resolved->warnings);
  }
  return kExitOk;
}

int RunSettingsUnset(storage::Catalog& store, const storage::SettingScope& scope,
                     const std::string& key) {
  if (Status deleted = store.DeleteSetting(scope, key); !deleted) {
    return Report(deleted.error().WithContext("settings unset"));
  }
  fmt::print("{} unset ({})\n", key, scope ? "campaign " + *scope : std::string("global"));
  return kExitOk;
}

int RunSuppressAdd(storage::Catalog& store, const std::string& user, const std::string& reason) {
  Result<std::string> key = core::ParseUserRef(user);
  if (!key) return Report(key.error().WithContext("suppress add"));
  Result<int64_t> skipped = store.AddSuppression(*key, reason);
  if (!skipped) return Report(skipped.error());
  fmt::print("{} suppressed for every campaign; {} pending invitations skipped\n", *key,
             WithThousands(*skipped));
  return kExitOk;
}

int RunSuppressRemove(storage::Catalog& store, const std::string& user) {
  Result<std::string> key = core::ParseUserRef(user);
  if (!key) return Report(key.error().WithContext("suppress remove"));
  if (Status removed = store.RemoveSuppression(*key); !removed) return Report(removed.error());
  fmt::print("{} is no longer suppressed\n", *key);
  return kExitOk;
}

int RunSuppressList(storage::Catalog& store) {
  Result<std::vector<storage::Suppression>> list = store.ListSuppressions();
  if (!list) return Report(list.error());
  Table table({"USER", "REASON", "SINCE"});
  for (const storage::Suppression& s : *list) {
    table.AddRow({s.key, s.reason, FormatTime(s.created_at)});
  }
  fmt::print("{}", table.Render());
  return kExitOk;
}

int RunTokenCreate(storage::WebAuthStore& store, const TokenCreateOptions& options) {
  core::Secret token = web::NewToken();
  storage::NewApiToken request(options.name, web::TokenHash(token.Reveal()));
  std::optional<core::TokenScope> scope = core::ParseTokenScope(options.scope);
  if (!scope) {
    return Report(Fail(ErrorCode::kInvalidArgument,
                       "token create: --scope {}: expected write, read or metrics", options.scope));
  }
  request.scope = *scope;
  if (!options.expires_in.empty()) {
    Result<std::chrono::milliseconds> lifetime = core::ParseDuration(options.expires_in);
    if (!lifetime || lifetime->count() <= 0) {
      return Report(Fail(ErrorCode::kInvalidArgument,
                         "token create: --expires-in {}: expected a duration such as 90d or 12h",
                         options.expires_in));
    }
    request.expires_at = core::ToUnixMillis(core::SystemClock().Now()) + lifetime->count();
  }
  Result<storage::ApiToken> created = store.CreateApiToken(request);
  if (!created) return Report(created.error());
  fmt::print("{}\n", token.Reveal());
  fmt::print(stderr,
             "token {} created (scope {}{}): use it as `Authorization: Bearer <token>`. It is "
             "shown only now and cannot be shown again.\n",
             created->name, core::ToString(created->scope),
             created->expires_at ? ", expires " + FormatTime(*created->expires_at) : "");
  return kExitOk;
}

int RunTokenRevoke(storage::WebAuthStore& store, const std::string& name) {
  if (Status revoked = store.RevokeApiToken(name); !revoked) return Report(revoked.error());
  fmt::print("token {} revoked\n", name);
  return kExitOk;
}

int RunTokenList(storage::WebAuthStore& store) {
  Result<std::vector<storage::ApiToken>> tokens = store.ListApiTokens();
  if (!tokens) return Report(tokens.error());
  if (tokens->empty()) {
    fmt::print("no API tokens\n");
    return kExitOk;
  }
  Table table({"NAME", "SCOPE", "CREATED", "EXPIRES", "REVOKED"});
  for (const storage::ApiToken& t : *tokens) {
    table.AddRow({t.name, std::string(core::ToString(t.scope)), FormatTime(t.created_at),
                  t.expires_at ? FormatTime(*t.expires_at) : "never",
                  t.revoked_at ? FormatTime(*t.revoked_at) : "-"});
  }
  fmt::print("{}", table.Render());
  return kExitOk;
}

int RunRevokeStartLink(storage::Catalog& store, const std::string& campaign,
                       const std::string& contact) {
  Result<std::string> link = store.RenewStartLink(campaign, contact);
  if (!link) return Report(link.error());
  fmt::print("campaign {}: {} has a new start link; the old one no longer works\n{}\n", campaign,
             contact, link->empty() ? "(the bot's username is not known yet)" : *link);
  return kExitOk;
}

}  // namespace tginvite::cli
