#include "web/server.h"

#include <charconv>
#include <exception>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/instruments.h"
#include "core/model.h"
#include "web/api.h"
#include "web/auth.h"
#include "web/dashboard.h"
#include "web/error_mapping.h"
#include "web/metrics.h"

namespace tginvite::web {
namespace {

using nlohmann::json;

constexpr std::string_view kCookieName = "tginvite_session";
constexpr std::string_view kJson = "application/json";

// Errors that have no ErrorCode because only the web layer has them (401, 403, 429).
void SendError(httplib::Response& res, int status, std::string_view code,
               std::string_view message) {
  res.status = status;
  json body = {{"error", {{"code", code}, {"message", message}}}};
  res.set_content(body.dump(), kJson.data());
}

void SendError(httplib::Response& res, const Error& error) {
  if (error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kAborted) {
    ++core::Instruments().database_errors;
  }
  res.status = HttpStatusFor(error.code);
  res.set_content(ErrorBody(error), kJson.data());
}

void SendJson(httplib::Response& res, const json& body, int status = 200) {
  res.status = status;
  res.set_content(body.dump(), kJson.data());
}

// JSON bodies are small; only CSV uploads may use the server's whole body limit.
constexpr size_t kMaxJsonBody = size_t{1} << 20;

// Parses a JSON request body; an empty body is an empty object.
Result<json> ParseBody(const httplib::Request& req) {
  if (req.body.empty()) return json::object();
  if (req.body.size() > kMaxJsonBody) {
    return Fail(ErrorCode::kInvalidArgument, "request body: larger than {} bytes", kMaxJsonBody);
  }
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return Fail(ErrorCode::kInvalidArgument, "request body: not valid JSON");
  }
  if (!body.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "request body: expected a JSON object");
  }
  return body;
}

std::optional<std::string> CookieValue(const httplib::Request& req, std::string_view name) {
  std::string header = req.get_header_value("Cookie");
  std::string_view rest = header;
  while (!rest.empty()) {
    size_t end = rest.find(';');
    std::string_view pair = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return std::string(pair.substr(eq + 1));
    }
  }
  return std::nullopt;
}

bool OverTls(const httplib::Request& req) {
  return req.get_header_value("X-Forwarded-Proto") == "https";
}

enum class Change { kReadOnly, kStateChanging };

}  // namespace

Result<std::pair<std::string, int>> ParseListen(std::string_view listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Fail(ErrorCode::kInvalidArgument, "--listen {}: expected ADDR:PORT", listen);
  }
  std::string_view host = listen.substr(0, colon);
  std::string_view port_text = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535 ||
      host.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "--listen {}: expected ADDR:PORT, port 1-65535",
                listen);
  }
  return std::pair<std::string, int>(std::string(host), port);
}

bool IsLoopback(std::string_view host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

class Server::Impl {
 public:
  Impl(storage::Store& store, ServerOptions options)
      : store_(store),
        options_(std::move(options)),
        api_(store_, options_.clock, options_.check_account),
        limiter_(options_.login_attempts, options_.login_window) {}

  ~Impl() { Stop(); }

  Result<int> Start() {
    Configure();
    int port = options_.port;
    if (port == 0) {
      port = http_.bind_to_any_port(options_.host);
      if (port < 0) port = 0;
    } else if (!http_.bind_to_port(options_.host, port)) {
      port = 0;
    }
    if (port == 0) {
      return Fail(ErrorCode::kUnavailable, "listen on {}:{}: cannot bind the address",
                  options_.host, options_.port);
    }
    if (!IsLoopback(options_.host)) {
      spdlog::warn(
          "web: listening on {}:{}, which is not a loopback address: put it behind a TLS reverse "
          "proxy, or passwords and session cookies cross the network in clear text",
          options_.host, port);
    }
    spdlog::info("web: serving on http://{}:{}", options_.host, port);
    thread_ = std::thread([this] { http_.listen_after_bind(); });
    // httplib's stop() does nothing until the accept loop runs, so a Stop right after Start would
    // leave the thread listening forever: Start returns only once the loop runs.
    while (!http_.is_running()) std::this_thread::yield();
    return port;
  }

  const std::vector<std::pair<std::string, std::string>>& routes() {
    Configure();
    return routes_;
  }

  void Stop() {
    if (thread_.joinable()) {
      http_.stop();
      thread_.join();
    }
  }

 private:
  // Who made a request: a browser session or an API token.
  struct Caller {
    std::optional<storage::WebSession> session;
  };

  int64_t NowMs() const { return core::ToUnixMillis(options_.clock->Now()); }

  // Sets the server up once (Routes may have done it before Start).
  void Configure() {
    if (configured_) return;
    configured_ = true;
    const size_t threads = options_.threads;
    http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http_.set_payload_max_length(options_.max_body_bytes);
    // Without TCP_NODELAY a small answer on a kept-alive connection waits for the client's delayed
    // ACK: about 40 ms on every dashboard poll. And a browser keeps polling on one connection.
    http_.set_tcp_nodelay(true);
    http_.set_keep_alive_max_count(1000);
    http_.set_exception_handler(
        [](const httplib::Request& req, httplib::Response& res, const std::exception_ptr& ep) {
          std::string what = "unknown exception";
          try {
            if (ep) std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          spdlog::error("web: {} {}: unexpected exception: {}", req.method, req.path, what);
          SendError(res, Error{ErrorCode::kInternal, "internal error"});
        });
    // Fills in a JSON body for errors httplib produces itself (no route, body too large).
    http_.set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          switch (res.status) {
            case 404:
              SendError(res, 404, "not_found", fmt::format("no route {} {}", req.method, req.path));
              break;
            case 413:
              SendError(res, 413, "payload_too_large", "request body too large");
              break;
            default:
              SendError(res, res.status, "http_error", fmt::format("HTTP {}", res.status));
          }
          return httplib::Server::HandlerResponse::Handled;
        }));

    // A request is read, routed, handled and logged on one pool thread, so the time it started
    // can wait in a thread_local.
    static thread_local std::chrono::steady_clock::time_point request_started;
    http_.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
      request_started = std::chrono::steady_clock::now();
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http_.set_logger([this](const httplib::Request&, const httplib::Response& res) {
      core::Instruments().http_seconds.Observe(std::chrono::steady_clock::now() - request_started);
      requests_.Count(res.status);
    });

    // The dashboard's page and assets: public, like any login page; every figure it shows comes
    // from the API below.
    RegisterDashboard(http_);
    http_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      SendJson(res, {{"status", "ok"}});
    });
    routes_.push_back({"GET", "/healthz"});
    http_.Get("/readyz",
              [this](const httplib::Request& req, httplib::Response& res) { Readyz(req, res); });
    routes_.push_back({"GET", "/readyz"});
    http_.Post("/api/v1/login",
               [this](const httplib::Request& req, httplib::Response& res) { Login(req, res); });
    routes_.push_back({"POST", "/api/v1/login"});
    Raw("POST", "/api/v1/logout", Change::kStateChanging,
        [this](const httplib::Request& req, httplib::Response& res, const Caller& caller) {
          Logout(req, res, caller);
        });
    Raw("GET", "/api/v1/session", Change::kReadOnly,
        [](const httplib::Request&, httplib::Response& res, const Caller& caller) {
          SendJson(res, {{"csrf_token", caller.session ? json(caller.session->csrf_token) : json()},
                         {"expires_at", caller.session ? json(caller.session->expires_at) : json()},
                         {"via", caller.session ? "session" : "token"}});
        });
    Raw("GET", "/metrics", Change::kReadOnly,
        [this](const httplib::Request&, httplib::Response& res, const Caller&) { Metrics(res); });

    // The REST API proper: thin calls into web/api.h. `{x}` is a path parameter.
    constexpr Change kRead = Change::kReadOnly;
    constexpr Change kWrite = Change::kStateChanging;
    Api& api = api_;
    Json("GET", "/api/v1/campaigns", kRead, [&api](const In&) { return api.ListCampaigns(); });
    Json("POST", "/api/v1/campaigns", kWrite,
         [&api](const In& in) { return api.CreateCampaign(in.body); });
    Json("GET", "/api/v1/campaigns/{name}", kRead,
         [&api](const In& in) { return api.ShowCampaign(in.path[0]); });
    for (std::string action : {"start", "pause", "resume", "cancel"}) {
      Json("POST", "/api/v1/campaigns/{name}/" + action, kWrite,
           [&api, action](const In& in) { return api.ChangeCampaign(in.path[0], action); });
    }
    Json("POST", "/api/v1/campaigns/{name}/retry-failed", kWrite,
         [&api](const In& in) { return api.RetryFailed(in.path[0], in.body); });
    Json("POST", "/api/v1/campaigns/{name}/resend-unknown", kWrite,
         [&api](const In& in) { return api.ResendUnknown(in.path[0], in.body); });
    Json("GET", "/api/v1/campaigns/{name}/series", kRead,
         [&api](const In& in) { return api.CampaignSeries(in.path[0], in.query); });
    Json("GET", "/api/v1/campaigns/{name}/errors", kRead,
         [&api](const In& in) { return api.CampaignErrors(in.path[0]); });
    Json("GET", "/api/v1/campaigns/{name}/attempts", kRead,
         [&api](const In& in) { return api.CampaignAttempts(in.path[0], in.query); });
    Json("GET", "/api/v1/contacts", kRead,
         [&api](const In& in) { return api.ListContacts(in.query); });
    Json("GET", "/api/v1/contacts/{id}/attempts", kRead,
         [&api](const In& in) { return api.ContactAttempts(in.path[0]); });
    Json("POST", "/api/v1/imports", kWrite,
         [&api](const In& in) { return api.StageImport(in.req.body, in.query); });
    Json("POST", "/api/v1/imports/{id}/commit", kWrite,
         [&api](const In& in) { return api.CommitImport(in.path[0]); });
    Json("GET", "/api/v1/accounts", kRead, [&api](const In&) { return api.ListAccounts(); });
    Json("POST", "/api/v1/accounts", kWrite,
         [&api](const In& in) { return api.AddAccount(in.body); });
    Json("GET", "/api/v1/settings", kRead,
         [&api](const In& in) { return api.ListSettings(in.query); });
    Json("PUT", "/api/v1/settings/{key}", kWrite,
         [&api](const In& in) { return api.PutSetting(in.path[0], in.query, in.body); });
    Json("DELETE", "/api/v1/settings/{key}", kWrite,
         [&api](const In& in) { return api.DeleteSetting(in.path[0], in.query); });
    Json("GET", "/api/v1/suppressions", kRead,
         [&api](const In&) { return api.ListSuppressions(); });
    Json("POST", "/api/v1/suppressions", kWrite,
         [&api](const In& in) { return api.AddSuppression(in.body); });
    Json("DELETE", "/api/v1/suppressions/{user}", kWrite,
         [&api](const In& in) { return api.RemoveSuppression(in.path[0]); });
    Json("GET", "/api/v1/stats", kRead, [&api](const In&) { return api.Stats(); });
    Json("GET", "/api/v1/workers", kRead, [&api](const In&) { return api.ListWorkers(); });
  }

  // What an API handler gets: the request's path parameters in order, its query and its JSON body
  // (an empty object for a CSV upload or no body).
  struct In {
    const httplib::Request& req;
    std::vector<std::string> path;
    const Query& query;
    json body;
  };
  using JsonHandler = std::function<Result<Reply>(const In&)>;
  using RawHandler =
      std::function<void(const httplib::Request&, httplib::Response&, const Caller&)>;

  // "/api/v1/campaigns/{name}" -> "/api/v1/campaigns/([^/]+)".
  static std::string PatternOf(std::string_view path) {
    std::string pattern;
    while (!path.empty()) {
      size_t open = path.find('{');
      if (open == std::string_view::npos) break;
      size_t close = path.find('}', open);
      pattern += path.substr(0, open);
      pattern += "([^/]+)";
      path.remove_prefix(close + 1);
    }
    pattern += path;
    return pattern;
  }

  // Registers a handler that runs only for an authenticated caller (and, for a state-changing
  // request made with a session cookie, a matching X-CSRF-Token).
  void Raw(std::string_view method, const std::string& path, Change change, RawHandler handler) {
    routes_.push_back({std::string(method), path});
    auto guarded = [this, change, handler = std::move(handler)](const httplib::Request& req,
                                                                httplib::Response& res) {
      std::optional<Caller> caller = Authenticate(req, res, change);
      if (caller) handler(req, res, *caller);
    };
    const std::string pattern = PatternOf(path);
    if (method == "GET") {
      http_.Get(pattern, guarded);
    } else if (method == "POST") {
      http_.Post(pattern, guarded);
    } else if (method == "PUT") {
      http_.Put(pattern, guarded);
    } else {
      http_.Delete(pattern, guarded);
    }
  }

  // Registers an API handler: authenticated, JSON body parsed (unless it is a CSV upload), the
  // Result mapped to the reply or {"error": ...}.
  void Json(std::string_view method, const std::string& path, Change change, JsonHandler handler) {
    Raw(method, path, change,
        [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res,
                                       const Caller&) {
          const bool csv = req.path == "/api/v1/imports";
          In in{req, {}, req.params, json::object()};
          for (size_t i = 1; i < req.matches.size(); ++i) in.path.push_back(req.matches[i].str());
          if (!csv) {
            Result<json> body = ParseBody(req);
            if (!body) return SendError(res, body.error());
            in.body = std::move(*body);
          }
          Result<Reply> reply = handler(in);
          if (!reply) return SendError(res, reply.error());
          SendJson(res, reply->body, reply->status);
        });
  }

  // The caller, or std::nullopt with the error response already written.
  std::optional<Caller> Authenticate(const httplib::Request& req, httplib::Response& res,
                                     Change change) {
    std::string authorization = req.get_header_value("Authorization");
    if (!authorization.empty()) {
      constexpr std::string_view kBearer = "Bearer ";
      if (!authorization.starts_with(kBearer)) {
        SendError(res, 401, "unauthenticated", "Authorization: expected a Bearer token");
        return std::nullopt;
      }
      Result<std::optional<storage::ApiToken>> token =
          store_.FindApiToken(TokenHash(std::string_view(authorization).substr(kBearer.size())));
      if (!token) {
        SendError(res, token.error());
        return std::nullopt;
      }
      if (!token->has_value()) {
        SendError(res, 401, "unauthenticated", "unknown or revoked API token");
        return std::nullopt;
      }
      return Caller{};
    }
    std::optional<std::string> cookie = CookieValue(req, kCookieName);
    if (!cookie) {
      SendError(res, 401, "unauthenticated", "log in first (POST /api/v1/login)");
      return std::nullopt;
    }
    Result<std::optional<storage::WebSession>> session =
        store_.FindSession(TokenHash(*cookie), NowMs());
    if (!session) {
      SendError(res, session.error());
      return std::nullopt;
    }
    if (!session->has_value()) {
      SendError(res, 401, "unauthenticated", "the session expired or was ended: log in again");
      return std::nullopt;
    }
    if (change == Change::kStateChanging &&
        !SameSecret(req.get_header_value("X-CSRF-Token"), (*session)->csrf_token)) {
      SendError(res, 403, "csrf", "missing or wrong X-CSRF-Token header");
      return std::nullopt;
    }
    return Caller{std::move(*session)};
  }

  void Readyz(const httplib::Request&, httplib::Response& res) {
    // A cheap one-row read tells whether the database answers.
    Result<std::optional<std::string>> ping = store_.AdminPasswordHash();
    if (!ping) {
      SendJson(res, {{"status", "unavailable"}, {"reason", "database: " + ping.error().message}},
               503);
      return;
    }
    if (options_.worker_health) {
      dispatch::Health health = options_.worker_health();
      if (health.state == dispatch::HealthState::kDegraded) {
        SendJson(res, {{"status", "unavailable"}, {"reason", "worker degraded: " + health.reason}},
                 503);
        return;
      }
    }
    SendJson(res, {{"status", "ready"}});
  }

  // Who is logging in, for the login limiter and the log.
  std::string ClientAddress(const httplib::Request& req) const {
    if (!options_.behind_proxy) return req.remote_addr;
    std::string forwarded = req.get_header_value("X-Forwarded-For");
    if (forwarded.empty()) return req.remote_addr;
    std::string_view last = forwarded;
    if (size_t comma = last.rfind(','); comma != std::string_view::npos) {
      last.remove_prefix(comma + 1);
    }
    while (!last.empty() && last.front() == ' ') last.remove_prefix(1);
    while (!last.empty() && last.back() == ' ') last.remove_suffix(1);
    return last.empty() ? req.remote_addr : std::string(last);
  }

  void Login(const httplib::Request& req, httplib::Response& res) {
    const std::string client = ClientAddress(req);
    if (int64_t wait = limiter_.Attempt(client, NowMs()); wait > 0) {
      res.set_header("Retry-After", std::to_string(wait));
      SendError(res, 429, "rate_limited",
                fmt::format("too many login attempts: retry in {} s", wait));
      return;
    }
    Result<json> body = ParseBody(req);
    if (!body) return SendError(res, body.error());
    auto password = body->find("password");
    if (password == body->end() || !password->is_string()) {
      return SendError(
          res, Error{ErrorCode::kInvalidArgument, "request body: \"password\" must be a string"});
    }
    Result<std::optional<std::string>> hash = store_.AdminPasswordHash();
    if (!hash) return SendError(res, hash.error());
    if (!hash->has_value()) {
      return SendError(res, Error{ErrorCode::kUnavailable,
                                  "no admin password is set: run `tginvite init` with "
                                  "TGINVITE_ADMIN_PASSWORD set, or on a terminal"});
    }
    if (!VerifyPassword(core::Secret(password->get<std::string>()), **hash)) {
      spdlog::warn("web: failed login from {}", client);
      return SendError(res, 401, "unauthenticated", "wrong password");
    }
    core::Secret token = NewToken();
    core::Secret csrf = NewToken();
    const int64_t now = NowMs();
    storage::WebSession session{TokenHash(token.Reveal()), csrf.Reveal(), now,
                                now + options_.session_ttl.count()};
    if (Status created = store_.CreateSession(session, now); !created) {
      return SendError(res, created.error());
    }
    std::string cookie =
        fmt::format("{}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}", kCookieName,
                    token.Reveal(), options_.session_ttl.count() / 1000);
    if (OverTls(req)) cookie += "; Secure";
    res.set_header("Set-Cookie", cookie);
    SendJson(res, {{"csrf_token", csrf.Reveal()}, {"expires_at", session.expires_at}});
  }

  void Logout(const httplib::Request& req, httplib::Response& res, const Caller& caller) {
    if (caller.session) {
      if (Status deleted = store_.DeleteSession(caller.session->token_hash); !deleted) {
        return SendError(res, deleted.error());
      }
    }
    std::string cookie =
        fmt::format("{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0", kCookieName);
    if (OverTls(req)) cookie += "; Secure";
    res.set_header("Set-Cookie", cookie);
    SendJson(res, {{"status", "logged out"}});
  }

  void Metrics(httplib::Response& res) {
    Result<std::string> text = RenderMetrics(store_, NowMs(), requests_.Snapshot());
    if (!text) return SendError(res, text.error());
    res.status = 200;
    res.set_content(*text, kMetricsContentType.data());
  }

  storage::Store& store_;
  ServerOptions options_;
  Api api_;
  std::vector<std::pair<std::string, std::string>> routes_;
  bool configured_ = false;
  RequestCounter requests_;
  LoginLimiter limiter_;
  httplib::Server http_;
  std::thread thread_;
};

Server::Server(storage::Store& store, ServerOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}

Server::~Server() = default;

Result<int> Server::Start() { return impl_->Start(); }

void Server::Stop() { impl_->Stop(); }

std::vector<std::pair<std::string, std::string>> Server::Routes() const { return impl_->routes(); }

}  // namespace tginvite::web
