#include "storage/sqlite/sqlite_connection.h"

#include <filesystem>

#include <sqlite3.h>

#include "core/private_files.h"

namespace tginvite::storage {
namespace {

ErrorCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return ErrorCode::kAborted;
    case SQLITE_CONSTRAINT:
      return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY
                 ? ErrorCode::kAlreadyExists
                 : ErrorCode::kInvalidArgument;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
      return ErrorCode::kUnavailable;
    default:
      return ErrorCode::kInternal;
  }
}

// Resets a statement on scope exit, so no cursor keeps a read snapshot alive.
class ResetOnExit {
 public:
  explicit ResetOnExit(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;
  ~ResetOnExit() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt* stmt_;
};

}  // namespace

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path,
                                                                 SqliteOptions options) {
  bool in_memory = path == ":memory:" || path.empty();
  if (!in_memory && options.create == SqliteCreate::kMustExist && !std::filesystem::exists(path)) {
    return Fail(ErrorCode::kNotFound, "database {} does not exist (run 'tginvite init')", path);
  }
  if (!in_memory && options.access == SqliteAccess::kReadWrite &&
      options.create == SqliteCreate::kIfMissing) {
    // Readable by its owner alone, whatever the umask; SQLite gives its -wal and -shm files the
    // database file's mode.
    RETURN_IF_ERROR_CTX(core::CreatePrivateFile(path, "", core::IfExists::kKeep), "open database");
  }
  int flags = SQLITE_OPEN_NOMUTEX;
  if (options.access == SqliteAccess::kReadOnly) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Fail(ErrorCode::kUnavailable, "open database {}: {}", path, message);
  }
  std::unique_ptr<SqliteConnection> conn(new SqliteConnection(db));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
  // secure_delete: a deleted or replaced value (a token sealed in place of its plaintext) is
  // zeroed in the file, not left in free space. (Debian's SQLite has it on already.)
  std::string pragmas =
      fmt::format("PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA cache_size = -{};",
                  options.cache_kib);
  pragmas += options.sync == SqliteSync::kFull ? "PRAGMA synchronous = FULL;"
                                               : "PRAGMA synchronous = NORMAL;";
  if (options.access == SqliteAccess::kReadWrite && !in_memory) {
    pragmas += "PRAGMA journal_mode = WAL;";
  }
  RETURN_IF_ERROR_CTX(conn->ExecuteScript(pragmas), fmt::format("open database {}", path));
  return conn;
}

SqliteConnection::~SqliteConnection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close_v2(db_);
}

Error SqliteConnection::LastError(std::string_view context, int rc) const {
  return Error{CodeFor(rc), fmt::format("{}: {}", context, sqlite3_errmsg(db_))};
}

Status SqliteConnection::ExecuteScript(std::string_view sql) {
  char* message = nullptr;
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    Error error{CodeFor(rc), fmt::format("database: {}", message != nullptr ? message : "?")};
    sqlite3_free(message);
    return error;
  }
  return Ok();
}

Status SqliteConnection::Begin(TxKey) { return ExecuteScript("BEGIN IMMEDIATE"); }
Status SqliteConnection::Commit(TxKey) { return ExecuteScript("COMMIT"); }
Status SqliteConnection::Rollback(TxKey) { return ExecuteScript("ROLLBACK"); }
bool SqliteConnection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

Result<sqlite3_stmt*> SqliteConnection::Prepare(std::string_view sql) {
  if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return LastError("database: prepare", rc);
  statements_.emplace(std::string(sql), stmt);
  return stmt;
}

Status SqliteConnection::Bind(sqlite3_stmt* stmt, std::span<const Value> params) {
  if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt)) {
    return Fail(ErrorCode::kInternal, "database: statement takes {} parameters, {} given",
                sqlite3_bind_parameter_count(stmt), params.size());
  }
  for (size_t i = 0; i < params.size(); ++i) {
    int index = static_cast<int>(i) + 1;
    int rc = std::visit(
        [&](const auto& v) -> int {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            return sqlite3_bind_null(stmt, index);
          } else if constexpr (std::is_same_v<T, int64_t>) {
            return sqlite3_bind_int64(stmt, index, v);
          } else if constexpr (std::is_same_v<T, double>) {
            return sqlite3_bind_double(stmt, index, v);
          } else {
            return sqlite3_bind_text(stmt, index, v.data(), static_cast<int>(v.size()),
                                     SQLITE_STATIC);
          }
        },
        params[i]);
    if (rc != SQLITE_OK) return LastError("database: bind", rc);
  }
  return Ok();
}

Result<int64_t> SqliteConnection::Execute(std::string_view sql, std::span<const Value> params) {
  ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
  ResetOnExit reset(stmt);
  RETURN_IF_ERROR(Bind(stmt, params));
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return LastError("database", rc);
  return static_cast<int64_t>(sqlite3_changes64(db_));
}

Status SqliteConnection::ForEach(std::string_view sql, std::span<const Value> params,
                                 const RowCallback& on_row) {
  ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
  ResetOnExit reset(stmt);
  RETURN_IF_ERROR(Bind(stmt, params));
  const int columns = sqlite3_column_count(stmt);
  std::vector<Value> values;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    values.clear();
    values.reserve(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_INTEGER:
          values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
          break;
        case SQLITE_FLOAT:
          values.emplace_back(sqlite3_column_double(stmt, c));
          break;
        case SQLITE_NULL:
          values.emplace_back(std::monostate{});
          break;
        default: {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          values.emplace_back(
              std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
        }
      }
    }
    RETURN_IF_ERROR(on_row(Row(std::move(values))));
    values = {};
  }
  if (rc != SQLITE_DONE) return LastError("database", rc);
  return Ok();
}

}  // namespace tginvite::storage
