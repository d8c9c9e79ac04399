// The command handlers behind `tginvite`'s subcommands: one function per command, each taking the
// parsed options and returning the process exit code. app.cpp wires them to CLI11.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "cli/logging.h"
#include "cli/secret_keys.h"
#include "storage/store.h"

namespace tginvite::cli {

inline constexpr std::string_view kDefaultDb = "sqlite:./data/tginvite.db";

struct GlobalOptions {
  std::string db = std::string(kDefaultDb);
  std::string secret_key_file = std::string(kDefaultSecretKeyFile);
  // Where user accounts keep their TDLib sessions: one folder (0700) per account.
  std::string tdlib_dir = "./data/tdlib";
  LogFormat log_format = LogFormat::kText;
  LogLevel log_level = LogLevel::kInfo;
};

// Creates the database and, when no key is loaded, the secret key file; seals tokens an older
// version stored in plaintext; sets up the admin password.
int RunInit(const GlobalOptions& global);
// Applies pending schema migrations (sqlite or postgres) and says which version the schema is at;
// with a key, also seals tokens an older version stored in plaintext.
int RunMigrate(const GlobalOptions& global);
// Opens the store for a long-running command (`run`, `up`): while the database does not answer
// (kUnavailable) it says so once and retries with backoff until it does — then returns
// `command`'s exit code — or until SIGINT/SIGTERM (exit 0). Other errors exit at once.
int RunWhenDatabaseAnswers(const GlobalOptions& global, const storage::StoreOptions& options,
                           const std::function<int(storage::Store&)>& command);
// What `run`, `serve` and `up` do before they start, in their log: the key's warnings, a warning
// when the database file is open to other users or when no key is loaded, and tokens an older
// version stored in plaintext sealed (a failure there is a warning: the worker starts anyway).
void PrepareLongRunning(storage::Store& store, const GlobalOptions& global, const SecretKeys& keys);
// `tginvite secrets rotate`: reseals every secret under a new key (see secrets_command.cpp).
int RunSecretsRotate(const GlobalOptions& global);

struct AccountAddOptions {
  std::string name;
  std::string token_env;
  std::string token_file;
  std::string api_base = "https://api.telegram.org";
  // A user account (TDLib): --user, with the operator's api_id/api_hash from my.telegram.org in
  // these variables and the account's phone number; without them, a REHEARSAL user account.
  bool user = false;
  std::string api_id_env;
  std::string api_hash_env;
  std::string phone;
  bool login = true;  // --no-login: log in later with `account login`
};
// `account add NAME --user …`: stores the credentials (sealed) and logs the account in on the
// terminal (code, then the 2-step password if set).
int RunAccountAddUser(storage::AccountStore& store, const AccountAddOptions& options,
                      const SecretKeys& keys);
// `account login NAME`: logs a user account in (again), e.g. after its session was ended.
int RunAccountLogin(storage::AccountStore& store, const std::string& name);
// `account resume NAME`: the operator's word that an account Telegram limited (PEER_FLOOD) or
// refused may send again.
int RunAccountResume(storage::AccountStore& store, const std::string& name);
// A bot token is stored sealed: without a key, a bot account is refused before Telegram is asked.
int RunAccountAdd(storage::Store& store, const AccountAddOptions& options, const SecretKeys& keys);
// Puts a new token (--bot-token-env or --bot-token-file) on an existing bot account, checked with
// getMe first: after a lost secret key, or a token revoked at @BotFather.
int RunAccountUpdate(storage::Store& store, const AccountAddOptions& options,
                     const SecretKeys& keys);
// Tokens are shown masked; "sealed" when no key is loaded, "cannot be opened" when the key does
// not open them.
int RunAccountList(storage::AccountStore& store);

struct CampaignCreateOptions {
  std::string name;
  std::string account;
  std::string chat;
  std::string template_file;
  std::string link = "personal";
  std::string shared_link;
  std::string reach;  // "": both for a bot, direct for a user account
  // User accounts: add, message or add-then-message (the default there); bots always message.
  std::string method;
  // The schedule, ISO 8601 with a zone; "" for none.
  std::string starts_at;
  std::string ends_at;
};
int RunCampaignCreate(storage::Store& store, const CampaignCreateOptions& options);

// `tginvite campaign edit NAME ...`: what is given changes; a new template is previewed.
struct CampaignEditOptions {
  std::string name;
  std::optional<std::string> template_file;
  std::optional<std::string> chat;
  std::optional<std::string> link;
  std::optional<std::string> shared_link;
  std::optional<std::string> starts_at;
  std::optional<std::string> ends_at;
  bool clear_schedule = false;  // both bounds removed (a bound given beside it is set again)
};
int RunCampaignEdit(storage::Catalog& store, const CampaignEditOptions& options);
// `tginvite campaign delete NAME [--purge]`: a finished or cancelled campaign; says what it
// removed.
int RunCampaignDelete(storage::Catalog& store, const std::string& name,
                      storage::AttemptsOnDelete attempts);
int RunCampaignList(storage::Catalog& store);
int RunCampaignShow(storage::Catalog& store, const std::string& name);
// Gives the contact (id:N, username:NAME or phone:+E164) a new start link in the campaign; the old
// one stops working.
int RunRevokeStartLink(storage::Catalog& store, const std::string& campaign,
                       const std::string& contact);
int RunCampaignChange(storage::Catalog& store, const std::string& name,
                      storage::CampaignAction action);
enum class Confirmed { kNo, kYes };
// Resends a campaign's unknown invitations; without kYes it only says what that would do.
int RunResendUnknown(storage::Catalog& store, const std::string& name, Confirmed confirmed);

struct ImportOptions {
  std::string file;
  std::optional<std::string> campaign;
  bool dry_run = false;
  bool strict = false;
  std::string region;
};
int RunImport(storage::Store& store, const ImportOptions& options);

int RunExport(storage::Store& store, const std::string& campaign, const std::string& out);

// `tginvite backup --out FILE [--force]` (backup_command.cpp). SQLite: a checked copy, 0600, never
// over an existing file without --force. PostgreSQL: the pg_dump command to run (the URL's
// password redacted), nothing written. Both say where the secret key is: never in the backup.
struct BackupOptions {
  std::string out;
  bool force = false;
};
int RunBackup(storage::Store& store, const SecretKeys& keys, const BackupOptions& options);
int RunPostgresBackupAdvice(const GlobalOptions& global, const SecretKeys& keys,
                            const BackupOptions& options);
// `tginvite restore FILE`: SQLite only; refused while anything uses the database; the replaced
// database is kept as "<db>.before-restore".
int RunRestore(const GlobalOptions& global, const SecretKeys& keys, const std::string& file);

// `tginvite import-legacy OLD.db --campaign NAME [--dry-run]` (legacy_import.cpp): the old app's
// contacts, what it already sent (never pending again) and its pacing settings.
struct LegacyImportOptions {
  std::string file;
  std::string campaign;
  bool dry_run = false;
  std::string region;
};
int RunImportLegacy(storage::Store& store, const LegacyImportOptions& options);

struct StatusOptions {
  bool json = false;
};
int RunStatus(storage::Store& store, const GlobalOptions& global, const StatusOptions& options);

int RunSettingsList(storage::Catalog& store, const storage::SettingScope& scope);
int RunSettingsGet(storage::Catalog& store, const storage::SettingScope& scope,
                   const std::string& key);
int RunSettingsSet(storage::Catalog& store, const storage::SettingScope& scope,
                   const std::string& key, const std::string& value);
int RunSettingsUnset(storage::Catalog& store, const storage::SettingScope& scope,
                     const std::string& key);

int RunSuppressAdd(storage::Catalog& store, const std::string& user, const std::string& reason);
int RunSuppressRemove(storage::Catalog& store, const std::string& user);
int RunSuppressList(storage::Catalog& store);

struct RunOptions {
  bool until_idle = false;
  std::chrono::milliseconds progress_interval{2000};
  // A long poll for updates; also how long a graceful stop may wait for it.
  std::chrono::seconds updates_timeout{5};
};
// The worker: returns 0 after a graceful stop (or, with until_idle, once idle).
int RunWorker(storage::Store& store, const RunOptions& options);

// `tginvite up` and `tginvite serve`: the web server, with the worker in the same process or
// without it. Both stop gracefully on SIGINT/SIGTERM.
inline constexpr std::string_view kDefaultListen = "127.0.0.1:8080";
struct ServeOptions {
  std::string listen = std::string(kDefaultListen);
  bool behind_proxy = false;  // the client address is the last hop of X-Forwarded-For
  size_t http_threads = 8;
};
int RunServe(storage::Store& store, const ServeOptions& options);
int RunUp(storage::Store& store, const RunOptions& run_options, const ServeOptions& options);

// API tokens for `Authorization: Bearer`: the plaintext is printed once by create, never stored.
struct TokenCreateOptions {
  std::string name;
  std::string scope = "write";
  std::string expires_in;  // a duration; empty: never
};
int RunTokenCreate(storage::WebAuthStore& store, const TokenCreateOptions& options);
int RunTokenRevoke(storage::WebAuthStore& store, const std::string& name);
int RunTokenList(storage::WebAuthStore& store);

// Checks a bot account's token with getMe (kInvalidArgument when the token cannot be opened).
int RunAccountCheck(storage::Store& store, const std::string& name);

// Where an account's updates come from: exactly one of url (tginvite's webhook: setWebhook with a
// new secret), forward (the operator's bot program posts them to the API) or poll (getUpdates;
// a webhook tginvite set is deleted).
struct AccountWebhookOptions {
  std::string name;
  std::string url;
  bool forward = false;
  bool poll = false;
};
int RunAccountWebhook(storage::Store& store, const AccountWebhookOptions& options);

}  // namespace tginvite::cli
