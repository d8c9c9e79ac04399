// `tginvite backup` and `tginvite restore`. SQLite: the store writes a checked copy (the online
// backup API) and restore swaps a checked copy in while nothing uses the database. PostgreSQL:
// pg_dump and pg_restore do it; the commands say how. Neither ever prints or copies the secret
// key: they say where it is, because a backup's tokens open only with it.
#include <chrono>

#include <fmt/core.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "storage/backups.h"
#include "storage/database_url.h"

namespace tginvite::cli {
namespace {

// A word for a POSIX shell, in single quotes.
std::string ShellQuoted(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Where the key is, for the lines that say it is not in the backup.
std::string KeyWhereabouts(const SecretKeys& keys) {
  switch (keys.source) {
    case KeySource::kEnvironment:
      return fmt::format("it is the value of {} in this environment", kSecretKeyEnv);
    case KeySource::kFile:
      return fmt::format("it is in the key file {}", keys.key_file);
    case KeySource::kNone:
      break;
  }
  return fmt::format("no key is loaded here (expected in {} or the key file {})", kSecretKeyEnv,
                     keys.key_file);
}

void PrintKeyNotice(const SecretKeys& keys, std::string_view what) {
  fmt::print(
      "the secret key is NOT in the {}: {}. Keep a copy of it apart from the {}; without the key "
      "that sealed them, the bot tokens in it cannot be opened (each bot then needs `tginvite "
      "account update`)\n",
      what, KeyWhereabouts(keys), what);
}

}  // namespace

int RunBackup(storage::Store& store, const SecretKeys& keys, const BackupOptions& options) {
  Result<storage::BackupReport> report = store.Backup(
      options.out, options.force ? storage::Overwrite::kYes : storage::Overwrite::kNo);
  if (!report) return Report(report.error());
  fmt::print("backup {}: {} bytes, schema version {}, integrity_check: {}\n", report->path,
             WithThousands(report->bytes), report->schema_version, report->integrity);
  PrintKeyNotice(keys, "backup");
  fmt::print("restore it with: tginvite restore {} (while no worker or server uses the database)\n",
             ShellQuoted(report->path));
  return kExitOk;
}

int RunPostgresBackupAdvice(const GlobalOptions& global, const SecretKeys& keys,
                            const BackupOptions& options) {
  const std::string url = storage::RedactDatabaseUrl(global.db);
  fmt::print("tginvite does not copy a PostgreSQL database itself; pg_dump does (nothing was "
             "written):\n");
  fmt::print("  pg_dump --format=custom --file={} {}\n", ShellQuoted(options.out),
             ShellQuoted(url));
  if (url != global.db) {
    fmt::print("  (the password is shown as ***: give it through PGPASSWORD or ~/.pgpass)\n");
  }
  fmt::print("restore into an empty database with:\n");
  fmt::print("  pg_restore --no-owner --dbname={} {}\n", ShellQuoted(url),
             ShellQuoted(options.out));
  PrintKeyNotice(keys, "dump");
  return kExitOk;
}

int RunRestore(const GlobalOptions& global, const SecretKeys& keys, const std::string& file) {
  if (storage::IsPostgresUrl(global.db)) {
    return Report(Fail(ErrorCode::kInvalidArgument,
                       "restore: a PostgreSQL database is restored with pg_restore (see `tginvite "
                       "backup --out FILE` for the commands), not by tginvite"));
  }
  std::optional<std::string> target = storage::SqliteFileOf(global.db);
  if (!target) {
    return Report(Fail(ErrorCode::kInvalidArgument, "restore: --db names no database file"));
  }
  storage::RestoreRequest request;
  request.backup = file;
  request.target = *target;
  request.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  Result<storage::RestoreReport> report = storage::RestoreSqliteDatabase(request);
  if (!report) return Report(report.error());
  fmt::print("restore {}: a tginvite database at schema version {}, integrity_check: {}\n", file,
             report->backup.schema_version, report->backup.integrity);
  if (!report->kept.empty()) {
    fmt::print("restore {}: the database it replaced is kept as {}\n", file, report->kept);
  }
  fmt::print("restore {}: {} restored (an older schema is migrated when tginvite next opens it)\n",
             file, *target);
  PrintKeyNotice(keys, "backup");
  return kExitOk;
}

}  // namespace tginvite::cli
