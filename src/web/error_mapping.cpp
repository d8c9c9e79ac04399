#include "web/error_mapping.h"

namespace tginvite::web {

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
      return 409;
    case ErrorCode::kAborted:
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

std::string ErrorBody(const Error& error) {
  nlohmann::json body = {
      {"error", {{"code", std::string(ErrorCodeName(error.code))}, {"message", error.message}}}};
  return JsonText(body);
}

std::string JsonText(const nlohmann::json& body) {
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tginvite::web
