#include "storage/database_url.h"

namespace tginvite::storage {

bool IsPostgresUrl(std::string_view url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

SqliteUrl ParseSqliteUrl(std::string_view url) {
  std::string_view rest = url.starts_with("sqlite:") ? url.substr(7) : url;
  SqliteUrl parsed{rest, std::nullopt};
  if (size_t query = rest.find('?'); query != std::string_view::npos) {
    parsed.parameter = rest.substr(query + 1);
    parsed.path = rest.substr(0, query);
  }
  return parsed;
}

std::string RedactDatabaseUrl(std::string_view url) {
  if (!IsPostgresUrl(url)) return std::string(url);
  std::string out(url);
  const size_t authority = out.find("://") + 3;
  const size_t end = out.find_first_of("/?", authority);
  const size_t at = out.rfind('@', end == std::string::npos ? out.size() : end);
  if (at != std::string::npos && at >= authority) {
    const size_t colon = out.find(':', authority);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  // A password given as a query parameter.
  for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    const size_t value = p + 9;
    const size_t stop = out.find('&', value);
    out.replace(value, (stop == std::string::npos ? out.size() : stop) - value, "***");
  }
  return out;
}

}  // namespace tginvite::storage
