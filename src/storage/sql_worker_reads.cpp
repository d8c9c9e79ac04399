// The SQL stores' reads that every worker makes several times a second (its plan, and right
// before its sends): one statement each, the same on SQLite and PostgreSQL.
#include "storage/sql_store.h"

namespace tginvite::storage {

Result<std::map<int64_t, core::RawSettings>> SqlStore::LoadAllSettings() {
  std::map<int64_t, core::RawSettings> scopes;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    scopes.clear();
    return session.ForEach("SELECT scope, key, value FROM settings", {},
                           [&scopes](const Row& row) -> Status {
                             scopes[row.Int(0)].emplace(row.Text(1), row.Text(2));
                             return Ok();
                           });
  }));
  return scopes;
}

Result<std::map<int64_t, int64_t>> SqlStore::FloodPauses() {
  std::map<int64_t, int64_t> pauses;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    pauses.clear();
    return session.ForEach("SELECT id, flood_until FROM accounts", {},
                           [&pauses](const Row& row) -> Status {
                             pauses[row.Int(0)] = row.Int(1);
                             return Ok();
                           });
  }));
  return pauses;
}

}  // namespace tginvite::storage
