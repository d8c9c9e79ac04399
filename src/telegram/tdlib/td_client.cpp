#include "telegram/tdlib/td_client.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "telegram/tdlib/json_fields.h"

namespace tginvite::telegram::tdlib {
namespace {

// How long a closing client waits for authorizationStateClosed.
constexpr std::chrono::seconds kCloseWait{10};

}  // namespace

// A client's state, shared with the receive thread.
struct TdClient::Shared {
  std::mutex mu;
  std::condition_variable answered;
  UpdateHandler on_update;
  std::map<std::string, std::optional<Json>> waiting;  // by @extra; set once answered
  bool closed = false;
  uint64_t next_extra = 1;
};

namespace {

// The receive loop of one loaded library, routing by @client_id.
class Receiver {
 public:
  static Receiver& For(const std::shared_ptr<TdJson>& td) {
    static std::mutex mu;
    static auto* receivers = new std::map<const TdJson*, Receiver*>();  // never freed: see header
    std::lock_guard lock(mu);
    Receiver*& receiver = (*receivers)[td.get()];
    if (receiver == nullptr) receiver = new Receiver(td);
    return *receiver;
  }

  void Add(int id, std::shared_ptr<TdClient::Shared> shared) {
    std::lock_guard lock(mu_);
    clients_[id] = std::move(shared);
  }
  void Remove(int id) {
    std::lock_guard lock(mu_);
    clients_.erase(id);
  }

 private:
  explicit Receiver(std::shared_ptr<TdJson> td) : td_(std::move(td)) {
    std::thread([this] { Loop(); }).detach();
  }

  void Loop() {
    for (;;) {
      std::string text = td_->Receive(1.0);
      if (text.empty()) continue;
      try {
        Route(Json::parse(text, nullptr, false));
      } catch (const std::exception& e) {
        spdlog::warn("TDLib: an answer could not be handled: {}", e.what());
      }
    }
  }

  void Route(const Json& object) {
    if (!object.is_object()) return;
    std::optional<int64_t> client = IntField(object, "@client_id");
    if (!client) return;  // a log line or a global update
    std::shared_ptr<TdClient::Shared> shared;
    {
      std::lock_guard lock(mu_);
      auto it = clients_.find(static_cast<int>(*client));
      if (it == clients_.end()) return;
      shared = it->second;
    }
    auto extra = object.find("@extra");
    if (extra != object.end() && extra->is_string()) {
      std::lock_guard lock(shared->mu);
      auto waiter = shared->waiting.find(extra->get<std::string>());
      if (waiter != shared->waiting.end()) {
        waiter->second = object;
        shared->answered.notify_all();
        return;
      }
    }
    // Under the client's lock, so that a closing client never sees its handler run afterwards.
    std::lock_guard lock(shared->mu);
    if (TypeOf(object) == "updateAuthorizationState" &&
        TypeOf(Field(object, "authorization_state")) == "authorizationStateClosed") {
      shared->closed = true;
      shared->answered.notify_all();
    }
    if (shared->on_update) shared->on_update(object);
  }

  std::shared_ptr<TdJson> td_;
  std::mutex mu_;
  std::map<int, std::shared_ptr<TdClient::Shared>> clients_;
};

}  // namespace

std::shared_ptr<TdClient> TdClient::Create(std::shared_ptr<TdJson> td, UpdateHandler on_update) {
  auto shared = std::make_shared<Shared>();
  shared->on_update = std::move(on_update);
  const int id = td->CreateClientId();
  Receiver::For(td).Add(id, shared);
  std::shared_ptr<TdClient> client(new TdClient(std::move(td), id, std::move(shared)));
  // A new client says nothing until asked something: this starts its authorization updates.
  client->Send({{"@type", "getOption"}, {"name", "version"}});
  return client;
}

TdClient::TdClient(std::shared_ptr<TdJson> td, int id, std::shared_ptr<Shared> shared)
    : td_(std::move(td)), id_(id), shared_(std::move(shared)) {}

TdClient::~TdClient() {
  Send({{"@type", "close"}});
  {
    std::unique_lock lock(shared_->mu);
    shared_->answered.wait_for(lock, kCloseWait, [this] { return shared_->closed; });
    shared_->on_update = nullptr;
  }
  Receiver::For(td_).Remove(id_);
}

std::optional<Json> TdClient::Call(Json request, std::chrono::milliseconds timeout) {
  std::string extra;
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->closed) return Json{{"@type", "error"}, {"code", 500}, {"message", "closed"}};
    extra = "tginvite-" + std::to_string(shared_->next_extra++);
    shared_->waiting.emplace(extra, std::nullopt);
  }
  request["@extra"] = extra;
  td_->Send(id_, request.dump(-1, ' ', false, Json::error_handler_t::replace));
  std::unique_lock lock(shared_->mu);
  shared_->answered.wait_for(
      lock, timeout, [&] { return shared_->closed || shared_->waiting.at(extra).has_value(); });
  std::optional<Json> answer = std::move(shared_->waiting.at(extra));
  shared_->waiting.erase(extra);
  if (!answer && shared_->closed) {
    return Json{{"@type", "error"}, {"code", 500}, {"message", "closed"}};
  }
  return answer;
}

void TdClient::Send(const Json& request) {
  td_->Send(id_, request.dump(-1, ' ', false, Json::error_handler_t::replace));
}

Json TdClient::Execute(const Json& request) const {
  std::string text = td_->Execute(request.dump(-1, ' ', false, Json::error_handler_t::replace));
  Json answer = Json::parse(text, nullptr, false);
  if (!answer.is_object()) {
    return Json{{"@type", "error"}, {"code", 500}, {"message", "no answer from td_execute"}};
  }
  return answer;
}

TdError ErrorOf(const Json& answer) {
  if (TypeOf(answer) != "error") return {};
  TdError error;
  error.code = static_cast<int>(IntField(answer, "code").value_or(500));
  if (error.code == 0) error.code = 500;
  error.message = StringField(answer, "message");
  return error;
}

}  // namespace tginvite::telegram::tdlib
