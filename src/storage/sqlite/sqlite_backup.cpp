// Backups and restores of SQLite databases (storage/backups.h), with SQLite's online backup API:
// a copy taken in one step reads one snapshot, so it is consistent while a worker writes (WAL
// lets it read beside the writer); a restore writes the backup's pages into the target in one
// transaction.
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <thread>

#include "core/private_files.h"
#include "storage/backups.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/sqlite_connection.h"
#include "storage/sqlite/sqlite_store.h"

namespace tginvite::storage {
namespace {

// One raw sqlite3 handle, closed on scope exit (rolling back what it left open).
class Handle {
 public:
  Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { Close(); }

  // kUnavailable naming `path` when SQLite cannot open it.
  Status Open(const std::string& path, int flags) {
    Close();
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      Close();
      return Fail(ErrorCode::kUnavailable, "open {}: {}", path, message);
    }
    sqlite3_extended_result_codes(db_, 1);
    return Ok();
  }
  void Close() {
    if (db_ == nullptr) return;
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
  sqlite3* get() const { return db_; }

  // Runs statements; the error carries SQLite's result code in `rc`.
  Status Exec(std::string_view sql, int* rc = nullptr) {
    const int code = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, nullptr);
    if (rc != nullptr) *rc = code;
    if (code == SQLITE_OK) return Ok();
    return Fail(ErrorCode::kInternal, "{}", sqlite3_errmsg(db_));
  }

  // The rows of a query, every column as text (NULL as "").
  Result<std::vector<std::vector<std::string>>> Rows(std::string_view sql, int* rc = nullptr) {
    sqlite3_stmt* stmt = nullptr;
    int code = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    std::vector<std::vector<std::string>> rows;
    while (code == SQLITE_OK || code == SQLITE_ROW) {
      code = sqlite3_step(stmt);
      if (code != SQLITE_ROW) break;
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char* text = sqlite3_column_text(stmt, i);
        row.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    if (rc != nullptr) *rc = code;
    if (code != SQLITE_DONE) return Fail(ErrorCode::kInternal, "{}", sqlite3_errmsg(db_));
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
};

bool IsNotADatabase(int rc) { return (rc & 0xff) == SQLITE_NOTADB; }

// Copies every page of `from` into `to` in one step (one read snapshot of `from`, one write
// transaction on `to`). A busy or locked database is retried for a few seconds.
Status CopyPages(Handle& from, Handle& to, std::string_view what) {
  sqlite3_backup* backup = sqlite3_backup_init(to.get(), "main", from.get(), "main");
  if (backup == nullptr) {
    return Fail(ErrorCode::kUnavailable, "{}: {}", what, sqlite3_errmsg(to.get()));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::chrono::milliseconds pause{10};
  int rc = SQLITE_OK;
  for (;;) {
    rc = sqlite3_backup_step(backup, -1);
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || std::chrono::steady_clock::now() > deadline)
      break;
    std::this_thread::sleep_for(pause);  // backing off from a writer holding the lock
    pause = std::min(pause * 2, std::chrono::milliseconds(500));
  }
  sqlite3_backup_finish(backup);
  if (rc == SQLITE_DONE) return Ok();
  const ErrorCode code = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? ErrorCode::kAborted
                         : (rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR
                             ? ErrorCode::kUnavailable
                             : ErrorCode::kInternal;
  return Fail(code, "{}: {}", what, sqlite3_errstr(rc));
}

// Writes a copy of the database open in `from` to `path` (0600): first to "<path>.partial", made
// a single file (rollback journal, not WAL), then renamed into place.
Status WriteCopy(Handle& from, const std::string& path) {
  const std::string partial = path + ".partial";
  std::error_code ignored;
  std::filesystem::remove(partial, ignored);
  std::filesystem::remove(partial + "-journal", ignored);
  RETURN_IF_ERROR(core::CreatePrivateFile(partial, "", core::IfExists::kFail));
  {
    Handle to;
    RETURN_IF_ERROR(to.Open(partial, SQLITE_OPEN_READWRITE));
    Status copied = CopyPages(from, to, "copy to " + path);
    if (copied) copied = to.Exec("PRAGMA journal_mode = DELETE");
    if (!copied) {
      to.Close();
      std::filesystem::remove(partial, ignored);
      return copied;
    }
  }
  return core::RenameDurably(partial, path);
}

int LatestVersion() { return SqliteMigrations().back().version; }

}  // namespace

namespace {

Result<DatabaseFileCheck> CheckFile(const std::string& path, int open_flags) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return Fail(ErrorCode::kNotFound, "{} does not exist", path);
  }
  if (!std::filesystem::is_regular_file(path, error)) {
    return Fail(ErrorCode::kInvalidArgument, "{} is not a file", path);
  }
  Handle db;
  RETURN_IF_ERROR(db.Open(path, open_flags));
  int rc = SQLITE_OK;
  Result<std::vector<std::vector<std::string>>> tables = db.Rows(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('schema_version', "
      "'campaigns', 'contacts', 'invitations', 'attempts')",
      &rc);
  if (!tables) {
    if (IsNotADatabase(rc)) {
      return Fail(ErrorCode::kInvalidArgument, "{} is not a SQLite database", path);
    }
    return Fail(ErrorCode::kInvalidArgument, "{} cannot be read: {}", path,
                tables.error().message);
  }
  if (tables->size() != 5) {
    return Fail(ErrorCode::kInvalidArgument,
                "{} is not a tginvite database (it lacks tginvite's tables: schema_version, "
                "campaigns, contacts, invitations, attempts)",
                path);
  }
  ASSIGN_OR_RETURN(std::vector<std::vector<std::string>> check, db.Rows("PRAGMA integrity_check"));
  if (check.empty() || check.front().empty() || check.front().front() != "ok") {
    std::string first = check.empty() || check.front().empty() ? "" : check.front().front();
    return Fail(ErrorCode::kInvalidArgument, "{} fails PRAGMA integrity_check: {}", path,
                first.substr(0, 200));
  }
  ASSIGN_OR_RETURN(std::vector<std::vector<std::string>> version,
                   db.Rows("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  DatabaseFileCheck result;
  result.integrity = "ok";
  result.schema_version = version.empty() ? 0 : std::atoi(version.front().front().c_str());
  if (result.schema_version < 1) {
    return Fail(ErrorCode::kInvalidArgument, "{} is not a tginvite database (no schema version)",
                path);
  }
  if (result.schema_version > LatestVersion()) {
    return Fail(ErrorCode::kInvalidArgument,
                "{} is at schema version {}, newer than this tginvite knows ({}): use a newer "
                "tginvite",
                path, result.schema_version, LatestVersion());
  }
  return result;
}

}  // namespace

Result<DatabaseFileCheck> CheckSqliteDatabaseFile(const std::string& path) {
  return CheckFile(path, SQLITE_OPEN_READONLY);
}

Result<BackupReport> SqliteStore::Backup(const std::string& path, Overwrite overwrite) {
  if (options_.path == ":memory:" || options_.path.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "backup: an in-memory database cannot be backed up");
  }
  std::error_code error;
  if (std::filesystem::exists(path, error)) {
    if (std::filesystem::equivalent(path, options_.path, error)) {
      return Fail(ErrorCode::kInvalidArgument, "backup: {} is the database itself", path);
    }
    if (overwrite == Overwrite::kNo) {
      return Fail(ErrorCode::kAlreadyExists, "backup: {} exists (--force replaces it)", path);
    }
  }
  Handle from;
  RETURN_IF_ERROR_CTX(from.Open(options_.path, SQLITE_OPEN_READWRITE), "backup");
  sqlite3_busy_timeout(from.get(), 5000);
  RETURN_IF_ERROR_CTX(WriteCopy(from, path), "backup");
  from.Close();
  ASSIGN_OR_RETURN(DatabaseFileCheck check, CheckSqliteDatabaseFile(path));
  BackupReport report;
  report.path = path;
  report.bytes = static_cast<int64_t>(std::filesystem::file_size(path, error));
  report.schema_version = check.schema_version;
  report.integrity = check.integrity;
  return report;
}

Result<RestoreReport> RestoreSqliteDatabase(const RestoreRequest& request) {
  const std::string what = "restore " + request.backup;
  RestoreReport report;
  ASSIGN_OR_RETURN(report.backup, CheckSqliteDatabaseFile(request.backup));
  std::error_code error;
  const bool target_exists = std::filesystem::exists(request.target, error);
  if (target_exists && std::filesystem::equivalent(request.backup, request.target, error)) {
    return Fail(ErrorCode::kInvalidArgument, "{}: that is the database itself", what);
  }
  if (!target_exists) {
    const std::filesystem::path folder = std::filesystem::path(request.target).parent_path();
    if (!folder.empty()) RETURN_IF_ERROR_CTX(core::CreatePrivateFolders(folder), what);
    RETURN_IF_ERROR_CTX(core::CreatePrivateFile(request.target, "", core::IfExists::kFail), what);
  }

  Handle target;
  RETURN_IF_ERROR_CTX(target.Open(request.target, SQLITE_OPEN_READWRITE), what);
  // Exclusive locking mode, set before the first access: SQLite then takes the file's exclusive
  // lock and keeps it until the connection closes, and grants it only when no other connection
  // (a worker, `serve`, `up`, any command) has the database open — in WAL mode every open
  // connection holds a shared lock on the wal-index.
  RETURN_IF_ERROR_CTX(target.Exec("PRAGMA locking_mode = EXCLUSIVE"), what);
  int rc = SQLITE_OK;
  if (Status locked = target.Exec("BEGIN EXCLUSIVE", &rc); !locked) {
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
      return Fail(ErrorCode::kAborted,
                  "{}: {} is in use (a worker, `tginvite serve` or `up`, or another command has it "
                  "open): stop it first",
                  what, request.target);
    }
    if (IsNotADatabase(rc)) {
      return Fail(ErrorCode::kInvalidArgument, "{}: {} is not a SQLite database", what,
                  request.target);
    }
    return locked.error().WithContext(what);
  }
  // A worker that said nothing of stopping and beat lately: it may hold the database on a file
  // system whose locks do not reach here, or be between two starts. Its heartbeat is written by
  // every plan (4 a second).
  Result<std::vector<std::vector<std::string>>> workers = target.Rows(
      fmt::format("SELECT id, host, pid, ({} - heartbeat_at) / 1000 FROM workers "
                  "WHERE stopped_at IS NULL AND heartbeat_at >= {} ORDER BY heartbeat_at DESC",
                  request.now_ms, request.now_ms - request.heartbeat_window_ms),
      &rc);
  if (workers && !workers->empty()) {
    const std::vector<std::string>& worker = workers->front();
    return Fail(ErrorCode::kAborted,
                "{}: worker {} on {} (pid {}) is using {}: its last heartbeat was {} s ago and it "
                "did not stop; stop it first (if it died, wait until its heartbeat is {} s old)",
                what, worker[0], worker[1], worker[2], request.target, worker[3],
                request.heartbeat_window_ms / 1000);
  }
  if (!workers && target_exists && IsNotADatabase(rc)) {
    return Fail(ErrorCode::kInvalidArgument, "{}: {} is not a SQLite database", what,
                request.target);
  }
  // No workers table: not a tginvite database, or an empty file; it is replaced all the same.
  RETURN_IF_ERROR_CTX(target.Exec("COMMIT"), what);  // the exclusive lock stays

  if (target_exists) {
    report.kept = request.target + ".before-restore";
    RETURN_IF_ERROR_CTX(WriteCopy(target, report.kept), what);
  }
  Handle backup;
  RETURN_IF_ERROR_CTX(backup.Open(request.backup, SQLITE_OPEN_READONLY), what);
  RETURN_IF_ERROR(CopyPages(backup, target, what));
  backup.Close();
  RETURN_IF_ERROR_CTX(target.Exec("PRAGMA journal_mode = WAL"), what);
  target.Close();  // checkpoints the WAL into the file and releases the lock
  // Read-write, so that closing it leaves no -wal or -shm file behind.
  if (Result<DatabaseFileCheck> restored = CheckFile(request.target, SQLITE_OPEN_READWRITE);
      !restored) {
    return restored.error().WithContext(what);
  }
  return report;
}

Result<std::unique_ptr<Connection>> OpenForeignSqliteReadOnly(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return Fail(ErrorCode::kNotFound, "{} does not exist", path);
  }
  {
    // SQLite's own header, or an empty file (an empty database).
    std::ifstream in(path, std::ios::binary);
    char header[16] = {};
    in.read(header, sizeof header);
    if (in.gcount() > 0 && std::string_view(header, static_cast<size_t>(in.gcount())) !=
                               std::string_view("SQLite format 3\0", 16)) {
      return Fail(ErrorCode::kInvalidArgument, "{} is not a SQLite database", path);
    }
  }
  SqliteOptions options;
  options.access = SqliteAccess::kReadOnly;
  options.create = SqliteCreate::kMustExist;
  options.busy_timeout = std::chrono::milliseconds(2000);
  Result<std::unique_ptr<SqliteConnection>> conn = SqliteConnection::Open(path, options);
  if (!conn) {
    return Fail(conn.error().code == ErrorCode::kUnavailable ? ErrorCode::kUnavailable
                                                             : ErrorCode::kInvalidArgument,
                "{} cannot be opened: {}", path, conn.error().message);
  }
  Status readable = (*conn)->ForEach("SELECT count(*) FROM sqlite_master", {},
                                     [](const Row&) -> Status { return Ok(); });
  if (!readable) {
    return Fail(ErrorCode::kInvalidArgument, "{} is not a SQLite database ({})", path,
                readable.error().message);
  }
  return std::unique_ptr<Connection>(std::move(*conn));
}

}  // namespace tginvite::storage
