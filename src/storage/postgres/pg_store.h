// The Store on PostgreSQL, for a fleet: any number of `tginvite run`, `serve` and CLI processes on
// any number of machines share one database, and PostgreSQL keeps them honest.
//
//  - A small pool of connections per process (PgPool below): a connection goes back to the pool
//    only when it is healthy and holds no transaction; a broken one (failed COMMIT that could not
//    be rolled back, lost server) is closed and a new one opened on demand, so a PostgreSQL
//    restart costs the callers kUnavailable errors until it is back, then nothing.
//  - Claims lock the account's limiter row (rate_limits, FOR UPDATE) for the claim's transaction —
//    claims of one account are serialised across the fleet, so N workers together never exceed
//    its limit — and pick due rows with FOR UPDATE SKIP LOCKED through the partial index
//    invitations_due; the per-chat limiter (contacts.next_message_at) and the campaign's pacing
//    are written in the same transaction. No NOTIFY anywhere: a pending NOTIFY serialises every
//    commit of the cluster.
//  - Every outcome write is fenced by `WHERE id = ? AND gen = ? AND state = 'sending'`.
//  - Migrations are applied on open under an advisory lock (storage/postgres/pg_schema.h).
//
// Same semantics as SqliteStore, method by method; the contract suite runs against both.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "storage/postgres/pg_connection.h"
#include "storage/sql_contact_import.h"
#include "storage/sql_store.h"
#include "storage/store.h"
#include "storage/transaction.h"

namespace tginvite::storage {

struct PgStoreOptions {
  std::string url;  // a libpq URL; never logged or quoted (it may hold a password)
  OpenMode mode = OpenMode::kCreate;
  StoreSecrets secrets;         // the keys that seal and open bot tokens
  size_t max_connections = 16;  // per process
  std::chrono::milliseconds acquire_timeout{30000};
  std::shared_ptr<const core::Clock> clock = std::make_shared<core::SystemClock>();
  // Runs after the store closed its last connection (tests drop their database here).
  std::function<void()> after_close;
};

// A bounded pool of PgConnections. Thread-safe.
class PgPool {
 public:
  class Lease {
   public:
    Lease(PgPool& pool, std::unique_ptr<PgConnection> conn)
        : pool_(&pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (conn_) pool_->Release(std::move(conn_));
    }
    PgConnection& operator*() const { return *conn_; }
    PgConnection* operator->() const { return conn_.get(); }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  PgPool(std::string url, size_t max_size, std::chrono::milliseconds acquire_timeout)
      : url_(std::move(url)), max_size_(max_size), acquire_timeout_(acquire_timeout) {}

  // An idle healthy connection, or a new one while fewer than max_size are open; waits up to
  // acquire_timeout for one to come back. kUnavailable when the server cannot be reached.
  Result<Lease> Acquire();
  void CloseIdle();

 private:
  void Release(std::unique_ptr<PgConnection> conn);

  const std::string url_;
  const size_t max_size_;
  const std::chrono::milliseconds acquire_timeout_;
  std::mutex mu_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  size_t open_ = 0;  // idle + leased
};

// Everything not declared here is SqlStore's (storage/sql_store.h).
class PgStore final : public SqlStore {
 public:
  static Result<std::unique_ptr<PgStore>> Open(PgStoreOptions options);
  ~PgStore() override;

  std::string_view backend() const override { return "postgres"; }
  int schema_version() const override;

  Result<ImportTotals> ImportContacts(ImportSource& source, const ImportOptions& options) override;
  // pg_dump's job: kInvalidArgument saying so.
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

 private:
  explicit PgStore(PgStoreOptions options)
      : options_(std::move(options)),
        pool_(options_.url, options_.max_connections, options_.acquire_timeout) {}

  // Whether a commit must be durable whatever the server's synchronous_commit says.
  enum class Durability { kConfigured, kDurable };
  // Runs a unit of work in one transaction on a pooled connection.
  Status Write(const UnitOfWork& body, TxOptions tx_options = {},
               Durability durability = Durability::kConfigured);
  // Runs `body` on a pooled connection outside any transaction (each statement on its own).
  Status Read(const std::function<Status(Session&)>& body);
  // ImportContacts but for folding the count deltas (pg_store.cpp).
  Result<ImportTotals> ImportInOneTransaction(
      ImportSource& source, const ImportOptions& options,
      const std::optional<internal::EnqueueTarget>& campaign_id);
  // Moves the deltas of invitation_count_deltas into invitation_counts, when no other process is
  // doing it right now.
  Status FoldCounts();
  int64_t NowMillis() const { return core::ToUnixMillis(options_.clock->Now()); }

  PgStoreOptions options_;
  PgPool pool_;
  std::atomic<int64_t> last_fold_{0};  // unix ms of this process's last FoldCounts from a rescue
};

}  // namespace tginvite::storage
