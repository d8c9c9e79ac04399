#include "web/dashboard.h"

#include <string>

#include "web/error_mapping.h"

namespace tginvite::web {
namespace {

// The dashboard loads nothing from elsewhere and runs no inline code, so a script injected through
// data that escaped the DOM APIs would still not run.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const DashboardAsset* Find(std::string_view name) {
  for (const DashboardAsset& asset : DashboardAssets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

// Assets keep their names across releases, so a browser must revalidate them (cheap: a 304)
// rather than cache them for a fixed time and run an old script against a new API.
void Serve(const DashboardAsset& asset, const HttpRequest& req, HttpResponse& res) {
  res.SetHeader("Cache-Control", "no-cache");
  res.SetHeader("ETag", asset.etag);
  if (asset.content_type.starts_with("text/html")) {
    res.SetHeader("Content-Security-Policy", kContentSecurityPolicy);
  }
  if (req.Header("If-None-Match") == asset.etag) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.content_type = asset.content_type;
  res.body = asset.body;
}

}  // namespace

std::vector<Route> DashboardRoutes() {
  std::vector<Route> routes;
  routes.push_back({"GET", "/", [](HttpRequest& req, HttpResponse& res) {
                      if (const DashboardAsset* index = Find("index.html")) Serve(*index, req, res);
                    }});
  routes.push_back({"GET", "/assets/{file*}", [](HttpRequest& req, HttpResponse& res) {
                      const DashboardAsset* asset = Find(req.params[0]);
                      if (asset == nullptr || asset->name == "index.html") {
                        res.status = 404;
                        res.content_type = "application/json";
                        res.body = ErrorBody("not_found", "no such dashboard file");
                        return;
                      }
                      Serve(*asset, req, res);
                    }});
  return routes;
}

}  // namespace tginvite::web
