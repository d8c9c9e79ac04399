// The one mapping from error codes to HTTP statuses, the API's error body, and the one way the web
// module writes JSON.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"

namespace tginvite::web {

// kInvalidArgument -> 400, kNotFound -> 404, kAlreadyExists -> 409, kAborted and kUnavailable ->
// 503 (retry later), kInternal -> 500.
int HttpStatusFor(ErrorCode code);

// {"error": {"code": "invalid_argument", "message": "..."}}
std::string ErrorBody(const Error& error);
std::string ErrorBody(std::string_view code, std::string_view message);

// `value` as compact JSON text. Never throws: strings that are not valid UTF-8 (a path, a name or a
// Telegram answer can hold any bytes) have each bad byte replaced by U+FFFD.
std::string JsonText(const nlohmann::json& value);

}  // namespace tginvite::web
