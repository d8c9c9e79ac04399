// The Messenger of a user account, over TDLib: the person's (or staff's) own Telegram account,
// logged in once with `tginvite account login`, its session in a TDLib database of its own.
//
// What differs from a bot, and how this maps it onto the Messenger interface:
//   - a user account writes first and adds members (AddChatMember, FindUser by @username or phone);
//   - a message is not sent when sendMessage answers: the answer is a pending message, and the
//     outcome arrives later as updateMessageSendSucceeded / updateMessageSendFailed. Without one in
//     time the send is ambiguous (it may have gone);
//   - TDLib waits out FLOOD_WAITs of 60 s or less by itself: only longer ones reach us, as 429;
//   - joins are learnt from the group's service messages (messageChatJoinByLink,
//     messageChatAddMembers, messageChatJoinByRequest), which GetUpdates hands out as chat_member
//     updates; TDLib sends updateChatMember to bots only;
//   - there are no inline buttons: a button's link is appended to the text.
//
// The client starts on first use (setTdlibParameters with the account's credentials and database
// key); a session that is not logged in makes every request kAccountFatal (unauthorized).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/secret.h"
#include "core/secret_box.h"
#include "telegram/messenger.h"
#include "telegram/tdlib/td_json.h"

namespace tginvite::telegram::tdlib {

struct TdlibAccount {
  std::string name;
  core::UserCredentials credentials;
  std::string database_directory;  // ./data/tdlib/NAME, 0700
  // The TDLib database key (derived from tginvite's secret key) and keys that opened it before
  // (derived from the keyring's older keys): a database still under an old key is re-keyed.
  core::Secret database_key;
  std::vector<core::Secret> old_database_keys;
  std::string application_version = "tginvite";
  std::chrono::milliseconds timeout{30'000};  // per request; a send's final state included
};

// The database key of an account's TDLib session, derived from a secret key: a keyed BLAKE2b of
// the account's name, so one key serves every account and a leaked session key reveals nothing.
core::Secret DatabaseKeyFor(const core::SecretKey& key, std::string_view account);

// Creates the account's database folder (0700) if needed. kInvalidArgument if it exists and is
// open to others.
Status PrepareDatabaseDirectory(const std::string& path);

// The setTdlibParameters request that opens the account's session with `database_key`.
nlohmann::json ParametersRequest(const TdlibAccount& account, const core::Secret& database_key);
// The bytes of a database key as TDLib's JSON wants them (base64).
std::string Base64(std::string_view bytes);

std::unique_ptr<Messenger> MakeTdlibMessenger(std::shared_ptr<TdJson> td, TdlibAccount account);

}  // namespace tginvite::telegram::tdlib
