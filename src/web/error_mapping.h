// The one mapping from error codes to HTTP statuses, the API's error body, and JSON text that
// cannot fail.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace tginvite::web {

// kInvalidArgument -> 400, kNotFound -> 404, kAlreadyExists -> 409, kAborted and kUnavailable ->
// 503 (retry later), kInternal -> 500.
int HttpStatusFor(ErrorCode code);

// {"error": {"code": "invalid_argument", "message": "..."}}; never throws (JsonText).
std::string ErrorBody(const Error& error);

// `body` as JSON text. Never throws: invalid UTF-8 in a string (a campaign name or a path segment
// a client sent, quoted in a message) becomes U+FFFD where nlohmann's dump() would throw. What
// every response body should be written with.
std::string JsonText(const nlohmann::json& body);

}  // namespace tginvite::web
