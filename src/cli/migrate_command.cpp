// `tginvite migrate`: applies the schema migrations and nothing else, for operators who want that
// step separate from starting the fleet (every process would otherwise migrate on open; on
// PostgreSQL that happens under an advisory lock, so concurrent starts are safe either way).
#include <fmt/core.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "storage/database_url.h"

namespace tginvite::cli {

int RunMigrate(const GlobalOptions& global) {
  Result<SecretKeys> keys = LoadSecretKeys(global.secret_key_file);
  if (!keys) return Report(keys.error());
  PrintWarnings(keys->AllWarnings());
  Result<std::unique_ptr<storage::Store>> store =
      storage::OpenStore(global.db, keys->StoreOptionsFor(storage::OpenMode::kCreate));
  if (!store) return Report(store.error());
  fmt::print("database {}: schema is at version {} ({}); nothing left to migrate\n",
             storage::RedactDatabaseUrl(global.db), (*store)->schema_version(),
             (*store)->backend());
  // Tokens an older version stored in plaintext are sealed as part of the upgrade; without a key
  // that is a warning: the schema is migrated all the same.
  Result<int64_t> sealed = (*store)->SealSecrets(storage::Store::SealScope::kPlaintext);
  if (!sealed) {
    PrintWarnings(
        {sealed.error().code == ErrorCode::kInvalidArgument
             ? sealed.error().message  // tokens in plaintext, and no key to seal them
             : "could not look for bot tokens left in plaintext: " + sealed.error().message});
  } else if (*sealed > 0) {
    fmt::print("sealed {} bot token{} that an older version stored in plaintext (key {})\n",
               *sealed, *sealed == 1 ? "" : "s", keys->current->id());
  }
  return kExitOk;
}

}  // namespace tginvite::cli
