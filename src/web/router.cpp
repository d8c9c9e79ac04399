#include "web/router.h"

namespace tginvite::web {
namespace {

// Splits "/a/b/c" into {"a", "b", "c"}; "/" into {}. An empty segment ("/a//b", "/a/") is kept,
// so such paths match no template with a non-empty segment there.
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.empty() || path.front() != '/') return segments;
  path.remove_prefix(1);
  if (path.empty()) return segments;
  while (true) {
    size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool IsParameter(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

bool IsRest(std::string_view segment) { return IsParameter(segment) && segment.ends_with("*}"); }

// The parameters when `path` fits `pattern`.
std::optional<std::vector<std::string>> Match(std::string_view pattern, std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  std::vector<std::string_view> want = Segments(pattern);
  std::vector<std::string_view> got = Segments(path);
  std::vector<std::string> params;
  for (size_t i = 0; i < want.size(); ++i) {
    if (IsRest(want[i])) {
      if (i >= got.size()) return std::nullopt;
      // The rest of the path as sent, from this segment on.
      size_t offset = static_cast<size_t>(got[i].data() - path.data());
      std::string_view rest = path.substr(offset);
      if (rest.empty()) return std::nullopt;
      params.push_back(PercentDecode(rest, false));
      return params;
    }
    if (i >= got.size()) return std::nullopt;
    if (IsParameter(want[i])) {
      if (got[i].empty()) return std::nullopt;
      params.push_back(PercentDecode(got[i], false));
    } else if (want[i] != got[i]) {
      return std::nullopt;
    }
  }
  if (got.size() != want.size()) return std::nullopt;
  return params;
}

}  // namespace

void Router::Add(Route route) { routes_.push_back(std::move(route)); }

std::optional<RouteMatch> Router::Find(std::string_view method, std::string_view path) const {
  std::string_view wanted = method == "HEAD" ? "GET" : method;
  for (const Route& route : routes_) {
    if (route.method != wanted) continue;
    if (std::optional<std::vector<std::string>> params = Match(route.pattern, path)) {
      return RouteMatch{&route, std::move(*params)};
    }
  }
  return std::nullopt;
}

}  // namespace tginvite::web
