// What a database URL (`--db`) says, read without opening anything: which engine, the SQLite file
// and its option, and how to show the URL to a person (the password goes, the rest stays).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tginvite::storage {

// "postgres://..." or "postgresql://...".
bool IsPostgresUrl(std::string_view url);

// A "sqlite:" URL (or bare path) split into the file and its "?..." parameter.
struct SqliteUrl {
  std::string_view path;
  std::optional<std::string_view> parameter;
};
SqliteUrl ParseSqliteUrl(std::string_view url);

// "postgresql://user:secret@host/db?password=x" -> "postgresql://user:***@host/db?password=***".
// Any other text is returned as it is.
std::string RedactDatabaseUrl(std::string_view url);

}  // namespace tginvite::storage
