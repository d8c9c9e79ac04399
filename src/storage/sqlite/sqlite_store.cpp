#include "storage/sqlite/sqlite_store.h"

#include <filesystem>
#include <map>
#include <regex>

#include "core/message_template.h"
#include "core/private_files.h"
#include "storage/sql_web_rows.h"
#include "storage/sqlite/schema.h"

namespace tginvite::storage {

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(SqliteStoreOptions options) {
  const bool in_memory = options.path == ":memory:";
  if (!in_memory && options.mode == OpenMode::kCreate) {
    // 0700 for every folder created here.
    RETURN_IF_ERROR(core::CreatePrivateFolders(std::filesystem::path(options.path).parent_path()));
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(options)));
  ASSIGN_OR_RETURN(store->writer_, store->Connect(SqliteAccess::kReadWrite));
  RETURN_IF_ERROR(MigrateSqlite(*store->writer_));
  return store;
}

SqliteStore::CheckpointPause::CheckpointPause(SqliteStore& store) : store_(store) {
  std::lock_guard lock(store_.writer_mu_);
  if (store_.options_.path != ":memory:") {
    paused_ = store_.writer_->ExecuteScript("PRAGMA wal_autocheckpoint = 0").has_value();
  }
}

SqliteStore::CheckpointPause::~CheckpointPause() {
  if (!paused_) return;
  std::lock_guard lock(store_.writer_mu_);
  // Failing here costs only WAL size; the next automatic checkpoint catches up.
  (void)store_.writer_->ExecuteScript(
      "PRAGMA wal_autocheckpoint = 1000; PRAGMA wal_checkpoint(TRUNCATE)");
}

void SqliteStore::AfterSecretsRewritten() {
  if (options_.path == ":memory:") return;
  std::lock_guard lock(writer_mu_);
  // A reader of another process may keep the checkpoint from finishing: the WAL then holds the
  // old pages until the next checkpoint that does.
  (void)writer_->ExecuteScript("PRAGMA wal_checkpoint(TRUNCATE)");
}

Result<std::unique_ptr<Connection>> SqliteStore::Connect(SqliteAccess access) const {
  SqliteOptions sqlite_options;
  sqlite_options.access = access;
  if (access == SqliteAccess::kReadWrite) sqlite_options.cache_kib = kWriterCacheKib;
  sqlite_options.sync = options_.sync;
  sqlite_options.create =
      options_.mode == OpenMode::kCreate ? SqliteCreate::kIfMissing : SqliteCreate::kMustExist;
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> conn,
                   SqliteConnection::Open(options_.path, sqlite_options));
  std::unique_ptr<Connection> result = std::move(conn);
  if (options_.wrap_connection) result = options_.wrap_connection(std::move(result));
  return result;
}

Status SqliteStore::Write(const UnitOfWork& body, TxOptions tx_options, Durability durability) {
  std::lock_guard lock(writer_mu_);
  if (writer_->IsBroken()) {
    ASSIGN_OR_RETURN(writer_, Connect(SqliteAccess::kReadWrite));
  }
  if (durability == Durability::kConfigured || options_.sync == SqliteSync::kFull) {
    return WithTransaction(*writer_, body, tx_options);
  }
  RETURN_IF_ERROR(writer_->ExecuteScript("PRAGMA synchronous = FULL"));
  Status written = WithTransaction(*writer_, body, tx_options);
  if (Status restored = writer_->ExecuteScript("PRAGMA synchronous = NORMAL"); !restored) {
    writer_->MarkBroken();  // reopened with the configured setting before the next write
  }
  return written;
}

Status SqliteStore::Read(const std::function<Status(Session&)>& body) {
  if (options_.path == ":memory:") {
    std::lock_guard lock(writer_mu_);
    Session session(*writer_);
    return body(session);
  }
  std::unique_ptr<Connection> conn;
  {
    std::lock_guard lock(readers_mu_);
    if (!idle_readers_.empty()) {
      conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
  }
  if (!conn || conn->IsBroken()) {
    ASSIGN_OR_RETURN(conn, Connect(SqliteAccess::kReadOnly));
  }
  Session session(*conn);
  Status status = body(session);
  std::lock_guard lock(readers_mu_);
  if (!conn->IsBroken() && idle_readers_.size() < 8) idle_readers_.push_back(std::move(conn));
  return status;
}

// Kept by triggers as the states change (schema.cpp).
Result<core::StateCounts> SqliteStore::StateCountsOf(Session& session, int64_t campaign_id) {
  core::StateCounts counts;
  RETURN_IF_ERROR(session.ForEach("SELECT state, n FROM invitation_counts WHERE campaign_id = ?",
                                  {campaign_id}, [&counts](const Row& row) -> Status {
                                    if (auto state = core::ParseInvitationState(row.Text(0)))
                                      counts[*state] = row.Int(1);
                                    return Ok();
                                  }));
  return counts;
}

int SqliteStore::schema_version() const { return SqliteMigrations().back().version; }

const SqlDialect& SqliteStore::Dialect() const {
  static const SqlDialect kDialect{
      .lower = [](std::string_view expression) { return fmt::format("lower({})", expression); },
      // Counted by triggers as the states change (migrations 7 and 8).
      .error_counts =
          "SELECT state, reason, n FROM invitation_errors WHERE campaign_id = ?1 AND "
          "n > 0 ORDER BY n DESC, state, reason LIMIT 100",
      .minute_counts =
          "SELECT minute, state, n FROM invitation_minutes WHERE campaign_id = ?1 AND "
          "minute >= ?2 ORDER BY minute",
      .outstanding_work =
          "SELECT EXISTS (SELECT 1 FROM campaigns c JOIN invitation_counts n ON n.campaign_id = "
          "c.id WHERE c.state = 'running' AND n.state IN ({0}) AND "
          "n.n > 0)",
      .delete_campaign_derived =
          "DELETE FROM invitation_counts WHERE campaign_id = ?1;"
          "DELETE FROM invitation_minutes WHERE campaign_id = ?1;"
          "DELETE FROM invitation_errors WHERE campaign_id = ?1",
  };
  return kDialect;
}

}  // namespace tginvite::storage
