// The transaction guard: the only code that begins and ends transactions.
//
// A unit of work is a function `Status(Tx&)`. WithTransaction runs it inside one transaction and
// commits only if it returns OK; on every path out, the connection holds no open transaction:
//  - the guard marks itself finished *before* COMMIT, so a failed COMMIT can never be retried as
//    if the transaction were still ours;
//  - after a failed COMMIT it asks the engine whether a transaction is still open (SQLite leaves
//    one open when COMMIT fails with BUSY) and rolls it back;
//  - if the rollback fails too, the connection is marked broken and its owner replaces it.
// Callers keep their in-memory work until WithTransaction returned OK: a unit of work may run again
// (kAborted is retried) and must not have effects outside the transaction.
#pragma once

#include <functional>

#include "core/error.h"
#include "storage/connection.h"

namespace tginvite::storage {

// A transaction in progress: it runs statements but can neither commit nor roll back.
class Tx : public Session {
 private:
  explicit Tx(Connection& conn) : Session(conn) {}
  friend class TxGuard;
};

enum class TxEnd {
  kCommit,    // commit when the unit of work returns OK
  kRollback,  // always roll back (dry runs)
};

struct TxOptions {
  int attempts = 3;  // how often a unit of work that failed with kAborted runs in all
  TxEnd end = TxEnd::kCommit;
};

using UnitOfWork = std::function<Status(Tx&)>;

// Scoped ownership of one open transaction; rolls back in its destructor unless it committed.
class TxGuard {
 public:
  TxGuard(const TxGuard&) = delete;
  TxGuard& operator=(const TxGuard&) = delete;
  ~TxGuard();

  // Begins a transaction, runs `body` once and ends the transaction as `end` says.
  static Status RunOnce(Connection& conn, const UnitOfWork& body, TxEnd end);

 private:
  explicit TxGuard(Connection& conn) : conn_(conn) {}
  Status Commit();
  void Abandon() noexcept;

  Connection& conn_;
  bool finished_ = false;
};

// Runs `body` in one transaction and commits only if it returns OK; retries kAborted up to
// `options.attempts` runs in all. On return the connection never holds an open transaction.
Status WithTransaction(Connection& conn, const UnitOfWork& body, TxOptions options = {});

}  // namespace tginvite::storage
