// Part of the Store (storage/store.h): copies of the database, and what `tginvite restore` and
// `tginvite import-legacy` need from SQLite files that no store has open.
//
// A backup is the engine's job: SQLite copies its pages with the online backup API (consistent
// while a worker writes); PostgreSQL leaves it to pg_dump and answers kInvalidArgument saying so.
// The secret key is never in a backup: the store does not have it, only the keyring made from it,
// and it writes the database's pages, where tokens are sealed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace tginvite::storage {

class Connection;  // storage/connection.h

enum class Overwrite { kNo, kYes };

// What a finished backup is, as checked after it was written.
struct BackupReport {
  std::string path;
  int64_t bytes = 0;
  int schema_version = 0;
  std::string integrity;  // PRAGMA integrity_check's answer on the copy: "ok"
};

class Backups {
 public:
  virtual ~Backups() = default;

  // Writes a consistent copy of the whole database to `path`, readable by its owner alone (0600),
  // then opens the copy and runs PRAGMA integrity_check on it. The copy is written beside `path`
  // and renamed into place only once checked, so `path` is the old file or a whole backup.
  // kAlreadyExists when `path` exists and `overwrite` is kNo; kInvalidArgument on PostgreSQL (use
  // pg_dump) and for an in-memory database; kInternal when the copy fails its check.
  virtual Result<BackupReport> Backup(const std::string& path, Overwrite overwrite) = 0;
};

// What a file holds when it is a tginvite SQLite database.
struct DatabaseFileCheck {
  int schema_version = 0;
  std::string integrity;  // "ok"
};

// Opens `path` read-only and checks that it is a tginvite database this binary can open: it has
// the schema_version table, PRAGMA integrity_check says "ok", and its version is not newer than
// this binary's. kInvalidArgument (saying which) otherwise; kNotFound when it does not exist.
Result<DatabaseFileCheck> CheckSqliteDatabaseFile(const std::string& path);

struct RestoreRequest {
  std::string backup;  // the file to restore
  std::string target;  // the database file it replaces
  // A worker whose heartbeat is younger than this, and that did not say it stopped, is taken to
  // be using the target.
  int64_t heartbeat_window_ms = 60'000;
  int64_t now_ms = 0;  // unix milliseconds
};

struct RestoreReport {
  DatabaseFileCheck backup;
  std::string kept;  // where the replaced database was kept ("<target>.before-restore"); empty
                     // when there was no target database
};

// Replaces the SQLite database `target` with `backup`, after CheckSqliteDatabaseFile(backup).
// Refuses (kAborted, naming what uses it) while anything uses the target: a worker in its
// `workers` table with a recent heartbeat and no stopped_at, or any process that has the file
// open — the target is opened in exclusive locking mode, which SQLite grants only when no other
// connection has the database open. Holding that lock, it copies the target to
// "<target>.before-restore" (0600; an older one is replaced) and then the backup's pages into the
// target in one transaction, so the target is the old database or the restored one, also after a
// crash.
Result<RestoreReport> RestoreSqliteDatabase(const RestoreRequest& request);

// Opens a SQLite file that is not tginvite's (the old app's database) read-only: nothing it runs
// can write (SQLITE_OPEN_READONLY). kNotFound when it does not exist,
// kInvalidArgument when it is not a SQLite database.
Result<std::unique_ptr<Connection>> OpenForeignSqliteReadOnly(const std::string& path);

}  // namespace tginvite::storage
