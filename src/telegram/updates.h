// Reading one Bot API Update object, whoever delivered it: getUpdates, a webhook call, or the
// operator's own bot program forwarding it. Pure functions over untrusted JSON: never throw, and
// keep only what tginvite acts on, validated (a payload or username with other characters is not
// passed on as it came; an overlong string is dropped).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "telegram/messenger.h"

namespace tginvite::telegram {

// The longest start payload Telegram passes on (core.telegram.org/bots/features#deep-linking).
inline constexpr size_t kMaxStartPayload = 64;
// What a /start payload that cannot be a start key becomes: it matches nothing.
inline constexpr std::string_view kInvalidStartPayload = "!invalid";

// The update, or nullopt without an integer update_id. Kinds tginvite does not act on come back
// as Update::Kind::kOther, so that their update_id still counts.
std::optional<Update> ReadUpdate(const nlohmann::json& item);

// The payload of a private "/start …" message's text: "" for a bare /start, kInvalidStartPayload
// when what follows is not 1–64 characters of A-Za-z0-9_-; nullopt when the text is no /start.
std::optional<std::string> StartPayloadOf(std::string_view text);

}  // namespace tginvite::telegram
