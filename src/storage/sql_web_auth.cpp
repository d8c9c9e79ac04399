// The SQL stores' web authentication: the admin password hash, browser sessions and API tokens.
// Every secret arrives already hashed; nothing here ever sees a plaintext password or token. The
// statements mean the same on SQLite and PostgreSQL.
#include "core/names.h"
#include "storage/sql_store.h"

namespace tginvite::storage {
namespace {

// The columns of kTokenColumns, in order.
constexpr std::string_view kTokenColumns = "id, name, created_at, revoked_at, scope, expires_at";

ApiToken TokenFromRow(const Row& row) {
  // A scope this version does not know (written by a newer one) grants the least.
  core::TokenScope scope = core::ParseTokenScope(row.Text(4)).value_or(core::TokenScope::kMetrics);
  return ApiToken{row.Int(0), row.Text(1), row.Int(2), row.OptInt(3), scope, row.OptInt(5)};
}

}  // namespace

Result<std::optional<std::string>> SqlStore::AdminPasswordHash() {
  std::optional<std::string> hash;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(std::optional<Row> row,
                     session.QueryOne("SELECT hash FROM admin_password WHERE id = 1"));
    if (row) hash = row->Text(0);
    return Ok();
  }));
  return hash;
}

Status SqlStore::SetAdminPasswordHash(std::string_view hash) {
  if (hash.empty()) return Fail(ErrorCode::kInvalidArgument, "admin password hash is empty");
  return WriteUnit([&](Tx& tx) -> Status {
    RETURN_IF_ERROR(tx.Execute(
        "INSERT INTO admin_password (id, hash, updated_at) VALUES (1, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at",
        {std::string(hash), NowUnixMillis()}));
    // A new password ends every session opened with the old one.
    RETURN_IF_ERROR(tx.Execute("DELETE FROM web_sessions"));
    return Ok();
  });
}

Status SqlStore::CreateSession(const WebSession& session, int64_t now) {
  if (session.token_hash.empty() || session.csrf_token.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "session: token hash and csrf token are required");
  }
  return WriteUnit([&](Tx& tx) -> Status {
    RETURN_IF_ERROR(tx.Execute("DELETE FROM web_sessions WHERE expires_at <= ?", {now}));
    RETURN_IF_ERROR(tx.Execute(
        "INSERT INTO web_sessions (token_hash, csrf_token, created_at, expires_at) "
        "VALUES (?, ?, ?, ?)",
        {session.token_hash, session.csrf_token, session.created_at, session.expires_at}));
    return Ok();
  });
}

Result<std::optional<WebSession>> SqlStore::FindSession(std::string_view token_hash, int64_t now) {
  std::optional<WebSession> found;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(std::optional<Row> row,
                     session.QueryOne("SELECT token_hash, csrf_token, created_at, expires_at "
                                      "FROM web_sessions WHERE token_hash = ? AND expires_at > ?",
                                      {std::string(token_hash), now}));
    if (row) found = WebSession{row->Text(0), row->Text(1), row->Int(2), row->Int(3)};
    return Ok();
  }));
  return found;
}

Status SqlStore::DeleteSession(std::string_view token_hash) {
  return WriteUnit([&](Tx& tx) -> Status {
    RETURN_IF_ERROR(
        tx.Execute("DELETE FROM web_sessions WHERE token_hash = ?", {std::string(token_hash)}));
    return Ok();
  });
}

Result<ApiToken> SqlStore::CreateApiToken(const NewApiToken& token) {
  const std::string& name = token.name;
  RETURN_IF_ERROR(core::ValidateName("token", name));
  if (token.token_hash.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "token {}: empty hash", name);
  }
  ApiToken created;
  RETURN_IF_ERROR(WriteUnit([&](Tx& tx) -> Status {
    int64_t now = NowUnixMillis();
    Value expires = token.expires_at ? Value(*token.expires_at) : Value(std::monostate());
    Result<std::optional<Row>> row = tx.QueryOne(
        "INSERT INTO api_tokens (name, token_hash, created_at, scope, expires_at) "
        "VALUES (?, ?, ?, ?, ?) RETURNING id",
        {name, token.token_hash, now, std::string(core::ToString(token.scope)), expires});
    if (!row && row.error().code == ErrorCode::kAlreadyExists) {
      return Fail(ErrorCode::kAlreadyExists, "a token named \"{}\" exists already", name);
    }
    RETURN_IF_ERROR(row);
    created = ApiToken{(*row)->Int(0), name, now, std::nullopt, token.scope, token.expires_at};
    return Ok();
  }));
  return created;
}

Result<std::optional<ApiToken>> SqlStore::FindApiToken(std::string_view token_hash) {
  std::optional<ApiToken> found;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    ASSIGN_OR_RETURN(std::optional<Row> row,
                     session.QueryOne(fmt::format("SELECT {} FROM api_tokens "
                                                  "WHERE token_hash = ? AND revoked_at IS NULL",
                                                  kTokenColumns),
                                      {std::string(token_hash)}));
    if (row) found = TokenFromRow(*row);
    return Ok();
  }));
  return found;
}

Status SqlStore::RevokeApiToken(std::string_view name) {
  return WriteUnit([&](Tx& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t changed, tx.Execute("UPDATE api_tokens SET revoked_at = ? "
                                                 "WHERE name = ? AND revoked_at IS NULL",
                                                 {NowUnixMillis(), std::string(name)}));
    if (changed == 0) return Fail(ErrorCode::kNotFound, "no active token named \"{}\"", name);
    return Ok();
  });
}

Result<std::vector<ApiToken>> SqlStore::ListApiTokens() {
  std::vector<ApiToken> tokens;
  RETURN_IF_ERROR(ReadUnit([&](Session& session) -> Status {
    return session.ForEach(fmt::format("SELECT {} FROM api_tokens ORDER BY id", kTokenColumns), {},
                           [&tokens](const Row& row) -> Status {
                             tokens.push_back(TokenFromRow(row));
                             return Ok();
                           });
  }));
  return tokens;
}

}  // namespace tginvite::storage
