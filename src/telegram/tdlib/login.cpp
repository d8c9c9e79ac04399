#include "telegram/tdlib/login.h"

#include <condition_variable>
#include <deque>
#include <mutex>

#include "telegram/tdlib/json_fields.h"
#include "telegram/tdlib/td_answers.h"
#include "telegram/tdlib/td_client.h"

namespace tginvite::telegram::tdlib {
namespace {

// The phone number as the prompt shows it: the country code and the last two digits.
std::string MaskedPhone(const std::string& phone) {
  if (phone.size() < 6) return "your phone";
  return phone.substr(0, 3) + std::string(phone.size() - 5, '*') + phone.substr(phone.size() - 2);
}

class StateQueue {
 public:
  void Push(Json state) {
    std::lock_guard lock(mu_);
    states_.push_back(std::move(state));
    cv_.notify_all();
  }
  std::optional<Json> Next(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [this] { return !states_.empty(); })) return std::nullopt;
    Json state = std::move(states_.front());
    states_.pop_front();
    return state;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Json> states_;
};

}  // namespace

Result<LoginResult> LogIn(std::shared_ptr<TdJson> td, const TdlibAccount& account,
                          LoginPrompter& prompter) {
  RETURN_IF_ERROR(PrepareDatabaseDirectory(account.database_directory));
  StateQueue states;
  std::shared_ptr<TdClient> client = TdClient::Create(std::move(td), [&states](const Json& update) {
    if (TypeOf(update) == "updateAuthorizationState") {
      states.Push(Field(update, "authorization_state"));
    }
  });
  auto call = [&](Json request) -> Result<Json> {
    std::optional<Json> answer = client->Call(std::move(request), account.timeout);
    if (!answer) return Fail(ErrorCode::kUnavailable, "TDLib did not answer in time");
    return std::move(*answer);
  };
  std::vector<const core::Secret*> keys{&account.database_key};
  for (const core::Secret& old : account.old_database_keys) keys.push_back(&old);
  size_t key_index = 0;
  int wrong_codes = 0;
  int wrong_passwords = 0;
  std::optional<Json> state = states.Next(account.timeout);
  while (state) {
    const std::string type = TypeOf(*state);
    std::optional<Json> answer;
    if (type == "authorizationStateWaitTdlibParameters") {
      ASSIGN_OR_RETURN(answer, call(ParametersRequest(account, *keys[key_index])));
      if (TdError e = ErrorOf(*answer); e.code != 0) {
        if (++key_index < keys.size()) continue;  // the same state, with an older key
        return Fail(ErrorCode::kInvalidArgument, "TDLib refused to open the session: {}",
                    e.message);
      }
    } else if (type == "authorizationStateWaitPhoneNumber") {
      ASSIGN_OR_RETURN(answer, call({{"@type", "setAuthenticationPhoneNumber"},
                                     {"phone_number", account.credentials.phone}}));
      if (TdError e = ErrorOf(*answer); e.code != 0) {
        return Fail(ErrorCode::kInvalidArgument,
                    "Telegram refused to log in {} ({}): check api_id, api_hash and the number",
                    MaskedPhone(account.credentials.phone), e.message);
      }
    } else if (type == "authorizationStateWaitCode") {
      prompter.Tell("Telegram sent a login code to the Telegram app of " +
                    MaskedPhone(account.credentials.phone) + " (or by SMS).");
      std::optional<std::string> code = prompter.Ask("Login code: ", false);
      if (!code) return Fail(ErrorCode::kInvalidArgument, "login cancelled: no code given");
      ASSIGN_OR_RETURN(answer, call({{"@type", "checkAuthenticationCode"}, {"code", *code}}));
      if (TdError e = ErrorOf(*answer); e.code != 0) {
        if (++wrong_codes >= kLoginTries) {
          return Fail(ErrorCode::kInvalidArgument, "login failed: {} wrong codes ({})", wrong_codes,
                      e.message);
        }
        prompter.Tell("That code was not accepted (" + e.message + "); try again.");
        continue;  // the state stays: ask again
      }
    } else if (type == "authorizationStateWaitPassword") {
      const std::string hint = StringField(*state, "password_hint");
      std::optional<std::string> password = prompter.Ask(
          "2-step verification password" + (hint.empty() ? "" : " (hint: " + hint + ")") + ": ",
          true);
      if (!password) return Fail(ErrorCode::kInvalidArgument, "login cancelled: no password given");
      ASSIGN_OR_RETURN(answer,
                       call({{"@type", "checkAuthenticationPassword"}, {"password", *password}}));
      if (TdError e = ErrorOf(*answer); e.code != 0) {
        if (++wrong_passwords >= kLoginTries) {
          return Fail(ErrorCode::kInvalidArgument, "login failed: {} wrong passwords",
                      wrong_passwords);
        }
        prompter.Tell("That password was not accepted; try again.");
        continue;
      }
    } else if (type == "authorizationStateReady") {
      ASSIGN_OR_RETURN(Json me, call({{"@type", "getMe"}}));
      LoginResult result;
      result.user_id = IntField(me, "id").value_or(0);
      result.first_name = StringField(me, "first_name");
      result.username = UsernameOf(me);
      return result;
    } else if (type == "authorizationStateWaitRegistration") {
      return Fail(ErrorCode::kInvalidArgument,
                  "no Telegram account uses {}: sign up in a Telegram app first",
                  MaskedPhone(account.credentials.phone));
    } else if (type == "authorizationStateWaitEmailAddress" ||
               type == "authorizationStateWaitEmailCode" ||
               type == "authorizationStateWaitOtherDeviceConfirmation" ||
               type == "authorizationStateWaitPremiumPurchase") {
      return Fail(ErrorCode::kInvalidArgument,
                  "Telegram wants more than a code for this login ({}): log in once in a Telegram "
                  "app, then try again",
                  type);
    } else if (type == "authorizationStateClosing" || type == "authorizationStateClosed" ||
               type == "authorizationStateLoggingOut") {
      return Fail(ErrorCode::kUnavailable, "the session closed during the login");
    }
    state = states.Next(account.timeout);
  }
  return Fail(ErrorCode::kUnavailable, "TDLib did not answer in time");
}

}  // namespace tginvite::telegram::tdlib
