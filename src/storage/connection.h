// A database connection, as the storage layer sees it: statements with bound values, and
// transactions that only the transaction guard (storage/transaction.h) may begin or end.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"

namespace tginvite::storage {

// NULL, INTEGER, REAL or TEXT.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

// One result row. Accessors return 0 / "" for NULL; IsNull tells them apart.
class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}

  size_t size() const { return values_.size(); }
  bool IsNull(size_t column) const;
  int64_t Int(size_t column) const;
  double Real(size_t column) const;
  std::string Text(size_t column) const;
  std::optional<int64_t> OptInt(size_t column) const;

 private:
  std::vector<Value> values_;
};

// The passkey that only the transaction guard can make: Begin, Commit and Rollback take one, so no
// other code can start or end a transaction.
class TxKey {
 private:
  TxKey() = default;
  friend class TxGuard;
  friend class TxKeyForTests;
};

// A connection to one database. Not thread-safe: one thread uses it at a time. Implementations
// never throw. Errors: a busy or locked database -> kAborted (retry the unit of work); a unique
// constraint -> kAlreadyExists; other constraints -> kInvalidArgument; disk full, I/O or a lost
// connection -> kUnavailable; corruption or misuse -> kInternal.
class Connection {
 public:
  using RowCallback = std::function<Status(const Row&)>;

  virtual ~Connection() = default;

  virtual Status Begin(TxKey key) = 0;
  virtual Status Commit(TxKey key) = 0;
  virtual Status Rollback(TxKey key) = 0;
  // Asks the engine (never a counter of our own) whether a transaction is open.
  virtual bool InTransaction() const = 0;
  // Marks the connection unusable; its owner replaces it before the next unit of work.
  virtual void MarkBroken() = 0;
  virtual bool IsBroken() const = 0;

  // Runs one statement and returns the number of rows it changed.
  virtual Result<int64_t> Execute(std::string_view sql, std::span<const Value> params) = 0;
  // Runs one query and calls `on_row` for each row; stops at the first error `on_row` returns.
  // The statement is reset before returning, so no cursor outlives the call.
  virtual Status ForEach(std::string_view sql, std::span<const Value> params,
                         const RowCallback& on_row) = 0;
  // Runs one or more statements without parameters (schema changes, pragmas).
  virtual Status ExecuteScript(std::string_view sql) = 0;
};

// Statement helpers over a connection, shared by read-only sessions and transactions.
class Session {
 public:
  explicit Session(Connection& conn) : conn_(conn) {}

  Result<int64_t> Execute(std::string_view sql, std::initializer_list<Value> params = {}) {
    return conn_.Execute(sql, std::span<const Value>(params.begin(), params.size()));
  }
  Status ForEach(std::string_view sql, std::initializer_list<Value> params,
                 const Connection::RowCallback& on_row) {
    return conn_.ForEach(sql, std::span<const Value>(params.begin(), params.size()), on_row);
  }
  Status ExecuteScript(std::string_view sql) { return conn_.ExecuteScript(sql); }
  Result<std::vector<Row>> Query(std::string_view sql, std::initializer_list<Value> params = {});
  // The first row, or std::nullopt when there is none.
  Result<std::optional<Row>> QueryOne(std::string_view sql,
                                      std::initializer_list<Value> params = {});
  // The first column of the first row as an integer; kNotFound when there is no row.
  Result<int64_t> QueryInt(std::string_view sql, std::initializer_list<Value> params = {});

  Connection& connection() { return conn_; }

 private:
  Connection& conn_;
};

// Converts optional values to NULL when empty.
Value NullIfEmpty(std::string_view text);
Value NullIfNone(std::optional<int64_t> value);

}  // namespace tginvite::storage
