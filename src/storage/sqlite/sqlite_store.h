// The Store on SQLite: one writer connection (writes are serialised by SQLite anyway) and a small
// pool of reader connections, which WAL lets read while the writer writes.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "storage/sql_store.h"
#include "storage/sqlite/sqlite_connection.h"
#include "storage/store.h"
#include "storage/transaction.h"

namespace tginvite::storage {

struct SqliteStoreOptions {
  std::string path;  // a file, or ":memory:" (then reads use the writer's connection)
  SqliteSync sync = SqliteSync::kNormal;
  OpenMode mode = OpenMode::kCreate;
  StoreSecrets secrets;  // the keys that seal and open bot tokens
  std::shared_ptr<const core::Clock> clock = std::make_shared<core::SystemClock>();
  // Wraps every connection the store opens; tests use it to inject faults.
  std::function<std::unique_ptr<Connection>(std::unique_ptr<Connection>)> wrap_connection;
};

// Everything not declared here is SqlStore's (storage/sql_store.h).
class SqliteStore final : public SqlStore {
 public:
  static Result<std::unique_ptr<SqliteStore>> Open(SqliteStoreOptions options);

  std::string_view backend() const override { return "sqlite"; }
  int schema_version() const override;

  Result<ImportTotals> ImportContacts(ImportSource& source, const ImportOptions& options) override;
  // The online backup API (storage/sqlite/sqlite_backup.cpp).
  Result<BackupReport> Backup(const std::string& path, Overwrite overwrite) override;

  Result<ClaimResult> ClaimInvitations(const ClaimRequest& request) override;
  Result<std::vector<int64_t>> ReslotLate(const ReslotRequest& request) override;
  Result<std::vector<int64_t>> MarkSending(std::span<const SendingMark> marks, int64_t now,
                                           std::chrono::milliseconds lease) override;
  Result<int64_t> RecordOutcomes(std::span<const OutcomeRecord> outcomes, int64_t now) override;
  Result<int64_t> RescueExpiredLeases(int64_t now,
                                      std::span<const int64_t> resend_campaigns) override;

 protected:
  Status WriteWith(const UnitOfWork& body, TxOptions options) override {
    return Write(body, options);
  }
  Status ReadUnit(const std::function<Status(Session&)>& body) override { return Read(body); }
  int64_t NowUnixMillis() const override { return NowMillis(); }
  Result<core::StateCounts> StateCountsOf(Session& session, int64_t campaign_id) override;
  const SqlDialect& Dialect() const override;
  const StoreSecrets& Secrets() const override { return options_.secrets; }
  // Checkpoints the WAL into the database file and truncates it: the page images that held the
  // replaced values go (secure_delete, on for every connection, zeroes them in the file itself).
  void AfterSecretsRewritten() override;

 private:
  // 24 MiB: most of the contacts indexes of a large import stay in memory instead of being written
  // out and read back page by page.
  static constexpr int64_t kWriterCacheKib = int64_t{24} * 1024;

  // Turns automatic WAL checkpoints off for its lifetime (a bulk import), then checkpoints once.
  class CheckpointPause {
   public:
    explicit CheckpointPause(SqliteStore& store);
    ~CheckpointPause();
    CheckpointPause(const CheckpointPause&) = delete;
    CheckpointPause& operator=(const CheckpointPause&) = delete;

   private:
    SqliteStore& store_;
    bool paused_ = false;
  };

  explicit SqliteStore(SqliteStoreOptions options) : options_(std::move(options)) {}

  Result<std::unique_ptr<Connection>> Connect(SqliteAccess access) const;
  // Whether a commit must survive a power loss (an fsync of the WAL), whatever ?synchronous= says.
  enum class Durability { kConfigured, kPowerSafe };
  // Runs a unit of work on the writer connection, replacing the connection first if broken.
  Status Write(const UnitOfWork& body, TxOptions tx_options = {},
               Durability durability = Durability::kConfigured);
  // Runs `body` on an idle reader connection.
  Status Read(const std::function<Status(Session&)>& body);
  int64_t NowMillis() const { return core::ToUnixMillis(options_.clock->Now()); }

  SqliteStoreOptions options_;
  std::mutex writer_mu_;
  std::unique_ptr<Connection> writer_;
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;
};

}  // namespace tginvite::storage
