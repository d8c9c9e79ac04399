// `account add --user`, `account login` and `account resume`: user accounts, which send through
// TDLib with the operator's own api_id/api_hash and a session logged in on the terminal.
#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/messengers.h"
#include "cli/output.h"
#include "cli/secret_keys.h"
#include "telegram/tdlib/login.h"

namespace tginvite::cli {
namespace {

// Asks on the terminal (stderr for prompts, so that stdout stays the command's output).
class TerminalPrompter final : public telegram::tdlib::LoginPrompter {
 public:
  std::optional<std::string> Ask(std::string_view question, bool secret) override {
    if (secret) {
      std::string answer = ReadHidden(question);
      if (!std::cin) return std::nullopt;
      return answer;
    }
    fmt::print(stderr, "{}", question);
    std::fflush(stderr);
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    return line;
  }
  void Tell(std::string_view line) override { fmt::print(stderr, "{}\n", line); }
};

Result<std::string> ReadEnv(const std::string& variable, std::string_view option) {
  if (variable.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "{} is required with --user and credentials", option);
  }
  const char* value = std::getenv(variable.c_str());
  if (value == nullptr || *value == '\0') {
    return Fail(ErrorCode::kInvalidArgument, "{}: environment variable {} is not set", option,
                variable);
  }
  return std::string(value);
}

// Logs the stored account in and keeps its @username.
int LogInStored(storage::AccountStore& store, const storage::Account& account) {
  Result<telegram::tdlib::TdlibAccount> tdlib = TdlibAccountFor(account);
  if (!tdlib) return Report(tdlib.error());
  Result<std::shared_ptr<telegram::tdlib::TdJson>> td = telegram::tdlib::TdJson::Load();
  if (!td) {
    return Report(Fail(ErrorCode::kUnavailable,
                       "TDLib not found ({}): `make setup` installs it, or set TGINVITE_TDJSON",
                       td.error().message));
  }
  TerminalPrompter prompter;
  Result<telegram::tdlib::LoginResult> logged_in =
      telegram::tdlib::LogIn(std::move(*td), *tdlib, prompter);
  if (!logged_in) {
    return Report(logged_in.error().WithContext("account " + account.name + ": login"));
  }
  if (!logged_in->username.empty()) {
    if (Status kept = store.SetBotUsername(account.id, logged_in->username); !kept) {
      return Report(kept.error());
    }
  }
  if (account.health != core::AccountHealth::kOk) {
    // A new session cures an unauthorized account; a limited one stays for `account resume`.
    if (account.health == core::AccountHealth::kUnauthorized) {
      if (Status cleared = store.SetAccountHealth(account.id, core::AccountHealth::kOk, "");
          !cleared) {
        return Report(cleared.error());
      }
    }
  }
  fmt::print("account {}: logged in as {}{}\n", account.name, logged_in->first_name,
             logged_in->username.empty() ? "" : " (@" + logged_in->username + ")");
  return kExitOk;
}

}  // namespace

int RunAccountAddUser(storage::AccountStore& store, const AccountAddOptions& options,
                      const SecretKeys& keys) {
  storage::NewAccount account;
  account.name = options.name;
  const bool rehearsal =
      options.api_id_env.empty() && options.api_hash_env.empty() && options.phone.empty();
  if (rehearsal) {
    account.kind = core::AccountKind::kRehearsalUser;
    Result<storage::Account> added = store.AddAccount(account);
    if (!added) return Report(added.error());
    if (Status kept = store.SetBotUsername(added->id, "rehearsal_user"); !kept) {
      return Report(kept.error());
    }
    fmt::print(
        "account {} added: REHEARSAL user account (no credentials; it simulates Telegram and "
        "sends nothing)\n",
        added->name);
    return kExitOk;
  }
  if (!keys.current) {
    return Report(Fail(ErrorCode::kInvalidArgument,
                       "account {}: no secret key is loaded, so its credentials cannot be stored "
                       "(sealed): {}",
                       account.name, keys.MissingKeyHint()));
  }
  Result<std::string> api_id = ReadEnv(options.api_id_env, "--api-id-env");
  if (!api_id) return Report(api_id.error());
  Result<std::string> api_hash = ReadEnv(options.api_hash_env, "--api-hash-env");
  if (!api_hash) return Report(api_hash.error());
  if (options.phone.empty()) {
    return Report(Fail(ErrorCode::kInvalidArgument,
                       "--phone is required with --user: the account's number, +4930123456"));
  }
  std::string why;
  std::optional<core::UserCredentials> credentials =
      core::ParseUserCredentials(*api_id + ":" + *api_hash + ":" + options.phone, &why);
  if (!credentials) {
    return Report(Fail(ErrorCode::kInvalidArgument, "account {}: {}", account.name, why));
  }
  account.kind = core::AccountKind::kUser;
  account.token = core::Secret(credentials->ToText());
  Result<storage::Account> added = store.AddAccount(account);
  if (!added) return Report(added.error());
  fmt::print("account {} added: user account {}\n", added->name, options.phone);
  if (!options.login) {
    fmt::print("log it in with `tginvite account login {}` before a campaign uses it\n",
               added->name);
    return kExitOk;
  }
  return LogInStored(store, *added);
}

int RunAccountLogin(storage::AccountStore& store, const std::string& name) {
  Result<storage::Account> account = store.FindAccount(name);
  if (!account) return Report(account.error());
  if (account->kind != core::AccountKind::kUser) {
    return Report(Fail(ErrorCode::kInvalidArgument,
                       "account {} is not a user account: only user accounts log in", name));
  }
  return LogInStored(store, *account);
}

int RunAccountResume(storage::AccountStore& store, const std::string& name) {
  Result<storage::Account> account = store.FindAccount(name);
  if (!account) return Report(account.error());
  if (account->health == core::AccountHealth::kOk) {
    fmt::print("account {} is not stopped: nothing to resume\n", name);
    return kExitOk;
  }
  if (Status cleared = store.SetAccountHealth(account->id, core::AccountHealth::kOk, "");
      !cleared) {
    return Report(cleared.error());
  }
  fmt::print("account {} may send again (it was {}: {})\n", name,
             core::ToString(account->health), account->health_reason);
  return kExitOk;
}

}  // namespace tginvite::cli
