// A Connection over one sqlite3 handle, with a cache of prepared statements.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>

#include "storage/connection.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tginvite::storage {

enum class SqliteAccess { kReadWrite, kReadOnly };
enum class SqliteCreate { kIfMissing, kMustExist };
// synchronous=NORMAL in WAL mode loses at most the last transactions on power loss, never
// consistency; FULL also survives power loss at the cost of an fsync per commit.
enum class SqliteSync { kNormal, kFull };

struct SqliteOptions {
  SqliteAccess access = SqliteAccess::kReadWrite;
  SqliteCreate create = SqliteCreate::kIfMissing;
  SqliteSync sync = SqliteSync::kNormal;
  std::chrono::milliseconds busy_timeout{5000};
  int64_t cache_kib = 2000;  // page cache; the writer wants its hot indexes to fit
};

// Owns one sqlite3 connection in WAL mode with foreign keys on. Write transactions begin with
// BEGIN IMMEDIATE, so a writer waits (busy_timeout) for the write lock up front instead of failing
// at its first write. Not thread-safe.
class SqliteConnection final : public Connection {
 public:
  // `path` is a file name or ":memory:". kNotFound when the file is missing and kMustExist is
  // given; kUnavailable when it cannot be opened.
  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path,
                                                        SqliteOptions options);
  ~SqliteConnection() override;

  Status Begin(TxKey key) override;
  Status Commit(TxKey key) override;
  Status Rollback(TxKey key) override;
  bool InTransaction() const override;
  void MarkBroken() override { broken_ = true; }
  bool IsBroken() const override { return broken_; }

  Result<int64_t> Execute(std::string_view sql, std::span<const Value> params) override;
  Status ForEach(std::string_view sql, std::span<const Value> params,
                 const RowCallback& on_row) override;

  Status ExecuteScript(std::string_view sql) override;

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  Result<sqlite3_stmt*> Prepare(std::string_view sql);
  Status Bind(sqlite3_stmt* stmt, std::span<const Value> params);
  Error LastError(std::string_view context, int rc) const;

  sqlite3* db_;
  // Transparent hashing: a lookup by string_view allocates nothing.
  struct SqlHash {
    using is_transparent = void;  // NOLINT(readability-identifier-naming): the standard's name
    size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
  };
  std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> statements_;
  bool broken_ = false;
};

}  // namespace tginvite::storage
