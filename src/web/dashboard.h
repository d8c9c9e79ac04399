// The dashboard: static HTML, CSS and ES modules from web/ (plus the uPlot chart library),
// compiled into the binary by cmake/EmbedAssets.cmake. The dashboard routes in the browser
// (#/campaigns/NAME and so on), so the server only ever serves `/` and `/assets/<file>`; every
// piece of data comes from /api/v1.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "web/router.h"

namespace tginvite::web {

struct DashboardAsset {
  std::string_view name;          // path under web/, e.g. "js/main.js"; served at /assets/<name>
  std::string_view content_type;  // from the file's extension
  std::string_view etag;          // quoted, from the content's hash
  std::string_view body;
};

// Every embedded file; defined in the source generated at build time. Static storage.
std::span<const DashboardAsset> DashboardAssets();

// The routes GET / (index.html) and GET /assets/{file*}. HTML carries a strict
// Content-Security-Policy (no inline scripts or styles, no framing) and is never cached without
// revalidation; assets answer If-None-Match with 304. An unknown name is a 404 that does not echo
// it.
std::vector<Route> DashboardRoutes();

}  // namespace tginvite::web
