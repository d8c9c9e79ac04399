// The one mapping from error codes to HTTP statuses, and the API's error body.
#pragma once

#include <string>

#include "core/error.h"

namespace tginvite::web {

// kInvalidArgument -> 400, kNotFound -> 404, kAlreadyExists -> 409, kAborted and kUnavailable ->
// 503 (retry later), kInternal -> 500.
int HttpStatusFor(ErrorCode code);

// {"error": {"code": "invalid_argument", "message": "..."}}
std::string ErrorBody(const Error& error);

}  // namespace tginvite::web
