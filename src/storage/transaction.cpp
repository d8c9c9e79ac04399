#include "storage/transaction.h"

#include <spdlog/spdlog.h>

namespace tginvite::storage {

TxGuard::~TxGuard() {
  if (!finished_) Abandon();
}

Status TxGuard::Commit() {
  finished_ = true;  // terminal before the attempt: a failed COMMIT is never ours to retry
  Status committed = conn_.Commit(TxKey{});
  if (!committed) Abandon();  // COMMIT failing with BUSY leaves the transaction open
  return committed;
}

void TxGuard::Abandon() noexcept {
  if (!conn_.InTransaction()) return;
  if (Status rolled_back = conn_.Rollback(TxKey{}); !rolled_back) {
    spdlog::error("rollback failed, discarding the connection: {}", rolled_back.error().message);
    conn_.MarkBroken();
  }
}

Status TxGuard::RunOnce(Connection& conn, const UnitOfWork& body, TxEnd end) {
  if (conn.IsBroken()) return Fail(ErrorCode::kUnavailable, "database connection is broken");
  if (Status begun = conn.Begin(TxKey{}); !begun) {
    TxGuard cleanup(conn);  // a failed BEGIN must not leave anything open either
    return begun;
  }
  TxGuard guard(conn);
  Tx tx(conn);
  RETURN_IF_ERROR(body(tx));
  if (end == TxEnd::kRollback) return Ok();  // the destructor rolls back
  return guard.Commit();
}

Status WithTransaction(Connection& conn, const UnitOfWork& body, TxOptions options) {
  for (int attempt = 1;; ++attempt) {
    Status status = TxGuard::RunOnce(conn, body, options.end);
    if (status || status.error().code != ErrorCode::kAborted || attempt >= options.attempts) {
      return status;
    }
  }
}

}  // namespace tginvite::storage
