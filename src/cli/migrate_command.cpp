// `tginvite migrate`: applies the schema migrations and nothing else, for operators who want that
// step separate from starting the fleet (every process would otherwise migrate on open; on
// PostgreSQL that happens under an advisory lock, so concurrent starts are safe either way).
#include <fmt/core.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "storage/postgres/pg_schema.h"
#include "storage/postgres/pg_url.h"
#include "storage/sqlite/schema.h"

namespace tginvite::cli {

int RunMigrate(const GlobalOptions& global) {
  Result<std::unique_ptr<storage::Store>> store =
      storage::OpenStore(global.db, storage::OpenMode::kCreate);
  if (!store) return Report(store.error());
  const bool postgres = (*store)->backend() == "postgres";
  std::span<const storage::Migration> migrations =
      postgres ? storage::PgMigrations() : storage::SqliteMigrations();
  fmt::print("database {}: schema is at version {} ({}); nothing left to migrate\n",
             storage::RedactDatabaseUrl(global.db), migrations.back().version,
             (*store)->backend());
  return kExitOk;
}

}  // namespace tginvite::cli
