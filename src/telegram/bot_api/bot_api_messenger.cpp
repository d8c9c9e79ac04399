#include "telegram/bot_api/bot_api_messenger.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <exception>
#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

#include <curl/curl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "telegram/bot_api/internal/answers.h"
#include "telegram/bot_api/internal/curl_transport.h"
#include "telegram/classify.h"
#include "telegram/redact.h"

namespace tginvite::telegram {
namespace {

using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t kMaxIdleHandles = 128;
constexpr size_t kMaxResponseBytes = size_t{16} << 20;
constexpr long kTcpKeepIdleSeconds = 30;
constexpr long kTcpKeepIntervalSeconds = 15;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Idle libcurl easy handles. A handle keeps its connections between transfers, so reusing one
// reuses its connection (keep-alive). Thread-safe.
class HandlePool {
 public:
  HandlePool() = default;
  HandlePool(const HandlePool&) = delete;
  HandlePool& operator=(const HandlePool&) = delete;
  ~HandlePool() {
    for (CURL* handle : idle_) curl_easy_cleanup(handle);
  }

  // The most recently released handle (its connection is the warmest), or a new one; nullptr only
  // when libcurl cannot allocate.
  CURL* Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        CURL* handle = idle_.back();
        idle_.pop_back();
        return handle;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* handle) {
    {
      std::lock_guard lock(mu_);
      if (idle_.size() < kMaxIdleHandles) {
        idle_.push_back(handle);
        return;
      }
    }
    curl_easy_cleanup(handle);
  }

 private:
  std::mutex mu_;
  std::vector<CURL*> idle_;
};

// The idle handles of every messenger in the process. Every bot talks to the same Bot API server,
// so a connection that one account's request opened serves the next request of any account: the
// process keeps open about as many connections as it has requests in flight at its busiest. (A
// pool per account kept each account's own busiest count open: 10 accounts with 4 requests in
// flight held 40 mostly idle connections per worker, each one a socket the server keeps awake.)
// Never destroyed: a messenger may still be in use while static objects are destroyed at exit.
HandlePool& SharedPool() {
  static HandlePool* const kPool = new HandlePool();
  return *kPool;
}

// Returns its handle to the pool on scope exit.
class PooledHandle {
 public:
  explicit PooledHandle(HandlePool& pool) : pool_(pool), handle_(pool.Acquire()) {}
  PooledHandle(const PooledHandle&) = delete;
  PooledHandle& operator=(const PooledHandle&) = delete;
  ~PooledHandle() {
    if (handle_ != nullptr) pool_.Release(handle_);
  }
  CURL* get() const { return handle_; }

 private:
  HandlePool& pool_;
  CURL* handle_;
};

// One transfer's state, shared with libcurl's callbacks.
struct Transfer {
  std::string_view body;
  size_t body_offset = 0;
  bool body_handed_over = false;  // libcurl took request bytes: from here on it may be delivered
  std::string response;
  std::optional<std::chrono::seconds> retry_after_header;
};

// The body goes through a read callback without a seek callback on purpose: libcurl then cannot
// rewind it, so it cannot silently resend the request on a fresh connection after a reused one
// died (it fails with CURLE_SEND_FAIL_REWIND instead). At most one delivery per call.
size_t ReadBody(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t n = std::min(size * count, transfer->body.size() - transfer->body_offset);
  std::memcpy(buffer, transfer->body.data() + transfer->body_offset, n);
  transfer->body_offset += n;
  if (n > 0) transfer->body_handed_over = true;
  return n;
}

size_t WriteResponse(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (transfer->response.size() + n > kMaxResponseBytes) return 0;  // CURLE_WRITE_ERROR
  transfer->response.append(data, n);
  return n;
}

size_t ReadHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t n = size * count;
  constexpr std::string_view kName = "retry-after:";
  std::string_view line(data, n);
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    }
    if (match) transfer->retry_after_header = ParseRetryAfterHeader(line.substr(kName.size()));
  }
  return n;
}

// "-1001234567890" goes out as a number, "@channel" as a string.
Json ChatIdJson(const std::string& chat) {
  int64_t id = 0;
  auto [end, error] = std::from_chars(chat.data(), chat.data() + chat.size(), id);
  if (error == std::errc() && end == chat.data() + chat.size() && !chat.empty()) return id;
  return chat;
}

using Reply = internal::Answer;  // a classified answer and, when it is ok, its result

Outcome InternalError(OutcomeKind kind, const std::exception& error) {
  Outcome outcome;
  outcome.kind = kind;
  outcome.description = fmt::format("internal error: {}", error.what());
  return outcome;
}

// The updates tginvite asks Telegram for, by getUpdates or a webhook: /start messages, joins, join
// requests and blocks.
Json AllowedUpdates() {
  return Json::array({"message", "chat_member", "chat_join_request", "my_chat_member"});
}

class BotApiMessenger final : public Messenger {
 public:
  explicit BotApiMessenger(BotApiOptions options) : options_(std::move(options)) {
    base_ = options_.api_base;
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
  }

  bool IsRehearsal() const override { return false; }

  BotIdentityResult GetMe() override {
    return Guarded<BotIdentityResult>([&] {
      BotIdentityResult out;
      Reply reply = Call("getMe", MethodClass::kAccount, Json::object(), options_.timeout);
      out.outcome = std::move(reply.outcome);
      if (!out.outcome.ok()) return out;
      out.bot = internal::ReadBotIdentity(reply.result);
      return out;
    });
  }

  InviteLinkResult CreateInviteLink(const InviteLinkRequest& request) override {
    return Guarded<InviteLinkResult>([&] {
      Json params = {{"chat_id", ChatIdJson(request.chat)}};
      if (!request.name.empty()) params["name"] = request.name;
      if (request.expire_date) params["expire_date"] = *request.expire_date;
      if (request.approval == InviteLinkRequest::Approval::kJoinRequest) {
        params["creates_join_request"] = true;
      } else if (request.member_limit > 0) {
        params["member_limit"] = request.member_limit;
      }
      InviteLinkResult out;
      Reply reply =
          Call("createChatInviteLink", MethodClass::kTargetChat, params, options_.timeout);
      out.outcome = std::move(reply.outcome);
      if (!out.outcome.ok()) return out;
      out.invite_link = internal::ReadInviteLink(reply.result);
      if (out.invite_link.empty()) {
        out.outcome.kind = OutcomeKind::kAmbiguous;
        out.outcome.description = "createChatInviteLink: the result has no invite_link";
      }
      return out;
    });
  }

  Outcome RevokeInviteLink(const std::string& chat, const std::string& invite_link) override {
    return Guarded<Outcome>([&] {
      Json params = {{"chat_id", ChatIdJson(chat)}, {"invite_link", invite_link}};
      return Call("revokeChatInviteLink", MethodClass::kTargetChat, params, options_.timeout)
          .outcome;
    });
  }

  SendResult SendInvitation(const InvitationMessage& message) override {
    return Guarded<SendResult>([&] {
      Json params = {{"chat_id", message.user_id},
                     {"text", message.text},
                     {"parse_mode", "HTML"},
                     {"link_preview_options", {{"is_disabled", true}}}};
      if (!message.button_text.empty()) {
        Json button = {{"text", message.button_text}, {"url", message.button_url}};
        params["reply_markup"] = {{"inline_keyboard", Json::array({Json::array({button})})}};
      }
      SendResult out;
      Reply reply = Call("sendMessage", MethodClass::kSendToUser, params, options_.timeout);
      out.outcome = std::move(reply.outcome);
      if (out.outcome.ok()) out.message_id = internal::ReadMessageId(reply.result);
      return out;
    });
  }

  MemberResult GetChatMember(const std::string& chat, int64_t user_id) override {
    return Guarded<MemberResult>([&] {
      Json params = {{"chat_id", ChatIdJson(chat)}, {"user_id", user_id}};
      MemberResult out;
      Reply reply = Call("getChatMember", MethodClass::kChatMember, params, options_.timeout);
      out.outcome = std::move(reply.outcome);
      if (out.outcome.ok()) out.status = internal::ReadMemberStatus(reply.result);
      return out;
    });
  }

  UpdatesResult GetUpdates(int64_t offset, std::chrono::seconds timeout) override {
    return Guarded<UpdatesResult>([&] {
      timeout = std::max(timeout, std::chrono::seconds(0));
      Json params = {{"offset", offset},
                     {"timeout", timeout.count()},
                     {"allowed_updates", AllowedUpdates()}};
      UpdatesResult out;
      Reply reply = Call("getUpdates", MethodClass::kAccount, params, options_.timeout + timeout);
      out.outcome = std::move(reply.outcome);
      if (!out.outcome.ok()) return out;
      std::optional<std::vector<Update>> updates = internal::ReadUpdates(reply.result);
      if (!updates) {
        out.outcome.kind = OutcomeKind::kAmbiguous;
        out.outcome.description = "getUpdates: the result is not an array";
        return out;
      }
      out.updates = std::move(*updates);
      return out;
    });
  }

  Outcome ApproveJoinRequest(const std::string& chat, int64_t user_id) override {
    return Guarded<Outcome>([&] {
      Json params = {{"chat_id", ChatIdJson(chat)}, {"user_id", user_id}};
      return Call("approveChatJoinRequest", MethodClass::kChatMember, params, options_.timeout)
          .outcome;
    });
  }

  Outcome SetWebhook(const WebhookRequest& request) override {
    return Guarded<Outcome>([&] {
      Json params = {{"url", request.url},
                     {"secret_token", request.secret_token},
                     {"allowed_updates", AllowedUpdates()}};
      return Call("setWebhook", MethodClass::kAccount, params, options_.timeout).outcome;
    });
  }

  Outcome DeleteWebhook() override {
    return Guarded<Outcome>([&] {
      return Call("deleteWebhook", MethodClass::kAccount, Json::object(), options_.timeout)
          .outcome;
    });
  }

 private:
  // Runs `body`; an exception (only std::bad_alloc is possible) becomes kAmbiguous, since the
  // request may have gone out before it was thrown.
  template <typename R, typename Body>
  R Guarded(Body&& body) {
    try {
      return body();
    } catch (const std::exception& error) {
      Outcome outcome = InternalError(OutcomeKind::kAmbiguous, error);
      if constexpr (std::is_same_v<R, Outcome>) {
        return outcome;
      } else {
        R result;
        result.outcome = std::move(outcome);
        return result;
      }
    }
  }

  Reply Call(std::string_view method, MethodClass method_class, const Json& params,
             std::chrono::milliseconds timeout) {
    const auto start = SteadyClock::now();
    Reply reply;
    try {
      reply = Perform(method, method_class, params, timeout);
    } catch (const std::exception& error) {
      reply.outcome = InternalError(OutcomeKind::kTransient, error);
    }
    reply.outcome.latency =
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
    if (spdlog::should_log(spdlog::level::debug)) {
      spdlog::debug("bot api {}: {} http {} in {} ms{}{}", method, ToString(reply.outcome.kind),
                    reply.outcome.http_status, reply.outcome.latency.count(),
                    reply.outcome.description.empty() ? "" : ": ", reply.outcome.description);
    }
    return reply;
  }

  Reply Perform(std::string_view method, MethodClass method_class, const Json& params,
                std::chrono::milliseconds timeout) {
    Reply reply;
    const std::string body = params.dump(-1, ' ', false, Json::error_handler_t::replace);
    const std::string url = fmt::format("{}/bot{}/{}", base_, options_.token.Reveal(), method);

    PooledHandle handle(SharedPool());
    CURL* curl = handle.get();
    if (curl == nullptr) {
      reply.outcome.kind = OutcomeKind::kTransient;
      reply.outcome.description = "curl_easy_init failed";
      return reply;
    }
    curl_easy_reset(curl);

    Transfer transfer;
    transfer.body = body;
    char error_buffer[CURL_ERROR_SIZE] = {};
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");

    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "tginvite");
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteResponse);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, ReadHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_PROXY, options_.proxy.c_str());
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, kTcpKeepIdleSeconds);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, kTcpKeepIntervalSeconds);

    const CURLcode code = curl_easy_perform(curl);

    long status = 0;
    long request_size = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &request_size);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(headers);

    const Transport transport = internal::TransportFromCurl(code);
    if (transport != Transport::kResponse) {
      const RequestSent sent =
          transfer.body_handed_over || request_size > 0 ? RequestSent::kYes : RequestSent::kNo;
      std::string message =
          fmt::format("curl {}: {}", static_cast<int>(code),
                      error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code));
      reply.outcome = ClassifyTransportFailure(transport, sent, Redact(message, options_.token));
      return reply;
    }
    return internal::ReadAnswer(method_class, static_cast<int>(status), transfer.response,
                                transfer.retry_after_header, options_.token);
  }

  BotApiOptions options_;
  std::string base_;
};

}  // namespace

std::unique_ptr<Messenger> MakeBotApiMessenger(BotApiOptions options) {
  InitCurlOnce();
  return std::make_unique<BotApiMessenger>(std::move(options));
}

}  // namespace tginvite::telegram
