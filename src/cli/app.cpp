#include "cli/app.h"

#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/messengers.h"
#include "cli/output.h"
#include "core/campaign_states.h"
#include "storage/database_url.h"
#include "telegram/tdlib/td_json.h"

namespace tginvite::cli {
namespace {

using StoreCommand = std::function<int(storage::Store&)>;

// Makes a `--campaign NAME` option that fills `scope`.
void AddCampaignScope(CLI::App* command, std::optional<std::string>& scope) {
  command->add_option("--campaign", scope, "A campaign's override instead of the global value");
}

// The web server's options, shared by `serve` and `up`.
void AddServeOptions(CLI::App* command, ServeOptions& options) {
  command->add_option("--listen", options.listen, "ADDR:PORT")->capture_default_str();
  command->add_flag("--behind-proxy", options.behind_proxy,
                    "Behind a reverse proxy: rate-limit logins by the client address it puts last "
                    "in X-Forwarded-For");
  command
      ->add_option("--http-threads", options.http_threads,
                   "Threads that handle complete requests (slow clients never hold one)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
}


// CLI11 answers a mistyped command with "A subcommand is required": name the word it did not
// know instead. nullopt when every word is a known command (a command really is missing).
std::optional<std::string> UnknownCommand(CLI::App& app, int argc, char** argv) {
  CLI::App* level = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.starts_with("-")) {
      if (arg.find('=') != std::string::npos) continue;
      // An option that takes a value takes the next word too.
      for (CLI::App* owner = level; owner != nullptr; owner = owner->get_parent()) {
        const CLI::Option* option = owner->get_option_no_throw(arg);
        if (option == nullptr) continue;
        if (option->get_type_size_max() > 0) ++i;
        break;
      }
      continue;
    }
    const std::vector<CLI::App*> commands =
        level->get_subcommands([](const CLI::App*) { return true; });
    CLI::App* sub = nullptr;
    for (CLI::App* command : commands) {
      if (command->check_name(arg)) sub = command;
    }
    if (sub == nullptr) {
      if (commands.empty()) return std::nullopt;  // a positional argument
      return "unknown command '" + arg + "'" +
             (level == &app ? std::string() : " for '" + level->get_name() + "'");
    }
    level = sub;
  }
  return std::nullopt;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{
      "tginvite: invites an opted-in list of people to a Telegram group or channel, exactly once "
      "each, at the pace Telegram allows."};
  // The TDLib line is worked out only when asked: loading the library takes a moment.
  app.set_version_flag("--version", [] {
    return "tginvite 0.1.0\n" + telegram::tdlib::DescribeTdLib();
  });
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_option("--db", global.db,
                 "Database: sqlite:PATH (add ?synchronous=full to fsync every commit) or "
                 "postgresql://USER@HOST/DB for a fleet")
      ->envname("TGINVITE_DB")
      ->capture_default_str();
  app.add_option("--secret-key-file", global.secret_key_file,
                 "The key that seals bot tokens in the database: 64 hex digits, made by `tginvite "
                 "init`; keep it apart from the database. TGINVITE_SECRET_KEY, when set, is the "
                 "key itself and comes first")
      ->envname(std::string(kSecretKeyFileEnv))
      ->capture_default_str();
  app.add_option("--tdlib-dir", global.tdlib_dir,
                 "Where user accounts keep their TDLib sessions (one private folder each)")
      ->envname("TGINVITE_TDLIB_DIR")
      ->capture_default_str();
  app.add_option("--log-format", global.log_format,
                 "Log lines of run, serve and up: text, or json (one object a line)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, LogFormat>{{"text", LogFormat::kText}, {"json", LogFormat::kJson}},
          CLI::ignore_case))
      ->option_text("text|json (default: text)");
  app.add_option("--log-level", global.log_level,
                 "The least important log lines written: trace, debug, info, warn or error")
      ->envname("TGINVITE_LOG_LEVEL")
      ->transform(CLI::Validator(
          [](std::string& value) -> std::string {
            const std::map<std::string, LogLevel> levels = {
                {"trace", LogLevel::kTrace},  {"debug", LogLevel::kDebug},
                {"info", LogLevel::kInfo},    {"warn", LogLevel::kWarn},
                {"warning", LogLevel::kWarn}, {"error", LogLevel::kError}};
            auto found = levels.find(CLI::detail::to_lower(value));
            if (found == levels.end()) {
              return "\"" + value + "\" is not a level: use trace, debug, info, warn or error";
            }
            value = std::to_string(static_cast<int>(found->second));
            return "";
          },
          "LEVEL"))
      ->option_text("trace|debug|info|warn|error (default: info)");

  StoreCommand action;
  // Loaded once the command line is parsed; the commands' closures read it when they run.
  SecretKeys keys;
  bool init = false;

  app.add_subcommand(
         "init",
         "Create the database and apply migrations; create the secret key file when there is no "
         "key")
      ->callback([&] { init = true; });
  bool migrate = false;
  app.add_subcommand(
         "migrate",
         "Apply pending schema migrations (and seal bot tokens left in plaintext), nothing else")
      ->callback([&] { migrate = true; });

  // account
  CLI::App* account = app.add_subcommand("account", "Sending accounts (bots and user accounts)");
  account->require_subcommand(1);
  AccountAddOptions account_add;
  CLI::App* add = account->add_subcommand(
      "add", "Add a bot account (with no token: a REHEARSAL account that sends nothing)");
  add->add_option("name", account_add.name, "Account name")->required();
  CLI::Option* token_env = add->add_option("--bot-token-env", account_add.token_env,
                                           "Read the bot token from this environment variable");
  CLI::Option* token_file =
      add->add_option("--bot-token-file", account_add.token_file, "Read the bot token from a file");
  token_env->excludes(token_file);
  add->add_option("--api-base", account_add.api_base, "Bot API server")->capture_default_str();
  CLI::Option* user_flag = add->add_flag(
      "--user", account_add.user,
      "A user account (TDLib): with --api-id-env, --api-hash-env and --phone, logged in on the "
      "terminal; without them, a REHEARSAL user account");
  user_flag->excludes(token_env)->excludes(token_file);
  add->add_option("--api-id-env", account_add.api_id_env,
                  "With --user: the variable holding your api_id from my.telegram.org")
      ->needs(user_flag);
  add->add_option("--api-hash-env", account_add.api_hash_env,
                  "With --user: the variable holding your api_hash from my.telegram.org")
      ->needs(user_flag);
  add->add_option("--phone", account_add.phone, "With --user: the account's number, +4930123456")
      ->needs(user_flag);
  add->add_flag("--login,!--no-login", account_add.login,
                "With --user: log in now (default) or later with `account login`");
  add->callback([&] {
    action = [&](storage::Store& s) {
      return account_add.user ? RunAccountAddUser(s, account_add, keys)
                              : RunAccountAdd(s, account_add, keys);
    };
  });
  std::string login_name;
  CLI::App* login = account->add_subcommand(
      "login", "Log a user account in (again): the code Telegram sends, then the 2-step password");
  login->add_option("name", login_name, "Account name")->required();
  login->callback(
      [&] { action = [&](storage::Store& s) { return RunAccountLogin(s, login_name); }; });
  std::string resume_name;
  CLI::App* resume = account->add_subcommand(
      "resume", "Let an account Telegram limited (PEER_FLOOD) or refused send again — after "
                "checking with @SpamBot");
  resume->add_option("name", resume_name, "Account name")->required();
  resume->callback(
      [&] { action = [&](storage::Store& s) { return RunAccountResume(s, resume_name); }; });
  AccountAddOptions account_update;
  CLI::App* update = account->add_subcommand(
      "update", "Put a new token on a bot account (after losing the secret key, or revoking it)");
  update->add_option("name", account_update.name, "Account name")->required();
  CLI::Option* update_env = update->add_option(
      "--bot-token-env", account_update.token_env, "Read the new token from this variable");
  CLI::Option* update_file = update->add_option("--bot-token-file", account_update.token_file,
                                                "Read the new token from a file");
  update_env->excludes(update_file);
  update->callback([&] {
    action = [&](storage::Store& s) { return RunAccountUpdate(s, account_update, keys); };
  });
  account->add_subcommand("list", "List accounts (tokens masked; \"sealed\" without the key)")
      ->callback([&] { action = [](storage::Store& s) { return RunAccountList(s); }; });
  std::string account_name;
  CLI::App* check = account->add_subcommand(
      "check", "Check a bot's token with getMe (and let an account refused earlier send again)");
  check->add_option("name", account_name, "Account name")->required();
  check->callback(
      [&] { action = [&](storage::Store& s) { return RunAccountCheck(s, account_name); }; });
  AccountWebhookOptions webhook_options;
  CLI::App* webhook = account->add_subcommand(
      "webhook", "Where the bot's updates come from: tginvite's webhook (--url), your own bot "
                 "program (--forward) or polling (--poll, the default)");
  webhook->add_option("name", webhook_options.name, "Account name")->required();
  CLI::Option* url = webhook->add_option(
      "--url", webhook_options.url,
      "https://…/telegram/webhook/NAME: setWebhook there, with a new secret");
  CLI::Option* forward = webhook->add_flag(
      "--forward", webhook_options.forward,
      "Your bot program keeps its updates and POSTs them to /api/v1/accounts/NAME/updates");
  CLI::Option* poll =
      webhook->add_flag("--poll", webhook_options.poll, "tginvite polls getUpdates");
  url->excludes(forward)->excludes(poll);
  forward->excludes(poll);
  webhook->callback([&] {
    action = [&](storage::Store& s) { return RunAccountWebhook(s, webhook_options); };
  });

  // campaign
  CLI::App* campaign = app.add_subcommand("campaign", "Invitation campaigns");
  campaign->require_subcommand(1);
  CampaignCreateOptions create_options;
  CLI::App* create =
      campaign->add_subcommand("create", "Create a campaign (validates the template)");
  create->add_option("name", create_options.name, "Campaign name")->required();
  create->add_option("--account", create_options.account, "Account that sends")->required();
  create->add_option("--chat", create_options.chat, "Target chat: -1001234567890 or @channel")
      ->required();
  create
      ->add_option("--template-file", create_options.template_file,
                   "Message template (HTML; {first_name} {last_name} {username} {link} "
                   "{campaign})")
      ->required();
  create->add_option("--link", create_options.link, "personal, shared or join-request")
      ->capture_default_str();
  create->add_option("--shared-link", create_options.shared_link,
                     "With --link shared: the link to send");
  create->add_option("--reach", create_options.reach,
                     "direct (only contacts the bot can write to), start-link (every contact "
                     "waits for their personal start link) or both (the default for bots; user "
                     "accounts are always direct)");
  create->add_option("--method", create_options.method,
                     "User accounts: add (into the chat), message (the personal link) or "
                     "add-then-message (the default: message those whose privacy refuses adds)");
  create->add_option("--starts-at", create_options.starts_at,
                     "Send nothing before this instant: ISO 8601 with a zone, e.g. "
                     "2026-12-24T09:00:00+01:00 or 2026-12-24T08:00:00Z");
  create->add_option("--ends-at", create_options.ends_at,
                     "Pause the campaign by itself at this instant (ISO 8601 with a zone)");
  create->callback(
      [&] { action = [&](storage::Store& s) { return RunCampaignCreate(s, create_options); }; });

  CampaignEditOptions edit_options;
  std::string edit_template, edit_chat, edit_link, edit_shared_link, edit_starts, edit_ends;
  CLI::App* edit = campaign->add_subcommand(
      "edit", "Change a campaign: its template (for every invitation not sent yet), its schedule, "
              "or, while it is not running and nothing was sent, its chat and link");
  edit->add_option("name", edit_options.name, "Campaign name")->required();
  CLI::Option* edit_template_opt = edit->add_option(
      "--template-file", edit_template, "New message template (validated as on create)");
  CLI::Option* edit_chat_opt =
      edit->add_option("--chat", edit_chat, "New target chat: -1001234567890 or @channel");
  CLI::Option* edit_link_opt = edit->add_option("--link", edit_link, "personal, shared or join-request");
  CLI::Option* edit_shared_opt =
      edit->add_option("--shared-link", edit_shared_link, "With --link shared: the link to send");
  CLI::Option* edit_starts_opt = edit->add_option(
      "--starts-at", edit_starts, "Send nothing before this instant (ISO 8601 with a zone)");
  CLI::Option* edit_ends_opt = edit->add_option(
      "--ends-at", edit_ends, "Pause by itself at this instant (ISO 8601 with a zone)");
  edit->add_flag("--clear-schedule", edit_options.clear_schedule,
                 "Remove the schedule (--starts-at or --ends-at beside it set that bound again)");
  edit->callback([&, edit_template_opt, edit_chat_opt, edit_link_opt, edit_shared_opt,
                  edit_starts_opt, edit_ends_opt] {
    auto given = [](CLI::Option* option, const std::string& value) {
      return option->count() > 0 ? std::optional<std::string>(value) : std::nullopt;
    };
    edit_options.template_file = given(edit_template_opt, edit_template);
    edit_options.chat = given(edit_chat_opt, edit_chat);
    edit_options.link = given(edit_link_opt, edit_link);
    edit_options.shared_link = given(edit_shared_opt, edit_shared_link);
    edit_options.starts_at = given(edit_starts_opt, edit_starts);
    edit_options.ends_at = given(edit_ends_opt, edit_ends);
    action = [&](storage::Store& s) { return RunCampaignEdit(s, edit_options); };
  });

  std::string delete_name;
  bool delete_purge = false;
  CLI::App* remove = campaign->add_subcommand(
      "delete", "Delete a finished or cancelled campaign and its invitations (its attempts stay "
                "in the contacts' history unless --purge)");
  remove->add_option("name", delete_name, "Campaign name")->required();
  remove->add_flag("--purge", delete_purge, "Delete the campaign's attempts too");
  remove->callback([&] {
    action = [&](storage::Store& s) {
      return RunCampaignDelete(s, delete_name,
                               delete_purge ? storage::AttemptsOnDelete::kPurge
                                            : storage::AttemptsOnDelete::kKeep);
    };
  });
  std::string revoke_campaign;
  std::string revoke_contact;
  CLI::App* revoke = campaign->add_subcommand(
      "revoke-link", "Give a contact a new start link in a campaign (the old one stops working)");
  revoke->add_option("name", revoke_campaign, "Campaign name")->required();
  revoke->add_option("contact", revoke_contact, "id:N, username:NAME or phone:+E164")->required();
  revoke->callback([&] {
    action = [&](storage::Store& s) {
      return RunRevokeStartLink(s, revoke_campaign, revoke_contact);
    };
  });
  campaign->add_subcommand("list", "List campaigns with their counts")->callback([&] {
    action = [](storage::Store& s) { return RunCampaignList(s); };
  });
  std::string campaign_name;
  CLI::App* show = campaign->add_subcommand("show", "Show one campaign");
  show->add_option("name", campaign_name, "Campaign name")->required();
  show->callback(
      [&] { action = [&](storage::Store& s) { return RunCampaignShow(s, campaign_name); }; });
  for (const core::CampaignAction change : core::kAllCampaignActions) {
    const std::string verb(core::ToString(change));
    std::string help = change == core::CampaignAction::kCancel
                           ? "Cancel a campaign: its pending invitations are cancelled for good"
                           : fmt::format("{} a campaign", verb);
    CLI::App* sub = campaign->add_subcommand(verb, help);
    sub->add_option("name", campaign_name, "Campaign name")->required();
    sub->callback([&, change = change] {
      action = [&, change](storage::Store& s) {
        return RunCampaignChange(s, campaign_name, change);
      };
    });
  }

  bool confirmed = false;
  CLI::App* resend = campaign->add_subcommand(
      "resend-unknown",
      "Send the campaign's unknown invitations again (they may have been delivered: asks first)");
  resend->add_option("name", campaign_name, "Campaign name")->required();
  resend->add_flag("--yes", confirmed, "Resend without asking");
  resend->callback([&] {
    action = [&](storage::Store& s) {
      return RunResendUnknown(s, campaign_name, confirmed ? Confirmed::kYes : Confirmed::kNo);
    };
  });

  // import / export
  ImportOptions import_options;
  CLI::App* importer = app.add_subcommand("import", "Import contacts from a CSV file");
  importer->add_option("file", import_options.file, "CSV with a header row")->required();
  importer->add_option("--campaign", import_options.campaign,
                       "Also queue one invitation per contact for this campaign");
  importer->add_flag("--dry-run", import_options.dry_run, "Check and report; write nothing");
  importer->add_flag("--strict", import_options.strict, "Import nothing if any row is rejected");
  importer->add_option("--region", import_options.region,
                       "Country for phone numbers without +, e.g. DE (default: none)");
  importer->callback(
      [&] { action = [&](storage::Store& s) { return RunImport(s, import_options); }; });

  std::string export_out;
  CLI::App* exporter = app.add_subcommand("export", "Export a campaign's invitations as CSV");
  exporter->add_option("campaign", campaign_name, "Campaign name")->required();
  exporter->add_option("--out", export_out, "Output file, or - for stdout")->required();
  exporter->callback(
      [&] { action = [&](storage::Store& s) { return RunExport(s, campaign_name, export_out); }; });

  // backup / restore / import-legacy
  BackupOptions backup_options;
  bool backup = false;
  CLI::App* backuper = app.add_subcommand(
      "backup", "Copy the SQLite database while it runs, checked (PostgreSQL: prints the pg_dump "
                "command). The secret key is not in the backup");
  backuper->add_option("--out", backup_options.out, "The backup file (0600)")->required();
  backuper->add_flag("--force", backup_options.force, "Replace FILE when it exists");
  backuper->callback([&] { backup = true; });
  std::string restore_file;
  bool restore = false;
  CLI::App* restorer = app.add_subcommand(
      "restore", "Replace the SQLite database with a backup (refused while anything uses it; the "
                 "old one is kept as <db>.before-restore)");
  restorer->add_option("file", restore_file, "A backup made by `tginvite backup`")->required();
  restorer->callback([&] { restore = true; });
  LegacyImportOptions legacy_options;
  CLI::App* legacy = app.add_subcommand(
      "import-legacy", "Move over from the old app: its contacts, whom it already messaged (never "
                       "messaged again) and its pacing settings");
  legacy->add_option("file", legacy_options.file, "The old app's SQLite database (read only)")
      ->required();
  legacy->add_option("--campaign", legacy_options.campaign, "The campaign to import into")
      ->required();
  legacy->add_flag("--dry-run", legacy_options.dry_run, "Say what would happen; write nothing");
  legacy->add_option("--region", legacy_options.region,
                     "Country for phone numbers without +, e.g. DE (default: none)");
  legacy->callback(
      [&] { action = [&](storage::Store& s) { return RunImportLegacy(s, legacy_options); }; });

  // run
  RunOptions run_options;
  bool waits_for_database = false;  // run and up wait for a database that does not answer yet
  CLI::App* run = app.add_subcommand("run", "The worker: sends the running campaigns' invitations");
  run->add_flag("--until-idle", run_options.until_idle,
                "Exit 0 once no running campaign has an invitation pending, sending or waiting");
  bool long_running = false;  // run, serve and up log their warnings
  run->callback([&] {
    waits_for_database = true;
    long_running = true;
    action = [&](storage::Store& s) {
      PrepareLongRunning(s, global, keys);
      return RunWorker(s, run_options);
    };
  });

  // serve / up
  ServeOptions serve_options;
  CLI::App* serve =
      app.add_subcommand("serve", "Web dashboard and REST API (behind a TLS reverse proxy)");
  AddServeOptions(serve, serve_options);
  serve->callback([&] {
    long_running = true;
    action = [&](storage::Store& s) {
      PrepareLongRunning(s, global, keys);
      return RunServe(s, serve_options);
    };
  });
  CLI::App* up = app.add_subcommand("up", "The worker and the web server in one process");
  AddServeOptions(up, serve_options);
  up->callback([&] {
    waits_for_database = true;
    long_running = true;
    action = [&](storage::Store& s) {
      PrepareLongRunning(s, global, keys);
      return RunUp(s, run_options, serve_options);
    };
  });

  // token
  CLI::App* token = app.add_subcommand("token", "API tokens for Authorization: Bearer");
  token->require_subcommand(1);
  std::string token_name;
  CLI::App* token_create =
      token->add_subcommand("create", "Create a token and print it (shown only once)");
  TokenCreateOptions token_options;
  token_create->add_option("name", token_options.name, "Token name")->required();
  token_create
      ->add_option("--scope", token_options.scope,
                   "What it may do: write (everything), read (GET requests and /metrics), or "
                   "metrics (/metrics only)")
      ->capture_default_str();
  token_create->add_option("--expires-in", token_options.expires_in,
                           "Refused after this long, e.g. 90d or 12h (default: never)");
  token_create->callback(
      [&] { action = [&](storage::Store& s) { return RunTokenCreate(s, token_options); }; });
  CLI::App* token_revoke = token->add_subcommand("revoke", "Revoke a token");
  token_revoke->add_option("name", token_name, "Token name")->required();
  token_revoke->callback(
      [&] { action = [&](storage::Store& s) { return RunTokenRevoke(s, token_name); }; });
  token->add_subcommand("list", "List tokens (never their values)")->callback([&] {
    action = [](storage::Store& s) { return RunTokenList(s); };
  });

  // status
  StatusOptions status_options;
  CLI::App* status = app.add_subcommand("status", "Counts by state for every campaign");
  status->add_flag("--json", status_options.json, "Stable machine-readable output");
  status->callback(
      [&] { action = [&](storage::Store& s) { return RunStatus(s, global, status_options); }; });

  // settings
  CLI::App* settings = app.add_subcommand("settings", "Typed runtime settings");
  settings->require_subcommand(1);
  std::optional<std::string> scope;
  std::string key, value;
  CLI::App* list = settings->add_subcommand("list", "Every setting with its value in force");
  AddCampaignScope(list, scope);
  list->callback([&] { action = [&](storage::Store& s) { return RunSettingsList(s, scope); }; });
  CLI::App* get = settings->add_subcommand("get", "Print one setting's value in force");
  get->add_option("key", key, "Setting key")->required();
  AddCampaignScope(get, scope);
  get->callback([&] { action = [&](storage::Store& s) { return RunSettingsGet(s, scope, key); }; });
  CLI::App* set = settings->add_subcommand("set", "Set a setting (validated)");
  set->add_option("key", key, "Setting key")->required();
  set->add_option("value", value, "Value, e.g. 10, 30s, 750ms, 09:00")->required();
  AddCampaignScope(set, scope);
  set->callback(
      [&] { action = [&](storage::Store& s) { return RunSettingsSet(s, scope, key, value); }; });
  CLI::App* unset = settings->add_subcommand("unset", "Remove a stored value");
  unset->add_option("key", key, "Setting key")->required();
  AddCampaignScope(unset, scope);
  unset->callback(
      [&] { action = [&](storage::Store& s) { return RunSettingsUnset(s, scope, key); }; });

  // suppress
  CLI::App* suppress = app.add_subcommand("suppress", "Users never to invite, in any campaign");
  suppress->require_subcommand(1);
  std::string user, reason;
  CLI::App* suppress_add = suppress->add_subcommand("add", "Suppress a user");
  suppress_add->add_option("user", user, "User id, @username or +phone")->required();
  suppress_add->add_option("--reason", reason, "Why (shown in the list)");
  suppress_add->callback(
      [&] { action = [&](storage::Store& s) { return RunSuppressAdd(s, user, reason); }; });
  CLI::App* suppress_remove = suppress->add_subcommand("remove", "Lift a suppression");
  suppress_remove->add_option("user", user, "User id, @username or +phone")->required();
  suppress_remove->callback(
      [&] { action = [&](storage::Store& s) { return RunSuppressRemove(s, user); }; });
  suppress->add_subcommand("list", "List suppressed users")->callback([&] {
    action = [](storage::Store& s) { return RunSuppressList(s); };
  });

  // secrets
  CLI::App* secrets = app.add_subcommand("secrets", "The key that seals bot tokens");
  secrets->require_subcommand(1);
  bool rotate = false;
  secrets
      ->add_subcommand("rotate",
                       "Reseal every secret under a new key (the key file's old key is kept as "
                       "<key file>.old; with TGINVITE_SECRET_KEY the new key comes from "
                       "TGINVITE_NEW_SECRET_KEY)")
      ->callback([&] { rotate = true; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::RequiredError& e) {
    if (std::optional<std::string> unknown = UnknownCommand(app, argc, argv)) {
      std::cerr << "tginvite: " << *unknown << " (see --help)\n";
      return kExitUsage;
    }
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  // Every command logs (a campaign's state change is logged by whoever makes it); the service's
  // commands to standard output, the others beside their output, on standard error.
  ConfigureLogging({.format = global.log_format,
                    .level = global.log_level,
                    .stream = long_running ? LogStream::kStdout : LogStream::kStderr});
  if (init) return RunInit(global);
  if (migrate) return RunMigrate(global);
  if (rotate) return RunSecretsRotate(global);
  // Every other command loads the key: a missing one is fine until a token is needed, a broken
  // one is an error at once.
  Result<SecretKeys> loaded = LoadSecretKeys(global.secret_key_file);
  if (!loaded) return Report(loaded.error());
  keys = std::move(*loaded);
  {
    UserAccountSetup setup;
    setup.key = keys.current;
    if (keys.next) setup.older_keys.push_back(*keys.next);
    setup.tdlib_dir = global.tdlib_dir;
    ConfigureUserAccounts(std::move(setup));
  }
  if (!long_running) PrintWarnings(keys.AllWarnings());  // the others log them
  // Backups of PostgreSQL are pg_dump's, and a restore replaces the file no store may have open.
  if (backup && storage::IsPostgresUrl(global.db)) {
    return RunPostgresBackupAdvice(global, keys, backup_options);
  }
  if (restore) return RunRestore(global, keys, restore_file);
  if (backup) action = [&](storage::Store& s) { return RunBackup(s, keys, backup_options); };
  const storage::StoreOptions store_options = keys.StoreOptionsFor(storage::OpenMode::kExisting);
  if (waits_for_database) return RunWhenDatabaseAnswers(global, store_options, action);
  Result<std::unique_ptr<storage::Store>> store = storage::OpenStore(global.db, store_options);
  if (!store) return Report(store.error());
  return action(**store);
}

}  // namespace tginvite::cli
