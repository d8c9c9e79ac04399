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

}  // namespace tginvite::cli
