// The command handlers behind `tginvite`'s subcommands: one function per command, each taking the
// parsed options and returning the process exit code. app.cpp wires them to CLI11.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "storage/store.h"

namespace tginvite::cli {

inline constexpr std::string_view kDefaultDb = "sqlite:./data/tginvite.db";

enum class LogFormat { kText, kJson };

struct GlobalOptions {
  std::string db = std::string(kDefaultDb);
  LogFormat log_format = LogFormat::kText;
};

// Sets how spdlog writes lines for the long-running commands (run, serve, up): text, or one JSON
// object a line, {"ts":"2026-01-02T03:04:05.678Z","level":"info","msg":"..."}.
void ConfigureLogging(LogFormat format);

int RunInit(const GlobalOptions& global);
// Applies pending schema migrations (sqlite or postgres) and says which version the schema is at.
int RunMigrate(const GlobalOptions& global);
// Opens the store for a long-running command (`run`, `up`): while the database does not answer
// (kUnavailable) it says so once and retries with backoff until it does — then returns
// `command`'s exit code — or until SIGINT/SIGTERM (exit 0). Other errors exit at once.
int RunWhenDatabaseAnswers(const GlobalOptions& global,
                           const std::function<int(storage::Store&)>& command);

struct AccountAddOptions {
  std::string name;
  std::string token_env;
  std::string token_file;
  std::string api_base = "https://api.telegram.org";
};
int RunAccountAdd(storage::Store& store, const AccountAddOptions& options);
int RunAccountList(storage::Store& store);

struct CampaignCreateOptions {
  std::string name;
  std::string account;
  std::string chat;
  std::string template_file;
  std::string link = "personal";
  std::string shared_link;
};
int RunCampaignCreate(storage::Store& store, const CampaignCreateOptions& options);
int RunCampaignList(storage::Store& store);
int RunCampaignShow(storage::Store& store, const std::string& name);
int RunCampaignChange(storage::Store& store, const std::string& name,
                      storage::CampaignAction action);
enum class Confirmed { kNo, kYes };
// Resends a campaign's unknown invitations; without kYes it only says what that would do.
int RunResendUnknown(storage::Store& store, const std::string& name, Confirmed confirmed);

struct ImportOptions {
  std::string file;
  std::optional<std::string> campaign;
  bool dry_run = false;
  bool strict = false;
  std::string region;
};
int RunImport(storage::Store& store, const ImportOptions& options);

int RunExport(storage::Store& store, const std::string& campaign, const std::string& out);

struct StatusOptions {
  bool json = false;
};
int RunStatus(storage::Store& store, const GlobalOptions& global, const StatusOptions& options);

int RunSettingsList(storage::Store& store, const storage::SettingScope& scope);
int RunSettingsGet(storage::Store& store, const storage::SettingScope& scope,
                   const std::string& key);
int RunSettingsSet(storage::Store& store, const storage::SettingScope& scope,
                   const std::string& key, const std::string& value);
int RunSettingsUnset(storage::Store& store, const storage::SettingScope& scope,
                     const std::string& key);

int RunSuppressAdd(storage::Store& store, const std::string& user, const std::string& reason);
int RunSuppressRemove(storage::Store& store, const std::string& user);
int RunSuppressList(storage::Store& store);

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
int RunTokenCreate(storage::Store& store, const TokenCreateOptions& options);
int RunTokenRevoke(storage::Store& store, const std::string& name);
int RunTokenList(storage::Store& store);

// Checks a bot account's token with getMe.
int RunAccountCheck(storage::Store& store, const std::string& name);

// Neutralises a CSV cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR first):
// "=HYPERLINK(...)" -> "'=HYPERLINK(...)".
std::string NeutraliseFormula(std::string_view cell);

}  // namespace tginvite::cli
