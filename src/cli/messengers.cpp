#include "cli/messengers.h"

#include "core/secret.h"
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

Result<std::string> CheckBotToken(storage::Store& store, const storage::NewAccount& account) {
  if (account.kind != core::AccountKind::kBot || !core::LooksLikeBotToken(account.token.Reveal())) {
    return std::string();
  }
  ASSIGN_OR_RETURN(core::ResolvedSettings settings,
                   storage::LoadResolvedSettings(store, std::nullopt));
  storage::Account probe;
  probe.kind = account.kind;
  probe.token = account.token;
  probe.api_base = account.api_base;
  telegram::BotIdentityResult me = MakeMessenger(probe, settings.settings)->GetMe();
  if (me.outcome.kind == telegram::OutcomeKind::kAccountFatal) {
    return Fail(ErrorCode::kInvalidArgument, "{}", me.outcome.description);
  }
  if (!me.outcome.ok()) return Fail(ErrorCode::kUnavailable, "{}", me.outcome.description);
  return "@" + me.bot.username;
}

}  // namespace tginvite::cli
