// Logging a user account in: TDLib's authorization states walked with the operator, who types the
// code Telegram sends to their app (and their 2-step verification password, if they set one).
// The session stays in the account's TDLib database; `tginvite run` uses it without asking.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "telegram/tdlib/td_json.h"
#include "telegram/tdlib/tdlib_messenger.h"

namespace tginvite::telegram::tdlib {

// Asks the operator; std::nullopt when they gave up (end of input).
class LoginPrompter {
 public:
  virtual ~LoginPrompter() = default;
  // `secret`: the answer must not be echoed (a password).
  virtual std::optional<std::string> Ask(std::string_view question, bool secret) = 0;
  virtual void Tell(std::string_view line) = 0;
};

struct LoginResult {
  int64_t user_id = 0;
  std::string username;  // "" when the account has none
  std::string first_name;
};

// Logs the account in (or confirms that its session is still logged in). Errors:
// kInvalidArgument for a refused phone number or api_id/api_hash, too many wrong codes or
// passwords, or an operator who gave up; kUnavailable when TDLib does not answer in time.
inline constexpr int kLoginTries = 3;
Result<LoginResult> LogIn(std::shared_ptr<TdJson> td, const TdlibAccount& account,
                          LoginPrompter& prompter);

}  // namespace tginvite::telegram::tdlib
