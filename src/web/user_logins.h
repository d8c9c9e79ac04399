// Logging user accounts in from the dashboard (POST /api/v1/accounts/{name}/login): TDLib's login
// (telegram/tdlib/login.h) runs on a background thread per account, and its questions — the code
// Telegram sent, the 2-step verification password — are answered by the HTTP requests that follow.
// Each request waits (at most `reply_wait`) until the login asks its next question or ends, and
// answers where it stands:
//   {"state": "waiting"}                      still talking to TDLib: call again with {}
//   {"state": "code", "message": "..."}       asks the login code (message: what Telegram said)
//   {"state": "password", "hint": "..."}      asks the 2-step verification password
//   {"state": "ready", "username": "..."}     logged in; the account's @username is stored and an
//                                             unauthorized health cleared, as `account login` does
//   {"state": "failed", "error": "..."}       the login ended without a session
// At most one login runs per account; a finished one is forgotten once a request has seen its end
// (or when the next login of the account starts). A question left unanswered for `answer_wait` is
// cancelled. No code or password is ever logged or put into an answer.
//
// Thread-safety: Step may be called from any number of threads. The destructor cancels every
// login and joins its thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "storage/store.h"
#include "telegram/tdlib/td_json.h"
#include "telegram/tdlib/tdlib_messenger.h"
#include "web/api.h"

namespace tginvite::web {

// Builds a user account's TDLib setup (credentials, session folder, database key); supplied by
// the composition root (cli::TdlibAccountFor), so that web does not depend on the CLI.
using TdlibAccountSource =
    std::function<Result<telegram::tdlib::TdlibAccount>(const storage::Account&)>;
// Finds the TDLib library; empty: telegram::tdlib::TdJson::Load.
using TdJsonLoader = std::function<Result<std::shared_ptr<telegram::tdlib::TdJson>>()>;

struct UserLoginLimits {
  std::chrono::milliseconds answer_wait = std::chrono::minutes(10);
  std::chrono::milliseconds reply_wait = std::chrono::seconds(30);
};

class UserLogins {
 public:
  UserLogins(storage::AccountStore& store, TdlibAccountSource tdlib_account, TdJsonLoader load_tdjson,
             UserLoginLimits limits);
  ~UserLogins();
  UserLogins(const UserLogins&) = delete;
  UserLogins& operator=(const UserLogins&) = delete;

  // One request of the route: `body` is {} (start, or ask where the login stands), {"code": ".."}
  // or {"password": ".."}. kNotFound for an unknown account, kInvalidArgument for a bad body or an
  // account that is not a user account, kAlreadyExists (409) for an answer nobody asked for,
  // kUnavailable when this server cannot log user accounts in (no TDLib).
  Result<Reply> Step(const std::string& account_name, const nlohmann::json& body);
  // Cancels every login and wakes the requests waiting for one (the server stops).
  void CancelAll();

 private:
  class Session;

  storage::AccountStore& store_;
  TdlibAccountSource tdlib_account_;
  TdJsonLoader load_tdjson_;
  UserLoginLimits limits_;
  std::mutex mu_;
  std::map<int64_t, std::shared_ptr<Session>> sessions_;  // by account id
};

}  // namespace tginvite::web
