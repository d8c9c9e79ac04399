#include "web/dashboard.h"

#include <string>

#include <httplib.h>

namespace tginvite::web {
namespace {

// The dashboard loads nothing from elsewhere and runs no inline code, so a script injected through
// data that escaped the DOM APIs would still not run.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'";

const DashboardAsset* Find(std::string_view name) {
  for (const DashboardAsset& asset : DashboardAssets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

// Assets keep their names across releases, so a browser must revalidate them (cheap: a 304)
// rather than cache them for a fixed time and run an old script against a new API.
void Serve(const DashboardAsset& asset, const httplib::Request& req, httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Cache-Control", "no-cache");
  res.set_header("ETag", std::string(asset.etag));
  if (asset.content_type.starts_with("text/html")) {
    res.set_header("Content-Security-Policy", kContentSecurityPolicy);
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("X-Frame-Options", "DENY");
  }
  if (req.get_header_value("If-None-Match") == asset.etag) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content(asset.body.data(), asset.body.size(), std::string(asset.content_type));
}

}  // namespace

void RegisterDashboard(httplib::Server& http) {
  http.Get("/", [](const httplib::Request& req, httplib::Response& res) {
    if (const DashboardAsset* index = Find("index.html")) Serve(*index, req, res);
  });
  http.Get(R"(/assets/(.+))", [](const httplib::Request& req, httplib::Response& res) {
    const DashboardAsset* asset = Find(req.matches[1].str());
    if (asset == nullptr || asset->name == "index.html") {
      res.status = 404;  // the server's error handler writes the JSON body
      return;
    }
    Serve(*asset, req, res);
  });
}

}  // namespace tginvite::web
