// A Connection over one libpq connection (PGconn), with its own prepared statements.
//
// Why libpq and not libpqxx: the storage layer already has its own connection seam, values and
// transaction guard (storage/connection.h, storage/transaction.h). libpqxx would put a second
// transaction model under it — its work objects own BEGIN/COMMIT and statements run only through
// them — and it reports errors by throwing, where this layer never throws. libpq gives exactly
// what the guard needs and nothing it would have to fight: PQtransactionStatus to ask the server
// whether a transaction is open after a failed COMMIT, PQstatus to see a lost connection,
// SQLSTATEs to map onto our error codes, PQprepare/PQexecPrepared, single-row mode for streaming
// and COPY FROM STDIN for bulk loads.
//
// Statements are written with SQLite-style placeholders (`?` numbered left to right, or `?N`), so
// the two stores' SQL reads alike; they are rewritten to `$N` once, when first prepared. Values go
// as text and the server infers each parameter's type from its context (write `?::bigint` where
// the context says nothing). Results come back typed by column: integer and boolean columns as
// integers, floating point as reals, numeric as an integer when it has no fraction, everything
// else as text.
//
// Errors (SQLSTATE): serialization failure, deadlock, lock not available -> kAborted; unique
// violation -> kAlreadyExists; other integrity violations -> kInvalidArgument; connection
// failures, shutdown, too many connections, disk full -> kUnavailable, and a connection that
// lost its server is broken (its owner replaces it); anything else -> kInternal. Messages never
// contain the connection string. Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "storage/connection.h"

struct pg_conn;

namespace tginvite::storage {

class PgConnection final : public Connection {
 public:
  // Connects to `url` (a libpq URL or key=value string). kUnavailable when the server cannot be
  // reached; the message names host and port only.
  static Result<std::unique_ptr<PgConnection>> Open(const std::string& url);
  ~PgConnection() override;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Status Begin(TxKey key) override;
  Status Commit(TxKey key) override;
  Status Rollback(TxKey key) override;
  bool InTransaction() const override;
  void MarkBroken() override { broken_ = true; }
  bool IsBroken() const override;

  Result<int64_t> Execute(std::string_view sql, std::span<const Value> params) override;
  Status ForEach(std::string_view sql, std::span<const Value> params,
                 const RowCallback& on_row) override;
  Status ExecuteScript(std::string_view sql) override;

  // Streams rows into `table (columns)` with COPY FROM STDIN in text format; each row holds one
  // value per column. Returns the number of rows copied.
  Result<int64_t> CopyIn(std::string_view table_and_columns,
                         std::span<const std::vector<Value>> rows);

  // Translates `?` / `?N` placeholders to `$N` (outside quotes). Exposed for tests.
  static std::string TranslatePlaceholders(std::string_view sql);

 private:
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}
  Result<std::string> Prepare(std::string_view sql);
  Status SimpleCommand(const char* command);

  pg_conn* conn_;
  struct SqlHash {
    using is_transparent = void;  // NOLINT(readability-identifier-naming): the standard's name
    size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
  };
  std::unordered_map<std::string, std::string, SqlHash, std::equal_to<>> statements_;
  bool broken_ = false;
};

}  // namespace tginvite::storage
