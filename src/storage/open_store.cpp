#include <string>

#include "storage/postgres/pg_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/store.h"

namespace tginvite::storage {
namespace {

bool IsPostgresUrl(std::string_view url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

// A "sqlite:" URL (or bare path) split into the file and its "?..." parameter.
struct SqliteUrl {
  std::string_view path;
  std::optional<std::string_view> parameter;
};

SqliteUrl ParseSqliteUrl(std::string_view url) {
  std::string_view rest = url.starts_with("sqlite:") ? url.substr(7) : url;
  SqliteUrl parsed{rest, std::nullopt};
  if (size_t query = rest.find('?'); query != std::string_view::npos) {
    parsed.parameter = rest.substr(query + 1);
    parsed.path = rest.substr(0, query);
  }
  return parsed;
}

}  // namespace

Result<core::ResolvedSettings> LoadResolvedSettings(Store& store, const SettingScope& scope) {
  ASSIGN_OR_RETURN(core::RawSettings global, store.LoadSettings(std::nullopt));
  core::RawSettings overrides;
  if (scope) {
    ASSIGN_OR_RETURN(overrides, store.LoadSettings(scope));
  }
  return core::ResolveSettings(global, overrides);
}

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const StoreOptions& store_options) {
  if (IsPostgresUrl(url)) {
    PgStoreOptions options;
    options.url = std::string(url);  // error messages name host and port, never the URL
    options.mode = store_options.mode;
    options.secrets = store_options.secrets;
    ASSIGN_OR_RETURN(std::unique_ptr<PgStore> store, PgStore::Open(std::move(options)));
    return std::unique_ptr<Store>(std::move(store));
  }
  const SqliteUrl parsed = ParseSqliteUrl(url);
  SqliteStoreOptions options;
  options.mode = store_options.mode;
  options.secrets = store_options.secrets;
  if (parsed.parameter == "synchronous=full") {
    options.sync = SqliteSync::kFull;
  } else if (parsed.parameter && *parsed.parameter != "synchronous=normal") {
    return Fail(ErrorCode::kInvalidArgument,
                "--db: unknown option \"{}\" (known: synchronous=normal, synchronous=full)",
                *parsed.parameter);
  }
  if (parsed.path.empty())
    return Fail(ErrorCode::kInvalidArgument, "--db: no database path in \"{}\"", url);
  options.path = std::string(parsed.path);
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(std::move(options)));
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, OpenMode mode) {
  StoreOptions options;
  options.mode = mode;
  return OpenStore(url, options);
}

std::optional<std::string> SqliteFileOf(std::string_view url) {
  if (IsPostgresUrl(url)) return std::nullopt;
  const SqliteUrl parsed = ParseSqliteUrl(url);
  if (parsed.path.empty() || parsed.path == ":memory:") return std::nullopt;
  return std::string(parsed.path);
}

}  // namespace tginvite::storage
