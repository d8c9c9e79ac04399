// The SQL stores' reads that every worker makes several times a second (its plan, and right
// before its sends), and its small writes (a flood pause, its heartbeat): one statement each, the
// same on SQLite and PostgreSQL.
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

Status SqlStore::PauseAccount(int64_t account_id, int64_t until) {
  return WriteUnit([&](Tx& tx) -> Status {
    RETURN_IF_ERROR(tx.Execute(
        "UPDATE accounts SET flood_until = CASE WHEN flood_until > ?1 THEN flood_until ELSE ?1 END "
        "WHERE id = ?2",
        {until, account_id}));
    return Ok();
  });
}

Status SqlStore::Heartbeat(const WorkerInfo& worker) {
  return WriteUnit([&](Tx& tx) -> Status {
    RETURN_IF_ERROR(tx.Execute(
        "INSERT INTO workers (id, host, pid, started_at, heartbeat_at, health, reason, stopped_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, NULLIF(CAST(? AS BIGINT), 0)) ON CONFLICT (id) DO UPDATE SET "
        "heartbeat_at = excluded.heartbeat_at, health = excluded.health, reason = "
        "excluded.reason, stopped_at = excluded.stopped_at",
        {worker.id, worker.host, worker.pid, worker.started_at, worker.heartbeat_at, worker.health,
         worker.reason, worker.stopped_at}));
    return Ok();
  });
}

}  // namespace tginvite::storage
