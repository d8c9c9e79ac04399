// Classification of TDLib's answers into Outcomes (telegram-api.md §4, §5.2). Pure functions, so
// every row of the catalogue is a unit test.
//
// TDLib passes Telegram's errors through as {code, message} with the MTProto error name as the
// message ("USER_PRIVACY_RESTRICTED", "PEER_FLOOD"); it waits out FLOOD_WAITs of 60 s or less by
// itself and reports longer ones as 429 "Too Many Requests: retry after N". Errors are matched by
// name, never by code alone: one name comes with different codes from different methods.
#pragma once

#include <string_view>

#include "telegram/messenger.h"

namespace tginvite::telegram::tdlib {

// Whom a request acts on, which decides what a refusal concerns.
enum class RequestClass {
  kContact,     // sendMessage, addChatMembers, searchPublicChat, importContacts: that contact
  kTargetChat,  // createChatInviteLink, getChat, searchPublicChat of the chat: the campaign
  kAccount,     // getMe, setTdlibParameters: the account itself
};

Outcome ClassifyTdError(RequestClass request_class, int code, std::string_view message);

// The answer never came: the request may have been carried out.
Outcome LostAnswer(std::string_view request);

}  // namespace tginvite::telegram::tdlib
