// A Connection that forwards to a real one and fails chosen calls on request, the way LevelDB's
// EnvWrapper/SpecialEnv inject faults: a test switches a fault on, and the next matching call
// fails.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/connection.h"

namespace tginvite::testing {

class FaultInjectingConnection final : public storage::Connection {
 public:
  // Does not own `target`.
  explicit FaultInjectingConnection(storage::Connection& target) : target_(target) {}
  // Owns `target`.
  explicit FaultInjectingConnection(std::unique_ptr<storage::Connection> target)
      : owned_(std::move(target)), target_(*owned_) {}

  // The next COMMIT fails with `code` and leaves the transaction open, as SQLite's COMMIT does
  // when it fails with SQLITE_BUSY.
  void FailNextCommit(ErrorCode code) { commit_fault_ = code; }
  // The next ROLLBACK fails with `code` without rolling back.
  void FailNextRollback(ErrorCode code) { rollback_fault_ = code; }
  // The next Execute whose SQL contains `sql_part` fails with `code` without running.
  void FailNextExecuteContaining(std::string sql_part, ErrorCode code) {
    execute_fault_sql_ = std::move(sql_part);
    execute_fault_ = code;
  }
  // Runs `hook` before every Execute whose SQL contains `sql_part` (say, to move a fake clock
  // while a transaction is in progress).
  void OnExecuteContaining(std::string sql_part, std::function<void()> hook) {
    hook_sql_ = std::move(sql_part);
    hook_ = std::move(hook);
  }
  int commits() const { return commits_; }
  // Every script run through this connection (pragmas, schema), in order.
  const std::vector<std::string>& scripts() const { return scripts_; }

  storage::Connection& target() { return target_; }

  Status Begin(storage::TxKey key) override { return target_.Begin(key); }
  Status Commit(storage::TxKey key) override {
    ++commits_;
    if (auto code = std::exchange(commit_fault_, std::nullopt)) {
      return Error{*code, "injected: commit failed"};
    }
    return target_.Commit(key);
  }
  Status Rollback(storage::TxKey key) override {
    if (auto code = std::exchange(rollback_fault_, std::nullopt)) {
      return Error{*code, "injected: rollback failed"};
    }
    return target_.Rollback(key);
  }
  bool InTransaction() const override { return target_.InTransaction(); }
  void MarkBroken() override { broken_ = true; }
  bool IsBroken() const override { return broken_ || target_.IsBroken(); }

  Result<int64_t> Execute(std::string_view sql, std::span<const storage::Value> params) override {
    if (execute_fault_ && sql.find(execute_fault_sql_) != std::string_view::npos) {
      return Error{*std::exchange(execute_fault_, std::nullopt), "injected: statement failed"};
    }
    if (hook_ && sql.find(hook_sql_) != std::string_view::npos) hook_();
    return target_.Execute(sql, params);
  }
  Status ForEach(std::string_view sql, std::span<const storage::Value> params,
                 const RowCallback& on_row) override {
    if (execute_fault_ && sql.find(execute_fault_sql_) != std::string_view::npos) {
      return Error{*std::exchange(execute_fault_, std::nullopt), "injected: statement failed"};
    }
    return target_.ForEach(sql, params, on_row);
  }
  Status ExecuteScript(std::string_view sql) override {
    scripts_.emplace_back(sql);
    return target_.ExecuteScript(sql);
  }

 private:
  std::unique_ptr<storage::Connection> owned_;
  storage::Connection& target_;
  std::optional<ErrorCode> commit_fault_;
  std::optional<ErrorCode> rollback_fault_;
  std::optional<ErrorCode> execute_fault_;
  std::string execute_fault_sql_;
  std::function<void()> hook_;
  std::string hook_sql_;
  int commits_ = 0;
  std::vector<std::string> scripts_;
  bool broken_ = false;
};

}  // namespace tginvite::testing
