// Classification of one Bot API exchange into an Outcome (telegram-api.md §1.4). Pure functions:
// no I/O, no clock, so every row of the error catalogue is a unit test.
//
// Errors are matched on error_code plus a lower-cased substring of the description, never on a
// whole sentence. What a 4xx means depends on whom the method acts on (MethodClass): "chat not
// found" from a send to a contact is that contact's problem, from createChatInviteLink it is the
// campaign's. The one distinction that protects invariant 1 is RequestSent: a transport failure
// after the request left may have delivered it (kAmbiguous); before, it cannot have (kTransient).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "telegram/messenger.h"

namespace tginvite::telegram {

enum class MethodClass {
  kSendToUser,  // sendMessage to a contact: a 4xx concerns that contact
  kTargetChat,  // createChatInviteLink, revokeChatInviteLink: a 4xx concerns the campaign's chat
  kChatMember,  // getChatMember, approveChatJoinRequest: the campaign's chat, or the user in it
  kAccount,     // getMe, getUpdates: the bot itself
};

// How the exchange ended below HTTP.
enum class Transport {
  kResponse,          // a complete HTTP response arrived
  kNotConnected,      // resolve, connect, proxy or TLS handshake failed, or the connect timed out
  kTimedOut,          // the overall timeout expired
  kConnectionBroken,  // reset, empty reply, send/receive error, truncated response
  kMisconfigured,     // the URL or protocol is unusable (a bad api_base): retrying cannot help
  kOtherError,        // anything else the HTTP client reports
};

// Whether any byte of the request left this process (decides kAmbiguous against kTransient).
enum class RequestSent { kNo, kYes };

// A transport failure; `message` is the HTTP client's own text, already redacted.
Outcome ClassifyTransportFailure(Transport transport, RequestSent sent, std::string_view message);

// A complete HTTP response. `retry_after_header` is the parsed Retry-After header, if any; a 429
// waits parameters.retry_after, else the header, else 5 s, and never more than kMaxRetryAfter.
Outcome ClassifyResponse(MethodClass method_class, int http_status, std::string_view body,
                         std::optional<std::chrono::seconds> retry_after_header);

// Parses a Retry-After header value given in seconds ("7"); HTTP dates are not used by Telegram
// and yield nullopt, as does anything else unparseable.
std::optional<std::chrono::seconds> ParseRetryAfterHeader(std::string_view value);

inline constexpr std::chrono::seconds kDefaultRetryAfter{5};
// The longest flood wait taken from an answer: far above any Telegram asks for (hours), and small
// enough that "now + wait" in milliseconds cannot overflow, whatever number a body holds.
inline constexpr std::chrono::seconds kMaxRetryAfter{7 * 24 * 3600};

}  // namespace tginvite::telegram
