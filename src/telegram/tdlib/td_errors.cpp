#include "telegram/tdlib/td_errors.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <string>

#include "telegram/classify.h"

namespace tginvite::telegram::tdlib {
namespace {

bool Has(std::string_view message, std::string_view name) {
  return message.find(name) != std::string_view::npos;
}

bool HasAny(std::string_view message, std::initializer_list<std::string_view> names) {
  return std::any_of(names.begin(), names.end(),
                     [message](std::string_view name) { return Has(message, name); });
}

// "Too Many Requests: retry after 3600", "FLOOD_WAIT_120": the number of seconds, if any.
std::optional<int64_t> WaitSeconds(std::string_view message) {
  for (std::string_view marker :
       {"retry after ", "FLOOD_WAIT_", "SLOWMODE_WAIT_", "FLOOD_PREMIUM_WAIT_"}) {
    size_t at = message.find(marker);
    if (at == std::string_view::npos) continue;
    std::string_view digits = message.substr(at + marker.size());
    int64_t n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec == std::errc() && end != digits.data()) return n;
  }
  return std::nullopt;
}

Outcome Make(OutcomeKind kind, int code, std::string description) {
  Outcome outcome;
  outcome.kind = kind;
  outcome.error_code = code;
  outcome.description = std::move(description);
  return outcome;
}

}  // namespace

Outcome ClassifyTdError(RequestClass request_class, int code, std::string_view message) {
  const std::string text(message.substr(0, 300));
  std::string shown = text.empty() ? "error " + std::to_string(code) : text;
  if (code == 406) shown = "Telegram refused quietly (406)";  // never shown as TDLib says

  if (code == 429 ||
      HasAny(text, {"FLOOD_WAIT_", "SLOWMODE_WAIT_", "FLOOD_PREMIUM_WAIT_", "Too Many Requests"})) {
    Outcome outcome = Make(OutcomeKind::kFlood, code, shown);
    int64_t seconds = WaitSeconds(text).value_or(kDefaultRetryAfter.count());
    outcome.retry_after =
        std::chrono::seconds(std::clamp<int64_t>(seconds, 1, kMaxRetryAfter.count()));
    return outcome;
  }
  if (HasAny(text,
             {"PEER_FLOOD", "USER_BANNED_IN_CHANNEL", "USER_RESTRICTED", "PHONE_NUMBER_BANNED"})) {
    Outcome outcome = Make(OutcomeKind::kAccountFatal, code,
                           "Telegram limited this account (" + text +
                               "): it may not contact people now; check with @SpamBot, then "
                               "`tginvite account resume`");
    outcome.account_health = core::AccountHealth::kLimited;
    return outcome;
  }
  // The contact's account is gone (before the account checks: the name contains theirs).
  if (HasAny(text, {"INPUT_USER_DEACTIVATED", "USER_DELETED"})) {
    Outcome outcome = Make(OutcomeKind::kPermanent, code, text);
    outcome.reason = PermanentReason::kDeactivated;
    return outcome;
  }
  if (code == 401 ||
      HasAny(text, {"AUTH_KEY_UNREGISTERED", "SESSION_REVOKED", "USER_DEACTIVATED",
                    "AUTH_KEY_DUPLICATED", "SESSION_EXPIRED", "SESSION_PASSWORD_NEEDED"})) {
    Outcome outcome = Make(OutcomeKind::kAccountFatal, code,
                           "the session is no longer valid (" + shown +
                               "): log in again with `tginvite account login`");
    outcome.account_health = core::AccountHealth::kUnauthorized;
    return outcome;
  }
  if (HasAny(text, {"USER_PRIVACY_RESTRICTED", "USER_NOT_MUTUAL_CONTACT"})) {
    Outcome outcome = Make(OutcomeKind::kPermanent, code, text);
    outcome.reason = PermanentReason::kPrivacy;
    return outcome;
  }
  if (HasAny(text, {"USERNAME_NOT_OCCUPIED", "USERNAME_INVALID", "PHONE_NUMBER_INVALID",
                    "PHONE_NOT_OCCUPIED"})) {
    Outcome outcome = Make(OutcomeKind::kPermanent, code, text);
    outcome.reason = PermanentReason::kNotFound;
    return outcome;
  }
  if (HasAny(text, {"USER_IS_BLOCKED", "YOU_BLOCKED_USER", "USER_BLOCKED"})) {
    Outcome outcome = Make(OutcomeKind::kPermanent, code, text);
    outcome.reason = PermanentReason::kBlocked;
    return outcome;
  }
  if (HasAny(text, {"USER_CHANNELS_TOO_MUCH", "USER_KICKED", "USER_ID_INVALID", "USER_BOT",
                    "CHAT_MEMBER_ADD_FAILED", "PEER_ID_INVALID", "USER_INVALID",
                    "PREMIUM_ACCOUNT_REQUIRED"})) {
    Outcome outcome = Make(OutcomeKind::kPermanent, code, text);
    outcome.reason = PermanentReason::kOther;
    return outcome;
  }
  if (HasAny(text, {"CHAT_ADMIN_REQUIRED", "CHAT_WRITE_FORBIDDEN", "CHANNEL_PRIVATE",
                    "CHANNEL_INVALID", "CHAT_INVALID", "CHAT_ID_INVALID", "USERS_TOO_MUCH",
                    "BOTS_TOO_MUCH", "Not enough rights", "Have no write access", "CHAT_FORBIDDEN",
                    "INVITE_HASH_EXPIRED"})) {
    return Make(OutcomeKind::kCampaignFatal, code, shown);
  }
  if (code >= 500 || code == 406 ||
      HasAny(text, {"TIMEOUT", "RPC_CALL_FAIL", "WORKER_BUSY", "INTERDC_", "Request aborted"})) {
    return Make(OutcomeKind::kTransient, code, shown);
  }
  // Anything else: whom it concerns decides.
  switch (request_class) {
    case RequestClass::kContact: {
      if (Has(text, "Chat not found") || Has(text, "User not found")) {
        Outcome outcome = Make(OutcomeKind::kPermanent, code, shown);
        outcome.reason = PermanentReason::kNotFound;
        return outcome;
      }
      Outcome outcome = Make(OutcomeKind::kPermanent, code, shown);
      outcome.reason = PermanentReason::kOther;
      return outcome;
    }
    case RequestClass::kTargetChat:
      return Make(OutcomeKind::kCampaignFatal, code, shown);
    case RequestClass::kAccount:
      return Make(OutcomeKind::kTransient, code, shown);
  }
  return Make(OutcomeKind::kTransient, code, shown);
}

Outcome LostAnswer(std::string_view request) {
  return Make(OutcomeKind::kAmbiguous, 0,
              "no answer to " + std::string(request) + " in time: it may have been carried out");
}

}  // namespace tginvite::telegram::tdlib
