// A test double of the Telegram Bot API (telegram-api.md §6), and the instrument that counts what
// a client did to it: deliveries per recipient, duplicates, rate-limit violations, requests made
// before a 429's retry_after had passed, links created, TCP connections.
//
// It is an HTTP server on 127.0.0.1 at a random port, started by the constructor and stopped by the
// destructor (which also releases hanging requests and drops idle keep-alive connections). It
// routes `POST|GET /bot<token>/<method>` (method names case-insensitive) and takes parameters from
// the query string, form bodies, multipart bodies and JSON bodies. Every answer has HTTP status ==
// error_code and `Content-Type: application/json`, with Telegram's exact envelopes; a wrong token
// gets 401 `Unauthorized`, an unknown method 404 `Not Found: method not found`.
//
// Rate model, per token, for sendMessage (messages are what Telegram limits): a GCRA per account
// (`account_rate`), per recipient chat (`chat_interval`) and per group chat, i.e. a negative chat
// id
// (`group_per_minute`), each letting a message arrive up to `rate_tolerance` ahead of its slot.
// The rate model runs in the order requests are served, on a clock that never goes back: a request
// that arrived before one already served but reached the model after it (its thread was slow to get
// the lock) is measured as arriving with that one, as a server measuring at its door would see it.
// A message over any limit is counted in RateViolations() and answered 429 with
// `retry_after_seconds`, which pauses the token; every request for that token before the pause
// ends (getUpdates excepted) is counted in EarlyRequests() and answered 429 again. A scripted
// kFlood pauses the token the same way without counting a violation.
//
// Updates (AddJoin, AddJoinRequest, AddBlock, AddStart, approvals) are numbered from 1 and visible
// to every token; getUpdates returns those with update_id >= offset (Telegram's meaning) of the
// kinds its allowed_updates asked for (kept between calls; Telegram's default leaves out
// chat_member), answers 409 while a webhook is set (setWebhook needs an https URL), long-polls up to
// `timeout` seconds (capped by `max_long_poll`), and a second getUpdates for the same token ends
// the first with 409 Conflict, as Telegram does.
//
// Thread-safe. Counters may be read while requests are being served.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tginvite::testing {

inline constexpr std::string_view kDoubleToken = "123456:TEST-token-AbCdEfGhIjKlMnOpQrStUvWxYz0123";

struct BotApiDoubleOptions {
  std::vector<std::string> tokens = {std::string(kDoubleToken)};
  double account_rate = 30;                       // messages/s per token; <= 0: unlimited
  std::chrono::milliseconds chat_interval{1000};  // between messages to one chat; 0: unlimited
  int group_per_minute = 20;                      // messages/min to one group; <= 0: unlimited
  std::chrono::milliseconds rate_tolerance{50};   // jitter and bursts a GCRA forgives
  // account_rate as a strict count instead of a GCRA: a message that would make more than
  // account_rate (rounded down) of the token's admitted messages arrive within any one second is
  // a violation, however the others were spaced.
  bool sliding_window = false;
  std::chrono::milliseconds latency{0};           // added before every answer
  int retry_after_seconds = 2;                    // of every 429 the double sends
  std::chrono::seconds max_long_poll{5};          // cap on getUpdates' `timeout`
  int threads = 64;  // server threads; each open keep-alive connection holds one
  // sendMessage to a user (a positive chat id) who has not pressed Start (AddStart) answers 403
  // "bot can't initiate conversation with a user", as Telegram does.
  bool require_start = false;
  size_t max_recorded_requests = 100000;  // Requests() keeps the first ones; counters count all
  // When a request arrived (default: std::chrono::steady_clock::now). Tests of the rate model
  // inject a sequence of times.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

// One request as the double saw it.
struct RecordedRequest {
  std::string http_method;  // "POST", "GET"
  std::string method;       // the canonical name ("sendMessage") when known, else as sent
  std::string path;         // with the token replaced: "/bot<token>/sendMessage"
  std::string content_type;
  nlohmann::json params;  // an object: JSON values as sent, query and form values as strings
  int token_index = -1;   // into BotApiDoubleOptions::tokens; -1 for a wrong token
  int status = 0;  // the HTTP status answered; 0 while pending or when the connection dropped
  std::chrono::steady_clock::time_point arrived;
};

class BotApiDouble {
 public:
  enum class Fault {
    kBlocked,              // 403 Forbidden: bot was blocked by the user
    kDeactivated,          // 403 Forbidden: user is deactivated
    kNotStarted,           // 403 Forbidden: bot can't initiate conversation with a user
    kChatNotFound,         // 400 Bad Request: chat not found
    kServerError500,       // 500 Internal Server Error: restart
    kBadGatewayHtml,       // 502 with an nginx HTML page
    kHang,                 // no answer until the client gives up or the double stops; no effect
    kResetBeforeDelivery,  // the connection is reset without an answer and without any effect
    kDeliverThenReset,     // the request takes effect (delivery, link), then the connection resets
    kFlood,                // 429 with parameters.retry_after and Retry-After; pauses the token
    kFloodHeaderOnly,      // 429 with only the Retry-After header; pauses the token
    kGarbage200,           // the request takes effect, then 200 with a body that is not JSON
    kUnauthorized,         // 401 Unauthorized
    kNotEnoughRights,      // 400 Bad Request: not enough rights to manage chat invite link
    kBotKicked,            // 403 Forbidden: bot was kicked from the supergroup chat
  };

  explicit BotApiDouble(BotApiDoubleOptions options = {});
  ~BotApiDouble();
  BotApiDouble(const BotApiDouble&) = delete;
  BotApiDouble& operator=(const BotApiDouble&) = delete;

  std::string base_url() const;  // "http://127.0.0.1:PORT"
  int port() const;
  const std::string& token() const;  // the first token

  // The next `times` sendMessage calls to `user_id` fail with `fault`.
  void ScriptUser(int64_t user_id, Fault fault, int times = 1);
  // The next `times` calls of `method` (any case) fail with `fault`; checked before ScriptUser.
  void ScriptMethod(const std::string& method, Fault fault, int times = 1);
  // The next `times` calls of `method` get exactly this answer (no effect on the double's state).
  void ScriptMethodReply(const std::string& method, int http_status, std::string body,
                         int times = 1);

  // Updates the client will receive through getUpdates. AddJoin also makes getChatMember answer
  // "member"; AddJoinRequest lets approveChatJoinRequest succeed; AddBlock makes sendMessage to the
  // user answer 403 blocked.
  void AddJoin(int64_t chat_id, int64_t user_id, const std::string& invite_link);
  void AddJoinRequest(int64_t chat_id, int64_t user_id, const std::string& invite_link);
  void AddBlock(int64_t user_id);
  // A private "/start <payload>" (a bare "/start" when payload is empty) from the user, with their
  // @username when not empty; with require_start, sendMessage to the user works from now on.
  void AddStart(int64_t user_id, const std::string& username, const std::string& payload);
  // Every update so far, as getUpdates would return it (to post to a webhook in tests).
  std::vector<nlohmann::json> Updates() const;
  // The first token's webhook (url, secret_token); ("", "") without one.
  std::pair<std::string, std::string> Webhook() const;

  int64_t DeliveriesTo(int64_t chat_id) const;  // sendMessage calls that took effect
  int64_t TotalDeliveries() const;
  int64_t DuplicateDeliveries() const;  // sum over chats of (deliveries - 1) where > 1
  int64_t RateViolations() const;
  // How far the worst violation was over its limit's tolerance (zero without violations).
  std::chrono::microseconds WorstViolation() const;
  int64_t EarlyRequests() const;
  int64_t LinksCreated() const;
  std::map<std::string, int> LinksByName() const;
  int64_t Connections() const;  // distinct client (address, port) pairs seen: TCP connections
  int64_t Approvals() const;
  int64_t Conflicts() const;                            // getUpdates calls ended by 409
  int64_t Hanging() const;                              // requests held by kHang right now
  int64_t RequestCount(std::string_view method) const;  // any case, all requests
  std::vector<RecordedRequest> Requests() const;        // the first max_recorded_requests

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tginvite::testing
