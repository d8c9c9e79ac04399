#include "web/user_logins.h"

#include <condition_variable>
#include <exception>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "telegram/tdlib/login.h"
#include "web/http.h"

namespace tginvite::web {
namespace {

using nlohmann::json;

// Longer than any login code or 2-step password Telegram accepts.
constexpr size_t kMaxAnswerBytes = 256;

enum class Phase { kWorking, kCode, kPassword, kReady, kFailed };

// The hint in login.cpp's password question "2-step verification password (hint: H): ".
std::string HintOf(std::string_view question) {
  constexpr std::string_view kOpen = "(hint: ";
  const size_t open = question.find(kOpen);
  const size_t close = question.rfind("): ");
  if (open == std::string_view::npos || close == std::string_view::npos ||
      close < open + kOpen.size()) {
    return "";
  }
  return std::string(question.substr(open + kOpen.size(), close - open - kOpen.size()));
}

// An answer from the body: absent, or a string of at most kMaxAnswerBytes.
Result<std::optional<std::string>> AnswerField(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end()) return std::optional<std::string>();
  if (!it->is_string()) {
    return Fail(ErrorCode::kInvalidArgument, "request body: \"{}\" must be a string", field);
  }
  std::string value = it->get<std::string>();
  if (value.empty() || value.size() > kMaxAnswerBytes) {
    return Fail(ErrorCode::kInvalidArgument, "request body: \"{}\" must be 1 to {} bytes", field,
                kMaxAnswerBytes);
  }
  return std::optional<std::string>(std::move(value));
}

}  // namespace

// One login: the LoginPrompter that the login thread asks, and the state the requests read.
class UserLogins::Session final : public telegram::tdlib::LoginPrompter {
 public:
  explicit Session(std::chrono::milliseconds answer_wait) : answer_wait_(answer_wait) {}
  ~Session() override {
    Cancel();
    if (thread_.joinable()) thread_.join();
  }

  void Run(std::function<void(Session&)> body) {
    thread_ = std::jthread([this, body = std::move(body)] { body(*this); });
  }

  // The login thread: waits for the answer a request brings, at most answer_wait_.
  std::optional<std::string> Ask(std::string_view question, bool secret) override {
    std::unique_lock lock(mu_);
    phase_ = secret ? Phase::kPassword : Phase::kCode;
    hint_ = secret ? HintOf(question) : "";
    message_.clear();
    for (const std::string& line : told_) message_ += (message_.empty() ? "" : " ") + line;
    told_.clear();
    ++events_;
    cv_.notify_all();
    cv_.wait_for(lock, answer_wait_, [this] { return answer_.has_value() || cancelled_; });
    phase_ = Phase::kWorking;
    if (cancelled_ || !answer_) {
      cancelled_ = true;
      return std::nullopt;
    }
    std::string answer = std::move(*answer_);
    answer_.reset();
    return answer;
  }

  void Tell(std::string_view line) override {
    std::lock_guard lock(mu_);
    told_.emplace_back(line);
  }

  // The login thread, last: how it ended.
  void Finish(Phase phase, std::string text) {
    std::lock_guard lock(mu_);
    phase_ = phase;
    (phase == Phase::kReady ? username_ : error_) = std::move(text);
    ++events_;
    done_ = true;
    cv_.notify_all();
  }

  // Hands the answer to the question `asked`; the count of events so far, or std::nullopt when
  // that question is not being asked.
  std::optional<uint64_t> Answer(Phase asked, std::string answer) {
    std::lock_guard lock(mu_);
    if (phase_ != asked || answer_) return std::nullopt;
    answer_ = std::move(answer);
    phase_ = Phase::kWorking;
    cv_.notify_all();
    return events_;
  }

  // Waits until the login asks a question or ends after event `after`, at most `wait`; where it
  // stands then.
  json Await(uint64_t after, std::chrono::milliseconds wait) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait,
                 [&] { return (events_ > after && phase_ != Phase::kWorking) || cancelled_; });
    switch (phase_) {
      case Phase::kWorking:
        return {{"state", "waiting"}};
      case Phase::kCode:
        return {{"state", "code"}, {"message", message_}};
      case Phase::kPassword:
        return {{"state", "password"}, {"hint", hint_}};
      case Phase::kReady:
        return {{"state", "ready"}, {"username", username_}};
      case Phase::kFailed:
        return {{"state", "failed"}, {"error", error_}};
    }
    return {{"state", "waiting"}};
  }

  bool done() {
    std::lock_guard lock(mu_);
    return done_;
  }

  void Cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

 private:
  const std::chrono::milliseconds answer_wait_;
  std::mutex mu_;
  std::condition_variable cv_;
  Phase phase_ = Phase::kWorking;
  uint64_t events_ = 0;  // questions asked, and the end
  std::vector<std::string> told_;
  std::string message_;
  std::string hint_;
  std::optional<std::string> answer_;
  std::string username_;
  std::string error_;
  bool cancelled_ = false;
  bool done_ = false;
  std::jthread thread_;  // last: joined before the state it uses goes
};

UserLogins::UserLogins(storage::AccountStore& store, TdlibAccountSource tdlib_account,
                       TdJsonLoader load_tdjson, UserLoginLimits limits)
    : store_(store),
      tdlib_account_(std::move(tdlib_account)),
      load_tdjson_(std::move(load_tdjson)),
      limits_(limits) {}

UserLogins::~UserLogins() {
  std::map<int64_t, std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(mu_);
    sessions.swap(sessions_);
  }
  for (auto& [id, session] : sessions) session->Cancel();
  sessions.clear();  // joins each login thread
}

void UserLogins::CancelAll() {
  std::lock_guard lock(mu_);
  for (auto& [id, session] : sessions_) session->Cancel();
}

Result<Reply> UserLogins::Step(const std::string& account_name, const json& body) {
  for (const auto& [key, value] : body.items()) {
    if (key != "code" && key != "password") {
      return Fail(ErrorCode::kInvalidArgument,
                  "request body: unknown field \"{}\" (expected {{}}, \"code\" or \"password\")",
                  PrintableForLog(key, 64));
    }
  }
  ASSIGN_OR_RETURN(std::optional<std::string> code, AnswerField(body, "code"));
  ASSIGN_OR_RETURN(std::optional<std::string> password, AnswerField(body, "password"));
  if (code && password) {
    return Fail(ErrorCode::kInvalidArgument,
                "request body: give \"code\" or \"password\", one at a time");
  }
  ASSIGN_OR_RETURN(storage::Account account, store_.FindAccount(account_name));
  if (account.kind != core::AccountKind::kUser) {
    return Fail(ErrorCode::kInvalidArgument,
                "account {} is not a user account: only user accounts log in", account.name);
  }

  std::shared_ptr<Session> session;
  uint64_t after = 0;
  {
    std::lock_guard lock(mu_);
    std::erase_if(sessions_, [](const auto& entry) { return entry.second->done(); });
    auto it = sessions_.find(account.id);
    if (code || password) {
      const char* what = code ? "code" : "password";
      if (it == sessions_.end()) {
        return Fail(ErrorCode::kAlreadyExists,
                    "account {}: no login is in progress: start one with {{}} first", account.name);
      }
      session = it->second;
      std::optional<uint64_t> seen = session->Answer(code ? Phase::kCode : Phase::kPassword,
                                                     std::move(code ? *code : *password));
      if (!seen) {
        return Fail(ErrorCode::kAlreadyExists, "account {}: the login is not asking for a {}",
                    account.name, what);
      }
      after = *seen;
    } else if (it != sessions_.end()) {
      session = it->second;
    } else {
      if (!tdlib_account_) {
        return Fail(ErrorCode::kUnavailable,
                    "this server cannot log user accounts in: log in with `tginvite account login "
                    "{}`",
                    account.name);
      }
      ASSIGN_OR_RETURN(telegram::tdlib::TdlibAccount tdlib, tdlib_account_(account));
      Result<std::shared_ptr<telegram::tdlib::TdJson>> td =
          load_tdjson_ ? load_tdjson_() : telegram::tdlib::TdJson::Load();
      if (!td) {
        return Fail(ErrorCode::kUnavailable,
                    "TDLib not found ({}): `make setup` installs it, or set TGINVITE_TDJSON",
                    td.error().message);
      }
      session = std::make_shared<Session>(limits_.answer_wait);
      sessions_[account.id] = session;
      spdlog::info("web: account {}: login started", account.name);
      session->Run([&store = store_, account, tdlib = std::move(tdlib),
                    td = std::move(*td)](Session& s) {
        try {
          Result<telegram::tdlib::LoginResult> logged_in = telegram::tdlib::LogIn(td, tdlib, s);
          if (!logged_in) {
            std::string error =
                logged_in.error().WithContext("account " + account.name + ": login").message;
            spdlog::warn("web: {}", error);
            return s.Finish(Phase::kFailed, std::move(error));
          }
          if (!logged_in->username.empty()) {
            if (Status kept = store.SetBotUsername(account.id, logged_in->username); !kept) {
              return s.Finish(Phase::kFailed, kept.error().message);
            }
          }
          // A new session cures an unauthorized account; a limited one stays for `account
          // resume`.
          if (account.health == core::AccountHealth::kUnauthorized) {
            if (Status cleared = store.SetAccountHealth(account.id, core::AccountHealth::kOk, "");
                !cleared) {
              return s.Finish(Phase::kFailed, cleared.error().message);
            }
          }
          spdlog::info("web: account {}: logged in{}", account.name,
                       logged_in->username.empty() ? "" : " as @" + logged_in->username);
          s.Finish(Phase::kReady, logged_in->username);
        } catch (const std::exception& e) {
          spdlog::error("web: account {}: login: {}", account.name, e.what());
          s.Finish(Phase::kFailed, "account " + account.name + ": login: internal error");
        }
      });
    }
  }

  json reply = session->Await(after, limits_.reply_wait);
  if (session->done()) {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(account.id);
    if (it != sessions_.end() && it->second == session) sessions_.erase(it);
  }
  return Reply{200, std::move(reply)};
}

}  // namespace tginvite::web
