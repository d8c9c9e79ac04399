// Token rotation, over the AccountStore role: the same checks for the CLI and the API.
#include "core/model.h"
#include "storage/accounts.h"

namespace tginvite::storage {

Result<TokenRotation> RotateBotToken(AccountStore& store, std::string_view name,
                                     const core::Secret& token, const BotChecker& check) {
  TokenRotation rotation;
  ASSIGN_OR_RETURN(rotation.before, store.FindAccount(name));
  const Account& before = rotation.before;
  if (core::IsRehearsal(before.kind)) {
    return Fail(ErrorCode::kInvalidArgument,
                "account {} is a REHEARSAL account: it has no token to replace", name);
  }
  if (before.kind != core::AccountKind::kBot) {
    return Fail(ErrorCode::kInvalidArgument,
                "account {} is a user account: it has no bot token (log it in again with "
                "`tginvite account login {}`)",
                name, name);
  }
  const std::optional<int64_t> prefix = core::BotIdOfToken(token.Reveal());
  if (!prefix) {
    return Fail(ErrorCode::kInvalidArgument,
                "account {}: the new token does not look like one from @BotFather (digits, ':', "
                "then 30 or more letters, digits, '_' or '-'); nothing was changed",
                name);
  }
  NewAccount probe;
  probe.name = before.name;
  probe.kind = core::AccountKind::kBot;
  probe.token = token;
  probe.api_base = before.api_base;
  if (check) {
    Result<CheckedBot> checked = check(probe);
    if (!checked && checked.error().code == ErrorCode::kInvalidArgument) {
      return Fail(ErrorCode::kInvalidArgument,
                  "account {}: Telegram refused the new token ({}); nothing was changed", name,
                  checked.error().message);
    }
    if (!checked) {
      return Fail(ErrorCode::kUnavailable,
                  "account {}: could not ask Telegram whether the new token works ({}); nothing "
                  "was changed, try again",
                  name, checked.error().message);
    }
    rotation.bot = std::move(*checked);
  }
  if (rotation.bot.id == 0) rotation.bot.id = *prefix;
  if (before.bot_id != 0 && rotation.bot.id != before.bot_id) {
    return Fail(ErrorCode::kInvalidArgument,
                "account {}: the new token belongs to another bot ({}id {}), not to the account's "
                "bot (id {}); nothing was changed (add another bot as a new account)",
                name, rotation.bot.username.empty() ? "" : "@" + rotation.bot.username + ", ",
                rotation.bot.id, before.bot_id);
  }
  RETURN_IF_ERROR(store.ReplaceBotToken(name, token));
  RETURN_IF_ERROR(store.SetBotId(before.id, rotation.bot.id));
  if (!rotation.bot.username.empty() && rotation.bot.username != before.bot_username) {
    RETURN_IF_ERROR(store.SetBotUsername(before.id, rotation.bot.username));
  }
  rotation.healed = before.health == core::AccountHealth::kUnauthorized;
  return rotation;
}

}  // namespace tginvite::storage
