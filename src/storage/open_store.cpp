#include <string>

#include "storage/postgres/pg_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/store.h"

namespace tginvite::storage {

Result<core::ResolvedSettings> LoadResolvedSettings(Store& store, const SettingScope& scope) {
  ASSIGN_OR_RETURN(core::RawSettings global, store.LoadSettings(std::nullopt));
  core::RawSettings overrides;
  if (scope) {
    ASSIGN_OR_RETURN(overrides, store.LoadSettings(scope));
  }
  return core::ResolveSettings(global, overrides);
}

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, OpenMode mode) {
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
    PgStoreOptions options;
    options.url = std::string(url);  // error messages name host and port, never the URL
    options.mode = mode;
    ASSIGN_OR_RETURN(std::unique_ptr<PgStore> store, PgStore::Open(std::move(options)));
    return std::unique_ptr<Store>(std::move(store));
  }
  std::string_view rest = url.starts_with("sqlite:") ? url.substr(7) : url;
  SqliteStoreOptions options;
  options.mode = mode;
  if (size_t query = rest.find('?'); query != std::string_view::npos) {
    std::string_view parameter = rest.substr(query + 1);
    rest = rest.substr(0, query);
    if (parameter == "synchronous=full") {
      options.sync = SqliteSync::kFull;
    } else if (parameter != "synchronous=normal") {
      return Fail(ErrorCode::kInvalidArgument,
                  "--db: unknown option \"{}\" (known: synchronous=normal, synchronous=full)",
                  parameter);
    }
  }
  if (rest.empty())
    return Fail(ErrorCode::kInvalidArgument, "--db: no database path in \"{}\"", url);
  options.path = std::string(rest);
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(std::move(options)));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace tginvite::storage
