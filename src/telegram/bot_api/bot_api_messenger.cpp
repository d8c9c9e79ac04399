#include "telegram/bot_api/bot_api_messenger.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <exception>
#include <map>
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
constexpr long kMaxIdleConnections = 256;  // an exchange's, as many as dispatch.in_flight allows
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

// One request on its way: its handle, the body and URL libcurl reads, and what it has answered.
// Stays where it was made (libcurl keeps pointers into it).
struct Request {
  Request(CURL* handle, MethodClass method) : curl(handle), method_class(method) {}
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  ~Request() { ReleaseHeaders(); }

  // The answer to a transfer that ended with `code`. Redacts `token` out of what it reports.
  internal::Answer Finish(CURLcode code, const core::Secret& token) {
    internal::Answer reply;
    if (curl == nullptr) {
      reply.outcome.kind = OutcomeKind::kTransient;
      reply.outcome.description = "curl_easy_init failed";
      return reply;
    }
    long status = 0;
    long request_size = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &request_size);
    ReleaseHeaders();
    const Transport transport = internal::TransportFromCurl(code);
    if (transport != Transport::kResponse) {
      const RequestSent sent =
          transfer.body_handed_over || request_size > 0 ? RequestSent::kYes : RequestSent::kNo;
      std::string message =
          fmt::format("curl {}: {}", static_cast<int>(code),
                      error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code));
      reply.outcome = ClassifyTransportFailure(transport, sent, Redact(message, token));
      return reply;
    }
    return internal::ReadAnswer(method_class, static_cast<int>(status), transfer.response,
                                transfer.retry_after_header, token);
  }

  void ReleaseHeaders() {
    if (headers == nullptr) return;
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(headers);
    headers = nullptr;
  }

  CURL* const curl;
  const MethodClass method_class;
  std::string body;
  std::string url;
  Transfer transfer;
  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_slist* headers = nullptr;
  SteadyClock::time_point started = SteadyClock::now();
};

// Idle multi handles. A multi handle keeps the connections of the transfers it ran, so an
// exchange that takes one reuses the connections of the exchanges before it. Thread-safe; never
// destroyed (as SharedPool).
class MultiPool {
 public:
  CURLM* Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        CURLM* multi = idle_.back();
        idle_.pop_back();
        return multi;
      }
    }
    CURLM* multi = curl_multi_init();
    // libcurl keeps 4 connections per handle added, counted when one is added: a multi whose
    // requests all ended would keep 4 of the dozens it just used, and reconnect for the rest.
    if (multi != nullptr) curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, kMaxIdleConnections);
    return multi;
  }

  void Release(CURLM* multi) {
    {
      std::lock_guard lock(mu_);
      if (idle_.size() < kMaxIdleHandles) {
        idle_.push_back(multi);
        return;
      }
    }
    curl_multi_cleanup(multi);
  }

 private:
  std::mutex mu_;
  std::vector<CURLM*> idle_;
};

MultiPool& SharedMultis() {
  static MultiPool* const kPool = new MultiPool();
  return *kPool;
}

void LogAnswer(std::string_view method, const internal::Answer& reply) {
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("bot api {}: {} http {} in {} ms{}{}", method, ToString(reply.outcome.kind),
                  reply.outcome.http_status, reply.outcome.latency.count(),
                  reply.outcome.description.empty() ? "" : ": ", reply.outcome.description);
  }
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
      return SendResultOf(
          Call("sendMessage", MethodClass::kSendToUser, SendParams(message), options_.timeout));
    });
  }

  MemberResult GetChatMember(const std::string& chat, int64_t user_id) override {
    return Guarded<MemberResult>([&] {
      MemberResult out;
      Reply reply = Call("getChatMember", MethodClass::kChatMember, MemberParams(chat, user_id),
                         options_.timeout);
      out.outcome = std::move(reply.outcome);
      if (out.outcome.ok()) out.status = internal::ReadMemberStatus(reply.result);
      return out;
    });
  }

  UpdatesResult GetUpdates(int64_t offset, std::chrono::seconds timeout) override {
    return Guarded<UpdatesResult>([&] {
      timeout = std::max(timeout, std::chrono::seconds(0));
      Json params = {
          {"offset", offset}, {"timeout", timeout.count()}, {"allowed_updates", AllowedUpdates()}};
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
      return Call("deleteWebhook", MethodClass::kAccount, Json::object(), options_.timeout).outcome;
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
    LogAnswer(method, reply);
    return reply;
  }

  Reply Perform(std::string_view method, MethodClass method_class, const Json& params,
                std::chrono::milliseconds timeout) {
    PooledHandle handle(SharedPool());
    Request request(handle.get(), method_class);
    if (!Prepare(request, method, params, timeout)) {
      return request.Finish(CURLE_FAILED_INIT, options_.token);
    }
    return request.Finish(curl_easy_perform(request.curl), options_.token);
  }

 public:
  // Sets up `request`'s handle for one POST of `params` to `method`; false when it has none.
  bool Prepare(Request& request, std::string_view method, const Json& params,
               std::chrono::milliseconds timeout) {
    CURL* curl = request.curl;
    if (curl == nullptr) return false;
    request.body = params.dump(-1, ' ', false, Json::error_handler_t::replace);
    request.url = fmt::format("{}/bot{}/{}", base_, options_.token.Reveal(), method);
    curl_easy_reset(curl);
    request.transfer.body = request.body;
    request.headers = curl_slist_append(nullptr, "Content-Type: application/json");
    request.headers = curl_slist_append(request.headers, "Expect:");

    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, request.error_buffer);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "tginvite");
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &request.transfer);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, request.headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteResponse);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &request.transfer);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, ReadHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &request.transfer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_PROXY, options_.proxy.c_str());
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, kTcpKeepIdleSeconds);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, kTcpKeepIntervalSeconds);
    curl_easy_setopt(curl, CURLOPT_PRIVATE, &request);
    return true;
  }

  static Json SendParams(const InvitationMessage& message) {
    Json params = {{"chat_id", message.user_id},
                   {"text", message.text},
                   {"parse_mode", "HTML"},
                   {"link_preview_options", {{"is_disabled", true}}}};
    if (!message.button_text.empty()) {
      Json button = {{"text", message.button_text}, {"url", message.button_url}};
      params["reply_markup"] = {{"inline_keyboard", Json::array({Json::array({button})})}};
    }
    return params;
  }

  static Json MemberParams(const std::string& chat, int64_t user_id) {
    return {{"chat_id", ChatIdJson(chat)}, {"user_id", user_id}};
  }

  static SendResult SendResultOf(Reply reply) {
    SendResult out;
    out.outcome = std::move(reply.outcome);
    if (out.outcome.ok()) out.message_id = internal::ReadMessageId(reply.result);
    return out;
  }

  std::unique_ptr<Exchange> OpenExchange() override;

  const BotApiOptions& options() const { return options_; }

 private:
  BotApiOptions options_;
  std::string base_;
};

// The bot's sendMessage requests in flight on one multi handle, driven by the thread that starts
// them and waits for them.
class BotApiExchange final : public Exchange {
 public:
  explicit BotApiExchange(BotApiMessenger& messenger)
      : messenger_(messenger), multi_(SharedMultis().Acquire()) {}
  BotApiExchange(const BotApiExchange&) = delete;
  BotApiExchange& operator=(const BotApiExchange&) = delete;

  ~BotApiExchange() override {
    for (auto& [curl, running] : running_) curl_multi_remove_handle(multi_, curl);
    running_.clear();  // the handles go back to their pool
    if (multi_ != nullptr) SharedMultis().Release(multi_);
  }

  void StartSend(uint64_t tag, const InvitationMessage& message) override {
    Start(tag, "sendMessage", MethodClass::kSendToUser,
          [&] { return BotApiMessenger::SendParams(message); });
    Drive();  // a send leaves now, at its slot
  }

  void StartGetChatMember(uint64_t tag, const std::string& chat, int64_t user_id) override {
    // A check has no slot: it leaves with the others started before the next Wait, in one pass
    // over the transfers (each pass polls every transfer in flight).
    Start(tag, "getChatMember", MethodClass::kChatMember,
          [&] { return BotApiMessenger::MemberParams(chat, user_id); });
    undriven_ = true;
  }

  std::vector<Answer> Wait(std::chrono::milliseconds timeout) override {
    if (std::exchange(undriven_, false)) Drive();
    if (ended_.empty() && !running_.empty()) {
      // libcurl shortens the wait to its own next timeout (a request's deadline).
      const auto ms = std::clamp<int64_t>(timeout.count(), 0, 60'000);
      int ready = 0;
      curl_multi_poll(multi_, nullptr, 0, static_cast<int>(ms), &ready);
      Drive();
    }
    return std::exchange(ended_, {});
  }

  size_t InFlight() const override { return running_.size() + ended_.size(); }

 private:
  struct Running {
    Running(uint64_t request_tag, std::string_view request_method, MethodClass method_class)
        : tag(request_tag),
          method(request_method),
          handle(SharedPool()),
          request(handle.get(), method_class) {}
    uint64_t tag;
    std::string_view method;  // a literal
    PooledHandle handle;
    Request request;  // after the handle: ends (and lets go of it) first
  };

  template <typename MakeParams>
  void Start(uint64_t tag, std::string_view method, MethodClass method_class, MakeParams&& params) {
    auto running = std::make_unique<Running>(tag, method, method_class);
    Request& request = running->request;
    try {
      if (multi_ == nullptr) return Done(*running, Failed("curl_multi_init failed"));
      if (!messenger_.Prepare(request, method, params(), messenger_.options().timeout)) {
        return Done(*running, request.Finish(CURLE_FAILED_INIT, messenger_.options().token));
      }
      if (CURLMcode added = curl_multi_add_handle(multi_, request.curl); added != CURLM_OK) {
        return Done(*running,
                    Failed(fmt::format("curl_multi_add_handle: {}", curl_multi_strerror(added))));
      }
    } catch (const std::exception& error) {  // before libcurl had it: nothing left
      Reply reply;
      reply.outcome = InternalError(OutcomeKind::kTransient, error);
      return Done(*running, std::move(reply));
    }
    running_.emplace(request.curl, std::move(running));
  }

  static Reply Failed(std::string description) {
    Reply reply;
    reply.outcome.kind = OutcomeKind::kTransient;
    reply.outcome.description = std::move(description);
    return reply;
  }

  void Done(Running& running, Reply reply) {
    reply.outcome.latency = std::chrono::duration_cast<std::chrono::milliseconds>(
        SteadyClock::now() - running.request.started);
    LogAnswer(running.method, reply);
    Answer answer;
    answer.tag = running.tag;
    if (reply.outcome.ok()) {
      if (running.request.method_class == MethodClass::kSendToUser) {
        answer.message_id = internal::ReadMessageId(reply.result);
      } else {
        answer.member_status = internal::ReadMemberStatus(reply.result);
      }
    }
    answer.outcome = std::move(reply.outcome);
    ended_.push_back(std::move(answer));
  }

  // Moves every transfer on, and collects those that ended.
  void Drive() {
    int still_running = 0;
    curl_multi_perform(multi_, &still_running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL* curl = message->easy_handle;
      const CURLcode code = message->data.result;  // `message` is gone once the handle is removed
      curl_multi_remove_handle(multi_, curl);
      auto it = running_.find(curl);
      if (it == running_.end()) continue;
      std::unique_ptr<Running> running = std::move(it->second);
      running_.erase(it);
      Reply reply;
      try {
        reply = running->request.Finish(code, messenger_.options().token);
      } catch (const std::exception& error) {  // it was sent: it may have been delivered
        reply.outcome = InternalError(OutcomeKind::kAmbiguous, error);
      }
      Done(*running, std::move(reply));
    }
  }

  BotApiMessenger& messenger_;
  CURLM* multi_;
  std::map<CURL*, std::unique_ptr<Running>> running_;
  std::vector<Answer> ended_;
  bool undriven_ = false;  // checks started since the last pass over the transfers
};

std::unique_ptr<Exchange> BotApiMessenger::OpenExchange() {
  return std::make_unique<BotApiExchange>(*this);
}

}  // namespace

std::unique_ptr<Messenger> MakeBotApiMessenger(BotApiOptions options) {
  InitCurlOnce();
  return std::make_unique<BotApiMessenger>(std::move(options));
}

}  // namespace tginvite::telegram
