// The names an operator gives things, and the chats a campaign may target: the rules every store
// and front end applies before anything is written. Pure functions, thread-safe.
#pragma once

#include <string_view>

#include "core/error.h"

namespace tginvite::core {

// kInvalidArgument unless `name` is 1 to 64 letters, digits, '.', '_' or '-', starting with a
// letter or digit. `what` ("account", "campaign") starts the message:
// `campaign name "a b": use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or
// digit`.
[[nodiscard]] Status ValidateName(std::string_view what, std::string_view name);

// kInvalidArgument unless `chat` is a chat id (an optional '-' and 1 to 19 digits, no leading
// zero, within int64) or a public "@channelname" (a letter, then 4 to 32 letters, digits or '_').
[[nodiscard]] Status ValidateChat(std::string_view chat);

}  // namespace tginvite::core
