#include "telegram/tdlib/tdlib_messenger.h"

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <utility>

#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "core/message_template.h"
#include "telegram/tdlib/json_fields.h"
#include "telegram/tdlib/td_answers.h"
#include "telegram/tdlib/td_client.h"
#include "telegram/tdlib/td_errors.h"

namespace tginvite::telegram::tdlib {
namespace {

using Clock = std::chrono::steady_clock;

// Joins kept for GetUpdates at most (the oldest are dropped beyond it).
constexpr size_t kMaxPendingJoins = 10'000;
// After a failed start (not logged in, the database refused), the next one waits this long: the
// poller asks every round, and a TDLib client opens the session's database each time.
constexpr std::chrono::seconds kRestartAfter{5};

Outcome AccountProblem(std::string description) {
  Outcome outcome;
  outcome.kind = OutcomeKind::kAccountFatal;
  outcome.account_health = core::AccountHealth::kUnauthorized;
  outcome.description = std::move(description);
  return outcome;
}

Outcome Permanent(PermanentReason reason, std::string description) {
  Outcome outcome;
  outcome.kind = OutcomeKind::kPermanent;
  outcome.reason = reason;
  outcome.description = std::move(description);
  return outcome;
}

class TdlibMessenger final : public Messenger {
 public:
  TdlibMessenger(std::shared_ptr<TdJson> td, TdlibAccount account)
      : td_(std::move(td)), account_(std::move(account)) {}

  ~TdlibMessenger() override {
    std::shared_ptr<TdClient> client;
    {
      std::lock_guard lock(mu_);
      client = std::move(client_);
    }
    client.reset();  // closes it (bounded)
  }

  bool IsRehearsal() const override { return false; }
  bool HostedHere() const override {
    std::error_code ec;
    return std::filesystem::is_directory(account_.database_directory, ec);
  }

  BotIdentityResult GetMe() override {
    Answer me = Ask({{"@type", "getMe"}}, RequestClass::kAccount, "getMe");
    BotIdentityResult result{me.outcome, {}};
    if (!me.outcome.ok()) return result;
    result.bot.id = IntField(me.body, "id").value_or(0);
    result.bot.first_name = StringField(me.body, "first_name");
    result.bot.username = UsernameOf(me.body);
    return result;
  }

  InviteLinkResult CreateInviteLink(const InviteLinkRequest& request) override {
    ChatId chat = ResolveChat(request.chat);
    if (!chat.outcome.ok()) return {chat.outcome, ""};
    const bool approval = request.approval == InviteLinkRequest::Approval::kJoinRequest;
    Answer link = Ask({{"@type", "createChatInviteLink"},
                       {"chat_id", chat.id},
                       {"name", request.name},
                       {"expiration_date", request.expire_date.value_or(0)},
                       {"member_limit", approval ? 0 : request.member_limit},
                       {"creates_join_request", approval}},
                      RequestClass::kTargetChat, "createChatInviteLink");
    if (!link.outcome.ok()) return {link.outcome, ""};
    std::string invite_link = StringField(link.body, "invite_link");
    if (invite_link.empty()) {
      return {LostAnswer("createChatInviteLink (an answer without a link)"), ""};
    }
    return {link.outcome, invite_link};
  }

  Outcome RevokeInviteLink(const std::string& chat, const std::string& invite_link) override {
    ChatId id = ResolveChat(chat);
    if (!id.outcome.ok()) return id.outcome;
    return Ask({{"@type", "revokeChatInviteLink"},
                {"chat_id", id.id},
                {"invite_link", invite_link}},
               RequestClass::kTargetChat, "revokeChatInviteLink")
        .outcome;
  }

  SendResult SendInvitation(const InvitationMessage& message) override;

  MemberResult GetChatMember(const std::string& chat, int64_t user_id) override {
    ChatId id = ResolveChat(chat);
    if (!id.outcome.ok()) return {id.outcome, ""};
    Answer member = Ask({{"@type", "getChatMember"},
                         {"chat_id", id.id},
                         {"member_id", {{"@type", "messageSenderUser"}, {"user_id", user_id}}}},
                        RequestClass::kContact, "getChatMember");
    if (!member.outcome.ok()) return {member.outcome, ""};
    return {member.outcome, MemberStatusOf(Field(member.body, "status"))};
  }

  UpdatesResult GetUpdates(int64_t /*offset*/, std::chrono::seconds timeout) override {
    // Joins arrive as the client's updates whether or not anyone asks: this hands them out.
    Outcome started = Start();
    if (!started.ok()) return {started, {}};
    std::unique_lock lock(joins_mu_);
    joins_cv_.wait_for(lock, timeout, [this] { return !joins_.empty(); });
    UpdatesResult result;
    result.updates.assign(joins_.begin(), joins_.end());
    joins_.clear();
    return result;
  }

  Outcome ApproveJoinRequest(const std::string& chat, int64_t user_id) override {
    ChatId id = ResolveChat(chat);
    if (!id.outcome.ok()) return id.outcome;
    return Ask({{"@type", "processChatJoinRequest"},
                {"chat_id", id.id},
                {"user_id", user_id},
                {"approve", true}},
               RequestClass::kContact, "processChatJoinRequest")
        .outcome;
  }

  Outcome SetWebhook(const WebhookRequest& /*request*/) override {
    return Permanent(PermanentReason::kOther,
                     "a user account has no webhook: TDLib keeps it up to date");
  }
  Outcome DeleteWebhook() override { return Outcome{}; }

  LookupResult FindUser(const ContactLookup& contact) override;
  AddMemberResult AddChatMember(const std::string& chat, int64_t user_id) override;

 private:
  struct Answer {
    Outcome outcome;
    Json body;
  };
  struct ChatId {
    Outcome outcome;
    int64_t id = 0;
  };
  struct SendKey {
    int64_t chat_id;
    int64_t message_id;
    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 sees the 0 of the synthesized compare
    auto operator<=>(const SendKey&) const = default;
  };

  // Starts the client and waits until it is logged in: ok, or kAccountFatal saying why not.
  Outcome Start();
  void OnUpdate(const Json& update);
  void OnAuthorizationState(const Json& state);
  void SendParameters();
  void OnNewMessage(const Json& message);
  Answer Ask(Json request, RequestClass request_class, std::string_view name);
  ChatId ResolveChat(const std::string& chat);

  std::shared_ptr<TdJson> td_;
  const TdlibAccount account_;

  std::mutex start_mu_;  // held while starting, so that one thread starts the client
  std::mutex mu_;
  std::condition_variable state_cv_;
  std::shared_ptr<TdClient> client_;  // under mu_
  std::string state_;                 // the last authorization state's @type, under mu_
  std::string problem_;               // why the client cannot be used, under mu_
  size_t key_index_ = 0;              // which database key setTdlibParameters tried last
  std::string last_problem_;          // why the last start failed, under mu_
  Clock::time_point retry_start_at_{};  // no new start before, under mu_

  std::mutex chats_mu_;
  std::map<std::string, int64_t> chats_;  // campaign chat text → TDLib chat id

  std::mutex sends_mu_;
  std::condition_variable sends_cv_;
  std::map<SendKey, Json> finished_sends_;  // final send states by (chat, temporary message id)

  std::mutex joins_mu_;
  std::condition_variable joins_cv_;
  std::deque<Update> joins_;
};

Outcome TdlibMessenger::Start() {
  std::lock_guard start(start_mu_);
  std::unique_lock lock(mu_);
  if (client_ && state_ == "authorizationStateReady") return Outcome{};
  if (!client_ && Clock::now() < retry_start_at_) {
    // The last start failed (not logged in, say): the session is not reopened on every request.
    return AccountProblem(last_problem_);
  }
  if (!client_) {
    state_.clear();
    problem_.clear();
    key_index_ = 0;
    // Under mu_: the client's first update (which needs client_) waits until it is set.
    client_ = TdClient::Create(td_, [this](const Json& update) { OnUpdate(update); });
  }
  const bool settled = state_cv_.wait_for(lock, account_.timeout, [this] {
    return state_ == "authorizationStateReady" || !problem_.empty();
  });
  if (state_ == "authorizationStateReady") return Outcome{};
  std::string why = !problem_.empty() ? problem_
                    : settled         ? "the session did not start"
                                      : "TDLib did not start the session in time";
  std::shared_ptr<TdClient> failed = std::move(client_);  // a later request starts afresh
  last_problem_ = why;
  retry_start_at_ = Clock::now() + kRestartAfter;
  lock.unlock();
  failed.reset();
  return AccountProblem(why);
}

void TdlibMessenger::OnUpdate(const Json& update) {
  const std::string type = TypeOf(update);
  if (type == "updateAuthorizationState") {
    OnAuthorizationState(Field(update, "authorization_state"));
  } else if (type == "error") {
    // An answer to setTdlibParameters (sent without waiting): the database key was refused, so
    // the keyring's older keys are tried (a database from before `secrets rotate`).
    {
      std::lock_guard lock(mu_);
      if (state_ != "authorizationStateWaitTdlibParameters") return;
      if (++key_index_ > account_.old_database_keys.size()) {
        problem_ = "TDLib cannot open the session of account " + account_.name + ": " +
                   StringField(update, "message");
        state_cv_.notify_all();
        return;
      }
    }
    SendParameters();
  } else if (type == "updateMessageSendSucceeded" || type == "updateMessageSendFailed") {
    const Json& message = Field(update, "message");
    SendKey key{IntField(message, "chat_id").value_or(0),
                IntField(update, "old_message_id").value_or(0)};
    std::lock_guard lock(sends_mu_);
    if (finished_sends_.size() > 10'000) finished_sends_.erase(finished_sends_.begin());
    finished_sends_[key] = update;
    sends_cv_.notify_all();
  } else if (type == "updateNewMessage") {
    OnNewMessage(Field(update, "message"));
  }
}

void TdlibMessenger::OnAuthorizationState(const Json& state) {
  const std::string type = TypeOf(state);
  std::unique_lock lock(mu_);
  state_ = type;
  if (type == "authorizationStateWaitTdlibParameters") {
    lock.unlock();
    SendParameters();
    return;
  }
  if (type == "authorizationStateWaitPhoneNumber" || type == "authorizationStateWaitCode" ||
      type == "authorizationStateWaitPassword" || type == "authorizationStateWaitRegistration" ||
      type == "authorizationStateWaitEmailAddress" || type == "authorizationStateWaitEmailCode" ||
      type == "authorizationStateWaitOtherDeviceConfirmation") {
    problem_ = "account " + account_.name + " is not logged in: run `tginvite account login " +
               account_.name + "`";
  } else if (type == "authorizationStateLoggingOut" || type == "authorizationStateClosing" ||
             type == "authorizationStateClosed") {
    if (problem_.empty()) {
      problem_ = "the session of account " + account_.name +
                 " ended (logged out, or ended from another device): run `tginvite account login " +
                 account_.name + "`";
    }
  } else if (type == "authorizationStateReady" && key_index_ > 0) {
    // Opened with an older key: the database moves to the current one.
    std::shared_ptr<TdClient> client = client_;
    lock.unlock();
    if (client) {
      client->Send({{"@type", "setDatabaseEncryptionKey"},
                    {"new_encryption_key", Base64(account_.database_key.Reveal())}});
    }
    lock.lock();
  }
  state_cv_.notify_all();
}

void TdlibMessenger::SendParameters() {
  std::shared_ptr<TdClient> client;
  const core::Secret* key = &account_.database_key;
  {
    std::lock_guard lock(mu_);
    client = client_;
    if (key_index_ > 0 && key_index_ <= account_.old_database_keys.size()) {
      key = &account_.old_database_keys[key_index_ - 1];
    }
  }
  if (client) client->Send(ParametersRequest(account_, *key));
}

void TdlibMessenger::OnNewMessage(const Json& message) {
  std::vector<Update> joins = JoinsOf(message);
  if (joins.empty()) return;
  std::lock_guard lock(joins_mu_);
  for (Update& join : joins) {
    if (joins_.size() >= kMaxPendingJoins) joins_.pop_front();
    joins_.push_back(std::move(join));
  }
  joins_cv_.notify_all();
}

TdlibMessenger::Answer TdlibMessenger::Ask(Json request, RequestClass request_class,
                                           std::string_view name) {
  Outcome started = Start();
  if (!started.ok()) return {started, {}};
  std::shared_ptr<TdClient> client;
  {
    std::lock_guard lock(mu_);
    client = client_;
  }
  if (!client) return {AccountProblem("the session of account " + account_.name + " ended"), {}};
  const auto began = Clock::now();
  std::optional<Json> answer = client->Call(std::move(request), account_.timeout);
  Answer result;
  if (!answer) {
    result.outcome = LostAnswer(name);
  } else if (TdError error = ErrorOf(*answer); error.code != 0) {
    result.outcome = ClassifyTdError(request_class, error.code, error.message);
    // A request aborted because the session is closing says so: the session's end is the news.
    std::lock_guard lock(mu_);
    if (error.code == 500 && !problem_.empty()) result.outcome = AccountProblem(problem_);
  } else {
    result.body = std::move(*answer);
  }
  result.outcome.latency =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began);
  return result;
}

TdlibMessenger::ChatId TdlibMessenger::ResolveChat(const std::string& chat) {
  {
    std::lock_guard lock(chats_mu_);
    if (auto it = chats_.find(chat); it != chats_.end()) return {Outcome{}, it->second};
  }
  int64_t id = 0;
  if (!chat.empty() && chat[0] == '@') {
    Answer found = Ask({{"@type", "searchPublicChat"}, {"username", chat.substr(1)}},
                       RequestClass::kTargetChat, "searchPublicChat");
    if (!found.outcome.ok()) return {found.outcome, 0};
    id = IntField(found.body, "id").value_or(0);
  } else {
    try {
      id = std::stoll(chat);
    } catch (const std::exception&) {
      Outcome bad;
      bad.kind = OutcomeKind::kCampaignFatal;
      bad.description = "the campaign's chat is neither an id nor an @username";
      return {bad, 0};
    }
    // A fresh session knows no chats yet: getChat needs the chat in TDLib's list.
    Answer known =
        Ask({{"@type", "getChat"}, {"chat_id", id}}, RequestClass::kTargetChat, "getChat");
    if (!known.outcome.ok()) {
      Ask({{"@type", "loadChats"}, {"limit", 200}}, RequestClass::kAccount, "loadChats");
      known = Ask({{"@type", "getChat"}, {"chat_id", id}}, RequestClass::kTargetChat, "getChat");
      if (!known.outcome.ok()) return {known.outcome, 0};
    }
  }
  std::lock_guard lock(chats_mu_);
  chats_[chat] = id;
  return {Outcome{}, id};
}

SendResult TdlibMessenger::SendInvitation(const InvitationMessage& message) {
  std::string html = message.text;
  if (!message.button_url.empty()) html += "\n\n" + core::EscapeHtml(message.button_url);
  Outcome started = Start();
  if (!started.ok()) return {started, 0};
  std::shared_ptr<TdClient> client;
  {
    std::lock_guard lock(mu_);
    client = client_;
  }
  if (!client) return {AccountProblem("the session of account " + account_.name + " ended"), 0};
  Json text = client->Execute({{"@type", "parseTextEntities"},
                               {"text", html},
                               {"parse_mode", {{"@type", "textParseModeHTML"}}}});
  if (TdError error = ErrorOf(text); error.code != 0) {
    Outcome bad;
    bad.kind = OutcomeKind::kCampaignFatal;
    bad.description = "the message's HTML cannot be sent: " + error.message;
    return {bad, 0};
  }
  Answer chat =
      Ask({{"@type", "createPrivateChat"}, {"user_id", message.user_id}, {"force", false}},
          RequestClass::kContact, "createPrivateChat");
  if (!chat.outcome.ok()) return {chat.outcome, 0};
  const int64_t chat_id = IntField(chat.body, "id").value_or(message.user_id);
  const auto began = Clock::now();
  Answer pending = Ask({{"@type", "sendMessage"},
                        {"chat_id", chat_id},
                        {"input_message_content",
                         {{"@type", "inputMessageText"}, {"text", text}, {"clear_draft", false}}}},
                       RequestClass::kContact, "sendMessage");
  if (!pending.outcome.ok()) return {pending.outcome, 0};
  const SendKey key{chat_id, IntField(pending.body, "id").value_or(0)};
  Json final_state;
  {
    std::unique_lock lock(sends_mu_);
    sends_cv_.wait_until(lock, began + account_.timeout,
                         [&] { return finished_sends_.count(key) > 0; });
    auto it = finished_sends_.find(key);
    if (it == finished_sends_.end()) return {LostAnswer("sendMessage"), 0};
    final_state = std::move(it->second);
    finished_sends_.erase(it);
  }
  SendResult result;
  result.outcome.latency =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began);
  if (TypeOf(final_state) == "updateMessageSendSucceeded") {
    result.message_id = IntField(Field(final_state, "message"), "id").value_or(0);
    return result;
  }
  const Json& error = Field(final_state, "error");
  int code = static_cast<int>(IntField(error, "code").value_or(0));
  std::string text_of_error = StringField(error, "message");
  if (code == 0) {  // before TDLib 1.8.x's error object: error_code and error_message
    code = static_cast<int>(IntField(final_state, "error_code").value_or(400));
    text_of_error = StringField(final_state, "error_message");
  }
  result.outcome = ClassifyTdError(RequestClass::kContact, code, text_of_error);
  return result;
}

LookupResult TdlibMessenger::FindUser(const ContactLookup& contact) {
  if (!contact.username.empty()) {
    Answer found = Ask({{"@type", "searchPublicChat"}, {"username", contact.username}},
                       RequestClass::kContact, "searchPublicChat");
    if (!found.outcome.ok()) return {found.outcome, 0};
    const Json& type = Field(found.body, "type");
    if (TypeOf(type) != "chatTypePrivate") {
      return {Permanent(PermanentReason::kNotFound,
                        "@" + contact.username + " is a group or channel, not a person"),
              0};
    }
    return {found.outcome, IntField(type, "user_id").value_or(0)};
  }
  if (contact.phone.empty()) {
    return {Permanent(PermanentReason::kNotFound, "no @username or phone number to look up"), 0};
  }
  const std::string first = contact.first_name.empty() ? contact.phone : contact.first_name;
  Answer imported =
      Ask({{"@type", "importContacts"},
           {"contacts", Json::array({{{"@type", "importedContact"},
                                      {"phone_number", contact.phone},
                                      {"first_name", first.substr(0, 64)},
                                      {"last_name", contact.last_name.substr(0, 64)}}})}},
          RequestClass::kContact, "importContacts");
  if (!imported.outcome.ok()) return {imported.outcome, 0};
  const Json& ids = Field(imported.body, "user_ids");
  int64_t user_id = 0;
  if (ids.is_array() && !ids.empty()) {
    Json first_id = Json{{"id", ids[0]}};
    user_id = IntField(first_id, "id").value_or(0);
  }
  if (user_id == 0) {
    return {Permanent(PermanentReason::kNotFound,
                      "the phone number is not on Telegram, or its owner hides it"),
            0};
  }
  return {imported.outcome, user_id};
}

AddMemberResult TdlibMessenger::AddChatMember(const std::string& chat, int64_t user_id) {
  ChatId id = ResolveChat(chat);
  if (!id.outcome.ok()) return {id.outcome, false};
  Answer added =
      Ask({{"@type", "addChatMembers"}, {"chat_id", id.id}, {"user_ids", Json::array({user_id})}},
          RequestClass::kContact, "addChatMembers");
  if (added.outcome.kind == OutcomeKind::kPermanent &&
      added.outcome.description.find("supergroup") != std::string::npos) {
    // A basic group: addChatMembers is for supergroups and channels.
    added = Ask({{"@type", "addChatMember"},
                 {"chat_id", id.id},
                 {"user_id", user_id},
                 {"forward_limit", 0}},
                RequestClass::kContact, "addChatMember");
  }
  if (!added.outcome.ok()) {
    if (added.outcome.description.find("USER_ALREADY_PARTICIPANT") != std::string::npos) {
      return {Outcome{}, true};
    }
    return {added.outcome, false};
  }
  const Json& failed = Field(added.body, "failed_to_add_members");
  if (failed.is_array()) {
    for (const Json& entry : failed) {
      if (IntField(entry, "user_id").value_or(0) == user_id) {
        Outcome refused =
            Permanent(PermanentReason::kPrivacy, "their privacy settings do not allow adding them");
        refused.latency = added.outcome.latency;
        return {refused, false};
      }
    }
  }
  return {added.outcome, false};
}

}  // namespace

std::string Base64(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

Json ParametersRequest(const TdlibAccount& account, const core::Secret& database_key) {
  return {{"@type", "setTdlibParameters"},
          {"use_test_dc", false},
          {"database_directory", account.database_directory},
          {"files_directory", account.database_directory + "/files"},
          {"database_encryption_key", Base64(database_key.Reveal())},
          {"use_file_database", false},
          {"use_chat_info_database", true},
          {"use_message_database", false},
          {"use_secret_chats", false},
          {"api_id", account.credentials.api_id},
          {"api_hash", account.credentials.api_hash},
          {"system_language_code", "en"},
          {"device_model", "tginvite"},
          {"system_version", "Linux"},
          {"application_version", account.application_version}};
}

core::Secret DatabaseKeyFor(const core::SecretKey& key, std::string_view account) {
  return key.Derive("tdlib database " + std::string(account)).ToHex();
}

Status PrepareDatabaseDirectory(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Fail(ErrorCode::kUnavailable, "cannot create {}: {}", path, ec.message());
  if (::chmod(path.c_str(), 0700) != 0) {
    return Fail(ErrorCode::kUnavailable, "cannot make {} private (0700)", path);
  }
  return Ok();
}

std::unique_ptr<Messenger> MakeTdlibMessenger(std::shared_ptr<TdJson> td, TdlibAccount account) {
  return std::make_unique<TdlibMessenger>(std::move(td), std::move(account));
}

}  // namespace tginvite::telegram::tdlib
