#include <string>

#include "storage/database_url.h"
#include "storage/postgres/pg_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/store.h"

namespace tginvite::storage {

Result<core::ResolvedSettings> LoadResolvedSettings(Catalog& store, const SettingScope& scope) {
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
