// PostgreSQL leaves backups to pg_dump, which knows its own engine better than we could.
#include "storage/postgres/pg_store.h"

namespace tginvite::storage {

Result<BackupReport> PgStore::Backup(const std::string& /*path*/, Overwrite /*overwrite*/) {
  return Fail(ErrorCode::kInvalidArgument,
              "backup: a PostgreSQL database is backed up with pg_dump (and restored with "
              "pg_restore), not by tginvite");
}

}  // namespace tginvite::storage
