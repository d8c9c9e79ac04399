// What tginvite reads out of TDLib's objects: pure functions over JSON that may hold anything (a
// field of the wrong type reads as absent), so each is a unit test and a fuzz target.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "telegram/messenger.h"

namespace tginvite::telegram::tdlib {

// The joins a group's message reports: messageChatJoinByLink and messageChatJoinByRequest (its
// sender), messageChatAddMembers (every member added), as chat_member updates with an update id
// unique per (chat, message, user). Nothing for any other message.
std::vector<Update> JoinsOf(const nlohmann::json& message);

// A chatMemberStatus as the Bot API names it: creator, administrator, member, restricted, left,
// kicked.
std::string MemberStatusOf(const nlohmann::json& status);

// A user's @username (without '@'): the first active one, else the editable one, else the
// pre-1.8.x `username` field; "" when none.
std::string UsernameOf(const nlohmann::json& user);

}  // namespace tginvite::telegram::tdlib
