// The web server: the dashboard, the REST API under /api/v1, /metrics and the health probes, as
// routes (web/router.h) on the HTTP server (web/http_server.h, which bounds what any client can
// make it hold). Handlers are thin: parse, call the store, map the Result through HttpStatusFor.
//
// Authentication: everything but the dashboard's static files, /healthz and /readyz — /metrics
// included (Prometheus scrapes with `authorization: {credentials: TOKEN}`, i.e. a bearer API
// token) — needs either a session cookie (from POST /api/v1/login; state-changing requests must
// also carry the session's X-CSRF-Token) or an `Authorization: Bearer` API token whose scope
// covers the request (core::TokenScope) and which has not expired. Errors are always {"error":
// {"code", "message"}}. No response ever carries the admin password, a session token or an API
// token (invariant 7). One route answers Telegram rather than people: POST
// /telegram/webhook/{account} is authenticated by the account's webhook secret alone.
//
// Thread-safety: Start and Stop from one thread; requests are served on the HTTP server's handler
// threads, so the store and the worker_health callback must be thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "dispatch/dispatcher.h"
#include "storage/store.h"
#include "web/auth.h"
#include "web/http_server.h"
#include "web/user_logins.h"

namespace tginvite::web {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (tests)
  HttpLimits http;  // threads, queue, connections, header and body limits, deadlines
  std::chrono::milliseconds session_ttl = std::chrono::hours(12);
  LoginLimiter::Limits login;
  // Behind a reverse proxy every request comes from the proxy's address, so one bucket would
  // serve every client: with this set, logins are limited by the last X-Forwarded-For hop (the
  // address the proxy saw). Never set it without a proxy that sets the header: clients could
  // pick their own bucket.
  bool behind_proxy = false;
  std::shared_ptr<const core::Clock> clock = std::make_shared<core::SystemClock>();
  // The health of the worker running in this process, for /readyz; empty when none runs here.
  std::function<dispatch::Health()> worker_health;
  // Checks a bot account's token with Telegram before POST /api/v1/accounts stores it; empty:
  // not checked.
  std::function<Result<std::string>(const storage::NewAccount&)> check_account;
  // Checks a new token with Telegram for PATCH /api/v1/accounts/{name} (the bot's id and
  // username); empty: only the token's shape and its bot id prefix are checked.
  storage::BotChecker check_bot;
  // Deletes a removed user account's TDLib session (DELETE /api/v1/accounts/{name}); empty: none.
  std::function<Status(const storage::Account&)> remove_session;
  // POST /api/v1/accounts/{name}/login (web/user_logins.h): a user account's TDLib setup, from
  // the composition root (cli::TdlibAccountFor); empty: the route answers 503. load_tdjson finds
  // TDLib; empty: TdJson::Load ($TGINVITE_TDJSON, then the usual places).
  TdlibAccountSource tdlib_account;
  TdJsonLoader load_tdjson;
  UserLoginLimits user_login;
};

// "127.0.0.1:8080" or "[::1]:8080" -> host and port; kInvalidArgument otherwise.
Result<std::pair<std::string, int>> ParseListen(std::string_view listen);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopback(std::string_view host);

class Server {
 public:
  Server(storage::Store& store, ServerOptions options);
  ~Server();  // stops serving
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving on a background thread; returns the bound port. kUnavailable when
  // the address cannot be bound. Logs a warning when the address is not loopback.
  Result<int> Start();
  // Stops accepting, finishes in-flight requests and joins the thread. Idempotent.
  void Stop();

  // Every route served, as (method, OpenAPI path template) pairs: "GET",
  // "/api/v1/campaigns/{name}". The dashboard's static files are not listed.
  std::vector<std::pair<std::string, std::string>> Routes() const;

  // Serves raw request bytes in process, as HttpServer::ServeBytes does, through this server's
  // routes (fuzzing). Needs no Start.
  std::string ServeBytes(std::string_view bytes) const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tginvite::web
