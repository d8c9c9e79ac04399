#include "telegram/classify.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace tginvite::telegram {
namespace {

using Json = nlohmann::json;

// The parts of a Bot API envelope classification looks at.
struct Envelope {
  bool ok = false;
  bool has_result = false;
  int error_code = 0;
  std::string description;
  std::optional<int64_t> retry_after;
  std::optional<int64_t> migrate_to_chat_id;
};

// An integer field; a float is taken by its whole part. nullopt when absent, not a number, or
// outside int64 (converting such a double would be undefined behaviour).
std::optional<int64_t> IntegerField(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  if (it->is_number_unsigned()) {
    const auto value = it->get<uint64_t>();
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(value);
  }
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_float()) {
    // 2^63 is exact as a double; every double in [-2^63, 2^63) converts.
    constexpr double kLimit = 9223372036854775808.0;
    const double value = it->get<double>();
    if (!(value >= -kLimit && value < kLimit)) return std::nullopt;  // also NaN
    return static_cast<int64_t>(value);
  }
  return std::nullopt;
}

// Telegram's error_code, when it is one an int holds (a 429 is never taken from 4294967725).
int ErrorCodeOf(const Json& object) {
  const std::optional<int64_t> code = IntegerField(object, "error_code");
  if (!code || *code < std::numeric_limits<int>::min() || *code > std::numeric_limits<int>::max()) {
    return 0;
  }
  return static_cast<int>(*code);
}

// nullopt unless `body` is a JSON object with a boolean "ok".
std::optional<Envelope> ParseEnvelope(std::string_view body) {
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return std::nullopt;
  auto ok = parsed.find("ok");
  if (ok == parsed.end() || !ok->is_boolean()) return std::nullopt;
  Envelope envelope;
  envelope.ok = ok->get<bool>();
  envelope.has_result = parsed.contains("result");
  envelope.error_code = ErrorCodeOf(parsed);
  if (auto description = parsed.find("description");
      description != parsed.end() && description->is_string()) {
    envelope.description = description->get<std::string>();
  }
  if (auto parameters = parsed.find("parameters");
      parameters != parsed.end() && parameters->is_object()) {
    envelope.retry_after = IntegerField(*parameters, "retry_after");
    envelope.migrate_to_chat_id = IntegerField(*parameters, "migrate_to_chat_id");
  }
  return envelope;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

Outcome Make(OutcomeKind kind, PermanentReason reason) {
  Outcome outcome;
  outcome.kind = kind;
  outcome.reason = reason;
  return outcome;
}

// A 4xx other than 401, 404 and 429, by whom the method acts on.
Outcome ClassifyClientError(MethodClass method_class, int code, std::string_view description) {
  const std::string text = Lower(description);
  switch (method_class) {
    case MethodClass::kSendToUser:
      if (code == 403 && Contains(text, "blocked by the user")) {
        return Make(OutcomeKind::kPermanent, PermanentReason::kBlocked);
      }
      if (code == 403 && Contains(text, "user is deactivated")) {
        return Make(OutcomeKind::kPermanent, PermanentReason::kDeactivated);
      }
      if (code == 403 && Contains(text, "can't initiate conversation")) {
        return Make(OutcomeKind::kPermanent, PermanentReason::kNotStarted);
      }
      // "chat not found", "private chat not found", "user not found", and any other refusal of
      // this one message.
      return Make(OutcomeKind::kPermanent, PermanentReason::kOther);
    case MethodClass::kTargetChat:
      return Make(OutcomeKind::kCampaignFatal, PermanentReason::kNone);
    case MethodClass::kChatMember: {
      bool about_user = Contains(text, "user not found") || Contains(text, "participant_id") ||
                        Contains(text, "hide_requester_missing") ||
                        Contains(text, "user_already_participant") ||
                        Contains(text, "user is an administrator");
      bool about_chat = Contains(text, "chat not found") || Contains(text, "not enough rights") ||
                        Contains(text, "bot was kicked") || Contains(text, "bot is not a member") ||
                        Contains(text, "chat_admin_required") || code == 403;
      if (about_user || !about_chat) return Make(OutcomeKind::kPermanent, PermanentReason::kOther);
      return Make(OutcomeKind::kCampaignFatal, PermanentReason::kNone);
    }
    case MethodClass::kAccount:
      if (code == 409 && !Contains(text, "webhook")) {
        // Another getUpdates overlapped (often the previous poller's request still open after a
        // restart): it ends by itself.
        return Make(OutcomeKind::kTransient, PermanentReason::kNone);
      }
      return Make(OutcomeKind::kAccountFatal, PermanentReason::kNone);
  }
  return Make(OutcomeKind::kPermanent, PermanentReason::kOther);
}

}  // namespace

Outcome ClassifyTransportFailure(Transport transport, RequestSent sent, std::string_view message) {
  Outcome outcome;
  switch (transport) {
    case Transport::kMisconfigured:
      outcome.kind = OutcomeKind::kAccountFatal;
      outcome.description = fmt::format("unusable bot api url: {}", message);
      return outcome;
    case Transport::kResponse:
      outcome.kind = OutcomeKind::kTransient;
      outcome.description = "no response";
      return outcome;
    case Transport::kNotConnected:
    case Transport::kTimedOut:
    case Transport::kConnectionBroken:
    case Transport::kOtherError:
      break;
  }
  if (sent == RequestSent::kYes) {
    outcome.kind = OutcomeKind::kAmbiguous;
    outcome.description =
        fmt::format("{} after the request was sent, it may have been delivered",
                    transport == Transport::kTimedOut ? "timed out" : "connection failed");
  } else {
    outcome.kind = OutcomeKind::kTransient;
    outcome.description =
        fmt::format("{} before the request was sent",
                    transport == Transport::kTimedOut       ? "timed out"
                    : transport == Transport::kNotConnected ? "could not connect"
                                                            : "connection failed");
  }
  if (!message.empty()) outcome.description += fmt::format(": {}", message);
  return outcome;
}

Outcome ClassifyResponse(MethodClass method_class, int http_status, std::string_view body,
                         std::optional<std::chrono::seconds> retry_after_header) {
  std::optional<Envelope> envelope = ParseEnvelope(body);
  if (http_status == 200 && envelope && envelope->ok && envelope->has_result) {
    Outcome outcome;
    outcome.http_status = http_status;
    return outcome;
  }
  if (http_status == 200 && !(envelope && !envelope->ok)) {
    Outcome outcome;
    outcome.kind = OutcomeKind::kAmbiguous;
    outcome.http_status = http_status;
    outcome.description =
        "http 200 whose body is not a bot api envelope, the request may have been delivered";
    return outcome;
  }

  const int code = envelope && envelope->error_code != 0 ? envelope->error_code : http_status;
  std::string description =
      envelope && !envelope->description.empty()
          ? envelope->description
          : fmt::format("http {}{}", http_status, envelope ? "" : " with a non-json body");
  if (envelope && envelope->migrate_to_chat_id) {
    description += fmt::format(" (migrate_to_chat_id {})", *envelope->migrate_to_chat_id);
  }

  Outcome outcome;
  if (code == 429 || http_status == 429) {
    outcome.kind = OutcomeKind::kFlood;
    if (envelope && envelope->retry_after && *envelope->retry_after >= 0) {
      outcome.retry_after = std::chrono::seconds(*envelope->retry_after);
    } else if (retry_after_header) {
      outcome.retry_after = *retry_after_header;
    } else {
      outcome.retry_after = kDefaultRetryAfter;
    }
    outcome.retry_after = std::min(outcome.retry_after, kMaxRetryAfter);
  } else if ((code == 401 || code == 404) && http_status < 500) {
    outcome.kind = OutcomeKind::kAccountFatal;
  } else if (code >= 400 && code < 500 && http_status < 500) {
    outcome = ClassifyClientError(method_class, code, description);
  } else {
    // 5xx; or 1xx, 3xx, a 2xx other than 200: a proxy or front end answered, not the Bot API.
    outcome.kind = OutcomeKind::kTransient;
  }
  outcome.http_status = http_status;
  outcome.error_code = envelope ? envelope->error_code : 0;
  outcome.description = std::move(description);
  return outcome;
}

std::optional<std::chrono::seconds> ParseRetryAfterHeader(std::string_view value) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) {
    value.remove_prefix(1);
  }
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) {
    value.remove_suffix(1);
  }
  if (value.empty() || value.size() > 9) return std::nullopt;
  int64_t seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  return std::chrono::seconds(seconds);
}

}  // namespace tginvite::telegram
