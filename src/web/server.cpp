#include "web/server.h"

#include <charconv>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/actor.h"
#include "core/campaign_states.h"
#include "core/instruments.h"
#include "core/model.h"
#include "dispatch/updates.h"
#include "web/api.h"
#include "web/dashboard.h"
#include "web/error_mapping.h"
#include "web/metrics.h"

namespace tginvite::web {
namespace {

using nlohmann::json;

constexpr std::string_view kCookieName = "tginvite_session";
constexpr std::string_view kJson = "application/json";

// Errors that have no ErrorCode because only the web layer has them (401, 403, 429).
void SendError(HttpResponse& res, int status, std::string_view code, std::string_view message) {
  res.status = status;
  res.content_type = kJson;
  res.body = ErrorBody(code, message);
}

void SendError(HttpResponse& res, const Error& error) {
  if (error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kAborted) {
    ++core::Instruments().database_errors;
  }
  res.status = HttpStatusFor(error.code);
  res.content_type = kJson;
  res.body = ErrorBody(error);
}

void SendJson(HttpResponse& res, const json& body, int status = 200) {
  res.status = status;
  res.content_type = kJson;
  res.body = JsonText(body);
}

// How deeply a JSON body may nest. The API's bodies are flat objects; a deep one is an attack on
// the parser's or the destructor's stack.
constexpr int kMaxJsonDepth = 32;

// True when `text` nests arrays and objects no deeper than `max_depth` (brackets inside strings do
// not count). Linear, no allocation.
bool NestingWithin(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

// A JSON body handed on as text is first checked to nest no deeper than kMaxJsonDepth.
Status CheckNesting(const HttpRequest& req) {
  if (!NestingWithin(req.body, kMaxJsonDepth)) {
    return Fail(ErrorCode::kInvalidArgument, "request body: nested deeper than {} levels",
                kMaxJsonDepth);
  }
  return Ok();
}

// Parses a JSON request body (the router has bounded its size); an empty body is an empty object.
Result<json> ParseBody(const HttpRequest& req) {
  if (req.body.empty()) return json::object();
  RETURN_IF_ERROR(CheckNesting(req));
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return Fail(ErrorCode::kInvalidArgument, "request body: not valid JSON");
  }
  if (!body.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "request body: expected a JSON object");
  }
  return body;
}

std::optional<std::string> CookieValue(const HttpRequest& req, std::string_view name) {
  std::string_view rest = req.Header("Cookie");
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

bool OverTls(const HttpRequest& req) { return req.Header("X-Forwarded-Proto") == "https"; }

// What a request needs of its caller.
enum class Access {
  kMetrics,  // /metrics: any session or token
  kRead,     // a read of the API: a session, or a token of scope read or write
  kWrite,    // a state change: a session with its CSRF token, or a token of scope write
  kAdmin,    // managing API tokens: the dashboard's session alone (with its CSRF token for a
             // change); no token of any scope, so that a token can never mint another
};

// How a JSON handler gets its body: parsed as an object, or as the text that was sent (checked
// for depth only), for a handler that reads other shapes (a batch of Telegram updates).
enum class BodyParse { kObject, kVerbatim };

core::TokenScope ScopeFor(Access access) {
  switch (access) {
    case Access::kMetrics:
      return core::TokenScope::kMetrics;
    case Access::kRead:
      return core::TokenScope::kRead;
    case Access::kWrite:
    case Access::kAdmin:
      return core::TokenScope::kWrite;
  }
  return core::TokenScope::kWrite;
}

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
        api_(store_, options_.clock, options_.check_account, options_.check_bot,
             options_.remove_session),
        user_logins_(store_, options_.tdlib_account, options_.load_tdjson, options_.user_login),
        limiter_(options_.login) {
    Configure();
  }

  ~Impl() { Stop(); }

  Result<int> Start() {
    http_ = std::make_unique<HttpServer>(
        router_, options_.http, [this](int status, std::chrono::steady_clock::duration took) {
          core::Instruments().http_seconds.Observe(took);
          requests_.Count(status);
        });
    ASSIGN_OR_RETURN(int port, http_->Start(options_.host, options_.port));
    if (!IsLoopback(options_.host)) {
      spdlog::warn(
          "web: listening on {}:{}, which is not a loopback address: put it behind a TLS reverse "
          "proxy, or passwords and session cookies cross the network in clear text",
          options_.host, port);
    }
    const bool v6 = options_.host.find(':') != std::string::npos;
    spdlog::info("web: serving on http://{}{}{}:{} ({} handler threads)", v6 ? "[" : "",
                 options_.host, v6 ? "]" : "", port, options_.http.threads);
    return port;
  }

  void Stop() {
    user_logins_.CancelAll();  // a request waiting for a login's next question returns now
    if (http_) http_->Stop();
  }

  const std::vector<std::pair<std::string, std::string>>& routes() const { return routes_; }

  std::string ServeBytes(std::string_view bytes) const {
    return HttpServer::ServeBytes(router_, options_.http, bytes);
  }

 private:
  // Who made a request: a browser session or an API token, and the actor the audit trail names
  // ("dashboard:admin": the dashboard has one user; "token:NAME").
  struct Caller {
    std::optional<storage::WebSession> session;
    core::Actor actor;
  };

  int64_t NowMs() const { return core::ToUnixMillis(options_.clock->Now()); }

  void Configure() {
    // The dashboard's page and assets: public, like any login page; every figure it shows comes
    // from the API below.
    for (Route& route : DashboardRoutes()) router_.Add(std::move(route));
    // Liveness answers on the network thread: it needs nothing, so it answers even when every
    // handler thread is busy.
    router_.Add({"GET", "/healthz",
                 [](HttpRequest&, HttpResponse& res) {
                   SendJson(res, {{"status", "ok"}});
                 },
                 BodyKind::kNone, Execution::kInline});
    routes_.push_back({"GET", "/healthz"});
    router_.Add({"GET", "/readyz", [this](HttpRequest&, HttpResponse& res) { Readyz(res); }});
    routes_.push_back({"GET", "/readyz"});
    router_.Add({"POST", "/api/v1/login",
                 [this](HttpRequest& req, HttpResponse& res) { Login(req, res); },
                 BodyKind::kJson});
    routes_.push_back({"POST", "/api/v1/login"});
    Raw("POST", "/api/v1/logout", Access::kWrite,
        [this](HttpRequest& req, HttpResponse& res, const Caller& caller) {
          Logout(req, res, caller);
        });
    Raw("GET", "/api/v1/session", Access::kRead,
        [](HttpRequest&, HttpResponse& res, const Caller& caller) {
          SendJson(res, {{"csrf_token", caller.session ? json(caller.session->csrf_token) : json()},
                         {"expires_at", caller.session ? json(caller.session->expires_at) : json()},
                         {"via", caller.session ? "session" : "token"}});
        });
    Raw("GET", "/metrics", Access::kMetrics,
        [this](HttpRequest&, HttpResponse& res, const Caller&) { Metrics(res); });

    // The REST API proper: thin calls into web/api.h. `{x}` is a path parameter.
    constexpr Access kRead = Access::kRead;
    constexpr Access kWrite = Access::kWrite;
    Api& api = api_;
    Json("GET", "/api/v1/campaigns", kRead, [&api](const In&) { return api.ListCampaigns(); });
    Json("POST", "/api/v1/campaigns", kWrite,
         [&api](const In& in) { return api.CreateCampaign(in.body); });
    Json("GET", "/api/v1/campaigns/{name}", kRead,
         [&api](const In& in) { return api.ShowCampaign(in.path[0]); });
    Json("PATCH", "/api/v1/campaigns/{name}", kWrite,
         [&api](const In& in) { return api.EditCampaign(in.path[0], in.body, in.actor); });
    Json("DELETE", "/api/v1/campaigns/{name}", kWrite,
         [&api](const In& in) { return api.DeleteCampaign(in.path[0], in.query, in.actor); });
    // Changes nothing, but is a POST like the create it prepares: the same access (CSRF token).
    Json("POST", "/api/v1/templates/preview", kWrite,
         [&api](const In& in) { return api.PreviewTemplate(in.body); });
    File("GET", "/api/v1/campaigns/{name}/export.csv", kRead,
         [&api](const In& in) { return api.InvitationsCsv(in.path[0], !in.req.head); });
    for (core::CampaignAction change : core::kAllCampaignActions) {
      const std::string action(core::ToString(change));
      Json("POST", "/api/v1/campaigns/{name}/" + action, kWrite, [&api, action](const In& in) {
        return api.ChangeCampaign(in.path[0], action, in.actor);
      });
    }
    Json("POST", "/api/v1/campaigns/{name}/retry-failed", kWrite,
         [&api](const In& in) { return api.RetryFailed(in.path[0], in.body); });
    Json("POST", "/api/v1/campaigns/{name}/resend-unknown", kWrite,
         [&api](const In& in) { return api.ResendUnknown(in.path[0], in.body); });
    Json("GET", "/api/v1/campaigns/{name}/series", kRead,
         [&api](const In& in) { return api.CampaignSeries(in.path[0], in.query); });
    Json("GET", "/api/v1/campaigns/{name}/errors", kRead,
         [&api](const In& in) { return api.CampaignErrors(in.path[0]); });
    Json("GET", "/api/v1/campaigns/{name}/events", kRead,
         [&api](const In& in) { return api.CampaignEvents(in.path[0], in.query); });
    Json("GET", "/api/v1/campaigns/{name}/attempts", kRead,
         [&api](const In& in) { return api.CampaignAttempts(in.path[0], in.query); });
    Json("GET", "/api/v1/contacts", kRead,
         [&api](const In& in) { return api.ListContacts(in.query); });
    Json("GET", "/api/v1/contacts/{id}", kRead,
         [&api](const In& in) { return api.ShowContact(in.path[0]); });
    Json("GET", "/api/v1/campaigns/{name}/contacts/{contact_id}", kRead,
         [&api](const In& in) { return api.ShowCampaignContact(in.path[0], in.path[1]); });
    File("GET", "/api/v1/campaigns/{name}/contacts/{contact_id}/start-link.svg", kRead,
         [&api](const In& in) { return api.StartLinkQr(in.path[0], in.path[1]); });
    File("GET", "/api/v1/campaigns/{name}/start-links.csv", kRead,
         [&api](const In& in) {
           return api.StartLinksCsv(in.path[0], in.query, !in.req.head);
         });
    Json("DELETE", "/api/v1/contacts/{id}", kWrite,
         [&api](const In& in) { return api.ForgetContact(in.path[0]); });
    Json("GET", "/api/v1/contacts/{id}/attempts", kRead,
         [&api](const In& in) { return api.ContactAttempts(in.path[0]); });
    Json(
        "POST", "/api/v1/imports", kWrite,
        [&api](const In& in) { return api.StageImport(std::move(in.req.body), in.query); },
        BodyKind::kUpload);
    Json("POST", "/api/v1/imports/{id}/commit", kWrite,
         [&api](const In& in) { return api.CommitImport(in.path[0]); });
    Json("GET", "/api/v1/accounts", kRead, [&api](const In&) { return api.ListAccounts(); });
    Json("POST", "/api/v1/accounts", kWrite,
         [&api](const In& in) { return api.AddAccount(in.body); });
    Json("PATCH", "/api/v1/accounts/{name}", kWrite,
         [&api](const In& in) { return api.UpdateAccount(in.path[0], in.body); });
    Json("DELETE", "/api/v1/accounts/{name}", kWrite,
         [&api](const In& in) { return api.RemoveAccount(in.path[0]); });
    Json(
        "POST", "/api/v1/accounts/{name}/updates", kWrite,
        [&api](const In& in) { return api.ForwardUpdates(in.path[0], in.req.body); },
        BodyKind::kJson, BodyParse::kVerbatim);
    // A user account's login, question by question (web/user_logins.h).
    Json("POST", "/api/v1/accounts/{name}/login", kWrite,
         [this](const In& in) { return user_logins_.Step(in.path[0], in.body); });
    // Telegram's own calls carry no session or token of ours: the account's webhook secret
    // (X-Telegram-Bot-Api-Secret-Token) is what authenticates them.
    router_.Add({"POST", "/telegram/webhook/{account}",
                 [this](HttpRequest& req, HttpResponse& res) { Webhook(req, res); },
                 BodyKind::kJson});
    routes_.push_back({"POST", "/telegram/webhook/{account}"});
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
    // API tokens: the admin's session alone, never a token (Access::kAdmin).
    constexpr Access kAdmin = Access::kAdmin;
    Json("GET", "/api/v1/tokens", kAdmin, [&api](const In&) { return api.ListTokens(); });
    Json("POST", "/api/v1/tokens", kAdmin,
         [&api](const In& in) { return api.CreateToken(in.body, in.actor); });
    Json("DELETE", "/api/v1/tokens/{name}", kAdmin,
         [&api](const In& in) { return api.RevokeToken(in.path[0], in.actor); });
    Json("GET", "/api/v1/stats", kRead, [&api](const In&) { return api.Stats(); });
    Json("GET", "/api/v1/workers", kRead, [&api](const In&) { return api.ListWorkers(); });
  }

  // What an API handler gets: the request's path parameters in order, its query, its JSON body
  // (an empty object for an upload or no body) and who made it.
  struct In {
    HttpRequest& req;
    const std::vector<std::string>& path;
    const Query& query;
    json body;
    const core::Actor& actor;
  };
  using JsonHandler = std::function<Result<Reply>(const In&)>;
  using FileHandler = std::function<Result<FileReply>(const In&)>;
  using RawHandler = std::function<void(HttpRequest&, HttpResponse&, const Caller&)>;

  // Registers a handler that runs only for a caller allowed `access` (for a state change made
  // with a session cookie, that includes a matching X-CSRF-Token).
  void Raw(std::string_view method, const std::string& path, Access access, RawHandler handler,
           BodyKind body = BodyKind::kJson) {
    routes_.push_back({std::string(method), path});
    if (method == "GET") body = BodyKind::kNone;
    router_.Add({std::string(method), path,
                 [this, access, handler = std::move(handler)](HttpRequest& req, HttpResponse& res) {
                   std::optional<Caller> caller = Authenticate(req, res, access);
                   if (caller) handler(req, res, *caller);
                 },
                 body});
  }

  // Registers an API handler: authenticated, JSON body parsed (unless it is an upload), the
  // Result mapped to the reply or {"error": ...}.
  void Json(std::string_view method, const std::string& path, Access access, JsonHandler handler,
            BodyKind body = BodyKind::kJson, BodyParse parse = BodyParse::kObject) {
    Raw(
        method, path, access,
        [handler = std::move(handler), body, parse](HttpRequest& req, HttpResponse& res,
                                                    const Caller& caller) {
          In in{req, req.params, req.query, json::object(), caller.actor};
          if (body != BodyKind::kUpload && parse == BodyParse::kVerbatim) {
            if (Status nested = CheckNesting(req); !nested) return SendError(res, nested.error());
          } else if (body != BodyKind::kUpload) {
            Result<json> parsed = ParseBody(req);
            if (!parsed) return SendError(res, parsed.error());
            in.body = std::move(*parsed);
          }
          Result<Reply> reply = handler(in);
          if (!reply) return SendError(res, reply.error());
          SendJson(res, reply->body, reply->status);
        },
        body);
  }

  // Registers a GET handler whose answer is a file (CSV, SVG): authenticated as Json is, never
  // cached (start links are personal), saved under its name when it has one.
  void File(std::string_view method, const std::string& path, Access access, FileHandler handler) {
    Raw(method, path, access,
        [handler = std::move(handler)](HttpRequest& req, HttpResponse& res, const Caller& caller) {
          In in{req, req.params, req.query, json::object(), caller.actor};
          Result<FileReply> reply = handler(in);
          if (!reply) return SendError(res, reply.error());
          res.status = reply->status;
          res.content_type = reply->content_type;
          res.body = std::move(reply->body);
          res.SetHeader("Cache-Control", "no-store");
          if (!reply->filename.empty()) {
            res.SetHeader("Content-Disposition",
                          fmt::format("attachment; filename=\"{}\"", reply->filename));
          }
        });
  }

  // The caller, or std::nullopt with the error response already written.
  std::optional<Caller> Authenticate(const HttpRequest& req, HttpResponse& res, Access access) {
    std::string_view authorization = req.Header("Authorization");
    if (!authorization.empty()) {
      constexpr std::string_view kBearer = "Bearer ";
      if (!authorization.starts_with(kBearer)) {
        SendError(res, 401, "unauthenticated", "Authorization: expected a Bearer token");
        return std::nullopt;
      }
      Result<std::optional<storage::ApiToken>> token =
          store_.FindApiToken(TokenHash(authorization.substr(kBearer.size())));
      if (!token) {
        SendError(res, token.error());
        return std::nullopt;
      }
      if (!token->has_value()) {
        SendError(res, 401, "unauthenticated", "unknown or revoked API token");
        return std::nullopt;
      }
      const storage::ApiToken& found = **token;
      if (found.expires_at && *found.expires_at <= NowMs()) {
        SendError(res, 401, "unauthenticated",
                  fmt::format("the API token {} expired: create a new one", found.name));
        return std::nullopt;
      }
      if (access == Access::kAdmin) {
        SendError(res, 403, "forbidden",
                  fmt::format("the API token {} cannot manage API tokens: that needs the "
                              "dashboard's admin session (or `tginvite token`)",
                              found.name));
        return std::nullopt;
      }
      if (!core::Allows(found.scope, ScopeFor(access))) {
        SendError(
            res, 403, "forbidden",
            fmt::format("the API token {} has the {} scope; this request needs {}", found.name,
                        core::ToString(found.scope), core::ToString(ScopeFor(access))));
        return std::nullopt;
      }
      return Caller{std::nullopt, core::Actor::Token(found.name)};
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
    const bool changes =
        access == Access::kWrite || (access == Access::kAdmin && req.method != "GET");
    if (changes && !SameSecret(req.Header("X-CSRF-Token"), (*session)->csrf_token)) {
      SendError(res, 403, "csrf", "missing or wrong X-CSRF-Token header");
      return std::nullopt;
    }
    return Caller{std::move(*session), core::Actor::Dashboard("admin")};
  }

  void Readyz(HttpResponse& res) {
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

  // Who is logging in, for the login limiter and the log: the peer, or behind a proxy the last
  // X-Forwarded-For hop (the address the proxy saw; anything a client forged comes before it).
  std::string ClientAddress(const HttpRequest& req) const {
    if (!options_.behind_proxy) return req.remote_addr;
    std::string_view last = req.Header("X-Forwarded-For");
    if (last.empty()) return req.remote_addr;
    if (size_t comma = last.rfind(','); comma != std::string_view::npos) {
      last.remove_prefix(comma + 1);
    }
    while (!last.empty() && last.front() == ' ') last.remove_prefix(1);
    while (!last.empty() && last.back() == ' ') last.remove_suffix(1);
    return last.empty() ? req.remote_addr : PrintableForLog(last, 64);
  }

  void Login(HttpRequest& req, HttpResponse& res) {
    const std::string client = ClientAddress(req);
    const std::string key = ClientKey(client);
    if (int64_t wait = limiter_.Check(key, NowMs()); wait > 0) {
      res.SetHeader("Retry-After", std::to_string(wait));
      SendError(res, 429, "rate_limited",
                fmt::format("too many failed logins: retry in {} s", wait));
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
      limiter_.RecordFailure(key, NowMs());
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
    res.SetHeader("Set-Cookie", cookie);
    SendJson(res, {{"csrf_token", csrf.Reveal()}, {"expires_at", session.expires_at}});
  }

  void Logout(const HttpRequest& req, HttpResponse& res, const Caller& caller) {
    if (caller.session) {
      if (Status deleted = store_.DeleteSession(caller.session->token_hash); !deleted) {
        return SendError(res, deleted.error());
      }
    }
    std::string cookie =
        fmt::format("{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0", kCookieName);
    if (OverTls(req)) cookie += "; Secure";
    res.SetHeader("Set-Cookie", cookie);
    SendJson(res, {{"status", "logged out"}});
  }

  // A call from Telegram to the account's webhook. Every refusal — no secret, a wrong one, an
  // unknown account, an account that does not take its updates by webhook — is the same 401 with
  // the same body, so a caller learns nothing about which accounts exist. The secret is only
  // hashed and compared, never logged.
  void Webhook(HttpRequest& req, HttpResponse& res) {
    const std::string_view secret = req.Header("X-Telegram-Bot-Api-Secret-Token");
    const std::string secret_hash = TokenHash(secret);  // hashed even when absent: same cost
    Result<storage::Account> account = store_.FindAccount(req.params[0]);
    if (!account && account.error().code != ErrorCode::kNotFound) {
      return SendError(res, account.error());  // the database: Telegram retries a 5xx later
    }
    if (!account || secret.empty() || account->updates_via != core::UpdatesVia::kWebhook ||
        !SameSecret(secret_hash, account->webhook_secret_hash)) {
      return SendError(res, 401, "unauthenticated", "unknown webhook or wrong secret token");
    }
    if (Status nested = CheckNesting(req); !nested) return SendError(res, nested.error());
    // Telegram waits for the answer before it sends the account's next update: the inbox takes
    // the update in one short transaction and a worker acts on it later.
    Result<json> counts = api_.IngestUpdates(account->id, req.body);
    if (!counts) return SendError(res, counts.error());
    SendJson(res, *counts);
  }

  void Metrics(HttpResponse& res) {
    Result<std::string> text = RenderMetrics(store_, NowMs(), requests_.Snapshot());
    if (!text) return SendError(res, text.error());
    res.status = 200;
    res.content_type = kMetricsContentType;
    res.body = std::move(*text);
  }

  storage::Store& store_;
  ServerOptions options_;
  Api api_;
  UserLogins user_logins_;
  Router router_;
  std::vector<std::pair<std::string, std::string>> routes_;
  RequestCounter requests_;
  LoginLimiter limiter_;
  std::unique_ptr<HttpServer> http_;
};

Server::Server(storage::Store& store, ServerOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}

Server::~Server() = default;

Result<int> Server::Start() { return impl_->Start(); }

void Server::Stop() { impl_->Stop(); }

std::vector<std::pair<std::string, std::string>> Server::Routes() const { return impl_->routes(); }

std::string Server::ServeBytes(std::string_view bytes) const { return impl_->ServeBytes(bytes); }

}  // namespace tginvite::web
