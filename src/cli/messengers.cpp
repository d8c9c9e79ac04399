#include "cli/messengers.h"

#include "telegram/bot_api/bot_api_messenger.h"
#include "telegram/rehearsal/rehearsal_messenger.h"

namespace tginvite::cli {

std::unique_ptr<telegram::Messenger> MakeMessenger(const storage::Account& account,
                                                   const core::Settings& settings) {
  if (account.kind == core::AccountKind::kRehearsal) {
    telegram::RehearsalOptions options;
    options.seed = static_cast<uint64_t>(account.id) * 7919 + 17;
    return telegram::MakeRehearsalMessenger(options);
  }
  telegram::BotApiOptions options;
  options.api_base = account.api_base;
  options.token = account.token;
  options.timeout = settings.http_timeout;
  options.proxy = settings.http_proxy;
  return telegram::MakeBotApiMessenger(options);
}

}  // namespace tginvite::cli
