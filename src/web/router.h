// Routes a request to its handler by method and path template. A template is literal segments and
// `{name}` segments ("/api/v1/campaigns/{name}/start"); a last segment `{name*}` takes the rest of
// the path, slashes included ("/assets/{file*}"). Literal segments are compared as sent (still
// percent-encoded); parameters are handed to the handler percent-decoded, so a campaign named
// "spring sale" is reached at /api/v1/campaigns/spring%20sale. HEAD is routed as GET.
//
// Each route also says how large a body it takes — known before the body is read, so that the
// server refuses an oversized body without reading it — and whether it may run on the network
// thread (only for handlers that never block: the liveness probe).
//
// Thread-safety: Add before the server starts; Find may then be called from any thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "web/http.h"

namespace tginvite::web {

enum class BodyKind {
  kNone,    // no body (GET and friends): any body is refused with 413
  kJson,    // a JSON document: HttpLimits::max_json_body
  kUpload,  // a file upload (CSV): HttpLimits::max_upload_body
};

enum class Execution {
  kPool,    // on one of the server's handler threads
  kInline,  // on the network thread: the handler must not block or take long
};

using HttpHandler = std::function<void(HttpRequest&, HttpResponse&)>;

struct Route {
  std::string method;
  std::string pattern;
  HttpHandler handler;
  BodyKind body = BodyKind::kNone;
  Execution execution = Execution::kPool;
};

struct RouteMatch {
  const Route* route = nullptr;
  std::vector<std::string> params;  // decoded
};

class Router {
 public:
  void Add(Route route);

  // The route for method + path (the path as sent, before '?'), or std::nullopt.
  std::optional<RouteMatch> Find(std::string_view method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace tginvite::web
