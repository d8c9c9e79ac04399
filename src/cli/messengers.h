// The one place that picks a Messenger for an account: the Bot API for bot accounts, the
// REHEARSAL simulator for accounts without a token.
#pragma once

#include <memory>

#include "core/settings.h"
#include "storage/store.h"
#include "telegram/messenger.h"

namespace tginvite::cli {

std::unique_ptr<telegram::Messenger> MakeMessenger(const storage::Account& account,
                                                   const core::Settings& settings);

// Asks Telegram (getMe) whether a new bot account's token works, with the global HTTP settings:
// the bot's "@username"; kInvalidArgument when Telegram refuses the token, kUnavailable when it
// could not be asked. A token that does not even look like one is left to the store's checks.
Result<std::string> CheckBotToken(storage::Store& store, const storage::NewAccount& account);

}  // namespace tginvite::cli
