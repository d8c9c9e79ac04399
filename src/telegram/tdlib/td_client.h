// One TDLib client over the JSON interface: requests matched to their answers by "@extra",
// everything else handed to the client's update handler.
//
// td_receive serves every client of the library and may be called from one thread only, so each
// loaded library gets one receive thread (started with its first client, never stopped: TDLib's
// own threads outlive any owner too) that routes what arrives by "@client_id". A client is closed
// by its destructor (TDLib's `close`, then the wait for authorizationStateClosed, bounded).
//
// Thread-safety: Call and Send from any thread. The update handler runs on the receive thread
// under the client's lock: it must be quick and must not call Call (it may call Send).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "telegram/tdlib/td_json.h"

namespace tginvite::telegram::tdlib {

using Json = nlohmann::json;

class TdClient {
 public:
  using UpdateHandler = std::function<void(const Json& update)>;

  // A new client of `td`; `on_update` gets every object that answers no request of this client.
  static std::shared_ptr<TdClient> Create(std::shared_ptr<TdJson> td, UpdateHandler on_update);
  ~TdClient();
  TdClient(const TdClient&) = delete;
  TdClient& operator=(const TdClient&) = delete;

  // Sends `request` and waits up to `timeout` for its answer: the answer object (an "error" object
  // for a refusal), or std::nullopt when none came in time (it may still have been carried out).
  std::optional<Json> Call(Json request, std::chrono::milliseconds timeout);
  // Sends `request` without waiting; its answer goes to the update handler.
  void Send(const Json& request);
  // A request TDLib answers synchronously (parseTextEntities, getOption).
  Json Execute(const Json& request) const;

  int id() const { return id_; }

  struct Shared;  // the client's state, shared with the receive thread

 private:
  TdClient(std::shared_ptr<TdJson> td, int id, std::shared_ptr<Shared> shared);

  std::shared_ptr<TdJson> td_;
  int id_;
  std::shared_ptr<Shared> shared_;
};

// "error" objects: their code and message; code 0 when `answer` is not one.
struct TdError {
  int code = 0;
  std::string message;
};
TdError ErrorOf(const Json& answer);

}  // namespace tginvite::telegram::tdlib
