// The one place that picks a Messenger for an account: the Bot API for bot accounts, the
// REHEARSAL simulator for accounts without a token.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/settings.h"
#include "storage/store.h"
#include "telegram/messenger.h"
#include "telegram/tdlib/tdlib_messenger.h"

namespace tginvite::cli {

std::unique_ptr<telegram::Messenger> MakeMessenger(const storage::Account& account,
                                                   const core::Settings& settings);

// What user accounts need besides the account: the keys their TDLib database keys derive from,
// and where their sessions live. Set once by the composition root, before any messenger is made.
struct UserAccountSetup {
  std::optional<core::SecretKey> key;       // the current secret key
  std::vector<core::SecretKey> older_keys;  // keys that may still have sealed a session
  std::string tdlib_dir = "./data/tdlib";
};
void ConfigureUserAccounts(UserAccountSetup setup);

// The TDLib side of a user account: its credentials opened, its session folder and database key.
// kInvalidArgument when its credentials cannot be read or no secret key is loaded.
Result<telegram::tdlib::TdlibAccount> TdlibAccountFor(const storage::Account& account);

// Asks Telegram (getMe) whether a new bot account's token works, with the global HTTP settings:
// the bot's "@username"; kInvalidArgument when Telegram refuses the token, kUnavailable when it
// could not be asked. A token that does not even look like one is left to the store's checks.
Result<std::string> CheckBotToken(storage::Store& store, const storage::NewAccount& account);
// The same check, with the bot's id (getMe's, else the token's prefix) and @username; an empty
// identity for an account without a bot token.
Result<telegram::BotIdentity> CheckBotIdentity(storage::Store& store,
                                               const storage::NewAccount& account);

// Where a user account's TDLib session lives: --tdlib-dir/NAME.
std::string SessionFolderOf(std::string_view account);

}  // namespace tginvite::cli
